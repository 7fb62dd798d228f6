/*
 * test_event_ring.c - unit tests of the event channel from the dataplane to the controller: the
 * single-producer/single-consumer ring of lib/contract/event_ring.h (order, wrap, full ring drops
 * and counts, a producer and a consumer on two threads), and the controller's reader
 * control/events.c (values ordered by version across rings, snapshots asked at attach and after
 * drops, "unknown" until one was read whole).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include "cmd_chan.h"
#include "event_ring.h"
#include "dtls_srtp.h"
#include "mmr_types.h"
#include "unit_util.h"

/* the controller's reader, built into this test (its log goes nowhere) */
#include "../../control/events.c"

static unsigned n_logged;
void ctl_log(const char *fmt, ...)
{
	(void)fmt;
	n_logged++;
}

static struct mmr_ev_ring *ring_new(void)
{
	struct mmr_ev_ring *r = aligned_alloc(64, sizeof(*r));
	assert_non_null(r);
	memset(r, 0, sizeof(*r));
	return r;
}

static void test_order_and_wrap(void **state)
{
	(void)state;
	struct mmr_ev_ring *r = ring_new();
	struct ev_producer p;
	ev_producer_init(&p, r);
	struct mmr_event out[300];
	uint32_t next_in = 1, next_out = 1;
	rng_state = 12345;
	/* bursts of random sizes, about 20 times round the ring: slots are reused in order */
	while (next_in < 20 * MMR_EV_RING) {
		unsigned k = 1 + rnd() % 300;
		for (unsigned i = 0; i < k; i++, next_in++)
			assert_int_equal(ev_push(&p, MMR_EV_LAYERS, next_in, next_in * 3u, next_in ^ 0x5a5a5a5au), 1);
		unsigned n;
		while ((n = ev_pop_burst(r, out, 1 + rnd() % 300)) > 0) {
			for (unsigned i = 0; i < n; i++, next_out++) {
				assert_int_equal(out[i].type, MMR_EV_LAYERS);
				assert_int_equal(out[i].flags, 0);
				assert_int_equal(out[i].id, next_out);
				assert_int_equal(out[i].v0, next_out * 3u);
				assert_int_equal(out[i].v1, next_out ^ 0x5a5a5a5au);
			}
		}
	}
	assert_int_equal(next_in, next_out);
	assert_int_equal(atomic_load(&r->dropped), 0);
	assert_int_equal(atomic_load(&r->head), atomic_load(&r->tail));
	assert_int_equal(atomic_load(&r->tail), next_in - 1);
	free(r);
}

static void test_full(void **state)
{
	(void)state;
	struct mmr_ev_ring *r = ring_new();
	struct ev_producer p;
	ev_producer_init(&p, r);
	for (uint32_t i = 0; i < MMR_EV_RING; i++)
		assert_int_equal(ev_push(&p, MMR_EV_LAYERS, i, i, 1), 1);
	/* full: dropped and counted, nothing overwritten */
	assert_int_equal(ev_room(&p), 0);
	assert_int_equal(ev_push(&p, MMR_EV_LAYERS, 999999, 0, 1), 0);
	assert_int_equal(ev_push(&p, MMR_EV_LAYERS, 999998, 0, 1), 0);
	assert_int_equal(atomic_load(&r->dropped), 2);
	assert_int_equal(atomic_load(&r->tail), MMR_EV_RING);
	struct mmr_event e;
	assert_int_equal(ev_pop_burst(r, &e, 1), 1);
	assert_int_equal(e.id, 0);
	/* one slot free again: the producer sees it (its cached head is refreshed) */
	assert_int_equal(ev_push(&p, MMR_EV_LAYERS, MMR_EV_RING, 0, 1), 1);
	assert_int_equal(ev_push(&p, MMR_EV_LAYERS, 999997, 0, 1), 0);
	assert_int_equal(atomic_load(&r->dropped), 3);
	struct mmr_event *all = calloc(MMR_EV_RING, sizeof(*all));
	assert_non_null(all);
	assert_int_equal(ev_pop_burst(r, all, MMR_EV_RING), MMR_EV_RING);
	for (uint32_t i = 0; i < MMR_EV_RING; i++)
		assert_int_equal(all[i].id, i + 1);
	assert_int_equal(ev_pop_burst(r, all, MMR_EV_RING), 0);
	/* a producer that takes over a ring (its positions and drop count stay) */
	struct ev_producer p2;
	ev_producer_init(&p2, r);
	assert_int_equal(p2.tail, MMR_EV_RING + 1);
	assert_int_equal(p2.dropped, 3);
	assert_int_equal(ev_push(&p2, MMR_EV_LAYERS, 7, 0, 1), 1);
	assert_int_equal(ev_pop_burst(r, all, 4), 1);
	assert_int_equal(all[0].id, 7);
	free(all);
	free(r);
}

