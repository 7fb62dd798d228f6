/*
 * controller.c - mmr-controller: holds the zone's meetings, participants, streams and
 * subscriptions (model.h), keeps them on disk (state_file.h), programs the dataplane through
 * shared memory (dp_link.h), and serves mmrctl on a Unix socket (ctl_proto.h, requests.h).
 *
 * One thread, one poll() loop. A connection carries requests in sequence, pipelined (the next may
 * come before the previous answer): read frames (bounded size, bounded time), check the peer
 * (SO_PEERCRED: root, our own uid, or a member of admin_group), run each as soon as it is whole. At
 * MAX_CONNS open, a new connection replaces the one waiting on its client that was heard from
 * least recently (a refused peer's first): idle clients cannot keep mmrctl out.
 * A change goes into the store's batch (state_store.h); at the end of the loop iteration the
 * batch is made durable with one fdatasync for all of them (group commit), and only then do their
 * dataplane commands go; each then waits (without blocking the loop) until the dataplane's ring
 * head passes its last command or apply_timeout_ms runs out. Answers go back in request order. A
 * read waits for the changes run before it to be committed. A client that sends garbage gets an
 * error reply and is closed; one that vanishes is dropped. SIGINT/SIGTERM stop the loop cleanly;
 * every acknowledged change is on disk. SIGHUP rereads the config file's log_level and
 * metrics_public (a bad file is logged and changes nothing; it never exits).
 *
 * The HTTP API (http_server.h, off unless configured) runs in the same loop: libmicrohttpd in its
 * external-epoll mode, its epoll fd polled with ours, its requests held in the same slots (slot.h)
 * and committed with the same batches; one waiting for the dataplane is a suspended connection.
 *
 *   mmr-controller -c FILE [--take-over] [--wipe-dataplane]
 *
 * --take-over: take the dataplane over even from a controller whose heartbeat is fresh (without it,
 * we wait as a standby until that heartbeat is stale); --wipe-dataplane: replay our state even onto
 * tables built from another controller state, deleting what ours does not hold (dp_link.h). Both
 * act once, at the first attach.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "audit.h"
#include "cmd_chan.h"
#include "config.h"
#include "controller.h"
#include "ctl_proto.h"
#include "dp_link.h"
#include "log.h"
#include "model.h"
#include "no_core_dump.h"
#include "passcode.h"
#include "requests.h"
#include "slot.h"
#include "http_server.h"
#include "state_file.h"
#include "version.h"
#include "zone.h"

#define MAX_CONNS        64
#define CONN_QUEUE       64               /* requests in flight on one connection (pipelined) */
#define READ_TIMEOUT_NS  5000000000ull    /* a request, once begun, must arrive whole within 5 s */
#define IDLE_TIMEOUT_NS  300000000000ull  /* a connection with nothing to do for 5 min is closed */
#define WRITE_TIMEOUT_NS 30000000000ull   /* a reader that takes nothing for 30 s is dropped */
#define WAIT_POLL_NS     50000ull         /* while a request waits for the dataplane */

struct conn {
	int fd;
	bool allowed;
	bool eof;                       /* the client closed its side: finish what it sent, then close */
	bool closing;                   /* a framing error: answer it, then close */
	uint32_t uid;
	uint8_t *in;                    /* bytes read, not yet taken as requests */
	size_t in_len, in_cap;
	struct slot q[CONN_QUEUE];      /* in arrival order: answers go out in that order */
	unsigned q_head, q_len;
	struct outbuf out;              /* response frames */
	size_t out_off;
	uint64_t read_deadline_ns;      /* part of a request is here: the rest by then (0: none) */
	uint64_t idle_deadline_ns;
	uint64_t write_deadline_ns;
	uint64_t last_ns;               /* accepted, or last read something */
};

static volatile sig_atomic_t stop_signal, reload_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void on_hup(int sig)
{
	(void)sig;
	reload_signal = 1;
}

/* SIGHUP: read the config file again and take its log_level and metrics_public; everything else
 * needs a restart (said so when it differs). A bad file is logged and changes nothing. */
static void reload_config(const char *conf, struct ctl_config *cfg)
{
	static struct ctl_config n;
	char err[1024];
	if (ctl_config_load(conf, &n, err, sizeof(err)) < 0) {
		ctl_logl(CTL_LOG_ERROR, "SIGHUP: %s: nothing reloaded", err);
		return;
	}
	bool other = strcmp(n.socket, cfg->socket) != 0 || strcmp(n.state_file, cfg->state_file) != 0 ||
		     strcmp(n.shm_name, cfg->shm_name) != 0 || strcmp(n.http_listen, cfg->http_listen) != 0 ||
		     n.log_target != cfg->log_target;
	/* said before the new level applies, so that raising it still shows this line */
	ctl_logl(CTL_LOG_WARNING, "SIGHUP: reloaded %s: log level %s (was %s), metrics_public %s%s", conf,
		 ctl_log_level_name(n.log_level), ctl_log_level_name(ctl_log_get_level()),
		 n.metrics_public ? "true" : "false", other ? "; other changed settings take effect at the next start" : "");
	ctl_log_set_level(n.log_level);
	cfg->log_level = n.log_level;
	cfg->metrics_public = n.metrics_public;
	explicit_bzero(&n, sizeof(n));
}

