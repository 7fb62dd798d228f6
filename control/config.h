/*
 * config.h - mmr-controller's configuration file (libconfig syntax; keys in docs/interfaces.md):
 * socket, admin_group (socket_group: its older name), state_file, shm_name, apply_timeout_ms, journal_max_records,
 * journal_max_bytes, and the HTTP API's http_listen, http_tls_cert, http_tls_key, token_secret_file,
 * http_cors_origins (http_server.h), join_candidate, join_rate_ip, join_burst_ip, join_rate_token and
 * join_burst_token (join.h), demo_dir (static_files.h), metrics_public (metrics.h), log_level and
 * log_target (log.h), meeting_max_participants, meeting_max_streams and meeting_max_subscriptions
 * (requests.c), zone (zone_conf.h). Unknown keys, wrong types and bad values are
 * errors reported as "FILE:LINE: why".
 */
#ifndef MMR_CTL_CONFIG_H
#define MMR_CTL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include "zone_conf.h"

/* the per-meeting quotas' defaults: a large meeting fits; no meeting takes more than a quarter of the
 * zone's subscriptions (MMR_MAX_SUBS, 1,048,576) */
#define CTL_MEETING_MAX_PARTICIPANTS 1000u
#define CTL_MEETING_MAX_STREAMS      8192u
#define CTL_MEETING_MAX_SUBS         262144u

struct ctl_config {
	char socket[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char socket_group[64];      /* the config's admin_group (or its older name socket_group): members
				     * may use the control socket (mode 0660, this group); "" = root
				     * (and the controller's own uid) only; not given: "mmr" if the
				     * system has that group, else "" */
	bool has_group;
	gid_t group_gid;
	char state_file[1024];
	char shm_name[64];
	unsigned apply_timeout_ms;
	uint64_t journal_max_records;   /* compaction thresholds (state_store.h) */
	uint64_t journal_max_bytes;
	/* the HTTP API (off unless http_listen is given) */
	bool http;
	char http_listen[96];           /* as written: "127.0.0.1:8080", "[::1]:8080" */
	struct sockaddr_storage http_addr;
	bool http_loopback;
	char http_tls_cert[1024];       /* "" = plain HTTP (loopback only) */
	char http_tls_key[1024];
	char token_secret_file[1024];
#define CTL_MAX_CORS 8
	char cors_origins[CTL_MAX_CORS][256];   /* "*" = any */
	unsigned n_cors;
	/* joining (join.h): the host candidate the answers give (the dataplane port's address as the
	 * browsers reach it, e.g. a public one before a 1:1 NAT; "" = the join endpoints answer 503),
	 * and the directory /demo serves ("" = none: 404) */
	char join_candidate[96];        /* as written: "198.51.100.2:5000" */
	char join_cand_ip[64];
	uint16_t join_cand_port;
	char demo_dir[1024];
	/* join rate limits (token buckets, rate_limit.h): per client address and per token identity */
	double join_rate_ip, join_burst_ip, join_rate_token, join_burst_token;
	/* GET /metrics (metrics.h) without a token from anywhere, not only from loopback */
	bool metrics_public;
	/* the log (log.h): its level ("debug", "info", "warning", "error") and where it goes */
	int log_level;                  /* enum ctl_log_level */
	int log_target;                 /* enum ctl_log_target */
	/* per-meeting quotas (issue 15): a change that would take a meeting beyond one is refused */
	uint32_t meeting_max_participants;
	uint32_t meeting_max_streams;
	uint32_t meeting_max_subscriptions;
	/* the zone of several hosts in etcd (issue 16, zone_conf.h); zone.on false: no zone */
	struct zone_config zone;
};

#define CTL_DEFAULT_ADMIN_GROUP "mmr"

/* Is the address loopback (127.0.0.0/8, ::1, ::ffff:127.x.x.x)? */
bool ctl_addr_is_loopback(const struct sockaddr_storage *ss);

/* 0, or -1 with one line in err. */
int ctl_config_load(const char *path, struct ctl_config *cfg, char *err, size_t errlen);

#endif
