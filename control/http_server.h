/*
 * http_server.h - the controller's HTTP API (docs/interfaces.md "HTTP API", docs/openapi.yaml):
 * libmicrohttpd in external-epoll mode inside the controller's one poll loop, so the model stays
 * single-threaded. HTTPS with the configured certificate and key (plain HTTP only on loopback, which
 * config.c enforces); every management route needs a bearer token (token.h) of role admin (the join
 * endpoints take the other roles: join.h; /demo none: static_files.h); the request is mapped
 * onto an mmrctl command line (http_routes.h) and run in a slot (slot.h) like a socket request, its
 * reply JSON, its errors mmrctl's with an HTTP status from their class. A change that waits for the
 * dataplane suspends its connection until it settles. CORS for the configured origins.
 *
 * Test hook: MMR_TEST_NO_AUTH=1 in the environment turns the token check off (logged loudly); the
 * integration test's negative control runs with it and must fail.
 */
#ifndef MMR_CTL_HTTP_SERVER_H
#define MMR_CTL_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "controller.h"

#define HTTP_MAX_BODY (64 * 1024)       /* bytes of a request body; more is 413 */

struct http_server;

/* Load the token secret (and TLS certificate and key), listen. NULL with one line in err. */
struct http_server *http_server_start(struct ctl_ctx *ctx, char *err, size_t errlen);
/* The fd to poll for POLLIN (libmicrohttpd's epoll fd). */
int http_server_fd(const struct http_server *hs);
/* How long the loop may sleep for the server's timeouts (UINT64_MAX: no limit). */
uint64_t http_server_timeout_ns(struct http_server *hs);
/* Let libmicrohttpd do what is ready (accept, read, run requests, write, expire). */
void http_server_run(struct http_server *hs);
/* The batch commit (controller.c) for the server's requests in SLOT_COMMIT. */
void http_server_committed(struct http_server *hs, int rc, const char *err, uint64_t now);
/* Settle waiting requests, resume the connections of those done. true while some still wait. */
bool http_server_service(struct http_server *hs, uint64_t now);
/* Answer nothing more, close every connection, wipe the secret and the key. */
void http_server_stop(struct http_server *hs);

#endif
