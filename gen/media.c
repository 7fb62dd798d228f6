/*
 * media.c - VP8 L1T3 and Opus RTP packets for mmr-gen (the model is described in media.h).
 *
 * Everything is written into a caller's buffer: the generator's mbufs, or a plain buffer for a
 * pcap file. Only the headers, the VP8 payload header of a frame's first packet and the stamp are
 * written; the rest of a payload is whatever the buffer held (the MMR never looks at it), which
 * keeps the generator's cost per packet independent of the packet size.
 */
#include "media.h"

#include <string.h>
#include "pkt.h"

#define RTP_HDR     12u
#define RTP_EXT_LEN 12u      /* 0xBEDE header (4) + transport-cc (3) + abs-send-time (4) + pad (1) */
#define MIN_DATA    (10u + GEN_STAMP_LEN)  /* keyframe payload header + stamp */
#define AUDIO_MIN   (1u + GEN_STAMP_LEN)

static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t next_rand(uint32_t *x)
{
	uint32_t v = *x ? *x : 0x9e3779b9u;
	v ^= v << 13;
	v ^= v >> 17;
	v ^= v << 5;
	*x = v;
	return v;
}

/* Bytes of a frame of the given TID (before jitter). */
static double frame_bytes(const struct gen_media_cfg *mc, uint8_t tid, int key)
{
	double bps = mc->video_kbps * 1000.0 / 8.0;
	double b = tid == 0 ? 0.6 * bps / 7.5 : tid == 1 ? 0.2 * bps / 7.5 : 0.2 * bps / 15.0;
	return key ? 5.0 * (0.6 * bps / 7.5) : b;
}

static uint32_t rtp_hdr_len(const struct gen_media_cfg *mc)
{
	return RTP_HDR + (mc->rtp_ext ? RTP_EXT_LEN : 0);
}

/* VP8 data bytes per packet at most (after the descriptor). */
static uint32_t max_data(const struct gen_media_cfg *mc)
{
	if (mc->fixed_video_bytes)
		return mc->fixed_video_bytes - rtp_hdr_len(mc) - GEN_VP8_DESC_LEN;
	return mc->mtu_payload - GEN_VP8_DESC_LEN;
}

static uint32_t pkts_for(const struct gen_media_cfg *mc, double bytes)
{
	uint32_t md = max_data(mc);
	uint32_t n = (uint32_t)((bytes + md - 1) / md);
	if (n < 1)
		n = 1;
	if (n > GEN_MAX_FRAME_PKTS)
		n = GEN_MAX_FRAME_PKTS;
	return n;
}

void gen_frame_plan(const struct gen_media_cfg *mc, const struct gen_stream *s, struct gen_frame_plan *fp)
{
	uint32_t rng = s->rng ^ (s->frame * 0x85ebca6bu);
	if (s->kind == GEN_AUDIO) {
		uint32_t b = mc->audio_bytes;
		b = b * 3 / 4 + next_rand(&rng) % (b / 2 + 1);      /* +-25 % */
		if (b < AUDIO_MIN)
			b = AUDIO_MIN;
		fp->npkts = 1;
		fp->data_len[0] = (uint16_t)b;
		fp->tid = 0;
		fp->sync = 0;
		fp->keyframe = 0;
		return;
	}
	static const uint8_t tid_of[4] = { 0, 2, 1, 2 };
	uint32_t period = mc->keyframe_ms ? mc->keyframe_ms * 30u / 1000u : 0;
	fp->keyframe = s->frame == 0 || (period && s->frame % period == 0);
	fp->tid = fp->keyframe ? 0 : tid_of[s->frame & 3];
	fp->sync = !fp->keyframe && (s->frame & 3) != 3 && fp->tid != 0;
	double bytes = frame_bytes(mc, fp->tid, fp->keyframe);
	bytes *= 0.75 + (next_rand(&rng) % 1000u) / 2000.0;  /* +-25 % */
	uint32_t n = pkts_for(mc, bytes);
	fp->npkts = n;
	uint32_t md = max_data(mc);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t d = mc->fixed_video_bytes ? md : (uint32_t)(bytes / n);
		if (d > md)
			d = md;
		if (d < MIN_DATA)
			d = MIN_DATA;
		fp->data_len[i] = (uint16_t)d;
	}
}

