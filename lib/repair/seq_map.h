/*
 * seq_map.h - for one receiver's video subscription, which input packet each of its output sequence
 * numbers stands for, and the rewritten header fields it was sent with, so that a packet the receiver
 * NACKs (in its own numbering, after layer drops and simulcast switches) can be found in the
 * stream's pkt_ring and rebuilt exactly as the receiver first got it.
 *
 * SEQ_MAP_SIZE entries indexed by out_seq & (SEQ_MAP_SIZE - 1); an entry records the out seq it
 * was written for, so a lookup of an out seq whose entry was overwritten, skipped or never written
 * finds nothing (stale). Out seqs more than SEQ_MAP_SIZE - 1 behind the newest recorded are refused
 * too. All arithmetic is modulo 2^16 (works across the wrap). Each entry also keeps when the
 * packet was last resent to the receiver (the "not twice within its RTT" rule).
 *
 * With simulcast the input packets of a subscription come from several streams (encodings): the
 * entry keeps the encoding index too (struct layer_out has none: the caller passes it).
 *
 * Pure C, no allocation; one struct per subscription (SEQ_MAP_SIZE * 24 bytes), written and read
 * by the owning lcore only.
 */
#ifndef MMR_SEQ_MAP_H
#define MMR_SEQ_MAP_H

#include <stdint.h>
#include "media.h"

#define SEQ_MAP_SIZE 512     /* power of 2 */

#define SEQ_MAP_VALID  0x01
#define SEQ_MAP_MARKER 0x02

struct seq_map_entry {
	uint32_t in_ext_seq;       /* the input packet (extended seq of its stream) */
	uint32_t ts;               /* out RTP timestamp */
	uint16_t out_seq;          /* the out seq this entry was written for */
	uint16_t picture_id;       /* out PictureID (VP8/VP9; 0 if none) */
	uint16_t frame_number;     /* out AV1 frame number (0 if none) */
	uint8_t  tl0picidx;        /* out TL0PICIDX (0 if none) */
	uint8_t  flags;            /* SEQ_MAP_VALID | SEQ_MAP_MARKER; encoding in bits 4-5 */
	uint64_t last_resent_tsc;  /* 0: never resent */
};

struct seq_map {
	uint16_t newest;           /* newest out seq recorded (valid when have_newest) */
	uint8_t  have_newest;
	uint8_t  has_floor;        /* a floor is set (seq_map_set_floor) */
	uint16_t floor;            /* out seqs older than this are refused (a receive slot's publisher
				      change: they are another stream's) */
	uint8_t  pad[2];
	struct seq_map_entry e[SEQ_MAP_SIZE];
};

void seq_map_init(struct seq_map *m);

/* A packet went out to the receiver: out (layer_sel's values: seq, ts, marker, picture_id,
 * tl0picidx, frame_number) for the input packet in_ext_seq of encoding (0 without simulcast).
 * A late packet (out seq older than the newest) is recorded in place; a repeat of the same out seq
 * for the same input keeps its last_resent_tsc. */
void seq_map_record(struct seq_map *m, uint32_t in_ext_seq, uint8_t encoding, const struct layer_out *out);

/* A video slot changed publisher (issue 13): out seqs older than floor (the first number of the new
 * stream) stand for packets of the old one and are never looked up again. */
static inline void seq_map_set_floor(struct seq_map *m, uint16_t floor)
{
	m->floor = floor;
	m->has_floor = 1;
}

/* Is out_seq from before the floor? */
static inline int seq_map_before_floor(const struct seq_map *m, uint16_t out_seq)
{
	return m->has_floor && (int16_t)(uint16_t)(out_seq - m->floor) < 0;
}

/* The entry for out_seq, or NULL (never recorded, overwritten, too old, or before the floor). */
struct seq_map_entry *seq_map_lookup(struct seq_map *m, uint16_t out_seq);

/* The entry's out fields back as a struct layer_out. */
static inline void seq_map_entry_out(const struct seq_map_entry *e, struct layer_out *out)
{
	out->seq = e->out_seq;
	out->ts = e->ts;
	out->marker = (e->flags & SEQ_MAP_MARKER) != 0;
	out->picture_id = e->picture_id;
	out->tl0picidx = e->tl0picidx;
	out->frame_number = e->frame_number;
}

static inline uint8_t seq_map_entry_encoding(const struct seq_map_entry *e)
{
	return (uint8_t)(e->flags >> 4 & 3u);
}

/* The within-RTT rule: returns 1 and marks the entry resent at now if it was never resent or last
 * resent at least min_gap_tsc ago (the receiver's RTT in TSC ticks); 0 otherwise (do not resend). */
static inline int seq_map_resend_ok(struct seq_map_entry *e, uint64_t now_tsc, uint64_t min_gap_tsc)
{
	if (e->last_resent_tsc && now_tsc - e->last_resent_tsc < min_gap_tsc)
		return 0;
	e->last_resent_tsc = now_tsc ? now_tsc : 1;
	return 1;
}

#endif
