/*
 * test_owner.c - unit tests of dataplane/owner.h: the routing rule (owner_route) for every owner word,
 * the placement choice (owner_pick), and the move protocol of dataplane/meeting_owner.c run as a
 * model: three workers with FIFO hand-off rings and hold queues, senders entering on fixed workers,
 * every step (a packet looked at, a ring burst, a flush with its quiescent state, the control thread's
 * flip / grace period / drain / take) interleaved at random, meetings moved again and again. Checked:
 * every sender's packets are processed exactly once and in order, and only one worker ever processes
 * the meeting at a time (the previous owner never after the new one started).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../dataplane/owner.h"
#include "unit_util.h"

static void test_route(void **state)
{
	unsigned to = 99;
	(void)state;
	/* ours */
	assert_int_equal(owner_route(2, 2, 0, &to), OWNER_PROCESS);
	assert_int_equal(owner_route(2, 2, 1, &to), OWNER_PROCESS);
	/* unplaced: here */
	assert_int_equal(owner_route(MMR_OWNER_NONE, 1, 0, &to), OWNER_PROCESS);
	/* another's: hand off, from our queue or (stale) from a ring */
	assert_int_equal(owner_route(3, 1, 0, &to), OWNER_HAND_OFF);
	assert_int_equal(to, 3);
	to = 99;
	assert_int_equal(owner_route(0, 1, 1, &to), OWNER_HAND_OFF);
	assert_int_equal(to, 0);
	/* moving to us: hold, whatever the way in */
	assert_int_equal(owner_route(MMR_OWNER_MOVING | 1, 1, 0, &to), OWNER_HOLD);
	assert_int_equal(owner_route(MMR_OWNER_MOVING | 1, 1, 1, &to), OWNER_HOLD);
	/* moving elsewhere: our own packets go there, ring packets (we were the owner) are processed */
	to = 99;
	assert_int_equal(owner_route(MMR_OWNER_MOVING | 2, 0, 0, &to), OWNER_HAND_OFF);
	assert_int_equal(to, 2);
	assert_int_equal(owner_route(MMR_OWNER_MOVING | 2, 0, 1, &to), OWNER_PROCESS);
	/* index 0 is a real owner, not "none" */
	assert_int_equal(owner_route(0, 0, 0, &to), OWNER_PROCESS);
	assert_int_equal(owner_route(MMR_OWNER_MOVING | 0, 0, 0, &to), OWNER_HOLD);
}

static void test_pick(void **state)
{
	(void)state;
	uint32_t one[1] = { 7 };
	assert_int_equal(owner_pick(one, 1), 0);
	uint32_t l[4] = { 3, 1, 1, 2 };
	assert_int_equal(owner_pick(l, 4), 1);     /* least loaded, lowest index among equals */
	uint32_t z[3] = { 0, 0, 0 };
	assert_int_equal(owner_pick(z, 3), 0);
	uint32_t e[3] = { 5, 5, 4 };
	assert_int_equal(owner_pick(e, 3), 2);
	/* placing one participant at a time spreads evenly */
	uint32_t load[3] = { 0, 0, 0 };
	for (int i = 0; i < 30; i++)
		load[owner_pick(load, 3)]++;
	assert_int_equal(load[0], 10);
	assert_int_equal(load[1], 10);
	assert_int_equal(load[2], 10);
}

/* ---- the move protocol as a model ------------------------------------------------------------ */

#define NW 3
#define NS 6               /* senders, all in one meeting */
#define NPKT 400           /* packets per sender */
#define Q (NS * NPKT + 8)  /* room for every packet in any queue */
#define BURST 4

struct fifo {
	int v[Q];
	unsigned head, tail;
};
static void push(struct fifo *f, int x) { f->v[f->tail++ % Q] = x; }
static int pop(struct fifo *f) { return f->v[f->head++ % Q]; }
static unsigned count(const struct fifo *f) { return f->tail - f->head; }

enum req { REQ_NONE, REQ_DRAIN, REQ_TAKE };

struct simw {
	struct fifo rx;                  /* packets entering on our queue: sender * NPKT + seq */
	struct fifo buf[NW];             /* hand-off buffers, flushed at the end of an iteration */
	struct fifo hold;
	int pc;                          /* 0: iteration start; 1: RX; 2: rings; 3: flush + QS */
	int left;                        /* packets left in the current RX or ring burst */
	unsigned ring;                   /* ring being drained */
	unsigned iter;                   /* completed iterations (quiescent states) */
	enum req req;
};

static struct sim {
	uint8_t word;
	struct simw w[NW];
	struct fifo ring[NW][NW];        /* [from][to] */
	int next_seq[NS];                /* next expected at processing */
	int sent[NS];
	int rxw[NS];                     /* the worker each sender enters on */
	unsigned allowed;                /* the one worker that may process the meeting now: the old owner
					    until the new one takes it */
	unsigned processed;
} S;