/* Two threads: what the consumer reads is what the producer wrote, in order; with a producer that
 * never waits (and a consumer that starts late), some events were dropped and what was read plus
 * what was dropped is everything. */
#define THREAD_EVENTS 2000000u
_Static_assert(THREAD_EVENTS > MMR_EV_RING, "the dropping test needs more events than a ring holds");

struct thread_arg {
	struct mmr_ev_ring *r;
	int wait_for_room;
	uint64_t pushed;
};

static void *producer_main(void *v)
{
	struct thread_arg *a = v;
	struct ev_producer p;
	ev_producer_init(&p, a->r);
	for (uint32_t i = 1; i <= THREAD_EVENTS; i++) {
		if (a->wait_for_room)
			while (!ev_room(&p))
				;
		a->pushed += (uint64_t)ev_push(&p, MMR_EV_LAYERS, i, ~i, i * 7u);
	}
	return NULL;
}

static void run_threads(int wait_for_room)
{
	struct thread_arg a = { .r = ring_new(), .wait_for_room = wait_for_room };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, producer_main, &a), 0);
	/* a producer that never waits is made to outrun the consumer: nothing is read until it found
	 * the ring full (it fills MMR_EV_RING < THREAD_EVENTS slots, then drops), so drops are certain */
	if (!wait_for_room)
		while (atomic_load(&a.r->dropped) == 0)
			;
	static struct mmr_event buf[512];
	uint64_t got = 0;
	uint32_t last = 0;
	int bad = 0;
	for (;;) {
		unsigned n = ev_pop_burst(a.r, buf, 1 + (unsigned)(got % 511));
		for (unsigned i = 0; i < n; i++) {
			if (buf[i].id <= last || buf[i].v0 != ~buf[i].id || buf[i].v1 != buf[i].id * 7u)
				bad++;
			last = buf[i].id;
		}
		got += n;
		if (last == THREAD_EVENTS || (n == 0 && got + atomic_load(&a.r->dropped) == THREAD_EVENTS))
			break;
	}
	pthread_join(t, NULL);
	got += ev_pop_burst(a.r, buf, 512);
	assert_int_equal(bad, 0);
	assert_int_equal(got, a.pushed);
	assert_int_equal(got + atomic_load(&a.r->dropped), THREAD_EVENTS);
	if (wait_for_room)
		assert_int_equal(got, THREAD_EVENTS);
	else
		assert_true(atomic_load(&a.r->dropped) > 0);
	free(a.r);
}

static void test_threads_lossless(void **state)
{
	(void)state;
	run_threads(1);
}

static void test_threads_dropping(void **state)
{
	(void)state;
	run_threads(0);
}

static void test_pack_and_versions(void **state)
{
	(void)state;
	uint32_t v = mmr_layers_pack(1, 2, 31, 2, 3);
	assert_int_equal(MMR_LAYERS_STARTED(v), 1);
	assert_int_equal(MMR_LAYERS_ENCODING(v), 2);
	assert_int_equal(MMR_LAYERS_DT(v), 31);
	assert_int_equal(MMR_LAYERS_SID(v), 2);
	assert_int_equal(MMR_LAYERS_TID(v), 3);
	assert_int_equal(mmr_layers_pack(0, 0, 0, 0, 0), 0);
	assert_true(mmr_ev_version_ge(5, 5));
	assert_true(mmr_ev_version_ge(6, 5));
	assert_false(mmr_ev_version_ge(4, 5));
	assert_true(mmr_ev_version_ge(2, 0xfffffffeu));    /* across the wrap */
	assert_false(mmr_ev_version_ge(0xfffffffeu, 2));
}