/* ---- the listening socket ------------------------------------------------------------------- */

static int mkdir_parents(const char *path, mode_t mode)
{
	char buf[1024];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	char *dir = dirname(buf);
	struct stat st;
	if (stat(dir, &st) == 0)
		return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
	int rc = mkdir_parents(dir, mode);
	if (rc < 0)
		return rc;
	if (mkdir(dir, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int open_listener(const struct ctl_config *cfg, ino_t *ino)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", cfg->socket);
	int rc = mkdir_parents(cfg->socket, 0755);
	if (rc < 0) {
		ctl_logl(CTL_LOG_ERROR, "cannot create the directory of %s: %s", cfg->socket, strerror(-rc));
		return -1;
	}
	struct stat st;
	if (lstat(cfg->socket, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			ctl_logl(CTL_LOG_ERROR, "%s exists and is not a socket", cfg->socket);
			return -1;
		}
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			ctl_logl(CTL_LOG_ERROR, "another controller is already listening on %s", cfg->socket);
			return -1;
		}
		if (probe >= 0)
			close(probe);
		unlink(cfg->socket);    /* stale: its controller is gone */
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ctl_logl(CTL_LOG_ERROR, "socket: %s", strerror(errno));
		return -1;
	}
	mode_t old = umask(0117);       /* born 0660: never more open than that */
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0) {
		ctl_logl(CTL_LOG_ERROR, "cannot bind %s: %s", cfg->socket, strerror(errno));
		goto err_close;
	}
	if (chmod(cfg->socket, 0660) < 0) {
		ctl_logl(CTL_LOG_ERROR, "cannot chmod %s: %s", cfg->socket, strerror(errno));
		goto err_unlink;
	}
	if (cfg->has_group && chown(cfg->socket, (uid_t)-1, cfg->group_gid) < 0) {
		ctl_logl(CTL_LOG_ERROR, "cannot give %s to group %s: %s", cfg->socket, cfg->socket_group, strerror(errno));
		goto err_unlink;
	}
	if (listen(fd, 64) < 0) {
		ctl_logl(CTL_LOG_ERROR, "listen on %s: %s", cfg->socket, strerror(errno));
		goto err_unlink;
	}
	if (stat(cfg->socket, &st) == 0)
		*ino = st.st_ino;
	return fd;
err_unlink:
	unlink(cfg->socket);
err_close:
	close(fd);
	return -1;
}

/* ---- who may talk to us --------------------------------------------------------------------- */

static bool peer_in_group(int fd, const struct ucred *cr, gid_t group)
{
	if (cr->gid == group)
		return true;
#ifdef SO_PEERGROUPS
	gid_t groups[256];
	socklen_t len = sizeof(groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0) {
		for (size_t i = 0; i < len / sizeof(gid_t); i++)
			if (groups[i] == group)
				return true;
		return false;
	}
#else
	(void)fd;
#endif
	/* kernel without SO_PEERGROUPS (or too many groups): the user's groups from the database */
	struct passwd *pw = getpwuid(cr->uid);
	if (!pw)
		return false;
	gid_t list[256];
	int n = 256;
	if (getgrouplist(pw->pw_name, pw->pw_gid, list, &n) < 0)
		return false;
	for (int i = 0; i < n; i++)
		if (list[i] == group)
			return true;
	return false;
}

static bool peer_allowed(int fd, const struct ctl_config *cfg, uint32_t *uid)
{
	struct ucred cr;
	*uid = UINT32_MAX;         /* unknown (audited as such) unless the kernel says */
	socklen_t len = sizeof(cr);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return false;
	*uid = cr.uid;
	if (cr.uid == 0 || cr.uid == geteuid())
		return true;
	return cfg->has_group && peer_in_group(fd, &cr, cfg->group_gid);
}

/* ---- connections ----------------------------------------------------------------------------
 *
 * A connection carries requests in sequence, and a client may send the next before the previous
 * answer came (pipelining, up to CONN_QUEUE; docs/interfaces.md): each is run as soon as it is
 * whole, and the answers go back in order.
 */

static struct conn *conns[MAX_CONNS];
static unsigned nconns;
static struct http_server *http;        /* the HTTP API, NULL when off */
static struct zone *zone;               /* the zone in etcd (zone.h), NULL when none */

static void conn_free(struct conn *c)
{
	for (unsigned k = 0; k < c->q_len; k++) {
		zone_slot_gone(zone, &c->q[(c->q_head + k) % CONN_QUEUE]);
		request_free(&c->q[(c->q_head + k) % CONN_QUEUE].req);
	}
	ob_free(&c->out);
	if (c->in)
		explicit_bzero(c->in, c->in_len);
	free(c->in);
	close(c->fd);
	free(c);
}

