/*
 * test_cmd_chan.c - unit tests of the command ring's fencing (lib/contract/cmd_chan.c, segment
 * version 6):
 * cmd_chan_take_over is a compare-and-swap of the owner token, cmd_chan_push stamps the producer's
 * token and seq, and a stale producer (stopped between its load of tail and its publication) never
 * moves tail backwards. The segment is an ordinary heap copy of struct mmr_shm. Version 11 (issue
 * 12): the QoS fields and MEETING_PUT/DEL travel through a slot unchanged, and the layout's fixed
 * sizes hold (a command fits the ring slot, fields in the old structs' padding).
 * Version 12 adds per-participant counters only.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cmd_chan.h"

static struct mmr_shm *new_shm(void)
{
	struct mmr_shm *s = aligned_alloc(64, (sizeof(*s) + 63) & ~(size_t)63);
	assert_non_null(s);
	memset(s, 0, sizeof(*s));
	return s;
}

static struct cmd_chan chan_on(struct mmr_shm *s)
{
	struct cmd_chan ch;
	memset(&ch, 0, sizeof(ch));
	ch.shm = s;
	ch.size = sizeof(*s);
	return ch;
}

static void test_take_over(void **state)
{
	(void)state;
	struct mmr_shm *s = new_shm();
	struct cmd_chan a = chan_on(s), b = chan_on(s);
	assert_false(cmd_chan_owner(&a));                 /* token 0: never owned */
	assert_int_equal(cmd_chan_take_over(&a, 0), 0);
	assert_int_equal(a.token, 1);
	assert_true(cmd_chan_owner(&a));
	/* b judged the owner from a value that is no longer there: refused, nothing changed */
	assert_int_equal(cmd_chan_take_over(&b, 0), -EBUSY);
	assert_int_equal(b.token, 0);
	assert_int_equal(atomic_load(&s->owner_token), 1);
	/* b takes over from what it read now: a is fenced */
	assert_int_equal(cmd_chan_take_over(&b, atomic_load(&s->owner_token)), 0);
	assert_int_equal(b.token, 2);
	assert_true(cmd_chan_owner(&b));
	assert_false(cmd_chan_owner(&a));
	/* the token never goes back to 0 ("no owner") */
	atomic_store(&s->owner_token, UINT64_MAX);
	assert_int_equal(cmd_chan_take_over(&a, UINT64_MAX), 0);
	assert_int_equal(a.token, 1);
	free(s);
}

static void test_push_stamps(void **state)
{
	(void)state;
	struct mmr_shm *s = new_shm();
	struct cmd_chan a = chan_on(s);
	assert_int_equal(cmd_chan_take_over(&a, 0), 0);
	for (uint64_t i = 0; i < 3; i++) {
		struct mmr_cmd c = { .op = MMR_CMD_NOP };
		assert_int_equal(cmd_chan_push(&a, &c), 0);
		assert_int_equal(c.seq, i);
		assert_int_equal(c.token, a.token);
		assert_int_equal(s->ring[i].seq, i);
		assert_int_equal(s->ring[i].token, a.token);
	}
	assert_int_equal(atomic_load(&s->tail), 3);
	/* full ring: -EAGAIN, nothing written */
	atomic_store(&s->tail, MMR_CMD_RING);
	atomic_store(&s->head, 0);
	struct mmr_cmd c = { .op = MMR_CMD_NOP };
	assert_int_equal(cmd_chan_push(&a, &c), -EAGAIN);
	assert_int_equal(atomic_load(&s->tail), MMR_CMD_RING);
	free(s);
}

/* A stale producer: it loaded tail, was stopped, another producer took over and pushed. The
 * publication cmd_chan_push makes (a compare-and-swap from the tail it loaded) then fails and tail
 * stays where the new owner put it; the stale producer's next push lands after the owner's, stamped
 * with its stale token, for the dataplane to refuse. */
