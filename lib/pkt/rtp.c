/*
 * rtp.c - the RTP header parser and writers of rtp.h.
 *
 * Layout (RFC 3550 5.1): V(2) P X CC(4) | M PT(7) | seq(16) | ts(32) | ssrc(32) | CSRC x CC |
 * [extension: profile(16) length-in-words(16) data] | payload | [padding, last byte = its count].
 * The extension is recorded whatever its profile (0xBEDE one-byte and 0x100x two-byte elements of
 * RFC 8285 are the common ones); rtp_parse does not walk its elements, rtp_find_ext does on demand.
 *
 * Verdicts: fewer than 12 bytes -> TRUNCATED. Version other than 2, a CSRC list or extension that
 * runs past the end, a padding count of 0 or larger than what follows the header -> BAD_RTP
 * (stats.h counts those as a malformed header rather than a short packet).
 */
#include "rtp.h"

#include <string.h>
#include "be_bytes.h"

#define RTP_FIXED_HLEN  12
#define RTP_MAX_LEN     65535   /* a UDP payload is never larger; keeps offsets in 16 bits */

int rtp_is_rtcp(const uint8_t *p, uint32_t len)
{
	if (len < 2 || (p[0] >> 6) != 2)
		return 0;
	return p[1] >= 192 && p[1] <= 223;
}

enum mmr_drop_reason rtp_parse(const uint8_t *p, uint32_t len, struct rtp_info *ri)
{
	uint32_t hlen;

	if (len < RTP_FIXED_HLEN)
		return MMR_DROP_TRUNCATED;
	if ((p[0] >> 6) != 2 || len > RTP_MAX_LEN)
		return MMR_DROP_BAD_RTP;

	ri->has_padding = (p[0] >> 5) & 1;
	ri->has_ext = (p[0] >> 4) & 1;
	ri->cc = p[0] & 0x0f;
	ri->marker = p[1] >> 7;
	ri->pt = p[1] & 0x7f;
	ri->seq = get_be16(p + 2);
	ri->ts = get_be32(p + 4);
	ri->ssrc = get_be32(p + 8);
	ri->ext_profile = 0;
	ri->ext_off = 0;
	ri->ext_len = 0;
	ri->pad_len = 0;

	hlen = RTP_FIXED_HLEN + 4u * ri->cc;
	if (hlen > len)
		return MMR_DROP_BAD_RTP;
	if (ri->has_ext) {
		uint32_t elen;

		if (len - hlen < 4)
			return MMR_DROP_BAD_RTP;
		elen = 4u * get_be16(p + hlen + 2);
		if (elen > len - hlen - 4)
			return MMR_DROP_BAD_RTP;
		ri->ext_profile = get_be16(p + hlen);
		ri->ext_off = (uint16_t)(hlen + 4);
		ri->ext_len = (uint16_t)elen;
		hlen += 4 + elen;
	}
	if (ri->has_padding) {
		uint8_t pad = p[len - 1];

		if (pad == 0 || pad > len - hlen)
			return MMR_DROP_BAD_RTP;
		ri->pad_len = pad;
	}
	ri->hdr_len = (uint16_t)hlen;
	ri->payload_len = (uint16_t)(len - hlen - ri->pad_len);
	return MMR_DROP_NONE;
}

/*
 * The next RFC 8285 element at or after *pos in the extension block e (n bytes), padding (zero
 * bytes) skipped: 1 with its id, the offset of its data (*at) and its length, *pos past it; 0 at the
 * end of the block; -1 when the element runs past the block. One-byte form: |ID(4)|L(4)| then L+1
 * bytes; ID 15 is reserved: the walk stops there and only what came before counts; a non-zero byte
 * with ID 0 is no valid padding, and libwebrtc stops there too, so we do the same (0). Two-byte
 * form: |ID(8)|length(8)| then length bytes (0 allowed).
 */
static inline int ext_next(const uint8_t *e, uint32_t n, int one_byte, uint32_t *pos, uint8_t *id, uint32_t *at,
			   uint32_t *len)
{
	uint32_t i = *pos, hdr = one_byte ? 1u : 2u, elen;

	while (i < n && e[i] == 0)
		i++;
	if (i >= n)
		return 0;
	if (one_byte) {
		*id = e[i] >> 4;
		elen = (e[i] & 0x0fu) + 1u;
		if (*id == 0 || *id == 15)
			return 0;
	} else {
		if (n - i < 2)
			return -1;
		*id = e[i];
		elen = e[i + 1];
	}
	if (elen > n - i - hdr)
		return -1;
	*at = i + hdr;
	*len = elen;
	*pos = i + hdr + elen;
	return 1;
}

