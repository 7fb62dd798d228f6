/*
 * gcc.h - Google Congestion Control for one receiver (send side, from TWCC feedback) or one
 * publisher (receive side, for the REMB we send it), in the manner of libwebrtc's goog_cc and
 * Jitsi's port: delay-based (5 ms send-time groups, trendline over 20 deltas, adaptive threshold,
 * AIMD; no pacer here: over-use while a burst we sent in one go drains is not taken, and a
 * decrease goes to 0.85 x the receive rate of a single recent feedback), loss-based v1, an acked-bitrate estimator, probe clusters; REMB input as mediasoup does
 * (the REMB value drives the delay part, capped by what was sent). The constants are those of
 * /work/shared/notes/rtcp-qos-webrtc.md section 2 (GCC_* below).
 *
 * Time is microseconds on the caller's clock (the dataplane converts its TSC). Fixed-size state
 * (sizeof(struct gcc) = 1864 bytes on x86-64, < 4 KB), no allocation, no libm; float arithmetic per feedback only
 * (gcc_on_arrival: per packet group).
 *
 * Bad input: gcc_on_twcc() returns how many statuses it refused (seq never sent or overwritten, a
 * duplicate "received", an arrival more than 10 s off, an arrival earlier than the previous one in
 * the feedback (reordering: used for loss and throughput, not for delay)); the caller counts them
 * (bwe_bad_fb). Nothing refused changes the estimate.
 */
#ifndef MMR_GCC_H
#define MMR_GCC_H

#include <stdint.h>
#include "send_log.h"
#include "twcc.h"

#define GCC_GROUP_US            5000    /* send-time burst grouping */
#define GCC_TREND_WINDOW        20      /* deltas in the trendline regression */
#define GCC_TREND_SMOOTHING     0.9
#define GCC_TREND_GAIN          4.0
#define GCC_THRESH_INIT_MS      12.5
#define GCC_K_UP                0.0087
#define GCC_K_DOWN              0.039
#define GCC_THRESH_MIN_MS       6.0
#define GCC_THRESH_MAX_MS       600.0
#define GCC_OVERUSE_MS          10.0    /* over the threshold this long ... */
#define GCC_OVERUSE_SAMPLES     2       /* ... and this many samples */
#define GCC_AIMD_BETA           0.85    /* over-use: 0.85 x acked */
#define GCC_AIMD_GROW           0.08    /* x1.08 per second far from capacity */
#define GCC_LOSS_LOW            0.02
#define GCC_LOSS_HIGH           0.10
#define GCC_LOSS_MIN_PKTS       20      /* packets per loss-based update */
#define GCC_LOSS_DECREASE_US    300000  /* + RTT between loss decreases */
#define GCC_ABSURD_US           10000000 /* 10 s: an arrival this far off is refused */
#define GCC_PROBE_CLUSTER_US    15000
#define GCC_PROBE_MIN_PKTS      5
#define GCC_PROBE_MIN_BYTES     200     /* smallest probe packet worth sending */
#define GCC_PROBE_CLUSTERS      4       /* clusters tracked at once */
#define GCC_ACK_BUCKET_US       50000
#define GCC_ACK_BUCKETS         6       /* receive side: 300 ms incoming-rate window */
#define GCC_ACK_SAMPLES         4       /* send side: feedbacks in the acked rate */
#define GCC_MINHIST             32
#define GCC_BURST_MIN_BYTES     6000    /* a send group this large ... */
#define GCC_BURST_FACTOR        4       /* ... and this many times the average group is a burst */
#define GCC_BURST_HOLD_MAX_US   500000  /* over-use ignored at most this long after a burst */

struct gcc_cfg {
	uint64_t start_bps, min_bps, max_bps;
	uint32_t probe_min_bytes;   /* smallest cluster (0: GCC_PROBE_MIN_PKTS x GCC_PROBE_MIN_BYTES); a
				     * cluster sent as one train must outlast a shaper's burst allowance
				     * (a few KB) to measure a rate */
};

/* A probe cluster to send now: about `bytes` in at least `min_pkts` packets over GCC_PROBE_CLUSTER_US
 * (rate bps), each logged with send_log_add(..., id). */
struct gcc_probe {
	uint8_t  id;                        /* 1..255 */
	uint32_t min_pkts;
	uint64_t bps;
	uint32_t bytes;
};

/* What gcc refused or did, for tests and debugging (the dataplane counts gcc_on_twcc's result). */
struct gcc_stats {
	uint32_t unknown, dup, absurd, reordered;   /* refused statuses, by cause */
	uint32_t overuse, underuse;                 /* detector signals */
	uint32_t probes_sent, probes_ok, probes_failed;
	uint32_t remb_capped;                       /* REMB values above what was sent x cap */
	uint32_t burst_ignored;                     /* over-use signals put down to our own burst */
	uint32_t feedback;                          /* gcc_on_twcc calls */
};

