/*
 * http_server.c - the controller's HTTP API on libmicrohttpd (see http_server.h).
 *
 * A request's life: the first call of on_access (headers only) makes its http_req; the body comes
 * in chunks (at most HTTP_MAX_BODY kept; more is drained and answered 413); the last call checks, in
 * order: CORS preflight (OPTIONS, no token), the bearer token (401), the JSON body (415, 400), the
 * route (404, 405, 400), the token's role and meeting (403); then runs the command line in the
 * request's slot. A read is answered at once; a change waits for its batch commit and the dataplane
 * with its connection suspended (http_server_service resumes it, libmicrohttpd calls on_access
 * again, and the answer goes out). Everything that held a request or reply is wiped when freed.
 */
#define _GNU_SOURCE
#include "http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "http_internal.h"
#include "http_routes.h"
#include "join.h"
#include "static_files.h"
#include "jwipe.h"
#include "log.h"
#include "model.h"
#include "outbuf.h"
#include "perm.h"
#include "slot.h"
#include "zone.h"
#include "token.h"

#define DRAIN_MAX    (1024 * 1024)    /* a declared body past this is refused without reading it */
#define MAX_QUERY    8
#define PEM_MAX      (64 * 1024)

/* ---- replies ------------------------------------------------------------------------------------ */

struct wiped_buf {
	size_t len;
	char data[];
};

static void free_wiped(void *cls)
{
	struct wiped_buf *b = cls;
	explicit_bzero(b->data, b->len);
	free(b);
}

void http_add_cors(const struct http_req *r, struct MHD_Response *resp)
{
	if (!r->origin)
		return;
	MHD_add_response_header(resp, "Access-Control-Allow-Origin", r->origin);
	MHD_add_response_header(resp, "Access-Control-Expose-Headers", "Location, ETag, Link, Retry-After");
	MHD_add_response_header(resp, "Vary", "Origin");
}

