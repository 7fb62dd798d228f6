/*
 * uplink.h - the feedback the MMR sends a publisher about what it receives from it (issue 12), so
 * that the publisher's own estimator (as in every browser) can size its encoder:
 *   - transport-wide feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01, RTPFB FMT 15) to a
 *     publisher with a transport-wide sequence number extension (fwd_participant.twcc_ext_id): per
 *     received RTP packet its transport-wide seq and arrival time (lib/bwe/twcc_recv.h: a few
 *     stores), and every twcc_fb_ms one feedback message with the packets since the last one;
 *   - REMB (PSFB FMT 15) to a publisher that negotiated it (MMR_FB_REMB): our receive-side estimate
 *     of its uplink (lib/bwe/gcc.h gcc_on_arrival, send times from its abs-send-time extension:
 *     fwd_participant.abs_ext_id) every second, and at once when it drops by more than 3 %
 *     (libwebrtc's remote estimator does both).
 * Sent from the MMR's SSRC for it (mmr_ssrc) along its route, under its RTCP context in SRTP meetings
 * (rtcp_out.c); compound (an empty RR and SDES CNAME first) unless it takes reduced-size RTCP. Nothing
 * is sent with `rtcp = false`. Media SSRC of the feedback: the SSRC of its latest packet; REMB names
 * the SSRCs it was seen sending (up to UPLINK_MAX_SSRCS).
 *
 * State per publisher (struct part_uplink, fwd_participant.uplink), made and freed by the control
 * thread (qos_hooks.h: part_uplink_new/free), written only by the lcore owning its meeting. Timers
 * are lazy: checked at the publisher's own packets; an idle publisher costs nothing. A header
 * extension element it sends that cannot be read (malformed, wrong length) is counted (lcore
 * ext_bad) and the packet goes on as usual.
 */
#ifndef MMR_DP_UPLINK_H
#define MMR_DP_UPLINK_H

#include <stdint.h>
#include <rte_branch_prediction.h>
#include "bwe_stamp.h"
#include "fwd_table.h"
#include "gcc.h"
#include "rtp.h"
#include "twcc_recv.h"

struct worker;
struct dataplane;

#define UPLINK_MAX_SSRCS   4u          /* SSRCs named in a REMB */
#define UPLINK_REMB_MS     1000u       /* REMB period */
#define UPLINK_REMB_DROP   0.97        /* an estimate below this x the last REMB is sent at once */

struct part_uplink {
	uint8_t  started;            /* the owner lcore has initialised the estimator and timers */
	uint8_t  n_ssrcs;
	uint32_t media_ssrc;         /* its latest packet's SSRC: the feedback's media SSRC */
	uint32_t ssrcs[UPLINK_MAX_SSRCS];
	uint64_t tsc_per_us;         /* TSC cycles per microsecond (arrival times) */
	uint64_t next_fb_tsc;        /* next TWCC feedback (and REMB drop check) */
	uint64_t next_remb_tsc;      /* next periodic REMB */
	uint64_t remb_last_bps;      /* the value of the last REMB sent (0: none yet) */
	uint64_t abs_last_us;        /* abs-send-time unwrapping (abs_send_unwrap) */
	struct gcc gcc;              /* receive-side estimate (REMB) */
	struct twcc_recv tr;         /* arrival log (TWCC) */
};

/* The packet path's part, out of line: see uplink_on_rtp. */
void uplink_packet(struct worker *w, const struct fwd_participant *part, struct part_uplink *u,
		   const uint8_t *rtp, const struct rtp_info *ri, uint32_t size, const struct bwe_pkt *bp);

/*
 * An RTP packet from publisher part (rtp: its header, parsed as ri; size: its UDP payload bytes),
 * received by the lcore owning its meeting; SRTP: after it authenticated (the extensions are in
 * clear either way). Media and RTX alike: transport-wide numbers count every packet. bp: its elements
 * as bandwidth estimation found them for this packet (the publisher's ids), NULL: found here.
 */
static inline void uplink_on_rtp(struct worker *w, const struct fwd_participant *part, const uint8_t *rtp,
				 const struct rtp_info *ri, uint32_t size, const struct bwe_pkt *bp)
{
	struct part_uplink *u = part->uplink;
	if (unlikely(u != NULL))
		uplink_packet(w, part, u, rtp, ri, size, bp);
}

#endif
