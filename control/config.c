/*
 * config.c - read and check mmr-controller's configuration (see config.h).
 */
#define _GNU_SOURCE
#include "config.h"
#include "join.h"
#include "log.h"

#include <errno.h>
#include <arpa/inet.h>
#include <grp.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <limits.h>
#include <unistd.h>

#include "cmd_chan.h"
#include "ctl_proto.h"

static const char *cur_path;   /* the file being read, when libconfig does not say */

__attribute__((format(printf, 4, 5)))
static int bad(char *err, size_t errlen, const config_setting_t *s, const char *fmt, ...)
{
	char why[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	const char *file = config_setting_source_file(s);
	snprintf(err, errlen, "%s:%u: %s", file ? file : cur_path, config_setting_source_line(s), why);
	return -1;
}

static int get_string(const config_setting_t *s, char *dst, size_t cap, bool may_be_empty,
		      char *err, size_t errlen)
{
	const char *name = config_setting_name(s);
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return bad(err, errlen, s, "%s must be a string", name);
	const char *v = config_setting_get_string(s);
	if (!may_be_empty && v[0] == '\0')
		return bad(err, errlen, s, "%s must not be empty", name);
	if (strlen(v) >= cap)
		return bad(err, errlen, s, "%s is too long (at most %zu characters)", name, cap - 1);
	strcpy(dst, v);
	return 0;
}

/* "IPV4:PORT" or "[IPV6]:PORT" into the config's address. 0, or -1 with err. */
static int parse_listen(const config_setting_t *s, struct ctl_config *cfg, char *err, size_t errlen)
{
	char host[64];
	const char *v = cfg->http_listen, *colon;
	if (v[0] == '[') {
		const char *end = strchr(v, ']');
		if (!end || end[1] != ':' || (size_t)(end - v - 1) >= sizeof(host))
			return bad(err, errlen, s, "http_listen '%s' must be \"IPV4:PORT\" or \"[IPV6]:PORT\"", v);
		memcpy(host, v + 1, (size_t)(end - v - 1));
		host[end - v - 1] = '\0';
		colon = end + 1;
	} else {
		colon = strrchr(v, ':');
		if (!colon || (size_t)(colon - v) >= sizeof(host))
			return bad(err, errlen, s, "http_listen '%s' must be \"IPV4:PORT\" or \"[IPV6]:PORT\"", v);
		memcpy(host, v, (size_t)(colon - v));
		host[colon - v] = '\0';
	}
	char *end;
	errno = 0;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || port > 65535 || colon[1] == '-' || colon[1] == '+')
		return bad(err, errlen, s, "http_listen '%s': bad port (0-65535; 0 picks a free one)", v);
	memset(&cfg->http_addr, 0, sizeof(cfg->http_addr));
	struct sockaddr_in *a4 = (struct sockaddr_in *)&cfg->http_addr;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&cfg->http_addr;
	if (v[0] != '[' && inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
	} else if (v[0] == '[' && inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
	} else {
		return bad(err, errlen, s, "http_listen '%s': '%s' is not an IPv4 address (or an IPv6 one in [])", v,
			   host);
	}
	cfg->http_loopback = ctl_addr_is_loopback(&cfg->http_addr);
	return 0;
}

