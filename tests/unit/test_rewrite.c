/*
 * test_rewrite.c - unit tests of the fan-out's per-copy arithmetic (dataplane/rewrite.h), with the
 * copies built into plain buffers exactly as fanout.c builds them (find_rewrites, prepare_sum once
 * per packet; write_copy_headers per copy) and checked against full recomputations, never against
 * the same arithmetic:
 *   - input packets: Ethernet/IPv4/UDP/RTP (CSRCs, a one-byte header extension) with audio (no
 *     rewrites), VP8 descriptors of every layout (no PictureID, 7-bit, 15-bit, TL0PICIDX, TID/KEYIDX:
 *     the rewritten bytes at odd and even offsets), AV1 with a Dependency Descriptor after another
 *     extension element (frame number at either parity), simulcast/VP9/AV1 copies whose timestamp
 *     and marker differ per receiver, payloads of odd and even length (odd header lengths put the
 *     payload at an odd offset of the UDP segment);
 *   - outputs: IPv4 and IPv6 receivers with random addresses, ports, SSRCs, MACs;
 *   - per copy: the frame parses (lib/pkt/pkt.c, which checks the IPv4 header checksum made from
 *     the precomputed fwd_output sums), the UDP checksum equals a full RFC 1071 recomputation over
 *     the pseudo header and the built segment, every rewritten field reads back (lib/pkt/rtp.c,
 *     lib/codec/vp8.c), every other byte is the input's, and the input is untouched;
 *   - the 0 -> 0xffff rule (a payload chosen so that the checksum computes to 0) on the incremental
 *     and the full (AV1 slow path, SRTP) paths.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rewrite.h"
#include "rtp.h"
#include "vp8.h"
#include "unit_util.h"

/* the neighbour table's published words (dataplane/neigh.c in the dataplane) */
uint64_t dp_neigh_words[DP_NEIGH_MAX + 1];
uint8_t dp_neigh_want[DP_NEIGH_MAX + 1];

#define FRAME_MAX 2048

/* ---- reference arithmetic (independent of csum.h) -------------------------------------------- */

static uint32_t ref_add(uint32_t s, const uint8_t *p, uint32_t len)
{
	for (uint32_t i = 0; i < len; i += 2) {
		s += (uint32_t)p[i] << 8 | (i + 1 < len ? p[i + 1] : 0);
		s = (s & 0xffff) + (s >> 16);
	}
	return s;
}

static uint16_t ref_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* The UDP checksum of the datagram at udp (its length from its header, checksum field taken as 0)
 * between src and dst (4 or 16 bytes), RFC 768/2460, with a computed 0 sent as 0xffff. */
static uint16_t ref_udp_csum(const uint8_t *src, const uint8_t *dst, unsigned alen, const uint8_t *udp)
{
	uint16_t ulen = (uint16_t)(udp[4] << 8 | udp[5]);
	uint8_t tmp[FRAME_MAX];
	memcpy(tmp, udp, ulen);
	tmp[6] = tmp[7] = 0;
	uint32_t s = ref_add(0, src, alen);
	s = ref_add(s, dst, alen);
	s += 17 + ulen;
	s = ref_add(s, tmp, ulen);
	uint16_t ck = (uint16_t)~ref_fold(s);
	return ck ? ck : 0xffff;
}

/* ---- input packets ---------------------------------------------------------------------------- */

enum kind { K_AUDIO, K_VP8, K_AV1 };

