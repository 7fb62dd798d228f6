/*
 * state_store.c - snapshot + journal, group commit and compaction (see state_store.h).
 */
#define _GNU_SOURCE
#include "state_store.h"

#include "file_atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd_chan.h"
#include "journal.h"
#include "log.h"
#include "state_file.h"

#define EARLY_ACK_DELAY_NS 50000000ull

/* The whole journal file in a malloc'd buffer; 1 missing, 0 read, -1 error. */
static int read_journal(const char *path, uint8_t **buf, size_t *len, char *err, size_t errlen)
{
	*buf = NULL;
	*len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	struct stat stt;
	if (fstat(fd, &stt) < 0) {
		snprintf(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (stt.st_mode & 077)
		(void)fchmod(fd, stt.st_mode & 0700);   /* keys */
	size_t cap = (size_t)stt.st_size + 1, n = 0;
	uint8_t *b = malloc(cap);
	if (!b) {
		snprintf(err, errlen, "%s: out of memory for %zu bytes", path, cap);
		close(fd);
		return -1;
	}
	for (;;) {
		if (n == cap) {
			uint8_t *nb = realloc(b, cap * 2);
			if (!nb) {
				snprintf(err, errlen, "%s: out of memory", path);
				explicit_bzero(b, n);
				free(b);
				close(fd);
				return -1;
			}
			b = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
			explicit_bzero(b, n);
			free(b);
			close(fd);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	*buf = b;
	*len = n;
	return 0;
}

/* A new journal of generation gen at jpath (tmp + fsync + rename + directory fsync), opened for
 * appending in st. 0 or -1. */
static int new_journal(struct state_store *st, uint64_t gen, char *err, size_t errlen)
{
	struct outbuf b;
	ob_init(&b);
	journal_header(&b, gen);
	if (b.oom) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = file_write_atomic(st->jpath, b.p, b.len, err, errlen);
	size_t len = b.len;
	ob_free(&b);
	if (rc < 0)
		return -1;
	int fd = open(st->jpath, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", st->jpath, strerror(errno));
		return -1;
	}
	if (st->jfd >= 0)
		close(st->jfd);
	st->jfd = fd;
	st->gen = gen;
	st->jbytes = len;
	st->jrecords = 0;
	return 0;
}

/* Replay the journal's records (buf, len, from off: after the header) onto m; *good: where its
 * intact part ends. 0 or -1. */
static int replay(struct state_store *st, struct model *m, const uint8_t *buf, size_t len, size_t off,
		  size_t *good, char *err, size_t errlen)
{
	size_t plen;
	const uint8_t *payload;
	char where[1200];
	int r;
	uint64_t n = 0;
	while ((r = journal_next(buf, len, &off, &payload, &plen)) == 1) {
		n++;
		snprintf(where, sizeof(where), "%s: record %llu", st->jpath, (unsigned long long)n);
		if (state_file_replay(m, (const char *)payload, plen, where, err, errlen) < 0)
			return -1;
	}
	*good = off;
	st->jrecords = n;
	st->replayed = n;
	if (n) {
		snprintf(where, sizeof(where), "%s (after %llu records)", st->jpath, (unsigned long long)n);
		if (state_file_replay_end(m, where, err, errlen) < 0)
			return -1;
	}
	return 0;
}

static int open_store(struct state_store *st, struct model *m, char *err, size_t errlen)
{
	uint64_t gen = 0;
	int snap = state_file_load(m, st->path, &gen, err, errlen);
	if (snap < 0)
		return -1;
	struct stat sst;
	st->snap_bytes = snap == 0 && stat(st->path, &sst) == 0 ? (uint64_t)sst.st_size : 0;
	st->gen = gen;
	uint8_t *buf;
	size_t len;
	int jr = read_journal(st->jpath, &buf, &len, err, errlen);
	if (jr < 0)
		return -1;
	int rc = -1;
	if (jr == 1) {
		if (new_journal(st, gen, err, errlen) < 0)
			goto out;
		rc = snap;
		goto out;
	}
	size_t off = 0, plen;
	const uint8_t *payload;
	uint64_t jgen;
	if (journal_next(buf, len, &off, &payload, &plen) != 1 || journal_parse_header(payload, plen, &jgen) < 0) {
		snprintf(err, errlen, "%s: not an mmr journal (no intact header record)", st->jpath);
		goto out;
	}
	if (jgen > gen && off == len) {
		/* no change in it: nothing is lost by starting a journal for this snapshot (a snapshot
		 * put back by hand, with the journal of the one it replaced) */
		ctl_log("journal %s (generation %llu) holds no change and does not follow snapshot %s (generation "
			"%llu): replaced", st->jpath, (unsigned long long)jgen, st->path, (unsigned long long)gen);
		if (new_journal(st, gen, err, errlen) < 0)
			goto out;
		rc = snap;
		goto out;
	}
	if (jgen > gen) {
		snprintf(err, errlen, "%s: journal generation %llu follows a snapshot of generation %llu that is not "
			 "there (%s %s): refusing to start from part of the state", st->jpath,
			 (unsigned long long)jgen, (unsigned long long)gen, st->path,
			 snap == 1 ? "is missing" : "is older");
		goto out;
	}
	if (jgen < gen) {
		/* a compaction stopped between its two renames: the snapshot holds all of it */
		ctl_log("journal %s (generation %llu) is older than snapshot %s (generation %llu): ignored",
			st->jpath, (unsigned long long)jgen, st->path, (unsigned long long)gen);
		if (new_journal(st, gen, err, errlen) < 0)
			goto out;
		rc = snap;
		goto out;
	}
	size_t good;
	if (replay(st, m, buf, len, off, &good, err, errlen) < 0)
		goto out;
	int fd = open(st->jpath, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", st->jpath, strerror(errno));
		goto out;
	}
	if (good < len) {
		/* never acknowledged (journal.h): cut it so that appends follow the intact part */
		ctl_log("journal %s: ignored %zu bytes after record %llu (a torn or damaged last write)", st->jpath,
			len - good, (unsigned long long)st->jrecords);
		if (ftruncate(fd, (off_t)good) < 0 || fdatasync(fd) < 0) {
			snprintf(err, errlen, "cannot cut %s to its intact %zu bytes: %s", st->jpath, good, strerror(errno));
			close(fd);
			goto out;
		}
	}
	st->jfd = fd;
	st->jbytes = good;
	rc = snap == 1 && st->jrecords == 0 ? 1 : 0;
out:
	if (buf) {
		explicit_bzero(buf, len);
		free(buf);
	}
	return rc;
}

int state_store_open(struct state_store *st, struct model *m, const char *path, uint64_t max_records,
		     uint64_t max_bytes, char *err, size_t errlen)
{
	memset(st, 0, sizeof(*st));
	st->jfd = -1;
	st->change_start = SIZE_MAX;
	st->max_records = max_records;
	st->max_bytes = max_bytes;
	ob_init(&st->batch);
	const char *hook = getenv("MMR_TEST_ACK_EARLY");
	st->ack_early = hook && strcmp(hook, "1") == 0;
	if (st->ack_early)
		ctl_log("MMR_TEST_ACK_EARLY=1: changes are acknowledged BEFORE they are written (test hook)");
	if ((size_t)snprintf(st->path, sizeof(st->path), "%s", path) >= sizeof(st->path) ||
	    (size_t)snprintf(st->jpath, sizeof(st->jpath), "%s.journal", path) >= sizeof(st->jpath)) {
		snprintf(err, errlen, "state file path too long");
		return -1;
	}
	return open_store(st, m, err, errlen);
}

void state_store_close(struct state_store *st)
{
	if (st->jfd >= 0)
		close(st->jfd);
	st->jfd = -1;
	ob_free(&st->batch);
}

struct outbuf *state_store_change_begin(struct state_store *st)
{
	if (st->change_start != SIZE_MAX)
		state_store_change_abort(st);
	st->change_start = journal_rec_begin(&st->batch);
	return &st->batch;
}

bool state_store_change_end(struct state_store *st)
{
	journal_rec_end(&st->batch, st->change_start);
	if (st->batch.oom) {
		state_store_change_abort(st);
		return false;
	}
	st->change_start = SIZE_MAX;
	st->batch_records++;
	return true;
}

void state_store_change_abort(struct state_store *st)
{
	if (st->change_start == SIZE_MAX)
		return;
	if (st->batch.p && st->batch.len > st->change_start)
		explicit_bzero(st->batch.p + st->change_start, st->batch.len - st->change_start);
	/* an out-of-memory buffer is unusable: drop the whole batch's text only if nothing else is in it */
	st->batch.len = st->change_start;
	st->batch.oom = false;
	st->change_start = SIZE_MAX;
}

static void batch_drop(struct state_store *st)
{
	if (st->batch.p)
		explicit_bzero(st->batch.p, st->batch.len);
	ob_reset(&st->batch);
	st->batch_records = 0;
	if (st->batch.cap > (64u << 20))
		ob_free(&st->batch);
}

int state_store_commit(struct state_store *st, uint64_t now_ns, char *err, size_t errlen)
{
	if (!st->batch_records)
		return 0;
	if (st->ack_early) {
		/* the negative control: acknowledged now, written later */
		if (!st->early_since_ns)
			st->early_since_ns = now_ns;
		if (now_ns - st->early_since_ns < EARLY_ACK_DELAY_NS)
			return 0;
		st->early_since_ns = 0;
	}
	if (st->jfd < 0 && new_journal(st, st->gen, err, errlen) < 0) {
		batch_drop(st);
		return -1;
	}
	const char *p = st->batch.p;
	size_t len = st->batch.len, off = 0;
	const char *what = "write";
	while (off < len) {
		ssize_t n = write(st->jfd, p + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			goto fail;
		}
		off += (size_t)n;
	}
	what = "fdatasync";
	if (!st->ack_early && fdatasync(st->jfd) < 0)
		goto fail;
	st->jbytes += len;
	st->jrecords += st->batch_records;
	st->commits++;
	batch_drop(st);
	return 0;
fail:
	snprintf(err, errlen, "cannot %s %s: %s", what, st->jpath, strerror(errno));
	batch_drop(st);
	if (ftruncate(st->jfd, (off_t)st->jbytes) < 0) {
		ctl_logl(CTL_LOG_ERROR, "cannot cut %s back to its durable %llu bytes: %s", st->jpath,
			(unsigned long long)st->jbytes, strerror(errno));
		return -2;
	}
	return -1;
}

int state_store_checkpoint(struct state_store *st, const struct model *m, char *err, size_t errlen)
{
	if (st->batch_records) {
		/* only the test hook leaves a batch behind here: write it now, without its delay */
		if (st->ack_early)
			st->early_since_ns = 1;
		if (state_store_commit(st, UINT64_MAX / 2, err, errlen) < 0)
			return -1;
	}
	return state_store_compact(st, m, err, errlen);
}

bool state_store_want_compact(const struct state_store *st)
{
	if (st->batch_records || st->change_start != SIZE_MAX)
		return false;
	return st->jrecords >= st->max_records ||
	       (st->jbytes >= st->max_bytes && st->jbytes >= st->snap_bytes);
}

int state_store_compact(struct state_store *st, const struct model *m, char *err, size_t errlen)
{
	size_t bytes = 0;
	uint64_t t0 = mmr_now_ns();
	if (state_file_save(m, st->path, st->gen + 1, &bytes, err, errlen) < 0)
		return -1;
	/* the snapshot names generation gen + 1 now: the old journal must take no more appends */
	if (st->jfd >= 0)
		close(st->jfd);
	st->jfd = -1;
	uint64_t old_records = st->jrecords, old_bytes = st->jbytes;
	st->gen++;
	st->snap_bytes = bytes;
	st->jrecords = 0;
	st->jbytes = 0;
	if (new_journal(st, st->gen, err, errlen) < 0)
		return -1;
	st->compactions++;
	uint64_t took_ns = mmr_now_ns() - t0;
	ctl_log("compacted: snapshot %s (%zu bytes, journal generation %llu) replaces %llu journal records "
		"(%llu bytes) in %.1f ms", st->path, bytes, (unsigned long long)st->gen,
		(unsigned long long)old_records, (unsigned long long)old_bytes, (double)took_ns / 1e6);
	return 0;
}

int state_store_reload(struct state_store *st, struct model *m, char *err, size_t errlen)
{
	model_free(m);
	if (model_init(m) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (st->jfd >= 0)
		close(st->jfd);
	st->jfd = -1;
	return open_store(st, m, err, errlen) < 0 ? -1 : 0;
}
