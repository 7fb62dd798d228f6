/*
 * layer_select.h - per-receiver forwarding decisions for one stream: which packets a receiver gets,
 * and the RTP sequence number / VP8 PictureID / TL0PICIDX it sees so that its stream stays
 * contiguous over what was withheld.
 *
 * One struct layer_sel per subscription, owned by the single lcore that receives the stream: no
 * locking. Pure C, unit-tested and fuzzed.
 *
 * VP8 temporal rules (RFC 7741, practice of mediasoup/Jitsi). A receiver decodes correctly only if
 * every frame it gets references only frames it also got. With temporal layers a Y=0 frame of
 * layer t may reference the latest frames of layers 0..t; a Y=1 ("layer sync") frame references
 * only the latest TL0 frame; a keyframe references nothing and refreshes every reference buffer.
 *  - nothing is forwarded until the first keyframe (the receiver could not decode it);
 *  - decisions are taken per frame, at its first packet, and held for all its packets. A frame
 *    starts at a packet newer than any seen with S=1,PID=0 (frame_start), or, when that packet was
 *    lost or comes late, at a newer packet whose RTP timestamp differs from the current frame's;
 *  - a keyframe is always forwarded and sets the current layer straight to the target;
 *  - down-switch (target below current) takes effect at the next frame start;
 *  - up-switch goes ONE layer at a time: at a frame_start with Y=1 and TID = current + 1 <= target.
 *    (Jumping from 0 to 2 at a Y=1 TID 2 frame would let later TID 2 frames reference a TID 1
 *    frame the receiver never got; 0 -> 2 therefore takes a Y=1 TID 1 frame, then a Y=1 TID 2
 *    frame, or a keyframe.);
 *  - a frame is forwarded iff its TID <= current layer (no T bit: TID 0);
 *  - sequence numbers: out = in - seq_offset; seq_offset grows by one per withheld packet newer
 *    than the highest seen, so the output is contiguous over withheld packets while losses in
 *    forwarded frames stay visible as gaps. Input numbers skipped (lost) before a newer packet
 *    are added to seq_offset too when they surely belonged to withheld frames (inside a withheld
 *    frame; the tail of a withheld frame before an S=1 packet; between two withheld frames; and
 *    never when the PictureID shows that whole frames were lost in between).
 *    Before the first keyframe nothing is counted: the first forwarded packet keeps its number;
 *  - late (reordered, duplicated) packets: one that belongs to the current or the previous frame
 *    gets that frame's decision and the offsets that frame had, so its output number is exact and
 *    a duplicate gets the same number again. A packet belongs to a frame if it carries the frame's
 *    RTP timestamp and TID and is not older than the frame's first packet, unless that first packet
 *    was not the S=1 one (then earlier packets with its timestamp are its lost head). A late packet of
 *    any older frame is withheld (the receiver sees it as lost): reordering deeper than one frame
 *    boundary is treated as loss;
 *  - PictureID: withheld frames are removed from the PictureID space: out = in - pid_offset, modulo
 *    2^15 or 2^7 by the width (M bit) the packet carries; pid_offset grows by one per withheld frame
 *    (after the first keyframe). A frame lost before reaching us stays a gap, as it should;
 *  - TL0PICIDX passes through unchanged (tl0_offset stays 0): layer 0 is never withheld once the
 *    receiver has started, so the input's TL0PICIDX is already continuous for the receiver.
 * Audio and other codecs: every packet is forwarded, sequence numbers pass through.
 */
#ifndef MMR_LAYER_SELECT_H
#define MMR_LAYER_SELECT_H

#include <stdint.h>
#include "rtp.h"
#include "vp8.h"

/* 32 bytes: two per cache line in the per-subscription array. */
struct layer_sel {
	uint8_t  started;        /* a keyframe has been forwarded */
	uint8_t  cur_tid;        /* temporal layer currently forwarded */
	uint8_t  frame_fwd;      /* decision for the current frame */
	uint8_t  have_seq;       /* highest_in_seq valid (and a current frame exists) */
	uint16_t highest_in_seq; /* highest input sequence number seen (with wrap) */
	uint16_t seq_offset;     /* out = in - seq_offset */
	uint16_t pid_offset;     /* out picture id = in - pid_offset (mod 2^15 or 2^7) */
	uint16_t last_in_pid;    /* picture id of the current frame */
	uint32_t frame_ts;       /* RTP timestamp of the current frame */
	uint8_t  tl0_offset;     /* out TL0PICIDX = in - tl0_offset (always 0: pass-through) */
	uint8_t  have_prev : 1;      /* the prev_* fields describe the previous frame */
	uint8_t  prev_fwd : 1;       /* decision for the previous frame */
	uint8_t  frame_by_start : 1; /* the current frame was begun by its S=1 packet, not a ts change */
	uint8_t  prev_by_start : 1;  /* the same for the previous frame */
	uint8_t  frame_tid;      /* TID of the current frame (a late packet must match it) */
	uint8_t  prev_tid;       /* TID of the previous frame */
	/* where frames begin, and the previous frame's offsets, to place late packets exactly */
	uint16_t frame_first_seq;  /* first (newer) packet seen of the current frame */
	uint16_t prev_first_seq;
	uint16_t prev_seq_offset;
	uint16_t prev_pid_offset;
	uint32_t prev_ts;
};

struct layer_out {
	uint16_t seq;
	uint16_t picture_id;
	uint8_t  tl0picidx;
};

void layer_sel_init(struct layer_sel *s);

/* VP8 video: returns 1 (forward; *out filled) or 0 (withhold). target_tid above 3 means 3.
 * out->picture_id is meaningful when d->has_picture_id, out->tl0picidx when d->has_tl0picidx;
 * write them back with vp8_set_picture_id / vp8_set_tl0picidx and the seq with rtp_set_seq. */
int layer_sel_vp8(struct layer_sel *s, uint8_t target_tid, const struct rtp_info *ri,
		  const struct vp8_desc *d, struct layer_out *out);

/* Any stream without layers (audio): always forwards; out->seq = ri->seq. */
int layer_sel_passthrough(struct layer_sel *s, const struct rtp_info *ri, struct layer_out *out);

#endif
