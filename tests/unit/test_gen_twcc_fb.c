/*
 * test_gen_twcc_fb.c - unit tests of mmr-gen's receiver feedback (gen/twcc_fb.c) and of the
 * extensions in its packets (gen/media.c): the transport-wide numbers a receiver noted come back in
 * its feedback (RR + RTPFB FMT 15, parsed with lib/rtcp/twcc.h) with the missing ones as not
 * received and the arrival times to 250 us, across the 16-bit wrap; nothing new gives no feedback;
 * late copies, RTCP to the receiver and receivers of the sink port are left out; a publisher's
 * packets carry one transport-wide sequence over its streams and audio packets the audio level;
 * --browser-ext adds mid, playout-delay and video-content-type, every element found by lib/pkt's
 * extension walker.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "be_bytes.h"
#include "../../gen/media.h"
#include "../../gen/model.h"
#include "rtp.h"
#include "twcc.h"
#include "../../gen/twcc_fb.h"

#define HZ 1000000000ull          /* 1 GHz: 1000 cycles per microsecond */

static const struct gen_media_cfg MC = { .video_kbps = 1000, .keyframe_ms = 5000, .mtu_payload = 1200,
					 .audio_bytes = 100, .rtp_ext = 1, .video_codec = GEN_VC_VP8,
					 .dd_ext_id = GEN_DD_EXT_ID, .level_ext_id = 4, .talkers = 4 };

/* A copy for a receiver: RTP with a one-byte extension block holding transport-cc (id 1). */
static uint32_t copy(uint8_t *p, uint16_t tw)
{
	memset(p, 0, 64);
	p[0] = 0x90;
	p[1] = 96;
	put_be32(p + 8, 0x40000000u);
	p[12] = 0xbe;
	p[13] = 0xde;
	put_be16(p + 14, 1);
	p[16] = 0x00;             /* a padding byte first */
	p[17] = 0x11;
	put_be16(p + 18, tw);
	return 40;
}

/* The feedback of receiver index i: parse it back. Returns the status count, -1 if none. */
static int feedback(struct twcc_fb_gen *t, uint32_t i, struct twcc_fb *fb, struct twcc_status *st)
{
	uint8_t buf[1500];
	uint32_t len = twcc_fb_build_next(t, i, 0, buf, sizeof(buf));
	if (len == 0)
		return -1;
	assert_int_equal(buf[1], 201);                       /* RR first */
	assert_int_equal(buf[8] & 0x1f, 15);                 /* FMT 15 */
	assert_int_equal(buf[9], 205);
	assert_int_equal(4u * (get_be16(buf + 10) + 1u), len - 8);
	assert_int_equal(get_be32(buf + 12), get_be32(buf + 4));   /* sender SSRC = the RR's */
	int n = twcc_fb_parse(buf + 8 + TWCC_HDR_LEN, len - 8 - TWCC_HDR_LEN, fb, st, 1024);
	assert_true(n >= 0);
	return n;
}

