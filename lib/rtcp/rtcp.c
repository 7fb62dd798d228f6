/*
 * rtcp.c - RTCP check, item walk and builders (rtcp.h).
 *
 * One walker does both jobs: rtcp_check() runs rtcp_iter_next() over the whole datagram and returns
 * the reason it stopped on, so a datagram the check accepts is exactly one the walk reads to its end,
 * and the walk never reads a byte the check has not bounded. Each packet is bounded when the walk
 * enters it (version, type, length word, padding, the size its counts need); structures inside it
 * (SDES items, XR blocks, TWCC chunks) are bounded as they are read.
 *
 * Offsets are relative to the start of the datagram; every RTCP packet is a multiple of 4 bytes long
 * (its length word counts 32-bit words), so packets start 32-bit aligned relative to it. A packet's
 * body is what follows its 4-byte header up to its padding.
 */
#include <string.h>
#include "rtcp.h"
#include "be_bytes.h"

enum { ST_PACKET, ST_BLOCKS, ST_SDES, ST_NACK, ST_FIR, ST_XR, ST_DLRR, ST_DONE };

static inline uint32_t align4(uint32_t x)
{
	return (x + 3u) & ~3u;
}

/* ---- the walk ------------------------------------------------------------------------------------ */

void rtcp_iter_init(struct rtcp_iter *it, const uint8_t *p, uint32_t len)
{
	memset(it, 0, sizeof(*it));
	it->p = p;
	it->len = len;
	it->state = ST_PACKET;
	if (len > 65535) {              /* longer than any UDP datagram: the uint16_t lengths hold */
		it->err = MMR_DROP_BAD_RTCP;
		it->state = ST_DONE;
	}
}

static int fail(struct rtcp_iter *it, enum mmr_drop_reason r)
{
	it->err = (uint8_t)r;
	it->state = ST_DONE;
	return -1;
}

/* fail() for the states, which return 0 at the end */
static int stop(struct rtcp_iter *it, enum mmr_drop_reason r)
{
	fail(it, r);
	return 0;
}

static void item_head(const struct rtcp_iter *it, struct rtcp_item *item, enum rtcp_item_type type)
{
	memset(item, 0, sizeof(*item));
	item->type = type;
	item->pt = it->pt;
	item->fmt = it->fmt;
	item->sender_ssrc = it->ssrc;
	item->media_ssrc = it->media;
}

/* The rest of the packet as an OTHER item. */
static int item_other(struct rtcp_iter *it, struct rtcp_item *item, uint32_t off)
{
	item_head(it, item, RTCP_ITEM_OTHER);
	item->u.other.body = it->p + off + 4;
	item->u.other.len = (uint16_t)(it->end - off - 4);
	it->state = ST_PACKET;
	return 1;
}

/* Transport-wide feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01, 3.1): the FCI at q
 * holds base seq, status count (> 0), reference time, feedback count, then packet status chunks
 * covering status count packets, then one receive delta (1 or 2 bytes) per received packet, then
 * at most 3 bytes of zero padding before end. Returns the FCI's length up to its last delta, 0 when
 * it does not fit. */
static uint32_t twcc_len(const uint8_t *p, uint32_t q, uint32_t end, uint16_t count)
{
	uint32_t seen = 0, deltas = 0, fci = q;

	q += 8;
	while (seen < count) {
		if (q + 2 > end)
			return 0;
		uint16_t c = get_be16(p + q);
		q += 2;
		if (!(c & 0x8000)) {                    /* run length: symbol, 13-bit run */
			uint32_t sym = (c >> 13) & 3, run = c & 0x1fff;
			if (run > count - seen)
				run = count - seen;
			if (sym == 3 && run)
				return 0;
			deltas += sym * run;            /* 0: not received, 1: one byte, 2: two */
			seen += run;
		} else if (!(c & 0x4000)) {             /* 14 one-bit symbols */
			for (int i = 13; i >= 0 && seen < count; i--, seen++)
				deltas += (c >> i) & 1;
		} else {                                /* 7 two-bit symbols */
			for (int i = 12; i >= 0 && seen < count; i -= 2, seen++) {
				uint32_t sym = (c >> i) & 3;
				if (sym == 3)
					return 0;
				deltas += sym;
			}
		}
	}
	if (q + deltas > end || end - (q + deltas) > 3)
		return 0;
	return q + deltas - fci;
}

