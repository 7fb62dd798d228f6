/*
 * test_srtp_lease.c - the index leases of lib/srtp/srtp_fast.c, alone and together with the ledger
 * (lib/srtp/srtp_ledger.c), as the dataplane uses them (dataplane/srtp_lease.c):
 *
 *  - protect refuses an index below the floor, at or beyond the limit, already sent, or older than
 *    the sent window, and asks for more (the hook) within half a window of the limit;
 *  - a leased outbound context starts at its floor whatever the caller's sequence numbers
 *    (rebased), and a receiver that saw the predecessor decrypts it (ROC guess holds);
 *  - unprotect refuses below the floor (replay) and beyond the limit (lease), asks only for
 *    authentic packets, and a provisional lease is narrowed;
 *  - a randomized model: an owner like the dataplane's (raise, sync, grant; restarts that reopen the
 *    ledger; crashes before a sync; rekeys; simulcast-like jumps, duplicates and late packets of the
 *    caller's numbering; output wraps) drives contexts, and a model of every (key, SSRC, index)
 *    ever encrypted must never see one twice, while one receiver session per key decrypts every
 *    copy (continuity across restarts).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "srtp_fast.h"
#include "srtp_ledger.h"
#include "stats.h"
#include "unit_util.h"

#define BUF 1500

static void master(struct srtp_master *m, enum srtp_suite suite, uint8_t seed)
{
	memset(m, 0, sizeof(*m));
	m->suite = (uint8_t)suite;
	m->key_len = (uint8_t)srtp_suite_key_len(suite);
	m->salt_len = (uint8_t)srtp_suite_salt_len(suite);
	for (int i = 0; i < m->key_len; i++)
		m->key[i] = (uint8_t)(seed * 31 + i);
	for (int i = 0; i < m->salt_len; i++)
		m->salt[i] = (uint8_t)(seed * 17 + 3 * i);
}

static struct srtp_stream *ctx(const struct srtp_master *m)
{
	struct srtp_keys *k = srtp_keys_new(m);
	assert_non_null(k);
	struct srtp_stream *s = srtp_stream_new(k);
	assert_non_null(s);
	srtp_keys_free(k);
	return s;
}

static uint32_t rtp(uint8_t *b, uint16_t seq, uint32_t ssrc, uint32_t tag)
{
	memset(b, 0, 60);
	b[0] = 0x80;
	b[1] = 96;
	b[2] = (uint8_t)(seq >> 8);
	b[3] = (uint8_t)seq;
	b[8] = (uint8_t)(ssrc >> 24);
	b[9] = (uint8_t)(ssrc >> 16);
	b[10] = (uint8_t)(ssrc >> 8);
	b[11] = (uint8_t)ssrc;
	memcpy(b + 12, &tag, 4);
	return 60;
}

static uint16_t seq_of(const uint8_t *b)
{
	return (uint16_t)(b[2] << 8 | b[3]);
}

/* ---- the hook --------------------------------------------------------------------------------- */

static uint32_t asked[64];
static unsigned n_asked;
static int hook_refuses;

static int hook(uint32_t ticket)
{
	if (hook_refuses)
		return -1;
	if (n_asked < 64)
		asked[n_asked] = ticket;
	n_asked++;
	return 0;
}

/* ---- semantics -------------------------------------------------------------------------------- */

