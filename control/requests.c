/*
 * requests.c - the mmrctl commands: parse, validate, then render or mutate (see requests.h).
 *
 * Mutations follow one order so that a failure at any step leaves nothing behind:
 *   1. validate every argument and reserve ids and index room (nothing changed yet);
 *   2. adds: change the model, then record the change (its state-file lines) in the store's batch,
 *      undoing the model change if that fails (out of memory); removals: record first, then change
 *      the model;
 *   3. queue the dataplane commands, held (dp_link_hold) until the batch is durable.
 * The controller commits the batch (state_store.h: one write and one fdatasync for every request
 * of a poll-loop iteration) and only then releases the held commands; a batch that cannot be made
 * durable fails all its requests and the model is reloaded from disk (controller.c).
 *
 * SRTP: a meeting's security (--srtp SUITE, by default AEAD_AES_128_GCM, or --plain: plain RTP, for
 * trusted networks only, asked for explicitly) is set at creation; participants
 * of an SRTP meeting get fresh keys (keys.c) at `participant add` and `participant rekey`, made
 * before step 2, and the reply body carries them (and only these replies: nothing else prints or
 * logs a key). Format in docs/interfaces.md.
 *
 * The SRTP ledger check at attach (request_ledger_check) lives here too: it rekeys every SRTP
 * participant the way `participant rekey` rekeys one.
 */
#include "requests.h"
#include "dtls_fp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "keys.h"
#include "passcode.h"
#include "log.h"
#include "render.h"
#include "state_file.h"
#include "state_store.h"
#include "values.h"
#include "zone_conf.h"

#define MAX_POS  3
#define MAX_OPTS 20

struct args {
	const char *pos[MAX_POS];
	const char *opt[MAX_OPTS];      /* value ("" for a flag), NULL when not given */
};

struct command {
	const char *w1, *w2;            /* w2 NULL for one-word commands */
	unsigned npos;
	const char *opts[MAX_OPTS];     /* "name=" takes a value, a leading '!' makes it required */
	const char *usage;
	void (*run)(struct ctl_ctx *ctx, const struct args *a, struct request *req);
	bool mutates;                   /* may change the state (else: reads it only) */
};

__attribute__((format(printf, 2, 3)))
static void fail(struct request *req, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(req->err, sizeof(req->err), fmt, ap);
	va_end(ap);
	/* it quotes what the user typed: keep the error one printable line */
	for (char *p = req->err; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			*p = '?';
	req->failed = true;
}

/* Fail the request `req` in scope and return from the (void) handler. */
#define FAIL(...) do { fail(req, __VA_ARGS__); return; } while (0)

/* ---- lookups with their error messages ------------------------------------------------------ */

static bool get_meeting(struct ctl_ctx *ctx, const char *name, struct request *req, uint32_t *id)
{
	if (!val_name_ok(name)) {
		fail(req, "bad meeting name '%s' (1-63 characters of A-Z a-z 0-9 _ . -, not starting with '-')", name);
		return false;
	}
	*id = model_find_meeting(ctx->model, name);
	if (*id == MMR_ID_NONE) {
		fail(req, "no meeting '%s'", name);
		return false;
	}
	return true;
}

static bool get_participant(struct ctl_ctx *ctx, uint32_t meeting, const char *name, struct request *req,
			    uint32_t *id)
{
	if (!val_name_ok(name)) {
		fail(req, "bad participant name '%s' (1-63 characters of A-Z a-z 0-9 _ . -, not starting with '-')",
		     name);
		return false;
	}
	*id = model_find_participant(ctx->model, meeting, name);
	if (*id == MMR_ID_NONE) {
		fail(req, "no participant '%s' in meeting '%s'", name, ctx->model->meetings[meeting].name);
		return false;
	}
	return true;
}

static bool get_ssrc(const char *text, const char *what, struct request *req, uint32_t *v)
{
	if (val_ssrc(text, v) < 0) {
		fail(req, "bad %s '%s' (a 32-bit number, decimal or 0x hex)", what, text);
		return false;
	}
	return true;
}

/* Room for a change adding these to meeting (MMR_ID_NONE: a new meeting): its quotas (issue 15: the
 * controller config's meeting_max_*; nothing changes beyond one), then the zone's tables. */
static bool reserve(struct ctl_ctx *ctx, struct request *req, uint32_t meeting, uint32_t meetings,
		    uint32_t parts, uint32_t streams, uint32_t subs)
{
	if (meeting != MMR_ID_NONE && ctx->cfg) {
		const struct m_meeting *mt = &ctx->model->meetings[meeting];
		const struct ctl_config *cfg = ctx->cfg;
		const char *over = NULL, *key = NULL;
		unsigned long long have = 0, limit = 0, add = 0;
		if ((unsigned long long)mt->n_parts + parts > cfg->meeting_max_participants)
			over = "participants", key = "meeting_max_participants", have = mt->n_parts,
			limit = cfg->meeting_max_participants, add = parts;
		else if ((unsigned long long)mt->n_streams + streams > cfg->meeting_max_streams)
			over = "streams", key = "meeting_max_streams", have = mt->n_streams,
			limit = cfg->meeting_max_streams, add = streams;
		else if ((unsigned long long)mt->n_subs + subs > cfg->meeting_max_subscriptions)
			over = "subscriptions", key = "meeting_max_subscriptions", have = mt->n_subs,
			limit = cfg->meeting_max_subscriptions, add = subs;
		if (over) {
			fail(req, "meeting '%s' is at its quota of %s: it has %llu, this change adds %llu, the limit "
			     "is %llu (controller config %s)", mt->name, over, have, add, limit, key);
			return false;
		}
	}
	const char *what;
	int rc = model_reserve(ctx->model, meetings, parts, streams, subs, &what);
	if (rc == 0)
		return true;
	if (what) {
		unsigned limit = strcmp(what, "meetings") == 0 ? MODEL_MAX_MEETINGS :
				 strcmp(what, "participants") == 0 ? MMR_MAX_PARTICIPANTS :
				 strcmp(what, "streams") == 0 ? MMR_MAX_STREAMS : MMR_MAX_SUBS;
		fail(req, "too many %s (the limit is %u)", what, limit);
	} else {
		fail(req, "out of memory");
	}
	return false;
}

/* ---- committing a change -------------------------------------------------------------------- */

/* Step 2: the lines of this request's change go into the store's batch (state_store.h). */
static struct outbuf *change_begin(struct ctl_ctx *ctx)
{
	return state_store_change_begin(ctx->store);
}

static bool change_end(struct ctl_ctx *ctx, struct request *req)
{
	if (state_store_change_end(ctx->store)) {
		/* the lineage's count (model.h): the commands carry it; a replayed record counts one too,
		 * and a failed commit reloads the model, count included */
		ctx->model->state_changes++;
		return true;
	}
	fail(req, "out of memory recording the change, nothing changed");
	return false;
}

/* Before queueing dataplane commands. */
static void dp_begin(struct ctl_ctx *ctx, struct request *req)
{
	req->mutating = true;
	req->rejected_before = dp_link_rejected(ctx->dp);
	req->wait_seq = UINT64_MAX;
	/* commands wait for the round's commit while it has changes to make durable (this request's,
	 * or, for a change with nothing to save such as a meeting move, earlier ones: order is kept) */
	if (state_store_pending(ctx->store))
		dp_link_hold(ctx->dp);
}

/* After queueing them: last is the last command's seq (UINT64_MAX: none could be queued). */
static void dp_end(struct ctl_ctx *ctx, struct request *req, uint64_t last, bool had_commands)
{
	if (!had_commands)
		return;
	if (!ctx->dp->attached || last == UINT64_MAX) {
		req->offline = true;
		return;
	}
	req->wait = true;
	req->wait_seq = last;
	req->attach_id = ctx->dp->attach_id;
}

/* Meeting controls: a PUT for every participant of meeting whose block byte changed (model.h);
 * returns the last command's seq (last when none). */
static uint64_t push_blocks(struct ctl_ctx *ctx, uint32_t meeting, uint64_t last)
{
	struct model *m = ctx->model;
	if (meeting == MMR_ID_NONE || !m->meetings[meeting].used || !m->meetings[meeting].n_parts)
		return last;
	uint32_t *ids = malloc((size_t)m->meetings[meeting].n_parts * sizeof(*ids));
	if (!ids) {   /* every participant then: a PUT carries its block */
		for (uint32_t p = m->meetings[meeting].first_part; p != MMR_ID_NONE; p = m->parts[p].next)
			last = dp_link_put_participant(ctx->dp, p);
		return last;
	}
	uint32_t n = model_block_changes(m, meeting, ids);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t q = dp_link_put_participant(ctx->dp, ids[i]);
		if (q != UINT64_MAX)
			last = q;
	}
	free(ids);
	return last;
}

/* ---- security: --plain / --srtp SUITE ------------------------------------------------------- */

#define SUITE_CHOICES "AEAD_AES_128_GCM, AEAD_AES_256_GCM or AES_CM_128_HMAC_SHA1_80"
/* A new meeting's security when neither --plain nor --srtp is given (issue 15: SRTP by default) */
#define MEETING_DEFAULT_SUITE SRTP_SUITE_AEAD_AES_128_GCM

/* The security the options ask for: *suite (SRTP_SUITE_NONE for --plain); *given false when
 * neither option is there. false (request failed) on a bad suite or both options. */
static bool get_security(const char *plain, const char *srtp, struct request *req, enum srtp_suite *suite,
			 bool *given)
{
	*suite = SRTP_SUITE_NONE;
	*given = plain || srtp;
	if (plain && srtp) {
		fail(req, "--plain and --srtp exclude each other");
		return false;
	}
	if (srtp) {
		*suite = srtp_suite_from_name(srtp);
		if (*suite == SRTP_SUITE_NONE) {
			fail(req, "bad SRTP suite '%s' (" SUITE_CHOICES ")", srtp);
			return false;
		}
	}
	return true;
}

static const char *security_text(unsigned suite)
{
	return suite == SRTP_SUITE_NONE ? "plain RTP" : srtp_suite_name((enum srtp_suite)suite);
}

/*
 * A participant's keys as the reply body: three lines
 *     srtp_suite SUITE / send_key inline:... / recv_key inline:...
 * or with --json {"srtp_suite": ..., "send_key": ..., "recv_key": ...}. For a change (open_json) the
 * JSON object is left open: request_finish() adds "applied" (and "note") and closes it.
 */
static void reply_keys(struct ctl_ctx *ctx, uint32_t p, struct request *req, bool open_json)
{
	const struct model *m = ctx->model;
	const struct m_participant *pp = &m->parts[p];
	const char *suite = srtp_suite_name((enum srtp_suite)m->meetings[pp->meeting].srtp_suite);
	char send[KEYS_INLINE_MAX], recv[KEYS_INLINE_MAX];
	if (keys_to_inline(&pp->send_key, send) < 0 || keys_to_inline(&pp->recv_key, recv) < 0) {
		fail(req, "participant '%s' has no usable keys", pp->name);   /* cannot happen */
		goto out;
	}
	if (req->json) {
		ob_printf(&req->body, "{\"srtp_suite\": \"%s\", \"send_key\": \"%s\", \"recv_key\": \"%s\"%s",
			  suite, send, recv, open_json ? "" : "}\n");
		req->json_open = open_json;
	} else {
		ob_printf(&req->body, "srtp_suite %s\nsend_key %s\nrecv_key %s\n", suite, send, recv);
	}
out:
	explicit_bzero(send, sizeof(send));
	explicit_bzero(recv, sizeof(recv));
}

/* Fresh SEND and RECV keys of the suite; false (request failed) if the random generator fails. */
static bool new_keys(const struct ctl_ctx *ctx, enum srtp_suite suite, struct srtp_master keys[2], struct request *req)
{
	if (ctx->zone_keys) {   /* a trunk's, derived by the zone (zone_cascade.h) */
		if (!keys_valid(suite, &ctx->zone_keys[0]) || !keys_valid(suite, &ctx->zone_keys[1])) {
			fail(req, "the zone's trunk keys are not of the meeting's suite; nothing changed");
			return false;
		}
		keys[0] = ctx->zone_keys[0];
		keys[1] = ctx->zone_keys[1];
		return true;
	}
	if (keys_generate_pair(suite, keys) == 0)
		return true;
	fail(req, "cannot make SRTP keys: the random generator failed; nothing changed");
	return false;
}

/* ---- meeting -------------------------------------------------------------------------------- */

enum { MC_PLAIN, MC_SRTP, MC_TOP_N };

/* --top-n N: 0 (off) .. MMR_TOPN_MAX */
static bool get_top_n(const char *text, struct request *req, unsigned *n)
{
	uint64_t v;
	if (val_uint(text, MMR_TOPN_MAX, &v) < 0) {
		fail(req, "bad top-n '%s' (0-%u: how many of the loudest audio streams each receiver gets; 0 = "
		     "off, every audio stream)", text, MMR_TOPN_MAX);
		return false;
	}
	*n = (unsigned)v;
	return true;
}

static void cmd_meeting_create(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	const char *name = a->pos[0];
	if (!val_name_ok(name))
		FAIL("bad meeting name '%s' (1-63 characters of A-Z a-z 0-9 _ . -, not starting with '-')",
			    name);
	if (model_find_meeting(ctx->model, name) != MMR_ID_NONE)
		FAIL("meeting '%s' already exists", name);
	enum srtp_suite suite;
	bool given;
	if (!get_security(a->opt[MC_PLAIN], a->opt[MC_SRTP], req, &suite, &given))
		return;
	if (!given)
		suite = MEETING_DEFAULT_SUITE;     /* SRTP unless plain RTP is asked for (--plain) */
	unsigned top_n = 0;
	if (a->opt[MC_TOP_N] && !get_top_n(a->opt[MC_TOP_N], req, &top_n))
		return;
	if (!reserve(ctx, req, MMR_ID_NONE, 1, 0, 0, 0))
		return;
	/* a passcode left by an ended meeting of this name goes (passcode.h): a new meeting starts open */
	char why[200];
	if (passcode_required(name) && passcode_set(name, NULL, why, sizeof(why)) < 0)
		FAIL("%s; nothing changed", why);
	uint32_t id = model_meeting_add(ctx->model, MMR_ID_NONE, name, suite);
	ctx->model->meetings[id].top_n = (uint8_t)top_n;
	state_line_meeting(change_begin(ctx), ctx->model, id);
	if (!change_end(ctx, req)) {
		model_meeting_remove(ctx->model, id);
		return;
	}
	dp_begin(ctx, req);
	if (top_n)
		dp_end(ctx, req, dp_link_put_meeting(ctx->dp, id), true);
	else
		dp_end(ctx, req, UINT64_MAX, false);
}

/*
 * meeting set NAME --top-n N: top-N audio on (1..MMR_TOPN_MAX), changed or off (0). Every receiver
 * gets N slot subscriptions in place of its per-pair audio subscriptions (model.h); the dataplane
 * gets the removals, then the new ones (the new ones may reuse the old ids), and the meeting's
 * setting before its slots when N grows, after them when it shrinks.
 */
/* A top-N meeting ranks its audio by the RFC 6464 level: audio of a publisher without the level
 * extension is never among the N loudest, so nobody hears it. Not refused (a client may add its
 * extension later by being added again); said, in text replies, for each such publisher. */
static void warn_unranked_audio(const struct model *m, uint32_t meeting, uint32_t only, struct request *req)
{
	if (!m->meetings[meeting].top_n || req->json)
		return;
	for (uint32_t p = m->meetings[meeting].first_part; p != MMR_ID_NONE; p = m->parts[p].next) {
		if (m->parts[p].level_ext_id || (only != MMR_ID_NONE && p != only))
			continue;
		for (uint32_t s = m->parts[p].first_stream; s != MMR_ID_NONE; s = m->streams[s].next)
			if (m->streams[s].kind == MMR_KIND_AUDIO) {
				ob_printf(&req->body, "warning: participant '%s' sends audio without the audio level "
					  "extension (participant add ... --ext audio-level=ID): in this top-%u meeting "
					  "its audio is never among the loudest, nobody receives it\n",
					  m->parts[p].name, m->meetings[meeting].top_n);
				break;
			}
	}
}

static void meeting_set_top_n(struct ctl_ctx *ctx, uint32_t id, unsigned n, struct request *req);

enum { MS_TOP_N, MS_WAITING_ROOM, MS_SELF_UNMUTE, MS_SHARE, MS_MAX_SHARERS };

/* on|off style option: 1, 0, or -1 (failed) */
static int get_choice(const char *text, const char *opt, const char *yes, const char *no, struct request *req)
{
	if (strcmp(text, yes) == 0)
		return 1;
	if (strcmp(text, no) == 0)
		return 0;
	fail(req, "bad --%s '%s' (%s or %s)", opt, text, yes, no);
	return -1;
}

static void cmd_meeting_set(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	uint32_t id;
	unsigned n = 0;
	if (!get_meeting(ctx, a->pos[0], req, &id))
		return;
	if (a->opt[MS_TOP_N] && !get_top_n(a->opt[MS_TOP_N], req, &n))
		return;
	int wr = -1, uf = -1, ho = -1, ms = -1;
	if (a->opt[MS_WAITING_ROOM] && (wr = get_choice(a->opt[MS_WAITING_ROOM], "waiting-room", "on", "off", req)) < 0)
		return;
	if (a->opt[MS_SELF_UNMUTE] &&
	    (uf = get_choice(a->opt[MS_SELF_UNMUTE], "self-unmute", "forbidden", "allowed", req)) < 0)
		return;
	if (a->opt[MS_SHARE] && (ho = get_choice(a->opt[MS_SHARE], "share", "host_only", "everyone", req)) < 0)
		return;
	if (a->opt[MS_MAX_SHARERS]) {
		uint64_t v;
		if (val_uint(a->opt[MS_MAX_SHARERS], 255, &v) < 0)
			FAIL("bad --max-sharers '%s' (0-255; 0: no limit)", a->opt[MS_MAX_SHARERS]);
		ms = (int)v;
	}
	if (!a->opt[MS_TOP_N] && wr < 0 && uf < 0 && ho < 0 && ms < 0)
		FAIL("missing option --top-n (or --waiting-room, --self-unmute, --share, --max-sharers); usage: "
		     "mmrctl meeting set NAME [--top-n N] [--waiting-room on|off] [--self-unmute allowed|forbidden] "
		     "[--share everyone|host_only] [--max-sharers N]");
	if (wr >= 0 || uf >= 0 || ho >= 0 || ms >= 0) {
		ctl_meeting_controls(ctx, id, wr, uf, ho, ms, req);
		if (req->failed)
			return;
	}
	if (a->opt[MS_TOP_N])
		meeting_set_top_n(ctx, id, n, req);
}

