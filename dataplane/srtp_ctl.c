/*
 * srtp_ctl.c - SRTP contexts of the forwarding tables on the control thread: creation from the
 * commands' keys and positions, rekeying, retirement (see srtp_ctl.h for the rules).
 *
 * Log lines say what happened to whose key, never a key byte.
 */
#define _LGPL_SOURCE
#include "srtp_ctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <urcu-qsbr.h>

#include "dataplane.h"

static void free_stream_fn(void *p)
{
	srtp_stream_free(p);
}

static void free_keys_fn(void *p)
{
	srtp_keys_free(p);
}

/* ---- checks ------------------------------------------------------------------------------------ */

static int bad(char *err, size_t errlen, const char *what, uint32_t id, const struct srtp_master *m,
	       enum srtp_suite suite)
{
	snprintf(err, errlen, "participant %u: %s key of suite %u with %u+%u bytes, %s needs %d+%d", id, what,
		 m->suite, m->key_len, m->salt_len, srtp_suite_name(suite), srtp_suite_key_len(suite),
		 srtp_suite_salt_len(suite));
	return -1;
}

static int key_ok(const struct srtp_master *m, enum srtp_suite suite)
{
	return m->suite == suite && m->key_len == srtp_suite_key_len(suite) &&
	       m->salt_len == srtp_suite_salt_len(suite);
}

/* Zero what is not key material, so that two PUTs of the same keys compare equal. */
static void normalise(struct srtp_master *m)
{
	m->pad = 0;
	memset(m->pad2, 0, sizeof(m->pad2));
	if (m->key_len < SRTP_MAX_KEY)
		memset(m->key + m->key_len, 0, SRTP_MAX_KEY - m->key_len);
	if (m->salt_len < SRTP_MAX_SALT)
		memset(m->salt + m->salt_len, 0, SRTP_MAX_SALT - m->salt_len);
}

int srtp_ctl_check(struct mmr_cmd_participant *c, char *err, size_t errlen)
{
	enum srtp_suite suite = (enum srtp_suite)c->srtp_suite;
	memset(c->pad, 0, sizeof(c->pad));
	if (suite == SRTP_SUITE_NONE) {
		memset(&c->send_key, 0, sizeof(c->send_key));
		memset(&c->recv_key, 0, sizeof(c->recv_key));
		return 0;
	}
	if (!srtp_suite_name(suite) || srtp_suite_key_len(suite) <= 0) {
		snprintf(err, errlen, "participant %u: unknown SRTP suite %u", c->id, c->srtp_suite);
		return -1;
	}
	if (!key_ok(&c->send_key, suite))
		return bad(err, errlen, "SEND", c->id, &c->send_key, suite);
	if (!key_ok(&c->recv_key, suite))
		return bad(err, errlen, "RECV", c->id, &c->recv_key, suite);
	normalise(&c->send_key);
	normalise(&c->recv_key);
	return 0;
}

/* ---- positions (restarts) ---------------------------------------------------------------------- */

static uint64_t *stream_slot(struct cmd_apply *ca, uint32_t sid)
{
	return &ca->dp->shm->stats.stream[sid].srtp_index;
}

static uint64_t *sub_slot(struct cmd_apply *ca, uint32_t uid)
{
	return &ca->dp->shm->stats.sub_srtp_index[uid];
}

/* A context that goes (or stops being the current one) publishes no more. A worker that loaded the
 * sink just before may still store once: only if the position changed at that very moment. */
static void unsink(struct srtp_stream *s)
{
	if (s)
		srtp_stream_set_index_sink(s, NULL);
}

void srtp_ctl_set_stream_index(struct cmd_apply *ca, uint32_t sid, uint64_t index)
{
	__atomic_store_n(stream_slot(ca, sid), index, __ATOMIC_RELAXED);
}

void srtp_ctl_set_sub_index(struct cmd_apply *ca, uint32_t uid, uint64_t index)
{
	__atomic_store_n(sub_slot(ca, uid), index, __ATOMIC_RELAXED);
}

/* ---- inbound objects --------------------------------------------------------------------------- */

/* {cur: a fresh context of k, prev}. NULL on failure (prev is not consumed). */
static struct fwd_srtp_in *in_new(const struct srtp_keys *k, struct srtp_stream *prev)
{
	struct fwd_srtp_in *in = aligned_alloc(64, 64);
	if (!in)
		return NULL;
	memset(in, 0, 64);
	in->cur = srtp_stream_new(k);
	if (!in->cur) {
		free(in);
		return NULL;
	}
	in->prev = prev;
	return in;
}

