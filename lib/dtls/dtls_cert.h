/*
 * dtls_cert.h - the MMR's DTLS identity for DTLS-SRTP (RFC 5763/5764): an ECDSA P-256 key and a
 * self-signed certificate (random serial and CN, 30 days by default), made once per process (or
 * loaded from a PEM file) and shared by every DTLS session (dtls_srtp.h); its SHA-256 fingerprint in
 * the form SDP carries (`a=fingerprint:sha-256 AB:CD:...`, RFC 8122), and the parser of a peer's.
 * Browsers pin certificates by that fingerprint: there is no CA, so validity dates only matter to
 * peers that check them (the MMR never checks a peer's).
 */
#ifndef MMR_DTLS_CERT_H
#define MMR_DTLS_CERT_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/types.h>
#include "dtls_fp.h"   /* DTLS_FP_LEN, dtls_fp_parse, dtls_fp_format */

#define DTLS_CERT_DAYS   30

struct dtls_cert;

/*
 * dtls_cert_new: a fresh P-256 key and a self-signed certificate valid from one hour ago (clock
 *   skew) for `days` days (0: DTLS_CERT_DAYS), serial 64 random bits, CN "mmr-" + 16 random hex
 *   digits, signed with SHA-256. NULL (errno ENOMEM or EIO for an OpenSSL failure) on error.
 * dtls_cert_load: the private key and the certificate from one PEM file (as dtls_cert_save writes
 *   it). NULL with errno: ENOENT/EACCES (the file), EINVAL (no key, no certificate, or they do not
 *   match), EKEYEXPIRED (the certificate is out of its validity dates).
 * dtls_cert_save: writes key (PKCS#8, unencrypted) and certificate into path, mode 0600, through a
 *   temporary file renamed into place. 0 or a negative errno.
 * dtls_cert_fingerprint: "AB:CD:..." (DTLS_FP_TEXT_LEN characters, upper case, NUL-terminated);
 *   dtls_cert_fp: the same 32 bytes.
 * dtls_cert_x509 / dtls_cert_pkey: for dtls_srtp.c (borrowed pointers, valid while the cert lives).
 */
struct dtls_cert *dtls_cert_new(unsigned days);
struct dtls_cert *dtls_cert_load(const char *path);
int dtls_cert_save(const struct dtls_cert *c, const char *path);
const char *dtls_cert_fingerprint(const struct dtls_cert *c);
const uint8_t *dtls_cert_fp(const struct dtls_cert *c);
X509 *dtls_cert_x509(const struct dtls_cert *c);
EVP_PKEY *dtls_cert_pkey(const struct dtls_cert *c);
void dtls_cert_free(struct dtls_cert *c);

/* dtls_fp_of_x509: SHA-256 of the certificate's DER encoding; 0 or -EIO. (The text forms:
 * dtls_fp.h, in the contract.) */
int dtls_fp_of_x509(X509 *x, uint8_t fp[DTLS_FP_LEN]);

#endif
