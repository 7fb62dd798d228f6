/*
 * allocator.c - the bandwidth allocator of allocator.h: ladders from measured layer rates, and the
 * priority / ceiling / hysteresis rules that turn a receiver's estimate into each of its video
 * subscriptions' layers (or a pause).
 */
#include "allocator.h"

#include <string.h>

void alloc_state_init(struct alloc_state *st)
{
	memset(st, 0, sizeof(*st));
}

/* ---- ladders -------------------------------------------------------------------------------- */

static uint32_t floor_rate(uint32_t measured, unsigned tid)
{
	uint32_t f = tid == 0 ? ALLOC_FLOOR_BASE_BPS : ALLOC_FLOOR_LAYER_BPS;

	return measured > f ? measured : f;
}

/* major: the spatial layer or encoding (never goes down along a ladder) */
static inline unsigned opt_major(const struct alloc_option *o)
{
	return o->t.encoding > o->t.sid ? o->t.encoding : o->t.sid;
}

unsigned alloc_ladder_build(struct alloc_sub *sub, uint8_t codec, unsigned spatial, unsigned temporal,
			    unsigned n_enc, const uint32_t bps[][MEDIA_MAX_SPATIAL][MEDIA_MAX_TEMPORAL])
{
	struct alloc_option tmp[ALLOC_MAX_OPTIONS];
	unsigned n = 0;

	sub->codec = codec;
	if (n_enc < 1)
		n_enc = 1;
	if (n_enc > MEDIA_MAX_ENCODINGS)
		n_enc = MEDIA_MAX_ENCODINGS;
	if (spatial < 1 || n_enc > 1 || (codec != MMR_CODEC_VP9 && codec != MMR_CODEC_AV1))
		spatial = 1;
	if (spatial > MEDIA_MAX_SPATIAL)
		spatial = MEDIA_MAX_SPATIAL;
	if (temporal < 1 || codec == MMR_CODEC_H264)
		temporal = 1;
	if (temporal > MEDIA_MAX_TEMPORAL)
		temporal = MEDIA_MAX_TEMPORAL;

	if (n_enc > 1) {
		/* simulcast: (encoding e, t) costs the layers t' <= t of e's stream. An encoding nothing
		 * was measured on while another was is one the publisher does not send now (a browser
		 * drops its top encodings when its uplink or CPU is short): no options, as the floors
		 * would make it the cheapest, and a switch to it would wait for a keyframe that never
		 * comes. With nothing measured at all, every encoding gets the floors. */
		uint32_t sent = 0;
		for (unsigned e = 0; e < n_enc && bps; e++)
			for (unsigned t = 0; t < temporal; t++)
				sent |= bps[e][0][t] ? 1u << e : 0;
		for (unsigned e = 0; e < n_enc; e++) {
			uint32_t cum = 0;
			if (sent && !(sent >> e & 1))
				continue;
			for (unsigned t = 0; t < temporal; t++) {
				cum += floor_rate(bps ? bps[e][0][t] : 0, t);
				tmp[n].t = (struct layer_target){ .sid = 0, .tid = (uint8_t)t, .dt = (uint8_t)t,
								  .encoding = (uint8_t)e };
				tmp[n++].bps = cum;
			}
		}
	} else {
		/* SVC (s, t): the sum of layers s' <= s, t' <= t */
		for (unsigned s = 0; s < spatial; s++)
			for (unsigned t = 0; t < temporal; t++) {
				uint32_t cum = 0;
				for (unsigned s2 = 0; s2 <= s; s2++)
					for (unsigned t2 = 0; t2 <= t; t2++)
						cum += floor_rate(bps ? bps[0][s2][t2] : 0, t2);
				tmp[n].t = (struct layer_target){ .sid = (uint8_t)s, .tid = (uint8_t)t,
								  .dt = (uint8_t)(s * temporal + t), .encoding = 0 };
				tmp[n++].bps = cum;
			}
	}
	/* by cost (ties: lower layers first), stable insertion sort of at most 12 */
	for (unsigned i = 1; i < n; i++) {
		struct alloc_option o = tmp[i];
		unsigned j = i;
		while (j > 0 && (tmp[j - 1].bps > o.bps ||
				 (tmp[j - 1].bps == o.bps && opt_major(&tmp[j - 1]) > opt_major(&o)))) {
			tmp[j] = tmp[j - 1];
			j--;
		}
		tmp[j] = o;
	}
	/* keep the spatial layer (encoding) non-decreasing and, within one, the temporal layer rising:
	 * a costlier option that gives less is no step up */
	unsigned m = 0, major = 0;
	int tid = -1;
	for (unsigned i = 0; i < n; i++) {
		unsigned mj = opt_major(&tmp[i]);
		if (m > 0 && (mj < major || (mj == major && (int)tmp[i].t.tid <= tid)))
			continue;
		major = mj;
		tid = tmp[i].t.tid;
		sub->opt[m++] = tmp[i];
	}
	sub->n_opt = (uint8_t)m;
	return m;
}

