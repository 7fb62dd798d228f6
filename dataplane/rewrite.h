/*
 * rewrite.h - the pure arithmetic of the fan-out's copies (fanout.c): where a packet's per-receiver
 * fields sit, the UDP checksum part shared by every copy of a packet, the headers and rewritten
 * fields of one copy with its checksum updated incrementally (RFC 1624 style: add the words written,
 * the words taken out were subtracted once per packet), and the per-output sums the control thread
 * precomputes (cmd_apply.c). No mbufs and no DPDK beyond its byte-order and memcpy headers, so the
 * unit test (tests/unit/test_rewrite.c) builds the copies into plain buffers and checks them
 * against full recomputations.
 */
#ifndef MMR_DP_REWRITE_H
#define MMR_DP_REWRITE_H

#include <stdint.h>
#include <string.h>
#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_memcpy.h>

#include "csum.h"
#include "fwd_table.h"
#include "layer_select.h"
#include "media.h"
#define MMR_NEIGH_WORDS_ONLY
#include "neigh.h"
#undef MMR_NEIGH_WORDS_ONLY
#include "pkt.h"
#include "be_bytes.h"

#define ETH_LEN 14
#define IP4_LEN 20
#define IP6_LEN 40
#define UDP_LEN 8

/* What all copies of one received packet share. */
struct fanout_pkt {
	const uint8_t *rtp;       /* RTP header in the received frame */
	uint32_t rtp_hdr_len;     /* RTP header + codec descriptor: the bytes rewritten per copy */
	uint32_t body_off;        /* unchanged payload: offset in the received frame */
	uint32_t body_len;
	uint32_t const_sum;       /* UDP checksum part shared by every copy (see above) */
	uint16_t w0_base;         /* first header word with the marker bit cleared */
	uint8_t  rw_tsm;          /* copies may differ in timestamp or marker (simulcast, VP9, AV1);
				     otherwise both pass through and are neither summed nor written */
	uint16_t pid_pos;         /* PictureID offset from the RTP header (0: none) */
	uint16_t tl0_pos;         /* TL0PICIDX offset from the RTP header (0: none) */
	uint16_t fn_pos;          /* AV1 Dependency Descriptor frame number offset (0: none) */
	uint8_t  pid_len;         /* 1 or 2 bytes */
	uint16_t udp_len;
	uint16_t sport_be;
	int      use_clone;
};

/* A byte's contribution to the checksum at offset pos from the RTP header. The RTP header sits at
 * offset 8 of the UDP segment, so pos has the parity of the segment offset: even = high byte. */
static inline uint32_t byte_word(uint32_t pos, uint8_t b)
{
	return (pos & 1) ? b : (uint32_t)b << 8;
}

/* Where the per-copy fields sit in this packet (from its media_pkt; none for audio). */
static __attribute__((unused)) void find_rewrites(struct fanout_pkt *fp, const struct media_pkt *mp, const struct fwd_stream *s)
{
	fp->w0_base = (uint16_t)(get_be16(fp->rtp) & 0xff7f);
	fp->pid_pos = fp->tl0_pos = fp->fn_pos = 0;
	fp->pid_len = 0;
	fp->rw_tsm = 0;
	if (!mp)
		return;
	fp->rw_tsm = s->simulcast || mp->codec == MMR_CODEC_VP9 || mp->codec == MMR_CODEC_AV1;
	if (mp->has_pid && mp->pid_off) {
		fp->pid_pos = mp->pid_off;
		fp->pid_len = mp->pid_16 ? 2 : 1;
	}
	if (mp->has_tl0 && mp->tl0_off)
		fp->tl0_pos = mp->tl0_off;
	if (mp->dd_off && mp->dd_len >= 3)
		fp->fn_pos = (uint16_t)(mp->dd_off + 1);
}

/* Once per received packet, at its first forwarded copy: fp->const_sum (find_rewrites first). */
static __attribute__((unused)) void prepare_sum(struct fanout_pkt *fp, const uint8_t *frame)
{
	const uint8_t *h = fp->rtp;
	uint32_t body = csum_be16_bulk(frame + fp->body_off, fp->body_len);
	/* a payload starting at an odd offset of the UDP segment contributes its sum byte-swapped */
	if (fp->rtp_hdr_len & 1)
		body = rte_bswap16((uint16_t)body);
	uint64_t s = body + csum_be16(h, fp->rtp_hdr_len);
	/* take out what every copy rewrites (adding the complement subtracts) */
	if (fp->rw_tsm) {
		s += (uint16_t)~get_be16(h);                     /* marker bit (with V/P/X/CC, PT) */
		s += (uint16_t)~get_be16(h + 4) + (uint16_t)~get_be16(h + 6);  /* timestamp */
	}
	s += (uint16_t)~get_be16(h + 2);                         /* sequence number */
	s += (uint16_t)~get_be16(h + 8) + (uint16_t)~get_be16(h + 10); /* SSRC */
	for (uint32_t i = 0; i < fp->pid_len; i++)
		s += (uint16_t)~byte_word(fp->pid_pos + i, h[fp->pid_pos + i]);
	if (fp->tl0_pos)
		s += (uint16_t)~byte_word(fp->tl0_pos, h[fp->tl0_pos]);
	if (fp->fn_pos) {
		s += (uint16_t)~byte_word(fp->fn_pos, h[fp->fn_pos]);
		s += (uint16_t)~byte_word(fp->fn_pos + 1u, h[fp->fn_pos + 1]);
	}
	/* UDP length twice (pseudo header and UDP header), source port */
	s += 2u * fp->udp_len + rte_be_to_cpu_16(fp->sport_be);
	fp->const_sum = csum_fold64(s);
}

