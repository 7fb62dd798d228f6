/*
 * test_allocator.c - unit tests of the bandwidth allocator (lib/alloc/allocator.c): ladders from
 * measured layer rates (cumulative SVC / simulcast costs, floors for unmeasured layers, monotone
 * order), priorities, ceilings (also under an absurd budget), the raise margin, hysteresis (15 %
 * budget moves, the 5 s refresh, events), the up-hold after a congestion down-switch, pause and
 * resume, want_bps for probing, bad ladders and the ALLOC_MAX_SUBS cut.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "allocator.h"

#define S 1000000ull   /* one second in us */

/* VP9 L3T3, each layer alone (bit/s): cumulative (0,0) 60k (0,1) 80k (0,2) 100k (1,0) 240k
 * (1,1) 320k (1,2) 400k (2,0) 740k (2,1) 970k (2,2) 1200k */
static const uint32_t l3t3[1][MEDIA_MAX_SPATIAL][MEDIA_MAX_TEMPORAL] = { {
	{ 60000, 20000, 20000, 0 }, { 180000, 60000, 60000, 0 }, { 500000, 150000, 150000, 0 } } };

static void vp9_sub(struct alloc_sub *s, uint32_t key, uint8_t prio, uint8_t csid, uint8_t ctid)
{
	memset(s, 0, sizeof(*s));
	s->key = key;
	s->prio = prio;
	s->ceiling = (struct layer_target){ .sid = csid, .tid = ctid };
	assert_int_equal(alloc_ladder_build(s, MMR_CODEC_VP9, 3, 3, 1, l3t3), 9);
}

static struct layer_target tgt(const struct alloc_sub *s)
{
	assert_true(s->alloc & LAYER_ALLOC_SET);
	assert_int_not_equal(s->alloc, LAYER_ALLOC_PAUSED);
	return layer_target_unpack((uint16_t)(s->alloc & 0x7ff));
}

static void test_ladders(void **state)
{
	(void)state;
	struct alloc_sub s;
	static const uint32_t want[9] = { 60000, 80000, 100000, 240000, 320000, 400000, 740000, 970000, 1200000 };

	vp9_sub(&s, 1, 1, 2, 2);
	for (unsigned j = 0; j < 9; j++) {
		assert_int_equal(s.opt[j].bps, want[j]);
		assert_int_equal(s.opt[j].t.sid, j / 3);
		assert_int_equal(s.opt[j].t.tid, j % 3);
	}
	/* AV1 L3T3: decode target 3s + t */
	alloc_ladder_build(&s, MMR_CODEC_AV1, 3, 3, 1, l3t3);
	assert_int_equal(s.n_opt, 9);
	assert_int_equal(s.opt[7].t.dt, 7);
	/* nothing measured: floors (30k base, 10k per temporal layer), still tried */
	static const uint32_t zero[3][MEDIA_MAX_SPATIAL][MEDIA_MAX_TEMPORAL];
	alloc_ladder_build(&s, MMR_CODEC_VP8, 1, 3, 1, zero);
	assert_int_equal(s.n_opt, 3);
	assert_int_equal(s.opt[0].bps, 30000);
	assert_int_equal(s.opt[2].bps, 50000);
	/* simulcast VP8 3 x T2: (e, t) costs the layers of e's stream alone */
	uint32_t sim[3][MEDIA_MAX_SPATIAL][MEDIA_MAX_TEMPORAL] = { { { 100000, 50000 } }, { { 300000, 100000 } },
								  { { 900000, 300000 } } };
	alloc_ladder_build(&s, MMR_CODEC_VP8, 1, 2, 3, (const uint32_t (*)[MEDIA_MAX_SPATIAL][MEDIA_MAX_TEMPORAL])sim);
	assert_int_equal(s.n_opt, 6);
	assert_int_equal(s.opt[1].bps, 150000);
	assert_int_equal(s.opt[2].t.encoding, 1);
	assert_int_equal(s.opt[2].bps, 300000);
	assert_int_equal(s.opt[5].bps, 1200000);
	/* an encoding whose top temporal layer costs more than the next encoding's base: the ladder
	 * never goes back down an encoding (e0 t1 is dropped once e1 t0 is cheaper) */
	sim[0][0][1] = 400000;
	alloc_ladder_build(&s, MMR_CODEC_VP8, 1, 2, 3, (const uint32_t (*)[MEDIA_MAX_SPATIAL][MEDIA_MAX_TEMPORAL])sim);
	assert_int_equal(s.n_opt, 5);
	for (unsigned j = 1; j < s.n_opt; j++) {
		assert_true(s.opt[j].bps >= s.opt[j - 1].bps);
		assert_true(s.opt[j].t.encoding >= s.opt[j - 1].t.encoding);
	}
	/* an encoding not sent now (nothing measured on it while the others are): no options; with
	 * it, its floors (30k, 40k) would have been the cheapest steps and pruned e0 and e1 away */
	uint32_t part[3][MEDIA_MAX_SPATIAL][MEDIA_MAX_TEMPORAL] = { { { 100000, 50000 } }, { { 300000, 100000 } },
								   { { 0, 0 } } };
	alloc_ladder_build(&s, MMR_CODEC_VP8, 1, 2, 3, (const uint32_t (*)[MEDIA_MAX_SPATIAL][MEDIA_MAX_TEMPORAL])part);
	assert_int_equal(s.n_opt, 4);
	assert_int_equal(s.opt[0].t.encoding, 0);
	assert_int_equal(s.opt[0].bps, 100000);
	assert_int_equal(s.opt[3].t.encoding, 1);
	assert_int_equal(s.opt[3].bps, 400000);
	/* H.264 simulcast: (e, 0) only */
	alloc_ladder_build(&s, MMR_CODEC_H264, 1, 3, 2, (const uint32_t (*)[MEDIA_MAX_SPATIAL][MEDIA_MAX_TEMPORAL])sim);
	assert_int_equal(s.n_opt, 2);
	assert_int_equal(s.opt[1].t.encoding, 1);
	assert_int_equal(s.opt[1].t.tid, 0);
	/* counts beyond the limits are clamped */
	alloc_ladder_build(&s, MMR_CODEC_VP9, 9, 9, 1, l3t3);
	assert_true(s.n_opt <= ALLOC_MAX_OPTIONS);
}

