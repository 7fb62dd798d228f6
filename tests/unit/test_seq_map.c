/*
 * test_seq_map.c - unit tests of a subscription's out seq -> input packet map (lib/repair/seq_map.c),
 * alone and behind the real layer selector (lib/select/layer_select.c).
 *
 *  - alone: record/lookup, rebuild of the out fields, a stale entry (its slot rewritten by a seq
 *    512 later, or an out seq never recorded) refused, out seqs 512 or more behind the newest
 *    refused, the 65535 -> 0 wrap, late records in place, records too old ignored, the within-RTT
 *    resend rule and that a repeat record keeps it;
 *  - behind layer_sel_video: a VP8 L1T3 stream with the receiver's target below the top layer
 *    (TID 2 frames withheld), input seqs across the wrap, random input loss, reordering and
 *    duplicates, and a 3-encoding simulcast group with switches up and down. Every out seq the
 *    receiver got maps back to exactly the input packet (encoding, seq) that produced it, with
 *    the fields it was sent with; every out seq it did not get (or too old) maps to nothing;
 *  - a receive slot's floor (issue 13): numbers of the previous publisher refused, across the wrap.
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
#include "recv_stats.h"
#include "seq_map.h"
#include "unit_util.h"

static struct layer_out lo(uint16_t seq, uint32_t ts, uint8_t marker, uint16_t pid, uint8_t tl0, uint16_t fn)
{
	struct layer_out o = { .seq = seq, .ts = ts, .marker = marker, .picture_id = pid, .tl0picidx = tl0,
			       .frame_number = fn };
	return o;
}

static void test_basic(void **state)
{
	(void)state;
	static struct seq_map m;
	struct layer_out o = lo(100, 9000, 1, 77, 5, 0), back;
	struct seq_map_entry *e;

	seq_map_init(&m);
	assert_null(seq_map_lookup(&m, 100));
	assert_null(seq_map_lookup(&m, 0));
	seq_map_record(&m, 70000, 2, &o);
	e = seq_map_lookup(&m, 100);
	assert_non_null(e);
	assert_int_equal(e->in_ext_seq, 70000);
	assert_int_equal(seq_map_entry_encoding(e), 2);
	seq_map_entry_out(e, &back);
	assert_memory_equal(&back, &o, sizeof(o));
	/* never recorded: slot empty, or newer than the newest */
	assert_null(seq_map_lookup(&m, 99));
	assert_null(seq_map_lookup(&m, 101));
	/* a slot rewritten by the seq SEQ_MAP_SIZE later: the old one is stale */
	o = lo(100 + SEQ_MAP_SIZE, 1, 0, 0, 0, 0);
	seq_map_record(&m, 80000, 0, &o);
	assert_null(seq_map_lookup(&m, 100));
	e = seq_map_lookup(&m, 100 + SEQ_MAP_SIZE);
	assert_non_null(e);
	assert_int_equal(e->in_ext_seq, 80000);
	assert_int_equal(seq_map_entry_encoding(e), 0);
	assert_int_equal(e->flags & SEQ_MAP_MARKER, 0);
}

/* Contiguous out seqs across the wrap: the last SEQ_MAP_SIZE are found, older are not. */
static void test_wrap_window(void **state)
{
	(void)state;
	static struct seq_map m;
	uint16_t s = 65000;
	uint32_t n = 2000, i;

	seq_map_init(&m);
	for (i = 0; i < n; i++) {
		struct layer_out o = lo((uint16_t)(s + i), i * 10, 0, 0, 0, 0);

		seq_map_record(&m, 1000000 + i, 0, &o);
	}
	for (i = 0; i < n; i++) {
		struct seq_map_entry *e = seq_map_lookup(&m, (uint16_t)(s + i));

		if (i + SEQ_MAP_SIZE >= n) {
			assert_non_null(e);
			assert_int_equal(e->in_ext_seq, 1000000 + i);
		} else {
			assert_null(e);
		}
	}
	/* a jump of the out seqs: the window moves, entries behind it are refused even if intact */
	struct layer_out o = lo((uint16_t)(s + n + 1000), 0, 0, 0, 0, 0);
	seq_map_record(&m, 5, 0, &o);
	assert_null(seq_map_lookup(&m, (uint16_t)(s + n - 1)));
	assert_non_null(seq_map_lookup(&m, (uint16_t)(s + n + 1000)));
}

