/*
 * rx_track.h - what mmr-gen learns from the copies the MMR sends back: per receive flow
 * (receiver, stream) the packets received and the sequence-number span they cover (the MMR keeps
 * each receiver's sequence numbers contiguous over the layers it withholds, so a gap is a loss),
 * and the one-way latency of every copy from the stamp in its payload.
 *
 * Flow f = receiver participant * slots_per_meeting + the stream's slot in the meeting. A flow
 * can be "touched" by the update driver (updates.h): then the SSRC variant it expects after the
 * update is checked here, and the first copy that shows it ends the update's measurement.
 */
#ifndef MMR_GEN_RX_TRACK_H
#define MMR_GEN_RX_TRACK_H

#include <stdint.h>
#include "latency_hist.h"
#include "model.h"

struct srtp_stream;

struct rx_flow {
	uint32_t first;           /* extended sequence number of the first copy in the window */
	uint32_t high;            /* highest extended sequence number */
	uint32_t rx;              /* copies received in the window */
	uint32_t upd;             /* 1 + index in the update driver's table, 0 = not touched */
};

struct rx_track {
	const struct gen_model *m;
	uint32_t n_flows;
	struct rx_flow *flow;
	uint8_t *started;             /* per flow: a copy arrived in this window */
	struct srtp_stream **srtp;    /* per flow unprotect context (SRTP runs), else NULL */
	uint32_t srtp_every;          /* decrypt one copy in srtp_every per flow (1 = all) */
	uint32_t echo_ip;             /* the MMR's address: a frame still addressed to it is one of
				       * ours sent back unchanged (a plain forwarder such as testpmd
				       * in a loop); its stamp still gives the latency */

	/* counters of the window */
	uint64_t rx_pkts, rx_bytes;
	uint64_t foreign;             /* not a copy for one of our receivers */
	uint64_t late;                /* not newer than the flow's highest (reordered, duplicated) */
	uint64_t echoes;              /* our own packets back (see echo_ip) */
	uint64_t no_stamp;
	uint64_t srtp_fail;
	uint64_t srtp_checked;
	struct latency_hist lat;      /* TSC cycles from build to receive */

	/* set by the feedback generator (twcc_fb.h): called for every RTP or RTCP datagram to one of
	 * our receivers (p), before the SSRC is looked at */
	void (*on_copy)(void *ctx, uint32_t p, const uint8_t *rtp, uint32_t len, uint64_t now);
	void *copy_ctx;

	/* set by the update driver: called for a copy of a touched flow */
	void (*on_touched)(void *ctx, uint32_t upd_idx, uint32_t ssrc, uint64_t now);
	void *touched_ctx;
};

struct rx_totals {
	uint64_t flows, silent_flows, expected, received, lost;
	uint64_t touched_expected, touched_lost;
};

int rx_track_init(struct rx_track *t, const struct gen_model *m);
void rx_track_free(struct rx_track *t);
/* Forget the window so far (flows restart at their next copy). */
void rx_track_window_start(struct rx_track *t);
/* One received Ethernet frame. now: TSC of the burst. */
void rx_track_frame(struct rx_track *t, uint8_t *frame, uint32_t len, uint64_t now);
/* Sum over flows. Flows of receivers reached through dataplane port 0 that got nothing are silent. */
void rx_track_totals(const struct rx_track *t, struct rx_totals *out);

#endif
