/*
 * bwe_stamp.h - the per-copy arithmetic of downlink bandwidth estimation (issue 12, bwe.h): where a
 * received packet's transport-wide sequence number (draft-holmer-rmcat-transport-wide-cc-extensions,
 * a 2-byte header extension element) and abs-send-time (a 3-byte element, 6.18 fixed-point seconds)
 * sit, and how one receiver's copy gets its own values: the element's data rewritten, its id set to
 * the receiver's when it differs, and the UDP checksum changed incrementally (RFC 1624: the old words
 * out, the new ones in). Found once per received packet (the offsets are the same in every copy);
 * written per copy. Pure arithmetic over byte buffers, like rewrite.h, so a unit test can check it.
 */
#ifndef MMR_DP_BWE_STAMP_H
#define MMR_DP_BWE_STAMP_H

#include <stdint.h>
#include <string.h>
#include "rtp.h"
#include "be_bytes.h"
#include "csum.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "bwe_write_twcc stores the seq byte-swapped in one 16-bit store"
#endif

/* Where a received packet's elements are (offsets from the RTP header; 0: not in the packet). */
struct bwe_pkt {
	uint16_t tw_off;          /* transport-wide seq data (2 bytes) */
	uint16_t tw_id_pos;       /* the byte holding its id (one-byte form: id<<4 | len-1; two-byte: id) */
	uint16_t abs_off;         /* abs-send-time data (3 bytes) */
	uint16_t abs_id_pos;
	uint8_t  two_byte;        /* the extension block's form (0x100X) */
	uint8_t  tw_id_byte;      /* the id bytes as received */
	uint8_t  abs_id_byte;
	uint8_t  tw_id, abs_id;   /* the publisher's ids (a resend's kept packet is searched again) */
	uint8_t  tw_odd;          /* tw_off is odd: a 16-bit value there sums byte-swapped */
	uint32_t tw_old_sum;      /* the checksum words of the seq bytes as received, complemented:
				   * the same for every copy (each starts from the received header) */
	uint16_t sport_be;        /* our UDP source port for this packet's copies (probes) */
};

/* A byte's checksum word at offset pos from the RTP header (the header is at an even UDP offset). */
static inline uint32_t bwe_byte_word(uint32_t pos, uint8_t b)
{
	return (pos & 1) ? b : (uint32_t)b << 8;
}

/* Element id's data in the packet rtp parsed as ri when it is exactly dlen bytes: 1 (*off set), 0
 * when absent, -1 when it cannot be read (another length, or the walk to it ran past the block). */
static inline int bwe_ext_find(const uint8_t *rtp, const struct rtp_info *ri, uint8_t id, uint16_t dlen,
			       uint16_t *off)
{
	uint16_t len;
	int r = rtp_find_ext(rtp, ri, id, off, &len);
	return r == 1 ? (len == dlen ? 1 : -1) : r == 0 ? 0 : -1;
}

/* Find the elements of ids tw_id and abs_id (0: not negotiated) in the packet rtp parsed as ri.
 * Returns how many of them could not be read (present with another length, or the walk to them ran
 * past the block): the caller's ext_bad. */
static inline unsigned bwe_pkt_find(struct bwe_pkt *bp, const uint8_t *rtp, const struct rtp_info *ri,
				    uint8_t tw_id, uint8_t abs_id)
{
	uint16_t off;
	unsigned bad = 0;
	bp->tw_off = bp->abs_off = bp->tw_id_pos = bp->abs_id_pos = 0;
	bp->tw_id_byte = bp->abs_id_byte = 0;
	bp->tw_odd = 0;
	bp->tw_old_sum = 0;
	bp->tw_id = tw_id;
	bp->abs_id = abs_id;
	bp->two_byte = (ri->ext_profile & 0xfff0) == 0x1000;
	if (!ri->has_ext)
		return 0;
	if (tw_id) {
		int r = bwe_ext_find(rtp, ri, tw_id, 2, &off);
		if (r == 1) {
			bp->tw_off = off;
			bp->tw_id_pos = (uint16_t)(off - (bp->two_byte ? 2 : 1));
			bp->tw_id_byte = rtp[bp->tw_id_pos];
			bp->tw_odd = off & 1;
			bp->tw_old_sum = (uint16_t)~bwe_byte_word(off, rtp[off]) +
					 (uint16_t)~bwe_byte_word(off + 1u, rtp[off + 1u]);
		}
		bad += r < 0;
	}
	if (abs_id) {
		int r = bwe_ext_find(rtp, ri, abs_id, 3, &off);
		if (r == 1) {
			bp->abs_off = off;
			bp->abs_id_pos = (uint16_t)(off - (bp->two_byte ? 2 : 1));
			bp->abs_id_byte = rtp[bp->abs_id_pos];
		}
		bad += r < 0;
	}
	return bad;
}

