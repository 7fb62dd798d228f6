/*
 * ssrc_learn.c - the mid/rid/repaired-rid match and the report rate limit of ssrc_learn.h.
 */
#include "ssrc_learn.h"

#include <string.h>

/* Element `id` as a token of 1..MMR_MID_MAX bytes: 1 found (*at, *len), 0 absent or unusable,
 * -1 the block is malformed before it. */
static int token(const uint8_t *p, const struct rtp_info *ri, uint8_t id, const uint8_t **at, unsigned *len)
{
	uint16_t off, elen;
	int r = rtp_find_ext(p, ri, id, &off, &elen);
	if (r <= 0)
		return r;
	if (elen == 0 || elen > MMR_MID_MAX)
		return 0;
	*at = p + off;
	*len = elen;
	return 1;
}

int ssrc_learn_header(const uint8_t *p, uint32_t len, struct rtp_info *ri)
{
	if (len < 12 || len > 65535 || (p[0] >> 6) != 2)
		return -1;
	memset(ri, 0, sizeof(*ri));
	ri->has_padding = (p[0] >> 5) & 1;
	ri->has_ext = (p[0] >> 4) & 1;
	ri->cc = p[0] & 0x0f;
	ri->marker = p[1] >> 7;
	ri->pt = p[1] & 0x7f;
	ri->seq = (uint16_t)(p[2] << 8 | p[3]);
	ri->ts = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
	ri->ssrc = (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 | (uint32_t)p[10] << 8 | p[11];
	uint32_t hlen = 12u + 4u * ri->cc;
	if (hlen > len)
		return -1;
	if (ri->has_ext) {
		if (len - hlen < 4)
			return -1;
		uint32_t elen = 4u * (uint32_t)(p[hlen + 2] << 8 | p[hlen + 3]);
		if (elen > len - hlen - 4)
			return -1;
		ri->ext_profile = (uint16_t)(p[hlen] << 8 | p[hlen + 1]);
		ri->ext_off = (uint16_t)(hlen + 4);
		ri->ext_len = (uint16_t)elen;
		hlen += 4 + elen;
	}
	ri->hdr_len = (uint16_t)hlen;
	ri->payload_len = (uint16_t)(len - hlen);
	return 0;
}

int ssrc_learn_match(const uint8_t *p, const struct rtp_info *ri, const struct learn_ext_ids *ids,
		     const struct mmr_learn *e, unsigned n, unsigned *idx, uint8_t *what)
{
	const uint8_t *mid, *rid = NULL;
	unsigned mid_len, rid_len = 0;
	uint8_t need = MMR_LEARN_MEDIA;
	int r;

	if (!ids->mid || !ri->has_ext || n == 0)
		return 0;
	if ((r = token(p, ri, ids->mid, &mid, &mid_len)) <= 0)
		return r;
	if (ids->rrid && (r = token(p, ri, ids->rrid, &rid, &rid_len)) != 0) {
		if (r < 0)
			return r;
		need = MMR_LEARN_RTX;
	} else if (ids->rid && (r = token(p, ri, ids->rid, &rid, &rid_len)) < 0) {
		return r;
	}
	if (n > MMR_LEARN_MAX)
		n = MMR_LEARN_MAX;
	for (unsigned i = 0; i < n; i++) {
		if (e[i].mid_len != mid_len || memcmp(e[i].mid, mid, mid_len) != 0)
			continue;
		if (e[i].rid_len != rid_len || (rid_len && memcmp(e[i].rid, rid, rid_len) != 0))
			continue;
		if (!(e[i].need & need))
			return 0;   /* already known: another SSRC for it is no new stream */
		*idx = i;
		*what = need;
		return 1;
	}
	return 0;
}

int learn_limit_allow(struct learn_limit *l, uint32_t ssrc, uint64_t now, uint64_t gap)
{
	if (now - l->win_start >= gap) {
		l->win_start = now;
		l->win_n = 0;
	}
	if (l->win_n >= LEARN_LIMIT_BURST)
		return 0;
	unsigned i;
	for (i = 0; i < l->used && l->ssrc[i] != ssrc; i++)
		;
	if (i < l->used) {
		if (now - l->at[i] < gap)
			return 0;
	} else {
		i = l->next;
		l->next = (uint8_t)((l->next + 1) % LEARN_LIMIT_SLOTS);
		if (l->used < LEARN_LIMIT_SLOTS)
			l->used++;
		l->ssrc[i] = ssrc;
	}
	l->at[i] = now;
	l->win_n++;
	return 1;
}
