/*
 * join.c - the join endpoints, their sessions, the slot policy and the event streams (see join.h).
 *
 * A join: checks (content type, token, role, rate limits, meeting), the offer parsed and answered
 * (lib/sdp) with fresh ICE credentials and receive-slot SSRCs, then the command lines run one after
 * the other through request_run (in this loop round: they share its batch commit); any failure
 * after `participant add` runs `participant remove`. The request then waits like any change (its
 * slot holds the last command's wait) and, resumed, answers 201.
 *
 * The event streams are libmicrohttpd callback responses: the reader hands out what was queued,
 * and with nothing queued suspends its connection (allowed from a content reader); queueing an
 * event resumes it. Nothing here blocks the loop.
 */
#define _GNU_SOURCE
#include "join.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <jansson.h>

#include "events.h"
#include "hex.h"
#include "http_routes.h"
#include "keys.h"
#include "log.h"
#include "model.h"
#include "outbuf.h"
#include "passcode.h"
#include "perm.h"
#include "rate_limit.h"
#include "zone.h"
#include "requests.h"
#include "sdp.h"
#include "slot.h"
#include "state_store.h"

enum endpoint { EP_WHIP, EP_WHEP, EP_JOIN };
static const char *const ep_names[] = { "whip", "whep", "join" };

/* A receiver's ceiling on one of its video slots, in the codec-free form a page gives it (-1: none):
 * the highest spatial layer (VP9, AV1) or simulcast encoding (0 = lowest), the highest temporal
 * layer; dt (AV1 decode target) and encoding override them for those codecs. Translated into
 * `slot set` options for whichever publisher is on the slot (ceiling_opts). */
struct slot_ceiling {
	int16_t spatial, target, dt, encoding;
};

struct join_session {
	bool used;
	bool live;                      /* answered (201); before that a join in progress */
	bool deleting;                  /* a DELETE's participant remove is settling: ended (or kept,
					 * if it failed) once it has (join_delete_settled) */
	char id[33];                    /* 128 random bits, hex: the resource name */
	char etag[40];
	char meeting[VAL_NAME_MAX + 1], name[VAL_NAME_MAX + 1];
	uint32_t meeting_id, part_id;
	enum endpoint ep;
	char ufrag[17], pwd[33];        /* the MMR's ICE credentials (pwd: key material) */
	char remote_ufrag[SDP_ICE_MAX]; /* the client's */
	char bundle_mid[SDP_TOKEN];     /* the first accepted m-section: for restart fragments */
	char bundle_kind[16];
	char *answer;                   /* until sent */
	size_t answer_len;
	uint8_t n_vslots, n_aslots;
	char vmid[JOIN_MAX_SLOTS][SDP_TOKEN], amid[JOIN_MAX_SLOTS][SDP_TOKEN];
	uint32_t vssrc[JOIN_MAX_SLOTS], vrtx[JOIN_MAX_SLOTS], assrc[JOIN_MAX_SLOTS];
	uint32_t vpub[JOIN_MAX_SLOTS];      /* the stream (group head) on video slot k; MMR_ID_NONE */
	uint32_t vpub_ssrc[JOIN_MAX_SLOTS]; /* its SSRC when set (a reused id is not the same stream) */
	struct slot_ceiling vceil[JOIN_MAX_SLOTS];   /* the receiver's ceiling on video slot k */
	uint32_t speaker_told;          /* the speaker its event streams were last told */
	bool slot_error_logged;
};

struct join_stream {
	struct join_stream *next;
	struct join *j;
	struct http_req *r;             /* NULL once the request is gone */
	struct join_session *s;         /* NULL once the session ended */
	struct outbuf buf;
	size_t off;
	bool suspended, ended, resp_freed;
	uint64_t last_ns;
};

struct join {
	struct http_server *hs;
	struct ctl_ctx *ctx;
	struct join_session s[JOIN_MAX_SESSIONS];
	struct join_stream *streams;
	unsigned n_streams;
	struct rate_limit rl_ip, rl_token;
	struct rate_limit rl_pc_ip, rl_pc_identity, rl_pc_meeting;      /* wrong passcodes */
	uint64_t *last_spoke;           /* by participant id: when it last became the dominant speaker */
	uint64_t next_policy_ns;
	bool need_run;                  /* a stream was resumed: run libmicrohttpd once more */
#define J_COUNTER(n, s, d) uint64_t n;
	struct { foreach_join_counter(J_COUNTER) } c;
#undef J_COUNTER
};

/* ---- small helpers ------------------------------------------------------------------------------ */

static void session_event(struct join *j, const struct join_session *s, const char *text);

/* Meeting controls (issue 15, requests.h): a change's event to every session of its meeting (or of
 * one participant: an "ask to unmute"). */
static void control_hook(void *cls, uint32_t meeting, uint32_t participant, const char *text)
{
	struct join *j = cls;
	for (unsigned i = 0; i < JOIN_MAX_SESSIONS; i++)
		if (j->s[i].used && j->s[i].live && j->s[i].meeting_id == meeting &&
		    (participant == MMR_ID_NONE || j->s[i].part_id == participant))
			session_event(j, &j->s[i], text);
}

struct join *join_new(struct http_server *hs)
{
	struct join *j = calloc(1, sizeof(*j));
	if (!j)
		return NULL;
	j->last_spoke = calloc(MMR_MAX_PARTICIPANTS, sizeof(uint64_t));
	if (!j->last_spoke) {
		free(j);
		return NULL;
	}
	j->hs = hs;
	j->ctx = hs->ctx;
	rl_init(&j->rl_ip, hs->ctx->cfg->join_rate_ip, hs->ctx->cfg->join_burst_ip);
	rl_init(&j->rl_token, hs->ctx->cfg->join_rate_token, hs->ctx->cfg->join_burst_token);
	rl_init(&j->rl_pc_ip, JOIN_PASSCODE_RATE_IP, JOIN_PASSCODE_BURST_IP);
	rl_init(&j->rl_pc_identity, JOIN_PASSCODE_RATE_IDENTITY, JOIN_PASSCODE_BURST_IDENTITY);
	rl_init(&j->rl_pc_meeting, JOIN_PASSCODE_RATE_MEETING, JOIN_PASSCODE_BURST_MEETING);
	requests_set_control_hook(control_hook, j);
	return j;
}

static void session_clear(struct join_session *s)
{
	if (s->answer) {
		explicit_bzero(s->answer, s->answer_len);
		free(s->answer);
	}
	explicit_bzero(s, sizeof(*s));
}

void join_free(struct join *j)
{
	if (!j)
		return;
	requests_set_control_hook(NULL, NULL);
	for (unsigned i = 0; i < JOIN_MAX_SESSIONS; i++)
		session_clear(&j->s[i]);
	while (j->streams) {
		struct join_stream *st = j->streams;
		j->streams = st->next;
		ob_free(&st->buf);
		free(st);
	}
	free(j->last_spoke);
	free(j);
}

/* n random bytes as 2n lower-case hex digits. 0 or -1. */
static int random_hex(char *out, size_t nbytes)
{
	uint8_t b[32];
	if (nbytes > sizeof(b) || getrandom(b, nbytes, 0) != (ssize_t)nbytes)
		return -1;
	mmr_hex_encode(b, nbytes, out);
	explicit_bzero(b, sizeof(b));
	return 0;
}

/* n ICE characters (RFC 8839 ice-char: ALPHA / DIGIT / "+" / "/"), unbiased. 0 or -1. */
static int random_ice(char *out, size_t n)
{
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint8_t b[64];
	if (n > sizeof(b) || getrandom(b, n, 0) != (ssize_t)n)
		return -1;
	for (size_t i = 0; i < n; i++)
		out[i] = set[b[i] & 63];
	out[n] = '\0';
	explicit_bzero(b, sizeof(b));
	return 0;
}

/* Split line (modified) at blanks into argv (room for max, NULL-terminated). The count, -1: too many. */
static int split_line(char *line, char **argv, int max)
{
	int n = 0;
	for (char *p = strtok(line, " "); p; p = strtok(NULL, " ")) {
		if (n == max - 1)
			return -1;
		argv[n++] = p;
	}
	argv[n] = NULL;
	return n;
}

/* Run one command line (wiped after) through request_run into req (request_free it). 0, or -1 with
 * req->err (the command's error) or a line too long. */
static int run_line(struct join *j, char *line, struct request *req)
{
	char *argv[64];
	char what[200];
	/* what the log may say: up to the first option whose value is key material */
	snprintf(what, sizeof(what), "%s", line);
	char *cut = strstr(what, " --ice");
	if (cut)
		snprintf(cut, sizeof(what) - (size_t)(cut - what), " --ice (...)");
	int argc = split_line(line, argv, 64);
	if (argc < 0) {
		memset(req, 0, sizeof(*req));
		ob_init(&req->body);
		req->failed = true;
		snprintf(req->err, sizeof(req->err), "too many arguments");
		explicit_bzero(line, strlen(line));
		return -1;
	}
	request_run(j->ctx, argc, argv, req);
	j->ctx->requests++;
	for (int i = 0; i < argc; i++)
		explicit_bzero(argv[i], strlen(argv[i]));
	if (req->failed)
		ctl_log("join: %s -> error: %s", what, req->err);
	return req->failed ? -1 : 0;
}

static struct join_session *session_by_id(struct join *j, const char *id)
{
	for (unsigned i = 0; i < JOIN_MAX_SESSIONS; i++)
		if (j->s[i].used && strcmp(j->s[i].id, id) == 0)
			return &j->s[i];
	return NULL;
}

/* Does the session's participant still exist (the same one)? */
static bool session_alive(const struct join *j, const struct join_session *s)
{
	const struct model *m = j->ctx->model;
	uint32_t mid = model_find_meeting(m, s->meeting);
	return mid == s->meeting_id && model_find_participant(m, mid, s->name) == s->part_id;
}

static bool ssrc_taken(const struct join *j, uint32_t meeting, uint32_t ssrc)
{
	const struct model *m = j->ctx->model;
	if (ssrc == 0 || model_find_stream(m, meeting, ssrc) != MMR_ID_NONE ||
	    model_find_rtx_ssrc(m, meeting, ssrc) != MMR_ID_NONE || model_find_mmr_ssrc(m, meeting, ssrc) != MMR_ID_NONE)
		return true;
	for (unsigned i = 0; i < JOIN_MAX_SESSIONS; i++) {
		const struct join_session *s = &j->s[i];
		if (!s->used || s->meeting_id != meeting)
			continue;
		for (unsigned k = 0; k < JOIN_MAX_SLOTS; k++)
			if (s->vssrc[k] == ssrc || s->vrtx[k] == ssrc || s->assrc[k] == ssrc)
				return true;
	}
	return false;
}

