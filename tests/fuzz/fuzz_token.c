/*
 * fuzz_token.c - libFuzzer target for the HTTP API's access-token parser (control/token.c): any
 * bytes as a token never crash or read out of bounds (exact-size heap copy), a refusal leaves the
 * claims zeroed with an error line, and an accepted token has claims that token_mint accepts again
 * and that re-mint to a token which verifies to the same claims (so nothing the parser lets through
 * is outside what the minting side considers valid). Acceptance needs a good HMAC, which random
 * bytes will not find: the interesting part is every refusal path before it, and the first input
 * byte picks a mode that wraps the rest as a payload and signs it properly, so the claim checks are
 * fuzzed past the signature too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "token.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s\n", #c); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t SECRET[] = "fuzz-secret-fuzz-secret-fuzz-secret!";
#define SLEN (sizeof(SECRET) - 1)
#define NOW 1800000000LL

static size_t b64u(const uint8_t *in, size_t n, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		acc = acc << 8 | in[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = a[(acc >> bits) & 63];
		}
	}
	if (bits)
		out[o++] = a[(acc << (6 - bits)) & 63];
	out[o] = '\0';
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 6000)
		return 0;
	char *tok;
	size_t len;
	if (data[0] & 1) {
		/* the rest as a payload, under a good header and a good signature */
		tok = malloc(64 + size * 2);
		CHECK(tok);
		size_t o = b64u((const uint8_t *)"{\"alg\":\"HS256\"}", 15, tok);
		tok[o++] = '.';
		o += b64u(data + 1, size - 1, tok + o);
		uint8_t mac[32];
		unsigned ml;
		CHECK(HMAC(EVP_sha256(), SECRET, (int)SLEN, (const uint8_t *)tok, o, mac, &ml));
		tok[o++] = '.';
		o += b64u(mac, 32, tok + o);
		len = o;
		char *exact = malloc(len);
		CHECK(exact);
		memcpy(exact, tok, len);
		free(tok);
		tok = exact;
	} else {
		len = size - 1;
		tok = malloc(len ? len : 1);
		CHECK(tok);
		memcpy(tok, data + 1, len);
	}
	struct token_claims c, zero, again;
	char err[300];
	memset(&zero, 0, sizeof(zero));
	err[0] = '\0';
	int rc = token_verify(SECRET, SLEN, tok, len, NOW, &c, err, sizeof(err));
	if (rc < 0) {
		CHECK(memcmp(&c, &zero, sizeof(c)) == 0);
		CHECK(err[0] != '\0');
		for (const char *p = err; *p; p++)
			CHECK((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
	} else {
		CHECK(rc == 0);
		CHECK(NOW < c.exp && (c.nbf == 0 || c.nbf <= NOW));
		char tok2[TOKEN_MAX_LEN + 1];
		CHECK(token_mint(SECRET, SLEN, &c, tok2, sizeof(tok2), err, sizeof(err)) == 0);
		CHECK(token_verify(SECRET, SLEN, tok2, strlen(tok2), NOW, &again, err, sizeof(err)) == 0);
		CHECK(memcmp(&c, &again, sizeof(c)) == 0);
	}
	free(tok);
	return 0;
}
