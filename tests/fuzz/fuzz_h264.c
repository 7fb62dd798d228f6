/*
 * fuzz_h264.c - libFuzzer target for the H.264 RTP payload parser (lib/codec/h264.c), chained after the
 * RTP parser as the dataplane chains them, and on its own. For accepted payloads: the reported
 * types are ones RFC 6184 non-interleaved mode allows, the flags agree with each other, parsing
 * is deterministic, and h264_media carries no offsets (nothing is rewritten in H.264 payloads).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h264.h"
#include "rtp.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s\n", #c); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_h264(const uint8_t *p, uint32_t len, const struct rtp_info *ri)
{
	struct h264_info h, h2;
	struct media_pkt mp;
	enum mmr_drop_reason r = h264_parse(p, len, &h);
	uint8_t *copy;

	CHECK(r == MMR_DROP_NONE || r == MMR_DROP_TRUNCATED || r == MMR_DROP_BAD_PAYLOAD);
	if (r != MMR_DROP_NONE)
		return;
	CHECK(len >= 1 && (p[0] & 0x80) == 0);
	CHECK((h.pkt_type >= 1 && h.pkt_type <= 23) || h.pkt_type == H264_NAL_STAP_A ||
	      h.pkt_type == H264_NAL_FU_A);
	CHECK(h.nal_type >= 1 && h.nal_type <= 23 && h.n_nals >= 1);
	CHECK(h.keyframe == 0 || h.has_idr || h.has_sps);
	CHECK(!(h.fu_start && h.fu_end));
	CHECK(h.pkt_type == H264_NAL_FU_A || (h.fu_start == 0 && h.fu_end == 0));
	CHECK(h.pkt_type != H264_NAL_FU_A || h.fu_start || (!h.keyframe && !h.au_start));
	CHECK(!h.has_first_mb || h.nal_type == 1 || h.nal_type == 2 || h.nal_type == 5);

	h264_media(&h, ri, &mp);
	CHECK(mp.codec == MMR_CODEC_H264 && mp.keyframe == h.keyframe && mp.start == h.au_start);
	CHECK(mp.end == ri->marker && mp.sid == 0 && mp.tid == 0 && mp.has_layers == 0);
	CHECK(mp.desc_len == 0 && mp.pid_off == 0 && mp.tl0_off == 0 && mp.dd_off == 0);

	/* parsing depends on the bytes alone: an exact copy parses the same */
	copy = malloc(len);
	CHECK(copy != NULL);
	memcpy(copy, p, len);
	CHECK(h264_parse(copy, len, &h2) == MMR_DROP_NONE);
	CHECK(memcmp(&h, &h2, sizeof(h)) == 0);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtp_info ri;
	uint32_t len = size > 70000 ? 70000 : (uint32_t)size;

	if (rtp_parse(data, len, &ri) == MMR_DROP_NONE)
		check_h264(data + ri.hdr_len, ri.payload_len, &ri);
	memset(&ri, 0, sizeof(ri));
	ri.marker = len & 1;
	check_h264(data, len, &ri);
	return 0;
}
