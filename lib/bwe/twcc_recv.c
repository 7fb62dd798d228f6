/* twcc_recv.c - a publisher's arrival log -> TWCC feedback (see twcc_recv.h). First version: stubs. */
#include <string.h>
#include "twcc_recv.h"

void twcc_recv_init(struct twcc_recv *r) { memset(r, 0, sizeof(*r)); }
void twcc_recv_on_pkt(struct twcc_recv *r, uint16_t seq, uint64_t arrival_us)
{ (void)r; (void)seq; (void)arrival_us; }
uint32_t twcc_recv_build(struct twcc_recv *r, uint8_t *buf, uint32_t cap, uint32_t sender_ssrc, uint32_t media_ssrc)
{ (void)r; (void)buf; (void)cap; (void)sender_ssrc; (void)media_ssrc; return 0; }
