/*
 * test_sdp.c - unit tests of lib/sdp (sdp_offer.c, sdp_answer.c) against offers recorded from real
 * WebRTC stacks (tests/fixtures/sdp/, recorded by record.py from headless Chromium 156 and
 * python3-aiortc 1.4): each parsed to the fields it has; each answer checked line by line for what it
 * must and must not contain, and parsed back with the same parser; receive slots, roles, codec
 * preference, rid simulcast; then malformed offers, each refused with an error naming its line
 * (truncated, huge lines, bad numbers, duplicate mids and payload types, missing fingerprint or ICE
 * credentials, unsupported codecs only, ...), every prefix of every fixture on an exact-size heap copy,
 * and random byte damage (AddressSanitizer sees any read past the end).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sdp.h"
#include "unit_util.h"

static struct sdp_offer offer, back;
static struct sdp_result res;
static char answer[65536];
static char err[256];

static const char FP[] = "4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:3A:1B:21:E8:D8:AC:8B:C0:"
			 "5B:4C:31:E6";

static struct sdp_answer_cfg base_cfg(void)
{
	struct sdp_answer_cfg c = {
		.ice_ufrag = "mmrU", .ice_pwd = "q9UvYFJ5Ww8MrRC0cjPq3Bgx", .fingerprint = FP,
		.cand_ip = "198.51.100.7", .cand_port = 40000, .cname = "mmr", .session_id = 42,
		.may_send = 1, .may_recv = 1, .n_video_slots = 2, .n_audio_slots = 1,
		.video_ssrc = { 1001, 1002 }, .video_rtx_ssrc = { 2001, 2002 }, .audio_ssrc = { 3001 },
	};
	return c;
}

/* A fixture without its "# recorded by" header line, in *len bytes (static buffer). */
static const char *fixture(const char *name, size_t *len)
{
	static char buf[SDP_MAX_TEXT + 1];
	char path[512];
	snprintf(path, sizeof(path), "%s/tests/fixtures/sdp/%s.sdp", MMR_SRC_DIR, name);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	assert_true(n > 0 && buf[0] == '#');
	assert_non_null(strstr(buf, "# recorded by record.py from "));
	char *nl = strchr(buf, '\n');
	assert_non_null(nl);
	*len = n - (size_t)(nl + 1 - buf);
	return nl + 1;
}

static void parse_fixture(const char *name)
{
	size_t len;
	const char *t = fixture(name, &len);
	/* exact-size heap copy without a NUL: the parser must stop at len */
	uint8_t *h = heap_copy((const uint8_t *)t, (uint32_t)len);
	int rc = sdp_parse_offer((const char *)h, len, &offer, err, sizeof(err));
	free(h);
	if (rc != 0)
		print_message("%s: %s\n", name, err);
	assert_int_equal(rc, 0);
}

/* The answer's lines of m-section k (0: the session part) into a NUL-separated copy; counts lines. */
static int count_line(const char *text, const char *line)
{
	int n = 0;
	size_t l = strlen(line);
	for (const char *p = text; (p = strstr(p, line)); p += l)
		if ((p == text || p[-1] == '\n') && p[l] == '\r' && p[l + 1] == '\n')
			n++;
	return n;
}

/* The text of m-section k of the answer (k from 0), copied into sec. */
static void section(const char *text, int k, char *sec, size_t cap)
{
	const char *p = text;
	for (int i = 0; i <= k; i++) {
		p = strstr(p + (i ? 1 : 0), "\r\nm=");
		assert_non_null(p);
	}
	p += 2;
	const char *e = strstr(p + 1, "\r\nm=");
	size_t n = e ? (size_t)(e - p) + 2 : strlen(p);
	assert_true(n < cap);
	memcpy(sec, p, n);
	sec[n] = 0;
}

static int do_answer(const struct sdp_answer_cfg *cfg)
{
	int n = sdp_answer(&offer, cfg, answer, sizeof(answer), &res, err, sizeof(err));
	if (n < 0)
		print_message("answer refused: %s\n", err);
	return n;
}

/* The answer parses with the same parser; its m-sections agree with the result. */
static void parse_back(void)
{
	int rc = sdp_parse_offer(answer, strlen(answer), &back, err, sizeof(err));
	if (rc)
		print_message("answer does not parse back: %s\n%s", err, answer);
	assert_int_equal(rc, 0);
	assert_int_equal(back.n_media, offer.n_media);
	assert_true(back.ice_lite);
	for (int i = 0; i < back.n_media; i++) {
		const struct sdp_media *m = &back.m[i];
		const struct sdp_result_media *r = &res.m[i];
		assert_string_equal(m->mid, offer.m[i].mid);
		if (!r->accepted) {
			assert_true(m->port0);
			continue;
		}
		assert_int_equal(m->port, 40000);
		assert_string_equal(sdp_media_ufrag(&back, i), "mmrU");
		assert_string_equal(sdp_media_fingerprint(&back, i), FP);
		assert_int_equal(sdp_media_setup(&back, i), SDP_SETUP_PASSIVE);
		assert_int_equal(m->dir, r->dir);
		assert_true(m->rtcp_mux && m->rtcp_mux_only);
		assert_int_equal(m->n_pt, r->rtx_pt ? 2 : 1);
		assert_int_equal(m->pt[0].pt, r->pt);
		if (r->rtx_pt) {
			assert_int_equal(m->pt[1].pt, r->rtx_pt);
			assert_int_equal(m->pt[1].apt, r->pt);
		}
		assert_int_equal(m->pt[0].fb & ~SDP_FB_OTHER, r->fb);
		int next = 0;
		for (int e = 0; e < SDP_EXT_N; e++) {
			assert_int_equal(sdp_media_ext_id(m, (enum sdp_ext)e), r->ext_id[e]);
			next += r->ext_id[e] != 0;
		}
		assert_int_equal(m->n_ext, next);
		assert_int_equal(m->n_ssrc, r->receive ? (r->out_rtx_ssrc ? 2 : 1) : 0);
		if (r->receive)
			assert_int_equal(m->ssrc[0].ssrc, r->out_ssrc);
		assert_int_equal(m->n_rid, r->n_rid);
	}
}

/* ---- the recorded offers ---- */

