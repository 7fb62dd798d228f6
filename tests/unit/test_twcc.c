/*
 * test_twcc.c - unit tests of transport-wide feedback (lib/rtcp/twcc.c) and the publisher arrival
 * log that builds it (lib/bwe/twcc_recv.c): hand-written FCIs of every chunk form (a Chrome packet,
 * the draft's run-length and 1-bit vector examples, a 2-bit vector with a negative large delta,
 * mixed chunks), malformed FCIs (every truncation, missing deltas, too much trailing data, reserved
 * symbols, count 0), random parse/build round trips through rtcp_check and the walk, the builder's
 * choice of chunks and its refusals (cap, 16-bit deltas), the arrival log (losses, reordering,
 * duplicates, the seq wrap, late packets, window jumps, long gaps split into two packets), and REMB
 * exponent/mantissa limits.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rtcp.h"
#include "twcc.h"
#include "twcc_recv.h"
#include "unit_util.h"

static uint32_t hex(const char *s, uint8_t *out, uint32_t cap)
{
	uint32_t n = 0;
	int hi = -1;

	for (; *s; s++) {
		int v;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else
			continue;
		if (hi < 0) {
			hi = v;
		} else {
			assert_true(n < cap);
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	return n;
}

/* parse from an exact-size heap copy (ASan sees any over-read) */
static int parse(const uint8_t *fci, uint32_t len, struct twcc_fb *fb, struct twcc_status *st, unsigned max)
{
	uint8_t *c = heap_copy(fci, len);
	int r = twcc_fb_parse(c, len, fb, st, max);

	free(c);
	return r;
}

/* check + walk a whole packet to its TWCC item, then parse the item's FCI */
static int parse_packet(const uint8_t *p, uint32_t len, struct twcc_fb *fb, struct twcc_status *st, unsigned max)
{
	uint8_t *c = heap_copy(p, len);
	struct rtcp_iter it;
	struct rtcp_item item;
	int r = -2;

	assert_int_equal(rtcp_check(c, len, 0), MMR_DROP_NONE);
	rtcp_iter_init(&it, c, len);
	assert_int_equal(rtcp_iter_next(&it, &item), 1);
	assert_int_equal(item.type, RTCP_ITEM_TWCC);
	r = twcc_fb_parse(item.u.twcc.fci, item.u.twcc.len, fb, st, max);
	fb->sender_ssrc = item.sender_ssrc;
	fb->media_ssrc = item.media_ssrc;
	assert_int_equal(fb->base_seq, item.u.twcc.base_seq);
	assert_int_equal(fb->status_count, item.u.twcc.status_count);
	assert_int_equal(fb->fb_count, item.u.twcc.fb_count);
	assert_true(fb->ref_us == (int64_t)item.u.twcc.ref_time * TWCC_REF_US);
	free(c);
	return r;
}

static struct twcc_status st[70000], st2[70000];

/* ---- hand-written ------------------------------------------------------------------------------ */

static void test_chrome_packet(void **state)
{
	(void)state;
	uint8_t b[64];
	uint32_t len = hex("af cd 00 07  00 00 00 01  dd 58 6e b6  00 01 00 09  5e 91 10 00"
			   "20 09  1c 0c 2c 38 00 04 00 08 18  01", b, sizeof(b));
	static const uint8_t d[9] = { 0x1c, 0x0c, 0x2c, 0x38, 0x00, 0x04, 0x00, 0x08, 0x18 };
	struct twcc_fb fb;

	assert_int_equal(parse_packet(b, len, &fb, st, 100), 9);
	assert_int_equal(fb.sender_ssrc, 1);
	assert_true(fb.ref_us == 6197520ll * 64000);
	int64_t t = fb.ref_us;
	for (unsigned i = 0; i < 9; i++) {
		t += d[i] * 250;
		assert_int_equal(st[i].seq, 1 + i);
		assert_int_equal(st[i].received, 1);
		assert_true(st[i].arrival_us == t);
	}
	/* max below the count: the first max statuses */
	assert_int_equal(parse_packet(b, len, &fb, st, 4), 4);
	assert_true(st[3].arrival_us == fb.ref_us + (0x1c + 0x0c + 0x2c + 0x38) * 250);
}

