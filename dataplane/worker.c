/*
 * worker.c - the poll loop of a worker lcore and the per-packet dispatch.
 *
 * Every iteration: a burst of up to 32 packets from our queue of each port; each packet is parsed
 * (pkt_parse), its destination MAC and VLAN checked against its port (pkt_l2_check), a UDP datagram
 * has its checksum checked just before it is used (STUN/DTLS at dispatch, media and RTCP once its
 * sender is known, on its meeting's owner: the NIC's verdict, or in software: rx_udp_csum), and it
 * is either answered in place (ARP, ICMP echo, IPv6 neighbour solicitation; see
 * local_reply.c; STUN checks, ice.h), handed to the DTLS thread (first byte 20..63, dtls_path.h)
 * or to the control thread's neighbour table (ARP replies, gratuitous ARP, advertisements; neigh.h),
 * forwarded to the receivers of its stream (fanout.c), or dropped with its reason
 * counted. Then the TX buffers are flushed and we report an RCU quiescent state: no table pointer
 * survives an iteration.
 *
 * Video: the codec's payload descriptor (VP8, VP9, H.264) or the AV1 Dependency Descriptor header
 * extension is parsed into a codec-neutral struct media_pkt (lib/codec/media.h), which is all the
 * per-receiver layer selection in fanout.c reads. Audio skips this.
 *
 * SRTP meetings (the sender's participant node says so): RTP is authenticated and decrypted in place
 * with the stream's inbound context (its SEND key; during a rekey the new key first, then the old),
 * before anything past the RTP header is read, and each receiver's copy is encrypted under its own
 * RECV key (fanout_srtp). RTCP is authenticated, counted and dropped. Plain meetings take the path
 * they always took.
 *
 * Ownership by meeting (owner.h): every meeting is owned by one worker, which alone touches its
 * per-packet state. Right after the participant lookup (before any of that state, SRTP included) a
 * packet whose meeting another worker owns is handed to it (handoff.h: per-destination bursts into
 * SPSC rings, flushed once per iteration); every iteration we drain the rings toward us and process
 * their packets exactly like our own. While a meeting moves to us we hold its packets until the
 * control thread says it is ours (a request, checked once per iteration; meeting_owner.c).
 *
 * No locks, syscalls, allocations or logging here; the only shared writes are our own counters
 * slot, the counters of the streams of the meetings we own, their subscriptions' layer_sel entries
 * and current layers (layers_now[], and an event on our own ring when they change: dp_events.h),
 * and the SRTP contexts of those meetings' participants, which publish their positions (for
 * `mmrctl stats`) into the segment themselves (lib/srtp/srtp_fast.c; twice per 65536 packets).
 */
#define _LGPL_SOURCE
#include "worker.h"

#include <string.h>
#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_memcpy.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "audio.h"
#include "bwe.h"
#include "csum.h"
#include "dtls_path.h"
#include "fanout.h"
#include "fwd_table.h"
#include "handoff.h"
#include "ice.h"
#include "learn.h"
#include "local_reply.h"
#include "media.h"
#include "media_parse.h"
#include "neigh.h"
#include "owner.h"
#include "pkt.h"
#include "police.h"
#include "repair.h"
#include "rtp.h"
#include "rtcp_in.h"
#include "rtcp_report.h"
#include "srtp_fast.h"
#include "srtp_in.h"
#include "srtp_lease.h"
#include "uplink.h"
#include "be_bytes.h"

#define PREFETCH_AHEAD 3
/* handle_media's "not dropped, not to be freed: handed to another lcore, held, or kept for resends" */
#define WORKER_TAKEN ((enum mmr_drop_reason)MMR_DROP__COUNT)

/* The packet clocks of an iteration that has packets: RTP (simulcast rebasing) and, with bandwidth
 * estimation on, microseconds (send times). */
static inline void worker_clock(struct worker *w, uint64_t tsc)
{
	w->now_rtp = (uint32_t)(tsc / w->tsc_per_rtp_tick);
	if (w->tsc_per_us)
		w->now_us = tsc / w->tsc_per_us;
}

/* TX buffer error callback: the NIC did not take these. */
static void tx_unsent(struct rte_mbuf **unsent, uint16_t count, void *userdata)
{
	struct worker *w = userdata;
	uint64_t bytes = 0;
	for (uint16_t i = 0; i < count; i++) {
		bytes += unsent[i]->pkt_len;
		rte_pktmbuf_free(unsent[i]);
	}
	w->st->tx_pkts -= count;
	w->st->tx_bytes -= bytes;
	w->st->drops[MMR_DROP_TX_FULL] += count;
}

