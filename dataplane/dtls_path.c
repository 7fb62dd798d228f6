/*
 * dtls_path.c - the DTLS thread, its rings and the per-participant DTLS configuration (see
 * dtls_path.h).
 *
 * Memory: the configuration (cfg[], on[]) is plain memory indexed by participant id, written by the
 * control thread only (cfg[] under a per-entry sequence lock, on[] a relaxed byte the workers read);
 * the sessions (sess[], list[]) are the DTLS thread's alone. The two small SP/SC rings between the
 * DTLS thread and the control thread (results, and the kicks that start client-role sessions) are
 * arrays with C11 atomics; the datagram rings are rte_rings.
 */
#define _GNU_SOURCE
#include "dtls_path.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <rte_lcore.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "be_bytes.h"
#include "cmd_chan.h"
#include "dataplane.h"
#include "dtls_cert.h"
#include "dtls_srtp.h"
#include "fwd_table.h"
#include "handoff.h"
#include "ice.h"
#include "local_reply.h"
#include "neigh.h"
#include "worker.h"

_Static_assert((int)DTLS_FAIL_COUNT == (int)MMR_DTLS_FAIL_KEYS, "enum mmr_dtls_fail follows enum dtls_fail");
_Static_assert((int)DTLS_ROLE_SERVER == (int)MMR_DTLS_SERVER && (int)DTLS_ROLE_CLIENT == (int)MMR_DTLS_CLIENT,
	       "roles");

#define RES_RING     256u    /* results toward the control thread */
#define KICK_RING    4096u   /* client-role participants with a (new) address */
#define HDR_MAX      128u    /* L2 (two VLAN tags) + IPv6 + UDP fit */
#define IN_BURST     32u
#define IDLE_US      1000u

/* A participant's DTLS configuration (control thread writes, DTLS thread reads under seq) */
struct dcfg {
	_Atomic uint32_t seq;         /* odd while being written */
	uint32_t gen;                 /* new at every change of on/role/fingerprint/suite; 0: off */
	uint8_t  role;                /* enum mmr_dtls_role */
	uint8_t  suite;               /* enum srtp_suite */
	uint8_t  family;              /* address: MMR_AF_INET/6; port 0: none */
	uint8_t  has_mac;
	uint16_t port;
	uint16_t dp_port;
	uint8_t  ip[16];
	uint8_t  mac[6];
	uint8_t  fp[DTLS_FP_LEN];
};

/* A session (the DTLS thread's) */
struct dsess {
	struct dtls_srtp *s;
	uint32_t pid, gen;
	uint32_t pos;                 /* in list[] */
	uint8_t  widx;                /* the worker that sends its datagrams */
	uint8_t  pidx;                /* our port index it is reached through */
	uint8_t  has_hdr;
	uint8_t  reported;            /* the dtls_state last reported + 1 (0: none) */
	uint8_t  pending;             /* a result waiting for room in the ring */
	uint64_t ignored;             /* its stats' ignored datagrams already counted */
	struct pkt_info pi;           /* of the headers below */
	uint8_t  hdr[HDR_MAX];        /* the peer's last datagram up to its payload (a datagram *to* us) */
};

static struct {
	struct dataplane *dp;
	struct dtls_cert *cert;
	struct dtls_ctx *ctx;
	struct rte_ring *in;
	struct rte_ring *tx[MMR_MAX_LCORES];
	uint8_t *on;                  /* MMR_MAX_PARTICIPANTS: a DTLS participant (workers read) */
	struct dcfg *cfg;             /* MMR_MAX_PARTICIPANTS */
	uint64_t *state;              /* MMR_MAX_PARTICIPANTS: control thread, the last event (gen << 32 | v0) */
	uint32_t next_gen;            /* control thread */
	/* the DTLS thread's */
	struct dsess **sess;          /* MMR_MAX_PARTICIPANTS */
	struct dsess **list;          /* dense */
	uint32_t n;
	pthread_t thr;
	int started;
	atomic_int quit;
	/* results: DTLS thread -> control thread */
	struct dp_dtls_result res[RES_RING];
	_Atomic uint32_t res_head, res_tail;
	/* kicks: control thread -> DTLS thread (participant ids) */
	uint32_t kick[KICK_RING];
	_Atomic uint32_t kick_head, kick_tail;
} g;

