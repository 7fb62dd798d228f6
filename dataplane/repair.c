/*
 * repair.c - loss repair on the lcore that owns the meeting (repair.h).
 *
 * Toward receivers. Every received RTP packet of a video stream (audio: when rtx_audio_packets > 0)
 * is kept after its fan-out, by mbuf reference, no copy: the receive path's own reference goes to
 * the stream's ring (lib/repair/pkt_ring; no reference-count update), its data trimmed to the RTP
 * packet (the fan-out is done with the mbuf's metadata; its copies hold their own). The ring has a
 * slot per extended sequence number modulo its size; the packet a put evicts is prefetched and
 * freed with the others of the loop iteration in one bulk (repair_flush). A per-lcore budget
 * (rtx_max_mbufs) bounds what is held: beyond it a packet is not kept (counted rtx_not_kept). Each
 * copy the fan-out sends to a receiver that takes NACK is recorded in that subscription's sequence
 * map (lib/repair/seq_map, one 24-byte entry, fetched ahead at the layer decision): the receiver's
 * sequence number -> the input's extended sequence number, its simulcast encoding and the fields
 * written into that copy (timestamp, marker, PictureID, TL0PICIDX, AV1 frame number). A NACK from
 * the receiver (repair_on_nack) maps each asked sequence number back to the kept packet and
 * rebuilds the copy in a fresh mbuf: Ethernet/IP/UDP as the fan-out writes them for that output,
 * the RTP header with every per-receiver field written from the map (the kept packet is parsed
 * again to find them; its header's own values do not matter: in SRTP meetings the fan-out rewrote
 * it in place for each receiver), and a full UDP checksum. An AV1 packet goes with its Dependency
 * Descriptor as kept (the fan-out's per-receiver active-decode-targets rewrite is not redone). Sent as RTX (RFC 4588) when the subscription has an RTX SSRC and the receiver's
 * RTX map has a payload type for the packet's: the RTX SSRC, that payload type, the
 * subscription's own RTX sequence numbers, and the receiver's sequence number (OSN) in front of
 * the payload. Otherwise on the media SSRC under the receiver's sequence number.
 *
 * SRTP: an RTX resend is encrypted under fwd_output.rtx_srtp (its own SSRC and index space). A
 * resend on the media SSRC would encrypt a second packet at an index the receiver's context has
 * already used: srtp_fast refuses that (srtp_reuse), and the rule that no (key, SSRC, index) is
 * encrypted twice is the project's (docs/design.md "Keys"), so in SRTP meetings a receiver without
 * RTX gets no resends (counted srtp_reuse). The sequence numbers in the map are the ones the
 * receiver sees: SRTP copies read them back from the copy, after a context's lease shift.
 *
 * Not twice to the same receiver within its RTT (default 100 ms): each slot of the map remembers
 * when its copy was last resent.
 *
 * From publishers. The publisher's RTX stream (a fwd_stream with is_rtx) is unwrapped in place
 * (repair_rtx_unwrap): the OSN taken out, the media stream's SSRC, sequence number and payload type
 * put back; the packet then goes on as the media packet it repairs (once: one the stream already
 * holds is a counted drop). Gaps in the media stream are NACKed to the publisher (uplink_nack).
 *
 * No locks, syscalls or allocation on the packet path; the only atomics are on the per-lcore count
 * of held mbufs while a ring fills up (the control thread gives a stream's mbufs back when it frees
 * it, and a meeting that moves takes its stream's count along).
 */
#define _LGPL_SOURCE
#include "repair.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_prefetch.h>

#include "bwe.h"
#include "config.h"
#include "fwd_table.h"
#include "media_parse.h"
#include "rewrite.h"
#include "rtcp.h"
#include "rtcp_out.h"
#include "rtcp_report.h"
#include "rtcp_state.h"
#include "srtp_fast.h"
#include "worker.h"

