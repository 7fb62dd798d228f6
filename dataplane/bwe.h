/*
 * bwe.h - per-receiver downlink bandwidth estimation and layer allocation on the lcore that owns the
 * receiver's meeting (issue 12; docs/dataplane.md "Downlink estimate").
 *
 * A receiver that takes transport-wide congestion control feedback (MMR_FB_TWCC) or REMB
 * (MMR_FB_REMB) has a struct part_bwe (made by the control thread with part_bwe_new(), reached from
 * its participant node and from every output toward it). Per copy sent to it (media, resends,
 * probes): its next transport-wide sequence number is written into the copy's transport-cc element
 * and the send time and size go into its send log; for REMB receivers the copy's abs-send-time is
 * set to our clock (bwe_stamp.h: found once per packet, written per copy, UDP checksum updated
 * incrementally). Its feedback (rtcp_in.c: bwe_on_twcc, bwe_on_remb) feeds its estimator (lib/bwe
 * gcc: delay-based trendline and AIMD, loss-based part, probe results); then, at most every
 * bwe_alloc_ms or at once when the estimate moved by more than 15 %, the allocator (lib/alloc)
 * shares the estimate among its video subscriptions (the participant's rx_subs) by priority, and
 * each subscription's allocation word is stored (layer_sel_alloc_store: the selection forwards the
 * minimum of it and the controller's ceiling). When the allocation wants more than the estimate,
 * a probe cluster (gcc_probe_request) is sent as padding-only RTP packets right after the
 * receiver's copies (paced by its own traffic, no timers), on its RTX SSRC of the copy's
 * subscription (SRTP: encrypted under its RTX context), or on the MMR's SSRC for it in plain
 * meetings; in SRTP meetings without RTX nothing is probed (counted).
 *
 * No locks, syscalls or allocation on the packet path; the state is written only by the owner lcore.
 * `bwe = false` in the configuration: part_bwe_new() makes nothing, so every output's bwe is NULL and
 * the fan-out is the one it was, plus one test per copy.
 */
#ifndef MMR_DP_BWE_H
#define MMR_DP_BWE_H

#include <stdint.h>
#include <rte_branch_prediction.h>
#include <rte_prefetch.h>

#include "allocator.h"
#include "bwe_stamp.h"
#include "cmd_chan.h"
#include "fwd_table.h"
#include "gcc.h"
#include "layer_rate.h"
#include "send_log.h"
#include "worker.h"

struct dataplane;
struct rtcp_item;

#define BWE_EV_MIN_US     1000000u    /* MMR_EV_BWE at most once per second per receiver */
#define BWE_PROBE_PAD_MAX 255u        /* RFC 3550 padding in one probe packet at most */
#define BWE_PROBE_PER_COPY 32u        /* probe packets sent after one copy at most: a BWE_PROBE_MIN_TRAIN train at once */

/* Per copy the fan-out touches the first cache line (probe_pkts_left and the send log's header:
 * next_seq, last_us) and the log entry of the copy's seq (its line prefetched at the stamp 8 before). */
struct part_bwe {
	uint16_t probe_pkts_left;     /* probe packets of the current cluster still to send (0: none) */
	uint8_t  probe_id;            /* that cluster's id (gcc_probe) */
	struct send_log log;          /* its transport-wide numbering and what was sent under it */
	struct gcc gcc;               /* its estimate */
	struct alloc_state alloc;     /* its allocation's hysteresis state */
	uint32_t id;                  /* the participant's */
	uint8_t  have_fb;             /* it has sent usable feedback */
	uint8_t  alloc_now;           /* run the allocation at the next chance (an event) */
	uint16_t probe_seq;           /* RTP sequence numbers of probes on the MMR's SSRC */
	uint64_t next_alloc_us;       /* not before, unless the estimate moved > 15 % */
	uint64_t alloc_bps;           /* the estimate the last allocation shared */
	uint64_t want_bps;            /* what the allocation would use at every ceiling (probed for) */
	const void *alloc_subs;       /* the rx_subs array of the last allocation (a new one: run again) */
	uint32_t mmr_ssrc;            /* the MMR's SSRC toward it (probes without RTX), host order */
	/* the rest of the probe cluster being sent (gcc_probe_request) */
	uint32_t probe_bytes_left;
	uint32_t probe_bps;
	uint64_t probe_start_us;
	uint64_t probe_sent_bytes;
	/* MMR_EV_BWE */
	uint64_t ev_us;
	uint32_t ev_kbps;
	uint32_t ev_version;
};

/* ---- control thread (the hooks cmd_apply.c calls; NULL: no estimation for it) ---- */
struct part_bwe *part_bwe_new(struct dataplane *dp, const struct mmr_cmd_participant *c);
void part_bwe_free(void *p);

/* ---- packet path (owner lcore) ---- */

void bwe_layer_rate_publish(struct worker *w, const struct fwd_stream *s);