bool ctl_addr_is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	if (ss->ss_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
		return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

/* demo_dir's default: the tree's web/ beside the build directory the controller runs from
 * (build/mmr-controller -> web/), if there is one; else "" (no /demo). */
static void default_demo_dir(char *out, size_t cap)
{
	char exe[900], path[1024];
	out[0] = '\0';
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return;
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (!slash)
		return;
	*slash = '\0';
	snprintf(path, sizeof(path), "%s/../web", exe);
	char real[PATH_MAX];
	struct stat st;
	if (realpath(path, real) && stat(real, &st) == 0 && S_ISDIR(st.st_mode) && strlen(real) < cap)
		strcpy(out, real);
}

/* join_candidate "IPV4:PORT" (port 1-65535). 0, or -1 with err. */
static int parse_candidate(const config_setting_t *s, struct ctl_config *cfg, char *err, size_t errlen)
{
	const char *v = cfg->join_candidate, *colon = strrchr(v, ':');
	struct in_addr a;
	if (!colon || (size_t)(colon - v) >= sizeof(cfg->join_cand_ip))
		return bad(err, errlen, s, "join_candidate '%s' must be \"IPV4:PORT\" (the dataplane port's address "
				   "and udp_port as clients reach them)", v);
	memcpy(cfg->join_cand_ip, v, (size_t)(colon - v));
	cfg->join_cand_ip[colon - v] = '\0';
	char *end;
	errno = 0;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (inet_pton(AF_INET, cfg->join_cand_ip, &a) != 1)
		return bad(err, errlen, s, "join_candidate '%s': '%s' is not an IPv4 address", v, cfg->join_cand_ip);
	if (!colon[1] || *end || errno || port == 0 || port > 65535 || colon[1] == '-' || colon[1] == '+')
		return bad(err, errlen, s, "join_candidate '%s': bad port (1-65535)", v);
	cfg->join_cand_port = (uint16_t)port;
	return 0;
}

int ctl_config_load(const char *path, struct ctl_config *cfg, char *err, size_t errlen)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->socket, sizeof(cfg->socket), "%s", CTL_DEFAULT_SOCKET);
	snprintf(cfg->state_file, sizeof(cfg->state_file), "/var/lib/mmr/state");
	snprintf(cfg->shm_name, sizeof(cfg->shm_name), "%s", MMR_SHM_DEFAULT_NAME);
	cfg->apply_timeout_ms = 1000;
	cfg->journal_max_records = 1000000;
	default_demo_dir(cfg->demo_dir, sizeof(cfg->demo_dir));
	cfg->join_rate_ip = JOIN_RATE_IP;
	cfg->join_burst_ip = JOIN_BURST_IP;
	cfg->join_rate_token = JOIN_RATE_TOKEN;
	cfg->join_burst_token = JOIN_BURST_TOKEN;
	cfg->journal_max_bytes = 64u << 20;
	cfg->log_level = CTL_LOG_INFO;
	cfg->log_target = CTL_LOG_AUTO;
	cfg->meeting_max_participants = CTL_MEETING_MAX_PARTICIPANTS;
	cfg->meeting_max_streams = CTL_MEETING_MAX_STREAMS;
	cfg->meeting_max_subscriptions = CTL_MEETING_MAX_SUBS;

	/* libconfig says little about a file it cannot open: check that first */
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	fclose(f);
	struct stat st;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: cannot read: is a directory", path);
		return -1;
	}

	config_t c;
	int rc = -1;
	cur_path = path;
	config_init(&c);
	if (!config_read_file(&c, path)) {
		if (config_error_type(&c) == CONFIG_ERR_FILE_IO)
			snprintf(err, errlen, "%s: cannot read", path);
		else
			snprintf(err, errlen, "%s:%d: %s", config_error_file(&c) ? config_error_file(&c) : path,
				 config_error_line(&c), config_error_text(&c));
		goto out;
	}
	config_setting_t *root = config_root_setting(&c);
	const config_setting_t *listen_s = NULL, *tls_s = NULL, *group_s = NULL;
	for (int i = 0; i < config_setting_length(root); i++) {
		config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
		const char *name = config_setting_name(s);
		if (strcmp(name, "socket") == 0) {
			if (get_string(s, cfg->socket, sizeof(cfg->socket), false, err, errlen) < 0)
				goto out;
			if (cfg->socket[0] != '/') {
				bad(err, errlen, s, "socket must be an absolute path");
				goto out;
			}
		} else if (strcmp(name, "admin_group") == 0 || strcmp(name, "socket_group") == 0) {
			/* socket_group: the older name of admin_group */
			if (group_s) {
				bad(err, errlen, s, "admin_group given twice (socket_group is its older name)");
				goto out;
			}
			group_s = s;
			if (get_string(s, cfg->socket_group, sizeof(cfg->socket_group), true, err, errlen) < 0)
				goto out;
			if (cfg->socket_group[0]) {
				struct group *g = getgrnam(cfg->socket_group);
				if (!g) {
					bad(err, errlen, s, "no group '%s' on this system", cfg->socket_group);
					goto out;
				}
				cfg->has_group = true;
				cfg->group_gid = g->gr_gid;
			}
		} else if (strcmp(name, "state_file") == 0) {
			if (get_string(s, cfg->state_file, sizeof(cfg->state_file), false, err, errlen) < 0)
				goto out;
		} else if (strcmp(name, "shm_name") == 0) {
			if (get_string(s, cfg->shm_name, sizeof(cfg->shm_name), false, err, errlen) < 0)
				goto out;
			if (cfg->shm_name[0] != '/' || strchr(cfg->shm_name + 1, '/') || cfg->shm_name[1] == '\0') {
				bad(err, errlen, s, "shm_name must look like \"/name\" (one leading slash, no other)");
				goto out;
			}
		} else if (strcmp(name, "apply_timeout_ms") == 0) {
			if (config_setting_type(s) != CONFIG_TYPE_INT) {
				bad(err, errlen, s, "apply_timeout_ms must be an integer");
				goto out;
			}
			int v = config_setting_get_int(s);
			if (v < 0 || v > 60000) {
				bad(err, errlen, s, "apply_timeout_ms must be 0..60000, not %d", v);
				goto out;
			}
			cfg->apply_timeout_ms = (unsigned)v;
		} else if (strcmp(name, "meeting_max_participants") == 0 || strcmp(name, "meeting_max_streams") == 0 ||
			   strcmp(name, "meeting_max_subscriptions") == 0) {
			bool parts = strcmp(name, "meeting_max_participants") == 0;
			bool streams = strcmp(name, "meeting_max_streams") == 0;
			long long max = parts ? MMR_MAX_PARTICIPANTS : streams ? MMR_MAX_STREAMS : MMR_MAX_SUBS;
			long long v = config_setting_type(s) == CONFIG_TYPE_INT64 ? config_setting_get_int64(s) :
				      config_setting_type(s) == CONFIG_TYPE_INT ? config_setting_get_int(s) : -1;
			if (v < 1 || v > max) {
				bad(err, errlen, s, "%s must be an integer 1..%lld", name, max);
				goto out;
			}
			*(parts ? &cfg->meeting_max_participants : streams ? &cfg->meeting_max_streams :
			  &cfg->meeting_max_subscriptions) = (uint32_t)v;
		} else if (strcmp(name, "journal_max_records") == 0 || strcmp(name, "journal_max_bytes") == 0) {
			long long v = config_setting_type(s) == CONFIG_TYPE_INT64 ? config_setting_get_int64(s) :
				      config_setting_type(s) == CONFIG_TYPE_INT ? config_setting_get_int(s) : -1;
			if (v < 1) {
				bad(err, errlen, s, "%s must be a positive integer", name);
				goto out;
			}
			if (strcmp(name, "journal_max_records") == 0)
				cfg->journal_max_records = (uint64_t)v;
			else
				cfg->journal_max_bytes = (uint64_t)v;
		} else if (strcmp(name, "http_listen") == 0) {
			if (get_string(s, cfg->http_listen, sizeof(cfg->http_listen), false, err, errlen) < 0 ||
			    parse_listen(s, cfg, err, errlen) < 0)
				goto out;
			cfg->http = true;
			listen_s = s;
		} else if (strcmp(name, "http_tls_cert") == 0) {
			if (get_string(s, cfg->http_tls_cert, sizeof(cfg->http_tls_cert), false, err, errlen) < 0)
				goto out;
			tls_s = s;
		} else if (strcmp(name, "http_tls_key") == 0) {
			if (get_string(s, cfg->http_tls_key, sizeof(cfg->http_tls_key), false, err, errlen) < 0)
				goto out;
			tls_s = s;
		} else if (strcmp(name, "token_secret_file") == 0) {
			if (get_string(s, cfg->token_secret_file, sizeof(cfg->token_secret_file), false, err, errlen) < 0)
				goto out;
			tls_s = tls_s ? tls_s : s;
		} else if (strcmp(name, "http_cors_origins") == 0) {
			if (config_setting_type(s) != CONFIG_TYPE_ARRAY && config_setting_type(s) != CONFIG_TYPE_LIST) {
				bad(err, errlen, s, "http_cors_origins must be an array of strings, e.g. "
						    "[ \"https://meet.example.com\" ]");
				goto out;
			}
			int n = config_setting_length(s);
			if (n > CTL_MAX_CORS) {
				bad(err, errlen, s, "http_cors_origins: at most %d origins", CTL_MAX_CORS);
				goto out;
			}
			for (int k = 0; k < n; k++) {
				config_setting_t *e = config_setting_get_elem(s, (unsigned)k);
				const char *o = config_setting_type(e) == CONFIG_TYPE_STRING ? config_setting_get_string(e) : NULL;
				if (!o || !o[0] || strlen(o) >= sizeof(cfg->cors_origins[0]) ||
				    (strcmp(o, "*") != 0 && strncmp(o, "http://", 7) != 0 && strncmp(o, "https://", 8) != 0) ||
				    strpbrk(o, " \t\r\n,")) {
					bad(err, errlen, s, "http_cors_origins: each must be \"*\" or an origin such as "
							    "\"https://meet.example.com\" (no path, no blanks)");
					goto out;
				}
				strcpy(cfg->cors_origins[cfg->n_cors++], o);
			}
		} else if (strcmp(name, "join_candidate") == 0) {
			if (get_string(s, cfg->join_candidate, sizeof(cfg->join_candidate), false, err, errlen) < 0 ||
			    parse_candidate(s, cfg, err, errlen) < 0)
				goto out;
		} else if (strcmp(name, "join_rate_ip") == 0 || strcmp(name, "join_burst_ip") == 0 ||
			   strcmp(name, "join_rate_token") == 0 || strcmp(name, "join_burst_token") == 0) {
			int t = config_setting_type(s);
			double v = t == CONFIG_TYPE_FLOAT ? config_setting_get_float(s) :
				   t == CONFIG_TYPE_INT ? config_setting_get_int(s) : -1.0;
			bool burst = strstr(name, "burst") != NULL;
			if (!(v >= (burst ? 1.0 : 0.001) && v <= 1e6)) {
				bad(err, errlen, s, "%s must be a number %s..1000000", name, burst ? "1" : "0.001");
				goto out;
			}
			*(strcmp(name, "join_rate_ip") == 0 ? &cfg->join_rate_ip : strcmp(name, "join_burst_ip") == 0 ?
			  &cfg->join_burst_ip : strcmp(name, "join_rate_token") == 0 ? &cfg->join_rate_token :
			  &cfg->join_burst_token) = v;
		} else if (strcmp(name, "demo_dir") == 0) {
			if (get_string(s, cfg->demo_dir, sizeof(cfg->demo_dir), true, err, errlen) < 0)
				goto out;
			if (cfg->demo_dir[0] && cfg->demo_dir[0] != '/') {
				bad(err, errlen, s, "demo_dir must be an absolute path (or \"\": no /demo)");
				goto out;
			}
		} else if (strcmp(name, "metrics_public") == 0) {
			if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
				bad(err, errlen, s, "metrics_public must be true or false");
				goto out;
			}
			cfg->metrics_public = config_setting_get_bool(s);
		} else if (strcmp(name, "log_level") == 0 || strcmp(name, "log_target") == 0) {
			char v[32];
			if (get_string(s, v, sizeof(v), false, err, errlen) < 0)
				goto out;
			bool level = strcmp(name, "log_level") == 0;
			int x = level ? ctl_log_level_parse(v) : ctl_log_target_parse(v);
			if (x < 0) {
				bad(err, errlen, s, level ? "log_level must be debug, info, warning or error, not '%s'" :
							    "log_target must be auto, stderr or syslog, not '%s'", v);
				goto out;
			}
			*(level ? &cfg->log_level : &cfg->log_target) = x;
		} else if (strcmp(name, "zone") == 0) {
			if (zone_config_parse(s, &cfg->zone, err, errlen) < 0)
				goto out;
		} else {
			bad(err, errlen, s, "unknown setting '%s' (known: socket, admin_group, state_file, "
					    "shm_name, apply_timeout_ms, journal_max_records, journal_max_bytes, http_listen, "
					    "http_tls_cert, http_tls_key, token_secret_file, http_cors_origins, "
					    "join_candidate, demo_dir, join_rate_ip, join_burst_ip, join_rate_token, "
					    "join_burst_token, metrics_public, log_level, log_target, meeting_max_participants, "
					    "meeting_max_streams, meeting_max_subscriptions, zone)", name);
			goto out;
		}
	}
	/* the control socket's admin group: by default "mmr" when the system has it, else root only */
	if (!group_s) {
		struct group *g = getgrnam(CTL_DEFAULT_ADMIN_GROUP);
		if (g) {
			snprintf(cfg->socket_group, sizeof(cfg->socket_group), "%s", CTL_DEFAULT_ADMIN_GROUP);
			cfg->has_group = true;
			cfg->group_gid = g->gr_gid;
		}
	}
	/* the HTTP API: authenticated always, TLS unless it listens on loopback only */
	if (!cfg->http && tls_s) {
		bad(err, errlen, tls_s, "http_tls_cert, http_tls_key and token_secret_file need http_listen");
		goto out;
	}
	if (cfg->http && !cfg->token_secret_file[0]) {
		bad(err, errlen, listen_s, "http_listen needs token_secret_file (the zone secret that signs the "
					   "API's access tokens)");
		goto out;
	}
	if (cfg->http && !cfg->http_tls_cert[0] != !cfg->http_tls_key[0]) {
		bad(err, errlen, listen_s, "http_tls_cert and http_tls_key go together");
		goto out;
	}
	if (cfg->http && !cfg->http_tls_cert[0] && !cfg->http_loopback) {
		bad(err, errlen, listen_s, "http_listen '%s' is not a loopback address: plain HTTP is allowed on "
					   "loopback only; give http_tls_cert and http_tls_key for HTTPS", cfg->http_listen);
		goto out;
	}
	rc = 0;
out:
	config_destroy(&c);
	return rc;
}