/* Late records land in place; too-old ones do not clobber a newer entry; a repeat keeps the
 * resend time, a different input for the same out seq does not. */
static void test_late_and_resend(void **state)
{
	(void)state;
	static struct seq_map m;
	struct seq_map_entry *e;
	uint64_t rtt = 1000;

	seq_map_init(&m);
	for (uint16_t s = 10; s < 20; s++) {
		if (s == 15)
			continue;
		struct layer_out o = lo(s, s, 0, 0, 0, 0);
		seq_map_record(&m, s + 100u, 0, &o);
	}
	assert_null(seq_map_lookup(&m, 15));
	struct layer_out o15 = lo(15, 15, 0, 0, 0, 0);
	seq_map_record(&m, 115, 0, &o15);
	assert_non_null(seq_map_lookup(&m, 15));
	assert_int_equal(m.newest, 19);
	/* too old (seq 19 - SEQ_MAP_SIZE - 3 shares a slot with 16 - ...): ignored */
	struct layer_out old = lo((uint16_t)(16 - SEQ_MAP_SIZE), 0, 0, 0, 0, 0);
	seq_map_record(&m, 1, 0, &old);
	e = seq_map_lookup(&m, 16);
	assert_non_null(e);
	assert_int_equal(e->in_ext_seq, 116);

	/* resend rule */
	e = seq_map_lookup(&m, 12);
	assert_true(seq_map_resend_ok(e, 5000, rtt));
	assert_false(seq_map_resend_ok(e, 5999, rtt));
	assert_true(seq_map_resend_ok(e, 6000, rtt));
	/* a duplicate of the same input keeps it */
	struct layer_out o12 = lo(12, 12, 0, 0, 0, 0);
	seq_map_record(&m, 112, 0, &o12);
	e = seq_map_lookup(&m, 12);
	assert_false(seq_map_resend_ok(e, 6500, rtt));
	/* another input under that out seq (cannot happen behind layer_sel; defensive): fresh entry */
	seq_map_record(&m, 999, 0, &o12);
	e = seq_map_lookup(&m, 12);
	assert_int_equal(e->in_ext_seq, 999);
	assert_true(seq_map_resend_ok(e, 6500, rtt));
	/* time 0 still counts as resent */
	e = seq_map_lookup(&m, 13);
	assert_true(seq_map_resend_ok(e, 0, rtt));
	assert_false(seq_map_resend_ok(e, 10, rtt));
}

/* ---- behind the real layer selector -------------------------------------------------------- */

static const uint8_t pat_tid[4] = { 0, 2, 1, 2 };
static const uint8_t pat_y[4] = { 0, 1, 1, 0 };

struct pkt {
	struct rtp_info ri;
	struct media_pkt mp;
	uint8_t enc;
};

/* One VP8 encoding of a simulcast group (or the only stream): L1T3, 3 packets per frame. */
struct enc {
	uint16_t seq, pid;
	uint32_t ts;
	uint8_t tl0;
	uint8_t idx;
	int k;
	struct recv_stats rs;     /* the MMR's view: extended seqs */
};

static int enc_frame(struct enc *e, struct pkt *p, bool key)
{
	uint8_t tid = key ? 0 : pat_tid[e->k % 4];

	if (tid == 0 && e->k > 0)
		e->tl0++;
	for (int i = 0; i < 3; i++) {
		struct pkt *q = &p[i];

		memset(q, 0, sizeof(*q));
		q->enc = e->idx;
		q->ri.seq = e->seq++;
		q->ri.ts = e->ts;
		q->ri.marker = i == 2;
		q->mp.codec = MMR_CODEC_VP8;
		q->mp.encoding = e->idx;
		q->mp.start = i == 0;
		q->mp.end = i == 2;
		q->mp.keyframe = key;
		q->mp.tid = tid;
		q->mp.has_layers = 1;
		q->mp.switch_up = !key && pat_y[e->k % 4];
		q->mp.has_pid = 1;
		q->mp.pid_16 = 1;
		q->mp.picture_id = e->pid;
		q->mp.has_tl0 = 1;
		q->mp.tl0picidx = e->tl0;
	}
	e->k++;
	e->ts += 3000;
	e->pid = (uint16_t)((e->pid + 1) & 0x7fff);
	return 3;
}

/* What the receiver got under each out seq (this test never sends 65536 out seqs). */
struct truth {
	bool got;
	uint8_t enc;
	uint16_t in_seq;
	uint32_t in_ext;
	struct layer_out out;
};