static void test_protect_lease(void **state)
{
	struct srtp_master m;
	uint8_t p[BUF], c[BUF];
	(void)state;
	master(&m, SRTP_SUITE_AEAD_AES_128_GCM, 1);
	struct srtp_stream *tx = ctx(&m), *rx = ctx(&m);
	srtp_set_lease_hook(hook);
	n_asked = 0;
	hook_refuses = 0;
	/* new identity: floor 0, nothing granted yet */
	srtp_stream_lease(tx, SRTP_PROTO_RTP, 0, 0, 64, 7);
	uint32_t n = rtp(p, 40000, 0x1234, 1);
	assert_int_equal(srtp_protect_rtp_copy(tx, p, n, c, sizeof(c)), 0);
	assert_int_equal(srtp_protect_why(tx), MMR_DROP_SRTP_LEASE);
	assert_int_equal(n_asked, 1);
	assert_int_equal(asked[0], 7);
	assert_int_equal(srtp_protect_rtp_copy(tx, p, n, c, sizeof(c)), 0);
	assert_int_equal(n_asked, 1);                        /* once per limit value */
	srtp_stream_lease_grant(tx, SRTP_PROTO_RTP, 64);
	/* rebased: the first packet goes at index 0 whatever its sequence number */
	uint32_t k = srtp_protect_rtp_copy(tx, p, n, c, sizeof(c));
	assert_int_equal(k, n + 16);
	assert_int_equal(seq_of(c), 0);
	assert_int_equal(srtp_unprotect_rtp(rx, c, &k), MMR_DROP_NONE);
	/* the same input again: index 0 again: refused */
	assert_int_equal(srtp_protect_rtp_copy(tx, p, n, c, sizeof(c)), 0);
	assert_int_equal(srtp_protect_why(tx), MMR_DROP_SRTP_REUSE);
	/* contiguous input: contiguous output; asks within half a window of the limit */
	for (uint16_t i = 1; i < 64; i++) {
		n = rtp(p, (uint16_t)(40000 + i), 0x1234, i);
		k = srtp_protect_rtp_copy(tx, p, n, c, sizeof(c));
		assert_int_equal(k, n + 16);
		assert_int_equal(seq_of(c), i);
		assert_int_equal(srtp_unprotect_rtp(rx, c, &k), MMR_DROP_NONE);
	}
	assert_int_equal(n_asked, 2);
	assert_int_equal(srtp_stream_lease_asked(tx, SRTP_PROTO_RTP), 32);
	n = rtp(p, 40064, 0x1234, 64);
	assert_int_equal(srtp_protect_rtp_copy(tx, p, n, c, sizeof(c)), 0);     /* at the limit */
	assert_int_equal(srtp_protect_why(tx), MMR_DROP_SRTP_LEASE);
	srtp_stream_lease_grant(tx, SRTP_PROTO_RTP, 32);                          /* lower: ignored */
	assert_int_equal(srtp_stream_lease_limit(tx, SRTP_PROTO_RTP), 64);
	srtp_stream_lease_grant(tx, SRTP_PROTO_RTP, 1000);
	/* a late packet inside the window, never sent: goes; sent once: refused; older than the
	 * window of 128 sent indexes: refused */
	for (uint16_t i = 65; i < 300; i++) {
		n = rtp(p, (uint16_t)(40000 + i), 0x1234, i);
		assert_true(srtp_protect_rtp_copy(tx, p, n, c, sizeof(c)) > 0);
	}
	n = rtp(p, 40064, 0x1234, 64);
	assert_true(srtp_protect_rtp_copy(tx, p, n, c, sizeof(c)) == 0);       /* older than 128 */
	assert_int_equal(srtp_protect_why(tx), MMR_DROP_SRTP_REUSE);
	n = rtp(p, 40250, 0x1234, 250);
	assert_true(srtp_protect_rtp_copy(tx, p, n, c, sizeof(c)) == 0);       /* sent */
	srtp_stream_free(tx);
	srtp_stream_free(rx);
	srtp_set_lease_hook(NULL);
}

/* A successor starts at its predecessor's limit, which the receiver takes (jump < 2^15), also
 * across the output's rollover and whatever numbering the caller restarts with. */
static void test_protect_successor(void **state)
{
	struct srtp_master m;
	uint8_t p[BUF], c[BUF];
	(void)state;
	for (size_t si = 0; si < 3; si++) {
		enum srtp_suite suite = (enum srtp_suite)(si + 1);
		master(&m, suite, 2);
		struct srtp_stream *rx = ctx(&m);
		uint64_t floor = 0;
		uint16_t in = 100;
		for (int life = 0; life < 20; life++) {
			struct srtp_stream *tx = ctx(&m);
			srtp_stream_lease(tx, SRTP_PROTO_RTP, floor, floor + 4096, 4096, 0);
			in = (uint16_t)(in * 7 + 13);                 /* a selector that lost its state */
			uint64_t first = floor;
			for (int i = 0; i < 3000; i++) {
				uint32_t n = rtp(p, (uint16_t)(in + i), 0x55, (uint32_t)i);
				uint32_t k = srtp_protect_rtp_copy(tx, p, n, c, sizeof(c));
				assert_true(k > 0);
				if (i == 0)
					assert_int_equal(seq_of(c), (uint16_t)first);
				if (i % 7 == 3)
					continue;     /* lost on the way */
				assert_int_equal(srtp_unprotect_rtp(rx, c, &k), MMR_DROP_NONE);
			}
			floor += 4096;         /* the durable limit the next life starts at */
			srtp_stream_free(tx);
		}
		assert_true(floor > 0x10000);   /* wrapped more than once */
		srtp_stream_free(rx);
	}
}

