/*
 * srtp_ctl.c - SRTP contexts of the forwarding tables on the control thread: creation from the
 * commands' keys and the ledger's leases, rekeying, retirement (see srtp_ctl.h for the rules).
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
#include "srtp_lease.h"

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

/* ---- positions (mmrctl stats) ------------------------------------------------------------------ */

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

static struct srtp_leases *leases(struct cmd_apply *ca)
{
	return ca->dp->leases;
}

const char *srtp_ctl_strerror(int rc)
{
	switch (rc) {
	case -EPERM:
		return "its SRTP key was retired (replaced or deleted before): it is never used again, rekey the participant";
	case -ENOSPC:
		return "the SRTP ledger has no room (disk full?): no index can be leased";
	default:
		return "out of memory for its SRTP contexts";
	}
}

/* A fresh leased context of key k for (fp, ssrc, dir). NULL with *rc on failure. */
static struct srtp_stream *ctx_new(struct cmd_apply *ca, const struct srtp_keys *k, const uint8_t *fp,
				   uint32_t ssrc, enum srtp_lease_dir dir, int video, int rtcp_only, int *rc)
{
	struct srtp_stream *s = srtp_stream_new(k);
	if (!s) {
		*rc = -ENOMEM;
		return NULL;
	}
	*rc = srtp_leases_attach(leases(ca), s, fp, ssrc, dir, video, rtcp_only);
	if (*rc < 0) {
		srtp_stream_free(s);
		return NULL;
	}
	return s;
}

/* Detach and free a context that was never published. */
static void ctx_free(struct cmd_apply *ca, struct srtp_stream *s)
{
	srtp_leases_detach(leases(ca), s);
	srtp_stream_free(s);
}

/* {cur: a fresh context of k, prev}. NULL on failure (prev is not consumed). */
static struct fwd_srtp_in *in_new(struct cmd_apply *ca, const struct srtp_keys *k, const uint8_t *fp,
				  uint32_t ssrc, int video, int rtcp_only, struct srtp_stream *prev, int *rc)
{
	struct fwd_srtp_in *in = aligned_alloc(64, 64);
	if (!in) {
		*rc = -ENOMEM;
		return NULL;
	}
	memset(in, 0, 64);
	in->cur = ctx_new(ca, k, fp, ssrc, SRTP_LEASE_IN, video, rtcp_only, rc);
	if (!in->cur) {
		free(in);
		return NULL;
	}
	in->prev = prev;
	return in;
}

void srtp_ctl_free_in(struct cmd_apply *ca, struct fwd_srtp_in *in)
{
	if (!in)
		return;
	ctx_free(ca, in->cur);
	ctx_free(ca, in->prev);
	free(in);
}

/* A context that goes: no more leases, no more positions; freed after a grace period. */
static void retire_ctx(struct cmd_apply *ca, struct srtp_stream *s)
{
	if (!s)
		return;
	unsink(s);
	srtp_leases_detach(leases(ca), s);
	shadow_retire(ca, s, free_stream_fn);
}

void srtp_ctl_retire_in(struct cmd_apply *ca, struct fwd_srtp_in *in)
{
	if (!in)
		return;
	retire_ctx(ca, in->cur);
	retire_ctx(ca, in->prev);
	shadow_retire(ca, in, free);
}

void srtp_ctl_retire_out(struct cmd_apply *ca, struct srtp_stream *out)
{
	retire_ctx(ca, out);
}

int srtp_ctl_stream_in(struct cmd_apply *ca, uint32_t pid, const struct mmr_cmd_stream *c,
		       struct fwd_srtp_in **in)
{
	const struct sh_participant *p = &ca->P[pid];
	struct srtp_stream *prev = NULL;
	int video = c->kind == MMR_KIND_VIDEO, rc = 0;
	*in = NULL;
	if (p->c.srtp_suite == SRTP_SUITE_NONE)
		return 0;
	/* during a rekey a new SSRC may still come under the old key too */
	if (p->old_send_keys &&
	    !(prev = ctx_new(ca, p->old_send_keys, p->old_send_fp, c->ssrc, SRTP_LEASE_IN, video, 0, &rc)))
		return rc;
	*in = in_new(ca, p->send_keys, p->send_fp, c->ssrc, video, 0, prev, &rc);
	if (!*in) {
		ctx_free(ca, prev);
		return rc;
	}
	srtp_stream_set_index_sink((*in)->cur, stream_slot(ca, c->id));
	return 0;
}

