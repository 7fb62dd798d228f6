/*
 * h264.c - the H.264 RTP payload of RFC 6184 in non-interleaved mode: single NAL unit packets
 * (types 1..23), STAP-A (24) and FU-A (28). The selector only needs two facts from it: is this a
 * keyframe (an IDR slice or an SPS: a sender puts SPS/PPS first in the access unit of an IDR
 * picture, so the packet carrying the SPS is where a receiver can start), and does the packet
 * start an access unit (H.264 section 7.4.1.2.3: an AUD, SPS, PPS, SEI or types 14..18 come first
 * in an access unit; otherwise its first slice has first_mb_in_slice 0).
 *
 *   NAL header:   |F|NRI|  Type   |
 *   STAP-A:       |F|NRI|   24    | then (16-bit size, NAL unit) repeated to the end
 *   FU-A:         |F|NRI|   28    | |S|E|R|  Type   | then a fragment of the NAL unit's payload
 *
 * STAP-B, MTAP16/24 and FU-B belong to interleaved mode, which we do not negotiate: refused.
 */
#include "h264.h"

#include <string.h>

/* Bits of a NAL unit's payload (RBSP with emulation prevention: 0x000003 loses its 0x03). */
struct bitrd {
	const uint8_t *p;
	uint32_t len, pos;      /* next byte to load */
	uint32_t cur;           /* the loaded byte */
	int left;               /* bits of cur not read yet */
	int zeros;              /* consecutive zero bytes loaded */
};

static int br_bit(struct bitrd *b)
{
	if (b->left == 0) {
		if (b->pos < b->len && b->zeros >= 2 && b->p[b->pos] == 3) {
			b->pos++;
			b->zeros = 0;
		}
		if (b->pos >= b->len)
			return -1;
		b->cur = b->p[b->pos++];
		b->zeros = b->cur ? 0 : b->zeros + 1;
		b->left = 8;
	}
	b->left--;
	return (int)((b->cur >> b->left) & 1);
}

/* Exp-Golomb ue(v); -1 when the bits run out or the code is longer than 32 bits. */
static int64_t br_ue(struct bitrd *b)
{
	int lz = 0, bit;
	uint32_t v = 0;

	while ((bit = br_bit(b)) == 0)
		if (++lz > 31)
			return -1;
	if (bit < 0)
		return -1;
	for (int i = 0; i < lz; i++) {
		if ((bit = br_bit(b)) < 0)
			return -1;
		v = v << 1 | (uint32_t)bit;
	}
	return ((int64_t)1 << lz) - 1 + v;
}

/* first_mb_in_slice: the first ue(v) of the payload after the one-byte NAL header. */
static int64_t first_mb(const uint8_t *payload, uint32_t len)
{
	struct bitrd b = { .p = payload, .len = len };

	return br_ue(&b);
}

static int is_slice(uint8_t t)
{
	return t == H264_NAL_SLICE || t == H264_NAL_DPA || t == H264_NAL_IDR;
}

/* Types that, when present, come before the first slice of an access unit. */
static int starts_au(uint8_t t)
{
	return (t >= H264_NAL_SEI && t <= H264_NAL_AUD) || (t >= 14 && t <= 18);
}

static void note_type(struct h264_info *h, uint8_t t)
{
	if (t == H264_NAL_IDR)
		h->has_idr = 1;
	else if (t == H264_NAL_SPS)
		h->has_sps = 1;
	else if (t == H264_NAL_PPS)
		h->has_pps = 1;
}

/* One complete NAL unit (single NAL packet or aggregated); first: it is the packet's first. */
static enum mmr_drop_reason one_nal(const uint8_t *n, uint32_t len, struct h264_info *h, int first)
{
	uint8_t t = n[0] & 0x1f;
	int64_t mb = 0;

