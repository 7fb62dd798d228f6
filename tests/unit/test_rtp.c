/*
 * test_rtp.c - unit tests of the RTP parser and writers (lib/pkt/rtp.c): every header field, CSRCs,
 * one-byte / two-byte / opaque header extensions, padding, RTP/RTCP demultiplexing (RFC 5761), and
 * malformed packets: padding count 0 or too big, extension or CSRC list beyond the end, every
 * truncation, random bytes (fixed seed); and rtp_find_ext over one-byte and two-byte extension
 * elements (padding, empty elements, ID 15, overruns, no or opaque extension). Malformed packets are parsed from heap buffers of their
 * exact length so that ASan catches over-reads.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rtp.h"
#include "unit_util.h"

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)(v >> 16));
	wr16(p + 2, (uint16_t)v);
}

struct spec {
	uint8_t  cc;
	int      ext;           /* add an extension with this profile when non-zero */
	uint16_t ext_profile;
	uint16_t ext_words;
	uint32_t payload;
	uint8_t  pad;           /* padding bytes (0: P bit clear) */
};

/* Build an RTP packet; returns its length. */
static uint32_t build(uint8_t *b, const struct spec *s)
{
	uint32_t off = 12;

	b[0] = (uint8_t)(0x80 | (s->pad ? 0x20 : 0) | (s->ext ? 0x10 : 0) | s->cc);
	b[1] = 0x80 | 96;              /* marker, PT 96 */
	wr16(b + 2, 0xbeef);
	wr32(b + 4, 0x01020304);
	wr32(b + 8, 0xcafef00d);
	for (uint8_t i = 0; i < s->cc; i++, off += 4)
		wr32(b + off, 0x1000u + i);
	if (s->ext) {
		wr16(b + off, s->ext_profile);
		wr16(b + off + 2, s->ext_words);
		off += 4;
		for (uint32_t i = 0; i < 4u * s->ext_words; i++)
			b[off++] = (uint8_t)(0x40 + i);
	}
	for (uint32_t i = 0; i < s->payload; i++)
		b[off++] = (uint8_t)(0xa0 + i);
	if (s->pad) {
		memset(b + off, 0, s->pad);
		off += s->pad;
		b[off - 1] = s->pad;
	}
	return off;
}

static enum mmr_drop_reason parse_exact(const uint8_t *pkt, uint32_t len, struct rtp_info *ri)
{
	uint8_t *copy = heap_copy(pkt, len);
	enum mmr_drop_reason r;

	r = rtp_parse(copy, len, ri);
	free(copy);
	return r;
}

static void test_fixed_header(void **state)
{
	uint8_t b[2048];
	struct rtp_info ri;
	struct spec s = { .payload = 100 };
	uint32_t len = build(b, &s);

	(void)state;
	assert_int_equal(rtp_parse(b, len, &ri), MMR_DROP_NONE);
	assert_int_equal(ri.pt, 96);
	assert_int_equal(ri.marker, 1);
	assert_int_equal(ri.cc, 0);
	assert_int_equal(ri.has_ext, 0);
	assert_int_equal(ri.has_padding, 0);
	assert_int_equal(ri.pad_len, 0);
	assert_int_equal(ri.seq, 0xbeef);
	assert_int_equal(ri.ts, 0x01020304);
	assert_int_equal(ri.ssrc, 0xcafef00d);
	assert_int_equal(ri.hdr_len, 12);
	assert_int_equal(ri.payload_len, 100);
	assert_int_equal(ri.ext_len, 0);
	assert_int_equal(ri.ext_off, 0);

	b[1] = 0;                      /* no marker, PT 0 */
	assert_int_equal(rtp_parse(b, len, &ri), MMR_DROP_NONE);
	assert_int_equal(ri.marker, 0);
	assert_int_equal(ri.pt, 0);
	b[1] = 0x7f;
	assert_int_equal(rtp_parse(b, len, &ri), MMR_DROP_NONE);
	assert_int_equal(ri.pt, 127);
	assert_int_equal(ri.marker, 0);

	/* header only: an empty payload is legal */
	assert_int_equal(rtp_parse(b, 12, &ri), MMR_DROP_NONE);
	assert_int_equal(ri.payload_len, 0);
}