static void meeting_set_top_n(struct ctl_ctx *ctx, uint32_t id, unsigned n, struct request *req)
{
	struct model *m = ctx->model;
	unsigned old = m->meetings[id].top_n;
	if (n == old)
		return;     /* nothing to change */
	uint32_t add, rem;
	model_topn_change_count(m, id, n, &add, &rem);
	if (!reserve(ctx, req, id, 0, 0, 0, add))
		return;
	if (keys_random_ssrc(&m->ssrc_seed) < 0)
		FAIL("the random generator failed: no SSRCs for the top-N slots");
	uint32_t *removed = malloc(((size_t)rem + 1) * sizeof(*removed));
	uint32_t *added = malloc(((size_t)add + 1) * sizeof(*added));
	if (!removed || !added) {
		free(removed);
		free(added);
		FAIL("out of memory");
	}
	model_topn_removals(m, id, n, removed);
	uint32_t k = model_meeting_set_top_n(m, id, n, added);
	struct outbuf *b = change_begin(ctx);
	state_line_topn(b, m, id);
	for (uint32_t i = 0; i < rem; i++)
		state_line_remove(b, "sub", removed[i]);
	for (uint32_t i = 0; i < k; i++)
		state_line_sub(b, m, added[i]);
	if (!change_end(ctx, req)) {
		model_meeting_set_top_n(m, id, old, NULL);   /* the same subscriptions again (new ids) */
		free(removed);
		free(added);
		return;
	}
	dp_begin(ctx, req);
	uint64_t last = UINT64_MAX;
	if (n > old)
		last = dp_link_put_meeting(ctx->dp, id);
	/* the old ones go first: the model reuses their ids for the new ones (a DEL after the PUT of the
	 * same id would remove the new subscription); one batch, so no receiver sees the gap */
	for (uint32_t i = 0; i < rem; i++)
		last = dp_link_del(ctx->dp, MMR_CMD_SUB_DEL, removed[i]);
	for (uint32_t i = 0; i < k; i++)
		last = dp_link_put_sub(ctx->dp, added[i]);
	if (n < old)
		last = dp_link_put_meeting(ctx->dp, id);
	dp_end(ctx, req, last, true);
	free(removed);
	free(added);
	warn_unranked_audio(m, id, MMR_ID_NONE, req);
}

static void cmd_meeting_end(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	struct model *m = ctx->model;
	uint32_t id;
	if (!get_meeting(ctx, a->pos[0], req, &id))
		return;
	state_line_remove(change_begin(ctx), "meeting", id);
	if (!change_end(ctx, req))
		return;
	dp_begin(ctx, req);
	uint64_t last = UINT64_MAX;
	for (uint32_t p = m->meetings[id].first_part; p != MMR_ID_NONE; p = m->parts[p].next)
		last = dp_link_del(ctx->dp, MMR_CMD_PARTICIPANT_DEL, p);
	if (m->meetings[id].top_n)   /* its settings go too (the id may serve another meeting) */
		last = dp_link_del(ctx->dp, MMR_CMD_MEETING_DEL, id);
	dp_end(ctx, req, last, m->meetings[id].n_parts > 0 || m->meetings[id].top_n);
	model_meeting_remove(m, id);
}

/* The dataplane's meeting owners (stats.h meeting_owner[]), NULL while not attached. */
static const uint8_t *dp_owners(const struct ctl_ctx *ctx)
{
	return ctx->dp->attached ? ctx->dp->ch.shm->stats.meeting_owner : NULL;
}

/* meeting move NAME --lcore N: the running dataplane's placement only (not saved: a restarted
 * dataplane places meetings again). */
static void cmd_meeting_move(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	uint32_t id;
	uint64_t lcore;
	if (!get_meeting(ctx, a->pos[0], req, &id))
		return;
	if (val_uint(a->opt[0], MMR_MAX_LCORES - 1, &lcore) < 0)
		FAIL("bad lcore '%s' (a worker lcore index, 0..%u)", a->opt[0], MMR_MAX_LCORES - 1);
	if (!ctx->dp->attached)
		FAIL("the dataplane is not attached: a meeting's lcore exists only in a running dataplane");
	uint32_t n = ctx->dp->ch.shm->n_lcores;
	if (lcore >= n)
		FAIL("bad lcore %llu: the dataplane has %u worker lcore(s), 0..%u", (unsigned long long)lcore, n,
		     n ? n - 1 : 0);
	if (ctx->model->meetings[id].n_parts == 0)
		FAIL("meeting '%s' has no participants: it has no lcore to move from", ctx->model->meetings[id].name);
	dp_begin(ctx, req);
	struct mmr_cmd c;
	memset(&c, 0, sizeof(c));
	c.op = MMR_CMD_MEETING_MOVE;
	c.u.move.meeting_id = id;
	c.u.move.lcore = (uint32_t)lcore;
	dp_end(ctx, req, dp_link_push(ctx->dp, &c), true);
}

static void cmd_meeting_list(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	(void)a;
	render_meeting_list(ctx->model, dp_owners(ctx), req->json, &req->body);
}

/* The meeting's dominant speaker as the dataplane reports it: its event (events.h), else the value
 * in the counters area; MMR_ID_NONE: nobody, or no dataplane. */
static uint32_t dominant_speaker(struct ctl_ctx *ctx, uint32_t meeting)
{
	if (!ctx->dp->attached)
		return MMR_ID_NONE;
	dp_link_events(ctx->dp);     /* as of now */
	uint32_t p;
	if (events_speaker(&ctx->dp->ev, meeting, &p))
		return p;
	return __atomic_load_n(&ctx->dp->ch.shm->stats.meeting_speaker[meeting], __ATOMIC_RELAXED);
}

static void cmd_meeting_show(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	uint32_t id;
	if (get_meeting(ctx, a->pos[0], req, &id))
		render_meeting_show(ctx->model, dp_owners(ctx), dominant_speaker(ctx, id), id, req->json, &req->body);
}

/* ---- participant ---------------------------------------------------------------------------- */

enum { PA_ADDR, PA_PORT, PA_ROLE, PA_MAC, PA_DP_PORT, PA_SRTP, PA_PLAIN, PA_RTCP, PA_RTX, PA_EXT, PA_EXT_TWO_BYTE,
       PA_ICE, PA_DTLS_FP, PA_DTLS_ROLE, PA_VIDEO_SLOTS, PA_AUDIO_SLOTS, PA_TRUNK };

/* --dtls-fp FP [--dtls-role server|client]: the peer's SHA-256 fingerprint (dtls_fp.h) and the MMR's
 * role; needs ICE credentials (has_ice) and an SRTP meeting (suite). false: failed. */
static bool get_dtls(const char *fp_text, const char *role_text, bool has_ice, enum srtp_suite suite, const char *meeting,
		     uint8_t fp[MMR_DTLS_FP_LEN], unsigned *role, struct request *req)
{
	if (!fp_text) {
		fail(req, "--dtls-role goes with --dtls-fp FINGERPRINT");
		return false;
	}
	if (dtls_fp_parse(fp_text, fp) < 0) {
		fail(req, "bad DTLS fingerprint '%s' (sha-256: 32 hex pairs separated by ':', as in a=fingerprint)",
		     fp_text);
		return false;
	}
	*role = MMR_DTLS_SERVER;
	if (role_text && strcmp(role_text, "server") != 0) {
		if (strcmp(role_text, "client") != 0) {
			fail(req, "bad DTLS role '%s' (server: the answer says a=setup:passive; client: active)", role_text);
			return false;
		}
		*role = MMR_DTLS_CLIENT;
	}
	if (!has_ice) {
		fail(req, "DTLS needs ICE credentials (--ice UFRAG:PWD): the handshake runs on the learned address");
		return false;
	}
	if (suite == SRTP_SUITE_NONE) {
		fail(req, "meeting '%s' is plain RTP: DTLS-SRTP needs an SRTP meeting", meeting);
		return false;
	}
	return true;
}

/* Is ssrc one of meeting's: a stream's or RTX SSRC, an MMR RTCP SSRC, one a receiver sees, or an
 * audio slot's? */
static bool meeting_ssrc_used(const struct model *m, uint32_t meeting, uint32_t ssrc)
{
	if (model_find_stream(m, meeting, ssrc) != MMR_ID_NONE || model_find_rtx_ssrc(m, meeting, ssrc) != MMR_ID_NONE ||
	    model_find_mmr_ssrc(m, meeting, ssrc) != MMR_ID_NONE)
		return true;
	for (uint32_t r = m->meetings[meeting].first_part; r != MMR_ID_NONE; r = m->parts[r].next) {
		if (model_view_ssrc_taken(m, r, ssrc, MMR_ID_NONE))
			return true;
		for (unsigned k = 0; k < m->parts[r].n_aslots; k++)
			if (m->parts[r].aslot_ssrc[k] == ssrc)
				return true;
	}
	return false;
}

/* Is ssrc free for a new stream, a learned SSRC or a stand-in: not 0 and none of the meeting's. */
static bool ssrc_free(const struct model *m, uint32_t meeting, uint32_t ssrc)
{
	return ssrc != 0 && !meeting_ssrc_used(m, meeting, ssrc);
}

/* --video-slots SSRC[:RTXSSRC],... or --audio-slots SSRC,... (rtx NULL): up to max, each SSRC not
 * 0, not twice in both lists, none of the meeting's; n is added to (both lists share seen[]). */
static bool get_slot_ssrcs(const struct model *m, uint32_t meeting, const char *opt, const char *text,
			   unsigned max, uint32_t *ssrc, uint32_t *rtx, unsigned *n, uint32_t *seen, unsigned *n_seen,
			   struct request *req)
{
	char item[48];
	const char *p = text;
	*n = 0;
	for (;;) {
		size_t len = strcspn(p, ",");
		if (*n == max) {
			fail(req, "too many slots in --%s '%s' (at most %u)", opt, text, max);
			return false;
		}
		if (len == 0 || len >= sizeof(item)) {
			fail(req, "bad --%s '%s' (%s)", opt, text, rtx ? "SSRC[:RTXSSRC],..." : "SSRC,...");
			return false;
		}
		memcpy(item, p, len);
		item[len] = '\0';
		char *colon = strchr(item, ':');
		if (colon && !rtx) {
			fail(req, "bad --%s '%s': audio slots have no RTX SSRC", opt, text);
			return false;
		}
		if (colon)
			*colon = '\0';
		uint32_t v[2] = { 0, 0 };
		if (!get_ssrc(item, "slot SSRC", req, &v[0]) || (colon && !get_ssrc(colon + 1, "slot RTX SSRC", req, &v[1])))
			return false;
		for (unsigned j = 0; j < (colon ? 2u : 1u); j++) {
			if (v[j] == 0) {
				fail(req, "slot SSRC 0 in --%s '%s': an SSRC is never 0", opt, text);
				return false;
			}
			for (unsigned i = 0; i < *n_seen; i++)
				if (seen[i] == v[j]) {
					fail(req, "SSRC 0x%08x appears twice in the slots", v[j]);
					return false;
				}
			if (meeting_ssrc_used(m, meeting, v[j])) {
				fail(req, "slot SSRC 0x%08x is already used in meeting '%s': choose another", v[j],
				     m->meetings[meeting].name);
				return false;
			}
			seen[(*n_seen)++] = v[j];
		}
		ssrc[*n] = v[0];
		if (rtx)
			rtx[*n] = v[1];
		(*n)++;
		if (p[len] == '\0')
			return true;
		p += len + 1;
	}
}

/* ICE credentials: --ice UFRAG:PWD, checked (characters, lengths, the ufrag unique across the MMR
 * but for participant self). Fills ice; false: failed (the pwd is never quoted). */
struct ice_cred {
	size_t ulen, plen;
	char ufrag[MMR_ICE_UFRAG_MAX];
	char pwd[MMR_ICE_PWD_MAX];
};
static void ice_wipe(struct ice_cred *ice)
{
	explicit_bzero(ice, sizeof(*ice));
}

static bool get_ice(struct ctl_ctx *ctx, const char *opt, uint32_t self, struct ice_cred *ice, struct request *req)
{
	int rc = val_ice(opt, ice->ufrag, &ice->ulen, ice->pwd, &ice->plen);
	if (rc == -2)
		fail(req, "bad ICE ufrag: %u to %u ICE characters (A-Z a-z 0-9 + /)", MMR_ICE_UFRAG_MIN, MMR_ICE_UFRAG_MAX);
	else if (rc == -3)
		fail(req, "bad ICE pwd: %u to %u ICE characters (A-Z a-z 0-9 + /)", MMR_ICE_PWD_MIN, MMR_ICE_PWD_MAX);
	else if (rc < 0)
		fail(req, "bad ICE credentials (UFRAG:PWD of ICE characters A-Z a-z 0-9 + /)");
	if (rc < 0) {
		explicit_bzero(ice, sizeof(*ice));
		return false;
	}
	uint32_t other = model_find_participant_by_ufrag(ctx->model, ice->ufrag, ice->ulen);
	if (other != MMR_ID_NONE && other != self) {
		const struct m_participant *o = &ctx->model->parts[other];
		fail(req, "ICE ufrag '%.*s' is already used by participant '%s' in meeting '%s'", (int)ice->ulen,
		     ice->ufrag, o->name, ctx->model->meetings[o->meeting].name);
		explicit_bzero(ice, sizeof(*ice));
		return false;
	}
	return true;
}

/* --addr and --port (both, or neither when ICE will learn them: addr 0.0.0.0, port 0); not used by
 * another participant but self. */
static bool get_addr_port(struct ctl_ctx *ctx, const struct args *a, int ia, int ip, bool ice, uint32_t self,
			  struct mmr_addr *addr, uint16_t *port, struct request *req)
{
	struct model *m = ctx->model;
	memset(addr, 0, sizeof(*addr));
	addr->family = MMR_AF_INET;
	*port = 0;
	if (!a->opt[ia] && !a->opt[ip]) {
		if (ice)
			return true;
		fail(req, "--addr and --port are needed (or --ice UFRAG:PWD: the address is learned from its checks)");
		return false;
	}
	if (!a->opt[ia] || !a->opt[ip]) {
		fail(req, "--addr and --port go together");
		return false;
	}
	int rc = val_addr(a->opt[ia], addr);
	if (rc == -1) {
		fail(req, "bad IP address '%s'", a->opt[ia]);
		return false;
	}
	if (rc == -2) {
		fail(req, "IP address '%s' is not a unicast address", a->opt[ia]);
		return false;
	}
	uint64_t v;
	if (val_uint(a->opt[ip], 65535, &v) < 0 || v == 0) {
		fail(req, "bad UDP port '%s' (1-65535)", a->opt[ip]);
		return false;
	}
	*port = (uint16_t)v;
	uint32_t other = model_find_participant_by_addr(m, addr, *port);
	if (other != MMR_ID_NONE && other != self) {
		char text[VAL_ADDR_STRLEN];
		fail(req, "address %s port %u is already used by participant '%s' in meeting '%s'",
		     val_addr_fmt(addr, text), (unsigned)*port, m->parts[other].name,
		     m->meetings[m->parts[other].meeting].name);
		return false;
	}
	return true;
}

/* --ext TEXT [--ext-two-byte]: header extension ids (values.h order) into ext (zeroed without
 * --ext). */
static bool get_ext(const char *text, bool two_byte, uint8_t ext[VAL_EXT_N], struct request *req)
{
	memset(ext, 0, VAL_EXT_N);
	if (two_byte && !text) {
		fail(req, "--ext-two-byte goes with --ext (the ids it allows: 1-255)");
		return false;
	}
	if (!text)
		return true;
	int rc = val_ext(text, ext, two_byte ? VAL_EXT_TWO_BYTE_MAX : VAL_EXT_ONE_BYTE_MAX);
	if (rc == -2)
		fail(req, "header extension id out of range in '%s' (1-14 in the one-byte header form; 1-255 with "
		     "--ext-two-byte)", text);
	else if (rc == -3)
		fail(req, "a header extension appears twice in '%s'", text);
	else if (rc == -4)
		fail(req, "two header extensions share an id in '%s'", text);
	else if (rc < 0)
		fail(req, "bad header extensions '%s' (twcc=ID,abs-send-time=ID,audio-level=ID,mid=ID,rid=ID,rrid=ID, "
		     "any of them)", text);
	return rc >= 0;
}