static struct mmr_ctl_stats *cst(void)
{
	return &g.dp->shm->stats.ctl;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- configuration (control thread writes, DTLS thread reads) --------------------------------- */

static void cfg_write(uint32_t pid, const struct dcfg *v)
{
	struct dcfg *c = &g.cfg[pid];
	uint32_t s = atomic_load_explicit(&c->seq, memory_order_relaxed);
	atomic_store_explicit(&c->seq, s + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	c->gen = v->gen;
	c->role = v->role;
	c->suite = v->suite;
	c->family = v->family;
	c->has_mac = v->has_mac;
	c->port = v->port;
	c->dp_port = v->dp_port;
	memcpy(c->ip, v->ip, sizeof(c->ip));
	memcpy(c->mac, v->mac, sizeof(c->mac));
	memcpy(c->fp, v->fp, sizeof(c->fp));
	atomic_store_explicit(&c->seq, s + 2, memory_order_release);
}

static void cfg_read(uint32_t pid, struct dcfg *out)
{
	const struct dcfg *c = &g.cfg[pid];
	for (;;) {
		uint32_t s1 = atomic_load_explicit(&c->seq, memory_order_acquire);
		if (s1 & 1u) {
			sched_yield();
			continue;
		}
		out->gen = c->gen;
		out->role = c->role;
		out->suite = c->suite;
		out->family = c->family;
		out->has_mac = c->has_mac;
		out->port = c->port;
		out->dp_port = c->dp_port;
		memcpy(out->ip, c->ip, sizeof(out->ip));
		memcpy(out->mac, c->mac, sizeof(out->mac));
		memcpy(out->fp, c->fp, sizeof(out->fp));
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&c->seq, memory_order_relaxed) == s1)
			return;
	}
}

static void kick(uint32_t pid)
{
	uint32_t t = atomic_load_explicit(&g.kick_tail, memory_order_relaxed);
	if (t - atomic_load_explicit(&g.kick_head, memory_order_acquire) >= KICK_RING) {
		dp_log("participant %u: DTLS kick ring full: its client handshake starts with its next datagram", pid);
		return;
	}
	g.kick[t % KICK_RING] = pid;
	atomic_store_explicit(&g.kick_tail, t + 1, memory_order_release);
}

void dp_dtls_put(const struct mmr_cmd_participant *c)
{
	if (!g.cfg || c->id >= MMR_MAX_PARTICIPANTS)
		return;
	if (!c->dtls) {
		dp_dtls_del(c->id);
		return;
	}
	const struct dcfg *old = &g.cfg[c->id];
	struct dcfg v = { 0 };
	int same = old->gen && old->role == c->dtls_role && old->suite == c->srtp_suite &&
		   memcmp(old->fp, c->dtls_fp, DTLS_FP_LEN) == 0;
	if (same) {
		v.gen = old->gen;
	} else {
		if (++g.next_gen == 0)
			g.next_gen = 1;
		v.gen = g.next_gen;
	}
	v.role = c->dtls_role;
	v.suite = c->srtp_suite;
	v.family = c->addr.family;
	v.port = c->udp_port;
	v.dp_port = c->dp_port;
	v.has_mac = c->has_mac;
	memcpy(v.ip, c->addr.ip, sizeof(v.ip));
	memcpy(v.mac, c->mac, sizeof(v.mac));
	memcpy(v.fp, c->dtls_fp, DTLS_FP_LEN);
	int new_addr = !same || old->port != v.port || old->family != v.family || memcmp(old->ip, v.ip, 16) != 0;
	cfg_write(c->id, &v);
	__atomic_store_n(&g.on[c->id], 1, __ATOMIC_RELAXED);
	if (v.role == MMR_DTLS_CLIENT && v.port && new_addr)
		kick(c->id);     /* we start: as soon as it has an address */
}

