/*
 * rtcp_report.c - Receiver Reports and keyframe requests to publishers, Sender Reports to receivers
 * (see rtcp_report.h for what and when).
 *
 * Each is composed with lib/rtcp's builders into a buffer on the stack and handed to rtcp_out.c:
 *   to a publisher (as the MMR's SSRC for it, fwd_participant.mmr_ssrc; along its route):
 *     RR(1 block about the stream) [SDES CNAME] XR(RRTR) [PLI or FIR]
 *   to a receiver (as its out SSRC, on its output, under the output's SRTCP context):
 *     SR(no blocks) [SDES CNAME]
 * [..]: left out for a participant that negotiated reduced-size RTCP.
 * The RR goes only once the stream had a packet (recv_stats_block says so); the SR only once the
 * receiver got one (sr_clock_out says so). A keyframe request to a publisher that takes neither PLI
 * nor FIR is not sent (nothing it would understand).
 */
#define _LGPL_SOURCE
#include "rtcp_report.h"

#include "audio.h"

#include "ntp_time.h"
#include "rtcp.h"
#include "rtcp_out.h"

static uint64_t ntp_now_w(const struct worker *w)
{
	return ntp_now(w->ntp, w->now_tsc);
}

void rtcp_stream_due(struct worker *w, const struct fwd_participant *part, const struct fwd_stream *s,
		     struct stream_rtcp *r)
{
	uint64_t now = w->now_tsc;
	int rr = now >= r->next_rr_tsc;
	int kf = r->kf_send || kf_req_due(&r->kf, now);
	uint8_t buf[RTCP_OUT_MAX];
	struct rtcp_builder b;
	const struct part_rtcp *pr = part_rtcp_get(w->rtcp, part);
	int rsize = (part->fb & MMR_FB_RSIZE) != 0;

	if (rr)
		r->next_rr_tsc = now + w->rr_tsc;
	r->kf_send = 0;
	uint64_t next = r->next_rr_tsc, kt = kf_req_next_tsc(&r->kf);
	r->next_tsc = kt < next ? kt : next;
	if (!pr->route.known)
		return;                  /* nowhere to send it yet (its first packets teach us) */

	rtcp_build_init(&b, buf, sizeof(buf));
	struct recv_report rep = { 0 };
	int have_block = rr && recv_stats_block(&r->rs, now, w->tsc_hz, &rep) == 0;
	if (rr || !rsize) {
		/* compound packets start with a report: the block when due, else an empty RR */
		struct rtcp_report_block rb = {
			.ssrc = s->ssrc, .fraction_lost = rep.fraction_lost, .cum_lost = rep.cum_lost,
			.ext_high_seq = rep.ext_high_seq, .jitter = rep.jitter, .lsr = rep.lsr, .dlsr = rep.dlsr,
		};
		unsigned n = have_block ? 1u : 0u;
		rtcp_build_rr(&b, part->mmr_ssrc, &rb, n);
		if (!rsize)
			rtcp_build_sdes_cname(&b, part->mmr_ssrc, RTCP_CNAME);
		if (rr) {
			uint64_t ntp = ntp_now_w(w);
			if (ntp)
				rtcp_build_xr_rrtr(&b, part->mmr_ssrc, ntp);
		}
		if (n)
			w->stream_stats[s->id].rr_out++;
	}
	if (kf) {
		if (part->fb & MMR_FB_PLI) {
			rtcp_build_pli(&b, part->mmr_ssrc, s->ssrc);
			w->stream_stats[s->id].kf_requests++;
		} else if (part->fb & MMR_FB_FIR) {
			rtcp_build_fir(&b, part->mmr_ssrc, s->ssrc, kf_req_fir_seq(&r->kf));
			w->stream_stats[s->id].kf_requests++;
		}
	}
	uint32_t len = rtcp_build_end(&b);
	if (len)
		rtcp_out_send(w, part, buf, len);
}

int rtcp_send_sr(struct worker *w, const struct fwd_output *o, const struct fwd_stream *s, struct sub_rtcp *r,
		 uint16_t sport_be)
{
	uint64_t now = w->now_tsc;
	const struct stream_rtcp *sr = stream_rtcp_get(w->rtcp, s);
	uint32_t ts_offset = s->kind == MMR_KIND_VIDEO ? w->sel[o->sel_id].ts_offset : 0;
	if (unlikely(fwd_output_is_slot(o)) && o->topn->stream_id == s->id)
		ts_offset = o->topn->ts_off;     /* a top-N slot: the current stream's offset (audio.h) */
	uint32_t clock = s->clock_hz ? s->clock_hz : (s->kind == MMR_KIND_VIDEO ? 90000u : 48000u);
	uint64_t ntp = ntp_now_w(w);
	uint32_t rtp;

	r->next_sr_tsc = now + (r->kind == MMR_KIND_VIDEO ? w->sr_video_tsc : w->sr_audio_tsc);
	if (!ntp || sr_clock_out(sr ? &sr->anchor : NULL, &r->so, now, w->tsc_hz, clock, ts_offset, &rtp) != 0)
		return 0;
	if (unlikely(worker_receiver_waiting(w, o->receiver_id)))   /* a waiting receiver gets nothing */
		return 0;
	uint8_t buf[RTCP_OUT_MAX];
	struct rtcp_builder b;
	uint32_t ssrc = rte_be_to_cpu_32(o->out_ssrc_be);
	rtcp_build_init(&b, buf, sizeof(buf));
	rtcp_build_sr(&b, ssrc, ntp, rtp, r->so.pkts, r->so.octets, NULL, 0);
	if (!(o->fb & MMR_FB_RSIZE))
		rtcp_build_sdes_cname(&b, ssrc, RTCP_CNAME);
	uint32_t len = rtcp_build_end(&b);
	if (!len || rtcp_out_to_output(w, o, sport_be, o->srtp, buf, len) != 0)
		return 0;
	w->stream_stats[s->id].sr_out++;
	return 1;
}
