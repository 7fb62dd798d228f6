/*
 * ice.c - the ICE-lite agent of the dataplane (see ice.h): the ufrag table, the STUN answer built
 * in the request's mbuf, address events and the consent scan.
 */
#define _LGPL_SOURCE
#include "ice.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <rte_cycles.h>
#include <rte_malloc.h>
#include <urcu-qsbr.h>
#include <urcu/rculfhash.h>

#include "be_bytes.h"
#include "cmd_chan.h"
#include "dataplane.h"
#include "ice_check.h"
#include "local_reply.h"
#include "mix64.h"
#include "shadow.h"
#include "stun.h"
#include "worker.h"

#define ICE_EVENT_GAP_MS 100u    /* address events: one per participant per 100 ms at most */
#define STUN_ANSWER_MAX  160u    /* our responses: 20 + XOR-MAPPED-ADDRESS v6 24 + MI 24 + FP 8, or an error */

struct ice_node {
	struct cds_lfht_node node;
	uint32_t part;
	uint8_t  ufrag_len, pwd_len;
	uint8_t  family;              /* of the address below; 0: no address */
	uint16_t port;                /* host order; 0: no address */
	uint8_t  ip[16];
	char     ufrag[MMR_ICE_UFRAG_MAX];
	uint8_t  pwd[MMR_ICE_PWD_MAX];
};

struct ice_part {
	uint64_t last_ok_tsc;         /* any lcore (relaxed): last valid check from its address */
	uint64_t last_ev_tsc;         /* any lcore (relaxed): last address event */
	uint64_t last_src;            /* any lcore (relaxed): recent_key() of its last valid check's
					 IPv4 source (0: none yet, or IPv6) */
};

/* The recent checks (dp_ice_recent in ice.h): a direct-mapped table, source -> participant id + 1,
 * written by whichever lcore answered a valid check; a reader confirms an entry against the
 * participant's own last_src (a collision or a later check elsewhere shows as a mismatch). */
#define ICE_RECENT 4096u

struct dp_ice {
	struct cds_lfht *ht;
	struct ice_part *part;        /* MMR_MAX_PARTICIPANTS */
	struct ice_node **node;       /* control thread: each participant's published node */
	uint32_t *ids, *pos;          /* control thread: the ICE participants (dense) and each one's index */
	uint8_t *reported;            /* control thread: consent loss reported for its current address */
	uint32_t *recent;             /* ICE_RECENT entries */
	uint32_t n;
	uint64_t gap_tsc, next_scan;
	int no_learn;                 /* MMR_TEST_ICE_NO_LEARN=1: never report an address (the
					 integration test's negative control) */
};

static struct dp_ice ice;

static unsigned long ufrag_hash(const char *u, unsigned len)
{
	uint64_t h = 0x69636575ull ^ len;
	for (unsigned i = 0; i < len; i++)
		h = mix64(h ^ (uint8_t)u[i]);
	return (unsigned long)h;
}

struct ufrag_key {
	const char *u;
	unsigned len;
};

static int ufrag_match(struct cds_lfht_node *node, const void *key)
{
	const struct ice_node *n = caa_container_of(node, struct ice_node, node);
	const struct ufrag_key *k = key;
	return n->ufrag_len == k->len && memcmp(n->ufrag, k->u, k->len) == 0;
}