static void cmd_participant_add(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	struct model *m = ctx->model;
	uint32_t meeting;
	const char *name = a->pos[1];
	if (!get_meeting(ctx, a->pos[0], req, &meeting))
		return;
	if (!val_name_ok(name))
		FAIL("bad participant name '%s' (1-63 characters of A-Z a-z 0-9 _ . -, not starting with '-')",
			    name);
	if (model_is_trunk(name) != (a->opt[PA_TRUNK] != NULL))
		FAIL("participant name '%s': the prefix '" MODEL_TRUNK_PREFIX "' is for trunks to other hosts of the zone, "
		     "and a trunk (--trunk) is named " MODEL_TRUNK_PREFIX "HOST", name);
	if (a->opt[PA_TRUNK] && !zone_host_name_ok(name + sizeof(MODEL_TRUNK_PREFIX) - 1))
		FAIL("bad trunk name '%s' (" MODEL_TRUNK_PREFIX "HOST, HOST a zone host name)", name);
	if (model_find_participant(m, meeting, name) != MMR_ID_NONE)
		FAIL("participant '%s' already exists in meeting '%s'", name, m->meetings[meeting].name);
	/* the meeting decides plain or SRTP; an option may only confirm it */
	enum srtp_suite want, suite = m->meetings[meeting].srtp_suite;
	bool given;
	if (!get_security(a->opt[PA_PLAIN], a->opt[PA_SRTP], req, &want, &given))
		return;
	if (given && want != suite)
		FAIL("meeting '%s' is %s%s; a participant cannot be %s%s (the meeting decides)",
		     m->meetings[meeting].name, suite ? "SRTP " : "", security_text(suite), want ? "SRTP " : "",
		     security_text(want));
	/* the keys of an SRTP trunk are the zone's (zone_cascade.h): both hosts derive them, nobody is
	 * handed random ones; until the zone hands trunks their epochs, trunks are plain only */
	if (a->opt[PA_TRUNK] && suite != SRTP_SUITE_NONE && !ctx->zone_keys)
		FAIL("meeting '%s' is SRTP: a trunk's keys come from the zone (zone_cascade.h): the controllers "
		     "of a zone with secret_file make SRTP trunks themselves", m->meetings[meeting].name);

	struct ice_cred ice __attribute__((cleanup(ice_wipe))) = { 0 };
	if (a->opt[PA_ICE] && !get_ice(ctx, a->opt[PA_ICE], MMR_ID_NONE, &ice, req))
		return;
	struct mmr_addr addr;
	uint16_t port;
	if (!get_addr_port(ctx, a, PA_ADDR, PA_PORT, a->opt[PA_ICE] != NULL, MMR_ID_NONE, &addr, &port, req)) {
		explicit_bzero(&ice, sizeof(ice));
		return;
	}
	uint8_t dtls_fp[MMR_DTLS_FP_LEN] = { 0 };
	unsigned dtls_role = 0;
	bool dtls = a->opt[PA_DTLS_FP] || a->opt[PA_DTLS_ROLE];
	if (dtls && !get_dtls(a->opt[PA_DTLS_FP], a->opt[PA_DTLS_ROLE], a->opt[PA_ICE] != NULL, suite,
			      m->meetings[meeting].name, dtls_fp, &dtls_role, req))
		return;
	int rc;
	int role = MMR_ROLE_SENDRECV;
	if (a->opt[PA_ROLE] && (role = val_role(a->opt[PA_ROLE])) < 0) {
		explicit_bzero(&ice, sizeof(ice));
		FAIL("bad role '%s' (sendrecv, recvonly or sendonly)", a->opt[PA_ROLE]);
	}
	uint8_t mac[6];
	if (a->opt[PA_MAC]) {
		rc = val_mac(a->opt[PA_MAC], mac);
		if (rc == -1)
			FAIL("bad MAC address '%s' (aa:bb:cc:dd:ee:ff)", a->opt[PA_MAC]);
		if (rc == -2)
			FAIL("MAC address '%s' is not a unicast address", a->opt[PA_MAC]);
	}
	uint64_t dp_port = 0;
	if (a->opt[PA_DP_PORT] && val_uint(a->opt[PA_DP_PORT], MMR_MAX_PORTS - 1, &dp_port) < 0)
		FAIL("bad dataplane port '%s' (0-%u)", a->opt[PA_DP_PORT], MMR_MAX_PORTS - 1);
	uint8_t fb = MMR_FB_DEFAULT;
	if (a->opt[PA_RTCP] && val_fb(a->opt[PA_RTCP], &fb) < 0)
		FAIL("bad RTCP feedback '%s' (a list of nack, pli, fir, rsize, twcc, remb, or none)", a->opt[PA_RTCP]);
	/* its RTP header extension ids: what it publishes carries them, what it receives gets them */
	uint8_t ext[VAL_EXT_N] = { 0 };
	if (!get_ext(a->opt[PA_EXT], a->opt[PA_EXT_TWO_BYTE] != NULL, ext, req))
		return;
	if ((fb & MMR_FB_TWCC) && !ext[0])
		FAIL("--rtcp twcc needs --ext twcc=ID: the transport-wide sequence number extension the MMR stamps "
		     "on its copies");
	if ((fb & MMR_FB_REMB) && !ext[1])
		FAIL("--rtcp remb needs --ext abs-send-time=ID: the extension the MMR stamps on its copies for REMB");
	struct mmr_rtx_pt map[MMR_RTX_MAP_MAX];
	memset(map, 0, sizeof(map));
	if (a->opt[PA_RTX]) {
		rc = strcmp(a->opt[PA_RTX], "-") == 0 ? -1 : val_rtx_map(a->opt[PA_RTX], map);
		if (rc == -2)
			FAIL("too many RTX payload types in '%s' (at most %u APT:PT pairs)", a->opt[PA_RTX],
			     MMR_RTX_MAP_MAX);
		if (rc == -3)
			FAIL("a payload type appears twice in '%s'", a->opt[PA_RTX]);
		if (rc < 0)
			FAIL("bad RTX payload types '%s' (APT:PT[,APT:PT...]: media payload type 0-127, its RTX "
			     "payload type 1-127)", a->opt[PA_RTX]);
		if (!val_role_receives((unsigned)role))
			FAIL("--rtx is for participants that receive (this one is %s)", val_role_name((unsigned)role));
	}
	/* receive slots (issue 13): the SSRCs of its fixed m-sections */
	uint32_t v_ssrc[MMR_VSLOT_MAX], v_rtx[MMR_VSLOT_MAX], a_ssrc[MMR_TOPN_MAX], seen[2 * MMR_VSLOT_MAX + MMR_TOPN_MAX];
	unsigned n_v = 0, n_a = 0, n_seen = 0;
	if ((a->opt[PA_VIDEO_SLOTS] || a->opt[PA_AUDIO_SLOTS]) && !val_role_receives((unsigned)role))
		FAIL("--video-slots and --audio-slots are for participants that receive (this one is %s)",
		     val_role_name((unsigned)role));
	if (a->opt[PA_VIDEO_SLOTS] && !get_slot_ssrcs(m, meeting, "video-slots", a->opt[PA_VIDEO_SLOTS], MMR_VSLOT_MAX,
						      v_ssrc, v_rtx, &n_v, seen, &n_seen, req))
		return;
	if (a->opt[PA_AUDIO_SLOTS]) {
		if (!get_slot_ssrcs(m, meeting, "audio-slots", a->opt[PA_AUDIO_SLOTS], MMR_TOPN_MAX, a_ssrc, NULL, &n_a,
				    seen, &n_seen, req))
			return;
		if (n_a > m->meetings[meeting].top_n)
			FAIL("meeting '%s' has top-n %u: %u audio slots need top-n %u or more (meeting set %s --top-n %u)",
			     m->meetings[meeting].name, m->meetings[meeting].top_n, n_a, n_a, m->meetings[meeting].name,
			     n_a);
	}
	bool takes_rtx = false;
	for (unsigned i = 0; i < MMR_RTX_MAP_MAX; i++)
		takes_rtx |= map[i].pt != 0;
	for (unsigned k = 0; k < n_v; k++)
		if (v_rtx[k] && !takes_rtx)
			FAIL("video slot %u has an RTX SSRC but the participant takes no RTX (--rtx APT:PT)", k);
	if (!reserve(ctx, req, meeting, 0, 1, 0, model_join_sub_count(m, meeting, (unsigned)role) + n_v))
		return;
	/* the SSRC the MMR sends it RTCP under: random, none of its meeting's streams' nor its slots' */
	uint32_t mmr_ssrc;
	bool clash;
	do {
		if (keys_random_ssrc(&mmr_ssrc) < 0)
			FAIL("the random generator failed: no SSRC for the participant's RTCP");
		clash = model_find_stream(m, meeting, mmr_ssrc) != MMR_ID_NONE ||
			model_find_rtx_ssrc(m, meeting, mmr_ssrc) != MMR_ID_NONE;
		for (unsigned i = 0; i < n_seen; i++)
			clash |= seen[i] == mmr_ssrc;
	} while (clash);
	if (m->meetings[meeting].top_n && keys_random_ssrc(&m->ssrc_seed) < 0)
		FAIL("the random generator failed: no SSRCs for the participant's top-N slots");
	struct srtp_master keys[2];
	memset(keys, 0, sizeof(keys));
	if (suite != SRTP_SUITE_NONE && !dtls && !new_keys(ctx, suite, keys, req))
		return;    /* (DTLS: its keys come from its handshake, none here) */

	uint32_t id = model_participant_join(m, meeting, name, &addr, port, (unsigned)role,
					     a->opt[PA_MAC] ? mac : NULL, (uint16_t)dp_port);
	model_participant_set_keys(m, id, &keys[0], &keys[1]);
	model_participant_set_ice(m, id, ice.ufrag, ice.ulen, ice.pwd, ice.plen);
	if (n_v || n_a)
		model_participant_set_slots(m, id, n_v, v_ssrc, v_rtx, n_a, a_ssrc);
	explicit_bzero(&ice, sizeof(ice));
	model_participant_set_dtls(m, id, dtls, dtls_role, dtls_fp);
	model_participant_set_rtcp(m, id, fb, mmr_ssrc, map);   /* its subscriptions' RTX SSRCs too */
	model_participant_set_ext_ids(&m->parts[id], ext);
	explicit_bzero(keys, sizeof(keys));
	/* meeting controls: until admitted; a trunk (another host of the zone carrying the meeting, made by
	 * an operator or the zone, never by a join) does not wait: its participants wait on their own host */
	m->parts[id].waiting = m->meetings[meeting].waiting_room && !a->opt[PA_TRUNK];
	struct outbuf *b = change_begin(ctx);
	state_line_participant(b, m, id);
	if (n_a)
		state_line_aslots(b, m, id);
	if (m->parts[id].waiting)
		state_line_pctl(b, m, id);
	for (uint32_t s = m->parts[id].first_rsub; s != MMR_ID_NONE; s = m->subs[s].r_next)
		state_line_sub(b, m, s);
	if (!change_end(ctx, req)) {
		model_participant_remove(m, id);
		return;
	}
	dp_begin(ctx, req);
	uint64_t last = dp_link_put_participant(ctx->dp, id);
	for (uint32_t b = m->parts[id].first_rsub; b != MMR_ID_NONE; b = m->subs[b].r_next)
		last = dp_link_put_sub(ctx->dp, b);
	dp_end(ctx, req, last, true);
	if (m->parts[id].waiting && !req->json)
		ob_printf(&req->body, "note: meeting '%s' has a waiting room: '%s' waits until admitted "
			  "(participant admit %s %s)\n", m->meetings[meeting].name, name, m->meetings[meeting].name, name);
	if (suite != SRTP_SUITE_NONE && !dtls)
		reply_keys(ctx, id, req, true);
}

/* The participant's address or ICE credentials changed in the model: journal it and tell the
 * dataplane (its PUT replaces the participant's address and outputs under RCU). */
static void participant_changed(struct ctl_ctx *ctx, uint32_t id)
{
	state_line_paddr(change_begin(ctx), ctx->model, id);
}

enum { PS_ADDR, PS_PORT, PS_ICE, PS_NO_ADDR, PS_DTLS_FP, PS_DTLS_ROLE, PS_EXT, PS_EXT_TWO_BYTE };

/* `participant set --ext`: the new ids must keep what the participant relies on: its TWCC / REMB
 * feedback, and the extensions its streams still learning SSRCs are found by. */
static bool ext_change_ok(const struct model *m, uint32_t id, const uint8_t ext[VAL_EXT_N], struct request *req)
{
	const struct m_participant *pp = &m->parts[id];
	if ((pp->fb & MMR_FB_TWCC) && !ext[0]) {
		fail(req, "participant '%s' takes TWCC feedback: it needs twcc=ID", pp->name);
		return false;
	}
	if ((pp->fb & MMR_FB_REMB) && !ext[1]) {
		fail(req, "participant '%s' takes REMB: it needs abs-send-time=ID", pp->name);
		return false;
	}
	for (uint32_t s = pp->first_stream; s != MMR_ID_NONE; s = m->streams[s].next) {
		const struct m_stream *ss = &m->streams[s];
		if (!ss->learn)
			continue;
		if (!ext[3] || (ss->rid[0] && !ext[4]) || ((ss->learn & MMR_LEARN_RTX) && !ext[5])) {
			fail(req, "participant '%s' has a stream (mid %s) whose SSRCs are still being learned: it needs "
			     "mid=ID%s%s", pp->name, ss->mid, ss->rid[0] ? ",rid=ID" : "",
			     (ss->learn & MMR_LEARN_RTX) ? ",rrid=ID" : "");
			return false;
		}
	}
	return true;
}


static void cmd_participant_set(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	struct model *m = ctx->model;
	uint32_t meeting, id;
	if (!get_meeting(ctx, a->pos[0], req, &meeting) || !get_participant(ctx, meeting, a->pos[1], req, &id))
		return;
	struct m_participant *pp = &m->parts[id];
	if (!a->opt[PS_ADDR] && !a->opt[PS_PORT] && !a->opt[PS_ICE] && !a->opt[PS_NO_ADDR] && !a->opt[PS_DTLS_FP] &&
	    !a->opt[PS_DTLS_ROLE] && !a->opt[PS_EXT] && !a->opt[PS_EXT_TWO_BYTE])
		FAIL("nothing to set (--addr IP --port N, --no-addr, --ice UFRAG:PWD or --ice -, --dtls-fp FP "
		     "[--dtls-role server|client], --ext ...)");
	uint8_t ext[VAL_EXT_N], old_ext[VAL_EXT_N];
	model_participant_ext_ids(pp, old_ext);
	if (!get_ext(a->opt[PS_EXT], a->opt[PS_EXT_TWO_BYTE] != NULL, ext, req))
		return;
	if (a->opt[PS_EXT] && !ext_change_ok(m, id, ext, req))
		return;
	if (a->opt[PS_NO_ADDR] && (a->opt[PS_ADDR] || a->opt[PS_PORT]))
		FAIL("--no-addr goes without --addr and --port");
	struct ice_cred ice __attribute__((cleanup(ice_wipe))) = { 0 };
	bool ice_given = a->opt[PS_ICE] != NULL, ice_none = ice_given && strcmp(a->opt[PS_ICE], "-") == 0;
	if (ice_given && !ice_none && !get_ice(ctx, a->opt[PS_ICE], id, &ice, req))
		return;
	bool has_ice = ice_given ? !ice_none : pp->ice;
	/* DTLS: a new fingerprint (a new handshake) or role; never back to SDES keys (remove and add) */
	bool dtls_given = a->opt[PS_DTLS_FP] || a->opt[PS_DTLS_ROLE];
	uint8_t dtls_fp[MMR_DTLS_FP_LEN];
	unsigned dtls_role = pp->dtls_role;
	memcpy(dtls_fp, pp->dtls_fp, sizeof(dtls_fp));
	if (dtls_given && !pp->dtls)
		FAIL("participant '%s' has SDES keys: DTLS is chosen when a participant is added", pp->name);
	if (dtls_given) {
		char cur[MMR_DTLS_FP_TEXT_LEN + 1];
		dtls_fp_format(pp->dtls_fp, cur);
		const char *fp_text = a->opt[PS_DTLS_FP] ? a->opt[PS_DTLS_FP] : pp->dtls ? cur : NULL;
		const char *role_text = a->opt[PS_DTLS_ROLE] ? a->opt[PS_DTLS_ROLE] :
					pp->dtls_role == MMR_DTLS_CLIENT ? "client" : "server";
		if (!get_dtls(fp_text, role_text, has_ice, (enum srtp_suite)m->meetings[pp->meeting].srtp_suite,
			      m->meetings[pp->meeting].name, dtls_fp, &dtls_role, req))
			return;
	} else if (pp->dtls && !has_ice) {
		FAIL("participant '%s' uses DTLS: it keeps ICE credentials (--ice UFRAG:PWD, not -)", pp->name);
	}
	struct mmr_addr addr = pp->addr;
	uint16_t port = pp->udp_port;
	if (a->opt[PS_NO_ADDR]) {
		memset(&addr, 0, sizeof(addr));
		addr.family = MMR_AF_INET;
		port = 0;
	} else if ((a->opt[PS_ADDR] || a->opt[PS_PORT]) &&
		   !get_addr_port(ctx, a, PS_ADDR, PS_PORT, has_ice, id, &addr, &port, req)) {
		return;
	}
	if (!has_ice && port == 0)
		FAIL("participant '%s' needs an address (--addr IP --port N) without ICE credentials", pp->name);
	/* the old values, to undo */
	struct mmr_addr old_addr = pp->addr;
	uint16_t old_port = pp->udp_port;
	struct ice_cred old __attribute__((cleanup(ice_wipe))) = { .ulen = pp->ice_ufrag_len, .plen = pp->ice_pwd_len };
	memcpy(old.ufrag, pp->ice_ufrag, sizeof(old.ufrag));
	memcpy(old.pwd, pp->ice_pwd, sizeof(old.pwd));
	uint8_t old_fp[MMR_DTLS_FP_LEN];
	unsigned old_role = pp->dtls_role, old_state = pp->dtls_state, old_fail = pp->dtls_fail,
		 old_suite = pp->dtls_suite;
	memcpy(old_fp, pp->dtls_fp, sizeof(old_fp));
	bool dtls_new = dtls_given && (dtls_role != pp->dtls_role || memcmp(dtls_fp, pp->dtls_fp, sizeof(dtls_fp)));
	model_participant_set_addr(m, id, &addr, port);
	if (ice_given)
		model_participant_set_ice(m, id, ice.ufrag, ice.ulen, ice.pwd, ice.plen);
	if (dtls_new)
		model_participant_set_dtls(m, id, true, dtls_role, dtls_fp);
	if (a->opt[PS_EXT])
		model_participant_set_ext_ids(pp, ext);
	participant_changed(ctx, id);
	if (dtls_new)
		state_line_pdtls(change_begin(ctx), m, id);
	if (a->opt[PS_EXT])
		state_line_pext(change_begin(ctx), m, id);
	if (!change_end(ctx, req)) {
		model_participant_set_addr(m, id, &old_addr, old_port);
		model_participant_set_ice(m, id, old.ufrag, old.ulen, old.pwd, old.plen);
		model_participant_set_ext_ids(pp, old_ext);
		if (dtls_new) {
			model_participant_set_dtls(m, id, true, old_role, old_fp);
			pp->dtls_state = (uint8_t)old_state;
			pp->dtls_fail = (uint8_t)old_fail;
			pp->dtls_suite = (uint8_t)old_suite;
		}
		return;
	}
	dp_begin(ctx, req);
	dp_end(ctx, req, dp_link_put_participant(ctx->dp, id), true);
}

/* An ICE event from the dataplane (events.h: MMR_EV_ADDRESS, MMR_EV_CONSENT): the participant's
 * learned address set, or cleared after its consent expired; journalled and sent like `participant
 * set`. Stale or impossible events (no such ICE participant, an address another participant uses)
 * are logged and ignored. */
void requests_ice_event(struct ctl_ctx *ctx, const struct mmr_event *ev)
{
	struct model *m = ctx->model;
	if (ev->id >= MMR_MAX_PARTICIPANTS || !m->parts[ev->id].used || !m->parts[ev->id].ice)
		return;
	struct m_participant *pp = &m->parts[ev->id];
	struct mmr_addr addr;
	memset(&addr, 0, sizeof(addr));
	addr.family = MMR_AF_INET;
	uint16_t port = 0;
	char was[VAL_ADDR_STRLEN], now[VAL_ADDR_STRLEN];
	if (ev->type == MMR_EV_ADDRESS) {
		memcpy(addr.ip, &ev->v0, 4);
		port = (uint16_t)ev->v1;
		if (port == 0 || ev->v1 > 65535)
			return;
		if (port == pp->udp_port && mmr_addr_eq(&addr, &pp->addr))
			return;     /* already there (an event sent before our PUT reached it) */
		uint32_t other = model_find_participant_by_addr(m, &addr, port);
		if (other != MMR_ID_NONE) {
			ctl_log("ICE: participant '%s' checked from %s port %u, which participant '%s' uses: not moved",
				pp->name, val_addr_fmt(&addr, now), port, m->parts[other].name);
			return;
		}
		ctl_log("ICE: participant '%s' in meeting '%s' is at %s port %u (was %s port %u)", pp->name,
			m->meetings[pp->meeting].name, val_addr_fmt(&addr, now), port,
			val_addr_fmt(&pp->addr, was), pp->udp_port);
	} else if (ev->type == MMR_EV_CONSENT) {
		if (pp->udp_port == 0 || ev->v0 != pp->udp_port)
			return;     /* cleared already, or moved since */
		ctl_log("ICE: participant '%s' in meeting '%s' lost consent (no valid check): address %s port %u "
			"cleared", pp->name, m->meetings[pp->meeting].name, val_addr_fmt(&pp->addr, was), pp->udp_port);
	} else {
		return;
	}
	struct mmr_addr old_addr = pp->addr;
	uint16_t old_port = pp->udp_port;
	model_participant_set_addr(m, ev->id, &addr, port);
	participant_changed(ctx, ev->id);
	if (!state_store_change_end(ctx->store)) {
		model_participant_set_addr(m, ev->id, &old_addr, old_port);
		ctl_log("ICE: out of memory recording participant '%s''s address: ignored", pp->name);
		return;
	}
	m->state_changes++;
	if (state_store_pending(ctx->store))
		dp_link_hold(ctx->dp);
	dp_link_put_participant(ctx->dp, ev->id);
}


