/*
 * test_recv_stats.c - unit tests of the RFC 3550 reception statistics (lib/rtcp/recv_stats.c):
 * extended seqs across the wrap, loss and fraction per block, late packets (reordered,
 * retransmitted) recovering loss, duplicates changing nothing, big jumps ignored unless confirmed
 * (restart), the 24-bit clamp of the cumulative loss, A.8 jitter (in-order packets only), LSR/DLSR.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "recv_stats.h"

#define HZ 1000000000ull   /* TSC at 1 GHz: ticks are ns */

/* In-order packets seq..seq+n-1 at 3000 RTP units apart, arriving on time. */
static void feed_range(struct recv_stats *s, uint16_t seq, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint32_t ext;
		uint16_t q = (uint16_t)(seq + i);

		assert_int_equal(recv_stats_update(s, q, q * 3000u, q * 3000u + 500, &ext), RECV_NEW);
	}
}

static void test_wrap_no_loss(void **state)
{
	(void)state;
	struct recv_stats s;
	struct recv_report rb;
	uint32_t ext;

	recv_stats_init(&s);
	assert_int_equal(recv_stats_block(&s, 0, HZ, &rb), -1);
	assert_int_equal(recv_stats_update(&s, 65530, 65530 * 3000u, 65530 * 3000u + 500, &ext), RECV_NEW);
	assert_int_equal(ext, 65530);
	feed_range(&s, 65531, 20);                 /* .. 65550 = 14 after the wrap */
	assert_int_equal(recv_stats_ext_max(&s), 65536 + 14);
	assert_int_equal(recv_stats_block(&s, 0, HZ, &rb), 0);
	assert_int_equal(rb.fraction_lost, 0);
	assert_int_equal(rb.cum_lost, 0);
	assert_int_equal(rb.ext_high_seq, 65536 + 14);
	assert_int_equal(rb.lsr, 0);
	assert_int_equal(rb.dlsr, 0);
	assert_int_equal(rb.jitter, 0);            /* constant transit */
}

static void test_loss_fraction(void **state)
{
	(void)state;
	struct recv_stats s;
	struct recv_report rb;
	uint32_t ext;

	recv_stats_init(&s);
	/* 100 expected, every 10th lost */
	for (unsigned i = 0; i < 100; i++)
		if (i % 10 != 5)
			recv_stats_update(&s, (uint16_t)(1000 + i), 0, 0, &ext);
	assert_int_equal(recv_stats_lost(&s), 10);
	assert_int_equal(recv_stats_block(&s, 0, HZ, &rb), 0);
	assert_int_equal(rb.fraction_lost, 10 * 256 / 100);
	assert_int_equal(rb.cum_lost, 10);
	/* next interval without loss */
	feed_range(&s, 1100, 50);
	assert_int_equal(recv_stats_block(&s, 0, HZ, &rb), 0);
	assert_int_equal(rb.fraction_lost, 0);
	assert_int_equal(rb.cum_lost, 10);
	/* no packet since: fraction 0 (nothing expected) */
	assert_int_equal(recv_stats_block(&s, 0, HZ, &rb), 0);
	assert_int_equal(rb.fraction_lost, 0);
	/* two late ones arrive (retransmitted): the cumulative loss shrinks, the interval's is negative */
	assert_int_equal(recv_stats_update(&s, 1095, 0, 0, &ext), RECV_LATE);
	assert_int_equal(ext, 1095);
	assert_int_equal(recv_stats_update(&s, 1085, 0, 0, &ext), RECV_LATE);
	assert_int_equal(recv_stats_block(&s, 0, HZ, &rb), 0);
	assert_int_equal(rb.fraction_lost, 0);
	assert_int_equal(rb.cum_lost, 8);
	/* everything of an interval lost: 255 (the packet closing it counts as received: 1 of 4) */
	feed_range(&s, 1153, 1);
	assert_int_equal(recv_stats_block(&s, 0, HZ, &rb), 0);
	assert_int_equal(rb.fraction_lost, 3 * 256 / 4);
	recv_stats_update(&s, 1160, 0, 0, &ext);
	s.received--;              /* as if none of the 7 came: the clamp at 255 */
	assert_int_equal(recv_stats_block(&s, 0, HZ, &rb), 0);
	assert_int_equal(rb.fraction_lost, 255);
}

