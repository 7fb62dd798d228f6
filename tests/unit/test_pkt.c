/*
 * test_pkt.c - unit tests of the frame parser (lib/pkt/pkt.c): every field of Ethernet/VLAN/QinQ,
 * IPv4 (options, checksum, fragments, lengths), IPv6, UDP, ARP, ICMP echo, ICMPv6 echo and NS,
 * the RFC 1071 checksum helpers, and ugly input: every truncation of every valid frame, oversized
 * length fields, and thousands of random frames (fixed seed). Each malformed frame is copied into
 * a heap buffer of exactly its length so that ASan (make asan) catches any read past the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pkt.h"
#include "unit_util.h"

/* ---- frame builders ------------------------------------------------------------------------ */

static const uint8_t MAC_DST[6] = { 0x02, 0, 0, 0, 0x01, 0x02 };
static const uint8_t MAC_SRC[6] = { 0x02, 0, 0, 0, 0x01, 0x01 };
static const uint8_t IP4_SRC[4] = { 198, 51, 100, 7 };
static const uint8_t IP4_DST[4] = { 198, 51, 100, 2 };
static const uint8_t IP6_SRC[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x01, [15] = 0x07 };
static const uint8_t IP6_DST[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00, [15] = 0x02 };

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Ethernet header plus n_vlans tags (outer TPID tpid0, TCIs 100+i); returns the L3 offset. */
static uint32_t put_eth(uint8_t *b, uint16_t etype, int n_vlans, uint16_t tpid0)
{
	uint32_t off = 12;

	memcpy(b, MAC_DST, 6);
	memcpy(b + 6, MAC_SRC, 6);
	for (int i = 0; i < n_vlans; i++) {
		wr16(b + off, i == 0 ? tpid0 : 0x8100);
		wr16(b + off + 2, (uint16_t)(0x2000 | (100 + i)));
		off += 4;
	}
	wr16(b + off, etype);
	return off + 2;
}

/* IPv4 header with opt_len bytes of options (multiple of 4) and a correct checksum. */
static uint32_t put_ipv4(uint8_t *b, uint8_t proto, uint32_t l4_len, uint32_t opt_len)
{
	uint32_t hlen = 20 + opt_len;

	memset(b, 0, hlen);
	b[0] = (uint8_t)(0x40 | (hlen / 4));
	wr16(b + 2, (uint16_t)(hlen + l4_len));
	wr16(b + 4, 0x1234);
	wr16(b + 6, 0x4000);           /* DF */
	b[8] = 64;
	b[9] = proto;
	memcpy(b + 12, IP4_SRC, 4);
	memcpy(b + 16, IP4_DST, 4);
	for (uint32_t i = 0; i < opt_len; i++)
		b[20 + i] = 1;             /* NOP options */
	wr16(b + 10, pkt_fold_sum(pkt_raw_sum(b, hlen, 0)));
	return hlen;
}

static void fix_ipv4_csum(uint8_t *ip)
{
	uint32_t hlen = (uint32_t)(ip[0] & 0x0f) * 4;

	wr16(ip + 10, 0);
	wr16(ip + 10, pkt_fold_sum(pkt_raw_sum(ip, hlen, 0)));
}

static uint32_t put_ipv6(uint8_t *b, uint8_t next, uint32_t l4_len, uint8_t hop)
{
	memset(b, 0, 40);
	b[0] = 0x60;
	wr16(b + 4, (uint16_t)l4_len);
	b[6] = next;
	b[7] = hop;
	memcpy(b + 8, IP6_SRC, 16);
	memcpy(b + 24, IP6_DST, 16);
	return 40;
}

static uint32_t put_udp(uint8_t *b, uint16_t sport, uint16_t dport, uint32_t payload_len)
{
	wr16(b, sport);
	wr16(b + 2, dport);
	wr16(b + 4, (uint16_t)(8 + payload_len));
	wr16(b + 6, 0);
	for (uint32_t i = 0; i < payload_len; i++)
		b[8 + i] = (uint8_t)(0x80 + i);
	return 8 + payload_len;
}

enum tmpl { T_UDP4, T_UDP4_OPT, T_UDP4_VLAN, T_UDP4_QINQ, T_UDP6, T_UDP6_VLAN, T_ARP, T_ICMP4,
	    T_ICMP6_ECHO, T_ICMP6_NS, T__COUNT };

/* One valid frame of each kind, with no trailing padding. Returns its length. */
static uint32_t build(enum tmpl t, uint8_t *b)
{
	uint32_t off, n;

	memset(b, 0, 256);
	switch (t) {
	case T_UDP4:
	case T_UDP4_OPT:
	case T_UDP4_VLAN:
	case T_UDP4_QINQ:
		off = put_eth(b, 0x0800, t == T_UDP4_VLAN ? 1 : t == T_UDP4_QINQ ? 2 : 0,
			      t == T_UDP4_QINQ ? 0x88a8 : 0x8100);
		n = put_ipv4(b + off, 17, 8 + 20, t == T_UDP4_OPT ? 12 : 0);
		return off + n + put_udp(b + off + n, 40000, 5000, 20);
	case T_UDP6:
	case T_UDP6_VLAN:
		off = put_eth(b, 0x86dd, t == T_UDP6_VLAN ? 1 : 0, 0x8100);
		n = put_ipv6(b + off, 17, 8 + 33, 60);
		return off + n + put_udp(b + off + n, 40001, 5000, 33);
	case T_ARP:
		off = put_eth(b, 0x0806, 0, 0x8100);
		wr16(b + off, 1);
		wr16(b + off + 2, 0x0800);
		b[off + 4] = 6;
		b[off + 5] = 4;
		wr16(b + off + 6, 1);
		memcpy(b + off + 8, MAC_SRC, 6);
		memcpy(b + off + 14, IP4_SRC, 4);
		memcpy(b + off + 24, IP4_DST, 4);
		return off + 28;
	case T_ICMP4:
		off = put_eth(b, 0x0800, 0, 0x8100);
		n = put_ipv4(b + off, 1, 16, 0);
		b[off + n] = 8;
		return off + n + 16;
	case T_ICMP6_ECHO:
		off = put_eth(b, 0x86dd, 0, 0x8100);
		n = put_ipv6(b + off, 58, 16, 64);
		b[off + n] = 128;
		return off + n + 16;
	case T_ICMP6_NS:
		off = put_eth(b, 0x86dd, 0, 0x8100);
		n = put_ipv6(b + off, 58, 24, 255);
		b[off + n] = 135;
		memcpy(b + off + n + 8, IP6_DST, 16);
		return off + n + 24;
	default:
		return 0;
	}
}

