/*
 * steer.h - NIC steering of a participant's packets to the queue of its meeting's owner (owner.h):
 * one rte_flow rule per participant, exact match on its 5-tuple (its address and UDP port -> our
 * address and udp_port, UDP), action QUEUE = the owner's queue, so that no hand-off is needed. Only
 * with more than one worker, and only on ports that take such rules: the first refusal of a port
 * (validate or create) logs "no rte_flow steering: hand-off" once and the port is not tried again;
 * its packets go by hand-off as before. Counted per port: stats.port[].flow_rules (installed now),
 * flow_failed. Control thread only.
 */
#ifndef MMR_DP_STEER_H
#define MMR_DP_STEER_H

#include <stdint.h>
#include "mmr_types.h"

struct dataplane;
struct steer;

/* NULL on allocation failure. */
struct steer *steer_new(struct dataplane *dp);
/* Remove every rule. */
void steer_free(struct steer *st);

/* Participant pid (from addr/udp_port, through port dp_port) goes to worker `queue`: its rule is
 * made, or replaced when any of these changed. A replacement (a meeting moved: cmd_apply_moved) is
 * made before the old rule is destroyed, so the sender's packets never fall to RSS in between: the
 * two coexist at different attr.priority (a participant's rules alternate 0 and 1). If the port does
 * not take the new rule beside the old one (silently, not counted), the old is destroyed first and
 * the new made at priority 0 as for a first rule, refusal and all; that port is then always
 * replaced that way. */
void steer_participant(struct steer *st, uint32_t pid, const struct mmr_addr *addr, uint16_t udp_port,
		       uint16_t dp_port, unsigned queue);
/* Participant pid is gone: its rule too. */
void steer_remove(struct steer *st, uint32_t pid);

#endif
