/*
 * stun_checks.h - mmr-gen's ICE side (--stun-per-s): every generated participant gets ICE
 * credentials at set-up (`participant add --ice UFRAG:PWD`, the MMR's ufrag and pwd for it, made
 * from its index), and sends connectivity checks from its own address as a browser keeps doing for
 * consent (RFC 7675): Binding requests prebuilt at start (STUN_CHECKS_PER_PART per participant, each
 * its own transaction id; USERNAME, PRIORITY, ICE-CONTROLLING, MESSAGE-INTEGRITY, FINGERPRINT, no
 * USE-CANDIDATE: the address is already the participant's), taken in turn over the participants.
 * The answers coming back are counted (success / error), so a run shows how many checks a worker
 * lcore answers while it forwards.
 */
#ifndef MMR_GEN_STUN_CHECKS_H
#define MMR_GEN_STUN_CHECKS_H

#include <stddef.h>
#include <stdint.h>

#define STUN_CHECKS_PER_PART 8u
#define STUN_CHECK_MAX       128u     /* bytes of one prebuilt request */
#define STUN_UFRAG_LEN       8u       /* "g" + 7 hex digits */
#define STUN_PWD_LEN         24u      /* "genP" + 20 hex digits */

struct stun_checks {
	uint32_t n_parts;
	uint32_t next;                    /* the next request, in turn: participant = next % n_parts */
	uint8_t (*req)[STUN_CHECK_MAX];   /* [participant * PER_PART + k] */
	uint16_t *len;
	uint64_t sent, answered, errors;  /* all run long */
};

/* Participant p's ICE credentials (NUL-terminated, STUN_UFRAG_LEN / STUN_PWD_LEN characters). */
void stun_checks_creds(uint32_t p, char ufrag[STUN_UFRAG_LEN + 1], char pwd[STUN_PWD_LEN + 1]);
/* Build every participant's requests. 0 or -ENOMEM. */
int stun_checks_init(struct stun_checks *sc, uint32_t n_parts);
void stun_checks_free(struct stun_checks *sc);
/* The next request to send (copy it: len bytes) and the participant it comes from. */
const uint8_t *stun_checks_next(struct stun_checks *sc, uint32_t *part, uint32_t *len);
/* A received UDP payload: 1 a Binding success response (counted), 2 an error response (counted),
 * 0 not a STUN response. */
int stun_checks_on_rx(struct stun_checks *sc, const uint8_t *payload, uint32_t len);

#endif