void srtp_ctl_free_in(struct fwd_srtp_in *in)
{
	if (!in)
		return;
	srtp_stream_free(in->cur);
	srtp_stream_free(in->prev);
	free(in);
}

void srtp_ctl_retire_in(struct cmd_apply *ca, struct fwd_srtp_in *in)
{
	if (!in)
		return;
	unsink(in->cur);
	unsink(in->prev);
	shadow_retire(ca, in->cur, free_stream_fn);
	shadow_retire(ca, in->prev, free_stream_fn);
	shadow_retire(ca, in, free);
}

void srtp_ctl_retire_out(struct cmd_apply *ca, struct srtp_stream *out)
{
	unsink(out);
	shadow_retire(ca, out, free_stream_fn);
}

int srtp_ctl_stream_in(struct cmd_apply *ca, uint32_t pid, uint32_t sid, uint64_t index,
		       struct fwd_srtp_in **in)
{
	const struct sh_participant *p = &ca->P[pid];
	struct srtp_stream *prev = NULL;
	*in = NULL;
	if (p->c.srtp_suite == SRTP_SUITE_NONE)
		return 0;
	/* during a rekey a new SSRC may still come under the old key too */
	if (p->old_send_keys && !(prev = srtp_stream_new(p->old_send_keys)))
		return -1;
	*in = in_new(p->send_keys, prev);
	if (!*in) {
		srtp_stream_free(prev);
		return -1;
	}
	/* the current key's context goes on from where the previous dataplane's was */
	srtp_stream_resume((*in)->cur, index);
	srtp_stream_set_index_sink((*in)->cur, stream_slot(ca, sid));
	return 0;
}

int srtp_ctl_sub_out(struct cmd_apply *ca, uint32_t pid, uint32_t uid, uint64_t index,
		     struct srtp_stream **out)
{
	const struct sh_participant *p = &ca->P[pid];
	*out = NULL;
	if (p->c.srtp_suite == SRTP_SUITE_NONE)
		return 0;
	*out = srtp_stream_new(p->recv_keys);
	if (!*out)
		return -1;
	srtp_stream_resume(*out, index);
	srtp_stream_set_index_sink(*out, sub_slot(ca, uid));
	return 0;
}

/* ---- participants ------------------------------------------------------------------------------ */

int srtp_ctl_participant_init(struct sh_participant *p, const struct mmr_cmd_participant *c)
{
	p->send_keys = p->old_send_keys = p->recv_keys = NULL;
	p->rtcp_in = NULL;
	p->rekeying = 0;
	p->rk_next = p->rk_prev = NIL;
	if (c->srtp_suite == SRTP_SUITE_NONE)
		return 0;
	struct srtp_keys *sk = srtp_keys_new(&c->send_key);
	struct srtp_keys *rk = srtp_keys_new(&c->recv_key);
	struct fwd_srtp_in *in = sk ? in_new(sk, NULL) : NULL;
	if (!sk || !rk || !in) {
		srtp_ctl_free_in(in);
		srtp_keys_free(sk);
		srtp_keys_free(rk);
		return -1;
	}
	p->send_keys = sk;
	p->recv_keys = rk;
	p->rtcp_in = in;
	return 0;
}

static void rekeying_add(struct cmd_apply *ca, uint32_t pid)
{
	struct sh_participant *p = &ca->P[pid];
	if (p->rekeying)
		return;
	p->rekeying = 1;
	p->rk_prev = NIL;
	p->rk_next = ca->rekeying;
	if (ca->rekeying != NIL)
		ca->P[ca->rekeying].rk_prev = pid;
	ca->rekeying = pid;
}

static void rekeying_remove(struct cmd_apply *ca, uint32_t pid)
{
	struct sh_participant *p = &ca->P[pid];
	if (!p->rekeying)
		return;
	if (p->rk_prev != NIL)
		ca->P[p->rk_prev].rk_next = p->rk_next;
	else
		ca->rekeying = p->rk_next;
	if (p->rk_next != NIL)
		ca->P[p->rk_next].rk_prev = p->rk_prev;
	p->rk_next = p->rk_prev = NIL;
	p->rekeying = 0;
}

void srtp_ctl_participant_fini(struct cmd_apply *ca, uint32_t pid)
{
	struct sh_participant *p = &ca->P[pid];
	rekeying_remove(ca, pid);
	srtp_ctl_retire_in(ca, p->rtcp_in);
	/* contexts first, then the keys they were made from */
	shadow_retire(ca, p->send_keys, free_keys_fn);
	shadow_retire(ca, p->old_send_keys, free_keys_fn);
	shadow_retire(ca, p->recv_keys, free_keys_fn);
	p->rtcp_in = NULL;
	p->send_keys = p->old_send_keys = p->recv_keys = NULL;
	explicit_bzero(&p->c.send_key, sizeof(p->c.send_key));
	explicit_bzero(&p->c.recv_key, sizeof(p->c.recv_key));
}

