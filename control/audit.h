/*
 * audit.h - the controller's audit log (issue 15): every control action and every refusal, with
 * who (a token's subject and role, or the control socket peer's uid), what (the request, secrets
 * left out: ICE passwords, passcodes), when (UTC, ms) and from where (the client's address, or
 * "unix" for the control socket), and the outcome.
 *
 * Kept twice: appended to FILE (audit.log in the state file's directory, mode 0600, one JSON
 * object a line; a failed write is counted and logged once, never fatal) and in a ring of the
 * last AUDIT_RING entries in memory, which operators read with `mmrctl audit [--limit N]` or
 * GET /v1/audit (an admin token for every meeting).
 *
 * What is audited: over the control socket, every change, every failed or refused request and
 * every key read (`participant keys`); over HTTP, every request that is not a GET (changes, joins,
 * leaves, passcode changes), every key read (keys, rekey, participant add) and every refusal
 * (a reply of 400 or more: bad token 401, role 403, passcode 403, rate limit 429, ...).
 * One thread (the controller's loop): no locking.
 */
#ifndef MMR_CTL_AUDIT_H
#define MMR_CTL_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include "outbuf.h"

#define AUDIT_RING 1024
#define AUDIT_FILE_NAME "audit.log"
#define AUDIT_FILE_MAX  (64ull << 20)   /* bytes: then audit.log becomes audit.log.1 (replacing it) */

struct audit_entry {
	int64_t t_ms;           /* Unix ms */
	uint64_t seq;           /* 1, 2, ... since the controller started */
	char who[96];
	char from[64];
	char what[200];
	char result[200];
};

/* Open (create) the log file next to state_file. 0, or -1 with one line in err. */
int audit_open(const char *state_file, char *err, size_t errlen);
void audit_close(void);
/* Record one action. Any argument may be NULL (""). Control characters become '?'. */
void audit_add(const char *who, const char *from, const char *what, const char *result);
/* The last limit entries (0: all in the ring), oldest first: JSON {"entries": [...], "total": N
 * recorded since start, "write_errors": N, "file": PATH} or text lines. */
void audit_render(struct outbuf *b, unsigned limit, bool json);

#endif
