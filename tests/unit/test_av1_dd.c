/*
 * test_av1_dd.c - unit tests of the AV1 Dependency Descriptor parser and writers (lib/codec/av1_dd.c).
 * Descriptors are written bit by bit here (a small bit writer, ns() as the spec serializes it)
 * from test-side descriptions of L1T3, L3T3 (9 decode targets, 3 chains, resolutions) and a
 * K-SVC-like L2T2 structure whose template ids wrap; then: mandatory-only packets against the
 * stored structure, custom DTIs/fdiffs/chains, every truncation of a long descriptor, template
 * ids outside the structure, malformed structures leaving the state exactly as it was, limits
 * (64 templates, spatial 3, temporal 7, 16 fdiffs, fdiff 255), active decode target persistence
 * and rewrite, frame number rewrite, and random descriptors. Descriptors are parsed from heap
 * buffers of their exact length so that ASan catches over-reads.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "av1_dd.h"
#include "unit_util.h"

/* ---- bit writer ---- */

struct bw {
	uint8_t b[512];
	unsigned pos;
};

static void put(struct bw *w, unsigned n, uint32_t v)
{
	while (n--) {
		if (v >> n & 1)
			w->b[w->pos >> 3] |= (uint8_t)(0x80 >> (w->pos & 7));
		w->pos++;
	}
}

/* write_ns(n, v) of the spec */
static void put_ns(struct bw *w, uint32_t n, uint32_t v)
{
	unsigned bits = 0;
	uint32_t x = n, m;

	if (n == 1)
		return;
	while (x) {
		x >>= 1;
		bits++;
	}
	m = (1u << bits) - n;
	if (v < m)
		put(w, bits - 1, v);
	else
		put(w, bits, v + m);
}

/* ---- test-side structures and frames ---- */

#define TMAX 70

struct ts {
	unsigned offset, n_dts, n_tpl, n_chains;
	uint8_t sid[TMAX], tid[TMAX];
	const char *dti[TMAX];          /* one char per decode target: - D S R */
	uint8_t n_fd[TMAX], fd[TMAX][20];
	uint8_t dt_chain[32];
	uint8_t chain[TMAX][32];
	int res;
	uint16_t w[4], h[4];
};

static unsigned dti_val(char c)
{
	switch (c) {
	case 'D': return AV1_DTI_DISCARDABLE;
	case 'S': return AV1_DTI_SWITCH;
	case 'R': return AV1_DTI_REQUIRED;
	default: return AV1_DTI_NOT_PRESENT;
	}
}

static uint64_t dtis_of(const char *s, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)dti_val(s[i]) << (2 * i);
	return v;
}

static void put_structure(struct bw *w, const struct ts *s)
{
	unsigned max_sid = 0;

	put(w, 6, s->offset);
	put(w, 5, s->n_dts - 1);
	for (unsigned i = 0; i < s->n_tpl; i++) {
		unsigned idc = 3;

		if (i + 1 == s->n_tpl)
			idc = 3;
		else if (s->sid[i + 1] == s->sid[i] && s->tid[i + 1] == s->tid[i])
			idc = 0;
		else if (s->sid[i + 1] == s->sid[i] && s->tid[i + 1] == s->tid[i] + 1)
			idc = 1;
		else if (s->sid[i + 1] == s->sid[i] + 1 && s->tid[i + 1] == 0)
			idc = 2;
		else
			fail_msg("test structure: template %u does not follow %u", i + 1, i);
		put(w, 2, idc);
		if (s->sid[i] > max_sid)
			max_sid = s->sid[i];
	}
	for (unsigned i = 0; i < s->n_tpl; i++)
		for (unsigned dt = 0; dt < s->n_dts; dt++)
			put(w, 2, dti_val(s->dti[i][dt]));
	for (unsigned i = 0; i < s->n_tpl; i++) {
		for (unsigned k = 0; k < s->n_fd[i]; k++) {
			put(w, 1, 1);
			put(w, 4, s->fd[i][k] - 1u);
		}
		put(w, 1, 0);
	}
	put_ns(w, s->n_dts + 1, s->n_chains);
	if (s->n_chains) {
		for (unsigned dt = 0; dt < s->n_dts; dt++)
			put_ns(w, s->n_chains, s->dt_chain[dt]);
		for (unsigned i = 0; i < s->n_tpl; i++)
			for (unsigned c = 0; c < s->n_chains; c++)
				put(w, 4, s->chain[i][c]);
	}
	put(w, 1, s->res ? 1 : 0);
	if (s->res)
		for (unsigned sid = 0; sid <= max_sid; sid++) {
			put(w, 16, s->w[sid] - 1u);
			put(w, 16, s->h[sid] - 1u);
		}
}

struct tf {
	int s, e;
	unsigned id;
	uint16_t fn;
	int ext;                        /* write the extended fields even if nothing below is set */
	const struct ts *attach;        /* structure to attach */
	int act;
	uint32_t mask;
	const char *cdti;               /* custom DTIs */
	int cfd;                        /* custom fdiffs flag */
	unsigned n_cfd;
	uint32_t cfd_val[24];
	uint8_t cfd_size[24];           /* 1..3 nibbles; 0: the smallest that fits */
	int cch;
	uint8_t cchain[32];
	unsigned pad;                   /* extra zero bytes at the end */
};

/* Write descriptor f; `use` is the structure in force for it (DtCnt, chain count). Returns its
 * length; *bits the bits that matter (without zero padding). */
static uint32_t put_dd(uint8_t *out, const struct tf *f, const struct ts *use, unsigned *bits)
{
	struct bw w;
	int ext = f->ext || f->attach || f->act || f->cdti || f->cfd || f->cch;
	uint32_t len;

	memset(&w, 0, sizeof(w));
	if (f->attach)
		use = f->attach;
	put(&w, 1, f->s);
	put(&w, 1, f->e);
	put(&w, 6, f->id);
	put(&w, 16, f->fn);
	if (ext) {
		put(&w, 1, f->attach != NULL);
		put(&w, 1, f->act);
		put(&w, 1, f->cdti != NULL);
		put(&w, 1, f->cfd);
		put(&w, 1, f->cch);
		if (f->attach)
			put_structure(&w, f->attach);
		if (f->act)
			put(&w, use->n_dts, f->mask);
		if (f->cdti)
			for (unsigned dt = 0; dt < use->n_dts; dt++)
				put(&w, 2, dti_val(f->cdti[dt]));
		if (f->cfd) {
			for (unsigned k = 0; k < f->n_cfd; k++) {
				unsigned sz = f->cfd_size[k];
				uint32_t v = f->cfd_val[k] - 1;

				if (!sz)
					sz = v < 16 ? 1 : v < 256 ? 2 : 3;
				put(&w, 2, sz);
				put(&w, 4 * sz, v);
			}
			put(&w, 2, 0);
		}
		if (f->cch)
			for (unsigned c = 0; c < use->n_chains; c++)
				put(&w, 8, f->cchain[c]);
	}
	if (bits)
		*bits = w.pos;
	len = (w.pos + 7) / 8 + f->pad;
	assert_true(len <= sizeof(w.b));
	memcpy(out, w.b, len);
	return len;
}

