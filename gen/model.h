/*
 * model.h - the meetings mmr-gen emulates: who is in them, what each publisher sends, which layer
 * each receiver asks for, and when every stream emits its next frame or audio packet.
 *
 * Everything is derived from a handful of numbers (meetings, participants per meeting, video and
 * audio publishers per meeting), deterministically, so the generator, the set-up commands it
 * writes and a later run agree without exchanging state:
 *   - participant p (global index m * M + j) has IPv4 address base_ip + p and UDP port
 *     GEN_PART_PORT_BASE + (p % 4096), name "p<p>", in meeting "m<m>"; j < publishers: sendrecv,
 *     otherwise recvonly;
 *   - publisher j < video_pubs sends video (SSRC GEN_SSRC_VIDEO + 2p): VP8 L1T3 by default, or
 *     VP9 / AV1 L3T3 (--video), every publisher the same codec; j < audio_pubs Opus audio (SSRC
 *     GEN_SSRC_AUDIO + 2p);
 *   - the receiver of stream s asks for temporal layer target(receiver, s): half of them the full
 *     30 fps (TID 2), a quarter 15 fps (TID 1), a quarter 7.5 fps (TID 0), like a gallery view;
 *     for VP9 / AV1 also for a spatial layer, spread the same way (half the top, a quarter each of
 *     the two lower ones) but mixed differently, so that every (spatial, temporal) pair occurs;
 *     AV1 decode target = spatial * 3 + temporal;
 *   - receivers are reached through DPDK port 0 of the dataplane (back to the generator), or, with
 *     a sink port, every probe_stride-th one through port 0 and the rest through the sink port.
 * Time is a wheel of GEN_WHEEL_SLOTS virtual milliseconds: each video stream has 3 frame slots
 * (0, 33, 67 ms + its phase), each audio stream 5 packet slots (every 20 ms + its phase).
 */
#ifndef MMR_GEN_MODEL_H
#define MMR_GEN_MODEL_H

#include <stdint.h>

#define GEN_WHEEL_SLOTS    100u          /* 100 virtual ms: 3 video frames, 5 audio packets */
#define GEN_PART_PORT_BASE 40000u
#define GEN_SSRC_VIDEO     0x40000000u   /* + 2 * participant */
#define GEN_SSRC_AUDIO     0x40000001u   /* + 2 * participant */
#define GEN_SSRC_ALT_BIT   0x80000000u   /* out SSRC variant an update switches to */
#define GEN_SSRC_SLOT      0x20000000u   /* + MMR_TOPN_MAX * receiver + slot: top-N audio slots (ring set-up) */

enum gen_kind { GEN_VIDEO = 0, GEN_AUDIO = 1 };
/* The video codec of every video publisher (VP8 L1T3, or VP9 / AV1 L3T3). */
enum gen_video_codec { GEN_VC_VP8 = 0, GEN_VC_VP9 = 1, GEN_VC_AV1 = 2 };
#define GEN_SVC_LAYERS     3u            /* spatial and temporal layers of VP9 / AV1 (L3T3) */

struct srtp_stream;

/* One published stream and its sender-side state. */
struct gen_stream {
	uint32_t ssrc;
	uint32_t part;            /* publisher's participant index */
	uint32_t meeting;
	uint16_t slot;            /* index among its meeting's stream slots (see gen_model.slots_per_meeting) */
	uint8_t  kind;            /* enum gen_kind */
	uint8_t  pt;              /* RTP payload type */
	uint16_t seq;
	uint16_t picture_id;      /* 15 bits */
	uint32_t ts;
	uint32_t frame;           /* frames (or audio packets) sent so far */
	uint8_t  tl0picidx;
	uint8_t  pad;
	uint16_t frame_number;    /* AV1: Dependency Descriptor frame number of the next layer frame */
	uint32_t rng;             /* per-stream size jitter */
	uint32_t dp_stream_id;    /* id given to the dataplane (ring set-up) */
	struct srtp_stream *srtp; /* protect context (SRTP runs only) */
	uint16_t *tw_seq;         /* the publisher's transport-wide sequence number (one per participant,
				     shared by its streams: the transport-cc element of its packets) */
};

