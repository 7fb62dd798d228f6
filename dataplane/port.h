/*
 * port.h - bring the EAL's ethdevs up as the dataplane's ports (one RX and one TX queue per
 * worker lcore, RSS over IP/UDP where the PMD has it), create the mempools they and the copies
 * use, and take everything down again.
 */
#ifndef MMR_DP_PORT_H
#define MMR_DP_PORT_H

struct dataplane;

/* Mempools for every socket that runs a worker. 0 or -1 (logged). */
int pools_init(struct dataplane *dp);
void pools_free(struct dataplane *dp);

/* Configure and start every ethdev; fills dp->port[]. 0 or -1 (logged). */
int ports_init(struct dataplane *dp);
/* Stop and close every port that was started. */
void ports_close(struct dataplane *dp);

#endif