static enum mmr_drop_reason parse_exact(const uint8_t *dd, uint32_t len, struct av1_dd_structure *st,
					struct media_pkt *mp)
{
	uint8_t *copy = heap_copy(dd, len);
	enum mmr_drop_reason r;

	r = av1_dd_parse(copy, len, 40, st, mp);
	free(copy);
	return r;
}

static void init_mp(struct media_pkt *mp)
{
	memset(mp, 0xa5, sizeof(*mp));
}

/* The frame's fields must be template idx's of s. */
static void check_tpl(const struct media_pkt *mp, const struct ts *s, unsigned idx)
{
	assert_int_equal(mp->sid, s->sid[idx]);
	assert_int_equal(mp->tid, s->tid[idx]);
	assert_int_equal(mp->has_layers, 1);
	assert_int_equal(mp->n_fdiffs, s->n_fd[idx]);
	for (unsigned k = 0; k < AV1_MAX_FDIFFS; k++)
		assert_int_equal(mp->fdiff[k], k < s->n_fd[idx] ? s->fd[idx][k] : 0);
	assert_true(mp->dtis == dtis_of(s->dti[idx], s->n_dts));
	assert_int_equal(mp->n_dts, s->n_dts);
	assert_int_equal(mp->n_chains, s->n_chains);
	for (unsigned c = 0; c < AV1_MAX_CHAINS; c++)
		assert_int_equal(mp->chain_fdiff[c], c < s->n_chains ? s->chain[idx][c] : 0);
	for (unsigned dt = 0; dt < AV1_MAX_DT; dt++)
		assert_int_equal(mp->dt_chain[dt], s->n_chains && dt < s->n_dts ? s->dt_chain[dt] : 0);
}

/* The stored structure must be s. */
static void check_structure(const struct av1_dd_structure *st, const struct ts *s)
{
	unsigned max_sid = 0, max_tid = 0;

	assert_int_equal(st->valid, 1);
	assert_int_equal(st->template_id_offset, s->offset);
	assert_int_equal(st->n_templates, s->n_tpl);
	assert_int_equal(st->n_dts, s->n_dts);
	assert_int_equal(st->n_chains, s->n_chains);
	for (unsigned i = 0; i < s->n_tpl; i++) {
		const struct av1_dd_template *t = &st->tpl[i];

		assert_int_equal(t->sid, s->sid[i]);
		assert_int_equal(t->tid, s->tid[i]);
		assert_true(t->dtis == dtis_of(s->dti[i], s->n_dts));
		assert_int_equal(t->n_fdiffs, s->n_fd[i]);
		assert_memory_equal(t->fdiff, s->fd[i], s->n_fd[i]);
		for (unsigned c = 0; c < s->n_chains; c++)
			assert_int_equal(t->chain_fdiff[c], s->chain[i][c]);
		if (s->sid[i] > max_sid)
			max_sid = s->sid[i];
		if (s->tid[i] > max_tid)
			max_tid = s->tid[i];
	}
	assert_int_equal(st->max_sid, max_sid);
	assert_int_equal(st->max_tid, max_tid);
	for (unsigned dt = 0; dt < s->n_dts; dt++)
		assert_int_equal(st->dt_chain[dt], s->n_chains ? s->dt_chain[dt] : 0);
	assert_int_equal(st->has_resolutions, !!s->res);
	for (unsigned sid = 0; sid <= AV1_DD_MAX_SPATIAL; sid++) {
		assert_int_equal(st->width[sid], s->res && sid <= max_sid ? s->w[sid] : 0);
		assert_int_equal(st->height[sid], s->res && sid <= max_sid ? s->h[sid] : 0);
	}
}

/* ---- the structures ---- */

/* L1T3 (spec example A.6.1 shape): DT 0 = 30 fps, 1 = 15 fps, 2 = 7.5 fps; one chain on T0. */
static const struct ts l1t3 = {
	.offset = 1, .n_dts = 3, .n_tpl = 5, .n_chains = 1,
	.sid = { 0, 0, 0, 0, 0 }, .tid = { 0, 0, 1, 2, 2 },
	.dti = { "SSS", "SSS", "SD-", "D--", "D--" },
	.n_fd = { 0, 1, 1, 1, 1 }, .fd = { {0}, {4}, {2}, {1}, {1} },
	.dt_chain = { 0, 0, 0 },
	.chain = { {0}, {4}, {2}, {1}, {3} },
};

/* L3T3 full SVC: DT s*3+t, chain s protects spatial layer s; resolutions sent. */
static const struct ts l3t3 = {
	.offset = 0, .n_dts = 9, .n_tpl = 12, .n_chains = 3,
	.sid = { 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2 },
	.tid = { 0, 0, 1, 2, 0, 0, 1, 2, 0, 0, 1, 2 },
	.dti = { "SSSSSSSSS", "SSSRRRRRR", "-DS-RR-RR", "--D--D--D",
		 "---SSSSSS", "---SSSRRR", "----DS-RR", "-----D--D",
		 "------SSS", "------SSS", "-------DS", "--------D" },
	.n_fd = { 0, 1, 1, 1, 1, 2, 2, 2, 1, 2, 2, 2 },
	.fd = { {0}, {4}, {2}, {1}, {1}, {4, 1}, {2, 1}, {1, 1}, {1}, {4, 1}, {2, 1}, {1, 1} },
	.dt_chain = { 0, 0, 0, 1, 1, 1, 2, 2, 2 },
	.chain = { {0, 0, 0}, {4, 3, 2}, {2, 1, 4}, {1, 4, 3}, {1, 1, 1}, {5, 1, 3}, {3, 2, 1},
		   {2, 1, 4}, {2, 1, 1}, {6, 2, 1}, {4, 3, 2}, {3, 2, 1} },
	.res = 1, .w = { 320, 640, 1280 }, .h = { 180, 360, 720 },
};