/* Can a copy to o go now: its MAC is static (neigh 0) or its neighbour entry resolved? Else the
 * entry is asked for (dp_neigh_ask) and the caller drops the copy as neigh_unresolved. */
static inline int out_mac_ok(const struct fwd_output *o)
{
	if (likely(!o->neigh) || likely(dp_neigh_word_ok(dp_neigh_word(o->neigh))))
		return 1;
	dp_neigh_ask(o->neigh);
	return 0;
}

/* Ethernet, IP and UDP headers (checksum 0) at p; returns the UDP header. */
static inline uint8_t *write_headers(uint8_t *p, const struct fwd_output *o, const struct fanout_pkt *fp)
{
	uint8_t *udp;
	if (o->neigh) {
		/* one load: never a torn MAC (neigh.h); the caller checked it is usable (out_mac_ok) */
		uint64_t w = dp_neigh_word(o->neigh);
		memcpy(p, &w, 6);
	} else {
		memcpy(p, o->dst_mac, 6);
	}
	memcpy(p + 6, o->src_mac, 6);
	if (likely(o->family == MMR_AF_INET)) {
		uint8_t *ip = p + ETH_LEN;
		uint16_t total = (uint16_t)(IP4_LEN + fp->udp_len);
		p[12] = 0x08;
		p[13] = 0x00;
		ip[0] = 0x45;
		ip[1] = 0;
		put_be16(ip + 2, total);
		put_be16(ip + 4, 0);
		put_be16(ip + 6, 0x4000);          /* DF */
		ip[8] = 64;
		ip[9] = 17;
		memcpy(ip + 12, o->src_ip, 4);
		memcpy(ip + 16, o->dst_ip, 4);
		put_be16(ip + 10, csum_finish(o->ip4_sum + total));
		udp = ip + IP4_LEN;
	} else {
		uint8_t *ip = p + ETH_LEN;
		p[12] = 0x86;
		p[13] = 0xdd;
		ip[0] = 0x60;
		ip[1] = ip[2] = ip[3] = 0;
		put_be16(ip + 4, fp->udp_len);
		ip[6] = 17;
		ip[7] = 64;
		memcpy(ip + 8, o->src_ip, 16);
		memcpy(ip + 24, o->dst_ip, 16);
		udp = ip + IP6_LEN;
	}
	memcpy(udp, &fp->sport_be, 2);
	memcpy(udp + 2, &o->dst_port_be, 2);
	put_be16(udp + 4, fp->udp_len);
	put_be16(udp + 6, 0);
	return udp;
}

/* Write one receiver's fields into the RTP header at rtp (a copy's, or the input's for SRTP) and
 * return their checksum words, from the values written (no reload): marker bit, sequence number,
 * timestamp, and where this packet has them PictureID (M bit and width kept), TL0PICIDX and the
 * AV1 frame number. The SSRC is the caller's. */
static inline uint32_t write_rewrites(uint8_t *rtp, const struct fanout_pkt *fp, const struct layer_out *lo)
{
	uint32_t sum = lo->seq;
	put_be16(rtp + 2, lo->seq);
	if (fp->rw_tsm) {
		uint16_t w0 = (uint16_t)(fp->w0_base | (lo->marker ? 0x80 : 0));
		sum += (uint32_t)w0 + (lo->ts >> 16) + (lo->ts & 0xffff);
		put_be16(rtp, w0);
		put_be16(rtp + 4, (uint16_t)(lo->ts >> 16));
		put_be16(rtp + 6, (uint16_t)lo->ts);
	}
	if (fp->pid_len == 2) {
		uint8_t hi = (uint8_t)(0x80 | ((lo->picture_id >> 8) & 0x7f)), lo8 = (uint8_t)lo->picture_id;
		rtp[fp->pid_pos] = hi;
		rtp[fp->pid_pos + 1] = lo8;
		sum += byte_word(fp->pid_pos, hi) + byte_word(fp->pid_pos + 1u, lo8);
	} else if (fp->pid_len == 1) {
		uint8_t v = (uint8_t)(lo->picture_id & 0x7f);
		rtp[fp->pid_pos] = v;
		sum += byte_word(fp->pid_pos, v);
	}
	if (fp->tl0_pos) {
		rtp[fp->tl0_pos] = lo->tl0picidx;
		sum += byte_word(fp->tl0_pos, lo->tl0picidx);
	}
	if (fp->fn_pos) {
		uint8_t hi = (uint8_t)(lo->frame_number >> 8), lo8 = (uint8_t)lo->frame_number;
		rtp[fp->fn_pos] = hi;
		rtp[fp->fn_pos + 1] = lo8;
		sum += byte_word(fp->fn_pos, hi) + byte_word(fp->fn_pos + 1u, lo8);
	}
	return sum;
}

