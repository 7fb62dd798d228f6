/*
 * rtcp_out.h - RTCP the MMR originates (issue 11): a packet composed with lib/rtcp's builders is put
 * behind Ethernet/IP/UDP headers, protected as SRTCP where the meeting is SRTP, and queued on the
 * lcore's TX buffer. Two kinds of destination:
 *   - a receiver's subscription (struct fwd_output: its addresses, as for its media copies): Sender
 *     Reports about its out SSRC, under the output's own context (fwd_output.srtp, RTCP protocol);
 *   - a participant (its route, learned from its own packets: struct rtcp_route): Receiver Reports,
 *     keyframe requests, NACKs and DLRR replies from the MMR's SSRC for it (fwd_participant.mmr_ssrc),
 *     under fwd_participant.rtcp_out.
 * Owning lcore only. Every packet sent is counted (per lcore rtcp_out_pkts, per participant rtcp_out
 * where the participant is known); one that cannot be sent (no mbuf, SRTCP refused) is a counted drop.
 */
#ifndef MMR_DP_RTCP_OUT_H
#define MMR_DP_RTCP_OUT_H

#include <stdint.h>
#include <rte_mbuf.h>
#include "fwd_table.h"
#include "pkt.h"

struct worker;
struct srtp_stream;
struct fwd_participant;

/* The biggest RTCP packet the MMR composes (before the SRTCP trailer). */
#define RTCP_OUT_MAX 512u

/* Where a participant is, as seen in its latest packet that taught it: a fwd_output without
 * subscription (dp_port, MACs, addresses, ports, precomputed sums) and our source port. */
struct rtcp_route {
	struct fwd_output o;      /* sub_id, sel_id, out_ssrc_be, srtp unused */
	uint16_t sport_be;        /* our UDP port it sent to */
	uint8_t  known;           /* o is filled */
};

/* Learn (or refresh) r from a packet the participant sent: frame (its bytes) parsed as pi, received
 * on our port index pidx. Only what changed is written. */
void rtcp_route_learn(struct worker *w, struct rtcp_route *r, const uint8_t *frame,
		      const struct pkt_info *pi, uint16_t pidx);

/* Send len bytes of RTCP at rtcp to output o from our UDP port sport_be; SRTP: protected under ctx
 * (NULL in a plain meeting). 0 sent, or the drop reason (counted here). */
int rtcp_out_to_output(struct worker *w, const struct fwd_output *o, uint16_t sport_be,
		       struct srtp_stream *ctx, const uint8_t *rtcp, uint32_t len);

/* Send len bytes of RTCP to participant part along its route (under part->rtcp_out in SRTP
 * meetings). 0 sent; -1 not sent: no route yet, no SSRC of ours for it (mmr_ssrc 0) or no SRTCP
 * context, or a drop (counted). */
int rtcp_out_send(struct worker *w, const struct fwd_participant *part, const uint8_t *rtcp, uint32_t len);

#endif
