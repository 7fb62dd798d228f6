/*
 * token.c - HS256 access tokens: mint and verify (see token.h). Standalone (jansson and OpenSSL's
 * HMAC only) so that the unit test and the fuzz target link it alone.
 */
#define _GNU_SOURCE
#include "token.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "char_value.h"

#define SIG_LEN 32
#define PART_MAX TOKEN_MAX_LEN          /* decoded part: never longer than its text */

static const char *const role_names[] = { "admin", "publisher", "viewer", "participant", "host", "co-host" };

const char *token_role_name(enum token_role r)
{
	return (unsigned)r < sizeof(role_names) / sizeof(role_names[0]) ? role_names[r] : NULL;
}

int token_role_parse(const char *s, enum token_role *r)
{
	for (unsigned i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++)
		if (strcmp(s, role_names[i]) == 0) {
			*r = (enum token_role)i;
			return 0;
		}
	return -1;
}

__attribute__((format(printf, 3, 4)))
static int bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	for (char *p = err; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	return -1;
}

/* ---- base64url (RFC 4648 section 5), no padding ------------------------------------------------ */

static const char b64u[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static size_t b64u_encode(const uint8_t *in, size_t n, char *out)
{
	size_t o = 0, i = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64u[v >> 18];
		out[o++] = b64u[(v >> 12) & 63];
		out[o++] = b64u[(v >> 6) & 63];
		out[o++] = b64u[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = b64u[v >> 18];
		out[o++] = b64u[(v >> 12) & 63];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64u[v >> 18];
		out[o++] = b64u[(v >> 12) & 63];
		out[o++] = b64u[(v >> 6) & 63];
	}
	out[o] = '\0';
	return o;
}

/* Canonical decoding only: the alphabet, no padding, no length of 1 mod 4, unused bits zero (so one
 * token has one spelling). The output length, or -1. */
static long b64u_decode(const char *in, size_t n, uint8_t *out, size_t cap)
{
	if (n % 4 == 1 || n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0) > cap)
		return -1;
	size_t o = 0;
	uint32_t acc = 0;
	unsigned bits = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64_char_value(in[i], '-', '_');
		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0)
		return -1;
	return (long)o;
}

/* ---- claims ------------------------------------------------------------------------------------ */

static bool name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63 || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '.' || c == '-'))
			return false;
	}
	return true;
}

static bool printable_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

static int check_claims(const struct token_claims *c, char *err, size_t errlen)
{
	if (!printable_ok(c->iss))
		return bad(err, errlen, "claim iss must be 1-63 printable ASCII characters");
	if (!name_ok(c->sub))
		return bad(err, errlen, "claim sub must be a participant identity (1-63 characters of "
					"A-Z a-z 0-9 _ . -, not starting with '-')");
	if (strcmp(c->meeting, "*") != 0 && !name_ok(c->meeting))
		return bad(err, errlen, "claim meeting must be a meeting name or \"*\"");
	if (!token_role_name(c->role))
		return bad(err, errlen, "claim role must be " TOKEN_ROLE_NAMES);
	if (c->exp <= 0)
		return bad(err, errlen, "claim exp must be a positive integer (Unix seconds)");
	if (c->nbf < 0 || c->iat < 0)
		return bad(err, errlen, "claims nbf and iat must not be negative");
	if (c->nbf && c->nbf >= c->exp)
		return bad(err, errlen, "claim nbf must be before exp");
	return 0;
}

/* HMAC-SHA256 of the signing input. 0 or -1. */
static int sign(const uint8_t *secret, size_t slen, const char *input, size_t n, uint8_t mac[SIG_LEN])
{
	unsigned int ml = 0;
	if (!HMAC(EVP_sha256(), secret, (int)slen, (const unsigned char *)input, n, mac, &ml) || ml != SIG_LEN)
		return -1;
	return 0;
}

