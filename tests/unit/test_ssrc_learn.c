/*
 * test_ssrc_learn.c - unit tests of SSRC learning's packet side (lib/pkt/ssrc_learn.c): the header
 * read without the padding count (an SRTP packet's is encrypted) against rtp_parse; which pending
 * stream a packet's mid / rid / repaired-rid name, in the one-byte and two-byte extension forms
 * (a Chromium-like simulcast publisher: mid 1, rids q h f, RTX by repaired-rid), and every way of
 * not naming one: no mid, an unknown mid or rid, a need already met, an empty or over-long
 * element, extension ids not negotiated, a malformed block (-1), another profile; and the report
 * rate limit (once per SSRC per gap, a burst cap per window, eviction of old SSRCs). Inputs are
 * exact-size heap copies so that ASan sees any over-read.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ssrc_learn.h"
#include "unit_util.h"

/* An RTP packet (PT pt, SSRC ssrc) with extension profile `profile` and block `ext` (ext_len, a
 * multiple of 4 written by the caller), then 6 payload bytes; padding bit set when `pad`. */
static uint32_t mk(uint8_t *p, uint8_t pt, uint32_t ssrc, uint16_t profile, const uint8_t *ext, uint32_t ext_len,
		   int pad)
{
	uint32_t n = 0;
	p[n++] = (uint8_t)(0x80 | (ext ? 0x10 : 0) | (pad ? 0x20 : 0));
	p[n++] = pt;
	p[n++] = 0x12; p[n++] = 0x34;
	p[n++] = 0; p[n++] = 0; p[n++] = 0x10; p[n++] = 0;
	p[n++] = (uint8_t)(ssrc >> 24); p[n++] = (uint8_t)(ssrc >> 16); p[n++] = (uint8_t)(ssrc >> 8); p[n++] = (uint8_t)ssrc;
	if (ext) {
		p[n++] = (uint8_t)(profile >> 8); p[n++] = (uint8_t)profile;
		p[n++] = (uint8_t)(ext_len / 4 >> 8); p[n++] = (uint8_t)(ext_len / 4);
		memcpy(p + n, ext, ext_len);
		n += ext_len;
	}
	for (int i = 0; i < 6; i++)
		p[n++] = (uint8_t)(0xa0 + i);
	if (pad)
		p[n - 1] = 0xee;      /* "encrypted": a padding count rtp_parse refuses */
	return n;
}

/* A one-byte block from (id, text) pairs, zero-padded to 32 bits; returns its length. */
static uint32_t one_byte(uint8_t *b, int n, const uint8_t *ids, const char *const *vals)
{
	uint32_t k = 0;
	for (int i = 0; i < n; i++) {
		size_t l = strlen(vals[i]);
		b[k++] = (uint8_t)(ids[i] << 4 | (l - 1));
		memcpy(b + k, vals[i], l);
		k += (uint32_t)l;
	}
	while (k % 4)
		b[k++] = 0;
	return k;
}

static uint32_t two_byte(uint8_t *b, int n, const uint8_t *ids, const char *const *vals)
{
	uint32_t k = 0;
	for (int i = 0; i < n; i++) {
		size_t l = strlen(vals[i]);
		b[k++] = ids[i];
		b[k++] = (uint8_t)l;
		memcpy(b + k, vals[i], l);
		k += (uint32_t)l;
	}
	while (k % 4)
		b[k++] = 0;
	return k;
}

static struct mmr_learn entry(uint32_t sid, uint8_t need, const char *mid, const char *rid)
{
	struct mmr_learn e;
	memset(&e, 0, sizeof(e));
	e.stream_id = sid;
	e.need = need;
	e.mid_len = (uint8_t)strlen(mid);
	e.rid_len = (uint8_t)strlen(rid);
	memcpy(e.mid, mid, e.mid_len);
	memcpy(e.rid, rid, e.rid_len);
	return e;
}

/* The table of a participant: audio mid 0 (no rid), video mid 1 rids q h f (RTX too). */
static struct mmr_learn tab[5];
static const struct learn_ext_ids ids1 = { .mid = 4, .rid = 10, .rrid = 11 };

static void setup_tab(void)
{
	tab[0] = entry(7, MMR_LEARN_MEDIA, "0", "");
	tab[1] = entry(20, MMR_LEARN_MEDIA | MMR_LEARN_RTX, "1", "q");
	tab[2] = entry(21, MMR_LEARN_MEDIA | MMR_LEARN_RTX, "1", "h");
	tab[3] = entry(22, MMR_LEARN_MEDIA | MMR_LEARN_RTX, "1", "f");
	tab[4] = entry(30, MMR_LEARN_RTX, "2", "x");   /* media known already */
}