static void test_vp9_publisher(void **state)
{
	(void)state;
	parse_fixture("chromium_vp9_l3t3");
	assert_int_equal(offer.n_media, 2);
	assert_int_equal(offer.n_bundle, 2);
	assert_true(offer.extmap_allow_mixed);
	assert_string_equal(sdp_media_ufrag(&offer, 0), "joeq");
	assert_string_equal(sdp_media_fingerprint(&offer, 1), "36:54:1E:E7:A7:49:A3:01:F7:34:94:D6:B4:71:17:63:"
			    "11:8C:AA:52:EF:6F:91:6D:B6:49:7D:CF:78:BB:20:CF");
	assert_int_equal(sdp_media_setup(&offer, 0), SDP_SETUP_ACTPASS);
	const struct sdp_media *v = &offer.m[1];
	assert_int_equal(v->kind, SDP_KIND_VIDEO);
	assert_int_equal(v->dir, SDP_SENDONLY);
	assert_true(v->rtcp_mux && v->rtcp_rsize);
	assert_int_equal(v->n_pt, 23);
	const struct sdp_pt *p = sdp_media_pt(v, 98);
	assert_int_equal(p->enc, SDP_ENC_VP9);
	assert_int_equal(p->vp9_profile_id, 0);
	assert_int_equal(p->fb, SDP_FB_NACK | SDP_FB_PLI | SDP_FB_FIR | SDP_FB_REMB | SDP_FB_TWCC);
	assert_int_equal(sdp_media_pt(v, 100)->vp9_profile_id, 2);
	assert_int_equal(sdp_media_pt(v, 99)->enc, SDP_ENC_RTX);
	assert_int_equal(sdp_media_pt(v, 99)->apt, 98);
	assert_int_equal(sdp_media_pt(v, 102)->h264_pmode, 1);
	assert_int_equal(sdp_media_pt(v, 102)->h264_plid, 0x42001f);
	assert_int_equal(sdp_media_pt(v, 45)->av1_level_idx, 5);
	assert_int_equal(sdp_media_pt(v, 118)->enc, SDP_ENC_RED);
	assert_int_equal(sdp_media_pt(v, 120)->enc, SDP_ENC_ULPFEC);
	assert_int_equal(sdp_media_ext_id(v, SDP_EXT_DD), 12);
	assert_int_equal(sdp_media_ext_id(v, SDP_EXT_TWCC), 3);
	assert_int_equal(sdp_media_ext_id(v, SDP_EXT_RID), 10);
	assert_int_equal(v->n_ssrc, 2);
	assert_int_equal(v->n_fid, 1);
	assert_int_equal(v->fid[0][0], 1847236608u);
	assert_int_equal(v->fid[0][1], 1597591478u);
	assert_string_equal(v->ssrc[0].cname, "FxyM5sElQhU272q9");
	const struct sdp_media *a = &offer.m[0];
	assert_int_equal(sdp_media_pt(a, 111)->enc, SDP_ENC_OPUS);
	assert_int_equal(sdp_media_pt(a, 111)->opus_fec, 1);
	assert_int_equal(sdp_media_pt(a, 111)->opus_minptime, 10);
	assert_int_equal(sdp_media_ext_id(a, SDP_EXT_AUDIO_LEVEL), 1);

	struct sdp_answer_cfg cfg = base_cfg();
	assert_true(do_answer(&cfg) > 0);
	assert_int_equal(res.n_accepted, 2);
	assert_string_equal(res.remote_ufrag, "joeq");
	const struct sdp_result_media *r = &res.m[1];
	assert_int_equal(r->codec, MMR_CODEC_VP9);
	assert_int_equal(r->pt, 98);
	assert_int_equal(r->rtx_pt, 99);
	assert_true(r->publish && !r->receive);
	assert_int_equal(r->dir, SDP_RECVONLY);
	assert_int_equal(r->n_ssrc, 1);
	assert_int_equal(r->ssrc[0], 1847236608u);
	assert_int_equal(r->rtx_ssrc[0], 1597591478u);
	assert_int_equal(r->ext_id[SDP_EXT_DD], 0);        /* DD only for AV1 */
	assert_int_equal(r->ext_id[SDP_EXT_RID], 0);       /* no simulcast */
	assert_int_equal(r->ext_id[SDP_EXT_MID], 4);
	assert_int_equal(res.m[0].codec, MMR_CODEC_OPUS);
	assert_int_equal(res.m[0].fb, SDP_FB_TWCC);
	assert_int_equal(res.m[0].ext_id[SDP_EXT_AUDIO_LEVEL], 1);

	char args[512];
	assert_true(sdp_result_participant_args(&res, args, sizeof(args)) > 0);
	assert_string_equal(args, "--rtcp nack,pli,fir,twcc,rsize --rtx 98:99 --ext twcc=3,abs-send-time=2,"
			    "audio-level=1,mid=4");
	assert_true(sdp_result_stream_args(&res.m[1], args, sizeof(args)) > 0);
	assert_string_equal(args, "--kind video --codec vp9 --mid 1 --ssrc 1847236608 --rtx-ssrc 1597591478 "
			    "--rtx-pt 99");
	assert_true(sdp_result_stream_args(&res.m[0], args, sizeof(args)) > 0);
	assert_string_equal(args, "--kind audio --codec opus --mid 0 --ssrc 3639707792");
	assert_int_equal(sdp_result_stream_args(&res.m[0], args, 20), -1);
	assert_string_equal(args, "");

	assert_int_equal(count_line(answer, "a=ice-lite"), 1);
	assert_int_equal(count_line(answer, "a=group:BUNDLE 0 1"), 1);
	assert_int_equal(count_line(answer, "a=extmap-allow-mixed"), 1);
	char sec[8192];
	section(answer, 1, sec, sizeof(sec));
	assert_int_equal(strncmp(sec, "m=video 40000 UDP/TLS/RTP/SAVPF 98 99\r\n", 39), 0);
	static const char *const must[] = {
		"c=IN IP4 198.51.100.7", "a=mid:1", "a=ice-ufrag:mmrU", "a=ice-pwd:q9UvYFJ5Ww8MrRC0cjPq3Bgx",
		"a=setup:passive", "a=recvonly", "a=rtcp-mux", "a=rtcp-mux-only", "a=rtcp-rsize",
		"a=rtpmap:98 VP9/90000", "a=fmtp:98 profile-id=0", "a=rtcp-fb:98 nack", "a=rtcp-fb:98 nack pli",
		"a=rtcp-fb:98 ccm fir", "a=rtcp-fb:98 transport-cc",
		"a=rtpmap:99 rtx/90000", "a=fmtp:99 apt=98",
		"a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
		"a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
		"a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
		"a=candidate:1 1 udp 2130706431 198.51.100.7 40000 typ host", "a=end-of-candidates",
	};
	for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++) {
		if (count_line(sec, must[i]) != 1)
			print_message("missing: %s\n", must[i]);
		assert_int_equal(count_line(sec, must[i]), 1);
	}
	assert_null(strstr(sec, "a=fingerprint:sha-256 36:"));
	assert_null(strstr(sec, "a=ssrc"));             /* a publisher's section: nothing sent to it */
	assert_null(strstr(sec, "red/"));
	assert_null(strstr(sec, "ulpfec"));
	assert_null(strstr(sec, "H264"));
	assert_null(strstr(sec, "dependency-descriptor"));
	assert_null(strstr(sec, "toffset"));
	assert_null(strstr(sec, "goog-remb"));          /* offered, but not beside transport-cc */
	parse_back();
}