struct gen_model {
	uint32_t meetings;
	uint32_t per_meeting;        /* participants per meeting */
	uint32_t video_pubs;         /* per meeting */
	uint32_t audio_pubs;         /* per meeting */
	uint32_t n_parts;
	uint32_t base_ip;            /* host order: participant p is base_ip + p */
	uint32_t slots_per_meeting;  /* 2 * max(video_pubs, audio_pubs): slot = 2 * j + kind */
	int      sink_port;          /* dataplane port of non-probe receivers, -1 = none (all port 0) */
	uint32_t probe_stride;       /* with a sink: every probe_stride-th participant uses port 0 */
	uint8_t  video_codec;        /* enum gen_video_codec (from the media configuration) */
	uint8_t  dd_ext_id;          /* AV1: header extension id of the Dependency Descriptor */

	uint32_t n_streams;
	struct gen_stream *streams;
	uint32_t *stream_of_slot;    /* [meeting * slots_per_meeting + slot] -> stream index or UINT32_MAX */

	/* the wheel: events of slot k are wheel_ev[wheel_start[k] .. wheel_start[k+1]) (stream indexes) */
	uint32_t wheel_start[GEN_WHEEL_SLOTS + 1];
	uint32_t *wheel_ev;
	double   nominal_pps;        /* packets per real second at scale 1 (estimated from the size model) */
	uint16_t *part_tw_seq;       /* [participant]: next transport-wide sequence number it sends */
};

/* Media shape (see media.h for how sizes become packets). */
struct gen_media_cfg {
	uint32_t video_kbps;         /* per video publisher */
	uint32_t keyframe_ms;        /* a keyframe every this many virtual ms (0: only the first) */
	uint32_t mtu_payload;        /* largest RTP payload (descriptor + VP8 data) */
	uint32_t audio_bytes;        /* Opus payload bytes per 20 ms */
	uint32_t fixed_video_bytes;  /* if nonzero: every video packet carries this many payload bytes */
	int      rtp_ext;            /* add a one-byte header extension (8 bytes), like WebRTC */
	int      browser_ext;        /* and the rest of a browser's first packets' set (media.h) */
	uint8_t  video_codec;        /* enum gen_video_codec (GEN_VC_VP8 by default) */
	uint8_t  dd_ext_id;          /* AV1: the Dependency Descriptor's extension id (1..14) */
	uint8_t  level_ext_id;       /* audio level extension (RFC 6464) id on audio packets, 1..14; 0: none */
	uint32_t talkers;            /* audio publishers per meeting (who talks when: media.h) */
};

int gen_model_init(struct gen_model *m, uint32_t meetings, uint32_t per_meeting, uint32_t video_pubs,
		   uint32_t audio_pubs, uint32_t base_ip, int sink_port, uint32_t probe_stride,
		   const struct gen_media_cfg *mc);
void gen_model_free(struct gen_model *m);

/* Participant helpers. */
static inline uint32_t gen_part_ip(const struct gen_model *m, uint32_t p) { return m->base_ip + p; }
static inline uint16_t gen_part_port(uint32_t p) { return (uint16_t)(GEN_PART_PORT_BASE + (p % 4096u)); }
static inline uint32_t gen_part_meeting(const struct gen_model *m, uint32_t p) { return p / m->per_meeting; }
static inline uint32_t gen_part_rank(const struct gen_model *m, uint32_t p) { return p % m->per_meeting; }
int gen_part_is_publisher(const struct gen_model *m, uint32_t p);
/* Dataplane port the participant's copies leave on. */
int gen_part_dp_port(const struct gen_model *m, uint32_t p);
/* Does the participant receive stream s (same meeting, not its own)? */
int gen_receives(const struct gen_model *m, uint32_t p, const struct gen_stream *s);
/* The temporal layer target of receiver p for video stream s (0 for audio). */
uint8_t gen_target_tid(const struct gen_model *m, uint32_t p, const struct gen_stream *s);
/* The spatial layer target of receiver p for video stream s (VP9 / AV1; 0 otherwise). */
uint8_t gen_target_sid(const struct gen_model *m, uint32_t p, const struct gen_stream *s);
/* Is that receiver's target the top layer a new subscription starts at (nothing to set)? */
int gen_target_is_top(const struct gen_model *m, uint32_t p, const struct gen_stream *s);
/* The dataplane's codec of the model's video streams (enum mmr_codec) and its name for mmrctl. */
uint8_t gen_video_mmr_codec(const struct gen_model *m);
const char *gen_video_codec_name(uint8_t video_codec);

/* Stream of a received SSRC (the ALT bit ignored) or UINT32_MAX. */
uint32_t gen_stream_of_ssrc(const struct gen_model *m, uint32_t ssrc);

#endif
