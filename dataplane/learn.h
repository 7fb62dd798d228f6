/*
 * learn.h - the dataplane's side of SSRC learning (issue 13): a packet from a known participant
 * with an SSRC none of its streams has, when that participant negotiated the mid header extension
 * and has streams whose SSRCs are not known yet (fwd_participant.learn, from PARTICIPANT_PUT).
 *
 * Only the unknown-SSRC path comes here (the normal path is unchanged). The header is read in
 * clear (in SRTP too: RFC 3711 leaves the header, extensions included, unencrypted; the padding
 * count is not read, it may be encrypted), its mid/rid/repaired-rid matched against the pending
 * streams (lib/pkt/ssrc_learn.h). A match posts MMR_EV_SSRC (event_ring.h) on the lcore's ring,
 * at most once per SSRC per 100 ms per participant (and at most LEARN_LIMIT_BURST reports per 100
 * ms whatever the SSRCs), and the packet is dropped as ssrc_learning; no match stays unknown_ssrc.
 * The controller binds the SSRC (its PUTs bring the stream here); until then packets keep coming
 * here. Nothing is trusted beyond binding an SSRC to a stream of the same participant.
 *
 * SRTP meetings: the clear mid/rid are not enough (an off-path sender spoofing the participant's
 * address could bind any SSRC to its stream). After a match and before the rate limit, the packet's
 * tag must verify under the participant's SEND key as a new stream's (ROC 0, index = sequence
 * number; srtp_verify_rtp_new on the RTP side of its rtcp_in contexts, cur then prev in a rekey):
 * verify only, on the owner lcore, no ROC or replay state changed, no allocation. A packet that
 * fails is dropped as ssrc_learn_auth and reports nothing. (A stream learned only after its
 * sequence number wrapped, ROC 1, cannot be learned: a browser's first packets are at ROC 0.)
 *
 * Rate-limit state: plain memory indexed by participant id, allocated at start-up, written only
 * by the lcore owning the participant's meeting.
 */
#ifndef MMR_DP_LEARN_H
#define MMR_DP_LEARN_H

#include <stdint.h>
#include "drop_reason.h"
#include "fwd_table.h"
#include "rtp.h"

struct worker;
struct fwd_participant;

/* Start-up: the per-participant rate-limit state. 0 or -ENOMEM. */
int dp_learn_init(void);
void dp_learn_free(void);

/* A packet (len bytes at pkt, the RTP header in clear) from part with an SSRC none of its streams
 * has: MMR_DROP_SSRC_LEARNING (reported, or within the rate limit), MMR_DROP_SSRC_LEARN_AUTH (SRTP:
 * its tag does not verify) or MMR_DROP_UNKNOWN_SSRC. */
enum mmr_drop_reason dp_learn_unknown_ssrc(struct worker *w, const struct fwd_participant *part,
					   const uint8_t *pkt, uint32_t len);

/* Every packet of a participant that negotiated mid / rid / repaired-rid, before its copies are
 * made: those elements (the publisher's own names for its streams) become padding (rtp_blank_ext).
 * A browser receiver routes a packet by its mid before its SSRC and drops one whose mid it does
 * not know (or hands it to its m-section of that mid); the copies are on the receiver's slots,
 * which its answer names by SSRC. One walk of the extension block; nothing for other senders. */
static inline void dp_learn_blank_ids(const struct fwd_participant *part, uint8_t *pkt, const struct rtp_info *ri)
{
	if (__builtin_expect(!(part->mid_ext_id | part->rid_ext_id | part->rrid_ext_id), 1) || !ri->has_ext)
		return;
	const uint8_t ids[3] = { part->mid_ext_id, part->rid_ext_id, part->rrid_ext_id };
	rtp_blank_ext(pkt, ri, ids, 3);
}

#endif
