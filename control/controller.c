/*
 * controller.c - mmr-controller: holds the zone's meetings, participants, streams and
 * subscriptions (model.h), keeps them on disk (state_file.h), programs the dataplane through
 * shared memory (dp_link.h), and serves mmrctl on a Unix socket (ctl_proto.h, requests.h).
 *
 * One thread, one poll() loop. Each connection carries one request: read a frame (bounded size,
 * bounded time), check the peer (SO_PEERCRED: root, our own uid, or a member of socket_group),
 * run it, and for a change the dataplane must apply, wait (without blocking the loop) until the
 * dataplane's ring head passes the change's last command or apply_timeout_ms runs out; then
 * write the reply and close. A client that sends garbage gets an error reply; one that vanishes
 * is dropped. SIGINT/SIGTERM stop the loop cleanly; the state is on disk after every change.
 *
 *   mmr-controller -c FILE
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
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cmd_chan.h"
#include "config.h"
#include "controller.h"
#include "ctl_proto.h"
#include "dp_link.h"
#include "log.h"
#include "model.h"
#include "requests.h"
#include "state_file.h"

#define MAX_CONNS        64
#define READ_TIMEOUT_NS  5000000000ull    /* a whole request must arrive within 5 s */
#define WRITE_TIMEOUT_NS 30000000000ull   /* a reader that takes nothing for 30 s is dropped */

enum conn_state { CONN_READ, CONN_WAIT, CONN_WRITE };

struct conn {
	int fd;
	enum conn_state state;
	bool allowed;
	uint32_t uid;
	uint8_t hdr[CTL_HDR_LEN];
	size_t hdr_have;
	uint8_t *body;
	size_t body_len, body_have;
	struct request req;
	bool has_req;
	char what[160];                 /* the command line, for the log */
	struct outbuf out;              /* the response frame */
	size_t out_off;
	uint64_t deadline_ns;
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
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
		ctl_log("error: cannot create the directory of %s: %s", cfg->socket, strerror(-rc));
		return -1;
	}
	struct stat st;
	if (lstat(cfg->socket, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			ctl_log("error: %s exists and is not a socket", cfg->socket);
			return -1;
		}
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			ctl_log("error: another controller is already listening on %s", cfg->socket);
			return -1;
		}
		if (probe >= 0)
			close(probe);
		unlink(cfg->socket);    /* stale: its controller is gone */
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ctl_log("error: socket: %s", strerror(errno));
		return -1;
	}
	mode_t old = umask(0117);       /* born 0660: never more open than that */
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0) {
		ctl_log("error: cannot bind %s: %s", cfg->socket, strerror(errno));
		goto err_close;
	}
	if (chmod(cfg->socket, 0660) < 0) {
		ctl_log("error: cannot chmod %s: %s", cfg->socket, strerror(errno));
		goto err_unlink;
	}
	if (cfg->has_group && chown(cfg->socket, (uid_t)-1, cfg->group_gid) < 0) {
		ctl_log("error: cannot give %s to group %s: %s", cfg->socket, cfg->socket_group, strerror(errno));
		goto err_unlink;
	}
	if (listen(fd, 64) < 0) {
		ctl_log("error: listen on %s: %s", cfg->socket, strerror(errno));
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
	socklen_t len = sizeof(cr);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return false;
	*uid = cr.uid;
	if (cr.uid == 0 || cr.uid == geteuid())
		return true;
	return cfg->has_group && peer_in_group(fd, &cr, cfg->group_gid);
}

/* ---- connections ---------------------------------------------------------------------------- */

static void conn_free(struct conn *c)
{
	if (c->has_req)
		request_free(&c->req);
	ob_free(&c->out);
	free(c->body);
	close(c->fd);
	free(c);
}

