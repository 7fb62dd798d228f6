/*
 * neigh_pkt.h - the frames of neighbour resolution the dataplane sends itself (dataplane/neigh.c):
 * an ARP request (RFC 826) and an ICMPv6 neighbour solicitation (RFC 4861 4.3, with our
 * source link-layer address option) to a target's solicited-node multicast address, or unicast to
 * a known MAC. Pure C over a byte buffer (no DPDK); what comes back is parsed by pkt_parse (PKT_ARP,
 * PKT_ICMP6_NA).
 */
#ifndef MMR_NEIGH_PKT_H
#define MMR_NEIGH_PKT_H

#include <stdint.h>

#define NEIGH_ARP_FRAME_LEN 60u    /* 14 + 28, padded to Ethernet's minimum (without FCS) */
#define NEIGH_NS_FRAME_LEN  86u    /* 14 + 40 + 24 + 8 (source link-layer address option) */

/* ARP request "who has tpa? tell spa (at sha)" into buf (NEIGH_ARP_FRAME_LEN bytes), to dst_mac
 * (NULL: broadcast). Returns the frame length. */
uint32_t neigh_build_arp_request(uint8_t *buf, const uint8_t sha[6], const uint8_t spa[4], const uint8_t tpa[4],
				 const uint8_t *dst_mac);
/* Neighbour solicitation for target from src (our address, sha our MAC) into buf
 * (NEIGH_NS_FRAME_LEN bytes): to target's solicited-node multicast address (ff02::1:ffXX:XXXX,
 * MAC 33:33:ff:XX:XX:XX), or with dst_mac to target itself at that MAC. Returns the frame length. */
uint32_t neigh_build_ns(uint8_t *buf, const uint8_t sha[6], const uint8_t src[16], const uint8_t target[16],
			const uint8_t *dst_mac);
/* The solicited-node multicast address of a (RFC 4291 2.7.1) and its MAC (RFC 2464 7). */
void neigh_solicited_node(const uint8_t a[16], uint8_t out[16], uint8_t mac[6]);

#endif
