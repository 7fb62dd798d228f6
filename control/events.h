/*
 * events.h - the controller's end of the dataplane's event channel (lib/contract/event_ring.h): it reads
 * every ring of the segment and keeps what they say in its own memory: the layers each receiver
 * gets now (MMR_EV_LAYERS), by sel_id, for `mmrctl sub list`; each meeting's dominant speaker
 * (MMR_EV_SPEAKER), by meeting id, and each receiver's last bandwidth estimate (MMR_EV_BWE), by
 * participant id, for `mmrctl meeting show` and `participant show` (issue 12).
 *
 * Versions: a value replaces the one held only if its version is the same or newer (event_ring.h),
 * so events read from different rings in any order, late events and snapshots converge on the
 * newest value. Snapshots: at every attach we forget everything (a new dataplane's versions start
 * again) and ask for one (cmd_chan.h, ev_snap_req); until it has been read whole the layers are
 * "unknown". When a ring's `dropped` grew, we ask for another (the values held may be stale until
 * it arrives; they are still shown).
 *
 * Not thread-safe; the controller's one thread calls these.
 */
#ifndef MMR_CTL_EVENTS_H
#define MMR_CTL_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cmd_chan.h"

#define CTL_EV_ICE_QUEUE 1024u   /* power of two */

struct ctl_events {
	uint64_t *layers;            /* MMR_MAX_SUBS: version << 32 | mmr_layers_pack value; 0: unknown */
	uint32_t layers_hw;          /* 1 + the highest sel_id ever set (what an attach clears) */
	uint64_t *speaker;           /* MMR_MAX_MEETINGS: version << 32 | participant id; 0: unknown */
	uint32_t speaker_hw;
	uint64_t *bwe;               /* MMR_MAX_PARTICIPANTS: version << 32 | kbit/s; 0: unknown */
	uint32_t bwe_hw;
	/* ICE events (MMR_EV_ADDRESS, MMR_EV_CONSENT, issue 13) and learned SSRCs (MMR_EV_SSRC) are
	 * actions, not values: queued here in order for the controller to apply (events_ice_pop); a
	 * full queue drops (counted in lost) */
	struct mmr_event ice[CTL_EV_ICE_QUEUE];
	uint32_t ice_head, ice_tail;
	uint64_t seen_dropped[MMR_EV_RINGS];  /* each ring's `dropped` when we last looked */
	uint64_t snap_want;          /* the snapshot request we wait for (0: none) */
	bool     complete;           /* a snapshot asked for since the last attach has been read whole */
	/* counters (status) */
	uint64_t received;           /* events read */
	uint64_t stale;              /* values older than the one held (ignored) */
	uint64_t bad;                /* unknown type, id out of range, version 0 (ignored) */
	uint64_t lost;               /* events the dataplane dropped (its rings were full) */
	uint64_t snapshots;          /* snapshots asked for */
	uint64_t ssrc_learned;       /* MMR_EV_SSRC applied: an SSRC bound to its stream (issue 13) */
	uint64_t ssrc_refused;       /* MMR_EV_SSRC refused: the SSRC is used in the meeting already */
	uint32_t ssrc_refused_last;  /* the last refused SSRC (each is logged once in a row) */
};

/* 0 or -ENOMEM. */
int events_init(struct ctl_events *e);
void events_free(struct ctl_events *e);
/* Attached to shm (first time, or again): forget every value, take the rings from where they are,
 * and ask for a snapshot. */
void events_attach(struct ctl_events *e, struct mmr_shm *shm);
/* Read every ring of shm; returns the number of events read. */
size_t events_drain(struct ctl_events *e, struct mmr_shm *shm);
/* Is a snapshot still on its way? */
bool events_waiting(const struct ctl_events *e);
/* The layers sel_id's receiver gets now (mmr_layers_pack; not started = 0): true, or false when
 * not known (no snapshot read whole yet, or the dataplane never told). */
bool events_layers(const struct ctl_events *e, uint32_t sel_id, uint32_t *v);
/* The dominant speaker of a meeting (a participant id, or MMR_ID_NONE: nobody): true, or false when
 * the dataplane never told. */
bool events_speaker(const struct ctl_events *e, uint32_t meeting, uint32_t *participant);
/* The next ICE event read (in ring order): true and *ev, or false: none. */
bool events_ice_pop(struct ctl_events *e, struct mmr_event *ev);
/* The last bandwidth estimate toward a participant, kbit/s: true, or false when never told. */
bool events_bwe(const struct ctl_events *e, uint32_t participant, uint32_t *kbps);

#endif
