/*
 * handoff.h - moving a packet to the worker lcore that owns its meeting (owner.h): one lockless
 * single-producer/single-consumer rte_ring per ordered pair of workers, made at start-up; per
 * destination a burst buffer that the sending worker fills and flushes once per loop iteration
 * (a full ring: the rest is dropped as handoff_full); and a bounded hold queue where the lcore a
 * meeting moves to keeps that meeting's packets, in arrival order, until the move completes
 * (overflow: hold_full). The receiving worker drains its rings every iteration and processes their
 * packets like its own (worker.c). No locks, syscalls or allocation on the packet path.
 */
#ifndef MMR_DP_HANDOFF_H
#define MMR_DP_HANDOFF_H

#include <rte_mbuf.h>
#include <rte_ring.h>
#include "worker.h"

#define HANDOFF_RING_SIZE 2048u   /* entries per ring (power of two) */

/* Start-up (main lcore): the rings between every pair of the dp->n_workers workers. 0 or -1. */
int handoff_rings_create(struct dataplane *dp);
void handoff_rings_free(struct dataplane *dp);

/* A ring of mbufs (hand-off, DTLS, neighbour rings) freed with what is still in it; NULL: nothing.
 * Only once no thread uses it. */
void dp_mbuf_ring_free(struct rte_ring *r);

/* Move destination `to`'s buffer into its ring; what does not fit is dropped (handoff_full). */
static inline void handoff_flush_one(struct worker *w, unsigned to)
{
	struct handoff_buf *b = &w->ho_out[to];
	unsigned n = rte_ring_sp_enqueue_burst(w->ho_ring[to], (void **)b->m, b->n, NULL);
	w->st->handoff_out += n;
	if (unlikely(n < b->n)) {
		w->st->drops[MMR_DROP_HANDOFF_FULL] += b->n - n;
		rte_pktmbuf_free_bulk(b->m + n, b->n - n);
	}
	b->n = 0;
	w->ho_pending &= ~(1u << to);
}

/* Hand m (received on our queue; its meeting is owned by worker `to`) to its owner. */
static inline void handoff_put(struct worker *w, unsigned to, struct rte_mbuf *m)
{
	struct handoff_buf *b = &w->ho_out[to];
	b->m[b->n++] = m;
	w->ho_pending |= 1u << to;
	if (unlikely(b->n == WORKER_BURST))
		handoff_flush_one(w, to);
}

/* Keep m (its meeting moves to us) until the move completes. */
static inline void handoff_hold(struct worker *w, struct rte_mbuf *m)
{
	if (unlikely(w->hold_n == WORKER_HOLD_MAX)) {
		w->st->drops[MMR_DROP_HOLD_FULL]++;
		rte_pktmbuf_free(m);
		return;
	}
	w->hold[w->hold_n++] = m;
	w->st->held++;
}

/* Flush every destination's buffer (end of a loop iteration, before the quiescent state). */
static inline void handoff_flush(struct worker *w)
{
	uint32_t p = w->ho_pending;
	while (p) {
		unsigned to = (unsigned)__builtin_ctz(p);
		p &= p - 1;
		handoff_flush_one(w, to);
	}
}

#endif
