/*
 * dp_link.c - attach to the dataplane's segment, heartbeats, full sync and the command FIFO
 * (see dp_link.h).
 */
#include "dp_link.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "state_file.h"

#define EPOCH_CHECK_NS 500000000ull
#define FIFO_MIN 1024u

static void set_why(struct dp_link *l, const char *why)
{
	if (strcmp(l->why_detached, why) != 0) {
		snprintf(l->why_detached, sizeof(l->why_detached), "%s", why);
		ctl_log("dataplane not attached: %s", why);
	}
}

int dp_link_init(struct dp_link *l, const char *shm_name, struct model *model)
{
	memset(l, 0, sizeof(*l));
	snprintf(l->shm_name, sizeof(l->shm_name), "%s", shm_name);
	l->model = model;
	l->sync_end_seq = UINT64_MAX;
	l->hold_seq = UINT64_MAX;
	snprintf(l->why_detached, sizeof(l->why_detached), "not attached yet");
	l->fifo = malloc(FIFO_MIN * sizeof(*l->fifo));
	if (!l->fifo)
		return -ENOMEM;
	if (events_init(&l->ev) < 0) {
		free(l->fifo);
		l->fifo = NULL;
		return -ENOMEM;
	}
	l->fifo_cap = FIFO_MIN;
	return 0;
}

/* Forget every queued command; requests waiting for them see attach_id move. */
static void drop_fifo(struct dp_link *l)
{
	explicit_bzero(l->fifo, l->fifo_cap * sizeof(*l->fifo));   /* may hold keys */
	l->fifo_len = l->fifo_head = 0;
	l->sync_end_seq = UINT64_MAX;
	l->hold_seq = UINT64_MAX;
	l->attach_id++;
}

static void detach(struct dp_link *l, const char *why)
{
	if (l->attached)
		cmd_chan_close(&l->ch);
	l->attached = false;
	drop_fifo(l);
	set_why(l, why);
}

/* Another controller took over (owner_token is no longer ours): stop driving, for good. The segment
 * is left alone: its heartbeat and pid are the new owner's. */
static void fence(struct dp_link *l)
{
	struct mmr_shm *s = l->ch.shm;
	char why[sizeof(l->why_detached)];
	snprintf(why, sizeof(why),
		 "fenced: another controller (pid %u) took the dataplane over (fencing token %llu, ours was %llu); "
		 "this controller no longer drives it and refuses changes: stop it (restart it to serve as a standby)",
		 atomic_load(&s->ctl_pid), (unsigned long long)atomic_load(&s->owner_token),
		 (unsigned long long)l->token);
	l->fenced = true;
	ctl_log("%s", why);
	detach(l, why);
}

static void full_sync(struct dp_link *l, uint64_t now);

/* We still own the ring but a stale producer may have written over one of our slots: replay our
 * state (idempotent PUTs; SYNC_END deletes nothing we hold). */
static void resync(struct dp_link *l, const char *why, uint64_t now)
{
	ctl_log("%s: replaying this controller's state", why);
	drop_fifo(l);
	l->next_seq = atomic_load(&l->ch.shm->tail);
	l->first_seq = l->next_seq;
	l->resyncs++;
	full_sync(l, now);
}

void dp_link_close(struct dp_link *l)
{
	if (l->attached) {
		struct mmr_shm *s = l->ch.shm;
		if (cmd_chan_owner(&l->ch)) {     /* else they are the new owner's */
			atomic_store(&s->ctl_heartbeat_ns, 0);
			atomic_store(&s->ctl_pid, 0);
		}
		cmd_chan_close(&l->ch);
		l->attached = false;
	}
	if (l->fifo)
		explicit_bzero(l->fifo, l->fifo_cap * sizeof(*l->fifo));
	free(l->fifo);
	l->fifo = NULL;
	events_free(&l->ev);
}

/* ---- the FIFO ------------------------------------------------------------------------------- */

static int fifo_grow(struct dp_link *l)
{
	size_t cap = l->fifo_cap * 2;
	struct mmr_cmd *f = malloc(cap * sizeof(*f));
	if (!f)
		return -ENOMEM;
	for (size_t i = 0; i < l->fifo_len; i++)
		f[i] = l->fifo[(l->fifo_head + i) % l->fifo_cap];
	explicit_bzero(l->fifo, l->fifo_cap * sizeof(*l->fifo));
	free(l->fifo);
	l->fifo = f;
	l->fifo_cap = cap;
	l->fifo_head = 0;
	return 0;
}

