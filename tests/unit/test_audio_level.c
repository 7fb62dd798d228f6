/*
 * test_audio_level.c - unit tests of the RFC 6464 audio level reader (lib/audio/audio_level.c):
 * the one-byte and two-byte extension forms, the voice bit, other elements around it, absent
 * elements and extensions, and malformed input refused (-1, outputs untouched): elements of
 * another length, an element running past the block, an ID the form cannot carry, a packet
 * rtp_parse refuses. Inputs are exact-size heap copies so that ASan sees any over-read.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "audio_level.h"
#include "unit_util.h"

/* An RTP packet (PT 111, seq 1, ts 2, SSRC 3) with extension profile `profile` and `ext` (padded
 * to 32 bits by the caller), then 4 payload bytes. Returns the length. */
static uint32_t mk(uint8_t *p, uint16_t profile, const uint8_t *ext, uint32_t ext_len)
{
	uint32_t n = 0;

	p[n++] = 0x90;                 /* V=2, X=1 */
	p[n++] = 111;
	p[n++] = 0; p[n++] = 1;
	p[n++] = 0; p[n++] = 0; p[n++] = 0; p[n++] = 2;
	p[n++] = 0; p[n++] = 0; p[n++] = 0; p[n++] = 3;
	p[n++] = (uint8_t)(profile >> 8); p[n++] = (uint8_t)profile;
	p[n++] = (uint8_t)(ext_len / 4 >> 8); p[n++] = (uint8_t)(ext_len / 4);
	memcpy(p + n, ext, ext_len);
	n += ext_len;
	memset(p + n, 0xaa, 4);
	return n + 4;
}

static int get(const uint8_t *p, uint32_t len, uint8_t id, uint8_t *level, uint8_t *voice)
{
	uint8_t *c = heap_copy(p, len);
	int r = audio_level_get(c, len, id, level, voice);

	free(c);
	return r;
}

static void test_forms(void **state)
{
	(void)state;
	uint8_t p[128], level = 0, voice = 0;
	uint32_t len;

	/* one-byte form: id 1 (len 0 = one byte) V=1 level 42, padding, id 3 two bytes */
	static const uint8_t e1[8] = { 0x10, 0x80 | 42, 0x00, 0x31, 0xde, 0xad, 0x00, 0x00 };
	len = mk(p, 0xBEDE, e1, 8);
	assert_int_equal(get(p, len, 1, &level, &voice), 1);
	assert_int_equal(level, 42);
	assert_int_equal(voice, 1);
	assert_int_equal(get(p, len, 2, &level, &voice), 0);      /* absent */
	assert_int_equal(get(p, len, 0, &level, &voice), 0);      /* not negotiated */
	/* the same after another element, voice 0, silence */
	static const uint8_t e2b[8] = { 0x31, 0x01, 0x02, 0x50, 127, 0, 0, 0 };
	len = mk(p, 0xBEDE, e2b, 8);
	assert_int_equal(get(p, len, 5, &level, &voice), 1);
	assert_int_equal(level, 127);
	assert_int_equal(voice, 0);
	/* two-byte form (0x1000): id 200 len 1, after an empty element id 7 */
	static const uint8_t e3[8] = { 7, 0, 200, 1, 0x80 | 3, 0, 0, 0 };
	len = mk(p, 0x1000, e3, 8);
	assert_int_equal(get(p, len, 200, &level, &voice), 1);
	assert_int_equal(level, 3);
	assert_int_equal(voice, 1);
	assert_int_equal(get(p, len, 7, &level, &voice), -1);     /* empty: not one byte */
	/* no extension at all; another profile */
	len = mk(p, 0xBEDE, e1, 8);
	p[0] = 0x80;
	uint8_t q[64];
	memcpy(q, p, 12);
	memset(q + 12, 0, 8);
	assert_int_equal(get(q, 20, 1, &level, &voice), 0);
	len = mk(p, 0x1234, e1, 8);
	assert_int_equal(get(p, len, 1, &level, &voice), 0);
	/* the parsed-packet form agrees */
	len = mk(p, 0xBEDE, e1, 8);
	struct rtp_info ri;
	assert_int_equal(rtp_parse(p, len, &ri), MMR_DROP_NONE);
	level = 0;
	assert_int_equal(audio_level_find(p, &ri, 1, &level, &voice), 1);
	assert_int_equal(level, 42);
}

static void test_malformed(void **state)
{
	(void)state;
	uint8_t p[128], level = 77, voice = 1;
	uint32_t len;

	/* one-byte form, element of two bytes (len field 1) */
	static const uint8_t e1[4] = { 0x11, 0x05, 0x06, 0x00 };
	len = mk(p, 0xBEDE, e1, 4);
	assert_int_equal(get(p, len, 1, &level, &voice), -1);
	/* an element before it running past the block */
	static const uint8_t e2[4] = { 0x2f, 0x01, 0x02, 0x03 };
	len = mk(p, 0xBEDE, e2, 4);
	assert_int_equal(get(p, len, 1, &level, &voice), -1);
	/* ID 15 cannot be a one-byte element */
	static const uint8_t e3[4] = { 0x10, 0x05, 0x00, 0x00 };
	len = mk(p, 0xBEDE, e3, 4);
	assert_int_equal(get(p, len, 15, &level, &voice), -1);
	/* two-byte form, length 2 */
	static const uint8_t e4[4] = { 9, 2, 0x01, 0x02 };
	len = mk(p, 0x1000, e4, 4);
	assert_int_equal(get(p, len, 9, &level, &voice), -1);
	/* the extension header claims more than the packet has; truncated packets; version 1 */
	len = mk(p, 0xBEDE, e3, 4);
	p[15] = 40;
	assert_int_equal(get(p, len, 1, &level, &voice), -1);
	len = mk(p, 0xBEDE, e3, 4);
	for (uint32_t l = 0; l < 17; l++)
		assert_int_equal(get(p, l, 1, &level, &voice), -1);
	p[0] = 0x50;
	assert_int_equal(get(p, len, 1, &level, &voice), -1);
	/* nothing written on refusal */
	assert_int_equal(level, 77);
	assert_int_equal(voice, 1);
}

/* Random bytes: never a crash or over-read (ASan), a found level is 0-127. */
static void test_random(void **state)
{
	(void)state;
	uint8_t p[64], level, voice;

	rng_state = 777;
	for (int it = 0; it < 100000; it++) {
		uint32_t len = rnd() % 48;
		for (uint32_t i = 0; i < len; i++)
			p[i] = (uint8_t)rnd();
		if (len > 0 && (rnd() & 1))
			p[0] = (uint8_t)(0x90 | (p[0] & 0x0f));
		if (len > 14 && (rnd() & 1)) {
			p[12] = 0xBE; p[13] = 0xDE;
		}
		int r = get(p, len, (uint8_t)(1 + rnd() % 14), &level, &voice);
		assert_true(r >= -1 && r <= 1);
		if (r == 1)
			assert_true(level <= 127 && voice <= 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
