/*
 * test_rtcp.c - unit tests of the RTCP check, item walk and builders (lib/rtcp/rtcp.c).
 *
 * Known packets written byte by byte from their format descriptions (a Chrome transport-wide
 * feedback packet as Wireshark dissects it, with its 1-byte padding; an SR + SDES compound; a REMB),
 * so the parser is checked against bytes the builders did not make; every builder round-tripped
 * through the parser (SR and RR with 0/1/31 blocks, SDES, BYE, APP, NACK, PLI, FIR with several
 * entries, REMB, TWCC, XR RRTR + DLRR, padding); compound SR+SDES and RR+NACK+PLI; reduced-size lone
 * NACK/PLI accepted only when compound is not required; NACK PID+BLP packing of arbitrary lists
 * (across 65535 -> 0, more than 17 numbers, random sets); REMB mantissa/exponent precision; every
 * malformed case with its drop reason; every prefix of a valid compound; random bytes and random
 * mutations of valid packets (the walk stops where the check does); builder overflow. Inputs are
 * checked from heap buffers of their exact length so that AddressSanitizer sees any over-read.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rtcp.h"
#include "unit_util.h"

#define MAX_ITEMS 512

/* Hex text ("80 c9 0001 ...", spaces ignored) to bytes; returns the length. */
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
	assert_int_equal(hi, -1);
	return n;
}

/* Check and walk p from an exact heap copy: the walk must agree with the check (it ends with no error
 * exactly when the check accepts, with the check's reason otherwise). Items point into *keep (the
 * caller frees it). Returns the check's reason; *n_items is the number of items walked. */
static enum mmr_drop_reason walk(const uint8_t *p, uint32_t len, int compound, struct rtcp_item *items,
				 unsigned *n_items, uint8_t **keep)
{
	uint8_t *c = heap_copy(p, len);
	enum mmr_drop_reason r = rtcp_check(c, len, compound);
	struct rtcp_iter it;
	struct rtcp_item tmp;
	unsigned n = 0;

	rtcp_iter_init(&it, c, len);
	while (rtcp_iter_next(&it, n < MAX_ITEMS && items ? &items[n] : &tmp))
		n++;
	if (r == MMR_DROP_NONE || r == MMR_DROP_RTCP_NOT_COMPOUND)
		assert_int_equal(it.err, 0);
	else if (len > 0)
		assert_int_equal(it.err, r);
	if (n_items)
		*n_items = n;
	if (keep)
		*keep = c;
	else
		free(c);
	return r;
}

static enum mmr_drop_reason check_hex(const char *s, int compound)
{
	uint8_t b[2048];
	uint32_t len = hex(s, b, sizeof(b));

	return walk(b, len, compound, NULL, NULL, NULL);
}

/* ---- known packets, written by hand ---------------------------------------------------------- */

/* A Chrome transport-wide feedback packet as Wireshark shows it: V=2, P=1, FMT=15, PT=205, length 7
 * (32 bytes), sender SSRC 1, media SSRC 0xdd586eb6, base seq 1, status count 9, reference time
 * 6197520 (0x5e9110), feedback count 0, one run-length chunk 0x2009 (9 x small delta), 9 one-byte
 * deltas, 1 byte of padding whose count is 1 (not a multiple of 4). */
static void test_known_twcc_chrome(void **state)
{
	(void)state;
	uint8_t b[64];
	uint32_t len = hex("af cd 00 07  00 00 00 01  dd 58 6e b6  00 01 00 09  5e 91 10 00"
			   "20 09  1c 0c 2c 38 00 04 00 08 18  01", b, sizeof(b));
	struct rtcp_item it[4];
	unsigned n;
	uint8_t *keep;

	assert_int_equal(len, 32);
	assert_int_equal(walk(b, len, 0, it, &n, &keep), MMR_DROP_NONE);
	assert_int_equal(n, 1);
	assert_int_equal(it[0].type, RTCP_ITEM_TWCC);
	assert_int_equal(it[0].pt, 205);
	assert_int_equal(it[0].fmt, 15);
	assert_int_equal(it[0].sender_ssrc, 1);
	assert_int_equal(it[0].media_ssrc, 0xdd586eb6u);
	assert_int_equal(it[0].u.twcc.base_seq, 1);
	assert_int_equal(it[0].u.twcc.status_count, 9);
	assert_int_equal(it[0].u.twcc.ref_time, 6197520);
	assert_int_equal(it[0].u.twcc.fb_count, 0);
	assert_int_equal(it[0].u.twcc.len, 19);          /* 8 header + 2 chunk + 9 deltas, padding off */
	assert_ptr_equal(it[0].u.twcc.fci, keep + 12);
	assert_int_equal(it[0].u.twcc.fci[10], 0x1c);
	/* alone it is reduced-size: refused where compound is required */
	assert_int_equal(walk(b, len, 1, NULL, NULL, NULL), MMR_DROP_RTCP_NOT_COMPOUND);
	/* a negative reference time is sign-extended */
	b[16] = 0xff; b[17] = 0xff; b[18] = 0xfe;
	assert_int_equal(walk(b, len, 0, it, &n, NULL), MMR_DROP_NONE);
	assert_int_equal(it[0].u.twcc.ref_time, -2);
	free(keep);
}

/* SR (RFC 3550 6.4.1) with one report block, then SDES (6.5) with a CNAME, written by hand. */
static void test_known_sr_sdes(void **state)
{
	(void)state;
	uint8_t b[128];
	uint32_t len = hex(
		/* SR: V=2 P=0 RC=1, PT 200, length 12 (52 bytes) */
		"81 c8 00 0c"
		"12 34 56 78"                           /* SSRC of sender */
		"e6 b9 7a 11  80 00 00 00"              /* NTP 0xe6b97a11.80000000 */
		"00 01 5f 90"                           /* RTP timestamp 90000 */
		"00 00 01 2c"                           /* packet count 300 */
		"00 04 93 e0"                           /* octet count 300000 */
		"ca fe ba be"                           /* block: SSRC */
		"19 ff ff fe"                           /* fraction 25, cumulative lost -2 */
		"00 01 ff ff"                           /* ext highest seq 0x1ffff */
		"00 00 00 2a"                           /* jitter 42 */
		"7a 11 80 00"                           /* LSR */
		"00 01 80 00"                           /* DLSR 1.5 s */
		/* SDES: SC=1, PT 202, length 3 (16 bytes): SSRC, CNAME "mmr@x" (1 5 ...), END, pad */
		"81 ca 00 03"
		"12 34 56 78"
		"01 05 6d 6d 72 40 78 00", b, sizeof(b));
	struct rtcp_item it[8];
	unsigned n;
	uint8_t *keep;

	assert_int_equal(len, 68);
	assert_int_equal(walk(b, len, 1, it, &n, &keep), MMR_DROP_NONE);
	assert_int_equal(n, 3);
	assert_int_equal(it[0].type, RTCP_ITEM_SR);
	assert_int_equal(it[0].sender_ssrc, 0x12345678);
	assert_true(it[0].u.sr.ntp == 0xe6b97a1180000000ull);
	assert_int_equal(it[0].u.sr.rtp_ts, 90000);
	assert_int_equal(it[0].u.sr.pkts, 300);
	assert_int_equal(it[0].u.sr.octets, 300000);
	assert_int_equal(it[0].u.sr.n_rb, 1);
	assert_int_equal(it[1].type, RTCP_ITEM_RR);
	assert_int_equal(it[1].sender_ssrc, 0x12345678);
	assert_int_equal(it[1].media_ssrc, 0xcafebabe);
	assert_int_equal(it[1].u.rb.ssrc, 0xcafebabe);
	assert_int_equal(it[1].u.rb.fraction_lost, 25);
	assert_int_equal(it[1].u.rb.cum_lost, -2);
	assert_int_equal(it[1].u.rb.ext_high_seq, 0x1ffff);
	assert_int_equal(it[1].u.rb.jitter, 42);
	assert_int_equal(it[1].u.rb.lsr, 0x7a118000);
	assert_int_equal(it[1].u.rb.dlsr, 0x18000);
	assert_int_equal(it[2].type, RTCP_ITEM_SDES);
	assert_int_equal(it[2].sender_ssrc, 0x12345678);
	assert_int_equal(it[2].u.sdes.cname_len, 5);
	assert_memory_equal(it[2].u.sdes.cname, "mmr@x", 5);
	free(keep);

	/* the builders make the same bytes */
	uint8_t out[128];
	struct rtcp_builder bld;
	struct rtcp_report_block rb = { 0xcafebabe, 25, -2, 0x1ffff, 42, 0x7a118000, 0x18000 };
	rtcp_build_init(&bld, out, sizeof(out));
	rtcp_build_sr(&bld, 0x12345678, 0xe6b97a1180000000ull, 90000, 300, 300000, &rb, 1);
	rtcp_build_sdes_cname(&bld, 0x12345678, "mmr@x");
	assert_int_equal(rtcp_build_end(&bld), 68);
	assert_memory_equal(out, b, 68);
}

