/*
 * dataplane.h - the state of one mmr-dataplane process, shared by its modules: ports and our
 * addresses on them, mempools, the forwarding tables, the per-subscription layer state, the
 * shared-memory segment, and the stop flag.
 *
 * Written once at start-up (main.c, port.c) before any lcore runs, then read-only for everyone,
 * except: fwd (tables, see fwd_table.h), sel[] (one writer per entry: the lcore owning the
 * stream's meeting; its `target` word: the control thread), layers_now[] and ctl_events
 * (dp_events.h), ntp (ntp_time.h), police and police_tat (police.h), shm counters (one writer each,
 * see stats.h), owner[], block[] and req[] (owner.h, meeting_owner.h), the run-time settings of cfg
 * (SIGHUP, dp_config_reload) and `stop`.
 */
#ifndef MMR_DATAPLANE_H
#define MMR_DATAPLANE_H

#include <stdatomic.h>
#include <stdint.h>
#include <rte_config.h>
#include "cmd_chan.h"
#include "config.h"
#include "dp_events.h"
#include "fwd_table.h"
#include "layer_select.h"
#include "mmr_types.h"
#include "ntp_time.h"
#include "pkt.h"
#include "rtcp_state.h"

struct rte_mempool;
struct rte_ring;
struct srtp_leases;

/* A request of the control thread to one worker, during a meeting move (meeting_owner.c): the
 * control thread writes kind and meeting, then release-stores seq = ack + 1; the worker sees seq !=
 * ack at the start of an iteration (one relaxed load), does it, and release-stores ack = seq. */
enum dp_req_kind {
	DP_REQ_DRAIN = 1,    /* process everything now in your incoming hand-off rings, flush, ack */
	DP_REQ_TAKE,         /* the meeting is yours: set its owner word, process its held packets, ack */
};
struct dp_worker_req {
	_Atomic uint32_t seq;
	uint32_t kind;
	uint32_t meeting;
	_Atomic uint32_t tunables_gen;  /* bumped by the control thread after a SIGHUP changed run-time
					   settings: the worker re-reads what it caches of dp->cfg */
	_Atomic uint32_t ack __attribute__((aligned(64)));
} __attribute__((aligned(64)));

/* Policing (police.h): the stream kinds a publisher is limited by, the limits in TSC cycles (stored
 * by the control thread at start-up and on SIGHUP, loaded per packet) and one participant's meters. */
enum police_kind { POLICE_AUDIO = 0, POLICE_VIDEO, POLICE_SCREEN, POLICE_RTCP, POLICE__KINDS };
_Static_assert(POLICE__KINDS == DP_POLICE_KINDS, "config.h's DP_POLICE_KINDS");
struct dp_police {
	uint64_t on;                          /* the config's `police` */
	uint64_t burst_tsc;                   /* police_burst_ms */
	uint64_t pkt_tsc[POLICE__KINDS];      /* cycles per packet (0: packets/s not limited) */
	uint64_t byte_tsc16[POLICE__KINDS];   /* cycles per byte << 16 (0: bits/s not limited) */
};
/* [kind] = { packets, bytes }: theoretical arrival times (TSC) */
struct police_tat {
	uint64_t t[POLICE__KINDS][2];
} __attribute__((aligned(64)));

/* Our side of one DPDK port. */
struct dp_port {
	uint16_t port_id;
	uint8_t  has_ipv4;
	uint8_t  has_ipv6;
	uint8_t  has_gateway_mac;
	uint8_t  multiseg_tx;        /* the PMD sends chained mbufs (header mbuf + payload clone) */
	uint8_t  started;
	uint8_t  mac[6];             /* the port's MAC, source of everything we send */
	uint8_t  gateway_mac[6];
	struct mmr_addr ipv4;
	struct mmr_addr ipv6;
	uint16_t vlan_tci_be;        /* the config's `vlan` as a TCI, network order: copies and replies
					leave tagged with it (worker_send); 0: untagged */
	struct pkt_l2_filter l2;     /* what the port accepts: our MAC, VLAN, IPv6 (pkt_l2_check) */
	char     name[48];
};

/* Mempools of one NUMA socket. */
struct dp_pools {
	struct rte_mempool *pkt;     /* RX buffers and large full copies (cfg->mbufs) */
	struct rte_mempool *hdr;     /* small: headers in front of a payload clone, audio copies */
	struct rte_mempool *clone;   /* indirect mbufs (no data room) */
};

