/*
 * rtcp_in.c - RTCP from a participant, terminated on the lcore that owns its meeting (issue 11).
 *
 * Order, so that nothing acts on a packet it must refuse:
 *   1. SRTP meetings: SRTCP authenticated, replay-checked and decrypted in place (the contexts of the
 *      sender SSRC's stream when it is one of the participant's streams, else the participant's
 *      RTCP contexts; srtp_in.h), as before issue 11;
 *   2. rtcp_check() of the whole datagram: compound required unless the participant negotiated
 *      reduced-size RTCP (MMR_FB_RSIZE); a malformed packet is dropped by its reason;
 *   3. a first walk over the items: every feedback item (NACK, PLI, FIR) must name an SSRC we send
 *      this participant (one of its subscriptions' out SSRCs or RTX SSRCs: fwd_sub_lookup), else the
 *      whole packet is dropped as rtcp_unknown_ssrc;
 *   4. the second walk acts, item by item:
 *        SR (of one of its streams)   the stream's SR anchor (our SRs' RTP/NTP mapping) and LSR/DLSR
 *                                     for our RRs; SRs of other SSRCs (a receiver's own) are ignored
 *        report block                 about an SSRC we send it: its RTT (LSR/DLSR of our SR), its loss
 *        NACK                         repair_on_nack() (repair.c) for the subscription behind the SSRC
 *        PLI / FIR                    a keyframe request to the publisher of the stream the receiver
 *                                     gets (the target encoding of a simulcast group), throttled
 *        XR RRTR                      answered at once with an XR DLRR (its RTT toward us)
 *        XR DLRR (about our RRTR)     its RTT
 *        TWCC, REMB                   to the receiver's downlink estimate (bwe.c) when it has one
 *        SDES, BYE, APP, other XR, other types: counted
 * The participant's route (where our RTCP to it goes) is learned from the packet.
 * Counted: per lcore rtcp_pkts; per participant rtcp_in, nack_in, pli_in, fir_in, remb_in, twcc_in,
 * rtt_us, fraction_lost, cum_lost; per stream rtcp_in, sr_in, pli_in, fir_in.
 */
#define _LGPL_SOURCE
#include "rtcp_in.h"

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>

#include "bwe.h"
#include "layer_select.h"
#include "ntp_time.h"
#include "repair.h"
#include "rtcp.h"
#include "rtcp_out.h"
#include "rtcp_report.h"
#include "rtcp_state.h"
#include "srtp_in.h"
#include "be_bytes.h"

static inline int is_feedback(enum rtcp_item_type t)
{
	return t == RTCP_ITEM_NACK || t == RTCP_ITEM_PLI || t == RTCP_ITEM_FIR;
}

/*
 * The subscription of receiver part behind the SSRC it sees (its out SSRC or RTX SSRC) and its
 * stream: for a simulcast group the member of the encoding it gets now (want_target: the encoding
 * it is to get, for a keyframe request). NULL when there is none (or it is being changed).
 */
static const struct fwd_output *sub_target(struct worker *w, const struct fwd_participant *part, uint32_t ssrc,
					   int want_target, const struct fwd_stream **stream)
{
	const struct fwd_sub *sub = fwd_sub_lookup(&w->dp->fwd, part->id, ssrc);
	if (!sub || sub->n == 0)
		return NULL;
	unsigned e = 0;
	if (sub->n > 1 && sub->sel_id < MMR_MAX_SUBS) {
		const struct layer_sel *sel = &w->sel[sub->sel_id];
		e = want_target ? layer_sel_effective(sel).encoding : sel->encoding;
		if (e >= sub->n || sub->m[e].sub_id == MMR_ID_NONE)
			e = sel->encoding;
	}
	for (unsigned i = 0; e >= sub->n || sub->m[e].sub_id == MMR_ID_NONE; i++) {
		if (i >= sub->n)
			return NULL;
		e = i;
	}
	struct fwd_stream *s = NULL;
	const struct fwd_output *o = fwd_sub_member_output(&w->dp->fwd, &sub->m[e], &s);
	if (!o || !s)
		return NULL;
	*stream = s;
	return o;
}

/* An XR RRTR from part: our DLRR right away (as the MMR's SSRC for it), so it can measure its RTT. */
static void answer_rrtr(struct worker *w, const struct fwd_participant *part, const struct rtcp_item *it)
{
	uint8_t buf[RTCP_OUT_MAX];
	struct rtcp_builder b;
	rtcp_build_init(&b, buf, sizeof(buf));
	if (!(part->fb & MMR_FB_RSIZE)) {
		rtcp_build_rr(&b, part->mmr_ssrc, NULL, 0);
		rtcp_build_sdes_cname(&b, part->mmr_ssrc, RTCP_CNAME);
	}
	/* answered within this loop iteration: the delay since it arrived is a few microseconds */
	rtcp_build_xr_dlrr(&b, part->mmr_ssrc, it->sender_ssrc, ntp_middle32(it->u.rrtr.ntp), 0);
	uint32_t len = rtcp_build_end(&b);
	if (len)
		rtcp_out_send(w, part, buf, len);
}

static void set_rtt(struct worker *w, const struct fwd_participant *part, struct part_rtcp *pr, int64_t rtt_us)
{
	if (rtt_us < 0)
		return;
	uint32_t v = rtt_us > 0 ? (uint32_t)rtt_us : 1u;   /* 0 means "not known" */
	pr->rtt_us = v;
	w->part_stats[part->id].rtt_us = v;
	if (part->bwe)
		bwe_on_rtt(w, part, v);
}