/* REMB (draft-alvestrand-rmcat-remb-03 2.2): PSFB FMT 15, length 5, "REMB", 1 SSRC, exponent 3,
 * mantissa 250000: 2 000 000 bit/s. */
static void test_known_remb(void **state)
{
	(void)state;
	uint8_t b[64];
	uint32_t len = hex("8f ce 00 05  00 00 00 07  00 00 00 00  52 45 4d 42"
			   "01 0f d0 90  aa bb cc dd", b, sizeof(b));
	struct rtcp_item it[2];
	unsigned n;
	uint8_t *keep;

	assert_int_equal(walk(b, len, 0, it, &n, &keep), MMR_DROP_NONE);
	assert_int_equal(n, 1);
	assert_int_equal(it[0].type, RTCP_ITEM_REMB);
	assert_int_equal(it[0].sender_ssrc, 7);
	assert_true(it[0].u.remb.bitrate_bps == 2000000);
	assert_int_equal(it[0].u.remb.n_ssrcs, 1);
	assert_memory_equal(it[0].u.remb.ssrcs, "\xaa\xbb\xcc\xdd", 4);

	uint8_t out[64];
	struct rtcp_builder bld;
	uint32_t ssrc = 0xaabbccdd;
	rtcp_build_init(&bld, out, sizeof(out));
	rtcp_build_remb(&bld, 7, 2000000, &ssrc, 1);
	assert_int_equal(rtcp_build_end(&bld), len);
	/* the builder picks the smallest exponent: 2e6 = 250000 << 3 exactly, as written above */
	assert_memory_equal(out, b, len);
	free(keep);
}

/* ---- round trips through the builders -------------------------------------------------------- */

static struct rtcp_report_block mkblock(unsigned i)
{
	struct rtcp_report_block rb = {
		.ssrc = 0x10000000u + i, .fraction_lost = (uint8_t)(i * 7), .cum_lost = (int32_t)i * 1000 - 8000000,
		.ext_high_seq = 0x10000u * i + 5, .jitter = i * 3, .lsr = 0xabcd0000u + i, .dlsr = 65536u * i,
	};
	return rb;
}

static void check_block(const struct rtcp_item *it, uint32_t sender, unsigned i)
{
	struct rtcp_report_block rb = mkblock(i);

	assert_int_equal(it->type, RTCP_ITEM_RR);
	assert_int_equal(it->sender_ssrc, sender);
	assert_int_equal(it->media_ssrc, rb.ssrc);
	assert_int_equal(it->u.rb.ssrc, rb.ssrc);
	assert_int_equal(it->u.rb.fraction_lost, rb.fraction_lost);
	assert_int_equal(it->u.rb.cum_lost, rb.cum_lost);
	assert_int_equal(it->u.rb.ext_high_seq, rb.ext_high_seq);
	assert_int_equal(it->u.rb.jitter, rb.jitter);
	assert_int_equal(it->u.rb.lsr, rb.lsr);
	assert_int_equal(it->u.rb.dlsr, rb.dlsr);
}

static void test_sr_rr_round_trip(void **state)
{
	(void)state;
	static const unsigned counts[] = { 0, 1, 2, 31 };
	struct rtcp_report_block rbs[31];
	struct rtcp_item it[40];
	uint8_t buf[1024];
	unsigned n;

	for (unsigned i = 0; i < 31; i++)
		rbs[i] = mkblock(i);
	for (unsigned c = 0; c < 4; c++) {
		unsigned k = counts[c];
		struct rtcp_builder b;

		rtcp_build_init(&b, buf, sizeof(buf));
		rtcp_build_sr(&b, 0xdeadbeef, 0x0123456789abcdefull, 0xfffffff0, 7, 8, rbs, k);
		uint32_t len = rtcp_build_end(&b);
		assert_int_equal(len, 28 + 24 * k);
		assert_int_equal(walk(buf, len, 1, it, &n, NULL), MMR_DROP_NONE);
		assert_int_equal(n, 1 + k);
		assert_int_equal(it[0].type, RTCP_ITEM_SR);
		assert_int_equal(it[0].sender_ssrc, 0xdeadbeef);
		assert_true(it[0].u.sr.ntp == 0x0123456789abcdefull);
		assert_int_equal(it[0].u.sr.rtp_ts, 0xfffffff0);
		assert_int_equal(it[0].u.sr.pkts, 7);
		assert_int_equal(it[0].u.sr.octets, 8);
		assert_int_equal(it[0].u.sr.n_rb, k);
		for (unsigned i = 0; i < k; i++)
			check_block(&it[1 + i], 0xdeadbeef, i);

		rtcp_build_init(&b, buf, sizeof(buf));
		rtcp_build_rr(&b, 0x01020304, rbs, k);
		len = rtcp_build_end(&b);
		assert_int_equal(len, 8 + 24 * k);
		assert_int_equal(walk(buf, len, 1, it, &n, NULL), MMR_DROP_NONE);
		assert_int_equal(n, k);            /* an RR without blocks yields no item */
		for (unsigned i = 0; i < k; i++)
			check_block(&it[i], 0x01020304, i);
	}
	/* 32 blocks do not fit the 5-bit count */
	struct rtcp_report_block many[32];
	struct rtcp_builder b;
	memset(many, 0, sizeof(many));
	rtcp_build_init(&b, buf, sizeof(buf));
	rtcp_build_rr(&b, 1, many, 32);
	assert_int_equal(rtcp_build_end(&b), 0);
}