/* The e2e settings: one L3T3 subscription behind 300 kbit/s, 1 Mbit/s, no limit. */
static void test_single_budgets(void **state)
{
	(void)state;
	struct alloc_state st;
	struct alloc_sub s;
	struct alloc_result r;

	alloc_state_init(&st);
	vp9_sub(&s, 7, 1, 2, 2);
	assert_int_equal(alloc_run(&st, &s, 1, 300000, 10 * S, 0, &r), 0);
	assert_int_equal(r.ran, 1);
	/* 320k > 0.9 x 300k: (1,0) at 240k */
	assert_int_equal(tgt(&s).sid, 1);
	assert_int_equal(tgt(&s).tid, 0);
	assert_int_equal(r.total_bps, 240000);
	assert_int_equal(r.want_bps, 320000);
	assert_int_equal(s.changed, 1);

	alloc_state_init(&st);
	assert_int_equal(alloc_run(&st, &s, 1, 1000000, 10 * S, 0, &r), 0);
	assert_int_equal(tgt(&s).sid, 2);
	assert_int_equal(tgt(&s).tid, 0);

	/* a lying receiver: an absurd budget gives the ceiling, never more */
	alloc_state_init(&st);
	vp9_sub(&s, 7, 1, 1, 1);
	assert_int_equal(alloc_run(&st, &s, 1, UINT64_MAX / 2, 10 * S, 0, &r), 0);
	assert_int_equal(tgt(&s).sid, 1);
	assert_int_equal(tgt(&s).tid, 1);
	assert_int_equal(r.want_bps, r.total_bps);   /* nothing left to probe for */
	/* the effective target in the selection is the minimum of both anyway */
	struct layer_sel sel;
	layer_sel_init(&sel);
	layer_sel_set_target(&sel, &(struct layer_target){ .sid = 2, .tid = 0 });
	assert_int_equal(layer_sel_alloc_set(&sel, s.alloc), 0);
	struct layer_target e = layer_sel_effective(&sel);
	assert_int_equal(e.sid, 1);
	assert_int_equal(e.tid, 0);
	/* bad alloc words are refused */
	assert_int_equal(layer_sel_alloc_set(&sel, 0x0123), -1);
	assert_int_equal(layer_sel_alloc_set(&sel, 0x2000 | LAYER_ALLOC_SET), -1);
	assert_int_equal(layer_sel_alloc(&sel), s.alloc);
}

