/*
 * qos_hooks.h - where the control thread (cmd_apply.c) makes and frees the per-object state of
 * application-layer QoS (issue 12): a receiver's downlink estimate (dataplane/bwe.c), a publisher's
 * uplink feedback (dataplane/uplink.c), a video stream's layer rate meter (bwe.c, lib/alloc/
 * layer_rate.h), an audio stream's dominant speaker state and a meeting's audio state (dataplane/
 * audio.c, lib/audio), a top-N slot subscription's output numbering (audio.c, lib/audio/topn.h).
 *
 * The same contract as repair_hooks.h: cmd_apply.c calls *_new when the object is made (NULL: the
 * object has no such state) and hands the pointer to every node or output it publishes; *_free runs
 * after an RCU grace period, on the control thread. The state is written only by the lcore that owns
 * the object's meeting. cmd_apply.c holds weak definitions that make nothing (NULL); bwe.c and
 * audio.c/uplink.c define the real ones. A hook must not block for long; it may allocate.
 */
#ifndef MMR_DP_QOS_HOOKS_H
#define MMR_DP_QOS_HOOKS_H

#include "cmd_chan.h"

struct dataplane;
struct part_bwe;
struct part_uplink;
struct layer_rate;
struct ds_speaker;
struct meeting_audio;
struct topn_out;

/* A participant that takes MMR_FB_TWCC or MMR_FB_REMB (as a receiver). Kept while it does (a PUT that
 * keeps one of the flags keeps it; its ext ids may change: the outputs carry them). */
struct part_bwe *part_bwe_new(struct dataplane *dp, const struct mmr_cmd_participant *c);
void part_bwe_free(void *p);

/* A participant that may publish (role not recvonly) with twcc_ext_id set or MMR_FB_REMB: the TWCC
 * feedback / REMB we send it. Kept while that holds. */
struct part_uplink *part_uplink_new(struct dataplane *dp, const struct mmr_cmd_participant *c);
void part_uplink_free(void *p);

/* A video stream (its layer rate meter); kept while the stream keeps its publisher, SSRC and kind. */
struct layer_rate *stream_layer_rate_new(struct dataplane *dp, const struct mmr_cmd_stream *c);
void stream_layer_rate_free(void *p);

/* An audio stream (its dominant speaker state); kept like the layer rate meter. */
struct ds_speaker *stream_speaker_new(struct dataplane *dp, const struct mmr_cmd_stream *c);
void stream_speaker_free(void *p);

/* A meeting node (fwd_meeting), made by MEETING_PUT or its first participant; kept for its life. */
struct meeting_audio *meeting_audio_new(struct dataplane *dp, uint32_t meeting_id);
void meeting_audio_free(void *p);

/* A top-N slot subscription (topn_slot > 0): its (receiver, slot) output numbering. Kept while it
 * stays the same subscription with the same out SSRC. */
struct topn_out *slot_topn_new(struct dataplane *dp, const struct mmr_cmd_sub *c);
void slot_topn_free(void *p);

#endif