static int fresh_ssrc(const struct join *j, uint32_t meeting, const uint32_t *also, unsigned n_also, uint32_t *out)
{
	for (int tries = 0; tries < 64; tries++) {
		if (keys_random_ssrc(out) < 0)
			return -1;
		bool dup = ssrc_taken(j, meeting, *out);
		for (unsigned i = 0; i < n_also && !dup; i++)
			dup = also[i] == *out;
		if (!dup)
			return 0;
	}
	return -1;
}

/* The dataplane's DTLS certificate fingerprint (the segment's header, lib/contract/cmd_chan.h):
 * true and fp, or false (not attached, no DTLS). */
static bool dp_fingerprint(const struct join *j, char *fp, size_t cap)
{
	fp[0] = '\0';
#ifdef MMR_DTLS_FP_TEXT_LEN
	const struct dp_link *dp = j->ctx->dp;
	if (!dp->attached || !dp->ch.shm)
		return false;
	char tmp[MMR_DTLS_FP_TEXT_LEN + 1];
	memcpy(tmp, (const char *)dp->ch.shm->dtls_fingerprint, sizeof(tmp));
	tmp[MMR_DTLS_FP_TEXT_LEN] = '\0';
	if (strlen(tmp) != MMR_DTLS_FP_TEXT_LEN || strlen(tmp) >= cap)
		return false;
	strcpy(fp, tmp);
	return true;
#else
	(void)j;
	(void)cap;
	return false;
#endif
}

/* ---- URLs ------------------------------------------------------------------------------------- */

/* "/v1/meetings/M/whip" -> the endpoint and M (in meeting, cap bytes). */
static bool parse_join_url(const char *url, enum endpoint *ep, char *meeting, size_t cap)
{
	if (strncmp(url, "/v1/meetings/", 13) != 0)
		return false;
	const char *m = url + 13, *slash = strchr(m, '/');
	if (!slash || slash == m || (size_t)(slash - m) >= cap)
		return false;
	for (int e = 0; e < 3; e++)
		if (strcmp(slash + 1, ep_names[e]) == 0) {
			memcpy(meeting, m, (size_t)(slash - m));
			meeting[slash - m] = '\0';
			*ep = (enum endpoint)e;
			return true;
		}
	return false;
}

/* "/v1/sessions/ID/slots/video/K" -> ID (in id, 33 bytes) and K. */
static bool parse_slot_url(const char *url, char *id, unsigned *k)
{
	if (strncmp(url, "/v1/sessions/", 13) != 0)
		return false;
	const char *p = url + 13, *slash = strchr(p, '/');
	if (!slash || slash == p || slash - p > 32 || strncmp(slash, "/slots/video/", 13) != 0)
		return false;
	const char *d = slash + 13;
	if (d[0] < '0' || d[0] > '9' || (d[1] && (d[1] < '0' || d[1] > '9' || d[2])))
		return false;
	*k = (unsigned)atoi(d);
	memcpy(id, p, (size_t)(slash - p));
	id[slash - p] = '\0';
	return true;
}

/* "/v1/sessions/ID[/events]" -> ID (in id, 33 bytes), *events. */
static bool parse_session_url(const char *url, char *id, bool *events)
{
	if (strncmp(url, "/v1/sessions/", 13) != 0)
		return false;
	const char *p = url + 13, *slash = strchr(p, '/');
	size_t n = slash ? (size_t)(slash - p) : strlen(p);
	if (n == 0 || n > 32 || (slash && strcmp(slash, "/events") != 0))
		return false;
	memcpy(id, p, n);
	id[n] = '\0';
	*events = slash != NULL;
	return true;
}

/* "/v1/sessions/ID/mute|unmute" -> ID (in id, 33 bytes), *mute. */
static bool parse_mute_url(const char *url, char *id, bool *mute)
{
	if (strncmp(url, "/v1/sessions/", 13) != 0)
		return false;
	const char *p = url + 13, *slash = strchr(p, '/');
	if (!slash || slash == p || slash - p > 32 || (strcmp(slash, "/mute") != 0 && strcmp(slash, "/unmute") != 0))
		return false;
	memcpy(id, p, (size_t)(slash - p));
	id[slash - p] = '\0';
	*mute = strcmp(slash, "/mute") == 0;
	return true;
}

bool join_owns_url(const char *url)
{
	char buf[64];
	enum endpoint ep;
	bool ev;
	unsigned k;
	return parse_join_url(url, &ep, buf, sizeof(buf)) || strcmp(url, "/v1/sessions") == 0 ||
	       parse_session_url(url, buf, &ev) || parse_slot_url(url, buf, &k) || parse_mute_url(url, buf, &ev);
}

bool join_is_join_url(const char *url)
{
	char buf[64];
	enum endpoint ep;
	return parse_join_url(url, &ep, buf, sizeof(buf));
}

const char *join_route_methods(const char *url, char *buf, size_t cap)
{
	char id[64];
	enum endpoint ep;
	bool ev;
	unsigned k;
	const char *m = NULL;
	if (parse_join_url(url, &ep, id, sizeof(id)))
		m = "POST";
	else if (parse_slot_url(url, id, &k))
		m = "PATCH";
	else if (parse_mute_url(url, id, &ev))
		m = "POST";
	else if (strcmp(url, "/v1/sessions") == 0)
		m = "GET";
	else if (parse_session_url(url, id, &ev))
		m = ev ? "GET" : "PATCH, DELETE";
	if (!m || strlen(m) >= cap)
		return NULL;
	strcpy(buf, m);
	return buf;
}

/* ---- replies ---------------------------------------------------------------------------------- */