static void test_av1_publisher(void **state)
{
	(void)state;
	parse_fixture("chromium_av1_l3t3");
	struct sdp_answer_cfg cfg = base_cfg();
	assert_true(do_answer(&cfg) > 0);
	const struct sdp_result_media *r = &res.m[1];
	assert_int_equal(r->codec, MMR_CODEC_AV1);
	assert_int_equal(r->pt, 45);
	assert_int_equal(r->rtx_pt, 46);
	assert_int_equal(r->ext_id[SDP_EXT_DD], 12);
	assert_int_equal(r->ssrc[0], 2823458025u);
	assert_int_equal(r->rtx_ssrc[0], 2887153264u);
	char sec[8192];
	section(answer, 1, sec, sizeof(sec));
	assert_int_equal(count_line(sec, "a=extmap:12 https://aomediacodec.github.io/av1-rtp-spec/"
				    "#dependency-descriptor-rtp-header-extension"), 1);
	assert_int_equal(count_line(sec, "a=fmtp:45 level-idx=5;profile=0;tier=0"), 1);
	parse_back();
	char args[512];
	assert_true(sdp_result_stream_args(&res.m[1], args, sizeof(args)) > 0);
	assert_string_equal(args, "--kind video --codec av1 --dd-ext 12 --mid 1 --ssrc 2823458025 --rtx-ssrc "
			    "2887153264 --rtx-pt 46");
	/* DD id 12 needs no two-byte form; the caller's VP8-only preference picks VP8 instead */
	static const uint8_t vp8_only[] = { MMR_CODEC_VP8, 0 };
	cfg.video_codecs = vp8_only;
	assert_true(do_answer(&cfg) > 0);
	assert_int_equal(res.m[1].codec, MMR_CODEC_VP8);
	assert_int_equal(res.m[1].pt, 96);
	assert_int_equal(res.m[1].ext_id[SDP_EXT_DD], 0);
	static const uint8_t h264_first[] = { MMR_CODEC_H264, MMR_CODEC_VP8, 0 };
	cfg.video_codecs = h264_first;
	assert_true(do_answer(&cfg) > 0);
	assert_int_equal(res.m[1].codec, MMR_CODEC_H264);
	assert_int_equal(res.m[1].pt, 102);
	assert_int_equal(res.m[1].rtx_pt, 103);
	section(answer, 1, sec, sizeof(sec));
	assert_int_equal(count_line(sec, "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;"
				    "profile-level-id=42001f"), 1);
	parse_back();
}

static void test_vp8_simulcast(void **state)
{
	(void)state;
	parse_fixture("chromium_vp8_simulcast");
	const struct sdp_media *v = &offer.m[1];
	assert_int_equal(v->n_rid, 3);
	assert_true(v->has_simulcast && v->sim_send);
	assert_string_equal(v->rid[0].id, "q");
	assert_true(v->rid[2].send && v->rid[2].in_simulcast);
	assert_int_equal(v->n_ssrc, 0);
	struct sdp_answer_cfg cfg = base_cfg();
	assert_true(do_answer(&cfg) > 0);
	const struct sdp_result_media *r = &res.m[1];
	assert_int_equal(r->codec, MMR_CODEC_VP8);
	assert_int_equal(r->n_rid, 3);
	assert_string_equal(r->rid[1], "h");
	assert_int_equal(r->n_ssrc, 0);
	assert_int_equal(r->ext_id[SDP_EXT_RID], 10);
	assert_int_equal(r->ext_id[SDP_EXT_RRID], 11);
	char sec[8192];
	section(answer, 1, sec, sizeof(sec));
	assert_int_equal(count_line(sec, "a=rid:q recv"), 1);
	assert_int_equal(count_line(sec, "a=rid:h recv"), 1);
	assert_int_equal(count_line(sec, "a=rid:f recv"), 1);
	assert_int_equal(count_line(sec, "a=simulcast:recv q;h;f"), 1);
	assert_int_equal(count_line(sec, "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"), 1);
	assert_int_equal(count_line(sec, "a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"), 1);
	parse_back();
	char args[512];
	assert_true(sdp_result_stream_args(r, args, sizeof(args)) > 0);
	/* SSRCs learned from mid/rid, RTX SSRCs from repaired-rid; rids in a=simulcast order */
	assert_string_equal(args, "--kind video --codec vp8 --mid 1 --rid q,h,f --rtx-pt 97");
	assert_true(sdp_result_participant_args(&res, args, sizeof(args)) > 0);
	assert_non_null(strstr(args, ",rid=10,rrid=11"));
	/* without the rid extension nothing tells the encodings apart: no stream */
	struct sdp_result_media norid = *r;
	norid.ext_id[SDP_EXT_RID] = 0;
	assert_int_equal(sdp_result_stream_args(&norid, args, sizeof(args)), -1);
	/* without repaired-rid the RTX SSRCs cannot be learned: no --rtx-pt */
	norid = *r;
	norid.ext_id[SDP_EXT_RRID] = 0;
	assert_true(sdp_result_stream_args(&norid, args, sizeof(args)) > 0);
	assert_string_equal(args, "--kind video --codec vp8 --mid 1 --rid q,h,f");
	/* a viewer-only participant: its simulcast is not taken, the section is inactive */
	cfg.may_send = 0;
	assert_true(do_answer(&cfg) > 0);
	assert_int_equal(res.m[1].dir, SDP_INACTIVE);
	assert_int_equal(res.m[1].n_rid, 0);
	assert_non_null(strstr(res.m[1].reason, "may not send"));
	section(answer, 1, sec, sizeof(sec));
	assert_int_equal(count_line(sec, "a=inactive"), 1);
	assert_null(strstr(sec, "a=rid"));
	parse_back();
}

