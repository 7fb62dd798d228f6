/*
 * model.c - meetings, participants, streams and subscriptions, their lists and indexes
 * (see model.h for the rules).
 */
#include "model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- index keys and hashes ------------------------------------------------------------------ */

struct name_key { uint32_t meeting; const char *name; };
struct addr_key { const struct mmr_addr *addr; uint16_t port; };
struct pair_key { uint32_t a, b; };

static uint32_t hash_meeting_name(const char *name)
{
	return id_hash_bytes(name, (uint32_t)strlen(name), 0x6d656574u);
}

static uint32_t hash_part_name(uint32_t meeting, const char *name)
{
	return id_hash_bytes(name, (uint32_t)strlen(name), meeting * 2654435761u);
}

static uint32_t hash_addr(const struct mmr_addr *a, uint16_t port)
{
	uint8_t k[19];
	k[0] = a->family;
	memcpy(k + 1, a->ip, 16);
	k[17] = (uint8_t)(port >> 8);
	k[18] = (uint8_t)port;
	return id_hash_bytes(k, sizeof(k), 0x61646472u);
}

static uint32_t hash_pair(uint32_t a, uint32_t b)
{
	return id_hash_u64((uint64_t)a << 32 | b);
}

static bool eq_meeting_name(const void *ctx, uint32_t id, const void *key)
{
	const struct model *m = ctx;
	return strcmp(m->meetings[id].name, key) == 0;
}

static bool eq_part_name(const void *ctx, uint32_t id, const void *key)
{
	const struct model *m = ctx;
	const struct name_key *k = key;
	return m->parts[id].meeting == k->meeting && strcmp(m->parts[id].name, k->name) == 0;
}

static bool eq_part_addr(const void *ctx, uint32_t id, const void *key)
{
	const struct model *m = ctx;
	const struct addr_key *k = key;
	return m->parts[id].udp_port == k->port && mmr_addr_eq(&m->parts[id].addr, k->addr);
}

static bool eq_stream_ssrc(const void *ctx, uint32_t id, const void *key)
{
	const struct model *m = ctx;
	const struct pair_key *k = key;
	return model_stream_meeting(m, id) == k->a && m->streams[id].ssrc == k->b;
}

static bool eq_sub_pair(const void *ctx, uint32_t id, const void *key)
{
	const struct model *m = ctx;
	const struct pair_key *k = key;
	return m->subs[id].stream == k->a && m->subs[id].subscriber == k->b;
}

/* ---- setup ---------------------------------------------------------------------------------- */

int model_init(struct model *m)
{
	memset(m, 0, sizeof(*m));
	/* calloc of this size maps fresh zero pages: only the slots used are ever touched */
	m->meetings = calloc(MODEL_MAX_MEETINGS, sizeof(*m->meetings));
	m->parts = calloc(MMR_MAX_PARTICIPANTS, sizeof(*m->parts));
	m->streams = calloc(MMR_MAX_STREAMS, sizeof(*m->streams));
	m->subs = calloc(MMR_MAX_SUBS, sizeof(*m->subs));
	m->bans = calloc(MODEL_MAX_BANS, sizeof(*m->bans));
	if (!m->meetings || !m->parts || !m->streams || !m->subs || !m->bans)
		goto err;
	if (id_pool_init(&m->meeting_ids, MODEL_MAX_MEETINGS) < 0 ||
	    id_pool_init(&m->part_ids, MMR_MAX_PARTICIPANTS) < 0 ||
	    id_pool_init(&m->stream_ids, MMR_MAX_STREAMS) < 0 ||
	    id_pool_init(&m->sub_ids, MMR_MAX_SUBS) < 0)
		goto err;
	if (id_index_init(&m->meeting_by_name, eq_meeting_name, m) < 0 ||
	    id_index_init(&m->part_by_name, eq_part_name, m) < 0 ||
	    id_index_init(&m->part_by_addr, eq_part_addr, m) < 0 ||
	    id_index_init(&m->stream_by_ssrc, eq_stream_ssrc, m) < 0 ||
	    id_index_init(&m->sub_by_pair, eq_sub_pair, m) < 0)
		goto err;
	return 0;
err:
	model_free(m);
	return -ENOMEM;
}

void model_free(struct model *m)
{
	if (m->parts)   /* key material does not outlive the model */
		for (uint32_t id = 0; id < model_part_bound(m); id++)
			if (m->parts[id].used) {
				explicit_bzero(&m->parts[id].send_key, sizeof(m->parts[id].send_key));
				explicit_bzero(&m->parts[id].recv_key, sizeof(m->parts[id].recv_key));
				explicit_bzero(m->parts[id].ice_pwd, sizeof(m->parts[id].ice_pwd));
			}
	id_index_free(&m->meeting_by_name);
	id_index_free(&m->part_by_name);
	id_index_free(&m->part_by_addr);
	id_index_free(&m->stream_by_ssrc);
	id_index_free(&m->sub_by_pair);
	id_pool_free(&m->meeting_ids);
	id_pool_free(&m->part_ids);
	id_pool_free(&m->stream_ids);
	id_pool_free(&m->sub_ids);
	free(m->meetings);
	free(m->parts);
	free(m->streams);
	free(m->subs);
	free(m->bans);
	memset(m, 0, sizeof(*m));
}

/* ---- lookups -------------------------------------------------------------------------------- */

uint32_t model_find_meeting(const struct model *m, const char *name)
{
	return id_index_find(&m->meeting_by_name, hash_meeting_name(name), name);
}

uint32_t model_find_participant(const struct model *m, uint32_t meeting, const char *name)
{
	struct name_key k = { meeting, name };
	return id_index_find(&m->part_by_name, hash_part_name(meeting, name), &k);
}

uint32_t model_find_participant_by_addr(const struct model *m, const struct mmr_addr *addr, uint16_t port)
{
	struct addr_key k = { addr, port };
	return id_index_find(&m->part_by_addr, hash_addr(addr, port), &k);
}

