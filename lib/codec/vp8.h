/*
 * vp8.h - the VP8 RTP payload descriptor (RFC 7741 section 4.2) and the start of the VP8 payload
 * header (keyframe bit). Pure C; never reads outside the buffer.
 */
#ifndef MMR_VP8_H
#define MMR_VP8_H

#include <stdint.h>
#include "media.h"
#include "rtp.h"
#include "drop_reason.h"

struct vp8_desc {
	uint8_t  len;           /* descriptor length in bytes (1..6) */
	uint8_t  non_ref;       /* N */
	uint8_t  start;         /* S: start of a VP8 partition */
	uint8_t  part_id;       /* PID */
	uint8_t  has_picture_id;    /* I */
	uint8_t  picture_id_16;     /* M: 15-bit picture id (else 7-bit) */
	uint8_t  has_tl0picidx;     /* L */
	uint8_t  has_tid;           /* T */
	uint8_t  has_keyidx;        /* K */
	uint8_t  tid;           /* 0..3 (0 when !has_tid) */
	uint8_t  layer_sync;    /* Y */
	uint8_t  keyidx;
	uint8_t  tl0picidx;
	uint8_t  picture_id_off;    /* offset of the PictureID byte(s) in the descriptor (0 if none) */
	uint8_t  tl0picidx_off;     /* offset of TL0PICIDX (0 if none) */
	uint16_t picture_id;    /* 7 or 15 bits */
	uint8_t  frame_start;   /* S=1 and PID=0: first packet of a frame */
	uint8_t  keyframe;      /* frame_start and the payload header's P bit is 0 */
};

/* Parse the descriptor at p (the RTP payload). Returns MMR_DROP_NONE, MMR_DROP_TRUNCATED (the
 * payload ends inside the descriptor) or MMR_DROP_BAD_PAYLOAD (no VP8 payload byte after the
 * descriptor). Reserved bits are ignored, as RFC 7741 asks of receivers; L=1 with T=0 is parsed
 * as written (TID 0). tid/layer_sync are 0 unless T=1, keyidx 0 unless K=1. */
enum mmr_drop_reason vp8_parse(const uint8_t *p, uint32_t len, struct vp8_desc *d);

/* Rewrite PictureID (keeping its 7/15-bit width; the value is masked to it) and TL0PICIDX in place. */
void vp8_set_picture_id(uint8_t *p, const struct vp8_desc *d, uint16_t picture_id);
void vp8_set_tl0picidx(uint8_t *p, const struct vp8_desc *d, uint8_t tl0picidx);

/* Fill mp (zeroed first) from a parsed descriptor: start = frame_start, end = the RTP marker,
 * tid/switch_up from T/Y; offsets are from the start of the RTP header, whose length (the
 * payload's offset) is rtp_hdr_len. */
void vp8_media(const struct vp8_desc *d, uint16_t rtp_hdr_len, const struct rtp_info *ri,
	       struct media_pkt *mp);

#endif