/* ---- allocation ----------------------------------------------------------------------------- */

/* Is option o within the ceiling c for this codec? */
static int within(const struct alloc_sub *sub, const struct layer_target *o)
{
	const struct layer_target *c = &sub->ceiling;

	if (o->encoding > c->encoding)
		return 0;
	switch (sub->codec) {
	case MMR_CODEC_VP9:
		return o->sid <= c->sid && o->tid <= c->tid;
	case MMR_CODEC_AV1:
		return o->dt <= c->dt;
	case MMR_CODEC_VP8:
		return o->tid <= c->tid;
	default:
		return 1;
	}
}

/* Is a within b (every field the codec uses)? */
static int target_le(uint8_t codec, const struct layer_target *a, const struct layer_target *b)
{
	if (a->encoding > b->encoding)
		return 0;
	switch (codec) {
	case MMR_CODEC_VP9:
		return a->sid <= b->sid && a->tid <= b->tid;
	case MMR_CODEC_AV1:
		return a->dt <= b->dt;
	case MMR_CODEC_VP8:
		return a->tid <= b->tid;
	default:
		return 1;
	}
}

/* The ladder index of allocation word w (-1: paused or none): the option with that target, else
 * the highest one within it (a ladder that changed since). */
static int level_of(const struct alloc_sub *sub, uint16_t w)
{
	if (w == LAYER_ALLOC_PAUSED || !(w & LAYER_ALLOC_SET))
		return -1;
	uint16_t packed = (uint16_t)(w & 0x07ffu);
	int best = -1;
	for (unsigned j = 0; j < sub->n_opt; j++) {
		if (layer_target_pack(&sub->opt[j].t) == packed)
			return (int)j;
		struct layer_target t = layer_target_unpack(packed);
		if (target_le(sub->codec, &sub->opt[j].t, &t))
			best = (int)j;
	}
	return best;
}

static int next_eligible(const struct alloc_sub *sub, int level)
{
	for (int j = level + 1; j < (int)sub->n_opt; j++)
		if (within(sub, &sub->opt[j].t))
			return j;
	return -1;
}

static inline uint32_t level_bps(const struct alloc_sub *sub, int level)
{
	return level < 0 ? 0 : sub->opt[level].bps;
}

static inline unsigned prio_class(uint8_t p)
{
	return p == 0 ? ALLOC_PRIO_NORMAL : p > ALLOC_PRIO_PINNED ? ALLOC_PRIO_PINNED : p;
}

static int ladder_ok(const struct alloc_sub *sub)
{
	if (sub->n_opt > ALLOC_MAX_OPTIONS)
		return 0;
	for (unsigned j = 1; j < sub->n_opt; j++)
		if (sub->opt[j].bps < sub->opt[j - 1].bps)
			return 0;
	return 1;
}

/* Per-run scratch of one sub (in priority order). */
struct work {
	struct alloc_sub *sub;
	struct alloc_sub_state *prev;   /* its state from the last run (NULL: new) */
	int prev_level;                 /* -1: paused or new */
	int cap;                        /* up-hold: not above this level (n_opt: no hold) */
	int held;                       /* under up-hold after this run */
	int level;
};

