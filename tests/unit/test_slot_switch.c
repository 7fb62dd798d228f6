/*
 * test_slot_switch.c - unit tests of a receiver's video slot (issue 13) in the layer selector:
 * layer_sel_slot_source + layer_sel_video when the publisher stream on the slot changes. The
 * receiver must see one continuous stream: sequence numbers +1 across every switch (never one
 * repeated: in SRTP that would reuse an index), timestamps moving forward by the arrival time
 * elapsed, PictureID / TL0PICIDX / AV1 frame number continuing, and the new stream's first
 * forwarded packet a keyframe start. Covers the 16-bit wrap, a switch in the middle of a frame,
 * a stale output of the previous assignment, gen numbers wrapping and a switch before anything
 * was forwarded. Senders are synthetic VP8 L1T3 / AV1 L1T1 with their own number spaces.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "layer_select.h"

/* A synthetic publisher: its own sequence, timestamp, PictureID, TL0PICIDX, frame numbers. */
struct pub {
	int codec;
	uint16_t seq, pid, fn;
	uint32_t ts;
	uint8_t tl0;
	int k;
};

struct pkt {
	struct rtp_info ri;
	struct media_pkt mp;
};

/* The receiver: its state on the slot and what it saw last. */
struct rx {
	struct layer_sel sel;
	struct layer_target t;
	bool have;
	uint16_t seq, pid, fn;
	uint32_t ts;
	uint8_t tl0;
	int n_fwd;
	bool expect_key;          /* the next forwarded packet must be a keyframe start */
};

static const uint8_t pat_tid[4] = { 0, 2, 1, 2 };

/* One frame of n packets into p[]; key: a keyframe. */
static int frame(struct pub *e, struct pkt *p, int n, bool key)
{
	uint8_t tid = key ? 0 : pat_tid[e->k % 4];
	if (e->codec == MMR_CODEC_VP8 && tid == 0 && e->k > 0)
		e->tl0++;
	for (int i = 0; i < n; i++) {
		struct pkt *q = &p[i];
		memset(q, 0, sizeof(*q));
		q->ri.seq = e->seq++;
		q->ri.ts = e->ts;
		q->ri.marker = i == n - 1;
		q->mp.codec = (uint8_t)e->codec;
		q->mp.start = i == 0;
		q->mp.end = i == n - 1;
		q->mp.keyframe = key;
		if (e->codec == MMR_CODEC_VP8) {
			q->mp.tid = tid;
			q->mp.has_layers = 1;
			q->mp.switch_up = !key && tid > 0;
			q->mp.has_pid = 1;
			q->mp.pid_16 = 1;
			q->mp.picture_id = e->pid;
			q->mp.has_tl0 = 1;
			q->mp.tl0picidx = e->tl0;
		} else {
			q->mp.has_layers = 1;
			q->mp.frame_number = e->fn;
			q->mp.keyframe = key && i == 0;
			q->mp.structure_attached = key && i == 0;
			q->mp.n_dts = 1;
			q->mp.active_dts = 1;
			q->mp.dtis = key ? AV1_DTI_SWITCH : AV1_DTI_REQUIRED;
			if (!key)
				q->mp.fdiff[q->mp.n_fdiffs++] = 1;
		}
	}
	e->k++;
	e->ts += 3000;
	e->pid = (uint16_t)((e->pid + 1) & 0x7fff);
	e->fn++;
	return n;
}

static void pub_init(struct pub *e, int codec, uint16_t seq, uint32_t ts, uint16_t pid, uint16_t fn)
{
	memset(e, 0, sizeof(*e));
	e->codec = codec;
	e->seq = seq;
	e->ts = ts;
	e->pid = pid;
	e->fn = fn;
	e->tl0 = (uint8_t)(pid * 7);
}

static void rx_init(struct rx *r)
{
	memset(r, 0, sizeof(*r));
	layer_sel_init(&r->sel);
	r->t = (struct layer_target){ .sid = 0, .tid = 2, .dt = 0, .encoding = 0 };
}

/* Feed the n packets of one frame through the slot output with assignment gen; returns how many
 * went out, checking continuity against what the receiver saw (skip: packets cut from the last
 * frame before a switch, which the receiver sees as lost). */
