/*
 * test_layer_select.c - unit tests of the per-receiver VP8 temporal layer selector
 * (lib/select/layer_select.c) on synthetic packet sequences.
 *
 * A synthetic sender produces frames of one or more packets (seq +1 per packet, timestamp +3000,
 * PictureID +1 per frame, TL0PICIDX +1 per TID 0 frame). A synthetic receiver feeds them through
 * layer_sel_vp8 and checks what a real decoder needs:
 *  - every packet of a frame gets the same decision;
 *  - output sequence numbers are contiguous (no gap unless the input had one), PictureIDs
 *    continuous modulo their width, TL0PICIDX continuous over TL0 frames;
 *  - decodability: with the reference structure of temporal layers (a Y=0 frame of layer t uses
 *    the latest frames of layers 0..t, a Y=1 frame only the latest TL0 frame, a keyframe nothing),
 *    every forwarded frame references only frames the receiver got and could decode.
 * Then the individual rules: nothing before a keyframe, up-switch only at Y=1 of the next layer or
 * at a keyframe, down-switch at a frame boundary, wraps of seq (65535) and PictureID (32767, 127),
 * lost first packets, reordering, streams without TID, audio pass-through.
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

/* ---- synthetic sender ---------------------------------------------------------------------- */

struct sender {
	uint16_t seq;
	uint32_t ts;
	uint16_t pid;          /* picture id of the next frame */
	uint8_t  tl0;          /* TL0PICIDX of the latest TID 0 frame */
	bool     pid7;         /* 7-bit PictureIDs (else 15-bit) */
	bool     no_tid;       /* no T bit, no TL0PICIDX */
	bool     started;
};

struct pkt {
	struct rtp_info ri;
	struct vp8_desc d;
};

#define MAX_PKTS 8

struct frame {
	int tid, y, key, n;
	struct pkt p[MAX_PKTS];
};

static void sender_init(struct sender *s, uint16_t seq, uint16_t pid)
{
	memset(s, 0, sizeof(*s));
	s->seq = seq;
	s->ts = 90000;
	s->pid = pid;
	s->tl0 = 200;
}

/* The next frame, n packets. */
static void make_frame(struct sender *s, struct frame *f, int tid, int y, int key, int n)
{
	uint16_t mask = s->pid7 ? 0x7f : 0x7fff;

	assert_true(n >= 1 && n <= MAX_PKTS);
	if (s->no_tid)
		tid = 0, y = 0;
	if (tid == 0 && s->started)
		s->tl0++;
	s->started = true;
	f->tid = tid;
	f->y = y;
	f->key = key;
	f->n = n;
	for (int i = 0; i < n; i++) {
		struct pkt *p = &f->p[i];

		memset(p, 0, sizeof(*p));
		p->ri.pt = 96;
		p->ri.seq = s->seq++;
		p->ri.ts = s->ts;
		p->ri.ssrc = 0x1234;
		p->ri.marker = i == n - 1;
		p->d.start = i == 0;
		p->d.frame_start = i == 0;
		p->d.keyframe = i == 0 && key;
		p->d.has_picture_id = 1;
		p->d.picture_id_16 = !s->pid7;
		p->d.picture_id = s->pid & mask;
		if (!s->no_tid) {
			p->d.has_tl0picidx = 1;
			p->d.tl0picidx = s->tl0;
			p->d.has_tid = 1;
			p->d.tid = (uint8_t)tid;
			p->d.layer_sync = (uint8_t)y;
		}
	}
	s->ts += 3000;
	s->pid = (uint16_t)((s->pid + 1) & mask);
}

/* ---- synthetic receiver -------------------------------------------------------------------- */

struct receiver {
	struct layer_sel sel;
	uint8_t  target;
	bool     have_out;
	uint16_t last_seq, last_pid;
	uint8_t  last_tl0;
	bool     have_tl0;
	int      frames, pkts;     /* forwarded */
	int      frames_by_tid[4];
	bool     ok[4];            /* holds a decodable copy of the latest frame of each layer */
	int      last_fwd;         /* decision of the last frame */
	int      paused_pkts;      /* LAYER_SEL_PAUSED answers */
};

static void receiver_init(struct receiver *r, uint8_t target)
{
	memset(r, 0, sizeof(*r));
	layer_sel_init(&r->sel);
	r->target = target;
}

/* Feed an in-order frame with no loss; check everything a decoder needs. Returns the decision. */
static int feed(struct receiver *r, const struct frame *f)
{
	int fwd = -1;

	for (int i = 0; i < f->n; i++) {
		struct layer_out o;
		int got = layer_sel_vp8(&r->sel, r->target, &f->p[i].ri, &f->p[i].d, &o);

		if (got == LAYER_SEL_PAUSED) {     /* withheld: the allocation pauses the receiver */
			r->paused_pkts++;
			got = 0;
		}
		if (fwd < 0)
			fwd = got;
		if (got != fwd)
			fail_msg("packet %d of a frame got %d, its first packet %d", i, got, fwd);
		if (!got)
			continue;
		if (r->have_out && o.seq != (uint16_t)(r->last_seq + 1))
			fail_msg("output seq %u after %u", o.seq, r->last_seq);
		if (i == 0 && r->have_out) {
			uint16_t mask = f->p[0].d.picture_id_16 ? 0x7fff : 0x7f;

			if (o.picture_id != ((r->last_pid + 1) & mask))
				fail_msg("output PictureID %u after %u", o.picture_id, r->last_pid);
		}
		if (i > 0)
			assert_int_equal(o.picture_id, r->last_pid);
		if (f->p[i].d.has_tl0picidx) {
			if (i == 0 && f->tid == 0 && r->have_tl0 && o.tl0picidx != (uint8_t)(r->last_tl0 + 1))
				fail_msg("TL0PICIDX %u after %u on a TL0 frame", o.tl0picidx, r->last_tl0);
			if (f->tid != 0 && r->have_tl0)
				assert_int_equal(o.tl0picidx, r->last_tl0);
			r->last_tl0 = o.tl0picidx;
			r->have_tl0 = true;
		}
		r->have_out = true;
		r->last_seq = o.seq;
		r->last_pid = o.picture_id;
		r->pkts++;
	}

	/* decodability */
	if (f->key) {
		for (int t = 0; t < 4; t++)
			r->ok[t] = fwd;
	} else {
		bool dec = r->ok[0];

		if (!f->y)
			for (int t = 1; t <= f->tid; t++)
				dec = dec && r->ok[t];
		if (fwd && !dec)
			fail_msg("forwarded a TID %d Y=%d frame that references a frame the receiver lacks",
				 f->tid, f->y);
		r->ok[f->tid] = fwd && dec;
	}
	if (fwd) {
		r->frames++;
		r->frames_by_tid[f->tid]++;
	}
	r->last_fwd = fwd;
	return fwd;
}

