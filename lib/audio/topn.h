/*
 * topn.h - top-N audio of a meeting: which N audio streams every receiver gets (the N loudest,
 * the dominant speaker always among them), on N stable slots, and per (receiver, slot) the output
 * numbering that stays continuous as the stream in the slot changes.
 *
 * Energy per stream (struct topn_energy, written per packet by the owning lcore): loudness 127 -
 * level (dBov), smoothed by an EWMA of weight 1/2 per packet (JVB loudest: 50 %); a stream with no
 * packet for TOPN_EXPIRY_MS (150 ms) has energy 0.
 * Ranking (topn_update, the caller's timer, e.g. every 100 ms): the N streams of highest energy,
 * the dominant speaker first; a stream with energy 0 is not a candidate (except the dominant one).
 * Slots are stable: a stream keeps its slot while it stays in the top N; a newcomer takes a free
 * slot (the lowest), or the slot of the incumbent it displaces (the weakest not in the new top N).
 * A slot keeps its stream while no candidate wants it (a silent speaker stays until replaced);
 * a stream no longer in the meeting frees its slot.
 * Output numbering (struct topn_out, one per receiver and slot): out seq = in seq + seq_off, out
 * ts = in ts + ts_off per stream; when another stream takes the slot, its first packet gets
 * seq = highest out seq + 1 and ts = last out ts + the arrival time elapsed since the last packet
 * out (at least 1), so the receiver sees one continuous stream. Within one stream late packets keep
 * the stream's offsets; a packet older than the stream's first in the slot is refused (its number
 * would fall into the previous stream's).
 * Pure C, no allocation, O(n log N) per update.
 */
#ifndef MMR_TOPN_H
#define MMR_TOPN_H

#include <stdint.h>
#include "mmr_types.h"

#ifndef MMR_TOPN_MAX
#define MMR_TOPN_MAX 8   /* mmr_types.h (contract) defines it from version 11 */
#endif

#define TOPN_MAX MMR_TOPN_MAX
#define TOPN_EXPIRY_MS 150u

struct topn_energy {
	uint64_t last_ms;     /* newest sample */
	uint16_t ewma;        /* loudness x 256, smoothed */
	uint8_t  level;       /* last level (-dBov) */
	uint8_t  have;
};

struct topn {
	uint8_t  n;                           /* N: 0 (off) .. TOPN_MAX */
	uint32_t slot[TOPN_MAX];              /* stream id in slot k (MMR_ID_NONE: free) */
	uint32_t changes;                     /* slot changes so far */
};

struct topn_out {
	uint32_t stream_id;       /* stream mapped now (MMR_ID_NONE: none yet) */
	uint16_t seq_off;         /* out seq = in + seq_off */
	uint16_t highest_in_seq;  /* the stream's newest */
	uint16_t span;            /* highest_in_seq - its first packet in this slot (at most 32767) */
	uint16_t highest_out_seq; /* the newest out seq of the slot (any stream) */
	uint32_t ts_off;          /* out ts = in + ts_off */
	uint32_t last_out_ts;     /* out ts of the newest packet out */
	uint32_t last_arrival;    /* its arrival time (stream clock) */
	uint8_t  started;         /* anything out yet */
};

/* A stream's energy: nothing heard. */
void topn_energy_init(struct topn_energy *e);

/* One level sample (0-127 -dBov; above 127 refused: -1, nothing changes). Returns 0. */
int topn_energy_on_level(struct topn_energy *e, uint64_t now_ms, uint8_t level);

/* The energy now (0 when expired or never heard). */
uint32_t topn_energy_now(const struct topn_energy *e, uint64_t now_ms);

/* N slots, all free (n above TOPN_MAX is TOPN_MAX). */
void topn_init(struct topn *t, unsigned n);

/*
 * Re-rank the meeting's cnt audio streams ids[i] with energies e[i] (NULL: none heard; an id of
 * MMR_ID_NONE is skipped); dominant: index of the
 * dominant speaker's stream among them (-1: none). Returns the number of slots whose stream changed.
 */
unsigned topn_update(struct topn *t, const uint32_t ids[], const struct topn_energy *const e[], unsigned cnt,
		     int dominant, uint64_t now_ms);

/* Slot of stream id (-1: not among the top N). */
static inline int topn_slot_of(const struct topn *t, uint32_t id)
{
	for (unsigned k = 0; k < t->n && k < TOPN_MAX; k++)
		if (t->slot[k] == id)
			return (int)k;
	return -1;
}

/* A fresh output: nothing sent. */
void topn_out_init(struct topn_out *o);

/*
 * The numbering of one packet of stream stream_id (seq, ts, arrival_ts: its arrival time in the
 * stream's RTP clock) on output o. Returns 1 (*out_seq, *out_ts filled) or 0 (refused: a late
 * packet from before the stream's first one in this slot).
 */
int topn_out_map(struct topn_out *o, uint32_t stream_id, uint16_t seq, uint32_t ts, uint32_t arrival_ts,
		 uint16_t *out_seq, uint32_t *out_ts);

#endif