#define REPAIR_DEFAULT_RTT_US 100000u
#define UPLINK_NACK_MAX       64u       /* seqs in one NACK to a publisher */

static uint32_t held[MMR_MAX_LCORES];   /* mbufs held per worker (atomic: see above) */

/* ---- control thread --------------------------------------------------------------------------- */

struct stream_repair *stream_repair_new(struct dataplane *dp, const struct mmr_cmd_stream *c)
{
	if (!dp->cfg->rtcp)
		return NULL;      /* RTCP off: the packet path is the one without repair */
	struct stream_repair *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->kind = c->kind;
	r->lcore = -1;
	uint32_t n = c->kind == MMR_KIND_VIDEO ? dp->cfg->rtx_video_packets : dp->cfg->rtx_audio_packets;
	if (n) {
		r->ring = malloc(pkt_ring_size(n));
		if (!r->ring || pkt_ring_init(r->ring, n) < 0)
			goto fail;
	}
	r->gen = malloc(sizeof(*r->gen));
	if (!r->gen)
		goto fail;
	nack_gen_init(r->gen, rte_get_tsc_hz());
	return r;
fail:
	free(r->ring);
	free(r);
	return NULL;
}

static void release_mbuf(void *pkt, void *arg)
{
	(void)arg;
	rte_pktmbuf_free(pkt);
}

void stream_repair_free(void *p)
{
	struct stream_repair *r = p;
	if (!r)
		return;
	if (r->ring)
		pkt_ring_drain(r->ring, release_mbuf, NULL);
	if (r->lcore >= 0 && r->n_held)
		__atomic_fetch_sub(&held[r->lcore], r->n_held, __ATOMIC_RELAXED);
	free(r->ring);
	free(r->gen);
	free(r);
}

struct sub_repair *sub_repair_new(struct dataplane *dp, const struct mmr_cmd_sub *c,
				  const struct mmr_cmd_stream *s, const struct mmr_cmd_participant *rcv)
{
	(void)c;
	if (!dp->cfg->rtcp)
		return NULL;
	/* a map for a receiver that takes NACK, of a stream whose packets are kept */
	int has_map = (rcv->fb & MMR_FB_NACK) &&
		      (s->kind == MMR_KIND_VIDEO ? dp->cfg->rtx_video_packets : dp->cfg->rtx_audio_packets) > 0;
	struct sub_repair *r = calloc(1, has_map ? sizeof(*r) : offsetof(struct sub_repair, map));
	if (!r)
		return NULL;
	r->rtx_seq = (uint16_t)rte_rdtsc();   /* RFC 4588: a random start, like any RTP stream */
	if (has_map) {
		r->has_map = 1;
		seq_map_init(&r->map);
	}
	return r;
}

void sub_repair_free(void *p)
{
	struct sub_repair *r = p;
	if (!r)
		return;
	free(r);
}

/* ---- packet path ---------------------------------------------------------------------------- */

/* The extended sequence number nearest ref with the low 16 bits seq. */
static inline uint32_t ext_near(uint32_t ref, uint16_t seq)
{
	uint32_t e = (ref & ~0xffffu) | seq;
	int32_t d = (int32_t)(e - ref);
	if (d > 0x8000 && e >= 0x10000)
		e -= 0x10000;
	else if (d < -0x8000)
		e += 0x10000;
	return e;
}

uint32_t repair_ext_seq(struct stream_repair *r, uint16_t seq)
{
	uint32_t e;
	if (unlikely(!r->have_ext)) {
		r->have_ext = 1;
		e = r->max_ext = 0x10000u | seq;   /* one cycle up: a packet from just before stays positive */
	} else {
		e = ext_near(r->max_ext, seq);
		if ((int32_t)(e - r->max_ext) > 0)
			r->max_ext = e;
	}
	/* the slot this packet goes into after its fan-out (repair_on_rtp): cold at scale */
	if (r->ring)
		rte_prefetch0(&r->ring->slot[e & r->ring->mask]);
	return e;
}

