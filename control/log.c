/*
 * log.c - the controller's log lines, on stderr or through syslog(3), with severities (see log.h).
 */
#include "log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static int cur_level = CTL_LOG_INFO;
static bool use_syslog;

static const char *const level_names[] = { "debug", "info", "warning", "error" };

int ctl_log_level_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	return strcmp(s, "warn") == 0 ? CTL_LOG_WARNING : -1;
}

const char *ctl_log_level_name(int level)
{
	return level >= 0 && level < 4 ? level_names[level] : "?";
}

int ctl_log_target_parse(const char *s)
{
	return strcmp(s, "auto") == 0 ? CTL_LOG_AUTO : strcmp(s, "stderr") == 0 ? CTL_LOG_STDERR :
	       strcmp(s, "syslog") == 0 ? CTL_LOG_SYSLOG : -1;
}

/* Is stderr the journal's stream systemd gave us? JOURNAL_STREAM is "DEV:INODE" of it
 * (systemd.exec(5)); a test or a shell redirecting stderr elsewhere keeps it. */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(2, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void ctl_log_setup(int target, int level)
{
	bool sys = target == CTL_LOG_SYSLOG || (target == CTL_LOG_AUTO && !isatty(2) && stderr_is_journal());
	if (sys && !use_syslog)
		openlog("mmr-controller", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	else if (!sys && use_syslog)
		closelog();
	use_syslog = sys;
	ctl_log_set_level(level);
}

void ctl_log_set_level(int level)
{
	if (level >= CTL_LOG_DEBUG && level <= CTL_LOG_ERROR)
		cur_level = level;
}

int ctl_log_get_level(void)
{
	return cur_level;
}

const char *ctl_log_target_name(void)
{
	return use_syslog ? "syslog" : "stderr";
}

static void vlog(int level, const char *fmt, va_list ap)
{
	if (level < cur_level)
		return;
	char line[1024];
	if (use_syslog) {
		static const int prio[] = { LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR };
		vsnprintf(line, sizeof(line), fmt, ap);
		syslog(prio[level], "%s", line);
		return;
	}
	struct timeval tv;
	struct tm tm;
	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	int n = snprintf(line, sizeof(line), "%02d:%02d:%02d.%03ld mmr-controller: %s", tm.tm_hour, tm.tm_min,
			 tm.tm_sec, (long)(tv.tv_usec / 1000),
			 level == CTL_LOG_ERROR ? "error: " : level == CTL_LOG_WARNING ? "warning: " :
			 level == CTL_LOG_DEBUG ? "debug: " : "");
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	fprintf(stderr, "%s\n", line);
}

void ctl_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(CTL_LOG_INFO, fmt, ap);
	va_end(ap);
}

void ctl_logl(int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}
