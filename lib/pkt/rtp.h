/*
 * rtp.h - RTP fixed header, CSRC list, header extension (RFC 3550, RFC 8285) and padding, and the
 * RTP/RTCP demultiplexing of RFC 5761. Pure C over a byte buffer; never reads outside it.
 */
#ifndef MMR_RTP_H
#define MMR_RTP_H

#include <stdint.h>
#include "drop_reason.h"

struct rtp_info {
	uint8_t  pt;            /* payload type (7 bits) */
	uint8_t  marker;
	uint8_t  cc;            /* CSRC count */
	uint8_t  has_ext;
	uint8_t  has_padding;
	uint8_t  pad_len;       /* bytes of padding at the end (0 if none) */
	uint16_t seq;           /* host order */
	uint32_t ts;            /* host order */
	uint32_t ssrc;          /* host order */
	uint16_t ext_profile;   /* 0xBEDE one-byte, 0x100x two-byte, other: opaque */
	uint16_t ext_off;       /* offset of the extension data (after its 4-byte header) */
	uint16_t ext_len;       /* extension data length in bytes */
	uint16_t hdr_len;       /* 12 + 4*cc + (ext ? 4 + ext_len : 0): offset of the payload */
	uint16_t payload_len;   /* len - hdr_len - pad_len */
};

/* Is this UDP payload RTCP rather than RTP? (RFC 5761: second byte 192..223, version 2.) */
int rtp_is_rtcp(const uint8_t *p, uint32_t len);

/* Parse an RTP packet. Returns MMR_DROP_NONE, MMR_DROP_TRUNCATED (under 12 bytes) or
 * MMR_DROP_BAD_RTP (version not 2, CSRC list or extension beyond the packet, padding count 0 or
 * larger than what follows the header, longer than 65535 bytes). An empty payload is accepted. */
enum mmr_drop_reason rtp_parse(const uint8_t *p, uint32_t len, struct rtp_info *ri);

/* Find header extension element `id` (RFC 8285) in a packet rtp_parse accepted. One-byte form
 * (profile 0xBEDE): IDs 1..14, a zero byte is padding, ID 15 (or a non-zero byte with ID 0) ends
 * the walk. Two-byte form (profile 0x100X): IDs 1..255, a zero byte is padding, elements may be
 * empty. Returns 1 with *off (offset of the element's data from the start of the RTP header) and
 * *len; 0 when the element is absent, the packet has no extension or another profile; -1 when an
 * element met before it runs past the extension block. */
int rtp_find_ext(const uint8_t *p, const struct rtp_info *ri, uint8_t id, uint16_t *off, uint16_t *len);

/*
 * Copy the RTP packet p (len bytes, parsed as ri) to out with the data of the extension element at
 * off (old_len bytes, as rtp_find_ext found it) replaced by dlen bytes of data: the element's length,
 * the extension block (zero-padded to 32 bits) and its length word follow. Returns the new length,
 * or -1 when it does not fit cap, the one-byte form cannot hold dlen (1..16 bytes; the two-byte form
 * 0..255), or off/old_len are not inside the extension block.
 */
int rtp_replace_ext(const uint8_t *p, uint32_t len, const struct rtp_info *ri, uint16_t off,
		    uint16_t old_len, const uint8_t *data, uint32_t dlen, uint8_t *out, uint32_t cap);

/*
 * Blank in place every extension element whose ID is one of ids[0..n) (0 entries ignored): its
 * header and data bytes become zero bytes, which RFC 8285 reads as padding in both forms, so the
 * block keeps its length and every other element its place. What a receiver must not see from
 * another peer: the publisher's mid, rid and repaired-rid (a browser routes by mid before SSRC and
 * drops a packet whose mid it does not know). Returns the elements blanked; the walk stops where
 * rtp_find_ext's would (ID 15, a malformed element: nothing after it is touched).
 */
int rtp_blank_ext(uint8_t *p, const struct rtp_info *ri, const uint8_t *ids, unsigned n);

/* Write fields in place (network byte order). */
void rtp_set_seq(uint8_t *p, uint16_t seq);
void rtp_set_ssrc(uint8_t *p, uint32_t ssrc);

#endif
