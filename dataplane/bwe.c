/*
 * bwe.c - per-receiver downlink bandwidth estimation, probing and layer allocation (bwe.h).
 *
 * Feedback (owner lcore, from rtcp_in.c):
 *   TWCC  parsed (lib/rtcp/twcc), matched against the receiver's send log by the estimator
 *         (gcc_on_twcc); statuses it refuses (never sent, overwritten, absurd deltas) and packets that
 *         do not parse count in bwe_bad_fb, the rest in twcc_fb_in;
 *   REMB  the receiver's own estimate (gcc_on_remb, which never takes it beyond bwe_max_kbps); a
 *         value of 0 is refused (bwe_bad_fb);
 *   then the allocation when due (bwe_alloc_ms since the last one, an estimate that moved > 15 %
 *   since, or the receiver's subscriptions changed), and MMR_EV_BWE at most once per second when
 *   the estimate moved > 10 %.
 * The allocation never raises anything above the ceiling: the allocator is given the ceiling, and
 * the selection forwards the per-component minimum of allocation and ceiling anyway
 * (layer_sel_effective). Audio has no allocation. The dominant speaker's video gets priority 2
 * (audio.h's meeting_audio_dominant when the meeting has such state), pinned and screen 3.
 */
#define _LGPL_SOURCE
#include "bwe.h"

#include <stdlib.h>
#include <string.h>
#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "config.h"
#include "dataplane.h"
#include "dp_events.h"
#include "layer_rate.h"
#include "qos_hooks.h"
#include "layer_select.h"
#include "repair.h"
#include "rewrite.h"
#include "rtcp.h"
#include "srtp_fast.h"
#include "twcc.h"

#define BWE_TWCC_MAX_STATUS 1024u     /* statuses of one feedback packet used at most */
#define BWE_RATE_PUBLISH_US 250000u   /* layer_kbps in the stats at most this often */
#define BWE_MIN_PROBE_GAP_US 0u
#define BWE_PROBE_WAIT_US 200000u     /* a cluster no copy could carry this long is given up */
#define BWE_PROBE_MIN_TRAIN 6000u      /* bytes: a probe train outlasts a shaper's burst allowance */
#define BWE_CONGESTION_US 1000000u    /* an allocation this soon after a congestion decrease: ALLOC_CONGESTION */

/* ---- control thread -------------------------------------------------------------------------- */

struct part_bwe *part_bwe_new(struct dataplane *dp, const struct mmr_cmd_participant *c)
{
	const struct dp_config *cfg = dp->cfg;
	if (!cfg->bwe || !cfg->rtcp || !(c->fb & (MMR_FB_TWCC | MMR_FB_REMB)))
		return NULL;
	/* its first line is the one the fan-out touches per copy: on a line of its own */
	size_t size = (sizeof(struct part_bwe) + 63u) & ~(size_t)63u;
	struct part_bwe *b = aligned_alloc(64, size);
	if (!b)
		return NULL;
	memset(b, 0, size);
	uint64_t now_us = rte_get_tsc_cycles() / (rte_get_tsc_hz() / 1000000u);
	struct gcc_cfg gc = { .start_bps = (uint64_t)cfg->bwe_start_kbps * 1000u,
			      .min_bps = (uint64_t)cfg->bwe_min_kbps * 1000u,
			      .max_bps = (uint64_t)cfg->bwe_max_kbps * 1000u,
			      .probe_min_bytes = BWE_PROBE_MIN_TRAIN };
	send_log_init(&b->log, (uint16_t)rte_rdtsc());
	gcc_init(&b->gcc, &gc, now_us);
	alloc_state_init(&b->alloc);
	b->id = c->id;
	b->mmr_ssrc = c->mmr_ssrc;
	b->probe_seq = (uint16_t)(rte_rdtsc() >> 3);
	b->alloc_now = cfg->bwe_no_feedback_lowest;   /* "lowest": set before any feedback */
	return b;
}

void part_bwe_free(void *p)
{
	free(p);
}

struct layer_rate *stream_layer_rate_new(struct dataplane *dp, const struct mmr_cmd_stream *c)
{
	if (!dp->cfg->bwe || !dp->cfg->rtcp || c->kind != MMR_KIND_VIDEO)
		return NULL;
	struct layer_rate *r = malloc(sizeof(*r));
	if (r)
		layer_rate_init(r);
	return r;
}