/* Parse a copy of the frame in a heap buffer of exactly len bytes. */
static enum mmr_drop_reason parse_exact(const uint8_t *frame, uint32_t len, struct pkt_info *pi)
{
	uint8_t *copy = heap_copy(frame, len);
	enum mmr_drop_reason r;

	r = pkt_parse(copy, len, pi);
	if (r == MMR_DROP_NONE) {
		/* the checks after parsing read only inside the exact-size copy too (ASan) */
		static const struct pkt_l2_filter f = { .mac = { 0x02, 0, 0, 0, 0x01, 0x02 }, .vlan = 100,
							.has_ipv6 = 1, .ipv6 = { 0x20, 0x01, [15] = 0x02 } };
		enum mmr_drop_reason l2 = pkt_l2_check(copy, pi, &f, 0, 0);
		assert_true(l2 == MMR_DROP_NONE || l2 == MMR_DROP_VLAN || l2 == MMR_DROP_DST_MAC);
		if (pi->kind == PKT_UDP) {
			enum mmr_drop_reason c = pkt_udp_csum_check(copy, pi);
			assert_true(c == MMR_DROP_NONE || c == MMR_DROP_UDP_CHECKSUM);
		}
	}
	free(copy);
	return r;
}

static void assert_sane(enum mmr_drop_reason r, const struct pkt_info *pi, uint32_t len)
{
	assert_true(r < MMR_DROP__COUNT);
	if (r != MMR_DROP_NONE)
		return;
	switch (pi->kind) {
	case PKT_UDP:
		assert_true(pi->l3_off < pi->l4_off);
		assert_int_equal(pi->payload_off, pi->l4_off + 8);
		assert_true((uint32_t)pi->payload_off + pi->payload_len <= len);
		break;
	case PKT_ICMP_ECHO:
		assert_true((uint32_t)pi->l4_off + 8 <= len);
		break;
	case PKT_ICMP6_NS:
		assert_true((uint32_t)pi->l4_off + 24 <= len);
		break;
	case PKT_ARP:
		assert_true((uint32_t)pi->l3_off + 28 <= len);
		break;
	default:
		fail_msg("unknown kind %u", pi->kind);
	}
}

/* ---- valid frames, field by field ---------------------------------------------------------- */

static void test_udp4_fields(void **state)
{
	uint8_t b[256];
	struct pkt_info pi;
	uint32_t len = build(T_UDP4, b);

	(void)state;
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NONE);
	assert_int_equal(pi.kind, PKT_UDP);
	assert_int_equal(pi.ip_version, 4);
	assert_int_equal(pi.n_vlans, 0);
	assert_int_equal(pi.ttl, 64);
	assert_int_equal(pi.l3_off, 14);
	assert_int_equal(pi.l4_off, 34);
	assert_int_equal(pi.payload_off, 42);
	assert_int_equal(pi.payload_len, 20);
	assert_int_equal(pi.sport, 40000);
	assert_int_equal(pi.dport, 5000);
	assert_int_equal(pi.src.family, MMR_AF_INET);
	assert_int_equal(pi.dst.family, MMR_AF_INET);
	assert_memory_equal(pi.src.ip, IP4_SRC, 4);
	assert_memory_equal(pi.dst.ip, IP4_DST, 4);
	for (int i = 4; i < 16; i++) {
		assert_int_equal(pi.src.ip[i], 0);
		assert_int_equal(pi.dst.ip[i], 0);
	}
	assert_int_equal(b[pi.payload_off], 0x80);
	assert_int_equal(len, 62u);
}

static void test_vlan_and_qinq(void **state)
{
	uint8_t b[256];
	struct pkt_info pi;
	uint32_t len;

	(void)state;
	len = build(T_UDP4_VLAN, b);
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NONE);
	assert_int_equal(pi.n_vlans, 1);
	assert_int_equal(pi.vlan_tci, 0x2000 | 100);
	assert_int_equal(pi.l3_off, 18);
	assert_int_equal(pi.l4_off, 38);
	assert_int_equal(pi.payload_len, 20);

	len = build(T_UDP4_QINQ, b);
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NONE);
	assert_int_equal(pi.n_vlans, 2);
	assert_int_equal(pi.vlan_tci, 0x2000 | 100);    /* the outer tag */
	assert_int_equal(pi.l3_off, 22);
	assert_int_equal(pi.payload_off, 50);

	/* 0x8100 outside 0x8100 is accepted too */
	len = build(T_UDP4, b);
	{
		uint8_t q[256];
		uint32_t off = put_eth(q, 0x0800, 2, 0x8100);

		memcpy(q + off, b + 14, len - 14);
		assert_int_equal(pkt_parse(q, off + len - 14, &pi), MMR_DROP_NONE);
		assert_int_equal(pi.n_vlans, 2);
		assert_int_equal(pi.sport, 40000);
	}

	len = build(T_UDP6_VLAN, b);
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NONE);
	assert_int_equal(pi.n_vlans, 1);
	assert_int_equal(pi.ip_version, 6);
	assert_int_equal(pi.l4_off, 58);
}

