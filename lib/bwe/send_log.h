/*
 * send_log.h - the per-receiver log of what was sent toward it (header-only): the dataplane stamps
 * each copy's transport-wide seq from send_log_add() and the congestion controller (gcc.h) finds
 * each packet a TWCC feedback reports with send_log_find(). Also a sent-rate meter (two 250 ms
 * buckets) that caps what REMB may claim. Fixed size, no allocation, a few stores per packet.
 */
#ifndef MMR_SEND_LOG_H
#define MMR_SEND_LOG_H

#include <stddef.h>
#include <stdint.h>

#define SEND_LOG_SIZE       1024        /* power of 2; divides 65536 */
#define SEND_LOG_VALID      0x01        /* the entry holds a sent packet */
#define SEND_LOG_ACKED      0x02        /* feedback said received (a second "received" is a duplicate) */
#define SEND_LOG_REPORTED   0x04        /* feedback reported it (received or lost) */
#define SEND_LOG_RATE_US    250000      /* sent-rate bucket */

/* 8 bytes: a copy writes one, so 8 share a cache line (the logs of a lcore's receivers stay in its L2).
 * The seq is the entry's place (sent in order); the send time's low 32 bits (send_log_time gives it
 * back whole: a log's entries are the last SEND_LOG_SIZE sends, within 71 minutes of the newest). */
struct send_log_entry {
	uint32_t send_lo;                   /* send time, microseconds, low 32 bits */
	uint16_t size;                      /* wire bytes (IP payload or frame: the caller's choice, consistently) */
	uint8_t  probe_cluster;             /* 0: not a probe, else the gcc_probe id */
	uint8_t  flags;
};

struct send_log {
	uint16_t next_seq;
	uint64_t last_us;                   /* the newest entry's send time */
	uint64_t rate_bucket;               /* now_us / SEND_LOG_RATE_US of bytes_cur */
	uint64_t rate_end_us;               /* where that bucket ends (no division per packet) */
	uint32_t bytes_cur, bytes_prev;
	struct send_log_entry e[SEND_LOG_SIZE];
};

static inline void send_log_init(struct send_log *l, uint16_t first_seq)
{
	l->next_seq = first_seq;
	l->last_us = 0;
	l->rate_bucket = 0;
	l->rate_end_us = 0;
	l->bytes_cur = l->bytes_prev = 0;
	for (unsigned i = 0; i < SEND_LOG_SIZE; i++)
		l->e[i].flags = 0;
}

/* Log one packet sent now; returns the transport-wide seq to stamp into it. */
static inline uint16_t send_log_add(struct send_log *l, uint64_t send_us, uint16_t size, uint8_t probe_cluster)
{
	uint16_t seq = l->next_seq++;
	struct send_log_entry *e = &l->e[seq & (SEND_LOG_SIZE - 1)];

	e->send_lo = (uint32_t)send_us;
	e->size = size;
	e->probe_cluster = probe_cluster;
	e->flags = SEND_LOG_VALID;
	if (send_us >= l->rate_end_us || send_us < l->rate_end_us - SEND_LOG_RATE_US) {
		uint64_t b = send_us / SEND_LOG_RATE_US;
		l->bytes_prev = b == l->rate_bucket + 1 ? l->bytes_cur : 0;
		l->bytes_cur = 0;
		l->rate_bucket = b;
		l->rate_end_us = (b + 1) * SEND_LOG_RATE_US;
	}
	l->bytes_cur += size;
	l->last_us = send_us;
	return seq;
}

/* The entry of seq, NULL if never sent or overwritten (more than SEND_LOG_SIZE sends ago). */
static inline struct send_log_entry *send_log_find(struct send_log *l, uint16_t seq)
{
	struct send_log_entry *e = &l->e[seq & (SEND_LOG_SIZE - 1)];

	return (e->flags & SEND_LOG_VALID) && (uint16_t)(l->next_seq - 1u - seq) < SEND_LOG_SIZE ? e : NULL;
}

/* The whole send time of an entry of l. */
static inline uint64_t send_log_time(const struct send_log *l, const struct send_log_entry *e)
{
	return l->last_us - (uint32_t)((uint32_t)l->last_us - e->send_lo);
}

/* Sent bits per second over the last full bucket and the current one (0.25-0.5 s). */
static inline uint64_t send_log_rate_bps(const struct send_log *l, uint64_t now_us)
{
	uint64_t b = now_us / SEND_LOG_RATE_US;
	uint64_t bytes, span;

	if (b == l->rate_bucket)
		bytes = l->bytes_cur + l->bytes_prev;
	else if (b == l->rate_bucket + 1)
		bytes = l->bytes_cur;
	else
		return 0;
	span = SEND_LOG_RATE_US + now_us % SEND_LOG_RATE_US;
	return bytes * 8ull * 1000000ull / span;
}

#endif