int dp_ice_init(struct dataplane *dp)
{
	memset(&ice, 0, sizeof(ice));
	ice.ht = cds_lfht_new(1024, 1024, 0, CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING, NULL);
	/* ordinary memory: touched only on the STUN path, and hugepages may be all the pools' (a
	 * bench dataplane sizes its pools to what it has) */
	ice.part = aligned_alloc(64, MMR_MAX_PARTICIPANTS * sizeof(*ice.part));
	if (ice.part)
		memset(ice.part, 0, MMR_MAX_PARTICIPANTS * sizeof(*ice.part));
	ice.node = calloc(MMR_MAX_PARTICIPANTS, sizeof(*ice.node));
	ice.ids = calloc(MMR_MAX_PARTICIPANTS, sizeof(*ice.ids));
	ice.pos = calloc(MMR_MAX_PARTICIPANTS, sizeof(*ice.pos));
	ice.reported = calloc(MMR_MAX_PARTICIPANTS, 1);
	ice.recent = calloc(ICE_RECENT, sizeof(*ice.recent));
	if (!ice.ht || !ice.part || !ice.node || !ice.ids || !ice.pos || !ice.reported || !ice.recent) {
		dp_ice_free(dp);
		return -ENOMEM;
	}
	ice.gap_tsc = rte_get_tsc_hz() / 1000 * ICE_EVENT_GAP_MS;
	const char *nl = getenv("MMR_TEST_ICE_NO_LEARN");
	ice.no_learn = nl && strcmp(nl, "1") == 0;
	if (ice.no_learn)
		dp_log("MMR_TEST_ICE_NO_LEARN=1: ICE addresses are never learned (test hook)");
	return 0;
}

static void node_free(void *p)
{
	struct ice_node *n = p;
	explicit_bzero(n->pwd, sizeof(n->pwd));
	free(n);
}

void dp_ice_free(struct dataplane *dp)
{
	(void)dp;
	/* the workers have stopped; the caller is an online RCU thread when anything was published */
	if (ice.node && ice.ht)
		for (uint32_t i = 0; i < MMR_MAX_PARTICIPANTS; i++)
			if (ice.node[i]) {
				cds_lfht_del(ice.ht, &ice.node[i]->node);
				node_free(ice.node[i]);
			}
	if (ice.ht && cds_lfht_destroy(ice.ht, NULL) != 0)
		dp_log("ICE table not empty at exit; not freed");
	free(ice.part);
	free(ice.node);
	free(ice.ids);
	free(ice.pos);
	free(ice.reported);
	free(ice.recent);
	memset(&ice, 0, sizeof(ice));
}

static void list_add(uint32_t pid)
{
	ice.pos[pid] = ice.n;
	ice.ids[ice.n++] = pid;
}

static void list_del(uint32_t pid)
{
	uint32_t i = ice.pos[pid], last = ice.ids[--ice.n];
	ice.ids[i] = last;
	ice.pos[last] = i;
}

void dp_ice_del(struct cmd_apply *ca, uint32_t pid)
{
	struct ice_node *old = pid < MMR_MAX_PARTICIPANTS ? ice.node[pid] : NULL;
	if (!old)
		return;
	cds_lfht_del(ice.ht, &old->node);
	ice.node[pid] = NULL;
	__atomic_store_n(&ice.part[pid].last_src, 0, __ATOMIC_RELAXED);
	list_del(pid);
	shadow_retire(ca, old, node_free);
}

void dp_ice_put(struct cmd_apply *ca, const struct mmr_cmd_participant *c)
{
	uint32_t pid = c->id;
	if (!c->ice) {
		dp_ice_del(ca, pid);
		return;
	}
	struct ice_node *old = ice.node[pid];
	if (old && old->ufrag_len == c->ice_ufrag_len && memcmp(old->ufrag, c->ice_ufrag, c->ice_ufrag_len) == 0 &&
	    old->pwd_len == c->ice_pwd_len && memcmp(old->pwd, c->ice_pwd, c->ice_pwd_len) == 0 &&
	    old->port == c->udp_port && (!c->udp_port || (old->family == c->addr.family &&
							   memcmp(old->ip, c->addr.ip, 16) == 0)))
		return;    /* nothing of ours changed */
	struct ice_node *n = calloc(1, sizeof(*n));
	if (!n) {
		dp_log("participant %u: out of memory for its ICE node: its checks go unanswered", pid);
		dp_ice_del(ca, pid);
		return;
	}
	cds_lfht_node_init(&n->node);
	n->part = pid;
	n->ufrag_len = c->ice_ufrag_len;
	n->pwd_len = c->ice_pwd_len;
	memcpy(n->ufrag, c->ice_ufrag, c->ice_ufrag_len);
	memcpy(n->pwd, c->ice_pwd, c->ice_pwd_len);
	if (c->udp_port) {
		n->family = c->addr.family;
		n->port = c->udp_port;
		memcpy(n->ip, c->addr.ip, 16);
	}
	if (!old || old->port != n->port || old->family != n->family || memcmp(old->ip, n->ip, 16) != 0) {
		/* a new address: its consent starts now */
		__atomic_store_n(&ice.part[pid].last_ok_tsc, rte_rdtsc(), __ATOMIC_RELAXED);
		ice.reported[pid] = 0;
	}
	/* the old ufrag's node goes first (another participant may take it over in this batch) */
	if (old) {
		cds_lfht_del(ice.ht, &old->node);
		shadow_retire(ca, old, node_free);
	} else {
		list_add(pid);
	}
	struct ufrag_key k = { n->ufrag, n->ufrag_len };
	unsigned long h = ufrag_hash(n->ufrag, n->ufrag_len);
	struct cds_lfht_node *prev = cds_lfht_add_replace(ice.ht, h, ufrag_match, &k, &n->node);
	if (prev) {
		/* another participant's stale node with our ufrag (the controller keeps them unique:
		 * a reused ufrag within one batch); it is ours now */
		struct ice_node *p = caa_container_of(prev, struct ice_node, node);
		dp_log("participant %u takes ICE ufrag of participant %u", pid, p->part);
		ice.node[p->part] = NULL;
		list_del(p->part);
		shadow_retire(ca, p, node_free);
	}
	ice.node[pid] = n;
}

