/*
 * zone.c - the zone in etcd (see zone.h): keys under /mmr/zone/ (docs/interfaces.md):
 *   hosts/<host>     {address, http_url, capacity {meetings, participants}, load {meetings,
 *                    participants, copies_per_s}, draining, updated}: put under the host's lease
 *   meetings/<id>    {host, created, args}: put once by a txn (create_revision == 0)
 *   drain/<host>     "1": no new meetings go to <host> (no lease: it outlives the host's restarts)
 * The whole prefix is read (one range: hosts, placements and drains at one revision) at every change
 * a watch on it reports and at least once a second; that snapshot drives placement, status,
 * redirects and the local meetings' reconciliation.
 */
#define _GNU_SOURCE
#include "zone.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "controller.h"
#include "etcd_client.h"
#include "log.h"
#include "model.h"
#include "outbuf.h"
#include "requests.h"
#include "slot.h"
#include "stats.h"
#include "values.h"
#include "zone_failover.h"
#include "zone_cascade.h"
#include "zone_controls.h"

#define PREFIX          "/mmr/zone/"
#define POLL_NS         1000000000ull
#define STALE_NS        3000000000ull   /* a snapshot older than this: etcd unreachable */
#define ETCD_TIMEOUT_MS 1000u
#define ZONE_MAX_HOSTS  64
#define MAX_ARGS        8
#define PLACE_TRIES     5

struct zhost {
	char name[ZONE_NAME_MAX + 1];
	bool registered;                /* hosts/<name> is there (its lease alive) */
	bool drain;                     /* drain/<name> is there */
	char address[64], http_url[256];
	uint32_t cap_m, cap_p, load_m, load_p;
	uint64_t copies;
	int64_t updated;
	uint32_t placed;                /* meetings/<id> naming it */
};

struct zmeet {
	char id[VAL_NAME_MAX + 1];
	char host[ZONE_NAME_MAX + 1];
	char args[MAX_ARGS][72];
	unsigned n_args;
	int64_t created;
	char from[ZONE_NAME_MAX + 1];   /* moved here by failover from this host ("": never moved) */
};

struct snapshot {
	bool ok;
	uint64_t at_ns;                 /* when it was read */
	int64_t rev;
	struct zhost hosts[ZONE_MAX_HOSTS];
	unsigned n_hosts;
	struct zmeet *meets;
	unsigned n_meets, cap_meets;
};

enum op_kind { OP_GRANT, OP_KEEPALIVE, OP_PUT, OP_POLL, OP_PLACE_RANGE, OP_PLACE_TXN, OP_END, OP_DRAIN, OP_FORGET,
	       OP_WATCH, OP_FAILOVER, OP_CASCADE };

struct zop {
	struct zop *next;
	struct zone *z;
	enum op_kind kind;
	struct slot *sl;                /* the request it answers, NULL: internal (or the slot went) */
	bool for_slot;
	int argc;
	char **argv;                    /* a copy of the request's */
	bool json;
	char meeting[VAL_NAME_MAX + 1];
	char host[ZONE_NAME_MAX + 1];
	char target[ZONE_NAME_MAX + 1]; /* OP_PLACE_TXN: where it goes */
	unsigned tries;
};

struct zone {
	struct ctl_ctx *ctx;
	const struct zone_config *zc;
	struct etcd *etcd;
	bool no_lease;                  /* MMR_TEST_ZONE_NO_LEASE=1: the negative control (tests) */
	bool no_failover;               /* MMR_TEST_ZONE_NO_FAILOVER=1: the negative control (tests) */
	bool fo_busy;                   /* a failover txn in flight */
	uint64_t registered_ns;         /* when this host last became registered */
	uint64_t fo_next_ns;            /* no failover txn before (one lost: let the winner's write come) */
	int64_t lease;                  /* 0: none */
	bool grant_busy, ka_busy, put_busy, poll_busy, watch_busy;
	bool poll_again;                /* the watch saw a change while a read was in flight */
	uint64_t next_grant_ns, next_ka_ns, next_put_ns, next_poll_ns, last_put_ns, next_watch_ns;
	char last_put[1024];            /* the last host value put (without "updated") */
	int64_t last_write_rev;         /* our last placement write: older snapshots do not reconcile */
	uint64_t last_write_ns;         /* when it was answered */
	uint64_t fail_log_ns;
	uint64_t prev_copies, prev_copies_ns, copies_ps;   /* the dataplane's copies a second */
	char last_err[300];
	struct snapshot snap;
	struct zop *ops;
	struct cascade *casc;           /* cascading (zone_cascade.h) */
	struct zctl *ctl;               /* a meeting's controls across the zone (zone_controls.h) */
};

/* ---- small helpers ------------------------------------------------------------------------------- */

static json_t *b64_json(const char *s)
{
	char buf[2048];
	if (etcd_b64(s, strlen(s), buf, sizeof(buf)) < 0)
		return NULL;
	return json_string(buf);
}

static json_t *key_json(const char *kind, const char *name)
{
	char k[256];
	snprintf(k, sizeof(k), PREFIX "%s%s", kind, name);
	return b64_json(k);
}

static int64_t json_int64(json_t *v)
{
	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_string(v))
		return strtoll(json_string_value(v), NULL, 10);
	return 0;
}

static void argv_free(int argc, char **argv)
{
	for (int i = 0; argv && i < argc; i++)
		free(argv[i]);
	free(argv);
}

static struct zop *op_new(struct zone *z, enum op_kind kind, struct slot *sl)
{
	struct zop *op = calloc(1, sizeof(*op));
	if (!op)
		return NULL;
	op->z = z;
	op->kind = kind;
	op->sl = sl;
	op->for_slot = sl != NULL;
	op->next = z->ops;
	z->ops = op;
	return op;
}

/* The request of op (its slot, command line, tries, meeting) moves to `to`: op answers nothing more. */
static void op_hand_over(struct zop *op, struct zop *to)
{
	to->argc = op->argc;
	to->argv = op->argv;
	to->json = op->json;
	to->tries = op->tries;
	snprintf(to->meeting, sizeof(to->meeting), "%s", op->meeting);
	op->argv = NULL;
	op->argc = 0;
	op->sl = NULL;
}

static void op_free(struct zop *op)
{
	struct zone *z = op->z;
	for (struct zop **pp = &z->ops; *pp; pp = &(*pp)->next)
		if (*pp == op) {
			*pp = op->next;
			break;
		}
	argv_free(op->argc, op->argv);
	free(op);
}

static bool op_pending(const struct zone *z, enum op_kind kind, const char *meeting)
{
	for (const struct zop *op = z->ops; op; op = op->next)
		if (op->kind == kind && strcmp(op->meeting, meeting) == 0)
			return true;
	return false;
}

static void slot_begin(struct slot *sl, int argc, char **argv)
{
	memset(&sl->req, 0, sizeof(sl->req));
	ob_init(&sl->req.body);
	size_t off = 0;
	sl->what[0] = '\0';
	for (int i = 0; i < argc && off + 2 < sizeof(sl->what); i++) {
		int n = snprintf(sl->what + off, sizeof(sl->what) - off, "%s%s", i ? " " : "", argv[i]);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	if (off >= sizeof(sl->what))
		sl->what[sizeof(sl->what) - 1] = '\0';
	sl->how = APPLY_DONE;
}

__attribute__((format(printf, 2, 3)))
static void slot_fail(struct slot *sl, const char *fmt, ...)
{
	if (!sl)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sl->req.err, sizeof(sl->req.err), fmt, ap);
	va_end(ap);
	sl->req.failed = true;
	sl->state = SLOT_DONE;
	sl->how = APPLY_DONE;
}

static void slot_done(struct slot *sl)
{
	if (!sl)
		return;
	sl->state = SLOT_DONE;
	sl->how = APPLY_DONE;
}

static void op_unreachable(struct zop *op, const char *what, const char *err)
{
	op->z->ctx->zstats.refused++;
	slot_fail(op->sl, "zone: etcd unreachable, %s: %s", what, err);
}