/* Pinned, speaker and normal subs on one budget: order and steps per pass. */
static void test_priorities(void **state)
{
	(void)state;
	struct alloc_state st;
	struct alloc_sub s[3];
	struct alloc_result r;

	/* tight: 130k fits two lowest options (60k each) within 0.9 x 150k only for the first two in
	 * priority order: the normal one (listed first) is paused */
	alloc_state_init(&st);
	vp9_sub(&s[0], 1, ALLOC_PRIO_NORMAL, 2, 2);
	vp9_sub(&s[1], 2, ALLOC_PRIO_SPEAKER, 2, 2);
	vp9_sub(&s[2], 3, ALLOC_PRIO_PINNED, 2, 2);
	assert_int_equal(alloc_run(&st, s, 3, 150000, 10 * S, 0, &r), 0);
	assert_int_equal(s[0].alloc, LAYER_ALLOC_PAUSED);
	assert_int_equal(s[0].level, -1);
	assert_true(s[1].level >= 0);
	assert_true(s[2].level >= 0);
	assert_int_equal(r.paused, 1);
	assert_true(r.total_bps <= 135000);

	/* room for a bit more: the pinned one gets 3 steps per pass, the speaker 2, normal 1 */
	alloc_state_init(&st);
	assert_int_equal(alloc_run(&st, s, 3, 700000, 10 * S, 0, &r), 0);
	assert_true(s[2].level >= s[1].level);
	assert_true(s[1].level >= s[0].level);
	assert_true(s[2].level > s[0].level);
	assert_true(r.total_bps <= 630000);
	assert_int_equal(r.paused, 0);
	/* ceilings hold: the pinned one capped at (0,2) leaves the rest to the others */
	alloc_state_init(&st);
	s[2].ceiling = (struct layer_target){ .sid = 0, .tid = 2 };
	assert_int_equal(alloc_run(&st, s, 3, 700000, 10 * S, 0, &r), 0);
	assert_int_equal(tgt(&s[2]).sid, 0);
	assert_int_equal(tgt(&s[2]).tid, 2);
	assert_true(s[1].level >= 3);
	/* a ceiling (tid 1) skips options above it: only (s, <=1) options */
	alloc_state_init(&st);
	s[1].ceiling = (struct layer_target){ .sid = 2, .tid = 1 };
	assert_int_equal(alloc_run(&st, s, 3, 10000000, 10 * S, 0, &r), 0);
	assert_int_equal(tgt(&s[1]).sid, 2);
	assert_int_equal(tgt(&s[1]).tid, 1);
	assert_int_equal(tgt(&s[0]).sid, 2);
	assert_int_equal(tgt(&s[0]).tid, 2);
}

