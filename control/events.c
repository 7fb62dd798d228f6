/*
 * events.c - read the dataplane's event rings and keep what they say (see events.h).
 */
#include "events.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define BURST 256u

int events_init(struct ctl_events *e)
{
	memset(e, 0, sizeof(*e));
	e->layers = calloc(MMR_MAX_SUBS, sizeof(*e->layers));   /* pages touched only where used */
	e->speaker = calloc(MMR_MAX_MEETINGS, sizeof(*e->speaker));
	e->bwe = calloc(MMR_MAX_PARTICIPANTS, sizeof(*e->bwe));
	if (!e->layers || !e->speaker || !e->bwe) {
		events_free(e);
		return -ENOMEM;
	}
	return 0;
}

void events_free(struct ctl_events *e)
{
	free(e->layers);
	free(e->speaker);
	free(e->bwe);
	e->layers = e->speaker = e->bwe = NULL;
}

static void ask_snapshot(struct ctl_events *e, struct mmr_shm *shm)
{
	e->snap_want = atomic_fetch_add_explicit(&shm->ev_snap_req, 1, memory_order_acq_rel) + 1;
	e->snapshots++;
}

void events_attach(struct ctl_events *e, struct mmr_shm *shm)
{
	memset(e->layers, 0, (size_t)e->layers_hw * sizeof(*e->layers));
	e->layers_hw = 0;
	memset(e->speaker, 0, (size_t)e->speaker_hw * sizeof(*e->speaker));
	e->speaker_hw = 0;
	memset(e->bwe, 0, (size_t)e->bwe_hw * sizeof(*e->bwe));
	e->bwe_hw = 0;
	e->complete = false;
	for (unsigned r = 0; r < MMR_EV_RINGS; r++)
		e->seen_dropped[r] = atomic_load_explicit(&shm->events[r].dropped, memory_order_acquire);
	ask_snapshot(e, shm);
}

static void apply(struct ctl_events *e, const struct mmr_event *ev)
{
	uint64_t *table;
	uint32_t limit, *hw;
	switch (ev->type) {
	case MMR_EV_LAYERS:
		table = e->layers, limit = MMR_MAX_SUBS, hw = &e->layers_hw;
		break;
	case MMR_EV_SPEAKER:
		table = e->speaker, limit = MMR_MAX_MEETINGS, hw = &e->speaker_hw;
		break;
	case MMR_EV_BWE:
		table = e->bwe, limit = MMR_MAX_PARTICIPANTS, hw = &e->bwe_hw;
		break;
	case MMR_EV_ADDRESS:
	case MMR_EV_CONSENT:
	case MMR_EV_SSRC:
	case MMR_EV_DTLS:
		if (ev->id >= MMR_MAX_PARTICIPANTS)
			e->bad++;
		else if (e->ice_tail - e->ice_head >= CTL_EV_ICE_QUEUE)
			e->lost++;
		else
			e->ice[e->ice_tail++ % CTL_EV_ICE_QUEUE] = *ev;
		return;
	default:
		e->bad++;
		return;
	}
	if (ev->id >= limit || ev->v1 == 0 ||
	    (ev->type == MMR_EV_SPEAKER && ev->v0 != MMR_ID_NONE && ev->v0 >= MMR_MAX_PARTICIPANTS)) {
		e->bad++;
		return;
	}
	uint64_t *slot = &table[ev->id];
	if (*slot && !mmr_ev_version_ge(ev->v1, (uint32_t)(*slot >> 32))) {
		e->stale++;
		return;
	}
	*slot = (uint64_t)ev->v1 << 32 | ev->v0;
	if (ev->id >= *hw)
		*hw = ev->id + 1;
}

size_t events_drain(struct ctl_events *e, struct mmr_shm *shm)
{
	/* done first: whatever the snapshot sent before it is in the control ring by now */
	uint64_t done = atomic_load_explicit(&shm->ev_snap_done, memory_order_acquire);
	size_t total = 0;
	bool lost = false;
	for (unsigned r = 0; r < MMR_EV_RINGS; r++) {
		struct mmr_ev_ring *ring = &shm->events[r];
		/* read before the events: those queued ahead of a drop are taken now, so the snapshot we
		 * then ask for comes after them */
		uint64_t dropped = atomic_load_explicit(&ring->dropped, memory_order_acquire);
		struct mmr_event buf[BURST];
		unsigned n;
		do {
			n = ev_pop_burst(ring, buf, BURST);
			for (unsigned i = 0; i < n; i++)
				apply(e, &buf[i]);
			total += n;
		} while (n == BURST);
		if (dropped != e->seen_dropped[r]) {
			e->lost += dropped - e->seen_dropped[r];
			if (!e->snap_want)   /* once per snapshot, not per drain */
				ctl_log("dataplane event ring %u dropped %llu events (full); asking for a snapshot",
					r, (unsigned long long)(dropped - e->seen_dropped[r]));
			e->seen_dropped[r] = dropped;
			lost = true;
		}
	}
	e->received += total;
	if (e->snap_want && (int64_t)(done - e->snap_want) >= 0) {
		e->snap_want = 0;
		e->complete = true;
	}
	if (lost)
		ask_snapshot(e, shm);
	return total;
}

bool events_waiting(const struct ctl_events *e)
{
	return e->snap_want != 0;
}

bool events_layers(const struct ctl_events *e, uint32_t sel_id, uint32_t *v)
{
	if (!e->complete || sel_id >= MMR_MAX_SUBS || e->layers[sel_id] == 0)
		return false;
	*v = (uint32_t)e->layers[sel_id];
	return true;
}

bool events_speaker(const struct ctl_events *e, uint32_t meeting, uint32_t *participant)
{
	if (meeting >= MMR_MAX_MEETINGS || e->speaker[meeting] == 0)
		return false;
	*participant = (uint32_t)e->speaker[meeting];
	return true;
}

bool events_ice_pop(struct ctl_events *e, struct mmr_event *ev)
{
	if (e->ice_head == e->ice_tail)
		return false;
	*ev = e->ice[e->ice_head++ % CTL_EV_ICE_QUEUE];
	return true;
}

bool events_bwe(const struct ctl_events *e, uint32_t participant, uint32_t *kbps)
{
	if (participant >= MMR_MAX_PARTICIPANTS || e->bwe[participant] == 0)
		return false;
	*kbps = (uint32_t)e->bwe[participant];
	return true;
}
