/*
 * main.c - mmr-dataplane: start-up and shutdown.
 *
 *   mmr-dataplane -c FILE [-- EXTRA EAL ARGS...]
 *
 * Reads the config (exit 2 when it is bad), initialises the EAL with the config's `eal` list plus
 * the extra arguments, creates the mempools, ports, forwarding tables and the shared-memory
 * segment, launches one worker per non-main lcore and runs the control loop on the main lcore.
 * SIGINT/SIGTERM: workers stop, ports close, the segment is unlinked, exit 0. SIGHUP: the control
 * thread re-reads what may change at run time (the log level, ctl_loop.c); forwarding goes on.
 * Logs: dp_log.h (rte_log, types mmr.dp / mmr.worker / mmr.ctl).
 * See docs/dataplane.md for the design.
 */
#define _LGPL_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <urcu-qsbr.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_pdump.h>

#include "cmd_apply.h"
#include "cmd_chan.h"
#include "config.h"
#include "ctl_loop.h"
#include "dp_events.h"
#include "dataplane.h"
#include "fwd_table.h"
#include "dtls_path.h"
#include "ice.h"
#include "learn.h"
#include "police.h"
#include "port.h"
#include "srtp_lease.h"
#include "neigh.h"
#include "telemetry.h"
#include "handoff.h"
#include "worker.h"
#include "version.h"
#include "no_core_dump.h"

#define EXIT_BAD_CONFIG 2

static struct dataplane *g_dp;

/* Handlers only set flags: the control thread acts on them (ctl_loop.c). */
static void on_signal(int sig)
{
	if (!g_dp)
		return;
	if (sig == SIGHUP)
		atomic_store(&g_dp->reload, 1);
	else
		atomic_store(&g_dp->stop, 1);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: mmr-dataplane -c FILE [-- EXTRA EAL ARGS...]\n       mmr-dataplane --version\n");
}

/* argv[0], the config's eal list, then whatever followed "--". */
static int build_eal_argv(const struct dp_config *cfg, char *argv0, int n_extra, char **extra,
			  char ***out)
{
	int n = 1 + cfg->eal_argc + n_extra;
	char **v = calloc((size_t)n + 1, sizeof(*v));
	if (!v)
		return -1;
	int k = 0;
	v[k++] = argv0;
	for (int i = 0; i < cfg->eal_argc; i++)
		v[k++] = cfg->eal_argv[i];
	for (int i = 0; i < n_extra; i++)
		v[k++] = extra[i];
	*out = v;
	return k;
}

