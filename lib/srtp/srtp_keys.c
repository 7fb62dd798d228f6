/*
 * srtp_keys.c - SRTP key material on the control thread: the RFC 3711 section 4.3 key derivation
 * (AES-CM PRF, key derivation rate 0) that expands a master key and salt into the six session keys
 * (struct srtp_keys, see srtp_keys.h). Suite names and the "inline:" text of a master key are in
 * lib/contract/srtp_master.c.
 *
 * Nothing here runs per packet; srtp_fast.c builds the per-SSRC packet contexts from the keys.
 * Key bytes are wiped (OPENSSL_cleanse) before memory is freed and never printed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "srtp_keys.h"

/* ---- key derivation ------------------------------------------------------------------------ */

int srtp_kdf(const uint8_t *master_key, size_t key_len, const uint8_t *master_salt, size_t salt_len,
	     enum srtp_kdf_label label, uint8_t *out, size_t out_len)
{
	static const uint8_t zeros[64];
	const EVP_CIPHER *cipher;
	EVP_CIPHER_CTX *ctx;
	uint8_t iv[16] = { 0 };
	int n, ret = -EINVAL;

	if (key_len == 16)
		cipher = EVP_aes_128_ctr();
	else if (key_len == 32)
		cipher = EVP_aes_256_ctr();
	else
		return -EINVAL;
	if ((salt_len != 12 && salt_len != 14) || out_len > sizeof(zeros) || (unsigned)label > 0xff)
		return -EINVAL;

	/* x = key_id XOR master_salt, right-aligned in 112 bits: key_id = label || r, r = 0 (48 bits),
	 * so the label lands on byte 7 of the (zero-padded) 14-byte salt. IV = x * 2^16. */
	memcpy(iv, master_salt, salt_len);
	iv[7] ^= (uint8_t)label;

	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return -ENOMEM;
	if (EVP_EncryptInit_ex(ctx, cipher, NULL, master_key, iv) != 1)
		goto out;
	if (EVP_EncryptUpdate(ctx, out, &n, zeros, (int)out_len) != 1 || (size_t)n != out_len)
		goto out;
	ret = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	OPENSSL_cleanse(iv, sizeof(iv));
	return ret;
}

static struct srtp_keys *keys_alloc(enum srtp_suite suite)
{
	int key_len = srtp_suite_key_len(suite), salt_len = srtp_suite_salt_len(suite);
	struct srtp_keys *k;

	if (key_len < 0 || salt_len < 0) {
		errno = EINVAL;
		return NULL;
	}
	k = calloc(1, sizeof(*k));
	if (!k) {
		errno = ENOMEM;
		return NULL;
	}
	k->suite = suite;
	k->key_len = (uint8_t)key_len;
	k->salt_len = (uint8_t)salt_len;
	return k;
}

static int derive_direction(const struct srtp_master *m, struct srtp_keys *k, int rtcp,
			    struct srtp_session_keys *sk)
{
	enum srtp_kdf_label base = rtcp ? SRTP_LABEL_RTCP_ENC : SRTP_LABEL_RTP_ENC;
	int r;

	r = srtp_kdf(m->key, m->key_len, m->salt, m->salt_len, base, sk->enc, k->key_len);
	if (r == 0)
		r = srtp_kdf(m->key, m->key_len, m->salt, m->salt_len, base + 2, sk->salt, k->salt_len);
	if (r == 0 && k->suite == SRTP_SUITE_AES_CM_128_HMAC_SHA1_80)
		r = srtp_kdf(m->key, m->key_len, m->salt, m->salt_len, base + 1, sk->auth,
			     SRTP_AUTH_KEY_LEN);
	return r;
}

struct srtp_keys *srtp_keys_new(const struct srtp_master *m)
{
	struct srtp_keys *k;
	int r;

	if (!m || srtp_suite_key_len(m->suite) != m->key_len ||
	    srtp_suite_salt_len(m->suite) != m->salt_len) {
		errno = EINVAL;
		return NULL;
	}
	k = keys_alloc(m->suite);
	if (!k)
		return NULL;
	r = derive_direction(m, k, 0, &k->rtp);
	if (r == 0)
		r = derive_direction(m, k, 1, &k->rtcp);
	if (r != 0) {
		srtp_keys_free(k);
		errno = -r;
		return NULL;
	}
	return k;
}

struct srtp_keys *srtp_keys_from_session(enum srtp_suite suite, const uint8_t *enc_key,
					 const uint8_t *salt, const uint8_t *auth)
{
	struct srtp_keys *k = keys_alloc(suite);

	if (!k)
		return NULL;
	if (!enc_key || !salt || (suite == SRTP_SUITE_AES_CM_128_HMAC_SHA1_80 && !auth)) {
		srtp_keys_free(k);
		errno = EINVAL;
		return NULL;
	}
	memcpy(k->rtp.enc, enc_key, k->key_len);
	memcpy(k->rtp.salt, salt, k->salt_len);
	if (auth)
		memcpy(k->rtp.auth, auth, SRTP_AUTH_KEY_LEN);
	k->rtcp = k->rtp;
	return k;
}

void srtp_keys_free(struct srtp_keys *k)
{
	if (!k)
		return;
	OPENSSL_cleanse(k, sizeof(*k));
	free(k);
}