static void test_viewer_slots(void **state)
{
	(void)state;
	parse_fixture("chromium_viewer");
	assert_int_equal(offer.n_media, 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(offer.m[i].dir, SDP_RECVONLY);
	assert_int_equal(offer.m[1].n_pt, 34);
	struct sdp_answer_cfg cfg = base_cfg();
	cfg.may_send = 0;
	assert_true(do_answer(&cfg) > 0);
	assert_int_equal(res.n_video_slots_used, 2);
	assert_int_equal(res.n_audio_slots_used, 1);
	assert_int_equal(res.m[0].slot, 0);
	assert_int_equal(res.m[0].out_ssrc, 3001);
	assert_int_equal(res.m[0].out_rtx_ssrc, 0);
	assert_int_equal(res.m[1].slot, 0);
	assert_int_equal(res.m[1].out_ssrc, 1001);
	assert_int_equal(res.m[1].out_rtx_ssrc, 2001);
	assert_int_equal(res.m[2].slot, 1);
	assert_int_equal(res.m[2].out_ssrc, 1002);
	char args[512];
	assert_int_equal(sdp_result_stream_args(&res.m[1], args, sizeof(args)), -1);   /* publishes nothing */
	assert_true(sdp_result_participant_args(&res, args, sizeof(args)) > 0);
	assert_string_equal(args, "--rtcp nack,pli,fir,twcc,rsize --rtx 96:97 --ext twcc=3,abs-send-time=2,"
			    "audio-level=1,mid=4");
	for (int i = 0; i < 3; i++) {
		assert_true(res.m[i].receive && !res.m[i].publish);
		assert_int_equal(res.m[i].dir, SDP_SENDONLY);
	}
	char sec[8192];
	section(answer, 2, sec, sizeof(sec));
	assert_int_equal(count_line(sec, "a=sendonly"), 1);
	assert_int_equal(count_line(sec, "a=msid:mmr-v1 mmr-v1"), 1);
	assert_int_equal(count_line(sec, "a=ssrc-group:FID 1002 2002"), 1);
	assert_int_equal(count_line(sec, "a=ssrc:1002 cname:mmr"), 1);
	assert_int_equal(count_line(sec, "a=ssrc:1002 msid:mmr-v1 mmr-v1"), 1);
	assert_int_equal(count_line(sec, "a=ssrc:2002 cname:mmr"), 1);
	section(answer, 0, sec, sizeof(sec));
	assert_int_equal(count_line(sec, "a=ssrc:3001 cname:mmr"), 1);
	assert_int_equal(count_line(sec, "a=msid:mmr-a0 mmr-a0"), 1);
	parse_back();
	/* one video slot: the second video section stays in the BUNDLE, inactive, with the reason */
	cfg.n_video_slots = 1;
	assert_true(do_answer(&cfg) > 0);
	assert_int_equal(res.m[2].dir, SDP_INACTIVE);
	assert_true(res.m[2].accepted);
	assert_int_equal(res.m[2].slot, -1);
	assert_string_equal(res.m[2].reason, "inactive: no video receive slot left");
	parse_back();
	/* a publisher-only participant cannot receive */
	cfg = base_cfg();
	cfg.may_recv = 0;
	assert_true(do_answer(&cfg) > 0);
	assert_string_equal(res.m[0].reason, "inactive: the participant may not receive");
}

static void test_sendrecv_and_datachannel(void **state)
{
	(void)state;
	parse_fixture("chromium_datachannel");
	assert_int_equal(offer.n_media, 3);
	assert_int_equal(offer.m[2].kind, SDP_KIND_APPLICATION);
	struct sdp_answer_cfg cfg = base_cfg();
	assert_true(do_answer(&cfg) > 0);
	assert_int_equal(res.n_accepted, 2);
	assert_int_equal(res.m[0].dir, SDP_SENDRECV);
	assert_int_equal(res.m[1].dir, SDP_SENDRECV);
	assert_true(res.m[1].publish && res.m[1].receive);
	assert_int_equal(res.m[1].n_ssrc, 1);
	assert_false(res.m[2].accepted);
	assert_string_equal(res.m[2].reason, "data channels are not supported by the MMR");
	assert_int_equal(count_line(answer, "a=group:BUNDLE 0 1"), 1);
	char sec[4096];
	section(answer, 2, sec, sizeof(sec));
	assert_string_equal(sec, "m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
			    "a=mid:2\r\n");
	parse_back();
	/* a publisher-only participant: its sendrecv sections become recvonly */
	cfg.may_recv = 0;
	assert_true(do_answer(&cfg) > 0);
	assert_int_equal(res.m[1].dir, SDP_RECVONLY);
	parse_back();

	parse_fixture("chromium_sendrecv");
	cfg = base_cfg();
	assert_true(do_answer(&cfg) > 0);
	assert_int_equal(res.m[1].ssrc[0], 1554612853u);
	assert_int_equal(res.m[1].rtx_ssrc[0], 1063515774u);
	parse_back();
}

static void test_aiortc(void **state)
{
	(void)state;
	parse_fixture("aiortc_sendrecv");
	/* aiortc offers one ufrag per m-section even in its BUNDLE group: the tag's is taken */
	assert_string_equal(sdp_media_ufrag(&offer, 0), "vzuL");
	assert_string_equal(sdp_media_ufrag(&offer, 1), "tqUk");
	struct sdp_answer_cfg cfg = base_cfg();
	assert_true(do_answer(&cfg) > 0);
	assert_string_equal(res.remote_ufrag, "vzuL");
	assert_int_equal(res.m[1].codec, MMR_CODEC_VP8);
	assert_int_equal(res.m[1].pt, 97);
	assert_int_equal(res.m[1].rtx_pt, 98);
	/* aiortc gives id 2 to audio-level (audio) and abs-send-time (video) in one BUNDLE: the first
	 * keeps it, so the video has no abs-send-time, hence no REMB; no transport-wide-cc offered */
	assert_int_equal(res.m[0].pt, 96);
	assert_int_equal(res.m[0].ext_id[SDP_EXT_AUDIO_LEVEL], 2);
	assert_int_equal(res.m[1].ext_id[SDP_EXT_ABS_SEND_TIME], 0);
	assert_int_equal(res.m[1].ext_id[SDP_EXT_MID], 1);
	assert_int_equal(res.m[1].fb, SDP_FB_NACK | SDP_FB_PLI);
	char sec[4096];
	section(answer, 1, sec, sizeof(sec));
	assert_null(strstr(sec, "abs-send-time"));
	assert_null(strstr(sec, "goog-remb"));
	parse_back();
	char args[512];
	assert_true(sdp_result_participant_args(&res, args, sizeof(args)) > 0);
	assert_string_equal(args, "--rtcp nack,pli --rtx 97:98 --ext audio-level=2,mid=1");
	assert_true(sdp_result_stream_args(&res.m[1], args, sizeof(args)) > 0);
	assert_string_equal(args, "--kind video --codec vp8 --mid 1 --ssrc 2963078404 --rtx-ssrc 2621690736 "
			    "--rtx-pt 98");
}

/* ---- refusals ---- */

#define OK_OFFER \
	"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n" \
	"m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 0.0.0.0\r\n" \
	"a=ice-ufrag:abcd\r\na=ice-pwd:0123456789012345678901\r\n" \
	"a=fingerprint:sha-256 " \
	"97:00:9E:57:5F:EF:8B:55:74:BD:7A:F4:4D:03:54:A8:DB:6D:0E:8D:29:C7:CC:49:0A:2C:CA:E5:77:1E:1A:C5\r\n" \
	"a=setup:actpass\r\na=mid:0\r\na=sendonly\r\na=rtcp-mux\r\n" \
	"a=rtpmap:96 VP8/90000\r\na=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n"

static void expect_refused(const char *text, const char *what)
{
	size_t len = strlen(text);
	uint8_t *h = heap_copy((const uint8_t *)text, (uint32_t)len);
	int rc = sdp_parse_offer((const char *)h, len, &offer, err, sizeof(err));
	free(h);
	if (rc == 0 || !strstr(err, what))
		print_message("expected '%s', got rc %d '%s'\n", what, rc, err);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(err, what));
}

