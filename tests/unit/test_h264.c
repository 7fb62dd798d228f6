/*
 * test_h264.c - unit tests of the H.264 RTP payload parser and media_pkt translation (lib/codec/h264.c):
 * single NAL packets of every type, first_mb_in_slice decoding (Exp-Golomb, emulation prevention),
 * STAP-A (SPS+PPS+IDR, bad sizes, forbidden inner types), FU-A start/middle/end of IDR and non-IDR
 * slices, the refused packet types, the forbidden bit, every truncation, and h264_media.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "h264.h"
#include "unit_util.h"

/* Parse from an exactly sized heap copy, so that ASan sees any read past the end. */
static enum mmr_drop_reason parse_exact(const uint8_t *p, uint32_t len, struct h264_info *h)
{
	uint8_t *copy = heap_copy(p, len);
	enum mmr_drop_reason r;

	r = h264_parse(copy, len, h);
	free(copy);
	return r;
}

static void test_single_nal_every_type(void **state)
{
	struct h264_info h;

	(void)state;
	for (int t = 0; t < 32; t++) {
		/* 0x88: first_mb_in_slice = 0 ('1'), then slice_type bits */
		uint8_t b[] = { (uint8_t)(0x60 | t), 0x88, 0x84, 0x00, 0x10 };
		enum mmr_drop_reason r = parse_exact(b, sizeof(b), &h);
		int slice = t == 1 || t == 2 || t == 5;
		int au = slice || (t >= 6 && t <= 9) || (t >= 14 && t <= 18);

		if (t == 0 || (t >= 25 && t <= 27) || t >= 29) {
			assert_int_equal(r, MMR_DROP_BAD_PAYLOAD);
			continue;
		}
		if (t == 24 || t == 28)
			continue;               /* aggregation / fragmentation: tested below */
		assert_int_equal(r, MMR_DROP_NONE);
		assert_int_equal(h.pkt_type, t);
		assert_int_equal(h.nal_type, t);
		assert_int_equal(h.nri, 3);
		assert_int_equal(h.n_nals, 1);
		assert_int_equal(h.keyframe, t == 5 || t == 7);
		assert_int_equal(h.has_idr, t == 5);
		assert_int_equal(h.has_sps, t == 7);
		assert_int_equal(h.has_pps, t == 8);
		assert_int_equal(h.au_start, au);
		assert_int_equal(h.has_first_mb, slice);
		assert_int_equal(h.first_mb, 0);
		assert_int_equal(h.fu_start, 0);
		/* a slice that does not begin the picture does not start an access unit */
		b[1] = 0x40;                    /* '010': first_mb_in_slice = 1 */
		assert_int_equal(parse_exact(b, sizeof(b), &h), MMR_DROP_NONE);
		assert_int_equal(h.au_start, au && !slice);
		assert_int_equal(h.keyframe, t == 5 || t == 7);
		if (slice)
			assert_int_equal(h.first_mb, 1);
	}
}

