/*
 * id_index.c - open-addressing hash index of object ids (see id_index.h). Load factor at most 1/2.
 */
#include "id_index.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define EMPTY UINT32_MAX
#define MIN_CAP 64u

static int alloc_table(struct id_index *ix, uint32_t cap)
{
	uint32_t *ids = malloc((size_t)cap * sizeof(*ids));
	uint32_t *hashes = malloc((size_t)cap * sizeof(*hashes));
	if (!ids || !hashes) {
		free(ids);
		free(hashes);
		return -ENOMEM;
	}
	memset(ids, 0xff, (size_t)cap * sizeof(*ids));
	ix->ids = ids;
	ix->hashes = hashes;
	ix->mask = cap - 1;
	return 0;
}

int id_index_init(struct id_index *ix, id_index_eq_fn eq, const void *ctx)
{
	memset(ix, 0, sizeof(*ix));
	ix->eq = eq;
	ix->ctx = ctx;
	return alloc_table(ix, MIN_CAP);
}

void id_index_free(struct id_index *ix)
{
	free(ix->ids);
	free(ix->hashes);
	ix->ids = ix->hashes = NULL;
	ix->count = 0;
}

static void place(struct id_index *ix, uint32_t hash, uint32_t id)
{
	uint32_t i = hash & ix->mask;
	while (ix->ids[i] != EMPTY)
		i = (i + 1) & ix->mask;
	ix->ids[i] = id;
	ix->hashes[i] = hash;
}

int id_index_reserve(struct id_index *ix, uint32_t n)
{
	uint64_t want = (uint64_t)ix->count + n;
	uint64_t cap = (uint64_t)ix->mask + 1;
	if (want * 2 <= cap)
		return 0;
	while (want * 2 > cap)
		cap *= 2;
	if (cap > (1ull << 31))
		return -ENOMEM;
	struct id_index old = *ix;
	if (alloc_table(ix, (uint32_t)cap) < 0) {
		*ix = old;
		return -ENOMEM;
	}
	for (uint32_t i = 0; i <= old.mask; i++)
		if (old.ids[i] != EMPTY)
			place(ix, old.hashes[i], old.ids[i]);
	free(old.ids);
	free(old.hashes);
	return 0;
}

uint32_t id_index_find(const struct id_index *ix, uint32_t hash, const void *key)
{
	uint32_t i = hash & ix->mask;
	while (ix->ids[i] != EMPTY) {
		if (ix->hashes[i] == hash && ix->eq(ix->ctx, ix->ids[i], key))
			return ix->ids[i];
		i = (i + 1) & ix->mask;
	}
	return EMPTY;
}

void id_index_insert(struct id_index *ix, uint32_t hash, uint32_t id)
{
	place(ix, hash, id);
	ix->count++;
}

void id_index_remove(struct id_index *ix, uint32_t hash, uint32_t id)
{
	uint32_t i = hash & ix->mask;
	while (ix->ids[i] != EMPTY && !(ix->ids[i] == id && ix->hashes[i] == hash))
		i = (i + 1) & ix->mask;
	if (ix->ids[i] == EMPTY)
		return;
	ix->count--;
	/* backward shift: pull later entries of the probe run into the hole when that does not move
	 * them before their home slot */
	uint32_t hole = i;
	for (uint32_t j = (i + 1) & ix->mask; ix->ids[j] != EMPTY; j = (j + 1) & ix->mask) {
		uint32_t home = ix->hashes[j] & ix->mask;
		/* may move j to hole iff home is not in the cyclic range (hole, j] */
		bool in_range = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
		if (!in_range) {
			ix->ids[hole] = ix->ids[j];
			ix->hashes[hole] = ix->hashes[j];
			hole = j;
		}
	}
	ix->ids[hole] = EMPTY;
}

uint32_t id_hash_bytes(const void *p, uint32_t len, uint32_t seed)
{
	/* FNV-1a, then a final avalanche so the low bits (the slot) depend on every byte */
	const uint8_t *b = p;
	uint32_t h = 2166136261u ^ seed;
	for (uint32_t i = 0; i < len; i++) {
		h ^= b[i];
		h *= 16777619u;
	}
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

uint32_t id_hash_u64(uint64_t v)
{
	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdull;
	v ^= v >> 33;
	v *= 0xc4ceb3fe1a85ec53ull;
	v ^= v >> 33;
	return (uint32_t)v;
}
