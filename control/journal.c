/*
 * journal.c - journal record framing, CRC-32C and reading back (see journal.h).
 */
#include "journal.h"

#include <stdio.h>
#include <string.h>

static uint32_t crc_table[8][256];
static int crc_ready;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1u)));
		crc_table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xff];
	crc_ready = 1;
}

/* slicing-by-8: a batch of a hundred thousand subscriptions is checked in a few milliseconds */
uint32_t journal_crc32c(uint32_t crc, const void *p, size_t n)
{
	const uint8_t *b = p;
	if (!crc_ready)
		crc_init();
	crc = ~crc;
	while (n >= 8) {
		uint32_t lo = crc ^ ((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
		crc = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^ crc_table[5][(lo >> 16) & 0xff] ^
		      crc_table[4][lo >> 24] ^ crc_table[3][b[4]] ^ crc_table[2][b[5]] ^ crc_table[1][b[6]] ^
		      crc_table[0][b[7]];
		b += 8;
		n -= 8;
	}
	while (n--)
		crc = (crc >> 8) ^ crc_table[0][(crc ^ *b++) & 0xff];
	return ~crc;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

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
	uint32_t crc = journal_crc32c(0, h + 4, 4);
	crc = journal_crc32c(crc, h + JOURNAL_REC_HDR, len);
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
	uint32_t crc = journal_crc32c(0, buf + o + 4, 4);
	crc = journal_crc32c(crc, buf + o + JOURNAL_REC_HDR, n);
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