/* What the worker caches of the config's run-time settings (again after each SIGHUP that changed
 * them: dp_config_reload stores each setting in one word, so a relaxed load sees old or new). */
static void worker_read_tunables(struct worker *w)
{
	const struct dp_config *c = w->dp->cfg;
	w->tunables_gen = atomic_load_explicit(&w->dp->req[w->idx].tunables_gen, memory_order_acquire);
	w->bwe_probe = __atomic_load_n(&c->bwe_probe, __ATOMIC_RELAXED);
	w->bwe_lowest = __atomic_load_n(&c->bwe_no_feedback_lowest, __ATOMIC_RELAXED);
	w->bwe_alloc_us = (uint64_t)__atomic_load_n(&c->bwe_alloc_ms, __ATOMIC_RELAXED) * 1000u;
	w->rr_tsc = w->tsc_hz / 1000 * __atomic_load_n(&c->rr_ms, __ATOMIC_RELAXED);
	w->sr_video_tsc = w->tsc_hz / 1000 * __atomic_load_n(&c->sr_video_ms, __ATOMIC_RELAXED);
	w->sr_audio_tsc = w->tsc_hz / 1000 * __atomic_load_n(&c->sr_audio_ms, __ATOMIC_RELAXED);
	w->nack_max_tries = __atomic_load_n(&c->nack_max_tries, __ATOMIC_RELAXED);
}

int worker_init(struct worker *w, struct dataplane *dp, unsigned idx)
{
	unsigned lcore = dp->worker_lcore[idx];
	unsigned socket = rte_lcore_to_socket_id(lcore);
	if (socket >= RTE_MAX_NUMA_NODES)
		socket = 0;

	memset(w, 0, sizeof(*w));
	w->dp = dp;
	w->idx = idx;
	w->queue = (uint16_t)idx;
	w->udp_port_be = rte_cpu_to_be_16(dp->udp_port);
	w->st = &dp->shm->stats.lcore[idx];
	w->stream_stats = dp->shm->stats.stream;
	w->sel = dp->sel;
	w->layers_now = dp->layers_now;
	ev_producer_init(&w->ev, &dp->shm->events[idx]);
	w->tsc_per_rtp_tick = rte_get_tsc_hz() / 90000 ? rte_get_tsc_hz() / 90000 : 1;
	if (dp->cfg->bwe && dp->cfg->rtcp) {
		w->tsc_per_us = rte_get_tsc_hz() / 1000000 ? rte_get_tsc_hz() / 1000000 : 1;
		w->now_us = rte_rdtsc() / w->tsc_per_us;
	}
	w->pools = &dp->pools[socket];
	w->rekey_grace_tsc = rte_get_tsc_hz() / 1000 * DP_REKEY_GRACE_MS;
	w->slow_iter_tsc = rte_get_tsc_hz() / 1000;
	w->owner = dp->owner;
	w->block = dp->block;
	/* RTCP (rtcp_report.h): intervals in TSC cycles */
	w->rtcp_on = dp->cfg->rtcp;
	w->verify_udp_csum = dp->cfg->verify_udp_checksum;
	w->ntp = &dp->ntp;
	w->rtcp = &dp->rtcp;
	w->part_stats = dp->shm->stats.participant;
	w->tsc_hz = rte_get_tsc_hz();
	w->tsc_per_ms = w->tsc_hz / 1000u ? w->tsc_hz / 1000u : 1u;
	worker_read_tunables(w);
	for (unsigned j = 0; j < dp->n_workers; j++) {
		if (dp->handoff[j][idx])
			w->ho_in[w->n_ho_in++] = dp->handoff[j][idx];
		w->ho_ring[j] = dp->handoff[idx][j];
	}
	w->hold = rte_zmalloc_socket("mmr_hold", WORKER_HOLD_MAX * sizeof(*w->hold), 0, (int)socket);
	if (!w->hold) {
		DP_ERR(DP_LT_WORKER, "worker %u: cannot allocate its hold queue", idx);
		return -1;
	}
	for (unsigned p = 0; p < dp->n_ports; p++) {
		w->txb[p] = rte_zmalloc_socket("mmr_txb", RTE_ETH_TX_BUFFER_SIZE(WORKER_BURST), 0, (int)socket);
		if (!w->txb[p]) {
			DP_ERR(DP_LT_WORKER, "worker %u: cannot allocate its TX buffer", idx);
			worker_fini(w);
			return -1;
		}
		rte_eth_tx_buffer_init(w->txb[p], WORKER_BURST);
		rte_eth_tx_buffer_set_err_callback(w->txb[p], tx_unsent, w);
	}
	return 0;
}

