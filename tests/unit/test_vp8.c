/*
 * test_vp8.c - unit tests of the VP8 payload descriptor parser and writers (lib/codec/vp8.c): every
 * combination of the X, N, S, PID, I, M, L, T, K, Y, TID bits is built, parsed and compared field
 * by field; every truncation of each; frame start and key frame detection; reserved bits; and the
 * in-place PictureID / TL0PICIDX writers (width kept, value masked); vp8_media's translation into
 * struct media_pkt (for every combination, with offsets from the RTP header).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vp8.h"
#include "unit_util.h"

struct flags {
	int x, n, s, pid, i, m, l, t, k, y, tid, keyidx;
	uint16_t picture_id;
	uint8_t tl0;
	uint8_t vp8_byte0;          /* first byte of the VP8 payload header */
};

/* Build a descriptor plus 3 payload bytes; returns the total length, *dlen the descriptor's. */
static uint32_t build(uint8_t *b, const struct flags *f, uint32_t *dlen)
{
	uint32_t off = 1;

	b[0] = (uint8_t)(f->x << 7 | f->n << 5 | f->s << 4 | f->pid);
	if (f->x) {
		b[off++] = (uint8_t)(f->i << 7 | f->l << 6 | f->t << 5 | f->k << 4);
		if (f->i) {
			if (f->m) {
				b[off++] = (uint8_t)(0x80 | (f->picture_id >> 8));
				b[off++] = (uint8_t)f->picture_id;
			} else {
				b[off++] = (uint8_t)(f->picture_id & 0x7f);
			}
		}
		if (f->l)
			b[off++] = f->tl0;
		if (f->t || f->k)
			b[off++] = (uint8_t)((f->t ? (f->tid << 6 | f->y << 5) : 0) |
					     (f->k ? f->keyidx : 0));
	}
	*dlen = off;
	b[off++] = f->vp8_byte0;
	b[off++] = 0x9d;
	b[off++] = 0x01;
	return off;
}

static enum mmr_drop_reason parse_exact(const uint8_t *p, uint32_t len, struct vp8_desc *d)
{
	uint8_t *copy = heap_copy(p, len);
	enum mmr_drop_reason r;

	r = vp8_parse(copy, len, d);
	free(copy);
	return r;
}

static void check_fields(const struct flags *f, const struct vp8_desc *d, uint32_t dlen)
{
	int x = f->x;

	assert_int_equal(d->len, dlen);
	assert_int_equal(d->non_ref, f->n);
	assert_int_equal(d->start, f->s);
	assert_int_equal(d->part_id, f->pid);
	assert_int_equal(d->has_picture_id, x && f->i);
	assert_int_equal(d->picture_id_16, x && f->i && f->m);
	assert_int_equal(d->has_tl0picidx, x && f->l);
	assert_int_equal(d->has_tid, x && f->t);
	assert_int_equal(d->has_keyidx, x && f->k);
	assert_int_equal(d->tid, x && f->t ? f->tid : 0);
	assert_int_equal(d->layer_sync, x && f->t ? f->y : 0);
	assert_int_equal(d->keyidx, x && f->k ? f->keyidx : 0);
	if (x && f->i) {
		assert_int_equal(d->picture_id_off, 2);
		assert_int_equal(d->picture_id, f->m ? f->picture_id & 0x7fff : f->picture_id & 0x7f);
	} else {
		assert_int_equal(d->picture_id_off, 0);
		assert_int_equal(d->picture_id, 0);
	}
	if (x && f->l) {
		assert_int_equal(d->tl0picidx_off, 2 + (f->i ? (f->m ? 2 : 1) : 0));
		assert_int_equal(d->tl0picidx, f->tl0);
	} else {
		assert_int_equal(d->tl0picidx_off, 0);
		assert_int_equal(d->tl0picidx, 0);
	}
	assert_int_equal(d->frame_start, f->s && f->pid == 0);
	assert_int_equal(d->keyframe, f->s && f->pid == 0 && (f->vp8_byte0 & 1) == 0);
}

