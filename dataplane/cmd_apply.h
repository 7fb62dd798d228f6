/*
 * cmd_apply.h - apply the controller's commands (cmd_chan.h) to the forwarding tables.
 *
 * Runs on the control thread only, the single writer of the tables. It keeps a plain shadow of
 * every participant, stream and subscription by id (what the controller said, plus the links
 * between them) and derives the published, immutable table versions from it. Commands are applied
 * in batches:
 *
 *     rcu online; cmd_apply_one() x N; cmd_apply_publish(); rcu offline; cmd_apply_reclaim();
 *
 * After cmd_apply_publish() returns every applied command is visible to the worker lcores;
 * cmd_apply_reclaim() waits for a grace period and frees the versions they no longer see.
 */
#ifndef MMR_CMD_APPLY_H
#define MMR_CMD_APPLY_H

#include <stddef.h>
#include <stdint.h>
#include "cmd_chan.h"

struct dataplane;
struct cmd_apply;

struct cmd_apply_counts {
	uint32_t participants, streams, subs;
	uint64_t applied, refused;
};

/* NULL on allocation failure. */
struct cmd_apply *cmd_apply_new(struct dataplane *dp);
/* Unpublish and free everything; only once no worker reads the tables any more. */
void cmd_apply_free(struct cmd_apply *ca);

/* Apply one command. 0, or -1 when refused (nothing changed) with the reason in err. */
int cmd_apply_one(struct cmd_apply *ca, const struct mmr_cmd *c, char *err, size_t errlen);
/* MEETING_MOVE (meeting_owner.h): starts it. 1: in progress (poll meeting_owner_move_poll on
 * cmd_apply_owner(ca) until 0, applying no other command meanwhile), 0: nothing to do, -1: refused
 * (nothing changed) with the reason in err. */
int cmd_apply_move(struct cmd_apply *ca, const struct mmr_cmd_move *c, char *err, size_t errlen);
/* A move of `meeting` completed: its participants' steering rules follow it (steer.h). */
void cmd_apply_moved(struct cmd_apply *ca, uint32_t meeting);
struct meeting_owner *cmd_apply_owner(struct cmd_apply *ca);
/* Make the batch's changes visible to the lcores (new output arrays). */
void cmd_apply_publish(struct cmd_apply *ca);
/* Grace period, then free retired versions. Cheap when nothing was retired. */
void cmd_apply_reclaim(struct cmd_apply *ca);
/* About every 100 ms, as an online RCU reader (then offline + cmd_apply_reclaim): housekeeping
 * that depends on time, i.e. ending SRTP rekeys whose new key is in use (srtp_ctl.h). */
void cmd_apply_tick(struct cmd_apply *ca, uint64_t now_tsc);

void cmd_apply_counts(const struct cmd_apply *ca, struct cmd_apply_counts *out);
/* The lowest subscription id >= from with selection state of its own (sel_id == id), or
 * UINT32_MAX: what a snapshot of the current layers walks (dp_events.c). */
uint32_t cmd_apply_next_sel(const struct cmd_apply *ca, uint32_t from);

/* Self-check: the shadow, its lists, counts and the published tables agree. 0, or -1 with what
 * is wrong in err. O(objects); for tests (built in with -DMMR_DP_SELFCHECK, run after each batch).
 * Call after cmd_apply_publish(), as an online RCU reader. */
int cmd_apply_check(struct cmd_apply *ca, char *err, size_t errlen);

/* Keys from participant pid's DTLS handshake (dtls_path.h): installed as a PUT with these keys
 * would (a rekey: fresh contexts, fresh leases; the old keys retired). send: what it protects with,
 * recv: what we protect its copies with. Online RCU reader; publish after. 0, or -1 with err. */
struct srtp_master;
int cmd_apply_dtls_keys(struct cmd_apply *ca, uint32_t pid, const struct srtp_master *send,
			const struct srtp_master *recv, char *err, size_t errlen);

#endif
