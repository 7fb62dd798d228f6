/*
 * setup.c - put mmr-gen's meetings into the MMR through the controller, a script, or the
 * dataplane's command ring (see setup.h).
 */
#define _GNU_SOURCE
#include "setup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl_proto.h"
#include "stun_checks.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void ip_text(uint32_t ip, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

int ctl_call(const char *path, int argc, char **argv, char **body)
{
	uint8_t *req = NULL, hdr[CTL_HDR_LEN];
	size_t req_len;
	char *payload = NULL;
	int rc, fd;

	*body = NULL;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		goto out;
	}
	rc = ctl_request_encode(argc, argv, &req, &req_len);
	if (rc < 0)
		goto out;
	rc = ctl_write_all(fd, req, req_len);
	if (rc < 0)
		goto out;
	rc = ctl_read_all(fd, hdr, sizeof(hdr));
	if (rc < 0)
		goto out;
	int64_t len = ctl_frame_check(hdr, CTL_RESP_MAGIC, CTL_MAX_RESPONSE);
	if (len < 0) {
		rc = -EPROTO;
		goto out;
	}
	payload = malloc((size_t)len + 1);
	if (!payload) {
		rc = -ENOMEM;
		goto out;
	}
	rc = ctl_read_all(fd, payload, (size_t)len);
	if (rc < 0)
		goto out;
	payload[len] = 0;
	size_t status_len, body_len;
	const char *b;
	int st = ctl_response_parse(payload, (size_t)len, &status_len, &b, &body_len);
	if (st < 0) {
		rc = -EPROTO;
		goto out;
	}
	if (st == 1) {
		payload[status_len] = 0;
		*body = payload;
		payload = NULL;
		rc = 1;
		goto out;
	}
	*body = strndup(b, body_len);
	rc = *body ? 0 : -ENOMEM;
out:
	free(payload);
	free(req);
	close(fd);
	return rc;
}

/* "send_key inline:..." and "recv_key inline:..." lines of a participant add answer. */
static int parse_keys(enum srtp_suite suite, const char *body, struct srtp_master *send,
		      struct srtp_master *recv)
{
	int found = 0;
	const char *names[2] = { "send_key", "recv_key" };
	struct srtp_master *out[2] = { send, recv };
	for (int k = 0; k < 2; k++) {
		const char *p = strstr(body, names[k]);
		if (!p)
			continue;
		p += strlen(names[k]);
		while (*p == ' ' || *p == ':' || *p == '=' || *p == '"')
			p++;
		char text[256];
		size_t n = strcspn(p, " \t\r\n\",}");
		if (n >= sizeof(text))
			continue;
		memcpy(text, p, n);
		text[n] = 0;
		if (srtp_master_from_inline(suite, text, out[k]) == 0)
			found++;
	}
	return found == 2 ? 0 : -1;
}

/* Wait (at most wait_s) until the controller answers and has a dataplane attached. */
static int wait_controller(struct gen_setup *su, double wait_s)
{
	char a0[] = "--json", a1[] = "status";
	char *v[2] = { a0, a1 };
	double deadline = now_s() + wait_s;
	for (;;) {
		char *body = NULL;
		int rc = ctl_call(su->socket, 2, v, &body);
		const char *p = rc == 0 && body ? strstr(body, "\"attached\"") : NULL;
		if (p) {
			p += strlen("\"attached\"");
			while (*p == ' ' || *p == ':')
				p++;
		}
		int attached = p && strncmp(p, "true", 4) == 0;
		free(body);
		if (attached)
			return 0;
		if (now_s() > deadline) {
			fprintf(stderr, "mmr-gen: setup: no controller with an attached dataplane at %s within %.0f s%s%s\n",
				su->socket, wait_s, rc < 0 ? ": " : "", rc < 0 ? strerror(-rc) : "");
			return -1;
		}
		usleep(50000);
	}
}

/* The `sub set` options of receiver p's layer targets for video stream s (into 4 buffers of 96
 * bytes); returns how many arguments. */
static int target_args(const struct gen_model *m, uint32_t p, const struct gen_stream *s, char *a0, char *a1,
		       char *a2, char *a3)
{
	uint8_t t = gen_target_tid(m, p, s), sid = gen_target_sid(m, p, s);
	if (m->video_codec == GEN_VC_AV1) {
		snprintf(a0, 96, "--dt");
		snprintf(a1, 96, "%u", sid * GEN_SVC_LAYERS + t);
		return 2;
	}
	snprintf(a0, 96, "--target");
	snprintf(a1, 96, "%u", t);
	if (m->video_codec != GEN_VC_VP9)
		return 2;
	snprintf(a2, 96, "--spatial");
	snprintf(a3, 96, "%u", sid);
	return 4;
}

