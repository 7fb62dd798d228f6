/*
 * crc32c.h - CRC-32C (Castagnoli), the checksum of the controller's journal records and of the
 * dataplane's SRTP ledger slots. crc32c(0, p, n) is the CRC of p; crc32c(crc32c(0, a, x), b, y) that
 * of a followed by b.
 */
#ifndef MMR_CRC32C_H
#define MMR_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t crc32c(uint32_t crc, const void *p, size_t n);

#endif
