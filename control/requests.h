/*
 * requests.h - one mmrctl request, from argv to reply: parse the command line, validate every
 * argument, and then either render (read commands) or change the model, save the state file and
 * queue the dataplane commands (mutating commands). Any error leaves the model, the state file and
 * the dataplane untouched.
 *
 * A mutating request that succeeded (mutating set) has its change in the store's batch and its
 * dataplane commands held (state_store.h, dp_link_hold): the caller commits the batch first. Then,
 * with wait set, it waits until dp_link_applied(wait_seq) (or a timeout, or the link dropping) and
 * calls request_finish() to add the outcome ("note: ..." lines) to the reply.
 */
#ifndef MMR_REQUESTS_H
#define MMR_REQUESTS_H

#include <stdbool.h>
#include <stdint.h>
#include "controller.h"
#include "outbuf.h"

struct request {
	bool json;
	bool mutating;          /* a mutating command that succeeded */
	bool failed;
	char err[512];          /* "why" of the error line, without "error: " */
	char redirect[256];     /* failed: the meeting is on another host, this its HTTP API (zone.h;
				 * the HTTP API answers 307 to it) */
	struct outbuf body;     /* may hold keys: wiped when freed */
	bool json_open;         /* body is a JSON object still open for "applied" (key replies) */
	/* waiting for the dataplane */
	bool wait;
	bool offline;           /* mutated while the dataplane was not attached */
	/* meeting controls (issue 15): a safety action (eject, mute, lock) takes effect in the dataplane
	 * before its change is durable; if the commit fails it stays applied and is saved later
	 * (unsaved: the reply says so; controls.h) */
	bool safety;
	bool unsaved;
	uint64_t wait_seq;
	uint64_t attach_id;
	uint64_t rejected_before;
};

enum apply_outcome { APPLY_DONE, APPLY_TIMEOUT, APPLY_LOST };

/* An ICE event from the dataplane (MMR_EV_ADDRESS: a learned address; MMR_EV_CONSENT: consent
 * expired, the address cleared), applied like `participant set` (journalled, sent to the dataplane;
 * the caller commits the batch). Stale events are ignored. */
struct mmr_event;
void requests_ice_event(struct ctl_ctx *ctx, const struct mmr_event *ev);
/* A learned SSRC from the dataplane (MMR_EV_SSRC, issue 13): bound to its stream (or its RTX) as
 * `stream add --ssrc` would have, journalled and sent; an SSRC already used in the meeting is
 * refused (counted, logged once). Stale events are ignored. */
void requests_ssrc_event(struct ctl_ctx *ctx, const struct mmr_event *ev);
/* A DTLS event from the dataplane (MMR_EV_DTLS): the participant's handshake state (shown, logged). */
void requests_dtls_event(struct ctl_ctx *ctx, const struct mmr_event *ev);
/* Does argv name a command that may change the state? (false: it only reads; unknown: false) */
bool request_mutates(int argc, char **argv);
/* Run argv (as sent by mmrctl). req is initialised by the call; free with request_free(). */
void request_run(struct ctl_ctx *ctx, int argc, char **argv, struct request *req);
/* After waiting (or at once when !wait): add the outcome to the reply. */
void request_finish(struct ctl_ctx *ctx, struct request *req, enum apply_outcome how);
/* The response payload: "ok\n" + body, or "error: why\n". */
void request_reply(const struct request *req, struct outbuf *payload);
void request_free(struct request *req);

/*
 * The dp_link on_ledger hook (dp_link.h): at every attach, before the replay, with the dataplane's
 * SRTP ledger id. A key must never be used under two ledgers (docs/design.md "SRTP indexes: never
 * twice"): a new ledger knows nothing of the indexes the old one leased, so the replayed keys'
 * contexts would start at index 0 again. So:
 *   - the id recorded in the model: nothing to do;
 *   - no SRTP participant, or none recorded in a state that was never attached (its keys were never
 *     used): record the id and save the state file (a failed save is logged only: no key depends
 *     on it);
 *   - otherwise (another id, or none recorded in a state file from before ledgers): every SRTP
 *     participant gets new SEND and RECV keys, saved with the new id (fsync'd) and logged in one line;
 *     their clients must fetch them (`participant keys`).
 * 0: go on with the replay. -1 (nothing changed; why says why): the keys could not be made or saved,
 * so the old keys must not be replayed onto this ledger: stay detached and try again later. An
 * all-zero id (a dataplane that publishes none) is refused too.
 */