/* The L1T3 pattern GStreamer's vp8enc uses (docs: real-clients.md): layer ids 0,2,1,2,0,2,1,2 with
 * sync flags on positions 1 and 2. */
static const int l1t3_tid[8] = { 0, 2, 1, 2, 0, 2, 1, 2 };
static const int l1t3_y[8]   = { 0, 1, 1, 0, 0, 0, 0, 0 };

static void l1t3_frame(struct sender *s, struct frame *f, int idx, int n)
{
	make_frame(s, f, l1t3_tid[idx % 8], l1t3_y[idx % 8], idx == 0, n);
}

/* ---- tests --------------------------------------------------------------------------------- */

static void test_nothing_before_keyframe(void **state)
{
	struct sender s;
	struct receiver r;
	struct frame f;

	(void)state;
	sender_init(&s, 1000, 10);
	receiver_init(&r, 2);
	for (int i = 0; i < 20; i++) {
		make_frame(&s, &f, l1t3_tid[i % 8], 1, 0, 2);   /* even Y=1 frames of every layer */
		assert_int_equal(feed(&r, &f), 0);
	}
	assert_int_equal(r.sel.started, 0);
	make_frame(&s, &f, 0, 0, 1, 3);
	assert_int_equal(feed(&r, &f), 1);
	assert_int_equal(r.sel.started, 1);
	assert_int_equal(r.sel.cur_tid, 2);
	/* nothing was counted before the start: the first output keeps its input number */
	{
		struct layer_sel fresh;
		struct layer_out o;

		layer_sel_init(&fresh);
		assert_int_equal(layer_sel_vp8(&fresh, 2, &f.p[0].ri, &f.p[0].d, &o), 1);
		assert_int_equal(o.seq, f.p[0].ri.seq);
		assert_int_equal(o.picture_id, f.p[0].d.picture_id);
	}
	assert_int_equal(r.last_seq, f.p[2].ri.seq);
	/* a keyframe whose first packet was lost is not recognised: still nothing */
	sender_init(&s, 1, 1);
	receiver_init(&r, 0);
	make_frame(&s, &f, 0, 0, 1, 3);
	for (int i = 1; i < 3; i++) {
		struct layer_out o;

		assert_int_equal(layer_sel_vp8(&r.sel, 0, &f.p[i].ri, &f.p[i].d, &o), 0);
	}
}

/* T0, T1, T2 receivers of a keyframe-started L1T3 stream get 1/4, 1/2 and all of its frames. */
static void test_l1t3_rates(void **state)
{
	struct sender s;
	struct receiver r[4];
	struct frame f;
	const int n_frames = 800;

	(void)state;
	sender_init(&s, 100, 0);
	for (int t = 0; t < 4; t++)
		receiver_init(&r[t], (uint8_t)t);
	for (int i = 0; i < n_frames; i++) {
		l1t3_frame(&s, &f, i, 1 + i % 3);
		for (int t = 0; t < 4; t++)
			feed(&r[t], &f);
	}
	assert_int_equal(r[0].frames, n_frames / 4);
	assert_int_equal(r[1].frames, n_frames / 2);
	assert_int_equal(r[2].frames, n_frames);
	assert_int_equal(r[3].frames, n_frames);
	assert_int_equal(r[0].frames_by_tid[1] + r[0].frames_by_tid[2], 0);
	assert_int_equal(r[1].frames_by_tid[2], 0);
	assert_int_equal(r[1].frames_by_tid[1], n_frames / 4);
	/* packets: 1+2+3 per 3 frames; T2 got them all, with output == input numbers */
	assert_int_equal(r[2].last_seq, (uint16_t)(s.seq - 1));
	assert_int_equal(r[2].last_pid, (uint16_t)(s.pid - 1));
}

/* Output sequence numbers of a T0 receiver: contiguous from the first forwarded packet. */
static void test_seq_contiguous_over_drops(void **state)
{
	struct sender s;
	struct receiver r;
	struct frame f;
	uint16_t first = 0;

	(void)state;
	sender_init(&s, 5000, 0);
	receiver_init(&r, 0);
	for (int i = 0; i < 64; i++) {
		l1t3_frame(&s, &f, i, 4);
		if (feed(&r, &f) && i == 0)
			first = r.last_seq - 3;
	}
	assert_int_equal(first, 5000);
	assert_int_equal(r.pkts, 16 * 4);
	assert_int_equal(r.last_seq, (uint16_t)(first + r.pkts - 1));
	/* 48 withheld frames of 4 packets */
	assert_int_equal(r.sel.seq_offset, 48 * 4);
}

static void run_wrap(uint16_t seq0, uint16_t pid0, bool pid7, int n_frames)
{
	for (uint8_t target = 0; target <= 2; target++) {
		struct sender s;
		struct receiver r;
		struct frame f;
		bool saw_seq_wrap = false, saw_pid_wrap = false;
		uint16_t prev_seq = 0, prev_pid = 0;

		sender_init(&s, seq0, pid0);
		s.pid7 = pid7;
		receiver_init(&r, target);
		for (int i = 0; i < n_frames; i++) {
			l1t3_frame(&s, &f, i, 3);
			if (feed(&r, &f)) {
				if (i > 0 && r.last_seq < prev_seq)
					saw_seq_wrap = true;
				if (i > 0 && r.last_pid < prev_pid)
					saw_pid_wrap = true;
				prev_seq = r.last_seq;
				prev_pid = r.last_pid;
				assert_true(r.last_pid <= (pid7 ? 0x7f : 0x7fff));
			}
		}
		assert_true(saw_seq_wrap || seq0 < 60000);
		assert_true(saw_pid_wrap);
	}
}