static void test_unprotect_lease(void **state)
{
	struct srtp_master m;
	uint8_t p[BUF], c[BUF], d[BUF];
	(void)state;
	master(&m, SRTP_SUITE_AES_CM_128_HMAC_SHA1_80, 3);
	struct srtp_stream *tx = ctx(&m), *rx = ctx(&m);
	srtp_set_lease_hook(hook);
	n_asked = 0;
	hook_refuses = 0;
	/* provisional: all of ROC 0; asks at the first authentic packet */
	srtp_stream_lease(rx, SRTP_PROTO_RTP, 0, 0x10000 + 128, SRTP_LEASE_PROVISIONAL, 9);
	uint32_t n = rtp(p, 30000, 0x77, 1);
	uint32_t k = srtp_protect_rtp_copy(tx, p, n, c, sizeof(c));
	memcpy(d, c, k);
	d[k - 1] ^= 1;                                          /* forged: no ask */
	uint32_t kd = k;
	assert_int_equal(srtp_unprotect_rtp(rx, d, &kd), MMR_DROP_SRTP_AUTH);
	assert_int_equal(n_asked, 0);
	assert_int_equal(srtp_unprotect_rtp(rx, c, &k), MMR_DROP_NONE);
	assert_int_equal(n_asked, 1);
	assert_int_equal(srtp_stream_lease_asked(rx, SRTP_PROTO_RTP), 30000);
	/* narrowed to where the sender is plus a window */
	srtp_stream_lease_narrow(rx, SRTP_PROTO_RTP, 30000 + 128, 128);
	assert_int_equal(srtp_stream_lease_top(rx, SRTP_PROTO_RTP), 30000);
	for (uint16_t i = 1; i < 128; i++) {
		n = rtp(p, (uint16_t)(30000 + i), 0x77, i);
		k = srtp_protect_rtp_copy(tx, p, n, c, sizeof(c));
		assert_int_equal(srtp_unprotect_rtp(rx, c, &k), MMR_DROP_NONE);
	}
	assert_int_equal(n_asked, 2);                          /* within half a window */
	n = rtp(p, 30128, 0x77, 128);
	k = srtp_protect_rtp_copy(tx, p, n, c, sizeof(c));
	memcpy(d, c, k);
	kd = k;
	assert_int_equal(srtp_unprotect_rtp(rx, c, &k), MMR_DROP_SRTP_LEASE);   /* beyond */
	srtp_stream_lease_grant(rx, SRTP_PROTO_RTP, 30128 + 128);
	assert_int_equal(srtp_unprotect_rtp(rx, d, &kd), MMR_DROP_NONE);
	/* a successor with floor 30300 (the durable limit): everything below it is a replay */
	struct srtp_stream *rx2 = ctx(&m);
	srtp_stream_lease(rx2, SRTP_PROTO_RTP, 30300, 30300 + 128, 128, 10);
	n = rtp(p, 30129, 0x77, 129);
	k = srtp_protect_rtp_copy(tx, p, n, c, sizeof(c));
	assert_int_equal(srtp_unprotect_rtp(rx2, c, &k), MMR_DROP_SRTP_REPLAY);
	for (uint16_t i = 130; i < 300; i++) {
		n = rtp(p, (uint16_t)(30000 + i), 0x77, i);
		k = srtp_protect_rtp_copy(tx, p, n, c, sizeof(c));
	}
	n = rtp(p, 30300, 0x77, 300);
	k = srtp_protect_rtp_copy(tx, p, n, c, sizeof(c));
	assert_int_equal(srtp_unprotect_rtp(rx2, c, &k), MMR_DROP_NONE);
	srtp_stream_free(tx);
	srtp_stream_free(rx);
	srtp_stream_free(rx2);
	srtp_set_lease_hook(NULL);
}