/*
 * Enter the packet at it->next: bound it and emit its first item. Returns 1 (an item), 0 (entered a
 * packet whose items the states emit, or one without items: go on), -1 (bad), -2 (the end).
 */
static int enter(struct rtcp_iter *it, struct rtcp_item *item)
{
	const uint8_t *p = it->p;
	uint32_t off = it->next;

	if (off == it->len)
		return -2;
	if (it->len - off < 4)
		return fail(it, MMR_DROP_RTCP_TRUNCATED);
	if ((p[off] >> 6) != 2)
		return fail(it, MMR_DROP_BAD_RTCP);
	uint8_t cnt = p[off] & 0x1f, pt = p[off + 1];
	if (pt < 192 || pt > 223)
		return fail(it, MMR_DROP_BAD_RTCP);
	uint32_t plen = ((uint32_t)get_be16(p + off + 2) + 1) * 4;
	if (plen > it->len - off)
		return fail(it, MMR_DROP_RTCP_TRUNCATED);
	uint32_t end = off + plen;
	if (p[off] & 0x20) {
		/* padding: only on the last packet; its last byte counts the padding bytes, itself
		 * included, inside the packet's body (RFC 3550 6.4.1; Chrome pads TWCC to 32 bits
		 * with 1..3 bytes, so the count need not be a multiple of 4) */
		uint8_t pad = p[end - 1];
		if (end != it->len || pad == 0 || pad > plen - 4)
			return fail(it, MMR_DROP_BAD_RTCP);
		end -= pad;
	}
	it->next = off + plen;
	it->end = end;
	it->pt = pt;
	it->fmt = cnt;
	it->ssrc = 0;
	it->media = 0;
	it->left = 0;
	it->pos = off + 4;

	uint32_t body = end - off - 4;
	int aligned = (body & 3) == 0;

	switch (pt) {
	case RTCP_PT_SR:
		if (!aligned || body < 24 + 24u * cnt)
			return fail(it, MMR_DROP_BAD_RTCP);
		it->ssrc = get_be32(p + off + 4);
		item_head(it, item, RTCP_ITEM_SR);
		item->u.sr.ntp = get_be64(p + off + 8);
		item->u.sr.rtp_ts = get_be32(p + off + 16);
		item->u.sr.pkts = get_be32(p + off + 20);
		item->u.sr.octets = get_be32(p + off + 24);
		item->u.sr.n_rb = cnt;
		it->pos = off + 28;
		it->left = cnt;
		it->state = ST_BLOCKS;
		return 1;
	case RTCP_PT_RR:
		if (!aligned || body < 4 + 24u * cnt)
			return fail(it, MMR_DROP_BAD_RTCP);
		it->ssrc = get_be32(p + off + 4);
		it->pos = off + 8;
		it->left = cnt;
		it->state = ST_BLOCKS;
		return 0;
	case RTCP_PT_SDES:
		if (!aligned || (cnt == 0 && body != 0))
			return fail(it, MMR_DROP_BAD_RTCP);
		it->left = cnt;
		it->state = ST_SDES;
		return 0;
	case RTCP_PT_BYE: {
		if (!aligned || body < 4u * cnt)
			return fail(it, MMR_DROP_BAD_RTCP);
		uint32_t rest = body - 4u * cnt;
		item_head(it, item, RTCP_ITEM_BYE);
		if (cnt)
			item->sender_ssrc = get_be32(p + off + 4);
		item->u.bye.n_ssrcs = cnt;
		item->u.bye.ssrcs = p + off + 4;
		if (rest) {
			/* reason: length byte and text, zero-padded to 32 bits: nothing else */
			uint32_t r = off + 4 + 4u * cnt;
			uint8_t rlen = p[r];
			if (align4(1u + rlen) != rest)
				return fail(it, MMR_DROP_BAD_RTCP);
			item->u.bye.reason = p + r + 1;
			item->u.bye.reason_len = rlen;
		}
		it->state = ST_PACKET;
		return 1;
	}
	case RTCP_PT_APP:
		if (!aligned || body < 8)
			return fail(it, MMR_DROP_BAD_RTCP);
		it->ssrc = get_be32(p + off + 4);
		item_head(it, item, RTCP_ITEM_APP);
		item->u.app.subtype = cnt;
		item->u.app.name = p + off + 8;
		item->u.app.data = p + off + 12;
		item->u.app.len = (uint16_t)(body - 8);
		it->state = ST_PACKET;
		return 1;
	case RTCP_PT_RTPFB:
	case RTCP_PT_PSFB: {
		if (body < 8)
			return fail(it, MMR_DROP_BAD_RTCP);
		it->ssrc = get_be32(p + off + 4);
		it->media = get_be32(p + off + 8);
		it->pos = off + 12;
		uint32_t fci = body - 8;
		if (pt == RTCP_PT_RTPFB && cnt == RTCP_FMT_NACK) {
			if (fci == 0 || (fci & 3))
				return fail(it, MMR_DROP_BAD_RTCP);
			it->state = ST_NACK;
			return 0;
		}
		if (pt == RTCP_PT_RTPFB && cnt == RTCP_FMT_TWCC) {
			uint32_t used = fci < 8 || get_be16(p + off + 14) == 0 ? 0 :
					twcc_len(p, off + 12, end, get_be16(p + off + 14));
			if (!used)
				return fail(it, MMR_DROP_BAD_RTCP);
			item_head(it, item, RTCP_ITEM_TWCC);
			item->u.twcc.fci = p + off + 12;
			item->u.twcc.len = (uint16_t)used;
			item->u.twcc.base_seq = get_be16(p + off + 12);
			item->u.twcc.status_count = get_be16(p + off + 14);
			item->u.twcc.ref_time = (int32_t)(get_be32(p + off + 16) & 0xffffff00) >> 8;
			item->u.twcc.fb_count = p[off + 19];
			it->state = ST_PACKET;
			return 1;
		}
		if (pt == RTCP_PT_PSFB && cnt == RTCP_FMT_PLI) {
			if (fci != 0)
				return fail(it, MMR_DROP_BAD_RTCP);
			item_head(it, item, RTCP_ITEM_PLI);
			it->state = ST_PACKET;
			return 1;
		}
		if (pt == RTCP_PT_PSFB && cnt == RTCP_FMT_FIR) {
			if (fci == 0 || (fci & 7))
				return fail(it, MMR_DROP_BAD_RTCP);
			it->state = ST_FIR;
			return 0;
		}
		if (pt == RTCP_PT_PSFB && cnt == RTCP_FMT_AFB && fci >= 4 && !memcmp(p + off + 12, "REMB", 4)) {
			if (fci < 8 || fci != 8 + 4u * p[off + 16])
				return fail(it, MMR_DROP_BAD_RTCP);
			uint32_t v = get_be32(p + off + 16);
			uint32_t e = (v >> 18) & 0x3f;
			uint64_t m = v & 0x3ffff;
			item_head(it, item, RTCP_ITEM_REMB);
			/* saturate what 64 bits cannot hold (exponent > 46 with a wide mantissa) */
			item->u.remb.bitrate_bps = m && e > 63 - 18 && (m >> (64 - e)) ? UINT64_MAX : m << e;
			item->u.remb.n_ssrcs = p[off + 16];
			item->u.remb.ssrcs = p + off + 20;
			it->state = ST_PACKET;
			return 1;
		}
		return item_other(it, item, off);
	}
	case RTCP_PT_XR:
		if (!aligned || body < 4)
			return fail(it, MMR_DROP_BAD_RTCP);
		it->ssrc = get_be32(p + off + 4);
		it->pos = off + 8;
		it->state = ST_XR;
		return 0;
	default:
		if (body >= 4)
			it->ssrc = get_be32(p + off + 4);
		return item_other(it, item, off);
	}
}

