/*
 * requests.h - one mmrctl request, from argv to reply: parse the command line, validate every
 * argument, and then either render (read commands) or change the model, save the state file and
 * queue the dataplane commands (mutating commands). Any error leaves the model, the state file and
 * the dataplane untouched.
 *
 * A mutating request whose commands went to the dataplane comes back with wait set: the caller
 * waits until dp_link_applied(wait_seq) (or a timeout, or the link dropping) and then calls
 * request_finish() to add the outcome ("note: ..." lines) to the reply.
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
	struct outbuf body;     /* may hold keys: wiped when freed */
	bool json_open;         /* body is a JSON object still open for "applied" (key replies) */
	/* waiting for the dataplane */
	bool wait;
	bool offline;           /* mutated while the dataplane was not attached */
	uint64_t wait_seq;
	uint64_t attach_id;
	uint64_t rejected_before;
};

enum apply_outcome { APPLY_DONE, APPLY_TIMEOUT, APPLY_LOST };

/* Run argv (as sent by mmrctl). req is initialised by the call; free with request_free(). */
void request_run(struct ctl_ctx *ctx, int argc, char **argv, struct request *req);
/* After waiting (or at once when !wait): add the outcome to the reply. */
void request_finish(struct ctl_ctx *ctx, struct request *req, enum apply_outcome how);
/* The response payload: "ok\n" + body, or "error: why\n". */
void request_reply(const struct request *req, struct outbuf *payload);
void request_free(struct request *req);

#endif
