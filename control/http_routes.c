/*
 * http_routes.c - the REST route table and its mapping onto mmrctl command lines (see
 * http_routes.h). Every route is one row of `routes`: adding one (the join endpoints, later) is a
 * row, not code.
 */
#include "http_routes.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define MAX_FIELDS 16
#define MAX_SEGS   8

enum ftype {
	F_STR,          /* string or integer -> --opt=VALUE (or a positional) */
	F_LIST,         /* that, or an array of them joined by ',' (SSRC lists) */
	F_FLAG,         /* true -> --opt, false -> nothing */
	F_ONOFF,        /* true -> --opt=on, false -> --opt=off */
};

struct field {
	const char *json;       /* body field or query parameter */
	const char *opt;        /* the mmrctl option, NULL: a positional argument */
	enum ftype t;
	const char *label;      /* positional: what it names, for the error ("meeting", "participant") */
	const char *def;        /* positional: its value when the body has none (NULL: none) */
	int perm;               /* given: the token's role needs this permission too (perm + 1; 0: none) */
};

struct route {
	const char *method;
	/* segments after /v1: literal, ":meeting" / ":participant" (positional), "=OPT" (option) */
	const char *path;
	const char *cmd1, *cmd2;
	enum http_scope scope;
	struct field body[MAX_FIELDS];
	struct field query[2];
	int perm;               /* the permission the route needs (perm + 1; 0: route_perm decides) */
};

#define POS(j, l)   { j, NULL, F_STR, l, NULL, 0 }
#define STR(j, o)   { j, o, F_STR, NULL, NULL, 0 }
#define LIST(j, o)  { j, o, F_LIST, NULL, NULL, 0 }
#define FLAG(j, o)  { j, o, F_FLAG, NULL, NULL, 0 }
/* meeting controls (issue 15): kinds: "audio", ... or an array of them (absent: all); the settings
 * each need the permission of what they change */
#define KINDS       { "kinds", NULL, F_LIST, "kind", "all", 0 }
#define NOBODY      { { 0 } }, { { 0 } }
#define P(x)        ((x) + 1)