enum MHD_Result http_reply(struct http_req *r, unsigned status, const char *ctype, const char *body, size_t len,
			   const struct http_hdr *hdrs)
{
	struct wiped_buf *b = malloc(sizeof(*b) + len + 1);
	if (!b)
		return MHD_NO;
	b->len = len;
	memcpy(b->data, body, len);
	struct MHD_Response *resp = MHD_create_response_from_buffer_with_free_callback_cls(len, b->data, free_wiped, b);
	if (!resp) {
		free_wiped(b);
		return MHD_NO;
	}
	if (ctype && ctype[0])
		MHD_add_response_header(resp, "Content-Type", ctype);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	for (const struct http_hdr *h = hdrs; h && h->name; h++)
		MHD_add_response_header(resp, h->name, h->value);
	http_add_cors(r, resp);
	if (status >= 400 || r->audit) {
		char res[260];
		snprintf(res, sizeof(res), "%u%s%.200s", status, r->a_note[0] ? " " : "", r->a_note);
		audit_add(r->a_who[0] ? r->a_who : "(no token)", r->a_from, r->a_what, res);
	}
	enum MHD_Result rc = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

/* Queue status with a JSON body (len bytes; none when 0). */
static enum MHD_Result reply(struct http_req *r, unsigned status, const char *body, size_t len,
			     const char *allow, bool auth_challenge)
{
	struct http_hdr h[3];
	unsigned n = 0;
	if (allow)
		h[n++] = (struct http_hdr){ "Allow", allow };
	if (auth_challenge)
		h[n++] = (struct http_hdr){ "WWW-Authenticate", "Bearer realm=\"mmr\", error=\"invalid_token\"" };
	h[n] = (struct http_hdr){ NULL, NULL };
	return http_reply(r, status, len ? "application/json" : "", body, len, h);
}

enum MHD_Result http_reply_error(struct http_req *r, unsigned status, const char *fmt, ...)
{
	char why[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	struct outbuf b;
	ob_init(&b);
	ob_puts(&b, "{\"error\": ");
	ob_json_str(&b, why);
	ob_puts(&b, "}\n");
	ctl_log("http %s: refused %u: %s", r->who, status, why);
	snprintf(r->a_note, sizeof(r->a_note), "%.190s", why);
	enum MHD_Result rc = b.oom ? MHD_NO : reply(r, status, b.p, b.len, NULL, status == 401);
	ob_free(&b);
	return rc;
}

/* The answer of a finished slot. */
static enum MHD_Result reply_slot(struct http_req *r)
{
	struct ctl_ctx *ctx = r->hs->ctx;
	struct slot *sl = &r->sl;
	request_finish(ctx, &sl->req, sl->how);
	if (sl->req.failed) {
		ctl_log("http %s: %s -> error: %s", r->who, sl->what, sl->req.err);
		snprintf(r->a_note, sizeof(r->a_note), "%.190s", sl->req.err);
		struct outbuf b;
		ob_init(&b);
		ob_puts(&b, "{\"error\": ");
		ob_json_str(&b, sl->req.err);
		ob_puts(&b, "}\n");
		if (sl->req.redirect[0] && !b.oom) {
			/* the meeting is placed on another host of the zone (zone.h): the same path there */
			const char *path = strchr(r->a_what, ' ');
			char loc[600];
			snprintf(loc, sizeof(loc), "%s%s", sl->req.redirect, path ? path + 1 : "/");
			struct http_hdr h[] = { { "Location", loc }, { NULL, NULL } };
			enum MHD_Result rc = http_reply(r, 307, "application/json", b.p, b.len, h);
			ob_free(&b);
			return rc;
		}
		enum MHD_Result rc = b.oom ? MHD_NO : reply(r, (unsigned)http_status_of_error(sl->req.err), b.p, b.len,
							  NULL, false);
		ob_free(&b);
		return rc;
	}
	if (sl->req.body.oom)
		return http_reply_error(r, 500, "out of memory building the reply");
	const char *p = sl->req.body.p ? sl->req.body.p : "";
	size_t n = sl->req.body.len;
	while (n && (*p == ' ' || *p == '\n')) {
		p++;
		n--;
	}
	bool not_applied = sl->req.mutating && memmem(p, n, "\"applied\": false", 16);
	if (sl->req.mutating)
		ctl_log("http %s: %s -> ok%s", r->who, sl->what, not_applied ? " (not applied yet)" : "");
	if (n == 0)
		return reply(r, 200, "{}\n", 3, NULL, false);
	if (*p == '{' || *p == '[')
		return reply(r, not_applied ? 202 : 200, p, n, NULL, false);
	/* a command whose reply is text only (dataplane reset) */
	struct outbuf b;
	ob_init(&b);
	ob_puts(&b, "{\"text\": ");
	ob_json_strn(&b, p, n);
	ob_puts(&b, "}\n");
	enum MHD_Result rc = b.oom ? MHD_NO : reply(r, 200, b.p, b.len, NULL, false);
	ob_free(&b);
	return rc;
}

/* ---- one request -------------------------------------------------------------------------------- */

static bool origin_allowed(const struct ctl_config *cfg, const char *origin)
{
	for (unsigned i = 0; origin && i < cfg->n_cors; i++)
		if (strcmp(cfg->cors_origins[i], "*") == 0 || strcmp(cfg->cors_origins[i], origin) == 0)
			return true;
	return false;
}

static enum MHD_Result preflight(struct http_req *r, const char *url)
{
	char methods[64], allow[80];
	if (strcmp(url, "/metrics") == 0)
		snprintf(methods, sizeof(methods), "GET, HEAD");
	else if (!join_route_methods(url, methods, sizeof(methods)) && !http_route_methods(url, methods, sizeof(methods)))
		return http_reply_error(r, 404, "no such resource: %.200s (see docs/openapi.yaml)", url);
	snprintf(allow, sizeof(allow), "%s, OPTIONS", methods);
	struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Allow", allow);
	if (strstr(methods, "POST") && join_is_join_url(url))
		MHD_add_response_header(resp, "Accept-Post", "application/sdp");
	if (r->origin) {
		http_add_cors(r, resp);
		MHD_add_response_header(resp, "Access-Control-Allow-Methods", allow);
		MHD_add_response_header(resp, "Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match, MMR-Passcode");
		MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
	}
	enum MHD_Result rc = MHD_queue_response(r->conn, 204, resp);
	MHD_destroy_response(resp);
	return rc;
}

struct query_acc {
	struct http_query q[MAX_QUERY];
	unsigned n;
	bool overflow;
};

static enum MHD_Result on_query(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	struct query_acc *a = cls;
	if (a->n == MAX_QUERY) {
		a->overflow = true;
		return MHD_NO;
	}
	a->q[a->n++] = (struct http_query){ key, value };
	return MHD_YES;
}

bool http_content_type_is(struct http_req *r, const char *type)
{
	const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Type");
	if (!ct)
		return false;
	size_t n = strlen(type);
	return strncasecmp(ct, type, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

int http_authenticate(struct http_req *r, const char *tok, struct token_claims *cl, enum MHD_Result *rc)
{
	struct http_server *hs = r->hs;
	if (hs->no_auth) {
		memset(cl, 0, sizeof(*cl));
		cl->role = TOKEN_ROLE_ADMIN;
		strcpy(cl->meeting, "*");
		strcpy(cl->sub, "-");
		snprintf(r->a_who, sizeof(r->a_who), "- (no auth: test hook)");
		return 0;
	}
	const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	static char bearer[TOKEN_MAX_LEN + 8];
	if (tok && (!h || !*h)) {
		snprintf(bearer, sizeof(bearer), "Bearer %s", tok);
		h = bearer;
	}
	if (!h || !*h) {
		*rc = http_reply_error(r, 401, "missing bearer token (header Authorization: Bearer TOKEN; "
					  "'mmrctl token mint' makes one)");
		return -1;
	}
	if (strncasecmp(h, "Bearer ", 7) != 0) {
		*rc = http_reply_error(r, 401, "the Authorization header must be 'Bearer TOKEN'");
		return -1;
	}
	h += 7;
	while (*h == ' ')
		h++;
	char why[300];
	int vr = token_verify(hs->secret, hs->secret_len, h, strlen(h), (int64_t)time(NULL), cl, why, sizeof(why));
	if (tok)
		explicit_bzero(bearer, sizeof(bearer));
	if (vr < 0) {
		*rc = http_reply_error(r, 401, "%s", why);
		return -1;
	}
	/* meeting controls (issue 15): an ejected identity's tokens for its meeting are revoked */
	uint32_t mt = model_find_meeting(hs->ctx->model, cl->meeting);
	if (mt != MMR_ID_NONE && model_banned(hs->ctx->model, mt, cl->sub)) {
		*rc = http_reply_error(r, 403, "token revoked: '%s' was ejected from meeting '%s'", cl->sub, cl->meeting);
		return -1;
	}
	size_t l = strlen(r->who);
	snprintf(r->who + l, sizeof(r->who) - l, " %s", cl->sub);
	snprintf(r->a_who, sizeof(r->a_who), "%.40s (%s, meeting %.30s)", cl->sub, token_role_name(cl->role),
		 cl->meeting);
	return 0;
}

/* GET /metrics (metrics.h): without a token from loopback or when metrics_public; else an admin
 * token for every meeting. */
static enum MHD_Result serve_metrics(struct http_req *r, const char *method)
{
	struct http_server *hs = r->hs;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		struct http_hdr h[] = { { "Allow", "GET, HEAD, OPTIONS" }, { NULL, NULL } };
		static const char body[] = "{\"error\": \"/metrics takes GET\"}\n";
		ctl_log("http %s: %s /metrics -> 405", r->who, method);
		return http_reply(r, 405, "application/json", body, sizeof(body) - 1, h);
	}
	if (!hs->ctx->cfg->metrics_public && !ctl_addr_is_loopback(&r->peer)) {
		struct token_claims cl;
		enum MHD_Result rc = MHD_NO;
		if (http_authenticate(r, NULL, &cl, &rc) < 0)
			return rc;
		if (!perm_allows(cl.role, PERM_OPERATE) || strcmp(cl.meeting, "*") != 0)
			return http_reply_error(r, 403, "/metrics needs an admin token for every meeting (meeting \"*\"), "
						   "or metrics_public = true");
	}
	if (r->body_len)
		return http_reply_error(r, 400, "GET takes no request body");
	struct outbuf b;
	ob_init(&b);
	metrics_render(hs->ctx, &hs->metrics, &b);
	enum MHD_Result rc = b.oom ? http_reply_error(r, 500, "out of memory building the metrics") :
				     http_reply(r, 200, METRICS_CONTENT_TYPE, b.p, b.len, NULL);
	ob_free(&b);
	return rc;
}

static enum MHD_Result handle(struct http_req *r, const char *url, const char *method)
{
	struct http_server *hs = r->hs;
	if (strcmp(method, "OPTIONS") == 0)
		return preflight(r, url);
	if (r->too_large)
		return http_reply_error(r, 413, "the request body is too large (at most %d bytes)", HTTP_MAX_BODY);
	if (strcmp(url, "/metrics") == 0)
		return serve_metrics(r, method);
	if (static_files_url(url))
		return static_files_serve(r, hs->ctx->cfg->demo_dir, url, method);
	if (join_owns_url(url))
		return join_handle(hs->join, r, url, method);

	struct token_claims cl;
	enum MHD_Result rc = MHD_NO;
	if (http_authenticate(r, NULL, &cl, &rc) < 0)
		return rc;

	json_t *body = NULL;
	if (r->body_len) {
		if (!http_method_has_body(method))
			return http_reply_error(r, 400, "%s takes no request body", method);
		if (!http_content_type_is(r, "application/json"))
			return http_reply_error(r, 415, "the request body must be JSON (Content-Type: application/json)");
		json_error_t je;
		body = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &je);
		if (!body)
			return http_reply_error(r, 400, "the request body is not JSON: line %d column %d: %s", je.line,
					   je.column, je.text);
	}
	struct query_acc qa = { .n = 0 };
	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, on_query, &qa);
	if (qa.overflow) {
		json_decref(body);
		return http_reply_error(r, 400, "too many query parameters (at most %d)", MAX_QUERY);
	}

	static struct http_call call;   /* 4 KiB: off the stack; one request at a time (one thread) */
	char why[512];
	const char *allow = NULL;
	int st = http_route(method, url, qa.q, qa.n, body, &call, &allow, why, sizeof(why));
	json_decref(body);
	if (st != 0) {
		explicit_bzero(&call, sizeof(call));
		if (st == 405) {
			struct outbuf b;
			ob_init(&b);
			ob_puts(&b, "{\"error\": ");
			ob_json_str(&b, why);
			ob_puts(&b, "}\n");
			char allow2[80];
			snprintf(allow2, sizeof(allow2), "%s, OPTIONS", allow ? allow : "");
			rc = b.oom ? MHD_NO : reply(r, 405, b.p, b.len, allow2, false);
			ob_free(&b);
			ctl_log("http %s: %s %s -> 405", r->who, method, url);
			return rc;
		}
		return http_reply_error(r, (unsigned)st, "%s", why);
	}
	enum perm need = call.perm;
	bool allowed = perm_allows(cl.role, call.perm);
	if (allowed && call.keys && !perm_allows(cl.role, PERM_READ_KEYS))
		allowed = false, need = PERM_READ_KEYS;
	for (unsigned i = 0; allowed && i < call.n_more; i++)
		if (!perm_allows(cl.role, call.more[i]))
			allowed = false, need = call.more[i];
	if (!allowed) {
		explicit_bzero(&call, sizeof(call));
		return http_reply_error(r, 403, "role '%s' may not %s %s (it needs permission %s; docs/interfaces.md "
				   "\"Roles and permissions\")", token_role_name(cl.role), method, url, perm_name(need));
	}
	if (strcmp(cl.meeting, "*") == 0 && cl.role != TOKEN_ROLE_ADMIN) {
		explicit_bzero(&call, sizeof(call));
		return http_reply_error(r, 403, "meeting \"*\" is for admin (operator) tokens only; a %s token names "
				   "its meeting", token_role_name(cl.role));
	}
	if (strcmp(cl.meeting, "*") != 0 &&
	    (call.scope == HTTP_SCOPE_ZONE || !call.meeting || strcmp(call.meeting, cl.meeting) != 0)) {
		bool zone = call.scope == HTTP_SCOPE_ZONE;
		explicit_bzero(&call, sizeof(call));
		return http_reply_error(r, 403, zone ? "the token is for meeting '%s' only; %s %s needs a token for every "
						  "meeting (meeting \"*\")" :
						  "the token is for meeting '%s' only, not this one (%s %s)",
				   cl.meeting, method, url);
	}
	r->audit |= call.keys;          /* a key read is audited whatever its method */
	slot_run(hs->ctx, &r->sl, call.argc, call.argv, mmr_now_ns());
	r->started = true;
	explicit_bzero(&call, sizeof(call));
	if (r->sl.state == SLOT_DONE)
		return reply_slot(r);
	MHD_suspend_connection(r->conn);
	r->suspended = true;
	return MHD_YES;
}

static void req_free(struct http_req *r)
{
	struct http_server *hs = r->hs;
	if (r->prev)
		r->prev->next = r->next;
	else
		hs->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	join_req_gone(hs->join, r);
	zone_slot_gone(hs->ctx->zone, &r->sl);
	if (r->started)
		request_free(&r->sl.req);
	if (r->body) {
		explicit_bzero(r->body, r->body_len);
		free(r->body);
	}
	explicit_bzero(r, sizeof(*r));
	free(r);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				 const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
	(void)version;
	struct http_server *hs = cls;
	struct http_req *r = *con_cls;
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		r->hs = hs;
		r->conn = conn;
		r->next = hs->reqs;
		if (hs->reqs)
			hs->reqs->prev = r;
		hs->reqs = r;
		*con_cls = r;
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		char addr[INET6_ADDRSTRLEN] = "?";
		if (ci && ci->client_addr) {
			const struct sockaddr *sa = ci->client_addr;
			memcpy(&r->peer, sa, sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
					     sizeof(struct sockaddr_in));
			if (sa->sa_family == AF_INET)
				inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, addr, sizeof(addr));
			else if (sa->sa_family == AF_INET6)
				inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, addr, sizeof(addr));
		}
		snprintf(r->who, sizeof(r->who), "%s", addr);
		snprintf(r->a_from, sizeof(r->a_from), "%s", addr);
		snprintf(r->a_what, sizeof(r->a_what), "%s %.180s", method, url);
		r->audit = strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 && strcmp(method, "OPTIONS") != 0;
		const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
		if (origin_allowed(hs->ctx->cfg, origin))
			r->origin = origin;
		const char *clen = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
		if (clen) {
			unsigned long long v = strtoull(clen, NULL, 10);
			if (v > HTTP_MAX_BODY)
				r->too_large = true;
			if (v > DRAIN_MAX)   /* not worth reading: answer now, libmicrohttpd closes after it */
				return http_reply_error(r, 413, "the request body is too large (at most %d bytes)", HTTP_MAX_BODY);
		}
		return MHD_YES;
	}
	if (*upload_size) {
		if (!r->too_large && r->body_len + *upload_size > HTTP_MAX_BODY) {
			r->too_large = true;
			explicit_bzero(r->body, r->body_len);
			free(r->body);
			r->body = NULL;
			r->body_len = 0;
		}
		if (!r->too_large) {
			if (!r->body && !(r->body = malloc(HTTP_MAX_BODY)))
				return MHD_NO;
			memcpy(r->body + r->body_len, upload_data, *upload_size);
			r->body_len += *upload_size;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->kind == HTTP_REQ_JOIN) {
		/* resumed: the join's commands settled */
		r->suspended = false;
		return join_resumed(hs->join, r);
	}
	if (r->started) {
		/* resumed: the change settled */
		r->suspended = false;
		if (r->kind == HTTP_REQ_DELETE)
			join_delete_settled(hs->join, r);
		return reply_slot(r);
	}
	return handle(r, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	(void)toe;
	struct http_server *hs = cls;
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_HTTP_STATUS);
	if (ci && ci->http_status >= 100 && ci->http_status < METRICS_MAX_STATUS)
		hs->metrics.by_status[ci->http_status]++;
	struct http_req *r = *con_cls;
	if (!r)
		return;
	*con_cls = NULL;
	req_free(r);
}

