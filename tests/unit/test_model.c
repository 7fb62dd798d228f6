/*
 * test_model.c - unit tests of the controller's model (control/model.c with id_index.c and
 * id_pool.c): the subscription rule (every receiving participant subscribes to every stream of every
 * other participant of its meeting at the top target, out SSRC = the stream's), simulcast groups
 * (members consecutive and in encoding order, group = encoding 0's id, one out SSRC and one sel_id
 * per receiver, removed together), roles (sendonly gets nothing, recvonly gets everything), removals
 * cascading (meeting -> participants -> streams -> subscriptions) with the counts and indexes kept,
 * id reuse (freed ids oldest first, before fresh ones), and every index lookup. A randomized run of
 * joins, publishes and removals in several meetings (reserving first, as the requests do) checks
 * every invariant of the whole model after each step against a plain recount. RTCP (issue 11):
 * defaults, RTX SSRCs per receiver view (unique, shared by a group, cleared without a map), a
 * stream's RTX fields and clock, the mmr_ssrc and RTX SSRC lookups. Top-N audio (issue 12): a
 * meeting with top_n has no per-pair audio subscriptions and every receiver has exactly top_n slot
 * subscriptions (stream none, own out SSRC unique in its view, own sel_id), through joins, publishes,
 * removals and top_n changes (on, up, down, off) in the randomized run too. Meeting controls
 * (issue 15): the block byte (waiting, mutes, share policy), its changes, bans.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "model.h"
#include "unit_util.h"

#define NONE MMR_ID_NONE

static struct mmr_addr addr4(uint32_t host)
{
	struct mmr_addr a;
	memset(&a, 0, sizeof(a));
	a.family = MMR_AF_INET;
	a.ip[0] = 10;
	a.ip[1] = (uint8_t)(host >> 16);
	a.ip[2] = (uint8_t)(host >> 8);
	a.ip[3] = (uint8_t)host;
	return a;
}

static void reserve(struct model *m, uint32_t meetings, uint32_t parts, uint32_t streams, uint32_t subs)
{
	const char *what;
	assert_int_equal(model_reserve(m, meetings, parts, streams, subs, &what), 0);
}

static uint32_t meeting(struct model *m, const char *name)
{
	reserve(m, 1, 0, 0, 0);
	return model_meeting_add(m, NONE, name, 0);
}

static uint32_t join(struct model *m, uint32_t mt, const char *name, uint32_t host, unsigned role)
{
	struct mmr_addr a = addr4(host);
	reserve(m, 0, 1, 0, model_join_sub_count(m, mt, role));
	return model_participant_join(m, mt, name, &a, (uint16_t)(4000 + host % 1000), role, NULL, 0);
}

static uint32_t publish(struct model *m, uint32_t p, const uint32_t *ssrcs, unsigned n, unsigned codec,
			unsigned layers, unsigned spatial)
{
	struct m_stream_desc d;
	memset(&d, 0, sizeof(d));
	d.kind = codec == MMR_CODEC_OPUS ? MMR_KIND_AUDIO : MMR_KIND_VIDEO;
	d.codec = (uint8_t)codec;
	d.layers = (uint8_t)layers;
	d.spatial = (uint8_t)spatial;
	d.dd_ext_id = codec == MMR_CODEC_AV1 ? 11 : 0;
	reserve(m, 0, 0, n, n * model_publish_sub_count(m, p));
	return model_stream_publish(m, p, ssrcs, n, &d);
}

static int receives(unsigned role)
{
	return role == MMR_ROLE_SENDRECV || role == MMR_ROLE_RECVONLY;
}

/* Every invariant of the model, recounted from the arrays: lists and their back links, counts,
 * group layout, the subscription rule (default targets: no test here changes one), indexes. */
