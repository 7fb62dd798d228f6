/*
 * hex.h - bytes as lower-case hex digits and back: the controller's files (SRTP ledger id, passcode
 * salts and hashes) and random names.
 */
#ifndef MMR_HEX_H
#define MMR_HEX_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* n bytes as 2n lower-case hex digits and a NUL (out: 2n + 1 chars); returns out. */
static inline char *mmr_hex_encode(const uint8_t *b, size_t n, char *out)
{
	static const char digit[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digit[b[i] >> 4];
		out[2 * i + 1] = digit[b[i] & 15];
	}
	out[2 * n] = '\0';
	return out;
}

/* Exactly 2n lower-case hex digits into n bytes. 0, or -1 (another length or character). */
static inline int mmr_hex_decode(const char *s, uint8_t *out, size_t n)
{
	if (strlen(s) != 2 * n || strspn(s, "0123456789abcdef") != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned hi = (unsigned)(s[2 * i] <= '9' ? s[2 * i] - '0' : s[2 * i] - 'a' + 10);
		unsigned lo = (unsigned)(s[2 * i + 1] <= '9' ? s[2 * i + 1] - '0' : s[2 * i + 1] - 'a' + 10);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

#endif