static void test_csrcs(void **state)
{
	uint8_t b[2048];
	struct rtp_info ri;

	(void)state;
	for (uint8_t cc = 0; cc <= 15; cc++) {
		struct spec s = { .cc = cc, .payload = 10 };
		uint32_t len = build(b, &s);

		assert_int_equal(rtp_parse(b, len, &ri), MMR_DROP_NONE);
		assert_int_equal(ri.cc, cc);
		assert_int_equal(ri.hdr_len, 12 + 4 * cc);
		assert_int_equal(ri.payload_len, 10);
		assert_int_equal(b[ri.hdr_len], 0xa0);
	}
}

static void test_extensions(void **state)
{
	uint8_t b[2048];
	struct rtp_info ri;
	static const uint16_t profiles[] = { 0xbede, 0x1000, 0x100f, 0x1234, 0 };

	(void)state;
	for (unsigned i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++) {
		for (uint16_t words = 0; words < 4; words++) {
			struct spec s = { .cc = 1, .ext = 1, .ext_profile = profiles[i],
					  .ext_words = words, .payload = 7 };
			uint32_t len = build(b, &s);

			assert_int_equal(rtp_parse(b, len, &ri), MMR_DROP_NONE);
			assert_int_equal(ri.has_ext, 1);
			assert_int_equal(ri.ext_profile, profiles[i]);
			assert_int_equal(ri.ext_off, 12 + 4 + 4);
			assert_int_equal(ri.ext_len, 4 * words);
			assert_int_equal(ri.hdr_len, 12 + 4 + 4 + 4 * words);
			assert_int_equal(ri.payload_len, 7);
			if (words)
				assert_int_equal(b[ri.ext_off], 0x40);
			assert_int_equal(b[ri.hdr_len], 0xa0);
		}
	}
	/* the largest extension RTP allows (0xffff words) */
	{
		uint32_t n = 12 + 4 + 4u * 0xffff + 1;
		uint8_t *big = calloc(1, n);

		assert_non_null(big);
		big[0] = 0x90;
		wr16(big + 12, 0xbede);
		wr16(big + 14, 0xffff);
		assert_int_equal(rtp_parse(big, n, &ri), MMR_DROP_BAD_RTP);  /* longer than a datagram */
		free(big);
	}
}

static void test_padding(void **state)
{
	uint8_t b[2048];
	struct rtp_info ri;
	struct spec s = { .cc = 2, .ext = 1, .ext_profile = 0xbede, .ext_words = 1, .payload = 20,
			  .pad = 4 };
	uint32_t len = build(b, &s);

	(void)state;
	assert_int_equal(rtp_parse(b, len, &ri), MMR_DROP_NONE);
	assert_int_equal(ri.has_padding, 1);
	assert_int_equal(ri.pad_len, 4);
	assert_int_equal(ri.hdr_len, 12 + 8 + 8);
	assert_int_equal(ri.payload_len, 20);
	assert_int_equal(ri.hdr_len + ri.payload_len + ri.pad_len, len);

	/* padding count 0 */
	b[len - 1] = 0;
	assert_int_equal(rtp_parse(b, len, &ri), MMR_DROP_BAD_RTP);
	/* padding covering exactly everything after the header (a padding-only probe) */
	b[len - 1] = 24;
	assert_int_equal(rtp_parse(b, len, &ri), MMR_DROP_NONE);
	assert_int_equal(ri.payload_len, 0);
	assert_int_equal(ri.pad_len, 24);
	/* one byte more than that, and the largest count */
	b[len - 1] = 25;
	assert_int_equal(rtp_parse(b, len, &ri), MMR_DROP_BAD_RTP);
	b[len - 1] = 255;
	assert_int_equal(rtp_parse(b, len, &ri), MMR_DROP_BAD_RTP);

	/* a header-only packet with the P bit: the count byte would be inside the header */
	struct spec h = { .payload = 0 };
	len = build(b, &h);
	b[0] |= 0x20;
	for (int v = 0; v < 256; v++) {
		b[11] = (uint8_t)v;
		assert_int_equal(rtp_parse(b, len, &ri), MMR_DROP_BAD_RTP);
	}
	/* P bit with a one-byte payload that is its own count */
	len = build(b, &h);
	b[0] |= 0x20;
	b[12] = 1;
	assert_int_equal(rtp_parse(b, 13, &ri), MMR_DROP_NONE);
	assert_int_equal(ri.pad_len, 1);
	assert_int_equal(ri.payload_len, 0);
}