static int post(struct zone *z, struct zop *op, const char *path, json_t *body);
static etcd_done_fn on_done_cb(void);

/* ---- the snapshot ------------------------------------------------------------------------------- */

static struct zhost *snap_host(struct snapshot *s, const char *name, bool add)
{
	for (unsigned i = 0; i < s->n_hosts; i++)
		if (strcmp(s->hosts[i].name, name) == 0)
			return &s->hosts[i];
	if (!add || s->n_hosts == ZONE_MAX_HOSTS)
		return NULL;
	struct zhost *h = &s->hosts[s->n_hosts++];
	memset(h, 0, sizeof(*h));
	snprintf(h->name, sizeof(h->name), "%s", name);
	return h;
}

static const struct zmeet *snap_meeting(const struct snapshot *s, const char *id)
{
	for (unsigned i = 0; i < s->n_meets; i++)
		if (strcmp(s->meets[i].id, id) == 0)
			return &s->meets[i];
	return NULL;
}

static uint32_t ju32(json_t *o, const char *k)
{
	json_int_t v = json_integer_value(json_object_get(o, k));
	return v < 0 ? 0 : v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* A range answer over the prefix into s. 0, or -1 (a bad answer; s unchanged). */
static int snap_load(struct zone *z, struct snapshot *s, json_t *resp)
{
	static struct snapshot n;
	struct zmeet *meets = s->meets;
	unsigned cap = s->cap_meets;
	memset(&n, 0, sizeof(n));
	n.meets = meets;
	n.cap_meets = cap;
	n.rev = json_int64(json_object_get(json_object_get(resp, "header"), "revision"));
	json_t *kvs = json_object_get(resp, "kvs"), *kv;
	size_t i;
	static char key[512], val[4096];
	cascade_snap_begin(z->casc);
	zctl_snap_begin(z->ctl);
	json_array_foreach(kvs, i, kv) {
		const char *k64 = json_string_value(json_object_get(kv, "key"));
		const char *v64 = json_string_value(json_object_get(kv, "value"));
		if (!k64 || etcd_unb64(k64, key, sizeof(key)) < 0 || etcd_unb64(v64 ? v64 : "", val, sizeof(val)) < 0)
			continue;
		if (strncmp(key, PREFIX, strlen(PREFIX)) != 0)
			continue;
		const char *rest = key + strlen(PREFIX);
		cascade_snap_key(z->casc, rest, val, json_int64(json_object_get(kv, "create_revision")));
		zctl_snap_key(z->ctl, rest, val);
		if (strncmp(rest, "hosts/", 6) == 0 && zone_host_name_ok(rest + 6)) {
			json_t *j = json_loads(val, 0, NULL);
			struct zhost *h = snap_host(&n, rest + 6, true);
			if (h)
				h->registered = true;   /* (its key is there: never taken for gone, whatever its value) */
			if (h && json_is_object(j)) {
				snprintf(h->address, sizeof(h->address), "%s",
					 json_string_value(json_object_get(j, "address")) ?: "");
				snprintf(h->http_url, sizeof(h->http_url), "%s",
					 json_string_value(json_object_get(j, "http_url")) ?: "");
				json_t *c = json_object_get(j, "capacity"), *l = json_object_get(j, "load");
				h->cap_m = ju32(c, "meetings");
				h->cap_p = ju32(c, "participants");
				h->load_m = ju32(l, "meetings");
				h->load_p = ju32(l, "participants");
				h->copies = (uint64_t)json_integer_value(json_object_get(l, "copies_per_s"));
				h->updated = json_integer_value(json_object_get(j, "updated"));
			}
			json_decref(j);
		} else if (strncmp(rest, "drain/", 6) == 0 && zone_host_name_ok(rest + 6)) {
			struct zhost *h = snap_host(&n, rest + 6, true);
			if (h)
				h->drain = true;
		} else if (strncmp(rest, "meetings/", 9) == 0 && val_name_ok(rest + 9)) {
			json_t *j = json_loads(val, 0, NULL);
			const char *host = json_is_object(j) ? json_string_value(json_object_get(j, "host")) : NULL;
			if (host && zone_host_name_ok(host)) {
				if (n.n_meets == n.cap_meets) {
					unsigned nc = n.cap_meets ? n.cap_meets * 2 : 256;
					struct zmeet *q = realloc(n.meets, nc * sizeof(*q));
					if (!q) {
						json_decref(j);
						s->meets = n.meets;
						s->cap_meets = n.cap_meets;
						return -1;
					}
					n.meets = q;
					n.cap_meets = nc;
				}
				struct zmeet *m = &n.meets[n.n_meets++];
				memset(m, 0, sizeof(*m));
				snprintf(m->id, sizeof(m->id), "%.63s", rest + 9);
				snprintf(m->host, sizeof(m->host), "%s", host);
				m->created = json_integer_value(json_object_get(j, "created"));
				const char *from = json_string_value(json_object_get(j, "moved_from"));
				if (from && zone_host_name_ok(from))
					snprintf(m->from, sizeof(m->from), "%s", from);
				json_t *a = json_object_get(j, "args"), *e;
				size_t k;
				json_array_foreach(a, k, e) {
					const char *t = json_string_value(e);
					if (t && m->n_args < MAX_ARGS && strlen(t) < sizeof(m->args[0]) && strncmp(t, "--", 2) == 0)
						strcpy(m->args[m->n_args++], t);
				}
			}
			json_decref(j);
		}
	}
	for (unsigned k = 0; k < n.n_meets; k++) {
		struct zhost *h = snap_host(&n, n.meets[k].host, true);
		if (h)
			h->placed++;
	}
	n.ok = true;
	n.at_ns = mmr_now_ns();
	*s = n;
	cascade_snap_end(z->casc);
	return 0;
}

static bool snap_fresh(const struct zone *z, uint64_t now)
{
	return z->snap.ok && now - z->snap.at_ns <= STALE_NS;
}

/* ---- local changes ------------------------------------------------------------------------------ */

static void forget_placement(struct zone *z, const char *meeting);

/* Run a command of our own (a meeting placed on us or taken away): committed with the loop's batch. */
static bool run_internal(struct zone *z, int argc, char **argv)
{
	struct request req;
	request_run(z->ctx, argc, argv, &req);
	bool ok = !req.failed;
	if (req.failed) {
		uint64_t now = mmr_now_ns();
		if (now >= z->fail_log_ns) {
			ctl_logl(CTL_LOG_WARNING, "zone: %s %s %s: %s", argv[0], argv[1], argv[2], req.err);
			z->fail_log_ns = now + 10000000000ull;
		}
	} else {
		ctl_log("zone: %s %s %s (placed by etcd)", argv[0], argv[1], argv[2]);
	}
	request_free(&req);
	return ok;
}

static bool placed_cb(void *arg, const char *meeting)
{
	struct zone *z = arg;
	return snap_meeting(&z->snap, meeting) != NULL;
}

/* The meetings etcd places on us exist here, and no others. */
static void reconcile(struct zone *z)
{
	struct snapshot *s = &z->snap;
	struct model *m = z->ctx->model;
	if (!s->ok || s->rev < z->last_write_rev)
		return;
	for (unsigned i = 0; i < s->n_meets; i++) {
		const struct zmeet *zm = &s->meets[i];
		if ((strcmp(zm->host, z->zc->host) != 0 && !cascade_carries(z->casc, zm->id)) ||
		    model_find_meeting(m, zm->id) != MMR_ID_NONE ||
		    op_pending(z, OP_END, zm->id) || op_pending(z, OP_PLACE_TXN, zm->id))
			continue;
		char *argv[3 + MAX_ARGS + 1];
		int argc = 0;
		argv[argc++] = "meeting";
		argv[argc++] = "create";
		argv[argc++] = (char *)zm->id;
		for (unsigned k = 0; k < zm->n_args; k++)
			argv[argc++] = (char *)zm->args[k];
		argv[argc] = NULL;
		if (!run_internal(z, argc, argv)) {
			/* (bad options, no room in the model): taken back, not tried again at every read */
			ctl_logl(CTL_LOG_WARNING, "zone: meeting %s cannot be created here: its placement is taken back",
				 zm->id);
			forget_placement(z, zm->id);
		} else if (zm->from[0] || strcmp(zm->host, z->zc->host) != 0) {
			/* moved here by failover, or carried here for its home (cascade): its home's
			 * controls (controls/ and bans/ keys) applied, or, when they cannot be known or
			 * applied, this copy comes up closed: its waiting room on (hosts, whose tokens
			 * pass it, admit the others; trunks do not wait) */
			zctl_created(z->ctl, zm->id);
		}
	}
	for (uint32_t id = 0; id < model_meeting_bound(m); id++) {
		if (!m->meetings[id].used)
			continue;
		char name[VAL_NAME_MAX + 1];
		snprintf(name, sizeof(name), "%s", m->meetings[id].name);
		const struct zmeet *zm = snap_meeting(s, name);
		if ((zm && (strcmp(zm->host, z->zc->host) == 0 || cascade_carries(z->casc, name))) ||
		    op_pending(z, OP_END, name) || op_pending(z, OP_PLACE_TXN, name)) {
			if (zm)
				zctl_meeting(z->ctl, name, strcmp(zm->host, z->zc->host) == 0);
			continue;
		}
		char *argv[] = { "meeting", "end", name, NULL };
		run_internal(z, 3, argv);
	}
	zctl_sweep(z->ctl, placed_cb, z);
	cascade_reconcile(z->casc, z->lease);
}

static bool run_internal_cb(void *arg, int argc, char **argv)
{
	return run_internal(arg, argc, argv);
}

/* ---- registration -------------------------------------------------------------------------------- */

/* The dataplane's copies a second since the last call (0 while it is detached). */
static void sample_copies(struct zone *z, uint64_t now)
{
	const struct dp_link *dp = z->ctx->dp;
	if (!dp->attached || !dp->ch.shm) {
		z->prev_copies_ns = 0;
		z->copies_ps = 0;
		return;
	}
	struct mmr_stats_sample smp;
	mmr_stats_sample_area(&smp, &dp->ch.shm->stats);
	uint64_t c = smp.c[MMR_LC_copies];
	if (z->prev_copies_ns && now > z->prev_copies_ns && c >= z->prev_copies)
		z->copies_ps = (uint64_t)((double)(c - z->prev_copies) * 1e9 / (double)(now - z->prev_copies_ns) + 0.5);
	z->prev_copies = c;
	z->prev_copies_ns = now;
}

static void host_value(struct zone *z, char *out, size_t cap, bool with_time)
{
	const struct model *m = z->ctx->model;
	struct zhost *self = z->snap.ok ? snap_host(&z->snap, z->zc->host, false) : NULL;
	int n = snprintf(out, cap,
			 "{\"address\":\"%s\",\"http_url\":\"%s\",\"capacity\":{\"meetings\":%u,\"participants\":%u},"
			 "\"load\":{\"meetings\":%u,\"participants\":%u,\"copies_per_s\":%llu},\"draining\":%s,"
			 "\"media_port\":%u",
			 z->zc->address, z->zc->http_url, z->zc->max_meetings, z->zc->max_participants, m->n_meetings,
			 m->n_parts, (unsigned long long)z->copies_ps, self && self->drain ? "true" : "false",
			 z->zc->media_port);
	if (n > 0 && (size_t)n < cap)
		snprintf(out + n, cap - (size_t)n, with_time ? ",\"updated\":%lld}" : "}", (long long)time(NULL));
}

static void done_grant(struct zop *op, json_t *resp, const char *err)
{
	struct zone *z = op->z;
	z->grant_busy = false;
	int64_t id = resp ? json_int64(json_object_get(resp, "ID")) : 0;
	if (!id) {
		snprintf(z->last_err, sizeof(z->last_err), "lease grant: %s", err ? err : "no lease id");
		ctl_logl(CTL_LOG_WARNING, "zone: %s", z->last_err);
		z->next_grant_ns = mmr_now_ns() + 1000000000ull;
		return;
	}
	z->lease = id;
	z->last_put[0] = '\0';          /* put at once under it */
	z->next_put_ns = 0;
	z->next_ka_ns = mmr_now_ns() + (uint64_t)z->zc->lease_s * 1000000000ull / 3;
	ctl_log("zone: lease %lld granted (TTL %u s)", (long long)id, z->zc->lease_s);
}

static void done_keepalive(struct zop *op, json_t *resp, const char *err)
{
	struct zone *z = op->z;
	z->ka_busy = false;
	if (!resp) {
		snprintf(z->last_err, sizeof(z->last_err), "lease keepalive: %s", err);
		z->next_ka_ns = mmr_now_ns() + 500000000ull;
		return;
	}
	json_t *r = json_object_get(resp, "result");
	if (json_int64(json_object_get(r ? r : resp, "TTL")) <= 0) {
		ctl_logl(CTL_LOG_WARNING, "zone: lease %lld expired: registering again", (long long)z->lease);
		z->lease = 0;
		z->ctx->zstats.registered = false;
	}
}

static void done_put(struct zop *op, json_t *resp, const char *err)
{
	struct zone *z = op->z;
	z->put_busy = false;
	if (!resp) {
		snprintf(z->last_err, sizeof(z->last_err), "registration: %s", err);
		z->last_put[0] = '\0';
		if (strstr(err, "lease not found")) {
			z->lease = 0;
			z->ctx->zstats.registered = false;
		}
		return;
	}
	if (!z->ctx->zstats.registered) {
		ctl_log("zone: host %s registered", z->zc->host);
		z->registered_ns = mmr_now_ns();
	}
	z->ctx->zstats.registered = true;
}

static void register_tick(struct zone *z, uint64_t now)
{
	const struct zone_config *zc = z->zc;
	if (!z->no_lease && !z->lease) {
		if (!z->grant_busy && now >= z->next_grant_ns) {
			json_t *b = json_pack("{s:I}", "TTL", (json_int_t)zc->lease_s);
			struct zop *op = op_new(z, OP_GRANT, NULL);
			if (op && post(z, op, "/v3/lease/grant", b) == 0)
				z->grant_busy = true;
		}
		return;
	}
	if (z->lease && !z->ka_busy && now >= z->next_ka_ns) {
		char id[32];
		snprintf(id, sizeof(id), "%lld", (long long)z->lease);
		struct zop *op = op_new(z, OP_KEEPALIVE, NULL);
		if (op && post(z, op, "/v3/lease/keepalive", json_pack("{s:s}", "ID", id)) == 0)
			z->ka_busy = true;
		z->next_ka_ns = now + (uint64_t)zc->lease_s * 1000000000ull / 3;
	}
	if (!z->put_busy && now >= z->next_put_ns) {
		z->next_put_ns = now + 1000000000ull;
		sample_copies(z, now);
		char v[1024], vt[1100];
		host_value(z, v, sizeof(v), false);
		if (strcmp(v, z->last_put) == 0 && now - z->last_put_ns < (uint64_t)zc->lease_s * 1000000000ull)
			return;
		host_value(z, vt, sizeof(vt), true);
		json_t *b = json_object();
		json_object_set_new(b, "key", key_json("hosts/", zc->host));
		json_object_set_new(b, "value", b64_json(vt));
		if (!z->no_lease) {
			char id[32];
			snprintf(id, sizeof(id), "%lld", (long long)z->lease);
			json_object_set_new(b, "lease", json_string(id));
		}
		struct zop *op = op_new(z, OP_PUT, NULL);
		if (op && post(z, op, "/v3/kv/put", b) == 0) {
			z->put_busy = true;
			snprintf(z->last_put, sizeof(z->last_put), "%s", v);
			z->last_put_ns = now;
		}
	}
}

/* ---- the prefix, read once a second ---------------------------------------------------------------- */

static json_t *range_prefix(void)
{
	char end[64];
	snprintf(end, sizeof(end), "%s", PREFIX);
	end[strlen(end) - 1]++;        /* "/mmr/zone0": every key under the prefix */
	json_t *b = json_object();
	json_object_set_new(b, "key", b64_json(PREFIX));
	json_object_set_new(b, "range_end", b64_json(end));
	return b;
}

/* ---- failover (zone_failover.h) ------------------------------------------------------------------- */

/* The hosts as placement sees them (the snapshot's order). */
static unsigned place_hosts(const struct snapshot *s, struct zone_place_host *ph)
{
	unsigned n = 0;
	for (unsigned i = 0; i < s->n_hosts; i++) {
		const struct zhost *h = &s->hosts[i];
		ph[n++] = (struct zone_place_host){ .name = h->name, .cap_meetings = h->cap_m, .cap_participants = h->cap_p,
						    .meetings = h->placed,
						    .participants = h->load_p, .alive = h->registered, .draining = h->drain };
	}
	return n;
}

/* After a read: the meetings of hosts that left the zone are placed again (one txn; every live host
 * may try it, one wins). Only once this host has been registered for a lease time (so a zone
 * starting up leaves each host time to register: a slow host is not a dead one). */
static void failover(struct zone *z)
{
	const struct snapshot *s = &z->snap;
	uint64_t now = mmr_now_ns();
	if (z->no_failover || z->fo_busy || now < z->fo_next_ns || !s->ok || s->rev < z->last_write_rev ||
	    !z->ctx->zstats.registered || now - z->registered_ns < (uint64_t)z->zc->lease_s * 1000000000ull)
		return;
	bool any = false;
	for (unsigned i = 0; i < s->n_hosts && !any; i++)
		any = !s->hosts[i].registered && s->hosts[i].placed && strcmp(s->hosts[i].name, z->zc->host) != 0;
	if (!any)
		return;
	int *host_of = malloc((s->n_meets + 1) * sizeof(*host_of));
	if (!host_of)
		return;
	for (unsigned k = 0; k < s->n_meets; k++) {
		host_of[k] = -1;
		if (strcmp(s->meets[k].host, z->zc->host) == 0)
			continue;       /* (never our own: our key may be missing from an old read) */
		for (unsigned i = 0; i < s->n_hosts; i++)
			if (strcmp(s->hosts[i].name, s->meets[k].host) == 0)
				host_of[k] = (int)i;
	}
	struct zone_place_host ph[ZONE_MAX_HOSTS];
	unsigned nh = place_hosts(s, ph);
	unsigned mk[ZONE_FO_MAX_MOVES];
	int to[ZONE_FO_MAX_MOVES];
	unsigned n = zone_failover_plan(ph, nh, host_of, s->n_meets, mk, to, ZONE_FO_MAX_MOVES);
	free(host_of);
	if (n == 0) {
		if (now >= z->fail_log_ns) {
			ctl_logl(CTL_LOG_WARNING, "zone: meetings of a host that left the zone wait: no live, non-draining "
						  "host has room for them");
			z->fail_log_ns = now + 10000000000ull;
		}
		return;
	}
	struct zone_fo_move mv[ZONE_FO_MAX_MOVES];
	const char *args[ZONE_FO_MAX_MOVES][MAX_ARGS];
	for (unsigned i = 0; i < n; i++) {
		const struct zmeet *m = &s->meets[mk[i]];
		for (unsigned a = 0; a < m->n_args; a++)
			args[i][a] = m->args[a];
		mv[i] = (struct zone_fo_move){ .meeting = m->id, .from = m->host, .to = s->hosts[to[i]].name,
					       .created = m->created, .args = args[i], .n_args = m->n_args };
	}
	json_t *b = zone_failover_txn(PREFIX, s->rev, mv, n, (int64_t)time(NULL));
	struct zop *op = b ? op_new(z, OP_FAILOVER, NULL) : NULL;
	if (!op) {
		json_decref(b);
		return;
	}
	snprintf(op->meeting, sizeof(op->meeting), "%s", mv[0].meeting);
	snprintf(op->host, sizeof(op->host), "%s", mv[0].from);
	snprintf(op->target, sizeof(op->target), "%s", mv[0].to);
	op->tries = n;
	if (post(z, op, "/v3/kv/txn", b) == 0)
		z->fo_busy = true;
}

static void done_failover(struct zop *op, json_t *resp, const char *err)
{
	struct zone *z = op->z;
	z->fo_busy = false;
	if (!resp) {
		ctl_logl(CTL_LOG_WARNING, "zone: failover of host %s's meetings not written: %s", op->host, err);
		return;
	}
	if (!json_is_true(json_object_get(resp, "succeeded"))) {
		/* another host moved them first, or the zone changed: the next read decides again */
		ctl_logl(CTL_LOG_DEBUG, "zone: failover txn lost (the zone changed since the read)");
		z->fo_next_ns = mmr_now_ns() + 500000000ull;    /* (the watch reads the winner's write) */
		return;
	}
	int64_t rev = json_int64(json_object_get(json_object_get(resp, "header"), "revision"));
	if (rev > z->last_write_rev)
		z->last_write_rev = rev;
	z->last_write_ns = mmr_now_ns();
	z->ctx->zstats.failover_moved += op->tries;
	ctl_logl(CTL_LOG_WARNING, "zone: host %s left the zone: %u meeting(s) placed again (first: %s on host %s)",
		 op->host, op->tries, op->meeting, op->target);
	z->next_poll_ns = 0;    /* (more to move: the next read) */
}

int zone_meeting_where(struct zone *z, const char *meeting, const char **host, const char **url, const char **from)
{
	const struct zmeet *zm = z && z->snap.ok ? snap_meeting(&z->snap, meeting) : NULL;
	if (!zm)
		return ZONE_WHERE_UNKNOWN;
	const struct zhost *h = snap_host(&z->snap, zm->host, false);
	*host = zm->host;
	*url = h ? h->http_url : "";
	*from = zm->from;
	if (strcmp(zm->host, z->zc->host) == 0)
		return ZONE_WHERE_HERE;
	return h && h->registered ? ZONE_WHERE_ELSEWHERE : ZONE_WHERE_GONE;
}

static void done_poll(struct zop *op, json_t *resp, const char *err)
{
	struct zone *z = op->z;
	z->poll_busy = false;
	if (z->poll_again) {
		z->poll_again = false;
		z->next_poll_ns = 0;
	}
	if (!resp) {
		snprintf(z->last_err, sizeof(z->last_err), "read: %s", err);
		return;
	}
	int64_t rev = json_int64(json_object_get(json_object_get(resp, "header"), "revision"));
	if (z->snap.ok && rev < z->last_write_rev && mmr_now_ns() - z->last_write_ns < STALE_NS) {
		/* a read from before a write of ours was answered (a drain, a placement): it would undo
		 * what the answer said until the next read; read again at once (only for a while: an etcd
		 * whose revisions started again must not keep every read out) */
		z->next_poll_ns = 0;
		return;
	}
	if (snap_load(z, &z->snap, resp) == 0) {
		unsigned alive = 0;
		for (unsigned i = 0; i < z->snap.n_hosts; i++)
			alive += z->snap.hosts[i].registered;
		ctl_logl(CTL_LOG_DEBUG, "zone: read revision %lld: %u live hosts, %u placements", (long long)z->snap.rev,
			 alive, z->snap.n_meets);
		reconcile(z);
		failover(z);
	}
}

/* The watch on the prefix: a change (or the watch starting) reads the prefix at once, so placements
 * reach their host without waiting for the next read; the reads once a second stay (a watch on a
 * member cut off from the others sees nothing). */
static void on_watch_line(void *arg, json_t *line)
{
	struct zop *op = arg;
	struct zone *z = op->z;
	json_t *r = json_object_get(line, "result");
	if (json_is_true(json_object_get(r, "created")) || json_array_size(json_object_get(r, "events"))) {
		if (z->poll_busy)
			z->poll_again = true;
		else
			z->next_poll_ns = 0;
	}
}

static void done_watch(struct zop *op, json_t *resp, const char *err)
{
	struct zone *z = op->z;
	(void)resp;
	z->watch_busy = false;
	z->next_watch_ns = mmr_now_ns() + 1000000000ull;
	ctl_logl(CTL_LOG_DEBUG, "zone: %s", err ? err : "watch ended");
}

static void watch_tick(struct zone *z, uint64_t now)
{
	if (z->watch_busy || now < z->next_watch_ns)
		return;
	z->next_watch_ns = now + 1000000000ull;
	char end[64];
	snprintf(end, sizeof(end), "%s", PREFIX);
	end[strlen(end) - 1]++;
	json_t *cr = json_object();
	json_object_set_new(cr, "key", b64_json(PREFIX));
	json_object_set_new(cr, "range_end", b64_json(end));
	json_t *b = json_object();
	json_object_set_new(b, "create_request", cr);
	struct zop *op = op_new(z, OP_WATCH, NULL);
	if (!op) {
		json_decref(b);
		return;
	}
	if (etcd_watch(z->etcd, b, on_watch_line, on_done_cb(), op) == 0)
		z->watch_busy = true;
	else
		op_free(op);
}

/* ---- placement ------------------------------------------------------------------------------------ */

static void place_range(struct zone *z, struct zop *op);

static void done_place_range(struct zop *op, json_t *resp, const char *err)
{
	struct zone *z = op->z;
	if (!op->sl)
		return;
	if (!resp) {
		op_unreachable(op, "meeting not created", err);
		return;
	}
	if (snap_load(z, &z->snap, resp) < 0) {
		slot_fail(op->sl, "out of memory reading the zone");
		return;
	}
	const struct zmeet *zm = snap_meeting(&z->snap, op->meeting);
	if (zm) {
		slot_fail(op->sl, "meeting '%s' already exists (placed on host %s)", op->meeting, zm->host);
		return;
	}
	struct zone_place_host ph[ZONE_MAX_HOSTS];
	unsigned n = place_hosts(&z->snap, ph);
	int best = zone_place(ph, n);
	if (best < 0) {
		z->ctx->zstats.full++;
		slot_fail(op->sl, "the zone is full: no live, non-draining host has room for another meeting (%u hosts "
				  "known; `mmrctl zone status`)", n);
		return;
	}
	snprintf(op->target, sizeof(op->target), "%s", z->snap.hosts[best].name);
	/* the txn: only if the meeting's key does not exist and no placement changed since the read (so
	 * no host goes past its capacity, whoever places at the same time) */
	char meet_end[64];
	snprintf(meet_end, sizeof(meet_end), PREFIX "meetings0");
	json_t *args = json_array();
	for (int i = 3; i < op->argc; i++)
		if (strcmp(op->argv[i], "--json") != 0)
			json_array_append_new(args, json_string(op->argv[i]));
	json_t *val = json_pack("{s:s, s:I, s:o}", "host", op->target, "created", (json_int_t)time(NULL), "args", args);
	char vtext[1200];
	size_t vlen = val ? json_dumpb(val, vtext, sizeof(vtext) - 1, JSON_COMPACT) : 0;
	vtext[vlen < sizeof(vtext) ? vlen : 0] = '\0';
	json_decref(val);
	char rev[32];
	snprintf(rev, sizeof(rev), "%lld", (long long)z->snap.rev + 1);
	json_t *b = json_pack("{s:[{s:s, s:o, s:s}, {s:s, s:o, s:o, s:s, s:s}], s:[{s:{s:o, s:o}}]}",
			      "compare",
			      "target", "CREATE", "key", key_json("meetings/", op->meeting), "create_revision", "0",
			      "target", "MOD", "key", b64_json(PREFIX "meetings/"), "range_end", b64_json(meet_end),
			      "result", "LESS", "mod_revision", rev,
			      "success", "request_put", "key", key_json("meetings/", op->meeting), "value",
			      b64_json(vtext[0] ? vtext : "{}"));
	struct zop *t = op_new(z, OP_PLACE_TXN, op->sl);
	if (!t || !b) {
		json_decref(b);
		if (t)
			op_free(t);
		slot_fail(op->sl, "out of memory placing the meeting");
		return;
	}
	/* the request moves to the txn's op */
	op_hand_over(op, t);
	snprintf(t->target, sizeof(t->target), "%s", op->target);
	post(z, t, "/v3/kv/txn", b);
}

/* A placement on us whose local create failed: taken back (best effort; else it is retried at
 * every read, its failure logged every 10 s). */
static void forget_placement(struct zone *z, const char *meeting)
{
	struct zop *op = op_new(z, OP_END, NULL);
	if (!op)
		return;
	snprintf(op->meeting, sizeof(op->meeting), "%s", meeting);
	json_t *b = json_object();
	json_object_set_new(b, "key", key_json("meetings/", meeting));
	post(z, op, "/v3/kv/deleterange", b);
}

static void done_place_txn(struct zop *op, json_t *resp, const char *err)
{
	struct zone *z = op->z;
	if (resp) {
		int64_t rev = json_int64(json_object_get(json_object_get(resp, "header"), "revision"));
		if (json_is_true(json_object_get(resp, "succeeded"))) {
			if (rev > z->last_write_rev)
				z->last_write_rev = rev;
			z->last_write_ns = mmr_now_ns();
			ctl_log("zone: meeting %s placed on host %s", op->meeting, op->target);
			if (strcmp(op->target, z->zc->host) == 0) {
				/* (its request gone: the next read creates it, with its options) */
				if (op->sl) {
					slot_run_local(z->ctx, op->sl, op->argc, op->argv, mmr_now_ns());
					if (op->sl->req.failed)
						forget_placement(z, op->meeting);
				}
				return;
			}
			if (!op->sl)
				return;
			const struct zhost *h = snap_host(&z->snap, op->target, false);
			struct outbuf *b = &op->sl->req.body;
			if (op->json) {
				ob_puts(b, "{\"name\": ");
				ob_json_str(b, op->meeting);
				ob_puts(b, ", \"host\": ");
				ob_json_str(b, op->target);
				ob_puts(b, ", \"http_url\": ");
				ob_json_str(b, h ? h->http_url : "");
				ob_puts(b, "}\n");
			} else {
				ob_printf(b, "meeting %s placed on host %s (%s)\n", op->meeting, op->target,
					  h ? h->http_url : "");
			}
			slot_done(op->sl);
			return;
		}
		/* the zone changed under us: read it again and decide again */
		if (op->sl && ++op->tries < PLACE_TRIES) {
			struct zop *r = op_new(z, OP_PLACE_RANGE, op->sl);
			if (r) {
				op_hand_over(op, r);
				place_range(z, r);
				return;
			}
		}
		slot_fail(op->sl, "placement conflict: the zone changed %u times while placing meeting '%s'; try again",
			  op->tries, op->meeting);
		return;
	}
	op_unreachable(op, "meeting not created (its placement may or may not be saved: `mmrctl zone status`)", err);
}

static void place_range(struct zone *z, struct zop *op)
{
	post(z, op, "/v3/kv/range", range_prefix());
}

/* ---- end, drain ---------------------------------------------------------------------------------- */

static void done_end(struct zop *op, json_t *resp, const char *err)
{
	struct zone *z = op->z;
	if (!resp) {
		op_unreachable(op, "meeting not ended", err);
		return;
	}
	int64_t rev = json_int64(json_object_get(json_object_get(resp, "header"), "revision"));
	if (rev > z->last_write_rev)
		z->last_write_rev = rev;
	z->last_write_ns = mmr_now_ns();
	if (!op->sl)
		return;
	if (model_find_meeting(z->ctx->model, op->meeting) == MMR_ID_NONE) {
		slot_done(op->sl);      /* (ended meanwhile: the placements were read again) */
		return;
	}
	slot_run_local(z->ctx, op->sl, op->argc, op->argv, mmr_now_ns());
}

static void done_drain(struct zop *op, json_t *resp, const char *err)
{
	struct zone *z = op->z;
	bool drain = op->kind == OP_DRAIN;
	if (!resp) {
		op_unreachable(op, drain ? "host not drained" : "host not undrained", err);
		return;
	}
	struct zhost *h = z->snap.ok ? snap_host(&z->snap, op->host, drain) : NULL;
	if (h)
		h->drain = drain;
	int64_t rev = json_int64(json_object_get(json_object_get(resp, "header"), "revision"));
	if (rev > z->last_write_rev)
		z->last_write_rev = rev;
	z->last_write_ns = mmr_now_ns();
	ctl_log("zone: host %s %s", op->host, drain ? "draining: no new meetings go there" : "undrained");
	if (!op->sl)
		return;
	if (op->json) {
		ob_puts(&op->sl->req.body, "{\"host\": ");
		ob_json_str(&op->sl->req.body, op->host);
		ob_printf(&op->sl->req.body, ", \"draining\": %s}\n", drain ? "true" : "false");
	} else {
		ob_printf(&op->sl->req.body, "host %s %s\n", op->host, drain ? "draining" : "not draining");
	}
	slot_done(op->sl);
}

static void done_cascade(struct zop *op, json_t *resp, const char *err)
{
	if (!resp) {
		op_unreachable(op, "meeting not cascaded", err);
		return;
	}
	if (!json_is_true(json_object_get(resp, "succeeded"))) {
		slot_fail(op->sl, "no meeting '%s' in the zone", op->meeting);
		return;
	}
	ctl_log("zone: meeting %s cascaded to host %s%s", op->meeting, op->host, op->tries ? " (this host is full)" : "");
	if (!op->sl)
		return;
	if (op->tries) {
		/* the spill: refused here, sent to the host that carries the meeting now */
		const struct zhost *h = snap_host(&op->z->snap, op->host, false);
		const char *url = h && h->http_url[0] ? h->http_url : "";
		op->z->ctx->zstats.redirects++;
		snprintf(op->sl->req.redirect, sizeof(op->sl->req.redirect), "%s", url);
		slot_fail(op->sl, "meeting '%s': this host is full (zone max_participants %u); host %s (%s) carries the "
			  "meeting too: ask that host", op->meeting, op->z->zc->max_participants, op->host,
			  url[0] ? url : "no http_url");
		return;
	}
	if (op->json) {
		ob_puts(&op->sl->req.body, "{\"meeting\": ");
		ob_json_str(&op->sl->req.body, op->meeting);
		ob_puts(&op->sl->req.body, ", \"host\": ");
		ob_json_str(&op->sl->req.body, op->host);
		ob_puts(&op->sl->req.body, "}\n");
	} else {
		ob_printf(&op->sl->req.body, "meeting %s carried by host %s too\n", op->meeting, op->host);
	}
	slot_done(op->sl);
}

/* ---- calls ----------------------------------------------------------------------------------------- */

static void on_done(void *arg, json_t *resp, const char *err)
{
	struct zop *op = arg;
	if (!resp && op->kind != OP_POLL && op->kind != OP_WATCH)
		ctl_logl(CTL_LOG_DEBUG, "zone: %s", err);
	switch (op->kind) {
	case OP_GRANT: done_grant(op, resp, err); break;
	case OP_KEEPALIVE: done_keepalive(op, resp, err); break;
	case OP_PUT: done_put(op, resp, err); break;
	case OP_POLL: done_poll(op, resp, err); break;
	case OP_PLACE_RANGE: done_place_range(op, resp, err); break;
	case OP_PLACE_TXN: done_place_txn(op, resp, err); break;
	case OP_END: done_end(op, resp, err); break;
	case OP_DRAIN: case OP_FORGET: done_drain(op, resp, err); break;
	case OP_CASCADE: done_cascade(op, resp, err); break;
	case OP_WATCH: done_watch(op, resp, err); break;
	case OP_FAILOVER: done_failover(op, resp, err); break;
	}
	if (!resp && op->kind != OP_POLL && op->kind != OP_WATCH)
		snprintf(op->z->last_err, sizeof(op->z->last_err), "%s", err);
	op_free(op);
}

static etcd_done_fn on_done_cb(void)
{
	return on_done;
}

/* Post for op; on failure (out of memory) op is answered and freed. 0 or -1. */
static int post(struct zone *z, struct zop *op, const char *path, json_t *body)
{
	if (body && etcd_post(z->etcd, path, body, on_done, op) == 0)
		return 0;
	slot_fail(op->sl, "out of memory calling etcd");
	op_free(op);
	return -1;
}

/* ---- requests ---------------------------------------------------------------------------------- */

static char **argv_copy(int argc, char **argv)
{
	char **v = calloc((size_t)argc + 1, sizeof(*v));
	for (int i = 0; v && i < argc; i++)
		if (!(v[i] = strdup(argv[i]))) {
			argv_free(i, v);
			return NULL;
		}
	return v;
}

static void status_reply(struct zone *z, struct slot *sl, bool json, uint64_t now)
{
	struct snapshot *s = &z->snap;
	struct outbuf *b = &sl->req.body;
	uint64_t tm = 0, tp = 0, cm = 0, cp = 0, placed = 0;
	unsigned alive = 0;
	for (unsigned i = 0; i < s->n_hosts; i++) {
		const struct zhost *h = &s->hosts[i];
		if (h->registered) {
			alive++;
			tm += h->load_m;
			tp += h->load_p;
			cm += h->cap_m;
			cp += h->cap_p;
		}
		placed += h->placed;
	}
	double age = (double)(now - s->at_ns) / 1e9;
	if (json) {
		ob_puts(b, "{\"host\": ");
		ob_json_str(b, z->zc->host);
		ob_puts(b, ", \"etcd\": {\"endpoint\": ");
		ob_json_str(b, etcd_endpoint(z->etcd));
		ob_printf(b, ", \"revision\": %lld, \"age_s\": %.3f}, \"registered\": %s, \"hosts\": [",
			  (long long)s->rev, age, z->ctx->zstats.registered ? "true" : "false");
		for (unsigned i = 0; i < s->n_hosts; i++) {
			const struct zhost *h = &s->hosts[i];
			ob_puts(b, i ? ", {\"name\": " : "{\"name\": ");
			ob_json_str(b, h->name);
			ob_puts(b, ", \"address\": ");
			ob_json_str(b, h->address);
			ob_puts(b, ", \"http_url\": ");
			ob_json_str(b, h->http_url);
			ob_printf(b, ", \"alive\": %s, \"draining\": %s, \"capacity\": {\"meetings\": %u, \"participants\": %u}, "
				     "\"load\": {\"meetings\": %u, \"participants\": %u, \"copies_per_s\": %llu}, "
				     "\"placed\": %u, \"updated\": %lld}",
				  h->registered ? "true" : "false", h->drain ? "true" : "false", h->cap_m, h->cap_p,
				  h->load_m, h->load_p, (unsigned long long)h->copies, h->placed, (long long)h->updated);
		}
		ob_printf(b, "], \"totals\": {\"hosts\": %u, \"meetings\": %llu, \"participants\": %llu, "
			     "\"placed\": %llu, \"capacity\": {\"meetings\": %llu, \"participants\": %llu}}}\n",
			  alive, (unsigned long long)tm, (unsigned long long)tp, (unsigned long long)placed,
			  (unsigned long long)cm, (unsigned long long)cp);
	} else {
		ob_printf(b, "zone: host %s%s, etcd %s, revision %lld, read %.1f s ago\n", z->zc->host,
			  z->ctx->zstats.registered ? "" : " (not registered)", etcd_endpoint(z->etcd),
			  (long long)s->rev, age);
		for (unsigned i = 0; i < s->n_hosts; i++) {
			const struct zhost *h = &s->hosts[i];
			ob_printf(b, "host %s %s%s address %s http_url %s meetings %u/%u (placed %u) participants %u/%u\n",
				  h->name, h->registered ? "alive" : "gone", h->drain ? " draining" : "", h->address,
				  h->http_url, h->load_m, h->cap_m, h->placed, h->load_p, h->cap_p);
		}
		ob_printf(b, "total: hosts %u meetings %llu/%llu (placed %llu) participants %llu/%llu\n", alive,
			  (unsigned long long)tm, (unsigned long long)cm, (unsigned long long)placed,
			  (unsigned long long)tp, (unsigned long long)cp);
	}
	slot_done(sl);
}

static bool names_meeting(int argc, char **argv)
{
	static const char *const cmds[] = { "meeting", "participant", "stream", "sub", "slot" };
	if (argc < 3 || argv[2][0] == '-')
		return false;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[0], cmds[i]) == 0)
			return strcmp(argv[0], "meeting") != 0 ||
			       (strcmp(argv[1], "create") != 0 && strcmp(argv[1], "list") != 0);
	return false;
}

