/*
 * ctl_loop.c - the dataplane's control thread (see ctl_loop.h).
 *
 * Loop: take up to CMD_BATCH commands from the ring (copied out of the shared segment), apply
 * them (cmd_apply.c), publish, move the ring's head past them (the controller waits for that),
 * then wait for a grace period and free what the batch retired. When the ring is empty it sleeps
 * in cmd_chan_wait() (a futex on the ring's tail: the controller wakes it as soon as it pushes,
 * lib/contract/cmd_chan.h), at most IDLE_SLEEP_US at first and twice as long after each further empty poll
 * up to IDLE_SLEEP_MAX_US (the thread may share a core: fewer wake-ups; a producer that does not
 * wake, such as mmr-gen's ring set-up, is seen within that), back to IDLE_SLEEP_US once a command
 * came. Every 100 ms: our heartbeat, port counters, the controller's liveness (logged on
 * change only; forwarding never depends on it), the end of SRTP rekeys (cmd_apply_tick). Every
 * status_interval_ms: one status line.
 *
 * A MEETING_MOVE is applied alone and takes several iterations (meeting_owner.c: a grace period and
 * two handshakes with the workers); no later command is applied before it is done, and the ring's
 * head moves past it only then. Everything else (leases, heartbeats, status) goes on meanwhile.
 *
 * SIGHUP (dp->reload): the config's run-time settings re-read (reload_config), between two iterations.
 *
 * About once a second: the wall clock for the lcores' RTCP (ctl_publish_ntp).
 *
 * Every iteration, and in each batch before it is published: the SRTP index leases
 * (srtp_leases_service: the lcores' requests, one fdatasync of the ledger, the grants). Every
 * iteration: a snapshot of the current layers when the controller asked for one (dp_events.c),
 * as much of it as its event ring takes.
 *
 * Every iteration (not during a meeting move): the DTLS thread's results (dtls_path.h): keys of
 * completed handshakes installed like a PUT's (a batch of their own, published), MMR_EV_DTLS
 * events.
 *
 * A PARTICIPANT_PUT's key bytes are wiped from its ring slot as soon as the command is copied out.
 *
 * Fencing (cmd_chan.h, version 7): a command whose token is not the segment's owner_token, or whose
 * seq is not its position, is refused before it reaches cmd_apply (counted in `rejected`, the stale
 * ones in `stale_refused` too). A SYNC_BEGIN applied records its state id in the segment, every
 * command with a valid token its change count; after every batch the object counts are published.
 */
#define _LGPL_SOURCE
#include "ctl_loop.h"
#include "dtls_path.h"
#include "ice.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include <urcu-qsbr.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "cmd_apply.h"
#include "cmd_chan.h"
#include "dataplane.h"
#include "meeting_owner.h"
#include "neigh.h"
#include "police.h"
#include "dp_events.h"
#include "srtp_lease.h"

#define CMD_BATCH       256u
#define IDLE_SLEEP_US   200u
#define IDLE_SLEEP_MAX_US 1000u
#define MOVE_POLL_US    20u

enum ctl_liveness { CTL_NEVER_SEEN, CTL_ALIVE, CTL_STALE };

struct ctl_state {
	enum ctl_liveness ctl;
	uint64_t last_status_ns;
	struct mmr_stats_sample last;   /* the lcore counters at the last status line */
};

static const char *op_name(uint32_t op)
{
	static const char *const names[MMR_CMD__COUNT] = {
		[MMR_CMD_NOP] = "NOP",
		[MMR_CMD_SYNC_BEGIN] = "SYNC_BEGIN",
		[MMR_CMD_SYNC_END] = "SYNC_END",
		[MMR_CMD_PARTICIPANT_PUT] = "PARTICIPANT_PUT",
		[MMR_CMD_PARTICIPANT_DEL] = "PARTICIPANT_DEL",
		[MMR_CMD_STREAM_PUT] = "STREAM_PUT",
		[MMR_CMD_STREAM_DEL] = "STREAM_DEL",
		[MMR_CMD_SUB_PUT] = "SUB_PUT",
		[MMR_CMD_SUB_DEL] = "SUB_DEL",
		[MMR_CMD_MEETING_MOVE] = "MEETING_MOVE",
	};
	return op < MMR_CMD__COUNT ? names[op] : "?";
}

