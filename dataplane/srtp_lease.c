/*
 * srtp_lease.c - the dataplane's SRTP index leases (see srtp_lease.h): tickets of the leased
 * contexts, the lcores' request rings, and the raise -> fdatasync -> grant cycle of the control
 * thread.
 *
 * A ticket names one protocol (RTP or RTCP) of one leased context. Its table is the control
 * thread's alone; lcores only ever pass ticket numbers (through their rings), never pointers, so
 * a request that arrives after its context was detached finds an empty ticket (or a reused one,
 * which then gets a window more than it asked for: harmless, it is durable before it is granted).
 */
#define _LGPL_SOURCE
#include "srtp_lease.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_per_lcore.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <urcu-qsbr.h>

#include "config.h"
#include "dataplane.h"

#define REQ_RING_SIZE   4096u
#define REQ_BURST       64u
#define NO_TICKET       UINT32_MAX
#define IN_RTCP_WINDOW  16u       /* SRTCP comes about once a second: a restart refuses up to 16 */
#define OUT_RTCP_WINDOW 64u       /* the RTCP we send (issue 11): SRs, RRs and feedback, a few a
				     second per context: a restart skips up to 64 indexes */
#define RETRY_NS        100000000ull   /* after a failed sync, try again this much later */
#define LOG_EVERY_NS    1000000000ull

struct ticket {
	struct srtp_stream *s;        /* NULL: free */
	struct srtp_lease_id id;
	uint32_t window;
	uint32_t next_free;
	uint64_t want;                /* limit to make durable and grant; 0: none pending */
	uint8_t  proto;               /* enum srtp_proto */
	uint8_t  listed;              /* on the wanted list */
	uint8_t  provisional;         /* inbound RTP of a new identity: narrowed at its first packet */
	uint8_t  narrowing;           /* on the narrow list */
};

struct srtp_leases {
	struct dataplane *dp;
	struct srtp_ledger *ledger;
	uint32_t win_out, win_in;
	struct ticket *t;
	uint32_t n_t, cap_t, free_head;
	uint32_t *wanted;             /* tickets with a limit to make durable and grant */
	uint32_t n_wanted, cap_wanted;
	uint32_t *narrow;             /* provisional tickets whose first packet came */
	uint32_t n_narrow, cap_narrow;
	unsigned n_rings;
	struct rte_ring *ring[MMR_MAX_LCORES];
	uint64_t retry_after_ns;
	uint64_t last_log_ns;
	struct srtp_leases_counts c;
};

static RTE_DEFINE_PER_LCORE(struct rte_ring *, lease_ring);

/* The lcore side (srtp_fast's hook): hand the ticket to the control thread. */
static int lease_hook(uint32_t ticket)
{
	struct rte_ring *r = RTE_PER_LCORE(lease_ring);
	if (ticket == NO_TICKET)
		return 0;       /* an empty lease (outbound SRTCP): nothing to ask for */
	if (!r)
		return -1;
	return rte_ring_sp_enqueue_elem(r, &ticket, sizeof(ticket)) == 0 ? 0 : -1;
}

void srtp_leases_worker_start(struct srtp_leases *L, unsigned idx)
{
	RTE_PER_LCORE(lease_ring) = idx < L->n_rings ? L->ring[idx] : NULL;
}

struct srtp_leases *srtp_leases_open(const struct dp_config *cfg, struct dataplane *dp, char *err,
				     size_t errlen)
{
	struct srtp_leases *L = calloc(1, sizeof(*L));
	if (!L) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	L->dp = dp;
	L->win_out = cfg->srtp_lease_out;
	L->win_in = cfg->srtp_lease_in;
	L->free_head = NO_TICKET;
	/* its directory (e.g. /var/lib/mmr), private, if it is not there yet */
	char dir[sizeof(cfg->srtp_ledger)];
	snprintf(dir, sizeof(dir), "%s", cfg->srtp_ledger);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
			goto fail;
		}
	}
	L->ledger = srtp_ledger_open(cfg->srtp_ledger, err, errlen);
	if (!L->ledger)
		goto fail;
	for (unsigned i = 0; i < dp->n_workers && i < MMR_MAX_LCORES; i++) {
		char name[32];
		snprintf(name, sizeof(name), "mmr_lease_%u", i);
		L->ring[i] = rte_ring_create_elem(name, sizeof(uint32_t), REQ_RING_SIZE, SOCKET_ID_ANY,
						  RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (!L->ring[i]) {
			snprintf(err, errlen, "cannot create the lease request ring %s", name);
			goto fail;
		}
		L->n_rings = i + 1;
	}
	srtp_set_lease_hook(lease_hook);
	return L;
fail:
	srtp_leases_close(L);
	return NULL;
}