static void check_model(const struct model *m)
{
	uint32_t n_mt = 0, n_p = 0, n_s = 0, n_u = 0;
	char key[VAL_NAME_MAX + 16];

	for (uint32_t s = 0; s < model_stream_bound(m); s++)
		n_s += m->streams[s].used;
	for (uint32_t u = 0; u < model_sub_bound(m); u++) {
		const struct m_sub *b = &m->subs[u];
		if (!b->used)
			continue;
		n_u++;
		assert_true(m->parts[b->subscriber].used);
		if (b->topn_slot) {   /* a top-N slot: no stream, in no index, its own selection state */
			assert_int_equal(b->stream, NONE);
			assert_true(b->topn_slot <= m->meetings[m->parts[b->subscriber].meeting].top_n);
			assert_int_equal(b->sel_id, u);
			assert_int_equal(b->rtx_ssrc, 0);
			assert_int_equal(model_find_slot(m, b->subscriber, b->topn_slot - 1u), u);
			assert_false(model_view_ssrc_taken(m, b->subscriber, b->out_ssrc, u));
			continue;
		}
		assert_true(m->streams[b->stream].used);
		assert_int_equal(model_find_sub(m, b->stream, b->subscriber), u);
	}
	for (uint32_t mt = 0; mt < model_meeting_bound(m); mt++) {
		const struct m_meeting *M = &m->meetings[mt];
		if (!M->used)
			continue;
		n_mt++;
		assert_int_equal(model_find_meeting(m, M->name), mt);
		uint32_t parts = 0, recv = 0, streams = 0, subs = 0, prev = NONE;
		for (uint32_t p = M->first_part; p != NONE; prev = p, p = m->parts[p].next) {
			const struct m_participant *P = &m->parts[p];
			assert_true(P->used);
			assert_int_equal(P->meeting, mt);
			assert_int_equal(P->prev, prev);
			assert_int_equal(model_find_participant(m, mt, P->name), p);
			assert_int_equal(model_find_participant_by_addr(m, &P->addr, P->udp_port), p);
			parts++;
			recv += receives(P->role);
			/* its streams: list, groups consecutive in encoding order */
			uint32_t ns = 0, sprev = NONE;
			for (uint32_t s = P->first_stream; s != NONE; sprev = s, s = m->streams[s].next) {
				const struct m_stream *S = &m->streams[s];
				assert_true(S->used);
				assert_int_equal(S->participant, p);
				assert_int_equal(S->prev, sprev);
				assert_int_equal(model_find_stream(m, mt, S->ssrc), s);
				if (S->group == NONE) {
					assert_int_equal(S->encoding, 0);
					assert_int_equal(model_group_size(m, s), 1);
				} else if (S->encoding == 0) {
					assert_int_equal(S->group, s);
					unsigned gs = model_group_size(m, s);
					assert_true(gs >= 2 && gs <= MEDIA_MAX_ENCODINGS);
				} else {
					assert_int_not_equal(sprev, NONE);
					assert_int_equal(m->streams[sprev].group, S->group);
					assert_int_equal(m->streams[sprev].encoding, S->encoding - 1);
				}
				/* its subscriptions: exactly the receiving others, at the top */
				uint32_t nu = 0, uprev = NONE;
				for (uint32_t u = S->first_sub; u != NONE; uprev = u, u = m->subs[u].s_next) {
					const struct m_sub *b = &m->subs[u];
					assert_true(b->used);
					assert_int_equal(b->stream, s);
					assert_int_equal(b->s_prev, uprev);
					nu++;
				}
				assert_int_equal(nu, S->n_subs);
				assert_int_equal(S->last_sub, uprev);
				uint32_t head = model_group_head(m, s), want = 0;
				struct m_target t;
				model_default_target(m, s, &t);
				for (uint32_t r = M->first_part; r != NONE; r = m->parts[r].next) {
					uint32_t u = model_find_sub(m, s, r);
					if (r == p || !receives(m->parts[r].role) || (M->top_n && S->kind == MMR_KIND_AUDIO)) {
						assert_int_equal(u, NONE);
						continue;
					}
					want++;
					assert_int_not_equal(u, NONE);
					const struct m_sub *b = &m->subs[u];
					assert_int_equal(b->target, S->layers - 1);
					assert_int_equal(b->target_sid, S->spatial - 1);
					assert_int_equal(b->target_dt, S->spatial * S->layers - 1);
					assert_int_equal(b->target_encoding, model_group_size(m, s) - 1);
					assert_int_equal(t.tid, b->target);
					assert_int_equal(t.encoding, b->target_encoding);
					assert_int_equal(b->out_ssrc, m->streams[head].ssrc);
					assert_int_equal(b->sel_id, head == s ? u : model_find_sub(m, head, r));
				}
				assert_int_equal(nu, want);
				ns++;
			}
			assert_int_equal(ns, P->n_streams);
			assert_int_equal(P->last_stream, sprev);
			streams += ns;
			/* subscriptions it receives */
			uint32_t nr = 0, rprev = NONE, slots = 0;
			for (uint32_t u = P->first_rsub; u != NONE; rprev = u, u = m->subs[u].r_next) {
				const struct m_sub *b = &m->subs[u];
				assert_true(b->used);
				assert_int_equal(b->subscriber, p);
				assert_int_equal(b->r_prev, rprev);
				if (b->topn_slot)
					slots++;
				else
					assert_int_equal(m->parts[m->streams[b->stream].participant].meeting, mt);
				nr++;
			}
			assert_int_equal(slots, receives(P->role) ? M->top_n : 0);
			assert_int_equal(nr, P->n_rsubs);
			assert_int_equal(P->last_rsub, rprev);
			if (!receives(P->role))
				assert_int_equal(nr, 0);
			subs += nr;
			n_p++;
		}
		assert_int_equal(M->last_part, prev);
		assert_int_equal(parts, M->n_parts);
		assert_int_equal(recv, M->n_receivers);
		assert_int_equal(streams, M->n_streams);
		assert_int_equal(subs, M->n_subs);
		/* a name that is not there */
		snprintf(key, sizeof(key), "%s-absent", M->name);
		assert_int_equal(model_find_participant(m, mt, key), NONE);
	}
	/* every participant is in a meeting's list (counted above) */
	uint32_t used_p = 0;
	for (uint32_t p = 0; p < model_part_bound(m); p++)
		used_p += m->parts[p].used;
	assert_int_equal(used_p, n_p);
	assert_int_equal(n_mt, m->n_meetings);
	assert_int_equal(n_p, m->n_parts);
	assert_int_equal(n_s, m->n_streams);
	assert_int_equal(n_u, m->n_subs);
}

static int setup(void **state)
{
	struct model *m = malloc(sizeof(*m));
	if (!m || model_init(m) < 0)
		return -1;
	*state = m;
	return 0;
}

static int teardown(void **state)
{
	model_free(*state);
	free(*state);
	return 0;
}

/* The rule, by roles: a sendrecv and a recvonly participant get everything of the others, a
 * sendonly nothing; a newcomer gets the existing streams, existing receivers get a new stream. */
