/*
 * keys.c - SRTP master keys made with OpenSSL's RAND_bytes, and their "inline:" text (see keys.h).
 * The suite names, key lengths and the base64 coding are lib/contract/srtp_master.h's.
 */
#include "keys.h"

#include <string.h>
#include <openssl/rand.h>

bool keys_valid(enum srtp_suite suite, const struct srtp_master *m)
{
	int kl = srtp_suite_key_len(suite), sl = srtp_suite_salt_len(suite);
	return kl > 0 && sl > 0 && m->suite == suite && m->key_len == kl && m->salt_len == sl;
}

int keys_generate(enum srtp_suite suite, struct srtp_master *out)
{
	int kl = srtp_suite_key_len(suite), sl = srtp_suite_salt_len(suite);
	memset(out, 0, sizeof(*out));
	if (kl <= 0 || sl <= 0 || kl > SRTP_MAX_KEY || sl > SRTP_MAX_SALT)
		return -1;
	out->suite = (uint8_t)suite;
	out->key_len = (uint8_t)kl;
	out->salt_len = (uint8_t)sl;
	if (RAND_bytes(out->key, kl) != 1 || RAND_bytes(out->salt, sl) != 1) {
		explicit_bzero(out, sizeof(*out));
		return -1;
	}
	return 0;
}

int keys_generate_pair(enum srtp_suite suite, struct srtp_master out[2])
{
	if (keys_generate(suite, &out[0]) == 0 && keys_generate(suite, &out[1]) == 0)
		return 0;
	explicit_bzero(out, 2 * sizeof(out[0]));
	return -1;
}

int keys_random_ssrc(uint32_t *out)
{
	do {
		if (RAND_bytes((unsigned char *)out, sizeof(*out)) != 1)
			return -1;
	} while (*out == 0);
	return 0;
}

int keys_to_inline(const struct srtp_master *m, char out[KEYS_INLINE_MAX])
{
	/* the library writes the base64 (with or without the prefix): make it "inline:BASE64" */
	char b64[KEYS_INLINE_MAX];
	int rc = -1;
	if (srtp_master_to_inline(m, b64, sizeof(b64)) < 0)
		goto out;
	const char *text = strncmp(b64, "inline:", 7) == 0 ? b64 + 7 : b64;
	if (strlen(text) + 8 > KEYS_INLINE_MAX)
		goto out;
	memcpy(out, "inline:", 7);
	strcpy(out + 7, text);
	rc = 0;
out:
	explicit_bzero(b64, sizeof(b64));
	return rc;
}

int keys_from_inline(enum srtp_suite suite, const char *text, struct srtp_master *out)
{
	memset(out, 0, sizeof(*out));
	if (srtp_master_from_inline(suite, text, out) < 0 || !keys_valid(suite, out)) {
		explicit_bzero(out, sizeof(*out));
		return -1;
	}
	return 0;
}
