/*
 * test_counters.c - unit tests of the counter lists of the contract (lib/contract/drop_reason.h,
 * lib/contract/stats.h): every name made from them is present, unique and snake_case; docs/interfaces.md
 * lists every drop reason, lcore, stream, participant and control-thread counter in its "Counters" tables; the by-index
 * view of the counters is the named fields; and mmr_stats_summarize(), the one summary the status
 * line and `mmrctl stats` share: drops without layer drops, busy % from cycles, rates, prev NULL.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cmd_chan.h"
#include "stats.h"

static void check_names(const char *const *names, unsigned n, unsigned first)
{
	for (unsigned i = first; i < n; i++) {
		assert_non_null(names[i]);
		assert_true(names[i][0] >= 'a' && names[i][0] <= 'z');
		for (const char *c = names[i]; *c; c++)
			assert_true((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_');
		for (unsigned j = first; j < i; j++)
			assert_string_not_equal(names[i], names[j]);
	}
}

static void test_names(void **state)
{
	(void)state;
	check_names(mmr_drop_names, MMR_DROP__COUNT, 0);
	check_names(mmr_lcore_counter_names, MMR_LC__COUNT, 0);
	check_names(mmr_stream_counter_names, MMR_SC__COUNT, 0);
	check_names(mmr_ctl_counter_names, MMR_CC__COUNT, 0);
	check_names(mmr_participant_counter_names, MMR_PC__COUNT, 0);
	for (unsigned i = 0; i < MMR_PC__COUNT; i++)
		assert_true(mmr_participant_counter_docs[i] && mmr_participant_counter_docs[i][0]);
	for (unsigned i = 0; i < MMR_CC__COUNT; i++)
		assert_true(mmr_ctl_counter_docs[i] && mmr_ctl_counter_docs[i][0]);
	for (unsigned i = 0; i < MMR_DROP__COUNT; i++)
		assert_true(mmr_drop_docs[i] && mmr_drop_docs[i][0]);
	for (unsigned i = 0; i < MMR_LC__COUNT; i++)
		assert_true(mmr_lcore_counter_docs[i] && mmr_lcore_counter_docs[i][0]);
	for (unsigned i = 0; i < MMR_SC__COUNT; i++)
		assert_true(mmr_stream_counter_docs[i] && mmr_stream_counter_docs[i][0]);
	assert_string_equal(mmr_drop_names[MMR_DROP_LAYER], "layer");
	assert_string_equal(mmr_lcore_counter_names[MMR_LC_busy_cycles], "busy_cycles");
	assert_string_equal(mmr_stream_counter_names[MMR_SC_layer_drops], "layer_drops");
}

static char *read_docs(void)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/docs/interfaces.md", MMR_SRC_DIR);
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s", path);
	static char buf[1 << 20];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* The table row "| `name` | meaning |" in the table under the heading line that starts with `section`. */
static void expect_row(const char *docs, const char *section, const char *name, const char *doc)
{
	const char *sec = strstr(docs, section);
	if (!sec)
		fail_msg("docs/interfaces.md: no \"%s\"", section);
	char row[512];
	snprintf(row, sizeof(row), "\n| `%s` | %s |", name, doc);
	/* the heading's table: from its first row to the first blank line after it */
	const char *tab = strstr(sec + 1, "\n|");
	if (!tab)
		fail_msg("docs/interfaces.md, %s: no table", section);
	const char *end = strstr(tab, "\n\n");
	if (!end)
		end = tab + strlen(tab);
	const char *hit = strstr(tab, row);
	if (!hit || hit >= end)
		fail_msg("docs/interfaces.md, %s: no row %s", section, row + 1);
}

static void test_docs_list_every_counter(void **state)
{
	(void)state;
	const char *docs = read_docs();
	const char *counters = strstr(docs, "\n### Counters\n");
	assert_non_null(counters);
	for (unsigned i = 1; i < MMR_DROP__COUNT; i++)
		expect_row(counters, "\nDrop reasons", mmr_drop_names[i], mmr_drop_docs[i]);
	for (unsigned i = 0; i < MMR_LC__COUNT; i++)
		expect_row(counters, "\nPer-lcore counters", mmr_lcore_counter_names[i], mmr_lcore_counter_docs[i]);
	for (unsigned i = 0; i < MMR_SC__COUNT; i++)
		expect_row(counters, "\nPer-stream counters", mmr_stream_counter_names[i], mmr_stream_counter_docs[i]);
	for (unsigned i = 0; i < MMR_PC__COUNT; i++)
		expect_row(counters, "\nPer-participant counters", mmr_participant_counter_names[i],
			   mmr_participant_counter_docs[i]);
	for (unsigned i = 0; i < MMR_CC__COUNT; i++)
		expect_row(counters, "\nControl-thread counters", mmr_ctl_counter_names[i], mmr_ctl_counter_docs[i]);
}