void gen_sub_targets(const struct gen_model *m, uint32_t p, const struct gen_stream *s, struct mmr_cmd_sub *c)
{
	c->target_tid = gen_target_tid(m, p, s);
	c->target_sid = gen_target_sid(m, p, s);
	c->target_dt = (uint8_t)(c->target_sid * GEN_SVC_LAYERS + c->target_tid);
	if (s->kind == GEN_AUDIO || m->video_codec == GEN_VC_VP8)
		c->target_sid = c->target_dt = 0;
}

/*
 * The set-up's requests go over one connection, up to PIPE_WINDOW ahead of their answers
 * (pipelining, docs/interfaces.md): a 100,000-participant zone is set up in seconds, through the
 * controller and its journal like any other change.
 */
#define PIPE_WINDOW 64

struct pipe {
	int fd;
	struct gen_setup *su;
	uint32_t part[PIPE_WINDOW];     /* participant whose keys the answer carries, or UINT32_MAX */
	char what[PIPE_WINDOW][96];     /* the command, for an error */
	unsigned head, n;
	uint8_t *buf;                   /* answers read, not yet taken */
	size_t len, cap;
};

static int pipe_open(struct pipe *pp, struct gen_setup *su)
{
	memset(pp, 0, sizeof(*pp));
	pp->su = su;
	pp->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (pp->fd < 0)
		return -errno;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", su->socket);
	if (connect(pp->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;
		close(pp->fd);
		return e;
	}
	return 0;
}

/* Take one answer (blocking); 0, or -1 (printed). */
static int pipe_take(struct pipe *pp)
{
	for (;;) {
		if (pp->len >= CTL_HDR_LEN) {
			int64_t len = ctl_frame_check(pp->buf, CTL_RESP_MAGIC, CTL_MAX_RESPONSE);
			if (len < 0) {
				fprintf(stderr, "mmr-gen: setup: malformed answer from the controller\n");
				return -1;
			}
			if (pp->len >= CTL_HDR_LEN + (size_t)len) {
				const char *payload = (const char *)pp->buf + CTL_HDR_LEN, *body;
				size_t status_len, body_len;
				int st = ctl_response_parse(payload, (size_t)len, &status_len, &body, &body_len);
				uint32_t p = pp->part[pp->head];
				int rc = 0;
				if (st != 0) {
					fprintf(stderr, "mmr-gen: setup: `mmrctl %s`: %.*s\n", pp->what[pp->head], (int)status_len,
						payload);
					rc = -1;
				} else if (p != UINT32_MAX) {
					char *b = strndup(body, body_len);
					if (!b || parse_keys(pp->su->srtp, b, &pp->su->send_key[p], &pp->su->recv_key[p]) < 0) {
						fprintf(stderr, "mmr-gen: setup: no send_key/recv_key in the answer to participant add p%u\n",
							p);
						rc = -1;
					}
					free(b);
				} else if (body_len >= 5 && memmem(body, body_len, "note:", 5)) {
					fprintf(stderr, "mmr-gen: setup: %.*s", (int)body_len, body);
				}
				size_t used = CTL_HDR_LEN + (size_t)len;
				memmove(pp->buf, pp->buf + used, pp->len - used);
				pp->len -= used;
				pp->head = (pp->head + 1) % PIPE_WINDOW;
				pp->n--;
				return rc;
			}
		}
		if (pp->cap - pp->len < 65536) {
			size_t cap = pp->cap ? pp->cap * 2 : 262144;
			uint8_t *nb = realloc(pp->buf, cap);
			if (!nb)
				return -1;
			pp->buf = nb;
			pp->cap = cap;
		}
		ssize_t r = read(pp->fd, pp->buf + pp->len, pp->cap - pp->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "mmr-gen: setup: the controller closed the connection\n");
			return -1;
		}
		pp->len += (size_t)r;
	}
}

/* Send one request (taking an answer first when the window is full). part: whose keys the answer
 * carries (UINT32_MAX: none). */
