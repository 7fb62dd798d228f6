/*
 * fanout.h - send one received RTP packet of a known stream to each of the stream's receivers:
 * layer selection per receiver, then a copy with new Ethernet/IP/UDP headers, the receiver's
 * sequence number, timestamp, marker and SSRC, and (video) the receiver's PictureID/TL0PICIDX/AV1 frame
 * number; in SRTP meetings
 * encrypted for each receiver.
 */
#ifndef MMR_DP_FANOUT_H
#define MMR_DP_FANOUT_H

#include <rte_mbuf.h>
#include "fwd_table.h"
#include "pkt.h"
#include "rtp.h"
#include "media.h"
#include "worker.h"

/*
 * m: the received packet (single segment), described by pi/ri; mp: its codec-neutral parse (video),
 * or NULL for a stream without layers (audio). The caller still owns m and frees it afterwards: copies that
 * share its payload hold their own reference.
 */
void fanout_rtp(struct worker *w, struct rte_mbuf *m, const struct pkt_info *pi,
		const struct rtp_info *ri, const struct media_pkt *mp, const struct fwd_stream *s);

/*
 * The same for an SRTP meeting: m holds the packet decrypted in place (rtp_len bytes of RTP from
 * pi->payload_off, trailer removed). Every receiver gets a whole copy of its own, encrypted under
 * its RECV key straight from m into the copy (srtp_protect_rtp_copy), after its RTP header and codec
 * descriptor were rewritten in m. m is the caller's to free; no copy refers to it.
 */
void fanout_srtp(struct worker *w, struct rte_mbuf *m, const struct pkt_info *pi, uint32_t rtp_len,
		 const struct rtp_info *ri, const struct media_pkt *mp, const struct fwd_stream *s);

/*
 * Top-N audio (audio.c): copies of audio packet m of stream s to the k outputs fo[] (k <= 32), each
 * with its own sequence number and timestamp lo[i] (the slot's numbering, lib/audio/topn.h); the
 * SSRC is the output's. srtp: m holds the packet decrypted in place (rtp_len bytes, as for
 * fanout_srtp) and each copy is encrypted under its output's context; else as fanout_rtp's copies.
 * Counted and SR-accounted like any copy (*sr_budget: rtcp_on_copy's, started at 1 per packet).
 */
void fanout_audio_copies(struct worker *w, struct rte_mbuf *m, const struct pkt_info *pi, uint32_t rtp_len,
			 const struct rtp_info *ri, const struct fwd_stream *s, int srtp,
			 const struct fwd_output *const *fo, const struct layer_out *lo, uint32_t k, int *sr_budget);

#endif