int rtcp_iter_next(struct rtcp_iter *it, struct rtcp_item *item)
{
	const uint8_t *p = it->p;

	for (;;) {
		switch (it->state) {
		case ST_PACKET: {
			int r = enter(it, item);
			if (r == 1)
				return 1;
			if (r < 0) {
				it->state = ST_DONE;
				return 0;
			}
			continue;
		}
		case ST_BLOCKS: {
			/* report blocks: bounded when the packet was entered */
			if (it->left == 0) {
				it->state = ST_PACKET;
				continue;
			}
			const uint8_t *q = p + it->pos;
			item_head(it, item, RTCP_ITEM_RR);
			item->u.rb.ssrc = get_be32(q);
			item->media_ssrc = item->u.rb.ssrc;
			item->u.rb.fraction_lost = q[4];
			item->u.rb.cum_lost = (int32_t)(get_be32(q + 4) << 8) >> 8;
			item->u.rb.ext_high_seq = get_be32(q + 8);
			item->u.rb.jitter = get_be32(q + 12);
			item->u.rb.lsr = get_be32(q + 16);
			item->u.rb.dlsr = get_be32(q + 20);
			it->pos += 24;
			it->left--;
			return 1;
		}
		case ST_SDES: {
			/* chunks: SSRC, items (type, length, text) up to an END (a zero type byte), zero
			 * bytes up to the next 32-bit boundary; exactly SC chunks fill the body */
			if (it->left == 0) {
				if (it->pos != it->end)
					return stop(it, MMR_DROP_BAD_RTCP);
				it->state = ST_PACKET;
				continue;
			}
			uint32_t q = it->pos, end = it->end;
			if (end - q < 8)        /* SSRC and at least one END word */
				return stop(it, MMR_DROP_BAD_RTCP);
			item_head(it, item, RTCP_ITEM_SDES);
			item->sender_ssrc = get_be32(p + q);
			q += 4;
			for (;;) {
				if (q >= end)
					return stop(it, MMR_DROP_BAD_RTCP);
				uint8_t t = p[q];
				if (t == 0) {
					q = align4(q + 1);
					break;
				}
				if (end - q < 2 || end - q - 2 < p[q + 1])
					return stop(it, MMR_DROP_BAD_RTCP);
				if (t == RTCP_SDES_CNAME && !item->u.sdes.cname) {
					item->u.sdes.cname = p + q + 2;
					item->u.sdes.cname_len = p[q + 1];
				}
				q += 2u + p[q + 1];
			}
			if (q > end)
				return stop(it, MMR_DROP_BAD_RTCP);
			it->pos = q;
			it->left--;
			return 1;
		}
		case ST_NACK: {
			if (it->pos == it->end) {
				it->state = ST_PACKET;
				continue;
			}
			item_head(it, item, RTCP_ITEM_NACK);
			item->u.nack.pid = get_be16(p + it->pos);
			item->u.nack.blp = get_be16(p + it->pos + 2);
			it->pos += 4;
			return 1;
		}
		case ST_FIR: {
			if (it->pos == it->end) {
				it->state = ST_PACKET;
				continue;
			}
			item_head(it, item, RTCP_ITEM_FIR);
			item->u.fir.ssrc = get_be32(p + it->pos);
			item->u.fir.seq = p[it->pos + 4];
			item->media_ssrc = item->u.fir.ssrc;
			it->pos += 8;
			return 1;
		}
		case ST_XR: {
			/* report blocks: BT, type-specific byte, length in 32-bit words after this header */
			if (it->pos == it->end) {
				it->state = ST_PACKET;
				continue;
			}
			uint32_t q = it->pos;
			if (it->end - q < 4)
				return stop(it, MMR_DROP_BAD_RTCP);
			uint8_t bt = p[q];
			uint32_t blen = (uint32_t)get_be16(p + q + 2) * 4;
			if (it->end - q - 4 < blen)
				return stop(it, MMR_DROP_BAD_RTCP);
			if (bt == RTCP_XR_RRTR) {
				if (blen != 8)
					return stop(it, MMR_DROP_BAD_RTCP);
				item_head(it, item, RTCP_ITEM_XR_RRTR);
				item->u.rrtr.ntp = get_be64(p + q + 4);
				it->pos = q + 4 + blen;
				return 1;
			}
			if (bt == RTCP_XR_DLRR) {
				if (blen % 12)
					return stop(it, MMR_DROP_BAD_RTCP);
				it->pos = q + 4;
				it->left = (uint16_t)(blen / 12);
				it->state = ST_DLRR;
				continue;
			}
			item_head(it, item, RTCP_ITEM_XR_OTHER);
			item->u.xr.bt = bt;
			item->u.xr.type_specific = p[q + 1];
			item->u.xr.data = p + q + 4;
			item->u.xr.len = (uint16_t)blen;
			it->pos = q + 4 + blen;
			return 1;
		}
		case ST_DLRR: {
			if (it->left == 0) {
				it->state = ST_XR;
				continue;
			}
			const uint8_t *q = p + it->pos;
			item_head(it, item, RTCP_ITEM_XR_DLRR);
			item->u.dlrr.ssrc = get_be32(q);
			item->u.dlrr.lrr = get_be32(q + 4);
			item->u.dlrr.dlrr = get_be32(q + 8);
			item->media_ssrc = item->u.dlrr.ssrc;
			it->pos += 12;
			it->left--;
			return 1;
		}
		default:
			return 0;
		}
	}
}