void requests_ssrc_event(struct ctl_ctx *ctx, const struct mmr_event *ev)
{
	struct model *m = ctx->model;
	struct ctl_events *e = &ctx->dp->ev;
	uint32_t p = ev->id, s = ev->v1, ssrc = ev->v0;
	bool rtx = ev->flags == MMR_LEARN_RTX;
	if (p >= model_part_bound(m) || !m->parts[p].used || s >= model_stream_bound(m) || !m->streams[s].used ||
	    m->streams[s].participant != p || (ev->flags != MMR_LEARN_MEDIA && !rtx))
		return;
	struct m_stream *ss = &m->streams[s];
	if (!(ss->learn & ev->flags))
		return;     /* learned already (an event sent before our PUT reached the dataplane) */
	uint32_t meeting = m->parts[p].meeting;
	if (!ssrc_free(m, meeting, ssrc)) {    /* the stream's own SSRC is one of the meeting's too */
		e->ssrc_refused++;
		if (e->ssrc_refused_last != ssrc)
			ctl_log("SSRC learning: participant '%s' in meeting '%s' sends SSRC %u (0x%08x) for mid %s%s%s%s, "
				"which is used in the meeting already: refused", m->parts[p].name,
				m->meetings[meeting].name, ssrc, ssrc, ss->mid, ss->rid[0] ? " rid " : "", ss->rid,
				rtx ? " (RTX)" : "");
		e->ssrc_refused_last = ssrc;
		return;
	}
	uint32_t old_ssrc = ss->ssrc, old_rtx = ss->rtx_ssrc;
	uint8_t old_learn = ss->learn;
	if (rtx)
		model_stream_set_rtx(m, s, ssrc);
	else
		model_stream_set_ssrc(m, s, ssrc);
	state_line_ssrc(change_begin(ctx), m, s);
	if (!state_store_change_end(ctx->store)) {
		if (!rtx)
			model_stream_set_ssrc(m, s, old_ssrc);
		ss->rtx_ssrc = old_rtx;
		ss->learn = old_learn;
		ctl_log("SSRC learning: out of memory recording stream %u's SSRC: ignored", s);
		return;
	}
	m->state_changes++;
	e->ssrc_learned++;
	ctl_log("learned SSRC %u (0x%08x) for participant '%s' mid %s%s%s%s", ssrc, ssrc, m->parts[p].name, ss->mid,
		ss->rid[0] ? " rid " : "", ss->rid, rtx ? " (RTX)" : "");
	if (state_store_pending(ctx->store))
		dp_link_hold(ctx->dp);
	dp_link_put_stream(ctx->dp, s);
	if (!rtx && ss->group != MMR_ID_NONE) {
		/* the group's receivers: the encoding they are given may change (model_learned_encoding) */
		uint32_t head = model_group_head(m, s);
		for (uint32_t x = head; x != MMR_ID_NONE && model_group_head(m, x) == head; x = m->streams[x].next)
			for (uint32_t b = m->streams[x].first_sub; b != MMR_ID_NONE; b = m->subs[b].s_next)
				dp_link_put_sub(ctx->dp, b);
	}
	dp_link_put_participant(ctx->dp, p);   /* its learn table without what is known now */
}

/* A DTLS event from the dataplane (MMR_EV_DTLS): the participant's handshake state, shown by
 * `participant show/list`, and logged when it connects or fails. Not journalled (a new dataplane
 * means a new handshake). */
void requests_dtls_event(struct ctl_ctx *ctx, const struct mmr_event *ev)
{
	struct model *m = ctx->model;
	if (ev->id >= MMR_MAX_PARTICIPANTS || !m->parts[ev->id].used || !m->parts[ev->id].dtls)
		return;
	struct m_participant *pp = &m->parts[ev->id];
	unsigned st = MMR_DTLS_STATE(ev->v0), why = MMR_DTLS_FAIL(ev->v0), suite = MMR_DTLS_SUITE(ev->v0);
	if (st < MMR_DTLS_HANDSHAKING || st >= MMR_DTLS__STATES)
		return;
	pp->dtls_state = (uint8_t)st;
	pp->dtls_fail = st == MMR_DTLS_FAILED ? (uint8_t)why : 0;
	pp->dtls_suite = st == MMR_DTLS_CONNECTED ? (uint8_t)suite : 0;
	if (st == MMR_DTLS_CONNECTED)
		ctl_log("DTLS: participant '%s' in meeting '%s' connected (%s)", pp->name, m->meetings[pp->meeting].name,
			srtp_suite_name((enum srtp_suite)suite));
	else if (st == MMR_DTLS_FAILED)
		ctl_log("DTLS: participant '%s' in meeting '%s' failed: %s", pp->name, m->meetings[pp->meeting].name,
			mmr_dtls_fail_name(why));
	else if (st == MMR_DTLS_CLOSED)
		ctl_log("DTLS: participant '%s' in meeting '%s' closed by the peer", pp->name,
			m->meetings[pp->meeting].name);
}

static void cmd_participant_list(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	uint32_t meeting;
	if (get_meeting(ctx, a->pos[0], req, &meeting))
		render_participant_list(ctx, meeting, req->json, &req->body);
}

static void cmd_participant_show(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	uint32_t meeting, id;
	if (get_meeting(ctx, a->pos[0], req, &meeting) && get_participant(ctx, meeting, a->pos[1], req, &id))
		render_participant_show(ctx, id, req->json, &req->body);
}

/* An SRTP meeting's participant, or fail. */
static bool get_srtp_participant(struct ctl_ctx *ctx, const struct args *a, struct request *req, uint32_t *id)
{
	uint32_t meeting;
	if (!get_meeting(ctx, a->pos[0], req, &meeting) || !get_participant(ctx, meeting, a->pos[1], req, id))
		return false;
	if (ctx->model->meetings[meeting].srtp_suite == SRTP_SUITE_NONE) {
		fail(req, "meeting '%s' is plain RTP: its participants have no keys", ctx->model->meetings[meeting].name);
		return false;
	}
	if (ctx->model->parts[*id].dtls) {
		fail(req, "participant '%s' gets its keys from its DTLS handshake (none to show or replace; a new "
		     "--dtls-fp makes a new handshake)", ctx->model->parts[*id].name);
		return false;
	}
	return true;
}

static void cmd_participant_keys(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	uint32_t id;
	if (get_srtp_participant(ctx, a, req, &id))
		reply_keys(ctx, id, req, false);
}

/*
 * New SEND and RECV keys. The reply comes once the dataplane has them: it then accepts the old and
 * the new SEND key (newest first) until a packet authenticates with the new one and ~2 s more, and
 * encrypts the participant's copies with the new RECV key at once.
 */
static void cmd_participant_rekey(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	struct model *m = ctx->model;
	uint32_t id;
	if (!get_srtp_participant(ctx, a, req, &id))
		return;
	struct srtp_master keys[2], old[2];
	if (!new_keys(ctx, (enum srtp_suite)m->meetings[m->parts[id].meeting].srtp_suite, keys, req))
		return;
	old[0] = m->parts[id].send_key;
	old[1] = m->parts[id].recv_key;
	model_participant_set_keys(m, id, &keys[0], &keys[1]);
	explicit_bzero(keys, sizeof(keys));
	state_line_keys(change_begin(ctx), m, id);
	bool saved = change_end(ctx, req);
	if (!saved)
		model_participant_set_keys(m, id, &old[0], &old[1]);
	explicit_bzero(old, sizeof(old));
	if (!saved)
		return;
	dp_begin(ctx, req);
	dp_end(ctx, req, dp_link_put_participant(ctx->dp, id), true);
	reply_keys(ctx, id, req, true);
}

/* ---- the SRTP ledger, at attach --------------------------------------------------------------- */

/* (an SDES one: a DTLS participant's keys come from its handshake, a fresh one per dataplane) */
static bool srtp_participant(const struct model *m, uint32_t p)
{
	return m->parts[p].used && !m->parts[p].dtls && m->meetings[m->parts[p].meeting].srtp_suite != SRTP_SUITE_NONE;
}

/*
 * New SEND and RECV keys for every SRTP participant, as `participant rekey` makes and saves them
 * (one save for all), and the new ledger id with them. 0, or -1 with the model as it was and the
 * reason in err.
 */
static int rekey_all(struct ctl_ctx *ctx, uint32_t n, const uint8_t id[MMR_SRTP_LEDGER_ID_LEN], char *err,
		     size_t errlen)
{
	struct model *m = ctx->model;
	struct srtp_master *old = malloc((size_t)n * 2 * sizeof(*old));   /* to put back on failure */
	if (!old) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	bool had = m->has_ledger;
	uint8_t old_id[MMR_SRTP_LEDGER_ID_LEN];
	memcpy(old_id, m->ledger_id, sizeof(old_id));
	int64_t old_time = m->ledger_rekeyed;
	uint32_t done = 0;
	int rc = -1;
	for (uint32_t p = 0; p < model_part_bound(m) && done < n; p++) {
		if (!srtp_participant(m, p))
			continue;
		struct srtp_master keys[2];
		if (keys_generate_pair((enum srtp_suite)m->meetings[m->parts[p].meeting].srtp_suite, keys) < 0) {
			snprintf(err, errlen, "the random generator failed");
			goto undo;
		}
		old[2 * done] = m->parts[p].send_key;
		old[2 * done + 1] = m->parts[p].recv_key;
		done++;
		model_participant_set_keys(m, p, &keys[0], &keys[1]);
		explicit_bzero(keys, sizeof(keys));
	}
	memcpy(m->ledger_id, id, sizeof(m->ledger_id));
	m->has_ledger = true;
	m->ledger_rekeyed = (int64_t)time(NULL);
	if (state_store_checkpoint(ctx->store, ctx->model, err, errlen) == 0) {
		rc = 0;
		goto out;
	}
	m->has_ledger = had;
	memcpy(m->ledger_id, old_id, sizeof(old_id));
	m->ledger_rekeyed = old_time;
undo:
	for (uint32_t p = 0, i = 0; p < model_part_bound(m) && i < done; p++)
		if (srtp_participant(m, p)) {
			model_participant_set_keys(m, p, &old[2 * i], &old[2 * i + 1]);
			i++;
		}
out:
	explicit_bzero(old, (size_t)n * 2 * sizeof(*old));
	free(old);
	return rc;
}

int request_ledger_check(struct ctl_ctx *ctx, const uint8_t id[MMR_SRTP_LEDGER_ID_LEN], char *why, size_t whylen)
{
	static const uint8_t zero[MMR_SRTP_LEDGER_ID_LEN];
	struct model *m = ctx->model;
	if (memcmp(id, zero, sizeof(zero)) == 0) {
		snprintf(why, whylen, "the dataplane publishes no SRTP ledger id");
		return -1;
	}
	if (m->has_ledger && memcmp(m->ledger_id, id, sizeof(m->ledger_id)) == 0)
		return 0;
	char was[16], now[16], err[400];
	id_short(m->has_ledger, m->ledger_id, was);
	id_short(true, id, now);
	uint32_t n = 0;
	for (uint32_t p = 0; p < model_part_bound(m); p++)
		n += srtp_participant(m, p);
	if (n == 0 || (!m->has_ledger && !m->ledger_unknown)) {
		/* no key was used under another ledger (none to change, or this controller's state was
		 * never attached to a dataplane: its keys were never used): just record the new one,
		 * durably before any key is used under it. Journal records do not carry the ledger, so
		 * an unsaved one would stay unsaved until the next compaction, and a restart meanwhile
		 * would take keys used under this ledger for never used: stay detached until it is saved */
		bool had = m->has_ledger;
		uint8_t old_id[MMR_SRTP_LEDGER_ID_LEN];
		memcpy(old_id, m->ledger_id, sizeof(old_id));
		memcpy(m->ledger_id, id, sizeof(m->ledger_id));
		m->has_ledger = true;
		if (state_store_checkpoint(ctx->store, ctx->model, err, sizeof(err)) < 0) {
			m->has_ledger = had;
			memcpy(m->ledger_id, old_id, sizeof(old_id));
			snprintf(why, whylen, "SRTP ledger %s cannot be recorded in the state, so no key is used under "
				 "it yet: %s", now, err);
			return -1;
		}
		if (had)
			ctl_log("SRTP ledger changed (old id %s -> new id %s): no SRTP participants, no keys to change",
				was, now);
		else
			ctl_log("SRTP ledger %s recorded: SRTP keys are used under it from now on", now);
		return 0;
	}
	if (rekey_all(ctx, n, id, err, sizeof(err)) < 0) {
		snprintf(why, whylen, "SRTP ledger changed (old id %s -> new id %s) and the %u SRTP participants' new "
			 "keys cannot be saved, so their old keys are not replayed: %s", was, now, n, err);
		return -1;
	}
	m->ledger_unknown = false;
	ctl_log("SRTP ledger changed (old id %s -> new id %s): the %u SRTP participants got new keys; their "
		"clients must fetch them with `mmrctl participant keys`", was, now, n);
	return 0;
}

static void cmd_participant_remove(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	uint32_t meeting, id;
	if (!get_meeting(ctx, a->pos[0], req, &meeting) || !get_participant(ctx, meeting, a->pos[1], req, &id))
		return;
	state_line_remove(change_begin(ctx), "participant", id);
	if (!change_end(ctx, req))
		return;
	dp_begin(ctx, req);
	/* the dataplane drops its streams and every subscription to or from it with it */
	uint64_t last = dp_link_del(ctx->dp, MMR_CMD_PARTICIPANT_DEL, id);
	model_participant_remove(ctx->model, id);
	last = push_blocks(ctx, meeting, last);   /* a sharer gone may let another share */
	dp_end(ctx, req, last, true);
}

/* ---- stream --------------------------------------------------------------------------------- */

enum { ST_SSRC, ST_KIND, ST_CODEC, ST_LAYERS, ST_SPATIAL, ST_DD_EXT, ST_RTX_SSRC, ST_RTX_PT, ST_CLOCK, ST_SCREEN,
       ST_MID, ST_RID };

/* --rid R0[,R1[,R2]]: a simulcast group's rids, lowest encoding first (RFC 8851 rid-ids of
 * 1..MMR_MID_MAX characters), no duplicates. */
static bool get_rid_list(const char *text, struct request *req, char rids[MEDIA_MAX_ENCODINGS][MMR_MID_MAX + 1],
			 unsigned *n)
{
	const char *p = text;
	*n = 0;
	for (;;) {
		size_t len = strcspn(p, ",");
		if (*n == MEDIA_MAX_ENCODINGS) {
			fail(req, "too many rids in '%s' (a simulcast group has 2 or 3 encodings)", text);
			return false;
		}
		if (len == 0 || len > MMR_MID_MAX) {
			fail(req, "bad rid '%.*s' in '%s' (1-%u of A-Z a-z 0-9 - _ .)", (int)len, p, text, MMR_MID_MAX);
			return false;
		}
		memcpy(rids[*n], p, len);
		rids[*n][len] = '\0';
		if (!val_mid_ok(rids[*n])) {
			fail(req, "bad rid '%s' (1-%u of A-Z a-z 0-9 - _ .)", rids[*n], MMR_MID_MAX);
			return false;
		}
		for (unsigned i = 0; i < *n; i++)
			if (strcmp(rids[i], rids[*n]) == 0) {
				fail(req, "rid '%s' appears twice in '%s'", rids[*n], text);
				return false;
			}
		(*n)++;
		if (p[len] == '\0')
			return true;
		p += len + 1;
	}
}

#define CODEC_CHOICES "opus, vp8, vp9, av1 or h264"

/* --ssrc N[,N2[,N3]]: 1 SSRC, or a simulcast group's, lowest encoding first; each new in the
 * meeting, no duplicates. */
static bool get_ssrc_list(struct ctl_ctx *ctx, uint32_t meeting, const char *text, struct request *req,
			  uint32_t ssrcs[MEDIA_MAX_ENCODINGS], unsigned *n)
{
	const struct model *m = ctx->model;
	char item[32];
	const char *p = text;
	*n = 0;
	for (;;) {
		size_t len = strcspn(p, ",");
		if (*n == MEDIA_MAX_ENCODINGS) {
			fail(req, "too many SSRCs in '%s' (a simulcast group has 2 or 3 encodings)", text);
			return false;
		}
		if (len >= sizeof(item)) {
			fail(req, "bad SSRC '%.*s' (a 32-bit number, decimal or 0x hex)", (int)len, p);
			return false;
		}
		memcpy(item, p, len);
		item[len] = '\0';
		if (!get_ssrc(item, "SSRC", req, &ssrcs[*n]))
			return false;
		for (unsigned i = 0; i < *n; i++)
			if (ssrcs[i] == ssrcs[*n]) {
				fail(req, "SSRC %s appears twice in '%s'", item, text);
				return false;
			}
		uint32_t other = model_find_stream(m, meeting, ssrcs[*n]);
		if (other == MMR_ID_NONE)
			other = model_find_rtx_ssrc(m, meeting, ssrcs[*n]);
		if (other != MMR_ID_NONE) {
			fail(req, "SSRC %s is already used in meeting '%s' (by '%s')", item, m->meetings[meeting].name,
			     m->parts[m->streams[other].participant].name);
			return false;
		}
		other = model_find_mmr_ssrc(m, meeting, ssrcs[*n]);
		if (other != MMR_ID_NONE) {
			fail(req, "SSRC %s is the MMR's own RTCP SSRC toward '%s' in meeting '%s': choose another", item,
			     m->parts[other].name, m->meetings[meeting].name);
			return false;
		}
		for (uint32_t r = m->meetings[meeting].first_part; r != MMR_ID_NONE; r = m->parts[r].next)
			if (model_view_ssrc_taken(m, r, ssrcs[*n], MMR_ID_NONE)) {
				fail(req, "SSRC %s is already an SSRC '%s' receives (an out or RTX SSRC): choose another",
				     item, m->parts[r].name);
				return false;
			}
		(*n)++;
		if (p[len] == '\0')
			return true;
		p += len + 1;
	}
}

/* --layers, --spatial and --dd-ext against the codec; fills d. */
static bool get_stream_layers(const struct args *a, struct request *req, struct m_stream_desc *d)
{
	const char *cname = val_codec_name(d->codec);
	unsigned max_t = val_codec_max_tlayers(d->codec), max_s = val_codec_max_slayers(d->codec);
	uint64_t v;
	d->layers = d->spatial = 1;
	d->dd_ext_id = 0;
	if (a->opt[ST_LAYERS]) {
		if (val_uint(a->opt[ST_LAYERS], max_t, &v) < 0 || v == 0) {
			if (max_t > 1)
				fail(req, "bad layer count '%s' (1-%u temporal layers for %s)", a->opt[ST_LAYERS], max_t,
				     cname);
			else
				fail(req, "bad layer count '%s' (%s has 1 layer)", a->opt[ST_LAYERS],
				     d->kind == MMR_KIND_AUDIO ? "audio" : cname);
			return false;
		}
		d->layers = (uint8_t)v;
	}
	if (a->opt[ST_SPATIAL]) {
		if (max_s == 1) {
			fail(req, "--spatial is for vp9 and av1: %s has no spatial layers", cname);
			return false;
		}
		if (val_uint(a->opt[ST_SPATIAL], max_s, &v) < 0 || v == 0) {
			fail(req, "bad spatial layer count '%s' (1-%u for %s)", a->opt[ST_SPATIAL], max_s, cname);
			return false;
		}
		d->spatial = (uint8_t)v;
	}
	if (d->codec == MMR_CODEC_AV1) {
		if (!a->opt[ST_DD_EXT]) {
			fail(req, "av1 needs --dd-ext ID: the RTP header extension id (1-255) its Dependency "
				  "Descriptor is negotiated with");
			return false;
		}
		if (val_uint(a->opt[ST_DD_EXT], 255, &v) < 0 || v == 0) {
			fail(req, "bad Dependency Descriptor extension id '%s' (1-255)", a->opt[ST_DD_EXT]);
			return false;
		}
		d->dd_ext_id = (uint8_t)v;
	} else if (a->opt[ST_DD_EXT]) {
		fail(req, "--dd-ext is for av1 only (%s has no Dependency Descriptor)", cname);
		return false;
	}
	return true;
}