/* Does the command change a meeting's controls (zone_controls.h: set on its home only)? */
static bool sets_controls(int argc, char **argv)
{
	if (argc < 3 || strcmp(argv[0], "meeting") != 0)
		return false;
	if (strcmp(argv[1], "lock") == 0 || strcmp(argv[1], "unlock") == 0 || strcmp(argv[1], "passcode") == 0 ||
	    strcmp(argv[1], "passcode-clear") == 0)
		return true;
	if (strcmp(argv[1], "set") != 0)
		return false;
	for (int i = 3; i < argc; i++)   /* (--top-n is this copy's own) */
		if (strncmp(argv[i], "--waiting-room", 14) == 0 || strncmp(argv[i], "--self-unmute", 13) == 0 ||
		    strncmp(argv[i], "--share", 7) == 0 || strncmp(argv[i], "--max-sharers", 13) == 0)
			return true;
	return false;
}

/* Post the txn that makes host carry meeting too (zone cascade; spill: the answer sends the request
 * there). */
static void cascade_txn(struct zone *z, struct slot *sl, const char *meeting, const char *host, bool json, bool spill)
{
	struct zop *op = op_new(z, OP_CASCADE, sl);
	if (!op) {
		slot_fail(sl, "out of memory");
		return;
	}
	snprintf(op->meeting, sizeof(op->meeting), "%s", meeting);
	snprintf(op->host, sizeof(op->host), "%s", host);
	op->json = json;
	op->tries = spill;
	char ck[VAL_NAME_MAX + ZONE_NAME_MAX + 2];
	snprintf(ck, sizeof(ck), "%.63s/%.63s", meeting, host);
	json_t *b = json_pack("{s:[{s:s, s:o, s:s, s:s}], s:[{s:{s:o, s:o}}]}",
			      "compare", "target", "CREATE", "key", key_json("meetings/", meeting),
			      "result", "GREATER", "create_revision", "0",
			      "success", "request_put", "key", key_json("cascade/", ck), "value", b64_json("{}"));
	sl->state = SLOT_ZONE;
	post(z, op, "/v3/kv/txn", b);
}

