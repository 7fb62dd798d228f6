/*
 * media.c - VP8 L1T3, VP9 / AV1 L3T3 and Opus RTP packets for mmr-gen (the model is described in
 * media.h).
 *
 * Everything is written into a caller's buffer: the generator's mbufs, or a plain buffer for a
 * pcap file. Only the headers, the VP8 payload header of a frame's first packet and the stamp are
 * written; the rest of a payload is whatever the buffer held (the MMR never looks at it), which
 * keeps the generator's cost per packet independent of the packet size.
 */
#include "media.h"

#include <string.h>
#include "pkt.h"
#include "be_bytes.h"

#define RTP_HDR     12u
#define RTP_EXT_LEN 12u      /* 0xBEDE header (4) + transport-cc (3) + abs-send-time (4) + pad (1) */
#define BROWSER_EXT_LEN 8u   /* --browser-ext: mid (2) + playout-delay (4) + video-content-type (2) */
#define MIN_DATA    (10u + GEN_STAMP_LEN)  /* keyframe payload header + stamp */
#define AUDIO_MIN   (1u + GEN_STAMP_LEN)
#define VP9_SS_LEN  22u
#define AV1_DD_KEY_LEN 95u

/* VP9 scalability structure: N_S 3 with resolutions (Y) and a picture group (G) of 4: TID 0 (P_DIFF
 * 4), TID 2 U (1), TID 1 U (2), TID 2 (1). */
static const uint8_t vp9_ss[VP9_SS_LEN] = {
	0x58, 0x01, 0x40, 0x00, 0xb4, 0x02, 0x80, 0x01, 0x68, 0x05, 0x00, 0x02, 0xd0,
	0x04, 0x04, 0x04, 0x54, 0x01, 0x34, 0x02, 0x44, 0x01,
};

/*
 * AV1 Dependency Descriptor with the L3T3 template structure attached (template_id_offset 0; that of
 * tests/lib/rtpgen.py l3t3_structure(): per spatial layer s the templates 5s + 0 key, 1 TID 0,
 * 2 TID 1, 3 TID 2 after TID 0, 4 TID 2 after TID 1; frame k of a picture's layer s references
 * 3 * distance back and the layer below; 9 decode targets, 3 chains, resolutions 320x180, 640x360,
 * 1280x720). Byte 0 (start, end, template id) and bytes 1-2 (frame number) are written per packet.
 */
static const uint8_t av1_dd_key[AV1_DD_KEY_LEN] = {
	0x80, 0x00, 0x00, 0x80, 0x08, 0x14, 0x85, 0x21, 0x4e, 0xaa, 0xaa, 0xaa, 0xaa, 0x86, 0x3c, 0xf0,
	0x43, 0x0c, 0x10, 0xc3, 0x02, 0xaa, 0x80, 0xaa, 0xa0, 0x06, 0x3c, 0x00, 0x43, 0x00, 0x10, 0xc0,
	0x02, 0xa0, 0x00, 0xa8, 0x00, 0x06, 0x00, 0x00, 0x40, 0x00, 0x16, 0xd5, 0x49, 0x24, 0x1b, 0x82,
	0xb0, 0x4a, 0x09, 0x41, 0x06, 0xe0, 0xac, 0x12, 0x82, 0x50, 0x31, 0x57, 0xe0, 0x01, 0x97, 0x4c,
	0xa8, 0x64, 0x33, 0x0e, 0x22, 0x22, 0x22, 0xec, 0xa8, 0x65, 0x53, 0x04, 0x22, 0x42, 0x30, 0xec,
	0xa8, 0x77, 0x53, 0x01, 0x3f, 0x00, 0xb3, 0x02, 0x7f, 0x01, 0x67, 0x04, 0xff, 0x02, 0xcf,
};
/* template index of a delta picture's layer frame at pattern position 0..3, less 5 * SID */
static const uint8_t av1_tpl_of_pos[4] = { 1, 3, 2, 4 };
/* share of a picture's bytes per spatial layer */
static const double svc_share[GEN_SVC_LAYERS] = { 0.10, 0.25, 0.65 };
static const uint8_t tid_of_pos[4] = { 0, 2, 1, 2 };

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

/* AV1 extension block: one-byte form (browser elements + 4-byte DD element) or, with the
 * structure, two-byte form (+ 2 + 95). */
