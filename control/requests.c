/*
 * requests.c - the mmrctl commands: parse, validate, then render or mutate (see requests.h).
 *
 * Mutations follow one order so that a failure at any step leaves nothing behind:
 *   1. validate every argument and reserve ids and index room (nothing changed yet);
 *   2. adds: change the model, save the state file, undo the model change if the save failed;
 *      removals: save the state file without the object first, then change the model;
 *   3. queue the dataplane commands (only now: the state on disk already says what they say).
 *
 * SRTP: a meeting's security (--plain, default, or --srtp SUITE) is set at creation; participants
 * of an SRTP meeting get fresh keys (keys.c) at `participant add` and `participant rekey`, made
 * before step 2, and the reply body carries them (and only these replies: nothing else prints or
 * logs a key). Format in docs/interfaces.md.
 */
#include "requests.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "keys.h"
#include "log.h"
#include "render.h"
#include "state_file.h"
#include "values.h"

#define MAX_POS  3
#define MAX_OPTS 8

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

static bool reserve(struct ctl_ctx *ctx, struct request *req, uint32_t meetings, uint32_t parts,
		    uint32_t streams, uint32_t subs)
{
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

static bool save(struct ctl_ctx *ctx, struct request *req, enum state_skip_kind kind, uint32_t id)
{
	struct state_skip skip = { kind, id };
	char why[400];
	if (state_file_save(ctx->model, ctx->cfg->state_file, &skip, why, sizeof(why)) == 0)
		return true;
	ctl_log("cannot save state: %s", why);
	fail(req, "cannot save the state, nothing changed: %s", why);
	return false;
}

/* Before queueing dataplane commands. */
static void dp_begin(struct ctl_ctx *ctx, struct request *req)
{
	req->mutating = true;
	req->rejected_before = dp_link_rejected(ctx->dp);
	req->wait_seq = UINT64_MAX;
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
	dp_link_poll(ctx->dp);
}

/* ---- security: --plain / --srtp SUITE ------------------------------------------------------- */

#define SUITE_CHOICES "AEAD_AES_128_GCM, AEAD_AES_256_GCM or AES_CM_128_HMAC_SHA1_80"

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
static bool new_keys(enum srtp_suite suite, struct srtp_master keys[2], struct request *req)
{
	if (keys_generate(suite, &keys[0]) == 0 && keys_generate(suite, &keys[1]) == 0)
		return true;
	explicit_bzero(keys, 2 * sizeof(keys[0]));
	fail(req, "cannot make SRTP keys: the random generator failed; nothing changed");
	return false;
}

/* ---- meeting -------------------------------------------------------------------------------- */

enum { MC_PLAIN, MC_SRTP };

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
	if (!reserve(ctx, req, 1, 0, 0, 0))
		return;
	uint32_t id = model_meeting_add(ctx->model, MMR_ID_NONE, name, suite);
	if (!save(ctx, req, STATE_SKIP_NONE, 0)) {
		model_meeting_remove(ctx->model, id);
		return;
	}
	dp_begin(ctx, req);
	dp_end(ctx, req, UINT64_MAX, false);
}

static void cmd_meeting_end(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	struct model *m = ctx->model;
	uint32_t id;
	if (!get_meeting(ctx, a->pos[0], req, &id))
		return;
	if (!save(ctx, req, STATE_SKIP_MEETING, id))
		return;
	dp_begin(ctx, req);
	uint64_t last = UINT64_MAX;
	for (uint32_t p = m->meetings[id].first_part; p != MMR_ID_NONE; p = m->parts[p].next)
		last = dp_link_del(ctx->dp, MMR_CMD_PARTICIPANT_DEL, p);
	dp_end(ctx, req, last, m->meetings[id].n_parts > 0);
	model_meeting_remove(m, id);
}

static void cmd_meeting_list(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	(void)a;
	render_meeting_list(ctx->model, req->json, &req->body);
}

static void cmd_meeting_show(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	uint32_t id;
	if (get_meeting(ctx, a->pos[0], req, &id))
		render_meeting_show(ctx->model, id, req->json, &req->body);
}

/* ---- participant ---------------------------------------------------------------------------- */

