/*
 * stats.h - layout of the dataplane's counters inside the shared-memory segment.
 *
 * Every counter has exactly one writer: a worker lcore writes its own mmr_lcore_stats slot and the
 * per-stream counters of the streams whose packets it receives (RSS pins a sender's 5-tuple to one
 * queue, so to one lcore); the dataplane's control thread writes the port counters and its own
 * (mmr_ctl_stats). Readers (the
 * controller, mmrctl through it) read with relaxed loads and tolerate a counter being a few packets
 * behind. No atomics read-modify-write on the packet path.
 */
#ifndef MMR_STATS_H
#define MMR_STATS_H

#include <stdint.h>
#include "mmr_types.h"

/* Why a packet was dropped. Keep mmr_drop_names[] in stats.c in the same order. */
enum mmr_drop_reason {
	MMR_DROP_NONE = 0,
	MMR_DROP_TRUNCATED,       /* shorter than its headers say */
	MMR_DROP_BAD_L2,          /* not Ethernet/VLAN carrying IPv4/IPv6/ARP */
	MMR_DROP_BAD_IP,          /* bad IPv4/IPv6 header: version, length, checksum, fragment, options */
	MMR_DROP_NOT_UDP,         /* IP but neither UDP nor ICMP echo for us */
	MMR_DROP_BAD_UDP,         /* UDP length inconsistent */
	MMR_DROP_NOT_FOR_US,      /* destination address or UDP port not ours */
	MMR_DROP_BAD_RTP,         /* RTP header malformed (version, CSRC/extension/padding lengths) */
	MMR_DROP_RTCP,            /* RTCP: not terminated yet, counted and dropped */
	MMR_DROP_UNKNOWN_SENDER,  /* no participant with this source address and port */
	MMR_DROP_UNKNOWN_SSRC,    /* participant known, SSRC not one of its streams (spoofed or stale) */
	MMR_DROP_BAD_PAYLOAD,     /* codec payload descriptor malformed (VP8 descriptor) */
	MMR_DROP_LAYER,           /* not forwarded to a receiver by layer selection (per copy) */
	MMR_DROP_NO_MBUF,         /* mempool empty when building a copy */
	MMR_DROP_TX_FULL,         /* TX queue full: copies the NIC did not take */
	MMR_DROP_ARP_OTHER,       /* ARP not asking for one of our addresses */
	MMR_DROP_SRTP_AUTH,       /* SRTP/SRTCP authentication failed (wrong key, tampered, too short) */
	MMR_DROP_SRTP_REPLAY,     /* SRTP/SRTCP replayed or older than the replay window */
	MMR_DROP_NO_STRUCTURE,    /* AV1 packet without a usable Dependency Descriptor: extension missing,
				     or its template structure not received yet (it comes with keyframes) */
	MMR_DROP_SRTP_REUSE,      /* SRTP copy not sent: its index was used before under this key and SSRC,
				     or lies below where the context had to start (docs/design.md, "Keys") */
	MMR_DROP_SRTP_LEASE,      /* SRTP/SRTCP index beyond the context's durable lease (the ledger has not
				     recorded it yet, or cannot: disk full or failing) */
	MMR_DROP__COUNT
};

extern const char *const mmr_drop_names[MMR_DROP__COUNT];

/* One worker lcore's counters; padded to its own cache lines. */
struct mmr_lcore_stats {
	uint64_t rx_pkts;
	uint64_t rx_bytes;
	uint64_t tx_pkts;          /* copies handed to TX (includes ARP/ICMP replies) */
	uint64_t tx_bytes;
	uint64_t rtp_pkts;         /* RTP packets from known streams */
	uint64_t copies;           /* RTP copies built for receivers */
	uint64_t arp_replies;
	uint64_t icmp_replies;
	uint64_t loops;            /* poll-loop iterations */
	uint64_t busy_loops;       /* iterations that received at least one packet */
	uint64_t busy_cycles;      /* TSC cycles spent in iterations that received packets */
	uint64_t drops[MMR_DROP__COUNT];
	uint32_t lcore_id;
	uint32_t active;           /* 1 while this slot belongs to a running lcore */
} __attribute__((aligned(64)));

/* A DPDK port's counters, copied from rte_eth_stats by the control thread about every 100 ms. */
struct mmr_port_stats {
	uint64_t ipackets, opackets, ibytes, obytes, imissed, ierrors, oerrors, rx_nombuf;
	uint32_t port_id;
	uint32_t active;
	char name[48];
} __attribute__((aligned(64)));

/* Per-stream counters, indexed by stream id; written by the lcore that receives the stream. */
struct mmr_stream_stats {
	uint64_t rx_pkts;
	uint64_t rx_bytes;
	uint64_t fwd_copies;       /* copies sent to receivers */
	uint64_t layer_drops;      /* copies withheld by layer selection */
	uint32_t last_seq;
	uint32_t last_tid;         /* temporal layer of the last packet (video) */
	/* SRTP meetings: position of the stream's inbound context (srtp_fast.h), for `mmrctl stats`
	 * (srtp_roc) only: its highest authenticated RTP index rounded down to 2^15, ROC = srtp_index
	 * >> 16. Set to 0 by the control thread when the context is made, then stored (relaxed atomic)
	 * by the receiving lcore when it changes: twice per 65536 packets. 0 in plain meetings.
	 * Restarts resume from the dataplane's ledger, not from here. */
	uint64_t srtp_index;
};

/* The dataplane's control thread's counters (the cost of table changes). */
struct mmr_ctl_stats {
	uint64_t arrays_published;   /* output arrays built and published (one per dirty stream per batch) */
	uint64_t grace_periods;      /* synchronize_rcu() waits */
	uint64_t target_updates;     /* SUB_PUTs that changed only a target: one word stored, nothing
					published */
	uint64_t snapshots;          /* event snapshots sent (cmd_chan.h, ev_snap_req) */
	uint64_t snapshot_events;    /* events those snapshots sent */
} __attribute__((aligned(64)));

/* The whole counters area. */
struct mmr_stats_area {
	struct mmr_lcore_stats lcore[MMR_MAX_LCORES];
	struct mmr_port_stats port[MMR_MAX_PORTS];
	struct mmr_stream_stats stream[MMR_MAX_STREAMS];
	/* SRTP meetings: position of each subscription's outbound context (its receiver's copies), as
	 * stream[].srtp_index, indexed by subscription id; written by the lcore receiving the stream. */
	uint64_t sub_srtp_index[MMR_MAX_SUBS] __attribute__((aligned(64)));
	struct mmr_ctl_stats ctl;
};

#endif