	if (n[0] & 0x80)
		return MMR_DROP_BAD_PAYLOAD;
	if (t == 0 || t >= H264_NAL_STAP_A)     /* no aggregate or fragment inside another */
		return MMR_DROP_BAD_PAYLOAD;
	if (is_slice(t)) {
		mb = first_mb(n + 1, len - 1);
		if (mb < 0)                     /* the whole NAL is here: too short for its header */
			return MMR_DROP_BAD_PAYLOAD;
	}
	note_type(h, t);
	if (first) {
		h->nal_type = t;
		h->has_first_mb = (uint8_t)is_slice(t);
		h->first_mb = (uint32_t)mb;
		h->au_start = starts_au(t) || (is_slice(t) && mb == 0);
	}
	return MMR_DROP_NONE;
}

static enum mmr_drop_reason stap_a(const uint8_t *p, uint32_t len, struct h264_info *h)
{
	uint32_t off = 1;

	if (len < 2)
		return MMR_DROP_TRUNCATED;
	while (off < len) {
		uint32_t sz;
		enum mmr_drop_reason r;

		if (len - off < 2)
			return MMR_DROP_TRUNCATED;
		sz = (uint32_t)p[off] << 8 | p[off + 1];
		off += 2;
		if (sz == 0)
			return MMR_DROP_BAD_PAYLOAD;
		if (len - off < sz)
			return MMR_DROP_TRUNCATED;
		r = one_nal(p + off, sz, h, h->n_nals == 0);
		if (r != MMR_DROP_NONE)
			return r;
		if (h->n_nals < UINT8_MAX)
			h->n_nals++;
		off += sz;
	}
	return MMR_DROP_NONE;
}

static enum mmr_drop_reason fu_a(const uint8_t *p, uint32_t len, struct h264_info *h)
{
	uint8_t t;

	if (len < 3)                            /* indicator, FU header, at least one byte */
		return MMR_DROP_TRUNCATED;
	t = p[1] & 0x1f;
	h->fu_start = p[1] >> 7;
	h->fu_end = (p[1] >> 6) & 1;
	if (h->fu_start && h->fu_end)           /* a whole NAL must not travel as one FU */
		return MMR_DROP_BAD_PAYLOAD;
	if (t == 0 || t >= H264_NAL_STAP_A)
		return MMR_DROP_BAD_PAYLOAD;
	h->nal_type = t;
	h->n_nals = 1;
	note_type(h, t);
	if (h->fu_start) {
		/* A fragment may in theory end inside first_mb_in_slice: then we cannot tell. */
		int64_t mb = is_slice(t) ? first_mb(p + 2, len - 2) : -1;

		h->keyframe = t == H264_NAL_IDR || t == H264_NAL_SPS;
		h->has_first_mb = mb >= 0;
		h->first_mb = mb >= 0 ? (uint32_t)mb : 0;
		h->au_start = starts_au(t) || mb == 0;
	}
	return MMR_DROP_NONE;
}

enum mmr_drop_reason h264_parse(const uint8_t *p, uint32_t len, struct h264_info *h)
{
	enum mmr_drop_reason r;
	uint8_t t;

	memset(h, 0, sizeof(*h));
	if (len < 1)
		return MMR_DROP_TRUNCATED;
	if (p[0] & 0x80)                        /* forbidden_zero_bit */
		return MMR_DROP_BAD_PAYLOAD;
	t = p[0] & 0x1f;
	h->pkt_type = t;
	h->nri = (p[0] >> 5) & 0x03;
	if (t >= 1 && t <= 23) {
		r = one_nal(p, len, h, 1);
		h->n_nals = 1;
	} else if (t == H264_NAL_STAP_A) {
		r = stap_a(p, len, h);
	} else if (t == H264_NAL_FU_A) {
		return fu_a(p, len, h);
	} else {
		return MMR_DROP_BAD_PAYLOAD;    /* 0, STAP-B, MTAP16/24, FU-B, 30, 31 */
	}
	if (r != MMR_DROP_NONE)
		return r;
	h->keyframe = h->has_idr || h->has_sps;
	return MMR_DROP_NONE;
}

void h264_media(const struct h264_info *h, const struct rtp_info *ri, struct media_pkt *mp)
{
	memset(mp, 0, sizeof(*mp));
	mp->codec = MMR_CODEC_H264;
	mp->keyframe = h->keyframe;
	mp->start = h->au_start;
	mp->end = ri->marker;
	/* sid, tid, has_layers: 0 - H.264 streams here are single-layer (simulcast encodings). */
}