static void test_lengths_beyond_end(void **state)
{
	uint8_t b[2048];
	struct rtp_info ri;
	uint32_t len;

	(void)state;
	/* CSRC count beyond the end */
	struct spec s = { .cc = 3, .payload = 0 };
	len = build(b, &s);
	for (uint32_t l = 12; l < len; l++)
		assert_int_equal(parse_exact(b, l, &ri), MMR_DROP_BAD_RTP);
	b[0] = 0x8f;                   /* 15 CSRCs in 24 bytes */
	assert_int_equal(parse_exact(b, 24, &ri), MMR_DROP_BAD_RTP);

	/* extension header missing, or its length beyond the end */
	struct spec e = { .ext = 1, .ext_profile = 0xbede, .ext_words = 2, .payload = 3 };
	len = build(b, &e);
	assert_int_equal(parse_exact(b, len, &ri), MMR_DROP_NONE);
	wr16(b + 14, 3);               /* one word more than there is */
	assert_int_equal(parse_exact(b, len, &ri), MMR_DROP_BAD_RTP);
	wr16(b + 14, 0xffff);
	assert_int_equal(parse_exact(b, len, &ri), MMR_DROP_BAD_RTP);
	for (uint32_t l = 12; l < 16; l++)
		assert_int_equal(parse_exact(b, l, &ri), MMR_DROP_BAD_RTP);
}

static void test_version(void **state)
{
	uint8_t b[2048];
	struct rtp_info ri;
	struct spec s = { .payload = 4 };
	uint32_t len = build(b, &s);

	(void)state;
	for (uint8_t v = 0; v < 4; v++) {
		b[0] = (uint8_t)((b[0] & 0x3f) | v << 6);
		assert_int_equal(rtp_parse(b, len, &ri), v == 2 ? MMR_DROP_NONE : MMR_DROP_BAD_RTP);
	}
}

static void test_every_truncation(void **state)
{
	uint8_t b[2048];
	struct rtp_info ri;
	struct spec s = { .cc = 2, .ext = 1, .ext_profile = 0x1000, .ext_words = 3, .payload = 9,
			  .pad = 3 };
	uint32_t full = build(b, &s);

	(void)state;
	for (uint32_t len = 0; len < 12; len++)
		assert_int_equal(parse_exact(b, len, &ri), MMR_DROP_TRUNCATED);
	for (uint32_t len = 12; len < full; len++) {
		enum mmr_drop_reason r = parse_exact(b, len, &ri);

		/* the last byte of a cut packet is some payload byte taken as the padding count */
		assert_true(r == MMR_DROP_BAD_RTP || r == MMR_DROP_NONE);
		if (r == MMR_DROP_NONE)
			assert_int_equal(ri.hdr_len + ri.payload_len + ri.pad_len, len);
	}
	/* without padding, a cut inside the payload is still a valid (shorter) packet */
	s.pad = 0;
	full = build(b, &s);
	for (uint32_t len = full - 9; len <= full; len++) {
		assert_int_equal(parse_exact(b, len, &ri), MMR_DROP_NONE);
		assert_int_equal(ri.payload_len, len - (full - 9));
	}
}

static void test_rtcp_demux(void **state)
{
	uint8_t b[16] = { 0x80, 0, 0, 1 };

	(void)state;
	for (int v = 0; v < 256; v++) {
		b[1] = (uint8_t)v;
		assert_int_equal(rtp_is_rtcp(b, sizeof(b)), v >= 192 && v <= 223);
	}
	b[1] = 200;                    /* SR */
	assert_int_equal(rtp_is_rtcp(b, 2), 1);
	assert_int_equal(rtp_is_rtcp(b, 1), 0);
	assert_int_equal(rtp_is_rtcp(b, 0), 0);
	b[0] = 0x40;                   /* version 1 */
	assert_int_equal(rtp_is_rtcp(b, sizeof(b)), 0);
	b[0] = 0xa1;                   /* version 2, padding, count 1 (an RR) */
	b[1] = 201;
	assert_int_equal(rtp_is_rtcp(b, sizeof(b)), 1);
	/* RTP PT 96 with the marker (224) and PT 127 with the marker: RTP */
	b[0] = 0x80;
	b[1] = 0x80 | 96;
	assert_int_equal(rtp_is_rtcp(b, sizeof(b)), 0);
	b[1] = 0xff;
	assert_int_equal(rtp_is_rtcp(b, sizeof(b)), 0);
}

