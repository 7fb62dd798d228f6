/*
 * worker.c - the poll loop of a worker lcore and the per-packet dispatch.
 *
 * Every iteration: a burst of up to 32 packets from our queue of each port; each packet is parsed
 * (pkt_parse) and is either answered in place (ARP, ICMP echo, IPv6 neighbour solicitation; see
 * local_reply.c), forwarded to the receivers of its stream (fanout.c), or dropped with its reason
 * counted. Then the TX buffers are flushed and we report an RCU quiescent state: no table pointer
 * survives an iteration.
 *
 * No locks, syscalls, allocations or logging here; the only shared writes are our own counters
 * slot, the counters of the streams we receive, and their subscriptions' layer_sel entries.
 */
#define _LGPL_SOURCE
#include "worker.h"

#include <string.h>
#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "fanout.h"
#include "fwd_table.h"
#include "local_reply.h"
#include "pkt.h"
#include "rtp.h"
#include "vp8.h"

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
	w->pools = &dp->pools[socket];
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

/* RTP (or RTCP) arriving at our address and port. */
static inline enum mmr_drop_reason handle_media(struct worker *w, struct rte_mbuf *m,
						const struct pkt_info *pi)
{
	const uint8_t *payload = rte_pktmbuf_mtod_offset(m, const uint8_t *, pi->payload_off);
	struct rtp_info ri;
	struct vp8_desc d;
	enum mmr_drop_reason why;

	if (unlikely(rtp_is_rtcp(payload, pi->payload_len)))
		return MMR_DROP_RTCP;
	why = rtp_parse(payload, pi->payload_len, &ri);
	if (unlikely(why != MMR_DROP_NONE))
		return why;
	const struct fwd_participant *part = fwd_participant_lookup(&w->dp->fwd, &pi->src, pi->sport);
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
	if (s->codec == MMR_CODEC_VP8) {
		why = vp8_parse(payload + ri.hdr_len, ri.payload_len, &d);
		if (unlikely(why != MMR_DROP_NONE))
			return why == MMR_DROP_TRUNCATED ? MMR_DROP_BAD_PAYLOAD : why;
		ss->last_tid = d.tid;
		fanout_rtp(w, m, pi, &ri, &d, s);
	} else {
		fanout_rtp(w, m, pi, &ri, NULL, s);
	}
	return MMR_DROP_NONE;
}

/* One received packet on port index pidx. Consumes m. */
static inline void handle_packet(struct worker *w, uint16_t pidx, struct rte_mbuf *m)
{
	const struct dp_port *pt = &w->dp->port[pidx];
	struct pkt_info pi;
	enum mmr_drop_reason why;

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
		if (why != MMR_DROP_NONE)
			goto drop;
		w->st->arp_replies++;
		worker_send(w, pidx, m);
		return;
	case PKT_ICMP_ECHO:
		why = local_reply_echo(pt, m, &pi);
		if (why != MMR_DROP_NONE)
			goto drop;
		w->st->icmp_replies++;
		worker_send(w, pidx, m);
		return;
	case PKT_ICMP6_NS:
		why = local_reply_ns(pt, m, &pi);
		if (why != MMR_DROP_NONE)
			goto drop;
		w->st->icmp_replies++;
		worker_send(w, pidx, m);
		return;
	default:
		why = MMR_DROP_NOT_UDP;
		break;
	}
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
	w->st->lcore_id = rte_lcore_id();
	atomic_thread_fence(memory_order_release);
	w->st->active = 1;

	while (likely(!atomic_load_explicit(&dp->stop, memory_order_relaxed))) {
		uint64_t t0 = rte_rdtsc();
		unsigned got = 0;
		for (uint16_t p = 0; p < n_ports; p++) {
			uint16_t n = rte_eth_rx_burst(dp->port[p].port_id, w->queue, pkts, WORKER_BURST);
			if (n == 0)
				continue;
			got += n;
			uint64_t bytes = 0;
			for (uint16_t i = 0; i < n && i < PREFETCH_AHEAD; i++)
				rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
			for (uint16_t i = 0; i < n; i++) {
				if (i + PREFETCH_AHEAD < n)
					rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD], void *));
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