static void test_malformed(void **state)
{
	(void)state;
	assert_int_equal(sdp_parse_offer(OK_OFFER, strlen(OK_OFFER), &offer, err, sizeof(err)), 0);
	static char big[SDP_MAX_TEXT + 100];
	static const struct { const char *add, *what; } cases[] = {
		{ "a=rtpmap:98 VP9/90000\r\n", "line 18 (a=rtpmap:98 VP9/90000): rtpmap: payload type 98 is not on the m= line" },
		{ "a=rtpmap:96 VP8/90000\r\n", "a second rtpmap for payload type 96" },
		{ "a=rtpmap:300 VP8/90000\r\n", "payload type must be 0-127" },
		{ "m=video 9 RTP/SAVPF 100\r\na=mid:1\r\na=rtpmap:100 VP8\r\n", "clock rate" },
		{ "m=video 9 RTP/SAVPF 100\r\na=mid:1\r\na=rtpmap:100 VP8/abc\r\n", "clock rate" },
		{ "m=audio 9 RTP/SAVPF 100\r\na=mid:1\r\na=rtpmap:100 opus/48000/0\r\n", "channels must be 1-255" },
		{ "a=setup:passive\r\n", "a second, different a=setup" },
		{ "a=fmtp:96 profile-id=9\r\n", "fmtp profile-id must be 0-3" },
		{ "a=fmtp:96 packetization-mode=x\r\n", "packetization-mode" },
		{ "a=fmtp:96 profile-level-id=42001\r\n", "profile-level-id must be 6 hex digits" },
		{ "a=extmap:0 urn:ietf:params:rtp-hdrext:sdes:mid\r\n", "extmap id must be 1-255" },
		{ "a=extmap:256 urn:ietf:params:rtp-hdrext:sdes:mid\r\n", "extmap id must be 1-255" },
		{ "a=extmap:1 urn:x\r\na=extmap:1 urn:y\r\n", "extmap id 1 used twice" },
		{ "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\na=extmap:2 urn:ietf:params:rtp-hdrext:sdes:mid\r\n",
		  "extension mid offered twice" },
		{ "a=extmap:1/sideways urn:x\r\n", "extmap direction" },
		{ "a=ssrc:4294967296 cname:x\r\n", "SSRC must be 0-4294967295" },
		{ "a=ssrc:12x cname:x\r\n", "SSRC must be" },
		{ "a=ssrc-group:FID 1 2\r\n", "FID SSRC 1 has no a=ssrc line" },
		{ "a=ssrc-group:FID 1 1\r\n", "equals the media SSRC" },
		{ "a=rid:q sideways\r\n", "rid direction must be send or recv" },
		{ "a=rid:q! send\r\n", "rid must be" },
		{ "a=rid:q send\r\na=rid:q send\r\n", "rid 'q' declared twice" },
		{ "a=simulcast:send q;h\r\n", "rid 'q' has no 'a=rid:q send' before it" },
		{ "a=rid:q send\r\na=simulcast:recv q\r\n", "has no 'a=rid:q recv'" },
		{ "a=rid:q send\r\na=simulcast:send q;q\r\n", "listed twice" },
		{ "a=simulcast:\r\n", "expected 'a=simulcast" },
		{ "a=mid:1\r\n", "a second a=mid" },
		{ "a=ice-ufrag:ab\r\n", "ice-ufrag must be 4-256" },
		{ "a=ice-ufrag:wxyz\r\n", "a second, different ice-ufrag" },
		{ "a=ice-pwd:short\r\n", "ice-pwd must be 22-256" },
		{ "a=fingerprint:sha-256 00:11\r\n", "32 hex pairs" },
		{ "a=fingerprint:sha-256 ZZ:00:9E:57:5F:EF:8B:55:74:BD:7A:F4:4D:03:54:A8:DB:6D:0E:8D:29:C7:CC:49:0A:2C:CA:E5:77:1E:1A:C5\r\n",
		  "not a hex digit" },
		{ "a=setup:sometimes\r\n", "setup must be" },
		{ "a=rtpmap:97 rtx/90000\r\n", "a second rtpmap" },
		{ "a\r\n", "not a 'x=value' line" },
		{ "A=b\r\n", "not a 'x=value' line" },
		{ "a=:x\r\n", "an attribute without a name" },
		{ "a=x\001y\r\n", "control character 0x01" },
		{ "\r\n", "not a 'x=value' line" },
		{ "v=0\r\n", "a second v= line" },
		{ "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\n", "mid '0' already used by m-section 1" },
		{ "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n", "m-section 2 (video) has no a=mid" },
		{ "m=video 70000 UDP/TLS/RTP/SAVPF 96\r\n", "port must be 0-65535" },
		{ "m=video 9 UDP/TLS/RTP/SAVPF 96 96\r\n", "payload type 96 listed twice" },
		{ "m=video 9 UDP/TLS/RTP/SAVPF 128\r\n", "RTP payload type must be 0-127" },
		{ "m=video 9 UDP/TLS/RTP/SAVPF\r\n", "without formats" },
		{ "a=fmtp:96 apt=1\r\na=fmtp:96 apt=2\r\n", "a second fmtp" },
		{ "a=rtcp-fb:99 nack\r\n", "payload type 99 is not on the m= line" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(big, sizeof(big), "%s%s", OK_OFFER, cases[i].add);
		expect_refused(big, cases[i].what);
	}
	/* rtx without apt, apt not offered */
	expect_refused("v=0\r\na=group:BUNDLE 0\r\nm=video 9 RTP/SAVPF 96 97\r\na=mid:0\r\na=rtpmap:97 rtx/90000\r\n",
		       "rtx payload type 97 has no apt");
	expect_refused("v=0\r\na=group:BUNDLE 0\r\nm=video 9 RTP/SAVPF 96 97\r\na=mid:0\r\na=rtpmap:97 rtx/90000\r\n"
		       "a=fmtp:97 apt=95\r\n", "apt=95 is not offered");
	/* whole-offer reasons */
	expect_refused("", "empty offer");
	expect_refused("v=1\r\n", "line 1 (v=1): an offer starts with 'v=0'");
	expect_refused("v=0\r\ns=-\r\n", "no m= line");
	expect_refused("v=0\r\na=group:BUNDLE 0 x\r\nm=video 9 RTP/SAVPF 96\r\na=mid:0\r\n"
		       "a=ice-ufrag:abcd\r\na=ice-pwd:0123456789012345678901\r\n", "BUNDLE names mid 'x'");
	expect_refused("v=0\r\na=group:BUNDLE 0 0\r\n", "BUNDLE: mid '0' twice");
	expect_refused("v=0\r\nm=video 9 RTP/SAVPF 96\r\na=mid:0\r\n", "has no a=ice-ufrag and a=ice-pwd");
	expect_refused("v=0\r\na=ice-ufrag:abcd\r\na=ice-pwd:0123456789012345678901\r\nm=video 9 RTP/SAVPF 96\r\n"
		       "a=mid:0\r\n", "has no a=fingerprint:sha-256");
	/* a huge line, too many m-sections, too many payload types, an offer over 64 KB */
	memset(big, 0, sizeof(big));
	strcpy(big, OK_OFFER "a=x:");
	memset(big + strlen(big), 'y', 2000);
	strcat(big, "\r\n");
	expect_refused(big, "line 18 (a=x:yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy...): longer than 1024 bytes");
	strcpy(big, OK_OFFER);
	for (int i = 1; i <= SDP_MAX_MEDIA; i++)
		sprintf(big + strlen(big), "m=audio 9 RTP/SAVPF 111\r\na=mid:a%d\r\n", i);
	expect_refused(big, "more than 16 m-sections");
	strcpy(big, "v=0\r\nm=video 9 RTP/SAVPF");
	for (int i = 0; i <= SDP_MAX_PT; i++)
		sprintf(big + strlen(big), " %d", i);
	strcat(big, "\r\n");
	expect_refused(big, "more than 64 payload types");
	strcpy(big, OK_OFFER);
	while (strlen(big) <= SDP_MAX_TEXT)
		strcat(big, "a=filler:0123456789012345678901234567890123456789\r\n");
	expect_refused(big, "offer longer than 65536 bytes");
	/* a line without CRLF at the very end is fine; bare LF line ends too */
	assert_int_equal(sdp_parse_offer(OK_OFFER "a=x", strlen(OK_OFFER) + 3, &offer, err, sizeof(err)), 0);
	static const char lf[] = "v=0\na=group:BUNDLE 0\nm=video 9 RTP/SAVPF 96\na=mid:0\n"
		"a=ice-ufrag:abcd\na=ice-pwd:0123456789012345678901\na=fingerprint:sha-256 "
		"97:00:9E:57:5F:EF:8B:55:74:BD:7A:F4:4D:03:54:A8:DB:6D:0E:8D:29:C7:CC:49:0A:2C:CA:E5:77:1E:1A:C5\n";
	assert_int_equal(sdp_parse_offer(lf, strlen(lf), &offer, err, sizeof(err)), 0);
	assert_string_equal(offer.m[0].mid, "0");
}

static int answer_text(const char *text, const struct sdp_answer_cfg *cfg)
{
	assert_int_equal(sdp_parse_offer(text, strlen(text), &offer, err, sizeof(err)), 0);
	return sdp_answer(&offer, cfg, answer, sizeof(answer), &res, err, sizeof(err));
}

/* A fixture's text with "a=extmap:12 <DD>" after each "a=extmap:11 " line (a video section's last
 * extension): what Chromium offers once a page enables the DD on the transceiver
 * (setHeaderExtensionsToNegotiate; on a recvonly one it is 'stopped' by default). */
static const char *with_dd(const char *name)
{
	static char buf[SDP_MAX_TEXT + 1];
	size_t len, n = 0;
	const char *t = fixture(name, &len), *end = t + len;
	while (t < end) {
		const char *nl = memchr(t, '\n', (size_t)(end - t));
		size_t l = nl ? (size_t)(nl + 1 - t) : (size_t)(end - t);
		assert_true(n + l < sizeof(buf));
		memcpy(buf + n, t, l);
		n += l;
		if (!strncmp(t, "a=extmap:11 ", 12))
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "a=extmap:12 %s\r\n", sdp_ext_uris[SDP_EXT_DD]);
		assert_true(n < sizeof(buf));
		t += l;
	}
	buf[n] = 0;
	return buf;
}