static uint32_t av1_ext_len(const struct gen_media_cfg *mc, int structure)
{
	uint32_t el = structure ? (mc->rtp_ext ? 9u : 0u) + 2u + AV1_DD_KEY_LEN : (mc->rtp_ext ? 7u : 0u) + 4u;
	return 4u + ((el + 3u) & ~3u);
}

static uint32_t rtp_hdr_len(const struct gen_media_cfg *mc)
{
	if (mc->video_codec == GEN_VC_AV1)
		return RTP_HDR + av1_ext_len(mc, 0);
	return RTP_HDR + (mc->rtp_ext ? RTP_EXT_LEN + (mc->browser_ext ? BROWSER_EXT_LEN : 0) : 0);
}

/* --browser-ext: what else a browser's packets carry while the MMR has not acknowledged the SSRC
 * (libwebrtc sends mid and rid until a receiver report names it) and on keyframes: mid "0" (id 9),
 * playout-delay 0/0 (id 6), video-content-type 0 (id 7). The MMR forwards them untouched, but for a
 * mid the participants negotiated (--mid-ext): that one it blanks. */
static void browser_elems(uint8_t *q)
{
	q[0] = (uint8_t)(GEN_MID_EXT_ID << 4);   /* 1 byte */
	q[1] = '0';
	q[2] = 0x62;             /* id 6, 3 bytes */
	q[3] = q[4] = q[5] = 0;
	q[6] = 0x70;             /* id 7, 1 byte */
	q[7] = 0;
}

/* Payload descriptor bytes of an ordinary video packet (AV1: the aggregation header). */
static uint32_t desc_len(const struct gen_media_cfg *mc)
{
	return mc->video_codec == GEN_VC_VP9 ? GEN_VP9_DESC_LEN : mc->video_codec == GEN_VC_AV1 ? 1u :
	       GEN_VP8_DESC_LEN;
}

/* What the first packet of a keyframe carries more: the VP9 SS, the AV1 structure. */
static uint32_t key_extra(const struct gen_media_cfg *mc)
{
	return mc->video_codec == GEN_VC_VP9 ? VP9_SS_LEN :
	       mc->video_codec == GEN_VC_AV1 ? av1_ext_len(mc, 1) - av1_ext_len(mc, 0) : 0;
}

/* Video data bytes per packet at most (after the descriptor). */
static uint32_t max_data(const struct gen_media_cfg *mc)
{
	if (mc->fixed_video_bytes)
		return mc->fixed_video_bytes - rtp_hdr_len(mc) - desc_len(mc);
	return mc->mtu_payload - desc_len(mc);
}

static uint32_t pkts_for_max(const struct gen_media_cfg *mc, double bytes, uint32_t max)
{
	uint32_t md = max_data(mc);
	uint32_t n = (uint32_t)((bytes + md - 1) / md);
	if (n < 1)
		n = 1;
	if (n > max)
		n = max;
	return n;
}

static uint32_t pkts_for(const struct gen_media_cfg *mc, double bytes)
{
	return pkts_for_max(mc, bytes, GEN_MAX_FRAME_PKTS);
}

/* Keyframe and place in the TID pattern of picture number frame (VP9 / AV1: the pattern restarts
 * at every keyframe). */
static void svc_pos(const struct gen_media_cfg *mc, uint32_t frame, uint8_t *key, uint8_t *pos)
{
	uint32_t period = mc->keyframe_ms ? mc->keyframe_ms * 30u / 1000u : 0;
	uint32_t k = period ? frame % period : frame;
	*key = k == 0;
	*pos = (uint8_t)(k & 3);
}