static enum MHD_Result refuse(struct join *j, struct http_req *r, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static enum MHD_Result refuse(struct join *j, struct http_req *r, unsigned status, const char *fmt, ...)
{
	char why[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	j->c.join_refused++;
	return http_reply_error(r, status, "%s", why);
}

static enum MHD_Result method_not_allowed(struct http_req *r, const char *url, const char *method)
{
	char m[64], allow[80];
	join_route_methods(url, m, sizeof(m));
	snprintf(allow, sizeof(allow), "%s, OPTIONS", m);
	struct http_hdr h[] = { { "Allow", allow }, { NULL, NULL } };
	char body[200];
	int n = snprintf(body, sizeof(body), "{\"error\": \"method %.10s is not allowed here (allowed: %s)\"}\n", method,
			 m);
	return http_reply(r, 405, "application/json", body, (size_t)n, h);
}

/* ---- events (SSE) ----------------------------------------------------------------------------- */

static void stream_push(struct join *j, struct join_stream *st, const char *text)
{
	if (st->ended)
		return;
	st->last_ns = mmr_now_ns();
	ob_puts(&st->buf, text);
	if (st->buf.oom || st->buf.len - st->off > JOIN_STREAM_BUF_MAX) {
		/* out of memory, or a client that stopped reading: the stream ends; the client will
		 * reconnect and get the whole map again */
		st->ended = true;
		ob_reset(&st->buf);
		st->off = 0;
	}
	if (st->suspended && st->r) {
		st->suspended = false;
		MHD_resume_connection(st->r->conn);
		j->need_run = true;
	}
}

static void session_event(struct join *j, const struct join_session *s, const char *text)
{
	for (struct join_stream *st = j->streams; st; st = st->next)
		if (st->s == s)
			stream_push(j, st, text);
}

static void slot_event_text(const struct join *j, const struct join_session *s, unsigned k, char *out, size_t cap)
{
	struct outbuf b;
	ob_init(&b);
	ob_printf(&b, "event: slot\ndata: {\"kind\": \"video\", \"slot\": %u, \"mid\": ", k);
	ob_json_str(&b, s->vmid[k]);
	ob_puts(&b, ", \"publisher\": ");
	const struct model *m = j->ctx->model;
	if (s->vpub[k] != MMR_ID_NONE && m->streams[s->vpub[k]].used)
		ob_json_str(&b, m->parts[m->streams[s->vpub[k]].participant].name);
	else
		ob_puts(&b, "null");
	ob_puts(&b, "}\n\n");
	snprintf(out, cap, "%s", b.oom ? "" : b.p);
	ob_free(&b);
}

static void speaker_event_text(const struct join *j, uint32_t pid, char *out, size_t cap)
{
	struct outbuf b;
	ob_init(&b);
	ob_puts(&b, "event: speaker\ndata: {\"participant\": ");
	if (pid != MMR_ID_NONE && pid < MMR_MAX_PARTICIPANTS && j->ctx->model->parts[pid].used)
		ob_json_str(&b, j->ctx->model->parts[pid].name);
	else
		ob_puts(&b, "null");
	ob_puts(&b, "}\n\n");
	snprintf(out, cap, "%s", b.oom ? "" : b.p);
	ob_free(&b);
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct join_stream *st = cls;
	if (!st->r)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	size_t avail = st->buf.len - st->off;
	if (avail) {
		size_t n = avail < max ? avail : max;
		memcpy(buf, st->buf.p + st->off, n);
		st->off += n;
		if (st->off == st->buf.len) {
			ob_reset(&st->buf);
			st->off = 0;
		}
		return (ssize_t)n;
	}
	if (st->ended)
		return MHD_CONTENT_READER_END_OF_STREAM;
	MHD_suspend_connection(st->r->conn);
	st->suspended = true;
	return 0;
}

static void stream_unlink(struct join *j, struct join_stream *st)
{
	for (struct join_stream **pp = &j->streams; *pp; pp = &(*pp)->next)
		if (*pp == st) {
			*pp = st->next;
			j->n_streams--;
			return;
		}
}

static void stream_free_cb(void *cls)
{
	struct join_stream *st = cls;
	st->resp_freed = true;
	if (!st->r) {
		ob_free(&st->buf);
		free(st);
	}
}

static enum MHD_Result events_open(struct join *j, struct http_req *r, struct join_session *s)
{
	unsigned mine = 0;
	for (struct join_stream *o = j->streams; o; o = o->next)
		mine += o->s == s && !o->ended;
	if (mine >= JOIN_STREAMS_PER_SESSION) {
		j->c.events_refused++;
		struct http_hdr h[] = { { "Retry-After", "5" }, { NULL, NULL } };
		const char *body = "{\"error\": \"this session has its event streams open already\"}\n";
		return http_reply(r, 429, "application/json", body, strlen(body), h);
	}
	if (j->n_streams >= JOIN_MAX_STREAMS) {
		j->c.events_refused++;
		struct http_hdr h[] = { { "Retry-After", "5" }, { NULL, NULL } };
		const char *body = "{\"error\": \"too many event streams open\"}\n";
		return http_reply(r, 503, "application/json", body, strlen(body), h);
	}
	struct join_stream *st = calloc(1, sizeof(*st));
	if (!st)
		return MHD_NO;
	ob_init(&st->buf);
	st->j = j;
	st->r = r;
	st->s = s;
	st->last_ns = mmr_now_ns();
	ob_puts(&st->buf, "retry: 3000\n\n");
	char text[512];
	for (unsigned k = 0; k < s->n_vslots; k++) {
		slot_event_text(j, s, k, text, sizeof(text));
		ob_puts(&st->buf, text);
	}
	speaker_event_text(j, s->speaker_told, text, sizeof(text));
	ob_puts(&st->buf, text);
	struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1024, stream_read, st,
								     stream_free_cb);
	if (!resp) {
		ob_free(&st->buf);
		free(st);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", "text/event-stream");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	http_add_cors(r, resp);
	r->kind = HTTP_REQ_EVENTS;
	r->stream = st;
	st->next = j->streams;
	j->streams = st;
	j->n_streams++;
	enum MHD_Result rc = MHD_queue_response(r->conn, 200, resp);
	MHD_destroy_response(resp);
	ctl_log("http %s: events of session %.8s... (%s in %s) open", r->who, s->id, s->name, s->meeting);
	return rc;
}

/* ---- the slot policy --------------------------------------------------------------------------- */

struct pub {
	uint32_t stream, ssrc, part;
};

/* The meeting's video publications in join order (participants in the meeting's order, each one's
 * streams in its order; one per simulcast group; only those with a known SSRC). */
static unsigned meeting_pubs(const struct model *m, uint32_t meeting, struct pub *out, unsigned cap)
{
	unsigned n = 0;
	for (uint32_t p = m->meetings[meeting].first_part; p != MMR_ID_NONE && n < cap; p = m->parts[p].next)
		for (uint32_t s = m->parts[p].first_stream; s != MMR_ID_NONE && n < cap; s = m->streams[s].next) {
			const struct m_stream *st = &m->streams[s];
			if (st->kind != MMR_KIND_VIDEO || model_group_head(m, s) != s || st->ssrc == 0)
				continue;
			out[n++] = (struct pub){ s, st->ssrc, p };
		}
	return n;
}

/* Slot k's ceiling as `slot set` options for the publisher stream with SSRC ssrc: VP9 --spatial and
 * --target; AV1 --dt (spatial * T + temporal, the top temporal layer unless given); a simulcast
 * group --encoding (clamped to its encodings) and --target; one VP8 or H.264 stream --target. */
static void ceiling_opts(const struct join *j, const struct join_session *s, unsigned k, uint32_t ssrc, char *out,
			 size_t cap)
{
	const struct model *m = j->ctx->model;
	const struct slot_ceiling *c = &s->vceil[k];
	out[0] = 0;
	uint32_t x = model_find_stream(m, s->meeting_id, ssrc);
	if (x == MMR_ID_NONE)
		return;
	const struct m_stream *st = &m->streams[x];
	int tl = st->layers ? st->layers : 1, n = 0;
	int t = c->target >= 0 ? (c->target < tl ? c->target : tl - 1) : -1;
	if (st->group != MMR_ID_NONE) {
		int encs = (int)model_group_size(m, x), e = c->encoding >= 0 ? c->encoding : c->spatial;
		if (e >= 0)
			n += snprintf(out + n, cap - (size_t)n, " --encoding %d", e < encs ? e : encs - 1);
		if (t >= 0 && st->codec != MMR_CODEC_H264)
			snprintf(out + n, cap - (size_t)n, " --target %d", t);
	} else if (st->codec == MMR_CODEC_AV1) {
		int sl = st->spatial ? st->spatial : 1;
		int sp = c->spatial >= 0 ? (c->spatial < sl ? c->spatial : sl - 1) : sl - 1;
		int dt = c->dt >= 0 ? c->dt : (c->spatial >= 0 || t >= 0) ? sp * tl + (t >= 0 ? t : tl - 1) : -1;
		if (dt >= 0)
			snprintf(out, cap, " --dt %d", dt < sl * tl ? dt : sl * tl - 1);
	} else if (st->codec == MMR_CODEC_VP9) {
		int sl = st->spatial ? st->spatial : 1;
		if (c->spatial >= 0)
			n += snprintf(out + n, cap - (size_t)n, " --spatial %d", c->spatial < sl ? c->spatial : sl - 1);
		if (t >= 0)
			snprintf(out + n, cap - (size_t)n, " --target %d", t);
	} else if (st->codec == MMR_CODEC_VP8 && t >= 0) {
		snprintf(out, cap, " --target %d", t);
	}
}

static void slot_assign(struct join *j, struct join_session *s, unsigned k, const struct pub *p)
{
	char line[256], ceil[64];
	if (p) {
		ceiling_opts(j, s, k, p->ssrc, ceil, sizeof(ceil));
		snprintf(line, sizeof(line), "slot set %s %s --video %u --ssrc %u%s --json", s->meeting, s->name, k,
			 p->ssrc, ceil);
	} else {
		snprintf(line, sizeof(line), "slot set %s %s --video %u --none --json", s->meeting, s->name, k);
	}
	struct request req;
	j->c.slot_sets++;
	if (run_line(j, line, &req) < 0) {
		j->c.slot_set_errors++;
		if (!s->slot_error_logged)
			ctl_log("join: session %.8s...: slot set failed: %s (further failures not logged)", s->id,
				req.err);
		s->slot_error_logged = true;
	}
	request_free(&req);
	s->vpub[k] = p ? p->stream : MMR_ID_NONE;
	s->vpub_ssrc[k] = p ? p->ssrc : 0;
	char text[512];
	slot_event_text(j, s, k, text, sizeof(text));
	session_event(j, s, text);
}

static void policy_session(struct join *j, struct join_session *s, const struct pub *pubs, unsigned n,
			   uint32_t speaker)
{
	/* 1. publications gone */
	for (unsigned k = 0; k < s->n_vslots; k++) {
		if (s->vpub[k] == MMR_ID_NONE)
			continue;
		bool found = false;
		for (unsigned i = 0; i < n && !found; i++)
			found = pubs[i].stream == s->vpub[k] && pubs[i].ssrc == s->vpub_ssrc[k];
		if (!found)
			slot_assign(j, s, k, NULL);
	}
	/* 2. free slots filled in join order */
	for (unsigned i = 0; i < n; i++) {
		if (pubs[i].part == s->part_id)
			continue;
		bool on = false;
		int free_k = -1;
		for (unsigned k = 0; k < s->n_vslots; k++) {
			on |= s->vpub[k] == pubs[i].stream;
			if (free_k < 0 && s->vpub[k] == MMR_ID_NONE)
				free_k = (int)k;
		}
		if (on)
			continue;
		if (free_k < 0)
			break;
		slot_assign(j, s, (unsigned)free_k, &pubs[i]);
	}
	/* 3. the dominant speaker onto a slot when none of its publications is on one */
	if (speaker == MMR_ID_NONE || speaker == s->part_id || s->n_vslots == 0)
		return;
	const struct pub *sp = NULL;
	for (unsigned i = 0; i < n; i++) {
		if (pubs[i].part != speaker)
			continue;
		if (!sp)
			sp = &pubs[i];
		for (unsigned k = 0; k < s->n_vslots; k++)
			if (s->vpub[k] == pubs[i].stream)
				return;
	}
	if (!sp)
		return;
	const struct model *m = j->ctx->model;
	unsigned victim = 0;
	uint64_t oldest = UINT64_MAX;
	for (unsigned k = 0; k < s->n_vslots; k++) {
		uint32_t p = s->vpub[k] != MMR_ID_NONE ? m->streams[s->vpub[k]].participant : MMR_ID_NONE;
		uint64_t t = p == MMR_ID_NONE ? 0 : j->last_spoke[p];
		if (t <= oldest) {      /* ties: the later slot (the later joiner, as slots fill in order) */
			oldest = t;
			victim = k;
		}
	}
	slot_assign(j, s, victim, sp);
}

static void policy_meeting(struct join *j, uint32_t meeting)
{
	static struct pub pubs[1024];
	const struct model *m = j->ctx->model;
	if (meeting >= model_meeting_bound(m) || !m->meetings[meeting].used)
		return;
	unsigned n = meeting_pubs(m, meeting, pubs, 1024);
	uint32_t speaker = MMR_ID_NONE;
	events_speaker(&j->ctx->dp->ev, meeting, &speaker);
	for (unsigned i = 0; i < JOIN_MAX_SESSIONS; i++) {
		struct join_session *s = &j->s[i];
		if (s->used && s->meeting_id == meeting && s->n_vslots && session_alive(j, s))
			policy_session(j, s, pubs, n, speaker);
	}
}

/* ---- sessions ending ---------------------------------------------------------------------------- */

/* A session ends because its meeting went elsewhere (the zone placed it on another live host: this
 * host was gone from the zone and its meetings were moved, zone_failover.h): the `moved` event
 * (as events_elsewhere's, to the new host) into out, before `end`; "" otherwise. */
static void moved_away_text(const struct join *j, const struct join_session *s, char *out, size_t cap)
{
	const char *host, *url, *from;
	out[0] = '\0';
	if (!j->ctx->zone || model_find_meeting(j->ctx->model, s->meeting) != MMR_ID_NONE ||
	    zone_meeting_where(j->ctx->zone, s->meeting, &host, &url, &from) != ZONE_WHERE_ELSEWHERE)
		return;
	struct outbuf b;
	ob_init(&b);
	ob_puts(&b, "event: moved\ndata: {\"meeting\": ");
	ob_json_str(&b, s->meeting);
	ob_puts(&b, ", \"host\": ");
	ob_json_str(&b, host);
	ob_puts(&b, ", \"http_url\": ");
	ob_json_str(&b, url);
	ob_puts(&b, ", \"from\": ");
	ob_json_str(&b, from);
	ob_puts(&b, ", \"rejoin\": true}\n\n");
	snprintf(out, cap, "%s", b.oom ? "" : b.p);
	ob_free(&b);
}

static void session_end(struct join *j, struct join_session *s, const char *why)
{
	ctl_log("join: session %.8s... (%s in %s) ended: %s", s->id, s->name, s->meeting, why);
	j->c.sessions_ended++;
	char moved[800];
	moved_away_text(j, s, moved, sizeof(moved));
	for (struct join_stream *st = j->streams; st; st = st->next)
		if (st->s == s) {
			if (moved[0]) {
				stream_push(j, st, moved);
				j->ctx->zstats.rejoin_told++;
			}
			stream_push(j, st, "event: end\ndata: {}\n\n");
			st->ended = true;
			st->s = NULL;
			if (st->suspended && st->r) {
				st->suspended = false;
				MHD_resume_connection(st->r->conn);
				j->need_run = true;
			}
		}
	uint32_t meeting = s->meeting_id;
	session_clear(s);
	policy_meeting(j, meeting);
}

/* ---- the join ----------------------------------------------------------------------------------- */

/* The offer's receiving m-sections of a kind (recvonly or sendrecv, not rejected), at most
 * JOIN_MAX_SLOTS. */
static unsigned count_recv(const struct sdp_offer *o, uint8_t kind)
{
	unsigned n = 0;
	for (unsigned i = 0; i < o->n_media; i++) {
		const struct sdp_media *m = &o->m[i];
		if (m->kind == kind && (m->dir == SDP_RECVONLY || m->dir == SDP_SENDRECV) && !(m->port0 && !m->bundle_only))
			n++;
	}
	return n < JOIN_MAX_SLOTS ? n : JOIN_MAX_SLOTS;
}

/* Drop "--rtx X" from args (a participant that only publishes takes no RTX map). */
static void drop_rtx(char *args)
{
	char *p = strstr(args, " --rtx ");
	if (!p)
		return;
	char *end = p + 7;
	while (*end && *end != ' ')
		end++;
	memmove(p, end, strlen(end) + 1);
}

struct join_work {
	struct sdp_offer offer;
	struct sdp_result res;
	char answer[SDP_MAX_TEXT];
	char line[4096];
	char args[1024];
};

static enum MHD_Result do_join(struct join *j, struct http_req *r, enum endpoint ep, const char *meeting_name)
{
	struct ctl_ctx *ctx = j->ctx;
	const struct ctl_config *cfg = ctx->cfg;
	struct model *m = ctx->model;
	uint64_t now = mmr_now_ns();

	/* the source's rate first: before any work (a token check is work too) */
	char ipkey[RL_ADDR_KEY];
	rl_addr_key(&r->peer, ipkey, sizeof(ipkey));
	unsigned retry;
	char ra[16];
	if (rl_take(&j->rl_ip, ipkey, now, &retry) < 0) {
		j->c.join_rate_ip++;
		snprintf(ra, sizeof(ra), "%u", retry);
		struct http_hdr h[] = { { "Retry-After", ra }, { NULL, NULL } };
		const char *body = "{\"error\": \"too many joins from this address (rate limit)\"}\n";
		ctl_log("http %s: refused 429: joins from this address over the rate", r->who);
		snprintf(r->a_note, sizeof(r->a_note), "too many joins from this address");
		return http_reply(r, 429, "application/json", body, strlen(body), h);
	}
	struct token_claims cl;
	enum MHD_Result rc;
	if (http_authenticate(r, NULL, &cl, &rc) < 0) {
		j->c.join_refused++;
		return rc;
	}
	bool zone = cl.role == TOKEN_ROLE_ADMIN && strcmp(cl.meeting, "*") == 0;
	if (strcmp(cl.meeting, meeting_name) != 0 && !zone)
		return refuse(j, r, 403, "the token is for meeting '%s', not '%s'", cl.meeting, meeting_name);
	/* perm.h: /whip needs a publish permission, /whep receive; /join receive, and publish for
	 * what the offer sends (checked once it is parsed: a receive-only role's /join offer that
	 * sends media is refused, not answered recvonly) */
	bool may_send = perm_allows(cl.role, PERM_PUBLISH_AUDIO) || perm_allows(cl.role, PERM_PUBLISH_VIDEO);
	bool may_recv = perm_allows(cl.role, PERM_RECEIVE);
	if ((ep == EP_WHIP && !may_send) || (ep != EP_WHIP && !may_recv))
		return refuse(j, r, 403, "role '%s' may not use /%s (%s)", token_role_name(cl.role), ep_names[ep],
			      ep == EP_WHIP ? "publishing needs host, co-host, participant or publisher" :
			      "receiving needs host, co-host, participant or viewer");
	/* the meeting's passcode (passcode.h): not asked of roles that may set it (admin, host, co-host);
	 * wrong ones are limited per address, per identity and per meeting (peeked before, taken after a
	 * failure) */
	if (passcode_required(meeting_name) && !perm_allows(cl.role, PERM_PASSCODE)) {
		unsigned r1 = 0, r2 = 0, r3 = 0;
		char ikey[160];
		snprintf(ikey, sizeof(ikey), "%s/%s", meeting_name, cl.sub);
		if (rl_peek(&j->rl_pc_ip, ipkey, now, &r1) < 0 || rl_peek(&j->rl_pc_identity, ikey, now, &r3) < 0 ||
		    rl_peek(&j->rl_pc_meeting, meeting_name, now, &r2) < 0) {
			j->c.passcode_rate++;
			unsigned wait = r1 > r2 ? r1 : r2;
			snprintf(ra, sizeof(ra), "%u", wait > r3 ? wait : r3);
			struct http_hdr h[] = { { "Retry-After", ra }, { NULL, NULL } };
			const char *body = "{\"error\": \"too many wrong passcodes (from this address, this identity or "
					   "for this meeting): "
					   "try again after Retry-After seconds\"}\n";
			snprintf(r->a_note, sizeof(r->a_note), "too many wrong passcodes");
			ctl_log("http %s: refused 429: wrong passcodes for meeting %s over the rate", r->who, meeting_name);
			return http_reply(r, 429, "application/json", body, strlen(body), h);
		}
		const char *pc = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, JOIN_PASSCODE_HEADER);
		if (!passcode_check(meeting_name, pc, pc ? strlen(pc) : 0)) {
			rl_take(&j->rl_pc_ip, ipkey, now, &r1);
			rl_take(&j->rl_pc_identity, ikey, now, &r3);
			rl_take(&j->rl_pc_meeting, meeting_name, now, &r2);
			j->c.passcode_wrong++;
			return refuse(j, r, 403, pc ? "wrong passcode for meeting '%s'" :
					"meeting '%s' needs a passcode (header " JOIN_PASSCODE_HEADER ")", meeting_name);
		}
	}
	char tkey[160];
	snprintf(tkey, sizeof(tkey), "%s/%s", cl.meeting, cl.sub);
	if (rl_take(&j->rl_token, tkey, now, &retry) < 0) {
		j->c.join_rate_token++;
		snprintf(ra, sizeof(ra), "%u", retry);
		struct http_hdr h[] = { { "Retry-After", ra }, { NULL, NULL } };
		const char *body = "{\"error\": \"too many joins with this token's identity (rate limit)\"}\n";
		ctl_log("http %s: refused 429: joins of %s over the rate", r->who, tkey);
		snprintf(r->a_note, sizeof(r->a_note), "too many joins with this token's identity");
		return http_reply(r, 429, "application/json", body, strlen(body), h);
	}
	if (!http_content_type_is(r, "application/sdp"))
		return refuse(j, r, 415, "the offer must be Content-Type: application/sdp");
	if (!r->body_len)
		return refuse(j, r, 400, "no SDP offer in the body");
	uint32_t meeting = model_find_meeting(m, meeting_name);
	const char *zhost, *zurl = NULL, *zfrom;
	if (meeting == MMR_ID_NONE && zone_meeting_where(ctx->zone, meeting_name, &zhost, &zurl, &zfrom) == ZONE_WHERE_GONE) {
		/* its host left the zone: failover places it again (zone_failover.h) */
		struct http_hdr h[] = { { "Retry-After", "1" }, { NULL, NULL } };
		char body[300];
		snprintf(body, sizeof(body), "{\"error\": \"meeting '%.64s' was on host %.64s, which left the zone: it "
					     "is being placed again, try again\"}\n", meeting_name, zhost);
		return http_reply(r, 503, "application/json", body, strlen(body), h);
	}
	zurl = meeting == MMR_ID_NONE ? zone_meeting_elsewhere(ctx->zone, meeting_name, &zhost) : NULL;
	if (zurl && zurl[0]) {
		/* placed on another host of the zone (zone.h): the same join there (WHIP allows 307) */
		const char *path = strchr(r->a_what, ' ');
		char loc[600], body[400];
		snprintf(loc, sizeof(loc), "%s%s", zurl, path ? path + 1 : "/");
		snprintf(body, sizeof(body), "{\"error\": \"meeting '%.64s' is on host %.64s (%.200s): ask that host\"}\n",
			 meeting_name, zhost, zurl);
		struct http_hdr h[] = { { "Location", loc }, { NULL, NULL } };
		ctl_log("http %s: 307: meeting %s is on host %s", r->who, meeting_name, zhost);
		return http_reply(r, 307, "application/json", body, strlen(body), h);
	}
	if (meeting == MMR_ID_NONE)
		return refuse(j, r, 404, "no meeting '%.64s'", meeting_name);
	/* meeting controls (issue 15) */
	if (m->meetings[meeting].locked)
		return refuse(j, r, 403, "meeting '%s' is locked: no new joins", meeting_name);
	if (model_banned(m, meeting, cl.sub))
		return refuse(j, r, 403, "'%s' was ejected from meeting '%s' and may not join it again", cl.sub,
			      meeting_name);
	if (m->meetings[meeting].srtp_suite == SRTP_SUITE_NONE)
		return refuse(j, r, 409, "meeting '%s' is plain RTP: browsers join SRTP meetings only (DTLS-SRTP)",
			      meeting_name);
	struct join_session *s = NULL;
	for (unsigned i = 0; i < JOIN_MAX_SESSIONS && !s; i++)
		if (!j->s[i].used)
			s = &j->s[i];
	if (!s)
		return refuse(j, r, 503, "too many sessions (at most %d)", JOIN_MAX_SESSIONS);

	static struct join_work w;      /* ~80 KiB: off the stack; one request at a time */
	char why[400];
	if (sdp_parse_offer(r->body, r->body_len, &w.offer, why, sizeof(why)) < 0)
		return refuse(j, r, 400, "bad SDP offer: %s", why);
	if (ep == EP_JOIN) {
		for (unsigned i = 0; i < w.offer.n_media; i++) {
			const struct sdp_media *md = &w.offer.m[i];
			bool sends = (md->dir == SDP_SENDONLY || md->dir == SDP_SENDRECV) && !(md->port0 && !md->bundle_only);
			enum perm need = md->kind == SDP_KIND_AUDIO ? PERM_PUBLISH_AUDIO : PERM_PUBLISH_VIDEO;
			if (sends && (md->kind == SDP_KIND_AUDIO || md->kind == SDP_KIND_VIDEO) && !perm_allows(cl.role, need))
				return refuse(j, r, 403, "role '%s' may not send %s: the offer's m-section %u is %s (offer "
					      "recvonly m-sections, or use /whep)", token_role_name(cl.role),
					      md->kind == SDP_KIND_AUDIO ? "audio" : "video", i,
					      md->dir == SDP_SENDONLY ? "sendonly" : "sendrecv");
		}
	}
	if (!cfg->join_candidate[0])
		return refuse(j, r, 503, "joining is not configured (join_candidate in the controller's config)");
	char fp[SDP_FP_MAX];
	if (!dp_fingerprint(j, fp, sizeof(fp)))
		return refuse(j, r, 503, "the dataplane is not attached or has no DTLS certificate (no fingerprint "
					 "to answer with)");

	memset(s, 0, sizeof(*s));
	for (unsigned k = 0; k < JOIN_MAX_SLOTS; k++)
		s->vceil[k] = (struct slot_ceiling){ -1, -1, -1, -1 };
	if (random_hex(s->id, 16) < 0 || random_ice(s->ufrag, 16) < 0 || random_ice(s->pwd, 32) < 0) {
		session_clear(s);
		return refuse(j, r, 500, "the random generator failed");
	}
	snprintf(s->meeting, sizeof(s->meeting), "%.63s", meeting_name);
	snprintf(s->name, sizeof(s->name), "%s", cl.sub);
	s->meeting_id = meeting;
	s->ep = ep;
	s->speaker_told = MMR_ID_NONE;
	for (unsigned k = 0; k < JOIN_MAX_SLOTS; k++)
		s->vpub[k] = MMR_ID_NONE;
	snprintf(s->etag, sizeof(s->etag), "\"%.16s\"", s->ufrag);

	struct sdp_answer_cfg ac = {
		.ice_ufrag = s->ufrag, .ice_pwd = s->pwd, .fingerprint = fp, .cand_ip = cfg->join_cand_ip,
		.cand_port = cfg->join_cand_port, .cname = "mmr", .may_send = ep != EP_WHEP, .may_recv = ep != EP_WHIP,
	};
	uint64_t sid;
	if (getrandom(&sid, sizeof(sid), 0) != sizeof(sid)) {
		session_clear(s);
		return refuse(j, r, 500, "the random generator failed");
	}
	ac.session_id = sid >> 2;
	if (ep != EP_WHIP) {
		ac.n_video_slots = (uint8_t)count_recv(&w.offer, SDP_KIND_VIDEO);
		ac.n_audio_slots = (uint8_t)count_recv(&w.offer, SDP_KIND_AUDIO);
		uint32_t mine[3 * JOIN_MAX_SLOTS];
		unsigned nm = 0;
		for (unsigned k = 0; k < ac.n_video_slots; k++) {
			if (fresh_ssrc(j, meeting, mine, nm, &ac.video_ssrc[k]) < 0)
				goto rnd_fail;
			mine[nm++] = ac.video_ssrc[k];
			if (fresh_ssrc(j, meeting, mine, nm, &ac.video_rtx_ssrc[k]) < 0)
				goto rnd_fail;
			mine[nm++] = ac.video_rtx_ssrc[k];
		}
		for (unsigned k = 0; k < ac.n_audio_slots; k++) {
			if (fresh_ssrc(j, meeting, mine, nm, &ac.audio_ssrc[k]) < 0)
				goto rnd_fail;
			mine[nm++] = ac.audio_ssrc[k];
		}
	}
	int alen = sdp_answer(&w.offer, &ac, w.answer, sizeof(w.answer), &w.res, why, sizeof(why));
	if (alen < 0) {
		session_clear(s);
		return refuse(j, r, 400, "cannot answer the offer: %s", why);
	}
	snprintf(s->remote_ufrag, sizeof(s->remote_ufrag), "%s", w.res.remote_ufrag);
	/* the slots the answer used, with their mids */
	for (unsigned i = 0; i < w.res.n_media; i++) {
		const struct sdp_result_media *rm = &w.res.m[i];
		if (rm->accepted && !s->bundle_mid[0]) {
			snprintf(s->bundle_mid, sizeof(s->bundle_mid), "%s", rm->mid);
			snprintf(s->bundle_kind, sizeof(s->bundle_kind), "%s", rm->kind == SDP_KIND_VIDEO ? "video" : "audio");
		}
		if (!rm->accepted || !rm->receive || rm->slot < 0 || rm->slot >= JOIN_MAX_SLOTS)
			continue;
		if (rm->kind == SDP_KIND_VIDEO) {
			snprintf(s->vmid[rm->slot], SDP_TOKEN, "%s", rm->mid);
			s->vssrc[rm->slot] = rm->out_ssrc;
			s->vrtx[rm->slot] = rm->out_rtx_ssrc;
			if ((unsigned)rm->slot + 1 > s->n_vslots)
				s->n_vslots = (uint8_t)(rm->slot + 1);
		} else if (rm->kind == SDP_KIND_AUDIO) {
			snprintf(s->amid[rm->slot], SDP_TOKEN, "%s", rm->mid);
			s->assrc[rm->slot] = rm->out_ssrc;
			if ((unsigned)rm->slot + 1 > s->n_aslots)
				s->n_aslots = (uint8_t)(rm->slot + 1);
		}
	}
	bool publishes = false;
	for (unsigned i = 0; i < w.res.n_media; i++)
		publishes |= w.res.m[i].accepted && w.res.m[i].publish;
	bool receives = s->n_vslots || s->n_aslots;
	if (!publishes && !receives) {
		session_clear(s);
		return refuse(j, r, 400, "the offer has nothing to publish or receive here (%s)", w.res.m[0].reason[0] ?
			      w.res.m[0].reason : "every m-section inactive");
	}
	if (sdp_result_participant_args(&w.res, w.args, sizeof(w.args)) < 0) {
		session_clear(s);
		return refuse(j, r, 400, "the offer negotiates what the MMR cannot take (two ids for one header "
					 "extension, or one payload type with two RTX types)");
	}
	if (!receives)
		drop_rtx(w.args);

	/* the same identity joining again (a reload, a network change, a tab closed without DELETE):
	 * its earlier session and participant go, once the new offer has been answered (a bad offer
	 * leaves the old session as it was); a participant added by other means than a join stays
	 * (participant add then refuses the name: 409) */
	for (unsigned i = 0; i < JOIN_MAX_SESSIONS; i++) {
		struct join_session *old = &j->s[i];
		if (!old->used || !old->live || old->meeting_id != meeting || strcmp(old->name, cl.sub) != 0)
			continue;
		if (old->deleting) {
			session_clear(s);
			return refuse(j, r, 409, "the earlier session of '%s' is being ended (a DELETE is settling): "
				      "try again", cl.sub);
		}
		char line[200];
		struct request req;
		snprintf(line, sizeof(line), "participant remove %s %s --json", old->meeting, old->name);
		if (run_line(j, line, &req) < 0 && session_alive(j, old)) {
			char err[sizeof(req.err)];
			snprintf(err, sizeof(err), "%s", req.err);
			request_free(&req);
			session_clear(s);
			return refuse(j, r, (unsigned)http_status_of_error(err), "the earlier session of '%s' cannot end: %s",
				      cl.sub, err);
		}
		request_free(&req);
		j->c.sessions_replaced++;
		session_end(j, old, "replaced by a new join of the same identity");
	}
	/* the commands */
	struct request req, last;
	memset(&last, 0, sizeof(last));
	ob_init(&last.body);
	bool added = false;
	const char *role = publishes && receives ? "sendrecv" : publishes ? "sendonly" : "recvonly";
	if (s->n_aslots > m->meetings[meeting].top_n) {    /* top-N must cover the audio slots */
		snprintf(w.line, sizeof(w.line), "meeting set %s --top-n %u --json", meeting_name, s->n_aslots);
		if (run_line(j, w.line, &req) < 0)
			goto cmd_fail;
		request_free(&last);
		last = req;
	}
	int n = snprintf(w.line, sizeof(w.line), "participant add %s %s --ice %s:%s --dtls-fp %s --role %s %s",
			 meeting_name, s->name, s->ufrag, s->pwd, w.res.remote_fingerprint, role, w.args);
	if (s->n_vslots) {
		n += snprintf(w.line + n, sizeof(w.line) - (size_t)n, " --video-slots ");
		for (unsigned k = 0; k < s->n_vslots; k++) {
			n += snprintf(w.line + n, sizeof(w.line) - (size_t)n, "%s%u", k ? "," : "", s->vssrc[k]);
			if (s->vrtx[k])
				n += snprintf(w.line + n, sizeof(w.line) - (size_t)n, ":%u", s->vrtx[k]);
		}
	}
	if (s->n_aslots) {
		n += snprintf(w.line + n, sizeof(w.line) - (size_t)n, " --audio-slots ");
		for (unsigned k = 0; k < s->n_aslots; k++)
			n += snprintf(w.line + n, sizeof(w.line) - (size_t)n, "%s%u", k ? "," : "", s->assrc[k]);
	}
	snprintf(w.line + n, sizeof(w.line) - (size_t)n, " --json");
	if (run_line(j, w.line, &req) < 0)
		goto cmd_fail;
	added = true;
	s->part_id = model_find_participant(m, meeting, s->name);
	request_free(&last);
	last = req;
	/* a host's or co-host's token (perm.h: it may admit): the participant is a host (the host-only
	 * share policy and the self-unmute rule count it) and does not wait in the waiting room it
	 * would admit others from */
	if (perm_allows(cl.role, PERM_ADMIT) && s->part_id != MMR_ID_NONE) {
		snprintf(w.line, sizeof(w.line), "participant host %s %s on --json", meeting_name, s->name);
		if (run_line(j, w.line, &req) < 0)
			goto cmd_fail;
		request_free(&last);
		last = req;
		if (m->parts[s->part_id].waiting) {
			snprintf(w.line, sizeof(w.line), "participant admit %s %s --json", meeting_name, s->name);
			if (run_line(j, w.line, &req) < 0)
				goto cmd_fail;
			request_free(&last);
			last = req;
		}
	}
	for (unsigned i = 0; i < w.res.n_media; i++) {
		const struct sdp_result_media *rm = &w.res.m[i];
		if (!rm->accepted || !rm->publish || sdp_result_stream_args(rm, w.args, sizeof(w.args)) < 0)
			continue;
		if (rm->kind == SDP_KIND_VIDEO && rm->codec != MMR_CODEC_H264) {
			/* An offer says nothing of SVC (sdp.h): the stream is declared with the most a
			 * browser sends (VP9 and AV1 L3T3 with scalabilityMode, VP8 L1T3 per encoding);
			 * the selection follows what the packets carry, so fewer layers are fine. */
			size_t l = strlen(w.args);
			snprintf(w.args + l, sizeof(w.args) - l, "%s", rm->codec == MMR_CODEC_VP8 ? " --layers 3" :
				 " --layers 3 --spatial 3");
		}
		snprintf(w.line, sizeof(w.line), "stream add %s %s %s --json", meeting_name, s->name, w.args);
		if (run_line(j, w.line, &req) < 0)
			goto cmd_fail;
		request_free(&last);
		last = req;
	}
	explicit_bzero(w.line, sizeof(w.line));
	s->used = true;
	s->answer = malloc((size_t)alen);
	if (!s->answer) {
		memset(&req, 0, sizeof(req));
		ob_init(&req.body);
		req.failed = true;
		snprintf(req.err, sizeof(req.err), "out of memory keeping the answer");
		goto cmd_fail;
	}
	memcpy(s->answer, w.answer, (size_t)alen);
	s->answer_len = (size_t)alen;
	explicit_bzero(w.answer, sizeof(w.answer));
	/* slots for what is there already (the same batch) */
	policy_meeting(j, meeting);

	/* the request waits like the last command would */
	memset(&r->sl, 0, sizeof(r->sl));
	ob_init(&r->sl.req.body);
	r->sl.req.json = true;
	r->sl.req.mutating = true;
	r->sl.req.wait = last.wait;
	r->sl.req.offline = last.offline;
	r->sl.req.wait_seq = last.wait_seq;
	r->sl.req.attach_id = last.attach_id;
	r->sl.req.rejected_before = last.rejected_before;
	request_free(&last);
	snprintf(r->sl.what, sizeof(r->sl.what), "join %.63s %.63s (%s)", meeting_name, s->name, ep_names[ep]);
	if (state_store_pending(ctx->store)) {
		r->sl.state = SLOT_COMMIT;
	} else {
		r->sl.state = r->sl.req.wait ? SLOT_WAIT : SLOT_DONE;
		r->sl.deadline_ns = now + (uint64_t)cfg->apply_timeout_ms * 1000000ull;
	}
	r->started = true;
	r->kind = HTTP_REQ_JOIN;
	r->session = s;
	if (r->sl.state == SLOT_DONE)
		return join_resumed(j, r);
	MHD_suspend_connection(r->conn);
	r->suspended = true;
	return MHD_YES;

cmd_fail: {
	char err[sizeof(req.err)];
	snprintf(err, sizeof(err), "%s", req.err);
	request_free(&req);
	request_free(&last);
	explicit_bzero(w.line, sizeof(w.line));
	explicit_bzero(w.answer, sizeof(w.answer));
	if (added) {
		snprintf(w.line, sizeof(w.line), "participant remove %s %s --json", meeting_name, s->name);
		if (run_line(j, w.line, &req) < 0)
			ctl_log("join: rolling back %s in %s failed: %s", s->name, meeting_name, req.err);
		request_free(&req);
		j->c.join_rolled_back++;
	}
	session_clear(s);
	j->c.join_refused++;
	int st = http_status_of_error(err);
	return http_reply_error(r, (unsigned)st, "%s", err);
}
rnd_fail:
	session_clear(s);
	return refuse(j, r, 500, "the random generator failed (no SSRC for a receive slot)");
}

enum MHD_Result join_resumed(struct join *j, struct http_req *r)
{
	struct join_session *s = r->session;
	r->session = NULL;
	r->kind = HTTP_REQ_API;
	if (!s || !s->used)
		return http_reply_error(r, 500, "the session went while it was being made");
	if (r->sl.req.failed) {
		/* the batch could not be made durable: the model was reloaded, nothing of it is there */
		char err[sizeof(r->sl.req.err)];
		snprintf(err, sizeof(err), "%s", r->sl.req.err);
		session_clear(s);
		j->c.join_refused++;
		return http_reply_error(r, 500, "%s", err);
	}
	s->live = true;
	j->c.joins++;
	char loc[64], link[160];
	snprintf(loc, sizeof(loc), "/v1/sessions/%s", s->id);
	snprintf(link, sizeof(link), "</v1/sessions/%s/events>; rel=\"urn:mmr:events\"", s->id);
	struct http_hdr h[] = { { "Location", loc }, { "ETag", s->etag }, { "Link", link }, { NULL, NULL } };
	ctl_log("http %s: %s -> 201 session %.8s...%s", r->who, r->sl.what, s->id,
		r->sl.how == APPLY_DONE ? "" : " (not applied yet)");
	enum MHD_Result rc = http_reply(r, 201, "application/sdp", s->answer, s->answer_len, h);
	explicit_bzero(s->answer, s->answer_len);
	free(s->answer);
	s->answer = NULL;
	s->answer_len = 0;
	return rc;
}

void join_delete_settled(struct join *j, struct http_req *r)
{
	struct join_session *s = r->session;
	r->session = NULL;
	r->kind = HTTP_REQ_API;
	if (!j || !s || !s->used || !s->deleting)
		return;
	s->deleting = false;
	if (!r->sl.req.failed) {
		session_end(j, s, "DELETE");
		return;
	}
	/* nothing changed (a refused remove, or a batch that could not be made durable: the model was
	 * reloaded): the participant is still there, so is its session */
	size_t n = strlen(r->sl.req.err);
	snprintf(r->sl.req.err + n, sizeof(r->sl.req.err) - n, "; session %.8s... not ended", s->id);
	ctl_log("join: session %.8s... (%s in %s): DELETE failed, the session stays: %s", s->id, s->name, s->meeting,
		r->sl.req.err);
	if (!session_alive(j, s))
		session_end(j, s, "its participant was removed");
}

void join_req_gone(struct join *j, struct http_req *r)
{
	if (!j)
		return;
	if (r->kind == HTTP_REQ_DELETE && r->session && r->session->used)
		r->session->deleting = false;   /* join_service ends it if its participant went */
	if (r->kind == HTTP_REQ_JOIN && r->session && r->session->used && !r->session->live) {
		/* the client went before its answer: nobody can use the participant */
		struct join_session *s = r->session;
		if (session_alive(j, s)) {
			char line[200];
			struct request req;
			snprintf(line, sizeof(line), "participant remove %s %s --json", s->meeting, s->name);
			if (run_line(j, line, &req) == 0)
				j->c.join_rolled_back++;
			request_free(&req);
		}
		session_clear(s);
	}
	if (r->kind == HTTP_REQ_EVENTS && r->stream) {
		struct join_stream *st = r->stream;
		stream_unlink(j, st);
		st->r = NULL;
		if (st->resp_freed) {
			ob_free(&st->buf);
			free(st);
		}
	}
	r->session = NULL;
	r->stream = NULL;
}

/* ---- PATCH (RFC 8840 fragments), DELETE, events ----------------------------------------------- */

/* The token may act on session s: its own identity in its meeting, or an admin of the meeting. */
static bool token_owns(const struct token_claims *cl, const struct join_session *s)
{
	if (perm_allows(cl->role, PERM_MANAGE))
		return strcmp(cl->meeting, "*") == 0 || strcmp(cl->meeting, s->meeting) == 0;
	return strcmp(cl->meeting, s->meeting) == 0 && strcmp(cl->sub, s->name) == 0;
}

static enum MHD_Result do_patch(struct join *j, struct http_req *r, struct join_session *s)
{
	if (!http_content_type_is(r, "application/trickle-ice-sdpfrag"))
		return http_reply_error(r, 415, "PATCH takes Content-Type: application/trickle-ice-sdpfrag (RFC 8840)");
	const char *im = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "If-Match");
	if (im && strcmp(im, "*") != 0 && strcmp(im, s->etag) != 0)
		return http_reply_error(r, 412, "If-Match %.60s is not the session's ETag (an ICE restart since?)", im);
	char ufrag[SDP_ICE_MAX] = "", pwd[SDP_ICE_MAX] = "";
	unsigned cands = 0;     /* counted, not used: ICE-lite learns the address from the checks */
	const char *p = r->body, *end = r->body + r->body_len;
	unsigned lineno = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		lineno++;
		char line[SDP_MAX_LINE + 1];
		size_t ln = n && p[n - 1] == '\r' ? n - 1 : n;
		if (ln > SDP_MAX_LINE) {
			explicit_bzero(pwd, sizeof(pwd));
			return http_reply_error(r, 400, "line %u: too long", lineno);
		}
		memcpy(line, p, ln);
		line[ln] = '\0';
		p += n + (nl ? 1 : 0);
		if (!ln)
			continue;
		if (ln < 2 || line[1] != '=' || !strchr("amc", line[0])) {
			explicit_bzero(pwd, sizeof(pwd));
			return http_reply_error(r, 400, "line %u: not a trickle-ice-sdpfrag line (a=, m=, c=)", lineno);
		}
		char *dst = NULL;
		size_t skip = 0;
		if (strncmp(line, "a=ice-ufrag:", 12) == 0)
			dst = ufrag, skip = 12;
		else if (strncmp(line, "a=ice-pwd:", 10) == 0)
			dst = pwd, skip = 10;
		else if (strncmp(line, "a=candidate:", 12) == 0)
			cands++;
		if (dst) {
			size_t vl = ln - skip;
			if (vl == 0 || vl >= SDP_ICE_MAX) {
				explicit_bzero(line, sizeof(line));
				explicit_bzero(pwd, sizeof(pwd));
				return http_reply_error(r, 400, "line %u: bad ICE ufrag or pwd length", lineno);
			}
			memcpy(dst, line + skip, vl);
			dst[vl] = '\0';
		}
		explicit_bzero(line, sizeof(line));
	}
	if (!ufrag[0] != !pwd[0]) {
		explicit_bzero(pwd, sizeof(pwd));
		return http_reply_error(r, 400, "a fragment has both a=ice-ufrag and a=ice-pwd or neither");
	}
	if (!ufrag[0] || strcmp(ufrag, s->remote_ufrag) == 0) {
		/* trickle: an ICE-lite agent needs no remote candidates (the checks tell it the address) */
		explicit_bzero(pwd, sizeof(pwd));
		(void)cands;
		j->c.trickles++;
		struct http_hdr h[] = { { "ETag", s->etag }, { NULL, NULL } };
		return http_reply(r, 204, "", "", 0, h);
	}
	explicit_bzero(pwd, sizeof(pwd));
	/* ICE restart: new credentials of ours */
	char nu[17], np[33], line[256];
	if (random_ice(nu, 16) < 0 || random_ice(np, 32) < 0)
		return http_reply_error(r, 500, "the random generator failed");
	snprintf(line, sizeof(line), "participant set %s %s --ice %s:%s --json", s->meeting, s->name, nu, np);
	struct request req;
	if (run_line(j, line, &req) < 0) {
		char err[sizeof(req.err)];
		snprintf(err, sizeof(err), "%s", req.err);
		request_free(&req);
		explicit_bzero(np, sizeof(np));
		return http_reply_error(r, (unsigned)http_status_of_error(err), "%s", err);
	}
	request_free(&req);
	memcpy(s->ufrag, nu, sizeof(s->ufrag));
	memcpy(s->pwd, np, sizeof(s->pwd));
	memcpy(s->remote_ufrag, ufrag, sizeof(s->remote_ufrag));
	snprintf(s->etag, sizeof(s->etag), "\"%s\"", nu);
	j->c.ice_restarts++;
	const struct ctl_config *cfg = j->ctx->cfg;
	struct outbuf b;
	ob_init(&b);
	ob_printf(&b, "a=ice-lite\r\na=ice-ufrag:%s\r\na=ice-pwd:%s\r\nm=%s 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:%s\r\n"
		  "a=candidate:1 1 udp 2130706431 %s %u typ host\r\na=end-of-candidates\r\n", s->ufrag, s->pwd,
		  s->bundle_kind[0] ? s->bundle_kind : "audio", s->bundle_mid, cfg->join_cand_ip, cfg->join_cand_port);
	explicit_bzero(np, sizeof(np));
	ctl_log("http %s: ICE restart of session %.8s... (%s in %s)", r->who, s->id, s->name, s->meeting);
	struct http_hdr h[] = { { "ETag", s->etag }, { NULL, NULL } };
	enum MHD_Result rc = b.oom ? MHD_NO : http_reply(r, 200, "application/trickle-ice-sdpfrag", b.p, b.len, h);
	if (b.p)
		explicit_bzero(b.p, b.len);
	ob_free(&b);
	return rc;
}

