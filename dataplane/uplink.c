/*
 * uplink.c - transport-wide feedback and REMB to publishers (see uplink.h).
 *
 * Per packet: the SSRC noted, the transport-wide seq logged with its arrival time (microseconds
 * from the TSC), and for a REMB publisher the abs-send-time fed to the receive-side estimator. Every
 * twcc_fb_ms (at the publisher's next packet): up to UPLINK_FB_BURST feedback messages (a message
 * stops where its chunks or deltas would not fit; the rest go in the next), then the REMB check:
 * due every UPLINK_REMB_MS, or now if the estimate fell below UPLINK_REMB_DROP of the last value sent.
 */
#define _LGPL_SOURCE
#include "uplink.h"

#include <stdlib.h>
#include <rte_cycles.h>

#include "be_bytes.h"
#include "dataplane.h"
#include "qos_hooks.h"
#include "rtcp.h"
#include "rtcp_out.h"
#include "rtcp_report.h"
#include "worker.h"

/* The receive-side estimator's range: what a publisher's uplink may be said to carry. It starts
 * high (the publisher's own estimate caps it meanwhile) and follows the incoming rate (AIMD). */
#define UPLINK_START_BPS   2500000ull   /* JMT GoogleCc2's initial estimate */
#define UPLINK_MIN_BPS     30000ull
#define UPLINK_MAX_BPS     20000000ull
#define UPLINK_FB_BURST    4u           /* feedback messages per period at most */
#define UPLINK_FB_BUF      1200u        /* one feedback message (compound), before the SRTCP trailer */

struct part_uplink *part_uplink_new(struct dataplane *dp, const struct mmr_cmd_participant *c)
{
	(void)dp;
	(void)c;
	struct part_uplink *u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->tsc_per_us = rte_get_tsc_hz() / 1000000u ? rte_get_tsc_hz() / 1000000u : 1u;
	return u;
}

void part_uplink_free(void *p)
{
	free(p);
}

/* Where a compound message starts: an empty RR and our CNAME (nothing with reduced-size RTCP). */
static uint32_t compound_head(const struct fwd_participant *part, uint8_t *buf, uint32_t cap)
{
	if (part->fb & MMR_FB_RSIZE)
		return 0;
	struct rtcp_builder b;
	rtcp_build_init(&b, buf, cap);
	rtcp_build_rr(&b, part->mmr_ssrc, NULL, 0);
	rtcp_build_sdes_cname(&b, part->mmr_ssrc, RTCP_CNAME);
	return rtcp_build_end(&b);
}

static void send_twcc(struct worker *w, const struct fwd_participant *part, struct part_uplink *u)
{
	uint8_t buf[UPLINK_FB_BUF];
	uint32_t head = compound_head(part, buf, sizeof(buf));
	for (unsigned i = 0; i < UPLINK_FB_BURST; i++) {
		uint32_t n = twcc_recv_build(&u->tr, buf + head, sizeof(buf) - head, part->mmr_ssrc, u->media_ssrc);
		if (n == 0)
			return;
		if (rtcp_out_send(w, part, buf, head + n) == 0)
			w->part_stats[part->id].twcc_fb_out++;
	}
}

static void send_remb(struct worker *w, const struct fwd_participant *part, struct part_uplink *u, uint64_t bps)
{
	uint8_t buf[RTCP_OUT_MAX];
	struct rtcp_builder b;
	uint32_t head = compound_head(part, buf, sizeof(buf));
	rtcp_build_init(&b, buf + head, sizeof(buf) - head);
	rtcp_build_remb(&b, part->mmr_ssrc, bps, u->ssrcs, u->n_ssrcs);
	uint32_t n = rtcp_build_end(&b);
	if (n && rtcp_out_send(w, part, buf, head + n) == 0) {
		w->part_stats[part->id].remb_out++;
		u->remb_last_bps = bps;
	}
}

