/*
 * controller.h - what every part of mmr-controller's request handling can reach: the model, the
 * dataplane link, the configuration, and a few facts about this process.
 */
#ifndef MMR_CONTROLLER_H
#define MMR_CONTROLLER_H

#include <stdint.h>
#include <sys/types.h>
#include "config.h"
#include "dp_link.h"
#include "etcd_client.h"
#include "model.h"
#include "state_store.h"

/* the zone's counters (zone.h; GET /metrics: mmr_zone_*) */
struct zone_stats {
	struct etcd_stats etcd;
	uint64_t refused;           /* zone requests refused: etcd unreachable */
	uint64_t full;              /* meeting creations refused: no host with room */
	uint64_t redirects;         /* requests about a meeting placed on another host */
	uint64_t failover_moved;    /* meetings of gone hosts this host placed again (zone_failover.h) */
	uint64_t rejoin_told;       /* event streams told `moved` (rejoin here or there) */
	bool registered;            /* this host's key is in etcd under a live lease */
};

struct zone;

struct ctl_ctx {
	struct model *model;
	struct dp_link *dp;
	struct state_store *store;
	const struct ctl_config *cfg;
	uint64_t start_ns;
	pid_t pid;
	uint64_t requests;          /* served so far */
	struct zone *zone;          /* NULL: no zone block */
	/* the keys [0] SEND, [1] RECV the next participant add --trunk / participant rekey takes instead of
	 * random ones: set by the zone around its own command (zone_cascade.c), NULL otherwise */
	const struct srtp_master *zone_keys;
	struct zone_stats zstats;
};

#endif
