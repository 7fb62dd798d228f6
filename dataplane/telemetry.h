/*
 * telemetry.h - the dataplane's rte_telemetry endpoints (/mmr/status, /mmr/lcores, /mmr/ports,
 * /mmr/drops, /mmr/meetings, /mmr/streams,ID): read with dpdk-telemetry.py -f <file-prefix>.
 */
#ifndef MMR_DP_TELEMETRY_H
#define MMR_DP_TELEMETRY_H

struct dataplane;

/* Register the endpoints (after rte_eal_init and the shared segment). 0, or -1 (logged). */
int dp_telemetry_init(struct dataplane *dp);

/* Before the segment goes: the endpoints answer nothing from now on. */
void dp_telemetry_stop(void);

#endif