/* ---- the controller's reader (control/events.c) -------------------------------------------- */

static struct mmr_shm *shm_new(void)
{
	struct mmr_shm *s = aligned_alloc(64, (sizeof(struct mmr_shm) + 63) & ~(size_t)63);
	assert_non_null(s);
	memset(s, 0, sizeof(*s));
	return s;
}

/* the dataplane's side of a snapshot: everything in words[] (by sel_id), then done */
static void serve_snapshot(struct mmr_shm *s, struct ev_producer *ctl, const uint64_t *words, uint32_t n)
{
	uint64_t req = atomic_load(&s->ev_snap_req);
	for (uint32_t i = 0; i < n; i++)
		if (words[i])
			assert_int_equal(ev_push(ctl, MMR_EV_LAYERS, i, (uint32_t)words[i], (uint32_t)(words[i] >> 32)), 1);
	atomic_store(&s->ev_snap_done, req);
}

/* MMR_EV_DTLS (version 14): state, reason and suite packed and read back; the names the controller
 * shows; lib/dtls's reason words are the contract's */
static void test_dtls_pack(void **state)
{
	(void)state;
	uint32_t v = mmr_dtls_pack(MMR_DTLS_FAILED, MMR_DTLS_FAIL_FINGERPRINT, 3);
	assert_int_equal(MMR_DTLS_STATE(v), MMR_DTLS_FAILED);
	assert_int_equal(MMR_DTLS_FAIL(v), MMR_DTLS_FAIL_FINGERPRINT);
	assert_int_equal(MMR_DTLS_SUITE(v), 3);
	v = mmr_dtls_pack(MMR_DTLS_CONNECTED, 0, 1);
	assert_int_equal(MMR_DTLS_STATE(v), MMR_DTLS_CONNECTED);
	assert_int_equal(MMR_DTLS_FAIL(v), 0);
	assert_int_equal(MMR_DTLS_SUITE(v), 1);
	assert_string_equal(mmr_dtls_state_name(MMR_DTLS_WAITING), "waiting");
	assert_string_equal(mmr_dtls_state_name(MMR_DTLS__STATES), "?");
	assert_string_equal(mmr_dtls_fail_name(MMR_DTLS_FAIL_KEYS), "keys");
	assert_string_equal(mmr_dtls_fail_name(MMR_DTLS__FAILS), "?");
	for (unsigned f = 0; f < DTLS_FAIL_COUNT; f++)
		assert_string_equal(mmr_dtls_fail_name(f), dtls_fail_name((enum dtls_fail)f));
}

