/*
 * seq_map.c - a subscription's out seq -> input packet map (see seq_map.h).
 */
#include <string.h>

#include "seq_map.h"

_Static_assert((SEQ_MAP_SIZE & (SEQ_MAP_SIZE - 1)) == 0 && SEQ_MAP_SIZE <= 32768, "SEQ_MAP_SIZE: a power of 2");
_Static_assert(sizeof(struct seq_map_entry) == 24, "seq_map_entry: 24 bytes");

void seq_map_init(struct seq_map *m)
{
	memset(m, 0, sizeof(*m));
}

void seq_map_record(struct seq_map *m, uint32_t in_ext_seq, uint8_t encoding, const struct layer_out *out)
{
	struct seq_map_entry *e = &m->e[out->seq & (SEQ_MAP_SIZE - 1)];
	uint64_t resent = 0;

	if (m->have_newest) {
		if ((int16_t)(out->seq - m->newest) > 0) {
			m->newest = out->seq;
			/* the map's window is past the floor: the window alone refuses the old stream's
			 * numbers from here (a floor kept would flip sign half the number space later) */
			if (m->has_floor && (uint16_t)(m->newest - m->floor) >= SEQ_MAP_SIZE &&
			    (int16_t)(uint16_t)(m->newest - m->floor) > 0)
				m->has_floor = 0;
		} else if ((uint16_t)(m->newest - out->seq) >= SEQ_MAP_SIZE)
			return;         /* too old: its slot belongs to a newer seq */
	} else {
		m->newest = out->seq;
		m->have_newest = 1;
	}
	if ((e->flags & SEQ_MAP_VALID) && e->out_seq == out->seq && e->in_ext_seq == in_ext_seq)
		resent = e->last_resent_tsc;
	e->in_ext_seq = in_ext_seq;
	e->ts = out->ts;
	e->out_seq = out->seq;
	e->picture_id = out->picture_id;
	e->frame_number = out->frame_number;
	e->tl0picidx = out->tl0picidx;
	e->flags = (uint8_t)(SEQ_MAP_VALID | (out->marker ? SEQ_MAP_MARKER : 0) | (encoding & 3u) << 4);
	e->last_resent_tsc = resent;
}

struct seq_map_entry *seq_map_lookup(struct seq_map *m, uint16_t out_seq)
{
	struct seq_map_entry *e = &m->e[out_seq & (SEQ_MAP_SIZE - 1)];

	if (!m->have_newest || (uint16_t)(m->newest - out_seq) >= SEQ_MAP_SIZE || seq_map_before_floor(m, out_seq))
		return NULL;
	if (!(e->flags & SEQ_MAP_VALID) || e->out_seq != out_seq)
		return NULL;
	return e;
}
