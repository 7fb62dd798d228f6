/*
 * worker.h - a worker lcore: its queues, TX buffers and counters, the poll loop, and the small
 * send helper the packet-path modules (local_reply.c, fanout.c) share.
 */
#ifndef MMR_DP_WORKER_H
#define MMR_DP_WORKER_H

#include <stdint.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include "bwe_stamp.h"
#include "dataplane.h"
#include "rewrite.h"
#include "stats.h"

#define WORKER_BURST 32
#define DP_MAX_RTP_SCRATCH 2304      /* an RTP packet from one mbuf, plus a grown extension block */
#define WORKER_HOLD_MAX 4096         /* packets a worker holds for a meeting moving to it (handoff.h) */

struct rte_ring;
struct ntp_clock;
struct rtcp_tables;

/* Packets waiting to be handed to one other worker (handoff.h). */
struct handoff_buf {
	uint16_t n;
	struct rte_mbuf *m[WORKER_BURST];
};

struct worker {
	struct dataplane *dp;
	unsigned idx;                /* worker index = queue id on every port */
	uint16_t queue;
	uint16_t udp_port_be;        /* our source port for copies; 0 = the port the packet came to */
	struct mmr_lcore_stats *st;  /* our slot in shm->stats.lcore */
	struct mmr_stream_stats *stream_stats; /* shm->stats.stream */
	struct layer_sel *sel;       /* dp->sel */
	struct dp_pools *pools;      /* our socket's */
	struct rte_eth_dev_tx_buffer *txb[MMR_MAX_PORTS];
	uint64_t now_tsc;            /* TSC at the start of this loop iteration */
	uint32_t now_rtp;            /* the same in 90 kHz RTP clock units (simulcast timestamp rebasing) */
	uint64_t tsc_per_rtp_tick;   /* TSC cycles per 1/90000 s */
	uint64_t now_us;             /* the same in microseconds (send times of the bandwidth estimates) */
	uint64_t tsc_per_us;         /* 0: bandwidth estimation off (now_us not kept) */
	uint64_t *layers_now;        /* dp->layers_now: current layers per sel_id (dp_events.h) */
	struct ev_producer ev;       /* our event ring, shm->events[idx] (event_ring.h) */
	/* AV1 in SRTP meetings: a receiver's RTP packet with its own Dependency Descriptor (a longer
	 * extension block), built here and encrypted into its copy */
	uint8_t av1_scratch[DP_MAX_RTP_SCRATCH];
	/* the received packet being fanned out (repair.h): its extended sequence number and simulcast
	 * encoding, recorded with each copy to a receiver that takes NACK */
	uint32_t in_ext_seq;
	uint8_t  in_encoding;
	/* downlink bandwidth estimation (bwe.h): the received packet's transport-cc and abs-send-time
	 * elements, stamped into each copy to a receiver that has an estimate */
	struct bwe_pkt bwe_in;
	uint8_t  bwe_probe;          /* the config's bwe_probe */
	uint8_t  bwe_lowest;         /* bwe_no_feedback = "lowest" */
	uint64_t bwe_alloc_us;       /* bwe_alloc_ms */
	/* kept packets evicted this iteration (repair.c): prefetched when evicted, freed in one bulk
	 * at the end of the iteration (repair_flush) */
	uint16_t rtx_n_free;
	struct rte_mbuf *rtx_free[WORKER_BURST];
	uint64_t rekey_grace_tsc;    /* DP_REKEY_GRACE_MS in TSC cycles */
	uint64_t slow_iter_tsc;      /* 1 ms in TSC cycles (slow_cycles) */

