/*
 * id_pool.h - dense numeric ids below a fixed bound, for meetings, participants, streams and
 * subscriptions. Freed ids are reused oldest-first (a FIFO), before ids never used, so ids stay
 * dense while a just-freed id (and, for streams, its counter slot) is not handed out again at once.
 */
#ifndef MMR_ID_POOL_H
#define MMR_ID_POOL_H

#include <stdbool.h>
#include <stdint.h>

struct id_pool {
	uint32_t max;           /* ids are < max */
	uint32_t fresh;         /* ids >= fresh were never used */
	uint32_t *queue;        /* freed ids, a ring of max entries */
	uint32_t q_head, q_len;
	uint32_t in_use;
};

int id_pool_init(struct id_pool *p, uint32_t max);
void id_pool_free(struct id_pool *p);
/* How many ids can still be allocated. */
static inline uint32_t id_pool_available(const struct id_pool *p)
{
	return p->max - p->in_use;
}
/* Next id, or UINT32_MAX when all are in use. */
uint32_t id_pool_alloc(struct id_pool *p);
void id_pool_release(struct id_pool *p, uint32_t id);
/* Loading saved state: id_pool_claim() each id in use (in any order), then id_pool_rebuild() with
 * taken(ctx, id) telling which ids below the highest claimed one are in use. */
void id_pool_claim(struct id_pool *p, uint32_t id);
void id_pool_rebuild(struct id_pool *p, bool (*taken)(const void *ctx, uint32_t id), const void *ctx);

#endif