uint32_t model_find_stream(const struct model *m, uint32_t meeting, uint32_t ssrc)
{
	struct pair_key k = { meeting, ssrc };
	return id_index_find(&m->stream_by_ssrc, hash_pair(meeting, ssrc), &k);
}

uint32_t model_find_sub(const struct model *m, uint32_t stream, uint32_t subscriber)
{
	struct pair_key k = { stream, subscriber };
	return id_index_find(&m->sub_by_pair, hash_pair(stream, subscriber), &k);
}

/* ---- capacity ------------------------------------------------------------------------------- */

int model_reserve(struct model *m, uint32_t meetings, uint32_t parts, uint32_t streams, uint32_t subs,
		  const char **what)
{
	*what = NULL;
	if (id_pool_available(&m->meeting_ids) < meetings)
		*what = "meetings";
	else if (id_pool_available(&m->part_ids) < parts)
		*what = "participants";
	else if (id_pool_available(&m->stream_ids) < streams)
		*what = "streams";
	else if (id_pool_available(&m->sub_ids) < subs)
		*what = "subscriptions";
	if (*what)
		return -ENOSPC;
	if (id_index_reserve(&m->meeting_by_name, meetings) < 0 ||
	    id_index_reserve(&m->part_by_name, parts) < 0 ||
	    id_index_reserve(&m->part_by_addr, parts) < 0 ||
	    id_index_reserve(&m->stream_by_ssrc, streams) < 0 ||
	    id_index_reserve(&m->sub_by_pair, subs) < 0)
		return -ENOMEM;
	return 0;
}

uint32_t model_join_sub_count(const struct model *m, uint32_t meeting, unsigned role)
{
	/* only senders have streams, and a newcomer has none yet (at most: audio of a top-N meeting
	 * gets none) */
	return val_role_receives(role) ? m->meetings[meeting].n_streams + m->meetings[meeting].top_n : 0;
}

uint32_t model_stream_sub_count(const struct model *m, uint32_t s)
{
	const struct m_stream *ss = &m->streams[s];
	uint32_t meeting = model_stream_meeting(m, s);
	if (!model_stream_subscribed(m, meeting, ss->kind))
		return 0;
	uint32_t n = model_publish_sub_count(m, ss->participant);
	if (ss->kind == MMR_KIND_VIDEO)   /* receivers with video slots get it on a slot, if at all */
		for (uint32_t r = m->meetings[meeting].first_part; r != MMR_ID_NONE; r = m->parts[r].next)
			if (r != ss->participant && m->parts[r].n_vslots && val_role_receives(m->parts[r].role))
				n--;
	return n;
}

uint32_t model_publish_sub_count(const struct model *m, uint32_t participant)
{
	const struct m_participant *p = &m->parts[participant];
	return m->meetings[p->meeting].n_receivers - (val_role_receives(p->role) ? 1 : 0);
}

/* ---- adding --------------------------------------------------------------------------------- */

static uint32_t take_id(struct id_pool *pool, uint32_t id)
{
	if (id == MMR_ID_NONE)
		return id_pool_alloc(pool);
	id_pool_claim(pool, id);
	return id;
}

uint32_t model_meeting_add(struct model *m, uint32_t id, const char *name, unsigned srtp_suite)
{
	id = take_id(&m->meeting_ids, id);
	struct m_meeting *mt = &m->meetings[id];
	memset(mt, 0, sizeof(*mt));
	mt->used = true;
	mt->srtp_suite = (uint8_t)srtp_suite;
	strcpy(mt->name, name);
	mt->first_part = mt->last_part = MMR_ID_NONE;
	id_index_insert(&m->meeting_by_name, hash_meeting_name(name), id);
	m->n_meetings++;
	return id;
}

uint32_t model_participant_add(struct model *m, uint32_t id, uint32_t meeting, const char *name,
			       const struct mmr_addr *addr, uint16_t port, unsigned role,
			       const uint8_t *mac, uint16_t dp_port)
{
	id = take_id(&m->part_ids, id);
	struct m_participant *p = &m->parts[id];
	struct m_meeting *mt = &m->meetings[meeting];
	memset(p, 0, sizeof(*p));
	p->used = true;
	p->role = (uint8_t)role;
	if (mac) {
		p->has_mac = 1;
		memcpy(p->mac, mac, 6);
	}
	p->udp_port = port;
	p->dp_port = dp_port;
	p->meeting = meeting;
	p->addr = *addr;
	strcpy(p->name, name);
	p->first_stream = p->last_stream = MMR_ID_NONE;
	p->first_rsub = p->last_rsub = MMR_ID_NONE;
	p->fb = MMR_FB_DEFAULT;
	uint32_t x = id ^ (meeting << 17) ^ 0x4d4d5200u;   /* a stand-in until one is set: never 0 */
	p->mmr_ssrc = model_ssrc_from(&x);
	p->next = MMR_ID_NONE;
	p->prev = mt->last_part;
	if (mt->last_part != MMR_ID_NONE)
		m->parts[mt->last_part].next = id;
	else
		mt->first_part = id;
	mt->last_part = id;
	mt->n_parts++;
	if (val_role_receives(role))
		mt->n_receivers++;
	id_index_insert(&m->part_by_name, hash_part_name(meeting, name), id);
	if (port)      /* an ICE participant without an address yet is in no address index */
		id_index_insert(&m->part_by_addr, hash_addr(addr, port), id);
	m->n_parts++;
	return id;
}