static const struct route routes[] = {
	{ "GET", "/status", "status", NULL, HTTP_SCOPE_ZONE, { { 0 } }, { { 0 } }, 0 },
	{ "GET", "/stats", "stats", NULL, HTTP_SCOPE_ZONE, { { 0 } },
	  { FLAG("streams", "streams"), FLAG("participants", "participants") }, 0 },
	{ "GET", "/meetings", "meeting", "list", HTTP_SCOPE_ZONE, { { 0 } }, { { 0 } }, 0 },
	{ "POST", "/meetings", "meeting", "create", HTTP_SCOPE_ZONE,
	  { POS("name", "meeting"), FLAG("plain", "plain"), STR("srtp", "srtp"), STR("top_n", "top-n") }, { { 0 } }, 0 },
	{ "GET", "/meetings/:meeting", "meeting", "show", HTTP_SCOPE_MEETING, { { 0 } }, { { 0 } }, 0 },
	{ "PATCH", "/meetings/:meeting", "meeting", "set", HTTP_SCOPE_MEETING, { STR("top_n", "top-n") }, { { 0 } }, 0 },
	{ "DELETE", "/meetings/:meeting", "meeting", "end", HTTP_SCOPE_MEETING, { { 0 } }, { { 0 } }, 0 },
	{ "PUT", "/meetings/:meeting/passcode", "meeting", "passcode", HTTP_SCOPE_MEETING, { STR("passcode", "passcode") },
	  { { 0 } }, 0 },
	{ "DELETE", "/meetings/:meeting/passcode", "meeting", "passcode-clear", HTTP_SCOPE_MEETING, { { 0 } }, { { 0 } }, 0 },
	{ "POST", "/meetings/:meeting/move", "meeting", "move", HTTP_SCOPE_MEETING, { STR("lcore", "lcore") },
	  { { 0 } }, 0 },
	{ "GET", "/meetings/:meeting/participants", "participant", "list", HTTP_SCOPE_MEETING, { { 0 } }, { { 0 } }, 0 },
	{ "POST", "/meetings/:meeting/participants", "participant", "add", HTTP_SCOPE_MEETING,
	  { POS("name", "participant"), STR("addr", "addr"), STR("port", "port"), STR("role", "role"),
	    STR("mac", "mac"), STR("dp_port", "dp-port"), STR("srtp", "srtp"), FLAG("plain", "plain"),
	    STR("rtcp", "rtcp"), STR("rtx", "rtx"), STR("ext", "ext"), FLAG("ext_two_byte", "ext-two-byte"),
	    LIST("video_slots", "video-slots"), LIST("audio_slots", "audio-slots") },
	  { { 0 } }, 0 },
	{ "GET", "/meetings/:meeting/participants/:participant", "participant", "show", HTTP_SCOPE_MEETING,
	  { { 0 } }, { { 0 } }, 0 },
	{ "DELETE", "/meetings/:meeting/participants/:participant", "participant", "remove", HTTP_SCOPE_MEETING,
	  { { 0 } }, { { 0 } }, 0 },
	{ "GET", "/meetings/:meeting/participants/:participant/keys", "participant", "keys", HTTP_SCOPE_MEETING,
	  { { 0 } }, { { 0 } }, 0 },
	{ "POST", "/meetings/:meeting/participants/:participant/rekey", "participant", "rekey", HTTP_SCOPE_MEETING,
	  { { 0 } }, { { 0 } }, 0 },
	{ "POST", "/meetings/:meeting/participants/:participant/streams", "stream", "add", HTTP_SCOPE_MEETING,
	  { LIST("ssrc", "ssrc"), STR("kind", "kind"), STR("codec", "codec"), STR("layers", "layers"),
	    STR("spatial", "spatial"), STR("dd_ext", "dd-ext"), LIST("rtx_ssrc", "rtx-ssrc"), STR("rtx_pt", "rtx-pt"),
	    STR("clock", "clock"), FLAG("screen", "screen"), STR("mid", "mid"), LIST("rid", "rid") },
	  { { 0 } }, 0 },
	{ "DELETE", "/meetings/:meeting/participants/:participant/streams/=ssrc", "stream", "remove",
	  HTTP_SCOPE_MEETING, { { 0 } }, { { 0 } }, 0 },
	{ "GET", "/meetings/:meeting/subs", "sub", "list", HTTP_SCOPE_MEETING, { { 0 } }, { { 0 } }, 0 },
	{ "PATCH", "/meetings/:meeting/participants/:participant/subs/=ssrc", "sub", "set", HTTP_SCOPE_MEETING,
	  { STR("target", "target"), STR("spatial", "spatial"), STR("dt", "dt"), STR("encoding", "encoding"),
	    STR("out_ssrc", "out-ssrc"), STR("rtx_ssrc", "rtx-ssrc"), FLAG("pin", "pin"), FLAG("unpin", "unpin") },
	  { { 0 } }, 0 },
	{ "GET", "/meetings/:meeting/slots", "slot", "list", HTTP_SCOPE_MEETING, { { 0 } }, { { 0 } }, 0 },
	{ "PUT", "/meetings/:meeting/participants/:participant/slots/video/=video", "slot", "set", HTTP_SCOPE_MEETING,
	  { STR("ssrc", "ssrc"), FLAG("none", "none"), STR("target", "target"), STR("spatial", "spatial"),
	    STR("dt", "dt"), STR("encoding", "encoding") },
	  { { 0 } }, 0 },
	{ "POST", "/meetings/:meeting/participants/:participant/admit", "participant", "admit", HTTP_SCOPE_MEETING,
	  NOBODY, P(PERM_ADMIT) },
	{ "POST", "/meetings/:meeting/participants/:participant/deny", "participant", "deny", HTTP_SCOPE_MEETING,
	  NOBODY, P(PERM_ADMIT) },
	{ "POST", "/meetings/:meeting/participants/:participant/mute", "participant", "mute", HTTP_SCOPE_MEETING,
	  { KINDS }, { { 0 } }, P(PERM_MUTE_OTHERS) },
	{ "POST", "/meetings/:meeting/participants/:participant/unmute", "participant", "unmute", HTTP_SCOPE_MEETING,
	  { KINDS }, { { 0 } }, P(PERM_MUTE_OTHERS) },
	{ "POST", "/meetings/:meeting/participants/:participant/ask-unmute", "participant", "ask-unmute",
	  HTTP_SCOPE_MEETING, { KINDS }, { { 0 } }, P(PERM_MUTE_OTHERS) },
	{ "POST", "/meetings/:meeting/participants/:participant/eject", "participant", "eject", HTTP_SCOPE_MEETING,
	  NOBODY, P(PERM_EJECT) },
	{ "POST", "/meetings/:meeting/mute-all", "meeting", "mute-all", HTTP_SCOPE_MEETING, { KINDS }, { { 0 } },
	  P(PERM_MUTE_OTHERS) },
	{ "POST", "/meetings/:meeting/lock", "meeting", "lock", HTTP_SCOPE_MEETING, NOBODY, P(PERM_LOCK_END) },
	{ "POST", "/meetings/:meeting/unlock", "meeting", "unlock", HTTP_SCOPE_MEETING, NOBODY, P(PERM_LOCK_END) },
	{ "PATCH", "/meetings/:meeting/controls", "meeting", "set", HTTP_SCOPE_MEETING,
	  { { "waiting_room", "waiting-room", F_ONOFF, NULL, NULL, P(PERM_ADMIT) },
	    { "self_unmute", "self-unmute", F_STR, NULL, NULL, P(PERM_MUTE_OTHERS) },
	    { "share", "share", F_STR, NULL, NULL, P(PERM_SHARE) },
	    { "max_sharers", "max-sharers", F_STR, NULL, NULL, P(PERM_SHARE) } },
	  { { 0 } }, P(PERM_SHARE) },
	/* the zone in etcd (zone.h) */
	{ "GET", "/zone", "zone", "status", HTTP_SCOPE_ZONE, { { 0 } }, { { 0 } }, 0 },
	{ "POST", "/zone/hosts/:host/drain", "zone", "drain", HTTP_SCOPE_ZONE, { { 0 } }, { { 0 } }, 0 },
	{ "DELETE", "/zone/hosts/:host/drain", "zone", "undrain", HTTP_SCOPE_ZONE, { { 0 } }, { { 0 } }, 0 },
	{ "GET", "/audit", "audit", NULL, HTTP_SCOPE_ZONE, { { 0 } }, { { 0 } }, 0 },
	{ "POST", "/dataplane/reset", "dataplane", "reset", HTTP_SCOPE_ZONE, { FLAG("yes_wipe", "yes-wipe") },
	  { { 0 } }, 0 },
};
#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))

