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
