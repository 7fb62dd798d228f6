/*
 * test_layer_select_svc.c - unit tests of layer_sel_video (lib/select/layer_select.c) for VP9 spatial and
 * temporal SVC, AV1 decode targets with chains, simulcast switches and H.264, on media_pkt values
 * built by hand (no parser involved).
 *
 * Synthetic senders: VP9 L3T3 (full SVC, or K-SVC where upper layers use no inter-layer prediction
 * outside keyframes), temporal pattern 0,2,1,2 with U=1 where a frame references only TL0; AV1
 * L3T3 with frame numbers 3k+s, decode target 3S+T, one chain per spatial layer (its T0 frames of
 * spatial <= S), fdiffs as the pattern references; VP8/AV1/H.264 simulcast encodings with their own
 * sequence, timestamp, PictureID, TL0PICIDX and frame number spaces. Each test states the rule it
 * checks and fails if that rule is broken.
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

#define MAXP 64

struct pkt {
	struct rtp_info ri;
	struct media_pkt mp;
};

/* A receiver: its selector state, target, and what it saw last. */
struct rx {
	struct layer_sel sel;
	struct layer_target t;
	bool have;
	uint16_t seq, pid, fn;
	uint32_t ts;
	uint8_t tl0;
	int n_fwd, n_marker;
};

static void rx_init(struct rx *r, uint8_t sid, uint8_t tid, uint8_t dt, uint8_t enc)
{
	memset(r, 0, sizeof(*r));
	layer_sel_init(&r->sel);
	r->t = (struct layer_target){ .sid = sid, .tid = tid, .dt = dt, .encoding = enc };
}

/* Feed one packet; check sequence contiguity (no loss in these feeds unless told). */
static int feed1(struct rx *r, const struct pkt *p, uint32_t arrival, struct layer_out *o, bool contiguous)
{
	int f = layer_sel_video(&r->sel, &r->t, &p->ri, &p->mp, arrival, o);

	if (f <= 0)             /* withheld, or LAYER_SEL_PAUSED */
		return 0;
	if (contiguous && r->have && o->seq != (uint16_t)(r->seq + 1))
		fail_msg("output seq %u after %u", o->seq, r->seq);
	r->have = true;
	r->seq = o->seq;
	r->ts = o->ts;
	r->pid = o->picture_id;
	r->tl0 = o->tl0picidx;
	r->fn = o->frame_number;
	r->n_fwd++;
	r->n_marker += o->marker;
	return 1;
}

/* ---- VP9 ------------------------------------------------------------------------------------ */

struct vp9s {
	uint16_t seq, pid;
	uint32_t ts;
	uint8_t tl0;
	int k;         /* picture index */
	bool ksvc;
};

static const uint8_t pat_tid[4] = { 0, 2, 1, 2 };
static const uint8_t pat_u[4] = { 0, 1, 1, 0 };

/* One picture: n_sl layer frames of 2 packets each into p[]; returns the packet count. key: a
 * keyframe picture. up_sid: that spatial layer frame has P=0 (a spatial switch point). */
static int vp9_picture(struct vp9s *s, struct pkt *p, int n_sl, bool key, int up_sid)
{
	int n = 0;
	uint8_t tid = key ? 0 : pat_tid[s->k % 4];

	if (tid == 0 && s->k > 0)
		s->tl0++;
	for (int sl = 0; sl < n_sl; sl++)
		for (int i = 0; i < 2; i++, n++) {
			struct pkt *q = &p[n];

			memset(q, 0, sizeof(*q));
			q->ri.seq = s->seq++;
			q->ri.ts = s->ts;
			q->ri.marker = sl == n_sl - 1 && i == 1;
			q->mp.codec = MMR_CODEC_VP9;
			q->mp.start = i == 0;
			q->mp.end = i == 1;
			q->mp.sid = (uint8_t)sl;
			q->mp.tid = tid;
			q->mp.has_layers = 1;
			q->mp.switch_up = key ? 0 : pat_u[s->k % 4];
			q->mp.inter_pic = !(key || sl == up_sid);
			q->mp.inter_layer = sl > 0 && (key || !s->ksvc);
			q->mp.keyframe = key && sl == 0;
			q->mp.has_pid = 1;
			q->mp.pid_16 = 1;
			q->mp.picture_id = s->pid;
			q->mp.has_tl0 = 1;
			q->mp.tl0picidx = s->tl0;
		}
	s->k++;
	s->ts += 3000;
	s->pid = (uint16_t)((s->pid + 1) & 0x7fff);
	return n;
}

/* Feed a picture; returns a bitmask of forwarded layer frames (bit sid). Checks: one decision per
 * layer frame, marker only on the end of the highest forwarded layer frame, PictureID +1 per
 * forwarded picture and the same on all its packets, TL0PICIDX and ts as sent. */
static unsigned feed_vp9(struct rx *r, const struct pkt *p, int n)
{
	unsigned got = 0, marked = 0;
	int top = -1;
	uint8_t sid0 = r->sel.cur_sid;
	uint16_t pid0 = r->pid;
	bool had = r->have, first = true;

	for (int i = 0; i < n; i++) {
		struct layer_out o;
		int f = feed1(r, &p[i], 0, &o, true);

		if (i % 2 == 1 && f != (int)(got >> p[i].mp.sid & 1))
			fail_msg("layer frame %d: packets decided differently", p[i].mp.sid);
		if (!f)
			continue;
		got |= 1u << p[i].mp.sid;
		top = p[i].mp.sid;
		assert_int_equal(o.ts, p[i].ri.ts);
		assert_int_equal(o.tl0picidx, p[i].mp.tl0picidx);
		if (first && had)
			assert_int_equal(o.picture_id, (uint16_t)((pid0 + 1) & 0x7fff));
		if (!first)
			assert_int_equal(o.picture_id, r->pid);
		first = false;
		if (o.marker) {
			assert_true(p[i].mp.end);
			marked |= 1u << p[i].mp.sid;
		}
	}
	/* the top forwarded layer frame is marked; a lower one only if it was the top when it went
	 * out (a spatial up-switch inside this picture: its marker was already sent) */
	if (got) {
		unsigned allowed = 1u << top;

		if (!p[0].mp.keyframe && r->sel.cur_sid > sid0)
			allowed |= ((2u << r->sel.cur_sid) - 1) & ~((1u << sid0) - 1);
		assert_true(marked & (1u << top));
		if (marked & ~allowed)
			fail_msg("markers on layer frames 0x%x, top %d", marked, top);
	}
	return got;
}

