/*
 * layer_select.h - per-receiver forwarding decisions for one stream (or one simulcast group): which
 * packets a receiver gets, and the RTP sequence number, timestamp, marker, PictureID, TL0PICIDX and
 * AV1 frame number it sees so that its stream stays contiguous over what was withheld.
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
 * VP8 streams keep these rules through layer_sel_video too (codec MMR_CODEC_VP8).
 *
 * Rules common to every codec in layer_sel_video (decisions per layer frame; the sequence, late
 * packet and PictureID machinery above applies unchanged, a "frame" being a layer frame):
 *  - nothing before a keyframe (mp->keyframe on a packet with mp->start); a keyframe sets the
 *    current layers straight to the target;
 *  - a layer frame begins at mp->start, at a timestamp change, or (VP9, AV1) when the packet's
 *    layer (VP9 SID/TID) or frame number (AV1, low byte) differs from the current frame's;
 *  - out ts = in ts + ts_offset (0 unless simulcast); out frame number = in + fn_offset (AV1).
 * VP9 (RFC 9628): a picture is an RTP timestamp. At a picture's first layer frame seen the temporal
 * decision is taken for the whole picture: down-switch to the target, or up one layer at a U=1 B=1
 * layer frame with TID = cur_tid + 1 <= target; spatial down-switch happens there too. A layer
 * frame is forwarded iff the picture's TID <= cur_tid and its SID <= cur_sid. Spatial up-switch at
 * a keyframe, or one layer at a time at a B=1 layer frame of SID = cur_sid + 1 <= target with P=0
 * whose inter-layer reference (D=1: the layer below) was forwarded in this picture. PictureIDs move
 * by one per withheld picture. SID/TID beyond the MEDIA_MAX_* limits are withheld. Marker: on the
 * E=1 packet of a layer frame with SID == cur_sid, or where the sender set it on a forwarded packet.
 * (A spatial up-switch inside a picture therefore marks both the old and the new top layer frame.)
 * AV1 (Dependency Descriptor): a frame is forwarded iff its DTI for the current decode target is
 * not NOT_PRESENT. Per receiver, `dt_ok` holds the decode targets it could decode from here: all of
 * them after a keyframe; withholding a frame that a decode target needs (DTI SWITCH or REQUIRED)
 * takes that one out; a forwarded frame whose DTI for a decode target is SWITCH, whose chain for it
 * is intact (chain_fdiff 0, or the chain's previous frame went out) and all of whose fdiff
 * references went out (a bitmap keeps which of the last 64 frame numbers did) puts it back. The
 * current decode target moves to the target (clamped to the structure's decode targets and to the
 * active ones) at a keyframe, or at a frame whose references all went out and which is such a
 * switching point for the target or, the target being in dt_ok (a down-switch: the receiver has
 * everything the lower target needs), starts a picture. Marker: on the end-of-frame packet of a
 * frame whose spatial id is the highest of the current decode target (from the structure:
 * mp->dt_top_sid), or where the sender set it on a forwarded packet.
 * H.264 and other video: everything of the current encoding after its first keyframe.
 * Simulcast (mp->encoding, target t->encoding): one state per receiver for its whole group. Until
 * started, the current encoding follows the target. Packets of another encoding are withheld, except
 * that a keyframe start of the target encoding switches to it and rebases the output onto what the
 * receiver saw: seq = last out + 1 (+1 more when the last forwarded frame was cut before its end),
 * ts = last out ts + max(1, arrival_rtp - arrival of the last forwarded packet), PictureID,
 * TL0PICIDX and DD frame number = last out + 1; the frame state restarts at that keyframe.
 * Audio: layer_sel_passthrough forwards every packet, sequence numbers pass through.
 *
 * After a call, s->dirty is set when started, the current layers or the encoding changed; the
 * caller publishes layer_sel_current() and clears it.
 */
#ifndef MMR_LAYER_SELECT_H
#define MMR_LAYER_SELECT_H

#include <stdint.h>
#include "media.h"
#include "rtp.h"
#include "vp8.h"

/* A 64-bit map aligned to 4 bytes, so that the union below needs no padding (x86 loads it fine;
 * inside a 64-byte aligned entry it never straddles a cache line). */
typedef uint64_t layer_sel_map __attribute__((aligned(4)));

/* 64 bytes: one cache line per subscription. The union holds what only VP8/VP9 (PictureID,
 * TL0PICIDX) or only AV1 (frame numbers) need. */