static void cmd_stream_add(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	struct model *m = ctx->model;
	uint32_t meeting, p, ssrcs[MEDIA_MAX_ENCODINGS];
	unsigned n;
	if (!get_meeting(ctx, a->pos[0], req, &meeting) || !get_participant(ctx, meeting, a->pos[1], req, &p))
		return;
	if (!val_role_sends(m->parts[p].role))
		FAIL("participant '%s' is %s and may not publish", m->parts[p].name,
			    val_role_name(m->parts[p].role));
	/* SSRC learning (issue 13): --mid [--rid] without --ssrc: stand-in SSRCs until the packets'
	 * mid/rid/repaired-rid name the real ones (model.h) */
	const char *mid = a->opt[ST_MID];
	char rids[MEDIA_MAX_ENCODINGS][MMR_MID_MAX + 1];
	unsigned n_rid = 0;
	memset(rids, 0, sizeof(rids));
	bool learning = !a->opt[ST_SSRC];
	if (learning && !mid)
		FAIL("give --ssrc N[,N2[,N3]], or --mid MID [--rid R0,R1[,R2]] for SSRCs learned from the packets");
	if (mid && !val_mid_ok(mid))
		FAIL("bad mid '%s' (1-%u of A-Z a-z 0-9 - _ .)", mid, MMR_MID_MAX);
	if (a->opt[ST_RID] && !mid)
		FAIL("--rid goes with --mid (the rids of that m-section)");
	if (a->opt[ST_RID] && !get_rid_list(a->opt[ST_RID], req, rids, &n_rid))
		return;
	for (uint32_t o = m->parts[p].first_stream; mid && o != MMR_ID_NONE; o = m->streams[o].next)
		if (strcmp(m->streams[o].mid, mid) == 0)
			FAIL("participant '%s' already publishes a stream with mid '%s'", m->parts[p].name, mid);
	if (learning) {
		const struct m_participant *pp = &m->parts[p];
		if (!pp->mid_ext_id)
			FAIL("participant '%s' has no mid header extension id (participant add --ext mid=ID): its "
			     "SSRCs cannot be learned; give --ssrc", pp->name);
		if (n_rid && !pp->rid_ext_id)
			FAIL("participant '%s' has no rid header extension id (participant add --ext rid=ID)", pp->name);
		if (a->opt[ST_RTX_SSRC])
			FAIL("--rtx-ssrc goes with --ssrc; with --mid the RTX SSRCs are learned (--rtx-pt PT alone)");
		if (a->opt[ST_RTX_PT] && (!n_rid || !pp->rrid_ext_id))
			FAIL("a learned RTX stream is found by repaired-rid: --rtx-pt without --rtx-ssrc needs --rid and "
			     "the participant's rrid extension id (participant add --ext rrid=ID)");
		n = n_rid ? n_rid : 1;
		unsigned pending = 0;
		for (uint32_t o = pp->first_stream; o != MMR_ID_NONE; o = m->streams[o].next)
			pending += m->streams[o].learn != 0;
		if (pending + n > MMR_LEARN_MAX)
			FAIL("participant '%s' would have %u streams whose SSRCs are being learned (at most %u)", pp->name,
			     pending + n, MMR_LEARN_MAX);
		for (unsigned i = 0; i < n; i++) {
			unsigned tries = 0;
			do {
				if (++tries > 64 || keys_random_ssrc(&ssrcs[i]) < 0)
					FAIL("the random generator failed: no stand-in SSRC for the stream");
			} while (!ssrc_free(m, meeting, ssrcs[i]) || (i > 0 && ssrcs[i] == ssrcs[0]) ||
				 (i > 1 && ssrcs[i] == ssrcs[1]));
		}
	} else {
		if (!get_ssrc_list(ctx, meeting, a->opt[ST_SSRC], req, ssrcs, &n))
			return;
		if (n_rid && n_rid != n)
			FAIL("--rid has %u rids, --ssrc %u SSRCs: one rid per encoding", n_rid, n);
	}
	int kind = val_kind(a->opt[ST_KIND]);
	if (kind < 0)
		FAIL("bad kind '%s' (audio or video)", a->opt[ST_KIND]);
	int codec = val_codec(a->opt[ST_CODEC]);
	if (codec < 0)
		FAIL("bad codec '%s' (" CODEC_CHOICES ")", a->opt[ST_CODEC]);
	if (kind == MMR_KIND_AUDIO && val_codec_kind((unsigned)codec) != MMR_KIND_AUDIO)
		FAIL("codec %s is not an audio codec (audio: opus)", a->opt[ST_CODEC]);
	if (kind == MMR_KIND_VIDEO && val_codec_kind((unsigned)codec) != MMR_KIND_VIDEO)
		FAIL("codec %s is not a video codec (video: vp8, vp9, av1, h264)", a->opt[ST_CODEC]);
	struct m_stream_desc d = { .kind = (uint8_t)kind, .codec = (uint8_t)codec, .group = MMR_ID_NONE };
	if (!get_stream_layers(a, req, &d))
		return;
	if (n > 1 && kind == MMR_KIND_AUDIO)
		FAIL("audio cannot be simulcast (give one SSRC)");
	if (a->opt[ST_SCREEN] && kind != MMR_KIND_VIDEO)
		FAIL("--screen is for video: a screen share is a video stream");
	d.screen = a->opt[ST_SCREEN] != NULL;
	/* the publisher's RTX: one RTX SSRC per SSRC, and its payload type */
	if (!learning && !a->opt[ST_RTX_SSRC] != !a->opt[ST_RTX_PT])
		FAIL("--rtx-ssrc and --rtx-pt go together (the publisher's RTX stream: its SSRC and payload type)");
	if (learning && a->opt[ST_RTX_PT]) {
		uint64_t v;
		if (val_uint(a->opt[ST_RTX_PT], 127, &v) < 0 || v == 0)
			FAIL("bad RTX payload type '%s' (1-127)", a->opt[ST_RTX_PT]);
		d.rtx_pt = (uint8_t)v;
	}
	if (a->opt[ST_RTX_SSRC]) {
		uint32_t rtx[MEDIA_MAX_ENCODINGS];
		unsigned nr;
		if (!get_ssrc_list(ctx, meeting, a->opt[ST_RTX_SSRC], req, rtx, &nr))
			return;
		if (nr != n)
			FAIL("--rtx-ssrc has %u SSRC%s, --ssrc %u: one RTX SSRC per SSRC", nr, nr == 1 ? "" : "s", n);
		for (unsigned i = 0; i < n; i++)
			for (unsigned j = 0; j < n; j++)
				if (rtx[i] == ssrcs[j])
					FAIL("RTX SSRC 0x%08x is also a media SSRC of the stream", rtx[i]);
		memcpy(d.rtx_ssrc, rtx, sizeof(rtx[0]) * n);
		uint64_t v;
		if (val_uint(a->opt[ST_RTX_PT], 127, &v) < 0 || v == 0)
			FAIL("bad RTX payload type '%s' (1-127)", a->opt[ST_RTX_PT]);
		d.rtx_pt = (uint8_t)v;
	}
	if (a->opt[ST_CLOCK]) {
		uint64_t v;
		if (val_uint(a->opt[ST_CLOCK], 1000000, &v) < 0 || v < 1000)
			FAIL("bad clock rate '%s' (1000-1000000 Hz)", a->opt[ST_CLOCK]);
		d.clock_hz = (uint32_t)v;
	}
	if (!reserve(ctx, req, m->parts[p].meeting, 0, 0, n, n * model_publish_sub_count(m, p)))
		return;

	uint32_t id = model_stream_publish(m, p, ssrcs, n, &d);
	unsigned k = 0;
	for (uint32_t s = id; mid && s != MMR_ID_NONE && model_group_head(m, s) == id; s = m->streams[s].next, k++) {
		struct m_stream *ss = &m->streams[s];
		snprintf(ss->mid, sizeof(ss->mid), "%s", mid);
		snprintf(ss->rid, sizeof(ss->rid), "%s", k < n_rid ? rids[k] : "");
		if (learning) {
			ss->learn = MMR_LEARN_MEDIA | (d.rtx_pt ? MMR_LEARN_RTX : 0);
			ss->rtx_pt = d.rtx_pt;
		}
	}
	struct outbuf *b = change_begin(ctx);
	for (uint32_t s = id; s != MMR_ID_NONE && model_group_head(m, s) == id; s = m->streams[s].next)
		state_line_stream(b, m, s);
	for (uint32_t s = id; s != MMR_ID_NONE && model_group_head(m, s) == id; s = m->streams[s].next)
		for (uint32_t x = m->streams[s].first_sub; x != MMR_ID_NONE; x = m->subs[x].s_next)
			state_line_sub(b, m, x);
	if (!change_end(ctx, req)) {
		model_group_remove(m, id);
		return;
	}
	/* the group's encoding 0 and its subscriptions first: the others' group_id and sel_id name them */
	dp_begin(ctx, req);
	/* a screen share the policy denies is blocked before its stream exists in the dataplane */
	uint64_t last = push_blocks(ctx, meeting, UINT64_MAX);
	for (uint32_t s = id; s != MMR_ID_NONE && model_group_head(m, s) == id; s = m->streams[s].next)
		last = dp_link_put_stream(ctx->dp, s);
	for (uint32_t s = id; s != MMR_ID_NONE && model_group_head(m, s) == id; s = m->streams[s].next)
		for (uint32_t b = m->streams[s].first_sub; b != MMR_ID_NONE; b = m->subs[b].s_next)
			last = dp_link_put_sub(ctx->dp, b);
	if (learning)    /* its learn table (dp_link_put_participant) now names the new streams */
		last = dp_link_put_participant(ctx->dp, p);
	dp_end(ctx, req, last, true);
	warn_unranked_audio(m, meeting, p, req);
}

/* The stream with the SSRC option's value in the meeting, published by participant p. */
static bool get_own_stream(struct ctl_ctx *ctx, uint32_t meeting, uint32_t p, const char *text,
			   struct request *req, uint32_t *id)
{
	struct model *m = ctx->model;
	uint32_t ssrc;
	if (!get_ssrc(text, "SSRC", req, &ssrc))
		return false;
	*id = model_find_stream(m, meeting, ssrc);
	if (*id == MMR_ID_NONE) {
		fail(req, "no stream with SSRC %s in meeting '%s'", text, m->meetings[meeting].name);
		return false;
	}
	if (m->streams[*id].participant != p) {
		fail(req, "the stream with SSRC %s belongs to '%s', not '%s'", text,
		     m->parts[m->streams[*id].participant].name, m->parts[p].name);
		return false;
	}
	return true;
}

static void cmd_stream_remove(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	uint32_t meeting, p, id;
	if (!get_meeting(ctx, a->pos[0], req, &meeting) || !get_participant(ctx, meeting, a->pos[1], req, &p) ||
	    !get_own_stream(ctx, meeting, p, a->opt[0], req, &id))
		return;
	/* any member of a simulcast group stands for the whole group */
	struct model *m = ctx->model;
	uint32_t head = model_group_head(m, id), members[MEDIA_MAX_ENCODINGS], n = 0;
	for (uint32_t s = head; s != MMR_ID_NONE && n < MEDIA_MAX_ENCODINGS && model_group_head(m, s) == head;
	     s = m->streams[s].next)
		members[n++] = s;
	state_line_remove(change_begin(ctx), "stream", head);
	if (!change_end(ctx, req))
		return;
	dp_begin(ctx, req);
	uint64_t last = UINT64_MAX;
	bool learning = false;
	for (unsigned i = 0; i < n; i++)
		learning |= m->streams[members[i]].learn != 0;
	while (n > 0)     /* encoding 0 last: the others' sel_id name its subscriptions */
		last = dp_link_del(ctx->dp, MMR_CMD_STREAM_DEL, members[--n]);
	model_group_remove(m, head);
	if (learning)     /* its learn table without the removed streams (their ids may be reused) */
		last = dp_link_put_participant(ctx->dp, p);
	last = push_blocks(ctx, meeting, last);   /* a screen share gone may let another share */
	dp_end(ctx, req, last, true);
}

/* ---- subscriptions -------------------------------------------------------------------------- */

enum { SU_SSRC, SU_TARGET, SU_SPATIAL, SU_DT, SU_ENCODING, SU_OUT_SSRC, SU_RTX_SSRC, SU_PIN, SU_UNPIN };

/* One layer option of `sub set`: 0..max, with the error the existing --target one had. */
static bool get_target(const char *text, const char *what, unsigned count, const char *unit, struct request *req,
		       uint8_t *out)
{
	uint64_t v;
	if (val_uint(text, count - 1u, &v) == 0) {
		*out = (uint8_t)v;
		return true;
	}
	if (count == 1)
		fail(req, "bad %s '%s' (the stream has 1 %s: 0)", what, text, unit);
	else
		fail(req, "bad %s '%s' (0-%u: the stream has %u %ss)", what, text, count - 1u, count, unit);
	return false;
}

/* The new targets from the options, checked against the stream's codec and layer counts. */
static bool get_sub_targets(const struct model *m, uint32_t s, const struct args *a, struct request *req,
			    struct m_target *t)
{
	const struct m_stream *ss = &m->streams[s];
	const char *cname = val_codec_name(ss->codec), *ssrc = a->opt[SU_SSRC];
	if (!a->opt[SU_TARGET] && !a->opt[SU_SPATIAL] && !a->opt[SU_DT] && !a->opt[SU_ENCODING] &&
	    !a->opt[SU_OUT_SSRC] && !a->opt[SU_RTX_SSRC] && !a->opt[SU_PIN] && !a->opt[SU_UNPIN]) {
		fail(req, "nothing to set: give --target, --spatial, --dt, --encoding, --out-ssrc, --rtx-ssrc, --pin or "
		     "--unpin");
		return false;
	}
	if (ss->codec == MMR_CODEC_AV1 && (a->opt[SU_TARGET] || a->opt[SU_SPATIAL])) {
		fail(req, "SSRC %s is av1: give its decode target with --dt (dt = spatial * %u + temporal)", ssrc,
		     ss->layers);
		return false;
	}
	if (a->opt[SU_TARGET] && !get_target(a->opt[SU_TARGET], "target layer", ss->layers, "layer", req, &t->tid))
		return false;
	if (a->opt[SU_SPATIAL]) {
		if (ss->codec != MMR_CODEC_VP9) {
			fail(req, "--spatial is for vp9: SSRC %s is %s and has no spatial layers", ssrc, cname);
			return false;
		}
		if (!get_target(a->opt[SU_SPATIAL], "spatial layer", ss->spatial, "spatial layer", req, &t->sid))
			return false;
	}
	if (a->opt[SU_DT]) {
		if (ss->codec != MMR_CODEC_AV1) {
			fail(req, "--dt is for av1: SSRC %s is %s and has no decode targets", ssrc, cname);
			return false;
		}
		if (!get_target(a->opt[SU_DT], "decode target", (unsigned)ss->spatial * ss->layers, "decode target",
				req, &t->dt))
			return false;
	}
	if (a->opt[SU_ENCODING]) {
		unsigned n = model_group_size(m, s);
		if (n == 1) {
			fail(req, "--encoding is for simulcast: SSRC %s is not in a simulcast group", ssrc);
			return false;
		}
		if (!get_target(a->opt[SU_ENCODING], "encoding", n, "encoding", req, &t->encoding))
			return false;
	}
	return true;
}

static void cmd_sub_set(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	struct model *m = ctx->model;
	uint32_t meeting, r, ssrc, out_ssrc;
	if (!get_meeting(ctx, a->pos[0], req, &meeting) || !get_participant(ctx, meeting, a->pos[1], req, &r))
		return;
	const struct m_participant *rp = &m->parts[r];
	if (!get_ssrc(a->opt[SU_SSRC], "SSRC", req, &ssrc))
		return;
	uint32_t s = model_find_stream(m, meeting, ssrc);
	if (s == MMR_ID_NONE)
		FAIL("no stream with SSRC %s in meeting '%s'", a->opt[SU_SSRC], m->meetings[meeting].name);
	const struct m_stream *ss = &m->streams[s];
	if (!val_role_receives(rp->role))
		FAIL("participant '%s' is %s and receives nothing", rp->name, val_role_name(rp->role));
	if (ss->participant == r)
		FAIL("participant '%s' publishes SSRC %s itself and is not subscribed to it", rp->name,
			    a->opt[SU_SSRC]);
	if (!model_stream_subscribed(m, meeting, ss->kind))
		FAIL("meeting '%s' has top-n %u: its audio reaches '%s' through top-N slots, not per stream",
		     m->meetings[meeting].name, m->meetings[meeting].top_n, rp->name);
	if (rp->n_vslots && ss->kind == MMR_KIND_VIDEO)
		FAIL("participant '%s' receives video on slots: slot set %s %s --video K --ssrc %s [targets]", rp->name,
		     m->meetings[meeting].name, rp->name, a->opt[SU_SSRC]);
	if (a->opt[SU_PIN] && a->opt[SU_UNPIN])
		FAIL("--pin and --unpin exclude each other");
	if ((a->opt[SU_PIN] || a->opt[SU_UNPIN]) && ss->kind != MMR_KIND_VIDEO)
		FAIL("--pin/--unpin are for video: SSRC %s is audio, which is never paused", a->opt[SU_SSRC]);
	/* a simulcast group: the receiver's subscriptions to all its members, encoding 0 first */
	uint32_t head = model_group_head(m, s), subs[MEDIA_MAX_ENCODINGS], n = 0;
	for (uint32_t x = head; x != MMR_ID_NONE && n < MEDIA_MAX_ENCODINGS && model_group_head(m, x) == head;
	     x = m->streams[x].next) {
		subs[n] = model_find_sub(m, x, r);
		if (subs[n++] == MMR_ID_NONE)   /* cannot happen while the subscription rule holds */
			FAIL("participant '%s' is not subscribed to SSRC %s", rp->name, a->opt[SU_SSRC]);
	}
	const struct m_sub *b0 = &m->subs[subs[0]];
	struct m_target t = { b0->target, b0->target_sid, b0->target_dt, b0->target_encoding };
	if (!get_sub_targets(m, s, a, req, &t))
		return;
	out_ssrc = b0->out_ssrc;
	if (a->opt[SU_OUT_SSRC]) {
		if (!get_ssrc(a->opt[SU_OUT_SSRC], "out SSRC", req, &out_ssrc))
			return;
	}
	uint32_t rtx_ssrc = b0->rtx_ssrc;
	if (a->opt[SU_RTX_SSRC]) {
		if (!get_ssrc(a->opt[SU_RTX_SSRC], "RTX SSRC", req, &rtx_ssrc))
			return;
		if (rtx_ssrc && !(rp->fb & MMR_FB_RTX))
			FAIL("participant '%s' takes no RTX (no --rtx payload types when it was added)", rp->name);
	}
	if (rtx_ssrc && rtx_ssrc == out_ssrc)
		FAIL("the RTX SSRC and the out SSRC are both 0x%08x", out_ssrc);
	/* SSRCs the receiver sees stay apart: from its other subscriptions' and from our RTCP's */
	if (out_ssrc != b0->out_ssrc && model_view_ssrc_taken(m, r, out_ssrc, subs[0]))
		FAIL("out SSRC 0x%08x is already one '%s' receives, or the MMR's RTCP SSRC toward it", out_ssrc,
		     rp->name);
	if (rtx_ssrc && rtx_ssrc != b0->rtx_ssrc &&
	    (model_view_ssrc_taken(m, r, rtx_ssrc, subs[0]) || model_find_stream(m, meeting, rtx_ssrc) != MMR_ID_NONE))
		FAIL("RTX SSRC 0x%08x is already one '%s' receives, a stream's, or the MMR's RTCP SSRC toward it",
		     rtx_ssrc, rp->name);

	uint8_t prio = b0->priority;
	if (a->opt[SU_PIN])
		prio = MMR_PRIO_PINNED;
	if (a->opt[SU_UNPIN])
		prio = MMR_PRIO_NORMAL;
	struct m_sub old[MEDIA_MAX_ENCODINGS];
	for (unsigned i = 0; i < n; i++) {
		struct m_sub *b = &m->subs[subs[i]];
		old[i] = *b;
		b->priority = prio;
		b->target = t.tid;
		b->target_sid = t.sid;
		b->target_dt = t.dt;
		b->target_encoding = t.encoding;
		b->out_ssrc = out_ssrc;
		b->rtx_ssrc = rtx_ssrc;
	}
	struct outbuf *b = change_begin(ctx);
	for (unsigned i = 0; i < n; i++)
		state_line_target(b, m, subs[i]);
	if (!change_end(ctx, req)) {
		for (unsigned i = 0; i < n; i++)
			m->subs[subs[i]] = old[i];
		return;
	}
	dp_begin(ctx, req);
	uint64_t last = UINT64_MAX;
	for (unsigned i = 0; i < n; i++)
		last = dp_link_put_sub(ctx->dp, subs[i]);
	dp_end(ctx, req, last, true);
}

