/*
 * updates.c - the update driver of updates.h: SSRC-changing subscription updates through the
 * controller (non-blocking sockets) or the command ring, and their measured effect.
 */
#define _GNU_SOURCE
#include "updates.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_proto.h"

#define CONN_BUF 512u

enum conn_state { CONN_IDLE = 0, CONN_READING };

struct upd_conn {
	int fd;
	enum conn_state state;
	uint32_t target;
	uint32_t have;            /* bytes of the answer read so far */
	uint32_t need;            /* header + payload length once the header is in */
	uint8_t buf[CONN_BUF];
};

static void on_copy(void *ctx, uint32_t idx, uint32_t ssrc, uint64_t now)
{
	struct updates *u = ctx;
	struct upd_target *t = &u->t[idx];
	if (!t->pending || ((ssrc & GEN_SSRC_ALT_BIT) != 0) != t->alt)
		return;
	t->pending = 0;
	u->effects++;
	lhist_add(&u->effect, now - t->t_req);
}

int updates_init(struct updates *u, enum upd_mode mode, const struct gen_model *m, struct rx_track *rx,
		 const struct gen_setup *su, uint32_t n_flows, int bulk, double rate, uint32_t inflight,
		 const char *socket, struct cmd_chan *ring, uint64_t tsc_hz)
{
	memset(u, 0, sizeof(*u));
	u->mode = mode;
	if (mode == UPD_NONE)
		return 0;
	u->m = m;
	u->socket = socket;
	u->ring = ring;
	u->rate = rate;
	u->inflight = inflight ? inflight : 1;
	u->tsc_hz = tsc_hz;
	u->timeout_cycles = tsc_hz / 2;   /* 500 ms */
	if (mode == UPD_RING && (!su || !su->sub_of_flow)) {
		fprintf(stderr, "mmr-gen: updates through the ring need a ring set-up\n");
		return -EINVAL;
	}
	if (bulk && mode != UPD_RING) {
		fprintf(stderr, "mmr-gen: bulk updates go through the ring only\n");
		return -EINVAL;
	}
	uint32_t cap = n_flows + (bulk ? m->n_parts * m->slots_per_meeting : 0);
	u->t = calloc(cap ? cap : 1, sizeof(*u->t));
	if (!u->t)
		return -ENOMEM;
	/* audio flows of port-0 receivers, spread over meetings: meeting-major round robin */
	for (uint32_t j = 0; j < m->per_meeting && u->n_targets < n_flows; j++) {
		for (uint32_t mt = 0; mt < m->meetings && u->n_targets < n_flows; mt++) {
			uint32_t p = mt * m->per_meeting + j;
			if (gen_part_dp_port(m, p) != 0)
				continue;
			for (uint32_t sl = 1; sl < m->slots_per_meeting && u->n_targets < n_flows; sl += 2) {
				uint32_t si = m->stream_of_slot[mt * m->slots_per_meeting + sl];
				if (si == UINT32_MAX || !gen_receives(m, p, &m->streams[si]))
					continue;
				uint32_t fi = p * m->slots_per_meeting + sl;
				struct upd_target *t = &u->t[u->n_targets];
				t->flow = fi;
				t->stream = si;
				t->part = p;
				t->sub_id = su && su->sub_of_flow ? su->sub_of_flow[fi] : UINT32_MAX;
				rx->flow[fi].upd = ++u->n_targets;
			}
		}
	}
	u->n_measured = u->n_targets;
	for (uint32_t p = 0; bulk && p < m->n_parts; p++) {
		if (gen_part_dp_port(m, p) == 0)
			continue;
		uint32_t mt = gen_part_meeting(m, p);
		for (uint32_t sl = 0; sl < m->slots_per_meeting; sl++) {
			uint32_t si = m->stream_of_slot[mt * m->slots_per_meeting + sl];
			if (si == UINT32_MAX || !gen_receives(m, p, &m->streams[si]))
				continue;
			uint32_t fi = p * m->slots_per_meeting + sl;
			struct upd_target *t = &u->t[u->n_targets++];
			t->flow = fi;
			t->stream = si;
			t->part = p;
			t->sub_id = su->sub_of_flow[fi];
			t->bulk = 1;
		}
	}
	if (u->n_measured == 0) {
		fprintf(stderr, "mmr-gen: updates: no audio subscription of a port-0 receiver to touch\n");
		return -EINVAL;
	}
	if (mode == UPD_CTL) {
		u->conns = calloc(u->inflight, sizeof(*u->conns));
		if (!u->conns)
			return -ENOMEM;
		for (uint32_t i = 0; i < u->inflight; i++)
			u->conns[i].fd = -1;
	}
	rx->on_touched = on_copy;
	rx->touched_ctx = u;
	return 0;
}