/* Per received RTP packet from pub, as soon as it parsed and before the uplink's feedback reads it:
 * with bandwidth estimation on, where its transport-cc and abs-send-time elements are (the
 * publisher's ids), into w->bwe_in, found once for the uplink and every copy (an RTX unwrap moves
 * the header whole: the offsets still hold), the elements that could not be read counted (ext_bad);
 * returns &w->bwe_in, or NULL with estimation off (the uplink then reads the elements itself). */
static inline const struct bwe_pkt *bwe_find(struct worker *w, const struct fwd_participant *pub,
					     const uint8_t *rtp, const struct rtp_info *ri)
{
	if (!w->tsc_per_us)
		return NULL;
	w->st->ext_bad += bwe_pkt_find(&w->bwe_in, rtp, ri, pub->twcc_ext_id, pub->abs_ext_id);
	return &w->bwe_in;
}

/* Per received packet of stream s (before its fan-out; bandwidth estimation on; bwe_find done): our
 * UDP port for its copies, a video packet's bytes into the stream's layer rate meter (mp: its
 * layers; NULL: audio). */
static inline void bwe_on_packet(struct worker *w, const struct fwd_stream *s, const struct media_pkt *mp,
				 const struct pkt_info *pi)
{
	w->bwe_in.sport_be = w->udp_port_be ? w->udp_port_be : rte_cpu_to_be_16(pi->dport);
	if (mp && s->rate) {
		uint64_t end = s->rate->bucket_end_us;
		layer_rate_add(s->rate, w->now_us, mp->sid, mp->tid, pi->payload_len);
		if (unlikely(s->rate->bucket_end_us != end))
			bwe_layer_rate_publish(w, s);     /* a new 250 ms bucket */
	}
}

/* A copy of rtp_len RTP bytes to o (o->bwe set): stamp the copy's RTP header at rtp; returns the
 * UDP checksum change (bwe_csum_adjust), 0 when nothing was written. */
static inline __attribute__((always_inline)) uint32_t
bwe_stamp(struct worker *w, const struct fwd_output *o, const struct bwe_pkt *bp, uint8_t *rtp, uint32_t rtp_len)
{
	struct part_bwe *b = o->bwe;
	uint32_t sum = 0;
	if (o->twcc_ext_id) {
		if (likely(bp->tw_off)) {
			uint16_t seq = send_log_add(&b->log, w->now_us, (uint16_t)rtp_len, 0);
			/* the line its log fills after this one (8 entries on), long before it is reached:
			 * that store would otherwise miss, its last write 1024 of its copies ago */
			rte_prefetch0(&b->log.e[(uint16_t)(seq + 8u) & (SEND_LOG_SIZE - 1)]);
			sum = bwe_write_twcc(rtp, bp, o->twcc_ext_id, seq);
			w->st->twcc_stamped++;
		} else {
			w->st->twcc_unstamped++;
		}
	}
	if (o->abs_ext_id && bp->abs_off)
		sum += bwe_write_abs(rtp, bp, o->abs_ext_id, bwe_abs_send_time(w->now_us));
	return sum;
}

/* The same for a whole RTP packet of len bytes at rtp whose elements are not known yet (a resend
 * from the packet ring, the AV1 rebuilt copy): found again under the publisher's ids. */
uint32_t bwe_stamp_whole(struct worker *w, const struct fwd_output *o, uint8_t *rtp, uint32_t len,
			 uint8_t tw_id, uint8_t abs_id);

/* The fan-out, ahead of a chunk's copies: the receiver's first line (o->bwe set). */
static inline void bwe_prefetch(const struct fwd_output *o)
{
	rte_prefetch0(o->bwe);
}

/* After a copy to o was sent: the probe packets due with it (a cluster is being sent). */
void bwe_probe_send(struct worker *w, const struct fwd_output *o, struct part_bwe *b);

static inline void bwe_after_copy(struct worker *w, const struct fwd_output *o)
{
	struct part_bwe *b = o->bwe;
	if (unlikely(b->probe_pkts_left))
		bwe_probe_send(w, o, b);
}



/* Feedback from receiver part (rtcp_in.c, owner lcore). */
void bwe_on_twcc(struct worker *w, const struct fwd_participant *part, const struct rtcp_item *it);
void bwe_on_remb(struct worker *w, const struct fwd_participant *part, const struct rtcp_item *it);
void bwe_on_rtt(struct worker *w, const struct fwd_participant *part, uint32_t rtt_us);
/* An RTCP datagram from part that rtcp_check refused: bwe_bad_fb when it holds TWCC or REMB. */
void bwe_on_bad_rtcp(struct worker *w, const struct fwd_participant *part, const uint8_t *pkt, uint32_t len);
/* Any RTCP packet from part (part->bwe set), before its items. */
void bwe_on_rtcp(struct worker *w, const struct fwd_participant *part);

#endif
