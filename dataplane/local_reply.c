/*
 * local_reply.c - ARP, ICMP echo and IPv6 neighbour advertisement replies, built in place in the
 * request's mbuf (see local_reply.h). pkt_parse() has already checked every length used here.
 */
#include "local_reply.h"

#include <string.h>
#include <rte_byteorder.h>
#include "be_bytes.h"

#define ETH_ADDR_LEN 6
#define IP6_HDR_LEN 40
#define ICMP6_NA_LEN 32      /* type, code, checksum, flags, target, target link-layer option */
#define IPPROTO_ICMPV6_NUM 58

/* Destination MAC <- source MAC, source MAC <- ours. */
static void eth_reply(uint8_t *frame, const struct dp_port *pt)
{
	memcpy(frame, frame + ETH_ADDR_LEN, ETH_ADDR_LEN);
	memcpy(frame + ETH_ADDR_LEN, pt->mac, ETH_ADDR_LEN);
}

static uint16_t icmp6_checksum(const uint8_t *ip6, const uint8_t *icmp, uint32_t len)
{
	uint32_t sum = pkt_raw_sum(ip6 + 8, 32, 0);    /* source and destination addresses */
	sum += len + IPPROTO_ICMPV6_NUM;
	sum = pkt_raw_sum(icmp, len, sum);
	return pkt_fold_sum(sum);
}

enum mmr_drop_reason local_reply_arp(const struct dp_port *pt, struct rte_mbuf *m,
				     const struct pkt_info *pi)
{
	if (pi->arp_op != 1 || !dp_port_owns(pt, &pi->arp_tpa))
		return MMR_DROP_ARP_OTHER;
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t *arp = f + pi->l3_off;
	/* htype(2) ptype(2) hlen(1) plen(1) op(2) sha(6) spa(4) tha(6) tpa(4) */
	eth_reply(f, pt);
	put_be16(arp + 6, 2);
	memcpy(arp + 18, pi->arp_sha, ETH_ADDR_LEN);      /* tha <- requester */
	memcpy(arp + 24, pi->arp_spa.ip, 4);              /* tpa <- requester */
	memcpy(arp + 8, pt->mac, ETH_ADDR_LEN);           /* sha <- us */
	memcpy(arp + 14, pt->ipv4.ip, 4);                 /* spa <- us */
	return MMR_DROP_NONE;
}

enum mmr_drop_reason local_reply_echo(const struct dp_port *pt, struct rte_mbuf *m,
				      const struct pkt_info *pi)
{
	if (!dp_port_owns(pt, &pi->dst))
		return MMR_DROP_NOT_FOR_US;
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t *ip = f + pi->l3_off;
	uint8_t *icmp = f + pi->l4_off;
	uint8_t tmp[16];

	eth_reply(f, pt);
	if (pi->ip_version == 4) {
		uint32_t ihl = (uint32_t)(ip[0] & 0x0f) * 4;
		uint32_t len = get_be16(ip + 2) - ihl;
		memcpy(tmp, ip + 12, 4);
		memcpy(ip + 12, ip + 16, 4);
		memcpy(ip + 16, tmp, 4);
		ip[8] = 64;                                   /* TTL */
		put_be16(ip + 10, 0);
		put_be16(ip + 10, pkt_fold_sum(pkt_raw_sum(ip, ihl, 0)));
		icmp[0] = 0;                                  /* echo reply */
		put_be16(icmp + 2, 0);
		put_be16(icmp + 2, pkt_fold_sum(pkt_raw_sum(icmp, len, 0)));
	} else {
		uint32_t len = get_be16(ip + 4);
		memcpy(tmp, ip + 8, 16);
		memcpy(ip + 8, ip + 24, 16);
		memcpy(ip + 24, tmp, 16);
		ip[7] = 64;                                   /* hop limit */
		icmp[0] = 129;                                /* echo reply */
		put_be16(icmp + 2, 0);
		put_be16(icmp + 2, icmp6_checksum(ip, icmp, len));
	}
	return MMR_DROP_NONE;
}