static void vp9_init(struct vp9s *s, bool ksvc)
{
	memset(s, 0, sizeof(*s));
	s->seq = 65500;            /* wraps inside the tests */
	s->ts = 1000;
	s->pid = 32760;
	s->tl0 = 250;
	s->ksvc = ksvc;
}

/* Nothing before a keyframe; the keyframe sets the current layers straight to the target. */
static void test_vp9_keyframe_first(void **state)
{
	struct vp9s s;
	struct rx r;
	struct pkt p[MAXP];
	struct layer_current c;
	int n;

	(void)state;
	vp9_init(&s, false);
	rx_init(&r, 2, 2, 0, 0);
	for (int k = 0; k < 3; k++) {
		n = vp9_picture(&s, p, 3, false, 0);         /* S0 P=0 but not a keyframe */
		assert_int_equal(feed_vp9(&r, p, n), 0);
	}
	assert_int_equal(r.sel.started, 0);
	assert_int_equal(r.sel.dirty, 0);
	n = vp9_picture(&s, p, 3, true, -1);
	assert_int_equal(feed_vp9(&r, p, n), 7);
	assert_int_equal(r.sel.dirty, 1);
	layer_sel_current(&r.sel, &c);
	assert_int_equal(c.started, 1);
	assert_int_equal(c.sid, 2);
	assert_int_equal(c.tid, 2);
	assert_int_equal(p[0].ri.seq, r.seq - 5);     /* the first forwarded keeps its number */
}

/* L3T3 and K-SVC at every target: exactly the layer frames sid <= target, tid <= target. */
static void run_targets(bool ksvc)
{
	for (uint8_t ts = 0; ts < 3; ts++)
		for (uint8_t tt = 0; tt < 3; tt++) {
			struct vp9s s;
			struct rx r;
			struct pkt p[MAXP];

			vp9_init(&s, ksvc);
			rx_init(&r, ts, tt, 0, 0);
			for (int k = 0; k < 17; k++) {
				int n = vp9_picture(&s, p, 3, k == 0, -1);
				uint8_t tid = p[0].mp.tid;
				unsigned want = tid <= tt ? (2u << ts) - 1 : 0;

				assert_int_equal(feed_vp9(&r, p, n), want);
			}
		}
}

static void test_vp9_l3t3_targets(void **state)
{
	(void)state;
	run_targets(false);
}

static void test_vp9_ksvc_targets(void **state)
{
	(void)state;
	run_targets(true);
}

/* Temporal up-switch one layer at a time, only at U=1 B=1 of tid = cur + 1; down at the next
 * picture, and a picture's decision holds for all its layer frames. */
static void test_vp9_temporal_switches(void **state)
{
	struct vp9s s;
	struct rx r;
	struct pkt p[MAXP];
	int n;

	(void)state;
	vp9_init(&s, false);
	rx_init(&r, 1, 0, 0, 0);
	n = vp9_picture(&s, p, 2, true, -1);
	assert_int_equal(feed_vp9(&r, p, n), 3);
	/* k=1: T2 U=1, k=2: T1 U=1, k=3: T2 U=0, k=4: T0 */
	r.t.tid = 2;
	n = vp9_picture(&s, p, 2, false, -1);            /* T2 U=1: not cur+1 -> withheld */
	assert_int_equal(feed_vp9(&r, p, n), 0);
	assert_int_equal(r.sel.cur_tid, 0);
	n = vp9_picture(&s, p, 2, false, -1);            /* T1 U=1: up to 1 */
	assert_int_equal(feed_vp9(&r, p, n), 3);
	assert_int_equal(r.sel.cur_tid, 1);
	n = vp9_picture(&s, p, 2, false, -1);            /* T2 U=0: no switch */
	assert_int_equal(feed_vp9(&r, p, n), 0);
	assert_int_equal(r.sel.cur_tid, 1);
	n = vp9_picture(&s, p, 2, false, -1);            /* T0 */
	assert_int_equal(feed_vp9(&r, p, n), 3);
	n = vp9_picture(&s, p, 2, false, -1);            /* T2 U=1: up to 2 */
	assert_int_equal(feed_vp9(&r, p, n), 3);
	assert_int_equal(r.sel.cur_tid, 2);
	/* a U=1 frame without B=1 (its first packet lost) is no switch point */
	vp9_init(&s, false);
	rx_init(&r, 0, 0, 0, 0);
	n = vp9_picture(&s, p, 1, true, -1);
	feed_vp9(&r, p, n);
	r.t.tid = 2;
	n = vp9_picture(&s, p, 1, false, -1);            /* skip */
	n = vp9_picture(&s, p, 1, false, -1);            /* T1 U=1, B packet lost */
	assert_int_equal(feed1(&r, &p[1], 0, &(struct layer_out){ 0 }, false), 0);
	assert_int_equal(r.sel.cur_tid, 0);
	/* down-switch: set after S0 of a T1 picture -> S1 of it still forwarded, next T1 not */
	vp9_init(&s, false);
	rx_init(&r, 1, 1, 0, 0);
	n = vp9_picture(&s, p, 2, true, -1);
	feed_vp9(&r, p, n);
	n = vp9_picture(&s, p, 2, false, -1);            /* T2: withheld */
	assert_int_equal(feed_vp9(&r, p, n), 0);
	n = vp9_picture(&s, p, 2, false, -1);            /* T1 */
	struct layer_out o;
	assert_int_equal(feed1(&r, &p[0], 0, &o, true), 1);
	assert_int_equal(feed1(&r, &p[1], 0, &o, true), 1);
	r.t.tid = 0;
	assert_int_equal(feed1(&r, &p[2], 0, &o, true), 1);
	assert_int_equal(feed1(&r, &p[3], 0, &o, true), 1);
	assert_int_equal(o.marker, 1);
	n = vp9_picture(&s, p, 2, false, -1);            /* T2 */
	assert_int_equal(feed_vp9(&r, p, n), 0);
	n = vp9_picture(&s, p, 2, false, -1);            /* T0 */
	assert_int_equal(feed_vp9(&r, p, n), 3);
	n = vp9_picture(&s, p, 2, false, -1);            /* T2 */
	n = vp9_picture(&s, p, 2, false, -1);            /* T1 */
	assert_int_equal(feed_vp9(&r, p, n), 0);
	assert_int_equal(r.sel.cur_tid, 0);
}

/* Spatial up-switch: at a keyframe straight to the target; else one layer at a time at a B=1
 * layer frame of sid = cur + 1 with P=0 whose inter-layer reference went out in this picture. */
