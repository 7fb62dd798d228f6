/*
 * test_nack_gen.c - unit tests of the uplink NACK generator (lib/repair/nack_gen.c): gaps found
 * from extended seqs, the 5 ms reordering allowance, re-asks once per RTT (20 ms at least, 100 ms
 * unknown), 10 tries then given up (hopeless), the age limit, the 256-missing limit (cleared,
 * hopeless), late and retransmitted packets removing their seq, a keyframe dropping older ones,
 * 16-bit output across the wrap, the max argument; and random streams (loss, reordering,
 * duplicates, random call times) against the invariants: the list sorted, inside the window, only
 * seqs never received, each seq asked at most 10 times and never twice within the interval.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "nack_gen.h"
#include "unit_util.h"

#define HZ 1000000000ull     /* ticks are ns */
#define MS 1000000ull

static struct nack_gen g;

static void seqs_equal(const uint16_t *got, unsigned n, const uint16_t *want, unsigned nw)
{
	assert_int_equal(n, nw);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(got[i], want[i]);
}

static void test_gap_reask(void **state)
{
	(void)state;
	uint16_t s[64];
	uint64_t t = 1000 * MS;

	nack_gen_init(&g, HZ);
	assert_int_equal(g.reorder_tsc, 0);   /* by default a gap is asked for at once */
	g.reorder_tsc = 5 * MS;               /* the allowance, when one is set */
	for (uint32_t q = 1; q <= 10; q++)
		assert_int_equal(nack_gen_on_seq(&g, q, t), NACK_GEN_IN_ORDER);
	assert_int_equal(nack_gen_next_tsc(&g), UINT64_MAX);
	assert_int_equal(nack_gen_on_seq(&g, 14, t), NACK_GEN_IN_ORDER);
	assert_int_equal(nack_gen_missing(&g), 3);
	assert_int_equal(nack_gen_next_tsc(&g), t + 5 * MS);
	/* reordering allowance */
	assert_int_equal(nack_gen_due(&g, t + 4 * MS, 0, s, 64), 0);
	assert_int_equal(nack_gen_due(&g, t + 5 * MS, 0, s, 64), 3);
	seqs_equal(s, 3, (uint16_t[]){ 11, 12, 13 }, 3);
	/* 12 arrives late (reordered beyond 5 ms, or retransmitted) */
	assert_int_equal(nack_gen_on_seq(&g, 12, t + 6 * MS), NACK_GEN_REPAIRED);
	assert_int_equal(nack_gen_on_seq(&g, 12, t + 6 * MS), NACK_GEN_OLD);
	assert_int_equal(nack_gen_on_seq(&g, 9, t + 6 * MS), NACK_GEN_OLD);
	assert_int_equal(nack_gen_on_seq(&g, 14, t + 6 * MS), NACK_GEN_OLD);
	assert_int_equal(g.repaired, 1);
	/* re-ask after the default RTT (100 ms) */
	assert_int_equal(nack_gen_next_tsc(&g), t + 105 * MS);
	assert_int_equal(nack_gen_due(&g, t + 104 * MS, 0, s, 64), 0);
	assert_int_equal(nack_gen_due(&g, t + 105 * MS, 0, s, 64), 2);
	seqs_equal(s, 2, (uint16_t[]){ 11, 13 }, 2);
	/* a known RTT of 30 ms */
	assert_int_equal(nack_gen_due(&g, t + 134 * MS, 30000, s, 64), 0);
	assert_int_equal(nack_gen_due(&g, t + 135 * MS, 30000, s, 64), 2);
	/* an RTT below 20 ms: 20 ms */
	assert_int_equal(nack_gen_due(&g, t + 150 * MS, 1000, s, 64), 0);
	assert_int_equal(nack_gen_due(&g, t + 155 * MS, 1000, s, 64), 2);
	assert_int_equal(g.asked, 3 + 2 + 2 + 2);
	/* a new gap while others are listed: the list stays sorted, old ones first */
	assert_int_equal(nack_gen_on_seq(&g, 17, t + 156 * MS), NACK_GEN_IN_ORDER);
	assert_int_equal(nack_gen_due(&g, t + 175 * MS, 1000, s, 64), 4);
	seqs_equal(s, 4, (uint16_t[]){ 11, 13, 15, 16 }, 4);
	assert_false(nack_gen_hopeless(&g));
}

/* max_tries (the dataplane's nack_max_tries, changed at run time by SIGHUP): 3 asks then given up;
 * 0: given up at once, never asked. */
