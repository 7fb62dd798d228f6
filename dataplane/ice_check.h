/*
 * ice_check.h - what the ICE-lite agent (ice.c) does with one STUN datagram, as pure decisions on
 * bytes (no DPDK, no table): the checks before the ufrag lookup (ice_check_pre: STUN at all, a
 * Binding request, the attributes ICE needs), the checks after it (ice_check_auth: integrity under
 * the participant's ice-pwd, comprehension-required attributes, the role), and whether a valid
 * check refreshes consent or reports a new address. Unit-tested in tests/unit/test_ice_check.c.
 */
#ifndef MMR_DP_ICE_CHECK_H
#define MMR_DP_ICE_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "drop_reason.h"
#include "mmr_types.h"
#include "stun.h"

struct ice_verdict {
	uint16_t answer;   /* 0: none; 200: Binding success; 400, 401, 420, 487: that error response */
	uint8_t  drop;     /* enum mmr_drop_reason the request is counted under (NONE: a valid check) */
	uint8_t  fresh;    /* valid, from the participant's current address: consent refreshed */
	uint8_t  learn;    /* valid, from another address with USE-CANDIDATE or none known: report it */
	uint8_t  pad[3];
};

/* The participant a ufrag names, as the agent knows it: its ice-pwd and its current address
 * (port 0: none). */
struct ice_peer {
	const uint8_t *pwd;
	size_t pwd_len;
	uint8_t family;       /* MMR_AF_INET / MMR_AF_INET6 (when port) */
	uint16_t port;        /* host order; 0: no address */
	const uint8_t *ip;    /* 4 or 16 bytes */
};

/* Before the lookup. 1: look up the first *ufrag_len bytes of the USERNAME (at p + m->username_off)
 * and call ice_check_auth; 0: decided (*v). */
static inline int ice_check_pre(const uint8_t *p, uint32_t len, struct stun_msg *m, unsigned *ufrag_len,
				struct ice_verdict *v)
{
	memset(v, 0, sizeof(*v));
	if (!stun_is(p, len) || stun_parse(p, len, m) != STUN_OK) {
		v->drop = MMR_DROP_STUN_BAD;
		return 0;
	}
	if (m->type != STUN_BINDING_REQUEST) {
		v->drop = MMR_DROP_STUN_OTHER;   /* indications, responses (we send no requests), other methods */
		return 0;
	}
	if (m->fp_off && !stun_fingerprint_ok(p, m)) {
		v->drop = MMR_DROP_STUN_BAD;     /* not STUN after all (RFC 7983 demux): no answer */
		return 0;
	}
	if (!m->fp_off || !m->username_len || !m->mi_off) {
		v->drop = MMR_DROP_STUN_BAD;
		v->answer = 400;
		return 0;
	}
	const uint8_t *u = p + m->username_off;
	unsigned n = 0;
	while (n < m->username_len && u[n] != ':')
		n++;
	if (n == 0 || n == m->username_len) {   /* not "<our ufrag>:<theirs>" */
		v->drop = MMR_DROP_STUN_UFRAG;
		return 0;
	}
	*ufrag_len = n;
	return 1;
}

/* After the lookup: peer NULL (nobody has the ufrag), or the participant; the request came from
 * (family, ip, sport). */
static inline void ice_check_auth(const uint8_t *p, const struct stun_msg *m, const struct ice_peer *peer,
				  uint8_t family, const uint8_t *ip, uint16_t sport, struct ice_verdict *v)
{
	memset(v, 0, sizeof(*v));
	if (!peer) {
		v->drop = MMR_DROP_STUN_UFRAG;
		return;
	}
	if (!stun_integrity_ok(p, m, peer->pwd, peer->pwd_len)) {
		v->drop = MMR_DROP_STUN_AUTH;
		v->answer = 401;
		return;
	}
	if (m->unknown_attr) {
		v->drop = MMR_DROP_STUN_BAD;
		v->answer = 420;
		return;
	}
	if (m->ice_controlled) {         /* we are lite, so controlled: both sides controlled */
		v->drop = MMR_DROP_STUN_ROLE;
		v->answer = 487;
		return;
	}
	v->answer = 200;
	v->drop = MMR_DROP_NONE;
	int same = peer->port && peer->port == sport && peer->family == family &&
		   memcmp(peer->ip, ip, family == MMR_AF_INET ? 4 : 16) == 0;
	v->fresh = (uint8_t)same;
	v->learn = (uint8_t)(!same && (m->use_candidate || !peer->port));
}

#endif
