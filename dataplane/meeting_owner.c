/*
 * meeting_owner.c - placement and live moves of meetings between worker lcores (see meeting_owner.h
 * and owner.h).
 *
 * Moving meeting M from worker A to worker B:
 *   1. owner[M] = MOVING|B (release). From the next lookup on, every worker hands M's packets to B,
 *      and B holds them (in arrival order, bounded: hold_full) instead of processing them.
 *   2. a grace period: every worker's loop counter (stats.lcore[i].loops, stored at the end of each
 *      iteration after its hand-off flush, next to its RCU quiescent state) has moved twice, so
 *      every iteration that saw owner A is over, and every packet of M that went toward A is
 *      processed by A or in a ring toward A. (Not synchronize_rcu: the control thread goes on
 *      serving SRTP lease requests and heartbeats meanwhile.)
 *   3. DRAIN request to A: A processes everything its incoming rings hold at that moment (FIFO: all
 *      the pre-flip packets), flushes its TX buffers, acknowledges. A processes M's ring packets even
 *      though the word says MOVING (owner_route: it owned M when they were sent).
 *   4. TAKE request to B: B sets owner[M] = B itself, at the start of an iteration, then processes its
 *      held packets in order, then goes on; no new packet of M can overtake the held ones.
 * Per sender, packets come through one RX queue, so through one ring or one worker's own loop:
 * FIFO everywhere, so order is kept; nothing is processed twice. Moves are serialized: the control
 * loop applies no command after a MEETING_MOVE until the move is done (meeting_owner_move_poll). The controller does not persist placements: a restarted dataplane places
 * every meeting again as the replay puts its participants.
 */
#include "meeting_owner.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "dataplane.h"
#include "owner.h"

enum move_phase { MV_IDLE, MV_GRACE, MV_DRAIN, MV_TAKE };

struct meeting_owner {
	struct dataplane *dp;
	uint32_t *parts;                  /* participants per meeting */
	uint32_t load[MMR_MAX_LCORES];    /* participants of the meetings each worker owns */
	uint64_t moves;
	struct {                          /* the move in progress (one at a time) */
		enum move_phase phase;
		uint32_t meeting, from, to, seq;
		uint64_t loops[MMR_MAX_LCORES];   /* each worker's loop counter at the flip */
		uint64_t start_ns;
	} mv;
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

/* Post a request to worker w (it looks once per loop iteration); returns its sequence number. */
static uint32_t post(struct dataplane *dp, unsigned w, enum dp_req_kind kind, uint32_t meeting)
{
	struct dp_worker_req *rq = &dp->req[w];
	uint32_t seq = atomic_load_explicit(&rq->ack, memory_order_acquire) + 1;
	rq->kind = kind;
	rq->meeting = meeting;
	atomic_store_explicit(&rq->seq, seq, memory_order_release);
	return seq;
}

static int acked(struct dataplane *dp, unsigned w, uint32_t seq)
{
	return atomic_load_explicit(&dp->req[w].ack, memory_order_acquire) == seq;
}

static uint64_t loops_of(struct dataplane *dp, unsigned w)
{
	return __atomic_load_n(&dp->shm->stats.lcore[w].loops, __ATOMIC_RELAXED);
}

int meeting_owner_move_start(struct meeting_owner *mo, uint32_t meeting, uint32_t to, char *err, size_t errlen)
{
	struct dataplane *dp = mo->dp;
	if (mo->mv.phase != MV_IDLE) {
		snprintf(err, errlen, "another move is in progress");   /* the control loop never lets this happen */
		return -1;
	}
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
	/* 1. the flip */
	__atomic_store_n(&dp->owner[meeting], (uint8_t)(MMR_OWNER_MOVING | to), __ATOMIC_RELEASE);
	publish(mo, meeting, (uint8_t)(MMR_OWNER_MOVING | to));
	atomic_thread_fence(memory_order_seq_cst);
	for (unsigned w = 0; w < dp->n_workers; w++)
		mo->mv.loops[w] = loops_of(dp, w);
	mo->mv.meeting = meeting;
	mo->mv.from = from;
	mo->mv.to = to;
	mo->mv.phase = MV_GRACE;
	mo->mv.start_ns = mmr_now_ns();
	return 1;
}

int meeting_owner_move_poll(struct meeting_owner *mo)
{
	struct dataplane *dp = mo->dp;
	switch (mo->mv.phase) {
	case MV_IDLE:
		return 0;
	case MV_GRACE:
		/* 2. every worker has ended the iteration it was in at the flip (its loop counter moves at
		 * the end of each, after the hand-off flush, next to its RCU quiescent state) and begun and
		 * ended another: none still holds the old owner word */
		for (unsigned w = 0; w < dp->n_workers; w++)
			if (loops_of(dp, w) < mo->mv.loops[w] + 2)
				return 1;
		/* 3. the old owner processes what it was handed */
		mo->mv.seq = post(dp, mo->mv.from, DP_REQ_DRAIN, mo->mv.meeting);
		mo->mv.phase = MV_DRAIN;
		return 1;
	case MV_DRAIN:
		if (!acked(dp, mo->mv.from, mo->mv.seq))
			return 1;
		/* 4. the new owner takes it */
		mo->mv.seq = post(dp, mo->mv.to, DP_REQ_TAKE, mo->mv.meeting);
		mo->mv.phase = MV_TAKE;
		return 1;
	case MV_TAKE:
		if (!acked(dp, mo->mv.to, mo->mv.seq))
			return 1;
		break;
	}
	uint32_t m = mo->mv.meeting;
	publish(mo, m, (uint8_t)mo->mv.to);
	mo->load[mo->mv.from] -= mo->parts[m];
	mo->load[mo->mv.to] += mo->parts[m];
	mo->moves++;
	mo->mv.phase = MV_IDLE;
	dp_log("meeting %u moved from worker %u to worker %u (%u participants) in %.0f us", m, mo->mv.from,
	       mo->mv.to, mo->parts[m], (double)(mmr_now_ns() - mo->mv.start_ns) / 1e3);
	return 0;
}

void meeting_owner_load(const struct meeting_owner *mo, uint32_t *load, unsigned n, uint64_t *moves)
{
	for (unsigned i = 0; i < n && i < MMR_MAX_LCORES; i++)
		load[i] = mo->load[i];
	*moves = mo->moves;
}