static void test_sdes_bye_app_round_trip(void **state)
{
	(void)state;
	uint8_t buf[2048];
	struct rtcp_builder b;
	struct rtcp_item it[16];
	unsigned n;
	uint8_t *keep;
	char longname[300];

	/* CNAME lengths 0..8 cover every padding length; one of 300 is cut to 255 */
	for (unsigned l = 0; l <= 8; l++) {
		char name[9] = "abcdefgh";
		name[l] = 0;
		rtcp_build_init(&b, buf, sizeof(buf));
		rtcp_build_sdes_cname(&b, 0x55, name);
		uint32_t len = rtcp_build_end(&b);
		assert_int_equal(len % 4, 0);
		assert_int_equal(len, 4 + ((4 + 2 + l + 1 + 3) & ~3u));
		assert_int_equal(walk(buf, len, 0, it, &n, &keep), MMR_DROP_NONE);
		assert_int_equal(n, 1);
		assert_int_equal(it[0].type, RTCP_ITEM_SDES);
		assert_int_equal(it[0].sender_ssrc, 0x55);
		assert_non_null(it[0].u.sdes.cname);
		assert_int_equal(it[0].u.sdes.cname_len, l);
		assert_memory_equal(it[0].u.sdes.cname, name, l);
		free(keep);
	}
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	rtcp_build_init(&b, buf, sizeof(buf));
	rtcp_build_sdes_cname(&b, 0x56, longname);
	uint32_t len = rtcp_build_end(&b);
	assert_int_equal(walk(buf, len, 0, it, &n, NULL), MMR_DROP_NONE);
	assert_int_equal(it[0].u.sdes.cname_len, 255);

	/* SDES with two chunks, the first without CNAME but another item (NAME), written by hand */
	uint8_t h[64];
	len = hex("82 ca 00 06  00 00 00 01  02 03 61 62 63 00 00 00"
		  "00 00 00 02  01 02 78 79  00 00 00 00", h, sizeof(h));
	assert_int_equal(walk(h, len, 0, it, &n, &keep), MMR_DROP_NONE);
	assert_int_equal(n, 2);
	assert_int_equal(it[0].sender_ssrc, 1);
	assert_null(it[0].u.sdes.cname);
	assert_int_equal(it[1].sender_ssrc, 2);
	assert_int_equal(it[1].u.sdes.cname_len, 2);
	assert_memory_equal(it[1].u.sdes.cname, "xy", 2);
	free(keep);

	/* BYE: no SSRC, several, with reasons of every padding length */
	uint32_t ssrcs[3] = { 0xa, 0xb, 0xc };
	const char *reasons[] = { NULL, "", "a", "ab", "abc", "abcd" };
	for (unsigned k = 0; k <= 3; k++) {
		for (unsigned r = 0; r < 6; r++) {
			rtcp_build_init(&b, buf, sizeof(buf));
			rtcp_build_bye(&b, ssrcs, k, reasons[r]);
			len = rtcp_build_end(&b);
			assert_true(len > 0);
			assert_int_equal(walk(buf, len, 0, it, &n, &keep), MMR_DROP_NONE);
			assert_int_equal(n, 1);
			assert_int_equal(it[0].type, RTCP_ITEM_BYE);
			assert_int_equal(it[0].sender_ssrc, k ? 0xa : 0);
			assert_int_equal(it[0].u.bye.n_ssrcs, k);
			for (unsigned i = 0; i < k; i++)
				assert_int_equal(((uint32_t)it[0].u.bye.ssrcs[4 * i] << 24 |
						  (uint32_t)it[0].u.bye.ssrcs[4 * i + 1] << 16 |
						  (uint32_t)it[0].u.bye.ssrcs[4 * i + 2] << 8 |
						  it[0].u.bye.ssrcs[4 * i + 3]), ssrcs[i]);
			if (reasons[r]) {
				assert_non_null(it[0].u.bye.reason);
				assert_int_equal(it[0].u.bye.reason_len, strlen(reasons[r]));
				assert_memory_equal(it[0].u.bye.reason, reasons[r], strlen(reasons[r]));
			} else {
				assert_null(it[0].u.bye.reason);
			}
			free(keep);
		}
	}

	/* APP */
	uint8_t data[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	rtcp_build_init(&b, buf, sizeof(buf));
	rtcp_build_app(&b, 0x77, 5, "mmr1", data, 8);
	rtcp_build_app(&b, 0x78, 0, "nodt", NULL, 0);
	len = rtcp_build_end(&b);
	assert_int_equal(len, 20 + 12);
	assert_int_equal(walk(buf, len, 0, it, &n, &keep), MMR_DROP_NONE);
	assert_int_equal(n, 2);
	assert_int_equal(it[0].type, RTCP_ITEM_APP);
	assert_int_equal(it[0].sender_ssrc, 0x77);
	assert_int_equal(it[0].u.app.subtype, 5);
	assert_memory_equal(it[0].u.app.name, "mmr1", 4);
	assert_int_equal(it[0].u.app.len, 8);
	assert_memory_equal(it[0].u.app.data, data, 8);
	assert_int_equal(it[1].u.app.len, 0);
	free(keep);
	/* APP data not whole words: refused */
	rtcp_build_init(&b, buf, sizeof(buf));
	rtcp_build_app(&b, 0x77, 5, "mmr1", data, 3);
	assert_int_equal(rtcp_build_end(&b), 0);
}

static void test_feedback_round_trip(void **state)
{
	(void)state;
	uint8_t buf[1024];
	struct rtcp_builder b;
	struct rtcp_item it[64];
	unsigned n;
	uint8_t *keep;

	/* PLI */
	rtcp_build_init(&b, buf, sizeof(buf));
	rtcp_build_pli(&b, 0x11, 0x22);
	uint32_t len = rtcp_build_end(&b);
	assert_int_equal(len, 12);
	assert_int_equal(walk(buf, len, 0, it, &n, NULL), MMR_DROP_NONE);
	assert_int_equal(n, 1);
	assert_int_equal(it[0].type, RTCP_ITEM_PLI);
	assert_int_equal(it[0].pt, RTCP_PT_PSFB);
	assert_int_equal(it[0].fmt, RTCP_FMT_PLI);
	assert_int_equal(it[0].sender_ssrc, 0x11);
	assert_int_equal(it[0].media_ssrc, 0x22);

	/* FIR, one entry and several */
	rtcp_build_init(&b, buf, sizeof(buf));
	rtcp_build_fir(&b, 0x11, 0x33, 200);
	uint32_t fs[5] = { 1, 2, 3, 0xfffffffe, 0xffffffff };
	uint8_t fq[5] = { 0, 1, 127, 128, 255 };
	rtcp_build_fir_n(&b, 0x12, fs, fq, 5);
	len = rtcp_build_end(&b);
	assert_int_equal(len, 20 + 12 + 40);
	assert_int_equal(walk(buf, len, 0, it, &n, NULL), MMR_DROP_NONE);
	assert_int_equal(n, 6);
	assert_int_equal(it[0].type, RTCP_ITEM_FIR);
	assert_int_equal(it[0].sender_ssrc, 0x11);
	assert_int_equal(it[0].media_ssrc, 0x33);
	assert_int_equal(it[0].u.fir.ssrc, 0x33);
	assert_int_equal(it[0].u.fir.seq, 200);
	for (unsigned i = 0; i < 5; i++) {
		assert_int_equal(it[1 + i].type, RTCP_ITEM_FIR);
		assert_int_equal(it[1 + i].sender_ssrc, 0x12);
		assert_int_equal(it[1 + i].media_ssrc, fs[i]);
		assert_int_equal(it[1 + i].u.fir.ssrc, fs[i]);
		assert_int_equal(it[1 + i].u.fir.seq, fq[i]);
	}
	/* the FIR header's media SSRC is zero (RFC 5104 4.3.1.2) */
	assert_memory_equal(buf + 8, "\0\0\0\0", 4);

	/* NACK */
	uint16_t seqs[3] = { 100, 102, 116 };
	rtcp_build_init(&b, buf, sizeof(buf));
	rtcp_build_nack(&b, 0x44, 0x55, seqs, 3);
	len = rtcp_build_end(&b);
	assert_int_equal(len, 16);
	assert_int_equal(walk(buf, len, 0, it, &n, NULL), MMR_DROP_NONE);
	assert_int_equal(n, 1);
	assert_int_equal(it[0].type, RTCP_ITEM_NACK);
	assert_int_equal(it[0].sender_ssrc, 0x44);
	assert_int_equal(it[0].media_ssrc, 0x55);
	assert_int_equal(it[0].u.nack.pid, 100);
	assert_int_equal(it[0].u.nack.blp, (1u << 1) | (1u << 15));
	/* n = 0 writes nothing and is no error */
	rtcp_build_init(&b, buf, sizeof(buf));
	rtcp_build_nack(&b, 0x44, 0x55, seqs, 0);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.overflow, 0);

	/* TWCC: a ready FCI (two-bit vector chunk: received small, large, not received), padded */
	uint8_t fci[13] = { 0x12, 0x34, 0x00, 0x03, 0xff, 0xff, 0xff, 0x09,
			    0xd8, 0x00,          /* 11 01 10 00 00 00 00 00: small, large, missing */
			    0x05, 0x01, 0x00 };  /* deltas: 1 byte, 2 bytes */
	rtcp_build_init(&b, buf, sizeof(buf));
	rtcp_build_twcc(&b, 0x66, 0x77, fci, sizeof(fci));
	len = rtcp_build_end(&b);
	assert_int_equal(len, 12 + 16);
	assert_int_equal(walk(buf, len, 0, it, &n, &keep), MMR_DROP_NONE);
	assert_int_equal(n, 1);
	assert_int_equal(it[0].type, RTCP_ITEM_TWCC);
	assert_int_equal(it[0].sender_ssrc, 0x66);
	assert_int_equal(it[0].media_ssrc, 0x77);
	assert_int_equal(it[0].u.twcc.base_seq, 0x1234);
	assert_int_equal(it[0].u.twcc.status_count, 3);
	assert_int_equal(it[0].u.twcc.ref_time, -1);
	assert_int_equal(it[0].u.twcc.fb_count, 9);
	assert_int_equal(it[0].u.twcc.len, 13);          /* the FCI up to its last delta */
	assert_memory_equal(it[0].u.twcc.fci, fci, sizeof(fci));
	free(keep);
	/* one-bit vector chunk: 14 statuses, 3 received */
	uint8_t fci2[13] = { 0, 1, 0, 14, 0, 0, 1, 0, 0xa0, 0x03, 1, 2, 3 };
	rtcp_build_init(&b, buf, sizeof(buf));
	rtcp_build_twcc(&b, 0x66, 0x77, fci2, sizeof(fci2));
	len = rtcp_build_end(&b);
	assert_int_equal(walk(buf, len, 0, it, &n, NULL), MMR_DROP_NONE);
	assert_int_equal(it[0].u.twcc.status_count, 14);
	/* found by fuzz_rtcp: 3 zero bytes after the last delta inside the FCI, then 7 bytes of RTCP
	 * padding: the FCI handed over ends at its last delta, so rebuilding it gives the same item */
	uint8_t h[64];
	len = hex("af cd 00 07  00 00 00 01  dd 58 6e b6  00 01 00 09  5e 91 0c 00  10 20 09 1c"
		  "2c 38 00 04  00 cd 00 07", h, sizeof(h));
	assert_int_equal(walk(h, len, 0, it, &n, &keep), MMR_DROP_NONE);
	assert_int_equal(it[0].u.twcc.len, 10);
	rtcp_build_init(&b, buf, sizeof(buf));
	rtcp_build_twcc(&b, 1, 2, it[0].u.twcc.fci, it[0].u.twcc.len);
	free(keep);
	len = rtcp_build_end(&b);
	assert_int_equal(len, 24);
	assert_int_equal(walk(buf, len, 0, it, &n, NULL), MMR_DROP_NONE);
	assert_int_equal(it[0].u.twcc.len, 10);
	assert_int_equal(it[0].u.twcc.status_count, 9);
	/* the same with all 14 received: 14 deltas do not fit */
	fci2[8] = 0xbf;
	fci2[9] = 0xff;
	rtcp_build_init(&b, buf, sizeof(buf));
	rtcp_build_twcc(&b, 0x66, 0x77, fci2, sizeof(fci2));
	len = rtcp_build_end(&b);
	assert_int_equal(walk(buf, len, 0, NULL, NULL, NULL), MMR_DROP_BAD_RTCP);
}

