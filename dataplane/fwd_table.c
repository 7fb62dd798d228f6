/*
 * fwd_table.c - the lock-free hash tables of fwd_table.h (participants, streams, subscriptions by
 * the receiver's view): keys, hashing, lookup and the
 * publish/unpublish primitives the control thread uses. What the nodes mean and who frees them
 * is cmd_apply.c's business.
 */
#define _LGPL_SOURCE  /* inline the small urcu read-side helpers */
#include "fwd_table.h"

#include "dataplane.h"
#include "mix64.h"

#include <errno.h>
#include <string.h>

#define INITIAL_BUCKETS 1024ul

static inline unsigned long participant_hash(const struct mmr_addr *a, uint16_t port)
{
	uint64_t w0, w1;
	memcpy(&w0, a->ip, 8);
	memcpy(&w1, a->ip + 8, 8);
	return (unsigned long)mix64(w0 ^ mix64(w1 ^ ((uint64_t)port << 8) ^ a->family));
}

static inline unsigned long stream_hash(uint32_t participant_id, uint32_t ssrc)
{
	return (unsigned long)mix64(((uint64_t)participant_id << 32) | ssrc);
}

static inline unsigned long sub_hash(uint32_t receiver_id, uint32_t ssrc)
{
	return (unsigned long)mix64((((uint64_t)receiver_id << 32) | ssrc) ^ 0x9e3779b97f4a7c15ull);
}

struct participant_key {
	const struct mmr_addr *addr;
	uint16_t port;
};

struct stream_key {
	uint32_t participant_id;
	uint32_t ssrc;
};

static int participant_match(struct cds_lfht_node *node, const void *key)
{
	const struct fwd_participant *p = caa_container_of(node, struct fwd_participant, node);
	const struct participant_key *k = key;
	return p->udp_port == k->port && mmr_addr_eq(&p->addr, k->addr);
}

static int stream_match(struct cds_lfht_node *node, const void *key)
{
	const struct fwd_stream *s = caa_container_of(node, struct fwd_stream, node);
	const struct stream_key *k = key;
	return s->ssrc == k->ssrc && s->participant_id == k->participant_id;
}

static int sub_match(struct cds_lfht_node *node, const void *key)
{
	const struct fwd_sub *s = caa_container_of(node, struct fwd_sub, node);
	const struct stream_key *k = key;    /* participant_id: the receiver */
	return s->ssrc == k->ssrc && s->receiver_id == k->participant_id;
}

int fwd_tables_init(struct fwd_tables *t)
{
	int flags = CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING;
	t->participants = cds_lfht_new(INITIAL_BUCKETS, INITIAL_BUCKETS, 0, flags, NULL);
	if (!t->participants)
		return -ENOMEM;
	t->streams = cds_lfht_new(INITIAL_BUCKETS, INITIAL_BUCKETS, 0, flags, NULL);
	t->subs = cds_lfht_new(INITIAL_BUCKETS, INITIAL_BUCKETS, 0, flags, NULL);
	t->meetings = calloc(MMR_MAX_MEETINGS, sizeof(*t->meetings));
	if (!t->streams || !t->subs || !t->meetings) {
		free(t->meetings);
		t->meetings = NULL;
		cds_lfht_destroy(t->participants, NULL);
		if (t->streams)
			cds_lfht_destroy(t->streams, NULL);
		if (t->subs)
			cds_lfht_destroy(t->subs, NULL);
		t->participants = t->streams = NULL;
		t->subs = NULL;
		return -ENOMEM;
	}
	return 0;
}

void fwd_tables_destroy(struct fwd_tables *t)
{
	/* cds_lfht_destroy refuses a table that still holds nodes (-EPERM): the owner removes them first */
	if (t->participants && cds_lfht_destroy(t->participants, NULL) != 0)
		dp_log("participant table not empty at exit; not freed");
	if (t->streams && cds_lfht_destroy(t->streams, NULL) != 0)
		dp_log("stream table not empty at exit; not freed");
	if (t->subs && cds_lfht_destroy(t->subs, NULL) != 0)
		dp_log("subscription table not empty at exit; not freed");
	/* the meeting nodes are the owner's (cmd_apply.c frees them); only the pointer array is ours */
	free(t->meetings);
	t->meetings = NULL;
	t->participants = t->streams = NULL;
	t->subs = NULL;
}

