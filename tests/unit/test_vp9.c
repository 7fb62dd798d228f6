/*
 * test_vp9.c - unit tests of the VP9 payload descriptor parser, writers and media_pkt translation
 * (lib/codec/vp9.c): every combination of the I, P, L, F, B, E, V, Z, M, U, D bits with several layer
 * ids, reference counts and scalability structures (with and without Y and G) is built, parsed and
 * compared field by field, and cut at every length; hand-written byte strings guard against the
 * builder and the parser sharing a mistake; the refused combinations; the in-place writers; and
 * vp9_media's keyframe rule and offsets from the RTP header.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vp9.h"
#include "unit_util.h"

struct flags {
	int i, p, l, f, b, e, v, z, m, u, d, sid, tid;
	uint16_t picture_id;
	uint8_t tl0;
	int n_refs;                 /* written when f && p */
	uint8_t p_diff[4];
	int ss_ns, ss_y, ss_g, ss_ng;   /* written when v: N_S (0..7), Y, G, N_G */
	int ss_reserved;            /* set the SS byte's reserved bits */
};

static const uint16_t widths[8] = { 160, 320, 640, 1280, 1920, 2560, 3840, 7680 };

/* Build a descriptor plus 3 payload bytes; returns the total length, *dlen the descriptor's. */
static uint32_t build(uint8_t *b, const struct flags *f, uint32_t *dlen)
{
	uint32_t off = 1;

	b[0] = (uint8_t)(f->i << 7 | f->p << 6 | f->l << 5 | f->f << 4 | f->b << 3 | f->e << 2 |
			 f->v << 1 | f->z);
	if (f->i) {
		if (f->m) {
			b[off++] = (uint8_t)(0x80 | (f->picture_id >> 8));
			b[off++] = (uint8_t)f->picture_id;
		} else {
			b[off++] = (uint8_t)(f->picture_id & 0x7f);
		}
	}
	if (f->l) {
		b[off++] = (uint8_t)(f->tid << 5 | f->u << 4 | f->sid << 1 | f->d);
		if (!f->f)
			b[off++] = f->tl0;
	}
	if (f->f && f->p)
		for (int r = 0; r < f->n_refs; r++)
			b[off++] = (uint8_t)(f->p_diff[r] << 1 | (r + 1 < f->n_refs));
	if (f->v) {
		b[off++] = (uint8_t)(f->ss_ns << 5 | f->ss_y << 4 | f->ss_g << 3 | (f->ss_reserved ? 7 : 0));
		if (f->ss_y)
			for (int s = 0; s <= f->ss_ns; s++) {
				b[off++] = (uint8_t)(widths[s] >> 8);
				b[off++] = (uint8_t)widths[s];
				b[off++] = (uint8_t)((widths[s] * 9 / 16) >> 8);
				b[off++] = (uint8_t)(widths[s] * 9 / 16);
			}
		if (f->ss_g) {
			b[off++] = (uint8_t)f->ss_ng;
			for (int g = 0; g < f->ss_ng; g++) {
				int r = g % 4;

				b[off++] = (uint8_t)((g % 8) << 5 | (g & 1) << 4 | r << 2);
				for (int k = 0; k < r; k++)
					b[off++] = (uint8_t)(k + 1);
			}
		}
	}
	*dlen = off;
	b[off++] = 0x83;
	b[off++] = 0x49;
	b[off++] = 0x83;
	return off;
}

/* Parse from an exactly sized heap copy, so that ASan sees any read past the end. */
static enum mmr_drop_reason parse_exact(const uint8_t *p, uint32_t len, struct vp9_desc *d)
{
	uint8_t *copy = heap_copy(p, len);
	enum mmr_drop_reason r;

	r = vp9_parse(copy, len, d);
	free(copy);
	return r;
}

/* Combinations the parser must refuse even when complete. */
static int refused(const struct flags *f)
{
	return f->l && f->sid == 0 && f->d;
}