static void test_subscription_rule(void **state)
{
	struct model *m = *state;
	uint32_t mt = meeting(m, "m1");
	uint32_t a = join(m, mt, "alice", 1, MMR_ROLE_SENDRECV);
	uint32_t s = join(m, mt, "sam", 2, MMR_ROLE_SENDONLY);
	uint32_t ssrc_a[] = { 0xa1 }, ssrc_s[] = { 0x51 }, ssrc_v[] = { 0xa2 };
	uint32_t sa = publish(m, a, ssrc_a, 1, MMR_CODEC_OPUS, 1, 1);
	uint32_t ss = publish(m, s, ssrc_s, 1, MMR_CODEC_VP9, 3, 2);
	uint32_t sv = publish(m, a, ssrc_v, 1, MMR_CODEC_AV1, 3, 3);
	uint32_t v = join(m, mt, "viewer", 3, MMR_ROLE_RECVONLY);
	check_model(m);

	/* alice: sam's stream; sam: nothing; viewer: all three */
	assert_int_equal(m->parts[a].n_rsubs, 1);
	assert_int_not_equal(model_find_sub(m, ss, a), NONE);
	assert_int_equal(model_find_sub(m, sa, a), NONE);
	assert_int_equal(m->parts[s].n_rsubs, 0);
	assert_int_equal(m->parts[v].n_rsubs, 3);
	assert_int_equal(m->meetings[mt].n_receivers, 2);
	assert_int_equal(model_join_sub_count(m, mt, MMR_ROLE_SENDONLY), 0);
	assert_int_equal(model_join_sub_count(m, mt, MMR_ROLE_RECVONLY), 3);
	assert_int_equal(model_publish_sub_count(m, a), 1);    /* the viewer */
	assert_int_equal(model_publish_sub_count(m, s), 2);    /* alice and the viewer */

	/* top targets: VP9 L2T3 -> tid 2 sid 1; AV1 L3T3 -> dt 8; out SSRC = the stream's */
	const struct m_sub *u = &m->subs[model_find_sub(m, ss, v)];
	assert_int_equal(u->target, 2);
	assert_int_equal(u->target_sid, 1);
	assert_int_equal(u->target_dt, 5);
	assert_int_equal(u->target_encoding, 0);
	assert_int_equal(u->out_ssrc, 0x51);
	assert_int_equal(u->sel_id, model_find_sub(m, ss, v));
	u = &m->subs[model_find_sub(m, sv, v)];
	assert_int_equal(u->target_dt, 8);
	assert_int_equal(u->target_sid, 2);
	assert_int_equal(u->out_ssrc, 0xa2);
	/* a new stream of the viewer's (the model itself does not refuse it): alice subscribes */
	uint32_t ssrc_x[] = { 0x77 };
	uint32_t sx = publish(m, v, ssrc_x, 1, MMR_CODEC_VP8, 2, 1);
	assert_int_not_equal(model_find_sub(m, sx, a), NONE);
	assert_int_equal(model_find_sub(m, sx, s), NONE);
	check_model(m);
}

/* Simulcast: members consecutive after the publisher's earlier stream, group = encoding 0's id,
 * a receiver's subscriptions share out SSRC and sel_id; a late joiner gets the same; the group
 * is removed together. */
static void test_simulcast(void **state)
{
	struct model *m = *state;
	uint32_t mt = meeting(m, "sim");
	uint32_t p = join(m, mt, "pub", 1, MMR_ROLE_SENDONLY);
	uint32_t r1 = join(m, mt, "r1", 2, MMR_ROLE_SENDRECV);
	uint32_t audio[] = { 0x1000 }, sim[] = { 0x2000, 0x2001, 0x2002 }, plain[] = { 0x3000 };
	uint32_t sa = publish(m, p, audio, 1, MMR_CODEC_OPUS, 1, 1);
	uint32_t g = publish(m, p, sim, 3, MMR_CODEC_VP8, 3, 1);
	uint32_t sp = publish(m, p, plain, 1, MMR_CODEC_H264, 1, 1);
	uint32_t r2 = join(m, mt, "r2", 3, MMR_ROLE_RECVONLY);
	check_model(m);

	uint32_t e[3];
	e[0] = g;
	for (int i = 1; i < 3; i++)
		e[i] = m->streams[e[i - 1]].next;
	assert_int_equal(m->streams[sa].next, g);
	assert_int_equal(m->streams[e[2]].next, sp);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(m->streams[e[i]].group, g);
		assert_int_equal(m->streams[e[i]].encoding, i);
		assert_int_equal(m->streams[e[i]].ssrc, sim[i]);
		assert_int_equal(model_group_head(m, e[i]), g);
		assert_int_equal(model_group_size(m, e[i]), 3);
	}
	assert_int_equal(m->streams[sa].group, NONE);
	assert_int_equal(model_group_size(m, sp), 1);
	const uint32_t rs[] = { r1, r2 };
	for (int k = 0; k < 2; k++) {
		uint32_t u0 = model_find_sub(m, g, rs[k]);
		for (int i = 0; i < 3; i++) {
			const struct m_sub *b = &m->subs[model_find_sub(m, e[i], rs[k])];
			assert_int_equal(b->out_ssrc, sim[0]);
			assert_int_equal(b->sel_id, u0);
			assert_int_equal(b->target_encoding, 2);
			assert_int_equal(b->target, 2);
		}
	}
	/* removing a member removes the group, highest first; the others stay */
	uint32_t subs_before = m->n_subs;
	model_group_remove(m, e[1]);
	check_model(m);
	assert_int_equal(m->n_subs, subs_before - 6);
	for (int i = 0; i < 3; i++)
		assert_int_equal(model_find_stream(m, mt, sim[i]), NONE);
	assert_int_equal(m->streams[sa].next, sp);
	assert_int_equal(m->streams[sp].prev, sa);
	/* group_remove of a stream outside a group removes just it */
	model_group_remove(m, sa);
	check_model(m);
	assert_int_equal(m->parts[p].first_stream, sp);
	assert_int_equal(m->parts[p].n_streams, 1);
	/* a two-encoding group: top encoding 1 */
	uint32_t two[] = { 0x4000, 0x4001 };
	uint32_t g2 = publish(m, p, two, 2, MMR_CODEC_VP8, 1, 1);
	assert_int_equal(m->subs[model_find_sub(m, g2, r1)].target_encoding, 1);
	assert_int_equal(m->subs[model_find_sub(m, m->streams[g2].next, r2)].sel_id, model_find_sub(m, g2, r2));
	check_model(m);
}

