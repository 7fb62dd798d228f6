/*
 * fanout.c - build and send the per-receiver copies of one RTP packet (see fanout.h).
 *
 * A copy is Ethernet + IPv4/IPv6 + UDP + the RTP header and codec descriptor (the only bytes that
 * differ between receivers) + the payload, which is the same for everyone:
 *   - payload above DP_COPY_MAX_PAYLOAD (video): a small header mbuf holding the headers, chained
 *     to an indirect clone of the received mbuf trimmed to the payload, so the payload is never
 *     copied;
 *   - small payload (audio), or a PMD without multi-segment TX: one mbuf, payload memcpy'd.
 * A packet's outputs are taken FANOUT_CHUNK at a time: layer decisions first, then the chunk's
 * header mbufs and clones in one bulk allocation each, and one reference on the input for all its
 * clones (attached by hand, without rte_pktmbuf_attach's atomic per copy). Audio (no layers) skips
 * layer selection: its sequence numbers pass through and its sel[] entries are never touched.
 * Video packets come with their codec-neutral parse (struct media_pkt): layer selection per receiver
 * (layer_select.h) says whether it gets the packet and with which sequence number, timestamp, marker
 * bit, PictureID, TL0PICIDX and AV1 frame number, under the receiver's target as the word in its
 * selection state says now; the selector's current layers go to the controller as an event when
 * they change (dp_events.h).
 * UDP checksums are done in software and never re-read a copy. Once per received packet: the sum of
 * everything that is the same in every copy - the payload (byte-swapped when it sits at an odd
 * offset of the UDP segment), the RTP header and descriptor minus the fields we rewrite, the UDP
 * length and source port. Per copy (RFC 1624 style): plus its pseudo header (precomputed in its
 * fwd_output), destination port, SSRC, sequence number, PictureID, TL0PICIDX and frame number, and
 * the marker bit and timestamp where they can differ between copies (VP9 and AV1 markers,
 * simulcast timestamps; a plain VP8 or H.264 stream passes both through untouched). Header
 * extensions we do not rewrite are copied as they came.
 *
 * AV1: a packet that carries the Dependency Descriptor's template structure or its active decode
 * targets bitmask tells the receiver which decode targets it gets. A receiver below the top gets
 * its own descriptor saying so (the decode targets within its current one, from the structure:
 * dt_within): the bitmask rewritten, or inserted after the structure, which grows the extension
 * block. Those copies (keyframes and mask changes only) take a slow path: one whole mbuf, the RTP
 * packet rebuilt into it (rtp_replace_ext) and its UDP checksum summed in full.
 *
 * SRTP (fanout_srtp): the payload differs per receiver (each copy is encrypted under the
 * receiver's key), so there is no shared payload: per copy, the RTP header and descriptor are
 * rewritten in the decrypted input, srtp_protect_rtp_copy() encrypts input -> copy (the encryption
 * is the copy), and the UDP checksum is summed over the ciphertext it just wrote (still in L1).
 */
#define _LGPL_SOURCE
#include "fanout.h"

#include <string.h>
#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_memcpy.h>
#include <rte_prefetch.h>

#include "av1_dd.h"
#include "bwe.h"
#include "csum.h"
#include "dp_events.h"
#include "layer_select.h"
#include "repair.h"
#include "rewrite.h"
#include "rtcp_report.h"
#include "srtp_fast.h"

/* Up to this many outputs of a packet are handled together: their layer decisions first, then one
 * bulk allocation of their header mbufs and of their clones, and one reference-count update. */
#define FANOUT_CHUNK 32u
/* sel[] entries (video) are prefetched this many outputs ahead: at scale they are cache misses. */
#define SEL_PREFETCH_AHEAD 6u

/* The mbufs and input references taken for one chunk of copies. */
struct copy_alloc {
	struct rte_mbuf *hdr[FANOUT_CHUNK];   /* from pools->hdr, in the order of the copies using one */
	struct rte_mbuf *clone[FANOUT_CHUNK]; /* from pools->clone */
	uint32_t n_hdr, next_hdr;             /* bulk-allocated / used (the rest: one by one) */
	uint32_t n_clone, next_clone;
	uint32_t refs;                        /* references on m taken ahead and not yet given to a clone */
	int      manual_attach;               /* m is direct: clones are attached by hand (refs) */
	/* m's buffer, read once per chunk for the manual attaches */
	void    *buf_addr;
	rte_iova_t buf_iova;
	uint16_t buf_len;
	uint16_t priv_size;
	uint16_t body_data_off;               /* data_off of the payload in m's buffer */
};