/* Match a packet built from the elements; returns the result, *sid the stream (or ~0). */
static int run(uint16_t profile, int n, const uint8_t *eids, const char *const *vals, const struct learn_ext_ids *ids,
	       uint32_t *sid, uint8_t *what)
{
	uint8_t ext[256], pkt[512];
	uint32_t el = profile == 0xbede ? one_byte(ext, n, eids, vals) : two_byte(ext, n, eids, vals);
	uint32_t len = mk(pkt, 96, 0x11223344, profile, n >= 0 ? ext : NULL, el, 0);
	uint8_t *c = heap_copy(pkt, len);
	struct rtp_info ri;
	assert_int_equal(ssrc_learn_header(c, len, &ri), 0);
	unsigned idx = 99;
	*what = 0;
	int r = ssrc_learn_match(c, &ri, ids, tab, 5, &idx, what);
	*sid = r == 1 ? tab[idx].stream_id : ~0u;
	free(c);
	return r;
}

static void test_header(void **state)
{
	(void)state;
	uint8_t ext[8] = { 0x40, '1', 0, 0, 0, 0, 0, 0 }, pkt[64];
	struct rtp_info a, b;
	uint32_t len = mk(pkt, 96, 0xdeadbeef, 0xbede, ext, 4, 0);
	uint8_t *c = heap_copy(pkt, len);
	assert_int_equal(rtp_parse(c, len, &a), MMR_DROP_NONE);
	assert_int_equal(ssrc_learn_header(c, len, &b), 0);
	assert_int_equal(b.ssrc, 0xdeadbeef);
	assert_int_equal(b.ext_off, a.ext_off);
	assert_int_equal(b.ext_len, a.ext_len);
	assert_int_equal(b.hdr_len, a.hdr_len);
	assert_int_equal(b.payload_len, a.payload_len);
	free(c);
	/* padding bit with an "encrypted" count: rtp_parse refuses, the header reads */
	len = mk(pkt, 96, 5, 0xbede, ext, 4, 1);
	c = heap_copy(pkt, len);
	assert_int_equal(rtp_parse(c, len, &a), MMR_DROP_BAD_RTP);
	assert_int_equal(ssrc_learn_header(c, len, &b), 0);
	assert_int_equal(b.ext_len, 4);
	free(c);
	/* every prefix: never reads past the end; refused while the extension is cut */
	len = mk(pkt, 96, 5, 0xbede, ext, 8, 0);
	for (uint32_t l = 0; l <= len; l++) {
		c = heap_copy(pkt, l);
		int r = ssrc_learn_header(c, l, &b);
		assert_int_equal(r, l < 12 + 4 + 8 ? -1 : 0);
		free(c);
	}
	/* version 1, CSRC count past the end, an extension length past the end */
	pkt[0] = 0x40;
	assert_int_equal(ssrc_learn_header(pkt, len, &b), -1);
	pkt[0] = 0x8f;
	assert_int_equal(ssrc_learn_header(pkt, 20, &b), -1);
	pkt[0] = 0x90;
	pkt[15] = 200;
	assert_int_equal(ssrc_learn_header(pkt, len, &b), -1);
}

