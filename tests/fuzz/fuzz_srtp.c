/*
 * fuzz_srtp.c - libFuzzer target for the SRTP/SRTCP packet path (lib/srtp/srtp_fast.c) with a fixed
 * master key per suite. The first byte picks the suite (bits 0-1) and a mode (bits 2-4); the rest
 * is the packet, copied into a heap buffer of its exact length so that ASan sees any over-read.
 *   raw SRTP / raw SRTCP: unprotect the bytes; the result is a drop reason of the three allowed, a
 *     dropped packet is unchanged, an accepted packet shrinks by exactly the trailer (SRTP: and
 *     srtp_verify_rtp_new, run first on the same fresh context, gives the same verdict and writes
 *     nothing: a fresh context's first packet is at ROC 0 too) (the fuzzer
 *     cannot forge tags, so this mostly exercises header parsing, length checks and the replay
 *     window in front of them);
 *   round trip SRTP / SRTCP: protect the bytes (a malformed header may be refused), unprotect them
 *     with a second context of the same key: accepted and identical to the input; the same packet
 *     with one bit flipped (position from the input) fails authentication and is left unchanged
 *     (SRTP: srtp_verify_rtp_new refuses it and passes the original, writing neither);
 *     a second copy is a replay;
 *   sequence: every two bytes are a sequence number; each makes a small RTP packet that is
 *     protected and delivered in order: the sender's and the receiver's ROC guesses never part
 *     (no authentication failure), an accepted packet decrypts to what was sent.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srtp_fast.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s\n", #c); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const enum srtp_suite suites[4] = {
	SRTP_SUITE_AEAD_AES_128_GCM, SRTP_SUITE_AEAD_AES_256_GCM, SRTP_SUITE_AES_CM_128_HMAC_SHA1_80,
	SRTP_SUITE_AEAD_AES_128_GCM,
};

static struct srtp_keys *keys_for(enum srtp_suite s)
{
	static struct srtp_keys *k[4];
	struct srtp_master m;

	if (k[s])
		return k[s];
	memset(&m, 0, sizeof(m));
	m.suite = (uint8_t)s;
	m.key_len = (uint8_t)srtp_suite_key_len(s);
	m.salt_len = (uint8_t)srtp_suite_salt_len(s);
	for (int i = 0; i < m.key_len; i++)
		m.key[i] = (uint8_t)(0x11 * i + s);
	for (int i = 0; i < m.salt_len; i++)
		m.salt[i] = (uint8_t)(0xa5 ^ i);
	k[s] = srtp_keys_new(&m);
	CHECK(k[s] != NULL);
	return k[s];
}

static uint32_t trailer_len(enum srtp_suite s, int rtcp)
{
	uint32_t tag = s == SRTP_SUITE_AES_CM_128_HMAC_SHA1_80 ? 10 : 16;

	return rtcp ? tag + 4 : tag;
}

static enum mmr_drop_reason unprotect(struct srtp_stream *st, int rtcp, uint8_t *p, uint32_t *len)
{
	return rtcp ? srtp_unprotect_rtcp(st, p, len) : srtp_unprotect_rtp(st, p, len);
}

static void raw(enum srtp_suite s, int rtcp, const uint8_t *data, uint32_t len)
{
	struct srtp_stream *rx = srtp_stream_new(keys_for(s));
	uint8_t *p = malloc(len ? len : 1);
	uint32_t l = len;
	enum mmr_drop_reason r;

	CHECK(rx && p);
	memcpy(p, data, len);
	enum mmr_drop_reason v = rtcp ? MMR_DROP_NONE : srtp_verify_rtp_new(rx, p, len);
	CHECK(memcmp(p, data, len) == 0);
	r = unprotect(rx, rtcp, p, &l);
	if (!rtcp)
		CHECK(v == (r == MMR_DROP_NONE ? MMR_DROP_NONE : MMR_DROP_SRTP_AUTH));
	CHECK(r == MMR_DROP_NONE || r == MMR_DROP_SRTP_AUTH || r == MMR_DROP_SRTP_REPLAY);
	if (r == MMR_DROP_NONE)
		CHECK(l + trailer_len(s, rtcp) == len);
	else
		CHECK(l == len && memcmp(p, data, len) == 0);
	free(p);
	srtp_stream_free(rx);
}

static void round_trip(enum srtp_suite s, int rtcp, const uint8_t *data, uint32_t len)
{
	struct srtp_stream *tx = srtp_stream_new(keys_for(s)), *rx = srtp_stream_new(keys_for(s));
	uint32_t cap = len + SRTCP_MAX_TRAILER, n, l, flip;
	uint8_t *prot = malloc(cap), *p;

	CHECK(tx && rx && prot);
	n = rtcp ? srtp_protect_rtcp_copy(tx, data, len, prot, cap)
		 : srtp_protect_rtp_copy(tx, data, len, prot, cap);
	if (n == 0)
		goto out;
	CHECK(n == len + trailer_len(s, rtcp));
	CHECK(memcmp(prot, data, rtcp ? 8 : 12) == 0);    /* the fixed header stays in the clear */

	/* One bit flipped somewhere: authentication fails and the state is unchanged. */
	p = malloc(n);
	CHECK(p);
	memcpy(p, prot, n);
	flip = len >= 4 ? (data[1] << 16 | data[2] << 8 | data[3]) % (n * 8) : 0;
	p[flip / 8] ^= (uint8_t)(1u << (flip % 8));
	l = n;
	CHECK(unprotect(rx, rtcp, p, &l) == MMR_DROP_SRTP_AUTH);
	CHECK(l == n);
	p[flip / 8] ^= (uint8_t)(1u << (flip % 8));
	CHECK(memcmp(p, prot, n) == 0);                  /* a dropped packet is left as it was */

	if (!rtcp) {     /* verify only: the flipped one fails, the genuine one passes, neither written */
		p[flip / 8] ^= (uint8_t)(1u << (flip % 8));
		CHECK(srtp_verify_rtp_new(rx, p, n) == MMR_DROP_SRTP_AUTH);
		p[flip / 8] ^= (uint8_t)(1u << (flip % 8));
		CHECK(srtp_verify_rtp_new(rx, p, n) == MMR_DROP_NONE);
		CHECK(memcmp(p, prot, n) == 0);
	}
	memcpy(p, prot, n);
	l = n;
	CHECK(unprotect(rx, rtcp, p, &l) == MMR_DROP_NONE);
	CHECK(l == len && memcmp(p, data, len) == 0);
	memcpy(p, prot, n);
	l = n;
	CHECK(unprotect(rx, rtcp, p, &l) == MMR_DROP_SRTP_REPLAY);
	free(p);
