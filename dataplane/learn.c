/*
 * learn.c - the unknown-SSRC path of SSRC learning (see learn.h).
 */
#include "learn.h"

#include <stdlib.h>
#include <string.h>
#include <rte_cycles.h>

#include "event_ring.h"
#include "fwd_table.h"
#include "srtp_fast.h"
#include "ssrc_learn.h"
#include "worker.h"

#define LEARN_EVENT_GAP_MS 100u

static struct learn_limit *limit;       /* MMR_MAX_PARTICIPANTS, ordinary memory (lazy pages) */
static uint64_t gap_tsc;

int dp_learn_init(void)
{
	limit = calloc(MMR_MAX_PARTICIPANTS, sizeof(*limit));
	gap_tsc = rte_get_tsc_hz() / 1000 * LEARN_EVENT_GAP_MS;
	if (gap_tsc == 0)
		gap_tsc = 1;
	return limit ? 0 : -1;
}

void dp_learn_free(void)
{
	free(limit);
	limit = NULL;
}

/* SRTP: is pkt authentic under part's SEND key (the current one, or the previous during a rekey)
 * as the first packet of a new stream (ROC 0)? Verify only (srtp_verify_rtp_new), with the RTP side
 * of its RTCP contexts (rtcp_in: made from the same key, their RTP state unused), so no context's
 * ROC or replay state changes and nothing is allocated. */
static int learn_authentic(const struct fwd_participant *part, const uint8_t *pkt, uint32_t len)
{
	const struct fwd_srtp_in *in = rcu_dereference(part->rtcp_in);

	if (!in || !in->cur)
		return 0;
	if (srtp_verify_rtp_new(in->cur, pkt, len) == MMR_DROP_NONE)
		return 1;
	return in->prev && srtp_verify_rtp_new(in->prev, pkt, len) == MMR_DROP_NONE;
}

enum mmr_drop_reason dp_learn_unknown_ssrc(struct worker *w, const struct fwd_participant *part,
					   const uint8_t *pkt, uint32_t len)
{
	struct rtp_info ri;
	unsigned idx;
	uint8_t what;

	if (!part->n_learn || !part->mid_ext_id || !limit || part->id >= MMR_MAX_PARTICIPANTS)
		return MMR_DROP_UNKNOWN_SSRC;
	if (ssrc_learn_header(pkt, len, &ri) != 0)
		return MMR_DROP_UNKNOWN_SSRC;
	const struct learn_ext_ids ids = { part->mid_ext_id, part->rid_ext_id, part->rrid_ext_id };
	if (ssrc_learn_match(pkt, &ri, &ids, part->learn, part->n_learn, &idx, &what) != 1)
		return MMR_DROP_UNKNOWN_SSRC;
	/* SRTP: the clear mid/rid bind nothing until the packet's tag verifies (before the rate
	 * limit, so forged packets use none of its reports) */
	if (part->srtp && !learn_authentic(part, pkt, len))
		return MMR_DROP_SSRC_LEARN_AUTH;
	if (learn_limit_allow(&limit[part->id], ri.ssrc, rte_get_tsc_cycles(), gap_tsc))
		ev_push_flags(&w->ev, MMR_EV_SSRC, what, part->id, ri.ssrc, part->learn[idx].stream_id);
	return MMR_DROP_SSRC_LEARNING;
}