void stream_layer_rate_free(void *p)
{
	free(p);
}

/* ---- packet path: stamping off the fan-out's fast path ----------------------------------------- */

uint32_t bwe_stamp_whole(struct worker *w, const struct fwd_output *o, uint8_t *rtp, uint32_t len,
			 uint8_t tw_id, uint8_t abs_id)
{
	struct rtp_info ri;
	struct bwe_pkt bp;
	if (rtp_parse(rtp, len, &ri) != MMR_DROP_NONE)
		return 0;
	bwe_pkt_find(&bp, rtp, &ri, tw_id, abs_id);
	return bwe_stamp(w, o, &bp, rtp, len);
}

/* ---- layer rates ------------------------------------------------------------------------------ */

void bwe_layer_rate_publish(struct worker *w, const struct fwd_stream *s)
{
	uint32_t bps[MEDIA_MAX_SPATIAL][MMR_MAX_TLAYERS];
	layer_rate_get(s->rate, w->now_us, bps);
	uint32_t *k = w->stream_stats[s->id].layer_kbps;
	for (unsigned i = 0; i < MEDIA_MAX_SPATIAL; i++)
		for (unsigned j = 0; j < MMR_MAX_TLAYERS; j++)
			k[i * MMR_MAX_TLAYERS + j] = (bps[i][j] + 500u) / 1000u;
}

/* ---- probing ---------------------------------------------------------------------------------- */

/*
 * One padding-only RTP packet of pad bytes of padding to o's receiver, stamped with its next
 * transport-wide seq (cluster b->probe_id): on the subscription's RTX SSRC (its RTX payload type)
 * when it has one, else (plain RTP only) on the MMR's SSRC for the receiver. 0 sent, -1 not (no
 * mbuf, or its next hop's MAC not resolved), 1 not on this output (an SRTP output without RTX: an audio slot, or a receiver without
 * RTX; the cluster waits for the next copy to one that can carry it).
 */
static int probe_one(struct worker *w, const struct fwd_output *o, struct part_bwe *b, uint32_t pad)
{
	uint8_t pkt[12 + 8 + BWE_PROBE_PAD_MAX];
	uint8_t rtx_pt = 0;
	for (unsigned i = 0; i < MMR_RTX_MAP_MAX && !rtx_pt; i++)
		rtx_pt = o->rtx_map[i].pt;
	struct sub_repair *sr = o->repair;
	int on_rtx = o->rtx_ssrc_be && rtx_pt && sr;
	struct srtp_stream *ctx = NULL;
	if (o->srtp) {            /* SRTP meeting: only on RTX, under its own context */
		if (!on_rtx || !o->rtx_srtp)
			return 1;
		ctx = o->rtx_srtp;
	}
	/* its next hop's MAC before it takes a sequence and a transport-wide number (neigh.h) */
	if (unlikely(!worker_out_mac_ok(w, o)))
		return -1;
	uint16_t seq;
	uint32_t ssrc_be;
	if (on_rtx) {
		seq = sr->rtx_seq++;
		ssrc_be = o->rtx_ssrc_be;
	} else {
		seq = b->probe_seq++;
		ssrc_be = rte_cpu_to_be_32(b->mmr_ssrc);
		rtx_pt = 127;     /* any: the packet carries nothing */
	}
	uint16_t tw = send_log_add(&b->log, w->now_us, (uint16_t)(20 + pad), b->probe_id);
	pkt[0] = 0x80 | 0x20 | 0x10;              /* V=2, padding, extension */
	pkt[1] = rtx_pt & 0x7f;
	put_be16(pkt + 2, seq);
	put_be32(pkt + 4, (uint32_t)(w->now_us * 90u / 1000u));
	memcpy(pkt + 8, &ssrc_be, 4);
	if (o->twcc_ext_id <= 14) {
		put_be16(pkt + 12, 0xBEDE);
		put_be16(pkt + 14, 1);
		pkt[16] = (uint8_t)(o->twcc_ext_id << 4 | 1);
		pkt[17] = (uint8_t)(tw >> 8);
		pkt[18] = (uint8_t)tw;
		pkt[19] = 0;
	} else {
		put_be16(pkt + 12, 0x1000);
		put_be16(pkt + 14, 1);
		pkt[16] = o->twcc_ext_id;
		pkt[17] = 2;
		pkt[18] = (uint8_t)(tw >> 8);
		pkt[19] = (uint8_t)tw;
	}
	memset(pkt + 20, 0, pad - 1);
	pkt[20 + pad - 1] = (uint8_t)pad;
	uint32_t len = 20 + pad;

	uint32_t head = ETH_LEN + (o->family == MMR_AF_INET ? IP4_LEN : IP6_LEN) + UDP_LEN;
	struct rte_mbuf *h = rte_pktmbuf_alloc(w->pools->pkt);
	if (unlikely(!h)) {
		w->st->drops[MMR_DROP_NO_MBUF]++;
		return -1;
	}
	uint8_t *p = rte_pktmbuf_mtod(h, uint8_t *);
	uint32_t room = rte_pktmbuf_tailroom(h), n = 0;
	if (room >= head + len + SRTP_MAX_TRAILER) {
		if (ctx) {
			n = srtp_protect_rtp_copy(ctx, pkt, len, p + head, room - head);
		} else {
			memcpy(p + head, pkt, len);
			n = len;
		}
	}
	if (unlikely(!n)) {
		rte_pktmbuf_free(h);
		return -1;
	}
	h->data_len = (uint16_t)write_whole_packet(p, o, w->bwe_in.sport_be, n);
	h->pkt_len = h->data_len;
	worker_send(w, o->dp_port, h);
	struct mmr_participant_stats *ps = &w->part_stats[b->id];
	ps->probe_pkts++;
	ps->probe_bytes += n;
	w->st->probe_pkts++;
	w->st->twcc_stamped++;
	return 0;
}

