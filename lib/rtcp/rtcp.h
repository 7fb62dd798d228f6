/*
 * rtcp.h - RTCP packets: a validating checker for compound and reduced-size packets, an iterator that
 * turns a checked packet into flat items (one per report block, NACK FCI entry, FIR entry, XR block,
 * ...), and builders that append well-formed packets to a buffer. Pure C over a byte buffer: never
 * reads or writes outside it, no allocation, no DPDK.
 *
 * Formats: RFC 3550 (SR 200, RR 201, SDES 202, BYE 203, APP 204, compound rules), RFC 5506
 * (reduced-size), RFC 4585 (RTPFB 205 FMT 1 generic NACK, PSFB 206 FMT 1 PLI), RFC 5104 (PSFB FMT 4
 * FIR), draft-alvestrand-rmcat-remb (PSFB FMT 15 "REMB"), draft-holmer-rmcat-transport-wide-cc
 * (RTPFB FMT 15: header checked, FCI handed over), RFC 3611 (XR 207: RRTR block 4, DLRR block 5,
 * other blocks counted). Any other packet type in 192..223, and other RTPFB/PSFB formats, are
 * RTCP_ITEM_OTHER items, not errors.
 *
 * Use: rtcp_check() the whole datagram first (nothing may act on a packet it refuses), then
 * rtcp_iter_init()/rtcp_iter_next() to walk the items. All fields in host order.
 */
#ifndef MMR_RTCP_H
#define MMR_RTCP_H

#include <stdint.h>
#include "drop_reason.h"

/* RTCP packet types (the second byte) and feedback formats (the count field of RTPFB/PSFB). */
#define RTCP_PT_SR      200
#define RTCP_PT_RR      201
#define RTCP_PT_SDES    202
#define RTCP_PT_BYE     203
#define RTCP_PT_APP     204
#define RTCP_PT_RTPFB   205
#define RTCP_PT_PSFB    206
#define RTCP_PT_XR      207
#define RTCP_FMT_NACK   1       /* RTPFB */
#define RTCP_FMT_TWCC   15      /* RTPFB */
#define RTCP_FMT_PLI    1       /* PSFB */
#define RTCP_FMT_FIR    4       /* PSFB */
#define RTCP_FMT_AFB    15      /* PSFB application layer feedback: REMB when the FCI starts "REMB" */
#define RTCP_XR_RRTR    4
#define RTCP_XR_DLRR    5
#define RTCP_SDES_CNAME 1

#define RTCP_MAX_RB     31      /* report blocks in one SR/RR (5-bit count) */

enum rtcp_item_type {
	RTCP_ITEM_SR,           /* sender info of an SR (one per SR; its report blocks follow as RR items) */
	RTCP_ITEM_RR,           /* one report block (of an SR or an RR); an RR without blocks yields no item */
	RTCP_ITEM_SDES,         /* one SDES chunk (sender_ssrc = the chunk's SSRC; CNAME if present) */
	RTCP_ITEM_BYE,          /* one BYE packet (sender_ssrc = its first SSRC, 0 if none) */
	RTCP_ITEM_NACK,         /* one generic NACK FCI entry (PID + BLP) */
	RTCP_ITEM_PLI,          /* one PLI packet */
	RTCP_ITEM_FIR,          /* one FIR FCI entry (media_ssrc = the entry's SSRC, see below) */
	RTCP_ITEM_REMB,         /* one REMB packet */
	RTCP_ITEM_TWCC,         /* one transport-wide feedback packet (FCI handed over) */
	RTCP_ITEM_XR_RRTR,      /* an XR Receiver Reference Time block */
	RTCP_ITEM_XR_DLRR,      /* one DLRR sub-block (media_ssrc = its SSRC) */
	RTCP_ITEM_XR_OTHER,     /* any other XR block */
	RTCP_ITEM_APP,          /* one APP packet */
	RTCP_ITEM_OTHER,        /* another packet type in 192..223, or another RTPFB/PSFB format */
};

struct rtcp_report_block {
	uint32_t ssrc;          /* the source this block reports on */
	uint8_t  fraction_lost; /* 0..255: lost/expected * 256 since the previous report */
	int32_t  cum_lost;      /* 24-bit signed on the wire, sign-extended */
	uint32_t ext_high_seq;
	uint32_t jitter;        /* RTP timestamp units */
	uint32_t lsr;           /* middle 32 bits of the NTP time of the last SR, 0 if none */
	uint32_t dlsr;          /* delay since that SR, 1/65536 s */
};

