/*
 * layer_select.h - per-receiver forwarding decisions for one stream: which packets a receiver gets,
 * and the RTP sequence number / VP8 PictureID / TL0PICIDX it sees so that its stream stays
 * contiguous over what was withheld.
 *
 * One struct layer_sel per subscription, owned by the single lcore that receives the stream: no
 * locking. Pure C, unit-tested and fuzzed.
 *
 * VP8 temporal rules (RFC 7741, practice of mediasoup/Jitsi):
 *  - nothing is forwarded until the first keyframe (the receiver could not decode it);
 *  - decisions are taken per frame, at its first packet (frame_start), and held for all its packets;
 *  - down-switch (target below current) takes effect at the next frame start;
 *  - up-switch to layer t happens at a keyframe (straight to the target) or at a frame with Y=1 and
 *    TID=t, current < t <= target;
 *  - a frame is forwarded iff its TID <= current layer;
 *  - withheld packets are removed from the sequence number space; withheld frames from the
 *    PictureID space; TL0PICIDX passes through (layer 0 is never withheld) re-based so that it is
 *    continuous from the receiver's first frame.
 * Audio and other codecs: every packet is forwarded, sequence numbers pass through.
 */
#ifndef MMR_LAYER_SELECT_H
#define MMR_LAYER_SELECT_H

#include <stdint.h>
#include "rtp.h"
#include "vp8.h"

struct layer_sel {
	uint8_t  started;        /* a keyframe has been forwarded */
	uint8_t  cur_tid;        /* temporal layer currently forwarded */
	uint8_t  frame_fwd;      /* decision for the current frame */
	uint8_t  have_seq;       /* highest_in_seq valid */
	uint16_t highest_in_seq; /* highest input sequence number seen (with wrap) */
	uint16_t seq_offset;     /* out = in - seq_offset */
	uint16_t pid_offset;     /* out picture id = in - pid_offset (mod 2^15 or 2^7) */
	uint16_t last_in_pid;    /* picture id of the current frame */
	uint32_t frame_ts;       /* RTP timestamp of the current frame */
	uint8_t  tl0_offset;     /* out TL0PICIDX = in - tl0_offset */
	uint8_t  pad[3];
};

struct layer_out {
	uint16_t seq;
	uint16_t picture_id;
	uint8_t  tl0picidx;
};

void layer_sel_init(struct layer_sel *s);

/* VP8 video: returns 1 (forward; *out filled) or 0 (withhold). */
int layer_sel_vp8(struct layer_sel *s, uint8_t target_tid, const struct rtp_info *ri,
		  const struct vp8_desc *d, struct layer_out *out);

/* Any stream without layers (audio): always forwards; out->seq = ri->seq. */
int layer_sel_passthrough(struct layer_sel *s, const struct rtp_info *ri, struct layer_out *out);

#endif