/* participant add for a meeting of ours with this host full: another live host with room carries the
 * meeting too (one that does already first, then the one with the most free share) and the request
 * goes there (zone_cascade.h). false: no such host (the caller refuses). */
static bool spill(struct zone *z, struct slot *sl, const char *meeting, bool json)
{
	if (!z->snap.ok || !snap_meeting(&z->snap, meeting))
		return false;
	struct zone_place_host ph[ZONE_MAX_HOSTS];
	unsigned n = 0;
	for (unsigned i = 0; i < z->snap.n_hosts; i++) {
		const struct zhost *h = &z->snap.hosts[i];
		ph[n++] = (struct zone_place_host){ .name = h->name, .cap_meetings = UINT32_MAX,
						    .cap_participants = h->cap_p, .meetings = 0,
						    .participants = h->load_p,
						    .alive = h->registered && strcmp(h->name, z->zc->host) != 0,
						    .draining = h->drain };
	}
	struct zone_place_host carriers[ZONE_MAX_HOSTS];
	unsigned nc = 0;
	for (unsigned i = 0; i < n; i++)
		if (cascade_is_carrier(z->casc, meeting, ph[i].name))
			carriers[nc++] = ph[i];
	int best = zone_place(carriers, nc);
	const char *target = best >= 0 ? carriers[best].name : NULL;
	if (!target) {
		best = zone_place(ph, n);
		target = best >= 0 ? ph[best].name : NULL;
	}
	if (!target)
		return false;
	cascade_txn(z, sl, meeting, target, json, true);
	return true;
}