uint64_t dp_link_push(struct dp_link *l, struct mmr_cmd *cmd)
{
	if (!l->attached)
		return UINT64_MAX;
	if (l->fifo_len == l->fifo_cap && fifo_grow(l) < 0) {
		detach(l, "out of memory queueing commands; will resync");
		return UINT64_MAX;
	}
	cmd->gen = l->gen;
	cmd->changes = l->model->state_changes;
	cmd->seq = l->next_seq++;
	l->fifo[(l->fifo_head + l->fifo_len) % l->fifo_cap] = *cmd;
	l->fifo_len++;
	return cmd->seq;
}

size_t dp_link_poll(struct dp_link *l)
{
	if (!l->attached)
		return 0;
	bool pushed = false;
	while (l->fifo_len > 0) {
		struct mmr_cmd *c = &l->fifo[l->fifo_head];
		uint64_t want = c->seq;
		if (want >= l->hold_seq)
			break;      /* not durable yet */
		int rc = cmd_chan_push(&l->ch, c);
		if (rc == -EAGAIN)
			break;      /* ring full: the dataplane will make room */
		pushed = true;
		if (rc < 0 || c->seq != want) {
			/* another producer's commands in the ring: fenced, or a stale one woke up */
			if (!cmd_chan_owner(&l->ch)) {
				fence(l);
				return 0;
			}
			char why[128];
			snprintf(why, sizeof(why), "command ring moved under us (seq %llu, expected %llu): another producer",
				 (unsigned long long)c->seq, (unsigned long long)want);
			resync(l, why, mmr_now_ns());
			return l->fifo_len;
		}
		explicit_bzero(c, sizeof(*c));    /* a PARTICIPANT_PUT carries keys: only the ring keeps them */
		l->fifo_head = (l->fifo_head + 1) % l->fifo_cap;
		l->fifo_len--;
	}
	/* what we pushed carries our token: if it is stale, the dataplane refuses it; stop here */
	if (pushed && !cmd_chan_owner(&l->ch)) {
		fence(l);
		return 0;
	}
	if (l->sync_end_seq != UINT64_MAX && dp_link_applied(l, l->sync_end_seq)) {
		ctl_log("full sync gen %u applied by the dataplane in %.1f ms", l->gen,
			(double)(mmr_now_ns() - l->sync_start_ns) / 1e6);
		l->sync_end_seq = UINT64_MAX;
	}
	return l->fifo_len;
}

void dp_link_hold(struct dp_link *l)
{
	if (l->attached && l->hold_seq == UINT64_MAX)
		l->hold_seq = l->next_seq;
}

void dp_link_release(struct dp_link *l)
{
	if (l->hold_seq == UINT64_MAX)
		return;
	l->hold_seq = UINT64_MAX;
	dp_link_poll(l);
	if (l->attached)
		cmd_chan_wake(&l->ch);
}

void dp_link_flush(struct dp_link *l)
{
	if (!l->attached)
		return;
	dp_link_poll(l);
	if (l->attached)
		cmd_chan_wake(&l->ch);
}

void dp_link_drop_held(struct dp_link *l)
{
	if (l->hold_seq == UINT64_MAX)
		return;
	if (l->attached && l->next_seq > l->hold_seq) {
		size_t n = (size_t)(l->next_seq - l->hold_seq);   /* the FIFO's last n */
		for (size_t i = l->fifo_len - n; i < l->fifo_len; i++)
			explicit_bzero(&l->fifo[(l->fifo_head + i) % l->fifo_cap], sizeof(*l->fifo));
		l->fifo_len -= n;
		l->next_seq = l->hold_seq;
	}
	l->hold_seq = UINT64_MAX;
}

/* ---- commands from the model ---------------------------------------------------------------- */