/* The id byte of an element of data length dlen under id in this block's form; 0: the id does not
 * fit the form (a one-byte block takes ids 1..14). */
static inline uint8_t bwe_id_byte(const struct bwe_pkt *bp, uint8_t id, unsigned dlen)
{
	if (bp->two_byte)
		return id;
	return id >= 1 && id <= 14 ? (uint8_t)(id << 4 | (dlen - 1)) : 0;
}

/*
 * Write receiver values into the copy's RTP header at rtp (its element bytes as received: bp's): the
 * transport-wide seq (when tw_id: the receiver's element id) and/or the 24-bit abs-send-time (when
 * abs_id). Returns the checksum change to add to the copy's UDP checksum sum (the old bytes'
 * complements plus the new bytes' words), 0 when nothing was written. An id the block's form cannot
 * carry keeps the packet's id.
 */
static inline uint32_t bwe_write_twcc(uint8_t *rtp, const struct bwe_pkt *bp, uint8_t id, uint16_t seq)
{
	uint32_t p = bp->tw_off;
	uint16_t be = (uint16_t)(seq << 8 | seq >> 8);     /* the seq as it sits in the packet */
	uint32_t s = bp->tw_old_sum + (bp->tw_odd ? be : seq);
	/* the receiver's id the publisher's (the usual case): the id byte as received is its id byte
	 * (the element was found under that id), nothing to rewrite */
	if (__builtin_expect(id != bp->tw_id, 0)) {
		uint8_t ib = bwe_id_byte(bp, id, 2);
		if (ib && ib != bp->tw_id_byte) {
			s += (uint16_t)~bwe_byte_word(bp->tw_id_pos, bp->tw_id_byte) + bwe_byte_word(bp->tw_id_pos, ib);
			rtp[bp->tw_id_pos] = ib;
		}
	}
	memcpy(rtp + p, &be, 2);       /* big-endian in one store (a little-endian host, checked above) */
	return s;
}

static inline uint32_t bwe_write_abs(uint8_t *rtp, const struct bwe_pkt *bp, uint8_t id, uint32_t abs24)
{
	uint32_t p = bp->abs_off, s = 0;
	uint8_t ib = bwe_id_byte(bp, id, 3);
	if (ib && ib != rtp[bp->abs_id_pos]) {
		s += (uint16_t)~bwe_byte_word(bp->abs_id_pos, rtp[bp->abs_id_pos]) + bwe_byte_word(bp->abs_id_pos, ib);
		rtp[bp->abs_id_pos] = ib;
	}
	for (unsigned i = 0; i < 3; i++) {
		uint8_t b = (uint8_t)(abs24 >> (16 - 8 * i));
		s += (uint16_t)~bwe_byte_word(p + i, rtp[p + i]) + bwe_byte_word(p + i, b);
		rtp[p + i] = b;
	}
	return s;
}

/* Put the packet's own id bytes and values back (SRTP: the copies are encrypted from the input,
 * rewritten in place per receiver; one without stamping must see the packet as it came). */
static inline void bwe_restore(uint8_t *rtp, const struct bwe_pkt *bp, const uint8_t tw[2], const uint8_t abs[3])
{
	if (bp->tw_off) {
		rtp[bp->tw_id_pos] = bp->tw_id_byte;
		rtp[bp->tw_off] = tw[0];
		rtp[bp->tw_off + 1] = tw[1];
	}
	if (bp->abs_off) {
		rtp[bp->abs_id_pos] = bp->abs_id_byte;
		for (unsigned i = 0; i < 3; i++)
			rtp[bp->abs_off + i] = abs[i];
	}
}

/* abs-send-time: 6.18 fixed-point seconds, 24 bits (wraps every 64 s). */
static inline uint32_t bwe_abs_send_time(uint64_t now_us)
{
	return (uint32_t)(((now_us << 18) / 1000000u) & 0xffffffu);
}

/* Add sum (bwe_write_*'s change) to the UDP checksum field at udp_ck (RFC 1624 eqn. 3). */
static inline void bwe_csum_adjust(uint8_t *udp_ck, uint32_t sum)
{
	uint64_t s = (uint16_t)~get_be16(udp_ck) + (uint64_t)sum;
	uint16_t ck = csum_finish(s);
	put_be16(udp_ck, ck ? ck : 0xffff);
}

#endif