/* Removals cascade and leave nothing findable; another meeting is untouched. */
static void test_removals(void **state)
{
	struct model *m = *state;
	uint32_t m1 = meeting(m, "one"), m2 = meeting(m, "two");
	uint32_t a = join(m, m1, "a", 1, MMR_ROLE_SENDRECV);
	uint32_t b = join(m, m1, "b", 2, MMR_ROLE_SENDRECV);
	uint32_t c = join(m, m1, "c", 3, MMR_ROLE_RECVONLY);
	uint32_t x = join(m, m2, "a", 4, MMR_ROLE_SENDRECV);     /* same name, other meeting */
	uint32_t y = join(m, m2, "y", 5, MMR_ROLE_SENDRECV);
	uint32_t s1[] = { 1 }, s2[] = { 2 }, s3[] = { 3, 4 }, s4[] = { 1 };   /* SSRC 1 in both meetings */
	publish(m, a, s1, 1, MMR_CODEC_OPUS, 1, 1);
	uint32_t sb = publish(m, b, s2, 1, MMR_CODEC_VP8, 3, 1);
	publish(m, a, s3, 2, MMR_CODEC_VP8, 3, 1);
	uint32_t sx = publish(m, x, s4, 1, MMR_CODEC_OPUS, 1, 1);
	check_model(m);
	assert_int_not_equal(model_find_participant(m, m1, "a"), model_find_participant(m, m2, "a"));
	assert_int_equal(model_find_participant(m, m2, "a"), x);
	assert_int_not_equal(model_find_stream(m, m1, 1), model_find_stream(m, m2, 1));
	assert_int_equal(model_find_stream(m, m2, 1), sx);
	assert_int_equal(m->meetings[m1].n_subs, 8);

	/* a single stream: its subscriptions go */
	model_stream_remove(m, sb);
	check_model(m);
	assert_int_equal(model_find_stream(m, m1, 2), NONE);
	assert_int_equal(m->parts[a].n_rsubs, 0);
	assert_int_equal(m->meetings[m1].n_subs, 6);
	/* a participant: its streams, their subscriptions and its own subscriptions */
	struct mmr_addr aa = m->parts[a].addr;
	uint16_t aport = m->parts[a].udp_port;
	model_participant_remove(m, a);
	check_model(m);
	assert_int_equal(model_find_participant(m, m1, "a"), NONE);
	assert_int_equal(model_find_participant_by_addr(m, &aa, aport), NONE);
	assert_int_equal(model_find_stream(m, m1, 1), NONE);
	assert_int_equal(model_find_stream(m, m1, 3), NONE);
	assert_int_equal(m->meetings[m1].n_subs, 0);
	assert_int_equal(m->parts[c].n_rsubs, 0);
	assert_int_equal(m->meetings[m1].n_parts, 2);
	assert_int_equal(m->meetings[m1].n_receivers, 2);
	/* the whole meeting */
	model_meeting_remove(m, m1);
	check_model(m);
	assert_int_equal(model_find_meeting(m, "one"), NONE);
	assert_int_equal(model_find_participant(m, m1, "b"), NONE);
	assert_int_equal(m->n_meetings, 1);
	assert_int_equal(m->n_parts, 2);
	assert_int_equal(m->n_streams, 1);
	assert_int_equal(m->n_subs, 1);                /* y receives x's stream */
	assert_int_not_equal(model_find_sub(m, sx, y), NONE);
	model_meeting_remove(m, m2);
	check_model(m);
	assert_int_equal(m->n_meetings + m->n_parts + m->n_streams + m->n_subs, 0);
}

/* Freed ids come back oldest first, before fresh ones; a removed name can be reused. */
static void test_id_reuse(void **state)
{
	struct model *m = *state;
	uint32_t mt = meeting(m, "ids");
	uint32_t p[6];
	char name[16];
	for (int i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		p[i] = join(m, mt, name, (uint32_t)i + 1, MMR_ROLE_SENDONLY);
		assert_int_equal(p[i], (uint32_t)i);
	}
	model_participant_remove(m, p[3]);
	model_participant_remove(m, p[1]);
	assert_int_equal(join(m, mt, "n1", 100, MMR_ROLE_SENDONLY), 3);
	assert_int_equal(join(m, mt, "n2", 101, MMR_ROLE_SENDONLY), 1);
	assert_int_equal(join(m, mt, "n3", 102, MMR_ROLE_SENDONLY), 6);
	/* the freed name and address are free again */
	assert_int_equal(model_find_participant(m, mt, "p3"), NONE);
	uint32_t again = join(m, mt, "p3", 4, MMR_ROLE_SENDONLY);
	assert_int_equal(again, 7);
	assert_int_equal(model_find_participant(m, mt, "p3"), again);
	check_model(m);
	/* streams and subscriptions too */
	uint32_t r = join(m, mt, "r", 200, MMR_ROLE_RECVONLY);
	uint32_t s1[] = { 11 }, s2[] = { 12 }, s3[] = { 13 };
	uint32_t a = publish(m, p[0], s1, 1, MMR_CODEC_OPUS, 1, 1);
	uint32_t b = publish(m, p[0], s2, 1, MMR_CODEC_OPUS, 1, 1);
	uint32_t ua = model_find_sub(m, a, r);
	model_stream_remove(m, a);
	uint32_t c = publish(m, p[0], s3, 1, MMR_CODEC_OPUS, 1, 1);
	assert_int_equal(c, a);
	assert_int_equal(model_find_sub(m, c, r), ua);
	assert_int_equal(model_find_stream(m, mt, 11), NONE);
	assert_int_equal(model_find_stream(m, mt, 13), c);
	(void)b;
	check_model(m);
	/* meeting ids */
	uint32_t m2 = meeting(m, "other");
	model_meeting_remove(m, mt);
	uint32_t m3 = meeting(m, "third");
	assert_int_equal(m3, mt);
	assert_int_equal(model_find_meeting(m, "ids"), NONE);
	assert_int_equal(model_find_meeting(m, "third"), m3);
	assert_int_equal(model_find_meeting(m, "other"), m2);
	check_model(m);
}