uint32_t model_stream_add(struct model *m, uint32_t id, uint32_t participant, uint32_t ssrc,
			  const struct m_stream_desc *d)
{
	id = take_id(&m->stream_ids, id);
	struct m_stream *s = &m->streams[id];
	struct m_participant *p = &m->parts[participant];
	memset(s, 0, sizeof(*s));
	s->used = true;
	s->kind = d->kind;
	s->codec = d->codec;
	s->layers = d->layers;
	s->spatial = d->spatial;
	s->dd_ext_id = d->dd_ext_id;
	s->encoding = d->group == MMR_ID_NONE ? 0 : d->encoding;
	s->group = d->group == MMR_ID_NONE ? MMR_ID_NONE : s->encoding == 0 ? id : d->group;
	s->participant = participant;
	s->ssrc = ssrc;
	s->rtx_ssrc = d->rtx_ssrc[s->encoding < MEDIA_MAX_ENCODINGS ? s->encoding : 0];
	s->rtx_pt = s->rtx_ssrc ? d->rtx_pt : 0;
	s->clock_hz = d->clock_hz ? d->clock_hz : d->kind == MMR_KIND_VIDEO ? MMR_CLOCK_VIDEO_HZ : MMR_CLOCK_AUDIO_HZ;
	s->screen = d->screen ? 1 : 0;
	s->first_sub = s->last_sub = MMR_ID_NONE;
	s->next = MMR_ID_NONE;
	s->prev = p->last_stream;
	if (p->last_stream != MMR_ID_NONE)
		m->streams[p->last_stream].next = id;
	else
		p->first_stream = id;
	p->last_stream = id;
	p->n_streams++;
	m->meetings[p->meeting].n_streams++;
	id_index_insert(&m->stream_by_ssrc, hash_pair(p->meeting, ssrc), id);
	m->n_streams++;
	return id;
}

uint32_t model_sub_add(struct model *m, uint32_t id, uint32_t stream, uint32_t subscriber,
		       const struct m_target *t, uint32_t out_ssrc, uint32_t sel_id)
{
	id = take_id(&m->sub_ids, id);
	struct m_sub *b = &m->subs[id];
	struct m_stream *s = &m->streams[stream];
	struct m_participant *r = &m->parts[subscriber];
	memset(b, 0, sizeof(*b));
	b->used = true;
	b->target = t->tid;
	b->target_sid = t->sid;
	b->target_dt = t->dt;
	b->target_encoding = t->encoding;
	b->stream = stream;
	b->subscriber = subscriber;
	b->out_ssrc = out_ssrc;
	b->sel_id = sel_id == MMR_ID_NONE ? id : sel_id;

	b->s_next = MMR_ID_NONE;
	b->s_prev = s->last_sub;
	if (s->last_sub != MMR_ID_NONE)
		m->subs[s->last_sub].s_next = id;
	else
		s->first_sub = id;
	s->last_sub = id;
	s->n_subs++;

	b->r_next = MMR_ID_NONE;
	b->r_prev = r->last_rsub;
	if (r->last_rsub != MMR_ID_NONE)
		m->subs[r->last_rsub].r_next = id;
	else
		r->first_rsub = id;
	r->last_rsub = id;
	r->n_rsubs++;

	m->meetings[r->meeting].n_subs++;
	id_index_insert(&m->sub_by_pair, hash_pair(stream, subscriber), id);
	m->n_subs++;
	return id;
}

unsigned model_group_size(const struct model *m, uint32_t s)
{
	uint32_t head = model_group_head(m, s);
	if (m->streams[head].group == MMR_ID_NONE)
		return 1;
	/* the members follow their encoding 0 in the publisher's list */
	unsigned n = 0;
	for (uint32_t x = head; x != MMR_ID_NONE && m->streams[x].group == head; x = m->streams[x].next)
		n++;
	return n;
}

void model_default_target(const struct model *m, uint32_t s, struct m_target *t)
{
	const struct m_stream *ss = &m->streams[s];
	t->tid = (uint8_t)(ss->layers - 1u);
	t->sid = (uint8_t)(ss->spatial - 1u);
	t->dt = (uint8_t)(ss->spatial * ss->layers - 1u);
	t->encoding = (uint8_t)(model_group_size(m, s) - 1u);
}

bool model_is_trunk(const char *name)
{
	return strncmp(name, MODEL_TRUNK_PREFIX, sizeof(MODEL_TRUNK_PREFIX) - 1) == 0;
}

/* The default subscription of `subscriber` to `stream`. In a group, the encoding-0 one must exist
 * already (its members are subscribed in encoding order): the others share its out SSRC and sel_id. */
static uint32_t default_sub(struct model *m, uint32_t stream, uint32_t subscriber)
{
	if (!model_stream_subscribed(m, model_stream_meeting(m, stream), m->streams[stream].kind))
		return MMR_ID_NONE;   /* audio of a top-N meeting: the receivers' slots carry it */
	if (m->streams[stream].kind == MMR_KIND_VIDEO && m->parts[subscriber].n_vslots)
		return MMR_ID_NONE;   /* video to a receiver with video slots: `slot set` puts it on one */
	if (model_is_trunk(m->parts[subscriber].name) && model_is_trunk(m->parts[m->streams[stream].participant].name))
		return MMR_ID_NONE;   /* cascading: a stream crosses once, from its own host (zone_cascade.h) */
	struct m_target t;
	uint32_t head = model_group_head(m, stream), sel = MMR_ID_NONE;
	model_default_target(m, stream, &t);
	if (head != stream)
		sel = model_find_sub(m, head, subscriber);
	uint32_t rtx = 0;
	if (m->parts[subscriber].fb & MMR_FB_RTX)
		rtx = sel != MMR_ID_NONE ? m->subs[sel].rtx_ssrc :
		      model_pick_rtx_ssrc(m, subscriber, m->streams[head].ssrc);
	uint32_t id = model_sub_add(m, MMR_ID_NONE, stream, subscriber, &t, m->streams[head].ssrc, sel);
	m->subs[id].rtx_ssrc = rtx;
	return id;
}

/* ---- RTCP ----------------------------------------------------------------------------------- */

