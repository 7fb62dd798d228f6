/*
 * srtp_ledger.h - the SRTP index lease ledger: a small crash-safe file that lets the dataplane prove,
 * across process kills and host reboots, that it never encrypts two packets under the same
 * (SRTP master key, SSRC, packet index) and never accepts again an inbound packet it accepted before.
 *
 * It works with leases. For each (key, SSRC, direction, RTP or RTCP) the dataplane holds an upper
 * bound on the packet index its context may use (outbound) or accept (inbound). Before a context may
 * go past its bound, a higher bound is raised here and made durable (srtp_ledger_sync, which ends in
 * fdatasync); only then does the dataplane use it. After a restart, a new context for the same
 * identity starts at the recorded limit, so every index used before the restart lies below it.
 * A retired key (srtp_ledger_retire) can never be leased again.
 *
 * Keys themselves are never stored: records are named by a one-way fingerprint of the master key.
 * One thread (the dataplane's control thread) uses a ledger; there is no locking inside. The file
 * is held with flock(LOCK_EX | LOCK_NB) while open, so two processes can never share it.
 *
 * The file format and the crash argument are described at the top of srtp_ledger.c. lib/ code: no
 * DPDK; needs OpenSSL's libcrypto (SHA-256 and RAND_bytes).
 */
#ifndef MMR_SRTP_LEDGER_H
#define MMR_SRTP_LEDGER_H

#include <stdint.h>
#include <stddef.h>
#include "srtp_fast.h"   /* struct srtp_master */

#define SRTP_LEDGER_FP_LEN 12   /* bytes of key fingerprint kept */
#define SRTP_LEDGER_ID_LEN 16   /* bytes of srtp_ledger_id() */
#define SRTP_LEDGER_LIMIT_MAX (1ULL << 48)   /* the highest limit a lease may have */

enum srtp_lease_kind {          /* which index space of a (key, SSRC) */
	SRTP_LEASE_OUT_RTP  = 1,
	SRTP_LEASE_OUT_RTCP = 2,
	SRTP_LEASE_IN_RTP   = 3,
	SRTP_LEASE_IN_RTCP  = 4,
};

struct srtp_lease_id {
	uint8_t  fp[SRTP_LEDGER_FP_LEN];  /* srtp_ledger_fingerprint() of the master key */
	uint32_t ssrc;
	uint8_t  kind;                    /* enum srtp_lease_kind */
};

/*
 * One-way fingerprint of a master key+salt+suite: SHA-256 (OpenSSL EVP_Digest) over the fixed label
 * "mmr srtp ledger v1", the suite byte, key_len bytes of key and salt_len bytes of salt (lengths
 * clamped to the array sizes); the first SRTP_LEDGER_FP_LEN bytes. Reveals nothing usable about the
 * key. Aborts only if OpenSSL cannot compute SHA-256 at all.
 */
void srtp_ledger_fingerprint(const struct srtp_master *m, uint8_t fp[SRTP_LEDGER_FP_LEN]);

struct srtp_ledger;

/*
 * Open (or create, mode 0600, and fsync its directory) the ledger file at path, take an exclusive
 * non-blocking flock, and load every record. A new file is written complete (header, fsync) under a
 * temporary name and then linked to path, so a crash never leaves a half-made ledger at path.
 * NULL with a one-line reason in err (never a key byte; err may be NULL) and errno set on: lock held
 * by another process or by another open of the same file ("... is in use by another process",
 * EWOULDBLOCK), I/O error (its errno), bad header (magic, version, CRC, size: EBADMSG), a record slot
 * where neither copy is valid (corruption, EBADMSG: the ledger cannot prove anything any more; the
 * message says to move the file away: the controller then rekeys every SRTP participant), ENOMEM.
 */
struct srtp_ledger *srtp_ledger_open(const char *path, char *err, size_t errlen);

/* Close the file (releasing the lock) and free the ledger. NULL ok. Does not sync: whatever was
 * raised or retired since the last successful srtp_ledger_sync is lost, as in a crash. */
void srtp_ledger_close(struct srtp_ledger *l);

/* The ledger's identity: SRTP_LEDGER_ID_LEN random bytes (RAND_bytes) made when the file was
 * created; the same across every reopen of that file. */
const uint8_t *srtp_ledger_id(const struct srtp_ledger *l);

/*
 * The limit last raised or set for id (durable or not yet) in *limit, 0 if none.
 * Returns 0, -EPERM if id->fp was retired (the key must never be used again; *limit is then 0),
 * -EINVAL on a NULL argument.
 */
int srtp_ledger_lookup(const struct srtp_ledger *l, const struct srtp_lease_id *id, uint64_t *limit);

/*
 * Raise id's limit to at least `limit` (a lower or equal value changes nothing, raising an unknown id
 * to 0 makes no record). In memory at once, durable after the next srtp_ledger_sync that returns 0.
 * Returns 0, -EPERM (id->fp retired), -ENOSPC (a new record was needed and the file could not be
 * grown: posix_fallocate failed), -ENOMEM, -EINVAL (NULL, kind out of range, limit > 2^48).
 * On any error nothing changes.
 */
int srtp_ledger_raise(struct srtp_ledger *l, const struct srtp_lease_id *id, uint64_t limit);

/* Set id's limit to exactly `limit`, lower or higher: the narrowing of a provisional lease
 * (dataplane/srtp_lease.c), whose caller has proven that nothing at or beyond `limit` was used.
 * Like raise otherwise (durable after the next successful sync; a crash before that leaves the
 * previous value, which is the higher one). Same returns as srtp_ledger_raise. */
int srtp_ledger_set(struct srtp_ledger *l, const struct srtp_lease_id *id, uint64_t limit);

/*
 * Retire a key: from now on lookup/raise of any id with this fp return -EPERM, also after a reopen
 * once synced. Its lease records are reused for other ids, but only after the retirement record is
 * durable (a lease record is never overwritten before its key's retirement is on disk). The
 * retirement record itself is kept forever (one 64-byte slot per key).
 * Returns 0 (also if already retired), -ENOSPC (as for raise), -ENOMEM, -EINVAL (NULL).
 */
int srtp_ledger_retire(struct srtp_ledger *l, const uint8_t fp[SRTP_LEDGER_FP_LEN]);

/* 1 if fp was retired (durable or not yet), else 0. */
int srtp_ledger_is_retired(const struct srtp_ledger *l, const uint8_t fp[SRTP_LEDGER_FP_LEN]);

/*
 * Write every changed record and make it durable (fdatasync; fsync if the file grew since the last
 * successful sync). 0: every raise/retire made so far is durable. Negative errno on failure: then
 * nothing made since the last successful sync may be assumed durable, and a later call writes
 * everything still pending again (so a retry after a failed fdatasync re-dirties the pages instead
 * of trusting them). A call with nothing pending does no I/O and returns 0.
 */
int srtp_ledger_sync(struct srtp_ledger *l);

/* 1 if a raise/retire is waiting for srtp_ledger_sync, else 0. */
int srtp_ledger_pending(const struct srtp_ledger *l);

struct srtp_ledger_stats {
	uint64_t records;     /* live lease records */
	uint64_t retired;     /* retired keys */
	uint64_t slots;       /* slots in the file */
	uint64_t syncs;       /* successful syncs with I/O */
	uint64_t sync_errors;
};

/* Fill *st with the ledger's current counts. */
void srtp_ledger_get_stats(const struct srtp_ledger *l, struct srtp_ledger_stats *st);

#endif