struct layer_sel {
	uint8_t  started;        /* a keyframe has been forwarded */
	uint8_t  cur_tid;        /* temporal layer currently forwarded (AV1: highest forwarded, reported) */
	uint8_t  frame_fwd;      /* decision for the current frame */
	uint8_t  have_seq;       /* highest_in_seq valid (and a current frame exists) */
	uint16_t highest_in_seq; /* highest input sequence number seen (with wrap) */
	uint16_t seq_offset;     /* out = in - seq_offset */
	uint32_t frame_ts;       /* RTP timestamp of the current frame */
	uint32_t prev_ts;        /* the same for the previous frame */
	/* where frames begin, and the previous frame's offsets, to place late packets exactly */
	uint16_t frame_first_seq;  /* first (newer) packet seen of the current frame */
	uint16_t prev_first_seq;
	uint16_t prev_seq_offset;
	uint8_t  frame_tid;      /* layer id of the current frame (VP8 TID, VP9 SID<<3|TID, AV1 frame
				    number low byte): a late packet must match it */
	uint8_t  prev_tid;       /* the same for the previous frame */
	uint8_t  have_prev : 1;      /* the prev_* fields describe the previous frame */
	uint8_t  prev_fwd : 1;       /* decision for the previous frame */
	uint8_t  frame_by_start : 1; /* the current frame was begun by its start packet, not a ts change */
	uint8_t  prev_by_start : 1;  /* the same for the previous frame */
	uint8_t  open : 1;           /* the newest forwarded packet did not end its frame */
	uint8_t  pic_tfwd : 1;       /* VP9: the current picture passed the temporal decision */
	uint8_t  dirty;          /* started / current layers / encoding changed since last cleared */
	uint8_t  cur_sid;        /* spatial layer currently forwarded (VP9; AV1: highest forwarded) */
	uint8_t  cur_dt;         /* AV1 decode target currently forwarded */
	uint8_t  encoding;       /* simulcast encoding currently forwarded */
	uint8_t  pic_sids;       /* VP9: spatial layers forwarded in the current picture (bit per SID) */
	uint16_t target;         /* the CEILING: the most the receiver may get, layer_target_pack():
				    written by the control thread (atomic store) at any time, read by
				    the owning lcore per packet (layer_sel_target); never written by
				    layer_sel_* */
	uint32_t ts_offset;      /* out ts = in + ts_offset */
	uint32_t last_out_ts;    /* output timestamp of the newest forwarded packet */
	uint32_t last_arrival;   /* its arrival time (RTP clock) */
	uint16_t alloc;          /* what the bandwidth allocator gives the receiver now: LAYER_ALLOC_NONE
				    (follow the ceiling), LAYER_ALLOC_PAUSED, or LAYER_ALLOC_SET |
				    layer_target_pack(); written by the allocator on the owning lcore
				    (layer_sel_alloc_store), by the control thread only in layer_sel_init */
	uint8_t  rebase;         /* paused since the last forwarded packet: the next keyframe continues
				    the receiver's numbering from what it saw last (as a simulcast switch) */
	uint8_t  slot_gen;       /* video slot (issue 13): the assignment number of the publisher stream
				    whose packets this state follows (layer_sel_slot_source); 0: none yet */
	union {
		struct {                     /* VP8, VP9, H.264 */
			uint16_t pid_offset;     /* out picture id = in - pid_offset (mod 2^15 or 2^7) */
			uint16_t last_in_pid;    /* picture id of the current frame */
			uint16_t prev_pid_offset;
			uint8_t  tl0_offset;     /* out TL0PICIDX = in - tl0_offset (0 unless simulcast) */
			uint8_t  last_in_tl0;    /* TL0PICIDX of the newest frame that had one */
		};
		struct {                     /* AV1 */
			uint16_t fn_offset;      /* out frame number = in + fn_offset */
			uint16_t fn_base;        /* newest frame number seen: bit 0 of fwd_map */
			uint32_t dt_ok;          /* decode targets the receiver could decode from here */
			layer_sel_map fwd_map;   /* bit i: frame fn_base - i was forwarded */
		};
	};
};

/* Zero the state (nothing started; target 0; alloc LAYER_ALLOC_NONE). Only while no lcore uses s. */
void layer_sel_init(struct layer_sel *s);

/*
 * The allocation word (struct layer_sel.alloc). Zero is LAYER_ALLOC_NONE, so zeroed memory follows
 * the ceiling. The selection uses the effective target: the per-component minimum of the ceiling
 * and the allocated target (layer_sel_effective). A lower allocation takes effect like a lower
 * ceiling (at the next frame / picture start; a simulcast encoding at a keyframe of the lower one),
 * a higher one at switching points, one layer at a time, as a higher ceiling would.
 * LAYER_ALLOC_PAUSED: layer_sel_video withholds every packet and returns LAYER_SEL_PAUSED (counted
 * by the caller as paused_drops; no keyframe request). The receiver's output stays contiguous:
 * after a pause the selection waits for a keyframe of the target encoding (as at a start, so a
 * caller asking for keyframes when !started asks then) and continues the receiver's sequence
 * number, timestamp (+ elapsed arrival time), PictureID, TL0PICIDX and frame number from what it
 * saw last, as a simulcast switch does.
 */
