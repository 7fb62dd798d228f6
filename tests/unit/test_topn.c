/*
 * test_topn.c - unit tests of top-N audio (lib/audio/topn.c): the energy EWMA and its 150 ms
 * expiry; the N loudest with the dominant speaker always in; stable slots (an incumbent keeps its
 * slot, a newcomer takes a free one or the weakest displaced incumbent's, a silent incumbent stays
 * until replaced, a stream that leaves frees its slot, N shrinking); the per (receiver, slot)
 * output numbering: contiguous seq and continuous ts across speaker changes, late packets of the
 * same speaker at their exact numbers, packets from before a speaker's first in the slot refused,
 * the 16-bit wrap, a long run.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "topn.h"

static void test_energy(void **state)
{
	(void)state;
	struct topn_energy e;

	topn_energy_init(&e);
	assert_int_equal(topn_energy_now(&e, 1000), 0);
	assert_int_equal(topn_energy_on_level(&e, 1000, 27), 0);
	assert_int_equal(topn_energy_now(&e, 1000), 100 << 8);
	topn_energy_on_level(&e, 1020, 127);               /* silence: halves */
	assert_int_equal(topn_energy_now(&e, 1020), 50 << 8);
	assert_int_equal(topn_energy_now(&e, 1020 + TOPN_EXPIRY_MS), 50 << 8);
	assert_int_equal(topn_energy_now(&e, 1021 + TOPN_EXPIRY_MS), 0);   /* expired */
	/* after expiry the EWMA starts over */
	topn_energy_on_level(&e, 2000, 67);
	assert_int_equal(topn_energy_now(&e, 2000), 60 << 8);
	struct topn_energy b = e;
	assert_int_equal(topn_energy_on_level(&e, 2020, 128), -1);
	assert_memory_equal(&e, &b, sizeof(e));
}

#define NS 10
static uint32_t ids[NS];
static struct topn_energy en[NS];
static const struct topn_energy *ep[NS];

static void setup_streams(uint64_t now)
{
	for (unsigned i = 0; i < NS; i++) {
		ids[i] = 500 + i;
		topn_energy_init(&en[i]);
		ep[i] = &en[i];
		(void)now;
	}
}

/* Set stream i's energy to loudness `loud` at now (a few packets of that level). */
static void speak(unsigned i, uint64_t now, unsigned loud)
{
	for (int k = 0; k < 8; k++)
		topn_energy_on_level(&en[i], now, (uint8_t)(127 - loud));
}