int srtp_ctl_sub_out(struct cmd_apply *ca, uint32_t pid, uint32_t uid, uint32_t out_ssrc,
		     struct srtp_stream **out)
{
	const struct sh_participant *p = &ca->P[pid];
	int rc = 0;
	*out = NULL;
	if (p->c.srtp_suite == SRTP_SUITE_NONE)
		return 0;
	*out = ctx_new(ca, p->recv_keys, p->recv_fp, out_ssrc, SRTP_LEASE_OUT, 0, 0, &rc);
	if (!*out)
		return rc;
	srtp_stream_set_index_sink(*out, sub_slot(ca, uid));
	return 0;
}

int srtp_ctl_rtx_in(struct cmd_apply *ca, uint32_t pid, const struct mmr_cmd_stream *c,
		    struct fwd_srtp_in **in)
{
	const struct sh_participant *p = &ca->P[pid];
	struct srtp_stream *prev = NULL;
	int video = c->kind == MMR_KIND_VIDEO, rc = 0;
	*in = NULL;
	if (p->c.srtp_suite == SRTP_SUITE_NONE || c->rtx_ssrc == 0)
		return 0;
	if (p->old_send_keys &&
	    !(prev = ctx_new(ca, p->old_send_keys, p->old_send_fp, c->rtx_ssrc, SRTP_LEASE_IN, video, 0, &rc)))
		return rc;
	*in = in_new(ca, p->send_keys, p->send_fp, c->rtx_ssrc, video, 0, prev, &rc);
	if (!*in) {
		ctx_free(ca, prev);
		return rc;
	}
	return 0;
}

int srtp_ctl_rtx_out(struct cmd_apply *ca, uint32_t pid, uint32_t rtx_ssrc, struct srtp_stream **out)
{
	const struct sh_participant *p = &ca->P[pid];
	int rc = 0;
	*out = NULL;
	if (p->c.srtp_suite == SRTP_SUITE_NONE || rtx_ssrc == 0)
		return 0;
	*out = ctx_new(ca, p->recv_keys, p->recv_fp, rtx_ssrc, SRTP_LEASE_OUT, 0, 0, &rc);
	return *out ? 0 : rc;
}

int srtp_ctl_rtcp_out(struct cmd_apply *ca, uint32_t pid, uint32_t mmr_ssrc, struct srtp_stream **out)
{
	const struct sh_participant *p = &ca->P[pid];
	int rc = 0;
	*out = NULL;
	if (p->c.srtp_suite == SRTP_SUITE_NONE || mmr_ssrc == 0 || !p->recv_keys)
		return 0;
	*out = ctx_new(ca, p->recv_keys, p->recv_fp, mmr_ssrc, SRTP_LEASE_OUT, 0, 1, &rc);
	return *out ? 0 : rc;
}

void srtp_ctl_free_out(struct cmd_apply *ca, struct srtp_stream *out)
{
	if (out)
		ctx_free(ca, out);
}

/* ---- participants ------------------------------------------------------------------------------ */

