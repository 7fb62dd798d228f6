/*
 * kf_req.h - keyframe requests (PLI or FIR) from the MMR to a publisher for one stream, throttled.
 *
 * Whoever needs a keyframe of the stream (a receiver's PLI/FIR, a new subscriber, a layer or
 * simulcast up-switch, uplink loss nack_gen gave up on, a restart) calls kf_req_ask:
 *  - at most one request per interval (default KF_REQ_INTERVAL_MS = 500 ms; LiveKit 500 ms-1 s,
 *    Janus 1 s, JVB 200 ms): asks within the interval after a request are merged into one pending
 *    ask, sent by kf_req_due when the interval ends;
 *  - after a request, until kf_req_keyframe_seen, kf_req_due re-asks every interval, at most
 *    KF_REQ_MAX_REASKS = 3 times (a lost PLI, an encoder that missed it), then waits for a new ask;
 *  - FIR command sequence number (RFC 5104 4.3.1.2): one per request, the same for its repeats (the
 *    re-asks, and asks while a keyframe is still awaited); incremented by a new request (the first,
 *    or the first after a keyframe came or the re-asks ran out). kf_req_fir_seq() after a send says
 *    which to put in the FIR.
 * Whether to send PLI or FIR is the caller's choice (the publisher's negotiated feedback).
 *
 * Time is the TSC; the caller calls kf_req_due when kf_req_next_tsc() has passed (lazily, at the
 * stream's next packet or its RTCP timer).
 *
 * Pure C, no allocation; one struct per published stream, written by its owning lcore only.
 */
#ifndef MMR_KF_REQ_H
#define MMR_KF_REQ_H

#include <stdint.h>

#define KF_REQ_INTERVAL_MS 500
#define KF_REQ_MAX_REASKS  3

struct kf_req {
	uint64_t interval_tsc;
	uint64_t last_sent_tsc;   /* valid when sent_any */
	uint8_t  sent_any;
	uint8_t  pending;         /* an ask waits for the interval to end */
	uint8_t  waiting;         /* a request was sent, no keyframe seen yet */
	uint8_t  reasks;          /* re-asks sent for the current request */
	uint8_t  fir_seq;         /* FIR seq of the current (last sent) request */
	uint8_t  pad[3];
	uint64_t sent;            /* requests sent (repeats included) */
	uint64_t throttled;       /* asks merged into a pending or sent one */
};

/* interval_ms 0: the default. */
void kf_req_init(struct kf_req *k, uint64_t tsc_hz, uint32_t interval_ms);

/* Someone needs a keyframe now. Returns 1: send a request now; 0: throttled (kept pending). */
int kf_req_ask(struct kf_req *k, uint64_t now_tsc);

/* Returns 1 when a request is due now (a pending ask at the interval's end, or a re-ask). */
int kf_req_due(struct kf_req *k, uint64_t now_tsc);

/* A keyframe of the stream arrived: stop re-asking; a pending ask is answered by it. */
void kf_req_keyframe_seen(struct kf_req *k);

/* FIR command sequence number for the request just sent. */
static inline uint8_t kf_req_fir_seq(const struct kf_req *k)
{
	return k->fir_seq;
}

/* When kf_req_due may next return 1 (UINT64_MAX: never without a new ask). */
uint64_t kf_req_next_tsc(const struct kf_req *k);

#endif
