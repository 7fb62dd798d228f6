/*
 * vp9.h - the VP9 RTP payload descriptor (RFC 9628 section 4.2), including a summary of the
 * scalability structure, and its translation into the codec-neutral struct media_pkt.
 * Pure C; never reads outside the buffer.
 */
#ifndef MMR_VP9_H
#define MMR_VP9_H

#include <stdint.h>
#include "media.h"
#include "rtp.h"
#include "drop_reason.h"

#define VP9_MAX_REFS   3       /* P_DIFFs of one picture in flexible mode */
#define VP9_MAX_SS     8       /* spatial layers an SS can describe (N_S is 3 bits) */

struct vp9_desc {
	uint16_t len;           /* descriptor length in bytes (the SS makes it up to ~1 KB) */
	uint8_t  i, p, l, f, b, e, v, z;    /* the first byte's flags */
	uint8_t  pid_16;        /* M: 15-bit PictureID (else 7-bit) */
	uint16_t picture_id;    /* 0 when !i */
	uint8_t  pid_off;       /* offset of the PictureID byte(s) in the descriptor (0 if none) */
	uint8_t  tid;           /* L=1: TID 0..7, U, SID 0..7, D; all 0 when L=0 */
	uint8_t  u;
	uint8_t  sid;
	uint8_t  d;
	uint8_t  has_tl0;       /* L=1 and F=0 */
	uint8_t  tl0picidx;
	uint8_t  tl0_off;       /* offset of TL0PICIDX in the descriptor (0 if none) */
	uint8_t  n_refs;        /* F=1, P=1: 1..3 P_DIFFs */
	uint8_t  p_diff[VP9_MAX_REFS];
	/* V=1: the scalability structure, summarised */
	uint8_t  ss_n_spatial;  /* N_S + 1 */
	uint8_t  ss_has_res;    /* Y */
	uint8_t  ss_has_pg;     /* G */
	uint8_t  ss_n_g;        /* pictures in the picture group (0 when G=0) */
	uint16_t ss_width[VP9_MAX_SS];     /* Y=1: per spatial layer, else 0 */
	uint16_t ss_height[VP9_MAX_SS];
};

/* Parse the descriptor at p (the RTP payload). Returns MMR_DROP_NONE, MMR_DROP_TRUNCATED (the
 * payload ends inside the descriptor) or MMR_DROP_BAD_PAYLOAD: no payload byte after the
 * descriptor, a P_DIFF of 0 (a picture cannot reference itself), a fourth P_DIFF, D=1 at SID 0
 * (the base layer has no lower layer), or a SID beyond the N_S of an SS in the same packet. */
enum mmr_drop_reason vp9_parse(const uint8_t *p, uint32_t len, struct vp9_desc *d);

/* Rewrite PictureID (keeping its 7/15-bit width; the value is masked to it) and TL0PICIDX in
 * place. p is the payload the descriptor was parsed from; nothing is written where the field is
 * absent. */
void vp9_set_picture_id(uint8_t *p, const struct vp9_desc *d, uint16_t picture_id);
void vp9_set_tl0picidx(uint8_t *p, const struct vp9_desc *d, uint8_t tl0picidx);

/* Fill mp (zeroed first) from a parsed descriptor; offsets are from the start of the RTP header,
 * whose length (the payload's offset) is rtp_hdr_len. */
void vp9_media(const struct vp9_desc *d, uint16_t rtp_hdr_len, const struct rtp_info *ri,
	       struct media_pkt *mp);

#endif