/* VP9 / AV1: three layer frames. */
static void svc_plan(const struct gen_media_cfg *mc, const struct gen_stream *s, struct gen_frame_plan *fp,
		     uint32_t rng)
{
	svc_pos(mc, s->frame, &fp->keyframe, &fp->pos);
	fp->tid = fp->keyframe ? 0 : tid_of_pos[fp->pos];
	fp->sync = fp->keyframe || fp->pos == 1 || fp->pos == 2;
	fp->nlayers = GEN_SVC_LAYERS;
	uint8_t nkey, npos;
	svc_pos(mc, s->frame + 1, &nkey, &npos);
	fp->next_tl0 = nkey || tid_of_pos[npos] == 0;
	uint32_t md = max_data(mc), n = 0;
	for (uint32_t sid = 0; sid < GEN_SVC_LAYERS; sid++) {
		double bytes = frame_bytes(mc, fp->tid, fp->keyframe) * svc_share[sid];
		bytes *= 0.75 + (next_rand(&rng) % 1000u) / 2000.0;  /* +-25 % */
		uint32_t np = pkts_for_max(mc, bytes, GEN_MAX_LAYER_PKTS);
		fp->layer_pkts[sid] = (uint8_t)np;
		for (uint32_t i = 0; i < np; i++, n++) {
			uint32_t d = mc->fixed_video_bytes ? md : (uint32_t)(bytes / np);
			if (d > md)
				d = md;
			if (d < MIN_DATA)
				d = MIN_DATA;
			fp->data_len[n] = (uint16_t)d;
		}
	}
	fp->npkts = n;
	if (fp->keyframe) {
		/* the SS / the structure take room from the first packet's data */
		uint32_t room = md > key_extra(mc) + MIN_DATA ? md - key_extra(mc) : MIN_DATA;
		if (fp->data_len[0] > room)
			fp->data_len[0] = (uint16_t)room;
	}
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
		fp->nlayers = 1;
		fp->layer_pkts[0] = 1;
		fp->pos = 0;
		fp->next_tl0 = 0;
		return;
	}
	if (mc->video_codec != GEN_VC_VP8) {
		svc_plan(mc, s, fp, rng);
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
	fp->nlayers = 1;
	fp->layer_pkts[0] = (uint8_t)n;
	fp->pos = 0;
	fp->next_tl0 = 0;
}

/* The publisher's next transport-wide sequence number (0 in a stream without one, e.g. a test's). */
static uint16_t next_tw_seq(const struct gen_stream *s)
{
	return s->tw_seq ? (*s->tw_seq)++ : 0;
}

/* The browser-like elements (transport-wide seq, abs-send-time) in one-byte form at q: 7 bytes. */
static void ext_elems_1(uint8_t *q, uint16_t tw, uint64_t tsc)
{
	q[0] = 0x11;
	put_be16(q + 1, tw);
	q[3] = 0x22;
	q[4] = (uint8_t)(tsc >> 30);
	q[5] = (uint8_t)(tsc >> 22);
	q[6] = (uint8_t)(tsc >> 14);
}

uint8_t gen_audio_level(const struct gen_media_cfg *mc, const struct gen_stream *s)
{
	uint32_t j = s->slot / 2u, n = mc->talkers ? mc->talkers : 1;
	uint32_t talker = (s->frame / GEN_TALK_PKTS) % n;
	uint32_t r = (s->frame * 0x9e3779b1u) ^ (s->ssrc * 0x85ebca6bu);
	r ^= r >> 15;
	if (j == talker)
		return (uint8_t)(0x80 | (8u + r % 6u));              /* the talker: loud, voice */
	if (j == (talker + 1) % n)
		return (uint8_t)(0x80 | (30u + r % 6u));             /* backchannel */
	if (j == (talker + 2) % n)
		return (uint8_t)(40u + r % 6u);
	return (uint8_t)(90u + r % 38u);                             /* room noise: 90..127 -dBov */
}

/* AV1: the extension block at p (after the fixed RTP header) with the Dependency Descriptor of
 * this packet; returns its length. */
static uint32_t av1_write_ext(const struct gen_media_cfg *mc, const struct gen_stream *s, uint8_t *p, uint64_t tsc,
			      uint8_t dd0, uint16_t fn, int structure)
{
	uint8_t *q = p + 4;
	uint32_t el;
	if (!structure) {
		p[0] = 0xbe;
		p[1] = 0xde;
		el = 0;
		if (mc->rtp_ext) {
			ext_elems_1(q, next_tw_seq(s), tsc);
			el = 7;
		}
		q[el] = (uint8_t)((mc->dd_ext_id << 4) | 2);     /* L = 3 bytes - 1 */
		q[el + 1] = dd0;
		put_be16(q + el + 2, fn);
		el += 4;
	} else {
		p[0] = 0x10;
		p[1] = 0x00;
		el = 0;
		if (mc->rtp_ext) {
			q[0] = 1;
			q[1] = 2;
			put_be16(q + 2, next_tw_seq(s));
			q[4] = 2;
			q[5] = 3;
			q[6] = (uint8_t)(tsc >> 30);
			q[7] = (uint8_t)(tsc >> 22);
			q[8] = (uint8_t)(tsc >> 14);
			el = 9;
		}
		q[el] = mc->dd_ext_id;
		q[el + 1] = AV1_DD_KEY_LEN;
		memcpy(q + el + 2, av1_dd_key, AV1_DD_KEY_LEN);
		q[el + 2] = dd0;
		put_be16(q + el + 3, fn);
		el += 2 + AV1_DD_KEY_LEN;
	}
	uint32_t padded = (el + 3u) & ~3u;
	memset(q + el, 0, padded - el);
	put_be16(p + 2, (uint16_t)(padded / 4));
	return 4 + padded;
}