static void test_seq_wrap(void **state)
{
	(void)state;
	run_wrap(65500, 32700, false, 300);
	run_wrap(65530, 32767, false, 40);
}

static void test_pid_wrap_15bit(void **state)
{
	(void)state;
	run_wrap(1, 32750, false, 200);
}

static void test_pid_wrap_7bit(void **state)
{
	(void)state;
	run_wrap(1, 120, true, 600);
}

/* Target raised from 0 to 1: T1 frames without Y are withheld; the first Y=1 T1 frame switches. */
static void test_up_at_y_only(void **state)
{
	struct sender s;
	struct receiver r;
	struct frame f;

	(void)state;
	sender_init(&s, 1, 1);
	receiver_init(&r, 0);
	make_frame(&s, &f, 0, 0, 1, 2);
	assert_int_equal(feed(&r, &f), 1);
	make_frame(&s, &f, 1, 0, 0, 2);
	assert_int_equal(feed(&r, &f), 0);
	r.target = 1;
	for (int i = 0; i < 5; i++) {
		make_frame(&s, &f, 0, 0, 0, 2);
		assert_int_equal(feed(&r, &f), 1);
		make_frame(&s, &f, 1, 0, 0, 2);         /* would reference the withheld T1 frame */
		assert_int_equal(feed(&r, &f), 0);
	}
	assert_int_equal(r.sel.cur_tid, 0);
	make_frame(&s, &f, 1, 1, 0, 2);                 /* Y=1: references TL0 only */
	assert_int_equal(feed(&r, &f), 1);
	assert_int_equal(r.sel.cur_tid, 1);
	make_frame(&s, &f, 1, 0, 0, 2);
	assert_int_equal(feed(&r, &f), 1);
	make_frame(&s, &f, 0, 0, 0, 2);
	assert_int_equal(feed(&r, &f), 1);
	make_frame(&s, &f, 2, 1, 0, 2);                 /* above the target, even with Y=1 */
	assert_int_equal(feed(&r, &f), 0);
	/* a Y=1 frame whose first packet is lost does not switch up */
	r.target = 2;
	make_frame(&s, &f, 2, 1, 0, 3);
	{
		struct layer_out o;

		for (int i = 1; i < 3; i++)
			assert_int_equal(layer_sel_vp8(&r.sel, 2, &f.p[i].ri, &f.p[i].d, &o), 0);
	}
	assert_int_equal(r.sel.cur_tid, 1);
}

/* Target raised from 0 to 2 in the GStreamer L1T3 pattern: a Y=1 TID 2 frame seen while at T0 must
 * not switch (later TID 2 frames reference TID 1 frames the receiver lacks); the way up is a Y=1
 * TID 1 frame, then a Y=1 TID 2 frame. */
static void test_up_two_steps(void **state)
{
	struct sender s;
	struct receiver r;
	struct frame f;
	int fwd[24];

	(void)state;
	sender_init(&s, 1, 1);
	receiver_init(&r, 0);
	for (int i = 0; i < 8; i++) {
		l1t3_frame(&s, &f, i, 1);
		feed(&r, &f);
	}
	assert_int_equal(r.frames, 2);
	r.target = 2;
	for (int i = 8; i < 32; i++) {
		l1t3_frame(&s, &f, i, 1);
		fwd[i - 8] = feed(&r, &f);
	}
	/* period 1: pos 0 T0, pos 1 T2 Y (no: still T0), pos 2 T1 Y (up to 1), 3 T2, 4 T0, 5 T2, 6 T1,
	 * 7 T2; period 2: pos 1 T2 Y (up to 2), then everything */
	static const int want[24] = { 1, 0, 1, 0, 1, 0, 1, 0,
				      1, 1, 1, 1, 1, 1, 1, 1,
				      1, 1, 1, 1, 1, 1, 1, 1 };
	for (int i = 0; i < 24; i++)
		if (fwd[i] != want[i])
			fail_msg("frame %d (pos %d, TID %d): forwarded %d, want %d", i + 8, i % 8,
				 l1t3_tid[i % 8], fwd[i], want[i]);
	assert_int_equal(r.sel.cur_tid, 2);

	/* the dangerous case spelled out: T1 (Y=0) withheld, then a Y=1 T2, then a Y=0 T2 that uses
	 * the T1 frame. Neither T2 frame may reach a T0 receiver that just raised its target to 2. */
	sender_init(&s, 1, 1);
	receiver_init(&r, 0);
	make_frame(&s, &f, 0, 0, 1, 1);
	assert_int_equal(feed(&r, &f), 1);
	make_frame(&s, &f, 1, 0, 0, 1);
	assert_int_equal(feed(&r, &f), 0);
	r.target = 2;
	make_frame(&s, &f, 2, 1, 0, 1);
	assert_int_equal(feed(&r, &f), 0);
	make_frame(&s, &f, 2, 0, 0, 1);
	assert_int_equal(feed(&r, &f), 0);      /* feed() would fail if this were forwarded */
}

static void test_up_at_keyframe(void **state)
{
	struct sender s;
	struct receiver r;
	struct frame f;

	(void)state;
	sender_init(&s, 1, 1);
	receiver_init(&r, 0);
	for (int i = 0; i < 12; i++) {
		l1t3_frame(&s, &f, i, 2);
		feed(&r, &f);
	}
	assert_int_equal(r.sel.cur_tid, 0);
	r.target = 2;
	make_frame(&s, &f, 0, 0, 1, 2);             /* keyframe */
	assert_int_equal(feed(&r, &f), 1);
	assert_int_equal(r.sel.cur_tid, 2);
	make_frame(&s, &f, 2, 0, 0, 2);             /* T2 without Y: fine after a keyframe */
	assert_int_equal(feed(&r, &f), 1);
	make_frame(&s, &f, 1, 0, 0, 2);
	assert_int_equal(feed(&r, &f), 1);
	/* a keyframe is forwarded whatever its TID, also when the target is lower */
	r.target = 0;
	make_frame(&s, &f, 2, 0, 1, 2);
	assert_int_equal(feed(&r, &f), 1);
	assert_int_equal(r.sel.cur_tid, 0);
	make_frame(&s, &f, 1, 1, 0, 2);
	assert_int_equal(feed(&r, &f), 0);
}