/* What the tables are built from from now on (cmd_chan.h, version 7): the state id of a SYNC_BEGIN. */
static void record_state_id(struct mmr_shm *shm, const uint8_t id[MMR_STATE_ID_LEN])
{
	uint64_t w[2];
	memcpy(w, id, sizeof(w));
	atomic_store_explicit(&shm->state_id[0], w[0], memory_order_relaxed);
	atomic_store_explicit(&shm->state_id[1], w[1], memory_order_relaxed);
	atomic_fetch_add_explicit(&shm->state_syncs, 1, memory_order_release);
}

/* The object counts after a batch (cmd_chan.h, version 7), before head moves past it. */
static void publish_counts(struct mmr_shm *shm, const struct cmd_apply *ca)
{
	struct cmd_apply_counts cnt;
	cmd_apply_counts(ca, &cnt);
	atomic_store_explicit(&shm->n_participants, cnt.participants, memory_order_relaxed);
	atomic_store_explicit(&shm->n_streams, cnt.streams, memory_order_relaxed);
	atomic_store_explicit(&shm->n_subs, cnt.subs, memory_order_relaxed);
}

/* A MEETING_MOVE in progress (meeting_owner.h): no command after it is applied until it is done. */
struct move_wait {
	int active;
	uint64_t seq;                 /* the MEETING_MOVE's */
	uint32_t meeting;
};

/* Apply what the ring holds (at most CMD_BATCH commands, up to a MEETING_MOVE, which goes alone);
 * returns how many. */