static void test_three_tags_refused(void **state)
{
	uint8_t b[256], q[256];
	struct pkt_info pi;
	uint32_t len = build(T_UDP4_QINQ, b);

	(void)state;
	/* a third tag after QinQ */
	uint32_t off = put_eth(q, 0x0800, 3, 0x88a8);
	memcpy(q + off, b + 22, len - 22);
	assert_int_equal(pkt_parse(q, off + len - 22, &pi), MMR_DROP_BAD_L2);
	/* the same frame with two tags parses */
	off = put_eth(q, 0x0800, 2, 0x88a8);
	memcpy(q + off, b + 22, len - 22);
	assert_int_equal(pkt_parse(q, off + len - 22, &pi), MMR_DROP_NONE);
}

static void test_unknown_ethertype(void **state)
{
	uint8_t b[256];
	struct pkt_info pi;
	uint32_t len = build(T_UDP4, b);

	(void)state;
	wr16(b + 12, 0x88cc);          /* LLDP */
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_BAD_L2);
	wr16(b + 12, 0x0060);          /* 802.3 length field */
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_BAD_L2);
}

static void test_ipv4_options(void **state)
{
	uint8_t b[256];
	struct pkt_info pi;
	uint32_t len = build(T_UDP4_OPT, b);

	(void)state;
	/* options (IHL > 5) are refused as bad_ip, after the header is otherwise checked */
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_BAD_IP);
	/* the same frame without options parses (the negative control) */
	len = build(T_UDP4, b);
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NONE);

	/* the largest header: IHL 15; ICMP with options too */
	uint32_t off = put_eth(b, 0x0800, 0, 0x8100);
	uint32_t n = put_ipv4(b + off, 17, 8 + 4, 40);
	len = off + n + put_udp(b + off + n, 1, 2, 4);
	assert_int_equal(b[off] & 0x0f, 15);
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_BAD_IP);
	off = put_eth(b, 0x0800, 0, 0x8100);
	n = put_ipv4(b + off, 1, 16, 4);
	b[off + n] = 8;
	assert_int_equal(pkt_parse(b, off + n + 16, &pi), MMR_DROP_BAD_IP);
	/* a truncated options header is still TRUNCATED; a wrong checksum still bad_ip */
	len = build(T_UDP4_OPT, b);
	assert_int_equal(pkt_parse(b, 14 + 24, &pi), MMR_DROP_TRUNCATED);
}

static void test_ipv4_bad_header(void **state)
{
	uint8_t b[256];
	struct pkt_info pi;
	uint32_t len;

	(void)state;
	/* wrong checksum */
	len = build(T_UDP4, b);
	b[14 + 10] ^= 0x01;
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_BAD_IP);
	/* a changed TTL without a new checksum */
	len = build(T_UDP4, b);
	b[14 + 8]--;
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_BAD_IP);
	fix_ipv4_csum(b + 14);
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NONE);
	assert_int_equal(pi.ttl, 63);
	/* version 5, 6 in an IPv4 EtherType */
	len = build(T_UDP4, b);
	b[14] = 0x65;
	fix_ipv4_csum(b + 14);
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_BAD_IP);
	/* IHL below 5 */
	for (uint8_t ihl = 0; ihl < 5; ihl++) {
		len = build(T_UDP4, b);
		b[14] = (uint8_t)(0x40 | ihl);
		assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_BAD_IP);
	}
	/* total length below the header length */
	len = build(T_UDP4, b);
	wr16(b + 14 + 2, 19);
	fix_ipv4_csum(b + 14);
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_BAD_IP);
	/* total length beyond the frame */
	len = build(T_UDP4, b);
	wr16(b + 14 + 2, (uint16_t)(len - 14 + 1));
	fix_ipv4_csum(b + 14);
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_TRUNCATED);
}

static void test_ipv4_fragments(void **state)
{
	uint8_t b[256];
	struct pkt_info pi;
	uint32_t len;
	static const uint16_t frag_fields[] = { 0x2000, 0x0001, 0x00b9, 0x2001, 0x6000, 0x1fff };

	(void)state;
	for (unsigned i = 0; i < sizeof(frag_fields) / sizeof(frag_fields[0]); i++) {
		len = build(T_UDP4, b);
		wr16(b + 14 + 6, frag_fields[i]);
		fix_ipv4_csum(b + 14);
		assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_BAD_IP);
	}
	/* DF alone, or no flags at all, is a whole datagram */
	len = build(T_UDP4, b);
	wr16(b + 14 + 6, 0x0000);
	fix_ipv4_csum(b + 14);
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NONE);
	/* the reserved (evil) bit is not a fragment */
	wr16(b + 14 + 6, 0x8000);
	fix_ipv4_csum(b + 14);
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NONE);
}

