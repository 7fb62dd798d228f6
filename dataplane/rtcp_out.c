/*
 * rtcp_out.c - put an RTCP packet the MMR composed on the wire (see rtcp_out.h).
 *
 * The headers are fanout's (rewrite.h write_headers, from a struct fwd_output): a receiver's
 * subscription has one already; a participant's route is a fwd_output made from its own latest
 * packet (its MAC, address and port as the source of what it sent; ours as the destination), with
 * the sums precomputed the same way (fwd_output_set_sums). The whole datagram is one mbuf from the
 * header pool (RTCP_OUT_MAX plus headers and trailer fit in DP_HDR_MBUF_ROOM... or the packet pool
 * when not), its UDP checksum summed in full: RTCP is rare next to media.
 * SRTP: srtp_protect_rtcp_copy() encrypts the composed packet straight into the mbuf; an index it
 * refuses (srtp_lease, srtp_reuse) is a counted drop like a refused media copy.
 */
#define _LGPL_SOURCE
#include "rtcp_out.h"

#include <string.h>
#include <rte_byteorder.h>
#include <rte_memcpy.h>

#include "dataplane.h"
#include "rewrite.h"
#include "rtcp_state.h"
#include "srtp_fast.h"
#include "worker.h"

void rtcp_route_learn(struct worker *w, struct rtcp_route *r, const uint8_t *frame,
		      const struct pkt_info *pi, uint16_t pidx)
{
	struct fwd_output *o = &r->o;
	const struct dp_port *pt = &w->dp->port[pidx];
	unsigned alen = pi->src.family == MMR_AF_INET ? 4 : 16;
	uint16_t dport_be = rte_cpu_to_be_16(pi->sport);
	uint16_t sport_be = w->udp_port_be ? w->udp_port_be : rte_cpu_to_be_16(pi->dport);

	if (r->known && o->dp_port == pidx && o->family == pi->src.family && o->dst_port_be == dport_be &&
	    r->sport_be == sport_be && memcmp(o->dst_mac, frame + 6, 6) == 0 &&
	    memcmp(o->dst_ip, pi->src.ip, alen) == 0 && memcmp(o->src_ip, pi->dst.ip, alen) == 0)
		return;
	memset(o, 0, sizeof(*o));
	o->family = pi->src.family;
	o->dp_port = pidx;
	o->dst_port_be = dport_be;
	memcpy(o->dst_mac, frame + 6, 6);
	memcpy(o->src_mac, pt->mac, 6);
	memcpy(o->src_ip, pi->dst.ip, alen);
	memcpy(o->dst_ip, pi->src.ip, alen);
	fwd_output_set_sums(o);
	r->sport_be = sport_be;
	r->known = 1;
}

int rtcp_out_to_output(struct worker *w, const struct fwd_output *o, uint16_t sport_be,
		       struct srtp_stream *ctx, const uint8_t *rtcp, uint32_t len)
{
	uint32_t head = ETH_LEN + (o->family == MMR_AF_INET ? IP4_LEN : IP6_LEN) + UDP_LEN;
	uint32_t need = head + len + SRTCP_MAX_TRAILER;
	if (unlikely(!worker_out_mac_ok(w, o)))    /* before an mbuf is taken (neigh.h) */
		return (int)MMR_DROP_NEIGH_UNRESOLVED;
	struct rte_mbuf *h = rte_pktmbuf_alloc(need <= DP_HDR_MBUF_ROOM ? w->pools->hdr : w->pools->pkt);
	enum mmr_drop_reason why = MMR_DROP_NO_MBUF;

	if (unlikely(!h))
		goto drop;
	uint32_t room = rte_pktmbuf_tailroom(h);
	uint8_t *p = rte_pktmbuf_mtod(h, uint8_t *);
	uint32_t n;
	if (unlikely(room < need)) {
		rte_pktmbuf_free(h);
		goto drop;
	}
	if (ctx) {
		n = srtp_protect_rtcp_copy(ctx, rtcp, len, p + head, room - head);
		if (unlikely(n == 0)) {
			why = srtp_protect_why(ctx);
			rte_pktmbuf_free(h);
			goto drop;
		}
	} else {
		rte_memcpy(p + head, rtcp, len);
		n = len;
	}
	h->data_len = (uint16_t)write_whole_packet(p, o, sport_be, n);
	h->pkt_len = h->data_len;
	w->st->rtcp_out_pkts++;
	worker_send(w, o->dp_port, h);
	return 0;
drop:
	w->st->drops[why]++;
	return (int)why;
}

int rtcp_out_send(struct worker *w, const struct fwd_participant *part, const uint8_t *rtcp, uint32_t len)
{
	struct part_rtcp *pr = part_rtcp_get(w->rtcp, part);
	/* no SSRC of ours for it (or no SRTCP context under it): the controller gave none, send nothing */
	if (unlikely(!pr->route.known || !part->mmr_ssrc))
		return -1;
	if (unlikely(worker_receiver_waiting(w, part->id)))   /* in the waiting room: no RTCP either */
		return -1;
	struct srtp_stream *ctx = NULL;
	if (part->srtp) {
		ctx = rcu_dereference(part->rtcp_out);
		if (unlikely(!ctx))
			return -1;
	}
	if (rtcp_out_to_output(w, &pr->route.o, pr->route.sport_be, ctx, rtcp, len) != 0)
		return -1;
	w->part_stats[part->id].rtcp_out++;
	return 0;
}
