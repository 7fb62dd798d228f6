/*
 * char_value.h - the value of one character of a hex or base64 text (RFC 4648; the base64
 * alphabets differ only in the characters for 62 and 63: '+' '/' for base64, '-' '_' for
 * base64url). Header-only.
 */
#ifndef MMR_CHAR_VALUE_H
#define MMR_CHAR_VALUE_H

/* 0..15, or -1 when c is not a hex digit (either case). */
static inline int hex_char_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* 0..63, or -1 when c is not in the alphabet whose last two characters are c62 and c63. */
static inline int b64_char_value(char c, char c62, char c63)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == c62)
		return 62;
	if (c == c63)
		return 63;
	return -1;
}

#endif
