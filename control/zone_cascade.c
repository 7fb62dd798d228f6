/*
 * zone_cascade.c - cascading between hosts of a zone (issue 16): the trunks' SRTP keys (see
 * zone_cascade.h).
 */
#include "zone_cascade.h"

#include <string.h>
#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "zone_conf.h"
#include "values.h"

#define CASCADE_SECRET_MIN 32
#define CASCADE_SECRET_MAX 512

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

int cascade_trunk_key(const uint8_t *secret, size_t secret_len, enum srtp_suite suite, const char *meeting,
		      int64_t create_rev, uint64_t epoch, const char *from, const char *to, struct srtp_master *out)
{
	memset(out, 0, sizeof(*out));
	int klen = srtp_suite_key_len(suite);
	int slen = srtp_suite_salt_len(suite);
	size_t ml = meeting ? strlen(meeting) : 0, fl = from ? strlen(from) : 0, tl = to ? strlen(to) : 0;
	if (klen <= 0 || slen <= 0 || !secret || secret_len < CASCADE_SECRET_MIN || secret_len > CASCADE_SECRET_MAX ||
	    ml == 0 || ml > VAL_NAME_MAX || fl == 0 || fl > ZONE_NAME_MAX || tl == 0 || tl > ZONE_NAME_MAX ||
	    create_rev < 1 || epoch == 0 || strcmp(from, to) == 0)
		return -1;
	/* info: a label, then each field NUL-terminated or fixed-size: no two inputs give one string */
	uint8_t info[16 + VAL_NAME_MAX + 1 + 16 + 2 * (ZONE_NAME_MAX + 1) + 1], *p = info;
	static const char label[] = "mmr trunk v1";
	memcpy(p, label, sizeof(label));
	p += sizeof(label);
	memcpy(p, meeting, ml + 1);
	p += ml + 1;
	put64(p, (uint64_t)create_rev);
	put64(p + 8, epoch);
	p += 16;
	memcpy(p, from, fl + 1);
	p += fl + 1;
	memcpy(p, to, tl + 1);
	p += tl + 1;
	*p++ = (uint8_t)suite;
	uint8_t okm[SRTP_MAX_KEY + SRTP_MAX_SALT];
	int rc = -1;
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *kc = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	if (kc) {
		OSSL_PARAM params[] = {
			OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
			OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, secret_len),
			OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)label, sizeof(label) - 1),
			OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, (size_t)(p - info)),
			OSSL_PARAM_construct_end(),
		};
		if (EVP_KDF_derive(kc, okm, (size_t)klen + (size_t)slen, params) == 1) {
			out->suite = (uint8_t)suite;
			out->key_len = (uint8_t)klen;
			out->salt_len = (uint8_t)slen;
			memcpy(out->key, okm, (size_t)klen);
			memcpy(out->salt, okm + klen, (size_t)slen);
			rc = 0;
		}
	}
	EVP_KDF_CTX_free(kc);
	EVP_KDF_free(kdf);
	explicit_bzero(okm, sizeof(okm));
	explicit_bzero(info, sizeof(info));
	return rc;
}
