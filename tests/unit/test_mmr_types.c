/*
 * test_mmr_types.c - unit tests of the text forms in lib/contract/mmr_types.c (IPv4/IPv6 addresses, MAC
 * addresses), mmr_addr_eq, and the drop reason names of lib/contract/drop_reason.c (one unique snake_case name
 * per reason).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "mmr_types.h"
#include "stats.h"

static void test_addr_parse_v4(void **state)
{
	struct mmr_addr a;
	static const uint8_t zero[12];

	(void)state;
	memset(&a, 0xaa, sizeof(a));
	assert_int_equal(mmr_addr_parse("198.51.100.2", &a), 0);
	assert_int_equal(a.family, MMR_AF_INET);
	assert_int_equal(a.ip[0], 198);
	assert_int_equal(a.ip[1], 51);
	assert_int_equal(a.ip[2], 100);
	assert_int_equal(a.ip[3], 2);
	assert_memory_equal(a.ip + 4, zero, 12);
	assert_int_equal(a.pad[0] | a.pad[1] | a.pad[2], 0);
	assert_int_equal(mmr_addr_parse("0.0.0.0", &a), 0);
	assert_int_equal(mmr_addr_parse("255.255.255.255", &a), 0);
	assert_int_equal(a.ip[3], 255);
}

static void test_addr_parse_v6(void **state)
{
	struct mmr_addr a;
	static const uint8_t want[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00, [15] = 0x02 };

	(void)state;
	assert_int_equal(mmr_addr_parse("2001:db8:100::2", &a), 0);
	assert_int_equal(a.family, MMR_AF_INET6);
	assert_memory_equal(a.ip, want, 16);
	assert_int_equal(mmr_addr_parse("::", &a), 0);
	assert_int_equal(mmr_addr_parse("::ffff:1.2.3.4", &a), 0);
	assert_int_equal(a.family, MMR_AF_INET6);
	assert_int_equal(a.ip[15], 4);
	assert_int_equal(mmr_addr_parse("fe80::1:2:3:4", &a), 0);
}

static void test_addr_parse_bad(void **state)
{
	struct mmr_addr a;
	static const char *const bad[] = {
		"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4 ", " 1.2.3.4", "a.b.c.d", "1..2.3",
		"2001:db8::1::2", "2001:db8:100::g", "12345::", ":::", "localhost", "1.2.3.4/24",
	};

	(void)state;
	memset(&a, 0x5a, sizeof(a));
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(mmr_addr_parse(bad[i], &a), -1);
	assert_int_equal(a.family, 0x5a);      /* untouched on failure */
	assert_int_equal(mmr_addr_parse(NULL, &a), -1);
	assert_int_equal(mmr_addr_parse("1.2.3.4", NULL), -1);
}

static void test_addr_format(void **state)
{
	struct mmr_addr a;
	char buf[64];
	static const char *const round[] = {
		"198.51.100.2", "0.0.0.0", "2001:db8:100::2", "::", "fe80::1:2:3:4", "::1",
	};

	(void)state;
	for (unsigned i = 0; i < sizeof(round) / sizeof(round[0]); i++) {
		assert_int_equal(mmr_addr_parse(round[i], &a), 0);
		assert_ptr_equal(mmr_addr_format(&a, buf, sizeof(buf)), buf);
		assert_string_equal(buf, round[i]);
	}
	/* the longest IPv6 text fits in 46 bytes */
	assert_int_equal(mmr_addr_parse("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", &a), 0);
	mmr_addr_format(&a, buf, 46);
	assert_string_equal(buf, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	/* an unknown family and a buffer that is too small give a terminated string */
	memset(&a, 0, sizeof(a));
	a.family = 9;
	mmr_addr_format(&a, buf, sizeof(buf));
	assert_true(strlen(buf) > 0 && strlen(buf) < sizeof(buf));
	assert_int_equal(mmr_addr_parse("198.51.100.2", &a), 0);
	memset(buf, 'x', sizeof(buf));
	mmr_addr_format(&a, buf, 4);
	assert_true(memchr(buf, '\0', 4) != NULL);
}

static void test_addr_eq(void **state)
{
	struct mmr_addr a, b;

	(void)state;
	assert_int_equal(mmr_addr_parse("10.0.0.1", &a), 0);
	assert_int_equal(mmr_addr_parse("10.0.0.1", &b), 0);
	assert_true(mmr_addr_eq(&a, &b));
	assert_int_equal(mmr_addr_parse("10.0.0.2", &b), 0);
	assert_false(mmr_addr_eq(&a, &b));
	/* same bytes, other family */
	assert_int_equal(mmr_addr_parse("a00:1::", &b), 0);
	assert_memory_equal(a.ip, b.ip, 4);
	assert_false(mmr_addr_eq(&a, &b));
}

static void test_mac_parse(void **state)
{
	uint8_t mac[6];
	static const uint8_t want[6] = { 0x02, 0x00, 0xab, 0xCD, 0xef, 0xff };
	static const char *const bad[] = {
		"", "02:00:ab:cd:ef", "02:00:ab:cd:ef:ff:00", "02:00:ab:cd:ef:fg", "02-00:ab:cd:ef:ff",
		"0200abcdefff", "2:0:ab:cd:ef:ff", "02:00:ab:cd:ef:ff ", "02:00:ab:cd:ef:f",
		"02.00.ab.cd.ef.ff", "02::0:ab:cd:ef:f",
	};

	(void)state;
	assert_int_equal(mmr_mac_parse("02:00:ab:CD:ef:FF", mac), 0);
	assert_memory_equal(mac, want, 6);
	assert_int_equal(mmr_mac_parse("02-00-ab-cd-ef-ff", mac), 0);
	assert_memory_equal(mac, want, 6);
	memset(mac, 0x11, 6);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(mmr_mac_parse(bad[i], mac), -1);
	for (int i = 0; i < 6; i++)
		assert_int_equal(mac[i], 0x11);    /* untouched on failure */
	assert_int_equal(mmr_mac_parse(NULL, mac), -1);
}

static void test_drop_names(void **state)
{
	(void)state;
	for (int i = 0; i < MMR_DROP__COUNT; i++) {
		const char *n = mmr_drop_names[i];

		assert_non_null(n);
		assert_true(strlen(n) > 0 && strlen(n) < 24);
		for (const char *c = n; *c; c++)
			assert_true((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_');
		for (int j = 0; j < i; j++)
			assert_string_not_equal(n, mmr_drop_names[j]);
	}
	assert_string_equal(mmr_drop_names[MMR_DROP_NONE], "none");
	assert_string_equal(mmr_drop_names[MMR_DROP_TRUNCATED], "truncated");
	assert_string_equal(mmr_drop_names[MMR_DROP_UNKNOWN_SENDER], "unknown_sender");
	assert_string_equal(mmr_drop_names[MMR_DROP_ARP_OTHER], "arp_other");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_parse_v4),
		cmocka_unit_test(test_addr_parse_v6),
		cmocka_unit_test(test_addr_parse_bad),
		cmocka_unit_test(test_addr_format),
		cmocka_unit_test(test_addr_eq),
		cmocka_unit_test(test_mac_parse),
		cmocka_unit_test(test_drop_names),
	};

	return cmocka_run_group_tests_name("mmr_types", tests, NULL, NULL);
}