static void summarise(struct conn *c, int argc, char **argv)
{
	size_t off = 0;
	c->what[0] = '\0';
	for (int i = 0; i < argc && off < sizeof(c->what) - 1; i++) {
		int n = snprintf(c->what + off, sizeof(c->what) - off, "%s%s", i ? " " : "", argv[i]);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	for (char *p = c->what; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
}

/* Build the response frame and switch to writing. */
static void conn_reply(struct ctl_ctx *ctx, struct conn *c, enum apply_outcome how, uint64_t now)
{
	ob_reset(&c->out);
	ob_add(&c->out, "\0\0\0\0\0\0\0\0", CTL_HDR_LEN);
	if (c->has_req) {
		request_finish(ctx, &c->req, how);
		request_reply(&c->req, &c->out);
		if (c->req.failed)
			ctl_log("uid %u: %s -> error: %s", c->uid, c->what, c->req.err);
		else if (c->req.mutating)
			ctl_log("uid %u: %s -> ok%s", c->uid, c->what,
				c->req.offline || how == APPLY_LOST ? " (dataplane offline)" :
				how == APPLY_TIMEOUT ? " (not applied yet)" : "");
	}
	if (!c->out.oom && c->out.len - CTL_HDR_LEN > CTL_MAX_RESPONSE) {
		ob_reset(&c->out);
		ob_add(&c->out, "\0\0\0\0\0\0\0\0", CTL_HDR_LEN);
		ob_puts(&c->out, "error: reply too large\n");
	}
	if (c->out.oom) {
		/* last resort: a reply small enough to need no allocation */
		static char msg[] = "error: out of memory\n";
		ob_free(&c->out);
		c->out.p = NULL;
		uint8_t *frame = malloc(CTL_HDR_LEN + sizeof(msg) - 1);
		if (!frame) {
			c->state = CONN_WRITE;
			c->out_off = 0;
			c->deadline_ns = now;   /* nothing to say: drop it */
			return;
		}
		memcpy(frame + CTL_HDR_LEN, msg, sizeof(msg) - 1);
		c->out.p = (char *)frame;
		c->out.len = c->out.cap = CTL_HDR_LEN + sizeof(msg) - 1;
	}
	ctl_frame_header((uint8_t *)c->out.p, CTL_RESP_MAGIC, (uint32_t)(c->out.len - CTL_HDR_LEN));
	c->out_off = 0;
	c->state = CONN_WRITE;
	c->deadline_ns = now + WRITE_TIMEOUT_NS;
}

static void conn_error(struct ctl_ctx *ctx, struct conn *c, const char *why, uint64_t now)
{
	if (c->has_req)
		request_free(&c->req);
	memset(&c->req, 0, sizeof(c->req));
	ob_init(&c->req.body);
	c->req.failed = true;
	snprintf(c->req.err, sizeof(c->req.err), "%s", why);
	c->has_req = true;
	conn_reply(ctx, c, APPLY_DONE, now);
}

static void conn_run(struct ctl_ctx *ctx, struct conn *c, uint64_t now)
{
	struct ctl_request r;
	if (!c->allowed) {
		ctl_log("uid %u: request refused: permission denied", c->uid);
		conn_error(ctx, c, "permission denied", now);
		return;
	}
	if (ctl_request_decode(c->body, c->body_len, &r) < 0) {
		conn_error(ctx, c, "malformed request", now);
		return;
	}
	summarise(c, r.argc, r.argv);
	request_run(ctx, r.argc, r.argv, &c->req);
	c->has_req = true;
	ctx->requests++;
	ctl_request_free(&r);
	if (c->req.wait) {
		c->state = CONN_WAIT;
		c->deadline_ns = now + (uint64_t)ctx->cfg->apply_timeout_ms * 1000000ull;
		return;
	}
	conn_reply(ctx, c, APPLY_DONE, now);
}

/* Read what is there; false when the connection should go. */
static bool conn_read(struct ctl_ctx *ctx, struct conn *c, uint64_t now)
{
	for (;;) {
		uint8_t *dst;
		size_t want;
		if (c->hdr_have < CTL_HDR_LEN) {
			dst = c->hdr + c->hdr_have;
			want = CTL_HDR_LEN - c->hdr_have;
		} else {
			dst = c->body + c->body_have;
			want = c->body_len - c->body_have;
		}
		ssize_t n = want ? read(c->fd, dst, want) : 0;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK;
		}
		if (n == 0 && want)
			return false;       /* gone before the request was whole */
		if (c->hdr_have < CTL_HDR_LEN) {
			c->hdr_have += (size_t)n;
			if (c->hdr_have < CTL_HDR_LEN)
				continue;
			int64_t len = ctl_frame_check(c->hdr, CTL_REQ_MAGIC, CTL_MAX_REQUEST);
			if (len < 0) {
				conn_error(ctx, c, "malformed request (bad frame header or too large)", now);
				return true;
			}
			c->body_len = (size_t)len;
			c->body = malloc(c->body_len ? c->body_len : 1);
			if (!c->body) {
				conn_error(ctx, c, "out of memory", now);
				return true;
			}
		} else {
			c->body_have += (size_t)n;
		}
		if (c->hdr_have == CTL_HDR_LEN && c->body_have == c->body_len) {
			conn_run(ctx, c, now);
			return true;
		}
	}
}

/* Write what the socket takes; false when done or broken. */
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
		c->deadline_ns = now + WRITE_TIMEOUT_NS;
	}
	return false;
}