	/* RTCP termination and reports (rtcp_in.c, rtcp_report.h) */
	uint8_t  verify_udp_csum;    /* the config's `verify_udp_checksum` */
	uint8_t  rtcp_on;            /* the config's `rtcp`: 0 = RTCP counted and dropped, nothing sent */
	const struct ntp_clock *ntp; /* dp->ntp: wall-clock time for SR/RR/XR */
	const struct rtcp_tables *rtcp; /* dp->rtcp: the state (rtcp_state.h) */
	struct mmr_participant_stats *part_stats; /* shm->stats.participant */
	uint64_t tsc_hz;
	uint64_t tsc_per_ms;          /* tsc_hz / 1000, at least 1: millisecond clocks (audio levels, timers) */
	uint64_t rr_tsc;             /* rr_ms in TSC cycles */
	uint64_t sr_video_tsc;       /* sr_video_ms */
	uint64_t sr_audio_tsc;       /* sr_audio_ms */
	uint32_t nack_max_tries;     /* the config's: uplink NACKs per lost packet */
	uint32_t tunables_gen;       /* dp->req[idx].tunables_gen these were read at */

	/* ownership by meeting (owner.h, handoff.h) */
	const uint8_t *owner;        /* dp->owner */
	const uint8_t *block;        /* dp->block: participants' MMR_BLOCK_* (meeting controls) */
	unsigned n_ho_in;
	struct rte_ring *ho_in[MMR_MAX_LCORES];    /* rings toward us, drained every iteration */
	struct rte_ring *ho_ring[MMR_MAX_LCORES];  /* our ring toward each other worker */
	uint32_t ho_pending;         /* destinations whose buffer holds packets */
	uint32_t req_ack;            /* the control thread's last request we completed (dataplane.h) */
	struct handoff_buf ho_out[MMR_MAX_LCORES];
	unsigned hold_n;
	struct rte_mbuf **hold;      /* WORKER_HOLD_MAX: a moving meeting's packets, in arrival order */
};

/* Before launch (allocates the TX buffers on the lcore's socket). 0 or -1 (logged). */
int worker_init(struct worker *w, struct dataplane *dp, unsigned idx);
void worker_fini(struct worker *w);
/* rte_eal_remote_launch() entry: poll until dp->stop. */
int worker_main(void *arg);

/* A copy (media, resend, probe, the MMR's RTCP) toward receiving participant pid: 1 (and the drop
 * counted not_admitted) while it waits in the waiting room (meeting controls, issue 15), else 0. */
static inline int worker_receiver_waiting(struct worker *w, uint32_t pid)
{
	if (likely(!(__atomic_load_n(&w->block[pid], __ATOMIC_RELAXED) & MMR_BLOCK_WAITING)))
		return 0;
	w->st->drops[MMR_DROP_NOT_ADMITTED]++;
	return 1;
}

/* Can a copy to o go now (out_mac_ok, rewrite.h)? 0, with the drop counted neigh_unresolved and
 * the entry asked for, when its next hop's MAC is not resolved (neigh.h). */
static inline int worker_out_mac_ok(struct worker *w, const struct fwd_output *o)
{
	if (likely(out_mac_ok(o)))
		return 1;
	w->st->drops[MMR_DROP_NEIGH_UNRESOLVED]++;
	return 0;
}

/* A frame to a port with a `vlan`: its tag put in after the MACs (a frame that has one already, a
 * reply built in place from a tagged request, is left alone). 0, or -1 (no headroom, or the first
 * segment shared): the caller drops it. */
int worker_vlan_tag(struct rte_mbuf *m, uint16_t tci_be);

/* Queue one packet for transmission on port index pidx (flushed at the end of the loop
 * iteration), tagged on a port with a VLAN. The packet is counted as sent; the buffer's error
 * callback takes back what the NIC refused (MMR_DROP_TX_FULL). */
static inline void worker_send(struct worker *w, uint16_t pidx, struct rte_mbuf *m)
{
	uint16_t tci_be = w->dp->port[pidx].vlan_tci_be;
	if (unlikely(tci_be != 0) && unlikely(worker_vlan_tag(m, tci_be) != 0)) {
		w->st->drops[MMR_DROP_NO_MBUF]++;
		rte_pktmbuf_free(m);
		return;
	}
	w->st->tx_pkts++;
	w->st->tx_bytes += m->pkt_len;
	rte_eth_tx_buffer(w->dp->port[pidx].port_id, w->queue, w->txb[pidx], m);
}

#endif
