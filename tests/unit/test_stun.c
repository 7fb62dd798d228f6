/*
 * test_stun.c - unit tests of lib/ice/stun.c against messages made by another implementation:
 * python3-aioice 0.8.0's STUN (a Binding request as a controlling browser sends it, with USERNAME,
 * PRIORITY, ICE-CONTROLLING, USE-CANDIDATE, MESSAGE-INTEGRITY and FINGERPRINT; its Binding success
 * responses for an IPv4 and an IPv6 address), byte for byte. Then every way a request can be wrong:
 * one flipped bit anywhere (integrity or fingerprint fails, or the parse refuses), truncation, bad
 * lengths, attributes after MESSAGE-INTEGRITY or FINGERPRINT, an unknown comprehension-required
 * attribute, the wrong password or ufrag; and the error responses.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "stun.h"

static const char PWD[] = "q9UvYFJ5Ww8MrRC0cjPq3Bgx";

/* aioice: USERNAME "mmrU:Brws", PRIORITY 1853824767, ICE-CONTROLLING 0x1122334455667788,
 * USE-CANDIDATE, MI under PWD, FINGERPRINT; transaction id a0..ab */
static const uint8_t REQ[] = {
	0x00, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
	0xa8, 0xa9, 0xaa, 0xab, 0x00, 0x06, 0x00, 0x09, 0x6d, 0x6d, 0x72, 0x55, 0x3a, 0x42, 0x72, 0x77,
	0x73, 0x00, 0x00, 0x00, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x7f, 0x1e, 0xff, 0x80, 0x2a, 0x00, 0x08,
	0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x00, 0x25, 0x00, 0x00, 0x00, 0x08, 0x00, 0x14,
	0xda, 0xd6, 0xf6, 0x21, 0x6b, 0x7b, 0xf4, 0xee, 0x04, 0x2a, 0x87, 0xd7, 0xf7, 0x64, 0xd6, 0x3c,
	0xfc, 0x5c, 0x2f, 0x9d, 0x80, 0x28, 0x00, 0x04, 0x1e, 0x68, 0x98, 0x72,
};

/* aioice: the success response to REQ for 198.51.100.7:40001 */
static const uint8_t RESP4[] = {
	0x01, 0x01, 0x00, 0x2c, 0x21, 0x12, 0xa4, 0x42, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
	0xa8, 0xa9, 0xaa, 0xab, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xbd, 0x53, 0xe7, 0x21, 0xc0, 0x45,
	0x00, 0x08, 0x00, 0x14, 0xe1, 0x71, 0xc4, 0x40, 0x8e, 0x16, 0x21, 0xcd, 0x3c, 0xd2, 0x63, 0x7b,
	0x9e, 0xde, 0x73, 0x39, 0xf6, 0x89, 0x71, 0x72, 0x80, 0x28, 0x00, 0x04, 0x92, 0xf0, 0x72, 0x57,
};

/* aioice: the same for [2001:db8::1:2]:5000 */
static const uint8_t RESP6[] = {
	0x01, 0x01, 0x00, 0x38, 0x21, 0x12, 0xa4, 0x42, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
	0xa8, 0xa9, 0xaa, 0xab, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0x32, 0x9a, 0x01, 0x13, 0xa9, 0xfa,
	0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa8, 0xaa, 0xa9, 0x00, 0x08, 0x00, 0x14,
	0xa0, 0x5d, 0x35, 0x89, 0x34, 0x89, 0x93, 0x66, 0xd4, 0x16, 0xc1, 0x90, 0x32, 0x4a, 0xc1, 0x05,
	0x9d, 0xaa, 0xee, 0x55, 0x80, 0x28, 0x00, 0x04, 0x03, 0xc9, 0x03, 0x4c,
};

static int request_ok(const uint8_t *p, uint32_t len)
{
	struct stun_msg m;
	return stun_parse(p, len, &m) == STUN_OK && stun_fingerprint_ok(p, &m) &&
	       stun_integrity_ok(p, &m, (const uint8_t *)PWD, strlen(PWD)) && stun_username_is(p, &m, "mmrU", 4);
}

static void test_parse_browser_request(void **state)
{
	(void)state;
	struct stun_msg m;

	assert_true(stun_is(REQ, sizeof(REQ)));
	assert_int_equal(stun_parse(REQ, sizeof(REQ), &m), STUN_OK);
	assert_int_equal(m.type, STUN_BINDING_REQUEST);
	assert_int_equal(m.len, sizeof(REQ));
	assert_int_equal(m.username_len, 9);
	assert_true(m.has_priority && m.priority == 1853824767u);
	assert_true(m.ice_controlling && !m.ice_controlled && m.tiebreaker == 0x1122334455667788ull);
	assert_true(m.use_candidate);
	assert_int_equal(m.unknown_attr, 0);
	assert_true(stun_fingerprint_ok(REQ, &m));
	assert_true(stun_integrity_ok(REQ, &m, (const uint8_t *)PWD, strlen(PWD)));
	assert_false(stun_integrity_ok(REQ, &m, (const uint8_t *)"q9UvYFJ5Ww8MrRC0cjPq3Bgy", strlen(PWD)));
	assert_true(stun_username_is(REQ, &m, "mmrU", 4));
	assert_false(stun_username_is(REQ, &m, "mmr", 3));       /* "mmr" then 'U', not ':' */
	assert_false(stun_username_is(REQ, &m, "mmrV", 4));
	assert_false(stun_username_is(REQ, &m, "mmrU:Brws", 9)); /* nothing after */
	assert_true(request_ok(REQ, sizeof(REQ)));
}