/* A viewer's receive slots keep the offered Dependency Descriptor although their answer names VP9:
 * an AV1 publisher on the slot goes out with its DD, without which Chromium decodes AV1 spatial
 * layers above the first not at all (issue 13: receivers with ceilings 1 and 2 decoded 0 frames). A
 * section the participant sends VP9/VP8 on does not get it. */
static void test_viewer_slots_dd(void **state)
{
	(void)state;
	struct sdp_answer_cfg cfg = base_cfg();
	cfg.may_send = 0;
	assert_true(answer_text(with_dd("chromium_viewer"), &cfg) > 0);
	for (int i = 1; i < 3; i++) {
		assert_true(res.m[i].receive && !res.m[i].publish);
		assert_int_not_equal(res.m[i].codec, MMR_CODEC_AV1);
		assert_int_equal(res.m[i].ext_id[SDP_EXT_DD], 12);
		char sec[8192];
		section(answer, i, sec, sizeof(sec));
		assert_int_equal(count_line(sec, "a=extmap:12 https://aomediacodec.github.io/av1-rtp-spec/"
					    "#dependency-descriptor-rtp-header-extension"), 1);
	}
	assert_int_equal(res.m[0].ext_id[SDP_EXT_DD], 0);          /* audio */
	parse_back();
	/* sendrecv VP8: the participant would send a DD the MMR does not rewrite */
	cfg = base_cfg();
	assert_true(answer_text(with_dd("chromium_sendrecv"), &cfg) > 0);
	assert_true(res.m[1].publish && res.m[1].receive);
	assert_int_equal(res.m[1].codec, MMR_CODEC_VP8);
	assert_int_equal(res.m[1].ext_id[SDP_EXT_DD], 0);
	/* a viewer-only participant's sendrecv section is a receive slot: DD kept */
	cfg.may_send = 0;
	assert_true(answer_text(with_dd("chromium_sendrecv"), &cfg) > 0);
	assert_true(!res.m[1].publish && res.m[1].receive);
	assert_int_equal(res.m[1].ext_id[SDP_EXT_DD], 12);
}