struct gcc_probe_state {
	uint8_t  id, done;
	uint64_t bps, start_us;
	uint32_t bytes;                             /* asked */
	uint32_t sent_bytes, sent_pkts, recv_bytes, recv_pkts;
	uint32_t first_recv_size, last_send_size;
	uint64_t first_send_us, last_send_us;
	int64_t  first_recv_us, last_recv_us;
	uint32_t mid_bytes;                         /* received when half the cluster was in */
	int64_t  mid_recv_us;
	uint8_t  have_mid;
};

/* bytes per 50 ms bucket over a 300 ms window (the acked rate by receive time and by send time) */
struct gcc_rate {
	uint64_t bucket[GCC_ACK_BUCKETS];           /* bucket number + 1 (0: empty) */
	uint32_t bytes[GCC_ACK_BUCKETS];
	uint64_t latest_us, first_us;
	uint8_t  started;
};

struct gcc {
	struct gcc_cfg cfg;
	/* inter-arrival groups (send time and receive time of their last packet) */
	uint8_t  grp_valid, prev_valid;
	uint64_t grp_first_send, grp_last_send;
	int64_t  grp_last_arrival;
	uint64_t prev_last_send;
	int64_t  prev_last_arrival;
	uint32_t grp_bytes;                         /* bytes of the current group */
	double   grp_avg_bytes;                     /* EWMA of completed groups' bytes */
	uint64_t burst_until_send_us;               /* groups sent before this drain our own burst */
	uint64_t det_send_us;                       /* send time of the group being detected */
	/* the previous accepted status (reordering, absurd jumps) */
	uint8_t  have_last;
	int64_t  last_arrival;
	uint64_t last_send;
	uint32_t absurd_run;                        /* consecutive absurd statuses: re-anchor after 100 */
	/* trendline */
	double   acc_delay_ms, smoothed_ms, first_arrival_ms;
	uint8_t  have_first_arrival;
	double   hist_t[GCC_TREND_WINDOW], hist_d[GCC_TREND_WINDOW];
	uint32_t hist_n, hist_head, num_deltas;
	double   prev_trend, trend;
	/* detector */
	double   thresh_ms, time_over_ms, last_thresh_ms;
	uint8_t  have_thresh_time;
	uint32_t overuse_count;
	int8_t   signal;                            /* -1 under-use, 0 normal, 1 over-use */
	uint8_t  batch_overuse, batch_groups;
	/* AIMD */
	double   delay_bps;
	uint8_t  aimd_state;                        /* 0 hold, 1 increase, 2 decrease */
	uint64_t aimd_last_us, aimd_last_decrease_us;
	double   cap_kbps, cap_dev;                 /* link capacity estimate (kbps), normalized variance */
	uint8_t  have_cap;
	uint64_t rtt_us;
	/* acked bitrate (send side): per feedback, the media bytes (not probes) received over their receive span and over
	 * their send span; the last GCC_ACK_SAMPLES feedbacks summed; the smaller of the two (a lying
	 * receive clock gains nothing; a lost feedback costs nothing) */
	uint32_t ack_bytes[GCC_ACK_SAMPLES];         /* media bytes */
	uint32_t ack_all_bytes[GCC_ACK_SAMPLES];     /* every byte received (probes too) */
	uint32_t ack_rx_span[GCC_ACK_SAMPLES], ack_tx_span[GCC_ACK_SAMPLES];
	uint64_t ack_rx_bps[GCC_ACK_SAMPLES];       /* each feedback's own receive rate (0: too short) */
	uint32_t ack_head, ack_n;
	/* receive side: the incoming rate by arrival time */
	struct gcc_rate ack_rx;
	uint64_t acked_bps;
	/* loss-based */
	double   loss_bps;
	uint32_t loss_lost, loss_total;
	uint8_t  loss_frac, have_loss, loss_decreased;
	uint64_t loss_last_decrease_us;
	uint64_t loss_from_send_us;                 /* loss of packets sent before: not counted (0: all) */
	uint64_t minhist_us[GCC_MINHIST];
	double   minhist_bps[GCC_MINHIST];
	uint32_t minhist_head, minhist_n;
	/* REMB */
	uint8_t  remb_mode;
	uint64_t remb_bps;
	/* probing */
	struct gcc_probe_state probe[GCC_PROBE_CLUSTERS];
	uint8_t  probe_next_id, initial_probes;     /* initial probes still to hand out (2, 1, 0) */
	uint64_t probe_next_us, probe_backoff_us, probe_peak_bps, probe_peak_us;
	uint64_t probe_bps;                         /* last probe result that raised the estimate */
	uint64_t probe_seen_bps;                    /* last valid probe result (or the start's receive rate) */
	uint64_t probe_ok_start_us;                 /* start of the last cluster that raised the estimate */
	uint64_t probe_fail_us;                     /* when the last backoff for a failed cluster began */
	uint64_t probe_2x_bps;                      /* a further probe is due at this rate (0: none) */
	uint64_t target_bps;
	uint64_t start_us;
	struct gcc_stats st;
};