static void test_duplicates(void **state)
{
	(void)state;
	struct recv_stats s, before;
	uint32_t ext;

	recv_stats_init(&s);
	for (unsigned i = 0; i < 200; i++)
		if (i != 150 && i != 190)
			recv_stats_update(&s, (uint16_t)(65500 + i), i * 90u, i * 90u + (i & 7), &ext);
	before = s;
	/* the highest again, and a late one already received: nothing changes */
	assert_int_equal(recv_stats_update(&s, (uint16_t)(65500 + 199), 0, 12345, &ext), RECV_DUP);
	assert_int_equal(ext, 65500 + 199);
	assert_int_equal(recv_stats_update(&s, (uint16_t)(65500 + 120), 0, 999, &ext), RECV_DUP);
	assert_int_equal(ext, 65500 + 120);
	assert_memory_equal(&s, &before, sizeof(s));
	/* the missing one: late, counted once */
	assert_int_equal(recv_stats_update(&s, (uint16_t)(65500 + 150), 0, 0, &ext), RECV_LATE);
	assert_int_equal(ext, 65500 + 150);
	assert_int_equal(recv_stats_lost(&s), 1);
	before = s;
	assert_int_equal(recv_stats_update(&s, (uint16_t)(65500 + 150), 0, 0, &ext), RECV_DUP);
	assert_memory_equal(&s, &before, sizeof(s));
	/* late packets do not change the jitter */
	assert_int_equal(recv_stats_update(&s, (uint16_t)(65500 + 190), 0, 77777, &ext), RECV_LATE);
	assert_int_equal(s.jitter, before.jitter);
	assert_int_equal(recv_stats_lost(&s), 0);
}

/* More than 100 behind or 3000 ahead: a big jump; restart only when the next packet follows it. */
static void test_jumps(void **state)
{
	(void)state;
	struct recv_stats s, before;
	struct recv_report rb;
	uint32_t ext = 0xdead;

	recv_stats_init(&s);
	feed_range(&s, 100, 500);                 /* 100..599 */
	before = s;
	assert_int_equal(recv_stats_update(&s, 599 + 3000, 0, 0, &ext), RECV_BAD);
	assert_int_equal(ext, 0xdead);
	assert_int_equal(recv_stats_update(&s, 599 - 101, 0, 0, &ext), RECV_BAD);
	/* only bad_seq moved */
	before.bad_seq = s.bad_seq;
	assert_memory_equal(&s, &before, sizeof(s));
	/* in order again: continues */
	assert_int_equal(recv_stats_update(&s, 600, 0, 0, &ext), RECV_NEW);
	assert_int_equal(ext, 600);
	/* 2999 ahead is in order (loss) */
	assert_int_equal(recv_stats_update(&s, 600 + 2999, 0, 0, &ext), RECV_NEW);
	assert_int_equal(recv_stats_lost(&s), 2998);
	/* 99 behind is late, 100 a jump */
	assert_int_equal(recv_stats_update(&s, 600 + 2999 - 99, 0, 0, &ext), RECV_LATE);
	assert_int_equal(recv_stats_update(&s, 600 + 2999 - 100, 0, 0, &ext), RECV_BAD);
	/* the sender restarts at 40000: first ignored, the next confirms */
	assert_int_equal(recv_stats_update(&s, 40000, 0, 0, &ext), RECV_BAD);
	assert_int_equal(recv_stats_update(&s, 40001, 0, 0, &ext), RECV_RESTART);
	assert_int_equal(ext, 40001);
	assert_int_equal(recv_stats_lost(&s), 0);
	feed_range(&s, 40002, 10);
	assert_int_equal(recv_stats_block(&s, 0, HZ, &rb), 0);
	assert_int_equal(rb.ext_high_seq, 40011);
	assert_int_equal(rb.cum_lost, 0);
	assert_int_equal(rb.fraction_lost, 0);
	/* a restart backwards (to 5): extended seqs still go forward, into the next cycle */
	assert_int_equal(recv_stats_update(&s, 5, 0, 0, &ext), RECV_BAD);
	assert_int_equal(recv_stats_update(&s, 6, 0, 0, &ext), RECV_RESTART);
	assert_int_equal(ext, 65536 + 6);
	assert_int_equal(recv_stats_update(&s, 7, 0, 0, &ext), RECV_NEW);
	assert_int_equal(ext, 65536 + 7);
	assert_int_equal(recv_stats_update(&s, 5, 0, 0, &ext), RECV_LATE);   /* the first one, late */
	assert_int_equal(ext, 65536 + 5);
	assert_int_equal(recv_stats_block(&s, 0, HZ, &rb), 0);
	assert_int_equal(rb.ext_high_seq, 65536 + 7);
	assert_int_equal(rb.cum_lost, 0);
	assert_int_equal(rb.fraction_lost, 0);
}

