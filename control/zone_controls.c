/*
 * zone_controls.c - a meeting's controls (waiting room, lock, self-unmute, share policy, passcode,
 * bans) in etcd and applied on every copy of it (see zone_controls.h).
 */
#define _GNU_SOURCE
#include "zone_controls.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller.h"
#include "etcd_client.h"
#include "hex.h"
#include "log.h"
#include "model.h"
#include "passcode.h"
#include "token.h"
#include "values.h"
#include "zone_seal.h"

#define ROWS 256
#define REC_MAX 1024

struct krow {
	char meeting[VAL_NAME_MAX + 1];
	char name[VAL_NAME_MAX + 1];    /* bans: the identity */
	char *text;                     /* controls: the record */
};

struct mrow {
	char meeting[VAL_NAME_MAX + 1];
	char sig[256];                  /* home: what was last put (in memory only: holds the hash) */
	char applied[REC_MAX];          /* copy: the record last applied */
	bool busy, closed, swept;
};

struct zctl {
	struct ctl_ctx *ctx;
	struct etcd *etcd;
	uint8_t secret[TOKEN_SECRET_MAX];
	size_t secret_len;
	zctl_run_fn run;
	void *run_arg;
	bool off;
	struct krow *ctl, *bans;
	unsigned n_ctl, n_bans, cap_ctl, cap_bans;
	struct mrow rows[ROWS];
};

struct zctl *zctl_open(struct ctl_ctx *ctx, struct etcd *etcd, const uint8_t *secret, size_t secret_len,
		       zctl_run_fn run, void *run_arg, bool off)
{
	struct zctl *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->ctx = ctx;
	c->etcd = etcd;
	if (secret && secret_len <= sizeof(c->secret)) {
		memcpy(c->secret, secret, secret_len);
		c->secret_len = secret_len;
	}
	c->run = run;
	c->run_arg = run_arg;
	c->off = off;
	return c;
}

static void clear_rows(struct zctl *c)
{
	for (unsigned i = 0; i < c->n_ctl; i++)
		free(c->ctl[i].text);
	c->n_ctl = c->n_bans = 0;
}

void zctl_close(struct zctl *c)
{
	if (!c)
		return;
	clear_rows(c);
	free(c->ctl);
	free(c->bans);
	explicit_bzero(c->secret, sizeof(c->secret));
	free(c);
}

void zctl_snap_begin(struct zctl *c)
{
	clear_rows(c);
}

static struct krow *add_row(struct krow **rows, unsigned *n, unsigned *cap)
{
	if (*n == *cap) {
		unsigned nc = *cap ? *cap * 2 : 64;
		struct krow *q = realloc(*rows, nc * sizeof(*q));
		if (!q)
			return NULL;
		*rows = q;
		*cap = nc;
	}
	struct krow *r = &(*rows)[(*n)++];
	memset(r, 0, sizeof(*r));
	return r;
}

void zctl_snap_key(struct zctl *c, const char *rest, const char *val)
{
	if (strncmp(rest, "controls/", 9) == 0 && val_name_ok(rest + 9)) {
		struct krow *r = add_row(&c->ctl, &c->n_ctl, &c->cap_ctl);
		if (r) {
			snprintf(r->meeting, sizeof(r->meeting), "%s", rest + 9);
			r->text = strdup(val);
		}
	} else if (strncmp(rest, "bans/", 5) == 0) {
		const char *sl = strchr(rest + 5, '/');
		if (!sl || (size_t)(sl - (rest + 5)) > VAL_NAME_MAX)
			return;
		char mt[VAL_NAME_MAX + 1];
		snprintf(mt, sizeof(mt), "%.*s", (int)(sl - (rest + 5)), rest + 5);
		if (!val_name_ok(mt) || !val_name_ok(sl + 1) ||
		    strncmp(sl + 1, MODEL_TRUNK_PREFIX, strlen(MODEL_TRUNK_PREFIX)) == 0)
			return;
		struct krow *r = add_row(&c->bans, &c->n_bans, &c->cap_bans);
		if (r) {
			snprintf(r->meeting, sizeof(r->meeting), "%s", mt);
			snprintf(r->name, sizeof(r->name), "%s", sl + 1);
		}
	}
}

static const char *record_of(const struct zctl *c, const char *meeting)
{
	for (unsigned i = 0; i < c->n_ctl; i++)
		if (strcmp(c->ctl[i].meeting, meeting) == 0)
			return c->ctl[i].text;
	return NULL;
}