#define LAYER_ALLOC_NONE   0x0000u   /* no allocation: follow the ceiling (initial) */
#define LAYER_ALLOC_PAUSED 0x8000u   /* forward nothing */
#define LAYER_ALLOC_SET    0x4000u   /* flag of an allocated target: LAYER_ALLOC_SET | pack(t) */

/* Return values of layer_sel_video: forward iff > 0. */
#define LAYER_SEL_WITHHOLD 0
#define LAYER_SEL_FORWARD  1
#define LAYER_SEL_PAUSED   (-1)      /* withheld because the allocation is LAYER_ALLOC_PAUSED */

/* The target word: spatial bits 0-1, temporal 2-3, AV1 decode target 4-8, simulcast encoding 9-10
 * (what the limits of media.h allow: 3 spatial, 4 temporal, 32 decode targets, 3 encodings). A
 * receiver's subscriptions to one simulcast group share one (at their sel_id). The owner reads it
 * once per packet, so a change applies from the next packet, at the next valid switching point. */
static inline uint16_t layer_target_pack(const struct layer_target *t)
{
	return (uint16_t)((t->sid & 3u) | (t->tid & 3u) << 2 | (t->dt & 31u) << 4 | (t->encoding & 3u) << 9);
}

static inline struct layer_target layer_target_unpack(uint16_t w)
{
	struct layer_target t = { .sid = (uint8_t)(w & 3u), .tid = (uint8_t)(w >> 2 & 3u),
				  .dt = (uint8_t)(w >> 4 & 31u), .encoding = (uint8_t)(w >> 9 & 3u) };
	return t;
}

/* Control thread: set s's target (release: the owner sees it from its next packet). */
static inline void layer_sel_set_target(struct layer_sel *s, const struct layer_target *t)
{
	__atomic_store_n(&s->target, layer_target_pack(t), __ATOMIC_RELEASE);
}

/* Owning lcore: s's target (the ceiling) now. */
static inline struct layer_target layer_sel_target(const struct layer_sel *s)
{
	return layer_target_unpack(__atomic_load_n(&s->target, __ATOMIC_RELAXED));
}

/* The allocation word for target t (LAYER_ALLOC_SET | pack). */
static inline uint16_t layer_alloc_word(const struct layer_target *t)
{
	return (uint16_t)(LAYER_ALLOC_SET | layer_target_pack(t));
}

/* Per-component minimum of two targets. */
static inline struct layer_target layer_target_min(struct layer_target a, struct layer_target b)
{
	struct layer_target t = { .sid = a.sid < b.sid ? a.sid : b.sid, .tid = a.tid < b.tid ? a.tid : b.tid,
				  .dt = a.dt < b.dt ? a.dt : b.dt,
				  .encoding = a.encoding < b.encoding ? a.encoding : b.encoding };
	return t;
}

/* Ceiling c under allocation word w (NONE and PAUSED leave c as it is). */
static inline struct layer_target layer_alloc_apply(struct layer_target c, uint16_t w)
{
	if (w & LAYER_ALLOC_SET && !(w & LAYER_ALLOC_PAUSED))
		return layer_target_min(c, layer_target_unpack((uint16_t)(w & 0x07ffu)));
	return c;
}

/* Allocator (owning lcore): store an allocation word (LAYER_ALLOC_NONE, LAYER_ALLOC_PAUSED or
 * layer_alloc_word(t)). Words with other bits are refused (returns -1, nothing stored). */
static inline int layer_sel_alloc_set(struct layer_sel *s, uint16_t w)
{
	if (w != LAYER_ALLOC_NONE && w != LAYER_ALLOC_PAUSED && (w & ~(LAYER_ALLOC_SET | 0x07ffu)) != 0)
		return -1;
	if (w != LAYER_ALLOC_NONE && w != LAYER_ALLOC_PAUSED && !(w & LAYER_ALLOC_SET))
		return -1;
	__atomic_store_n(&s->alloc, w, __ATOMIC_RELAXED);
	return 0;
}

/* Allocator: store target t as the allocation, or pause (t NULL). */
static inline void layer_sel_alloc_store(struct layer_sel *s, const struct layer_target *t)
{
	__atomic_store_n(&s->alloc, t ? layer_alloc_word(t) : (uint16_t)LAYER_ALLOC_PAUSED, __ATOMIC_RELAXED);
}

/* The allocation word now. */
static inline uint16_t layer_sel_alloc(const struct layer_sel *s)
{
	return __atomic_load_n(&s->alloc, __ATOMIC_RELAXED);
}