void dp_dtls_del(uint32_t pid)
{
	if (!g.cfg || pid >= MMR_MAX_PARTICIPANTS || !g.cfg[pid].gen)
		return;
	struct dcfg v = { 0 };
	__atomic_store_n(&g.on[pid], 0, __ATOMIC_RELAXED);
	cfg_write(pid, &v);
}

uint64_t dp_dtls_state_word(uint32_t pid)
{
	if (!g.state || pid >= MMR_MAX_PARTICIPANTS)
		return 0;
	uint64_t w = g.state[pid];
	return w && (uint32_t)(w >> 32) == g.cfg[pid].gen ? w : 0;
}

void dp_dtls_state_sent(uint32_t pid, uint32_t gen, uint32_t v0)
{
	if (g.state && pid < MMR_MAX_PARTICIPANTS)
		g.state[pid] = (uint64_t)gen << 32 | v0;
}

uint32_t dp_dtls_gen(uint32_t pid)
{
	return g.cfg && pid < MMR_MAX_PARTICIPANTS ? g.cfg[pid].gen : 0;
}

/* ---- results (DTLS thread -> control thread) -------------------------------------------------- */

int dp_dtls_result_pop(struct dp_dtls_result *r)
{
	uint32_t h = atomic_load_explicit(&g.res_head, memory_order_relaxed);
	if (h == atomic_load_explicit(&g.res_tail, memory_order_acquire))
		return 0;
	struct dp_dtls_result *slot = &g.res[h % RES_RING];
	*r = *slot;
	explicit_bzero(slot, sizeof(*slot));
	atomic_store_explicit(&g.res_head, h + 1, memory_order_release);
	return 1;
}

static uint8_t map_state(enum dtls_state st)
{
	switch (st) {
	case DTLS_HANDSHAKING: return MMR_DTLS_HANDSHAKING;
	case DTLS_CONNECTED: return MMR_DTLS_CONNECTED;
	case DTLS_CLOSED: return MMR_DTLS_CLOSED;
	default: return MMR_DTLS_FAILED;
	}
}

/* Report d's state if it changed since the last report; keeps it pending while the ring is full. */
static void report(struct dsess *d)
{
	enum dtls_state st = dtls_srtp_state(d->s);
	if (d->reported == (uint8_t)(st + 1) && !d->pending)
		return;
	uint32_t t = atomic_load_explicit(&g.res_tail, memory_order_relaxed);
	if (t - atomic_load_explicit(&g.res_head, memory_order_acquire) >= RES_RING) {
		if (!d->pending)
			cst()->dtls_results_full++;
		d->pending = 1;
		return;
	}
	struct dp_dtls_result *r = &g.res[t % RES_RING];
	memset(r, 0, sizeof(*r));
	r->pid = d->pid;
	r->gen = d->gen;
	r->state = map_state(st);
	r->fail = st == DTLS_FAILED ? (uint8_t)dtls_srtp_failure(d->s) : 0;
	if (st == DTLS_CONNECTED) {
		r->suite = (uint8_t)dtls_srtp_suite(d->s);
		if (dtls_srtp_keys(d->s, &r->local, &r->remote) < 0) {
			r->state = MMR_DTLS_FAILED;
			r->fail = MMR_DTLS_FAIL_EXPORT;
		}
	}
	if (d->reported != (uint8_t)(st + 1)) {
		if (st == DTLS_CONNECTED)
			cst()->dtls_connected++;
		else if (st == DTLS_FAILED)
			cst()->dtls_failed++;
		if (st == DTLS_FAILED)
			dp_log("participant %u: DTLS handshake failed: %s (%s)", d->pid,
			       dtls_fail_name(dtls_srtp_failure(d->s)), dtls_srtp_detail(d->s));
	}
	atomic_store_explicit(&g.res_tail, t + 1, memory_order_release);
	d->reported = (uint8_t)(st + 1);
	d->pending = 0;
}

/* ---- sessions (DTLS thread) ------------------------------------------------------------------- */