static int feed(struct rx *r, uint8_t gen, const struct pkt *p, int n, uint32_t arrival, int skip)
{
	int out = 0;
	for (int i = 0; i < n; i++) {
		struct layer_out o;
		int src = layer_sel_slot_source(&r->sel, gen);
		if (src == LAYER_SLOT_STALE)
			continue;
		if (src == LAYER_SLOT_NEW)
			r->expect_key = r->have;
		if (layer_sel_video(&r->sel, &r->t, &p[i].ri, &p[i].mp, arrival, &o) <= 0)
			continue;
		if (r->have) {
			uint16_t want = (uint16_t)(r->seq + 1 + (r->expect_key ? skip : 0));
			if (o.seq != want)
				fail_msg("output seq %u after %u (want %u)", o.seq, r->seq, want);
			if ((int32_t)(o.ts - r->ts) < 0)
				fail_msg("output ts %u went back from %u", o.ts, r->ts);
		}
		if (r->expect_key) {
			assert_true(p[i].mp.keyframe && p[i].mp.start);
			assert_true((int32_t)(o.ts - r->ts) >= 1);
			if (p[i].mp.codec == MMR_CODEC_VP8) {
				assert_int_equal(o.picture_id, (uint16_t)((r->pid + 1) & 0x7fff));
				assert_int_equal(o.tl0picidx, (uint8_t)(r->tl0 + 1));
			} else {
				assert_int_equal(o.frame_number, (uint16_t)(r->fn + 1));
			}
			r->expect_key = false;
		}
		r->have = true;
		r->seq = o.seq;
		r->ts = o.ts;
		r->pid = o.picture_id;
		r->tl0 = o.tl0picidx;
		r->fn = o.frame_number;
		r->n_fwd++;
		out++;
	}
	return out;
}

/* A -> B -> A with VP8: nothing of B before its keyframe, numbering continuous, the returning A
 * again only from its keyframe; timestamps move by the arrival time elapsed. */
static void run_switches(int codec, uint16_t seq_a, uint16_t seq_b)
{
	struct pub a, b;
	struct rx r;
	struct pkt p[8];
	uint32_t arr = 1000;
	int n;

	pub_init(&a, codec, seq_a, 0x10000000u, 100, 500);
	pub_init(&b, codec, seq_b, 0xfffff000u, 30000, 60000);
	rx_init(&r);
	/* A on the slot (gen 1): nothing before its keyframe, then everything */
	n = frame(&a, p, 2, false);
	assert_int_equal(feed(&r, 1, p, n, arr += 3000, 0), 0);
	n = frame(&a, p, 3, true);
	assert_int_equal(feed(&r, 1, p, n, arr += 3000, 0), 3);
	for (int k = 0; k < 6; k++) {
		n = frame(&a, p, 2, false);
		assert_int_equal(feed(&r, 1, p, n, arr += 3000, 0), 2);
	}
	uint32_t ts_before = r.ts, arr_before = arr;
	/* B on the slot (gen 2): its delta frames withheld, its keyframe continues the numbering */
	for (int k = 0; k < 3; k++) {
		n = frame(&b, p, 2, false);
		assert_int_equal(feed(&r, 2, p, n, arr += 3000, 0), 0);
	}
	/* a stale output of A (the old assignment, still published for a moment) sends nothing */
	n = frame(&a, p, 3, true);
	assert_int_equal(feed(&r, 1, p, n, arr += 3000, 0), 0);
	n = frame(&b, p, 3, true);
	assert_int_equal(feed(&r, 2, p, n, arr += 3000, 0), 3);
	assert_int_equal(r.ts, ts_before + (arr - arr_before));
	for (int k = 0; k < 5; k++) {
		n = frame(&b, p, 2, false);
		assert_int_equal(feed(&r, 2, p, n, arr += 3000, 0), 2);
	}
	/* back to A (gen 3) */
	n = frame(&a, p, 2, false);
	assert_int_equal(feed(&r, 3, p, n, arr += 3000, 0), 0);
	n = frame(&a, p, 2, true);
	assert_int_equal(feed(&r, 3, p, n, arr += 3000, 0), 2);
	n = frame(&a, p, 2, false);
	assert_int_equal(feed(&r, 3, p, n, arr += 3000, 0), 2);
	/* B's packets after it left: withheld (its gen is older) */
	n = frame(&b, p, 2, true);
	assert_int_equal(feed(&r, 2, p, n, arr += 3000, 0), 0);
}

static void test_switch_vp8(void **state)
{
	(void)state;
	run_switches(MMR_CODEC_VP8, 1000, 40000);
}

static void test_switch_av1(void **state)
{
	(void)state;
	run_switches(MMR_CODEC_AV1, 7, 9000);
}

/* Sequence numbers around the 16-bit wrap, in the receiver's numbering and in the publishers'. */
static void test_switch_wrap(void **state)
{
	(void)state;
	run_switches(MMR_CODEC_VP8, 65530, 65533);
	run_switches(MMR_CODEC_VP8, 65500, 3);
}