static int pipe_send(struct pipe *pp, int argc, char **argv, uint32_t part)
{
	if (pp->n == PIPE_WINDOW && pipe_take(pp) < 0)
		return -1;
	uint8_t *req;
	size_t req_len;
	int rc = ctl_request_encode(argc, argv, &req, &req_len);
	if (rc == 0) {
		rc = ctl_write_all(pp->fd, req, req_len);
		free(req);
	}
	if (rc < 0) {
		fprintf(stderr, "mmr-gen: setup: cannot send to the controller at %s: %s\n", pp->su->socket, strerror(-rc));
		return -1;
	}
	unsigned k = (pp->head + pp->n) % PIPE_WINDOW;
	pp->part[k] = part;
	size_t off = 0;
	pp->what[k][0] = '\0';
	for (int i = 0; i < argc && off < sizeof(pp->what[k]) - 1; i++)
		off += (size_t)snprintf(pp->what[k] + off, sizeof(pp->what[k]) - off, "%s%s", i ? " " : "", argv[i]);
	pp->n++;
	pp->su->requests++;
	return 0;
}

static int pipe_close(struct pipe *pp)
{
	int rc = 0;
	while (pp->n && rc == 0)
		rc = pipe_take(pp);
	close(pp->fd);
	free(pp->buf);
	return rc;
}

int setup_ctl(struct gen_setup *su, const struct gen_model *m)
{
	char a[20][96];
	char *v[20];
	struct pipe pp;
	for (int i = 0; i < 20; i++)
		v[i] = a[i];
	if (wait_controller(su, su->wait_s) < 0)
		return -1;
	double t0 = now_s();
	if (su->srtp != SRTP_SUITE_NONE) {
		su->send_key = calloc(m->n_parts, sizeof(*su->send_key));
		su->recv_key = calloc(m->n_parts, sizeof(*su->recv_key));
		if (!su->send_key || !su->recv_key)
			return -ENOMEM;
	}
	int rc = pipe_open(&pp, su);
	if (rc < 0) {
		fprintf(stderr, "mmr-gen: setup: cannot reach the controller at %s: %s\n", su->socket, strerror(-rc));
		return -1;
	}
	for (uint32_t mt = 0; mt < m->meetings; mt++) {
		int n = 0;
		snprintf(a[n++], 96, "meeting");
		snprintf(a[n++], 96, "create");
		snprintf(a[n++], 96, "m%u", mt);
		if (su->srtp != SRTP_SUITE_NONE) {
			snprintf(a[n++], 96, "--srtp");
			snprintf(a[n++], 96, "%s", srtp_suite_name(su->srtp));
		} else {
			snprintf(a[n++], 96, "--plain");     /* the controller's default is SRTP */
		}
		if (su->top_n) {
			snprintf(a[n++], 96, "--top-n");
			snprintf(a[n++], 96, "%u", su->top_n);
		}
		if (pipe_send(&pp, n, v, UINT32_MAX) < 0)
			goto fail;
	}
	for (uint32_t p = 0; p < m->n_parts; p++) {
		char ip[32];
		ip_text(gen_part_ip(m, p), ip, sizeof(ip));
		snprintf(a[0], 96, "participant");
		snprintf(a[1], 96, "add");
		snprintf(a[2], 96, "m%u", gen_part_meeting(m, p));
		snprintf(a[3], 96, "p%u", p);
		snprintf(a[4], 96, "--addr");
		snprintf(a[5], 96, "%s", ip);
		snprintf(a[6], 96, "--port");
		snprintf(a[7], 96, "%u", gen_part_port(p));
		snprintf(a[8], 96, "--role");
		snprintf(a[9], 96, "%s", gen_part_is_publisher(m, p) ? "sendrecv" : "recvonly");
		snprintf(a[10], 96, "--dp-port");
		snprintf(a[11], 96, "%d", gen_part_dp_port(m, p));
		int n = 12;
		if (su->rtcp_fb) {
			snprintf(a[n++], 96, "--rtcp");
			snprintf(a[n++], 96, "%s", su->rtcp_fb);
		}
		if (su->ext[0]) {
			snprintf(a[n++], 96, "--ext");
			snprintf(a[n++], 96, "%s", su->ext);
		}
		if (su->ice) {
			char ufrag[STUN_UFRAG_LEN + 1], pwd[STUN_PWD_LEN + 1];
			stun_checks_creds(p, ufrag, pwd);
			snprintf(a[n++], 96, "--ice");
			snprintf(a[n++], 96, "%s:%s", ufrag, pwd);
		}
		if (pipe_send(&pp, n, v, su->srtp != SRTP_SUITE_NONE ? p : UINT32_MAX) < 0)
			goto fail;
	}
	for (uint32_t i = 0; i < m->n_streams; i++) {
		const struct gen_stream *s = &m->streams[i];
		int vid = s->kind == GEN_VIDEO;
		int n = 0;
		snprintf(a[n++], 96, "stream");
		snprintf(a[n++], 96, "add");
		snprintf(a[n++], 96, "m%u", s->meeting);
		snprintf(a[n++], 96, "p%u", s->part);
		snprintf(a[n++], 96, "--ssrc");
		snprintf(a[n++], 96, "%u", s->ssrc);
		snprintf(a[n++], 96, "--kind");
		snprintf(a[n++], 96, "%s", vid ? "video" : "audio");
		snprintf(a[n++], 96, "--codec");
		snprintf(a[n++], 96, "%s", vid ? gen_video_codec_name(m->video_codec) : "opus");
		if (vid) {
			snprintf(a[n++], 96, "--layers");
			snprintf(a[n++], 96, "3");
		}
		if (vid && m->video_codec != GEN_VC_VP8) {
			snprintf(a[n++], 96, "--spatial");
			snprintf(a[n++], 96, "%u", GEN_SVC_LAYERS);
		}
		if (vid && m->video_codec == GEN_VC_AV1) {
			snprintf(a[n++], 96, "--dd-ext");
			snprintf(a[n++], 96, "%u", m->dd_ext_id);
		}
		if (pipe_send(&pp, n, v, UINT32_MAX) < 0)
			goto fail;
	}
	/* layer targets other than the default (the top layer) */
	for (uint32_t i = 0; i < m->n_streams; i++) {
		const struct gen_stream *s = &m->streams[i];
		if (s->kind != GEN_VIDEO)
			continue;
		uint32_t first = s->meeting * m->per_meeting;
		for (uint32_t p = first; p < first + m->per_meeting; p++) {
			if (!gen_receives(m, p, s))
				continue;
			if (gen_target_is_top(m, p, s))
				continue;
			snprintf(a[0], 96, "sub");
			snprintf(a[1], 96, "set");
			snprintf(a[2], 96, "m%u", s->meeting);
			snprintf(a[3], 96, "p%u", p);
			snprintf(a[4], 96, "--ssrc");
			snprintf(a[5], 96, "%u", s->ssrc);
			int n = 6 + target_args(m, p, s, a[6], a[7], a[8], a[9]);
			if (pipe_send(&pp, n, v, UINT32_MAX) < 0)
				goto fail;
		}
	}
	if (pipe_close(&pp) < 0)
		return -1;
	su->seconds = now_s() - t0;
	return 0;
fail:
	close(pp.fd);
	free(pp.buf);
	return -1;
}