bool model_view_ssrc_taken(const struct model *m, uint32_t r, uint32_t ssrc, uint32_t except)
{
	const struct m_participant *rp = &m->parts[r];
	if (ssrc == rp->mmr_ssrc)
		return true;
	uint32_t except_sel = except == MMR_ID_NONE ? MMR_ID_NONE : m->subs[except].sel_id;
	for (uint32_t b = rp->first_rsub; b != MMR_ID_NONE; b = m->subs[b].r_next) {
		const struct m_sub *x = &m->subs[b];
		if (b == except || (except_sel != MMR_ID_NONE && x->sel_id == except_sel))
			continue;
		if (x->out_ssrc == ssrc || x->rtx_ssrc == ssrc)
			return true;
	}
	return false;
}

uint32_t model_ssrc_from(uint32_t *x)
{
	for (;;) {
		/* a 32-bit mix (splitmix-like): consecutive seeds land far apart */
		*x += 0x6d2b79f5u;
		uint32_t z = *x;
		z = (z ^ (z >> 15)) * 0x2c1b3c6du;
		z = (z ^ (z >> 12)) * 0x297a2d39u;
		z ^= z >> 15;
		if (z != 0)
			return z;
	}
}

uint32_t model_pick_rtx_ssrc(const struct model *m, uint32_t r, uint32_t seed)
{
	uint32_t meeting = m->parts[r].meeting;
	uint32_t x = seed ^ (r * 0x9e3779b9u) ^ 0x52545800u;   /* "RTX" */
	for (;;) {
		uint32_t z = model_ssrc_from(&x);
		if (model_find_stream(m, meeting, z) == MMR_ID_NONE && !model_view_ssrc_taken(m, r, z, MMR_ID_NONE))
			return z;
	}
}

uint32_t model_find_mmr_ssrc(const struct model *m, uint32_t meeting, uint32_t ssrc)
{
	for (uint32_t p = m->meetings[meeting].first_part; p != MMR_ID_NONE; p = m->parts[p].next)
		if (m->parts[p].mmr_ssrc == ssrc)
			return p;
	return MMR_ID_NONE;
}

void model_stream_set_ssrc(struct model *m, uint32_t s, uint32_t ssrc)
{
	struct m_stream *st = &m->streams[s];
	uint32_t meeting = m->parts[st->participant].meeting;
	id_index_remove(&m->stream_by_ssrc, hash_pair(meeting, st->ssrc), s);
	st->ssrc = ssrc;
	st->learn &= (uint8_t)~MMR_LEARN_MEDIA;
	id_index_insert(&m->stream_by_ssrc, hash_pair(meeting, ssrc), s);
}

void model_stream_set_rtx(struct model *m, uint32_t s, uint32_t rtx_ssrc)
{
	m->streams[s].rtx_ssrc = rtx_ssrc;
	m->streams[s].learn &= (uint8_t)~MMR_LEARN_RTX;
}

unsigned model_learn_table(const struct model *m, uint32_t p, struct mmr_learn *out, unsigned max)
{
	unsigned n = 0;
	for (uint32_t s = m->parts[p].first_stream; s != MMR_ID_NONE && n < max; s = m->streams[s].next) {
		const struct m_stream *st = &m->streams[s];
		if (!st->learn || !st->mid[0])
			continue;
		struct mmr_learn *e = &out[n++];
		memset(e, 0, sizeof(*e));
		e->stream_id = s;
		e->need = st->learn;
		e->mid_len = (uint8_t)strnlen(st->mid, MMR_MID_MAX);
		e->rid_len = (uint8_t)strnlen(st->rid, MMR_MID_MAX);
		memcpy(e->mid, st->mid, e->mid_len);
		memcpy(e->rid, st->rid, e->rid_len);
	}
	return n;
}

uint8_t model_learned_encoding(const struct model *m, uint32_t s, uint8_t encoding)
{
	uint32_t head = model_group_head(m, s);
	if (m->streams[head].group == MMR_ID_NONE)
		return encoding;
	int best = -1;
	bool all = true;
	for (uint32_t x = head; x != MMR_ID_NONE && model_group_head(m, x) == head; x = m->streams[x].next) {
		if (m->streams[x].learn & MMR_LEARN_MEDIA)
			all = false;
		else if (m->streams[x].encoding <= encoding && (int)m->streams[x].encoding > best)
			best = m->streams[x].encoding;
	}
	return all || best < 0 ? encoding : (uint8_t)best;
}

void model_participant_ext_ids(const struct m_participant *pp, uint8_t ids[VAL_EXT_N])
{
	ids[0] = pp->twcc_ext_id;
	ids[1] = pp->abs_ext_id;
	ids[2] = pp->level_ext_id;
	ids[3] = pp->mid_ext_id;
	ids[4] = pp->rid_ext_id;
	ids[5] = pp->rrid_ext_id;
}

void model_participant_set_ext_ids(struct m_participant *pp, const uint8_t ids[VAL_EXT_N])
{
	pp->twcc_ext_id = ids[0];
	pp->abs_ext_id = ids[1];
	pp->level_ext_id = ids[2];
	pp->mid_ext_id = ids[3];
	pp->rid_ext_id = ids[4];
	pp->rrid_ext_id = ids[5];
}

uint32_t model_find_rtx_ssrc(const struct model *m, uint32_t meeting, uint32_t ssrc)
{
	if (ssrc == 0)
		return MMR_ID_NONE;
	for (uint32_t p = m->meetings[meeting].first_part; p != MMR_ID_NONE; p = m->parts[p].next)
		for (uint32_t s = m->parts[p].first_stream; s != MMR_ID_NONE; s = m->streams[s].next)
			if (m->streams[s].rtx_ssrc == ssrc)
				return s;
	return MMR_ID_NONE;
}