static void test_vp9_spatial_up(void **state)
{
	struct vp9s s;
	struct rx r;
	struct pkt p[MAXP];
	int n;

	(void)state;
	vp9_init(&s, false);
	rx_init(&r, 0, 2, 0, 0);
	n = vp9_picture(&s, p, 3, true, -1);
	assert_int_equal(feed_vp9(&r, p, n), 1);
	r.t.sid = 2;
	for (int k = 0; k < 4; k++) {                       /* P=1 everywhere: no switch */
		n = vp9_picture(&s, p, 3, false, -1);
		assert_int_equal(feed_vp9(&r, p, n), 1);
	}
	n = vp9_picture(&s, p, 3, false, 2);                /* S2 P=0 but S1 not forwarded */
	assert_int_equal(feed_vp9(&r, p, n), 1);
	n = vp9_picture(&s, p, 3, false, 1);                /* S1 P=0: up to 1 only */
	assert_int_equal(feed_vp9(&r, p, n), 3);
	assert_int_equal(r.sel.cur_sid, 1);
	n = vp9_picture(&s, p, 3, false, 2);                /* S2 P=0: up to 2 */
	assert_int_equal(feed_vp9(&r, p, n), 7);
	assert_int_equal(r.sel.cur_sid, 2);
	/* S1 P=0 D=1 whose S0 was lost in this picture: no switch */
	vp9_init(&s, false);
	rx_init(&r, 0, 2, 0, 0);
	n = vp9_picture(&s, p, 2, true, -1);
	feed_vp9(&r, p, n);
	r.t.sid = 1;
	n = vp9_picture(&s, p, 2, false, 1);
	assert_int_equal(feed_vp9(&r, p + 2, 2), 0);         /* S0 lost */
	assert_int_equal(r.sel.cur_sid, 0);
	/* keyframe: straight to the target (S0 lost above: a visible gap, so start afresh) */
	r.have = false;
	n = vp9_picture(&s, p, 3, true, -1);
	r.t.sid = 2;
	assert_int_equal(feed_vp9(&r, p, n), 7);
	assert_int_equal(r.sel.cur_sid, 2);
	(void)n;
}

/* A picture's lower layer frames lost whole on the uplink, after a withheld layer frame of the
 * picture before: its first packet seen starts a layer frame above SID 0, so the lost numbers held
 * frames the receiver takes and stay a visible gap (it NACKs them; hiding them left an S1 receiver
 * stuck on a frame whose S0 reference it never knew it lacked). The tail of a withheld frame lost
 * before the next picture's S0 start still leaves no gap. */
static void test_vp9_lost_lower_layers_gap(void **state)
{
	struct vp9s s;
	struct rx r;
	struct pkt p[MAXP];
	struct layer_out o;
	int n;

	(void)state;
	for (int target = 0; target <= 1; target++) {
		vp9_init(&s, false);
		rx_init(&r, (uint8_t)target, 2, 0, 0);
		n = vp9_picture(&s, p, 3, true, -1);
		feed_vp9(&r, p, n);
		uint16_t last = r.seq;
		/* picture 1: S0 (p[0], p[1]) lost; S1 starts the picture as seen */
		n = vp9_picture(&s, p, 3, false, -1);
		if (target == 1) {
			assert_int_equal(feed1(&r, &p[2], 0, &o, false), 1);
			assert_int_equal(o.seq, (uint16_t)(last + 3));       /* a gap of the 2 lost */
			assert_int_equal(feed1(&r, &p[3], 0, &o, true), 1);
			assert_int_equal(feed1(&r, &p[4], 0, &o, false), 0);  /* S2 withheld */
			assert_int_equal(feed1(&r, &p[5], 0, &o, false), 0);
		} else {
			assert_int_equal(feed1(&r, &p[2], 0, &o, false), 0); /* S1, S2 withheld */
			for (int i = 3; i < n; i++)
				assert_int_equal(feed1(&r, &p[i], 0, &o, false), 0);
			n = vp9_picture(&s, p, 3, false, -1);
			assert_int_equal(feed1(&r, &p[0], 0, &o, false), 1);
			assert_int_equal(o.seq, (uint16_t)(last + 3));       /* the 2 lost stay a gap */
			for (int i = 1; i < n; i++)
				feed1(&r, &p[i], 0, &o, false);
		}
		/* the next picture whole, then one whose S0 start follows the lost tail of the
		 * withheld S2 before it: no gap */
		n = vp9_picture(&s, p, 3, false, -1);
		feed_vp9(&r, p, n);
		last = r.seq;
		n = vp9_picture(&s, p, 3, false, -1);
		for (int i = 0; i < n - 1; i++)                         /* S2's last packet lost */
			feed1(&r, &p[i], 0, &o, false);
		last = r.seq;
		n = vp9_picture(&s, p, 3, false, -1);
		assert_int_equal(feed1(&r, &p[0], 0, &o, false), 1);
		assert_int_equal(o.seq, (uint16_t)(last + 1));
	}
}

/* S0T2 -> S1T0 (one step up the allocator's ladder): S0's T1/T2 pictures keep flowing until S1's
 * switch point (not S0T0 meanwhile), the switch only at a picture of a temporal layer the target
 * keeps, then T0 only. */
static void test_vp9_spatial_up_keeps_temporal(void **state)
{
	struct vp9s s;
	struct rx r;
	struct pkt p[MAXP];
	int n;

	(void)state;
	vp9_init(&s, false);
	rx_init(&r, 0, 2, 0, 0);
	n = vp9_picture(&s, p, 2, true, -1);                /* k 0: keyframe */
	assert_int_equal(feed_vp9(&r, p, n), 1);
	r.t.sid = 1;
	r.t.tid = 0;
	for (int k = 1; k < 4; k++) {                       /* T2, T1, T2 of S0: still forwarded */
		n = vp9_picture(&s, p, 2, false, -1);
		assert_int_equal(feed_vp9(&r, p, n), 1);
		assert_int_equal(r.sel.cur_tid, 2);
	}
	n = vp9_picture(&s, p, 2, false, -1);               /* k 4: T0, no switch point */
	assert_int_equal(feed_vp9(&r, p, n), 1);
	n = vp9_picture(&s, p, 2, false, 1);                /* k 5: T2 with S1 P=0: not a switch */
	assert_int_equal(feed_vp9(&r, p, n), 1);
	assert_int_equal(r.sel.cur_sid, 0);
	n = vp9_picture(&s, p, 2, false, -1);               /* k 6: T1 */
	assert_int_equal(feed_vp9(&r, p, n), 1);
	n = vp9_picture(&s, p, 2, false, -1);               /* k 7: T2 */
	assert_int_equal(feed_vp9(&r, p, n), 1);
	n = vp9_picture(&s, p, 2, false, 1);                /* k 8: T0 with S1 P=0: up */
	assert_int_equal(feed_vp9(&r, p, n), 3);
	assert_int_equal(r.sel.cur_sid, 1);
	assert_int_equal(r.sel.cur_tid, 0);                 /* at once: never S1T2 */
	for (int k = 9; k < 12; k++) {                      /* T2, T1, T2: the target's T0 only now */
		n = vp9_picture(&s, p, 2, false, -1);
		assert_int_equal(feed_vp9(&r, p, n), 0);
		assert_int_equal(r.sel.cur_tid, 0);
	}
	n = vp9_picture(&s, p, 2, false, -1);               /* k 12: T0 */
	assert_int_equal(feed_vp9(&r, p, n), 3);
}

