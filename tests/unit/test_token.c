/*
 * test_token.c - unit tests of the HTTP API's access tokens (control/token.c): a minted token
 * verifies with its claims; a forged one (signed under another secret, a payload swapped in, a
 * signature flipped in every byte, truncated) is "signature is invalid"; alg "none" (with and without
 * a signature), RS256 and a missing alg are refused whatever the signature; expired at exactly exp,
 * not yet valid before nbf; malformed base64url (bad characters, padding, a length of 1 mod 4,
 * non-zero unused bits), two or four parts, a payload that is no JSON object, unknown and duplicate
 * claims, wrong claim types, bad names and roles; a token over TOKEN_MAX_LEN and a huge one; the
 * secret file's mode and size. Tokens that the test signs itself (its own base64url and OpenSSL's
 * HMAC) verify the same way, so the module is checked against the JWT form, not against itself.
 * Every refusal leaves the claims zeroed. 2000 random mutations of a good token never verify.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "jwipe.h"
#include "token.h"
#include "unit_util.h"

static const uint8_t SECRET[] = "0123456789abcdef0123456789abcdef-zone";
#define SLEN (sizeof(SECRET) - 1)
#define NOW 1800000000LL

static struct token_claims good_claims(void)
{
	struct token_claims c = { .role = TOKEN_ROLE_ADMIN, .exp = NOW + 600, .nbf = NOW - 10, .iat = NOW - 10 };
	strcpy(c.iss, "ops-console");
	strcpy(c.sub, "alice");
	strcpy(c.meeting, "*");
	return c;
}

/* independent base64url (no padding) */
static void b64u(const uint8_t *in, size_t n, char *out)
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
}

/* header.payload.signature from raw JSON texts, signed with secret (sig NULL: HMAC; "" none) */
static void make(const char *header, const char *payload, const uint8_t *secret, size_t slen, char *out)
{
	char h[1024], p[2048];
	b64u((const uint8_t *)header, strlen(header), h);
	b64u((const uint8_t *)payload, strlen(payload), p);
	sprintf(out, "%s.%s", h, p);
	if (!secret) {
		strcat(out, ".");
		return;
	}
	uint8_t mac[32];
	unsigned ml;
	HMAC(EVP_sha256(), secret, (int)slen, (const uint8_t *)out, strlen(out), mac, &ml);
	char s[64];
	b64u(mac, 32, s);
	strcat(out, ".");
	strcat(out, s);
}

static const char *PAYLOAD = "{\"iss\":\"x\",\"sub\":\"bob\",\"meeting\":\"m1\",\"role\":\"viewer\",\"exp\":1800000600}";
static const char *HDR = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

static int verify(const char *tok, char *err, size_t errlen)
{
	struct token_claims c;
	int rc = token_verify(SECRET, SLEN, tok, strlen(tok), NOW, &c, err, errlen);
	if (rc < 0) {
		struct token_claims zero;
		memset(&zero, 0, sizeof(zero));
		assert_memory_equal(&c, &zero, sizeof(c));
	}
	return rc;
}

static void expect_refused(const char *tok, const char *why)
{
	char err[300] = "";
	assert_int_equal(verify(tok, err, sizeof(err)), -1);
	if (!strstr(err, why))
		fail_msg("token %.60s...: error '%s' lacks '%s'", tok, err, why);
}

