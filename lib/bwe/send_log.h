/*
 * send_log.h - the per-receiver log of what was sent toward it (header-only): the dataplane stamps
 * each copy's transport-wide seq from send_log_add() and the congestion controller (gcc.h) finds
 * each packet a TWCC feedback reports with send_log_find(). The sent rate that caps what REMB may
 * claim is read from the log when a REMB comes (send_log_rate_bps), not metered per copy. Fixed
 * size, no allocation: one 8-byte entry store and two header fields per packet.
 */
#ifndef MMR_SEND_LOG_H
#define MMR_SEND_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "send_log_add writes an entry as one little-endian word"
#endif

#define SEND_LOG_SIZE       1024        /* power of 2; divides 65536 */
#define SEND_LOG_VALID      0x01        /* the entry holds a sent packet */
#define SEND_LOG_ACKED      0x02        /* feedback said received (a second "received" is a duplicate) */
#define SEND_LOG_REPORTED   0x04        /* feedback reported it (received or lost) */
#define SEND_LOG_RATE_US    500000      /* send_log_rate_bps's window */

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
	struct send_log_entry e[SEND_LOG_SIZE];
};

static inline void send_log_init(struct send_log *l, uint16_t first_seq)
{
	l->next_seq = first_seq;
	l->last_us = 0;
	for (unsigned i = 0; i < SEND_LOG_SIZE; i++)
		l->e[i].flags = 0;
}

/* Log one packet sent now; returns the transport-wide seq to stamp into it. The entry is written in
 * one 8-byte store (its fields in little-endian order). */
static inline uint16_t send_log_add(struct send_log *l, uint64_t send_us, uint16_t size, uint8_t probe_cluster)
{
	uint16_t seq = l->next_seq++;
	uint64_t v = (uint64_t)(uint32_t)send_us | (uint64_t)size << 32 | (uint64_t)probe_cluster << 48 |
		     (uint64_t)SEND_LOG_VALID << 56;

	memcpy(&l->e[seq & (SEND_LOG_SIZE - 1)], &v, sizeof(v));
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

/* Sent bits per second over the last SEND_LOG_RATE_US before now (over the log's oldest entry to now
 * when the log wraps sooner); 0: nothing sent in that window. A walk back from the newest entry:
 * per REMB, not per packet. */
static inline uint64_t send_log_rate_bps(const struct send_log *l, uint64_t now_us)
{
	uint64_t bytes = 0, from = now_us > SEND_LOG_RATE_US ? now_us - SEND_LOG_RATE_US : 0, span = now_us - from;
	uint16_t seq = (uint16_t)(l->next_seq - 1u);

	for (unsigned n = 0; n < SEND_LOG_SIZE; n++, seq--) {
		const struct send_log_entry *e = &l->e[seq & (SEND_LOG_SIZE - 1)];
		uint64_t t = send_log_time(l, e);
		if (!(e->flags & SEND_LOG_VALID) || t < from || t > now_us)
			break;
		bytes += e->size;
		if (n == SEND_LOG_SIZE - 1)
			span = now_us - t;      /* the log wrapped inside the window */
	}
	return bytes && span ? bytes * 8ull * 1000000ull / span : 0;
}

#endif