/* libmicrohttpd would decode %HH in the path and the query: we take them as sent (names and values
 * never need escapes; an escaped one is refused as a bad name or value, never re-split). */
static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char buf[400];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	size_t n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	ctl_log("http: libmicrohttpd: %s", buf);
}

/* ---- the server --------------------------------------------------------------------------------- */

/* A PEM file into a NUL-terminated heap buffer. NULL with err. */
static char *read_pem(const char *path, const char *what, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s %s: cannot open: %s", what, path, strerror(errno));
		return NULL;
	}
	char *buf = malloc(PEM_MAX + 1);
	size_t n = 0;
	ssize_t k = 0;
	while (buf && n < PEM_MAX && (k = read(fd, buf + n, PEM_MAX - n)) > 0)
		n += (size_t)k;
	close(fd);
	if (!buf || k < 0 || n == 0 || n >= PEM_MAX) {
		snprintf(err, errlen, "%s %s: %s", what, path, !buf ? "out of memory" : k < 0 ? strerror(errno) :
			 n == 0 ? "empty" : "too large");
		if (buf)
			explicit_bzero(buf, n);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

struct http_server *http_server_start(struct ctl_ctx *ctx, char *err, size_t errlen)
{
	const struct ctl_config *cfg = ctx->cfg;
	jwipe_install();
	struct http_server *hs = calloc(1, sizeof(*hs));
	if (!hs) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	hs->ctx = ctx;
	const char *hook = getenv("MMR_TEST_NO_AUTH");
	hs->no_auth = hook && strcmp(hook, "1") == 0;
	if (hs->no_auth && cfg->http_tls_cert[0]) {
		/* the negative control's hook, never on a listener others can reach: plain HTTP is
		 * loopback only (config.c), HTTPS may not be */
		snprintf(err, errlen, "MMR_TEST_NO_AUTH=1 is refused on an HTTPS listener (test hook: "
			 "plain loopback HTTP only)");
		goto err;
	}
	if (hs->no_auth)
		ctl_log("MMR_TEST_NO_AUTH=1: the HTTP API checks NO token (test hook, loopback only)");
	hs->join = join_new(hs);
	if (!hs->join) {
		snprintf(err, errlen, "out of memory");
		goto err;
	}
	if (token_load_secret(cfg->token_secret_file, hs->secret, &hs->secret_len, err, errlen) < 0)
		goto err;
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	if (cfg->http_addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	size_t cert_len = 0;
	if (cfg->http_tls_cert[0]) {
		if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
			snprintf(err, errlen, "this libmicrohttpd has no TLS support");
			goto err;
		}
		hs->cert = read_pem(cfg->http_tls_cert, "http_tls_cert", &cert_len, err, errlen);
		if (!hs->cert)
			goto err;
		hs->key = read_pem(cfg->http_tls_key, "http_tls_key", &hs->key_len, err, errlen);
		if (!hs->key)
			goto err;
		flags |= MHD_USE_TLS;
	}
	struct MHD_OptionItem tls_opts[] = {
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, hs->cert },
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, hs->key },
		{ MHD_OPTION_END, 0, NULL },
	};
	if (!hs->cert)
		tls_opts[0].option = MHD_OPTION_END;
	hs->d = MHD_start_daemon(flags, 0, NULL, NULL, on_access, hs,
				 MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, hs,
				 MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&cfg->http_addr,
				 MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
				 MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)32,
				 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
				 MHD_OPTION_NOTIFY_COMPLETED, on_completed, hs,
				 MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, hs,
				 MHD_OPTION_ARRAY, tls_opts,
				 MHD_OPTION_END);
	if (!hs->d) {
		snprintf(err, errlen, "cannot listen on %s%s (address in use, or a bad certificate or key: see "
			 "the lines above)", cfg->http_listen, hs->cert ? " with TLS" : "");
		goto err;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(hs->d, MHD_DAEMON_INFO_EPOLL_FD);
	const union MHD_DaemonInfo *pi = MHD_get_daemon_info(hs->d, MHD_DAEMON_INFO_BIND_PORT);
	if (!di) {
		snprintf(err, errlen, "libmicrohttpd gives no epoll fd");
		goto err;
	}
	hs->fd = di->epoll_fd;
	ctl_log("HTTP API on %s (port %u, %s, %u CORS origin(s))", cfg->http_listen, pi ? (unsigned)pi->port : 0,
		hs->cert ? "HTTPS" : "plain HTTP, loopback", cfg->n_cors);
	return hs;
err:
	http_server_stop(hs);
	return NULL;
}