static void test_first_mb_decoding(void **state)
{
	struct h264_info h;

	(void)state;
	const uint8_t two[] = { 0x41, 0x60 };           /* '011' = 2 */
	assert_int_equal(parse_exact(two, sizeof(two), &h), MMR_DROP_NONE);
	assert_int_equal(h.first_mb, 2);
	const uint8_t big[] = { 0x41, 0x00, 0x80, 0x80 }; /* 8 zeros, 1, 8 bits 00000001: 255 + 1 */
	assert_int_equal(parse_exact(big, sizeof(big), &h), MMR_DROP_NONE);
	assert_int_equal(h.first_mb, 256);
	assert_int_equal(h.au_start, 0);
	/* 00 00 03: the 03 is an emulation prevention byte, not slice data: 16 zeros, '1', 16 bits */
	const uint8_t epb[] = { 0x41, 0x00, 0x00, 0x03, 0xff, 0xff, 0xff };
	assert_int_equal(parse_exact(epb, sizeof(epb), &h), MMR_DROP_NONE);
	assert_int_equal(h.first_mb, 0xffff + 0xffff);
	/* a slice NAL too short for its first_mb_in_slice is malformed (the NAL is complete) */
	const uint8_t short1[] = { 0x41 };
	assert_int_equal(parse_exact(short1, sizeof(short1), &h), MMR_DROP_BAD_PAYLOAD);
	const uint8_t short2[] = { 0x65, 0x00, 0x01 };  /* 15 zeros, '1', then 15 bits missing */
	assert_int_equal(parse_exact(short2, sizeof(short2), &h), MMR_DROP_BAD_PAYLOAD);
	const uint8_t zeros[] = { 0x41, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff };
	assert_int_equal(parse_exact(zeros, sizeof(zeros), &h), MMR_DROP_BAD_PAYLOAD); /* > 32 bits */
	/* NALs without a slice header may be only their header (end of sequence, end of stream) */
	const uint8_t eos[] = { 0x0a };
	assert_int_equal(parse_exact(eos, sizeof(eos), &h), MMR_DROP_NONE);
	assert_int_equal(h.au_start, 0);
	assert_int_equal(h.has_first_mb, 0);
}

static const uint8_t stap_key[] = {
	0x78,                                   /* STAP-A, NRI 3 */
	0x00, 0x04, 0x67, 0x42, 0xc0, 0x1f,     /* SPS */
	0x00, 0x02, 0x68, 0xce,                 /* PPS */
	0x00, 0x03, 0x65, 0x88, 0x84,           /* IDR slice, first_mb 0 */
};