int request_ledger_check(struct ctl_ctx *ctx, const uint8_t id[MMR_SRTP_LEDGER_ID_LEN], char *why,
			 size_t whylen);

/*
 * Meeting controls (issue 15): one function per action, for mmrctl's commands and the HTTP API
 * (its permission checks are the caller's). Each validates, changes the model, records the change
 * and queues the dataplane commands like any request (req: as request_run's; its error on failure).
 * The safety actions (mute, mute-all, eject, lock) do not wait for the disk: their dataplane
 * commands go at once (behind only the held commands of earlier changes of the same loop round),
 * and if the commit fails they stay in force and are saved when the disk takes them
 * (requests_safety_*: the controller's side of it; they are kept as what they do, and done again
 * on the reloaded model, so an ordinary change of the same batch that failed stays failed). Their
 * opposites (unmute, unlock) loosen and are plain changes: held for the commit, undone if it fails.
 * kinds: MMR_BLOCK_AUDIO|VIDEO|SCREEN.
 */
void ctl_participant_admit(struct ctl_ctx *ctx, uint32_t p, struct request *req);
void ctl_participant_deny(struct ctl_ctx *ctx, uint32_t p, struct request *req);
void ctl_participant_mute(struct ctl_ctx *ctx, uint32_t p, uint8_t kinds, bool mute, struct request *req);
void ctl_participant_host(struct ctl_ctx *ctx, uint32_t p, bool host, struct request *req);
void ctl_participant_eject(struct ctl_ctx *ctx, uint32_t p, struct request *req);
/* The participant itself (the session API, POST /v1/sessions/ID/mute|unmute): a self-mute is always
 * allowed (and a host's mute of the same kinds stays a host's); a self-unmute of a kind a host muted
 * (not the participant itself) fails ("self-unmute is forbidden ...") while the meeting forbids
 * self-unmute, unless a host asked it to unmute that kind since (ctl_participant_ask_unmute: once).
 * A caller that may mute others uses ctl_participant_mute instead. Not persisted (model.h self_mute,
 * unmute_ok). */
void ctl_participant_self_mute(struct ctl_ctx *ctx, uint32_t p, uint8_t kinds, bool mute, struct request *req);
/* A host's "ask to unmute": the participant may unmute those of kinds it is muted for, once; an event
 * "ask_unmute" goes to its sessions only. Fails when it is muted for none of them. */
void ctl_participant_ask_unmute(struct ctl_ctx *ctx, uint32_t p, uint8_t kinds, struct request *req);
void ctl_meeting_mute_all(struct ctl_ctx *ctx, uint32_t meeting, uint8_t kinds, struct request *req);
void ctl_meeting_lock(struct ctl_ctx *ctx, uint32_t meeting, bool locked, struct request *req);
/* Settings (not safety actions): waiting_room, self_unmute forbidden, share host_only, max_sharers;
 * a negative value: unchanged. Turning the waiting room off does not admit anyone waiting. */
void ctl_meeting_controls(struct ctl_ctx *ctx, uint32_t meeting, int waiting_room, int unmute_forbidden,
			  int share_host_only, int max_sharers, struct request *req);

/* The controller's side of the safety actions: after a failed commit and the model's reload, apply
 * the safety changes not yet durable again (model, batch, and the dataplane commands that were held
 * and dropped); after a successful one, forget them. requests_safety_unsaved: how many are waiting
 * for the disk (the alarm: also in `mmrctl status` and the log). */
void requests_safety_reapply(struct ctl_ctx *ctx);
void requests_safety_saved(struct ctl_ctx *ctx);
unsigned requests_safety_unsaved(void);
/* Where each change's event goes (the join sessions' event streams, join.c): text is one SSE event
 * ("event: control ..."); participant: the only one whose sessions get it (MMR_ID_NONE: every
 * session of the meeting); hook NULL: none. */
void requests_set_control_hook(void (*hook)(void *cls, uint32_t meeting, uint32_t participant, const char *text),
			       void *cls);
uint64_t requests_safety_alarms(void);

#endif
