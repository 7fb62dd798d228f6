/*
 * test_layer_rate.c - unit tests of the windowed per-layer byte counters (lib/alloc/layer_rate.c):
 * steady rates per (sid, tid) over the 4 x 250 ms window, a rate change leaving the window within a
 * second, idle gaps (longer than the window: all zero), the first packet's short window, layers
 * beyond the limits not counted, time going backwards.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "layer_rate.h"

#define MS 1000ull

/* Packets of `bytes` every `every_ms` for layer (s, t) from t0 to t1 (ms). */
static void feed(struct layer_rate *r, unsigned s, unsigned t, uint32_t bytes, uint64_t every_ms,
		 uint64_t t0, uint64_t t1)
{
	for (uint64_t ms = t0; ms < t1; ms += every_ms)
		layer_rate_add(r, ms * MS, s, t, bytes);
}

static void test_steady(void **state)
{
	(void)state;
	struct layer_rate r;
	uint32_t bps[MEDIA_MAX_SPATIAL][MEDIA_MAX_TEMPORAL];

	layer_rate_init(&r);
	layer_rate_get(&r, 5000 * MS, bps);
	for (unsigned s = 0; s < MEDIA_MAX_SPATIAL; s++)
		for (unsigned t = 0; t < MEDIA_MAX_TEMPORAL; t++)
			assert_int_equal(bps[s][t], 0);
	/* 1000 B every 10 ms = 800 kbit/s on (0,0); 500 B every 20 ms = 200 kbit/s on (2,3) */
	for (uint64_t ms = 10000; ms < 13000; ms += 10) {
		layer_rate_add(&r, ms * MS, 0, 0, 1000);
		if (ms % 20 == 0)
			layer_rate_add(&r, ms * MS, 2, 3, 500);
	}
	layer_rate_get(&r, 13000 * MS, bps);
	assert_in_range(bps[0][0], 780000, 820000);
	assert_in_range(bps[2][3], 190000, 210000);
	assert_int_equal(bps[1][1], 0);
	/* the rate halves: within a second the window shows the new rate */
	feed(&r, 0, 0, 500, 10, 13000, 14010);
	layer_rate_get(&r, 14010 * MS, bps);
	assert_in_range(bps[0][0], 390000, 410000);
	/* (2,3) stopped at 13 s: gone a second later */
	assert_int_equal(bps[2][3], 0);
}

static void test_first_window_and_idle(void **state)
{
	(void)state;
	struct layer_rate r;
	uint32_t bps[MEDIA_MAX_SPATIAL][MEDIA_MAX_TEMPORAL];

	layer_rate_init(&r);
	/* 100 ms of 400 kbit/s right after the start: measured over at least one bucket (250 ms),
	 * so no burst figure */
	feed(&r, 1, 0, 500, 10, 1000, 1100);
	layer_rate_get(&r, 1100 * MS, bps);
	assert_true(bps[1][0] <= 400000);
	assert_in_range(bps[1][0], 150000, 170000);
	/* after 600 ms the span is 600 ms */
	feed(&r, 1, 0, 500, 10, 1100, 1600);
	layer_rate_get(&r, 1600 * MS, bps);
	assert_in_range(bps[1][0], 390000, 410000);
	/* an idle gap longer than the window: zero, and counting starts over cleanly */
	layer_rate_get(&r, 10000 * MS, bps);
	assert_int_equal(bps[1][0], 0);
	feed(&r, 1, 0, 500, 10, 10000, 11000);
	layer_rate_get(&r, 11000 * MS, bps);
	assert_in_range(bps[1][0], 390000, 410000);
	/* beyond the limits: not counted, nothing else changes */
	layer_rate_add(&r, 11000 * MS, MEDIA_MAX_SPATIAL, 0, 100000);
	layer_rate_add(&r, 11000 * MS, 0, MEDIA_MAX_TEMPORAL, 100000);
	layer_rate_get(&r, 11000 * MS, bps);
	assert_int_equal(bps[0][0], 0);
	assert_in_range(bps[1][0], 390000, 410000);
	/* time going back counts into the current bucket */
	layer_rate_add(&r, 5000 * MS, 0, 1, 1000);
	layer_rate_get(&r, 11000 * MS, bps);
	assert_in_range(bps[0][1], 8000, 11000);   /* 8000 bits over a 0.75-1 s window */
}

/* The per-packet add is one compare and one add; a long run of random timing keeps sums exact. */
static void test_exact_sums(void **state)
{
	(void)state;
	struct layer_rate r;
	uint32_t bps[MEDIA_MAX_SPATIAL][MEDIA_MAX_TEMPORAL];
	uint64_t now = 1000000 * MS;
	uint32_t x = 99;

	layer_rate_init(&r);
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13; x ^= x >> 17; x ^= x << 5;
		now += x % 3000;       /* 0-3 ms */
		layer_rate_add(&r, now, x % 3, (x >> 4) % 4, 1200);
	}
	/* 1200 B every 1.5 ms on average over 12 layers: about 533 kbit/s each */
	layer_rate_get(&r, now, bps);
	uint64_t sum = 0;
	for (unsigned s = 0; s < MEDIA_MAX_SPATIAL; s++)
		for (unsigned t = 0; t < MEDIA_MAX_TEMPORAL; t++) {
			assert_in_range(bps[s][t], 400000, 700000);
			sum += bps[s][t];
		}
	assert_in_range(sum, 5900000, 6900000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_steady),
		cmocka_unit_test(test_first_window_and_idle),
		cmocka_unit_test(test_exact_sums),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