static void sess_end(struct dsess *d)
{
	uint32_t i = d->pos;
	g.list[i] = g.list[--g.n];
	g.list[i]->pos = i;
	g.sess[d->pid] = NULL;
	dtls_srtp_free(d->s);      /* wipes its keys */
	explicit_bzero(d, sizeof(*d));
	free(d);
}

static struct dsess *sess_new(uint32_t pid, const struct dcfg *c, uint64_t now)
{
	struct dsess *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	struct dtls_srtp_cfg sc = { .role = c->role == MMR_DTLS_CLIENT ? DTLS_ROLE_CLIENT : DTLS_ROLE_SERVER,
				    .suites = (uint8_t)DTLS_SUITE_BIT(c->suite) };
	memcpy(sc.peer_fp, c->fp, DTLS_FP_LEN);
	d->s = dtls_srtp_new(g.ctx, &sc, now);
	if (!d->s) {
		dp_log("participant %u: cannot make a DTLS session: %s", pid, strerror(errno));
		free(d);
		return NULL;
	}
	d->pid = pid;
	d->gen = c->gen;
	d->pos = g.n;
	g.list[g.n++] = d;
	g.sess[pid] = d;
	cst()->dtls_sessions++;
	return d;
}

static unsigned socket_of_worker(unsigned widx)
{
	unsigned s = rte_lcore_to_socket_id(g.dp->worker_lcore[widx]);
	return s < RTE_MAX_NUMA_NODES ? s : 0;
}

/* One datagram of ours to d's peer, through its worker. */
static void send_dgram(struct dsess *d, const uint8_t *p, uint32_t n)
{
	struct dataplane *dp = g.dp;
	struct rte_mbuf *m = NULL;
	if (!d->has_hdr || d->widx >= dp->n_workers || d->pidx >= dp->n_ports)
		goto drop;
	m = rte_pktmbuf_alloc(dp->pools[socket_of_worker(d->widx)].pkt);
	if (!m)
		goto drop;
	uint8_t *f = (uint8_t *)rte_pktmbuf_append(m, d->pi.payload_off);
	if (!f)
		goto drop;
	memcpy(f, d->hdr, d->pi.payload_off);
	m->port = dp->port[d->pidx].port_id;
	if (local_reply_udp(&dp->port[d->pidx], m, &d->pi, p, n) != MMR_DROP_NONE)
		goto drop;
	if (rte_ring_sp_enqueue(g.tx[d->widx], m) != 0)
		goto drop;
	return;
drop:
	cst()->dtls_out_dropped++;
	rte_pktmbuf_free(m);
}

static void flush(struct dsess *d)
{
	uint8_t buf[DTLS_MTU_MAX];
	int n;
	while ((n = dtls_srtp_pop(d->s, buf, sizeof(buf))) > 0)
		send_dgram(d, buf, (uint32_t)n);
	const struct dtls_srtp_stats *st = dtls_srtp_stats(d->s);
	uint64_t ign = st->ignored_not_dtls + st->ignored_too_big + st->ignored_rate + st->ignored_ended +
		       st->app_data_ignored;
	cst()->dtls_ignored += ign - d->ignored;
	d->ignored = ign;
	report(d);
}

/* A ClientHello record (content type 22, epoch 0, handshake type 1): a peer starting again */
static int is_client_hello(const uint8_t *p, uint32_t len)
{
	return len >= 14 && p[0] == 22 && p[3] == 0 && p[4] == 0 && p[13] == 1;
}

/* Headers for a client-role participant that sent us nothing yet: a datagram from its address to
 * our port, made up (IPv4 without VLAN: the port's own settings), for local_reply_udp to turn. */
