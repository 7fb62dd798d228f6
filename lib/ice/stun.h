/*
 * stun.h - STUN (RFC 8489) as an ICE-lite agent answers connectivity checks (RFC 8445 section 2.5,
 * consent freshness RFC 7675): whether a datagram is STUN (RFC 7983's first byte, the magic cookie),
 * a Binding request's attributes with every length checked, its FINGERPRINT (CRC-32, zlib) and
 * MESSAGE-INTEGRITY (HMAC-SHA1 keyed with our ice-pwd) verified, and the answer built: a Binding
 * success response with XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY and FINGERPRINT, or an error response
 * (400, 401, 420, 487). Pure C over byte buffers, no allocation and no system call: a worker lcore
 * answers checks in place, and the unit test and the fuzz target drive it directly.
 */
#ifndef MMR_STUN_H
#define MMR_STUN_H

#include <stddef.h>
#include <stdint.h>

#define STUN_HDR_LEN        20
#define STUN_COOKIE         0x2112A442u
#define STUN_TXID_LEN       12
#define STUN_BINDING_REQUEST 0x0001
#define STUN_BINDING_SUCCESS 0x0101
#define STUN_BINDING_ERROR   0x0111
#define STUN_BINDING_INDICATION 0x0011

/* attributes */
#define STUN_ATTR_USERNAME           0x0006
#define STUN_ATTR_MESSAGE_INTEGRITY  0x0008
#define STUN_ATTR_ERROR_CODE         0x0009
#define STUN_ATTR_UNKNOWN_ATTRIBUTES 0x000A
#define STUN_ATTR_XOR_MAPPED_ADDRESS 0x0020
#define STUN_ATTR_PRIORITY           0x0024
#define STUN_ATTR_USE_CANDIDATE      0x0025
#define STUN_ATTR_FINGERPRINT        0x8028
#define STUN_ATTR_ICE_CONTROLLED     0x8029
#define STUN_ATTR_ICE_CONTROLLING    0x802A
#define STUN_ATTR_MI_LEN             20      /* HMAC-SHA1 */
#define STUN_FINGERPRINT_XOR         0x5354554Eu
#define STUN_MAX_USERNAME            512     /* RFC 8489: < 513 bytes */

/* What stun_parse found wrong (or STUN_OK). The caller counts each as a drop reason. */
enum stun_err {
	STUN_OK = 0,
	STUN_ERR_SHORT,          /* under 20 bytes, or the length field past the datagram */
	STUN_ERR_HEADER,         /* top bits, length not a multiple of 4, cookie */
	STUN_ERR_ATTR,           /* an attribute running past the message, or a known one of a bad length */
	STUN_ERR_ORDER,          /* something after FINGERPRINT, or other than FINGERPRINT after MESSAGE-INTEGRITY */
	STUN_ERR_COUNT
};

/* A parsed message: offsets into the datagram it was parsed from (valid while it is). */
struct stun_msg {
	uint16_t type;                  /* method and class */
	uint16_t len;                   /* whole message: 20 + the header's length */
	uint16_t username_off, username_len;   /* value (0 len: absent) */
	uint16_t mi_off;                /* MESSAGE-INTEGRITY attribute header (0: absent) */
	uint16_t fp_off;                /* FINGERPRINT attribute header (0: absent) */
	uint16_t unknown_attr;          /* first comprehension-required attribute we do not know (0: none) */
	uint8_t  has_priority, use_candidate, ice_controlling, ice_controlled;
	uint32_t priority;
	uint64_t tiebreaker;            /* ICE-CONTROLLING/CONTROLLED value */
};

/* RFC 7983: a first byte 0..3 is STUN (and the second word the cookie, for STUN as RFC 8489 has it). */
static inline int stun_is(const uint8_t *p, uint32_t len)
{
	return len >= STUN_HDR_LEN && p[0] < 4 && p[4] == 0x21 && p[5] == 0x12 && p[6] == 0xA4 && p[7] == 0x42;
}

/* Parse the message at p (len bytes of datagram; trailing bytes past the message are refused too). */
enum stun_err stun_parse(const uint8_t *p, uint32_t len, struct stun_msg *m);

/* The FINGERPRINT is present and right. */
int stun_fingerprint_ok(const uint8_t *p, const struct stun_msg *m);

/* The MESSAGE-INTEGRITY is present and right for key (short-term credential: the ice-pwd bytes). */
int stun_integrity_ok(const uint8_t *p, const struct stun_msg *m, const uint8_t *key, size_t key_len);

/* The USERNAME is "<ufrag>:<anything>" for our ufrag (ICE: the receiver's ufrag first). */
int stun_username_is(const uint8_t *p, const struct stun_msg *m, const char *ufrag, size_t ufrag_len);

/* A transport address: family 4 or 6, address in network order, port in host order. */
struct stun_addr {
	uint8_t family;
	uint8_t ip[16];
	uint16_t port;
};

/* Build the Binding success response to req (parsed from reqp) into out (cap bytes): the request's
 * transaction id, XOR-MAPPED-ADDRESS of from, MESSAGE-INTEGRITY under key, FINGERPRINT. Returns its
 * length, 0 if cap is too small. */
uint32_t stun_binding_success(uint8_t *out, uint32_t cap, const uint8_t *reqp, const struct stun_addr *from,
			      const uint8_t *key, size_t key_len);

/* Build a Binding error response to the request at reqp: ERROR-CODE code with a short reason (and
 * UNKNOWN-ATTRIBUTES for 420 when unknown_attr), MESSAGE-INTEGRITY when key (not for 400/401: the
 * request's credentials were not proven), FINGERPRINT. Returns its length, 0 if cap is too small. */
uint32_t stun_binding_error(uint8_t *out, uint32_t cap, const uint8_t *reqp, uint16_t code, uint16_t unknown_attr,
			    const uint8_t *key, size_t key_len);

/* Build a Binding request as a controlling full ICE agent sends its connectivity checks (what a
 * browser sends the MMR; the traffic generator's and the tests' side): the transaction id, USERNAME
 * (the MMR's ufrag ":" the peer's), PRIORITY, ICE-CONTROLLING with the tiebreaker, USE-CANDIDATE when
 * use_candidate, MESSAGE-INTEGRITY under key (the MMR's ice-pwd) and FINGERPRINT, in aioice's and
 * libwebrtc's order. Returns its length, 0 if cap is too small or the username is empty or longer
 * than STUN_MAX_USERNAME. */
uint32_t stun_binding_request(uint8_t *out, uint32_t cap, const uint8_t txid[STUN_TXID_LEN], const char *username,
			      size_t username_len, uint32_t priority, uint64_t tiebreaker, int use_candidate,
			      const uint8_t *key, size_t key_len);

const char *stun_err_name(enum stun_err e);

#endif