/* Lookups by address are across meetings (IPv4 and IPv6, port part of the key); capacity errors
 * name the kind. */
static void test_lookups_and_reserve(void **state)
{
	struct model *m = *state;
	uint32_t m1 = meeting(m, "a"), m2 = meeting(m, "b");
	struct mmr_addr v6;
	memset(&v6, 0, sizeof(v6));
	v6.family = MMR_AF_INET6;
	v6.ip[0] = 0x20;
	v6.ip[1] = 0x01;
	v6.ip[15] = 9;
	reserve(m, 0, 2, 0, 0);
	uint32_t p1 = model_participant_join(m, m1, "x", &v6, 5000, MMR_ROLE_SENDRECV, NULL, 0);
	uint32_t p2 = model_participant_join(m, m2, "x", &v6, 5001, MMR_ROLE_SENDRECV, NULL, 0);
	assert_int_equal(model_find_participant_by_addr(m, &v6, 5000), p1);
	assert_int_equal(model_find_participant_by_addr(m, &v6, 5001), p2);
	assert_int_equal(model_find_participant_by_addr(m, &v6, 5002), NONE);
	struct mmr_addr v4 = addr4(9);
	assert_int_equal(model_find_participant_by_addr(m, &v4, 5000), NONE);
	assert_int_equal(model_find_meeting(m, "c"), NONE);
	assert_int_equal(model_find_sub(m, 12345, 6789), NONE);
	const char *what;
	assert_int_equal(model_reserve(m, MODEL_MAX_MEETINGS, 0, 0, 0, &what), -ENOSPC);
	assert_string_equal(what, "meetings");
	assert_int_equal(model_reserve(m, 0, MMR_MAX_PARTICIPANTS, 0, 0, &what), -ENOSPC);
	assert_string_equal(what, "participants");
	assert_int_equal(model_reserve(m, 0, 0, MMR_MAX_STREAMS + 1, 0, &what), -ENOSPC);
	assert_string_equal(what, "streams");
	assert_int_equal(model_reserve(m, 0, 0, 0, MMR_MAX_SUBS + 1, &what), -ENOSPC);
	assert_string_equal(what, "subscriptions");
	check_model(m);
}

/* Random joins, publishes (single streams and groups) and removals of every kind in 4 meetings,
 * the whole model checked after each step. */
static void test_random(void **state)
{
	struct model *m = *state;
	static const unsigned codecs[] = { MMR_CODEC_OPUS, MMR_CODEC_VP8, MMR_CODEC_VP9, MMR_CODEC_AV1,
					   MMR_CODEC_H264 };
	uint32_t next_ssrc = 1, next_host = 1, made = 0, max_parts = 0, max_subs = 0, groups = 0, topn_changes = 0;
	char name[32];
	rng_state = 0x6d6f64u;
	for (int step = 0; step < 6000; step++) {
		uint32_t r = rnd() % 100;
		snprintf(name, sizeof(name), "m%u", rnd() % 4);
		uint32_t mt = model_find_meeting(m, name);
		if (mt == NONE) {
			mt = meeting(m, name);
			continue;
		}
		const struct m_meeting *M = &m->meetings[mt];
		/* a random participant of mt */
		uint32_t p = NONE;
		if (M->n_parts) {
			uint32_t k = rnd() % M->n_parts;
			p = M->first_part;
			while (k--)
				p = m->parts[p].next;
		}
		if (r < 30 || p == NONE) {
			unsigned role = 1 + rnd() % 3;
			snprintf(name, sizeof(name), "p%u", made++);
			join(m, mt, name, next_host++, role);
		} else if (r < 60) {
			if (m->parts[p].role == MMR_ROLE_RECVONLY)
				continue;
			unsigned codec = codecs[rnd() % 5];
			unsigned n = codec == MMR_CODEC_OPUS || rnd() % 3 ? 1 : 2 + rnd() % 2;
			unsigned layers = codec == MMR_CODEC_VP8 || codec == MMR_CODEC_VP9 || codec == MMR_CODEC_AV1
						  ? 1 + rnd() % 4 : 1;
			unsigned spatial = codec == MMR_CODEC_VP9 || codec == MMR_CODEC_AV1 ? 1 + rnd() % 3 : 1;
			uint32_t ssrcs[3];
			for (unsigned i = 0; i < n; i++)
				ssrcs[i] = next_ssrc++;
			publish(m, p, ssrcs, n, codec, layers, spatial);
			groups += n > 1;
		} else if (r < 75) {
			uint32_t s = m->parts[p].first_stream;
			if (s == NONE)
				continue;
			for (uint32_t k = rnd() % m->parts[p].n_streams; k; k--)
				s = m->streams[s].next;
			if (rnd() % 2)
				model_group_remove(m, s);
			else if (m->streams[s].group == NONE)
				model_stream_remove(m, s);
			else
				model_group_remove(m, model_group_head(m, s));
		} else if (r < 93) {
			model_participant_remove(m, p);
		} else if (r < 95) {
			/* top-N audio on, changed or off */
			unsigned n = rnd() % 4, add, rem;
			model_topn_change_count(m, mt, n, &add, &rem);
			reserve(m, 0, 0, 0, add);
			uint32_t before = m->n_subs;
			m->ssrc_seed = rnd();
			assert_int_equal(model_meeting_set_top_n(m, mt, n, NULL), add);
			assert_int_equal(m->n_subs, before + add - rem);
			topn_changes++;
		} else if (r < 97) {
			model_meeting_remove(m, mt);
		}
		check_model(m);
		max_parts = m->n_parts > max_parts ? m->n_parts : max_parts;
		max_subs = m->n_subs > max_subs ? m->n_subs : max_subs;
	}
	print_message("at most %u participants and %u subscriptions; %u simulcast groups published, %u top-n changes\n",
		      max_parts, max_subs, groups, topn_changes);
	assert_true(max_parts >= 20 && max_subs >= 200 && groups >= 100 && topn_changes >= 50);
	for (uint32_t mt = 0; mt < model_meeting_bound(m); mt++)
		if (m->meetings[mt].used)
			model_meeting_remove(m, mt);
	check_model(m);
	assert_int_equal(m->n_meetings + m->n_parts + m->n_streams + m->n_subs, 0);
}


