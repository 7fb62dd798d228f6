/*
 * rtcp_in.h - RTCP received from a participant, terminated on the lcore owning its meeting (issue
 * 11; see rtcp_in.c for the order of checks and what each item does).
 */
#ifndef MMR_DP_RTCP_IN_H
#define MMR_DP_RTCP_IN_H

#include <rte_mbuf.h>
#include "drop_reason.h"
#include "fwd_table.h"
#include "pkt.h"
#include "worker.h"

/* One RTCP datagram (SRTCP in SRTP meetings) from participant part, its UDP payload as pi says.
 * MMR_DROP_NONE: consumed (the caller frees m); else the reason it was dropped, and nothing of it
 * acted on. Only while the dataplane's `rtcp` setting is on. */
enum mmr_drop_reason rtcp_in(struct worker *w, struct rte_mbuf *m, const struct pkt_info *pi,
			     const struct fwd_participant *part);

#endif
