/*
 * media.h - what layer selection needs to know about one RTP packet of a video stream, whatever its
 * codec: the codec parsers (vp8.h, vp9.h, av1_dd.h, h264.h) fill a struct media_pkt, the selector
 * (layer_select.h) decides from it alone, and the fan-out rewrites, per copy, the fields whose
 * offsets it records. Pure C; no allocation.
 *
 * Frames: a "layer frame" is what one spatial layer of one picture encodes (VP8, H.264 and
 * simulcast encodings have one layer frame per picture). A picture is identified by its RTP
 * timestamp; inside a picture, layer frames come in increasing spatial id.
 */
#ifndef MMR_MEDIA_H
#define MMR_MEDIA_H

#include <stdint.h>
#include "mmr_types.h"
#include "rtp.h"
#include "drop_reason.h"

/* MEDIA_MAX_SPATIAL, MEDIA_MAX_TEMPORAL, MEDIA_MAX_ENCODINGS: mmr_types.h (the commands carry them) */
#define AV1_MAX_DT         32  /* decode targets in a Dependency Descriptor structure */
#define AV1_MAX_CHAINS     32
#define AV1_MAX_FDIFFS     16  /* frame dependencies of one frame we keep (more: malformed for us) */

/* AV1 decode target indication (2 bits per decode target). */
enum av1_dti { AV1_DTI_NOT_PRESENT = 0, AV1_DTI_DISCARDABLE = 1, AV1_DTI_SWITCH = 2, AV1_DTI_REQUIRED = 3 };

struct media_pkt {
	uint8_t  codec;        /* enum mmr_codec */
	uint8_t  encoding;     /* simulcast: index of the encoding (stream) in its group, 0 = lowest; else 0 */
	uint8_t  start;        /* first packet of a layer frame (VP8 S=1,PID=0; VP9 B; AV1 DD start_of_frame;
				  H.264: first packet of an access unit as far as the payload tells) */
	uint8_t  end;          /* last packet of a layer frame (VP9 E; AV1 DD end_of_frame; VP8/H.264: RTP M) */
	uint8_t  keyframe;     /* this packet belongs to a layer frame decodable from nothing earlier:
				  VP8 P=0; VP9 P=0 at SID 0 (not inter-layer predicted); AV1: a frame with no
				  frame dependencies at spatial 0 with the structure attached; H.264 IDR/SPS */
	uint8_t  sid;          /* spatial layer (0 when the codec has none) */
	uint8_t  tid;          /* temporal layer */
	uint8_t  switch_up;    /* temporal up-switch point: VP8 Y=1, VP9 U=1 (an AV1 switch is per DT: dti) */
	uint8_t  inter_pic;    /* VP9 P: predicted from an earlier picture of its own spatial layer */
	uint8_t  inter_layer;  /* VP9 D: predicted from the lower spatial layer of the same picture */
	uint8_t  not_ref_up;   /* VP9 Z: not used by higher spatial layers of this picture */
	uint8_t  has_layers;   /* the descriptor said which layer this is (VP8 T, VP9 L, AV1 DD) */

	/* fields rewritten per copy: offsets from the start of the RTP header (0: not present) */
	uint16_t desc_len;     /* payload descriptor bytes at the start of the RTP payload (VP8/VP9) */
	uint16_t pid_off;      /* PictureID: 1 byte (7 bits) or 2 bytes (M=1, 15 bits) */
	uint8_t  pid_16;       /* 15-bit PictureID (M=1) */
	uint8_t  has_pid;
	uint16_t picture_id;
	uint16_t tl0_off;      /* TL0PICIDX byte */
	uint8_t  has_tl0;
	uint8_t  tl0picidx;

	/* AV1 Dependency Descriptor */
	uint16_t dd_off;       /* offset of the DD element's data from the start of the RTP header (0: none) */
	uint16_t dd_len;       /* its length in bytes */
	uint16_t frame_number; /* DD frame_number (16 bits, rewritten at dd_off + 1) */
	uint8_t  template_id;
	uint8_t  structure_attached; /* this packet carries a template dependency structure */
	uint8_t  dd_active_present;  /* this packet carries an active_decode_targets_bitmask */
	uint8_t  n_fdiffs;
	uint8_t  n_chains;     /* of the structure in use (0: no chains) */
	uint8_t  n_dts;        /* decode targets of the structure in use */
	uint8_t  fdiff[AV1_MAX_FDIFFS];        /* this frame depends on frame_number - fdiff[i] */
	uint64_t dtis;                          /* 2 bits per decode target (enum av1_dti), DT i at bits 2i */
	uint8_t  chain_fdiff[AV1_MAX_CHAINS];  /* previous frame in chain i is frame_number - chain_fdiff[i] (0: none) */
	uint8_t  dt_chain[AV1_MAX_DT];         /* decode target i is protected by chain dt_chain[i] */
	uint32_t active_dts;   /* active_decode_targets_bitmask (all ones when not sent) */
	uint64_t dt_top_sid;   /* 2 bits per decode target: the highest spatial id of the structure's
				  templates it is present in (where its pictures end, for the marker) */
};

/* What one receiver asks for. Fields that do not apply to the stream's codec are ignored. */
struct layer_target {
	uint8_t sid;           /* highest spatial layer (VP9) */
	uint8_t tid;           /* highest temporal layer (VP8, VP9) */
	uint8_t dt;            /* decode target (AV1) */
	uint8_t encoding;      /* simulcast encoding (any codec) */
};

/* What one receiver's copy of a forwarded packet carries. The fan-out writes seq, ts and marker
 * always, and picture_id / tl0picidx / frame_number where the media_pkt has their offsets. */
struct layer_out {
	uint16_t seq;
	uint16_t picture_id;
	uint32_t ts;
	uint16_t frame_number;
	uint8_t  tl0picidx;
	uint8_t  marker;
};

/* Which layers a receiver gets now (published for mmrctl). */
struct layer_current {
	uint8_t sid, tid, dt, encoding;
	uint8_t started;       /* 0 until the first keyframe was forwarded */
};

#endif
