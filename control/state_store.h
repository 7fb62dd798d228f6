/*
 * state_store.h - the controller's durable state: a snapshot (state_file.h) and the append-only
 * journal of the changes made since (journal.h), PATH and PATH.journal.
 *
 * A change is a few state-file lines (state_file.h, "Journal records") framed as one journal
 * record. Requests add their changes to the store's batch as they run (state_store_change...);
 * once per poll-loop iteration the controller writes the whole batch with one write() and makes it
 * durable with one fdatasync (group commit, state_store_commit), and only then lets the batch's
 * dataplane commands go and answers the requests once the dataplane has applied them: a change is
 * acknowledged only once it is durable and live.
 *
 * Compaction (state_store_compact), when the journal has grown past journal_max_records records or
 * past journal_max_bytes and the last snapshot's size, at a point where every change is committed:
 *   1. the model is written as a new snapshot naming journal generation G+1: PATH.tmp, fsync,
 *      rename over PATH, fsync the directory;
 *   2. a new journal of generation G+1 (its header record only): PATH.journal.tmp, fsync, rename
 *      over PATH.journal, fsync the directory; appends go to it from now on.
 * A crash before 1's rename leaves snapshot G and journal G (complete); between 1 and 2, snapshot
 * G+1 (complete) and journal G, which loading recognises as older than the snapshot and ignores;
 * after 2, snapshot G+1 and an empty journal G+1. If 1 fails nothing changed; if 2 fails the old
 * journal is closed (the snapshot no longer names it) and the next commit creates journal G+1
 * first, failing its changes if it cannot.
 *
 * Loading (state_store_open): the snapshot (missing: empty, generation 0), then the journal if its
 * generation is the snapshot's: every intact record in order, up to the first torn or damaged one
 * (journal.h), where the file is cut (that part was never acknowledged). A journal of a newer
 * generation than the snapshot (a snapshot lost or replaced) is an error, as is a record that
 * checks but does not apply: never a silent repair.
 *
 * Failure: if the batch cannot be written or synced, the journal is cut back to its durable length
 * and state_store_commit fails; the caller then fails every request of the batch and reloads the
 * model from disk (state_store_reload): the model is again exactly what is durable, and none of
 * the batch's dataplane commands was sent. If the journal cannot even be cut back, commit returns
 * -2 and the controller must stop (a restart loads what is on disk).
 *
 * Test hook: the environment variable MMR_TEST_ACK_EARLY=1 makes commit report success at once and
 * write the batch 50 ms later: the negative control of tests/integration/test_ctl_journal.py (a
 * kill in between loses acknowledged changes).
 */
#ifndef MMR_STATE_STORE_H
#define MMR_STATE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "model.h"
#include "outbuf.h"

struct state_store {
	char path[1024];            /* the snapshot */
	char jpath[1100];           /* PATH.journal */
	int jfd;                    /* the journal, open for writing at its end; -1: none (see above) */
	uint64_t gen;               /* the journal's generation, named by the snapshot */
	uint64_t jbytes;            /* durable bytes in the journal */
	uint64_t jrecords;          /* change records in it */
	uint64_t snap_bytes;        /* size of the last snapshot */
	uint64_t max_records, max_bytes;   /* compaction thresholds */

	struct outbuf batch;        /* framed records not yet durable (may hold keys) */
	uint32_t batch_records;
	size_t change_start;        /* the open change's record start in batch; SIZE_MAX: none */

	bool ack_early;             /* test hook (above) */
	uint64_t early_since_ns;

	uint64_t commits, compactions; /* batches made durable, compactions done */
	uint64_t replayed;          /* journal records replayed at the last load (for the log) */
};

/* Load snapshot and journal into the empty model m and open the journal for appending. 0 loaded,
 * 1 nothing on disk (empty state), -1 error with one line in err. */
int state_store_open(struct state_store *st, struct model *m, const char *path, uint64_t max_records,
		     uint64_t max_bytes, char *err, size_t errlen);
void state_store_close(struct state_store *st);

/* A change: begin returns the buffer its lines go to; end frames them as one record of the batch
 * (false: out of memory, the change is dropped); abort drops it. */
struct outbuf *state_store_change_begin(struct state_store *st);
bool state_store_change_end(struct state_store *st);
void state_store_change_abort(struct state_store *st);
static inline bool state_store_pending(const struct state_store *st)
{
	return st->batch_records > 0;
}

/* Write and fdatasync the batch. 0 (durable), -1 (nothing of it is: the batch is dropped; err says
 * why; reload the model), -2 (the journal could not be cut back: stop). */
int state_store_commit(struct state_store *st, uint64_t now_ns, char *err, size_t errlen);
/* Should the journal be compacted now? (only with nothing pending) */
bool state_store_want_compact(const struct state_store *st);
/* Write the model (every change of which is committed) as a new snapshot, start a new journal. */
int state_store_compact(struct state_store *st, const struct model *m, char *err, size_t errlen);
/* Record the model at once, whole: what is pending committed, then a new snapshot (a take-over's
 * token, a new state id, the SRTP ledger at attach: things journal records do not carry). 0 or -1. */
int state_store_checkpoint(struct state_store *st, const struct model *m, char *err, size_t errlen);
/* After a failed commit: the model again as it is on disk. 0, or -1 (err: stop). */
int state_store_reload(struct state_store *st, struct model *m, char *err, size_t errlen);

#endif
