/*
 * zone_failover.h - failover in the zone (issue 16; docs/interfaces.md "Failover"): the meetings
 * placed on a host that left the zone (its hosts/<host> key gone: its lease expired) are placed
 * again on the live hosts by the placement rule (zone_place: never past capacity, draining hosts
 * left out), in one etcd txn that only succeeds if no placement changed since the read, the gone
 * hosts are still gone and the chosen hosts still there: every live host may try, one wins.
 * Pure code (no etcd calls, no model): the plan and the txn's body; zone.c posts it.
 */
#ifndef MMR_CTL_ZONE_FAILOVER_H
#define MMR_CTL_ZONE_FAILOVER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "zone_conf.h"

#define ZONE_FO_MAX_MOVES 32    /* meetings moved by one txn (the rest: the next read) */

/* The moves for nm meetings, meeting k placed on hosts[host_of[k]] (-1: unknown, left alone): every
 * meeting on a host that is not alive goes to zone_place's choice, each move counted in that host's
 * meetings before the next choice. move_meet[i] the meeting, move_to[i] its new host; at most max;
 * the count (stops at the first meeting no host has room for). h is changed (the counts). */
unsigned zone_failover_plan(struct zone_place_host *h, unsigned nh, const int *host_of, unsigned nm,
			    unsigned *move_meet, int *move_to, unsigned max);

/* One move as written. */
struct zone_fo_move {
	const char *meeting, *from, *to;
	int64_t created;
	const char *const *args;
	unsigned n_args;
};

/* The value of meetings/<id> after a move: {"host", "created", "args", "moved_from", "moved"}
 * (moved: Unix s) into out (cap bytes with the NUL): its length, or -1 (too long, out of memory). */
int zone_failover_value(const struct zone_fo_move *mv, int64_t now, char *out, size_t cap);

/* The txn's body (/v3/kv/txn) for n moves (1..ZONE_FO_MAX_MOVES) decided on a read at revision rev,
 * keys under prefix ("/mmr/zone/"): compares: no key under meetings/ changed after rev, every
 * from's hosts/ key absent, every to's hosts/ key present and its drain/ key absent; success: the
 * puts. NULL: out of memory or a key too long. */
json_t *zone_failover_txn(const char *prefix, int64_t rev, const struct zone_fo_move *mv, unsigned n, int64_t now);

#endif