static void check_fields(const struct flags *f, const struct vp9_desc *d, uint32_t dlen)
{
	assert_int_equal(d->len, dlen);
	assert_int_equal(d->i, f->i);
	assert_int_equal(d->p, f->p);
	assert_int_equal(d->l, f->l);
	assert_int_equal(d->f, f->f);
	assert_int_equal(d->b, f->b);
	assert_int_equal(d->e, f->e);
	assert_int_equal(d->v, f->v);
	assert_int_equal(d->z, f->z);
	if (f->i) {
		assert_int_equal(d->pid_off, 1);
		assert_int_equal(d->pid_16, f->m);
		assert_int_equal(d->picture_id, f->m ? f->picture_id & 0x7fff : f->picture_id & 0x7f);
	} else {
		assert_int_equal(d->pid_off, 0);
		assert_int_equal(d->pid_16, 0);
		assert_int_equal(d->picture_id, 0);
	}
	assert_int_equal(d->tid, f->l ? f->tid : 0);
	assert_int_equal(d->u, f->l ? f->u : 0);
	assert_int_equal(d->sid, f->l ? f->sid : 0);
	assert_int_equal(d->d, f->l ? f->d : 0);
	if (f->l && !f->f) {
		assert_int_equal(d->has_tl0, 1);
		assert_int_equal(d->tl0_off, 1 + (f->i ? 1 + f->m : 0) + 1);
		assert_int_equal(d->tl0picidx, f->tl0);
	} else {
		assert_int_equal(d->has_tl0, 0);
		assert_int_equal(d->tl0_off, 0);
		assert_int_equal(d->tl0picidx, 0);
	}
	if (f->f && f->p) {
		assert_int_equal(d->n_refs, f->n_refs);
		for (int r = 0; r < f->n_refs; r++)
			assert_int_equal(d->p_diff[r], f->p_diff[r]);
	} else {
		assert_int_equal(d->n_refs, 0);
	}
	if (f->v) {
		assert_int_equal(d->ss_n_spatial, f->ss_ns + 1);
		assert_int_equal(d->ss_has_res, f->ss_y);
		assert_int_equal(d->ss_has_pg, f->ss_g);
		assert_int_equal(d->ss_n_g, f->ss_g ? f->ss_ng : 0);
		for (int s = 0; s < 8; s++) {
			int set = f->ss_y && s <= f->ss_ns;

			assert_int_equal(d->ss_width[s], set ? widths[s] : 0);
			assert_int_equal(d->ss_height[s], set ? widths[s] * 9 / 16 : 0);
		}
	} else {
		assert_int_equal(d->ss_n_spatial, 0);
		assert_int_equal(d->ss_n_g, 0);
	}
}

static void check_media(const struct flags *f, const struct vp9_desc *d, uint16_t hdr)
{
	struct media_pkt mp;
	struct rtp_info ri = { .marker = 1, .hdr_len = hdr };

	memset(&mp, 0xa5, sizeof(mp));          /* vp9_media must clear what it does not set */
	vp9_media(d, hdr, &ri, &mp);
	assert_int_equal(mp.codec, MMR_CODEC_VP9);
	assert_int_equal(mp.encoding, 0);
	assert_int_equal(mp.start, f->b);
	assert_int_equal(mp.end, f->e);          /* E, not the marker */
	assert_int_equal(mp.has_layers, f->l);
	assert_int_equal(mp.sid, f->l ? f->sid : 0);
	assert_int_equal(mp.tid, f->l ? f->tid : 0);
	assert_int_equal(mp.switch_up, f->l ? f->u : 0);
	assert_int_equal(mp.inter_pic, f->p);
	assert_int_equal(mp.inter_layer, f->l ? f->d : 0);
	assert_int_equal(mp.not_ref_up, f->z);
	assert_int_equal(mp.keyframe, !f->p && (!f->l || (f->sid == 0 && !f->d)));
	assert_int_equal(mp.desc_len, d->len);
	assert_int_equal(mp.has_pid, f->i);
	assert_int_equal(mp.pid_16, f->i && f->m);
	assert_int_equal(mp.pid_off, f->i ? hdr + 1 : 0);
	assert_int_equal(mp.picture_id, d->picture_id);
	assert_int_equal(mp.has_tl0, f->l && !f->f);
	assert_int_equal(mp.tl0_off, f->l && !f->f ? hdr + d->tl0_off : 0);
	assert_int_equal(mp.tl0picidx, f->l && !f->f ? f->tl0 : 0);
	assert_int_equal(mp.dd_off, 0);
	assert_int_equal(mp.dd_len, 0);
	assert_int_equal(mp.n_fdiffs, 0);
	assert_int_equal(mp.dtis, 0);
}

/* SS variants: none; N_S only; Y; G with a few groups; Y and G, 8 layers, 255 groups. */
static const struct { int ns, y, g, ng; } ss_variants[] = {
	{ 2, 0, 0, 0 }, { 2, 1, 0, 0 }, { 1, 0, 1, 4 }, { 0, 1, 1, 0 }, { 7, 1, 1, 255 },
};

