/*
 * join.h - the join endpoints of the HTTP API (issue 13; docs/openapi.yaml, docs/interfaces.md
 * "Joining"): WHIP (RFC 9725) and WHEP with one SDP offer and a bearer token, sessions, and what a
 * session's client is told while it is in the meeting.
 *
 *   POST /v1/meetings/M/whip | whep | join   application/sdp offer -> 201, the answer, Location
 *                                            /v1/sessions/ID, ETag (publish, receive, both)
 *   PATCH /v1/sessions/ID                    application/trickle-ice-sdpfrag: candidates 204; new
 *                                            ice-ufrag/pwd: ICE restart, 200 + our new fragment
 *   DELETE /v1/sessions/ID                   leave (the participant is removed)
 *   GET /v1/sessions/ID/events               Server-Sent Events: the slot map, then slot and
 *                                            speaker changes; keep-alive comments every 15 s
 *   GET /v1/sessions                         (zone admin) the sessions and the join counters
 *
 * A join is the mmrctl command lines the controller runs for everything else (request_run, same
 * checks, same journal): `participant add` with the MMR's ICE credentials, the offer's DTLS
 * fingerprint, its receive slots and what the SDP negotiated, one `stream add` per published
 * m-section; a failure after the participant was added removes it again. The answer goes out once
 * the change is durable and applied (as for any other change).
 *
 * Slots: a receiving session's video slots hold publishers' video in join order; a new publisher
 * fills a free slot of every receiver (not its own), one leaving frees its slots, refilled from
 * publishers not on one; the dominant speaker, when not on a receiver's slots, replaces the slot
 * whose publisher spoke least recently. Every change is a `slot set` and an SSE `slot` event.
 * Audio slots are the meeting's top-N (raised to the session's audio slot count when below it).
 *
 * Sessions live in the controller's memory only: after a restart the participants are still
 * there (and their media flows), but their session resources are gone (404).
 */
#ifndef MMR_CTL_JOIN_H
#define MMR_CTL_JOIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http_internal.h"

#define JOIN_MAX_SESSIONS   256
#define JOIN_MAX_STREAMS    32          /* SSE connections at once (each holds an HTTP connection) */
#define JOIN_STREAMS_PER_SESSION 2     /* SSE connections of one session at once (429 beyond) */
#define JOIN_STREAM_BUF_MAX (64u << 10) /* events waiting for a client that does not read: beyond, it ends */
#define JOIN_MAX_SLOTS      8           /* video and audio receive slots of one session, each */
#define JOIN_KEEPALIVE_NS   15000000000ull
#define JOIN_POLICY_NS      200000000ull  /* slots looked at again (streams added, SSRCs learned) */
/* rate limits, defaults of the config keys join_rate_ip, join_burst_ip, join_rate_token, join_burst_token:
 * joins per second and burst per client address and per token identity (meeting + sub) */
#define JOIN_RATE_IP        5.0
#define JOIN_BURST_IP       10.0
#define JOIN_RATE_TOKEN     1.0
#define JOIN_BURST_TOKEN    3.0

/* wrong passcodes (passcode.h) allowed per client address, per token identity (meeting + sub) and
 * per meeting: a refill rate a second and a burst; past one of them a join with a passcode is refused
 * 429 before it is checked. The meeting's is a last cap on guessing spread over many identities,
 * set high enough that one token holder (its identity limited to a few) cannot lock the meeting's
 * other invitees out by guessing */
#define JOIN_PASSCODE_RATE_IP       0.2
#define JOIN_PASSCODE_BURST_IP      5.0
#define JOIN_PASSCODE_RATE_IDENTITY 0.2
#define JOIN_PASSCODE_BURST_IDENTITY 5.0
#define JOIN_PASSCODE_RATE_MEETING  5.0
#define JOIN_PASSCODE_BURST_MEETING 100.0
#define JOIN_PASSCODE_HEADER        "MMR-Passcode"

/* The join counters (GET /v1/sessions; docs/interfaces.md "Joining"). */
#define foreach_join_counter(_) \
	_(joins,            "joins",            "sessions made (201)") \
	_(join_refused,     "join_refused",     "join requests refused (4xx/5xx) but for the rate limit") \
	_(join_rate_ip,     "join_rate_ip",     "joins refused 429: over the per-address rate") \
	_(join_rate_token,  "join_rate_token",  "joins refused 429: over the per-token-identity rate") \
	_(join_rolled_back, "join_rolled_back", "joins whose participant was removed again (a later command " \
						"failed, or the client went before the answer)") \
	_(sessions_ended,   "sessions_ended",   "sessions ended (DELETE, or their participant removed)") \
	_(sessions_replaced, "sessions_replaced", "sessions ended by a new join of the same identity (its participant removed first)") \
	_(trickles,         "trickles",         "PATCH with candidates only (204)") \
	_(ice_restarts,     "ice_restarts",     "PATCH with new ICE credentials (200)") \
	_(slot_sets,        "slot_sets",        "slot set commands run by the slot policy") \
	_(slot_set_errors,  "slot_set_errors",  "slot set commands that failed (logged)") \
	_(passcode_wrong,   "passcode_wrong",   "joins refused 403: a meeting's passcode missing or wrong") \
	_(passcode_rate,    "passcode_rate",    "joins refused 429: too many wrong passcodes from the address or for the meeting") \
	_(events_refused,   "events_refused",   "event streams refused: JOIN_MAX_STREAMS open, or the session's JOIN_STREAMS_PER_SESSION")

struct join *join_new(struct http_server *hs);
void join_free(struct join *j);
/* Is url one of the join module's (POST .../whip|whep|join, /v1/sessions...)? */
bool join_owns_url(const char *url);
/* Is url a POST join endpoint (for Accept-Post)? */
bool join_is_join_url(const char *url);
/* The methods a join url takes ("POST"), or NULL. */
const char *join_route_methods(const char *url, char *buf, size_t cap);
enum MHD_Result join_handle(struct join *j, struct http_req *r, const char *url, const char *method);
/* A join request resumed (its commands settled): answer it. */
enum MHD_Result join_resumed(struct join *j, struct http_req *r);
/* A DELETE's participant remove settled (r's slot is SLOT_DONE): its session ends, or, if the
 * remove failed (nothing changed), stays, and r's error says so. Before r is answered. */
void join_delete_settled(struct join *j, struct http_req *r);
/* r is being freed: forget it (a join not answered yet is rolled back). */
void join_req_gone(struct join *j, struct http_req *r);
/* Every loop round: sessions whose participant went, speaker changes, the slot policy,
 * keep-alives, event streams with something to send. */
void join_service(struct join *j, uint64_t now);
/* Before libmicrohttpd stops: resume every event stream. */
void join_stop_streams(struct join *j);

#endif