/* The publisher's feedback is due (its TWCC period passed). */
static void uplink_due(struct worker *w, const struct fwd_participant *part, struct part_uplink *u)
{
	uint64_t now = w->now_tsc, period = w->tsc_per_ms * w->dp->cfg->twcc_fb_ms;
	/* on the period's grid (packets find it late by up to their spacing), unless it fell behind */
	u->next_fb_tsc += period;
	if (u->next_fb_tsc <= now)
		u->next_fb_tsc = now + period;
	if (!w->rtcp_on)
		return;                 /* the MMR sends no RTCP: the log keeps only the latest packets */
	if (part->twcc_ext_id)
		send_twcc(w, part, u);
	if ((part->fb & MMR_FB_REMB) && u->n_ssrcs) {
		uint64_t bps = gcc_target_bps(&u->gcc);
		uint64_t remb_period = w->tsc_per_ms * UPLINK_REMB_MS;
		if (now >= u->next_remb_tsc) {
			u->next_remb_tsc += remb_period;
			if (u->next_remb_tsc <= now)
				u->next_remb_tsc = now + remb_period;
			send_remb(w, part, u, bps);
		} else if ((double)bps < UPLINK_REMB_DROP * (double)u->remb_last_bps) {
			u->next_remb_tsc = now + remb_period;    /* at once; the period restarts */
			send_remb(w, part, u, bps);
		}
	}
}

/* Element id's data in the packet when it is exactly len bytes: 1, 0 when absent, -1 when it cannot be
 * read (counted). */
static inline int read_ext(struct worker *w, const uint8_t *rtp, const struct rtp_info *ri, uint8_t id,
			   uint16_t len, uint16_t *off)
{
	int r = bwe_ext_find(rtp, ri, id, len, off);
	if (unlikely(r < 0))
		w->st->ext_bad++;
	return r;
}

void uplink_packet(struct worker *w, const struct fwd_participant *part, struct part_uplink *u,
		   const uint8_t *rtp, const struct rtp_info *ri, uint32_t size, const struct bwe_pkt *bp)
{
	uint64_t now = w->now_tsc;
	/* the iteration's microseconds when bandwidth estimation keeps them (no division per packet) */
	uint64_t now_us = w->tsc_per_us ? w->now_us : now / u->tsc_per_us;
	if (unlikely(!u->started)) {
		const struct gcc_cfg cfg = { .start_bps = UPLINK_START_BPS, .min_bps = UPLINK_MIN_BPS, .max_bps = UPLINK_MAX_BPS };
		gcc_init(&u->gcc, &cfg, now_us);
		twcc_recv_init(&u->tr);
		u->next_fb_tsc = now + w->tsc_per_ms * w->dp->cfg->twcc_fb_ms;
		u->next_remb_tsc = now + w->tsc_per_ms * UPLINK_REMB_MS;
		u->started = 1;
	}
	u->media_ssrc = ri->ssrc;
	if (unlikely(u->n_ssrcs == 0 || u->ssrcs[0] != ri->ssrc)) {
		unsigned i = 0;
		while (i < u->n_ssrcs && u->ssrcs[i] != ri->ssrc)
			i++;
		if (i == u->n_ssrcs && i < UPLINK_MAX_SSRCS)
			u->ssrcs[u->n_ssrcs++] = ri->ssrc;
	}
	if (bp) {
		if (bp->tw_off)
			twcc_recv_on_pkt(&u->tr, get_be16(rtp + bp->tw_off), now_us);
		if ((part->fb & MMR_FB_REMB) && bp->abs_off) {
			const uint8_t *a = rtp + bp->abs_off;
			uint32_t ast = (uint32_t)a[0] << 16 | (uint32_t)a[1] << 8 | a[2];
			gcc_on_arrival(&u->gcc, abs_send_unwrap(&u->abs_last_us, ast), now_us, size);
		}
	} else if (ri->has_ext) {
		uint16_t off;
		if (part->twcc_ext_id && read_ext(w, rtp, ri, part->twcc_ext_id, 2, &off) == 1)
			twcc_recv_on_pkt(&u->tr, get_be16(rtp + off), now_us);
		if ((part->fb & MMR_FB_REMB) && part->abs_ext_id &&
		    read_ext(w, rtp, ri, part->abs_ext_id, 3, &off) == 1) {
			uint32_t ast = (uint32_t)rtp[off] << 16 | (uint32_t)rtp[off + 1] << 8 | rtp[off + 2];
			gcc_on_arrival(&u->gcc, abs_send_unwrap(&u->abs_last_us, ast), now_us, size);
		}
	}
	if (unlikely(now >= u->next_fb_tsc))
		uplink_due(w, part, u);
}
