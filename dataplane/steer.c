/*
 * steer.c - rte_flow rules steering each participant to its meeting owner's queue (see steer.h).
 */
#include "steer.h"

#include <stdlib.h>
#include <string.h>
#include <rte_byteorder.h>
#include <rte_flow.h>

#include "dataplane.h"

struct steer_rule {
	struct rte_flow *flow;        /* NULL: none */
	struct mmr_addr addr;
	uint16_t udp_port;
	uint16_t dp_port;
	uint16_t queue;
	uint8_t prio;                 /* its attr.priority, 0 or 1: a replacement takes the other */
};

struct steer {
	struct dataplane *dp;
	uint8_t refused[MMR_MAX_PORTS];   /* the port refused a rule once: hand-off only */
	uint8_t no_overlap[MMR_MAX_PORTS];   /* took no replacement beside the old rule: break first */
	struct steer_rule *r;             /* by participant id */
};

struct steer *steer_new(struct dataplane *dp)
{
	struct steer *st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->dp = dp;
	st->r = calloc(MMR_MAX_PARTICIPANTS, sizeof(*st->r));
	if (!st->r) {
		free(st);
		return NULL;
	}
	return st;
}

static void destroy(struct steer *st, struct steer_rule *r)
{
	if (!r->flow)
		return;
	struct rte_flow_error e;
	rte_flow_destroy(st->dp->port[r->dp_port].port_id, r->flow, &e);
	r->flow = NULL;
	st->dp->shm->stats.port[r->dp_port].flow_rules--;
}

void steer_free(struct steer *st)
{
	if (!st)
		return;
	for (uint32_t i = 0; i < MMR_MAX_PARTICIPANTS; i++)
		destroy(st, &st->r[i]);
	free(st->r);
	free(st);
}

/* Validate and create the rule; NULL if the port refuses, and unless `tentative`, the port marked
 * and logged once. */
static struct rte_flow *make(struct steer *st, const struct mmr_addr *addr, uint16_t udp_port,
			     uint16_t dp_port, unsigned queue, uint8_t prio, int tentative)
{
	struct dataplane *dp = st->dp;
	const struct dp_port *pt = &dp->port[dp_port];
	struct rte_flow_attr attr = { .ingress = 1, .priority = prio };
	struct rte_flow_item_ipv4 v4 = { 0 }, v4m = { 0 };
	struct rte_flow_item_ipv6 v6 = { 0 }, v6m = { 0 };
	struct rte_flow_item_udp udp = { 0 }, udpm = { 0 };
	struct rte_flow_item pattern[4];
	memset(pattern, 0, sizeof(pattern));
	pattern[0].type = RTE_FLOW_ITEM_TYPE_ETH;
	if (addr->family == MMR_AF_INET) {
		memcpy(&v4.hdr.src_addr, addr->ip, 4);
		memcpy(&v4.hdr.dst_addr, pt->ipv4.ip, 4);
		v4m.hdr.src_addr = v4m.hdr.dst_addr = UINT32_MAX;
		pattern[1] = (struct rte_flow_item){ .type = RTE_FLOW_ITEM_TYPE_IPV4, .spec = &v4, .mask = &v4m };
	} else {
		memcpy(v6.hdr.src_addr, addr->ip, 16);
		memcpy(v6.hdr.dst_addr, pt->ipv6.ip, 16);
		memset(v6m.hdr.src_addr, 0xff, 16);
		memset(v6m.hdr.dst_addr, 0xff, 16);
		pattern[1] = (struct rte_flow_item){ .type = RTE_FLOW_ITEM_TYPE_IPV6, .spec = &v6, .mask = &v6m };
	}
	udp.hdr.src_port = rte_cpu_to_be_16(udp_port);
	udpm.hdr.src_port = UINT16_MAX;
	if (dp->udp_port) {
		udp.hdr.dst_port = rte_cpu_to_be_16(dp->udp_port);
		udpm.hdr.dst_port = UINT16_MAX;
	}
	pattern[2] = (struct rte_flow_item){ .type = RTE_FLOW_ITEM_TYPE_UDP, .spec = &udp, .mask = &udpm };
	pattern[3].type = RTE_FLOW_ITEM_TYPE_END;
	struct rte_flow_action_queue q = { .index = (uint16_t)queue };
	struct rte_flow_action actions[2] = {
		{ .type = RTE_FLOW_ACTION_TYPE_QUEUE, .conf = &q },
		{ .type = RTE_FLOW_ACTION_TYPE_END },
	};
	struct rte_flow_error e;
	memset(&e, 0, sizeof(e));
	struct rte_flow *f = NULL;
	int rc = rte_flow_validate(pt->port_id, &attr, pattern, actions, &e);
	if (rc == 0)
		f = rte_flow_create(pt->port_id, &attr, pattern, actions, &e);
	if (f || tentative)
		return f;
	dp->shm->stats.port[dp_port].flow_failed++;
	st->refused[dp_port] = 1;
	dp_log("port %u (%s): no rte_flow steering: hand-off (%s %s)", pt->port_id, pt->name,
	       rc == 0 ? "create" : "validate", e.message ? e.message : "refused");
	return NULL;
}

void steer_participant(struct steer *st, uint32_t pid, const struct mmr_addr *addr, uint16_t udp_port,
		       uint16_t dp_port, unsigned queue)
{
	struct dataplane *dp = st->dp;
	if (pid >= MMR_MAX_PARTICIPANTS || dp->n_workers < 2 || dp_port >= dp->n_ports)
		return;
	struct steer_rule *r = &st->r[pid];
	if (r->flow && r->dp_port == dp_port && r->udp_port == udp_port && r->queue == queue &&
	    mmr_addr_eq(&r->addr, addr))
		return;
	/* make before break: the new rule at the other priority while the old one still steers */
	uint8_t prio = 0;
	struct rte_flow *f = NULL;
	int overlap = r->flow && !st->refused[dp_port] && !st->no_overlap[dp_port];
	if (overlap) {
		prio = r->prio ^ 1;
		f = make(st, addr, udp_port, dp_port, queue, prio, 1);
	}
	destroy(st, r);
	if (!f) {
		/* as before: break, then make at priority 0 (a refusal turns the port's steering off) */
		if (st->refused[dp_port])
			return;
		prio = 0;
		f = make(st, addr, udp_port, dp_port, queue, prio, 0);
		if (!f)
			return;
		if (overlap)   /* one rule it takes, not two: break first from now on */
			st->no_overlap[dp_port] = 1;
	}
	r->flow = f;
	r->addr = *addr;
	r->udp_port = udp_port;
	r->dp_port = dp_port;
	r->queue = (uint16_t)queue;
	r->prio = prio;
	dp->shm->stats.port[dp_port].flow_rules++;
}

void steer_remove(struct steer *st, uint32_t pid)
{
	if (pid < MMR_MAX_PARTICIPANTS)
		destroy(st, &st->r[pid]);
}
