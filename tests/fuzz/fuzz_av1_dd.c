/*
 * fuzz_av1_dd.c - libFuzzer target for the AV1 Dependency Descriptor parser and writers
 * (lib/codec/av1_dd.c) and for rtp_find_ext (lib/pkt/rtp.c).
 *
 * The input is a sequence of descriptors, each a length byte then that many bytes, parsed into one
 * structure state so that structures and active decode targets carry over from one to the next.
 * Checks: verdicts in range; a refused descriptor leaves the state and the packet fields exactly as
 * they were; an accepted one gives fields within their bounds; rewriting frame_number or the
 * active decode target bitmask in a copy and parsing it again from the same state changes exactly
 * that field. Then the whole input as an RTP packet: rtp_find_ext results lie inside the
 * extension block, and a found element goes through av1_dd_parse as the dataplane would chain it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "av1_dd.h"
#include "rtp.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s\n", #c); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_fields(const struct av1_dd_structure *st, const struct media_pkt *mp,
			 uint32_t len, uint16_t dd_off)
{
	CHECK(st->valid);
	CHECK(st->n_templates >= 1 && st->n_templates <= AV1_DD_MAX_TEMPLATES);
	CHECK(st->n_dts >= 1 && st->n_dts <= AV1_MAX_DT);
	CHECK(st->n_chains <= st->n_dts);
	CHECK(st->max_sid <= AV1_DD_MAX_SPATIAL && st->max_tid <= AV1_DD_MAX_TEMPORAL);
	CHECK(mp->sid <= st->max_sid && mp->tid <= st->max_tid);
	CHECK(mp->n_fdiffs <= AV1_MAX_FDIFFS);
	for (unsigned k = 0; k < mp->n_fdiffs; k++)
		CHECK(mp->fdiff[k] >= 1);
	for (unsigned k = mp->n_fdiffs; k < AV1_MAX_FDIFFS; k++)
		CHECK(mp->fdiff[k] == 0);
	for (unsigned c = mp->n_chains; c < AV1_MAX_CHAINS; c++)
		CHECK(mp->chain_fdiff[c] == 0);
	CHECK(mp->n_dts == st->n_dts && mp->n_chains == st->n_chains);
	CHECK(mp->active_dts == st->active_dts);
	if (st->n_dts < 32) {
		CHECK(mp->dtis >> (2 * st->n_dts) == 0);
		CHECK(mp->active_dts >> st->n_dts == 0);
	}
	for (unsigned dt = 0; dt < st->n_dts; dt++)
		CHECK(st->n_chains == 0 ? mp->dt_chain[dt] == 0 : mp->dt_chain[dt] < st->n_chains);
	CHECK(mp->has_layers == 1 && mp->dd_len == len && mp->dd_off == dd_off);
	CHECK(mp->keyframe == (mp->start && mp->sid == 0 && mp->n_fdiffs == 0 && mp->structure_attached));
	CHECK(mp->template_id <= 63 && mp->start <= 1 && mp->end <= 1);
}

/* Rewrite frame_number and the bitmask in copies; parsing them from the state the original was
 * parsed from must give the same fields but that one. */
static void check_rewrites(const uint8_t *dd, uint32_t len, const struct av1_dd_structure *before,
			   const struct media_pkt *mp)
{
	static struct av1_dd_structure st2;
	struct media_pkt mp2;
	uint8_t *copy = malloc(len);
	uint32_t mask = ~mp->active_dts;

	CHECK(copy != NULL);
	memcpy(copy, dd, len);
	av1_dd_set_frame_number(copy, (uint16_t)(mp->frame_number + 1));
	st2 = *before;
	mp2 = *mp;
	CHECK(av1_dd_parse(copy, len, mp->dd_off, &st2, &mp2) == MMR_DROP_NONE);
	CHECK(mp2.frame_number == (uint16_t)(mp->frame_number + 1));
	mp2.frame_number = mp->frame_number;
	CHECK(memcmp(&mp2, mp, sizeof(mp2)) == 0);

	memcpy(copy, dd, len);
	if (av1_dd_set_active_dts(copy, len, mp->n_dts, mask) == 0) {
		uint32_t all = mp->n_dts >= 32 ? 0xffffffffu : (1u << mp->n_dts) - 1;

		st2 = *before;
		mp2 = *mp;
		CHECK(av1_dd_parse(copy, len, mp->dd_off, &st2, &mp2) == MMR_DROP_NONE);
		CHECK(mp2.active_dts == (mask & all));
		mp2.active_dts = mp->active_dts;
		CHECK(memcmp(&mp2, mp, sizeof(mp2)) == 0);
	} else {
		CHECK(memcmp(copy, dd, len) == 0);
	}
	free(copy);

	/* the bitmask rewritten or inserted: the same descriptor but for it */
	uint8_t out[AV1_DD_MAX_LEN];
	int n = av1_dd_with_active(dd, len, mp->n_dts, mask, out, sizeof(out));
	if (n > 0) {
		uint32_t all = mp->n_dts >= 32 ? 0xffffffffu : (1u << mp->n_dts) - 1;

		CHECK((uint32_t)n == len || (uint32_t)n == (len * 8 + mp->n_dts + 7) / 8);
		st2 = *before;
		mp2 = *mp;
		CHECK(av1_dd_parse(out, (uint32_t)n, mp->dd_off, &st2, &mp2) == MMR_DROP_NONE);
		CHECK(mp2.active_dts == (mask & all) && mp2.dd_active_present == 1);
		mp2.active_dts = mp->active_dts;
		mp2.dd_active_present = mp->dd_active_present;
		mp2.dd_len = mp->dd_len;
		CHECK(memcmp(&mp2, mp, sizeof(mp2)) == 0);
	}
}

