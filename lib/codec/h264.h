/*
 * h264.h - what the H.264 RTP payload (RFC 6184, non-interleaved mode) tells about keyframes and
 * access unit boundaries, and its translation into the codec-neutral struct media_pkt.
 * Pure C; never reads outside the buffer.
 */
#ifndef MMR_H264_H
#define MMR_H264_H

#include <stdint.h>
#include "media.h"
#include "rtp.h"
#include "drop_reason.h"

#define H264_NAL_SLICE   1
#define H264_NAL_DPA     2      /* slice data partition A: starts with a slice header */
#define H264_NAL_IDR     5
#define H264_NAL_SEI     6
#define H264_NAL_SPS     7
#define H264_NAL_PPS     8
#define H264_NAL_AUD     9
#define H264_NAL_STAP_A  24
#define H264_NAL_FU_A    28

struct h264_info {
	uint8_t pkt_type;       /* NAL type of the RTP payload's header: 1..23, STAP-A or FU-A */
	uint8_t nal_type;       /* the first NAL unit carried: the packet's own (1..23), the first
				   one aggregated (STAP-A), or the fragmented one (FU-A) */
	uint8_t nri;            /* NRI of the payload header */
	uint8_t n_nals;         /* NAL units in the packet (STAP-A: how many; else 1) */
	uint8_t fu_start;       /* FU-A S bit */
	uint8_t fu_end;         /* FU-A E bit */
	uint8_t has_idr;        /* an IDR slice is carried (FU-A: any fragment of one) */
	uint8_t has_sps;
	uint8_t has_pps;
	uint8_t keyframe;       /* the packet contains an SPS or IDR slice, or starts an FU-A of one */
	uint8_t au_start;       /* the packet begins an access unit as far as its first NAL tells */
	uint8_t has_first_mb;   /* the first NAL is a slice (FU-A: a start fragment of one) whose */
	uint32_t first_mb;      /* first_mb_in_slice could be read */
};

/* Parse the RTP payload. Returns MMR_DROP_NONE, MMR_DROP_TRUNCATED (empty, an FU-A without a
 * fragment, a STAP-A whose sizes run past the end) or MMR_DROP_BAD_PAYLOAD: forbidden_zero_bit
 * set, NAL type 0, STAP-B/MTAP/FU-B/30/31 (interleaved mode is not accepted), an aggregated or
 * fragmented NAL of a type that may not be, a zero aggregation size, an FU with both S and E, or
 * a complete slice NAL too short for its first_mb_in_slice. */
enum mmr_drop_reason h264_parse(const uint8_t *p, uint32_t len, struct h264_info *h);

/* Fill mp (zeroed first): start = au_start, end = the RTP marker, keyframe; no layers. */
void h264_media(const struct h264_info *h, const struct rtp_info *ri, struct media_pkt *mp);

#endif