bool zone_slot_run(struct zone *z, struct slot *sl, int argc, char **argv, uint64_t now)
{
	if (argc < 1)
		return false;
	bool json = false;
	int n = argc;
	for (int i = 0; i < argc; i++)
		json |= strcmp(argv[i], "--json") == 0;
	while (n > 0 && strcmp(argv[n - 1], "--json") == 0)
		n--;
	bool zone_cmd = strcmp(argv[0], "zone") == 0;
	bool create = argc >= 3 && strcmp(argv[0], "meeting") == 0 && strcmp(argv[1], "create") == 0;
	bool end = argc >= 3 && strcmp(argv[0], "meeting") == 0 && strcmp(argv[1], "end") == 0;
	bool local = names_meeting(argc, argv) && model_find_meeting(z->ctx->model, argv[2]) != MMR_ID_NONE;
	if (local && argc >= 2 && strcmp(argv[0], "participant") == 0 && strcmp(argv[1], "add") == 0 &&
	    z->ctx->model->n_parts >= z->zc->max_participants) {
		slot_begin(sl, argc, argv);
		if (spill(z, sl, argv[2], json))
			return true;
		slot_fail(sl, "too many participants on this host (the limit is %u: zone max_participants)",
			  z->zc->max_participants);
		return true;
	}
	if (local && sets_controls(n, argv)) {
		/* a copy that is not the meeting's home (a carrier): its controls are its home's
		 * (zone_controls.h), changed there only */
		const struct zmeet *zm = z->snap.ok ? snap_meeting(&z->snap, argv[2]) : NULL;
		if (zm && strcmp(zm->host, z->zc->host) != 0) {
			slot_begin(sl, argc, argv);
			struct zhost *h = snap_host(&z->snap, zm->host, false);
			const char *url = h && h->http_url[0] ? h->http_url : "";
			z->ctx->zstats.redirects++;
			snprintf(sl->req.redirect, sizeof(sl->req.redirect), "%s", url);
			slot_fail(sl, "meeting '%s': its controls are set on its home, host %s (%s): ask that host", argv[2],
				  zm->host, url[0] ? url : "no http_url");
			return true;
		}
	}
	if (!zone_cmd && !create && !(names_meeting(argc, argv) && (end || !local)))
		return false;
	if ((create || end) && !val_name_ok(argv[2]))
		return false;   /* the usual error */
	if (end && local) {
		/* a meeting here that etcd places elsewhere (the next read ends it): ended here only */
		const struct zmeet *zm = z->snap.ok ? snap_meeting(&z->snap, argv[2]) : NULL;
		if (zm && strcmp(zm->host, z->zc->host) != 0)
			return false;
	}
	if (names_meeting(argc, argv) && !local) {
		/* not here: placed on another host? */
		const struct zmeet *zm = z->snap.ok ? snap_meeting(&z->snap, argv[2]) : NULL;
		if (!zm || strcmp(zm->host, z->zc->host) == 0)
			return false;   /* the usual "no meeting" */
		slot_begin(sl, argc, argv);
		struct zhost *h = snap_host(&z->snap, zm->host, false);
		if (!h || !h->registered) {
			/* its host is gone: failover places it again (zone_failover.h) */
			slot_fail(sl, "zone: host %s left the zone: meeting '%s' is being placed again; try again",
				  zm->host, argv[2]);
			return true;
		}
		const char *url = h && h->http_url[0] ? h->http_url : "";
		z->ctx->zstats.redirects++;
		snprintf(sl->req.redirect, sizeof(sl->req.redirect), "%s", url);
		slot_fail(sl, "meeting '%s' is on host %s (%s): ask that host", argv[2], zm->host, url[0] ? url : "no http_url");
		return true;
	}
	slot_begin(sl, argc, argv);
	sl->req.json = json;
	if (zone_cmd) {
		const char *sub = n >= 2 ? argv[1] : "";
		if (strcmp(sub, "status") == 0 && n == 2) {
			if (!snap_fresh(z, now)) {
				z->ctx->zstats.refused++;
				slot_fail(sl, "zone: etcd unreachable (no answer for %s; last error: %s)",
					  z->snap.ok ? "over 3 s" : "ever", z->last_err[0] ? z->last_err : "none");
			} else {
				status_reply(z, sl, json, now);
			}
			return true;
		}
		if ((strcmp(sub, "drain") == 0 || strcmp(sub, "undrain") == 0) && n <= 3) {
			const char *host = n == 3 ? argv[2] : z->zc->host;
			if (!zone_host_name_ok(host)) {
				slot_fail(sl, "bad host name '%.64s' (letters, digits, '.', '_' and '-', 1..63)", host);
				return true;
			}
			bool drain = strcmp(sub, "drain") == 0;
			struct zop *op = op_new(z, drain ? OP_DRAIN : OP_FORGET, sl);
			if (!op) {
				slot_fail(sl, "out of memory");
				return true;
			}
			snprintf(op->host, sizeof(op->host), "%s", host);
			op->json = json;
			json_t *b = json_object();
			json_object_set_new(b, "key", key_json("drain/", host));
			if (drain)
				json_object_set_new(b, "value", b64_json("1"));
			sl->state = SLOT_ZONE;
			post(z, op, drain ? "/v3/kv/put" : "/v3/kv/deleterange", b);
			return true;
		}
		if (strcmp(sub, "cascade") == 0 && n == 4) {
			/* zone cascade MEETING HOST: HOST carries the meeting too (zone_cascade.h); only while
			 * the meeting is placed (the txn compares its key) */
			if (!val_name_ok(argv[2]) || !zone_host_name_ok(argv[3])) {
				slot_fail(sl, "usage: zone cascade MEETING HOST (a meeting name, a host name)");
				return true;
			}
			cascade_txn(z, sl, argv[2], argv[3], json, false);
			return true;
		}
		slot_fail(sl, "usage: zone status | zone drain [HOST] | zone undrain [HOST] | zone cascade MEETING HOST");
		return true;
	}
	struct zop *op = op_new(z, create ? OP_PLACE_RANGE : OP_END, sl);
	char **v = op ? argv_copy(argc, argv) : NULL;
	if (!v) {
		if (op)
			op_free(op);
		slot_fail(sl, "out of memory");
		return true;
	}
	op->argc = argc;
	op->argv = v;
	op->json = json;
	snprintf(op->meeting, sizeof(op->meeting), "%s", argv[2]);
	sl->state = SLOT_ZONE;
	if (create) {
		place_range(z, op);
	} else {
		json_t *b = json_object();
		json_object_set_new(b, "key", key_json("meetings/", argv[2]));
		post(z, op, "/v3/kv/deleterange", b);
	}
	return true;
}