/* RTCP (issue 11): defaults (NACK, PLI, FIR, a non-zero mmr_ssrc); a receiver with RTX payload types
 * gets an RTX SSRC per view, made before and after its streams come, shared by a simulcast group's
 * members, none equal to a stream SSRC, another view SSRC or its mmr_ssrc; set again without a map:
 * none; a stream's RTX SSRC, payload type and clock; the lookups of mmr_ssrc and RTX SSRCs. */
static void test_rtcp(void **state)
{
	struct model *m = *state;
	uint32_t mt = meeting(m, "rtcp");
	uint32_t p = join(m, mt, "pub", 1, MMR_ROLE_SENDONLY);
	assert_int_equal(m->parts[p].fb, MMR_FB_DEFAULT);
	assert_int_not_equal(m->parts[p].mmr_ssrc, 0);
	uint32_t audio[] = { 0x1000 }, sim[] = { 0x2000, 0x2001 };
	uint32_t sa = publish(m, p, audio, 1, MMR_CODEC_OPUS, 1, 1);
	assert_int_equal(m->streams[sa].clock_hz, MMR_CLOCK_AUDIO_HZ);
	assert_int_equal(m->streams[sa].rtx_ssrc, 0);
	uint32_t r = join(m, mt, "r", 2, MMR_ROLE_RECVONLY);
	for (uint32_t b = m->parts[r].first_rsub; b != NONE; b = m->subs[b].r_next)
		assert_int_equal(m->subs[b].rtx_ssrc, 0);
	struct mmr_rtx_pt map[MMR_RTX_MAP_MAX] = { { 96, 97 } };
	model_participant_set_rtcp(m, r, MMR_FB_NACK | MMR_FB_RSIZE, 0x2000, map);   /* its mmr_ssrc: the next stream's */
	assert_int_equal(m->parts[r].fb, MMR_FB_NACK | MMR_FB_RSIZE | MMR_FB_RTX);
	assert_int_equal(model_find_mmr_ssrc(m, mt, 0x2000), r);
	/* the group comes after: its subscriptions get one RTX SSRC, made then */
	struct m_stream_desc d;
	memset(&d, 0, sizeof(d));
	d.kind = MMR_KIND_VIDEO;
	d.codec = MMR_CODEC_VP8;
	d.layers = 1;
	d.spatial = 1;
	d.rtx_pt = 107;
	d.rtx_ssrc[0] = 0x2100;
	d.rtx_ssrc[1] = 0x2101;
	d.clock_hz = 90000;
	reserve(m, 0, 0, 2, 2 * model_publish_sub_count(m, p));
	uint32_t g = model_stream_publish(m, p, sim, 2, &d);
	uint32_t g1 = m->streams[g].next;
	assert_int_equal(m->streams[g].rtx_ssrc, 0x2100);
	assert_int_equal(m->streams[g1].rtx_ssrc, 0x2101);
	assert_int_equal(m->streams[g1].rtx_pt, 107);
	assert_int_equal(model_find_rtx_ssrc(m, mt, 0x2101), g1);
	assert_int_equal(model_find_rtx_ssrc(m, mt, 0x2000), NONE);
	check_model(m);
	uint32_t ba = model_find_sub(m, sa, r), b0 = model_find_sub(m, g, r), b1 = model_find_sub(m, g1, r);
	uint32_t ra = m->subs[ba].rtx_ssrc, r0 = m->subs[b0].rtx_ssrc;
	assert_int_not_equal(ra, 0);
	assert_int_not_equal(r0, 0);
	assert_int_not_equal(ra, r0);
	assert_int_equal(m->subs[b1].rtx_ssrc, r0);
	const uint32_t taken[] = { 0x1000, 0x2000, 0x2001, 0x2100, 0x2101 };
	for (unsigned i = 0; i < sizeof(taken) / sizeof(taken[0]); i++) {
		assert_int_not_equal(ra, taken[i]);
		assert_int_not_equal(r0, taken[i]);
	}
	assert_true(model_view_ssrc_taken(m, r, r0, ba));
	assert_false(model_view_ssrc_taken(m, r, r0, b1));      /* its own group's do not count */
	assert_true(model_view_ssrc_taken(m, r, 0x2000, NONE));  /* the mmr_ssrc and an out SSRC */
	/* a deterministic choice from its seed, never one taken */
	assert_int_equal(model_pick_rtx_ssrc(m, r, 7), model_pick_rtx_ssrc(m, r, 7));
	/* no map any more: no RTX SSRCs */
	memset(map, 0, sizeof(map));
	model_participant_set_rtcp(m, r, MMR_FB_DEFAULT | MMR_FB_RTX, 0x3333, map);
	assert_int_equal(m->parts[r].fb, MMR_FB_DEFAULT);
	for (uint32_t b = m->parts[r].first_rsub; b != NONE; b = m->subs[b].r_next)
		assert_int_equal(m->subs[b].rtx_ssrc, 0);
	check_model(m);
}