static void test_match(void **state)
{
	(void)state;
	uint32_t sid;
	uint8_t what;
	setup_tab();
	for (int form = 0; form < 2; form++) {
		uint16_t prof = form ? 0x1000 : 0xbede;
		/* media of each encoding, elements in any order */
		static const uint8_t e1[] = { 4, 10 };
		static const char *const v1[] = { "1", "h" };
		assert_int_equal(run(prof, 2, e1, v1, &ids1, &sid, &what), 1);
		assert_int_equal(sid, 21);
		assert_int_equal(what, MMR_LEARN_MEDIA);
		static const uint8_t e2[] = { 10, 3, 4 };
		static const char *const v2[] = { "f", "zz", "1" };
		assert_int_equal(run(prof, 3, e2, v2, &ids1, &sid, &what), 1);
		assert_int_equal(sid, 22);
		/* RTX: repaired-rid (also with the media's rid copied in) */
		static const uint8_t e3[] = { 4, 11 };
		static const char *const v3[] = { "1", "q" };
		assert_int_equal(run(prof, 2, e3, v3, &ids1, &sid, &what), 1);
		assert_int_equal(sid, 20);
		assert_int_equal(what, MMR_LEARN_RTX);
		static const uint8_t e4[] = { 4, 10, 11 };
		static const char *const v4[] = { "1", "q", "q" };
		assert_int_equal(run(prof, 3, e4, v4, &ids1, &sid, &what), 1);
		assert_int_equal(what, MMR_LEARN_RTX);
		/* audio: mid alone */
		static const uint8_t e5[] = { 4 };
		static const char *const v5[] = { "0" };
		assert_int_equal(run(prof, 1, e5, v5, &ids1, &sid, &what), 1);
		assert_int_equal(sid, 7);
		/* mid 1 without a rid names no stream (all have rids) */
		static const char *const v6[] = { "1" };
		assert_int_equal(run(prof, 1, e5, v6, &ids1, &sid, &what), 0);
		/* unknown mid, unknown rid, a rid on the audio mid */
		static const char *const v7[] = { "9", "q" };
		assert_int_equal(run(prof, 2, e1, v7, &ids1, &sid, &what), 0);
		static const char *const v8[] = { "1", "x" };
		assert_int_equal(run(prof, 2, e1, v8, &ids1, &sid, &what), 0);
		static const char *const v9[] = { "0", "q" };
		assert_int_equal(run(prof, 2, e1, v9, &ids1, &sid, &what), 0);
		/* a need already met: mid 2's media is known, only its RTX is learned */
		static const char *const v10[] = { "2", "x" };
		assert_int_equal(run(prof, 2, e1, v10, &ids1, &sid, &what), 0);
		assert_int_equal(run(prof, 2, e3, v10, &ids1, &sid, &what), 1);
		assert_int_equal(sid, 30);
		/* prefixes of a mid are not the mid: "1" vs "12" */
		static const char *const v11[] = { "12", "q" };
		assert_int_equal(run(prof, 2, e1, v11, &ids1, &sid, &what), 0);
		/* ids not negotiated: no mid id -> 0; no rid id -> the rid element is not read */
		struct learn_ext_ids nomid = { 0, 10, 11 }, norid = { 4, 0, 0 };
		assert_int_equal(run(prof, 2, e1, v1, &nomid, &sid, &what), 0);
		assert_int_equal(run(prof, 2, e1, v1, &norid, &sid, &what), 0);
		assert_int_equal(run(prof, 2, e1, v9, &norid, &sid, &what), 1);   /* "0" alone: audio */
		assert_int_equal(sid, 7);
		/* no extension at all */
		assert_int_equal(run(prof, -1, e1, v1, &ids1, &sid, &what), 0);
	}
	/* two-byte only: an over-long mid (17 bytes) and an empty one name nothing; ids above 14 */
	static const uint8_t e12[] = { 4, 10 };
	static const char *const v12[] = { "11111111111111111", "q" };
	assert_int_equal(run(0x1000, 2, e12, v12, &ids1, &sid, &what), 0);
	static const char *const v13[] = { "", "q" };
	assert_int_equal(run(0x1000, 2, e12, v13, &ids1, &sid, &what), 0);
	struct learn_ext_ids big = { 200, 201, 202 };
	static const uint8_t e14[] = { 201, 200 };
	static const char *const v14[] = { "f", "1" };
	assert_int_equal(run(0x1000, 2, e14, v14, &big, &sid, &what), 1);
	assert_int_equal(sid, 22);
	/* the one-byte form cannot carry id 200: nothing */
	assert_int_equal(run(0xbede, 0, e14, v14, &big, &sid, &what), 0);
}

static void test_malformed(void **state)
{
	(void)state;
	setup_tab();
	uint8_t pkt[64], ext[8];
	struct rtp_info ri;
	unsigned idx = 77;
	uint8_t what = 55;
	/* one-byte element before the mid running past the block */
	memcpy(ext, (uint8_t[]){ 0x3f, 'a', 'b', 'c', 0, 0, 0, 0 }, 8);
	uint32_t len = mk(pkt, 96, 1, 0xbede, ext, 4, 0);
	uint8_t *c = heap_copy(pkt, len);
	assert_int_equal(ssrc_learn_header(c, len, &ri), 0);
	assert_int_equal(ssrc_learn_match(c, &ri, &ids1, tab, 5, &idx, &what), -1);
	assert_int_equal(idx, 77);
	assert_int_equal(what, 55);
	free(c);
	/* two-byte element length past the block */
	memcpy(ext, (uint8_t[]){ 3, 9, 'x', 'y', 0, 0, 0, 0 }, 8);
	len = mk(pkt, 96, 1, 0x1000, ext, 4, 0);
	c = heap_copy(pkt, len);
	assert_int_equal(ssrc_learn_header(c, len, &ri), 0);
	assert_int_equal(ssrc_learn_match(c, &ri, &ids1, tab, 5, &idx, &what), -1);
	free(c);
	/* another profile: nothing */
	memcpy(ext, (uint8_t[]){ 0x40, '0', 0, 0, 0, 0, 0, 0 }, 8);
	len = mk(pkt, 96, 1, 0xabcd, ext, 4, 0);
	c = heap_copy(pkt, len);
	assert_int_equal(ssrc_learn_header(c, len, &ri), 0);
	assert_int_equal(ssrc_learn_match(c, &ri, &ids1, tab, 5, &idx, &what), 0);
	/* an empty table, n beyond MMR_LEARN_MAX clamps (no read past 5 here: n 5) */
	assert_int_equal(ssrc_learn_match(c, &ri, &ids1, tab, 0, &idx, &what), 0);
	free(c);
	/* ID 15 in the one-byte form ends the walk: the mid after it is not seen */
	memcpy(ext, (uint8_t[]){ 0xf0, 0, 0x40, '0', 0, 0, 0, 0 }, 8);
	len = mk(pkt, 96, 1, 0xbede, ext, 4, 0);
	c = heap_copy(pkt, len);
	assert_int_equal(ssrc_learn_header(c, len, &ri), 0);
	assert_int_equal(ssrc_learn_match(c, &ri, &ids1, tab, 5, &idx, &what), 0);
	free(c);
	/* random bytes after a valid header: -1, 0 or 1, and on 1 a real need of the entry */
	rng_state = 0x5eed1234;
	for (int i = 0; i < 20000; i++) {
		uint8_t b[64];
		uint32_t l = 12 + rnd() % 52;
		for (uint32_t k = 0; k < l; k++)
			b[k] = (uint8_t)rnd();
		b[0] = (uint8_t)(0x90 | (b[0] & 0x20));
		if (rnd() % 2) {
			b[12] = 0xbe;
			b[13] = 0xde;
		} else {
			b[12] = 0x10;
			b[13] = 0x00;
		}
		b[14] = 0;
		b[15] = (uint8_t)(rnd() % 13);
		c = heap_copy(b, l);
		if (ssrc_learn_header(c, l, &ri) == 0) {
			struct learn_ext_ids any = { (uint8_t)(1 + rnd() % 14), (uint8_t)(1 + rnd() % 14),
						     (uint8_t)(1 + rnd() % 14) };
			int r = ssrc_learn_match(c, &ri, &any, tab, 5, &idx, &what);
			assert_true(r >= -1 && r <= 1);
			if (r == 1)
				assert_true(idx < 5 && (tab[idx].need & what) && (what == MMR_LEARN_MEDIA || what == MMR_LEARN_RTX));
		}
		free(c);
	}
}