static void act(struct worker *w, const struct fwd_participant *part, struct part_rtcp *pr,
		const struct rtcp_item *it, uint32_t now_mid)
{
	struct mmr_participant_stats *ps = &w->part_stats[part->id];
	const struct fwd_stream *s = NULL;
	const struct fwd_output *o;

	switch (it->type) {
	case RTCP_ITEM_SR: {
		s = fwd_stream_lookup(&w->dp->fwd, part->id, it->sender_ssrc);
		if (!s || s->is_rtx)
			return;          /* a receiver's own SR (or its RTX stream's): nothing for us */
		struct stream_rtcp *r = stream_rtcp_get(w->rtcp, s);
		sr_anchor_set(&r->anchor, it->u.sr.ntp, it->u.sr.rtp_ts, w->now_tsc);
		recv_stats_on_sr(&r->rs, it->u.sr.ntp, w->now_tsc);
		w->stream_stats[s->id].sr_in++;
		w->stream_stats[s->id].rtcp_in++;
		return;
	}
	case RTCP_ITEM_RR:
		/* about a copy we send it: its RTT from our SR's time, its loss */
		if (!fwd_sub_lookup(&w->dp->fwd, part->id, it->u.rb.ssrc))
			return;
		if (now_mid)
			set_rtt(w, part, pr, ntp_rtt_us(now_mid, it->u.rb.lsr, it->u.rb.dlsr));
		ps->fraction_lost = it->u.rb.fraction_lost;
		ps->cum_lost = it->u.rb.cum_lost > 0 ? (uint64_t)it->u.rb.cum_lost : 0;
		return;
	case RTCP_ITEM_NACK: {
		/* the subscription's sequence space is its group's (simulcast): repair.c maps it */
		const struct fwd_sub *sub = fwd_sub_lookup(&w->dp->fwd, part->id, it->media_ssrc);
		ps->nack_in++;
		if (sub)
			repair_on_nack(w, part, sub, it->u.nack.pid, it->u.nack.blp, pr->rtt_us);
		return;
	}
	case RTCP_ITEM_PLI:
	case RTCP_ITEM_FIR:
		o = sub_target(w, part, it->media_ssrc, 1, &s);
		if (it->type == RTCP_ITEM_PLI)
			ps->pli_in++;
		else
			ps->fir_in++;
		if (o) {
			struct mmr_stream_stats *ss = &w->stream_stats[s->id];
			ss->rtcp_in++;
			if (it->type == RTCP_ITEM_PLI)
				ss->pli_in++;
			else
				ss->fir_in++;
			rtcp_kf_ask(w, s);
		}
		return;
	case RTCP_ITEM_XR_RRTR:
		answer_rrtr(w, part, it);
		return;
	case RTCP_ITEM_XR_DLRR:
		/* about our RRTR (sent as mmr_ssrc in our RRs) */
		if (it->media_ssrc == part->mmr_ssrc && now_mid)
			set_rtt(w, part, pr, ntp_rtt_us(now_mid, it->u.dlrr.lrr, it->u.dlrr.dlrr));
		return;
	case RTCP_ITEM_REMB:
		ps->remb_in++;
		if (part->bwe)
			bwe_on_remb(w, part, it);
		return;
	case RTCP_ITEM_TWCC:
		ps->twcc_in++;
		if (part->bwe)
			bwe_on_twcc(w, part, it);
		return;
	default:
		return;      /* SDES, BYE, APP, other XR blocks, other types: counted with the packet */
	}
}

enum mmr_drop_reason rtcp_in(struct worker *w, struct rte_mbuf *m, const struct pkt_info *pi,
			     const struct fwd_participant *part)
{
	uint8_t *pkt = rte_pktmbuf_mtod_offset(m, uint8_t *, pi->payload_off);
	uint32_t len = pi->payload_len;
	enum mmr_drop_reason why;

	if (part->srtp) {
		if (len < 8)
			return MMR_DROP_SRTP_AUTH;
		const struct fwd_stream *s = fwd_stream_lookup(&w->dp->fwd, part->id, get_be32(pkt + 4));
		struct fwd_srtp_in *in = s ? rcu_dereference(s->srtp_in) : rcu_dereference(part->rtcp_in);
		if (unlikely(!in))
			return MMR_DROP_SRTP_AUTH;
		why = srtp_in_open(w, in, pkt, &len, 1);
		if (why != MMR_DROP_NONE)
			return why;
	}
	why = rtcp_check(pkt, len, !(part->fb & MMR_FB_RSIZE));
	if (unlikely(why != MMR_DROP_NONE)) {
		if (part->bwe)
			bwe_on_bad_rtcp(w, part, pkt, len);    /* malformed feedback: bwe_bad_fb too */
		return why;
	}

	struct rtcp_iter iter;
	struct rtcp_item it;
	rtcp_iter_init(&iter, pkt, len);
	while (rtcp_iter_next(&iter, &it))
		if (is_feedback(it.type) && !fwd_sub_lookup(&w->dp->fwd, part->id, it.media_ssrc))
			return MMR_DROP_RTCP_UNKNOWN_SSRC;

	w->st->rtcp_pkts++;
	w->part_stats[part->id].rtcp_in++;
	struct part_rtcp *pr = part_rtcp_get(w->rtcp, part);
	rtcp_route_learn(w, &pr->route, rte_pktmbuf_mtod(m, const uint8_t *), pi, w->dp->pidx_of[m->port]);
	uint64_t ntp = ntp_now(w->ntp, w->now_tsc);
	uint32_t now_mid = ntp ? ntp_middle32(ntp) : 0;
	if (part->bwe)
		bwe_on_rtcp(w, part);
	rtcp_iter_init(&iter, pkt, len);
	while (rtcp_iter_next(&iter, &it))
		act(w, part, pr, &it, now_mid);
	return MMR_DROP_NONE;
}
