/*
 * latency_hist.h - a log-linear histogram of TSC cycle counts (32 buckets per power of two, so a
 * percentile is within about 3 % of the true value), cheap enough to record every packet.
 */
#ifndef MMR_GEN_LATENCY_HIST_H
#define MMR_GEN_LATENCY_HIST_H

#include <stdint.h>

#define LHIST_SUB_BITS 5u
#define LHIST_BUCKETS  (64u + (64u - 6u) * 32u)

struct latency_hist {
	uint64_t n;
	uint64_t max;
	uint64_t sum;
	uint64_t bucket[LHIST_BUCKETS];
};

void lhist_reset(struct latency_hist *h);
static inline unsigned lhist_index(uint64_t v)
{
	if (v < 64)
		return (unsigned)v;
	unsigned e = 63u - (unsigned)__builtin_clzll(v);   /* >= 6 */
	return 64u + (e - 6u) * 32u + (unsigned)((v >> (e - LHIST_SUB_BITS)) & 31u);
}
static inline void lhist_add(struct latency_hist *h, uint64_t v)
{
	h->bucket[lhist_index(v)]++;
	h->n++;
	h->sum += v;
	if (v > h->max)
		h->max = v;
}
/* The value below which a fraction q (0..1) of the samples lie (a bucket's upper edge); 0 if empty. */
uint64_t lhist_quantile(const struct latency_hist *h, double q);
void lhist_merge(struct latency_hist *into, const struct latency_hist *from);

#endif
