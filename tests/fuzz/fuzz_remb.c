/*
 * fuzz_remb.c - libFuzzer target for REMB (draft-alvestrand-rmcat-remb) through rtcp_check and the
 * item walk (lib/rtcp/rtcp.c), rtcp_build_remb, and gcc_on_remb (lib/bwe/gcc.c). The first byte's
 * bit 0 says whether compound is required; the rest is the datagram (exact-size heap copy). For
 * every REMB item: the SSRC list inside the datagram, the bitrate equal to mantissa x 2^exponent
 * computed independently in 128 bits and saturated at UINT64_MAX; rebuilt with rtcp_build_remb it
 * walks back to a value rounded down within 2^-17; fed to a gcc with a send log of 400 kbit/s, the
 * estimate stays in [min, max] and never rises above 1.5 x sent + 10 kbit/s (or where it was).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gcc.h"
#include "rtcp.h"
#include "send_log.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s\n", #c); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct send_log log_;
static struct gcc g;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 70000)
		return 0;
	uint32_t len = (uint32_t)size - 1;
	uint8_t *p = malloc(len ? len : 1);
	memcpy(p, data + 1, len);
	enum mmr_drop_reason r = rtcp_check(p, len, data[0] & 1);
	struct rtcp_iter it;
	struct rtcp_item item;
	struct gcc_cfg cfg = { .start_bps = 300000, .min_bps = 30000, .max_bps = 20000000 };
	uint64_t now = 2000000;

	gcc_init(&g, &cfg, 0);
	send_log_init(&log_, 0);
	for (uint64_t t = 0; t < now; t += 24000)  /* 1200 bytes every 24 ms: 400 kbit/s */
		send_log_add(&log_, t, 1200, 0);
	rtcp_iter_init(&it, p, len);
	while (rtcp_iter_next(&it, &item)) {
		if (item.type != RTCP_ITEM_REMB)
			continue;
		const uint8_t *f = item.u.remb.ssrcs - 8;      /* "REMB", num, exp/mantissa */
		CHECK(item.u.remb.ssrcs >= p + 20 && item.u.remb.ssrcs + 4u * item.u.remb.n_ssrcs <= p + len);
		CHECK(!memcmp(f, "REMB", 4) && f[4] == item.u.remb.n_ssrcs);
		uint32_t e = f[5] >> 2, m = (uint32_t)(f[5] & 3) << 16 | (uint32_t)f[6] << 8 | f[7];
		unsigned __int128 v = (unsigned __int128)m << e;
		uint64_t want = v > UINT64_MAX ? UINT64_MAX : (uint64_t)v;
		CHECK(item.u.remb.bitrate_bps == want);
		/* rebuilt */
		uint8_t buf[64];
		struct rtcp_builder b;
		struct rtcp_iter it2;
		struct rtcp_item item2;
		rtcp_build_init(&b, buf, sizeof(buf));
		rtcp_build_remb(&b, 1, want, NULL, 0);
		uint32_t blen = rtcp_build_end(&b);
		CHECK(blen == 20 && rtcp_check(buf, blen, 0) == MMR_DROP_NONE);
		rtcp_iter_init(&it2, buf, blen);
		CHECK(rtcp_iter_next(&it2, &item2) == 1 && item2.type == RTCP_ITEM_REMB);
		CHECK(item2.u.remb.bitrate_bps <= want && want - item2.u.remb.bitrate_bps <= (want >> 17));
		/* into the estimate */
		uint64_t before = gcc_target_bps(&g);
		uint64_t lim = send_log_rate_bps(&log_, now) * 3 / 2 + 10000;
		gcc_on_remb(&g, now, want, &log_);
		uint64_t t = gcc_target_bps(&g);
		CHECK(t >= cfg.min_bps && t <= cfg.max_bps);
		CHECK(t <= before || t <= lim);
		now += 1000;
	}
	CHECK(it.err == MMR_DROP_NONE || it.err == r);
	free(p);
	return 0;
}