static enum MHD_Result list_sessions(struct join *j, struct http_req *r)
{
	struct outbuf b;
	ob_init(&b);
	ob_puts(&b, "{\"sessions\": [");
	bool first = true;
	for (unsigned i = 0; i < JOIN_MAX_SESSIONS; i++) {
		const struct join_session *s = &j->s[i];
		if (!s->used || !s->live)
			continue;
		ob_printf(&b, "%s{\"id\": \"%s\", \"meeting\": ", first ? "" : ", ", s->id);
		ob_json_str(&b, s->meeting);
		ob_puts(&b, ", \"participant\": ");
		ob_json_str(&b, s->name);
		ob_printf(&b, ", \"endpoint\": \"%s\", \"video_slots\": %u, \"audio_slots\": %u}", ep_names[s->ep],
			  s->n_vslots, s->n_aslots);
		first = false;
	}
	ob_printf(&b, "], \"event_streams\": %u, \"counters\": {", j->n_streams);
	first = true;
#define J_PRINT(n, s, d) ob_printf(&b, "%s\"%s\": %llu", first ? "" : ", ", s, (unsigned long long)j->c.n), first = false;
	foreach_join_counter(J_PRINT)
#undef J_PRINT
	ob_puts(&b, "}}\n");
	enum MHD_Result rc = b.oom ? MHD_NO : http_reply(r, 200, "application/json", b.p, b.len, NULL);
	ob_free(&b);
	return rc;
}

