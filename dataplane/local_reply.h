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

#endif