/* Our request builder gives aioice's bytes exactly (the generator's and the tests' checks). */
static void test_request_matches_aioice(void **state)
{
	(void)state;
	uint8_t out[256], txid[STUN_TXID_LEN];
	for (unsigned i = 0; i < STUN_TXID_LEN; i++)
		txid[i] = (uint8_t)(0xa0 + i);
	uint32_t n = stun_binding_request(out, sizeof(out), txid, "mmrU:Brws", 9, 1853824767u, 0x1122334455667788ull,
					  1, (const uint8_t *)PWD, strlen(PWD));
	assert_int_equal(n, sizeof(REQ));
	assert_memory_equal(out, REQ, sizeof(REQ));
	assert_int_equal(stun_binding_request(out, sizeof(REQ) - 1, txid, "mmrU:Brws", 9, 1, 1, 1,
					      (const uint8_t *)PWD, strlen(PWD)), 0);
	assert_int_equal(stun_binding_request(out, sizeof(out), txid, "", 0, 1, 1, 1, (const uint8_t *)PWD,
					      strlen(PWD)), 0);
	n = stun_binding_request(out, sizeof(out), txid, "mmrU:B", 6, 7, 9, 0, (const uint8_t *)PWD, strlen(PWD));
	struct stun_msg m;
	assert_int_equal(stun_parse(out, n, &m), STUN_OK);
	assert_false(m.use_candidate);
	assert_true(m.priority == 7 && m.tiebreaker == 9);
	assert_true(request_ok(out, n));
}

static void test_responses_match_aioice(void **state)
{
	(void)state;
	uint8_t out[256];
	struct stun_addr a4 = { .family = 4, .ip = { 198, 51, 100, 7 }, .port = 40001 };
	struct stun_addr a6 = { .family = 6, .ip = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2 },
				.port = 5000 };

	uint32_t n = stun_binding_success(out, sizeof(out), REQ, &a4, (const uint8_t *)PWD, strlen(PWD));
	assert_int_equal(n, sizeof(RESP4));
	assert_memory_equal(out, RESP4, sizeof(RESP4));
	n = stun_binding_success(out, sizeof(out), REQ, &a6, (const uint8_t *)PWD, strlen(PWD));
	assert_int_equal(n, sizeof(RESP6));
	assert_memory_equal(out, RESP6, sizeof(RESP6));
	/* too small a buffer: nothing */
	assert_int_equal(stun_binding_success(out, sizeof(RESP6) - 1, REQ, &a6, (const uint8_t *)PWD, strlen(PWD)), 0);
	/* our response parses, verifies, and is a success */
	struct stun_msg m;
	assert_int_equal(stun_parse(RESP4, sizeof(RESP4), &m), STUN_OK);
	assert_int_equal(m.type, STUN_BINDING_SUCCESS);
	assert_true(stun_fingerprint_ok(RESP4, &m) && stun_integrity_ok(RESP4, &m, (const uint8_t *)PWD, strlen(PWD)));
}

/* Every single-bit flip of the request: never accepted as it stands */
static void test_every_bit_flip(void **state)
{
	(void)state;
	uint8_t p[sizeof(REQ)];
	unsigned refused_parse = 0, refused_check = 0;

	for (unsigned i = 0; i < sizeof(REQ) * 8; i++) {
		memcpy(p, REQ, sizeof(REQ));
		p[i / 8] ^= (uint8_t)(1u << (i % 8));
		struct stun_msg m;
		if (stun_parse(p, sizeof(p), &m) != STUN_OK)
			refused_parse++;
		else if (!request_ok(p, sizeof(p)) || m.type != STUN_BINDING_REQUEST)
			refused_check++;
		else
			fail_msg("bit %u flipped and still accepted", i);
	}
	print_message("bit flips: %u refused by the parse, %u by the checks, of %zu\n", refused_parse,
		      refused_check, sizeof(REQ) * 8);
	assert_int_equal(refused_parse + refused_check, sizeof(REQ) * 8);
}