struct input {
	uint8_t frame[FRAME_MAX];
	uint32_t len;
	struct pkt_info pi;
	struct rtp_info ri;
	struct media_pkt mp;
	int has_mp;
	struct fwd_stream s;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* A VP8 payload descriptor of one of its VP8_LAYOUTS at p (RFC 7741: X, then I L T K, a 7- or
 * 15-bit PictureID, TL0PICIDX, TID/Y/KEYIDX); returns its length (1..6). */
#define VP8_LAYOUTS 9
static uint32_t put_vp8_desc(uint8_t *p, unsigned layout)
{
	static const uint8_t x_bits[VP8_LAYOUTS] = { 0, 0x00, 0x80, 0x80, 0x40, 0xc0, 0xe0, 0x60, 0xf0 };
	static const uint8_t pid16[VP8_LAYOUTS] = { 0, 0, 0, 1, 0, 1, 1, 0, 0 };
	uint32_t n = 0;
	uint8_t x = x_bits[layout];   /* I L T K */
	p[n++] = (uint8_t)((layout ? 0x80 : 0) | 0x10);  /* X, S, PID 0 */
	if (!layout)
		return n;
	p[n++] = x;
	if (x & 0x80) {
		if (pid16[layout]) {
			p[n++] = (uint8_t)(0x80 | (rnd() & 0x7f));
			p[n++] = (uint8_t)rnd();
		} else {
			p[n++] = (uint8_t)(rnd() & 0x7f);
		}
	}
	if (x & 0x40)
		p[n++] = (uint8_t)rnd();
	if (x & 0x30)
		p[n++] = (uint8_t)rnd();
	return n;
}

/* A received frame: IPv4 from a random sender to us, RTP with cc CSRCs and for AV1 a one-byte
 * extension block (an element of pre_len bytes, then the DD of dd_len bytes), the codec's
 * descriptor, and body_len payload bytes. Parsed as the worker parses it. */
static void make_input(struct input *in, enum kind kind, unsigned vp8_layout, unsigned cc,
		       unsigned pre_len, unsigned dd_len, uint32_t body_len)
{
	uint8_t *f = in->frame;
	memset(in, 0, sizeof(*in));
	for (int i = 0; i < 12; i++)
		f[i] = (uint8_t)rnd();
	f[0] &= 0xfe;
	put16(f + 12, 0x0800);
	uint8_t *ip = f + 14;
	ip[0] = 0x45;
	ip[8] = 64;
	ip[9] = 17;
	put32(ip + 12, 0xc6336400u | (rnd() & 0xff));
	put32(ip + 16, 0xc6336402u);
	uint8_t *udp = ip + 20;
	put16(udp, (uint16_t)(1024 + rnd() % 60000));
	put16(udp + 2, 5000);
	uint8_t *rtp = udp + 8;
	uint32_t n = 12;
	rtp[0] = (uint8_t)(0x80 | cc);
	rtp[1] = (uint8_t)((rnd() & 0x80) | 96);
	put16(rtp + 2, (uint16_t)rnd());
	put32(rtp + 4, rnd());
	put32(rtp + 8, rnd());
	for (unsigned i = 0; i < cc; i++, n += 4)
		put32(rtp + n, rnd());
	uint32_t dd_at = 0;
	if (kind == K_AV1) {
		rtp[0] |= 0x10;
		uint32_t ext = pre_len + 1 + 1 + dd_len;           /* elements, each with its header byte */
		uint32_t words = (ext + 3) / 4;
		put16(rtp + n, 0xbede);
		put16(rtp + n + 2, (uint16_t)words);
		uint8_t *e = rtp + n + 4;
		memset(e, 0, words * 4);
		e[0] = (uint8_t)(3 << 4 | (pre_len - 1));
		for (unsigned i = 0; i < pre_len; i++)
			e[1 + i] = (uint8_t)rnd();
		e[1 + pre_len] = (uint8_t)(11 << 4 | (dd_len - 1));
		dd_at = n + 4 + 2 + pre_len;
		for (unsigned i = 0; i < dd_len; i++)
			rtp[dd_at + i] = (uint8_t)rnd();
		n += 4 + words * 4;
	}
	uint32_t desc_len = 0;
	if (kind == K_VP8)
		desc_len = put_vp8_desc(rtp + n, vp8_layout);
	for (uint32_t i = 0; i < body_len; i++)
		rtp[n + desc_len + i] = (uint8_t)rnd();
	if (kind == K_VP8 && body_len)
		rtp[n + desc_len] &= 0xfe;   /* VP8 payload header: P = 0 */
	uint32_t rtp_len = n + desc_len + body_len;
	put16(udp + 4, (uint16_t)(8 + rtp_len));
	put16(ip + 2, (uint16_t)(28 + rtp_len));
	put16(ip + 10, (uint16_t)~ref_fold(ref_add(0, ip, 20)));
	in->len = 14 + 28 + rtp_len;

	assert_int_equal(pkt_parse(f, in->len, &in->pi), MMR_DROP_NONE);
	assert_int_equal(rtp_parse(f + in->pi.payload_off, in->pi.payload_len, &in->ri), MMR_DROP_NONE);
	in->s.codec = kind == K_VP8 ? MMR_CODEC_VP8 : kind == K_AV1 ? MMR_CODEC_AV1 : MMR_CODEC_OPUS;
	if (kind == K_VP8) {
		struct vp8_desc d;
		assert_int_equal(vp8_parse(f + in->pi.payload_off + in->ri.hdr_len, in->ri.payload_len, &d),
				 MMR_DROP_NONE);
		vp8_media(&d, in->ri.hdr_len, &in->ri, &in->mp);
		in->has_mp = 1;
	} else if (kind == K_AV1) {
		uint16_t off, len;
		assert_int_equal(rtp_find_ext(f + in->pi.payload_off, &in->ri, 11, &off, &len), 1);
		assert_int_equal(off, dd_at);
		assert_int_equal(len, dd_len);
		/* the fan-out reads only the offsets (the descriptor's parse is test_av1_dd's) */
		in->mp.codec = MMR_CODEC_AV1;
		in->mp.dd_off = off;
		in->mp.dd_len = len;
		in->has_mp = 1;
	}
}

/* The per-packet part, as fanout_rtp() sets it up. */
static void make_fp(struct fanout_pkt *fp, const struct input *in)
{
	const struct media_pkt *mp = in->has_mp ? &in->mp : NULL;
	memset(fp, 0, sizeof(*fp));
	fp->rtp = in->frame + in->pi.payload_off;
	fp->rtp_hdr_len = in->ri.hdr_len + (mp ? mp->desc_len : 0u);
	fp->body_off = in->pi.payload_off + fp->rtp_hdr_len;
	fp->body_len = in->pi.payload_len - fp->rtp_hdr_len;
	fp->udp_len = (uint16_t)(UDP_LEN + in->pi.payload_len);
	fp->sport_be = rte_cpu_to_be_16(in->pi.dport);
	find_rewrites(fp, mp, &in->s);
	prepare_sum(fp, in->frame);
}

static void make_output(struct fwd_output *o, int v6)
{
	memset(o, 0, sizeof(*o));
	o->family = v6 ? MMR_AF_INET6 : MMR_AF_INET;
	for (int i = 0; i < 6; i++) {
		o->dst_mac[i] = (uint8_t)rnd();
		o->src_mac[i] = (uint8_t)rnd();
	}
	for (int i = 0; i < 16; i++) {
		o->src_ip[i] = (uint8_t)rnd();
		o->dst_ip[i] = (uint8_t)rnd();
	}
	if (!v6) {
		o->src_ip[0] = 198;
		memset(o->src_ip + 4, 0, 12);
		memset(o->dst_ip + 4, 0, 12);
	} else {
		o->src_ip[0] = o->dst_ip[0] = 0x20;   /* no multicast */
	}
	o->out_ssrc_be = rte_cpu_to_be_32(rnd());
	o->dst_port_be = rte_cpu_to_be_16((uint16_t)(1 + rnd() % 65535));
	fwd_output_set_sums(o);
}

static void random_lo(struct layer_out *lo)
{
	lo->seq = (uint16_t)rnd();
	lo->ts = rnd();
	lo->marker = rnd() & 1;
	lo->picture_id = (uint16_t)rnd();
	lo->tl0picidx = (uint8_t)rnd();
	lo->frame_number = (uint16_t)rnd();
	if (rnd() % 8 == 0) {   /* extremes */
		lo->seq = rnd() & 1 ? 0 : 0xffff;
		lo->ts = rnd() & 1 ? 0 : 0xffffffffu;
		lo->picture_id = rnd() & 1 ? 0 : 0x7fff;
		lo->frame_number = rnd() & 1 ? 0 : 0xffff;
	}
}

/* Build the copy of in for o with lo into out (as build_copy() does for a whole-mbuf copy); its
 * length. */
static uint32_t build(uint8_t *out, const struct input *in, const struct fanout_pkt *fp,
		      const struct fwd_output *o, const struct layer_out *lo)
{
	uint32_t head = ETH_LEN + (o->family == MMR_AF_INET ? IP4_LEN : IP6_LEN) + UDP_LEN + fp->rtp_hdr_len;
	memset(out, 0xa5, FRAME_MAX);    /* nothing may be left unwritten */
	memcpy(out + head, in->frame + fp->body_off, fp->body_len);
	write_copy_headers(out, o, fp, lo);
	return head + fp->body_len;
}

/* Everything a receiver can check of one copy. */
static void check_copy(const uint8_t *out, uint32_t len, const struct input *in, const struct fanout_pkt *fp,
		       const struct fwd_output *o, const struct layer_out *lo)
{
	int v4 = o->family == MMR_AF_INET;
	unsigned alen = v4 ? 4 : 16;
	struct pkt_info pi;
	assert_int_equal(pkt_parse(out, len, &pi), MMR_DROP_NONE);   /* includes the IPv4 checksum */
	assert_int_equal(pi.kind, PKT_UDP);
	assert_int_equal(pi.ip_version, v4 ? 4 : 6);
	assert_int_equal(pi.ttl, 64);
	assert_memory_equal(out, o->dst_mac, 6);
	assert_memory_equal(out + 6, o->src_mac, 6);
	assert_memory_equal(pi.src.ip, o->src_ip, alen);
	assert_memory_equal(pi.dst.ip, o->dst_ip, alen);
	assert_int_equal(pi.sport, in->pi.dport);
	assert_int_equal(rte_cpu_to_be_16(pi.dport), o->dst_port_be);
	assert_int_equal(pi.payload_len, in->pi.payload_len);
	if (v4) {
		const uint8_t *ip = out + ETH_LEN;
		assert_int_equal(ref_fold(ref_add(0, ip, 20)), 0xffff);
		assert_int_equal(ip[6], 0x40);    /* DF */
	}

	/* the UDP checksum: a full recomputation, exactly (not merely equivalent) */
	const uint8_t *udp = out + pi.l4_off;
	uint16_t field = (uint16_t)(udp[6] << 8 | udp[7]);
	assert_int_equal(field, ref_udp_csum(o->src_ip, o->dst_ip, alen, udp));
	assert_int_not_equal(field, 0);

	/* the RTP fields */
	const uint8_t *rtp = out + pi.payload_off;
	const uint8_t *irtp = in->frame + in->pi.payload_off;
	struct rtp_info ri;
	assert_int_equal(rtp_parse(rtp, pi.payload_len, &ri), MMR_DROP_NONE);
	assert_int_equal(ri.seq, lo->seq);
	assert_int_equal(rte_cpu_to_be_32(ri.ssrc), o->out_ssrc_be);
	if (fp->rw_tsm) {
		assert_int_equal(ri.ts, lo->ts);
		assert_int_equal(ri.marker, lo->marker);
	} else {
		assert_int_equal(ri.ts, in->ri.ts);
		assert_int_equal(ri.marker, in->ri.marker);
	}
	/* which bytes may differ from the input */
	uint8_t may[FRAME_MAX] = { 0 };
	memset(may + 2, 1, 2);
	memset(may + 8, 1, 4);
	if (fp->rw_tsm) {
		may[1] = 1;
		memset(may + 4, 1, 4);
	}
	if (in->s.codec == MMR_CODEC_VP8) {
		struct vp8_desc d, di;
		assert_int_equal(vp8_parse(rtp + ri.hdr_len, ri.payload_len, &d), MMR_DROP_NONE);
		assert_int_equal(vp8_parse(irtp + in->ri.hdr_len, in->ri.payload_len, &di), MMR_DROP_NONE);
		assert_int_equal(d.len, di.len);
		assert_int_equal(d.has_picture_id, di.has_picture_id);
		assert_int_equal(d.picture_id_16, di.picture_id_16);
		if (d.has_picture_id) {
			assert_int_equal(d.picture_id, lo->picture_id & (d.picture_id_16 ? 0x7fff : 0x7f));
			may[ri.hdr_len + d.picture_id_off] = 1;
			may[ri.hdr_len + d.picture_id_off + 1] = d.picture_id_16;
		}
		if (d.has_tl0picidx) {
			assert_int_equal(d.tl0picidx, lo->tl0picidx);
			may[ri.hdr_len + d.tl0picidx_off] = 1;
		}
		assert_int_equal(d.tid, di.tid);
		assert_int_equal(d.layer_sync, di.layer_sync);
		assert_int_equal(d.keyidx, di.keyidx);
	} else if (in->s.codec == MMR_CODEC_AV1) {
		uint32_t fn = in->mp.dd_off + 1u;
		assert_int_equal(rtp[fn] << 8 | rtp[fn + 1], lo->frame_number);
		may[fn] = may[fn + 1] = 1;
	}
	for (uint32_t i = 0; i < fp->rtp_hdr_len; i++)
		if (!may[i])
			assert_int_equal(rtp[i], irtp[i]);
	if (fp->rw_tsm)
		assert_int_equal(rtp[1] & 0x7f, irtp[1] & 0x7f);
	assert_memory_equal(rtp + fp->rtp_hdr_len, in->frame + fp->body_off, fp->body_len);
}

/* One packet, several receivers of both families, several layer decisions each. */
static void one_packet(struct input *in, int rw_tsm_stream)
{
	static uint8_t out[FRAME_MAX], before[FRAME_MAX];
	struct fanout_pkt fp;
	in->s.simulcast = (uint8_t)rw_tsm_stream;
	memcpy(before, in->frame, in->len);
	make_fp(&fp, in);
	assert_int_equal(fp.rw_tsm, in->has_mp && (rw_tsm_stream || in->s.codec == MMR_CODEC_AV1));
	for (int r = 0; r < 6; r++) {
		struct fwd_output o;
		make_output(&o, r & 1);
		for (int k = 0; k < 3; k++) {
			struct layer_out lo;
			if (in->has_mp)
				random_lo(&lo);
			else
				layer_out_passthrough(&in->ri, &lo);
			uint32_t len = build(out, in, &fp, &o, &lo);
			check_copy(out, len, in, &fp, &o, &lo);
		}
	}
	assert_memory_equal(in->frame, before, in->len);   /* copies never write the input */
}

static void test_audio(void **state)
{
	(void)state;
	static struct input in;
	rng_state = 0xa0d10u;
	for (int i = 0; i < 400; i++) {
		make_input(&in, K_AUDIO, 0, rnd() % 4, 0, 0, rnd() % 1400);
		one_packet(&in, 0);
	}
}

/* Every VP8 descriptor layout (odd and even PictureID/TL0PICIDX offsets), plain and simulcast. */
static void test_vp8(void **state)
{
	(void)state;
	static struct input in;
	rng_state = 0x7b8u;
	for (int i = 0; i < 1600; i++) {
		make_input(&in, K_VP8, (unsigned)i % VP8_LAYOUTS, rnd() % 3, 0, 0, 1 + rnd() % 1300);
		one_packet(&in, (i / VP8_LAYOUTS) & 1);
	}
}

/* AV1: the frame number at both parities (the element before the DD of 1..4 bytes), DDs of 3..8. */
static void test_av1(void **state)
{
	(void)state;
	static struct input in;
	rng_state = 0xa1u;
	for (int i = 0; i < 800; i++) {
		make_input(&in, K_AV1, 0, rnd() % 2, 1 + (unsigned)i % 4, 3 + rnd() % 6, rnd() % 1200);
		one_packet(&in, 0);
	}
}

/* VP9 copies (decided by the stream's codec) rewrite timestamp and marker too. */
static void test_tsm_by_codec(void **state)
{
	(void)state;
	static struct input in;
	struct fanout_pkt fp;
	rng_state = 0x9u;
	make_input(&in, K_VP8, 5, 0, 0, 0, 100);
	in.mp.codec = MMR_CODEC_VP9;
	make_fp(&fp, &in);
	assert_true(fp.rw_tsm);
	in.mp.codec = MMR_CODEC_H264;
	make_fp(&fp, &in);
	assert_false(fp.rw_tsm);
	in.mp.codec = MMR_CODEC_VP8;
	make_fp(&fp, &in);
	assert_false(fp.rw_tsm);
	in.s.simulcast = 1;
	make_fp(&fp, &in);
	assert_true(fp.rw_tsm);
}

/* Choose the last two payload bytes (at an even offset of the UDP segment) so that the checksum
 * computes to 0: the field must be 0xffff, on the incremental path and on the full one. */
static void test_zero_becomes_ffff(void **state)
{
	(void)state;
	static struct input in;
	static uint8_t out[FRAME_MAX];
	int seen = 0;
	rng_state = 0xffffu;
	for (int i = 0; i < 200; i++) {
		int v6 = i & 1;
		/* audio: header 12 + 4 cc bytes, even; an even body puts its last word at an even offset */
		make_input(&in, K_AUDIO, 0, rnd() % 3, 0, 0, 2 * (1 + rnd() % 600));
		struct fwd_output o;
		make_output(&o, v6);
		struct layer_out lo;
		layer_out_passthrough(&in.ri, &lo);
		struct fanout_pkt fp;
		uint8_t *last = in.frame + in.len - 2;
		last[0] = last[1] = 0;
		make_fp(&fp, &in);
		uint32_t len = build(out, &in, &fp, &o, &lo);
		/* the sum with the word 0 and the checksum field 0, then the word that makes it -0 */
		const uint8_t *udp = out + len - fp.udp_len;
		uint8_t tmp[FRAME_MAX];
		memcpy(tmp, udp, fp.udp_len);
		tmp[6] = tmp[7] = 0;
		unsigned alen = v6 ? 16 : 4;
		uint32_t s = ref_add(ref_add(0, o.src_ip, alen), o.dst_ip, alen) + 17 + fp.udp_len;
		uint16_t w = (uint16_t)~ref_fold(ref_add(s, tmp, fp.udp_len));
		put16(last, w);
		make_fp(&fp, &in);
		len = build(out, &in, &fp, &o, &lo);
		check_copy(out, len, &in, &fp, &o, &lo);
		udp = out + len - fp.udp_len;
		assert_int_equal(udp[6] << 8 | udp[7], 0xffff);
		/* the full sum of the same segment (AV1 slow path, SRTP copies) */
		assert_int_equal(copy_udp_csum_full(&o, &fp, udp + UDP_LEN, fp.udp_len - UDP_LEN), 0xffff);
		/* the receiver's check: the segment with its checksum and the pseudo header sum to -0 */
		assert_int_equal(csum_finish(csum_be16(udp, fp.udp_len) + o.pseudo_sum + fp.udp_len), 0);
		seen++;
	}
	assert_int_equal(seen, 200);
	assert_int_equal(udp_csum_field(0xffff), 0xffff);
	assert_int_equal(udp_csum_field(0), 0xffff);
	assert_int_equal(udp_csum_field(0x1234), (uint16_t)~0x1234);
}

/* copy_udp_csum_full against the reference for random segments (what the AV1 slow path and SRTP
 * copies write after write_headers), both families, odd lengths. */
static void test_full_sum(void **state)
{
	(void)state;
	static uint8_t out[FRAME_MAX];
	rng_state = 0xf011u;
	for (int i = 0; i < 3000; i++) {
		struct fwd_output o;
		make_output(&o, i & 1);
		struct fanout_pkt fp;
		memset(&fp, 0, sizeof(fp));
		uint32_t n = rnd() % 1500;
		fp.udp_len = (uint16_t)(UDP_LEN + n);
		fp.sport_be = rte_cpu_to_be_16((uint16_t)rnd());
		uint8_t *udp = write_headers(out, &o, &fp);
		for (uint32_t k = 0; k < n; k++)
			udp[UDP_LEN + k] = (uint8_t)rnd();
		uint16_t ck = copy_udp_csum_full(&o, &fp, udp + UDP_LEN, n);
		put16(udp + 6, ck);
		assert_int_equal(ck, ref_udp_csum(o.src_ip, o.dst_ip, (i & 1) ? 16 : 4, udp));
		struct pkt_info pi;
		assert_int_equal(pkt_parse(out, (uint32_t)(udp - out) + UDP_LEN + n, &pi), MMR_DROP_NONE);
	}
}

/* The precomputed sums: an IPv4 header write_headers() makes verifies for every total length and
 * address; the pseudo-header sum is the reference's. */
static void test_output_sums(void **state)
{
	(void)state;
	static uint8_t out[FRAME_MAX];
	rng_state = 0x5u;
	for (int i = 0; i < 20000; i++) {
		struct fwd_output o;
		make_output(&o, i & 1);
		if (i % 50 == 0) {     /* extreme addresses */
			memset(o.src_ip, i % 100 ? 0xff : 0, 16);
			memset(o.dst_ip, i % 100 ? 0xff : 0, 16);
			if (!(i & 1)) {
				memset(o.src_ip + 4, 0, 12);
				memset(o.dst_ip + 4, 0, 12);
			}
			fwd_output_set_sums(&o);
		}
		unsigned alen = (i & 1) ? 16 : 4;
		uint32_t ps = ref_add(ref_add(0, o.src_ip, alen), o.dst_ip, alen) + 17;
		assert_int_equal(ref_fold(o.pseudo_sum) % 0xffff, ref_fold(ps) % 0xffff);
		if (i & 1) {
			assert_int_equal(o.ip4_sum, 0);
			continue;
		}
		struct fanout_pkt fp;
		memset(&fp, 0, sizeof(fp));
		fp.udp_len = (uint16_t)(UDP_LEN + rnd() % (65535 - 28 - UDP_LEN + 1));
		write_headers(out, &o, &fp);
		assert_int_equal(ref_fold(ref_add(0, out + ETH_LEN, IP4_LEN)), 0xffff);
	}
}

/* An output whose next hop is a neighbour entry: its copies take the entry's MAC (one word), follow
 * a change of it at once, and out_mac_ok refuses (and asks) while the entry is not usable. */
static void test_neigh_mac(void **state)
{
	(void)state;
	struct fwd_output o;
	struct fanout_pkt fp;
	uint8_t out[128];
	make_output(&o, 0);
	memset(&fp, 0, sizeof(fp));
	fp.udp_len = UDP_LEN;
	o.neigh = 7;
	uint8_t a[8] = { 0x02, 0xaa, 0, 0, 0, 0x0a, 0 }, b[8] = { 0x02, 0xbb, 0, 0, 0, 0x0b, 1 };
	memcpy(&dp_neigh_words[7], a, 8);            /* MAC known, not usable (failed) */
	dp_neigh_want[7] = 0;
	assert_false(out_mac_ok(&o));
	assert_int_equal(dp_neigh_want[7], 1);
	a[6] = 1;
	memcpy(&dp_neigh_words[7], a, 8);
	assert_true(out_mac_ok(&o));
	write_headers(out, &o, &fp);
	assert_memory_equal(out, a, 6);
	memcpy(&dp_neigh_words[7], b, 8);            /* the neighbour announced another MAC */
	write_headers(out, &o, &fp);
	assert_memory_equal(out, b, 6);
	o.neigh = 0;                                 /* static: dst_mac, whatever the table holds */
	assert_true(out_mac_ok(&o));
	write_headers(out, &o, &fp);
	assert_memory_equal(out, o.dst_mac, 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_audio),
		cmocka_unit_test(test_vp8),
		cmocka_unit_test(test_av1),
		cmocka_unit_test(test_tsm_by_codec),
		cmocka_unit_test(test_zero_becomes_ffff),
		cmocka_unit_test(test_full_sum),
		cmocka_unit_test(test_output_sums),
		cmocka_unit_test(test_neigh_mac),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