/* K-SVC-like L2T2: spatial layers depend on each other only in the key frame; DT s*2+t; the
 * template ids wrap (62, 63, 0, ...). */
static const struct ts l2t2_key = {
	.offset = 62, .n_dts = 4, .n_tpl = 6, .n_chains = 2,
	.sid = { 0, 0, 0, 1, 1, 1 }, .tid = { 0, 0, 1, 0, 0, 1 },
	.dti = { "SSSS", "SS--", "-D--", "--SS", "--SS", "---D" },
	.n_fd = { 0, 1, 1, 1, 1, 1 }, .fd = { {0}, {2}, {1}, {1}, {2}, {1} },
	.dt_chain = { 0, 0, 1, 1 },
	.chain = { {0, 0}, {2, 1}, {1, 2}, {1, 1}, {3, 2}, {2, 1} },
	.res = 1, .w = { 640, 1280 }, .h = { 360, 720 },
};

/* Attach structure s with a key frame (template 0), then send a mandatory-only packet for every
 * template and check each against s. */
static void run_structure(const struct ts *s)
{
	struct av1_dd_structure st;
	struct media_pkt mp;
	uint8_t dd[512];
	struct tf key = { .s = 1, .e = 0, .id = s->offset, .fn = 1000, .attach = s };
	uint32_t len = put_dd(dd, &key, NULL, NULL);

	memset(&st, 0, sizeof(st));
	init_mp(&mp);
	assert_int_equal(parse_exact(dd, len, &st, &mp), MMR_DROP_NONE);
	check_structure(&st, s);
	check_tpl(&mp, s, 0);
	assert_int_equal(mp.start, 1);
	assert_int_equal(mp.end, 0);
	assert_int_equal(mp.keyframe, 1);
	assert_int_equal(mp.structure_attached, 1);
	assert_int_equal(mp.frame_number, 1000);
	assert_int_equal(mp.template_id, s->offset);
	assert_int_equal(mp.dd_off, 40);
	assert_int_equal(mp.dd_len, len);
	assert_int_equal(mp.active_dts, s->n_dts == 32 ? 0xffffffffu : (1u << s->n_dts) - 1);
	assert_int_equal(st.active_dts, mp.active_dts);

	for (unsigned i = 0; i < s->n_tpl; i++) {
		struct tf f = { .s = !(i & 1), .e = i & 1, .id = (s->offset + i) % 64,
				.fn = (uint16_t)(65530 + i) };

		len = put_dd(dd, &f, s, NULL);
		assert_int_equal(len, 3);
		init_mp(&mp);
		assert_int_equal(parse_exact(dd, len, &st, &mp), MMR_DROP_NONE);
		check_tpl(&mp, s, i);
		assert_int_equal(mp.start, !(i & 1));
		assert_int_equal(mp.end, i & 1);
		assert_int_equal(mp.frame_number, (uint16_t)(65530 + i));
		assert_int_equal(mp.template_id, (s->offset + i) % 64);
		assert_int_equal(mp.structure_attached, 0);
		assert_int_equal(mp.keyframe, 0);      /* no structure attached, whatever the template */
		assert_int_equal(mp.dd_len, 3);
		/* the same with an (empty) extended part and zero padding */
		f.ext = 1;
		f.pad = 2;
		len = put_dd(dd, &f, s, NULL);
		assert_int_equal(len, 6);
		init_mp(&mp);
		assert_int_equal(parse_exact(dd, len, &st, &mp), MMR_DROP_NONE);
		check_tpl(&mp, s, i);
		assert_int_equal(mp.dd_len, 6);
	}
	check_structure(&st, s);
	/* a key frame that is not the start of the frame, or on a template with fdiffs, is not a key */
	key.s = 0;
	len = put_dd(dd, &key, NULL, NULL);
	assert_int_equal(parse_exact(dd, len, &st, &mp), MMR_DROP_NONE);
	assert_int_equal(mp.keyframe, 0);
	key.s = 1;
	key.id = (s->offset + 1) % 64;
	len = put_dd(dd, &key, NULL, NULL);
	assert_int_equal(parse_exact(dd, len, &st, &mp), MMR_DROP_NONE);
	assert_int_equal(mp.keyframe, 0);
}

static void test_l1t3(void **state)
{
	(void)state;
	run_structure(&l1t3);
}

static void test_l3t3(void **state)
{
	(void)state;
	run_structure(&l3t3);
}

static void test_ksvc(void **state)
{
	(void)state;
	run_structure(&l2t2_key);
}

/* A key frame at spatial 1 of L3T3 with no fdiffs (custom) is still not a key frame: it is the
 * spatial layer-0 frame that must be decodable from nothing. */
static void test_keyframe_rule(void **state)
{
	struct av1_dd_structure st;
	struct media_pkt mp;
	uint8_t dd[512];
	struct tf f = { .s = 1, .id = 4, .attach = &l3t3, .cfd = 1, .n_cfd = 0 };
	uint32_t len = put_dd(dd, &f, NULL, NULL);

	(void)state;
	memset(&st, 0, sizeof(st));
	assert_int_equal(parse_exact(dd, len, &st, &mp), MMR_DROP_NONE);
	assert_int_equal(mp.sid, 1);
	assert_int_equal(mp.n_fdiffs, 0);
	assert_int_equal(mp.keyframe, 0);
	/* template 0 with a custom fdiff: depends on something, not a key frame */
	f.id = 0;
	f.n_cfd = 1;
	f.cfd_val[0] = 3;
	len = put_dd(dd, &f, NULL, NULL);
	assert_int_equal(parse_exact(dd, len, &st, &mp), MMR_DROP_NONE);
	assert_int_equal(mp.keyframe, 0);
	f.n_cfd = 0;
	len = put_dd(dd, &f, NULL, NULL);
	assert_int_equal(parse_exact(dd, len, &st, &mp), MMR_DROP_NONE);
	assert_int_equal(mp.keyframe, 1);
}

static void attach(struct av1_dd_structure *st, const struct ts *s)
{
	uint8_t dd[512];
	struct media_pkt mp;
	struct tf key = { .s = 1, .id = s->offset, .attach = s };
	uint32_t len = put_dd(dd, &key, NULL, NULL);

	memset(st, 0, sizeof(*st));
	assert_int_equal(parse_exact(dd, len, st, &mp), MMR_DROP_NONE);
}