struct rig {
	struct layer_sel sel;
	struct layer_target t;
	struct seq_map map;
	struct truth tr[65536];
	bool have;
	uint16_t newest;
	unsigned withheld_tid[4];
	unsigned n_fwd, n_withheld, n_checked_hit, n_checked_miss;
};

/* The MMR receives p (ext seq from its stream's recv_stats), the selector decides, the map
 * records what went out. */
static void rig_feed(struct rig *g, struct enc *e, const struct pkt *p, uint32_t arrival)
{
	struct layer_out o;
	uint32_t ext;
	enum recv_result rr = recv_stats_update(&e->rs, p->ri.seq, p->ri.ts, arrival, &ext);

	assert_true(rr != RECV_BAD && rr != RECV_RESTART);
	if (!layer_sel_video(&g->sel, &g->t, &p->ri, &p->mp, arrival, &o)) {
		g->n_withheld++;
		g->withheld_tid[p->mp.tid & 3]++;
		return;
	}
	g->n_fwd++;
	seq_map_record(&g->map, ext, p->enc, &o);
	struct truth *t = &g->tr[o.seq];
	if (t->got) {   /* layer_sel: one out seq, one input packet */
		assert_int_equal(t->enc, p->enc);
		assert_int_equal(t->in_seq, p->ri.seq);
	}
	t->got = true;
	t->enc = p->enc;
	t->in_seq = p->ri.seq;
	t->in_ext = ext;
	t->out = o;
	if (!g->have || (int16_t)(o.seq - g->newest) > 0)
		g->newest = o.seq;
	g->have = true;
}

/* Every out seq in a window around the newest: a NACK for it finds exactly the input packet the
 * receiver got under it, with the fields it was sent with, or nothing. */
static void rig_check(struct rig *g)
{
	for (int d = -8; d < SEQ_MAP_SIZE + 200; d++) {
		uint16_t s = (uint16_t)(g->newest - d);
		struct seq_map_entry *e = seq_map_lookup(&g->map, s);
		struct truth *t = &g->tr[s];

		if (d >= 0 && d < SEQ_MAP_SIZE && t->got) {
			struct layer_out back;

			assert_non_null(e);
			assert_int_equal(seq_map_entry_encoding(e), t->enc);
			assert_int_equal(e->in_ext_seq, t->in_ext);
			assert_int_equal((uint16_t)e->in_ext_seq, t->in_seq);
			seq_map_entry_out(e, &back);
			assert_int_equal(back.seq, s);
			assert_memory_equal(&back, &t->out, sizeof(back));
			g->n_checked_hit++;
		} else {
			if (e)
				fail_msg("out seq %u (newest %u, d %d) found, receiver %s it", s, g->newest, d,
					 t->got ? "got" : "never got");
			g->n_checked_miss++;
		}
	}
}

static void rig_init(struct rig *g, uint8_t tid, uint8_t enc)
{
	memset(g, 0, sizeof(*g));
	layer_sel_init(&g->sel);
	seq_map_init(&g->map);
	g->t = (struct layer_target){ .tid = tid, .encoding = enc };
}

/* VP8 L1T3, target TID 1 (TID 2 withheld), seqs across the wrap, 3 % input loss, reordering and
 * duplicates. */
static void test_layer_drop(void **state)
{
	(void)state;
	struct rig *g = calloc(1, sizeof(*g));
	struct enc e = { .seq = 64000, .pid = 32700, .ts = 1000, .tl0 = 250 };
	uint32_t arrival = 0;

	assert_non_null(g);
	rig_init(g, 1, 0);
	recv_stats_init(&e.rs);
	rng_state = 12345;
	for (int f = 0; f < 1500; f++) {
		struct pkt p[3];
		int n = enc_frame(&e, p, f % 300 == 0);

		arrival += 3000;
		/* swap two packets sometimes (reordering inside the frame; not the keyframe's: a
		   selector starts only at a keyframe's first packet) */
		if (rnd() % 10 == 0 && f % 300 != 0) {
			struct pkt x = p[0];
			p[0] = p[1];
			p[1] = x;
		}
		for (int i = 0; i < n; i++) {
			if (f % 300 != 0 && rnd() % 100 < 3)
				continue;               /* lost on the uplink */
			rig_feed(g, &e, &p[i], arrival);
			if (rnd() % 50 == 0)
				rig_feed(g, &e, &p[i], arrival);   /* duplicated */
		}
		if (f % 37 == 0 && g->have)
			rig_check(g);
	}
	rig_check(g);
	/* TID 2 withheld, nothing else */
	assert_int_equal(g->withheld_tid[0] + g->withheld_tid[1], 0);
	assert_true(g->withheld_tid[2] > 2000);
	assert_true(g->n_fwd > 2000);
	assert_true(g->n_checked_hit > 10000);
	/* the output wrapped too */
	assert_true(g->tr[65535].got || g->tr[0].got);
	free(g);
}

