/*
 * zone_seal.c - AES-256-GCM sealing of a meeting's passcode record for etcd (see zone_seal.h).
 */
#define _GNU_SOURCE
#include "zone_seal.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <string.h>

#include "hex.h"

#define SECRET_MIN 32

static const char label[] = "mmr controls v1";

int zone_hkdf_sha256(const uint8_t *secret, size_t secret_len, const char *salt, const uint8_t *info,
		     size_t info_len, uint8_t *out, size_t out_len)
{
	int rc = -1;
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *kc = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	if (kc) {
		OSSL_PARAM params[] = {
			OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
			OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, secret_len),
			OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, strlen(salt)),
			OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len),
			OSSL_PARAM_construct_end(),
		};
		rc = EVP_KDF_derive(kc, out, out_len, params) == 1 ? 0 : -1;
	}
	EVP_KDF_CTX_free(kc);
	EVP_KDF_free(kdf);
	return rc;
}

static int derive(const uint8_t *secret, size_t secret_len, uint8_t key[32])
{
	if (!secret || secret_len < SECRET_MIN)
		return -1;
	return zone_hkdf_sha256(secret, secret_len, label, (const uint8_t *)label, sizeof(label) - 1, key, 32);
}

/* One GCM pass: enc 1 seals (tag out), 0 opens (tag in, checked). 0 or -1. */
static int gcm(int enc, const uint8_t key[32], const uint8_t *nonce, const char *aad, const uint8_t *in, size_t n,
	       uint8_t *out, uint8_t *tag)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int l = 0, ok = c && EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) == 1 &&
			EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, ZSEAL_NONCE, NULL) == 1 &&
			EVP_CipherInit_ex(c, NULL, NULL, key, nonce, enc) == 1 &&
			EVP_CipherUpdate(c, NULL, &l, (const uint8_t *)aad, (int)strlen(aad)) == 1 &&
			EVP_CipherUpdate(c, out, &l, in, (int)n) == 1 && (size_t)l == n;
	if (ok && !enc)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, ZSEAL_TAG, tag) == 1;
	int f = 0;
	ok = ok && EVP_CipherFinal_ex(c, out + n, &f) == 1 && f == 0;
	if (ok && enc)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, ZSEAL_TAG, tag) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

int zone_seal(const uint8_t *secret, size_t secret_len, const char *meeting, const uint8_t *plain, size_t n,
	      char *out, size_t cap)
{
	uint8_t key[32], buf[ZSEAL_NONCE + ZSEAL_PLAIN_MAX + ZSEAL_TAG + 1];
	size_t total = ZSEAL_NONCE + n + ZSEAL_TAG;
	if (!meeting || !meeting[0] || n == 0 || n > ZSEAL_PLAIN_MAX || cap < 2 * total + 1 ||
	    derive(secret, secret_len, key) < 0)
		return -1;
	int rc = -1;
	if (RAND_bytes(buf, ZSEAL_NONCE) == 1 &&
	    gcm(1, key, buf, meeting, plain, n, buf + ZSEAL_NONCE, buf + ZSEAL_NONCE + n) == 0) {
		mmr_hex_encode(buf, total, out);
		rc = 0;
	}
	explicit_bzero(key, sizeof(key));
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

int zone_unseal(const uint8_t *secret, size_t secret_len, const char *meeting, const char *text, uint8_t *plain,
		size_t n)
{
	uint8_t key[32], buf[ZSEAL_NONCE + ZSEAL_PLAIN_MAX + ZSEAL_TAG], tmp[ZSEAL_PLAIN_MAX + 16];
	size_t total = ZSEAL_NONCE + n + ZSEAL_TAG;
	if (!meeting || !meeting[0] || !text || n == 0 || n > ZSEAL_PLAIN_MAX ||
	    mmr_hex_decode(text, buf, total) < 0 || derive(secret, secret_len, key) < 0)
		return -1;
	int rc = gcm(0, key, buf, meeting, buf + ZSEAL_NONCE, n, tmp, buf + ZSEAL_NONCE + n);
	if (rc == 0)
		memcpy(plain, tmp, n);
	explicit_bzero(key, sizeof(key));
	explicit_bzero(tmp, sizeof(tmp));
	return rc;
}