static inline struct rte_mbuf *take_hdr(struct copy_alloc *ca, struct rte_mempool *mp)
{
	return ca->next_hdr < ca->n_hdr ? ca->hdr[ca->next_hdr++] : rte_pktmbuf_alloc(mp);
}

static inline struct rte_mbuf *take_clone(struct copy_alloc *ca, struct rte_mempool *mp)
{
	return ca->next_clone < ca->n_clone ? ca->clone[ca->next_clone++] : rte_pktmbuf_alloc(mp);
}

/*
 * Make c (fresh from the clone pool) an indirect mbuf on len bytes at offset off of m's buffer.
 * With ca->manual_attach (m direct, its buffer its own) this does what rte_pktmbuf_attach() does,
 * minus its per-call atomic increment (a reference was taken ahead for c, see fanout_chunk) and
 * the copy of m's metadata (a trailing segment's is never read): rte_pktmbuf_free() of c then
 * finds m from buf_addr and priv_size and drops that reference. Otherwise rte_pktmbuf_attach().
 */
static inline void attach_payload(struct copy_alloc *ca, struct rte_mbuf *c, struct rte_mbuf *m,
				  uint32_t off, uint32_t len)
{
	if (likely(ca->manual_attach)) {
		ca->refs--;
		c->buf_addr = ca->buf_addr;
		rte_mbuf_iova_set(c, ca->buf_iova);
		c->buf_len = ca->buf_len;
		c->priv_size = ca->priv_size;
		c->ol_flags = RTE_MBUF_F_INDIRECT;
		c->data_off = ca->body_data_off;
	} else {
		rte_pktmbuf_attach(c, m);     /* takes its own reference */
		c->data_off = (uint16_t)(c->data_off + off);
	}
	c->next = NULL;
	c->nb_segs = 1;
	c->data_len = (uint16_t)len;
	c->pkt_len = len;
}

/* Whether output o's copy is a header mbuf chained to a clone of the input. */
static inline int copy_is_chained(const struct worker *w, const struct fanout_pkt *fp, const struct fwd_output *o)
{
	uint32_t head = ETH_LEN + (o->family == MMR_AF_INET ? IP4_LEN : IP6_LEN) + UDP_LEN + fp->rtp_hdr_len;
	return fp->use_clone && head <= DP_HDR_MBUF_ROOM && likely(w->dp->port[o->dp_port].multiseg_tx);
}

/* Whether a whole (unchained) copy of output o fits a header mbuf. */
static inline int copy_fits_hdr(const struct fanout_pkt *fp, const struct fwd_output *o)
{
	uint32_t head = ETH_LEN + (o->family == MMR_AF_INET ? IP4_LEN : IP6_LEN) + UDP_LEN + fp->rtp_hdr_len;
	return head + fp->body_len <= DP_HDR_MBUF_ROOM;
}

static inline struct rte_mbuf *build_copy(struct worker *w, struct rte_mbuf *m, struct copy_alloc *ca,
					  const struct fanout_pkt *fp, const struct fwd_output *o,
					  const struct layer_out *lo)
{
	uint32_t head = ETH_LEN + (o->family == MMR_AF_INET ? IP4_LEN : IP6_LEN) + UDP_LEN + fp->rtp_hdr_len;
	struct rte_mbuf *h;
	uint8_t *p;

	if (copy_is_chained(w, fp, o)) {
		h = take_hdr(ca, w->pools->hdr);
		if (unlikely(!h))
			return NULL;
		struct rte_mbuf *c = take_clone(ca, w->pools->clone);
		if (unlikely(!c)) {
			rte_pktmbuf_free(h);
			return NULL;
		}
		attach_payload(ca, c, m, fp->body_off, fp->body_len);
		h->data_len = (uint16_t)head;
		h->pkt_len = head + fp->body_len;
		h->next = c;
		h->nb_segs = 2;
		p = rte_pktmbuf_mtod(h, uint8_t *);
	} else {
		uint32_t total = head + fp->body_len;
		h = copy_fits_hdr(fp, o) ? take_hdr(ca, w->pools->hdr) : rte_pktmbuf_alloc(w->pools->pkt);
		if (unlikely(!h))
			return NULL;
		if (unlikely(total > rte_pktmbuf_tailroom(h))) {
			rte_pktmbuf_free(h);
			return NULL;
		}
		h->data_len = (uint16_t)total;
		h->pkt_len = total;
		p = rte_pktmbuf_mtod(h, uint8_t *);
		rte_memcpy(p + head, rte_pktmbuf_mtod_offset(m, const uint8_t *, fp->body_off), fp->body_len);
	}

	if (o->bwe) {
		/* a receiver with a bandwidth estimate: its transport-wide seq and abs-send-time in the
		 * copy's header (the offsets found once per packet: w->bwe_in), their words in the one
		 * checksum computation */
		uint8_t *udp;
		uint64_t sum = write_copy_headers_sum(p, o, fp, lo, &udp);
		sum += bwe_stamp(w, o, &w->bwe_in, udp + UDP_LEN, fp->udp_len - UDP_LEN);
		put_be16(udp + 6, udp_csum_field(sum));
	} else {
		write_copy_headers(p, o, fp, lo);
	}
	return h;
}

