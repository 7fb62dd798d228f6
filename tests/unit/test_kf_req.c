/*
 * test_kf_req.c - unit tests of the throttled keyframe requests (lib/repair/kf_req.c): one request
 * per interval however many ask, a pending ask sent when the interval ends, re-asks every interval
 * until a keyframe, at most 3, FIR sequence numbers per new request (not per repeat, RFC 5104
 * 4.3.1.2), 50 receivers asking 10 times a second, the configured and default intervals.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "kf_req.h"

#define HZ 1000000000ull
#define MS 1000000ull

static void test_throttle_pending(void **state)
{
	(void)state;
	struct kf_req k;
	uint64_t t = 10000 * MS;

	kf_req_init(&k, HZ, 0);
	assert_int_equal(k.interval_tsc, KF_REQ_INTERVAL_MS * MS);
	assert_int_equal(kf_req_next_tsc(&k), UINT64_MAX);
	assert_int_equal(kf_req_due(&k, t), 0);
	/* first ask: at once, a new request */
	assert_int_equal(kf_req_ask(&k, t), 1);
	assert_int_equal(kf_req_fir_seq(&k), 1);
	/* more asks within the interval: merged */
	assert_int_equal(kf_req_ask(&k, t + 1 * MS), 0);
	assert_int_equal(kf_req_ask(&k, t + 499 * MS), 0);
	assert_int_equal(kf_req_due(&k, t + 499 * MS), 0);
	assert_int_equal(kf_req_next_tsc(&k), t + 500 * MS);
	/* the pending one at the interval's end: a repeat (no keyframe yet), same FIR seq */
	assert_int_equal(kf_req_due(&k, t + 500 * MS), 1);
	assert_int_equal(kf_req_fir_seq(&k), 1);
	assert_int_equal(kf_req_due(&k, t + 501 * MS), 0);
	/* the keyframe comes */
	kf_req_keyframe_seen(&k);
	assert_int_equal(kf_req_next_tsc(&k), UINT64_MAX);
	assert_int_equal(kf_req_due(&k, t + 2000 * MS), 0);
	/* a new need shortly after: throttled, then a new request with the next FIR seq */
	assert_int_equal(kf_req_ask(&k, t + 600 * MS), 0);
	assert_int_equal(kf_req_due(&k, t + 999 * MS), 0);
	assert_int_equal(kf_req_due(&k, t + 1000 * MS), 1);
	assert_int_equal(kf_req_fir_seq(&k), 2);
	/* a keyframe while an ask is pending answers it */
	assert_int_equal(kf_req_ask(&k, t + 1100 * MS), 0);
	kf_req_keyframe_seen(&k);
	assert_int_equal(kf_req_due(&k, t + 1500 * MS), 0);
	assert_int_equal(k.sent, 3);
	assert_int_equal(k.throttled, 4);
}

static void test_reasks(void **state)
{
	(void)state;
	struct kf_req k;
	uint64_t t = 0;
	unsigned sent = 0;

	kf_req_init(&k, HZ, 200);
	assert_int_equal(kf_req_ask(&k, t), 1);
	uint8_t fs = kf_req_fir_seq(&k);
	for (uint64_t now = t; now <= t + 3000 * MS; now += MS)
		if (kf_req_due(&k, now)) {
			sent++;
			assert_int_equal(now, t + sent * 200 * MS);   /* every interval */
			assert_int_equal(kf_req_fir_seq(&k), fs);     /* repeats */
		}
	assert_int_equal(sent, KF_REQ_MAX_REASKS);
	assert_int_equal(kf_req_next_tsc(&k), UINT64_MAX);
	/* given up: the next ask is a new request */
	assert_int_equal(kf_req_ask(&k, t + 3001 * MS), 1);
	assert_int_equal(kf_req_fir_seq(&k), (uint8_t)(fs + 1));
	/* an ask during the re-asks restarts their count: the need is renewed */
	assert_int_equal(kf_req_due(&k, t + 3201 * MS), 1);
	assert_int_equal(kf_req_due(&k, t + 3401 * MS), 1);
	assert_int_equal(kf_req_ask(&k, t + 3450 * MS), 0);
	assert_int_equal(kf_req_due(&k, t + 3601 * MS), 1);          /* the pending ask */
	sent = 0;
	for (uint64_t now = t + 3602 * MS; now <= t + 6000 * MS; now += MS)
		sent += (unsigned)kf_req_due(&k, now);
	assert_int_equal(sent, KF_REQ_MAX_REASKS);
	assert_int_equal(kf_req_fir_seq(&k), (uint8_t)(fs + 1));
	/* FIR seq wraps at 8 bits */
	k.fir_seq = 255;
	kf_req_keyframe_seen(&k);
	assert_int_equal(kf_req_ask(&k, t + 7000 * MS), 1);
	assert_int_equal(kf_req_fir_seq(&k), 0);
}

/* 50 receivers, each asking 10 times a second for 10 s (keyframes never come): the publisher
 * gets one request per interval at most. */
static void test_many_receivers(void **state)
{
	(void)state;
	struct kf_req k;
	uint64_t last = 0;
	unsigned sent = 0;

	kf_req_init(&k, HZ, 500);
	for (uint64_t ms = 0; ms < 10000; ms++) {
		uint64_t now = 1 + ms * MS;
		int s = kf_req_due(&k, now);

		for (int r = 0; r < 50; r++)
			if ((ms + (uint64_t)r * 7) % 100 == 0)
				s |= kf_req_ask(&k, now);
		if (s) {
			if (sent)
				assert_true(now - last >= 500 * MS);
			last = now;
			sent++;
		}
	}
	assert_in_range(sent, 19, 20);
	assert_int_equal(k.sent, sent);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_throttle_pending),
		cmocka_unit_test(test_reasks),
		cmocka_unit_test(test_many_receivers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