static unsigned apply_batch(struct dataplane *dp, struct cmd_apply *ca, struct move_wait *mw)
{
	struct mmr_shm *shm = dp->shm;
	if (mw->active) {
		if (meeting_owner_move_poll(cmd_apply_owner(ca)) > 0)
			return 0;
		/* done: steering rules follow; the controller may now read the meeting's new owner */
		rcu_thread_online();
		cmd_apply_moved(ca, mw->meeting);
		rcu_thread_offline();
		struct mmr_cmd done = { .seq = mw->seq };
		cmd_chan_done(&dp->chan, &done);
		mw->active = 0;
		return 1;
	}
	uint64_t head = atomic_load_explicit(&shm->head, memory_order_relaxed);
	uint64_t tail = atomic_load_explicit(&shm->tail, memory_order_acquire);
	if (head == tail)
		return 0;
	uint64_t n = tail - head;
	if (n > CMD_BATCH)
		n = CMD_BATCH;

	rcu_thread_online();
	for (uint64_t k = 0; k < n; k++) {
		struct mmr_cmd *slot = &shm->ring[(head + k) & (MMR_CMD_RING - 1)];
		struct mmr_cmd c = *slot;
		uint32_t op = c.op;      /* c is wiped (keys) before a refusal is reported */
		char err[128];
		int rc;
		if (c.op == MMR_CMD_MEETING_MOVE && k > 0) {
			n = k;               /* what came before first, published as one batch */
			break;
		}
		/* keys stay in the shadow (and the contexts made from them), not in the ring: the slot is
		 * ours until head moves past it */
		if (c.op == MMR_CMD_PARTICIPANT_PUT) {
			explicit_bzero(&slot->u.participant.send_key, sizeof(slot->u.participant.send_key));
			explicit_bzero(&slot->u.participant.recv_key, sizeof(slot->u.participant.recv_key));
		}
		uint64_t owner = atomic_load_explicit(&shm->owner_token, memory_order_acquire);
		if (c.token != owner) {
			/* fencing: a controller that was taken over from (docs/design.md) */
			snprintf(err, sizeof(err), "stale fencing token %" PRIu64 " (the owner's is %" PRIu64
				 "): a controller that was taken over from", c.token, owner);
			atomic_store_explicit(&shm->stale_last_seq, head + k, memory_order_relaxed);
			atomic_fetch_add_explicit(&shm->stale_refused, 1, memory_order_release);
			rc = -1;
		} else if (c.seq != head + k) {
			snprintf(err, sizeof(err), "slot holds seq %" PRIu64 ": written over by another producer",
				 c.seq);
			rc = -1;
		} else if (c.op == MMR_CMD_MEETING_MOVE) {
			atomic_store_explicit(&shm->state_changes, c.changes, memory_order_relaxed);
			rc = cmd_apply_move(ca, &c.u.move, err, sizeof(err));
			if (rc > 0) {
				/* started: head stays before it until the move is done */
				mw->active = 1;
				mw->seq = head;
				mw->meeting = c.u.move.meeting_id;
				rcu_thread_offline();
				return 1;
			}
			n = 1;
		} else {
			rc = cmd_apply_one(ca, &c, err, sizeof(err));
			if (rc == 0 && op == MMR_CMD_SYNC_BEGIN)
				record_state_id(shm, c.u.sync.state_id);
			atomic_store_explicit(&shm->state_changes, c.changes, memory_order_relaxed);
		}
		explicit_bzero(&c, sizeof(c));
		if (rc < 0) {
			/* the segment's last_error is 128 bytes: the reason is cut at 100 there, not in the log */
			snprintf(shm->last_error, sizeof(shm->last_error), "seq %" PRIu64 " %s: %.100s", head + k,
				 op_name(op), err);
			atomic_fetch_add_explicit(&shm->rejected, 1, memory_order_release);
			DP_WARN(DP_LT_CTL, "command seq %" PRIu64 " (%s) refused: %s", head + k, op_name(op), err);
		}
	}
	/* the first windows of the batch's new SRTP contexts are durable before anyone sees them */
	srtp_leases_service(dp->leases, 0);
	cmd_apply_publish(ca);
#ifdef MMR_DP_SELFCHECK
	char why[160];
	if (cmd_apply_check(ca, why, sizeof(why)) < 0) {
		DP_ERR(DP_LT_CTL, "SELF-CHECK FAILED after seq %" PRIu64 ": %s", head + n - 1, why);
		abort();
	}
#endif
	publish_counts(shm, ca);
	/* everything up to head + n - 1 is now visible to the lcores */
	struct mmr_cmd last = { .seq = head + n - 1 };
	cmd_chan_done(&dp->chan, &last);
	rcu_thread_offline();
	cmd_apply_reclaim(ca);
	return (unsigned)n;
}

/* What the DTLS thread finished (dtls_path.h): connected handshakes' keys installed in their
 * participants' SRTP contexts (published as a batch), and every state change posted as MMR_EV_DTLS.
 * Results of a configuration that changed since are dropped. Returns how many were read. */
static unsigned apply_dtls(struct dataplane *dp, struct cmd_apply *ca)
{
	struct dp_dtls_result r;
	unsigned n = 0, keys = 0;
	while (n < 64 && dp_dtls_result_pop(&r)) {
		n++;
		if (r.gen == 0 || r.gen != dp_dtls_gen(r.pid)) {
			explicit_bzero(&r, sizeof(r));
			continue;
		}
		uint8_t state = r.state, fail = r.fail;
		if (state == MMR_DTLS_CONNECTED) {
			char err[128];
			if (!keys++)
				rcu_thread_online();
			if (cmd_apply_dtls_keys(ca, r.pid, &r.remote, &r.local, err, sizeof(err)) == 0) {
				dp->shm->stats.ctl.dtls_keys++;
				DP_INFO(DP_LT_CTL, "participant %u: DTLS connected (%s): keys installed", r.pid,
				       srtp_suite_name((enum srtp_suite)r.suite));
			} else {
				dp->shm->stats.ctl.dtls_keys_refused++;
				DP_WARN(DP_LT_CTL, "participant %u: DTLS keys refused: %s", r.pid, err);
				state = MMR_DTLS_FAILED;
				fail = MMR_DTLS_FAIL_KEYS;
			}
		}
		ev_push(&dp->ctl_events.ev, MMR_EV_DTLS, r.pid, mmr_dtls_pack(state, fail, r.suite), r.gen);
		dp_dtls_state_sent(r.pid, r.gen, mmr_dtls_pack(state, fail, r.suite));   /* for snapshots */
		explicit_bzero(&r, sizeof(r));
	}
	if (keys) {
		srtp_leases_service(dp->leases, 0);   /* the new contexts' first windows durable first */
		cmd_apply_publish(ca);
		publish_counts(dp->shm, ca);
		rcu_thread_offline();
		cmd_apply_reclaim(ca);
	}
	return n;
}