/* Build and send the copies for k outputs whose layer decisions said forward (lo[i] for fo[i]). */
static void fanout_chunk(struct worker *w, struct rte_mbuf *m, const struct fanout_pkt *fp,
			 const struct fwd_output *const *fo, const struct layer_out *lo, uint32_t k,
			 const struct fwd_stream *s, uint32_t rtp_payload_len, int *sr_budget)
{
	struct mmr_stream_stats *ss = &w->stream_stats[s->id];
	struct copy_alloc ca;
	uint32_t n_hdr = 0, n_chained = 0;

	for (uint32_t i = 0; i < k; i++) {
		if (copy_is_chained(w, fp, fo[i])) {
			n_hdr++;
			n_chained++;
		} else if (copy_fits_hdr(fp, fo[i])) {
			n_hdr++;
		}
	}
	if (w->tsc_per_us)      /* bandwidth estimation on: the first two receivers' send logs, ahead */
		for (uint32_t i = 0; i < k && i < 2; i++)
			if (fo[i]->bwe)
				bwe_prefetch(fo[i]);
	ca.next_hdr = ca.next_clone = 0;
	ca.n_hdr = n_hdr && rte_pktmbuf_alloc_bulk(w->pools->hdr, ca.hdr, n_hdr) == 0 ? n_hdr : 0;
	ca.n_clone = n_chained && rte_pktmbuf_alloc_bulk(w->pools->clone, ca.clone, n_chained) == 0 ? n_chained : 0;
	/* one reference on the input for all the chunk's clones (a plain store while the caller's is
	 * the only one); those not used are given back below */
	/* a direct mbuf's buffer follows it and its private area: their distance is m->priv_size,
	 * known without reading m's second cache line (the zero-copy receive path never touched it) */
	uintptr_t priv = (uintptr_t)m->buf_addr - (uintptr_t)m - sizeof(struct rte_mbuf);
	ca.manual_attach = n_chained && RTE_MBUF_DIRECT(m) &&
			   (uintptr_t)m->buf_addr >= (uintptr_t)m + sizeof(struct rte_mbuf) && priv <= UINT16_MAX;
	ca.refs = ca.manual_attach ? n_chained : 0;
	if (ca.refs) {
		rte_mbuf_refcnt_update(m, (int16_t)ca.refs);
		ca.buf_addr = m->buf_addr;
		ca.buf_iova = rte_mbuf_iova_get(m);
		ca.buf_len = m->buf_len;
		ca.priv_size = (uint16_t)priv;
		ca.body_data_off = (uint16_t)(m->data_off + fp->body_off);
	}

	for (uint32_t i = 0; i < k; i++) {
		/* the header line of the receiver two copies on (its log entry's line was fetched at its
		 * previous stamp: bwe_stamp) */
		if (w->tsc_per_us && i + 2 < k && fo[i + 2]->bwe)
			bwe_prefetch(fo[i + 2]);
		struct rte_mbuf *c = build_copy(w, m, &ca, fp, fo[i], &lo[i]);   /* stamped */
		if (unlikely(!c)) {
			w->st->drops[MMR_DROP_NO_MBUF]++;
			continue;
		}
		w->st->copies++;
		ss->fwd_copies++;
		repair_record(fo[i]->repair, w->in_ext_seq, w->in_encoding, &lo[i]);
		if (fo[i]->bwe) {
			worker_send(w, fo[i]->dp_port, c);
			bwe_after_copy(w, fo[i]);
		} else {
			worker_send(w, fo[i]->dp_port, c);
		}
		rtcp_on_copy(w, fo[i], s, lo[i].ts, rtp_payload_len, fp->sport_be, sr_budget);
	}
	/* a copy that failed frees what it took, but a clone is left over when its header mbuf could
	 * not be had; unused references go back (the caller's own keeps m alive) */
	if (unlikely(ca.next_hdr < ca.n_hdr))
		rte_pktmbuf_free_bulk(ca.hdr + ca.next_hdr, ca.n_hdr - ca.next_hdr);
	if (unlikely(ca.next_clone < ca.n_clone))
		rte_pktmbuf_free_bulk(ca.clone + ca.next_clone, ca.n_clone - ca.next_clone);
	if (unlikely(ca.refs))
		rte_mbuf_refcnt_update(m, (int16_t)-(int32_t)ca.refs);
}

