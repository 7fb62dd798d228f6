/*
 * telemetry.c - rte_telemetry endpoints of mmr-dataplane (docs/interfaces.md "Telemetry").
 *
 * They run in EAL's telemetry thread and read only the shared segment's counters with relaxed
 * loads, as the controller and the status line do (stats.h: one writer each, readers tolerate a
 * counter a few packets behind); never the control thread's tables, but for the neighbour table
 * (/mmr/neigh), read under its own lock (neigh.c). Names come from the counter
 * lists (foreach_mmr_lcore_counter, foreach_mmr_drop, foreach_mmr_stream_counter): nothing is
 * declared twice.
 */
#include "telemetry.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_telemetry.h>

#include "cmd_chan.h"
#include "dataplane.h"
#include "dp_log.h"
#include "neigh.h"
#include "stats.h"

#define MAX_MEETINGS_LISTED 200u   /* a dict holds 256 entries at most (RTE_TEL_MAX_DICT_ENTRIES) */

static struct dataplane *t_dp;      /* NULL once stopped: the segment is about to go */
static pthread_mutex_t t_lock = PTHREAD_MUTEX_INITIALIZER;   /* telemetry thread vs shutdown only */

static uint64_t rd(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static const char *level_name(void)
{
	return dp_log_level_name(dp_log_get_level(DP_LT_CTL));
}

static int tel_status_locked(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	struct mmr_shm *shm = t_dp->shm;
	uint64_t now = mmr_now_ns();
	struct mmr_stats_sample cur;
	struct mmr_stats_summary sum;
	mmr_stats_sample_area(&cur, &shm->stats);
	mmr_stats_summarize(NULL, &cur, 0, &sum);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_int(d, "ready", (int)atomic_load(&shm->dp_ready));
	rte_tel_data_add_dict_u64(d, "pid", atomic_load(&shm->dp_pid));
	rte_tel_data_add_dict_string(d, "shm_name", t_dp->cfg->shm_name);
	rte_tel_data_add_dict_u64(d, "shm_version", shm->version);
	rte_tel_data_add_dict_u64(d, "workers", t_dp->n_workers);
	rte_tel_data_add_dict_u64(d, "ports", t_dp->n_ports);
	rte_tel_data_add_dict_string(d, "log_level", level_name());
	rte_tel_data_add_dict_int(d, "controller_alive",
				  mmr_alive(atomic_load(&shm->ctl_heartbeat_ns), now));
	rte_tel_data_add_dict_u64(d, "controller_pid", atomic_load(&shm->ctl_pid));
	rte_tel_data_add_dict_u64(d, "participants", atomic_load(&shm->n_participants));
	rte_tel_data_add_dict_u64(d, "streams", atomic_load(&shm->n_streams));
	rte_tel_data_add_dict_u64(d, "subscriptions", atomic_load(&shm->n_subs));
	rte_tel_data_add_dict_u64(d, "commands_applied", atomic_load(&shm->head));
	rte_tel_data_add_dict_u64(d, "commands_refused", atomic_load(&shm->rejected));
	rte_tel_data_add_dict_u64(d, "rx_pkts", cur.c[MMR_LC_rx_pkts]);
	rte_tel_data_add_dict_u64(d, "tx_pkts", cur.c[MMR_LC_tx_pkts]);
	rte_tel_data_add_dict_u64(d, "copies", cur.c[MMR_LC_copies]);
	rte_tel_data_add_dict_u64(d, "drops", sum.drops);
	rte_tel_data_add_dict_u64(d, "layer_drops", sum.layer_drops);
	return 0;
}

/* per worker lcore: busy % since it started (busy_cycles / cycles), copies, drops, and every counter */
static int tel_lcores_locked(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	for (unsigned i = 0; i < t_dp->n_workers; i++) {
		const struct mmr_lcore_stats *l = &t_dp->shm->stats.lcore[i];
		struct mmr_stats_sample s;
		struct mmr_stats_summary sum;
		memset(&s, 0, sizeof(s));
		mmr_stats_sample_add(&s, l);
		mmr_stats_summarize(NULL, &s, 0, &sum);
		struct rte_tel_data *c = rte_tel_data_alloc();
		if (!c)
			return -1;
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_u64(c, "lcore_id", l->lcore_id);
		uint64_t cyc = s.c[MMR_LC_cycles], busy = s.c[MMR_LC_busy_cycles];
		rte_tel_data_add_dict_u64(c, "busy_pct", cyc ? busy * 100 / cyc : 0);
		rte_tel_data_add_dict_u64(c, "drops", sum.drops);
		rte_tel_data_add_dict_u64(c, "layer_drops", sum.layer_drops);
		for (unsigned k = 0; k < MMR_LC__COUNT; k++)
			rte_tel_data_add_dict_u64(c, mmr_lcore_counter_names[k], s.c[k]);
		char name[24];
		snprintf(name, sizeof(name), "worker%u", i);
		if (rte_tel_data_add_dict_container(d, name, c, 0) < 0) {
			rte_tel_data_free(c);
			return -1;
		}
	}
	return 0;
}

static int tel_ports_locked(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	for (unsigned i = 0; i < t_dp->n_ports; i++) {
		const struct mmr_port_stats *p = &t_dp->shm->stats.port[i];
		struct rte_tel_data *c = rte_tel_data_alloc();
		if (!c)
			return -1;
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_u64(c, "port_id", p->port_id);
		rte_tel_data_add_dict_string(c, "name", p->name);
		rte_tel_data_add_dict_u64(c, "ipackets", rd(&p->ipackets));
		rte_tel_data_add_dict_u64(c, "opackets", rd(&p->opackets));
		rte_tel_data_add_dict_u64(c, "ibytes", rd(&p->ibytes));
		rte_tel_data_add_dict_u64(c, "obytes", rd(&p->obytes));
		rte_tel_data_add_dict_u64(c, "imissed", rd(&p->imissed));
		rte_tel_data_add_dict_u64(c, "ierrors", rd(&p->ierrors));
		rte_tel_data_add_dict_u64(c, "oerrors", rd(&p->oerrors));
		rte_tel_data_add_dict_u64(c, "rx_nombuf", rd(&p->rx_nombuf));
		rte_tel_data_add_dict_u64(c, "flow_rules", rd(&p->flow_rules));
		rte_tel_data_add_dict_u64(c, "flow_failed", rd(&p->flow_failed));
		char name[24];
		snprintf(name, sizeof(name), "port%u", i);
		if (rte_tel_data_add_dict_container(d, name, c, 0) < 0) {
			rte_tel_data_free(c);
			return -1;
		}
	}
	return 0;
}

/* every drop reason (drop_reason.h's list) summed over the lcores */
static int tel_drops_locked(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	struct mmr_stats_sample cur;
	mmr_stats_sample_area(&cur, &t_dp->shm->stats);
	rte_tel_data_start_dict(d);
	for (unsigned r = 1; r < MMR_DROP__COUNT; r++)
		rte_tel_data_add_dict_u64(d, mmr_drop_names[r], cur.drops[r]);
	return 0;
}

/* the meetings placed on a worker (meeting_owner[]): owner lcore, moving, dominant speaker */
static int tel_meetings_locked(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	const struct mmr_stats_area *a = &t_dp->shm->stats;
	unsigned listed = 0;
	uint64_t placed = 0;
	rte_tel_data_start_dict(d);
	for (uint32_t m = 0; m < MMR_MAX_MEETINGS; m++) {
		uint8_t o = __atomic_load_n(&a->meeting_owner[m], __ATOMIC_RELAXED);
		if (o == MMR_OWNER_NONE)
			continue;
		placed++;
		if (listed == MAX_MEETINGS_LISTED)
			continue;
		struct rte_tel_data *c = rte_tel_data_alloc();
		if (!c)
			return -1;
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_u64(c, "worker", o & MMR_OWNER_INDEX);
		rte_tel_data_add_dict_int(c, "moving", !!(o & MMR_OWNER_MOVING));
		uint32_t sp = __atomic_load_n(&a->meeting_speaker[m], __ATOMIC_RELAXED);
		rte_tel_data_add_dict_int(c, "speaker", sp == MMR_ID_NONE ? -1 : (int)sp);
		char name[24];
		snprintf(name, sizeof(name), "meeting%" PRIu32, m);
		if (rte_tel_data_add_dict_container(d, name, c, 0) < 0) {
			rte_tel_data_free(c);
			return -1;
		}
		listed++;
	}
	rte_tel_data_add_dict_u64(d, "placed", placed);
	return 0;
}

/* /mmr/streams,ID: the per-stream counters of stream id ID (the controller's `stream list` ids) */
static int tel_streams_locked(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	char *end = NULL;
	unsigned long id = params && *params ? strtoul(params, &end, 10) : (unsigned long)-1;
	if (!params || !*params || *end || id >= MMR_MAX_STREAMS) {
		rte_tel_data_start_dict(d);
		rte_tel_data_add_dict_string(d, "error", "usage: /mmr/streams,ID (a stream id, 0..262143)");
		return 0;
	}
	const struct mmr_stream_stats *s = &t_dp->shm->stats.stream[id];
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "id", id);
	for (unsigned k = 0; k < MMR_SC__COUNT; k++)
		rte_tel_data_add_dict_u64(d, mmr_stream_counter_names[k], rd(&s->c[k]));
	return 0;
}

