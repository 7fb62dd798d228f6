/* gcc.c - Google Congestion Control (see gcc.h). First version: stubs. */
#include <string.h>
#include "gcc.h"

void gcc_init(struct gcc *g, const struct gcc_cfg *cfg, uint64_t now_us)
{
	memset(g, 0, sizeof(*g));
	g->cfg = *cfg;
	g->target_bps = cfg->start_bps;
	(void)now_us;
}
unsigned gcc_on_twcc(struct gcc *g, uint64_t now_us, const struct twcc_fb *fb, const struct twcc_status *st,
		     unsigned n, struct send_log *log)
{ (void)g; (void)now_us; (void)fb; (void)st; (void)n; (void)log; return 0; }
void gcc_on_remb(struct gcc *g, uint64_t now_us, uint64_t bps, const struct send_log *log)
{ (void)g; (void)now_us; (void)bps; (void)log; }
void gcc_on_loss(struct gcc *g, uint64_t now_us, uint32_t lost, uint32_t expected)
{ (void)g; (void)now_us; (void)lost; (void)expected; }
void gcc_on_rtt(struct gcc *g, uint64_t rtt_us) { g->rtt_us = rtt_us; }
void gcc_on_arrival(struct gcc *g, uint64_t send_us, uint64_t arrival_us, uint32_t size)
{ (void)g; (void)send_us; (void)arrival_us; (void)size; }
int gcc_probe_request(struct gcc *g, uint64_t now_us, uint64_t want_bps, struct gcc_probe *p)
{ (void)g; (void)now_us; (void)want_bps; (void)p; return 0; }
uint64_t gcc_target_bps(const struct gcc *g) { return g->target_bps; }
uint64_t gcc_delay_bps(const struct gcc *g) { return g->target_bps; }
uint64_t gcc_loss_bps(const struct gcc *g) { return g->target_bps; }
uint8_t gcc_loss_frac(const struct gcc *g) { return g->loss_frac; }
uint64_t gcc_acked_bps(const struct gcc *g) { return g->acked_bps; }