int srtp_ctl_participant_init(struct cmd_apply *ca, struct sh_participant *p,
			      const struct mmr_cmd_participant *c)
{
	p->send_keys = p->old_send_keys = p->recv_keys = NULL;
	p->rtcp_in = NULL;
	p->rtcp_out = NULL;
	p->rekeying = 0;
	p->rk_next = p->rk_prev = NIL;
	if (c->srtp_suite == SRTP_SUITE_NONE)
		return 0;
	srtp_ledger_fingerprint(&c->send_key, p->send_fp);
	srtp_ledger_fingerprint(&c->recv_key, p->recv_fp);
	if (srtp_leases_key_ok(leases(ca), p->send_fp) < 0 || srtp_leases_key_ok(leases(ca), p->recv_fp) < 0)
		return -EPERM;
	int rc = -ENOMEM;
	struct srtp_keys *sk = srtp_keys_new(&c->send_key);
	struct srtp_keys *rk = srtp_keys_new(&c->recv_key);
	struct fwd_srtp_in *in = sk ? in_new(ca, sk, p->send_fp, 0, 0, 1, NULL, &rc) : NULL;
	if (!sk || !rk || !in) {
		srtp_ctl_free_in(ca, in);
		srtp_keys_free(sk);
		srtp_keys_free(rk);
		return rc;
	}
	struct srtp_stream *out = NULL;
	if (c->mmr_ssrc && !(out = ctx_new(ca, rk, p->recv_fp, c->mmr_ssrc, SRTP_LEASE_OUT, 0, 1, &rc))) {
		srtp_ctl_free_in(ca, in);
		srtp_keys_free(sk);
		srtp_keys_free(rk);
		return rc;
	}
	p->send_keys = sk;
	p->recv_keys = rk;
	p->rtcp_in = in;
	p->rtcp_out = out;
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
	/* its keys are never used again: a controller that replays them later (a stale state file)
	 * is refused */
	if (p->send_keys)
		srtp_leases_retire_key(leases(ca), p->send_fp);
	if (p->old_send_keys)
		srtp_leases_retire_key(leases(ca), p->old_send_fp);
	if (p->recv_keys)
		srtp_leases_retire_key(leases(ca), p->recv_fp);
	rekeying_remove(ca, pid);
	srtp_ctl_retire_in(ca, p->rtcp_in);
	retire_ctx(ca, p->rtcp_out);
	p->rtcp_out = NULL;
	/* contexts first, then the keys they were made from */
	shadow_retire(ca, p->send_keys, free_keys_fn);
	shadow_retire(ca, p->old_send_keys, free_keys_fn);
	shadow_retire(ca, p->recv_keys, free_keys_fn);
	p->rtcp_in = NULL;
	p->send_keys = p->old_send_keys = p->recv_keys = NULL;
	explicit_bzero(&p->c.send_key, sizeof(p->c.send_key));
	explicit_bzero(&p->c.recv_key, sizeof(p->c.recv_key));
}

void srtp_ctl_participant_free(struct cmd_apply *ca, struct sh_participant *p)
{
	srtp_ctl_free_in(ca, p->rtcp_in);
	srtp_stream_free(p->rtcp_out);   /* shutdown: the ledger is closed after, nothing to detach */
	p->rtcp_out = NULL;
	srtp_keys_free(p->send_keys);
	srtp_keys_free(p->old_send_keys);
	srtp_keys_free(p->recv_keys);
	p->rtcp_in = NULL;
	p->send_keys = p->old_send_keys = p->recv_keys = NULL;
	explicit_bzero(&p->c.send_key, sizeof(p->c.send_key));
	explicit_bzero(&p->c.recv_key, sizeof(p->c.recv_key));
}

/* ---- rekeying ------------------------------------------------------------------------------------ */

void srtp_ctl_rekey_abort(struct cmd_apply *ca, struct srtp_rekey *rk)
{
	for (uint32_t i = 0; i < rk->n_ins; i++)
		srtp_ctl_free_in(ca, rk->ins[i]);   /* prev is not set before commit */
	for (uint32_t i = 0; rk->rtx_ins && i < rk->n_ins; i++)
		srtp_ctl_free_in(ca, rk->rtx_ins[i]);
	for (uint32_t i = 0; i < rk->n_outs; i++) {
		ctx_free(ca, rk->outs[i]);
		if (rk->rtx_outs)
			ctx_free(ca, rk->rtx_outs[i]);
	}
	ctx_free(ca, rk->rtcp_out);
	free(rk->ins);
	free(rk->rtx_ins);
	free(rk->outs);
	free(rk->rtx_outs);
	srtp_keys_free(rk->send_keys);
	srtp_keys_free(rk->recv_keys);
	memset(rk, 0, sizeof(*rk));
}