static void copy_port_stats(struct dataplane *dp)
{
	for (unsigned i = 0; i < dp->n_ports; i++) {
		struct rte_eth_stats es;
		if (rte_eth_stats_get(dp->port[i].port_id, &es) != 0)
			continue;
		struct mmr_port_stats *ps = &dp->shm->stats.port[i];
		ps->ipackets = es.ipackets;
		ps->opackets = es.opackets;
		ps->ibytes = es.ibytes;
		ps->obytes = es.obytes;
		ps->imissed = es.imissed;
		ps->ierrors = es.ierrors;
		ps->oerrors = es.oerrors;
		ps->rx_nombuf = es.rx_nombuf;
	}
}

static void check_controller(struct dataplane *dp, struct ctl_state *cs, uint64_t now)
{
	uint64_t hb = atomic_load_explicit(&dp->shm->ctl_heartbeat_ns, memory_order_relaxed);
	if (mmr_alive(hb, now)) {
		if (cs->ctl != CTL_ALIVE)
			DP_INFO(DP_LT_CTL, "controller alive (pid %u)",
			       atomic_load_explicit(&dp->shm->ctl_pid, memory_order_relaxed));
		cs->ctl = CTL_ALIVE;
	} else if (cs->ctl == CTL_ALIVE) {
		DP_WARN(DP_LT_CTL, "controller heartbeat stale: forwarding continues with the current tables");
		cs->ctl = CTL_STALE;
	}
}

