/*
 * stun_checks.c - mmr-gen's connectivity checks (stun_checks.h).
 */
#include "stun_checks.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "be_bytes.h"
#include "mix64.h"
#include "stun.h"

void stun_checks_creds(uint32_t p, char ufrag[STUN_UFRAG_LEN + 1], char pwd[STUN_PWD_LEN + 1])
{
	snprintf(ufrag, STUN_UFRAG_LEN + 1, "g%07x", p & 0xfffffffu);
	uint64_t h = mix64(0x9e3779b97f4a7c15ull ^ p);
	snprintf(pwd, STUN_PWD_LEN + 1, "genP%016llx%04x", (unsigned long long)h, p & 0xffffu);
}

int stun_checks_init(struct stun_checks *sc, uint32_t n_parts)
{
	memset(sc, 0, sizeof(*sc));
	size_t n = (size_t)n_parts * STUN_CHECKS_PER_PART;
	sc->req = calloc(n, sizeof(*sc->req));
	sc->len = calloc(n, sizeof(*sc->len));
	if (!sc->req || !sc->len) {
		stun_checks_free(sc);
		return -ENOMEM;
	}
	sc->n_parts = n_parts;
	for (uint32_t p = 0; p < n_parts; p++) {
		char ufrag[STUN_UFRAG_LEN + 1], pwd[STUN_PWD_LEN + 1], user[STUN_UFRAG_LEN + 6];
		stun_checks_creds(p, ufrag, pwd);
		snprintf(user, sizeof(user), "%s:brws", ufrag);
		for (uint32_t k = 0; k < STUN_CHECKS_PER_PART; k++) {
			uint8_t txid[STUN_TXID_LEN];
			put_be32(txid, 0x67656e00u | k);
			put_be32(txid + 4, p);
			put_be32(txid + 8, (uint32_t)mix64(((uint64_t)p << 8) | k));
			size_t i = (size_t)p * STUN_CHECKS_PER_PART + k;
			sc->len[i] = (uint16_t)stun_binding_request(sc->req[i], STUN_CHECK_MAX, txid, user, strlen(user),
								   0x6e7f1effu, mix64(p) | 1, 0, (const uint8_t *)pwd,
								   strlen(pwd));
			if (!sc->len[i]) {
				stun_checks_free(sc);
				return -EINVAL;
			}
		}
	}
	return 0;
}

void stun_checks_free(struct stun_checks *sc)
{
	free(sc->req);
	free(sc->len);
	sc->req = NULL;
	sc->len = NULL;
	sc->n_parts = 0;
}

const uint8_t *stun_checks_next(struct stun_checks *sc, uint32_t *part, uint32_t *len)
{
	uint32_t p = sc->next % sc->n_parts, k = (sc->next / sc->n_parts) % STUN_CHECKS_PER_PART;
	size_t i = (size_t)p * STUN_CHECKS_PER_PART + k;
	sc->next++;
	sc->sent++;
	*part = p;
	*len = sc->len[i];
	return sc->req[i];
}

int stun_checks_on_rx(struct stun_checks *sc, const uint8_t *payload, uint32_t len)
{
	if (len < STUN_HDR_LEN || !stun_is(payload, len))
		return 0;
	uint16_t type = get_be16(payload);
	if (type == STUN_BINDING_SUCCESS) {
		sc->answered++;
		return 1;
	}
	if (type == STUN_BINDING_ERROR) {
		sc->errors++;
		return 2;
	}
	return 0;
}
