/*
 * pkt_ring.h - the recent packets of one published stream, kept for retransmission, keyed by their
 * extended (32-bit, with cycles) sequence number.
 *
 * A ring of 2^k slots indexed by ext_seq & mask; each slot holds an opaque packet pointer (the
 * dataplane's mbuf reference), its ext_seq and its arrival TSC. pkt_ring_put stores a packet and
 * hands back what the caller must release: the older packet it evicted from that slot, or the new
 * packet itself when it is not kept (already stored, or older than the slot's packet). pkt_ring_get
 * returns a packet only if exactly that ext_seq is stored: an evicted or never-stored seq gives NULL.
 * The ring never frees anything itself: the caller owns the pointers (pkt_ring_drain at teardown).
 *
 * Pure C, no allocation on the calls: the caller allocates pkt_ring_size(n) bytes and calls
 * pkt_ring_init. One ring per stream, written and read by the stream's owning lcore only.
 */
#ifndef MMR_PKT_RING_H
#define MMR_PKT_RING_H

#include <stddef.h>
#include <stdint.h>

#define PKT_RING_DEFAULT_VIDEO 512
#define PKT_RING_MAX           32768   /* slots; a larger size is refused */

struct pkt_ring_slot {
	void    *pkt;       /* NULL: empty */
	uint32_t ext_seq;
	uint32_t pad;
	uint64_t tsc;       /* arrival */
};

struct pkt_ring {
	uint32_t mask;      /* slots - 1 */
	uint32_t count;     /* slots holding a packet */
	struct pkt_ring_slot slot[];
};

/* Bytes for a ring of n slots (0 if n is not a power of 2 in 1..PKT_RING_MAX). */
static inline size_t pkt_ring_size(uint32_t n)
{
	if (n == 0 || n > PKT_RING_MAX || (n & (n - 1)))
		return 0;
	return sizeof(struct pkt_ring) + (size_t)n * sizeof(struct pkt_ring_slot);
}

/* Initialise r (pkt_ring_size(n) bytes) empty. Returns 0, or -1 if n is not a valid size. */
int pkt_ring_init(struct pkt_ring *r, uint32_t n);

/* Keep pkt (not NULL) as ext_seq, arrived at tsc. Returns NULL, or the pointer the caller must
 * release: the packet evicted from the slot (an older seq), or pkt itself when it is not kept
 * (ext_seq is already stored, or the slot holds a newer seq: pkt is too old for the ring). */
void *pkt_ring_put(struct pkt_ring *r, void *pkt, uint32_t ext_seq, uint64_t tsc);

/* The packet stored as ext_seq, or NULL. *tsc (if not NULL) gets its arrival TSC. */
static inline void *pkt_ring_get(const struct pkt_ring *r, uint32_t ext_seq, uint64_t *tsc)
{
	const struct pkt_ring_slot *sl = &r->slot[ext_seq & r->mask];

	if (!sl->pkt || sl->ext_seq != ext_seq)
		return NULL;
	if (tsc)
		*tsc = sl->tsc;
	return sl->pkt;
}

/* Remove ext_seq's packet and return it (the caller releases it), or NULL if not stored. */
void *pkt_ring_take(struct pkt_ring *r, uint32_t ext_seq);

/* Empty the ring, calling release(pkt, arg) for every packet held (teardown, stream restart). */
void pkt_ring_drain(struct pkt_ring *r, void (*release)(void *pkt, void *arg), void *arg);

#endif
