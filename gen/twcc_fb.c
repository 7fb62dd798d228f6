/*
 * twcc_fb.c - transport-wide feedback from mmr-gen's receivers (see twcc_fb.h).
 */
#include "twcc_fb.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "be_bytes.h"
#include "srtp_fast.h"
#include "twcc.h"

#define RR_LEN 8u

int twcc_fb_init(struct twcc_fb_gen *t, const struct gen_model *m, uint8_t ext_id, uint64_t hz)
{
	memset(t, 0, sizeof(*t));
	t->m = m;
	t->ext_id = ext_id;
	t->hz = hz;
	t->idx_of_part = malloc((size_t)m->n_parts * sizeof(uint32_t));
	t->part_of = malloc((size_t)m->n_parts * sizeof(uint32_t));
	if (!t->idx_of_part || !t->part_of)
		goto fail;
	for (uint32_t p = 0; p < m->n_parts; p++) {
		t->idx_of_part[p] = UINT32_MAX;
		if (gen_part_dp_port(m, p) != 0)
			continue;
		t->idx_of_part[p] = t->n_rx;
		t->part_of[t->n_rx++] = p;
	}
	t->rx = calloc(t->n_rx ? t->n_rx : 1, sizeof(*t->rx));
	t->srtcp = calloc(t->n_rx ? t->n_rx : 1, sizeof(*t->srtcp));
	if (!t->rx || !t->srtcp)
		goto fail;
	for (uint32_t i = 0; i < t->n_rx; i++)
		if (!(t->rx[i] = calloc(1, sizeof(struct twfb_rx))))
			goto fail;
	return 0;
fail:
	twcc_fb_free(t);
	return -ENOMEM;
}

void twcc_fb_free(struct twcc_fb_gen *t)
{
	for (uint32_t i = 0; t->rx && i < t->n_rx; i++)
		free(t->rx[i]);
	for (uint32_t i = 0; t->srtcp && i < t->n_rx; i++)
		srtp_stream_free(t->srtcp[i]);
	free(t->rx);
	free(t->srtcp);
	free(t->idx_of_part);
	free(t->part_of);
	memset(t, 0, sizeof(*t));
}

void twcc_fb_reset(struct twcc_fb_gen *t)
{
	for (uint32_t i = 0; i < t->n_rx; i++) {
		struct twfb_rx *r = t->rx[i];
		memset(r->arrival_us, 0, sizeof(r->arrival_us));
		r->started = 0;
	}
}

/* The transport-cc element's 16-bit value in an RTP header extension block (RFC 8285, one-byte or
 * two-byte form); 0 found, -1 none. */
static int find_tw_seq(const uint8_t *rtp, uint32_t len, uint8_t id, uint16_t *seq)
{
	if (len < 12 || (rtp[0] & 0xc0) != 0x80 || !(rtp[0] & 0x10))
		return -1;
	uint32_t off = 12u + 4u * (rtp[0] & 0x0fu);
	if (off + 4 > len)
		return -1;
	uint16_t profile = get_be16(rtp + off);
	uint32_t blen = 4u * get_be16(rtp + off + 2);
	const uint8_t *q = rtp + off + 4, *end = q + blen;
	if (off + 4 + blen > len)
		return -1;
	if (profile == 0xbede) {
		while (q < end) {
			uint8_t eid = q[0] >> 4, l = (uint8_t)((q[0] & 15) + 1);
			if (eid == 0) {
				q++;
				continue;
			}
			if (eid == 15 || q + 1 + l > end)
				return -1;
			if (eid == id && l == 2) {
				*seq = get_be16(q + 1);
				return 0;
			}
			q += 1 + l;
		}
	} else if ((profile & 0xfff0) == 0x1000) {
		while (q < end) {
			if (q[0] == 0) {
				q++;
				continue;
			}
			if (q + 2 > end || q + 2 + q[1] > end)
				return -1;
			if (q[0] == id && q[1] == 2) {
				*seq = get_be16(q + 2);
				return 0;
			}
			q += 2 + q[1];
		}
	}
	return -1;
}