static void status_line(struct dataplane *dp, struct cmd_apply *ca, struct ctl_state *cs, uint64_t now)
{
	/* the same summary as `mmrctl stats` (stats.h): busy % and drops cannot disagree */
	struct mmr_stats_sample cur;
	struct mmr_stats_summary sum;
	mmr_stats_sample_area(&cur, &dp->shm->stats);
	double dt = (double)(now - cs->last_status_ns) / 1e9;
	mmr_stats_summarize(&cs->last, &cur, dt > 0 ? dt : 1, &sum);
	struct cmd_apply_counts cnt;
	cmd_apply_counts(ca, &cnt);
	DP_INFO(DP_LT_CTL, "status: rx %.0f pps, tx %.0f pps, copies %.0f/s, drops %.0f/s, workers busy %.1f%%; "
	       "%u participants, %u streams, %u subscriptions; %" PRIu64 " commands, %" PRIu64 " refused",
	       sum.rx_pps, sum.tx_pps, sum.copies_ps, sum.drops_ps, sum.busy_pct,
	       cnt.participants, cnt.streams, cnt.subs, cnt.applied + cnt.refused, cnt.refused);
	uint64_t stale = atomic_load_explicit(&dp->shm->stale_refused, memory_order_relaxed);
	if (stale)
		DP_INFO(DP_LT_CTL, "status: fencing: owner token %" PRIu64 ", %" PRIu64 " commands refused for a stale token",
		       atomic_load_explicit(&dp->shm->owner_token, memory_order_relaxed), stale);
	struct srtp_leases_counts lc;
	srtp_leases_counts(dp->leases, &lc);
	if (dp->n_workers > 1) {
		uint32_t load[MMR_MAX_LCORES];
		uint64_t moves;
		char txt[MMR_MAX_LCORES * 12] = "";
		meeting_owner_load(cmd_apply_owner(ca), load, dp->n_workers, &moves);
		for (unsigned i = 0, o = 0; i < dp->n_workers && o < sizeof(txt); i++)
			o += (unsigned)snprintf(txt + o, sizeof(txt) - o, "%s%u", i ? "/" : "", load[i]);
		DP_INFO(DP_LT_CTL, "status: hand-offs %.0f/s; participants per worker %s; %" PRIu64 " meeting moves",
		       (double)(cur.c[MMR_LC_handoff_out] - cs->last.c[MMR_LC_handoff_out]) / (dt > 0 ? dt : 1),
		       txt, moves);
	}
	if (lc.ledger.records || lc.sync_errors)
		DP_INFO(DP_LT_CTL, "status: SRTP ledger: %" PRIu64 " leases, %" PRIu64 " retired keys; %" PRIu64
		       " requests, %" PRIu64 " grants, %" PRIu64 " syncs, %" PRIu64 " sync errors, %" PRIu64
		       " contexts refused", lc.ledger.records, lc.ledger.retired, lc.requests, lc.grants,
		       lc.ledger.syncs, lc.sync_errors, lc.refused);
	for (unsigned i = 0; i < dp->n_ports; i++) {
		const struct mmr_port_stats *ps = &dp->shm->stats.port[i];
		DP_DEBUG(DP_LT_CTL, "status: port %u (%s): %" PRIu64 " packets in, %" PRIu64 " out, %" PRIu64
			 " missed, %" PRIu64 " errors in, %" PRIu64 " out, %" PRIu64 " no mbuf", ps->port_id, ps->name,
			 ps->ipackets, ps->opackets, ps->imissed, ps->ierrors, ps->oerrors, ps->rx_nombuf);
	}
	cs->last = cur;
	cs->last_status_ns = now;
}

/* SIGHUP (main.c sets dp->reload): re-read the config file and apply what may change at run time
 * (the log level and every run-time setting of dp_config_reload: intervals, limits, the policing
 * limits of police.h, the neighbour timers); what is sized at start is kept and named. A config that
 * does not load changes nothing. Forwarding is not touched: this runs between two iterations of the
 * control loop (the lcores load the new values with their next packet or loop iteration). */
static void reload_config(struct dataplane *dp)
{
	static struct dp_config fresh;
	char err[512], changed[1024], kept[256];
	if (dp_config_load(dp->cfg_path, &fresh, err, sizeof(err)) < 0) {
		DP_ERR(DP_LT_CTL, "SIGHUP: %s: nothing reloaded", err);
		return;
	}
	uint32_t old = dp_log_get_level(DP_LT_CTL), lvl = fresh.log_level;
	dp_config_reload(dp->cfg, &fresh, changed, sizeof(changed), kept, sizeof(kept));
	__atomic_store_n(&dp->rtcp.kf_throttle_ms, dp->cfg->kf_throttle_ms, __ATOMIC_RELAXED);
	police_set(&dp->police, dp->cfg, rte_get_tsc_hz());   /* the lcores load them per packet */
	if (changed[0])   /* the workers re-read what they cache */
		for (unsigned i = 0; i < dp->n_workers; i++)
			atomic_fetch_add_explicit(&dp->req[i].tunables_gen, 1, memory_order_release);
	/* the lines show at whichever of the two levels is the more verbose */
	dp_log_set_level(old > lvl ? old : lvl);
	DP_INFO(DP_LT_CTL, "SIGHUP: reloaded %s: log level %s -> %s; %s%s", dp->cfg_path, dp_log_level_name(old),
		dp_log_level_name(lvl), changed[0] ? "changed: " : "no other run-time setting changed", changed);
	if (kept[0])
		DP_WARN(DP_LT_CTL, "SIGHUP: changed in %s but taken only at a restart (kept as they are): %s",
			dp->cfg_path, kept);
	dp_log_set_level(lvl);
	dp_config_free(&fresh);
}