void worker_fini(struct worker *w)
{
	for (unsigned j = 0; j < MMR_MAX_LCORES; j++) {
		rte_pktmbuf_free_bulk(w->ho_out[j].m, w->ho_out[j].n);
		w->ho_out[j].n = 0;
	}
	if (w->hold)
		rte_pktmbuf_free_bulk(w->hold, w->hold_n);
	w->hold_n = 0;
	rte_free(w->hold);
	w->hold = NULL;
	for (unsigned p = 0; p < MMR_MAX_PORTS; p++) {
		rte_free(w->txb[p]);
		w->txb[p] = NULL;
	}
}

/* ---- SRTP ---------------------------------------------------------------------------------- */

/* SRTCP from an SRTP participant while the dataplane's `rtcp` is off: authenticated (the stream's
 * contexts when its sender SSRC is one of the participant's streams, else the participant's RTCP
 * contexts), counted, dropped (rtcp_in.c terminates it otherwise). */
static enum mmr_drop_reason handle_srtcp(struct worker *w, struct rte_mbuf *m, const struct pkt_info *pi,
					 const struct fwd_participant *part)
{
	uint8_t *pkt = rte_pktmbuf_mtod_offset(m, uint8_t *, pi->payload_off);
	uint32_t len = pi->payload_len;
	if (len < 8)
		return MMR_DROP_SRTP_AUTH;
	const struct fwd_stream *s = fwd_stream_lookup(&w->dp->fwd, part->id, get_be32(pkt + 4));
	struct fwd_srtp_in *in = s ? rcu_dereference(s->srtp_in) : rcu_dereference(part->rtcp_in);
	if (unlikely(!in))
		return MMR_DROP_SRTP_AUTH;
	enum mmr_drop_reason why = srtp_in_open(w, in, pkt, &len, 1);
	return why != MMR_DROP_NONE ? why : MMR_DROP_RTCP;   /* not terminated: rtcp off */
}

/* An AV1 packet of stream s without a usable Dependency Descriptor structure: the MMR missed the
 * keyframe that carried it (the stream learned late, a restart, loss), and nothing of the stream
 * can be forwarded until the next one. Counted in its reception (its RR) and a keyframe asked for
 * (kf_req throttles and repeats it until one comes); the drop itself is the caller's. */
static __attribute__((cold, noinline)) void media_without_structure(struct worker *w, const struct fwd_participant *part,
								    const struct fwd_stream *s, const struct rte_mbuf *m,
								    const struct pkt_info *pi, const struct rtp_info *ri)
{
	rtcp_kf_ask(w, s);
	rtcp_on_rtp(w, part, s, rte_pktmbuf_mtod(m, const uint8_t *), pi, w->dp->pidx_of[m->port], ri, NULL);
}

/* ---- meeting controls (issue 15) ------------------------------------------------------------ */

/* What the sender's block byte (MMR_BLOCK_*, not 0) says of a packet of stream s: MMR_DROP_NONE
 * (forward it), not_admitted (waiting room), muted (its kind), share_denied (a screen share the
 * meeting's policy does not allow it). An RTX node is a copy of its media node: same kind. */
static __attribute__((cold, noinline)) enum mmr_drop_reason blocked_media(uint8_t blk, const struct fwd_stream *s)
{
	if (blk & MMR_BLOCK_WAITING)
		return MMR_DROP_NOT_ADMITTED;
	if (s->kind == MMR_KIND_AUDIO)
		return blk & MMR_BLOCK_AUDIO ? MMR_DROP_MUTED : MMR_DROP_NONE;
	if (!s->screen)
		return blk & MMR_BLOCK_VIDEO ? MMR_DROP_MUTED : MMR_DROP_NONE;
	if (blk & MMR_BLOCK_SCREEN)
		return MMR_DROP_MUTED;
	return blk & MMR_BLOCK_SHARE ? MMR_DROP_SHARE_DENIED : MMR_DROP_NONE;
}

/* SRTP from an SRTP participant: the header (in clear) finds the stream; the packet is opened in
 * place, and only then parsed past the header (padding, codec descriptor) and fanned out. */