static int synth_hdr(struct dsess *d, const struct dcfg *c)
{
	struct dataplane *dp = g.dp;
	if (c->family != MMR_AF_INET || !c->port || c->dp_port >= dp->n_ports)
		return -1;
	const struct dp_port *pt = &dp->port[c->dp_port];
	uint8_t nh[6];
	struct mmr_addr a = { .family = MMR_AF_INET };
	memcpy(a.ip, c->ip, 4);
	if (!pt->has_ipv4)
		return -1;
	if (c->has_mac)
		memcpy(nh, c->mac, 6);
	else if (dp_neigh_mac_for(c->dp_port, &a, nh) < 0)    /* its gateway's or its own (neigh.h) */
		return -1;
	uint8_t f[14 + 20 + 8 + 1];
	memset(f, 0, sizeof(f));
	memcpy(f, pt->mac, 6);
	memcpy(f + 6, nh, 6);
	put_be16(f + 12, 0x0800);
	uint8_t *ip = f + 14;
	ip[0] = 0x45;
	put_be16(ip + 2, 20 + 8 + 1);
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, c->ip, 4);
	memcpy(ip + 16, pt->ipv4.ip, 4);
	put_be16(ip + 10, pkt_fold_sum(pkt_raw_sum(ip, 20, 0)));
	uint8_t *udp = ip + 20;
	put_be16(udp, c->port);
	put_be16(udp + 2, dp->udp_port ? dp->udp_port : 5000);
	put_be16(udp + 4, 8 + 1);
	f[sizeof(f) - 1] = 22;
	if (pkt_parse(f, sizeof(f), &d->pi) != MMR_DROP_NONE || d->pi.kind != PKT_UDP)
		return -1;
	memcpy(d->hdr, f, d->pi.payload_off);
	d->pidx = (uint8_t)c->dp_port;
	d->widx = 0;
	d->has_hdr = 1;
	return 0;
}

static void on_kick(uint32_t pid, uint64_t now)
{
	if (pid >= MMR_MAX_PARTICIPANTS || !__atomic_load_n(&g.on[pid], __ATOMIC_RELAXED))
		return;
	struct dcfg c;
	cfg_read(pid, &c);
	if (!c.gen || c.role != MMR_DTLS_CLIENT || !c.port)
		return;
	struct dsess *d = g.sess[pid];
	if (d && d->gen == c.gen)
		return;       /* running already (an address change: its datagrams follow the peer's) */
	if (d) {
		sess_end(d);
		cst()->dtls_replaced++;
	}
	d = sess_new(pid, &c, now);
	if (!d)
		return;
	if (synth_hdr(d, &c) < 0)
		dp_log("participant %u: DTLS client: no IPv4 route to it yet; the ClientHello waits for its first datagram",
		       pid);
	flush(d);
}

static void on_dgram(struct rte_mbuf *m, uint64_t now)
{
	uint32_t pid = m->hash.fdir.lo, widx = m->hash.fdir.hi;
	struct dcfg c;
	if (pid >= MMR_MAX_PARTICIPANTS || !__atomic_load_n(&g.on[pid], __ATOMIC_RELAXED)) {
		cst()->dtls_unknown_late++;
		goto out;
	}
	cfg_read(pid, &c);
	if (!c.gen) {
		cst()->dtls_unknown_late++;
		goto out;
	}
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	struct pkt_info pi;
	if (pkt_parse(f, m->data_len, &pi) != MMR_DROP_NONE || pi.kind != PKT_UDP || pi.payload_off > HDR_MAX) {
		cst()->dtls_ignored++;
		goto out;
	}
	const uint8_t *p = f + pi.payload_off;
	struct dsess *d = g.sess[pid];
	if (d && (d->gen != c.gen || (c.role == MMR_DTLS_SERVER && is_client_hello(p, pi.payload_len) &&
				      (dtls_srtp_state(d->s) == DTLS_FAILED || dtls_srtp_state(d->s) == DTLS_CLOSED)))) {
		/* its configuration changed, or it starts again after a failure or a close */
		sess_end(d);
		cst()->dtls_replaced++;
		d = NULL;
	}
	if (!d && !(d = sess_new(pid, &c, now)))
		goto out;
	memcpy(d->hdr, f, pi.payload_off);
	d->pi = pi;
	d->pidx = g.dp->pidx_of[m->port];
	d->widx = (uint8_t)(widx < g.dp->n_workers ? widx : 0);
	d->has_hdr = 1;
	dtls_srtp_input(d->s, p, pi.payload_len, now);
	flush(d);
out:
	rte_pktmbuf_free(m);
}