/* Target lowered in the middle of a frame: that frame completes, the next frame obeys. */
static void test_down_at_frame_boundary(void **state)
{
	struct sender s;
	struct receiver r;
	struct frame f;
	struct layer_out o;

	(void)state;
	sender_init(&s, 1, 1);
	receiver_init(&r, 2);
	for (int i = 0; i < 9; i++) {
		l1t3_frame(&s, &f, i, 3);
		assert_int_equal(feed(&r, &f), 1);
	}
	/* frame 9 is pos 1, TID 2: lower the target to 0 after its first packet */
	l1t3_frame(&s, &f, 9, 3);
	assert_int_equal(f.tid, 2);
	assert_int_equal(layer_sel_vp8(&r.sel, 2, &f.p[0].ri, &f.p[0].d, &o), 1);
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &f.p[1].ri, &f.p[1].d, &o), 1);
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &f.p[2].ri, &f.p[2].d, &o), 1);
	r.last_seq = o.seq;
	r.last_pid = o.picture_id;
	r.target = 0;
	l1t3_frame(&s, &f, 10, 3);                  /* TID 1 */
	assert_int_equal(feed(&r, &f), 0);
	assert_int_equal(r.sel.cur_tid, 0);
	l1t3_frame(&s, &f, 11, 3);                  /* TID 2 */
	assert_int_equal(feed(&r, &f), 0);
	l1t3_frame(&s, &f, 12, 3);                  /* TID 0 */
	assert_int_equal(feed(&r, &f), 1);
	/* down by one: T2 -> T1 */
	receiver_init(&r, 2);
	sender_init(&s, 1, 1);
	for (int i = 0; i < 8; i++) {
		l1t3_frame(&s, &f, i, 1);
		feed(&r, &f);
	}
	r.target = 1;
	for (int i = 8; i < 16; i++) {
		l1t3_frame(&s, &f, i, 1);
		assert_int_equal(feed(&r, &f), l1t3_tid[i % 8] <= 1);
	}
}

/* Random layer patterns, sync flags, keyframes and target changes: every forwarded frame is
 * decodable, outputs stay contiguous (checked by feed()), and receivers do get upper layers. */
static void test_random_patterns_decodable(void **state)
{
	uint32_t x = 99;
	struct sender s;
	struct receiver r[6];
	struct frame f;
	int upper = 0;

	(void)state;
	sender_init(&s, 65000, 32000);
	for (int i = 0; i < 6; i++)
		receiver_init(&r[i], (uint8_t)(i % 4));
	for (int i = 0; i < 60000; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		int tid = (int)(x % 4), y = (x >> 4) % 3 == 0, key = (x >> 8) % 97 == 0;

		make_frame(&s, &f, tid, tid ? y : 0, key, 1 + (int)((x >> 12) % 3));
		for (int k = 0; k < 6; k++) {
			if ((x >> (16 + k)) % 61 == 0)
				r[k].target = (uint8_t)((x >> 24) % 5);
			feed(&r[k], &f);
		}
	}
	for (int k = 0; k < 6; k++)
		upper += r[k].frames_by_tid[2] + r[k].frames_by_tid[3];
	assert_true(upper > 1000);
}

/* Losses: inside a forwarded frame they stay visible as a gap; inside (or at the tail of, or
 * between) withheld frames they leave no gap, since the receiver was never to get those packets. */
static void test_losses_and_gaps(void **state)
{
	struct sender s;
	struct receiver r;
	struct frame f;
	struct layer_out o;
	uint16_t last;

	(void)state;
	sender_init(&s, 100, 1);
	receiver_init(&r, 0);
	l1t3_frame(&s, &f, 0, 4);                   /* key T0: 100..103, forwarded */
	feed(&r, &f);
	last = r.last_seq;
	assert_int_equal(last, 103);
	/* T2 frame 104..107 with its 2nd and 4th packets lost */
	l1t3_frame(&s, &f, 1, 4);
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &f.p[0].ri, &f.p[0].d, &o), 0);
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &f.p[2].ri, &f.p[2].d, &o), 0);
	/* T1 frame 108..111, first two packets lost (start lost: a timestamp change) */
	l1t3_frame(&s, &f, 2, 4);
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &f.p[2].ri, &f.p[2].d, &o), 0);
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &f.p[3].ri, &f.p[3].d, &o), 0);
	/* T2 frame 112..113, fine */
	l1t3_frame(&s, &f, 3, 2);
	assert_int_equal(feed(&r, &f), 0);
	/* T0 frame 114..117: continues 103 with no gap */
	l1t3_frame(&s, &f, 4, 4);
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &f.p[0].ri, &f.p[0].d, &o), 1);
	assert_int_equal(o.seq, (uint16_t)(last + 1));
	/* its 2nd packet lost: a gap of one the receiver must see */
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &f.p[2].ri, &f.p[2].d, &o), 1);
	assert_int_equal(o.seq, (uint16_t)(last + 3));
	/* its last packet lost too, then a withheld T2 frame: the tail loss stays a gap */
	l1t3_frame(&s, &f, 5, 2);
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &f.p[0].ri, &f.p[0].d, &o), 0);
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &f.p[1].ri, &f.p[1].d, &o), 0);
	l1t3_frame(&s, &f, 6, 1);                   /* T1, withheld */
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &f.p[0].ri, &f.p[0].d, &o), 0);
	l1t3_frame(&s, &f, 7, 1);                   /* T2, withheld */
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &f.p[0].ri, &f.p[0].d, &o), 0);
	l1t3_frame(&s, &f, 8, 2);                   /* T0 */
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &f.p[0].ri, &f.p[0].d, &o), 1);
	assert_int_equal(o.seq, (uint16_t)(last + 5));
	/* a frame lost entirely between a forwarded and a withheld frame is a loss we cannot place:
	 * T2 frame (2 packets) lost, the following T1's first packet lost too */
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &f.p[1].ri, &f.p[1].d, &o), 1);
	last = o.seq;
	l1t3_frame(&s, &f, 9, 2);                   /* T2, lost */
	l1t3_frame(&s, &f, 10, 2);                  /* T1, first packet lost */
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &f.p[1].ri, &f.p[1].d, &o), 0);
	l1t3_frame(&s, &f, 11, 1);                  /* T2 */
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &f.p[0].ri, &f.p[0].d, &o), 0);
	l1t3_frame(&s, &f, 12, 1);                  /* T0: three unplaced numbers stay a gap */
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &f.p[0].ri, &f.p[0].d, &o), 1);
	assert_int_equal(o.seq, (uint16_t)(last + 4));
	last = o.seq;
	/* withheld T2, then a T0 frame lost whole (2 packets), then T2 with S=1: the PictureID jump
	 * shows a frame missing, so its numbers stay a gap even between two withheld frames */
	make_frame(&s, &f, 2, 0, 0, 1);
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &f.p[0].ri, &f.p[0].d, &o), 0);
	make_frame(&s, &f, 0, 0, 0, 2);             /* lost */
	make_frame(&s, &f, 2, 0, 0, 1);
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &f.p[0].ri, &f.p[0].d, &o), 0);
	make_frame(&s, &f, 0, 0, 0, 1);
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &f.p[0].ri, &f.p[0].d, &o), 1);
	assert_int_equal(o.seq, (uint16_t)(last + 3));
}