out:
	free(prot);
	srtp_stream_free(tx);
	srtp_stream_free(rx);
}

static void sequence(enum srtp_suite s, const uint8_t *data, uint32_t len)
{
	struct srtp_stream *tx = srtp_stream_new(keys_for(s)), *rx = srtp_stream_new(keys_for(s));
	uint8_t pkt[64], prot[64 + SRTP_MAX_TRAILER];

	CHECK(tx && rx);
	for (uint32_t i = 0; i + 1 < len; i += 2) {
		uint32_t n, l = 12 + 20;
		enum mmr_drop_reason r;

		memset(pkt, (int)i, sizeof(pkt));
		pkt[0] = 0x80;
		pkt[1] = 111;
		pkt[2] = data[i];
		pkt[3] = data[i + 1];
		memcpy(pkt + 8, "\x12\x34\x56\x78", 4);
		n = srtp_protect_rtp_copy(tx, pkt, l, prot, sizeof(prot));
		if (n == 0)             /* refused: would be ROC -1 (before the first packet) */
			continue;
		CHECK(n == l + trailer_len(s, 0));
		r = srtp_unprotect_rtp(rx, prot, &n);
		CHECK(r == MMR_DROP_NONE || r == MMR_DROP_SRTP_REPLAY);
		if (r == MMR_DROP_NONE)
			CHECK(n == l && memcmp(prot, pkt, l) == 0);
	}
	srtp_stream_free(tx);
	srtp_stream_free(rx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum srtp_suite s;
	uint32_t len;

	if (size < 1 || size > 4096)
		return 0;
	s = suites[data[0] & 3];
	len = (uint32_t)size - 1;
	switch ((data[0] >> 2) & 7) {
	case 0:
	case 5:
		raw(s, 0, data + 1, len);
		break;
	case 1:
	case 6:
		raw(s, 1, data + 1, len);
		break;
	case 2:
		round_trip(s, 0, data + 1, len);
		break;
	case 3:
		round_trip(s, 1, data + 1, len);
		break;
	default:
		sequence(s, data + 1, len);
		break;
	}
	return 0;
}