struct fwd_participant *fwd_participant_lookup(struct fwd_tables *t, const struct mmr_addr *a,
					       uint16_t udp_port)
{
	struct participant_key k = { a, udp_port };
	struct cds_lfht_iter it;
	cds_lfht_lookup(t->participants, participant_hash(a, udp_port), participant_match, &k, &it);
	struct cds_lfht_node *n = cds_lfht_iter_get_node(&it);
	return n ? caa_container_of(n, struct fwd_participant, node) : NULL;
}

struct fwd_stream *fwd_stream_lookup(struct fwd_tables *t, uint32_t participant_id, uint32_t ssrc)
{
	struct stream_key k = { participant_id, ssrc };
	struct cds_lfht_iter it;
	cds_lfht_lookup(t->streams, stream_hash(participant_id, ssrc), stream_match, &k, &it);
	struct cds_lfht_node *n = cds_lfht_iter_get_node(&it);
	return n ? caa_container_of(n, struct fwd_stream, node) : NULL;
}

struct fwd_sub *fwd_sub_lookup(struct fwd_tables *t, uint32_t receiver_id, uint32_t ssrc)
{
	struct stream_key k = { receiver_id, ssrc };
	struct cds_lfht_iter it;
	cds_lfht_lookup(t->subs, sub_hash(receiver_id, ssrc), sub_match, &k, &it);
	struct cds_lfht_node *n = cds_lfht_iter_get_node(&it);
	return n ? caa_container_of(n, struct fwd_sub, node) : NULL;
}

struct fwd_output *fwd_sub_member_output(struct fwd_tables *t, const struct fwd_sub_member *m,
					 struct fwd_stream **stream)
{
	if (m->sub_id == MMR_ID_NONE)
		return NULL;
	struct fwd_stream *s = fwd_stream_lookup(t, m->publisher_id, m->ssrc);
	if (!s || s->is_rtx || s->id != m->stream_id)
		return NULL;
	struct fwd_outputs *a = rcu_dereference(s->outputs);
	for (uint32_t i = 0; a && i < a->n; i++)
		if (a->o[i].sub_id == m->sub_id) {
			*stream = s;
			return &a->o[i];
		}
	return NULL;
}

struct fwd_participant *fwd_participant_publish(struct fwd_tables *t, struct fwd_participant *n)
{
	struct participant_key k = { &n->addr, n->udp_port };
	cds_lfht_node_init(&n->node);
	struct cds_lfht_node *old = cds_lfht_add_replace(t->participants,
		participant_hash(&n->addr, n->udp_port), participant_match, &k, &n->node);
	return old ? caa_container_of(old, struct fwd_participant, node) : NULL;
}

void fwd_participant_unpublish(struct fwd_tables *t, struct fwd_participant *n)
{
	cds_lfht_del(t->participants, &n->node);
}

struct fwd_stream *fwd_stream_publish(struct fwd_tables *t, struct fwd_stream *n)
{
	struct stream_key k = { n->participant_id, n->ssrc };
	cds_lfht_node_init(&n->node);
	struct cds_lfht_node *old = cds_lfht_add_replace(t->streams,
		stream_hash(n->participant_id, n->ssrc), stream_match, &k, &n->node);
	return old ? caa_container_of(old, struct fwd_stream, node) : NULL;
}

void fwd_stream_unpublish(struct fwd_tables *t, struct fwd_stream *n)
{
	cds_lfht_del(t->streams, &n->node);
}

struct fwd_stream *fwd_stream_publish_unique(struct fwd_tables *t, struct fwd_stream *n)
{
	struct stream_key k = { n->participant_id, n->ssrc };
	cds_lfht_node_init(&n->node);
	struct cds_lfht_node *got = cds_lfht_add_unique(t->streams, stream_hash(n->participant_id, n->ssrc),
							stream_match, &k, &n->node);
	return got == &n->node ? NULL : caa_container_of(got, struct fwd_stream, node);
}

struct fwd_sub *fwd_sub_publish(struct fwd_tables *t, struct fwd_sub *n)
{
	struct stream_key k = { n->receiver_id, n->ssrc };
	cds_lfht_node_init(&n->node);
	struct cds_lfht_node *old = cds_lfht_add_replace(t->subs, sub_hash(n->receiver_id, n->ssrc), sub_match,
							 &k, &n->node);
	return old ? caa_container_of(old, struct fwd_sub, node) : NULL;
}

void fwd_sub_unpublish(struct fwd_tables *t, struct fwd_sub *n)
{
	cds_lfht_del(t->subs, &n->node);
}
