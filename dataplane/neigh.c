/*
 * neigh.c - the neighbour table, its rings and its state machine (see neigh.h).
 *
 * The entries (g.e[]) are the control thread's; the telemetry thread reads them under g.lock, which
 * only those two threads take (never a worker). The workers see dp_neigh_words[] and
 * dp_neigh_want[] only.
 */
#include "neigh.h"

#include <pthread.h>
#include <stdio.h>
#include <rte_lcore.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_telemetry.h>

#include "dataplane.h"
#include "handoff.h"
#include "dp_log.h"
#include "neigh_pkt.h"
#include "worker.h"

#define FAILED_RETRY_NS  5000000000ull     /* a failed entry in use: resolution again after this */
#define WANT_RETRY_NS    1000000000ull     /* ... or this long after the failure when a copy asks */
#define REUSE_AFTER_NS   5000000000ull     /* an unreferenced entry is reused only after this (old
					      output arrays are long gone: an RCU grace period) */
#define SCAN_NS          20000000ull       /* timers are looked at every 20 ms */
#define IN_BURST         32u

uint64_t dp_neigh_words[DP_NEIGH_MAX + 1];
uint8_t dp_neigh_want[DP_NEIGH_MAX + 1];

struct nent {
	struct mmr_addr ip;
	uint8_t  state;           /* enum dp_neigh_state */
	uint8_t  pidx;
	uint8_t  tries;           /* requests sent in this resolution or probe */
	uint8_t  gateway;         /* a port's gateway: never reclaimed, always kept resolved */
	uint8_t  has_mac;
	uint8_t  mac[6];
	uint32_t refs;            /* receivers reached through it (cmd_apply.c) */
	uint64_t updated_ns;      /* its MAC last confirmed (or set) */
	uint64_t next_ns;         /* its next timer */
	uint64_t unused_ns;       /* refs 0 since */
};

static struct {
	struct dataplane *dp;
	struct rte_ring *in, *tx;
	struct rte_mempool *pool;
	struct nent e[DP_NEIGH_MAX + 1];
	uint16_t gw[MMR_MAX_PORTS][2];      /* [pidx][0 v4, 1 v6]: the gateway's entry (0: none) */
	uint64_t reachable_ns, retrans_ns, next_scan;
	uint32_t tries;
	pthread_mutex_t lock;
} g = { .lock = PTHREAD_MUTEX_INITIALIZER };

static struct mmr_ctl_stats *cst(void)
{
	return &g.dp->shm->stats.ctl;
}

static const char *state_name(uint8_t s)
{
	static const char *const n[] = { "free", "incomplete", "reachable", "stale", "failed", "static" };
	return s < sizeof(n) / sizeof(n[0]) ? n[s] : "?";
}

/* Publish entry i's word: its MAC, usable or not. */
static void publish(uint16_t i)
{
	struct nent *e = &g.e[i];
	uint8_t b[8] = { 0 };
	memcpy(b, e->mac, 6);
	b[6] = e->has_mac && (e->state == DP_NEIGH_REACHABLE || e->state == DP_NEIGH_STALE ||
			      e->state == DP_NEIGH_STATIC);
	uint64_t w;
	memcpy(&w, b, 8);
	__atomic_store_n(&dp_neigh_words[i], w, __ATOMIC_RELAXED);
}

static uint16_t find(unsigned pidx, const struct mmr_addr *a)
{
	for (uint16_t i = (uint16_t)(1 + pidx * DP_NEIGH_PER_PORT); i <= (pidx + 1) * DP_NEIGH_PER_PORT; i++)
		if (g.e[i].state != DP_NEIGH_FREE && mmr_addr_eq(&g.e[i].ip, a))
			return i;
	return 0;
}

/* A free slot of port pidx, or an unreferenced one unused long enough; 0: none. */
static uint16_t slot(unsigned pidx, uint64_t now)
{
	uint16_t reuse = 0;
	for (uint16_t i = (uint16_t)(1 + pidx * DP_NEIGH_PER_PORT); i <= (pidx + 1) * DP_NEIGH_PER_PORT; i++) {
		const struct nent *e = &g.e[i];
		if (e->state == DP_NEIGH_FREE)
			return i;
		if (!reuse && !e->refs && !e->gateway && e->state != DP_NEIGH_STATIC &&
		    now - e->unused_ns >= REUSE_AFTER_NS)
			reuse = i;
	}
	return reuse;
}

