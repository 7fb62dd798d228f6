/*
 * audio_level.h - the client-to-mixer audio level header extension (RFC 6464,
 * urn:ietf:params:rtp-hdrext:ssrc-audio-level) of an RTP packet, in either RFC 8285 form (one-byte
 * IDs 1-14, two-byte IDs 1-255). Header extensions are not encrypted by SRTP, so this runs before
 * decryption. One data byte: V (voice activity, bit 7) | level (0-127, -dBov: 0 loudest, 127
 * silence). Pure C; never reads outside the packet.
 */
#ifndef MMR_AUDIO_LEVEL_H
#define MMR_AUDIO_LEVEL_H

#include <stdint.h>
#include "rtp.h"

#define AUDIO_LEVEL_SILENT 127u

/*
 * Level of RTP packet rtp (len bytes) from extension element ext_id. Returns 1 (found: *level
 * 0-127, *voice 0/1), 0 (no such element, no extension, ext_id 0, or the packet's extension has
 * another profile) or -1 (malformed: not an RTP packet rtp_parse accepts, an element before it runs
 * past the extension block, an element of another length than one byte, an ID the packet's form
 * cannot carry (one-byte form: 15)). *level and *voice are written only on 1.
 */
int audio_level_get(const uint8_t *rtp, uint32_t len, uint8_t ext_id, uint8_t *level, uint8_t *voice);

/* The same on a packet already parsed by rtp_parse (ri). */
int audio_level_find(const uint8_t *rtp, const struct rtp_info *ri, uint8_t ext_id, uint8_t *level,
		     uint8_t *voice);

#endif
