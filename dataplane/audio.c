/*
 * audio.c - audio levels, dominant speaker and top-N audio per meeting (see audio.h).
 *
 * Per audio packet: the level element read (one walk of the extension block), the stream's speaker
 * state fed, its `level` counter stored when it changed; the meeting's two timers compared with the
 * TSC. Every speaker_interval_ms, at the first audio packet after it: ds_decide over the meeting's
 * audio streams (its immutable list, fwd_meeting.audio); every topn_ms in a top-N meeting: the
 * ranking, whose result is kept as the stream id of each slot (a packet finds its slot in at most
 * MMR_TOPN_MAX compares). The top-N fan-out takes the slot's outputs in chunks of up to
 * AUDIO_CHUNK, numbers each copy (topn_out_map) and hands the chunk to fanout.c's copy builders
 * (fanout_audio_copies: the same copies, checksums, SRTP and SR accounting as any audio copy).
 */
#define _LGPL_SOURCE
#include "audio.h"

#include <stdlib.h>
#include <string.h>
#include <rte_cycles.h>

#include "audio_level.h"
#include "dataplane.h"
#include "dp_events.h"
#include "fanout.h"
#include "qos_hooks.h"
#include "rtcp_report.h"
#include "worker.h"

#define AUDIO_CHUNK 32u      /* slot outputs numbered and handed to fanout_audio_copies at a time */

/* ---- control thread: the hooks (qos_hooks.h) ------------------------------------------------------ */

struct ds_speaker *stream_speaker_new(struct dataplane *dp, const struct mmr_cmd_stream *c)
{
	(void)dp;
	if (c->kind != MMR_KIND_AUDIO)
		return NULL;
	struct audio_stream *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	ds_speaker_init(&a->ds, rte_rdtsc() / (rte_get_tsc_hz() / 1000u));
	topn_energy_init(&a->energy);
	return &a->ds;
}

void stream_speaker_free(void *p)
{
	free(p);
}

struct meeting_audio *meeting_audio_new(struct dataplane *dp, uint32_t meeting_id)
{
	struct meeting_audio *ma = calloc(1, sizeof(*ma));
	if (!ma)
		return NULL;
	ma->meeting_id = meeting_id;
	/* versions of a meeting id only grow, across a re-created meeting and a restarted dataplane too:
	 * the first one comes from the TSC (+1 every 2^20 cycles; a speaker changes far less often) */
	uint32_t ver = (uint32_t)(rte_rdtsc() >> 20);
	ma->speaker_word = (uint64_t)(ver ? ver : 1u) << 32 | MMR_ID_NONE;
	ds_meeting_init(&ma->ds);
	topn_init(&ma->topn, 0);
	if (meeting_id < MMR_MAX_MEETINGS)
		__atomic_store_n(&dp->shm->stats.meeting_speaker[meeting_id], MMR_ID_NONE, __ATOMIC_RELAXED);
	return ma;
}

void meeting_audio_free(void *p)
{
	free(p);
}

struct topn_out *slot_topn_new(struct dataplane *dp, const struct mmr_cmd_sub *c)
{
	(void)dp;
	if (!c->topn_slot)
		return NULL;
	struct slot_out *so = calloc(1, sizeof(*so));
	if (!so)
		return NULL;
	topn_out_init(&so->o);
	return &so->o;
}

void slot_topn_free(void *p)
{
	free(p);
}

uint64_t audio_speaker_word(struct dataplane *dp, uint32_t meeting_id)
{
	const struct fwd_meeting *mt = fwd_meeting_get(&dp->fwd, meeting_id);
	const struct meeting_audio *ma = mt ? mt->audio_state : NULL;
	return ma ? __atomic_load_n(&ma->speaker_word, __ATOMIC_RELAXED) : 0;
}

/* ---- owner lcore ----------------------------------------------------------------------------------- */

/* The owner lcore's view of a meeting's audio streams for one decision or ranking: those with state,
 * in the order of its list (at most AUDIO_MEETING_MAX). */
