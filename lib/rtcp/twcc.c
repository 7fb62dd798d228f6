/*
 * twcc.c - transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-
 * extensions-01, 3.1): parse an FCI into one status per packet, build one whole feedback packet.
 * Bounded reads: every chunk and delta is checked against len before it is read.
 */
#include <string.h>

#include "be_bytes.h"
#include "rtcp.h"
#include "twcc.h"

int twcc_fb_parse(const uint8_t *fci, uint32_t len, struct twcc_fb *fb, struct twcc_status *st, unsigned max)
{
	uint32_t q = 8, seen = 0, count;
	uint32_t nsym = 0;

	if (len < 8)
		return -1;
	fb->base_seq = get_be16(fci);
	fb->status_count = get_be16(fci + 2);
	fb->ref_us = (int64_t)((int32_t)(get_be32(fci + 4) & 0xffffff00) >> 8) * TWCC_REF_US;
	fb->fb_count = fci[7];
	count = fb->status_count;
	if (!count)
		return -1;
	/* pass 1: the chunks, with each status's symbol kept in st[].received for the first max */
	while (seen < count) {
		if (q + 2 > len)
			return -1;
		uint16_t c = get_be16(fci + q);
		q += 2;
		if (!(c & 0x8000)) {                    /* run length: symbol, 13-bit run */
			uint32_t sym = (c >> 13) & 3, run = c & 0x1fff;
			if (run > count - seen)
				run = count - seen;
			if (sym == 3 && run)
				return -1;
			for (uint32_t i = 0; i < run && seen + i < max; i++)
				st[seen + i].received = (uint8_t)sym;
			nsym += sym * run;
			seen += run;
		} else if (!(c & 0x4000)) {             /* 14 one-bit symbols */
			for (int i = 13; i >= 0 && seen < count; i--, seen++) {
				uint32_t sym = (c >> i) & 1;
				if (seen < max)
					st[seen].received = (uint8_t)sym;
				nsym += sym;
			}
		} else {                                /* 7 two-bit symbols */
			for (int i = 12; i >= 0 && seen < count; i -= 2, seen++) {
				uint32_t sym = (c >> i) & 3;
				if (sym == 3)
					return -1;
				if (seen < max)
					st[seen].received = (uint8_t)sym;
				nsym += sym;
			}
		}
	}
	if (q + nsym > len || len - (q + nsym) > 3)
		return -1;
	/* pass 2: the deltas (the bytes are known to be there); statuses past max still consume theirs */
	int64_t t = fb->ref_us;
	unsigned n = count < max ? count : max;
	for (uint32_t i = 0; i < n; i++) {
		uint8_t sym = st[i].received;
		st[i].seq = (uint16_t)(fb->base_seq + i);
		if (sym == 1) {
			t += (int64_t)fci[q] * TWCC_TICK_US;
			q += 1;
		} else if (sym == 2) {
			t += (int64_t)(int16_t)get_be16(fci + q) * TWCC_TICK_US;
			q += 2;
		}
		st[i].received = sym != 0;
		st[i].arrival_us = sym ? t : 0;
	}
	return (int)n;
}

/* floor division for the quantization of negative times */
static int64_t fdiv(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b && (a < 0)) ? q - 1 : q;
}

/* The symbol of status i (0 lost, 1 small delta, 2 large delta) given the previous received
 * arrival in ticks (*prev, advanced); -1 when its delta does not fit in 16 bits. */
static int sym_at(const struct twcc_status *st, unsigned i, int64_t *prev)
{
	if (!st[i].received)
		return 0;
	int64_t ticks = fdiv(st[i].arrival_us, TWCC_TICK_US), d = ticks - *prev;
	if (d < -32768 || d > 32767)
		return -1;
	*prev = ticks;
	return d >= 0 && d <= 255 ? 1 : 2;
}

uint32_t twcc_fb_build(uint8_t *buf, uint32_t cap, const struct twcc_fb *hdr, const struct twcc_status *st,
		       unsigned n)
{
	int64_t ref = fdiv(hdr->ref_us, TWCC_REF_US);
	int64_t ref_ticks = ref * (TWCC_REF_US / TWCC_TICK_US), prev = ref_ticks;
	uint32_t q = TWCC_HDR_LEN + 8;
	unsigned i = 0;

	if (!n || n > 65535 || cap < TWCC_HDR_LEN + 8)
		return 0;
	/* the chunks: symbols computed in order, with look-ahead from a copy of the delta state */
	while (i < n) {
		int64_t p = prev;
		int s0 = sym_at(st, i, &p), s;
		unsigned run = 1;
		uint16_t c;

		if (s0 < 0)
			return 0;
		while (i + run < n && run < 0x1fff) {
			int64_t p2 = p;
			if ((s = sym_at(st, i + run, &p2)) != s0)
				break;
			p = p2;
			run++;
		}
		if (run >= 7 || i + run == n) {
			c = (uint16_t)(s0 << 13 | run);
			prev = p;
			i += run;
		} else {
			int large = 0;
			p = prev;
			for (unsigned k = 0; k < 14 && i + k < n; k++) {
				if ((s = sym_at(st, i + k, &p)) < 0)
					return 0;
				large |= s == 2;
			}
			unsigned width = large ? 2 : 1, per = large ? 7 : 14;
			c = large ? 0xc000 : 0x8000;
			for (unsigned k = 0; k < per && i < n; k++, i++) {
				s = sym_at(st, i, &prev);
				c |= (uint16_t)(s << (14 - width * (k + 1)));
			}
		}
		if (q + 2 > cap)
			return 0;
		put_be16(buf + q, c);
		q += 2;
	}
	/* the deltas */
	prev = ref_ticks;
	for (i = 0; i < n; i++) {
		if (!st[i].received)
			continue;
		int64_t ticks = fdiv(st[i].arrival_us, TWCC_TICK_US), d = ticks - prev;
		prev = ticks;
		if (d >= 0 && d <= 255) {
			if (q + 1 > cap)
				return 0;
			buf[q++] = (uint8_t)d;
		} else {
			if (q + 2 > cap)
				return 0;
			put_be16(buf + q, (uint16_t)(int16_t)d);
			q += 2;
		}
	}
	while (q & 3) {
		if (q + 1 > cap)
			return 0;
		buf[q++] = 0;
	}
	buf[0] = 0x80 | RTCP_FMT_TWCC;
	buf[1] = RTCP_PT_RTPFB;
	put_be16(buf + 2, (uint16_t)(q / 4 - 1));
	put_be32(buf + 4, hdr->sender_ssrc);
	put_be32(buf + 8, hdr->media_ssrc);
	put_be16(buf + 12, hdr->base_seq);
	put_be16(buf + 14, (uint16_t)n);
	put_be32(buf + 16, (uint32_t)(ref & 0xffffff) << 8 | hdr->fb_count);
	return q;
}