void updates_free(struct updates *u)
{
	if (u->conns)
		for (uint32_t i = 0; i < u->inflight; i++)
			if (u->conns[i].fd >= 0)
				close(u->conns[i].fd);
	free(u->conns);
	free(u->t);
	u->conns = NULL;
	u->t = NULL;
}

void updates_window_start(struct updates *u)
{
	u->issued = u->issued_bulk = u->effects = u->timeouts = u->ctl_errors = u->ring_full = u->ctl_answers = 0;
	lhist_reset(&u->effect);
	lhist_reset(&u->answer);
	u->active = 1;
	u->next_issue_tsc = 0;
}

void updates_stop(struct updates *u)
{
	u->active = 0;
}

static int ctl_send(struct updates *u, struct upd_conn *c, const struct upd_target *t, uint8_t alt)
{
	const struct gen_stream *s = &u->m->streams[t->stream];
	char a[10][32];
	char *v[10];
	for (int i = 0; i < 10; i++)
		v[i] = a[i];
	snprintf(a[0], 32, "sub");
	snprintf(a[1], 32, "set");
	snprintf(a[2], 32, "m%u", s->meeting);
	snprintf(a[3], 32, "p%u", t->part);
	snprintf(a[4], 32, "--ssrc");
	snprintf(a[5], 32, "%u", s->ssrc);
	snprintf(a[6], 32, "--target");
	snprintf(a[7], 32, "%u", gen_target_tid(u->m, t->part, s));
	snprintf(a[8], 32, "--out-ssrc");
	snprintf(a[9], 32, "%u", alt ? s->ssrc | GEN_SSRC_ALT_BIT : s->ssrc);
	uint8_t *req = NULL;
	size_t len;
	if (ctl_request_encode(10, v, &req, &len) < 0)
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		free(req);
		return -1;
	}
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", u->socket);
	/* a Unix stream connect completes at once or fails (EAGAIN: backlog full) */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len) {
		close(fd);
		free(req);
		return -1;
	}
	free(req);
	c->fd = fd;
	c->state = CONN_READING;
	c->have = 0;
	c->need = CTL_HDR_LEN;
	return 0;
}

/* Read what the controller answered so far; returns 1 when the answer is complete. */
static int ctl_read(struct updates *u, struct upd_conn *c, uint64_t now)
{
	for (;;) {
		uint32_t want = c->need - c->have;
		if (want == 0)
			break;
		if (c->have + want > CONN_BUF)
			want = CONN_BUF - c->have;
		ssize_t r = read(c->fd, c->buf + c->have, want);
		if (r < 0)
			return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
		if (r == 0)
			return -1;
		c->have += (uint32_t)r;
		if (c->have == CTL_HDR_LEN && c->need == CTL_HDR_LEN) {
			int64_t plen = ctl_frame_check(c->buf, CTL_RESP_MAGIC, CONN_BUF - CTL_HDR_LEN);
			if (plen < 0)
				return -1;
			c->need = CTL_HDR_LEN + (uint32_t)plen;
		}
	}
	struct upd_target *t = &u->t[c->target];
	lhist_add(&u->answer, now - t->t_req);
	size_t sl, bl;
	const char *b;
	int st = ctl_response_parse((const char *)c->buf + CTL_HDR_LEN, c->need - CTL_HDR_LEN, &sl, &b, &bl);
	return st == 0 ? 1 : -1;
}