static enum mmr_drop_reason handle_srtp(struct worker *w, struct rte_mbuf *m, const struct pkt_info *pi,
					const struct fwd_participant *part, uint8_t blk)
{
	uint8_t *pkt = rte_pktmbuf_mtod_offset(m, uint8_t *, pi->payload_off);
	uint32_t len = pi->payload_len;
	struct rtp_info ri;
	struct media_pkt mp;
	int layered;
	enum mmr_drop_reason why;

	/* the header's structure is checked by the open, its padding only after it */
	if (len < 12)
		return MMR_DROP_TRUNCATED;
	if ((pkt[0] >> 6) != 2)
		return MMR_DROP_BAD_RTP;
	const struct fwd_stream *s = fwd_stream_lookup(&w->dp->fwd, part->id, get_be32(pkt + 8));
	if (unlikely(!s))
		return dp_learn_unknown_ssrc(w, part, pkt, len);    /* mid/rid in clear (learn.h) */
	if (unlikely(police_drop(w, part, police_kind_of(s), len)))
		return MMR_DROP_POLICED;                 /* before the decrypt (police.h) */
	rtcp_prefetch_stream(w, s);
	struct fwd_srtp_in *in = rcu_dereference(s->srtp_in);
	if (unlikely(!in))
		return MMR_DROP_SRTP_AUTH;
	why = srtp_in_open(w, in, pkt, &len, 0);
	if (unlikely(why != MMR_DROP_NONE))
		return why;
	/* a blocked sender's packets are opened first: its context's rollover counter and replay window
	 * follow its stream through a long mute (or wait) */
	if (unlikely(blk) && (why = blocked_media(blk, s)) != MMR_DROP_NONE)
		return why;
	why = rtp_parse(pkt, len, &ri);
	if (unlikely(why != MMR_DROP_NONE))
		return why;
	uplink_on_rtp(w, part, pkt, &ri, len, bwe_find(w, part, pkt, &ri));
	struct pkt_info pi_rtx;
	if (unlikely(s->is_rtx)) {
		/* the publisher's retransmission: from here on, the media packet it carries */
		why = repair_rtx_unwrap(w, s, &pkt, &len, &ri, &s);
		if (unlikely(why != MMR_DROP_NONE))
			return why;
		pi_rtx = *pi;
		pi_rtx.payload_off += 2;
		pi_rtx.payload_len -= 2;
		pi = &pi_rtx;
	}
	dp_learn_blank_ids(part, pkt, &ri);

	struct mmr_stream_stats *ss = &w->stream_stats[s->id];
	w->st->rtp_pkts++;
	ss->rx_pkts++;
	ss->rx_bytes += pi->payload_len;
	ss->last_seq = ri.seq;
	why = parse_media(s, pkt, &ri, &mp, &layered);
	if (unlikely(why != MMR_DROP_NONE)) {
		if (why == MMR_DROP_NO_STRUCTURE)
			media_without_structure(w, part, s, m, pi, &ri);
		return why;
	}
	if (layered)
		ss->last_tid = mp.tid;
	if (w->tsc_per_us)
		bwe_on_packet(w, s, layered ? &mp : NULL, pi);
	struct stream_repair *rp = s->repair;
	w->in_ext_seq = rp ? repair_ext_seq(rp, ri.seq) : 0;
	w->in_encoding = s->encoding;
	rtcp_on_rtp(w, part, s, rte_pktmbuf_mtod(m, const uint8_t *), pi, w->dp->pidx_of[m->port], &ri,
		    layered ? &mp : NULL);
	const struct fwd_meeting *topn = audio_on_rtp(w, part, s, pkt, &ri);
	if (unlikely(topn != NULL))
		audio_topn_fanout(w, m, pi, len, &ri, s, topn, 1);
	else
		fanout_srtp(w, m, pi, len, &ri, layered ? &mp : NULL, s);
	if (rp && repair_on_rtp(w, part, s, m, pi, len, w->in_ext_seq, &ri))
		return WORKER_TAKEN;    /* kept for resends: the ring holds our reference */
	return MMR_DROP_NONE;
}

/* ---- plain RTP and dispatch ------------------------------------------------------------------ */

int worker_vlan_tag(struct rte_mbuf *m, uint16_t tci_be)
{
	uint8_t *old = rte_pktmbuf_mtod(m, uint8_t *);
	if (m->data_len >= 14 && old[12] == 0x81 && old[13] == 0x00)
		return 0;
	if (!RTE_MBUF_DIRECT(m) || rte_mbuf_refcnt_read(m) > 1 || m->data_len < 14)
		return -1;
	uint8_t *p = (uint8_t *)rte_pktmbuf_prepend(m, 4);
	if (!p)
		return -1;
	memmove(p, old, 12);
	p[12] = 0x81;
	p[13] = 0x00;
	memcpy(p + 14, &tci_be, 2);
	return 0;
}

/* The UDP checksum of a datagram we are going to use: the NIC's verdict where it gives one (GOOD, or
 * NONE: the field is wrong but the data verified), else summed here (csum.h: about 40 ns per 1200
 * bytes). */