static void process(unsigned w, int pkt)
{
	int s = pkt / NPKT, seq = pkt % NPKT;
	assert_int_equal(seq, S.next_seq[s]);         /* once, in order */
	S.next_seq[s]++;
	S.processed++;
	/* one writer: the old owner until the new one has taken the meeting, then only the new one */
	assert_int_equal(w, S.allowed);
}

static void route(unsigned w, int pkt, int from_ring)
{
	unsigned to;
	switch (owner_route(S.word, w, from_ring, &to)) {
	case OWNER_PROCESS:
		process(w, pkt);
		break;
	case OWNER_HOLD:
		push(&S.w[w].hold, pkt);
		break;
	case OWNER_HAND_OFF:
		assert_true(to < NW && to != w);
		push(&S.w[w].buf[to], pkt);
		break;
	}
}

/* One step of worker w. */
static void worker_step(unsigned w)
{
	struct simw *x = &S.w[w];
	switch (x->pc) {
	case 0:
		if (x->req == REQ_DRAIN) {
			for (unsigned j = 0; j < NW; j++)
				for (unsigned n = count(&S.ring[j][w]); n; n--)
					route(w, pop(&S.ring[j][w]), 1);
			x->req = REQ_NONE;
		} else if (x->req == REQ_TAKE) {
			S.word = (uint8_t)w;
			S.allowed = w;
			while (count(&x->hold))
				route(w, pop(&x->hold), 1);
			x->req = REQ_NONE;
		}
		x->pc = 1;
		x->left = BURST;
		return;
	case 1:
		if (x->left-- > 0 && count(&x->rx)) {
			route(w, pop(&x->rx), 0);
			return;
		}
		x->pc = 2;
		x->ring = 0;
		x->left = BURST;
		return;
	case 2:
		if (x->ring == w || x->left <= 0 || !count(&S.ring[x->ring][w])) {
			if (++x->ring >= NW)
				x->pc = 3;
			x->left = BURST;
			return;
		}
		x->left--;
		route(w, pop(&S.ring[x->ring][w]), 1);
		return;
	default:
		for (unsigned j = 0; j < NW; j++)
			while (count(&x->buf[j]))
				push(&S.ring[w][j], pop(&x->buf[j]));
		x->iter++;
		x->pc = 0;
		return;
	}
}

/* The control thread's move, one step at a time. */
struct mover {
	int phase;                       /* 0 idle, 1 grace, 2 drain, 3 take */
	unsigned from, to;
	unsigned need[NW];               /* iterations each worker must have completed (grace period) */
};

static void mover_step(struct mover *mv)
{
	switch (mv->phase) {
	case 0: {
		unsigned from = S.word, to = (from + 1 + rnd() % (NW - 1)) % NW;
		mv->from = from;
		mv->to = to;
		S.word = (uint8_t)(MMR_OWNER_MOVING | to);
		for (unsigned w = 0; w < NW; w++)
			mv->need[w] = S.w[w].iter + 2;   /* as meeting_owner.c: two loop counter steps */
		mv->phase = 1;
		return;
	}
	case 1:
		for (unsigned w = 0; w < NW; w++)
			if (S.w[w].iter < mv->need[w])
				return;
		S.w[mv->from].req = REQ_DRAIN;
		mv->phase = 2;
		return;
	case 2:
		if (S.w[mv->from].req != REQ_NONE)
			return;
		S.w[mv->to].req = REQ_TAKE;
		mv->phase = 3;
		return;
	default:
		if (S.w[mv->to].req != REQ_NONE)
			return;
		assert_int_equal(S.word, mv->to);
		mv->phase = 0;
		return;
	}
}

static void run_model(uint32_t seed, unsigned move_every)
{
	struct mover mv = { 0 };
	unsigned moves = 0, steps = 0;
	rng_state = seed;
	memset(&S, 0, sizeof(S));
	S.word = 0;
	S.allowed = 0;
	for (int s = 0; s < NS; s++)
		S.rxw[s] = s % NW;
	while (S.processed < NS * NPKT) {
		assert_true(++steps < 10000000u);
		unsigned r = rnd() % 16;
		if (r < 4) {                         /* a sender sends */
			int s = (int)(rnd() % NS);
			if (S.sent[s] < NPKT)
				push(&S.w[S.rxw[s]].rx, s * NPKT + S.sent[s]++);
		} else if (r < 14) {
			worker_step(rnd() % NW);
		} else if (mv.phase != 0 || rnd() % move_every == 0) {
			if (mv.phase == 0)
				moves++;
			mover_step(&mv);
		}
	}
	for (int s = 0; s < NS; s++)
		assert_int_equal(S.next_seq[s], NPKT);
	assert_true(moves > 3);
}

static void test_move_model(void **state)
{
	(void)state;
	for (uint32_t seed = 1; seed <= 40; seed++)
		run_model(seed * 2654435761u, 1 + seed % 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route),
		cmocka_unit_test(test_pick),
		cmocka_unit_test(test_move_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
