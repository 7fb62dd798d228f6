/*
 * test_http_routes.c - unit tests of the HTTP API's route table (control/http_routes.c): every
 * route's method + path + query + JSON body gives exactly the mmrctl command line (positionals in
 * order, options as --opt=VALUE so a value may start with '-', flags, SSRC lists from arrays, --json
 * last) and its scope and meeting; 404 for unknown paths (empty segments, no /v1, extra segments),
 * 405 with the Allow list, 400 for unknown fields (naming the known ones), wrong JSON types, a body
 * that is no object, names starting with '-' (mmrctl's own error text), unknown or repeated query
 * parameters and bad flag values, values past the argument space; the error-class to HTTP status
 * table on the texts requests.c produces; the meeting controls' routes and their permissions.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http_routes.h"
#include "jwipe.h"

static struct http_call call;

/* Map and return the argv joined by blanks (or "STATUS: err"). */
static const char *map(const char *method, const char *path, const char *body_json, const struct http_query *q,
		       unsigned nq)
{
	static char out[HTTP_ARG_SPACE + 600];
	json_t *body = NULL;
	if (body_json) {
		json_error_t je;
		body = json_loads(body_json, JSON_REJECT_DUPLICATES, &je);
		assert_non_null(body);
	}
	char err[512];
	const char *allow = NULL;
	int st = http_route(method, path, q, nq, body, &call, &allow, err, sizeof(err));
	json_decref(body);
	if (st) {
		snprintf(out, sizeof(out), "%d: %s%s%s", st, err, allow ? " | allow " : "", allow ? allow : "");
		return out;
	}
	out[0] = '\0';
	for (int i = 0; i < call.argc; i++) {
		if (i)
			strcat(out, " ");
		strcat(out, call.argv[i]);
	}
	assert_null(call.argv[call.argc]);
	return out;
}

#define MAP(m, p, b) map(m, p, b, NULL, 0)

