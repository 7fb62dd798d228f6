/*
 * rtp.c - the RTP header parser and writers of rtp.h.
 *
 * Layout (RFC 3550 5.1): V(2) P X CC(4) | M PT(7) | seq(16) | ts(32) | ssrc(32) | CSRC x CC |
 * [extension: profile(16) length-in-words(16) data] | payload | [padding, last byte = its count].
 * The extension is recorded whatever its profile (0xBEDE one-byte and 0x100x two-byte elements of
 * RFC 8285 are the common ones); its elements are not walked here.
 *
 * Verdicts: fewer than 12 bytes -> TRUNCATED. Version other than 2, a CSRC list or extension that
 * runs past the end, a padding count of 0 or larger than what follows the header -> BAD_RTP
 * (stats.h counts those as a malformed header rather than a short packet).
 */
#include "rtp.h"

#define RTP_FIXED_HLEN  12
#define RTP_MAX_LEN     65535   /* a UDP payload is never larger; keeps offsets in 16 bits */

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

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
	ri->seq = rd16(p + 2);
	ri->ts = rd32(p + 4);
	ri->ssrc = rd32(p + 8);
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
		elen = 4u * rd16(p + hlen + 2);
		if (elen > len - hlen - 4)
			return MMR_DROP_BAD_RTP;
		ri->ext_profile = rd16(p + hlen);
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