static unsigned walk(void (*fn)(const struct flags *f))
{
	static const int sids[] = { 0, 1, 2 }, tids[] = { 0, 2, 7 };
	unsigned count = 0;

	for (int bits = 0; bits < 256; bits++)           /* I P L F B E V Z */
	for (int m = 0; m < 2; m++)
	for (int ud = 0; ud < 4; ud++)
	for (int si = 0; si < 3; si++)
	for (int ti = 0; ti < 3; ti++)
	for (int nr = 1; nr <= 3; nr++)
	for (int sv = 0; sv < 5; sv++) {
		struct flags f = {
			.i = bits >> 7 & 1, .p = bits >> 6 & 1, .l = bits >> 5 & 1, .f = bits >> 4 & 1,
			.b = bits >> 3 & 1, .e = bits >> 2 & 1, .v = bits >> 1 & 1, .z = bits & 1,
			.m = m, .u = ud >> 1, .d = ud & 1, .sid = sids[si], .tid = tids[ti],
			.picture_id = (uint16_t)(m ? 0x7abc - bits : 0x55 + ti),
			.tl0 = (uint8_t)(200 + bits), .n_refs = nr,
			.p_diff = { (uint8_t)(1 + si), 127, (uint8_t)(3 + ti) },
			.ss_ns = ss_variants[sv].ns, .ss_y = ss_variants[sv].y,
			.ss_g = ss_variants[sv].g, .ss_ng = ss_variants[sv].ng,
		};

		/* skip repeats of what the flags do not write */
		if ((!f.i && m) || (!(f.f && f.p) && nr > 1) || (!f.v && sv > 0))
			continue;
		if (!f.l && (ud || si || ti))
			continue;
		if (f.v && f.l && f.sid > f.ss_ns)  /* the SID must be one of the SS's layers */
			f.ss_ns = f.sid;
		fn(&f);
		count++;
	}
	return count;
}

static void one_combination(const struct flags *f)
{
	uint8_t b[1400];
	uint32_t dlen, len = build(b, f, &dlen);
	struct vp9_desc d;

	if (refused(f)) {
		assert_int_equal(parse_exact(b, len, &d), MMR_DROP_BAD_PAYLOAD);
		return;
	}
	assert_int_equal(parse_exact(b, len, &d), MMR_DROP_NONE);
	check_fields(f, &d, dlen);
	check_media(f, &d, 12);
	check_media(f, &d, 40);
}

static void test_every_combination(void **state)
{
	(void)state;
	assert_true(walk(one_combination) > 10000);
}

static void one_truncation(const struct flags *f)
{
	uint8_t b[1400];
	uint32_t dlen, len = build(b, f, &dlen);
	struct vp9_desc d;

	(void)len;
	if (f->v && f->ss_ng == 255 && (f->b || f->e || f->z))
		return;                 /* the long SS: cut once per flag set, not eight times */
	for (uint32_t l = 0; l < dlen; l++)
		assert_int_equal(parse_exact(b, l, &d), MMR_DROP_TRUNCATED);
	/* a descriptor with no payload byte after it */
	assert_int_equal(parse_exact(b, dlen, &d), MMR_DROP_BAD_PAYLOAD);
	assert_int_equal(parse_exact(b, dlen + 1, &d), refused(f) ? MMR_DROP_BAD_PAYLOAD : MMR_DROP_NONE);
	if (!refused(f))
		check_fields(f, &d, dlen);
}

static void test_every_truncation(void **state)
{
	(void)state;
	walk(one_truncation);
}

/* A key picture as libwebrtc sends one in non-flexible mode: 3 spatial layers with resolutions,
 * a 4-picture group. Written out by hand from the RFC's figures. */