void srtp_leases_close(struct srtp_leases *L)
{
	if (!L)
		return;
	srtp_set_lease_hook(NULL);
	for (unsigned i = 0; i < L->n_rings; i++)
		rte_ring_free(L->ring[i]);
	srtp_ledger_close(L->ledger);
	free(L->t);
	free(L->wanted);
	free(L->narrow);
	free(L);
}

const uint8_t *srtp_leases_ledger_id(const struct srtp_leases *L)
{
	return srtp_ledger_id(L->ledger);
}

int srtp_leases_key_ok(const struct srtp_leases *L, const uint8_t fp[SRTP_LEDGER_FP_LEN])
{
	return srtp_ledger_is_retired(L->ledger, fp) ? -EPERM : 0;
}

/* ---- tickets ----------------------------------------------------------------------------------- */

static uint32_t ticket_new(struct srtp_leases *L)
{
	if (L->free_head != NO_TICKET) {
		uint32_t i = L->free_head;
		L->free_head = L->t[i].next_free;
		return i;
	}
	if (L->n_t == L->cap_t) {
		uint32_t cap = L->cap_t ? L->cap_t * 2 : 1024;
		struct ticket *t = realloc(L->t, (size_t)cap * sizeof(*t));
		if (!t)
			return NO_TICKET;
		L->t = t;
		L->cap_t = cap;
	}
	return L->n_t++;
}

static void ticket_free(struct srtp_leases *L, uint32_t i)
{
	L->t[i].s = NULL;
	L->t[i].want = 0;
	L->t[i].next_free = L->free_head;
	L->free_head = i;
	/* a listed ticket stays listed: the list skips free ones */
}

/* Append ticket i to a list (wanted, narrow). */
static int list_add(uint32_t **list, uint32_t *n, uint32_t *cap, uint32_t i)
{
	if (*n == *cap) {
		uint32_t c = *cap ? *cap * 2 : 1024;
		uint32_t *l = realloc(*list, (size_t)c * sizeof(*l));
		if (!l)
			return -ENOMEM;
		*list = l;
		*cap = c;
	}
	(*list)[(*n)++] = i;
	return 0;
}

static int want(struct srtp_leases *L, uint32_t i, uint64_t limit)
{
	struct ticket *t = &L->t[i];
	if (limit > SRTP_INDEX_MAX)
		limit = SRTP_INDEX_MAX;
	if (limit <= t->want)
		return 0;
	t->want = limit;
	if (t->listed)
		return 0;
	if (list_add(&L->wanted, &L->n_wanted, &L->cap_wanted, i) < 0)
		return -ENOMEM;
	t->listed = 1;
	return 0;
}

/*
 * One protocol of s: floor from the ledger, a first window wanted (durable and granted by the next
 * srtp_leases_service, which runs before the batch is published). Outbound contexts start at their
 * floor, so [floor, floor + window) covers their first packets. An inbound RTP context of a new
 * identity cannot know where its sender's numbering starts (anywhere in ROC 0): it gets a
 * provisional lease over all of ROC 0 plus a window, narrowed at its first packet (narrow()).
 */
static int attach_one(struct srtp_leases *L, struct srtp_stream *s, enum srtp_proto proto,
		      const struct srtp_lease_id *id, uint32_t window, uint32_t *ticket)
{
	uint64_t floor = 0;
	int rc = srtp_ledger_lookup(L->ledger, id, &floor);
	if (rc < 0)
		return rc;
	uint32_t i = ticket_new(L);
	if (i == NO_TICKET)
		return -ENOMEM;
	struct ticket *t = &L->t[i];
	memset(t, 0, sizeof(*t));
	t->s = s;
	t->id = *id;
	t->window = window;
	t->proto = (uint8_t)proto;
	t->provisional = floor == 0 && id->kind == SRTP_LEASE_IN_RTP;
	uint64_t first = t->provisional ? 0x10000ull + window : floor + window;
	srtp_stream_lease(s, proto, floor, floor, t->provisional ? SRTP_LEASE_PROVISIONAL : window, i);
	rc = srtp_ledger_raise(L->ledger, id, first);
	if (rc == 0)
		rc = want(L, i, first);
	if (rc < 0) {
		ticket_free(L, i);
		return rc;
	}
	*ticket = i;
	return 0;
}