/* Every loop: configuration changes, timers, pending reports. */
static void sweep(uint64_t now)
{
	for (uint32_t i = 0; i < g.n;) {
		struct dsess *d = g.list[i];
		struct dcfg c;
		cfg_read(d->pid, &c);
		if (c.gen != d->gen) {
			sess_end(d);           /* list[i] is another session now */
			cst()->dtls_replaced++;
			continue;
		}
		if (dtls_srtp_next_timer(d->s) <= now) {
			dtls_srtp_on_timer(d->s, now);
			flush(d);
		} else if (d->pending) {
			report(d);
		}
		i++;
	}
}

static void *thread_main(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "mmr-dtls");
	while (!atomic_load_explicit(&g.quit, memory_order_relaxed) &&
	       !atomic_load_explicit(&g.dp->stop, memory_order_relaxed)) {
		uint64_t now = now_ms();
		unsigned busy = 0;
		uint32_t h = atomic_load_explicit(&g.kick_head, memory_order_relaxed);
		uint32_t t = atomic_load_explicit(&g.kick_tail, memory_order_acquire);
		for (; h != t; h++, busy++)
			on_kick(g.kick[h % KICK_RING], now);
		atomic_store_explicit(&g.kick_head, h, memory_order_release);
		struct rte_mbuf *ms[IN_BURST];
		unsigned n = rte_ring_sc_dequeue_burst(g.in, (void **)ms, IN_BURST, NULL);
		for (unsigned i = 0; i < n; i++)
			on_dgram(ms[i], now);
		busy += n;
		sweep(now);
		if (!busy)
			usleep(IDLE_US);
	}
	return NULL;
}

/* ---- start and stop --------------------------------------------------------------------------- */

static struct dtls_cert *load_cert(const char *path)
{
	if (!path[0])
		return dtls_cert_new(0);
	struct dtls_cert *c = dtls_cert_load(path);
	if (c)
		return c;
	if (errno != ENOENT && errno != EKEYEXPIRED) {
		dp_log("dtls_cert %s: %s", path, errno == EINVAL ? "no key, no certificate, or they do not match" :
		       strerror(errno));
		return NULL;
	}
	dp_log("dtls_cert %s: %s: a new certificate is made and saved there", path,
	       errno == ENOENT ? "absent" : "expired");
	c = dtls_cert_new(0);
	int rc = c ? dtls_cert_save(c, path) : 0;
	if (rc < 0)
		dp_log("dtls_cert %s: cannot save: %s (the new certificate is used for this run)", path, strerror(-rc));
	return c;
}

