/*
 * test_dominant_speaker.c - unit tests of the dominant speaker identification
 * (lib/audio/dominant_speaker.c) on level traces of 20 ms packets with decisions every 300 ms:
 * one talker among quiet participants is found within a second; a change of talker is followed
 * within a second of the change; short bursts of another speaker do not steal; silence (levels of
 * 127, or no packets at all: DTX) keeps the last speaker; a talker whose packets stop is replaced;
 * a steady tone from the first packet is a talker (the noise-floor guard); a dominant speaker that
 * leaves is replaced; 500 speakers; the score tables against libm; bad levels refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "dominant_speaker.h"
#include "unit_util.h"

#define MAXS 500

enum { QUIET, TALK, SILENT, NONE };    /* a participant's state in a trace step */

struct meet {
	struct ds_meeting m;
	struct ds_speaker s[MAXS];
	struct ds_speaker *sp[MAXS];
	uint32_t ids[MAXS];
	unsigned n;
	uint64_t now;          /* ms */
	uint64_t next_decision;
	int dom;               /* index, or -1 */
};

static struct meet M;

static void meet_init(unsigned n)
{
	memset(&M, 0, sizeof(M));
	ds_meeting_init(&M.m);
	M.n = n;
	M.now = 100000;
	M.next_decision = M.now + DS_DECISION_MS;
	M.dom = -1;
	for (unsigned i = 0; i < n; i++) {
		ds_speaker_init(&M.s[i], M.now);
		M.sp[i] = &M.s[i];
		M.ids[i] = 1000 + i;
	}
	rng_state = 4242;
}

/* Level of a packet in state st: talk 25-35 dBov, quiet background 85-95 dBov, silence 127. */
static uint8_t level_of(int st)
{
	switch (st) {
	case TALK: return (uint8_t)(25 + rnd() % 11);
	case QUIET: return (uint8_t)(85 + rnd() % 11);
	default: return 127;
	}
}

/* Run ms milliseconds with participant i in state state_of(i); returns the time (ms from the
 * start of the run) at which the dominant speaker first became `want` (-1: never). */
static long run(uint64_t ms, int (*state_of)(unsigned i, uint64_t t), int want)
{
	long hit = -1;
	uint64_t t0 = M.now;

	for (uint64_t t = 0; t < ms; t += 20) {
		M.now = t0 + t;
		for (unsigned i = 0; i < M.n; i++) {
			int st = state_of(i, t);
			if (st != NONE)
				assert_int_equal(ds_speaker_on_level(&M.s[i], M.now, level_of(st)), 0);
		}
		if (M.now >= M.next_decision) {
			M.next_decision += DS_DECISION_MS;
			M.dom = ds_decide(&M.m, M.sp, M.ids, M.n, M.now);
			if (M.dom >= 0)
				assert_int_equal(M.m.dominant_id, M.ids[M.dom]);
			if (hit < 0 && M.dom == want)
				hit = (long)t;
		}
	}
	M.now = t0 + ms;
	return hit;
}

static unsigned talker;
static int only_talker(unsigned i, uint64_t t) { (void)t; return i == talker ? TALK : QUIET; }
static int all_quiet(unsigned i, uint64_t t) { (void)i; (void)t; return QUIET; }
static int all_silent(unsigned i, uint64_t t) { (void)i; (void)t; return SILENT; }
static int all_dtx(unsigned i, uint64_t t) { (void)i; (void)t; return NONE; }

static void test_one_talker(void **state)
{
	(void)state;
	meet_init(6);
	/* nobody speaks: no dominant speaker */
	assert_int_equal(run(3000, all_quiet, 0), -1);
	assert_int_equal(M.dom, -1);
	assert_int_equal(M.m.dominant_id, UINT32_MAX);
	talker = 3;
	long hit = run(3000, only_talker, 3);
	assert_true(hit >= 0 && hit <= 1000);
	assert_int_equal(M.dom, 3);
	assert_int_equal(M.m.changes, 1);
}

static void test_talker_changes(void **state)
{
	(void)state;
	meet_init(10);
	talker = 1;
	run(4000, only_talker, 1);
	assert_int_equal(M.dom, 1);
	/* a sequence of hand-overs: each followed within a second */
	static const unsigned next[] = { 4, 7, 0, 9, 4, 2 };
	for (unsigned k = 0; k < sizeof(next) / sizeof(next[0]); k++) {
		talker = next[k];
		long hit = run(3000, only_talker, (int)talker);
		print_message("hand-over to %u after %ld ms\n", talker, hit);
		assert_true(hit >= 0 && hit <= 1000);
		assert_int_equal(M.dom, (int)talker);
	}
}

/* A talks all along; B says "yes" (200 ms) now and then: A stays. */
static int bursts(unsigned i, uint64_t t)
{
	if (i == 0)
		return TALK;
	if (i == 1)
		return t % 1500 < 200 ? TALK : QUIET;
	return QUIET;
}