__attribute__((format(printf, 3, 4)))
static int bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	for (char *p = err; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			*p = '?';
	return 400;
}

bool http_method_has_body(const char *method)
{
	return strcmp(method, "POST") == 0 || strcmp(method, "PATCH") == 0 || strcmp(method, "PUT") == 0;
}

/* Split "/v1/a/b" into segments after /v1 (in buf). The count, or -1 (not under /v1, an empty
 * segment, too many). */
static int split(const char *path, char *buf, size_t cap, char *seg[MAX_SEGS])
{
	if (strncmp(path, "/v1/", 4) != 0 || strlen(path) >= cap)
		return -1;
	strcpy(buf, path + 4);
	int n = 0;
	for (char *s = buf;;) {
		char *slash = strchr(s, '/');
		if (slash)
			*slash = '\0';
		if (!*s || n == MAX_SEGS)
			return -1;
		seg[n++] = s;
		if (!slash)
			return n;
		s = slash + 1;
	}
}

/* Does route r's path match the segments? */
static bool path_match(const struct route *r, char *const *seg, int n)
{
	char rbuf[256], *rseg[MAX_SEGS];
	char full[260];
	snprintf(full, sizeof(full), "/v1%s", r->path);
	int rn = split(full, rbuf, sizeof(rbuf), rseg);
	if (rn != n)
		return false;
	for (int i = 0; i < n; i++)
		if (rseg[i][0] != ':' && rseg[i][0] != '=' && strcmp(rseg[i], seg[i]) != 0)
			return false;
	return true;
}

const char *http_route_methods(const char *path, char *buf, size_t cap)
{
	char pbuf[1024], *seg[MAX_SEGS];
	int n = split(path, pbuf, sizeof(pbuf), seg);
	if (n < 0 || cap == 0)
		return NULL;
	buf[0] = '\0';
	for (size_t i = 0; i < N_ROUTES; i++)
		if (path_match(&routes[i], seg, n) && strlen(buf) + strlen(routes[i].method) + 3 < cap) {
			if (buf[0])
				strcat(buf, ", ");
			strcat(buf, routes[i].method);
		}
	return buf[0] ? buf : NULL;
}