/* Walk every flag combination, calling fn for each. */
static void for_each_combination(void (*fn)(const struct flags *f))
{
	unsigned count = 0;

	for (int x = 0; x < 2; x++)
	for (int n = 0; n < 2; n++)
	for (int s = 0; s < 2; s++)
	for (int pid = 0; pid < 8; pid += 1)
	for (int ilkt = 0; ilkt < (x ? 16 : 1); ilkt++)
	for (int m = 0; m < 2; m++)
	for (int y = 0; y < 2; y++)
	for (int tid = 0; tid < 4; tid++)
	for (int key = 0; key < 2; key++) {
		struct flags f = {
			.x = x, .n = n, .s = s, .pid = pid,
			.i = ilkt >> 3 & 1, .l = ilkt >> 2 & 1, .t = ilkt >> 1 & 1, .k = ilkt & 1,
			.m = m, .y = y, .tid = tid, .keyidx = (tid * 7 + pid) & 0x1f,
			.picture_id = (uint16_t)(m ? 0x7abc - pid : 0x55 + pid),
			.tl0 = (uint8_t)(200 + tid),
			.vp8_byte0 = (uint8_t)(key ? 0x10 : 0x11),
		};
		fn(&f);
		count++;
	}
	assert_true(count > 4000);
}

static void check_media(const struct flags *f, const struct vp8_desc *d, uint16_t hdr, int marker)
{
	struct media_pkt mp;
	struct rtp_info ri = { .marker = (uint8_t)marker, .hdr_len = hdr };
	int x = f->x;

	memset(&mp, 0xa5, sizeof(mp));          /* vp8_media must clear what it does not set */
	vp8_media(d, hdr, &ri, &mp);
	assert_int_equal(mp.codec, MMR_CODEC_VP8);
	assert_int_equal(mp.encoding, 0);
	assert_int_equal(mp.start, f->s && f->pid == 0);
	assert_int_equal(mp.end, marker);
	assert_int_equal(mp.keyframe, f->s && f->pid == 0 && (f->vp8_byte0 & 1) == 0);
	assert_int_equal(mp.has_layers, x && f->t);
	assert_int_equal(mp.tid, x && f->t ? f->tid : 0);
	assert_int_equal(mp.switch_up, x && f->t ? f->y : 0);
	assert_int_equal(mp.sid, 0);
	assert_int_equal(mp.inter_pic, 0);
	assert_int_equal(mp.inter_layer, 0);
	assert_int_equal(mp.not_ref_up, 0);
	assert_int_equal(mp.desc_len, d->len);
	assert_int_equal(mp.has_pid, x && f->i);
	assert_int_equal(mp.pid_16, x && f->i && f->m);
	assert_int_equal(mp.pid_off, x && f->i ? hdr + 2 : 0);
	assert_int_equal(mp.picture_id, x && f->i ? (f->m ? f->picture_id & 0x7fff : f->picture_id & 0x7f) : 0);
	assert_int_equal(mp.has_tl0, x && f->l);
	assert_int_equal(mp.tl0_off, x && f->l ? hdr + 2 + (f->i ? (f->m ? 2 : 1) : 0) : 0);
	assert_int_equal(mp.tl0picidx, x && f->l ? f->tl0 : 0);
	assert_int_equal(mp.dd_off, 0);
	assert_int_equal(mp.n_fdiffs, 0);
	assert_int_equal(mp.dtis, 0);
}

static void one_combination(const struct flags *f)
{
	uint8_t b[32];
	uint32_t dlen, len = build(b, f, &dlen);
	struct vp8_desc d;

	assert_int_equal(parse_exact(b, len, &d), MMR_DROP_NONE);
	check_fields(f, &d, dlen);
	check_media(f, &d, 12, f->n);           /* the marker follows N: both values get seen */
	check_media(f, &d, 44, !f->n);
}

static void test_every_flag_combination(void **state)
{
	(void)state;
	for_each_combination(one_combination);
}

static void one_truncation(const struct flags *f)
{
	uint8_t b[32];
	uint32_t dlen, len = build(b, f, &dlen);
	struct vp8_desc d;

	(void)len;
	for (uint32_t l = 0; l < dlen; l++)
		assert_int_equal(parse_exact(b, l, &d), MMR_DROP_TRUNCATED);
	/* a descriptor with no payload byte after it */
	assert_int_equal(parse_exact(b, dlen, &d), MMR_DROP_BAD_PAYLOAD);
	/* exactly one payload byte is enough */
	assert_int_equal(parse_exact(b, dlen + 1, &d), MMR_DROP_NONE);
	check_fields(f, &d, dlen);
}

static void test_every_truncation(void **state)
{
	(void)state;
	for_each_combination(one_truncation);
}

