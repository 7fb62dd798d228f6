/*
 * srtp_in.h - opening a sender's SRTP or SRTCP packet with its inbound contexts (fwd_srtp_in), the
 * rekey window included: shared by the RTP path (worker.c) and the RTCP path (rtcp_in.c).
 */
#ifndef MMR_DP_SRTP_IN_H
#define MMR_DP_SRTP_IN_H

#include <stdint.h>
#include <rte_branch_prediction.h>
#include "drop_reason.h"
#include "fwd_table.h"
#include "srtp_fast.h"
#include "worker.h"

static inline enum mmr_drop_reason srtp_open(struct srtp_stream *ctx, uint8_t *pkt, uint32_t *len, int rtcp)
{
	return rtcp ? srtp_unprotect_rtcp(ctx, pkt, len) : srtp_unprotect_rtp(ctx, pkt, len);
}

/*
 * Authenticate and decrypt a sender's packet in place with its inbound contexts; *len shrinks by
 * the trailer. Outside a rekey: the current key only. In a rekey window (prev set, and less than
 * DP_REKEY_GRACE_MS since cur first authenticated a packet): the new key, then the old one on the
 * packet as received (a refused packet comes back unchanged, but for one refused beyond its lease:
 * that one authenticated under cur and goes no further). The first success under cur is time-stamped for the control thread.
 */
static inline enum mmr_drop_reason srtp_in_open(struct worker *w, struct fwd_srtp_in *in, uint8_t *pkt,
						uint32_t *len, int rtcp)
{
	struct srtp_stream *prev = in->prev;
	uint64_t ok = in->cur_ok_tsc;
	enum mmr_drop_reason why, why_prev;

	if (likely(!prev) || (ok && w->now_tsc - ok >= w->rekey_grace_tsc)) {
		why = srtp_open(in->cur, pkt, len, rtcp);
		if (unlikely(!ok) && why == MMR_DROP_NONE)
			__atomic_store_n(&in->cur_ok_tsc, w->now_tsc | 1, __ATOMIC_RELAXED);
		return why;
	}
	/* a refused packet is left exactly as it arrived (srtp_fast.h), so the old key gets the
	 * original bytes without a copy */
	why = srtp_open(in->cur, pkt, len, rtcp);
	if (why == MMR_DROP_NONE) {
		if (!ok)
			__atomic_store_n(&in->cur_ok_tsc, w->now_tsc | 1, __ATOMIC_RELAXED);
		return why;
	}
	if (why == MMR_DROP_SRTP_LEASE)
		return why;     /* authentic under cur, beyond its lease (and left decrypted) */
	why_prev = srtp_open(prev, pkt, len, rtcp);
	if (why_prev == MMR_DROP_NONE)
		return why_prev;
	return why == MMR_DROP_SRTP_REPLAY || why_prev == MMR_DROP_SRTP_REPLAY ? MMR_DROP_SRTP_REPLAY :
										 MMR_DROP_SRTP_AUTH;
}

#endif