/* A late packet older than the first: the stream began earlier; before ext seq 0: refused. */
static void test_before_first(void **state)
{
	(void)state;
	struct recv_stats s;
	uint32_t ext;

	recv_stats_init(&s);
	recv_stats_update(&s, 100, 0, 0, &ext);
	assert_int_equal(recv_stats_update(&s, 98, 0, 0, &ext), RECV_LATE);
	assert_int_equal(ext, 98);
	assert_int_equal(recv_stats_lost(&s), 1);
	recv_stats_init(&s);
	recv_stats_update(&s, 2, 0, 0, &ext);
	assert_int_equal(recv_stats_update(&s, 65534, 0, 0, &ext), RECV_BAD);
	assert_int_equal(recv_stats_lost(&s), 0);
}

static void test_clamp(void **state)
{
	(void)state;
	struct recv_stats s;
	struct recv_report rb;
	uint32_t ext;
	uint16_t q = 0;

	recv_stats_init(&s);
	recv_stats_update(&s, q, 0, 0, &ext);
	for (int i = 0; i < 3000; i++) {           /* 2998 lost per packet: about 9 million */
		q = (uint16_t)(q + 2999);
		assert_int_equal(recv_stats_update(&s, q, 0, 0, &ext), RECV_NEW);
	}
	assert_true(recv_stats_lost(&s) > 0x7fffff);
	recv_stats_block(&s, 0, HZ, &rb);
	assert_int_equal(rb.cum_lost, 0x7fffff);
	assert_int_equal(rb.ext_high_seq, 3000u * 2999u);
	s.received += 0x1800000;                   /* as if far more came than expected */
	recv_stats_block(&s, 0, HZ, &rb);
	assert_int_equal(rb.cum_lost, -0x800000);
	assert_int_equal(rb.fraction_lost, 0);
}

/* A.8: transit alternating by D converges to jitter D; constant transit gives 0. */
static void test_jitter(void **state)
{
	(void)state;
	struct recv_stats s;
	uint32_t ext;
	const uint32_t D = 900;

	recv_stats_init(&s);
	for (uint32_t i = 0; i < 2000; i++) {
		uint32_t ts = 4000000000u + i * 3000u;     /* wraps */
		recv_stats_update(&s, (uint16_t)i, ts, ts + 77 + (i & 1) * D, &ext);
	}
	assert_in_range(recv_stats_jitter(&s), D - 2, D);
	/* then constant: decays */
	for (uint32_t i = 2000; i < 4000; i++)
		recv_stats_update(&s, (uint16_t)i, i * 3000u, i * 3000u + 5, &ext);
	assert_int_equal(recv_stats_jitter(&s), 0);
}

static void test_lsr_dlsr(void **state)
{
	(void)state;
	struct recv_stats s;
	struct recv_report rb;
	uint32_t ext;

	recv_stats_init(&s);
	recv_stats_update(&s, 1, 0, 0, &ext);
	recv_stats_on_sr(&s, 0x1234567890abcdefull, 10 * HZ);
	assert_int_equal(recv_stats_block(&s, 10 * HZ + HZ / 2 * 3, HZ, &rb), 0);
	assert_int_equal(rb.lsr, 0x567890ab);
	assert_int_equal(rb.dlsr, 98304);          /* 1.5 s in 1/65536 s */
	/* a block computed with a TSC before the SR's arrival: DLSR 0 */
	assert_int_equal(recv_stats_block(&s, 5 * HZ, HZ, &rb), 0);
	assert_int_equal(rb.dlsr, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wrap_no_loss),
		cmocka_unit_test(test_loss_fraction),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_jumps),
		cmocka_unit_test(test_before_first),
		cmocka_unit_test(test_clamp),
		cmocka_unit_test(test_jitter),
		cmocka_unit_test(test_lsr_dlsr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
