/*
 * sr_clock.h - the RTP/NTP mapping of the Sender Reports the MMR sends each receiver for the stream
 * it forwards it (RFC 3550 6.4.1), so that the receiver can synchronise audio and video.
 *
 * Anchored on the publisher's own SRs (as LiveKit does, and as mediasoup issue #1881 asks for: the
 * mapping then carries no uplink delay): the publisher's latest SR of a stream says "RTP time R at
 * its NTP time N"; we keep R and our TSC at its arrival. For a receiver, at our time now:
 *     rtp = R + (now - arrival) * clock_hz + ts_offset
 * where ts_offset is the receiver's own timestamp offset (layer_sel's out ts = in ts + ts_offset,
 * non-zero after a simulcast switch; the anchor is then the SR of the encoding forwarded now). The NTP
 * field is our own clock now (ntp_now), so the receiver's RR about it gives us its RTT, and audio
 * and video of one publisher stay in sync: both mappings are shifted by the same SR delay.
 *
 * Without an anchor (no SR from the publisher yet) the mapping comes from the newest packet
 * forwarded to the receiver (mediasoup's way): rtp = its out ts + (now - its arrival) * clock_hz.
 *
 * Per receiver, struct sr_out keeps the last values sent so that its SR RTP times never go
 * backwards: a computed value behind the last one sent (possible after a simulcast switch whose
 * ts rebase was behind the new encoding's SR, or an anchor change) is held at the last one until
 * time catches up. When ts_offset changes so that the out timestamps continue (the simulcast
 * switch's rebase), the SR values continue too: they follow the out timestamps by construction.
 * It also counts the receiver's packets and octets (the SR sender info).
 *
 * Pure C, no allocation; an anchor per published stream, an sr_out per subscription, each written
 * by the owning lcore only.
 */
#ifndef MMR_SR_CLOCK_H
#define MMR_SR_CLOCK_H

#include <stdint.h>

/* The publisher's latest SR of one stream. */
struct sr_anchor {
	uint8_t  valid;
	uint32_t rtp;            /* its RTP timestamp */
	uint64_t ntp;            /* its NTP time (the publisher's clock; kept for reports, not used above) */
	uint64_t arrival_tsc;    /* our TSC when it arrived */
};

/* One receiver's SR state for one outgoing stream. */
struct sr_out {
	uint8_t  have_sent;      /* last_rtp valid */
	uint8_t  have_pkt;       /* last_pkt_* valid */
	uint32_t last_rtp;       /* RTP time of the last SR sent */
	uint64_t last_sent_tsc;  /* when */
	uint32_t last_pkt_ts;    /* out timestamp of the newest packet forwarded */
	uint64_t last_pkt_tsc;   /* its arrival */
	uint32_t pkts;           /* packets sent to the receiver on this SSRC (wrapping, RFC 3550) */
	uint32_t octets;         /* payload octets of those */
};

static inline void sr_anchor_init(struct sr_anchor *a)
{
	a->valid = 0;
	a->rtp = 0;
	a->ntp = 0;
	a->arrival_tsc = 0;
}

/* The publisher's SR for the stream arrived: its NTP and RTP times, our TSC. */
static inline void sr_anchor_set(struct sr_anchor *a, uint64_t ntp, uint32_t rtp, uint64_t arrival_tsc)
{
	a->ntp = ntp;
	a->rtp = rtp;
	a->arrival_tsc = arrival_tsc;
	a->valid = 1;
}

void sr_out_init(struct sr_out *o);

/* A packet went out to the receiver: its out RTP timestamp, payload octets, arrival TSC. Counts it
 * and keeps the newest (by timestamp) for the mapping without anchor. Resends are not counted (the
 * caller does not call this for them). */
static inline void sr_out_on_packet(struct sr_out *o, uint32_t out_ts, uint32_t payload_len, uint64_t tsc)
{
	/* inline: once per copy on the fan-out's path */
	o->pkts++;
	o->octets += payload_len;
	/* the first packet of the newest frame: nearest its capture time */
	if (!o->have_pkt || (int32_t)(out_ts - o->last_pkt_ts) > 0) {
		o->last_pkt_ts = out_ts;
		o->last_pkt_tsc = tsc;
		o->have_pkt = 1;
	}
}

/* The RTP time for an SR sent now (TSC) to the receiver: from the anchor (a may be NULL or not
 * valid: then from the newest packet), never behind the previous SR's; records it as sent.
 * clock_hz: the stream's RTP clock rate; ts_offset: the receiver's current out ts - in ts.
 * Returns 0 (*rtp set), or -1 when there is nothing to map from (no anchor and no packet yet:
 * send no SR; nothing changed). */
int sr_clock_out(const struct sr_anchor *a, struct sr_out *o, uint64_t now_tsc, uint64_t tsc_hz,
		 uint32_t clock_hz, uint32_t ts_offset, uint32_t *rtp);

#endif
