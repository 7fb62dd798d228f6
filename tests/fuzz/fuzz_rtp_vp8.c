/*
 * fuzz_rtp_vp8.c - libFuzzer target for the RTP parser (lib/pkt/rtp.c) and the VP8 payload descriptor
 * parser (lib/codec/vp8.c), chained as the dataplane chains them: the RTP payload goes to vp8_parse.
 * Checks that accepted packets have consistent lengths and that rewriting PictureID / TL0PICIDX /
 * sequence number / SSRC in a copy changes exactly those fields, and that blanking extension
 * elements (rtp_blank_ext) keeps every other element where it was.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtp.h"
#include "vp8.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s\n", #c); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_vp8(const uint8_t *p, uint32_t len)
{
	struct vp8_desc d, d2;
	enum mmr_drop_reason r = vp8_parse(p, len, &d);
	uint8_t *copy;

	CHECK(r == MMR_DROP_NONE || r == MMR_DROP_TRUNCATED || r == MMR_DROP_BAD_PAYLOAD);
	if (r != MMR_DROP_NONE)
		return;
	CHECK(d.len >= 1 && d.len <= 6 && d.len < len);
	CHECK(d.tid <= 3 && d.keyidx <= 31 && d.part_id <= 7);
	CHECK(!d.keyframe || d.frame_start);
	CHECK(d.picture_id <= (d.picture_id_16 ? 0x7fff : 0x7f));

	copy = malloc(len);
	CHECK(copy != NULL);
	memcpy(copy, p, len);
	vp8_set_picture_id(copy, &d, (uint16_t)(d.picture_id * 7 + 0x4321));
	vp8_set_tl0picidx(copy, &d, (uint8_t)(d.tl0picidx + 1));
	CHECK(vp8_parse(copy, len, &d2) == MMR_DROP_NONE);
	CHECK(d2.len == d.len && d2.tid == d.tid && d2.layer_sync == d.layer_sync);
	CHECK(d2.picture_id_16 == d.picture_id_16 && d2.frame_start == d.frame_start);
	CHECK(d2.keyframe == d.keyframe);
	if (d.has_picture_id)
		CHECK(d2.picture_id == ((d.picture_id * 7 + 0x4321) & (d.picture_id_16 ? 0x7fff : 0x7f)));
	if (d.has_tl0picidx)
		CHECK(d2.tl0picidx == (uint8_t)(d.tl0picidx + 1));
	CHECK(memcmp(copy + d.len, p + d.len, len - d.len) == 0);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtp_info ri, ri2;
	uint32_t len = size > 70000 ? 70000 : (uint32_t)size;
	enum mmr_drop_reason r;

	(void)rtp_is_rtcp(data, len);
	r = rtp_parse(data, len, &ri);
	CHECK(r == MMR_DROP_NONE || r == MMR_DROP_TRUNCATED || r == MMR_DROP_BAD_RTP);
	if (r == MMR_DROP_NONE) {
		uint8_t *copy;

		CHECK((uint32_t)ri.hdr_len + ri.payload_len + ri.pad_len == len);
		CHECK(ri.hdr_len >= 12 + 4u * ri.cc);
		CHECK(!ri.has_padding || ri.pad_len >= 1);
		CHECK(!ri.has_ext || (uint32_t)ri.ext_off + ri.ext_len == ri.hdr_len);
		check_vp8(data + ri.hdr_len, ri.payload_len);

		copy = malloc(len);
		CHECK(copy != NULL);
		memcpy(copy, data, len);
		rtp_set_seq(copy, (uint16_t)(ri.seq + 1));
		rtp_set_ssrc(copy, ~ri.ssrc);
		CHECK(rtp_parse(copy, len, &ri2) == MMR_DROP_NONE);
		CHECK(ri2.seq == (uint16_t)(ri.seq + 1) && ri2.ssrc == ~ri.ssrc);
		CHECK(ri2.ts == ri.ts && ri2.hdr_len == ri.hdr_len && ri2.payload_len == ri.payload_len);
		/* blanking the mid/rid-like ids (taken from the packet's last bytes) leaves the rest */
		memcpy(copy, data, len);
		const uint8_t ids[3] = { data[len - 1], data[len - 2], (uint8_t)(data[len - 3] & 15) };
		int nb = rtp_blank_ext(copy, &ri, ids, 3);
		CHECK(nb >= 0 && memcmp(copy, data, ri.ext_off) == 0 &&
		      memcmp(copy + ri.hdr_len, data + ri.hdr_len, len - ri.hdr_len) == 0);
		CHECK(rtp_parse(copy, len, &ri2) == MMR_DROP_NONE && ri2.hdr_len == ri.hdr_len);
		for (unsigned id = 1; id < 256; id++) {
			uint16_t o1 = 0, l1 = 0, o2 = 0, l2 = 0;
			if (id == ids[0] || id == ids[1] || id == ids[2])
				continue;
			if (rtp_find_ext(data, &ri, (uint8_t)id, &o1, &l1) == 1)
				CHECK(rtp_find_ext(copy, &ri2, (uint8_t)id, &o2, &l2) == 1 && o1 == o2 && l1 == l2);
		}
		free(copy);
	}
	/* the descriptor parser on its own, too */
	check_vp8(data, len);
	return 0;
}
