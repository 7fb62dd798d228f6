/*
 * mix64.h - the 64-bit avalanche (MurmurHash3's fmix64) the project's in-memory hash tables put
 * their keys through, so that a table's slot (the low bits) depends on every bit of the key.
 */
#ifndef MMR_MIX64_H
#define MMR_MIX64_H

#include <stdint.h>

static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

#endif