static void test_custom(void **state)
{
	struct av1_dd_structure st, before;
	struct media_pkt mp, mp_before;
	uint8_t dd[512];
	uint32_t len;

	(void)state;
	attach(&st, &l3t3);
	memcpy(&before, &st, sizeof(st));

	/* custom DTIs only: everything else from template 5 */
	{
		struct tf f = { .id = 5, .fn = 7, .cdti = "RDS-RDS-R" };

		len = put_dd(dd, &f, &l3t3, NULL);
		init_mp(&mp);
		assert_int_equal(parse_exact(dd, len, &st, &mp), MMR_DROP_NONE);
		assert_true(mp.dtis == dtis_of("RDS-RDS-R", 9));
		assert_int_equal(mp.sid, 1);
		assert_int_equal(mp.n_fdiffs, 2);
		assert_int_equal(mp.fdiff[0], 4);
		assert_int_equal(mp.fdiff[1], 1);
		assert_int_equal(mp.chain_fdiff[0], 5);
	}
	/* custom fdiffs of every nibble size, the largest we keep (255) */
	{
		struct tf f = { .id = 9, .cfd = 1, .n_cfd = 5,
				.cfd_val = { 1, 16, 17, 255, 3 }, .cfd_size = { 1, 1, 2, 3, 3 } };

		len = put_dd(dd, &f, &l3t3, NULL);
		init_mp(&mp);
		assert_int_equal(parse_exact(dd, len, &st, &mp), MMR_DROP_NONE);
		assert_int_equal(mp.n_fdiffs, 5);
		assert_int_equal(mp.fdiff[0], 1);
		assert_int_equal(mp.fdiff[1], 16);
		assert_int_equal(mp.fdiff[2], 17);
		assert_int_equal(mp.fdiff[3], 255);
		assert_int_equal(mp.fdiff[4], 3);
		for (unsigned k = 5; k < AV1_MAX_FDIFFS; k++)
			assert_int_equal(mp.fdiff[k], 0);
		assert_true(mp.dtis == dtis_of(l3t3.dti[9], 9));
		assert_int_equal(mp.sid, 2);
		/* an empty custom list overrides the template's */
		f.n_cfd = 0;
		len = put_dd(dd, &f, &l3t3, NULL);
		assert_int_equal(parse_exact(dd, len, &st, &mp), MMR_DROP_NONE);
		assert_int_equal(mp.n_fdiffs, 0);
		/* 16 fdiffs are kept, 17 are malformed for us */
		f.n_cfd = 16;
		memset(f.cfd_size, 0, sizeof(f.cfd_size));
		for (unsigned k = 0; k < 17; k++)
			f.cfd_val[k] = k + 1;
		len = put_dd(dd, &f, &l3t3, NULL);
		assert_int_equal(parse_exact(dd, len, &st, &mp), MMR_DROP_NONE);
		assert_int_equal(mp.n_fdiffs, 16);
		assert_int_equal(mp.fdiff[15], 16);
		f.n_cfd = 17;
		len = put_dd(dd, &f, &l3t3, NULL);
		memcpy(&mp_before, &mp, sizeof(mp));
		assert_int_equal(parse_exact(dd, len, &st, &mp), MMR_DROP_BAD_PAYLOAD);
		assert_memory_equal(&mp, &mp_before, sizeof(mp));
		/* an fdiff beyond 8 bits (the spec allows 4096) */
		f.n_cfd = 2;
		f.cfd_val[1] = 256;
		len = put_dd(dd, &f, &l3t3, NULL);
		assert_int_equal(parse_exact(dd, len, &st, &mp), MMR_DROP_BAD_PAYLOAD);
		f.cfd_val[1] = 4096;
		len = put_dd(dd, &f, &l3t3, NULL);
		assert_int_equal(parse_exact(dd, len, &st, &mp), MMR_DROP_BAD_PAYLOAD);
	}
	/* custom chains */
	{
		struct tf f = { .id = 2, .cch = 1, .cchain = { 0, 200, 255 } };

		len = put_dd(dd, &f, &l3t3, NULL);
		init_mp(&mp);
		assert_int_equal(parse_exact(dd, len, &st, &mp), MMR_DROP_NONE);
		assert_int_equal(mp.n_chains, 3);
		assert_int_equal(mp.chain_fdiff[0], 0);
		assert_int_equal(mp.chain_fdiff[1], 200);
		assert_int_equal(mp.chain_fdiff[2], 255);
		assert_int_equal(mp.chain_fdiff[3], 0);
		assert_int_equal(mp.n_fdiffs, 1);
		assert_int_equal(mp.fdiff[0], 2);
	}
	/* all three, in a packet that also attaches a structure (L1T3: 3 DTs, 1 chain) */
	{
		struct tf f = { .s = 1, .id = 1, .attach = &l1t3, .cdti = "RRD", .cfd = 1, .n_cfd = 2,
				.cfd_val = { 9, 300 - 299 }, .cch = 1, .cchain = { 77 } };

		len = put_dd(dd, &f, NULL, NULL);
		init_mp(&mp);
		assert_int_equal(parse_exact(dd, len, &st, &mp), MMR_DROP_NONE);
		check_structure(&st, &l1t3);
		assert_true(mp.dtis == dtis_of("RRD", 3));
		assert_int_equal(mp.n_fdiffs, 2);
		assert_int_equal(mp.fdiff[0], 9);
		assert_int_equal(mp.fdiff[1], 1);
		assert_int_equal(mp.n_chains, 1);
		assert_int_equal(mp.chain_fdiff[0], 77);
		assert_int_equal(mp.keyframe, 0);
	}
	(void)before;
}

/* A long descriptor (L3T3 structure, active bitmask, custom DTIs/fdiffs/chains) cut at every
 * length: truncated, and neither the state nor the packet fields change. */
