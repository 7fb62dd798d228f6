/*
 * srtp_keys.c - SRTP suites and key material, on the control thread: suite names and key/salt
 * lengths, the RFC 3711 section 4.3 key derivation (AES-CM PRF, key derivation rate 0) that expands
 * a master key and salt into the six session keys (struct srtp_keys, see srtp_keys.h), and the SDES
 * "inline:" encoding of a master key (RFC 4568 section 6.1: base64 of key || salt).
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
	const struct suite_desc *d = suite_desc(suite);
	struct srtp_keys *k;

	if (!d) {
		errno = EINVAL;
		return NULL;
	}
	k = calloc(1, sizeof(*k));
	if (!k) {
		errno = ENOMEM;
		return NULL;
	}
	k->suite = suite;
	k->key_len = d->key_len;
	k->salt_len = d->salt_len;
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

/* ---- SDES inline: key material ------------------------------------------------------------- */

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

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
			v[j] = b64_value(c);
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
