/*
 * twcc_recv.h - a publisher's arrival log for the transport-wide feedback we send it: each received
 * packet's transport-wide seq and arrival time (twcc_recv_on_pkt, per packet: a few stores), and the
 * feedback packets built from it (twcc_recv_build, every twcc_fb_ms): the packets since the last
 * feedback, run-length/vector chunks, fb_count counting up. Fixed size, no allocation.
 */
#ifndef MMR_TWCC_RECV_H
#define MMR_TWCC_RECV_H

#include <stdint.h>

#define TWCC_RECV_SIZE   2048           /* power of 2: packets between two feedbacks at most */

struct twcc_recv {
	uint64_t highest;                   /* extended seq of the newest packet (valid when started) */
	uint64_t next;                      /* first extended seq not yet reported */
	uint8_t  started;
	uint8_t  fb_count;
	uint32_t late, reset;               /* packets after their seq was reported; window jumps */
	int64_t  arrival[TWCC_RECV_SIZE];   /* -1: not received */
};

void twcc_recv_init(struct twcc_recv *r);
void twcc_recv_on_pkt(struct twcc_recv *r, uint16_t seq, uint64_t arrival_us);
/* One whole RTCP TWCC feedback packet into buf (cap >= 64 recommended) for the packets since the last
 * one; returns its bytes, 0 when nothing new (or cap too small for even one status). Call again while
 * it returns > 0 when a lot arrived (a packet stops before a delta that does not fit or at cap). */
uint32_t twcc_recv_build(struct twcc_recv *r, uint8_t *buf, uint32_t cap, uint32_t sender_ssrc,
			 uint32_t media_ssrc);

#endif
