/*
 * http_internal.h - what the HTTP API's modules share (http_server.c, join.c, static_files.c): a
 * request's record, the server's, and the reply helpers. Not for anything outside the HTTP API.
 */
#ifndef MMR_CTL_HTTP_INTERNAL_H
#define MMR_CTL_HTTP_INTERNAL_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "http_server.h"
#include "metrics.h"
#include "slot.h"
#include "token.h"

struct join;
struct join_session;
struct join_stream;

enum http_req_kind {
	HTTP_REQ_API,                   /* a REST route: its slot's reply */
	HTTP_REQ_JOIN,                  /* a join waiting for its commands to settle: 201 + the answer */
	HTTP_REQ_EVENTS,                /* a Server-Sent Events stream (join.c) */
	HTTP_REQ_DELETE,                /* a session's DELETE waiting for its remove: its slot's reply */
};

struct http_req {
	struct http_req *next, *prev;
	struct http_server *hs;
	struct MHD_Connection *conn;
	char *body;
	size_t body_len;
	bool too_large;
	bool started;                   /* sl holds a request */
	bool suspended;
	struct slot sl;
	char who[96];                   /* peer and token subject, for the log */
	/* the audit log (audit.h): who (token subject and role), from where, what, and why refused */
	char a_who[96], a_from[64], a_what[200], a_note[200];
	bool audit;                     /* audited whatever the status (not a GET, or a key read) */
	const char *origin;             /* CORS: the allowed Origin to echo (MHD's storage), or NULL */
	struct sockaddr_storage peer;   /* the client's address (rate limits) */
	enum http_req_kind kind;
	struct join_session *session;   /* HTTP_REQ_JOIN: the session being made; _DELETE: ended */
	struct join_stream *stream;     /* HTTP_REQ_EVENTS */
};

struct http_server {
	struct ctl_ctx *ctx;
	struct MHD_Daemon *d;
	int fd;
	bool no_auth;                   /* MMR_TEST_NO_AUTH=1 */
	uint8_t secret[TOKEN_SECRET_MAX];
	size_t secret_len;
	char *cert, *key;               /* PEM, for libmicrohttpd; wiped at stop */
	size_t key_len;
	struct http_req *reqs;          /* every live request */
	struct join *join;              /* the join endpoints' sessions (join.h) */
	struct metrics_http metrics;    /* replies by status (GET /metrics) */
};

/* One extra header of a reply. */
struct http_hdr {
	const char *name, *value;
};

/* Queue status with body (len bytes of content type ctype, "" for none; copied into a buffer
 * wiped when libmicrohttpd is done), extra headers (NULL-name terminated, or NULL), CORS. */
enum MHD_Result http_reply(struct http_req *r, unsigned status, const char *ctype, const char *body, size_t len,
			   const struct http_hdr *hdrs);
/* {"error": WHY} with status (401: with the Bearer challenge), logged. */
enum MHD_Result http_reply_error(struct http_req *r, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The bearer token (the Authorization header, or tok when not NULL): 0 and the claims, or the 401
 * reply was queued (*rc). */
int http_authenticate(struct http_req *r, const char *tok, struct token_claims *cl, enum MHD_Result *rc);
/* Add the CORS headers of r to resp. */
void http_add_cors(const struct http_req *r, struct MHD_Response *resp);
/* Does the Content-Type header name this media type (parameters allowed)? */
bool http_content_type_is(struct http_req *r, const char *type);

#endif
