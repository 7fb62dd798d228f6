/*
 * meeting_owner.c - placement and live moves of meetings between worker lcores (see meeting_owner.h
 * and owner.h).
 *
 * Moving meeting M from worker A to worker B:
 *   1. owner[M] = MOVING|B (release). From the next lookup on, every worker hands M's packets to B,
 *      and B holds them (in arrival order, bounded: hold_full) instead of processing them.
 *   2. synchronize_rcu(): every worker has finished every loop iteration that saw owner A, and each
 *      flushes its hand-off buffers before its quiescent state, so every packet of M that went
 *      toward A is now processed by A or in a ring toward A.
 *   3. DRAIN request to A: A processes everything its incoming rings hold at that moment (FIFO: all
 *      the pre-flip packets), flushes its TX buffers, acknowledges. A processes M's ring packets even
 *      though the word says MOVING (owner_route: it owned M when they were sent).
 *   4. TAKE request to B: B sets owner[M] = B itself, at the start of an iteration, then processes its
 *      held packets in order, then goes on; no new packet of M can overtake the held ones.
 * Per sender, packets come through one RX queue, so through one ring or one worker's own loop:
 * FIFO everywhere, so order is kept; nothing is processed twice. Moves are serialized (this thread
 * does one at a time). The controller does not persist placements: a restarted dataplane places
 * every meeting again as the replay puts its participants.
 */
#define _LGPL_SOURCE
#include "meeting_owner.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>
#include <urcu-qsbr.h>

#include "dataplane.h"
#include "owner.h"

struct meeting_owner {
	struct dataplane *dp;
	uint32_t *parts;                  /* participants per meeting */
	uint32_t load[MMR_MAX_LCORES];    /* participants of the meetings each worker owns */
	uint64_t moves;
};

struct meeting_owner *meeting_owner_new(struct dataplane *dp)
{
	struct meeting_owner *mo = calloc(1, sizeof(*mo));
	if (!mo)
		return NULL;
	mo->dp = dp;
	mo->parts = calloc(MMR_MAX_MEETINGS, sizeof(*mo->parts));
	if (!mo->parts) {
		free(mo);
		return NULL;
	}
	return mo;
}

void meeting_owner_free(struct meeting_owner *mo)
{
	if (!mo)
		return;
	free(mo->parts);
	free(mo);
}

/* For the controller: mmrctl meeting show/list. */
static void publish(struct meeting_owner *mo, uint32_t meeting, uint8_t word)
{
	__atomic_store_n(&mo->dp->shm->stats.meeting_owner[meeting], word, __ATOMIC_RELAXED);
}

void meeting_owner_join(struct meeting_owner *mo, uint32_t meeting)
{
	struct dataplane *dp = mo->dp;
	if (meeting >= MMR_MAX_MEETINGS)
		return;
	if (mo->parts[meeting]++ == 0) {
		uint8_t w = (uint8_t)owner_pick(mo->load, dp->n_workers);
		/* before the participant's node is published (its publication releases this store) */
		__atomic_store_n(&dp->owner[meeting], w, __ATOMIC_RELEASE);
		publish(mo, meeting, w);
	}
	mo->load[dp->owner[meeting] & MMR_OWNER_INDEX]++;
}

void meeting_owner_leave(struct meeting_owner *mo, uint32_t meeting)
{
	if (meeting >= MMR_MAX_MEETINGS || mo->parts[meeting] == 0)
		return;
	mo->load[mo->dp->owner[meeting] & MMR_OWNER_INDEX]--;
	/* an emptied meeting keeps its owner word (packets of its old participants may still be on their
	 * way); its next first participant places it again */
	if (--mo->parts[meeting] == 0)
		publish(mo, meeting, MMR_OWNER_NONE);
}

/* Ask worker w to do `kind` and wait until it has (it checks once per loop iteration). */
static int request(struct dataplane *dp, unsigned w, enum dp_req_kind kind, uint32_t meeting)
{
	struct dp_worker_req *rq = &dp->req[w];
	uint32_t seq = atomic_load_explicit(&rq->ack, memory_order_acquire) + 1;
	rq->kind = kind;
	rq->meeting = meeting;
	atomic_store_explicit(&rq->seq, seq, memory_order_release);
	unsigned spins = 0;
	while (atomic_load_explicit(&rq->ack, memory_order_acquire) != seq) {
		if (atomic_load_explicit(&dp->stop, memory_order_relaxed))
			return -1;
		if (++spins > 100)
			usleep(20);
	}
	return 0;
}

int meeting_owner_move(struct meeting_owner *mo, uint32_t meeting, uint32_t to, char *err, size_t errlen)
{
	struct dataplane *dp = mo->dp;
	if (meeting >= MMR_MAX_MEETINGS || mo->parts[meeting] == 0) {
		snprintf(err, errlen, "meeting %u has no participant in the dataplane", meeting);
		return -1;
	}
	if (to >= dp->n_workers) {
		snprintf(err, errlen, "lcore %u out of range: the dataplane has %u worker lcore(s), 0..%u", to,
			 dp->n_workers, dp->n_workers - 1);
		return -1;
	}
	unsigned from = dp->owner[meeting];
	if (from == to)
		return 0;
	__atomic_store_n(&dp->owner[meeting], (uint8_t)(MMR_OWNER_MOVING | to), __ATOMIC_RELEASE);
	publish(mo, meeting, (uint8_t)(MMR_OWNER_MOVING | to));
	synchronize_rcu();
	if (request(dp, from, DP_REQ_DRAIN, meeting) < 0 || request(dp, to, DP_REQ_TAKE, meeting) < 0) {
		snprintf(err, errlen, "stopping");
		return -1;
	}
	publish(mo, meeting, (uint8_t)to);
	mo->load[from] -= mo->parts[meeting];
	mo->load[to] += mo->parts[meeting];
	mo->moves++;
	dp_log("meeting %u moved from worker %u to worker %u (%u participants)", meeting, from, to,
	       mo->parts[meeting]);
	return 0;
}

void meeting_owner_load(const struct meeting_owner *mo, uint32_t *load, unsigned n, uint64_t *moves)
{
	for (unsigned i = 0; i < n && i < MMR_MAX_LCORES; i++)
		load[i] = mo->load[i];
	*moves = mo->moves;
}
