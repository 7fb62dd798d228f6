/*
 * rtcp_state.h - the RTCP state the owning lcore keeps (issue 11), to terminate RTCP (rtcp_in.c)
 * and to send reports and keyframe requests (rtcp_report.c, rtcp_out.c):
 *
 *   struct stream_rtcp  per published stream: reception statistics for our RRs (lib/rtcp/recv_stats),
 *                       the publisher's latest SR (lib/rtcp/sr_clock's anchor), keyframe requests to
 *                       the publisher (lib/repair/kf_req), the next RR time;
 *   struct sub_rtcp     per subscription, by its selection id (a simulcast group's members share
 *                       their leader's, as they share the out SSRC): the receiver's SR state
 *                       (lib/rtcp/sr_clock's sr_out: packets, octets, last RTP time sent), next SR time;
 *   struct part_rtcp    per participant: where it is (its route, learned from its packets), its RTT.
 *
 * Side tables indexed like the counters and the selection state (fwd_stream.id, fwd_output.sel_id,
 * fwd_participant.id), allocated once at start-up (rtcp_state_alloc: zeroed memory that the kernel
 * backs only where an entry is touched) and written only by the lcore owning the object's meeting.
 * No control-thread hook: an entry carries the key of the object it was made for (publisher and
 * SSRC; out SSRC and receiver port; address and port), and the owner re-initialises it in place
 * when the object at that index is not the one it knew (a new object took a freed id: RCU grace
 * periods separate it from its previous owner's last access).
 */
#ifndef MMR_DP_RTCP_STATE_H
#define MMR_DP_RTCP_STATE_H

#include <stdint.h>
#include <string.h>
#include <rte_branch_prediction.h>
#include "fwd_table.h"
#include "kf_req.h"
#include "recv_stats.h"
#include "rtcp_out.h"
#include "sr_clock.h"

struct dataplane;

struct stream_rtcp {
	uint32_t key_pid, key_ssrc;  /* the stream this entry is for (valid) */
	uint8_t  valid;
	uint8_t  kf_send;            /* a keyframe request is to go out at the stream's next packet */
	uint8_t  kind;               /* enum mmr_media_kind */
	uint8_t  pad;
	uint32_t last_ext_seq;       /* extended seq of the newest packet (recv_stats) */
	uint64_t next_tsc;           /* the stream's next RTCP work (RR, a keyframe request), checked at
					its packets; 0: at the next one */
	uint64_t next_rr_tsc;
	struct recv_stats rs;        /* what we received of it: our RR's report block */
	struct sr_anchor anchor;     /* its publisher's latest SR: our SRs' RTP/NTP mapping */
	struct kf_req kf;            /* keyframe requests to its publisher */
};

struct sub_rtcp {
	uint32_t key_ssrc_be;        /* the output this entry is for: out SSRC and receiver port */
	uint16_t key_port_be;
	uint8_t  valid;
	uint8_t  kind;
	uint64_t next_sr_tsc;        /* 0: its first SR goes with its first copy */
	struct sr_out so;            /* what the receiver got on its out SSRC; the last SR's RTP time */
} __attribute__((aligned(64)));      /* one cache line per copy's receiver */

struct part_rtcp {
	struct rtcp_route route;     /* where its RTCP goes (from its latest RTCP or media packet) */
	struct mmr_addr key_addr;    /* the participant this entry is for */
	uint16_t key_port;
	uint8_t  valid;
	uint8_t  pad;
	uint32_t rtt_us;             /* 0: not known */
};

struct rtcp_tables {
	struct stream_rtcp *stream;  /* MMR_MAX_STREAMS, by fwd_stream.id */
	struct sub_rtcp *sub;        /* MMR_MAX_SUBS, by fwd_output.sel_id */
	struct part_rtcp *part;      /* MMR_MAX_PARTICIPANTS, by fwd_participant.id */
	uint32_t kf_throttle_ms;
};

/* Start-up (before the lcores run): the tables, zeroed. 0 or -1 (logged). */
int rtcp_state_alloc(struct rtcp_tables *t, uint32_t kf_throttle_ms);
void rtcp_state_free(struct rtcp_tables *t);

/* ---- packet path (the owning lcore) ---- */

void stream_rtcp_reset(struct stream_rtcp *r, const struct fwd_stream *s, uint32_t kf_throttle_ms);
void sub_rtcp_reset(struct sub_rtcp *r, const struct fwd_output *o, uint8_t kind);
void part_rtcp_reset(struct part_rtcp *r, const struct fwd_participant *p);

static inline struct stream_rtcp *stream_rtcp_get(const struct rtcp_tables *t, const struct fwd_stream *s)
{
	struct stream_rtcp *r = &t->stream[s->id];
	if (unlikely(!r->valid || r->key_ssrc != s->ssrc || r->key_pid != s->participant_id))
		stream_rtcp_reset(r, s, t->kf_throttle_ms);
	return r;
}

static inline struct sub_rtcp *sub_rtcp_get(const struct rtcp_tables *t, const struct fwd_output *o, uint8_t kind)
{
	struct sub_rtcp *r = &t->sub[o->sel_id];
	if (unlikely(!r->valid || r->key_ssrc_be != o->out_ssrc_be || r->key_port_be != o->dst_port_be))
		sub_rtcp_reset(r, o, kind);
	return r;
}

static inline struct part_rtcp *part_rtcp_get(const struct rtcp_tables *t, const struct fwd_participant *p)
{
	struct part_rtcp *r = &t->part[p->id];
	if (unlikely(!r->valid || r->key_port != p->udp_port || !mmr_addr_eq(&r->key_addr, &p->addr)))
		part_rtcp_reset(r, p);
	return r;
}

#endif