struct audio_view {
	unsigned n;
	uint32_t ids[AUDIO_MEETING_MAX];                      /* stream ids */
	uint32_t pids[AUDIO_MEETING_MAX];                     /* their publishers */
	struct ds_speaker *sp[AUDIO_MEETING_MAX];
	const struct topn_energy *en[AUDIO_MEETING_MAX];
};
static __thread struct audio_view view;

static void view_fill(const struct fwd_meeting *mt)
{
	const struct fwd_meeting_audio *a = rcu_dereference(mt->audio);
	unsigned n = 0;
	for (uint32_t i = 0; a && i < a->n && n < AUDIO_MEETING_MAX; i++) {
		struct ds_speaker *sp = a->e[i].speaker;
		if (!sp)
			continue;
		view.ids[n] = a->e[i].stream_id;
		view.pids[n] = a->e[i].publisher_id;
		view.sp[n] = sp;
		view.en[n] = &audio_stream_of(sp)->energy;
		n++;
	}
	view.n = n;
}

/* The dominant speaker decision (view filled): on a change, the word, the counter and an event. */
static void decide(struct worker *w, const struct fwd_meeting *mt, struct meeting_audio *ma, uint64_t now_ms)
{
	uint32_t pid = MMR_ID_NONE;
	w->st->speaker_runs++;
	int i = ds_decide(&ma->ds, view.sp, view.ids, view.n, now_ms);
	if (i >= 0 && (unsigned)i < view.n)
		pid = view.pids[i];
	uint64_t word = __atomic_load_n(&ma->speaker_word, __ATOMIC_RELAXED);
	if ((uint32_t)word == pid)
		return;
	uint32_t ver = (uint32_t)(word >> 32) + 1u;
	ver = ver ? ver : 1u;
	__atomic_store_n(&ma->speaker_word, (uint64_t)ver << 32 | pid, __ATOMIC_RELAXED);
	if (mt->id < MMR_MAX_MEETINGS)
		__atomic_store_n(&w->dp->shm->stats.meeting_speaker[mt->id], pid, __ATOMIC_RELAXED);
	ev_push(&w->ev, MMR_EV_SPEAKER, mt->id, pid, ver);
}

/* The top-N ranking (view filled): which stream holds each slot, the dominant speaker's among them. */
static void rank(struct meeting_audio *ma, unsigned top_n, uint64_t now_ms)
{
	uint32_t before[MMR_TOPN_MAX];
	memcpy(before, ma->topn.slot, sizeof(before));
	if (ma->topn.n != top_n)
		topn_init(&ma->topn, top_n);
	int dom = -1;
	for (unsigned i = 0; i < view.n && ma->ds.dominant_id != UINT32_MAX; i++)
		if (view.ids[i] == ma->ds.dominant_id) {
			dom = (int)i;
			break;
		}
	topn_update(&ma->topn, view.ids, view.en, view.n, dom, now_ms);
	for (unsigned k = 0; k < MMR_TOPN_MAX; k++)
		if (ma->topn.slot[k] != before[k])
			ma->slot_epoch[k]++;
}

/* A lazy timer's next time: on its period's grid (the packets that find it due come late by up to
 * their spacing), or a period from now when it fell behind (an idle meeting). */
static inline uint64_t next_tick(uint64_t due, uint64_t now, uint64_t period)
{
	due += period;
	return due > now ? due : now + period;
}

