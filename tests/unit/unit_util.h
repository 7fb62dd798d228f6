/*
 * unit_util.h - small helpers the cmocka unit tests share: a seeded xorshift generator for the
 * random-input tests (same sequence on every run) and exact-size heap copies, so that AddressSanitizer
 * sees any read a parser makes past the end of its input.
 */
#ifndef MMR_UNIT_UTIL_H
#define MMR_UNIT_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rng_state;   /* set the seed before use */

static inline uint32_t rnd(void)
{
	uint32_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return rng_state = x;
}

/* A heap copy of exactly len bytes (one byte for len 0); abort if memory runs out. Free it. */
static inline uint8_t *heap_copy(const uint8_t *p, uint32_t len)
{
	uint8_t *copy = malloc(len ? len : 1);

	if (!copy)
		abort();
	memcpy(copy, p, len);
	return copy;
}

#endif
