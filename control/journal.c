/*
 * journal.c - journal record framing (CRC-32C, lib/util/crc32c.h) and reading back (see journal.h).
 */
#include "journal.h"

#include "crc32c.h"
#include "le_bytes.h"

#include <stdio.h>
#include <string.h>

size_t journal_rec_begin(struct outbuf *b)
{
	size_t start = b->len;
	ob_add(b, "\0\0\0\0\0\0\0\0\0\0\0\0", JOURNAL_REC_HDR);
	return start;
}

void journal_rec_end(struct outbuf *b, size_t start)
{
	if (b->oom || b->len < start + JOURNAL_REC_HDR)
		return;
	uint8_t *h = (uint8_t *)b->p + start;
	size_t len = b->len - start - JOURNAL_REC_HDR;
	if (len > JOURNAL_MAX_RECORD) {
		b->oom = true;      /* a record the reader would take for damage: fail the change */
		return;
	}
	memcpy(h, JOURNAL_MAGIC, 4);
	put_le32(h + 4, (uint32_t)len);
	uint32_t crc = crc32c(0, h + 4, 4);
	crc = crc32c(crc, h + JOURNAL_REC_HDR, len);
	put_le32(h + 8, crc);
}

void journal_header(struct outbuf *b, uint64_t gen)
{
	size_t s = journal_rec_begin(b);
	ob_printf(b, "mmr-journal %d %llu\n", JOURNAL_VERSION, (unsigned long long)gen);
	journal_rec_end(b, s);
}

int journal_next(const uint8_t *buf, size_t len, size_t *off, const uint8_t **payload, size_t *plen)
{
	size_t o = *off;
	if (o == len)
		return 0;
	if (o > len || len - o < JOURNAL_REC_HDR || memcmp(buf + o, JOURNAL_MAGIC, 4) != 0)
		return -1;
	uint32_t n = get_le32(buf + o + 4);
	if (n > JOURNAL_MAX_RECORD || len - o - JOURNAL_REC_HDR < n)
		return -1;
	uint32_t crc = crc32c(0, buf + o + 4, 4);
	crc = crc32c(crc, buf + o + JOURNAL_REC_HDR, n);
	if (crc != get_le32(buf + o + 8))
		return -1;
	*payload = buf + o + JOURNAL_REC_HDR;
	*plen = n;
	*off = o + JOURNAL_REC_HDR + n;
	return 1;
}

int journal_parse_header(const uint8_t *payload, size_t len, uint64_t *gen)
{
	char text[64];
	if (len == 0 || len >= sizeof(text) || payload[len - 1] != '\n')
		return -1;
	memcpy(text, payload, len);
	text[len] = '\0';
	int version, used = 0;
	unsigned long long g;
	if (sscanf(text, "mmr-journal %d %llu\n%n", &version, &g, &used) != 2 || (size_t)used != len ||
	    version != JOURNAL_VERSION)
		return -1;
	*gen = g;
	return 0;
}