static void summarise(struct slot *sl, int argc, char **argv)
{
	size_t off = 0;
	sl->what[0] = '\0';
	for (int i = 0; i < argc && off < sizeof(sl->what) - 1; i++) {
		/* --ice UFRAG:PWD: the pwd is key material, never logged (only the ufrag) */
		const char *a = argv[i];
		int alen = (int)strlen(a);
		bool ice = i > 0 && strcmp(argv[i - 1], "--ice") == 0;
		if (strncmp(a, "--ice=", 6) == 0 && strchr(a, ':'))
			alen = (int)(strchr(a, ':') - a), ice = true;
		else if (ice && strchr(a, ':'))
			alen = (int)(strchr(a, ':') - a);
		else
			ice = false;
		/* --passcode X: never logged either */
		bool pc = false;
		if (strncmp(a, "--passcode=", 11) == 0)
			alen = 10, pc = true;
		else if (i > 0 && strcmp(argv[i - 1], "--passcode") == 0)
			alen = 0, pc = true;
		int n = snprintf(sl->what + off, sizeof(sl->what) - off, "%s%.*s%s%s", i ? " " : "", alen, a,
				 ice ? ":(pwd)" : "", pc ? (alen ? "=(secret)" : "(secret)") : "");
		if (n < 0)
			break;
		off += (size_t)n;
	}
	for (char *p = sl->what; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
}

/* Append the answer of a finished slot to the connection's output. false: out of memory. */
static bool conn_reply(struct ctl_ctx *ctx, struct conn *c, struct slot *sl)
{
	size_t start = c->out.len;
	ob_add(&c->out, "\0\0\0\0\0\0\0\0", CTL_HDR_LEN);
	request_finish(ctx, &sl->req, sl->how);
	request_reply(&sl->req, &c->out);
	if (sl->req.failed || sl->req.mutating || strncmp(sl->what, "participant keys", 16) == 0) {
		char who[32], res[200];
		snprintf(who, sizeof(who), "uid %u", c->uid);
		if (sl->req.failed)
			snprintf(res, sizeof(res), "error: %.180s", sl->req.err);
		else
			snprintf(res, sizeof(res), "ok%s", sl->how == APPLY_DONE ? "" : " (not applied yet)");
		audit_add(who, "unix", sl->what, res);
	}
	if (sl->req.failed)
		ctl_log("uid %u: %s -> error: %s", c->uid, sl->what, sl->req.err);
	else if (sl->req.mutating)
		ctl_log("uid %u: %s -> ok%s", c->uid, sl->what,
			ctx->dp->fenced && sl->how == APPLY_LOST ? " (fenced: not applied)" :
			sl->req.offline || sl->how == APPLY_LOST ? " (dataplane offline)" :
			sl->how == APPLY_TIMEOUT ? " (not applied yet)" : "");
	if (!c->out.oom && c->out.len - start - CTL_HDR_LEN > CTL_MAX_RESPONSE) {
		c->out.len = start + CTL_HDR_LEN;
		ob_puts(&c->out, "error: reply too large\n");
	}
	if (c->out.oom)
		return false;
	ctl_frame_header((uint8_t *)c->out.p + start, CTL_RESP_MAGIC, (uint32_t)(c->out.len - start - CTL_HDR_LEN));
	return true;
}

static struct slot *slot_new(struct conn *c)
{
	struct slot *sl = &c->q[(c->q_head + c->q_len) % CONN_QUEUE];
	c->q_len++;
	memset(sl, 0, sizeof(*sl));
	return sl;
}

static void slot_error(struct conn *c, const char *why)
{
	struct slot *sl = slot_new(c);
	ob_init(&sl->req.body);
	sl->req.failed = true;
	snprintf(sl->req.err, sizeof(sl->req.err), "%s", why);
	snprintf(sl->what, sizeof(sl->what), "(request)");
	sl->state = SLOT_DONE;
	sl->how = APPLY_DONE;
}

/*
 * Group commit: make the batch of every change run since the last commit durable (one write, one
 * fdatasync), then let their held dataplane commands go. Their requests then wait for the
 * dataplane (or are done). If the batch cannot be made durable, every one of them fails, the
 * commands are taken back and the model is reloaded from disk (state_store.h).
 */
static void commit_batch(struct ctl_ctx *ctx, uint64_t now)
{
	struct state_store *st = ctx->store;
	char err[400];
	/* safety actions waiting for the disk (requests.h): the disk is tried again once a second, not
	 * at every loop round (each failure reloads the model) */
	static uint64_t safety_retry_ns;
	if (requests_safety_unsaved() && now < safety_retry_ns)
		return;
	int rc = state_store_commit(st, now, err, sizeof(err));
	if (rc == -2) {
		ctl_logl(CTL_LOG_ERROR, "the journal is in an unknown state: stopping (a restart loads what is on disk)");
		exit(1);
	}
	/* (with the test hook, rc 0 may leave the batch unwritten: its requests go on as if durable) */
	if (rc == 0)
		dp_link_release(ctx->dp);
	else
		dp_link_drop_held(ctx->dp);
	for (unsigned i = 0; i < nconns; i++) {
		struct conn *c = conns[i];
		for (unsigned k = 0; k < c->q_len; k++)
			slot_committed(ctx, &c->q[(c->q_head + k) % CONN_QUEUE], rc, err, now);
	}
	if (http)
		http_server_committed(http, rc, err, now);
	if (rc < 0) {
		/* (while safety actions wait for the disk, the same failure every round: logged once) */
		if (!requests_safety_unsaved())
			ctl_log("cannot save the state: %s; the batch's changes are undone", err);
		char why[400];
		if (state_store_reload(st, ctx->model, why, sizeof(why)) < 0) {
			ctl_logl(CTL_LOG_ERROR, "cannot reload the state after a failed write: %s: stopping", why);
			exit(1);
		}
		/* meeting controls: the safety actions stay in force (requests.h) */
		requests_safety_reapply(ctx);
		safety_retry_ns = now + 1000000000ull;
		return;
	}
	requests_safety_saved(ctx);
	if (state_store_want_compact(st) && state_store_compact(st, ctx->model, err, sizeof(err)) < 0)
		ctl_log("compaction failed (the journal goes on growing): %s", err);
}

void slot_committed(const struct ctl_ctx *ctx, struct slot *sl, int rc, const char *err, uint64_t now)
{
	if (sl->state != SLOT_COMMIT)
		return;
	if (rc < 0 && sl->req.safety) {
		/* a safety action: in force in the dataplane already, saved when the disk takes it */
		sl->req.unsaved = true;
		rc = 0;
	}
	if (rc < 0) {
		sl->req.failed = true;
		sl->req.mutating = false;
		sl->req.wait = false;
		snprintf(sl->req.err, sizeof(sl->req.err), "cannot save the state, nothing changed: %s", err);
		sl->state = SLOT_DONE;
	} else if (sl->req.wait) {
		sl->state = SLOT_WAIT;
		sl->deadline_ns = now + (uint64_t)ctx->cfg->apply_timeout_ms * 1000000ull;
	} else {
		sl->state = SLOT_DONE;
		sl->how = APPLY_DONE;
	}
}

bool slot_settle(struct ctl_ctx *ctx, struct slot *sl, uint64_t now)
{
	struct dp_link *dp = ctx->dp;
	if (sl->state != SLOT_WAIT)
		return sl->state == SLOT_DONE;
	if (!dp->attached || dp->attach_id != sl->req.attach_id)
		sl->how = APPLY_LOST;
	else if (dp_link_applied(dp, sl->req.wait_seq))
		sl->how = APPLY_DONE;
	else if (now >= sl->deadline_ns)
		sl->how = APPLY_TIMEOUT;
	else
		return false;
	sl->state = SLOT_DONE;
	return true;
}

void slot_run(struct ctl_ctx *ctx, struct slot *sl, int argc, char **argv, uint64_t now)
{
	/* the zone (zone.h): its own commands, meeting create and end, meetings placed elsewhere */
	if (ctx->zone && zone_slot_run(ctx->zone, sl, argc, argv, now))
		return;
	if (!ctx->zone && argc >= 1 && strcmp(argv[0], "zone") == 0) {
		summarise(sl, argc, argv);
		ob_init(&sl->req.body);
		sl->req.failed = true;
		snprintf(sl->req.err, sizeof(sl->req.err), "no zone: this controller's configuration has no zone block "
			 "(docs/interfaces.md \"The zone in etcd\")");
		sl->state = SLOT_DONE;
		sl->how = APPLY_DONE;
		return;
	}
	slot_run_local(ctx, sl, argc, argv, now);
}

void slot_run_local(struct ctl_ctx *ctx, struct slot *sl, int argc, char **argv, uint64_t now)
{
	/* a read sees only what is durable: commit the changes run before it first */
	if (state_store_pending(ctx->store) && !request_mutates(argc, argv))
		commit_batch(ctx, now);
	summarise(sl, argc, argv);
	request_run(ctx, argc, argv, &sl->req);
	ctx->requests++;
	sl->how = APPLY_DONE;
	if (sl->req.mutating && !state_store_pending(ctx->store)) {
		/* a change with nothing to make durable (meeting move: placement is not saved) */
		sl->state = sl->req.wait ? SLOT_WAIT : SLOT_DONE;
		sl->deadline_ns = now + (uint64_t)ctx->cfg->apply_timeout_ms * 1000000ull;
	} else {
		sl->state = sl->req.mutating ? SLOT_COMMIT : SLOT_DONE;
	}
}

/* Run the request in frame body (len bytes). */
static void conn_run(struct ctl_ctx *ctx, struct conn *c, const uint8_t *body, size_t len, uint64_t now)
{
	struct ctl_request r;
	if (!c->allowed) {
		ctl_log("uid %u: request refused: permission denied", c->uid);
		slot_error(c, "permission denied: only root, the controller's user and members of the admin group "
			      "(admin_group) may use the control socket");
		return;
	}
	if (ctl_request_decode(body, len, &r) < 0) {
		slot_error(c, "malformed request");
		return;
	}
	struct slot *sl = slot_new(c);
	slot_run(ctx, sl, r.argc, r.argv, now);
	ctl_request_free(&r);
}

/* Does the input buffer end in a request that is not whole yet? (Whole ones waiting for room in the
 * queue are not: they are taken as answers go out.) */
static bool partial_frame(const struct conn *c)
{
	if (c->in_len == 0)
		return false;
	if (c->in_len < CTL_HDR_LEN)
		return true;
	int64_t len = ctl_frame_check(c->in, CTL_REQ_MAGIC, CTL_MAX_REQUEST);
	return len >= 0 && c->in_len - CTL_HDR_LEN < (size_t)len;
}

/* Take every whole request in the input buffer (while there is room in the queue). */
static void conn_take(struct ctl_ctx *ctx, struct conn *c, uint64_t now)
{
	size_t off = 0;
	while (!c->closing && c->q_len < CONN_QUEUE && c->in_len - off >= CTL_HDR_LEN) {
		int64_t len = ctl_frame_check(c->in + off, CTL_REQ_MAGIC, CTL_MAX_REQUEST);
		if (len < 0) {
			slot_error(c, "malformed request (bad frame header or too large)");
			c->closing = true;
			break;
		}
		if (c->in_len - off - CTL_HDR_LEN < (size_t)len)
			break;
		conn_run(ctx, c, c->in + off + CTL_HDR_LEN, (size_t)len, now);
		explicit_bzero(c->in + off, CTL_HDR_LEN + (size_t)len);
		off += CTL_HDR_LEN + (size_t)len;
	}
	if (off) {
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
	/* the read timeout runs only while a request is incomplete, from the last one taken */
	if (!partial_frame(c))
		c->read_deadline_ns = 0;
	else if (off || !c->read_deadline_ns)
		c->read_deadline_ns = now + READ_TIMEOUT_NS;
	c->idle_deadline_ns = now + IDLE_TIMEOUT_NS;
}

/* Read what is there (room permitting); false when the connection should go. */
static bool conn_read(struct ctl_ctx *ctx, struct conn *c, uint64_t now)
{
	const size_t max = 4 * (CTL_HDR_LEN + CTL_MAX_REQUEST);
	while (!c->eof && c->in_len < max) {
		if (c->in_cap - c->in_len < 4096) {
			size_t cap = c->in_cap ? c->in_cap * 2 : 16384;
			uint8_t *n = realloc(c->in, cap);
			if (!n)
				return false;
			c->in = n;
			c->in_cap = cap;
		}
		ssize_t n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return false;
		}
		if (n == 0) {
			c->eof = true;
			break;
		}
		c->in_len += (size_t)n;
		c->last_ns = now;
	}
	conn_take(ctx, c, now);
	if (c->eof && partial_frame(c) && !c->closing)
		return false;       /* gone in the middle of a request (whole ones still get answers) */
	return true;
}

/* Write what the socket takes; false when broken. */
static bool conn_write(struct conn *c, uint64_t now)
{
	while (c->out_off < c->out.len) {
		ssize_t n = send(c->fd, c->out.p + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK;
		}
		c->out_off += (size_t)n;
		c->write_deadline_ns = now + WRITE_TIMEOUT_NS;
	}
	if (c->out_off == c->out.len) {
		if (c->out.p)
			explicit_bzero(c->out.p, c->out.len);   /* key replies */
		ob_reset(&c->out);
		c->out_off = 0;
		if (c->out.cap > (1u << 20))
			ob_free(&c->out);
	}
	return true;
}

/* Settle waiting requests, queue the answers that are due (in order), write, expire. false: the
 * connection should go. */
static bool conn_service(struct ctl_ctx *ctx, struct conn *c, uint64_t now, bool *waiting)
{
	for (unsigned k = 0; k < c->q_len; k++) {
		struct slot *sl = &c->q[(c->q_head + k) % CONN_QUEUE];
		if (sl->state == SLOT_WAIT && !slot_settle(ctx, sl, now))
			*waiting = true;
	}
	bool had_out = c->out.len > c->out_off;
	while (c->q_len && c->q[c->q_head].state == SLOT_DONE) {
		struct slot *sl = &c->q[c->q_head];
		bool ok = conn_reply(ctx, c, sl);
		request_free(&sl->req);
		c->q_head = (c->q_head + 1) % CONN_QUEUE;
		c->q_len--;
		if (!ok)
			return false;
	}
	if (c->out.len > c->out_off) {
		if (!had_out)
			c->write_deadline_ns = now + WRITE_TIMEOUT_NS;
		if (!conn_write(c, now))
			return false;
	}
	bool idle = c->q_len == 0 && c->out.len == c->out_off;
	if (idle && (c->closing || (c->eof && c->in_len == 0)))
		return false;
	if (c->in_len && c->q_len < CONN_QUEUE && !c->closing)
		conn_take(ctx, c, now);     /* requests that waited for room in the queue */
	if (c->out.len > c->out_off && now >= c->write_deadline_ns)
		return false;
	if (c->read_deadline_ns && now >= c->read_deadline_ns)
		return false;
	if (idle && now >= c->idle_deadline_ns)
		return false;
	return true;
}

static void conn_drop(struct conn *c);

/* The connection to drop for a new one when MAX_CONNS are open: of those waiting on their client
 * (nothing queued or being written: idle, or a request coming in slowly), the one heard from
 * least recently; NULL when every one waits on us. So idle clients cannot keep others out. */
static struct conn *conn_victim(void)
{
	struct conn *v = NULL;
	for (unsigned i = 0; i < nconns; i++) {
		struct conn *c = conns[i];
		if (c->q_len == 0 && c->out.len == c->out_off &&
		    (!v || (v->allowed && !c->allowed) || (v->allowed == c->allowed && c->last_ns < v->last_ns)))
			v = c;
	}
	return v;
}

static void accept_all(int lfd, const struct ctl_config *cfg, uint64_t now)
{
	for (;;) {
		struct conn *old = nconns < MAX_CONNS ? NULL : conn_victim();
		if (nconns == MAX_CONNS && !old)
			return;
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
				ctl_log("accept: %s", strerror(errno));
			return;
		}
		struct conn *c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			return;
		}
		if (old) {
			ctl_log("uid %u: connection closed for a new one (%d open; it was the one heard from least "
				"recently, %llu ms ago)", old->uid, MAX_CONNS, (unsigned long long)((now - old->last_ns) / 1000000));
			conn_drop(old);
		}
		c->fd = fd;
		c->idle_deadline_ns = now + IDLE_TIMEOUT_NS;
		c->last_ns = now;
		c->allowed = peer_allowed(fd, cfg, &c->uid);
		ob_init(&c->out);
		conns[nconns++] = c;
		if (!c->allowed) {
			/* its requests are refused (conn_run); it is the first to go for a new connection */
			char who[32];
			snprintf(who, sizeof(who), "uid %u", c->uid);
			audit_add(who, "unix", "connect", "refused: not root or in the admin group");
		}
	}
}

