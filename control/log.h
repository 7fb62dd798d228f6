/*
 * log.h - the controller's log: one line per event with a severity. On stderr ("HH:MM:SS.mmm
 * mmr-controller: ...", flushed at once) in a terminal and under tests; through syslog(3)
 * (LOG_DAEMON, so journald keeps the severities) when run by systemd with stderr on the journal
 * (log_target = "auto": JOURNAL_STREAM names stderr) or when the config says log_target = "syslog".
 * Lines below the current level are not written; the level changes at run time (`mmrctl log level`,
 * SIGHUP rereads the config's log_level).
 */
#ifndef MMR_CTL_LOG_H
#define MMR_CTL_LOG_H

enum ctl_log_level { CTL_LOG_DEBUG, CTL_LOG_INFO, CTL_LOG_WARNING, CTL_LOG_ERROR };
enum ctl_log_target { CTL_LOG_AUTO, CTL_LOG_STDERR, CTL_LOG_SYSLOG };

/* "debug", "info", "warning" (or "warn"), "error": the level, or -1. */
int ctl_log_level_parse(const char *s);
const char *ctl_log_level_name(int level);
/* "auto", "stderr", "syslog": the target, or -1. */
int ctl_log_target_parse(const char *s);

/* Where the log goes (auto: see above) and from which level; may be called again. */
void ctl_log_setup(int target, int level);
void ctl_log_set_level(int level);
int ctl_log_get_level(void);
/* "stderr" or "syslog" */
const char *ctl_log_target_name(void);

/* An info line. */
void ctl_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ctl_logl(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
