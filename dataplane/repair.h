/*
 * repair.h - loss repair on the meeting's owning lcore (issue 11): the packets of each published
 * stream kept by mbuf reference for retransmission, a receiver's NACK turned into resends of
 * exactly what it missed (rewritten for it, as RTX where it takes RTX), and the uplink side: gaps
 * in what a publisher sends NACKed to it, its RTX packets unwrapped into the media stream.
 *
 * State (allocated and freed by the control thread, written only by the lcore that owns the
 * meeting, like the rest of the per-packet state in fwd_table.h):
 *   struct stream_repair  per published stream (fwd_stream.repair): the ring of kept packets
 *                         (lib/repair/pkt_ring, keyed by extended sequence number), the uplink NACK
 *                         generator (lib/repair/nack_gen), the media payload type (RTX unwrap);
 *   struct sub_repair     per video subscription of a receiver (fwd_output.repair): its sequence
 *                         map (lib/repair/seq_map: out seq -> input ext seq and the rewritten
 *                         fields of that copy), its RTX sequence number counter.
 * See repair.c for the rules and docs/dataplane.md "Loss repair".
 */
#ifndef MMR_DP_REPAIR_H
#define MMR_DP_REPAIR_H

#include <stdint.h>
#include <rte_mbuf.h>
#include "media.h"
#include "pkt.h"
#include "rtp.h"

struct dp_config;
struct worker;
struct fwd_stream;
struct fwd_output;
struct fwd_participant;
struct stream_repair;

/* What one copy sent to a receiver was (16 bytes): the input it came from and the fields the
 * fan-out wrote into it. Keyed by the receiver's sequence number: slot out_seq & mask. */
struct seq_ent {
	uint32_t in_ext;          /* extended sequence number of the input (0: empty slot) */
	uint16_t out_seq;         /* the receiver's sequence number (the key, to tell slots apart) */
	uint16_t picture_id;
	uint32_t ts;
	uint16_t frame_number;
	uint8_t  tl0picidx;
	uint8_t  marker;
};

/* When a copy was last resent: valid while its slot still holds that copy (in_ext, out_seq). Kept
 * apart from struct seq_ent so the fan-out's record is one 16-byte store. */
struct seq_resent {
	uint64_t tsc;
	uint32_t in_ext;
	uint16_t out_seq;
	uint16_t pad;
};

struct sub_repair {
	uint32_t mask;            /* entries - 1 (a power of two) */
	uint16_t rtx_seq;         /* the next sequence number of its RTX stream */
	uint16_t pad;
	struct seq_resent *resent; /* mask + 1 entries */
	struct seq_ent ent[];
};

/* ---- control thread ---- */

/* Once at start-up, before any state is made: ring sizes and the per-lcore budget from the
 * config (rtx_video_packets, rtx_audio_packets, rtx_max_mbufs). */
void repair_configure(const struct dp_config *cfg);

/* State of a published stream of kind (enum mmr_media_kind); NULL on no memory. An audio stream
 * with rtx_audio_packets = 0 keeps no packets but still gets the uplink NACK state. */
struct stream_repair *stream_repair_new(uint8_t kind);
/* Frees it and the packets it holds (after a grace period: no lcore sees it any more). */
void stream_repair_free(struct stream_repair *r);

/* State of a video subscription of a receiver that takes NACK; NULL on no memory. */
struct sub_repair *sub_repair_new(void);
void sub_repair_free(struct sub_repair *r);

/* ---- packet path (the lcore that owns the meeting) ---- */

/* The extended sequence number of seq in stream s (from the highest seen so far); also remembers
 * it as the newest when it is ahead. Called once per received packet, before the fan-out records
 * the copies under it (w->in_ext_seq). */
uint32_t repair_ext_seq(struct stream_repair *r, uint16_t seq);

/* A copy of the input (extended sequence number w->in_ext_seq) went to receiver o with the
 * receiver-visible sequence number out_seq and the fields lo: one small store into its seq_map.
 * No-op for outputs without repair state. */
static inline void repair_record(struct sub_repair *r, uint16_t out_seq, uint32_t in_ext_seq,
				 const struct layer_out *lo)
{
	struct seq_ent *e = &r->ent[out_seq & r->mask];
	e->in_ext = in_ext_seq;
	e->out_seq = out_seq;
	e->picture_id = lo->picture_id;
	e->ts = lo->ts;
	e->frame_number = lo->frame_number;
	e->tl0picidx = lo->tl0picidx;
	e->marker = lo->marker;
}

/*
 * After the fan-out of a received RTP packet of stream s from publisher pub (m, described by pi; its
 * RTP packet rtp_len bytes from pi->payload_off, parsed as ri and, video, mp): keep m (a new
 * reference: the caller still frees its own; m's data is trimmed to the RTP packet: the fan-out is
 * done with m's metadata, its copies hold their own) under ext_seq; feed the uplink NACK generator
 * and send the NACKs that are due. m must be a direct, single-segment mbuf. s->repair not NULL.
 */
void repair_on_rtp(struct worker *w, const struct fwd_participant *pub, const struct fwd_stream *s,
		   struct rte_mbuf *m, const struct pkt_info *pi, uint32_t rtp_len, uint32_t ext_seq,
		   const struct rtp_info *ri, const struct media_pkt *mp);

/*
 * A publisher's RTX packet (stream rs, rs->is_rtx, media stream rs->media) at rtp (len bytes, parsed
 * as ri), in place: the 2-byte original sequence number is taken out (the header moves up by two
 * bytes: *rtp and *len change), the media stream's SSRC, sequence number and payload type are
 * restored. Returns MMR_DROP_NONE and the media stream in *media: go on as with a media packet; or
 * a drop reason (no OSN, unknown payload type, a packet the stream already has: counted).
 */
enum mmr_drop_reason repair_rtx_unwrap(struct worker *w, const struct fwd_stream *rs, uint8_t **rtp,
				       uint32_t *len, struct rtp_info *ri, const struct fwd_stream **media);

/*
 * One NACK FCI item (RFC 4585: pid and its bitmask blp of the 16 following sequence numbers) from
 * receiver part about its copy o of stream s (o found by its out SSRC or RTX SSRC, fwd_sub_lookup).
 * Each asked packet that is still kept and was not resent to it within its RTT (rtt_us, 0: default
 * 100 ms) is rebuilt for it and sent: as RTX when o has an RTX SSRC, else on its media SSRC (SRTP
 * meetings: RTX only, see repair.c). Counted per stream: nack_in, resent, resent_rtx, resend_gone,
 * resend_within_rtt.
 */
void repair_on_nack(struct worker *w, const struct fwd_participant *part, const struct fwd_stream *s,
		    const struct fwd_output *o, uint16_t pid, uint16_t blp, uint32_t rtt_us);

#endif
