/*
 * ice.h - the dataplane's ICE-lite agent (issue 13): STUN connectivity checks on the media port
 * answered in place by whichever worker receives them, the participant's address learned from a
 * valid check (an event to the controller), and consent freshness (RFC 7675) watched by the
 * control thread.
 *
 * Tables: an rculfhash ufrag -> struct ice_node (the participant's id, its ice-pwd, the address
 * the controller last gave it), published and retired by the control thread from the participant
 * commands like every other table (fwd_table.h); the workers read it without locks. Per
 * participant, in plain memory indexed by id: the TSC of its last valid check from its current
 * address (a relaxed 64-bit store by whichever lcore answered) and of its last address event (the
 * rate limit: one per 100 ms). The answer itself is stateless, so any lcore may give it: no
 * hand-off to the meeting's owner.
 *
 * Learning: a valid check from an address that is not the participant's, with USE-CANDIDATE (or
 * when it has none yet), posts MMR_EV_ADDRESS (event_ring.h) on the answering lcore's ring; the
 * controller applies it as `participant set --addr --port` and its PUT comes back here. IPv6
 * sources are answered and not learned (an event holds no IPv6 address; counted ice_addr_v6).
 * Consent: the control thread looks at every ICE participant with an address about once a second;
 * ice_consent_s (config) without a valid check posts MMR_EV_CONSENT once; the controller clears
 * the address (port 0: nothing is sent to it, drop no_address per copy) until a check comes.
 */
#ifndef MMR_DP_ICE_H
#define MMR_DP_ICE_H

#include <stdint.h>
#include <rte_mbuf.h>
#include "drop_reason.h"
#include "pkt.h"

struct dataplane;
struct worker;
struct cmd_apply;
struct mmr_cmd_participant;

/* Start-up: the table and the per-participant state. 0 or -ENOMEM. */
int dp_ice_init(struct dataplane *dp);
/* Exit (workers stopped; an online RCU thread if anything was published): every node removed and
 * wiped, the table freed. Again: nothing. */
void dp_ice_free(struct dataplane *dp);
/* Control thread, after a PARTICIPANT_PUT was applied / before its delete: publish, replace or
 * retire its node (its credentials and address). */
void dp_ice_put(struct cmd_apply *ca, const struct mmr_cmd_participant *c);
void dp_ice_del(struct cmd_apply *ca, uint32_t pid);
/* Control thread, every loop: about once a second, the consent scan. */
void dp_ice_service(struct dataplane *dp, uint64_t now_tsc);

/* Worker: a datagram to our media port whose first byte is 0..3 (RFC 7983: STUN). MMR_DROP_NONE:
 * m is now the answer (Binding success or error response), to be sent back on the port it came
 * from; otherwise the drop reason (m untouched). */
enum mmr_drop_reason dp_ice_stun(struct worker *w, struct rte_mbuf *m, const struct pkt_info *pi);
/* Worker: the participant whose latest valid check came from pi's source (IPv4 only), or
 * MMR_ID_NONE. For DTLS that follows a first check before the controller's `participant set
 * --addr` came back (dtls_path.h). Lock-free, O(1); a later check from elsewhere makes it none. */
uint32_t dp_ice_recent(const struct pkt_info *pi);

#endif
