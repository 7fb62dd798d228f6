/*
 * test_pkt_ring.c - unit tests of the retransmission ring (lib/repair/pkt_ring.c): sizes, put/get by
 * extended seq, the evicted pointer handed back, evicted and never-stored seqs giving NULL, a
 * duplicate or too-old put handing back the new packet, take, drain, the 2^32 wrap of ext seqs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pkt_ring.h"

/* Fake packets: pointers into an array, so the seq a pointer stands for is known. */
static char pk[4096];
#define P(i) ((void *)&pk[(i) % 4096])

static struct pkt_ring *ring_new(uint32_t n)
{
	size_t sz = pkt_ring_size(n);
	struct pkt_ring *r;

	assert_true(sz > 0);
	r = malloc(sz);
	assert_non_null(r);
	memset(r, 0xa5, sz);                      /* init must not rely on zeroed memory */
	assert_int_equal(pkt_ring_init(r, n), 0);
	return r;
}

static void test_sizes(void **state)
{
	(void)state;
	struct pkt_ring r;

	assert_int_equal(pkt_ring_size(0), 0);
	assert_int_equal(pkt_ring_size(3), 0);
	assert_int_equal(pkt_ring_size(PKT_RING_MAX * 2), 0);
	assert_int_equal(pkt_ring_size(1), sizeof(struct pkt_ring) + sizeof(struct pkt_ring_slot));
	assert_int_equal(pkt_ring_size(512), sizeof(struct pkt_ring) + 512 * sizeof(struct pkt_ring_slot));
	assert_int_equal(pkt_ring_init(&r, 100), -1);
	assert_int_equal(sizeof(struct pkt_ring_slot), 24);
}

static void test_put_get_evict(void **state)
{
	(void)state;
	struct pkt_ring *r = ring_new(512);
	uint64_t tsc;

	assert_null(pkt_ring_get(r, 0, NULL));
	for (uint32_t s = 1000; s < 1000 + 2048; s++) {
		void *ev = pkt_ring_put(r, P(s), s, s * 10ull);

		if (s < 1000 + 512)
			assert_null(ev);
		else
			assert_ptr_equal(ev, P(s - 512));   /* exactly the one 512 older */
	}
	assert_int_equal(r->count, 512);
	for (uint32_t s = 0; s < 5000; s++) {
		void *p = pkt_ring_get(r, s, &tsc);

		if (s >= 1000 + 2048 - 512 && s < 1000 + 2048) {
			assert_ptr_equal(p, P(s));
			assert_int_equal(tsc, s * 10ull);
		} else {
			assert_null(p);                     /* evicted or never stored */
		}
	}
	/* a duplicate and a too-old packet come back to the caller; nothing changes */
	uint32_t top = 1000 + 2047;
	char dup;
	assert_ptr_equal(pkt_ring_put(r, &dup, top, 1), &dup);
	assert_ptr_equal(pkt_ring_get(r, top, &tsc), P(top));
	assert_int_equal(tsc, top * 10ull);
	assert_ptr_equal(pkt_ring_put(r, &dup, top - 512, 1), &dup);
	assert_ptr_equal(pkt_ring_get(r, top, NULL), P(top));
	assert_null(pkt_ring_get(r, top - 512, NULL));
	assert_int_equal(r->count, 512);
	/* a gap: slots keep older packets until their seq comes round */
	assert_ptr_equal(pkt_ring_put(r, P(1), top + 100, 5), P(top + 100 - 512));
	assert_ptr_equal(pkt_ring_get(r, top + 1, NULL), NULL);
	assert_ptr_equal(pkt_ring_get(r, top - 1, NULL), P(top - 1));
	free(r);
}

static int released;
static void release(void *pkt, void *arg)
{
	(void)pkt;
	assert_ptr_equal(arg, &released);
	released++;
}

static void test_take_drain_wrap(void **state)
{
	(void)state;
	struct pkt_ring *r = ring_new(8);

	for (uint32_t s = 0xfffffffcu; s != 4; s++)
		assert_null(pkt_ring_put(r, P(s & 0xff), s, 0));
	assert_int_equal(r->count, 8);
	assert_ptr_equal(pkt_ring_get(r, 0xffffffffu, NULL), P(0xff));
	assert_ptr_equal(pkt_ring_get(r, 3, NULL), P(3));
	/* newer than 0xffffffff across the wrap: evicts it */
	assert_ptr_equal(pkt_ring_put(r, P(7), 7, 0), P(0xff));
	/* older across the wrap than what the slot holds: refused */
	char x;
	assert_ptr_equal(pkt_ring_put(r, &x, 0xfffffffdu - 8, 0), &x);
	assert_ptr_equal(pkt_ring_take(r, 3), P(3));
	assert_null(pkt_ring_take(r, 3));
	assert_null(pkt_ring_get(r, 3, NULL));
	assert_null(pkt_ring_take(r, 11));
	assert_int_equal(r->count, 7);
	released = 0;
	pkt_ring_drain(r, release, &released);
	assert_int_equal(released, 7);
	assert_int_equal(r->count, 0);
	assert_null(pkt_ring_get(r, 7, NULL));
	/* usable after a drain */
	assert_null(pkt_ring_put(r, P(9), 9, 0));
	assert_ptr_equal(pkt_ring_get(r, 9, NULL), P(9));
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_put_get_evict),
		cmocka_unit_test(test_take_drain_wrap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
