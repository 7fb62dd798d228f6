/*
 * test_rate_limit.c - control/rate_limit.c: the join endpoints' token buckets (burst, refill,
 * Retry-After, keys apart, a full table forgetting the idlest key).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_then_refill),
		cmocka_unit_test(test_slow_rate_retry_after),
		cmocka_unit_test(test_table_full),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