static void test_ethernet_padding(void **state)
{
	uint8_t b[256];
	struct pkt_info pi;
	uint32_t off = put_eth(b, 0x0800, 0, 0x8100);
	uint32_t n = put_ipv4(b + off, 17, 8 + 2, 0);
	uint32_t len = off + n + put_udp(b + off + n, 7, 9, 2);

	(void)state;
	assert_int_equal(len, 44u);
	memset(b + len, 0xee, 60 - len);      /* padded to the 60-byte minimum */
	assert_int_equal(pkt_parse(b, 60, &pi), MMR_DROP_NONE);
	assert_int_equal(pi.payload_len, 2);
	assert_int_equal(pi.sport, 7);

	/* IPv6 with trailing bytes */
	off = put_eth(b, 0x86dd, 0, 0x8100);
	n = put_ipv6(b + off, 17, 8 + 1, 1);
	len = off + n + put_udp(b + off + n, 7, 9, 1);
	memset(b + len, 0xee, 7);
	assert_int_equal(pkt_parse(b, len + 7, &pi), MMR_DROP_NONE);
	assert_int_equal(pi.payload_len, 1);
}

static void test_udp_lengths(void **state)
{
	uint8_t b[256];
	struct pkt_info pi;
	uint32_t len;

	(void)state;
	/* UDP length below 8 */
	for (uint16_t ul = 0; ul < 8; ul++) {
		len = build(T_UDP4, b);
		wr16(b + 34 + 4, ul);
		assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_BAD_UDP);
		len = build(T_UDP6, b);
		wr16(b + 54 + 4, ul);
		assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_BAD_UDP);
	}
	/* UDP length beyond the IP payload (the frame is long enough: the IP length rules) */
	len = build(T_UDP4, b);
	wr16(b + 34 + 4, 29);
	assert_int_equal(pkt_parse(b, len + 50, &pi), MMR_DROP_BAD_UDP);
	wr16(b + 34 + 4, 0xffff);
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_BAD_UDP);
	len = build(T_UDP6, b);
	wr16(b + 54 + 4, 8 + 34);
	assert_int_equal(pkt_parse(b, len + 50, &pi), MMR_DROP_BAD_UDP);
	/* UDP length shorter than the IP payload: the UDP length wins */
	len = build(T_UDP4, b);
	wr16(b + 34 + 4, 8 + 5);
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NONE);
	assert_int_equal(pi.payload_len, 5);
	/* empty UDP payload */
	wr16(b + 34 + 4, 8);
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NONE);
	assert_int_equal(pi.payload_len, 0);
	/* an IP payload too short for a UDP header */
	uint32_t off = put_eth(b, 0x0800, 0, 0x8100);
	uint32_t n = put_ipv4(b + off, 17, 4, 0);
	assert_int_equal(pkt_parse(b, off + n + 4, &pi), MMR_DROP_TRUNCATED);
}

static void test_udp6_fields(void **state)
{
	uint8_t b[256];
	struct pkt_info pi;
	uint32_t len = build(T_UDP6, b);

	(void)state;
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NONE);
	assert_int_equal(pi.kind, PKT_UDP);
	assert_int_equal(pi.ip_version, 6);
	assert_int_equal(pi.ttl, 60);
	assert_int_equal(pi.l3_off, 14);
	assert_int_equal(pi.l4_off, 54);
	assert_int_equal(pi.payload_off, 62);
	assert_int_equal(pi.payload_len, 33);
	assert_int_equal(pi.sport, 40001);
	assert_int_equal(pi.dport, 5000);
	assert_int_equal(pi.src.family, MMR_AF_INET6);
	assert_memory_equal(pi.src.ip, IP6_SRC, 16);
	assert_memory_equal(pi.dst.ip, IP6_DST, 16);
}

static void test_ipv6_refusals(void **state)
{
	uint8_t b[256];
	struct pkt_info pi;
	uint32_t len;
	static const uint8_t ext_headers[] = { 0, 43, 60, 51, 50, 135, 139, 140, 6, 59 };

	(void)state;
	/* extension headers (and other protocols) are not walked: NOT_UDP */
	for (unsigned i = 0; i < sizeof(ext_headers); i++) {
		len = build(T_UDP6, b);
		b[14 + 6] = ext_headers[i];
		assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NOT_UDP);
	}
	/* a fragment header is a fragment */
	len = build(T_UDP6, b);
	b[14 + 6] = 44;
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_BAD_IP);
	/* version 4 in an IPv6 EtherType */
	len = build(T_UDP6, b);
	b[14] = 0x40;
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_BAD_IP);
	/* payload length beyond the frame */
	len = build(T_UDP6, b);
	wr16(b + 14 + 4, (uint16_t)(len - 54 + 1));
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_TRUNCATED);
	wr16(b + 14 + 4, 0xffff);
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_TRUNCATED);
	/* payload length 0 (jumbogram style) cannot hold UDP */
	wr16(b + 14 + 4, 0);
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_TRUNCATED);
}

static void test_arp(void **state)
{
	uint8_t b[256];
	struct pkt_info pi;
	uint32_t len = build(T_ARP, b);

	(void)state;
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NONE);
	assert_int_equal(pi.kind, PKT_ARP);
	assert_int_equal(pi.ip_version, 0);
	assert_int_equal(pi.l3_off, 14);
	assert_int_equal(pi.arp_op, 1);
	assert_memory_equal(pi.arp_sha, MAC_SRC, 6);
	assert_int_equal(pi.arp_spa.family, MMR_AF_INET);
	assert_memory_equal(pi.arp_spa.ip, IP4_SRC, 4);
	assert_int_equal(pi.arp_tpa.family, MMR_AF_INET);
	assert_memory_equal(pi.arp_tpa.ip, IP4_DST, 4);

	wr16(b + 14 + 6, 2);           /* reply */
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NONE);
	assert_int_equal(pi.arp_op, 2);
	/* padded to 60 bytes */
	assert_int_equal(pkt_parse(b, 60, &pi), MMR_DROP_NONE);

	/* not IPv4 over Ethernet, or an opcode that is neither request nor reply */
	static const struct { int off; uint8_t val; } bad[] = {
		{ 0, 1 }, { 1, 6 }, { 2, 0x86 }, { 3, 0xdd }, { 4, 8 }, { 5, 16 }, { 7, 3 }, { 7, 0 },
		{ 6, 1 },
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		len = build(T_ARP, b);
		b[14 + bad[i].off] = bad[i].val;
		assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_BAD_L2);
	}

	/* ARP inside a VLAN tag */
	{
		uint8_t q[256];
		uint32_t off = put_eth(q, 0x0806, 1, 0x8100);

		len = build(T_ARP, b);
		memcpy(q + off, b + 14, 28);
		assert_int_equal(pkt_parse(q, off + 28, &pi), MMR_DROP_NONE);
		assert_int_equal(pi.kind, PKT_ARP);
		assert_int_equal(pi.l3_off, 18);
		assert_int_equal(pi.n_vlans, 1);
	}
}