int rtp_find_ext(const uint8_t *p, const struct rtp_info *ri, uint8_t id, uint16_t *off, uint16_t *len)
{
	int one_byte = ri->ext_profile == 0xbede, r;
	uint32_t pos = 0, at, elen;
	uint8_t eid;

	if (!ri->has_ext || id == 0 || (one_byte ? id > 14 : (ri->ext_profile & 0xfff0) != 0x1000))
		return 0;
	while ((r = ext_next(p + ri->ext_off, ri->ext_len, one_byte, &pos, &eid, &at, &elen)) == 1) {
		if (eid == id) {
			*off = (uint16_t)(ri->ext_off + at);
			*len = (uint16_t)elen;
			return 1;
		}
	}
	return r;
}

static int id_in(uint8_t id, const uint8_t *ids, unsigned n)
{
	for (unsigned k = 0; k < n; k++)
		if (ids[k] && ids[k] == id)
			return 1;
	return 0;
}

int rtp_blank_ext(uint8_t *p, const struct rtp_info *ri, const uint8_t *ids, unsigned n)
{
	int one_byte = ri->ext_profile == 0xbede, blanked = 0;
	uint32_t pos = 0, at, elen, hdr = one_byte ? 1u : 2u;
	uint8_t eid;

	if (!ri->has_ext || (!one_byte && (ri->ext_profile & 0xfff0) != 0x1000))
		return 0;
	uint8_t *e = p + ri->ext_off;
	while (ext_next(e, ri->ext_len, one_byte, &pos, &eid, &at, &elen) == 1) {
		if (id_in(eid, ids, n)) {
			for (uint32_t k = at - hdr; k < at + elen; k++)
				e[k] = 0;
			blanked++;
		}
	}
	return blanked;
}

void rtp_set_seq(uint8_t *p, uint16_t seq)
{
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
}

void rtp_set_ssrc(uint8_t *p, uint32_t ssrc)
{
	p[8] = (uint8_t)(ssrc >> 24);
	p[9] = (uint8_t)(ssrc >> 16);
	p[10] = (uint8_t)(ssrc >> 8);
	p[11] = (uint8_t)ssrc;
}

int rtp_replace_ext(const uint8_t *p, uint32_t len, const struct rtp_info *ri, uint16_t off,
		    uint16_t old_len, const uint8_t *data, uint32_t dlen, uint8_t *out, uint32_t cap)
{
	uint32_t ext_end = (uint32_t)ri->ext_off + ri->ext_len;
	int one_byte = ri->ext_profile == 0xbede;

	if (!ri->has_ext || (!one_byte && (ri->ext_profile & 0xfff0) != 0x1000))
		return -1;
	if (off < ri->ext_off + (one_byte ? 1u : 2u) || (uint32_t)off + old_len > ext_end || ext_end > len)
		return -1;
	if (one_byte ? dlen < 1 || dlen > 16 : dlen > 255)
		return -1;
	uint32_t body = ri->ext_len - old_len + dlen;           /* new extension block content */
	uint32_t padded = (body + 3) & ~3u;
	uint32_t n = ri->ext_off + padded + (len - ext_end);
	if (n > cap || padded / 4 > 0xffff)
		return -1;
	uint32_t o = 0;
	memcpy(out, p, off);                                     /* header, block start, element header */
	o = off;
	if (one_byte)
		out[off - 1] = (uint8_t)((p[off - 1] & 0xf0) | (dlen - 1));
	else
		out[off - 1] = (uint8_t)dlen;
	memcpy(out + o, data, dlen);
	o += dlen;
	memcpy(out + o, p + off + old_len, ext_end - off - old_len);  /* the elements after it */
	o += ext_end - off - old_len;
	memset(out + o, 0, padded - body);                       /* padding bytes, valid in both forms */
	o += padded - body;
	memcpy(out + o, p + ext_end, len - ext_end);             /* payload and RTP padding */
	o += len - ext_end;
	out[ri->ext_off - 2] = (uint8_t)((padded / 4) >> 8);
	out[ri->ext_off - 1] = (uint8_t)(padded / 4);
	return (int)o;
}