/* ---- building argv ------------------------------------------------------------------------------ */

static char *arena_add(struct http_call *c, const char *a, const char *b, const char *d)
{
	size_t la = strlen(a), lb = strlen(b), ld = strlen(d);
	if (c->argc >= HTTP_MAX_ARGS - 1 || c->used + la + lb + ld + 1 > sizeof(c->arena))
		return NULL;
	char *p = c->arena + c->used;
	memcpy(p, a, la);
	memcpy(p + la, b, lb);
	memcpy(p + la + lb, d, ld + 1);
	c->used += la + lb + ld + 1;
	c->argv[c->argc++] = p;
	return p;
}

#define TOO_LONG(err, errlen) bad(err, errlen, "the request's values are too long (at most %d bytes in all)", \
				  HTTP_ARG_SPACE)

static int add_positional(struct http_call *c, const char *label, const char *v, char **where, char *err,
			  size_t errlen)
{
	/* a leading '-' would be read as an option: refused with the text request_run gives a bad name */
	if (v[0] == '-')
		return bad(err, errlen, "bad %s name '%.80s' (1-63 characters of A-Z a-z 0-9 _ . -, not starting "
					"with '-')", label, v);
	char *p = arena_add(c, v, "", "");
	if (!p)
		return TOO_LONG(err, errlen);
	if (where)
		*where = p;
	return 0;
}

/* A scalar JSON value as text: a string as is, an integer in decimal. 0, or -1. */
static int scalar_text(const json_t *v, char *buf, size_t cap, const char **out)
{
	if (json_is_string(v)) {
		*out = json_string_value(v);
		return strlen(*out) == json_string_length(v) ? 0 : -1;
	}
	if (json_is_integer(v)) {
		snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
		*out = buf;
		return 0;
	}
	return -1;
}

/* "--opt=value" */
static int add_option(struct http_call *c, const char *opt, const char *value, char *err, size_t errlen)
{
	char head[40];
	snprintf(head, sizeof(head), "--%s=", opt);
	return arena_add(c, head, value, "") ? 0 : TOO_LONG(err, errlen);
}

static int add_field(struct http_call *c, const struct field *f, const json_t *v, char *err, size_t errlen)
{
	char num[32];
	const char *text;
	if (f->t == F_ONOFF) {
		if (!json_is_boolean(v))
			return bad(err, errlen, "field '%s' must be true or false", f->json);
		return add_option(c, f->opt, json_is_true(v) ? "on" : "off", err, errlen);
	}
	if (f->t == F_FLAG) {
		if (!json_is_boolean(v))
			return bad(err, errlen, "field '%s' must be true or false", f->json);
		if (json_is_true(v) && !arena_add(c, "--", f->opt, ""))
			return TOO_LONG(err, errlen);
		return 0;
	}
	if (f->t == F_LIST && json_is_array(v)) {
		char list[512] = "";
		size_t i;
		const json_t *e;
		if (json_array_size(v) == 0)
			return bad(err, errlen, "field '%s' must not be an empty array", f->json);
		json_array_foreach(v, i, e) {
			if (scalar_text(e, num, sizeof(num), &text) < 0)
				return bad(err, errlen, "field '%s' must be an array of strings or integers", f->json);
			if (strlen(list) + strlen(text) + 2 > sizeof(list))
				return TOO_LONG(err, errlen);
			if (i)
				strcat(list, ",");
			strcat(list, text);
		}
		if (!f->opt)
			return add_positional(c, f->label, list, NULL, err, errlen);
		return add_option(c, f->opt, list, err, errlen);
	}
	if (scalar_text(v, num, sizeof(num), &text) < 0)
		return bad(err, errlen, "field '%s' must be a string or an integer%s", f->json,
			   f->t == F_LIST ? " (or an array of them)" : "");
	if (!f->opt)
		return add_positional(c, f->label, text, NULL, err, errlen);
	return add_option(c, f->opt, text, err, errlen);
}