/* AV1: does this packet tell receivers their active decode targets (it carries the structure or a
 * bitmask)? Decided once per packet. */
static inline int av1_tells_active(const struct media_pkt *mp)
{
	return mp && mp->codec == MMR_CODEC_AV1 && (mp->structure_attached || mp->dd_active_present);
}

/* For such a packet: the active decode targets bitmask receiver o is to see in *mask (those within
 * its current decode target), and 1 when that differs from what the packet says; 0 when the copy
 * goes as it came. */
static inline int av1_active_for(const struct worker *w, const struct fwd_stream *s,
				 const struct media_pkt *mp, const struct fwd_output *o, uint32_t *mask)
{
	const struct av1_dd_structure *st = s->av1;
	unsigned cur = w->sel[o->sel_id].cur_dt;
	if (!st || !st->valid || st->n_dts != mp->n_dts || cur >= st->n_dts)
		return 0;
	*mask = st->dt_within[cur] & mp->active_dts;
	return *mask != mp->active_dts;
}

/* The RTP packet rtp (rtp_len bytes, parsed as ri) with its Dependency Descriptor's active decode
 * targets set to mask, into out; its length, or -1 (the descriptor or extension block cannot take
 * it: the copy then goes with the descriptor as it came). */
static int av1_rebuild(const uint8_t *rtp, uint32_t rtp_len, const struct rtp_info *ri,
		       const struct media_pkt *mp, uint32_t mask, uint8_t *out, uint32_t cap)
{
	uint8_t dd[AV1_DD_MAX_LEN];
	int dlen = av1_dd_with_active(rtp + mp->dd_off, mp->dd_len, mp->n_dts, mask, dd, sizeof(dd));
	if (dlen < 0)
		return -1;
	return rtp_replace_ext(rtp, rtp_len, ri, mp->dd_off, mp->dd_len, dd, (uint32_t)dlen, out, cap);
}

/* The slow path of a plain copy with its own descriptor: one mbuf, the packet rebuilt into it, the
 * receiver's fields written, the UDP checksum summed in full. NULL: no mbuf, or the rebuild was
 * refused (the caller then sends the usual copy). */
static struct rte_mbuf *build_av1_copy(struct worker *w, const struct fanout_pkt *fp, const struct fwd_output *o,
				       const struct rtp_info *ri, const struct media_pkt *mp,
				       const struct layer_out *lo, uint32_t mask, uint32_t rtp_len)
{
	uint32_t head = ETH_LEN + (o->family == MMR_AF_INET ? IP4_LEN : IP6_LEN) + UDP_LEN;
	struct rte_mbuf *h = rte_pktmbuf_alloc(w->pools->pkt);
	if (unlikely(!h))
		return NULL;
	uint8_t *p = rte_pktmbuf_mtod(h, uint8_t *);
	uint32_t room = rte_pktmbuf_tailroom(h);
	int n = room > head ? av1_rebuild(fp->rtp, rtp_len, ri, mp, mask, p + head, room - head) : -1;
	if (n < 0) {
		rte_pktmbuf_free(h);
		return NULL;
	}
	struct fanout_pkt f2 = *fp;    /* the descriptor's data starts where it did: fn_pos holds */
	uint8_t *rtp = p + head;
	write_rewrites(rtp, &f2, lo);
	memcpy(rtp + 8, &o->out_ssrc_be, 4);
	if (o->bwe)
		bwe_stamp_whole(w, o, rtp, (uint32_t)n, w->bwe_in.tw_id, w->bwe_in.abs_id);
	f2.udp_len = (uint16_t)(UDP_LEN + n);
	uint8_t *udp = write_headers(p, o, &f2);
	put_be16(udp + 6, copy_udp_csum_full(o, &f2, rtp, (uint32_t)n));
	h->data_len = (uint16_t)(head + (uint32_t)n);
	h->pkt_len = head + (uint32_t)n;
	return h;
}

