/*
 * rx_track.c - receive-side accounting of mmr-gen (see rx_track.h).
 */
#include "rx_track.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "media.h"
#include "srtp_fast.h"
#include "be_bytes.h"

int rx_track_init(struct rx_track *t, const struct gen_model *m)
{
	memset(t, 0, sizeof(*t));
	t->m = m;
	t->n_flows = m->n_parts * m->slots_per_meeting;
	t->flow = calloc(t->n_flows, sizeof(*t->flow));
	t->started = calloc(t->n_flows, 1);
	t->srtp_every = 1;
	if (!t->flow || !t->started) {
		rx_track_free(t);
		return -ENOMEM;
	}
	return 0;
}

void rx_track_free(struct rx_track *t)
{
	free(t->flow);
	free(t->started);
	t->flow = NULL;
	t->started = NULL;
}

void rx_track_window_start(struct rx_track *t)
{
	memset(t->started, 0, t->n_flows);
	t->rx_pkts = t->rx_bytes = t->foreign = t->late = t->no_stamp = t->echoes = 0;
	t->srtp_fail = t->srtp_checked = 0;
	lhist_reset(&t->lat);
}

void rx_track_frame(struct rx_track *t, uint8_t *f, uint32_t len, uint64_t now)
{
	const struct gen_model *m = t->m;
	t->rx_pkts++;
	t->rx_bytes += len;
	if (len < GEN_L2L3_LEN + 12 || f[12] != 0x08 || f[13] != 0x00 || f[14] != 0x45 || f[23] != 17)
		goto foreign;
	uint32_t dst = get_be32(f + 30);
	uint32_t p = dst - m->base_ip;
	uint8_t *u = f + 34;
	uint32_t udp_len = get_be16(u + 4);
	if (dst == t->echo_ip && t->echo_ip && udp_len >= 8 + 12 + GEN_STAMP_LEN && udp_len + 34 <= len) {
		struct gen_stamp st;
		t->echoes++;
		if (gen_read_stamp(u + udp_len, udp_len - 8, &st) == 0)
			lhist_add(&t->lat, now > st.tsc ? now - st.tsc : 0);
		return;
	}
	if (p >= m->n_parts || get_be16(u + 2) != gen_part_port(p) || udp_len < 8 + 12 ||
	    udp_len + 34 > len)
		goto foreign;
	uint8_t *rtp = u + 8;
	uint32_t rtp_len = udp_len - 8;
	if (t->on_copy)
		t->on_copy(t->copy_ctx, p, rtp, rtp_len, now);
	uint32_t ssrc = get_be32(rtp + 8);
	uint32_t si = gen_stream_of_ssrc(m, ssrc);
	if (si == UINT32_MAX)
		goto foreign;
	const struct gen_stream *s = &m->streams[si];
	if (!gen_receives(m, p, s))
		goto foreign;
	uint32_t fi = p * m->slots_per_meeting + s->slot;
	struct rx_flow *fl = &t->flow[fi];
	uint16_t seq = get_be16(rtp + 2);

	if (!t->started[fi]) {
		t->started[fi] = 1;
		fl->first = fl->high = 0x10000u + seq;   /* room below for late copies */
		fl->rx = 1;
	} else {
		int16_t d = (int16_t)(uint16_t)(seq - (uint16_t)fl->high);
		if (d > 0)
			fl->high += (uint32_t)d;
		else
			t->late++;
		fl->rx++;
	}
	if (fl->upd && t->on_touched)
		t->on_touched(t->touched_ctx, fl->upd - 1, ssrc, now);

	/* latency: from the stamp at the end of the payload (SRTP: decrypted first) */
	if (t->srtp && t->srtp[fi]) {
		if (fl->rx % t->srtp_every != 0 && fl->rx > 1)
			return;
		uint32_t l = rtp_len;
		t->srtp_checked++;
		if (srtp_unprotect_rtp(t->srtp[fi], rtp, &l) != MMR_DROP_NONE) {
			t->srtp_fail++;
			return;
		}
		rtp_len = l;
	}
	struct gen_stamp st;
	if (gen_read_stamp(rtp + rtp_len, rtp_len, &st) != 0 || st.stream != si) {
		t->no_stamp++;
		return;
	}
	lhist_add(&t->lat, now > st.tsc ? now - st.tsc : 0);
	return;
foreign:
	t->foreign++;
}

void rx_track_totals(const struct rx_track *t, struct rx_totals *o)
{
	const struct gen_model *m = t->m;
	memset(o, 0, sizeof(*o));
	for (uint32_t p = 0; p < m->n_parts; p++) {
		uint32_t mt = gen_part_meeting(m, p);
		for (uint32_t sl = 0; sl < m->slots_per_meeting; sl++) {
			uint32_t si = m->stream_of_slot[mt * m->slots_per_meeting + sl];
			if (si == UINT32_MAX || !gen_receives(m, p, &m->streams[si]))
				continue;
			uint32_t fi = p * m->slots_per_meeting + sl;
			if (!t->started[fi]) {
				if (gen_part_dp_port(m, p) == 0)
					o->silent_flows++;
				continue;
			}
			const struct rx_flow *fl = &t->flow[fi];
			uint64_t exp = (uint64_t)(fl->high - fl->first) + 1;
			uint64_t lost = exp > fl->rx ? exp - fl->rx : 0;
			o->flows++;
			o->expected += exp;
			o->received += fl->rx;
			o->lost += lost;
			if (fl->upd) {
				o->touched_expected += exp;
				o->touched_lost += lost;
			}
		}
	}
}