/* The first packet of a frame is lost: the timestamp change starts the frame. */
static void test_lost_frame_start(void **state)
{
	struct sender s;
	struct receiver r;
	struct frame f;
	struct layer_out o;
	uint16_t before;

	(void)state;
	sender_init(&s, 1, 1);
	receiver_init(&r, 0);
	for (int i = 0; i < 4; i++) {
		l1t3_frame(&s, &f, i, 3);
		feed(&r, &f);
	}
	before = r.last_seq;
	/* a TID 2 frame missing its first packet: withheld as a whole */
	make_frame(&s, &f, 2, 0, 0, 3);
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &f.p[1].ri, &f.p[1].d, &o), 0);
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &f.p[2].ri, &f.p[2].d, &o), 0);
	/* a TID 0 frame missing its first packet: forwarded, the loss stays one gap */
	make_frame(&s, &f, 0, 0, 0, 3);
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &f.p[1].ri, &f.p[1].d, &o), 1);
	assert_int_equal(o.seq, (uint16_t)(before + 2));
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &f.p[2].ri, &f.p[2].d, &o), 1);
	assert_int_equal(o.seq, (uint16_t)(before + 3));
	/* its first packet arrives late: it fills the gap exactly */
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &f.p[0].ri, &f.p[0].d, &o), 1);
	assert_int_equal(o.seq, (uint16_t)(before + 1));
	/* a T1 receiver does not switch up at a Y=1 frame it only saw from the middle: see
	 * test_up_at_y_only */
}

static void test_reordering(void **state)
{
	struct sender s;
	struct receiver r;
	struct frame a, b, c, d;
	struct layer_out o, o2;

	(void)state;
	sender_init(&s, 65530, 1);
	receiver_init(&r, 0);
	make_frame(&s, &a, 0, 0, 1, 4);              /* key, forwarded: 65530..65533 */
	make_frame(&s, &b, 2, 0, 0, 3);              /* withheld: 65534, 65535, 0 */
	make_frame(&s, &c, 0, 0, 0, 3);              /* forwarded: 1..3 */
	make_frame(&s, &d, 1, 0, 0, 2);              /* withheld: 4, 5 */

	/* a: 0, 2, 1(late, current frame), 3 */
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &a.p[0].ri, &a.p[0].d, &o), 1);
	assert_int_equal(o.seq, 65530);
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &a.p[2].ri, &a.p[2].d, &o), 1);
	assert_int_equal(o.seq, 65532);
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &a.p[1].ri, &a.p[1].d, &o), 1);
	assert_int_equal(o.seq, 65531);
	/* b starts before a's last packet arrives */
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &b.p[0].ri, &b.p[0].d, &o), 0);
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &b.p[1].ri, &b.p[1].d, &o), 0);
	/* a's last packet, late, in the previous frame: its exact number */
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &a.p[3].ri, &a.p[3].d, &o), 1);
	assert_int_equal(o.seq, 65533);
	assert_int_equal(o.picture_id, a.p[0].d.picture_id);
	/* a duplicate gets the same number again (the receiver drops it) */
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &a.p[3].ri, &a.p[3].d, &o2), 1);
	assert_int_equal(o2.seq, 65533);
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &b.p[2].ri, &b.p[2].d, &o), 0);
	/* c follows a contiguously across the input wrap and the withheld frame */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(layer_sel_vp8(&r.sel, 0, &c.p[i].ri, &c.p[i].d, &o), 1);
		assert_int_equal(o.seq, (uint16_t)(65534 + i));
		assert_int_equal(o.picture_id, (uint16_t)(a.p[0].d.picture_id + 1));
	}
	/* d withheld; a late packet of b (two frames back, withheld) and of a (too old) */
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &d.p[0].ri, &d.p[0].d, &o), 0);
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &b.p[1].ri, &b.p[1].d, &o), 0);
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &a.p[2].ri, &a.p[2].d, &o), 0);
	/* c's packets late, after d began: the previous frame, exact numbers */
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &c.p[1].ri, &c.p[1].d, &o), 1);
	assert_int_equal(o.seq, 65535);
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &d.p[1].ri, &d.p[1].d, &o), 0);
	/* nothing late changed the running offsets */
	assert_int_equal(r.sel.seq_offset, 5);
	assert_int_equal(r.sel.pid_offset, 2);
}

/* Two frames with the same timestamp (an invisible frame and the visible one) are two frames. */
static void test_same_timestamp_frames(void **state)
{
	struct sender s;
	struct receiver r;
	struct frame f;

	(void)state;
	sender_init(&s, 1, 1);
	receiver_init(&r, 0);
	make_frame(&s, &f, 0, 0, 1, 2);
	assert_int_equal(feed(&r, &f), 1);
	s.ts -= 3000;
	make_frame(&s, &f, 2, 0, 0, 2);
	assert_int_equal(feed(&r, &f), 0);
	s.ts -= 3000;
	make_frame(&s, &f, 0, 0, 0, 2);
	assert_int_equal(feed(&r, &f), 1);

	/* three frames on one timestamp, T2 (withheld), T0, T0: a late packet of the T2 frame is
	 * two frames back and must not pass for the previous (forwarded) frame */
	struct frame a, b, c;
	struct layer_out o;

	make_frame(&s, &a, 2, 0, 0, 3);
	s.ts -= 3000;
	make_frame(&s, &b, 0, 0, 0, 2);
	s.ts -= 3000;
	make_frame(&s, &c, 0, 0, 0, 2);
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &a.p[0].ri, &a.p[0].d, &o), 0);
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &a.p[1].ri, &a.p[1].d, &o), 0);
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &b.p[0].ri, &b.p[0].d, &o), 1);
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &b.p[1].ri, &b.p[1].d, &o), 1);
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &c.p[0].ri, &c.p[0].d, &o), 1);
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &a.p[2].ri, &a.p[2].d, &o), 0);
	/* ... while the previous frame's own late packet is placed exactly */
	assert_int_equal(layer_sel_vp8(&r.sel, 0, &b.p[1].ri, &b.p[1].d, &o), 1);
	assert_int_equal(o.picture_id, (uint16_t)(r.last_pid + 1));
}

