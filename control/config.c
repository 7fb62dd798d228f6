/*
 * config.c - read and check mmr-controller's configuration (see config.h).
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

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

int ctl_config_load(const char *path, struct ctl_config *cfg, char *err, size_t errlen)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->socket, sizeof(cfg->socket), "%s", CTL_DEFAULT_SOCKET);
	snprintf(cfg->state_file, sizeof(cfg->state_file), "/var/lib/mmr/state");
	snprintf(cfg->shm_name, sizeof(cfg->shm_name), "%s", MMR_SHM_DEFAULT_NAME);
	cfg->apply_timeout_ms = 1000;
	cfg->journal_max_records = 1000000;
	cfg->journal_max_bytes = 64u << 20;

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
		} else if (strcmp(name, "socket_group") == 0) {
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
		} else {
			bad(err, errlen, s, "unknown setting '%s' (known: socket, socket_group, state_file, "
					    "shm_name, apply_timeout_ms, journal_max_records, journal_max_bytes)", name);
			goto out;
		}
	}
	rc = 0;
out:
	config_destroy(&c);
	return rc;
}