static void test_icmp4(void **state)
{
	uint8_t b[256];
	struct pkt_info pi;
	uint32_t len = build(T_ICMP4, b);

	(void)state;
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NONE);
	assert_int_equal(pi.kind, PKT_ICMP_ECHO);
	assert_int_equal(pi.ip_version, 4);
	assert_int_equal(pi.l4_off, 34);
	assert_memory_equal(pi.src.ip, IP4_SRC, 4);
	/* echo reply, unreachable, timestamp: not for us to answer */
	static const uint8_t other[] = { 0, 3, 11, 13 };
	for (unsigned i = 0; i < sizeof(other); i++) {
		b[34] = other[i];
		assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NOT_UDP);
	}
	/* an ICMP header shorter than 8 bytes */
	uint32_t off = put_eth(b, 0x0800, 0, 0x8100);
	uint32_t n = put_ipv4(b + off, 1, 7, 0);
	b[off + n] = 8;
	assert_int_equal(pkt_parse(b, off + n + 7, &pi), MMR_DROP_TRUNCATED);
	/* other IPv4 protocols */
	len = build(T_UDP4, b);
	b[14 + 9] = 6;
	fix_ipv4_csum(b + 14);
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NOT_UDP);
}

static void test_icmp6(void **state)
{
	uint8_t b[256];
	struct pkt_info pi;
	uint32_t len = build(T_ICMP6_ECHO, b);

	(void)state;
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NONE);
	assert_int_equal(pi.kind, PKT_ICMP_ECHO);
	assert_int_equal(pi.ip_version, 6);
	assert_int_equal(pi.l4_off, 54);
	assert_int_equal(pi.ttl, 64);
	b[54] = 129;                   /* echo reply */
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NOT_UDP);
	b[54] = 137;                   /* redirect (advertisements: test_neigh_pkt.c) */
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NOT_UDP);

	len = build(T_ICMP6_NS, b);
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NONE);
	assert_int_equal(pi.kind, PKT_ICMP6_NS);
	assert_int_equal(pi.l4_off, 54);
	assert_int_equal(pi.nd_target.family, MMR_AF_INET6);
	assert_memory_equal(pi.nd_target.ip, IP6_DST, 16);
	/* an NS that crossed a router (hop limit not 255) or with a non-zero code */
	b[14 + 7] = 254;
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NOT_UDP);
	len = build(T_ICMP6_NS, b);
	b[55] = 1;
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NOT_UDP);
	/* an NS too short for its target */
	len = build(T_ICMP6_NS, b);
	wr16(b + 14 + 4, 23);
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_TRUNCATED);
	/* an ICMPv6 header shorter than 8 bytes */
	len = build(T_ICMP6_ECHO, b);
	wr16(b + 14 + 4, 7);
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_TRUNCATED);
}

/* ---- checksum helpers ---------------------------------------------------------------------- */

