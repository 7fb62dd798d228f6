/*
 * dp_events.h - the dataplane's end of the event channel to the controller (lib/contract/event_ring.h):
 * the current layers of every receiver, as events, and the snapshots that restate them.
 *
 * Current layers: dp->layers_now[sel_id] holds (version << 32 | mmr_layers_pack() value). The lcore
 * that owns the selection state changes it when layer selection says the layers changed (fanout.c:
 * dp_layers_report) and pushes an MMR_EV_LAYERS event with the same value and version on its own
 * ring; the control thread restarts it (nothing yet, next version) when a subscription id gets its
 * own selection state. Only one of them writes a given word at a time (the control thread only
 * while no lcore uses the id, as for sel[]). Versions only grow (32-bit wrapping, never 0), across
 * deletes and re-creations of an id too, so the controller can order values that came on different
 * rings (a snapshot on the control thread's, a change on a worker's) and drop stale ones.
 *
 * Snapshots (cmd_chan.h, ev_snap_req): the control thread sends layers_now[] of every subscription
 * with its own selection state, then the dominant speaker of every meeting with audio state
 * (MMR_EV_SPEAKER with its current word, audio.h), on its ring, as much as fits per loop (never
 * dropping: it waits for room), then stores the request into ev_snap_done.
 */
#ifndef MMR_DP_EVENTS_H
#define MMR_DP_EVENTS_H

#include <stdint.h>
#include "event_ring.h"

struct dataplane;
struct cmd_apply;

/* The control thread's producer state (dp->ctl_events). */
struct dp_events {
	struct ev_producer ev;       /* shm->events[MMR_EV_RING_CTL] */
	uint64_t served;             /* the last snapshot request answered */
	uint64_t want;               /* the one being answered (0: none) */
	uint32_t cursor;             /* next subscription id (then meeting id) it looks at */
	uint8_t  meetings;           /* the subscriptions are done: now the meetings' speakers */
	uint8_t  dtls;               /* the speakers are done: now the DTLS participants' states */
	uint32_t sent;               /* events it sent so far */
};

/* The version after word w's (never 0). */
static inline uint32_t dp_layers_next_version(uint64_t w)
{
	uint32_t v = (uint32_t)(w >> 32) + 1u;
	return v ? v : 1u;
}

/* sel_id's current layers are now v (mmr_layers_pack): store the word and tell the controller on
 * ring ev (the caller's own). A full ring drops the event (counted); the word keeps the value for
 * the next snapshot. */
static inline void dp_layers_report(uint64_t *layers_now, struct ev_producer *ev, uint32_t sel_id, uint32_t v)
{
	uint32_t ver = dp_layers_next_version(__atomic_load_n(&layers_now[sel_id], __ATOMIC_RELAXED));
	__atomic_store_n(&layers_now[sel_id], (uint64_t)ver << 32 | v, __ATOMIC_RELAXED);
	ev_push(ev, MMR_EV_LAYERS, sel_id, v, ver);
}

/* Start-up, once the segment exists. */
void dp_events_init(struct dataplane *dp);
/* Control thread: sel_id's selection state starts again (nothing forwarded yet). */
void dp_events_sel_reset(struct dataplane *dp, uint32_t sel_id);
/* Control thread, every loop iteration: answer a snapshot request. Returns 1 while one is still in
 * progress (the caller should not sleep long), else 0. */
int dp_events_service(struct dataplane *dp, const struct cmd_apply *ca);

#endif
