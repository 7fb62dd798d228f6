/*
 * media.h - what mmr-gen puts on the wire: VP8 L1T3 video frames and Opus audio packets as RTP,
 * inside Ethernet/IPv4/UDP, each carrying a stamp for one-way latency.
 *
 * Video (RFC 7741 descriptor: X=1, I=1 with a 15-bit PictureID, L=1 TL0PICIDX, T=1 TID/Y): frames
 * follow the L1T3 pattern TID 0,2,1,2 at 30 fps; the bitrate is split as encoders do (TL0 60 % at
 * 7.5 fps, TL1 20 % at 7.5 fps, TL2 20 % at 15 fps); TID 2 frames are non-reference (N=1), TID 1
 * and 2 frames right after a TL0 frame are layer-sync (Y=1); a keyframe (5 x a TL0 frame) starts
 * the stream and comes back every keyframe_ms. Frame sizes vary +-25 % per frame; a frame is split
 * into equal packets of at most mtu_payload bytes. Audio: one 20 ms Opus packet (TOC byte + data).
 * Every RTP packet may carry a one-byte header extension (transport-wide sequence, abs-send-time)
 * like a browser's: the transport-wide sequence number counts the publisher's packets (all its
 * streams); with level_ext_id, audio packets also carry the audio level (RFC 6464) of a meeting in
 * which one talker at a time speaks loudly (voice bit set; the talker changes every GEN_TALK_PKTS
 * packets, 3 s, in turn over the audio publishers), the next two publishers in turn less loudly, and
 * the others at room-noise levels (90-127 -dBov): gen_audio_level().
 *
 * VP9 and AV1 (--video vp9|av1): L3T3 full SVC. Every picture (30 fps, the same TID pattern 0,2,1,2
 * restarting at each keyframe, the same TL0/TL1/TL2 bitrate split) is three layer frames, SID 0, 1,
 * 2 (320x180, 640x360, 1280x720), sent in that order with one RTP timestamp, the RTP marker on the
 * last packet of SID 2; the picture's bytes are split 10 % / 25 % / 65 % over the spatial layers
 * (as libwebrtc's L3T3 rates are, roughly), each layer frame jittered +-25 % and packetised apart.
 *   VP9 (RFC 9628, non-flexible, 5-byte descriptor): I=1 with a 15-bit PictureID per picture, L=1
 *   with TID, U (on the TID 1 and 2 pictures right after a TL0 picture, and keyframes), SID, D=1
 *   above SID 0 (inter-layer prediction in every picture); P=0 on keyframes only; B/E on the first/
 *   last packet of a layer frame; Z=1 at SID 2; TL0PICIDX incremented at every TL0 picture; V=1
 *   with the scalability structure (3 layers with resolutions, the 4-picture group) on the first
 *   packet of a keyframe.
 *   AV1: the payload starts with an aggregation header (Z, Y, W=1, N); the Dependency Descriptor
 *   (extension id mc->dd_ext_id) gives start/end of frame, the template id of the layer frame and a
 *   frame number per layer frame (3 per picture); the first packet of a keyframe carries the L3T3
 *   template structure (9 decode targets dt = 3 * SID + TID, 3 chains, resolutions; 95 bytes), so
 *   its extension block is in the two-byte form (RFC 8285), the others in the one-byte form.
 *   The packet carrying the SS / the structure has that many fewer payload bytes.
 *
 * The stamp: the last GEN_STAMP_LEN bytes of every RTP payload are { magic, stream index, TSC at
 * build time }; the MMR copies payloads unchanged, so a receiver reads it back (after SRTP
 * decryption when the run is encrypted).
 */
#ifndef MMR_GEN_MEDIA_H
#define MMR_GEN_MEDIA_H

#include <stdint.h>
#include "model.h"

