/*
 * zone_cascade.c - cascading between hosts of a zone (issue 16): the trunks' SRTP keys (see
 * zone_cascade.h).
 */
#include "zone_cascade.h"

#include <stdarg.h>
#include <string.h>

#include "zone_conf.h"
#include "zone_seal.h"
#include "values.h"

#define CASCADE_SECRET_MIN 32
#define CASCADE_SECRET_MAX 512

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

int cascade_trunk_key(const uint8_t *secret, size_t secret_len, enum srtp_suite suite, const char *meeting,
		      int64_t create_rev, uint64_t epoch, const char *from, const char *to, struct srtp_master *out)
{
	memset(out, 0, sizeof(*out));
	int klen = srtp_suite_key_len(suite);
	int slen = srtp_suite_salt_len(suite);
	size_t ml = meeting ? strlen(meeting) : 0, fl = from ? strlen(from) : 0, tl = to ? strlen(to) : 0;
	if (klen <= 0 || slen <= 0 || !secret || secret_len < CASCADE_SECRET_MIN || secret_len > CASCADE_SECRET_MAX ||
	    ml == 0 || ml > VAL_NAME_MAX || fl == 0 || fl > ZONE_NAME_MAX || tl == 0 || tl > ZONE_NAME_MAX ||
	    create_rev < 1 || epoch == 0 || strcmp(from, to) == 0)
		return -1;
	/* info: a label, then each field NUL-terminated or fixed-size: no two inputs give one string */
	uint8_t info[16 + VAL_NAME_MAX + 1 + 16 + 2 * (ZONE_NAME_MAX + 1) + 1], *p = info;
	static const char label[] = "mmr trunk v1";
	memcpy(p, label, sizeof(label));
	p += sizeof(label);
	memcpy(p, meeting, ml + 1);
	p += ml + 1;
	put64(p, (uint64_t)create_rev);
	put64(p + 8, epoch);
	p += 16;
	memcpy(p, from, fl + 1);
	p += fl + 1;
	memcpy(p, to, tl + 1);
	p += tl + 1;
	*p++ = (uint8_t)suite;
	uint8_t okm[SRTP_MAX_KEY + SRTP_MAX_SALT];
	int rc = -1;
	if (zone_hkdf_sha256(secret, secret_len, label, info, (size_t)(p - info), okm, (size_t)klen + (size_t)slen) == 0) {
		out->suite = (uint8_t)suite;
		out->key_len = (uint8_t)klen;
		out->salt_len = (uint8_t)slen;
		memcpy(out->key, okm, (size_t)klen);
		memcpy(out->salt, okm + klen, (size_t)slen);
		rc = 0;
	}
	explicit_bzero(okm, sizeof(okm));
	explicit_bzero(info, sizeof(info));
	return rc;
}

/* ---- the zone's part: carriers, trunks, streams ----------------------------------------------------- */

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "etcd_client.h"
#include "log.h"
#include "controller.h"
#include "model.h"
#include "token.h"

#define CASC_HOSTS   64
#define CASC_ROWS    256       /* cascaded meetings, their trunks and stream lists (more are left out) */
#define CASC_STREAMS 2048     /* bytes of one host's stream list */
#define EXT_AUDIO_LEVEL 2     /* in model_participant_ext_ids' order (values.c ext_names) */

struct casc_host {
	char name[ZONE_NAME_MAX + 1];
	char address[64];
	uint16_t media_port;
};

struct casc_row {                /* cascade/<meeting>/<host> or streams/<meeting>/<host>, meetings/<id> */
	char meeting[VAL_NAME_MAX + 1];
	char host[ZONE_NAME_MAX + 1];
	char *streams;           /* streams/: the JSON text (malloc) */
	char peer[ZONE_NAME_MAX + 1];   /* trunks/<meeting>/<host>/<peer> */
	uint64_t epoch;                 /* trunks/: its value */
	int64_t create_rev;             /* meetings/: the placement's create revision */
};