enum mmr_drop_reason local_reply_ns(const struct dp_port *pt, struct rte_mbuf *m,
				    const struct pkt_info *pi)
{
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
	static const uint8_t all_nodes_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };

	if (!dp_port_owns(pt, &pi->nd_target))
		return MMR_DROP_NOT_FOR_US;
	uint32_t want = (uint32_t)pi->l4_off + ICMP6_NA_LEN;
	if (m->data_len < want) {
		if (!rte_pktmbuf_append(m, (uint16_t)(want - m->data_len)))
			return MMR_DROP_TRUNCATED;
	} else if (m->data_len > want) {
		rte_pktmbuf_trim(m, (uint16_t)(m->data_len - want));
	}
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t *ip = f + pi->l3_off;
	uint8_t *icmp = f + pi->l4_off;
	static const uint8_t unspecified[16];
	int dad = memcmp(ip + 8, unspecified, 16) == 0;   /* solicitation from "::": duplicate address detection */

	if (dad) {
		memcpy(f, all_nodes_mac, ETH_ADDR_LEN);
		memcpy(f + ETH_ADDR_LEN, pt->mac, ETH_ADDR_LEN);
		memcpy(ip + 24, all_nodes, 16);
	} else {
		eth_reply(f, pt);
		memcpy(ip + 24, ip + 8, 16);                 /* to the solicitor */
	}
	memcpy(ip + 8, pt->ipv6.ip, 16);
	put_be16(ip + 4, ICMP6_NA_LEN);
	ip[6] = IPPROTO_ICMPV6_NUM;
	ip[7] = 255;                                     /* required hop limit for ND */
	icmp[0] = 136;                                   /* neighbour advertisement */
	icmp[1] = 0;
	put_be16(icmp + 2, 0);
	icmp[4] = dad ? 0x20 : 0x60;                     /* Solicited (unless DAD), Override */
	icmp[5] = icmp[6] = icmp[7] = 0;
	memcpy(icmp + 8, pt->ipv6.ip, 16);               /* target */
	icmp[24] = 2;                                    /* option: target link-layer address */
	icmp[25] = 1;
	memcpy(icmp + 26, pt->mac, ETH_ADDR_LEN);
	put_be16(icmp + 2, icmp6_checksum(ip, icmp, ICMP6_NA_LEN));
	return MMR_DROP_NONE;
}

enum mmr_drop_reason local_reply_udp(const struct dp_port *pt, struct rte_mbuf *m, const struct pkt_info *pi,
					   const uint8_t *ans, uint32_t n)
{
	uint32_t want = (uint32_t)pi->payload_off + n;
	if (m->data_len < want) {
		if (!rte_pktmbuf_append(m, (uint16_t)(want - m->data_len)))
			return MMR_DROP_NO_MBUF;
	} else if (m->data_len > want) {
		rte_pktmbuf_trim(m, (uint16_t)(m->data_len - want));
	}
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t *ip = f + pi->l3_off, *udp = f + pi->l4_off;
	uint8_t tmp[16];
	memcpy(f, f + 6, 6);
	memcpy(f + 6, pt->mac, 6);
	memcpy(f + pi->payload_off, ans, n);
	uint32_t udp_len = 8 + n, sum;
	if (pi->ip_version == 4) {
		uint32_t ihl = (uint32_t)(ip[0] & 0x0f) * 4;
		memcpy(tmp, ip + 12, 4);
		memcpy(ip + 12, ip + 16, 4);
		memcpy(ip + 16, tmp, 4);
		put_be16(ip + 2, (uint16_t)(ihl + udp_len));
		ip[8] = 64;
		put_be16(ip + 10, 0);
		put_be16(ip + 10, pkt_fold_sum(pkt_raw_sum(ip, ihl, 0)));
		sum = pkt_raw_sum(ip + 12, 8, 0);
	} else {
		memcpy(tmp, ip + 8, 16);
		memcpy(ip + 8, ip + 24, 16);
		memcpy(ip + 24, tmp, 16);
		put_be16(ip + 4, (uint16_t)udp_len);
		ip[7] = 64;
		sum = pkt_raw_sum(ip + 8, 32, 0);
	}
	put_be16(udp, pi->dport);
	put_be16(udp + 2, pi->sport);
	put_be16(udp + 4, (uint16_t)udp_len);
	put_be16(udp + 6, 0);
	sum += 17 + udp_len;
	uint16_t c = pkt_fold_sum(pkt_raw_sum(udp, udp_len, sum));
	put_be16(udp + 6, c ? c : 0xffff);
	return MMR_DROP_NONE;
}