static void test_index_view(void **state)
{
	(void)state;
	struct mmr_lcore_stats l;
	memset(&l, 0, sizeof(l));
	l.copies = 7;
	l.busy_cycles = 9;
	assert_int_equal(l.c[MMR_LC_copies], 7);
	assert_int_equal(l.c[MMR_LC_busy_cycles], 9);
	struct mmr_stream_stats s;
	memset(&s, 0, sizeof(s));
	s.c[MMR_SC_fwd_copies] = 5;
	assert_int_equal(s.fwd_copies, 5);
	assert_int_equal(MMR_SHM_LAYOUT_FINGERPRINT, MMR_SHM_LAYOUT);
}

static void test_summarize(void **state)
{
	(void)state;
	static struct mmr_stats_area area;   /* large: not on the stack */
	struct mmr_stats_sample a, b;
	struct mmr_stats_summary sum;

	memset(&area, 0, sizeof(area));
	area.lcore[0].active = 1;
	area.lcore[0].rx_pkts = 1000;
	area.lcore[0].tx_pkts = 3000;
	area.lcore[0].copies = 2900;
	area.lcore[0].cycles = 1000000;
	area.lcore[0].busy_cycles = 250000;
	area.lcore[0].drops[MMR_DROP_LAYER] = 40;
	area.lcore[0].drops[MMR_DROP_BAD_RTP] = 3;
	area.lcore[1].active = 1;
	area.lcore[1].cycles = 1000000;
	area.lcore[1].busy_cycles = 750000;
	area.lcore[1].drops[MMR_DROP_UNKNOWN_SSRC] = 2;
	area.lcore[2].active = 0;            /* not running: not counted */
	area.lcore[2].rx_pkts = 99999;
	area.lcore[2].drops[MMR_DROP_TRUNCATED] = 99999;

	mmr_stats_sample_area(&a, &area);
	assert_int_equal(a.c[MMR_LC_rx_pkts], 1000);
	mmr_stats_summarize(NULL, &a, 0, &sum);
	assert_int_equal(sum.drops, 5);          /* bad_rtp + unknown_ssrc, not layer */
	assert_int_equal(sum.layer_drops, 40);
	assert_true(sum.busy_pct > 49.99 && sum.busy_pct < 50.01);
	assert_true(sum.rx_pps == 0.0 && sum.drops_ps == 0.0);   /* no interval: no rates */

	/* one lcore alone, as `mmrctl stats` shows it per row */
	struct mmr_stats_sample one = { .c = { 0 } };
	mmr_stats_sample_add(&one, &area.lcore[1]);
	mmr_stats_summarize(NULL, &one, 0, &sum);
	assert_true(sum.busy_pct > 74.99 && sum.busy_pct < 75.01);
	assert_int_equal(sum.drops, 2);

	/* an interval of 2 s, as the status line sees it */
	area.lcore[0].rx_pkts += 2000;
	area.lcore[0].tx_pkts += 6000;
	area.lcore[0].copies += 4000;
	area.lcore[0].cycles += 1000;
	area.lcore[0].busy_cycles += 1000;   /* lcore 0 saturated */
	area.lcore[1].cycles += 1000;        /* lcore 1 idle */
	area.lcore[0].drops[MMR_DROP_LAYER] += 100;
	area.lcore[1].drops[MMR_DROP_NO_MBUF] += 10;
	mmr_stats_sample_area(&b, &area);
	mmr_stats_summarize(&a, &b, 2.0, &sum);
	assert_true(sum.rx_pps == 1000.0);
	assert_true(sum.tx_pps == 3000.0);
	assert_true(sum.copies_ps == 2000.0);
	assert_int_equal(sum.drops, 10);
	assert_true(sum.drops_ps == 5.0);
	assert_int_equal(sum.layer_drops, 100);
	assert_true(sum.busy_pct > 49.99 && sum.busy_pct < 50.01);

	/* a counter that went backwards (its lcore stopped) counts as no change, not 2^64 */
	mmr_stats_summarize(&b, &a, 1.0, &sum);
	assert_int_equal(sum.drops, 0);
	assert_true(sum.rx_pps == 0.0 && sum.busy_pct == 0.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_docs_list_every_counter),
		cmocka_unit_test(test_index_view),
		cmocka_unit_test(test_summarize),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