/* Move the stream's held count to this worker's budget (its meeting moved here). */
static __rte_noinline void take_budget(struct worker *w, struct stream_repair *r)
{
	if (r->lcore >= 0 && r->n_held) {
		__atomic_fetch_sub(&held[r->lcore], r->n_held, __ATOMIC_RELAXED);
		__atomic_fetch_add(&held[w->idx], r->n_held, __ATOMIC_RELAXED);
	}
	r->lcore = (int16_t)w->idx;
}

void repair_flush(struct worker *w)
{
	rte_pktmbuf_free_bulk(w->rtx_free, w->rtx_n_free);
	w->rtx_n_free = 0;
}

/* Keep m (its RTP packet at rtp_off, rtp_len bytes) as ext: 1 (the caller's reference is the
 * ring's now), or 0 (not kept). The packet it evicts is freed at the end of the iteration (its
 * mbuf is cold: prefetched now, freed in a bulk after the rest of the burst). */
static inline int keep(struct worker *w, struct stream_repair *r, struct rte_mbuf *m, uint32_t rtp_off,
		       uint32_t rtp_len, uint32_t ext)
{
	struct pkt_ring *ring = r->ring;
	if (unlikely(r->lcore != (int16_t)w->idx))
		take_budget(w, r);
	int fills = ring->slot[ext & ring->mask].pkt == NULL;
	if (unlikely(fills) && __atomic_load_n(&held[w->idx], __ATOMIC_RELAXED) >= w->dp->cfg->rtx_max_mbufs) {
		w->st->rtx_not_kept++;
		return 0;
	}
	struct rte_mbuf *old = pkt_ring_put(ring, m, ext, w->now_tsc);
	if (unlikely(old == m))
		return 0;   /* a duplicate, or older than the slot's packet: not kept */
	if (fills) {
		__atomic_fetch_add(&held[w->idx], 1, __ATOMIC_RELAXED);
		r->n_held++;
	}
	m->data_off = (uint16_t)(m->data_off + rtp_off);
	m->data_len = (uint16_t)rtp_len;
	m->pkt_len = rtp_len;
	if (old) {
		rte_prefetch0(old);
		if (unlikely(w->rtx_n_free == WORKER_BURST))
			repair_flush(w);
		w->rtx_free[w->rtx_n_free++] = old;
	}
	return 1;
}

/* ---- from publishers ------------------------------------------------------------------------ */

/* The uplink: feed the stream's gap detector with ext; when something is due (checked lazily at
 * the stream's packets), NACK it to the publisher from the MMR's SSRC for it; a hopeless gap asks
 * for a keyframe. */
static inline void uplink_nack(struct worker *w, const struct fwd_participant *pub, const struct fwd_stream *s,
			       struct stream_repair *r, uint32_t ext)
{
	struct nack_gen *g = r->gen;
	if (unlikely(nack_gen_on_seq(g, ext, w->now_tsc) == NACK_GEN_REPAIRED))
		w->stream_stats[s->id].repaired++;
	if (likely(w->now_tsc < nack_gen_next_tsc(g)))
		return;
	uint16_t seqs[UPLINK_NACK_MAX];
	uint32_t rtt_us = part_rtcp_get(w->rtcp, pub)->rtt_us;
	g->max_tries = w->nack_max_tries;    /* the config's, reloadable (SIGHUP) */
	unsigned n = nack_gen_due(g, w->now_tsc, rtt_us, seqs, UPLINK_NACK_MAX);
	if (nack_gen_hopeless(g))
		rtcp_kf_ask(w, s);    /* throttled; goes out at the stream's next RTCP check */
	if (n == 0 || !(pub->fb & MMR_FB_NACK))
		return;
	uint8_t buf[RTCP_OUT_MAX];
	struct rtcp_builder b;
	rtcp_build_init(&b, buf, sizeof(buf));
	if (!(pub->fb & MMR_FB_RSIZE))
		rtcp_build_rr(&b, pub->mmr_ssrc, NULL, 0);
	rtcp_build_nack(&b, pub->mmr_ssrc, s->ssrc, seqs, n);
	uint32_t len = rtcp_build_end(&b);
	if (len && rtcp_out_send(w, pub, buf, len) == 0)
		w->stream_stats[s->id].nack_out += n;
}

