/*
 * test_zone_cascade.c - control/zone_cascade.c: the trunks' SRTP keys (HKDF-SHA256 under the zone
 * secret): deterministic (both hosts derive the same), each input changes the key (meeting, create
 * revision, epoch, direction, suite, secret), the suites' lengths, and the refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "zone_cascade.h"

static uint8_t secret[32], secret2[32];

static void derive(const uint8_t *sec, enum srtp_suite suite, const char *m, int64_t rev, uint64_t ep,
		   const char *from, const char *to, struct srtp_master *k)
{
	assert_int_equal(cascade_trunk_key(sec, 32, suite, m, rev, ep, from, to, k), 0);
}

static bool same(const struct srtp_master *a, const struct srtp_master *b)
{
	return a->key_len == b->key_len && memcmp(a->key, b->key, a->key_len) == 0 &&
	       memcmp(a->salt, b->salt, a->salt_len) == 0;
}

static void test_keys(void **state)
{
	(void)state;
	memset(secret, 0x5a, sizeof(secret));
	memset(secret2, 0x5a, sizeof(secret2));
	secret2[31] ^= 1;
	const enum srtp_suite G = SRTP_SUITE_AEAD_AES_128_GCM;
	struct srtp_master base, again, k[8];
	derive(secret, G, "m1", 42, 1, "mmr-a", "mmr-b", &base);
	derive(secret, G, "m1", 42, 1, "mmr-a", "mmr-b", &again);
	assert_true(same(&base, &again));                 /* both hosts derive it */
	assert_int_equal(base.key_len, 16);
	assert_int_equal(base.salt_len, 12);
	assert_int_equal(base.suite, G);
	derive(secret, G, "m1", 42, 1, "mmr-b", "mmr-a", &k[0]);    /* the other direction */
	derive(secret, G, "m1", 42, 2, "mmr-a", "mmr-b", &k[1]);    /* the next trunk */
	derive(secret, G, "m1", 43, 1, "mmr-a", "mmr-b", &k[2]);    /* the meeting made again */
	derive(secret, G, "m2", 42, 1, "mmr-a", "mmr-b", &k[3]);
	derive(secret2, G, "m1", 42, 1, "mmr-a", "mmr-b", &k[4]);
	derive(secret, G, "m1", 42, 1, "mmr-a", "mmr-c", &k[5]);
	/* no field runs into the next: "m1"+"mmr-a" is not "m1m"+"mr-a" */
	derive(secret, G, "m1m", 42, 1, "mr-a", "mmr-b", &k[6]);
	derive(secret, SRTP_SUITE_AEAD_AES_256_GCM, "m1", 42, 1, "mmr-a", "mmr-b", &k[7]);
	assert_int_equal(k[7].key_len, 32);
	for (int i = 0; i < 8; i++) {
		assert_false(same(&base, &k[i]));
		for (int j = 0; j < i; j++)
			assert_false(memcmp(k[i].key, k[j].key, 16) == 0);
	}
	struct srtp_master cm;
	derive(secret, SRTP_SUITE_AES_CM_128_HMAC_SHA1_80, "m1", 42, 1, "mmr-a", "mmr-b", &cm);
	assert_int_equal(cm.key_len, 16);
	assert_int_equal(cm.salt_len, 14);
	assert_false(memcmp(cm.key, base.key, 16) == 0);
}

static void test_refused(void **state)
{
	(void)state;
	struct srtp_master k;
	const enum srtp_suite G = SRTP_SUITE_AEAD_AES_128_GCM;
	assert_int_equal(cascade_trunk_key(secret, 31, G, "m1", 1, 1, "a", "b", &k), -1);   /* short secret */
	assert_int_equal(k.key_len, 0);
	assert_int_equal(cascade_trunk_key(secret, 32, SRTP_SUITE_NONE, "m1", 1, 1, "a", "b", &k), -1);
	assert_int_equal(cascade_trunk_key(secret, 32, G, "", 1, 1, "a", "b", &k), -1);
	assert_int_equal(cascade_trunk_key(secret, 32, G, "m1", 0, 1, "a", "b", &k), -1);   /* no revision */
	assert_int_equal(cascade_trunk_key(secret, 32, G, "m1", 1, 0, "a", "b", &k), -1);   /* no epoch */
	assert_int_equal(cascade_trunk_key(secret, 32, G, "m1", 1, 1, "a", "a", &k), -1);   /* to itself */
	assert_int_equal(cascade_trunk_key(secret, 32, G, "m1", 1, 1, "", "b", &k), -1);
	assert_int_equal(cascade_trunk_key(NULL, 32, G, "m1", 1, 1, "a", "b", &k), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