void dp_ice_service(struct dataplane *dp, uint64_t now)
{
	if (now < ice.next_scan)
		return;
	ice.next_scan = now + rte_get_tsc_hz();
	uint64_t consent_tsc = (uint64_t)dp->cfg->ice_consent_s * rte_get_tsc_hz();   /* SIGHUP may change it */
	if (!consent_tsc)
		return;
	for (uint32_t i = 0; i < ice.n; i++) {
		uint32_t pid = ice.ids[i];
		const struct ice_node *n = ice.node[pid];
		if (!n || !n->port || ice.reported[pid])
			continue;
		uint64_t last = __atomic_load_n(&ice.part[pid].last_ok_tsc, __ATOMIC_RELAXED);
		if (last >= now || now - last < consent_tsc)   /* (another core's TSC may be a little ahead) */
			continue;
		if (!ev_room(&dp->ctl_events.ev))
			return;    /* next second */
		ev_push(&dp->ctl_events.ev, MMR_EV_CONSENT, pid, n->port, 0);
		ice.reported[pid] = 1;
		dp->shm->stats.ctl.ice_consent_lost++;
		dp_log("participant %u: ICE consent expired (no valid check for %u s)", pid, dp->cfg->ice_consent_s);
	}
}

/* ---- the packet path ------------------------------------------------------------------------ */

/* An IPv4 source as one word (never 0); 0 for IPv6 */
static inline uint64_t recent_key(const struct pkt_info *pi)
{
	uint32_t v4;
	if (pi->src.family != MMR_AF_INET)
		return 0;
	memcpy(&v4, pi->src.ip, 4);
	return 1ull << 48 | (uint64_t)v4 << 16 | pi->sport;
}

static inline unsigned recent_slot(uint64_t key)
{
	return (unsigned)(mix64(key) & (ICE_RECENT - 1));
}

uint32_t dp_ice_recent(const struct pkt_info *pi)
{
	uint64_t key = recent_key(pi);
	if (!key)
		return MMR_ID_NONE;
	uint32_t e = __atomic_load_n(&ice.recent[recent_slot(key)], __ATOMIC_RELAXED);
	if (e == 0 || e > MMR_MAX_PARTICIPANTS)
		return MMR_ID_NONE;
	uint32_t pid = e - 1;
	return __atomic_load_n(&ice.part[pid].last_src, __ATOMIC_RELAXED) == key ? pid : MMR_ID_NONE;
}

