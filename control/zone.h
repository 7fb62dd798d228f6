/*
 * zone.h - mmr-controller's part of a zone of several hosts kept in etcd (issue 16, first slice;
 * docs/interfaces.md "The zone in etcd"): registration under a lease with the host's capacity and
 * load, placement of new meetings on the host with the most headroom, drain, status, and the
 * redirect of requests about meetings placed on another host.
 *
 * What is authoritative: etcd's meetings/<id> keys say where each meeting lives. A controller
 * creates locally the meetings placed on it and ends the local meetings etcd does not place on it
 * (its state file is a cache of its own meetings, rebuilt from etcd's placements). A meeting is
 * created only once its placement is in etcd, and ended once its key is deleted; with etcd
 * unreachable both are refused ("zone: etcd unreachable ...") while every other request goes on.
 *
 * Everything runs in the controller's poll loop; the etcd calls are non-blocking (etcd_client.h).
 */
#ifndef MMR_CTL_ZONE_H
#define MMR_CTL_ZONE_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ctl_ctx;
struct slot;
struct zone;

/* The zone of ctx->cfg->zone (which must be on). NULL with err on failure. */
struct zone *zone_open(struct ctl_ctx *ctx, char *err, size_t errlen);
void zone_close(struct zone *z);
/* slot_run's hook, before anything runs: true when the zone took the request (zone commands,
 * meeting create and end, a meeting placed on another host): sl is then SLOT_ZONE (waiting for etcd:
 * zone_run finishes it, through slot_run_local when it runs here after all) or SLOT_DONE. */
bool zone_slot_run(struct zone *z, struct slot *sl, int argc, char **argv, uint64_t now);
/* Is meeting placed on another host (the last read)? Its http_url ("" when it has none) and *host,
 * counted as a redirect; NULL when it is placed here or not known. (The join endpoints, join.c.) */
const char *zone_meeting_elsewhere(struct zone *z, const char *meeting, const char **host);
/* Where meeting is placed (the last read; zone_failover.h): ZONE_WHERE_UNKNOWN (not in the zone), or
 * *host, *url (its http_url, "" none) and *from (the host failover moved it from, "" never moved)
 * and HERE, ELSEWHERE (a live host) or GONE (a host that left the zone: failover will move it). */
enum { ZONE_WHERE_UNKNOWN, ZONE_WHERE_HERE, ZONE_WHERE_ELSEWHERE, ZONE_WHERE_GONE };
int zone_meeting_where(struct zone *z, const char *meeting, const char **host, const char **url, const char **from);
/* sl goes away (its connection dropped): a call in flight for it must not touch it. */
void zone_slot_gone(struct zone *z, struct slot *sl);
/* Every loop round: registration, keepalive, load, the placements read again. */
void zone_tick(struct zone *z, uint64_t now);
/* The etcd client's sockets and timers for poll(), and after it. */
unsigned zone_pollfds(struct zone *z, struct pollfd *pfd, unsigned max);
uint64_t zone_timeout_ns(struct zone *z, uint64_t now);
void zone_run(struct zone *z, const struct pollfd *pfd, unsigned n, uint64_t now);

#endif
