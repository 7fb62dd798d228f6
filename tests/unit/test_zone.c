/*
 * test_zone.c - control/zone_conf.c: the zone block's checks (every setting, the missing ones,
 * unknown keys, bad URLs and names, with FILE:LINE) and the placement decision (most free share of
 * participants, then of meetings, then the name; never a dead, draining or full host; -1 when full);
 * and etcd_client.c's base64 both ways.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include <libconfig.h>
#include <stdbool.h>
#include <string.h>

#include "etcd_client.h"
#include "zone_conf.h"
#include "zone_failover.h"

#define GOOD_HEAD \
	"  etcd = [ \"http://127.0.0.1:2379\", \"https://etcd-2.example:2379\" ];\n" \
	"  host = \"mmr-a\";\n  address = \"198.51.100.1\";\n  http_url = \"http://127.0.0.1:8081\";\n"
#define GOOD_BODY GOOD_HEAD "  max_meetings = 150;\n  max_participants = 3000;\n"

/* Parse "zone = { body };" : 0 or -1 with err. */
static int parse(const char *body, struct zone_config *zc, char *err, size_t errlen)
{
	char text[4096];
	snprintf(text, sizeof(text), "zone = {\n%s};\n", body);
	config_t c;
	config_init(&c);
	if (!config_read_string(&c, text)) {
		snprintf(err, errlen, "libconfig: %s", config_error_text(&c));
		config_destroy(&c);
		return -2;
	}
	int rc = zone_config_parse(config_lookup(&c, "zone"), zc, err, errlen);
	config_destroy(&c);
	return rc;
}

static void refused(const char *body, const char *why)
{
	struct zone_config zc;
	char err[512] = "";
	int rc = parse(body, &zc, err, sizeof(err));
	if (rc != -1 || !strstr(err, why) || !strstr(err, ":"))
		fail_msg("body %s: rc %d, err '%s', want '%s'", body, rc, err, why);
	assert_false(zc.on);
}

static void test_config_good(void **st)
{
	(void)st;
	struct zone_config zc;
	char err[512];
	assert_int_equal(parse(GOOD_BODY, &zc, err, sizeof(err)), 0);
	assert_true(zc.on);
	assert_int_equal(zc.n_etcd, 2);
	assert_string_equal(zc.etcd[1], "https://etcd-2.example:2379");
	assert_string_equal(zc.host, "mmr-a");
	assert_string_equal(zc.http_url, "http://127.0.0.1:8081");
	assert_int_equal(zc.max_meetings, 150);
	assert_int_equal(zc.max_participants, 3000);
	assert_int_equal(zc.lease_s, 5);                /* the default */
	assert_int_equal(parse(GOOD_BODY "  lease_s = 2;\n", &zc, err, sizeof(err)), 0);
	assert_int_equal(zc.lease_s, 2);
	assert_int_equal(zc.media_port, 5000);          /* the default */
	assert_string_equal(zc.secret_file, "");
	assert_int_equal(parse(GOOD_BODY "  media_port = 7000;\n  secret_file = \"/etc/mmr/z\";\n", &zc, err, sizeof(err)), 0);
	assert_int_equal(zc.media_port, 7000);
	assert_string_equal(zc.secret_file, "/etc/mmr/z");
}

static void test_config_refused(void **st)
{
	(void)st;
	refused("  host = \"a\";\n", "etcd is missing");
	refused(GOOD_BODY "  lease_s = 1;\n", "lease_s must be an integer 2..300");
	refused(GOOD_BODY "  lease_s = 301;\n", "lease_s must be an integer 2..300");
	refused(GOOD_BODY "  lease_s = \"5\";\n", "lease_s must be an integer");
	refused(GOOD_BODY "  colour = 1;\n", "unknown setting 'colour'");
	refused(GOOD_BODY "  media_port = 0;\n", "media_port must be an integer 1..65535");
	refused(GOOD_BODY "  media_port = 65536;\n", "media_port must be an integer 1..65535");
	refused(GOOD_BODY "  secret_file = \"zone.secret\";\n", "secret_file must be an absolute path");
	refused("  etcd = [ ];\n", "etcd: 1..8 members, not 0");
	refused("  etcd = \"http://127.0.0.1:2379\";\n", "etcd must be an array of URLs");
	refused("  etcd = [ \"127.0.0.1:2379\" ];\n", "etcd: member 1 must be a URL");
	refused("  etcd = [ \"http://127.0.0.1:2379/\" ];\n", "etcd: member 1 must be a URL");
	refused("  etcd = ( \"http://a:1\", 5 );\n", "etcd: member 2 must be a URL");   /* a list may mix */
	refused("  etcd = [ \"http://a:1\",\"http://a:1\",\"http://a:1\",\"http://a:1\",\"http://a:1\","
		"\"http://a:1\",\"http://a:1\",\"http://a:1\",\"http://a:1\" ];\n", "etcd: 1..8 members, not 9");
	refused("  etcd = [ \"http://a:1\" ];\n  host = \"mmr a\";\n", "host 'mmr a': letters, digits");
	refused("  etcd = [ \"http://a:1\" ];\n  host = \"\";\n", "host must not be empty");
	refused("  etcd = [ \"http://a:1\" ];\n  host = \"a\";\n", "address is missing");
	refused("  etcd = [ \"http://a:1\" ];\n  host = \"a\";\n  address = \"x\";\n", "http_url is missing");
	refused("  etcd = [ \"http://a:1\" ];\n  host = \"a\";\n  address = \"x\\\"y\";\n", "address 'x\"y': an IP address");
	refused("  etcd = [ \"http://a:1\" ];\n  host = \"a\";\n  address = \"x\";\n  http_url = \"ftp://x\";\n",
		"http_url must be");
	refused("  etcd = [ \"http://a:1\" ];\n  host = \"a\";\n  address = \"x\";\n  http_url = \"http://x\";\n",
		"max_meetings is missing");
	refused("  etcd = [ \"http://a:1\" ];\n  host = \"a\";\n  address = \"x\";\n  http_url = \"http://x\";\n"
		"  max_meetings = 1;\n", "max_participants is missing");
	refused(GOOD_HEAD "  max_meetings = 0;\n  max_participants = 3;\n", "max_meetings must be an integer 1..");
	refused(GOOD_HEAD "  max_meetings = 1;\n  max_participants = -3;\n", "max_participants must be an integer 1..");
	/* not a group */
	struct zone_config zc;
	char err[512] = "";
	config_t c;
	config_init(&c);
	assert_true(config_read_string(&c, "zone = 5;\n"));
	assert_int_equal(zone_config_parse(config_lookup(&c, "zone"), &zc, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "zone must be a group"));
	assert_non_null(strstr(err, ":1: "));
	config_destroy(&c);
}