const char *zone_meeting_elsewhere(struct zone *z, const char *meeting, const char **host)
{
	const struct zmeet *zm = z && z->snap.ok ? snap_meeting(&z->snap, meeting) : NULL;
	if (!zm || strcmp(zm->host, z->zc->host) == 0 || cascade_carries(z->casc, meeting))
		return NULL;
	const struct zhost *h = snap_host(&z->snap, zm->host, false);
	z->ctx->zstats.redirects++;
	*host = zm->host;
	return h ? h->http_url : "";
}

void zone_slot_gone(struct zone *z, struct slot *sl)
{
	for (struct zop *op = z ? z->ops : NULL; op; op = op->next)
		if (op->sl == sl)
			op->sl = NULL;
}

/* ---- the loop ------------------------------------------------------------------------------------- */

void zone_tick(struct zone *z, uint64_t now)
{
	register_tick(z, now);
	watch_tick(z, now);
	if (!z->poll_busy && now >= z->next_poll_ns) {
		z->next_poll_ns = now + POLL_NS;
		struct zop *op = op_new(z, OP_POLL, NULL);
		if (op && post(z, op, "/v3/kv/range", range_prefix()) == 0)
			z->poll_busy = true;
	}
}

unsigned zone_pollfds(struct zone *z, struct pollfd *pfd, unsigned max)
{
	return etcd_pollfds(z->etcd, pfd, max);
}

