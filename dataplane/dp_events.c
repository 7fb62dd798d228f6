/*
 * dp_events.c - the control thread's side of the event channel (see dp_events.h): restarts of a
 * subscription's current layers and snapshots of all of them, and of every meeting's dominant speaker.
 */
#include "dp_events.h"

#include "audio.h"
#include "dtls_path.h"
#include "cmd_apply.h"
#include "dataplane.h"

void dp_events_init(struct dataplane *dp)
{
	struct dp_events *e = &dp->ctl_events;
	ev_producer_init(&e->ev, &dp->shm->events[MMR_EV_RING_CTL]);
	e->served = atomic_load_explicit(&dp->shm->ev_snap_done, memory_order_relaxed);
	e->want = 0;
	e->cursor = 0;
	e->meetings = 0;
	e->dtls = 0;
	e->sent = 0;
}

void dp_events_sel_reset(struct dataplane *dp, uint32_t sel_id)
{
	dp_layers_report(dp->layers_now, &dp->ctl_events.ev, sel_id, 0);
}

int dp_events_service(struct dataplane *dp, const struct cmd_apply *ca)
{
	struct dp_events *e = &dp->ctl_events;
	struct mmr_shm *shm = dp->shm;
	if (!e->want) {
		uint64_t req = atomic_load_explicit(&shm->ev_snap_req, memory_order_acquire);
		if (req == e->served)
			return 0;
		e->want = req;
		e->cursor = 0;
		e->meetings = 0;
		e->dtls = 0;
		e->sent = 0;
	}
	/* as much as the ring takes now; the rest at the next iteration */
	uint32_t id = e->cursor;
	while (!e->meetings && (id = cmd_apply_next_sel(ca, id)) != UINT32_MAX) {
		if (!ev_room(&e->ev)) {
			e->cursor = id;
			return 1;
		}
		uint64_t w = __atomic_load_n(&dp->layers_now[id], __ATOMIC_RELAXED);
		ev_push(&e->ev, MMR_EV_LAYERS, id, (uint32_t)w, (uint32_t)(w >> 32));
		e->sent++;
		id++;
	}
	if (!e->meetings) {
		e->meetings = 1;
		e->cursor = 0;
	}
	/* then the dominant speaker of every meeting with audio state (audio.h) */
	for (id = e->cursor; !e->dtls && id < MMR_MAX_MEETINGS; id++) {
		uint64_t w = audio_speaker_word(dp, id);
		if (!w)
			continue;
		if (!ev_room(&e->ev)) {
			e->cursor = id;
			return 1;
		}
		ev_push(&e->ev, MMR_EV_SPEAKER, id, (uint32_t)w, (uint32_t)(w >> 32));
		e->sent++;
	}
	if (!e->dtls) {
		e->dtls = 1;
		e->cursor = 0;
	}
	/* then the DTLS state of every DTLS participant that has one (dtls_path.h) */
	for (id = e->cursor; id < MMR_MAX_PARTICIPANTS; id++) {
		uint64_t w = dp_dtls_state_word(id);
		if (!w)
			continue;
		if (!ev_room(&e->ev)) {
			e->cursor = id;
			return 1;
		}
		ev_push(&e->ev, MMR_EV_DTLS, id, (uint32_t)w, (uint32_t)(w >> 32));
		e->sent++;
	}
	struct mmr_ctl_stats *cs = &shm->stats.ctl;
	__atomic_store_n(&cs->snapshots, cs->snapshots + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&cs->snapshot_events, cs->snapshot_events + e->sent, __ATOMIC_RELAXED);
	atomic_store_explicit(&shm->ev_snap_done, e->want, memory_order_release);
	e->served = e->want;
	e->want = 0;
	return 0;
}