/* The draft's run-length example: 221 packets not received (0x00dd), then a run of 3 small deltas. */
static void test_draft_run_length(void **state)
{
	(void)state;
	uint8_t f[32];
	uint32_t len = hex("ff fe 00 e0  ff ff ff 07  00 dd  20 03  04 00 ff", f, sizeof(f));
	struct twcc_fb fb;

	assert_int_equal(parse(f, len, &fb, st, 1000), 224);
	assert_int_equal(fb.base_seq, 0xfffe);
	assert_int_equal(fb.fb_count, 7);
	assert_true(fb.ref_us == -64000);
	for (unsigned i = 0; i < 221; i++)
		assert_int_equal(st[i].received, 0);
	assert_int_equal(st[0].seq, 0xfffe);
	assert_int_equal(st[2].seq, 0);           /* the 16-bit wrap */
	assert_int_equal(st[221].received, 1);
	assert_true(st[221].arrival_us == -64000 + 1000);
	assert_true(st[222].arrival_us == -64000 + 1000);
	assert_true(st[223].arrival_us == -64000 + 1000 + 255 * 250);
}

/* The draft's 1-bit vector example: |1|0|0 1 1 1 1 1 0 0 0 1 1 1 0 0| = 0x9f1c, 14 packets. */
static void test_draft_one_bit_vector(void **state)
{
	(void)state;
	static const int rx[14] = { 0, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0 };
	uint8_t f[32];
	uint32_t len = hex("00 10 00 0e  00 00 01 00  9f 1c  01 02 03 04 05 06 07 08  00 00", f, sizeof(f));
	struct twcc_fb fb;

	assert_int_equal(parse(f, len, &fb, st, 100), 14);
	assert_true(fb.ref_us == 64000);
	int64_t t = 64000, k = 1;
	for (unsigned i = 0; i < 14; i++) {
		assert_int_equal(st[i].received, rx[i]);
		if (rx[i]) {
			t += 250 * k++;
			assert_true(st[i].arrival_us == t);
		}
	}
	/* the same with 10 packets: the vector's last 4 symbols are ignored (and their deltas absent) */
	len = hex("00 10 00 0a  00 00 01 00  9f 1c  01 02 03 04 05 06 07 00", f, sizeof(f));
	assert_int_equal(parse(f, len, &fb, st, 100), 10);
	assert_int_equal(st[9].received, 1);
	/* one more delta than the statuses need: more than 3 trailing bytes? no, 1 is padding-sized */
	len = hex("00 10 00 0a  00 00 01 00  9f 1c  01 02 03 04 05 06 07 08 09 0a 0b", f, sizeof(f));
	assert_int_equal(parse(f, len, &fb, st, 100), -1);
}

/* A 2-bit vector: not received, small, large negative (-4 ms), small, small, not received, and a
 * padding symbol 0 (7 statuses, 4 small + 1 large delta). */
