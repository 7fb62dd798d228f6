/*
 * srtp_ctl.h - the SRTP contexts of the forwarding tables, on the control thread: made from the
 * master keys a PARTICIPANT_PUT carries, handed to the workers through RCU pointers, replaced on a
 * rekey, retired (freed after a grace period) when their object goes.
 *
 * Who holds what (see shadow.h and fwd_table.h):
 *   participant: its SEND key (srtp_keys), the previous SEND key during a rekey, its RECV key, and
 *                `rtcp_in`, the inbound contexts for its RTCP from SSRCs that are not its streams;
 *   stream:      `srtp_in`, the inbound contexts of its SSRC (current SEND key, and the previous one
 *                during a rekey);
 *   subscription: `srtp_out`, the outbound context of the receiver's RECV key for its out SSRC.
 * RTCP and repair (issue 11) add: participant `rtcp_out` (its RECV key, for mmr_ssrc, SRTCP only);
 * stream `rtx_srtp_in` (the inbound contexts of its publisher's RTX SSRC); subscription `rtx_out`
 * (the receiver's RECV key for its RTX SSRC). They are leased, rekeyed and retired like the others;
 * only the media contexts publish positions.
 * Each context is used by one worker only: the one receiving the sender (RSS pins a sender's
 * 5-tuple to one queue). Contexts are created and freed only here, on the control thread.
 *
 * Leases (srtp_lease.h): every context is leased when it is made, for its identity (the key's
 * fingerprint, its SSRC, its direction), so it starts above every index a predecessor of the same
 * identity used (a dead dataplane's, or an earlier subscription's) and uses only indexes made
 * durable first. A key that is replaced, or whose participant goes, is retired in the ledger: a
 * PUT that brings it back (a stale controller) is refused. Simulcast followers (a subscription
 * whose sel_id is another one's) have no outbound context: they use their leader's.
 *
 * Positions (for `mmrctl stats`): a stream's current inbound context and a subscription's
 * outbound context publish their position (ROC and half of the sequence space) into the segment,
 * stats.stream[id].srtp_index and stats.sub_srtp_index[id]. A context that is retired or demoted
 * to `prev` stops publishing.
 *
 * Rekey (a PUT whose keys differ): every inbound object of the participant is replaced by one whose
 * `cur` is a fresh context of the new SEND key and whose `prev` is the old `cur` (same context, so
 * its ROC and replay window go on). Workers try cur first, then prev (worker.c), until a packet
 * authenticates with cur and DP_REKEY_GRACE_MS more; srtp_ctl_tick() then publishes versions
 * without prev and frees the old key. A second rekey before that drops the oldest key at once. The RECV key switches at once: every subscription it receives gets a
 * fresh outbound context and its stream's output array is rebuilt.
 */
#ifndef MMR_DP_SRTP_CTL_H
#define MMR_DP_SRTP_CTL_H

#include <stddef.h>
#include <stdint.h>
#include "cmd_chan.h"
#include "shadow.h"

/* Check and normalise the SRTP part of a PARTICIPANT_PUT: a known suite, keys of the suite's
 * lengths; pads zeroed, keys zeroed for plain RTP. 0, or -1 with the reason in err (no key bytes). */
int srtp_ctl_check(struct mmr_cmd_participant *c, char *err, size_t errlen);

/* A new participant p (c already checked): its keys and RTCP contexts. 0, or a negative errno
 * (srtp_ctl_strerror; p unchanged). Nothing to do for plain RTP. */
int srtp_ctl_participant_init(struct cmd_apply *ca, struct sh_participant *p,
			      const struct mmr_cmd_participant *c);
/* Why an srtp_ctl function failed, for a refusal: -EPERM (key retired), -ENOSPC, else
 * out of memory. */
const char *srtp_ctl_strerror(int rc);
/* Retire whatever participant pid holds (its streams and subscriptions are already gone). */
void srtp_ctl_participant_fini(struct cmd_apply *ca, uint32_t pid);

/* Everything a PUT of existing participant pid with other keys needs, made before anything
 * changes, so that running out of memory refuses the command cleanly. */
