/*
 * test_perm.c - control/perm.c: the role -> permission table (each role's rights, none beyond,
 * bad roles and permissions refused) and the role names of control/token.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include <string.h>

#include "perm.h"
#include "token.h"

/* the documented table (perm.h), row by row: the permissions each role has */
static const struct { enum token_role role; const char *perms; } rows[] = {
	{ TOKEN_ROLE_ADMIN, "publish_audio publish_video publish_screen receive view mute_others admit eject share "
			    "lock_end passcode read_keys manage operate" },
	{ TOKEN_ROLE_HOST, "publish_audio publish_video publish_screen receive view mute_others admit eject share "
			   "lock_end passcode" },
	{ TOKEN_ROLE_COHOST, "publish_audio publish_video publish_screen receive view mute_others admit eject share "
			     "passcode" },
	{ TOKEN_ROLE_PARTICIPANT, "publish_audio publish_video publish_screen receive" },
	{ TOKEN_ROLE_VIEWER, "receive" },
	{ TOKEN_ROLE_PUBLISHER, "publish_audio publish_video publish_screen" },
};

static bool listed(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; (p = strstr(p, name)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

static void test_table(void **state)
{
	(void)state;
	assert_int_equal(sizeof(rows) / sizeof(rows[0]), TOKEN_ROLE_COUNT);
	for (unsigned i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		for (int p = 0; p < PERM_COUNT; p++) {
			bool want = listed(rows[i].perms, perm_name((enum perm)p));
			if (perm_allows(rows[i].role, (enum perm)p) != want)
				fail_msg("role %s, permission %s: got %d, want %d", token_role_name(rows[i].role),
					 perm_name((enum perm)p), !want, want);
		}
}

static void test_only_admin_reads_keys_and_operates(void **state)
{
	(void)state;
	for (int r = 0; r < TOKEN_ROLE_COUNT; r++) {
		assert_int_equal(perm_allows((enum token_role)r, PERM_READ_KEYS), r == TOKEN_ROLE_ADMIN);
		assert_int_equal(perm_allows((enum token_role)r, PERM_OPERATE), r == TOKEN_ROLE_ADMIN);
		assert_int_equal(perm_allows((enum token_role)r, PERM_MANAGE), r == TOKEN_ROLE_ADMIN);
	}
	assert_false(perm_allows(TOKEN_ROLE_VIEWER, PERM_PUBLISH_AUDIO));
	assert_false(perm_allows(TOKEN_ROLE_COHOST, PERM_LOCK_END));
}

static void test_bad_values(void **state)
{
	(void)state;
	assert_false(perm_allows((enum token_role)TOKEN_ROLE_COUNT, PERM_RECEIVE));
	assert_false(perm_allows((enum token_role)-1, PERM_RECEIVE));
	assert_false(perm_allows(TOKEN_ROLE_ADMIN, PERM_COUNT));
	assert_false(perm_allows(TOKEN_ROLE_ADMIN, (enum perm)-1));
	assert_string_equal(perm_name(PERM_COUNT), "?");
}

static void test_role_names(void **state)
{
	(void)state;
	static const char *const names[] = { "admin", "host", "co-host", "participant", "viewer", "publisher" };
	for (unsigned i = 0; i < 6; i++) {
		enum token_role r;
		assert_int_equal(token_role_parse(names[i], &r), 0);
		assert_string_equal(token_role_name(r), names[i]);
	}
	enum token_role r;
	assert_int_equal(token_role_parse("cohost", &r), -1);
	assert_int_equal(token_role_parse("operator", &r), -1);
	assert_null(token_role_name((enum token_role)TOKEN_ROLE_COUNT));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_only_admin_reads_keys_and_operates),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_role_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
