/*
 * test_zone_seal.c - control/zone_seal.c: a passcode record sealed for etcd opens with the same
 * secret and meeting only; a wrong key, a wrong meeting (AAD), a changed or truncated text, a short
 * secret are refused; two seals differ (random nonce) and hold no byte of the record in clear.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "hex.h"
#include "zone_seal.h"

static uint8_t secret[40], secret2[40], rec[48];

static void setup_bytes(void)
{
	for (unsigned i = 0; i < sizeof(secret); i++) {
		secret[i] = (uint8_t)(i * 7 + 1);
		secret2[i] = secret[i];
	}
	secret2[5] ^= 1;
	for (unsigned i = 0; i < sizeof(rec); i++)
		rec[i] = (uint8_t)(0xa0 + i);
}

static void test_roundtrip(void **st)
{
	(void)st;
	setup_bytes();
	char t1[ZSEAL_TEXT_MAX], t2[ZSEAL_TEXT_MAX], hx[2 * sizeof(rec) + 1];
	uint8_t out[48];
	assert_int_equal(zone_seal(secret, sizeof(secret), "m1", rec, sizeof(rec), t1, sizeof(t1)), 0);
	assert_int_equal(strlen(t1), 2 * (12 + 48 + 16));
	assert_int_equal(zone_unseal(secret, sizeof(secret), "m1", t1, out, sizeof(out)), 0);
	assert_memory_equal(out, rec, sizeof(rec));
	assert_int_equal(zone_seal(secret, sizeof(secret), "m1", rec, sizeof(rec), t2, sizeof(t2)), 0);
	assert_string_not_equal(t1, t2);   /* a new nonce each time */
	mmr_hex_encode(rec, sizeof(rec), hx);
	hx[16] = '\0';                      /* no 8 bytes of the record in clear */
	assert_null(strstr(t1, hx));
}

static void test_refused(void **st)
{
	(void)st;
	setup_bytes();
	char t[ZSEAL_TEXT_MAX];
	uint8_t out[48], keep[48];
	memset(out, 0x55, sizeof(out));
	memcpy(keep, out, sizeof(out));
	assert_int_equal(zone_seal(secret, sizeof(secret), "m1", rec, sizeof(rec), t, sizeof(t)), 0);
	/* wrong key */
	assert_int_equal(zone_unseal(secret2, sizeof(secret2), "m1", t, out, sizeof(out)), -1);
	/* wrong AAD (another meeting) */
	assert_int_equal(zone_unseal(secret, sizeof(secret), "m2", t, out, sizeof(out)), -1);
	/* truncated */
	char tr[ZSEAL_TEXT_MAX];
	snprintf(tr, sizeof(tr), "%.*s", (int)strlen(t) - 2, t);
	assert_int_equal(zone_unseal(secret, sizeof(secret), "m1", tr, out, sizeof(out)), -1);
	/* a flipped ciphertext digit */
	snprintf(tr, sizeof(tr), "%s", t);
	tr[40] = tr[40] == '0' ? '1' : '0';
	assert_int_equal(zone_unseal(secret, sizeof(secret), "m1", tr, out, sizeof(out)), -1);
	/* not hex, empty */
	assert_int_equal(zone_unseal(secret, sizeof(secret), "m1", "zz", out, sizeof(out)), -1);
	assert_int_equal(zone_unseal(secret, sizeof(secret), "m1", "", out, sizeof(out)), -1);
	assert_memory_equal(out, keep, sizeof(out));   /* nothing written on a refusal */
	/* a short secret, no meeting, too small an output */
	assert_int_equal(zone_seal(secret, 31, "m1", rec, sizeof(rec), t, sizeof(t)), -1);
	assert_int_equal(zone_seal(secret, sizeof(secret), "", rec, sizeof(rec), t, sizeof(t)), -1);
	assert_int_equal(zone_seal(secret, sizeof(secret), "m1", rec, sizeof(rec), t, 100), -1);
	assert_int_equal(zone_unseal(secret, 31, "m1", t, out, sizeof(out)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
