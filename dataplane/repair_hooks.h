/*
 * repair_hooks.h - where the control thread (cmd_apply.c) makes and frees the per-packet RTCP and
 * repair state of the forwarding tables (issue 11): per stream, per subscription, per participant.
 *
 * cmd_apply.c calls the *_new hook when the object is made (a NULL result: the object has no such
 * state, e.g. an audio stream without a packet ring, or a receiver that takes no NACK) and hands
 * the pointer to every node or output of the object it publishes; when the object goes, the *_free
 * hook runs after an RCU grace period (no lcore sees the state any more), on the control thread.
 * The state is written only by the lcore that owns the object's meeting.
 *
 * cmd_apply.c holds weak definitions that make nothing (NULL); repair.c (stream and subscription
 * state) and rtcp_state.c (participant state) define the real ones. A hook must not block for long
 * (it runs between commands); it may allocate.
 */
#ifndef MMR_DP_REPAIR_HOOKS_H
#define MMR_DP_REPAIR_HOOKS_H

#include "cmd_chan.h"

struct dataplane;
struct stream_repair;
struct sub_repair;
struct part_rtcp;

/* A published stream (its command, normalised: clock_hz set, rtx_ssrc/rtx_pt 0 when none). Kept
 * while the stream keeps its publisher and SSRC; a new one when either changes. */
struct stream_repair *stream_repair_new(struct dataplane *dp, const struct mmr_cmd_stream *c);
void stream_repair_free(void *p);

/* A subscription that leads its selection state (sel_id == id: every subscription but a simulcast
 * follower, which uses its leader's) of receiver r to stream s. Kept while it stays the same
 * subscription with the same out SSRC. */
struct sub_repair *sub_repair_new(struct dataplane *dp, const struct mmr_cmd_sub *c,
				  const struct mmr_cmd_stream *s, const struct mmr_cmd_participant *r);
void sub_repair_free(void *p);

/* A participant; kept for its life (every PUT keeps it). */
struct part_rtcp *part_rtcp_new(struct dataplane *dp, const struct mmr_cmd_participant *c);
void part_rtcp_free(void *p);

#endif