void srtp_ctl_participant_free(struct sh_participant *p)
{
	srtp_ctl_free_in(p->rtcp_in);
	srtp_keys_free(p->send_keys);
	srtp_keys_free(p->old_send_keys);
	srtp_keys_free(p->recv_keys);
	p->rtcp_in = NULL;
	p->send_keys = p->old_send_keys = p->recv_keys = NULL;
	explicit_bzero(&p->c.send_key, sizeof(p->c.send_key));
	explicit_bzero(&p->c.recv_key, sizeof(p->c.recv_key));
}

/* ---- rekeying ------------------------------------------------------------------------------------ */

void srtp_ctl_rekey_abort(struct srtp_rekey *rk)
{
	for (uint32_t i = 0; i < rk->n_ins; i++)
		if (rk->ins[i]) {
			srtp_stream_free(rk->ins[i]->cur);  /* prev is not set before commit */
			free(rk->ins[i]);
		}
	for (uint32_t i = 0; i < rk->n_outs; i++)
		srtp_stream_free(rk->outs[i]);
	free(rk->ins);
	free(rk->outs);
	srtp_keys_free(rk->send_keys);
	srtp_keys_free(rk->recv_keys);
	memset(rk, 0, sizeof(*rk));
}

int srtp_ctl_rekey_prepare(struct cmd_apply *ca, uint32_t pid, const struct mmr_cmd_participant *c,
			   struct srtp_rekey *rk)
{
	const struct sh_participant *p = &ca->P[pid];
	memset(rk, 0, sizeof(*rk));
	if (c->srtp_suite == SRTP_SUITE_NONE)
		return 0;
	if (memcmp(&p->c.send_key, &c->send_key, sizeof(c->send_key)) != 0) {
		uint32_t n = 1;     /* + RTCP */
		for (uint32_t s = p->streams; s != NIL; s = ca->S[s].p_next)
			n++;
		rk->send_keys = srtp_keys_new(&c->send_key);
		rk->ins = calloc(n, sizeof(*rk->ins));
		if (!rk->send_keys || !rk->ins)
			goto fail;
		for (; rk->n_ins < n; rk->n_ins++)
			if (!(rk->ins[rk->n_ins] = in_new(rk->send_keys, NULL)))
				goto fail;
	}
	if (memcmp(&p->c.recv_key, &c->recv_key, sizeof(c->recv_key)) != 0) {
		uint32_t n = 0;
		for (uint32_t u = p->rsubs; u != NIL; u = ca->U[u].r_next)
			n++;
		rk->recv_keys = srtp_keys_new(&c->recv_key);
		rk->outs = calloc(n ? n : 1, sizeof(*rk->outs));
		if (!rk->recv_keys || !rk->outs)
			goto fail;
		for (; rk->n_outs < n; rk->n_outs++)
			if (!(rk->outs[rk->n_outs] = srtp_stream_new(rk->recv_keys)))
				goto fail;
	}
	return 0;
fail:
	srtp_ctl_rekey_abort(rk);
	return -1;
}

/* Put `in` in place of *slot (and of the node's pointer); the old object's cur becomes in's prev
 * (and stops publishing its position), its prev (a key older than that) and the object itself are
 * retired. */
static void swap_in(struct cmd_apply *ca, struct fwd_srtp_in **slot, struct fwd_srtp_in **node_slot,
		    struct fwd_srtp_in *in)
{
	struct fwd_srtp_in *old = *slot;
	in->prev = old ? old->cur : NULL;
	unsink(in->prev);
	*slot = in;
	if (node_slot)
		rcu_assign_pointer(*node_slot, in);
	if (old) {
		shadow_retire(ca, old->prev, free_stream_fn);
		shadow_retire(ca, old, free);
	}
}