static void test_stap_a(void **state)
{
	struct h264_info h;
	uint8_t b[64];

	(void)state;
	assert_int_equal(parse_exact(stap_key, sizeof(stap_key), &h), MMR_DROP_NONE);
	assert_int_equal(h.pkt_type, 24);
	assert_int_equal(h.nal_type, 7);
	assert_int_equal(h.n_nals, 3);
	assert_int_equal(h.has_sps, 1);
	assert_int_equal(h.has_pps, 1);
	assert_int_equal(h.has_idr, 1);
	assert_int_equal(h.keyframe, 1);
	assert_int_equal(h.au_start, 1);

	/* SEI + non-IDR slice: starts an access unit, not a keyframe */
	const uint8_t sei_slice[] = { 0x78, 0x00, 0x02, 0x06, 0x05, 0x00, 0x02, 0x41, 0x9a };
	assert_int_equal(parse_exact(sei_slice, sizeof(sei_slice), &h), MMR_DROP_NONE);
	assert_int_equal(h.keyframe, 0);
	assert_int_equal(h.au_start, 1);
	assert_int_equal(h.nal_type, 6);
	assert_int_equal(h.n_nals, 2);
	/* two slices of a picture, the first not at macroblock 0 */
	const uint8_t mid[] = { 0x78, 0x00, 0x02, 0x41, 0x40, 0x00, 0x02, 0x41, 0x30 };
	assert_int_equal(parse_exact(mid, sizeof(mid), &h), MMR_DROP_NONE);
	assert_int_equal(h.au_start, 0);
	assert_int_equal(h.first_mb, 1);
	/* a PPS alone is not a keyframe; an SPS alone is */
	const uint8_t pps[] = { 0x78, 0x00, 0x02, 0x68, 0xce };
	assert_int_equal(parse_exact(pps, sizeof(pps), &h), MMR_DROP_NONE);
	assert_int_equal(h.keyframe, 0);
	assert_int_equal(h.au_start, 1);

	/* bad sizes */
	memcpy(b, stap_key, sizeof(stap_key));
	b[8] = 0x00;                            /* PPS size 0 */
	assert_int_equal(parse_exact(b, sizeof(stap_key), &h), MMR_DROP_BAD_PAYLOAD);
	memcpy(b, stap_key, sizeof(stap_key));
	b[12] = 0x04;                           /* IDR size one past the end */
	assert_int_equal(parse_exact(b, sizeof(stap_key), &h), MMR_DROP_TRUNCATED);
	memcpy(b, stap_key, sizeof(stap_key));
	b[1] = 0xff;                            /* huge first size */
	assert_int_equal(parse_exact(b, sizeof(stap_key), &h), MMR_DROP_TRUNCATED);
	memcpy(b, stap_key, sizeof(stap_key));
	b[sizeof(stap_key)] = 0x00;             /* one stray byte after the last unit */
	assert_int_equal(parse_exact(b, sizeof(stap_key) + 1, &h), MMR_DROP_TRUNCATED);
	b[12] = 0x02;                           /* IDR size one short: 1 byte left over */
	assert_int_equal(parse_exact(b, sizeof(stap_key), &h), MMR_DROP_TRUNCATED);

	/* forbidden inner units */
	const uint8_t inner_f[] = { 0x78, 0x00, 0x02, 0xe1, 0x88 };     /* F bit */
	assert_int_equal(parse_exact(inner_f, sizeof(inner_f), &h), MMR_DROP_BAD_PAYLOAD);
	const uint8_t inner_0[] = { 0x78, 0x00, 0x02, 0x60, 0x88 };     /* type 0 */
	assert_int_equal(parse_exact(inner_0, sizeof(inner_0), &h), MMR_DROP_BAD_PAYLOAD);
	const uint8_t inner_fu[] = { 0x78, 0x00, 0x03, 0x7c, 0x85, 0x88 };  /* an FU-A inside */
	assert_int_equal(parse_exact(inner_fu, sizeof(inner_fu), &h), MMR_DROP_BAD_PAYLOAD);
	const uint8_t inner_stap[] = { 0x78, 0x00, 0x03, 0x78, 0x00, 0x00 };
	assert_int_equal(parse_exact(inner_stap, sizeof(inner_stap), &h), MMR_DROP_BAD_PAYLOAD);
	const uint8_t inner_short[] = { 0x78, 0x00, 0x01, 0x65 };       /* IDR slice of 1 byte */
	assert_int_equal(parse_exact(inner_short, sizeof(inner_short), &h), MMR_DROP_BAD_PAYLOAD);
	/* an empty STAP-A */
	assert_int_equal(parse_exact(stap_key, 1, &h), MMR_DROP_TRUNCATED);
}