struct srtp_rekey {
	struct srtp_keys *send_keys;     /* new SEND key; NULL: unchanged */
	uint8_t send_fp[SRTP_LEDGER_FP_LEN];
	uint8_t recv_fp[SRTP_LEDGER_FP_LEN];
	struct fwd_srtp_in **ins;        /* one per stream (list order), then one for RTCP */
	struct fwd_srtp_in **rtx_ins;    /* one per stream (list order): its RTX SSRC's (NULL where none) */
	uint32_t n_ins;
	struct srtp_keys *recv_keys;     /* new RECV key; NULL: unchanged */
	struct srtp_stream **outs;       /* one per received subscription (list order; NULL for a
					    simulcast follower) */
	struct srtp_stream **rtx_outs;   /* the same for their RTX contexts (NULL where none) */
	uint32_t n_outs;
	struct srtp_stream *rtcp_out;    /* the new RECV key's context for mmr_ssrc (NULL: none) */
};
/* 0 (rk filled; maybe nothing to do), or a negative errno (srtp_ctl_strerror; nothing made). c
 * checked, same suite. */
int srtp_ctl_rekey_prepare(struct cmd_apply *ca, uint32_t pid, const struct mmr_cmd_participant *c,
			   struct srtp_rekey *rk);
/* Install what rk holds (publishes the new inbound objects; marks the received streams dirty). */
void srtp_ctl_rekey_commit(struct cmd_apply *ca, uint32_t pid, struct srtp_rekey *rk);
void srtp_ctl_rekey_abort(struct cmd_apply *ca, struct srtp_rekey *rk);
static inline int srtp_ctl_rekey_empty(const struct srtp_rekey *rk)
{
	return !rk->send_keys && !rk->recv_keys;
}

/* Inbound contexts for stream c (c->id, c->ssrc, c->kind) of publisher pid (both keys during a
 * rekey): *in, NULL for a plain publisher. The current key's context publishes its position into
 * the stream's slot. 0 or a negative errno (srtp_ctl_strerror). */
int srtp_ctl_stream_in(struct cmd_apply *ca, uint32_t pid, const struct mmr_cmd_stream *c,
		       struct fwd_srtp_in **in);
/* Outbound context for subscription uid received by pid under out_ssrc: *out, NULL for plain;
 * publishes into uid's slot. 0 or a negative errno (srtp_ctl_strerror). */
int srtp_ctl_sub_out(struct cmd_apply *ca, uint32_t pid, uint32_t uid, uint32_t out_ssrc,
		     struct srtp_stream **out);
/* RTX (issue 11): the inbound contexts of stream c's RTX SSRC (c->rtx_ssrc; *in NULL for a plain
 * publisher or no RTX), the outbound context of a subscription's RTX SSRC toward pid (*out NULL for
 * plain or rtx_ssrc 0). No positions. 0 or a negative errno (srtp_ctl_strerror). */
int srtp_ctl_rtx_in(struct cmd_apply *ca, uint32_t pid, const struct mmr_cmd_stream *c,
		    struct fwd_srtp_in **in);
int srtp_ctl_rtx_out(struct cmd_apply *ca, uint32_t pid, uint32_t rtx_ssrc, struct srtp_stream **out);
/* The context of pid's RECV key for its mmr_ssrc (SRTCP only): *out NULL for plain or mmr_ssrc 0. */
int srtp_ctl_rtcp_out(struct cmd_apply *ca, uint32_t pid, uint32_t mmr_ssrc, struct srtp_stream **out);
/* Free one outbound context at once (never published). */
void srtp_ctl_free_out(struct cmd_apply *ca, struct srtp_stream *out);
/* Set a stream's / subscription's published position (when its context is made). */
void srtp_ctl_set_stream_index(struct cmd_apply *ca, uint32_t sid, uint64_t index);
void srtp_ctl_set_sub_index(struct cmd_apply *ca, uint32_t uid, uint64_t index);
/* Retire an inbound object with its contexts, or one outbound context (NULL: nothing). */
void srtp_ctl_retire_in(struct cmd_apply *ca, struct fwd_srtp_in *in);
void srtp_ctl_retire_out(struct cmd_apply *ca, struct srtp_stream *out);
/* Free at once (shutdown, no worker left; or never published). */
void srtp_ctl_free_in(struct cmd_apply *ca, struct fwd_srtp_in *in);

/* About every 100 ms: end the rekeys whose new SEND key has been in use for DP_REKEY_GRACE_MS
 * (publish inbound objects without prev, retire the old key). Online RCU reader; reclaim after. */
void srtp_ctl_tick(struct cmd_apply *ca, uint64_t now_tsc);

/* Shutdown: free what a participant holds, at once. */
void srtp_ctl_participant_free(struct cmd_apply *ca, struct sh_participant *p);

#endif