static void test_round_trip(void **state)
{
	(void)state;
	struct gen_model m;
	struct twcc_fb_gen t;
	uint8_t pkt[64];
	struct twcc_fb fb;
	static struct twcc_status st[1024];

	assert_int_equal(gen_model_init(&m, 1, 4, 4, 4, 0xc6120100u, -1, 1, &MC), 0);
	assert_int_equal(twcc_fb_init(&t, &m, 1, HZ), 0);
	assert_int_equal(t.n_rx, 4);
	assert_int_equal(feedback(&t, 1, &fb, st), -1);      /* nothing received yet */

	/* receiver p1: 65533, 65534, (65535 lost), 0, (1 lost), 2 */
	static const uint16_t seqs[] = { 65533, 65534, 0, 2 };
	static const uint64_t at_us[] = { 100000, 101000, 103250, 110000 };
	for (unsigned k = 0; k < 4; k++)
		twcc_fb_on_copy(&t, 1, pkt, copy(pkt, seqs[k]), at_us[k] * 1000);
	int n = feedback(&t, 1, &fb, st);
	assert_int_equal(n, 6);
	assert_int_equal(fb.base_seq, 65533);
	assert_int_equal(fb.status_count, 6);
	assert_int_equal(fb.fb_count, 0);
	static const uint8_t rx[6] = { 1, 1, 0, 1, 0, 1 };
	for (int k = 0, j = 0; k < 6; k++) {
		assert_int_equal(st[k].received, rx[k]);
		if (rx[k]) {
			int64_t d = st[k].arrival_us - (int64_t)at_us[j];
			assert_true(d > -250 && d < 250);
			j++;
		}
	}
	assert_int_equal(t.sent, 1);
	assert_int_equal(t.statuses, 6);

	/* nothing new: no feedback; a late copy (before the last feedback's end) is not reported */
	assert_int_equal(feedback(&t, 1, &fb, st), -1);
	twcc_fb_on_copy(&t, 1, pkt, copy(pkt, 1), 111000000ull);
	assert_int_equal(t.late, 1);
	assert_int_equal(feedback(&t, 1, &fb, st), -1);

	/* the next feedback starts after the previous one's last number */
	twcc_fb_on_copy(&t, 1, pkt, copy(pkt, 4), 112000000ull);
	n = feedback(&t, 1, &fb, st);
	assert_int_equal(n, 2);
	assert_int_equal(fb.base_seq, 3);
	assert_int_equal(fb.fb_count, 1);
	assert_int_equal(st[0].received, 0);
	assert_int_equal(st[1].received, 1);

	/* RTCP to the receiver (an SR) is not a copy */
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x80;
	pkt[1] = 200;
	twcc_fb_on_copy(&t, 2, pkt, 28, 113000000ull);
	assert_int_equal(feedback(&t, 2, &fb, st), -1);
	/* a copy without the element is counted */
	pkt[0] = 0x80;
	pkt[1] = 96;
	twcc_fb_on_copy(&t, 2, pkt, 28, 113000000ull);
	assert_int_equal(t.no_ext, 1);

	twcc_fb_free(&t);
	gen_model_free(&m);
}

static void test_overflow_and_sink(void **state)
{
	(void)state;
	struct gen_model m;
	struct twcc_fb_gen t;
	uint8_t pkt[64];
	struct twcc_fb fb;
	static struct twcc_status st[1024];

	/* sink port 1, every 2nd participant a probe: only p0 and p2 send feedback */
	assert_int_equal(gen_model_init(&m, 1, 4, 2, 2, 0xc6120100u, 1, 2, &MC), 0);
	assert_int_equal(twcc_fb_init(&t, &m, 1, HZ), 0);
	assert_int_equal(t.n_rx, 2);
	assert_int_equal(t.part_of[0], 0);
	assert_int_equal(t.part_of[1], 2);
	twcc_fb_on_copy(&t, 1, pkt, copy(pkt, 7), 1000000);  /* a sink receiver: ignored */
	assert_int_equal(t.recorded, 0);

	/* more than a window between feedbacks: the oldest are given up, the rest reported */
	for (uint32_t k = 0; k < TWFB_WIN + 100; k++)
		twcc_fb_on_copy(&t, 2, pkt, copy(pkt, (uint16_t)k), (1000 + k) * 1000ull);
	assert_true(t.overflow >= 1);
	int n = feedback(&t, 1, &fb, st);
	assert_true(n > 0 && n <= (int)TWFB_WIN);
	assert_int_equal((uint16_t)(fb.base_seq + n), (uint16_t)(TWFB_WIN + 100));
	for (int k = 0; k < n; k++)
		assert_int_equal(st[k].received, 1);
	twcc_fb_free(&t);
	gen_model_free(&m);
}

