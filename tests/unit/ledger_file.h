/*
 * ledger_file.h - the SRTP ledger's file format (lib/srtp/srtp_ledger.c) written out again, independently,
 * for the tests that build ledger files byte by byte (test_srtp_ledger.c, fuzz_srtp_ledger.c): the
 * bitwise CRC-32C, little-endian fields, a record copy's seal and the header. Layout: a 64-byte
 * header ("MMRSLDG1", version 1, slot size 64, 16-byte id, CRC-32C of bytes 0-59 at 60), then 64-byte
 * slots of two 32-byte copies: fp 12, ssrc 4, limit | kind << 56 (8), gen 4, and a CRC-32C over the
 * slot number (8 bytes) and the copy's first 28 bytes.
 */
#ifndef MMR_TEST_LEDGER_FILE_H
#define MMR_TEST_LEDGER_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define LEDGER_HDR  64
#define LEDGER_COPY 32

static inline uint32_t ledger_crc32c(const uint8_t *p, size_t n)
{
	uint32_t c = ~0u;

	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
	}
	return ~c;
}

static inline void le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> 8 * i);
}

static inline void le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> 8 * i);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Give the copy c (first 28 bytes filled) of slot number `slot` its CRC. */
static inline void ledger_seal_copy(uint8_t c[LEDGER_COPY], uint64_t slot)
{
	uint8_t b[36];

	le64(b, slot);
	memcpy(b + 8, c, 28);
	le32(c + 28, ledger_crc32c(b, sizeof(b)));
}

/* A valid header with the given 16-byte id. */
static inline void ledger_header(uint8_t h[LEDGER_HDR], const uint8_t id[16])
{
	memset(h, 0, LEDGER_HDR);
	memcpy(h, "MMRSLDG1", 8);
	le32(h + 8, 1);
	le32(h + 12, 64);
	memcpy(h + 16, id, 16);
	le32(h + 60, ledger_crc32c(h, 60));
}

#endif