/* Spatial down-switch at the next picture; the marker moves to the new top layer frame. */
static void test_vp9_spatial_down_and_marker(void **state)
{
	struct vp9s s;
	struct rx r;
	struct pkt p[MAXP];
	struct layer_out o;
	int n;

	(void)state;
	vp9_init(&s, true);
	rx_init(&r, 2, 0, 0, 0);
	n = vp9_picture(&s, p, 3, true, -1);
	assert_int_equal(feed_vp9(&r, p, n), 7);
	for (int k = 0; k < 3; k++) {
		n = vp9_picture(&s, p, 3, false, -1);            /* T2, T1, T2: not forwarded */
		assert_int_equal(feed_vp9(&r, p, n), 0);
	}
	n = vp9_picture(&s, p, 3, false, -1);                /* T0 */
	feed1(&r, &p[0], 0, &o, true);
	feed1(&r, &p[1], 0, &o, true);
	assert_int_equal(o.marker, 0);                       /* S0 end is not the top */
	r.t.sid = 0;                                         /* mid-picture: this one keeps S1, S2 */
	for (int i = 2; i < 6; i++) {
		assert_int_equal(feed1(&r, &p[i], 0, &o, true), 1);
		assert_int_equal(o.marker, i == 5);
	}
	for (int k = 0; k < 4; k++) {
		n = vp9_picture(&s, p, 3, false, -1);
		assert_int_equal(feed_vp9(&r, p, n), k == 3);    /* T0 again: S0 only, marked */
	}
	/* K-SVC: back up only at a keyframe (upper layers are P=1, no inter-layer) */
	r.t.sid = 2;
	for (int k = 0; k < 8; k++) {
		n = vp9_picture(&s, p, 3, false, -1);
		assert_int_equal(feed_vp9(&r, p, n), p[0].mp.tid == 0 ? 1 : 0);
	}
	n = vp9_picture(&s, p, 3, true, -1);
	assert_int_equal(feed_vp9(&r, p, n), 7);
}

/* SID/TID beyond the limits are withheld; late and duplicate packets get their frame's decision
 * and number; packets of older frames are withheld. */
static void test_vp9_limits_late_dup(void **state)
{
	struct vp9s s;
	struct rx r;
	struct pkt p[MAXP], q;
	struct layer_out o, o2;
	int n;

	(void)state;
	vp9_init(&s, false);
	rx_init(&r, 7, 7, 0, 0);
	n = vp9_picture(&s, p, 3, true, -1);
	assert_int_equal(feed_vp9(&r, p, n), 7);
	assert_int_equal(r.sel.cur_sid, 2);
	assert_int_equal(r.sel.cur_tid, 3);
	q = p[0];
	q.ri.seq = s.seq++;
	q.ri.ts = s.ts;
	q.mp.keyframe = 0;
	q.mp.inter_pic = 0;
	q.mp.sid = 3;
	q.mp.end = 1;
	assert_int_equal(layer_sel_video(&r.sel, &r.t, &q.ri, &q.mp, 0, &o), 0);
	q.ri.seq = s.seq++;
	q.ri.ts += 3000;
	q.mp.sid = 0;
	q.mp.tid = 4;
	assert_int_equal(layer_sel_video(&r.sel, &r.t, &q.ri, &q.mp, 0, &o), 0);
	s.ts += 6000;
	s.k = 4;
	/* late and duplicate */
	n = vp9_picture(&s, p, 3, false, -1);
	assert_int_equal(layer_sel_video(&r.sel, &r.t, &p[0].ri, &p[0].mp, 0, &o), 1);
	assert_int_equal(layer_sel_video(&r.sel, &r.t, &p[2].ri, &p[2].mp, 0, &o), 1);
	assert_int_equal(layer_sel_video(&r.sel, &r.t, &p[1].ri, &p[1].mp, 0, &o2), 1);  /* late */
	assert_int_equal(o2.seq, (uint16_t)(o.seq - 1));
	assert_int_equal(layer_sel_video(&r.sel, &r.t, &p[2].ri, &p[2].mp, 0, &o2), 1);  /* dup */
	assert_int_equal(o2.seq, o.seq);
	assert_int_equal(o2.picture_id, o.picture_id);
	for (int i = 3; i < n; i++)
		assert_int_equal(layer_sel_video(&r.sel, &r.t, &p[i].ri, &p[i].mp, 0, &o), 1);
	/* p[0] belongs to a frame two layer frames back: withheld */
	assert_int_equal(layer_sel_video(&r.sel, &r.t, &p[0].ri, &p[0].mp, 0, &o), 0);
}

/* ---- AV1 ------------------------------------------------------------------------------------ */

struct av1s {
	uint16_t seq, fn0;
	uint32_t ts;
	int k;
	int key_k;         /* picture index of the latest keyframe */
};

/* Is frame (picture k, spatial s) in chain c (T0 frames of spatial <= c since the keyframe)? */
static bool in_chain(int k, int s, int c)
{
	return k % 4 == 0 && s <= c;
}