static void test_writers(void **state)
{
	uint8_t b[2048];
	struct rtp_info ri;
	struct spec s = { .cc = 1, .payload = 5 };
	uint32_t len = build(b, &s);
	uint8_t before[64];

	(void)state;
	memcpy(before, b, len);
	rtp_set_seq(b, 0x0102);
	rtp_set_ssrc(b, 0xa1b2c3d4);
	assert_int_equal(rtp_parse(b, len, &ri), MMR_DROP_NONE);
	assert_int_equal(ri.seq, 0x0102);
	assert_int_equal(ri.ssrc, 0xa1b2c3d4);
	assert_int_equal(b[2], 0x01);
	assert_int_equal(b[3], 0x02);
	assert_int_equal(b[8], 0xa1);
	assert_int_equal(b[11], 0xd4);
	/* nothing else changed */
	assert_memory_equal(b, before, 2);
	assert_memory_equal(b + 4, before + 4, 4);
	assert_memory_equal(b + 12, before + 12, len - 12);
	rtp_set_seq(b, 0xffff);
	rtp_set_seq(b, 0);
	assert_int_equal(rtp_parse(b, len, &ri), MMR_DROP_NONE);
	assert_int_equal(ri.seq, 0);
}

/* Build a packet with extension `profile` holding the raw element bytes `el` (n of them, zero
 * padded to a word) and a 2-byte payload; returns its length. */
static uint32_t build_ext(uint8_t *b, uint16_t profile, const uint8_t *el, uint32_t n)
{
	uint32_t words = (n + 3) / 4, off = 16;

	memset(b, 0, 16 + 4 * words + 2);
	b[0] = 0x90;
	b[1] = 96;
	wr16(b + 12, profile);
	wr16(b + 14, (uint16_t)words);
	memcpy(b + off, el, n);
	off += 4 * words;
	b[off++] = 0xa0;
	b[off++] = 0xa1;
	return off;
}

/* rtp_parse then rtp_find_ext on a heap copy of the exact length (ASan sees over-reads). */
static int find_exact(const uint8_t *pkt, uint32_t len, uint8_t id, uint16_t *off, uint16_t *elen)
{
	uint8_t *copy = heap_copy(pkt, len);
	struct rtp_info ri;
	int r;

	assert_int_equal(rtp_parse(copy, len, &ri), MMR_DROP_NONE);
	*off = 0xeeee;
	*elen = 0xeeee;
	r = rtp_find_ext(copy, &ri, id, off, elen);
	free(copy);
	return r;
}

static void test_find_ext_one_byte(void **state)
{
	/* id 1 (2 bytes), padding, padding, id 3 (1 byte), id 14 (16 bytes), padding */
	uint8_t el[32] = { 0x11, 0xa1, 0xa2, 0x00, 0x00, 0x30, 0xb1, 0xef };
	uint8_t b[128];
	uint16_t off, len;
	uint32_t plen;

	(void)state;
	for (int i = 0; i < 16; i++)
		el[8 + i] = (uint8_t)(0xc0 + i);
	plen = build_ext(b, 0xbede, el, 24);
	assert_int_equal(find_exact(b, plen, 1, &off, &len), 1);
	assert_int_equal(off, 17);
	assert_int_equal(len, 2);
	assert_int_equal(b[off], 0xa1);
	assert_int_equal(find_exact(b, plen, 3, &off, &len), 1);
	assert_int_equal(off, 16 + 6);
	assert_int_equal(len, 1);
	assert_int_equal(b[off], 0xb1);
	assert_int_equal(find_exact(b, plen, 14, &off, &len), 1);
	assert_int_equal(off, 16 + 8);
	assert_int_equal(len, 16);
	assert_int_equal(b[off + 15], 0xcf);
	/* absent ids, id 0 (padding) and 15 (reserved) are never found; outputs untouched */
	for (int id = 0; id < 256; id++) {
		if (id == 1 || id == 3 || id == 14)
			continue;
		assert_int_equal(find_exact(b, plen, (uint8_t)id, &off, &len), 0);
		assert_int_equal(off, 0xeeee);
		assert_int_equal(len, 0xeeee);
	}

	/* ID 15 stops the walk: id 3 after it is not seen, id 1 before it is */
	el[3] = 0xf5;
	plen = build_ext(b, 0xbede, el, 24);
	assert_int_equal(find_exact(b, plen, 1, &off, &len), 1);
	assert_int_equal(find_exact(b, plen, 3, &off, &len), 0);
	assert_int_equal(find_exact(b, plen, 14, &off, &len), 0);
	/* a non-zero byte with ID 0 (not valid padding) stops it too */
	el[3] = 0x02;
	plen = build_ext(b, 0xbede, el, 24);
	assert_int_equal(find_exact(b, plen, 1, &off, &len), 1);
	assert_int_equal(find_exact(b, plen, 3, &off, &len), 0);
	el[3] = 0x00;

	/* elements running past the block */
	{
		uint8_t e2[8] = { 0x11, 0xa1, 0xa2, 0x25, 0x01 };   /* id 2 wants 6 bytes, 3 remain */

		plen = build_ext(b, 0xbede, e2, 8);
		assert_int_equal(find_exact(b, plen, 1, &off, &len), 1);   /* found before the overrun */
		assert_int_equal(find_exact(b, plen, 2, &off, &len), -1);
		assert_int_equal(find_exact(b, plen, 9, &off, &len), -1);
		e2[3] = 0x22;                         /* 3 bytes: exactly fits */
		plen = build_ext(b, 0xbede, e2, 8);
		assert_int_equal(find_exact(b, plen, 2, &off, &len), 1);
		assert_int_equal(off, 16 + 4);
		assert_int_equal(len, 3);
		assert_int_equal(find_exact(b, plen, 9, &off, &len), 0);
		/* an element header as the last byte of the block */
		uint8_t e3[4] = { 0x00, 0x00, 0x00, 0x50 };
		plen = build_ext(b, 0xbede, e3, 4);
		assert_int_equal(find_exact(b, plen, 5, &off, &len), -1);
	}
	/* an empty one-byte block */
	plen = build_ext(b, 0xbede, el, 0);
	assert_int_equal(find_exact(b, plen, 1, &off, &len), 0);
}