static void cmd_sub_list(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	uint32_t id;
	if (get_meeting(ctx, a->pos[0], req, &id)) {
		dp_link_events(ctx->dp);    /* the current layers as of now */
		render_sub_list(ctx, id, req->json, &req->body);
	}
}

/* ---- receive slots (issue 13) --------------------------------------------------------------- */

enum { SL_VIDEO, SL_SSRC, SL_NONE, SL_TARGET, SL_SPATIAL, SL_DT, SL_ENCODING };

/* The slot's targets for stream s: the stream's top (a new stream) or what the slot has (the same
 * one), then the options, checked against the stream's codec and layers. */
static bool get_slot_targets(const struct model *m, uint32_t s, bool same, const struct m_sub *slot,
			     const struct args *a, struct request *req, struct m_target *t)
{
	const struct m_stream *ss = &m->streams[s];
	const char *cname = val_codec_name(ss->codec), *ssrc = a->opt[SL_SSRC];
	if (same)
		*t = (struct m_target){ slot->target, slot->target_sid, slot->target_dt, slot->target_encoding };
	else
		model_default_target(m, s, t);
	if (ss->codec == MMR_CODEC_AV1 && (a->opt[SL_TARGET] || a->opt[SL_SPATIAL])) {
		fail(req, "SSRC %s is av1: give its decode target with --dt (dt = spatial * %u + temporal)", ssrc,
		     ss->layers);
		return false;
	}
	if (a->opt[SL_TARGET] && !get_target(a->opt[SL_TARGET], "target layer", ss->layers, "layer", req, &t->tid))
		return false;
	if (a->opt[SL_SPATIAL]) {
		if (ss->codec != MMR_CODEC_VP9) {
			fail(req, "--spatial is for vp9: SSRC %s is %s and has no spatial layers", ssrc, cname);
			return false;
		}
		if (!get_target(a->opt[SL_SPATIAL], "spatial layer", ss->spatial, "spatial layer", req, &t->sid))
			return false;
	}
	if (a->opt[SL_DT]) {
		if (ss->codec != MMR_CODEC_AV1) {
			fail(req, "--dt is for av1: SSRC %s is %s and has no decode targets", ssrc, cname);
			return false;
		}
		if (!get_target(a->opt[SL_DT], "decode target", (unsigned)ss->spatial * ss->layers, "decode target",
				req, &t->dt))
			return false;
	}
	if (a->opt[SL_ENCODING]) {
		unsigned n = model_group_size(m, s);
		if (n == 1) {
			fail(req, "--encoding is for simulcast: SSRC %s is not in a simulcast group", ssrc);
			return false;
		}
		if (!get_target(a->opt[SL_ENCODING], "encoding", n, "encoding", req, &t->encoding))
			return false;
	}
	return true;
}

static void cmd_slot_set(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	struct model *m = ctx->model;
	uint32_t meeting, r;
	if (!get_meeting(ctx, a->pos[0], req, &meeting) || !get_participant(ctx, meeting, a->pos[1], req, &r))
		return;
	const struct m_participant *rp = &m->parts[r];
	if (!rp->n_vslots)
		FAIL("participant '%s' has no video slots (participant add ... --video-slots)", rp->name);
	uint64_t k;
	if (val_uint(a->opt[SL_VIDEO], MMR_VSLOT_MAX - 1u, &k) < 0 || k >= rp->n_vslots)
		FAIL("bad video slot '%s' (participant '%s' has %u: 0-%u)", a->opt[SL_VIDEO], rp->name, rp->n_vslots,
		     rp->n_vslots - 1u);
	if (!a->opt[SL_SSRC] == !a->opt[SL_NONE])
		FAIL("give --ssrc N (the stream to put on the slot) or --none (empty it)");
	if (a->opt[SL_NONE] && (a->opt[SL_TARGET] || a->opt[SL_SPATIAL] || a->opt[SL_DT] || a->opt[SL_ENCODING]))
		FAIL("--none takes no targets");
	uint32_t slot = rp->vslot_sub[k];
	uint32_t old[MEDIA_MAX_ENCODINGS], head = MMR_ID_NONE, ssrc;
	unsigned n_old = model_vslot_members(m, slot, old);
	bool same = false;
	struct m_target t = { 0, 0, 0, 0 };
	if (a->opt[SL_SSRC]) {
		if (!get_ssrc(a->opt[SL_SSRC], "SSRC", req, &ssrc))
			return;
		uint32_t s = model_find_stream(m, meeting, ssrc);
		if (s == MMR_ID_NONE)
			FAIL("no stream with SSRC %s in meeting '%s'", a->opt[SL_SSRC], m->meetings[meeting].name);
		if (m->streams[s].kind != MMR_KIND_VIDEO)
			FAIL("SSRC %s is audio: a video slot carries video (audio slots follow the meeting's top-N)",
			     a->opt[SL_SSRC]);
		if (m->streams[s].participant == r)
			FAIL("SSRC %s is '%s''s own stream", a->opt[SL_SSRC], rp->name);
		head = model_group_head(m, s);
		uint32_t on = model_vslot_of_stream(m, r, head);
		if (on != MMR_ID_NONE && on != slot)
			FAIL("SSRC %s is on video slot %u of '%s' already: empty that slot first (--none)",
			     a->opt[SL_SSRC], m->subs[on].video_slot - 1u, rp->name);
		same = on == slot;
		if (!get_slot_targets(m, head, same, &m->subs[slot], a, req, &t))
			return;
	} else if (n_old == 0) {
		return;     /* empty already */
	}
	unsigned n_new = head == MMR_ID_NONE || same ? 0 : model_group_size(m, head);
	if (n_new && !reserve(ctx, req, rp->meeting, 0, 0, 0, n_new))
		return;
	struct m_sub was = m->subs[slot];
	struct m_sub old_subs[MEDIA_MAX_ENCODINGS];
	struct m_sub *sb = &m->subs[slot];
	if (a->opt[SL_SSRC]) {
		sb->target = t.tid;
		sb->target_sid = t.sid;
		sb->target_dt = t.dt;
		sb->target_encoding = t.encoding;
	}
	if (!same) {
		for (unsigned i = 0; i < n_old; i++) {
			old_subs[i] = m->subs[old[i]];
			model_sub_remove(m, old[i]);
		}
	}
	uint32_t added[MEDIA_MAX_ENCODINGS];
	if (n_new) {
		sb->slot_gen = model_slot_gen_next(sb->slot_gen);
		uint32_t x = head;
		for (unsigned i = 0; i < n_new; i++, x = m->streams[x].next)
			added[i] = model_vslot_member_add(m, MMR_ID_NONE, x, slot);
	}
	if (same)      /* the members follow the slot's targets */
		for (unsigned i = 0; i < n_old; i++) {
			old_subs[i] = m->subs[old[i]];
			m->subs[old[i]].target = t.tid;
			m->subs[old[i]].target_sid = t.sid;
			m->subs[old[i]].target_dt = t.dt;
			m->subs[old[i]].target_encoding = t.encoding;
		}
	struct outbuf *b = change_begin(ctx);
	for (unsigned i = 0; !same && i < n_old; i++)
		state_line_remove(b, "sub", old[i]);
	state_line_sub(b, m, slot);
	for (unsigned i = 0; i < n_new; i++)
		state_line_sub(b, m, added[i]);
	for (unsigned i = 0; same && i < n_old; i++)
		state_line_target(b, m, old[i]);
	if (!change_end(ctx, req)) {
		/* back as it was: the new members out, the old ones in under their ids */
		for (unsigned i = 0; i < n_new; i++)
			model_sub_remove(m, added[i]);
		m->subs[slot] = was;
		for (unsigned i = 0; i < n_old; i++) {
			if (same)
				m->subs[old[i]] = old_subs[i];
			else
				model_vslot_member_add(m, old[i], old_subs[i].stream, slot);
		}
		return;
	}
	dp_begin(ctx, req);
	uint64_t last = UINT64_MAX;
	for (unsigned i = 0; !same && i < n_old; i++)
		last = dp_link_del(ctx->dp, MMR_CMD_SUB_DEL, old[i]);
	last = dp_link_put_sub(ctx->dp, slot);
	for (unsigned i = 0; i < n_new; i++)
		last = dp_link_put_sub(ctx->dp, added[i]);
	for (unsigned i = 0; same && i < n_old; i++)
		last = dp_link_put_sub(ctx->dp, old[i]);
	dp_end(ctx, req, last, true);
}

static void cmd_slot_list(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	uint32_t id;
	if (get_meeting(ctx, a->pos[0], req, &id)) {
		dp_link_events(ctx->dp);    /* the current layers as of now */
		render_slot_list(ctx, id, req->json, &req->body);
	}
}

/* ---- status, stats, help -------------------------------------------------------------------- */

static void cmd_status(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	(void)a;
	render_status(ctx, req->json, &req->body);
}

static void cmd_stats(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	char why[256];
	if (render_stats(ctx, a->opt[0] != NULL, a->opt[1] != NULL, req->json, &req->body, why, sizeof(why)) < 0)
		fail(req, "%s", why);
}

/* dataplane reset --yes-wipe: replace tables built from another state by ours (dp_link.h) */
static void cmd_dataplane_reset(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	(void)a;
	char why[sizeof(ctx->dp->why_detached) + 64];
	if (dp_link_allow_wipe(ctx->dp, why, sizeof(why)) < 0)
		FAIL("%s", why);
	ob_printf(&req->body, "replacing the dataplane's tables by this controller's state (%u participants, "
		  "%u streams, %u subscriptions); see 'mmrctl status'\n", ctx->model->n_parts,
		  ctx->model->n_streams, ctx->model->n_subs);
}

/* log level LEVEL: the controller's log level from now on (log.h; SIGHUP sets the config's back) */
static void cmd_log_level(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	(void)ctx;
	int level = ctl_log_level_parse(a->pos[0]);
	if (level < 0)
		FAIL("log level must be debug, info, warning or error, not '%s'", a->pos[0]);
	int old = ctl_log_get_level();
	ctl_logl(CTL_LOG_WARNING, "log level %s (was %s), set by a request", ctl_log_level_name(level),
		 ctl_log_level_name(old));
	ctl_log_set_level(level);
	if (req->json)
		ob_printf(&req->body, "{\"level\": \"%s\", \"was\": \"%s\", \"target\": \"%s\"}\n",
			  ctl_log_level_name(level), ctl_log_level_name(old), ctl_log_target_name());
	else
		ob_printf(&req->body, "log level %s (was %s; the log goes to %s)\n", ctl_log_level_name(level),
			  ctl_log_level_name(old), ctl_log_target_name());
}

/* meeting passcode NAME --passcode CODE | meeting passcode-clear NAME: the meeting's join passcode
 * (passcode.h), saved hashed before the reply; changes no model (nothing for the journal or the
 * dataplane) */
static void passcode_reply(struct request *req, const char *meeting, bool set)
{
	req->mutating = true;
	if (req->json) {
		ob_puts(&req->body, "{\"meeting\": ");
		ob_json_str(&req->body, meeting);
		ob_printf(&req->body, ", \"passcode\": %s", set ? "true" : "false");
		req->json_open = true;
	} else {
		ob_printf(&req->body, "meeting %s: %s\n", meeting, set ? "passcode set" : "no passcode");
	}
}

static void cmd_meeting_passcode(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	uint32_t id;
	char why[200];
	if (!get_meeting(ctx, a->pos[0], req, &id))
		return;
	if (passcode_set(a->pos[0], a->opt[0], why, sizeof(why)) < 0)
		FAIL("%s; nothing changed", why);
	passcode_reply(req, a->pos[0], true);
}

static void cmd_meeting_passcode_clear(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	uint32_t id;
	char why[200];
	if (!get_meeting(ctx, a->pos[0], req, &id))
		return;
	if (passcode_set(a->pos[0], NULL, why, sizeof(why)) < 0)
		FAIL("%s; nothing changed", why);
	passcode_reply(req, a->pos[0], false);
}

/* audit [--limit N]: the audit log's last entries (audit.h) */
static void cmd_audit(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	(void)ctx;
	uint64_t limit = 0;
	if (a->opt[0] && (val_uint(a->opt[0], AUDIT_RING, &limit) < 0 || limit == 0))
		FAIL("bad --limit '%s' (1-%u entries)", a->opt[0], AUDIT_RING);
	audit_render(&req->body, (unsigned)limit, req->json);
}

/* ---- meeting controls (issue 15; requests.h) ------------------------------------------------- */

/* The safety changes not yet durable, in order, as what they do (not as their journal lines: a
 * participant's pctl line holds all its controls, so replaying it after a failed commit would bring
 * back an ordinary change of the same batch, an admit say, that was answered as failed). After a
 * failed commit reloads the model, each is done again on what the disk holds, found by name.
 * `held`: its dataplane commands were held behind earlier changes (and so dropped with them), to be
 * sent again then. Only tightening actions are safety actions: unmute and unlock are plain changes. */
#define SAFETY_MAX 1024u
enum safety_kind { SAFETY_MUTE, SAFETY_MUTE_ALL, SAFETY_EJECT, SAFETY_LOCK };
struct safety_rec {
	enum safety_kind kind;
	uint8_t kinds;                  /* MUTE, MUTE_ALL: the kinds muted */
	bool held;
	char meeting[VAL_NAME_MAX + 1];
	char name[VAL_NAME_MAX + 1];    /* MUTE, EJECT: the participant */
};
static struct safety_rec safety[SAFETY_MAX];
static unsigned n_safety;
static uint64_t safety_lost;         /* beyond SAFETY_MAX: in force, not re-applied after a failed commit */
static uint64_t safety_alarms;       /* times the alarm was raised */
static bool safety_alarm;

unsigned requests_safety_unsaved(void)
{
	return n_safety;
}

uint64_t requests_safety_alarms(void)
{
	return safety_alarms;
}

/* Start a safety action: its commands are not held for the commit (dp_begin's hold), unless earlier
 * changes of this round are held already (order is kept: then they go with them). */
static bool safety_begin(struct ctl_ctx *ctx, struct request *req)
{
	req->mutating = true;
	req->safety = true;
	req->rejected_before = dp_link_rejected(ctx->dp);
	req->wait_seq = UINT64_MAX;
	return ctx->dp->hold_seq != UINT64_MAX;
}

/* Record a safety change: its lines (built by the caller) go into the batch, what it does into the
 * unsaved list. */
static bool safety_record(struct ctl_ctx *ctx, struct request *req, const struct outbuf *lines,
			  enum safety_kind kind, uint32_t meeting, const char *name, uint8_t kinds, bool held)
{
	if (lines->oom) {
		fail(req, "out of memory recording the change, nothing changed");
		return false;
	}
	ob_add(change_begin(ctx), lines->p, lines->len);
	if (!change_end(ctx, req))
		return false;
	if (n_safety < SAFETY_MAX) {
		struct safety_rec *r = &safety[n_safety++];
		*r = (struct safety_rec){ .kind = kind, .kinds = kinds, .held = held };
		snprintf(r->meeting, sizeof(r->meeting), "%s", ctx->model->meetings[meeting].name);
		snprintf(r->name, sizeof(r->name), "%s", name ? name : "");
	} else {
		safety_lost++;
	}
	return true;
}

/* After the safety action's commands: send them now (not at the commit). */
static void safety_end(struct ctl_ctx *ctx, struct request *req, uint64_t last, bool had_commands)
{
	dp_end(ctx, req, last, had_commands);
	dp_link_flush(ctx->dp);
}

void requests_safety_saved(struct ctl_ctx *ctx)
{
	(void)ctx;
	if (safety_alarm && n_safety)
		ctl_log("meeting controls: %u safety action(s) saved at last; alarm cleared", n_safety);
	n_safety = 0;
	safety_alarm = false;
}

/* Mute kinds of participant p again (the reloaded model): its pctl line when that changes it. */
static void safety_mute(struct model *m, uint32_t p, uint8_t kinds, struct outbuf *b)
{
	struct m_participant *pp = &m->parts[p];
	pp->self_mute &= (uint8_t)~kinds;
	pp->unmute_ok &= (uint8_t)~kinds;
	if ((pp->mute & kinds) == kinds)
		return;
	pp->mute |= kinds;
	state_line_pctl(b, m, p);
}

/* Do r again on the reloaded model: its journal lines into b (none: it holds there already); *del:
 * an ejected participant's id. -1: it no longer applies (its meeting or participant is gone). */
static int safety_redo(struct model *m, const struct safety_rec *r, struct outbuf *b, uint32_t *mt_out,
		       uint32_t *del, char *err, size_t errlen)
{
	uint32_t mt = model_find_meeting(m, r->meeting), p = MMR_ID_NONE;
	*mt_out = mt;
	*del = MMR_ID_NONE;
	if (mt == MMR_ID_NONE) {
		snprintf(err, errlen, "no meeting '%s'", r->meeting);
		return -1;
	}
	if (r->kind == SAFETY_MUTE || r->kind == SAFETY_EJECT) {
		p = model_find_participant(m, mt, r->name);
		if (p == MMR_ID_NONE && r->kind == SAFETY_MUTE) {
			snprintf(err, errlen, "no participant '%s' in meeting '%s'", r->name, r->meeting);
			return -1;
		}
	}
	switch (r->kind) {
	case SAFETY_MUTE:
		safety_mute(m, p, r->kinds, b);
		break;
	case SAFETY_MUTE_ALL:
		for (uint32_t q = m->meetings[mt].first_part; q != MMR_ID_NONE; q = m->parts[q].next)
			safety_mute(m, q, r->kinds, b);
		break;
	case SAFETY_EJECT:      /* as ctl_participant_eject does it */
		if (!model_banned(m, mt, r->name)) {
			if (model_ban_add(m, mt, r->name) < 0) {
				snprintf(err, errlen, "too many ejected identities");
				return -1;
			}
			state_line_ban(b, mt, r->name);
		}
		if (p != MMR_ID_NONE) {
			state_line_remove(b, "participant", p);
			model_participant_remove(m, p);
		}
		*del = p;
		break;
	case SAFETY_LOCK:
		if (!m->meetings[mt].locked) {
			m->meetings[mt].locked = true;
			state_line_mctl(b, m, mt);
		}
		break;
	}
	return 0;
}

