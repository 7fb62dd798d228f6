/*
 * zone_cascade.h - cascading (issue 16): one meeting carried by several hosts of the zone, joined by
 * MMR-to-MMR trunks. A trunk is an ordinary participant on each side (model.h, MODEL_TRUNK_PREFIX):
 * on host A `_trunk.B` (participant add --trunk) has B's media address and is subscribed at the top to
 * A's own streams (never to another trunk's: a stream crosses once, from its own host); on B,
 * `_trunk.A` publishes them with the SSRCs (and RTX SSRCs) A sends, and B's receivers subscribe to
 * them like to any stream, B choosing their layers. RTCP (NACK, PLI/FIR, reports, TWCC/REMB) crosses
 * the trunk with the participants' usual feedback settings.
 *
 * Trunk keys: SRTP under zone keys. Each direction's master key and salt are derived with HKDF-SHA256
 * (OpenSSL) from the zone secret (zone block `secret_file`: 0600, 32-512 bytes, never in etcd or a
 * log) and (meeting, the meeting's etcd create revision, the trunk epoch, sending host, receiving
 * host, suite): a new trunk takes a new epoch (an etcd txn increments it), so no key is used twice
 * (the keystream ledger's rule, requests.h). Pure code: unit-tested by tests/unit/test_zone_cascade.c.
 */
#ifndef MMR_CTL_ZONE_CASCADE_H
#define MMR_CTL_ZONE_CASCADE_H

#include <stddef.h>
#include <stdint.h>
#include "srtp_master.h"

/* The key of the direction from -> to of the trunk (meeting, create_rev, epoch) under the zone
 * secret. On host A, participant `_trunk.B` gets SEND key = cascade_trunk_key(B -> A) (what B sends
 * and A receives) and RECV key = cascade_trunk_key(A -> B); on B `_trunk.A` the mirror. 0, or -1
 * (bad suite, secret shorter than 32 bytes, empty or too long names, create_rev < 1, epoch 0, from
 * equal to to, OpenSSL failure; out is then zeroed). */
int cascade_trunk_key(const uint8_t *secret, size_t secret_len, enum srtp_suite suite, const char *meeting,
		      int64_t create_rev, uint64_t epoch, const char *from, const char *to, struct srtp_master *out);

#endif

/* ---- the zone's part (zone.c calls these; etcd keys under /mmr/zone/, docs/interfaces.md) -------
 *   cascade/<meeting>/<host>   "{}": host carries the meeting too (zone cascade MEETING HOST)
 *   streams/<meeting>/<host>   [{"ssrc","kind","codec","layers","spatial"}, ...]: the streams the
 *                              host's own participants publish (put by that host under its lease)
 *   trunks/<meeting>/<h1>/<h2> "N": the epoch of the trunk between h1 < h2 (SRTP meetings), made 1
 *                              and incremented by txn (compare the value) whenever either host needs
 *                              keys never used: a trunk made, or its keys changed under it (a new
 *                              dataplane ledger, an operator's rekey). Both derive the keys of epoch N.
 * The carriers of a meeting: its home (meetings/<id> "host") and the cascade/ hosts. On each carrier,
 * for every other live carrier H: a trunk `_trunk.H` (H's address and media_port), publishing the
 * streams of streams/<meeting>/H. */
#ifndef ZONE_CASCADE_DECLS
#define ZONE_CASCADE_DECLS
#include <stdbool.h>
struct ctl_ctx;
struct etcd;
struct cascade;
/* Run one command of our own (zone.c's run_internal): true when it succeeded. */
typedef bool (*cascade_run_fn)(void *arg, int argc, char **argv);

struct zone_config;
/* zc->secret_file is read here (token_load_secret's rules). NULL with err on failure. */
struct cascade *cascade_open(struct ctl_ctx *ctx, struct etcd *etcd, const struct zone_config *zc,
			     cascade_run_fn run, void *run_arg, char *err, size_t errlen);
void cascade_close(struct cascade *c);
/* The zone secret read from secret_file (len 0: none): zone_controls.c seals with a key of its own
 * derived from it. */
const uint8_t *cascade_secret(const struct cascade *c, size_t *len);
/* A read of the prefix: begin, every key (rest: the key after /mmr/zone/; val its value), end. */
void cascade_snap_begin(struct cascade *c);
void cascade_snap_key(struct cascade *c, const char *rest, const char *val, int64_t create_rev);
void cascade_snap_end(struct cascade *c);
/* Does this host carry meeting (a cascade/<meeting>/<me> key, the last read)? */
bool cascade_carries(const struct cascade *c, const char *meeting);
/* Does host carry meeting (cascade/<meeting>/<host>, the last read; its home is not counted)? */
bool cascade_is_carrier(const struct cascade *c, const char *meeting, const char *host);
/* After the zone's reconciliation: the trunks and their streams as etcd says, and our own streams
 * put (under lease, 0: none) where they changed. Never blocks (the puts are calls in flight). */
void cascade_reconcile(struct cascade *c, int64_t lease);
#endif