int token_mint(const uint8_t *secret, size_t secret_len, const struct token_claims *c, char *out,
	       size_t outcap, char *err, size_t errlen)
{
	if (secret_len < TOKEN_SECRET_MIN || secret_len > TOKEN_SECRET_MAX)
		return bad(err, errlen, "the secret must be %d-%d bytes", TOKEN_SECRET_MIN, TOKEN_SECRET_MAX);
	if (check_claims(c, err, errlen) < 0)
		return -1;
	json_t *p = json_pack("{s:s, s:s, s:s, s:s, s:I}", "iss", c->iss, "sub", c->sub, "meeting", c->meeting,
			      "role", token_role_name(c->role), "exp", (json_int_t)c->exp);
	if (!p)
		return bad(err, errlen, "out of memory");
	if ((c->nbf && json_object_set_new(p, "nbf", json_integer(c->nbf)) < 0) ||
	    (c->iat && json_object_set_new(p, "iat", json_integer(c->iat)) < 0)) {
		json_decref(p);
		return bad(err, errlen, "out of memory");
	}
	char payload[1024];
	size_t plen = json_dumpb(p, payload, sizeof(payload), JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(p);
	static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	size_t need = (sizeof(header) - 1 + 2) / 3 * 4 + 1 + (plen + 2) / 3 * 4 + 1 + (SIG_LEN + 2) / 3 * 4 + 1;
	if (plen == 0 || plen > sizeof(payload) || need > outcap || need > TOKEN_MAX_LEN)
		return bad(err, errlen, "the token would be too long");
	size_t o = b64u_encode((const uint8_t *)header, sizeof(header) - 1, out);
	out[o++] = '.';
	o += b64u_encode((const uint8_t *)payload, plen, out + o);
	uint8_t mac[SIG_LEN];
	if (sign(secret, secret_len, out, o, mac) < 0)
		return bad(err, errlen, "HMAC-SHA256 failed");
	out[o++] = '.';
	b64u_encode(mac, SIG_LEN, out + o);
	explicit_bzero(payload, sizeof(payload));
	return 0;
}

/* A string claim into dst (cap bytes). 0, or -1 with err. */
static int get_str(json_t *v, const char *name, char *dst, size_t cap, char *err, size_t errlen)
{
	if (!json_is_string(v))
		return bad(err, errlen, "token is malformed: claim %s must be a string", name);
	if (json_string_length(v) >= cap || strlen(json_string_value(v)) != json_string_length(v))
		return bad(err, errlen, "token is malformed: claim %s is too long", name);
	memcpy(dst, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

static int get_int(json_t *v, const char *name, int64_t *dst, char *err, size_t errlen)
{
	if (!json_is_integer(v))
		return bad(err, errlen, "token is malformed: claim %s must be an integer (Unix seconds)", name);
	*dst = (int64_t)json_integer_value(v);
	return 0;
}

static int parse_claims(json_t *p, struct token_claims *c, char *err, size_t errlen)
{
	if (!json_is_object(p))
		return bad(err, errlen, "token is malformed: the payload is not a JSON object");
	const char *k;
	json_t *v;
	bool have_role = false;
	json_object_foreach(p, k, v) {
		int rc;
		if (strcmp(k, "iss") == 0) {
			rc = get_str(v, k, c->iss, sizeof(c->iss), err, errlen);
		} else if (strcmp(k, "sub") == 0) {
			rc = get_str(v, k, c->sub, sizeof(c->sub), err, errlen);
		} else if (strcmp(k, "meeting") == 0) {
			rc = get_str(v, k, c->meeting, sizeof(c->meeting), err, errlen);
		} else if (strcmp(k, "role") == 0) {
			char role[16];
			rc = get_str(v, k, role, sizeof(role), err, errlen);
			if (rc == 0 && token_role_parse(role, &c->role) < 0)
				rc = bad(err, errlen, "token is malformed: claim role must be "
						      TOKEN_ROLE_NAMES);
			have_role = true;
		} else if (strcmp(k, "exp") == 0) {
			rc = get_int(v, k, &c->exp, err, errlen);
		} else if (strcmp(k, "nbf") == 0) {
			rc = get_int(v, k, &c->nbf, err, errlen);
		} else if (strcmp(k, "iat") == 0) {
			rc = get_int(v, k, &c->iat, err, errlen);
		} else {
			rc = bad(err, errlen, "token is malformed: unknown claim '%.40s' (known: iss, sub, meeting, "
					      "role, exp, nbf, iat)", k);
		}
		if (rc < 0)
			return -1;
	}
	if (!c->iss[0] || !c->sub[0] || !c->meeting[0] || !have_role || !c->exp)
		return bad(err, errlen, "token is malformed: claims iss, sub, meeting, role and exp are required");
	char why[200];
	if (check_claims(c, why, sizeof(why)) < 0)
		return bad(err, errlen, "token is malformed: %s", why);
	return 0;
}

static int check_header(const uint8_t *h, size_t n, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j = json_loadb((const char *)h, n, JSON_REJECT_DUPLICATES, &je);
	if (!j || !json_is_object(j)) {
		json_decref(j);
		return bad(err, errlen, "token is malformed: the header is not a JSON object");
	}
	int rc = 0;
	const char *k;
	json_t *v;
	bool have_alg = false;
	json_object_foreach(j, k, v) {
		if (strcmp(k, "alg") == 0) {
			have_alg = true;
			if (!json_is_string(v))
				rc = bad(err, errlen, "token is malformed: alg must be a string");
			else if (strcmp(json_string_value(v), "HS256") != 0)
				rc = bad(err, errlen, "token algorithm '%.20s' is not accepted (HS256 only)",
					 json_string_value(v));
		} else if (strcmp(k, "typ") == 0) {
			if (!json_is_string(v) || strcmp(json_string_value(v), "JWT") != 0)
				rc = bad(err, errlen, "token is malformed: typ must be \"JWT\"");
		} else {
			rc = bad(err, errlen, "token is malformed: unknown header field '%.40s' (alg and typ only)", k);
		}
		if (rc < 0)
			break;
	}
	if (rc == 0 && !have_alg)
		rc = bad(err, errlen, "token is malformed: the header has no alg");
	json_decref(j);
	return rc;
}

int token_verify(const uint8_t *secret, size_t secret_len, const char *tok, size_t len, int64_t now,
		 struct token_claims *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (len > TOKEN_MAX_LEN)
		return bad(err, errlen, "token is too long (%zu characters, at most %d)", len, TOKEN_MAX_LEN);
	if (len == 0)
		return bad(err, errlen, "token is empty");
	const char *d1 = memchr(tok, '.', len);
	const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - tok)) : NULL;
	if (!d1 || !d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - tok)))
		return bad(err, errlen, "token is malformed: not three base64url parts separated by '.'");
	size_t hl = (size_t)(d1 - tok), pl = (size_t)(d2 - d1 - 1), sl = len - (size_t)(d2 + 1 - tok);
	uint8_t buf[PART_MAX];
	long n = b64u_decode(tok, hl, buf, sizeof(buf));
	if (n <= 0)
		return bad(err, errlen, "token is malformed: the header is not base64url");
	if (check_header(buf, (size_t)n, err, errlen) < 0)
		return -1;
	uint8_t sig[PART_MAX], mac[SIG_LEN];
	n = b64u_decode(d2 + 1, sl, sig, sizeof(sig));
	if (n < 0)
		return bad(err, errlen, "token is malformed: the signature is not base64url");
	if (secret_len < TOKEN_SECRET_MIN || sign(secret, secret_len, tok, (size_t)(d2 - tok), mac) < 0)
		return bad(err, errlen, "token cannot be checked (no usable secret)");
	if (n != SIG_LEN || CRYPTO_memcmp(sig, mac, SIG_LEN) != 0)
		return bad(err, errlen, "token signature is invalid");
	n = b64u_decode(d1 + 1, pl, buf, sizeof(buf));
	if (n <= 0)
		return bad(err, errlen, "token is malformed: the payload is not base64url");
	json_error_t je;
	json_t *p = json_loadb((const char *)buf, (size_t)n, JSON_REJECT_DUPLICATES, &je);
	explicit_bzero(buf, sizeof(buf));
	if (!p)
		return bad(err, errlen, "token is malformed: the payload is not JSON");
	int rc = parse_claims(p, out, err, errlen);
	json_decref(p);
	if (rc == 0 && now >= out->exp)
		rc = bad(err, errlen, "token expired at %lld (now %lld)", (long long)out->exp, (long long)now);
	if (rc == 0 && out->nbf && now < out->nbf)
		rc = bad(err, errlen, "token is not valid before %lld (now %lld)", (long long)out->nbf,
			 (long long)now);
	if (rc < 0)
		memset(out, 0, sizeof(*out));
	return rc;
}

int token_load_secret(const char *path, uint8_t secret[TOKEN_SECRET_MAX], size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return bad(err, errlen, "%s: cannot open: %s", path, strerror(errno));
	struct stat st;
	int rc = -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		bad(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_mode & 077) {
		bad(err, errlen, "%s: mode %03o: the token secret must not be readable by group or others "
				 "(chmod 600)", path, (unsigned)(st.st_mode & 0777));
		goto out;
	}
	uint8_t buf[TOKEN_SECRET_MAX + 2];
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n < 0) {
		bad(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		goto out;
	}
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n < TOKEN_SECRET_MIN || n > TOKEN_SECRET_MAX) {
		bad(err, errlen, "%s: the token secret must be %d-%d bytes (e.g. openssl rand -hex 32), not %zd",
		    path, TOKEN_SECRET_MIN, TOKEN_SECRET_MAX, n);
		explicit_bzero(buf, sizeof(buf));
		goto out;
	}
	memcpy(secret, buf, (size_t)n);
	*len = (size_t)n;
	explicit_bzero(buf, sizeof(buf));
	rc = 0;
out:
	close(fd);
	return rc;
}