int repair_on_rtp(struct worker *w, const struct fwd_participant *pub, const struct fwd_stream *s,
		  struct rte_mbuf *m, const struct pkt_info *pi, uint32_t rtp_len, uint32_t ext_seq,
		  const struct rtp_info *ri)
{
	struct stream_repair *r = s->repair;
	r->media_pt = ri->pt;
	r->have_pt = 1;
	r->twcc_ext_id = pub->twcc_ext_id;     /* where a resend's elements are (bwe.h) */
	r->abs_ext_id = pub->abs_ext_id;
	r->sport_be = w->udp_port_be ? w->udp_port_be : rte_cpu_to_be_16(pi->dport);
	uplink_nack(w, pub, s, r, ext_seq);
	return r->ring ? keep(w, r, m, pi->payload_off, rtp_len, ext_seq) : 0;
}

enum mmr_drop_reason repair_rtx_unwrap(struct worker *w, const struct fwd_stream *rs, uint8_t **rtp,
				       uint32_t *len, struct rtp_info *ri, const struct fwd_stream **media)
{
	const struct fwd_stream *ms = rs->media;
	struct stream_repair *r = ms ? ms->repair : NULL;
	if (unlikely(!r))
		return MMR_DROP_UNKNOWN_SSRC;
	/* padding-only RTX (bandwidth probes) carries no packet; nor does one before we know the
	 * media payload type, or one of another payload type than the stream's RTX one */
	if (unlikely(ri->payload_len < 2 || !r->have_pt || (ms->rtx_pt && ri->pt != ms->rtx_pt)))
		return MMR_DROP_RTX_UNUSED;
	uint8_t *p = *rtp;
	uint16_t osn = get_be16(p + ri->hdr_len);
	uint32_t ext = ext_near(r->max_ext, osn);
	if (r->ring && pkt_ring_get(r->ring, ext, NULL))
		return MMR_DROP_RTX_UNUSED;    /* the stream has it: a second repair, or a late original */
	/* the header moves up over the OSN */
	memmove(p + 2, p, ri->hdr_len);
	p += 2;
	*len -= 2;
	p[1] = (uint8_t)((p[1] & 0x80) | r->media_pt);
	put_be16(p + 2, osn);
	uint32_t ssrc_be = rte_cpu_to_be_32(ms->ssrc);
	memcpy(p + 8, &ssrc_be, 4);
	enum mmr_drop_reason why = rtp_parse(p, *len, ri);
	if (unlikely(why != MMR_DROP_NONE))
		return why;
	w->stream_stats[ms->id].rtx_in++;    /* `repaired` when it fills a gap: uplink_nack */
	*rtp = p;
	*media = ms;
	return MMR_DROP_NONE;
}

/* ---- toward receivers ------------------------------------------------------------------------ */

/*
 * The plaintext RTP packet of one resend into out (cap bytes): the kept packet m of stream s
 * rewritten with the receiver's fields (lo, with lo->seq its sequence number, and its SSRC); as
 * RTX when rtx_pt: header on the RTX SSRC with payload type rtx_pt and sequence number rtx_seq,
 * then lo->seq (the OSN), then the payload. Its length, or 0 (does not fit, or does not parse).
 */
