/*
 * local_reply.h - answer the few packets addressed to the dataplane itself: ARP requests for our
 * IPv4 address, ICMP/ICMPv6 echo requests, and IPv6 neighbour solicitations for our IPv6 address.
 * Each turns the received mbuf into the reply in place (VLAN tags kept); the caller sends it back
 * out of the same port, or drops it with the returned reason.
 */
#ifndef MMR_DP_LOCAL_REPLY_H
#define MMR_DP_LOCAL_REPLY_H

#include <rte_mbuf.h>
#include "dataplane.h"
#include "pkt.h"

/* MMR_DROP_NONE: m is now the reply. Otherwise the drop reason (m untouched). */
enum mmr_drop_reason local_reply_arp(const struct dp_port *pt, struct rte_mbuf *m,
				     const struct pkt_info *pi);
enum mmr_drop_reason local_reply_echo(const struct dp_port *pt, struct rte_mbuf *m,
				      const struct pkt_info *pi);
enum mmr_drop_reason local_reply_ns(const struct dp_port *pt, struct rte_mbuf *m,
				    const struct pkt_info *pi);
/* A UDP reply to the datagram m holds (pi: its parse): its payload replaced by the n bytes at ans,
 * addresses and ports swapped, the source MAC ours, lengths and checksums new (VLAN tags kept).
 * The STUN answers (ice.c) and the DTLS thread's datagrams (dtls_path.c, on a copy of the peer's
 * last datagram's headers) are made this way. MMR_DROP_NONE, or MMR_DROP_NO_MBUF (no room). */
enum mmr_drop_reason local_reply_udp(const struct dp_port *pt, struct rte_mbuf *m, const struct pkt_info *pi,
				     const uint8_t *ans, uint32_t n);

#endif