static void test_stale_publication(void **state)
{
	(void)state;
	struct mmr_shm *s = new_shm();
	struct cmd_chan a = chan_on(s), b = chan_on(s);
	assert_int_equal(cmd_chan_take_over(&a, 0), 0);
	struct mmr_cmd c = { .op = MMR_CMD_NOP };
	assert_int_equal(cmd_chan_push(&a, &c), 0);           /* seq 0 by a */
	uint64_t stale_tail = atomic_load(&s->tail);          /* a loads tail = 1 ... and is stopped */
	assert_int_equal(cmd_chan_take_over(&b, atomic_load(&s->owner_token)), 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(cmd_chan_push(&b, &c), 0);   /* b: seq 1..5 */
	/* a wakes: its swap from the tail it loaded fails, tail does not move back */
	uint64_t expect = stale_tail;
	assert_false(atomic_compare_exchange_strong(&s->tail, &expect, stale_tail + 1));
	assert_int_equal(atomic_load(&s->tail), 6);
	/* a's next push goes after b's, stamped with a's stale token: the dataplane refuses it */
	assert_int_equal(cmd_chan_push(&a, &c), 0);
	assert_int_equal(c.seq, 6);
	assert_int_equal(s->ring[6].token, 1);
	assert_int_not_equal(s->ring[6].token, atomic_load(&s->owner_token));
	assert_false(cmd_chan_owner(&a));
	free(s);
}

/* Issue 12: every new field of the commands, pushed and read back from the ring byte for byte; the
 * fields that replaced padding kept the structs' sizes. */
static void test_qos_fields(void **state)
{
	(void)state;
	struct mmr_shm *s = new_shm();
	struct cmd_chan a = chan_on(s);
	assert_int_equal(cmd_chan_take_over(&a, 0), 0);
	struct mmr_cmd c;
	memset(&c, 0, sizeof(c));
	c.op = MMR_CMD_PARTICIPANT_PUT;
	c.u.participant.fb = MMR_FB_NACK | MMR_FB_TWCC | MMR_FB_REMB;
	c.u.participant.twcc_ext_id = 3;
	c.u.participant.abs_ext_id = 2;
	c.u.participant.level_ext_id = 255;
	assert_int_equal(cmd_chan_push(&a, &c), 0);
	memset(&c, 0, sizeof(c));
	c.op = MMR_CMD_SUB_PUT;
	c.u.sub.id = 7;
	c.u.sub.stream_id = MMR_ID_NONE;
	c.u.sub.sel_id = 7;
	c.u.sub.priority = MMR_PRIO_PINNED;
	c.u.sub.topn_slot = MMR_TOPN_MAX;
	assert_int_equal(cmd_chan_push(&a, &c), 0);
	memset(&c, 0, sizeof(c));
	c.op = MMR_CMD_MEETING_PUT;
	c.u.meeting.meeting_id = MMR_MAX_MEETINGS - 1;
	c.u.meeting.top_n = 3;
	assert_int_equal(cmd_chan_push(&a, &c), 0);
	memset(&c, 0, sizeof(c));
	c.op = MMR_CMD_STREAM_PUT;
	c.u.stream.screen = 1;
	assert_int_equal(cmd_chan_push(&a, &c), 0);
	const struct mmr_cmd *r = cmd_chan_peek(&a);
	assert_non_null(r);
	assert_int_equal(r->u.participant.fb, MMR_FB_NACK | MMR_FB_TWCC | MMR_FB_REMB);
	assert_int_equal(r->u.participant.twcc_ext_id, 3);
	assert_int_equal(r->u.participant.abs_ext_id, 2);
	assert_int_equal(r->u.participant.level_ext_id, 255);
	cmd_chan_done(&a, r);
	r = cmd_chan_peek(&a);
	assert_int_equal(r->u.sub.topn_slot, MMR_TOPN_MAX);
	assert_int_equal(r->u.sub.priority, MMR_PRIO_PINNED);
	assert_int_equal(r->u.sub.stream_id, MMR_ID_NONE);
	cmd_chan_done(&a, r);
	r = cmd_chan_peek(&a);
	assert_int_equal(r->op, MMR_CMD_MEETING_PUT);
	assert_int_equal(r->u.meeting.meeting_id, MMR_MAX_MEETINGS - 1);
	assert_int_equal(r->u.meeting.top_n, 3);
	cmd_chan_done(&a, r);
	r = cmd_chan_peek(&a);
	assert_int_equal(r->u.stream.screen, 1);
	cmd_chan_done(&a, r);
	assert_null(cmd_chan_peek(&a));
	/* the two feedback flags are new bits of the one byte, not in the default */
	assert_int_equal(MMR_FB_ALL & (MMR_FB_TWCC | MMR_FB_REMB), MMR_FB_TWCC | MMR_FB_REMB);
	assert_int_equal(MMR_FB_DEFAULT & (MMR_FB_TWCC | MMR_FB_REMB), 0);
	assert_true(MMR_FB_ALL <= 0xff);
	assert_int_equal(sizeof(struct mmr_cmd_stream), 32);   /* screen took the old pad byte */
	assert_int_equal(sizeof(struct mmr_cmd_meeting), 8);
	assert_int_equal(MMR_SHM_VERSION, 16);   /* 14: SSRC learning (mid/rid ids, pending streams, MMR_EV_SSRC); DTLS participants, certificate fingerprint, DTLS counters; receive slots; 15: drop reason ssrc_learn_auth; 16: meeting controls (block in PARTICIPANT_PUT, drop reasons not_admitted, muted, share_denied; policed; udp_checksum, vlan, dst_mac; neighbour resolution: drop reasons, control counters) */
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_take_over),
		cmocka_unit_test(test_push_stamps),
		cmocka_unit_test(test_stale_publication),
		cmocka_unit_test(test_qos_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