static void test_every_truncation(void **state)
{
	struct av1_dd_structure st, before, empty;
	struct media_pkt mp, mp_before;
	uint8_t dd[512];
	unsigned bits;
	struct tf f = { .s = 1, .e = 1, .id = 3, .fn = 4242, .attach = &l3t3, .act = 1, .mask = 0x1ff,
			.cdti = "SSSRRRDDD", .cfd = 1, .n_cfd = 3, .cfd_val = { 1, 200, 3 },
			.cch = 1, .cchain = { 1, 2, 3 } };
	uint32_t full = put_dd(dd, &f, NULL, &bits);

	(void)state;
	assert_true(full > 40);
	assert_int_equal(full, (bits + 7) / 8);
	attach(&st, &l1t3);
	memcpy(&before, &st, sizeof(st));
	memset(&empty, 0, sizeof(empty));
	init_mp(&mp);
	memcpy(&mp_before, &mp, sizeof(mp));
	for (uint32_t len = 0; len < full; len++) {
		enum mmr_drop_reason r = parse_exact(dd, len, &st, &mp);

		if (len == 3) {
			/* a 3-byte descriptor is a complete mandatory-only one: template 3 of L1T3 */
			assert_int_equal(r, MMR_DROP_NONE);
			check_tpl(&mp, &l1t3, 2);
			memcpy(&mp, &mp_before, sizeof(mp));
			assert_int_equal(parse_exact(dd, len, &empty, &mp), MMR_DROP_NO_STRUCTURE);
		} else {
			assert_int_equal(r, MMR_DROP_TRUNCATED);
		}
		assert_memory_equal(&st, &before, sizeof(st));
		assert_memory_equal(&mp, &mp_before, sizeof(mp));
	}
	assert_int_equal(parse_exact(dd, full, &st, &mp), MMR_DROP_NONE);
	check_structure(&st, &l3t3);
	assert_int_equal(mp.frame_number, 4242);
	assert_int_equal(mp.n_fdiffs, 3);
	assert_int_equal(mp.fdiff[1], 200);
	assert_int_equal(mp.chain_fdiff[2], 3);
	assert_true(mp.dtis == dtis_of("SSSRRRDDD", 9));
}

static void test_template_out_of_range(void **state)
{
	struct av1_dd_structure st, before;
	struct media_pkt mp, mp_before;
	uint8_t dd[512];
	uint32_t len;
	struct ts s = l1t3;

	(void)state;
	s.offset = 10;                  /* ids 10..14 */
	attach(&st, &s);
	memcpy(&before, &st, sizeof(st));
	for (unsigned id = 0; id < 64; id++) {
		struct tf f = { .id = id };
		enum mmr_drop_reason r;

		len = put_dd(dd, &f, &s, NULL);
		init_mp(&mp);
		memcpy(&mp_before, &mp, sizeof(mp));
		r = parse_exact(dd, len, &st, &mp);
		if (id >= 10 && id <= 14) {
			assert_int_equal(r, MMR_DROP_NONE);
			check_tpl(&mp, &s, id - 10);
		} else {
			assert_int_equal(r, MMR_DROP_BAD_PAYLOAD);
			assert_memory_equal(&mp, &mp_before, sizeof(mp));
		}
		assert_memory_equal(&st, &before, sizeof(st));
	}
	/* a packet attaching a new structure but naming an id outside it: nothing is replaced */
	{
		struct tf f = { .s = 1, .id = 9, .attach = &l2t2_key };   /* L2T2 ids are 62..3 */

		len = put_dd(dd, &f, NULL, NULL);
		assert_int_equal(parse_exact(dd, len, &st, &mp), MMR_DROP_BAD_PAYLOAD);
		assert_memory_equal(&st, &before, sizeof(st));
		f.id = 3;
		len = put_dd(dd, &f, NULL, NULL);
		assert_int_equal(parse_exact(dd, len, &st, &mp), MMR_DROP_NONE);
		check_structure(&st, &l2t2_key);
		/* the old structure's ids are gone now */
		struct tf g = { .id = 12 };
		len = put_dd(dd, &g, &s, NULL);
		assert_int_equal(parse_exact(dd, len, &st, &mp), MMR_DROP_BAD_PAYLOAD);
	}
}

/* Send structure s attached to a key frame; the verdict must be `want`, and on an error st must
 * stay exactly as it was. */
static void expect_structure(struct av1_dd_structure *st, const struct ts *s, enum mmr_drop_reason want)
{
	struct av1_dd_structure before;
	struct media_pkt mp, mp_before;
	uint8_t dd[512];
	struct tf f = { .s = 1, .id = s->offset, .attach = s };
	uint32_t len = put_dd(dd, &f, NULL, NULL);

	memcpy(&before, st, sizeof(*st));
	init_mp(&mp);
	memcpy(&mp_before, &mp, sizeof(mp));
	assert_int_equal(parse_exact(dd, len, st, &mp), want);
	if (want != MMR_DROP_NONE) {
		assert_memory_equal(st, &before, sizeof(*st));
		assert_memory_equal(&mp, &mp_before, sizeof(mp));
	} else {
		check_structure(st, s);
	}
}

static void test_malformed_structure(void **state)
{
	static struct ts s;             /* large: not on the stack */
	struct av1_dd_structure st;

	(void)state;
	attach(&st, &l3t3);
	st.active_dts = 0x15;           /* a non-default state must survive too */

	/* 64 templates is the most; 65 is malformed */
	memset(&s, 0, sizeof(s));
	s.n_dts = 1;
	s.offset = 5;
	for (unsigned i = 0; i < TMAX; i++)
		s.dti[i] = "S";
	s.n_tpl = 65;
	expect_structure(&st, &s, MMR_DROP_BAD_PAYLOAD);
	s.n_tpl = 64;
	expect_structure(&st, &s, MMR_DROP_NONE);
	attach(&st, &l3t3);
	st.active_dts = 0x15;

	/* spatial ids 0..3 */
	memset(&s, 0, sizeof(s));
	s.n_dts = 2;
	for (unsigned i = 0; i < TMAX; i++) {
		s.dti[i] = "SS";
		s.sid[i] = (uint8_t)i;
	}
	s.n_tpl = 5;
	expect_structure(&st, &s, MMR_DROP_BAD_PAYLOAD);
	s.n_tpl = 4;
	s.res = 1;
	for (unsigned sid = 0; sid < 4; sid++) {
		s.w[sid] = (uint16_t)(100 + sid);
		s.h[sid] = (uint16_t)(200 + sid);
	}
	s.w[3] = 65535;
	s.h[3] = 1;
	s.w[0] = 1;
	s.h[0] = 65535;
	expect_structure(&st, &s, MMR_DROP_NONE);
	assert_int_equal(st.width[3], 65535);
	attach(&st, &l3t3);
	st.active_dts = 0x15;

	/* temporal ids 0..7 */
	memset(&s, 0, sizeof(s));
	s.n_dts = 2;
	for (unsigned i = 0; i < TMAX; i++) {
		s.dti[i] = "DS";
		s.tid[i] = (uint8_t)i;
	}
	s.n_tpl = 9;
	expect_structure(&st, &s, MMR_DROP_BAD_PAYLOAD);
	s.n_tpl = 8;
	expect_structure(&st, &s, MMR_DROP_NONE);
	assert_int_equal(st.max_tid, 7);
	attach(&st, &l3t3);
	st.active_dts = 0x15;

	/* 16 template fdiffs kept, 17 malformed */
	s = l1t3;
	s.n_fd[3] = 16;
	for (unsigned k = 0; k < 17; k++)
		s.fd[3][k] = (uint8_t)(16 - k);
	expect_structure(&st, &s, MMR_DROP_NONE);
	assert_int_equal(st.tpl[3].n_fdiffs, 16);
	assert_int_equal(st.tpl[3].fdiff[15], 1);
	attach(&st, &l3t3);
	st.active_dts = 0x15;
	s.n_fd[3] = 17;
	expect_structure(&st, &s, MMR_DROP_BAD_PAYLOAD);

	/* 32 decode targets, 32 chains (the most ns(DtCnt + 1) can say) */
	memset(&s, 0, sizeof(s));
	s.n_dts = 32;
	s.n_tpl = 2;
	s.n_chains = 32;
	s.dti[0] = "SSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSS";
	s.dti[1] = "RDRDRDRDRDRDRDRDRDRDRDRDRDRDRDR-";
	s.tid[1] = 1;
	for (unsigned dt = 0; dt < 32; dt++)
		s.dt_chain[dt] = (uint8_t)(31 - dt);
	for (unsigned c = 0; c < 32; c++)
		s.chain[1][c] = (uint8_t)(c % 16);
	expect_structure(&st, &s, MMR_DROP_NONE);
	assert_int_equal(st.active_dts, 0xffffffffu);
}

