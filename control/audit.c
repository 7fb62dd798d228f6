/*
 * audit.c - the audit log: a file and a ring in memory (see audit.h).
 */
#define _GNU_SOURCE
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static struct audit_entry ring[AUDIT_RING];
static uint64_t n_total, n_write_errors;
static int fd = -1;
static char path[1100];
static uint64_t file_bytes;          /* the size of the file now open */

/* (Re)open the file at path for appending, owner only. 0, or -1 with errno. */
static int open_file(void)
{
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fchmod(fd, 0600) < 0 || fstat(fd, &st) < 0) {     /* owner only, also an older file */
		int e = errno;
		close(fd);
		fd = -1;
		errno = e;
		return -1;
	}
	file_bytes = (uint64_t)st.st_size;
	return 0;
}

/* Any client can make entries (every refused HTTP request is one): the file is bounded, the
 * previous AUDIT_FILE_MAX bytes kept as audit.log.1. */
static void rotate(void)
{
	char old[1110];
	snprintf(old, sizeof(old), "%s.1", path);
	close(fd);
	fd = -1;
	if (rename(path, old) < 0)
		ctl_logl(CTL_LOG_ERROR, "cannot rotate the audit log %s: %s", path, strerror(errno));
	if (open_file() < 0)
		ctl_logl(CTL_LOG_ERROR, "cannot reopen the audit log %s: %s (the ring in memory still has the entries)",
			 path, strerror(errno));
}

int audit_open(const char *state_file, char *err, size_t errlen)
{
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s", state_file);
	snprintf(path, sizeof(path), "%s/%s", dirname(dir), AUDIT_FILE_NAME);
	open_file();
	if (fd < 0) {
		snprintf(err, errlen, "cannot open the audit log %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

void audit_close(void)
{
	if (fd >= 0)
		close(fd);
	fd = -1;
}

static void copy_clean(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
	for (char *p = dst; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			*p = '?';
}

/* An entry's time as 2026-12-07T20:08:01.123Z. */
static const char *entry_time(const struct audit_entry *e, char out[40])
{
	time_t s = (time_t)(e->t_ms / 1000);
	struct tm tm;
	char ts[32];
	gmtime_r(&s, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 40, "%s.%03dZ", ts, (int)(e->t_ms % 1000));
	return out;
}

static void entry_json(struct outbuf *b, const struct audit_entry *e)
{
	char ts[40];
	ob_printf(b, "{\"seq\": %llu, \"time\": \"%s\", \"who\": ", (unsigned long long)e->seq, entry_time(e, ts));
	ob_json_str(b, e->who);
	ob_puts(b, ", \"from\": ");
	ob_json_str(b, e->from);
	ob_puts(b, ", \"what\": ");
	ob_json_str(b, e->what);
	ob_puts(b, ", \"result\": ");
	ob_json_str(b, e->result);
	ob_puts(b, "}");
}

void audit_add(const char *who, const char *from, const char *what, const char *result)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct audit_entry *e = &ring[n_total % AUDIT_RING];
	e->seq = ++n_total;
	e->t_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	copy_clean(e->who, sizeof(e->who), who);
	copy_clean(e->from, sizeof(e->from), from);
	copy_clean(e->what, sizeof(e->what), what);
	copy_clean(e->result, sizeof(e->result), result);
	if (fd < 0)
		return;
	struct outbuf b;
	ob_init(&b);
	entry_json(&b, e);
	ob_char(&b, '\n');
	if (b.oom || write(fd, b.p, b.len) != (ssize_t)b.len) {
		if (n_write_errors++ == 0)
			ctl_logl(CTL_LOG_ERROR, "cannot append to the audit log %s: %s (the ring in memory still has it)",
				 path, b.oom ? "out of memory" : strerror(errno));
	} else if ((file_bytes += b.len) >= AUDIT_FILE_MAX) {
		rotate();
	}
	ob_free(&b);
}

void audit_render(struct outbuf *b, unsigned limit, bool json)
{
	uint64_t have = n_total < AUDIT_RING ? n_total : AUDIT_RING;
	if (limit && limit < have)
		have = limit;
	if (json) {
		ob_puts(b, "{\"entries\": [");
	} else if (!have) {
		ob_puts(b, "no audit entries yet\n");
	}
	for (uint64_t i = 0; i < have; i++) {
		const struct audit_entry *e = &ring[(n_total - have + i) % AUDIT_RING];
		if (json) {
			ob_puts(b, i ? ",\n  " : "\n  ");
			entry_json(b, e);
		} else {
			char ts[40];
			ob_printf(b, "%s  %-24s %-22s %s -> %s\n", entry_time(e, ts), e->who, e->from, e->what, e->result);
		}
	}
	if (json) {
		ob_printf(b, "%s], \"total\": %llu, \"write_errors\": %llu, \"file\": ", have ? "\n" : "",
			  (unsigned long long)n_total, (unsigned long long)n_write_errors);
		ob_json_str(b, fd >= 0 ? path : "");
		ob_puts(b, "}\n");
	}
}