/* VP9 / AV1 packet i of a picture (see media.h). */
static uint32_t svc_build_rtp(const struct gen_media_cfg *mc, struct gen_stream *s, uint32_t stream_idx,
			      const struct gen_frame_plan *fp, uint32_t i, uint64_t tsc, uint8_t *p)
{
	uint32_t sid = 0, j = i;
	while (sid + 1 < fp->nlayers && j >= fp->layer_pkts[sid]) {
		j -= fp->layer_pkts[sid];
		sid++;
	}
	int first = j == 0, last = j + 1 == fp->layer_pkts[sid];
	int key0 = fp->keyframe && sid == 0 && first;      /* carries the SS / the structure */
	int av1 = mc->video_codec == GEN_VC_AV1;
	p[0] = (uint8_t)(0x80 | (mc->rtp_ext || av1 ? 0x10 : 0));
	p[1] = (uint8_t)(s->pt | (i + 1 == fp->npkts ? 0x80 : 0));
	put_be16(p + 2, s->seq);
	put_be32(p + 4, s->ts);
	put_be32(p + 8, s->ssrc);
	uint32_t off = RTP_HDR;
	s->seq++;
	if (av1) {
		uint8_t tpl = (uint8_t)(5 * sid + (fp->keyframe ? 0 : av1_tpl_of_pos[fp->pos]));
		uint8_t dd0 = (uint8_t)((first ? 0x80 : 0) | (last ? 0x40 : 0) | tpl);
		off += av1_write_ext(mc, s, p + off, tsc, dd0, (uint16_t)(s->frame_number + sid), key0);
		/* aggregation header: Z (continues an OBU), Y (continued), W = 1, N (new sequence) */
		p[off] = (uint8_t)((first ? 0 : 0x80) | (last ? 0 : 0x40) | 0x10 | (key0 ? 0x08 : 0));
		off += 1;
	} else {
		if (mc->rtp_ext) {
			p[12] = 0xbe;
			p[13] = 0xde;
			put_be16(p + 14, 2);
			ext_elems_1(p + 16, next_tw_seq(s), tsc);
			p[23] = 0;
			off += RTP_EXT_LEN;
		}
		uint8_t *d = p + off;
		d[0] = (uint8_t)(0x80 | (fp->keyframe ? 0 : 0x40) | 0x20 | (first ? 0x08 : 0) | (last ? 0x04 : 0) |
				 (key0 ? 0x02 : 0) | (sid + 1 == fp->nlayers ? 0x01 : 0));   /* I P L F=0 B E V Z */
		put_be16(d + 1, (uint16_t)(0x8000 | (s->picture_id & 0x7fff)));
		d[3] = (uint8_t)((fp->tid << 5) | (fp->sync ? 0x10 : 0) | (sid << 1) | (sid > 0 ? 1 : 0));
		d[4] = s->tl0picidx;
		off += GEN_VP9_DESC_LEN;
		if (key0) {
			memcpy(p + off, vp9_ss, VP9_SS_LEN);
			off += VP9_SS_LEN;
		}
		if (first) {
			/* VP9 uncompressed header: frame marker, profile 0, frame type, show_frame */
			p[off] = fp->keyframe ? 0x82 : 0x86;
			if (fp->keyframe) {
				p[off + 1] = 0x49;     /* sync code */
				p[off + 2] = 0x83;
				p[off + 3] = 0x42;
			}
		}
	}
	off += fp->data_len[i];
	struct gen_stamp st = { GEN_STAMP_MAGIC, stream_idx, tsc };
	memcpy(p + off - GEN_STAMP_LEN, &st, sizeof(st));
	return off;
}