static void test_two_bit_vector(void **state)
{
	(void)state;
	uint8_t f[32];
	/* symbols 0 1 2 1 1 0 0: 11 00 01 10 01 01 00 00 = 0xc650 */
	uint32_t len = hex("12 34 00 07  00 00 02 01  c6 50  28 ff f0 04 08 00", f, sizeof(f));
	struct twcc_fb fb;

	assert_int_equal(parse(f, len, &fb, st, 100), 7);
	assert_int_equal(fb.fb_count, 1);
	int64_t r = 2 * 64000;
	assert_int_equal(st[0].received, 0);
	assert_true(st[1].arrival_us == r + 40 * 250);
	assert_true(st[2].arrival_us == r + 40 * 250 - 16 * 250);
	assert_true(st[3].arrival_us == r + 24 * 250 + 4 * 250);
	assert_true(st[4].arrival_us == r + 28 * 250 + 8 * 250);
	assert_int_equal(st[5].received, 0);
	assert_int_equal(st[6].received, 0);
	/* reserved symbol 3 in a 2-bit vector, and in a run */
	f[9] = 0x53;
	assert_int_equal(parse(f, len, &fb, st, 100), -1);
	len = hex("12 34 00 03  00 00 02 01  60 03  01 02 03 00", f, sizeof(f));
	assert_int_equal(parse(f, len, &fb, st, 100), -1);
	/* a run of symbol 3 of length 0 carries nothing and is accepted (as rtcp_check does) */
	len = hex("12 34 00 01  00 00 02 01  60 00  20 01  05 00", f, sizeof(f));
	assert_int_equal(parse(f, len, &fb, st, 100), 1);
	/* a run longer than the count is cut to it */
	len = hex("12 34 00 02  00 00 02 01  20 09  05 06", f, sizeof(f));
	assert_int_equal(parse(f, len, &fb, st, 100), 2);
	assert_true(st[1].arrival_us == 2 * 64000 + 11 * 250);
}

static void test_malformed(void **state)
{
	(void)state;
	uint8_t f[64];
	struct twcc_fb fb;
	/* mixed: run of 2 small, 1-bit vector (14), 2-bit vector (7) with a large delta: 23 statuses */
	uint32_t len = hex("00 00 00 17  00 00 00 00  20 02  bf ff  d8 00"
			   "01 02  01 01 01 01 01 01 01 01 01 01 01 01 01 01  03 00 10", f, sizeof(f));
	uint32_t full = len;

	assert_int_equal(parse(f, len, &fb, st, 100), 23);
	assert_int_equal(st[22].received, 0);
	assert_true(st[15].arrival_us == 250 * (1 + 2 + 14));
	assert_true(st[16].arrival_us == 250 * (1 + 2 + 14 + 3));
	assert_true(st[17].arrival_us == 250 * (1 + 2 + 14 + 3 + 16));
	assert_int_equal(st[18].received, 0);
	/* every truncation before the last delta is refused; up to 3 zero bytes after it are accepted */
	for (uint32_t l = 0; l < full; l++)
		assert_int_equal(parse(f, l, &fb, st, 100), -1);
	f[full] = f[full + 1] = f[full + 2] = f[full + 3] = 0;
	assert_int_equal(parse(f, full + 3, &fb, st, 100), 23);
	assert_int_equal(parse(f, full + 4, &fb, st, 100), -1);
	/* count 0 */
	uint8_t z[16];
	len = hex("00 00 00 00  00 00 00 00  20 01 05 00", z, sizeof(z));
	assert_int_equal(parse(z, len, &fb, st, 100), -1);
	/* a count the chunks do not cover */
	len = hex("00 00 00 05  00 00 00 00  20 01 05 00", z, sizeof(z));
	assert_int_equal(parse(z, len, &fb, st, 100), -1);
	/* random bytes never read outside and either parse consistently or are refused */
	rng_state = 12345;
	for (unsigned k = 0; k < 20000; k++) {
		uint8_t r[48];
		uint32_t l = rnd() % sizeof(r);
		for (uint32_t i = 0; i < l; i++)
			r[i] = (uint8_t)rnd();
		if (l >= 4 && (rnd() & 1)) {
			r[2] = 0;
			r[3] = (uint8_t)(rnd() % 40);
		}
		int n = parse(r, l, &fb, st, 100);
		assert_true(n == -1 || (n >= 1 && n <= 100 && (unsigned)n <= fb.status_count));
	}
}

/* ---- build -------------------------------------------------------------------------------------- */

static int64_t ticks(int64_t us)
{
	return us >= 0 ? us / 250 : -((-us + 249) / 250);
}

