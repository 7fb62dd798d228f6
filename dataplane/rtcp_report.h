/*
 * rtcp_report.h - the RTCP the MMR sends by itself, driven from the packet path (issue 11):
 *   - Receiver Reports to each publisher, per published stream every rr_ms: the stream's report
 *     block (loss, extended highest seq, jitter, LSR/DLSR of its SRs, lib/rtcp/recv_stats), SDES
 *     CNAME, and an XR Receiver Reference Time so that the publisher's DLRR gives us its RTT;
 *   - keyframe requests to a publisher for one stream (PLI when it takes PLI, else FIR with the
 *     stream's own command sequence numbers), throttled per stream (kf_throttle_ms, lib/repair/kf_req)
 *     however many ask: receivers' PLI/FIR, a receiver waiting for a keyframe (new subscriber, a
 *     restarted dataplane, a spatial or simulcast up-switch), and re-asked until the keyframe comes;
 *   - Sender Reports to each receiver of each stream every sr_video_ms / sr_audio_ms: NTP now, the
 *     RTP time anchored on the publisher's SR (lib/rtcp/sr_clock), that receiver's packet and octet
 *     counts, SDES CNAME.
 * Timers are lazy: each state holds its next time (TSC), checked at the packets of its stream, so
 * there is no timer wheel and no work for an idle stream. At most one RTCP packet goes out per
 * received RTP packet (the stream's RR and keyframe request share one compound packet; a packet's
 * fan-out sends at most one SR): a hundred receivers due at once get their SRs over the next
 * hundred packets, which staggers them by itself.
 * Compound (RR/SR first, then SDES CNAME "mmr", then feedback) unless the participant negotiated
 * reduced-size RTCP (MMR_FB_RSIZE). Owning lcore only.
 */
#ifndef MMR_DP_RTCP_REPORT_H
#define MMR_DP_RTCP_REPORT_H

#include <stdint.h>
#include <rte_branch_prediction.h>
#include <rte_prefetch.h>
#include "fwd_table.h"
#include "layer_select.h"
#include "media.h"
#include "pkt.h"
#include "rtcp_state.h"
#include "rtp.h"
#include "worker.h"

#define RTCP_CNAME "mmr"

/* The stream's RTCP work is due (rtcp_on_rtp): RR and/or keyframe request, as one packet. */
void rtcp_stream_due(struct worker *w, const struct fwd_participant *part, const struct fwd_stream *s,
		     struct stream_rtcp *r);

/* Output o's SR is due (rtcp_on_copy). Returns 1 if one was sent. */
int rtcp_send_sr(struct worker *w, const struct fwd_output *o, const struct fwd_stream *s, struct sub_rtcp *r,
		 uint16_t sport_be);

/* Someone needs a keyframe of stream s now: asks its publisher (throttled), at the stream's next
 * packet. */
static inline void rtcp_kf_ask(struct worker *w, const struct fwd_stream *s)
{
	if (!w->rtcp_on || s->is_rtx)
		return;
	struct stream_rtcp *r = stream_rtcp_get(w->rtcp, s);
	if (kf_req_ask(&r->kf, w->now_tsc)) {
		r->kf_send = 1;
		r->next_tsc = 0;
	} else {
		uint64_t t = kf_req_next_tsc(&r->kf);
		if (t < r->next_tsc)
			r->next_tsc = t;
	}
}

/*
 * A receiver's selection withheld video packet mp: is it waiting for a keyframe of this stream?
 * Yes when mp is of the encoding it is to get and it has no picture yet (a new subscriber, a
 * restarted dataplane), or is to switch to this simulcast encoding, or mp is of a spatial layer
 * above its current one and within its target (an up-switch waits for a keyframe).
 */
static inline int rtcp_waits_keyframe(const struct layer_sel *sel, const struct media_pkt *mp)
{
	const struct layer_target t = layer_sel_effective(sel);   /* ceiling and allocation */
	if (mp->encoding != t.encoding)
		return 0;
	return !sel->started || sel->encoding != t.encoding || (mp->sid > sel->cur_sid && mp->sid <= t.sid);
}

/* The arrival time of the current packet in stream s's RTP clock. */
static inline uint32_t rtcp_arrival_rtp(const struct worker *w, const struct fwd_stream *s)
{
	if (likely(s->clock_hz == 90000u || s->clock_hz == 0))
		return w->now_rtp;
	return (uint32_t)(w->now_tsc / (w->tsc_hz / s->clock_hz));
}

/*
 * A received RTP packet of stream s (media, not RTX) from its publisher part (frame parsed as pi,
 * on our port pidx; ri its RTP header; mp its codec parse, NULL for audio): the reception
 * statistics, a keyframe seen, the stream's RTCP work when due.
 */
static inline void rtcp_on_rtp(struct worker *w, const struct fwd_participant *part, const struct fwd_stream *s,
			       const uint8_t *frame, const struct pkt_info *pi, uint16_t pidx,
			       const struct rtp_info *ri, const struct media_pkt *mp)
{
	if (unlikely(!w->rtcp_on || s->is_rtx))
		return;
	struct stream_rtcp *r = stream_rtcp_get(w->rtcp, s);
	int key = mp && mp->keyframe && mp->start;
	if (unlikely(!r->rs.started) && r->kind == MMR_KIND_VIDEO && !key)
		rtcp_kf_ask(w, s);      /* a new stream, or a restarted dataplane: nobody has a picture */
	recv_stats_update(&r->rs, ri->seq, ri->ts, rtcp_arrival_rtp(w, s), &r->last_ext_seq);
	if (key && (r->kf.waiting || r->kf.pending || r->kf_send)) {
		kf_req_keyframe_seen(&r->kf);   /* what was asked for came: no (more) requests */
		r->kf_send = 0;
	}
	if (unlikely(w->now_tsc >= r->next_tsc)) {
		rtcp_route_learn(w, &part_rtcp_get(w->rtcp, part)->route, frame, pi, pidx);
		rtcp_stream_due(w, part, s, r);
	}
}

/* Stream s's RTCP state, asked for as soon as the stream is known (used after its parse). */
static inline void rtcp_prefetch_stream(const struct worker *w, const struct fwd_stream *s)
{
	if (w->rtcp_on) {
		const char *e = (const char *)&w->rtcp->stream[s->id];
		rte_prefetch0(e);
		rte_prefetch0(e + 64);
		rte_prefetch0(e + 128);
	}
}

/* The SR state of output o, a few outputs ahead of the fan-out (its sel_id is in o's line). */
static inline void rtcp_prefetch_copy(const struct worker *w, const struct fwd_output *o)
{
	if (w->rtcp_on)
		rte_prefetch0(&w->rtcp->sub[o->sel_id]);
}

/*
 * A copy of a packet of stream s went to output o (its out RTP timestamp, payload octets); sport_be:
 * our source port for it. Counted for o's SRs; o's SR goes out when due, unless *sr_budget is 0
 * (one SR per received packet; the caller starts it at 1).
 */
static inline void rtcp_on_copy(struct worker *w, const struct fwd_output *o, const struct fwd_stream *s,
				uint32_t out_ts, uint32_t payload_len, uint16_t sport_be, int *sr_budget)
{
	if (!w->rtcp_on)
		return;
	struct sub_rtcp *r = sub_rtcp_get(w->rtcp, o, s->kind);
	sr_out_on_packet(&r->so, out_ts, payload_len, w->now_tsc);
	if (unlikely(w->now_tsc >= r->next_sr_tsc) && *sr_budget && rtcp_send_sr(w, o, s, r, sport_be))
		*sr_budget = 0;
}

#endif
