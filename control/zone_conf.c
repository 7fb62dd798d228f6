/*
 * zone_conf.c - the zone block's checks and the placement decision (see zone_conf.h).
 */
#define _GNU_SOURCE
#include "zone_conf.h"

#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

__attribute__((format(printf, 4, 5)))
static int bad(char *err, size_t errlen, const config_setting_t *s, const char *fmt, ...)
{
	char why[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	const char *file = config_setting_source_file(s);
	snprintf(err, errlen, "%s:%u: zone: %s", file ? file : "(config)", config_setting_source_line(s), why);
	return -1;
}

bool zone_host_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > ZONE_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '.' ||
		      *s == '_' || *s == '-'))
			return false;
	return true;
}

static bool url_ok(const char *u)
{
	const char *rest = strncmp(u, "http://", 7) == 0 ? u + 7 : strncmp(u, "https://", 8) == 0 ? u + 8 : NULL;
	return rest && rest[0] && rest[0] != '/' && !strpbrk(u, " \t\r\n\"'\\") && u[strlen(u) - 1] != '/';
}

static int get_str(const config_setting_t *s, char *dst, size_t cap, char *err, size_t errlen)
{
	const char *name = config_setting_name(s);
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return bad(err, errlen, s, "%s must be a string", name);
	const char *v = config_setting_get_string(s);
	if (!v[0])
		return bad(err, errlen, s, "%s must not be empty", name);
	if (strlen(v) >= cap)
		return bad(err, errlen, s, "%s is too long (at most %zu characters)", name, cap - 1);
	strcpy(dst, v);
	return 0;
}

static int get_uint(const config_setting_t *s, long long lo, long long hi, uint32_t *dst, char *err, size_t errlen)
{
	long long v = config_setting_type(s) == CONFIG_TYPE_INT64 ? config_setting_get_int64(s) :
		      config_setting_type(s) == CONFIG_TYPE_INT ? config_setting_get_int(s) : lo - 1;
	if (v < lo || v > hi)
		return bad(err, errlen, s, "%s must be an integer %lld..%lld", config_setting_name(s), lo, hi);
	*dst = (uint32_t)v;
	return 0;
}