static void test_no_structure(void **state)
{
	struct av1_dd_structure st, zero;
	struct media_pkt mp;
	uint8_t dd[512];
	uint32_t len;

	(void)state;
	memset(&st, 0, sizeof(st));
	memset(&zero, 0, sizeof(zero));
	for (uint32_t l = 0; l < 3; l++)
		assert_int_equal(parse_exact((const uint8_t *)"\x80\x00\x01", l, &st, &mp), MMR_DROP_TRUNCATED);
	{
		struct tf f = { .s = 1, .id = 0 };

		len = put_dd(dd, &f, &l1t3, NULL);
		assert_int_equal(parse_exact(dd, len, &st, &mp), MMR_DROP_NO_STRUCTURE);
		f.ext = 1;
		len = put_dd(dd, &f, &l1t3, NULL);
		assert_int_equal(parse_exact(dd, len, &st, &mp), MMR_DROP_NO_STRUCTURE);
		f.act = 1;
		f.mask = 1;
		len = put_dd(dd, &f, &l1t3, NULL);
		assert_int_equal(parse_exact(dd, len, &st, &mp), MMR_DROP_NO_STRUCTURE);
	}
	assert_memory_equal(&st, &zero, sizeof(st));
	/* longer than an RFC 8285 element can be */
	{
		uint8_t big[300];
		struct tf f = { .s = 1, .id = 1, .attach = &l1t3, .pad = 200 };

		len = put_dd(big, &f, NULL, NULL);
		assert_true(len <= 255);
		assert_int_equal(parse_exact(big, len, &st, &mp), MMR_DROP_NONE);
		memset(&st, 0, sizeof(st));
		memset(big + len, 0, 256 - len);
		assert_int_equal(parse_exact(big, 256, &st, &mp), MMR_DROP_BAD_PAYLOAD);
		assert_memory_equal(&st, &zero, sizeof(st));
	}
}

/* The media_pkt fields that are not AV1's are left as the caller set them. */
static void test_other_fields_untouched(void **state)
{
	struct av1_dd_structure st;
	struct media_pkt mp;
	uint8_t dd[512];
	struct tf f = { .s = 1, .id = 0, .attach = &l3t3 };
	uint32_t len = put_dd(dd, &f, NULL, NULL);

	(void)state;
	memset(&st, 0, sizeof(st));
	init_mp(&mp);
	assert_int_equal(parse_exact(dd, len, &st, &mp), MMR_DROP_NONE);
	assert_int_equal(mp.codec, 0xa5);
	assert_int_equal(mp.encoding, 0xa5);
	assert_int_equal(mp.switch_up, 0xa5);
	assert_int_equal(mp.inter_pic, 0xa5);
	assert_int_equal(mp.inter_layer, 0xa5);
	assert_int_equal(mp.not_ref_up, 0xa5);
	assert_int_equal(mp.desc_len, 0xa5a5);
	assert_int_equal(mp.pid_off, 0xa5a5);
	assert_int_equal(mp.picture_id, 0xa5a5);
	assert_int_equal(mp.tl0_off, 0xa5a5);
	assert_int_equal(mp.tl0picidx, 0xa5);
}

static void test_active_dts(void **state)
{
	struct av1_dd_structure st, before;
	struct media_pkt mp;
	uint8_t dd[512];
	uint32_t len;

	(void)state;
	attach(&st, &l3t3);
	assert_int_equal(st.active_dts, 0x1ff);
	/* a bitmask holds until the next one */
	{
		struct tf f = { .id = 1, .act = 1, .mask = 0x03f };

		len = put_dd(dd, &f, &l3t3, NULL);
		assert_int_equal(parse_exact(dd, len, &st, &mp), MMR_DROP_NONE);
		assert_int_equal(mp.active_dts, 0x03f);
		assert_int_equal(st.active_dts, 0x03f);
		check_tpl(&mp, &l3t3, 1);
	}
	for (unsigned i = 0; i < 3; i++) {
		struct tf f = { .id = i };

		len = put_dd(dd, &f, &l3t3, NULL);
		assert_int_equal(parse_exact(dd, len, &st, &mp), MMR_DROP_NONE);
		assert_int_equal(mp.active_dts, 0x03f);
	}
	{
		struct tf f = { .id = 2, .act = 1, .mask = 0x001 };

		len = put_dd(dd, &f, &l3t3, NULL);
		assert_int_equal(parse_exact(dd, len, &st, &mp), MMR_DROP_NONE);
		assert_int_equal(mp.active_dts, 0x001);
	}
	/* a malformed packet carrying a bitmask changes nothing */
	{
		struct tf f = { .id = 40, .act = 1, .mask = 0x1f0 };

		memcpy(&before, &st, sizeof(st));
		len = put_dd(dd, &f, &l3t3, NULL);
		assert_int_equal(parse_exact(dd, len, &st, &mp), MMR_DROP_BAD_PAYLOAD);
		assert_memory_equal(&st, &before, sizeof(st));
		f.id = 4;
		len = put_dd(dd, &f, &l3t3, NULL);
		assert_int_equal(parse_exact(dd, len - 1, &st, &mp), MMR_DROP_TRUNCATED);
		assert_memory_equal(&st, &before, sizeof(st));
	}
	/* a new structure resets to all; with a bitmask, to that */
	{
		struct tf f = { .s = 1, .id = 0, .attach = &l3t3 };

		len = put_dd(dd, &f, NULL, NULL);
		assert_int_equal(parse_exact(dd, len, &st, &mp), MMR_DROP_NONE);
		assert_int_equal(mp.active_dts, 0x1ff);
		assert_int_equal(st.active_dts, 0x1ff);
		f.act = 1;
		f.mask = 0x049;
		len = put_dd(dd, &f, NULL, NULL);
		assert_int_equal(parse_exact(dd, len, &st, &mp), MMR_DROP_NONE);
		assert_int_equal(mp.active_dts, 0x049);
		struct tf g = { .id = 5 };
		len = put_dd(dd, &g, &l3t3, NULL);
		assert_int_equal(parse_exact(dd, len, &st, &mp), MMR_DROP_NONE);
		assert_int_equal(mp.active_dts, 0x049);
	}
}

