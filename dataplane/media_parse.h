/*
 * media_parse.h - what layer selection needs from an RTP packet of a video stream: its codec's
 * payload descriptor (VP8, VP9, H.264) or AV1 Dependency Descriptor parsed into the codec-neutral
 * struct media_pkt (lib/codec/media.h). The worker parses every received packet with it
 * (worker.c); loss repair parses a kept packet again to find the fields it rewrites (repair.c).
 */
#ifndef MMR_DP_MEDIA_PARSE_H
#define MMR_DP_MEDIA_PARSE_H

#include <string.h>
#include <rte_branch_prediction.h>

#include "av1_dd.h"
#include "fwd_table.h"
#include "h264.h"
#include "media.h"
#include "rtp.h"
#include "vp8.h"
#include "vp9.h"

/*
 * What layer selection needs from an RTP packet of stream s (rtp, parsed as ri): *mp filled and
 * MMR_DROP_NONE, or the drop reason. *layered is 0 for a stream without layer selection (audio).
 * A descriptor that ends early is a malformed payload (bad_payload), like any other.
 */
static inline enum mmr_drop_reason parse_media(const struct fwd_stream *s, const uint8_t *rtp,
					       const struct rtp_info *ri, struct media_pkt *mp,
					       int *layered)
{
	const uint8_t *pl = rtp + ri->hdr_len;
	enum mmr_drop_reason why;

	*layered = 1;
	switch (s->codec) {
	case MMR_CODEC_VP8: {
		struct vp8_desc d;
		why = vp8_parse(pl, ri->payload_len, &d);
		if (likely(why == MMR_DROP_NONE))
			vp8_media(&d, ri->hdr_len, ri, mp);
		break;
	}
	case MMR_CODEC_VP9: {
		struct vp9_desc d;
		why = vp9_parse(pl, ri->payload_len, &d);
		if (likely(why == MMR_DROP_NONE))
			vp9_media(&d, ri->hdr_len, ri, mp);
		break;
	}
	case MMR_CODEC_H264: {
		struct h264_info h;
		why = h264_parse(pl, ri->payload_len, &h);
		if (likely(why == MMR_DROP_NONE))
			h264_media(&h, ri, mp);
		break;
	}
	case MMR_CODEC_AV1: {
		uint16_t off, len;
		memset(mp, 0, sizeof(*mp));
		mp->codec = MMR_CODEC_AV1;
		int found = s->av1 ? rtp_find_ext(rtp, ri, s->dd_ext_id, &off, &len) : 0;
		if (unlikely(found < 0))
			return MMR_DROP_BAD_RTP;
		if (unlikely(found == 0))
			return MMR_DROP_NO_STRUCTURE;
		why = av1_dd_parse(rtp + off, len, off, s->av1, mp);
		break;
	}
	default:
		*layered = 0;
		return MMR_DROP_NONE;
	}
	if (unlikely(why != MMR_DROP_NONE))
		return why == MMR_DROP_TRUNCATED ? MMR_DROP_BAD_PAYLOAD : why;
	mp->encoding = s->encoding;
	return MMR_DROP_NONE;
}

#endif
