/*
 * fuzz_stun.c - libFuzzer target for the ICE-lite agent's STUN code (lib/ice/stun.c). The datagram
 * (exact-size heap copy) is parsed; a message that parses has its offsets inside it, FINGERPRINT and
 * MESSAGE-INTEGRITY are checked under a fixed password, and the success and error answers to it are
 * built and must themselves parse, carry its transaction id and verify.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stun.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s\n", #c); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t KEY[] = "q9UvYFJ5Ww8MrRC0cjPq3Bgx";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65535)
		return 0;
	uint8_t *p = malloc(size ? size : 1);
	memcpy(p, data, size);
	struct stun_msg m;
	enum stun_err e = stun_parse(p, (uint32_t)size, &m);
	CHECK(e >= STUN_OK && e < STUN_ERR_COUNT && stun_err_name(e)[0] != '?');
	if (e == STUN_OK) {
		CHECK(m.len == size);
		CHECK(!m.username_len || (uint32_t)m.username_off + m.username_len <= size);
		CHECK(!m.mi_off || (uint32_t)m.mi_off + 4 + STUN_ATTR_MI_LEN <= size);
		CHECK(!m.fp_off || (uint32_t)m.fp_off + 8 == size);
		(void)stun_fingerprint_ok(p, &m);
		(void)stun_integrity_ok(p, &m, KEY, sizeof(KEY) - 1);
		(void)stun_username_is(p, &m, "mmrU", 4);
		uint8_t out[128];
		struct stun_addr a = { .family = (uint8_t)(size & 1 ? 6 : 4), .port = (uint16_t)size };
		memcpy(a.ip, p + 4, 16);
		uint32_t n = stun_binding_success(out, sizeof(out), p, &a, KEY, sizeof(KEY) - 1);
		struct stun_msg r;
		CHECK(n && stun_parse(out, n, &r) == STUN_OK && r.type == STUN_BINDING_SUCCESS);
		CHECK(!memcmp(out + 8, p + 8, STUN_TXID_LEN));
		CHECK(stun_fingerprint_ok(out, &r) && stun_integrity_ok(out, &r, KEY, sizeof(KEY) - 1));
		n = stun_binding_error(out, sizeof(out), p, 420, m.unknown_attr, KEY, sizeof(KEY) - 1);
		CHECK(n && stun_parse(out, n, &r) == STUN_OK && r.type == STUN_BINDING_ERROR);
		CHECK(stun_fingerprint_ok(out, &r) && stun_integrity_ok(out, &r, KEY, sizeof(KEY) - 1));
	}
	free(p);
	return 0;
}