static void test_known_bytes_non_flexible(void **state)
{
	const uint8_t b[] = {
		0xaa,                   /* I=1 P=0 L=1 F=0 B=1 E=0 V=1 Z=0 */
		0x92, 0x34,             /* M=1 PictureID 0x1234 */
		0x00,                   /* TID 0 U 0 SID 0 D 0 */
		0x05,                   /* TL0PICIDX */
		0x58,                   /* N_S=2 Y=1 G=1 */
		0x01, 0x40, 0x00, 0xb4, 0x02, 0x80, 0x01, 0x68, 0x05, 0x00, 0x02, 0xd0,
		0x04,                   /* N_G */
		0x04, 0x04,             /* TID 0 U 0 R 1, P_DIFF 4 */
		0x54, 0x01,             /* TID 2 U 1 R 1 */
		0x34, 0x02,             /* TID 1 U 1 R 1 */
		0x54, 0x01,
		0x82, 0x49, 0x83,       /* VP9 payload */
	};
	struct vp9_desc d;
	struct media_pkt mp;
	struct rtp_info ri = { .marker = 0 };

	(void)state;
	assert_int_equal(parse_exact(b, sizeof(b), &d), MMR_DROP_NONE);
	assert_int_equal(d.len, sizeof(b) - 3);
	assert_int_equal(d.picture_id, 0x1234);
	assert_int_equal(d.pid_16, 1);
	assert_int_equal(d.tl0picidx, 5);
	assert_int_equal(d.tl0_off, 4);
	assert_int_equal(d.ss_n_spatial, 3);
	assert_int_equal(d.ss_width[0], 320);
	assert_int_equal(d.ss_height[0], 180);
	assert_int_equal(d.ss_width[2], 1280);
	assert_int_equal(d.ss_height[2], 720);
	assert_int_equal(d.ss_n_g, 4);
	vp9_media(&d, 12, &ri, &mp);
	assert_int_equal(mp.keyframe, 1);
	assert_int_equal(mp.start, 1);
	assert_int_equal(mp.end, 0);
	assert_int_equal(mp.pid_off, 13);
	assert_int_equal(mp.tl0_off, 16);
	assert_int_equal(mp.desc_len, sizeof(b) - 3);
	/* a spatial layer 1 frame of the same picture, predicted from layer 0: not a keyframe */
	const uint8_t c[] = { 0xa4, 0x92, 0x34, 0x03, 0x05, 0x00 };
	assert_int_equal(parse_exact(c, sizeof(c), &d), MMR_DROP_NONE);
	vp9_media(&d, 12, &ri, &mp);
	assert_int_equal(mp.sid, 1);
	assert_int_equal(mp.inter_layer, 1);
	assert_int_equal(mp.keyframe, 0);
	assert_int_equal(mp.end, 1);
	/* layer 1 of a key picture without inter-layer prediction: still not a keyframe (SID 1) */
	const uint8_t e[] = { 0xa4, 0x92, 0x34, 0x02, 0x05, 0x00 };
	assert_int_equal(parse_exact(e, sizeof(e), &d), MMR_DROP_NONE);
	vp9_media(&d, 12, &ri, &mp);
	assert_int_equal(mp.keyframe, 0);
}

static void test_known_bytes_flexible(void **state)
{
	const uint8_t b[] = {
		0xf8,                   /* I=1 P=1 L=1 F=1 B=1 E=0 V=0 Z=0 */
		0x33,                   /* 7-bit PictureID 0x33 */
		0x33,                   /* TID 1 U 1 SID 1 D 1 (no TL0PICIDX in flexible mode) */
		0x03, 0x04,             /* P_DIFF 1 N=1, P_DIFF 2 N=0 */
		0x00,
	};
	struct vp9_desc d;
	struct media_pkt mp;
	struct rtp_info ri = { .marker = 1 };

	(void)state;
	assert_int_equal(parse_exact(b, sizeof(b), &d), MMR_DROP_NONE);
	assert_int_equal(d.len, 5);
	assert_int_equal(d.picture_id, 0x33);
	assert_int_equal(d.tid, 1);
	assert_int_equal(d.u, 1);
	assert_int_equal(d.sid, 1);
	assert_int_equal(d.d, 1);
	assert_int_equal(d.has_tl0, 0);
	assert_int_equal(d.n_refs, 2);
	assert_int_equal(d.p_diff[0], 1);
	assert_int_equal(d.p_diff[1], 2);
	vp9_media(&d, 20, &ri, &mp);
	assert_int_equal(mp.pid_off, 21);
	assert_int_equal(mp.pid_16, 0);
	assert_int_equal(mp.tl0_off, 0);
	assert_int_equal(mp.has_tl0, 0);
	assert_int_equal(mp.end, 0);
	assert_int_equal(mp.keyframe, 0);
	assert_int_equal(mp.switch_up, 1);
	/* minimal descriptor: no flags, one payload byte; a keyframe with no layer information */
	const uint8_t c[] = { 0x0c, 0x00 };
	assert_int_equal(parse_exact(c, sizeof(c), &d), MMR_DROP_NONE);
	vp9_media(&d, 12, &ri, &mp);
	assert_int_equal(mp.desc_len, 1);
	assert_int_equal(mp.keyframe, 1);
	assert_int_equal(mp.has_layers, 0);
	assert_int_equal(mp.has_pid, 0);
	assert_int_equal(mp.pid_off, 0);
	assert_int_equal(mp.start, 1);
	assert_int_equal(mp.end, 1);
}