static void conn_drop(struct conn *c)
{
	for (unsigned j = 0; j < nconns; j++)
		if (conns[j] == c) {
			conns[j] = conns[--nconns];
			break;
		}
	conn_free(c);
}

/* ---- main ----------------------------------------------------------------------------------- */

static int lock_state(const char *state_file)
{
	char path[1100];
	snprintf(path, sizeof(path), "%s.lock", state_file);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		ctl_logl(CTL_LOG_ERROR, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ctl_logl(CTL_LOG_ERROR, "%s is locked: another controller uses state file %s", path, state_file);
		close(fd);
		return -1;
	}
	return fd;
}

/* dp_link's on_ledger hook: the SRTP ledger check before every replay (requests.h) */
static int ledger_hook(void *arg, const uint8_t id[MMR_SRTP_LEDGER_ID_LEN], char *why, size_t whylen)
{
	return request_ledger_check(arg, id, why, whylen);
}

/* dp_link's on_take_over hook: the state file records the token we drive the dataplane with
 * (model.h), before we push anything. A failed save is logged: the next start is then held (safe). */
static void take_over_hook(void *arg, uint64_t token)
{
	struct ctl_ctx *ctx = arg;
	uint64_t old = ctx->model->state_token;
	char err[400];
	ctx->model->state_token = token;
	if (state_store_checkpoint(ctx->store, ctx->model, err, sizeof(err)) < 0) {
		ctx->model->state_token = old;
		ctl_log("cannot record fencing token %llu in the state file: %s (a restart will be held)",
			(unsigned long long)token, err);
	}
}