static void test_every_route(void **state)
{
	(void)state;
	assert_string_equal(MAP("GET", "/v1/status", NULL), "status --json");
	assert_int_equal(call.scope, HTTP_SCOPE_ZONE);
	assert_string_equal(MAP("GET", "/v1/stats", NULL), "stats --json");
	struct http_query q[2] = { { "streams", "true" }, { "participants", "1" } };
	assert_string_equal(map("GET", "/v1/stats", NULL, q, 2), "stats --streams --participants --json");
	q[0].value = "false";
	assert_string_equal(map("GET", "/v1/stats", NULL, q, 2), "stats --participants --json");
	assert_string_equal(MAP("GET", "/v1/meetings", NULL), "meeting list --json");
	assert_string_equal(MAP("POST", "/v1/meetings", "{\"name\": \"m1\", \"srtp\": \"AEAD_AES_128_GCM\", \"top_n\": 3}"),
			    "meeting create m1 --srtp=AEAD_AES_128_GCM --top-n=3 --json");
	assert_int_equal(call.scope, HTTP_SCOPE_ZONE);
	assert_string_equal(MAP("POST", "/v1/meetings", "{\"plain\": true, \"name\": \"m1\"}"),
			    "meeting create m1 --plain --json");
	assert_string_equal(MAP("POST", "/v1/meetings", "{\"plain\": false, \"name\": \"m1\"}"), "meeting create m1 --json");
	assert_string_equal(MAP("POST", "/v1/meetings", NULL), "meeting create --json");  /* request_run: missing */
	assert_string_equal(MAP("GET", "/v1/meetings/m1", NULL), "meeting show m1 --json");
	assert_int_equal(call.scope, HTTP_SCOPE_MEETING);
	assert_string_equal(call.meeting, "m1");
	assert_string_equal(MAP("PATCH", "/v1/meetings/m1", "{\"top_n\": 0}"), "meeting set m1 --top-n=0 --json");
	assert_string_equal(MAP("DELETE", "/v1/meetings/m1", NULL), "meeting end m1 --json");
	assert_string_equal(MAP("POST", "/v1/meetings/m1/move", "{\"lcore\": 1}"), "meeting move m1 --lcore=1 --json");
	assert_string_equal(MAP("GET", "/v1/meetings/m1/participants", NULL), "participant list m1 --json");
	assert_string_equal(MAP("POST", "/v1/meetings/m1/participants",
				"{\"name\": \"alice\", \"addr\": \"10.0.0.1\", \"port\": 5000, \"role\": \"sendonly\", "
				"\"mac\": \"02:00:00:00:00:01\", \"dp_port\": 0, \"srtp\": \"AEAD_AES_256_GCM\", "
				"\"rtcp\": \"nack,pli,twcc\", \"rtx\": \"96:97\", \"ext\": \"twcc=3\", \"ext_two_byte\": true}"),
			    "participant add m1 alice --addr=10.0.0.1 --port=5000 --role=sendonly --mac=02:00:00:00:00:01 "
			    "--dp-port=0 --srtp=AEAD_AES_256_GCM --rtcp=nack,pli,twcc --rtx=96:97 --ext=twcc=3 "
			    "--ext-two-byte --json");
	assert_string_equal(call.meeting, "m1");
	assert_string_equal(MAP("GET", "/v1/meetings/m1/participants/alice", NULL), "participant show m1 alice --json");
	assert_string_equal(MAP("DELETE", "/v1/meetings/m1/participants/alice", NULL),
			    "participant remove m1 alice --json");
	assert_string_equal(MAP("GET", "/v1/meetings/m1/participants/alice/keys", NULL),
			    "participant keys m1 alice --json");
	assert_string_equal(MAP("POST", "/v1/meetings/m1/participants/alice/rekey", NULL),
			    "participant rekey m1 alice --json");
	assert_string_equal(MAP("POST", "/v1/meetings/m1/participants/alice/rekey", "{}"),
			    "participant rekey m1 alice --json");
	assert_string_equal(MAP("POST", "/v1/meetings/m1/participants/alice/streams",
				"{\"ssrc\": [256, \"0x101\", 258], \"kind\": \"video\", \"codec\": \"vp9\", \"layers\": 3, "
				"\"spatial\": 2, \"dd_ext\": 5, \"rtx_ssrc\": \"1,2,3\", \"rtx_pt\": 97, \"clock\": 90000, "
				"\"screen\": true}"),
			    "stream add m1 alice --ssrc=256,0x101,258 --kind=video --codec=vp9 --layers=3 --spatial=2 "
			    "--dd-ext=5 --rtx-ssrc=1,2,3 --rtx-pt=97 --clock=90000 --screen --json");
	/* SSRC learning: mid and rids, no ssrc */
	assert_string_equal(MAP("POST", "/v1/meetings/m1/participants/alice/streams",
				"{\"mid\": \"1\", \"rid\": [\"q\", \"h\", \"f\"], \"kind\": \"video\", \"codec\": \"vp8\", "
				"\"rtx_pt\": 97}"),
			    "stream add m1 alice --kind=video --codec=vp8 --rtx-pt=97 --mid=1 --rid=q,h,f --json");
	assert_string_equal(MAP("DELETE", "/v1/meetings/m1/participants/alice/streams/0x100", NULL),
			    "stream remove m1 alice --ssrc=0x100 --json");
	assert_string_equal(MAP("GET", "/v1/meetings/m1/subs", NULL), "sub list m1 --json");
	assert_string_equal(MAP("PATCH", "/v1/meetings/m1/participants/bob/subs/256",
				"{\"target\": 1, \"spatial\": 0, \"dt\": 4, \"encoding\": 1, \"out_ssrc\": 9, "
				"\"rtx_ssrc\": 0, \"pin\": true, \"unpin\": false}"),
			    "sub set m1 bob --target=1 --spatial=0 --dt=4 --encoding=1 --out-ssrc=9 --rtx-ssrc=0 --pin "
			    "--ssrc=256 --json");
	assert_string_equal(MAP("POST", "/v1/dataplane/reset", "{\"yes_wipe\": true}"), "dataplane reset --yes-wipe --json");
	assert_int_equal(call.scope, HTTP_SCOPE_ZONE);
	/* a value starting with '-' stays a value */
	assert_string_equal(MAP("POST", "/v1/meetings/m1/participants", "{\"name\": \"a\", \"port\": -1}"),
			    "participant add m1 a --port=-1 --json");
	assert_string_equal(MAP("POST", "/v1/meetings/m1/participants", "{\"name\": \"a\", \"addr\": \"--json\"}"),
			    "participant add m1 a --addr=--json --json");
}

