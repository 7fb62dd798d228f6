/*
 * test_sr_clock.c - unit tests of the Sender Report RTP times sent to a receiver
 * (lib/rtcp/sr_clock.c): anchor + elapsed exactly; a simulcast switch whose ts_offset makes the out
 * timestamps continue keeps the SR sequence monotonic and continuous; a switch that would go
 * backwards is held; the mapping from the newest packet without an anchor, and the hand-over to an
 * anchor; packet and octet counts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sr_clock.h"

#define HZ   3000000000ull    /* a 3 GHz TSC */
#define CLK  90000u

static void test_anchor_elapsed(void **state)
{
	(void)state;
	struct sr_anchor a;
	struct sr_out o;
	uint32_t rtp = 0;
	uint64_t t0 = 1000 * HZ;

	sr_anchor_init(&a);
	sr_out_init(&o);
	assert_int_equal(sr_clock_out(&a, &o, t0, HZ, CLK, 0, &rtp), -1);
	assert_int_equal(sr_clock_out(NULL, &o, t0, HZ, CLK, 0, &rtp), -1);
	sr_anchor_set(&a, 0xe000000000000000ull, 4294960000u, t0);
	for (unsigned k = 0; k < 20; k++) {
		uint64_t now = t0 + k * HZ / 4;       /* every 250 ms */

		assert_int_equal(sr_clock_out(&a, &o, now, HZ, CLK, 0, &rtp), 0);
		assert_int_equal(rtp, (uint32_t)(4294960000u + k * CLK / 4));   /* wraps */
	}
	/* with the receiver's offset */
	sr_out_init(&o);
	assert_int_equal(sr_clock_out(&a, &o, t0 + 2 * HZ, HZ, CLK, 12345, &rtp), 0);
	assert_int_equal(rtp, (uint32_t)(4294960000u + 2 * CLK + 12345));
	/* an audio clock */
	sr_out_init(&o);
	assert_int_equal(sr_clock_out(&a, &o, t0 + HZ / 10, HZ, 48000, 0, &rtp), 0);
	assert_int_equal(rtp, (uint32_t)(4294960000u + 4800));
}

/* Simulcast: encodings A and B sampled by one clock, B's timestamps = A's + delta; each sends SRs
 * at its own moments. The receiver gets A (offset 0), then B from 3.5 s with offset -delta (its
 * out timestamps continue A's). SRs every second: monotonic, 90000 apart, and anchor + elapsed. */
static void test_switch_continuous(void **state)
{
	(void)state;
	struct sr_anchor aa, ab;
	struct sr_out o;
	const uint32_t a0 = 1000, delta = 3000000000u;
	uint64_t t0 = 50 * HZ;
	uint32_t rtp, prev = 0;

	sr_anchor_init(&aa);
	sr_anchor_init(&ab);
	sr_out_init(&o);
	/* A's SR at t0: rtp a0; B's SR 0.3 s later: its rtp is A's then + delta */
	sr_anchor_set(&aa, 1, a0, t0);
	sr_anchor_set(&ab, 2, a0 + delta + CLK * 3 / 10, t0 + HZ * 3 / 10);
	for (unsigned k = 1; k <= 8; k++) {
		uint64_t now = t0 + k * HZ;
		int on_b = now >= t0 + HZ * 7 / 2;

		assert_int_equal(sr_clock_out(on_b ? &ab : &aa, &o, now, HZ, CLK, on_b ? -delta : 0, &rtp), 0);
		assert_int_equal(rtp, a0 + k * CLK);            /* anchor + elapsed, on either */
		if (k > 1)
			assert_int_equal(rtp - prev, CLK);      /* continuous across the switch */
		prev = rtp;
	}
}

/* A switch whose mapping lands behind the last SR: held there until time catches up. */
static void test_never_backwards(void **state)
{
	(void)state;
	struct sr_anchor a;
	struct sr_out o;
	uint64_t t0 = 7 * HZ;
	uint32_t rtp, last;

	sr_anchor_init(&a);
	sr_out_init(&o);
	sr_anchor_set(&a, 1, 500000, t0);
	assert_int_equal(sr_clock_out(&a, &o, t0 + HZ, HZ, CLK, 0, &rtp), 0);
	last = rtp;
	assert_int_equal(last, 500000 + CLK);
	/* offset now 2 s behind (-180000): the value would go back 90000: held */
	assert_int_equal(sr_clock_out(&a, &o, t0 + 2 * HZ, HZ, CLK, (uint32_t)-180000, &rtp), 0);
	assert_int_equal(rtp, last);
	assert_int_equal(sr_clock_out(&a, &o, t0 + 3 * HZ, HZ, CLK, (uint32_t)-180000, &rtp), 0);
	assert_int_equal(rtp, last);
	assert_int_equal(sr_clock_out(&a, &o, t0 + 4 * HZ, HZ, CLK, (uint32_t)-180000, &rtp), 0);
	assert_int_equal(rtp, last + CLK);
	/* a TSC before the anchor's arrival (caller race): no negative elapsed */
	sr_out_init(&o);
	assert_int_equal(sr_clock_out(&a, &o, t0 - HZ, HZ, CLK, 0, &rtp), 0);
	assert_int_equal(rtp, 500000);
}

/* Without an anchor: newest packet + elapsed; packet counts; then the publisher's SR arrives. */
static void test_from_packets(void **state)
{
	(void)state;
	struct sr_anchor a;
	struct sr_out o;
	uint64_t t0 = 9 * HZ;
	uint32_t rtp;

	sr_anchor_init(&a);
	sr_out_init(&o);
	sr_out_on_packet(&o, 3000, 1000, t0);
	sr_out_on_packet(&o, 3000, 1100, t0 + HZ / 100);      /* same frame: reference stays */
	sr_out_on_packet(&o, 6000, 900, t0 + HZ / 30);         /* next frame */
	sr_out_on_packet(&o, 3000, 500, t0 + HZ / 20);         /* a late packet: counted, not newest */
	assert_int_equal(o.pkts, 4);
	assert_int_equal(o.octets, 3500);
	assert_int_equal(sr_clock_out(&a, &o, t0 + HZ / 30 + HZ / 10, HZ, CLK, 777, &rtp), 0);
	assert_int_equal(rtp, 6000 + CLK / 10);                /* offset not added: out ts already */
	/* the publisher's first SR: from now on the anchor (in ts 1000 at t0 + 1/30 s; offset 5000) */
	sr_anchor_set(&a, 5, 1000, t0 + HZ / 30);
	assert_int_equal(sr_clock_out(&a, &o, t0 + HZ / 30 + HZ, HZ, CLK, 5000, &rtp), 0);
	assert_int_equal(rtp, 1000 + CLK + 5000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_anchor_elapsed),
		cmocka_unit_test(test_switch_continuous),
		cmocka_unit_test(test_never_backwards),
		cmocka_unit_test(test_from_packets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