int srtp_leases_attach(struct srtp_leases *L, struct srtp_stream *s, const uint8_t fp[SRTP_LEDGER_FP_LEN],
		       uint32_t ssrc, enum srtp_lease_dir dir, int video, int rtcp_only)
{
	struct srtp_lease_id id;
	uint32_t t_rtp = NO_TICKET, t_rtcp = NO_TICKET;
	int rc = 0;
	memset(&id, 0, sizeof(id));
	memcpy(id.fp, fp, SRTP_LEDGER_FP_LEN);
	id.ssrc = ssrc;
	if (srtp_ledger_is_retired(L->ledger, fp))
		return -EPERM;
	if (dir == SRTP_LEASE_OUT) {
		if (rtcp_only) {
			srtp_stream_lease(s, SRTP_PROTO_RTP, 0, 0, 0, NO_TICKET);
		} else {
			id.kind = SRTP_LEASE_OUT_RTP;
			rc = attach_one(L, s, SRTP_PROTO_RTP, &id, L->win_out, &t_rtp);
		}
		if (rc == 0) {
			id.kind = SRTP_LEASE_OUT_RTCP;
			rc = attach_one(L, s, SRTP_PROTO_RTCP, &id, OUT_RTCP_WINDOW, &t_rtcp);
			if (rc < 0 && t_rtp != NO_TICKET)
				ticket_free(L, t_rtp);
		}
	} else {
		if (rtcp_only) {
			srtp_stream_lease(s, SRTP_PROTO_RTP, 0, 0, 0, NO_TICKET);
		} else {
			id.kind = SRTP_LEASE_IN_RTP;
			rc = attach_one(L, s, SRTP_PROTO_RTP, &id, video ? L->win_in * 2 : L->win_in, &t_rtp);
		}
		if (rc == 0) {
			id.kind = SRTP_LEASE_IN_RTCP;
			rc = attach_one(L, s, SRTP_PROTO_RTCP, &id, IN_RTCP_WINDOW, &t_rtcp);
			if (rc < 0 && t_rtp != NO_TICKET)
				ticket_free(L, t_rtp);
		}
	}
	if (rc < 0)
		L->c.refused++;
	return rc;
}

void srtp_leases_detach(struct srtp_leases *L, struct srtp_stream *s)
{
	if (!s)
		return;
	for (int p = SRTP_PROTO_RTP; p <= SRTP_PROTO_RTCP; p++) {
		uint32_t i = srtp_stream_lease_ticket(s, (enum srtp_proto)p);
		if (i < L->n_t && L->t[i].s == s)
			ticket_free(L, i);
	}
}

int srtp_leases_retire_key(struct srtp_leases *L, const uint8_t fp[SRTP_LEDGER_FP_LEN])
{
	int rc = srtp_ledger_retire(L->ledger, fp);
	if (rc < 0)
		dp_log("SRTP ledger: cannot retire a key (%s); it stays recorded, which is safe",
		       strerror(-rc));
	return rc;
}

/* ---- the raise -> sync -> grant cycle -------------------------------------------------------- */

static void drain_requests(struct srtp_leases *L)
{
	for (unsigned r = 0; r < L->n_rings; r++) {
		uint32_t got[REQ_BURST];
		unsigned n;
		while ((n = rte_ring_sc_dequeue_burst_elem(L->ring[r], got, sizeof(uint32_t), REQ_BURST,
							   NULL)) > 0) {
			for (unsigned k = 0; k < n; k++) {
				uint32_t i = got[k];
				if (i >= L->n_t || !L->t[i].s)
					continue;        /* detached since */
				struct ticket *t = &L->t[i];
				enum srtp_proto p = (enum srtp_proto)t->proto;
				if (t->provisional) {
					if (!t->narrowing && list_add(&L->narrow, &L->n_narrow, &L->cap_narrow, i) == 0)
						t->narrowing = 1;
					continue;
				}
				uint64_t top = srtp_stream_lease_asked(t->s, p);
				uint64_t cur = srtp_stream_lease_limit(t->s, p);
				uint64_t lim = top + t->window;
				L->c.requests++;
				if (lim <= cur)
					lim = cur + t->window;
				if (want(L, i, lim) < 0)
					dp_log("SRTP leases: out of memory for a request");
			}
		}
	}
}