static void finish_sub(struct alloc_sub *sub, int level, uint16_t prev_alloc, int had_prev)
{
	sub->level = (int8_t)level;
	sub->alloc = level < 0 ? (uint16_t)LAYER_ALLOC_PAUSED : layer_alloc_word(&sub->opt[level].t);
	sub->bps = level_bps(sub, level);
	sub->changed = !had_prev || sub->alloc != prev_alloc;
}

int alloc_run(struct alloc_state *st, struct alloc_sub *subs, unsigned n, uint64_t budget_bps, uint64_t now_us,
	      unsigned flags, struct alloc_result *res)
{
	struct work w[ALLOC_MAX_SUBS];
	unsigned nw = 0;
	int ret = 0;

	memset(res, 0, sizeof(*res));
	if (n > 0 && !subs)
		return -1;

	/* priority order (stable by class), the first ALLOC_MAX_SUBS; the rest are paused */
	for (unsigned c = ALLOC_PRIO_PINNED; c >= ALLOC_PRIO_NORMAL; c--)
		for (unsigned i = 0; i < n; i++) {
			struct alloc_sub *sub = &subs[i];
			if (prio_class(sub->prio) != c)
				continue;
			if (!ladder_ok(sub)) {
				ret = -1;
				sub->n_opt = 0;
				finish_sub(sub, -1, LAYER_ALLOC_PAUSED, 0);
				sub->changed = 0;
				res->paused++;
				continue;
			}
			if (sub->n_opt == 0) {          /* nothing to allocate: follow the ceiling */
				sub->alloc = LAYER_ALLOC_NONE;
				sub->level = -1;
				sub->bps = 0;
				sub->changed = 0;
				continue;
			}
			if (nw == ALLOC_MAX_SUBS) {     /* beyond the limit: paused */
				finish_sub(sub, -1, LAYER_ALLOC_PAUSED, 1);
				res->paused++;
				continue;
			}
			w[nw++] = (struct work){ .sub = sub };
		}

	/* each one's state from the last run; is a run due? */
	int due = !st->ran_once || (flags & ALLOC_FORCE) || now_us >= st->last_run_us + ALLOC_REFRESH_US ||
		  nw != st->n;
	uint64_t lb = st->last_budget_bps;
	if (budget_bps > lb + (uint64_t)(ALLOC_BUDGET_CHANGE * (double)lb) ||
	    budget_bps < lb - (uint64_t)(ALLOC_BUDGET_CHANGE * (double)lb))
		due = 1;
	uint64_t cur_total = 0;
	for (unsigned i = 0; i < nw; i++) {
		struct work *x = &w[i];
		x->prev = NULL;
		/* the state is kept in the order of the last run: usually the same index */
		if (i < st->n && st->s[i].used && st->s[i].key == x->sub->key)
			x->prev = &st->s[i];
		for (unsigned k = 0; !x->prev && k < st->n; k++)
			if (st->s[k].used && st->s[k].key == x->sub->key)
				x->prev = &st->s[k];
		x->prev_level = x->prev ? level_of(x->sub, x->prev->alloc) : -1;
		x->cap = x->sub->n_opt;
		if (!x->prev || x->prev->ceiling != layer_target_pack(&x->sub->ceiling))
			due = 1;
		x->held = 0;
		if (x->prev && x->prev->held) {
			if (now_us >= x->prev->hold_until_us) {
				due = 1;        /* an up-hold ends: raise if it fits */
			} else {
				x->cap = level_of(x->sub, x->prev->hold_word);
				x->held = 1;
			}
		}
		if (x->prev_level >= 0 && !within(x->sub, &x->sub->opt[x->prev_level].t))
			due = 1;
		cur_total += level_bps(x->sub, x->prev_level);
	}
	if (cur_total > budget_bps)
		due = 1;

	if (!due) {
		/* everything stays as the last run left it (the word exactly as stored) */
		for (unsigned i = 0; i < nw; i++) {
			struct work *x = &w[i];
			x->level = x->prev_level;
			x->sub->level = (int8_t)x->prev_level;
			x->sub->alloc = x->prev->alloc;
			x->sub->bps = level_bps(x->sub, x->prev_level);
			x->sub->changed = 0;
		}
		goto results;
	}

	/* pass 1: every sub its lowest option within its ceiling, in priority order */
	const double margin = ALLOC_RAISE_MARGIN * (double)budget_bps;
	uint64_t total = 0;
	for (unsigned i = 0; i < nw; i++) {
		struct work *x = &w[i];
		int j0 = next_eligible(x->sub, -1);
		x->level = -1;
		if (j0 < 0 || j0 > x->cap)
			continue;
		uint64_t t2 = total + x->sub->opt[j0].bps;
		if (j0 <= x->prev_level ? t2 <= budget_bps : (double)t2 <= margin) {
			x->level = j0;
			total = t2;
		}
	}
	/* then one step per class unit per pass, in priority order, until nothing moves */
	for (int moved = 1; moved;) {
		moved = 0;
		for (unsigned i = 0; i < nw; i++) {
			struct work *x = &w[i];
			if (x->level < 0)
				continue;
			for (unsigned s = 0; s < prio_class(x->sub->prio); s++) {
				int nx = next_eligible(x->sub, x->level);
				if (nx < 0 || nx > x->cap)
					break;
				uint64_t t2 = total - x->sub->opt[x->level].bps + x->sub->opt[nx].bps;
				if (!(nx <= x->prev_level ? t2 <= budget_bps : (double)t2 <= margin))
					break;
				x->level = nx;
				total = t2;
				moved = 1;
			}
		}
	}

	/* results; a sub that ends below its previous level for lack of budget in congestion is held */
	struct alloc_sub_state ns[ALLOC_MAX_SUBS];
	for (unsigned i = 0; i < nw; i++) {
		struct work *x = &w[i];
		struct alloc_sub_state *p = x->prev;
		finish_sub(x->sub, x->level, p ? p->alloc : 0, p != NULL);
		ns[i] = (struct alloc_sub_state){ .key = x->sub->key, .alloc = x->sub->alloc, .used = 1,
						  .ceiling = layer_target_pack(&x->sub->ceiling) };
		if (p && p->held && now_us < p->hold_until_us) {
			ns[i].held = 1;
			ns[i].hold_until_us = p->hold_until_us;
			ns[i].hold_word = p->hold_word;
		}
		if ((flags & ALLOC_CONGESTION) && x->prev_level >= 0 && x->level < x->prev_level &&
		    within(x->sub, &x->sub->opt[x->prev_level].t)) {
			x->held = 1;
			ns[i].held = 1;
			ns[i].hold_until_us = now_us + ALLOC_UP_HOLD_US;
			ns[i].hold_word = x->sub->alloc;
		}
	}
	memcpy(st->s, ns, nw * sizeof(ns[0]));
	st->n = nw;
	st->ran_once = 1;
	st->last_run_us = now_us;
	st->last_budget_bps = budget_bps;
	st->runs++;
	res->ran = 1;

results:
	for (unsigned i = 0; i < nw; i++) {
		struct work *x = &w[i];
		struct alloc_sub *sub = x->sub;
		res->total_bps += sub->bps;
		res->changes += sub->changed;
		if (x->level < 0)
			res->paused++;
		/* what one more step each would cost (not for a sub under up-hold) */
		int nx = next_eligible(sub, x->level);
		res->want_bps += sub->bps;
		if (!x->held && nx >= 0)
			res->want_bps += sub->opt[nx].bps - sub->bps;
		int top = -1;
		for (int j = 0; j < (int)sub->n_opt; j++)
			if (within(sub, &sub->opt[j].t))
				top = j;
		res->max_bps += level_bps(sub, top > x->level ? top : x->level);
	}
	return ret;
}