static void test_bad_combinations(void **state)
{
	struct vp9_desc d;

	(void)state;
	/* four P_DIFFs (the third says another follows) */
	const uint8_t four[] = { 0xd0, 0x01, 0x03, 0x05, 0x07, 0x08, 0x00 };
	assert_int_equal(parse_exact(four, sizeof(four), &d), MMR_DROP_BAD_PAYLOAD);
	/* three are fine */
	const uint8_t three[] = { 0xd0, 0x01, 0x03, 0x05, 0x06, 0x00 };
	assert_int_equal(parse_exact(three, sizeof(three), &d), MMR_DROP_NONE);
	assert_int_equal(d.n_refs, 3);
	assert_int_equal(d.p_diff[2], 3);
	/* a P_DIFF of 0 references the picture itself; also as a later one */
	const uint8_t zero[] = { 0xd0, 0x01, 0x00, 0x00 };
	assert_int_equal(parse_exact(zero, sizeof(zero), &d), MMR_DROP_BAD_PAYLOAD);
	const uint8_t zero2[] = { 0xd0, 0x01, 0x03, 0x01, 0x00 };
	assert_int_equal(parse_exact(zero2, sizeof(zero2), &d), MMR_DROP_BAD_PAYLOAD);
	/* F=1 P=1: the reference list ends with N=1 at the end of the packet */
	const uint8_t open_n[] = { 0xd0, 0x01, 0x03 };
	assert_int_equal(parse_exact(open_n, sizeof(open_n), &d), MMR_DROP_TRUNCATED);
	/* F=1 P=0: no P_DIFF is read, the next byte is payload */
	const uint8_t no_ref[] = { 0x90, 0x01, 0x00 };
	assert_int_equal(parse_exact(no_ref, sizeof(no_ref), &d), MMR_DROP_NONE);
	assert_int_equal(d.n_refs, 0);
	assert_int_equal(d.len, 2);
	/* F=0 P=1: no P_DIFF either */
	const uint8_t nf[] = { 0xc0, 0x01, 0x00 };
	assert_int_equal(parse_exact(nf, sizeof(nf), &d), MMR_DROP_NONE);
	assert_int_equal(d.n_refs, 0);
	/* D=1 at SID 0 */
	const uint8_t d0[] = { 0xa0, 0x01, 0x01, 0x07, 0x00 };
	assert_int_equal(parse_exact(d0, sizeof(d0), &d), MMR_DROP_BAD_PAYLOAD);
	/* SID 2 while the packet's own SS has 2 layers (N_S=1) */
	const uint8_t sid[] = { 0xaa, 0x01, 0x04, 0x07, 0x20, 0x00 };
	assert_int_equal(parse_exact(sid, sizeof(sid), &d), MMR_DROP_BAD_PAYLOAD);
	const uint8_t sid_ok[] = { 0xaa, 0x01, 0x02, 0x07, 0x20, 0x00 };
	assert_int_equal(parse_exact(sid_ok, sizeof(sid_ok), &d), MMR_DROP_NONE);
	assert_int_equal(d.sid, 1);
	assert_int_equal(d.ss_n_spatial, 2);
	/* no payload after a full descriptor */
	const uint8_t none[] = { 0x88, 0x05 };
	assert_int_equal(parse_exact(none, sizeof(none), &d), MMR_DROP_BAD_PAYLOAD);
	assert_int_equal(parse_exact(none, 0, &d), MMR_DROP_TRUNCATED);
	/* SS reserved bits are ignored */
	struct flags f = { .v = 1, .b = 1, .ss_ns = 1, .ss_y = 1, .ss_g = 1, .ss_ng = 3, .ss_reserved = 1 };
	uint8_t b[200];
	uint32_t dlen, len = build(b, &f, &dlen);
	assert_int_equal(parse_exact(b, len, &d), MMR_DROP_NONE);
	check_fields(&f, &d, dlen);
	/* a G picture group entry whose P_DIFFs run past the end */
	const uint8_t pg[] = { 0x02, 0x08, 0x01, 0x0c, 0x01, 0x02 };
	assert_int_equal(parse_exact(pg, sizeof(pg), &d), MMR_DROP_TRUNCATED);
}