void model_participant_set_rtcp(struct model *m, uint32_t id, uint8_t fb, uint32_t mmr_ssrc,
				const struct mmr_rtx_pt map[MMR_RTX_MAP_MAX])
{
	struct m_participant *p = &m->parts[id];
	bool any = false;
	for (unsigned i = 0; i < MMR_RTX_MAP_MAX; i++)
		any |= map[i].apt != 0 || map[i].pt != 0;
	p->fb = (uint8_t)((fb & ~MMR_FB_RTX) | (any ? MMR_FB_RTX : 0));
	p->mmr_ssrc = mmr_ssrc;
	memcpy(p->rtx_map, map, sizeof(p->rtx_map));
	/* encoding-0 subscriptions come before their group's others in the receiver's list */
	for (uint32_t b = p->first_rsub; b != MMR_ID_NONE; b = m->subs[b].r_next) {
		struct m_sub *x = &m->subs[b];
		if (!any || x->topn_slot)
			x->rtx_ssrc = 0;   /* a top-N slot carries audio: no RTX */
		else if (x->video_slot && x->stream == MMR_ID_NONE)
			;                  /* a video slot's RTX SSRC is the receiver's own (or none) */
		else if (x->sel_id != b)
			x->rtx_ssrc = m->subs[x->sel_id].rtx_ssrc;
		else if (x->rtx_ssrc == 0)
			x->rtx_ssrc = model_pick_rtx_ssrc(m, id, x->out_ssrc);
	}
}

uint32_t model_participant_join(struct model *m, uint32_t meeting, const char *name,
				const struct mmr_addr *addr, uint16_t port, unsigned role,
				const uint8_t *mac, uint16_t dp_port)
{
	uint32_t id = model_participant_add(m, MMR_ID_NONE, meeting, name, addr, port, role, mac, dp_port);
	if (!val_role_receives(role))
		return id;
	for (uint32_t o = m->meetings[meeting].first_part; o != MMR_ID_NONE; o = m->parts[o].next) {
		if (o == id)
			continue;
		for (uint32_t s = m->parts[o].first_stream; s != MMR_ID_NONE; s = m->streams[s].next)
			default_sub(m, s, id);
	}
	for (unsigned k = 0; k < m->meetings[meeting].top_n; k++)
		model_slot_add(m, MMR_ID_NONE, id, k, model_pick_rtx_ssrc(m, id, m->ssrc_seed + k * 0x9e3779b9u));
	return id;
}

/* ---- receive slots (issue 13) --------------------------------------------------------------- */

uint32_t model_topn_slot_ssrc(const struct model *m, uint32_t r, unsigned k)
{
	if (k < m->parts[r].n_aslots)
		return m->parts[r].aslot_ssrc[k];
	return model_pick_rtx_ssrc(m, r, m->ssrc_seed + k * 0x9e3779b9u);
}

void model_participant_set_slots(struct model *m, uint32_t id, unsigned n_v, const uint32_t *v_ssrc,
				 const uint32_t *v_rtx, unsigned n_a, const uint32_t *a_ssrc)
{
	struct m_participant *p = &m->parts[id];
	uint32_t next;
	p->n_aslots = (uint8_t)n_a;
	for (unsigned k = 0; k < n_a; k++)
		p->aslot_ssrc[k] = a_ssrc[k];
	for (uint32_t b = p->first_rsub; b != MMR_ID_NONE; b = next) {
		struct m_sub *x = &m->subs[b];
		next = x->r_next;
		if (n_v && x->stream != MMR_ID_NONE && m->streams[x->stream].kind == MMR_KIND_VIDEO)
			model_sub_remove(m, b);
		else if (n_a && x->topn_slot && x->topn_slot > n_a)
			model_sub_remove(m, b);
		else if (n_a && x->topn_slot)
			x->out_ssrc = a_ssrc[x->topn_slot - 1u];
	}
	for (unsigned k = 0; k < n_v; k++)
		model_vslot_add(m, MMR_ID_NONE, id, k, v_ssrc[k], v_rtx[k]);
}

uint32_t model_vslot_add(struct model *m, uint32_t id, uint32_t r, unsigned k, uint32_t out_ssrc,
			 uint32_t rtx_ssrc)
{
	id = model_slot_add(m, id, r, 0, out_ssrc);   /* a streamless subscription in r's list */
	struct m_sub *b = &m->subs[id];
	struct m_participant *rp = &m->parts[r];
	b->topn_slot = 0;
	b->video_slot = (uint8_t)(k + 1);
	b->rtx_ssrc = rtx_ssrc;
	if (rp->n_vslots == 0)
		for (unsigned i = 0; i < MMR_VSLOT_MAX; i++)
			rp->vslot_sub[i] = MMR_ID_NONE;
	rp->vslot_sub[k] = id;
	if (k + 1 > rp->n_vslots)
		rp->n_vslots = (uint8_t)(k + 1);
	return id;
}

uint32_t model_vslot_member_add(struct model *m, uint32_t id, uint32_t s, uint32_t slot)
{
	const struct m_sub a = m->subs[slot];
	const struct m_target t = { a.target, a.target_sid, a.target_dt, a.target_encoding };
	id = model_sub_add(m, id, s, a.subscriber, &t, a.out_ssrc, slot);
	struct m_sub *b = &m->subs[id];
	b->rtx_ssrc = a.rtx_ssrc;
	b->priority = a.priority;
	b->video_slot = a.video_slot;
	b->slot_gen = a.slot_gen;
	return id;
}

unsigned model_vslot_members(const struct model *m, uint32_t slot, uint32_t *out)
{
	unsigned n = 0;
	for (uint32_t b = m->parts[m->subs[slot].subscriber].first_rsub; b != MMR_ID_NONE; b = m->subs[b].r_next)
		if (b != slot && m->subs[b].sel_id == slot && n < MEDIA_MAX_ENCODINGS)
			out[n++] = b;
	return n;
}

