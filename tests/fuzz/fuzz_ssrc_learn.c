/*
 * fuzz_ssrc_learn.c - libFuzzer target for SSRC learning's packet side (lib/pkt/ssrc_learn.c).
 *
 * Input: bytes 0-2 the mid, rid and repaired-rid extension ids (0-255), byte 3 which needs the
 * pending table's entries still have (2 bits each), the rest an RTP packet (the header in clear,
 * the rest as if encrypted). Checks besides crashes / ASan / UBSan: ssrc_learn_header agrees with
 * rtp_parse on everything but the padding wherever rtp_parse accepts the packet, and refuses
 * exactly what rtp_parse refuses for the header's own reasons; ssrc_learn_match returns -1, 0 or 1,
 * leaves its outputs untouched unless 1, and on 1 names an entry whose mid (and rid) are the
 * packet's elements and which still has the need it reports; the rate limit allows an SSRC at most
 * once per gap and at most LEARN_LIMIT_BURST reports per window.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ssrc_learn.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static struct mmr_learn mk(uint32_t sid, uint8_t need, const char *mid, const char *rid)
{
	struct mmr_learn e;
	memset(&e, 0, sizeof(e));
	e.stream_id = sid;
	e.need = need;
	e.mid_len = (uint8_t)strlen(mid);
	e.rid_len = (uint8_t)strlen(rid);
	memcpy(e.mid, mid, e.mid_len);
	memcpy(e.rid, rid, e.rid_len);
	return e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct learn_limit lim;
	static uint64_t now;
	static uint32_t last_ssrc;
	static uint64_t last_at;
	static int have_last;

	if (size < 4 || size > 2048)
		return 0;
	struct learn_ext_ids ids = { data[0], data[1], data[2] };
	uint8_t needs = data[3];
	const uint8_t *p = data + 4;
	uint32_t len = (uint32_t)size - 4;
	uint8_t *copy = malloc(len ? len : 1);   /* exact size: ASan sees any over-read */
	if (!copy)
		return 0;
	memcpy(copy, p, len);

	struct mmr_learn tab[4] = {
		mk(1, needs & 3, "0", ""), mk(2, (needs >> 2) & 3, "1", "q"), mk(3, (needs >> 4) & 3, "1", "h"),
		mk(4, (needs >> 6) & 3, "1", "f"),
	};
	struct rtp_info a, b;
	int hr = ssrc_learn_header(copy, len, &b);
	enum mmr_drop_reason pr = rtp_parse(copy, len, &a);
	if (pr == MMR_DROP_NONE) {
		CHECK(hr == 0);
		CHECK(a.ssrc == b.ssrc && a.ext_off == b.ext_off && a.ext_len == b.ext_len && a.hdr_len == b.hdr_len &&
		      a.ext_profile == b.ext_profile && a.has_ext == b.has_ext && a.cc == b.cc);
		CHECK(b.payload_len == a.payload_len + a.pad_len);
	} else if (hr == 0) {
		CHECK(b.has_padding);     /* only the padding count can make rtp_parse refuse more */
	}
	if (hr == 0) {
		unsigned idx = 77;
		uint8_t what = 55;
		int r = ssrc_learn_match(copy, &b, &ids, tab, 4, &idx, &what);
		CHECK(r >= -1 && r <= 1);
		if (r != 1) {
			CHECK(idx == 77 && what == 55);
		} else {
			CHECK(idx < 4 && (what == MMR_LEARN_MEDIA || what == MMR_LEARN_RTX) && (tab[idx].need & what));
			uint16_t off, elen;
			CHECK(ids.mid && rtp_find_ext(copy, &b, ids.mid, &off, &elen) == 1);
			CHECK(elen == tab[idx].mid_len && memcmp(copy + off, tab[idx].mid, elen) == 0);
			uint8_t rid_id = what == MMR_LEARN_RTX ? ids.rrid : ids.rid;
			if (tab[idx].rid_len) {
				CHECK(rid_id && rtp_find_ext(copy, &b, rid_id, &off, &elen) == 1);
				CHECK(elen == tab[idx].rid_len && memcmp(copy + off, tab[idx].rid, elen) == 0);
			}
		}
		/* the rate limit on this packet's SSRC, time moving by the input */
		now += data[3] & 0x3f;
		int ok = learn_limit_allow(&lim, b.ssrc, now, 50);
		if (ok && have_last && last_ssrc == b.ssrc)
			CHECK(now - last_at >= 50 || lim.used == LEARN_LIMIT_SLOTS);
		CHECK(lim.win_n <= LEARN_LIMIT_BURST && lim.used <= LEARN_LIMIT_SLOTS);
		if (ok) {
			last_ssrc = b.ssrc;
			last_at = now;
			have_last = 1;
		}
	}
	free(copy);
	return 0;
}