/* Small estimate moves change nothing; >15 %, the 5 s refresh, a ceiling change do. */
static void test_hysteresis(void **state)
{
	(void)state;
	struct alloc_state st;
	struct alloc_sub s;
	struct alloc_result r;
	uint64_t t = 100 * S;

	alloc_state_init(&st);
	vp9_sub(&s, 1, 1, 2, 2);
	alloc_run(&st, &s, 1, 1000000, t, 0, &r);
	uint16_t a = s.alloc;
	assert_int_equal(tgt(&s).sid, 2);      /* (2,0) 740k */
	/* +10 %: within the band, no run (even though (2,1) 970k would fit 0.9 x 1.1M) */
	assert_int_equal(alloc_run(&st, &s, 1, 1100000, t + S / 5, 0, &r), 0);
	assert_int_equal(r.ran, 0);
	assert_int_equal(s.alloc, a);
	assert_int_equal(s.changed, 0);
	assert_int_equal(r.total_bps, 740000);
	/* -10 %: still fits (740k <= 900k): no run */
	alloc_run(&st, &s, 1, 900000, t + 2 * S / 5, 0, &r);
	assert_int_equal(r.ran, 0);
	/* the 5 s refresh: runs, at 1.1M raises to (2,1) */
	alloc_run(&st, &s, 1, 1100000, t + 5 * S, 0, &r);
	assert_int_equal(r.ran, 1);
	assert_int_equal(tgt(&s).tid, 1);
	assert_int_equal(s.changed, 1);
	assert_int_equal(r.changes, 1);
	/* +22 %: runs (and raises to (2,2) 1200k <= 0.9 x 1.34M) */
	alloc_run(&st, &s, 1, 1340000, t + 5 * S + S / 5, 0, &r);
	assert_int_equal(r.ran, 1);
	assert_int_equal(tgt(&s).tid, 2);
	/* keeping a level needs only the budget, not the margin: at the 5 s refresh with 1.25M the
	 * (2,2) at 1200k stays (1200k > 0.9 x 1.25M but <= 1.25M) */
	alloc_run(&st, &s, 1, 1250000, t + 11 * S, 0, &r);
	assert_int_equal(r.ran, 1);
	assert_int_equal(tgt(&s).tid, 2);
	/* a ceiling change is an event: runs at once */
	s.ceiling.sid = 1;
	alloc_run(&st, &s, 1, 1250000, t + 11 * S + 1000, 0, &r);
	assert_int_equal(r.ran, 1);
	assert_int_equal(tgt(&s).sid, 1);
	assert_int_equal(tgt(&s).tid, 2);
	/* a lower ceiling is no congestion: raising the ceiling back raises at once */
	s.ceiling.sid = 2;
	alloc_run(&st, &s, 1, 1400000, t + 11 * S + 2000, 0, &r);
	assert_int_equal(tgt(&s).sid, 2);
	/* ALLOC_FORCE runs whatever the budget */
	alloc_run(&st, &s, 1, 1400000, t + 11 * S + 3000, ALLOC_FORCE, &r);
	assert_int_equal(r.ran, 1);
	assert_int_equal(s.changed, 0);
}

/* Congestion: down at once, not back up for ALLOC_UP_HOLD_US, then back. */
static void test_up_hold(void **state)
{
	(void)state;
	struct alloc_state st;
	struct alloc_sub s;
	struct alloc_result r;
	uint64_t t = 100 * S;

	alloc_state_init(&st);
	vp9_sub(&s, 1, 1, 2, 2);
	alloc_run(&st, &s, 1, 1000000, t, 0, &r);
	assert_int_equal(tgt(&s).sid, 2);
	/* the link drops to 250k: down to (1,0) 240k at once (a level at or below the old one needs
	 * the budget alone, not the raise margin) */
	t += S / 5;
	alloc_run(&st, &s, 1, 250000, t, ALLOC_CONGESTION, &r);
	assert_int_equal(r.ran, 1);
	assert_int_equal(tgt(&s).sid, 1);
	assert_int_equal(tgt(&s).tid, 0);
	assert_int_equal(s.changed, 1);
	/* held: want_bps does not ask to step up; max_bps still says what the ceiling would use,
	 * (2,2) 1200k: what to probe for */
	assert_int_equal(r.want_bps, r.total_bps);
	assert_int_equal(r.max_bps, 1200000);
	/* the limit is lifted 1 s later: the estimate recovers, but the hold keeps (1,0) */
	t += S;
	alloc_run(&st, &s, 1, 2000000, t, 0, &r);
	assert_int_equal(r.ran, 1);
	assert_int_equal(tgt(&s).sid, 1);
	assert_int_equal(tgt(&s).tid, 0);
	alloc_run(&st, &s, 1, 2000000, t + 2 * S, ALLOC_FORCE, &r);
	assert_int_equal(tgt(&s).sid, 1);
	/* the hold ends (4 s after the down-switch): the next run is due by itself and raises */
	t = t - S + ALLOC_UP_HOLD_US;
	alloc_run(&st, &s, 1, 2000000, t, 0, &r);
	assert_int_equal(r.ran, 1);
	assert_int_equal(tgt(&s).sid, 2);
	assert_int_equal(tgt(&s).tid, 2);
}