static void test_find_ext_two_byte(void **state)
{
	/* id 7 empty, padding, id 200 (3 bytes), id 1 (0 bytes), padding x2, id 5 (17 bytes) */
	uint8_t el[40] = { 7, 0, 0, 200, 3, 0xd1, 0xd2, 0xd3, 1, 0, 0, 0, 5, 17 };
	uint8_t b[128];
	uint16_t off, len;
	uint32_t plen;

	(void)state;
	for (int i = 0; i < 17; i++)
		el[14 + i] = (uint8_t)(0xe0 + i);
	for (uint16_t prof = 0x1000; prof <= 0x100f; prof++) {
		plen = build_ext(b, prof, el, 31);
		assert_int_equal(find_exact(b, plen, 7, &off, &len), 1);
		assert_int_equal(off, 18);
		assert_int_equal(len, 0);
		assert_int_equal(find_exact(b, plen, 200, &off, &len), 1);
		assert_int_equal(off, 16 + 5);
		assert_int_equal(len, 3);
		assert_int_equal(b[off + 2], 0xd3);
		assert_int_equal(find_exact(b, plen, 1, &off, &len), 1);
		assert_int_equal(off, 16 + 10);
		assert_int_equal(len, 0);
		assert_int_equal(find_exact(b, plen, 5, &off, &len), 1);
		assert_int_equal(off, 16 + 14);
		assert_int_equal(len, 17);
		assert_int_equal(b[off + 16], 0xf0);
		assert_int_equal(find_exact(b, plen, 0, &off, &len), 0);
		assert_int_equal(find_exact(b, plen, 15, &off, &len), 0);   /* 15 is an ordinary id here */
		assert_int_equal(find_exact(b, plen, 255, &off, &len), 0);
	}
	el[12] = 15;
	plen = build_ext(b, 0x1000, el, 31);
	assert_int_equal(find_exact(b, plen, 15, &off, &len), 1);
	assert_int_equal(len, 17);
	/* overruns: length one more than the block holds; an ID as the block's last byte */
	el[13] = 18;
	plen = build_ext(b, 0x1000, el, 31);           /* 32 bytes: 31 + one zero */
	assert_int_equal(find_exact(b, plen, 15, &off, &len), 1);   /* 18 bytes do fit (the pad byte) */
	el[13] = 19;
	plen = build_ext(b, 0x1000, el, 31);
	assert_int_equal(find_exact(b, plen, 15, &off, &len), -1);
	assert_int_equal(find_exact(b, plen, 200, &off, &len), 1);  /* before the bad one */
	assert_int_equal(find_exact(b, plen, 99, &off, &len), -1);
	{
		uint8_t e2[4] = { 0, 0, 0, 9 };

		plen = build_ext(b, 0x1000, e2, 4);
		assert_int_equal(find_exact(b, plen, 9, &off, &len), -1);
		e2[3] = 0;
		plen = build_ext(b, 0x1000, e2, 4);        /* all padding */
		assert_int_equal(find_exact(b, plen, 9, &off, &len), 0);
	}
}

