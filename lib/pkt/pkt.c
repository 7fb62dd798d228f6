/*
 * pkt.c - the frame parser of pkt.h: Ethernet II with up to two VLAN tags (0x8100 / 0x88a8), then
 * ARP, IPv4 or IPv6, then UDP, ICMP echo request, ICMPv6 echo request or neighbour solicitation or
 * advertisement.
 *
 * Every read is bounds-checked against the frame length first; fields are read byte by byte so the
 * buffer needs no alignment. The result is either MMR_DROP_NONE with *pi filled, or the reason the
 * dataplane counts the frame under. Verdicts, in the order they are checked:
 *   TRUNCATED  the frame ends before a header (or before what a length field promises);
 *   BAD_L2     an EtherType we do not carry, a third VLAN tag, an ARP that is not IPv4-over-Ethernet;
 *   BAD_IP     IPv4 version/IHL/total length/header checksum wrong, any fragment (MF or offset, and
 *              an IPv6 fragment header), IPv4 options (IHL > 5), IPv6 version wrong;
 *   NOT_UDP    another protocol, ICMP other than echo request / NS / NA, IPv6 extension headers;
 *   BAD_UDP    UDP length below 8 or beyond the IP payload.
 * The UDP checksum and the frame's destination MAC and VLAN are checked apart (pkt_udp_csum_verdict,
 * pkt_l2_check): only for frames the dataplane is going to use, against its port's settings.
 */
#include "pkt.h"

#include <string.h>
#include "be_bytes.h"

#define ETH_HLEN        14
#define VLAN_HLEN       4
#define ETYPE_IPV4      0x0800
#define ETYPE_ARP       0x0806
#define ETYPE_VLAN      0x8100
#define ETYPE_QINQ      0x88a8
#define ETYPE_IPV6      0x86dd

#define IPV4_MIN_HLEN   20
#define IPV6_HLEN       40
#define UDP_HLEN        8
#define ICMP_HLEN       8     /* type, code, checksum, 4 bytes (echo id/seq, NS reserved) */
#define ARP_LEN         28    /* IPv4 over Ethernet */
#define ND_NS_LEN       24    /* ICMPv6 header (8) + target address (16) */

#define IPPROTO_ICMP_   1
#define IPPROTO_UDP_    17
#define IPPROTO_FRAG6_  44
#define IPPROTO_ICMPV6_ 58

#define ICMP_ECHO_REQUEST   8
#define ICMP6_ECHO_REQUEST  128
#define ICMP6_NEIGH_SOLICIT 135
#define ICMP6_NEIGH_ADVERT  136

uint32_t pkt_raw_sum(const void *buf, uint32_t len, uint32_t sum)
{
	const uint8_t *p = buf;
	uint64_t s = sum;
	uint32_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += get_be16(p + i);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 32)
		s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)s;
}