/* A receive slot's output (issue 13) whose assignment number the slot's selection state has not
 * seen: a new publisher stream on the slot (the selection restarts at its keyframe and continues the
 * receiver's numbering; NACKs of the old stream's numbers are refused from here: the map's floor),
 * or the previous one's output still published for a moment (-1: withhold). */
static __attribute__((cold, noinline)) int slot_source(struct worker *w, const struct fwd_output *o,
							struct layer_sel *sel)
{
	int src = layer_sel_slot_source(sel, o->slot_gen);
	if (src == LAYER_SLOT_STALE)
		return -1;
	w->st->slot_switches++;
	if (sel->rebase && o->repair && o->repair->has_map)
		seq_map_set_floor(&o->repair->map, layer_sel_next_seq(sel));
	return 0;
}

/* A receiver's layer decision for a video packet, under its target as it is now (a word in its
 * selection state the control thread may change at any time); reports its current layers to the
 * controller when they changed (an event on our ring, dp_events.h). */
static inline int select_layers(struct worker *w, const struct fwd_output *o, const struct rtp_info *ri,
				const struct media_pkt *mp, struct layer_out *lo)
{
	struct layer_sel *sel = &w->sel[o->sel_id];
	if (unlikely(o->slot_gen != 0) && unlikely(o->slot_gen != sel->slot_gen) && slot_source(w, o, sel) < 0)
		return LAYER_SEL_WITHHOLD;
	const struct layer_target t = layer_sel_target(sel);
	int fwd = layer_sel_video(sel, &t, ri, mp, w->now_rtp, lo);
	if (unlikely(sel->dirty)) {
		struct layer_current c;
		layer_sel_current(sel, &c);
		sel->dirty = 0;
		dp_layers_report(w->layers_now, &w->ev, o->sel_id,
				 mmr_layers_pack(c.started, c.encoding, c.dt, c.sid, c.tid));
	}
	return fwd;
}