static void usage(FILE *f)
{
	fprintf(f, "usage: mmr-controller -c FILE [--take-over] [--wipe-dataplane]\n       mmr-controller --version\n");
}

/* Every state has an id (model.h): a state without one (none on disk, or files from before ids) gets
 * a random one here, written at once as a new snapshot, so that a controller restarted on this state
 * is recognised by the dataplane its replay built. 0 or -1 (logged). */
/* passcode_load's keep: entries of meetings the state holds */
static bool meeting_exists(const char *name, void *arg)
{
	return model_find_meeting(arg, name) != MMR_ID_NONE;
}

static int ensure_state_id(struct model *m, struct state_store *st)
{
	if (m->has_state_id)
		return 0;
	if (getrandom(m->state_id, sizeof(m->state_id), 0) != (ssize_t)sizeof(m->state_id)) {
		ctl_logl(CTL_LOG_ERROR, "cannot make a state id: %s", strerror(errno));
		return -1;
	}
	m->has_state_id = true;
	char err[400];
	if (state_store_checkpoint(st, m, err, sizeof(err)) < 0) {
		ctl_logl(CTL_LOG_ERROR, "cannot write the state with its new state id: %s", err);
		return -1;
	}
	ctl_log("state %s had no state id (new, or written before ids): gave it one", st->path);
	return 0;
}

