/*
 * test_ntp_time.c - unit tests of lib/util/ntp_time.h: NTP 32.32 from Unix ns and back, TSC to
 * NTP through a published pair (before and after its TSC, long intervals without overflow), the
 * middle 32 bits, DLSR units and RTT from a report block; and the seqlock: a reader running
 * against a writer publishing all the time never sees a torn pair.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ntp_time.h"

static void test_conversions(void **state)
{
	(void)state;
	assert_int_equal(ntp_from_unix_ns(0), NTP_UNIX_OFFSET << 32);
	assert_int_equal(ntp_from_unix_ns(1500000000ull), (NTP_UNIX_OFFSET + 1) << 32 | 0x80000000ull);
	/* 2026-12-06: seconds field past 2^31 (era 0 until 2036) */
	uint64_t ns = 1796515200ull * NTP_NS_PER_S + 123456789;
	uint64_t ntp = ntp_from_unix_ns(ns);
	assert_int_equal(ntp >> 32, 1796515200ull + NTP_UNIX_OFFSET);
	uint64_t back = ntp_to_unix_ns(ntp);
	assert_true(back <= ns && ns - back <= 1);
	assert_int_equal(ntp_middle32(0x1234567890abcdefull), 0x567890ab);
	assert_int_equal(ntp_dlsr_from_tsc(3000000000ull / 2 * 3, 3000000000ull), 98304);
	assert_int_equal(ntp_dlsr_from_tsc(UINT64_MAX / 2, 1000), 0xffffffffu);
	assert_int_equal(ntp_units_to_us(65536), 1000000);
	assert_int_equal(ntp_units_to_us(6554), 100006);
	/* RTT: arrival 10.5 s, LSR 10.0 s, DLSR 0.4 s: 100 ms */
	assert_int_equal(ntp_rtt_us(10 * 65536 + 32768, 10 * 65536, 26214), 100006);
	assert_int_equal(ntp_rtt_us(10 * 65536, 0, 0), -1);             /* no LSR */
	assert_int_equal(ntp_rtt_us(10 * 65536, 10 * 65536, 100), -1);  /* negative */
	assert_int_equal(ntp_rtt_us(100 * 65536, 10 * 65536, 0), -1);   /* 90 s: bogus */
	/* across the wrap of the middle 32 bits */
	assert_int_equal(ntp_rtt_us(10, 0xffffff00u, 10), ntp_units_to_us(256));
}

static void test_clock(void **state)
{
	(void)state;
	struct ntp_clock c;
	struct ntp_snap s;
	const uint64_t hz = 2400000000ull, tsc0 = 5000000000000ull;
	const uint64_t u0 = 1796515200ull * NTP_NS_PER_S;

	memset(&c, 0, sizeof(c));
	assert_int_equal(ntp_clock_read(&c, &s), 0);
	assert_int_equal(ntp_now(&c, 123), 0);
	ntp_clock_publish(&c, tsc0, u0, hz);
	assert_int_equal(ntp_clock_read(&c, &s), 1);
	assert_int_equal(ntp_unix_ns(&s, tsc0), u0);
	assert_int_equal(ntp_unix_ns(&s, tsc0 + hz), u0 + NTP_NS_PER_S);
	assert_int_equal(ntp_unix_ns(&s, tsc0 - hz / 4), u0 - NTP_NS_PER_S / 4);
	/* a day later: no overflow */
	assert_int_equal(ntp_unix_ns(&s, tsc0 + hz * 86400), u0 + 86400 * NTP_NS_PER_S);
	assert_int_equal(ntp_now(&c, tsc0 + hz / 2), ntp_from_unix_ns(u0 + NTP_NS_PER_S / 2));
	assert_int_equal(ntp_from_tsc(&s, tsc0 + hz / 2), ntp_from_unix_ns(u0 + NTP_NS_PER_S / 2));
	/* republished (a corrected pair) */
	ntp_clock_publish(&c, tsc0 + hz, u0 + NTP_NS_PER_S + 1000, hz);
	assert_int_equal(ntp_unix_ns(&s, tsc0 + hz), u0 + NTP_NS_PER_S);      /* the old snapshot */
	assert_int_equal(ntp_clock_read(&c, &s), 1);
	assert_int_equal(ntp_unix_ns(&s, tsc0 + hz), u0 + NTP_NS_PER_S + 1000);
	assert_int_equal(c.seq, 4);
}

/* Writer publishes pairs with tsc0 = k, unix_ns0 = 3k + 1, tsc_hz = k + 7; reader checks. */
static struct ntp_clock shared;
static volatile int stop;

static void *writer(void *arg)
{
	(void)arg;
	for (uint64_t k = 1; !stop; k++)
		ntp_clock_publish(&shared, k, 3 * k + 1, k + 7);
	return NULL;
}

static void test_seqlock(void **state)
{
	(void)state;
	pthread_t th;
	struct ntp_snap s;
	unsigned changes = 0;
	uint64_t last = 0;

	memset(&shared, 0, sizeof(shared));
	ntp_clock_publish(&shared, 1, 4, 8);
	stop = 0;
	assert_int_equal(pthread_create(&th, NULL, writer, NULL), 0);
	for (int i = 0; i < 2000000 && changes < 100000; i++) {
		assert_int_equal(ntp_clock_read(&shared, &s), 1);
		assert_int_equal(s.unix_ns0, 3 * s.tsc0 + 1);
		assert_int_equal(s.tsc_hz, s.tsc0 + 7);
		assert_true(s.tsc0 >= last);
		changes += s.tsc0 != last;
		last = s.tsc0;
	}
	stop = 1;
	pthread_join(th, NULL);
	assert_true(changes > 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conversions),
		cmocka_unit_test(test_clock),
		cmocka_unit_test(test_seqlock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