/* PATCH /v1/sessions/ID/slots/video/K, JSON {"spatial", "target", "dt", "encoding"}: the receiver's
 * ceiling on its video slot K, kept with the session (every later `slot set` of the slot carries
 * it) and applied now when a publisher is on the slot. */
static enum MHD_Result do_ceiling(struct join *j, struct http_req *r, struct join_session *s, unsigned k)
{
	if (k >= s->n_vslots)
		return http_reply_error(r, 404, "no video slot %u (the session has %u)", k, s->n_vslots);
	if (!http_content_type_is(r, "application/json"))
		return http_reply_error(r, 415, "the body must be JSON (Content-Type: application/json)");
	json_error_t je;
	json_t *body = json_loadb(r->body ? r->body : "", r->body_len, JSON_REJECT_DUPLICATES, &je);
	if (!body || !json_is_object(body)) {
		json_decref(body);
		return http_reply_error(r, 400, "the body must be a JSON object (spatial, target, dt, encoding)");
	}
	static const char *const fields[] = { "spatial", "target", "dt", "encoding" };
	struct slot_ceiling c = { -1, -1, -1, -1 };
	int16_t *slot_of[4] = { &c.spatial, &c.target, &c.dt, &c.encoding };
	const char *key;
	json_t *v;
	json_object_foreach(body, key, v) {
		int f = -1;
		for (int i = 0; i < 4; i++)
			if (strcmp(key, fields[i]) == 0)
				f = i;
		if (f >= 0 && json_is_null(v))
			continue;                               /* null: no ceiling of that kind */
		if (f >= 0 && (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 31))
			f = -2;
		if (f < 0) {
			char kb[48];
			snprintf(kb, sizeof(kb), "%s", key);   /* key is the body's: copied before it is freed */
			json_decref(body);
			return http_reply_error(r, 400, f == -1 ? "unknown field '%.40s' (spatial, target, dt, encoding)" :
							"field '%.40s' must be an integer 0-31 or null", kb);
		}
		*slot_of[f] = (int16_t)json_integer_value(v);
	}
	json_decref(body);
	struct slot_ceiling old = s->vceil[k];
	s->vceil[k] = c;
	/* the slots brought up to date first: the SSRC a slot was set with may have changed since (a
	 * simulcast group's learned SSRCs replace its stand-ins; a publisher left); a slot assigned
	 * now carries the new ceiling already */
	policy_meeting(j, s->meeting_id);
	if (s->vpub[k] != MMR_ID_NONE) {
		char line[256], opts[64];
		struct request req;
		ceiling_opts(j, s, k, s->vpub_ssrc[k], opts, sizeof(opts));
		snprintf(line, sizeof(line), "slot set %s %s --video %u --ssrc %u%s --json", s->meeting, s->name, k,
			 s->vpub_ssrc[k], opts);
		if (run_line(j, line, &req) < 0) {
			char err[sizeof(req.err)];
			snprintf(err, sizeof(err), "%s", req.err);
			request_free(&req);
			s->vceil[k] = old;
			return http_reply_error(r, (unsigned)http_status_of_error(err), "%s", err);
		}
		request_free(&req);
	}
	char reply[160];
	int n = snprintf(reply, sizeof(reply), "{\"slot\": %u, \"applied_now\": %s}\n", k,
			 s->vpub[k] != MMR_ID_NONE ? "true" : "false");
	return http_reply(r, 200, "application/json", reply, (size_t)n, NULL);
}

