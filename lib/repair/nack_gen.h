/*
 * nack_gen.h - the NACKs the MMR sends a publisher for the packets missing from one stream it
 * receives (uplink loss repair), like mediasoup's NackGenerator and Jitsi's RetransmissionRequester.
 *
 *  - Gaps are detected from extended sequence numbers (recv_stats gives them): a packet newer than
 *    the newest seen adds every seq in between to the missing list; a late or retransmitted packet
 *    whose seq is missing removes it (NACK_GEN_REPAIRED).
 *  - Reordering allowance: a missing seq is asked for the first time only once it has been missing
 *    for reorder_tsc (default NACK_GEN_REORDER_US = 0: asked at the packet that shows the gap, as
 *    libwebrtc's NackRequester does; the caller checks only at the stream's packets, and a 30 fps
 *    stream sends a frame's packets in one burst, so any delay here waited for the next frame, and
 *    the repair then came too late for the layer selector: tests/e2e/test_rtcp_loss.py). A reordered
 *    packet costs one needless NACK and a resend the MMR drops as rtx_unused.
 *  - Then re-asked once per RTT (the publisher's, from our RR; NACK_GEN_DEFAULT_RTT_US = 100 ms until
 *    known; at least NACK_GEN_MIN_INTERVAL_US = 20 ms), at most max_tries times (default
 *    NACK_GEN_MAX_TRIES = 10).
 *  - At most NACK_GEN_MAX_MISSING = 256 seqs missing at once: a gap that would make more clears the
 *    list and makes the generator "hopeless" (the caller asks the publisher for a keyframe instead).
 *    A seq given up (tries used up, or missing longer than max_age_tsc, default NACK_GEN_MAX_AGE_MS =
 *    1000 ms) makes it hopeless too: the receivers' pictures are broken until a keyframe.
 *  - nack_gen_keyframe: a keyframe arrived: older missing seqs are no longer needed.
 *
 * Time is the TSC; the caller calls nack_gen_due when nack_gen_next_tsc() has passed (lazily, at the
 * stream's next packet or its RTCP timer) and sends what it returns as one generic NACK (the RTCP
 * builder packs the 16-bit seqs into PID+BLP items).
 *
 * Pure C, no allocation; one struct per published stream (about 6 KB), written by its owning lcore.
 */
#ifndef MMR_NACK_GEN_H
#define MMR_NACK_GEN_H

#include <stdint.h>

#define NACK_GEN_MAX_MISSING     256
#define NACK_GEN_MAX_TRIES       10
#define NACK_GEN_REORDER_US      0
#define NACK_GEN_MIN_INTERVAL_US 20000
#define NACK_GEN_DEFAULT_RTT_US  100000
#define NACK_GEN_MAX_AGE_MS      1000

struct nack_gen_item {
	uint32_t ext_seq;
	uint8_t  tries;           /* NACKs sent for it */
	uint8_t  pad[3];
	uint64_t missing_tsc;     /* when it was found missing */
	uint64_t sent_tsc;        /* last NACK for it (valid when tries > 0) */
};

struct nack_gen {
	uint8_t  started;         /* newest valid */
	uint8_t  hopeless;        /* gave up on something since the last nack_gen_hopeless() */
	uint16_t n;               /* items in the missing list */
	uint32_t newest;          /* newest extended seq seen */
	uint64_t tsc_hz;
	uint64_t reorder_tsc;     /* settings, in TSC ticks (set by nack_gen_init, may be changed) */
	uint64_t min_interval_tsc;
	uint64_t max_age_tsc;
	uint64_t next_tsc;        /* nothing is due before this (UINT64_MAX: list empty) */
	uint32_t max_tries;       /* NACKs per missing seq at most (NACK_GEN_MAX_TRIES by nack_gen_init;
				     may be changed at any time; 0: none, a gap is given up at once) */
	/* counters since init (the caller adds them to its own) */
	uint64_t asked;           /* seqs put in NACKs (repeats included) */
	uint64_t repaired;        /* missing seqs that arrived */
	uint64_t given_up;        /* missing seqs dropped (tries, age, overflow, keyframe not counted) */
	struct nack_gen_item item[NACK_GEN_MAX_MISSING];   /* sorted by ext_seq (serial order) */
};

/* What one packet did to the missing list. */
enum nack_gen_result {
	NACK_GEN_IN_ORDER = 0,    /* newer than the newest (gaps, if any, now missing) */
	NACK_GEN_REPAIRED,        /* a missing seq arrived (late or retransmitted) */
	NACK_GEN_OLD,             /* older, not missing: a duplicate or too old: nothing changed */
	NACK_GEN_OVERFLOW,        /* the gap was too large: list cleared, hopeless set */
};

/* Empty generator with the default settings. tsc_hz > 0. */
void nack_gen_init(struct nack_gen *g, uint64_t tsc_hz);

/* Forget everything but the settings and counters (stream restarted). */
void nack_gen_reset(struct nack_gen *g);

/* A packet of the stream arrived (its extended seq) at now. */
enum nack_gen_result nack_gen_on_seq(struct nack_gen *g, uint32_t ext_seq, uint64_t now_tsc);

/* A keyframe starts at ext_seq: missing seqs before it are not needed any more (dropped). */
void nack_gen_keyframe(struct nack_gen *g, uint32_t ext_seq);

/* The seqs to NACK now (at most max, oldest first, written to seqs as 16-bit RTP seqs); drops the
 * seqs given up (tries or age: sets hopeless). rtt_us: the publisher's RTT (0: unknown, default).
 * Returns how many; updates nack_gen_next_tsc(). */
unsigned nack_gen_due(struct nack_gen *g, uint64_t now_tsc, uint32_t rtt_us, uint16_t *seqs, unsigned max);

/* When the next seq may be due (UINT64_MAX: nothing missing). */
static inline uint64_t nack_gen_next_tsc(const struct nack_gen *g)
{
	return g->next_tsc;
}

/* Missing seqs now. */
static inline unsigned nack_gen_missing(const struct nack_gen *g)
{
	return g->n;
}

/* Returns 1 once after the generator gave up on packets (ask for a keyframe), then 0. */
static inline int nack_gen_hopeless(struct nack_gen *g)
{
	int h = g->hopeless;

	g->hopeless = 0;
	return h;
}

#endif