static inline enum mmr_drop_reason rx_udp_csum(const struct rte_mbuf *m, const struct pkt_info *pi)
{
	switch (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) {
	case RTE_MBUF_F_RX_L4_CKSUM_GOOD:
	case RTE_MBUF_F_RX_L4_CKSUM_NONE:
		return MMR_DROP_NONE;
	case RTE_MBUF_F_RX_L4_CKSUM_BAD:
		return MMR_DROP_UDP_CHECKSUM;
	default:
		break;
	}
	const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
	return pkt_udp_csum_verdict(frame, pi, csum_be16_bulk(frame + pi->l4_off, (uint32_t)pi->payload_len + 8u));
}

/* A packet of a meeting whose owner word is not our index: 1 if it was handed to another lcore or
 * held (m is taken), 0 to process it here (owner.h). */
static __rte_noinline int route_to_owner(struct worker *w, struct rte_mbuf *m, uint8_t word, int from_ring)
{
	unsigned to;
	switch (owner_route(word, w->idx, from_ring, &to)) {
	case OWNER_PROCESS:
		return 0;
	case OWNER_HOLD:
		handoff_hold(w, m);
		return 1;
	case OWNER_HAND_OFF:
		if (unlikely(to >= w->dp->n_workers || !w->ho_ring[to]))
			return 0;
		handoff_put(w, to, m);
		return 1;
	}
	return 0;
}

/* RTP (or RTCP) arriving at our address and port; from_ring: handed to us by another lcore. */
static inline enum mmr_drop_reason handle_media(struct worker *w, struct rte_mbuf *m,
						const struct pkt_info *pi, int from_ring)
{
	const uint8_t *payload = rte_pktmbuf_mtod_offset(m, const uint8_t *, pi->payload_off);
	struct rtp_info ri;
	struct media_pkt mp;
	int layered;
	enum mmr_drop_reason why;

	int rtcp = rtp_is_rtcp(payload, pi->payload_len);
	const struct fwd_participant *part = fwd_participant_lookup(&w->dp->fwd, &pi->src, pi->sport);
	uint8_t blk = 0;
	if (likely(part != NULL)) {
		/* the meeting's owner alone touches its state: the one load and compare of the plain path */
		uint8_t owner = __atomic_load_n(&w->owner[part->meeting], __ATOMIC_RELAXED);
		if (unlikely(owner != w->idx) && route_to_owner(w, m, owner, from_ring))
			return WORKER_TAKEN;
		/* a participant's datagram, about to be used: its checksum, once, on the meeting's owner
		 * (a stranger's is dropped below without being summed) */
		if (likely(w->verify_udp_csum)) {
			why = rx_udp_csum(m, pi);
			if (unlikely(why != MMR_DROP_NONE))
				return why;
		}
		/* meeting controls: the sender's block byte (one load); a waiting participant's RTCP and
		 * plain RTP go no further (its SRTP is opened first: handle_srtp) */
		blk = __atomic_load_n(&w->block[part->id], __ATOMIC_RELAXED);
		if (unlikely(blk & MMR_BLOCK_WAITING) && (rtcp || !part->srtp))
			return MMR_DROP_NOT_ADMITTED;
	}
	if (unlikely(rtcp)) {
		if (part && unlikely(police_drop(w, part, POLICE_RTCP, pi->payload_len)))
			return MMR_DROP_POLICED;
		/* RTCP: terminated here (rtcp_in.c), or with `rtcp = false` counted and dropped as before */
		if (unlikely(!w->rtcp_on))
			return part && part->srtp ? handle_srtcp(w, m, pi, part) : MMR_DROP_RTCP;
		if (unlikely(!part))
			return MMR_DROP_UNKNOWN_SENDER;
		return rtcp_in(w, m, pi, part);
	}
	if (unlikely(part && part->srtp))
		return handle_srtp(w, m, pi, part, blk);
	why = rtp_parse(payload, pi->payload_len, &ri);
	if (unlikely(why != MMR_DROP_NONE))
		return why;
	if (unlikely(!part))
		return MMR_DROP_UNKNOWN_SENDER;
	const struct fwd_stream *s = fwd_stream_lookup(&w->dp->fwd, part->id, ri.ssrc);
	if (unlikely(!s))
		return dp_learn_unknown_ssrc(w, part, payload, pi->payload_len);
	if (unlikely(blk) && (why = blocked_media(blk, s)) != MMR_DROP_NONE)
		return why;
	if (unlikely(police_drop(w, part, police_kind_of(s), pi->payload_len)))
		return MMR_DROP_POLICED;                 /* before any per-stream work (police.h) */
	uplink_on_rtp(w, part, payload, &ri, pi->payload_len, bwe_find(w, part, payload, &ri));
	struct pkt_info pi_rtx;
	if (unlikely(s->is_rtx)) {
		/* the publisher's retransmission: from here on, the media packet it carries */
		uint8_t *rtp = rte_pktmbuf_mtod_offset(m, uint8_t *, pi->payload_off);
		uint32_t len = pi->payload_len;
		why = repair_rtx_unwrap(w, s, &rtp, &len, &ri, &s);
		if (unlikely(why != MMR_DROP_NONE))
			return why;
		pi_rtx = *pi;
		pi_rtx.payload_off += 2;
		pi_rtx.payload_len = len;
		pi = &pi_rtx;
		payload = rtp;
	}
	rtcp_prefetch_stream(w, s);
	dp_learn_blank_ids(part, (uint8_t *)(uintptr_t)payload, &ri);

	struct mmr_stream_stats *ss = &w->stream_stats[s->id];
	w->st->rtp_pkts++;
	ss->rx_pkts++;
	ss->rx_bytes += pi->payload_len;
	ss->last_seq = ri.seq;
	why = parse_media(s, payload, &ri, &mp, &layered);
	if (unlikely(why != MMR_DROP_NONE)) {
		if (why == MMR_DROP_NO_STRUCTURE)
			media_without_structure(w, part, s, m, pi, &ri);
		return why;
	}
	if (layered)
		ss->last_tid = mp.tid;
	if (w->tsc_per_us)
		bwe_on_packet(w, s, layered ? &mp : NULL, pi);
	struct stream_repair *rp = s->repair;
	w->in_ext_seq = rp ? repair_ext_seq(rp, ri.seq) : 0;
	w->in_encoding = s->encoding;
	rtcp_on_rtp(w, part, s, rte_pktmbuf_mtod(m, const uint8_t *), pi, w->dp->pidx_of[m->port], &ri,
		    layered ? &mp : NULL);
	const struct fwd_meeting *topn = audio_on_rtp(w, part, s, payload, &ri);
	if (unlikely(topn != NULL))
		audio_topn_fanout(w, m, pi, pi->payload_len, &ri, s, topn, 0);
	else
		fanout_rtp(w, m, pi, &ri, layered ? &mp : NULL, s);
	if (rp && repair_on_rtp(w, part, s, m, pi, pi->payload_len, w->in_ext_seq, &ri))
		return WORKER_TAKEN;    /* kept for resends: the ring holds our reference */
	return MMR_DROP_NONE;
}

