/*
 * cmd_apply.c - the control thread's side of the forwarding tables: a shadow of every object by
 * id, the rules of each command, and the publication of new immutable versions (fwd_table.h).
 *
 * Shadow state: plain arrays indexed by id, touched only by this thread (shadow.h). SRTP contexts
 * (keys, inbound and outbound stream contexts, rekeying) are srtp_ctl.c's; this file decides when
 * an object gets or loses them.
 *
 * A change marks the streams whose output arrays it affects "dirty"; cmd_apply_publish() rebuilds
 * those arrays once per batch and swings the stream nodes' RCU pointers. Replaced nodes and arrays
 * are "retired" and freed by cmd_apply_reclaim() after synchronize_rcu().
 *
 * Ids re-created in the batch that deleted them: a worker may still be using the old object's
 * per-id state (layer_sel, stream counters) until a grace period has passed, so the batch is
 * flushed (publish + grace period) before such an id is reset and reused.
 *
 * Two objects with the same lookup key (a participant address+port, a stream's publisher+SSRC):
 * the last PUT takes the key, the other stays in the shadow unreachable ("shadowed") and gets the
 * key back when the winner goes away. This keeps a replay after a lost delete convergent.
 *
 * RTCP and repair (issue 11): a stream with an RTX SSRC gets a second node in the streams table
 * (is_rtx, media = its current node), replaced whenever its media node is; it never takes a key
 * from a media stream (a media stream takes it from an RTX node). The subs table holds one node per
 * (receiver, SSRC it sees) listing the subscriptions behind it (view_refresh), rebuilt when one of
 * them changes. The per-object RTCP/repair state comes from the hooks of repair_hooks.h.
 */
#define _LGPL_SOURCE
#include "cmd_apply.h"

#include <arpa/inet.h>
#include <rte_cycles.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "av1_dd.h"
#include "dataplane.h"
#include "fwd_table.h"
#include "layer_select.h"
#include "meeting_owner.h"
#include "neigh.h"
#include "pkt.h"
#include "repair_hooks.h"
#include "qos_hooks.h"
#include "rewrite.h"
#include "shadow.h"
#include "ice.h"
#include "srtp_ctl.h"
#include "dtls_path.h"
#include <openssl/rand.h>
#include "steer.h"

