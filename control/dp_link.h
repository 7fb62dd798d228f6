/*
 * dp_link.h - the controller's end of the shared-memory command channel to mmr-dataplane
 * (lib/contract/cmd_chan.h): attaching, heartbeats, full resynchronisation, and pushing commands.
 *
 * Commands go through a local FIFO into the ring: dp_link_push() appends to the FIFO and returns
 * the sequence number the command will carry; dp_link_poll() moves as many as fit into the ring
 * (a full ring just waits for the dataplane to consume). A request waits for head > its last
 * sequence number to know its change is live.
 *
 * dp_link_tick() (call it often; it acts about every 100 ms) stores our heartbeat, watches the
 * dataplane's, and attaches when a live segment appears. Attaching (first time, after our own
 * restart, after the dataplane restarted with a new epoch, or after its heartbeat went stale and
 * came back) queues a full sync: SYNC_BEGIN(gen), a MEETING_PUT for every meeting with settings
 * (top-N audio), a PUT for every participant, stream and subscription, SYNC_END(gen), with a fresh
 * nonzero gen (the dataplane sets back the settings of meetings the replay did not PUT). A simulcast group's encoding-0 stream is
 * sent before its other members, and a receiver's subscription to it before its subscriptions to
 * the others (their group_id and sel_id name them); requests keep the same order for new objects.
 * A dead dataplane detaches us: the FIFO is dropped, and the next attach replays everything anyway.
 *
 * Events (events.h): every tick, and before a read command shows them, we read the dataplane's event
 * rings; every attach forgets what they said and asks for a snapshot.
 *
 * No wipe by mistake (lib/contract/cmd_chan.h, version 7; docs/design.md): the replay's SYNC_END deletes what
 * the replay did not PUT, so we replay only onto tables that are empty or come from our own state's
 * lineage (model.h): the dataplane records the state id of every SYNC_BEGIN and the change count of
 * every command it applies, and the segment holds the owner's fencing token. We replay when the
 * tables are empty, or their state id is ours, their owner token is the one our state file records
 * (we, or the controller whose state file we are a copy of, drove them last) and their change count
 * is not above ours. Else (a missing, emptied, foreign, older or forked state file here) we are held:
 * we stay detached, push nothing, take no ownership, and say why (why_detached, `held`), until told
 * in so many words: wipe_ok (mmr-controller --wipe-dataplane, or `mmrctl dataplane reset
 * --yes-wipe`), for one attach. Having taken over, we record the new token in the state file (the
 * on_take_over hook) before we push anything.
 *
 * Fencing: one controller drives a dataplane. We take over (cmd_chan_take_over: the owner token
 * goes up by one, by compare-and-swap) only when no other controller's heartbeat is fresh, unless
 * take_over (mmr-controller --take-over, for one attach); every command carries our token and the
 * dataplane refuses any other. When we find owner_token moved (another controller took over while
 * we were stopped or stuck), we are `fenced`: we log it, detach without touching the segment and
 * never attach or push again; the controller refuses every change from then on (requests.c). The
 * owner resynchronises (a full replay of the same state: idempotent) when the dataplane refused a
 * stale command at a seq of ours, or our push found the ring moved: a stale producer may have
 * written over one of our slots.
 *
 * Holding (group commit, state_store.h): commands queued after dp_link_hold() stay in the FIFO
 * until dp_link_release() (their change is durable: they may go) or dp_link_drop_held() (it could
 * not be made durable: they are taken back, their seqs reused).
 *
 * We attach only to a ready dataplane (dp_ready), whose header then holds its SRTP ledger id, and
 * before the replay the on_ledger hook sees that id: the controller makes sure no key it replays was
 * used under another ledger (requests.h, request_ledger_check). If the hook refuses, we stay
 * detached (why_detached says why) and try again about a second later.
 */
#ifndef MMR_DP_LINK_H
#define MMR_DP_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cmd_chan.h"
#include "events.h"
#include "model.h"

/* At every attach, before the replay: 0 to go on, -1 to stay detached (why: one line). */
typedef int (*dp_link_ledger_fn)(void *arg, const uint8_t id[MMR_SRTP_LEDGER_ID_LEN], char *why,
				 size_t whylen);
/* Right after we took over with token, before the replay: record it with the state (model.h). */
typedef void (*dp_link_owner_fn)(void *arg, uint64_t token);