/* An estimate that dips without congestion (no ALLOC_CONGESTION: the loss-based part's slow
 * start, the end of a probe's raise) down-switches but holds nothing: back up as soon as the
 * estimate is back (the e2e's 1 Mbit/s receiver kept S2T1 withheld for 4 s by such a dip). */
static void test_dip_without_congestion(void **state)
{
	(void)state;
	struct alloc_state st;
	struct alloc_sub s;
	struct alloc_result r;
	uint64_t t = 100 * S;

	alloc_state_init(&st);
	vp9_sub(&s, 1, 1, 2, 2);
	alloc_run(&st, &s, 1, 1100000, t, 0, &r);
	assert_int_equal(tgt(&s).sid, 2);
	assert_int_equal(tgt(&s).tid, 1);      /* (2,1) 970k <= 0.9 x 1.1M */
	t += S / 5;
	alloc_run(&st, &s, 1, 800000, t, 0, &r);
	assert_int_equal(r.ran, 1);
	assert_int_equal(tgt(&s).tid, 0);      /* (2,0) 740k */
	assert_true(r.want_bps > r.total_bps);  /* not held: a step up is wanted */
	t += S / 5;
	alloc_run(&st, &s, 1, 1100000, t, 0, &r);
	assert_int_equal(r.ran, 1);
	assert_int_equal(tgt(&s).sid, 2);
	assert_int_equal(tgt(&s).tid, 1);
	/* the same dip in congestion holds (2,0) */
	t += S / 5;
	alloc_run(&st, &s, 1, 800000, t, ALLOC_CONGESTION, &r);
	t += S / 5;
	alloc_run(&st, &s, 1, 1100000, t, 0, &r);
	assert_int_equal(tgt(&s).tid, 0);
}

/* The lowest option does not fit: paused; resumed when it fits (after the up-hold). */
static void test_pause_resume(void **state)
{
	(void)state;
	struct alloc_state st;
	struct alloc_sub s[2];
	struct alloc_result r;
	uint64_t t = 100 * S;

	alloc_state_init(&st);
	vp9_sub(&s[0], 1, 1, 2, 2);
	vp9_sub(&s[1], 2, 1, 2, 2);
	alloc_run(&st, s, 2, 400000, t, 0, &r);
	assert_int_equal(r.paused, 0);
	/* 50k: not even one 60k base layer */
	t += S;
	alloc_run(&st, s, 2, 50000, t, ALLOC_CONGESTION, &r);
	assert_int_equal(r.paused, 2);
	assert_int_equal(s[0].alloc, LAYER_ALLOC_PAUSED);
	assert_int_equal(s[1].alloc, LAYER_ALLOC_PAUSED);
	assert_int_equal(r.total_bps, 0);
	/* into a selection: layer_sel_paused */
	struct layer_sel sel;
	layer_sel_init(&sel);
	assert_int_equal(layer_sel_paused(&sel), 0);
	layer_sel_alloc_store(&sel, NULL);
	assert_int_equal(layer_sel_paused(&sel), 1);
	/* 100k within the hold: still paused */
	t += S;
	alloc_run(&st, s, 2, 100000, t, 0, &r);
	assert_int_equal(r.paused, 2);
	/* after the hold: the first one resumes (60k <= 0.9 x 100k; then a step to (0,1) 80k), the
	 * second one's lowest does not fit too (140k > 90k) */
	t += ALLOC_UP_HOLD_US;
	alloc_run(&st, s, 2, 100000, t, 0, &r);
	assert_int_equal(r.paused, 1);
	assert_int_equal(tgt(&s[0]).sid, 0);
	assert_int_equal(tgt(&s[0]).tid, 1);
	assert_int_equal(s[1].alloc, LAYER_ALLOC_PAUSED);
	/* want_bps: what a step each would cost (the paused one its lowest option) */
	assert_int_equal(r.want_bps, 100000 + 60000);
	/* enough for both */
	t += S;
	alloc_run(&st, s, 2, 300000, t, 0, &r);
	assert_int_equal(r.paused, 0);
	assert_true(r.total_bps <= 270000);
}