static void test_checksum_helpers(void **state)
{
	/* RFC 1071 section 3 example: the one's complement sum of these bytes is 0xddf2. */
	static const uint8_t ex[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	uint8_t b[256];

	(void)state;
	assert_int_equal(pkt_fold_sum(pkt_raw_sum(ex, sizeof(ex), 0)), (uint16_t)~0xddf2);
	/* summing in pieces (even splits) gives the same */
	assert_int_equal(pkt_fold_sum(pkt_raw_sum(ex + 4, 4, pkt_raw_sum(ex, 4, 0))),
			 (uint16_t)~0xddf2);
	/* an odd trailing byte is padded with zero on the right */
	static const uint8_t odd[] = { 0x12, 0x34, 0x56 };
	assert_int_equal(pkt_raw_sum(odd, 3, 0), 0x1234u + 0x5600u);
	assert_int_equal(pkt_raw_sum(odd, 0, 7), 7u);
	/* carries fold around */
	assert_int_equal(pkt_fold_sum(0x1ffffu), (uint16_t)~0x0001);
	assert_int_equal(pkt_fold_sum(0xffffu), 0);
	assert_int_equal(pkt_fold_sum(0), 0xffff);
	/* a large buffer of 0xff bytes does not overflow the 32-bit running sum */
	{
		uint32_t n = 200000;
		uint8_t *big = malloc(n);

		assert_non_null(big);
		memset(big, 0xff, n);
		assert_int_equal(pkt_fold_sum(pkt_raw_sum(big, n, 0)), 0);
		free(big);
	}
	/* a header built with the helper verifies to zero */
	uint32_t len = build(T_UDP4_OPT, b);
	assert_true(len > 0);
	assert_int_equal(pkt_fold_sum(pkt_raw_sum(b + 14, 32, 0)), 0);
}

/* ---- ugly input ---------------------------------------------------------------------------- */

static void test_every_truncation(void **state)
{
	uint8_t b[256];
	struct pkt_info pi;

	(void)state;
	for (int t = 0; t < T__COUNT; t++) {
		uint32_t full = build((enum tmpl)t, b);

		/* IPv4 options are refused whole, truncated ones as truncated */
		assert_int_equal(parse_exact(b, full, &pi), t == T_UDP4_OPT ? MMR_DROP_BAD_IP : MMR_DROP_NONE);
		for (uint32_t len = 0; len < full; len++) {
			enum mmr_drop_reason r = parse_exact(b, len, &pi);

			if (r != MMR_DROP_TRUNCATED)
				fail_msg("template %d cut to %u of %u bytes: got %d, want TRUNCATED",
					 t, len, full, r);
		}
	}
}

static void test_oversized_lengths(void **state)
{
	uint8_t b[256];
	struct pkt_info pi;
	uint32_t len;

	(void)state;
	/* IPv4 total length 65535 and IHL 15 in a short frame */
	len = build(T_UDP4, b);
	wr16(b + 14 + 2, 0xffff);
	fix_ipv4_csum(b + 14);
	assert_int_equal(parse_exact(b, len, &pi), MMR_DROP_TRUNCATED);
	len = build(T_UDP4, b);
	b[14] = 0x4f;
	assert_int_equal(parse_exact(b, 14 + 40, &pi), MMR_DROP_TRUNCATED);
	/* UDP length 65535 inside a good IPv4 packet */
	len = build(T_UDP4, b);
	wr16(b + 34 + 4, 0xffff);
	assert_int_equal(parse_exact(b, len, &pi), MMR_DROP_BAD_UDP);
	/* IPv6 payload length 65535 */
	len = build(T_UDP6, b);
	wr16(b + 14 + 4, 0xffff);
	assert_int_equal(parse_exact(b, len, &pi), MMR_DROP_TRUNCATED);
	/* a jumbo frame (bigger than 64 KiB) carrying a normal packet is fine */
	{
		uint32_t n = 70000;
		uint8_t *big = calloc(1, n);

		assert_non_null(big);
		len = build(T_UDP4, b);
		memcpy(big, b, len);
		assert_int_equal(pkt_parse(big, n, &pi), MMR_DROP_NONE);
		assert_int_equal(pi.payload_len, 20);
		free(big);
	}
}

static void test_random_garbage(void **state)
{
	uint8_t b[512];
	struct pkt_info pi;
	unsigned ok = 0;

	(void)state;
	rng_state = 12345;
	/* pure noise */
	for (int i = 0; i < 5000; i++) {
		uint32_t len = rnd() % 300;

		for (uint32_t j = 0; j < len; j++)
			b[j] = (uint8_t)rnd();
		assert_sane(parse_exact(b, len, &pi), &pi, len);
	}
	/* a valid frame of each kind with a few random bytes changed and a random length: reaches
	 * the deep checks */
	for (int i = 0; i < 30000; i++) {
		uint32_t full = build((enum tmpl)(rnd() % T__COUNT), b);
		uint32_t flips = 1 + rnd() % 4, len;
		enum mmr_drop_reason r;

		for (uint32_t j = 0; j < flips; j++)
			b[rnd() % full] = (uint8_t)rnd();
		len = rnd() % 4 ? full : rnd() % (full + 40);
		r = parse_exact(b, len, &pi);
		assert_sane(r, &pi, len);
		ok += r == MMR_DROP_NONE;
	}
	/* some mutations are harmless (payload bytes, addresses): the parser did accept some */
	assert_true(ok > 1000);
}

/* ---- UDP checksum (pkt_udp_csum_verdict / _check) ------------------------------------------- */

/* Set the UDP checksum of a parsed frame the slow, obvious way: pseudo header bytes laid out. */
static void set_udp_csum(uint8_t *b, const struct pkt_info *pi)
{
	uint8_t ph[40];
	uint32_t alen = pi->ip_version == 4 ? 4 : 16, ulen = 8u + pi->payload_len;

	memcpy(ph, pi->src.ip, alen);
	memcpy(ph + alen, pi->dst.ip, alen);
	ph[2 * alen] = 0;
	ph[2 * alen + 1] = 17;
	wr16(ph + 2 * alen + 2, (uint16_t)ulen);
	wr16(b + pi->l4_off + 6, 0);
	uint16_t c = pkt_fold_sum(pkt_raw_sum(b + pi->l4_off, ulen, pkt_raw_sum(ph, 2 * alen + 4, 0)));
	wr16(b + pi->l4_off + 6, c ? c : 0xffff);
}

static void test_udp_checksum(void **state)
{
	uint8_t b[256];
	struct pkt_info pi;

	(void)state;
	for (int t = 0; t < T__COUNT; t++) {
		uint32_t len = build((enum tmpl)t, b);
		if (pkt_parse(b, len, &pi) != MMR_DROP_NONE || pi.kind != PKT_UDP)
			continue;
		int v4 = pi.ip_version == 4;
		/* field 0: IPv4 "no checksum" passes, IPv6 is refused (RFC 8200) */
		assert_int_equal(pkt_udp_csum_check(b, &pi), v4 ? MMR_DROP_NONE : MMR_DROP_UDP_CHECKSUM);
		set_udp_csum(b, &pi);
		assert_int_equal(pkt_udp_csum_check(b, &pi), MMR_DROP_NONE);
		/* the verdict from an outside sum (the dataplane's csum_be16_bulk): folded or not */
		uint32_t seg = pkt_raw_sum(b + pi.l4_off, 8u + pi.payload_len, 0);
		assert_int_equal(pkt_udp_csum_verdict(b, &pi, seg), MMR_DROP_NONE);
		assert_int_equal(pkt_udp_csum_verdict(b, &pi, (uint16_t)~pkt_fold_sum(seg)), MMR_DROP_NONE);
		/* one payload bit, a port, an address (pseudo header), the length word: all caught */
		b[pi.payload_off + pi.payload_len - 1] ^= 0x01;
		assert_int_equal(pkt_udp_csum_check(b, &pi), MMR_DROP_UDP_CHECKSUM);
		b[pi.payload_off + pi.payload_len - 1] ^= 0x01;
		b[pi.l4_off + 1] ^= 0x40;
		assert_int_equal(pkt_udp_csum_check(b, &pi), MMR_DROP_UDP_CHECKSUM);
		b[pi.l4_off + 1] ^= 0x40;
		struct pkt_info moved = pi;
		moved.src.ip[0] ^= 0x80;
		assert_int_equal(pkt_udp_csum_check(b, &moved), MMR_DROP_UDP_CHECKSUM);
		assert_int_equal(pkt_udp_csum_check(b, &pi), MMR_DROP_NONE);
		/* a checksum with one bit wrong */
		uint16_t c = (uint16_t)((b[pi.l4_off + 6] << 8) | b[pi.l4_off + 7]);
		wr16(b + pi.l4_off + 6, (uint16_t)(c ^ 0x0100));
		assert_int_equal(pkt_udp_csum_check(b, &pi), MMR_DROP_UDP_CHECKSUM);
	}
	/* an odd payload length (IPv6 template: 33 bytes), trailing Ethernet padding not summed */
	uint32_t len = build(T_UDP6, b);
	assert_int_equal(pkt_parse(b, len + 10, &pi), MMR_DROP_NONE);
	assert_int_equal(pi.payload_len, 33);
	set_udp_csum(b, &pi);
	memset(b + len, 0xab, 10);
	assert_int_equal(pkt_udp_csum_check(b, &pi), MMR_DROP_NONE);
	/* a datagram whose true checksum is 0 goes as 0xffff and verifies; as 0 on IPv4: no checksum */
	len = build(T_UDP4, b);
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NONE);
	for (uint32_t v = 0; v < 0x10000; v++) {     /* two payload bytes make the sum 0xffff */
		wr16(b + pi.payload_off, (uint16_t)v);
		set_udp_csum(b, &pi);
		if (b[pi.l4_off + 6] == 0xff && b[pi.l4_off + 7] == 0xff)
			break;
	}
	assert_int_equal(b[pi.l4_off + 6], 0xff);
	assert_int_equal(pkt_udp_csum_check(b, &pi), MMR_DROP_NONE);
}