static int workers_running(struct dataplane *dp)
{
	for (unsigned i = 0; i < dp->n_workers; i++)
		if (!((volatile struct mmr_lcore_stats *)&dp->shm->stats.lcore[i])->active)
			return 0;
	return 1;
}

void ctl_publish_ntp(struct dataplane *dp)
{
	struct timespec ts;
	/* the TSC read between two clock reads, the pair taken from the closer of them */
	uint64_t t0 = rte_rdtsc();
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t t1 = rte_rdtsc();
	uint64_t ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	ntp_clock_publish(&dp->ntp, t0 + (t1 - t0) / 2, ns, rte_get_tsc_hz());
}

void ctl_loop_run(struct dataplane *dp, struct cmd_apply *ca)
{
	struct ctl_state cs = { .ctl = CTL_NEVER_SEEN };
	uint64_t interval_ns = (uint64_t)dp->cfg->status_interval_ms * 1000000ull;

	while (!workers_running(dp) && !atomic_load(&dp->stop))
		usleep(1000);
	if (atomic_load(&dp->stop))
		return;
	atomic_store(&dp->shm->dp_ready, 1);
	fprintf(stderr, "MMR-DATAPLANE READY\n");
	fflush(stderr);
	/* systemd Type=notify (systemd/mmr-dataplane.service); a no-op without NOTIFY_SOCKET */
	sd_notify(0, "READY=1");

	uint64_t now = mmr_now_ns();
	uint64_t next_hk = now;
	uint64_t next_status = now + interval_ns;
	uint64_t next_ntp = now + 1000000000ull;
	cs.last_status_ns = now;
	unsigned idle_us = IDLE_SLEEP_US;
	struct move_wait mw = { 0 };
	while (!atomic_load_explicit(&dp->stop, memory_order_relaxed)) {
		unsigned n = apply_batch(dp, ca, &mw);
		if (!mw.active)
			n += apply_dtls(dp, ca);
		srtp_leases_service(dp->leases, 1);   /* the lcores' requests for more index */
		dp_neigh_service(dp);                 /* ARP / ND answers and timers (neigh.h) */
		int snapshot = dp_events_service(dp, ca);   /* a controller asked for every current value */
		if (atomic_exchange_explicit(&dp->reload, 0, memory_order_relaxed)) {
			reload_config(dp);
			interval_ns = (uint64_t)dp->cfg->status_interval_ms * 1000000ull;
			next_status = mmr_now_ns() + interval_ns;
		}
		now = mmr_now_ns();
		if (now >= next_hk) {
			atomic_store(&dp->shm->dp_heartbeat_ns, now);
			copy_port_stats(dp);
			check_controller(dp, &cs, now);
			rcu_thread_online();
			cmd_apply_tick(ca, rte_rdtsc());
			dp_ice_service(dp, rte_rdtsc());
			rcu_thread_offline();
			cmd_apply_reclaim(ca);
			next_hk = now + MMR_HEARTBEAT_NS;
		}
		if (now >= next_ntp) {
			ctl_publish_ntp(dp);
			next_ntp = now + 1000000000ull;
		}
		if (interval_ns && now >= next_status) {
			status_line(dp, ca, &cs, now);
			next_status = now + interval_ns;
		}
		if (mw.active) {
			usleep(MOVE_POLL_US);   /* a meeting move: the workers answer within an iteration or two */
		} else if (snapshot) {
			usleep(IDLE_SLEEP_US);      /* its event ring is full: let the controller read */
		} else if (n == 0) {
			/* the ring was empty at head: sleep unless tail has moved since */
			cmd_chan_wait(&dp->chan, atomic_load_explicit(&dp->shm->head, memory_order_relaxed), idle_us);
			idle_us = idle_us * 2 < IDLE_SLEEP_MAX_US ? idle_us * 2 : IDLE_SLEEP_MAX_US;
		} else {
			idle_us = IDLE_SLEEP_US;
		}
	}
	atomic_store(&dp->shm->dp_ready, 0);
}