/* Is s paused by the allocator? */
static inline int layer_sel_paused(const struct layer_sel *s)
{
	return layer_sel_alloc(s) == LAYER_ALLOC_PAUSED;
}

/* Owning lcore: the effective target, min(ceiling, allocation) per component (when paused: the
 * ceiling; layer_sel_paused says so). What the fan-out passes to layer_sel_video and what a
 * keyframe request should look at. */
static inline struct layer_target layer_sel_effective(const struct layer_sel *s)
{
	return layer_alloc_apply(layer_sel_target(s), layer_sel_alloc(s));
}

/* Any video stream (the codec is mp->codec; VP8 obeys the VP8 rules above): returns
 * LAYER_SEL_FORWARD (1; *out filled: seq, ts, marker always, picture_id / tl0picidx / frame_number
 * where mp has them), LAYER_SEL_WITHHOLD (0) or LAYER_SEL_PAUSED (-1: s->alloc is
 * LAYER_ALLOC_PAUSED; withheld). Forward iff > 0. t is the ceiling (or already the effective
 * target): s->alloc is applied on top of it (layer_alloc_apply). arrival_rtp: the packet's arrival
 * time in the stream's RTP clock (wrapping). */
int layer_sel_video(struct layer_sel *s, const struct layer_target *t, const struct rtp_info *ri,
		    const struct media_pkt *mp, uint32_t arrival_rtp, struct layer_out *out);

/*
 * Video slots (issue 13): one selection state per receiver slot outlives the publisher streams
 * put on it. Each assignment has a number gen (1..255, then 1 again; 0 is never used), carried by
 * the slot's outputs. layer_sel_slot_source, called by the owner before layer_sel_video for a
 * slot output:
 *  - gen newer than s->slot_gen (serial arithmetic mod 256; or s has none): another stream is on
 *    the slot now. If the receiver saw anything, it is treated as after a pause (rebase): nothing
 *    of the new stream goes out before a keyframe start of the target encoding, and that keyframe
 *    continues the receiver's numbering: seq = last out + 1 (+1 when the last forwarded frame was
 *    cut), ts = last out ts + the arrival time elapsed (>= 1), PictureID / TL0PICIDX / frame
 *    number = last out + 1. Returns LAYER_SLOT_NEW;
 *  - gen older: an output of a previous assignment still published for a moment: withhold
 *    (LAYER_SLOT_STALE);
 *  - the same: LAYER_SLOT_SAME.
 */
#define LAYER_SLOT_SAME  0
#define LAYER_SLOT_NEW   1
#define LAYER_SLOT_STALE (-1)
static inline int layer_sel_slot_source(struct layer_sel *s, uint8_t gen)
{
	if (gen == s->slot_gen)
		return LAYER_SLOT_SAME;
	if (s->slot_gen && (int8_t)(uint8_t)(gen - s->slot_gen) < 0)
		return LAYER_SLOT_STALE;
	s->slot_gen = gen;
	if (s->started) {
		s->started = 0;
		s->rebase = 1;
		s->dirty = 1;
	}
	return LAYER_SLOT_NEW;
}

/* The sequence number the receiver's next packet will have after a rebase (what it saw last + 1,
 * + 1 more when the last forwarded frame was cut); meaningful when something was forwarded. */
static inline uint16_t layer_sel_next_seq(const struct layer_sel *s)
{
	return (uint16_t)(s->highest_in_seq - s->seq_offset + 1 + s->open);
}

/* What the receiver gets now. */
void layer_sel_current(const struct layer_sel *s, struct layer_current *c);

/* VP8 video from its descriptor (no simulcast): returns 1 (forward; *out filled), 0 (withhold) or
 * LAYER_SEL_PAUSED (as layer_sel_video).
 * target_tid above 3 means 3. out->picture_id is meaningful when d->has_picture_id,
 * out->tl0picidx when d->has_tl0picidx; write them back with vp8_set_picture_id /
 * vp8_set_tl0picidx and the seq with rtp_set_seq. */
int layer_sel_vp8(struct layer_sel *s, uint8_t target_tid, const struct rtp_info *ri,
		  const struct vp8_desc *d, struct layer_out *out);

/* A copy of a packet as it came (no layers): seq, ts and marker passed through. */
static inline void layer_out_passthrough(const struct rtp_info *ri, struct layer_out *out)
{
	out->seq = ri->seq;
	out->ts = ri->ts;
	out->marker = ri->marker;
	out->picture_id = 0;
	out->tl0picidx = 0;
	out->frame_number = 0;
}

/* Any stream without layers (audio): always forwards, layer_out_passthrough's values; also keeps
 * the highest sequence number seen in s (the dataplane's audio path skips this: it keeps no state). */
int layer_sel_passthrough(struct layer_sel *s, const struct rtp_info *ri, struct layer_out *out);

#endif