int zone_config_parse(void *setting, struct zone_config *zc, char *err, size_t errlen)
{
	config_setting_t *g = setting;
	memset(zc, 0, sizeof(*zc));
	zc->lease_s = 5;
	zc->media_port = 5000;
	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		return bad(err, errlen, g, "zone must be a group: zone = { etcd = [ ... ]; host = \"...\"; ... };");
	bool seen_mm = false, seen_mp = false;
	for (int i = 0; i < config_setting_length(g); i++) {
		config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(s);
		if (strcmp(name, "etcd") == 0) {
			int t = config_setting_type(s);
			if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST)
				return bad(err, errlen, s, "etcd must be an array of URLs, e.g. [ \"http://127.0.0.1:2379\" ]");
			int n = config_setting_length(s);
			if (n < 1 || n > ZONE_MAX_ETCD)
				return bad(err, errlen, s, "etcd: 1..%d members, not %d", ZONE_MAX_ETCD, n);
			for (int k = 0; k < n; k++) {
				config_setting_t *e = config_setting_get_elem(s, (unsigned)k);
				const char *u = config_setting_type(e) == CONFIG_TYPE_STRING ? config_setting_get_string(e) : NULL;
				if (!u || strlen(u) >= sizeof(zc->etcd[0]) || !url_ok(u))
					return bad(err, errlen, s, "etcd: member %d must be a URL \"http://HOST:PORT\" "
								   "(or https://; no path, no trailing slash)", k + 1);
				strcpy(zc->etcd[zc->n_etcd++], u);
			}
		} else if (strcmp(name, "host") == 0) {
			if (get_str(s, zc->host, sizeof(zc->host), err, errlen) < 0)
				return -1;
			if (!zone_host_name_ok(zc->host))
				return bad(err, errlen, s, "host '%s': letters, digits, '.', '_' and '-' only", zc->host);
		} else if (strcmp(name, "address") == 0) {
			if (get_str(s, zc->address, sizeof(zc->address), err, errlen) < 0)
				return -1;
			if (strspn(zc->address, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.:_-[]") !=
			    strlen(zc->address))
				return bad(err, errlen, s, "address '%s': an IP address or a host name (letters, digits, "
							   "'.', ':', '_', '-', '[', ']')", zc->address);
		} else if (strcmp(name, "http_url") == 0) {
			if (get_str(s, zc->http_url, sizeof(zc->http_url), err, errlen) < 0)
				return -1;
			if (!url_ok(zc->http_url))
				return bad(err, errlen, s, "http_url must be \"http://HOST:PORT\" or https:// (no path, no "
							   "trailing slash), not '%s'", zc->http_url);
		} else if (strcmp(name, "max_meetings") == 0) {
			if (get_uint(s, 1, 1000000, &zc->max_meetings, err, errlen) < 0)
				return -1;
			seen_mm = true;
		} else if (strcmp(name, "max_participants") == 0) {
			if (get_uint(s, 1, 100000000, &zc->max_participants, err, errlen) < 0)
				return -1;
			seen_mp = true;
		} else if (strcmp(name, "lease_s") == 0) {
			uint32_t v;
			if (get_uint(s, 2, 300, &v, err, errlen) < 0)
				return -1;
			zc->lease_s = v;
		} else if (strcmp(name, "secret_file") == 0) {
			if (get_str(s, zc->secret_file, sizeof(zc->secret_file), err, errlen) < 0)
				return -1;
			if (zc->secret_file[0] != '/')
				return bad(err, errlen, s, "secret_file must be an absolute path, not '%s'", zc->secret_file);
		} else if (strcmp(name, "media_port") == 0) {
			uint32_t v;
			if (get_uint(s, 1, 65535, &v, err, errlen) < 0)
				return -1;
			zc->media_port = (uint16_t)v;
		} else {
			return bad(err, errlen, s, "unknown setting '%s' (known: etcd, host, address, http_url, "
						   "max_meetings, max_participants, lease_s, media_port, secret_file)", name);
		}
	}
	const char *missing = !zc->n_etcd ? "etcd" : !zc->host[0] ? "host" : !zc->address[0] ? "address" :
			      !zc->http_url[0] ? "http_url" : !seen_mm ? "max_meetings" : !seen_mp ? "max_participants" :
			      NULL;
	if (missing)
		return bad(err, errlen, g, "%s is missing (a zone needs etcd, host, address, http_url, max_meetings "
					   "and max_participants)", missing);
	zc->on = true;
	return 0;
}

/* a's free share of participants against b's: <0, 0, >0 (integers: cross-multiplied) */
static int cmp_share(uint32_t used_a, uint32_t cap_a, uint32_t used_b, uint32_t cap_b)
{
	uint64_t fa = (uint64_t)(cap_a - used_a) * cap_b, fb = (uint64_t)(cap_b - used_b) * cap_a;
	return fa < fb ? -1 : fa > fb;
}

int zone_place(const struct zone_place_host *h, unsigned n)
{
	int best = -1;
	for (unsigned i = 0; i < n; i++) {
		const struct zone_place_host *c = &h[i];
		if (!c->alive || c->draining || !c->cap_meetings || !c->cap_participants ||
		    c->meetings >= c->cap_meetings || c->participants >= c->cap_participants)
			continue;
		if (best < 0) {
			best = (int)i;
			continue;
		}
		const struct zone_place_host *b = &h[best];
		int d = cmp_share(c->participants, c->cap_participants, b->participants, b->cap_participants);
		if (d == 0)
			d = cmp_share(c->meetings, c->cap_meetings, b->meetings, b->cap_meetings);
		if (d == 0)
			d = strcmp(c->name, b->name) < 0;
		if (d > 0)
			best = (int)i;
	}
	return best;
}
