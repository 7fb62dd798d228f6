/*
 * dp_counters.c - snapshots of the dataplane's shared-memory counters (see dp_counters.h).
 */
#include "dp_counters.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <rte_cycles.h>

/* "run_ns wait_ns timeslices" of one thread; 0 or -1. */
static int read_schedstat(const char *path, uint64_t *run, uint64_t *wait)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	unsigned long long r, w;
	int n = fscanf(f, "%llu %llu", &r, &w);
	fclose(f);
	if (n != 2)
		return -1;
	*run = r;
	*wait = w;
	return 0;
}

static void sched_snapshot(const struct mmr_shm *shm, struct dp_snapshot *s)
{
	uint32_t pid = atomic_load_explicit(&((struct mmr_shm *)shm)->dp_pid, memory_order_relaxed);
	char path[96];
	snprintf(path, sizeof(path), "/proc/%u/task", pid);
	DIR *d = opendir(path);
	if (!d)
		return;
	int found = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char comm[64] = "";
		snprintf(path, sizeof(path), "/proc/%u/task/%.16s/comm", pid, e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = 0;
		fclose(f);
		if (strncmp(comm, "rte-worker", 10) != 0 && strncmp(comm, "lcore-worker", 12) != 0)
			continue;
		uint64_t run, wait;
		snprintf(path, sizeof(path), "/proc/%u/task/%.16s/schedstat", pid, e->d_name);
		if (read_schedstat(path, &run, &wait) == 0) {
			s->worker_run_ns += run;
			s->worker_wait_ns += wait;
			found = 1;
		}
	}
	closedir(d);
	s->sched_ok = found && read_schedstat("/proc/thread-self/schedstat", &s->self_run_ns,
						&s->self_wait_ns) == 0;
}

int dp_counters_open(struct cmd_chan *ch, const char *shm_name)
{
	return cmd_chan_open(ch, shm_name);
}

void dp_counters_take(const struct cmd_chan *ch, struct dp_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	const struct mmr_shm *shm = ch->shm;
	for (unsigned i = 0; i < MMR_MAX_LCORES; i++) {
		const volatile struct mmr_lcore_stats *l = &shm->stats.lcore[i];
		if (!l->active)
			continue;
#define _(f, name, doc) s->f += l->f;
		foreach_mmr_lcore_counter(_)
#undef _
		for (unsigned r = 0; r < MMR_DROP__COUNT; r++)
			s->drops[r] += l->drops[r];
	}
	s->ring_head = atomic_load_explicit(&((struct mmr_shm *)shm)->head, memory_order_acquire);
	s->rejected = atomic_load_explicit(&((struct mmr_shm *)shm)->rejected, memory_order_relaxed);
	s->arrays_published = __atomic_load_n(&shm->stats.ctl.arrays_published, __ATOMIC_RELAXED);
	s->grace_periods = __atomic_load_n(&shm->stats.ctl.grace_periods, __ATOMIC_RELAXED);
	s->target_updates = __atomic_load_n(&shm->stats.ctl.target_updates, __ATOMIC_RELAXED);
	sched_snapshot(shm, s);
	s->tsc = rte_rdtsc();
}

uint64_t dp_counters_tsc_hz(const struct cmd_chan *ch)
{
	return ch->shm->tsc_hz;
}