/*
 * One item. sender_ssrc is the SSRC of the packet's sender (the SDES chunk's SSRC, the BYE's first
 * SSRC); media_ssrc is the SSRC the item is about: the report block's SSRC (RR), the feedback
 * header's media source (NACK, PLI, TWCC, REMB: usually 0, OTHER RTPFB/PSFB), the FCI entry's SSRC
 * (FIR: its header field is unused by RFC 5104), the DLRR sub-block's SSRC; 0 otherwise.
 * Pointers point into the checked buffer.
 */
struct rtcp_item {
	enum rtcp_item_type type;
	uint32_t sender_ssrc;
	uint32_t media_ssrc;
	uint8_t  pt;            /* the packet's type (200..223) */
	uint8_t  fmt;           /* the packet's count/format field (5 bits) */
	union {
		struct { uint64_t ntp; uint32_t rtp_ts, pkts, octets; uint8_t n_rb; } sr;
		struct rtcp_report_block rb;
		struct { const uint8_t *cname; uint8_t cname_len; } sdes;          /* cname NULL if absent */
		struct { uint8_t n_ssrcs; const uint8_t *ssrcs;                     /* 4 bytes each, big-endian */
			 const uint8_t *reason; uint8_t reason_len; } bye;            /* reason NULL if absent */
		struct { uint16_t pid, blp; } nack;
		struct { uint32_t ssrc; uint8_t seq; } fir;
		struct { uint64_t bitrate_bps; uint8_t n_ssrcs; const uint8_t *ssrcs; } remb; /* ssrcs big-endian */
		struct { const uint8_t *fci; uint16_t len;                          /* FCI to its last delta */
			 uint16_t base_seq, status_count; int32_t ref_time;         /* ref_time: 24-bit signed, 64 ms */
			 uint8_t fb_count; } twcc;
		struct { uint64_t ntp; } rrtr;
		struct { uint32_t ssrc, lrr, dlrr; } dlrr;
		struct { uint8_t bt, type_specific; const uint8_t *data; uint16_t len; } xr;  /* XR_OTHER block */
		struct { uint8_t subtype; const uint8_t *name; const uint8_t *data; uint16_t len; } app; /* name: 4 bytes */
		struct { const uint8_t *body; uint16_t len; } other;               /* after the 4-byte header */
	} u;
};

/*
 * Check a whole RTCP datagram (after SRTCP unprotect: no SRTCP trailer). Returns MMR_DROP_NONE, or:
 *  - MMR_DROP_RTCP_TRUNCATED: empty, a header cut short, or a packet's length word reaching past the
 *    end of the datagram;
 *  - MMR_DROP_BAD_RTCP: longer than 65535 bytes, version not 2, a packet type outside 192..223,
 *    padding on a packet other than the last, a padding count of 0 or beyond the packet's body (it
 *    need not be a multiple of 4: Chrome pads TWCC with 1..3 bytes), a body that is not whole 32-bit
 *    words where the format has them (all but TWCC and unknown types), a count (RC, SC, SDES
 *    chunks, BYE SSRCs, REMB SSRCs) or a structure (SDES items and their END, BYE reason, XR blocks,
 *    RRTR/DLRR block lengths, NACK/FIR entries, a PLI with FCI, TWCC status chunks and deltas) that
 *    does not fill the packet's body exactly or does not fit in it;
 *  - MMR_DROP_RTCP_NOT_COMPOUND: require_compound and the first packet is not SR or RR (RFC 3550
 *    A.2). Without require_compound (RFC 5506 reduced-size) any packet may come first; compound
 *    packets are accepted either way.
 */
enum mmr_drop_reason rtcp_check(const uint8_t *p, uint32_t len, int require_compound);

/* The walk over a datagram. Opaque: use the functions. */
struct rtcp_iter {
	const uint8_t *p;
	uint32_t len;
	uint32_t next;          /* offset of the next packet */
	uint32_t pos;           /* offset of the next thing inside the current packet */
	uint32_t end;           /* end of the current packet's body (before padding) */
	uint32_t ssrc;          /* the current packet's sender SSRC */
	uint32_t media;         /* the current packet's media SSRC (feedback) */
	uint16_t left;          /* items left in the current packet (blocks, chunks, sub-blocks) */
	uint8_t  pt, fmt;
	uint8_t  state;
	uint8_t  err;           /* enum mmr_drop_reason when the walk stopped on a bad packet */
};

void rtcp_iter_init(struct rtcp_iter *it, const uint8_t *p, uint32_t len);
/* 1: *item filled; 0: the end. On a datagram rtcp_check refuses the walk stops (returns 0, it->err
 * says why) where the check refuses it, after the items before that point, without reading outside
 * the buffer (rtcp_check is this walk to its end). Datagrams over 65535 bytes are refused. */
int rtcp_iter_next(struct rtcp_iter *it, struct rtcp_item *item);