static void test_xr_round_trip(void **state)
{
	(void)state;
	uint8_t buf[512];
	struct rtcp_builder b;
	struct rtcp_item it[16];
	unsigned n;
	struct rtcp_dlrr_block d[3] = { { 1, 0x11111111, 0x100 }, { 2, 0x22222222, 0x200 }, { 3, 0, 0 } };
	uint64_t ntp = 0xe6b97a1180000001ull;

	/* one XR with RRTR + DLRR (3 sub-blocks), then the single-block forms */
	rtcp_build_init(&b, buf, sizeof(buf));
	rtcp_build_rr(&b, 0x99, NULL, 0);
	rtcp_build_xr(&b, 0x99, &ntp, d, 3);
	rtcp_build_xr_rrtr(&b, 0x98, ntp + 1);
	rtcp_build_xr_dlrr(&b, 0x97, 4, 5, 6);
	uint32_t len = rtcp_build_end(&b);
	assert_int_equal(len, 8 + (8 + 12 + 4 + 36) + 20 + 24);
	assert_int_equal(walk(buf, len, 1, it, &n, NULL), MMR_DROP_NONE);
	assert_int_equal(n, 1 + 3 + 1 + 1);
	assert_int_equal(it[0].type, RTCP_ITEM_XR_RRTR);
	assert_int_equal(it[0].sender_ssrc, 0x99);
	assert_true(it[0].u.rrtr.ntp == ntp);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(it[1 + i].type, RTCP_ITEM_XR_DLRR);
		assert_int_equal(it[1 + i].sender_ssrc, 0x99);
		assert_int_equal(it[1 + i].media_ssrc, d[i].ssrc);
		assert_int_equal(it[1 + i].u.dlrr.ssrc, d[i].ssrc);
		assert_int_equal(it[1 + i].u.dlrr.lrr, d[i].lrr);
		assert_int_equal(it[1 + i].u.dlrr.dlrr, d[i].dlrr);
	}
	assert_int_equal(it[4].type, RTCP_ITEM_XR_RRTR);
	assert_int_equal(it[4].sender_ssrc, 0x98);
	assert_true(it[4].u.rrtr.ntp == ntp + 1);
	assert_int_equal(it[5].type, RTCP_ITEM_XR_DLRR);
	assert_int_equal(it[5].sender_ssrc, 0x97);
	assert_int_equal(it[5].u.dlrr.ssrc, 4);
	assert_int_equal(it[5].u.dlrr.lrr, 5);
	assert_int_equal(it[5].u.dlrr.dlrr, 6);

	/* other XR blocks (VoIP metrics, BT 7, 8 words) are XR_OTHER items; an empty DLRR yields none */
	uint8_t h[128];
	uint8_t *keep;
	len = hex("80 cf 00 0e  00 00 00 09  07 00 00 08  01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10"
		  "11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f 20  05 00 00 00  04 00 00 02  00 00 00 01 00 00 00 02",
		  h, sizeof(h));
	assert_int_equal(walk(h, len, 0, it, &n, &keep), MMR_DROP_NONE);
	assert_int_equal(n, 2);
	assert_int_equal(it[0].type, RTCP_ITEM_XR_OTHER);
	assert_int_equal(it[0].u.xr.bt, 7);
	assert_int_equal(it[0].u.xr.len, 32);
	assert_ptr_equal(it[0].u.xr.data, keep + 12);
	assert_int_equal(it[1].type, RTCP_ITEM_XR_RRTR);
	assert_true(it[1].u.rrtr.ntp == 0x0000000100000002ull);
	free(keep);
}

/* ---- compound and reduced-size --------------------------------------------------------------- */