static int tel_status(const char *cmd, const char *params, struct rte_tel_data *d)
{
	pthread_mutex_lock(&t_lock);
	int rc = t_dp ? tel_status_locked(cmd, params, d) : -1;
	pthread_mutex_unlock(&t_lock);
	return rc;
}

static int tel_lcores(const char *cmd, const char *params, struct rte_tel_data *d)
{
	pthread_mutex_lock(&t_lock);
	int rc = t_dp ? tel_lcores_locked(cmd, params, d) : -1;
	pthread_mutex_unlock(&t_lock);
	return rc;
}

static int tel_ports(const char *cmd, const char *params, struct rte_tel_data *d)
{
	pthread_mutex_lock(&t_lock);
	int rc = t_dp ? tel_ports_locked(cmd, params, d) : -1;
	pthread_mutex_unlock(&t_lock);
	return rc;
}

static int tel_drops(const char *cmd, const char *params, struct rte_tel_data *d)
{
	pthread_mutex_lock(&t_lock);
	int rc = t_dp ? tel_drops_locked(cmd, params, d) : -1;
	pthread_mutex_unlock(&t_lock);
	return rc;
}

static int tel_meetings(const char *cmd, const char *params, struct rte_tel_data *d)
{
	pthread_mutex_lock(&t_lock);
	int rc = t_dp ? tel_meetings_locked(cmd, params, d) : -1;
	pthread_mutex_unlock(&t_lock);
	return rc;
}