void bwe_probe_send(struct worker *w, const struct fwd_output *o, struct part_bwe *b)
{
	if (!o->twcc_ext_id) {
		b->probe_pkts_left = 0;   /* REMB only: nothing would report the probe */
		return;
	}
	/* the bytes due by now at the cluster's rate, and at least BWE_PROBE_PER_COPY packets: sent
	 * right after this copy. Copies are far apart at a low rate (one per 30-50 ms at 250 kbit/s):
	 * paced by them, a 15 ms cluster went out over 100-200 ms at a fraction of its rate and could
	 * never raise the estimate; sent as one train after a copy, its receive rate is what the path
	 * let through (gcc: the result is never above the cluster's rate). */
	if (!b->probe_sent_bytes && w->now_us - b->probe_start_us > BWE_PROBE_WAIT_US) {
		b->probe_pkts_left = 0;   /* no copy could carry it: the estimator times it out */
		return;
	}
	uint64_t due = (w->now_us - b->probe_start_us) * b->probe_bps / 8000000u +
		       BWE_PROBE_PER_COPY * (BWE_PROBE_PAD_MAX + 20u);
	for (unsigned k = 0; k < BWE_PROBE_PER_COPY && b->probe_pkts_left && b->probe_sent_bytes < due; k++) {
		uint32_t pad = b->probe_bytes_left / b->probe_pkts_left;
		pad = pad > 20u ? pad - 20u : 0;
		if (pad < GCC_PROBE_MIN_BYTES - 20u)
			pad = GCC_PROBE_MIN_BYTES - 20u;
		if (pad > BWE_PROBE_PAD_MAX)
			pad = BWE_PROBE_PAD_MAX;
		int r = probe_one(w, o, b, pad);
		if (r > 0)
			return;       /* not on this output: the cluster goes with a later copy */
		if (r < 0) {
			/* no mbuf: the cluster ends (the estimate then rises by the estimator's own
			 * increase only) */
			b->probe_pkts_left = 0;
			return;
		}
		if (!b->probe_sent_bytes)
			b->probe_start_us = w->now_us;    /* its rate counts from its first packet */
		b->probe_pkts_left--;
		b->probe_bytes_left = b->probe_bytes_left > pad + 20u ? b->probe_bytes_left - (pad + 20u) : 0;
		b->probe_sent_bytes += pad + 20u;
	}
}