static void test_compound(void **state)
{
	(void)state;
	uint8_t buf[512];
	struct rtcp_builder b;
	struct rtcp_item it[16];
	unsigned n;
	struct rtcp_report_block rb = mkblock(3);
	uint16_t seqs[4] = { 10, 11, 13, 40 };

	/* SR + SDES: the usual sender's compound */
	rtcp_build_init(&b, buf, sizeof(buf));
	rtcp_build_sr(&b, 0x1, 1, 2, 3, 4, &rb, 1);
	rtcp_build_sdes_cname(&b, 0x1, "sfu");
	uint32_t len = rtcp_build_end(&b);
	assert_int_equal(walk(buf, len, 1, it, &n, NULL), MMR_DROP_NONE);
	assert_int_equal(n, 3);
	assert_int_equal(it[0].type, RTCP_ITEM_SR);
	check_block(&it[1], 0x1, 3);
	assert_int_equal(it[2].type, RTCP_ITEM_SDES);

	/* RR (no block) + SDES + NACK + PLI: a receiver's compound with feedback */
	rtcp_build_init(&b, buf, sizeof(buf));
	rtcp_build_rr(&b, 0x2, NULL, 0);
	rtcp_build_sdes_cname(&b, 0x2, "rx");
	rtcp_build_nack(&b, 0x2, 0x3, seqs, 4);
	rtcp_build_pli(&b, 0x2, 0x3);
	len = rtcp_build_end(&b);
	assert_int_equal(walk(buf, len, 1, it, &n, NULL), MMR_DROP_NONE);
	assert_int_equal(walk(buf, len, 0, NULL, NULL, NULL), MMR_DROP_NONE);
	assert_int_equal(n, 4);
	assert_int_equal(it[0].type, RTCP_ITEM_SDES);
	assert_int_equal(it[1].type, RTCP_ITEM_NACK);
	assert_int_equal(it[1].u.nack.pid, 10);
	assert_int_equal(it[1].u.nack.blp, 0x5);
	assert_int_equal(it[2].type, RTCP_ITEM_NACK);
	assert_int_equal(it[2].u.nack.pid, 40);
	assert_int_equal(it[2].u.nack.blp, 0);
	assert_int_equal(it[3].type, RTCP_ITEM_PLI);
	assert_int_equal(it[3].media_ssrc, 0x3);

	/* RR with a block + NACK + PLI + padding on the last */
	rtcp_build_init(&b, buf, sizeof(buf));
	rtcp_build_rr(&b, 0x2, &rb, 1);
	rtcp_build_nack(&b, 0x2, 0x3, seqs, 4);
	rtcp_build_pli(&b, 0x2, 0x3);
	rtcp_build_pad_last(&b, 8);
	len = rtcp_build_end(&b);
	assert_int_equal(len, 32 + 20 + 12 + 8);
	assert_int_equal(walk(buf, len, 1, it, &n, NULL), MMR_DROP_NONE);
	assert_int_equal(n, 4);
	check_block(&it[0], 0x2, 3);
	assert_int_equal(it[3].type, RTCP_ITEM_PLI);

	/* reduced-size: a lone NACK or PLI, or feedback first, only when compound is not required */
	rtcp_build_init(&b, buf, sizeof(buf));
	rtcp_build_nack(&b, 0x2, 0x3, seqs, 4);
	len = rtcp_build_end(&b);
	assert_int_equal(walk(buf, len, 0, it, &n, NULL), MMR_DROP_NONE);
	assert_int_equal(n, 2);
	assert_int_equal(walk(buf, len, 1, NULL, NULL, NULL), MMR_DROP_RTCP_NOT_COMPOUND);
	rtcp_build_init(&b, buf, sizeof(buf));
	rtcp_build_pli(&b, 0x2, 0x3);
	len = rtcp_build_end(&b);
	assert_int_equal(walk(buf, len, 0, NULL, NULL, NULL), MMR_DROP_NONE);
	assert_int_equal(walk(buf, len, 1, NULL, NULL, NULL), MMR_DROP_RTCP_NOT_COMPOUND);
	rtcp_build_rr(&b, 0x2, NULL, 0);
	len = rtcp_build_end(&b);
	assert_int_equal(walk(buf, len, 0, NULL, NULL, NULL), MMR_DROP_NONE);
	assert_int_equal(walk(buf, len, 1, NULL, NULL, NULL), MMR_DROP_RTCP_NOT_COMPOUND);
	/* SDES first is not compound either */
	rtcp_build_init(&b, buf, sizeof(buf));
	rtcp_build_sdes_cname(&b, 0x2, "rx");
	rtcp_build_rr(&b, 0x2, NULL, 0);
	len = rtcp_build_end(&b);
	assert_int_equal(walk(buf, len, 1, NULL, NULL, NULL), MMR_DROP_RTCP_NOT_COMPOUND);
}

/* Packet types the walk does not know, and formats of RTPFB/PSFB it does not know: OTHER items. */
static void test_other_types(void **state)
{
	(void)state;
	uint8_t b[128];
	struct rtcp_item it[8];
	unsigned n;
	uint8_t *keep;
	uint32_t len = hex(
		"80 c9 00 01  00 00 00 05"                              /* RR, no block */
		"81 c3 00 01  00 00 00 06"                              /* IJ (195), one jitter */
		"83 cd 00 04  00 00 00 05  00 00 00 00  00 00 00 07  04 00 00 20" /* TMMBR (RTPFB 3) */
		"8f ce 00 03  00 00 00 05  00 00 00 08  41 42 43 44"    /* AFB, not REMB */
		"80 d0 00 00"                                           /* PT 208, empty */
		"85 df 00 02  00 00 00 09  01 02 03 04", b, sizeof(b));

	assert_int_equal(walk(b, len, 1, it, &n, &keep), MMR_DROP_NONE);
	assert_int_equal(n, 5);
	assert_int_equal(it[0].type, RTCP_ITEM_OTHER);
	assert_int_equal(it[0].pt, 195);
	assert_int_equal(it[0].sender_ssrc, 6);
	assert_int_equal(it[0].u.other.len, 4);
	assert_int_equal(it[1].type, RTCP_ITEM_OTHER);
	assert_int_equal(it[1].pt, 205);
	assert_int_equal(it[1].fmt, 3);
	assert_int_equal(it[1].sender_ssrc, 5);
	assert_int_equal(it[1].media_ssrc, 0);
	assert_int_equal(it[1].u.other.len, 16);
	assert_int_equal(it[2].type, RTCP_ITEM_OTHER);
	assert_int_equal(it[2].pt, 206);
	assert_int_equal(it[2].fmt, 15);
	assert_int_equal(it[2].media_ssrc, 8);
	assert_int_equal(it[3].type, RTCP_ITEM_OTHER);
	assert_int_equal(it[3].pt, 208);
	assert_int_equal(it[3].sender_ssrc, 0);
	assert_int_equal(it[3].u.other.len, 0);
	assert_int_equal(it[4].pt, 223);
	assert_int_equal(it[4].fmt, 5);
	assert_ptr_equal(it[4].u.other.body, keep + len - 8);
	free(keep);
}

/* ---- NACK packing ---------------------------------------------------------------------------- */

/* Build a NACK of seqs, parse it back, expand the entries: *entries and the expanded set (as a
 * 65536-bit map) are returned; the set must equal the input's. */
static void nack_round_trip(const uint16_t *seqs, unsigned n, unsigned *entries)
{
	static uint8_t buf[8192];
	static struct rtcp_item it[MAX_ITEMS];
	static uint8_t want[65536], got[65536];
	struct rtcp_builder b;
	unsigned ni;

	memset(want, 0, sizeof(want));
	memset(got, 0, sizeof(got));
	for (unsigned i = 0; i < n; i++)
		want[seqs[i]] = 1;
	rtcp_build_init(&b, buf, sizeof(buf));
	rtcp_build_nack(&b, 0xa, 0xb, seqs, n);
	uint32_t len = rtcp_build_end(&b);
	assert_true(len >= 16);
	assert_int_equal(walk(buf, len, 0, it, &ni, NULL), MMR_DROP_NONE);
	assert_true(ni <= MAX_ITEMS);
	assert_int_equal(len, 12 + 4 * ni);
	for (unsigned i = 0; i < ni; i++) {
		uint16_t s[17];
		assert_int_equal(it[i].type, RTCP_ITEM_NACK);
		assert_int_equal(it[i].media_ssrc, 0xb);
		unsigned k = rtcp_nack_seqs(it[i].u.nack.pid, it[i].u.nack.blp, s);
		assert_true(k >= 1 && k <= 17);
		assert_int_equal(s[0], it[i].u.nack.pid);
		for (unsigned j = 0; j < k; j++)
			got[s[j]] = 1;
	}
	assert_memory_equal(want, got, sizeof(want));
	*entries = ni;
}