uint64_t dp_link_put_participant(struct dp_link *l, uint32_t id)
{
	const struct m_participant *p = &l->model->parts[id];
	struct mmr_cmd c;
	memset(&c, 0, sizeof(c));
	c.op = MMR_CMD_PARTICIPANT_PUT;
	c.u.participant.id = id;
	c.u.participant.meeting_id = p->meeting;
	c.u.participant.addr = p->addr;
	c.u.participant.udp_port = p->udp_port;
	c.u.participant.dp_port = p->dp_port;
	memcpy(c.u.participant.mac, p->mac, 6);
	c.u.participant.has_mac = p->has_mac;
	c.u.participant.role = p->role;
	c.u.participant.srtp_suite = l->model->meetings[p->meeting].srtp_suite;
	c.u.participant.fb = p->fb;
	c.u.participant.mmr_ssrc = p->mmr_ssrc;
	memcpy(c.u.participant.rtx_map, p->rtx_map, sizeof(c.u.participant.rtx_map));
	c.u.participant.twcc_ext_id = p->twcc_ext_id;
	c.u.participant.abs_ext_id = p->abs_ext_id;
	c.u.participant.level_ext_id = p->level_ext_id;
	c.u.participant.mid_ext_id = p->mid_ext_id;
	c.u.participant.rid_ext_id = p->rid_ext_id;
	c.u.participant.rrid_ext_id = p->rrid_ext_id;
	c.u.participant.n_learn = (uint8_t)model_learn_table(l->model, id, c.u.participant.learn, MMR_LEARN_MAX);
	c.u.participant.ice = p->ice;
	c.u.participant.ice_ufrag_len = p->ice_ufrag_len;
	c.u.participant.ice_pwd_len = p->ice_pwd_len;
	memcpy(c.u.participant.ice_ufrag, p->ice_ufrag, sizeof(c.u.participant.ice_ufrag));
	memcpy(c.u.participant.ice_pwd, p->ice_pwd, sizeof(c.u.participant.ice_pwd));
	c.u.participant.dtls = p->dtls;
	c.u.participant.block = model_participant_block(l->model, id);   /* meeting controls */
	l->model->parts[id].block_sent = c.u.participant.block;
	c.u.participant.dtls_role = p->dtls_role;
	memcpy(c.u.participant.dtls_fp, p->dtls_fp, sizeof(c.u.participant.dtls_fp));
	if (c.u.participant.srtp_suite != SRTP_SUITE_NONE && !p->dtls) {   /* DTLS: the handshake's keys */
		c.u.participant.send_key = p->send_key;
		c.u.participant.recv_key = p->recv_key;
	}
	uint64_t seq = dp_link_push(l, &c);
	explicit_bzero(&c, sizeof(c));
	return seq;
}

uint64_t dp_link_put_stream(struct dp_link *l, uint32_t id)
{
	const struct m_stream *s = &l->model->streams[id];
	struct mmr_cmd c;
	memset(&c, 0, sizeof(c));
	c.op = MMR_CMD_STREAM_PUT;
	c.u.stream.id = id;
	c.u.stream.participant_id = s->participant;
	c.u.stream.ssrc = s->ssrc;
	c.u.stream.kind = s->kind;
	c.u.stream.codec = s->codec;
	c.u.stream.temporal_layers = s->layers;
	c.u.stream.spatial_layers = s->spatial;
	c.u.stream.group_id = s->group;
	c.u.stream.encoding = s->encoding;
	c.u.stream.dd_ext_id = s->dd_ext_id;
	c.u.stream.rtx_ssrc = s->rtx_ssrc;
	c.u.stream.rtx_pt = s->rtx_ssrc ? s->rtx_pt : 0;
	c.u.stream.clock_hz = s->clock_hz;
	c.u.stream.screen = s->screen;
	return dp_link_push(l, &c);
}

/* MMR_TEST_NO_LEARN_CLAMP=1: a learning simulcast group's receivers are given their ceiling, learned or
 * not (the SSRC learning test's negative control: a receiver then gets nothing while its encoding is
 * unknown). */
static bool no_learn_clamp(void)
{
	static int v = -1;
	if (v < 0) {
		const char *e = getenv("MMR_TEST_NO_LEARN_CLAMP");
		v = e && strcmp(e, "1") == 0;
		if (v)
			ctl_log("MMR_TEST_NO_LEARN_CLAMP=1: receivers of a learning simulcast group get their ceiling "
				"(test hook)");
	}
	return v;
}