/* Frame (k, s) of the L3T3 pattern as a one-packet media_pkt (two packets when two). */
static void av1_frame(struct av1s *a, struct pkt *q, int s, bool key)
{
	int k = a->k, rel = k - a->key_k;
	uint8_t t = key ? 0 : pat_tid[rel % 4];
	uint16_t fn = (uint16_t)(a->fn0 + 3 * k + s);

	memset(q, 0, sizeof(*q));
	q->ri.seq = a->seq++;
	q->ri.ts = a->ts;
	q->ri.marker = s == 2;
	q->mp.codec = MMR_CODEC_AV1;
	q->mp.start = q->mp.end = 1;
	q->mp.sid = (uint8_t)s;
	q->mp.tid = t;
	q->mp.has_layers = 1;
	q->mp.frame_number = fn;
	q->mp.keyframe = key && s == 0;
	q->mp.structure_attached = key && s == 0;
	q->mp.n_dts = 9;
	q->mp.n_chains = 3;
	q->mp.active_dts = 0x1ff;
	for (int dt = 0; dt < 9; dt++) {
		int S = dt / 3, T = dt % 3;
		unsigned dti;

		q->mp.dt_top_sid |= (uint64_t)S << (2 * dt);   /* the structure's: S<S>T<T> ends at S */

		q->mp.dt_chain[dt] = (uint8_t)S;
		if (s > S || t > T)
			dti = AV1_DTI_NOT_PRESENT;
		else if (s == 0 && (key || t == 0 || (rel % 4 == 1 && t == 2) || (rel % 4 == 2 && t == 1)))
			dti = AV1_DTI_SWITCH;
		else
			dti = t == 2 ? AV1_DTI_DISCARDABLE : AV1_DTI_REQUIRED;
		q->mp.dtis |= (uint64_t)dti << (2 * dt);
	}
	/* chains: distance to the previous frame of each chain (0 at the keyframe) */
	for (int c = 0; c < 3; c++) {
		int back = 0;

		for (int f = 3 * k + s - 1; f >= 3 * a->key_k; f--)
			if (in_chain(f / 3 - a->key_k, f % 3, c)) {
				back = 3 * k + s - f;
				break;
			}
		q->mp.chain_fdiff[c] = (uint8_t)back;
	}
	/* references: the layer below (same picture), the previous frame of its layer per pattern */
	if (s > 0)
		q->mp.fdiff[q->mp.n_fdiffs++] = 1;
	if (!key) {
		int ref = rel % 4 == 0 ? 4 : rel % 4 == 2 ? 2 : 1;

		q->mp.fdiff[q->mp.n_fdiffs++] = (uint8_t)(3 * ref);
	}
}

/* Picture into p[] (3 frames); returns 3. */
static int av1_picture(struct av1s *a, struct pkt *p, bool key)
{
	if (key)
		a->key_k = a->k;
	for (int s = 0; s < 3; s++)
		av1_frame(a, &p[s], s, key);
	a->k++;
	a->ts += 3000;
	return 3;
}

static unsigned feed_av1(struct rx *r, const struct pkt *p, int n)
{
	unsigned got = 0;
	int top = -1, markers = 0, msid = -1;

	for (int i = 0; i < n; i++) {
		struct layer_out o;

		if (!feed1(r, &p[i], 0, &o, true))
			continue;
		got |= 1u << p[i].mp.sid;
		top = p[i].mp.sid;
		assert_int_equal(o.frame_number, p[i].mp.frame_number);
		if (o.marker)
			markers++, msid = p[i].mp.sid;
	}
	if (got && !p[0].mp.keyframe) {         /* the keyframe picture teaches the structure */
		assert_int_equal(markers, 1);
		assert_int_equal(msid, top);
	}
	return got;
}

static void av1_init(struct av1s *a)
{
	memset(a, 0, sizeof(*a));
	a->seq = 100;
	a->fn0 = 65530;
	a->ts = 5;
}

/* Every decode target: exactly the frames present for it; frame numbers pass through. */
static void test_av1_targets(void **state)
{
	(void)state;
	for (uint8_t dt = 0; dt < 9; dt++) {
		struct av1s a;
		struct rx r;
		struct pkt p[4];

		av1_init(&a);
		rx_init(&r, 0, 0, dt, 0);
		for (int k = 0; k < 13; k++) {
			int n = av1_picture(&a, p, k == 0);
			unsigned want = p[0].mp.tid <= dt % 3 ? (2u << (dt / 3)) - 1 : 0;

			assert_int_equal(feed_av1(&r, p, n), want);
		}
		assert_int_equal(r.sel.cur_dt, dt);
	}
}

/* Nothing before a keyframe; switch only at SWITCH with the chain intact and references forwarded. */
static void test_av1_switches(void **state)
{
	struct av1s a;
	struct rx r;
	struct pkt p[4];
	int n;

	(void)state;
	av1_init(&a);
	rx_init(&r, 0, 0, 2, 0);                              /* S0T2 */
	n = av1_picture(&a, p, false);
	assert_int_equal(feed_av1(&r, p, n), 0);               /* before a keyframe */
	n = av1_picture(&a, p, true);
	assert_int_equal(feed_av1(&r, p, n), 1);
	assert_int_equal(r.sel.cur_dt, 2);
	/* up to S2T2 (dt 8): S0 frames of non-key pictures are SWITCH for it, but chain 2's previous
	 * frame (an S2 frame) was never forwarded: no switch until the next keyframe */
	r.t.dt = 8;
	for (int k = 0; k < 8; k++) {
		n = av1_picture(&a, p, false);
		assert_int_equal(feed_av1(&r, p, n), 1);
		assert_int_equal(r.sel.cur_dt, 2);
	}
	n = av1_picture(&a, p, true);
	assert_int_equal(feed_av1(&r, p, n), 7);
	assert_int_equal(r.sel.cur_dt, 8);
	/* down to S1T0 (dt 3): the receiver has every frame dt 3 needs, so at the next picture */
	r.t.dt = 3;
	n = av1_picture(&a, p, false);                       /* T2: not in dt 3 */
	assert_int_equal(feed_av1(&r, p, n), 0);
	assert_int_equal(r.sel.cur_dt, 3);
	for (int k = 2; k < 4; k++) {
		n = av1_picture(&a, p, false);                   /* T1 T2 */
		assert_int_equal(feed_av1(&r, p, n), 0);
	}
	n = av1_picture(&a, p, false);                       /* T0 */
	assert_int_equal(feed_av1(&r, p, n), 3);
	/* temporal up S1T0 -> S1T1 (dt 4) at the T1 switch frame (2 pictures on), chain 1 intact */
	r.t.dt = 4;
	n = av1_picture(&a, p, false);                       /* T2 */
	assert_int_equal(feed_av1(&r, p, n), 0);
	n = av1_picture(&a, p, false);                       /* T1 SWITCH */
	assert_int_equal(feed_av1(&r, p, n), 3);
	assert_int_equal(r.sel.cur_dt, 4);
}