static void test_malformed(void **state)
{
	(void)state;
	uint8_t p[sizeof(REQ) + 16];
	struct stun_msg m;

	for (uint32_t len = 0; len < sizeof(REQ); len++)        /* truncated anywhere */
		assert_int_not_equal(stun_parse(REQ, len, &m), STUN_OK);
	memcpy(p, REQ, sizeof(REQ));
	memset(p + sizeof(REQ), 0, 16);
	assert_int_equal(stun_parse(p, sizeof(REQ) + 4, &m), STUN_ERR_SHORT);   /* trailing bytes */
	memcpy(p, REQ, sizeof(REQ));
	p[3] = 0x49;                                                /* length not a multiple of 4 */
	assert_int_equal(stun_parse(p, sizeof(REQ), &m), STUN_ERR_HEADER);
	memcpy(p, REQ, sizeof(REQ));
	p[0] = 0x40;                                                /* top bits */
	assert_int_equal(stun_parse(p, sizeof(REQ), &m), STUN_ERR_HEADER);
	memcpy(p, REQ, sizeof(REQ));
	p[23] = 0xff;                                               /* USERNAME past the end */
	assert_int_equal(stun_parse(p, sizeof(REQ), &m), STUN_ERR_ATTR);
	memcpy(p, REQ, sizeof(REQ));
	p[39] = 5;                                                  /* PRIORITY of 5 bytes */
	assert_int_not_equal(stun_parse(p, sizeof(REQ), &m), STUN_OK);
	/* an attribute after FINGERPRINT: the header length grown by 4, a SOFTWARE (0x8022) of 0 */
	memcpy(p, REQ, sizeof(REQ));
	p[3] = 0x4c;
	p[sizeof(REQ)] = 0x80; p[sizeof(REQ) + 1] = 0x22; p[sizeof(REQ) + 2] = 0; p[sizeof(REQ) + 3] = 0;
	assert_int_equal(stun_parse(p, sizeof(REQ) + 4, &m), STUN_ERR_ORDER);
	/* USE-CANDIDATE moved after MESSAGE-INTEGRITY */
	uint8_t q[sizeof(REQ)];
	memcpy(q, REQ, 56);                          /* header .. ICE-CONTROLLING */
	memcpy(q + 56, REQ + 60, 24);                /* MI */
	memcpy(q + 80, REQ + 56, 4);                 /* USE-CANDIDATE */
	memcpy(q + 84, REQ + 84, 8);                 /* FINGERPRINT */
	assert_int_equal(stun_parse(q, sizeof(q), &m), STUN_ERR_ORDER);
	/* not STUN: RTP, DTLS first bytes */
	memcpy(p, REQ, sizeof(REQ));
	p[0] = 0x80;
	assert_false(stun_is(p, sizeof(REQ)));
	p[0] = 22;
	assert_false(stun_is(p, sizeof(REQ)));
	assert_false(stun_is(REQ, 19));
	/* an unknown comprehension-required attribute: parsed, named for a 420 */
	memcpy(p, REQ, sizeof(REQ));
	p[36] = 0x00; p[37] = 0x7f;                  /* PRIORITY -> 0x007f */
	assert_int_equal(stun_parse(p, sizeof(REQ), &m), STUN_OK);
	assert_int_equal(m.unknown_attr, 0x007f);
	assert_false(m.has_priority);
	assert_string_equal(stun_err_name(STUN_ERR_ORDER), "order");
}

static void test_error_responses(void **state)
{
	(void)state;
	uint8_t out[256];
	struct stun_msg m;
	static const uint16_t codes[] = { 400, 401, 420, 487 };

	for (unsigned i = 0; i < 4; i++) {
		int with_key = codes[i] >= 420;
		uint32_t n = stun_binding_error(out, sizeof(out), REQ, codes[i], codes[i] == 420 ? 0x007f : 0,
						with_key ? (const uint8_t *)PWD : NULL, strlen(PWD));
		assert_true(n > STUN_HDR_LEN);
		assert_int_equal(stun_parse(out, n, &m), STUN_OK);
		assert_int_equal(m.type, STUN_BINDING_ERROR);
		assert_memory_equal(out + 8, REQ + 8, STUN_TXID_LEN);
		assert_true(stun_fingerprint_ok(out, &m));
		assert_int_equal(m.mi_off != 0, with_key);
		if (with_key)
			assert_true(stun_integrity_ok(out, &m, (const uint8_t *)PWD, strlen(PWD)));
		assert_int_equal(out[24 + 2] * 100 + out[24 + 3], codes[i]);
	}
	assert_int_equal(stun_binding_error(out, 30, REQ, 400, 0, NULL, 0), 0);
	assert_int_equal(stun_binding_error(out, sizeof(out), REQ, 200, 0, NULL, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_browser_request),
		cmocka_unit_test(test_request_matches_aioice),
		cmocka_unit_test(test_responses_match_aioice),
		cmocka_unit_test(test_every_bit_flip),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_error_responses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