/* build n statuses, check + walk + parse them back and compare at 250 us resolution */
static uint32_t round_trip(const struct twcc_fb *h, unsigned n, uint8_t *buf, uint32_t cap)
{
	uint32_t len = twcc_fb_build(buf, cap, h, st, n);
	struct twcc_fb fb;

	if (!len)
		return 0;
	assert_int_equal(len % 4, 0);
	assert_int_equal(parse_packet(buf, len, &fb, st2, 70000), n);
	assert_int_equal(fb.sender_ssrc, h->sender_ssrc);
	assert_int_equal(fb.media_ssrc, h->media_ssrc);
	assert_int_equal(fb.base_seq, h->base_seq);
	assert_int_equal(fb.fb_count, h->fb_count);
	assert_int_equal(fb.status_count, n);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(st2[i].seq, (uint16_t)(h->base_seq + i));
		assert_int_equal(st2[i].received, st[i].received);
		if (st[i].received)
			assert_true(ticks(st2[i].arrival_us) == ticks(st[i].arrival_us));
	}
	return len;
}

/* the chunk kinds a built packet uses: bit 0 run, 1 one-bit vector, 2 two-bit vector */
static unsigned chunk_kinds(const uint8_t *p, unsigned n)
{
	unsigned seen = 0, kinds = 0, q = 20;

	while (seen < n) {
		uint16_t c = (uint16_t)(p[q] << 8 | p[q + 1]);
		q += 2;
		if (!(c & 0x8000)) {
			kinds |= 1;
			seen += c & 0x1fff;
		} else if (!(c & 0x4000)) {
			kinds |= 2;
			seen += 14;
		} else {
			kinds |= 4;
			seen += 7;
		}
	}
	return kinds;
}

static void test_build_kinds(void **state)
{
	(void)state;
	static uint8_t buf[300000];
	struct twcc_fb h = { .sender_ssrc = 11, .media_ssrc = 22, .base_seq = 65530, .fb_count = 200,
			     .ref_us = 1000 * 64000 + 123 };
	int64_t t = h.ref_us;

	/* 100 small deltas: one run */
	for (unsigned i = 0; i < 100; i++) {
		st[i].received = 1;
		st[i].arrival_us = t += 1000;
	}
	assert_int_equal(round_trip(&h, 100, buf, sizeof(buf)), 12 + 8 + 2 + 100 + 2);  /* + padding */
	assert_int_equal(chunk_kinds(buf, 100), 1);
	/* alternating received/lost, small: 1-bit vectors */
	for (unsigned i = 0; i < 28; i++)
		st[i].received = i & 1;
	assert_true(round_trip(&h, 28, buf, sizeof(buf)) > 0);
	assert_int_equal(chunk_kinds(buf, 28), 2);
	/* alternating with large and negative deltas: 2-bit vectors */
	t = h.ref_us;
	for (unsigned i = 0; i < 14; i++) {
		st[i].received = 1 + (i & 1);
		t += (i & 1) ? ((i & 2) ? 100000 : -3000) : 500;
		st[i].arrival_us = t;
		st[i].received = 1;
	}
	assert_true(round_trip(&h, 14, buf, sizeof(buf)) > 0);
	assert_int_equal(chunk_kinds(buf, 14), 4);
	/* a long loss run (more than 8191: two run chunks) then a received packet */
	for (unsigned i = 0; i < 9000; i++)
		st[i].received = 0;
	st[9000].received = 1;
	st[9000].arrival_us = h.ref_us + 5000;
	assert_true(round_trip(&h, 9001, buf, sizeof(buf)) > 0);
	/* refusals: n 0, a delta over 16 bits, every cap below the size */
	assert_int_equal(twcc_fb_build(buf, sizeof(buf), &h, st, 0), 0);
	st[0].received = 1;
	st[0].arrival_us = h.ref_us;
	st[1].received = 1;
	st[1].arrival_us = h.ref_us + 8200000;
	assert_int_equal(twcc_fb_build(buf, sizeof(buf), &h, st, 2), 0);
	st[1].arrival_us = h.ref_us + 8190000;
	uint32_t len = round_trip(&h, 2, buf, sizeof(buf));
	assert_true(len > 0);
	for (uint32_t cap = 0; cap < len; cap++)
		assert_int_equal(twcc_fb_build(buf, cap, &h, st, 2), 0);
	/* arrivals before the reference (negative first delta) and a negative reference time */
	h.ref_us = -5 * 64000;
	st[0].arrival_us = h.ref_us - 1000;
	st[1].arrival_us = h.ref_us + 300;
	assert_true(round_trip(&h, 2, buf, sizeof(buf)) > 0);
}

