/*
 * dominant_speaker.h - the dominant speaker of a meeting from its audio levels, by the method of
 * Volfin and Cohen ("Dominant speaker identification for multipoint videoconferencing", 2013) with
 * the parameters Jitsi (DominantSpeakerIdentification) and mediasoup (ActiveSpeakerObserver) use
 * (written here from the algorithm):
 *  - each level sample (one per received packet, 0-127 -dBov turned into loudness 127 - level) is
 *    kept in a history of the last DS_HISTORY (50) samples; a noise floor (the minimum level,
 *    smoothed by a geometric mean over windows of DS_MIN_LEVEL_WINDOW samples, about 15 s) is
 *    followed per speaker;
 *  - at a decision (every 300 ms, the caller's timer), per speaker: immediates = the sub-band (0-12
 *    of DS_N1 = 13 bands of width 10) of each sample, 0 below the noise floor + one band;
 *    mediums[k] = how many of immediates[5k..5k+4] exceed DS_MEDIUM_THRESHOLD (7), k < DS_N3;
 *    long = how many of the DS_N3 (10) mediums exceed DS_LONG_THRESHOLD (4);
 *  - three scores: score(v, n, lambda) = log C(n,v) + v log p + (n-v) log(1-p) - log lambda +
 *    lambda v, p = 0.5, at least 1e-10: immediate (v = immediates[0], n = 13, lambda 0.78), medium
 *    (mediums[0], n = 5, lambda 24), long (long, n = 10, lambda 47);
 *  - a challenger replaces the dominant speaker when log(its score / the dominant's) exceeds C1 = 3
 *    (immediate), C2 = 2 (medium) and C3 = 0 (long); of several, the largest medium ratio wins.
 *    With no dominant speaker yet, the challengers are compared with a silent speaker. Silence
 *    everywhere keeps the last dominant speaker;
 *  - a speaker with no level for DS_LEVEL_IDLE_MS (40 ms) gets a silent sample per 40 ms idle at
 *    the next decision (at most a whole history);
 *  - a guard of ours: the noise floor never rises above loudness 70 (-57 dBov), so a steady loud
 *    source (a tone from the first packet, a talker who never pauses) is not taken for noise.
 * The scores come from tables (no libm on the packet path or in the decision).
 *
 * struct ds_speaker: one per audio stream, written per packet by the owning lcore
 * (ds_speaker_on_level: a store and a noise-floor step); struct ds_meeting: one per meeting, with
 * ds_decide run by the same lcore on its timer. No allocation, no locks.
 */
#ifndef MMR_DOMINANT_SPEAKER_H
#define MMR_DOMINANT_SPEAKER_H

#include <stdint.h>

#define DS_N1 13                  /* sub-bands of the immediate window */
#define DS_N2 5                   /* immediates per medium */
#define DS_N3 10                  /* mediums per long */
#define DS_HISTORY (DS_N2 * DS_N3) /* level samples used: 50 */
#define DS_RING 64                /* level ring (power of two >= DS_HISTORY) */
#define DS_MEDIUM_THRESHOLD 7
#define DS_LONG_THRESHOLD 4
#define DS_LEVEL_IDLE_MS 40
#define DS_MIN_LEVEL_WINDOW 750   /* samples (15 s of 20 ms packets) per noise-floor step */
#define DS_DECISION_MS 300        /* the interval Jitsi and mediasoup use (the caller's timer) */

struct ds_speaker {
	uint8_t  ring[DS_RING];    /* loudness samples (127 - dBov), newest at head - 1 */
	uint32_t head;             /* samples written (mod DS_RING: the next slot) */
	uint8_t  min_level;        /* noise floor (0: none yet) */
	uint8_t  next_min_level;   /* minimum of the current floor window (0: none) */
	uint16_t next_min_count;   /* samples in that window */
	uint64_t last_ms;          /* time of the newest sample (real or idle) */
	/* the last decision's scores, as logs (for tests and debugging) */
	float    log_score[3];     /* immediate, medium, long */
};

struct ds_meeting {
	uint32_t dominant_id;      /* the caller's id of the dominant speaker (UINT32_MAX: none) */
	uint32_t decisions;
	uint32_t changes;
};

/* A new speaker with no history. */
void ds_speaker_init(struct ds_speaker *s, uint64_t now_ms);

/* One level sample (0-127 -dBov, as audio_level_get gives it; above 127 is refused: returns -1,
 * nothing changes). Returns 0. */
int ds_speaker_on_level(struct ds_speaker *s, uint64_t now_ms, uint8_t level);

/* No dominant speaker. */
void ds_meeting_init(struct ds_meeting *m);

/*
 * One decision over the meeting's n speakers sp[i] with the caller's ids[i] (e.g. stream ids;
 * UINT32_MAX is not an id; a NULL sp[i] is skipped). Returns the index of the dominant speaker (kept unless a challenger
 * wins; m->dominant_id holds its id), or -1 when there is none (n == 0, or nobody ever spoke). A
 * dominant speaker no longer among ids is dropped (then the decision starts from none).
 */
int ds_decide(struct ds_meeting *m, struct ds_speaker *const sp[], const uint32_t ids[], unsigned n,
	      uint64_t now_ms);

/* The score tables (log scores for v = 0..len-1): which 0 immediate, 1 medium, 2 long. For tests. */
const float *ds_score_table(unsigned which, unsigned *len);

#endif
