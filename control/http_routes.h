/*
 * http_routes.h - the controller's REST routes (docs/openapi.yaml): method + path (+ query + JSON
 * body) onto the command line request_run() takes (requests.h), so that every route does exactly
 * what its mmrctl command does and fails with the same errors. Pure (no I/O, no model): the unit
 * test drives it directly.
 *
 * A path is segments under /v1; a segment of a route is a literal, a positional argument (a meeting
 * or participant name) or an option (an SSRC). Body fields map onto options (or the name being
 * created); an unknown field, a value of the wrong JSON type or a query parameter the route does not
 * take is refused here. The argv ends in --json: replies are JSON.
 *
 * The join endpoints (WHIP/WHEP, sessions, events) and /demo are not rows here: join.h and
 * static_files.h, dispatched by http_server.c before this table.
 */
#ifndef MMR_CTL_HTTP_ROUTES_H
#define MMR_CTL_HTTP_ROUTES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "perm.h"

#define HTTP_MAX_ARGS    40
#define HTTP_ARG_SPACE   4096

/* Who may call a route: an admin token for every meeting ("*"), or for the path's meeting too. */
enum http_scope { HTTP_SCOPE_ZONE, HTTP_SCOPE_MEETING };

struct http_query {
	const char *key;
	const char *value;
};

struct http_call {
	int argc;
	char *argv[HTTP_MAX_ARGS];
	enum http_scope scope;
	const char *meeting;            /* HTTP_SCOPE_MEETING: the path's meeting (in arena) */
	enum perm perm;                 /* what the token's role must allow (perm.h): zone routes
					 * PERM_OPERATE, keys/rekey PERM_READ_KEYS, other reads PERM_VIEW,
					 * meeting end PERM_LOCK_END, passcode PERM_PASSCODE, else PERM_MANAGE */
#define HTTP_MAX_MORE 4
	enum perm more[HTTP_MAX_MORE];  /* needed too, by the body's fields (PATCH .../controls: each
					 * setting the permission of what it changes) */
	unsigned n_more;
	bool keys;                      /* the reply may hold SRTP keys (audited as a key read, and
					 * PERM_READ_KEYS is needed too) */
	char arena[HTTP_ARG_SPACE];     /* the argv strings */
	size_t used;
};

/*
 * Map a request. body: the parsed JSON body, or NULL when there is none. 0 and call filled, or an
 * HTTP status with one line in err: 404 (no route has this path), 405 (the path takes other
 * methods: *allow says which, e.g. "GET, DELETE"), 400 (a bad field, query parameter or value).
 */
int http_route(const char *method, const char *path, const struct http_query *q, unsigned nq, const json_t *body,
	       struct http_call *call, const char **allow, char *err, size_t errlen);

/* The methods a path takes ("GET, POST"), or NULL when no route has it (for OPTIONS and 405). */
const char *http_route_methods(const char *path, char *buf, size_t cap);

/* Does method + path take a JSON body? (POST, PATCH: yes; GET, DELETE: no) */
bool http_method_has_body(const char *method);

/* The HTTP status of a request_run() error (its text, without "error: "): 404 for an unknown
 * meeting, participant, stream or subscription; 409 for what exists already or collides (names,
 * addresses, SSRCs, limits) and a fenced controller; 503 when the dataplane must be attached (stats,
 * meeting move) and is not; 500
 * for the controller's own failures (memory, disk, random generator); 400 for everything else. */
int http_status_of_error(const char *err);

#endif