/* Simulcast, three VP8 encodings: the receiver switches 0 -> 2 -> 1 -> 0 (each at the target's
 * keyframe); NACKs map back to the right encoding's packet. */
static void test_simulcast_switch(void **state)
{
	(void)state;
	struct rig *g = calloc(1, sizeof(*g));
	struct enc e[3];
	uint32_t arrival = 0;
	const uint8_t plan[4] = { 0, 2, 1, 0 };
	unsigned switches = 0;

	assert_non_null(g);
	rig_init(g, 2, 0);
	for (int i = 0; i < 3; i++) {
		e[i] = (struct enc){ .seq = (uint16_t)(65400 + 7000 * i), .pid = (uint16_t)(100 * i),
				     .ts = 5000u + 1000000u * (uint32_t)i, .tl0 = (uint8_t)(60 * i), .idx = (uint8_t)i };
		recv_stats_init(&e[i].rs);
	}
	rng_state = 777;
	for (int f = 0; f < 1200; f++) {
		int phase = f / 300;
		uint8_t before = g->sel.encoding;

		g->t.encoding = plan[phase];
		arrival += 3000;
		for (int i = 0; i < 3; i++) {
			struct pkt p[3];
			/* keyframes: every 100 frames per encoding, staggered */
			int n = enc_frame(&e[i], p, (f + 30 * i) % 100 == 0);

			for (int j = 0; j < n; j++) {
				if ((f + 30 * i) % 100 != 0 && rnd() % 100 < 2)
					continue;
				rig_feed(g, &e[i], &p[j], arrival);
			}
		}
		if (g->sel.encoding != before)
			switches++;
		if (f % 23 == 0 && g->have)
			rig_check(g);
	}
	rig_check(g);
	assert_int_equal(switches, 3);
	/* packets of all three encodings are in the receiver's numbering */
	unsigned per_enc[3] = { 0, 0, 0 };
	for (unsigned s = 0; s < 65536; s++)
		if (g->tr[s].got)
			per_enc[g->tr[s].enc]++;
	assert_true(per_enc[0] > 100 && per_enc[1] > 100 && per_enc[2] > 100);
	free(g);
}

/* A receive slot's publisher change (issue 13): numbers from before the floor are never looked up
 * (they are the old stream's input packets), across the wrap; the floor stops mattering once the
 * map's window is past it (no sign flip half the number space later). */
static void test_floor(void **state)
{
	(void)state;
	static struct seq_map m;
	seq_map_init(&m);
	for (unsigned i = 0; i < 20; i++) {
		struct layer_out o = lo((uint16_t)(65525 + i), 1000 + i, 0, 0, 0, 0);
		seq_map_record(&m, 500 + i, 0, &o);
	}
	/* the slot's next number is 65525 + 20 = 9 (after the wrap) */
	seq_map_set_floor(&m, 9);
	assert_null(seq_map_lookup(&m, 8));
	assert_null(seq_map_lookup(&m, 65530));
	assert_true(seq_map_before_floor(&m, 65530));
	assert_false(seq_map_before_floor(&m, 9));
	struct layer_out o = lo(9, 5000, 1, 0, 0, 0);
	seq_map_record(&m, 70000, 0, &o);
	assert_non_null(seq_map_lookup(&m, 9));
	for (unsigned i = 10; i < 10 + SEQ_MAP_SIZE + 1; i++) {
		struct layer_out q = lo((uint16_t)i, 5000 + i, 0, 0, 0, 0);
		seq_map_record(&m, 70000 + i, 0, &q);
	}
	assert_false(m.has_floor);
	assert_non_null(seq_map_lookup(&m, (uint16_t)(10 + SEQ_MAP_SIZE)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_wrap_window),
		cmocka_unit_test(test_late_and_resend),
		cmocka_unit_test(test_layer_drop),
		cmocka_unit_test(test_simulcast_switch),
		cmocka_unit_test(test_floor),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
