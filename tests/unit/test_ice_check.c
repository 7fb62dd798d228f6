/*
 * test_ice_check.c - the ICE-lite agent's decisions (dataplane/ice_check.h) on Binding requests:
 * python3-aioice's request (the one test_stun uses) and requests built here with every
 * combination that matters (USE-CANDIDATE or not, ICE-CONTROLLING or ICE-CONTROLLED, the right or a
 * wrong pwd, no FINGERPRINT, no MESSAGE-INTEGRITY, no USERNAME or no ':' in it, an indication, a
 * response, non-STUN bytes), each against a participant with no address, the request's own address
 * and another one (IPv4 and IPv6): the answer (200, 400, 401, 420, 487 or none), the drop reason it
 * is counted under, and whether consent is refreshed or an address reported.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <zlib.h>

#include "ice_check.h"

static const char PWD[] = "q9UvYFJ5Ww8MrRC0cjPq3Bgx";

/* aioice (test_stun.c): USERNAME "mmrU:Brws", PRIORITY, ICE-CONTROLLING, USE-CANDIDATE, MI, FP */
static const uint8_t REQ[] = {
	0x00, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
	0xa8, 0xa9, 0xaa, 0xab, 0x00, 0x06, 0x00, 0x09, 0x6d, 0x6d, 0x72, 0x55, 0x3a, 0x42, 0x72, 0x77,
	0x73, 0x00, 0x00, 0x00, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x7f, 0x1e, 0xff, 0x80, 0x2a, 0x00, 0x08,
	0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x00, 0x25, 0x00, 0x00, 0x00, 0x08, 0x00, 0x14,
	0xda, 0xd6, 0xf6, 0x21, 0x6b, 0x7b, 0xf4, 0xee, 0x04, 0x2a, 0x87, 0xd7, 0xf7, 0x64, 0xd6, 0x3c,
	0xfc, 0x5c, 0x2f, 0x9d, 0x80, 0x28, 0x00, 0x04, 0x1e, 0x68, 0x98, 0x72,
};

static const uint8_t IP_A[4] = { 198, 51, 100, 7 }, IP_B[4] = { 198, 51, 100, 8 };
static const uint8_t IP6_A[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

static void put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, v & 0xffff); }

struct req_opts {
	const char *username;    /* NULL: no USERNAME */
	const char *pwd;         /* NULL: no MESSAGE-INTEGRITY */
	int controlled, use_candidate, fingerprint, unknown_attr;
	unsigned type;
};

/* A STUN message as a browser builds it (RFC 8489 order: MI, then FP last). Returns its length. */
static uint32_t build(uint8_t *out, const struct req_opts *o)
{
	uint32_t n = 20;
	put16(out, o->type ? o->type : STUN_BINDING_REQUEST);
	put32(out + 4, STUN_COOKIE);
	for (int i = 0; i < 12; i++)
		out[8 + i] = (uint8_t)(0x30 + i);
	if (o->username) {
		size_t ul = strlen(o->username);
		put16(out + n, STUN_ATTR_USERNAME);
		put16(out + n + 2, (unsigned)ul);
		memcpy(out + n + 4, o->username, ul);
		n += 4 + (uint32_t)((ul + 3) & ~3u);
		memset(out + n - ((4 - ul % 4) % 4), 0, (4 - ul % 4) % 4);
	}
	put16(out + n, STUN_ATTR_PRIORITY);
	put16(out + n + 2, 4);
	put32(out + n + 4, 1853824767u);
	n += 8;
	put16(out + n, o->controlled ? STUN_ATTR_ICE_CONTROLLED : STUN_ATTR_ICE_CONTROLLING);
	put16(out + n + 2, 8);
	memset(out + n + 4, 0x5a, 8);
	n += 12;
	if (o->use_candidate) {
		put16(out + n, STUN_ATTR_USE_CANDIDATE);
		put16(out + n + 2, 0);
		n += 4;
	}
	if (o->unknown_attr) {
		put16(out + n, 0x0033);     /* comprehension-required, unknown to us */
		put16(out + n + 2, 4);
		memset(out + n + 4, 0, 4);
		n += 8;
	}
	if (o->pwd) {
		put16(out + 2, n - 20 + 24);
		unsigned mdlen = 20;
		HMAC(EVP_sha1(), o->pwd, (int)strlen(o->pwd), out, n, out + n + 4, &mdlen);
		put16(out + n, STUN_ATTR_MESSAGE_INTEGRITY);
		put16(out + n + 2, 20);
		n += 24;
	}
	if (o->fingerprint) {
		put16(out + 2, n - 20 + 8);
		uint32_t crc = (uint32_t)crc32(0, out, n) ^ STUN_FINGERPRINT_XOR;
		put16(out + n, STUN_ATTR_FINGERPRINT);
		put16(out + n + 2, 4);
		put32(out + n + 4, crc);
		n += 8;
	} else {
		put16(out + 2, n - 20);
	}
	return n;
}

