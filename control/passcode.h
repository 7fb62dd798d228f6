/*
 * passcode.h - meeting passcodes (issue 15): set by an operator or the meeting's host
 * (`meeting passcode M --passcode CODE`, PUT /v1/meetings/M/passcode), given by a joining client in
 * the header MMR-Passcode. Stored hashed only: a random 16-byte salt and SHA-256(salt || code),
 * compared with CRYPTO_memcmp (constant time). The controller keeps them in memory and in FILE
 * "passcodes" beside the state file (mode 0600; one "MEETING SALT HASH" line each, hex; rewritten
 * whole and renamed into place on each change, fsync'd): a restart keeps them. A meeting's entry
 * goes when it ends; entries of meetings the state does not hold are dropped at load.
 *
 * SHA-256 and not a slow KDF: a passcode is checked in the controller's one loop (a slow hash would
 * stall it) and the file is root's 0600; guessing online is what the join rate limits stop.
 */
#ifndef MMR_CTL_PASSCODE_H
#define MMR_CTL_PASSCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PASSCODE_MIN 4
#define PASSCODE_MAX 64
#define PASSCODE_MAX_MEETINGS 4096
#define PASSCODE_FILE_NAME "passcodes"
#define PASSCODE_HASH_LEN 32
#define PASSCODE_SALT_LEN 16

/* Is code an acceptable passcode (PASSCODE_MIN..PASSCODE_MAX printable ASCII, no space)? 0, or -1
 * with why in err. */
int passcode_valid(const char *code, char *err, size_t errlen);
/* SHA-256(salt || code). 0 or -1. */
int passcode_hash(const uint8_t salt[PASSCODE_SALT_LEN], const char *code, size_t len,
		  uint8_t out[PASSCODE_HASH_LEN]);
/* Constant-time equality of two hashes (CRYPTO_memcmp). */
bool passcode_equal(const uint8_t a[PASSCODE_HASH_LEN], const uint8_t b[PASSCODE_HASH_LEN]);

/* The store. dir_of: a path whose directory holds the file (the state file). keep(name, arg):
 * whether a loaded entry's meeting exists (NULL: keep all). 0, or -1 with err (a bad file). */
int passcode_load(const char *dir_of, bool (*keep)(const char *name, void *arg), void *arg, char *err,
		  size_t errlen);
/* Set (code) or clear (NULL) a meeting's passcode, saved before it returns. 0, or -1 with err
 * (nothing changed). */
int passcode_set(const char *meeting, const char *code, char *err, size_t errlen);
/* Does the meeting have a passcode? */
bool passcode_required(const char *meeting);
/* Is code (len bytes, may be NULL) the meeting's passcode? (false when it has none) */
bool passcode_check(const char *meeting, const char *code, size_t len);
/* The zone (issue 16, zone_controls.c): a meeting's record (salt, hash) read, or set from another
 * host's (saved like passcode_set). get: true when it has one. set: 0, or -1 with err. */
bool passcode_get_hashed(const char *meeting, uint8_t salt[PASSCODE_SALT_LEN], uint8_t hash[PASSCODE_HASH_LEN]);
int passcode_set_hashed(const char *meeting, const uint8_t salt[PASSCODE_SALT_LEN],
			const uint8_t hash[PASSCODE_HASH_LEN], char *err, size_t errlen);
/* Drop every entry (tests; the controller's exit). */
void passcode_reset(void);

#endif