static void accept_all(int lfd, struct conn **conns, unsigned *n, const struct ctl_config *cfg, uint64_t now)
{
	while (*n < MAX_CONNS) {
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
		c->fd = fd;
		c->state = CONN_READ;
		c->deadline_ns = now + READ_TIMEOUT_NS;
		c->allowed = peer_allowed(fd, cfg, &c->uid);
		ob_init(&c->out);
		conns[(*n)++] = c;
	}
}

/* ---- main ----------------------------------------------------------------------------------- */

static int lock_state(const char *state_file)
{
	char path[1100];
	snprintf(path, sizeof(path), "%s.lock", state_file);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		ctl_log("error: cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ctl_log("error: %s is locked: another controller uses state file %s", path, state_file);
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

static void usage(FILE *f)
{
	fprintf(f, "usage: mmr-controller -c FILE\n");
}

int main(int argc, char **argv)
{
	const char *conf = NULL;
	int opt;
	while ((opt = getopt(argc, argv, "c:h")) != -1) {
		if (opt == 'c') {
			conf = optarg;
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

	struct ctl_config cfg;
	char err[1024];
	if (ctl_config_load(conf, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "mmr-controller: error: %s\n", err);
		return 2;
	}

	signal(SIGPIPE, SIG_IGN);
	sigset_t block, waitmask;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGTERM);
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	int rc = 1, lock_fd = -1, lfd = -1;
	ino_t sock_ino = 0;
	struct model model;
	struct dp_link dp;
	struct conn *conns[MAX_CONNS];
	unsigned nconns = 0;
	struct ctl_ctx ctx = { .model = &model, .dp = &dp, .cfg = &cfg, .start_ns = mmr_now_ns(), .pid = getpid() };

	if (model_init(&model) < 0) {
		ctl_log("error: out of memory");
		return 1;
	}
	int mk = mkdir_parents(cfg.state_file, 0755);
	if (mk < 0) {
		ctl_log("error: cannot create the directory of %s: %s", cfg.state_file, strerror(-mk));
		goto out_model;
	}
	lock_fd = lock_state(cfg.state_file);
	if (lock_fd < 0)
		goto out_model;
	int ld = state_file_load(&model, cfg.state_file, err, sizeof(err));
	if (ld < 0) {
		ctl_log("error: cannot load state file: %s", err);
		goto out_lock;
	}
	if (ld == 1)
		ctl_log("no state file %s: starting empty", cfg.state_file);
	else
		ctl_log("loaded %s: %u meetings, %u participants, %u streams, %u subscriptions", cfg.state_file,
			model.n_meetings, model.n_parts, model.n_streams, model.n_subs);
	if (dp_link_init(&dp, cfg.shm_name, &model) < 0) {
		ctl_log("error: out of memory");
		goto out_lock;
	}
	dp.on_ledger = ledger_hook;
	dp.on_ledger_arg = &ctx;
	lfd = open_listener(&cfg, &sock_ino);
	if (lfd < 0)
		goto out_dp;
	ctl_log("MMR-CONTROLLER READY (pid %d, socket %s, dataplane %s)", (int)ctx.pid, cfg.socket, cfg.shm_name);

	struct pollfd pfd[MAX_CONNS + 1];
	struct conn *polled[MAX_CONNS + 1];
	while (!stop_signal) {
		uint64_t now = mmr_now_ns();
		dp_link_tick(&dp, now);

		/* settle waiting requests and expire slow clients */
		bool waiting = false;
		for (unsigned i = 0; i < nconns;) {
			struct conn *c = conns[i];
			if (c->state == CONN_WAIT) {
				if (!dp.attached || dp.attach_id != c->req.attach_id)
					conn_reply(&ctx, c, APPLY_LOST, now);
				else if (dp_link_applied(&dp, c->req.wait_seq))
					conn_reply(&ctx, c, APPLY_DONE, now);
				else if (now >= c->deadline_ns)
					conn_reply(&ctx, c, APPLY_TIMEOUT, now);
				else
					waiting = true;
				if (c->state == CONN_WRITE && !conn_write(c, now)) {
					conn_free(c);
					conns[i] = conns[--nconns];
					continue;
				}
			} else if (now >= c->deadline_ns) {
				conn_free(c);
				conns[i] = conns[--nconns];
				continue;
			}
			i++;
		}

		unsigned np = 0;
		if (nconns < MAX_CONNS) {
			pfd[np] = (struct pollfd){ .fd = lfd, .events = POLLIN };
			polled[np++] = NULL;
		}
		for (unsigned i = 0; i < nconns; i++) {
			if (conns[i]->state == CONN_WAIT)
				continue;
			pfd[np] = (struct pollfd){ .fd = conns[i]->fd,
						   .events = conns[i]->state == CONN_READ ? POLLIN : POLLOUT };
			polled[np++] = conns[i];
		}
		/* 1 ms while the dataplane has work to show us, else until the next heartbeat */
		uint64_t wait_ns = (waiting || dp.fifo_len || dp.sync_end_seq != UINT64_MAX ||
				    (dp.attached && events_waiting(&dp.ev))) ? 1000000ull :
				   dp.next_tick_ns > now ? dp.next_tick_ns - now : 0;
		for (unsigned i = 0; i < nconns; i++)
			if (conns[i]->state != CONN_WAIT && conns[i]->deadline_ns > now &&
			    conns[i]->deadline_ns - now < wait_ns)
				wait_ns = conns[i]->deadline_ns - now;
		struct timespec ts = { (time_t)(wait_ns / 1000000000ull), (long)(wait_ns % 1000000000ull) };
		int n = ppoll(pfd, np, &ts, &waitmask);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ctl_log("error: poll: %s", strerror(errno));
			break;
		}
		now = mmr_now_ns();
		for (unsigned i = 0; i < np && n > 0; i++) {
			if (!pfd[i].revents)
				continue;
			struct conn *c = polled[i];
			if (!c) {
				accept_all(lfd, conns, &nconns, &cfg, now);
				continue;
			}
			bool keep;
			if (c->state == CONN_READ) {
				keep = conn_read(&ctx, c, now);
				if (keep && c->state == CONN_WRITE)
					keep = conn_write(c, now);
			} else {
				keep = (pfd[i].revents & (POLLERR | POLLNVAL)) ? false : conn_write(c, now);
			}
			if (!keep) {
				for (unsigned j = 0; j < nconns; j++)
					if (conns[j] == c) {
						conns[j] = conns[--nconns];
						break;
					}
				conn_free(c);
			}
		}
	}
	if (stop_signal)
		ctl_log("signal %d: stopping", (int)stop_signal);
	rc = stop_signal ? 0 : 1;

	for (unsigned i = 0; i < nconns; i++)
		conn_free(conns[i]);
	close(lfd);
	struct stat st;
	if (stat(cfg.socket, &st) == 0 && st.st_ino == sock_ino)
		unlink(cfg.socket);
out_dp:
	dp_link_close(&dp);
out_lock:
	close(lock_fd);
out_model:
	model_free(&model);
	if (rc == 0)
		ctl_log("stopped");
	return rc;
}