uint32_t model_vslot_of_stream(const struct model *m, uint32_t r, uint32_t s)
{
	uint32_t b = model_find_sub(m, s, r);
	return b != MMR_ID_NONE && m->subs[b].video_slot ? m->subs[b].sel_id : MMR_ID_NONE;
}

/* ---- top-N audio ---------------------------------------------------------------------------- */

uint32_t model_slot_add(struct model *m, uint32_t id, uint32_t r, unsigned slot, uint32_t out_ssrc)
{
	id = take_id(&m->sub_ids, id);
	struct m_sub *b = &m->subs[id];
	struct m_participant *rp = &m->parts[r];
	memset(b, 0, sizeof(*b));
	b->used = true;
	b->stream = MMR_ID_NONE;
	b->subscriber = r;
	b->out_ssrc = out_ssrc;
	b->sel_id = id;
	b->topn_slot = (uint8_t)(slot + 1);
	b->s_next = b->s_prev = MMR_ID_NONE;
	b->r_next = MMR_ID_NONE;
	b->r_prev = rp->last_rsub;
	if (rp->last_rsub != MMR_ID_NONE)
		m->subs[rp->last_rsub].r_next = id;
	else
		rp->first_rsub = id;
	rp->last_rsub = id;
	rp->n_rsubs++;
	m->meetings[rp->meeting].n_subs++;
	m->n_subs++;
	return id;
}

uint32_t model_find_slot(const struct model *m, uint32_t r, unsigned slot)
{
	for (uint32_t b = m->parts[r].first_rsub; b != MMR_ID_NONE; b = m->subs[b].r_next)
		if (m->subs[b].topn_slot == slot + 1)
			return b;
	return MMR_ID_NONE;
}

/* Is subscription b one that setting top_n from `from` to n removes? */
static bool topn_removes(const struct model *m, uint32_t b, unsigned from, unsigned n)
{
	const struct m_sub *x = &m->subs[b];
	if (x->topn_slot)
		return x->topn_slot > n;
	return from == 0 && n > 0 && m->streams[x->stream].kind == MMR_KIND_AUDIO;
}

void model_topn_change_count(const struct model *m, uint32_t meeting, unsigned n, uint32_t *add, uint32_t *remove)
{
	const struct m_meeting *mt = &m->meetings[meeting];
	*add = *remove = 0;
	for (uint32_t r = mt->first_part; r != MMR_ID_NONE; r = m->parts[r].next) {
		const struct m_participant *rp = &m->parts[r];
		if (!val_role_receives(rp->role))
			continue;
		for (uint32_t b = rp->first_rsub; b != MMR_ID_NONE; b = m->subs[b].r_next)
			*remove += topn_removes(m, b, mt->top_n, n);
		for (unsigned k = 0; k < model_topn_slots_of(rp, n); k++)
			*add += model_find_slot(m, r, k) == MMR_ID_NONE;
		if (mt->top_n && n == 0)   /* every other sender's audio */
			for (uint32_t o = mt->first_part; o != MMR_ID_NONE; o = m->parts[o].next)
				for (uint32_t s = m->parts[o].first_stream; o != r && s != MMR_ID_NONE; s = m->streams[s].next)
					*add += m->streams[s].kind == MMR_KIND_AUDIO;
	}
}

void model_topn_removals(const struct model *m, uint32_t meeting, unsigned n, uint32_t *out)
{
	const struct m_meeting *mt = &m->meetings[meeting];
	uint32_t i = 0;
	for (uint32_t r = mt->first_part; r != MMR_ID_NONE; r = m->parts[r].next)
		for (uint32_t b = m->parts[r].first_rsub; b != MMR_ID_NONE; b = m->subs[b].r_next)
			if (topn_removes(m, b, mt->top_n, n))
				out[i++] = b;
}

uint32_t model_meeting_set_top_n(struct model *m, uint32_t meeting, unsigned n, uint32_t *added)
{
	struct m_meeting *mt = &m->meetings[meeting];
	unsigned from = mt->top_n;
	uint32_t k = 0;
	for (uint32_t r = mt->first_part; r != MMR_ID_NONE; r = m->parts[r].next) {
		uint32_t next;
		for (uint32_t b = m->parts[r].first_rsub; b != MMR_ID_NONE; b = next) {
			next = m->subs[b].r_next;
			if (topn_removes(m, b, from, n))
				model_sub_remove(m, b);
		}
	}
	mt->top_n = (uint8_t)n;
	for (uint32_t r = mt->first_part; r != MMR_ID_NONE; r = m->parts[r].next) {
		if (!val_role_receives(m->parts[r].role))
			continue;
		if (from && n == 0)   /* per-pair audio again (default_sub makes them now that top_n is 0) */
			for (uint32_t o = mt->first_part; o != MMR_ID_NONE; o = m->parts[o].next)
				for (uint32_t s = m->parts[o].first_stream; o != r && s != MMR_ID_NONE; s = m->streams[s].next)
					if (m->streams[s].kind == MMR_KIND_AUDIO) {
						uint32_t b = default_sub(m, s, r);
						if (added)
							added[k] = b;
						k++;
					}
		for (unsigned sl = 0; sl < model_topn_slots_of(&m->parts[r], n); sl++)
			if (model_find_slot(m, r, sl) == MMR_ID_NONE) {
				uint32_t b = model_slot_add(m, MMR_ID_NONE, r, sl, model_topn_slot_ssrc(m, r, sl));
				if (added)
					added[k] = b;
				k++;
			}
	}
	return k;
}

