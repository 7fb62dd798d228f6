/*
 * test_rate_limit.c - control/rate_limit.c: the join endpoints' token buckets (burst, refill,
 * Retry-After, keys apart, a full table forgetting the idlest key, the per-source key: IPv4 whole,
 * IPv6 by /64).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "rate_limit.h"

#define S 1000000000ull

static void test_burst_then_refill(void **state)
{
	(void)state;
	static struct rate_limit rl;
	unsigned retry = 0;
	rl_init(&rl, 5.0, 10.0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(rl_take(&rl, "10.0.0.1", 100 * S, &retry), 0);
	assert_int_equal(rl_take(&rl, "10.0.0.1", 100 * S, &retry), -1);
	assert_int_equal(retry, 1);                       /* 0.2 s to the next token, said as 1 s */
	assert_int_equal(rl_take(&rl, "10.0.0.2", 100 * S, &retry), 0);   /* another key: its own bucket */
	assert_int_equal(rl_take(&rl, "10.0.0.1", 100 * S + S / 5 + 1000, &retry), 0);   /* refilled one */
	assert_int_equal(rl_take(&rl, "10.0.0.1", 100 * S + S / 5 + 1000, &retry), -1);
	/* idle long: full again, never more than the burst */
	for (int i = 0; i < 10; i++)
		assert_int_equal(rl_take(&rl, "10.0.0.1", 200 * S, &retry), 0);
	assert_int_equal(rl_take(&rl, "10.0.0.1", 200 * S, &retry), -1);
}

static void test_slow_rate_retry_after(void **state)
{
	(void)state;
	static struct rate_limit rl;
	unsigned retry = 0;
	rl_init(&rl, 0.25, 1.0);                           /* one every 4 s */
	assert_int_equal(rl_take(&rl, "m/alice", 5 * S, &retry), 0);
	assert_int_equal(rl_take(&rl, "m/alice", 5 * S, &retry), -1);
	assert_int_equal(retry, 4);
	assert_int_equal(rl_take(&rl, "m/alice", 8 * S, &retry), -1);
	assert_int_equal(retry, 1);
	assert_int_equal(rl_take(&rl, "m/alice", 9 * S, &retry), 0);
}

static void test_table_full(void **state)
{
	(void)state;
	static struct rate_limit rl;
	unsigned retry = 0;
	char key[32];
	rl_init(&rl, 1.0, 1.0);
	/* many more keys than slots: each still gets its first token, nothing crashes */
	for (unsigned i = 0; i < 4 * RL_SLOTS; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		assert_int_equal(rl_take(&rl, key, (uint64_t)i * 1000, &retry), 0);
	}
	/* the most recent key is still held: its bucket is empty */
	snprintf(key, sizeof(key), "k%u", 4 * RL_SLOTS - 1);
	assert_int_equal(rl_take(&rl, key, (uint64_t)(4 * RL_SLOTS) * 1000, &retry), -1);
}

static void addr_key(const char *addr, char *out, size_t n)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
		a6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, addr, &a6->sin6_addr), 1);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
		a4->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, addr, &a4->sin_addr), 1);
	}
	rl_addr_key(&ss, out, n);
}

static void test_addr_key(void **state)
{
	(void)state;
	char k[RL_ADDR_KEY], k2[RL_ADDR_KEY];
	addr_key("192.0.2.7", k, sizeof(k));
	assert_string_equal(k, "192.0.2.7");
	addr_key("192.0.2.8", k2, sizeof(k2));
	assert_string_not_equal(k, k2);                    /* IPv4: each address its own key */
	addr_key("::ffff:192.0.2.7", k2, sizeof(k2));
	assert_string_equal(k2, "192.0.2.7");              /* IPv4-mapped: the same key as IPv4 */
	addr_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd", k, sizeof(k));
	assert_string_equal(k, "2001:db8:1:2::/64");
	addr_key("2001:db8:1:2::1", k2, sizeof(k2));
	assert_string_equal(k, k2);                        /* the same /64: one key */
	addr_key("2001:db8:1:3::1", k2, sizeof(k2));
	assert_string_not_equal(k, k2);                    /* the next /64: another */
	struct sockaddr_storage un;
	memset(&un, 0, sizeof(un));
	un.ss_family = AF_UNIX;
	rl_addr_key(&un, k, sizeof(k));
	assert_string_equal(k, "?");
}

/* One host rotating through its /64 shares one bucket; the neighbouring /64 has its own. */
static void test_ipv6_prefix_shares_bucket(void **state)
{
	(void)state;
	static struct rate_limit rl;
	unsigned retry = 0;
	char k[RL_ADDR_KEY], a[64];
	rl_init(&rl, 1.0, 3.0);
	for (int i = 1; i <= 3; i++) {
		snprintf(a, sizeof(a), "2001:db8:0:7::%x", i);
		addr_key(a, k, sizeof(k));
		assert_int_equal(rl_take(&rl, k, 10 * S, &retry), 0);
	}
	addr_key("2001:db8:0:7:ffff::4", k, sizeof(k));
	assert_int_equal(rl_take(&rl, k, 10 * S, &retry), -1);
	addr_key("2001:db8:0:8::1", k, sizeof(k));
	assert_int_equal(rl_take(&rl, k, 10 * S, &retry), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_then_refill),
		cmocka_unit_test(test_slow_rate_retry_after),
		cmocka_unit_test(test_table_full),
		cmocka_unit_test(test_addr_key),
		cmocka_unit_test(test_ipv6_prefix_shares_bucket),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
