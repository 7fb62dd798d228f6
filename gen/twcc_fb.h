/*
 * twcc_fb.h - transport-wide congestion control feedback from mmr-gen's receivers, as a browser
 * sends it: every receiver that the dataplane reaches through port 0 (back to the generator) notes
 * the transport-wide sequence number the MMR stamped into each copy it gets (the transport-cc
 * element, id GEN_TWCC_EXT_ID, one-byte or two-byte form) and the copy's arrival time; at a fixed
 * rate per receiver (--twcc-fb-per-s, e.g. 10/s) it sends the MMR one RTCP compound packet, an
 * empty receiver report followed by a transport-wide feedback (RTPFB FMT 15, lib/rtcp/twcc.h's
 * builder) covering every sequence number from the one after its previous feedback to the highest
 * it received (received or not, with arrival deltas), from its own address and port; SRTCP with its
 * own key in SRTP runs. Receivers of the sink port send none: their copies never come back.
 *
 * The receivers' turns are spread evenly over time (the k-th feedback of the run is receiver
 * k mod n's), so the dataplane sees a steady rate, not bursts.
 */
#ifndef MMR_GEN_TWCC_FB_H
#define MMR_GEN_TWCC_FB_H

#include <stdint.h>
#include "model.h"

#define TWFB_WIN 1024u        /* sequence numbers a receiver can track between two feedbacks */

struct srtp_stream;

struct twfb_rx {
	uint32_t base;            /* extended seq: the first status of the next feedback */
	uint32_t high;            /* extended seq one past the highest received */
	uint32_t media_ssrc;      /* SSRC of the last copy received (the feedback's media SSRC) */
	uint8_t  started;
	uint8_t  fb_count;
	uint16_t pad;
	uint64_t arrival_us[TWFB_WIN];  /* [seq % TWFB_WIN]: arrival in us, 0 = not received */
};

struct twcc_fb_gen {
	const struct gen_model *m;
	uint8_t  ext_id;          /* the transport-cc element's id in the copies */
	uint32_t n_rx;            /* receivers that send feedback (port 0) */
	uint32_t *part_of;        /* [i] -> participant */
	uint32_t *idx_of_part;    /* [participant] -> i or UINT32_MAX */
	struct twfb_rx **rx;      /* [i] */
	struct srtp_stream **srtcp;   /* [i] SRTCP context (SRTP runs), else NULL */
	uint64_t hz;
	/* counters */
	uint64_t sent, empty, statuses, recorded, late, overflow, no_ext, build_fail, srtcp_fail;
};

int twcc_fb_init(struct twcc_fb_gen *t, const struct gen_model *m, uint8_t ext_id, uint64_t hz);
void twcc_fb_free(struct twcc_fb_gen *t);
/* A copy (RTP at rtp, rtp_len bytes, SRTP or not: the extension is in clear) for participant p. */
void twcc_fb_on_copy(struct twcc_fb_gen *t, uint32_t p, const uint8_t *rtp, uint32_t rtp_len, uint64_t now_tsc);
/* Forget what was received so far (each receiver's next feedback starts at its next copy). */
void twcc_fb_reset(struct twcc_fb_gen *t);
/* Receiver i's feedback into buf (the RTCP compound, SRTCP-protected when it has a context);
 * returns its length, 0 when it received nothing new (or on failure, counted). */
uint32_t twcc_fb_build_next(struct twcc_fb_gen *t, uint32_t i, uint64_t now_tsc, uint8_t *buf, uint32_t cap);

#endif