/* Parse, rewrite the bitmask, parse again: only the bitmask differs. */
static void rewrite_and_check(uint8_t *dd, uint32_t len, const struct ts *s, uint32_t mask)
{
	struct av1_dd_structure st1, st2;
	struct media_pkt mp1, mp2;
	uint8_t *copy = malloc(len);

	assert_non_null(copy);
	attach(&st1, s);
	memcpy(&st2, &st1, sizeof(st1));
	init_mp(&mp1);
	init_mp(&mp2);
	memcpy(copy, dd, len);
	assert_int_equal(av1_dd_parse(copy, len, 0, &st1, &mp1), MMR_DROP_NONE);
	assert_int_equal(av1_dd_set_active_dts(copy, len, mp1.n_dts, mask), 0);
	assert_int_equal(av1_dd_parse(copy, len, 0, &st2, &mp2), MMR_DROP_NONE);
	assert_int_equal(mp2.active_dts, mask & ((1u << s->n_dts) - 1));
	assert_int_equal(st2.active_dts, mp2.active_dts);
	mp2.active_dts = mp1.active_dts;
	assert_memory_equal(&mp1, &mp2, sizeof(mp1));
	free(copy);
}

static void test_set_active_dts(void **state)
{
	uint8_t dd[512], orig[512];
	uint32_t len;

	(void)state;
	/* without a structure: the bitmask right after the flags */
	{
		struct tf f = { .id = 7, .act = 1, .mask = 0x1ff, .cdti = "SSSSSSSSS", .cch = 1,
				.cchain = { 9, 8, 7 } };

		len = put_dd(dd, &f, &l3t3, NULL);
		rewrite_and_check(dd, len, &l3t3, 0x0a5);
		rewrite_and_check(dd, len, &l3t3, 0);
		rewrite_and_check(dd, len, &l3t3, 0xfffffe00);   /* bits above DtCnt ignored */
		/* a wrong n_dts would clobber the next fields: the caller passes mp.n_dts */
	}
	/* with a structure: the bitmask after it */
	{
		struct tf f = { .s = 1, .id = 0, .attach = &l3t3, .act = 1, .mask = 0x100 };

		len = put_dd(dd, &f, NULL, NULL);
		rewrite_and_check(dd, len, &l3t3, 0x0ff);
		memcpy(orig, dd, len);
		assert_int_equal(av1_dd_set_active_dts(dd, len, 3, 0), -1);   /* not this DtCnt */
		assert_memory_equal(dd, orig, len);
		assert_int_equal(av1_dd_set_active_dts(dd, len - 1, 9, 0), -1);  /* cut structure */
		assert_memory_equal(dd, orig, len);
	}
	/* packets without a bitmask are left alone */
	{
		struct tf f = { .s = 1, .id = 0, .attach = &l1t3 };

		len = put_dd(dd, &f, NULL, NULL);
		memcpy(orig, dd, len);
		assert_int_equal(av1_dd_set_active_dts(dd, len, 3, 0), -1);
		assert_memory_equal(dd, orig, len);
		struct tf g = { .id = 2 };
		len = put_dd(dd, &g, &l1t3, NULL);
		memcpy(orig, dd, len);
		assert_int_equal(av1_dd_set_active_dts(dd, len, 3, 0), -1);
		assert_memory_equal(dd, orig, len);
		g.ext = 1;
		len = put_dd(dd, &g, &l1t3, NULL);
		memcpy(orig, dd, len);
		assert_int_equal(av1_dd_set_active_dts(dd, len, 3, 0), -1);
		assert_memory_equal(dd, orig, len);
	}
}

/* av1_dd_with_active: the same descriptor (every parsed field but the bitmask equal) with the
 * bitmask set, inserted after the structure or the flags when the packet had none. */
static void with_active_and_check(const uint8_t *dd, uint32_t len, const struct ts *s, uint32_t mask,
				  int inserted)
{
	struct av1_dd_structure st1, st2;
	struct media_pkt mp1, mp2;
	uint8_t out[300];
	int n;

	attach(&st1, s);
	memcpy(&st2, &st1, sizeof(st1));
	init_mp(&mp1);
	init_mp(&mp2);
	assert_int_equal(parse_exact(dd, len, &st1, &mp1), MMR_DROP_NONE);
	n = av1_dd_with_active(dd, len, mp1.n_dts, mask, out, sizeof(out));
	assert_true(n > 0);
	if (inserted)
		assert_int_equal((uint32_t)n, (len * 8 + s->n_dts + 7) / 8);
	else
		assert_int_equal((uint32_t)n, len);
	assert_int_equal(parse_exact(out, (uint32_t)n, &st2, &mp2), MMR_DROP_NONE);
	assert_int_equal(mp2.active_dts, mask & ((1u << s->n_dts) - 1));
	assert_int_equal(mp2.dd_active_present, 1);
	mp2.active_dts = mp1.active_dts;
	mp2.dd_active_present = mp1.dd_active_present;
	mp2.dd_len = mp1.dd_len;
	assert_memory_equal(&mp1, &mp2, sizeof(mp1));
	st2.active_dts = st1.active_dts;
	assert_memory_equal(&st1, &st2, sizeof(st1));
}

