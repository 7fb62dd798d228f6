/*
 * vp8.c - the VP8 RTP payload descriptor of RFC 7741 section 4.2, and the key frame bit of the VP8
 * payload header that follows it in the first packet of a frame.
 *
 *        0 1 2 3 4 5 6 7
 *       |X|R|N|S|R| PID |          always
 *   X:  |I|L|T|K| RSV   |          extension bits
 *   I:  |M| PictureID   |          7-bit, or with M=1 15-bit over two bytes
 *       |   PictureID   |          (second byte only when M=1)
 *   L:  |   TL0PICIDX   |
 *   T|K:|TID|Y| KEYIDX  |          TID/Y valid when T=1, KEYIDX when K=1
 *
 * Reserved bits are ignored as the RFC asks of receivers. L=1 with T=0 (which the RFC forbids a
 * sender to produce) is parsed as written, with TID 0. The only descriptor refused as
 * BAD_PAYLOAD is one with no VP8 payload byte after it.
 */
#include "vp8.h"

#include <string.h>

enum mmr_drop_reason vp8_parse(const uint8_t *p, uint32_t len, struct vp8_desc *d)
{
	uint32_t off = 1;

	memset(d, 0, sizeof(*d));
	if (len < 1)
		return MMR_DROP_TRUNCATED;
	d->non_ref = (p[0] >> 5) & 1;
	d->start = (p[0] >> 4) & 1;
	d->part_id = p[0] & 0x07;

	if (p[0] & 0x80) {                      /* X */
		uint8_t x;

		if (len < 2)
			return MMR_DROP_TRUNCATED;
		x = p[1];
		off = 2;
		d->has_picture_id = (x >> 7) & 1;
		d->has_tl0picidx = (x >> 6) & 1;
		d->has_tid = (x >> 5) & 1;
		d->has_keyidx = (x >> 4) & 1;

		if (d->has_picture_id) {
			if (off >= len)
				return MMR_DROP_TRUNCATED;
			d->picture_id_off = (uint8_t)off;
			if (p[off] & 0x80) {        /* M: 15-bit */
				if (off + 1 >= len)
					return MMR_DROP_TRUNCATED;
				d->picture_id_16 = 1;
				d->picture_id = (uint16_t)((p[off] & 0x7f) << 8 | p[off + 1]);
				off += 2;
			} else {
				d->picture_id = p[off] & 0x7f;
				off += 1;
			}
		}
		if (d->has_tl0picidx) {
			if (off >= len)
				return MMR_DROP_TRUNCATED;
			d->tl0picidx_off = (uint8_t)off;
			d->tl0picidx = p[off];
			off += 1;
		}
		if (d->has_tid || d->has_keyidx) {
			if (off >= len)
				return MMR_DROP_TRUNCATED;
			if (d->has_tid) {
				d->tid = p[off] >> 6;
				d->layer_sync = (p[off] >> 5) & 1;
			}
			if (d->has_keyidx)
				d->keyidx = p[off] & 0x1f;
			off += 1;
		}
	}
	if (off >= len)
		return off == len ? MMR_DROP_BAD_PAYLOAD : MMR_DROP_TRUNCATED;
	d->len = (uint8_t)off;
	d->frame_start = d->start && d->part_id == 0;
	/* VP8 payload header, first byte: bit 0 is the inverse key frame flag P (RFC 7741 4.3). */
	d->keyframe = d->frame_start && (p[off] & 0x01) == 0;
	return MMR_DROP_NONE;
}

void vp8_set_picture_id(uint8_t *p, const struct vp8_desc *d, uint16_t picture_id)
{
	if (!d->has_picture_id || d->picture_id_off == 0)
		return;
	if (d->picture_id_16) {
		p[d->picture_id_off] = (uint8_t)(0x80 | ((picture_id >> 8) & 0x7f));
		p[d->picture_id_off + 1] = (uint8_t)picture_id;
	} else {
		p[d->picture_id_off] = (uint8_t)(picture_id & 0x7f);
	}
}

void vp8_set_tl0picidx(uint8_t *p, const struct vp8_desc *d, uint8_t tl0picidx)
{
	if (!d->has_tl0picidx || d->tl0picidx_off == 0)
		return;
	p[d->tl0picidx_off] = tl0picidx;
}

void vp8_media(const struct vp8_desc *d, uint16_t rtp_hdr_len, const struct rtp_info *ri,
	       struct media_pkt *mp)
{
	memset(mp, 0, sizeof(*mp));
	mp->codec = MMR_CODEC_VP8;
	mp->start = d->frame_start;
	mp->end = ri->marker;          /* VP8 has no end-of-frame bit: the marker ends the frame */
	mp->keyframe = d->keyframe;
	mp->has_layers = d->has_tid;
	mp->tid = d->tid;
	mp->switch_up = d->layer_sync;
	mp->desc_len = d->len;
	if (d->has_picture_id) {
		mp->has_pid = 1;
		mp->pid_16 = d->picture_id_16;
		mp->picture_id = d->picture_id;
		mp->pid_off = (uint16_t)(rtp_hdr_len + d->picture_id_off);
	}
	if (d->has_tl0picidx) {
		mp->has_tl0 = 1;
		mp->tl0picidx = d->tl0picidx;
		mp->tl0_off = (uint16_t)(rtp_hdr_len + d->tl0picidx_off);
	}
}