static void test_fu_a(void **state)
{
	struct h264_info h;

	(void)state;
	/* IDR: start, middle, end */
	const uint8_t idr_s[] = { 0x7c, 0x85, 0x88, 0x84, 0x21 };
	assert_int_equal(parse_exact(idr_s, sizeof(idr_s), &h), MMR_DROP_NONE);
	assert_int_equal(h.pkt_type, 28);
	assert_int_equal(h.nal_type, 5);
	assert_int_equal(h.fu_start, 1);
	assert_int_equal(h.fu_end, 0);
	assert_int_equal(h.keyframe, 1);
	assert_int_equal(h.au_start, 1);
	assert_int_equal(h.has_idr, 1);
	const uint8_t idr_m[] = { 0x7c, 0x05, 0x88, 0x84 };  /* 0x88 is not a header here */
	assert_int_equal(parse_exact(idr_m, sizeof(idr_m), &h), MMR_DROP_NONE);
	assert_int_equal(h.fu_start, 0);
	assert_int_equal(h.fu_end, 0);
	assert_int_equal(h.keyframe, 0);
	assert_int_equal(h.au_start, 0);
	assert_int_equal(h.has_idr, 1);
	assert_int_equal(h.has_first_mb, 0);
	const uint8_t idr_e[] = { 0x7c, 0x45, 0x88 };
	assert_int_equal(parse_exact(idr_e, sizeof(idr_e), &h), MMR_DROP_NONE);
	assert_int_equal(h.fu_end, 1);
	assert_int_equal(h.keyframe, 0);
	assert_int_equal(h.au_start, 0);
	/* non-IDR: start at macroblock 0, start at macroblock 1, middle, end */
	const uint8_t p_s[] = { 0x5c, 0x81, 0x9a, 0x00 };
	assert_int_equal(parse_exact(p_s, sizeof(p_s), &h), MMR_DROP_NONE);
	assert_int_equal(h.nal_type, 1);
	assert_int_equal(h.nri, 2);
	assert_int_equal(h.keyframe, 0);
	assert_int_equal(h.au_start, 1);
	const uint8_t p_s1[] = { 0x5c, 0x81, 0x40, 0x00 };
	assert_int_equal(parse_exact(p_s1, sizeof(p_s1), &h), MMR_DROP_NONE);
	assert_int_equal(h.au_start, 0);
	assert_int_equal(h.first_mb, 1);
	const uint8_t p_m[] = { 0x5c, 0x01, 0x9a };
	assert_int_equal(parse_exact(p_m, sizeof(p_m), &h), MMR_DROP_NONE);
	assert_int_equal(h.au_start, 0);
	assert_int_equal(h.keyframe, 0);
	const uint8_t p_e[] = { 0x5c, 0x41, 0x9a };
	assert_int_equal(parse_exact(p_e, sizeof(p_e), &h), MMR_DROP_NONE);
	assert_int_equal(h.fu_end, 1);
	/* a start fragment too short to hold first_mb_in_slice: accepted, start unknown */
	const uint8_t tiny[] = { 0x5c, 0x81, 0x00 };
	assert_int_equal(parse_exact(tiny, sizeof(tiny), &h), MMR_DROP_NONE);
	assert_int_equal(h.au_start, 0);
	assert_int_equal(h.has_first_mb, 0);
	/* refused: S and E together, fragmented aggregates/fragments/type 0, forbidden bit */
	const uint8_t se[] = { 0x7c, 0xc5, 0x88 };
	assert_int_equal(parse_exact(se, sizeof(se), &h), MMR_DROP_BAD_PAYLOAD);
	for (int t = 24; t < 32; t++) {
		const uint8_t bad[] = { 0x7c, (uint8_t)(0x80 | t), 0x88 };
		assert_int_equal(parse_exact(bad, sizeof(bad), &h), MMR_DROP_BAD_PAYLOAD);
	}
	const uint8_t t0[] = { 0x7c, 0x80, 0x88 };
	assert_int_equal(parse_exact(t0, sizeof(t0), &h), MMR_DROP_BAD_PAYLOAD);
	const uint8_t fbit[] = { 0xfc, 0x85, 0x88 };
	assert_int_equal(parse_exact(fbit, sizeof(fbit), &h), MMR_DROP_BAD_PAYLOAD);
	/* truncated: no FU header, no fragment */
	assert_int_equal(parse_exact(idr_s, 1, &h), MMR_DROP_TRUNCATED);
	assert_int_equal(parse_exact(idr_s, 2, &h), MMR_DROP_TRUNCATED);
}

static void test_forbidden_and_interleaved(void **state)
{
	struct h264_info h;

	(void)state;
	const uint8_t f1[] = { 0xe5, 0x88 };            /* IDR with F=1 */
	assert_int_equal(parse_exact(f1, sizeof(f1), &h), MMR_DROP_BAD_PAYLOAD);
	const uint8_t f24[] = { 0xf8, 0x00, 0x02, 0x68, 0xce };
	assert_int_equal(parse_exact(f24, sizeof(f24), &h), MMR_DROP_BAD_PAYLOAD);
	/* STAP-B, MTAP16, MTAP24, FU-B: interleaved mode */
	const int il[] = { 25, 26, 27, 29, 30, 31, 0 };
	for (unsigned i = 0; i < sizeof(il) / sizeof(il[0]); i++) {
		const uint8_t b[] = { (uint8_t)(0x60 | il[i]), 0x00, 0x02, 0x00, 0x02, 0x68, 0xce };
		assert_int_equal(parse_exact(b, sizeof(b), &h), MMR_DROP_BAD_PAYLOAD);
	}
	assert_int_equal(parse_exact(f1, 0, &h), MMR_DROP_TRUNCATED);
}