/* The value for a UDP checksum field from a sum of big-endian words: a computed 0 goes as 0xffff
 * (RFC 768: 0 would mean "no checksum"; both are 0 in one's complement). */
static inline uint16_t udp_csum_field(uint64_t sum)
{
	uint16_t ck = csum_finish(sum);
	return ck ? ck : 0xffff;
}

/* One copy's headers at p: Ethernet, IP and UDP (write_headers), the RTP header and descriptor
 * (fp->rtp_hdr_len bytes) with receiver o's SSRC and lo's fields, and the UDP checksum from
 * fp->const_sum (prepare_sum) plus the words that differ per copy: the payload that follows (at
 * p + headers, or chained) is never read. write_copy_headers_sum leaves the checksum field to the
 * caller (more per-receiver words to add: bandwidth estimation's stamps) and returns its sum. */
static inline uint64_t write_copy_headers_sum(uint8_t *p, const struct fwd_output *o, const struct fanout_pkt *fp,
					      const struct layer_out *lo, uint8_t **udp_out)
{
	uint8_t *udp = write_headers(p, o, fp);
	uint8_t *rtp = udp + UDP_LEN;
	uint32_t ssrc = rte_be_to_cpu_32(o->out_ssrc_be);
	uint64_t sum = fp->const_sum + o->pseudo_sum + rte_be_to_cpu_16(o->dst_port_be) +
		       (ssrc >> 16) + (ssrc & 0xffff);
	rte_memcpy(rtp, fp->rtp, fp->rtp_hdr_len);
	memcpy(rtp + 8, &o->out_ssrc_be, 4);
	*udp_out = udp;
	return sum + write_rewrites(rtp, fp, lo);
}

static inline void write_copy_headers(uint8_t *p, const struct fwd_output *o, const struct fanout_pkt *fp,
				      const struct layer_out *lo)
{
	uint8_t *udp;
	uint64_t sum = write_copy_headers_sum(p, o, fp, lo, &udp);
	put_be16(udp + 6, udp_csum_field(sum));
}

/* The UDP checksum field of a copy to o whose UDP payload (n bytes at payload; fp->udp_len and
 * fp->sport_be set) is summed in full: the AV1 slow path and SRTP copies. */
static inline uint16_t copy_udp_csum_full(const struct fwd_output *o, const struct fanout_pkt *fp,
					  const uint8_t *payload, uint32_t n)
{
	uint64_t sum = o->pseudo_sum + 2u * fp->udp_len + rte_be_to_cpu_16(fp->sport_be) +
		       rte_be_to_cpu_16(o->dst_port_be) + csum_be16_bulk(payload, n);
	return udp_csum_field(sum);
}

/* A whole (unchained) packet to o whose UDP payload, n bytes, is already at p + its headers: the
 * Ethernet, IP and UDP headers, the UDP checksum summed in full; returns the frame's length. Resends
 * and the MMR's own RTCP (off the fan-out's fast path). */
static inline uint32_t write_whole_packet(uint8_t *p, const struct fwd_output *o, uint16_t sport_be, uint32_t n)
{
	struct fanout_pkt fp;
	fp.udp_len = (uint16_t)(UDP_LEN + n);
	fp.sport_be = sport_be;
	uint8_t *udp = write_headers(p, o, &fp);
	put_be16(udp + 6, copy_udp_csum_full(o, &fp, udp + UDP_LEN, n));
	return (uint32_t)(udp + UDP_LEN - p) + n;
}

/* Output o's precomputed sums (control thread), from its family and addresses: the UDP pseudo
 * header without the length, and for IPv4 the header write_headers() writes without total length
 * and checksum. */
static inline void fwd_output_set_sums(struct fwd_output *o)
{
	int v4 = o->family == MMR_AF_INET;
	unsigned alen = v4 ? 4 : 16;
	uint32_t addr_sum = pkt_raw_sum(o->src_ip, alen, 0);
	addr_sum = pkt_raw_sum(o->dst_ip, alen, addr_sum);
	o->pseudo_sum = addr_sum + 17u;                       /* + protocol UDP */
	/* version/IHL 0x45, TOS 0, id 0, DF, TTL 64, protocol UDP */
	o->ip4_sum = v4 ? addr_sum + 0x4500u + 0x4000u + ((64u << 8) | 17u) : 0;
}

#endif
