/*
 * test_journal.c - the controller's journal (control/journal.c) and store (control/state_store.c):
 * record framing and CRC-32C, a torn tail and CRC damage stop the reader where the good part ends,
 * and on disk: changes survive a reopen, a torn tail is cut, compaction's two steps are safe to stop
 * between, a journal newer than its snapshot is refused, and old (version 4) state files load.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "crc32c.h"
#include "journal.h"
#include "model.h"
#include "state_file.h"
#include "state_store.h"
#include "unit_util.h"

/* ---- framing -------------------------------------------------------------------------------- */

static void test_crc32c_vector(void **state)
{
	(void)state;
	assert_int_equal(crc32c(0, "123456789", 9), 0xe3069283u);
	/* in pieces: the same */
	uint32_t c = crc32c(0, "1234", 4);
	assert_int_equal(crc32c(c, "56789", 5), 0xe3069283u);
	assert_int_equal(crc32c(0, "", 0), 0);
}

static void build(struct outbuf *b, int n, size_t *ends)
{
	ob_init(b);
	journal_header(b, 7);
	ends[0] = b->len;
	for (int i = 1; i <= n; i++) {
		size_t s = journal_rec_begin(b);
		for (int k = 0; k < i; k++)
			ob_printf(b, "meeting %d m%d plain\n", i * 10 + k, i * 10 + k);
		journal_rec_end(b, s);
		ends[i] = b->len;
	}
}

static void test_roundtrip(void **state)
{
	(void)state;
	struct outbuf b;
	size_t ends[6];
	build(&b, 5, ends);
	size_t off = 0, plen;
	const uint8_t *p;
	uint64_t gen = 0;
	assert_int_equal(journal_next((uint8_t *)b.p, b.len, &off, &p, &plen), 1);
	assert_int_equal(journal_parse_header(p, plen, &gen), 0);
	assert_int_equal(gen, 7);
	for (int i = 1; i <= 5; i++) {
		assert_int_equal(journal_next((uint8_t *)b.p, b.len, &off, &p, &plen), 1);
		assert_int_equal(off, ends[i]);
		assert_memory_equal(p, "meeting ", 8);
		assert_int_equal(journal_parse_header(p, plen, &gen), -1);   /* a change is not a header */
	}
	assert_int_equal(journal_next((uint8_t *)b.p, b.len, &off, &p, &plen), 0);
	ob_free(&b);
}

/* Every cut inside the last record: the reader stops where record 4 ends, never past it. */
static void test_torn_tail(void **state)
{
	(void)state;
	struct outbuf b;
	size_t ends[6];
	build(&b, 5, ends);
	for (size_t cut = ends[4] + 1; cut < ends[5]; cut++) {
		uint8_t *copy = heap_copy((uint8_t *)b.p, (uint32_t)cut);
		size_t off = 0, plen;
		const uint8_t *p;
		int r, n = 0;
		while ((r = journal_next(copy, cut, &off, &p, &plen)) == 1)
			n++;
		assert_int_equal(r, -1);
		assert_int_equal(n, 5);          /* header + 4 changes */
		assert_int_equal(off, ends[4]);
		free(copy);
	}
	ob_free(&b);
}

/* One flipped bit anywhere in record 3 (header or payload): the reader stops at its start. */
static void test_crc_damage(void **state)
{
	(void)state;
	struct outbuf b;
	size_t ends[6];
	build(&b, 5, ends);
	for (size_t at = ends[2]; at < ends[3]; at++) {
		for (int bit = 0; bit < 8; bit += 3) {
			uint8_t *copy = heap_copy((uint8_t *)b.p, (uint32_t)b.len);
			copy[at] ^= (uint8_t)(1u << bit);
			size_t off = 0, plen;
			const uint8_t *p;
			int r, n = 0;
			while ((r = journal_next(copy, b.len, &off, &p, &plen)) == 1)
				n++;
			assert_int_equal(r, -1);
			assert_int_equal(n, 3);
			assert_int_equal(off, ends[2]);
			free(copy);
		}
	}
	ob_free(&b);
}

/* ---- on disk -------------------------------------------------------------------------------- */

static char dir[64], path[128], jpath[160];

static int setup_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_journal.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/state", dir);
	snprintf(jpath, sizeof(jpath), "%s/state.journal", dir);
	return 0;
}

