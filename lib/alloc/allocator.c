/*
 * allocator.c - the bandwidth allocator of allocator.h.
 */
#include "allocator.h"

#include <string.h>

void alloc_state_init(struct alloc_state *st) { memset(st, 0, sizeof(*st)); }

unsigned alloc_ladder_build(struct alloc_sub *sub, uint8_t codec, unsigned spatial, unsigned temporal,
			    unsigned n_enc, const uint32_t bps[][MEDIA_MAX_SPATIAL][MEDIA_MAX_TEMPORAL])
{
	(void)spatial; (void)temporal; (void)n_enc; (void)bps;
	sub->codec = codec;
	sub->n_opt = 0;
	return 0;
}

int alloc_run(struct alloc_state *st, struct alloc_sub *subs, unsigned n, uint64_t budget_bps, uint64_t now_us,
	      unsigned flags, struct alloc_result *res)
{
	(void)st; (void)budget_bps; (void)now_us; (void)flags;
	memset(res, 0, sizeof(*res));
	for (unsigned i = 0; i < n; i++) {
		subs[i].alloc = LAYER_ALLOC_NONE;
		subs[i].level = -1;
		subs[i].changed = 0;
		subs[i].bps = 0;
	}
	return 0;
}
