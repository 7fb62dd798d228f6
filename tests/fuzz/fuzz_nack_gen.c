/*
 * fuzz_nack_gen.c - libFuzzer target for the uplink NACK generator (lib/repair/nack_gen.c). The
 * input is a program of two-byte steps on one stream (ext seqs from a start the first four bytes
 * give, so the 2^32 wrap is reached): packets in order with gaps of any size (the overflow path
 * included), late and duplicated packets, time steps, nack_gen_due with any RTT and any max,
 * keyframes, resets.
 * Checks after every step: the missing list is sorted, below the newest seq, at most 256 long, and
 * holds only seqs never received; a packet repairs only a listed seq; nack_gen_due returns at most
 * max seqs, in list order, each one listed before the call, never more than 10 times per seq and
 * never twice within the interval; nack_gen_next_tsc() is not after the time anything listed
 * becomes due.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <stdio.h>

#include "nack_gen.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "check failed, line %d: %s\n", __LINE__, #c); abort(); } } while (0)

#define HZ    1000000000ull
#define SPAN  (1u << 18)            /* ext seqs the input can reach from its start */

static uint8_t received[SPAN / 8];
static uint8_t asked[SPAN];
static uint64_t last_ask[SPAN];

static bool got(uint32_t i) { return received[i >> 3] >> (i & 7) & 1; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct nack_gen g;
	uint32_t base, next = 0, floor = 0, before[NACK_GEN_MAX_MISSING];
	uint64_t now = 1;
	uint16_t out[NACK_GEN_MAX_MISSING];
	size_t i;

	if (size < 4)
		return 0;
	memcpy(&base, data, 4);
	memset(received, 0, sizeof(received));
	memset(asked, 0, sizeof(asked));
	memset(last_ask, 0, sizeof(last_ask));
	nack_gen_init(&g, HZ);
	for (i = 4; i + 1 < size && next < SPAN - 1024; i += 2) {
		uint8_t op = data[i] & 7, v = data[i + 1];
		uint32_t q;
		unsigned n, nb, j, k;

		switch (op) {
		case 0: case 1: case 2:         /* in order, gap v/32 (v 255: 7 * 64 for the overflow) */
			next += (uint32_t)(v == 255 ? 448 : v >> 5);
			/* fallthrough */
		case 3:
			q = next++;
			goto feed;
		case 4:                         /* late or duplicate: v behind (since the last reset) */
			if (next == floor)
				break;
			q = next - 1 - (v % (next - floor));
feed: {
			bool was = got(q);
			bool listed = false;

			for (j = 0; j < g.n; j++)
				listed |= g.item[j].ext_seq == base + q;
			enum nack_gen_result r = nack_gen_on_seq(&g, base + q, now);
			CHECK(r != NACK_GEN_REPAIRED || listed);
			CHECK(!listed || r == NACK_GEN_REPAIRED);
			CHECK(!was || r == NACK_GEN_OLD);
			received[q >> 3] |= (uint8_t)(1u << (q & 7));
			break;
		}
		case 5:                         /* time passes: v * 0.5 ms */
			now += (uint64_t)v * 500000u;
			break;
		case 6: {                       /* due: rtt v * 2 ms (0: unknown), max 1..32 */
			uint32_t rtt_us = (uint32_t)(v >> 3) * 16000u;
			uint64_t iv = (rtt_us ? rtt_us : NACK_GEN_DEFAULT_RTT_US) * 1000ull;

			if (iv < NACK_GEN_MIN_INTERVAL_US * 1000ull)
				iv = NACK_GEN_MIN_INTERVAL_US * 1000ull;
			nb = g.n;
			for (j = 0; j < nb; j++)
				before[j] = g.item[j].ext_seq;
			unsigned max = 1 + (v & 7) * 4;
			n = nack_gen_due(&g, now, rtt_us, out, max);
			CHECK(n <= max);
			for (j = 0, k = 0; j < n; j++) {
				while (k < nb && (uint16_t)before[k] != out[j])
					k++;
				CHECK(k < nb);        /* else not listed, or out of order */
				uint32_t e = before[k++] - base;
				CHECK(e < SPAN && !got(e));
				CHECK(asked[e] < NACK_GEN_MAX_TRIES);
				CHECK(!asked[e] || now - last_ask[e] >= iv);
				asked[e]++;
				last_ask[e] = now;
			}
			/* what is left and not yet asked the maximum is due no earlier than next_tsc */
			for (j = 0; j < g.n; j++) {
				const struct nack_gen_item *it = &g.item[j];
				uint64_t at = it->tries ? it->sent_tsc + iv : it->missing_tsc + g.reorder_tsc;

				CHECK(n == max || it->tries >= NACK_GEN_MAX_TRIES || at >= g.next_tsc);
			}
			break;
		}
		case 7:
			if (v < 8) {
				/* the stream restarted: what came before is forgotten (ext seqs go on
				   above it here; late packets come from after the reset only) */
				nack_gen_reset(&g);
				next += 1;
				floor = next;
			} else if (next > floor) {
				nack_gen_keyframe(&g, base + next - 1 - (v % (next - floor)));
			}
			break;
		}
		nack_gen_hopeless(&g);
		CHECK(g.n <= NACK_GEN_MAX_MISSING);
		for (j = 0; j < g.n; j++) {
			uint32_t e = g.item[j].ext_seq - base;

			CHECK(!j || (int32_t)(g.item[j].ext_seq - g.item[j - 1].ext_seq) > 0);
			CHECK((int32_t)(g.newest - g.item[j].ext_seq) > 0);
			CHECK(e < SPAN && !got(e) && g.item[j].tries <= NACK_GEN_MAX_TRIES);
		}
	}
	return 0;
}