uint32_t gen_build_rtp(const struct gen_media_cfg *mc, struct gen_stream *s, uint32_t stream_idx,
		       const struct gen_frame_plan *fp, uint32_t i, uint64_t tsc, uint8_t *rtp)
{
	if (s->kind == GEN_VIDEO && mc->video_codec != GEN_VC_VP8)
		return svc_build_rtp(mc, s, stream_idx, fp, i, tsc, rtp);
	uint8_t *p = rtp;
	int last = i + 1 == fp->npkts;
	p[0] = (uint8_t)(0x80 | (mc->rtp_ext ? 0x10 : 0));
	p[1] = (uint8_t)(s->pt | (s->kind == GEN_VIDEO && last ? 0x80 : 0));
	put_be16(p + 2, s->seq);
	put_be32(p + 4, s->ts);
	put_be32(p + 8, s->ssrc);
	uint32_t off = RTP_HDR;
	if (mc->rtp_ext) {
		/* RFC 8285 one-byte form: id 1 transport-wide seq (2 bytes), id 2 abs-send-time (3);
		 * audio with --level-ext also the audio level (RFC 6464, 1 byte) */
		int lvl = s->kind == GEN_AUDIO && mc->level_ext_id;
		uint32_t bx = mc->browser_ext ? BROWSER_EXT_LEN : 0;
		p[12] = 0xbe;
		p[13] = 0xde;
		put_be16(p + 14, (uint16_t)((lvl ? 3 : 2) + bx / 4));
		ext_elems_1(p + 16, next_tw_seq(s), tsc);
		if (bx)
			browser_elems(p + 23);
		if (lvl) {
			p[23 + bx] = (uint8_t)(mc->level_ext_id << 4);
			p[24 + bx] = gen_audio_level(mc, s);
			memset(p + 25 + bx, 0, 3);
		} else {
			p[23 + bx] = 0;
		}
		off += (lvl ? RTP_EXT_LEN + 4u : RTP_EXT_LEN) + bx;
	}
	s->seq++;
	uint32_t data = fp->data_len[i];
	if (s->kind == GEN_VIDEO) {
		uint8_t *d = p + off;
		d[0] = (uint8_t)(0x80 | (fp->tid == 2 ? 0x20 : 0) | (i == 0 ? 0x10 : 0));  /* X, N, S, PID 0 */
		d[1] = 0x80 | 0x40 | 0x20;                                              /* I, L, T */
		put_be16(d + 2, (uint16_t)(0x8000 | (s->picture_id & 0x7fff)));             /* M=1 */
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
	if (fp->nlayers > 1) {
		/* VP9 / AV1: a frame number per layer frame; TL0PICIDX counts TL0 pictures, each
		 * carrying its own new value */
		s->frame_number = (uint16_t)(s->frame_number + fp->nlayers);
		if (fp->next_tl0)
			s->tl0picidx++;
		return;
	}
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
	put_be16(ip + 2, (uint16_t)(20 + udp_len));
	put_be16(ip + 4, 0);
	put_be16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = 17;
	put_be16(ip + 10, 0);
	put_be32(ip + 12, src_ip);
	put_be32(ip + 16, n->mmr_ip);
	put_be16(ip + 10, pkt_fold_sum(pkt_raw_sum(ip, 20, 0)));
	uint8_t *u = ip + 20;
	put_be16(u, src_port);
	put_be16(u + 2, n->mmr_port);
	put_be16(u + 4, udp_len);
	put_be16(u + 6, 0);
	if (n->udp_csum) {
		uint32_t sum = pkt_raw_sum(ip + 12, 8, 0) + 17u + udp_len;
		uint16_t c = pkt_fold_sum(pkt_raw_sum(u, udp_len, sum));
		put_be16(u + 6, c ? c : 0xffff);
	}
	return GEN_L2L3_LEN + rtp_len;
}

double gen_video_pps(const struct gen_media_cfg *mc)
{
	if (mc->video_codec != GEN_VC_VP8) {
		double g = 0;
		for (uint32_t sid = 0; sid < GEN_SVC_LAYERS; sid++) {
			double sh = svc_share[sid];
			g += pkts_for_max(mc, sh * frame_bytes(mc, 0, 0), GEN_MAX_LAYER_PKTS) +
			     pkts_for_max(mc, sh * frame_bytes(mc, 1, 0), GEN_MAX_LAYER_PKTS) +
			     2.0 * pkts_for_max(mc, sh * frame_bytes(mc, 2, 0), GEN_MAX_LAYER_PKTS);
		}
		return g * 7.5;
	}
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