static enum mmr_drop_reason answer_error(struct worker *w, struct rte_mbuf *m, const struct pkt_info *pi,
					 const uint8_t *req, uint16_t code, uint16_t unknown, const uint8_t *key,
					 size_t key_len, enum mmr_drop_reason why)
{
	uint8_t ans[STUN_ANSWER_MAX];
	uint32_t n = stun_binding_error(ans, sizeof(ans), req, code, unknown, key, key_len);
	if (n && local_reply_udp(&w->dp->port[w->dp->pidx_of[m->port]], m, pi, ans, n) == MMR_DROP_NONE) {
		w->st->stun_errors++;
		w->st->drops[why]++;     /* the request is counted under its reason; the answer is sent */
		return MMR_DROP_NONE;
	}
	return why;
}

enum mmr_drop_reason dp_ice_stun(struct worker *w, struct rte_mbuf *m, const struct pkt_info *pi)
{
	const uint8_t *p = rte_pktmbuf_mtod_offset(m, const uint8_t *, pi->payload_off);
	struct stun_msg msg;
	struct ice_verdict v;
	unsigned ulen = 0;
	const struct ice_node *n = NULL;
	if (ice_check_pre(p, pi->payload_len, &msg, &ulen, &v)) {
		const char *u = (const char *)p + msg.username_off;
		struct ufrag_key k = { u, ulen };
		struct cds_lfht_iter it;
		cds_lfht_lookup(ice.ht, ufrag_hash(u, ulen), ufrag_match, &k, &it);
		struct cds_lfht_node *hn = cds_lfht_iter_get_node(&it);
		n = hn ? caa_container_of(hn, struct ice_node, node) : NULL;
		struct ice_peer peer;
		if (n)
			peer = (struct ice_peer){ n->pwd, n->pwd_len, n->family, n->port, n->ip };
		ice_check_auth(p, &msg, n ? &peer : NULL, pi->src.family, pi->src.ip, pi->sport, &v);
	}
	if (v.answer == 0)
		return (enum mmr_drop_reason)v.drop;
	if (v.answer != 200) {
		/* 420/487 come from an authenticated request: signed with the pwd; 400/401 are not */
		int signed_err = v.answer == 420 || v.answer == 487;
		return answer_error(w, m, pi, p, v.answer, v.answer == 420 ? msg.unknown_attr : 0,
				    signed_err ? n->pwd : NULL, signed_err ? n->pwd_len : 0,
				    (enum mmr_drop_reason)v.drop);
	}
	/* a valid check */
	uint64_t now = rte_rdtsc();
	uint32_t pid = n->part;
	uint64_t key = recent_key(pi);
	if (key && __atomic_load_n(&ice.part[pid].last_src, __ATOMIC_RELAXED) != key) {
		__atomic_store_n(&ice.part[pid].last_src, key, __ATOMIC_RELAXED);
		__atomic_store_n(&ice.recent[recent_slot(key)], pid + 1, __ATOMIC_RELAXED);
	}
	if (v.fresh) {
		__atomic_store_n(&ice.part[pid].last_ok_tsc, now, __ATOMIC_RELAXED);
	} else if (v.learn && !ice.no_learn) {
		if (pi->src.family != MMR_AF_INET) {
			w->st->ice_addr_v6++;
		} else if ((int64_t)(now - __atomic_load_n(&ice.part[pid].last_ev_tsc, __ATOMIC_RELAXED)) >=
			   (int64_t)ice.gap_tsc) {
			__atomic_store_n(&ice.part[pid].last_ev_tsc, now, __ATOMIC_RELAXED);
			uint32_t v4;
			memcpy(&v4, pi->src.ip, 4);
			ev_push(&w->ev, MMR_EV_ADDRESS, pid, v4, pi->sport);
			w->st->ice_addr_events++;
		}
	}
	struct stun_addr from = { .family = pi->src.family == MMR_AF_INET ? 4 : 6, .port = pi->sport };
	memcpy(from.ip, pi->src.ip, 16);
	uint8_t ans[STUN_ANSWER_MAX];
	uint32_t alen = stun_binding_success(ans, sizeof(ans), p, &from, n->pwd, n->pwd_len);
	if (!alen)
		return MMR_DROP_STUN_BAD;
	enum mmr_drop_reason why = local_reply_udp(&w->dp->port[w->dp->pidx_of[m->port]], m, pi, ans, alen);
	if (why == MMR_DROP_NONE)
		w->st->stun_answered++;
	return why;
}
