/*
 * zone_seal.h - a meeting's passcode record (salt + SHA-256 hash, passcode.h) sealed for etcd
 * (issue 16, controls/<meeting>): AES-256-GCM under a key derived with HKDF-SHA256 from the zone
 * secret (zone `secret_file`, the cascade's copy) with its own label ("mmr controls v1"), a random
 * 12-byte nonce per seal, the meeting name as AAD. Text form: hex of nonce || ciphertext || tag.
 * Pure code: unit-tested by tests/unit/test_zone_seal.c.
 */
#ifndef MMR_CTL_ZONE_SEAL_H
#define MMR_CTL_ZONE_SEAL_H

#include <stddef.h>
#include <stdint.h>

#define ZSEAL_NONCE 12
#define ZSEAL_TAG 16
#define ZSEAL_PLAIN_MAX 64
/* the hex text of a sealed n-byte record: 2 * (12 + n + 16) + NUL */
#define ZSEAL_TEXT_MAX (2 * (ZSEAL_NONCE + ZSEAL_PLAIN_MAX + ZSEAL_TAG) + 1)

/* HKDF-SHA256 of secret with salt (a label) and info into out_len bytes: 0 or -1. The zone's key
 * derivations (these seals, the cascade's trunk keys) all go through it. */
int zone_hkdf_sha256(const uint8_t *secret, size_t secret_len, const char *salt, const uint8_t *info,
		     size_t info_len, uint8_t *out, size_t out_len);

/* Seal plain (1..ZSEAL_PLAIN_MAX bytes) for meeting into out (hex). 0, or -1 (secret shorter than
 * 32 bytes, bad sizes, OpenSSL or random failure). */
int zone_seal(const uint8_t *secret, size_t secret_len, const char *meeting, const uint8_t *plain, size_t n,
	      char *out, size_t cap);
/* Open a sealed text for meeting: exactly n bytes into plain. 0, or -1 (another key or meeting,
 * a changed or truncated text: nothing is written to plain). */
int zone_unseal(const uint8_t *secret, size_t secret_len, const char *meeting, const char *text, uint8_t *plain,
		size_t n);

#endif