/* The whole decision for one datagram from (family, ip, sport) with "mmrU" being peer (NULL: no
 * participant has it). */
static struct ice_verdict decide(const uint8_t *p, uint32_t len, const struct ice_peer *peer, uint8_t family,
				 const uint8_t *ip, uint16_t sport)
{
	struct stun_msg m;
	struct ice_verdict v;
	unsigned ulen = 0;
	if (!ice_check_pre(p, len, &m, &ulen, &v))
		return v;
	int known = peer && ulen == 4 && memcmp(p + m.username_off, "mmrU", 4) == 0;
	ice_check_auth(p, &m, known ? peer : NULL, family, ip, sport, &v);
	return v;
}

static void expect(struct ice_verdict v, unsigned answer, enum mmr_drop_reason drop, int fresh, int learn)
{
	assert_int_equal(v.answer, answer);
	assert_int_equal(v.drop, drop);
	assert_int_equal(v.fresh, fresh);
	assert_int_equal(v.learn, learn);
}

static const struct ice_peer NOADDR = { (const uint8_t *)PWD, sizeof(PWD) - 1, 0, 0, NULL };
static const struct ice_peer AT_A = { (const uint8_t *)PWD, sizeof(PWD) - 1, MMR_AF_INET, 40001, IP_A };

static void test_aioice_request(void **state)
{
	(void)state;
	/* no address yet: answered and reported; from its address: fresh; from another: nominated, reported */
	expect(decide(REQ, sizeof(REQ), &NOADDR, MMR_AF_INET, IP_A, 40001), 200, MMR_DROP_NONE, 0, 1);
	expect(decide(REQ, sizeof(REQ), &AT_A, MMR_AF_INET, IP_A, 40001), 200, MMR_DROP_NONE, 1, 0);
	expect(decide(REQ, sizeof(REQ), &AT_A, MMR_AF_INET, IP_A, 40002), 200, MMR_DROP_NONE, 0, 1);
	expect(decide(REQ, sizeof(REQ), &AT_A, MMR_AF_INET, IP_B, 40001), 200, MMR_DROP_NONE, 0, 1);
	expect(decide(REQ, sizeof(REQ), &AT_A, MMR_AF_INET6, IP6_A, 40001), 200, MMR_DROP_NONE, 0, 1);
	expect(decide(REQ, sizeof(REQ), NULL, MMR_AF_INET, IP_A, 40001), 0, MMR_DROP_STUN_UFRAG, 0, 0);
	struct ice_peer wrong = AT_A;
	wrong.pwd = (const uint8_t *)"q9UvYFJ5Ww8MrRC0cjPq3Bgy";
	expect(decide(REQ, sizeof(REQ), &wrong, MMR_AF_INET, IP_A, 40001), 401, MMR_DROP_STUN_AUTH, 0, 0);
	/* without its FINGERPRINT (the length cut back to MESSAGE-INTEGRITY's end: MI still right) */
	uint8_t cut[sizeof(REQ)];
	memcpy(cut, REQ, sizeof(REQ));
	put16(cut + 2, 0x48 - 8);
	expect(decide(cut, sizeof(REQ) - 8, &AT_A, MMR_AF_INET, IP_A, 40001), 400, MMR_DROP_STUN_BAD, 0, 0);
	/* a wrong FINGERPRINT: not STUN, no answer; every prefix refused without an answer or as 400 */
	cut[sizeof(REQ) - 1] ^= 1;
	put16(cut + 2, 0x48);
	expect(decide(cut, sizeof(REQ), &AT_A, MMR_AF_INET, IP_A, 40001), 0, MMR_DROP_STUN_BAD, 0, 0);
	for (uint32_t l = 0; l < sizeof(REQ); l++) {
		struct ice_verdict v = decide(REQ, l, &AT_A, MMR_AF_INET, IP_A, 40001);
		assert_int_equal(v.drop, MMR_DROP_STUN_BAD);
		assert_true(v.answer == 0);
	}
}

