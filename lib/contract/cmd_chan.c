/*
 * cmd_chan.c - create, map and use the controller <-> dataplane shared-memory segment.
 * The layout and the ownership rules are described in cmd_chan.h.
 */
#include "cmd_chan.h"

#include <errno.h>
#include <linux/futex.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

uint64_t mmr_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t random_epoch(void)
{
	uint64_t e = 0;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, &e, sizeof(e)) != (ssize_t)sizeof(e))
			e = 0;
		close(fd);
	}
	if (e == 0)
		e = mmr_now_ns() ^ ((uint64_t)getpid() << 32);
	return e | 1;
}

int cmd_chan_create(struct cmd_chan *ch, const char *name, uint32_t n_lcores, uint32_t n_ports)
{
	memset(ch, 0, sizeof(*ch));
	snprintf(ch->name, sizeof(ch->name), "%s", name);
	shm_unlink(name);
	int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	uint64_t size = sizeof(struct mmr_shm);
	if (ftruncate(fd, (off_t)size) < 0) {
		int e = errno;
		close(fd);
		shm_unlink(name);
		return -e;
	}
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		int e = errno;
		shm_unlink(name);
		return -e;
	}
	struct mmr_shm *s = p;
	/* ftruncate gave us zeroed memory; fill the header last so a reader never sees it half-made */
	s->size = size;
	s->epoch = random_epoch();
	s->n_lcores = n_lcores;
	s->n_ports = n_ports;
	atomic_store(&s->dp_pid, (uint32_t)getpid());
	atomic_store(&s->dp_heartbeat_ns, mmr_now_ns());
	s->version = MMR_SHM_VERSION;
	atomic_thread_fence(memory_order_release);
	s->magic = MMR_SHM_MAGIC;
	ch->shm = s;
	ch->size = size;
	return 0;
}

int cmd_chan_open(struct cmd_chan *ch, const char *name)
{
	memset(ch, 0, sizeof(*ch));
	snprintf(ch->name, sizeof(ch->name), "%s", name);
	int fd = shm_open(name, O_RDWR | O_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size != sizeof(struct mmr_shm)) {
		close(fd);
		return -EPROTO;
	}
	void *p = mmap(NULL, sizeof(struct mmr_shm), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -errno;
	struct mmr_shm *s = p;
	atomic_thread_fence(memory_order_acquire);
	if (s->magic != MMR_SHM_MAGIC || s->version != MMR_SHM_VERSION || s->size != sizeof(struct mmr_shm)) {
		munmap(p, sizeof(struct mmr_shm));
		return -EPROTO;
	}
	ch->shm = s;
	ch->size = sizeof(struct mmr_shm);
	return 0;
}

void cmd_chan_close(struct cmd_chan *ch)
{
	if (ch->shm)
		munmap(ch->shm, ch->size);
	ch->shm = NULL;
}

void cmd_chan_unlink(const char *name)
{
	shm_unlink(name);
}

int cmd_chan_take_over(struct cmd_chan *ch, uint64_t seen)
{
	uint64_t want = seen + 1 ? seen + 1 : 1;     /* 0 means "no owner" */
	if (!atomic_compare_exchange_strong_explicit(&ch->shm->owner_token, &seen, want,
						     memory_order_acq_rel, memory_order_acquire))
		return -EBUSY;
	ch->token = want;
	return 0;
}

int cmd_chan_push(struct cmd_chan *ch, struct mmr_cmd *cmd)
{
	struct mmr_shm *s = ch->shm;
	uint64_t tail = atomic_load_explicit(&s->tail, memory_order_acquire);
	uint64_t head = atomic_load_explicit(&s->head, memory_order_acquire);
	if (tail - head >= MMR_CMD_RING)
		return -EAGAIN;
	cmd->seq = tail;
	cmd->token = ch->token;
	s->ring[tail & (MMR_CMD_RING - 1)] = *cmd;
	/* compare-and-swap, not a store: a producer that was stopped between its load of tail and here
	 * (and fenced off meanwhile) must not move tail backwards over another one's commands */
	if (!atomic_compare_exchange_strong_explicit(&s->tail, &tail, tail + 1, memory_order_release,
						     memory_order_relaxed))
		return -EBUSY;
	return 0;
}

/* the low half of tail (little-endian: at its address) */
static uint32_t *tail_word(struct cmd_chan *ch)
{
	_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "futex on tail's low half");
	return (uint32_t *)(void *)&ch->shm->tail;
}

void cmd_chan_wake(struct cmd_chan *ch)
{
	syscall(SYS_futex, tail_word(ch), FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
}

void cmd_chan_wait(struct cmd_chan *ch, uint64_t seen_tail, unsigned timeout_us)
{
	struct timespec ts = { (time_t)(timeout_us / 1000000u), (long)(timeout_us % 1000000u) * 1000 };
	syscall(SYS_futex, tail_word(ch), FUTEX_WAIT, (uint32_t)seen_tail, &ts, NULL, 0);
}

const struct mmr_cmd *cmd_chan_peek(struct cmd_chan *ch)
{
	struct mmr_shm *s = ch->shm;
	uint64_t head = atomic_load_explicit(&s->head, memory_order_relaxed);
	uint64_t tail = atomic_load_explicit(&s->tail, memory_order_acquire);
	if (head == tail)
		return NULL;
	return &s->ring[head & (MMR_CMD_RING - 1)];
}

void cmd_chan_done(struct cmd_chan *ch, const struct mmr_cmd *cmd)
{
	struct mmr_shm *s = ch->shm;
	atomic_store_explicit(&s->applied_seq, cmd->seq, memory_order_release);
	atomic_store_explicit(&s->head, cmd->seq + 1, memory_order_release);
}