static bool ban_listed(const struct zctl *c, const char *meeting, const char *name)
{
	for (unsigned i = 0; i < c->n_bans; i++)
		if (strcmp(c->bans[i].meeting, meeting) == 0 && strcmp(c->bans[i].name, name) == 0)
			return true;
	return false;
}

static struct mrow *row(struct zctl *c, const char *meeting)
{
	struct mrow *free_r = NULL;
	struct model *m = c->ctx->model;
	for (unsigned i = 0; i < ROWS; i++) {
		struct mrow *r = &c->rows[i];
		if (strcmp(r->meeting, meeting) == 0)
			return r;
		if (!free_r && !r->busy && (!r->meeting[0] || model_find_meeting(m, r->meeting) == MMR_ID_NONE))
			free_r = r;
	}
	if (free_r) {
		memset(free_r, 0, sizeof(*free_r));
		snprintf(free_r->meeting, sizeof(free_r->meeting), "%s", meeting);
	}
	return free_r;
}

static bool run(struct zctl *c, const char *a0, const char *a1, const char *mt, const char *a3, const char *a4,
		const char *a5, const char *a6, const char *a7, const char *a8, const char *a9, const char *a10,
		const char *a11, const char *a12)
{
	char *argv[] = { (char *)a0, (char *)a1, (char *)mt, (char *)a3, (char *)a4, (char *)a5, (char *)a6,
			 (char *)a7, (char *)a8, (char *)a9, (char *)a10, (char *)a11, (char *)a12, NULL };
	int argc = 0;
	while (argv[argc])
		argc++;
	return c->run(c->run_arg, argc, argv);
}

static void close_copy(struct zctl *c, struct mrow *r, const char *meeting, const char *why)
{
	if (r && r->closed)
		return;
	ctl_logl(CTL_LOG_WARNING, "zone: meeting %s: its controls %s: this copy is closed (waiting room on)",
		 meeting, why);
	if (!run(c, "meeting", "set", meeting, "--waiting-room", "on", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL))
		ctl_logl(CTL_LOG_ERROR, "zone: meeting %s: its waiting room could not be turned on", meeting);
	if (r)
		r->closed = true;
}