#define GEN_STAMP_LEN    16u
#define GEN_STAMP_MAGIC  0x6e65676du     /* "mgen" little-endian */
#define GEN_L2L3_LEN     42u             /* Ethernet + IPv4 + UDP */
#define GEN_MAX_FRAME_PKTS 96u
#define GEN_VP8_DESC_LEN 6u
#define GEN_PT_VP8       96u
#define GEN_PT_OPUS      111u
#define GEN_PT_VP9       98u
#define GEN_PT_AV1       45u
#define GEN_VP9_DESC_LEN 5u              /* I (15-bit PictureID), L, TL0PICIDX; +22 with the SS */
#define GEN_DD_EXT_ID    3u              /* default AV1 Dependency Descriptor extension id */
#define GEN_MAX_LAYER_PKTS (GEN_MAX_FRAME_PKTS / GEN_SVC_LAYERS)
#define GEN_TALK_PKTS    150u            /* audio packets (3 s) per talker */
#define GEN_TWCC_EXT_ID  1u              /* the browser-like extension ids of generated packets */
#define GEN_ABS_EXT_ID   2u
#define GEN_LEVEL_EXT_ID 4u              /* default audio level id (--level-ext) */
#define GEN_MID_EXT_ID   9u              /* --browser-ext's mid element (--mid-ext: negotiated) */

struct gen_stamp {
	uint32_t magic;
	uint32_t stream;
	uint64_t tsc;
};

/* Addresses of the generator's side and the MMR's. */
struct gen_net {
	uint8_t  src_mac[6];
	uint8_t  dst_mac[6];      /* the MMR port's MAC */
	uint32_t mmr_ip;          /* host order */
	uint16_t mmr_port;
	uint8_t  udp_csum;        /* compute UDP checksums (else 0, allowed for IPv4) */
	uint8_t  pad;
};

/* The next event of a stream: one video frame or one audio packet. */
struct gen_frame_plan {
	uint32_t npkts;
	uint16_t data_len[GEN_MAX_FRAME_PKTS]; /* RTP payload bytes after the VP8/VP9 descriptor or
						  the AV1 aggregation header */
	uint8_t  tid;
	uint8_t  sync;            /* Y (VP8), U (VP9) */
	uint8_t  keyframe;
	uint8_t  nlayers;         /* layer frames: 1 (VP8, audio) or 3 (VP9 / AV1: SID 0, 1, 2) */
	uint8_t  layer_pkts[GEN_SVC_LAYERS];   /* packets of each layer frame, in packet order */
	uint8_t  pos;             /* VP9 / AV1: picture's place in the TID pattern 0,2,1,2 */
	uint8_t  next_tl0;        /* VP9 / AV1: the next picture is a TL0 picture (TL0PICIDX + 1) */
};

/* Plan the stream's next event (does not advance the stream). */
void gen_frame_plan(const struct gen_media_cfg *mc, const struct gen_stream *s, struct gen_frame_plan *fp);
/* Write packet i of the plan as RTP at rtp (room for at least 1600 bytes); advances s->seq.
 * Returns the RTP length. */
uint32_t gen_build_rtp(const struct gen_media_cfg *mc, struct gen_stream *s, uint32_t stream_idx,
		       const struct gen_frame_plan *fp, uint32_t i, uint64_t tsc, uint8_t *rtp);
/* After the last packet: frame counter, timestamp, PictureID, TL0PICIDX, AV1 frame number. */
void gen_frame_done(struct gen_stream *s, const struct gen_frame_plan *fp);
/* Ethernet/IPv4/UDP in front of an RTP (or SRTP) packet of rtp_len bytes at frame + 42, from
 * participant address/port to the MMR. Returns the frame length. */
uint32_t gen_write_l2l3(const struct gen_net *n, uint32_t src_ip, uint16_t src_port, uint8_t *frame,
			uint32_t rtp_len);
/* Average packets per second of one video / one audio stream at real time. */
double gen_video_pps(const struct gen_media_cfg *mc);
double gen_audio_pps(void);
/* The audio level byte (V bit | 0..127 -dBov) of audio stream s's next packet (see above). */
uint8_t gen_audio_level(const struct gen_media_cfg *mc, const struct gen_stream *s);
/* Find the stamp of an RTP payload that ends at end (after any SRTP tag was removed). */
int gen_read_stamp(const uint8_t *payload_end, uint32_t payload_len, struct gen_stamp *st);

#endif