enum { PA_ADDR, PA_PORT, PA_ROLE, PA_MAC, PA_DP_PORT, PA_SRTP, PA_PLAIN };

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

	struct mmr_addr addr;
	int rc = val_addr(a->opt[PA_ADDR], &addr);
	if (rc == -1)
		FAIL("bad IP address '%s'", a->opt[PA_ADDR]);
	if (rc == -2)
		FAIL("IP address '%s' is not a unicast address", a->opt[PA_ADDR]);
	uint64_t port;
	if (val_uint(a->opt[PA_PORT], 65535, &port) < 0 || port == 0)
		FAIL("bad UDP port '%s' (1-65535)", a->opt[PA_PORT]);
	uint32_t other = model_find_participant_by_addr(m, &addr, (uint16_t)port);
	if (other != MMR_ID_NONE) {
		char text[VAL_ADDR_STRLEN];
		FAIL("address %s port %u is already used by participant '%s' in meeting '%s'",
			    val_addr_fmt(&addr, text), (unsigned)port, m->parts[other].name,
			    m->meetings[m->parts[other].meeting].name);
	}
	int role = MMR_ROLE_SENDRECV;
	if (a->opt[PA_ROLE] && (role = val_role(a->opt[PA_ROLE])) < 0)
		FAIL("bad role '%s' (sendrecv, recvonly or sendonly)", a->opt[PA_ROLE]);
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
	if (!reserve(ctx, req, 0, 1, 0, model_join_sub_count(m, meeting, (unsigned)role)))
		return;
	struct srtp_master keys[2];
	memset(keys, 0, sizeof(keys));
	if (suite != SRTP_SUITE_NONE && !new_keys(suite, keys, req))
		return;

	uint32_t id = model_participant_join(m, meeting, name, &addr, (uint16_t)port, (unsigned)role,
					     a->opt[PA_MAC] ? mac : NULL, (uint16_t)dp_port);
	model_participant_set_keys(m, id, &keys[0], &keys[1]);
	explicit_bzero(keys, sizeof(keys));
	if (!save(ctx, req, STATE_SKIP_NONE, 0)) {
		model_participant_remove(m, id);
		return;
	}
	dp_begin(ctx, req);
	uint64_t last = dp_link_put_participant(ctx->dp, id);
	for (uint32_t b = m->parts[id].first_rsub; b != MMR_ID_NONE; b = m->subs[b].r_next)
		last = dp_link_put_sub(ctx->dp, b);
	dp_end(ctx, req, last, true);
	if (suite != SRTP_SUITE_NONE)
		reply_keys(ctx, id, req, true);
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
	if (!new_keys((enum srtp_suite)m->meetings[m->parts[id].meeting].srtp_suite, keys, req))
		return;
	old[0] = m->parts[id].send_key;
	old[1] = m->parts[id].recv_key;
	model_participant_set_keys(m, id, &keys[0], &keys[1]);
	explicit_bzero(keys, sizeof(keys));
	bool saved = save(ctx, req, STATE_SKIP_NONE, 0);
	if (!saved)
		model_participant_set_keys(m, id, &old[0], &old[1]);
	explicit_bzero(old, sizeof(old));
	if (!saved)
		return;
	model_participant_reset_srtp(m, id);   /* new keys: the new contexts start at ROC 0 */
	dp_begin(ctx, req);
	dp_end(ctx, req, dp_link_put_participant(ctx->dp, id), true);
	reply_keys(ctx, id, req, true);
}

static void cmd_participant_remove(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	uint32_t meeting, id;
	if (!get_meeting(ctx, a->pos[0], req, &meeting) || !get_participant(ctx, meeting, a->pos[1], req, &id))
		return;
	if (!save(ctx, req, STATE_SKIP_PARTICIPANT, id))
		return;
	dp_begin(ctx, req);
	/* the dataplane drops its streams and every subscription to or from it with it */
	dp_end(ctx, req, dp_link_del(ctx->dp, MMR_CMD_PARTICIPANT_DEL, id), true);
	model_participant_remove(ctx->model, id);
}

/* ---- stream --------------------------------------------------------------------------------- */

enum { ST_SSRC, ST_KIND, ST_CODEC, ST_LAYERS };

