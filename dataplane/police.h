/*
 * police.h - per-publisher policing (issue 15): a rate limit per participant and stream kind
 * (audio, video, screen, and its RTCP), packets/s and bits/s, checked per packet by the lcore that
 * owns the participant's meeting before anything expensive (SRTP, parsing past the header, fan-out).
 *
 * Each (participant, kind) has two GCRA meters (the "virtual scheduling" form of a token bucket):
 * a theoretical arrival time in TSC cycles for packets and one for bytes. A packet conforms when
 * neither lies more than the burst tolerance ahead of now; it then pushes each by its cost (one
 * packet interval, its bytes' transmission time at the limit). A packet that does not conform is
 * dropped as `policed` (and counted in its participant's `policed`), and costs the meters nothing.
 * RTX packets count with their media stream's kind; RTCP (any, including SRTCP) in its own kind.
 * Bytes are the UDP payload (the RTP or RTCP packet as sent).
 *
 * The state (dp->police_tat, 64 bytes per participant id) is written only by the owning lcore, like
 * the rest of a meeting's state; a meeting that moves takes it along (the new owner reads what the
 * old one wrote after the hand-off). A participant id reused soon after a flood starts with at most
 * one burst tolerance of debt. The limits (dp->police) are words the control thread stores at start
 * and on SIGHUP (police_set) and the lcores load per packet: no locks, no syscalls, no allocation.
 */
#ifndef MMR_DP_POLICE_H
#define MMR_DP_POLICE_H

#include <stdint.h>
#include <rte_branch_prediction.h>
#include "fwd_table.h"
#include "worker.h"

/* enum police_kind, struct dp_police (the limits) and struct police_tat (the meters) are in
 * dataplane.h, which holds them. */

struct dp_config;
/* Control thread: store cfg's limits (start-up and SIGHUP). */
void police_set(struct dp_police *p, const struct dp_config *cfg, uint64_t tsc_hz);

static inline enum police_kind police_kind_of(const struct fwd_stream *s)
{
	return s->kind == MMR_KIND_AUDIO ? POLICE_AUDIO : s->screen ? POLICE_SCREEN : POLICE_VIDEO;
}

/* 1: drop this packet of participant part (kind, bytes of UDP payload) as policed; 0: it conforms
 * (and is charged). Owner lcore only. */
static inline int police_drop(struct worker *w, const struct fwd_participant *part, enum police_kind kind,
			      uint32_t bytes)
{
	const struct dp_police *p = &w->dp->police;
	if (!__atomic_load_n(&p->on, __ATOMIC_RELAXED))
		return 0;
	uint64_t *t = w->dp->police_tat[part->id].t[kind];
	uint64_t now = w->now_tsc;
	uint64_t tp = t[0] > now ? t[0] : now;
	uint64_t tb = t[1] > now ? t[1] : now;
	uint64_t burst = __atomic_load_n(&p->burst_tsc, __ATOMIC_RELAXED);
	if (unlikely(tp - now > burst || tb - now > burst)) {
		w->part_stats[part->id].policed++;
		return 1;
	}
	t[0] = tp + __atomic_load_n(&p->pkt_tsc[kind], __ATOMIC_RELAXED);
	t[1] = tb + (((uint64_t)bytes * __atomic_load_n(&p->byte_tsc16[kind], __ATOMIC_RELAXED)) >> 16);
	return 0;
}

#endif