static uint32_t resend_rtp(const struct fwd_stream *s, const struct rte_mbuf *m, const struct fwd_output *o,
			   const struct layer_out *lo, uint8_t rtx_pt, uint16_t rtx_seq, uint8_t *out, uint32_t cap)
{
	const uint8_t *src = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = m->data_len;
	struct rtp_info ri;
	struct media_pkt mp;
	int layered;
	if (rtp_parse(src, len, &ri) != MMR_DROP_NONE || len + 2 > cap)
		return 0;
	/* where this packet's per-receiver fields are (kept packets parsed once when they came) */
	if (parse_media(s, src, &ri, &mp, &layered) != MMR_DROP_NONE)
		return 0;
	memcpy(out, src, len);
	struct fanout_pkt fp;
	fp.rtp = out;
	find_rewrites(&fp, layered ? &mp : NULL, s);
	fp.rw_tsm = 1;                /* every field from the map, whatever the kept header says */
	write_rewrites(out, &fp, lo);
	if (!rtx_pt) {
		memcpy(out + 8, &o->out_ssrc_be, 4);
		return len;
	}
	uint32_t h = ri.hdr_len;
	memmove(out + h + 2, out + h, len - h);
	put_be16(out + h, lo->seq);
	out[1] = (uint8_t)((out[1] & 0x80) | rtx_pt);
	put_be16(out + 2, rtx_seq);
	memcpy(out + 8, &o->rtx_ssrc_be, 4);
	return len + 2;
}

static struct rte_mbuf *resend_mbuf(struct worker *w, const struct fwd_output *o, struct srtp_stream *ctx,
				    const uint8_t *rtp, uint32_t len, uint16_t sport_be, enum mmr_drop_reason *why)
{
	uint32_t head = ETH_LEN + (o->family == MMR_AF_INET ? IP4_LEN : IP6_LEN) + UDP_LEN;
	uint32_t need = head + len + SRTP_MAX_TRAILER;
	*why = MMR_DROP_NO_MBUF;
	struct rte_mbuf *h = rte_pktmbuf_alloc(need <= DP_HDR_MBUF_ROOM ? w->pools->hdr : w->pools->pkt);
	if (unlikely(!h))
		return NULL;
	uint32_t room = rte_pktmbuf_tailroom(h);
	uint8_t *p = rte_pktmbuf_mtod(h, uint8_t *);
	uint32_t n = 0;
	if (room >= need) {
		if (ctx) {
			n = srtp_protect_rtp_copy(ctx, rtp, len, p + head, room - head);
			if (!n)
				*why = srtp_protect_why(ctx);
		} else {
			memcpy(p + head, rtp, len);
			n = len;
		}
	}
	if (unlikely(n == 0)) {
		rte_pktmbuf_free(h);
		return NULL;
	}
	h->data_len = (uint16_t)write_whole_packet(p, o, sport_be, n);
	h->pkt_len = h->data_len;
	return h;
}

/* The members of a NACKed subscription (one, or a simulcast group's), looked up once per NACK item. */
struct nack_ctx {
	const struct fwd_participant *part;
	const struct fwd_sub *sub;
	uint64_t rtt_tsc;
	uint8_t looked[MEDIA_MAX_ENCODINGS];
	struct fwd_stream *s[MEDIA_MAX_ENCODINGS];
	const struct fwd_output *o[MEDIA_MAX_ENCODINGS];
};

/* Member enc's stream (*s) and output; NULL: none now. */
static const struct fwd_output *member(struct worker *w, struct nack_ctx *nc, unsigned enc,
				       const struct fwd_stream **s)
{
	if (enc >= nc->sub->n || enc >= MEDIA_MAX_ENCODINGS)
		return NULL;
	if (!nc->looked[enc]) {
		nc->looked[enc] = 1;
		nc->o[enc] = fwd_sub_member_output(&w->dp->fwd, &nc->sub->m[enc], &nc->s[enc]);
	}
	*s = nc->s[enc];
	return nc->o[enc];
}