/* Every prefix of a STAP-A is refused unless it ends exactly after an aggregated unit. */
static void test_every_truncation(void **state)
{
	struct h264_info h;

	(void)state;
	for (uint32_t l = 0; l < sizeof(stap_key); l++) {
		enum mmr_drop_reason r = parse_exact(stap_key, l, &h);

		if (l == 7 || l == 11) {
			assert_int_equal(r, MMR_DROP_NONE);
			assert_int_equal(h.n_nals, l == 7 ? 1 : 2);
			assert_int_equal(h.keyframe, 1);         /* the SPS is there */
			assert_int_equal(h.has_idr, 0);
		} else {
			assert_int_equal(r, MMR_DROP_TRUNCATED);
		}
	}
}

static void test_media(void **state)
{
	struct h264_info h;
	struct media_pkt mp;
	struct rtp_info ri = { .marker = 0 };

	(void)state;
	assert_int_equal(parse_exact(stap_key, sizeof(stap_key), &h), MMR_DROP_NONE);
	memset(&mp, 0xa5, sizeof(mp));
	h264_media(&h, &ri, &mp);
	assert_int_equal(mp.codec, MMR_CODEC_H264);
	assert_int_equal(mp.keyframe, 1);
	assert_int_equal(mp.start, 1);
	assert_int_equal(mp.end, 0);
	assert_int_equal(mp.sid, 0);
	assert_int_equal(mp.tid, 0);
	assert_int_equal(mp.has_layers, 0);
	assert_int_equal(mp.switch_up, 0);
	assert_int_equal(mp.encoding, 0);
	assert_int_equal(mp.desc_len, 0);
	assert_int_equal(mp.pid_off, 0);
	assert_int_equal(mp.tl0_off, 0);
	assert_int_equal(mp.dd_off, 0);
	const uint8_t p_e[] = { 0x5c, 0x41, 0x9a };
	assert_int_equal(parse_exact(p_e, sizeof(p_e), &h), MMR_DROP_NONE);
	ri.marker = 1;
	h264_media(&h, &ri, &mp);
	assert_int_equal(mp.keyframe, 0);
	assert_int_equal(mp.start, 0);
	assert_int_equal(mp.end, 1);
}

static void test_random_garbage(void **state)
{
	uint8_t b[64];
	struct h264_info h;

	(void)state;
	rng_state = 99;
	for (int i = 0; i < 20000; i++) {
		uint32_t len = rnd() % 24;
		enum mmr_drop_reason r;

		for (uint32_t j = 0; j < len; j++)
			b[j] = (uint8_t)rnd();
		if (len > 3 && (i & 1)) {       /* make STAP-A sizes plausible half the time */
			b[0] = (uint8_t)(0x78 & b[0]) | 24;
			b[1] = 0;
			b[2] = (uint8_t)(b[2] % (len - 2));
		}
		r = parse_exact(b, len, &h);
		assert_true(r == MMR_DROP_NONE || r == MMR_DROP_TRUNCATED || r == MMR_DROP_BAD_PAYLOAD);
		if (r == MMR_DROP_NONE) {
			assert_true(h.nal_type >= 1 && h.nal_type <= 23);
			assert_true(h.n_nals >= 1);
			assert_true(!h.keyframe || h.has_idr || h.has_sps);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_nal_every_type),
		cmocka_unit_test(test_first_mb_decoding),
		cmocka_unit_test(test_stap_a),
		cmocka_unit_test(test_fu_a),
		cmocka_unit_test(test_forbidden_and_interleaved),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_media),
		cmocka_unit_test(test_random_garbage),
	};

	return cmocka_run_group_tests_name("h264", tests, NULL, NULL);
}