static void entry_new(uint16_t i, unsigned pidx, const struct mmr_addr *a, uint64_t now)
{
	struct nent *e = &g.e[i];
	memset(e, 0, sizeof(*e));
	e->ip = *a;
	e->pidx = (uint8_t)pidx;
	e->state = DP_NEIGH_INCOMPLETE;
	e->next_ns = now;           /* the first request at the next scan */
	e->unused_ns = now;
	publish(i);
	__atomic_store_n(&dp_neigh_want[i], 0, __ATOMIC_RELAXED);
	g.next_scan = 0;
}

/* ---- sending ----------------------------------------------------------------------------------- */

/* One request for entry i: broadcast / solicited-node multicast, or unicast to its known MAC. */
static void request(uint16_t i, int unicast)
{
	struct nent *e = &g.e[i];
	const struct dp_port *pt = &g.dp->port[e->pidx];
	struct rte_mbuf *m = rte_pktmbuf_alloc(g.pool);
	uint32_t len;
	if (!m) {
		cst()->neigh_tx_dropped++;
		return;
	}
	uint8_t *f = (uint8_t *)rte_pktmbuf_append(m, NEIGH_NS_FRAME_LEN);
	if (!f) {
		rte_pktmbuf_free(m);
		cst()->neigh_tx_dropped++;
		return;
	}
	const uint8_t *dst = unicast && e->has_mac ? e->mac : NULL;
	if (e->ip.family == MMR_AF_INET)
		len = neigh_build_arp_request(f, pt->mac, pt->ipv4.ip, e->ip.ip, dst);
	else
		len = neigh_build_ns(f, pt->mac, pt->ipv6.ip, e->ip.ip, dst);
	rte_pktmbuf_trim(m, (uint16_t)(NEIGH_NS_FRAME_LEN - len));
	m->port = pt->port_id;
	if (rte_ring_sp_enqueue(g.tx, m) != 0) {
		rte_pktmbuf_free(m);
		cst()->neigh_tx_dropped++;
		return;
	}
	cst()->neigh_requests++;
}

/* ---- the state machine ------------------------------------------------------------------------- */

static int in_use(const struct nent *e)
{
	return e->gateway || e->refs;
}

static void fail(uint16_t i, uint64_t now)
{
	struct nent *e = &g.e[i];
	e->state = DP_NEIGH_FAILED;
	e->tries = 0;
	e->next_ns = now + FAILED_RETRY_NS;
	publish(i);
	cst()->neigh_failed++;
	char a[64];
	mmr_addr_format(&e->ip, a, sizeof(a));
	DP_WARN(DP_LT_CTL, "neighbour %s on port %u: no answer; its copies are dropped (neigh_unresolved) until it answers",
		a, e->pidx);
}

static void timer(uint16_t i, uint64_t now)
{
	struct nent *e = &g.e[i];
	int want = __atomic_load_n(&dp_neigh_want[i], __ATOMIC_RELAXED);
	if (want)
		__atomic_store_n(&dp_neigh_want[i], 0, __ATOMIC_RELAXED);
	switch (e->state) {
	case DP_NEIGH_FAILED:
		/* again FAILED_RETRY_NS after the failure, or WANT_RETRY_NS after it when a copy asked */
		if (!in_use(e) || (now < e->next_ns && !(want && now >= e->next_ns - FAILED_RETRY_NS + WANT_RETRY_NS)))
			return;
		e->state = DP_NEIGH_INCOMPLETE;
		e->tries = 0;
		e->next_ns = now;
		/* fall through */
	case DP_NEIGH_INCOMPLETE:
		if (!in_use(e) && e->tries)
			return;         /* nobody needs it any more: it stays incomplete until reused */
		if (now < e->next_ns)
			return;
		if (e->tries >= g.tries) {
			fail(i, now);
			return;
		}
		request(i, 0);
		e->tries++;
		e->next_ns = now + g.retrans_ns;
		return;
	case DP_NEIGH_REACHABLE:
		if (now < e->next_ns)
			return;
		if (!in_use(e))
			return;         /* not probed while unused (it is resolved again when used) */
		e->state = DP_NEIGH_STALE;
		e->tries = 0;
		/* fall through */
	case DP_NEIGH_STALE:
		if (now < e->next_ns)
			return;
		if (e->tries >= g.tries) {
			fail(i, now);
			return;
		}
		request(i, e->tries == 0);   /* first to the MAC we know, then to everyone */
		e->tries++;
		e->next_ns = now + g.retrans_ns;
		return;
	default:
		return;
	}
}

