/*
 * latency_hist.c - quantiles of the log-linear histogram of latency_hist.h.
 */
#include "latency_hist.h"

#include <string.h>

void lhist_reset(struct latency_hist *h)
{
	memset(h, 0, sizeof(*h));
}

/* Largest value that falls into bucket i. */
static uint64_t bucket_top(unsigned i)
{
	if (i < 64)
		return i;
	unsigned e = (i - 64u) / 32u + 6u;
	uint64_t sub = (i - 64u) % 32u;
	uint64_t lo = (1ull << e) | (sub << (e - LHIST_SUB_BITS));
	return lo + (1ull << (e - LHIST_SUB_BITS)) - 1;
}

uint64_t lhist_quantile(const struct latency_hist *h, double q)
{
	if (h->n == 0)
		return 0;
	uint64_t want = (uint64_t)(q * (double)h->n);
	if (want >= h->n)
		want = h->n - 1;
	uint64_t seen = 0;
	for (unsigned i = 0; i < LHIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen > want) {
			uint64_t top = bucket_top(i);
			return top < h->max ? top : h->max;
		}
	}
	return h->max;
}

void lhist_merge(struct latency_hist *into, const struct latency_hist *from)
{
	for (unsigned i = 0; i < LHIST_BUCKETS; i++)
		into->bucket[i] += from->bucket[i];
	into->n += from->n;
	into->sum += from->sum;
	if (from->max > into->max)
		into->max = from->max;
}
