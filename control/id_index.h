/*
 * id_index.h - a hash index from some key to a dense object id (uint32), for the controller's
 * lookups: meeting by name, participant by (meeting, name) and by (address, port), stream by
 * (meeting, SSRC), subscription by (stream, subscriber).
 *
 * The index stores only ids and their 32-bit hashes (open addressing, linear probing, backward
 * shift on removal); the keys live in the objects themselves and are compared through the `eq`
 * callback given at init. Inserts never allocate: callers reserve room first (id_index_reserve)
 * so that a request can fail cleanly before it changes anything.
 */
#ifndef MMR_ID_INDEX_H
#define MMR_ID_INDEX_H

#include <stdbool.h>
#include <stdint.h>

/* Does the object with this id have this key? */
typedef bool (*id_index_eq_fn)(const void *ctx, uint32_t id, const void *key);

struct id_index {
	uint32_t *ids;          /* UINT32_MAX = empty slot */
	uint32_t *hashes;
	uint32_t mask;          /* capacity - 1; capacity is a power of two */
	uint32_t count;
	id_index_eq_fn eq;
	const void *ctx;
};

int id_index_init(struct id_index *ix, id_index_eq_fn eq, const void *ctx);
void id_index_free(struct id_index *ix);
/* Make room for n more entries; 0 or -ENOMEM. */
int id_index_reserve(struct id_index *ix, uint32_t n);
/* The id whose key matches, or UINT32_MAX. */
uint32_t id_index_find(const struct id_index *ix, uint32_t hash, const void *key);
/* Add an entry; room must have been reserved. */
void id_index_insert(struct id_index *ix, uint32_t hash, uint32_t id);
/* Remove the entry (hash, id) if present. */
void id_index_remove(struct id_index *ix, uint32_t hash, uint32_t id);

/* Hash helpers. */
uint32_t id_hash_bytes(const void *p, uint32_t len, uint32_t seed);
uint32_t id_hash_u64(uint64_t v);

#endif