enum mmr_drop_reason rtcp_check(const uint8_t *p, uint32_t len, int require_compound)
{
	struct rtcp_iter it;
	struct rtcp_item item;

	if (len == 0)
		return MMR_DROP_RTCP_TRUNCATED;
	rtcp_iter_init(&it, p, len);
	while (rtcp_iter_next(&it, &item))
		;
	if (it.err)
		return (enum mmr_drop_reason)it.err;
	/* RFC 3550 A.2: a compound packet starts with SR or RR (the walk bounded this header) */
	if (require_compound && p[1] != RTCP_PT_SR && p[1] != RTCP_PT_RR)
		return MMR_DROP_RTCP_NOT_COMPOUND;
	return MMR_DROP_NONE;
}

unsigned rtcp_nack_seqs(uint16_t pid, uint16_t blp, uint16_t seqs[17])
{
	unsigned n = 0;

	seqs[n++] = pid;
	for (unsigned i = 0; i < 16; i++)
		if (blp & (1u << i))
			seqs[n++] = (uint16_t)(pid + i + 1);
	return n;
}

/* ---- builders ------------------------------------------------------------------------------------ */

/* The largest RTCP packet: a 16-bit length word of 32-bit words, minus one. */
#define RTCP_MAX_PACKET (65536u * 4)