uint64_t zone_timeout_ns(struct zone *z, uint64_t now)
{
	uint64_t t = etcd_timeout_ns(z->etcd, now);
	/* the timers of what is not in flight already (a call in flight wakes us through its socket) */
	uint64_t next[] = { z->poll_busy ? UINT64_MAX : z->next_poll_ns,
			    z->put_busy || (!z->lease && !z->no_lease) ? UINT64_MAX : z->next_put_ns,
			    z->ka_busy || !z->lease ? UINT64_MAX : z->next_ka_ns,
			    z->grant_busy || z->lease || z->no_lease ? UINT64_MAX : z->next_grant_ns,
			    z->watch_busy ? UINT64_MAX : z->next_watch_ns };
	for (size_t i = 0; i < sizeof(next) / sizeof(next[0]); i++) {
		uint64_t d = next[i] > now ? next[i] - now : 0;
		if (d < t)
			t = d;
	}
	return t;
}

void zone_run(struct zone *z, const struct pollfd *pfd, unsigned n, uint64_t now)
{
	etcd_run(z->etcd, pfd, n, now);
}

struct zone *zone_open(struct ctl_ctx *ctx, char *err, size_t errlen)
{
	const struct zone_config *zc = &ctx->cfg->zone;
	struct zone *z = calloc(1, sizeof(*z));
	if (!z) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	z->ctx = ctx;
	z->zc = zc;
	const char *nl = getenv("MMR_TEST_ZONE_NO_LEASE");
	z->no_lease = nl && strcmp(nl, "1") == 0;
	const char *nf = getenv("MMR_TEST_ZONE_NO_FAILOVER");
	z->no_failover = nf && strcmp(nf, "1") == 0;
	if (z->no_failover)
		ctl_logl(CTL_LOG_WARNING, "zone: MMR_TEST_ZONE_NO_FAILOVER=1: a gone host's meetings are NOT placed "
					  "again (tests only)");
	z->etcd = etcd_open((const char (*)[256])zc->etcd, zc->n_etcd, ETCD_TIMEOUT_MS, &ctx->zstats.etcd);
	if (!z->etcd) {
		free(z);
		snprintf(err, errlen, "cannot start the etcd client (libcurl)");
		return NULL;
	}
	z->casc = cascade_open(ctx, z->etcd, zc, run_internal_cb, z, err, errlen);
	if (!z->casc) {
		etcd_close(z->etcd);
		free(z);
		return NULL;
	}
	const char *nc = getenv("MMR_TEST_ZONE_NO_CONTROLS");
	bool no_controls = nc && strcmp(nc, "1") == 0;
	if (no_controls)
		ctl_logl(CTL_LOG_WARNING, "zone: MMR_TEST_ZONE_NO_CONTROLS=1: meetings' controls and bans are NOT "
					  "written to the zone (tests only)");
	size_t sl = 0;
	const uint8_t *secret = cascade_secret(z->casc, &sl);
	z->ctl = zctl_open(ctx, z->etcd, secret, sl, run_internal_cb, z, no_controls);
	if (!z->ctl) {
		cascade_close(z->casc);
		etcd_close(z->etcd);
		free(z);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (z->no_lease)
		ctl_logl(CTL_LOG_WARNING, "zone: MMR_TEST_ZONE_NO_LEASE=1: registering WITHOUT a lease (tests only)");
	ctl_log("zone: host %s, %u etcd member(s) from %s", zc->host, zc->n_etcd, zc->etcd[0]);
	return z;
}

void zone_close(struct zone *z)
{
	if (!z)
		return;
	etcd_close(z->etcd);   /* (calls in flight are dropped: their done functions never run) */
	while (z->ops) {
		struct zop *op = z->ops;
		z->ops = op->next;
		argv_free(op->argc, op->argv);
		free(op);
	}
	free(z->snap.meets);
	zctl_close(z->ctl);
	cascade_close(z->casc);
	free(z);
}