/* what this host knows of one of its SRTP trunks (meeting, peer) */
struct casc_trunk {
	char meeting[VAL_NAME_MAX + 1];
	char peer[ZONE_NAME_MAX + 1];
	uint64_t applied;               /* the epoch whose keys it has; 0: not known */
	uint64_t want;                  /* a new epoch asked for (the bump's value); 0: none */
	bool busy;                      /* the bump in flight */
	bool used;
};

struct casc_snap {
	struct casc_host hosts[CASC_HOSTS];
	unsigned n_hosts;
	struct casc_row homes[CASC_ROWS], carriers[CASC_ROWS], streams[CASC_ROWS], epochs[CASC_ROWS];
	unsigned n_homes, n_carriers, n_streams, n_epochs;
};

struct casc_put {
	char meeting[VAL_NAME_MAX + 1];
	char text[CASC_STREAMS];
	bool busy;
	struct cascade *c;
};

struct cascade {
	struct ctl_ctx *ctx;
	struct etcd *etcd;
	char me[ZONE_NAME_MAX + 1];
	cascade_run_fn run;
	void *run_arg;
	struct casc_snap snap, next;
	bool have;
	struct casc_put puts[CASC_ROWS];
	struct casc_trunk trunks[CASC_ROWS];
	uint8_t secret[TOKEN_SECRET_MAX];
	size_t secret_len;              /* 0: no secret_file: no SRTP trunks */
};

static void snap_clear(struct casc_snap *s)
{
	for (unsigned i = 0; i < s->n_streams; i++)
		free(s->streams[i].streams);
	s->n_hosts = s->n_homes = s->n_carriers = s->n_streams = s->n_epochs = 0;
}

struct cascade *cascade_open(struct ctl_ctx *ctx, struct etcd *etcd, const struct zone_config *zc,
			     cascade_run_fn run, void *run_arg, char *err, size_t errlen)
{
	struct cascade *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (zc->secret_file[0]) {
		char why[256];
		if (token_load_secret(zc->secret_file, c->secret, &c->secret_len, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "zone secret_file: %s", why);
			free(c);
			return NULL;
		}
	}
	c->ctx = ctx;
	c->etcd = etcd;
	snprintf(c->me, sizeof(c->me), "%s", zc->host);
	c->run = run;
	c->run_arg = run_arg;
	for (unsigned i = 0; i < CASC_ROWS; i++)
		c->puts[i].c = c;
	return c;
}

void cascade_close(struct cascade *c)
{
	if (!c)
		return;
	snap_clear(&c->snap);
	snap_clear(&c->next);
	explicit_bzero(c->secret, sizeof(c->secret));
	free(c);
}

const uint8_t *cascade_secret(const struct cascade *c, size_t *len)
{
	*len = c->secret_len;
	return c->secret;
}

static const struct casc_row *find_row(const struct casc_row *rows, unsigned n, const char *meeting,
				       const char *host)
{
	for (unsigned i = 0; i < n; i++)
		if (strcmp(rows[i].meeting, meeting) == 0 && (!host || strcmp(rows[i].host, host) == 0))
			return &rows[i];
	return NULL;
}

void cascade_snap_begin(struct cascade *c)
{
	snap_clear(&c->next);
}

/* "<meeting>/<host>" into row; false: not that shape */
static bool split_row(const char *s, struct casc_row *row)
{
	const char *sl = strchr(s, '/');
	if (!sl || (size_t)(sl - s) > VAL_NAME_MAX)
		return false;
	memset(row, 0, sizeof(*row));
	memcpy(row->meeting, s, (size_t)(sl - s));
	snprintf(row->host, sizeof(row->host), "%s", sl + 1);
	return val_name_ok(row->meeting) && zone_host_name_ok(sl + 1) && strlen(sl + 1) <= ZONE_NAME_MAX;
}