static void test_reader(void **state)
{
	(void)state;
	struct mmr_shm *s = shm_new();
	struct ctl_events e;
	struct ev_producer w0, w1, ctl;
	ev_producer_init(&w0, &s->events[0]);
	ev_producer_init(&w1, &s->events[1]);
	ev_producer_init(&ctl, &s->events[MMR_EV_RING_CTL]);
	assert_int_equal(events_init(&e), 0);
	uint32_t v;

	/* attach: a snapshot is asked for; until it was read whole nothing is known */
	events_attach(&e, s);
	assert_int_equal(atomic_load(&s->ev_snap_req), 1);
	assert_true(events_waiting(&e));
	ev_push(&w0, MMR_EV_LAYERS, 10, mmr_layers_pack(1, 0, 0, 0, 1), 4);
	events_drain(&e, s);
	assert_false(events_layers(&e, 10, &v));
	uint64_t words[16] = { 0 };
	words[10] = (uint64_t)3 << 32 | mmr_layers_pack(1, 0, 0, 0, 0);   /* older than the worker's */
	words[11] = (uint64_t)1 << 32;                                     /* created, nothing yet */
	serve_snapshot(s, &ctl, words, 16);
	assert_int_equal(events_drain(&e, s), 2);
	assert_false(events_waiting(&e));
	assert_true(events_layers(&e, 10, &v));
	assert_int_equal(v, mmr_layers_pack(1, 0, 0, 0, 1));   /* the snapshot's older value lost */
	assert_int_equal(e.stale, 1);
	assert_true(events_layers(&e, 11, &v));
	assert_int_equal(v, 0);
	assert_false(events_layers(&e, 12, &v));                 /* never told */

	/* the newest version wins whatever ring it came on and in whatever order they are read */
	ev_push(&w1, MMR_EV_LAYERS, 11, mmr_layers_pack(1, 1, 0, 0, 0), 3);
	ev_push(&w0, MMR_EV_LAYERS, 11, mmr_layers_pack(1, 0, 0, 0, 0), 2);
	events_drain(&e, s);
	assert_true(events_layers(&e, 11, &v));
	assert_int_equal(v, mmr_layers_pack(1, 1, 0, 0, 0));
	/* an id created again continues its versions: the re-creation's "nothing yet" replaces it */
	ev_push(&ctl, MMR_EV_LAYERS, 11, 0, 4);
	events_drain(&e, s);
	assert_true(events_layers(&e, 11, &v));
	assert_int_equal(v, 0);

	/* bad events change nothing */
	ev_push(&w0, 77, 11, 1, 9);
	ev_push(&w0, MMR_EV_LAYERS, MMR_MAX_SUBS, 1, 9);
	ev_push(&w0, MMR_EV_LAYERS, 11, 1, 0);
	events_drain(&e, s);
	assert_int_equal(e.bad, 3);
	assert_true(events_layers(&e, 11, &v));
	assert_int_equal(v, 0);

	/* a ring that dropped: a new snapshot is asked for, the values held stay shown meanwhile */
	for (uint32_t i = 0; i < MMR_EV_RING; i++)
		ev_push(&w1, MMR_EV_LAYERS, 12, mmr_layers_pack(1, 0, 0, 0, i & 3), 10 + i);
	assert_int_equal(ev_push(&w1, MMR_EV_LAYERS, 12, mmr_layers_pack(1, 2, 0, 0, 2), 10 + MMR_EV_RING), 0);
	unsigned logged = n_logged;
	events_drain(&e, s);
	assert_int_equal(e.lost, 1);
	assert_int_equal(n_logged, logged + 1);
	assert_int_equal(atomic_load(&s->ev_snap_req), 2);
	assert_true(events_waiting(&e));
	assert_true(events_layers(&e, 12, &v));
	assert_int_equal(v, mmr_layers_pack(1, 0, 0, 0, (MMR_EV_RING - 1) & 3));
	words[12] = (uint64_t)(10 + MMR_EV_RING) << 32 | mmr_layers_pack(1, 2, 0, 0, 2);
	words[10] = 0;
	words[11] = (uint64_t)4 << 32;
	serve_snapshot(s, &ctl, words, 16);
	events_drain(&e, s);
	assert_false(events_waiting(&e));
	assert_true(events_layers(&e, 12, &v));
	assert_int_equal(v, mmr_layers_pack(1, 2, 0, 0, 2));

	/* a new dataplane (its versions start again): an attach forgets everything */
	struct mmr_shm *s2 = shm_new();
	struct ev_producer ctl2;
	ev_producer_init(&ctl2, &s2->events[MMR_EV_RING_CTL]);
	events_attach(&e, s2);
	assert_false(events_layers(&e, 12, &v));
	memset(words, 0, sizeof(words));
	words[12] = (uint64_t)1 << 32;
	serve_snapshot(s2, &ctl2, words, 16);
	events_drain(&e, s2);
	assert_true(events_layers(&e, 12, &v));
	assert_int_equal(v, 0);                 /* version 1 < the old 10 + MMR_EV_RING: taken all the same */
	assert_false(events_layers(&e, 10, &v));

	events_free(&e);
	free(s);
	free(s2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_wrap),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_threads_lossless),
		cmocka_unit_test(test_threads_dropping),
		cmocka_unit_test(test_pack_and_versions),
		cmocka_unit_test(test_reader),
		cmocka_unit_test(test_dtls_pack),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
