/*
 * layer_rate.c - the windowed per-layer byte counters of layer_rate.h: the rollover (at most once
 * per bucket per stream) and the read-out as bit/s.
 */
#include "layer_rate.h"

#include <string.h>

void layer_rate_init(struct layer_rate *r)
{
	memset(r, 0, sizeof(*r));
}

void layer_rate_roll(struct layer_rate *r, uint64_t now_us)
{
	if (!r->started) {
		/* the first packet opens the window */
		memset(r->bytes, 0, sizeof(r->bytes));
		r->started = 1;
		r->start_us = now_us;
		r->cur = 0;
		r->bucket_end_us = now_us + LAYER_RATE_BUCKET_US;
		return;
	}
	/* at most LAYER_RATE_BUCKETS steps: an idle gap of a whole window clears everything */
	for (unsigned i = 0; i < LAYER_RATE_BUCKETS && now_us >= r->bucket_end_us; i++) {
		r->cur = (r->cur + 1) % LAYER_RATE_BUCKETS;
		memset(r->bytes[r->cur], 0, sizeof(r->bytes[r->cur]));
		r->bucket_end_us += LAYER_RATE_BUCKET_US;
	}
	if (now_us >= r->bucket_end_us) {
		/* idle longer than the window: start over, aligned to now */
		memset(r->bytes, 0, sizeof(r->bytes));
		r->bucket_end_us = now_us + LAYER_RATE_BUCKET_US;
		r->start_us = now_us - (uint64_t)(LAYER_RATE_BUCKETS - 1) * LAYER_RATE_BUCKET_US;
	}
}

void layer_rate_get(struct layer_rate *r, uint64_t now_us, uint32_t bps[MEDIA_MAX_SPATIAL][MEDIA_MAX_TEMPORAL])
{
	memset(bps, 0, sizeof(uint32_t) * MEDIA_MAX_SPATIAL * MEDIA_MAX_TEMPORAL);
	if (!r->started)
		return;
	if (now_us >= r->bucket_end_us)
		layer_rate_roll(r, now_us);
	/* the window: 3 whole past buckets and the current one up to now (never before the start) */
	uint64_t win_start = r->bucket_end_us - (uint64_t)LAYER_RATE_BUCKETS * LAYER_RATE_BUCKET_US;
	if (r->bucket_end_us < (uint64_t)LAYER_RATE_BUCKETS * LAYER_RATE_BUCKET_US || win_start < r->start_us)
		win_start = r->start_us;
	uint64_t span = now_us > win_start ? now_us - win_start : 0;
	if (span < LAYER_RATE_BUCKET_US)
		span = LAYER_RATE_BUCKET_US;    /* at least one bucket: no burst from a short span */
	for (unsigned l = 0; l < LAYER_RATE_LAYERS; l++) {
		uint64_t sum = 0;
		for (unsigned b = 0; b < LAYER_RATE_BUCKETS; b++)
			sum += r->bytes[b][l];
		uint64_t v = sum * 8u * 1000000u / span;
		bps[l / MEDIA_MAX_TEMPORAL][l % MEDIA_MAX_TEMPORAL] = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
	}
}