/* Ask the estimator for a probe toward want_bps (the allocation would use more than the estimate). */
static void probe_maybe(struct worker *w, struct part_bwe *b, uint64_t want_bps)
{
	if (!w->bwe_probe || b->probe_pkts_left)
		return;
	struct gcc_probe pr;
	if (!gcc_probe_request(&b->gcc, w->now_us, want_bps, &pr))
		return;
	b->probe_id = pr.id;
	b->probe_bps = (uint32_t)pr.bps;
	b->probe_bytes_left = pr.bytes;
	uint32_t pkts = pr.bytes / BWE_PROBE_PAD_MAX + 1;
	if (pkts < pr.min_pkts)
		pkts = pr.min_pkts;
	b->probe_pkts_left = (uint16_t)(pkts < 1000u ? pkts : 1000u);
	b->probe_start_us = w->now_us;
	b->probe_sent_bytes = 0;
}

/* ---- feedback, estimate, allocation ---------------------------------------------------------- */

static void publish_estimate(struct worker *w, struct part_bwe *b)
{
	struct mmr_participant_stats *ps = &w->part_stats[b->id];
	uint64_t bps = gcc_target_bps(&b->gcc);
	ps->bwe_bps = bps;
	ps->bwe_delay_bps = gcc_delay_bps(&b->gcc);
	ps->bwe_loss_bps = gcc_loss_bps(&b->gcc);
	ps->bwe_loss = gcc_loss_frac(&b->gcc);
	ps->bwe_overuse = b->gcc.st.overuse;
	ps->bwe_burst_ignored = b->gcc.st.burst_ignored;
	ps->probes_ok = b->gcc.st.probes_ok;
	ps->probes_failed = b->gcc.st.probes_failed;
	uint32_t kbps = (uint32_t)((bps + 500u) / 1000u);
	uint32_t d = kbps > b->ev_kbps ? kbps - b->ev_kbps : b->ev_kbps - kbps;
	if ((b->ev_us == 0 || w->now_us - b->ev_us >= BWE_EV_MIN_US) && (uint64_t)d * 10u > b->ev_kbps) {
		b->ev_version = b->ev_version + 1u ? b->ev_version + 1u : 1u;
		if (ev_push(&w->ev, MMR_EV_BWE, b->id, kbps, b->ev_version)) {
			b->ev_us = w->now_us;
			b->ev_kbps = kbps;
		}
	}
}

/* Is the allocation due: its timer, an estimate that moved > 15 % since, subscriptions changed? */
static int alloc_due(const struct worker *w, const struct part_bwe *b, uint64_t bps, const struct fwd_rx_subs *rs)
{
	if (b->alloc_now || w->now_us >= b->next_alloc_us)
		return 1;
	if ((const void *)rs != b->alloc_subs)
		return 1;
	uint64_t d = bps > b->alloc_bps ? bps - b->alloc_bps : b->alloc_bps - bps;
	return d * 100u > b->alloc_bps * 15u;
}

/*
 * The allocation of receiver part (owner lcore): its video subscriptions (rx_subs) with their
 * ceilings, measured layer rates and priorities, the estimate as budget; each subscription's
 * allocation word stored. lowest: no feedback yet and bwe_no_feedback = "lowest": every
 * subscription its lowest option (within its ceiling), whatever the budget.
 */
