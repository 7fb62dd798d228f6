/*
 * token.h - access tokens for the controller's HTTP API, in the manner of LiveKit's: a JWT (RFC 7519,
 * compact form header.payload.signature, each part base64url without padding) signed with HMAC-SHA256
 * (HS256) under the zone's secret (the controller's token_secret_file).
 *
 * Claims (all in the payload object; no other claim is accepted):
 *   iss      the issuer, 1-63 printable ASCII characters (logged, not checked against anything)
 *   sub      the participant identity: a name (1-63 of A-Z a-z 0-9 _ . -, not starting with '-')
 *   meeting  the meeting the token is for: a name, or "*" for every meeting (admin tokens)
 *   role     admin (the operator: management routes), host, co-host, participant, viewer (the
 *            attendee), or publisher (older tokens: publishes only); what each may do is perm.h's
 *            table. Old tokens (admin, publisher, viewer, participant) keep their meaning.
 *   exp      expiry, Unix seconds (required); nbf not before (optional); iat issued at (optional)
 * The header must be {"alg":"HS256"} with an optional "typ":"JWT" and nothing else: "none", RS256
 * and every other alg are refused, whatever the signature says.
 *
 * Verification is strict and in this order: size (at most TOKEN_MAX_LEN characters), three parts,
 * canonical base64url, the header, the signature (constant-time compare, before the payload is
 * parsed), the claims, then the time: now < exp and now >= nbf, no leeway. Every failure gives one
 * line saying why; nothing is allocated that outlives the call.
 */
#ifndef MMR_CTL_TOKEN_H
#define MMR_CTL_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define TOKEN_MAX_LEN     2048   /* characters of a whole token */
#define TOKEN_SECRET_MIN  32     /* bytes of the zone secret */
#define TOKEN_SECRET_MAX  512

/* (values stable: host and co-host were added after the first four) */
enum token_role { TOKEN_ROLE_ADMIN, TOKEN_ROLE_PUBLISHER, TOKEN_ROLE_VIEWER, TOKEN_ROLE_PARTICIPANT, TOKEN_ROLE_HOST,
		  TOKEN_ROLE_COHOST };
#define TOKEN_ROLE_COUNT 6
#define TOKEN_ROLE_NAMES "admin, host, co-host, participant, viewer or publisher"

struct token_claims {
	char iss[64];
	char sub[64];
	char meeting[64];
	enum token_role role;
	int64_t exp;
	int64_t nbf;            /* 0: none */
	int64_t iat;            /* 0: none */
};

/* "admin", ... ; NULL for a bad value. */
const char *token_role_name(enum token_role r);
/* 0 and *r, or -1 for an unknown name. */
int token_role_parse(const char *s, enum token_role *r);

/* Sign c into out (NUL-terminated). 0, or -1 with one line in err (a bad claim, out too small). */
int token_mint(const uint8_t *secret, size_t secret_len, const struct token_claims *c, char *out,
	       size_t outcap, char *err, size_t errlen);

/* Verify tok (len characters, need not be NUL-terminated) at time now (Unix seconds). 0 and the
 * claims, or -1 with one line in err (the claims are then zeroed). */
int token_verify(const uint8_t *secret, size_t secret_len, const char *tok, size_t len, int64_t now,
		 struct token_claims *out, char *err, size_t errlen);

/* Read the zone secret: the file's bytes (one trailing newline dropped), TOKEN_SECRET_MIN to
 * TOKEN_SECRET_MAX of them; the file must be a regular file not readable by group or others
 * (mode 0600 or 0400). 0, or -1 with one line in err. */
int token_load_secret(const char *path, uint8_t secret[TOKEN_SECRET_MAX], size_t *len, char *err,
		      size_t errlen);

#endif
