/*
 * handoff.c - the hand-off rings between worker lcores (see handoff.h): made at start-up, one per
 * ordered pair of workers, single producer and single consumer, on the receiving worker's socket.
 */
#include "handoff.h"

#include <stdio.h>
#include <rte_lcore.h>

int handoff_rings_create(struct dataplane *dp)
{
	for (unsigned from = 0; from < dp->n_workers; from++)
		for (unsigned to = 0; to < dp->n_workers; to++) {
			if (from == to)
				continue;
			char name[RTE_RING_NAMESIZE];
			snprintf(name, sizeof(name), "mmr_ho_%u_%u", from, to);
			int socket = (int)rte_lcore_to_socket_id(dp->worker_lcore[to]);
			struct rte_ring *r = rte_ring_create(name, HANDOFF_RING_SIZE, socket,
							     RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (!r) {
				dp_log("cannot create hand-off ring %s: %s", name, rte_strerror(rte_errno));
				handoff_rings_free(dp);
				return -1;
			}
			dp->handoff[from][to] = r;
		}
	return 0;
}

void dp_mbuf_ring_free(struct rte_ring *r)
{
	void *m;
	if (!r)
		return;
	while (rte_ring_dequeue(r, &m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(r);
}

void handoff_rings_free(struct dataplane *dp)
{
	for (unsigned from = 0; from < MMR_MAX_LCORES; from++)
		for (unsigned to = 0; to < MMR_MAX_LCORES; to++) {
			dp_mbuf_ring_free(dp->handoff[from][to]);
			dp->handoff[from][to] = NULL;
		}
}