void cascade_snap_key(struct cascade *c, const char *rest, const char *val, int64_t create_rev)
{
	struct casc_snap *n = &c->next;
	if (strncmp(rest, "hosts/", 6) == 0 && zone_host_name_ok(rest + 6) && n->n_hosts < CASC_HOSTS) {
		json_t *j = json_loads(val, 0, NULL);
		const char *a = json_string_value(json_object_get(j, "address"));
		json_int_t p = json_integer_value(json_object_get(j, "media_port"));
		if (a && strlen(a) < sizeof(n->hosts[0].address)) {
			struct casc_host *h = &n->hosts[n->n_hosts++];
			snprintf(h->name, sizeof(h->name), "%s", rest + 6);
			snprintf(h->address, sizeof(h->address), "%s", a);
			h->media_port = p > 0 && p < 65536 ? (uint16_t)p : 5000;
		}
		json_decref(j);
	} else if (strncmp(rest, "meetings/", 9) == 0 && val_name_ok(rest + 9) && n->n_homes < CASC_ROWS &&
		   find_row(n->carriers, n->n_carriers, rest + 9, NULL)) {
		/* (only the cascaded ones: a range answer is sorted, cascade/ comes before meetings/) */
		json_t *j = json_loads(val, 0, NULL);
		const char *h = json_string_value(json_object_get(j, "host"));
		if (h && zone_host_name_ok(h)) {
			struct casc_row *r = &n->homes[n->n_homes++];
			memset(r, 0, sizeof(*r));
			snprintf(r->meeting, sizeof(r->meeting), "%s", rest + 9);
			snprintf(r->host, sizeof(r->host), "%s", h);
			r->create_rev = create_rev;
		}
		json_decref(j);
	} else if (strncmp(rest, "cascade/", 8) == 0 && n->n_carriers < CASC_ROWS) {
		if (split_row(rest + 8, &n->carriers[n->n_carriers]))
			n->n_carriers++;
	} else if (strncmp(rest, "trunks/", 7) == 0 && n->n_epochs < CASC_ROWS) {
		struct casc_row *r = &n->epochs[n->n_epochs];
		const char *p2 = strchr(rest + 7, '/');
		const char *p3 = p2 ? strchr(p2 + 1, '/') : NULL;
		if (p2 && p3 && (size_t)(p3 - p2 - 1) <= ZONE_NAME_MAX) {
			memset(r, 0, sizeof(*r));
			size_t ml = (size_t)(p2 - (rest + 7));
			if (ml <= VAL_NAME_MAX) {
				memcpy(r->meeting, rest + 7, ml);
				memcpy(r->host, p2 + 1, (size_t)(p3 - p2 - 1));
				snprintf(r->peer, sizeof(r->peer), "%s", p3 + 1);
				char *end;
				unsigned long long e = strtoull(val, &end, 10);
				if (val_name_ok(r->meeting) && zone_host_name_ok(r->host) && zone_host_name_ok(r->peer) &&
				    *end == '\0' && e > 0) {
					r->epoch = e;
					n->n_epochs++;
				}
			}
		}
	} else if (strncmp(rest, "streams/", 8) == 0 && n->n_streams < CASC_ROWS) {
		struct casc_row *r = &n->streams[n->n_streams];
		if (split_row(rest + 8, r) && strlen(val) < CASC_STREAMS && (r->streams = strdup(val)))
			n->n_streams++;
	}
}

void cascade_snap_end(struct cascade *c)
{
	snap_clear(&c->snap);
	c->snap = c->next;
	c->next.n_streams = 0;       /* (its texts moved) */
	c->next.n_hosts = c->next.n_homes = c->next.n_carriers = c->next.n_epochs = 0;
	c->have = true;
}

static const struct casc_host *find_host(const struct casc_snap *s, const char *name)
{
	for (unsigned i = 0; i < s->n_hosts; i++)
		if (strcmp(s->hosts[i].name, name) == 0)
			return &s->hosts[i];
	return NULL;
}

bool cascade_is_carrier(const struct cascade *c, const char *meeting, const char *host)
{
	return c && c->have && find_row(c->snap.carriers, c->snap.n_carriers, meeting, host) != NULL;
}

bool cascade_carries(const struct cascade *c, const char *meeting)
{
	return c && c->have && find_row(c->snap.carriers, c->snap.n_carriers, meeting, c->me) != NULL;
}