static int refuse(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int refuse(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---------------------------------------------------------------------------------------------
 * RTCP and repair state hooks (repair_hooks.h): these weak definitions make nothing; repair.c and
 * rtcp_state.c define the real ones.
 */

__attribute__((weak)) struct stream_repair *stream_repair_new(struct dataplane *dp,
							      const struct mmr_cmd_stream *c)
{
	(void)dp;
	(void)c;
	return NULL;
}

__attribute__((weak)) void stream_repair_free(void *p)
{
	(void)p;
}

__attribute__((weak)) struct sub_repair *sub_repair_new(struct dataplane *dp, const struct mmr_cmd_sub *c,
							const struct mmr_cmd_stream *s,
							const struct mmr_cmd_participant *r)
{
	(void)dp;
	(void)c;
	(void)s;
	(void)r;
	return NULL;
}

__attribute__((weak)) void sub_repair_free(void *p)
{
	(void)p;
}

__attribute__((weak)) struct part_rtcp *part_rtcp_new(struct dataplane *dp, const struct mmr_cmd_participant *c)
{
	(void)dp;
	(void)c;
	return NULL;
}

__attribute__((weak)) void part_rtcp_free(void *p)
{
	(void)p;
}

/* ---------------------------------------------------------------------------------------------
 * Application-layer QoS state hooks (qos_hooks.h, issue 12): these weak definitions make nothing;
 * bwe.c, uplink.c and audio.c define the real ones.
 */

__attribute__((weak)) struct part_bwe *part_bwe_new(struct dataplane *dp, const struct mmr_cmd_participant *c)
{
	(void)dp;
	(void)c;
	return NULL;
}

__attribute__((weak)) void part_bwe_free(void *p)
{
	(void)p;
}

__attribute__((weak)) struct part_uplink *part_uplink_new(struct dataplane *dp, const struct mmr_cmd_participant *c)
{
	(void)dp;
	(void)c;
	return NULL;
}

__attribute__((weak)) void part_uplink_free(void *p)
{
	(void)p;
}

__attribute__((weak)) struct layer_rate *stream_layer_rate_new(struct dataplane *dp, const struct mmr_cmd_stream *c)
{
	(void)dp;
	(void)c;
	return NULL;
}

__attribute__((weak)) void stream_layer_rate_free(void *p)
{
	(void)p;
}

__attribute__((weak)) struct ds_speaker *stream_speaker_new(struct dataplane *dp, const struct mmr_cmd_stream *c)
{
	(void)dp;
	(void)c;
	return NULL;
}

__attribute__((weak)) void stream_speaker_free(void *p)
{
	(void)p;
}

__attribute__((weak)) struct meeting_audio *meeting_audio_new(struct dataplane *dp, uint32_t c)
{
	(void)dp;
	(void)c;
	return NULL;
}

__attribute__((weak)) void meeting_audio_free(void *p)
{
	(void)p;
}

__attribute__((weak)) struct topn_out *slot_topn_new(struct dataplane *dp, const struct mmr_cmd_sub *c)
{
	(void)dp;
	(void)c;
	return NULL;
}

__attribute__((weak)) void slot_topn_free(void *p)
{
	(void)p;
}

/* ---------------------------------------------------------------------------------------------
 * Retiring and reclaiming
 */

void shadow_retire(struct cmd_apply *ca, void *p, void (*free_fn)(void *))
{
	if (!p)
		return;
	if (!free_fn)
		free_fn = free;
	if (ca->n_retired == ca->cap_retired) {
		size_t cap = ca->cap_retired ? ca->cap_retired * 2 : 1024;
		struct retired *r = realloc(ca->retired, cap * sizeof(*r));
		if (!r) {
			/* no room to defer: wait for the grace period right here */
			dp_synchronize_rcu(ca->dp);
			free_fn(p);
			return;
		}
		ca->retired = r;
		ca->cap_retired = cap;
	}
	ca->retired[ca->n_retired++] = (struct retired){ p, free_fn };
}

static void retire(struct cmd_apply *ca, void *p)
{
	shadow_retire(ca, p, free);
}

void cmd_apply_reclaim(struct cmd_apply *ca)
{
	if (ca->n_retired || ca->need_grace) {
		dp_synchronize_rcu(ca->dp);
		for (size_t i = 0; i < ca->n_retired; i++)
			ca->retired[i].free_fn(ca->retired[i].p);
		ca->n_retired = 0;
		ca->need_grace = 0;
	}
	ca->batch++;
}

/* ---------------------------------------------------------------------------------------------
 * Output arrays
 */

void shadow_mark_dirty(struct cmd_apply *ca, uint32_t sid)
{
	struct sh_stream *s = &ca->S[sid];
	if (s->dirty)
		return;
	s->dirty = 1;
	ca->dirty[ca->n_dirty++] = sid;
}

/* Meeting mid's arrays (slot outputs, audio streams) are to be rebuilt at publication. */
static void meeting_mark_dirty(struct cmd_apply *ca, uint32_t mid)
{
	struct sh_meeting *m = &ca->M[mid];
	if (m->dirty)
		return;
	m->dirty = 1;
	ca->mdirty[ca->n_mdirty++] = mid;
}

/* Participant pid's rx_subs (the video it receives, for its allocator) is to be rebuilt. */
static void rx_mark_dirty(struct cmd_apply *ca, uint32_t pid)
{
	struct sh_participant *p = &ca->P[pid];
	if (p->rx_dirty)
		return;
	p->rx_dirty = 1;
	ca->rxdirty[ca->n_rxdirty++] = pid;
}

/* A receiver's video slot itself (issue 13): a subscription with no stream that owns the slot's
 * per-receiver state (selection, SRTP contexts, sequence map); the publisher streams on it are
 * subscriptions whose sel_id is its id (their outputs use its state, as a simulcast group's
 * followers use their leader's). */
static inline int sub_is_vslot(const struct mmr_cmd_sub *c)
{
	return c->video_slot && c->stream_id == MMR_ID_NONE;
}

static void sub_dirty_followers(struct cmd_apply *ca, uint32_t uid);

void shadow_mark_sub_dirty(struct cmd_apply *ca, uint32_t uid)
{
	const struct sh_sub *u = &ca->U[uid];
	if (u->c.topn_slot)
		meeting_mark_dirty(ca, ca->P[u->c.subscriber_id].c.meeting_id);
	else if (sub_is_vslot(&u->c))
		sub_dirty_followers(ca, uid);   /* no output of its own: the streams on it have them */
	else
		shadow_mark_dirty(ca, u->c.stream_id);
}

/* The meeting's audio list names the stream (an audio stream made, changed or gone). */
static void stream_meeting_dirty(struct cmd_apply *ca, const struct mmr_cmd_stream *c)
{
	if (c->kind == MMR_KIND_AUDIO)
		meeting_mark_dirty(ca, ca->P[c->participant_id].c.meeting_id);
}

/* The subscription whose per-receiver state (SRTP contexts, RTX SSRC, repair state) a
 * subscription's copies use: its own, or in a simulcast group the one of its sel_id subscription
 * (the receiver's subscription to encoding 0, same out SSRC), so that the receiver's one SRTP stream
 * has one rollover counter and replay window, and one sequence map. */
static const struct sh_sub *sub_lead(const struct cmd_apply *ca, uint32_t sub_id)
{
	const struct sh_sub *u = &ca->U[sub_id];
	uint32_t lead = u->c.sel_id;
	if (lead != sub_id && lead < MMR_MAX_SUBS) {
		const struct sh_sub *l = &ca->U[lead];
		if (l->used && l->c.subscriber_id == u->c.subscriber_id && l->c.out_ssrc == u->c.out_ssrc &&
		    (l->srtp_out || ca->P[u->c.subscriber_id].c.srtp_suite == SRTP_SUITE_NONE))
			return l;
	}
	return u;
}

static struct srtp_stream *sub_srtp_out(const struct cmd_apply *ca, uint32_t sub_id)
{
	return sub_lead(ca, sub_id)->srtp_out;
}

static void fill_output(const struct cmd_apply *ca, struct fwd_output *o, uint32_t sub_id)
{
	const struct sh_sub *u = &ca->U[sub_id];
	const struct sh_participant *r = &ca->P[u->c.subscriber_id];
	const struct dp_port *port = &ca->dp->port[r->c.dp_port];
	int v4 = r->c.addr.family == MMR_AF_INET;
	unsigned alen = v4 ? 4 : 16;

	memset(o, 0, sizeof(*o));
	o->sub_id = sub_id;
	o->sel_id = u->c.sel_id;
	o->out_ssrc_be = htonl(u->c.out_ssrc);
	o->dst_port_be = htons(r->c.udp_port);
	o->dp_port = r->c.dp_port;
	o->family = r->c.addr.family;
	memcpy(o->dst_mac, r->c.has_mac ? r->c.mac : port->gateway_mac, 6);
	o->neigh = r->c.has_mac ? 0 : r->neigh;     /* its gateway's or its own entry (neigh.h) */
	memcpy(o->src_mac, port->mac, 6);
	memcpy(o->src_ip, v4 ? port->ipv4.ip : port->ipv6.ip, alen);
	memcpy(o->dst_ip, r->c.addr.ip, alen);
	o->srtp = sub_srtp_out(ca, sub_id);
	const struct sh_sub *l = sub_lead(ca, sub_id);
	o->fb = r->c.fb;
	o->rtx_ssrc_be = htonl(l->c.rtx_ssrc);
	memcpy(o->rtx_map, r->c.rtx_map, sizeof(o->rtx_map));
	o->rtx_srtp = l->rtx_out;
	o->repair = l->repair;
	if (u->c.topn_slot)
		o->topn = u->topn;      /* a slot output has no RTX (rtx_ssrc 0) */
	o->slot_gen = u->c.video_slot ? u->c.slot_gen : 0;
	o->receiver_id = u->c.subscriber_id;
	o->twcc_ext_id = r->c.twcc_ext_id;
	o->abs_ext_id = r->c.abs_ext_id;
	o->bwe = r->bwe;
	fwd_output_set_sums(o);
}

/* The output array of the subscription list starting at head (a stream's, or a meeting's slot's). */
static struct fwd_outputs *build_outputs_list(struct cmd_apply *ca, uint32_t head, int *oom)
{
	uint32_t n = 0;
	*oom = 0;
	for (uint32_t u = head; u != NIL; u = ca->U[u].s_next)
		n++;
	if (n == 0)
		return NULL;
	size_t size = sizeof(struct fwd_outputs) + (size_t)n * sizeof(struct fwd_output);
	struct fwd_outputs *a = aligned_alloc(64, (size + 63) & ~(size_t)63);
	if (!a) {
		*oom = 1;
		return NULL;
	}
	a->n = n;
	a->slotted = 0;
	memset(a->pad, 0, sizeof(a->pad));
	uint32_t i = 0;
	for (uint32_t u = head; u != NIL; u = ca->U[u].s_next) {
		fill_output(ca, &a->o[i], u);
		a->slotted |= a->o[i++].slot_gen != 0;
	}
	return a;
}

static struct fwd_outputs *build_outputs(struct cmd_apply *ca, uint32_t sid, int *oom)
{
	return build_outputs_list(ca, ca->S[sid].subs, oom);
}

/* The stream that describes selection state u for the allocator: its own, or for a video slot
 * the first stream on it; NIL: none (an empty slot). */
static uint32_t rx_stream(const struct cmd_apply *ca, uint32_t u)
{
	const struct sh_sub *x = &ca->U[u];
	if (!sub_is_vslot(&x->c))
		return x->c.stream_id;
	for (uint32_t f = ca->P[x->c.subscriber_id].rsubs; f != NIL; f = ca->U[f].r_next)
		if (f != u && ca->U[f].used && ca->U[f].c.sel_id == u && ca->U[f].c.stream_id != MMR_ID_NONE)
			return ca->U[f].c.stream_id;
	return NIL;
}

/* Is u a video subscription of its own selection state (what rx_subs lists)? A video slot with a
 * stream on it is one (issue 13). */
static int rx_leader(const struct cmd_apply *ca, uint32_t u)
{
	const struct sh_sub *x = &ca->U[u];
	if (!x->used || x->c.topn_slot || x->c.sel_id != u)
		return 0;
	uint32_t sid = rx_stream(ca, u);
	return sid != NIL && ca->S[sid].c.kind == MMR_KIND_VIDEO;
}

/* Participant pid's rx_subs: one entry per video selection state it receives (issue 12). */
static struct fwd_rx_subs *build_rx_subs(struct cmd_apply *ca, uint32_t pid, int *oom)
{
	const struct sh_participant *p = &ca->P[pid];
	uint32_t n = 0;
	*oom = 0;
	for (uint32_t u = p->rsubs; u != NIL; u = ca->U[u].r_next)
		n += rx_leader(ca, u);
	if (n == 0)
		return NULL;
	struct fwd_rx_subs *a = calloc(1, sizeof(*a) + (size_t)n * sizeof(a->e[0]));
	if (!a) {
		*oom = 1;
		return NULL;
	}
	for (uint32_t u = p->rsubs; u != NIL; u = ca->U[u].r_next) {
		if (!rx_leader(ca, u))
			continue;
		const struct sh_sub *x = &ca->U[u];
		const struct sh_stream *st = &ca->S[rx_stream(ca, u)];
		struct fwd_rx_sub *e = &a->e[a->n++];
		e->sel_id = u;
		e->publisher = st->c.participant_id;
		for (unsigned k = 0; k < MEDIA_MAX_ENCODINGS; k++)
			e->stream_id[k] = MMR_ID_NONE;
		e->codec = st->c.codec;
		e->spatial = st->c.spatial_layers;
		e->temporal = st->c.temporal_layers;
		e->priority = x->c.priority;
		e->screen = st->c.screen;
		/* the group's members toward this receiver (the leader included), by encoding */
		for (uint32_t f = p->rsubs; f != NIL; f = ca->U[f].r_next) {
			const struct sh_sub *y = &ca->U[f];
			if (!y->used || y->c.topn_slot || y->c.sel_id != u || y->c.stream_id == MMR_ID_NONE)
				continue;
			const struct sh_stream *fs = &ca->S[y->c.stream_id];
			unsigned k = fs->c.group_id != MMR_ID_NONE ? fs->c.encoding : 0;
			if (k >= MEDIA_MAX_ENCODINGS || e->stream_id[k] != MMR_ID_NONE)
				continue;
			e->stream_id[k] = y->c.stream_id;
			e->rate[k] = fs->rate;
			if (k + 1u > e->n_enc)
				e->n_enc = (uint8_t)(k + 1);
			if (fs->c.screen)
				e->screen = 1;
		}
	}
	return a;
}

/* Meeting mid's audio streams (issue 12): every audio stream of its participants that has a node. */
static struct fwd_meeting_audio *build_meeting_audio(struct cmd_apply *ca, uint32_t mid, int *oom)
{
	uint32_t n = 0;
	*oom = 0;
	for (uint32_t q = ca->M[mid].parts; q != NIL; q = ca->P[q].m_next)
		for (uint32_t s = ca->P[q].streams; s != NIL; s = ca->S[s].p_next)
			n += ca->S[s].c.kind == MMR_KIND_AUDIO && ca->S[s].node != NULL;
	if (n == 0)
		return NULL;
	struct fwd_meeting_audio *a = calloc(1, sizeof(*a) + (size_t)n * sizeof(a->e[0]));
	if (!a) {
		*oom = 1;
		return NULL;
	}
	for (uint32_t q = ca->M[mid].parts; q != NIL; q = ca->P[q].m_next)
		for (uint32_t s = ca->P[q].streams; s != NIL; s = ca->S[s].p_next) {
			const struct sh_stream *st = &ca->S[s];
			if (st->c.kind != MMR_KIND_AUDIO || !st->node)
				continue;
			a->e[a->n++] = (struct fwd_meeting_audio_entry){ .stream_id = s, .publisher_id = q,
									 .ssrc = st->c.ssrc, .speaker = st->speaker };
		}
	return a;
}

/* Rebuild a dirty meeting's arrays: 0, or -1 out of memory (nothing changed; retried next batch). */
static int meeting_publish(struct cmd_apply *ca, uint32_t mid)
{
	struct sh_meeting *m = &ca->M[mid];
	struct fwd_outputs *slot[MMR_TOPN_MAX];
	int oom = 0;
	for (unsigned k = 0; k < MMR_TOPN_MAX; k++) {
		slot[k] = oom ? NULL : build_outputs_list(ca, m->slots[k], &oom);
	}
	struct fwd_meeting_audio *audio = oom ? NULL : build_meeting_audio(ca, mid, &oom);
	if (oom) {
		for (unsigned k = 0; k < MMR_TOPN_MAX; k++)
			free(slot[k]);
		free(audio);
		return -1;
	}
	for (unsigned k = 0; k < MMR_TOPN_MAX; k++) {
		if (!slot[k] && !m->slot_outputs[k])
			continue;
		retire(ca, m->slot_outputs[k]);
		m->slot_outputs[k] = slot[k];
		rcu_assign_pointer(m->node->slot_outputs[k], slot[k]);
		ca->dp->shm->stats.ctl.arrays_published++;
	}
	retire(ca, m->audio);
	m->audio = audio;
	rcu_assign_pointer(m->node->audio, audio);
	return 0;
}

void cmd_apply_publish(struct cmd_apply *ca)
{
	uint32_t kept = 0;
	for (uint32_t k = 0; k < ca->n_dirty; k++) {
		uint32_t sid = ca->dirty[k];
		struct sh_stream *s = &ca->S[sid];
		if (!s->used) {
			s->dirty = 0;
			continue;
		}
		int oom;
		struct fwd_outputs *a = build_outputs(ca, sid, &oom);
		if (oom) {
			dp_log("stream %u: out of memory building its output array; retrying next batch", sid);
			ca->dirty[kept++] = sid;
			continue;
		}
		s->dirty = 0;
		struct fwd_outputs *old = s->outputs;
		s->outputs = a;
		if (s->node)
			rcu_assign_pointer(s->node->outputs, a);
		retire(ca, old);
		ca->dp->shm->stats.ctl.arrays_published++;
	}
	ca->n_dirty = kept;

	kept = 0;
	for (uint32_t k = 0; k < ca->n_mdirty; k++) {
		uint32_t mid = ca->mdirty[k];
		struct sh_meeting *m = &ca->M[mid];
		if (!m->used) {
			m->dirty = 0;
			continue;
		}
		if (meeting_publish(ca, mid) < 0) {
			dp_log("meeting %u: out of memory building its arrays; retrying next batch", mid);
			ca->mdirty[kept++] = mid;
			continue;
		}
		m->dirty = 0;
	}
	ca->n_mdirty = kept;

	kept = 0;
	for (uint32_t k = 0; k < ca->n_rxdirty; k++) {
		uint32_t pid = ca->rxdirty[k];
		struct sh_participant *p = &ca->P[pid];
		if (!p->used) {
			p->rx_dirty = 0;
			continue;
		}
		int oom;
		struct fwd_rx_subs *a = build_rx_subs(ca, pid, &oom);
		if (oom) {
			dp_log("participant %u: out of memory building its rx_subs; retrying next batch", pid);
			ca->rxdirty[kept++] = pid;
			continue;
		}
		p->rx_dirty = 0;
		retire(ca, p->rx_subs);
		p->rx_subs = a;
		if (p->node)
			rcu_assign_pointer(p->node->rx_subs, a);
	}
	ca->n_rxdirty = kept;
}

/* Publish, wait, free: lets an id deleted in this batch be reset and reused. */
static void flush(struct cmd_apply *ca)
{
	cmd_apply_publish(ca);
	cmd_apply_reclaim(ca);
}

/* ---------------------------------------------------------------------------------------------
 * Lists
 */

static void stream_link(struct cmd_apply *ca, uint32_t sid)
{
	struct sh_stream *s = &ca->S[sid];
	struct sh_participant *p = &ca->P[s->c.participant_id];
	s->p_prev = NIL;
	s->p_next = p->streams;
	if (p->streams != NIL)
		ca->S[p->streams].p_prev = sid;
	p->streams = sid;
}

static void stream_unlink(struct cmd_apply *ca, uint32_t sid)
{
	struct sh_stream *s = &ca->S[sid];
	if (s->p_prev != NIL)
		ca->S[s->p_prev].p_next = s->p_next;
	else
		ca->P[s->c.participant_id].streams = s->p_next;
	if (s->p_next != NIL)
		ca->S[s->p_next].p_prev = s->p_prev;
	s->p_next = s->p_prev = NIL;
}

/* The head of the list subscription u is in: its stream's, or its meeting's slot's. */
static uint32_t *sub_list_head(struct cmd_apply *ca, const struct sh_sub *u)
{
	if (u->c.topn_slot)
		return &ca->M[ca->P[u->c.subscriber_id].c.meeting_id].slots[u->c.topn_slot - 1];
	return &ca->S[u->c.stream_id].subs;
}

static void sub_link(struct cmd_apply *ca, uint32_t uid)
{
	struct sh_sub *u = &ca->U[uid];
	struct sh_participant *r = &ca->P[u->c.subscriber_id];
	u->s_prev = u->s_next = NIL;
	if (!sub_is_vslot(&u->c)) {   /* a video slot is in its receiver's list only */
		uint32_t *head = sub_list_head(ca, u);
		u->s_next = *head;
		if (*head != NIL)
			ca->U[*head].s_prev = uid;
		*head = uid;
	}
	u->r_prev = NIL;
	u->r_next = r->rsubs;
	if (r->rsubs != NIL)
		ca->U[r->rsubs].r_prev = uid;
	r->rsubs = uid;
}

static void sub_unlink(struct cmd_apply *ca, uint32_t uid)
{
	struct sh_sub *u = &ca->U[uid];
	if (u->s_prev != NIL)
		ca->U[u->s_prev].s_next = u->s_next;
	else if (!sub_is_vslot(&u->c))
		*sub_list_head(ca, u) = u->s_next;
	if (u->s_next != NIL)
		ca->U[u->s_next].s_prev = u->s_prev;
	if (u->r_prev != NIL)
		ca->U[u->r_prev].r_next = u->r_next;
	else
		ca->P[u->c.subscriber_id].rsubs = u->r_next;
	if (u->r_next != NIL)
		ca->U[u->r_next].r_prev = u->r_prev;
	u->s_next = u->s_prev = u->r_next = u->r_prev = NIL;
}

/* ---------------------------------------------------------------------------------------------
 * Meetings (issue 12)
 */

/* Meeting mid gets its node (at its first participant or MEETING_PUT); 0, or -1 out of memory. */
static int meeting_ensure(struct cmd_apply *ca, uint32_t mid)
{
	struct sh_meeting *m = &ca->M[mid];
	if (m->used)
		return 0;
	struct fwd_meeting *n = calloc(1, sizeof(*n));
	if (!n)
		return -1;
	n->id = mid;
	n->top_n = m->top_n;
	m->audio_state = n->audio_state = meeting_audio_new(ca->dp, mid);
	__atomic_store_n(&ca->dp->shm->stats.meeting_speaker[mid], MMR_ID_NONE, __ATOMIC_RELAXED);
	m->node = n;
	m->used = 1;
	for (unsigned k = 0; k < MMR_TOPN_MAX; k++) {
		m->slots[k] = NIL;
		m->slot_outputs[k] = NULL;
	}
	m->audio = NULL;
	if (m->n_parts == 0)
		m->parts = NIL;
	rcu_assign_pointer(ca->dp->fwd.meetings[mid], n);
	ca->n_m++;
	if (mid >= ca->m_hw)
		ca->m_hw = mid + 1;
	return 0;
}

/* Meeting mid loses its node when nothing holds it any more (no participant, no top-N setting). */
static void meeting_maybe_drop(struct cmd_apply *ca, uint32_t mid)
{
	struct sh_meeting *m = &ca->M[mid];
	if (!m->used || m->n_parts || m->put)
		return;
	rcu_assign_pointer(ca->dp->fwd.meetings[mid], NULL);
	for (unsigned k = 0; k < MMR_TOPN_MAX; k++) {
		retire(ca, m->slot_outputs[k]);   /* empty by now: its participants are gone */
		m->slot_outputs[k] = NULL;
	}
	retire(ca, m->audio);
	m->audio = NULL;
	shadow_retire(ca, m->audio_state, meeting_audio_free);
	m->audio_state = NULL;
	retire(ca, m->node);
	m->node = NULL;
	m->used = 0;
	m->top_n = 0;
	ca->need_grace = 1;
	ca->n_m--;
}

static void meeting_join(struct cmd_apply *ca, uint32_t pid)
{
	struct sh_participant *p = &ca->P[pid];
	struct sh_meeting *m = &ca->M[p->c.meeting_id];
	if (m->n_parts == 0)
		m->parts = NIL;
	p->m_prev = NIL;
	p->m_next = m->parts;
	if (m->parts != NIL)
		ca->P[m->parts].m_prev = pid;
	m->parts = pid;
	m->n_parts++;
}

static void meeting_leave(struct cmd_apply *ca, uint32_t pid)
{
	struct sh_participant *p = &ca->P[pid];
	uint32_t mid = p->c.meeting_id;
	struct sh_meeting *m = &ca->M[mid];
	if (p->m_prev != NIL)
		ca->P[p->m_prev].m_next = p->m_next;
	else
		m->parts = p->m_next;
	if (p->m_next != NIL)
		ca->P[p->m_next].m_prev = p->m_prev;
	p->m_next = p->m_prev = NIL;
	m->n_parts--;
	meeting_maybe_drop(ca, mid);
}

static void meeting_set(struct cmd_apply *ca, uint32_t mid, uint8_t top_n)
{
	struct sh_meeting *m = &ca->M[mid];
	m->put = top_n != 0;
	m->top_n = top_n;
	if (m->used)
		CMM_STORE_SHARED(m->node->top_n, top_n);
	meeting_maybe_drop(ca, mid);
}

static int meeting_put(struct cmd_apply *ca, const struct mmr_cmd_meeting *c, char *err, size_t errlen)
{
	if (c->meeting_id >= MMR_MAX_MEETINGS)
		return refuse(err, errlen, "meeting id %u out of range (< %u)", c->meeting_id, MMR_MAX_MEETINGS);
	if (c->top_n > MMR_TOPN_MAX)
		return refuse(err, errlen, "meeting %u: top_n %u out of range 0..%u", c->meeting_id, c->top_n,
			      MMR_TOPN_MAX);
	struct sh_meeting *m = &ca->M[c->meeting_id];
	m->stamp = ca->stamp;
	if (c->top_n && meeting_ensure(ca, c->meeting_id) < 0)
		return refuse(err, errlen, "meeting %u: out of memory", c->meeting_id);
	meeting_set(ca, c->meeting_id, c->top_n);
	return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Subscriptions
 */

/* A member of view v other than subscription id; NIL: none. */
static uint32_t view_other(const struct fwd_sub *v, uint32_t id)
{
	for (unsigned e = 0; e < MEDIA_MAX_ENCODINGS; e++)
		if (v->m[e].sub_id != NIL && v->m[e].sub_id != id)
			return v->m[e].sub_id;
	return NIL;
}

/* Does subscription u belong in the view (rid, ssrc) of kind is_rtx (its out SSRC or its RTX SSRC)? */
static int view_match(const struct cmd_apply *ca, uint32_t u, uint32_t rid, uint32_t ssrc, int is_rtx)
{
	if (u >= MMR_MAX_SUBS)
		return 0;
	const struct sh_sub *x = &ca->U[u];
	return x->used && !x->c.topn_slot && x->c.stream_id != MMR_ID_NONE && x->c.subscriber_id == rid &&
	       (is_rtx ? x->c.rtx_ssrc != 0 && x->c.rtx_ssrc == ssrc : x->c.out_ssrc == ssrc);
}

/* Put subscription u into node n (by its stream's encoding, else the first free slot); 0: full. */
static int view_add(const struct cmd_apply *ca, struct fwd_sub *n, uint32_t u)
{
	const struct sh_sub *x = &ca->U[u];
	const struct sh_stream *st = &ca->S[x->c.stream_id];
	for (unsigned e = 0; e < MEDIA_MAX_ENCODINGS; e++)
		if (n->m[e].sub_id == u)
			return 1;
	unsigned e = st->c.group_id != MMR_ID_NONE ? st->c.encoding : 0;
	if (e >= MEDIA_MAX_ENCODINGS || n->m[e].sub_id != NIL)
		for (e = 0; e < MEDIA_MAX_ENCODINGS && n->m[e].sub_id != NIL; e++)
			;
	if (e >= MEDIA_MAX_ENCODINGS)
		return 0;
	n->m[e] = (struct fwd_sub_member){ .sub_id = u, .stream_id = x->c.stream_id,
					  .publisher_id = st->c.participant_id, .ssrc = st->c.ssrc };
	if (e + 1u > n->n)
		n->n = (uint8_t)(e + 1);
	if (n->sel_id == NIL || x->c.sel_id == u)
		n->sel_id = x->c.sel_id;
	return 1;
}

/*
 * The subs table's node for (receiver rid, SSRC it sees) of kind is_rtx, after a change of
 * subscription hint (NIL: none): rebuilt from the shadow, from the node's members and hint (a key is
 * one kind only: sub_put refuses an out SSRC that is another subscription's RTX SSRC toward the same
 * receiver, and the reverse), so a change costs no walk of the receiver's list; only a full node
 * (plain RTP lets more subscriptions than fit share an out SSRC) is rebuilt by a walk. Unpublished
 * when no member is left; left alone when it already says the same.
 */
static void view_refresh(struct cmd_apply *ca, uint32_t rid, uint32_t ssrc, int is_rtx, uint32_t hint)
{
	struct fwd_tables *t = &ca->dp->fwd;
	if (is_rtx && ssrc == 0)
		return;     /* RTX SSRC 0: none */
	struct fwd_sub *cur = fwd_sub_lookup(t, rid, ssrc);
	if (cur && cur->is_rtx != is_rtx) {
		is_rtx = cur->is_rtx;    /* the key is the other kind's: its members are rechecked */
		hint = NIL;
	}
	struct fwd_sub n;
	memset(&n, 0, sizeof(n));
	n.receiver_id = rid;
	n.ssrc = ssrc;
	n.is_rtx = (uint8_t)is_rtx;
	n.sel_id = NIL;
	for (unsigned e = 0; e < MEDIA_MAX_ENCODINGS; e++)
		n.m[e].sub_id = NIL;
	unsigned was = 0;
	for (unsigned e = 0; cur && e < MEDIA_MAX_ENCODINGS; e++)
		if (cur->m[e].sub_id != NIL) {
			was++;
			if (view_match(ca, cur->m[e].sub_id, rid, ssrc, is_rtx))
				view_add(ca, &n, cur->m[e].sub_id);
		}
	if (hint != NIL && view_match(ca, hint, rid, ssrc, is_rtx))
		view_add(ca, &n, hint);
	if (was == MEDIA_MAX_ENCODINGS && rid < MMR_MAX_PARTICIPANTS && ca->P[rid].used)
		for (uint32_t u = ca->P[rid].rsubs; u != NIL; u = ca->U[u].r_next)
			if (view_match(ca, u, rid, ssrc, is_rtx) && !view_add(ca, &n, u))
				break;
	const size_t off = offsetof(struct fwd_sub, receiver_id);
	if (n.n == 0) {
		if (cur) {
			fwd_sub_unpublish(t, cur);
			retire(ca, cur);
		}
		return;
	}
	if (cur && memcmp((const char *)cur + off, (const char *)&n + off, sizeof(n) - off) == 0)
		return;
	struct fwd_sub *node = malloc(sizeof(*node));
	if (!node) {
		/* a stale node may name a subscription that is gone: the lookup checks what it finds
		 * (fwd_sub_member_output); a missing one makes feedback about it unknown */
		dp_log("receiver %u SSRC %u: out of memory for its subscription view", rid, ssrc);
		return;
	}
	memcpy(node, &n, sizeof(n));
	retire(ca, fwd_sub_publish(t, node));
}

/* Both views of subscription uid of receiver rid (an out SSRC and an RTX SSRC, as it has them now or
 * had them before a change). */
static void sub_views_refresh(struct cmd_apply *ca, uint32_t uid, uint32_t rid, uint32_t out_ssrc,
			      uint32_t rtx_ssrc)
{
	if (ca->U[uid].c.topn_slot || sub_is_vslot(&ca->U[uid].c))
		return;     /* a top-N or video slot itself is in no view: the streams on it are */
	view_refresh(ca, rid, out_ssrc, 0, uid);
	if (rtx_ssrc && rtx_ssrc != out_ssrc)
		view_refresh(ca, rid, rtx_ssrc, 1, uid);
}

/* Subscriptions of the same receiver that share uid's selection state and SRTP context (simulcast
 * group members): their outputs are rebuilt when uid's context changes or uid goes away. */
static void sub_dirty_followers(struct cmd_apply *ca, uint32_t uid)
{
	const struct sh_sub *u = &ca->U[uid];
	for (uint32_t f = ca->P[u->c.subscriber_id].rsubs; f != NIL; f = ca->U[f].r_next)
		if (f != uid && ca->U[f].c.sel_id == uid)
			shadow_mark_sub_dirty(ca, f);
}

/* Subscription id gets selection state of its own, from nothing (no lcore uses sel[id] now): its
 * target, and its current layers "nothing yet" under a new version, told to the controller. */
static void sel_start(struct cmd_apply *ca, uint32_t id, const struct layer_target *t)
{
	layer_sel_init(&ca->dp->sel[id]);
	layer_sel_set_target(&ca->dp->sel[id], t);
	dp_events_sel_reset(ca->dp, id);
}

static void sub_delete(struct cmd_apply *ca, uint32_t uid)
{
	struct sh_sub *u = &ca->U[uid];
	if (sub_is_vslot(&u->c)) {
		/* the streams on a video slot go with it (they would have no SRTP context or state) */
		uint32_t next;
		for (uint32_t f = ca->P[u->c.subscriber_id].rsubs; f != NIL; f = next) {
			next = ca->U[f].r_next;
			if (f != uid && ca->U[f].c.sel_id == uid)
				sub_delete(ca, f);
		}
	}
	shadow_mark_sub_dirty(ca, uid);
	if (!u->c.topn_slot)
		rx_mark_dirty(ca, u->c.subscriber_id);
	sub_dirty_followers(ca, uid);
	sub_unlink(ca, uid);
	srtp_ctl_retire_out(ca, u->srtp_out);
	u->srtp_out = NULL;
	srtp_ctl_retire_out(ca, u->rtx_out);
	u->rtx_out = NULL;
	shadow_retire(ca, u->repair, sub_repair_free);
	u->repair = NULL;
	shadow_retire(ca, u->topn, slot_topn_free);
	u->topn = NULL;
	u->used = 0;   /* first: the refresh below drops it */
	sub_views_refresh(ca, uid, u->c.subscriber_id, u->c.out_ssrc, u->c.rtx_ssrc);
	u->del_batch = ca->batch;
	ca->need_grace = 1;
	ca->n_u--;
}

/* A leader subscription's repair state (its sequence map): of its stream's kind; a video slot's is
 * video (the streams put on it are). */
static struct sub_repair *sub_repair_make(struct cmd_apply *ca, const struct mmr_cmd_sub *c)
{
	static const struct mmr_cmd_stream video = { .kind = MMR_KIND_VIDEO };
	const struct mmr_cmd_stream *st = sub_is_vslot(c) ? &video : &ca->S[c->stream_id].c;
	return sub_repair_new(ca->dp, c, st, &ca->P[c->subscriber_id].c);
}

static int sub_put(struct cmd_apply *ca, const struct mmr_cmd_sub *in, char *err, size_t errlen)
{
	struct mmr_cmd_sub c = *in;
	if (c.id >= MMR_MAX_SUBS)
		return refuse(err, errlen, "subscription id %u out of range (< %u)", c.id, MMR_MAX_SUBS);
	int slot = c.topn_slot != 0;
	if (c.topn_slot > MMR_TOPN_MAX)
		return refuse(err, errlen, "subscription %u: top-N slot %u out of range (1..%u, 0: none)", c.id,
			      c.topn_slot, MMR_TOPN_MAX);
	if (c.video_slot > MMR_VSLOT_MAX)
		return refuse(err, errlen, "subscription %u: video slot %u out of range (1..%u, 0: none)", c.id,
			      c.video_slot, MMR_VSLOT_MAX);
	if (c.video_slot && slot)
		return refuse(err, errlen, "subscription %u: both a top-N and a video slot", c.id);
	if (!c.video_slot)
		c.slot_gen = 0;
	int vslot = sub_is_vslot(&c);     /* the slot itself (issue 13) */
	if (vslot) {
		if (c.sel_id != c.id)
			return refuse(err, errlen, "subscription %u: a video slot has its own selection state (not %u)",
				      c.id, c.sel_id);
		c.slot_gen = 0;
	} else if (c.video_slot) {
		/* a publisher stream on the slot: a video stream of another participant, the slot's state */
		if (c.stream_id >= MMR_MAX_STREAMS || !ca->S[c.stream_id].used)
			return refuse(err, errlen, "subscription %u: unknown stream %u", c.id, c.stream_id);
		if (ca->S[c.stream_id].c.kind != MMR_KIND_VIDEO)
			return refuse(err, errlen, "subscription %u: stream %u on video slot %u is not video", c.id,
				      c.stream_id, c.video_slot - 1u);
		if (ca->S[c.stream_id].c.participant_id == c.subscriber_id)
			return refuse(err, errlen, "subscription %u: stream %u is the receiver's own", c.id, c.stream_id);
		if (c.slot_gen == 0)
			return refuse(err, errlen, "subscription %u: a stream on a video slot needs its assignment number (1..255)",
				      c.id);
		const struct sh_sub *l = c.sel_id < MMR_MAX_SUBS ? &ca->U[c.sel_id] : NULL;
		if (!l || !l->used || !sub_is_vslot(&l->c) || l->c.subscriber_id != c.subscriber_id ||
		    l->c.video_slot != c.video_slot || l->c.out_ssrc != c.out_ssrc || l->c.rtx_ssrc != c.rtx_ssrc)
			return refuse(err, errlen, "subscription %u: selection state %u is not the receiver's video slot %u with its SSRCs",
				      c.id, c.sel_id, c.video_slot - 1u);
	}
	if (slot) {
		/* an audio slot of the subscriber's meeting: no stream, no layers, no RTX, its own state */
		if (c.stream_id != MMR_ID_NONE)
			return refuse(err, errlen, "subscription %u: a top-N slot subscription names no stream (%u)",
				      c.id, c.stream_id);
		if (c.sel_id != c.id)
			return refuse(err, errlen, "subscription %u: a top-N slot has its own selection state (not %u)",
				      c.id, c.sel_id);
		if (c.rtx_ssrc)
			return refuse(err, errlen, "subscription %u: a top-N slot has no RTX SSRC", c.id);
		c.target_tid = c.target_sid = c.target_dt = c.target_encoding = 0;
		c.priority = MMR_PRIO_NORMAL;
	} else if (!vslot && (c.stream_id >= MMR_MAX_STREAMS || !ca->S[c.stream_id].used)) {
		return refuse(err, errlen, "subscription %u: unknown stream %u", c.id, c.stream_id);
	}
	if (c.priority > MMR_PRIO_PINNED)
		return refuse(err, errlen, "subscription %u: unknown priority %u", c.id, c.priority);
	if (c.subscriber_id >= MMR_MAX_PARTICIPANTS || !ca->P[c.subscriber_id].used)
		return refuse(err, errlen, "subscription %u: unknown subscriber %u", c.id, c.subscriber_id);
	if (c.target_tid >= MMR_MAX_TLAYERS)
		return refuse(err, errlen, "subscription %u: target layer %u out of range (< %u)", c.id,
			      c.target_tid, MMR_MAX_TLAYERS);
	if (c.target_sid >= MEDIA_MAX_SPATIAL)
		return refuse(err, errlen, "subscription %u: target spatial layer %u out of range (< %u)", c.id,
			      c.target_sid, MEDIA_MAX_SPATIAL);
	if (c.target_dt >= AV1_MAX_DT)
		return refuse(err, errlen, "subscription %u: target decode target %u out of range (< %u)", c.id,
			      c.target_dt, AV1_MAX_DT);
	if (c.target_encoding >= MEDIA_MAX_ENCODINGS)
		return refuse(err, errlen, "subscription %u: target encoding %u out of range (< %u)", c.id,
			      c.target_encoding, MEDIA_MAX_ENCODINGS);
	if (c.sel_id >= MMR_MAX_SUBS)
		return refuse(err, errlen, "subscription %u: selection state %u out of range (< %u)", c.id,
			      c.sel_id, MMR_MAX_SUBS);
	if (c.sel_id != c.id && !slot && !c.video_slot) {
		/* shared selection state: only the same receiver's subscription to another stream of the
		 * same simulcast group (same sender, so the same lcore owns both) */
		const struct sh_sub *l = &ca->U[c.sel_id];
		uint32_t g = ca->S[c.stream_id].c.group_id;
		if (!l->used || l->c.subscriber_id != c.subscriber_id || g == MMR_ID_NONE || l->c.stream_id == MMR_ID_NONE ||
		    ca->S[l->c.stream_id].c.group_id != g)
			return refuse(err, errlen, "subscription %u: selection state %u is not the same receiver's subscription to its simulcast group",
				      c.id, c.sel_id);
	}
	if (c.rtx_ssrc && c.rtx_ssrc == c.out_ssrc)
		return refuse(err, errlen, "subscription %u: RTX SSRC 0x%08x is its out SSRC", c.id, c.rtx_ssrc);
	uint32_t mmr_ssrc = ca->P[c.subscriber_id].c.mmr_ssrc;
	if (mmr_ssrc && (c.out_ssrc == mmr_ssrc || c.rtx_ssrc == mmr_ssrc))
		return refuse(err, errlen, "subscription %u: SSRC 0x%08x is the MMR's own RTCP SSRC toward receiver %u",
			      c.id, mmr_ssrc, c.subscriber_id);
	/* an SSRC the receiver sees is one kind: an out SSRC is no other subscription's RTX SSRC toward
	 * it, and the reverse (its view, fwd_sub, names one kind) */
	const struct fwd_sub *v = fwd_sub_lookup(&ca->dp->fwd, c.subscriber_id, c.out_ssrc);
	uint32_t other = v && v->is_rtx ? view_other(v, c.id) : NIL;
	if (other != NIL)
		return refuse(err, errlen, "subscription %u: out SSRC 0x%08x is subscription %u's RTX SSRC toward receiver %u",
			      c.id, c.out_ssrc, other, c.subscriber_id);
	v = c.rtx_ssrc ? fwd_sub_lookup(&ca->dp->fwd, c.subscriber_id, c.rtx_ssrc) : NULL;
	other = v && !v->is_rtx ? view_other(v, c.id) : NIL;
	if (other != NIL)
		return refuse(err, errlen, "subscription %u: RTX SSRC 0x%08x is subscription %u's out SSRC toward receiver %u",
			      c.id, c.rtx_ssrc, other, c.subscriber_id);
	uint32_t pub = slot || vslot ? c.subscriber_id : ca->S[c.stream_id].c.participant_id;
	if (ca->P[pub].c.meeting_id != ca->P[c.subscriber_id].c.meeting_id)
		return refuse(err, errlen, "subscription %u: stream %u (meeting %u) and subscriber %u (meeting %u) are in different meetings",
			      c.id, c.stream_id, ca->P[pub].c.meeting_id, c.subscriber_id,
			      ca->P[c.subscriber_id].c.meeting_id);
	if (ca->P[pub].c.srtp_suite != ca->P[c.subscriber_id].c.srtp_suite)
		return refuse(err, errlen, "subscription %u: publisher %u (SRTP suite %u) and subscriber %u (suite %u) differ in security",
			      c.id, pub, ca->P[pub].c.srtp_suite, c.subscriber_id,
			      ca->P[c.subscriber_id].c.srtp_suite);

	struct sh_sub *u = &ca->U[c.id];
	int same = u->used && u->c.stream_id == c.stream_id && u->c.subscriber_id == c.subscriber_id &&
		   u->c.topn_slot == c.topn_slot && u->c.video_slot == c.video_slot;
	uint32_t mid = ca->P[c.subscriber_id].c.meeting_id;
	if (slot && meeting_ensure(ca, mid) < 0)   /* it has one: its subscriber is in it */
		return refuse(err, errlen, "subscription %u: out of memory", c.id);
	int srtp = ca->P[c.subscriber_id].c.srtp_suite != SRTP_SUITE_NONE;
	/* a new SSRC toward the receiver is a new SRTP stream: a fresh leased context (made before any
	 * change); simulcast followers (sel_id another subscription) use their leader's */
	int leader = c.sel_id == c.id;
	int new_out = srtp && leader && (!same || !u->srtp_out || u->c.out_ssrc != c.out_ssrc);
	int new_rtx = srtp && leader && c.rtx_ssrc && (!same || !u->rtx_out || u->c.rtx_ssrc != c.rtx_ssrc);
	struct srtp_stream *out = NULL, *rtx = NULL;
	/* one (key, SSRC), one index space: no second context toward this receiver */
	for (uint32_t f = ca->P[c.subscriber_id].rsubs; (new_out || new_rtx) && f != NIL; f = ca->U[f].r_next) {
		const struct sh_sub *x = &ca->U[f];
		if (f == c.id)
			continue;
		uint32_t taken = 0;
		if (new_out && ((x->srtp_out && x->c.out_ssrc == c.out_ssrc) ||
				(x->rtx_out && x->c.rtx_ssrc == c.out_ssrc)))
			taken = c.out_ssrc;
		else if (new_rtx && ((x->srtp_out && x->c.out_ssrc == c.rtx_ssrc) ||
				     (x->rtx_out && x->c.rtx_ssrc == c.rtx_ssrc)))
			taken = c.rtx_ssrc;
		else
			continue;
		return refuse(err, errlen, "subscription %u: SSRC 0x%08x is already subscription %u's toward receiver %u (SRTP: one key and SSRC, one index space)",
			      c.id, taken, f, c.subscriber_id);
	}
	if (new_out) {
		int rc = srtp_ctl_sub_out(ca, c.subscriber_id, c.id, c.out_ssrc, &out);
		if (rc < 0)
			return refuse(err, errlen, "subscription %u: %s", c.id, srtp_ctl_strerror(rc));
	}
	if (new_rtx) {
		int rc = srtp_ctl_rtx_out(ca, c.subscriber_id, c.rtx_ssrc, &rtx);
		if (rc < 0) {
			srtp_ctl_free_out(ca, out);
			return refuse(err, errlen, "subscription %u: RTX: %s", c.id, srtp_ctl_strerror(rc));
		}
	}
	if (u->used && !same)
		sub_delete(ca, c.id);   /* a different subscription under the same id */
	const struct layer_target t = { .sid = c.target_sid, .tid = c.target_tid, .dt = c.target_dt,
					.encoding = c.target_encoding };
	if (u->used) {
		u->stamp = ca->stamp;
		int reprio = u->c.priority != c.priority;   /* before u->c changes below */
		int retarget = u->c.target_tid != c.target_tid || u->c.target_sid != c.target_sid ||
			       u->c.target_dt != c.target_dt || u->c.target_encoding != c.target_encoding;
		int drop_rtx = u->rtx_out && (!leader || !c.rtx_ssrc);
		int restructure = u->c.sel_id != c.sel_id || u->c.out_ssrc != c.out_ssrc || new_out ||
				  (!leader && u->srtp_out) || u->c.rtx_ssrc != c.rtx_ssrc || new_rtx || drop_rtx ||
				  u->c.slot_gen != c.slot_gen;
		if (restructure) {
			if (new_out || (!leader && u->srtp_out)) {
				srtp_ctl_retire_out(ca, u->srtp_out);
				u->srtp_out = out;
				srtp_ctl_set_sub_index(ca, c.id, 0);
				sub_dirty_followers(ca, c.id);
			}
			if (new_rtx || drop_rtx) {
				srtp_ctl_retire_out(ca, u->rtx_out);
				u->rtx_out = rtx;
			}
			/* the receiver's sequence map goes with its out SSRC and its leadership */
			if (u->repair && (!leader || u->c.out_ssrc != c.out_ssrc || u->c.sel_id != c.sel_id)) {
				shadow_retire(ca, u->repair, sub_repair_free);
				u->repair = NULL;
			}
			if (leader && !u->repair && !slot)
				u->repair = sub_repair_make(ca, &c);
			/* a slot's output numbering goes with its out SSRC */
			if (slot && u->c.out_ssrc != c.out_ssrc) {
				shadow_retire(ca, u->topn, slot_topn_free);
				u->topn = slot_topn_new(ca->dp, &c);
			}
			if (u->c.sel_id != c.sel_id && c.sel_id == c.id)
				sel_start(ca, c.id, &t);   /* it leaves a group: its own state */
			struct mmr_cmd_sub was = u->c;
			u->c = c;
			sub_dirty_followers(ca, c.id);   /* they copy its RTX SSRC and repair state */
			shadow_mark_sub_dirty(ca, c.id);
			if (!slot)
				rx_mark_dirty(ca, c.subscriber_id);
			sub_views_refresh(ca, c.id, c.subscriber_id, was.out_ssrc, was.rtx_ssrc);
			sub_views_refresh(ca, c.id, c.subscriber_id, c.out_ssrc, c.rtx_ssrc);
		}
		if (retarget) {
			/* the target is a word in the selection state, read per packet by the lcore that
			 * owns it: no new output array, no grace period; the state is kept, and the new
			 * target applies at the next valid switching point */
			u->c = c;
			layer_sel_set_target(&ca->dp->sel[c.sel_id], &t);
			if (!restructure)
				ca->dp->shm->stats.ctl.target_updates++;
		}
		if (reprio) {
			/* the allocator's order: the receiver's rx_subs say it */
			u->c = c;
			rx_mark_dirty(ca, c.subscriber_id);
		}
		return 0;
	}
	if (u->del_batch == ca->batch)
		flush(ca);
	if (c.sel_id == c.id)
		sel_start(ca, c.id, &t);
	else   /* a simulcast member shares its sel_id subscription's state and target */
		layer_sel_set_target(&ca->dp->sel[c.sel_id], &t);
	srtp_ctl_set_sub_index(ca, c.id, 0);
	u->used = 1;
	u->c = c;
	u->srtp_out = out;
	u->rtx_out = rtx;
	u->repair = leader && !slot ? sub_repair_make(ca, &c) : NULL;
	u->topn = slot ? slot_topn_new(ca->dp, &c) : NULL;
	u->stamp = ca->stamp;
	sub_link(ca, c.id);
	shadow_mark_sub_dirty(ca, c.id);
	if (!slot)
		rx_mark_dirty(ca, c.subscriber_id);
	sub_views_refresh(ca, c.id, c.subscriber_id, c.out_ssrc, c.rtx_ssrc);
	ca->n_u++;
	if (c.id >= ca->u_hw)
		ca->u_hw = c.id + 1;
	return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Streams
 */

static struct fwd_stream *stream_node_new(const struct mmr_cmd_stream *c, struct fwd_outputs *outs,
					  struct fwd_srtp_in *srtp_in, struct av1_dd_structure *av1,
					  struct stream_repair *repair)
{
	struct fwd_stream *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->participant_id = c->participant_id;
	n->ssrc = c->ssrc;
	n->id = c->id;
	n->kind = c->kind;
	n->codec = c->codec;
	n->layers = c->temporal_layers;
	n->spatial = c->spatial_layers;
	n->simulcast = c->group_id != MMR_ID_NONE;
	n->encoding = c->group_id == MMR_ID_NONE ? 0 : c->encoding;
	n->dd_ext_id = c->dd_ext_id;
	n->outputs = outs;
	n->srtp_in = srtp_in;
	n->av1 = av1;
	n->rtx_ssrc = c->rtx_ssrc;
	n->rtx_pt = c->rtx_pt;
	n->clock_hz = c->clock_hz;
	n->media = n;
	n->repair = repair;
	n->screen = c->screen;
	return n;
}

/* The issue-12 fields of stream sid's node n, from its shadow. */
static void stream_node_qos(const struct cmd_apply *ca, uint32_t sid, struct fwd_stream *n)
{
	const struct sh_stream *s = &ca->S[sid];
	n->meeting = ca->P[s->c.participant_id].c.meeting_id;
	n->rate = s->rate;
	n->speaker = s->speaker;
}

/* Stream c's rate meter (video) or speaker state (audio) in *rate, *speaker: kept from the shadow s
 * when keep, else new (hooks). */
static void stream_qos_state(struct cmd_apply *ca, const struct mmr_cmd_stream *c, const struct sh_stream *s,
			     int keep, struct layer_rate **rate, struct ds_speaker **speaker)
{
	*rate = keep ? s->rate : NULL;
	*speaker = keep ? s->speaker : NULL;
	if (!keep && c->kind == MMR_KIND_VIDEO)
		*rate = stream_layer_rate_new(ca->dp, c);
	if (!keep && c->kind == MMR_KIND_AUDIO)
		*speaker = stream_speaker_new(ca->dp, c);
}

/* Every receiver of stream sid: its rx_subs (the stream's kind, shape, screen flag or rate meter
 * changed). */
static void stream_rx_dirty(struct cmd_apply *ca, uint32_t sid)
{
	for (uint32_t u = ca->S[sid].subs; u != NIL; u = ca->U[u].s_next)
		rx_mark_dirty(ca, ca->U[u].c.subscriber_id);
}

/* The node of stream sid's RTX SSRC as its shadow says now: made, replaced (its media node was),
 * or removed. A key another stream holds stays that stream's. */
static void rtx_refresh(struct cmd_apply *ca, uint32_t sid)
{
	struct sh_stream *s = &ca->S[sid];
	struct fwd_stream *old = s->rtx_node;
	int want = s->used && s->node && s->c.rtx_ssrc;
	if (old && (!want || old->ssrc != s->c.rtx_ssrc || old->participant_id != s->c.participant_id)) {
		fwd_stream_unpublish(&ca->dp->fwd, old);
		retire(ca, old);
		s->rtx_node = old = NULL;
	}
	if (!want || (old && old->media == s->node && old->srtp_in == s->rtx_srtp_in))
		return;
	struct fwd_stream *n = malloc(sizeof(*n));
	if (!n) {
		dp_log("stream %u: out of memory for its RTX node; RTX from its publisher is dropped", sid);
		if (old) {   /* it must not outlive the media node it points at */
			fwd_stream_unpublish(&ca->dp->fwd, old);
			retire(ca, old);
			s->rtx_node = NULL;
		}
		return;
	}
	*n = *s->node;
	n->ssrc = s->c.rtx_ssrc;
	n->is_rtx = 1;
	n->outputs = NULL;
	n->av1 = NULL;
	n->repair = NULL;
	n->srtp_in = s->rtx_srtp_in;
	n->media = s->node;
	if (old) {
		retire(ca, fwd_stream_publish(&ca->dp->fwd, n));   /* replaces old: same key */
	} else {
		struct fwd_stream *got = fwd_stream_publish_unique(&ca->dp->fwd, n);
		if (got) {
			dp_log("stream %u: its RTX SSRC %u is stream %u's%s; RTX from it is dropped", sid, n->ssrc,
			       got->id, got->is_rtx ? " RTX" : "");
			free(n);
			return;
		}
	}
	s->rtx_node = n;
}

/* Put node n (of stream sid) into the table; whoever held the key becomes shadowed. */
static void stream_install(struct cmd_apply *ca, uint32_t sid, struct fwd_stream *n)
{
	struct fwd_stream *old = fwd_stream_publish(&ca->dp->fwd, n);
	ca->S[sid].node = n;
	if (old && old->is_rtx) {
		/* a media stream takes the key from another stream's RTX SSRC */
		ca->S[old->id].rtx_node = NULL;
		dp_log("stream %u takes participant %u SSRC %u from stream %u's RTX", sid, n->participant_id,
		       n->ssrc, old->id);
		retire(ca, old);
		old = NULL;
	}
	if (old) {
		if (old->id != sid) {
			ca->S[old->id].node = NULL;
			stream_meeting_dirty(ca, &ca->S[old->id].c);   /* unreachable now */
			ca->n_shadowed_s++;
			dp_log("stream %u takes participant %u SSRC %u from stream %u", sid, n->participant_id,
			       n->ssrc, old->id);
			rtx_refresh(ca, old->id);   /* its RTX node pointed at the node it lost */
		}
		retire(ca, old);
	}
	rtx_refresh(ca, sid);
}

/* Its publisher or SSRC changed: the views of its subscriptions name it by them. */
static void stream_views_refresh(struct cmd_apply *ca, uint32_t sid)
{
	for (uint32_t u = ca->S[sid].subs; u != NIL; u = ca->U[u].s_next)
		sub_views_refresh(ca, u, ca->U[u].c.subscriber_id, ca->U[u].c.out_ssrc, ca->U[u].c.rtx_ssrc);
}

/* The holder of (participant, ssrc) went away: give the key to a shadowed stream, if any. */
static void stream_restore_shadowed(struct cmd_apply *ca, uint32_t participant_id, uint32_t ssrc)
{
	if (ca->n_shadowed_s == 0)
		return;
	for (uint32_t i = 0; i < ca->s_hw; i++) {
		struct sh_stream *r = &ca->S[i];
		if (!r->used || r->node || r->c.participant_id != participant_id || r->c.ssrc != ssrc)
			continue;
		struct fwd_stream *n = stream_node_new(&r->c, r->outputs, r->srtp_in, r->av1, r->repair);
		if (!n) {
			dp_log("stream %u: out of memory restoring it", i);
			return;
		}
		stream_node_qos(ca, i, n);
		stream_install(ca, i, n);
		ca->n_shadowed_s--;
		shadow_mark_dirty(ca, i);
		stream_meeting_dirty(ca, &r->c);
		return;
	}
}

static void stream_delete(struct cmd_apply *ca, uint32_t sid)
{
	struct sh_stream *s = &ca->S[sid];
	uint32_t next;
	for (uint32_t u = s->subs; u != NIL; u = next) {
		next = ca->U[u].s_next;
		sub_delete(ca, u);
	}
	stream_unlink(ca, sid);
	stream_meeting_dirty(ca, &s->c);
	s->used = 0;
	s->del_batch = ca->batch;
	ca->need_grace = 1;
	rtx_refresh(ca, sid);   /* used = 0: its RTX node goes */
	if (s->node) {
		struct fwd_stream *old = s->node;
		fwd_stream_unpublish(&ca->dp->fwd, old);
		s->node = NULL;
		retire(ca, old);
		stream_restore_shadowed(ca, old->participant_id, old->ssrc);
	} else {
		ca->n_shadowed_s--;
	}
	retire(ca, s->outputs);
	s->outputs = NULL;
	srtp_ctl_retire_in(ca, s->srtp_in);
	s->srtp_in = NULL;
	retire(ca, s->av1);
	s->av1 = NULL;
	srtp_ctl_retire_in(ca, s->rtx_srtp_in);
	s->rtx_srtp_in = NULL;
	shadow_retire(ca, s->repair, stream_repair_free);
	s->repair = NULL;
	shadow_retire(ca, s->rate, stream_layer_rate_free);
	s->rate = NULL;
	shadow_retire(ca, s->speaker, stream_speaker_free);
	s->speaker = NULL;
	ca->n_s--;
}

static int stream_put(struct cmd_apply *ca, const struct mmr_cmd_stream *in, char *err, size_t errlen)
{
	struct mmr_cmd_stream c = *in;
	if (c.id >= MMR_MAX_STREAMS)
		return refuse(err, errlen, "stream id %u out of range (< %u)", c.id, MMR_MAX_STREAMS);
	if (c.participant_id >= MMR_MAX_PARTICIPANTS || !ca->P[c.participant_id].used)
		return refuse(err, errlen, "stream %u: unknown participant %u", c.id, c.participant_id);
	if (c.kind != MMR_KIND_AUDIO && c.kind != MMR_KIND_VIDEO)
		return refuse(err, errlen, "stream %u: unknown kind %u", c.id, c.kind);
	if (c.codec < MMR_CODEC_OPUS || c.codec > MMR_CODEC_H264)
		return refuse(err, errlen, "stream %u: unknown codec %u", c.id, c.codec);
	if ((c.kind == MMR_KIND_AUDIO) != (c.codec == MMR_CODEC_OPUS))
		return refuse(err, errlen, "stream %u: codec %u does not go with kind %u", c.id, c.codec, c.kind);
	if (c.temporal_layers < 1 || c.temporal_layers > MMR_MAX_TLAYERS)
		return refuse(err, errlen, "stream %u: temporal layers %u out of range 1..%u", c.id,
			      c.temporal_layers, MMR_MAX_TLAYERS);
	if (c.spatial_layers == 0)
		c.spatial_layers = 1;   /* a version 3 sender never set it */
	if (c.spatial_layers > MEDIA_MAX_SPATIAL)
		return refuse(err, errlen, "stream %u: spatial layers %u out of range 1..%u", c.id,
			      c.spatial_layers, MEDIA_MAX_SPATIAL);
	if (c.group_id != MMR_ID_NONE && (c.group_id >= MMR_MAX_STREAMS || c.encoding >= MEDIA_MAX_ENCODINGS ||
					  c.kind != MMR_KIND_VIDEO))
		return refuse(err, errlen, "stream %u: bad simulcast group %u encoding %u", c.id, c.group_id,
			      c.encoding);
	if (c.group_id == MMR_ID_NONE)
		c.encoding = 0;
	if (c.codec == MMR_CODEC_AV1 && c.dd_ext_id == 0)
		return refuse(err, errlen, "stream %u: AV1 needs the Dependency Descriptor's extension id", c.id);
	if (c.codec != MMR_CODEC_AV1)
		c.dd_ext_id = 0;
	if (c.clock_hz == 0)
		c.clock_hz = c.kind == MMR_KIND_VIDEO ? MMR_CLOCK_VIDEO_HZ : MMR_CLOCK_AUDIO_HZ;
	if (c.clock_hz < 1000 || c.clock_hz > 1000000)
		return refuse(err, errlen, "stream %u: clock rate %u Hz out of range 1000..1000000", c.id, c.clock_hz);
	if (c.rtx_ssrc == 0 && c.rtx_pt != 0)
		return refuse(err, errlen, "stream %u: RTX payload type %u without an RTX SSRC", c.id, c.rtx_pt);
	if (c.rtx_ssrc != 0 && (c.rtx_pt == 0 || c.rtx_pt > 127))
		return refuse(err, errlen, "stream %u: RTX payload type %u out of range 1..127", c.id, c.rtx_pt);
	if (c.rtx_ssrc != 0 && c.rtx_ssrc == c.ssrc)
		return refuse(err, errlen, "stream %u: RTX SSRC %u is its media SSRC", c.id, c.ssrc);
	if (c.screen > 1)
		return refuse(err, errlen, "stream %u: screen %u is not 0 or 1", c.id, c.screen);
	if (c.screen && c.kind != MMR_KIND_VIDEO)
		return refuse(err, errlen, "stream %u: only a video stream is a screen share", c.id);

	struct sh_stream *s = &ca->S[c.id];
	if (s->used) {
		int same_key = s->c.participant_id == c.participant_id && s->c.ssrc == c.ssrc;
		int same_attr = s->c.kind == c.kind && s->c.codec == c.codec &&
				s->c.temporal_layers == c.temporal_layers &&
				s->c.spatial_layers == c.spatial_layers && s->c.group_id == c.group_id &&
				s->c.encoding == c.encoding && s->c.dd_ext_id == c.dd_ext_id &&
				s->c.rtx_ssrc == c.rtx_ssrc && s->c.rtx_pt == c.rtx_pt && s->c.clock_hz == c.clock_hz &&
				s->c.screen == c.screen;
		s->stamp = ca->stamp;
		if (same_key && same_attr && s->node)
			return 0;   /* identical */
		/* AV1 state: kept while it stays the same AV1 stream */
		struct av1_dd_structure *av1 = s->av1;
		int new_av1 = c.codec == MMR_CODEC_AV1 && (!av1 || !same_key);
		if (new_av1 && !(av1 = calloc(1, sizeof(*av1))))
			return refuse(err, errlen, "stream %u: out of memory", c.id);
		if (c.codec != MMR_CODEC_AV1)
			av1 = NULL;
		/* another publisher or SSRC: inbound SRTP contexts of its own */
		struct fwd_srtp_in *sin = s->srtp_in;
		int rc = same_key ? 0 : srtp_ctl_stream_in(ca, c.participant_id, &c, &sin);
		if (rc < 0) {
			if (new_av1)
				free(av1);
			return refuse(err, errlen, "stream %u: %s", c.id, srtp_ctl_strerror(rc));
		}
		/* its RTX SSRC's inbound contexts: new when the RTX SSRC or the publisher changes */
		struct fwd_srtp_in *rtx_in = s->rtx_srtp_in;
		if (!c.rtx_ssrc)
			rtx_in = NULL;
		else if (!rtx_in || s->c.rtx_ssrc != c.rtx_ssrc || s->c.participant_id != c.participant_id)
			rc = srtp_ctl_rtx_in(ca, c.participant_id, &c, &rtx_in);
		/* repair state: new for another publisher, SSRC, kind or clock */
		int new_repair = !same_key || s->c.kind != c.kind || s->c.clock_hz != c.clock_hz ||
				 s->c.rtx_ssrc != c.rtx_ssrc;
		struct fwd_stream *n = rc < 0 ? NULL : stream_node_new(&c, s->outputs, sin, av1, s->repair);
		if (!n) {
			if (sin != s->srtp_in)
				srtp_ctl_free_in(ca, sin);
			if (rc == 0 && rtx_in != s->rtx_srtp_in)
				srtp_ctl_free_in(ca, rtx_in);
			if (new_av1)
				free(av1);
			return refuse(err, errlen, "stream %u: %s", c.id,
				      rc < 0 ? srtp_ctl_strerror(rc) : "out of memory");
		}
		if (rtx_in != s->rtx_srtp_in) {
			srtp_ctl_retire_in(ca, s->rtx_srtp_in);
			s->rtx_srtp_in = rtx_in;
		}
		if (new_repair) {
			shadow_retire(ca, s->repair, stream_repair_free);
			s->repair = n->repair = stream_repair_new(ca->dp, &c);
		}
		/* rate meter / speaker state: kept while it stays the same stream of the same kind */
		int keep_qos = same_key && s->c.kind == c.kind;
		if (!keep_qos) {
			struct layer_rate *rate;
			struct ds_speaker *speaker;
			stream_qos_state(ca, &c, s, 0, &rate, &speaker);
			shadow_retire(ca, s->rate, stream_layer_rate_free);
			shadow_retire(ca, s->speaker, stream_speaker_free);
			s->rate = rate;
			s->speaker = speaker;
		}
		stream_meeting_dirty(ca, &s->c);   /* the old kind and publisher's meeting */
		if (av1 != s->av1) {
			retire(ca, s->av1);
			s->av1 = av1;
		}
		if (sin != s->srtp_in) {
			srtp_ctl_retire_in(ca, s->srtp_in);
			s->srtp_in = sin;
			srtp_ctl_set_stream_index(ca, c.id, 0);
		}
		struct fwd_stream *old = s->node;
		if (!old)
			ca->n_shadowed_s--;
		if (s->c.participant_id != c.participant_id) {
			stream_unlink(ca, c.id);
			s->c = c;
			stream_link(ca, c.id);
		}
		struct mmr_cmd_stream was = s->c;
		s->c = c;
		stream_node_qos(ca, c.id, n);
		stream_meeting_dirty(ca, &c);
		stream_rx_dirty(ca, c.id);
		stream_install(ca, c.id, n);   /* retires old if it had the same key */
		if (old && !same_key) {
			fwd_stream_unpublish(&ca->dp->fwd, old);
			retire(ca, old);
			stream_restore_shadowed(ca, old->participant_id, old->ssrc);
		}
		if (!same_key || was.group_id != c.group_id || was.encoding != c.encoding)
			stream_views_refresh(ca, c.id);
		return 0;
	}

	if (s->del_batch == ca->batch)
		flush(ca);
	struct fwd_srtp_in *sin, *rtx_in = NULL;
	int rc = srtp_ctl_stream_in(ca, c.participant_id, &c, &sin);
	if (rc < 0)
		return refuse(err, errlen, "stream %u: %s", c.id, srtp_ctl_strerror(rc));
	if ((rc = srtp_ctl_rtx_in(ca, c.participant_id, &c, &rtx_in)) < 0) {
		srtp_ctl_free_in(ca, sin);
		return refuse(err, errlen, "stream %u: RTX: %s", c.id, srtp_ctl_strerror(rc));
	}
	struct av1_dd_structure *av1 = NULL;
	if (c.codec == MMR_CODEC_AV1 && !(av1 = calloc(1, sizeof(*av1)))) {
		srtp_ctl_free_in(ca, sin);
		srtp_ctl_free_in(ca, rtx_in);
		return refuse(err, errlen, "stream %u: out of memory", c.id);
	}
	struct fwd_stream *n = stream_node_new(&c, NULL, sin, av1, NULL);
	if (!n) {
		srtp_ctl_free_in(ca, sin);
		srtp_ctl_free_in(ca, rtx_in);
		free(av1);
		return refuse(err, errlen, "stream %u: out of memory", c.id);
	}
	n->repair = stream_repair_new(ca->dp, &c);
	memset(&ca->dp->shm->stats.stream[c.id], 0, sizeof(ca->dp->shm->stats.stream[c.id]));
	if (sin)
		srtp_ctl_set_stream_index(ca, c.id, 0);
	s->used = 1;
	s->c = c;
	s->stamp = ca->stamp;
	s->subs = NIL;
	s->outputs = NULL;
	s->srtp_in = sin;
	s->av1 = av1;
	s->rtx_srtp_in = rtx_in;
	s->rtx_node = NULL;
	s->repair = n->repair;
	stream_qos_state(ca, &c, s, 0, &s->rate, &s->speaker);
	stream_link(ca, c.id);
	stream_node_qos(ca, c.id, n);
	stream_install(ca, c.id, n);
	stream_meeting_dirty(ca, &c);
	ca->n_s++;
	if (c.id >= ca->s_hw)
		ca->s_hw = c.id + 1;
	return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Participants
 */

/* A node of participant c; its SRTP and RTCP state pointers are the shadow's p (set again by the
 * caller where a command replaces them). */
static struct fwd_participant *participant_node_new(const struct mmr_cmd_participant *c,
						    const struct sh_participant *p)
{
	struct fwd_participant *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->addr = c->addr;
	n->udp_port = c->udp_port;
	n->id = c->id;
	n->meeting = c->meeting_id;
	n->srtp = c->srtp_suite;
	n->rtcp_in = p->rtcp_in;
	n->fb = c->fb;
	n->mmr_ssrc = c->mmr_ssrc;
	memcpy(n->rtx_map, c->rtx_map, sizeof(n->rtx_map));
	n->rtcp_out = p->rtcp_out;
	n->rtcp = p->rtcp;
	n->twcc_ext_id = c->twcc_ext_id;
	n->abs_ext_id = c->abs_ext_id;
	n->level_ext_id = c->level_ext_id;
	n->mid_ext_id = c->mid_ext_id;
	n->rid_ext_id = c->rid_ext_id;
	n->rrid_ext_id = c->rrid_ext_id;
	n->n_learn = c->n_learn;
	memcpy(n->learn, c->learn, sizeof(n->learn));
	n->bwe = p->bwe;
	n->uplink = p->uplink;
	n->rx_subs = p->rx_subs;
	return n;
}

/* Does participant c get a downlink estimate (it sends TWCC feedback or REMB)? */
static int wants_bwe(const struct mmr_cmd_participant *c)
{
	return (c->fb & (MMR_FB_TWCC | MMR_FB_REMB)) != 0;
}

/* Does participant c get feedback from us as a publisher (it may publish, with the transport-wide
 * sequence extension or REMB)? */
static int wants_uplink(const struct mmr_cmd_participant *c)
{
	return c->role != MMR_ROLE_RECVONLY && (c->twcc_ext_id != 0 || (c->fb & MMR_FB_REMB));
}

/* Check the header extension ids of a PARTICIPANT_PUT (issue 12): 0 (none) or 1..255, and two
 * extensions never share an id. The one-byte form's 1..14 limit is the controller's to enforce
 * (it knows what the client negotiated); 15 is reserved in the one-byte form only. */
static int ext_check(struct mmr_cmd_participant *c, char *err, size_t errlen)
{
	const uint8_t id[6] = { c->twcc_ext_id, c->abs_ext_id, c->level_ext_id, c->mid_ext_id, c->rid_ext_id,
				c->rrid_ext_id };
	for (unsigned i = 0; i < 6; i++)
		for (unsigned j = 0; j < i; j++)
			if (id[i] && id[i] == id[j])
				return refuse(err, errlen, "participant %u: two header extensions share the id %u", c->id,
					      id[i]);
	if ((c->fb & MMR_FB_TWCC) && !c->twcc_ext_id)
		return refuse(err, errlen, "participant %u: TWCC feedback without the transport-wide sequence extension id",
			      c->id);
	if ((c->fb & MMR_FB_REMB) && !c->abs_ext_id)
		return refuse(err, errlen, "participant %u: REMB without the abs-send-time extension id", c->id);
	/* SSRC learning (version 14): pending streams need the mid extension; unused entries zeroed */
	if (c->n_learn > MMR_LEARN_MAX)
		return refuse(err, errlen, "participant %u: %u streams to learn (at most %u)", c->id, c->n_learn,
			      MMR_LEARN_MAX);
	if (c->n_learn && !c->mid_ext_id)
		return refuse(err, errlen, "participant %u: streams to learn without the mid extension id", c->id);
	for (unsigned i = 0; i < c->n_learn; i++) {
		struct mmr_learn *e = &c->learn[i];
		if (e->stream_id >= MMR_MAX_STREAMS || !(e->need & (MMR_LEARN_MEDIA | MMR_LEARN_RTX)) ||
		    e->mid_len < 1 || e->mid_len > MMR_MID_MAX || e->rid_len > MMR_MID_MAX)
			return refuse(err, errlen, "participant %u: bad stream %u to learn (need %u, mid %u bytes: 1..%u, "
				      "rid %u: 0..%u)", c->id, e->stream_id, e->need, e->mid_len, MMR_MID_MAX, e->rid_len,
				      MMR_MID_MAX);
		/* entries no packet can ever match (lib/pkt/ssrc_learn.h): a media SSRC by rid needs
		 * the rid extension; an RTX SSRC is found by repaired-rid, which names a rid */
		if ((e->need & MMR_LEARN_MEDIA) && e->rid_len && !c->rid_ext_id)
			return refuse(err, errlen, "participant %u: stream %u to learn by rid '%.*s' without the rid "
				      "extension id", c->id, e->stream_id, (int)e->rid_len, e->rid);
		if ((e->need & MMR_LEARN_RTX) && (!e->rid_len || !c->rrid_ext_id))
			return refuse(err, errlen, "participant %u: stream %u's RTX SSRC to learn needs %s", c->id,
				      e->stream_id, !e->rid_len ? "a rid (repaired-rid names one)" :
				      "the repaired-rid extension id");
		for (unsigned k = 0; k < i; k++)
			if (c->learn[k].mid_len == e->mid_len && c->learn[k].rid_len == e->rid_len &&
			    !memcmp(c->learn[k].mid, e->mid, e->mid_len) && !memcmp(c->learn[k].rid, e->rid, e->rid_len))
				return refuse(err, errlen, "participant %u: streams %u and %u to learn both by mid '%.*s' "
					      "rid '%.*s'", c->id, c->learn[k].stream_id, e->stream_id, (int)e->mid_len,
					      e->mid, (int)e->rid_len, e->rid);
		e->need &= MMR_LEARN_MEDIA | MMR_LEARN_RTX;
		e->pad = 0;
		memset(e->mid + e->mid_len, 0, MMR_MID_MAX - e->mid_len);
		memset(e->rid + e->rid_len, 0, MMR_MID_MAX - e->rid_len);
	}
	memset(c->learn + c->n_learn, 0, (MMR_LEARN_MAX - c->n_learn) * sizeof(c->learn[0]));
	return 0;
}

/* Check and normalise the RTCP part of a PARTICIPANT_PUT: known feedback flags, a well-formed RTX
 * map (unused pairs {0, 0}; MMR_FB_RTX set exactly when a pair is used). 0, or -1 with err. */
static int rtcp_check(struct mmr_cmd_participant *c, char *err, size_t errlen)
{
	if (c->fb & ~MMR_FB_ALL)
		return refuse(err, errlen, "participant %u: unknown feedback flags 0x%02x", c->id,
			      c->fb & ~MMR_FB_ALL);
	int any = 0;
	for (unsigned i = 0; i < MMR_RTX_MAP_MAX; i++) {
		const struct mmr_rtx_pt *m = &c->rtx_map[i];
		if (m->apt == 0 && m->pt == 0)
			continue;
		if (m->apt > 127 || m->pt == 0 || m->pt > 127 || m->pt == m->apt)
			return refuse(err, errlen, "participant %u: bad RTX payload types %u:%u (media 0..127, RTX 1..127, different)",
				      c->id, m->apt, m->pt);
		for (unsigned j = 0; j < i; j++)
			if ((c->rtx_map[j].apt || c->rtx_map[j].pt) &&
			    (c->rtx_map[j].apt == m->apt || c->rtx_map[j].pt == m->pt))
				return refuse(err, errlen, "participant %u: RTX payload types %u:%u and %u:%u overlap",
					      c->id, c->rtx_map[j].apt, c->rtx_map[j].pt, m->apt, m->pt);
		any = 1;
	}
	c->fb = (uint8_t)((c->fb & ~MMR_FB_RTX) | (any ? MMR_FB_RTX : 0));
	return 0;
}

/* Its packets to its meeting owner's queue, where the port can steer (steer.h); only the holder of
 * an (address, port) key has a rule. */
static void participant_steer(struct cmd_apply *ca, uint32_t pid)
{
	const struct sh_participant *p = &ca->P[pid];
	if (!p->used || !p->node || !p->c.udp_port)   /* an ICE participant without an address */
		return;
	steer_participant(ca->steer, pid, &p->c.addr, p->c.udp_port, p->c.dp_port,
			  ca->dp->owner[p->c.meeting_id] & MMR_OWNER_INDEX);
}

static void participant_install(struct cmd_apply *ca, uint32_t pid, struct fwd_participant *n)
{
	struct fwd_participant *old = fwd_participant_publish(&ca->dp->fwd, n);
	ca->P[pid].node = n;
	if (!old)
		return;
	if (old->id != pid) {
		steer_remove(ca->steer, old->id);     /* the key is pid's now */
		char a[64];
		ca->P[old->id].node = NULL;
		ca->n_shadowed_p++;
		if (n->udp_port)   /* (ICE participants without an address all share port 0) */
			dp_log("participant %u takes address %s port %u from participant %u", pid,
		       mmr_addr_format(&n->addr, a, sizeof(a)), n->udp_port, old->id);
	}
	retire(ca, old);
}

static void participant_restore_shadowed(struct cmd_apply *ca, const struct mmr_addr *addr,
					 uint16_t udp_port)
{
	if (ca->n_shadowed_p == 0)
		return;
	for (uint32_t i = 0; i < ca->p_hw; i++) {
		struct sh_participant *q = &ca->P[i];
		if (!q->used || q->node || q->c.udp_port != udp_port || !mmr_addr_eq(&q->c.addr, addr))
			continue;
		struct fwd_participant *n = participant_node_new(&q->c, q);
		if (!n) {
			dp_log("participant %u: out of memory restoring it", i);
			return;
		}
		participant_install(ca, i, n);
		ca->n_shadowed_p--;
		participant_steer(ca, i);
		return;
	}
}

/* Its address, port or MAC changed: rebuild the outputs of everything it receives. */
static void participant_dirty_outputs(struct cmd_apply *ca, uint32_t pid)
{
	for (uint32_t u = ca->P[pid].rsubs; u != NIL; u = ca->U[u].r_next)
		shadow_mark_sub_dirty(ca, u);
}

static void participant_delete(struct cmd_apply *ca, uint32_t pid)
{
	struct sh_participant *p = &ca->P[pid];
	uint32_t next;
	for (uint32_t u = p->rsubs; u != NIL; u = next) {
		next = ca->U[u].r_next;
		sub_delete(ca, u);
	}
	for (uint32_t s = p->streams; s != NIL; s = next) {
		next = ca->S[s].p_next;
		stream_delete(ca, s);
	}
	p->used = 0;
	dp_neigh_unref(p->neigh);
	p->neigh = 0;
	ca->need_grace = 1;
	/* its rule goes before a shadowed participant with the same 5-tuple gets one: a port that
	 * refuses the duplicate would lose steering altogether (steer.h) */
	steer_remove(ca->steer, pid);
	if (p->node) {
		struct fwd_participant *old = p->node;
		fwd_participant_unpublish(&ca->dp->fwd, old);
		p->node = NULL;
		retire(ca, old);
		participant_restore_shadowed(ca, &old->addr, old->udp_port);
	} else {
		ca->n_shadowed_p--;
	}
	srtp_ctl_participant_fini(ca, pid);
	dp_ice_del(ca, pid);
	dp_dtls_del(pid);
	shadow_retire(ca, p->rtcp, part_rtcp_free);
	p->rtcp = NULL;
	shadow_retire(ca, p->bwe, part_bwe_free);
	p->bwe = NULL;
	shadow_retire(ca, p->uplink, part_uplink_free);
	p->uplink = NULL;
	retire(ca, p->rx_subs);
	p->rx_subs = NULL;
	meeting_leave(ca, pid);
	meeting_owner_leave(ca->mo, p->c.meeting_id);
	__atomic_store_n(&ca->dp->block[pid], 0, __ATOMIC_RELEASE);   /* the id may serve another */
	ca->n_p--;
}

/* The neighbour entry participant pid's copies go to (neigh.h), from its configuration as put: a
 * reference on the new one, the old one's dropped (participant_delete drops it too). */
static void participant_neigh(struct cmd_apply *ca, uint32_t pid)
{
	struct sh_participant *p = &ca->P[pid];
	uint16_t n = p->used && !p->c.has_mac && p->c.udp_port ? dp_neigh_ref(p->c.dp_port, &p->c.addr) : 0;
	dp_neigh_unref(p->neigh);
	p->neigh = n;
}

static int participant_put_one(struct cmd_apply *ca, const struct mmr_cmd_participant *in, char *err,
			       size_t errlen);

static int participant_put(struct cmd_apply *ca, const struct mmr_cmd_participant *in, char *err,
			   size_t errlen)
{
	int rc = participant_put_one(ca, in, err, errlen);
	if (rc == 0 && in->id < MMR_MAX_PARTICIPANTS)
		participant_neigh(ca, in->id);
	return rc;
}

static int participant_put_one(struct cmd_apply *ca, const struct mmr_cmd_participant *in, char *err,
			       size_t errlen)
{
	struct mmr_cmd_participant c = *in;
	struct dataplane *dp = ca->dp;

	if (c.id >= MMR_MAX_PARTICIPANTS)
		return refuse(err, errlen, "participant id %u out of range (< %u)", c.id, MMR_MAX_PARTICIPANTS);
	if (c.meeting_id >= MMR_MAX_MEETINGS)
		return refuse(err, errlen, "participant %u: meeting id %u out of range (< %u)", c.id, c.meeting_id,
			      MMR_MAX_MEETINGS);
	memset(c.addr.pad, 0, sizeof(c.addr.pad));
	if (c.addr.family == MMR_AF_INET)
		memset(c.addr.ip + 4, 0, 12);
	else if (c.addr.family != MMR_AF_INET6)
		return refuse(err, errlen, "participant %u: unknown address family %u", c.id, c.addr.family);
	if (c.ice) {
		if (c.ice_ufrag_len < MMR_ICE_UFRAG_MIN || c.ice_ufrag_len > MMR_ICE_UFRAG_MAX ||
		    c.ice_pwd_len < MMR_ICE_PWD_MIN || c.ice_pwd_len > MMR_ICE_PWD_MAX)
			return refuse(err, errlen, "participant %u: ICE ufrag or pwd length out of range", c.id);
		c.ice = 1;
		memset(c.ice_ufrag + c.ice_ufrag_len, 0, MMR_ICE_UFRAG_MAX - c.ice_ufrag_len);
		memset(c.ice_pwd + c.ice_pwd_len, 0, MMR_ICE_PWD_MAX - c.ice_pwd_len);
	} else {
		c.ice_ufrag_len = c.ice_pwd_len = 0;
		memset(c.ice_ufrag, 0, sizeof(c.ice_ufrag));
		memset(c.ice_pwd, 0, sizeof(c.ice_pwd));
	}
	if (c.udp_port == 0 && !c.ice)
		return refuse(err, errlen, "participant %u: UDP port 0", c.id);
	if (c.dp_port >= dp->n_ports)
		return refuse(err, errlen, "participant %u: dataplane port %u out of range (< %u)", c.id,
			      c.dp_port, dp->n_ports);
	const struct dp_port *port = &dp->port[c.dp_port];
	if (c.addr.family == MMR_AF_INET && !port->has_ipv4)
		return refuse(err, errlen, "participant %u: port %u has no IPv4 address", c.id, c.dp_port);
	if (c.addr.family == MMR_AF_INET6 && !port->has_ipv6)
		return refuse(err, errlen, "participant %u: port %u has no IPv6 address", c.id, c.dp_port);
	c.has_mac = c.has_mac ? 1 : 0;
	if (!c.has_mac) {
		memset(c.mac, 0, sizeof(c.mac));
		const char *why = c.udp_port ? dp_neigh_check(c.dp_port, &c.addr) : NULL;
		if (why)
			return refuse(err, errlen, "participant %u: port %u: %s", c.id, c.dp_port, why);
	}
	if (c.role < MMR_ROLE_SENDRECV || c.role > MMR_ROLE_SENDONLY)
		return refuse(err, errlen, "participant %u: unknown role %u", c.id, c.role);
	if (c.block & ~MMR_BLOCK_MASK)
		return refuse(err, errlen, "participant %u: unknown block bits 0x%02x", c.id, c.block & ~MMR_BLOCK_MASK);
	if (srtp_ctl_check(&c, err, errlen) < 0 || rtcp_check(&c, err, errlen) < 0 || ext_check(&c, err, errlen) < 0)
		return -1;

	struct sh_participant *p = &ca->P[c.id];
	/* the SSRC we send it RTCP under is none of the SSRCs it sees from us */
	for (uint32_t u = p->used && c.mmr_ssrc ? p->rsubs : NIL; u != NIL; u = ca->U[u].r_next)
		if (ca->U[u].c.out_ssrc == c.mmr_ssrc || ca->U[u].c.rtx_ssrc == c.mmr_ssrc)
			return refuse(err, errlen, "participant %u: mmr_ssrc 0x%08x is subscription %u's SSRC toward it",
				      c.id, c.mmr_ssrc, u);
	if (p->used && p->c.meeting_id != c.meeting_id) {
		dp_log("participant %u moves from meeting %u to %u: its streams and subscriptions are removed",
		       c.id, p->c.meeting_id, c.meeting_id);
		participant_delete(ca, c.id);
	} else if (p->used && p->c.srtp_suite != c.srtp_suite) {
		/* a meeting's security never changes: this is another participant under a reused id */
		dp_log("participant %u changes security (SRTP suite %u -> %u): its streams and subscriptions are removed",
		       c.id, p->c.srtp_suite, c.srtp_suite);
		participant_delete(ca, c.id);
	}

	if (p->used) {
		int same_key = p->c.udp_port == c.udp_port && mmr_addr_eq(&p->c.addr, &c.addr);
		int same_out = same_key && p->c.dp_port == c.dp_port && p->c.has_mac == c.has_mac &&
			       memcmp(p->c.mac, c.mac, 6) == 0;
		int same_fb = p->c.fb == c.fb && memcmp(p->c.rtx_map, c.rtx_map, sizeof(c.rtx_map)) == 0;
		int same_rtcp = same_fb && p->c.mmr_ssrc == c.mmr_ssrc;
		int same_ext = p->c.twcc_ext_id == c.twcc_ext_id && p->c.abs_ext_id == c.abs_ext_id &&
			       p->c.level_ext_id == c.level_ext_id && p->c.mid_ext_id == c.mid_ext_id &&
			       p->c.rid_ext_id == c.rid_ext_id && p->c.rrid_ext_id == c.rrid_ext_id &&
			       p->c.n_learn == c.n_learn && memcmp(p->c.learn, c.learn, sizeof(c.learn)) == 0;
		int new_bwe = wants_bwe(&c) && !p->bwe, drop_bwe = !wants_bwe(&c) && p->bwe;
		int new_uplink = wants_uplink(&c) && !p->uplink, drop_uplink = !wants_uplink(&c) && p->uplink;
		int same_qos = same_ext && !new_bwe && !drop_bwe && !new_uplink && !drop_uplink;
		p->stamp = ca->stamp;
		/* new keys: every context is made before anything changes */
		struct srtp_rekey rk;
		int rc = srtp_ctl_rekey_prepare(ca, c.id, &c, &rk);
		if (rc < 0)
			return refuse(err, errlen, "participant %u: new keys: %s", c.id, srtp_ctl_strerror(rc));
		/* a new mmr_ssrc under the same RECV key: its own context (a new RECV key's rekey makes it) */
		struct srtp_stream *rtcp_out = NULL;
		int new_rtcp_out = p->c.mmr_ssrc != c.mmr_ssrc && !rk.recv_keys;
		if (new_rtcp_out && (rc = srtp_ctl_rtcp_out(ca, c.id, c.mmr_ssrc, &rtcp_out)) < 0) {
			srtp_ctl_rekey_abort(ca, &rk);
			return refuse(err, errlen, "participant %u: RTCP: %s", c.id, srtp_ctl_strerror(rc));
		}
		if (same_key && p->node && same_rtcp && same_qos) {
			srtp_ctl_rekey_commit(ca, c.id, &rk);
			__atomic_store_n(&dp->block[c.id], c.block, __ATOMIC_RELEASE);   /* at once */
			p->c = c;
			if (!same_out) {
				participant_dirty_outputs(ca, c.id);
				participant_steer(ca, c.id);     /* dp_port may have changed */
			}
			return 0;
		}
		struct fwd_participant *n = participant_node_new(&c, p);
		if (!n) {
			srtp_ctl_rekey_abort(ca, &rk);
			srtp_ctl_free_out(ca, rtcp_out);
			return refuse(err, errlen, "participant %u: out of memory", c.id);
		}
		srtp_ctl_rekey_commit(ca, c.id, &rk);
		if (new_rtcp_out) {
			srtp_ctl_retire_out(ca, p->rtcp_out);
			p->rtcp_out = rtcp_out;
		}
		n->rtcp_in = p->rtcp_in;
		n->rtcp_out = p->rtcp_out;
		if (new_bwe || drop_bwe) {
			shadow_retire(ca, p->bwe, part_bwe_free);
			p->bwe = new_bwe ? part_bwe_new(dp, &c) : NULL;
		}
		if (new_uplink || drop_uplink) {
			shadow_retire(ca, p->uplink, part_uplink_free);
			p->uplink = new_uplink ? part_uplink_new(dp, &c) : NULL;
		}
		n->bwe = p->bwe;
		n->uplink = p->uplink;
		if (!same_fb || !same_qos)
			same_out = 0;   /* its outputs copy its feedback flags, RTX map, ext ids and bwe */
		struct fwd_participant *old = p->node;
		if (!old)
			ca->n_shadowed_p--;
		p->c = c;
		__atomic_store_n(&dp->block[c.id], c.block, __ATOMIC_RELEASE);
		participant_install(ca, c.id, n);
		if (old && !same_key) {
			fwd_participant_unpublish(&dp->fwd, old);
			retire(ca, old);
			steer_remove(ca->steer, c.id);   /* its old 5-tuple's rule */
			participant_restore_shadowed(ca, &old->addr, old->udp_port);
		}
		participant_steer(ca, c.id);
		if (!same_out)
			participant_dirty_outputs(ca, c.id);
		return 0;
	}

	int rc = srtp_ctl_participant_init(ca, p, &c);
	if (rc < 0)
		return refuse(err, errlen, "participant %u: %s", c.id, srtp_ctl_strerror(rc));
	if (meeting_ensure(ca, c.meeting_id) < 0) {
		srtp_ctl_participant_free(ca, p);
		return refuse(err, errlen, "participant %u: out of memory", c.id);
	}
	p->rtcp = part_rtcp_new(dp, &c);
	p->bwe = wants_bwe(&c) ? part_bwe_new(dp, &c) : NULL;
	p->uplink = wants_uplink(&c) ? part_uplink_new(dp, &c) : NULL;
	p->rx_subs = NULL;   /* (rx_dirty stays: set, the id is in the rx-dirty list already) */
	struct fwd_participant *n = participant_node_new(&c, p);
	if (!n) {
		srtp_ctl_participant_free(ca, p);
		if (p->rtcp)
			part_rtcp_free(p->rtcp);
		p->rtcp = NULL;
		if (p->bwe)
			part_bwe_free(p->bwe);
		if (p->uplink)
			part_uplink_free(p->uplink);
		p->bwe = NULL;
		p->uplink = NULL;
		meeting_maybe_drop(ca, c.meeting_id);
		return refuse(err, errlen, "participant %u: out of memory", c.id);
	}
	memset(&dp->shm->stats.participant[c.id], 0, sizeof(dp->shm->stats.participant[c.id]));
	p->used = 1;
	p->c = c;
	p->stamp = ca->stamp;
	p->streams = NIL;
	p->rsubs = NIL;
	meeting_join(ca, c.id);
	meeting_owner_join(ca->mo, c.meeting_id);   /* its meeting has an owner before its node is seen */
	__atomic_store_n(&dp->block[c.id], c.block, __ATOMIC_RELEASE);   /* and its block */
	participant_install(ca, c.id, n);
	participant_steer(ca, c.id);
	ca->n_p++;
	if (c.id >= ca->p_hw)
		ca->p_hw = c.id + 1;
	return 0;
}

/* ---------------------------------------------------------------------------------------------
 * DTLS participants (dtls_path.h): their keys come from their handshakes, not from PUTs
 */

/* A PUT of a DTLS participant carries no keys: it keeps those of its last handshake while its role,
 * fingerprint, meeting and suite stay; otherwise (new, or a new fingerprint: a new handshake comes)
 * its contexts get random keys nobody knows until the handshake's are installed. */
static int dtls_keys_for_put(struct cmd_apply *ca, struct mmr_cmd_participant *c, char *err, size_t errlen)
{
	if (!c->dtls) {
		c->dtls_role = 0;
		memset(c->dtls_fp, 0, sizeof(c->dtls_fp));
		return 0;
	}
	c->dtls = 1;
	if (c->id >= MMR_MAX_PARTICIPANTS)
		return 0;     /* participant_put refuses it */
	if (c->dtls_role > MMR_DTLS_CLIENT)
		return refuse(err, errlen, "participant %u: unknown DTLS role %u", c->id, c->dtls_role);
	if (!c->ice)
		return refuse(err, errlen, "participant %u: DTLS without ICE credentials", c->id);
	int kl = srtp_suite_key_len(c->srtp_suite), sl = srtp_suite_salt_len(c->srtp_suite);
	if (c->srtp_suite == SRTP_SUITE_NONE || kl <= 0 || sl <= 0)
		return refuse(err, errlen, "participant %u: DTLS in a meeting without SRTP", c->id);
	const struct sh_participant *p = &ca->P[c->id];
	if (p->used && p->c.dtls && p->c.dtls_role == c->dtls_role && p->c.meeting_id == c->meeting_id &&
	    p->c.srtp_suite == c->srtp_suite && memcmp(p->c.dtls_fp, c->dtls_fp, sizeof(c->dtls_fp)) == 0) {
		c->send_key = p->c.send_key;
		c->recv_key = p->c.recv_key;
		return 0;
	}
	struct srtp_master *k[2] = { &c->send_key, &c->recv_key };
	for (int i = 0; i < 2; i++) {
		memset(k[i], 0, sizeof(*k[i]));
		k[i]->suite = c->srtp_suite;
		k[i]->key_len = (uint8_t)kl;
		k[i]->salt_len = (uint8_t)sl;
		if (RAND_bytes(k[i]->key, kl) != 1 || RAND_bytes(k[i]->salt, sl) != 1)
			return refuse(err, errlen, "participant %u: no random bytes for its placeholder keys", c->id);
	}
	return 0;
}

int cmd_apply_dtls_keys(struct cmd_apply *ca, uint32_t pid, const struct srtp_master *send,
			const struct srtp_master *recv, char *err, size_t errlen)
{
	if (pid >= MMR_MAX_PARTICIPANTS || !ca->P[pid].used || !ca->P[pid].c.dtls)
		return refuse(err, errlen, "participant %u: not a DTLS participant (any more)", pid);
	struct sh_participant *p = &ca->P[pid];
	if (send->suite != p->c.srtp_suite || recv->suite != p->c.srtp_suite)
		return refuse(err, errlen, "participant %u: DTLS negotiated suite %u, not the meeting's %u", pid,
			      send->suite, p->c.srtp_suite);
	struct mmr_cmd_participant c = p->c;
	c.send_key = *send;
	c.recv_key = *recv;
	uint32_t stamp = p->stamp;     /* not a PUT of the controller's: a sync's sweep must not see one */
	int rc = participant_put(ca, &c, err, errlen);
	p->stamp = stamp;
	explicit_bzero(&c, sizeof(c));
	return rc;
}

/* ---------------------------------------------------------------------------------------------
 * Sync (full replay from a controller)
 */

static void sync_begin(struct cmd_apply *ca, uint32_t gen)
{
	if (ca->sync_active)
		dp_log("sync gen %u begins before gen %u ended; the old one is abandoned", gen, ca->sync_gen);
	ca->stamp++;
	if (ca->stamp == 0)
		ca->stamp = 1;
	ca->sync_active = 1;
	ca->sync_gen = gen;
	dp_log("sync gen %u begins", gen);
}

static int sync_end(struct cmd_apply *ca, uint32_t gen, char *err, size_t errlen)
{
	if (!ca->sync_active || gen != ca->sync_gen)
		return refuse(err, errlen, "SYNC_END gen %u without a matching SYNC_BEGIN (%s %u)", gen,
			      ca->sync_active ? "open gen" : "last gen", ca->sync_gen);
	uint32_t du = 0, ds = 0, dpn = 0;
	for (uint32_t i = 0; i < ca->u_hw; i++)
		if (ca->U[i].used && ca->U[i].stamp != ca->stamp) {
			sub_delete(ca, i);
			du++;
		}
	for (uint32_t i = 0; i < ca->s_hw; i++)
		if (ca->S[i].used && ca->S[i].stamp != ca->stamp) {
			stream_delete(ca, i);
			ds++;
		}
	for (uint32_t i = 0; i < ca->p_hw; i++)
		if (ca->P[i].used && ca->P[i].stamp != ca->stamp) {
			participant_delete(ca, i);
			dpn++;
		}
	/* meeting settings not replayed: back to the defaults */
	for (uint32_t i = 0; i < ca->m_hw; i++)
		if (ca->M[i].used && ca->M[i].put && ca->M[i].stamp != ca->stamp)
			meeting_set(ca, i, 0);
	ca->sync_active = 0;
	dp_log("sync gen %u done: %u participants, %u streams, %u subscriptions; removed %u, %u, %u",
	       gen, ca->n_p, ca->n_s, ca->n_u, dpn, ds, du);
	return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Entry points
 */

int cmd_apply_one(struct cmd_apply *ca, const struct mmr_cmd *c, char *err, size_t errlen)
{
	int rc = 0;
	uint32_t id = c->u.del.id;

	switch (c->op) {
	case MMR_CMD_NOP:
		break;
	case MMR_CMD_SYNC_BEGIN:
		sync_begin(ca, c->u.sync.gen);
		break;
	case MMR_CMD_SYNC_END:
		rc = sync_end(ca, c->u.sync.gen, err, errlen);
		break;
	case MMR_CMD_PARTICIPANT_PUT: {
		struct mmr_cmd_participant pc = c->u.participant;
		rc = dtls_keys_for_put(ca, &pc, err, errlen);
		if (rc == 0)
			rc = participant_put(ca, &pc, err, errlen);
		explicit_bzero(&pc, sizeof(pc));
		if (rc == 0) {
			dp_ice_put(ca, &ca->P[c->u.participant.id].c);
			dp_dtls_put(&ca->P[c->u.participant.id].c);
		}
		break;
	}
	case MMR_CMD_PARTICIPANT_DEL:
		if (id >= MMR_MAX_PARTICIPANTS || !ca->P[id].used)
			rc = refuse(err, errlen, "unknown participant %u", id);
		else
			participant_delete(ca, id);
		break;
	case MMR_CMD_STREAM_PUT:
		rc = stream_put(ca, &c->u.stream, err, errlen);
		break;
	case MMR_CMD_STREAM_DEL:
		if (id >= MMR_MAX_STREAMS || !ca->S[id].used)
			rc = refuse(err, errlen, "unknown stream %u", id);
		else
			stream_delete(ca, id);
		break;
	case MMR_CMD_SUB_PUT:
		rc = sub_put(ca, &c->u.sub, err, errlen);
		break;
	case MMR_CMD_SUB_DEL:
		if (id >= MMR_MAX_SUBS || !ca->U[id].used)
			rc = refuse(err, errlen, "unknown subscription %u", id);
		else
			sub_delete(ca, id);
		break;
	case MMR_CMD_MEETING_PUT:
		rc = meeting_put(ca, &c->u.meeting, err, errlen);
		break;
	case MMR_CMD_MEETING_DEL:
		if (id >= MMR_MAX_MEETINGS)
			rc = refuse(err, errlen, "meeting id %u out of range (< %u)", id, MMR_MAX_MEETINGS);
		else
			meeting_set(ca, id, 0);
		break;
	case MMR_CMD_MEETING_MOVE:   /* takes a while: the control loop calls cmd_apply_move */
		rc = refuse(err, errlen, "MEETING_MOVE outside the control loop");
		break;
	default:
		rc = refuse(err, errlen, "unknown command op %u", c->op);
		break;
	}
	if (rc == 0)
		ca->applied++;
	else
		ca->refused++;
	return rc;
}

int cmd_apply_move(struct cmd_apply *ca, const struct mmr_cmd_move *c, char *err, size_t errlen)
{
	int rc = meeting_owner_move_start(ca->mo, c->meeting_id, c->lcore, err, errlen);
	if (rc >= 0)
		ca->applied++;
	else
		ca->refused++;
	return rc;
}

void cmd_apply_moved(struct cmd_apply *ca, uint32_t meeting)
{
	for (uint32_t i = 0; i < ca->p_hw; i++)
		if (ca->P[i].used && ca->P[i].c.meeting_id == meeting)
			participant_steer(ca, i);
}

struct meeting_owner *cmd_apply_owner(struct cmd_apply *ca)
{
	return ca->mo;
}

struct cmd_apply *cmd_apply_new(struct dataplane *dp)
{
	struct cmd_apply *ca = calloc(1, sizeof(*ca));
	if (!ca)
		return NULL;
	ca->dp = dp;
	ca->batch = 1;
	ca->stamp = 1;
	ca->rekeying = NIL;
	ca->rekey_grace_tsc = rte_get_tsc_hz() / 1000 * DP_REKEY_GRACE_MS;
	/* calloc: the pages of never-used ids are never touched */
	ca->P = calloc(MMR_MAX_PARTICIPANTS, sizeof(*ca->P));
	ca->S = calloc(MMR_MAX_STREAMS, sizeof(*ca->S));
	ca->U = calloc(MMR_MAX_SUBS, sizeof(*ca->U));
	ca->dirty = malloc(MMR_MAX_STREAMS * sizeof(*ca->dirty));
	ca->M = calloc(MMR_MAX_MEETINGS, sizeof(*ca->M));
	ca->mdirty = malloc(MMR_MAX_MEETINGS * sizeof(*ca->mdirty));
	ca->rxdirty = malloc(MMR_MAX_PARTICIPANTS * sizeof(*ca->rxdirty));
	ca->mo = meeting_owner_new(dp);
	ca->steer = steer_new(dp);
	if (!ca->P || !ca->S || !ca->U || !ca->dirty || !ca->M || !ca->mdirty || !ca->rxdirty || !ca->mo ||
	    !ca->steer) {
		cmd_apply_free(ca);
		return NULL;
	}
	return ca;
}

void cmd_apply_free(struct cmd_apply *ca)
{
	if (!ca)
		return;
	if (ca->S) {
		for (uint32_t i = 0; i < ca->s_hw; i++) {
			struct sh_stream *s = &ca->S[i];
			if (!s->used)
				continue;
			if (s->node) {
				fwd_stream_unpublish(&ca->dp->fwd, s->node);
				free(s->node);
			}
			if (s->rtx_node) {
				fwd_stream_unpublish(&ca->dp->fwd, s->rtx_node);
				free(s->rtx_node);
			}
			free(s->outputs);
			free(s->av1);
			srtp_ctl_free_in(ca, s->srtp_in);
			srtp_ctl_free_in(ca, s->rtx_srtp_in);
			if (s->repair)
				stream_repair_free(s->repair);
			if (s->rate)
				stream_layer_rate_free(s->rate);
			if (s->speaker)
				stream_speaker_free(s->speaker);
		}
	}
	if (ca->U)
		for (uint32_t i = 0; i < ca->u_hw; i++)
			if (ca->U[i].used) {
				srtp_stream_free(ca->U[i].srtp_out);
				srtp_stream_free(ca->U[i].rtx_out);
				if (ca->U[i].repair)
					sub_repair_free(ca->U[i].repair);
				if (ca->U[i].topn)
					slot_topn_free(ca->U[i].topn);
			}
	if (ca->dp->fwd.subs) {
		struct cds_lfht_iter it;
		struct fwd_sub *v;
		cds_lfht_for_each_entry(ca->dp->fwd.subs, &it, v, node) {
			cds_lfht_del(ca->dp->fwd.subs, &v->node);
			free(v);
		}
	}
	if (ca->P) {
		for (uint32_t i = 0; i < ca->p_hw; i++) {
			struct sh_participant *p = &ca->P[i];
			if (p->used && p->node) {
				fwd_participant_unpublish(&ca->dp->fwd, p->node);
				free(p->node);
			}
			if (p->used) {
				srtp_ctl_participant_free(ca, p);
				if (p->rtcp)
					part_rtcp_free(p->rtcp);
				if (p->bwe)
					part_bwe_free(p->bwe);
				if (p->uplink)
					part_uplink_free(p->uplink);
				free(p->rx_subs);
			}
		}
	}
	if (ca->M) {
		for (uint32_t i = 0; i < ca->m_hw; i++) {
			struct sh_meeting *m = &ca->M[i];
			if (!m->used)
				continue;
			if (ca->dp->fwd.meetings)
				ca->dp->fwd.meetings[i] = NULL;
			for (unsigned k = 0; k < MMR_TOPN_MAX; k++)
				free(m->slot_outputs[k]);
			free(m->audio);
			if (m->audio_state)
				meeting_audio_free(m->audio_state);
			free(m->node);
		}
	}
	for (size_t i = 0; i < ca->n_retired; i++)
		ca->retired[i].free_fn(ca->retired[i].p);
	free(ca->retired);
	meeting_owner_free(ca->mo);
	steer_free(ca->steer);
	free(ca->dirty);
	free(ca->M);
	free(ca->mdirty);
	free(ca->rxdirty);
	free(ca->U);
	free(ca->S);
	free(ca->P);
	free(ca);
}

void cmd_apply_tick(struct cmd_apply *ca, uint64_t now_tsc)
{
	if (ca->rekeying != NIL)
		srtp_ctl_tick(ca, now_tsc);
}

uint32_t cmd_apply_next_sel(const struct cmd_apply *ca, uint32_t from)
{
	for (uint32_t i = from; i < ca->u_hw; i++)
		if (ca->U[i].used && ca->U[i].c.sel_id == i)
			return i;
	return UINT32_MAX;
}

void cmd_apply_counts(const struct cmd_apply *ca, struct cmd_apply_counts *out)
{
	out->participants = ca->n_p;
	out->streams = ca->n_s;
	out->subs = ca->n_u;
	out->applied = ca->applied;
	out->refused = ca->refused;
}

/* ---------------------------------------------------------------------------------------------
 * Self-check
 */

#define CHECK(cond, ...)                                        \
	do {                                                    \
		if (!(cond))                                    \
			return refuse(err, errlen, __VA_ARGS__); \
	} while (0)

#ifdef MMR_DP_SELFCHECK
/* The self-check's negative control (tests/integration/test_selfcheck.py --corrupt): with
 * MMR_DP_SELFCHECK_CORRUPT=1 in the environment, the first check that finds a stream with
 * subscriptions first unlinks one of them from the stream's list (a lost list update), which the
 * check must then catch. Self-check builds only. */
static void selfcheck_corrupt_once(struct cmd_apply *ca)
{
	static int done;
	if (done || !getenv("MMR_DP_SELFCHECK_CORRUPT"))
		return;
	for (uint32_t i = 0; i < ca->s_hw; i++) {
		struct sh_stream *s = &ca->S[i];
		if (s->used && s->subs != NIL) {
			dp_log("SELF-CHECK TEST: shadow corrupted (stream %u's subscription %u unlinked)", i, s->subs);
			s->subs = ca->U[s->subs].s_next;
			done = 1;
			return;
		}
	}
}
#endif

int cmd_apply_check(struct cmd_apply *ca, char *err, size_t errlen)
{
	struct fwd_tables *t = &ca->dp->fwd;
	uint32_t n_p = 0, n_s = 0, n_u = 0, sh_p = 0, sh_s = 0, listed_s = 0, listed_u = 0, listed_r = 0;

#ifdef MMR_DP_SELFCHECK
	selfcheck_corrupt_once(ca);
#endif

	CHECK(ca->n_dirty == 0, "%u streams still dirty after publish", ca->n_dirty);
	for (uint32_t i = 0; i < ca->p_hw; i++) {
		struct sh_participant *p = &ca->P[i];
		if (!p->used)
			continue;
		n_p++;
		struct fwd_participant *f = fwd_participant_lookup(t, &p->c.addr, p->c.udp_port);
		CHECK(f, "participant %u: its key is in no node", i);
		int srtp = p->c.srtp_suite != SRTP_SUITE_NONE;
		CHECK(srtp ? p->send_keys && p->recv_keys && p->rtcp_in && p->rtcp_in->cur :
			     !p->send_keys && !p->recv_keys && !p->rtcp_in && !p->old_send_keys,
		      "participant %u: SRTP state does not match suite %u", i, p->c.srtp_suite);
		CHECK((srtp && p->c.mmr_ssrc) == (p->rtcp_out != NULL), "participant %u: outbound RTCP context", i);
		CHECK(!p->old_send_keys || p->rekeying, "participant %u: old SEND key outside a rekey", i);
		if (p->node) {
			CHECK(f == p->node, "participant %u: table holds node of %u", i, f->id);
			CHECK(p->node->id == i, "participant %u: node id %u", i, p->node->id);
			CHECK(p->node->srtp == p->c.srtp_suite && p->node->rtcp_in == p->rtcp_in &&
			      p->node->rtcp_out == p->rtcp_out, "participant %u: node's SRTP state differs", i);
			CHECK(p->node->fb == p->c.fb && p->node->mmr_ssrc == p->c.mmr_ssrc && p->node->rtcp == p->rtcp &&
			      memcmp(p->node->rtx_map, p->c.rtx_map, sizeof(p->c.rtx_map)) == 0,
			      "participant %u: node's RTCP state differs", i);
			CHECK(p->node->bwe == p->bwe && p->node->uplink == p->uplink && p->node->rx_subs == p->rx_subs &&
			      p->node->twcc_ext_id == p->c.twcc_ext_id && p->node->abs_ext_id == p->c.abs_ext_id &&
			      p->node->level_ext_id == p->c.level_ext_id && p->node->meeting == p->c.meeting_id,
			      "participant %u: node's QoS state differs", i);
		} else {
			sh_p++;
			CHECK(f->id != i && ca->P[f->id].used && ca->P[f->id].node == f,
			      "participant %u: shadowed by a node nobody owns (%u)", i, f->id);
		}
		for (uint32_t s = p->streams; s != NIL; s = ca->S[s].p_next) {
			CHECK(ca->S[s].used && ca->S[s].c.participant_id == i, "participant %u lists stream %u", i, s);
			listed_s++;
		}
		uint32_t leaders = 0;
		for (uint32_t u = p->rsubs; u != NIL; u = ca->U[u].r_next) {
			CHECK(ca->U[u].used && ca->U[u].c.subscriber_id == i, "participant %u lists sub %u", i, u);
			listed_r++;
			leaders += rx_leader(ca, u);
		}
		/* issue 12: its estimate and uplink state only where it takes them; rx_subs as the shadow says */
		CHECK(!p->bwe || wants_bwe(&p->c), "participant %u: BWE state without TWCC/REMB", i);
		CHECK(!p->uplink || wants_uplink(&p->c), "participant %u: uplink state it does not take", i);
		CHECK(!p->rx_dirty, "participant %u: rx_subs still dirty after publish", i);
		CHECK(leaders == (p->rx_subs ? p->rx_subs->n : 0), "participant %u: %u video selection states, rx_subs %u",
		      i, leaders, p->rx_subs ? p->rx_subs->n : 0);
		for (uint32_t k = 0; p->rx_subs && k < p->rx_subs->n; k++) {
			const struct fwd_rx_sub *e = &p->rx_subs->e[k];
			CHECK(e->sel_id < ca->u_hw && rx_leader(ca, e->sel_id) && ca->U[e->sel_id].c.subscriber_id == i &&
			      e->priority == ca->U[e->sel_id].c.priority && e->n_enc >= 1 &&
			      e->n_enc <= MEDIA_MAX_ENCODINGS,
			      "participant %u: rx_subs entry %u (sel %u) is stale", i, k, e->sel_id);
			for (unsigned x = 0; x < e->n_enc; x++) {
				uint32_t sid = e->stream_id[x];
				CHECK(sid == MMR_ID_NONE || (sid < ca->s_hw && ca->S[sid].used && ca->S[sid].rate == e->rate[x] &&
							     ca->S[sid].c.participant_id == e->publisher),
				      "participant %u: rx_subs entry %u encoding %u names a stale stream %u", i, k, x, sid);
			}
		}
		CHECK(ca->M[p->c.meeting_id].used, "participant %u: its meeting %u has no node", i, p->c.meeting_id);
	}
	for (uint32_t i = 0; i < ca->s_hw; i++) {
		struct sh_stream *s = &ca->S[i];
		if (!s->used)
			continue;
		n_s++;
		CHECK(ca->P[s->c.participant_id].used, "stream %u: publisher %u gone", i, s->c.participant_id);
		CHECK((!s->rate || s->c.kind == MMR_KIND_VIDEO) && (!s->speaker || s->c.kind == MMR_KIND_AUDIO),
		      "stream %u: QoS state of the other kind", i);
		struct fwd_stream *f = fwd_stream_lookup(t, s->c.participant_id, s->c.ssrc);
		CHECK(f, "stream %u: its key is in no node", i);
		int srtp = ca->P[s->c.participant_id].c.srtp_suite != SRTP_SUITE_NONE;
		CHECK(srtp ? s->srtp_in && s->srtp_in->cur : !s->srtp_in, "stream %u: inbound SRTP state", i);
		CHECK(!s->srtp_in || !s->srtp_in->prev || ca->P[s->c.participant_id].rekeying,
		      "stream %u: previous key outside a rekey", i);
		CHECK(!s->rtx_node || (s->node && s->c.rtx_ssrc && s->rtx_node->is_rtx && s->rtx_node->id == i &&
				       s->rtx_node->media == s->node && s->rtx_node->srtp_in == s->rtx_srtp_in &&
				       fwd_stream_lookup(t, s->c.participant_id, s->c.rtx_ssrc) == s->rtx_node),
		      "stream %u: RTX node", i);
		CHECK(!srtp || !s->c.rtx_ssrc ? !s->rtx_srtp_in : s->rtx_srtp_in && s->rtx_srtp_in->cur,
		      "stream %u: RTX inbound SRTP state", i);
		if (s->node) {
			CHECK(f == s->node, "stream %u: table holds node of %u", i, f->id);
			CHECK(s->node->repair == s->repair && s->node->media == s->node && !s->node->is_rtx,
			      "stream %u: node's repair state or media pointer", i);
			CHECK(s->node->outputs == s->outputs, "stream %u: node and shadow outputs differ", i);
			CHECK(s->node->srtp_in == s->srtp_in, "stream %u: node and shadow SRTP differ", i);
			CHECK(s->node->av1 == s->av1 && (s->c.codec == MMR_CODEC_AV1) == (s->av1 != NULL),
			      "stream %u: AV1 state", i);
			CHECK(s->node->rate == s->rate && s->node->speaker == s->speaker && s->node->screen == s->c.screen &&
			      s->node->meeting == ca->P[s->c.participant_id].c.meeting_id,
			      "stream %u: node's QoS state differs", i);
		} else {
			sh_s++;
			CHECK(f->id != i && ca->S[f->id].used && ca->S[f->id].node == f,
			      "stream %u: shadowed by a node nobody owns (%u)", i, f->id);
		}
		uint32_t k = 0;
		for (uint32_t u = s->subs; u != NIL; u = ca->U[u].s_next) {
			CHECK(ca->U[u].used && ca->U[u].c.stream_id == i, "stream %u lists sub %u", i, u);
			k++;
		}
		listed_u += k;
		CHECK(k ? s->outputs && s->outputs->n == k : !s->outputs, "stream %u: %u subs, %u outputs", i, k,
		      s->outputs ? s->outputs->n : 0);
		for (uint32_t j = 0; s->outputs && j < s->outputs->n; j++) {
			const struct fwd_output *o = &s->outputs->o[j];
			CHECK(o->sub_id < ca->u_hw && ca->U[o->sub_id].used && o->srtp == sub_srtp_out(ca, o->sub_id),
			      "stream %u: output %u's SRTP context is not its subscription's", i, j);
			const struct sh_sub *l = sub_lead(ca, o->sub_id);
			CHECK(o->rtx_srtp == l->rtx_out && o->repair == l->repair && o->rtx_ssrc_be == htonl(l->c.rtx_ssrc),
			      "stream %u: output %u's RTX or repair state is not its subscription's", i, j);
			const struct sh_participant *r = &ca->P[ca->U[o->sub_id].c.subscriber_id];
			CHECK(o->receiver_id == r->c.id && o->bwe == r->bwe && o->twcc_ext_id == r->c.twcc_ext_id &&
			      o->abs_ext_id == r->c.abs_ext_id,
			      "stream %u: output %u's receiver QoS fields are not its receiver's", i, j);
		}
	}
	for (uint32_t i = 0; i < ca->u_hw; i++) {
		struct sh_sub *u = &ca->U[i];
		if (!u->used)
			continue;
		n_u++;
		if (u->c.topn_slot) {
			/* a top-N slot: in its meeting's slot list (checked with the meetings), no stream */
			CHECK(u->c.topn_slot <= MMR_TOPN_MAX && u->c.stream_id == MMR_ID_NONE && u->c.sel_id == i &&
			      !u->c.rtx_ssrc && !u->rtx_out && !u->repair && ca->P[u->c.subscriber_id].used,
			      "sub %u: bad top-N slot subscription", i);
			CHECK((ca->P[u->c.subscriber_id].c.srtp_suite != SRTP_SUITE_NONE) == (u->srtp_out != NULL),
			      "sub %u: slot outbound SRTP state", i);
			continue;
		}
		CHECK(!u->topn, "sub %u: top-N state of a normal subscription", i);
		if (sub_is_vslot(&u->c)) {
			/* a video slot: in its receiver's list only, its own state, in no view */
			CHECK(u->c.video_slot <= MMR_VSLOT_MAX && u->c.sel_id == i && ca->P[u->c.subscriber_id].used &&
			      u->s_next == NIL && u->s_prev == NIL, "sub %u: bad video slot", i);
			CHECK((ca->P[u->c.subscriber_id].c.srtp_suite != SRTP_SUITE_NONE) == (u->srtp_out != NULL),
			      "sub %u: video slot outbound SRTP state", i);
			listed_u++;    /* in no stream's or meeting's list: counted here */
			continue;
		}
		CHECK(!u->c.video_slot || (ca->U[u->c.sel_id].used && sub_is_vslot(&ca->U[u->c.sel_id].c) &&
					    u->c.slot_gen != 0),
		      "sub %u: a stream on a video slot without its slot", i);
		CHECK(ca->S[u->c.stream_id].used && ca->P[u->c.subscriber_id].used, "sub %u: dangling", i);
		CHECK((ca->P[u->c.subscriber_id].c.srtp_suite != SRTP_SUITE_NONE && u->c.sel_id == i) ==
		      (u->srtp_out != NULL), "sub %u: outbound SRTP state", i);
		CHECK((ca->P[u->c.subscriber_id].c.srtp_suite != SRTP_SUITE_NONE && u->c.sel_id == i &&
		       u->c.rtx_ssrc) == (u->rtx_out != NULL), "sub %u: RTX outbound SRTP state", i);
		CHECK(!u->repair || u->c.sel_id == i, "sub %u: repair state of a simulcast follower", i);
		/* its receiver's view of its out SSRC lists it */
		const struct fwd_sub *v = fwd_sub_lookup(t, u->c.subscriber_id, u->c.out_ssrc);
		int listed = 0;
		for (unsigned e = 0; v && !v->is_rtx && e < v->n; e++)
			listed |= v->m[e].sub_id == i;
		CHECK(listed || (v && v->n == MEDIA_MAX_ENCODINGS), "sub %u: not in its receiver's view of SSRC %u", i,
		      u->c.out_ssrc);
	}
	/* every node of the subs table names live subscriptions of its key, as the shadow has them */
	struct cds_lfht_iter it;
	struct fwd_sub *v;
	cds_lfht_for_each_entry(t->subs, &it, v, node) {
		unsigned members = 0;
		for (unsigned e = 0; e < MEDIA_MAX_ENCODINGS; e++) {
			const struct fwd_sub_member *mb = &v->m[e];
			if (mb->sub_id == NIL)
				continue;
			CHECK(e < v->n && mb->sub_id < ca->u_hw, "view %u/%u: member %u out of place", v->receiver_id,
			      v->ssrc, e);
			const struct sh_sub *u = &ca->U[mb->sub_id];
			CHECK(u->used && u->c.subscriber_id == v->receiver_id &&
			      (v->is_rtx ? u->c.rtx_ssrc : u->c.out_ssrc) == v->ssrc && u->c.stream_id == mb->stream_id &&
			      ca->S[mb->stream_id].c.participant_id == mb->publisher_id &&
			      ca->S[mb->stream_id].c.ssrc == mb->ssrc,
			      "view %u/%u: member %u (sub %u) is stale", v->receiver_id, v->ssrc, e, mb->sub_id);
			members++;
		}
		CHECK(members > 0, "view %u/%u: no member", v->receiver_id, v->ssrc);
	}
	CHECK(n_p == ca->n_p && n_s == ca->n_s && n_u == ca->n_u, "counts %u/%u/%u, recorded %u/%u/%u",
	      n_p, n_s, n_u, ca->n_p, ca->n_s, ca->n_u);
	CHECK(sh_p == ca->n_shadowed_p && sh_s == ca->n_shadowed_s, "shadowed %u/%u, recorded %u/%u", sh_p,
	      sh_s, ca->n_shadowed_p, ca->n_shadowed_s);
	/* meetings (issue 12): a node exactly for those with participants or a top-N setting, each
	 * slot's output array as its list, the audio array as its participants' audio streams */
	uint32_t n_m = 0, listed_m = 0;
	for (uint32_t i = 0; i < ca->m_hw; i++) {
		const struct sh_meeting *m = &ca->M[i];
		CHECK(m->used == (m->n_parts > 0 || m->put), "meeting %u: node %u with %u participants, put %u", i,
		      m->used, m->n_parts, m->put);
		CHECK(rcu_dereference(t->meetings[i]) == (m->used ? m->node : NULL), "meeting %u: table pointer", i);
		if (!m->used)
			continue;
		n_m++;
		CHECK(!m->dirty, "meeting %u: still dirty after publish", i);
		CHECK(m->node->id == i && m->node->top_n == m->top_n && m->node->audio_state == m->audio_state &&
		      m->node->audio == m->audio && m->top_n <= MMR_TOPN_MAX && m->put == (m->top_n != 0),
		      "meeting %u: node differs from the shadow", i);
		uint32_t k = 0, audio = 0;
		for (uint32_t q = m->parts; q != NIL; q = ca->P[q].m_next) {
			CHECK(q < ca->p_hw && ca->P[q].used && ca->P[q].c.meeting_id == i, "meeting %u lists participant %u",
			      i, q);
			k++;
			for (uint32_t x = ca->P[q].streams; x != NIL; x = ca->S[x].p_next)
				audio += ca->S[x].c.kind == MMR_KIND_AUDIO && ca->S[x].node != NULL;
		}
		CHECK(k == m->n_parts, "meeting %u: %u participants listed, %u counted", i, k, m->n_parts);
		listed_m += k;
		CHECK(audio == (m->audio ? m->audio->n : 0), "meeting %u: %u audio streams, array %u", i, audio,
		      m->audio ? m->audio->n : 0);
		for (uint32_t j = 0; m->audio && j < m->audio->n; j++) {
			const struct fwd_meeting_audio_entry *e = &m->audio->e[j];
			CHECK(e->stream_id < ca->s_hw && ca->S[e->stream_id].used && ca->S[e->stream_id].node &&
			      ca->S[e->stream_id].c.kind == MMR_KIND_AUDIO && ca->S[e->stream_id].c.participant_id == e->publisher_id &&
			      ca->S[e->stream_id].c.ssrc == e->ssrc && ca->S[e->stream_id].speaker == e->speaker &&
			      ca->P[e->publisher_id].c.meeting_id == i,
			      "meeting %u: audio entry %u (stream %u) is stale", i, j, e->stream_id);
		}
		for (unsigned sl = 0; sl < MMR_TOPN_MAX; sl++) {
			uint32_t n = 0;
			for (uint32_t u = m->slots[sl]; u != NIL; u = ca->U[u].s_next) {
				const struct sh_sub *x = &ca->U[u];
				CHECK(u < ca->u_hw && x->used && x->c.topn_slot == sl + 1 &&
				      ca->P[x->c.subscriber_id].c.meeting_id == i,
				      "meeting %u slot %u lists sub %u", i, sl, u);
				n++;
			}
			listed_u += n;
			const struct fwd_outputs *a = m->slot_outputs[sl];
			CHECK(m->node->slot_outputs[sl] == a, "meeting %u slot %u: node and shadow arrays differ", i, sl);
			CHECK(n ? a && a->n == n : !a, "meeting %u slot %u: %u subs, %u outputs", i, sl, n, a ? a->n : 0);
			for (uint32_t j = 0; a && j < a->n; j++) {
				const struct fwd_output *o = &a->o[j];
				CHECK(o->sub_id < ca->u_hw && ca->U[o->sub_id].used && ca->U[o->sub_id].c.topn_slot == sl + 1 &&
				      o->srtp == ca->U[o->sub_id].srtp_out && o->topn == ca->U[o->sub_id].topn &&
				      !o->rtx_ssrc_be && !o->repair && o->receiver_id == ca->U[o->sub_id].c.subscriber_id &&
				      o->out_ssrc_be == htonl(ca->U[o->sub_id].c.out_ssrc) &&
				      o->bwe == ca->P[o->receiver_id].bwe,
				      "meeting %u slot %u: output %u is not its subscription's", i, sl, j);
			}
		}
	}
	CHECK(n_m == ca->n_m && listed_m == n_p, "meetings %u (recorded %u), listing %u participants of %u", n_m,
	      ca->n_m, listed_m, n_p);
	CHECK(ca->n_mdirty == 0 && ca->n_rxdirty == 0, "%u meetings, %u receivers still dirty after publish",
	      ca->n_mdirty, ca->n_rxdirty);
	CHECK(listed_s == n_s && listed_u == n_u && listed_r == n_u, "lists hold %u streams, %u/%u subs",
	      listed_s, listed_u, listed_r);
	return 0;
}