uint32_t gen_build_rtp(const struct gen_media_cfg *mc, struct gen_stream *s, uint32_t stream_idx,
		       const struct gen_frame_plan *fp, uint32_t i, uint64_t tsc, uint8_t *rtp)
{
	uint8_t *p = rtp;
	int last = i + 1 == fp->npkts;
	p[0] = (uint8_t)(0x80 | (mc->rtp_ext ? 0x10 : 0));
	p[1] = (uint8_t)(s->pt | (s->kind == GEN_VIDEO && last ? 0x80 : 0));
	wr16(p + 2, s->seq);
	wr32(p + 4, s->ts);
	wr32(p + 8, s->ssrc);
	uint32_t off = RTP_HDR;
	if (mc->rtp_ext) {
		/* RFC 8285 one-byte form: id 1 transport-wide seq (2 bytes), id 2 abs-send-time (3) */
		p[12] = 0xbe;
		p[13] = 0xde;
		wr16(p + 14, 2);
		p[16] = 0x11;
		wr16(p + 17, (uint16_t)(tsc >> 10));
		p[19] = 0x22;
		p[20] = (uint8_t)(tsc >> 30);
		p[21] = (uint8_t)(tsc >> 22);
		p[22] = (uint8_t)(tsc >> 14);
		p[23] = 0;
		off += RTP_EXT_LEN;
	}
	s->seq++;
	uint32_t data = fp->data_len[i];
	if (s->kind == GEN_VIDEO) {
		uint8_t *d = p + off;
		d[0] = (uint8_t)(0x80 | (fp->tid == 2 ? 0x20 : 0) | (i == 0 ? 0x10 : 0));  /* X, N, S, PID 0 */
		d[1] = 0x80 | 0x40 | 0x20;                                              /* I, L, T */
		wr16(d + 2, (uint16_t)(0x8000 | (s->picture_id & 0x7fff)));             /* M=1 */
		d[4] = s->tl0picidx;
		d[5] = (uint8_t)((fp->tid << 6) | (fp->sync ? 0x20 : 0));
		off += GEN_VP8_DESC_LEN;
		if (i == 0) {
			uint8_t *v = p + off;
			/* VP8 frame tag: P (inter frame) bit, version 0, show_frame, partition size */
			uint32_t tag = (fp->keyframe ? 0u : 1u) | 0x10u | ((data & 0x7ffffu) << 5);
			v[0] = (uint8_t)tag;
			v[1] = (uint8_t)(tag >> 8);
			v[2] = (uint8_t)(tag >> 16);
			if (fp->keyframe) {
				v[3] = 0x9d;
				v[4] = 0x01;
				v[5] = 0x2a;
				v[6] = 0x00; v[7] = 0x05;   /* 1280 */
				v[8] = 0xd0; v[9] = 0x02;   /* 720 */
			}
		}
	} else {
		p[off] = 0x78;    /* Opus TOC: config 15 (hybrid fullband 20 ms), mono, one frame */
	}
	off += data;
	struct gen_stamp st = { GEN_STAMP_MAGIC, stream_idx, tsc };
	memcpy(p + off - GEN_STAMP_LEN, &st, sizeof(st));
	return off;
}

void gen_frame_done(struct gen_stream *s, const struct gen_frame_plan *fp)
{
	s->frame++;
	if (s->kind == GEN_AUDIO) {
		s->ts += 960;                 /* 20 ms at 48 kHz */
		return;
	}
	s->ts += 3000;                        /* 1/30 s at 90 kHz */
	s->picture_id = (uint16_t)((s->picture_id + 1) & 0x7fff);
	/* TL0PICIDX counts TL0 frames: the next frame after a TL0 frame carries the new value */
	if (fp->tid == 0)
		s->tl0picidx++;
}

uint32_t gen_write_l2l3(const struct gen_net *n, uint32_t src_ip, uint16_t src_port, uint8_t *f,
			uint32_t rtp_len)
{
	memcpy(f, n->dst_mac, 6);
	memcpy(f + 6, n->src_mac, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	uint8_t *ip = f + 14;
	uint16_t udp_len = (uint16_t)(8 + rtp_len);
	ip[0] = 0x45;
	ip[1] = 0;
	wr16(ip + 2, (uint16_t)(20 + udp_len));
	wr16(ip + 4, 0);
	wr16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = 17;
	wr16(ip + 10, 0);
	wr32(ip + 12, src_ip);
	wr32(ip + 16, n->mmr_ip);
	wr16(ip + 10, pkt_fold_sum(pkt_raw_sum(ip, 20, 0)));
	uint8_t *u = ip + 20;
	wr16(u, src_port);
	wr16(u + 2, n->mmr_port);
	wr16(u + 4, udp_len);
	wr16(u + 6, 0);
	if (n->udp_csum) {
		uint32_t sum = pkt_raw_sum(ip + 12, 8, 0) + 17u + udp_len;
		uint16_t c = pkt_fold_sum(pkt_raw_sum(u, udp_len, sum));
		wr16(u + 6, c ? c : 0xffff);
	}
	return GEN_L2L3_LEN + rtp_len;
}

double gen_video_pps(const struct gen_media_cfg *mc)
{
	/* one L1T3 group of 4 frames (TID 0, 2, 1, 2) every 4/30 s */
	double g = pkts_for(mc, frame_bytes(mc, 0, 0)) + pkts_for(mc, frame_bytes(mc, 1, 0)) +
		   2.0 * pkts_for(mc, frame_bytes(mc, 2, 0));
	return g * 7.5;
}

double gen_audio_pps(void)
{
	return 50.0;
}

int gen_read_stamp(const uint8_t *payload_end, uint32_t payload_len, struct gen_stamp *st)
{
	if (payload_len < GEN_STAMP_LEN)
		return -1;
	memcpy(st, payload_end - GEN_STAMP_LEN, sizeof(*st));
	return st->magic == GEN_STAMP_MAGIC ? 0 : -1;
}