static void test_nack_packing(void **state)
{
	(void)state;
	unsigned e;
	uint16_t s[300];

	/* across the wrap: one entry */
	uint16_t w[4] = { 65534, 65535, 0, 1 };
	nack_round_trip(w, 4, &e);
	assert_int_equal(e, 1);
	uint8_t buf[64];
	struct rtcp_builder b;
	rtcp_build_init(&b, buf, sizeof(buf));
	rtcp_build_nack(&b, 1, 2, w, 4);
	assert_int_equal(rtcp_build_end(&b), 16);
	assert_memory_equal(buf + 12, "\xff\xfe\x00\x07", 4);     /* PID 65534, BLP bits 0..2 */

	/* 17 consecutive: one entry, BLP all ones; 18: two; 40: three (17 + 17 + 6) */
	for (unsigned i = 0; i < 40; i++)
		s[i] = (uint16_t)(65530 + i);
	nack_round_trip(s, 17, &e);
	assert_int_equal(e, 1);
	nack_round_trip(s, 18, &e);
	assert_int_equal(e, 2);
	nack_round_trip(s, 40, &e);
	assert_int_equal(e, 3);

	/* every other number: 9 per entry; gaps of 17 or more: one entry each */
	for (unsigned i = 0; i < 90; i++)
		s[i] = (uint16_t)(65500 + 2 * i);
	nack_round_trip(s, 90, &e);
	assert_int_equal(e, 10);
	for (unsigned i = 0; i < 20; i++)
		s[i] = (uint16_t)(65000 + 17 * i);
	nack_round_trip(s, 20, &e);
	assert_int_equal(e, 20);

	/* duplicates cost nothing; a single number */
	uint16_t d[5] = { 7, 7, 8, 7, 8 };
	nack_round_trip(d, 5, &e);
	assert_int_equal(e, 1);
	nack_round_trip(d, 1, &e);
	assert_int_equal(e, 1);

	/* random sets, sorted from a random start (ascending across the wrap) and shuffled: the same
	 * numbers come back; sorted ones in no more entries than numbers/17 rounded up per run */
	rng_state = 0x12345u;
	for (unsigned round = 0; round < 300; round++) {
		unsigned n = 1 + rnd() % 300;
		uint16_t start = (uint16_t)rnd();
		unsigned span = 1 + rnd() % 2000;
		for (unsigned i = 0; i < n; i++)
			s[i] = (uint16_t)(start + rnd() % span);
		/* sort by distance from start */
		for (unsigned i = 1; i < n; i++)
			for (unsigned j = i; j > 0 && (uint16_t)(s[j] - start) < (uint16_t)(s[j - 1] - start); j--) {
				uint16_t t = s[j]; s[j] = s[j - 1]; s[j - 1] = t;
			}
		nack_round_trip(s, n, &e);
		/* an independent count of the fewest entries for a sorted list */
		unsigned want = 0;
		uint16_t pid = 0;
		for (unsigned i = 0; i < n; i++)
			if (!want || (uint16_t)(s[i] - pid) > 16) {
				want++;
				pid = s[i];
			}
		assert_int_equal(e, want);
		for (unsigned i = n - 1; i > 0; i--) {
			unsigned j = rnd() % (i + 1);
			uint16_t t = s[i]; s[i] = s[j]; s[j] = t;
		}
		nack_round_trip(s, n, &e);
		assert_true(e <= n);
	}

	/* rtcp_nack_seqs: BLP bit i is PID + i + 1, across the wrap */
	uint16_t x[17];
	assert_int_equal(rtcp_nack_seqs(65535, 0x8001, x), 3);
	assert_int_equal(x[0], 65535);
	assert_int_equal(x[1], 0);
	assert_int_equal(x[2], 15);
}

/* ---- REMB precision -------------------------------------------------------------------------- */

static void test_remb(void **state)
{
	(void)state;
	static const uint64_t rates[] = { 0, 1, 262143, 262144, 262145, 1500000, 2500001, 123456789,
					  10000000000ull, (1ull << 63) + 12345, UINT64_MAX };
	uint8_t buf[128];
	struct rtcp_builder b;
	struct rtcp_item it[2];
	unsigned n;
	uint32_t ssrcs[3] = { 1, 2, 3 };

	for (unsigned i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		rtcp_build_init(&b, buf, sizeof(buf));
		rtcp_build_remb(&b, 9, rates[i], ssrcs, i % 4);
		uint32_t len = rtcp_build_end(&b);
		assert_int_equal(len, 20 + 4 * (i % 4));
		assert_int_equal(walk(buf, len, 0, it, &n, NULL), MMR_DROP_NONE);
		assert_int_equal(n, 1);
		assert_int_equal(it[0].type, RTCP_ITEM_REMB);
		assert_int_equal(it[0].u.remb.n_ssrcs, i % 4);
		uint64_t got = it[0].u.remb.bitrate_bps;
		/* rounded down, relative error below 2^-17 */
		assert_true(got <= rates[i]);
		assert_true(rates[i] - got <= (rates[i] >> 17));
	}
	/* 1.5 Mbit/s is exact: 187500 << 3 */
	rtcp_build_init(&b, buf, sizeof(buf));
	rtcp_build_remb(&b, 9, 1500000, NULL, 0);
	assert_int_equal(walk(buf, rtcp_build_end(&b), 0, it, &n, NULL), MMR_DROP_NONE);
	assert_true(it[0].u.remb.bitrate_bps == 1500000);
	assert_int_equal(buf[17] >> 2, 3);
	/* exponent 63 with a large mantissa does not fit 64 bits: saturated */
	uint8_t h[32];
	uint32_t len = hex("8f ce 00 04  00 00 00 09  00 00 00 00  52 45 4d 42  00 ff ff ff", h, sizeof(h));
	assert_int_equal(walk(h, len, 0, it, &n, NULL), MMR_DROP_NONE);
	assert_true(it[0].u.remb.bitrate_bps == UINT64_MAX);
	/* exponent 46 with the largest mantissa still fits */
	len = hex("8f ce 00 04  00 00 00 09  00 00 00 00  52 45 4d 42  00 bb ff ff", h, sizeof(h));
	assert_int_equal(walk(h, len, 0, it, &n, NULL), MMR_DROP_NONE);
	assert_true(it[0].u.remb.bitrate_bps == 0x3ffffull << 46);
}

/* ---- malformed ------------------------------------------------------------------------------- */

struct bad_case {
	const char *name;
	const char *hex;
	int compound;
	enum mmr_drop_reason want;
};