static void conn_close(struct upd_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->state = CONN_IDLE;
}

/* Next touched flow that may get an update now, or UINT32_MAX. */
static uint32_t next_target(struct updates *u, uint64_t now)
{
	for (uint32_t k = 0; k < u->n_targets; k++) {
		uint32_t i = u->cursor;
		u->cursor = (u->cursor + 1) % u->n_targets;
		struct upd_target *t = &u->t[i];
		if (t->pending && now - t->t_req > u->timeout_cycles) {
			u->timeouts++;
			t->pending = 0;
		}
		if (!t->pending && now >= t->t_issue_next)
			return i;
	}
	return UINT32_MAX;
}

static int issue_one(struct updates *u, uint32_t i, uint64_t now, struct upd_conn *c)
{
	struct upd_target *t = &u->t[i];
	uint8_t alt = (uint8_t)!t->alt;
	if (u->mode == UPD_RING) {
		const struct gen_stream *s = &u->m->streams[t->stream];
		struct mmr_cmd cmd;
		memset(&cmd, 0, sizeof(cmd));
		cmd.op = MMR_CMD_SUB_PUT;
		cmd.u.sub.id = t->sub_id;
		cmd.u.sub.stream_id = s->dp_stream_id;
		cmd.u.sub.subscriber_id = t->part;
		cmd.u.sub.out_ssrc = alt && !u->targets_only ? s->ssrc | GEN_SSRC_ALT_BIT : s->ssrc;
		gen_sub_targets(u->m, t->part, s, &cmd.u.sub);
		if (u->targets_only)
			cmd.u.sub.target_tid ^= alt;   /* 0..3 stays 0..3 */
		cmd.u.sub.sel_id = t->sub_id;
		if (cmd_chan_push(u->ring, &cmd) != 0) {
			u->ring_full++;
			return -1;
		}
	} else {
		if (ctl_send(u, c, t, alt) < 0) {
			u->ctl_errors++;
			return -1;
		}
		c->target = i;
		t->conn = (uint16_t)(c - u->conns);
	}
	t->alt = alt;
	u->issued++;
	if (t->bulk || u->targets_only) {
		u->issued_bulk++;
		return 0;
	}
	t->pending = 1;
	t->t_req = now;
	return 0;
}

void updates_poll(struct updates *u, uint64_t now)
{
	if (u->mode == UPD_NONE)
		return;
	if (u->mode == UPD_CTL) {
		/* answers: at most every 10 us, these are syscalls */
		if (now - u->last_poll_tsc < u->tsc_hz / 100000)
			return;
		u->last_poll_tsc = now;
		for (uint32_t k = 0; k < u->inflight; k++) {
			struct upd_conn *c = &u->conns[k];
			if (c->state != CONN_READING)
				continue;
			int r = ctl_read(u, c, now);
			if (r == 0)
				continue;
			if (r < 0)
				u->ctl_errors++;
			else
				u->ctl_answers++;
			conn_close(c);
		}
	}
	if (!u->active)
		return;
	/* pacing: with a rate, one update every tsc_hz / rate cycles (catching up at most 64) */
	int budget = 64;
	while (budget-- > 0) {
		if (u->rate > 0 && now < u->next_issue_tsc)
			return;
		struct upd_conn *c = NULL;
		if (u->mode == UPD_CTL) {
			for (uint32_t k = 0; k < u->inflight && !c; k++)
				if (u->conns[k].state == CONN_IDLE)
					c = &u->conns[k];
			if (!c)
				return;
		}
		uint32_t i = next_target(u, now);
		if (i == UINT32_MAX)
			return;
		if (issue_one(u, i, now, c) < 0)
			return;
		if (u->rate > 0) {
			uint64_t step = (uint64_t)((double)u->tsc_hz / u->rate);
			u->next_issue_tsc = (u->next_issue_tsc && now - u->next_issue_tsc < 64 * step ?
					     u->next_issue_tsc : now) + step;
		}
	}
}
