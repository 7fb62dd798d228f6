/*
 * test_metrics.c - unit tests of GET /metrics' page (control/metrics.c): label values escaped
 * (backslash, double quote, newline), HELP escaped; every drop reason of the one list appears as
 * mmr_drops_total{lcore,reason} with its own value (and "none" never); every lcore, control-thread
 * counter of stats.h is a family whose HELP is its meaning; values (a meaning ending "; a value")
 * are gauges without _total; inactive lcores and ports are left out; every sample line follows
 * a TYPE line of its family.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <cmocka.h>

#include "metrics.h"
#include "outbuf.h"
#include "stats.h"

static char *text(struct outbuf *b)
{
	ob_char(b, '\0');
	assert_false(b->oom);
	return b->p;
}

static void test_label_escape(void **state)
{
	(void)state;
	struct outbuf b;
	ob_init(&b);
	metrics_label_value(&b, "a\"b\\c\nd");
	assert_string_equal(text(&b), "a\\\"b\\\\c\\nd");
	ob_reset(&b);
	metrics_label_value(&b, "plain");
	assert_string_equal(text(&b), "plain");
	ob_reset(&b);
	metrics_family(&b, "mmr_x_total", "counter", "one\\two\nthree \"q\"");
	assert_string_equal(text(&b), "# HELP mmr_x_total one\\\\two\\nthree \"q\"\n# TYPE mmr_x_total counter\n");
	ob_free(&b);
}

static void test_value_or_count(void **state)
{
	(void)state;
	assert_true(metrics_doc_is_value(mmr_stream_counter_docs[MMR_SC_level]));
	assert_true(metrics_doc_is_value(mmr_participant_counter_docs[MMR_PC_rtt_us]));
	assert_true(metrics_doc_is_value(mmr_participant_counter_docs[MMR_PC_bwe_bps]));
	assert_false(metrics_doc_is_value(mmr_stream_counter_docs[MMR_SC_rx_pkts]));
	assert_false(metrics_doc_is_value(mmr_lcore_counter_docs[MMR_LC_copies]));
	assert_false(metrics_doc_is_value("a value of sorts"));
}

static void test_every_reason_and_counter(void **state)
{
	(void)state;
	struct mmr_stats_area *a = calloc(1, sizeof(*a));
	assert_non_null(a);
	a->lcore[1].active = 1;
	a->lcore[1].lcore_id = 3;
	a->lcore[2].lcore_id = 9;            /* not active: left out */
	for (unsigned d = 0; d < MMR_DROP__COUNT; d++)
		a->lcore[1].drops[d] = 1000 + d;
	for (unsigned c = 0; c < MMR_LC__COUNT; c++)
		a->lcore[1].c[c] = 500 + c;
	a->port[0].active = 1;
	a->port[0].port_id = 0;
	a->port[0].ipackets = 77;
	strcpy(a->port[0].name, "net_\"tap\"0");
	a->ctl.c[MMR_CC_grace_periods] = 42;
	struct outbuf b;
	ob_init(&b);
	metrics_render_area(&b, a);
	const char *t = text(&b);
	char want[512];
	for (unsigned d = 1; d < MMR_DROP__COUNT; d++) {
		snprintf(want, sizeof(want), "\nmmr_drops_total{lcore=\"3\",reason=\"%s\"} %u\n", mmr_drop_names[d], 1000 + d);
		if (!strstr(t, want))
			fail_msg("missing: %s", want + 1);
	}
	assert_null(strstr(t, "reason=\"none\""));
	assert_null(strstr(t, "lcore=\"9\""));
	for (unsigned c = 0; c < MMR_LC__COUNT; c++) {
		snprintf(want, sizeof(want), "\n# HELP mmr_%s_total ", mmr_lcore_counter_names[c]);
		assert_non_null(strstr(t, want));
		snprintf(want, sizeof(want), "\nmmr_%s_total{lcore=\"3\"} %u\n", mmr_lcore_counter_names[c], 500 + c);
		if (!strstr(t, want))
			fail_msg("missing: %s", want + 1);
	}
	assert_non_null(strstr(t, "\n# HELP mmr_copies_total RTP copies built for receivers\n# TYPE mmr_copies_total counter\n"));
	for (unsigned k = 0; k < MMR_CC__COUNT; k++) {
		snprintf(want, sizeof(want), "\nmmr_dp_control_%s_total %u\n", mmr_ctl_counter_names[k],
			 k == MMR_CC_grace_periods ? 42 : 0);
		assert_non_null(strstr(t, want));
	}
	assert_non_null(strstr(t, "\nmmr_port_rx_packets_total{port=\"0\",name=\"net_\\\"tap\\\"0\"} 77\n"));
	assert_non_null(strstr(t, "\nmmr_port_flow_rules{port=\"0\""));
	/* every sample's family was declared just before it (no sample outside its family) */
	char fam[128] = "";
	for (const char *l = t; *l; ) {
		const char *e = strchr(l, '\n');
		assert_non_null(e);
		if (strncmp(l, "# TYPE ", 7) == 0) {
			size_t n = strcspn(l + 7, " ");
			snprintf(fam, sizeof(fam), "%.*s", (int)n, l + 7);
		} else if (l[0] != '#') {
			size_t n = strcspn(l, "{ ");
			if (strlen(fam) != n || strncmp(l, fam, n) != 0)
				fail_msg("sample outside its family %s: %.*s", fam, (int)(e - l), l);
		}
		l = e + 1;
	}
	ob_free(&b);
	free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_label_escape),
		cmocka_unit_test(test_value_or_count),
		cmocka_unit_test(test_every_reason_and_counter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