/* The meeting controls' routes (issue 15): kinds as a positional (a string, an array joined by ',',
 * absent: all), the permission each needs, PATCH controls' per-setting permissions and on/off. */
static void test_controls(void **state)
{
	(void)state;
	assert_string_equal(MAP("POST", "/v1/meetings/m1/participants/alice/mute", "{\"kinds\": [\"audio\", \"video\"]}"),
			    "participant mute m1 alice audio,video --json");
	assert_int_equal(call.perm, PERM_MUTE_OTHERS);
	assert_false(call.keys);
	assert_string_equal(MAP("POST", "/v1/meetings/m1/participants/alice/unmute", NULL),
			    "participant unmute m1 alice all --json");
	assert_string_equal(MAP("POST", "/v1/meetings/m1/participants/alice/unmute", "{}"),
			    "participant unmute m1 alice all --json");
	assert_string_equal(MAP("POST", "/v1/meetings/m1/participants/alice/ask-unmute", "{\"kinds\": \"audio\"}"),
			    "participant ask-unmute m1 alice audio --json");
	assert_int_equal(call.perm, PERM_MUTE_OTHERS);
	assert_string_equal(MAP("POST", "/v1/meetings/m1/mute-all", "{\"kinds\": [\"screen\"]}"),
			    "meeting mute-all m1 screen --json");
	assert_string_equal(MAP("POST", "/v1/meetings/m1/participants/bob/admit", NULL), "participant admit m1 bob --json");
	assert_int_equal(call.perm, PERM_ADMIT);
	assert_string_equal(MAP("POST", "/v1/meetings/m1/participants/bob/deny", NULL), "participant deny m1 bob --json");
	assert_int_equal(call.perm, PERM_ADMIT);
	assert_string_equal(MAP("POST", "/v1/meetings/m1/participants/bob/eject", NULL), "participant eject m1 bob --json");
	assert_int_equal(call.perm, PERM_EJECT);
	assert_string_equal(MAP("POST", "/v1/meetings/m1/lock", NULL), "meeting lock m1 --json");
	assert_int_equal(call.perm, PERM_LOCK_END);
	assert_string_equal(MAP("POST", "/v1/meetings/m1/unlock", NULL), "meeting unlock m1 --json");
	assert_int_equal(call.perm, PERM_LOCK_END);
	assert_string_equal(MAP("PATCH", "/v1/meetings/m1/controls", "{\"waiting_room\": false, \"max_sharers\": 2}"),
			    "meeting set m1 --waiting-room=off --max-sharers=2 --json");
	assert_int_equal(call.perm, PERM_SHARE);
	assert_int_equal(call.n_more, 2);
	assert_int_equal(call.more[0], PERM_ADMIT);
	assert_int_equal(call.more[1], PERM_SHARE);
	assert_string_equal(MAP("PATCH", "/v1/meetings/m1/controls", "{\"self_unmute\": \"forbidden\", \"share\": \"host_only\", "
				"\"waiting_room\": true}"),
			    "meeting set m1 --waiting-room=on --self-unmute=forbidden --share=host_only --json");
	assert_int_equal(call.n_more, 3);
	assert_int_equal(call.more[1], PERM_MUTE_OTHERS);
	/* refusals */
	assert_string_equal(MAP("PATCH", "/v1/meetings/m1/controls", "{\"waiting_room\": \"on\"}"),
			    "400: field 'waiting_room' must be true or false");
	assert_true(strncmp(MAP("POST", "/v1/meetings/m1/participants/alice/mute", "{\"kind\": \"audio\"}"),
			    "400: unknown field 'kind'", 24) == 0);
	assert_true(strncmp(MAP("POST", "/v1/meetings/m1/participants/alice/mute", "{\"kinds\": []}"), "400: ", 5) == 0);
	assert_true(strncmp(MAP("GET", "/v1/meetings/m1/lock", NULL), "405: ", 5) == 0);
	assert_int_equal(http_status_of_error("participant 'bob' is not waiting (admitted already)"), 409);
	assert_int_equal(http_status_of_error("participant 'bob' is not muted (for those kinds): nothing to ask"), 409);
	assert_int_equal(http_status_of_error("self-unmute is forbidden in meeting 'm1' and a host muted ..."), 403);
}

