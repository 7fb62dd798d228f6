/*
 * log.h - the controller's log: one line per event on stderr, "mmr-controller: ..." with the
 * wall-clock time, flushed at once (stderr is unbuffered).
 */
#ifndef MMR_CTL_LOG_H
#define MMR_CTL_LOG_H

void ctl_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
