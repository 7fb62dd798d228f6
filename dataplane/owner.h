/*
 * owner.h - which worker lcore owns a meeting: the owner word, the routing rule every worker applies
 * to a packet of a meeting, and the placement choice. Pure functions (no DPDK), unit-tested in
 * tests/unit/test_owner.c; the control thread's side (placement, moves) is meeting_owner.c, the
 * workers' side (rings, hold queue) handoff.c.
 *
 * One byte per meeting (dataplane.h, dp->owner[meeting id]), written by the control thread (and, at
 * the end of a move, by the lcore the meeting moves to), read relaxed by every worker:
 *     i                    worker i owns the meeting
 *     MMR_OWNER_MOVING | i  the meeting moves to worker i: i holds its packets until the previous
 *                          owner has processed everything it was handed before (docs/dataplane.md,
 *                          "Moving a meeting")
 *     MMR_OWNER_NONE       not placed (no participant has been put yet)
 * The fast path is the one compare `word == my index`.
 */
#ifndef MMR_DP_OWNER_H
#define MMR_DP_OWNER_H

#include <stdint.h>
#include "stats.h"

enum owner_route {
	OWNER_PROCESS,     /* ours (or the previous owner draining what it was handed): process it here */
	OWNER_HOLD,        /* the meeting moves to us: keep it in order until the move completes */
	OWNER_HAND_OFF,    /* another lcore's: hand it to *to */
};

/*
 * What worker `me` does with a packet of a meeting whose owner word is `word`. from_ring: the packet
 * came through a hand-off ring (another lcore saw us as the owner, or as the lcore the meeting moves
 * to); otherwise it came from our own RX queue.
 *   - a ring packet while the meeting moves away from us (MOVING to another lcore): we owned it when it
 *     was sent, and the move waits for us to process it (the drain): process;
 *   - a ring packet of a meeting that is another lcore's and not moving (a meeting emptied and placed
 *     again elsewhere while it was in the ring): hand it on;
 *   - not placed: process here (cannot happen for a published participant: placement comes first).
 */
static inline enum owner_route owner_route(uint8_t word, unsigned me, int from_ring, unsigned *to)
{
	if (word == me || word == MMR_OWNER_NONE)
		return OWNER_PROCESS;
	unsigned idx = word & MMR_OWNER_INDEX;
	if (word & MMR_OWNER_MOVING) {
		if (idx == me)
			return OWNER_HOLD;
		if (from_ring)
			return OWNER_PROCESS;
	}
	*to = idx;
	return OWNER_HAND_OFF;
}

/* The least loaded of n workers (load: participants of the meetings each owns); the lowest index
 * among equals. n >= 1. */
static inline unsigned owner_pick(const uint32_t *load, unsigned n)
{
	unsigned best = 0;
	for (unsigned i = 1; i < n; i++)
		if (load[i] < load[best])
			best = i;
	return best;
}

#endif
