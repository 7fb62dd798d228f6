/*
 * test_bwe_stamp.c - unit tests of the per-copy stamping arithmetic of downlink bandwidth estimation
 * (dataplane/bwe_stamp.h), checked against full recomputations:
 *   - RTP packets in a UDP segment with a one-byte or two-byte header extension block, the
 *     transport-cc (2 bytes) and abs-send-time (3 bytes) elements after other elements of random
 *     lengths (so their bytes and id bytes sit at odd and even offsets), CSRCs, random payloads;
 *   - found once (bwe_pkt_find), written for several receivers in turn (their own seq, their own
 *     id or the packet's), the UDP checksum changed incrementally (bwe_csum_adjust) and compared
 *     with a full RFC 1071 recomputation over the segment, the elements read back with rtp_find_ext
 *     under the receiver's id, every other byte unchanged;
 *   - an id the one-byte form cannot carry (15+) keeps the packet's id; bwe_restore gives back the
 *     packet as it came; abs-send-time is 6.18 fixed point of the time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bwe_stamp.h"
#include "rtp.h"

static uint32_t rnd_state = 12345;
static uint32_t rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return rnd_state >> 8;
}

/* RFC 1071 over the segment (checksum field included): 0xffff when the checksum is right. */
static uint16_t fold_sum(const uint8_t *p, uint32_t len)
{
	uint32_t s = 0;
	for (uint32_t i = 0; i < len; i += 2) {
		s += (uint32_t)p[i] << 8 | (i + 1 < len ? p[i + 1] : 0);
		s = (s & 0xffff) + (s >> 16);
	}
	return (uint16_t)s;
}

static void set_udp_csum(uint8_t *seg, uint32_t len)
{
	seg[6] = seg[7] = 0;
	uint16_t ck = (uint16_t)~fold_sum(seg, len);
	if (!ck)
		ck = 0xffff;
	seg[6] = (uint8_t)(ck >> 8);
	seg[7] = (uint8_t)ck;
}

/* A UDP segment (8-byte header, then RTP) with tw/abs elements under ids tw_id/abs_id. */
static uint32_t build(uint8_t *seg, int two_byte, uint8_t tw_id, uint8_t abs_id)
{
	uint8_t *rtp = seg + 8;
	unsigned cc = rnd() % 3;
	rtp[0] = (uint8_t)(0x90 | cc);
	rtp[1] = 96;
	for (unsigned i = 2; i < 12 + 4 * cc; i++)
		rtp[i] = (uint8_t)rnd();
	uint32_t o = 12 + 4 * cc;
	uint8_t *xh = rtp + o;
	uint32_t d = o + 4;
	/* a few other elements first, then transport-cc and abs-send-time in random order */
	unsigned others = rnd() % 3;
	for (unsigned k = 0; k < others; k++) {
		unsigned l = 1 + rnd() % 4;
		uint8_t id = (uint8_t)(1 + rnd() % 2);   /* 1 or 2: never the ids under test */
		if (two_byte) {
			rtp[d++] = id;
			rtp[d++] = (uint8_t)l;
		} else {
			rtp[d++] = (uint8_t)(id << 4 | (l - 1));
		}
		for (unsigned i = 0; i < l; i++)
			rtp[d++] = (uint8_t)rnd();
		if (rnd() % 2)
			rtp[d++] = 0;   /* padding between elements */
	}
	int abs_first = rnd() % 2;
	for (int k = 0; k < 2; k++) {
		int is_abs = (k == 0) == abs_first;
		uint8_t id = is_abs ? abs_id : tw_id;
		unsigned l = is_abs ? 3 : 2;
		if (two_byte) {
			rtp[d++] = id;
			rtp[d++] = (uint8_t)l;
		} else {
			rtp[d++] = (uint8_t)(id << 4 | (l - 1));
		}
		for (unsigned i = 0; i < l; i++)
			rtp[d++] = (uint8_t)rnd();
	}
	while ((d - o - 4) % 4)
		rtp[d++] = 0;
	xh[0] = two_byte ? 0x10 : 0xBE;
	xh[1] = two_byte ? 0x00 : 0xDE;
	xh[2] = 0;
	xh[3] = (uint8_t)((d - o - 4) / 4);
	unsigned pl = 1 + rnd() % 300;
	for (unsigned i = 0; i < pl; i++)
		rtp[d++] = (uint8_t)rnd();
	uint32_t len = 8 + d;
	seg[0] = 0x13;
	seg[1] = 0x88;
	seg[2] = 0x1f;
	seg[3] = 0x90;
	seg[4] = (uint8_t)(len >> 8);
	seg[5] = (uint8_t)len;
	set_udp_csum(seg, len);
	return len;
}

