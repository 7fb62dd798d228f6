/*
 * police.c - the policing limits (police.h) from the config, in TSC cycles: stored by the control
 * thread at start-up and on SIGHUP, read by the lcores per packet.
 */
#include "police.h"
#include "config.h"
#include "dataplane.h"

static void store(uint64_t *w, uint64_t v)
{
	__atomic_store_n(w, v, __ATOMIC_RELAXED);
}

void police_set(struct dp_police *p, const struct dp_config *cfg, uint64_t tsc_hz)
{
	for (unsigned k = 0; k < POLICE__KINDS; k++) {
		uint32_t pps = cfg->police_pps[k], kbps = cfg->police_kbps[k];
		store(&p->pkt_tsc[k], pps ? tsc_hz / pps : 0);
		/* cycles per byte at kbps kbit/s, << 16: tsc_hz * 8 / (kbps * 1000) */
		store(&p->byte_tsc16[k], kbps ? (uint64_t)(((unsigned __int128)tsc_hz * 8u << 16) / ((uint64_t)kbps * 1000u)) : 0);
	}
	store(&p->burst_tsc, tsc_hz / 1000u * cfg->police_burst_ms);
	store(&p->on, cfg->police);
}
