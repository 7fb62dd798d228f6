/*
 * worker.c - the poll loop of a worker lcore and the per-packet dispatch.
 *
 * Every iteration: a burst of up to 32 packets from our queue of each port; each packet is parsed
 * (pkt_parse) and is either answered in place (ARP, ICMP echo, IPv6 neighbour solicitation; see
 * local_reply.c), forwarded to the receivers of its stream (fanout.c), or dropped with its reason
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
 * No locks, syscalls, allocations or logging here; the only shared writes are our own counters
 * slot, the counters of the streams we receive, their subscriptions' layer_sel entries and current
 * layers (layers_now[], and an event on our own ring when they change: dp_events.h), and the
 * SRTP contexts of the senders we receive (and of their receivers' copies), which publish their
 * positions (for `mmrctl stats`) into the segment themselves (lib/srtp/srtp_fast.c; twice per 65536
 * packets).
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

#include "av1_dd.h"
#include "fanout.h"
#include "fwd_table.h"
#include "h264.h"
#include "local_reply.h"
#include "media.h"
#include "pkt.h"
#include "rtp.h"
#include "srtp_fast.h"
#include "srtp_lease.h"
#include "vp8.h"
#include "vp9.h"

#define PREFETCH_AHEAD 3

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
	w->pools = &dp->pools[socket];
	w->rekey_grace_tsc = rte_get_tsc_hz() / 1000 * DP_REKEY_GRACE_MS;
	for (unsigned p = 0; p < dp->n_ports; p++) {
		w->txb[p] = rte_zmalloc_socket("mmr_txb", RTE_ETH_TX_BUFFER_SIZE(WORKER_BURST), 0, (int)socket);
		if (!w->txb[p]) {
			dp_log("worker %u: cannot allocate its TX buffer", idx);
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
	for (unsigned p = 0; p < MMR_MAX_PORTS; p++) {
		rte_free(w->txb[p]);
		w->txb[p] = NULL;
	}
}

/* ---- SRTP ---------------------------------------------------------------------------------- */

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

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* SRTCP from an SRTP participant: authenticated (the stream's contexts when its sender SSRC is one of
 * the participant's streams, else the participant's RTCP contexts), counted, dropped. */
static enum mmr_drop_reason handle_srtcp(struct worker *w, struct rte_mbuf *m, const struct pkt_info *pi,
					 const struct fwd_participant *part)
{
	uint8_t *pkt = rte_pktmbuf_mtod_offset(m, uint8_t *, pi->payload_off);
	uint32_t len = pi->payload_len;
	if (len < 8)
		return MMR_DROP_SRTP_AUTH;
	const struct fwd_stream *s = fwd_stream_lookup(&w->dp->fwd, part->id, rd32(pkt + 4));
	struct fwd_srtp_in *in = s ? rcu_dereference(s->srtp_in) : rcu_dereference(part->rtcp_in);
	if (unlikely(!in))
		return MMR_DROP_SRTP_AUTH;
	enum mmr_drop_reason why = srtp_in_open(w, in, pkt, &len, 1);
	return why != MMR_DROP_NONE ? why : MMR_DROP_RTCP;   /* not terminated yet */
}

/*
 * What layer selection needs from an RTP packet of stream s (rtp, parsed as ri): *mp filled and
 * MMR_DROP_NONE, or the drop reason. *layered is 0 for a stream without layer selection (audio).
 * A descriptor that ends early is a malformed payload (bad_payload), like any other.
 */
static inline enum mmr_drop_reason parse_media(const struct fwd_stream *s, const uint8_t *rtp,
					       const struct rtp_info *ri, struct media_pkt *mp,
					       int *layered)
{
	const uint8_t *pl = rtp + ri->hdr_len;
	enum mmr_drop_reason why;

	*layered = 1;
	switch (s->codec) {
	case MMR_CODEC_VP8: {
		struct vp8_desc d;
		why = vp8_parse(pl, ri->payload_len, &d);
		if (likely(why == MMR_DROP_NONE))
			vp8_media(&d, ri->hdr_len, ri, mp);
		break;
	}
	case MMR_CODEC_VP9: {
		struct vp9_desc d;
		why = vp9_parse(pl, ri->payload_len, &d);
		if (likely(why == MMR_DROP_NONE))
			vp9_media(&d, ri->hdr_len, ri, mp);
		break;
	}
	case MMR_CODEC_H264: {
		struct h264_info h;
		why = h264_parse(pl, ri->payload_len, &h);
		if (likely(why == MMR_DROP_NONE))
			h264_media(&h, ri, mp);
		break;
	}
	case MMR_CODEC_AV1: {
		uint16_t off, len;
		memset(mp, 0, sizeof(*mp));
		mp->codec = MMR_CODEC_AV1;
		int found = s->av1 ? rtp_find_ext(rtp, ri, s->dd_ext_id, &off, &len) : 0;
		if (unlikely(found < 0))
			return MMR_DROP_BAD_RTP;
		if (unlikely(found == 0))
			return MMR_DROP_NO_STRUCTURE;
		why = av1_dd_parse(rtp + off, len, off, s->av1, mp);
		break;
	}
	default:
		*layered = 0;
		return MMR_DROP_NONE;
	}
	if (unlikely(why != MMR_DROP_NONE))
		return why == MMR_DROP_TRUNCATED ? MMR_DROP_BAD_PAYLOAD : why;
	mp->encoding = s->encoding;
	return MMR_DROP_NONE;
}