void gcc_init(struct gcc *g, const struct gcc_cfg *cfg, uint64_t now_us);

/* One parsed TWCC feedback (n statuses from twcc_fb_parse) against the receiver's send log. Returns
 * the number of statuses refused. Updates the log's entry flags. */
unsigned gcc_on_twcc(struct gcc *g, uint64_t now_us, const struct twcc_fb *fb, const struct twcc_status *st,
		     unsigned n, struct send_log *log);

/* A REMB from the receiver: the delay-based part follows it, capped at max_bps and at 1.5 x the sent
 * rate (from log, NULL: not capped by it) + 10 kbps or the rate of a probe sent in the last 5 s. */
void gcc_on_remb(struct gcc *g, uint64_t now_us, uint64_t bps, const struct send_log *log);

/* Loss reported otherwise (an RR's fraction lost for a REMB receiver): lost of expected packets. */
void gcc_on_loss(struct gcc *g, uint64_t now_us, uint32_t lost, uint32_t expected);

void gcc_on_rtt(struct gcc *g, uint64_t rtt_us);

/* Receive side (a publisher's packets; send time from abs-send-time, unwrapped by abs_send_unwrap):
 * the same delay-based detector and AIMD on the incoming rate. gcc_target_bps is then the REMB value. */
void gcc_on_arrival(struct gcc *g, uint64_t send_us, uint64_t arrival_us, uint32_t size);

/* Ask for a probe cluster to send now toward a receiver whose allocation wants want_bps (0: only the
 * initial probes). 1: *p filled (send it, stamping each packet with p->id; call again: the initial
 * probes are two clusters), 0: nothing to send. Rules: the first calls hand out clusters at 3x and 6x
 * the start rate; later, when want_bps is above the proven rate (gcc_proven_bps), one cluster at
 * min(want, max, 2 x the proven rate) unless one is in flight, the detector over-uses or a decrease was less than 1 s ago, at
 * most once per backoff (1 s, doubled on each probe that raised nothing or less than 20 %, once
 * for clusters in flight together, at most 2 s: a path that came back is found within a few seconds); a probe that
 * came back at >= 0.7 of its rate and raised the estimate >= 20 % (or, below the estimate, came
 * back >= 20 % above the rate proven before it) is followed at once by one at min(want, 2 x its result). A cluster's result: its received bytes over its receive span (a train,
 * sent in under 5 ms: its second half's, since a shaper's burst allowance carries the head at once;
 * a paced one: compared with its send rate), never above its rate; above the estimate it raises it.
 * cfg.probe_min_bytes makes clusters at least that large (a train must outlast that allowance). */
int gcc_probe_request(struct gcc *g, uint64_t now_us, uint64_t want_bps, struct gcc_probe *p);

uint64_t gcc_target_bps(const struct gcc *g);       /* min(delay, loss), within [min, max] */
uint64_t gcc_delay_bps(const struct gcc *g);
uint64_t gcc_loss_bps(const struct gcc *g);
uint8_t  gcc_loss_frac(const struct gcc *g);        /* 0..255 */
uint64_t gcc_acked_bps(const struct gcc *g);
/* The last valid probe result, whether it raised the estimate or not (0: none): what the path was
 * last seen to carry. */
uint64_t gcc_probe_result_bps(const struct gcc *g);
/* The estimate, at most what the path was seen to carry: 1.5 x the acknowledged rate (GCC's own
 * growth cap) or the last valid probe result (REMB: the estimate). An estimate that grew while we
 * sent far less is unproven: the allocation's budget, and probes start from this. */
uint64_t gcc_proven_bps(const struct gcc *g);
/* When the estimate last fell for congestion (over-use or loss; 0: never). */
uint64_t gcc_last_decrease_us(const struct gcc *g);

/* abs-send-time (24 bits, 6.18 s fixed point, wraps every 64 s) to microseconds, unwrapped against
 * *last_us (0 the first time); returns the new value and stores it in *last_us. */
static inline uint64_t abs_send_unwrap(uint64_t *last_us, uint32_t ast24)
{
	const uint64_t wrap = 64000000ull;
	uint64_t us = ((uint64_t)(ast24 & 0xffffff) * 1000000ull) >> 18;
	uint64_t base = *last_us - *last_us % wrap, v = base + us;

	if (*last_us && v + wrap / 2 < *last_us)
		v += wrap;
	else if (*last_us && v > *last_us + wrap / 2 && v >= wrap)
		v -= wrap;
	*last_us = v;
	return v;
}

#endif
