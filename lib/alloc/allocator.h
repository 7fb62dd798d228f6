/*
 * allocator.h - shares one receiver's bandwidth estimate among its video subscriptions (its
 * "subs"): which layers each gets, or none (paused). Run by the receiver's owning lcore per feedback
 * or timer (never per packet); the result goes into each subscription's layer_sel alloc word
 * (layer_sel_alloc_set). Audio is never allocated (callers pass video subscriptions only).
 *
 * Ladder: per sub, its layer options in order of cost; an option's bps is cumulative (what
 * receiving up to that option costs): VP8/VP9 SVC and AV1 (s, t): the sum of layers (s' <= s,
 * t' <= t) of its stream; simulcast (encoding e, t): the layers t' <= t of encoding e's stream;
 * H.264 simulcast: (e, 0); a stream without layers: one option. alloc_ladder_build makes it from
 * layer_rate measurements (layer_rate_get of each encoding's stream), with a floor for layers not
 * measured in the window (ALLOC_FLOOR_BASE_BPS for a (s, 0) / encoding base layer,
 * ALLOC_FLOOR_LAYER_BPS for a temporal layer), sorted by bps, keeping the spatial layer (encoding)
 * non-decreasing along it. AV1: decode target dt = s * temporal + t (the usual L<S>T<T> order).
 *
 * alloc_run rules:
 *  - order: priority class (ALLOC_PRIO_PINNED 3: pinned or screen share; ALLOC_PRIO_SPEAKER 2: the
 *    dominant speaker's video; ALLOC_PRIO_NORMAL 1), then the callers' order;
 *  - only options within the sub's ceiling (the control thread's target: sid, tid, encoding; AV1:
 *    dt, encoding) are used;
 *  - pass 1: every sub its lowest option in priority order; a sub whose lowest option does not fit
 *    the budget left is paused (the next ones still try theirs);
 *  - then passes, each raising every sub in priority order by up to `class` steps (pinned 3,
 *    speaker 2, normal 1; mediasoup's priority steps) while the new total fits; until a pass
 *    changes nothing. Keeping (or going back to) the level a sub had needs the total <= budget;
 *    going above it (or resuming from a pause) needs the total <= ALLOC_RAISE_MARGIN (0.9) x
 *    budget;
 *  - up-hold: a sub that ends below its previous level for lack of budget (not a lower ceiling) is
 *    not raised above that level for ALLOC_UP_HOLD_US (4 s; the e2e needs a return within 10 s);
 *  - hysteresis: a run does nothing (keeps every allocation; ran = 0) unless it is the first, or
 *    ALLOC_FORCE is given (subscriptions or priorities changed), or the budget moved more than
 *    ALLOC_BUDGET_CHANGE (15 %, JVB) from the last run's, or ALLOC_REFRESH_US (5 s) passed, or a
 *    sub is new or its ceiling changed, or an up-hold expired, or the current allocation (at the
 *    new ladders) no longer fits the budget;
 *  - more than ALLOC_MAX_SUBS subs: those after the first ALLOC_MAX_SUBS in priority order are
 *    paused (JVB's last-N cut).
 * Results: per sub its new alloc word (LAYER_ALLOC_PAUSED or layer_alloc_word(t)), the total
 * allocated bps, and want_bps: the total if every sub not under up-hold got one more step within
 * its ceiling (a paused one its lowest option): what to probe for before the estimate can raise.
 * Pure C, no allocation; O(passes x subs).
 */
#ifndef MMR_ALLOCATOR_H
#define MMR_ALLOCATOR_H

#include <stdint.h>
#include "mmr_types.h"
#include "layer_select.h"

#define ALLOC_MAX_SUBS 64
#define ALLOC_MAX_OPTIONS (MEDIA_MAX_SPATIAL * MEDIA_MAX_TEMPORAL)   /* 12 (simulcast: 3 x 4) */

#define ALLOC_PRIO_NORMAL  1
#define ALLOC_PRIO_SPEAKER 2
#define ALLOC_PRIO_PINNED  3      /* pinned (MMR_PRIO_PINNED) or a screen share */

