/*
 * csum.h - a fast one's complement sum (RFC 1071) for the packet path: 32-bit loads into a 64-bit
 * accumulator, which the compiler vectorises (about 40 ns for 1200 bytes here, against 550 ns for a
 * 16-bit loop). The result is the folded, uncomplemented sum of BIG-ENDIAN 16-bit words, the same
 * value lib/pkt/pkt.h's pkt_raw_sum() folds to, so the two can be mixed.
 */
#ifndef MMR_DP_CSUM_H
#define MMR_DP_CSUM_H

#include <stdint.h>
#include <string.h>
#include <rte_byteorder.h>

#if defined(__GNUC__) && !defined(__clang__)
#define CSUM_VECTORIZE __attribute__((optimize("tree-vectorize")))
#else
#define CSUM_VECTORIZE
#endif

static inline uint16_t csum_fold64(uint64_t s)
{
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* Sum of host-order 16-bit words (a trailing odd byte padded with zero), folded to 16 bits. Since
 * 2^16 = 1 and 2^32 = 1 modulo 0xffff, summing 32-bit words into 64 bits and folding gives the
 * same one's complement sum. */
#define CSUM_HOST16_BODY                                       \
	uint64_t s = 0;                                        \
	uint32_t i = 0;                                        \
	for (; i + 4 <= len; i += 4) {                         \
		uint32_t w;                                    \
		memcpy(&w, p + i, 4);                          \
		s += w;                                        \
	}                                                      \
	if (i + 2 <= len) {                                    \
		uint16_t w;                                    \
		memcpy(&w, p + i, 2);                          \
		s += w;                                        \
		i += 2;                                        \
	}                                                      \
	if (i < len) {                                         \
		uint16_t w = 0;                                \
		memcpy(&w, p + i, 1);                          \
		s += w;                                        \
	}                                                      \
	return csum_fold64(s);

/* For short buffers (headers): inlined. */
static inline uint16_t csum_host16(const uint8_t *p, uint32_t len)
{
	CSUM_HOST16_BODY
}

/* For payloads: vectorised (GCC keeps it out of line because of the optimize attribute). */
static inline CSUM_VECTORIZE uint16_t csum_host16_bulk(const uint8_t *p, uint32_t len)
{
	CSUM_HOST16_BODY
}

/* The same sums over big-endian words: byte-swapping a one's complement sum swaps its word order. */
static inline uint32_t csum_be16(const void *p, uint32_t len)
{
	return rte_be_to_cpu_16(csum_host16(p, len));
}

static inline uint32_t csum_be16_bulk(const void *p, uint32_t len)
{
	return rte_be_to_cpu_16(csum_host16_bulk(p, len));
}

/* Fold a sum of big-endian words and complement it: the value to store in a checksum field. */
static inline uint16_t csum_finish(uint64_t sum)
{
	return (uint16_t)~csum_fold64(sum);
}

#endif