int main(int argc, char **argv)
{
	if (mmr_version_arg("mmr-controller", argc, argv))
		return 0;
	const char *conf = NULL;
	bool take_over = false, wipe = false;
	static const struct option longopts[] = {
		{ "take-over", no_argument, NULL, 'T' },
		{ "wipe-dataplane", no_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;
	while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		if (opt == 'c') {
			conf = optarg;
		} else if (opt == 'T') {
			take_over = true;
		} else if (opt == 'W') {
			wipe = true;
		} else if (opt == 'h') {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (!conf || optind != argc) {
		usage(stderr);
		return 2;
	}
	/* keys are made and held here: no core dumps (no_core_dump.h) */
	int nd = mmr_no_core_dump();
	if (nd < 0)
		ctl_logl(CTL_LOG_WARNING, "cannot make the process non-dumpable: %s (a core dump could hold keys)",
			 strerror(errno));
	else if (nd == 1)
		ctl_logl(CTL_LOG_WARNING, "MMR_ALLOW_CORE_DUMPS=1: core dumps allowed (they may hold keys)");

	struct ctl_config cfg;
	char err[1024];
	if (ctl_config_load(conf, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "mmr-controller: error: %s\n", err);
		return 2;
	}
	ctl_log_setup(cfg.log_target, cfg.log_level);

	signal(SIGPIPE, SIG_IGN);
	/* a file-size limit reached fails the write (EFBIG: the batch fails, the requests get the error)
	 * rather than killing the controller mid-commit */
	signal(SIGXFSZ, SIG_IGN);
	sigset_t block, waitmask;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGHUP);
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	struct sigaction hup = { .sa_handler = on_hup };
	sigemptyset(&hup.sa_mask);
	sigaction(SIGHUP, &hup, NULL);

	int rc = 1, lock_fd = -1, lfd = -1;
	ino_t sock_ino = 0;
	struct model model;
	struct dp_link dp;
	static struct state_store store;
	struct ctl_ctx ctx = { .model = &model, .dp = &dp, .store = &store, .cfg = &cfg, .start_ns = mmr_now_ns(),
			       .pid = getpid() };

	if (model_init(&model) < 0) {
		ctl_logl(CTL_LOG_ERROR, "out of memory");
		return 1;
	}
	int mk = mkdir_parents(cfg.state_file, 0755);
	if (mk < 0) {
		ctl_logl(CTL_LOG_ERROR, "cannot create the directory of %s: %s", cfg.state_file, strerror(-mk));
		goto out_model;
	}
	lock_fd = lock_state(cfg.state_file);
	if (lock_fd < 0)
		goto out_model;
	int ld = state_store_open(&store, &model, cfg.state_file, cfg.journal_max_records, cfg.journal_max_bytes,
				  err, sizeof(err));
	if (ld < 0) {
		ctl_logl(CTL_LOG_ERROR, "cannot load state file: %s", err);
		goto out_store;
	}
	if (ld == 1)
		ctl_log("no state file %s: starting empty", cfg.state_file);
	else
		ctl_log("loaded %s and %llu journal records: %u meetings, %u participants, %u streams, "
			"%u subscriptions", cfg.state_file, (unsigned long long)store.replayed, model.n_meetings,
			model.n_parts, model.n_streams, model.n_subs);
	if (ensure_state_id(&model, &store) < 0)
		goto out_store;
	if (passcode_load(cfg.state_file, meeting_exists, &model, err, sizeof(err)) < 0) {
		ctl_logl(CTL_LOG_ERROR, "cannot load the passcodes: %s", err);
		goto out_store;
	}
	if (audit_open(cfg.state_file, err, sizeof(err)) < 0) {
		ctl_logl(CTL_LOG_ERROR, "%s", err);
		goto out_store;
	}
	if (dp_link_init(&dp, cfg.shm_name, &model) < 0) {
		ctl_logl(CTL_LOG_ERROR, "out of memory");
		goto out_store;
	}
	dp.on_ledger = ledger_hook;
	dp.on_ledger_arg = &ctx;
	dp.on_take_over = take_over_hook;
	dp.on_take_over_arg = &ctx;
	dp.take_over = take_over;
	dp.wipe_ok = wipe;
	lfd = open_listener(&cfg, &sock_ino);
	if (lfd < 0)
		goto out_dp;
	if (cfg.http) {
		http = http_server_start(&ctx, err, sizeof(err));
		if (!http) {
			ctl_logl(CTL_LOG_ERROR, "HTTP API: %s", err);
			goto out_listener;
		}
	}
	if (cfg.zone.on) {
		zone = zone_open(&ctx, err, sizeof(err));
		if (!zone) {
			ctl_logl(CTL_LOG_ERROR, "zone: %s", err);
			goto out_http;
		}
		ctx.zone = zone;
	}
	ctl_log("MMR-CONTROLLER READY (pid %d, socket %s, dataplane %s)", (int)ctx.pid, cfg.socket, cfg.shm_name);
	/* systemd Type=notify (systemd/mmr-controller.service); a no-op without NOTIFY_SOCKET */
	sd_notify(0, "READY=1");

	struct pollfd pfd[MAX_CONNS + 2 + ETCD_MAX_FDS];
	struct conn *polled[MAX_CONNS + 2];
	static struct conn http_marker;     /* polled[] entry of the HTTP API's fd */
	while (!stop_signal) {
		if (reload_signal) {
			reload_signal = 0;
			reload_config(conf, &cfg);
		}
		uint64_t now = mmr_now_ns();
		if (state_store_pending(&store))
			commit_batch(&ctx, now);   /* only the test hook leaves one behind */
		dp_link_tick(&dp, now);
		/* what the dataplane's ICE agent learned (addresses, lost consent): changes of our own,
		 * committed with the next batch */
		struct mmr_event iev;
		while (events_ice_pop(&dp.ev, &iev)) {
			if (iev.type == MMR_EV_SSRC)
				requests_ssrc_event(&ctx, &iev);
			else if (iev.type == MMR_EV_DTLS)
				requests_dtls_event(&ctx, &iev);
			else
				requests_ice_event(&ctx, &iev);
		}
		/* the zone: registration, load, the placements read again (changes of our own: this batch) */
		if (zone)
			zone_tick(zone, now);

		/* settle waiting requests, send the answers that are due, expire slow clients */
		bool waiting = false;
		for (unsigned i = 0; i < nconns;) {
			struct conn *c = conns[i];
			if (!conn_service(&ctx, c, now, &waiting)) {
				conn_drop(c);
				continue;
			}
			i++;
		}
		if (http && http_server_service(http, now))
			waiting = true;

		unsigned np = 0;
		if (http) {
			pfd[np] = (struct pollfd){ .fd = http_server_fd(http), .events = POLLIN };
			polled[np++] = &http_marker;
		}
		if (nconns < MAX_CONNS || conn_victim()) {
			pfd[np] = (struct pollfd){ .fd = lfd, .events = POLLIN };
			polled[np++] = NULL;
		}
		for (unsigned i = 0; i < nconns; i++) {
			struct conn *c = conns[i];
			short ev = 0;
			if (!c->eof && !c->closing && c->q_len < CONN_QUEUE)
				ev |= POLLIN;
			if (c->out.len > c->out_off)
				ev |= POLLOUT;
			if (!ev)
				continue;
			pfd[np] = (struct pollfd){ .fd = c->fd, .events = ev };
			polled[np++] = c;
		}
		/* the etcd client's sockets go last (not in polled[]) */
		unsigned np_zone = np;
		if (zone)
			np += zone_pollfds(zone, pfd + np, ETCD_MAX_FDS);
		/* briefly while the dataplane is applying what requests wait for (it is woken at once:
		 * lib/contract/cmd_chan.h), 1 ms while it has other work to show us (a snapshot of its
		 * events on its way too), else until the next heartbeat */
		uint64_t wait_ns = waiting ? WAIT_POLL_NS :
				   (dp.fifo_len || dp.sync_end_seq != UINT64_MAX || state_store_pending(&store) ||
				    (dp.attached && events_waiting(&dp.ev))) ? 1000000ull :
				   dp.next_tick_ns > now ? dp.next_tick_ns - now : 0;
		for (unsigned i = 0; i < nconns; i++) {
			const struct conn *c = conns[i];
			uint64_t d[3] = { c->read_deadline_ns, c->out.len > c->out_off ? c->write_deadline_ns : 0,
					  c->idle_deadline_ns };
			for (int k = 0; k < 3; k++)
				if (d[k] && d[k] > now && d[k] - now < wait_ns)
					wait_ns = d[k] - now;
		}
		if (http) {
			uint64_t h = http_server_timeout_ns(http);
			if (h < wait_ns)
				wait_ns = h;
		}
		if (zone) {
			uint64_t z = zone_timeout_ns(zone, now);
			if (z < wait_ns)
				wait_ns = z;
		}
		struct timespec ts = { (time_t)(wait_ns / 1000000000ull), (long)(wait_ns % 1000000000ull) };
		int n = ppoll(pfd, np, &ts, &waitmask);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ctl_logl(CTL_LOG_ERROR, "poll: %s", strerror(errno));
			break;
		}
		now = mmr_now_ns();
		bool accept_due = false;
		if (zone)
			zone_run(zone, pfd + np_zone, np - np_zone, now);
		for (unsigned i = 0; i < np_zone && n > 0; i++) {
			if (!pfd[i].revents)
				continue;
			struct conn *c = polled[i];
			if (!c) {
				accept_due = true;     /* after this loop: it may close a connection polled[] holds */
				continue;
			}
			if (c == &http_marker)
				continue;       /* below, every round */
			bool keep = true;
			if (pfd[i].revents & POLLNVAL)
				keep = false;
			if (keep && (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) && (c->q_len < CONN_QUEUE))
				keep = conn_read(&ctx, c, now);
			if (keep && (pfd[i].revents & POLLOUT))
				keep = conn_write(c, now);
			if (!keep)
				conn_drop(c);
		}
		if (accept_due)
			accept_all(lfd, &cfg, now);
		/* the HTTP API: its sockets, its timeouts, and the connections resumed above */
		if (http)
			http_server_run(http);
		/* group commit: every change the requests of this round made, one fdatasync */
		if (state_store_pending(&store))
			commit_batch(&ctx, now);
	}
	if (stop_signal)
		ctl_log("signal %d: stopping", (int)stop_signal);
	rc = stop_signal ? 0 : 1;

	if (state_store_pending(&store))
		commit_batch(&ctx, mmr_now_ns() + 1000000000ull);   /* the test hook's, if any */
	for (unsigned i = 0; i < nconns; i++)
		conn_free(conns[i]);
out_http:
	if (http)
		http_server_stop(http);
	http = NULL;
	zone_close(zone);
	ctx.zone = zone = NULL;
out_listener:
	close(lfd);
	struct stat st;
	if (stat(cfg.socket, &st) == 0 && st.st_ino == sock_ino)
		unlink(cfg.socket);
out_dp:
	dp_link_close(&dp);
out_store:
	audit_close();
	passcode_reset();
	state_store_close(&store);
	close(lock_fd);
out_model:
	model_free(&model);
	if (rc == 0)
		ctl_log("stopped");
	return rc;
}