void requests_safety_reapply(struct ctl_ctx *ctx)
{
	if (!n_safety)
		return;
	struct model *m = ctx->model;
	if (!safety_alarm) {
		safety_alarm = true;
		safety_alarms++;
		ctl_logl(CTL_LOG_ERROR, "meeting controls: ALARM: %u safety action(s) (eject, mute, lock) are in force "
			 "in the dataplane but cannot be saved; they stay in force and are saved when the disk takes "
			 "them (mmrctl status: unsaved_safety_actions)%s", n_safety,
			 safety_lost ? "; more came than are kept for this, and those are lost from the model on the "
				       "next failed save" : "");
	}
	unsigned k = 0;
	char err[400];
	for (unsigned i = 0; i < n_safety; i++) {
		struct safety_rec *r = &safety[i];
		uint32_t mt, del;
		struct outbuf *b = change_begin(ctx);
		size_t before = b->len;
		if (safety_redo(m, r, b, &mt, &del, err, sizeof(err)) < 0) {
			ctl_log("meeting controls: an unsaved safety action no longer applies (dropped): %s", err);
			state_store_change_abort(ctx->store);
			continue;
		}
		bool held = r->held;
		if (b->len == before) {
			state_store_change_abort(ctx->store);   /* what the disk holds has it already */
		} else if (state_store_change_end(ctx->store)) {
			m->state_changes++;     /* counted as a request's change is */
			safety[k] = *r;
			safety[k++].held = false;   /* its commands are sent below: once */
		}
		if (!held)
			continue;   /* its commands went before the commit: the dataplane has them */
		/* its commands were held behind earlier changes and dropped with them: sent again (every
		 * participant of its meeting with its block; an eject's DEL) */
		if (del != MMR_ID_NONE)
			dp_link_del(ctx->dp, MMR_CMD_PARTICIPANT_DEL, del);
		for (uint32_t p = m->meetings[mt].first_part; p != MMR_ID_NONE; p = m->parts[p].next)
			dp_link_put_participant(ctx->dp, p);
	}
	n_safety = k;
	dp_link_flush(ctx->dp);
}

/* The API event stream (requests.h, requests_set_control_hook): one SSE event per change
 *   event: control
 *   data: {"meeting": M, "action": A, "participant": NAME|null, "kinds": [...], "settings": {...}}
 * to every session of the meeting (join.c), and a log line. */
static void (*control_hook)(void *cls, uint32_t meeting, uint32_t participant, const char *text);
static void *control_cls;

void requests_set_control_hook(void (*hook)(void *cls, uint32_t meeting, uint32_t participant, const char *text),
			       void *cls)
{
	control_hook = hook;
	control_cls = cls;
}

/* only: the one participant whose sessions get it (MMR_ID_NONE: every session of the meeting) */
static void control_event_to(struct ctl_ctx *ctx, uint32_t meeting, const char *name, const char *action,
			     uint8_t kinds, uint32_t only)
{
	const struct m_meeting *mt = &ctx->model->meetings[meeting];
	struct outbuf b;
	ob_init(&b);
	ob_puts(&b, "event: control\ndata: {\"meeting\": ");
	ob_json_str(&b, mt->name);
	ob_printf(&b, ", \"action\": \"%s\", \"participant\": ", action);
	if (name)
		ob_json_str(&b, name);
	else
		ob_puts(&b, "null");
	ob_puts(&b, ", \"kinds\": [");
	const char *sep = "";
	static const struct { uint8_t bit; const char *name; } kn[] = {
		{ MMR_BLOCK_AUDIO, "audio" }, { MMR_BLOCK_VIDEO, "video" }, { MMR_BLOCK_SCREEN, "screen" } };
	for (unsigned i = 0; i < 3; i++)
		if (kinds & kn[i].bit) {
			ob_printf(&b, "%s\"%s\"", sep, kn[i].name);
			sep = ", ";
		}
	ob_printf(&b, "], \"settings\": {\"waiting_room\": %s, \"self_unmute\": \"%s\", \"share\": \"%s\", "
		  "\"max_sharers\": %u, \"locked\": %s}}\n\n", mt->waiting_room ? "true" : "false",
		  mt->unmute_forbidden ? "forbidden" : "allowed", mt->share_host_only ? "host_only" : "everyone",
		  mt->max_sharers, mt->locked ? "true" : "false");
	ctl_log("meeting controls: meeting '%s': %s%s%s", mt->name, action, name ? " " : "", name ? name : "");
	if (control_hook && !b.oom)
		control_hook(control_cls, meeting, only, b.p);
	ob_free(&b);
}

static void control_event(struct ctl_ctx *ctx, uint32_t meeting, const char *name, const char *action, uint8_t kinds)
{
	control_event_to(ctx, meeting, name, action, kinds, MMR_ID_NONE);
}

/* "audio", "video", "screen", "all" or a comma-separated list of them (the HTTP API's arrays) */
static uint8_t kinds_of(const char *text, struct request *req)
{
	uint8_t k = 0;
	for (const char *p = text;;) {
		size_t n = strcspn(p, ",");
		if (n == 5 && strncmp(p, "audio", 5) == 0)
			k |= MMR_BLOCK_AUDIO;
		else if (n == 5 && strncmp(p, "video", 5) == 0)
			k |= MMR_BLOCK_VIDEO;
		else if (n == 6 && strncmp(p, "screen", 6) == 0)
			k |= MMR_BLOCK_SCREEN;
		else if (n == 3 && strncmp(p, "all", 3) == 0)
			k |= MMR_BLOCK_AUDIO | MMR_BLOCK_VIDEO | MMR_BLOCK_SCREEN;
		else {
			fail(req, "bad kind '%.*s' (audio, video, screen or all)", (int)(n > 40 ? 40 : n), p);
			return 0;
		}
		if (!p[n])
			return k;
		p += n + 1;
	}
}

void ctl_participant_mute(struct ctl_ctx *ctx, uint32_t p, uint8_t kinds, bool mute, struct request *req)
{
	struct model *m = ctx->model;
	struct m_participant *pp = &m->parts[p];
	uint8_t old = pp->mute;
	uint8_t now = mute ? (uint8_t)(old | kinds) : (uint8_t)(old & ~kinds);
	/* a host's (or operator's) mute or unmute: those kinds are no longer self-muted, and an
	 * "ask to unmute" for them is spent (ctl_participant_self_mute sets them after) */
	pp->self_mute &= (uint8_t)~kinds;
	pp->unmute_ok &= (uint8_t)~kinds;
	if (now == old)
		return;     /* nothing to change */
	pp->mute = now;
	if (!mute) {
		/* an unmute loosens: a plain change, held for the commit and undone if it fails */
		state_line_pctl(change_begin(ctx), m, p);
		if (!change_end(ctx, req)) {
			pp->mute = old;
			return;
		}
		dp_begin(ctx, req);
		uint64_t last = push_blocks(ctx, pp->meeting, UINT64_MAX);
		dp_end(ctx, req, last, last != UINT64_MAX);
		control_event(ctx, pp->meeting, pp->name, "unmuted", (uint8_t)(old & kinds));
		return;
	}
	bool held = safety_begin(ctx, req);
	struct outbuf lines;
	ob_init(&lines);
	state_line_pctl(&lines, m, p);
	bool ok = safety_record(ctx, req, &lines, SAFETY_MUTE, pp->meeting, pp->name, kinds, held);
	ob_free(&lines);
	if (!ok) {
		pp->mute = old;
		req->mutating = false;
		return;
	}
	safety_end(ctx, req, push_blocks(ctx, pp->meeting, UINT64_MAX), true);
	control_event(ctx, pp->meeting, pp->name, "muted", now);
}

void ctl_meeting_mute_all(struct ctl_ctx *ctx, uint32_t meeting, uint8_t kinds, struct request *req)
{
	struct model *m = ctx->model;
	uint8_t *old = malloc((size_t)m->meetings[meeting].n_parts + 1);
	if (!old)
		FAIL("out of memory");
	bool held = safety_begin(ctx, req);
	struct outbuf lines;
	ob_init(&lines);
	uint32_t k = 0;
	for (uint32_t p = m->meetings[meeting].first_part; p != MMR_ID_NONE; p = m->parts[p].next) {
		old[k++] = m->parts[p].mute;
		m->parts[p].self_mute &= (uint8_t)~kinds;
		m->parts[p].unmute_ok &= (uint8_t)~kinds;
		if ((m->parts[p].mute & kinds) != kinds) {
			m->parts[p].mute |= kinds;
			state_line_pctl(&lines, m, p);
		}
	}
	bool changed = lines.len > 0;
	bool ok = !changed || safety_record(ctx, req, &lines, SAFETY_MUTE_ALL, meeting, NULL, kinds, held);
	ob_free(&lines);
	if (!ok || !changed) {
		k = 0;   /* failed (the mutes as they were) or nothing to change */
		for (uint32_t p = m->meetings[meeting].first_part; p != MMR_ID_NONE; p = m->parts[p].next)
			m->parts[p].mute = old[k++];
		free(old);
		req->mutating = false;
		return;
	}
	free(old);
	safety_end(ctx, req, push_blocks(ctx, meeting, UINT64_MAX), true);
	control_event(ctx, meeting, NULL, "muted", kinds);
}

void ctl_participant_eject(struct ctl_ctx *ctx, uint32_t p, struct request *req)
{
	struct model *m = ctx->model;
	uint32_t meeting = m->parts[p].meeting;
	char name[VAL_NAME_MAX + 1];
	snprintf(name, sizeof(name), "%s", m->parts[p].name);
	if (!model_banned(m, meeting, name) && m->n_bans >= MODEL_MAX_BANS)
		FAIL("too many ejected identities (the limit is %u)", MODEL_MAX_BANS);
	bool held = safety_begin(ctx, req);
	struct outbuf lines;
	ob_init(&lines);
	state_line_ban(&lines, meeting, name);
	state_line_remove(&lines, "participant", p);
	bool ok = safety_record(ctx, req, &lines, SAFETY_EJECT, meeting, name, 0, held);
	ob_free(&lines);
	if (!ok) {
		req->mutating = false;
		return;
	}
	/* out of the dataplane first: its bindings, keys, streams and subscriptions (the remove path;
	 * safety_end sends it, before the commit) */
	uint64_t last = dp_link_del(ctx->dp, MMR_CMD_PARTICIPANT_DEL, p);
	model_ban_add(m, meeting, name);
	model_participant_remove(m, p);
	last = push_blocks(ctx, meeting, last);
	safety_end(ctx, req, last, true);
	control_event(ctx, meeting, name, "ejected", 0);
}

void ctl_meeting_lock(struct ctl_ctx *ctx, uint32_t meeting, bool locked, struct request *req)
{
	struct model *m = ctx->model;
	if (m->meetings[meeting].locked == locked)
		return;
	m->meetings[meeting].locked = locked;
	if (!locked) {
		/* an unlock loosens: a plain change, undone if it cannot be saved */
		state_line_mctl(change_begin(ctx), m, meeting);
		if (!change_end(ctx, req)) {
			m->meetings[meeting].locked = true;
			return;
		}
		req->mutating = true;
		control_event(ctx, meeting, NULL, "unlocked", 0);
		return;
	}
	bool held = safety_begin(ctx, req);
	struct outbuf lines;
	ob_init(&lines);
	state_line_mctl(&lines, m, meeting);
	bool ok = safety_record(ctx, req, &lines, SAFETY_LOCK, meeting, NULL, 0, held);
	ob_free(&lines);
	if (!ok) {
		m->meetings[meeting].locked = false;
		req->mutating = false;
		return;
	}
	safety_end(ctx, req, UINT64_MAX, false);
	control_event(ctx, meeting, NULL, "locked", 0);
}

void ctl_meeting_controls(struct ctl_ctx *ctx, uint32_t meeting, int waiting_room, int unmute_forbidden,
			  int share_host_only, int max_sharers, struct request *req)
{
	struct model *m = ctx->model;
	struct m_meeting *mt = &m->meetings[meeting], old = *mt;
	if (waiting_room >= 0)
		mt->waiting_room = waiting_room;
	if (unmute_forbidden >= 0)
		mt->unmute_forbidden = unmute_forbidden;
	if (share_host_only >= 0)
		mt->share_host_only = share_host_only;
	if (max_sharers >= 0)
		mt->max_sharers = (uint8_t)max_sharers;
	if (mt->waiting_room == old.waiting_room && mt->unmute_forbidden == old.unmute_forbidden &&
	    mt->share_host_only == old.share_host_only && mt->max_sharers == old.max_sharers)
		return;
	state_line_mctl(change_begin(ctx), m, meeting);
	if (!change_end(ctx, req)) {
		*mt = old;
		return;
	}
	dp_begin(ctx, req);
	uint64_t last = push_blocks(ctx, meeting, UINT64_MAX);
	dp_end(ctx, req, last, last != UINT64_MAX);
	control_event(ctx, meeting, NULL, "settings", 0);
}

void ctl_participant_self_mute(struct ctl_ctx *ctx, uint32_t p, uint8_t kinds, bool mute, struct request *req)
{
	struct model *m = ctx->model;
	struct m_participant *pp = &m->parts[p];
	const struct m_meeting *mt = &m->meetings[pp->meeting];
	uint8_t old = pp->mute;
	if (mute) {
		uint8_t was_self = pp->self_mute;
		ctl_participant_mute(ctx, p, kinds, true, req);
		if (!req->failed)   /* a host's mute stays a host's; what was not muted is now self-muted */
			pp->self_mute = (uint8_t)(was_self | (kinds & ~old));
		return;
	}
	uint8_t held = (uint8_t)(old & kinds & ~pp->self_mute & ~pp->unmute_ok);
	if (mt->unmute_forbidden && held)
		FAIL("self-unmute is forbidden in meeting '%s' and a host muted participant '%s'%s%s%s: a host must "
		     "unmute it or ask it to unmute (ask-unmute)", mt->name, pp->name,
		     held & MMR_BLOCK_AUDIO ? " (audio)" : "", held & MMR_BLOCK_VIDEO ? " (video)" : "",
		     held & MMR_BLOCK_SCREEN ? " (screen)" : "");
	ctl_participant_mute(ctx, p, kinds, false, req);   /* the allowance spent, the self-mute gone */
}

void ctl_participant_ask_unmute(struct ctl_ctx *ctx, uint32_t p, uint8_t kinds, struct request *req)
{
	struct model *m = ctx->model;
	struct m_participant *pp = &m->parts[p];
	uint8_t k = (uint8_t)(pp->mute & kinds);
	if (!k)
		FAIL("participant '%s' is not muted (for those kinds): nothing to ask", pp->name);
	pp->unmute_ok |= k;
	control_event_to(ctx, pp->meeting, pp->name, "ask_unmute", k, p);
}

/* admit / host: plain changes (held for the commit like any) */
static void participant_ctl_change(struct ctl_ctx *ctx, uint32_t p, struct request *req, const char *what)
{
	struct model *m = ctx->model;
	state_line_pctl(change_begin(ctx), m, p);
	if (!change_end(ctx, req))
		return;
	dp_begin(ctx, req);
	uint64_t last = push_blocks(ctx, m->parts[p].meeting, UINT64_MAX);
	dp_end(ctx, req, last, last != UINT64_MAX);
	control_event(ctx, m->parts[p].meeting, m->parts[p].name, what, 0);
}

void ctl_participant_admit(struct ctl_ctx *ctx, uint32_t p, struct request *req)
{
	struct m_participant *pp = &ctx->model->parts[p];
	if (!pp->waiting)
		FAIL("participant '%s' is not waiting (admitted already)", pp->name);
	pp->waiting = false;
	participant_ctl_change(ctx, p, req, "admitted");
	if (req->failed)
		pp->waiting = true;
}

void ctl_participant_host(struct ctl_ctx *ctx, uint32_t p, bool host, struct request *req)
{
	struct m_participant *pp = &ctx->model->parts[p];
	if (pp->host == host)
		return;
	pp->host = host;
	participant_ctl_change(ctx, p, req, host ? "host" : "not_host");
	if (req->failed)
		pp->host = !host;
}

void ctl_participant_deny(struct ctl_ctx *ctx, uint32_t p, struct request *req)
{
	struct model *m = ctx->model;
	if (!m->parts[p].waiting)
		FAIL("participant '%s' is not waiting (admitted already: eject it instead)", m->parts[p].name);
	uint32_t meeting = m->parts[p].meeting;
	state_line_remove(change_begin(ctx), "participant", p);
	if (!change_end(ctx, req))
		return;
	dp_begin(ctx, req);
	uint64_t last = dp_link_del(ctx->dp, MMR_CMD_PARTICIPANT_DEL, p);
	control_event(ctx, meeting, m->parts[p].name, "denied", 0);
	model_participant_remove(m, p);
	dp_end(ctx, req, last, true);
}

/* the mmrctl commands */
static bool get_meeting_participant(struct ctl_ctx *ctx, const struct args *a, struct request *req, uint32_t *p)
{
	uint32_t meeting;
	return get_meeting(ctx, a->pos[0], req, &meeting) && get_participant(ctx, meeting, a->pos[1], req, p);
}

static void cmd_participant_admit(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	uint32_t p;
	if (get_meeting_participant(ctx, a, req, &p))
		ctl_participant_admit(ctx, p, req);
}

static void cmd_participant_deny(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	uint32_t p;
	if (get_meeting_participant(ctx, a, req, &p))
		ctl_participant_deny(ctx, p, req);
}

static void participant_mute_cmd(struct ctl_ctx *ctx, const struct args *a, struct request *req, bool mute)
{
	uint32_t p;
	if (!get_meeting_participant(ctx, a, req, &p))
		return;
	uint8_t k = kinds_of(a->pos[2], req);
	if (k)
		ctl_participant_mute(ctx, p, k, mute, req);
}

static void cmd_participant_mute(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	participant_mute_cmd(ctx, a, req, true);
}

static void cmd_participant_unmute(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	participant_mute_cmd(ctx, a, req, false);
}

static void participant_self_cmd(struct ctl_ctx *ctx, const struct args *a, struct request *req, bool mute)
{
	uint32_t p;
	if (!get_meeting_participant(ctx, a, req, &p))
		return;
	uint8_t k = kinds_of(a->pos[2], req);
	if (k)
		ctl_participant_self_mute(ctx, p, k, mute, req);
}

static void cmd_participant_self_mute(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	participant_self_cmd(ctx, a, req, true);
}

static void cmd_participant_self_unmute(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	participant_self_cmd(ctx, a, req, false);
}

static void cmd_participant_ask_unmute(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	uint32_t p;
	if (!get_meeting_participant(ctx, a, req, &p))
		return;
	uint8_t k = kinds_of(a->pos[2], req);
	if (k)
		ctl_participant_ask_unmute(ctx, p, k, req);
}

static void cmd_participant_host(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	uint32_t p;
	int on;
	if (get_meeting_participant(ctx, a, req, &p) && (on = get_choice(a->pos[2], "host", "on", "off", req)) >= 0)
		ctl_participant_host(ctx, p, on, req);
}