static void test_build_random(void **state)
{
	(void)state;
	static uint8_t buf[300000];

	rng_state = 777;
	for (unsigned k = 0; k < 3000; k++) {
		struct twcc_fb h = { .sender_ssrc = rnd(), .media_ssrc = rnd(), .base_seq = (uint16_t)rnd(),
				     .fb_count = (uint8_t)rnd(),
				     .ref_us = (int64_t)(rnd() % 100000000) * 1000 - 50000000000ll };
		unsigned n = 1 + rnd() % (k % 10 == 0 ? 3000 : 60);
		unsigned loss = rnd() % 100, big = rnd() % 30;
		int64_t t = h.ref_us + rnd() % 64000;
		for (unsigned i = 0; i < n; i++) {
			st[i].received = rnd() % 100 >= loss;
			if (!st[i].received)
				continue;
			int64_t d = rnd() % 100 < big ? (int64_t)(rnd() % 200000) - 100000 : rnd() % 20000;
			t += d;
			st[i].arrival_us = t;
		}
		assert_true(round_trip(&h, n, buf, sizeof(buf)) > 0);
	}
}

/* ---- the arrival log -------------------------------------------------------------------------- */

/* build every feedback the log has and collect (seq, received, arrival) */
static unsigned drain(struct twcc_recv *r, uint16_t *first, unsigned *pkts)
{
	static uint8_t buf[1500];
	struct twcc_fb fb;
	unsigned total = 0, np = 0;
	uint32_t len;

	while ((len = twcc_recv_build(r, buf, sizeof(buf), 5, 6)) > 0) {
		assert_true(len <= sizeof(buf));
		int n = parse_packet(buf, len, &fb, st2 + total, 70000 - total);
		assert_true(n > 0);
		if (!np)
			*first = fb.base_seq;
		else
			assert_int_equal(fb.base_seq, (uint16_t)(*first + total));
		total += (unsigned)n;
		np++;
	}
	*pkts = np;
	return total;
}