static void run_alloc(struct worker *w, const struct fwd_participant *part, struct part_bwe *b,
		      const struct fwd_rx_subs *rs, uint64_t budget, unsigned flags, int lowest)
{
	struct alloc_sub subs[ALLOC_MAX_SUBS];
	uint32_t bps[MEDIA_MAX_ENCODINGS][MEDIA_MAX_SPATIAL][MEDIA_MAX_TEMPORAL];
	struct mmr_participant_stats *ps = &w->part_stats[part->id];
	unsigned n = rs ? (rs->n < ALLOC_MAX_SUBS ? rs->n : ALLOC_MAX_SUBS) : 0;
	uint32_t speaker = part->meeting < MMR_MAX_MEETINGS ?
			   __atomic_load_n(&w->dp->shm->stats.meeting_speaker[part->meeting], __ATOMIC_RELAXED) :
			   MMR_ID_NONE;

	for (unsigned i = 0; i < n; i++) {
		const struct fwd_rx_sub *e = &rs->e[i];
		struct alloc_sub *a = &subs[i];
		unsigned n_enc = e->n_enc ? e->n_enc : 1;
		if (n_enc > MEDIA_MAX_ENCODINGS)
			n_enc = MEDIA_MAX_ENCODINGS;
		memset(bps, 0, sizeof(bps));
		for (unsigned k = 0; k < n_enc; k++)
			if (e->rate[k])
				layer_rate_get_mean(e->rate[k], w->now_us, bps[k]);   /* keyframes averaged */
		a->key = e->sel_id;
		a->prio = e->priority == MMR_PRIO_PINNED || e->screen ? ALLOC_PRIO_PINNED :
			  e->publisher == speaker && speaker != MMR_ID_NONE ? ALLOC_PRIO_SPEAKER : ALLOC_PRIO_NORMAL;
		a->codec = e->codec;
		a->ceiling = layer_sel_target(&w->sel[e->sel_id]);
		/* simulcast: the encodings within the ceiling only (the ladder drops an option that
		 * costs more than a higher encoding's: measured above the ceiling, that would leave
		 * nothing within it, and the sub paused) */
		if (n_enc > 1u && a->ceiling.encoding + 1u < n_enc)
			n_enc = a->ceiling.encoding + 1u;
		alloc_ladder_build(a, e->codec, e->spatial, e->temporal, n_enc,
				   (const uint32_t (*)[MEDIA_MAX_SPATIAL][MEDIA_MAX_TEMPORAL])bps);
	}
	struct alloc_result res;
	if (lowest) {
		/* the lowest option of each, as the first pass of an allocation would give it */
		memset(&res, 0, sizeof(res));
		res.ran = 1;
		for (unsigned i = 0; i < n; i++) {
			struct alloc_sub *a = &subs[i];
			a->alloc = LAYER_ALLOC_NONE;
			for (unsigned k = 0; k < a->n_opt; k++) {
				struct layer_target t = a->opt[k].t;
				if (t.sid <= a->ceiling.sid && t.tid <= a->ceiling.tid &&
				    t.encoding <= a->ceiling.encoding) {
					a->alloc = layer_alloc_word(&t);
					res.total_bps += a->opt[k].bps;
					break;
				}
			}
			a->changed = a->alloc != layer_sel_alloc(&w->sel[a->key]);
			res.changes += a->changed;
		}
	} else {
		/* -1: a bad ladder (that sub paused, the rest allocated) */
		uint64_t dec = gcc_last_decrease_us(&b->gcc);
		if (dec && w->now_us - dec < BWE_CONGESTION_US)
			flags |= ALLOC_CONGESTION;   /* only then does a down-switch hold the layers down */
		(void)alloc_run(&b->alloc, subs, n, budget, w->now_us, flags, &res);
	}
	b->alloc_bps = budget;
	b->alloc_subs = rs;
	b->next_alloc_us = w->now_us + w->bwe_alloc_us;
	b->alloc_now = 0;
	if (!res.ran)
		return;
	for (unsigned i = 0; i < n; i++)
		if (subs[i].changed)
			layer_sel_alloc_set(&w->sel[subs[i].key], subs[i].alloc);
	ps->alloc_runs++;
	ps->alloc_changes += res.changes;
	ps->alloc_bps = res.total_bps;
	ps->paused = res.paused;
	w->st->alloc_runs++;
	/* nothing can step up (every sub at its ceiling, or held after congestion): nothing to probe
	 * for; else the estimate must reach what every ceiling would use, over the raise margin */
	b->want_bps = res.want_bps > res.total_bps ? (uint64_t)((double)res.max_bps / ALLOC_RAISE_MARGIN) : 0;
}

/* After usable feedback: the estimate published, the allocation when due, the initial probes. */
static void feedback_done(struct worker *w, const struct fwd_participant *part, struct part_bwe *b)
{
	publish_estimate(w, b);
	/* the allocation's budget: the estimate, but not beyond what the path was seen to carry: 1.5 x
	 * the acknowledged rate (GCC's own growth cap) or a probe's result. An estimate that grew by
	 * AIMD while we sent far less (app-limited) is unproven; allocating it at once (S2T1 -> S2T2:
	 * +90 %) congests the path. A larger step waits for a probe that carried it (mediasoup's
	 * probation does the same). The cap limits raising only: what is allocated now stays within
	 * the budget while the estimate covers it (an acknowledged rate low after a loss burst must
	 * not take layers away). */
	uint64_t bps = gcc_proven_bps(&b->gcc), est = gcc_target_bps(&b->gcc);
	uint64_t now_alloc = w->part_stats[part->id].alloc_bps;
	if (now_alloc > est)
		now_alloc = est;
	if (bps < now_alloc)
		bps = now_alloc;
	const struct fwd_rx_subs *rs = rcu_dereference(part->rx_subs);
	if (alloc_due(w, b, bps, rs))
		run_alloc(w, part, b, rs, bps, (const void *)rs != b->alloc_subs ? ALLOC_FORCE : 0, 0);
	/* the initial probes, then a probe toward what the allocation would use at every ceiling when
	 * that is beyond the estimate (the estimator says whether one is due: it doubles at most per
	 * cluster, so a receiver back from a low estimate gets there in a few round trips) */
	probe_maybe(w, b, b->want_bps);
}