/* A lost frame breaks the chain: no switch to a target it protects until a keyframe. */
static void test_av1_broken_chain(void **state)
{
	struct av1s a;
	struct rx r;
	struct pkt p[4];
	int n;

	(void)state;
	av1_init(&a);
	rx_init(&r, 0, 0, 0, 0);                              /* S0T0 */
	n = av1_picture(&a, p, true);
	feed_av1(&r, p, n);
	for (int k = 1; k < 4; k++) {
		n = av1_picture(&a, p, false);
		feed_av1(&r, p, n);
	}
	n = av1_picture(&a, p, false);                        /* T0: its S0 frame is lost */
	assert_int_equal(feed_av1(&r, p + 1, 2), 0);
	r.t.dt = 1;                                           /* S0T1: switch frame at +2 */
	n = av1_picture(&a, p, false);                        /* T2 */
	assert_int_equal(feed_av1(&r, p, n), 0);
	n = av1_picture(&a, p, false);                        /* T1 SWITCH, chain 0 broken */
	assert_int_equal(feed_av1(&r, p, n), 0);
	assert_int_equal(r.sel.cur_dt, 0);
	/* and the same with an intact chain does switch (the test above fails for the chain) */
	av1_init(&a);
	rx_init(&r, 0, 0, 0, 0);
	for (int k = 0; k < 5; k++) {
		n = av1_picture(&a, p, k == 0);
		feed_av1(&r, p, n);
	}
	r.t.dt = 1;
	n = av1_picture(&a, p, false);
	assert_int_equal(feed_av1(&r, p, n), 0);
	n = av1_picture(&a, p, false);
	assert_int_equal(feed_av1(&r, p, n), 1);
	assert_int_equal(r.sel.cur_dt, 1);
	/* a SWITCH frame whose chain is intact but one of whose references was withheld */
	av1_init(&a);
	rx_init(&r, 0, 0, 0, 0);
	n = av1_picture(&a, p, true);
	feed_av1(&r, p, n);
	n = av1_picture(&a, p, false);
	feed_av1(&r, p, n);
	n = av1_picture(&a, p, false);                        /* T1 */
	p[0].mp.fdiff[p[0].mp.n_fdiffs++] = 3;                /* also references the T2 before */
	r.t.dt = 1;
	assert_int_equal(feed_av1(&r, p, n), 0);
	assert_int_equal(r.sel.cur_dt, 0);
}

/* AV1 late and duplicate packets: same number; older frames withheld. */
static void test_av1_late_dup(void **state)
{
	struct av1s a;
	struct rx r;
	struct pkt p[4];
	struct layer_out o1, o2;

	(void)state;
	av1_init(&a);
	rx_init(&r, 0, 0, 8, 0);
	av1_picture(&a, p, true);
	feed_av1(&r, p, 3);
	av1_picture(&a, p, false);
	assert_int_equal(layer_sel_video(&r.sel, &r.t, &p[0].ri, &p[0].mp, 0, &o1), 1);
	assert_int_equal(layer_sel_video(&r.sel, &r.t, &p[0].ri, &p[0].mp, 0, &o2), 1);
	assert_int_equal(o1.seq, o2.seq);
	assert_int_equal(o1.frame_number, o2.frame_number);
	assert_int_equal(layer_sel_video(&r.sel, &r.t, &p[2].ri, &p[2].mp, 0, &o2), 1);
	assert_int_equal(o2.seq, (uint16_t)(o1.seq + 2));    /* p[1] not yet here: a gap */
	/* late, of a frame never begun (neither current nor previous): withheld, the gap stays */
	assert_int_equal(layer_sel_video(&r.sel, &r.t, &p[1].ri, &p[1].mp, 0, &o2), 0);
	/* late duplicates of the current and the previous frame: their numbers again */
	assert_int_equal(layer_sel_video(&r.sel, &r.t, &p[2].ri, &p[2].mp, 0, &o2), 1);
	assert_int_equal(o2.seq, (uint16_t)(o1.seq + 2));
	assert_int_equal(layer_sel_video(&r.sel, &r.t, &p[0].ri, &p[0].mp, 0, &o2), 1);
	assert_int_equal(o2.seq, o1.seq);
	assert_int_equal(o2.frame_number, p[0].mp.frame_number);
	/* a packet of an older frame: withheld */
	av1_init(&a);
	av1_picture(&a, p, true);
	assert_int_equal(layer_sel_video(&r.sel, &r.t, &p[2].ri, &p[2].mp, 0, &o2), 0);
}

/* ---- simulcast ------------------------------------------------------------------------------ */

struct enc {
	uint16_t seq, pid, fn;
	uint32_t ts;
	uint8_t tl0;
	int codec, idx, k;
};

