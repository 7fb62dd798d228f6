/*
 * srtp_keys.h - the inside of struct srtp_keys (srtp_fast.h): the session keys one SRTP master key
 * expands to, and the RFC 3711 section 4.3 key derivation that makes them. Shared by srtp_keys.c
 * (which derives them on the control thread) and srtp_fast.c (which builds per-SSRC stream contexts
 * from them). The unit tests use srtp_kdf() and srtp_keys_from_session() for the known-answer
 * vectors of RFC 3711 appendix B.3 and RFC 7714 sections 16-17, which are stated in session keys.
 * Not for the dataplane or the controller: they use srtp_fast.h only.
 */
#ifndef MMR_SRTP_KEYS_H
#define MMR_SRTP_KEYS_H

#include <stdint.h>
#include <stddef.h>
#include "srtp_fast.h"

#define SRTP_AUTH_KEY_LEN 20    /* HMAC-SHA1 session authentication key (AES_CM_128_HMAC_SHA1_80) */

/* The keys of one direction of one protocol (SRTP or SRTCP). */
struct srtp_session_keys {
	uint8_t enc[SRTP_MAX_KEY];          /* session encryption key, key_len bytes */
	uint8_t salt[SRTP_MAX_SALT];        /* session salt, salt_len bytes (rest zero) */
	uint8_t auth[SRTP_AUTH_KEY_LEN];    /* session authentication key (HMAC suites only) */
};

struct srtp_keys {
	enum srtp_suite suite;
	uint8_t key_len;                    /* session key length = master key length */
	uint8_t salt_len;                   /* session salt length = master salt length */
	struct srtp_session_keys rtp;       /* labels 0, 1, 2 */
	struct srtp_session_keys rtcp;      /* labels 3, 4, 5 */
};

/* KDF labels (RFC 3711 section 4.3.1 and 4.3.2). */
enum srtp_kdf_label {
	SRTP_LABEL_RTP_ENC = 0, SRTP_LABEL_RTP_AUTH = 1, SRTP_LABEL_RTP_SALT = 2,
	SRTP_LABEL_RTCP_ENC = 3, SRTP_LABEL_RTCP_AUTH = 4, SRTP_LABEL_RTCP_SALT = 5,
};

/*
 * RFC 3711 section 4.3 with key derivation rate 0: out = AES-CM keystream under the master key with
 * IV = (master salt XOR (label << 48)) || 0x0000. A 12-byte master salt (the GCM suites, RFC 7714
 * section 11) is zero-padded on the right to 14 bytes first, as libsrtp2 does. key_len 16 or 32,
 * salt_len 12 or 14, out_len at most 64. Returns 0 or -EINVAL / -ENOMEM.
 */
int srtp_kdf(const uint8_t *master_key, size_t key_len, const uint8_t *master_salt, size_t salt_len,
	     enum srtp_kdf_label label, uint8_t *out, size_t out_len);

/* Keys made from session keys directly, bypassing the KDF (known-answer tests): the same keys for
 * SRTP and SRTCP. auth may be NULL for the GCM suites. NULL with errno EINVAL on a bad suite. */
struct srtp_keys *srtp_keys_from_session(enum srtp_suite suite, const uint8_t *enc_key,
					 const uint8_t *salt, const uint8_t *auth);

#endif
