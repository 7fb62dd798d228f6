/*
 * topn.c - top-N audio (topn.h): per-stream energy, the meeting-wide ranking into stable slots, and
 * the per (receiver, slot) output numbering.
 */
#include "topn.h"

#include <string.h>

void topn_energy_init(struct topn_energy *e)
{
	memset(e, 0, sizeof(*e));
}

int topn_energy_on_level(struct topn_energy *e, uint64_t now_ms, uint8_t level)
{
	if (level > 127)
		return -1;
	uint32_t x = (uint32_t)(127 - level) << 8;

	e->ewma = e->have && now_ms <= e->last_ms + TOPN_EXPIRY_MS ? (uint16_t)((e->ewma + x) >> 1) : (uint16_t)x;
	e->have = 1;
	e->level = level;
	e->last_ms = now_ms;
	return 0;
}

uint32_t topn_energy_now(const struct topn_energy *e, uint64_t now_ms)
{
	if (!e->have || now_ms > e->last_ms + TOPN_EXPIRY_MS)
		return 0;
	return e->ewma;
}

void topn_init(struct topn *t, unsigned n)
{
	memset(t, 0, sizeof(*t));
	t->n = (uint8_t)(n > TOPN_MAX ? TOPN_MAX : n);
	for (unsigned k = 0; k < TOPN_MAX; k++)
		t->slot[k] = MMR_ID_NONE;
}

unsigned topn_update(struct topn *t, const uint32_t ids[], const struct topn_energy *const e[], unsigned cnt,
		     int dominant, uint64_t now_ms)
{
	unsigned n = t->n > TOPN_MAX ? TOPN_MAX : t->n, changes = 0;
	uint32_t top[TOPN_MAX];           /* the new top N, strongest first */
	uint32_t top_e[TOPN_MAX];
	unsigned nt = 0;
	int slot_idx[TOPN_MAX];           /* index in ids of each slot's stream (-1: none / gone) */

	if (dominant >= (int)cnt)
		dominant = -1;
	for (unsigned k = 0; k < TOPN_MAX; k++)
		slot_idx[k] = -1;
	/* the slots' streams still in the meeting (cnt x N, N <= 8) */
	for (unsigned i = 0; i < cnt; i++)
		for (unsigned k = 0; k < n; k++)
			if (t->slot[k] == ids[i] && ids[i] != MMR_ID_NONE)
				slot_idx[k] = (int)i;
	for (unsigned k = 0; k < TOPN_MAX; k++)
		if (t->slot[k] != MMR_ID_NONE && (k >= n || slot_idx[k] < 0)) {
			t->slot[k] = MMR_ID_NONE;     /* left the meeting, or N shrank */
			changes++;
		}
	if (n == 0)
		goto out;

	/* the top N by energy (insertion into a sorted array of N), the dominant speaker first */
	if (dominant >= 0 && ids[dominant] != MMR_ID_NONE) {
		top[0] = ids[dominant];
		top_e[0] = UINT32_MAX;
		nt = 1;
	}
	for (unsigned i = 0; i < cnt; i++) {
		if ((int)i == dominant || ids[i] == MMR_ID_NONE)
			continue;
		uint32_t en = e[i] ? topn_energy_now(e[i], now_ms) : 0;
		if (en == 0)
			continue;
		if (nt == n && en <= top_e[nt - 1])
			continue;
		unsigned j = nt < n ? nt++ : n - 1;
		while (j > 0 && top_e[j - 1] < en) {
			top[j] = top[j - 1];
			top_e[j] = top_e[j - 1];
			j--;
		}
		top[j] = ids[i];
		top_e[j] = en;
	}

	/* incumbents among the new top keep their slots; newcomers take a free slot, else the slot
	 * of the weakest incumbent that is no longer in the top */
	for (unsigned j = 0; j < nt; j++) {
		if (topn_slot_of(t, top[j]) >= 0)
			continue;
		int free_k = -1, weak_k = -1;
		uint32_t weak_e = UINT32_MAX;
		for (unsigned k = 0; k < n; k++) {
			if (t->slot[k] == MMR_ID_NONE) {
				free_k = (int)k;
				break;
			}
			int in_top = 0;
			for (unsigned q = 0; q < nt; q++)
				in_top |= top[q] == t->slot[k];
			if (in_top)
				continue;
			uint32_t en = slot_idx[k] >= 0 && e[slot_idx[k]] ? topn_energy_now(e[slot_idx[k]], now_ms) : 0;
			if (weak_k < 0 || en < weak_e) {
				weak_k = (int)k;
				weak_e = en;
			}
		}
		int k = free_k >= 0 ? free_k : weak_k;
		if (k < 0)
			continue;     /* cannot happen: nt <= n */
		t->slot[k] = top[j];
		for (unsigned i = 0; i < cnt; i++)
			if (ids[i] == top[j])
				slot_idx[k] = (int)i;
		changes++;
	}
out:
	t->changes += changes;
	return changes;
}

void topn_out_init(struct topn_out *o)
{
	memset(o, 0, sizeof(*o));
	o->stream_id = MMR_ID_NONE;
}

int topn_out_map(struct topn_out *o, uint32_t stream_id, uint16_t seq, uint32_t ts, uint32_t arrival_ts,
		 uint16_t *out_seq, uint32_t *out_ts)
{
	if (o->stream_id != stream_id || !o->started) {
		/* another stream takes the slot: continue the receiver's numbering */
		uint16_t s = seq;
		uint32_t t = ts;

		if (o->started) {
			int32_t dt = (int32_t)(arrival_ts - o->last_arrival);

			s = (uint16_t)(o->highest_out_seq + 1);
			t = o->last_out_ts + (uint32_t)(dt < 1 ? 1 : dt);
		}
		o->stream_id = stream_id;
		o->seq_off = (uint16_t)(s - seq);
		o->ts_off = t - ts;
		o->highest_in_seq = seq;
		o->span = 0;
		o->highest_out_seq = s;
		o->last_out_ts = t;
		o->last_arrival = arrival_ts;
		o->started = 1;
		*out_seq = s;
		*out_ts = t;
		return 1;
	}
	int16_t ahead = (int16_t)(uint16_t)(seq - o->highest_in_seq);

	if (ahead > 0) {
		uint32_t sp = (uint32_t)o->span + (uint16_t)ahead;

		o->span = (uint16_t)(sp > 32767 ? 32767 : sp);
		o->highest_in_seq = seq;
		o->highest_out_seq = (uint16_t)(seq + o->seq_off);
		o->last_out_ts = ts + o->ts_off;
		o->last_arrival = arrival_ts;
	} else if ((uint16_t)-ahead > o->span) {
		return 0;    /* from before the stream's first packet in this slot */
	}
	*out_seq = (uint16_t)(seq + o->seq_off);
	*out_ts = ts + o->ts_off;
	return 1;
}