static void test_bursts_do_not_steal(void **state)
{
	(void)state;
	meet_init(5);
	talker = 0;
	run(3000, only_talker, 0);
	assert_int_equal(M.dom, 0);
	assert_int_equal(run(15000, bursts, 1), -1);
	assert_int_equal(M.dom, 0);
	assert_int_equal(M.m.changes, 1);
}

static void test_silence_keeps_last(void **state)
{
	(void)state;
	meet_init(5);
	talker = 2;
	run(3000, only_talker, 2);
	assert_int_equal(M.dom, 2);
	/* silent packets (level 127) from everyone, then no packets at all (DTX) */
	run(10000, all_silent, -1);
	assert_int_equal(M.dom, 2);
	run(10000, all_dtx, -1);
	assert_int_equal(M.dom, 2);
	run(3000, all_quiet, -1);
	assert_int_equal(M.dom, 2);
	assert_int_equal(M.m.changes, 1);
}

/* The talker's packets stop (DTX) as another starts: the idle samples let the new one win. */
static int a_stops(unsigned i, uint64_t t)
{
	(void)t;
	return i == 0 ? NONE : i == 1 ? TALK : QUIET;
}

static void test_dtx_handover(void **state)
{
	(void)state;
	meet_init(4);
	talker = 0;
	run(3000, only_talker, 0);
	long hit = run(3000, a_stops, 1);
	print_message("DTX hand-over after %ld ms\n", hit);
	assert_true(hit >= 0 && hit <= 1000);
}

/* A steady tone from the very first packet (no quieter sample to learn a floor from). */
static void test_tone_from_start(void **state)
{
	(void)state;
	meet_init(3);
	for (int k = 0; k < 2000; k++) {
		M.now += 20;
		ds_speaker_on_level(&M.s[2], M.now, 30);     /* constant -30 dBov for 40 s */
		ds_speaker_on_level(&M.s[0], M.now, 127);
		ds_speaker_on_level(&M.s[1], M.now, 127);
		if (k % 15 == 14)
			M.dom = ds_decide(&M.m, M.sp, M.ids, M.n, M.now);
	}
	assert_int_equal(M.dom, 2);
}

static void test_dominant_leaves(void **state)
{
	(void)state;
	meet_init(4);
	talker = 3;
	run(3000, only_talker, 3);
	assert_int_equal(M.dom, 3);
	/* 3 leaves (the caller's array shrinks); 1 talks */
	M.n = 3;
	assert_int_equal(ds_decide(&M.m, M.sp, M.ids, M.n, M.now), -1);
	assert_int_equal(M.m.dominant_id, UINT32_MAX);
	talker = 1;
	long hit = run(3000, only_talker, 1);
	assert_true(hit >= 0 && hit <= 1000);
	/* a stream without speaker state (NULL) is skipped */
	struct ds_speaker *keep = M.sp[0];
	M.sp[0] = NULL;
	assert_int_equal(ds_decide(&M.m, M.sp, M.ids, M.n, M.now), 1);
	M.sp[0] = keep;
	/* no speakers */
	assert_int_equal(ds_decide(&M.m, M.sp, M.ids, 0, M.now), -1);
}

static void test_500_speakers(void **state)
{
	(void)state;
	meet_init(MAXS);
	static const unsigned seq[] = { 17, 499, 0, 250, 31 };
	for (unsigned k = 0; k < sizeof(seq) / sizeof(seq[0]); k++) {
		talker = seq[k];
		long hit = run(2500, only_talker, (int)talker);
		assert_true(hit >= 0 && hit <= 1000);
		assert_int_equal(M.dom, (int)talker);
	}
	assert_int_equal(M.m.changes, 5);
}

static void test_tables_and_refusals(void **state)
{
	(void)state;
	static const struct { unsigned n; double lambda; } p[3] = { { 13, 0.78 }, { 5, 24 }, { 10, 47 } };
	for (unsigned w = 0; w < 3; w++) {
		unsigned len;
		const float *tab = ds_score_table(w, &len);
		assert_int_equal(len, p[w].n + 1);
		for (unsigned v = 0; v <= p[w].n; v++) {
			double c = lgamma(p[w].n + 1.0) - lgamma(v + 1.0) - lgamma(p[w].n - v + 1.0);
			double s = c + p[w].n * log(0.5) - log(p[w].lambda) + p[w].lambda * v;
			if (s < 1e-10)
				s = 1e-10;
			assert_true(fabs(log(s) - tab[v]) < 1e-5);
		}
	}
	struct ds_speaker s;
	ds_speaker_init(&s, 0);
	struct ds_speaker before = s;
	assert_int_equal(ds_speaker_on_level(&s, 20, 128), -1);
	assert_int_equal(ds_speaker_on_level(&s, 20, 255), -1);
	assert_memory_equal(&s, &before, sizeof(s));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_talker),
		cmocka_unit_test(test_talker_changes),
		cmocka_unit_test(test_bursts_do_not_steal),
		cmocka_unit_test(test_silence_keeps_last),
		cmocka_unit_test(test_dtx_handover),
		cmocka_unit_test(test_tone_from_start),
		cmocka_unit_test(test_dominant_leaves),
		cmocka_unit_test(test_500_speakers),
		cmocka_unit_test(test_tables_and_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