static void one(int two_byte)
{
	uint8_t seg[1024], orig[1024];
	uint8_t pub_tw = two_byte ? (uint8_t)(3 + rnd() % 200) : 3, pub_abs = two_byte ? 250 : 4;
	uint32_t len = build(seg, two_byte, pub_tw, pub_abs);
	memcpy(orig, seg, len);
	uint8_t *rtp = seg + 8;
	struct rtp_info ri;
	assert_int_equal(rtp_parse(rtp, len - 8, &ri), MMR_DROP_NONE);
	struct bwe_pkt bp;
	bwe_pkt_find(&bp, rtp, &ri, pub_tw, pub_abs);
	assert_true(bp.tw_off != 0);
	assert_true(bp.abs_off != 0);
	uint8_t tw0[2] = { rtp[bp.tw_off], rtp[bp.tw_off + 1] };
	uint8_t abs0[3] = { rtp[bp.abs_off], rtp[bp.abs_off + 1], rtp[bp.abs_off + 2] };

	for (int r = 0; r < 6; r++) {
		/* receivers: its own id (may differ), or one the one-byte form cannot carry */
		uint8_t rid = two_byte ? (uint8_t)(1 + rnd() % 255) : (uint8_t)(r == 5 ? 15 : 3 + rnd() % 12);
		uint8_t aid = two_byte ? (uint8_t)(1 + rnd() % 255) : (uint8_t)(3 + rnd() % 12);
		if (rid == 1 || rid == 2)
			rid = 7;       /* not an id of the other elements */
		uint8_t want_tw = !two_byte && rid > 14 ? pub_tw : rid;
		if (aid == 1 || aid == 2 || aid == want_tw)
			aid = want_tw == 9 ? 10 : 9;
		uint16_t seq = (uint16_t)rnd();
		uint32_t abs24 = rnd() & 0xffffff;
		memcpy(seg, orig, len);    /* each copy starts from the packet's headers */
		uint32_t sum = bwe_write_twcc(rtp, &bp, rid, seq);
		sum += bwe_write_abs(rtp, &bp, aid, abs24);
		bwe_csum_adjust(seg + 6, sum);
		assert_int_equal(fold_sum(seg, len), 0xffff);
		uint16_t off, l;
		assert_int_equal(rtp_find_ext(rtp, &ri, want_tw, &off, &l), 1);
		assert_int_equal(l, 2);
		assert_int_equal(off, bp.tw_off);
		assert_int_equal(get_be16(rtp + off), seq);
		assert_int_equal(rtp_find_ext(rtp, &ri, aid, &off, &l), 1);
		assert_int_equal(l, 3);
		assert_int_equal((uint32_t)rtp[off] << 16 | (uint32_t)rtp[off + 1] << 8 | rtp[off + 2], abs24);
		/* nothing else changed */
		for (uint32_t i = 0; i < len; i++) {
			uint32_t p = i - 8;
			if (i == 6 || i == 7 || (i >= 8 && ((p >= bp.tw_off && p < bp.tw_off + 2u) ||
							   (p >= bp.abs_off && p < bp.abs_off + 3u) ||
							   p == bp.tw_id_pos || p == bp.abs_id_pos)))
				continue;
			assert_int_equal(seg[i], orig[i]);
		}
		/* restored: the packet's own bytes (the checksum field aside) */
		bwe_restore(rtp, &bp, tw0, abs0);
		assert_memory_equal(seg + 8, orig + 8, len - 8);
	}
}

static void test_one_byte(void **state)
{
	(void)state;
	for (int i = 0; i < 2000; i++)
		one(0);
}

static void test_two_byte(void **state)
{
	(void)state;
	for (int i = 0; i < 2000; i++)
		one(1);
}

static void test_abs_send_time(void **state)
{
	(void)state;
	assert_int_equal(bwe_abs_send_time(0), 0);
	assert_int_equal(bwe_abs_send_time(1000000), 1u << 18);          /* 1 s */
	assert_int_equal(bwe_abs_send_time(64000000), 0);                /* wraps at 64 s */
	assert_int_equal(bwe_abs_send_time(500000), 1u << 17);
}

static void test_absent(void **state)
{
	(void)state;
	uint8_t rtp[12] = { 0x80, 96 };
	struct rtp_info ri;
	struct bwe_pkt bp;
	assert_int_equal(rtp_parse(rtp, sizeof(rtp), &ri), MMR_DROP_NONE);
	bwe_pkt_find(&bp, rtp, &ri, 3, 4);
	assert_int_equal(bp.tw_off, 0);
	assert_int_equal(bp.abs_off, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_byte),
		cmocka_unit_test(test_two_byte),
		cmocka_unit_test(test_abs_send_time),
		cmocka_unit_test(test_absent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