static void cmd_participant_eject(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	uint32_t p;
	if (get_meeting_participant(ctx, a, req, &p))
		ctl_participant_eject(ctx, p, req);
}

static void cmd_meeting_mute_all(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	uint32_t id;
	if (!get_meeting(ctx, a->pos[0], req, &id))
		return;
	uint8_t k = kinds_of(a->pos[1], req);
	if (k)
		ctl_meeting_mute_all(ctx, id, k, req);
}

static void cmd_meeting_lock(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	uint32_t id;
	if (get_meeting(ctx, a->pos[0], req, &id))
		ctl_meeting_lock(ctx, id, true, req);
}

static void cmd_meeting_unlock(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	uint32_t id;
	if (get_meeting(ctx, a->pos[0], req, &id))
		ctl_meeting_lock(ctx, id, false, req);
}

static void cmd_help(struct ctl_ctx *ctx, const struct args *a, struct request *req);

static const struct command commands[] = {
	{ "status", NULL, 0, { 0 }, "status", cmd_status, false },
	{ "meeting", "create", 1, { "plain", "srtp=", "top-n=" },
	  "meeting create NAME [--srtp SUITE (default AEAD_AES_128_GCM) | --plain] [--top-n N]", cmd_meeting_create, true },
	{ "meeting", "set", 1, { "top-n=", "waiting-room=", "self-unmute=", "share=", "max-sharers=" },
	  "meeting set NAME [--top-n N] [--waiting-room on|off] [--self-unmute allowed|forbidden] "
	  "[--share everyone|host_only] [--max-sharers N]", cmd_meeting_set, true },
	{ "meeting", "end", 1, { 0 }, "meeting end NAME", cmd_meeting_end, true },
	{ "meeting", "list", 0, { 0 }, "meeting list", cmd_meeting_list, false },
	{ "meeting", "show", 1, { 0 }, "meeting show NAME", cmd_meeting_show, false },
	{ "meeting", "move", 1, { "!lcore=" }, "meeting move NAME --lcore N", cmd_meeting_move, true },
	{ "meeting", "passcode", 1, { "!passcode=" }, "meeting passcode NAME --passcode CODE", cmd_meeting_passcode,
	  true },
	{ "meeting", "passcode-clear", 1, { 0 }, "meeting passcode-clear NAME", cmd_meeting_passcode_clear, true },
	{ "meeting", "mute-all", 2, { 0 }, "meeting mute-all NAME audio|video|screen|all", cmd_meeting_mute_all, true },
	{ "meeting", "lock", 1, { 0 }, "meeting lock NAME", cmd_meeting_lock, true },
	{ "meeting", "unlock", 1, { 0 }, "meeting unlock NAME", cmd_meeting_unlock, true },
	{ "participant", "add", 2, { "addr=", "port=", "role=", "mac=", "dp-port=", "srtp=", "plain", "rtcp=",
				     "rtx=", "ext=", "ext-two-byte", "ice=", "dtls-fp=", "dtls-role=", "video-slots=",
				     "audio-slots=", "trunk" },
	  "participant add MEETING NAME (--addr IP --port N | --ice UFRAG:PWD [--addr IP --port N] "
	  "[--dtls-fp FP [--dtls-role server|client]]) "
	  "[--role sendrecv|recvonly|sendonly] [--mac MAC] "
	  "[--dp-port N] [--plain | --srtp SUITE] [--rtcp nack,pli,fir,rsize,twcc,remb|none] [--rtx APT:PT,...] "
	  "[--ext twcc=ID,abs-send-time=ID,audio-level=ID,mid=ID,rid=ID,rrid=ID [--ext-two-byte]] "
	  "[--video-slots SSRC[:RTXSSRC],...] [--audio-slots SSRC,...] [--trunk]",
	  cmd_participant_add, true },
	{ "participant", "set", 2, { "addr=", "port=", "ice=", "no-addr", "dtls-fp=", "dtls-role=", "ext=", "ext-two-byte" },
	  "participant set MEETING NAME [--addr IP --port N | --no-addr] [--ice UFRAG:PWD | --ice -] "
	  "[--dtls-fp FP] [--dtls-role server|client] "
	  "[--ext twcc=ID,abs-send-time=ID,audio-level=ID,mid=ID,rid=ID,rrid=ID|- [--ext-two-byte]]",
	  cmd_participant_set, true },
	{ "participant", "list", 1, { 0 }, "participant list MEETING", cmd_participant_list, false },
	{ "participant", "show", 2, { 0 }, "participant show MEETING NAME", cmd_participant_show, false },
	{ "participant", "remove", 2, { 0 }, "participant remove MEETING NAME", cmd_participant_remove, true },
	{ "participant", "keys", 2, { 0 }, "participant keys MEETING NAME", cmd_participant_keys, false },
	{ "participant", "admit", 2, { 0 }, "participant admit MEETING NAME", cmd_participant_admit, true },
	{ "participant", "deny", 2, { 0 }, "participant deny MEETING NAME", cmd_participant_deny, true },
	{ "participant", "mute", 3, { 0 }, "participant mute MEETING NAME audio|video|screen|all",
	  cmd_participant_mute, true },
	{ "participant", "unmute", 3, { 0 }, "participant unmute MEETING NAME audio|video|screen|all",
	  cmd_participant_unmute, true },
	{ "participant", "self-mute", 3, { 0 }, "participant self-mute MEETING NAME audio|video|screen|all",
	  cmd_participant_self_mute, true },
	{ "participant", "self-unmute", 3, { 0 }, "participant self-unmute MEETING NAME audio|video|screen|all",
	  cmd_participant_self_unmute, true },
	{ "participant", "ask-unmute", 3, { 0 }, "participant ask-unmute MEETING NAME audio|video|screen|all",
	  cmd_participant_ask_unmute, true },
	{ "participant", "host", 3, { 0 }, "participant host MEETING NAME on|off", cmd_participant_host, true },
	{ "participant", "eject", 2, { 0 }, "participant eject MEETING NAME", cmd_participant_eject, true },
	{ "participant", "rekey", 2, { 0 }, "participant rekey MEETING NAME", cmd_participant_rekey, true },
	{ "stream", "add", 2, { "ssrc=", "!kind=", "!codec=", "layers=", "spatial=", "dd-ext=", "rtx-ssrc=",
				"rtx-pt=", "clock=", "screen", "mid=", "rid=" },
	  "stream add MEETING PARTICIPANT (--ssrc N[,N2[,N3]] [--mid MID [--rid R0,R1[,R2]]] | --mid MID "
	  "[--rid R0[,R1[,R2]]]) --kind audio|video --codec opus|vp8|vp9|av1|h264 "
	  "[--layers T] [--spatial S] [--dd-ext ID] [--rtx-ssrc N[,N2[,N3]] --rtx-pt PT | --rtx-pt PT] [--clock HZ] "
	  "[--screen]",
	  cmd_stream_add, true },
	{ "stream", "remove", 2, { "!ssrc=" }, "stream remove MEETING PARTICIPANT --ssrc N", cmd_stream_remove, true },
	{ "sub", "set", 2, { "!ssrc=", "target=", "spatial=", "dt=", "encoding=", "out-ssrc=", "rtx-ssrc=", "pin",
			     "unpin" },
	  "sub set MEETING SUBSCRIBER --ssrc N [--target TID] [--spatial SID] [--dt DT] [--encoding E] "
	  "[--out-ssrc N] [--rtx-ssrc N] [--pin | --unpin]", cmd_sub_set, true },
	{ "sub", "list", 1, { 0 }, "sub list MEETING", cmd_sub_list, false },
	{ "slot", "set", 2, { "!video=", "ssrc=", "none", "target=", "spatial=", "dt=", "encoding=" },
	  "slot set MEETING PARTICIPANT --video K (--ssrc N | --none) [--target TID] [--spatial SID] [--dt DT] "
	  "[--encoding E]", cmd_slot_set, true },
	{ "slot", "list", 1, { 0 }, "slot list MEETING", cmd_slot_list, false },
	{ "stats", NULL, 0, { "streams", "participants" }, "stats [--streams] [--participants]", cmd_stats, false },
	{ "audit", NULL, 0, { "limit=" }, "audit [--limit N]", cmd_audit, false },
	{ "log", "level", 1, { 0 }, "log level debug|info|warning|error", cmd_log_level, false },
	/* changes no model: dp_link refuses it unless the tables are held (and never when fenced) */
	{ "dataplane", "reset", 0, { "!yes-wipe" }, "dataplane reset --yes-wipe", cmd_dataplane_reset, false },
	{ "help", NULL, 0, { 0 }, "help", cmd_help, false },
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void cmd_help(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	(void)ctx;
	(void)a;
	ob_puts(&req->body, "usage: mmrctl [-S SOCKET] [--json] COMMAND ...\ncommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		ob_printf(&req->body, "  %s\n", commands[i].usage);
	ob_puts(&req->body,
		"layers:\n"
		"  --layers T: temporal layers (1-4: vp8, vp9, av1; 1: opus, h264); --spatial S: spatial layers\n"
		"  (1-3: vp9, av1); av1 needs --dd-ext ID, the Dependency Descriptor's RTP header extension id.\n"
		"  --ssrc N1,N2[,N3]: a simulcast group, lowest quality first (video only).\n"
		"  sub set: --target = temporal layer (vp8, vp9, h264), --spatial = spatial layer (vp9),\n"
		"  --dt = AV1 decode target, numbered dt = sid * T + tid (libwebrtc L<S>T<T> order),\n"
		"  --encoding = simulcast encoding (0 = lowest); any member's SSRC names its whole group.\n"
		"rtcp:\n"
		"  participant add --rtcp: the feedback it takes (default nack,pli,fir; rsize = reduced-size RTCP;\n"
		"  none); --rtx APT:PT,...: its RTX payload types (media PT:RTX PT), up to 4: its subscriptions\n"
		"  then get RTX SSRCs (sub list; sub set --rtx-ssrc N, 0 = none). stream add --rtx-ssrc/--rtx-pt:\n"
		"  the publisher's RTX stream (one SSRC per --ssrc); --clock HZ (default 90000 video, 48000 audio).\n"
		"qos:\n"
		"  sub set targets are ceilings: the dataplane's allocator gives a receiver that takes twcc or remb\n"
		"  what its bandwidth carries, up to them; --pin serves a video first (as stream add --screen).\n"
		"  participant add --rtcp ...,twcc|remb needs --ext twcc=ID|abs-send-time=ID (ids 1-14, 1-255 with\n"
		"  --ext-two-byte); audio-level=ID: its audio levels (dominant speaker). meeting create/set\n"
		"  --top-n N: each receiver gets only the N loudest audio streams, on N SSRCs of its own (0 = off).\n"
		"ssrc learning:\n"
		"  stream add --mid MID [--rid R0,R1,R2] without --ssrc: the SSRCs (and with --rtx-pt the RTX SSRCs,\n"
		"  by repaired-rid) are learned from the packets' header extensions (participant add --ext\n"
		"  mid=ID,rid=ID,rrid=ID); rids lowest encoding first. Until then the stream has a stand-in SSRC\n"
		"  (participant show), which stays its receivers' out SSRC.\n"
		"zone (a zone block in the config: docs/interfaces.md \"The zone in etcd\"):\n"
		"  zone status | zone drain [HOST] | zone undrain [HOST]; meeting create places the meeting on the\n"
		"  zone host with the most headroom; a meeting on another host is answered with that host.\n"
		"  zone cascade MEETING HOST: HOST carries the meeting too, joined by trunks (_trunk.HOST\n"
		"  participants, docs/interfaces.md \"Cascading\"); a participant add on a full host goes there.\n");
}

/* ---- parsing -------------------------------------------------------------------------------- */

__attribute__((format(printf, 3, 4)))
static void usage_fail(struct request *req, const struct command *c, const char *fmt, ...)
{
	char why[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	fail(req, "%s; usage: mmrctl %s", why, c->usage);
}

/* Option name in the spec: without '!' and '='. */
static size_t spec_name(const char *spec, const char **name)
{
	*name = spec + (spec[0] == '!');
	const char *eq = strchr(*name, '=');
	return eq ? (size_t)(eq - *name) : strlen(*name);
}

static bool parse_args(const struct command *c, int argc, char **argv, struct args *a, struct request *req)
{
	unsigned npos = 0;
	memset(a, 0, sizeof(*a));
	for (int i = 0; i < argc; i++) {
		const char *s = argv[i];
		if (s[0] != '-' || s[1] == '\0') {
			if (npos == c->npos) {
				usage_fail(req, c, "unexpected argument '%s'", s);
				return false;
			}
			a->pos[npos++] = s;
			continue;
		}
		const char *name = s + (s[1] == '-' ? 2 : 1);
		const char *eq = strchr(name, '=');
		size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
		int j = -1;
		for (int k = 0; k < MAX_OPTS && c->opts[k]; k++) {
			const char *sn;
			size_t sl = spec_name(c->opts[k], &sn);
			if (s[1] == '-' && sl == nlen && strncmp(sn, name, nlen) == 0) {
				j = k;
				break;
			}
		}
		if (j < 0) {
			usage_fail(req, c, "unknown option '%.*s'", (int)(name - s + nlen), s);
			return false;
		}
		bool takes_value = strchr(c->opts[j], '=') != NULL;
		const char *value;
		if (takes_value) {
			if (eq) {
				value = eq + 1;
			} else if (i + 1 < argc) {
				value = argv[++i];
			} else {
				usage_fail(req, c, "option --%.*s needs a value", (int)nlen, name);
				return false;
			}
		} else {
			if (eq) {
				usage_fail(req, c, "option --%.*s takes no value", (int)nlen, name);
				return false;
			}
			value = "";
		}
		if (a->opt[j]) {
			usage_fail(req, c, "option --%.*s given twice", (int)nlen, name);
			return false;
		}
		a->opt[j] = value;
	}
	if (npos < c->npos) {
		usage_fail(req, c, "missing argument");
		return false;
	}
	for (int k = 0; k < MAX_OPTS && c->opts[k]; k++)
		if (c->opts[k][0] == '!' && !a->opt[k]) {
			const char *sn;
			size_t sl = spec_name(c->opts[k], &sn);
			usage_fail(req, c, "missing option --%.*s", (int)sl, sn);
			return false;
		}
	return true;
}

/* The command named by words[0] (and words[1] when it has a subcommand), or NULL. */
static const struct command *find_command(char *const *words, int n)
{
	for (size_t i = 0; n > 0 && i < N_COMMANDS; i++)
		if (strcmp(commands[i].w1, words[0]) == 0 &&
		    (!commands[i].w2 || (n > 1 && strcmp(commands[i].w2, words[1]) == 0)))
			return &commands[i];
	return NULL;
}

bool request_mutates(int argc, char **argv)
{
	char *w[2];
	int n = 0;
	for (int i = 0; i < argc && n < 2; i++)
		if (strcmp(argv[i], "--json") != 0)
			w[n++] = argv[i];
	const struct command *c = find_command(w, n);
	return c && c->mutates;
}

void request_run(struct ctl_ctx *ctx, int argc, char **argv, struct request *req)
{
	memset(req, 0, sizeof(*req));
	ob_init(&req->body);
	req->wait_seq = UINT64_MAX;

	/* --json may stand anywhere; names cannot start with '-', so it is never an argument */
	char *words[64];
	int n = 0;
	for (int i = 0; i < argc && n < (int)(sizeof(words) / sizeof(words[0])); i++) {
		if (strcmp(argv[i], "--json") == 0)
			req->json = true;
		else
			words[n++] = argv[i];
	}
	if (n == 0)
		FAIL("no command; usage: mmrctl [-S SOCKET] [--json] COMMAND ... (see 'mmrctl help')");

	const struct command *c = find_command(words, n);
	if (!c) {
		bool first_known = false;
		for (size_t i = 0; i < N_COMMANDS; i++)
			first_known |= strcmp(commands[i].w1, words[0]) == 0;
		if (!first_known)
			FAIL("unknown command '%s'; commands: status, meeting, participant, stream, sub, "
					 "stats, dataplane, help", words[0]);
		char subs[128] = "";
		for (size_t i = 0; i < N_COMMANDS; i++)
			if (strcmp(commands[i].w1, words[0]) == 0) {
				strncat(subs, subs[0] ? ", " : "", sizeof(subs) - strlen(subs) - 1);
				strncat(subs, commands[i].w2, sizeof(subs) - strlen(subs) - 1);
			}
		if (n > 1)
			FAIL("unknown command '%s %s'; '%s' takes: %s", words[0], words[1], words[0], subs);
		FAIL("'%s' needs a subcommand: %s", words[0], subs);
	}
	int skip = c->w2 ? 2 : 1;
	struct args a;
	if (!parse_args(c, n - skip, words + skip, &a, req))
		return;
	if (ctx->dp->fenced && c->mutates)
		FAIL("%s", ctx->dp->why_detached);
	c->run(ctx, &a, req);     /* a mutating command sets req->mutating once it has changed something */
	if (req->failed)
		req->mutating = false;
}

void request_finish(struct ctl_ctx *ctx, struct request *req, enum apply_outcome how)
{
	if (req->failed || !req->mutating)
		return;
	char buf[320];
	const char *note = NULL;
	if (req->unsaved) {
		note = "in force in the dataplane but NOT SAVED yet (the state cannot be written): saved when the "
		       "disk takes it (alarm: unsaved_safety_actions in status)";
	} else if (req->offline) {
		note = "dataplane offline, will apply on attach";
	} else if (req->wait) {
		if (how == APPLY_DONE) {
			uint64_t rej = dp_link_rejected(ctx->dp);
			if (rej > req->rejected_before && ctx->dp->attached) {
				char last[sizeof(ctx->dp->ch.shm->last_error) + 1];
				memcpy(last, (const char *)ctx->dp->ch.shm->last_error, sizeof(last) - 1);
				last[sizeof(last) - 1] = '\0';
				snprintf(buf, sizeof(buf), "dataplane rejected %llu command(s): %s",
					 (unsigned long long)(rej - req->rejected_before), last[0] ? last : "(no reason given)");
				note = buf;
			}
		} else if (how == APPLY_TIMEOUT) {
			snprintf(buf, sizeof(buf), "dataplane has not applied it within %u ms; it stays queued",
				 ctx->cfg->apply_timeout_ms);
			note = buf;
		} else if (ctx->dp->fenced) {
			note = ctx->dp->why_detached;
		} else {
			note = "dataplane went offline, will apply on attach";
		}
	}
	if (req->json) {
		/* a change that replied keys left its object open: "applied" goes into it */
		ob_printf(&req->body, "%s\"applied\": %s", req->json_open ? ", " : "{",
			  note && !req->unsaved ? "false" : "true");
		if (req->unsaved)
			ob_puts(&req->body, ", \"saved\": false");
		if (note) {
			ob_puts(&req->body, ", \"note\": ");
			ob_json_str(&req->body, note);
		}
		ob_puts(&req->body, "}\n");
	} else if (note) {
		ob_printf(&req->body, "note: %s\n", note);
	}
}

void request_reply(const struct request *req, struct outbuf *payload)
{
	if (req->failed) {
		ob_printf(payload, "error: %s\n", req->err);
	} else if (req->body.oom) {
		ob_puts(payload, "error: out of memory building the reply\n");
	} else {
		ob_puts(payload, "ok\n");
		if (req->body.len)
			ob_add(payload, req->body.p, req->body.len);
	}
}

void request_free(struct request *req)
{
	ob_free(&req->body);
}