void fanout_rtp(struct worker *w, struct rte_mbuf *m, const struct pkt_info *pi,
		const struct rtp_info *ri, const struct media_pkt *mp, const struct fwd_stream *s)
{
	const struct fwd_outputs *outs = rcu_dereference(s->outputs);
	if (!outs)
		return;
	struct mmr_stream_stats *ss = &w->stream_stats[s->id];
	const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
	struct fanout_pkt fp;
	fp.rtp = frame + pi->payload_off;
	fp.rtp_hdr_len = ri->hdr_len + (mp ? mp->desc_len : 0u);
	fp.body_off = pi->payload_off + fp.rtp_hdr_len;
	fp.body_len = pi->payload_len - fp.rtp_hdr_len;
	fp.const_sum = 0;
	fp.udp_len = (uint16_t)(UDP_LEN + pi->payload_len);
	fp.sport_be = w->udp_port_be ? w->udp_port_be : rte_cpu_to_be_16(pi->dport);
	fp.use_clone = fp.body_len > DP_COPY_MAX_PAYLOAD;
	int have_sum = 0;
	const int tells_active = av1_tells_active(mp);   /* once per packet, not per copy */
	int sr_budget = 1;          /* SRs sent with this packet's copies at most (rtcp_report.h) */
	int need_kf = 0;            /* a receiver waits for a keyframe of this stream */

	const struct fwd_output *fo[FANOUT_CHUNK];
	struct layer_out lo[FANOUT_CHUNK];
	uint32_t n = outs->n;
	for (uint32_t i = 0; i < n && i < SEL_PREFETCH_AHEAD; i++) {
		rte_prefetch0(mp ? (const void *)&w->sel[outs->o[i].sel_id] : (const void *)&outs->o[i]);
		if (mp)
			rtcp_prefetch_copy(w, &outs->o[i]);
	}
	for (uint32_t base = 0; base < n; base += FANOUT_CHUNK) {
		uint32_t end = n - base > FANOUT_CHUNK ? base + FANOUT_CHUNK : n;
		uint32_t k = 0;
		if (mp) {
			for (uint32_t i = base; i < end; i++) {
				const struct fwd_output *o = &outs->o[i];
				if (i + SEL_PREFETCH_AHEAD < n) {
					rte_prefetch0(&w->sel[outs->o[i + SEL_PREFETCH_AHEAD].sel_id]);
					rtcp_prefetch_copy(w, &outs->o[i + SEL_PREFETCH_AHEAD]);
				}
				if (unlikely(worker_receiver_waiting(w, o->receiver_id)))
					continue;
				int fwd = select_layers(w, o, ri, mp, &lo[k]);
				if (fwd <= 0) {
					if (unlikely(fwd == LAYER_SEL_PAUSED)) {
						/* the allocator paused it: no keyframe request */
						w->st->drops[MMR_DROP_PAUSED]++;
						ss->paused_drops++;
						continue;
					}
					w->st->drops[MMR_DROP_LAYER]++;
					ss->layer_drops++;
					need_kf |= rtcp_waits_keyframe(&w->sel[o->sel_id], mp);
					continue;
				}
				if (unlikely(!worker_out_mac_ok(w, o)))   /* its next hop's MAC (neigh.h) */
					continue;
				repair_prefetch(o->repair, lo[k].seq);
				uint32_t mask;
				if (unlikely(tells_active) && av1_active_for(w, s, mp, o, &mask)) {
					if (unlikely(!have_sum)) {
						find_rewrites(&fp, mp, s);
						fp.rw_tsm |= outs->slotted;
						prepare_sum(&fp, frame);
						have_sum = 1;
					}
					struct rte_mbuf *c = build_av1_copy(w, &fp, o, ri, mp, &lo[k], mask,
									    pi->payload_len);
					if (c) {
						w->st->copies++;
						ss->fwd_copies++;
						repair_record(o->repair, w->in_ext_seq, w->in_encoding, &lo[k]);
						worker_send(w, o->dp_port, c);
						if (o->bwe)
							bwe_after_copy(w, o);
						rtcp_on_copy(w, o, s, lo[k].ts, ri->payload_len, fp.sport_be,
							     &sr_budget);
						continue;
					}
				}
				if (unlikely(!o->dst_port_be)) {   /* an ICE receiver without an address */
					w->st->drops[MMR_DROP_NO_ADDRESS]++;
					continue;
				}
				fo[k++] = o;
			}
			if (k == 0)
				continue;
		} else {
			/* no layers: every receiver gets every packet under its own SSRC; its sel[]
			 * entry is neither read nor kept */
			for (uint32_t i = base; i < end; i++) {
				if (i + SEL_PREFETCH_AHEAD < n)
					rte_prefetch0(&outs->o[i + SEL_PREFETCH_AHEAD]);
				if (i + SEL_PREFETCH_AHEAD / 2 < n)   /* its line was asked for 3 outputs ago */
					rtcp_prefetch_copy(w, &outs->o[i + SEL_PREFETCH_AHEAD / 2]);
				if (unlikely(worker_receiver_waiting(w, outs->o[i].receiver_id)))
					continue;
				if (unlikely(!outs->o[i].dst_port_be)) {   /* an ICE receiver without an address */
					w->st->drops[MMR_DROP_NO_ADDRESS]++;
					continue;
				}
				if (unlikely(!worker_out_mac_ok(w, &outs->o[i])))
					continue;
				layer_out_passthrough(ri, &lo[k]);
				fo[k++] = &outs->o[i];
			}
			if (k == 0)
				continue;
		}
		if (unlikely(!have_sum)) {
			find_rewrites(&fp, mp, s);
			fp.rw_tsm |= outs->slotted;
			prepare_sum(&fp, frame);
			have_sum = 1;
		}
		fanout_chunk(w, m, &fp, fo, lo, k, s, ri->payload_len, &sr_budget);
	}
	if (unlikely(need_kf))
		rtcp_kf_ask(w, s);
}

/* ---- SRTP ---------------------------------------------------------------------------------- */

/* One receiver's encrypted copy of the (rewritten, decrypted) RTP packet at rtp. NULL: no copy,
 * *why says why (no_mbuf; or srtp_reuse / srtp_lease: the context could not prove the index fresh,
 * lib/srtp/srtp_fast.h). */
static inline struct rte_mbuf *build_srtp_copy(struct worker *w, struct fanout_pkt *fp, const struct fwd_output *o,
					       const uint8_t *rtp, uint32_t rtp_len, enum mmr_drop_reason *why)
{
	uint32_t head = ETH_LEN + (o->family == MMR_AF_INET ? IP4_LEN : IP6_LEN) + UDP_LEN;
	uint32_t need = head + rtp_len + SRTP_MAX_TRAILER;
	*why = MMR_DROP_NO_MBUF;
	if (unlikely(!o->srtp))
		return NULL;
	struct rte_mbuf *h = rte_pktmbuf_alloc(need <= DP_HDR_MBUF_ROOM ? w->pools->hdr : w->pools->pkt);
	if (unlikely(!h))
		return NULL;
	uint32_t room = rte_pktmbuf_tailroom(h);
	uint8_t *p = rte_pktmbuf_mtod(h, uint8_t *);
	uint32_t n = room > head ? srtp_protect_rtp_copy(o->srtp, rtp, rtp_len, p + head, room - head) : 0;
	if (unlikely(n == 0)) {
		if (room > head)
			*why = srtp_protect_why(o->srtp);
		rte_pktmbuf_free(h);
		return NULL;
	}
	fp->udp_len = (uint16_t)(UDP_LEN + n);
	uint8_t *udp = write_headers(p, o, fp);
	put_be16(udp + 6, copy_udp_csum_full(o, fp, udp + UDP_LEN, n));
	h->data_len = (uint16_t)(head + n);
	h->pkt_len = head + n;
	return h;
}