/* SRTCP out: an empty lease sends nothing; a granted one counts from its floor. */
static void test_rtcp_lease(void **state)
{
	struct srtp_master m;
	uint8_t p[BUF], c[BUF];
	(void)state;
	master(&m, SRTP_SUITE_AEAD_AES_128_GCM, 4);
	struct srtp_stream *tx = ctx(&m), *rx = ctx(&m);
	memset(p, 0, 28);
	p[0] = 0x80;
	p[1] = 200;
	p[3] = 6;
	srtp_stream_lease(tx, SRTP_PROTO_RTCP, 0, 0, 0, UINT32_MAX);
	assert_int_equal(srtp_protect_rtcp_copy(tx, p, 28, c, sizeof(c)), 0);
	assert_int_equal(srtp_protect_why(tx), MMR_DROP_SRTP_LEASE);
	srtp_stream_lease(tx, SRTP_PROTO_RTCP, 500, 510, 10, UINT32_MAX);
	uint32_t k = srtp_protect_rtcp_copy(tx, p, 28, c, sizeof(c));
	assert_true(k > 0);
	assert_int_equal(c[k - 4] & 0x7f, 0);
	assert_int_equal(c[k - 1], 500 & 0xff);             /* index 500 */
	srtp_stream_lease(rx, SRTP_PROTO_RTCP, 501, 600, 64, UINT32_MAX);
	assert_int_equal(srtp_unprotect_rtcp(rx, c, &k), MMR_DROP_SRTP_REPLAY);
	srtp_stream_free(tx);
	srtp_stream_free(rx);
}

/* ---- the randomized model --------------------------------------------------------------------- */

#define MODEL_WINDOW 256u

/* The owner, as dataplane/srtp_lease.c: a context's limit is granted only after it is durable. */
struct owner {
	char path[64];
	struct srtp_ledger *l;
	struct srtp_stream *tx;
	struct srtp_lease_id id;
	uint64_t granted;
};

static void owner_open(struct owner *o)
{
	char err[200];
	o->l = srtp_ledger_open(o->path, err, sizeof(err));
	if (!o->l)
		fail_msg("ledger: %s", err);
}

static void owner_attach(struct owner *o, const struct srtp_master *m)
{
	uint64_t floor = 0;
	o->tx = ctx(m);
	assert_int_equal(srtp_ledger_lookup(o->l, &o->id, &floor), 0);
	srtp_stream_lease(o->tx, SRTP_PROTO_RTP, floor, floor, MODEL_WINDOW, 0);
	assert_int_equal(srtp_ledger_raise(o->l, &o->id, floor + MODEL_WINDOW), 0);
	assert_int_equal(srtp_ledger_sync(o->l), 0);
	srtp_stream_lease_grant(o->tx, SRTP_PROTO_RTP, floor + MODEL_WINDOW);
}

/* The control thread's turn: maybe serve the request (the lcore asked via the hook). */
static void owner_serve(struct owner *o, int durable)
{
	uint64_t want = srtp_stream_lease_asked(o->tx, SRTP_PROTO_RTP) + MODEL_WINDOW;
	if (want <= srtp_stream_lease_limit(o->tx, SRTP_PROTO_RTP))
		return;
	assert_int_equal(srtp_ledger_raise(o->l, &o->id, want), 0);
	if (!durable)
		return;                      /* a crash comes before the sync: never granted */
	assert_int_equal(srtp_ledger_sync(o->l), 0);
	srtp_stream_lease_grant(o->tx, SRTP_PROTO_RTP, want);
}

static int model_hook(uint32_t ticket)
{
	(void)ticket;
	return 0;
}

/*
 * One run of the model: 60000 steps of copies, with restarts (a few right after a raise that was
 * never synced: a crash), rekeys, jumps, late packets and duplicates of the caller's numbering.
 * forget: the negative control, an owner that loses its ledger at every restart (the test expects
 * the oracle to catch the reuse that follows). Returns the first failure, or NULL.
 */
