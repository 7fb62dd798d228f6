/*
 * event_ring.h - the event channel from the dataplane to the controller: what the dataplane learns
 * (the layers each receiver gets now, bandwidth estimates, dominant speakers; later learned
 * addresses), as small fixed events in lockless single-producer/single-consumer rings inside the
 * shared segment (cmd_chan.h: one ring per worker lcore, one for the dataplane's control thread).
 *
 * Producer (one lcore): writes the slot, then release-stores `tail`. It never blocks and never
 * waits: when the ring is full the event is dropped and `dropped` counted (the producer's own line).
 * It keeps its own copy of tail and a cached head (struct ev_producer, in its private memory), so a
 * push reads the consumer's line only when the cached head says the ring looks full.
 * Consumer (the controller, one at a time): acquire-loads `tail`, copies the events out, then
 * release-stores `head`. A consumer that dies leaves `head` where it was: the next one goes on
 * from there. Positions are 64-bit counters (slot = position % MMR_EV_RING), never reset while the
 * segment lives (a new dataplane makes a new segment).
 *
 * An event is a fact with its own version where one is needed (see MMR_EV_LAYERS), so a consumer
 * that lost events (dropped, or read from several rings in any order) can tell a stale value from a
 * newer one, and asks for a snapshot (cmd_chan.h, ev_snap_req) when `dropped` grew.
 *
 * Pure C (C11 atomics), no DPDK: the controller, the dataplane and the unit test share it.
 */
#ifndef MMR_EVENT_RING_H
#define MMR_EVENT_RING_H

#include <stdatomic.h>
#include <stdint.h>

/* What an event says. One list for every kind the dataplane reports; a consumer counts and skips
 * types it does not know. Values not listed are never sent. */
enum mmr_event_type {
	MMR_EV_NONE = 0,
	/* id: a subscription's sel_id (a receiver's selection state: its subscription, or its whole
	 * simulcast group). v0: the layers it gets now, mmr_layers_pack() (0: nothing before its first
	 * keyframe). v1: the version of that value: the dataplane counts every change of the sel_id's
	 * layers, and a (re)created subscription id continues the count (never starts again at 0), so
	 * the highest v1 seen (in 32-bit wrapping order) is the newest value. Never 0. Sent by the
	 * worker that changed it (when it changed), by the control thread when a subscription id is
	 * created (v0 = 0), and in snapshots (ev_snap_req, cmd_chan.h). */
	MMR_EV_LAYERS = 1,
	/* id: a meeting. v0: the participant id of its dominant speaker now (MMR_ID_NONE: nobody).
	 * v1: the version of that value (counted per meeting by the dataplane, never 0; the highest v1
	 * in wrapping order is the newest). Sent by the lcore owning the meeting when the speaker
	 * changes, and in snapshots (issue 12). stats.meeting_speaker[] holds the same value. */
	MMR_EV_SPEAKER = 2,
	/* id: a participant (a receiver with MMR_FB_TWCC or MMR_FB_REMB). v0: the bandwidth estimated
	 * toward it, kbit/s. v1: the version (counted per participant, never 0). Sent by the lcore
	 * owning its meeting at most once a second, when the estimate moved by more than 10%, and in
	 * snapshots (issue 12). The participant's bwe_bps counter holds the current value. */
	MMR_EV_BWE = 3,
	/* id: a participant with ICE credentials. v0: the IPv4 address (network order bytes, as stored
	 * by memcpy), v1: the UDP port (host order) a valid connectivity check came from: a first
	 * address, or a new one with USE-CANDIDATE (nomination, NAT rebinding). The controller makes it
	 * the participant's address (as `participant set --addr --port`). Sent by the lcore that
	 * answered the check, at most once per participant per 100 ms (issue 13). IPv6 sources are
	 * answered but not reported (an event holds no IPv6 address: not supported yet). */
	MMR_EV_ADDRESS = 4,
	/* id: a participant with ICE credentials and an address. No valid check for ice_consent_s
	 * (RFC 7675): the controller clears its address (nothing is sent to it) until a check comes.
	 * v0: the UDP port it had (host order), to refuse a stale event; v1: 0. Sent by the control
	 * thread (issue 13). */
	MMR_EV_CONSENT = 5,
	/* id: a participant. v0: an SSRC its packets came with that is none of its streams', carrying
	 * the mid (and rid, or repaired-rid) of one of its streams whose SSRC is not known yet
	 * (cmd_chan.h, struct mmr_learn). v1: that stream's id. flags: MMR_LEARN_MEDIA (the stream's
	 * media SSRC) or MMR_LEARN_RTX (its RTX SSRC, from repaired-rid). The controller binds the SSRC
	 * to the stream (as `stream add --ssrc` would) unless another stream of the meeting uses it.
	 * Sent by the lcore owning the participant's meeting, at most once per SSRC per 100 ms (issue 13). */
	MMR_EV_SSRC = 6,
	/* id: a DTLS participant (version 14). v0: mmr_dtls_pack(state, fail, suite): its handshake's
	 * state (enum mmr_dtls_state: HANDSHAKING when a session is made, CONNECTED once its keys are
	 * in its SRTP contexts, FAILED with the reason, CLOSED), the failure reason (enum
	 * mmr_dtls_fail), the negotiated SRTP suite (enum srtp_suite, 0 until connected). v1: the
	 * generation of the participant's DTLS configuration in the dataplane (never 0; new at every
	 * role or fingerprint change): events of one participant come in order from one ring. Sent by
	 * the dataplane's control thread, and in snapshots (the last one of each DTLS participant whose
	 * configuration did not change since). */
	MMR_EV_DTLS = 7,
	MMR_EV__COUNT
};

