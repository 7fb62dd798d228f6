/*
 * dtls_fp.h - DTLS certificate fingerprints (SHA-256) as SDP writes them (`a=fingerprint:sha-256
 * AB:CD:...`, RFC 8122): the text form the controller takes (`participant add --dtls-fp`), the
 * dataplane publishes (its own certificate's, cmd_chan.h) and lib/dtls checks peers against. Pure
 * text, no OpenSSL: part of the contract, so the controller parses fingerprints without the media code.
 */
#ifndef MMR_DTLS_FP_H
#define MMR_DTLS_FP_H

#include <stdint.h>
#include "mmr_types.h"

#define DTLS_FP_LEN      MMR_DTLS_FP_LEN         /* SHA-256 (mmr_types.h: the contract's size) */
#define DTLS_FP_TEXT_LEN MMR_DTLS_FP_TEXT_LEN    /* "AB:CD:...": 95 characters */

/*
 * dtls_fp_parse takes the a=fingerprint value, with or without the "sha-256 " hash name (any case;
 * other hash functions are refused), then exactly 32 hex pairs separated by ':' (either case),
 * nothing after them except trailing spaces or CR/LF. 0 (fp filled) or -EINVAL.
 * dtls_fp_format writes DTLS_FP_TEXT_LEN characters (upper case) and a NUL into out (cap >= 96).
 */
int dtls_fp_parse(const char *text, uint8_t fp[DTLS_FP_LEN]);
void dtls_fp_format(const uint8_t fp[DTLS_FP_LEN], char out[DTLS_FP_TEXT_LEN + 1]);

#endif