void rtcp_build_init(struct rtcp_builder *b, uint8_t *buf, uint32_t cap)
{
	b->buf = buf;
	b->cap = cap;
	b->len = 0;
	b->last = 0;
	b->overflow = 0;
}

/* Reserve a packet of n bytes (a multiple of 4) with its header written; NULL (and overflow) when
 * it does not fit. */
static uint8_t *start(struct rtcp_builder *b, uint32_t n, uint8_t cnt, uint8_t pt)
{
	if (b->overflow || b->len > b->cap || n > RTCP_MAX_PACKET || n > b->cap - b->len) {
		b->overflow = 1;
		return NULL;
	}
	uint8_t *q = b->buf + b->len;
	memset(q, 0, n);
	q[0] = (uint8_t)(0x80 | (cnt & 0x1f));
	q[1] = pt;
	put_be16(q + 2, (uint16_t)(n / 4 - 1));
	b->last = b->len;
	b->len += n;
	return q;
}

static int refuse(struct rtcp_builder *b)
{
	b->overflow = 1;
	return 0;
}

static void put_block(uint8_t *q, const struct rtcp_report_block *rb)
{
	put_be32(q, rb->ssrc);
	put_be32(q + 4, (uint32_t)rb->cum_lost & 0xffffff);
	q[4] = rb->fraction_lost;
	put_be32(q + 8, rb->ext_high_seq);
	put_be32(q + 12, rb->jitter);
	put_be32(q + 16, rb->lsr);
	put_be32(q + 20, rb->dlsr);
}

void rtcp_build_sr(struct rtcp_builder *b, uint32_t ssrc, uint64_t ntp, uint32_t rtp_ts, uint32_t pkts,
		   uint32_t octets, const struct rtcp_report_block *rb, unsigned n)
{
	if (n > RTCP_MAX_RB) {
		refuse(b);
		return;
	}
	uint8_t *q = start(b, 28 + 24 * n, (uint8_t)n, RTCP_PT_SR);
	if (!q)
		return;
	put_be32(q + 4, ssrc);
	put_be64(q + 8, ntp);
	put_be32(q + 16, rtp_ts);
	put_be32(q + 20, pkts);
	put_be32(q + 24, octets);
	for (unsigned i = 0; i < n; i++)
		put_block(q + 28 + 24 * i, &rb[i]);
}

void rtcp_build_rr(struct rtcp_builder *b, uint32_t ssrc, const struct rtcp_report_block *rb, unsigned n)
{
	if (n > RTCP_MAX_RB) {
		refuse(b);
		return;
	}
	uint8_t *q = start(b, 8 + 24 * n, (uint8_t)n, RTCP_PT_RR);
	if (!q)
		return;
	put_be32(q + 4, ssrc);
	for (unsigned i = 0; i < n; i++)
		put_block(q + 8 + 24 * i, &rb[i]);
}

