/*
 * sr_clock.c - RTP times of the Sender Reports sent to a receiver, anchored on the publisher's SRs
 * (see sr_clock.h).
 */
#include <string.h>

#include "sr_clock.h"

void sr_out_init(struct sr_out *o)
{
	memset(o, 0, sizeof(*o));
}

/* RTP clock ticks in a TSC interval (modulo 2^32). */
static uint32_t rtp_ticks(uint64_t from_tsc, uint64_t now_tsc, uint64_t tsc_hz, uint32_t clock_hz)
{
	if (now_tsc <= from_tsc || !tsc_hz)
		return 0;
	return (uint32_t)((unsigned __int128)(now_tsc - from_tsc) * clock_hz / tsc_hz);
}

int sr_clock_out(const struct sr_anchor *a, struct sr_out *o, uint64_t now_tsc, uint64_t tsc_hz,
		 uint32_t clock_hz, uint32_t ts_offset, uint32_t *rtp)
{
	uint32_t c;

	if (a && a->valid)
		c = a->rtp + rtp_ticks(a->arrival_tsc, now_tsc, tsc_hz, clock_hz) + ts_offset;
	else if (o->have_pkt)
		c = o->last_pkt_ts + rtp_ticks(o->last_pkt_tsc, now_tsc, tsc_hz, clock_hz);
	else
		return -1;
	if (o->have_sent && (int32_t)(c - o->last_rtp) < 0)
		c = o->last_rtp;        /* never backwards */
	o->last_rtp = c;
	o->last_sent_tsc = now_tsc;
	o->have_sent = 1;
	*rtp = c;
	return 0;
}
