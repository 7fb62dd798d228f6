/*
 * neigh_pkt.c - ARP requests and neighbour solicitations (see neigh_pkt.h).
 */
#include "neigh_pkt.h"

#include <string.h>
#include "be_bytes.h"
#include "pkt.h"

void neigh_solicited_node(const uint8_t a[16], uint8_t out[16], uint8_t mac[6])
{
	static const uint8_t prefix[13] = { 0xff, 0x02, [11] = 0x01, [12] = 0xff };
	memcpy(out, prefix, 13);
	memcpy(out + 13, a + 13, 3);
	mac[0] = mac[1] = 0x33;
	memcpy(mac + 2, out + 12, 4);
}

uint32_t neigh_build_arp_request(uint8_t *buf, const uint8_t sha[6], const uint8_t spa[4], const uint8_t tpa[4],
				 const uint8_t *dst_mac)
{
	memset(buf, 0, NEIGH_ARP_FRAME_LEN);
	if (dst_mac)
		memcpy(buf, dst_mac, 6);
	else
		memset(buf, 0xff, 6);
	memcpy(buf + 6, sha, 6);
	put_be16(buf + 12, 0x0806);
	uint8_t *a = buf + 14;
	put_be16(a, 1);               /* Ethernet */
	put_be16(a + 2, 0x0800);      /* IPv4 */
	a[4] = 6;
	a[5] = 4;
	put_be16(a + 6, 1);           /* request */
	memcpy(a + 8, sha, 6);
	memcpy(a + 14, spa, 4);
	/* tha stays 0 */
	memcpy(a + 24, tpa, 4);
	return NEIGH_ARP_FRAME_LEN;
}

uint32_t neigh_build_ns(uint8_t *buf, const uint8_t sha[6], const uint8_t src[16], const uint8_t target[16],
			const uint8_t *dst_mac)
{
	uint8_t dst[16], mmac[6];
	neigh_solicited_node(target, dst, mmac);
	if (dst_mac)
		memcpy(dst, target, 16);
	memset(buf, 0, NEIGH_NS_FRAME_LEN);
	memcpy(buf, dst_mac ? dst_mac : mmac, 6);
	memcpy(buf + 6, sha, 6);
	put_be16(buf + 12, 0x86dd);
	uint8_t *ip = buf + 14, *icmp = ip + 40;
	ip[0] = 0x60;
	put_be16(ip + 4, 32);
	ip[6] = 58;                   /* ICMPv6 */
	ip[7] = 255;                  /* hop limit RFC 4861 requires */
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	icmp[0] = 135;                /* neighbour solicitation, code 0, reserved 0 */
	memcpy(icmp + 8, target, 16);
	icmp[24] = 1;                 /* option: source link-layer address, 1 x 8 bytes */
	icmp[25] = 1;
	memcpy(icmp + 26, sha, 6);
	uint32_t sum = pkt_raw_sum(ip + 8, 32, 0) + 32u + 58u;
	put_be16(icmp + 2, pkt_fold_sum(pkt_raw_sum(icmp, 32, sum)));
	return NEIGH_NS_FRAME_LEN;
}