static void test_ranking_stable_slots(void **state)
{
	(void)state;
	struct topn t;
	uint64_t now = 10000;

	setup_streams(now);
	topn_init(&t, 3);
	assert_int_equal(t.n, 3);
	/* nobody heard: no slot filled */
	assert_int_equal(topn_update(&t, ids, ep, NS, -1, now), 0);
	for (unsigned k = 0; k < 3; k++)
		assert_int_equal(t.slot[k], MMR_ID_NONE);
	/* 2, 5, 7 speak (7 loudest): they fill slots 0, 1, 2 loudest first */
	speak(2, now, 50); speak(5, now, 60); speak(7, now, 90);
	assert_int_equal(topn_update(&t, ids, ep, NS, -1, now), 3);
	assert_int_equal(t.slot[0], 507);
	assert_int_equal(t.slot[1], 505);
	assert_int_equal(t.slot[2], 502);
	/* the order of loudness changes: nobody moves */
	now += 100;
	speak(2, now, 95); speak(5, now, 40); speak(7, now, 70);
	assert_int_equal(topn_update(&t, ids, ep, NS, -1, now), 0);
	assert_int_equal(topn_slot_of(&t, 507), 0);
	assert_int_equal(topn_slot_of(&t, 505), 1);
	assert_int_equal(topn_slot_of(&t, 502), 2);
	/* 9 gets louder than 5: takes 5's slot (the weakest incumbent out of the top) */
	now += 100;
	speak(2, now, 95); speak(5, now, 40); speak(7, now, 70); speak(9, now, 80);
	assert_int_equal(topn_update(&t, ids, ep, NS, -1, now), 1);
	assert_int_equal(topn_slot_of(&t, 509), 1);
	assert_int_equal(topn_slot_of(&t, 505), -1);
	assert_int_equal(topn_slot_of(&t, 507), 0);
	/* the dominant speaker is always in, even silent: 0 (never heard) displaces the weakest */
	now += 100;
	speak(2, now, 95); speak(7, now, 70); speak(9, now, 80);
	assert_int_equal(topn_update(&t, ids, ep, NS, 0, now), 1);
	assert_int_equal(topn_slot_of(&t, 500), 0);     /* 7 was the weakest */
	assert_int_equal(topn_slot_of(&t, 509), 1);
	assert_int_equal(topn_slot_of(&t, 502), 2);
	/* everyone falls silent (expired): the slots keep their streams */
	now += 1000;
	assert_int_equal(topn_update(&t, ids, ep, NS, -1, now), 0);
	assert_int_equal(topn_slot_of(&t, 502), 2);
	/* stream 509 leaves the meeting: its slot is freed, then taken by the next speaker */
	uint32_t ids2[NS];
	memcpy(ids2, ids, sizeof(ids));
	ids2[9] = MMR_ID_NONE;
	assert_int_equal(topn_update(&t, ids2, ep, NS, -1, now), 1);
	assert_int_equal(t.slot[1], MMR_ID_NONE);
	speak(4, now, 30);
	assert_int_equal(topn_update(&t, ids2, ep, NS, -1, now), 1);
	assert_int_equal(topn_slot_of(&t, 504), 1);
	/* N shrinks to 1: slots 1 and 2 freed; the one loud stream (4) displaces silent 0 */
	t.n = 1;
	assert_int_equal(topn_update(&t, ids2, ep, NS, -1, now), 3);
	assert_int_equal(topn_slot_of(&t, 504), 0);
	assert_int_equal(t.slot[1], MMR_ID_NONE);
	assert_int_equal(t.slot[2], MMR_ID_NONE);
	/* a stream without energy state (NULL) is no candidate; it keeps a slot it has */
	const struct topn_energy *keep = ep[4];
	ep[4] = NULL;
	assert_int_equal(topn_update(&t, ids2, ep, NS, -1, now), 0);
	assert_int_equal(topn_slot_of(&t, 504), 0);
	ep[4] = keep;
	/* N 0: off */
	topn_init(&t, 0);
	assert_int_equal(topn_update(&t, ids, ep, NS, 3, now), 0);
	assert_int_equal(topn_slot_of(&t, 503), -1);
	/* N above TOPN_MAX is TOPN_MAX */
	topn_init(&t, 99);
	assert_int_equal(t.n, TOPN_MAX);
}

/* A random meeting: every update keeps the dominant in, incumbents in the top keep their slot, no
 * stream twice. */
static void test_random_ranking(void **state)
{
	(void)state;
	struct topn t;
	uint64_t now = 5000;
	uint32_t x = 31337;

	setup_streams(now);
	topn_init(&t, 3);
	for (int it = 0; it < 20000; it++) {
		now += 20;
		for (unsigned i = 0; i < NS; i++) {
			x ^= x << 13; x ^= x >> 17; x ^= x << 5;
			if (x % 4)
				topn_energy_on_level(&en[i], now, (uint8_t)(x % 128));
		}
		int dom = (int)(x >> 8) % (NS + 1) - 1;
		uint32_t before[TOPN_MAX];
		memcpy(before, t.slot, sizeof(before));
		topn_update(&t, ids, ep, NS, dom, now);
		if (dom >= 0)
			assert_true(topn_slot_of(&t, ids[dom]) >= 0);
		for (unsigned a = 0; a < 3; a++)
			for (unsigned b = a + 1; b < 3; b++)
				assert_true(t.slot[a] == MMR_ID_NONE || t.slot[a] != t.slot[b]);
		/* a stream present before and after is in the same slot */
		for (unsigned k = 0; k < 3; k++)
			if (before[k] != MMR_ID_NONE && topn_slot_of(&t, before[k]) >= 0)
				assert_int_equal(topn_slot_of(&t, before[k]), k);
	}
}