/* One received packet on port index pidx (from_ring: handed to us by another lcore, or held while its
 * meeting moved to us). Consumes m. */
static inline void handle_packet(struct worker *w, uint16_t pidx, struct rte_mbuf *m, int from_ring)
{
	const struct dp_port *pt = &w->dp->port[pidx];
	struct pkt_info pi;
	enum mmr_drop_reason why;
	uint64_t *replies;

	if (unlikely(m->nb_segs > 1) && rte_pktmbuf_linearize(m) != 0) {
		why = MMR_DROP_TRUNCATED;
		goto drop;
	}
	why = pkt_parse(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, &pi);
	if (unlikely(why != MMR_DROP_NONE))
		goto drop;
	/* from a ring: checked by the lcore that received it */
	if (!from_ring) {
		why = pkt_l2_check(rte_pktmbuf_mtod(m, const uint8_t *), &pi, &pt->l2,
				   (m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) != 0, m->vlan_tci);
		if (unlikely(why != MMR_DROP_NONE))
			goto drop;
	}

	switch (pi.kind) {
	case PKT_UDP:
		if (unlikely(!dp_port_owns(pt, &pi.dst) ||
			     (w->dp->udp_port && pi.dport != w->dp->udp_port))) {
			why = MMR_DROP_NOT_FOR_US;
			goto drop;
		}
		if (unlikely(pi.payload_len && *rte_pktmbuf_mtod_offset(m, const uint8_t *, pi.payload_off) < 64)) {
			uint8_t b0 = *rte_pktmbuf_mtod_offset(m, const uint8_t *, pi.payload_off);
			/* STUN and DTLS come from new addresses too: checked before they are used (the
			 * rest, 4..19, as media) */
			if ((b0 < 4 || b0 >= 20) && likely(w->verify_udp_csum)) {
				why = rx_udp_csum(m, &pi);
				if (unlikely(why != MMR_DROP_NONE))
					goto drop;
			}
			if (b0 < 4) {
				/* RFC 7983: STUN (ice.h), answered here whoever owns the meeting */
				why = dp_ice_stun(w, m, &pi);
				if (why != MMR_DROP_NONE)
					goto drop;
				worker_send(w, pidx, m);
				return;
			}
			if (b0 >= 20) {
				/* RFC 7983: DTLS, to the DTLS thread (dtls_path.h) */
				why = dp_dtls_in(w, m, &pi);
				if (why != MMR_DROP_NONE)
					goto drop;
				return;
			}
		}
		why = handle_media(w, m, &pi, from_ring);
		if (why != MMR_DROP_NONE) {
			if (why == WORKER_TAKEN)
				return;
			goto drop;
		}
		rte_pktmbuf_free(m);
		return;
	case PKT_ARP:
		if (pi.arp_op == 2 || mmr_addr_eq(&pi.arp_spa, &pi.arp_tpa)) {
			/* a reply or a gratuitous ARP: for the neighbour table (neigh.h) */
			why = dp_neigh_in(w, m, &pi);
			if (why != MMR_DROP_NONE)
				goto drop;
			return;
		}
		why = local_reply_arp(pt, m, &pi);
		replies = &w->st->arp_replies;
		break;
	case PKT_ICMP_ECHO:
		why = local_reply_echo(pt, m, &pi);
		replies = &w->st->icmp_replies;
		break;
	case PKT_ICMP6_NS:
		why = local_reply_ns(pt, m, &pi);
		replies = &w->st->icmp_replies;
		break;
	case PKT_ICMP6_NA:
		why = dp_neigh_in(w, m, &pi);      /* for the neighbour table (neigh.h) */
		if (why != MMR_DROP_NONE)
			goto drop;
		return;
	default:
		why = MMR_DROP_NOT_UDP;
		goto drop;
	}
	/* a local reply: the frame was rewritten in place */
	if (why != MMR_DROP_NONE)
		goto drop;
	(*replies)++;
	worker_send(w, pidx, m);
	return;
drop:
	w->st->drops[why < MMR_DROP__COUNT ? why : MMR_DROP_BAD_L2]++;
	rte_pktmbuf_free(m);
}

