/*
 * sdp_answer.c - the MMR's SDP answer to an offer on stdin (lib/sdp), for tests/fixtures/sdp/record.py
 * --check (which hands it to headless Chromium) and for looking at answers by hand:
 *
 *     build/tests/integration/sdp_answer [--result] [--recvonly|--sendonly] < offer.sdp
 *
 * A fixture's "# ..." header line is skipped. Fixed MMR parameters: ufrag "mmrU", a test password
 * and fingerprint, candidate 127.0.0.1:40000, two video and two audio receive slots; the participant
 * may send and receive unless --recvonly (may only receive) or --sendonly (may only send). Prints
 * the answer (with --result: what was negotiated per m-section, and the participant add and stream add
 * options made from it, instead); exit 1 with the error on
 * stderr if the offer is refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdp.h"

static char text[SDP_MAX_TEXT + 2];
static char answer[65536];
static struct sdp_offer offer;
static struct sdp_result res;

int main(int argc, char **argv)
{
	int show = 0, may_send = 1, may_recv = 1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--result"))
			show = 1;
		else if (!strcmp(argv[i], "--recvonly"))
			may_send = 0;
		else if (!strcmp(argv[i], "--sendonly"))
			may_recv = 0;
	}
	size_t n = fread(text, 1, sizeof(text) - 1, stdin);
	const char *p = text;
	if (n && text[0] == '#') {
		const char *nl = memchr(text, '\n', n);
		p = nl ? nl + 1 : text + n;
		n -= (size_t)(p - text);
	}
	char err[256];
	if (sdp_parse_offer(p, n, &offer, err, sizeof(err)) < 0) {
		fprintf(stderr, "offer refused: %s\n", err);
		return 1;
	}
	struct sdp_answer_cfg cfg = {
		.ice_ufrag = "mmrU", .ice_pwd = "q9UvYFJ5Ww8MrRC0cjPq3Bgx",
		.fingerprint = "4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:3A:1B:21:E8:"
			       "D8:AC:8B:C0:5B:4C:31:E6",
		.cand_ip = "127.0.0.1", .cand_port = 40000, .cname = "mmr", .session_id = 1,
		.may_send = (uint8_t)may_send, .may_recv = (uint8_t)may_recv,
		.n_video_slots = 2, .n_audio_slots = 2,
		.video_ssrc = { 1001, 1002 }, .video_rtx_ssrc = { 2001, 2002 }, .audio_ssrc = { 3001, 3002 },
	};
	int len = sdp_answer(&offer, &cfg, answer, sizeof(answer), &res, err, sizeof(err));
	if (len < 0) {
		fprintf(stderr, "answer refused: %s\n", err);
		return 1;
	}
	if (!show) {
		fwrite(answer, 1, (size_t)len, stdout);
		return 0;
	}
	printf("remote ufrag %s fingerprint %s\n", res.remote_ufrag, res.remote_fingerprint);
	for (int i = 0; i < res.n_media; i++) {
		const struct sdp_result_media *m = &res.m[i];
		printf("m%d mid=%s kind=%d accepted=%d dir=%d publish=%d receive=%d codec=%d pt=%d rtx=%d fb=0x%x"
		       " slot=%d out=%u/%u ssrcs=%d rids=%d", i, m->mid, m->kind, m->accepted, m->dir, m->publish,
		       m->receive, m->codec, m->pt, m->rtx_pt, m->fb, m->slot, m->out_ssrc, m->out_rtx_ssrc,
		       m->n_ssrc, m->n_rid);
		for (int e = 0; e < SDP_EXT_N; e++)
			if (m->ext_id[e])
				printf(" %s=%d", sdp_ext_names[e], m->ext_id[e]);
		printf("%s%s\n", m->reason[0] ? " reason: " : "", m->reason);
		char args[256];
		if (sdp_result_stream_args(m, args, sizeof(args)) > 0)
			printf("  stream add %s\n", args);
	}
	char args[256];
	if (sdp_result_participant_args(&res, args, sizeof(args)) > 0)
		printf("participant add %s\n", args);
	return 0;
}
