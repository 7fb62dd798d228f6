/*
 * twcc.h - transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-
 * extensions-01, section 3.1: RTPFB PT 205 FMT 15): the FCI parsed into one status per packet
 * (every chunk form: run length, 1-bit and 2-bit status vectors; 1-byte and 2-byte signed receive
 * deltas), and the builder of one whole feedback packet. Pure C over a byte buffer, no allocation.
 *
 * Times: the reference time (24-bit signed, 64 ms units) and the receive deltas (250 us units)
 * become receiver-clock microseconds: arrival_us = ref_time * 64000 + the sum of the deltas so far.
 */
#ifndef MMR_TWCC_H
#define MMR_TWCC_H

#include <stdint.h>

#define TWCC_TICK_US     250            /* receive delta unit */
#define TWCC_REF_US      64000          /* reference time unit */
#define TWCC_HDR_LEN     12             /* RTCP header + sender SSRC + media SSRC before the FCI */

struct twcc_fb {
	uint32_t sender_ssrc, media_ssrc;   /* not in the FCI: the parser leaves them, the builder writes them */
	uint16_t base_seq, status_count;
	uint8_t  fb_count;
	int64_t  ref_us;                    /* reference time x 64 ms, in us (sign-extended 24 bits) */
};

/* One packet's status; seq = base_seq + index (mod 2^16). */
struct twcc_status {
	int64_t  arrival_us;                /* receiver clock (meaningful when received) */
	uint16_t seq;
	uint8_t  received;                  /* 0 not received, 1 received (small or large delta) */
};

/*
 * Parse a feedback FCI (the bytes after the media SSRC: rtcp_item.u.twcc.fci/len, or the FCI with up
 * to 3 bytes of zero padding). Fills *fb (not the SSRCs) and the first min(status_count, max)
 * statuses. Returns that number, or -1 when the FCI is malformed: shorter than 8 bytes, a status
 * count of 0, chunks or deltas running past len, a reserved symbol (3) in a run or a 2-bit vector,
 * more than 3 bytes after the last delta. On -1 nothing it wrote may be used. A run-length chunk
 * longer than the packets left is cut (as rtcp_check does); symbols of a vector past the count are
 * ignored.
 */
int twcc_fb_parse(const uint8_t *fci, uint32_t len, struct twcc_fb *fb, struct twcc_status *st, unsigned max);

/*
 * Build one whole RTCP feedback packet (header, SSRCs, FCI, zero padding to 32 bits) into buf:
 * base seq, fb_count, SSRCs and ref_us (rounded down to 64 ms; the 24-bit field wraps) from *hdr, n statuses for base_seq,
 * base_seq + 1, ... (st[i].seq is not read). Chunks: a run length where 7 or more equal statuses
 * follow, else a 1-bit vector when the next 14 need no large delta, else a 2-bit vector. Deltas are
 * taken between quantized absolute times (no drift). Returns the bytes written, 0 when it does not
 * fit in cap, n is 0 or over 65535, or a delta does not
 * fit in 16 bits (+-8.19 s; start a new packet there). Not for the per-packet path (a loop over n).
 */
uint32_t twcc_fb_build(uint8_t *buf, uint32_t cap, const struct twcc_fb *hdr, const struct twcc_status *st,
		       unsigned n);

#endif
