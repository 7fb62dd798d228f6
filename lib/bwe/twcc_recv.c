/*
 * twcc_recv.c - a publisher's arrival log and the transport-wide feedback built from it (see
 * twcc_recv.h). Sequence numbers are extended to 64 bits against the newest; the log keeps the
 * arrival of each packet from the first unreported one up to the newest (at most TWCC_RECV_SIZE).
 */
#include <string.h>

#include "twcc.h"
#include "twcc_recv.h"

#define MASK (TWCC_RECV_SIZE - 1)
#define PER_FB 400              /* statuses per feedback packet at most (the builder's stack array) */

void twcc_recv_init(struct twcc_recv *r)
{
	memset(r, 0, sizeof(*r));
	for (unsigned i = 0; i < TWCC_RECV_SIZE; i++)
		r->arrival[i] = -1;
}

void twcc_recv_on_pkt(struct twcc_recv *r, uint16_t seq, uint64_t arrival_us)
{
	uint64_t ext;

	if (!r->started) {
		r->started = 1;
		r->highest = r->next = (1ull << 32) + seq;
		r->arrival[seq & MASK] = (int64_t)arrival_us;
		return;
	}
	ext = r->highest + (int16_t)(seq - (uint16_t)r->highest);
	if (ext < r->next) {
		r->late++;
		return;
	}
	if (ext > r->highest) {
		uint64_t from = r->highest + 1;
		if (ext - r->next >= TWCC_RECV_SIZE) {  /* more than the log holds since the last feedback */
			r->next = ext - TWCC_RECV_SIZE + 1;
			r->reset++;
			if (from < r->next)
				from = r->next;
		}
		for (uint64_t s = from; s < ext; s++)
			r->arrival[s & MASK] = -1;
		r->highest = ext;
	} else if (r->arrival[ext & MASK] >= 0) {
		return;                                 /* a duplicate: the first arrival stands */
	}
	r->arrival[ext & MASK] = (int64_t)arrival_us;
}

uint32_t twcc_recv_build(struct twcc_recv *r, uint8_t *buf, uint32_t cap, uint32_t sender_ssrc,
			 uint32_t media_ssrc)
{
	struct twcc_status st[PER_FB];
	struct twcc_fb fb;
	unsigned n, i;
	int64_t ref = -1, prev;

	if (!r->started || r->next > r->highest)
		return 0;
	n = r->highest - r->next + 1 < PER_FB ? (unsigned)(r->highest - r->next + 1) : PER_FB;
	for (i = 0; i < n; i++) {
		int64_t a = r->arrival[(r->next + i) & MASK];
		st[i].received = a >= 0;
		st[i].arrival_us = a;
		if (a >= 0 && ref < 0)
			ref = a;
	}
	if (ref < 0)
		ref = 0;
	ref -= ref % TWCC_REF_US;
	/* stop before a delta that 16 bits cannot hold (the next packet gets its own reference) */
	prev = ref / TWCC_TICK_US;
	for (i = 0; i < n; i++) {
		if (!st[i].received)
			continue;
		int64_t t = st[i].arrival_us / TWCC_TICK_US;
		if (t - prev < -32768 || t - prev > 32767)
			break;
		prev = t;
	}
	n = i ? i : 1;
	fb.sender_ssrc = sender_ssrc;
	fb.media_ssrc = media_ssrc;
	fb.base_seq = (uint16_t)r->next;
	fb.fb_count = r->fb_count;
	fb.ref_us = ref;
	uint32_t len;
	while (!(len = twcc_fb_build(buf, cap, &fb, st, n)) && n > 1)
		n /= 2;
	if (!len)
		return 0;
	r->next += n;
	r->fb_count++;
	return len;
}
