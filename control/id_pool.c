/*
 * id_pool.c - dense id allocation with a FIFO of freed ids (see id_pool.h).
 */
#include "id_pool.h"

#include <errno.h>
#include <stdlib.h>

int id_pool_init(struct id_pool *p, uint32_t max)
{
	p->max = max;
	p->fresh = 0;
	p->q_head = p->q_len = 0;
	p->in_use = 0;
	p->queue = malloc((size_t)max * sizeof(*p->queue));
	return p->queue ? 0 : -ENOMEM;
}

void id_pool_free(struct id_pool *p)
{
	free(p->queue);
	p->queue = NULL;
}

uint32_t id_pool_alloc(struct id_pool *p)
{
	uint32_t id;
	if (p->q_len > 0) {
		id = p->queue[p->q_head];
		p->q_head = (p->q_head + 1) % p->max;
		p->q_len--;
	} else if (p->fresh < p->max) {
		id = p->fresh++;
	} else {
		return UINT32_MAX;
	}
	p->in_use++;
	return id;
}

void id_pool_release(struct id_pool *p, uint32_t id)
{
	p->queue[(p->q_head + p->q_len) % p->max] = id;
	p->q_len++;
	p->in_use--;
}

void id_pool_claim(struct id_pool *p, uint32_t id)
{
	if (id >= p->fresh)
		p->fresh = id + 1;
}

void id_pool_rebuild(struct id_pool *p, bool (*taken)(const void *ctx, uint32_t id), const void *ctx)
{
	p->q_head = p->q_len = 0;
	p->in_use = 0;
	for (uint32_t i = 0; i < p->fresh; i++) {
		if (taken(ctx, i))
			p->in_use++;
		else
			p->queue[p->q_len++] = i;
	}
}
