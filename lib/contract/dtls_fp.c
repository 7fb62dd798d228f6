/*
 * dtls_fp.c - DTLS fingerprints in SDP form (dtls_fp.h).
 */
#include "dtls_fp.h"
#include "char_value.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

void dtls_fp_format(const uint8_t fp[DTLS_FP_LEN], char out[DTLS_FP_TEXT_LEN + 1])
{
	static const char hex[] = "0123456789ABCDEF";

	for (int i = 0; i < DTLS_FP_LEN; i++) {
		out[i * 3] = hex[fp[i] >> 4];
		out[i * 3 + 1] = hex[fp[i] & 15];
		out[i * 3 + 2] = ':';
	}
	out[DTLS_FP_TEXT_LEN] = '\0';
}

int dtls_fp_parse(const char *text, uint8_t fp[DTLS_FP_LEN])
{
	uint8_t out[DTLS_FP_LEN];
	const char *p = text;

	if (!text)
		return -EINVAL;
	if (strncasecmp(p, "sha-256", 7) == 0) {
		p += 7;
		if (*p != ' ' && *p != '\t')
			return -EINVAL;
		while (*p == ' ' || *p == '\t')
			p++;
	}
	for (int i = 0; i < DTLS_FP_LEN; i++) {
		int h = hex_char_value(p[0]), l = h < 0 ? -1 : hex_char_value(p[1]);

		if (h < 0 || l < 0)
			return -EINVAL;
		out[i] = (uint8_t)(h << 4 | l);
		p += 2;
		if (i < DTLS_FP_LEN - 1 && *p++ != ':')
			return -EINVAL;
	}
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	if (*p)
		return -EINVAL;
	memcpy(fp, out, sizeof(out));
	return 0;
}