static void test_with_active(void **state)
{
	uint8_t dd[512];
	uint32_t len;
	int n;

	(void)state;
	/* a structure without a bitmask, as senders attach it to keyframes: inserted after it */
	{
		struct tf f = { .s = 1, .id = 0, .attach = &l3t3 };

		len = put_dd(dd, &f, NULL, NULL);
		with_active_and_check(dd, len, &l3t3, 0x007, 1);
		with_active_and_check(dd, len, &l3t3, 0x03f, 1);
		struct tf g = { .s = 1, .id = l1t3.offset, .attach = &l1t3 };
		len = put_dd(dd, &g, NULL, NULL);
		with_active_and_check(dd, len, &l1t3, 0x4, 1);
	}
	/* extended fields with custom DTIs and chains after the insertion point move down intact */
	{
		struct tf f = { .id = 7, .ext = 1, .cdti = "SSSRRRRRR", .cch = 1, .cchain = { 9, 8, 7 } };

		len = put_dd(dd, &f, &l3t3, NULL);
		with_active_and_check(dd, len, &l3t3, 0x1b, 1);
	}
	/* a packet that has one: rewritten in place */
	{
		struct tf f = { .s = 1, .id = 0, .attach = &l3t3, .act = 1, .mask = 0x1ff };

		len = put_dd(dd, &f, NULL, NULL);
		with_active_and_check(dd, len, &l3t3, 0x049, 0);
	}
	/* mandatory fields only, a wrong DtCnt, no room: refused */
	{
		struct tf f = { .id = 2 };
		uint8_t out[300];

		len = put_dd(dd, &f, &l1t3, NULL);
		assert_int_equal(av1_dd_with_active(dd, len, 3, 1, out, sizeof(out)), -1);
		struct tf g = { .s = 1, .id = 0, .attach = &l3t3 };
		len = put_dd(dd, &g, NULL, NULL);
		assert_int_equal(av1_dd_with_active(dd, len, 3, 1, out, sizeof(out)), -1);
		assert_int_equal(av1_dd_with_active(dd, len, 9, 1, out, len), -1);
		n = av1_dd_with_active(dd, len, 9, 1, out, len + 2);
		assert_true(n > 0);
	}
}

/* dt_within: in L3T3 full SVC, S<s>T<t> holds every S<=s, T<=t; this L1T3 numbers its decode
 * targets the other way round (DT 0 has every frame, DT 2 the T0 frames only). */
static void test_dt_within(void **state)
{
	struct av1_dd_structure st;

	(void)state;
	attach(&st, &l3t3);
	for (unsigned k = 0; k < 9; k++) {
		uint32_t want = 0;
		for (unsigned j = 0; j < 9; j++)
			if (j / 3 <= k / 3 && j % 3 <= k % 3)
				want |= 1u << j;
		assert_int_equal(st.dt_within[k], want);
	}
	attach(&st, &l1t3);
	assert_int_equal(st.dt_within[0], 0x7);
	assert_int_equal(st.dt_within[1], 0x6);
	assert_int_equal(st.dt_within[2], 0x4);
}

static void test_set_frame_number(void **state)
{
	struct av1_dd_structure st;
	struct media_pkt mp1, mp2;
	uint8_t dd[512];
	struct tf f = { .s = 1, .e = 1, .id = 3, .fn = 0x1234, .cfd = 1, .n_cfd = 1, .cfd_val = { 5 } };
	uint32_t len;
	static const uint16_t fns[] = { 0, 1, 0x00ff, 0xff00, 0xffff, 0xabcd };

	(void)state;
	attach(&st, &l1t3);
	len = put_dd(dd, &f, &l1t3, NULL);
	init_mp(&mp1);
	assert_int_equal(parse_exact(dd, len, &st, &mp1), MMR_DROP_NONE);
	assert_int_equal(mp1.frame_number, 0x1234);
	for (unsigned i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		av1_dd_set_frame_number(dd, fns[i]);
		init_mp(&mp2);
		assert_int_equal(parse_exact(dd, len, &st, &mp2), MMR_DROP_NONE);
		assert_int_equal(mp2.frame_number, fns[i]);
		mp2.frame_number = mp1.frame_number;
		assert_memory_equal(&mp1, &mp2, sizeof(mp1));
	}
	assert_int_equal(dd[0], 0xc0 | 3);
}

/* Random descriptors into one state, after a real structure: verdicts in range, invariants hold. */
static void test_random(void **state)
{
	struct av1_dd_structure st;
	struct media_pkt mp;
	uint8_t b[64];
	unsigned ok = 0;

	(void)state;
	rng_state = 99;
	attach(&st, &l3t3);
	for (int i = 0; i < 20000; i++) {
		uint32_t len = rnd() % 40;
		enum mmr_drop_reason r;

		for (uint32_t j = 0; j < len; j++)
			b[j] = (uint8_t)rnd();
		if (i % 3 == 0 && len > 3)
			b[3] &= 0x7f;       /* no structure a third of the time */
		r = parse_exact(b, len, &st, &mp);
		assert_true(r == MMR_DROP_NONE || r == MMR_DROP_TRUNCATED || r == MMR_DROP_BAD_PAYLOAD ||
			    r == MMR_DROP_NO_STRUCTURE);
		if (r != MMR_DROP_NONE)
			continue;
		ok++;
		assert_true(st.valid);
		assert_true(st.n_templates >= 1 && st.n_templates <= 64);
		assert_true(st.n_dts >= 1 && st.n_dts <= 32);
		assert_true(st.n_chains <= st.n_dts);
		assert_true(mp.sid <= 3 && mp.tid <= 7 && mp.n_fdiffs <= 16);
		assert_int_equal(mp.n_dts, st.n_dts);
		for (unsigned dt = 0; dt < st.n_dts; dt++)
			assert_true(st.n_chains == 0 || mp.dt_chain[dt] < st.n_chains);
		if (st.n_dts < 32)
			assert_true((mp.dtis >> (2 * st.n_dts)) == 0 && (mp.active_dts >> st.n_dts) == 0);
	}
	assert_true(ok > 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_l1t3),
		cmocka_unit_test(test_l3t3),
		cmocka_unit_test(test_ksvc),
		cmocka_unit_test(test_keyframe_rule),
		cmocka_unit_test(test_custom),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_template_out_of_range),
		cmocka_unit_test(test_malformed_structure),
		cmocka_unit_test(test_no_structure),
		cmocka_unit_test(test_other_fields_untouched),
		cmocka_unit_test(test_active_dts),
		cmocka_unit_test(test_set_active_dts),
		cmocka_unit_test(test_set_frame_number),
		cmocka_unit_test(test_with_active),
		cmocka_unit_test(test_dt_within),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests_name("av1_dd", tests, NULL, NULL);
}