uint32_t model_stream_publish(struct model *m, uint32_t participant, const uint32_t *ssrcs, unsigned n,
			      const struct m_stream_desc *d)
{
	struct m_stream_desc md = *d;
	uint32_t ids[MEDIA_MAX_ENCODINGS];
	md.group = MMR_ID_NONE;
	md.encoding = 0;
	for (unsigned i = 0; i < n; i++) {
		if (n > 1) {
			md.group = i == 0 ? 0 : ids[0];   /* any value for encoding 0: it gets its own id */
			md.encoding = (uint8_t)i;
		}
		ids[i] = model_stream_add(m, MMR_ID_NONE, participant, ssrcs[i], &md);
	}
	uint32_t meeting = m->parts[participant].meeting;
	for (unsigned i = 0; i < n; i++)
		for (uint32_t r = m->meetings[meeting].first_part; r != MMR_ID_NONE; r = m->parts[r].next)
			if (r != participant && val_role_receives(m->parts[r].role))
				default_sub(m, ids[i], r);
	return ids[0];
}

void model_participant_set_keys(struct model *m, uint32_t id, const struct srtp_master *send_key,
				const struct srtp_master *recv_key)
{
	struct m_participant *p = &m->parts[id];
	p->send_key = *send_key;
	p->recv_key = *recv_key;
}

/* ---- removing ------------------------------------------------------------------------------- */

void model_sub_remove(struct model *m, uint32_t id)
{
	struct m_sub *b = &m->subs[id];
	struct m_participant *r = &m->parts[b->subscriber];

	if (b->video_slot && b->stream == MMR_ID_NONE)
		r->vslot_sub[b->video_slot - 1u] = MMR_ID_NONE;   /* only with its participant */
	if (!model_sub_streamless(b)) {
		struct m_stream *s = &m->streams[b->stream];
		if (b->s_prev != MMR_ID_NONE)
			m->subs[b->s_prev].s_next = b->s_next;
		else
			s->first_sub = b->s_next;
		if (b->s_next != MMR_ID_NONE)
			m->subs[b->s_next].s_prev = b->s_prev;
		else
			s->last_sub = b->s_prev;
		s->n_subs--;
		id_index_remove(&m->sub_by_pair, hash_pair(b->stream, b->subscriber), id);
	}

	if (b->r_prev != MMR_ID_NONE)
		m->subs[b->r_prev].r_next = b->r_next;
	else
		r->first_rsub = b->r_next;
	if (b->r_next != MMR_ID_NONE)
		m->subs[b->r_next].r_prev = b->r_prev;
	else
		r->last_rsub = b->r_prev;
	r->n_rsubs--;

	m->meetings[r->meeting].n_subs--;
	b->used = false;
	id_pool_release(&m->sub_ids, id);
	m->n_subs--;
}

void model_stream_remove(struct model *m, uint32_t id)
{
	struct m_stream *s = &m->streams[id];
	struct m_participant *p = &m->parts[s->participant];
	while (s->first_sub != MMR_ID_NONE)
		model_sub_remove(m, s->first_sub);
	if (s->prev != MMR_ID_NONE)
		m->streams[s->prev].next = s->next;
	else
		p->first_stream = s->next;
	if (s->next != MMR_ID_NONE)
		m->streams[s->next].prev = s->prev;
	else
		p->last_stream = s->prev;
	p->n_streams--;
	m->meetings[p->meeting].n_streams--;
	id_index_remove(&m->stream_by_ssrc, hash_pair(p->meeting, s->ssrc), id);
	s->used = false;
	id_pool_release(&m->stream_ids, id);
	m->n_streams--;
}

void model_group_remove(struct model *m, uint32_t id)
{
	uint32_t head = model_group_head(m, id);
	if (head == id && m->streams[id].group == MMR_ID_NONE) {
		model_stream_remove(m, id);
		return;
	}
	/* the highest encoding first: encoding 0 (whose subscriptions the others' sel_id name) last */
	uint32_t last = head;
	while (m->streams[last].next != MMR_ID_NONE && m->streams[m->streams[last].next].group == head)
		last = m->streams[last].next;
	for (;;) {
		uint32_t prev = m->streams[last].prev;
		model_stream_remove(m, last);
		if (last == head)
			break;
		last = prev;
	}
}

void model_participant_remove(struct model *m, uint32_t id)
{
	struct m_participant *p = &m->parts[id];
	struct m_meeting *mt = &m->meetings[p->meeting];
	while (p->first_stream != MMR_ID_NONE)
		model_stream_remove(m, p->first_stream);
	while (p->first_rsub != MMR_ID_NONE)
		model_sub_remove(m, p->first_rsub);
	if (p->prev != MMR_ID_NONE)
		m->parts[p->prev].next = p->next;
	else
		mt->first_part = p->next;
	if (p->next != MMR_ID_NONE)
		m->parts[p->next].prev = p->prev;
	else
		mt->last_part = p->prev;
	mt->n_parts--;
	if (val_role_receives(p->role))
		mt->n_receivers--;
	id_index_remove(&m->part_by_name, hash_part_name(p->meeting, p->name), id);
	if (p->udp_port)
		id_index_remove(&m->part_by_addr, hash_addr(&p->addr, p->udp_port), id);
	explicit_bzero(&p->send_key, sizeof(p->send_key));
	explicit_bzero(p->ice_pwd, sizeof(p->ice_pwd));
	explicit_bzero(p->ice_ufrag, sizeof(p->ice_ufrag));
	p->ice = 0;
	p->ice_ufrag_len = p->ice_pwd_len = 0;
	explicit_bzero(&p->recv_key, sizeof(p->recv_key));
	model_participant_set_dtls(m, id, false, 0, NULL);
	p->used = false;
	id_pool_release(&m->part_ids, id);
	m->n_parts--;
}

void model_meeting_remove(struct model *m, uint32_t id)
{
	struct m_meeting *mt = &m->meetings[id];
	while (mt->first_part != MMR_ID_NONE)
		model_participant_remove(m, mt->first_part);
	id_index_remove(&m->meeting_by_name, hash_meeting_name(mt->name), id);
	/* its bans end with it (the id may serve another meeting) */
	uint32_t k = 0;
	for (uint32_t i = 0; i < m->n_bans; i++)
		if (m->bans[i].meeting != id)
			m->bans[k++] = m->bans[i];
	m->n_bans = k;
	mt->used = false;
	id_pool_release(&m->meeting_ids, id);
	m->n_meetings--;
}