int srtp_ctl_rekey_prepare(struct cmd_apply *ca, uint32_t pid, const struct mmr_cmd_participant *c,
			   struct srtp_rekey *rk)
{
	const struct sh_participant *p = &ca->P[pid];
	int rc = -ENOMEM;
	memset(rk, 0, sizeof(*rk));
	if (c->srtp_suite == SRTP_SUITE_NONE)
		return 0;
	if (memcmp(&p->c.send_key, &c->send_key, sizeof(c->send_key)) != 0) {
		uint32_t n = 1;     /* + RTCP */
		for (uint32_t s = p->streams; s != NIL; s = ca->S[s].p_next)
			n++;
		srtp_ledger_fingerprint(&c->send_key, rk->send_fp);
		if (srtp_leases_key_ok(leases(ca), rk->send_fp) < 0) {
			rc = -EPERM;
			goto fail;
		}
		rk->send_keys = srtp_keys_new(&c->send_key);
		rk->ins = calloc(n, sizeof(*rk->ins));
		rk->rtx_ins = calloc(n, sizeof(*rk->rtx_ins));
		if (!rk->send_keys || !rk->ins || !rk->rtx_ins)
			goto fail;
		uint32_t s = p->streams;
		for (; rk->n_ins < n; rk->n_ins++, s = s != NIL ? ca->S[s].p_next : NIL) {
			/* the streams in list order, then RTCP */
			int rtcp = s == NIL;
			uint32_t ssrc = rtcp ? 0 : ca->S[s].c.ssrc;
			int video = !rtcp && ca->S[s].c.kind == MMR_KIND_VIDEO;
			if (!(rk->ins[rk->n_ins] = in_new(ca, rk->send_keys, rk->send_fp, ssrc, video, rtcp, NULL,
							  &rc)))
				goto fail;
			/* its RTX SSRC's (rtx_ins[i] is set before n_ins counts i: abort frees it) */
			if (!rtcp && ca->S[s].rtx_srtp_in &&
			    !(rk->rtx_ins[rk->n_ins] = in_new(ca, rk->send_keys, rk->send_fp, ca->S[s].c.rtx_ssrc,
							      video, 0, NULL, &rc))) {
				rk->n_ins++;
				goto fail;
			}
		}
	}
	if (memcmp(&p->c.recv_key, &c->recv_key, sizeof(c->recv_key)) != 0) {
		uint32_t n = 0;
		for (uint32_t u = p->rsubs; u != NIL; u = ca->U[u].r_next)
			n++;
		srtp_ledger_fingerprint(&c->recv_key, rk->recv_fp);
		if (srtp_leases_key_ok(leases(ca), rk->recv_fp) < 0) {
			rc = -EPERM;
			goto fail;
		}
		rk->recv_keys = srtp_keys_new(&c->recv_key);
		rk->outs = calloc(n ? n : 1, sizeof(*rk->outs));
		rk->rtx_outs = calloc(n ? n : 1, sizeof(*rk->rtx_outs));
		if (!rk->recv_keys || !rk->outs || !rk->rtx_outs)
			goto fail;
		uint32_t u = p->rsubs;
		for (; rk->n_outs < n; rk->n_outs++, u = ca->U[u].r_next) {
			/* simulcast followers use their leader's context: none of their own */
			if (!ca->U[u].srtp_out)
				continue;
			if (!(rk->outs[rk->n_outs] = ctx_new(ca, rk->recv_keys, rk->recv_fp, ca->U[u].c.out_ssrc,
							     SRTP_LEASE_OUT, 0, 0, &rc)))
				goto fail;
			if (ca->U[u].rtx_out &&
			    !(rk->rtx_outs[rk->n_outs] = ctx_new(ca, rk->recv_keys, rk->recv_fp, ca->U[u].c.rtx_ssrc,
								 SRTP_LEASE_OUT, 0, 0, &rc))) {
				rk->n_outs++;
				goto fail;
			}
		}
		/* the RTCP we send it as mmr_ssrc (the PUT's: it may change in the same command) */
		if (c->mmr_ssrc && !(rk->rtcp_out = ctx_new(ca, rk->recv_keys, rk->recv_fp, c->mmr_ssrc,
							    SRTP_LEASE_OUT, 0, 1, &rc)))
			goto fail;
	}
	return 0;
fail:
	srtp_ctl_rekey_abort(ca, rk);
	return rc;
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
		retire_ctx(ca, old->prev);
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
			if (rk->rtx_ins[i])
				swap_in(ca, &ss->rtx_srtp_in, ss->rtx_node ? &ss->rtx_node->srtp_in : NULL,
					rk->rtx_ins[i]);
		}
		swap_in(ca, &p->rtcp_in, p->node ? &p->node->rtcp_in : NULL, rk->ins[i]);
		/* a key older than the one just replaced is no longer accepted anywhere */
		if (p->old_send_keys)
			srtp_leases_retire_key(leases(ca), p->old_send_fp);
		shadow_retire(ca, p->old_send_keys, free_keys_fn);
		p->old_send_keys = p->send_keys;
		memcpy(p->old_send_fp, p->send_fp, sizeof(p->old_send_fp));
		p->send_keys = rk->send_keys;
		memcpy(p->send_fp, rk->send_fp, sizeof(p->send_fp));
		rekeying_add(ca, pid);
		dp_log("participant %u: new SEND key; the previous one is accepted until the new one is in use", pid);
	}
	if (rk->recv_keys) {
		uint32_t i = 0;
		for (uint32_t u = p->rsubs; u != NIL; u = ca->U[u].r_next, i++) {
			shadow_mark_sub_dirty(ca, u);
			if (!rk->outs[i])
				continue;                                /* a simulcast follower */
			srtp_ctl_retire_out(ca, ca->U[u].srtp_out);   /* stops publishing */
			ca->U[u].srtp_out = rk->outs[i];
			srtp_ctl_set_sub_index(ca, u, 0);                /* ROC 0 with the new key */
			srtp_stream_set_index_sink(rk->outs[i], sub_slot(ca, u));
			if (rk->rtx_outs[i]) {
				srtp_ctl_retire_out(ca, ca->U[u].rtx_out);
				ca->U[u].rtx_out = rk->rtx_outs[i];
			}
		}
		/* the RTCP context: the node's pointer swings now (cmd_apply publishes a node with the
		 * same pointer if the participant's node is replaced) */
		retire_ctx(ca, p->rtcp_out);
		p->rtcp_out = rk->rtcp_out;
		if (p->node)
			rcu_assign_pointer(p->node->rtcp_out, p->rtcp_out);
		/* the replaced RECV key encrypts nothing any more, and never will */
		srtp_leases_retire_key(leases(ca), p->recv_fp);
		shadow_retire(ca, p->recv_keys, free_keys_fn);
		p->recv_keys = rk->recv_keys;
		memcpy(p->recv_fp, rk->recv_fp, sizeof(p->recv_fp));
		dp_log("participant %u: new RECV key, used for its copies from now on", pid);
	}
	free(rk->ins);
	free(rk->rtx_ins);
	free(rk->outs);
	free(rk->rtx_outs);
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
		in = ca->S[s].rtx_srtp_in;
		t = in ? __atomic_load_n(&in->cur_ok_tsc, __ATOMIC_RELAXED) : 0;
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
	retire_ctx(ca, old->prev);
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
			oom |= drop_prev(ca, &ss->rtx_srtp_in, ss->rtx_node ? &ss->rtx_node->srtp_in : NULL);
		}
		oom |= drop_prev(ca, &p->rtcp_in, p->node ? &p->node->rtcp_in : NULL);
		if (oom)
			continue;
		srtp_leases_retire_key(leases(ca), p->old_send_fp);
		shadow_retire(ca, p->old_send_keys, free_keys_fn);
		p->old_send_keys = NULL;
		rekeying_remove(ca, pid);
		dp_log("participant %u: rekey done, the previous SEND key is no longer accepted", pid);
	}
}