int setup_script(const struct gen_setup *su, const struct gen_model *m, const char *path)
{
	enum srtp_suite srtp = su->srtp;
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "#!/bin/sh\n# written by mmr-gen: %u meeting(s) of %u participants, %u video and %u audio "
		"publishers each\nset -e\nMMRCTL=${MMRCTL:-mmrctl}\n", m->meetings, m->per_meeting,
		m->video_pubs, m->audio_pubs);
	char topn[32] = "";
	if (su->top_n)
		snprintf(topn, sizeof(topn), " --top-n %u", su->top_n);
	for (uint32_t mt = 0; mt < m->meetings; mt++) {
		if (srtp != SRTP_SUITE_NONE)
			fprintf(f, "$MMRCTL meeting create m%u --srtp %s%s\n", mt, srtp_suite_name(srtp), topn);
		else
			fprintf(f, "$MMRCTL meeting create m%u --plain%s\n", mt, topn);
	}
	for (uint32_t p = 0; p < m->n_parts; p++) {
		char ip[32];
		ip_text(gen_part_ip(m, p), ip, sizeof(ip));
		char ufrag[STUN_UFRAG_LEN + 1], pwd[STUN_PWD_LEN + 1];
		stun_checks_creds(p, ufrag, pwd);
		fprintf(f, "$MMRCTL participant add m%u p%u --addr %s --port %u --role %s --dp-port %d%s%s%s%s%s%s%s%s\n",
			gen_part_meeting(m, p), p, ip, gen_part_port(p),
			gen_part_is_publisher(m, p) ? "sendrecv" : "recvonly", gen_part_dp_port(m, p),
			su->rtcp_fb ? " --rtcp " : "", su->rtcp_fb ? su->rtcp_fb : "", su->ext[0] ? " --ext " : "", su->ext,
			su->ice ? " --ice " : "", su->ice ? ufrag : "", su->ice ? ":" : "", su->ice ? pwd : "");
	}
	for (uint32_t i = 0; i < m->n_streams; i++) {
		const struct gen_stream *s = &m->streams[i];
		if (s->kind == GEN_VIDEO && m->video_codec == GEN_VC_AV1)
			fprintf(f, "$MMRCTL stream add m%u p%u --ssrc %u --kind video --codec av1 --layers 3 "
				"--spatial %u --dd-ext %u\n", s->meeting, s->part, s->ssrc, GEN_SVC_LAYERS, m->dd_ext_id);
		else if (s->kind == GEN_VIDEO && m->video_codec == GEN_VC_VP9)
			fprintf(f, "$MMRCTL stream add m%u p%u --ssrc %u --kind video --codec vp9 --layers 3 "
				"--spatial %u\n", s->meeting, s->part, s->ssrc, GEN_SVC_LAYERS);
		else if (s->kind == GEN_VIDEO)
			fprintf(f, "$MMRCTL stream add m%u p%u --ssrc %u --kind video --codec vp8 --layers 3\n",
				s->meeting, s->part, s->ssrc);
		else
			fprintf(f, "$MMRCTL stream add m%u p%u --ssrc %u --kind audio --codec opus\n",
				s->meeting, s->part, s->ssrc);
	}
	for (uint32_t i = 0; i < m->n_streams; i++) {
		const struct gen_stream *s = &m->streams[i];
		if (s->kind != GEN_VIDEO)
			continue;
		uint32_t first = s->meeting * m->per_meeting;
		for (uint32_t p = first; p < first + m->per_meeting; p++) {
			char a[4][96] = { "", "", "", "" };
			if (!gen_receives(m, p, s) || gen_target_is_top(m, p, s))
				continue;
			target_args(m, p, s, a[0], a[1], a[2], a[3]);
			fprintf(f, "$MMRCTL sub set m%u p%u --ssrc %u %s %s%s%s%s%s\n", s->meeting, p, s->ssrc,
				a[0], a[1], a[2][0] ? " " : "", a[2], a[3][0] ? " " : "", a[3]);
		}
	}
	int bad = ferror(f);
	if (fclose(f) != 0 || bad)
		return -EIO;
	return 0;
}