/* POST /v1/sessions/ID/mute|unmute, JSON {"kinds": ["audio", ...]} (absent: all): the participant
 * mutes or unmutes itself (requests.h ctl_participant_self_mute: a self-unmute of what a host muted
 * is refused with 403 while the meeting forbids self-unmute, unless a host asked it to unmute). A
 * token that may mute others acts as a host does. */
static enum MHD_Result do_self_mute(struct join *j, struct http_req *r, struct join_session *s,
				    const struct token_claims *cl, bool mute)
{
	char kinds[64] = "";
	if (r->body_len) {
		if (!http_content_type_is(r, "application/json"))
			return http_reply_error(r, 415, "the body must be JSON (Content-Type: application/json)");
		json_error_t je;
		json_t *body = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &je);
		const char *key;
		json_t *v, *e;
		size_t i;
		bool bad = !body || !json_is_object(body);
		if (!bad)
		json_object_foreach(body, key, v) {
			if (strcmp(key, "kinds") != 0 || !json_is_array(v) || json_array_size(v) == 0 ||
			    json_array_size(v) > 4) {
				bad = true;
				break;
			}
			json_array_foreach(v, i, e) {
				const char *k = json_string_value(e);
				if (!k || strlen(k) > 8) {
					bad = true;
					break;
				}
				size_t l = strlen(kinds);
				snprintf(kinds + l, sizeof(kinds) - l, "%s%s", l ? "," : "", k);
			}
		}
		json_decref(body);
		if (bad)
			return http_reply_error(r, 400, "the body must be a JSON object {\"kinds\": [\"audio\", \"video\", "
							"\"screen\"]} (a non-empty array; absent: all)");
	}
	if (!kinds[0])
		snprintf(kinds, sizeof(kinds), "all");
	if (strspn(kinds, "abcdefghijklmnopqrstuvwxyz,") != strlen(kinds))
		return http_reply_error(r, 400, "bad kinds '%s' (audio, video, screen or all)", kinds);
	bool as_host = perm_allows(cl->role, PERM_MUTE_OTHERS);
	char line[256];
	snprintf(line, sizeof(line), "participant %s %s %s %s --json",
		 as_host ? (mute ? "mute" : "unmute") : (mute ? "self-mute" : "self-unmute"), s->meeting, s->name, kinds);
	struct request req;
	if (run_line(j, line, &req) < 0) {
		char err[sizeof(req.err)];
		snprintf(err, sizeof(err), "%s", req.err);
		request_free(&req);
		return http_reply_error(r, (unsigned)http_status_of_error(err), "%s", err);
	}
	request_free(&req);
	const struct m_participant *pp = &j->ctx->model->parts[s->part_id];
	char reply[200];
	int n = snprintf(reply, sizeof(reply), "{\"muted\": [%s%s%s%s%s]}\n",
			 pp->mute & MMR_BLOCK_AUDIO ? "\"audio\"" : "",
			 pp->mute & MMR_BLOCK_AUDIO && pp->mute & (MMR_BLOCK_VIDEO | MMR_BLOCK_SCREEN) ? ", " : "",
			 pp->mute & MMR_BLOCK_VIDEO ? "\"video\"" : "",
			 pp->mute & MMR_BLOCK_VIDEO && pp->mute & MMR_BLOCK_SCREEN ? ", " : "",
			 pp->mute & MMR_BLOCK_SCREEN ? "\"screen\"" : "");
	return http_reply(r, 200, "application/json", reply, (size_t)n, NULL);
}

