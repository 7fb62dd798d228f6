/*
 * srtp_lease.h - the dataplane's SRTP index leases: no (key, SSRC, index) is ever encrypted twice,
 * and no packet accepted once is accepted again, across dataplane restarts and host reboots.
 *
 * Every SRTP context of the forwarding tables is leased (lib/srtp/srtp_fast.h): it may use (outbound)
 * or accept (inbound) only indexes below a limit that the ledger file (lib/srtp/srtp_ledger.h) has made
 * durable, and it starts at the durable limit its identity (key fingerprint, SSRC, direction) had
 * before, so every index a dead predecessor used lies below it. The control thread owns the
 * ledger: it attaches contexts when it makes them, and serves the lcores' requests for more.
 *
 *   lcore:   a packet's index comes within half a window of its context's limit -> the context
 *            calls the lease hook -> the ticket goes into the lcore's own ring (no lock, no syscall)
 *   control: srtp_leases_service() drains the rings, raises each limit in the ledger, fdatasyncs
 *            once, and only then grants the new limits (one relaxed store each)
 *
 * Windows (dataplane config): outbound `srtp_lease_out` packets (a receiver sees its copies jump
 * ahead by at most that after a restart: it must stay well below 2^15 so its ROC guess holds),
 * inbound `srtp_lease_in` (a publisher's packets below the durable limit are refused as replays
 * after a restart: the cost of the guarantee). Control thread only, except srtp_leases_worker_start.
 */
#ifndef MMR_SRTP_LEASE_H
#define MMR_SRTP_LEASE_H

#include <stddef.h>
#include <stdint.h>
#include "srtp_fast.h"
#include "srtp_ledger.h"

struct srtp_leases;
struct dp_config;
struct dataplane;

enum srtp_lease_dir { SRTP_LEASE_IN = 0, SRTP_LEASE_OUT = 1 };

/* Open the ledger of cfg and make one request ring per worker of dp (whose stats.ctl counts the
 * grace periods narrowing waits for). NULL with the reason in err. */
struct srtp_leases *srtp_leases_open(const struct dp_config *cfg, struct dataplane *dp, char *err,
				     size_t errlen);
/* Once no context is used any more. Nothing is retired: the next dataplane resumes from the file. */
void srtp_leases_close(struct srtp_leases *L);
/* The ledger's id (SRTP_LEDGER_ID_LEN bytes, srtp_ledger_id()): published in the shared segment's
 * header for the controller, which rekeys its SRTP participants when it is not the one their keys
 * were used under. */
const uint8_t *srtp_leases_ledger_id(const struct srtp_leases *L);
/* Worker idx, on its own lcore, before its poll loop: its requests go into its own ring. */
void srtp_leases_worker_start(struct srtp_leases *L, unsigned idx);

/* 0, or -EPERM if the key with this fingerprint was retired (it must never be used again). */
int srtp_leases_key_ok(const struct srtp_leases *L, const uint8_t fp[SRTP_LEDGER_FP_LEN]);
/*
 * Lease both protocols of context s for (fp, ssrc, dir): floor = the identity's durable limit, and
 * a first window, granted at the next srtp_leases_service() (the caller runs it before it
 * publishes s). rtcp_only: s carries only SRTCP (inbound: a participant's RTCP from SSRCs that are
 * not its streams; outbound: the RTCP we send a participant as its mmr_ssrc); its RTP gets an empty
 * lease. Outbound SRTCP (issue 11: SRs about a copy, RR and feedback) is leased like the rest. 0; -EPERM (key retired), -ENOMEM, -ENOSPC (no room in the ledger). One live outbound
 * context per (key, SSRC) is the caller's rule (cmd_apply.c sub_put refuses a second).
 */
int srtp_leases_attach(struct srtp_leases *L, struct srtp_stream *s, const uint8_t fp[SRTP_LEDGER_FP_LEN],
		       uint32_t ssrc, enum srtp_lease_dir dir, int video, int rtcp_only);
/* s is being retired: no more grants (NULL ok). Its identities stay in the ledger. */
void srtp_leases_detach(struct srtp_leases *L, struct srtp_stream *s);
/* A key that is replaced or whose participant is gone: refused from now on (durable at the next
 * service). 0 or a negative errno (logged; the key then stays recorded, which is safe). */
int srtp_leases_retire_key(struct srtp_leases *L, const uint8_t fp[SRTP_LEDGER_FP_LEN]);
/* Drain the lcores' requests, raise, sync, grant. Cheap when there is nothing to do. may_wait: the
 * caller is an offline RCU reader, so provisional leases may be narrowed (one grace period). */
void srtp_leases_service(struct srtp_leases *L, int may_wait);

struct srtp_leases_counts {
	uint64_t grants, requests, sync_errors, refused;
	struct srtp_ledger_stats ledger;
};
void srtp_leases_counts(const struct srtp_leases *L, struct srtp_leases_counts *out);

#endif
