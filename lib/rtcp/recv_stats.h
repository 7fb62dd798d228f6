/*
 * recv_stats.h - reception statistics of one RTP stream the MMR receives (a publisher's uplink), for
 * the report block of the Receiver Reports the MMR sends it (RFC 3550 6.4.1, Appendix A).
 *
 *  - A.1 sequence validation: the publisher is known (signalled), so no probation: the first packet
 *    starts the stream. A packet less than RECV_MAX_DROPOUT (3000) ahead of the highest is in order
 *    (a 16-bit wrap counts a cycle); one less than RECV_MAX_MISORDER (100) behind is late (reordered
 *    or retransmitted); anything else is a big jump: ignored, unless the next packet follows it
 *    (seq == bad_seq), which restarts the statistics there (the sender restarted). Unlike A.1 the
 *    extended seqs go on forward across a restart (the new one = the old highest + the 16-bit
 *    distance), so what is keyed by them needs no reset.
 *  - A late duplicate changes nothing: a bitmap of the RECV_WINDOW (128) sequence numbers behind
 *    the highest tells which of them were received.
 *  - A.3 loss: expected = extended highest - base + 1; lost = expected - received, reported clamped
 *    to 24 bits signed; fraction lost since the previous block (8 bits, 0 if none or negative).
 *  - A.8 interarrival jitter, from packets in order only (a late or retransmitted packet would count
 *    its delay as jitter), with the arrival time in the stream's RTP clock (the caller converts its
 *    TSC arrival time with the stream's clock rate).
 *  - The last SR of the stream: LSR (middle 32 bits of its NTP time) and its arrival (TSC), for
 *    LSR/DLSR in the block.
 *
 * Pure C, no allocation; one struct per received stream, written by its owning lcore only.
 */
#ifndef MMR_RECV_STATS_H
#define MMR_RECV_STATS_H

#include <stdint.h>

#define RECV_MAX_DROPOUT  3000
#define RECV_MAX_MISORDER 100
#define RECV_WINDOW       128    /* bitmap of received seqs behind the highest (>= MAX_MISORDER) */

struct recv_stats {
	uint8_t  started;          /* a packet was accepted */
	uint8_t  have_sr;          /* lsr / sr_tsc valid */
	uint16_t max_seq;          /* highest sequence number seen */
	uint8_t  have_transit;     /* transit valid (jitter) */
	uint8_t  pad[3];
	uint32_t cycles;           /* wraps of max_seq, shifted left 16 */
	uint32_t base_seq;         /* first sequence number (extended) */
	uint32_t bad_seq;          /* a big jump's seq + 1 (RTP_SEQ_MOD + 1: none) */
	uint32_t received;         /* packets received (no duplicates) */
	uint32_t expected_prior;   /* at the previous block */
	uint32_t received_prior;
	uint32_t transit;          /* relative transit time of the previous in-order packet */
	uint32_t jitter;           /* scaled by 16 (A.8) */
	uint32_t lsr;              /* middle 32 bits of the last SR's NTP time */
	uint64_t sr_tsc;           /* its arrival */
	unsigned __int128 seen;    /* bit i: max_seq - i was received (bit 0: max_seq) */
};

/* What recv_stats_update did with a packet. */
enum recv_result {
	RECV_NEW = 0,      /* in order (newer than every packet before); *ext_seq set */
	RECV_LATE,         /* older than the highest, not seen before (reordered, retransmitted); *ext_seq set */
	RECV_DUP,          /* already received: nothing changed; *ext_seq set */
	RECV_RESTART,      /* confirmed a big jump: statistics restarted at this packet; *ext_seq set
			      (forward from the old highest: nack_gen sees a gap, most likely too large:
			      hopeless, a keyframe request, which a restarted sender needs anyway) */
	RECV_BAD,          /* a big jump (or too late to place): ignored, nothing changed; *ext_seq not set */
};

/* The report block's values (the fields of rtcp.h's struct rtcp_report_block but the SSRC). */
struct recv_report {
	uint8_t  fraction_lost;
	int32_t  cum_lost;          /* clamped to [-0x800000, 0x7fffff] */
	uint32_t ext_high_seq;
	uint32_t jitter;            /* RTP clock units */
	uint32_t lsr;               /* 0 without an SR */
	uint32_t dlsr;              /* 1/65536 s since that SR arrived; 0 without one */
};

void recv_stats_init(struct recv_stats *s);

/* One RTP packet: its seq, RTP timestamp, and its arrival time in the stream's RTP clock
 * (wrapping). *ext_seq: the packet's extended (32-bit, with cycles) sequence number. */
enum recv_result recv_stats_update(struct recv_stats *s, uint16_t seq, uint32_t rtp_ts, uint32_t arrival_rtp,
				   uint32_t *ext_seq);

/* The stream's SR arrived (its NTP time, our TSC at arrival). */
void recv_stats_on_sr(struct recv_stats *s, uint64_t ntp, uint64_t arrival_tsc);

/* Fill a report block as of now (TSC) and start the next interval (fraction lost counts from
 * here). Returns 0, or -1 when no packet was received yet (no block to send; nothing changed). */
int recv_stats_block(struct recv_stats *s, uint64_t now_tsc, uint64_t tsc_hz, struct recv_report *rb);

/* The extended highest sequence number (valid once started). */
static inline uint32_t recv_stats_ext_max(const struct recv_stats *s)
{
	return s->cycles + s->max_seq;
}

/* Cumulative lost now (expected - received; may be negative), not clamped. */
int64_t recv_stats_lost(const struct recv_stats *s);

/* Jitter now in RTP clock units. */
static inline uint32_t recv_stats_jitter(const struct recv_stats *s)
{
	return s->jitter >> 4;
}

#endif