/* Top-N audio (issue 12): on at once (no per-pair audio, top_n slots per receiver with their own
 * SSRCs), a newcomer gets its slots, new audio gets no subscriptions, slots kept while N grows or
 * shrinks (their SSRCs too), off: per-pair audio again; the counts a change reports are what it does. */
static void test_topn(void **state)
{
	struct model *m = *state;
	uint32_t mt = meeting(m, "topn");
	uint32_t a = join(m, mt, "a", 1, MMR_ROLE_SENDRECV);
	uint32_t b = join(m, mt, "b", 2, MMR_ROLE_SENDRECV);
	uint32_t c = join(m, mt, "c", 3, MMR_ROLE_RECVONLY);
	uint32_t so = join(m, mt, "so", 4, MMR_ROLE_SENDONLY);
	uint32_t sa = 0x100, sb = 0x200, sv = 0x300, ss = 0x400;
	publish(m, a, &sa, 1, MMR_CODEC_OPUS, 1, 1);
	publish(m, b, &sb, 1, MMR_CODEC_OPUS, 1, 1);
	publish(m, b, &sv, 1, MMR_CODEC_VP8, 3, 1);
	publish(m, so, &ss, 1, MMR_CODEC_OPUS, 1, 1);
	check_model(m);
	assert_int_equal(m->meetings[mt].n_subs, 3 + 2 + 4);   /* a: sb, sv, ss; b: sa, ss; c: all 4 */
	/* on: 3 slots each for a, b, c; the 8 per-pair audio subscriptions go */
	unsigned add, rem;
	model_topn_change_count(m, mt, 3, &add, &rem);
	assert_int_equal(add, 9);
	assert_int_equal(rem, 7);
	uint32_t removed[16], added[16];
	model_topn_removals(m, mt, 3, removed);
	reserve(m, 0, 0, 0, add);
	m->ssrc_seed = 12345;
	assert_int_equal(model_meeting_set_top_n(m, mt, 3, added), 9);
	for (unsigned i = 0; i < rem; i++)
		assert_false(m->subs[removed[i]].used && m->subs[removed[i]].topn_slot == 0 &&
			     m->subs[removed[i]].stream != NONE && m->streams[m->subs[removed[i]].stream].kind == MMR_KIND_AUDIO);
	for (unsigned i = 0; i < 9; i++)
		assert_true(m->subs[added[i]].used && m->subs[added[i]].topn_slot >= 1);
	check_model(m);
	assert_int_equal(m->meetings[mt].n_subs, 9 + 2);   /* the slots, and a's and c's video */
	assert_int_equal(model_find_slot(m, so, 0), NONE);
	uint32_t c1 = model_find_slot(m, c, 1), c1_ssrc = m->subs[c1].out_ssrc;
	/* a newcomer gets its slots; new audio no subscription; new video as before */
	uint32_t d = join(m, mt, "d", 5, MMR_ROLE_RECVONLY);
	uint32_t sa2 = 0x500, sv2 = 0x600;
	publish(m, a, &sa2, 1, MMR_CODEC_OPUS, 1, 1);
	publish(m, a, &sv2, 1, MMR_CODEC_VP8, 2, 1);
	check_model(m);
	assert_int_not_equal(model_find_slot(m, d, 2), NONE);
	assert_int_equal(m->streams[model_find_stream(m, mt, 0x500)].n_subs, 0);
	assert_int_equal(m->streams[model_find_stream(m, mt, 0x600)].n_subs, 3);
	/* down to 2: slot 2 goes, slot 1 keeps its SSRC; up to 4: one more each */
	model_topn_change_count(m, mt, 2, &add, &rem);
	assert_int_equal(add, 0);
	assert_int_equal(rem, 4);
	model_meeting_set_top_n(m, mt, 2, NULL);
	check_model(m);
	assert_int_equal(model_find_slot(m, c, 2), NONE);
	assert_int_equal(model_find_slot(m, c, 1), c1);
	assert_int_equal(m->subs[c1].out_ssrc, c1_ssrc);
	reserve(m, 0, 0, 0, 8);
	assert_int_equal(model_meeting_set_top_n(m, mt, 4, NULL), 8);
	check_model(m);
	/* off: per-pair audio for every receiver again, no slot */
	model_topn_change_count(m, mt, 0, &add, &rem);
	assert_int_equal(rem, 16);
	reserve(m, 0, 0, 0, add);
	assert_int_equal(model_meeting_set_top_n(m, mt, 0, NULL), add);
	check_model(m);
	for (uint32_t r = m->meetings[mt].first_part; r != NONE; r = m->parts[r].next)
		assert_int_equal(model_find_slot(m, r, 0), NONE);
	assert_int_equal(m->streams[model_find_stream(m, mt, 0x500)].n_subs, 3);   /* b, c, d */
	/* a participant's removal takes its slots */
	model_meeting_set_top_n(m, mt, 1, NULL);
	uint32_t before = m->n_subs;
	model_participant_remove(m, d);
	check_model(m);
	assert_int_equal(m->n_subs, before - 1 - 2);   /* its slot and its two videos (sv, sv2) */
}

