/*
 * standin_dp.c - a stand-in for mmr-dataplane for controller tests that need no packets: it creates
 * the shared-memory segment (lib/contract/cmd_chan.h) with a fixed SRTP ledger id, marks itself
 * ready, keeps its heartbeat and takes every command off the ring (applying none), so that the
 * controller attaches, replays and sees each change applied. Stopped with SIGSTOP it takes nothing,
 * so changes wait out apply_timeout_ms; killed, the controller detaches.
 *
 *   standin_dp SHM_NAME
 *
 * Prints "STANDIN READY" once the segment is ready; unlinks it on SIGTERM/SIGINT.
 */
#include <signal.h>
#include <stdio.h>
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
	if (argc != 2) {
		fprintf(stderr, "usage: standin_dp SHM_NAME\n");
		return 2;
	}
	struct cmd_chan ch;
	if (cmd_chan_create(&ch, argv[1], 1, 1) < 0) {
		fprintf(stderr, "standin_dp: cannot create segment %s\n", argv[1]);
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	for (int i = 0; i < MMR_SRTP_LEDGER_ID_LEN; i++)   /* before dp_ready, as the dataplane does */
		ch.shm->srtp_ledger_id[i] = (uint8_t)(0x11 * (i + 1));
	atomic_store(&ch.shm->dp_pid, (uint32_t)getpid());
	atomic_store(&ch.shm->dp_ready, 1);
	printf("STANDIN READY\n");
	fflush(stdout);
	while (!stop) {
		atomic_store(&ch.shm->dp_heartbeat_ns, mmr_now_ns());
		const struct mmr_cmd *c;
		while ((c = cmd_chan_peek(&ch)))
			cmd_chan_done(&ch, c);
		usleep(2000);
	}
	shm_unlink(argv[1]);
	return 0;
}
