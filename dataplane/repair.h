/*
 * repair.h - loss repair on the meeting's owning lcore (issue 11): the packets of each published
 * stream kept by mbuf reference for retransmission, a receiver's NACK turned into resends of
 * exactly what it missed (rewritten for it, as RTX where it takes RTX), and the uplink side: gaps
 * in what a publisher sends NACKed to it, its RTX packets unwrapped into the media stream.
 *
 * State (made and freed by the control thread through repair_hooks.h, written only by the lcore that
 * owns the meeting, like the rest of the per-packet state in fwd_table.h):
 *   struct stream_repair  per published stream (fwd_stream.repair): the ring of kept packets (by
 *                         extended sequence number), the uplink NACK state, the media payload type
 *                         (RTX unwrap);
 *   struct sub_repair     per subscription (fwd_output.repair; a simulcast group's members share
 *                         their leader's): the sequence map of its video copies (a receiver that
 *                         takes NACK), its RTX sequence number counter.
 * (The RTCP side's state is in its own tables: rtcp_state.h.)
 * See repair.c for the rules and docs/dataplane.md "Loss repair".
 */
#ifndef MMR_DP_REPAIR_H
#define MMR_DP_REPAIR_H

#include <stdint.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include "media.h"
#include "pkt.h"
#include "nack_gen.h"
#include "pkt_ring.h"
#include "repair_hooks.h"
#include "rtp.h"
#include "seq_map.h"

struct worker;
struct fwd_stream;
struct fwd_output;
struct fwd_participant;
struct fwd_sub;

struct stream_repair {
	uint8_t  kind;            /* enum mmr_media_kind */
	uint8_t  have_ext;        /* max_ext is set */
	uint8_t  media_pt;        /* payload type of its media packets (RTX unwrap) */
	uint8_t  have_pt;
	uint16_t sport_be;        /* the port its packets come to: the source port of its copies */
	int16_t  lcore;           /* the worker whose budget counts n_held (-1: none yet) */
	uint32_t max_ext;         /* highest extended sequence number received */
	uint32_t n_held;          /* mbufs in the ring */
	uint8_t  twcc_ext_id;     /* its publisher's transport-cc and abs-send-time extension ids: a */
	uint8_t  abs_ext_id;      /* resend is stamped for its receiver's estimate (bwe.h) */
	struct pkt_ring *ring;    /* kept packets (mbufs, data = the RTP packet); NULL: none (audio by
				     default) */
	struct nack_gen *gen;     /* the publisher's missing packets (uplink NACKs) */
};

struct sub_repair {
	uint16_t rtx_seq;         /* the next sequence number of its RTX stream */
	uint8_t  has_map;         /* 0: no map (audio, or a receiver that takes no NACK): the struct ends
				     before it */
	struct seq_map map;       /* in line: an entry's address needs no load (repair_prefetch) */
};

/* ---- packet path (the lcore that owns the meeting) ---- */

/* The extended sequence number of seq in a stream (from the highest seen so far, which it moves
 * ahead). Called once per received packet, before the fan-out records its copies under it. */
uint32_t repair_ext_seq(struct stream_repair *r, uint16_t seq);

/* The fan-out sent a copy of the input (the worker's in_ext_seq, in_encoding) to a receiver as lo
 * (lo->seq: the sequence number the receiver sees): recorded in its map, if it has one. */
static inline void repair_record(struct sub_repair *r, uint32_t in_ext, uint8_t enc, const struct layer_out *lo)
{
	if (r && r->has_map)
		seq_map_record(&r->map, in_ext, enc, lo);
}

/* The map entry a copy with sequence number seq will be recorded in, fetched ahead (at the layer
 * decision, a copy's build before its record): a subscription's map is cold at scale. */
static inline void repair_prefetch(const struct sub_repair *r, uint16_t seq)
{
	if (r)
		rte_prefetch0(&r->map.e[seq & (SEQ_MAP_SIZE - 1)]);
}

/*
 * After the fan-out of a received RTP packet of stream s from publisher pub (m, described by pi; its
 * RTP packet rtp_len bytes from pi->payload_off, parsed as ri): keep m under ext_seq, and feed the
 * uplink NACK generator (sending the NACKs that are due). Returns 1 when m was kept: the caller's
 * reference went to the ring (the caller must not free m; m's data is trimmed to the RTP packet:
 * the fan-out is done with m's metadata, its copies hold their own); 0: the caller frees m as usual.
 * m must be a direct, single-segment mbuf. s->repair not NULL.
 */
int repair_on_rtp(struct worker *w, const struct fwd_participant *pub, const struct fwd_stream *s,
		  struct rte_mbuf *m, const struct pkt_info *pi, uint32_t rtp_len, uint32_t ext_seq,
		  const struct rtp_info *ri);

/* End of a poll-loop iteration: free the kept packets evicted in it (one bulk). */
void repair_flush(struct worker *w);

/*
 * A publisher's RTX packet (stream rs, rs->is_rtx, media stream rs->media) at *rtp (*len bytes,
 * parsed as ri), in place: the 2-byte original sequence number is taken out (the header moves up
 * by two bytes: *rtp and *len change, ri is the new parse), the media stream's SSRC, sequence
 * number and payload type are put back. Returns MMR_DROP_NONE with the media stream in *media: go
 * on as with a media packet; or a drop reason (rtx_unused: no OSN, media payload type not known
 * yet, or a packet the stream already holds).
 */
enum mmr_drop_reason repair_rtx_unwrap(struct worker *w, const struct fwd_stream *rs, uint8_t **rtp,
				       uint32_t *len, struct rtp_info *ri, const struct fwd_stream **media);

/*
 * One NACK FCI item (RFC 4585: pid and its bitmask blp of the 16 following sequence numbers) from
 * receiver part about the subscription(s) sub it sees (fwd_sub_lookup of the NACK's media SSRC; a
 * simulcast group's members by encoding). Each asked packet that is still kept and was not resent
 * to it within its RTT (rtt_us; 0: 100 ms) is rebuilt for it and sent: as RTX when its output has
 * an RTX SSRC and an RTX payload type for the packet's, else on its media SSRC (SRTP meetings: RTX
 * only, see repair.c). Counted per stream: nack_in, resent, resent_rtx, resend_gone,
 * resend_within_rtt.
 */
void repair_on_nack(struct worker *w, const struct fwd_participant *part, const struct fwd_sub *sub,
		    uint16_t pid, uint16_t blp, uint32_t rtt_us);

#endif
