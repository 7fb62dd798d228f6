/*
 * fuzz_twcc.c - libFuzzer target for transport-wide feedback (lib/rtcp/twcc.c), the publisher
 * arrival log (lib/bwe/twcc_recv.c) and the congestion controller's feedback input (lib/bwe/gcc.c).
 * The first byte picks a mode:
 *   - even: the rest is an FCI, parsed from an exact-size heap copy. Checked: the parse agrees with
 *     rtcp_check on the same FCI inside a packet; an accepted FCI has statuses base_seq + i and is
 *     rebuilt with twcc_fb_build into a packet rtcp_check accepts, whose FCI parses to the same
 *     statuses and arrival times exactly; then the statuses go to a gcc whose send log holds a
 *     packet for every other seq: refused <= n, the estimate within [min, max], and again (now
 *     duplicates).
 *   - odd: the rest is (seq step, time step) byte pairs into twcc_recv_on_pkt, with twcc_recv_build
 *     between them: every feedback packet is accepted by rtcp_check, parses, and the statuses of
 *     successive packets are contiguous.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gcc.h"
#include "rtcp.h"
#include "send_log.h"
#include "twcc.h"
#include "twcc_recv.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s\n", #c); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct twcc_status st[65536], st2[65536];
static uint8_t pkt[300000], pkt2[300000];
static struct send_log log_;
static struct gcc g;
static struct twcc_recv rx;

static void fci_mode(const uint8_t *d, uint32_t len)
{
	uint8_t *c = malloc(len ? len : 1);
	struct twcc_fb fb, fb2;
	struct rtcp_builder b;

	memcpy(c, d, len);
	int n = twcc_fb_parse(c, len, &fb, st, 65536);
	free(c);
	/* the same FCI in a packet: the check and the parse agree (after the builder's zero padding) */
	if (len >= 8 && len <= 60000) {
		rtcp_build_init(&b, pkt, sizeof(pkt));
		rtcp_build_twcc(&b, 1, 2, d, (uint16_t)len);
		uint32_t plen = rtcp_build_end(&b);
		CHECK(plen);
		int n2 = twcc_fb_parse(pkt + 12, plen - 12, &fb2, st2, 65536);
		CHECK((rtcp_check(pkt, plen, 0) == MMR_DROP_NONE) == (n2 >= 0));
		/* (no relation to n: the padding may supply missing deltas, or be too much trailing data) */
	}
	if (n < 0)
		return;
	CHECK(n == fb.status_count && n > 0);
	for (int i = 0; i < n; i++)
		CHECK(st[i].seq == (uint16_t)(fb.base_seq + i) && st[i].received <= 1);
	/* rebuild, check, parse again: the same statuses */
	fb.sender_ssrc = 7;
	fb.media_ssrc = 8;
	uint32_t plen = twcc_fb_build(pkt2, sizeof(pkt2), &fb, st, (unsigned)n);
	CHECK(plen > 0 && plen % 4 == 0);
	CHECK(rtcp_check(pkt2, plen, 0) == MMR_DROP_NONE);
	struct rtcp_iter it;
	struct rtcp_item item;
	rtcp_iter_init(&it, pkt2, plen);
	CHECK(rtcp_iter_next(&it, &item) == 1 && item.type == RTCP_ITEM_TWCC);
	CHECK(twcc_fb_parse(item.u.twcc.fci, item.u.twcc.len, &fb2, st2, 65536) == n);
	CHECK(fb2.base_seq == fb.base_seq && fb2.fb_count == fb.fb_count && fb2.ref_us == fb.ref_us);
	for (int i = 0; i < n; i++) {
		CHECK(st2[i].received == st[i].received);
		CHECK(!st[i].received || st2[i].arrival_us == st[i].arrival_us);
	}
	/* into a gcc: every other seq was sent */
	struct gcc_cfg cfg = { .start_bps = 500000, .min_bps = 30000, .max_bps = 5000000 };
	gcc_init(&g, &cfg, 0);
	send_log_init(&log_, (uint16_t)(fb.base_seq - 10));
	for (int i = 0; i < n + 10 && i < SEND_LOG_SIZE; i++) {
		uint16_t s = send_log_add(&log_, 1000u * (unsigned)i, (uint16_t)(100 + i % 1100), (uint8_t)(i % 3));
		if (i & 1)
			log_.e[s & (SEND_LOG_SIZE - 1)].flags = 0;
	}
	unsigned refused = gcc_on_twcc(&g, 1000000, &fb, st, (unsigned)n, &log_);
	CHECK(refused <= (unsigned)n);
	CHECK(gcc_target_bps(&g) >= cfg.min_bps && gcc_target_bps(&g) <= cfg.max_bps);
	uint32_t dup = g.st.dup;
	CHECK(gcc_on_twcc(&g, 1100000, &fb, st, (unsigned)n, &log_) <= (unsigned)n);
	CHECK(g.st.dup >= dup);                         /* what was used the first time is a duplicate now */
	CHECK(gcc_target_bps(&g) >= cfg.min_bps && gcc_target_bps(&g) <= cfg.max_bps);
}

static void recv_mode(const uint8_t *d, uint32_t len)
{
	uint16_t seq = (uint16_t)(len * 7919);
	uint64_t t = 1000000;
	int have = 0;
	uint16_t expect = 0;

	twcc_recv_init(&rx);
	for (uint32_t i = 0; i + 1 < len; i += 2) {
		if (d[i] == 0xff) {             /* build now */
			uint32_t plen;
			while ((plen = twcc_recv_build(&rx, pkt, 1200, 1, 2)) > 0) {
				struct rtcp_iter it;
				struct rtcp_item item;
				struct twcc_fb fb;
				CHECK(plen <= 1200 && rtcp_check(pkt, plen, 0) == MMR_DROP_NONE);
				rtcp_iter_init(&it, pkt, plen);
				CHECK(rtcp_iter_next(&it, &item) == 1 && item.type == RTCP_ITEM_TWCC);
				int n = twcc_fb_parse(item.u.twcc.fci, item.u.twcc.len, &fb, st, 65536);
				CHECK(n > 0);
				CHECK(!have || fb.base_seq == expect || rx.reset);
				have = 1;
				expect = (uint16_t)(fb.base_seq + n);
			}
			continue;
		}
		seq = (uint16_t)(seq + (int8_t)d[i]);
		t += (uint64_t)d[i + 1] * (d[i + 1] > 250 ? 100000 : 100);
		twcc_recv_on_pkt(&rx, seq, t);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 100000)
		return 0;
	if (data[0] & 1)
		recv_mode(data + 1, (uint32_t)size - 1);
	else
		fci_mode(data + 1, (uint32_t)size - 1);
	return 0;
}