/* Any RTCP from a receiver with an estimate that has sent no feedback yet: with bwe_no_feedback =
 * "lowest", its lowest layers (once, and again when its subscriptions change). */
void bwe_on_rtcp(struct worker *w, const struct fwd_participant *part)
{
	struct part_bwe *b = part->bwe;
	if (b->have_fb || !w->bwe_lowest)
		return;
	const struct fwd_rx_subs *rs = rcu_dereference(part->rx_subs);
	if (b->alloc_now || (const void *)rs != b->alloc_subs)
		run_alloc(w, part, b, rs, 0, ALLOC_FORCE, 1);
}

void bwe_on_twcc(struct worker *w, const struct fwd_participant *part, const struct rtcp_item *it)
{
	struct part_bwe *b = part->bwe;
	struct mmr_participant_stats *ps = &w->part_stats[part->id];
	if (!b)
		return;
	struct twcc_fb fb;
	struct twcc_status st[BWE_TWCC_MAX_STATUS];
	int n = twcc_fb_parse(it->u.twcc.fci, it->u.twcc.len, &fb, st, BWE_TWCC_MAX_STATUS);
	if (n < 0) {
		ps->bwe_bad_fb++;
		return;
	}
	unsigned refused = gcc_on_twcc(&b->gcc, w->now_us, &fb, st, (unsigned)n, &b->log);
	if (refused)
		ps->bwe_bad_fb++;
	if (refused >= (unsigned)n)
		return;        /* nothing it said was about what we sent */
	ps->twcc_fb_in++;
	w->st->bwe_feedback++;
	b->have_fb = 1;
	feedback_done(w, part, b);
}

void bwe_on_remb(struct worker *w, const struct fwd_participant *part, const struct rtcp_item *it)
{
	struct part_bwe *b = part->bwe;
	struct mmr_participant_stats *ps = &w->part_stats[part->id];
	if (!b)
		return;
	uint64_t bps = it->u.remb.bitrate_bps;
	ps->remb_bps = bps;
	if (bps == 0 || !(part->fb & MMR_FB_REMB)) {
		ps->bwe_bad_fb++;
		return;
	}
	if (bps > (uint64_t)w->dp->cfg->bwe_max_kbps * 1000u)
		ps->bwe_bad_fb++;          /* absurd: taken as bwe_max_kbps */
	gcc_on_remb(&b->gcc, w->now_us, bps, &b->log);
	w->st->bwe_feedback++;
	b->have_fb = 1;
	feedback_done(w, part, b);
}

void bwe_on_bad_rtcp(struct worker *w, const struct fwd_participant *part, const uint8_t *pkt, uint32_t len)
{
	/* the packet headers as far as their lengths lead: one that says TWCC or REMB */
	for (uint32_t off = 0; off + 4 <= len;) {
		uint8_t fmt = pkt[off] & 0x1f, pt = pkt[off + 1];
		if ((pt == RTCP_PT_RTPFB && fmt == RTCP_FMT_TWCC) || (pt == RTCP_PT_PSFB && fmt == RTCP_FMT_AFB)) {
			w->part_stats[part->id].bwe_bad_fb++;
			return;
		}
		off += 4u * ((uint32_t)get_be16(pkt + off + 2) + 1u);
	}
}

void bwe_on_rtt(struct worker *w, const struct fwd_participant *part, uint32_t rtt_us)
{
	(void)w;
	if (part->bwe)
		gcc_on_rtt(&part->bwe->gcc, rtt_us);
}
