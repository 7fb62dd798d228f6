/*
 * fuzz_sdp.c - libFuzzer target for the WebRTC signalling code (lib/sdp): an arbitrary offer (an
 * exact-size heap copy, no NUL) is parsed; a refusal must come with a reason; a parsed offer keeps
 * its invariants (counts within bounds, distinct mids and payload types, payload types 0-127, every
 * RTX apt offered, ICE credentials and a sha-256 fingerprint for every live m-section) and is
 * answered; an answer is NUL-terminated within its buffer, parses back with the same parser into as
 * many m-sections, with ICE-lite and the MMR's credentials, and agrees with the result (codec
 * payload type kept from the offer, receive slots within the configured counts); the controller
 * options made from the result fit their buffer or are refused with an empty one.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdp.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s\n", #c); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sdp_offer offer, back;
static struct sdp_result res;
static char answer[32768];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *p = malloc(size ? size : 1);
	memcpy(p, data, size);
	char err[200];
	int rc = sdp_parse_offer(p, size, &offer, err, sizeof(err));
	free(p);
	CHECK(rc == 0 || rc == -1);
	CHECK(memchr(err, 0, sizeof(err)) != NULL);
	if (rc) {
		CHECK(err[0] != 0);
		return 0;
	}
	CHECK(offer.n_media >= 1 && offer.n_media <= SDP_MAX_MEDIA && offer.n_bundle <= SDP_MAX_MEDIA);
	for (int i = 0; i < offer.n_media; i++) {
		const struct sdp_media *m = &offer.m[i];
		CHECK(m->n_pt <= SDP_MAX_PT && m->n_ext <= SDP_MAX_EXTMAP && m->n_ssrc <= SDP_MAX_SSRC);
		CHECK(m->n_fid <= SDP_MAX_FID && m->n_rid <= SDP_MAX_RID);
		for (int j = 0; j < i; j++)
			CHECK(!m->mid[0] || strcmp(m->mid, offer.m[j].mid) != 0);
		for (int a = 0; a < m->n_pt; a++) {
			CHECK(m->pt[a].pt <= 127);
			for (int b = 0; b < a; b++)
				CHECK(m->pt[a].pt != m->pt[b].pt);
			if (m->pt[a].enc == SDP_ENC_RTX)
				CHECK(m->pt[a].apt >= 0 && sdp_media_pt(m, m->pt[a].apt) != NULL);
		}
		if (!(m->port0 && !m->bundle_only)) {
			CHECK(m->mid[0]);
			CHECK(strlen(sdp_media_ufrag(&offer, i)) >= 4 && strlen(sdp_media_pwd(&offer, i)) >= 22);
			CHECK(strlen(sdp_media_fingerprint(&offer, i)) == 95);
		}
	}
	/* the answer: first byte of the input picks the role and slot counts */
	uint8_t k = size ? data[0] : 0;
	struct sdp_answer_cfg cfg = {
		.ice_ufrag = "mmrU", .ice_pwd = "q9UvYFJ5Ww8MrRC0cjPq3Bgx",
		.fingerprint = "4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:3A:1B:21:E8:D8:AC:"
			       "8B:C0:5B:4C:31:E6",
		.cand_ip = k & 1 ? "2001:db8::7" : "198.51.100.7", .cand_port = 40000, .cname = "mmr",
		.may_send = (uint8_t)!(k & 2), .may_recv = (uint8_t)!(k & 4),
		.n_video_slots = (uint8_t)(k >> 3 & 3), .n_audio_slots = (uint8_t)(k >> 5 & 1),
		.video_ssrc = { 11, 12, 13 }, .video_rtx_ssrc = { 21, 0, 23 }, .audio_ssrc = { 31 },
	};
	size_t cap = k & 0x80 ? 600 : sizeof(answer);
	int n = sdp_answer(&offer, &cfg, answer, cap, &res, err, sizeof(err));
	if (n < 0) {
		CHECK(err[0] != 0);
		CHECK(answer[0] == 0);
		return 0;
	}
	CHECK((size_t)n < cap && answer[n] == 0 && strlen(answer) == (size_t)n);
	CHECK(res.n_media == offer.n_media && res.n_accepted >= 1);
	CHECK(res.n_video_slots_used <= cfg.n_video_slots && res.n_audio_slots_used <= cfg.n_audio_slots);
	rc = sdp_parse_offer(answer, (size_t)n, &back, err, sizeof(err));
	if (rc)
		fprintf(stderr, "answer does not parse: %s\n%s", err, answer);
	CHECK(rc == 0);
	CHECK(back.n_media == offer.n_media && back.ice_lite);
	for (int i = 0; i < back.n_media; i++) {
		const struct sdp_result_media *r = &res.m[i];
		CHECK(!strcmp(back.m[i].mid, offer.m[i].mid));
		if (!r->accepted) {
			CHECK(back.m[i].port0);
			continue;
		}
		CHECK(!strcmp(sdp_media_ufrag(&back, i), "mmrU"));
		CHECK(sdp_media_setup(&back, i) == SDP_SETUP_PASSIVE);
		CHECK(back.m[i].n_pt >= 1 && back.m[i].pt[0].pt == r->pt);
		CHECK(sdp_media_pt(&offer.m[i], r->pt) != NULL);
		CHECK(!r->rtx_pt || sdp_media_pt(&offer.m[i], r->rtx_pt)->apt == r->pt);
		CHECK(back.m[i].dir == r->dir);
		CHECK(r->slot < 0 || r->receive);
		char args[256];
		int a = sdp_result_stream_args(r, args, k & 0x40 ? 30 : sizeof(args));
		CHECK(a == -1 ? args[0] == 0 : (size_t)a == strlen(args) && r->publish);
	}
	char args[256];
	int a = sdp_result_participant_args(&res, args, k & 0x40 ? 30 : sizeof(args));
	CHECK(a == -1 ? args[0] == 0 : (size_t)a == strlen(args) && !strncmp(args, "--rtcp ", 7));
	return 0;
}