/* 16 bytes: four to a cache line. */
struct mmr_event {
	uint16_t type;     /* enum mmr_event_type */
	uint16_t flags;    /* 0, except where the type says (MMR_EV_SSRC) */
	uint32_t id;
	uint32_t v0;
	uint32_t v1;
};
_Static_assert(sizeof(struct mmr_event) == 16, "struct mmr_event is part of the segment layout (cmd_chan.h)");

#define MMR_EV_RING 16384u    /* events per ring; power of two (256 KiB) */

struct mmr_ev_ring {
	_Atomic uint64_t tail __attribute__((aligned(64)));  /* producer: next position it writes */
	_Atomic uint64_t dropped;                            /* producer: events lost, the ring full */
	_Atomic uint64_t head __attribute__((aligned(64)));  /* consumer: next position it reads */
	struct mmr_event ev[MMR_EV_RING] __attribute__((aligned(64)));
};
_Static_assert((MMR_EV_RING & (MMR_EV_RING - 1)) == 0, "MMR_EV_RING must be a power of two");

/* Current-layers packing (MMR_EV_LAYERS v0): bit 31 started, bits 24-27 encoding, 16-23 decode
 * target, 8-11 spatial, 0-3 temporal. */
static inline uint32_t mmr_layers_pack(unsigned started, unsigned encoding, unsigned dt, unsigned sid, unsigned tid)
{
	return (started ? 1u << 31 : 0) | (encoding & 15u) << 24 | (dt & 255u) << 16 | (sid & 15u) << 8 | (tid & 15u);
}
#define MMR_LAYERS_STARTED(v)  (((v) >> 31) & 1u)
#define MMR_LAYERS_ENCODING(v) (((v) >> 24) & 15u)
#define MMR_LAYERS_DT(v)       (((v) >> 16) & 255u)
#define MMR_LAYERS_SID(v)      (((v) >> 8) & 15u)
#define MMR_LAYERS_TID(v)      ((v) & 15u)

/* MMR_EV_DTLS v0 packing: bits 0-7 state, 8-15 failure reason, 16-23 SRTP suite. */
static inline uint32_t mmr_dtls_pack(unsigned state, unsigned fail, unsigned suite)
{
	return (state & 255u) | (fail & 255u) << 8 | (suite & 255u) << 16;
}
#define MMR_DTLS_STATE(v) ((v) & 255u)
#define MMR_DTLS_FAIL(v)  (((v) >> 8) & 255u)
#define MMR_DTLS_SUITE(v) (((v) >> 16) & 255u)

/* Is version a newer than (or the same as) b? 32-bit wrapping order. */
static inline int mmr_ev_version_ge(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) >= 0;
}

/* ---- producer ---------------------------------------------------------------------------------- */

/* A producer's private state (not in the segment). */
struct ev_producer {
	struct mmr_ev_ring *r;
	uint64_t tail;          /* = r->tail: only we write it */
	uint64_t head_cache;    /* the consumer's head as last read: at most r->head */
	uint64_t dropped;       /* = r->dropped */
};

/* r: a ring of a new segment (all zero), or one this producer's predecessor left (positions kept). */
static inline void ev_producer_init(struct ev_producer *p, struct mmr_ev_ring *r)
{
	p->r = r;
	p->tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	p->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
	p->dropped = atomic_load_explicit(&r->dropped, memory_order_relaxed);
}

/* Room for at least one more event? (Reads the consumer's head only when the cache says full.) */
static inline int ev_room(struct ev_producer *p)
{
	if (p->tail - p->head_cache < MMR_EV_RING)
		return 1;
	p->head_cache = atomic_load_explicit(&p->r->head, memory_order_acquire);
	return p->tail - p->head_cache < MMR_EV_RING;
}

/* Queue one event (flags: what the type says, else 0); 1, or 0 when the ring is full (the event is
 * dropped and counted). */
static inline int ev_push_flags(struct ev_producer *p, uint16_t type, uint16_t flags, uint32_t id, uint32_t v0,
				uint32_t v1)
{
	if (__builtin_expect(!ev_room(p), 0)) {
		atomic_store_explicit(&p->r->dropped, ++p->dropped, memory_order_release);
		return 0;
	}
	struct mmr_event *e = &p->r->ev[p->tail & (MMR_EV_RING - 1)];
	e->type = type;
	e->flags = flags;
	e->id = id;
	e->v0 = v0;
	e->v1 = v1;
	atomic_store_explicit(&p->r->tail, ++p->tail, memory_order_release);
	return 1;
}

/* Queue one event with flags 0. */
static inline int ev_push(struct ev_producer *p, uint16_t type, uint32_t id, uint32_t v0, uint32_t v1)
{
	return ev_push_flags(p, type, 0, id, v0, v1);
}

/* ---- consumer ---------------------------------------------------------------------------------- */

/* Copy out up to max events, oldest first, and free their slots; returns how many. */
static inline unsigned ev_pop_burst(struct mmr_ev_ring *r, struct mmr_event *out, unsigned max)
{
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	uint64_t n = tail - head;
	if (n > max)
		n = max;
	for (uint64_t i = 0; i < n; i++)
		out[i] = r->ev[(head + i) & (MMR_EV_RING - 1)];
	atomic_store_explicit(&r->head, head + n, memory_order_release);
	return (unsigned)n;
}

#endif