int ring_push_wait(struct cmd_chan *ch, struct mmr_cmd *c, unsigned timeout_ms)
{
	double deadline = now_s() + timeout_ms / 1000.0;
	for (;;) {
		int rc = cmd_chan_push(ch, c);
		if (rc != -EAGAIN)
			return rc;
		if (now_s() > deadline)
			return -ETIMEDOUT;
		usleep(20);
	}
}

int ring_wait_applied(struct cmd_chan *ch, unsigned timeout_ms)
{
	double deadline = now_s() + timeout_ms / 1000.0;
	while (atomic_load_explicit(&ch->shm->head, memory_order_acquire) !=
	       atomic_load_explicit(&ch->shm->tail, memory_order_acquire)) {
		if (now_s() > deadline)
			return -ETIMEDOUT;
		usleep(100);
	}
	return 0;
}

static uint32_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return (uint32_t)(*x >> 16);
}

int setup_ring(struct gen_setup *su, const struct gen_model *m, struct cmd_chan *ch)
{
	double t0 = now_s();
	struct mmr_cmd c;
	uint64_t rejected0 = atomic_load(&ch->shm->rejected);
	uint32_t n_flows = m->n_parts * m->slots_per_meeting;
	/* the ring's producer from now on (fencing, lib/cmd_chan.h): no controller runs beside us */
	if (cmd_chan_take_over(ch, atomic_load(&ch->shm->owner_token)) < 0) {
		fprintf(stderr, "mmr-gen: setup: another producer took the command ring at the same time\n");
		return -EBUSY;
	}
	uint32_t *ids = NULL;
	int rc = -ENOMEM;

	su->sub_of_flow = malloc((size_t)n_flows * sizeof(uint32_t));
	if (!su->sub_of_flow)
		goto out;
	memset(su->sub_of_flow, 0xff, (size_t)n_flows * sizeof(uint32_t));

	/* how many subscriptions, and their ids (a permutation when shuffled) */
	uint32_t n_subs = 0;
	for (uint32_t i = 0; i < m->n_streams; i++)
		if (!su->top_n || m->streams[i].kind == GEN_VIDEO)
			n_subs += m->per_meeting - 1;
	n_subs += su->top_n * m->n_parts;        /* top-N: one subscription per receiver and slot */
	uint32_t n_vslots = 0;                   /* --video-slots: one slot subscription per video one */
	for (uint32_t i = 0; su->video_slots && i < m->n_streams; i++)
		if (m->streams[i].kind == GEN_VIDEO)
			n_vslots += m->per_meeting - 1;
	if (n_subs + n_vslots > MMR_MAX_SUBS) {
		fprintf(stderr, "mmr-gen: setup: %u subscriptions and %u video slots exceed the dataplane's limits\n",
			n_subs, n_vslots);
		rc = -E2BIG;
		goto out;
	}
	uint32_t next_vslot = n_subs;            /* the slots' ids follow the subscriptions' */
	if (n_subs > MMR_MAX_SUBS || m->n_streams > MMR_MAX_STREAMS || m->n_parts > MMR_MAX_PARTICIPANTS) {
		fprintf(stderr, "mmr-gen: setup: %u participants, %u streams, %u subscriptions exceed the "
			"dataplane's limits\n", m->n_parts, m->n_streams, n_subs);
		rc = -E2BIG;
		goto out;
	}
	ids = malloc((size_t)(n_subs ? n_subs : 1) * sizeof(uint32_t));
	if (!ids)
		goto out;
	for (uint32_t i = 0; i < n_subs; i++)
		ids[i] = i;
	if (su->shuffle_ids) {
		uint64_t x = 0x2545f4914f6cdd1dull;
		for (uint32_t i = n_subs; i > 1; i--) {
			uint32_t j = rnd(&x) % i;
			uint32_t t = ids[i - 1];
			ids[i - 1] = ids[j];
			ids[j] = t;
		}
	}

	for (uint32_t mt = 0; su->top_n && mt < m->meetings; mt++) {
		memset(&c, 0, sizeof(c));
		c.op = MMR_CMD_MEETING_PUT;
		c.u.meeting.meeting_id = mt;
		c.u.meeting.top_n = su->top_n;
		if ((rc = ring_push_wait(ch, &c, 10000)) < 0)
			goto out;
	}
	for (uint32_t p = 0; p < m->n_parts; p++) {
		memset(&c, 0, sizeof(c));
		c.op = MMR_CMD_PARTICIPANT_PUT;
		c.u.participant.id = p;
		c.u.participant.meeting_id = gen_part_meeting(m, p);
		c.u.participant.addr.family = MMR_AF_INET;
		uint32_t ip = gen_part_ip(m, p);
		c.u.participant.addr.ip[0] = (uint8_t)(ip >> 24);
		c.u.participant.addr.ip[1] = (uint8_t)(ip >> 16);
		c.u.participant.addr.ip[2] = (uint8_t)(ip >> 8);
		c.u.participant.addr.ip[3] = (uint8_t)ip;
		c.u.participant.udp_port = gen_part_port(p);
		c.u.participant.dp_port = (uint16_t)gen_part_dp_port(m, p);
		c.u.participant.role = gen_part_is_publisher(m, p) ? MMR_ROLE_SENDRECV : MMR_ROLE_RECVONLY;
		if (su->twcc_ext_id) {
			c.u.participant.fb = MMR_FB_DEFAULT | MMR_FB_TWCC;
			c.u.participant.twcc_ext_id = su->twcc_ext_id;
			c.u.participant.mmr_ssrc = 0x5B000000u + p;
		}
		c.u.participant.level_ext_id = su->level_ext_id;
		if ((rc = ring_push_wait(ch, &c, 10000)) < 0)
			goto out;
	}
	for (uint32_t i = 0; i < m->n_streams; i++) {
		struct gen_stream *s = &m->streams[i];
		memset(&c, 0, sizeof(c));
		c.op = MMR_CMD_STREAM_PUT;
		c.u.stream.id = i;
		c.u.stream.participant_id = s->part;
		c.u.stream.ssrc = s->ssrc;
		c.u.stream.kind = s->kind == GEN_VIDEO ? MMR_KIND_VIDEO : MMR_KIND_AUDIO;
		c.u.stream.codec = s->kind == GEN_VIDEO ? gen_video_mmr_codec(m) : MMR_CODEC_OPUS;
		c.u.stream.temporal_layers = s->kind == GEN_VIDEO ? 3 : 1;
		c.u.stream.spatial_layers = s->kind == GEN_VIDEO && m->video_codec != GEN_VC_VP8 ? GEN_SVC_LAYERS : 1;
		c.u.stream.group_id = MMR_ID_NONE;
		if (s->kind == GEN_VIDEO && m->video_codec == GEN_VC_AV1)
			c.u.stream.dd_ext_id = m->dd_ext_id;
		s->dp_stream_id = i;
		if ((rc = ring_push_wait(ch, &c, 10000)) < 0)
			goto out;
	}
	uint32_t k = 0;
	for (uint32_t i = 0; i < m->n_streams; i++) {
		const struct gen_stream *s = &m->streams[i];
		uint32_t first = s->meeting * m->per_meeting;
		if (su->top_n && s->kind == GEN_AUDIO)
			continue;                        /* top-N: the slots carry audio */
		for (uint32_t p = first; p < first + m->per_meeting; p++) {
			if (!gen_receives(m, p, s))
				continue;
			memset(&c, 0, sizeof(c));
			c.op = MMR_CMD_SUB_PUT;
			c.u.sub.id = ids[k++];
			c.u.sub.stream_id = i;
			c.u.sub.subscriber_id = p;
			c.u.sub.out_ssrc = s->ssrc;
			gen_sub_targets(m, p, s, &c.u.sub);
			c.u.sub.sel_id = c.u.sub.id;
			if (su->video_slots && s->kind == GEN_VIDEO) {
				/* the receiver's slot for it first (the stream's SSRC as the slot's, so that
				 * what comes back still names the stream), then the stream on the slot */
				struct mmr_cmd a = c;
				a.u.sub.id = next_vslot++;
				a.u.sub.stream_id = MMR_ID_NONE;
				a.u.sub.sel_id = a.u.sub.id;
				a.u.sub.video_slot = 1;
				if ((rc = ring_push_wait(ch, &a, 10000)) < 0)
					goto out;
				c.u.sub.sel_id = a.u.sub.id;
				c.u.sub.video_slot = 1;
				c.u.sub.slot_gen = 1;
			}
			su->sub_of_flow[p * m->slots_per_meeting + s->slot] = c.u.sub.id;
			if ((rc = ring_push_wait(ch, &c, 10000)) < 0)
				goto out;
		}
	}
	for (uint32_t p = 0; p < m->n_parts; p++) {
		for (uint32_t slot = 0; slot < su->top_n; slot++) {
			memset(&c, 0, sizeof(c));
			c.op = MMR_CMD_SUB_PUT;
			c.u.sub.id = ids[k++];
			c.u.sub.stream_id = MMR_ID_NONE;
			c.u.sub.subscriber_id = p;
			c.u.sub.out_ssrc = GEN_SSRC_SLOT + p * MMR_TOPN_MAX + slot;
			c.u.sub.topn_slot = (uint8_t)(slot + 1);
			c.u.sub.sel_id = c.u.sub.id;
			if ((rc = ring_push_wait(ch, &c, 10000)) < 0)
				goto out;
		}
	}
	su->n_subs = k;
	rc = ring_wait_applied(ch, 120000);
	if (rc < 0)
		goto out;
	uint64_t rej = atomic_load(&ch->shm->rejected) - rejected0;
	if (rej) {
		fprintf(stderr, "mmr-gen: setup: the dataplane refused %llu command(s); last: %s\n",
			(unsigned long long)rej, ch->shm->last_error);
		rc = -EINVAL;
		goto out;
	}
	su->requests = (uint64_t)m->n_parts + m->n_streams + k + (next_vslot - n_subs);
	su->seconds = now_s() - t0;
	rc = 0;
out:
	if (rc < 0 && rc != -EINVAL && rc != -E2BIG)
		fprintf(stderr, "mmr-gen: setup through the command ring failed: %s\n", strerror(-rc));
	free(ids);
	return rc;
}

void setup_free(struct gen_setup *su)
{
	free(su->sub_of_flow);
	free(su->send_key);
	free(su->recv_key);
	su->sub_of_flow = NULL;
	su->send_key = su->recv_key = NULL;
}