/* "streams, participants" */
static void field_names(const struct field *f, unsigned max, char *buf, size_t cap)
{
	buf[0] = '\0';
	for (unsigned i = 0; i < max && f[i].json; i++) {
		size_t l = strlen(buf);
		snprintf(buf + l, cap - l, "%s%s", i ? ", " : "", f[i].json);
	}
	if (!buf[0])
		snprintf(buf, cap, "none");
}

static int add_query(struct http_call *c, const struct route *r, const struct http_query *q, unsigned nq,
		     char *err, size_t errlen)
{
	for (unsigned i = 0; i < nq; i++) {
		const struct field *f = NULL;
		for (unsigned k = 0; k < 2 && r->query[k].json; k++)
			if (strcmp(r->query[k].json, q[i].key) == 0)
				f = &r->query[k];
		if (!f) {
			char known[200];
			field_names(r->query, 2, known, sizeof(known));
			return bad(err, errlen, "unknown query parameter '%.40s' (known: %s)", q[i].key, known);
		}
		for (unsigned j = 0; j < i; j++)
			if (strcmp(q[j].key, q[i].key) == 0)
				return bad(err, errlen, "query parameter '%.40s' given twice", q[i].key);
		const char *v = q[i].value ? q[i].value : "";
		if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || v[0] == '\0') {
			if (!arena_add(c, "--", f->opt, ""))
				return TOO_LONG(err, errlen);
		} else if (strcmp(v, "false") != 0 && strcmp(v, "0") != 0) {
			return bad(err, errlen, "query parameter '%s' must be true or false, not '%.40s'", q[i].key, v);
		}
	}
	return 0;
}

/* The permission a route needs (http_call.perm) and whether its reply may hold keys. */
static void route_perm(const struct route *r, struct http_call *c)
{
	bool part = strcmp(r->cmd1, "participant") == 0, meeting = strcmp(r->cmd1, "meeting") == 0;
	const char *c2 = r->cmd2 ? r->cmd2 : "";
	c->keys = part && (strcmp(c2, "keys") == 0 || strcmp(c2, "rekey") == 0 || strcmp(c2, "add") == 0);
	if (r->scope == HTTP_SCOPE_ZONE)
		c->perm = PERM_OPERATE;
	else if (part && (strcmp(c2, "keys") == 0 || strcmp(c2, "rekey") == 0))
		c->perm = PERM_READ_KEYS;
	else if (strcmp(r->method, "GET") == 0)
		c->perm = PERM_VIEW;
	else if (meeting && strcmp(c2, "end") == 0)
		c->perm = PERM_LOCK_END;
	else if (meeting && strncmp(c2, "passcode", 8) == 0)
		c->perm = PERM_PASSCODE;
	else
		c->perm = PERM_MANAGE;
}

int http_route(const char *method, const char *path, const struct http_query *q, unsigned nq, const json_t *body,
	       struct http_call *c, const char **allow, char *err, size_t errlen)
{
	static char methods[64];
	memset(c, 0, offsetof(struct http_call, arena));
	c->used = 0;
	*allow = NULL;
	char pbuf[1024], *seg[MAX_SEGS];
	int n = split(path, pbuf, sizeof(pbuf), seg);
	const struct route *r = NULL;
	bool path_known = false;
	for (size_t i = 0; n > 0 && i < N_ROUTES && !r; i++)
		if (path_match(&routes[i], seg, n)) {
			path_known = true;
			if (strcmp(routes[i].method, method) == 0)
				r = &routes[i];
		}
	if (!path_known) {
		bad(err, errlen, "no such resource: %.200s (see docs/openapi.yaml)", path);
		return 404;
	}
	if (!r) {
		*allow = http_route_methods(path, methods, sizeof(methods));
		bad(err, errlen, "method %.10s is not allowed on %.200s (allowed: %s)", method, path, *allow);
		return 405;
	}
	if (!arena_add(c, r->cmd1, "", "") || (r->cmd2 && !arena_add(c, r->cmd2, "", "")))
		return TOO_LONG(err, errlen);
	c->scope = r->scope;
	route_perm(r, c);
	if (r->perm)
		c->perm = (enum perm)(r->perm - 1);

