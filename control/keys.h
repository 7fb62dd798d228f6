/*
 * keys.h - the controller as SRTP key management service: makes participants' master keys with
 * OpenSSL's random generator (RAND_bytes) and writes them in the SDES "inline:" form (RFC 4568)
 * that mmrctl hands to the participant's signalling.
 *
 * Keys are returned to the caller of `participant add|keys|rekey` and written to the state file
 * (mode 0600) and the dataplane's segment (mode 0600); never to a log or to another command's
 * output. Buffers that held them are wiped (explicit_bzero) when dropped.
 */
#ifndef MMR_CTL_KEYS_H
#define MMR_CTL_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include "srtp_master.h"

/* "inline:" + base64 of the longest key || salt (46 bytes -> 64 characters) + NUL. */
#define KEYS_INLINE_MAX 80

/* A fresh random master key and salt of the suite. 0, or -1 (bad suite, or the random generator
 * failed: then nothing may be handed out). */
int keys_generate(enum srtp_suite suite, struct srtp_master *out);
/* A participant's two keys, [0] SEND and [1] RECV (keys_generate each); on -1 both are wiped. */
int keys_generate_pair(enum srtp_suite suite, struct srtp_master out[2]);
/* A random SSRC (OpenSSL's generator), never 0; 0 on success, -1 if the generator failed. */
int keys_random_ssrc(uint32_t *out);
/* "inline:BASE64" into out (KEYS_INLINE_MAX bytes). 0 or -1. */
int keys_to_inline(const struct srtp_master *m, char out[KEYS_INLINE_MAX]);
/* Parse "inline:BASE64" of the suite (no lifetime or MKI parameters). 0 or -1. */
int keys_from_inline(enum srtp_suite suite, const char *text, struct srtp_master *out);
/* Does m hold a key of the suite (lengths right)? */
bool keys_valid(enum srtp_suite suite, const struct srtp_master *m);

#endif