static void test_keyframe_and_frame_start(void **state)
{
	/* X=1 I=1 M=1, S=1 PID=0, payload header 0x10 (P=0: key frame) */
	uint8_t b[] = { 0x90, 0x80, 0x81, 0x23, 0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a };
	struct vp8_desc d;

	(void)state;
	assert_int_equal(vp8_parse(b, sizeof(b), &d), MMR_DROP_NONE);
	assert_int_equal(d.len, 4);
	assert_int_equal(d.picture_id, 0x0123);
	assert_int_equal(d.frame_start, 1);
	assert_int_equal(d.keyframe, 1);
	b[4] = 0x11;                   /* P=1: inter frame */
	assert_int_equal(vp8_parse(b, sizeof(b), &d), MMR_DROP_NONE);
	assert_int_equal(d.frame_start, 1);
	assert_int_equal(d.keyframe, 0);
	b[4] = 0x10;
	b[0] = 0x80;                   /* S=0: a continuation packet; payload byte is not a header */
	assert_int_equal(vp8_parse(b, sizeof(b), &d), MMR_DROP_NONE);
	assert_int_equal(d.frame_start, 0);
	assert_int_equal(d.keyframe, 0);
	b[0] = 0x91;                   /* S=1 PID=1: start of the second partition */
	assert_int_equal(vp8_parse(b, sizeof(b), &d), MMR_DROP_NONE);
	assert_int_equal(d.start, 1);
	assert_int_equal(d.part_id, 1);
	assert_int_equal(d.frame_start, 0);
	assert_int_equal(d.keyframe, 0);
}

static void test_reserved_bits_ignored(void **state)
{
	/* R bits of the first byte (0x40, 0x08) and RSV of the X byte (0x0f) set */
	uint8_t b[] = { 0xd8, 0xaf, 0x05, 0x7e, 0x00 };
	struct vp8_desc d;

	(void)state;
	assert_int_equal(vp8_parse(b, sizeof(b), &d), MMR_DROP_NONE);
	assert_int_equal(d.has_picture_id, 1);
	assert_int_equal(d.picture_id, 5);
	assert_int_equal(d.has_tl0picidx, 0);
	assert_int_equal(d.has_tid, 1);
	assert_int_equal(d.tid, 1);
	assert_int_equal(d.layer_sync, 1);
	assert_int_equal(d.has_keyidx, 0);
	assert_int_equal(d.keyidx, 0);
	assert_int_equal(d.part_id, 0);
	assert_int_equal(d.frame_start, 1);
	assert_int_equal(d.keyframe, 1);
	assert_int_equal(d.len, 4);
	/* L without T (a sender error): parsed as written, TID 0 */
	uint8_t c[] = { 0x90, 0x40, 0x09, 0x01 };
	assert_int_equal(vp8_parse(c, sizeof(c), &d), MMR_DROP_NONE);
	assert_int_equal(d.has_tl0picidx, 1);
	assert_int_equal(d.tl0picidx, 9);
	assert_int_equal(d.has_tid, 0);
	assert_int_equal(d.tid, 0);
}

static void test_set_picture_id(void **state)
{
	struct flags f = { .x = 1, .s = 1, .i = 1, .m = 1, .l = 1, .t = 1, .k = 1, .tid = 2, .y = 1,
			   .keyidx = 9, .picture_id = 0x1234, .tl0 = 77, .vp8_byte0 = 0x11 };
	uint8_t b[32], before[32];
	uint32_t dlen, len = build(b, &f, &dlen);
	struct vp8_desc d, d2;

	(void)state;
	assert_int_equal(vp8_parse(b, len, &d), MMR_DROP_NONE);
	memcpy(before, b, len);

	/* 15-bit: M kept, value masked to 15 bits */
	vp8_set_picture_id(b, &d, 0x7fff);
	assert_int_equal(vp8_parse(b, len, &d2), MMR_DROP_NONE);
	assert_int_equal(d2.picture_id_16, 1);
	assert_int_equal(d2.picture_id, 0x7fff);
	vp8_set_picture_id(b, &d, 0x8001);
	assert_int_equal(vp8_parse(b, len, &d2), MMR_DROP_NONE);
	assert_int_equal(d2.picture_id_16, 1);
	assert_int_equal(d2.picture_id, 1);
	vp8_set_tl0picidx(b, &d, 3);
	assert_int_equal(vp8_parse(b, len, &d2), MMR_DROP_NONE);
	assert_int_equal(d2.tl0picidx, 3);
	/* everything but the two fields is unchanged */
	assert_memory_equal(b, before, 2);
	assert_memory_equal(b + 5, before + 5, len - 5);
	assert_int_equal(d2.tid, 2);
	assert_int_equal(d2.layer_sync, 1);
	assert_int_equal(d2.keyidx, 9);

	/* 7-bit: stays 7-bit, value masked to 7 bits */
	f.m = 0;
	f.picture_id = 0x11;
	len = build(b, &f, &dlen);
	assert_int_equal(vp8_parse(b, len, &d), MMR_DROP_NONE);
	vp8_set_picture_id(b, &d, 0x1ff);
	assert_int_equal(vp8_parse(b, len, &d2), MMR_DROP_NONE);
	assert_int_equal(d2.picture_id_16, 0);
	assert_int_equal(d2.picture_id, 0x7f);
	assert_int_equal(d2.len, d.len);
	assert_int_equal(d2.tl0picidx, 77);

	/* no PictureID / no TL0PICIDX: the writers change nothing */
	f.i = 0;
	f.l = 0;
	len = build(b, &f, &dlen);
	memcpy(before, b, len);
	assert_int_equal(vp8_parse(b, len, &d), MMR_DROP_NONE);
	vp8_set_picture_id(b, &d, 0x1234);
	vp8_set_tl0picidx(b, &d, 1);
	assert_memory_equal(b, before, len);
}