uint64_t dp_link_put_sub(struct dp_link *l, uint32_t id)
{
	const struct m_sub *b = &l->model->subs[id];
	struct mmr_cmd c;
	memset(&c, 0, sizeof(c));
	c.op = MMR_CMD_SUB_PUT;
	c.u.sub.id = id;
	c.u.sub.stream_id = b->stream;
	c.u.sub.subscriber_id = b->subscriber;
	c.u.sub.out_ssrc = b->out_ssrc;
	c.u.sub.target_tid = b->target;
	c.u.sub.target_sid = b->target_sid;
	c.u.sub.target_dt = b->target_dt;
	/* a simulcast group still learning its SSRCs: the highest encoding learned within the ceiling
	 * (model_learned_encoding), so a receiver gets what flows */
	c.u.sub.target_encoding = b->stream != MMR_ID_NONE && !no_learn_clamp() ?
		model_learned_encoding(l->model, b->stream, b->target_encoding) : b->target_encoding;
	c.u.sub.sel_id = b->sel_id;
	c.u.sub.rtx_ssrc = b->rtx_ssrc;
	c.u.sub.priority = b->priority;
	c.u.sub.topn_slot = b->topn_slot;
	c.u.sub.video_slot = b->video_slot;
	c.u.sub.slot_gen = b->slot_gen;
	return dp_link_push(l, &c);
}

uint64_t dp_link_put_meeting(struct dp_link *l, uint32_t id)
{
	struct mmr_cmd c;
	memset(&c, 0, sizeof(c));
	c.op = MMR_CMD_MEETING_PUT;
	c.u.meeting.meeting_id = id;
	c.u.meeting.top_n = l->model->meetings[id].top_n;
	return dp_link_push(l, &c);
}

uint64_t dp_link_del(struct dp_link *l, enum mmr_cmd_op op, uint32_t id)
{
	struct mmr_cmd c;
	memset(&c, 0, sizeof(c));
	c.op = op;
	c.u.del.id = id;
	return dp_link_push(l, &c);
}

bool dp_link_applied(const struct dp_link *l, uint64_t seq)
{
	return l->attached && atomic_load_explicit(&l->ch.shm->head, memory_order_acquire) > seq;
}

uint64_t dp_link_rejected(const struct dp_link *l)
{
	if (!l->attached)
		return 0;
	/* not counting the stale commands of a fenced producer: they are not ours */
	return atomic_load_explicit(&l->ch.shm->rejected, memory_order_relaxed) -
	       atomic_load_explicit(&l->ch.shm->stale_refused, memory_order_relaxed);
}

/* ---- attaching ------------------------------------------------------------------------------ */