/* What a neighbour told us: ip is at mac. */
static void learn(unsigned pidx, const struct mmr_addr *ip, const uint8_t mac[6], uint64_t now)
{
	uint16_t i = pidx < MMR_MAX_PORTS ? find(pidx, ip) : 0;
	if (!i || g.e[i].state == DP_NEIGH_STATIC || (mac[0] & 1) ||
	    !memcmp(mac, "\0\0\0\0\0\0", 6)) {
		cst()->neigh_ignored++;
		return;
	}
	struct nent *e = &g.e[i];
	if (e->has_mac && memcmp(e->mac, mac, 6) != 0) {
		char a[64];
		mmr_addr_format(&e->ip, a, sizeof(a));
		DP_INFO(DP_LT_CTL, "neighbour %s on port %u: MAC %02x:%02x:%02x:%02x:%02x:%02x -> %02x:%02x:%02x:%02x:%02x:%02x",
			a, pidx, e->mac[0], e->mac[1], e->mac[2], e->mac[3], e->mac[4], e->mac[5],
			mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
		cst()->neigh_changes++;
	}
	memcpy(e->mac, mac, 6);
	e->has_mac = 1;
	e->state = DP_NEIGH_REACHABLE;
	e->tries = 0;
	e->updated_ns = now;
	e->next_ns = now + g.reachable_ns;
	publish(i);
	cst()->neigh_replies++;
}

static void on_frame(struct rte_mbuf *m, uint64_t now)
{
	struct pkt_info pi;
	unsigned pidx = g.dp->pidx_of[m->port];
	if (pkt_parse(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, &pi) != MMR_DROP_NONE) {
		cst()->neigh_ignored++;
	} else if (pi.kind == PKT_ARP) {
		learn(pidx, &pi.arp_spa, pi.arp_sha, now);
	} else if (pi.kind == PKT_ICMP6_NA && pi.nd_has_lla) {
		learn(pidx, &pi.nd_target, pi.arp_sha, now);
	} else if (pi.kind == PKT_ICMP6_NA && (pi.nd_flags & 0x40)) {
		/* a solicited advertisement without the option (the answer to a unicast probe, RFC 4861
		 * 7.2.4): confirms the MAC we know (7.2.5) */
		uint16_t i = pidx < MMR_MAX_PORTS ? find(pidx, &pi.nd_target) : 0;
		if (i && g.e[i].has_mac && g.e[i].state != DP_NEIGH_STATIC)
			learn(pidx, &pi.nd_target, g.e[i].mac, now);
		else
			cst()->neigh_ignored++;
	} else {
		cst()->neigh_ignored++;     /* an advertisement without the target's MAC */
	}
	rte_pktmbuf_free(m);
}

void dp_neigh_service(struct dataplane *dp)
{
	(void)dp;
	if (!g.in)
		return;
	struct rte_mbuf *ms[IN_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(g.in, (void **)ms, IN_BURST, NULL);
	uint64_t now = mmr_now_ns();
	if (n == 0 && now < g.next_scan)
		return;
	pthread_mutex_lock(&g.lock);
	for (unsigned k = 0; k < n; k++)
		on_frame(ms[k], now);
	if (now >= g.next_scan) {
		const struct dp_config *cfg = g.dp->cfg;      /* run-time settings (SIGHUP) */
		g.reachable_ns = (uint64_t)__atomic_load_n(&cfg->neigh_reachable_s, __ATOMIC_RELAXED) * 1000000000ull;
		g.retrans_ns = (uint64_t)__atomic_load_n(&cfg->neigh_retrans_ms, __ATOMIC_RELAXED) * 1000000ull;
		g.tries = __atomic_load_n(&cfg->neigh_tries, __ATOMIC_RELAXED);
		for (uint16_t i = 1; i <= DP_NEIGH_MAX; i++)
			if (g.e[i].state != DP_NEIGH_FREE && g.e[i].state != DP_NEIGH_STATIC)
				timer(i, now);
		g.next_scan = now + SCAN_NS;
	}
	pthread_mutex_unlock(&g.lock);
}

/* ---- references (cmd_apply.c) ------------------------------------------------------------------ */

const char *dp_neigh_check(unsigned pidx, const struct mmr_addr *a)
{
	const struct dp_port_config *pc = &g.dp->cfg->port[pidx];
	if (dp_port_on_link(pc, a)) {
		if (find(pidx, a) || slot(pidx, mmr_now_ns()))
			return NULL;
		return "the port's neighbour table is full";
	}
	if (pc->has_gateway_mac || g.gw[pidx][a->family == MMR_AF_INET ? 0 : 1])
		return NULL;
	return a->family == MMR_AF_INET ? "no MAC given, and the port has neither gateway_mac nor gateway_ipv4 "
					  "(nor the address inside ipv4_prefix)"
					: "no MAC given, and the port has neither gateway_mac nor gateway_ipv6 "
					  "(nor the address inside ipv6_prefix)";
}

uint16_t dp_neigh_ref(unsigned pidx, const struct mmr_addr *a)
{
	const struct dp_port_config *pc = &g.dp->cfg->port[pidx];
	uint16_t i;
	pthread_mutex_lock(&g.lock);
	if (dp_port_on_link(pc, a)) {
		uint64_t now = mmr_now_ns();
		i = find(pidx, a);
		if (!i && (i = slot(pidx, now)) != 0)
			entry_new(i, pidx, a, now);
		if (i)
			g.e[i].refs++;
	} else {
		i = pc->has_gateway_mac ? 0 : g.gw[pidx][a->family == MMR_AF_INET ? 0 : 1];
	}
	pthread_mutex_unlock(&g.lock);
	return i;
}

int dp_neigh_mac_for(unsigned pidx, const struct mmr_addr *a, uint8_t mac[6])
{
	if (!g.dp || pidx >= g.dp->n_ports)
		return -1;
	const struct dp_port_config *pc = &g.dp->cfg->port[pidx];
	int rc = -1;
	pthread_mutex_lock(&g.lock);
	uint16_t i = dp_port_on_link(pc, a) ? find(pidx, a) : pc->has_gateway_mac ? 0 : g.gw[pidx][a->family == MMR_AF_INET ? 0 : 1];
	if (!i && !dp_port_on_link(pc, a) && pc->has_gateway_mac) {
		memcpy(mac, pc->gateway_mac, 6);
		rc = 0;
	} else if (i && dp_neigh_word_ok(dp_neigh_words[i])) {
		memcpy(mac, g.e[i].mac, 6);
		rc = 0;
	}
	pthread_mutex_unlock(&g.lock);
	return rc;
}

void dp_neigh_unref(uint16_t i)
{
	if (!i || i > DP_NEIGH_MAX)
		return;
	pthread_mutex_lock(&g.lock);
	struct nent *e = &g.e[i];
	if (!e->gateway && e->refs && --e->refs == 0)
		e->unused_ns = mmr_now_ns();
	pthread_mutex_unlock(&g.lock);
}

/* ---- workers ----------------------------------------------------------------------------------- */

enum mmr_drop_reason dp_neigh_in(struct worker *w, struct rte_mbuf *m, const struct pkt_info *pi)
{
	if (unlikely(!w->dp->neigh_in))
		return pi->kind == PKT_ARP ? MMR_DROP_ARP_OTHER : MMR_DROP_NOT_UDP;
	if (rte_ring_mp_enqueue(w->dp->neigh_in, m) != 0)
		return MMR_DROP_NEIGH_FULL;
	return MMR_DROP_NONE;
}

void dp_neigh_tx(struct worker *w)
{
	struct rte_mbuf *ms[32];
	unsigned n = rte_ring_sc_dequeue_burst(w->dp->neigh_tx, (void **)ms, 32, NULL);
	for (unsigned i = 0; i < n; i++)
		worker_send(w, w->dp->pidx_of[ms[i]->port], ms[i]);
}

/* ---- start and stop ---------------------------------------------------------------------------- */

static int add_fixed(unsigned pidx, const struct mmr_addr *a, const uint8_t *mac, int gateway)
{
	uint16_t i = find(pidx, a);
	if (!i && !(i = slot(pidx, mmr_now_ns())))
		return -1;
	if (g.e[i].state == DP_NEIGH_FREE)
		entry_new(i, pidx, a, mmr_now_ns());
	struct nent *e = &g.e[i];
	if (gateway)
		e->gateway = 1;
	if (mac) {
		memcpy(e->mac, mac, 6);
		e->has_mac = 1;
		e->state = DP_NEIGH_STATIC;
		publish(i);
	}
	return i;
}

int dp_neigh_init(struct dataplane *dp)
{
	g.dp = dp;
	memset(g.e, 0, sizeof(g.e));
	memset(g.gw, 0, sizeof(g.gw));
	memset(dp_neigh_words, 0, sizeof(dp_neigh_words));
	memset(dp_neigh_want, 0, sizeof(dp_neigh_want));
	g.reachable_ns = (uint64_t)dp->cfg->neigh_reachable_s * 1000000000ull;
	g.retrans_ns = (uint64_t)dp->cfg->neigh_retrans_ms * 1000000ull;
	g.tries = dp->cfg->neigh_tries;
	g.next_scan = 0;
	unsigned socket = rte_lcore_to_socket_id(dp->worker_lcore[0]);
	g.pool = dp->pools[socket < RTE_MAX_NUMA_NODES ? socket : 0].pkt;
	g.in = rte_ring_create("mmr_neigh_in", DP_NEIGH_IN_RING, SOCKET_ID_ANY, RING_F_SC_DEQ);
	g.tx = rte_ring_create("mmr_neigh_tx", DP_NEIGH_TX_RING, (int)(socket < RTE_MAX_NUMA_NODES ? socket : 0),
			       RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (!g.in || !g.tx || !g.pool) {
		dp_log("cannot set up neighbour resolution (rings)");
		dp_neigh_stop(dp);
		return -1;
	}
	dp->neigh_in = g.in;
	dp->neigh_tx = g.tx;
	for (unsigned p = 0; p < dp->n_ports; p++) {
		const struct dp_port_config *pc = &dp->cfg->port[p];
		for (uint32_t k = 0; k < pc->n_static; k++)
			if (add_fixed(p, &pc->static_neigh[k].ip, pc->static_neigh[k].mac, 0) < 0)
				return -1;
		/* a static gateway_mac with a gateway address: shown as the gateway's static entry */
		const uint8_t *gm = pc->has_gateway_mac ? pc->gateway_mac : NULL;
		int i;
		if (pc->has_gateway_ipv4) {
			if ((i = add_fixed(p, &pc->gateway_ipv4, gm, 1)) < 0)
				return -1;
			g.gw[p][0] = (uint16_t)i;
		}
		if (pc->has_gateway_ipv6) {
			if ((i = add_fixed(p, &pc->gateway_ipv6, gm, 1)) < 0)
				return -1;
			g.gw[p][1] = (uint16_t)i;
		}
	}
	return 0;
}

void dp_neigh_stop(struct dataplane *dp)
{
	dp_mbuf_ring_free(g.in);
	dp_mbuf_ring_free(g.tx);
	g.in = g.tx = NULL;
	if (dp) {
		dp->neigh_in = NULL;
		dp->neigh_tx = NULL;
	}
}

/* ---- telemetry --------------------------------------------------------------------------------- */

void dp_neigh_telemetry(struct rte_tel_data *d)
{
	rte_tel_data_start_dict(d);
	uint64_t now = mmr_now_ns();
	unsigned listed = 0;
	pthread_mutex_lock(&g.lock);
	for (uint16_t i = 1; i <= DP_NEIGH_MAX && listed < 200; i++) {
		const struct nent *e = &g.e[i];
		if (e->state == DP_NEIGH_FREE)
			continue;
		struct rte_tel_data *x = rte_tel_data_alloc();
		if (!x)
			break;
		char a[64], mac[24], key[24];
		mmr_addr_format(&e->ip, a, sizeof(a));
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", e->mac[0], e->mac[1], e->mac[2],
			 e->mac[3], e->mac[4], e->mac[5]);
		rte_tel_data_start_dict(x);
		rte_tel_data_add_dict_u64(x, "port", e->pidx);
		rte_tel_data_add_dict_string(x, "ip", a);
		rte_tel_data_add_dict_string(x, "mac", e->has_mac ? mac : "");
		rte_tel_data_add_dict_string(x, "state", state_name(e->state));
		rte_tel_data_add_dict_int(x, "gateway", e->gateway);
		rte_tel_data_add_dict_u64(x, "refs", e->refs);
		rte_tel_data_add_dict_u64(x, "tries", e->tries);
		rte_tel_data_add_dict_u64(x, "age_ms", e->updated_ns ? (now - e->updated_ns) / 1000000u : 0);
		snprintf(key, sizeof(key), "%u", i);
		if (rte_tel_data_add_dict_container(d, key, x, 0) != 0)
			rte_tel_data_free(x);
		listed++;
	}
	pthread_mutex_unlock(&g.lock);
}