int dp_dtls_init(struct dataplane *dp)
{
	memset(&g, 0, sizeof(g));
	g.dp = dp;
	g.cert = load_cert(dp->cfg->dtls_cert);
	if (!g.cert) {
		dp_log("cannot make the DTLS certificate");
		return -1;
	}
	g.ctx = dtls_ctx_new(g.cert);
	g.on = calloc(MMR_MAX_PARTICIPANTS, 1);
	g.cfg = calloc(MMR_MAX_PARTICIPANTS, sizeof(*g.cfg));
	g.state = calloc(MMR_MAX_PARTICIPANTS, sizeof(*g.state));
	g.sess = calloc(MMR_MAX_PARTICIPANTS, sizeof(*g.sess));
	g.list = calloc(MMR_MAX_PARTICIPANTS, sizeof(*g.list));
	g.in = rte_ring_create("mmr_dtls_in", DTLS_IN_RING, SOCKET_ID_ANY, RING_F_SC_DEQ);
	if (!g.ctx || !g.on || !g.cfg || !g.state || !g.sess || !g.list || !g.in) {
		dp_log("cannot set up the DTLS path (context, tables, ring)");
		dp_dtls_stop(dp);
		return -1;
	}
	for (unsigned i = 0; i < dp->n_workers; i++) {
		char name[32];
		snprintf(name, sizeof(name), "mmr_dtls_tx%u", i);
		g.tx[i] = rte_ring_create(name, DTLS_TX_RING, (int)socket_of_worker(i), RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (!g.tx[i]) {
			dp_log("cannot create the DTLS ring toward worker %u", i);
			dp_dtls_stop(dp);
			return -1;
		}
		dp->dtls_tx[i] = g.tx[i];
	}
	dp->dtls_in = g.in;
	_Static_assert(sizeof(dp->shm->dtls_fingerprint) == DTLS_FP_TEXT_LEN + 1, "fingerprint text");
	memcpy(dp->shm->dtls_fingerprint, dtls_cert_fingerprint(g.cert), DTLS_FP_TEXT_LEN + 1);
	dp_log("DTLS certificate fingerprint sha-256 %s", dtls_cert_fingerprint(g.cert));
	return 0;
}

int dp_dtls_start(struct dataplane *dp)
{
	(void)dp;
	int rc = pthread_create(&g.thr, NULL, thread_main, NULL);
	if (rc != 0) {
		dp_log("cannot start the DTLS thread: %s", strerror(rc));
		return -1;
	}
	g.started = 1;
	return 0;
}

void dp_dtls_stop(struct dataplane *dp)
{
	if (g.started) {
		atomic_store(&g.quit, 1);
		pthread_join(g.thr, NULL);
		g.started = 0;
	}
	while (g.n)
		sess_end(g.list[0]);
	struct dp_dtls_result r;
	while (dp_dtls_result_pop(&r))
		explicit_bzero(&r, sizeof(r));
	dp_mbuf_ring_free(g.in);
	g.in = NULL;
	for (unsigned i = 0; i < MMR_MAX_LCORES; i++) {
		dp_mbuf_ring_free(g.tx[i]);
		g.tx[i] = NULL;
		if (dp)
			dp->dtls_tx[i] = NULL;
	}
	if (dp)
		dp->dtls_in = NULL;
	dtls_ctx_free(g.ctx);
	dtls_cert_free(g.cert);
	g.ctx = NULL;
	g.cert = NULL;
	free(g.on);
	free(g.cfg);
	free(g.state);
	g.state = NULL;
	free(g.sess);
	free(g.list);
	g.on = NULL;
	g.cfg = NULL;
	g.sess = NULL;
	g.list = NULL;
}

/* ---- workers ---------------------------------------------------------------------------------- */

enum mmr_drop_reason dp_dtls_in(struct worker *w, struct rte_mbuf *m, const struct pkt_info *pi)
{
	const struct fwd_participant *p = fwd_participant_lookup(&w->dp->fwd, &pi->src, pi->sport);
	uint32_t pid = p ? p->id : dp_ice_recent(pi);
	if (pid >= MMR_MAX_PARTICIPANTS)
		return MMR_DROP_DTLS_UNKNOWN;
	if (!__atomic_load_n(&g.on[pid], __ATOMIC_RELAXED)) {
		/* an SDES participant's address, or a DTLS one's recent check: not a DTLS source */
		uint32_t alt = p ? dp_ice_recent(pi) : MMR_ID_NONE;
		if (alt >= MMR_MAX_PARTICIPANTS || !__atomic_load_n(&g.on[alt], __ATOMIC_RELAXED))
			return MMR_DROP_DTLS_OFF;
		pid = alt;
	}
	m->hash.fdir.lo = pid;
	m->hash.fdir.hi = w->idx;
	if (rte_ring_mp_enqueue(w->dp->dtls_in, m) != 0)
		return MMR_DROP_DTLS_FULL;
	w->st->dtls_in++;
	return MMR_DROP_NONE;
}

void dp_dtls_tx(struct worker *w)
{
	struct rte_mbuf *ms[32];
	unsigned n = rte_ring_sc_dequeue_burst(w->dp->dtls_tx[w->idx], (void **)ms, 32, NULL);
	for (unsigned i = 0; i < n; i++)
		worker_send(w, w->dp->pidx_of[ms[i]->port], ms[i]);
	w->st->dtls_out += n;
}