int main(int argc, char **argv)
{
	static struct dataplane dp;
	static struct dp_config cfg;
	static struct worker workers[MMR_MAX_LCORES];
	const char *cfg_path = NULL;
	char err[512];
	int opt, rc = EXIT_FAILURE;
	struct cmd_apply *ca = NULL;
	char **eal_argv = NULL;
	int n_launched = 0, rcu_registered = 0, chan_created = 0, tables_made = 0;
	unsigned n_init_workers = 0;
	int pdump = 0;

	if (mmr_version_arg("mmr-dataplane", argc, argv))
		return 0;
	while ((opt = getopt(argc, argv, "+c:h")) != -1) {
		switch (opt) {
		case 'c':
			cfg_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_BAD_CONFIG;
		}
	}
	if (!cfg_path) {
		usage(stderr);
		return EXIT_BAD_CONFIG;
	}
	/* getopt stops at "--" and leaves optind after it; anything else left over is an error */
	if (optind < argc && strcmp(argv[optind - 1], "--") != 0) {
		fprintf(stderr, "mmr-dataplane: unexpected argument '%s' (EAL arguments go after --)\n",
			argv[optind]);
		return EXIT_BAD_CONFIG;
	}
	if (dp_config_load(cfg_path, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "mmr-dataplane: %s\n", err);
		return EXIT_BAD_CONFIG;
	}

	dp_log_stream_init();     /* EAL's lines get their timestamps too */
	int eal_argc = build_eal_argv(&cfg, argv[0], argc - optind, argv + optind, &eal_argv);
	if (eal_argc < 0) {
		DP_ERR(DP_LT_DP, "out of memory");
		goto out_cfg;
	}
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		DP_ERR(DP_LT_DP, "EAL initialisation failed: %s", rte_strerror(rte_errno));
		goto out_cfg;
	}

	/* after EAL (it reads /proc/self/pagemap and the like): every key this process holds, in its
	 * hugepages too, stays out of core dumps (no_core_dump.h) */
	int nd = mmr_no_core_dump();
	if (nd < 0)
		DP_WARN(DP_LT_DP, "cannot make the process non-dumpable: %s (a core dump could hold keys)", strerror(errno));
	else if (nd == 1)
		DP_WARN(DP_LT_DP, "MMR_ALLOW_CORE_DUMPS=1: core dumps allowed (they may hold keys)");

	if (dp_log_types_init(cfg.log_level) < 0) {
		DP_ERR(DP_LT_DP, "cannot register the log types: %s", rte_strerror(rte_errno));
		goto out_eal;
	}
	/* dpdk-dumpcap and dpdk-pdump attach as secondary processes: needs a primary with shared config
	 * (a --file-prefix of its own, not --in-memory, which has no multi-process channel) */
	pdump = rte_pdump_init() == 0;
	if (pdump)
		DP_INFO(DP_LT_DP, "packet capture ready: dpdk-dumpcap --file-prefix=%s -i PORT",
			rte_eal_get_runtime_dir()[0] ? strrchr(rte_eal_get_runtime_dir(), '/') + 1 : "?");
	else
		DP_INFO(DP_LT_DP, "no packet capture (dpdk-dumpcap): %s", rte_strerror(rte_errno));
	dp.cfg = &cfg;
	dp.cfg_path = cfg_path;
	atomic_init(&dp.reload, 0);
	dp.udp_port = cfg.udp_port;
	atomic_init(&dp.stop, 0);
	g_dp = &dp;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	unsigned lcore;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (dp.n_workers == MMR_MAX_LCORES) {
			DP_ERR(DP_LT_DP, "more than %u worker lcores; give the EAL fewer (-l)", MMR_MAX_LCORES);
			rc = EXIT_BAD_CONFIG;
			goto out_eal;
		}
		dp.worker_lcore[dp.n_workers++] = lcore;
	}
	if (dp.n_workers == 0) {
		DP_ERR(DP_LT_DP, "needs at least two lcores: the main one for control, one or more workers (-l 0,1)");
		rc = EXIT_BAD_CONFIG;
		goto out_eal;
	}
	if (rte_eth_dev_count_avail() != cfg.n_ports) {
		DP_ERR(DP_LT_DP, "the EAL found %u ethdev(s) but %s lists %u port(s); they must match",
		       rte_eth_dev_count_avail(), cfg_path, cfg.n_ports);
		rc = EXIT_BAD_CONFIG;
		goto out_eal;
	}

	int e = cmd_chan_create(&dp.chan, cfg.shm_name, dp.n_workers, cfg.n_ports);
	if (e < 0) {
		DP_ERR(DP_LT_DP, "cannot create shared memory %s: %s", cfg.shm_name, strerror(-e));
		goto out_eal;
	}
	chan_created = 1;
	dp.shm = dp.chan.shm;
	dp.shm->tsc_hz = rte_get_tsc_hz();
	if (dp_telemetry_init(&dp) < 0)
		goto out_chan;

	dp.sel = rte_zmalloc("mmr_layer_sel", (size_t)MMR_MAX_SUBS * sizeof(struct layer_sel), 64);
	if (!dp.sel) {
		DP_ERR(DP_LT_DP, "cannot allocate the layer selection table (%zu MiB of hugepage memory)",
		       (size_t)MMR_MAX_SUBS * sizeof(struct layer_sel) >> 20);
		goto out_chan;
	}
	/* every meeting unplaced (owner.h) */
	dp.owner = rte_malloc("mmr_meeting_owner", MMR_MAX_MEETINGS, 64);
	if (!dp.owner) {
		DP_ERR(DP_LT_DP, "cannot allocate the meeting owner table");
		goto out_ports;
	}
	memset(dp.owner, MMR_OWNER_NONE, MMR_MAX_MEETINGS);
	memset(dp.shm->stats.meeting_owner, MMR_OWNER_NONE, sizeof(dp.shm->stats.meeting_owner));
	/* meeting controls: nobody blocked until a PUT says so */
	dp.block = rte_zmalloc("mmr_part_block", MMR_MAX_PARTICIPANTS, 64);
	if (!dp.block) {
		DP_ERR(DP_LT_DP, "cannot allocate the participant block table");
		goto out_ports;
	}
	dp.layers_now = rte_zmalloc("mmr_layers_now", (size_t)MMR_MAX_SUBS * sizeof(*dp.layers_now), 64);
	if (!dp.layers_now) {
		DP_ERR(DP_LT_DP, "cannot allocate the current-layers table (%zu MiB of hugepage memory)",
		       (size_t)MMR_MAX_SUBS * sizeof(*dp.layers_now) >> 20);
		goto out_ports;
	}
	/* policing (police.h): the meters, 64 bytes per participant id, and the limits */
	dp.police_tat = rte_zmalloc("mmr_police", (size_t)MMR_MAX_PARTICIPANTS * sizeof(*dp.police_tat), 64);
	if (!dp.police_tat) {
		DP_ERR(DP_LT_DP, "cannot allocate the policing meters (%zu MiB of hugepage memory)",
		       (size_t)MMR_MAX_PARTICIPANTS * sizeof(*dp.police_tat) >> 20);
		goto out_ports;
	}
	police_set(&dp.police, &cfg, rte_get_tsc_hz());
	dp_events_init(&dp);
	if (pools_init(&dp) < 0 || ports_init(&dp) < 0 || handoff_rings_create(&dp) < 0)
		goto out_ports;
	for (unsigned i = 0; i < dp.n_ports; i++) {
		struct mmr_port_stats *ps = &dp.shm->stats.port[i];
		ps->port_id = dp.port[i].port_id;
		snprintf(ps->name, sizeof(ps->name), "%s", dp.port[i].name);
		ps->active = 1;
	}

	char lerr[256];
	dp.leases = srtp_leases_open(&cfg, &dp, lerr, sizeof(lerr));
	if (!dp.leases) {
		DP_ERR(DP_LT_DP, "SRTP ledger: %s", lerr);
		rc = EXIT_BAD_CONFIG;
		goto out_ports;
	}
	/* for the controller, before dp_ready (ctl_loop.c) publishes the header: it rekeys every SRTP
	 * participant when this is not the ledger their keys were used under */
	_Static_assert(sizeof(dp.shm->srtp_ledger_id) == SRTP_LEDGER_ID_LEN, "ledger id length");
	memcpy(dp.shm->srtp_ledger_id, srtp_leases_ledger_id(dp.leases), SRTP_LEDGER_ID_LEN);
	if (fwd_tables_init(&dp.fwd) < 0) {
		DP_ERR(DP_LT_DP, "cannot create the forwarding tables");
		goto out_ports;
	}
	tables_made = 1;
	if (rtcp_state_alloc(&dp.rtcp, cfg.kf_throttle_ms) < 0)
		goto out_tables;
	if (dp_ice_init(&dp) < 0) {
		DP_ERR(DP_LT_DP, "cannot create the ICE tables");
		goto out_tables;
	}
	if (dp_learn_init() < 0) {
		DP_ERR(DP_LT_DP, "cannot allocate the SSRC learning state");
		goto out_tables;
	}
	if (dp_dtls_init(&dp) < 0)     /* before the workers: its rings; the fingerprint before dp_ready */
		goto out_tables;
	if (dp_neigh_init(&dp) < 0)    /* before the workers and the first PARTICIPANT_PUT */
		goto out_tables;
	ca = cmd_apply_new(&dp);
	if (!ca) {
		DP_ERR(DP_LT_DP, "cannot allocate the control thread's tables");
		goto out_tables;
	}

	rcu_register_thread();
	rcu_registered = 1;
	rcu_thread_offline();

	ctl_publish_ntp(&dp);      /* the lcores' wall clock, before any of them runs */
	for (unsigned i = 0; i < dp.n_workers; i++) {
		if (worker_init(&workers[i], &dp, i) < 0)
			goto out_workers;
		n_init_workers = i + 1;
	}
	for (unsigned i = 0; i < dp.n_workers; i++) {
		if (rte_eal_remote_launch(worker_main, &workers[i], dp.worker_lcore[i]) != 0) {
			DP_ERR(DP_LT_DP, "cannot launch worker %u on lcore %u", i, dp.worker_lcore[i]);
			atomic_store(&dp.stop, 1);
			goto out_workers;
		}
		n_launched++;
	}
	if (dp_dtls_start(&dp) < 0) {
		atomic_store(&dp.stop, 1);
		goto out_workers;
	}
	DP_INFO(DP_LT_DP, "%u worker lcore(s), %u port(s), shared memory %s, UDP port %u%s", dp.n_workers,
	       dp.n_ports, cfg.shm_name, cfg.udp_port, cfg.udp_port ? "" : " (any)");

	ctl_loop_run(&dp, ca);
	DP_INFO(DP_LT_DP, "stopping");
	rc = EXIT_SUCCESS;