/* A stream without temporal layer information: everything after the first keyframe. */
static void test_no_tid_stream(void **state)
{
	struct sender s;
	struct receiver r;
	struct frame f;

	(void)state;
	sender_init(&s, 777, 5);
	s.no_tid = true;
	receiver_init(&r, 0);
	make_frame(&s, &f, 0, 0, 0, 2);
	assert_int_equal(feed(&r, &f), 0);
	make_frame(&s, &f, 0, 0, 1, 2);
	assert_int_equal(feed(&r, &f), 1);
	for (int i = 0; i < 50; i++) {
		make_frame(&s, &f, 0, 0, 0, 2);
		assert_int_equal(feed(&r, &f), 1);
	}
	assert_int_equal(r.last_seq, (uint16_t)(s.seq - 1));
	assert_int_equal(r.sel.seq_offset, 0);
}

static void test_target_clamped(void **state)
{
	struct sender s;
	struct receiver r;
	struct frame f;

	(void)state;
	sender_init(&s, 1, 1);
	receiver_init(&r, 200);
	make_frame(&s, &f, 0, 0, 1, 1);
	assert_int_equal(feed(&r, &f), 1);
	assert_int_equal(r.sel.cur_tid, 3);
	make_frame(&s, &f, 3, 0, 0, 1);
	assert_int_equal(feed(&r, &f), 1);
}

static void test_passthrough(void **state)
{
	struct layer_sel sel;
	struct rtp_info ri;
	struct layer_out o;

	(void)state;
	layer_sel_init(&sel);
	memset(&ri, 0, sizeof(ri));
	for (uint32_t i = 0; i < 70000; i += 7) {
		ri.seq = (uint16_t)(i * 3);
		assert_int_equal(layer_sel_passthrough(&sel, &ri, &o), 1);
		assert_int_equal(o.seq, ri.seq);
	}
}

/* The whole path on bytes: parse, select, rewrite, parse again. */
static void test_rewrite_on_bytes(void **state)
{
	struct layer_sel sel;
	uint8_t pkt[64];
	uint16_t in_pid = 32766, prev_out_seq = 0, prev_out_pid = 0;
	uint8_t tl0 = 254;
	int n_out = 0;

	(void)state;
	layer_sel_init(&sel);
	for (int i = 0; i < 40; i++) {
		int tid = l1t3_tid[i % 8];
		uint16_t seq = (uint16_t)(65520 + i);
		struct rtp_info ri, ri2;
		struct vp8_desc d, d2;
		struct layer_out o;

		if (tid == 0 && i)
			tl0++;
		memset(pkt, 0, sizeof(pkt));
		pkt[0] = 0x80;
		pkt[1] = 0x80 | 96;
		pkt[2] = (uint8_t)(seq >> 8);
		pkt[3] = (uint8_t)seq;
		pkt[7] = (uint8_t)i;
		pkt[12] = 0x90;                              /* X, S, PID 0 */
		pkt[13] = 0xe0;                              /* I L T */
		pkt[14] = (uint8_t)(0x80 | in_pid >> 8);
		pkt[15] = (uint8_t)in_pid;
		pkt[16] = tl0;
		pkt[17] = (uint8_t)(tid << 6 | l1t3_y[i % 8] << 5);
		pkt[18] = i == 0 ? 0x10 : 0x11;              /* VP8 header: key frame bit */
		assert_int_equal(rtp_parse(pkt, 30, &ri), MMR_DROP_NONE);
		assert_int_equal(vp8_parse(pkt + ri.hdr_len, ri.payload_len, &d), MMR_DROP_NONE);
		if (layer_sel_vp8(&sel, 0, &ri, &d, &o)) {
			rtp_set_seq(pkt, o.seq);
			vp8_set_picture_id(pkt + ri.hdr_len, &d, o.picture_id);
			vp8_set_tl0picidx(pkt + ri.hdr_len, &d, o.tl0picidx);
			assert_int_equal(rtp_parse(pkt, 30, &ri2), MMR_DROP_NONE);
			assert_int_equal(vp8_parse(pkt + 12, 18, &d2), MMR_DROP_NONE);
			assert_int_equal(d2.picture_id_16, 1);
			assert_int_equal(d2.tid, 0);
			assert_int_equal(d2.tl0picidx, tl0);
			if (n_out) {
				assert_int_equal(ri2.seq, (uint16_t)(prev_out_seq + 1));
				assert_int_equal(d2.picture_id, (prev_out_pid + 1) & 0x7fff);
			} else {
				assert_int_equal(ri2.seq, seq);
				assert_int_equal(d2.picture_id, in_pid);
			}
			prev_out_seq = ri2.seq;
			prev_out_pid = d2.picture_id;
			n_out++;
		}
		in_pid = (in_pid + 1) & 0x7fff;
	}
	assert_int_equal(n_out, 10);
}

/* The target word in the selection state (layer_select.h): every target the limits allow packs and
 * unpacks unchanged, layer_sel_init clears it, and no selection call writes it. */