static void test_find_ext_none(void **state)
{
	uint8_t b[2048];
	struct rtp_info ri;
	uint16_t off = 0xeeee, len = 0xeeee;
	uint8_t el[8] = { 0x10, 0x55, 1, 1, 0x55 };

	(void)state;
	/* no extension at all (CSRCs present, so the payload could be mistaken for one) */
	struct spec s = { .cc = 2, .payload = 16 };
	uint32_t plen = build(b, &s);

	assert_int_equal(rtp_parse(b, plen, &ri), MMR_DROP_NONE);
	for (int id = 0; id < 256; id++)
		assert_int_equal(rtp_find_ext(b, &ri, (uint8_t)id, &off, &len), 0);
	/* an opaque profile, with bytes that would parse in either form */
	for (int prof = 0; prof < 3; prof++) {
		static const uint16_t profiles[] = { 0x1234, 0x1010, 0xbedf };

		plen = build_ext(b, profiles[prof], el, 8);
		assert_int_equal(find_exact(b, plen, 1, &off, &len), 0);
	}
	/* the same bytes under the real profiles are found */
	plen = build_ext(b, 0xbede, el, 8);
	assert_int_equal(find_exact(b, plen, 1, &off, &len), 1);
	plen = build_ext(b, 0x1000, el + 2, 4);
	assert_int_equal(find_exact(b, plen, 1, &off, &len), 1);
	assert_int_equal(len, 1);
	/* extension with zero words */
	plen = build_ext(b, 0xbede, el, 0);
	assert_int_equal(find_exact(b, plen, 1, &off, &len), 0);
	plen = build_ext(b, 0x1000, el, 0);
	assert_int_equal(find_exact(b, plen, 1, &off, &len), 0);
	assert_int_equal(off, 0xeeee);
}