#define RR0 "80 c9 00 01 11 11 11 11 "
static const struct bad_case bad_cases[] = {
	{ "empty", "", 0, MMR_DROP_RTCP_TRUNCATED },
	{ "header of 3 bytes", "80 c9 00", 0, MMR_DROP_RTCP_TRUNCATED },
	{ "version 1", "40 c9 00 01 11111111", 0, MMR_DROP_BAD_RTCP },
	{ "version 0", "00 c9 00 01 11111111", 0, MMR_DROP_BAD_RTCP },
	{ "version 3", "c0 c9 00 01 11111111", 0, MMR_DROP_BAD_RTCP },
	{ "PT 191", "80 bf 00 01 11111111", 0, MMR_DROP_BAD_RTCP },
	{ "PT 224", "80 e0 00 01 11111111", 0, MMR_DROP_BAD_RTCP },
	{ "RTP-looking PT 96", "80 60 00 01 11111111", 0, MMR_DROP_BAD_RTCP },
	{ "length past the end", "80 c9 00 02 11111111", 0, MMR_DROP_RTCP_TRUNCATED },
	{ "length 65535 on 8 bytes", "80 c9 ff ff 11111111", 0, MMR_DROP_RTCP_TRUNCATED },
	{ "second packet past the end", RR0 "81 ce 00 02 11111111", 0, MMR_DROP_RTCP_TRUNCATED },
	{ "2 trailing bytes", RR0 "80 c9", 0, MMR_DROP_RTCP_TRUNCATED },
	{ "padding on the first of two", "a0 c9 00 02 11111111 00000004" RR0, 0, MMR_DROP_BAD_RTCP },
	{ "padding count 0", "a0 c9 00 02 11111111 00000000", 0, MMR_DROP_BAD_RTCP },
	{ "padding count beyond the body", "a0 d2 00 02 11111111 00000009", 0, MMR_DROP_BAD_RTCP },
	{ "padding on a header-only packet", "a0 d2 00 00", 0, MMR_DROP_BAD_RTCP },
	{ "padding eats the RR's SSRC", "a0 c9 00 02 11111111 00000008", 0, MMR_DROP_BAD_RTCP },
	{ "SR padded to a non-word body", "a0 c8 00 07 11111111 00000000 00000000 00000000 00000000 00000000 00000001",
	  0, MMR_DROP_BAD_RTCP },
	{ "SR shorter than its sender info", "80 c8 00 01 11111111", 0, MMR_DROP_BAD_RTCP },
	{ "SR with RC 2 and room for 1",
	  "82 c8 00 0c 11111111 00000000 00000000 00000000 00000000 00000000"
	  "00000000 00000000 00000000 00000000 00000000 00000000", 0, MMR_DROP_BAD_RTCP },
	{ "RR with RC 1 and no block", "81 c9 00 01 11111111", 0, MMR_DROP_BAD_RTCP },
	{ "RR without SSRC", "80 c9 00 00", 0, MMR_DROP_BAD_RTCP },
	{ "SDES SC 2 with one chunk", "82 ca 00 02 11111111 00000000", 0, MMR_DROP_BAD_RTCP },
	{ "SDES SC 1 with two chunks", "81 ca 00 04 11111111 00000000 22222222 00000000", 0, MMR_DROP_BAD_RTCP },
	{ "SDES item past the chunk", "81 ca 00 02 11111111 01 05 61 62", 0, MMR_DROP_BAD_RTCP },
	{ "SDES item length byte missing", "81 ca 00 02 11111111 01 01 61 01", 0, MMR_DROP_BAD_RTCP },
	{ "SDES without END", "81 ca 00 02 11111111 01 02 61 62", 0, MMR_DROP_BAD_RTCP },
	{ "SDES chunk of SSRC only", "81 ca 00 01 11111111", 0, MMR_DROP_BAD_RTCP },
	{ "SDES zero word beyond the chunk's boundary", "81 ca 00 03 11111111 01 01 61 00 00000000", 0,
	  MMR_DROP_BAD_RTCP },
	{ "SDES SC 0 with a body", "80 ca 00 01 11111111", 0, MMR_DROP_BAD_RTCP },
	{ "SDES padded to a non-word body", "a1 ca 00 03 11111111 01 01 61 00 00 00 00 01", 0, MMR_DROP_BAD_RTCP },
	{ "BYE SC 2 with one SSRC", "82 cb 00 01 11111111", 0, MMR_DROP_BAD_RTCP },
	{ "BYE reason past the end", "81 cb 00 02 11111111 05 61 62 63", 0, MMR_DROP_BAD_RTCP },
	{ "BYE reason and an extra word", "81 cb 00 03 11111111 01 61 00 00 00000000", 0, MMR_DROP_BAD_RTCP },
	{ "APP without name", "80 cc 00 01 11111111", 0, MMR_DROP_BAD_RTCP },
	{ "feedback without media SSRC", "81 cd 00 01 11111111", 0, MMR_DROP_BAD_RTCP },
	{ "PSFB without media SSRC", "81 ce 00 01 11111111", 0, MMR_DROP_BAD_RTCP },
	{ "NACK without FCI", "81 cd 00 02 11111111 22222222", 0, MMR_DROP_BAD_RTCP },
	{ "NACK FCI not whole entries", "a1 cd 00 04 11111111 22222222 00010000 00 00 00 02", 0, MMR_DROP_BAD_RTCP },
	{ "PLI with FCI", "81 ce 00 03 11111111 22222222 00000000", 0, MMR_DROP_BAD_RTCP },
	{ "FIR with a half entry", "84 ce 00 03 11111111 00000000 22222222", 0, MMR_DROP_BAD_RTCP },
	{ "FIR without FCI", "84 ce 00 02 11111111 00000000", 0, MMR_DROP_BAD_RTCP },
	{ "REMB says 2 SSRCs, has 1", "8f ce 00 05 11111111 00000000 52454d42 02 0f d0 90 33333333", 0,
	  MMR_DROP_BAD_RTCP },
	{ "REMB says 0 SSRCs, has 1", "8f ce 00 05 11111111 00000000 52454d42 00 0f d0 90 33333333", 0,
	  MMR_DROP_BAD_RTCP },
	{ "REMB without bitrate", "8f ce 00 03 11111111 00000000 52454d42", 0, MMR_DROP_BAD_RTCP },
	{ "TWCC FCI shorter than its header", "8f cd 00 03 11111111 22222222 00010001", 0, MMR_DROP_BAD_RTCP },
	{ "TWCC status count 0", "8f cd 00 04 11111111 22222222 0001 0000 000000 00", 0, MMR_DROP_BAD_RTCP },
	{ "TWCC without chunks", "8f cd 00 04 11111111 22222222 0001 0001 000000 00", 0, MMR_DROP_BAD_RTCP },
	{ "TWCC deltas past the end", "8f cd 00 05 11111111 22222222 0001 0009 5e9110 00 2009 0000", 0,
	  MMR_DROP_BAD_RTCP },
	{ "TWCC reserved symbol in a run", "8f cd 00 05 11111111 22222222 0001 0001 000000 00 6001 0000", 0,
	  MMR_DROP_BAD_RTCP },
	{ "TWCC reserved symbol in a vector", "8f cd 00 05 11111111 22222222 0001 0001 000000 00 f000 0000", 0,
	  MMR_DROP_BAD_RTCP },
	{ "TWCC 5 bytes after the deltas", "8f cd 00 06 11111111 22222222 0001 0001 000000 00 2001 05 00 00000000",
	  0, MMR_DROP_BAD_RTCP },
	{ "XR without SSRC", "80 cf 00 00", 0, MMR_DROP_BAD_RTCP },
	{ "XR block past the end", "80 cf 00 02 11111111 04 00 00 02", 0, MMR_DROP_BAD_RTCP },
	{ "XR RRTR of 3 words", "80 cf 00 05 11111111 04 00 00 03 00000000 00000000 00000000", 0, MMR_DROP_BAD_RTCP },
	{ "XR RRTR of 1 word", "80 cf 00 03 11111111 04 00 00 01 00000000", 0, MMR_DROP_BAD_RTCP },
	{ "XR DLRR of 4 words", "80 cf 00 06 11111111 05 00 00 04 00000000 00000000 00000000 00000000", 0,
	  MMR_DROP_BAD_RTCP },
	{ "XR padded to a non-word body", "a0 cf 00 02 11111111 00 00 00 01", 0, MMR_DROP_BAD_RTCP },
	{ "compound: PLI first", "81 ce 00 02 11111111 22222222" RR0, 1, MMR_DROP_RTCP_NOT_COMPOUND },
	{ "compound: SDES first", "80 ca 00 00" RR0, 1, MMR_DROP_RTCP_NOT_COMPOUND },
	{ "compound: BYE alone", "81 cb 00 01 11111111", 1, MMR_DROP_RTCP_NOT_COMPOUND },
	{ "compound: malformed after RR", RR0 "81 ce 00 03 11111111 22222222 00000000", 1, MMR_DROP_BAD_RTCP },
	{ "compound: PLI first and malformed", "81 ce 00 03 11111111 22222222 00000000", 1, MMR_DROP_BAD_RTCP },
	/* accepted: the edges of the rules above */
	{ "ok: padding on the last RR", "a0 c9 00 02 11111111 00000004", 1, MMR_DROP_NONE },
	{ "ok: unknown type all padding", "a0 d2 00 02 00000000 00000008", 0, MMR_DROP_NONE },
	{ "ok: SDES SC 0", "80 ca 00 00", 0, MMR_DROP_NONE },
	{ "ok: SDES END and 3 zeros in a word of their own", "81 ca 00 03 11111111 01 02 61 62 00000000", 0,
	  MMR_DROP_NONE },
	{ "ok: BYE without SSRC", "80 cb 00 00", 0, MMR_DROP_NONE },
	{ "ok: SR with a profile extension", "80 c8 00 07 11111111 00000000 00000000 00000000 00000000 00000000"
	  "abcdabcd", 1, MMR_DROP_NONE },
	{ "ok: RR with a profile extension", "80 c9 00 02 11111111 abcdabcd", 1, MMR_DROP_NONE },
	{ "ok: XR without blocks", "80 cf 00 01 11111111", 0, MMR_DROP_NONE },
	{ "ok: XR empty DLRR", "80 cf 00 02 11111111 05 00 00 00", 0, MMR_DROP_NONE },
	{ "ok: TWCC run covers more than the count", "8f cd 00 05 11111111 22222222 0001 0001 000000 00 2005 07 00", 0,
	  MMR_DROP_NONE },
};

static void test_malformed(void **state)
{
	(void)state;
	for (unsigned i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		enum mmr_drop_reason r = check_hex(bad_cases[i].hex, bad_cases[i].compound);
		if (r != bad_cases[i].want)
			fail_msg("case \"%s\": got %s, want %s", bad_cases[i].name, mmr_drop_names[r],
				 mmr_drop_names[bad_cases[i].want]);
	}
	/* longer than any UDP datagram */
	uint32_t big = 65536;
	uint8_t *p = calloc(1, big);
	assert_non_null(p);
	for (uint32_t off = 0; off < big; off += 4) {
		p[off] = 0x80;
		p[off + 1] = 210;
	}
	assert_int_equal(rtcp_check(p, big, 0), MMR_DROP_BAD_RTCP);
	assert_int_equal(rtcp_check(p, big - 4, 0), MMR_DROP_NONE);
	free(p);
}