static int teardown_dir(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The model's text (a snapshot written to a side file), malloc'd. */
static char *model_text(const struct model *m)
{
	char side[160], err[256];
	snprintf(side, sizeof(side), "%s/side", dir);
	assert_int_equal(state_file_save(m, side, 0, NULL, err, sizeof(err)), 0);
	FILE *f = fopen(side, "r");
	assert_non_null(f);
	static char buf[1 << 20];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strdup(buf);
}

static struct mmr_addr addr_of(unsigned i)
{
	struct mmr_addr a;
	assert_int_equal(val_addr("10.1.0.1", &a), 0);
	a.ip[3] = (uint8_t)(i + 1);
	return a;
}

/* The changes a few requests make, each recorded as requests.c records it. */
static void change_meeting(struct state_store *st, struct model *m, const char *name, uint32_t *id)
{
	const char *what;
	assert_int_equal(model_reserve(m, 1, 0, 0, 0, &what), 0);
	*id = model_meeting_add(m, MMR_ID_NONE, name, SRTP_SUITE_NONE);
	state_line_meeting(state_store_change_begin(st), m, *id);
	assert_true(state_store_change_end(st));
}

static uint32_t change_join(struct state_store *st, struct model *m, uint32_t mt, unsigned i)
{
	const char *what;
	char name[16];
	struct mmr_addr a = addr_of(i);
	snprintf(name, sizeof(name), "p%u", i);
	assert_int_equal(model_reserve(m, 0, 1, 0, model_join_sub_count(m, mt, MMR_ROLE_SENDRECV), &what), 0);
	uint32_t p = model_participant_join(m, mt, name, &a, 5000, MMR_ROLE_SENDRECV, NULL, 0);
	struct outbuf *b = state_store_change_begin(st);
	state_line_participant(b, m, p);
	for (uint32_t s = m->parts[p].first_rsub; s != MMR_ID_NONE; s = m->subs[s].r_next)
		state_line_sub(b, m, s);
	assert_true(state_store_change_end(st));
	return p;
}

static uint32_t change_publish(struct state_store *st, struct model *m, uint32_t p, uint32_t ssrc)
{
	const char *what;
	struct m_stream_desc d = { .kind = MMR_KIND_VIDEO, .codec = MMR_CODEC_VP8, .layers = 3, .spatial = 1,
				   .group = MMR_ID_NONE };
	assert_int_equal(model_reserve(m, 0, 0, 1, model_publish_sub_count(m, p), &what), 0);
	uint32_t s = model_stream_publish(m, p, &ssrc, 1, &d);
	struct outbuf *b = state_store_change_begin(st);
	state_line_stream(b, m, s);
	for (uint32_t x = m->streams[s].first_sub; x != MMR_ID_NONE; x = m->subs[x].s_next)
		state_line_sub(b, m, x);
	assert_true(state_store_change_end(st));
	return s;
}

static void change_target(struct state_store *st, struct model *m, uint32_t sub, uint8_t t)
{
	m->subs[sub].target = t;
	state_line_target(state_store_change_begin(st), m, sub);
	assert_true(state_store_change_end(st));
}

static void change_remove_participant(struct state_store *st, struct model *m, uint32_t p)
{
	state_line_remove(state_store_change_begin(st), "participant", p);
	assert_true(state_store_change_end(st));
	model_participant_remove(m, p);
}

/* As the controller commits: the batch, then a compaction when the journal is long enough. */
static void commit(struct state_store *st, const struct model *m)
{
	char err[256];
	assert_int_equal(state_store_commit(st, 1, err, sizeof(err)), 0);
	if (state_store_want_compact(st))
		assert_int_equal(state_store_compact(st, m, err, sizeof(err)), 0);
}

/* Open the files in a fresh model; returns state_store_open's result; *text the model's text. */
static int reopen(char **text, uint64_t max_records, char *err, size_t errlen)
{
	struct model m2;
	struct state_store st2;
	assert_int_equal(model_init(&m2), 0);
	int rc = state_store_open(&st2, &m2, path, max_records, 1u << 30, err, errlen);
	if (rc >= 0 && text)
		*text = model_text(&m2);
	state_store_close(&st2);
	model_free(&m2);
	return rc;
}

/* A store with a meeting of 4 (2 publishing), some targets changed and a participant removed;
 * returns the model's text. */
static char *make_state(struct state_store *st, struct model *m, uint64_t max_records)
{
	char err[256];
	assert_int_equal(model_init(m), 0);
	assert_int_equal(state_store_open(st, m, path, max_records, 1u << 30, err, sizeof(err)), 1);
	uint32_t mt, p[4];
	change_meeting(st, m, "m", &mt);
	commit(st, m);
	for (unsigned i = 0; i < 4; i++)
		p[i] = change_join(st, m, mt, i);
	commit(st, m);                     /* one batch of 4 changes */
	uint32_t s0 = change_publish(st, m, p[0], 100);
	change_publish(st, m, p[1], 101);
	commit(st, m);
	change_target(st, m, m->streams[s0].first_sub, 1);
	change_remove_participant(st, m, p[3]);
	commit(st, m);
	return model_text(m);
}

static void test_reopen(void **state)
{
	(void)state;
	struct model m;
	struct state_store st;
	char *want = make_state(&st, &m, 1000), *got = NULL, err[256];
	assert_int_equal(st.jrecords, 9);
	assert_int_equal(st.commits, 4);
	assert_int_equal(reopen(&got, 1000, err, sizeof(err)), 0);
	assert_string_equal(got, want);
	struct stat sb;
	assert_int_equal(stat(jpath, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	free(got);
	free(want);
	state_store_close(&st);
	model_free(&m);
	unlink(path);
	unlink(jpath);
}

/* Half a record at the end (a crash in the middle of a batch): ignored and cut off. */
static void test_torn_on_disk(void **state)
{
	(void)state;
	struct model m;
	struct state_store st;
	char *want = make_state(&st, &m, 1000), *got = NULL, err[256];
	uint64_t good = st.jbytes;
	state_store_close(&st);
	/* a record that was being written: its header and part of its payload */
	struct outbuf b;
	ob_init(&b);
	size_t s = journal_rec_begin(&b);
	ob_puts(&b, "remove meeting 0\n");
	journal_rec_end(&b, s);
	FILE *f = fopen(jpath, "a");
	assert_non_null(f);
	fwrite(b.p, 1, b.len - 5, f);
	fclose(f);
	ob_free(&b);
	assert_int_equal(reopen(&got, 1000, err, sizeof(err)), 0);
	assert_string_equal(got, want);
	struct stat sb;
	assert_int_equal(stat(jpath, &sb), 0);
	assert_int_equal((uint64_t)sb.st_size, good);   /* cut back */
	free(got);
	free(want);
	model_free(&m);
	unlink(path);
	unlink(jpath);
}

/* A damaged record in the middle: everything from it on is dropped (never acknowledged data can
 * only be at the end; the earlier records still load). */
static void test_damage_on_disk(void **state)
{
	(void)state;
	struct model m;
	struct state_store st;
	char *want = make_state(&st, &m, 1000), *got = NULL, err[256];
	state_store_close(&st);
	struct stat sb;
	assert_int_equal(stat(jpath, &sb), 0);
	FILE *f = fopen(jpath, "r+");
	assert_non_null(f);
	fseek(f, sb.st_size - 3, SEEK_SET);    /* in the last record's payload */
	fputc('X', f);
	fclose(f);
	assert_int_equal(reopen(&got, 1000, err, sizeof(err)), 0);
	assert_string_not_equal(got, want);   /* the last change (the removal) is gone */
	assert_non_null(strstr(got, "participant 3 "));
	free(got);
	free(want);
	model_free(&m);
	unlink(path);
	unlink(jpath);
}

/* Compaction: after it, snapshot G+1 and an empty journal G+1; stopped between its two steps
 * (snapshot G+1 written, journal still G with its records), the old journal is ignored. */
static void test_compaction_order(void **state)
{
	(void)state;
	struct model m;
	struct state_store st;
	char *want = make_state(&st, &m, 3), *got = NULL, err[256];
	assert_true(st.compactions >= 1);    /* 9 records, compaction at 3 */
	uint64_t gen = st.gen;
	assert_int_equal(reopen(&got, 1000, err, sizeof(err)), 0);
	assert_string_equal(got, want);
	free(got);

	/* one more change, then the first step of a compaction only */
	uint32_t mt;
	change_meeting(&st, &m, "late", &mt);
	commit(&st, &m);
	free(want);
	want = model_text(&m);
	assert_int_equal(state_file_save(&m, path, gen + 1, NULL, err, sizeof(err)), 0);
	assert_int_equal(reopen(&got, 1000, err, sizeof(err)), 0);
	assert_string_equal(got, want);      /* the snapshot has it all; the old journal is ignored */
	free(got);
	state_store_close(&st);

	/* a journal newer than the snapshot, with changes: refused */
	struct model m3;
	struct state_store st3;
	assert_int_equal(model_init(&m3), 0);
	assert_int_equal(state_store_open(&st3, &m3, path, 1000, 1u << 30, err, sizeof(err)), 0);
	change_meeting(&st3, &m3, "later", &mt);
	commit(&st3, &m3);
	state_store_close(&st3);
	model_free(&m3);
	assert_int_equal(state_file_save(&m, path, 0, NULL, err, sizeof(err)), 0);   /* an older snapshot */
	assert_int_equal(reopen(NULL, 1000, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "refusing"));
	free(want);
	model_free(&m);
	unlink(path);
	unlink(jpath);
}

/* A version 4 state file (before the journal) loads, and its changes go to a journal after it. */
static void test_v4_file(void **state)
{
	(void)state;
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("mmr-state 4\nmeeting 0 old plain\n"
	      "participant 0 0 a 203.0.113.51 5000 sendrecv - 0 - -\n"
	      "participant 1 0 b 203.0.113.52 5000 recvonly - 0 - -\n"
	      "stream 0 0 0x00000010 video vp8 3 1 - 0 -\n"
	      "sub 0 0 1 1 0x00000077 0 0 0\nend 1 2 1 1\n", f);
	fclose(f);
	struct model m;
	struct state_store st;
	char err[256], *got;
	assert_int_equal(model_init(&m), 0);
	assert_int_equal(state_store_open(&st, &m, path, 1000, 1u << 30, err, sizeof(err)), 0);
	assert_int_equal(st.gen, 0);
	assert_int_equal(m.n_subs, 1);
	change_target(&st, &m, 0, 2);
	commit(&st, &m);
	char *want = model_text(&m);
	state_store_close(&st);
	assert_int_equal(reopen(&got, 1000, err, sizeof(err)), 0);
	assert_string_equal(got, want);
	assert_non_null(strstr(got, "sub 0 0 1 2 0x00000077 0 0 0 - - -\n"));
	free(got);
	free(want);
	model_free(&m);
	unlink(path);
	unlink(jpath);
}


/* RTCP fields (state version 6): a receiver's feedback flags, mmr_ssrc and RTX map, a stream's RTX
 * SSRC, payload type and clock, a subscription's RTX SSRC (made, then set) survive the journal and
 * a compaction. */
static void test_rtcp_fields(void **state)
{
	(void)state;
	struct model m;
	struct state_store st;
	char err[256], *got;
	const char *what;
	assert_int_equal(model_init(&m), 0);
	assert_int_equal(state_store_open(&st, &m, path, 1000, 1u << 30, err, sizeof(err)), 1);
	uint32_t mt;
	change_meeting(&st, &m, "m", &mt);
	/* p0 receives with RTX: joined, then its RTCP set, then recorded (as requests.c does) */
	struct mmr_addr a = addr_of(0);
	assert_int_equal(model_reserve(&m, 0, 1, 0, 0, &what), 0);
	uint32_t p0 = model_participant_join(&m, mt, "p0", &a, 5000, MMR_ROLE_SENDRECV, NULL, 0);
	struct mmr_rtx_pt map[MMR_RTX_MAP_MAX] = { { 96, 97 } };
	model_participant_set_rtcp(&m, p0, MMR_FB_NACK | MMR_FB_RSIZE, 0x1234, map);
	state_line_participant(state_store_change_begin(&st), &m, p0);
	assert_true(state_store_change_end(&st));
	uint32_t p1 = change_join(&st, &m, mt, 1);
	commit(&st, &m);
	/* p1 publishes with RTX: p0's subscription gets an RTX SSRC of the controller's */
	struct m_stream_desc d = { .kind = MMR_KIND_VIDEO, .codec = MMR_CODEC_VP8, .layers = 3, .spatial = 1,
				   .group = MMR_ID_NONE, .rtx_pt = 107, .rtx_ssrc = { 0x555 } };
	assert_int_equal(model_reserve(&m, 0, 0, 1, model_publish_sub_count(&m, p1), &what), 0);
	uint32_t ssrc = 0x500;
	uint32_t s = model_stream_publish(&m, p1, &ssrc, 1, &d);
	struct outbuf *b = state_store_change_begin(&st);
	state_line_stream(b, &m, s);
	uint32_t sub = m.streams[s].first_sub;
	assert_int_not_equal(sub, MMR_ID_NONE);
	uint32_t made = m.subs[sub].rtx_ssrc;
	assert_true(made != 0 && made != 0x500 && made != 0x1234);
	state_line_sub(b, &m, sub);
	assert_true(state_store_change_end(&st));
	commit(&st, &m);
	/* a snapshot now (the lines above in it), then a new RTX SSRC (sub set --rtx-ssrc): a target
	 * record in the journal after it */
	assert_int_equal(state_store_compact(&st, &m, err, sizeof(err)), 0);
	m.subs[sub].rtx_ssrc = 0xabc;
	state_line_target(state_store_change_begin(&st), &m, sub);
	assert_true(state_store_change_end(&st));
	commit(&st, &m);
	char *want = model_text(&m);
	state_store_close(&st);
	if (reopen(&got, 1000, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(got, want);
	assert_non_null(strstr(got, " nack,rsize 0x00001234 96:97 - - -\n"));
	assert_non_null(strstr(got, " nack,pli,fir "));
	assert_non_null(strstr(got, "stream 0 1 0x00000500 video vp8 3 1 - 0 - 0x00000555 107 90000 - -\n"));
	assert_non_null(strstr(got, " 0x00000abc - -\n"));
	free(got);
	free(want);
	model_free(&m);
	unlink(path);
	unlink(jpath);
}

/* A version 5 state (before RTCP) loads with the defaults: NACK, PLI, FIR, no RTX, an mmr_ssrc made
 * from the participant (the same at every load), streams at 90 kHz / 48 kHz; a bad RTCP field in a
 * version 6 file is an error. */
static void test_v5_file(void **state)
{
	(void)state;
	static const char v5[] = "mmr-state 5\njournal 0\nmeeting 0 old plain\n"
		"participant 0 0 a 203.0.113.51 5000 sendrecv - 0 - -\n"
		"participant 1 0 b 203.0.113.52 5000 recvonly - 0 - -\n"
		"stream 0 0 0x00000010 audio opus 1 1 - 0 -\n"
		"sub 0 0 1 0 0x00000010 0 0 0\nend 1 2 1 1\n";
	uint32_t first = 0;
	for (int round = 0; round < 2; round++) {
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fputs(v5, f);
		fclose(f);
		unlink(jpath);
		struct model m;
		struct state_store st;
		char err[256];
		assert_int_equal(model_init(&m), 0);
		if (state_store_open(&st, &m, path, 1000, 1u << 30, err, sizeof(err)) != 0)
			fail_msg("%s", err);
		assert_int_equal(m.parts[1].fb, MMR_FB_DEFAULT);
		assert_int_not_equal(m.parts[1].mmr_ssrc, 0);
		assert_int_equal(m.streams[0].clock_hz, MMR_CLOCK_AUDIO_HZ);
		assert_int_equal(m.streams[0].rtx_ssrc, 0);
		assert_int_equal(m.subs[0].rtx_ssrc, 0);
		if (round == 0)
			first = m.parts[1].mmr_ssrc;
		else
			assert_int_equal(m.parts[1].mmr_ssrc, first);
		state_store_close(&st);
		model_free(&m);
	}
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("mmr-state 6\njournal 0\nmeeting 0 new plain\n"
	      "participant 0 0 a 203.0.113.51 5000 sendrecv - 0 - - nack,bogus 0x00000001 -\nend 1 1 0 0\n", f);
	fclose(f);
	unlink(jpath);
	struct model m;
	struct state_store st;
	char err[256];
	assert_int_equal(model_init(&m), 0);
	assert_int_equal(state_store_open(&st, &m, path, 1000, 1u << 30, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "bad feedback flags"));
	model_free(&m);
	unlink(path);
	unlink(jpath);
}

/* A top-N change as requests.c records it: topn, the removed subscriptions, the added ones. */
static void change_topn(struct state_store *st, struct model *m, uint32_t mt, unsigned n)
{
	const char *what;
	unsigned add, rem;
	model_topn_change_count(m, mt, n, &add, &rem);
	assert_int_equal(model_reserve(m, 0, 0, 0, add, &what), 0);
	uint32_t *removed = calloc(rem + 1, sizeof(*removed)), *added = calloc(add + 1, sizeof(*added));
	model_topn_removals(m, mt, n, removed);
	m->ssrc_seed = 0x5eed + n;
	uint32_t k = model_meeting_set_top_n(m, mt, n, added);
	struct outbuf *b = state_store_change_begin(st);
	state_line_topn(b, m, mt);
	for (unsigned i = 0; i < rem; i++)
		state_line_remove(b, "sub", removed[i]);
	for (unsigned i = 0; i < k; i++)
		state_line_sub(b, m, added[i]);
	assert_true(state_store_change_end(st));
	free(removed);
	free(added);
}

/* QoS fields (state version 7): a meeting's top-n, header extension ids and twcc/remb feedback, a
 * screen stream, a pinned subscription, top-N slots (made at a join, added, removed and replaced by
 * top-n changes, per-pair audio back when off) survive the journal and a compaction; a version 6
 * file loads with the defaults; bad version 7 fields are refused. */
static void test_qos_fields(void **state)
{
	(void)state;
	struct model m;
	struct state_store st;
	char err[256], *got;
	const char *what;
	assert_int_equal(model_init(&m), 0);
	assert_int_equal(state_store_open(&st, &m, path, 1000, 1u << 30, err, sizeof(err)), 1);
	assert_int_equal(model_reserve(&m, 1, 0, 0, 0, &what), 0);
	uint32_t mt = model_meeting_add(&m, MMR_ID_NONE, "q", SRTP_SUITE_NONE);
	m.meetings[mt].top_n = 2;
	state_line_meeting(state_store_change_begin(&st), &m, mt);
	assert_true(state_store_change_end(&st));
	struct mmr_addr a = addr_of(0);
	assert_int_equal(model_reserve(&m, 0, 1, 0, model_join_sub_count(&m, mt, MMR_ROLE_SENDRECV), &what), 0);
	m.ssrc_seed = 77;
	uint32_t p0 = model_participant_join(&m, mt, "p0", &a, 5000, MMR_ROLE_SENDRECV, NULL, 0);
	m.parts[p0].fb |= MMR_FB_TWCC | MMR_FB_REMB;
	m.parts[p0].twcc_ext_id = 3;
	m.parts[p0].abs_ext_id = 200;
	m.parts[p0].level_ext_id = 1;
	struct outbuf *b = state_store_change_begin(&st);
	state_line_participant(b, &m, p0);
	for (uint32_t x = m.parts[p0].first_rsub; x != MMR_ID_NONE; x = m.subs[x].r_next)
		state_line_sub(b, &m, x);
	assert_true(state_store_change_end(&st));
	uint32_t p1 = change_join(&st, &m, mt, 1);
	commit(&st, &m);
	/* p1 publishes audio (no subscription: top-N) and a screen share (p0 subscribes, pinned) */
	uint32_t ssrc = 0x900;
	struct m_stream_desc d = { .kind = MMR_KIND_AUDIO, .codec = MMR_CODEC_OPUS, .layers = 1, .spatial = 1,
				   .group = MMR_ID_NONE };
	assert_int_equal(model_reserve(&m, 0, 0, 1, 1, &what), 0);
	uint32_t sa = model_stream_publish(&m, p1, &ssrc, 1, &d);
	assert_int_equal(m.streams[sa].n_subs, 0);
	state_line_stream(state_store_change_begin(&st), &m, sa);
	assert_true(state_store_change_end(&st));
	ssrc = 0x901;
	d.kind = MMR_KIND_VIDEO;
	d.codec = MMR_CODEC_VP8;
	d.layers = 3;
	d.screen = 1;
	assert_int_equal(model_reserve(&m, 0, 0, 1, 1, &what), 0);
	uint32_t sv = model_stream_publish(&m, p1, &ssrc, 1, &d);
	b = state_store_change_begin(&st);
	state_line_stream(b, &m, sv);
	state_line_sub(b, &m, m.streams[sv].first_sub);
	assert_true(state_store_change_end(&st));
	commit(&st, &m);
	assert_int_equal(state_store_compact(&st, &m, err, sizeof(err)), 0);
	m.subs[m.streams[sv].first_sub].priority = MMR_PRIO_PINNED;
	state_line_target(state_store_change_begin(&st), &m, m.streams[sv].first_sub);
	assert_true(state_store_change_end(&st));
	/* top-n: 3 (one slot more each), 0 (per-pair audio back), 1 (slots again, audio pairs gone) */
	change_topn(&st, &m, mt, 3);
	commit(&st, &m);
	change_topn(&st, &m, mt, 0);
	commit(&st, &m);
	assert_int_equal(m.streams[sa].n_subs, 1);
	change_topn(&st, &m, mt, 1);
	commit(&st, &m);
	char *want = model_text(&m);
	state_store_close(&st);
	if (reopen(&got, 1000, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(got, want);
	assert_non_null(strstr(got, "meeting 0 q plain 1\n"));
	assert_non_null(strstr(got, " nack,pli,fir,twcc,remb 0x"));
	assert_non_null(strstr(got, " twcc=3,abs-send-time=200,audio-level=1 - -\n"));
	assert_non_null(strstr(got, " 0x00000901 video vp8 3 1 - 0 - - - 90000 screen -\n"));
	assert_non_null(strstr(got, " pinned -\n"));
	assert_non_null(strstr(got, " 0 0 0 - - 0\n"));      /* a slot line */
	assert_null(strstr(got, " 0 0 0 - - 1\n"));          /* no slot 1 with top-n 1 */
	free(got);
	free(want);
	model_free(&m);
	/* bad version 7 fields */
	static const char *const bad[][2] = {
		{ "meeting 0 q plain 9\n", "bad top-n" },
		{ "meeting 0 q plain 0\nparticipant 0 0 a 203.0.113.51 5000 sendrecv - 0 - - twcc 0x00000001 - -\n",
		  "twcc/remb feedback without" },
		{ "meeting 0 q plain 0\nparticipant 0 0 a 203.0.113.51 5000 sendrecv - 0 - - nack 0x00000001 - twcc=3,audio-level=3\n",
		  "bad header extension ids" },
		{ "meeting 0 q plain 0\nparticipant 0 0 a 203.0.113.51 5000 sendrecv - 0 - - nack 0x00000001 - -\n"
		  "stream 0 0 0x00000010 audio opus 1 1 - 0 - - - 48000 screen\n", "no screen share" },
		{ "meeting 0 q plain 1\nparticipant 0 0 a 203.0.113.51 5000 sendrecv - 0 - - nack 0x00000001 - -\n"
		  "sub 0 - 0 0 0x00000005 0 0 0 - - 1\n", "bad top-N slot" },
		{ "meeting 0 q plain 1\nparticipant 0 0 a 203.0.113.51 5000 sendrecv - 0 - - nack 0x00000001 - -\n"
		  "end 1 1 0 0\n", "top-N slot subscriptions" },
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fprintf(f, "mmr-state 7\njournal 0\n%s%s", bad[i][0], strstr(bad[i][0], "end ") ? "" : "end 1 1 0 0\n");
		fclose(f);
		unlink(jpath);
		assert_int_equal(model_init(&m), 0);
		assert_int_equal(state_store_open(&st, &m, path, 1000, 1u << 30, err, sizeof(err)), -1);
		if (!strstr(err, bad[i][1]))
			fail_msg("case %u: %s", i, err);
		model_free(&m);
	}
	unlink(path);
	unlink(jpath);
}

/* A version 6 state (before QoS) loads with the defaults: no top-n, no extension ids, no screen,
 * nothing pinned; saved again as version 7. */
static void test_v6_file(void **state)
{
	(void)state;
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("mmr-state 6\njournal 0\nmeeting 0 old plain\n"
	      "participant 0 0 a 203.0.113.51 5000 sendrecv - 0 - - nack,pli 0x00000011 -\n"
	      "participant 1 0 b 203.0.113.52 5000 recvonly - 0 - - nack 0x00000012 -\n"
	      "stream 0 0 0x00000010 audio opus 1 1 - 0 - - - 48000\n"
	      "stream 1 0 0x00000020 video vp8 3 1 - 0 - - - 90000\n"
	      "sub 0 0 1 0 0x00000010 0 0 0 -\nsub 1 1 1 2 0x00000020 0 0 0 -\nend 1 2 2 2\n", f);
	fclose(f);
	unlink(jpath);
	struct model m;
	struct state_store st;
	char err[256];
	assert_int_equal(model_init(&m), 0);
	if (state_store_open(&st, &m, path, 1000, 1u << 30, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(m.meetings[0].top_n, 0);
	assert_int_equal(m.parts[0].twcc_ext_id + m.parts[0].abs_ext_id + m.parts[0].level_ext_id, 0);
	assert_int_equal(m.streams[1].screen, 0);
	assert_int_equal(m.subs[1].priority, MMR_PRIO_NORMAL);
	assert_int_equal(m.subs[1].topn_slot, 0);
	char *text = model_text(&m);
	assert_non_null(strstr(text, "mmr-state 9\n"));
	assert_non_null(strstr(text, "meeting 0 old plain 0\n"));
	assert_non_null(strstr(text, "sub 1 1 1 2 0x00000020 0 0 0 - - -\n"));
	free(text);
	state_store_close(&st);
	model_free(&m);
	unlink(path);
	unlink(jpath);
}

/* ICE credentials (state version 8): a participant added with ICE and no address (0.0.0.0 port 0,
 * out of the address index), its address learned and then cleared (paddr records), its credentials
 * replaced, through the journal, a reopen and a compaction; a second participant without an
 * address beside it; the pwd never in the model's text but in the file's ICE token. */
static void test_ice_fields(void **state)
{
	(void)state;
	struct model m;
	struct state_store st;
	char err[256], *got;
	const char *what;
	assert_int_equal(model_init(&m), 0);
	assert_int_equal(state_store_open(&st, &m, path, 1000, 1u << 30, err, sizeof(err)), 1);
	uint32_t mt;
	change_meeting(&st, &m, "ice", &mt);
	struct mmr_addr none = { .family = MMR_AF_INET };
	uint32_t p[2];
	for (int i = 0; i < 2; i++) {
		char name[8];
		snprintf(name, sizeof(name), "b%d", i);
		assert_int_equal(model_reserve(&m, 0, 1, 0, model_join_sub_count(&m, mt, MMR_ROLE_SENDRECV), &what), 0);
		p[i] = model_participant_join(&m, mt, name, &none, 0, MMR_ROLE_SENDRECV, NULL, 0);
		const char *u = i ? "uFr2" : "uFr1";
		model_participant_set_ice(&m, p[i], u, 4, "0123456789abcdef+/ABCDEF", 24);
		struct outbuf *b = state_store_change_begin(&st);
		state_line_participant(b, &m, p[i]);
		assert_true(state_store_change_end(&st));
	}
	commit(&st, &m);
	assert_int_equal(model_find_participant_by_ufrag(&m, "uFr2", 4), p[1]);
	assert_int_equal(model_find_participant_by_ufrag(&m, "uFr3", 4), MMR_ID_NONE);
	/* learned, then b1's address cleared and its credentials replaced */
	struct mmr_addr a = addr_of(3);
	model_participant_set_addr(&m, p[0], &a, 40000);
	state_line_paddr(state_store_change_begin(&st), &m, p[0]);
	assert_true(state_store_change_end(&st));
	model_participant_set_addr(&m, p[1], &a, 40001);
	state_line_paddr(state_store_change_begin(&st), &m, p[1]);
	assert_true(state_store_change_end(&st));
	model_participant_set_addr(&m, p[1], &none, 0);
	model_participant_set_ice(&m, p[1], "newUfrag", 8, "zyxwvutsrqponmlkjihgfedcba", 26);
	state_line_paddr(state_store_change_begin(&st), &m, p[1]);
	assert_true(state_store_change_end(&st));
	commit(&st, &m);
	assert_int_equal(model_find_participant_by_addr(&m, &a, 40000), p[0]);
	assert_int_equal(model_find_participant_by_addr(&m, &a, 40001), MMR_ID_NONE);
	char *want = model_text(&m);
	state_store_close(&st);
	if (reopen(&got, 1000, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(got, want);
	assert_non_null(strstr(got, " 40000 sendrecv - 0 - - nack,pli,fir "));
	assert_non_null(strstr(got, " uFr1:0123456789abcdef+/ABCDEF -\n"));
	assert_non_null(strstr(got, " 0.0.0.0 0 sendrecv "));
	assert_non_null(strstr(got, " newUfrag:zyxwvutsrqponmlkjihgfedcba -\n"));
	free(got);
	/* compacted, and loaded from the snapshot */
	struct model m2;
	assert_int_equal(model_init(&m2), 0);
	assert_int_equal(state_store_open(&st, &m2, path, 1000, 1u << 30, err, sizeof(err)), 0);
	assert_int_equal(state_store_compact(&st, &m2, err, sizeof(err)), 0);
	state_store_close(&st);
	model_free(&m2);
	if (reopen(&got, 1000, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(got, want);
	free(got);
	free(want);
	model_free(&m);
}

/* DTLS (state version 9): a participant with ICE and a peer fingerprint in an SRTP meeting (no keys
 * in its line: "- -"), its fingerprint and role changed (a pdtls record), through the journal, a
 * reopen and a compaction. */
static void test_dtls_fields(void **state)
{
	(void)state;
	struct model m;
	struct state_store st;
	char err[256], *got;
	const char *what;
	unlink(path);
	unlink(jpath);
	assert_int_equal(model_init(&m), 0);
	assert_int_equal(state_store_open(&st, &m, path, 1000, 1u << 30, err, sizeof(err)), 1);
	assert_int_equal(model_reserve(&m, 1, 0, 0, 0, &what), 0);
	uint32_t mt = model_meeting_add(&m, MMR_ID_NONE, "dt", SRTP_SUITE_AEAD_AES_128_GCM);
	state_line_meeting(state_store_change_begin(&st), &m, mt);
	assert_true(state_store_change_end(&st));
	struct mmr_addr none = { .family = MMR_AF_INET };
	assert_int_equal(model_reserve(&m, 0, 1, 0, model_join_sub_count(&m, mt, MMR_ROLE_SENDRECV), &what), 0);
	uint32_t p = model_participant_join(&m, mt, "web", &none, 0, MMR_ROLE_SENDRECV, NULL, 0);
	model_participant_set_ice(&m, p, "dtU1", 4, "0123456789abcdef+/ABCDEF", 24);
	uint8_t fp[MMR_DTLS_FP_LEN];
	for (int i = 0; i < MMR_DTLS_FP_LEN; i++)
		fp[i] = (uint8_t)(0xa0 + i);
	model_participant_set_dtls(&m, p, true, MMR_DTLS_SERVER, fp);
	state_line_participant(state_store_change_begin(&st), &m, p);
	assert_true(state_store_change_end(&st));
	commit(&st, &m);
	fp[0] = 0x01;
	model_participant_set_dtls(&m, p, true, MMR_DTLS_CLIENT, fp);
	state_line_pdtls(state_store_change_begin(&st), &m, p);
	assert_true(state_store_change_end(&st));
	commit(&st, &m);
	char *want = model_text(&m);
	state_store_close(&st);
	if (reopen(&got, 1000, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(got, want);
	assert_non_null(strstr(got, " - - nack,pli,fir "));     /* no keys */
	assert_non_null(strstr(got, " dtU1:0123456789abcdef+/ABCDEF client:01:A1:A2:A3:"));
	free(got);
	struct model m2;
	assert_int_equal(model_init(&m2), 0);
	assert_int_equal(state_store_open(&st, &m2, path, 1000, 1u << 30, err, sizeof(err)), 0);
	assert_true(m2.parts[p].dtls);
	assert_int_equal(m2.parts[p].dtls_role, MMR_DTLS_CLIENT);
	assert_memory_equal(m2.parts[p].dtls_fp, fp, MMR_DTLS_FP_LEN);
	assert_int_equal(m2.parts[p].dtls_state, MMR_DTLS_WAITING);
	assert_int_equal(state_store_compact(&st, &m2, err, sizeof(err)), 0);
	state_store_close(&st);
	model_free(&m2);
	if (reopen(&got, 1000, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(got, want);
	free(got);
	free(want);
	model_free(&m);
}

/* Meeting controls (issue 15): mctl, pctl and ban records through the journal, a reopen and a
 * compaction (the snapshot writes them); bad records refused. */
static void test_control_fields(void **state)
{
	(void)state;
	struct model m;
	struct state_store st;
	char err[256], *got;
	const char *what;
	unlink(path);
	unlink(jpath);
	assert_int_equal(model_init(&m), 0);
	assert_int_equal(state_store_open(&st, &m, path, 1000, 1u << 30, err, sizeof(err)), 1);
	assert_int_equal(model_reserve(&m, 1, 0, 0, 0, &what), 0);
	uint32_t mt = model_meeting_add(&m, MMR_ID_NONE, "ctl", 0);
	state_line_meeting(state_store_change_begin(&st), &m, mt);
	assert_true(state_store_change_end(&st));
	struct mmr_addr a = addr_of(1);
	assert_int_equal(model_reserve(&m, 0, 1, 0, model_join_sub_count(&m, mt, MMR_ROLE_SENDRECV), &what), 0);
	uint32_t p = model_participant_join(&m, mt, "ann", &a, 5000, MMR_ROLE_SENDRECV, NULL, 0);
	state_line_participant(state_store_change_begin(&st), &m, p);
	assert_true(state_store_change_end(&st));
	m.meetings[mt].waiting_room = true;
	m.meetings[mt].share_host_only = true;
	m.meetings[mt].max_sharers = 3;
	m.meetings[mt].locked = true;
	m.meetings[mt].unmute_forbidden = true;
	state_line_mctl(state_store_change_begin(&st), &m, mt);
	assert_true(state_store_change_end(&st));
	m.parts[p].waiting = true;
	m.parts[p].host = true;
	m.parts[p].mute = MMR_BLOCK_AUDIO | MMR_BLOCK_SCREEN;
	state_line_pctl(state_store_change_begin(&st), &m, p);
	assert_true(state_store_change_end(&st));
	assert_int_equal(model_ban_add(&m, mt, "bob"), 0);
	state_line_ban(state_store_change_begin(&st), mt, "bob");
	assert_true(state_store_change_end(&st));
	commit(&st, &m);
	char *want = model_text(&m);
	state_store_close(&st);
	assert_non_null(strstr(want, "mctl 0 on forbidden host_only 3 locked\n"));
	assert_non_null(strstr(want, "pctl 0 waiting host audio,screen\n"));
	assert_non_null(strstr(want, "ban 0 bob\n"));
	if (reopen(&got, 1000, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(got, want);
	free(got);
	struct model m2;
	assert_int_equal(model_init(&m2), 0);
	assert_int_equal(state_store_open(&st, &m2, path, 1000, 1u << 30, err, sizeof(err)), 0);
	assert_true(m2.meetings[mt].locked && m2.meetings[mt].waiting_room && m2.meetings[mt].unmute_forbidden);
	assert_int_equal(m2.meetings[mt].max_sharers, 3);
	assert_true(m2.parts[p].waiting && m2.parts[p].host);
	assert_int_equal(m2.parts[p].mute, MMR_BLOCK_AUDIO | MMR_BLOCK_SCREEN);
	assert_true(model_banned(&m2, mt, "bob"));
	assert_false(model_banned(&m2, mt, "ann"));
	assert_int_equal(state_store_compact(&st, &m2, err, sizeof(err)), 0);
	state_store_close(&st);
	model_free(&m2);
	if (reopen(&got, 1000, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(got, want);
	free(got);
	free(want);
	/* bad records: refused with a reason */
	static const char *const bad[] = { "pctl 99 waiting - -\n", "pctl 0 maybe - -\n", "pctl 0 waiting - smell\n",
					   "mctl 0 on allowed everyone 300 open\n", "mctl 0 on allowed all 1 open\n",
					   "ban 9 x\n", "ban 0 -bad\n" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(state_file_replay(&m, bad[i], strlen(bad[i]), "test", err, sizeof(err)), -1);
	model_free(&m);
}

/* SSRC learning (state version 9): a simulcast group added with mid and rids and stand-in SSRCs
 * (the stream lines' MID:RID:LEARN:RTX_PT token), its encodings' SSRCs and one RTX SSRC learned
 * (sssrc records), the publisher's extension ids changed (pext), through the journal, a reopen and
 * a compaction; bad records refused. */
static void test_learn_fields(void **state)
{
	(void)state;
	struct model m;
	struct state_store st;
	char err[256], *got;
	const char *what;
	unlink(path);
	unlink(jpath);
	assert_int_equal(model_init(&m), 0);
	assert_int_equal(state_store_open(&st, &m, path, 1000, 1u << 30, err, sizeof(err)), 1);
	uint32_t mt;
	change_meeting(&st, &m, "learn", &mt);
	uint32_t pub = change_join(&st, &m, mt, 0);
	change_join(&st, &m, mt, 1);
	m.parts[pub].mid_ext_id = 4;
	m.parts[pub].rid_ext_id = 10;
	m.parts[pub].rrid_ext_id = 11;
	state_line_pext(state_store_change_begin(&st), &m, pub);
	assert_true(state_store_change_end(&st));
	struct m_stream_desc d = { .kind = MMR_KIND_VIDEO, .codec = MMR_CODEC_VP8, .layers = 3, .spatial = 1,
				   .group = MMR_ID_NONE, .rtx_pt = 97 };
	uint32_t standin[3] = { 0x9000, 0x9001, 0x9002 };
	assert_int_equal(model_reserve(&m, 0, 0, 3, 3 * model_publish_sub_count(&m, pub), &what), 0);
	uint32_t s0 = model_stream_publish(&m, pub, standin, 3, &d);
	static const char *const rids[3] = { "q", "h", "f" };
	unsigned k = 0;
	for (uint32_t s = s0; s != MMR_ID_NONE; s = m.streams[s].next, k++) {
		strcpy(m.streams[s].mid, "1");
		strcpy(m.streams[s].rid, rids[k]);
		m.streams[s].learn = MMR_LEARN_MEDIA | MMR_LEARN_RTX;
		m.streams[s].rtx_pt = 97;
	}
	struct outbuf *b = state_store_change_begin(&st);
	for (uint32_t s = s0; s != MMR_ID_NONE; s = m.streams[s].next)
		state_line_stream(b, &m, s);
	for (uint32_t s = s0; s != MMR_ID_NONE; s = m.streams[s].next)
		for (uint32_t x = m.streams[s].first_sub; x != MMR_ID_NONE; x = m.subs[x].s_next)
			state_line_sub(b, &m, x);
	assert_true(state_store_change_end(&st));
	commit(&st, &m);
	struct mmr_learn lt[MMR_LEARN_MAX];
	assert_int_equal(model_learn_table(&m, pub, lt, MMR_LEARN_MAX), 3);
	assert_int_equal(lt[1].stream_id, m.streams[s0].next);
	assert_int_equal(lt[1].rid_len, 1);
	assert_int_equal(lt[1].rid[0], 'h');
	/* encoding 1 learned first: the group's receivers are given it (the highest learned) */
	uint32_t s1 = m.streams[s0].next, s2 = m.streams[s1].next;
	model_stream_set_ssrc(&m, s1, 0x51000001);
	state_line_ssrc(state_store_change_begin(&st), &m, s1);
	assert_true(state_store_change_end(&st));
	assert_int_equal(model_learned_encoding(&m, s0, 2), 1);
	assert_int_equal(model_learned_encoding(&m, s0, 0), 0);      /* nothing learned at or below 0 */
	model_stream_set_ssrc(&m, s0, 0x51000000);
	model_stream_set_rtx(&m, s0, 0x52000000);
	state_line_ssrc(state_store_change_begin(&st), &m, s0);
	assert_true(state_store_change_end(&st));
	model_stream_set_ssrc(&m, s2, 0x51000002);
	state_line_ssrc(state_store_change_begin(&st), &m, s2);
	assert_true(state_store_change_end(&st));
	assert_int_equal(model_learned_encoding(&m, s0, 2), 2);
	assert_int_equal(model_find_stream(&m, mt, 0x51000002), s2);
	assert_int_equal(model_find_stream(&m, mt, 0x9002), MMR_ID_NONE);
	assert_int_equal(model_learn_table(&m, pub, lt, MMR_LEARN_MAX), 2);   /* h and f RTX */
	m.parts[pub].twcc_ext_id = 3;
	state_line_pext(state_store_change_begin(&st), &m, pub);
	assert_true(state_store_change_end(&st));
	commit(&st, &m);
	/* the subscriptions keep the stand-in as their out SSRC */
	assert_int_equal(m.subs[m.streams[s0].first_sub].out_ssrc, 0x9000);
	char *want = model_text(&m);
	state_store_close(&st);
	if (reopen(&got, 1000, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(got, want);
	assert_non_null(strstr(got, " 0x51000000 video vp8 3 1 "));
	assert_non_null(strstr(got, " 0x52000000 97 90000 - 1:q:0:97\n"));
	assert_non_null(strstr(got, " - - 90000 - 1:h:2:97\n"));
	assert_non_null(strstr(got, "twcc=3,mid=4,rid=10,rrid=11"));
	free(got);
	/* compacted, and loaded from the snapshot */
	struct model m2;
	assert_int_equal(model_init(&m2), 0);
	assert_int_equal(state_store_open(&st, &m2, path, 1000, 1u << 30, err, sizeof(err)), 0);
	assert_int_equal(state_store_compact(&st, &m2, err, sizeof(err)), 0);
	assert_int_equal(m2.streams[s1].learn, MMR_LEARN_RTX);
	assert_int_equal(m2.streams[s1].rtx_pt, 97);
	assert_string_equal(m2.streams[s2].rid, "f");
	state_store_close(&st);
	model_free(&m2);
	if (reopen(&got, 1000, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(got, want);
	free(got);
	free(want);
	model_free(&m);
	unlink(path);
	unlink(jpath);
}

/* Receive slots (state version 9, issue 13): a receiver's video slots (vslot), the streams put on
 * them and taken off again (vmember, remove sub), its audio slot SSRCs (aslots) on its top-N slots,
 * the stream's removal emptying the slot: the journal and a compaction give the same model; a stream
 * on a slot keeps the slot as its sel_id after the replay. */
static void slot_put(struct state_store *st, struct model *m, uint32_t slot, uint32_t s)
{
	const char *what;
	uint32_t old[MEDIA_MAX_ENCODINGS];
	unsigned n = model_vslot_members(m, slot, old);
	struct outbuf *b = state_store_change_begin(st);
	for (unsigned i = 0; i < n; i++) {
		state_line_remove(b, "sub", old[i]);
		model_sub_remove(m, old[i]);
	}
	m->subs[slot].slot_gen = model_slot_gen_next(m->subs[slot].slot_gen);
	state_line_sub(b, m, slot);
	if (s != MMR_ID_NONE) {
		assert_int_equal(model_reserve(m, 0, 0, 0, 1, &what), 0);
		state_line_sub(b, m, model_vslot_member_add(m, MMR_ID_NONE, s, slot));
	}
	assert_true(state_store_change_end(st));
}

static void test_slot_fields(void **state)
{
	(void)state;
	struct model m;
	struct state_store st;
	char err[256], *got;
	const char *what;
	unlink(path);        /* the test before leaves its files */
	unlink(jpath);
	assert_int_equal(model_init(&m), 0);
	assert_int_equal(state_store_open(&st, &m, path, 1000, 1u << 30, err, sizeof(err)), 1);
	uint32_t mt;
	change_meeting(&st, &m, "slots", &mt);
	change_topn(&st, &m, mt, 2);
	uint32_t a = change_join(&st, &m, mt, 0), b = change_join(&st, &m, mt, 1);
	uint32_t sa = change_publish(&st, &m, a, 0xa0), sb = change_publish(&st, &m, b, 0xb0);
	/* r: two video slots (one with RTX), two audio slots */
	struct mmr_addr ar = addr_of(2);
	assert_int_equal(model_reserve(&m, 0, 1, 0, model_join_sub_count(&m, mt, MMR_ROLE_RECVONLY) + 2, &what), 0);
	uint32_t r = model_participant_join(&m, mt, "r", &ar, 5002, MMR_ROLE_RECVONLY, NULL, 0);
	const uint32_t vs[2] = { 0x51, 0x52 }, vr[2] = { 0, 0x53 }, as[2] = { 0x61, 0x62 };
	model_participant_set_slots(&m, r, 2, vs, vr, 2, as);
	assert_int_equal(model_find_sub(&m, sa, r), MMR_ID_NONE);     /* no per-pair video */
	assert_int_equal(m.subs[model_find_slot(&m, r, 1)].out_ssrc, 0x62);
	struct outbuf *o = state_store_change_begin(&st);
	state_line_participant(o, &m, r);
	state_line_aslots(o, &m, r);
	for (uint32_t x = m.parts[r].first_rsub; x != MMR_ID_NONE; x = m.subs[x].r_next)
		state_line_sub(o, &m, x);
	assert_true(state_store_change_end(&st));
	commit(&st, &m);
	uint32_t s0 = m.parts[r].vslot_sub[0], s1 = m.parts[r].vslot_sub[1];
	slot_put(&st, &m, s0, sa);
	slot_put(&st, &m, s1, sb);
	commit(&st, &m);
	slot_put(&st, &m, s0, sb == MMR_ID_NONE ? sa : MMR_ID_NONE);   /* emptied */
	slot_put(&st, &m, s0, sa);
	commit(&st, &m);
	assert_int_equal(m.subs[s0].slot_gen, 3);
	assert_int_equal(model_vslot_of_stream(&m, r, sb), s1);
	char *want = model_text(&m);
	state_store_close(&st);
	if (reopen(&got, 1000, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(got, want);
	assert_non_null(strstr(got, "aslots 2 0x00000061,0x00000062\n"));
	if (!strstr(got, " 1 0x00000052 0x00000053 0 0 0 0 1\n"))
		fail_msg("%s", got);
	free(got);
	/* compacted, loaded from the snapshot: the same; the streams keep their slots as sel_id */
	struct model m2;
	assert_int_equal(model_init(&m2), 0);
	assert_int_equal(state_store_open(&st, &m2, path, 1000, 1u << 30, err, sizeof(err)), 0);
	uint32_t on = model_find_sub(&m2, sa, r);
	assert_true(on != MMR_ID_NONE && m2.subs[on].sel_id == s0 && m2.subs[on].video_slot == 1);
	assert_int_equal(m2.parts[r].n_vslots, 2);
	assert_int_equal(m2.parts[r].n_aslots, 2);
	assert_int_equal(state_store_compact(&st, &m2, err, sizeof(err)), 0);
	state_store_close(&st);
	model_free(&m2);
	if (reopen(&got, 1000, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(got, want);
	free(got);
	free(want);
	/* the publisher's stream goes: its slot is empty, the model still loads */
	assert_int_equal(model_init(&m2), 0);
	assert_int_equal(state_store_open(&st, &m2, path, 1000, 1u << 30, err, sizeof(err)), 0);
	state_line_remove(state_store_change_begin(&st), "stream", sa);
	assert_true(state_store_change_end(&st));
	model_group_remove(&m2, sa);
	commit(&st, &m2);
	uint32_t mem[MEDIA_MAX_ENCODINGS];
	assert_int_equal(model_vslot_members(&m2, s0, mem), 0);
	want = model_text(&m2);
	state_store_close(&st);
	model_free(&m2);
	if (reopen(&got, 1000, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(got, want);
	free(got);
	free(want);
	model_free(&m);
	unlink(path);
	unlink(jpath);
}

/* Bad audio slots and SSRC learning (state version 9), each refused with a clear error where the
 * same model without the fault loads: an audio slot SSRC twice in a receiver's list, another
 * receiver's audio slot SSRC, a stream's SSRC as an audio slot's; a participant with more streams
 * being learned than MMR_LEARN_MAX (a snapshot, and a journal record adding one); a journal record
 * that starts learning a stream's SSRC again. */
enum bad_kind { BAD_NONE, BAD_ASLOT_TWICE, BAD_ASLOT_OTHER, BAD_ASLOT_STREAM, BAD_LEARN_MAX };

static void bad_model(struct model *m, enum bad_kind bad, uint32_t *learner)
{
	struct state_store st;
	char err[256];
	const char *what;
	unlink(path);
	unlink(jpath);
	assert_int_equal(model_init(m), 0);
	assert_int_equal(state_store_open(&st, m, path, 1000, 1u << 30, err, sizeof(err)), 1);
	uint32_t mt;
	change_meeting(&st, m, "bad", &mt);
	change_topn(&st, m, mt, 2);
	uint32_t pub = change_join(&st, m, mt, 0);
	change_publish(&st, m, pub, 0xa0);
	/* a publisher learning MMR_LEARN_MAX streams (one more with BAD_LEARN_MAX) */
	uint32_t lp = change_join(&st, m, mt, 1);
	m->parts[lp].mid_ext_id = 4;
	struct m_stream_desc d = { .kind = MMR_KIND_AUDIO, .codec = MMR_CODEC_OPUS, .layers = 1, .spatial = 1,
				   .group = MMR_ID_NONE, .clock_hz = 48000 };
	for (unsigned i = 0; i < MMR_LEARN_MAX + (bad == BAD_LEARN_MAX); i++) {
		uint32_t standin = 0x9000 + i;
		assert_int_equal(model_reserve(m, 0, 0, 1, model_publish_sub_count(m, lp), &what), 0);
		uint32_t s = model_stream_publish(m, lp, &standin, 1, &d);
		snprintf(m->streams[s].mid, sizeof(m->streams[s].mid), "%u", i);
		m->streams[s].learn = MMR_LEARN_MEDIA;
	}
	/* two receivers with audio slots */
	const uint32_t as1[2] = { 0x61, bad == BAD_ASLOT_TWICE ? 0x61 : bad == BAD_ASLOT_STREAM ? 0xa0 : 0x62 };
	const uint32_t as2[2] = { 0x71, bad == BAD_ASLOT_OTHER ? 0x62 : 0x72 };
	for (unsigned i = 0; i < 2; i++) {
		struct mmr_addr a = addr_of(2 + i);
		char name[8];
		snprintf(name, sizeof(name), "r%u", i);
		assert_int_equal(model_reserve(m, 0, 1, 0, model_join_sub_count(m, mt, MMR_ROLE_RECVONLY), &what), 0);
		uint32_t r = model_participant_join(m, mt, name, &a, 5000, MMR_ROLE_RECVONLY, NULL, 0);
		model_participant_set_slots(m, r, 0, NULL, NULL, 2, i ? as2 : as1);
	}
	state_store_close(&st);
	unlink(jpath);
	assert_int_equal(state_file_save(m, path, 0, NULL, err, sizeof(err)), 0);
	*learner = lp;
}

static int bad_open(struct model *m2, struct state_store *st, char *err, size_t errlen)
{
	assert_int_equal(model_init(m2), 0);
	int rc = state_store_open(st, m2, path, 1000, 1u << 30, err, errlen);
	return rc;
}

static void test_bad_slots_learning(void **state)
{
	(void)state;
	static const struct { enum bad_kind bad; const char *why; } cases[] = {
		{ BAD_ASLOT_TWICE, "SSRC 0x00000061 twice" },
		{ BAD_ASLOT_OTHER, "audio slot SSRC 0x00000062 used twice in meeting 'bad'" },
		{ BAD_ASLOT_STREAM, "audio slot SSRC 0x000000a0 is stream 0's too" },
		{ BAD_LEARN_MAX, "would have 9 streams whose SSRCs are being learned (at most 8)" },
	};
	struct model m, m2;
	struct state_store st;
	char err[256];
	uint32_t lp;
	/* the model without a fault loads */
	bad_model(&m, BAD_NONE, &lp);
	if (bad_open(&m2, &st, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	/* then a journal record adding a ninth learning stream, and one starting learning again */
	uint32_t s0 = m2.parts[lp].first_stream;
	for (int j = 0; j < 2; j++) {
		struct outbuf *b = state_store_change_begin(&st);
		if (j == 0) {
			ob_puts(b, "stream 40 1 0x00009040 audio opus 1 1 - 0 - - - 48000 - 9::1:0\n");
		} else {
			m2.streams[s0].learn = MMR_LEARN_MEDIA;
			state_line_ssrc(b, &m2, s0);   /* the stand-in's SSRC still learning */
		}
		assert_true(state_store_change_end(&st));
		char cerr[256];
		assert_int_equal(state_store_commit(&st, 1, cerr, sizeof(cerr)), 0);
		state_store_close(&st);
		model_free(&m2);
		struct model m3;
		struct state_store st3;
		assert_int_equal(bad_open(&m3, &st3, err, sizeof(err)), -1);
		const char *why = j == 0 ? "would have 9 streams whose SSRCs are being learned (at most 8)" :
			"a learned SSRC only ends learning";
		if (!strstr(err, why))
			fail_msg("journal case %d: %s", j, err);
		model_free(&m3);
		if (j == 0) {
			/* a learned SSRC record (learning 0) then one with learning 1 for the same stream */
			model_free(&m);
			bad_model(&m, BAD_NONE, &lp);
			assert_int_equal(bad_open(&m2, &st, err, sizeof(err)), 0);
			s0 = m2.parts[lp].first_stream;
			model_stream_set_ssrc(&m2, s0, 0x51000000);
			state_line_ssrc(state_store_change_begin(&st), &m2, s0);
			assert_true(state_store_change_end(&st));
		}
	}
	model_free(&m);
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bad_model(&m, cases[i].bad, &lp);
		model_free(&m);
		assert_int_equal(bad_open(&m2, &st, err, sizeof(err)), -1);
		if (!strstr(err, cases[i].why))
			fail_msg("case %u: %s", i, err);
		model_free(&m2);
	}
	unlink(path);
	unlink(jpath);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c_vector),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_torn_tail),
		cmocka_unit_test(test_crc_damage),
		cmocka_unit_test(test_reopen),
		cmocka_unit_test(test_torn_on_disk),
		cmocka_unit_test(test_damage_on_disk),
		cmocka_unit_test(test_compaction_order),
		cmocka_unit_test(test_control_fields),
		cmocka_unit_test(test_v4_file),
		cmocka_unit_test(test_rtcp_fields),
		cmocka_unit_test(test_v5_file),
		cmocka_unit_test(test_qos_fields),
		cmocka_unit_test(test_v6_file),
		cmocka_unit_test(test_ice_fields),
		cmocka_unit_test(test_dtls_fields),
		cmocka_unit_test(test_learn_fields),
		cmocka_unit_test(test_slot_fields),
		cmocka_unit_test(test_bad_slots_learning),
	};
	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