/* The event stream of a session this host does not know, in a zone, for a token of one meeting
 * (failover, zone_failover.h: its session was on a host that left the zone): the meeting on another
 * live host: 307 there (the same path, the token kept); moved here by failover: one `moved` event
 * telling the client to join again here; its host gone (failover pending): 503, Retry-After 1.
 * -1: none of these (the usual 404). */
static int events_elsewhere(struct join *j, struct http_req *r, const struct token_claims *cl, const char *url,
			    const char *qtok, enum MHD_Result *rc)
{
	const char *host, *hurl, *from;
	if (!j->ctx->zone || strcmp(cl->meeting, "*") == 0)
		return -1;
	int w = zone_meeting_where(j->ctx->zone, cl->meeting, &host, &hurl, &from);
	if (w == ZONE_WHERE_ELSEWHERE && hurl[0]) {
		char loc[2600];
		snprintf(loc, sizeof(loc), "%s%s%s%s", hurl, url, qtok ? "?access_token=" : "", qtok ? qtok : "");
		struct http_hdr h[] = { { "Location", loc }, { NULL, NULL } };
		char body[400];
		snprintf(body, sizeof(body), "{\"error\": \"meeting '%.64s' is on host %.64s (%.200s): ask that host\"}\n",
			 cl->meeting, host, hurl);
		j->ctx->zstats.redirects++;
		ctl_log("http %s: 307: events of a session of meeting %s: the meeting is on host %s", r->who, cl->meeting,
			host);
		*rc = http_reply(r, 307, "application/json", body, strlen(body), h);
		return 0;
	}
	if (w == ZONE_WHERE_GONE) {
		struct http_hdr h[] = { { "Retry-After", "1" }, { NULL, NULL } };
		char body[300];
		snprintf(body, sizeof(body), "{\"error\": \"meeting '%.64s' was on host %.64s, which left the zone: it "
					     "is being placed again, try again\"}\n", cl->meeting, host);
		*rc = http_reply(r, 503, "application/json", body, strlen(body), h);
		return 0;
	}
	if (w != ZONE_WHERE_HERE || !from[0] || model_find_meeting(j->ctx->model, cl->meeting) == MMR_ID_NONE)
		return -1;
	struct outbuf b;
	ob_init(&b);
	ob_puts(&b, "retry: 3000\n\nevent: moved\ndata: {\"meeting\": ");
	ob_json_str(&b, cl->meeting);
	ob_puts(&b, ", \"host\": ");
	ob_json_str(&b, j->ctx->cfg->zone.host);
	ob_puts(&b, ", \"http_url\": ");
	ob_json_str(&b, j->ctx->cfg->zone.http_url);
	ob_puts(&b, ", \"from\": ");
	ob_json_str(&b, from);
	ob_puts(&b, ", \"rejoin\": true}\n\n");
	if (b.oom) {
		ob_free(&b);
		return -1;
	}
	j->ctx->zstats.rejoin_told++;
	ctl_log("http %s: events of a session of meeting %s (moved here from host %s): told to join again", r->who,
		cl->meeting, from);
	struct http_hdr h[] = { { "Cache-Control", "no-store" }, { NULL, NULL } };
	*rc = http_reply(r, 200, "text/event-stream", b.p, b.len, h);
	ob_free(&b);
	return 0;
}

