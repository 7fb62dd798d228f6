/*
 * ssrc_learn.h - which of a sender's pending streams a packet of an unknown SSRC names (issue 13).
 *
 * Browsers sending simulcast with rids (RFC 8852, RFC 8853) announce no SSRCs in their SDP: a
 * packet says which m-section it belongs to by the mid header extension (RFC 8843), which
 * encoding by rid, and a retransmission (RTX) which encoding it repairs by repaired-rid. The
 * controller gives the dataplane, per participant, the streams whose SSRCs it does not know yet
 * (struct mmr_learn, mmr_types.h); ssrc_learn_match() reads a packet's elements (one-byte and
 * two-byte forms, rtp_find_ext) and finds the stream they name:
 *   - repaired-rid present (and its id negotiated): the RTX SSRC of the stream with that mid and
 *     that rid, if still pending (a packet carrying both rid and repaired-rid is RTX: libwebrtc
 *     may copy the media packet's elements into its retransmission);
 *   - else rid present: the media SSRC of the stream with that mid and rid;
 *   - else: the media SSRC of the stream with that mid and no rid.
 * No mid, an element longer than MMR_MID_MAX or empty, no pending stream of that name: no match.
 * Nothing here is trusted beyond this: in SRTP the header extensions are in clear (RFC 3711) and
 * not authenticated by this code; a match only ever binds an SSRC to a stream of the same sender,
 * and in SRTP the dataplane verifies the packet's tag before it reports one (dataplane/learn.h).
 *
 * learn_limit_allow() is the reporting rate limit: one report per SSRC per `gap` (the dataplane:
 * 100 ms), with the last LEARN_LIMIT_SLOTS SSRCs remembered, and at most LEARN_LIMIT_BURST
 * reports per participant per gap whatever the SSRCs (a sender cycling random SSRCs with a valid
 * mid cannot flood the controller). Plain memory, written by one lcore at a time.
 *
 * Pure C over byte buffers, no DPDK: the dataplane, the unit test and the fuzz target share it.
 */
#ifndef MMR_SSRC_LEARN_H
#define MMR_SSRC_LEARN_H

#include <stdint.h>
#include "mmr_types.h"
#include "rtp.h"

/* The header extension ids a participant negotiated (0: none). */
struct learn_ext_ids {
	uint8_t mid, rid, rrid;
};

/* The RTP header of p (len bytes) as rtp_parse reads it, without the padding count (in SRTP it is
 * encrypted; ri->pad_len 0, ri->payload_len what follows the header): 0, or -1 (truncated, not
 * version 2, CSRC list or extension past the end). */
int ssrc_learn_header(const uint8_t *p, uint32_t len, struct rtp_info *ri);

/* 1: the packet names e[*idx] (*what MMR_LEARN_MEDIA or MMR_LEARN_RTX, a need that entry still
 * has); 0: it names none (or carries no mid); -1: its extension block is malformed before the
 * elements we look for. p, ri: a header ssrc_learn_header (or rtp_parse) accepted. */
int ssrc_learn_match(const uint8_t *p, const struct rtp_info *ri, const struct learn_ext_ids *ids,
		     const struct mmr_learn *e, unsigned n, unsigned *idx, uint8_t *what);

#define LEARN_LIMIT_SLOTS 8
#define LEARN_LIMIT_BURST 16

struct learn_limit {
	uint64_t win_start;                 /* start of the current window (caller's clock) */
	uint64_t at[LEARN_LIMIT_SLOTS];     /* when ssrc[i] was last reported */
	uint32_t ssrc[LEARN_LIMIT_SLOTS];
	uint16_t win_n;                     /* reports in the current window */
	uint8_t  next;                      /* the slot the next new SSRC takes */
	uint8_t  used;                      /* slots holding an SSRC */
};

/* May ssrc be reported now? 1 (and it is recorded as reported at now), or 0. A zeroed struct is a
 * fresh state. now: any monotonic clock; gap in its units (> 0). */
int learn_limit_allow(struct learn_limit *l, uint32_t ssrc, uint64_t now, uint64_t gap);

#endif