static void test_max_tries_setting(void **state)
{
	(void)state;
	uint16_t s[8];
	uint64_t t = 5 * MS, now;
	unsigned asks = 0;

	nack_gen_init(&g, HZ);
	assert_int_equal(g.max_tries, NACK_GEN_MAX_TRIES);
	g.max_tries = 3;
	nack_gen_on_seq(&g, 100, t);
	nack_gen_on_seq(&g, 102, t);
	for (now = t; now < t + 900 * MS; now += MS)
		asks += nack_gen_due(&g, now, 50000, s, 8);
	assert_int_equal(asks, 3);
	assert_int_equal(g.given_up, 1);
	assert_true(nack_gen_hopeless(&g));

	nack_gen_init(&g, HZ);
	g.max_tries = 0;
	nack_gen_on_seq(&g, 100, t);
	nack_gen_on_seq(&g, 102, t);
	asks = 0;
	for (now = t; now < t + 900 * MS; now += MS)
		asks += nack_gen_due(&g, now, 50000, s, 8);
	assert_int_equal(asks, 0);
	assert_int_equal(g.given_up, 1);
	assert_true(nack_gen_hopeless(&g));
}

static void test_tries_and_age(void **state)
{
	(void)state;
	uint16_t s[8];
	uint64_t t = 5 * MS, now;
	unsigned asks = 0;

	nack_gen_init(&g, HZ);
	nack_gen_on_seq(&g, 100, t);
	nack_gen_on_seq(&g, 102, t);                 /* 101 missing */
	for (now = t; now < t + 900 * MS; now += MS)
		asks += nack_gen_due(&g, now, 50000, s, 8);
	/* at 5 ms, then every 50 ms: 10 tries by 455 ms; dropped 50 ms after the last */
	assert_int_equal(asks, NACK_GEN_MAX_TRIES);
	assert_int_equal(nack_gen_missing(&g), 0);
	assert_int_equal(g.given_up, 1);
	assert_true(nack_gen_hopeless(&g));
	assert_false(nack_gen_hopeless(&g));
	assert_int_equal(nack_gen_next_tsc(&g), UINT64_MAX);

	/* the age limit (1 s) before the tries run out: RTT 400 ms */
	nack_gen_init(&g, HZ);
	nack_gen_on_seq(&g, 100, t);
	nack_gen_on_seq(&g, 102, t);
	asks = 0;
	for (now = t; now < t + 999 * MS; now += MS)
		asks += nack_gen_due(&g, now, 400000, s, 8);
	assert_int_equal(asks, 3);                   /* 5, 405, 805 ms */
	assert_int_equal(nack_gen_missing(&g), 1);
	assert_int_equal(nack_gen_next_tsc(&g), t + 1000 * MS);
	assert_int_equal(nack_gen_due(&g, t + 1000 * MS, 400000, s, 8), 0);
	assert_int_equal(nack_gen_missing(&g), 0);
	assert_true(nack_gen_hopeless(&g));
}

static void test_overflow_keyframe_wrap(void **state)
{
	(void)state;
	uint16_t s[300];

	nack_gen_init(&g, HZ);
	nack_gen_on_seq(&g, 1000, 0);
	assert_int_equal(nack_gen_on_seq(&g, 1000 + NACK_GEN_MAX_MISSING + 1, 0), NACK_GEN_IN_ORDER);
	assert_int_equal(nack_gen_missing(&g), NACK_GEN_MAX_MISSING);
	assert_false(nack_gen_hopeless(&g));
	/* one more missing: cleared, hopeless */
	assert_int_equal(nack_gen_on_seq(&g, 1000 + NACK_GEN_MAX_MISSING + 3, 0), NACK_GEN_OVERFLOW);
	assert_int_equal(nack_gen_missing(&g), 0);
	assert_true(nack_gen_hopeless(&g));
	assert_int_equal(nack_gen_due(&g, 10 * MS, 0, s, 300), 0);
	/* continues from there */
	assert_int_equal(nack_gen_on_seq(&g, 1000 + NACK_GEN_MAX_MISSING + 5, 0), NACK_GEN_IN_ORDER);
	assert_int_equal(nack_gen_missing(&g), 1);

	/* keyframe at 2010: 2001..2009 not needed any more, 2011.. still */
	nack_gen_init(&g, HZ);
	nack_gen_on_seq(&g, 2000, 0);
	nack_gen_on_seq(&g, 2010, 0);
	nack_gen_on_seq(&g, 2015, 0);
	assert_int_equal(nack_gen_missing(&g), 13);
	nack_gen_keyframe(&g, 2010);
	assert_int_equal(nack_gen_missing(&g), 4);
	assert_int_equal(nack_gen_due(&g, 5 * MS, 0, s, 300), 4);
	seqs_equal(s, 4, (uint16_t[]){ 2011, 2012, 2013, 2014 }, 4);
	nack_gen_keyframe(&g, 3000);
	assert_int_equal(nack_gen_missing(&g), 0);
	assert_int_equal(nack_gen_next_tsc(&g), UINT64_MAX);
	assert_false(nack_gen_hopeless(&g));

	/* 16-bit output across the wrap; max splits the batch */
	nack_gen_init(&g, HZ);
	nack_gen_on_seq(&g, 65534, 0);
	nack_gen_on_seq(&g, 65538, 0);
	assert_int_equal(nack_gen_due(&g, 5 * MS, 0, s, 2), 2);
	seqs_equal(s, 2, (uint16_t[]){ 65535, 0 }, 2);
	assert_true(nack_gen_next_tsc(&g) <= 5 * MS);
	assert_int_equal(nack_gen_due(&g, 5 * MS, 0, s, 2), 1);
	assert_int_equal(s[0], 1);
	assert_int_equal(nack_gen_on_seq(&g, 65536, 6 * MS), NACK_GEN_REPAIRED);
	/* reset forgets the list */
	nack_gen_reset(&g);
	assert_int_equal(nack_gen_missing(&g), 0);
	assert_int_equal(nack_gen_on_seq(&g, 5, 0), NACK_GEN_IN_ORDER);
	assert_int_equal(nack_gen_missing(&g), 0);
}

