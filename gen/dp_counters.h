/*
 * dp_counters.h - read the dataplane's own counters (lib/contract/stats.h) straight from its shared-memory
 * segment, at the exact start and end of a measurement window: busy cycles, copies, packets and
 * drops of its worker lcores, and the command ring's progress. Read-only use of the segment.
 *
 * On a shared machine a worker lcore's thread may be descheduled; busy_cycles (wall TSC time of
 * iterations that received packets) then include time it did not run. So the snapshot also takes
 * the scheduler's view of the dataplane's worker threads (/proc/PID/task/TID/schedstat of every
 * "rte-worker-*" thread: nanoseconds run and nanoseconds waited runnable) and of our own thread.
 */
#ifndef MMR_GEN_DP_COUNTERS_H
#define MMR_GEN_DP_COUNTERS_H

#include <stdint.h>
#include "cmd_chan.h"

struct dp_snapshot {
	/* every lcore counter (stats.h), summed over the active lcores */
#define _(f, name, doc) uint64_t f;
	foreach_mmr_lcore_counter(_)
#undef _
	uint64_t drops[MMR_DROP__COUNT];
	uint64_t ring_head;
	uint64_t arrays_published, grace_periods, target_updates;  /* the control thread's (stats.ctl) */
	uint64_t rejected;
	uint64_t tsc;             /* our TSC when taken */
	uint64_t worker_run_ns;   /* dataplane worker threads: time on a CPU */
	uint64_t worker_wait_ns;  /* ... and time runnable but waiting for one (stolen) */
	uint64_t self_run_ns, self_wait_ns;  /* the same for the calling thread */
	int sched_ok;             /* the schedstat figures were readable */
};

/* Map the segment; 0 or -errno (-ENOENT: no dataplane with that name). */
int dp_counters_open(struct cmd_chan *ch, const char *shm_name);
void dp_counters_take(const struct cmd_chan *ch, struct dp_snapshot *s);
/* The dataplane's TSC frequency as it published it. */
uint64_t dp_counters_tsc_hz(const struct cmd_chan *ch);

#endif