/* Receiver o's encrypted copy of src (the input with o's header written), sent and counted, with
 * its repair record and SR accounting (lo: o's numbering); a copy refused is a counted drop. */
static inline void srtp_send_copy(struct worker *w, struct fanout_pkt *fp, const struct fwd_output *o,
				  const uint8_t *src, uint32_t src_len, struct layer_out *lo,
				  const struct fwd_stream *s, uint32_t payload_len, int *sr_budget)
{
	enum mmr_drop_reason why;
	struct rte_mbuf *c = build_srtp_copy(w, fp, o, src, src_len, &why);
	if (unlikely(!c)) {
		w->st->drops[why]++;
		return;
	}
	w->st->copies++;
	w->stream_stats[s->id].fwd_copies++;
	struct sub_repair *sr = o->repair;
	if (sr && sr->has_map) {
		/* under the sequence number the receiver sees: after its context's lease shift */
		uint32_t head = ETH_LEN + (o->family == MMR_AF_INET ? IP4_LEN : IP6_LEN) + UDP_LEN;
		lo->seq = get_be16(rte_pktmbuf_mtod_offset(c, const uint8_t *, head + 2));
		repair_record(sr, w->in_ext_seq, w->in_encoding, lo);
	}
	worker_send(w, o->dp_port, c);
	if (o->bwe)
		bwe_after_copy(w, o);
	rtcp_on_copy(w, o, s, lo->ts, payload_len, fp->sport_be, sr_budget);
}

void fanout_srtp(struct worker *w, struct rte_mbuf *m, const struct pkt_info *pi, uint32_t rtp_len,
		 const struct rtp_info *ri, const struct media_pkt *mp, const struct fwd_stream *s)
{
	const struct fwd_outputs *outs = rcu_dereference(s->outputs);
	if (!outs)
		return;
	struct mmr_stream_stats *ss = &w->stream_stats[s->id];
	uint8_t *rtp = rte_pktmbuf_mtod_offset(m, uint8_t *, pi->payload_off);
	struct fanout_pkt fp;
	fp.rtp = rtp;
	fp.sport_be = w->udp_port_be ? w->udp_port_be : rte_cpu_to_be_16(pi->dport);
	find_rewrites(&fp, mp, s);
	fp.rw_tsm |= outs->slotted;
	const int tells_active = av1_tells_active(mp);
	int sr_budget = 1, need_kf = 0;     /* as in fanout_rtp */
	/* bandwidth estimation: the elements' bytes as they came, written back for copies to receivers
	 * without an estimate after one with (the copies are encrypted from the input) */
	int stamped = 0;
	uint8_t tw_orig[2] = { 0, 0 }, abs_orig[3] = { 0, 0, 0 };
	if (w->tsc_per_us) {
		const struct bwe_pkt *bp = &w->bwe_in;
		if (bp->tw_off)
			memcpy(tw_orig, rtp + bp->tw_off, 2);
		if (bp->abs_off)
			memcpy(abs_orig, rtp + bp->abs_off, 3);
	}

	uint32_t n = outs->n;
	for (uint32_t i = 0; i < n; i++) {
		const struct fwd_output *o = &outs->o[i];
		struct layer_out lo;
		if (i + 1 < n)
			rte_prefetch0(&w->sel[outs->o[i + 1].sel_id]);
		if (unlikely(worker_receiver_waiting(w, o->receiver_id)))
			continue;
		int fwd = 1;
		if (mp)
			fwd = select_layers(w, o, ri, mp, &lo);
		else
			layer_out_passthrough(ri, &lo);
		if (unlikely(!o->dst_port_be) && fwd > 0) {   /* an ICE receiver without an address */
			w->st->drops[MMR_DROP_NO_ADDRESS]++;
			continue;
		}
		if (fwd > 0 && unlikely(!worker_out_mac_ok(w, o)))    /* its next hop's MAC (neigh.h) */
			continue;
		if (fwd <= 0) {
			if (unlikely(fwd == LAYER_SEL_PAUSED)) {
				/* the allocator paused it: no keyframe request */
				w->st->drops[MMR_DROP_PAUSED]++;
				ss->paused_drops++;
				continue;
			}
			w->st->drops[MMR_DROP_LAYER]++;
			ss->layer_drops++;
			need_kf |= rtcp_waits_keyframe(&w->sel[o->sel_id], mp);
			continue;
		}
		/* this receiver's header and descriptor, written into the input: the copy is encrypted
		 * from it (the next receiver's rewrite replaces every byte written here) */
		write_rewrites(rtp, &fp, &lo);
		memcpy(rtp + 8, &o->out_ssrc_be, 4);
		if (o->bwe) {
			bwe_stamp(w, o, &w->bwe_in, rtp, rtp_len);
			stamped = 1;
		} else if (unlikely(stamped)) {
			bwe_restore(rtp, &w->bwe_in, tw_orig, abs_orig);
		}
		const uint8_t *src = rtp;
		uint32_t src_len = rtp_len;
		uint32_t mask;
		if (unlikely(tells_active) && av1_active_for(w, s, mp, o, &mask)) {
			int n = av1_rebuild(rtp, rtp_len, ri, mp, mask, w->av1_scratch, sizeof(w->av1_scratch));
			if (n > 0) {
				src = w->av1_scratch;
				src_len = (uint32_t)n;
			}
		}
		srtp_send_copy(w, &fp, o, src, src_len, &lo, s, ri->payload_len, &sr_budget);
	}
	if (unlikely(stamped))
		bwe_restore(rtp, &w->bwe_in, tw_orig, abs_orig);   /* kept for resends as it came */
	if (unlikely(need_kf))
		rtcp_kf_ask(w, s);
}