/* Packets handed to us (or held for us): processed like our own, from their port. */
static void handle_ring_pkts(struct worker *w, struct rte_mbuf **pkts, unsigned n)
{
	for (unsigned i = 0; i < n && i < PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (unsigned i = 0; i < n; i++) {
		if (i + PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD], void *));
		handle_packet(w, w->dp->pidx_of[pkts[i]->port], pkts[i], 1);
	}
}

/* One burst of at most max packets from ring r toward us, processed; how many. got: packets this
 * iteration so far (none: the RTP clock is read first). */
static inline unsigned drain_ring(struct worker *w, unsigned r, unsigned max, unsigned got)
{
	struct rte_mbuf *pkts[WORKER_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(w->ho_in[r], (void **)pkts,
					       max < WORKER_BURST ? max : WORKER_BURST, NULL);
	if (n == 0)
		return 0;
	if (!got)
		worker_clock(w, w->now_tsc);
	w->st->handoff_in += n;
	handle_ring_pkts(w, pkts, n);
	return n;
}

/* One burst from each ring toward us; how many packets. got: packets this iteration so far. */
static inline unsigned drain_rings(struct worker *w, unsigned got)
{
	unsigned before = got;
	for (unsigned r = 0; r < w->n_ho_in; r++)
		got += drain_ring(w, r, WORKER_BURST, got);
	return got - before;
}

/* What our TX buffers hold, out on every port. */
static inline void worker_flush_tx(struct worker *w)
{
	const struct dataplane *dp = w->dp;
	for (uint16_t p = 0; p < dp->n_ports; p++)
		rte_eth_tx_buffer_flush(dp->port[p].port_id, w->queue, w->txb[p]);
}

/*
 * A request of the control thread during a meeting move (dataplane.h, meeting_owner.c), at the start
 * of an iteration:
 *   DRAIN: process everything the rings toward us hold now (what other lcores handed us while we
 *          owned the meeting: FIFO, so the entries counted now are exactly those), flush;
 *   TAKE:  the meeting is ours: set its owner word (before any new packet of it is looked at), then
 *          process its held packets in the order they came, flush.
 * Then acknowledge.
 */
static __rte_noinline void handle_request(struct worker *w)
{
	struct dataplane *dp = w->dp;
	struct dp_worker_req *rq = &dp->req[w->idx];
	uint32_t seq = atomic_load_explicit(&rq->seq, memory_order_acquire);

	worker_clock(w, w->now_tsc);
	if (rq->kind == DP_REQ_DRAIN) {
		/* exactly the entries there now (got = 1: the RTP clock was read above) */
		for (unsigned r = 0; r < w->n_ho_in; r++) {
			unsigned n;
			for (unsigned left = rte_ring_count(w->ho_in[r]); left; left -= n)
				if ((n = drain_ring(w, r, left, 1)) == 0)
					break;
		}
	} else if (rq->kind == DP_REQ_TAKE && rq->meeting < MMR_MAX_MEETINGS) {
		__atomic_store_n(&dp->owner[rq->meeting], (uint8_t)w->idx, __ATOMIC_RELEASE);
		unsigned n = w->hold_n;
		w->hold_n = 0;
		handle_ring_pkts(w, w->hold, n);
	}
	handoff_flush(w);
	repair_flush(w);
	worker_flush_tx(w);   /* our copies leave before the next owner's */
	w->req_ack = seq;
	atomic_store_explicit(&rq->ack, seq, memory_order_release);
}

int worker_main(void *arg)
{
	struct worker *w = arg;
	struct dataplane *dp = w->dp;
	struct rte_mbuf *pkts[WORKER_BURST];
	unsigned n_ports = dp->n_ports;

	rcu_register_thread();
	srtp_leases_worker_start(dp->leases, w->idx);
	w->st->lcore_id = rte_lcore_id();
	atomic_thread_fence(memory_order_release);
	w->st->active = 1;

	uint64_t last_t0 = rte_rdtsc();
	while (likely(!atomic_load_explicit(&dp->stop, memory_order_relaxed))) {
		uint64_t t0 = rte_rdtsc();
		uint64_t copies0 = w->st->copies;
		unsigned got = 0;
		w->now_tsc = t0;
		/* the whole time polling, from the TSC read the loop takes anyway: the base of busy % */
		w->st->cycles += t0 - last_t0;
		last_t0 = t0;
		if (unlikely(atomic_load_explicit(&dp->req[w->idx].seq, memory_order_relaxed) != w->req_ack))
			handle_request(w);
		if (unlikely(atomic_load_explicit(&dp->req[w->idx].tunables_gen, memory_order_relaxed) !=
			     w->tunables_gen))
			worker_read_tunables(w);
		for (uint16_t p = 0; p < n_ports; p++) {
			uint16_t n = rte_eth_rx_burst(dp->port[p].port_id, w->queue, pkts, WORKER_BURST);
			if (n == 0)
				continue;
			if (!got)   /* a division: only in iterations that have packets */
				worker_clock(w, t0);
			got += n;
			uint64_t bytes = 0;
			/* the frame, and the mbuf's second cache line (next, pool: read when it is
			 * freed; a zero-copy RX path never touched it) */
			for (uint16_t i = 0; i < n && i < PREFETCH_AHEAD; i++) {
				rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
				rte_prefetch0((const char *)pkts[i] + RTE_CACHE_LINE_MIN_SIZE);
			}
			for (uint16_t i = 0; i < n; i++) {
				if (i + PREFETCH_AHEAD < n) {
					rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD], void *));
					rte_prefetch0((const char *)pkts[i + PREFETCH_AHEAD] + RTE_CACHE_LINE_MIN_SIZE);
				}
				bytes += pkts[i]->pkt_len;
				handle_packet(w, p, pkts[i], 0);
			}
			w->st->rx_pkts += n;
			w->st->rx_bytes += bytes;
		}
		if (w->n_ho_in) {
			got += drain_rings(w, got);
			if (w->ho_pending)
				handoff_flush(w);
		}
		if (w->rtx_n_free)
			repair_flush(w);
		if (unlikely(!rte_ring_empty(dp->dtls_tx[w->idx])))
			dp_dtls_tx(w);       /* the DTLS thread's flights (dtls_path.h) */
		if (unlikely(w->idx == 0 && dp->neigh_tx && !rte_ring_empty(dp->neigh_tx)))
			dp_neigh_tx(w);      /* the control thread's ARP requests and solicitations (neigh.h) */
		worker_flush_tx(w);
		w->st->loops++;
		if (got) {
			uint64_t d = rte_rdtsc() - t0;
			w->st->busy_loops++;
			w->st->busy_cycles += d;
			if (unlikely(d > w->slow_iter_tsc)) {
				w->st->slow_cycles += d;
				w->st->slow_copies += w->st->copies - copies0;
			}
		}
		rcu_quiescent_state();
	}

	handoff_flush(w);
	repair_flush(w);
	worker_flush_tx(w);
	w->st->active = 0;
	rcu_unregister_thread();
	return 0;
}
