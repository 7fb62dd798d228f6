/*
 * neigh.h - neighbour resolution: the MACs of each port's gateway and on-link receivers, found by
 * ARP (IPv4) and IPv6 neighbour discovery, refreshed, and read per copy by the workers.
 *
 * One table of DP_NEIGH_MAX entries for all ports (fixed, allocated at start), written by the
 * control thread only (ctl_loop.c calls dp_neigh_service every loop; cmd_apply.c takes and drops
 * references). An entry's MAC is published to the workers as one 64-bit word (dp_neigh_words[]):
 * bytes 0-5 the MAC, byte 6 nonzero while it may be used. One atomic load: a worker never sees a
 * torn MAC, and an entry that fails keeps its MAC bytes (only byte 6 is cleared), so a copy built
 * across that instant still goes to the last MAC the neighbour announced, never to a zero one.
 *
 * A receiver without its own MAC (PARTICIPANT_PUT) is reached through: its own entry when its
 * address is inside the port's prefix (ipv4_prefix / ipv6_prefix: on-link), else the port's static
 * gateway_mac if configured (index 0: the output's dst_mac), else the gateway's entry
 * (gateway_ipv4 / gateway_ipv6). Its outputs (struct fwd_output.neigh) hold the entry's index, so
 * a MAC change is one store, followed by every copy at once; a copy whose entry is not usable is
 * dropped (neigh_unresolved) and asks for resolution (dp_neigh_want[]).
 *
 *   workers (ARP replies, gratuitous ARP, neighbour advertisements) --neigh_in (MP/SC ring)-->
 *   control thread --neigh_tx (SP/SC ring)--> worker 0, sent on its TX queue (requests, NS)
 *
 * States: incomplete (requests every neigh_retrans_ms, neigh_tries of them, then failed),
 * reachable (for neigh_reachable_s, then stale: still used, and probed: first unicast to the known
 * MAC, then broadcast / solicited-node multicast; unanswered: failed), failed (no copies; again
 * 5 s after the failure, or 1 s after it when a copy asks, while someone uses it), static
 * (configured, never changed).
 * An ARP reply, gratuitous ARP (sender = target address) or advertisement with a target link-layer
 * address for an entry that is not static sets its MAC and makes it reachable.
 */
#ifndef MMR_DP_NEIGH_WORDS_H     /* the part rewrite.h needs (DPDK-free: tests/unit/test_rewrite.c) */
#define MMR_DP_NEIGH_WORDS_H

#include <stdint.h>
#include <string.h>
#include "mmr_types.h"

#define DP_NEIGH_PER_PORT 256u
#define DP_NEIGH_MAX      (MMR_MAX_PORTS * DP_NEIGH_PER_PORT)   /* indexes 1..DP_NEIGH_MAX; 0: none */
#define DP_NEIGH_IN_RING  512u
#define DP_NEIGH_TX_RING  256u

enum dp_neigh_state {
	DP_NEIGH_FREE = 0,
	DP_NEIGH_INCOMPLETE,
	DP_NEIGH_REACHABLE,
	DP_NEIGH_STALE,
	DP_NEIGH_FAILED,
	DP_NEIGH_STATIC,
};

/* The published words and the workers' requests, indexed by entry (0 unused). */
extern uint64_t dp_neigh_words[DP_NEIGH_MAX + 1];
extern uint8_t dp_neigh_want[DP_NEIGH_MAX + 1];

/* Worker: entry i's word (one relaxed load). */
static inline uint64_t dp_neigh_word(uint16_t i)
{
	return __atomic_load_n(&dp_neigh_words[i], __ATOMIC_RELAXED);
}

static inline int dp_neigh_word_ok(uint64_t w)
{
	uint8_t b[8];
	memcpy(b, &w, 8);
	return b[6] != 0;
}

/* Worker: a copy for entry i could not go; ask the control thread to resolve it (a store only when
 * the flag is clear: a dropped burst does not bounce the line). */
static inline void dp_neigh_ask(uint16_t i)
{
	if (!__atomic_load_n(&dp_neigh_want[i], __ATOMIC_RELAXED))
		__atomic_store_n(&dp_neigh_want[i], 1, __ATOMIC_RELAXED);
}

#endif

#if !defined(MMR_NEIGH_WORDS_ONLY) && !defined(MMR_DP_NEIGH_H)
#define MMR_DP_NEIGH_H
#include <rte_mbuf.h>
#include "drop_reason.h"
#include "pkt.h"

struct dataplane;
struct worker;
struct rte_tel_data;

/* Start-up (after the ports, before the workers): rings, gateway and static entries. 0 or -1. */
int dp_neigh_init(struct dataplane *dp);
/* After the workers stopped: the rings and the mbufs in them. */
void dp_neigh_stop(struct dataplane *dp);
/* Control thread, every loop: what the workers handed over, then timers (requests, ageing). */
void dp_neigh_service(struct dataplane *dp);

/* Control thread (cmd_apply.c): can a receiver at a on port pidx without its own MAC be reached?
 * NULL, or why not (a static string). */
const char *dp_neigh_check(unsigned pidx, const struct mmr_addr *a);
/* Its entry index with a reference taken (0: the port's static gateway_mac; the check passed). */
uint16_t dp_neigh_ref(unsigned pidx, const struct mmr_addr *a);
void dp_neigh_unref(uint16_t idx);
/* Any thread but a worker (the DTLS thread's first ClientHello): the MAC a receiver at a on port
 * pidx without its own MAC is reached at now: 0 and mac, or -1 (not resolved, or no way). */
int dp_neigh_mac_for(unsigned pidx, const struct mmr_addr *a, uint8_t mac[6]);

/* Worker: an ARP frame not answered locally, or a neighbour advertisement. MMR_DROP_NONE: handed to
 * the control thread (m is not ours any more); otherwise the drop reason (m untouched). */
enum mmr_drop_reason dp_neigh_in(struct worker *w, struct rte_mbuf *m, const struct pkt_info *pi);
/* Worker 0, when its ring is not empty: send the control thread's requests. */
void dp_neigh_tx(struct worker *w);

/* Telemetry thread: the table as a dict (/mmr/neigh). */
void dp_neigh_telemetry(struct rte_tel_data *d);
#endif
