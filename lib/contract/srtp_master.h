/*
 * srtp_master.h - SRTP master keys as the controller and the dataplane exchange them: the suites, the
 * fixed-layout key material a PARTICIPANT_PUT carries (cmd_chan.h), suite names and key lengths, and
 * the SDES "inline:" text of a key. Part of the contract (libmmr_contract.a): pure code, no crypto
 * contexts; the dataplane's packet crypto is lib/srtp/srtp_fast.h.
 */
#ifndef MMR_SRTP_MASTER_H
#define MMR_SRTP_MASTER_H

#include <stdint.h>
#include <stddef.h>

enum srtp_suite {
	SRTP_SUITE_NONE = 0,
	SRTP_SUITE_AEAD_AES_128_GCM = 1,       /* key 16, salt 12, tag 16 (RFC 7714) */
	SRTP_SUITE_AEAD_AES_256_GCM = 2,       /* key 32, salt 12, tag 16 */
	SRTP_SUITE_AES_CM_128_HMAC_SHA1_80 = 3, /* key 16, salt 14, tag 10 (RFC 3711) */
};
#define SRTP_MAX_KEY  32
#define SRTP_MAX_SALT 14

/* Master key material as it travels from the controller (fixed layout: it is in cmd_chan.h). */
struct srtp_master {
	uint8_t suite;          /* enum srtp_suite */
	uint8_t key_len;
	uint8_t salt_len;
	uint8_t pad;
	uint8_t key[SRTP_MAX_KEY];
	uint8_t salt[SRTP_MAX_SALT];
	uint8_t pad2[2];
};

/* Name <-> suite ("AEAD_AES_128_GCM", ...; "NONE" / "UNKNOWN" for others); key/salt lengths of a
 * suite (-EINVAL for SRTP_SUITE_NONE or an unknown value). */
const char *srtp_suite_name(enum srtp_suite s);
enum srtp_suite srtp_suite_from_name(const char *name);   /* SRTP_SUITE_NONE if unknown */
int srtp_suite_key_len(enum srtp_suite s);
int srtp_suite_salt_len(enum srtp_suite s);

/*
 * SDES key material (RFC 4568 "inline:", base64 of key||salt, padded).
 * srtp_master_to_inline writes the base64 text alone (no "inline:" prefix) and a NUL; returns its
 *   length, -ENOSPC if cap is too small, -EINVAL for a bad suite or key/salt length.
 * srtp_master_from_inline takes the base64 text with or without the "inline:" prefix; it is strict:
 *   canonical padded base64 of exactly the suite's key + salt length, nothing after it (no lifetime
 *   or MKI parameters, no whitespace). Returns 0 (m filled, padding zeroed) or -EINVAL.
 */
int srtp_master_to_inline(const struct srtp_master *m, char *out, size_t cap);
int srtp_master_from_inline(enum srtp_suite suite, const char *text, struct srtp_master *m);

#endif