static void cmd_stream_add(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	struct model *m = ctx->model;
	uint32_t meeting, p, ssrc;
	if (!get_meeting(ctx, a->pos[0], req, &meeting) || !get_participant(ctx, meeting, a->pos[1], req, &p))
		return;
	if (!val_role_sends(m->parts[p].role))
		FAIL("participant '%s' is %s and may not publish", m->parts[p].name,
			    val_role_name(m->parts[p].role));
	if (!get_ssrc(a->opt[ST_SSRC], "SSRC", req, &ssrc))
		return;
	uint32_t other = model_find_stream(m, meeting, ssrc);
	if (other != MMR_ID_NONE)
		FAIL("SSRC %s is already used in meeting '%s' (by '%s')", a->opt[ST_SSRC],
			    m->meetings[meeting].name, m->parts[m->streams[other].participant].name);
	int kind = val_kind(a->opt[ST_KIND]);
	if (kind < 0)
		FAIL("bad kind '%s' (audio or video)", a->opt[ST_KIND]);
	int codec = val_codec(a->opt[ST_CODEC]);
	if (codec < 0)
		FAIL("bad codec '%s' (opus or vp8)", a->opt[ST_CODEC]);
	if (kind == MMR_KIND_AUDIO && codec != MMR_CODEC_OPUS)
		FAIL("codec %s is not an audio codec (audio: opus)", a->opt[ST_CODEC]);
	if (kind == MMR_KIND_VIDEO && codec != MMR_CODEC_VP8)
		FAIL("codec %s is not a video codec (video: vp8)", a->opt[ST_CODEC]);
	uint64_t layers = 1;
	if (a->opt[ST_LAYERS]) {
		unsigned max = codec == MMR_CODEC_VP8 ? MMR_MAX_TLAYERS : 1;
		if (val_uint(a->opt[ST_LAYERS], max, &layers) < 0 || layers == 0)
			FAIL("bad layer count '%s' (%s)", a->opt[ST_LAYERS],
				    codec == MMR_CODEC_VP8 ? "1-4 temporal layers for vp8" : "audio has 1 layer");
	}
	if (!reserve(ctx, req, 0, 0, 1, model_publish_sub_count(m, p)))
		return;

	uint32_t id = model_stream_publish(m, p, ssrc, (unsigned)kind, (unsigned)codec, (unsigned)layers);
	if (!save(ctx, req, STATE_SKIP_NONE, 0)) {
		model_stream_remove(m, id);
		return;
	}
	dp_begin(ctx, req);
	uint64_t last = dp_link_put_stream(ctx->dp, id);
	for (uint32_t b = m->streams[id].first_sub; b != MMR_ID_NONE; b = m->subs[b].s_next)
		last = dp_link_put_sub(ctx->dp, b);
	dp_end(ctx, req, last, true);
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
	if (!save(ctx, req, STATE_SKIP_STREAM, id))
		return;
	dp_begin(ctx, req);
	dp_end(ctx, req, dp_link_del(ctx->dp, MMR_CMD_STREAM_DEL, id), true);
	model_stream_remove(ctx->model, id);
}

/* ---- subscriptions -------------------------------------------------------------------------- */

enum { SU_SSRC, SU_TARGET, SU_OUT_SSRC };

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
	uint32_t b = model_find_sub(m, s, r);
	if (b == MMR_ID_NONE)   /* cannot happen while the subscription rule holds */
		FAIL("participant '%s' is not subscribed to SSRC %s", rp->name, a->opt[SU_SSRC]);
	uint64_t target;
	if (val_uint(a->opt[SU_TARGET], ss->layers - 1u, &target) < 0) {
		if (ss->layers == 1)
			FAIL("bad target layer '%s' (the stream has 1 layer: 0)", a->opt[SU_TARGET]);
		FAIL("bad target layer '%s' (0-%u: the stream has %u layers)", a->opt[SU_TARGET],
			    ss->layers - 1u, ss->layers);
	}
	out_ssrc = m->subs[b].out_ssrc;
	if (a->opt[SU_OUT_SSRC]) {
		if (!get_ssrc(a->opt[SU_OUT_SSRC], "out SSRC", req, &out_ssrc))
			return;
	}

	struct m_sub old = m->subs[b];
	m->subs[b].target = (uint8_t)target;
	m->subs[b].out_ssrc = out_ssrc;
	if (!save(ctx, req, STATE_SKIP_NONE, 0)) {
		m->subs[b].target = old.target;
		m->subs[b].out_ssrc = old.out_ssrc;
		return;
	}
	if (out_ssrc != old.out_ssrc)
		m->subs[b].srtp_index = 0;     /* a new SSRC is a new SRTP stream: ROC 0 */
	dp_begin(ctx, req);
	dp_end(ctx, req, dp_link_put_sub(ctx->dp, b), true);
}