enum MHD_Result join_handle(struct join *j, struct http_req *r, const char *url, const char *method)
{
	char name[96];
	enum endpoint ep;
	bool events;
	if (parse_join_url(url, &ep, name, sizeof(name))) {
		if (strcmp(method, "POST") != 0)
			return method_not_allowed(r, url, method);
		return do_join(j, r, ep, name);
	}
	struct token_claims cl;
	enum MHD_Result rc;
	if (strcmp(url, "/v1/sessions") == 0) {
		if (strcmp(method, "GET") != 0)
			return method_not_allowed(r, url, method);
		if (http_authenticate(r, NULL, &cl, &rc) < 0)
			return rc;
		if (!perm_allows(cl.role, PERM_OPERATE) || strcmp(cl.meeting, "*") != 0)
			return http_reply_error(r, 403, "the session list needs an admin token for every meeting");
		return list_sessions(j, r);
	}
	unsigned slot_k;
	if (parse_slot_url(url, name, &slot_k)) {
		if (strcmp(method, "PATCH") != 0)
			return method_not_allowed(r, url, method);
		if (http_authenticate(r, NULL, &cl, &rc) < 0)
			return rc;
		struct join_session *s = session_by_id(j, name);
		if (!s || !s->live || !session_alive(j, s) || !token_owns(&cl, s))
			return http_reply_error(r, 404, "no session %.40s", name);
		return do_ceiling(j, r, s, slot_k);
	}
	bool mute;
	if (parse_mute_url(url, name, &mute)) {
		if (strcmp(method, "POST") != 0)
			return method_not_allowed(r, url, method);
		if (http_authenticate(r, NULL, &cl, &rc) < 0)
			return rc;
		struct join_session *s = session_by_id(j, name);
		if (!s || !s->live || s->deleting || !session_alive(j, s) || !token_owns(&cl, s))
			return http_reply_error(r, 404, "no session %.40s", name);
		return do_self_mute(j, r, s, &cl, mute);
	}
	if (!parse_session_url(url, name, &events))
		return http_reply_error(r, 404, "no such resource: %.200s", url);
	if (events ? strcmp(method, "GET") != 0 : strcmp(method, "PATCH") != 0 && strcmp(method, "DELETE") != 0)
		return method_not_allowed(r, url, method);
	/* EventSource cannot set headers: the events route takes the token as ?access_token= too */
	const char *qtok = events ? MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "access_token") : NULL;
	if (http_authenticate(r, qtok, &cl, &rc) < 0)
		return rc;
	struct join_session *s = session_by_id(j, name);
	if (s && s->live && !s->deleting && !session_alive(j, s)) {
		session_end(j, s, "its participant was removed");
		s = NULL;
	}
	if (events && (!s || !s->live) && events_elsewhere(j, r, &cl, url, qtok, &rc) == 0)
		return rc;
	if (!s || !s->live || !token_owns(&cl, s))
		return http_reply_error(r, 404, "no session %.40s", name);
	if (s->deleting)
		return http_reply_error(r, 409, "session %.8s... is being ended (a DELETE is settling)", s->id);
	if (events)
		return events_open(j, r, s);
	if (strcmp(method, "PATCH") == 0)
		return do_patch(j, r, s);
	/* DELETE: the participant goes (through the same command as everywhere); the session ends once
	 * that has settled, and only if it did not fail (join_delete_settled) */
	char line[200];
	snprintf(line, sizeof(line), "participant remove %s %s --json", s->meeting, s->name);
	char *argv[8];
	int argc = split_line(line, argv, 8);
	slot_run(j->ctx, &r->sl, argc, argv, mmr_now_ns());
	r->started = true;
	r->kind = HTTP_REQ_DELETE;
	r->session = s;
	s->deleting = true;
	if (r->sl.state == SLOT_DONE) {
		join_delete_settled(j, r);
		bool failed = r->sl.req.failed;
		return failed ? http_reply_error(r, (unsigned)http_status_of_error(r->sl.req.err), "%s", r->sl.req.err) :
				http_reply(r, 200, "application/json", "{}\n", 3, NULL);
	}
	MHD_suspend_connection(r->conn);
	r->suspended = true;
	return MHD_YES;
}

/* ---- every round --------------------------------------------------------------------------------- */

void join_service(struct join *j, uint64_t now)
{
	if (!j)
		return;
	struct ctl_ctx *ctx = j->ctx;
	/* sessions whose participant went (mmrctl, the REST API, the meeting ended) */
	for (unsigned i = 0; i < JOIN_MAX_SESSIONS; i++) {
		struct join_session *s = &j->s[i];
		if (s->used && s->live && !s->deleting && !session_alive(j, s))
			session_end(j, s, "its participant was removed");
	}
	/* dominant speaker changes */
	for (unsigned i = 0; i < JOIN_MAX_SESSIONS; i++) {
		struct join_session *s = &j->s[i];
		uint32_t sp = MMR_ID_NONE;
		if (!s->used || !s->live || !events_speaker(&ctx->dp->ev, s->meeting_id, &sp) || sp == s->speaker_told)
			continue;
		if (sp != MMR_ID_NONE && sp < MMR_MAX_PARTICIPANTS)
			j->last_spoke[sp] = now;
		s->speaker_told = sp;
		char text[256];
		speaker_event_text(j, sp, text, sizeof(text));
		session_event(j, s, text);
		if (s->n_vslots)
			policy_meeting(j, s->meeting_id);
	}
	/* the slot policy, for what changed around it (streams, learned SSRCs) */
	if (now >= j->next_policy_ns) {
		j->next_policy_ns = now + JOIN_POLICY_NS;
		for (unsigned i = 0; i < JOIN_MAX_SESSIONS; i++) {
			struct join_session *s = &j->s[i];
			bool first = true;
			for (unsigned k = 0; k < i && first; k++)
				first = !(j->s[k].used && j->s[k].live && j->s[k].n_vslots && j->s[k].meeting_id == s->meeting_id);
			if (s->used && s->live && s->n_vslots && first)
				policy_meeting(j, s->meeting_id);
		}
	}
	/* keep-alives */
	for (struct join_stream *st = j->streams; st; st = st->next)
		if (now >= st->last_ns + JOIN_KEEPALIVE_NS) {   /* last_ns may be later than now */
			st->last_ns = now;
			stream_push(j, st, ": keep-alive\n\n");
		}
	if (j->need_run) {
		j->need_run = false;
		MHD_run(j->hs->d);
	}
}

void join_stop_streams(struct join *j)
{
	if (!j)
		return;
	for (struct join_stream *st = j->streams; st; st = st->next) {
		st->ended = true;
		if (st->suspended && st->r) {
			st->suspended = false;
			MHD_resume_connection(st->r->conn);
		}
	}
}