/* Expand one NACK FCI entry into its sequence numbers (1..17, in order). Returns the count. */
unsigned rtcp_nack_seqs(uint16_t pid, uint16_t blp, uint16_t seqs[17]);

/*
 * Builders: each call appends one RTCP packet to buf. When it does not fit, nothing is written and
 * overflow is set (later calls write nothing). rtcp_build_end() returns the bytes written, 0 on
 * overflow. The caller composes: compound = SR or RR first, then SDES CNAME, then feedback.
 */
struct rtcp_builder {
	uint8_t *buf;
	uint32_t cap, len;
	uint32_t last;          /* offset of the last packet written (rtcp_build_pad_last) */
	int overflow;
};

struct rtcp_dlrr_block { uint32_t ssrc, lrr, dlrr; };

void rtcp_build_init(struct rtcp_builder *b, uint8_t *buf, uint32_t cap);
/* n report blocks (at most RTCP_MAX_RB; more is an overflow) */
void rtcp_build_sr(struct rtcp_builder *b, uint32_t ssrc, uint64_t ntp, uint32_t rtp_ts, uint32_t pkts,
		   uint32_t octets, const struct rtcp_report_block *rb, unsigned n);
void rtcp_build_rr(struct rtcp_builder *b, uint32_t ssrc, const struct rtcp_report_block *rb, unsigned n);
/* One chunk with a CNAME item (at most 255 bytes, longer is cut) and END, padded to 32 bits. */
void rtcp_build_sdes_cname(struct rtcp_builder *b, uint32_t ssrc, const char *cname);
/* A BYE for n SSRCs (at most 31), reason NULL or up to 255 bytes. */
void rtcp_build_bye(struct rtcp_builder *b, const uint32_t *ssrcs, unsigned n, const char *reason);
/* Generic NACK for n sequence numbers, packed into PID + BLP entries: an entry covers its PID and
 * the 16 numbers after it; a number not covered by the current entry starts a new one, so an
 * ascending list (across 65535 -> 0 too) packs into the fewest entries; duplicates cost nothing.
 * n = 0 writes nothing. */
void rtcp_build_nack(struct rtcp_builder *b, uint32_t sender, uint32_t media, const uint16_t *seqs, unsigned n);
void rtcp_build_pli(struct rtcp_builder *b, uint32_t sender, uint32_t media);
/* FIR with one entry (media = the SSRC asked for a keyframe, seq = the command sequence number). */
void rtcp_build_fir(struct rtcp_builder *b, uint32_t sender, uint32_t media, uint8_t seq);
/* FIR with n entries. */
void rtcp_build_fir_n(struct rtcp_builder *b, uint32_t sender, const uint32_t *ssrcs, const uint8_t *seqs,
		      unsigned n);
/* REMB: bitrate as 18-bit mantissa << 6-bit exponent, rounded down (relative error < 2^-17). */
void rtcp_build_remb(struct rtcp_builder *b, uint32_t sender, uint64_t bitrate_bps, const uint32_t *ssrcs,
		     unsigned n);
/* Transport-wide feedback with a ready FCI (len >= 8: up to its last receive delta, as the walk
 * reports it), zero-padded to 32 bits inside the FCI. */
void rtcp_build_twcc(struct rtcp_builder *b, uint32_t sender, uint32_t media, const uint8_t *fci, uint16_t len);
/* XR with one RRTR block; XR with one DLRR sub-block; XR with an optional RRTR (rrtr_ntp NULL: none)
 * and a DLRR block of n sub-blocks (n = 0: none) in one packet. */
void rtcp_build_xr_rrtr(struct rtcp_builder *b, uint32_t ssrc, uint64_t ntp);
void rtcp_build_xr_dlrr(struct rtcp_builder *b, uint32_t ssrc, uint32_t sub_ssrc, uint32_t lrr, uint32_t dlrr);
void rtcp_build_xr(struct rtcp_builder *b, uint32_t ssrc, const uint64_t *rrtr_ntp,
		   const struct rtcp_dlrr_block *dlrr, unsigned n);
/* APP: name 4 bytes, data len a multiple of 4. */
void rtcp_build_app(struct rtcp_builder *b, uint32_t ssrc, uint8_t subtype, const char name[4],
		    const uint8_t *data, uint16_t len);
/* Append pad_bytes (4..252, a multiple of 4) of padding to the last packet written and set its
 * padding bit (RFC 3550 6.4.1; SRTCP needs none: mostly for tests). */
void rtcp_build_pad_last(struct rtcp_builder *b, unsigned pad_bytes);
uint32_t rtcp_build_end(struct rtcp_builder *b);

#endif