static void test_target_word(void **state)
{
	(void)state;
	for (unsigned sid = 0; sid < MEDIA_MAX_SPATIAL; sid++)
		for (unsigned tid = 0; tid < MEDIA_MAX_TEMPORAL; tid++)
			for (unsigned dt = 0; dt < AV1_MAX_DT; dt++)
				for (unsigned enc = 0; enc < MEDIA_MAX_ENCODINGS; enc++) {
					struct layer_target t = { .sid = (uint8_t)sid, .tid = (uint8_t)tid,
								  .dt = (uint8_t)dt, .encoding = (uint8_t)enc };
					struct layer_target u = layer_target_unpack(layer_target_pack(&t));
					assert_memory_equal(&t, &u, sizeof(t));
				}
	struct layer_sel s;
	memset(&s, 0xff, sizeof(s));
	layer_sel_init(&s);
	assert_int_equal(s.target, 0);
	struct layer_target t = { .sid = 2, .tid = 1, .dt = 7, .encoding = 0 };
	layer_sel_set_target(&s, &t);
	struct layer_target got = layer_sel_target(&s);
	assert_memory_equal(&got, &t, sizeof(t));
	/* a VP8 keyframe and a few frames under that target leave the word alone */
	struct rtp_info ri = { .seq = 100, .ts = 9000, .marker = 1 };
	struct media_pkt mp = { .codec = MMR_CODEC_VP8, .start = 1, .end = 1, .keyframe = 1, .has_layers = 1 };
	struct layer_out out;
	for (unsigned i = 0; i < 8; i++, ri.seq++, ri.ts += 3000) {
		mp.tid = (uint8_t)(i & 1);
		mp.keyframe = i == 0;
		layer_sel_video(&s, &got, &ri, &mp, ri.ts, &out);
	}
	assert_true(s.started);
	assert_int_equal(s.target, layer_target_pack(&t));
}


/* ---- the allocation word (issue 12) --------------------------------------------------------- */

/* The effective target is the per-component minimum of the ceiling (the target word) and the
 * allocation; a lower one applies at the next frame, a higher one one layer at a time at Y=1
 * frames, like a ceiling change; every forwarded frame stays decodable (feed checks). */
static void test_alloc_ceiling_interplay(void **state)
{
	struct sender s;
	struct receiver r;
	struct frame f;
	int i = 0;

	(void)state;
	sender_init(&s, 100, 1);
	receiver_init(&r, 2);                  /* the ceiling: TID 2 */
	assert_int_equal(r.sel.alloc, LAYER_ALLOC_NONE);
	for (; i < 16; i++) {
		l1t3_frame(&s, &f, i, 2);
		feed(&r, &f);
	}
	assert_int_equal(r.sel.cur_tid, 2);
	/* the allocator gives TID 1: TID 2 frames stop at once (next frame) */
	layer_sel_alloc_store(&r.sel, &(struct layer_target){ .tid = 1 });
	l1t3_frame(&s, &f, i++, 2);            /* a TID 0 frame */
	feed(&r, &f);
	assert_int_equal(r.sel.cur_tid, 1);
	memset(r.frames_by_tid, 0, sizeof(r.frames_by_tid));
	for (int k = 0; k < 16; k++, i++) {
		l1t3_frame(&s, &f, i, 2);
		feed(&r, &f);
	}
	assert_int_equal(r.frames_by_tid[2], 0);
	assert_int_equal(r.frames_by_tid[1], 4);
	/* an allocation above the ceiling gives the ceiling: ceiling 0, alloc 2 -> TID 0 */
	r.target = 0;
	layer_sel_alloc_store(&r.sel, &(struct layer_target){ .tid = 2 });
	memset(r.frames_by_tid, 0, sizeof(r.frames_by_tid));
	for (int k = 0; k < 16; k++, i++) {
		l1t3_frame(&s, &f, i, 2);
		feed(&r, &f);
	}
	assert_int_equal(r.frames_by_tid[1] + r.frames_by_tid[2], 0);
	assert_int_equal(r.sel.cur_tid, 0);
	/* ceiling back to 2: the allocation (2) now rules, up one layer at a time at Y=1 frames
	 * (pattern positions 1 and 2: Y=1 TID 2 first cannot be taken from 0, Y=1 TID 1 can) */
	r.target = 2;
	while (i % 8 != 1) {
		l1t3_frame(&s, &f, i++, 2);
		feed(&r, &f);
	}
	l1t3_frame(&s, &f, i++, 2);            /* Y=1 TID 2: not from 0 */
	assert_int_equal(feed(&r, &f), 0);
	assert_int_equal(r.sel.cur_tid, 0);
	l1t3_frame(&s, &f, i++, 2);            /* Y=1 TID 1: up to 1 */
	assert_int_equal(feed(&r, &f), 1);
	assert_int_equal(r.sel.cur_tid, 1);
	for (int k = 0; k < 8; k++, i++) {
		l1t3_frame(&s, &f, i, 2);
		feed(&r, &f);
	}
	assert_int_equal(r.sel.cur_tid, 2);
	/* LAYER_ALLOC_NONE: the ceiling again; the alloc word never touches the target word */
	assert_int_equal(layer_sel_alloc_set(&r.sel, LAYER_ALLOC_NONE), 0);
	r.target = 1;
	l1t3_frame(&s, &f, i++, 2);
	feed(&r, &f);
	assert_int_equal(r.sel.cur_tid, 1);
	assert_int_equal(r.sel.target, 0);     /* layer_sel_vp8 passes its target; the word is untouched */
	assert_int_equal(r.paused_pkts, 0);
}

/* A VP8 frame's media_pkt for layer_sel_video (ts continuity needs the arrival time). */
static int feed_video(struct layer_sel *sel, const struct frame *f, int i, uint8_t tid, uint32_t arrival,
		      struct layer_out *o)
{
	struct media_pkt mp;
	struct layer_target t = { .tid = tid };

	vp8_media(&f->p[i].d, 12, &f->p[i].ri, &mp);
	return layer_sel_video(sel, &t, &f->p[i].ri, &mp, arrival, o);
}

/* Pause: everything withheld with LAYER_SEL_PAUSED, the receiver reported not started; resume: only
 * at a keyframe, continuing seq (+1 for a frame cut by the pause), PictureID and timestamp (+ the
 * arrival time elapsed) from what the receiver saw last. */