struct dp_link {
	char shm_name[64];
	struct model *model;         /* read only */
	struct cmd_chan ch;
	bool attached;
	uint64_t epoch;
	uint64_t attach_id;          /* bumped at every attach and detach: waiters compare it */
	uint32_t gen;                /* generation of the last sync */
	uint64_t syncs;              /* full syncs started */
	uint64_t sync_end_seq;       /* seq of the last SYNC_END; UINT64_MAX once logged as applied */
	uint64_t sync_start_ns;

	struct mmr_cmd *fifo;        /* commands not yet in the ring */
	size_t fifo_cap, fifo_head, fifo_len;
	uint64_t next_seq;           /* seq the next pushed command will carry */
	uint64_t hold_seq;           /* commands from this seq on wait for dp_link_release(); UINT64_MAX: none */

	uint64_t next_tick_ns, next_epoch_check_ns;
	uint64_t next_attach_ns;     /* no attach before (after the hook refused one) */
	char why_detached[640];      /* why we are not attached (for status and logs) */

	dp_link_ledger_fn on_ledger; /* NULL: none */
	void *on_ledger_arg;

	struct ctl_events ev;        /* what the dataplane's events told us (events.h) */
	/* fencing and the state check (see above) */
	dp_link_owner_fn on_take_over; /* NULL: none */
	void *on_take_over_arg;
	bool take_over;              /* take over even from a live controller, at the next attach */
	bool wipe_ok;                /* replay even onto tables of another state, at the next attach */
	bool held;                   /* detached because the tables were built from another state */
	bool fenced;                 /* another controller took over: never attach again */
	uint64_t first_seq;          /* our first seq since we took over (or resynchronised) */
	uint64_t stale_seen;         /* the dataplane's stale_refused when we last looked */
	uint64_t resyncs;            /* full syncs of our own state because of a stale producer */
	uint64_t token;              /* our fencing token (0: never owned one) */
};

int dp_link_init(struct dp_link *l, const char *shm_name, struct model *model);
void dp_link_close(struct dp_link *l);   /* detach; clears our heartbeat in the segment */

/* Heartbeat, liveness, attach; flushes the FIFO, reads the event rings. now from mmr_now_ns(). */
void dp_link_tick(struct dp_link *l, uint64_t now);
/* Read the dataplane's event rings now (when attached), e.g. before showing what they say. */
void dp_link_events(struct dp_link *l);
/* Move queued commands into the ring; the number still queued. */
size_t dp_link_poll(struct dp_link *l);

/* Queue one command (when attached); returns its seq. -1 (as UINT64_MAX) when detached. */
uint64_t dp_link_push(struct dp_link *l, struct mmr_cmd *cmd);
uint64_t dp_link_put_participant(struct dp_link *l, uint32_t id);
uint64_t dp_link_put_stream(struct dp_link *l, uint32_t id);
uint64_t dp_link_put_sub(struct dp_link *l, uint32_t id);
/* MEETING_PUT of a meeting's settings (top_n; 0 sets the defaults back, as MEETING_DEL) */
uint64_t dp_link_put_meeting(struct dp_link *l, uint32_t id);
uint64_t dp_link_del(struct dp_link *l, enum mmr_cmd_op op, uint32_t id);

/* `mmrctl dataplane reset --yes-wipe`: when held, replay our state at the next attach (at once),
 * deleting what it does not hold. 0, or -1 with why (not held). */
int dp_link_allow_wipe(struct dp_link *l, char *why, size_t whylen);
/* The segment's record of what its tables were built from (attached or not: NULL when the segment
 * cannot be read): 1 and the fields filled, or 0. */
struct dp_link_tables {
	uint8_t state_id[MMR_STATE_ID_LEN];
	uint32_t participants, streams, subs;
	uint64_t owner_token, stale_refused, changes;
};
int dp_link_tables(const struct dp_link *l, struct dp_link_tables *t);
/* Hold the commands queued from now on (no-op while holding); release them or take them back. */
void dp_link_hold(struct dp_link *l);
void dp_link_release(struct dp_link *l);
void dp_link_drop_held(struct dp_link *l);
/* Send what may go now (not held) and wake the dataplane: the safety actions' "at once". */
void dp_link_flush(struct dp_link *l);

/* Has the dataplane applied every command up to and including seq? */
bool dp_link_applied(const struct dp_link *l, uint64_t seq);
/* Commands the dataplane refused, not counting a fenced producer's (stale token). */
uint64_t dp_link_rejected(const struct dp_link *l);

#endif