static void test_built_requests(void **state)
{
	(void)state;
	uint8_t b[256];
	uint32_t n;
	/* without USE-CANDIDATE: answered; a new address is reported only when none is known */
	n = build(b, &(struct req_opts){ .username = "mmrU:brws", .pwd = PWD, .fingerprint = 1 });
	expect(decide(b, n, &AT_A, MMR_AF_INET, IP_A, 40001), 200, MMR_DROP_NONE, 1, 0);
	expect(decide(b, n, &AT_A, MMR_AF_INET, IP_B, 40001), 200, MMR_DROP_NONE, 0, 0);
	expect(decide(b, n, &NOADDR, MMR_AF_INET, IP_B, 40001), 200, MMR_DROP_NONE, 0, 1);
	/* USE-CANDIDATE from the current address: fresh, nothing to report */
	n = build(b, &(struct req_opts){ .username = "mmrU:brws", .pwd = PWD, .fingerprint = 1, .use_candidate = 1 });
	expect(decide(b, n, &AT_A, MMR_AF_INET, IP_A, 40001), 200, MMR_DROP_NONE, 1, 0);
	/* ICE-CONTROLLED: 487 (authenticated first: with a wrong pwd it is a 401) */
	n = build(b, &(struct req_opts){ .username = "mmrU:brws", .pwd = PWD, .fingerprint = 1, .controlled = 1 });
	expect(decide(b, n, &AT_A, MMR_AF_INET, IP_A, 40001), 487, MMR_DROP_STUN_ROLE, 0, 0);
	n = build(b, &(struct req_opts){ .username = "mmrU:brws", .pwd = "xxxxxxxxxxxxxxxxxxxxxx", .fingerprint = 1,
					 .controlled = 1 });
	expect(decide(b, n, &AT_A, MMR_AF_INET, IP_A, 40001), 401, MMR_DROP_STUN_AUTH, 0, 0);
	/* an unknown comprehension-required attribute: 420 once authenticated */
	n = build(b, &(struct req_opts){ .username = "mmrU:brws", .pwd = PWD, .fingerprint = 1, .unknown_attr = 1 });
	expect(decide(b, n, &AT_A, MMR_AF_INET, IP_A, 40001), 420, MMR_DROP_STUN_BAD, 0, 0);
	/* missing MESSAGE-INTEGRITY or USERNAME: 400 */
	n = build(b, &(struct req_opts){ .username = "mmrU:brws", .fingerprint = 1 });
	expect(decide(b, n, &AT_A, MMR_AF_INET, IP_A, 40001), 400, MMR_DROP_STUN_BAD, 0, 0);
	n = build(b, &(struct req_opts){ .pwd = PWD, .fingerprint = 1 });
	expect(decide(b, n, &AT_A, MMR_AF_INET, IP_A, 40001), 400, MMR_DROP_STUN_BAD, 0, 0);
	/* a USERNAME without ':' or starting with it, an unknown ufrag, a prefix of ours: no answer */
	for (const char *u = "mmrU\0:brws\0mmrUx:brws\0mmr:brws\0"; *u; u += strlen(u) + 1) {
		n = build(b, &(struct req_opts){ .username = u, .pwd = PWD, .fingerprint = 1 });
		expect(decide(b, n, &AT_A, MMR_AF_INET, IP_A, 40001), 0, MMR_DROP_STUN_UFRAG, 0, 0);
	}
	/* indications and responses: ignored */
	n = build(b, &(struct req_opts){ .username = "mmrU:brws", .pwd = PWD, .fingerprint = 1,
					 .type = STUN_BINDING_INDICATION });
	expect(decide(b, n, &AT_A, MMR_AF_INET, IP_A, 40001), 0, MMR_DROP_STUN_OTHER, 0, 0);
	n = build(b, &(struct req_opts){ .username = "mmrU:brws", .pwd = PWD, .fingerprint = 1,
					 .type = STUN_BINDING_SUCCESS });
	expect(decide(b, n, &AT_A, MMR_AF_INET, IP_A, 40001), 0, MMR_DROP_STUN_OTHER, 0, 0);
	/* first byte 0 but not STUN (no cookie) */
	static const uint8_t junk[40] = { 0x00, 0x01, 0x00, 0x14 };
	expect(decide(junk, sizeof(junk), &AT_A, MMR_AF_INET, IP_A, 40001), 0, MMR_DROP_STUN_BAD, 0, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aioice_request),
		cmocka_unit_test(test_built_requests),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