/* ---- meeting controls (issue 15) ------------------------------------------------------------ */

static bool has_screen(const struct model *m, uint32_t p)
{
	for (uint32_t s = m->parts[p].first_stream; s != MMR_ID_NONE; s = m->streams[s].next)
		if (m->streams[s].screen)
			return true;
	return false;
}

/* May p's screen share be forwarded under its meeting's policy? */
static bool share_allowed(const struct model *m, uint32_t p)
{
	const struct m_meeting *mt = &m->meetings[m->parts[p].meeting];
	if (mt->share_host_only && !m->parts[p].host)
		return false;
	if (!mt->max_sharers)
		return true;
	unsigned before = 0;   /* allowed sharers ahead of p in join order */
	for (uint32_t q = mt->first_part; q != MMR_ID_NONE && q != p; q = m->parts[q].next)
		if ((!mt->share_host_only || m->parts[q].host) && !m->parts[q].waiting && has_screen(m, q))
			before++;
	return before < mt->max_sharers;
}

uint8_t model_participant_block(const struct model *m, uint32_t p)
{
	const struct m_participant *pp = &m->parts[p];
	uint8_t b = pp->mute & (MMR_BLOCK_AUDIO | MMR_BLOCK_VIDEO | MMR_BLOCK_SCREEN);
	if (pp->waiting)
		b |= MMR_BLOCK_WAITING;
	if (!share_allowed(m, p))
		b |= MMR_BLOCK_SHARE;
	return b;
}

uint32_t model_block_changes(struct model *m, uint32_t meeting, uint32_t *out)
{
	uint32_t n = 0;
	for (uint32_t p = m->meetings[meeting].first_part; p != MMR_ID_NONE; p = m->parts[p].next) {
		uint8_t b = model_participant_block(m, p);
		if (b != m->parts[p].block_sent) {
			m->parts[p].block_sent = b;
			out[n++] = p;
		}
	}
	return n;
}

bool model_banned(const struct model *m, uint32_t meeting, const char *name)
{
	for (uint32_t i = 0; i < m->n_bans; i++)
		if (m->bans[i].meeting == meeting && strcmp(m->bans[i].name, name) == 0)
			return true;
	return false;
}

int model_ban_add(struct model *m, uint32_t meeting, const char *name)
{
	if (model_banned(m, meeting, name))
		return 0;
	if (m->n_bans >= MODEL_MAX_BANS)
		return -ENOSPC;
	m->bans[m->n_bans].meeting = meeting;
	snprintf(m->bans[m->n_bans].name, sizeof(m->bans[m->n_bans].name), "%s", name);
	m->n_bans++;
	return 0;
}

/* ---- after loading -------------------------------------------------------------------------- */

static bool meeting_taken(const void *ctx, uint32_t id)
{
	return ((const struct model *)ctx)->meetings[id].used;
}
static bool part_taken(const void *ctx, uint32_t id)
{
	return ((const struct model *)ctx)->parts[id].used;
}
static bool stream_taken(const void *ctx, uint32_t id)
{
	return ((const struct model *)ctx)->streams[id].used;
}
static bool sub_taken(const void *ctx, uint32_t id)
{
	return ((const struct model *)ctx)->subs[id].used;
}

void model_rebuild_pools(struct model *m)
{
	id_pool_rebuild(&m->meeting_ids, meeting_taken, m);
	id_pool_rebuild(&m->part_ids, part_taken, m);
	id_pool_rebuild(&m->stream_ids, stream_taken, m);
	id_pool_rebuild(&m->sub_ids, sub_taken, m);
}

uint32_t model_find_participant_by_ufrag(const struct model *m, const char *ufrag, size_t len)
{
	/* a scan: ICE credentials are looked up when a participant is added or set, not per packet */
	for (uint32_t i = 0; i < model_part_bound(m); i++) {
		const struct m_participant *p = &m->parts[i];
		if (p->used && p->ice && p->ice_ufrag_len == len && memcmp(p->ice_ufrag, ufrag, len) == 0)
			return i;
	}
	return MMR_ID_NONE;
}

void model_participant_set_addr(struct model *m, uint32_t id, const struct mmr_addr *addr, uint16_t port)
{
	struct m_participant *p = &m->parts[id];
	if (p->udp_port)
		id_index_remove(&m->part_by_addr, hash_addr(&p->addr, p->udp_port), id);
	p->addr = *addr;
	p->udp_port = port;
	if (port)
		id_index_insert(&m->part_by_addr, hash_addr(addr, port), id);
}

void model_participant_set_ice(struct model *m, uint32_t id, const char *ufrag, size_t ulen, const char *pwd,
			       size_t plen)
{
	struct m_participant *p = &m->parts[id];
	explicit_bzero(p->ice_pwd, sizeof(p->ice_pwd));
	memset(p->ice_ufrag, 0, sizeof(p->ice_ufrag));
	p->ice = ulen > 0;
	p->ice_ufrag_len = (uint8_t)ulen;
	p->ice_pwd_len = (uint8_t)plen;
	memcpy(p->ice_ufrag, ufrag, ulen);
	memcpy(p->ice_pwd, pwd, plen);
}

void model_participant_set_dtls(struct model *m, uint32_t id, bool dtls, unsigned role, const uint8_t *fp)
{
	struct m_participant *p = &m->parts[id];
	p->dtls = dtls;
	p->dtls_role = dtls ? (uint8_t)role : 0;
	if (dtls)
		memcpy(p->dtls_fp, fp, sizeof(p->dtls_fp));
	else
		memset(p->dtls_fp, 0, sizeof(p->dtls_fp));
	p->dtls_state = dtls ? MMR_DTLS_WAITING : MMR_DTLS_NONE;
	p->dtls_fail = p->dtls_suite = 0;
}