void srtp_ctl_rekey_commit(struct cmd_apply *ca, uint32_t pid, struct srtp_rekey *rk)
{
	struct sh_participant *p = &ca->P[pid];
	if (rk->send_keys) {
		uint32_t i = 0;
		for (uint32_t s = p->streams; s != NIL; s = ca->S[s].p_next, i++) {
			struct sh_stream *ss = &ca->S[s];
			/* the new key's context starts at ROC 0 (the sender starts a new context with
			 * the new key) and publishes its position from its first packet; the old one
			 * (prev from now on) no longer does */
			if (ss->srtp_in)
				unsink(ss->srtp_in->cur);
			srtp_ctl_set_stream_index(ca, s, 0);
			srtp_stream_set_index_sink(rk->ins[i]->cur, stream_slot(ca, s));
			swap_in(ca, &ss->srtp_in, ss->node ? &ss->node->srtp_in : NULL, rk->ins[i]);
		}
		swap_in(ca, &p->rtcp_in, p->node ? &p->node->rtcp_in : NULL, rk->ins[i]);
		/* a key older than the one just replaced is no longer accepted anywhere */
		shadow_retire(ca, p->old_send_keys, free_keys_fn);
		p->old_send_keys = p->send_keys;
		p->send_keys = rk->send_keys;
		rekeying_add(ca, pid);
		dp_log("participant %u: new SEND key; the previous one is accepted until the new one is in use", pid);
	}
	if (rk->recv_keys) {
		uint32_t i = 0;
		for (uint32_t u = p->rsubs; u != NIL; u = ca->U[u].r_next, i++) {
			srtp_ctl_retire_out(ca, ca->U[u].srtp_out);   /* stops publishing */
			ca->U[u].srtp_out = rk->outs[i];
			srtp_ctl_set_sub_index(ca, u, 0);                /* ROC 0 with the new key */
			srtp_stream_set_index_sink(rk->outs[i], sub_slot(ca, u));
			shadow_mark_dirty(ca, ca->U[u].c.stream_id);
		}
		shadow_retire(ca, p->recv_keys, free_keys_fn);
		p->recv_keys = rk->recv_keys;
		dp_log("participant %u: new RECV key, used for its copies from now on", pid);
	}
	free(rk->ins);
	free(rk->outs);
	memset(rk, 0, sizeof(*rk));
}

/* The earliest time any inbound object of p authenticated with the new key; 0: not yet. */
static uint64_t first_new_key_use(const struct cmd_apply *ca, const struct sh_participant *p)
{
	uint64_t first = 0;
	for (uint32_t s = p->streams; s != NIL; s = ca->S[s].p_next) {
		const struct fwd_srtp_in *in = ca->S[s].srtp_in;
		uint64_t t = in ? __atomic_load_n(&in->cur_ok_tsc, __ATOMIC_RELAXED) : 0;
		if (t && (!first || t < first))
			first = t;
	}
	if (p->rtcp_in) {
		uint64_t t = __atomic_load_n(&p->rtcp_in->cur_ok_tsc, __ATOMIC_RELAXED);
		if (t && (!first || t < first))
			first = t;
	}
	return first;
}

/* Replace *slot by a copy without prev. -1: no memory (try again at the next tick). */
static int drop_prev(struct cmd_apply *ca, struct fwd_srtp_in **slot, struct fwd_srtp_in **node_slot)
{
	struct fwd_srtp_in *old = *slot;
	if (!old || !old->prev)
		return 0;
	struct fwd_srtp_in *in = aligned_alloc(64, 64);
	if (!in)
		return -1;
	memset(in, 0, 64);
	in->cur = old->cur;
	in->cur_ok_tsc = __atomic_load_n(&old->cur_ok_tsc, __ATOMIC_RELAXED);
	*slot = in;
	if (node_slot)
		rcu_assign_pointer(*node_slot, in);
	shadow_retire(ca, old->prev, free_stream_fn);
	shadow_retire(ca, old, free);
	return 0;
}

void srtp_ctl_tick(struct cmd_apply *ca, uint64_t now_tsc)
{
	uint32_t next;
	for (uint32_t pid = ca->rekeying; pid != NIL; pid = next) {
		struct sh_participant *p = &ca->P[pid];
		next = p->rk_next;
		uint64_t first = first_new_key_use(ca, p);
		if (!first || now_tsc - first < ca->rekey_grace_tsc)
			continue;
		int oom = 0;
		for (uint32_t s = p->streams; s != NIL; s = ca->S[s].p_next) {
			struct sh_stream *ss = &ca->S[s];
			oom |= drop_prev(ca, &ss->srtp_in, ss->node ? &ss->node->srtp_in : NULL);
		}
		oom |= drop_prev(ca, &p->rtcp_in, p->node ? &p->node->rtcp_in : NULL);
		if (oom)
			continue;
		shadow_retire(ca, p->old_send_keys, free_keys_fn);
		p->old_send_keys = NULL;
		rekeying_remove(ca, pid);
		dp_log("participant %u: rekey done, the previous SEND key is no longer accepted", pid);
	}
}
