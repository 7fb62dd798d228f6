/*
 * audio.h - audio by who is speaking (issue 12), on the lcore that owns the meeting:
 *   - the audio level (RFC 6464 header extension, fwd_participant.level_ext_id; in clear in SRTP
 *     too) of every packet of an audio stream, fed to the stream's dominant speaker state
 *     (fwd_stream.speaker, lib/audio/dominant_speaker.h) and kept as its `level` counter;
 *   - per meeting (struct meeting_audio, fwd_meeting.audio_state), lazily at its audio packets:
 *     every speaker_interval_ms the dominant speaker decision over the meeting's audio streams
 *     (fwd_meeting.audio); a change goes to stats.meeting_speaker[meeting] and as an MMR_EV_SPEAKER
 *     event on the lcore's ring (snapshots restate it: dp_events.c); every topn_ms, in a meeting with
 *     top_n > 0, the ranking of its N loudest streams into N stable slots (lib/audio/topn.h);
 *   - top-N fan-out: an audio packet of a top-N meeting goes only if its stream holds a slot k, over
 *     the meeting's slot k outputs (one per receiver, its own out SSRC), never to its own publisher,
 *     each copy numbered by that output's (receiver, slot) state (fwd_output.topn, topn_out_map:
 *     sequence numbers and timestamps continuous across speaker changes); otherwise it is counted
 *     (drop `topn`, stream topn_drops) and goes nowhere.
 * A level element that cannot be read is counted (lcore ext_bad) and the packet goes on as usual.
 * The state is made and freed by the control thread (qos_hooks.h), written only by the owner lcore.
 */
#ifndef MMR_DP_AUDIO_H
#define MMR_DP_AUDIO_H

#include <stdint.h>
#include <rte_branch_prediction.h>
#include <rte_mbuf.h>
#include "dominant_speaker.h"
#include "fwd_table.h"
#include "pkt.h"
#include "rtp.h"
#include "topn.h"

struct worker;
struct dataplane;

/* Speaker decisions and rankings look at this many audio streams of a meeting at most (the first
 * ones of its list): per-lcore scratch arrays. */
#define AUDIO_MEETING_MAX 4096u

/* An audio stream's state (fwd_stream.speaker points at its first member): its dominant speaker
 * history and its top-N energy. */
struct audio_stream {
	struct ds_speaker ds;
	struct topn_energy energy;
};

static inline struct audio_stream *audio_stream_of(struct ds_speaker *s)
{
	return (struct audio_stream *)(void *)s;   /* ds is the first member */
}

struct meeting_audio {
	/* the dominant speaker now: version << 32 | participant id (MMR_ID_NONE: nobody); written by the
	 * owner lcore (relaxed atomic), read by the control thread for snapshots */
	uint64_t speaker_word;
	uint32_t meeting_id;
	uint64_t next_decide_tsc;
	uint64_t next_rank_tsc;
	struct ds_meeting ds;        /* dominant speaker decision state (dominant_id: a stream id) */
	struct topn topn;            /* top-N slots (topn.n: the meeting's top_n at the last ranking) */
	uint32_t slot_epoch[MMR_TOPN_MAX];  /* +1 whenever slot k changes its stream */
};

/* A slot subscription's numbering (fwd_output.topn points at its first member): the (receiver, slot)
 * state of lib/audio/topn.h, and the slot epoch it last saw. An output may miss a slot change (the
 * stream that held the slot meanwhile was its own, never sent back to it, or sent nothing): when a
 * stream comes back after such a change its old offsets would jump over the packets it was not
 * forwarded, so a new epoch starts a new run (the next packet continues the output's numbering). */
struct slot_out {
	struct topn_out o;
	uint32_t epoch;
};

/* The dominant participant of a meeting now (MMR_ID_NONE: nobody, or no audio state). Any thread. */
static inline uint32_t meeting_audio_dominant(const struct meeting_audio *ma)
{
	return ma ? (uint32_t)__atomic_load_n(&ma->speaker_word, __ATOMIC_RELAXED) : MMR_ID_NONE;
}

/* Is o a top-N slot output (in a fwd_meeting's slot_outputs)? Those have no RTX, so their union
 * holds the numbering state (fwd_table.h); any other output without RTX has rtx_srtp NULL. */
static inline int fwd_output_is_slot(const struct fwd_output *o)
{
	return o->rtx_ssrc_be == 0 && o->topn != NULL;
}

/* The packet path's part, out of line: see audio_on_rtp. */
const struct fwd_meeting *audio_packet(struct worker *w, const struct fwd_participant *part,
				       const struct fwd_stream *s, const uint8_t *rtp, const struct rtp_info *ri);

/*
 * An RTP packet of audio stream s of publisher part (rtp: its header, parsed as ri; SRTP: after it
 * authenticated), before its fan-out: its level, the meeting's timers. Returns the meeting node when
 * the meeting forwards top-N audio (then call audio_topn_fanout instead of the usual fan-out), else
 * NULL.
 */
static inline const struct fwd_meeting *audio_on_rtp(struct worker *w, const struct fwd_participant *part,
						     const struct fwd_stream *s, const uint8_t *rtp,
						     const struct rtp_info *ri)
{
	if (likely(s->kind != MMR_KIND_AUDIO))
		return NULL;
	return audio_packet(w, part, s, rtp, ri);
}

/* Top-N fan-out of audio packet m of stream s in meeting mt (see above): plain (m as received), or
 * SRTP (srtp: m decrypted in place, rtp_len bytes of RTP, fanout_srtp's convention). */
void audio_topn_fanout(struct worker *w, struct rte_mbuf *m, const struct pkt_info *pi, uint32_t rtp_len,
		       const struct rtp_info *ri, const struct fwd_stream *s, const struct fwd_meeting *mt,
		       int srtp);

/* Control thread: the speaker word of meeting_id for a snapshot (0: no audio state). */
uint64_t audio_speaker_word(struct dataplane *dp, uint32_t meeting_id);

#endif