/* Parse one descriptor into st from a heap buffer of its exact length. */
static void one(const uint8_t *p, uint32_t len, struct av1_dd_structure *st, uint16_t dd_off)
{
	static struct av1_dd_structure before;
	struct media_pkt mp, mp_before;
	uint8_t *dd = malloc(len ? len : 1);
	enum mmr_drop_reason r;

	CHECK(dd != NULL);
	memcpy(dd, p, len);
	before = *st;
	memset(&mp, 0x5a, sizeof(mp));
	mp_before = mp;
	r = av1_dd_parse(dd, len, dd_off, st, &mp);
	CHECK(r == MMR_DROP_NONE || r == MMR_DROP_TRUNCATED || r == MMR_DROP_BAD_PAYLOAD ||
	      r == MMR_DROP_NO_STRUCTURE);
	if (r != MMR_DROP_NONE) {
		CHECK(memcmp(st, &before, sizeof(*st)) == 0);
		CHECK(memcmp(&mp, &mp_before, sizeof(mp)) == 0);
		CHECK(r != MMR_DROP_NO_STRUCTURE || !before.valid);
	} else {
		check_fields(st, &mp, len, dd_off);
		CHECK(mp.codec == 0x5a && mp.encoding == 0x5a && mp.desc_len == 0x5a5a);
		check_rewrites(dd, len, &before, &mp);
	}
	free(dd);
}

static void check_rtp(const uint8_t *data, uint32_t len)
{
	static struct av1_dd_structure st;
	struct rtp_info ri;
	uint8_t *pkt;

	if (rtp_parse(data, len, &ri) != MMR_DROP_NONE)
		return;
	pkt = malloc(len);
	CHECK(pkt != NULL);
	memcpy(pkt, data, len);
	memset(&st, 0, sizeof(st));
	for (unsigned id = 0; id < 256; id++) {
		uint16_t off = 0, elen = 0;
		int r = rtp_find_ext(pkt, &ri, (uint8_t)id, &off, &elen);

		CHECK(r >= -1 && r <= 1);
		if (r != 1)
			continue;
		CHECK(ri.has_ext && id != 0);
		CHECK(off >= ri.ext_off && (uint32_t)off + elen <= ri.hdr_len);
		CHECK(ri.ext_profile == 0xbede ? id <= 14 && elen >= 1 && elen <= 16 :
		      (ri.ext_profile & 0xfff0) == 0x1000);
		one(pkt + off, elen, &st, off);

		/* the element's data replaced by a longer one: the others and the payload stay */
		uint8_t data2[255], *out = malloc(len + 260);
		uint32_t dlen = elen + 3u > 16u && ri.ext_profile == 0xbede ? 16u : elen + 3u;
		struct rtp_info ro;
		uint16_t off2, elen2;

		CHECK(out != NULL);
		memset(data2, 0xab, sizeof(data2));
		int n = rtp_replace_ext(pkt, len, &ri, off, elen, data2, dlen, out, len + 260);
		if (n > 0) {
			CHECK(rtp_parse(out, (uint32_t)n, &ro) == MMR_DROP_NONE);
			CHECK(ro.payload_len == ri.payload_len && ro.ext_len % 4 == 0);
			CHECK(memcmp(out + ro.hdr_len, pkt + ri.hdr_len, ri.payload_len) == 0);
			CHECK(rtp_find_ext(out, &ro, (uint8_t)id, &off2, &elen2) == 1);
			CHECK(elen2 == dlen && memcmp(out + off2, data2, dlen) == 0);
		}
		free(out);
	}
	free(pkt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct av1_dd_structure st;
	uint32_t len = size > 70000 ? 70000 : (uint32_t)size;
	uint32_t i = 0;

	memset(&st, 0, sizeof(st));
	while (i < len) {
		uint32_t n = data[i++];

		if (n > len - i)
			n = len - i;
		one(data + i, n, &st, (uint16_t)(16 + i));
		i += n;
	}
	check_rtp(data, len);
	return 0;
}