/* Is process pid running (not gone, not a zombie waiting for its parent)? */
static bool process_running(uint32_t pid)
{
	if (kill((pid_t)pid, 0) < 0 && errno != EPERM)
		return false;
	char path[64], buf[256];
	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return true;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *paren = strrchr(buf, ')');   /* "pid (comm) S ..." */
	return !(paren && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X'));
}

static uint32_t fresh_gen(uint32_t old)
{
	uint64_t t = mmr_now_ns();
	uint32_t g = (uint32_t)(t ^ (t >> 32)) ^ ((uint32_t)getpid() << 16);
	if (g == 0 || g == old)
		g = old + 1 ? old + 1 : 1;
	return g;
}

static void full_sync(struct dp_link *l, uint64_t now)
{
	const struct model *m = l->model;
	struct mmr_cmd c;
	l->gen = fresh_gen(l->gen);
	l->syncs++;
	l->sync_start_ns = now;
	memset(&c, 0, sizeof(c));
	c.op = MMR_CMD_SYNC_BEGIN;
	c.u.sync.gen = l->gen;
	memcpy(c.u.sync.state_id, m->state_id, sizeof(c.u.sync.state_id));
	dp_link_push(l, &c);
	/* meeting settings (top-N) before their participants' slot subscriptions */
	for (uint32_t id = 0; id < model_meeting_bound(m); id++)
		if (m->meetings[id].used && m->meetings[id].top_n)
			dp_link_put_meeting(l, id);
	for (uint32_t id = 0; id < model_part_bound(m); id++)
		if (m->parts[id].used)
			dp_link_put_participant(l, id);
	/* two passes each: a group's encoding-0 stream before its other members (their group_id names
	 * it), a receiver's subscription to encoding 0 before its others (their sel_id names it); ids
	 * are reused, so a later member may have the lower id */
	for (int pass = 0; pass < 2; pass++)
		for (uint32_t id = 0; id < model_stream_bound(m); id++)
			if (m->streams[id].used && (model_group_head(m, id) == id) == (pass == 0))
				dp_link_put_stream(l, id);
	for (int pass = 0; pass < 2; pass++)
		for (uint32_t id = 0; id < model_sub_bound(m); id++)
			if (m->subs[id].used && (m->subs[id].sel_id == id) == (pass == 0))
				dp_link_put_sub(l, id);
	memset(&c, 0, sizeof(c));
	c.op = MMR_CMD_SYNC_END;
	c.u.sync.gen = l->gen;
	memcpy(c.u.sync.state_id, m->state_id, sizeof(c.u.sync.state_id));
	uint64_t end = dp_link_push(l, &c);
	if (!l->attached)
		return;     /* ran out of memory half-way: detached, will retry */
	l->sync_end_seq = end;
	ctl_log("full sync gen %u queued: %u participants, %u streams, %u subscriptions (seq %llu..%llu)",
		l->gen, m->n_parts, m->n_streams, m->n_subs, (unsigned long long)(end - (l->fifo_len - 1)),
		(unsigned long long)end);
}

/* First 8 hex digits of a state id ("none" when all zero). */
/* a state id for log lines ("none": the dataplane records none) */
static const char *state_short(const uint8_t id[MMR_STATE_ID_LEN], char out[16])
{
	static const uint8_t zero[MMR_STATE_ID_LEN];
	return id_short(memcmp(id, zero, MMR_STATE_ID_LEN) != 0, id, out);
}

static void read_tables(const struct mmr_shm *s, struct dp_link_tables *t)
{
	uint64_t w[2];
	w[0] = atomic_load_explicit(&s->state_id[0], memory_order_relaxed);
	w[1] = atomic_load_explicit(&s->state_id[1], memory_order_relaxed);
	memcpy(t->state_id, w, sizeof(t->state_id));
	t->participants = atomic_load_explicit(&s->n_participants, memory_order_relaxed);
	t->streams = atomic_load_explicit(&s->n_streams, memory_order_relaxed);
	t->subs = atomic_load_explicit(&s->n_subs, memory_order_relaxed);
	t->owner_token = atomic_load_explicit(&s->owner_token, memory_order_relaxed);
	t->stale_refused = atomic_load_explicit(&s->stale_refused, memory_order_relaxed);
	t->changes = atomic_load_explicit(&s->state_changes, memory_order_relaxed);
}

int dp_link_tables(const struct dp_link *l, struct dp_link_tables *t)
{
	if (l->attached) {
		read_tables(l->ch.shm, t);
		return 1;
	}
	struct cmd_chan c;
	if (cmd_chan_open(&c, l->shm_name) < 0)
		return 0;
	read_tables(c.shm, t);
	cmd_chan_close(&c);
	return 1;
}

int dp_link_allow_wipe(struct dp_link *l, char *why, size_t whylen)
{
	if (l->fenced || !l->held) {
		snprintf(why, whylen, "the dataplane's tables are not held: %s",
			 l->attached ? "this controller drives them and they hold its state" : l->why_detached);
		return -1;
	}
	l->wipe_ok = true;
	l->next_attach_ns = 0;
	ctl_log("dataplane reset --yes-wipe: replaying this controller's state onto the dataplane's tables, "
		"deleting what it does not hold");
	return 0;
}

/* May our replay's SYNC_END run on these tables (see dp_link.h)? true, or false with why. */
static bool tables_ours(const struct dp_link_tables *t, const struct model *m, char *why, size_t whylen)
{
	char theirs[16], ours[16];
	if (t->participants == 0 && t->streams == 0 && t->subs == 0)
		return true;
	int n = snprintf(why, whylen, "held: the dataplane's tables (%u participants, %u streams, %u subscriptions) ",
			 t->participants, t->streams, t->subs);
	if (n < 0 || (size_t)n >= whylen)
		n = 0;
	if (memcmp(t->state_id, m->state_id, MMR_STATE_ID_LEN) != 0)
		snprintf(why + n, whylen - n, "were built from controller state %s, and this controller's state is %s "
			 "(%u participants)", state_short(t->state_id, theirs), state_short(m->state_id, ours), m->n_parts);
	else if (t->owner_token != m->state_token)
		snprintf(why + n, whylen - n, "come from this state but were last driven by another controller "
			 "(fencing token %llu; this state file was last used with token %llu): it may have fallen "
			 "behind or forked", (unsigned long long)t->owner_token, (unsigned long long)m->state_token);
	else if (t->changes > m->state_changes)
		snprintf(why + n, whylen - n, "hold change %llu of this state, and this state file only change %llu: "
			 "it is older (a copy or a restore)", (unsigned long long)t->changes,
			 (unsigned long long)m->state_changes);
	else
		return true;
	size_t len = strlen(why);
	snprintf(why + len, whylen - len, ": a replay would delete what it does not hold, so it does not replay. "
		 "Start it with the state file of the controller that drove them last, or replace them by "
		 "this state with `mmrctl dataplane reset --yes-wipe`");
	return false;
}

static void attach(struct dp_link *l, struct cmd_chan *c, uint64_t now)
{
	struct mmr_shm *s = c->shm;
	char why[sizeof(l->why_detached)];
	uint64_t hb = atomic_load(&s->dp_heartbeat_ns);
	if (l->fenced) {
		cmd_chan_close(c);
		return;
	}
	if (!mmr_alive(hb, now)) {
		cmd_chan_close(c);
		snprintf(why, sizeof(why), "segment %s exists but its dataplane is not alive (stale heartbeat)",
			 l->shm_name);
		set_why(l, why);
		return;
	}
	/* the token we compare-and-swap from: read before we judge its owner */
	uint64_t seen = atomic_load(&s->owner_token);
	uint32_t other = atomic_load(&s->ctl_pid);
	bool other_live = other != 0 && other != (uint32_t)getpid() &&
			  mmr_alive(atomic_load(&s->ctl_heartbeat_ns), now) && process_running(other);
	if (other_live && !l->take_over) {
		cmd_chan_close(c);
		snprintf(why, sizeof(why), "another controller (pid %u, fencing token %llu) drives the dataplane on %s: "
			 "this one waits and takes over once its heartbeat is stale for %llu ms "
			 "(mmr-controller --take-over takes over at once)", other, (unsigned long long)seen,
			 l->shm_name, MMR_HEARTBEAT_DEAD_NS / 1000000ull);
		set_why(l, why);
		return;
	}
	/* the header's ledger id is written before dp_ready (acquire: read it only after) */
	if (!atomic_load_explicit(&s->dp_ready, memory_order_acquire)) {
		snprintf(why, sizeof(why), "dataplane pid %u on %s is starting (not ready yet)",
			 atomic_load(&s->dp_pid), l->shm_name);
		cmd_chan_close(c);      /* unmaps s: read it before */
		set_why(l, why);
		return;
	}
	struct dp_link_tables t;
	read_tables(s, &t);
	t.owner_token = seen;
	bool ours = tables_ours(&t, l->model, why, sizeof(why));
	if (!ours && !l->wipe_ok) {
		cmd_chan_close(c);
		l->held = true;
		set_why(l, why);
		l->next_attach_ns = now + 1000000000ull;
		return;
	}
	if (l->on_ledger && l->on_ledger(l->on_ledger_arg, s->srtp_ledger_id, why, sizeof(why)) < 0) {
		cmd_chan_close(c);
		set_why(l, why);
		l->next_attach_ns = now + 1000000000ull;
		return;
	}
	if (cmd_chan_take_over(c, seen) < 0) {
		cmd_chan_close(c);
		snprintf(why, sizeof(why), "another controller took the dataplane on %s over at the same time",
			 l->shm_name);
		set_why(l, why);
		return;
	}
	if (l->on_take_over)
		l->on_take_over(l->on_take_over_arg, c->token);
	l->ch = *c;
	l->attached = true;
	l->token = c->token;
	l->epoch = s->epoch;
	l->attach_id++;
	l->fifo_len = l->fifo_head = 0;
	l->next_seq = atomic_load(&s->tail);
	l->first_seq = l->next_seq;
	l->stale_seen = atomic_load(&s->stale_refused);
	l->next_epoch_check_ns = now + EPOCH_CHECK_NS;
	l->why_detached[0] = '\0';
	atomic_store(&s->ctl_pid, (uint32_t)getpid());
	atomic_store(&s->ctl_heartbeat_ns, now);
	ctl_log("attached to dataplane pid %u on %s (epoch 0x%016llx, ring head %llu tail %llu, fencing token %llu)",
		atomic_load(&s->dp_pid), l->shm_name, (unsigned long long)l->epoch,
		(unsigned long long)atomic_load(&s->head), (unsigned long long)l->next_seq,
		(unsigned long long)l->token);
	if (other != 0 && other != (uint32_t)getpid()) {
		ctl_log("took the dataplane over from controller pid %u (%s)", other,
			other_live ? "alive: --take-over" : "its heartbeat is stale");
	}
	if (!ours) {
		char theirs[16];
		ctl_log("told to wipe: replacing the dataplane's tables (%u participants, %u streams, %u "
			"subscriptions, built from state %s) by this controller's state", t.participants, t.streams,
			t.subs, state_short(t.state_id, theirs));
	}
	l->take_over = false;
	l->wipe_ok = false;
	l->held = false;
	events_attach(&l->ev, s);
	full_sync(l, now);
	dp_link_poll(l);
}

static void try_attach(struct dp_link *l, uint64_t now)
{
	struct cmd_chan c;
	l->held = false;     /* attach() says again if it still is */
	int rc = cmd_chan_open(&c, l->shm_name);
	if (rc == 0) {
		attach(l, &c, now);
		return;
	}
	char why[sizeof(l->why_detached)];
	if (rc == -ENOENT)
		snprintf(why, sizeof(why), "no segment %s (dataplane not running)", l->shm_name);
	else if (rc == -EPROTO)
		snprintf(why, sizeof(why), "segment %s not ready or of another version", l->shm_name);
	else
		snprintf(why, sizeof(why), "cannot open segment %s: %s", l->shm_name, strerror(-rc));
	set_why(l, why);
}

void dp_link_events(struct dp_link *l)
{
	if (l->attached)
		events_drain(&l->ev, l->ch.shm);
}

void dp_link_tick(struct dp_link *l, uint64_t now)
{
	dp_link_poll(l);
	dp_link_events(l);
	if (now < l->next_tick_ns)
		return;
	l->next_tick_ns = now + MMR_HEARTBEAT_NS;
	if (l->fenced)
		return;
	if (l->attached && !cmd_chan_owner(&l->ch))
		fence(l);       /* before our heartbeat: it is the new owner's now */
	if (l->attached) {
		struct mmr_shm *s = l->ch.shm;
		atomic_store(&s->ctl_heartbeat_ns, now);
		uint64_t stale = atomic_load(&s->stale_refused);
		if (stale != l->stale_seen) {
			l->stale_seen = stale;
			uint64_t at = atomic_load(&s->stale_last_seq);
			if (at >= l->first_seq) {
				char why[128];
				snprintf(why, sizeof(why), "the dataplane refused a command with a stale fencing token at "
					 "seq %llu (a former controller woke up)", (unsigned long long)at);
				resync(l, why, now);
			}
		}
		uint64_t hb = atomic_load(&s->dp_heartbeat_ns);
		if (!mmr_alive(hb, now)) {
			char why[sizeof(l->why_detached)];
			snprintf(why, sizeof(why), "dataplane pid %u stopped its heartbeat; will resync when it is back",
				 atomic_load(&s->dp_pid));
			detach(l, why);
		} else if (now >= l->next_epoch_check_ns) {
			/* a dataplane that restarted within a heartbeat period left our mapping on its old,
			 * unlinked segment: look at what the name points to now */
			l->next_epoch_check_ns = now + EPOCH_CHECK_NS;
			struct cmd_chan c;
			if (cmd_chan_open(&c, l->shm_name) == 0) {
				if (c.shm->epoch != l->epoch) {
					ctl_log("dataplane segment %s replaced (epoch 0x%016llx -> 0x%016llx)",
						l->shm_name, (unsigned long long)l->epoch,
						(unsigned long long)c.shm->epoch);
					detach(l, "dataplane segment replaced");
					attach(l, &c, now);
				} else {
					cmd_chan_close(&c);
				}
			}
		}
	}
	if (!l->attached && now >= l->next_attach_ns)
		try_attach(l, now);
}