static bool run(struct cascade *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Run "word word ..." (fmt's words, separated by one space; no word has a space). */
static bool run(struct cascade *c, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	char *argv[32];
	int argc = 0;
	for (char *t = strtok(line, " "); t && argc < 31; t = strtok(NULL, " "))
		argv[argc++] = t;
	argv[argc] = NULL;
	return c->run(c->run_arg, argc, argv);
}

static void done_put(void *arg, json_t *resp, const char *err)
{
	struct casc_put *p = arg;
	p->busy = false;
	if (!resp) {
		ctl_logl(CTL_LOG_WARNING, "zone: cascade: streams of meeting %s not put: %s", p->meeting, err);
		p->text[0] = '\0';   /* again at the next read */
	}
}

/* Our own participants' streams of meeting mid as JSON (what streams/<meeting>/<me> holds). */
static void own_streams(const struct model *m, uint32_t mid, char *out, size_t cap)
{
	size_t off = (size_t)snprintf(out, cap, "[");
	for (uint32_t p = m->meetings[mid].first_part; p != MMR_ID_NONE; p = m->parts[p].next) {
		if (model_is_trunk(m->parts[p].name))
			continue;
		for (uint32_t s = m->parts[p].first_stream; s != MMR_ID_NONE; s = m->streams[s].next) {
			const struct m_stream *ss = &m->streams[s];
			if (ss->learn || ss->group != MMR_ID_NONE)
				continue;   /* not learned yet; simulcast groups do not cross yet */
			uint8_t ids[VAL_EXT_N];
			model_participant_ext_ids(&m->parts[p], ids);
			/* level_id: the publisher's audio level extension id (the block crosses as it came) */
			int k = snprintf(out + off, cap - off, "%s{\"ssrc\":%u,\"kind\":\"%s\",\"codec\":\"%s\","
					 "\"layers\":%u,\"spatial\":%u,\"level_id\":%u}", off > 1 ? "," : "", ss->ssrc,
					 val_kind_name(ss->kind), val_codec_name(ss->codec), ss->layers, ss->spatial,
					 ss->kind == MMR_KIND_AUDIO ? ids[EXT_AUDIO_LEVEL] : 0u);
			if (k < 0 || (size_t)k >= cap - off - 2)
				goto done;
			off += (size_t)k;
		}
	}
done:
	snprintf(out + off, cap - off, "]");
}

static void put_streams(struct cascade *c, const char *meeting, const char *text, int64_t lease)
{
	const struct casc_row *cur = find_row(c->snap.streams, c->snap.n_streams, meeting, c->me);
	if (cur && strcmp(cur->streams, text) == 0)
		return;
	struct casc_put *p = NULL, *free_p = NULL;
	for (unsigned i = 0; i < CASC_ROWS && !p; i++) {
		if (strcmp(c->puts[i].meeting, meeting) == 0)
			p = &c->puts[i];
		else if (!free_p && !c->puts[i].busy && (!c->puts[i].meeting[0] ||
			 !find_row(c->snap.carriers, c->snap.n_carriers, c->puts[i].meeting, NULL)))
			free_p = &c->puts[i];
	}
	if (!p)
		p = free_p;
	if (!p || p->busy || (strcmp(p->meeting, meeting) == 0 && strcmp(p->text, text) == 0 && !cur))
		return;     /* in flight, or put already and the read does not show it yet */
	char key[256], k64[400], v64[CASC_STREAMS * 4 / 3 + 8];
	snprintf(key, sizeof(key), "/mmr/zone/streams/%s/%s", meeting, c->me);
	if (etcd_b64(key, strlen(key), k64, sizeof(k64)) < 0 || etcd_b64(text, strlen(text), v64, sizeof(v64)) < 0)
		return;
	json_t *b = json_pack("{s:s, s:s}", "key", k64, "value", v64);
	if (b && lease)
		json_object_set_new(b, "lease", json_integer(lease));
	snprintf(p->meeting, sizeof(p->meeting), "%s", meeting);
	snprintf(p->text, sizeof(p->text), "%s", text);
	if (b && etcd_post(c->etcd, "/v3/kv/put", b, done_put, p) == 0)
		p->busy = true;
}

/* The trunk _trunk.<host> of meeting mid publishes exactly the streams of list (JSON text). */
static void trunk_streams(struct cascade *c, uint32_t mid, uint32_t trunk, const char *list)
{
	struct model *m = c->ctx->model;
	const char *mname = m->meetings[mid].name, *tname = m->parts[trunk].name;
	json_t *a = json_loads(list, 0, NULL), *e;
	size_t i;
	json_array_foreach(a, i, e) {
		json_int_t ssrc = json_integer_value(json_object_get(e, "ssrc"));
		const char *kind = json_string_value(json_object_get(e, "kind"));
		const char *codec = json_string_value(json_object_get(e, "codec"));
		json_int_t layers = json_integer_value(json_object_get(e, "layers"));
		json_int_t spatial = json_integer_value(json_object_get(e, "spatial"));
		if (ssrc <= 0 || ssrc > UINT32_MAX || !kind || !codec || layers < 1 || layers > 4 || spatial < 1 ||
		    spatial > 4 || strpbrk(kind, " ") || strpbrk(codec, " "))
			continue;
		bool have = false;
		for (uint32_t s = m->parts[trunk].first_stream; s != MMR_ID_NONE && !have; s = m->streams[s].next)
			have = m->streams[s].ssrc == (uint32_t)ssrc;
		if (have)
			continue;
		if (strcmp(kind, "video") == 0)
			run(c, "stream add %s %s --ssrc %lld --kind video --codec %s --layers %lld%s%.0lld", mname, tname,
			    (long long)ssrc, codec, (long long)layers, spatial > 1 ? " --spatial " : "",
			    spatial > 1 ? (long long)spatial : 0);
		else
			run(c, "stream add %s %s --ssrc %lld --kind %s --codec %s", mname, tname, (long long)ssrc, kind, codec);
	}
	/* the audio level extension id of the first listed audio stream that has one: the trunk reads its
	 * levels (the dominant speaker here counts the trunk as the speaker) */
	json_int_t want_level = 0;
	json_array_foreach(a, i, e)
		if (!want_level && json_integer_value(json_object_get(e, "level_id")) > 0 &&
		    json_integer_value(json_object_get(e, "level_id")) <= 14)
			want_level = json_integer_value(json_object_get(e, "level_id"));
	uint8_t ids[VAL_EXT_N];
	model_participant_ext_ids(&m->parts[trunk], ids);
	if (want_level && ids[EXT_AUDIO_LEVEL] != want_level)
		run(c, "participant set %s %s --ext audio-level=%lld", mname, tname, (long long)want_level);
	/* streams no longer listed go */
	for (uint32_t s = m->parts[trunk].first_stream; s != MMR_ID_NONE;) {
		uint32_t next = m->streams[s].next, ssrc = m->streams[s].ssrc;
		bool listed = false;
		json_array_foreach(a, i, e)
			listed |= json_integer_value(json_object_get(e, "ssrc")) == (json_int_t)ssrc;
		if (!listed)
			run(c, "stream remove %s %s --ssrc %u", mname, tname, ssrc);
		s = next;
	}
	json_decref(a);
}

static void done_forget(void *arg, json_t *resp, const char *err)
{
	(void)arg;
	(void)resp;
	if (err)
		ctl_logl(CTL_LOG_WARNING, "zone: cascade: a key of an ended meeting not deleted: %s", err);
}

/* Our rows of meetings that are no longer placed (ended): deleted (best effort, by their host). */
static void forget_ended(struct cascade *c, const struct casc_row *rows, unsigned n, const char *kind)
{
	const struct casc_snap *s = &c->snap;
	for (unsigned i = 0; i < n; i++) {
		if (strcmp(rows[i].host, c->me) != 0 || find_row(s->homes, s->n_homes, rows[i].meeting, NULL))
			continue;
		char key[256], k64[400];
		snprintf(key, sizeof(key), "/mmr/zone/%s/%s/%s", kind, rows[i].meeting, c->me);
		if (etcd_b64(key, strlen(key), k64, sizeof(k64)) < 0)
			continue;
		json_t *b = json_pack("{s:s}", "key", k64);
		if (b)
			etcd_post(c->etcd, "/v3/kv/deleterange", b, done_forget, NULL);
	}
}

/* ---- SRTP trunks: keys of the epoch in etcd --------------------------------------------------------- */

static struct casc_trunk *trunk_state(struct cascade *c, const char *meeting, const char *peer)
{
	struct casc_trunk *free_t = NULL;
	for (unsigned i = 0; i < CASC_ROWS; i++) {
		struct casc_trunk *t = &c->trunks[i];
		if (t->used && strcmp(t->meeting, meeting) == 0 && strcmp(t->peer, peer) == 0)
			return t;
		if (!free_t && (!t->used || (!t->busy && !find_row(c->snap.homes, c->snap.n_homes, t->meeting, NULL))))
			free_t = t;
	}
	if (free_t) {
		memset(free_t, 0, sizeof(*free_t));
		free_t->used = true;
		snprintf(free_t->meeting, sizeof(free_t->meeting), "%s", meeting);
		snprintf(free_t->peer, sizeof(free_t->peer), "%s", peer);
	}
	return free_t;
}

static void done_bump(void *arg, json_t *resp, const char *err)
{
	struct casc_trunk *t = arg;
	t->busy = false;
	if (!resp || !json_is_true(json_object_get(resp, "succeeded"))) {
		/* (another host bumped first: its epoch is as new for us; or etcd failed: asked again) */
		if (!resp)
			ctl_logl(CTL_LOG_WARNING, "zone: cascade: trunk epoch of meeting %s not bumped: %s", t->meeting, err);
		if (!resp)
			t->want = 0;
	}
}

/* Ask for epoch e + 1 of the trunk (meeting, lo, hi): a txn on the value e (or on its absence). */
static void bump(struct cascade *c, struct casc_trunk *t, const char *lo, const char *hi, uint64_t e)
{
	if (t->busy)
		return;
	char key[256], k64[400], v[24], v64[40], cur[24], cur64[40];
	snprintf(key, sizeof(key), "/mmr/zone/trunks/%s/%s/%s", t->meeting, lo, hi);
	snprintf(v, sizeof(v), "%llu", (unsigned long long)e + 1);
	snprintf(cur, sizeof(cur), "%llu", (unsigned long long)e);
	if (etcd_b64(key, strlen(key), k64, sizeof(k64)) < 0 || etcd_b64(v, strlen(v), v64, sizeof(v64)) < 0 ||
	    etcd_b64(cur, strlen(cur), cur64, sizeof(cur64)) < 0)
		return;
	json_t *cmp = e ? json_pack("{s:s, s:s, s:s, s:s}", "target", "VALUE", "key", k64, "result", "EQUAL", "value", cur64)
			: json_pack("{s:s, s:s, s:s, s:s}", "target", "CREATE", "key", k64, "result", "EQUAL",
				    "create_revision", "0");
	json_t *b = json_pack("{s:[o], s:[{s:{s:s, s:s}}]}", "compare", cmp, "success", "request_put", "key", k64,
			      "value", v64);
	t->want = e + 1;
	if (b && etcd_post(c->etcd, "/v3/kv/txn", b, done_bump, t) == 0)
		t->busy = true;
}

static bool same_key(const struct srtp_master *a, const struct srtp_master *b)
{
	return a->key_len == b->key_len && a->salt_len == b->salt_len && memcmp(a->key, b->key, a->key_len) == 0 &&
	       memcmp(a->salt, b->salt, a->salt_len) == 0;
}

/* The SRTP trunk _trunk.<peer> of meeting mid: made, or given the keys of the epoch, when etcd's epoch
 * allows (never keys used before: see zone_cascade.h). Its id, or MMR_ID_NONE (not yet). */
static uint32_t srtp_trunk(struct cascade *c, uint32_t mid, const struct casc_row *home, const char *peer,
			   const struct casc_host *h)
{
	struct model *m = c->ctx->model;
	const char *mname = m->meetings[mid].name;
	char tname[VAL_NAME_MAX + 1];
	snprintf(tname, sizeof(tname), MODEL_TRUNK_PREFIX "%s", peer);
	uint32_t id = model_find_participant(m, mid, tname);
	struct casc_trunk *t = trunk_state(c, mname, peer);
	if (!c->secret_len || !t || home->create_rev < 1)
		return id;
	const char *lo = strcmp(c->me, peer) < 0 ? c->me : peer, *hi = lo == c->me ? peer : c->me;
	uint64_t e = 0;
	for (unsigned i = 0; i < c->snap.n_epochs; i++)
		if (strcmp(c->snap.epochs[i].meeting, mname) == 0 && strcmp(c->snap.epochs[i].host, lo) == 0 &&
		    strcmp(c->snap.epochs[i].peer, hi) == 0)
			e = c->snap.epochs[i].epoch;
	enum srtp_suite suite = (enum srtp_suite)m->meetings[mid].srtp_suite;
	struct srtp_master k[2];   /* [0] SEND: what the peer sends us; [1] RECV: what we send it */
	bool have_k = e && cascade_trunk_key(c->secret, c->secret_len, suite, mname, home->create_rev, e, peer, c->me, &k[0]) == 0 &&
		      cascade_trunk_key(c->secret, c->secret_len, suite, mname, home->create_rev, e, c->me, peer, &k[1]) == 0;
	bool fresh_ok = t->want && e >= t->want;     /* the epoch we asked for (or a later one) is there */
	if (id != MMR_ID_NONE && t->applied) {
		struct srtp_master a[2];
		bool ok = cascade_trunk_key(c->secret, c->secret_len, suite, mname, home->create_rev, t->applied, peer, c->me, &a[0]) == 0 &&
			  cascade_trunk_key(c->secret, c->secret_len, suite, mname, home->create_rev, t->applied, c->me, peer, &a[1]) == 0 &&
			  same_key(&a[0], &m->parts[id].send_key) && same_key(&a[1], &m->parts[id].recv_key);
		explicit_bzero(a, sizeof(a));
		if (!ok)
			t->applied = 0;   /* its keys changed under us (a new ledger, a rekey): a new epoch */
	}
	if (id != MMR_ID_NONE && !t->applied && have_k && !t->want &&
	    same_key(&k[0], &m->parts[id].send_key) && same_key(&k[1], &m->parts[id].recv_key))
		t->applied = e;           /* (our restart: it has the keys of the current epoch, in use) */
	if (id != MMR_ID_NONE && t->applied && e > t->applied && have_k)
		fresh_ok = true;          /* the peer moved on: keys we never used */
	if ((id == MMR_ID_NONE || !t->applied || e > t->applied) && !fresh_ok) {
		if (!t->want || e >= t->want)
			bump(c, t, lo, hi, e);
		explicit_bzero(k, sizeof(k));
		return id;
	}
	if (fresh_ok && have_k) {
		c->ctx->zone_keys = k;
		bool ok = id == MMR_ID_NONE ?
			  run(c, "participant add %s %s --trunk --addr %s --port %u", mname, tname, h->address, h->media_port) :
			  run(c, "participant rekey %s %s", mname, tname);
		c->ctx->zone_keys = NULL;
		if (ok) {
			t->applied = e;
			t->want = 0;
			ctl_log("zone: cascade: trunk %s of meeting %s has the keys of epoch %llu", tname, mname,
				(unsigned long long)e);
		}
		id = model_find_participant(m, mid, tname);
	}
	explicit_bzero(k, sizeof(k));
	return id;
}

void cascade_reconcile(struct cascade *c, int64_t lease)
{
	if (!c || !c->have)
		return;
	struct model *m = c->ctx->model;
	const struct casc_snap *s = &c->snap;
	forget_ended(c, s->carriers, s->n_carriers, "cascade");
	forget_ended(c, s->streams, s->n_streams, "streams");
	for (unsigned i = 0; i < s->n_epochs; i++) {   /* a trunk's epoch: by the first of its two hosts */
		const struct casc_row *r = &s->epochs[i];
		char key[256], k64[400];
		if (strcmp(r->host, c->me) != 0 || find_row(s->homes, s->n_homes, r->meeting, NULL))
			continue;
		snprintf(key, sizeof(key), "/mmr/zone/trunks/%s/%s/%s", r->meeting, r->host, r->peer);
		json_t *b = etcd_b64(key, strlen(key), k64, sizeof(k64)) < 0 ? NULL : json_pack("{s:s}", "key", k64);
		if (b)
			etcd_post(c->etcd, "/v3/kv/deleterange", b, done_forget, NULL);
	}
	for (uint32_t mid = 0; mid < model_meeting_bound(m); mid++) {
		if (!m->meetings[mid].used)
			continue;
		char mname[VAL_NAME_MAX + 1];
		snprintf(mname, sizeof(mname), "%s", m->meetings[mid].name);
		const struct casc_row *home = find_row(s->homes, s->n_homes, mname, NULL);
		if (!home)
			continue;
		/* the carriers: home first, then the cascade/ hosts */
		const char *carrier[CASC_HOSTS];
		unsigned nc = 0;
		carrier[nc++] = home->host;
		for (unsigned i = 0; i < s->n_carriers && nc < CASC_HOSTS; i++)
			if (strcmp(s->carriers[i].meeting, mname) == 0 && strcmp(s->carriers[i].host, home->host) != 0)
				carrier[nc++] = s->carriers[i].host;
		bool mine = false;
		for (unsigned i = 0; i < nc; i++)
			mine |= strcmp(carrier[i], c->me) == 0;
		if (!mine)
			continue;
		bool sec = m->meetings[mid].srtp_suite != 0;
		for (unsigned i = 0; i < nc; i++) {
			if (strcmp(carrier[i], c->me) == 0)
				continue;
			const struct casc_host *h = find_host(s, carrier[i]);
			char tname[VAL_NAME_MAX + 1];
			snprintf(tname, sizeof(tname), MODEL_TRUNK_PREFIX "%s", carrier[i]);
			uint32_t t = model_find_participant(m, mid, tname);
			if (sec) {
				if (!h && t == MMR_ID_NONE)
					continue;
				t = srtp_trunk(c, mid, home, carrier[i], h);
				if (t == MMR_ID_NONE)
					continue;
			} else if (t == MMR_ID_NONE) {
				if (!h)
					continue;   /* not registered (yet) */
				if (!run(c, "participant add %s %s --trunk --addr %s --port %u", mname, tname, h->address,
					 h->media_port))
					continue;
				t = model_find_participant(m, mid, tname);
				if (t == MMR_ID_NONE)
					continue;
			}
			if (h) {   /* its host's address or media_port changed: follow */
				struct mmr_addr want;
				char wa[VAL_ADDR_STRLEN], ha[VAL_ADDR_STRLEN];
				memset(&want, 0, sizeof(want));
				if (val_addr(h->address, &want) == 0 &&
				    (strcmp(val_addr_fmt(&want, wa), val_addr_fmt(&m->parts[t].addr, ha)) != 0 ||
				     m->parts[t].udp_port != h->media_port))
					run(c, "participant set %s %s --addr %s --port %u", mname, tname, h->address, h->media_port);
			}
			const struct casc_row *st = find_row(s->streams, s->n_streams, mname, carrier[i]);
			trunk_streams(c, mid, t, st ? st->streams : "[]");
		}
		/* trunks to hosts that no longer carry it go */
		for (uint32_t p = m->meetings[mid].first_part; p != MMR_ID_NONE;) {
			uint32_t next = m->parts[p].next;
			if (model_is_trunk(m->parts[p].name)) {
				const char *h = m->parts[p].name + sizeof(MODEL_TRUNK_PREFIX) - 1;
				bool keep = false;
				for (unsigned i = 0; i < nc; i++)
					keep |= strcmp(carrier[i], h) == 0 && strcmp(h, c->me) != 0;
				if (!keep) {
					char pn[VAL_NAME_MAX + 1];
					snprintf(pn, sizeof(pn), "%s", m->parts[p].name);
					run(c, "participant remove %s %s", mname, pn);
				}
			}
			p = next;
		}
		if (nc > 1) {
			char text[CASC_STREAMS];
			own_streams(m, mid, text, sizeof(text));
			put_streams(c, mname, text, lease);
		}
	}
}
