/*
 * slot.h - one request inside mmr-controller, whoever sent it (a Unix-socket connection or the HTTP
 * API): run (requests.h), then, for a change, committed with its poll-loop iteration's batch, then
 * waiting until the dataplane applied it (or apply_timeout_ms ran out, or the link dropped), then
 * done and answered. The functions live in controller.c, which owns the batch.
 */
#ifndef MMR_CTL_SLOT_H
#define MMR_CTL_SLOT_H

#include <stdbool.h>
#include <stdint.h>
#include "controller.h"
#include "requests.h"

/* SLOT_ZONE: waiting for etcd (zone.h) before it runs or is answered */
enum slot_state { SLOT_COMMIT, SLOT_WAIT, SLOT_DONE, SLOT_ZONE };

struct slot {
	struct request req;
	enum slot_state state;
	enum apply_outcome how;
	uint64_t deadline_ns;           /* SLOT_WAIT: apply_timeout_ms from the commit */
	char what[160];                 /* the command line, for the log */
};

/* Run argv into sl (initialised by the call; request_free(&sl->req) when answered). A read first
 * commits the changes run before it: it sees only what is durable. */
void slot_run(struct ctl_ctx *ctx, struct slot *sl, int argc, char **argv, uint64_t now);
/* slot_run without the zone's hook: what the zone calls once etcd said the request runs here. */
void slot_run_local(struct ctl_ctx *ctx, struct slot *sl, int argc, char **argv, uint64_t now);
/* The batch a SLOT_COMMIT slot was in has been committed (rc 0) or failed (rc < 0, err why). */
void slot_committed(const struct ctl_ctx *ctx, struct slot *sl, int rc, const char *err, uint64_t now);
/* A SLOT_WAIT slot: done now (applied, timed out, link lost)? true once SLOT_DONE. */
bool slot_settle(struct ctl_ctx *ctx, struct slot *sl, uint64_t now);

#endif
