/*
 * pkt.h - parse Ethernet (with one or two VLAN tags), ARP, IPv4, IPv6, ICMP/ICMPv6 echo and UDP
 * from a contiguous frame. Pure C over a byte buffer (no DPDK), so it is unit-tested and fuzzed
 * directly. Never reads outside [buf, buf+len).
 */
#ifndef MMR_PKT_H
#define MMR_PKT_H

#include <stdint.h>
#include "mmr_types.h"
#include "drop_reason.h"

enum pkt_kind {
	PKT_UDP = 1,       /* IPv4/IPv6 UDP: src/dst/sport/dport/l4_off/payload_* filled */
	PKT_ARP,           /* Ethernet ARP, IPv4 over Ethernet: arp_* filled */
	PKT_ICMP_ECHO,     /* ICMP echo request (v4) or ICMPv6 echo request: l4_off filled */
	PKT_ICMP6_NS,      /* ICMPv6 neighbour solicitation: l4_off, target in nd_target */
	PKT_ICMP6_NA,      /* ICMPv6 neighbour advertisement: l4_off, target in nd_target, its
			      target link-layer address option (if any) in arp_sha / nd_has_lla */
};

struct pkt_info {
	uint8_t  kind;          /* enum pkt_kind */
	uint8_t  ip_version;    /* 4 or 6 (0 for ARP) */
	uint8_t  n_vlans;       /* 0, 1 or 2 */
	uint8_t  ttl;           /* IPv4 TTL / IPv6 hop limit */
	uint16_t vlan_tci;      /* outer tag's TCI, host order (valid when n_vlans > 0) */
	uint16_t l3_off;        /* offset of the IP (or ARP) header */
	uint16_t l4_off;        /* offset of the UDP/ICMP header */
	uint16_t payload_off;   /* offset of the UDP payload */
	uint16_t payload_len;   /* UDP payload length (from the UDP header, checked against the frame) */
	uint16_t sport, dport;  /* host byte order */
	struct mmr_addr src, dst;
	/* ARP: opcode (host order), sender/target protocol addresses, sender MAC */
	uint16_t arp_op;
	uint8_t  arp_sha[6];
	struct mmr_addr arp_spa, arp_tpa;
	struct mmr_addr nd_target; /* ICMPv6 NS / NA target */
	uint8_t  nd_has_lla;       /* NA: a target link-layer address option (the MAC in arp_sha) */
	uint8_t  nd_flags;         /* NA: the R/S/O flags byte */
};

/*
 * Parse one frame. Returns MMR_DROP_NONE (0) and fills *pi, or the drop reason:
 * MMR_DROP_TRUNCATED (the frame ends before a header, or before the IPv4 total length / IPv6
 * payload length / ICMP or UDP header it announces), MMR_DROP_BAD_L2 (EtherType not IPv4/IPv6/ARP,
 * a third VLAN tag, ARP that is not IPv4-over-Ethernet request/reply), MMR_DROP_BAD_IP (bad
 * version, IHL < 5, total length < IHL, IPv4 header checksum, fragments: MF, offset, or an IPv6
 * fragment header, IPv4 options: IHL > 5), MMR_DROP_NOT_UDP (any other protocol; IPv6 extension
 * headers, which are not walked; ICMP other than echo request / NS / NA; an NS or NA with hop limit != 255 or
 * code != 0, RFC 4861),
 * MMR_DROP_BAD_UDP (UDP length < 8 or beyond the IP payload). The UDP checksum (pkt_udp_csum_*) and
 * the destination MAC and VLAN (pkt_l2_check) are the caller's, for frames it is going to use.
 * Trailing bytes after the IP packet (Ethernet padding) are allowed and ignored. On a drop, *pi
 * holds whatever was parsed before the fault.
 */
enum mmr_drop_reason pkt_parse(const uint8_t *buf, uint32_t len, struct pkt_info *pi);

/* Internet checksum helpers (RFC 1071). raw_sum adds 16-bit big-endian words of a buffer to sum
 * (an odd trailing byte is padded with zero); fold reduces to 16 bits and complements. */
uint32_t pkt_raw_sum(const void *buf, uint32_t len, uint32_t sum);
uint16_t pkt_fold_sum(uint32_t sum);

/*
 * The UDP checksum of a parsed PKT_UDP frame, given seg_sum: the folded (or not) sum of big-endian
 * 16-bit words of its UDP segment, header included (8 + payload_len bytes from l4_off; pkt_raw_sum,
 * or the dataplane's faster csum_be16_bulk). MMR_DROP_NONE, or MMR_DROP_UDP_CHECKSUM when the sum with
 * the pseudo header is wrong, or for IPv6 when the field is 0 (RFC 8200 8.1); IPv4 field 0 means
 * "no checksum" (RFC 768) and passes. pkt_udp_csum_check sums the segment itself (tests, fuzzing).
 */
enum mmr_drop_reason pkt_udp_csum_verdict(const uint8_t *buf, const struct pkt_info *pi, uint32_t seg_sum);
enum mmr_drop_reason pkt_udp_csum_check(const uint8_t *buf, const struct pkt_info *pi);

/* What a port accepts at layer 2 (pkt_l2_check). */
struct pkt_l2_filter {
	uint8_t  mac[6];          /* the port's MAC */
	uint16_t vlan;            /* 0: untagged frames only (a priority tag, VLAN id 0, counts as
				     untagged); 1..4094: frames tagged with this VLAN only */
	uint8_t  has_ipv6;
	uint8_t  ipv6[16];        /* our IPv6 address: its solicited-node group is accepted for ND */
};

/*
 * The destination MAC and VLAN of a parsed frame against the port's filter (the caller's frame,
 * after pkt_parse returned MMR_DROP_NONE). vlan_stripped: the NIC removed the outer tag into
 * stripped_tci (then pi->n_vlans does not count it). MMR_DROP_NONE, or
 *   MMR_DROP_VLAN     two tags, a tag on a port without `vlan` (VLAN id != 0), no tag or another
 *                     VLAN on a port with one;
 *   MMR_DROP_DST_MAC  a unicast MAC not the port's; broadcast, unless ARP; multicast, unless an
 *                     IPv6 neighbour solicitation to all-nodes (ff02::1) or our solicited-node group
 *                     (ff02::1:ffXX:XXXX), or a neighbour advertisement to all-nodes, with the
 *                     matching 33:33:... MAC.
 */
enum mmr_drop_reason pkt_l2_check(const uint8_t *buf, const struct pkt_info *pi, const struct pkt_l2_filter *f,
				  int vlan_stripped, uint16_t stripped_tci);

#endif