static void test_limit(void **state)
{
	(void)state;
	struct learn_limit l;
	memset(&l, 0, sizeof(l));
	const uint64_t gap = 100;
	uint64_t t = 1000;
	/* once per SSRC per gap */
	assert_int_equal(learn_limit_allow(&l, 1, t, gap), 1);
	assert_int_equal(learn_limit_allow(&l, 1, t + 50, gap), 0);
	assert_int_equal(learn_limit_allow(&l, 2, t + 50, gap), 1);
	assert_int_equal(learn_limit_allow(&l, 1, t + 99, gap), 0);
	assert_int_equal(learn_limit_allow(&l, 1, t + 100, gap), 1);
	assert_int_equal(learn_limit_allow(&l, 2, t + 120, gap), 0);
	assert_int_equal(learn_limit_allow(&l, 2, t + 150, gap), 1);
	/* a browser's six SSRCs (3 media + 3 RTX) at once: each once per gap */
	memset(&l, 0, sizeof(l));
	int sent = 0;
	for (uint64_t ms = 0; ms < 1000; ms += 5)
		for (uint32_t s = 10; s < 16; s++)
			sent += learn_limit_allow(&l, s, t + ms, gap);
	assert_int_equal(sent, 6 * 10);
	/* random SSRCs: at most LEARN_LIMIT_BURST per window */
	memset(&l, 0, sizeof(l));
	rng_state = 42;
	sent = 0;
	for (int i = 0; i < 1000; i++)
		sent += learn_limit_allow(&l, rnd(), t + (uint64_t)i / 10, gap);   /* all in one window */
	assert_int_equal(sent, LEARN_LIMIT_BURST);
	assert_int_equal(learn_limit_allow(&l, 123456, t + gap, gap), 1);     /* the next window */
	/* more SSRCs than slots: an evicted one may be reported again (the burst cap still holds) */
	memset(&l, 0, sizeof(l));
	for (uint32_t s = 0; s < LEARN_LIMIT_SLOTS; s++)
		assert_int_equal(learn_limit_allow(&l, 100 + s, t, gap), 1);
	assert_int_equal(learn_limit_allow(&l, 100, t + 1, gap), 0);       /* remembered */
	assert_int_equal(learn_limit_allow(&l, 999, t + 1, gap), 1);       /* evicts 100 */
	assert_int_equal(learn_limit_allow(&l, 100, t + 2, gap), 1);       /* forgotten: again */
	/* the clock wrapping the 64-bit counter: still one per gap */
	memset(&l, 0, sizeof(l));
	uint64_t w = UINT64_MAX - 30;
	l.win_start = w;
	assert_int_equal(learn_limit_allow(&l, 7, w, gap), 1);
	assert_int_equal(learn_limit_allow(&l, 7, w + 60, gap), 0);
	assert_int_equal(learn_limit_allow(&l, 7, w + 100, gap), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