const struct fwd_meeting *audio_packet(struct worker *w, const struct fwd_participant *part,
				       const struct fwd_stream *s, const uint8_t *rtp, const struct rtp_info *ri)
{
	uint64_t now = w->now_tsc;
	uint64_t now_ms = now / w->tsc_per_ms;
	if (part->level_ext_id && ri->has_ext && s->speaker) {
		uint8_t level, voice;
		int r = audio_level_find(rtp, ri, part->level_ext_id, &level, &voice);
		if (likely(r == 1)) {
			struct audio_stream *as = audio_stream_of(s->speaker);
			ds_speaker_on_level(&as->ds, now_ms, level);
			topn_energy_on_level(&as->energy, now_ms, level);
			struct mmr_stream_stats *ss = &w->stream_stats[s->id];
			if (ss->level != level)
				ss->level = level;
		} else if (r < 0) {
			w->st->ext_bad++;
		}
	}
	const struct fwd_meeting *mt = fwd_meeting_get(&w->dp->fwd, part->meeting);
	struct meeting_audio *ma = mt ? mt->audio_state : NULL;
	if (unlikely(!ma))
		return NULL;
	unsigned top_n = CMM_LOAD_SHARED(mt->top_n);
	top_n = top_n > MMR_TOPN_MAX ? MMR_TOPN_MAX : top_n;
	int decide_now = now >= ma->next_decide_tsc;
	int rank_now = top_n && (now >= ma->next_rank_tsc || top_n != ma->topn.n);
	if (unlikely(decide_now || rank_now)) {
		view_fill(mt);
		if (decide_now) {
			decide(w, mt, ma, now_ms);
			ma->next_decide_tsc = next_tick(ma->next_decide_tsc, now,
							w->tsc_per_ms * w->dp->cfg->speaker_interval_ms);
		}
		if (rank_now) {
			rank(ma, top_n, now_ms);
			ma->next_rank_tsc = next_tick(ma->next_rank_tsc, now, w->tsc_per_ms * w->dp->cfg->topn_ms);
		}
	}
	return top_n ? mt : NULL;
}

void audio_topn_fanout(struct worker *w, struct rte_mbuf *m, const struct pkt_info *pi, uint32_t rtp_len,
		       const struct rtp_info *ri, const struct fwd_stream *s, const struct fwd_meeting *mt,
		       int srtp)
{
	const struct meeting_audio *ma = mt->audio_state;
	int k = topn_slot_of(&ma->topn, s->id);
	const struct fwd_outputs *outs = k >= 0 ? rcu_dereference(mt->slot_outputs[k]) : NULL;
	if (!outs) {
		w->st->drops[MMR_DROP_TOPN]++;
		w->stream_stats[s->id].topn_drops++;
		return;
	}
	uint32_t arrival = rtcp_arrival_rtp(w, s);
	const struct fwd_output *fo[AUDIO_CHUNK];
	struct layer_out lo[AUDIO_CHUNK];
	int sr_budget = 1;
	uint32_t n = 0;
	for (uint32_t i = 0; i < outs->n; i++) {
		const struct fwd_output *o = &outs->o[i];
		if (o->receiver_id == s->participant_id || !o->topn)
			continue;           /* never its own voice back */
		if (unlikely(worker_receiver_waiting(w, o->receiver_id)))   /* meeting controls */
			continue;
		if (unlikely(!o->dst_port_be)) {   /* an ICE receiver without an address */
			w->st->drops[MMR_DROP_NO_ADDRESS]++;
			continue;
		}
		if (unlikely(!worker_out_mac_ok(w, o)))    /* its next hop's MAC (neigh.h) */
			continue;
		struct slot_out *so = (struct slot_out *)(void *)o->topn;
		if (unlikely(so->epoch != ma->slot_epoch[k])) {
			so->epoch = ma->slot_epoch[k];
			so->o.stream_id = MMR_ID_NONE;   /* a new run, even for the stream it had */
		}
		uint16_t seq;
		uint32_t ts;
		if (unlikely(!topn_out_map(&so->o, s->id, ri->seq, ri->ts, arrival, &seq, &ts)))
			continue;           /* late, from before the stream took the slot */
		lo[n].seq = seq;
		lo[n].ts = ts;
		lo[n].marker = ri->marker;
		lo[n].picture_id = 0;
		lo[n].tl0picidx = 0;
		lo[n].frame_number = 0;
		fo[n++] = o;
		if (n == AUDIO_CHUNK) {
			fanout_audio_copies(w, m, pi, rtp_len, ri, s, srtp, fo, lo, n, &sr_budget);
			n = 0;
		}
	}
	if (n)
		fanout_audio_copies(w, m, pi, rtp_len, ri, s, srtp, fo, lo, n, &sr_budget);
}
