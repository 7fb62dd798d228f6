/*
 * dp_log.c - the dataplane's log through rte_log (see dp_log.h): registered types, levels, and a
 * cookie stream that puts a UTC timestamp at the start of every line it writes to stderr.
 */
#define _GNU_SOURCE
#include "dp_log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <rte_log.h>

_Static_assert(DP_LOG_ERR == RTE_LOG_ERR && DP_LOG_WARNING == RTE_LOG_WARNING &&
	       DP_LOG_NOTICE == RTE_LOG_NOTICE && DP_LOG_INFO == RTE_LOG_INFO &&
	       DP_LOG_DEBUG == RTE_LOG_DEBUG, "DP_LOG_* are RTE_LOG_*");

static const char *const type_names[DP_LT__COUNT] = { "mmr.dp", "mmr.worker", "mmr.ctl" };
static int type_id[DP_LT__COUNT] = { -1, -1, -1 };
static int at_line_start = 1;     /* the stream's state: under its FILE lock */

const char *dp_log_level_name(uint32_t level)
{
	static const char *const names[] = { "error", "warning", "notice", "info", "debug" };
	if (level >= DP_LOG_ERR && level <= DP_LOG_DEBUG)
		return names[level - DP_LOG_ERR];
	return level < DP_LOG_ERR ? "critical" : "?";
}

static int write_all(const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(STDERR_FILENO, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static ssize_t stamp_write(void *cookie, const char *buf, size_t size)
{
	(void)cookie;
	size_t i = 0;
	while (i < size) {
		if (at_line_start) {
			struct timespec ts;
			struct tm tm;
			char t[40];
			clock_gettime(CLOCK_REALTIME, &ts);
			gmtime_r(&ts.tv_sec, &tm);
			size_t n = strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
			n += (size_t)snprintf(t + n, sizeof(t) - n, ".%06ldZ ", ts.tv_nsec / 1000);
			if (write_all(t, n) < 0)
				return -1;
			at_line_start = 0;
		}
		const char *nl = memchr(buf + i, '\n', size - i);
		size_t len = nl ? (size_t)(nl - (buf + i)) + 1 : size - i;
		if (write_all(buf + i, len) < 0)
			return -1;
		i += len;
		if (nl)
			at_line_start = 1;
	}
	return (ssize_t)size;
}

void dp_log_stream_init(void)
{
	cookie_io_functions_t io = { .write = stamp_write };
	FILE *f = fopencookie(NULL, "w", io);
	if (!f)
		return;            /* rte_log's own stream then: no timestamps, nothing lost */
	setvbuf(f, NULL, _IOLBF, 0);
	rte_openlog_stream(f);
}

int dp_log_types_init(uint32_t level)
{
	for (int t = 0; t < DP_LT__COUNT; t++) {
		int id = rte_log_register_type_and_pick_level(type_names[t], level);
		if (id < 0)
			return -1;
		type_id[t] = id;
	}
	return 0;
}

void dp_log_set_level(uint32_t level)
{
	for (int t = 0; t < DP_LT__COUNT; t++)
		if (type_id[t] >= 0)
			rte_log_set_level(type_id[t], level);
}

uint32_t dp_log_get_level(enum dp_log_type t)
{
	int l = type_id[t] >= 0 ? rte_log_get_level(type_id[t]) : -1;
	return l < 0 ? DP_LOG_INFO : (uint32_t)l;
}

static void vlogf(enum dp_log_type t, uint32_t level, const char *fmt, va_list ap)
{
	char line[512];
	vsnprintf(line, sizeof(line), fmt, ap);
	/* before the types exist (config, EAL init): USER1, which rte_log has from the start */
	int id = type_id[t] >= 0 ? type_id[t] : RTE_LOGTYPE_USER1;
	rte_log(level, (uint32_t)id, "mmr-dataplane[%s] %s: %s\n", type_names[t], dp_log_level_name(level),
		line);
}

void dp_logf(enum dp_log_type t, uint32_t level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlogf(t, level, fmt, ap);
	va_end(ap);
}

void dp_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlogf(DP_LT_DP, DP_LOG_INFO, fmt, ap);
	va_end(ap);
}