/* A valid compound with every kind of packet: every prefix is refused as truncated except at packet
 * boundaries, and every single-byte change is either accepted or refused the same way by the check
 * and the walk (inside walk()), without reading past the buffer. */
static uint32_t build_everything(uint8_t *buf, uint32_t cap, uint32_t *bounds, unsigned *n_bounds)
{
	struct rtcp_builder b;
	struct rtcp_report_block rbs[2] = { mkblock(1), mkblock(2) };
	uint16_t seqs[20];
	uint32_t ssrcs[2] = { 5, 6 };
	uint8_t seqn[2] = { 1, 2 };
	struct rtcp_dlrr_block d = { 7, 8, 9 };
	uint64_t ntp = 42;
	uint8_t fci[12] = { 0, 1, 0, 2, 0, 0, 0, 0, 0x20, 0x02, 4, 4 };
	unsigned k = 0;

	for (unsigned i = 0; i < 20; i++)
		seqs[i] = (uint16_t)(65530 + 3 * i);
	rtcp_build_init(&b, buf, cap);
#define MARK() (bounds[k++] = b.len)
	MARK();
	rtcp_build_sr(&b, 1, 2, 3, 4, 5, rbs, 2); MARK();
	rtcp_build_rr(&b, 1, rbs, 1); MARK();
	rtcp_build_sdes_cname(&b, 1, "cname"); MARK();
	rtcp_build_nack(&b, 1, 2, seqs, 20); MARK();
	rtcp_build_pli(&b, 1, 2); MARK();
	rtcp_build_fir_n(&b, 1, ssrcs, seqn, 2); MARK();
	rtcp_build_remb(&b, 1, 1500000, ssrcs, 2); MARK();
	rtcp_build_twcc(&b, 1, 2, fci, sizeof(fci)); MARK();
	rtcp_build_xr(&b, 1, &ntp, &d, 1); MARK();
	rtcp_build_app(&b, 1, 3, "abcd", fci, 8); MARK();
	rtcp_build_bye(&b, ssrcs, 2, "bye"); MARK();
	rtcp_build_pad_last(&b, 4); MARK();
#undef MARK
	*n_bounds = k;
	return rtcp_build_end(&b);
}

static void test_prefixes_and_mutations(void **state)
{
	(void)state;
	uint8_t buf[1024];
	uint32_t bounds[32];
	unsigned nb, n;
	uint32_t len = build_everything(buf, sizeof(buf), bounds, &nb);
	struct rtcp_item it[MAX_ITEMS];

	assert_true(len > 0);
	assert_int_equal(walk(buf, len, 1, it, &n, NULL), MMR_DROP_NONE);
	/* SR + 2 blocks, RR block, SDES, 4 NACK entries, PLI, 2 FIR, REMB, TWCC, RRTR + DLRR, APP, BYE */
	assert_int_equal(n, 3 + 1 + 1 + 4 + 1 + 2 + 1 + 1 + 2 + 1 + 1);
	assert_int_equal(bounds[nb - 1], len);
	for (uint32_t l = 0; l < len; l++) {
		enum mmr_drop_reason r = walk(buf, l, 1, NULL, NULL, NULL);
		int boundary = 0;
		/* whole packets end at bounds[1..nb-3]; bounds[nb-2] is the BYE before its padding,
		 * whose length word now counts the padding */
		for (unsigned i = 1; i + 2 < nb; i++)
			boundary |= bounds[i] == l;
		assert_int_equal(r, boundary ? MMR_DROP_NONE : MMR_DROP_RTCP_TRUNCATED);
	}
	/* every byte set to a few values: never an over-read, check and walk agree (walk() asserts) */
	static const uint8_t vals[] = { 0x00, 0x01, 0x03, 0x7f, 0x80, 0xa0, 0xc9, 0xff };
	for (uint32_t i = 0; i < len; i++) {
		for (unsigned v = 0; v < sizeof(vals); v++) {
			uint8_t c = buf[i];
			buf[i] = vals[v];
			(void)walk(buf, len, (i + v) & 1, it, &n, NULL);
			buf[i] = c;
		}
	}
}

static void test_random_bytes(void **state)
{
	(void)state;
	uint8_t buf[512];
	struct rtcp_item it[MAX_ITEMS];
	unsigned n, ok = 0;

	rng_state = 0xc0ffee;
	for (unsigned round = 0; round < 200000; round++) {
		uint32_t len = rnd() % 128;
		for (uint32_t i = 0; i < len; i++)
			buf[i] = (uint8_t)rnd();
		/* make the headers plausible most of the time so the walk goes deep */
		if (round & 1) {
			uint32_t off = 0;
			while (off + 4 <= len) {
				buf[off] = (uint8_t)(0x80 | (buf[off] & 0x1f));
				buf[off + 1] = (uint8_t)(200 + rnd() % 8);
				uint32_t words = rnd() % 8;
				buf[off + 2] = 0;
				buf[off + 3] = (uint8_t)words;
				off += 4 * (words + 1);
			}
		}
		if (walk(buf, len, round & 2, it, &n, NULL) == MMR_DROP_NONE)
			ok++;
	}
	assert_true(ok > 100);       /* the structured half finds valid packets now and then */
}

/* ---- builder overflow ------------------------------------------------------------------------ */

static void test_builder_overflow(void **state)
{
	(void)state;
	struct rtcp_report_block rb = mkblock(0);
	uint16_t seqs[2] = { 1, 100 };

	/* every cap from 0 to what fits: exact heap buffers, so ASan sees any write past cap */
	for (uint32_t cap = 0; cap <= 96; cap++) {
		uint8_t *buf = malloc(cap ? cap : 1);
		struct rtcp_builder b;
		assert_non_null(buf);
		rtcp_build_init(&b, buf, cap);
		rtcp_build_rr(&b, 1, &rb, 1);          /* 32 */
		rtcp_build_sdes_cname(&b, 1, "ab");    /* 16 */
		rtcp_build_nack(&b, 1, 2, seqs, 2);    /* 20 */
		rtcp_build_pli(&b, 1, 2);              /* 12 */
		rtcp_build_pad_last(&b, 16);           /* 16 */
		uint32_t len = rtcp_build_end(&b);
		if (cap >= 96) {
			assert_int_equal(len, 96);
			assert_int_equal(rtcp_check(buf, len, 1), MMR_DROP_NONE);
		} else {
			assert_int_equal(len, 0);
			assert_int_equal(b.overflow, 1);
			assert_true(b.len <= cap);
			/* what was written before the overflow is whole packets */
			if (b.len)
				assert_int_equal(rtcp_check(buf, b.len, 1), MMR_DROP_NONE);
		}
		free(buf);
	}
	/* bad arguments are refused like an overflow */
	uint8_t buf[64];
	struct rtcp_builder b;
	rtcp_build_init(&b, buf, sizeof(buf));
	rtcp_build_pad_last(&b, 4);                    /* nothing to pad */
	assert_int_equal(rtcp_build_end(&b), 0);
	rtcp_build_init(&b, buf, sizeof(buf));
	rtcp_build_pli(&b, 1, 2);
	rtcp_build_pad_last(&b, 3);                    /* not a multiple of 4 */
	assert_int_equal(rtcp_build_end(&b), 0);
	rtcp_build_init(&b, buf, sizeof(buf));
	rtcp_build_twcc(&b, 1, 2, buf, 7);             /* FCI shorter than its header */
	assert_int_equal(rtcp_build_end(&b), 0);
	rtcp_build_init(&b, buf, sizeof(buf));
	rtcp_build_fir_n(&b, 1, NULL, NULL, 0);
	assert_int_equal(rtcp_build_end(&b), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_twcc_chrome),
		cmocka_unit_test(test_known_sr_sdes),
		cmocka_unit_test(test_known_remb),
		cmocka_unit_test(test_sr_rr_round_trip),
		cmocka_unit_test(test_sdes_bye_app_round_trip),
		cmocka_unit_test(test_feedback_round_trip),
		cmocka_unit_test(test_xr_round_trip),
		cmocka_unit_test(test_compound),
		cmocka_unit_test(test_other_types),
		cmocka_unit_test(test_nack_packing),
		cmocka_unit_test(test_remb),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_prefixes_and_mutations),
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_builder_overflow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