static void log_limited(struct srtp_leases *L, uint64_t now, const char *what, int rc)
{
	if (now - L->last_log_ns < LOG_EVERY_NS)
		return;
	L->last_log_ns = now;
	dp_log("SRTP ledger: %s failed (%s): SRTP copies and packets that need more index wait (counted as srtp_lease drops)",
	       what, strerror(-rc));
}

/*
 * Provisional leases whose first packet came: lower each limit to where the sender is plus a window,
 * wait until every lcore has seen that (one RCU grace period for all of them), then record the
 * highest of that and what was accepted meanwhile. Until the new record is durable the ledger keeps
 * the provisional one, which is higher: a crash in between loses nothing.
 */
static void narrow(struct srtp_leases *L)
{
	uint32_t n = 0;
	for (uint32_t k = 0; k < L->n_narrow; k++) {
		struct ticket *t = &L->t[L->narrow[k]];
		if (!t->s || !t->provisional)
			continue;
		enum srtp_proto p = (enum srtp_proto)t->proto;
		srtp_stream_lease_narrow(t->s, p, srtp_stream_lease_asked(t->s, p) + t->window, t->window);
		n++;
	}
	if (n)
		dp_synchronize_rcu(L->dp);
	for (uint32_t k = 0; k < L->n_narrow; k++) {
		struct ticket *t = &L->t[L->narrow[k]];
		t->narrowing = 0;
		if (!t->s || !t->provisional)
			continue;
		enum srtp_proto p = (enum srtp_proto)t->proto;
		uint64_t lim = srtp_stream_lease_limit(t->s, p);
		uint64_t top = srtp_stream_lease_top(t->s, p);
		uint64_t rec = top >= lim ? top + t->window : lim;
		t->provisional = 0;
		t->want = 0;     /* a provisional grant still waiting (a failed sync) is superseded */
		if (srtp_ledger_set(L->ledger, &t->id, rec) < 0 || (rec > lim && want(L, L->narrow[k], rec) < 0))
			dp_log("SRTP ledger: cannot narrow a provisional lease (it stays recorded higher, which is safe)");
	}
	L->n_narrow = 0;
}

void srtp_leases_service(struct srtp_leases *L, int may_wait)
{
	if (!L)
		return;
	drain_requests(L);
	if (may_wait && L->n_narrow)
		narrow(L);
	if (!L->n_wanted && !srtp_ledger_pending(L->ledger))
		return;
	uint64_t now = mmr_now_ns();
	if (now < L->retry_after_ns)
		return;
	/* raise what is wanted (idempotent: a raise done before, not yet durable, changes nothing) */
	for (uint32_t k = 0; k < L->n_wanted; k++) {
		struct ticket *t = &L->t[L->wanted[k]];
		if (!t->s || !t->want)
			continue;
		int rc = srtp_ledger_raise(L->ledger, &t->id, t->want);
		if (rc < 0) {
			log_limited(L, now, "recording a lease", rc);
			/* not recorded, so never granted: the key was retired (its identities'
			 * records exist, so a raise needs no memory and fails for nothing else) */
			t->want = 0;
		}
	}
	int rc = srtp_ledger_sync(L->ledger);
	if (rc < 0) {
		L->c.sync_errors++;
		L->retry_after_ns = now + RETRY_NS;
		log_limited(L, now, "writing the ledger", rc);
		return;
	}
	/* durable: grant */
	for (uint32_t k = 0; k < L->n_wanted; k++) {
		struct ticket *t = &L->t[L->wanted[k]];
		t->listed = 0;
		if (!t->s || !t->want)
			continue;
		srtp_stream_lease_grant(t->s, (enum srtp_proto)t->proto, t->want);
		t->want = 0;
		L->c.grants++;
	}
	L->n_wanted = 0;
}

void srtp_leases_counts(const struct srtp_leases *L, struct srtp_leases_counts *out)
{
	*out = L->c;
	srtp_ledger_get_stats(L->ledger, &out->ledger);
}