static void cmd_sub_list(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	uint32_t id;
	if (get_meeting(ctx, a->pos[0], req, &id))
		render_sub_list(ctx->model, id, req->json, &req->body);
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
	if (render_stats(ctx, a->opt[0] != NULL, req->json, &req->body, why, sizeof(why)) < 0)
		fail(req, "%s", why);
}

static void cmd_help(struct ctl_ctx *ctx, const struct args *a, struct request *req);

static const struct command commands[] = {
	{ "status", NULL, 0, { 0 }, "status", cmd_status },
	{ "meeting", "create", 1, { "plain", "srtp=" }, "meeting create NAME [--plain | --srtp SUITE]",
	  cmd_meeting_create },
	{ "meeting", "end", 1, { 0 }, "meeting end NAME", cmd_meeting_end },
	{ "meeting", "list", 0, { 0 }, "meeting list", cmd_meeting_list },
	{ "meeting", "show", 1, { 0 }, "meeting show NAME", cmd_meeting_show },
	{ "participant", "add", 2, { "!addr=", "!port=", "role=", "mac=", "dp-port=", "srtp=", "plain" },
	  "participant add MEETING NAME --addr IP --port N [--role sendrecv|recvonly|sendonly] [--mac MAC] "
	  "[--dp-port N] [--plain | --srtp SUITE]", cmd_participant_add },
	{ "participant", "remove", 2, { 0 }, "participant remove MEETING NAME", cmd_participant_remove },
	{ "participant", "keys", 2, { 0 }, "participant keys MEETING NAME", cmd_participant_keys },
	{ "participant", "rekey", 2, { 0 }, "participant rekey MEETING NAME", cmd_participant_rekey },
	{ "stream", "add", 2, { "!ssrc=", "!kind=", "!codec=", "layers=" },
	  "stream add MEETING PARTICIPANT --ssrc N --kind audio|video --codec opus|vp8 [--layers N]",
	  cmd_stream_add },
	{ "stream", "remove", 2, { "!ssrc=" }, "stream remove MEETING PARTICIPANT --ssrc N", cmd_stream_remove },
	{ "sub", "set", 2, { "!ssrc=", "!target=", "out-ssrc=" },
	  "sub set MEETING SUBSCRIBER --ssrc N --target TID [--out-ssrc N]", cmd_sub_set },
	{ "sub", "list", 1, { 0 }, "sub list MEETING", cmd_sub_list },
	{ "stats", NULL, 0, { "streams" }, "stats [--streams]", cmd_stats },
	{ "help", NULL, 0, { 0 }, "help", cmd_help },
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void cmd_help(struct ctl_ctx *ctx, const struct args *a, struct request *req)
{
	(void)ctx;
	(void)a;
	ob_puts(&req->body, "usage: mmrctl [-S SOCKET] [--json] COMMAND ...\ncommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		ob_printf(&req->body, "  %s\n", commands[i].usage);
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

	const struct command *c = NULL;
	bool first_known = false;
	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (strcmp(commands[i].w1, words[0]) != 0)
			continue;
		first_known = true;
		if (!commands[i].w2 || (n > 1 && strcmp(commands[i].w2, words[1]) == 0)) {
			c = &commands[i];
			break;
		}
	}
	if (!c) {
		if (!first_known)
			FAIL("unknown command '%s'; commands: status, meeting, participant, stream, sub, "
					 "stats, help", words[0]);
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
	if (req->offline) {
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
		} else {
			note = "dataplane went offline, will apply on attach";
		}
	}
	if (req->json) {
		/* a change that replied keys left its object open: "applied" goes into it */
		ob_printf(&req->body, "%s\"applied\": %s", req->json_open ? ", " : "{", note ? "false" : "true");
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
