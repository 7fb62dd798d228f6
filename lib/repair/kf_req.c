/*
 * kf_req.c - throttled keyframe requests to a publisher for one stream (see kf_req.h).
 */
#include <string.h>

#include "kf_req.h"

void kf_req_init(struct kf_req *k, uint64_t tsc_hz, uint32_t interval_ms)
{
	memset(k, 0, sizeof(*k));
	k->interval_tsc = (uint64_t)((unsigned __int128)tsc_hz * (interval_ms ? interval_ms : KF_REQ_INTERVAL_MS) / 1000u);
}

/* Send a request now: a new one (next FIR seq) unless a keyframe is still awaited. */
static void send_now(struct kf_req *k, uint64_t now_tsc)
{
	if (!k->waiting)
		k->fir_seq++;
	k->last_sent_tsc = now_tsc;
	k->sent_any = 1;
	k->pending = 0;
	k->waiting = 1;
	k->sent++;
}

static int interval_over(const struct kf_req *k, uint64_t now_tsc)
{
	return !k->sent_any || now_tsc - k->last_sent_tsc >= k->interval_tsc;
}

int kf_req_ask(struct kf_req *k, uint64_t now_tsc)
{
	if (interval_over(k, now_tsc)) {
		send_now(k, now_tsc);
		k->reasks = 0;
		return 1;
	}
	k->pending = 1;
	k->throttled++;
	return 0;
}

int kf_req_due(struct kf_req *k, uint64_t now_tsc)
{
	if (!k->sent_any || !interval_over(k, now_tsc))
		return 0;
	if (k->pending) {
		send_now(k, now_tsc);
		k->reasks = 0;
		return 1;
	}
	if (!k->waiting)
		return 0;
	if (k->reasks < KF_REQ_MAX_REASKS) {
		k->reasks++;
		send_now(k, now_tsc);
		return 1;
	}
	k->waiting = 0;         /* re-asks used up: the next ask is a new request */
	return 0;
}

void kf_req_keyframe_seen(struct kf_req *k)
{
	k->waiting = 0;
	k->reasks = 0;
	k->pending = 0;
}

uint64_t kf_req_next_tsc(const struct kf_req *k)
{
	if (!k->sent_any || !(k->pending || k->waiting))
		return UINT64_MAX;
	return k->last_sent_tsc + k->interval_tsc;
}