#define ALLOC_UP_HOLD_US     4000000ull
#define ALLOC_REFRESH_US     5000000ull
#define ALLOC_BUDGET_CHANGE  0.15
#define ALLOC_RAISE_MARGIN   0.90
#define ALLOC_FLOOR_BASE_BPS  30000u   /* an unmeasured base layer costs at least this */
#define ALLOC_FLOOR_LAYER_BPS 10000u   /* an unmeasured enhancement layer */

#define ALLOC_FORCE 1u                  /* alloc_run flag: an event (subscriptions, priorities) */

struct alloc_option {
	struct layer_target t;   /* the layers up to which this option goes */
	uint32_t bps;            /* cumulative cost */
};

/* One video subscription: filled by the caller, results written by alloc_run. */
struct alloc_sub {
	/* in */
	uint32_t key;                   /* identity across runs (the sel_id) */
	uint8_t  prio;                  /* ALLOC_PRIO_* (0 is taken as NORMAL, above 3 as PINNED) */
	uint8_t  codec;                 /* MMR_CODEC_*: which ceiling fields apply */
	uint8_t  n_opt;                 /* ladder length (0: nothing to allocate: alloc NONE) */
	struct layer_target ceiling;    /* layer_sel_target of its selection */
	struct alloc_option opt[ALLOC_MAX_OPTIONS];   /* ascending bps (alloc_ladder_build) */
	/* out */
	uint16_t alloc;                 /* LAYER_ALLOC_PAUSED or layer_alloc_word(opt[level].t) */
	int8_t   level;                 /* index into opt, -1 paused */
	uint8_t  changed;               /* alloc differs from the last run's */
	uint32_t bps;                   /* allocated (0 paused) */
};

struct alloc_sub_state {
	uint32_t key;
	uint16_t alloc;          /* the last allocation word */
	uint16_t ceiling;        /* the ceiling it was made under (packed) */
	uint16_t hold_word;      /* up-hold: not above this target word (packed) until hold_until_us */
	uint8_t  used;
	uint8_t  held;
	uint64_t hold_until_us;
};

/* Per receiver: the hysteresis state between runs. */
struct alloc_state {
	uint64_t last_run_us;
	uint64_t last_budget_bps;
	uint32_t runs;
	uint8_t  ran_once;
	uint32_t n;                                   /* entries used in s[] */
	struct alloc_sub_state s[ALLOC_MAX_SUBS];
};

struct alloc_result {
	uint64_t total_bps;      /* allocated now */
	uint64_t want_bps;       /* with one more step each (>= total_bps) */
	uint32_t changes;        /* subs whose alloc word changed */
	uint32_t paused;         /* subs paused now */
	uint8_t  ran;            /* 0: hysteresis kept everything */
};

void alloc_state_init(struct alloc_state *st);

/*
 * Build sub's ladder: codec, spatial layers (VP9/AV1; 1 otherwise), temporal layers (1 for H.264),
 * n_enc encodings (1 outside simulcast) and the measured per-layer bps of each encoding's stream
 * (bps[e][sid][tid], layer_rate_get; sid 0 in simulcast). Sets sub->n_opt and sub->opt; returns
 * n_opt. Counts beyond the limits are clamped.
 */
unsigned alloc_ladder_build(struct alloc_sub *sub, uint8_t codec, unsigned spatial, unsigned temporal,
			    unsigned n_enc, const uint32_t bps[][MEDIA_MAX_SPATIAL][MEDIA_MAX_TEMPORAL]);

/*
 * Allocate budget_bps among subs[0..n) at now_us (flags: ALLOC_FORCE). Writes every sub's alloc,
 * level, changed, bps (also when hysteresis keeps the last allocation) and *res. Returns 0, or -1
 * for bad input (subs NULL with n > 0, a ladder longer than ALLOC_MAX_OPTIONS or not ascending:
 * that sub is paused and the rest allocated).
 */
int alloc_run(struct alloc_state *st, struct alloc_sub *subs, unsigned n, uint64_t budget_bps, uint64_t now_us,
	      unsigned flags, struct alloc_result *res);

#endif