static void test_media_extensions(void **state)
{
	(void)state;
	struct gen_model m;
	uint8_t p[1600];

	assert_int_equal(gen_model_init(&m, 1, 4, 4, 4, 0xc6120100u, -1, 1, &MC), 0);
	/* participant 0's video and audio share one transport-wide sequence */
	struct gen_stream *v = &m.streams[0], *a = &m.streams[1];
	assert_int_equal(v->part, 0);
	assert_int_equal(a->part, 0);
	assert_int_equal(a->kind, GEN_AUDIO);
	uint16_t expect = 0;
	for (int k = 0; k < 3; k++) {
		struct gen_frame_plan fp;
		gen_frame_plan(&MC, v, &fp);
		for (uint32_t i = 0; i < fp.npkts; i++) {
			gen_build_rtp(&MC, v, 0, &fp, i, 0, p);
			assert_int_equal(p[16], 0x11);
			assert_int_equal(get_be16(p + 17), expect++);
		}
		gen_frame_done(v, &fp);
		gen_frame_plan(&MC, a, &fp);
		gen_build_rtp(&MC, a, 1, &fp, 0, 0, p);
		assert_int_equal(get_be16(p + 14), 3);          /* 3 words: tcc, abs-send-time, level */
		assert_int_equal(get_be16(p + 17), expect++);
		assert_int_equal(p[23], 4 << 4);                /* audio level, id 4, 1 byte */
		assert_int_equal(p[24], gen_audio_level(&MC, a));
		assert_int_equal(p[28], 0x78);                  /* the Opus TOC after the block */
		gen_frame_done(a, &fp);
	}
	/* the talker of the first 3 s is publisher 0: loud with the voice bit; the rest quieter */
	struct gen_stream s = *a;
	s.frame = 10;
	uint8_t l0 = gen_audio_level(&MC, &s);
	assert_true((l0 & 0x80) && (l0 & 0x7f) < 20);
	s.slot = 2 * 3 + 1;                                     /* publisher 3: room noise */
	assert_true((gen_audio_level(&MC, &s) & 0x7f) >= 90);
	s.slot = 2 * 1 + 1;
	s.frame = GEN_TALK_PKTS + 10;                           /* publisher 1 talks next */
	l0 = gen_audio_level(&MC, &s);
	assert_true((l0 & 0x80) && (l0 & 0x7f) < 20);
	gen_model_free(&m);
}

/* --browser-ext: each element where rtp_find_ext looks for it, the payload right after the block. */
static void test_browser_extensions(void **state)
{
	(void)state;
	struct gen_media_cfg mc = MC;
	struct gen_model m;
	uint8_t p[1600];
	struct rtp_info ri;
	uint16_t off, len;

	mc.browser_ext = 1;
	assert_int_equal(gen_model_init(&m, 1, 4, 4, 4, 0xc6120100u, -1, 1, &mc), 0);
	for (unsigned si = 0; si < 2; si++) {
		struct gen_stream *s = &m.streams[si];
		struct gen_frame_plan fp;
		gen_frame_plan(&mc, s, &fp);
		uint32_t n = gen_build_rtp(&mc, s, si, &fp, 0, 0, p);
		assert_int_equal(rtp_parse(p, n, &ri), MMR_DROP_NONE);
		static const uint8_t ids[] = { 1, 2, 9, 6, 7 }, lens[] = { 2, 3, 1, 3, 1 };
		for (unsigned k = 0; k < sizeof(ids); k++) {
			assert_int_equal(rtp_find_ext(p, &ri, ids[k], &off, &len), 1);
			assert_int_equal(len, lens[k]);
		}
		assert_int_equal(p[off - 2 - 4], '0');         /* mid "0", before playout-delay */
		if (si == 1) {
			assert_int_equal(rtp_find_ext(p, &ri, 4, &off, &len), 1);   /* audio level */
			assert_int_equal(p[ri.hdr_len], 0x78);      /* the Opus TOC after the block */
		} else {
			assert_int_equal(p[ri.hdr_len] & 0x80, 0x80); /* the VP8 descriptor's X bit */
		}
		gen_frame_done(s, &fp);
	}
	gen_model_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_overflow_and_sink),
		cmocka_unit_test(test_media_extensions),
		cmocka_unit_test(test_browser_extensions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