/* A switch in the middle of a frame: the cut frame's missing tail is one number the receiver
 * sees as lost (+1), never a number reused. */
static void test_switch_mid_frame(void **state)
{
	(void)state;
	struct pub a, b;
	struct rx r;
	struct pkt p[8];
	uint32_t arr = 0;
	int n;

	pub_init(&a, MMR_CODEC_VP8, 200, 5000, 10, 0);
	pub_init(&b, MMR_CODEC_VP8, 900, 77777, 20, 0);
	rx_init(&r);
	n = frame(&a, p, 2, true);
	assert_int_equal(feed(&r, 1, p, n, arr += 3000, 0), 2);
	n = frame(&a, p, 4, false);                      /* TID 2 frame, only 2 packets of 4 go out */
	assert_int_equal(feed(&r, 1, p, 2, arr += 3000, 0), 2);
	n = frame(&b, p, 2, true);
	assert_int_equal(feed(&r, 2, p, n, arr += 3000, 1), 2);
}

/* Gen numbers wrap (255 -> 1: the controller skips 0) and still count as newer; a slot whose
 * receiver saw nothing yet starts at the new stream's keyframe with its own numbers. */
static void test_gen_wrap_and_fresh(void **state)
{
	(void)state;
	struct layer_sel s;
	layer_sel_init(&s);
	assert_int_equal(layer_sel_slot_source(&s, 255), LAYER_SLOT_NEW);
	assert_int_equal(layer_sel_slot_source(&s, 255), LAYER_SLOT_SAME);
	assert_int_equal(layer_sel_slot_source(&s, 1), LAYER_SLOT_NEW);
	assert_int_equal(layer_sel_slot_source(&s, 255), LAYER_SLOT_STALE);
	assert_int_equal(layer_sel_slot_source(&s, 2), LAYER_SLOT_NEW);
	assert_int_equal(s.started, 0);
	assert_int_equal(s.rebase, 0);       /* nothing forwarded: nothing to continue */

	struct pub b;
	struct rx r;
	struct pkt p[4];
	pub_init(&b, MMR_CODEC_VP8, 4242, 99, 5, 0);
	rx_init(&r);
	assert_int_equal(layer_sel_slot_source(&r.sel, 7), LAYER_SLOT_NEW);
	int n = frame(&b, p, 2, true);
	struct layer_out o;
	assert_int_equal(layer_sel_video(&r.sel, &r.t, &p[0].ri, &p[0].mp, 100, &o), 1);
	assert_int_equal(o.seq, 4242);      /* the first packet ever keeps its number */
	(void)n;
}

/* A retarget (the same stream, same gen) does not restart anything. */
static void test_same_gen_keeps_state(void **state)
{
	(void)state;
	struct pub a;
	struct rx r;
	struct pkt p[4];
	uint32_t arr = 0;
	pub_init(&a, MMR_CODEC_VP8, 10, 10, 10, 0);
	rx_init(&r);
	int n = frame(&a, p, 2, true);
	assert_int_equal(feed(&r, 4, p, n, arr += 3000, 0), 2);
	r.t.tid = 0;
	for (int k = 0; k < 4; k++) {
		n = frame(&a, p, 2, false);
		feed(&r, 4, p, n, arr += 3000, 0);
	}
	assert_int_equal(r.sel.started, 1);
	assert_int_equal(r.sel.rebase, 0);
}

/* layer_sel_next_seq is the number the rebased keyframe gets. */
static void test_next_seq(void **state)
{
	(void)state;
	struct pub a, b;
	struct rx r;
	struct pkt p[4];
	pub_init(&a, MMR_CODEC_VP8, 65535, 10, 10, 0);
	pub_init(&b, MMR_CODEC_VP8, 300, 10, 10, 0);
	rx_init(&r);
	int n = frame(&a, p, 2, true);
	assert_int_equal(feed(&r, 1, p, n, 3000, 0), 2);
	uint16_t next = layer_sel_next_seq(&r.sel);
	assert_int_equal(next, (uint16_t)(r.seq + 1));
	n = frame(&b, p, 2, true);
	assert_int_equal(feed(&r, 2, p, n, 6000, 0), 2);
	assert_int_equal(r.seq, (uint16_t)(next + 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_switch_vp8),
		cmocka_unit_test(test_switch_av1),
		cmocka_unit_test(test_switch_wrap),
		cmocka_unit_test(test_switch_mid_frame),
		cmocka_unit_test(test_gen_wrap_and_fresh),
		cmocka_unit_test(test_same_gen_keeps_state),
		cmocka_unit_test(test_next_seq),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