/* Meeting controls (issue 15): the block byte from waiting, mutes and the share policy (host_only,
 * max_sharers: the first allowed sharers in join order, waiting ones not counted), the changes
 * reported once each, bans per meeting gone with it. */
static void test_controls(void **state)
{
	struct model *m = *state;
	uint32_t mt = meeting(m, "ctl");
	uint32_t a = join(m, mt, "a", 1, MMR_ROLE_SENDRECV);
	uint32_t b = join(m, mt, "b", 2, MMR_ROLE_SENDRECV);
	uint32_t c = join(m, mt, "c", 3, MMR_ROLE_SENDRECV);
	uint32_t ids[8];
	assert_int_equal(model_participant_block(m, a), 0);
	assert_int_equal(model_block_changes(m, mt, ids), 0);
	m->parts[c].waiting = true;
	m->parts[a].mute = MMR_BLOCK_AUDIO | MMR_BLOCK_SCREEN;
	assert_int_equal(model_participant_block(m, c), MMR_BLOCK_WAITING);
	assert_int_equal(model_participant_block(m, a), MMR_BLOCK_AUDIO | MMR_BLOCK_SCREEN);
	assert_int_equal(model_block_changes(m, mt, ids), 2);
	assert_int_equal(ids[0], a);
	assert_int_equal(ids[1], c);
	assert_int_equal(model_block_changes(m, mt, ids), 0);   /* reported once */
	m->parts[a].mute = 0;
	/* screen shares: a, b and c (waiting) publish one */
	uint32_t s1 = 0x11, s2 = 0x22, s3 = 0x33;
	struct m_stream_desc d;
	memset(&d, 0, sizeof(d));
	d.kind = MMR_KIND_VIDEO;
	d.codec = MMR_CODEC_VP8;
	d.layers = 1;
	d.spatial = 1;
	d.screen = 1;
	reserve(m, 0, 0, 1, model_publish_sub_count(m, c));
	model_stream_publish(m, c, &s3, 1, &d);
	reserve(m, 0, 0, 1, model_publish_sub_count(m, b));
	model_stream_publish(m, b, &s2, 1, &d);
	reserve(m, 0, 0, 1, model_publish_sub_count(m, a));
	model_stream_publish(m, a, &s1, 1, &d);
	assert_false(model_participant_block(m, a) & MMR_BLOCK_SHARE);
	m->meetings[mt].max_sharers = 1;
	assert_false(model_participant_block(m, a) & MMR_BLOCK_SHARE);   /* first in join order */
	assert_true(model_participant_block(m, b) & MMR_BLOCK_SHARE);
	m->meetings[mt].max_sharers = 2;
	assert_false(model_participant_block(m, b) & MMR_BLOCK_SHARE);
	assert_true(model_participant_block(m, c) & MMR_BLOCK_SHARE);    /* the third */
	m->meetings[mt].max_sharers = 1;
	m->parts[a].waiting = true;      /* a waiting sharer is not counted ahead of b */
	assert_false(model_participant_block(m, b) & MMR_BLOCK_SHARE);
	m->parts[a].waiting = false;
	m->meetings[mt].max_sharers = 2;
	m->meetings[mt].share_host_only = true;
	assert_true(model_participant_block(m, a) & MMR_BLOCK_SHARE);
	m->parts[b].host = true;
	assert_false(model_participant_block(m, b) & MMR_BLOCK_SHARE);
	assert_true(model_participant_block(m, a) & MMR_BLOCK_SHARE);
	model_participant_remove(m, a);   /* a sharer gone: the rest move up */
	m->meetings[mt].share_host_only = false;
	m->meetings[mt].max_sharers = 1;
	assert_false(model_participant_block(m, b) & MMR_BLOCK_SHARE);
	check_model(m);
	/* bans */
	uint32_t mt2 = meeting(m, "ctl2");
	assert_false(model_banned(m, mt, "a"));
	assert_int_equal(model_ban_add(m, mt, "a"), 0);
	assert_int_equal(model_ban_add(m, mt, "a"), 0);   /* idempotent */
	assert_int_equal(model_ban_add(m, mt2, "x"), 0);
	assert_int_equal(m->n_bans, 2);
	assert_true(model_banned(m, mt, "a"));
	assert_false(model_banned(m, mt2, "a"));
	assert_false(model_banned(m, mt, "b"));
	model_meeting_remove(m, mt);
	assert_int_equal(m->n_bans, 1);
	assert_true(model_banned(m, mt2, "x"));
	for (uint32_t i = m->n_bans; i < MODEL_MAX_BANS; i++) {
		char n[16];
		snprintf(n, sizeof(n), "n%u", i);
		assert_int_equal(model_ban_add(m, mt2, n), 0);
	}
	assert_int_equal(model_ban_add(m, mt2, "full"), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_subscription_rule, setup, teardown),
		cmocka_unit_test_setup_teardown(test_simulcast, setup, teardown),
		cmocka_unit_test_setup_teardown(test_removals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_id_reuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookups_and_reserve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rtcp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_topn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_controls, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