static const char *run_model(uint32_t seed, int forget, char *why, size_t whylen)
{
	rng_state = seed * 0x9e3779b9u;
	enum srtp_suite suite = (enum srtp_suite)(1 + seed % 3);
	struct owner o;
	const char *failed = NULL;
	memset(&o, 0, sizeof(o));
	snprintf(o.path, sizeof(o.path), "/tmp/mmr-lease-model-%d-%u", (int)getpid(), seed);
	unlink(o.path);
	owner_open(&o);
	uint8_t key_seed = (uint8_t)(seed * 10);
	struct srtp_master m;
	master(&m, suite, key_seed);
	srtp_ledger_fingerprint(&m, o.id.fp);
	o.id.ssrc = 0xabc;
	o.id.kind = SRTP_LEASE_OUT_RTP;
	owner_attach(&o, &m);
	struct srtp_stream *rx = ctx(&m);    /* the receiver: one session per key */
	uint16_t in = (uint16_t)rnd();
	uint64_t sent = 0, restarts = 0, rekeys = 0, refused = 0, max_roc = 0;
	for (int step = 0; step < 60000 && !failed; step++) {
		uint32_t r = rnd() % 10000;
		if (r < 20) {
			/* restart: the context and everything in memory go (half of the time right
			 * after a raise that was never synced: a crash) */
			if (rnd() & 1)
				owner_serve(&o, 0);
			srtp_stream_free(o.tx);
			srtp_ledger_close(o.l);
			if (forget)
				unlink(o.path);
			owner_open(&o);
			owner_attach(&o, &m);
			in = (uint16_t)rnd();            /* the selector's numbering starts anew */
			restarts++;
			continue;
		}
		if (r < 22) {
			/* rekey: the key is retired; a new one starts at 0 */
			assert_int_equal(srtp_ledger_retire(o.l, o.id.fp), 0);
			srtp_stream_free(o.tx);
			srtp_stream_free(rx);
			master(&m, suite, ++key_seed);
			srtp_ledger_fingerprint(&m, o.id.fp);
			owner_attach(&o, &m);
			rx = ctx(&m);
			rekeys++;
			continue;
		}
		if (r < 120)
			in = (uint16_t)(in + rnd() % 3000);  /* a simulcast switch or a layer cut */
		uint16_t seq = in;
		if (r < 400)
			seq = (uint16_t)(in - 1 - rnd() % 200);  /* late or duplicate */
		else
			in++;
		uint8_t p[BUF], c[BUF];
		uint32_t n = rtp(p, seq, 0xabc, (uint32_t)step);
		uint32_t k = srtp_protect_rtp_copy(o.tx, p, n, c, sizeof(c));
		owner_serve(&o, 1);
		if (!k) {
			refused++;
			continue;
		}
		/* The receiver gets every copy in order, so it is an exact oracle: its replay window
		 * holds what was sent, and an index at or below its highest that it refuses as a
		 * replay was used before (the sender never goes more than 128 back); one it cannot
		 * authenticate was sent under another ROC than it guesses (continuity lost). */
		enum mmr_drop_reason d = srtp_unprotect_rtp(rx, c, &k);
		if (d != MMR_DROP_NONE) {
			snprintf(why, whylen, "seed %u step %d: copy seq %u: %s (%s)", seed, step, seq_of(c),
				 mmr_drop_names[d], d == MMR_DROP_SRTP_REPLAY ? "index used twice" :
				 "receiver lost the ROC");
			failed = why;
		}
		uint64_t roc = srtp_stream_lease_top(rx, SRTP_PROTO_RTP) >> 16;
		if (roc > max_roc)
			max_roc = roc;
		sent++;
	}
	if (!failed) {
		assert_true(restarts > 50 && rekeys > 3 && sent > 40000 && max_roc >= 2);
		print_message("seed %u: %llu copies, %llu refused, %llu restarts, %llu rekeys, ROC up to %llu\n",
			      seed, (unsigned long long)sent, (unsigned long long)refused,
			      (unsigned long long)restarts, (unsigned long long)rekeys,
			      (unsigned long long)max_roc);
	}
	srtp_stream_free(o.tx);
	srtp_stream_free(rx);
	srtp_ledger_close(o.l);
	unlink(o.path);
	return failed;
}

static void test_model(void **state)
{
	char why[200];
	(void)state;
	srtp_set_lease_hook(model_hook);
	for (uint32_t seed = 1; seed <= 6; seed++) {
		const char *f = run_model(seed, 0, why, sizeof(why));
		if (f)
			fail_msg("%s", f);
	}
	/* negative control: an owner without a durable ledger reuses indexes, and the oracle sees it */
	for (uint32_t seed = 1; seed <= 3; seed++) {
		const char *f = run_model(seed, 1, why, sizeof(why));
		assert_non_null(f);
		print_message("negative control (ledger lost at every restart), as expected: %s\n", f);
	}
	srtp_set_lease_hook(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_protect_lease),
		cmocka_unit_test(test_protect_successor),
		cmocka_unit_test(test_unprotect_lease),
		cmocka_unit_test(test_rtcp_lease),
		cmocka_unit_test(test_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