/* A real packet: RTP header with one CSRC, then the descriptor; the offsets vp8_media gives
 * point at the fields in the whole packet. */
static void test_media_offsets_in_packet(void **state)
{
	uint8_t pkt[] = {
		0x81, 0xe0, 0x12, 0x34, 0, 0, 0x10, 0, 0xde, 0xad, 0xbe, 0xef,    /* V=2 CC=1 M=1 */
		1, 2, 3, 4,                                                          /* CSRC */
		0x90, 0xe0, 0x81, 0x23, 0x2a, 0x60,     /* X S; I L T; PictureID 0x0123; TL0 42; TID 1 Y */
		0x10, 0x02, 0x00,                       /* VP8 payload header: key frame */
	};
	struct vp8_desc d;
	struct media_pkt mp;
	struct rtp_info ri = { .marker = 1, .hdr_len = 16 };

	(void)state;
	assert_int_equal(vp8_parse(pkt + 16, sizeof(pkt) - 16, &d), MMR_DROP_NONE);
	vp8_media(&d, 16, &ri, &mp);
	assert_int_equal(mp.codec, MMR_CODEC_VP8);
	assert_int_equal(mp.desc_len, 6);
	assert_int_equal(mp.pid_off, 18);
	assert_int_equal(pkt[mp.pid_off], 0x81);
	assert_int_equal(pkt[mp.pid_off + 1], 0x23);
	assert_int_equal(mp.picture_id, 0x0123);
	assert_int_equal(mp.pid_16, 1);
	assert_int_equal(mp.tl0_off, 20);
	assert_int_equal(pkt[mp.tl0_off], 42);
	assert_int_equal(mp.tl0picidx, 42);
	assert_int_equal(mp.tid, 1);
	assert_int_equal(mp.switch_up, 1);
	assert_int_equal(mp.has_layers, 1);
	assert_int_equal(mp.keyframe, 1);
	assert_int_equal(mp.start, 1);
	assert_int_equal(mp.end, 1);
	/* no T: no layer information, TID 0 */
	pkt[17] = 0xc0;
	pkt[21] = 0x10;                         /* now the payload header */
	assert_int_equal(vp8_parse(pkt + 16, sizeof(pkt) - 16, &d), MMR_DROP_NONE);
	ri.marker = 0;
	vp8_media(&d, 16, &ri, &mp);
	assert_int_equal(mp.has_layers, 0);
	assert_int_equal(mp.tid, 0);
	assert_int_equal(mp.desc_len, 5);
	assert_int_equal(mp.end, 0);
}

static void test_random_garbage(void **state)
{
	uint8_t b[64];
	struct vp8_desc d;

	(void)state;
	rng_state = 777;
	for (int i = 0; i < 20000; i++) {
		uint32_t len = rnd() % 10;
		enum mmr_drop_reason r;

		for (uint32_t j = 0; j < len; j++)
			b[j] = (uint8_t)rnd();
		r = parse_exact(b, len, &d);
		assert_true(r == MMR_DROP_NONE || r == MMR_DROP_TRUNCATED || r == MMR_DROP_BAD_PAYLOAD);
		if (r == MMR_DROP_NONE) {
			assert_true(d.len >= 1 && d.len <= 6 && d.len < len);
			assert_true(d.picture_id_off < d.len && d.tl0picidx_off < d.len);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_flag_combination),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_keyframe_and_frame_start),
		cmocka_unit_test(test_reserved_bits_ignored),
		cmocka_unit_test(test_set_picture_id),
		cmocka_unit_test(test_media_offsets_in_packet),
		cmocka_unit_test(test_random_garbage),
	};

	return cmocka_run_group_tests_name("vp8", tests, NULL, NULL);
}