#define H(n, cm, cp, m, p, al, dr) { .name = n, .cap_meetings = cm, .cap_participants = cp, .meetings = m, \
				     .participants = p, .alive = al, .draining = dr }

static void test_place(void **st)
{
	(void)st;
	/* an empty zone: every share whole: the first name */
	struct zone_place_host a[] = { H("b", 3, 100, 0, 0, true, false), H("a", 2, 100, 0, 0, true, false),
				       H("c", 4, 100, 0, 0, true, false) };
	assert_int_equal(zone_place(a, 3), 1);
	/* the free participant share first: b 50/100 free, c 60/200 free */
	struct zone_place_host b[] = { H("b", 10, 100, 5, 50, true, false), H("c", 10, 200, 0, 140, true, false) };
	assert_int_equal(zone_place(b, 2), 0);
	/* equal participant shares: the free meeting share (a 1/2, c 3/4) */
	struct zone_place_host c[] = { H("a", 2, 100, 1, 10, true, false), H("c", 4, 100, 1, 10, true, false) };
	assert_int_equal(zone_place(c, 2), 1);
	/* dead, draining and full hosts are never chosen, however much room they have */
	struct zone_place_host d[] = { H("dead", 100, 1000, 0, 0, false, false), H("drain", 100, 1000, 0, 0, true, true),
				       H("fullm", 5, 1000, 5, 0, true, false), H("fullp", 100, 10, 0, 10, true, false),
				       H("ok", 2, 100, 1, 90, true, false) };
	assert_int_equal(zone_place(d, 5), 4);
	/* nowhere to go */
	assert_int_equal(zone_place(d, 4), -1);
	assert_int_equal(zone_place(d, 0), -1);
	/* a zero capacity (a host that published none) takes nothing */
	struct zone_place_host e[] = { H("z", 0, 0, 0, 0, true, false) };
	assert_int_equal(zone_place(e, 1), -1);
	/* filling a zone one by one never goes past a capacity and uses it all */
	struct zone_place_host f[] = { H("a", 2, 100, 0, 0, true, false), H("b", 3, 100, 0, 0, true, false),
				       H("c", 4, 100, 0, 0, true, false) };
	for (int i = 0; i < 9; i++) {
		int k = zone_place(f, 3);
		assert_true(k >= 0);
		f[k].meetings++;
		assert_true(f[k].meetings <= f[k].cap_meetings);
	}
	assert_int_equal(zone_place(f, 3), -1);
}

static void test_b64(void **st)
{
	(void)st;
	const char *in[] = { "", "f", "fo", "foo", "foob", "/mmr/zone/hosts/mmr-a" };
	const char *want[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "L21tci96b25lL2hvc3RzL21tci1h" };
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		char b[64], back[64];
		assert_int_equal(etcd_b64(in[i], strlen(in[i]), b, sizeof(b)), (int)strlen(want[i]));
		assert_string_equal(b, want[i]);
		assert_int_equal(etcd_unb64(b, back, sizeof(back)), (int)strlen(in[i]));
		assert_string_equal(back, in[i]);
	}
	char b[8];
	assert_int_equal(etcd_b64("foob", 4, b, 8), -1);          /* 8 + NUL do not fit */
	assert_int_equal(etcd_unb64("Zm9", b, sizeof(b)), -1);    /* not a multiple of 4 */
	assert_int_equal(etcd_unb64("Zm!v", b, sizeof(b)), -1);
	assert_int_equal(etcd_unb64("Zm9vYmFyYmF6", b, 4), -1);  /* too long for out */
}

