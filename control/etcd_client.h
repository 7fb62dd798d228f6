/*
 * etcd_client.h - a small non-blocking client of etcd's v3 JSON gateway (POST /v3/kv/range, put, txn,
 * deleterange, /v3/lease/grant, keepalive; keys and values base64) for mmr-controller's single
 * poll() loop: libcurl's multi interface, its sockets polled with the controller's, bounded
 * timeouts, several endpoints (a transport error, a timeout or a 5xx answer moves to the next
 * member and tries again until every member was tried once). Nothing here ever blocks.
 */
#ifndef MMR_CTL_ETCD_CLIENT_H
#define MMR_CTL_ETCD_CLIENT_H

#include <jansson.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#define ETCD_MAX_ENDPOINTS 8
#define ETCD_MAX_FDS       16

/* counted by the client (GET /metrics: mmr_zone_etcd_*_total) */
struct etcd_stats {
	uint64_t requests;      /* calls made (each endpoint tried counts once) */
	uint64_t errors;        /* attempts that failed (transport, HTTP status, bad JSON) */
	uint64_t timeouts;      /* attempts that ran out of time (also in errors) */
	uint64_t failovers;     /* moves to the next endpoint */
};

struct etcd;

/* A call's end: resp the answer's JSON object (borrowed, valid during the call) and err NULL, or
 * resp NULL and err why (every endpoint tried, or etcd refused the request). */
typedef void (*etcd_done_fn)(void *arg, json_t *resp, const char *err);

/* endpoints: "http://host:port" (n of them); timeout_ms: one attempt's limit. NULL: out of memory. */
struct etcd *etcd_open(const char (*endpoints)[256], unsigned n, unsigned timeout_ms, struct etcd_stats *st);
void etcd_close(struct etcd *e);
/* POST body (taken: freed by the call) to path ("/v3/kv/put"); done is called later, from etcd_run,
 * never from here. 0, or -1 (out of memory: done is not called). */
int etcd_post(struct etcd *e, const char *path, json_t *body, etcd_done_fn done, void *arg);
/* One line of a watch stream (an object {"result": {...}}; borrowed). It must not call etcd_*. */
typedef void (*etcd_line_fn)(void *arg, json_t *line);
/* A stream (POST /v3/watch with body, taken): line for every object as it comes, done (resp NULL,
 * err why) when the stream ends or fails (the next call then goes to the next member). No overall
 * timeout (TCP keepalive finds a dead peer). 0, or -1 (out of memory: done is not called). */
int etcd_watch(struct etcd *e, json_t *body, etcd_line_fn line, etcd_done_fn done, void *arg);
/* The sockets to poll (at most max): their count. */
unsigned etcd_pollfds(const struct etcd *e, struct pollfd *pfd, unsigned max);
/* How long poll() may wait for the client's timers (UINT64_MAX: none). */
uint64_t etcd_timeout_ns(const struct etcd *e, uint64_t now);
/* After poll(): serve the sockets (pfd: the whole poll set; others are ignored), the timers, and call
 * the finished calls' done functions. */
void etcd_run(struct etcd *e, const struct pollfd *pfd, unsigned n, uint64_t now);
/* Calls in flight. */
unsigned etcd_in_flight(const struct etcd *e);
/* The endpoint the next call goes to. */
const char *etcd_endpoint(const struct etcd *e);

/* base64 of n bytes into out (cap bytes with the NUL): its length, or -1 when too small. */
int etcd_b64(const void *in, size_t n, char *out, size_t cap);
/* base64 text into out (cap bytes, NUL-terminated): the length, or -1 (bad text, too long). */
int etcd_unb64(const char *in, char *out, size_t cap);

#endif