static void test_refusals(void **state)
{
	(void)state;
	assert_string_equal(MAP("GET", "/v1/nothing", NULL), "404: no such resource: /v1/nothing (see docs/openapi.yaml)");
	assert_true(strncmp(MAP("GET", "/v1/meetings/", NULL), "404:", 4) == 0);
	assert_true(strncmp(MAP("GET", "/v1//meetings", NULL), "404:", 4) == 0);
	assert_true(strncmp(MAP("GET", "/meetings", NULL), "404:", 4) == 0);
	assert_true(strncmp(MAP("GET", "/v1/meetings/m1/participants/a/b/c/d", NULL), "404:", 4) == 0);
	assert_true(strncmp(MAP("GET", "/v1/meetings/m1/x", NULL), "404:", 4) == 0);
	assert_string_equal(MAP("PUT", "/v1/meetings/m1", NULL),
			    "405: method PUT is not allowed on /v1/meetings/m1 (allowed: GET, PATCH, DELETE) | allow "
			    "GET, PATCH, DELETE");
	assert_true(strncmp(MAP("DELETE", "/v1/meetings", NULL), "405:", 4) == 0);
	assert_string_equal(MAP("POST", "/v1/meetings", "{\"name\": \"m1\", \"colour\": \"red\"}"),
			    "400: unknown field 'colour' (POST /v1/meetings takes: name, plain, srtp, top_n)");
	assert_string_equal(MAP("POST", "/v1/meetings", "{\"name\": \"m1\", \"plain\": \"yes\"}"),
			    "400: field 'plain' must be true or false");
	assert_string_equal(MAP("POST", "/v1/meetings", "{\"name\": 1.5}"),
			    "400: field 'name' must be a string or an integer");
	assert_string_equal(MAP("POST", "/v1/meetings", "{\"name\": null}"),
			    "400: field 'name' must be a string or an integer");
	assert_string_equal(MAP("POST", "/v1/meetings", "[1]"), "400: the body must be a JSON object");
	assert_string_equal(MAP("POST", "/v1/meetings", "{\"name\": \"-x\"}"),
			    "400: bad meeting name '-x' (1-63 characters of A-Z a-z 0-9 _ . -, not starting with '-')");
	assert_string_equal(MAP("GET", "/v1/meetings/--json", NULL),
			    "400: bad meeting name '--json' (1-63 characters of A-Z a-z 0-9 _ . -, not starting with '-')");
	assert_string_equal(MAP("GET", "/v1/meetings/m1/participants/-p", NULL),
			    "400: bad participant name '-p' (1-63 characters of A-Z a-z 0-9 _ . -, not starting with '-')");
	assert_string_equal(MAP("POST", "/v1/meetings/m1/participants/a/streams", "{\"ssrc\": []}"),
			    "400: field 'ssrc' must not be an empty array");
	assert_string_equal(MAP("POST", "/v1/meetings/m1/participants/a/streams", "{\"ssrc\": [true]}"),
			    "400: field 'ssrc' must be an array of strings or integers");
	assert_string_equal(MAP("POST", "/v1/meetings/m1/participants/a/streams", "{\"ssrc\": {}}"),
			    "400: field 'ssrc' must be a string or an integer (or an array of them)");
	struct http_query q[2] = { { "color", "1" }, { "streams", "1" } };
	assert_string_equal(map("GET", "/v1/stats", NULL, q, 1),
			    "400: unknown query parameter 'color' (known: streams, participants)");
	assert_string_equal(map("GET", "/v1/meetings", NULL, q + 1, 1),
			    "400: unknown query parameter 'streams' (known: none)");
	q[0] = q[1];
	assert_string_equal(map("GET", "/v1/stats", NULL, q, 2), "400: query parameter 'streams' given twice");
	q[0].value = "maybe";
	assert_string_equal(map("GET", "/v1/stats", NULL, q, 1),
			    "400: query parameter 'streams' must be true or false, not 'maybe'");
	/* past the argument space */
	size_t n = HTTP_ARG_SPACE + 100;
	char *big = malloc(n + 64);
	assert_non_null(big);
	strcpy(big, "{\"name\": \"a\", \"addr\": \"");
	size_t l = strlen(big);
	memset(big + l, 'x', n);
	strcpy(big + l + n, "\"}");
	assert_true(strncmp(MAP("POST", "/v1/meetings/m1/participants", big), "400: the request's values are too long",
			    38) == 0);
	free(big);
}

