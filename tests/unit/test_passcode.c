/*
 * test_passcode.c - control/passcode.c: which passcodes are accepted, the salted hash and its
 * constant-time compare, set/check/replace/clear, the file (0600, hashes only, reloaded, entries of
 * gone meetings dropped, a bad file refused), and rate_limit.c's rl_peek (takes nothing).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "passcode.h"
#include "rate_limit.h"

static char dir[64], state[128], file[128];

static int setup(void **st)
{
	(void)st;
	snprintf(dir, sizeof(dir), "/tmp/test_passcode.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(file, sizeof(file), "%s/%s", dir, PASSCODE_FILE_NAME);
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	passcode_reset();
	unlink(file);
	rmdir(dir);
	return 0;
}

static void test_valid(void **st)
{
	(void)st;
	char err[200];
	assert_int_equal(passcode_valid("1234", err, sizeof(err)), 0);
	assert_int_equal(passcode_valid("s3cr3t!#", err, sizeof(err)), 0);
	assert_int_equal(passcode_valid("123", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "4-64 characters"));
	assert_int_equal(passcode_valid("12 34", err, sizeof(err)), -1);
	assert_int_equal(passcode_valid("12\n34", err, sizeof(err)), -1);
	char big[80];
	memset(big, 'a', 65);
	big[65] = '\0';
	assert_int_equal(passcode_valid(big, err, sizeof(err)), -1);
}

static void test_hash_compare(void **st)
{
	(void)st;
	uint8_t salt[PASSCODE_SALT_LEN] = { 1, 2, 3 }, salt2[PASSCODE_SALT_LEN] = { 9 };
	uint8_t a[PASSCODE_HASH_LEN], b[PASSCODE_HASH_LEN], c[PASSCODE_HASH_LEN], d[PASSCODE_HASH_LEN];
	assert_int_equal(passcode_hash(salt, "4321", 4, a), 0);
	assert_int_equal(passcode_hash(salt, "4321", 4, b), 0);
	assert_int_equal(passcode_hash(salt, "4322", 4, c), 0);
	assert_int_equal(passcode_hash(salt2, "4321", 4, d), 0);
	assert_true(passcode_equal(a, b));
	assert_false(passcode_equal(a, c));
	assert_false(passcode_equal(a, d));     /* salted: the same code, another hash */
	b[PASSCODE_HASH_LEN - 1] ^= 1;          /* the last byte counts too */
	assert_false(passcode_equal(a, b));
}

static void test_set_check_file(void **st)
{
	(void)st;
	char err[300];
	assert_int_equal(passcode_load(state, NULL, NULL, err, sizeof(err)), 0);   /* no file yet */
	assert_false(passcode_required("m1"));
	assert_false(passcode_check("m1", "1234", 4));     /* none: never "right" */
	assert_int_equal(passcode_set("m1", "1234", err, sizeof(err)), 0);
	assert_int_equal(passcode_set("m2", "abcdef", err, sizeof(err)), 0);
	assert_int_equal(passcode_set("m3", "12", err, sizeof(err)), -1);     /* refused: nothing changed */
	assert_false(passcode_required("m3"));
	assert_true(passcode_required("m1"));
	assert_true(passcode_check("m1", "1234", 4));
	assert_false(passcode_check("m1", "1235", 4));
	assert_false(passcode_check("m1", "123", 3));
	assert_false(passcode_check("m1", "12345", 5));
	assert_false(passcode_check("m1", NULL, 0));
	assert_false(passcode_check("m1", "abcdef", 6));  /* m2's */
	/* the file: 0600, no passcode in it */
	struct stat sb;
	assert_int_equal(stat(file, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	char buf[1024] = "";
	FILE *f = fopen(file, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_null(strstr(buf, "1234"));
	assert_null(strstr(buf, "abcdef"));
	assert_non_null(strstr(buf, "m1 "));
	/* replaced, then reloaded */
	assert_int_equal(passcode_set("m1", "9999", err, sizeof(err)), 0);
	assert_false(passcode_check("m1", "1234", 4));
	passcode_reset();
	assert_int_equal(passcode_load(state, NULL, NULL, err, sizeof(err)), 0);
	assert_true(passcode_check("m1", "9999", 4));
	assert_true(passcode_check("m2", "abcdef", 6));
	/* cleared */
	assert_int_equal(passcode_set("m1", NULL, err, sizeof(err)), 0);
	assert_false(passcode_required("m1"));
	assert_true(passcode_required("m2"));
}

static bool keep_m2_only(const char *name, void *arg)
{
	(void)arg;
	return strcmp(name, "m2") == 0;
}

static void test_load_drops_and_refuses(void **st)
{
	(void)st;
	char err[300];
	assert_int_equal(passcode_load(state, NULL, NULL, err, sizeof(err)), 0);
	assert_int_equal(passcode_set("m1", "1111", err, sizeof(err)), 0);
	assert_int_equal(passcode_set("m2", "2222", err, sizeof(err)), 0);
	assert_int_equal(passcode_load(state, keep_m2_only, NULL, err, sizeof(err)), 0);
	assert_false(passcode_required("m1"));
	assert_true(passcode_check("m2", "2222", 4));
	assert_int_equal(passcode_load(state, NULL, NULL, err, sizeof(err)), 0);   /* dropped on disk too */
	assert_false(passcode_required("m1"));
	FILE *f = fopen(file, "w");
	fputs("m1 nothex 00\n", f);
	fclose(f);
	assert_int_equal(passcode_load(state, NULL, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":1: not MEETING SALT HASH"));
}

static void test_rl_peek(void **st)
{
	(void)st;
	static struct rate_limit rl;
	unsigned retry = 0;
	rl_init(&rl, 1.0, 2.0);
	const uint64_t S = 1000000000ull;
	assert_int_equal(rl_peek(&rl, "a", 10 * S, &retry), 0);     /* unknown: allowed, nothing made */
	assert_int_equal(rl_peek(&rl, "a", 10 * S, &retry), 0);
	assert_int_equal(rl_take(&rl, "a", 10 * S, &retry), 0);
	assert_int_equal(rl_peek(&rl, "a", 10 * S, &retry), 0);
	assert_int_equal(rl_take(&rl, "a", 10 * S, &retry), 0);
	assert_int_equal(rl_peek(&rl, "a", 10 * S, &retry), -1);
	assert_int_equal(retry, 1);
	assert_int_equal(rl_peek(&rl, "a", 10 * S, &retry), -1);   /* a peek took nothing more */
	assert_int_equal(rl_peek(&rl, "a", 11 * S, &retry), 0);     /* refilled */
	assert_int_equal(rl_peek(&rl, "b", 10 * S, &retry), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_hash_compare),
		cmocka_unit_test_setup_teardown(test_set_check_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_drops_and_refuses, setup, teardown),
		cmocka_unit_test(test_rl_peek),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
