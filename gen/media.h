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
 * like a browser's.
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
	uint16_t data_len[GEN_MAX_FRAME_PKTS]; /* RTP payload bytes after the VP8 descriptor */
	uint8_t  tid;
	uint8_t  sync;            /* Y */
	uint8_t  keyframe;
};

/* Plan the stream's next event (does not advance the stream). */
void gen_frame_plan(const struct gen_media_cfg *mc, const struct gen_stream *s, struct gen_frame_plan *fp);
/* Write packet i of the plan as RTP at rtp (room for at least 1600 bytes); advances s->seq.
 * Returns the RTP length. */
uint32_t gen_build_rtp(const struct gen_media_cfg *mc, struct gen_stream *s, uint32_t stream_idx,
		       const struct gen_frame_plan *fp, uint32_t i, uint64_t tsc, uint8_t *rtp);
/* After the last packet: frame counter, timestamp, PictureID, TL0PICIDX. */
void gen_frame_done(struct gen_stream *s, const struct gen_frame_plan *fp);
/* Ethernet/IPv4/UDP in front of an RTP (or SRTP) packet of rtp_len bytes at frame + 42, from
 * participant address/port to the MMR. Returns the frame length. */
uint32_t gen_write_l2l3(const struct gen_net *n, uint32_t src_ip, uint16_t src_port, uint8_t *frame,
			uint32_t rtp_len);
/* Average packets per second of one video / one audio stream at real time. */
double gen_video_pps(const struct gen_media_cfg *mc);
double gen_audio_pps(void);
/* Find the stamp of an RTP payload that ends at end (after any SRTP tag was removed). */
int gen_read_stamp(const uint8_t *payload_end, uint32_t payload_len, struct gen_stamp *st);

#endif