/*
 * A hole in a receiver's numbering: seq was never sent to it because the MMR itself did not have the
 * packet then (lost on the publisher's uplink, repaired later by the publisher's RTX, and by then too
 * late for the layer selector to place). The receiver's copies on either side of the hole are in its
 * map. When its sequence numbers and the input's advanced by the same amount between them (no
 * packet withheld in between, same simulcast encoding), the hole is the input packet at the same
 * distance. Otherwise, in a VP9 stream (a receiver below the top spatial layer: the layer frames
 * above its own lie between two of its own) the holes are the kept input packets between the
 * neighbours of the layers it gets now (sel: SID <= cur_sid, TID <= cur_tid), in order, when there
 * are exactly as many of them as holes (one lost and not repaired yet makes the count differ:
 * nothing is resent then). The hole belongs to the frame of the neighbour with the same RTP
 * timestamp, whose rewritten fields (timestamp, PictureID, TL0PICIDX, frame number) it takes; in
 * VP9 a hole of a picture of its own (a whole picture lost on the uplink) takes the neighbours'
 * offsets (output - input) of those fields where both neighbours have the same. The entry is
 * recorded in the map, so the within-RTT rule applies to it from then on. NULL: not such a hole, or
 * the packet is not kept.
 */
#define HOLE_SPAN 16u     /* how far to look for a hole's neighbours */
#define HOLE_SCAN 64u     /* input packets between them looked through (withheld layers) */

/* The kept packet in_ext: its RTP timestamp (host order), PictureID, its mask, TL0PICIDX and layer
 * ids; 0: not kept or not parsed. */
struct kept_info {
	uint32_t ts;
	uint16_t pid, pid_mask;
	uint8_t tl0, sid, tid;
};

static int kept_info(const struct fwd_stream *s, const struct stream_repair *r, uint32_t in_ext,
		     struct kept_info *ki)
{
	struct rte_mbuf *k = pkt_ring_get(r->ring, in_ext, NULL);
	struct rtp_info ri;
	struct media_pkt mp;
	int layered;

	if (!k)
		return 0;
	const uint8_t *kh = rte_pktmbuf_mtod(k, const uint8_t *);
	if (rtp_parse(kh, k->data_len, &ri) != MMR_DROP_NONE ||
	    parse_media(s, kh, &ri, &mp, &layered) != MMR_DROP_NONE || !layered)
		return 0;
	ki->ts = ri.ts;
	ki->pid = mp.has_pid ? mp.picture_id : 0;
	ki->pid_mask = mp.pid_16 ? 0x7fff : 0x7f;
	ki->tl0 = mp.has_tl0 ? mp.tl0picidx : 0;
	ki->sid = mp.sid;
	ki->tid = mp.has_layers ? mp.tid : 0;
	return 1;
}

/* VP9: the rewritten fields of a hole in a picture of its own (lost whole on the uplink), from its
 * neighbours' offsets (output - input timestamp, PictureID, TL0PICIDX) where both agree; 0 if not. */
static int own_picture_out(const struct kept_info *h, const struct kept_info *a, const struct seq_map_entry *lo,
			   const struct kept_info *b, const struct seq_map_entry *hi, struct layer_out *out)
{
	struct layer_out ol, oh;

	seq_map_entry_out(lo, &ol);
	seq_map_entry_out(hi, &oh);
	uint32_t dts = ol.ts - a->ts;
	uint16_t dpid = (uint16_t)((a->pid - ol.picture_id) & h->pid_mask);
	uint8_t dtl0 = (uint8_t)(a->tl0 - ol.tl0picidx);
	if (oh.ts - b->ts != dts || ((b->pid - oh.picture_id) & h->pid_mask) != dpid ||
	    (uint8_t)(b->tl0 - oh.tl0picidx) != dtl0)
		return 0;
	*out = ol;
	out->ts = h->ts + dts;
	out->picture_id = (uint16_t)((h->pid - dpid) & h->pid_mask);
	out->tl0picidx = (uint8_t)(h->tl0 - dtl0);
	return 1;
}