static void test_good(void **state)
{
	(void)state;
	struct token_claims c = good_claims(), got;
	char tok[TOKEN_MAX_LEN + 1], err[200];
	assert_int_equal(token_mint(SECRET, SLEN, &c, tok, sizeof(tok), err, sizeof(err)), 0);
	assert_int_equal(token_verify(SECRET, SLEN, tok, strlen(tok), NOW, &got, err, sizeof(err)), 0);
	assert_string_equal(got.iss, "ops-console");
	assert_string_equal(got.sub, "alice");
	assert_string_equal(got.meeting, "*");
	assert_int_equal(got.role, TOKEN_ROLE_ADMIN);
	assert_int_equal(got.exp, NOW + 600);
	assert_int_equal(got.nbf, NOW - 10);
	/* the header is exactly the JWT one */
	assert_memory_equal(tok, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", 37);
	/* signed by the test itself: the same */
	char t2[4096];
	make(HDR, PAYLOAD, SECRET, SLEN, t2);
	assert_int_equal(token_verify(SECRET, SLEN, t2, strlen(t2), NOW, &got, err, sizeof(err)), 0);
	assert_string_equal(got.sub, "bob");
	assert_string_equal(got.meeting, "m1");
	assert_int_equal(got.role, TOKEN_ROLE_VIEWER);
	assert_int_equal(got.nbf, 0);
	/* header without typ */
	make("{\"alg\":\"HS256\"}", PAYLOAD, SECRET, SLEN, t2);
	assert_int_equal(token_verify(SECRET, SLEN, t2, strlen(t2), NOW, &got, err, sizeof(err)), 0);
	/* not NUL-terminated: only len characters count */
	size_t n = strlen(tok);
	char *copy = (char *)heap_copy((const uint8_t *)tok, (uint32_t)n);
	assert_int_equal(token_verify(SECRET, SLEN, copy, n, NOW, &got, err, sizeof(err)), 0);
	free(copy);
	/* every role round-trips */
	for (int r = 0; r < TOKEN_ROLE_COUNT; r++) {
		c.role = (enum token_role)r;
		assert_int_equal(token_mint(SECRET, SLEN, &c, tok, sizeof(tok), err, sizeof(err)), 0);
		assert_int_equal(token_verify(SECRET, SLEN, tok, strlen(tok), NOW, &got, err, sizeof(err)), 0);
		assert_int_equal(got.role, r);
	}
}

static void test_forged(void **state)
{
	(void)state;
	char tok[4096], other[4096];
	static const uint8_t OTHER[] = "another-secret-another-secret-32b";
	make(HDR, PAYLOAD, OTHER, sizeof(OTHER) - 1, tok);
	expect_refused(tok, "signature is invalid");
	/* a payload swapped in under a good token's signature (role viewer -> admin) */
	make(HDR, PAYLOAD, SECRET, SLEN, tok);
	make(HDR, "{\"iss\":\"x\",\"sub\":\"bob\",\"meeting\":\"*\",\"role\":\"admin\",\"exp\":1800000600}", OTHER,
	     sizeof(OTHER) - 1, other);
	char *sig = strrchr(tok, '.'), *osig = strrchr(other, '.');
	strcpy(osig, sig);
	expect_refused(other, "signature is invalid");
	/* every character of the signature changed (to another valid one) */
	size_t slen = strlen(sig + 1);
	for (size_t i = 0; i + 1 < slen; i++) {
		char keep = sig[1 + i];
		sig[1 + i] = keep == 'A' ? 'B' : 'A';
		expect_refused(tok, "signature is invalid");
		sig[1 + i] = keep;
	}
	assert_int_equal(verify(tok, other, 200), 0);
	/* a truncated signature; none at all */
	char t2[4096];
	strcpy(t2, tok);
	t2[strlen(t2) - 4] = '\0';
	expect_refused(t2, "signature is invalid");
	make(HDR, PAYLOAD, NULL, 0, t2);
	expect_refused(t2, "signature is invalid");
	/* a short secret is never used */
	struct token_claims c;
	char err[200];
	assert_int_equal(token_verify(SECRET, 8, tok, strlen(tok), NOW, &c, err, sizeof(err)), -1);
}

static void test_alg(void **state)
{
	(void)state;
	char tok[4096];
	make("{\"alg\":\"none\",\"typ\":\"JWT\"}", PAYLOAD, NULL, 0, tok);
	expect_refused(tok, "algorithm 'none' is not accepted");
	make("{\"alg\":\"none\"}", PAYLOAD, SECRET, SLEN, tok);    /* even signed */
	expect_refused(tok, "algorithm 'none' is not accepted");
	make("{\"alg\":\"RS256\"}", PAYLOAD, SECRET, SLEN, tok);
	expect_refused(tok, "algorithm 'RS256' is not accepted");
	make("{\"alg\":\"hs256\"}", PAYLOAD, SECRET, SLEN, tok);
	expect_refused(tok, "is not accepted");
	make("{\"typ\":\"JWT\"}", PAYLOAD, SECRET, SLEN, tok);
	expect_refused(tok, "the header has no alg");
	make("{\"alg\":\"HS256\",\"kid\":\"k1\"}", PAYLOAD, SECRET, SLEN, tok);
	expect_refused(tok, "unknown header field 'kid'");
	make("{\"alg\":\"HS256\",\"alg\":\"none\"}", PAYLOAD, SECRET, SLEN, tok);
	expect_refused(tok, "the header is not a JSON object");
	make("{\"alg\":256}", PAYLOAD, SECRET, SLEN, tok);
	expect_refused(tok, "alg must be a string");
	make("[\"HS256\"]", PAYLOAD, SECRET, SLEN, tok);
	expect_refused(tok, "the header is not a JSON object");
}

static void test_time(void **state)
{
	(void)state;
	struct token_claims c = good_claims(), got;
	char tok[TOKEN_MAX_LEN + 1], err[200];
	assert_int_equal(token_mint(SECRET, SLEN, &c, tok, sizeof(tok), err, sizeof(err)), 0);
	assert_int_equal(token_verify(SECRET, SLEN, tok, strlen(tok), c.exp - 1, &got, err, sizeof(err)), 0);
	assert_int_equal(token_verify(SECRET, SLEN, tok, strlen(tok), c.exp, &got, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "token expired at"));
	assert_int_equal(token_verify(SECRET, SLEN, tok, strlen(tok), c.nbf, &got, err, sizeof(err)), 0);
	assert_int_equal(token_verify(SECRET, SLEN, tok, strlen(tok), c.nbf - 1, &got, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not valid before"));
	/* the claims' own order: nbf must come before exp */
	c.nbf = c.exp;
	assert_int_equal(token_mint(SECRET, SLEN, &c, tok, sizeof(tok), err, sizeof(err)), -1);
	char t2[4096];
	make(HDR, "{\"iss\":\"x\",\"sub\":\"bob\",\"meeting\":\"m1\",\"role\":\"viewer\",\"exp\":5,\"nbf\":9}", SECRET,
	     SLEN, t2);
	expect_refused(t2, "nbf must be before exp");
	make(HDR, "{\"iss\":\"x\",\"sub\":\"bob\",\"meeting\":\"m1\",\"role\":\"viewer\",\"exp\":1.8e9}", SECRET, SLEN,
	     t2);
	expect_refused(t2, "claim exp must be an integer");
	make(HDR, "{\"iss\":\"x\",\"sub\":\"bob\",\"meeting\":\"m1\",\"role\":\"viewer\",\"exp\":\"1800000600\"}",
	     SECRET, SLEN, t2);
	expect_refused(t2, "claim exp must be an integer");
	make(HDR, "{\"iss\":\"x\",\"sub\":\"bob\",\"meeting\":\"m1\",\"role\":\"viewer\"}", SECRET, SLEN, t2);
	expect_refused(t2, "are required");
}

static void test_malformed(void **state)
{
	(void)state;
	char tok[4096], t2[4096];
	make(HDR, PAYLOAD, SECRET, SLEN, tok);
	expect_refused("", "token is empty");
	expect_refused("abc", "not three base64url parts");
	expect_refused("a.b", "not three base64url parts");
	snprintf(t2, sizeof(t2), "%.4000s.x", tok);
	expect_refused(t2, "not three base64url parts");
	/* bad characters, padding, length 1 mod 4, unused bits */
	strcpy(t2, tok);
	t2[3] = '+';
	expect_refused(t2, "the header is not base64url");
	strcpy(t2, tok);
	char *dot = strchr(t2, '.');
	memmove(dot + 1, dot, strlen(dot) + 1);
	*dot = '=';
	expect_refused(t2, "the header is not base64url");
	strcpy(t2, tok);
	dot = strchr(t2, '.');
	memmove(dot + 1, dot, strlen(dot) + 1);
	*dot = 'A';      /* one more character: 1 mod 4 or garbage */
	assert_int_equal(verify(t2, tok + 3000, 100), -1);
	/* "{}" encodes as e30; e31 has a non-zero unused bit */
	make("{}", PAYLOAD, SECRET, SLEN, t2);
	assert_memory_equal(t2, "e30.", 4);
	expect_refused(t2, "the header has no alg");
	t2[2] = '1';
	expect_refused(t2, "the header is not base64url");
	/* signature part with a bad character */
	strcpy(t2, tok);
	t2[strlen(t2) - 1] = '*';
	expect_refused(t2, "the signature is not base64url");
	/* payloads that are no claims object, signed properly */
	make(HDR, "[1,2]", SECRET, SLEN, t2);
	expect_refused(t2, "the payload is not a JSON object");
	make(HDR, "{\"iss\":", SECRET, SLEN, t2);
	expect_refused(t2, "the payload is not JSON");
	make(HDR, "{\"iss\":\"x\",\"sub\":\"bob\",\"meeting\":\"m1\",\"role\":\"viewer\",\"exp\":1800000600,\"video\":{}}",
	     SECRET, SLEN, t2);
	expect_refused(t2, "unknown claim 'video'");
	make(HDR, "{\"iss\":\"x\",\"sub\":\"bob\",\"sub\":\"eve\",\"meeting\":\"m1\",\"role\":\"viewer\",\"exp\":1800000600}",
	     SECRET, SLEN, t2);
	expect_refused(t2, "the payload is not JSON");
	make(HDR, "{\"iss\":\"x\",\"sub\":\"-bob\",\"meeting\":\"m1\",\"role\":\"viewer\",\"exp\":1800000600}", SECRET,
	     SLEN, t2);
	expect_refused(t2, "claim sub must be a participant identity");
	make(HDR, "{\"iss\":\"x\",\"sub\":\"bob\",\"meeting\":\"m/1\",\"role\":\"viewer\",\"exp\":1800000600}", SECRET,
	     SLEN, t2);
	expect_refused(t2, "claim meeting must be");
	make(HDR, "{\"iss\":\"x\",\"sub\":\"bob\",\"meeting\":\"m1\",\"role\":\"root\",\"exp\":1800000600}", SECRET,
	     SLEN, t2);
	expect_refused(t2, "claim role must be");
	make(HDR, "{\"iss\":\"x\",\"sub\":7,\"meeting\":\"m1\",\"role\":\"viewer\",\"exp\":1800000600}", SECRET, SLEN,
	     t2);
	expect_refused(t2, "claim sub must be a string");
	make(HDR, "{\"iss\":\"x\",\"sub\":\"b\\u0000b\",\"meeting\":\"m1\",\"role\":\"viewer\",\"exp\":1800000600}",
	     SECRET, SLEN, t2);
	expect_refused(t2, "the payload is not JSON");
	/* a name of 64 characters */
	char p[300];
	sprintf(p, "{\"iss\":\"x\",\"sub\":\"%064d\",\"meeting\":\"m1\",\"role\":\"viewer\",\"exp\":1800000600}", 0);
	make(HDR, p, SECRET, SLEN, t2);
	expect_refused(t2, "claim sub is too long");
}

static void test_huge(void **state)
{
	(void)state;
	/* just over the limit, well formed otherwise */
	char *big = malloc(TOKEN_MAX_LEN + 2);
	assert_non_null(big);
	memset(big, 'A', TOKEN_MAX_LEN + 1);
	big[10] = '.';
	big[20] = '.';
	big[TOKEN_MAX_LEN + 1] = '\0';
	expect_refused(big, "token is too long");
	free(big);
	/* 10 MB of garbage: refused on its size without being read */
	size_t n = 10u << 20;
	char *huge = malloc(n + 1);
	assert_non_null(huge);
	memset(huge, 'e', n);
	huge[n] = '\0';
	expect_refused(huge, "token is too long");
	free(huge);
	/* a payload that fills the limit: still parsed correctly */
	char p[TOKEN_MAX_LEN], t[TOKEN_MAX_LEN * 2];
	sprintf(p, "{\"iss\":\"%063d\",\"sub\":\"bob\",\"meeting\":\"m1\",\"role\":\"viewer\",\"exp\":1800000600}", 0);
	make(HDR, p, SECRET, SLEN, t);
	assert_true(strlen(t) < TOKEN_MAX_LEN);
	char err[200];
	assert_int_equal(verify(t, err, sizeof(err)), 0);
}

static void test_random(void **state)
{
	(void)state;
	rng_state = 0x70ce12;
	struct token_claims c = good_claims(), got;
	char tok[TOKEN_MAX_LEN + 1], err[200];
	assert_int_equal(token_mint(SECRET, SLEN, &c, tok, sizeof(tok), err, sizeof(err)), 0);
	size_t n = strlen(tok);
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ";
	for (int k = 0; k < 2000; k++) {
		char *m = (char *)heap_copy((const uint8_t *)tok, (uint32_t)n);
		int changes = 1 + (int)(rnd() % 3);
		bool changed = false;
		for (int j = 0; j < changes; j++) {
			size_t at = rnd() % n;
			char v = alphabet[rnd() % (sizeof(alphabet) - 1)];
			changed |= m[at] != v;
			m[at] = v;
		}
		int rc = token_verify(SECRET, SLEN, m, n, NOW, &got, err, sizeof(err));
		if (changed && memcmp(m, tok, n) != 0)
			assert_int_equal(rc, -1);
		free(m);
	}
}

static void test_secret_file(void **state)
{
	(void)state;
	char path[] = "/tmp/mmr-test-token-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "0123456789abcdef0123456789abcdef\n", 33), 33);
	close(fd);
	uint8_t s[TOKEN_SECRET_MAX];
	size_t len = 0;
	char err[300];
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(token_load_secret(path, s, &len, err, sizeof(err)), 0);
	assert_int_equal(len, 32);       /* the newline dropped */
	assert_memory_equal(s, "0123456789abcdef0123456789abcdef", 32);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(token_load_secret(path, s, &len, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "must not be readable by group or others"));
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "short\n", 6), 6);
	close(fd);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(token_load_secret(path, s, &len, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "must be 32-512 bytes"));
	unlink(path);
	assert_int_equal(token_load_secret(path, s, &len, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot open"));
}

int main(void)
{
	jwipe_install();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_forged),
		cmocka_unit_test(test_alg),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_huge),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_secret_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
