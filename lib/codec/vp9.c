/*
 * vp9.c - the VP9 RTP payload descriptor of RFC 9628 section 4.2.
 *
 *        0 1 2 3 4 5 6 7
 *       |I|P|L|F|B|E|V|Z|          always
 *   I:  |M| PICTURE ID  |          7-bit, or with M=1 15-bit over two bytes
 *   M:  | EXTENDED PID  |
 *   L:  | TID |U| SID |D|          layer indices
 *  L,!F:|   TL0PICIDX   |          non-flexible mode only
 *  F,P: | P_DIFF      |N|          flexible mode, up to 3 (N: another follows)
 *   V:  | SS ...        |          scalability structure
 *
 * The scalability structure:
 *       | N_S |Y|G|-|-|-|
 *   Y:  | WIDTH (16)    |  | HEIGHT (16) |     N_S + 1 times
 *   G:  |      N_G      |
 *       | TID |U| R |-|-|  then R P_DIFF bytes, N_G times
 *
 * Every field is checked against the payload length before it is read. Reserved bits are ignored.
 * What the RFC forbids and a selector could be misled by is refused as BAD_PAYLOAD: a zero or a
 * fourth P_DIFF, D=1 on the base spatial layer, a SID the packet's own SS does not have, and a
 * descriptor with no VP9 payload after it.
 */
#include "vp9.h"

#include <string.h>

/* The scalability structure at p[off..len); returns the offset after it, or 0 with *r set. */
static uint32_t parse_ss(const uint8_t *p, uint32_t len, uint32_t off, struct vp9_desc *d,
			 enum mmr_drop_reason *r)
{
	uint8_t n_s;

	*r = MMR_DROP_TRUNCATED;
	if (off >= len)
		return 0;
	n_s = (uint8_t)((p[off] >> 5) + 1);
	d->ss_n_spatial = n_s;
	d->ss_has_res = (p[off] >> 4) & 1;
	d->ss_has_pg = (p[off] >> 3) & 1;
	off++;
	if (d->ss_has_res) {
		if (len - off < 4u * n_s)
			return 0;
		for (unsigned s = 0; s < n_s; s++, off += 4) {
			d->ss_width[s] = (uint16_t)(p[off] << 8 | p[off + 1]);
			d->ss_height[s] = (uint16_t)(p[off + 2] << 8 | p[off + 3]);
		}
	}
	if (d->ss_has_pg) {
		unsigned n_g;

		if (off >= len)
			return 0;
		n_g = p[off++];
		d->ss_n_g = (uint8_t)n_g;
		for (unsigned g = 0; g < n_g; g++) {
			unsigned refs;

			if (off >= len)
				return 0;
			refs = (p[off] >> 2) & 0x03;
			off++;
			if (len - off < refs)
				return 0;
			off += refs;
		}
	}
	*r = MMR_DROP_NONE;
	return off;
}

enum mmr_drop_reason vp9_parse(const uint8_t *p, uint32_t len, struct vp9_desc *d)
{
	uint32_t off = 1;

	memset(d, 0, sizeof(*d));
	if (len < 1)
		return MMR_DROP_TRUNCATED;
	d->i = p[0] >> 7;
	d->p = (p[0] >> 6) & 1;
	d->l = (p[0] >> 5) & 1;
	d->f = (p[0] >> 4) & 1;
	d->b = (p[0] >> 3) & 1;
	d->e = (p[0] >> 2) & 1;
	d->v = (p[0] >> 1) & 1;
	d->z = p[0] & 1;