static struct seq_map_entry *hole_entry(struct seq_map *m, const struct fwd_stream *s,
					const struct layer_sel *sel, uint16_t seq)
{
	const struct stream_repair *r = s->repair;
	struct seq_map_entry *lo = NULL, *hi = NULL;
	uint32_t dl = 0, dh = 0;
	for (uint32_t d = 1; d <= HOLE_SPAN && !lo; d++)
		if ((lo = seq_map_lookup(m, (uint16_t)(seq - d))) != NULL)
			dl = d;
	for (uint32_t d = 1; d <= HOLE_SPAN && !hi; d++)
		if ((hi = seq_map_lookup(m, (uint16_t)(seq + d))) != NULL)
			dh = d;
	if (!lo || !hi || !r || !r->ring || seq_map_entry_encoding(lo) != seq_map_entry_encoding(hi))
		return NULL;
	const int vp9 = s->codec == MMR_CODEC_VP9;
	uint32_t span = hi->in_ext_seq - lo->in_ext_seq, in_ext;
	if (span == dl + dh) {
		in_ext = lo->in_ext_seq + dl;
	} else {
		struct kept_info ki;
		uint32_t found = 0;
		if (!vp9 || !sel || span < dl + dh || span > HOLE_SCAN)
			return NULL;
		in_ext = 0;
		for (uint32_t i = lo->in_ext_seq + 1; i != hi->in_ext_seq; i++) {
			if (!kept_info(s, r, i, &ki) || ki.sid > sel->cur_sid || ki.tid > sel->cur_tid)
				continue;
			if (++found == dl)
				in_ext = i;
		}
		if (found != dl + dh - 1)
			return NULL;
	}
	struct rte_mbuf *k = pkt_ring_get(r->ring, in_ext, NULL);
	if (!k)
		return NULL;
	const uint8_t *kh = rte_pktmbuf_mtod(k, const uint8_t *);
	const struct seq_map_entry *frame = NULL;
	for (int side = 0; side < 2 && !frame; side++) {
		const struct seq_map_entry *n = side ? hi : lo;
		struct rte_mbuf *nk = pkt_ring_get(r->ring, n->in_ext_seq, NULL);
		if (nk && memcmp(rte_pktmbuf_mtod(nk, const uint8_t *) + 4, kh + 4, 4) == 0)
			frame = n;
	}
	struct layer_out lo_out;
	if (frame) {
		seq_map_entry_out(frame, &lo_out);
	} else {
		/* a picture of its own: known only for VP9 where both neighbours' offsets agree */
		struct kept_info h, a, b;
		if (!vp9 || !kept_info(s, r, in_ext, &h) || !kept_info(s, r, lo->in_ext_seq, &a) ||
		    !kept_info(s, r, hi->in_ext_seq, &b) || !own_picture_out(&h, &a, lo, &b, hi, &lo_out))
			return NULL;
		frame = lo;
	}
	lo_out.seq = seq;
	lo_out.marker = (kh[1] & 0x80) != 0;
	seq_map_record(m, in_ext, seq_map_entry_encoding(frame), &lo_out);
	return seq_map_lookup(m, seq);
}

