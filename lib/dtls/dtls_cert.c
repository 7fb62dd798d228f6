/*
 * dtls_cert.c - the MMR's DTLS identity (dtls_cert.h): ECDSA P-256 key, self-signed certificate,
 * SHA-256 fingerprints in SDP form, PEM load and save. OpenSSL 3 APIs only (EVP_EC_gen).
 */
#include "dtls_cert.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

struct dtls_cert {
	EVP_PKEY *pkey;
	X509 *x509;
	uint8_t fp[DTLS_FP_LEN];
	char fp_text[DTLS_FP_TEXT_LEN + 1];
};

int dtls_fp_of_x509(X509 *x, uint8_t fp[DTLS_FP_LEN])
{
	unsigned int n = 0;

	if (!x || !X509_digest(x, EVP_sha256(), fp, &n) || n != DTLS_FP_LEN)
		return -EIO;
	return 0;
}

static int finish(struct dtls_cert *c)
{
	if (dtls_fp_of_x509(c->x509, c->fp) < 0)
		return -EIO;
	dtls_fp_format(c->fp, c->fp_text);
	return 0;
}

struct dtls_cert *dtls_cert_new(unsigned days)
{
	struct dtls_cert *c = calloc(1, sizeof(*c));
	uint8_t rnd[16];
	char cn[4 + 16 + 1];
	BIGNUM *bn = NULL;
	X509_NAME *name = NULL;
	int err = EIO;

	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	if (!days)
		days = DTLS_CERT_DAYS;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		goto err;
	rnd[0] &= 0x7f;   /* a positive serial */
	rnd[0] |= 0x01;   /* of 64 bits, never 0 */
	c->pkey = EVP_EC_gen("P-256");
	c->x509 = X509_new();
	bn = BN_bin2bn(rnd, 8, NULL);
	name = X509_NAME_new();
	if (!c->pkey || !c->x509 || !bn || !name)
		goto err;
	snprintf(cn, sizeof(cn), "mmr-%02x%02x%02x%02x%02x%02x%02x%02x", rnd[8], rnd[9], rnd[10],
		 rnd[11], rnd[12], rnd[13], rnd[14], rnd[15]);
	if (!X509_set_version(c->x509, X509_VERSION_3) ||
	    !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c->x509)) ||
	    !X509_gmtime_adj(X509_getm_notBefore(c->x509), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(c->x509), (long)days * 86400) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_subject_name(c->x509, name) || !X509_set_issuer_name(c->x509, name) ||
	    !X509_set_pubkey(c->x509, c->pkey) || !X509_sign(c->x509, c->pkey, EVP_sha256()) ||
	    finish(c) < 0)
		goto err;
	BN_free(bn);
	X509_NAME_free(name);
	return c;
err:
	BN_free(bn);
	X509_NAME_free(name);
	dtls_cert_free(c);
	errno = err;
	return NULL;
}

struct dtls_cert *dtls_cert_load(const char *path)
{
	FILE *f = fopen(path, "r");
	struct dtls_cert *c;
	int err = EINVAL;

	if (!f)
		return NULL;   /* errno from fopen */
	c = calloc(1, sizeof(*c));
	if (!c) {
		fclose(f);
		errno = ENOMEM;
		return NULL;
	}
	c->pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	if (c->pkey)
		c->x509 = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!c->pkey || !c->x509 || X509_check_private_key(c->x509, c->pkey) != 1)
		goto err;
	if (X509_cmp_current_time(X509_get0_notBefore(c->x509)) >= 0 ||
	    X509_cmp_current_time(X509_get0_notAfter(c->x509)) <= 0) {
		err = EKEYEXPIRED;
		goto err;
	}
	if (finish(c) < 0)
		goto err;
	return c;
err:
	dtls_cert_free(c);
	errno = err;
	return NULL;
}

int dtls_cert_save(const struct dtls_cert *c, const char *path)
{
	size_t n = strlen(path);
	char *tmp = malloc(n + 8);
	FILE *f = NULL;
	int fd, err = 0;

	if (!tmp)
		return -ENOMEM;
	snprintf(tmp, n + 8, "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		goto out;
	}
	if (!PEM_write_PrivateKey(f, c->pkey, NULL, NULL, 0, NULL, NULL) || !PEM_write_X509(f, c->x509))
		err = -EIO;
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		err = err ? err : -errno;
	if (fclose(f) != 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) != 0)
		err = -errno;
	if (err)
		unlink(tmp);
out:
	free(tmp);
	return err;
}

const char *dtls_cert_fingerprint(const struct dtls_cert *c)
{
	return c->fp_text;
}

const uint8_t *dtls_cert_fp(const struct dtls_cert *c)
{
	return c->fp;
}

X509 *dtls_cert_x509(const struct dtls_cert *c)
{
	return c->x509;
}

EVP_PKEY *dtls_cert_pkey(const struct dtls_cert *c)
{
	return c->pkey;
}

void dtls_cert_free(struct dtls_cert *c)
{
	if (!c)
		return;
	X509_free(c->x509);
	EVP_PKEY_free(c->pkey);   /* OpenSSL wipes the private key's memory */
	free(c);
}