/* Replace element `id` of pkt with dlen bytes of 0x5X and check the result element by element. */
static void replace_and_check(const uint8_t *pkt, uint32_t len, uint8_t id, uint32_t dlen,
			      const uint8_t *other_ids, unsigned n_other)
{
	uint8_t out[600], data[256];
	struct rtp_info ri, ro;
	uint16_t off, elen, ooff, oelen, off2, elen2;

	for (uint32_t i = 0; i < dlen; i++)
		data[i] = (uint8_t)(0x50 + i);
	assert_int_equal(rtp_parse(pkt, len, &ri), MMR_DROP_NONE);
	assert_int_equal(rtp_find_ext(pkt, &ri, id, &off, &elen), 1);
	int n = rtp_replace_ext(pkt, len, &ri, off, elen, data, dlen, out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal(rtp_parse(out, (uint32_t)n, &ro), MMR_DROP_NONE);
	assert_int_equal(ro.ext_len % 4, 0);
	assert_int_equal(ro.ext_profile, ri.ext_profile);
	assert_int_equal(ro.payload_len, ri.payload_len);
	assert_memory_equal(out + ro.hdr_len, pkt + ri.hdr_len, ri.payload_len);   /* payload */
	assert_memory_equal(out, pkt, 12);                                           /* fixed header */
	assert_int_equal(find_exact(out, (uint32_t)n, id, &off2, &elen2), 1);
	assert_int_equal(elen2, dlen);
	assert_memory_equal(out + off2, data, dlen);
	for (unsigned k = 0; k < n_other; k++) {                                     /* the others */
		assert_int_equal(rtp_find_ext(pkt, &ri, other_ids[k], &ooff, &oelen), 1);
		assert_int_equal(find_exact(out, (uint32_t)n, other_ids[k], &off2, &elen2), 1);
		assert_int_equal(elen2, oelen);
		assert_memory_equal(out + off2, pkt + ooff, oelen);
	}
}

static void test_replace_ext(void **state)
{
	uint8_t b[600], out[600];
	uint32_t len;
	struct rtp_info ri;
	uint16_t off, elen;

	(void)state;
	/* one-byte: id 1 (2 bytes), padding, id 3 (3 bytes), id 5 (1 byte) */
	{
		const uint8_t el[] = { 0x11, 0xaa, 0xbb, 0x00, 0x32, 0xc0, 0xc1, 0xc2, 0x50, 0xdd };
		const uint8_t others[] = { 1, 5 }, others3[] = { 1, 3 };

		len = build_ext(b, 0xbede, el, sizeof(el));
		replace_and_check(b, len, 3, 3, others, 2);    /* same length */
		replace_and_check(b, len, 3, 7, others, 2);    /* grows past a word */
		replace_and_check(b, len, 3, 16, others, 2);   /* the one-byte maximum */
		replace_and_check(b, len, 3, 1, others, 2);    /* shrinks */
		replace_and_check(b, len, 5, 9, others3, 2);   /* the last element */
		assert_int_equal(rtp_parse(b, len, &ri), MMR_DROP_NONE);
		assert_int_equal(rtp_find_ext(b, &ri, 3, &off, &elen), 1);
		assert_int_equal(rtp_replace_ext(b, len, &ri, off, elen, b, 17, out, sizeof(out)), -1);
		assert_int_equal(rtp_replace_ext(b, len, &ri, off, elen, b, 0, out, sizeof(out)), -1);
		assert_int_equal(rtp_replace_ext(b, len, &ri, off, elen, b, 7, out, len), -1); /* no room */
		assert_int_equal(rtp_replace_ext(b, len, &ri, (uint16_t)(ri.ext_off + ri.ext_len), 4, b, 4,
						 out, sizeof(out)), -1);                        /* outside */
	}
	/* two-byte: id 9 (0 bytes), id 12 (20 bytes), id 200 (2 bytes) */
	{
		uint8_t el[32] = { 9, 0, 12, 20 };
		const uint8_t others[] = { 9, 200 };

		for (int i = 0; i < 20; i++)
			el[4 + i] = (uint8_t)i;
		el[24] = 200;
		el[25] = 2;
		el[26] = 0xee;
		el[27] = 0xef;
		len = build_ext(b, 0x1000, el, 28);
		replace_and_check(b, len, 12, 24, others, 2);
		replace_and_check(b, len, 12, 255, others, 2);
		replace_and_check(b, len, 12, 0, others, 2);
	}
	/* no extension, or one of another profile */
	{
		const uint8_t el[] = { 1, 2, 3, 4 };

		len = build_ext(b, 0x1234, el, 4);
		assert_int_equal(rtp_parse(b, len, &ri), MMR_DROP_NONE);
		assert_int_equal(rtp_replace_ext(b, len, &ri, 17, 1, el, 1, out, sizeof(out)), -1);
	}
}

/* rtp_blank_ext: the named elements become padding, the others stay found where they were; a
 * malformed element stops the walk. */
static void test_blank_ext(void **state)
{
	(void)state;
	uint8_t b[128], before[128];
	struct rtp_info ri;
	uint16_t off, len;
	/* one-byte: id 1 (2 bytes), id 9 "0" (mid), id 10 "h" (rid), id 2 (3 bytes), padding x3 */
	const uint8_t el[12] = { 0x11, 0xa1, 0xa2, 0x90, '0', 0xa0, 'h', 0x22, 0xb1, 0xb2, 0xb3, 0x00 };
	const uint8_t ids[3] = { 9, 10, 11 };
	uint32_t plen = build_ext(b, 0xbede, el, sizeof(el));
	memcpy(before, b, plen);
	assert_int_equal(rtp_parse(b, plen, &ri), MMR_DROP_NONE);
	assert_int_equal(rtp_blank_ext(b, &ri, ids, 3), 2);
	assert_int_equal(rtp_parse(b, plen, &ri), MMR_DROP_NONE);
	assert_int_equal(rtp_find_ext(b, &ri, 9, &off, &len), 0);
	assert_int_equal(rtp_find_ext(b, &ri, 10, &off, &len), 0);
	assert_int_equal(rtp_find_ext(b, &ri, 2, &off, &len), 1);
	assert_int_equal(off, 16 + 8);
	assert_memory_equal(b + 16 + 3, "\0\0\0\0", 4);
	assert_memory_equal(b, before, 16 + 3);                  /* header and id 1 untouched */
	assert_memory_equal(b + 16 + 7, before + 16 + 7, plen - 16 - 7);
	assert_int_equal(rtp_blank_ext(b, &ri, ids, 3), 0);     /* again: nothing left */
	/* nothing named, or 0 entries only */
	const uint8_t none[2] = { 0, 0 };
	plen = build_ext(b, 0xbede, el, sizeof(el));
	assert_int_equal(rtp_blank_ext(b, &ri, none, 2), 0);
	assert_memory_equal(b, before, plen);
	/* ID 15 stops the walk: the rid after it stays */
	uint8_t e2[12];
	memcpy(e2, el, sizeof(e2));
	e2[3] = 0xf0;
	plen = build_ext(b, 0xbede, e2, sizeof(e2));
	assert_int_equal(rtp_parse(b, plen, &ri), MMR_DROP_NONE);
	assert_int_equal(rtp_blank_ext(b, &ri, ids, 3), 0);
	/* an element running past the block: stops, nothing written */
	const uint8_t e3[4] = { 0x90, '0', 0xa5, 'h' };
	plen = build_ext(b, 0xbede, e3, sizeof(e3));
	assert_int_equal(rtp_parse(b, plen, &ri), MMR_DROP_NONE);
	assert_int_equal(rtp_blank_ext(b, &ri, ids, 3), 1);
	assert_int_equal(b[16 + 2], 0xa5);
	/* two-byte form: id 9 (1 byte), id 200 (2 bytes), id 11 (0 bytes) */
	const uint8_t t[8] = { 9, 1, '1', 200, 2, 0xc1, 0xc2, 11 };
	uint8_t t2[12] = { 0 };
	memcpy(t2, t, sizeof(t));
	t2[8] = 0;
	plen = build_ext(b, 0x1000, t2, sizeof(t2));
	assert_int_equal(rtp_parse(b, plen, &ri), MMR_DROP_NONE);
	assert_int_equal(rtp_blank_ext(b, &ri, ids, 3), 2);      /* id 9 and the empty id 11 */
	assert_int_equal(rtp_find_ext(b, &ri, 200, &off, &len), 1);
	assert_int_equal(len, 2);
	assert_int_equal(b[off], 0xc1);
	assert_int_equal(rtp_find_ext(b, &ri, 9, &off, &len), 0);
	assert_int_equal(rtp_find_ext(b, &ri, 11, &off, &len), 0);
	plen = build_ext(b, 0x1000, t, sizeof(t));               /* id 11's length byte past the block */
	assert_int_equal(rtp_parse(b, plen, &ri), MMR_DROP_NONE);
	assert_int_equal(rtp_blank_ext(b, &ri, ids, 3), 1);
	assert_int_equal(b[16 + 7], 11);
	/* no extension at all */
	uint8_t plain[20] = { 0x80, 96 };
	assert_int_equal(rtp_parse(plain, sizeof(plain), &ri), MMR_DROP_NONE);
	assert_int_equal(rtp_blank_ext(plain, &ri, ids, 3), 0);
}

static void test_random_garbage(void **state)
{
	uint8_t b[512];
	struct rtp_info ri;
	unsigned ok = 0;

	(void)state;
	rng_state = 2024;
	for (int i = 0; i < 20000; i++) {
		uint32_t len = rnd() % 200;
		enum mmr_drop_reason r;

		for (uint32_t j = 0; j < len; j++)
			b[j] = (uint8_t)rnd();
		if (i & 1 && len > 0)
			b[0] = (uint8_t)(0x80 | (b[0] & 0x3f));   /* version 2 half the time */
		r = parse_exact(b, len, &ri);
		assert_true(r == MMR_DROP_NONE || r == MMR_DROP_TRUNCATED || r == MMR_DROP_BAD_RTP);
		if (r == MMR_DROP_NONE) {
			ok++;
			assert_int_equal(ri.hdr_len + ri.payload_len + ri.pad_len, len);
			if (ri.has_ext) {
				uint16_t off, elen;

				assert_true(ri.ext_off + ri.ext_len == ri.hdr_len);
				if (rtp_find_ext(b, &ri, (uint8_t)(1 + rnd() % 14), &off, &elen) == 1)
					assert_true(off >= ri.ext_off && off + elen <= ri.hdr_len);
			}
		}
		(void)rtp_is_rtcp(b, len);
	}
	assert_true(ok > 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixed_header),
		cmocka_unit_test(test_csrcs),
		cmocka_unit_test(test_extensions),
		cmocka_unit_test(test_padding),
		cmocka_unit_test(test_lengths_beyond_end),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_rtcp_demux),
		cmocka_unit_test(test_writers),
		cmocka_unit_test(test_random_garbage),
		cmocka_unit_test(test_find_ext_one_byte),
		cmocka_unit_test(test_find_ext_two_byte),
		cmocka_unit_test(test_find_ext_none),
		cmocka_unit_test(test_replace_ext),
		cmocka_unit_test(test_blank_ext),
	};

	return cmocka_run_group_tests_name("rtp", tests, NULL, NULL);
}