struct dataplane {
	struct dp_config *cfg;       /* run-time settings change on SIGHUP (dp_config_reload) */
	struct cmd_chan chan;
	struct mmr_shm *shm;

	uint16_t udp_port;           /* from the config; 0 = any */
	unsigned n_ports;
	struct dp_port port[MMR_MAX_PORTS];

	unsigned n_workers;          /* worker i runs on worker_lcore[i], owns queue i of every port */
	unsigned worker_lcore[MMR_MAX_LCORES];
	struct dp_pools pools[RTE_MAX_NUMA_NODES];

	struct fwd_tables fwd;
	struct layer_sel *sel;       /* MMR_MAX_SUBS entries, indexed by subscription id (sel_id) */
	uint64_t *layers_now;        /* MMR_MAX_SUBS entries: current layers and their version, by
					sel_id (dp_events.h) */
	struct dp_events ctl_events; /* the control thread's event ring and snapshot (dp_events.h) */
	uint8_t *owner;              /* MMR_MAX_MEETINGS owner words (owner.h), by meeting id */
	uint8_t *block;              /* MMR_MAX_PARTICIPANTS bytes, by participant id: its MMR_BLOCK_*
					(meeting controls, issue 15); stored by the control thread at every
					PUT and DEL, read by the lcores per packet and per copy */
	struct dp_worker_req req[MMR_MAX_LCORES];
	/* hand-off rings, handoff[from][to] (single producer `from`, single consumer `to`); NULL on
	 * the diagonal and with one worker */
	struct rte_ring *handoff[MMR_MAX_LCORES][MMR_MAX_LCORES];
	uint8_t pidx_of[RTE_MAX_ETHPORTS];   /* DPDK port id -> our port index (mbuf->port -> pidx) */
	struct srtp_leases *leases;  /* SRTP index leases and their ledger (srtp_lease.h) */
	/* DTLS (dtls_path.h): the workers' datagrams to the DTLS thread (multi-producer), and its
	 * datagrams to each worker (SP/SC) */
	struct rte_ring *dtls_in;
	struct rte_ring *dtls_tx[MMR_MAX_LCORES];
	/* neighbour resolution (neigh.h): ARP replies and advertisements to the control thread
	 * (multi-producer), its requests to worker 0 (SP/SC) */
	struct rte_ring *neigh_in;
	struct rte_ring *neigh_tx;
	struct rtcp_tables rtcp;     /* RTCP state per stream, subscription, participant (rtcp_state.h) */
	struct ntp_clock ntp;        /* wall clock for the lcores' RTCP (ntp_time.h): published by the
					control thread before the lcores start and about once a second */

	struct dp_police police;     /* policing limits (police.h): the control thread stores them */
	struct police_tat *police_tat; /* MMR_MAX_PARTICIPANTS meters by participant id: its meeting's
					owner lcore writes them */

	atomic_int stop;             /* set by SIGINT/SIGTERM's handler: everyone winds down */
	atomic_int reload;           /* set by SIGHUP's handler: the control thread re-reads the config's
					run-time settings (ctl_loop.c) */
	const char *cfg_path;        /* the config file, for that */
};

/* Header mbuf data room: Ethernet + IPv6 + UDP + an RTP header with extensions + descriptor. */
#define DP_HDR_MBUF_ROOM 512u
/* Payloads (after the RTP header and codec descriptor) up to this size are copied whole;
 * larger ones get a header mbuf chained to a clone of the input. */
#define DP_COPY_MAX_PAYLOAD 256u

/* SRTP rekey: after a packet authenticated with a sender's new SEND key, its previous key is still
 * accepted this long (late and reordered packets sent before the switch), then dropped. */
#define DP_REKEY_GRACE_MS 2000u

/* Is a one of our addresses on this port? */
static inline int dp_port_owns(const struct dp_port *pt, const struct mmr_addr *a)
{
	if (a->family == MMR_AF_INET)
		return pt->has_ipv4 && mmr_addr_eq(&pt->ipv4, a);
	return pt->has_ipv6 && mmr_addr_eq(&pt->ipv6, a);
}

/* Wait for an RCU grace period (synchronize_rcu, from fwd_table.h's urcu-qsbr.h) and count it in
 * stats.ctl.grace_periods ("RCU grace periods waited for"). Control thread only, offline or
 * unregistered as an RCU reader: every wait of the dataplane goes through here. */
static inline void dp_synchronize_rcu(struct dataplane *dp)
{
	synchronize_rcu();
	dp->shm->stats.ctl.grace_periods++;
}


#endif
