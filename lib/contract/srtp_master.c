/*
 * srtp_master.c - SRTP suites (names, key and salt lengths) and the SDES "inline:" encoding of a
 * master key (RFC 4568 section 6.1: base64 of key || salt). Key bytes are wiped (OPENSSL_cleanse)
 * from the stack and never printed.
 */
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#include "char_value.h"
#include "srtp_master.h"

struct suite_desc {
	const char *name;
	uint8_t key_len;
	uint8_t salt_len;
};

static const struct suite_desc suites[] = {
	[SRTP_SUITE_AEAD_AES_128_GCM]        = { "AEAD_AES_128_GCM", 16, 12 },
	[SRTP_SUITE_AEAD_AES_256_GCM]        = { "AEAD_AES_256_GCM", 32, 12 },
	[SRTP_SUITE_AES_CM_128_HMAC_SHA1_80] = { "AES_CM_128_HMAC_SHA1_80", 16, 14 },
};
#define N_SUITES (sizeof(suites) / sizeof(suites[0]))

static const struct suite_desc *suite_desc(enum srtp_suite s)
{
	if ((unsigned)s == SRTP_SUITE_NONE || (unsigned)s >= N_SUITES)
		return NULL;
	return &suites[s];
}

const char *srtp_suite_name(enum srtp_suite s)
{
	const struct suite_desc *d = suite_desc(s);

	if (d)
		return d->name;
	return s == SRTP_SUITE_NONE ? "NONE" : "UNKNOWN";
}

enum srtp_suite srtp_suite_from_name(const char *name)
{
	if (!name)
		return SRTP_SUITE_NONE;
	for (unsigned i = 1; i < N_SUITES; i++)
		if (strcmp(name, suites[i].name) == 0)
			return (enum srtp_suite)i;
	return SRTP_SUITE_NONE;
}

int srtp_suite_key_len(enum srtp_suite s)
{
	const struct suite_desc *d = suite_desc(s);

	return d ? d->key_len : -EINVAL;
}

int srtp_suite_salt_len(enum srtp_suite s)
{
	const struct suite_desc *d = suite_desc(s);

	return d ? d->salt_len : -EINVAL;
}

/* ---- SDES inline: key material ------------------------------------------------------------- */

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int srtp_master_to_inline(const struct srtp_master *m, char *out, size_t cap)
{
	uint8_t raw[SRTP_MAX_KEY + SRTP_MAX_SALT];
	size_t n, need, o = 0;

	if (!m || !out || srtp_suite_key_len(m->suite) != m->key_len ||
	    srtp_suite_salt_len(m->suite) != m->salt_len)
		return -EINVAL;
	n = (size_t)m->key_len + m->salt_len;
	need = 4 * ((n + 2) / 3);
	if (cap < need + 1)
		return -ENOSPC;
	memcpy(raw, m->key, m->key_len);
	memcpy(raw + m->key_len, m->salt, m->salt_len);
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)raw[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)raw[i + 1] << 8;
		if (i + 2 < n)
			v |= raw[i + 2];
		out[o++] = b64_alphabet[(v >> 18) & 63];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64_alphabet[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? b64_alphabet[v & 63] : '=';
	}
	out[o] = '\0';
	OPENSSL_cleanse(raw, sizeof(raw));
	return (int)o;
}

/*
 * Strict: optional "inline:" prefix, then canonical padded base64 and nothing else (no lifetime or
 * MKI parameters, no whitespace), decoding to exactly the suite's key + salt length.
 */
int srtp_master_from_inline(enum srtp_suite suite, const char *text, struct srtp_master *m)
{
	uint8_t raw[SRTP_MAX_KEY + SRTP_MAX_SALT + 3];
	int key_len = srtp_suite_key_len(suite), salt_len = srtp_suite_salt_len(suite);
	size_t len, n = 0;
	int ret = -EINVAL;

	if (!text || !m || key_len < 0 || salt_len < 0)
		return -EINVAL;
	if (strncmp(text, "inline:", 7) == 0)
		text += 7;
	len = strlen(text);
	/* The exact length the suite's key + salt encodes to; checked before decoding anything. */
	if (len != 4 * (((size_t)key_len + salt_len + 2) / 3))
		return -EINVAL;
	for (size_t i = 0; i < len; i += 4) {
		int v[4], pad = 0;

		for (int j = 0; j < 4; j++) {
			char c = text[i + j];

			if (c == '=' && i + 4 == len && j >= 2) {
				v[j] = 0;
				pad++;
				continue;
			}
			if (pad)          /* a data character after '=' */
				goto out;
			v[j] = b64_char_value(c, '+', '/');
			if (v[j] < 0)
				goto out;
		}
		/* Non-canonical: the bits that padding drops must be zero. */
		if ((pad == 2 && (v[1] & 0x0f)) || (pad == 1 && (v[2] & 0x03)))
			goto out;
		raw[n++] = (uint8_t)(v[0] << 2 | v[1] >> 4);
		if (pad < 2)
			raw[n++] = (uint8_t)(v[1] << 4 | v[2] >> 2);
		if (pad < 1)
			raw[n++] = (uint8_t)(v[2] << 6 | v[3]);
	}
	if (n != (size_t)key_len + (size_t)salt_len)
		goto out;
	memset(m, 0, sizeof(*m));
	m->suite = (uint8_t)suite;
	m->key_len = (uint8_t)key_len;
	m->salt_len = (uint8_t)salt_len;
	memcpy(m->key, raw, (size_t)key_len);
	memcpy(m->salt, raw + key_len, (size_t)salt_len);
	ret = 0;
out:
	OPENSSL_cleanse(raw, sizeof(raw));
	return ret;
}