void rtcp_build_sdes_cname(struct rtcp_builder *b, uint32_t ssrc, const char *cname)
{
	size_t l = cname ? strlen(cname) : 0;
	uint8_t clen = l > 255 ? 255 : (uint8_t)l;
	/* header, SSRC, CNAME item, END, zeros to 32 bits */
	uint8_t *q = start(b, 4 + align4(4 + 2 + clen + 1), 1, RTCP_PT_SDES);
	if (!q)
		return;
	put_be32(q + 4, ssrc);
	q[8] = RTCP_SDES_CNAME;
	q[9] = clen;
	if (clen)
		memcpy(q + 10, cname, clen);
}

void rtcp_build_bye(struct rtcp_builder *b, const uint32_t *ssrcs, unsigned n, const char *reason)
{
	size_t l = reason ? strlen(reason) : 0;
	uint8_t rlen = l > 255 ? 255 : (uint8_t)l;

	if (n > 31) {
		refuse(b);
		return;
	}
	uint8_t *q = start(b, 4 + 4 * n + (reason ? align4(1u + rlen) : 0), (uint8_t)n, RTCP_PT_BYE);
	if (!q)
		return;
	for (unsigned i = 0; i < n; i++)
		put_be32(q + 4 + 4 * i, ssrcs[i]);
	if (reason) {
		q[4 + 4 * n] = rlen;
		memcpy(q + 5 + 4 * n, reason, rlen);
	}
}

/* The greedy packing of rtcp_build_nack: writes the entries to fci (when not NULL); returns their count. */
static unsigned nack_pack(const uint16_t *seqs, unsigned n, uint8_t *fci)
{
	unsigned entries = 0;
	uint16_t pid = 0, blp = 0;

	for (unsigned i = 0; i < n; i++) {
		uint16_t d = (uint16_t)(seqs[i] - pid);
		if (entries && d == 0)
			continue;
		if (entries && d <= 16) {
			blp |= (uint16_t)(1u << (d - 1));
			continue;
		}
		if (entries && fci) {
			put_be16(fci + 4 * (entries - 1), pid);
			put_be16(fci + 4 * (entries - 1) + 2, blp);
		}
		entries++;
		pid = seqs[i];
		blp = 0;
	}
	if (entries && fci) {
		put_be16(fci + 4 * (entries - 1), pid);
		put_be16(fci + 4 * (entries - 1) + 2, blp);
	}
	return entries;
}

void rtcp_build_nack(struct rtcp_builder *b, uint32_t sender, uint32_t media, const uint16_t *seqs, unsigned n)
{
	if (n == 0)
		return;
	unsigned entries = nack_pack(seqs, n, NULL);
	uint8_t *q = start(b, 12 + 4 * entries, RTCP_FMT_NACK, RTCP_PT_RTPFB);
	if (!q)
		return;
	put_be32(q + 4, sender);
	put_be32(q + 8, media);
	nack_pack(seqs, n, q + 12);
}

void rtcp_build_pli(struct rtcp_builder *b, uint32_t sender, uint32_t media)
{
	uint8_t *q = start(b, 12, RTCP_FMT_PLI, RTCP_PT_PSFB);
	if (!q)
		return;
	put_be32(q + 4, sender);
	put_be32(q + 8, media);
}

void rtcp_build_fir_n(struct rtcp_builder *b, uint32_t sender, const uint32_t *ssrcs, const uint8_t *seqs,
		      unsigned n)
{
	if (n == 0 || n > RTCP_MAX_PACKET / 8) {
		refuse(b);
		return;
	}
	uint8_t *q = start(b, 12 + 8 * n, RTCP_FMT_FIR, RTCP_PT_PSFB);
	if (!q)
		return;
	put_be32(q + 4, sender);
	/* media source: unused by FIR (RFC 5104 4.3.1.2), zero */
	for (unsigned i = 0; i < n; i++) {
		put_be32(q + 12 + 8 * i, ssrcs[i]);
		q[16 + 8 * i] = seqs[i];
	}
}

void rtcp_build_fir(struct rtcp_builder *b, uint32_t sender, uint32_t media, uint8_t seq)
{
	rtcp_build_fir_n(b, sender, &media, &seq, 1);
}