/* ---- top-N audio (audio.c) ------------------------------------------------------------------ */

void fanout_audio_copies(struct worker *w, struct rte_mbuf *m, const struct pkt_info *pi, uint32_t rtp_len,
			 const struct rtp_info *ri, const struct fwd_stream *s, int srtp,
			 const struct fwd_output *const *fo, const struct layer_out *lo, uint32_t k, int *sr_budget)
{
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	struct fanout_pkt fp;
	fp.rtp = frame + pi->payload_off;
	fp.sport_be = w->udp_port_be ? w->udp_port_be : rte_cpu_to_be_16(pi->dport);
	find_rewrites(&fp, NULL, s);
	fp.rw_tsm = 1;              /* each slot output has a timeline of its own: the timestamp differs */
	if (srtp) {
		/* as fanout_srtp: each copy encrypted from the input with its header written, a receiver
		 * with an estimate stamped, the elements' bytes put back after (and for the others) */
		uint8_t *rtp = frame + pi->payload_off;
		const struct bwe_pkt *bp = &w->bwe_in;
		int stamped = 0;
		uint8_t tw_orig[2] = { 0, 0 }, abs_orig[3] = { 0, 0, 0 };
		if (w->tsc_per_us) {
			if (bp->tw_off)
				memcpy(tw_orig, rtp + bp->tw_off, 2);
			if (bp->abs_off)
				memcpy(abs_orig, rtp + bp->abs_off, 3);
		}
		for (uint32_t i = 0; i < k; i++) {
			write_rewrites(rtp, &fp, &lo[i]);
			memcpy(rtp + 8, &fo[i]->out_ssrc_be, 4);
			if (fo[i]->bwe) {
				bwe_stamp(w, fo[i], bp, rtp, rtp_len);
				stamped = 1;
			} else if (unlikely(stamped)) {
				bwe_restore(rtp, bp, tw_orig, abs_orig);
			}
			struct layer_out l = lo[i];
			srtp_send_copy(w, &fp, fo[i], rtp, rtp_len, &l, s, ri->payload_len, sr_budget);
		}
		if (unlikely(stamped))
			bwe_restore(rtp, bp, tw_orig, abs_orig);
		return;
	}
	fp.rtp_hdr_len = ri->hdr_len;
	fp.body_off = pi->payload_off + fp.rtp_hdr_len;
	fp.body_len = pi->payload_len - fp.rtp_hdr_len;
	fp.udp_len = (uint16_t)(UDP_LEN + pi->payload_len);
	fp.use_clone = fp.body_len > DP_COPY_MAX_PAYLOAD;
	prepare_sum(&fp, frame);
	fanout_chunk(w, m, &fp, fo, lo, k, s, ri->payload_len, sr_budget);
}
