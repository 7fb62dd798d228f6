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
#include "model.h"
#include "state_store.h"

struct ctl_ctx {
	struct model *model;
	struct dp_link *dp;
	struct state_store *store;
	const struct ctl_config *cfg;
	uint64_t start_ns;
	pid_t pid;
	uint64_t requests;          /* served so far */
};

#endif
