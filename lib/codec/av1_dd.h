/*
 * av1_dd.h - the AV1 Dependency Descriptor RTP header extension (AV1 RTP payload specification,
 * appendix A): per-stream template dependency structure, per-packet parse into struct media_pkt,
 * and the in-place writers the fan-out uses. Pure C; no allocation; never reads outside the buffer.
 */
#ifndef MMR_AV1_DD_H
#define MMR_AV1_DD_H

#include <stdint.h>
#include "media.h"
#include "drop_reason.h"

#define AV1_DD_MAX_TEMPLATES 64   /* frame_dependency_template_id is 6 bits */
#define AV1_DD_MAX_SPATIAL   3    /* AV1 spatial_id is 2 bits */
#define AV1_DD_MAX_TEMPORAL  7    /* AV1 temporal_id is 3 bits */
#define AV1_DD_MAX_LEN       255  /* an RFC 8285 element holds at most 255 bytes */

struct av1_dd_template {
	uint64_t dtis;                          /* 2 bits per decode target, DT i at bits 2i */
	uint8_t  sid, tid;
	uint8_t  n_fdiffs;
	uint8_t  fdiff[AV1_MAX_FDIFFS];         /* 1..16 each */
	uint8_t  chain_fdiff[AV1_MAX_CHAINS];   /* 0..15 each */
};

/*
 * The latest template dependency structure of one AV1 stream, and its active decode targets.
 * Fixed size, no pointers: the dataplane keeps one per AV1 stream, owned by the lcore that
 * receives the stream. Zero it (valid = 0) before the first packet.
 */
struct av1_dd_structure {
	uint8_t  valid;                 /* a structure has been received */
	uint8_t  template_id_offset;
	uint8_t  n_templates;           /* 1..64 */
	uint8_t  n_dts;                 /* DtCnt, 1..32 */
	uint8_t  n_chains;              /* 0..n_dts */
	uint8_t  max_sid, max_tid;      /* highest spatial / temporal id of the templates */
	uint8_t  has_resolutions;
	uint32_t active_dts;            /* active_decode_targets_bitmask, bit i = DT i */
	uint64_t dt_top_sid;            /* 2 bits per DT: highest spatial id of the templates it is in */
	uint32_t dt_within[AV1_MAX_DT]; /* DT k: the DTs whose frames all belong to DT k too (k included):
					   what a receiver of DT k can decode, its active decode targets */
	uint8_t  dt_chain[AV1_MAX_DT];  /* decode_target_protected_by (0 when there are no chains) */
	uint32_t width[AV1_DD_MAX_SPATIAL + 1];    /* max render size per spatial id (0: not sent) */
	uint32_t height[AV1_DD_MAX_SPATIAL + 1];
	struct av1_dd_template tpl[AV1_DD_MAX_TEMPLATES];
};

/*
 * Parse the descriptor dd (the extension element's data, len bytes, at offset dd_off from the
 * start of the RTP header) against st, and fill the AV1 fields of mp (start, end, sid, tid,
 * has_layers, keyframe, dd_off, dd_len, frame_number, template_id, structure_attached, n_fdiffs,
 * fdiff[], dtis, n_dts, n_chains, chain_fdiff[], dt_chain[], active_dts, dt_top_sid,
 * dd_active_present); other fields of mp are
 * left alone. A structure in the packet replaces st, and an active_decode_targets_bitmask updates
 * st->active_dts (a new structure without one resets it to all), only when the whole descriptor
 * parsed: on any error st and mp are unchanged.
 * Returns MMR_DROP_NONE; MMR_DROP_TRUNCATED (under 3 bytes, or the bits end inside a field);
 * MMR_DROP_NO_STRUCTURE (no structure yet, none attached); MMR_DROP_BAD_PAYLOAD (template id not in
 * the structure, more than 64 templates, spatial id > 3, temporal id > 7, more than 16 fdiffs, a
 * custom fdiff over 255 (media_pkt keeps 8 bits), longer than 255 bytes).
 */
enum mmr_drop_reason av1_dd_parse(const uint8_t *dd, uint32_t len, uint16_t dd_off,
				  struct av1_dd_structure *st, struct media_pkt *mp);

/* Rewrite frame_number in place (dd: the element's data, at least 3 bytes). */
void av1_dd_set_frame_number(uint8_t *dd, uint16_t frame_number);

/*
 * Rewrite active_decode_targets_bitmask in place with the low n_dts bits of mask. n_dts is the
 * DtCnt this packet was parsed with (media_pkt.n_dts): the bitmask is f(DtCnt) and, without a
 * structure in the packet, nothing in it says how wide that is. Re-parses the extended header
 * (and the structure, if attached) to find the bitmask; returns 0, or -1 when the packet has no
 * bitmask, is malformed, or an attached structure has another DtCnt.
 */
int av1_dd_set_active_dts(uint8_t *dd, uint32_t len, uint8_t n_dts, uint32_t mask);

/*
 * The descriptor dd (len bytes, with extended fields) with its active_decode_targets_bitmask set to
 * the low n_dts bits of mask, written to out: rewritten where the packet has one, else inserted after
 * the template structure (its present flag set; the bits after it move down). Returns the new
 * length (len, or len + up to 4), or -1 when dd has no extended fields, is malformed, an attached
 * structure has another DtCnt, or the result does not fit cap or 255 bytes.
 */
int av1_dd_with_active(const uint8_t *dd, uint32_t len, uint8_t n_dts, uint32_t mask, uint8_t *out,
		       uint32_t cap);

#endif