static void test_methods(void **state)
{
	(void)state;
	char buf[64];
	assert_string_equal(http_route_methods("/v1/meetings", buf, sizeof(buf)), "GET, POST");
	assert_string_equal(http_route_methods("/v1/meetings/x/participants/y", buf, sizeof(buf)), "GET, DELETE");
	assert_string_equal(http_route_methods("/v1/meetings/x/participants/y/subs/5", buf, sizeof(buf)), "PATCH");
	assert_null(http_route_methods("/v1/nope", buf, sizeof(buf)));
	assert_true(http_method_has_body("POST"));
	assert_true(http_method_has_body("PATCH"));
	assert_false(http_method_has_body("GET"));
	assert_false(http_method_has_body("DELETE"));
}

static void test_status_of_error(void **state)
{
	(void)state;
	static const struct { const char *err; int status; } t[] = {
		{ "no meeting 'x'", 404 },
		{ "no participant 'a' in meeting 'x'", 404 },
		{ "no stream with SSRC 0x5 in meeting 'x'", 404 },
		{ "participant 'b' is not subscribed to SSRC 0x5", 404 },
		{ "meeting 'x' already exists", 409 },
		{ "participant 'a' already exists in meeting 'x'", 409 },
		{ "address 10.0.0.1 port 5000 is already used by participant 'a' in meeting 'x'", 409 },
		{ "SSRC 0x100 is already used in meeting 'x' (by 'a')", 409 },
		{ "too many meetings (the limit is 4096)", 409 },
		{ "meeting 'x' is at its quota of participants: it has 3, this change adds 1, the limit is 3 "
		  "(controller config meeting_max_participants)", 409 },
		{ "meeting 'x' is at its quota", 400 },   /* not the whole message: not this class */
		{ "too many SSRCs in '1,2,3,4' (a simulcast group has 2 or 3 encodings)", 400 },
		{ "fenced: another controller (pid 5) took the dataplane over", 409 },
		{ "the dataplane's tables are not held: driving", 409 },
		{ "the dataplane is not attached: a meeting's lcore exists only in a running dataplane", 503 },
		{ "dataplane offline (no segment /x (dataplane not running)): no counters", 503 },
		{ "out of memory", 500 },
		{ "cannot save the state, nothing changed: disk full", 500 },
		{ "the random generator failed: no SSRC for the participant's RTCP", 500 },
		{ "bad UDP port '-1' (1-65535)", 400 },
		{ "missing option --addr; usage: mmrctl participant add ...", 400 },
		{ "bad meeting name '-x' (1-63 characters of A-Z a-z 0-9 _ . -, not starting with '-')", 400 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (http_status_of_error(t[i].err) != t[i].status)
			fail_msg("'%s': %d, want %d", t[i].err, http_status_of_error(t[i].err), t[i].status);
}

int main(void)
{
	jwipe_install();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_route),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_controls),
		cmocka_unit_test(test_methods),
		cmocka_unit_test(test_status_of_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