void rtcp_build_remb(struct rtcp_builder *b, uint32_t sender, uint64_t bitrate_bps, const uint32_t *ssrcs,
		     unsigned n)
{
	uint32_t e = 0;

	if (n > 255) {
		refuse(b);
		return;
	}
	while (bitrate_bps > 0x3ffff) {
		bitrate_bps >>= 1;
		e++;
	}
	uint8_t *q = start(b, 20 + 4 * n, RTCP_FMT_AFB, RTCP_PT_PSFB);
	if (!q)
		return;
	put_be32(q + 4, sender);
	memcpy(q + 12, "REMB", 4);
	put_be32(q + 16, (uint32_t)n << 24 | e << 18 | (uint32_t)bitrate_bps);
	for (unsigned i = 0; i < n; i++)
		put_be32(q + 20 + 4 * i, ssrcs[i]);
}

void rtcp_build_twcc(struct rtcp_builder *b, uint32_t sender, uint32_t media, const uint8_t *fci, uint16_t len)
{
	if (len < 8) {
		refuse(b);
		return;
	}
	uint8_t *q = start(b, 12 + align4(len), RTCP_FMT_TWCC, RTCP_PT_RTPFB);
	if (!q)
		return;
	put_be32(q + 4, sender);
	put_be32(q + 8, media);
	memcpy(q + 12, fci, len);
}

void rtcp_build_xr(struct rtcp_builder *b, uint32_t ssrc, const uint64_t *rrtr_ntp,
		   const struct rtcp_dlrr_block *dlrr, unsigned n)
{
	if (n > 65535 / 3) {
		refuse(b);
		return;
	}
	uint8_t *q = start(b, 8 + (rrtr_ntp ? 12 : 0) + (n ? 4 + 12 * n : 0), 0, RTCP_PT_XR);
	if (!q)
		return;
	put_be32(q + 4, ssrc);
	q += 8;
	if (rrtr_ntp) {
		q[0] = RTCP_XR_RRTR;
		put_be16(q + 2, 2);
		put_be64(q + 4, *rrtr_ntp);
		q += 12;
	}
	if (n) {
		q[0] = RTCP_XR_DLRR;
		put_be16(q + 2, (uint16_t)(3 * n));
		for (unsigned i = 0; i < n; i++) {
			put_be32(q + 4 + 12 * i, dlrr[i].ssrc);
			put_be32(q + 8 + 12 * i, dlrr[i].lrr);
			put_be32(q + 12 + 12 * i, dlrr[i].dlrr);
		}
	}
}

void rtcp_build_xr_rrtr(struct rtcp_builder *b, uint32_t ssrc, uint64_t ntp)
{
	rtcp_build_xr(b, ssrc, &ntp, NULL, 0);
}

void rtcp_build_xr_dlrr(struct rtcp_builder *b, uint32_t ssrc, uint32_t sub_ssrc, uint32_t lrr, uint32_t dlrr)
{
	struct rtcp_dlrr_block d = { sub_ssrc, lrr, dlrr };

	rtcp_build_xr(b, ssrc, NULL, &d, 1);
}

void rtcp_build_app(struct rtcp_builder *b, uint32_t ssrc, uint8_t subtype, const char name[4],
		    const uint8_t *data, uint16_t len)
{
	if ((len & 3) || subtype > 31) {
		refuse(b);
		return;
	}
	uint8_t *q = start(b, 12u + len, subtype, RTCP_PT_APP);
	if (!q)
		return;
	put_be32(q + 4, ssrc);
	memcpy(q + 8, name, 4);
	if (len)
		memcpy(q + 12, data, len);
}

void rtcp_build_pad_last(struct rtcp_builder *b, unsigned pad_bytes)
{
	if (b->overflow || b->len == 0 || pad_bytes < 4 || pad_bytes > 252 || (pad_bytes & 3) ||
	    pad_bytes > b->cap - b->len || b->len - b->last + pad_bytes > RTCP_MAX_PACKET) {
		refuse(b);
		return;
	}
	uint8_t *q = b->buf + b->last;
	memset(b->buf + b->len, 0, pad_bytes);
	b->len += pad_bytes;
	b->buf[b->len - 1] = (uint8_t)pad_bytes;
	q[0] |= 0x20;
	put_be16(q + 2, (uint16_t)((b->len - b->last) / 4 - 1));
}

uint32_t rtcp_build_end(struct rtcp_builder *b)
{
	return b->overflow ? 0 : b->len;
}