/* The VP8 simulcast fixture with rid f renamed (its a=rid and a=simulcast lines). */
static const char *with_rid_f(const char *rid)
{
	static char buf[SDP_MAX_TEXT + 1];
	size_t len;
	const char *t = fixture("chromium_vp8_simulcast", &len);
	char *a = strstr(t, "a=rid:f send\r\n"), *b = strstr(t, "a=simulcast:send q;h;f\r\n");
	assert_true(a && b && a < b);
	snprintf(buf, sizeof(buf), "%.*sa=rid:%s send\r\n%.*sa=simulcast:send q;h;%s\r\n%s", (int)(a - t), t, rid,
		 (int)(b - (a + 14)), a + 14, rid, b + 24);
	return buf;
}

/* A learned stream's rid longer than the dataplane's 16 bytes (MMR_MID_MAX): the answer is refused
 * naming it (it would have been answered and then refused by `stream add`); 16 bytes are taken. */
static void test_simulcast_rid_too_long(void **state)
{
	(void)state;
	struct sdp_answer_cfg cfg = base_cfg();
	assert_true(answer_text(with_rid_f("f234567890123456"), &cfg) > 0);
	char args[512];
	assert_true(sdp_result_stream_args(&res.m[1], args, sizeof(args)) > 0);
	assert_string_equal(args, "--kind video --codec vp8 --mid 1 --rid q,h,f234567890123456 --rtx-pt 97");
	assert_int_equal(answer_text(with_rid_f("f2345678901234567"), &cfg), -1);
	if (!strstr(err, "m-section 2 (mid 1): rid 'f2345678901234567' is longer than the 16 characters"))
		fail_msg("%s", err);
	assert_string_equal(answer, "");
	/* a viewer-only participant takes no simulcast: nothing to learn, answered */
	cfg.may_send = 0;
	assert_true(answer_text(with_rid_f("f2345678901234567"), &cfg) > 0);
}