/* ---- random streams against the invariants ------------------------------------------------ */

#define SPAN 4096u
struct model {
	bool received[SPAN];      /* by ext seq - base */
	uint8_t asked[SPAN];
	uint64_t last_ask[SPAN];
};

static void check_list(const struct nack_gen *gg, const struct model *m, uint32_t base)
{
	assert_true(gg->n <= NACK_GEN_MAX_MISSING);
	for (unsigned i = 0; i < gg->n; i++) {
		uint32_t q = gg->item[i].ext_seq;

		if (i)
			assert_true((int32_t)(q - gg->item[i - 1].ext_seq) > 0);
		assert_true((int32_t)(gg->newest - q) > 0);
		assert_false(m->received[q - base]);
		assert_true(gg->item[i].tries <= NACK_GEN_MAX_TRIES);
	}
}

static void run_random(uint32_t seed, uint32_t base)
{
	static struct model m;
	uint16_t s[NACK_GEN_MAX_MISSING];
	uint64_t now = 1;
	uint32_t next = 0, rtt_us = 0;
	unsigned repaired = 0, asks = 0;

	memset(&m, 0, sizeof(m));
	rng_state = seed;
	nack_gen_init(&g, HZ);
	while (next < SPAN - 64) {
		uint32_t r = rnd() % 1000;
		uint32_t q;

		now += (rnd() % 4000) * 1000;              /* 0..4 ms */
		if (r < 30) {
			next += 1 + rnd() % (r < 2 ? 400 : 8);  /* a loss burst, sometimes huge */
			continue;
		}
		if (r < 100 && next > 40) {
			q = next - 1 - rnd() % 40;           /* late: reordered or retransmitted */
		} else {
			q = next++;
		}
		bool was = m.received[q];
		enum nack_gen_result res = nack_gen_on_seq(&g, base + q, now);
		m.received[q] = true;
		if (res == NACK_GEN_REPAIRED) {
			assert_false(was);
			repaired++;
		}
		if (was)
			assert_int_equal(res, NACK_GEN_OLD);
		if (rnd() % 3 == 0) {
			if (rnd() % 50 == 0)
				rtt_us = rnd() % 300000;
			uint64_t iv = (rtt_us ? rtt_us : NACK_GEN_DEFAULT_RTT_US) * 1000ull;
			if (iv < NACK_GEN_MIN_INTERVAL_US * 1000ull)
				iv = NACK_GEN_MIN_INTERVAL_US * 1000ull;
			unsigned n = nack_gen_due(&g, now, rtt_us, s, 1 + rnd() % NACK_GEN_MAX_MISSING);
			for (unsigned i = 0; i < n; i++) {
				uint32_t e = (uint16_t)(s[i] - (uint16_t)base);   /* back to our index */

				assert_true(e < SPAN);
				assert_false(m.received[e]);
				assert_true(m.asked[e] < NACK_GEN_MAX_TRIES);
				if (m.asked[e])
					assert_true(now - m.last_ask[e] >= iv);
				m.asked[e]++;
				m.last_ask[e] = now;
				asks++;
			}
		}
		check_list(&g, &m, base);
		nack_gen_hopeless(&g);
	}
	assert_int_equal(g.repaired, repaired);
	assert_int_equal(g.asked, asks);
	assert_true(asks > 100);
	assert_true(repaired > 10);
}

static void test_random(void **state)
{
	(void)state;
	for (uint32_t seed = 1; seed <= 40; seed++)
		run_random(seed * 2654435761u, seed & 1 ? 65000 : 0xfffff000u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gap_reask),
		cmocka_unit_test(test_tries_and_age),
		cmocka_unit_test(test_max_tries_setting),
		cmocka_unit_test(test_overflow_keyframe_wrap),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
