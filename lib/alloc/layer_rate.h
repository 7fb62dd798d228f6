/*
 * layer_rate.h - the measured bitrate of every layer of one video stream: bytes per (spatial,
 * temporal) layer in a sliding window of LAYER_RATE_BUCKETS buckets of LAYER_RATE_BUCKET_US each
 * (4 x 250 ms), for the bandwidth allocator (allocator.h) and the stream's layer_kbps counters.
 *
 * One struct layer_rate per video stream, written by the lcore that owns the stream (one add per
 * received packet: O(1), no division; a bucket rollover clears at most LAYER_RATE_BUCKETS
 * buckets), read on that lcore by layer_rate_get. Simulcast: each encoding's stream has its own,
 * sid 0. Layers beyond MEDIA_MAX_SPATIAL x MEDIA_MAX_TEMPORAL are not counted (the selection never
 * forwards them). Pure C, no allocation.
 */
#ifndef MMR_LAYER_RATE_H
#define MMR_LAYER_RATE_H

#include <stdint.h>
#include "mmr_types.h"

#define LAYER_RATE_BUCKETS   4
#define LAYER_RATE_BUCKET_US 250000u
#define LAYER_RATE_LAYERS    (MEDIA_MAX_SPATIAL * MEDIA_MAX_TEMPORAL)   /* index sid * 4 + tid */

struct layer_rate {
	uint64_t bucket_end_us;   /* the current bucket holds [bucket_end_us - 250 ms, bucket_end_us) */
	uint64_t start_us;        /* first add after init: the window is shorter until it is full */
	uint32_t cur;             /* index of the current bucket */
	uint32_t started;
	uint32_t bytes[LAYER_RATE_BUCKETS][LAYER_RATE_LAYERS];
};

/* Empty (nothing measured). */
void layer_rate_init(struct layer_rate *r);

/* Move the window to now_us (out of line: at most once per 250 ms per stream). */
void layer_rate_roll(struct layer_rate *r, uint64_t now_us);

/* One received packet of layer (sid, tid), bytes long (its RTP size). Time going backwards counts
 * into the current bucket. */
static inline void layer_rate_add(struct layer_rate *r, uint64_t now_us, unsigned sid, unsigned tid,
				  uint32_t bytes)
{
	if (__builtin_expect(now_us >= r->bucket_end_us, 0))
		layer_rate_roll(r, now_us);
	if (sid < MEDIA_MAX_SPATIAL && tid < MEDIA_MAX_TEMPORAL)
		r->bytes[r->cur][sid * MEDIA_MAX_TEMPORAL + tid] += bytes;
}

/* The bitrate of each layer alone (bit/s) over the window ending at now_us (the full window: the
 * 3 past buckets and the current one so far; shorter right after the first packet, at least one
 * bucket). All zero when nothing was measured in the window. */
void layer_rate_get(struct layer_rate *r, uint64_t now_us, uint32_t bps[MEDIA_MAX_SPATIAL][MEDIA_MAX_TEMPORAL]);

#endif
