/*
 * nack_gen.c - the missing-packet list of a received stream and the NACKs for it (see nack_gen.h).
 *
 * The list is an array sorted by extended seq (serial order): gaps append at the end (they are
 * always newer than everything listed), a repaired seq is found by binary search and removed with
 * a memmove (at most NACK_GEN_MAX_MISSING - 1 items of 24 bytes), nack_gen_due walks it once.
 */
#include <string.h>

#include "nack_gen.h"

static uint64_t us_to_tsc(const struct nack_gen *g, uint64_t us)
{
	return (uint64_t)((unsigned __int128)us * g->tsc_hz / 1000000u);
}

void nack_gen_init(struct nack_gen *g, uint64_t tsc_hz)
{
	memset(g, 0, sizeof(*g));
	g->tsc_hz = tsc_hz;
	g->reorder_tsc = us_to_tsc(g, NACK_GEN_REORDER_US);
	g->min_interval_tsc = us_to_tsc(g, NACK_GEN_MIN_INTERVAL_US);
	g->max_age_tsc = us_to_tsc(g, (uint64_t)NACK_GEN_MAX_AGE_MS * 1000u);
	g->next_tsc = UINT64_MAX;
	g->max_tries = NACK_GEN_MAX_TRIES;
}

void nack_gen_reset(struct nack_gen *g)
{
	g->started = 0;
	g->hopeless = 0;
	g->n = 0;
	g->newest = 0;
	g->next_tsc = UINT64_MAX;
}

/* Index of the first item whose seq is not before ext_seq. */
static unsigned lower_bound(const struct nack_gen *g, uint32_t ext_seq)
{
	unsigned lo = 0, hi = g->n;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;

		if ((int32_t)(g->item[mid].ext_seq - ext_seq) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void remove_range(struct nack_gen *g, unsigned from, unsigned to)
{
	if (to > from) {
		memmove(&g->item[from], &g->item[to], (g->n - to) * sizeof(g->item[0]));
		g->n = (uint16_t)(g->n - (to - from));
	}
	if (!g->n)
		g->next_tsc = UINT64_MAX;
}

enum nack_gen_result nack_gen_on_seq(struct nack_gen *g, uint32_t ext_seq, uint64_t now_tsc)
{
	int32_t d;
	uint32_t gap, s;
	unsigned i;

	if (!g->started) {
		g->started = 1;
		g->newest = ext_seq;
		return NACK_GEN_IN_ORDER;
	}
	d = (int32_t)(ext_seq - g->newest);
	if (d > 0) {
		gap = (uint32_t)d - 1;
		if (gap) {
			if (g->n + gap > NACK_GEN_MAX_MISSING) {
				g->given_up += g->n + gap;
				g->n = 0;
				g->next_tsc = UINT64_MAX;
				g->hopeless = 1;
				g->newest = ext_seq;
				return NACK_GEN_OVERFLOW;
			}
			for (s = g->newest + 1; s != ext_seq; s++) {
				struct nack_gen_item *it = &g->item[g->n++];

				it->ext_seq = s;
				it->tries = 0;
				it->missing_tsc = now_tsc;
				it->sent_tsc = 0;
			}
			if (now_tsc + g->reorder_tsc < g->next_tsc)
				g->next_tsc = now_tsc + g->reorder_tsc;
		}
		g->newest = ext_seq;
		return NACK_GEN_IN_ORDER;
	}
	if (d == 0 || !g->n)
		return NACK_GEN_OLD;
	i = lower_bound(g, ext_seq);
	if (i == g->n || g->item[i].ext_seq != ext_seq)
		return NACK_GEN_OLD;
	remove_range(g, i, i + 1);
	g->repaired++;
	return NACK_GEN_REPAIRED;
}

void nack_gen_keyframe(struct nack_gen *g, uint32_t ext_seq)
{
	remove_range(g, 0, lower_bound(g, ext_seq));
}

unsigned nack_gen_due(struct nack_gen *g, uint64_t now_tsc, uint32_t rtt_us, uint16_t *seqs, unsigned max)
{
	uint64_t interval = us_to_tsc(g, rtt_us ? rtt_us : NACK_GEN_DEFAULT_RTT_US);
	uint64_t next = UINT64_MAX, at, expire;
	unsigned i, w = 0, out = 0;

	if (interval < g->min_interval_tsc)
		interval = g->min_interval_tsc;
	for (i = 0; i < g->n; i++) {
		struct nack_gen_item it = g->item[i];

		expire = it.missing_tsc + g->max_age_tsc;
		if (it.tries >= g->max_tries && it.sent_tsc + interval < expire)
			expire = it.sent_tsc + interval;   /* the last try's answer did not come */
		if (now_tsc >= expire) {
			g->given_up++;
			g->hopeless = 1;
			continue;
		}
		at = it.tries ? it.sent_tsc + interval : it.missing_tsc + g->reorder_tsc;
		if (it.tries < g->max_tries && now_tsc >= at && out < max) {
			seqs[out++] = (uint16_t)it.ext_seq;
			it.tries++;
			it.sent_tsc = now_tsc;
			g->asked++;
			at = now_tsc + interval;
			if (it.tries >= g->max_tries && at < expire)
				expire = at;
		}
		if (it.tries >= g->max_tries)
			at = expire;
		if (expire < at)
			at = expire;
		if (at < next)
			next = at;
		g->item[w++] = it;
	}
	g->n = (uint16_t)w;
	g->next_tsc = next;
	return out;
}
