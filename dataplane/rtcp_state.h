/*
 * rtcp_state.h - the RTCP state of the dataplane's tables (issue 11): what the owning lcore keeps per
 * published stream, per subscription and per participant to terminate RTCP (rtcp_in.c) and to send
 * reports and keyframe requests (rtcp_out.c, rtcp_report.c).
 *
 *   struct stream_rtcp  per published stream: reception statistics for our RRs (lib/rtcp/recv_stats),
 *                       the publisher's latest SR (lib/rtcp/sr_clock's anchor), keyframe requests to
 *                       the publisher (lib/repair/kf_req), the next RR time;
 *   struct sub_rtcp     per subscription (a simulcast group's members share their leader's, like
 *                       their out SSRC): the receiver's SR state (lib/rtcp/sr_clock's sr_out:
 *                       packets, octets, last RTP time sent) and the next SR time;
 *   struct part_rtcp    per participant: where it is (its route, learned from its packets), its RTT.
 *
 * Where they live (the tables have one pointer each, fwd_table.h): fwd_stream.repair points to a
 * struct stream_repair (dataplane/repair.c) that BEGINS with a struct stream_rtcp, fwd_output.repair
 * to a struct sub_repair that BEGINS with a struct sub_rtcp; repair.c's stream_repair_new() and
 * sub_repair_new() (repair_hooks.h) call stream_rtcp_init() / sub_rtcp_init() on that first member,
 * and sub_repair_new() makes one for EVERY subscription (audio too: every receiver gets SRs; the
 * packet-repair parts may stay empty). fwd_participant.rtcp is a struct part_rtcp of its own
 * (part_rtcp_new/free, the repair_hooks.h hooks, defined in rtcp_state.c).
 *
 * All of it is made and freed by the control thread and written only by the lcore owning the
 * meeting, like the rest of the per-packet state (fwd_table.h).
 */
#ifndef MMR_DP_RTCP_STATE_H
#define MMR_DP_RTCP_STATE_H

#include <stdint.h>
#include "cmd_chan.h"
#include "fwd_table.h"
#include "kf_req.h"
#include "recv_stats.h"
#include "rtcp_out.h"
#include "sr_clock.h"

struct dataplane;

struct stream_rtcp {
	struct recv_stats rs;        /* what we received of it: our RR's report block */
	struct sr_anchor anchor;     /* its publisher's latest SR: our SRs' RTP/NTP mapping */
	struct kf_req kf;            /* keyframe requests to its publisher */
	uint64_t next_tsc;           /* the stream's next RTCP work (RR, a keyframe request): the
					owner checks it at the stream's packets; 0: at the next one */
	uint64_t next_rr_tsc;
	uint32_t last_ext_seq;       /* extended seq of the newest packet (recv_stats) */
	uint8_t  kf_send;            /* a keyframe request is to go out at the next packet */
	uint8_t  kind;               /* enum mmr_media_kind */
	uint8_t  pad[2];
};

struct sub_rtcp {
	struct sr_out so;            /* what the receiver got on its out SSRC; the last SR's RTP time */
	uint64_t next_sr_tsc;        /* 0: send one once it got a packet */
	uint8_t  kind;
	uint8_t  pad[7];
};

struct part_rtcp {
	struct rtcp_route route;     /* where its RTCP goes (from its latest RTCP or media packet) */
	uint32_t rtt_us;             /* 0: not known */
	uint32_t pad;
};

/* ---- control thread ---- */

/* Fill the state of a new stream of publisher command c (clock_hz normalised). */
void stream_rtcp_init(struct stream_rtcp *r, const struct dataplane *dp, const struct mmr_cmd_stream *c);
/* Fill the state of a new subscription c of receiver rcv to stream s. */
void sub_rtcp_init(struct sub_rtcp *r, const struct dataplane *dp, const struct mmr_cmd_sub *c,
		   const struct mmr_cmd_stream *s, const struct mmr_cmd_participant *rcv);

/* ---- packet path (the owning lcore) ---- */

static inline struct stream_rtcp *stream_rtcp_of(const struct fwd_stream *s)
{
	return (struct stream_rtcp *)(void *)s->repair;
}

static inline struct sub_rtcp *sub_rtcp_of(const struct fwd_output *o)
{
	return (struct sub_rtcp *)(void *)o->repair;
}

static inline struct part_rtcp *part_rtcp_of(const struct fwd_participant *p)
{
	return p->rtcp;
}

#endif
