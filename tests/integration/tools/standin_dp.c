/*
 * standin_dp.c - a stand-in for mmr-dataplane for controller tests that need no packets: it creates
 * the shared-memory segment (lib/contract/cmd_chan.h) with a fixed SRTP ledger id, marks itself
 * ready, keeps its heartbeat and takes every command off the ring (applying none), so that the
 * controller attaches, replays and sees each change applied. Stopped with SIGSTOP it takes nothing,
 * so changes wait out apply_timeout_ms; killed, the controller detaches.
 *
 *   standin_dp SHM_NAME [COPIES_PER_S]
 *
 * COPIES_PER_S: lcore slot 0 is active and its copies counter grows at that rate (test_zone.py: the
 * zone's load.copies_per_s).
 *
 * It shows a fixed DTLS fingerprint (so a join's answer can be made: test_zone_failover.py).
 *
 * Prints "STANDIN READY" once the segment is ready; unlinks it on SIGTERM/SIGINT.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cmd_chan.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: standin_dp SHM_NAME [COPIES_PER_S]\n");
		return 2;
	}
	double copies_ps = argc == 3 ? atof(argv[2]) : 0;
	struct cmd_chan ch;
	if (cmd_chan_create(&ch, argv[1], 1, 1) < 0) {
		fprintf(stderr, "standin_dp: cannot create segment %s\n", argv[1]);
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	for (int i = 0; i < MMR_SRTP_LEDGER_ID_LEN; i++)   /* before dp_ready, as the dataplane does */
		ch.shm->srtp_ledger_id[i] = (uint8_t)(0x11 * (i + 1));
	for (int i = 0; i < MMR_DTLS_FP_LEN; i++)          /* "AB:AB:...": a fixed fingerprint */
		memcpy(ch.shm->dtls_fingerprint + 3 * i, i + 1 < MMR_DTLS_FP_LEN ? "AB:" : "AB", i + 1 < MMR_DTLS_FP_LEN ? 3 : 2);
	ch.shm->dtls_fingerprint[MMR_DTLS_FP_TEXT_LEN] = '\0';
	atomic_store(&ch.shm->dp_pid, (uint32_t)getpid());
	atomic_store(&ch.shm->dp_ready, 1);
	struct mmr_lcore_stats *l0 = &ch.shm->stats.lcore[0];
	uint64_t t0 = mmr_now_ns();
	if (copies_ps > 0)
		__atomic_store_n(&l0->active, 1, __ATOMIC_RELEASE);
	printf("STANDIN READY\n");
	fflush(stdout);
	while (!stop) {
		atomic_store(&ch.shm->dp_heartbeat_ns, mmr_now_ns());
		if (copies_ps > 0)
			__atomic_store_n(&l0->c[MMR_LC_copies], (uint64_t)(copies_ps * (double)(mmr_now_ns() - t0) / 1e9),
					 __ATOMIC_RELAXED);
		const struct mmr_cmd *c;
		while ((c = cmd_chan_peek(&ch)))
			cmd_chan_done(&ch, c);
		usleep(2000);
	}
	shm_unlink(argv[1]);
	return 0;
}