static void test_recv(void **state)
{
	(void)state;
	static struct twcc_recv r;
	uint16_t first;
	unsigned np;

	twcc_recv_init(&r);
	assert_int_equal(twcc_recv_build(&r, (uint8_t[64]){0}, 64, 1, 2), 0);
	/* 65530..65545 (wrapping), 65533 lost, 65540 and 65541 swapped, 65535 duplicated */
	uint64_t t = 5000000;
	for (unsigned i = 0; i < 16; i++) {
		uint16_t s = (uint16_t)(65530 + i);
		if (i == 3)
			continue;
		if (i == 10)
			s = (uint16_t)(65530 + 11);
		else if (i == 11)
			s = (uint16_t)(65530 + 10);
		twcc_recv_on_pkt(&r, s, t += 1000);
		if (i == 5)
			twcc_recv_on_pkt(&r, s, t + 50000);
	}
	assert_int_equal(drain(&r, &first, &np), 16);
	assert_int_equal(np, 1);
	assert_int_equal(first, 65530);
	assert_int_equal(st2[3].received, 0);
	assert_true(st2[5].arrival_us == 5005000);      /* the first arrival of the duplicate */
	assert_true(st2[10].arrival_us == 5011000);
	assert_true(st2[11].arrival_us == 5010000);
	assert_int_equal(r.fb_count, 1);
	assert_int_equal(twcc_recv_build(&r, (uint8_t[64]){0}, 64, 1, 2), 0);
	/* a packet whose seq was already reported: late */
	twcc_recv_on_pkt(&r, 65533, t);
	assert_int_equal(r.late, 1);
	/* many packets in one interval: several feedback packets, contiguous */
	for (unsigned i = 0; i < 1500; i++)
		twcc_recv_on_pkt(&r, (uint16_t)(10 + i), t += 100);
	assert_int_equal(drain(&r, &first, &np), 1500);
	assert_true(np >= 2);
	assert_int_equal(first, 10);
	/* a gap of 10 s between two packets: two packets, the second with its own reference */
	twcc_recv_on_pkt(&r, 1510, t += 1000);
	twcc_recv_on_pkt(&r, 1511, t += 10000000);
	assert_int_equal(drain(&r, &first, &np), 2);
	assert_int_equal(np, 2);
	assert_true(st2[1].arrival_us == (int64_t)t);
	/* a jump further than the log holds: the window moves, counted */
	twcc_recv_on_pkt(&r, 1512, t += 1000);
	twcc_recv_on_pkt(&r, 1512 + 5000, t += 1000);
	assert_int_equal(r.reset, 1);
	assert_int_equal(drain(&r, &first, &np), TWCC_RECV_SIZE);
	assert_int_equal(first, (uint16_t)(1512 + 5000 - TWCC_RECV_SIZE + 1));
	assert_int_equal(st2[TWCC_RECV_SIZE - 1].received, 1);
	assert_int_equal(st2[0].received, 0);
	/* a small cap: fewer statuses per packet */
	twcc_recv_on_pkt(&r, 6513, t += 1000);
	twcc_recv_on_pkt(&r, 6514, t += 1000);
	twcc_recv_on_pkt(&r, 6515, t += 1000);
	uint8_t small[24];     /* 3 statuses need 25 + padding: 1, then 2 */
	assert_int_equal(twcc_recv_build(&r, small, sizeof(small), 1, 2), 24);
	assert_int_equal(twcc_recv_build(&r, small, sizeof(small), 1, 2), 24);
	assert_int_equal(twcc_recv_build(&r, small, sizeof(small), 1, 2), 0);
}

static void test_remb_limits(void **state)
{
	(void)state;
	uint8_t p[20] = { 0x8f, 0xce, 0x00, 0x04, 0, 0, 0, 9, 0, 0, 0, 0, 'R', 'E', 'M', 'B', 0 };
	struct rtcp_iter it;
	struct rtcp_item item;
	/* exponent 47: mantissa 1 fits (2^47), 2^17 does not (2^64): saturated */
	static const struct { uint32_t e, m; uint64_t want; } c[] = {
		{ 47, 1, 1ull << 47 }, { 47, 1u << 16, 1ull << 63 }, { 47, 1u << 17, UINT64_MAX },
		{ 63, 1, 1ull << 63 }, { 63, 2, UINT64_MAX }, { 0, 0x3ffff, 0x3ffff }, { 63, 0, 0 },
	};
	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		uint32_t v = c[i].e << 18 | c[i].m;
		p[17] = (uint8_t)(v >> 16);
		p[18] = (uint8_t)(v >> 8);
		p[19] = (uint8_t)v;
		assert_int_equal(rtcp_check(p, sizeof(p), 0), MMR_DROP_NONE);
		rtcp_iter_init(&it, p, sizeof(p));
		assert_int_equal(rtcp_iter_next(&it, &item), 1);
		assert_int_equal(item.type, RTCP_ITEM_REMB);
		assert_true(item.u.remb.bitrate_bps == c[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chrome_packet),
		cmocka_unit_test(test_draft_run_length),
		cmocka_unit_test(test_draft_one_bit_vector),
		cmocka_unit_test(test_two_bit_vector),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_build_kinds),
		cmocka_unit_test(test_build_random),
		cmocka_unit_test(test_recv),
		cmocka_unit_test(test_remb_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