uint16_t pkt_fold_sum(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* UDP header at l4 (inside an IP payload of ip_payload_len bytes). */
static enum mmr_drop_reason parse_udp(const uint8_t *buf, uint32_t l4, uint32_t ip_payload_len,
				      struct pkt_info *pi)
{
	uint16_t ulen;

	if (ip_payload_len < UDP_HLEN)
		return MMR_DROP_TRUNCATED;
	ulen = get_be16(buf + l4 + 4);
	if (ulen < UDP_HLEN || ulen > ip_payload_len)
		return MMR_DROP_BAD_UDP;
	pi->kind = PKT_UDP;
	pi->l4_off = (uint16_t)l4;
	pi->sport = get_be16(buf + l4);
	pi->dport = get_be16(buf + l4 + 2);
	pi->payload_off = (uint16_t)(l4 + UDP_HLEN);
	pi->payload_len = (uint16_t)(ulen - UDP_HLEN);
	return MMR_DROP_NONE;
}

static enum mmr_drop_reason parse_arp(const uint8_t *buf, uint32_t len, uint32_t l3,
				      struct pkt_info *pi)
{
	const uint8_t *a = buf + l3;

	if (len - l3 < ARP_LEN)
		return MMR_DROP_TRUNCATED;
	/* htype Ethernet, ptype IPv4, hlen 6, plen 4 */
	if (get_be16(a) != 1 || get_be16(a + 2) != ETYPE_IPV4 || a[4] != 6 || a[5] != 4)
		return MMR_DROP_BAD_L2;
	pi->arp_op = get_be16(a + 6);
	if (pi->arp_op != 1 && pi->arp_op != 2)
		return MMR_DROP_BAD_L2;
	pi->kind = PKT_ARP;
	pi->ip_version = 0;
	memcpy(pi->arp_sha, a + 8, 6);
	pi->arp_spa.family = MMR_AF_INET;
	memcpy(pi->arp_spa.ip, a + 14, 4);
	pi->arp_tpa.family = MMR_AF_INET;
	memcpy(pi->arp_tpa.ip, a + 24, 4);
	return MMR_DROP_NONE;
}

static enum mmr_drop_reason parse_ipv4(const uint8_t *buf, uint32_t len, uint32_t l3,
				       struct pkt_info *pi)
{
	const uint8_t *ip = buf + l3;
	uint32_t avail = len - l3, hlen, tot;
	uint16_t frag;

	if (avail < IPV4_MIN_HLEN)
		return MMR_DROP_TRUNCATED;
	if ((ip[0] >> 4) != 4)
		return MMR_DROP_BAD_IP;
	hlen = (uint32_t)(ip[0] & 0x0f) * 4;
	if (hlen < IPV4_MIN_HLEN)
		return MMR_DROP_BAD_IP;
	if (avail < hlen)
		return MMR_DROP_TRUNCATED;
	tot = get_be16(ip + 2);
	if (tot < hlen)
		return MMR_DROP_BAD_IP;
	if (tot > avail)
		return MMR_DROP_TRUNCATED;
	/* A correct header sums (with its checksum field) to 0xffff: folds to 0. */
	if (pkt_fold_sum(pkt_raw_sum(ip, hlen, 0)) != 0)
		return MMR_DROP_BAD_IP;
	frag = get_be16(ip + 6);
	if (frag & 0x3fff)              /* MF flag or a fragment offset */
		return MMR_DROP_BAD_IP;
	if (hlen > IPV4_MIN_HLEN)       /* options (IHL > 5): media never needs them; refused */
		return MMR_DROP_BAD_IP;

	pi->ip_version = 4;
	pi->ttl = ip[8];
	pi->src.family = MMR_AF_INET;
	memcpy(pi->src.ip, ip + 12, 4);
	pi->dst.family = MMR_AF_INET;
	memcpy(pi->dst.ip, ip + 16, 4);

	uint32_t l4 = l3 + hlen, plen = tot - hlen;

	switch (ip[9]) {
	case IPPROTO_UDP_:
		return parse_udp(buf, l4, plen, pi);
	case IPPROTO_ICMP_:
		if (plen < ICMP_HLEN)
			return MMR_DROP_TRUNCATED;
		if (buf[l4] != ICMP_ECHO_REQUEST)
			return MMR_DROP_NOT_UDP;
		pi->kind = PKT_ICMP_ECHO;
		pi->l4_off = (uint16_t)l4;
		return MMR_DROP_NONE;
	default:
		return MMR_DROP_NOT_UDP;
	}
}

/*
 * IPv6: only UDP or ICMPv6 directly after the fixed header. Extension headers (hop-by-hop, routing,
 * destination options, ...) are not walked: such packets are counted as NOT_UDP, which media never
 * needs. The fragment header is the exception, refused as BAD_IP like IPv4 fragments.
 */
static enum mmr_drop_reason parse_ipv6(const uint8_t *buf, uint32_t len, uint32_t l3,
				       struct pkt_info *pi)
{
	const uint8_t *ip = buf + l3;
	uint32_t avail = len - l3, plen, l4;

	if (avail < IPV6_HLEN)
		return MMR_DROP_TRUNCATED;
	if ((ip[0] >> 4) != 6)
		return MMR_DROP_BAD_IP;
	plen = get_be16(ip + 4);
	if (plen > avail - IPV6_HLEN)
		return MMR_DROP_TRUNCATED;

	pi->ip_version = 6;
	pi->ttl = ip[7];
	pi->src.family = MMR_AF_INET6;
	memcpy(pi->src.ip, ip + 8, 16);
	pi->dst.family = MMR_AF_INET6;
	memcpy(pi->dst.ip, ip + 24, 16);
	l4 = l3 + IPV6_HLEN;

	switch (ip[6]) {
	case IPPROTO_UDP_:
		return parse_udp(buf, l4, plen, pi);
	case IPPROTO_ICMPV6_:
		if (plen < ICMP_HLEN)
			return MMR_DROP_TRUNCATED;
		pi->l4_off = (uint16_t)l4;
		if (buf[l4] == ICMP6_ECHO_REQUEST) {
			pi->kind = PKT_ICMP_ECHO;
			return MMR_DROP_NONE;
		}
		if (buf[l4] == ICMP6_NEIGH_SOLICIT) {
			if (plen < ND_NS_LEN)
				return MMR_DROP_TRUNCATED;
			/* RFC 4861 7.1.1: hop limit 255 (not forwarded by a router) and code 0. */
			if (ip[7] != 255 || buf[l4 + 1] != 0)
				return MMR_DROP_NOT_UDP;
			pi->kind = PKT_ICMP6_NS;
			pi->nd_target.family = MMR_AF_INET6;
			memcpy(pi->nd_target.ip, buf + l4 + 8, 16);
			return MMR_DROP_NONE;
		}
		if (buf[l4] == ICMP6_NEIGH_ADVERT) {
			if (plen < ND_NS_LEN)
				return MMR_DROP_TRUNCATED;
			if (ip[7] != 255 || buf[l4 + 1] != 0)
				return MMR_DROP_NOT_UDP;
			pi->kind = PKT_ICMP6_NA;
			pi->nd_flags = buf[l4 + 4];
			pi->nd_target.family = MMR_AF_INET6;
			memcpy(pi->nd_target.ip, buf + l4 + 8, 16);
			/* options (RFC 4861 4.6): type, length in units of 8 bytes (0: malformed) */
			for (uint32_t o = ND_NS_LEN; o + 2 <= plen;) {
				uint32_t olen = (uint32_t)buf[l4 + o + 1] * 8u;
				if (olen == 0 || o + olen > plen)
					return MMR_DROP_TRUNCATED;
				if (buf[l4 + o] == 2 && olen == 8) {     /* target link-layer address */
					memcpy(pi->arp_sha, buf + l4 + o + 2, 6);
					pi->nd_has_lla = 1;
				}
				o += olen;
			}
			return MMR_DROP_NONE;
		}
		return MMR_DROP_NOT_UDP;
	case IPPROTO_FRAG6_:
		return MMR_DROP_BAD_IP;
	default:
		return MMR_DROP_NOT_UDP;
	}
}

enum mmr_drop_reason pkt_parse(const uint8_t *buf, uint32_t len, struct pkt_info *pi)
{
	uint32_t off = ETH_HLEN;
	uint16_t etype;

	memset(pi, 0, sizeof(*pi));
	if (len < ETH_HLEN)
		return MMR_DROP_TRUNCATED;
	etype = get_be16(buf + 12);
	while (etype == ETYPE_VLAN || etype == ETYPE_QINQ) {
		if (pi->n_vlans == 2)
			return MMR_DROP_BAD_L2;
		if (len - off < VLAN_HLEN)
			return MMR_DROP_TRUNCATED;
		if (pi->n_vlans == 0)
			pi->vlan_tci = get_be16(buf + off);
		pi->n_vlans++;
		etype = get_be16(buf + off + 2);
		off += VLAN_HLEN;
	}
	pi->l3_off = (uint16_t)off;

	switch (etype) {
	case ETYPE_IPV4:
		return parse_ipv4(buf, len, off, pi);
	case ETYPE_IPV6:
		return parse_ipv6(buf, len, off, pi);
	case ETYPE_ARP:
		return parse_arp(buf, len, off, pi);
	default:
		return MMR_DROP_BAD_L2;
	}
}

enum mmr_drop_reason pkt_udp_csum_verdict(const uint8_t *buf, const struct pkt_info *pi, uint32_t seg_sum)
{
	const uint8_t *udp = buf + pi->l4_off;
	uint32_t ulen = (uint32_t)pi->payload_len + UDP_HLEN;
	unsigned alen = pi->ip_version == 4 ? 4 : 16;

	if (udp[6] == 0 && udp[7] == 0)
		return pi->ip_version == 4 ? MMR_DROP_NONE : MMR_DROP_UDP_CHECKSUM;
	/* pseudo header: addresses, protocol, UDP length (one 16-bit word for both families: < 65536) */
	uint32_t sum = pkt_raw_sum(pi->src.ip, alen, 0);
	sum = pkt_raw_sum(pi->dst.ip, alen, sum);
	sum += IPPROTO_UDP_ + ulen + (seg_sum & 0xffff) + (seg_sum >> 16);
	/* a correct segment sums, with its checksum field, to 0xffff: folds to 0 */
	return pkt_fold_sum(sum) == 0 ? MMR_DROP_NONE : MMR_DROP_UDP_CHECKSUM;
}

enum mmr_drop_reason pkt_udp_csum_check(const uint8_t *buf, const struct pkt_info *pi)
{
	return pkt_udp_csum_verdict(buf, pi, pkt_raw_sum(buf + pi->l4_off, (uint32_t)pi->payload_len + UDP_HLEN, 0));
}

/* An IPv6 neighbour solicitation to all-nodes or to our solicited-node group, or an unsolicited
 * neighbour advertisement to all-nodes (a neighbour announcing a new MAC, RFC 4861 7.2.6), on the MAC
 * that goes with that address (33:33 and its last four bytes, RFC 2464 7). */
static int nd_multicast_ok(const uint8_t *dmac, const struct pkt_info *pi, const struct pkt_l2_filter *f)
{
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
	static const uint8_t sol_prefix[13] = { 0xff, 0x02, [11] = 1, [12] = 0xff };
	const uint8_t *ip = pi->dst.ip;

	if ((pi->kind != PKT_ICMP6_NS && pi->kind != PKT_ICMP6_NA) || memcmp(dmac + 2, ip + 12, 4) != 0)
		return 0;
	if (memcmp(ip, all_nodes, 16) == 0)
		return 1;
	return pi->kind == PKT_ICMP6_NS && f->has_ipv6 && memcmp(ip, sol_prefix, 13) == 0 && memcmp(ip + 13, f->ipv6 + 13, 3) == 0;
}

enum mmr_drop_reason pkt_l2_check(const uint8_t *buf, const struct pkt_info *pi, const struct pkt_l2_filter *f,
				  int vlan_stripped, uint16_t stripped_tci)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	unsigned tags = pi->n_vlans + (vlan_stripped ? 1u : 0u);
	uint16_t vid = (uint16_t)((vlan_stripped ? stripped_tci : pi->vlan_tci) & 0x0fff);

	if (tags > 1)
		return MMR_DROP_VLAN;
	if (f->vlan ? (tags == 0 || vid != f->vlan) : (tags == 1 && vid != 0))
		return MMR_DROP_VLAN;
	if (memcmp(buf, f->mac, 6) == 0)
		return MMR_DROP_NONE;
	if (!(buf[0] & 1))                           /* unicast, someone else's */
		return MMR_DROP_DST_MAC;
	if (memcmp(buf, bcast, 6) == 0)
		return pi->kind == PKT_ARP ? MMR_DROP_NONE : MMR_DROP_DST_MAC;
	if (buf[0] == 0x33 && buf[1] == 0x33 && nd_multicast_ok(buf, pi, f))
		return MMR_DROP_NONE;
	return MMR_DROP_DST_MAC;
}
