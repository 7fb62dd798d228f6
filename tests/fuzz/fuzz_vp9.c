/*
 * fuzz_vp9.c - libFuzzer target for the VP9 payload descriptor parser (lib/codec/vp9.c), chained after
 * the RTP parser as the dataplane chains them, and on its own. For accepted descriptors: the
 * lengths and offsets vp9_media gives stay inside the packet, and rewriting PictureID / TL0PICIDX
 * in a copy (with the setters, and at the media_pkt offsets as the fan-out does) changes exactly
 * those fields.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtp.h"
#include "vp9.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s\n", #c); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* pkt[0..len) is the whole packet, its payload starts at hdr. */
static void check_vp9(const uint8_t *pkt, uint32_t len, uint16_t hdr, const struct rtp_info *ri)
{
	const uint8_t *p = pkt + hdr;
	uint32_t plen = len - hdr;
	struct vp9_desc d, d2;
	struct media_pkt mp;
	enum mmr_drop_reason r = vp9_parse(p, plen, &d);
	uint16_t new_pid;
	uint8_t *copy;

	CHECK(r == MMR_DROP_NONE || r == MMR_DROP_TRUNCATED || r == MMR_DROP_BAD_PAYLOAD);
	if (r != MMR_DROP_NONE)
		return;
	CHECK(d.len >= 1 && d.len < plen);
	CHECK(d.n_refs <= VP9_MAX_REFS && d.tid <= 7 && d.sid <= 7);
	CHECK(!d.v || (d.ss_n_spatial >= 1 && d.ss_n_spatial <= VP9_MAX_SS));
	CHECK(!(d.l && d.v) || d.sid < d.ss_n_spatial);
	CHECK(d.picture_id <= (d.pid_16 ? 0x7fff : 0x7f));

	vp9_media(&d, hdr, ri, &mp);
	CHECK(mp.codec == MMR_CODEC_VP9 && mp.desc_len == d.len);
	CHECK((uint32_t)hdr + mp.desc_len < len);
	CHECK(!mp.keyframe || (!mp.inter_pic && mp.sid == 0 && !mp.inter_layer));
	if (mp.has_pid)
		CHECK(mp.pid_off > hdr && (uint32_t)mp.pid_off + mp.pid_16 < (uint32_t)hdr + mp.desc_len);
	else
		CHECK(mp.pid_off == 0);
	if (mp.has_tl0)
		CHECK(mp.tl0_off > hdr && mp.tl0_off < hdr + mp.desc_len);
	else
		CHECK(mp.tl0_off == 0);

	copy = malloc(len);
	CHECK(copy != NULL);
	/* the setters on the payload */
	new_pid = (uint16_t)(d.picture_id * 5 + 0x1357);
	memcpy(copy, pkt, len);
	vp9_set_picture_id(copy + hdr, &d, new_pid);
	vp9_set_tl0picidx(copy + hdr, &d, (uint8_t)(d.tl0picidx + 1));
	CHECK(vp9_parse(copy + hdr, plen, &d2) == MMR_DROP_NONE);
	CHECK(d2.len == d.len && d2.pid_16 == d.pid_16 && d2.tid == d.tid && d2.sid == d.sid);
	CHECK(d2.n_refs == d.n_refs && d2.ss_n_g == d.ss_n_g && d2.b == d.b && d2.e == d.e);
	if (d.i)
		CHECK(d2.picture_id == (new_pid & (d.pid_16 ? 0x7fff : 0x7f)));
	if (d.has_tl0)
		CHECK(d2.tl0picidx == (uint8_t)(d.tl0picidx + 1));
	CHECK(memcmp(copy, pkt, hdr + 1u) == 0);
	CHECK(memcmp(copy + hdr + d.len, p + d.len, plen - d.len) == 0);

	/* the same through the media_pkt offsets into the whole packet, as the fan-out writes */
	memcpy(copy, pkt, len);
	if (mp.has_pid) {
		if (mp.pid_16) {
			copy[mp.pid_off] = (uint8_t)(0x80 | (new_pid >> 8 & 0x7f));
			copy[mp.pid_off + 1] = (uint8_t)new_pid;
		} else {
			copy[mp.pid_off] = (uint8_t)(new_pid & 0x7f);
		}
	}
	if (mp.has_tl0)
		copy[mp.tl0_off] = (uint8_t)(d.tl0picidx + 1);
	CHECK(vp9_parse(copy + hdr, plen, &d2) == MMR_DROP_NONE);
	CHECK(d2.len == d.len);
	if (d.i)
		CHECK(d2.picture_id == (new_pid & (d.pid_16 ? 0x7fff : 0x7f)));
	if (d.has_tl0)
		CHECK(d2.tl0picidx == (uint8_t)(d.tl0picidx + 1));
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtp_info ri;
	uint32_t len = size > 70000 ? 70000 : (uint32_t)size;

	if (rtp_parse(data, len, &ri) == MMR_DROP_NONE && ri.payload_len > 0)
		check_vp9(data, ri.hdr_len + (uint32_t)ri.payload_len, ri.hdr_len, &ri);
	/* the descriptor parser on its own, too */
	memset(&ri, 0, sizeof(ri));
	check_vp9(data, len, 0, &ri);
	return 0;
}
