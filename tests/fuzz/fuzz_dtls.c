/*
 * fuzz_dtls.c - libFuzzer target for the DTLS-SRTP sessions (lib/dtls/dtls_srtp.c): arbitrary
 * datagrams into a session of either role, with time steps and timers between them. Input: byte 0
 * picks the role (bit 0: client) and the MTU (bit 1: DTLS_MTU_MIN); then records of [time step in
 * 10 ms units (1 byte)][length (2 bytes, big-endian)][datagram] until the input ends. Checks besides
 * crashes, ASan and UBSan: every datagram out within the MTU; a state from the enum; keys only after
 * a completed handshake, never with a failure reason; timers only while handshaking; the counters
 * add up (handed to OpenSSL + ignored = fed). One identity and context for the whole run.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtls_cert.h"
#include "dtls_srtp.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s\n", #c); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dtls_ctx *ctx;
static uint8_t peer_fp[DTLS_FP_LEN];

static void drain(struct dtls_srtp *s, unsigned mtu)
{
	uint8_t buf[DTLS_MTU_MAX];
	int n;

	while ((n = dtls_srtp_pop(s, buf, sizeof(buf))) > 0)
		CHECK((unsigned)n <= mtu);
	CHECK(n == 0);
}

static void invariants(struct dtls_srtp *s)
{
	enum dtls_state st = dtls_srtp_state(s);
	struct srtp_master l, r;
	int k = dtls_srtp_keys(s, &l, &r);

	CHECK(st >= DTLS_HANDSHAKING && st <= DTLS_FAILED);
	CHECK(dtls_fail_name(dtls_srtp_failure(s))[0] != '?');
	if (st == DTLS_HANDSHAKING || st == DTLS_FAILED)
		CHECK(k == -EAGAIN && dtls_srtp_suite(s) == SRTP_SUITE_NONE);
	if (st == DTLS_CONNECTED)
		CHECK(k == 0 && l.key_len == srtp_suite_key_len(dtls_srtp_suite(s)));
	CHECK((st == DTLS_FAILED) == (dtls_srtp_failure(s) != DTLS_FAIL_NONE));
	if (st != DTLS_HANDSHAKING)
		CHECK(dtls_srtp_next_timer(s) == UINT64_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ctx) {
		struct dtls_cert *c = dtls_cert_new(0);

		CHECK(c);
		ctx = dtls_ctx_new(c);
		CHECK(ctx);
		dtls_cert_free(c);
		memset(peer_fp, 0xab, sizeof(peer_fp));
	}
	if (size < 1)
		return 0;
	struct dtls_srtp_cfg cfg = {
		.role = (data[0] & 1) ? DTLS_ROLE_CLIENT : DTLS_ROLE_SERVER,
		.mtu = (data[0] & 2) ? DTLS_MTU_MIN : 0,
	};
	unsigned mtu = cfg.mtu ? cfg.mtu : DTLS_MTU_DEFAULT;
	uint64_t now = 1000;
	uint64_t fed = 0;

	memcpy(cfg.peer_fp, peer_fp, sizeof(peer_fp));
	struct dtls_srtp *s = dtls_srtp_new(ctx, &cfg, now);

	CHECK(s);
	drain(s, mtu);
	size_t off = 1;

	while (off + 3 <= size) {
		now += (uint64_t)data[off] * 10;
		size_t len = (size_t)data[off + 1] << 8 | data[off + 2];

		off += 3;
		if (len > size - off)
			len = size - off;
		uint8_t *d = malloc(len ? len : 1);   /* exact size: ASan sees reads past it */

		memcpy(d, data + off, len);
		off += len;
		if (dtls_srtp_next_timer(s) <= now)
			dtls_srtp_on_timer(s, now);
		drain(s, mtu);
		dtls_srtp_input(s, d, len, now);
		fed++;
		free(d);
		drain(s, mtu);
		invariants(s);
	}
	const struct dtls_srtp_stats *st = dtls_srtp_stats(s);

	CHECK(st->in_dgrams + st->ignored_not_dtls + st->ignored_too_big + st->ignored_rate +
	      st->ignored_ended == fed);
	dtls_srtp_on_timer(s, now + 60000);   /* past any deadline */
	invariants(s);
	CHECK(dtls_srtp_state(s) != DTLS_HANDSHAKING);
	drain(s, mtu);
	dtls_srtp_free(s);
	return 0;
}