/* Frame of n packets of encoding e; VP8 temporal pattern 0,2,1,2 with Y on 1 and 2. */
static int enc_frame(struct enc *e, struct pkt *p, int n, bool key)
{
	uint8_t tid = key ? 0 : pat_tid[e->k % 4];

	if (tid == 0 && e->k > 0)
		e->tl0++;
	for (int i = 0; i < n; i++) {
		struct pkt *q = &p[i];

		memset(q, 0, sizeof(*q));
		q->ri.seq = e->seq++;
		q->ri.ts = e->ts;
		q->ri.marker = i == n - 1;
		q->mp.codec = (uint8_t)e->codec;
		q->mp.encoding = (uint8_t)e->idx;
		q->mp.start = i == 0;
		q->mp.end = i == n - 1;
		q->mp.keyframe = key;
		if (e->codec == MMR_CODEC_VP8) {
			q->mp.tid = tid;
			q->mp.has_layers = 1;
			q->mp.switch_up = !key && pat_u[e->k % 4];
			q->mp.has_pid = 1;
			q->mp.pid_16 = 1;
			q->mp.picture_id = e->pid;
			q->mp.has_tl0 = 1;
			q->mp.tl0picidx = e->tl0;
		} else if (e->codec == MMR_CODEC_AV1) {
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

static void encs_init(struct enc *e, int codec)
{
	for (int i = 0; i < 3; i++)
		e[i] = (struct enc){ .seq = (uint16_t)(1000 * i + 65000), .pid = (uint16_t)(300 * i + 5),
				     .fn = (uint16_t)(7000 * i + 3), .ts = 1000000u * (uint32_t)i + 77,
				     .tl0 = (uint8_t)(90 * i), .codec = codec, .idx = i };
}

/* Feed a frame of every encoding (enc 0 first) at arrival time; returns which were forwarded. */
static unsigned feed_round(struct rx *r, struct enc *e, bool key[3], uint32_t arrival)
{
	unsigned got = 0;

	for (int i = 0; i < 3; i++) {
		struct pkt p[4];
		int n = enc_frame(&e[i], p, 2, key[i]);

		for (int j = 0; j < n; j++) {
			struct layer_out o;
			uint32_t prev_ts = r->ts;
			uint16_t prev_pid = r->pid, prev_fn = r->fn;
			uint8_t prev_tl0 = r->tl0;
			bool had = r->have;
			int f = feed1(r, &p[j], arrival, &o, true);

			if (!f)
				continue;
			got |= 1u << i;
			if (had && j == 0) {           /* new frame: ts moves on, ids +1 */
				assert_true((int32_t)(o.ts - prev_ts) > 0);
				if (e->codec == MMR_CODEC_VP8)
					assert_int_equal(o.picture_id, (uint16_t)((prev_pid + 1) & 0x7fff));
				if (e->codec == MMR_CODEC_AV1)
					assert_int_equal(o.frame_number, (uint16_t)(prev_fn + 1));
				if (e->codec == MMR_CODEC_VP8 && p[j].mp.tid == 0)
					assert_int_equal(o.tl0picidx, (uint8_t)(prev_tl0 + 1));
			}
		}
	}
	return got;
}

static void run_simulcast(int codec)
{
	struct enc e[3];
	struct rx r;
	bool none[3] = { false, false, false }, all[3] = { true, true, true };
	bool k2[3] = { false, false, true }, k0[3] = { true, false, false };
	uint32_t arr = 500;
	struct layer_current c;

	encs_init(e, codec);
	rx_init(&r, 0, 3, 0, 1);
	assert_int_equal(feed_round(&r, e, none, arr += 3000), 0);   /* keyframe first */
	assert_int_equal(feed_round(&r, e, k0, arr += 3000), 0);     /* not the target's */
	assert_int_equal(feed_round(&r, e, all, arr += 3000), 2);    /* encoding 1 starts */
	layer_sel_current(&r.sel, &c);
	assert_int_equal(c.encoding, 1);
	assert_int_equal(c.started, 1);
	for (int k = 0; k < 4; k++)
		assert_int_equal(feed_round(&r, e, none, arr += 3000), 2);
	/* up to 2: waits for its keyframe; the output's timestamps follow arrival, not enc 2's */
	r.t.encoding = 2;
	r.sel.dirty = 0;
	assert_int_equal(feed_round(&r, e, k0, arr += 3000), 2);
	uint32_t ts_before = r.ts;
	assert_int_equal(feed_round(&r, e, k2, arr += 3000), 6);      /* enc 1's frame, then 2 */
	assert_int_equal(r.sel.dirty, 1);
	assert_int_equal(r.sel.encoding, 2);
	/* enc 1's frame went out at +3000; enc 2's keyframe arrived at the same time: +1 */
	assert_int_equal(r.ts, ts_before + 3000 + 1);
	for (int k = 0; k < 4; k++)
		assert_int_equal(feed_round(&r, e, none, arr += 3000), 4);
	/* down to 0, switching on a keyframe of 0 */
	r.t.encoding = 0;
	assert_int_equal(feed_round(&r, e, none, arr += 3000), 4);
	assert_int_equal(feed_round(&r, e, all, arr += 3000), 1);     /* 0 first: switches */
	assert_int_equal(r.sel.encoding, 0);
}

static void test_simulcast_vp8(void **state)
{
	(void)state;
	run_simulcast(MMR_CODEC_VP8);
}

static void test_simulcast_av1(void **state)
{
	(void)state;
	run_simulcast(MMR_CODEC_AV1);
}

static void test_simulcast_h264(void **state)
{
	(void)state;
	run_simulcast(MMR_CODEC_H264);
}

/* A switch in the middle of the old encoding's frame skips one number; the timestamp steps by the
 * arrival time (at least 1). VP8 temporal layers apply inside the encoding. */
static void test_simulcast_cut_frame(void **state)
{
	struct enc e[3];
	struct rx r;
	struct pkt p[4], q[4];
	struct layer_out o;

	(void)state;
	encs_init(e, MMR_CODEC_VP8);
	rx_init(&r, 0, 0, 0, 0);                                  /* TID 0 only */
	enc_frame(&e[0], p, 3, true);
	for (int i = 0; i < 3; i++)
		assert_int_equal(feed1(&r, &p[i], 100, &o, true), 1);
	enc_frame(&e[0], p, 3, false);                              /* T2: withheld */
	for (int i = 0; i < 3; i++)
		assert_int_equal(feed1(&r, &p[i], 200, &o, true), 0);
	for (int k = 0; k < 2; k++) {                               /* T1, T2: withheld */
		enc_frame(&e[0], p, 3, false);
		for (int i = 0; i < 3; i++)
			assert_int_equal(feed1(&r, &p[i], 300, &o, true), 0);
	}
	enc_frame(&e[0], p, 3, false);                              /* T0 */
	uint16_t pid_t0 = r.pid;
	assert_int_equal(feed1(&r, &p[0], 1000, &o, true), 1);
	assert_int_equal(o.picture_id, (uint16_t)(pid_t0 + 1));     /* withheld frames removed */
	uint16_t seq = o.seq;
	uint32_t ts = o.ts;
	r.t.encoding = 1;
	enc_frame(&e[1], q, 2, true);
	assert_int_equal(feed1(&r, &q[0], 1000, &o, false), 1);     /* same arrival: ts + 1 */
	assert_int_equal(o.seq, (uint16_t)(seq + 2));               /* the cut frame shows a loss */
	assert_int_equal(o.ts, ts + 1);
	assert_int_equal(feed1(&r, &p[1], 1001, &o, false), 0);     /* rest of the old frame */
	assert_int_equal(feed1(&r, &q[1], 1001, &o, true), 1);
	/* an uncut switch back: +1 exactly; ts by arrival */
	r.t.encoding = 0;
	enc_frame(&e[0], p, 1, true);
	assert_int_equal(feed1(&r, &p[0], 1901, &o, false), 1);
	assert_int_equal(o.seq, (uint16_t)(r.seq));
	assert_int_equal(o.ts, ts + 1 + 900);
	/* late packets of the old encoding are withheld */
	assert_int_equal(layer_sel_video(&r.sel, &r.t, &q[1].ri, &q[1].mp, 1902, &o), 0);
	/* before started, the encoding follows the target */
	rx_init(&r, 0, 0, 0, 2);
	enc_frame(&e[1], q, 1, true);
	assert_int_equal(feed1(&r, &q[0], 0, &o, false), 0);
	r.t.encoding = 1;
	enc_frame(&e[1], q, 1, true);
	assert_int_equal(feed1(&r, &q[0], 0, &o, false), 1);
	assert_int_equal(o.seq, q[0].ri.seq);
	assert_int_equal(r.sel.encoding, 1);
}

/* H.264 without simulcast: everything after the first keyframe, marker as sent. */
static void test_h264(void **state)
{
	struct enc e[3];
	struct rx r;
	struct pkt p[4];
	struct layer_out o;

	(void)state;
	encs_init(e, MMR_CODEC_H264);
	rx_init(&r, 0, 0, 0, 0);
	enc_frame(&e[0], p, 2, false);
	assert_int_equal(feed1(&r, &p[0], 0, &o, true), 0);
	assert_int_equal(feed1(&r, &p[1], 0, &o, true), 0);
	enc_frame(&e[0], p, 2, true);
	assert_int_equal(feed1(&r, &p[0], 0, &o, true), 1);
	assert_int_equal(o.marker, 0);
	assert_int_equal(feed1(&r, &p[1], 0, &o, true), 1);
	assert_int_equal(o.marker, 1);
	for (int k = 0; k < 5; k++) {
		enc_frame(&e[0], p, 2, false);
		assert_int_equal(feed1(&r, &p[0], 0, &o, true), 1);
		assert_int_equal(o.seq, p[0].ri.seq);
		assert_int_equal(o.ts, p[0].ri.ts);
		assert_int_equal(feed1(&r, &p[1], 0, &o, true), 1);
	}
}


/* The allocation word on VP9 L3T3 (issue 12): an allocation below the ceiling takes both layers
 * down at the next picture; raised again, temporal up at U=1 frames and spatial up at a P=0 layer
 * frame, one at a time; paused: LAYER_SEL_PAUSED for every packet; resumed: only at a keyframe,
 * seq, PictureID and ts (+ arrival time elapsed) continuing. */
static void test_vp9_alloc_pause(void **state)
{
	struct vp9s s;
	struct rx r;
	struct pkt p[MAXP];
	struct layer_out o;
	int n;

	(void)state;
	vp9_init(&s, false);
	rx_init(&r, 2, 2, 0, 0);                       /* the ceiling (2,2) */
	n = vp9_picture(&s, p, 3, true, -1);
	assert_int_equal(feed_vp9(&r, p, n), 7);
	for (int k = 0; k < 7; k++) {
		n = vp9_picture(&s, p, 3, false, -1);
		feed_vp9(&r, p, n);
	}
	assert_int_equal(r.sel.cur_sid, 2);
	assert_int_equal(r.sel.cur_tid, 2);
	/* allocation (1,1): down at the next picture, both */
	layer_sel_alloc_store(&r.sel, &(struct layer_target){ .sid = 1, .tid = 1 });
	n = vp9_picture(&s, p, 3, false, -1);
	assert_true(feed_vp9(&r, p, n) <= 3);
	assert_int_equal(r.sel.cur_sid, 1);
	assert_int_equal(r.sel.cur_tid, 1);
	for (int k = 0; k < 8; k++) {
		n = vp9_picture(&s, p, 3, false, -1);
		unsigned got = feed_vp9(&r, p, n);
		assert_true(got <= 3);
		if (p[0].mp.tid == 2)
			assert_int_equal(got, 0);
	}
	/* back to (2,2) (the ceiling rules again): temporal up at U=1, spatial at a P=0 S2 frame */
	layer_sel_alloc_set(&r.sel, LAYER_ALLOC_NONE);
	for (int k = 0; k < 4; k++) {
		n = vp9_picture(&s, p, 3, false, -1);
		feed_vp9(&r, p, n);
	}
	assert_int_equal(r.sel.cur_tid, 2);
	assert_int_equal(r.sel.cur_sid, 1);
	n = vp9_picture(&s, p, 3, false, 2);
	assert_int_equal(feed_vp9(&r, p, n) >> 2 & 1, (unsigned)(p[0].mp.tid <= 2));
	assert_int_equal(r.sel.cur_sid, 2);

	/* pause with arrival times: everything withheld */
	uint16_t last_seq = r.seq, last_pid = r.pid;
	uint32_t last_ts = r.ts, arrival = 50000;
	layer_sel_alloc_store(&r.sel, NULL);
	for (int k = 0; k < 10; k++) {
		arrival += 3000;
		n = vp9_picture(&s, p, 3, k == 4, -1);
		for (int i = 0; i < n; i++)
			assert_int_equal(layer_sel_video(&r.sel, &r.t, &p[i].ri, &p[i].mp, arrival, &o),
					 LAYER_SEL_PAUSED);
	}
	assert_int_equal(r.sel.started, 0);
	/* resumed at (0,2): the delta pictures wait, the keyframe continues the numbering */
	layer_sel_alloc_store(&r.sel, &(struct layer_target){ .sid = 0, .tid = 2 });
	arrival += 3000;
	n = vp9_picture(&s, p, 3, false, -1);
	for (int i = 0; i < n; i++)
		assert_int_equal(layer_sel_video(&r.sel, &r.t, &p[i].ri, &p[i].mp, arrival, &o), 0);
	arrival += 3000;
	n = vp9_picture(&s, p, 3, true, -1);
	assert_int_equal(layer_sel_video(&r.sel, &r.t, &p[0].ri, &p[0].mp, arrival, &o), 1);
	assert_int_equal(o.seq, (uint16_t)(last_seq + 1));
	assert_int_equal(o.picture_id, (uint16_t)((last_pid + 1) & 0x7fff));
	assert_int_equal(o.ts, last_ts + arrival);      /* the pictures before went out at arrival 0 */
	assert_int_equal(layer_sel_video(&r.sel, &r.t, &p[1].ri, &p[1].mp, arrival, &o), 1);
	assert_int_equal(o.seq, (uint16_t)(last_seq + 2));
	assert_true(o.marker);                          /* S0 is the top layer now */
	for (int i = 2; i < n; i++)
		assert_int_equal(layer_sel_video(&r.sel, &r.t, &p[i].ri, &p[i].mp, arrival, &o), 0);
	assert_int_equal(r.sel.cur_sid, 0);
	assert_int_equal(r.sel.cur_tid, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vp9_keyframe_first),
		cmocka_unit_test(test_vp9_l3t3_targets),
		cmocka_unit_test(test_vp9_ksvc_targets),
		cmocka_unit_test(test_vp9_temporal_switches),
		cmocka_unit_test(test_vp9_spatial_up),
		cmocka_unit_test(test_vp9_spatial_up_keeps_temporal),
		cmocka_unit_test(test_vp9_lost_lower_layers_gap),
		cmocka_unit_test(test_vp9_spatial_down_and_marker),
		cmocka_unit_test(test_vp9_limits_late_dup),
		cmocka_unit_test(test_vp9_alloc_pause),
		cmocka_unit_test(test_av1_targets),
		cmocka_unit_test(test_av1_switches),
		cmocka_unit_test(test_av1_broken_chain),
		cmocka_unit_test(test_av1_late_dup),
		cmocka_unit_test(test_simulcast_vp8),
		cmocka_unit_test(test_simulcast_av1),
		cmocka_unit_test(test_simulcast_h264),
		cmocka_unit_test(test_simulcast_cut_frame),
		cmocka_unit_test(test_h264),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