static void test_setters(void **state)
{
	struct flags f = { .i = 1, .m = 1, .l = 1, .p = 1, .b = 1, .tid = 2, .u = 1, .sid = 1, .d = 1,
			   .picture_id = 0x1234, .tl0 = 77, .v = 1, .ss_ns = 2, .ss_y = 1 };
	uint8_t b[200], before[200];
	uint32_t dlen, len = build(b, &f, &dlen);
	struct vp9_desc d, d2;

	(void)state;
	assert_int_equal(vp9_parse(b, len, &d), MMR_DROP_NONE);
	memcpy(before, b, len);
	vp9_set_picture_id(b, &d, 0x7fff);
	assert_int_equal(vp9_parse(b, len, &d2), MMR_DROP_NONE);
	assert_int_equal(d2.pid_16, 1);
	assert_int_equal(d2.picture_id, 0x7fff);
	vp9_set_picture_id(b, &d, 0x8001);           /* masked to 15 bits, M kept */
	assert_int_equal(vp9_parse(b, len, &d2), MMR_DROP_NONE);
	assert_int_equal(d2.pid_16, 1);
	assert_int_equal(d2.picture_id, 1);
	vp9_set_tl0picidx(b, &d, 3);
	assert_int_equal(vp9_parse(b, len, &d2), MMR_DROP_NONE);
	assert_int_equal(d2.tl0picidx, 3);
	/* only bytes 1-2 (PictureID) and 4 (TL0PICIDX) changed */
	assert_memory_equal(b, before, 1);
	assert_memory_equal(b + 3, before + 3, 1);
	assert_memory_equal(b + 5, before + 5, len - 5);
	check_fields(&f, &d, dlen);                  /* d itself is untouched */

	/* 7-bit stays 7-bit */
	f.m = 0;
	f.picture_id = 0x11;
	len = build(b, &f, &dlen);
	assert_int_equal(vp9_parse(b, len, &d), MMR_DROP_NONE);
	vp9_set_picture_id(b, &d, 0x1ff);
	assert_int_equal(vp9_parse(b, len, &d2), MMR_DROP_NONE);
	assert_int_equal(d2.pid_16, 0);
	assert_int_equal(d2.picture_id, 0x7f);
	assert_int_equal(d2.len, d.len);
	assert_int_equal(d2.tl0picidx, 77);

	/* flexible mode (no TL0PICIDX) and no PictureID: the writers change nothing */
	f.i = 0;
	f.f = 1;
	f.n_refs = 1;
	f.p_diff[0] = 5;
	len = build(b, &f, &dlen);
	memcpy(before, b, len);
	assert_int_equal(vp9_parse(b, len, &d), MMR_DROP_NONE);
	vp9_set_picture_id(b, &d, 0x1234);
	vp9_set_tl0picidx(b, &d, 1);
	assert_memory_equal(b, before, len);
}

static void test_random_garbage(void **state)
{
	uint8_t b[64];
	struct vp9_desc d;
	struct media_pkt mp;
	struct rtp_info ri = { 0 };

	(void)state;
	rng_state = 4242;
	for (int i = 0; i < 20000; i++) {
		uint32_t len = rnd() % 40;
		enum mmr_drop_reason r;

		for (uint32_t j = 0; j < len; j++)
			b[j] = (uint8_t)rnd();
		r = parse_exact(b, len, &d);
		assert_true(r == MMR_DROP_NONE || r == MMR_DROP_TRUNCATED || r == MMR_DROP_BAD_PAYLOAD);
		if (r == MMR_DROP_NONE) {
			assert_true(d.len >= 1 && d.len < len);
			assert_true(d.pid_off + (d.pid_16 ? 1u : 0u) < d.len && d.tl0_off < d.len);
			assert_true(d.n_refs <= VP9_MAX_REFS);
			vp9_media(&d, 12, &ri, &mp);
			assert_true(mp.desc_len == d.len);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_combination),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_known_bytes_non_flexible),
		cmocka_unit_test(test_known_bytes_flexible),
		cmocka_unit_test(test_bad_combinations),
		cmocka_unit_test(test_setters),
		cmocka_unit_test(test_random_garbage),
	};

	return cmocka_run_group_tests_name("vp9", tests, NULL, NULL);
}