static void test_output_numbering(void **state)
{
	(void)state;
	struct topn_out o;
	uint16_t s;
	uint32_t ts;

	topn_out_init(&o);
	/* speaker A (stream 1): seq from 65530 (wraps), ts step 960, 20 ms = 960 at 48 kHz */
	assert_int_equal(topn_out_map(&o, 1, 65530, 1000, 50000, &s, &ts), 1);
	assert_int_equal(s, 65530);
	assert_int_equal(ts, 1000);
	for (unsigned k = 1; k < 10; k++) {
		assert_int_equal(topn_out_map(&o, 1, (uint16_t)(65530 + k), 1000 + 960 * k, 50000 + 960 * k, &s, &ts), 1);
		assert_int_equal(s, (uint16_t)(65530 + k));
		assert_int_equal(ts, 1000 + 960 * k);
	}
	/* a late packet of A (k = 7 again, and k = 5) keeps A's numbering */
	assert_int_equal(topn_out_map(&o, 1, (uint16_t)(65537), 1000 + 960 * 7, 60000, &s, &ts), 1);
	assert_int_equal(s, (uint16_t)65537);
	assert_int_equal(ts, 1000 + 960 * 7);
	/* speaker B (stream 2) takes the slot 40 ms after A's last packet: seq + 1, ts + 1920 */
	uint16_t last_seq = (uint16_t)(65530 + 9);
	uint32_t last_ts = 1000 + 960 * 9;
	assert_int_equal(topn_out_map(&o, 2, 300, 777777, 50000 + 960 * 11, &s, &ts), 1);
	assert_int_equal(s, (uint16_t)(last_seq + 1));
	assert_int_equal(ts, last_ts + 1920);
	for (unsigned k = 1; k < 5; k++) {
		assert_int_equal(topn_out_map(&o, 2, (uint16_t)(300 + k), 777777 + 960 * k, 0, &s, &ts), 1);
		assert_int_equal(s, (uint16_t)(last_seq + 1 + k));
		assert_int_equal(ts, last_ts + 1920 + 960 * k);
	}
	/* B's packet from before its first in the slot: refused (its number is A's) */
	assert_int_equal(topn_out_map(&o, 2, 299, 777777 - 960, 0, &s, &ts), 0);
	/* B's late packet (301) after 304: its own number */
	assert_int_equal(topn_out_map(&o, 2, 301, 777777 + 960, 0, &s, &ts), 1);
	assert_int_equal(s, (uint16_t)(last_seq + 2));
	/* B loses a packet (305): the gap shows, then A again: after B's newest */
	assert_int_equal(topn_out_map(&o, 2, 306, 777777 + 960 * 6, 90000, &s, &ts), 1);
	uint16_t b_last = s;
	uint32_t b_ts = ts;
	assert_int_equal(b_last, (uint16_t)(last_seq + 7));
	/* the arrival clock went back (a restarted clock): at least + 1 */
	assert_int_equal(topn_out_map(&o, 1, 40, 5, 80000, &s, &ts), 1);
	assert_int_equal(s, (uint16_t)(b_last + 1));
	assert_int_equal(ts, b_ts + 1);
}

/* A long run of changing speakers with loss and reordering: out seq never repeats for different
 * input packets, consecutive outputs of a speaker keep their input spacing, changes add one. */
static void test_long_run(void **state)
{
	(void)state;
	struct topn_out o;
	uint16_t seq[3] = { 100, 40000, 65000 }, s, prev_s = 0, prev_in = 0;
	uint32_t ts[3] = { 0, 1u << 31, 123 }, t;
	uint32_t arrival = 0, x = 5;
	int cur = -1, have = 0;

	topn_out_init(&o);
	for (int it = 0; it < 200000; it++) {
		x ^= x << 13; x ^= x >> 17; x ^= x << 5;
		if (x % 500 == 0 || cur < 0)
			cur = (int)((x >> 9) % 3);
		arrival += 960;
		for (int i = 0; i < 3; i++) {
			seq[i]++;
			ts[i] += 960;
		}
		if (x % 50 == 1)
			continue;   /* lost */
		int changed = have && o.stream_id != (uint32_t)cur;
		assert_int_equal(topn_out_map(&o, (uint32_t)cur, seq[cur], ts[cur], arrival, &s, &t), 1);
		if (changed)
			assert_int_equal(s, (uint16_t)(prev_s + 1));
		else if (have)
			assert_int_equal((uint16_t)(s - prev_s), (uint16_t)(seq[cur] - prev_in));
		prev_s = s;
		prev_in = seq[cur];
		have = 1;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_energy),
		cmocka_unit_test(test_ranking_stable_slots),
		cmocka_unit_test(test_random_ranking),
		cmocka_unit_test(test_output_numbering),
		cmocka_unit_test(test_long_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