	/* the path: positionals in order, options after them */
	char rbuf[256], *rseg[MAX_SEGS], full[260];
	snprintf(full, sizeof(full), "/v1%s", r->path);
	split(full, rbuf, sizeof(rbuf), rseg);
	int rc;
	for (int i = 0; i < n; i++)
		if (rseg[i][0] == ':') {
			char *where = NULL;
			if ((rc = add_positional(c, rseg[i] + 1, seg[i], &where, err, errlen)) != 0)
				return rc;
			if (strcmp(rseg[i], ":meeting") == 0)
				c->meeting = where;
		}
	/* the body's positional (the name being created) before any option */
	if (body && !json_is_object(body))
		return bad(err, errlen, "the body must be a JSON object");
	if (body) {
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)body, k, v) {
			bool known = false;
			for (unsigned i = 0; i < MAX_FIELDS && r->body[i].json; i++)
				known |= strcmp(r->body[i].json, k) == 0;
			if (!known) {
				char names[300];
				field_names(r->body, MAX_FIELDS, names, sizeof(names));
				return bad(err, errlen, "unknown field '%.40s' (%s %s takes: %s)", k, method, path, names);
			}
		}
		for (unsigned pass = 0; pass < 2; pass++)
			for (unsigned i = 0; i < MAX_FIELDS && r->body[i].json; i++) {
				const struct field *f = &r->body[i];
				if ((pass == 0) != (f->opt == NULL))
					continue;
				json_t *v = json_object_get(body, f->json);
				if (v && (rc = add_field(c, f, v, err, errlen)) != 0)
					return rc;
				if (v && f->perm && c->n_more < HTTP_MAX_MORE)
					c->more[c->n_more++] = (enum perm)(f->perm - 1);
				if (!v && f->def && (rc = add_positional(c, f->label, f->def, NULL, err, errlen)) != 0)
					return rc;
			}
	} else {
		for (unsigned i = 0; i < MAX_FIELDS && r->body[i].json; i++)
			if (r->body[i].def && (rc = add_positional(c, r->body[i].label, r->body[i].def, NULL, err,
								   errlen)) != 0)
				return rc;
	}
	for (int i = 0; i < n; i++)
		if (rseg[i][0] == '=' && (rc = add_option(c, rseg[i] + 1, seg[i], err, errlen)) != 0)
			return rc;
	if ((rc = add_query(c, r, q, nq, err, errlen)) != 0)
		return rc;
	if (!arena_add(c, "--json", "", ""))
		return TOO_LONG(err, errlen);
	c->argv[c->argc] = NULL;
	return 0;
}

int http_status_of_error(const char *e)
{
	static const char *const not_found[] = { "no meeting '", "no participant '", "no stream with SSRC " };
	for (size_t i = 0; i < sizeof(not_found) / sizeof(not_found[0]); i++)
		if (strncmp(e, not_found[i], strlen(not_found[i])) == 0)
			return 404;
	if (strstr(e, " is not subscribed to SSRC ") && strncmp(e, "participant '", 13) == 0)
		return 404;
	if (strncmp(e, "out of memory", 13) == 0 || strncmp(e, "cannot save the state", 21) == 0 ||
	    strstr(e, "random generator failed"))
		return 500;
	if (strncmp(e, "the dataplane is not attached", 29) == 0 || strncmp(e, "dataplane offline", 17) == 0 ||
	    strncmp(e, "zone: etcd unreachable", 22) == 0 || strncmp(e, "zone: host ", 11) == 0)
		return 503;
	if (strncmp(e, "the zone is full", 16) == 0 || strncmp(e, "placement conflict", 18) == 0)
		return 409;
	if (strncmp(e, "no zone: ", 9) == 0)
		return 404;
	if (strstr(e, "' already exists") || strstr(e, " is already used ") || strstr(e, " is already ") ||
	    (strncmp(e, "too many ", 9) == 0 && strstr(e, "(the limit is ")) || strncmp(e, "fenced: ", 8) == 0 ||
	    (strncmp(e, "meeting '", 9) == 0 && strstr(e, "' is at its quota of ")) ||
	    strncmp(e, "the dataplane's tables are not held", 35) == 0 || strstr(e, "' is not waiting") ||
	    strstr(e, "' is not muted"))
		return 409;
	if (strncmp(e, "self-unmute is forbidden", 24) == 0)
		return 403;
	return 400;
}