	if (d->i) {
		if (off >= len)
			return MMR_DROP_TRUNCATED;
		d->pid_off = (uint8_t)off;
		if (p[off] & 0x80) {            /* M: 15-bit */
			if (off + 1 >= len)
				return MMR_DROP_TRUNCATED;
			d->pid_16 = 1;
			d->picture_id = (uint16_t)((p[off] & 0x7f) << 8 | p[off + 1]);
			off += 2;
		} else {
			d->picture_id = p[off] & 0x7f;
			off += 1;
		}
	}
	if (d->l) {
		if (off >= len)
			return MMR_DROP_TRUNCATED;
		d->tid = p[off] >> 5;
		d->u = (p[off] >> 4) & 1;
		d->sid = (p[off] >> 1) & 0x07;
		d->d = p[off] & 1;
		off++;
		/* TL0PICIDX exists only in non-flexible mode; flexible mode signals references instead. */
		if (!d->f) {
			if (off >= len)
				return MMR_DROP_TRUNCATED;
			d->has_tl0 = 1;
			d->tl0_off = (uint8_t)off;
			d->tl0picidx = p[off];
			off++;
		}
	}
	if (d->f && d->p) {
		int more;

		do {
			if (off >= len)
				return MMR_DROP_TRUNCATED;
			if (d->n_refs == VP9_MAX_REFS)
				return MMR_DROP_BAD_PAYLOAD;
			if ((p[off] >> 1) == 0)     /* would reference the picture itself */
				return MMR_DROP_BAD_PAYLOAD;
			d->p_diff[d->n_refs++] = p[off] >> 1;
			more = p[off] & 1;
			off++;
		} while (more);
	}
	if (d->v) {
		enum mmr_drop_reason r;

		off = parse_ss(p, len, off, d, &r);
		if (r != MMR_DROP_NONE)
			return r;
		if (d->l && d->sid >= d->ss_n_spatial)
			return MMR_DROP_BAD_PAYLOAD;
	}
	if (d->l && d->sid == 0 && d->d)        /* the base layer has nothing below to predict from */
		return MMR_DROP_BAD_PAYLOAD;
	if (off >= len)
		return MMR_DROP_BAD_PAYLOAD;
	d->len = (uint16_t)off;
	return MMR_DROP_NONE;
}

void vp9_set_picture_id(uint8_t *p, const struct vp9_desc *d, uint16_t picture_id)
{
	if (!d->i || d->pid_off == 0)
		return;
	if (d->pid_16) {
		p[d->pid_off] = (uint8_t)(0x80 | ((picture_id >> 8) & 0x7f));
		p[d->pid_off + 1] = (uint8_t)picture_id;
	} else {
		p[d->pid_off] = (uint8_t)(picture_id & 0x7f);
	}
}

void vp9_set_tl0picidx(uint8_t *p, const struct vp9_desc *d, uint8_t tl0picidx)
{
	if (!d->has_tl0 || d->tl0_off == 0)
		return;
	p[d->tl0_off] = tl0picidx;
}

void vp9_media(const struct vp9_desc *d, uint16_t rtp_hdr_len, const struct rtp_info *ri,
	       struct media_pkt *mp)
{
	(void)ri;       /* VP9 frames are delimited by B/E; the marker ends the whole picture */
	memset(mp, 0, sizeof(*mp));
	mp->codec = MMR_CODEC_VP9;
	mp->start = d->b;
	mp->end = d->e;
	mp->has_layers = d->l;
	mp->sid = d->sid;
	mp->tid = d->tid;
	mp->switch_up = d->u;
	mp->inter_pic = d->p;
	mp->inter_layer = d->d;
	mp->not_ref_up = d->z;
	/* Decodable from nothing: not predicted from an earlier picture, and not from a lower layer
	 * of this one (RFC 9628 calls P=0 at the lowest spatial layer a key frame). */
	mp->keyframe = !d->p && d->sid == 0 && !d->d;
	mp->desc_len = d->len;
	if (d->i) {
		mp->has_pid = 1;
		mp->pid_16 = d->pid_16;
		mp->picture_id = d->picture_id;
		mp->pid_off = (uint16_t)(rtp_hdr_len + d->pid_off);
	}
	if (d->has_tl0) {
		mp->has_tl0 = 1;
		mp->tl0picidx = d->tl0picidx;
		mp->tl0_off = (uint16_t)(rtp_hdr_len + d->tl0_off);
	}
}
