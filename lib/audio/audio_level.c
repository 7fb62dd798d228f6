/*
 * audio_level.c - RFC 6464 audio level from an RTP header extension element (audio_level.h), over
 * rtp_find_ext (RFC 8285 one-byte and two-byte forms).
 */
#include "audio_level.h"

int audio_level_find(const uint8_t *rtp, const struct rtp_info *ri, uint8_t ext_id, uint8_t *level,
		     uint8_t *voice)
{
	uint16_t off, len;

	if (ext_id == 0 || !ri->has_ext)
		return 0;
	int one_byte = ri->ext_profile == 0xBEDE;
	int two_byte = (ri->ext_profile & 0xfff0) == 0x1000;
	if (!one_byte && !two_byte)
		return 0;
	if (one_byte && ext_id > 14)
		return -1;
	int r = rtp_find_ext(rtp, ri, ext_id, &off, &len);
	if (r <= 0)
		return r;
	if (len != 1)
		return -1;
	*voice = rtp[off] >> 7;
	*level = rtp[off] & 0x7f;
	return 1;
}

int audio_level_get(const uint8_t *rtp, uint32_t len, uint8_t ext_id, uint8_t *level, uint8_t *voice)
{
	struct rtp_info ri;

	if (ext_id == 0)
		return 0;
	if (rtp_parse(rtp, len, &ri) != MMR_DROP_NONE)
		return -1;
	return audio_level_find(rtp, &ri, ext_id, level, voice);
}