/* failover's plan: only the gone hosts' meetings move, by the placement rule, never past capacity,
 * draining hosts left out; no room: the rest wait */
static void test_failover_plan(void **st)
{
	(void)st;
	struct zone_place_host h[] = {
		{ .name = "a", .cap_meetings = 3, .cap_participants = 100, .meetings = 2, .alive = true },
		{ .name = "b", .cap_meetings = 3, .cap_participants = 100, .meetings = 2, .alive = true },
		{ .name = "c", .cap_meetings = 3, .cap_participants = 100, .meetings = 3, .alive = false },
		{ .name = "d", .cap_meetings = 9, .cap_participants = 100, .meetings = 0, .alive = true, .draining = true },
	};
	int host_of[] = { 0, 2, 1, 2, -1, 2, 0 };
	unsigned mk[8];
	int to[8];
	unsigned n = zone_failover_plan(h, 4, host_of, 7, mk, to, 8);
	/* a and b tie at 1/3 free: the name (a), then b; then no room (d drains): the third waits */
	assert_int_equal(n, 2);
	assert_int_equal(mk[0], 1);
	assert_int_equal(to[0], 0);
	assert_int_equal(mk[1], 3);
	assert_int_equal(to[1], 1);
	assert_int_equal(h[0].meetings, 3);
	assert_int_equal(h[1].meetings, 3);
	assert_int_equal(h[3].meetings, 0);
	/* max bounds it */
	struct zone_place_host g[] = {
		{ .name = "a", .cap_meetings = 9, .cap_participants = 100, .alive = true },
		{ .name = "c", .cap_meetings = 9, .cap_participants = 100, .meetings = 3, .alive = false },
	};
	int ho[] = { 1, 1, 1 };
	assert_int_equal(zone_failover_plan(g, 2, ho, 3, mk, to, 2), 2);
	/* no gone host: nothing */
	g[1].alive = true;
	assert_int_equal(zone_failover_plan(g, 2, ho, 3, mk, to, 8), 0);
}

/* the txn: compares on meetings/ (mod_revision < rev + 1), the gone host absent, each chosen host
 * present and not draining (once each); the puts carry moved_from */
static void test_failover_txn(void **st)
{
	(void)st;
	const char *args[] = { "--plain" };
	struct zone_fo_move mv[] = {
		{ .meeting = "m1", .from = "c", .to = "a", .created = 100, .args = args, .n_args = 1 },
		{ .meeting = "m2", .from = "c", .to = "a", .created = 101 },
	};
	char v[512];
	assert_true(zone_failover_value(&mv[0], 200, v, sizeof(v)) > 0);
	assert_string_equal(v, "{\"host\":\"a\",\"created\":100,\"args\":[\"--plain\"],\"moved_from\":\"c\",\"moved\":200}");
	assert_int_equal(zone_failover_value(&mv[0], 200, v, 20), -1);
	json_t *b = zone_failover_txn("/mmr/zone/", 41, mv, 2, 200);
	assert_non_null(b);
	json_t *cmp = json_object_get(b, "compare"), *ok = json_object_get(b, "success");
	assert_int_equal(json_array_size(cmp), 4);        /* meetings/, hosts/c absent, hosts/a, drain/a */
	assert_int_equal(json_array_size(ok), 2);
	json_t *c0 = json_array_get(cmp, 0);
	assert_string_equal(json_string_value(json_object_get(c0, "mod_revision")), "42");
	assert_string_equal(json_string_value(json_object_get(c0, "result")), "LESS");
	char key[128];
	assert_true(etcd_unb64(json_string_value(json_object_get(json_array_get(cmp, 1), "key")), key, sizeof(key)) > 0);
	assert_string_equal(key, "/mmr/zone/hosts/c");
	assert_string_equal(json_string_value(json_object_get(json_array_get(cmp, 1), "result")), "EQUAL");
	assert_string_equal(json_string_value(json_object_get(json_array_get(cmp, 2), "result")), "GREATER");
	assert_true(etcd_unb64(json_string_value(json_object_get(json_array_get(cmp, 3), "key")), key, sizeof(key)) > 0);
	assert_string_equal(key, "/mmr/zone/drain/a");
	json_t *put = json_object_get(json_array_get(ok, 1), "request_put");
	assert_true(etcd_unb64(json_string_value(json_object_get(put, "key")), key, sizeof(key)) > 0);
	assert_string_equal(key, "/mmr/zone/meetings/m2");
	json_decref(b);
	assert_null(zone_failover_txn("/mmr/zone/", 41, mv, 0, 200));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_good),
		cmocka_unit_test(test_config_refused),
		cmocka_unit_test(test_place),
		cmocka_unit_test(test_b64),
		cmocka_unit_test(test_failover_plan),
		cmocka_unit_test(test_failover_txn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
