/*
 * zone_failover.c - the failover plan and its etcd txn (see zone_failover.h); unit-tested by
 * tests/unit/test_zone.c.
 */
#include "zone_failover.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etcd_client.h"

unsigned zone_failover_plan(struct zone_place_host *h, unsigned nh, const int *host_of, unsigned nm,
			    unsigned *move_meet, int *move_to, unsigned max)
{
	unsigned n = 0;
	for (unsigned k = 0; k < nm && n < max; k++) {
		int from = host_of[k];
		if (from < 0 || (unsigned)from >= nh || h[from].alive)
			continue;
		int to = zone_place(h, nh);
		if (to < 0)
			break;          /* no room anywhere: the rest wait for room */
		h[to].meetings++;
		if (h[from].meetings)
			h[from].meetings--;
		move_meet[n] = k;
		move_to[n] = to;
		n++;
	}
	return n;
}

int zone_failover_value(const struct zone_fo_move *mv, int64_t now, char *out, size_t cap)
{
	json_t *args = json_array();
	for (unsigned i = 0; args && i < mv->n_args; i++)
		json_array_append_new(args, json_string(mv->args[i]));
	json_t *v = args ? json_pack("{s:s, s:I, s:o, s:s, s:I}", "host", mv->to, "created", (json_int_t)mv->created,
				     "args", args, "moved_from", mv->from, "moved", (json_int_t)now) : NULL;
	size_t n = v && cap ? json_dumpb(v, out, cap - 1, JSON_COMPACT) : 0;
	json_decref(v);
	if (n == 0 || n >= cap)
		return -1;
	out[n] = '\0';
	return (int)n;
}

static json_t *b64(const char *s)
{
	char buf[6000];
	if (etcd_b64(s, strlen(s), buf, sizeof(buf)) < 0)
		return NULL;
	return json_string(buf);
}

static json_t *key(const char *prefix, const char *kind, const char *name)
{
	char k[512];
	if ((size_t)snprintf(k, sizeof(k), "%s%s%s", prefix, kind, name) >= sizeof(k))
		return NULL;
	return b64(k);
}

/* {"target": "CREATE", "key": K, "result": RES, "create_revision": "0"} */
static int cmp_exists(json_t *cmp, const char *prefix, const char *kind, const char *name, bool exists)
{
	json_t *k = key(prefix, kind, name);
	json_t *c = k ? json_pack("{s:s, s:o, s:s, s:s}", "target", "CREATE", "key", k, "result",
				  exists ? "GREATER" : "EQUAL", "create_revision", "0") : NULL;
	return c ? json_array_append_new(cmp, c) : -1;
}

static bool seen_before(const struct zone_fo_move *mv, unsigned i, bool to)
{
	for (unsigned k = 0; k < i; k++)
		if (strcmp(to ? mv[k].to : mv[k].from, to ? mv[i].to : mv[i].from) == 0)
			return true;
	return false;
}

json_t *zone_failover_txn(const char *prefix, int64_t rev, const struct zone_fo_move *mv, unsigned n, int64_t now)
{
	if (n == 0 || n > ZONE_FO_MAX_MOVES)
		return NULL;
	char mstart[300], mend[300], revs[32];
	snprintf(mstart, sizeof(mstart), "%smeetings/", prefix);
	snprintf(mend, sizeof(mend), "%smeetings0", prefix);
	snprintf(revs, sizeof(revs), "%lld", (long long)rev + 1);
	json_t *body = json_object(), *cmp = json_array(), *ok = json_array();
	json_t *ks = b64(mstart), *ke = b64(mend);
	int rc = body && cmp && ok && ks && ke ? 0 : -1;
	json_t *c = rc == 0 ? json_pack("{s:s, s:o, s:o, s:s, s:s}", "target", "MOD", "key", ks, "range_end", ke,
					"result", "LESS", "mod_revision", revs) : NULL;
	if (c) {
		ks = ke = NULL;
		rc = json_array_append_new(cmp, c);
	} else {
		rc = -1;
	}
	for (unsigned i = 0; rc == 0 && i < n; i++) {
		if (!seen_before(mv, i, false))
			rc |= cmp_exists(cmp, prefix, "hosts/", mv[i].from, false);
		if (!seen_before(mv, i, true)) {
			rc |= cmp_exists(cmp, prefix, "hosts/", mv[i].to, true);
			rc |= cmp_exists(cmp, prefix, "drain/", mv[i].to, false);
		}
		char v[1500];
		json_t *k = key(prefix, "meetings/", mv[i].meeting);
		json_t *vb = zone_failover_value(&mv[i], now, v, sizeof(v)) > 0 ? b64(v) : NULL;
		json_t *put = k && vb ? json_pack("{s:{s:o, s:o}}", "request_put", "key", k, "value", vb) : NULL;
		if (!put) {
			json_decref(k);
			json_decref(vb);
			rc = -1;
			break;
		}
		rc |= json_array_append_new(ok, put);
	}
	json_decref(ks);
	json_decref(ke);
	if (rc != 0) {
		json_decref(body);
		json_decref(cmp);
		json_decref(ok);
		return NULL;
	}
	json_object_set_new(body, "compare", cmp);
	json_object_set_new(body, "success", ok);
	return body;
}