/* Apply the record (text) to our copy of meeting. */
static void apply(struct zctl *c, struct mrow *r, const char *meeting, const char *text)
{
	if (!text) {
		close_copy(c, r, meeting, "are not in the zone");
		return;
	}
	if (r) {
		if (strcmp(r->applied, text) == 0)
			return;
		snprintf(r->applied, sizeof(r->applied), "%s", text);
	}
	json_t *j = json_loads(text, 0, NULL);
	json_t *pc = json_object_get(j, "passcode");
	const char *su = json_string_value(json_object_get(j, "self_unmute"));
	const char *sh = json_string_value(json_object_get(j, "share"));
	json_t *ms = json_object_get(j, "max_sharers");
	if (!json_is_object(j) || !json_is_boolean(json_object_get(j, "waiting_room")) ||
	    !json_is_boolean(json_object_get(j, "locked")) || !su || !sh || !json_is_integer(ms) || !pc) {
		json_decref(j);
		close_copy(c, r, meeting, "in the zone are unreadable");
		return;
	}
	bool closed = false;
	char why[300];
	if (json_is_string(pc)) {
		uint8_t rec[PASSCODE_SALT_LEN + PASSCODE_HASH_LEN];
		if (zone_unseal(c->secret, c->secret_len, meeting, json_string_value(pc), rec, sizeof(rec)) < 0) {
			closed = true;
			close_copy(c, r, meeting, "hold a passcode this host cannot unseal (zone secret_file)");
		} else if (passcode_set_hashed(meeting, rec, rec + PASSCODE_SALT_LEN, why, sizeof(why)) < 0) {
			closed = true;
			close_copy(c, r, meeting, "hold a passcode that could not be set");
		}
		explicit_bzero(rec, sizeof(rec));
	} else if (json_is_true(pc)) {
		closed = true;
		close_copy(c, r, meeting, "hold a passcode not in the zone (no secret_file)");
	} else if (passcode_required(meeting) && passcode_set(meeting, NULL, why, sizeof(why)) < 0) {
		closed = true;
		close_copy(c, r, meeting, "could not clear its passcode");
	}
	char n[16];
	snprintf(n, sizeof(n), "%lld", (long long)json_integer_value(ms));
	bool wr = closed || json_is_true(json_object_get(j, "waiting_room"));
	bool ok = run(c, "meeting", "set", meeting, "--waiting-room", wr ? "on" : "off", "--self-unmute", su, "--share",
		      sh, "--max-sharers", n, NULL, NULL) &&
		  run(c, "meeting", json_is_true(json_object_get(j, "locked")) ? "lock" : "unlock", meeting, NULL, NULL,
		      NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
	json_decref(j);
	if (!ok)
		close_copy(c, r, meeting, "could not be applied");
	else if (r)
		r->closed = closed;
	if (ok)
		ctl_log("zone: meeting %s: its home's controls applied%s", meeting, closed ? " (closed)" : "");
}

void zctl_created(struct zctl *c, const char *meeting)
{
	struct mrow *r = row(c, meeting);
	if (r)
		r->applied[0] = '\0', r->closed = false;
	apply(c, r, meeting, record_of(c, meeting));
}

static void done_put(void *arg, json_t *resp, const char *err)
{
	struct mrow *r = arg;
	(void)resp;
	if (r) {
		r->busy = false;
		if (err)
			r->sig[0] = '\0';       /* put again at the next read */
	}
	if (err)
		ctl_logl(CTL_LOG_WARNING, "zone: a meeting's controls not put: %s", err);
}

static void put(struct zctl *c, struct mrow *r, const char *key, const char *val)
{
	char k64[512], v64[REC_MAX * 4 / 3 + 8];
	if (etcd_b64(key, strlen(key), k64, sizeof(k64)) < 0 || etcd_b64(val, strlen(val), v64, sizeof(v64)) < 0)
		return;
	json_t *b = json_pack("{s:s, s:s}", "key", k64, "value", v64);
	if (b && etcd_post(c->etcd, "/v3/kv/put", b, done_put, r) == 0 && r)
		r->busy = true;
}

/* The home: the record put when it changed. */
static void write_record(struct zctl *c, struct mrow *r, const char *meeting, uint32_t id)
{
	const struct m_meeting *mm = &c->ctx->model->meetings[id];
	uint8_t rec[PASSCODE_SALT_LEN + PASSCODE_HASH_LEN];
	char hx[2 * sizeof(rec) + 1] = "-";
	bool has_pc = passcode_get_hashed(meeting, rec, rec + PASSCODE_SALT_LEN);
	if (has_pc)
		mmr_hex_encode(rec, sizeof(rec), hx);
	char sig[sizeof(r->sig)];
	snprintf(sig, sizeof(sig), "%d %d %d %u %d %s", mm->waiting_room, mm->unmute_forbidden, mm->share_host_only,
		 mm->max_sharers, mm->locked, hx);
	explicit_bzero(hx, sizeof(hx));
	if (r->busy || strcmp(sig, r->sig) == 0) {
		explicit_bzero(sig, sizeof(sig));
		explicit_bzero(rec, sizeof(rec));
		return;
	}
	char sealed[ZSEAL_TEXT_MAX] = "";
	json_t *pc = json_null();
	if (has_pc && c->secret_len) {
		if (zone_seal(c->secret, c->secret_len, meeting, rec, sizeof(rec), sealed, sizeof(sealed)) < 0) {
			explicit_bzero(rec, sizeof(rec));
			return;
		}
		pc = json_string(sealed);
	} else if (has_pc) {
		pc = json_true();
	}
	explicit_bzero(rec, sizeof(rec));
	json_t *j = json_pack("{s:b, s:s, s:s, s:i, s:b, s:o}", "waiting_room", mm->waiting_room, "self_unmute",
			      mm->unmute_forbidden ? "forbidden" : "allowed", "share",
			      mm->share_host_only ? "host_only" : "everyone", "max_sharers", (int)mm->max_sharers,
			      "locked", mm->locked, "passcode", pc);
	char text[REC_MAX];
	size_t tn = j ? json_dumpb(j, text, sizeof(text) - 1, JSON_COMPACT) : 0;
	json_decref(j);
	if (tn == 0 || tn >= sizeof(text) - 1)
		return;
	text[tn] = '\0';
	char key[256];
	snprintf(key, sizeof(key), "/mmr/zone/controls/%s", meeting);
	snprintf(r->sig, sizeof(r->sig), "%s", sig);
	snprintf(r->applied, sizeof(r->applied), "%s", text);
	put(c, r, key, text);
	explicit_bzero(sig, sizeof(sig));
}

void zctl_meeting(struct zctl *c, const char *meeting, bool home)
{
	struct model *m = c->ctx->model;
	uint32_t id = model_find_meeting(m, meeting);
	if (id == MMR_ID_NONE)
		return;
	struct mrow *r = row(c, meeting);
	/* bans: ours into etcd (whoever ejected), the zone's onto our copy */
	for (uint32_t i = 0; i < m->n_bans && !c->off; i++) {
		if (m->bans[i].meeting != id || ban_listed(c, meeting, m->bans[i].name) ||
		    strncmp(m->bans[i].name, MODEL_TRUNK_PREFIX, strlen(MODEL_TRUNK_PREFIX)) == 0)
			continue;
		char key[256];
		snprintf(key, sizeof(key), "/mmr/zone/bans/%s/%s", meeting, m->bans[i].name);
		put(c, NULL, key, "1");
	}
	for (unsigned i = 0; i < c->n_bans; i++) {
		const char *who = c->bans[i].name;
		if (strcmp(c->bans[i].meeting, meeting) != 0 || model_banned(m, id, who))
			continue;
		if (model_find_participant(m, id, who) != MMR_ID_NONE) {
			run(c, "participant", "eject", meeting, who, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
		} else if (model_ban_add(m, id, who) < 0) {
			ctl_logl(CTL_LOG_ERROR, "zone: meeting %s: '%s' ejected elsewhere but not banned here (too many)",
				 meeting, who);
			close_copy(c, r, meeting, "(a ban) could not be applied");
			continue;
		}
		ctl_log("zone: meeting %s: '%s' ejected elsewhere: banned here", meeting, who);
	}
	if (!r)
		return;
	if (home) {
		/* (a failover copy that came up closed writes what it has: its waiting room on) */
		if (!c->off)
			write_record(c, r, meeting, id);
	} else {
		apply(c, r, meeting, record_of(c, meeting));
	}
}

static void done_del(void *arg, json_t *resp, const char *err)
{
	(void)arg;
	(void)resp;
	if (err)
		ctl_logl(CTL_LOG_WARNING, "zone: controls of an ended meeting not deleted: %s", err);
}

void zctl_sweep(struct zctl *c, bool (*placed)(void *arg, const char *meeting), void *arg)
{
	for (unsigned i = 0; i < c->n_ctl + c->n_bans; i++) {
		const char *mt = i < c->n_ctl ? c->ctl[i].meeting : c->bans[i - c->n_ctl].meeting;
		if (placed(arg, mt) || model_find_meeting(c->ctx->model, mt) != MMR_ID_NONE ||
		    (i > c->n_ctl && strcmp(mt, c->bans[i - c->n_ctl - 1].meeting) == 0))
			continue;   /* (one prefix delete for a meeting's bans: they come in key order) */
		char key[256], end[256], mkey[256], k64[400], e64[400], m64[400];
		snprintf(key, sizeof(key), "/mmr/zone/%s/%s%s", i < c->n_ctl ? "controls" : "bans", mt,
			 i < c->n_ctl ? "" : "/");
		snprintf(end, sizeof(end), "%s", key);
		end[strlen(end) - 1]++;         /* bans: the prefix's end ('/' + 1; controls/<id> is one key) */
		snprintf(mkey, sizeof(mkey), "/mmr/zone/meetings/%s", mt);
		if (etcd_b64(key, strlen(key), k64, sizeof(k64)) < 0 || etcd_b64(mkey, strlen(mkey), m64, sizeof(m64)) < 0 ||
		    etcd_b64(end, strlen(end), e64, sizeof(e64)) < 0)
			continue;
		/* only while the meeting is not placed: one created again under the name keeps its keys */
		json_t *b = i < c->n_ctl
			? json_pack("{s:[{s:s, s:s, s:s, s:s}], s:[{s:{s:s}}]}", "compare", "target", "CREATE", "key", m64,
				    "result", "EQUAL", "create_revision", "0", "success", "request_delete_range", "key", k64)
			: json_pack("{s:[{s:s, s:s, s:s, s:s}], s:[{s:{s:s, s:s}}]}", "compare", "target", "CREATE", "key",
				    m64, "result", "EQUAL", "create_revision", "0", "success", "request_delete_range", "key",
				    k64, "range_end", e64);
		if (b)
			etcd_post(c->etcd, "/v3/kv/txn", b, done_del, NULL);
	}
}
