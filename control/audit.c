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
#include <time.h>
#include <unistd.h>

#include "log.h"

static struct audit_entry ring[AUDIT_RING];
static uint64_t n_total, n_write_errors;
static int fd = -1;
static char path[1100];

int audit_open(const char *state_file, char *err, size_t errlen)
{
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s", state_file);
	snprintf(path, sizeof(path), "%s/%s", dirname(dir), AUDIT_FILE_NAME);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
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

static void entry_json(struct outbuf *b, const struct audit_entry *e)
{
	time_t s = (time_t)(e->t_ms / 1000);
	struct tm tm;
	gmtime_r(&s, &tm);
	char ts[40];
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	ob_printf(b, "{\"seq\": %llu, \"time\": \"%s.%03dZ\", \"who\": ", (unsigned long long)e->seq, ts,
		  (int)(e->t_ms % 1000));
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
			time_t s = (time_t)(e->t_ms / 1000);
			struct tm tm;
			gmtime_r(&s, &tm);
			char ts[40];
			strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
			ob_printf(b, "%s.%03dZ  %-24s %-22s %s -> %s\n", ts, (int)(e->t_ms % 1000), e->who, e->from, e->what,
				  e->result);
		}
	}
	if (json) {
		ob_printf(b, "%s], \"total\": %llu, \"write_errors\": %llu, \"file\": ", have ? "\n" : "",
			  (unsigned long long)n_total, (unsigned long long)n_write_errors);
		ob_json_str(b, fd >= 0 ? path : "");
		ob_puts(b, "}\n");
	}
}

uint64_t audit_count(void)
{
	return n_total;
}

uint64_t audit_write_errors(void)
{
	return n_write_errors;
}
