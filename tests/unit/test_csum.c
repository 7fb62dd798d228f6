/*
 * test_csum.c - unit tests of the dataplane's one's complement sums (dataplane/csum.h) against a
 * plain 16-bit reference (RFC 1071 as written): every length 0..300 at every alignment 0..7 (odd
 * lengths, odd offsets), all-0xff and all-zero data, random buffers up to jumbo size, the 64-bit
 * fold, the inlined and the vectorised variants, and the incremental update identities the fan-out
 * relies on (RFC 1624: adding the complement of a word subtracts it; a checksum updated that way
 * verifies like one computed in full).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "csum.h"
#include "pkt.h"
#include "unit_util.h"

/* RFC 1071 reference: big-endian 16-bit words (a trailing byte is the high byte of a zero-padded
 * word), 32-bit accumulator with end-around carry, folded to 16 bits. Not complemented. */
static uint16_t ref_sum(const uint8_t *p, uint32_t len)
{
	uint32_t s = 0;
	for (uint32_t i = 0; i < len; i += 2) {
		uint32_t w = (uint32_t)p[i] << 8;
		if (i + 1 < len)
			w |= p[i + 1];
		s += w;
		s = (s & 0xffff) + (s >> 16);
	}
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* Two 16-bit one's complement values are the same number (0 and 0xffff are both zero). */
static int oc_equal(uint32_t a, uint32_t b)
{
	return a % 0xffff == b % 0xffff;
}

static void fill_random(uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

/* Every length and alignment, for random, all-0xff and all-zero content: the big-endian sums equal
 * the reference exactly (same folding), and the host-order ones are their byte swap. */
static void test_against_reference(void **state)
{
	(void)state;
	static uint8_t buf[300 + 16];
	rng_state = 0x12345678u;
	for (int content = 0; content < 3; content++) {
		for (uint32_t off = 0; off < 8; off++) {
			for (uint32_t len = 0; len <= 300; len++) {
				if (content == 0)
					fill_random(buf, sizeof(buf));
				else
					memset(buf, content == 1 ? 0xff : 0, sizeof(buf));
				const uint8_t *p = buf + off;
				uint16_t want = ref_sum(p, len);
				assert_int_equal(csum_be16(p, len), want);
				assert_int_equal(csum_be16_bulk(p, len), want);
				assert_int_equal(csum_host16(p, len), rte_bswap16(want));
				assert_int_equal(csum_host16_bulk(p, len), rte_bswap16(want));
				/* lib/pkt/pkt.h's sums fold to the same value (they may be mixed) */
				assert_int_equal(pkt_fold_sum(pkt_raw_sum(p, len, 0)), (uint16_t)~want);
			}
		}
	}
}

/* All 0xff: the sum of n words of 0xffff is 0xffff (one's complement -0), never folded to 0;
 * all zero: 0. Large buffers (the 64-bit accumulator's folding) included. */
static void test_extremes(void **state)
{
	(void)state;
	static uint8_t buf[65536 + 8];
	memset(buf, 0xff, sizeof(buf));
	for (uint32_t len = 2; len <= 65536; len = len * 3 + 1) {
		uint32_t even = len & ~1u;
		assert_int_equal(csum_be16_bulk(buf, even), 0xffff);
		assert_int_equal(csum_be16(buf + 1, even), 0xffff);
		/* an odd trailing 0xff byte is 0xff00 */
		assert_int_equal(csum_be16_bulk(buf, even + 1), ref_sum(buf, even + 1));
		assert_int_equal(csum_finish(csum_be16_bulk(buf, even)), 0);
	}
	memset(buf, 0, sizeof(buf));
	assert_int_equal(csum_be16_bulk(buf, 65536), 0);
	assert_int_equal(csum_finish(0), 0xffff);
	/* random jumbo buffers at odd offsets */
	rng_state = 0xabcdef01u;
	for (int i = 0; i < 50; i++) {
		uint32_t len = rnd() % 65536, off = rnd() % 8;
		fill_random(buf, len + off);
		assert_int_equal(csum_be16_bulk(buf + off, len), ref_sum(buf + off, len));
	}
}

/* csum_fold64 of any 64-bit value is that value modulo 0xffff (as a one's complement number), and
 * never 0 unless the value is 0. csum_finish complements the fold. */
static void test_fold64(void **state)
{
	(void)state;
	static const uint64_t v[] = { 0, 1, 0xffff, 0x10000, 0x1fffe, 0xffffffffu, 0x100000000ull,
				      0xffffffffffffffffull, 0x8000000000000000ull, 0x123456789abcdef0ull };
	for (unsigned i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint16_t f = csum_fold64(v[i]);
		assert_true(oc_equal(f, (uint32_t)(v[i] % 0xffff)));
		assert_true(v[i] == 0 || f != 0);
		assert_int_equal(csum_finish(v[i]), (uint16_t)~f);
	}
	rng_state = 0x5eed0001u;
	for (int i = 0; i < 100000; i++) {
		uint64_t x = ((uint64_t)rnd() << 32) | rnd();
		x >>= rnd() % 64;
		uint16_t f = csum_fold64(x);
		assert_int_equal(f % 0xffff, x % 0xffff);
		assert_true(x == 0 || f != 0);
	}
}

/* RFC 1624: replacing word m by m' in data whose checksum is HC gives HC' = ~(~HC + ~m + m'),
 * computed in a 64-bit accumulator as the fan-out does (adding ~m subtracts m). The updated
 * checksum is the full one as a one's complement number, and verifies (the data with it sums to
 * 0xffff) once a 0 is sent as 0xffff. Also several words at once, and single bytes at even (high)
 * and odd (low) positions. */
static void test_incremental_update(void **state)
{
	(void)state;
	uint8_t buf[64 + 2];
	rng_state = 0x1624u;
	for (int iter = 0; iter < 200000; iter++) {
		uint32_t len = 2 + (rnd() % 32) * 2;        /* even; checksum field at [len..len+1] */
		if (iter % 7 == 0)
			memset(buf, 0xff, len);
		else if (iter % 11 == 0)
			memset(buf, 0, len);
		else
			fill_random(buf, len);
		buf[len] = buf[len + 1] = 0;
		uint16_t hc = csum_finish(csum_be16(buf, len));
		uint64_t s = (uint16_t)~hc;
		unsigned k = 1 + rnd() % 4;
		for (unsigned j = 0; j < k; j++) {
			uint32_t pos = rnd() % len;
			if (rnd() & 1) {       /* a byte */
				uint8_t old = buf[pos], nv = (uint8_t)rnd();
				uint32_t sh = (pos & 1) ? 0 : 8;
				s += (uint16_t)~((uint32_t)old << sh) + ((uint32_t)nv << sh);
				buf[pos] = nv;
			} else {               /* a 16-bit word at an even offset */
				pos &= ~1u;
				if (pos + 2 > len)
					pos = len - 2;
				uint16_t old = (uint16_t)(buf[pos] << 8 | buf[pos + 1]);
				uint16_t nv = (iter % 5 == 0) ? (uint16_t)~old : (uint16_t)rnd();
				s += (uint16_t)~old + nv;
				buf[pos] = (uint8_t)(nv >> 8);
				buf[pos + 1] = (uint8_t)nv;
			}
		}
		uint16_t upd = csum_finish(s);
		uint16_t full = csum_finish(csum_be16(buf, len));
		assert_true(oc_equal(upd, full));
		/* it verifies (data + checksum sum to -0) once a computed 0 is sent as 0xffff, as UDP
		 * does: data that sums to +0 (all zero) needs 0xffff, and 0 is then the only wrong one */
		uint16_t field = upd ? upd : 0xffff;
		buf[len] = (uint8_t)(field >> 8);
		buf[len + 1] = (uint8_t)field;
		assert_int_equal(ref_sum(buf, len + 2), 0xffff);
	}
}

/* A sum over a buffer that starts at an odd offset of the checksummed data is the byte swap of its
 * own sum (what prepare_sum() does for a payload after an odd-length RTP header and descriptor). */
static void test_odd_offset_swap(void **state)
{
	(void)state;
	uint8_t buf[1501];
	rng_state = 0x0dd0ff5eu;
	for (int iter = 0; iter < 2000; iter++) {
		uint32_t len = 1 + rnd() % 1500, split = 1 + 2 * (rnd() % ((len + 1) / 2));
		if (split > len)
			split = len;
		fill_random(buf, len);
		/* split is odd: the tail begins at an odd offset */
		uint32_t head = csum_be16(buf, split);
		uint32_t tail = csum_be16_bulk(buf + split, len - split);
		uint64_t s = head + rte_bswap16((uint16_t)tail);
		assert_true(oc_equal(csum_fold64(s), ref_sum(buf, len)));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_against_reference),
		cmocka_unit_test(test_extremes),
		cmocka_unit_test(test_fold64),
		cmocka_unit_test(test_incremental_update),
		cmocka_unit_test(test_odd_offset_swap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
