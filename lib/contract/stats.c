/*
 * stats.c - the names and meanings of the counters of stats.h (made from its lists) and the one
 * summary of the lcore counters (rates, busy %, drops) that the status line and `mmrctl stats` share.
 */
#include <stddef.h>
#include <string.h>

#include "stats.h"

const char *const mmr_lcore_counter_names[MMR_LC__COUNT] = {
#define _(f, name, doc) [MMR_LC_##f] = name,
	foreach_mmr_lcore_counter(_)
#undef _
};
const char *const mmr_lcore_counter_docs[MMR_LC__COUNT] = {
#define _(f, name, doc) [MMR_LC_##f] = doc,
	foreach_mmr_lcore_counter(_)
#undef _
};
const char *const mmr_stream_counter_names[MMR_SC__COUNT] = {
#define _(f, name, doc) [MMR_SC_##f] = name,
	foreach_mmr_stream_counter(_)
#undef _
};
const char *const mmr_stream_counter_docs[MMR_SC__COUNT] = {
#define _(f, name, doc) [MMR_SC_##f] = doc,
	foreach_mmr_stream_counter(_)
#undef _
};

const char *const mmr_participant_counter_names[MMR_PC__COUNT] = {
#define _(f, name, doc) [MMR_PC_##f] = name,
	foreach_mmr_participant_counter(_)
#undef _
};
const char *const mmr_participant_counter_docs[MMR_PC__COUNT] = {
#define _(f, name, doc) [MMR_PC_##f] = doc,
	foreach_mmr_participant_counter(_)
#undef _
};

const char *const mmr_ctl_counter_names[MMR_CC__COUNT] = {
#define _(f, name, doc) [MMR_CC_##f] = name,
	foreach_mmr_ctl_counter(_)
#undef _
};
const char *const mmr_ctl_counter_docs[MMR_CC__COUNT] = {
#define _(f, name, doc) [MMR_CC_##f] = doc,
	foreach_mmr_ctl_counter(_)
#undef _
};

/* The by-index view c[] and the named fields are the same memory. */
#define _(f, name, doc) \
	_Static_assert(offsetof(struct mmr_lcore_stats, f) == MMR_LC_##f * sizeof(uint64_t), "lcore counter " name);
foreach_mmr_lcore_counter(_)
#undef _
#define _(f, name, doc) \
	_Static_assert(offsetof(struct mmr_stream_stats, f) == MMR_SC_##f * sizeof(uint64_t), "stream counter " name);
foreach_mmr_stream_counter(_)
#undef _
#define _(f, name, doc) \
	_Static_assert(offsetof(struct mmr_ctl_stats, f) == MMR_CC_##f * sizeof(uint64_t), "control counter " name);
foreach_mmr_ctl_counter(_)
#undef _

static inline uint64_t rd(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

void mmr_stats_sample_add(struct mmr_stats_sample *s, const struct mmr_lcore_stats *l)
{
	for (unsigned i = 0; i < MMR_LC__COUNT; i++)
		s->c[i] += rd(&l->c[i]);
	for (unsigned d = 0; d < MMR_DROP__COUNT; d++)
		s->drops[d] += rd(&l->drops[d]);
}

void mmr_stats_sample_area(struct mmr_stats_sample *s, const struct mmr_stats_area *a)
{
	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i < MMR_MAX_LCORES; i++)
		if (__atomic_load_n(&a->lcore[i].active, __ATOMIC_RELAXED))
			mmr_stats_sample_add(s, &a->lcore[i]);
}

void mmr_stats_summarize(const struct mmr_stats_sample *prev, const struct mmr_stats_sample *cur, double dt_s,
			 struct mmr_stats_summary *out)
{
	static const struct mmr_stats_sample zero;
	if (!prev)
		prev = &zero;
	/* a counter that went backwards (an lcore slot that stopped being active) counts as 0 */
#define DELTA(x) (cur->x >= prev->x ? cur->x - prev->x : 0)
	uint64_t drops = 0;
	for (unsigned d = 1; d < MMR_DROP__COUNT; d++)
		if (d != MMR_DROP_LAYER && d != MMR_DROP_PAUSED && d != MMR_DROP_TOPN)
			drops += DELTA(drops[d]);
	out->drops = drops;
	out->layer_drops = DELTA(drops[MMR_DROP_LAYER]) + DELTA(drops[MMR_DROP_PAUSED]) + DELTA(drops[MMR_DROP_TOPN]);
	double per_s = dt_s > 0 ? 1.0 / dt_s : 0.0;
	out->rx_pps = (double)DELTA(c[MMR_LC_rx_pkts]) * per_s;
	out->tx_pps = (double)DELTA(c[MMR_LC_tx_pkts]) * per_s;
	out->copies_ps = (double)DELTA(c[MMR_LC_copies]) * per_s;
	out->drops_ps = (double)drops * per_s;
	uint64_t cycles = DELTA(c[MMR_LC_cycles]), busy = DELTA(c[MMR_LC_busy_cycles]);
	out->busy_pct = cycles ? 100.0 * (double)(busy < cycles ? busy : cycles) / (double)cycles : 0.0;
#undef DELTA
}