void twcc_fb_on_copy(struct twcc_fb_gen *t, uint32_t p, const uint8_t *rtp, uint32_t rtp_len, uint64_t now_tsc)
{
	if (p >= t->m->n_parts || t->idx_of_part[p] == UINT32_MAX)
		return;
	if (rtp_len >= 2 && rtp[1] >= 192 && rtp[1] <= 223)
		return;                   /* RTCP to the receiver (RFC 5761 demultiplexing) */
	struct twfb_rx *r = t->rx[t->idx_of_part[p]];
	uint16_t s16;
	if (find_tw_seq(rtp, rtp_len, t->ext_id, &s16) < 0) {
		t->no_ext++;
		return;
	}
	uint64_t us = now_tsc / (t->hz / 1000000u ? t->hz / 1000000u : 1);
	if (us == 0)
		us = 1;
	r->media_ssrc = get_be32(rtp + 8);
	if (!r->started) {
		r->started = 1;
		r->base = 0x10000u + s16;       /* room below for late copies */
		r->high = r->base;
	}
	int32_t d = (int16_t)(uint16_t)(s16 - (uint16_t)r->high);
	uint32_t ext = r->high + (uint32_t)d;
	if (ext < r->base) {
		t->late++;
		return;
	}
	if (ext >= r->base + TWFB_WIN) {
		/* more than a window since the last feedback: the oldest statuses are given up */
		uint32_t nb = ext - TWFB_WIN / 2;
		for (uint32_t x = r->base; x < nb && x < r->high; x++)
			r->arrival_us[x % TWFB_WIN] = 0;
		r->base = nb;
		if (r->high < nb)
			r->high = nb;
		t->overflow++;
	}
	r->arrival_us[ext % TWFB_WIN] = us;
	if (ext + 1 > r->high)
		r->high = ext + 1;
	t->recorded++;
}

uint32_t twcc_fb_build_next(struct twcc_fb_gen *t, uint32_t i, uint64_t now_tsc, uint8_t *buf, uint32_t cap)
{
	(void)now_tsc;
	struct twfb_rx *r = t->rx[i];
	if (!r->started || r->high <= r->base) {
		t->empty++;
		return 0;
	}
	static struct twcc_status st[TWFB_WIN];
	uint32_t n = r->high - r->base;
	int64_t first = -1;
	for (uint32_t k = 0; k < n; k++) {
		uint32_t x = r->base + k;
		uint64_t a = r->arrival_us[x % TWFB_WIN];
		st[k].seq = (uint16_t)x;
		st[k].received = a != 0;
		st[k].arrival_us = (int64_t)a;
		if (a && first < 0)
			first = (int64_t)a;
		r->arrival_us[x % TWFB_WIN] = 0;
	}
	uint32_t p = t->part_of[i];
	uint32_t me = 0x5A000000u + p;
	struct twcc_fb hdr = { .sender_ssrc = me, .media_ssrc = r->media_ssrc, .base_seq = (uint16_t)r->base,
			       .status_count = (uint16_t)n, .fb_count = r->fb_count,
			       .ref_us = first / 64000 * 64000 };
	r->base = r->high;
	if (cap < RR_LEN + 64) {
		t->build_fail++;
		return 0;
	}
	/* an empty receiver report first: compound RTCP (the receiver did not negotiate rsize) */
	buf[0] = 0x80;
	buf[1] = 201;
	put_be16(buf + 2, 1);
	put_be32(buf + 4, me);
	uint32_t room = cap - RR_LEN - (t->srtcp[i] ? 20u : 0u);
	uint32_t fl = twcc_fb_build(buf + RR_LEN, room, &hdr, st, n);
	if (fl == 0) {
		t->build_fail++;
		return 0;
	}
	r->fb_count++;
	uint32_t len = RR_LEN + fl;
	if (t->srtcp[i]) {
		len = srtp_protect_rtcp_copy(t->srtcp[i], buf, len, buf, cap);
		if (len == 0) {
			t->srtcp_fail++;
			return 0;
		}
	}
	t->sent++;
	t->statuses += n;
	return len;
}