/* ---- destination MAC and VLAN (pkt_l2_check) --------------------------------------------------- */

static void test_l2_check(void **state)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct pkt_l2_filter f = { .vlan = 0, .has_ipv6 = 1 };
	uint8_t b[256];
	struct pkt_info pi;
	uint32_t len;

	(void)state;
	memcpy(f.mac, MAC_DST, 6);
	memcpy(f.ipv6, IP6_DST, 16);
	/* our MAC, untagged: accepted (the positive control) */
	len = build(T_UDP4, b);
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NONE);
	assert_int_equal(pkt_l2_check(b, &pi, &f, 0, 0), MMR_DROP_NONE);
	/* another unicast MAC (one bit off), broadcast, IPv4 multicast MAC, 33:33 for UDP */
	b[5] ^= 0x01;
	assert_int_equal(pkt_l2_check(b, &pi, &f, 0, 0), MMR_DROP_DST_MAC);
	memcpy(b, bcast, 6);
	assert_int_equal(pkt_l2_check(b, &pi, &f, 0, 0), MMR_DROP_DST_MAC);
	memcpy(b, (const uint8_t[]){ 0x01, 0x00, 0x5e, 0, 0, 1 }, 6);
	assert_int_equal(pkt_l2_check(b, &pi, &f, 0, 0), MMR_DROP_DST_MAC);
	memcpy(b, (const uint8_t[]){ 0x33, 0x33, 0xff, 0, 0, 2 }, 6);
	assert_int_equal(pkt_l2_check(b, &pi, &f, 0, 0), MMR_DROP_DST_MAC);
	/* ARP: broadcast accepted, our MAC too, a multicast not */
	len = build(T_ARP, b);
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NONE);
	assert_int_equal(pkt_l2_check(b, &pi, &f, 0, 0), MMR_DROP_NONE);
	memcpy(b, bcast, 6);
	assert_int_equal(pkt_l2_check(b, &pi, &f, 0, 0), MMR_DROP_NONE);
	b[5] = 0xfe;
	assert_int_equal(pkt_l2_check(b, &pi, &f, 0, 0), MMR_DROP_DST_MAC);
	/* ICMP echo to broadcast: refused */
	len = build(T_ICMP4, b);
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NONE);
	memcpy(b, bcast, 6);
	assert_int_equal(pkt_l2_check(b, &pi, &f, 0, 0), MMR_DROP_DST_MAC);

	/* IPv6 NS to our solicited-node group ff02::1:ff00:2 on 33:33:ff:00:00:02: accepted */
	len = build(T_ICMP6_NS, b);
	static const uint8_t sol[16] = { 0xff, 0x02, [11] = 1, [12] = 0xff, [15] = 0x02 };
	memcpy(b + 14 + 24, sol, 16);
	memcpy(b, (const uint8_t[]){ 0x33, 0x33, 0xff, 0, 0, 2 }, 6);
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NONE);
	assert_int_equal(pkt_l2_check(b, &pi, &f, 0, 0), MMR_DROP_NONE);
	/* ... the MAC not matching the address, or another node's group, or no IPv6 on the port */
	b[5] = 0x03;
	assert_int_equal(pkt_l2_check(b, &pi, &f, 0, 0), MMR_DROP_DST_MAC);
	b[5] = 0x02;
	b[14 + 24 + 15] = 0x03;
	memcpy(b, (const uint8_t[]){ 0x33, 0x33, 0xff, 0, 0, 3 }, 6);
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NONE);
	assert_int_equal(pkt_l2_check(b, &pi, &f, 0, 0), MMR_DROP_DST_MAC);
	b[14 + 24 + 15] = 0x02;
	b[5] = 0x02;
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NONE);
	f.has_ipv6 = 0;
	assert_int_equal(pkt_l2_check(b, &pi, &f, 0, 0), MMR_DROP_DST_MAC);
	f.has_ipv6 = 1;
	/* NS to all-nodes ff02::1 on 33:33:00:00:00:01: accepted; echo to all-nodes: refused */
	static const uint8_t alln[16] = { 0xff, 0x02, [15] = 1 };
	memcpy(b + 14 + 24, alln, 16);
	memcpy(b, (const uint8_t[]){ 0x33, 0x33, 0, 0, 0, 1 }, 6);
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NONE);
	assert_int_equal(pkt_l2_check(b, &pi, &f, 0, 0), MMR_DROP_NONE);
	/* an unsolicited NA (a neighbour announcing a new MAC) to all-nodes: accepted (the neighbour
	 * table takes it); the same NA to our solicited-node group: refused */
	b[14 + 40] = 136;
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NONE);
	assert_int_equal(pi.kind, PKT_ICMP6_NA);
	assert_int_equal(pkt_l2_check(b, &pi, &f, 0, 0), MMR_DROP_NONE);
	memcpy(b + 14 + 24, sol, 16);
	memcpy(b, (const uint8_t[]){ 0x33, 0x33, 0xff, 0, 0, 2 }, 6);
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NONE);
	assert_int_equal(pkt_l2_check(b, &pi, &f, 0, 0), MMR_DROP_DST_MAC);
	len = build(T_ICMP6_ECHO, b);
	memcpy(b + 14 + 24, alln, 16);
	memcpy(b, (const uint8_t[]){ 0x33, 0x33, 0, 0, 0, 1 }, 6);
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NONE);
	assert_int_equal(pkt_l2_check(b, &pi, &f, 0, 0), MMR_DROP_DST_MAC);

	/* VLAN on a port without one: a tag (VLAN 100) refused, a priority tag (VLAN 0) accepted */
	len = build(T_UDP4_VLAN, b);
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NONE);
	assert_int_equal(pkt_l2_check(b, &pi, &f, 0, 0), MMR_DROP_VLAN);
	wr16(b + 14, 0xe000);
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NONE);
	assert_int_equal(pkt_l2_check(b, &pi, &f, 0, 0), MMR_DROP_NONE);
	/* the port on VLAN 100: its tag accepted (priority bits ignored), another VLAN, no tag, two
	 * tags refused; the NIC's stripped tag counts as the tag */
	f.vlan = 100;
	wr16(b + 14, 0x2000 | 100);
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NONE);
	assert_int_equal(pkt_l2_check(b, &pi, &f, 0, 0), MMR_DROP_NONE);
	wr16(b + 14, 0x2000 | 101);
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NONE);
	assert_int_equal(pkt_l2_check(b, &pi, &f, 0, 0), MMR_DROP_VLAN);
	wr16(b + 14, 0x2000 | 100);
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NONE);
	assert_int_equal(pkt_l2_check(b, &pi, &f, 1, 100), MMR_DROP_VLAN);   /* a second tag */
	len = build(T_UDP4, b);
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NONE);
	assert_int_equal(pkt_l2_check(b, &pi, &f, 0, 0), MMR_DROP_VLAN);
	assert_int_equal(pkt_l2_check(b, &pi, &f, 1, 0x3000 | 100), MMR_DROP_NONE);
	assert_int_equal(pkt_l2_check(b, &pi, &f, 1, 99), MMR_DROP_VLAN);
	len = build(T_UDP4_QINQ, b);
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NONE);
	assert_int_equal(pi.vlan_tci & 0xfff, 100);
	assert_int_equal(pkt_l2_check(b, &pi, &f, 0, 0), MMR_DROP_VLAN);
	/* the VLAN is checked before the MAC: a frame of another VLAN counts as vlan */
	len = build(T_UDP4_VLAN, b);
	wr16(b + 14, 7);
	memcpy(b, bcast, 6);
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NONE);
	assert_int_equal(pkt_l2_check(b, &pi, &f, 0, 0), MMR_DROP_VLAN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp4_fields),
		cmocka_unit_test(test_vlan_and_qinq),
		cmocka_unit_test(test_three_tags_refused),
		cmocka_unit_test(test_unknown_ethertype),
		cmocka_unit_test(test_ipv4_options),
		cmocka_unit_test(test_ipv4_bad_header),
		cmocka_unit_test(test_ipv4_fragments),
		cmocka_unit_test(test_ethernet_padding),
		cmocka_unit_test(test_udp_lengths),
		cmocka_unit_test(test_udp6_fields),
		cmocka_unit_test(test_ipv6_refusals),
		cmocka_unit_test(test_arp),
		cmocka_unit_test(test_icmp4),
		cmocka_unit_test(test_icmp6),
		cmocka_unit_test(test_checksum_helpers),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_oversized_lengths),
		cmocka_unit_test(test_random_garbage),
		cmocka_unit_test(test_udp_checksum),
		cmocka_unit_test(test_l2_check),
	};

	return cmocka_run_group_tests_name("pkt", tests, NULL, NULL);
}