static void test_pause_resume(void **state)
{
	struct sender s;
	struct receiver r;
	struct frame f;
	int i = 0;

	(void)state;
	sender_init(&s, 65500, 32700);         /* both wrap during the test */
	receiver_init(&r, 2);
	for (; i < 12; i++) {
		l1t3_frame(&s, &f, i, 3);
		feed(&r, &f);
	}
	uint16_t last_seq = r.last_seq, last_pid = r.last_pid;
	r.sel.dirty = 0;
	/* paused at a frame boundary */
	layer_sel_alloc_store(&r.sel, NULL);
	assert_true(layer_sel_paused(&r.sel));
	for (int k = 0; k < 20; k++, i++) {
		l1t3_frame(&s, &f, i, 3);
		if (k == 5)
			make_frame(&s, &f, 0, 0, 1, 3);   /* even a keyframe is withheld */
		assert_int_equal(feed(&r, &f), 0);
	}
	assert_int_equal(r.paused_pkts, 60);
	assert_int_equal(r.sel.started, 0);
	assert_int_equal(r.sel.dirty, 1);
	struct layer_current c;
	layer_sel_current(&r.sel, &c);
	assert_int_equal(c.started, 0);
	/* resumed (an allocation of TID 1): delta frames, even Y=1 ones, wait for a keyframe */
	layer_sel_alloc_store(&r.sel, &(struct layer_target){ .tid = 1 });
	for (int k = 0; k < 10; k++, i++) {
		l1t3_frame(&s, &f, i, 3);
		assert_int_equal(feed(&r, &f), 0);
	}
	assert_int_equal(r.paused_pkts, 60);
	assert_int_equal(r.last_seq, last_seq);
	/* the keyframe: contiguous seq and PictureID (feed checks both), at the allocated layer */
	make_frame(&s, &f, 0, 0, 1, 3);
	assert_int_equal(feed(&r, &f), 1);
	assert_int_equal(r.last_seq, (uint16_t)(last_seq + 3));
	assert_int_equal(r.last_pid, (uint16_t)((last_pid + 1) & 0x7fff));
	assert_int_equal(r.sel.cur_tid, 1);
	assert_int_equal(r.sel.started, 1);
	for (int k = 0; k < 16; k++, i++) {
		l1t3_frame(&s, &f, i + 1, 3);      /* no keyframe at i % 8 == 0 */
		feed(&r, &f);
	}
	assert_int_equal(r.sel.cur_tid, 1);
	assert_true(r.frames_by_tid[2] > 0);   /* from before the pause */

	/* paused in the middle of a frame; timestamps through layer_sel_video with arrival times */
	struct layer_sel sel;
	struct layer_out o;
	uint32_t arrival = 1000;
	layer_sel_init(&sel);
	sender_init(&s, 10, 10);
	make_frame(&s, &f, 0, 0, 1, 3);
	for (int k = 0; k < 3; k++)
		assert_int_equal(feed_video(&sel, &f, k, 2, arrival, &o), 1);
	uint32_t out_ts = o.ts;
	make_frame(&s, &f, 2, 0, 0, 3);
	assert_int_equal(feed_video(&sel, &f, 0, 2, arrival += 3000, &o), 1);
	uint16_t cut_seq = o.seq;
	out_ts = o.ts;
	layer_sel_alloc_store(&sel, NULL);
	assert_int_equal(feed_video(&sel, &f, 1, 2, arrival, &o), LAYER_SEL_PAUSED);
	assert_int_equal(feed_video(&sel, &f, 2, 2, arrival, &o), LAYER_SEL_PAUSED);
	for (int k = 0; k < 30; k++) {
		make_frame(&s, &f, k & 1, 0, 0, 2);
		arrival += 3000;
		assert_int_equal(feed_video(&sel, &f, 0, 2, arrival, &o), LAYER_SEL_PAUSED);
	}
	layer_sel_alloc_set(&sel, LAYER_ALLOC_NONE);
	make_frame(&s, &f, 0, 0, 1, 2);
	arrival += 3000;
	assert_int_equal(feed_video(&sel, &f, 0, 2, arrival, &o), 1);
	/* the cut frame's two missing packets count as one lost: seq + 2; ts: 31 frame times later */
	assert_int_equal(o.seq, (uint16_t)(cut_seq + 2));
	assert_int_equal(o.ts, out_ts + 31 * 3000);
	assert_int_equal(feed_video(&sel, &f, 1, 2, arrival, &o), 1);
	assert_int_equal(o.seq, (uint16_t)(cut_seq + 3));

	/* paused before anything started: the first keyframe after it starts as usual */
	layer_sel_init(&sel);
	layer_sel_alloc_store(&sel, NULL);
	sender_init(&s, 500, 10);
	make_frame(&s, &f, 0, 0, 1, 1);
	assert_int_equal(feed_video(&sel, &f, 0, 2, 0, &o), LAYER_SEL_PAUSED);
	assert_int_equal(sel.rebase, 0);
	layer_sel_alloc_set(&sel, LAYER_ALLOC_NONE);
	make_frame(&s, &f, 0, 0, 1, 1);
	assert_int_equal(feed_video(&sel, &f, 0, 2, 0, &o), 1);
	assert_int_equal(o.seq, 501);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing_before_keyframe),
		cmocka_unit_test(test_l1t3_rates),
		cmocka_unit_test(test_seq_contiguous_over_drops),
		cmocka_unit_test(test_seq_wrap),
		cmocka_unit_test(test_pid_wrap_15bit),
		cmocka_unit_test(test_pid_wrap_7bit),
		cmocka_unit_test(test_up_at_y_only),
		cmocka_unit_test(test_up_two_steps),
		cmocka_unit_test(test_up_at_keyframe),
		cmocka_unit_test(test_down_at_frame_boundary),
		cmocka_unit_test(test_random_patterns_decodable),
		cmocka_unit_test(test_losses_and_gaps),
		cmocka_unit_test(test_lost_frame_start),
		cmocka_unit_test(test_reordering),
		cmocka_unit_test(test_same_timestamp_frames),
		cmocka_unit_test(test_no_tid_stream),
		cmocka_unit_test(test_target_clamped),
		cmocka_unit_test(test_passthrough),
		cmocka_unit_test(test_rewrite_on_bytes),
		cmocka_unit_test(test_target_word),
		cmocka_unit_test(test_alloc_ceiling_interplay),
		cmocka_unit_test(test_pause_resume),
	};

	return cmocka_run_group_tests_name("layer_select", tests, NULL, NULL);
}