/* Resend the receiver's packet seq (its numbering). */
static void resend_one(struct worker *w, struct nack_ctx *nc, uint16_t seq)
{
	const struct fwd_stream *s = NULL;
	const struct fwd_output *o = NULL;
	for (unsigned i = 0; !o && i < nc->sub->n; i++)
		o = member(w, nc, i, &s);
	if (!o)
		return;   /* the subscription went while the NACK was on its way */
	struct sub_repair *sr = o->repair;    /* a simulcast group's members share their leader's */
	struct seq_map_entry *e = NULL;
	struct layer_out lo;
	uint32_t in_ext;

	if (sr && sr->has_map) {
		if (unlikely(seq_map_before_floor(&sr->map, seq))) {
			w->st->slot_nack_stale++;   /* a receive slot's previous publisher's packet */
			return;
		}
		e = seq_map_lookup(&sr->map, seq);
		if (!e && nc->sub->n == 1 &&
		    (e = hole_entry(&sr->map, s, o->sel_id < MMR_MAX_SUBS ? &w->sel[o->sel_id] : NULL,
				    seq)) != NULL)
			w->stream_stats[s->id].resent_hole++;
		if (e) {
			const struct fwd_stream *es;
			const struct fwd_output *eo = member(w, nc, seq_map_entry_encoding(e), &es);
			if (eo) {
				o = eo;
				s = es;
			} else {
				e = NULL;      /* that encoding is gone */
			}
		}
	}
	struct mmr_stream_stats *ss = &w->stream_stats[s->id];
	ss->nack_in++;
	if (!e) {
		/* never sent to it, too old for its map, or it has none (it takes no NACK; nothing of
		 * its stream is kept) */
		ss->resend_gone++;
		return;
	}
	if (e->last_resent_tsc && w->now_tsc - e->last_resent_tsc < nc->rtt_tsc) {
		ss->resend_within_rtt++;
		return;
	}
	in_ext = e->in_ext_seq;
	seq_map_entry_out(e, &lo);
	struct stream_repair *r = s->repair;
	struct rte_mbuf *k = r && r->ring ? pkt_ring_get(r->ring, in_ext, NULL) : NULL;
	if (!k) {
		ss->resend_gone++;
		return;
	}
	const uint8_t *kh = rte_pktmbuf_mtod(k, const uint8_t *);
	uint8_t rtx_pt = fwd_output_rtx_pt(o, kh[1] & 0x7f);
	struct srtp_stream *ctx = NULL;
	if (nc->part->srtp) {
		ctx = rtx_pt ? o->rtx_srtp : NULL;
		if (!ctx) {
			/* the media SSRC's index was used: no second packet under it (see above) */
			w->st->drops[MMR_DROP_SRTP_REUSE]++;
			return;
		}
	}
	uint32_t n = resend_rtp(s, k, o, &lo, rtx_pt, sr->rtx_seq, w->av1_scratch, sizeof(w->av1_scratch));
	if (unlikely(n == 0)) {
		ss->resend_gone++;
		return;
	}
	if (unlikely(!worker_out_mac_ok(w, o)))    /* before it takes a transport-wide number */
		return;
	if (o->bwe)    /* the receiver's transport-wide numbering: resends are stamped like copies */
		bwe_stamp_whole(w, o, w->av1_scratch, n, r->twcc_ext_id, r->abs_ext_id);
	enum mmr_drop_reason why;
	struct rte_mbuf *c = resend_mbuf(w, o, ctx, w->av1_scratch, n, r->sport_be, &why);
	if (unlikely(!c)) {
		w->st->drops[why]++;
		return;
	}
	if (rtx_pt) {
		ss->resent_rtx++;
		sr->rtx_seq++;
	} else {
		ss->resent++;
	}
	e->last_resent_tsc = w->now_tsc;
	worker_send(w, o->dp_port, c);
}

void repair_on_nack(struct worker *w, const struct fwd_participant *part, const struct fwd_sub *sub,
		    uint16_t pid, uint16_t blp, uint32_t rtt_us)
{
	struct nack_ctx nc;
	nc.part = part;
	nc.sub = sub;
	memset(nc.looked, 0, sizeof(nc.looked));
	nc.rtt_tsc = (rte_get_tsc_hz() / 1000000u) * (rtt_us ? rtt_us : REPAIR_DEFAULT_RTT_US);
	resend_one(w, &nc, pid);
	for (unsigned i = 0; i < 16; i++)
		if (blp & (1u << i))
			resend_one(w, &nc, (uint16_t)(pid + i + 1));
}