out_workers:
	atomic_store(&dp.stop, 1);
	if (n_launched)
		rte_eal_mp_wait_lcore();
	dp_dtls_stop(&dp);     /* after the workers: nothing enqueues any more */
	dp_neigh_stop(&dp);
	for (unsigned i = 0; i < n_init_workers; i++)
		worker_fini(&workers[i]);
	if (rcu_registered) {
		rcu_thread_online();
		cmd_apply_free(ca);
		dp_ice_free(&dp);       /* its nodes unpublished while online, like the tables above */
		rcu_thread_offline();
		rcu_unregister_thread();
	} else {
		cmd_apply_free(ca);
	}
out_tables:
	dp_dtls_stop(&dp);
	dp_neigh_stop(&dp);
	dp_ice_free(&dp);
	dp_learn_free();
	rtcp_state_free(&dp.rtcp);
	if (tables_made)
		fwd_tables_destroy(&dp.fwd);
out_ports:
	srtp_leases_close(dp.leases);   /* nothing retired: the next dataplane resumes from it */
	handoff_rings_free(&dp);        /* and the packets still in them */
	ports_close(&dp);
	pools_free(&dp);
	rte_free(dp.layers_now);
	rte_free(dp.police_tat);
	rte_free(dp.sel);
	rte_free(dp.owner);
	rte_free(dp.block);
out_chan:
	dp_telemetry_stop();
	if (chan_created) {
		cmd_chan_close(&dp.chan);
		cmd_chan_unlink(cfg.shm_name);
	}
out_eal:
	g_dp = NULL;
	if (pdump)
		rte_pdump_uninit();
	rte_eal_cleanup();
out_cfg:
	free(eal_argv);
	dp_config_free(&cfg);
	return rc;
}