static int tel_streams(const char *cmd, const char *params, struct rte_tel_data *d)
{
	pthread_mutex_lock(&t_lock);
	int rc = t_dp ? tel_streams_locked(cmd, params, d) : -1;
	pthread_mutex_unlock(&t_lock);
	return rc;
}

/* the neighbour table (neigh.h): its own lock, the control thread's entries */
static int tel_neigh(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	pthread_mutex_lock(&t_lock);
	int rc = t_dp ? 0 : -1;
	if (t_dp)
		dp_neigh_telemetry(d);
	pthread_mutex_unlock(&t_lock);
	return rc;
}

int dp_telemetry_init(struct dataplane *dp)
{
	static const struct {
		const char *cmd;
		telemetry_cb fn;
		const char *help;
	} eps[] = {
		{ "/mmr/status", tel_status, "mmr-dataplane: state, object counts, totals. No parameters" },
		{ "/mmr/lcores", tel_lcores, "mmr-dataplane: per worker lcore: busy %, copies, drops, counters. No parameters" },
		{ "/mmr/ports", tel_ports, "mmr-dataplane: per port counters. No parameters" },
		{ "/mmr/drops", tel_drops, "mmr-dataplane: packets dropped by reason, all lcores. No parameters" },
		{ "/mmr/meetings", tel_meetings, "mmr-dataplane: meetings placed on a worker. No parameters" },
		{ "/mmr/streams", tel_streams, "mmr-dataplane: one stream's counters. Parameter: stream id" },
		{ "/mmr/neigh", tel_neigh, "mmr-dataplane: the neighbour table (ARP / IPv6 ND): per entry port, ip, "
		  "mac, state, gateway, refs, tries, age_ms. No parameters" },
	};
	pthread_mutex_lock(&t_lock);
	t_dp = dp;
	pthread_mutex_unlock(&t_lock);
	for (unsigned i = 0; i < sizeof(eps) / sizeof(eps[0]); i++)
		if (rte_telemetry_register_cmd(eps[i].cmd, eps[i].fn, eps[i].help) < 0) {
			DP_ERR(DP_LT_DP, "cannot register telemetry endpoint %s", eps[i].cmd);
			return -1;
		}
	return 0;
}

void dp_telemetry_stop(void)
{
	pthread_mutex_lock(&t_lock);
	t_dp = NULL;
	pthread_mutex_unlock(&t_lock);
}
