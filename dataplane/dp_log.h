/*
 * dp_log.h - the dataplane's log: rte_log with log types of its own ("mmr.dp", "mmr.worker",
 * "mmr.ctl"), levels, and an ISO-8601 UTC timestamp on every line (EAL's lines too).
 *
 * The level comes from the config's `log_level` (default info), then from EAL's --log-level for
 * a type (e.g. --log-level mmr.ctl:debug), and from the config again on SIGHUP (dp_log_set_level).
 * Lines look like "2026-12-07T17:40:01.123456Z mmr-dataplane[mmr.ctl] info: MESSAGE".
 */
#ifndef MMR_DP_LOG_H
#define MMR_DP_LOG_H

#include <stdint.h>
#include <string.h>

enum dp_log_type { DP_LT_DP, DP_LT_WORKER, DP_LT_CTL, DP_LT__COUNT };

/* rte_log.h's RTE_LOG_* values (dp_log.c checks they agree); config.c needs no DPDK header */
#define DP_LOG_ERR      4u
#define DP_LOG_WARNING  5u
#define DP_LOG_NOTICE   6u
#define DP_LOG_INFO     7u
#define DP_LOG_DEBUG    8u

/* "error", "warning", "notice", "info", "debug" -> DP_LOG_*; -1 for anything else */
static inline int dp_log_level_parse(const char *s, uint32_t *out)
{
	static const char *const names[] = { "error", "warning", "notice", "info", "debug" };
	for (uint32_t i = 0; i < 5; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = DP_LOG_ERR + i;
			return 0;
		}
	return -1;
}

const char *dp_log_level_name(uint32_t level);

/* Before rte_eal_init: every line through rte_log from now on gets its timestamp. */
void dp_log_stream_init(void);
/* After rte_eal_init: register the types at `level` (EAL's --log-level for them wins). */
int dp_log_types_init(uint32_t level);
/* SIGHUP: every mmr.* type at `level`. */
void dp_log_set_level(uint32_t level);
/* mmr.dp's level now (what /mmr/status and the reload line report) */
uint32_t dp_log_get_level(enum dp_log_type t);

void dp_logf(enum dp_log_type t, uint32_t level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* mmr.dp at info: what every dataplane file used before the log had types and levels */
void dp_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define DP_ERR(t, ...)   dp_logf((t), DP_LOG_ERR, __VA_ARGS__)
#define DP_WARN(t, ...)  dp_logf((t), DP_LOG_WARNING, __VA_ARGS__)
#define DP_INFO(t, ...)  dp_logf((t), DP_LOG_INFO, __VA_ARGS__)
#define DP_DEBUG(t, ...) dp_logf((t), DP_LOG_DEBUG, __VA_ARGS__)

#endif