int http_server_fd(const struct http_server *hs)
{
	return hs->fd;
}

uint64_t http_server_timeout_ns(struct http_server *hs)
{
	MHD_UNSIGNED_LONG_LONG ms;
	if (MHD_get_timeout(hs->d, &ms) != MHD_YES)
		return UINT64_MAX;
	return ms > UINT64_MAX / 1000000ull ? UINT64_MAX : (uint64_t)ms * 1000000ull;
}

void http_server_run(struct http_server *hs)
{
	MHD_run(hs->d);
}

void http_server_committed(struct http_server *hs, int rc, const char *err, uint64_t now)
{
	for (struct http_req *r = hs->reqs; r; r = r->next)
		if (r->started)
			slot_committed(hs->ctx, &r->sl, rc, err, now);
}

bool http_server_service(struct http_server *hs, uint64_t now)
{
	bool waiting = false, resumed = false;
	for (struct http_req *r = hs->reqs; r; r = r->next) {
		if (!r->started || !r->suspended)
			continue;
		if (r->sl.state == SLOT_WAIT && !slot_settle(hs->ctx, &r->sl, now))
			waiting = true;
		if (r->sl.state == SLOT_DONE) {
			r->suspended = false;
			MHD_resume_connection(r->conn);
			resumed = true;
		}
	}
	join_service(hs->join, now);
	/* libmicrohttpd takes resumed connections up in its next run (and may not wake its epoll fd for
	 * them): run it now, so the answers go out without waiting for the next event */
	if (resumed)
		MHD_run(hs->d);
	return waiting;
}

void http_server_stop(struct http_server *hs)
{
	if (!hs)
		return;
	join_stop_streams(hs->join);
	if (hs->d) {
		for (struct http_req *r = hs->reqs; r; r = r->next)
			if (r->suspended) {
				r->suspended = false;
				MHD_resume_connection(r->conn);
			}
		MHD_stop_daemon(hs->d);
	}
	while (hs->reqs)
		req_free(hs->reqs);
	join_free(hs->join);
	hs->join = NULL;
	explicit_bzero(hs->secret, sizeof(hs->secret));
	if (hs->key)
		explicit_bzero(hs->key, hs->key_len);
	free(hs->key);
	free(hs->cert);
	free(hs);
}