static void test_answer_refusals(void **state)
{
	(void)state;
	struct sdp_answer_cfg cfg = base_cfg();
	assert_true(answer_text(OK_OFFER, &cfg) > 0);
	assert_int_equal(res.m[0].pt, 96);
	assert_int_equal(res.m[0].fb, 0);
	/* unsupported codecs only */
	static const char *const h265 =
		"v=0\r\na=group:BUNDLE 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96 97 98\r\na=ice-ufrag:abcd\r\n"
		"a=ice-pwd:0123456789012345678901\r\na=fingerprint:sha-256 "
		"97:00:9E:57:5F:EF:8B:55:74:BD:7A:F4:4D:03:54:A8:DB:6D:0E:8D:29:C7:CC:49:0A:2C:CA:E5:77:1E:1A:C5\r\n"
		"a=mid:0\r\na=rtcp-mux\r\na=rtpmap:96 H265/90000\r\na=rtpmap:97 VP9/90000\r\na=fmtp:97 profile-id=2\r\n"
		"a=rtpmap:98 red/90000\r\n";
	assert_int_equal(answer_text(h265, &cfg), -1);
	assert_non_null(strstr(err, "nothing the MMR can accept: m-section 1 (video, mid 0): no codec the MMR forwards"));
	/* AV1 without the Dependency Descriptor extension: not taken */
	static char av1[2048];
	snprintf(av1, sizeof(av1), "%s", h265);
	memcpy(strstr(av1, "H265"), "AV1 ", 4);
	memcpy(strstr(av1, "AV1 /90000"), "AV1/90000 ", 10);
	assert_int_equal(answer_text(av1, &cfg), -1);
	assert_non_null(strstr(err, "AV1 profile 0 with the Dependency Descriptor"));
	snprintf(av1 + strlen(av1), sizeof(av1) - strlen(av1), "a=extmap:5 %s\r\n", sdp_ext_uris[SDP_EXT_DD]);
	assert_true(answer_text(av1, &cfg) > 0);
	assert_int_equal(res.m[0].codec, MMR_CODEC_AV1);
	assert_int_equal(res.m[0].ext_id[SDP_EXT_DD], 5);
	assert_int_equal(answer_text(h265, &cfg), -1);
	assert_non_null(strstr(err, "nothing the MMR can accept: m-section 1 (video, mid 0): no codec the MMR forwards"));
	assert_string_equal(answer, "");
	/* offer-level refusals */
	static char t[4096];
	snprintf(t, sizeof(t), "%s", OK_OFFER);
	char *s = strstr(t, "a=setup:actpass");
	memcpy(s, "a=setup:passive", 15);
	assert_int_equal(answer_text(t, &cfg), -1);
	assert_non_null(strstr(err, "wants a=setup:passive"));
	snprintf(t, sizeof(t), "%s", OK_OFFER);
	memcpy(strstr(t, "a=group:BUNDLE 0"), "a=group:LS     0", 16);
	assert_int_equal(answer_text(t, &cfg), -1);
	assert_non_null(strstr(err, "no a=group:BUNDLE"));
	snprintf(t, sizeof(t), "%s", OK_OFFER "a=ice-lite\r\n");   /* media level: ignored */
	assert_true(answer_text(t, &cfg) > 0);
	snprintf(t, sizeof(t), "v=0\r\na=ice-lite\r\n%s", OK_OFFER + 5);
	assert_int_equal(answer_text(t, &cfg), -1);
	assert_non_null(strstr(err, "ICE-lite"));
	/* no rtcp-mux: rejected */
	snprintf(t, sizeof(t), "%s", OK_OFFER);
	memcpy(strstr(t, "a=rtcp-mux"), "a=rtcp-xxx", 10);
	assert_int_equal(answer_text(t, &cfg), -1);
	assert_non_null(strstr(res.m[0].reason, "rtcp-mux"));
	/* cfg refusals */
	static const struct { int field; const char *what; } bad[] = {
		{ 0, "ice-ufrag" }, { 1, "ice-pwd" }, { 2, "fingerprint" }, { 3, "candidate address" },
		{ 4, "candidate port" }, { 5, "cname" }, { 6, "SSRC 0" }, { 7, "given twice" }, { 8, "video codec" },
		{ 9, "slots" },
	};
	static const uint8_t opus_pref[] = { MMR_CODEC_OPUS, 0 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cfg = base_cfg();
		switch (bad[i].field) {
		case 0: cfg.ice_ufrag = "a b c"; break;
		case 1: cfg.ice_pwd = "tooshort"; break;
		case 2: cfg.fingerprint = "4a:ad"; break;
		case 3: cfg.cand_ip = "300.1.1.1"; break;
		case 4: cfg.cand_port = 0; break;
		case 5: cfg.cname = "a b"; break;
		case 6: cfg.video_ssrc[1] = 0; break;
		case 7: cfg.audio_ssrc[0] = 2001; break;
		case 8: cfg.video_codecs = opus_pref; break;
		case 9: cfg.n_audio_slots = SDP_MAX_SLOTS + 1; break;
		}
		assert_int_equal(answer_text(OK_OFFER, &cfg), -1);
		if (!strstr(err, bad[i].what))
			print_message("cfg %d: %s\n", bad[i].field, err);
		assert_non_null(strstr(err, bad[i].what));
	}
	/* IPv6 candidate; an answer buffer too small */
	cfg = base_cfg();
	cfg.cand_ip = "2001:db8::1";
	assert_true(answer_text(OK_OFFER, &cfg) > 0);
	assert_int_equal(count_line(answer, "c=IN IP6 2001:db8::1"), 1);
	assert_int_equal(sdp_answer(&offer, &cfg, answer, 100, &res, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "longer than the 100-byte buffer"));
}

/* Every prefix and random damage of every fixture: refused with a reason or parsed; a parsed one is
 * answered or refused with a reason; an answer parses back. */
static void test_prefixes_and_damage(void **state)
{
	(void)state;
	static const char *const names[] = { "chromium_vp9_l3t3", "chromium_av1_l3t3", "chromium_vp8_simulcast",
		"chromium_viewer", "chromium_sendrecv", "chromium_datachannel", "aiortc_sendrecv" };
	struct sdp_answer_cfg cfg = base_cfg();
	static char copy[SDP_MAX_TEXT];
	int parsed = 0, refused = 0;
	rng_state = 0x5d9;
	for (size_t f = 0; f < sizeof(names) / sizeof(names[0]); f++) {
		size_t len;
		const char *t = fixture(names[f], &len);
		memcpy(copy, t, len);
		for (size_t n = 0; n <= len; n += 1 + (n > 200 ? 7 : 0)) {
			uint8_t *h = heap_copy((const uint8_t *)copy, (uint32_t)n);
			int rc = sdp_parse_offer((const char *)h, n, &offer, err, sizeof(err));
			free(h);
			if (rc) {
				assert_true(err[0] != 0);
				refused++;
				continue;
			}
			parsed++;
			if (sdp_answer(&offer, &cfg, answer, sizeof(answer), &res, err, sizeof(err)) > 0)
				parse_back();
			else
				assert_true(err[0] != 0);
		}
		for (int k = 0; k < 400; k++) {
			memcpy(copy, t, len);
			for (int d = 0; d < 3; d++)
				copy[rnd() % len] = (char)(" :;/=\r\n0129aZ~\x01\xff"[rnd() % 17]);
			uint8_t *h = heap_copy((const uint8_t *)copy, (uint32_t)len);
			int rc = sdp_parse_offer((const char *)h, len, &offer, err, sizeof(err));
			free(h);
			if (rc) {
				assert_true(err[0] != 0);
				refused++;
				continue;
			}
			parsed++;
			if (sdp_answer(&offer, &cfg, answer, sizeof(answer), &res, err, sizeof(err)) > 0)
				parse_back();
			else
				assert_true(err[0] != 0);
		}
	}
	print_message("prefixes and damaged offers: %d parsed, %d refused with a reason\n", parsed, refused);
	print_message("sizeof(struct sdp_offer) %zu, sizeof(struct sdp_result) %zu\n", sizeof(struct sdp_offer),
		      sizeof(struct sdp_result));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vp9_publisher),
		cmocka_unit_test(test_av1_publisher),
		cmocka_unit_test(test_vp8_simulcast),
		cmocka_unit_test(test_simulcast_rid_too_long),
		cmocka_unit_test(test_viewer_slots),
		cmocka_unit_test(test_viewer_slots_dd),
		cmocka_unit_test(test_sendrecv_and_datachannel),
		cmocka_unit_test(test_aiortc),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_answer_refusals),
		cmocka_unit_test(test_prefixes_and_damage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
