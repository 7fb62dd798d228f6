/*
 * pkt_ring.c - the recent packets of a stream by extended sequence number (see pkt_ring.h).
 */
#include <string.h>

#include "pkt_ring.h"

int pkt_ring_init(struct pkt_ring *r, uint32_t n)
{
	if (!pkt_ring_size(n))
		return -1;
	r->mask = n - 1;
	r->count = 0;
	memset(r->slot, 0, (size_t)n * sizeof(r->slot[0]));
	return 0;
}

void *pkt_ring_put(struct pkt_ring *r, void *pkt, uint32_t ext_seq, uint64_t tsc)
{
	struct pkt_ring_slot *sl = &r->slot[ext_seq & r->mask];
	void *old = sl->pkt;

	if (old) {
		if (sl->ext_seq == ext_seq || (int32_t)(ext_seq - sl->ext_seq) < 0)
			return pkt;     /* already kept, or older than what the slot holds */
	} else {
		r->count++;
	}
	sl->pkt = pkt;
	sl->ext_seq = ext_seq;
	sl->tsc = tsc;
	return old;
}

void *pkt_ring_take(struct pkt_ring *r, uint32_t ext_seq)
{
	struct pkt_ring_slot *sl = &r->slot[ext_seq & r->mask];
	void *pkt = sl->pkt;

	if (!pkt || sl->ext_seq != ext_seq)
		return NULL;
	sl->pkt = NULL;
	r->count--;
	return pkt;
}

void pkt_ring_drain(struct pkt_ring *r, void (*release)(void *pkt, void *arg), void *arg)
{
	uint32_t i;

	for (i = 0; i <= r->mask; i++) {
		if (r->slot[i].pkt) {
			release(r->slot[i].pkt, arg);
			r->slot[i].pkt = NULL;
		}
	}
	r->count = 0;
}