/* Bad ladders are refused (that sub paused, the others allocated); the ALLOC_MAX_SUBS cut. */
static void test_bad_input_and_limits(void **state)
{
	(void)state;
	static struct alloc_state st;
	static struct alloc_sub s[ALLOC_MAX_SUBS + 3];
	struct alloc_result r;

	alloc_state_init(&st);
	vp9_sub(&s[0], 1, 1, 2, 2);
	vp9_sub(&s[1], 2, 1, 2, 2);
	s[0].opt[3].bps = 1;              /* not ascending */
	assert_int_equal(alloc_run(&st, s, 2, 1000000, 10 * S, 0, &r), -1);
	assert_int_equal(s[0].alloc, LAYER_ALLOC_PAUSED);
	assert_true(s[1].level >= 0);
	assert_int_equal(alloc_run(&st, NULL, 1, 1000000, 10 * S, 0, &r), -1);
	/* a sub with no ladder follows its ceiling */
	vp9_sub(&s[0], 1, 1, 2, 2);
	s[0].n_opt = 0;
	assert_int_equal(alloc_run(&st, s, 1, 1000000, 10 * S, 0, &r), 0);
	assert_int_equal(s[0].alloc, LAYER_ALLOC_NONE);

	alloc_state_init(&st);
	for (unsigned i = 0; i < ALLOC_MAX_SUBS + 3; i++)
		vp9_sub(&s[i], i, i < 3 ? ALLOC_PRIO_NORMAL : ALLOC_PRIO_SPEAKER, 0, 0);
	assert_int_equal(alloc_run(&st, s, ALLOC_MAX_SUBS + 3, 100000000, 10 * S, 0, &r), 0);
	/* the three normal ones come last in priority order: they are the cut */
	for (unsigned i = 0; i < ALLOC_MAX_SUBS + 3; i++)
		assert_int_equal(s[i].alloc == LAYER_ALLOC_PAUSED, i < 3);
	assert_int_equal(r.paused, 3);
	assert_int_equal(r.total_bps, 60000ull * ALLOC_MAX_SUBS);
}

/* A random walk of budgets, subs and ceilings: never above a ceiling, never over the budget when
 * a run happened, paused iff level -1. */
static void test_random_invariants(void **state)
{
	(void)state;
	static struct alloc_state st;
	struct alloc_sub s[8];
	struct alloc_result r;
	uint32_t x = 12345;
	uint64_t t = 10 * S;

	alloc_state_init(&st);
	for (unsigned i = 0; i < 8; i++)
		vp9_sub(&s[i], i, (uint8_t)(1 + i % 3), 2, 2);
	for (int it = 0; it < 20000; it++) {
		x ^= x << 13; x ^= x >> 17; x ^= x << 5;
		unsigned n = 1 + x % 8;
		uint64_t budget = (uint64_t)(x >> 8) % 12000000;
		if ((x & 31) == 0) {
			unsigned i = (x >> 5) % 8;
			s[i].ceiling.sid = (uint8_t)((x >> 9) % 3);
			s[i].ceiling.tid = (uint8_t)((x >> 11) % 3);
		}
		t += (x >> 3) % (2 * S);
		assert_int_equal(alloc_run(&st, s, n, budget, t, (x & 64) ? ALLOC_FORCE : 0, &r), 0);
		uint64_t sum = 0;
		for (unsigned i = 0; i < n; i++) {
			if (s[i].level < 0) {
				assert_int_equal(s[i].alloc, LAYER_ALLOC_PAUSED);
				continue;
			}
			struct layer_target g = tgt(&s[i]);
			assert_true(g.sid <= s[i].ceiling.sid && g.tid <= s[i].ceiling.tid);
			sum += s[i].bps;
		}
		assert_int_equal(sum, r.total_bps);
		assert_true(r.want_bps >= r.total_bps);
		if (r.ran)
			assert_true(sum <= budget);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ladders),
		cmocka_unit_test(test_single_budgets),
		cmocka_unit_test(test_priorities),
		cmocka_unit_test(test_hysteresis),
		cmocka_unit_test(test_up_hold),
		cmocka_unit_test(test_dip_without_congestion),
		cmocka_unit_test(test_pause_resume),
		cmocka_unit_test(test_bad_input_and_limits),
		cmocka_unit_test(test_random_invariants),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