/* SRTP from an SRTP participant: the header (in clear) finds the stream; the packet is opened in
 * place, and only then parsed past the header (padding, codec descriptor) and fanned out. */
static enum mmr_drop_reason handle_srtp(struct worker *w, struct rte_mbuf *m, const struct pkt_info *pi,
					const struct fwd_participant *part)
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
	const struct fwd_stream *s = fwd_stream_lookup(&w->dp->fwd, part->id, rd32(pkt + 8));
	if (unlikely(!s))
		return MMR_DROP_UNKNOWN_SSRC;
	struct fwd_srtp_in *in = rcu_dereference(s->srtp_in);
	if (unlikely(!in))
		return MMR_DROP_SRTP_AUTH;
	why = srtp_in_open(w, in, pkt, &len, 0);
	if (unlikely(why != MMR_DROP_NONE))
		return why;
	why = rtp_parse(pkt, len, &ri);
	if (unlikely(why != MMR_DROP_NONE))
		return why;

	struct mmr_stream_stats *ss = &w->stream_stats[s->id];
	w->st->rtp_pkts++;
	ss->rx_pkts++;
	ss->rx_bytes += pi->payload_len;
	ss->last_seq = ri.seq;
	why = parse_media(s, pkt, &ri, &mp, &layered);
	if (unlikely(why != MMR_DROP_NONE))
		return why;
	if (layered)
		ss->last_tid = mp.tid;
	fanout_srtp(w, m, pi, len, &ri, layered ? &mp : NULL, s);
	return MMR_DROP_NONE;
}

/* ---- plain RTP and dispatch ------------------------------------------------------------------ */

/* RTP (or RTCP) arriving at our address and port. */
static inline enum mmr_drop_reason handle_media(struct worker *w, struct rte_mbuf *m,
						const struct pkt_info *pi)
{
	const uint8_t *payload = rte_pktmbuf_mtod_offset(m, const uint8_t *, pi->payload_off);
	struct rtp_info ri;
	struct media_pkt mp;
	int layered;
	enum mmr_drop_reason why;

	int rtcp = rtp_is_rtcp(payload, pi->payload_len);
	const struct fwd_participant *part = fwd_participant_lookup(&w->dp->fwd, &pi->src, pi->sport);
	if (unlikely(part && part->srtp))
		return rtcp ? handle_srtcp(w, m, pi, part) : handle_srtp(w, m, pi, part);
	if (unlikely(rtcp))
		return MMR_DROP_RTCP;
	why = rtp_parse(payload, pi->payload_len, &ri);
	if (unlikely(why != MMR_DROP_NONE))
		return why;
	if (unlikely(!part))
		return MMR_DROP_UNKNOWN_SENDER;
	const struct fwd_stream *s = fwd_stream_lookup(&w->dp->fwd, part->id, ri.ssrc);
	if (unlikely(!s))
		return MMR_DROP_UNKNOWN_SSRC;

	struct mmr_stream_stats *ss = &w->stream_stats[s->id];
	w->st->rtp_pkts++;
	ss->rx_pkts++;
	ss->rx_bytes += pi->payload_len;
	ss->last_seq = ri.seq;
	why = parse_media(s, payload, &ri, &mp, &layered);
	if (unlikely(why != MMR_DROP_NONE))
		return why;
	if (layered)
		ss->last_tid = mp.tid;
	fanout_rtp(w, m, pi, &ri, layered ? &mp : NULL, s);
	return MMR_DROP_NONE;
}

/* One received packet on port index pidx. Consumes m. */
static inline void handle_packet(struct worker *w, uint16_t pidx, struct rte_mbuf *m)
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

	switch (pi.kind) {
	case PKT_UDP:
		if (unlikely(!dp_port_owns(pt, &pi.dst) ||
			     (w->dp->udp_port && pi.dport != w->dp->udp_port))) {
			why = MMR_DROP_NOT_FOR_US;
			goto drop;
		}
		why = handle_media(w, m, &pi);
		if (why != MMR_DROP_NONE)
			goto drop;
		rte_pktmbuf_free(m);
		return;
	case PKT_ARP:
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
		unsigned got = 0;
		w->now_tsc = t0;
		/* the whole time polling, from the TSC read the loop takes anyway: the base of busy % */
		w->st->cycles += t0 - last_t0;
		last_t0 = t0;
		for (uint16_t p = 0; p < n_ports; p++) {
			uint16_t n = rte_eth_rx_burst(dp->port[p].port_id, w->queue, pkts, WORKER_BURST);
			if (n == 0)
				continue;
			if (!got)   /* a division: only in iterations that have packets */
				w->now_rtp = (uint32_t)(t0 / w->tsc_per_rtp_tick);
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
				handle_packet(w, p, pkts[i]);
			}
			w->st->rx_pkts += n;
			w->st->rx_bytes += bytes;
		}
		for (uint16_t p = 0; p < n_ports; p++)
			rte_eth_tx_buffer_flush(dp->port[p].port_id, w->queue, w->txb[p]);
		w->st->loops++;
		if (got) {
			w->st->busy_loops++;
			w->st->busy_cycles += rte_rdtsc() - t0;
		}
		rcu_quiescent_state();
	}

	for (uint16_t p = 0; p < n_ports; p++)
		rte_eth_tx_buffer_flush(dp->port[p].port_id, w->queue, w->txb[p]);
	w->st->active = 0;
	rcu_unregister_thread();
	return 0;
}
