/*
 * fuzz_rtcp.c - libFuzzer target for the RTCP check, item walk and builders (lib/rtcp/rtcp.c). The
 * first byte's bit 0 says whether compound is required; the rest is the datagram, copied into a heap
 * buffer of its exact length so that ASan sees any over-read. Checked:
 *   - the check returns one of its four reasons, and the walk agrees with it: it walks to the end
 *     with no error exactly when the check accepts (or refuses only as not compound), and otherwise
 *     stops with the check's reason;
 *   - every item: a known type, its packet type in 192..223, every pointer and length inside the
 *     datagram, counts within their fields;
 *   - an accepted datagram is rebuilt item by item with the builders (SR with its blocks, a report
 *     block as an RR, SDES CNAME, BYE, each NACK entry from its expanded numbers, PLI, FIR, REMB,
 *     TWCC, XR RRTR and DLRR, APP; XR_OTHER and OTHER have no builder and are skipped): the rebuilt
 *     datagram is accepted and walks to the same items, field by field.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtcp.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s\n", #c); abort(); } } while (0)
#define MAX_ITEMS 16400

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int inside(const uint8_t *base, uint32_t len, const uint8_t *p, uint32_t n)
{
	return p >= base && p <= base + len && n <= (uint32_t)(base + len - p);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void check_item(const struct rtcp_item *it, const uint8_t *p, uint32_t len)
{
	CHECK(it->type <= RTCP_ITEM_OTHER);
	CHECK(it->pt >= 192 && it->pt <= 223);
	CHECK(it->fmt < 32);
	switch (it->type) {
	case RTCP_ITEM_SR:
		CHECK(it->pt == RTCP_PT_SR && it->u.sr.n_rb == it->fmt);
		break;
	case RTCP_ITEM_RR:
		CHECK(it->pt == RTCP_PT_SR || it->pt == RTCP_PT_RR);
		CHECK(it->media_ssrc == it->u.rb.ssrc);
		CHECK(it->u.rb.cum_lost >= -(1 << 23) && it->u.rb.cum_lost < (1 << 23));
		break;
	case RTCP_ITEM_SDES:
		if (it->u.sdes.cname)
			CHECK(inside(p, len, it->u.sdes.cname, it->u.sdes.cname_len));
		break;
	case RTCP_ITEM_BYE:
		CHECK(it->u.bye.n_ssrcs == it->fmt);
		CHECK(inside(p, len, it->u.bye.ssrcs, 4u * it->u.bye.n_ssrcs));
		if (it->u.bye.reason)
			CHECK(inside(p, len, it->u.bye.reason, it->u.bye.reason_len));
		break;
	case RTCP_ITEM_NACK:
		CHECK(it->pt == RTCP_PT_RTPFB && it->fmt == RTCP_FMT_NACK);
		break;
	case RTCP_ITEM_PLI:
		CHECK(it->pt == RTCP_PT_PSFB && it->fmt == RTCP_FMT_PLI);
		break;
	case RTCP_ITEM_FIR:
		CHECK(it->pt == RTCP_PT_PSFB && it->fmt == RTCP_FMT_FIR && it->media_ssrc == it->u.fir.ssrc);
		break;
	case RTCP_ITEM_REMB:
		CHECK(inside(p, len, it->u.remb.ssrcs, 4u * it->u.remb.n_ssrcs));
		break;
	case RTCP_ITEM_TWCC:
		CHECK(it->u.twcc.len >= 8 && inside(p, len, it->u.twcc.fci, it->u.twcc.len));
		CHECK(it->u.twcc.status_count > 0);
		CHECK(it->u.twcc.ref_time >= -(1 << 23) && it->u.twcc.ref_time < (1 << 23));
		break;
	case RTCP_ITEM_XR_RRTR:
	case RTCP_ITEM_XR_DLRR:
		CHECK(it->pt == RTCP_PT_XR);
		break;
	case RTCP_ITEM_XR_OTHER:
		CHECK(it->pt == RTCP_PT_XR && it->u.xr.bt != RTCP_XR_RRTR && it->u.xr.bt != RTCP_XR_DLRR);
		CHECK(inside(p, len, it->u.xr.data, it->u.xr.len) && it->u.xr.len % 4 == 0);
		break;
	case RTCP_ITEM_APP:
		CHECK(it->pt == RTCP_PT_APP && inside(p, len, it->u.app.name, 4));
		CHECK(inside(p, len, it->u.app.data, it->u.app.len) && it->u.app.len % 4 == 0);
		break;
	case RTCP_ITEM_OTHER:
		CHECK(inside(p, len, it->u.other.body, it->u.other.len));
		break;
	}
}

/* Can the builders make this item again (and is it compared)? */
static int rebuildable(const struct rtcp_item *it)
{
	switch (it->type) {
	case RTCP_ITEM_SDES:
		return it->u.sdes.cname != NULL;
	case RTCP_ITEM_BYE:
		/* the builder takes a C string */
		return !it->u.bye.reason || !memchr(it->u.bye.reason, 0, it->u.bye.reason_len);
	case RTCP_ITEM_REMB:
		return it->u.remb.bitrate_bps != UINT64_MAX;     /* saturated: not representable */
	case RTCP_ITEM_XR_OTHER:
	case RTCP_ITEM_OTHER:
		return 0;
	default:
		return 1;
	}
}

static void same_item(const struct rtcp_item *a, const struct rtcp_item *b)
{
	CHECK(a->type == b->type);
	CHECK(a->sender_ssrc == b->sender_ssrc);
	CHECK(a->media_ssrc == b->media_ssrc);
	switch (a->type) {
	case RTCP_ITEM_SR:
		CHECK(a->u.sr.ntp == b->u.sr.ntp && a->u.sr.rtp_ts == b->u.sr.rtp_ts);
		CHECK(a->u.sr.pkts == b->u.sr.pkts && a->u.sr.octets == b->u.sr.octets && a->u.sr.n_rb == b->u.sr.n_rb);
		break;
	case RTCP_ITEM_RR:
		CHECK(!memcmp(&a->u.rb, &b->u.rb, sizeof(a->u.rb)));
		break;
	case RTCP_ITEM_SDES:
		CHECK(b->u.sdes.cname && a->u.sdes.cname_len == b->u.sdes.cname_len);
		CHECK(!memcmp(a->u.sdes.cname, b->u.sdes.cname, a->u.sdes.cname_len));
		break;
	case RTCP_ITEM_BYE:
		CHECK(a->u.bye.n_ssrcs == b->u.bye.n_ssrcs);
		CHECK(!memcmp(a->u.bye.ssrcs, b->u.bye.ssrcs, 4u * a->u.bye.n_ssrcs));
		CHECK(!a->u.bye.reason == !b->u.bye.reason);
		if (a->u.bye.reason)
			CHECK(a->u.bye.reason_len == b->u.bye.reason_len &&
			      !memcmp(a->u.bye.reason, b->u.bye.reason, a->u.bye.reason_len));
		break;
	case RTCP_ITEM_NACK:
		CHECK(a->u.nack.pid == b->u.nack.pid && a->u.nack.blp == b->u.nack.blp);
		break;
	case RTCP_ITEM_FIR:
		CHECK(a->u.fir.ssrc == b->u.fir.ssrc && a->u.fir.seq == b->u.fir.seq);
		break;
	case RTCP_ITEM_REMB:
		CHECK(a->u.remb.bitrate_bps == b->u.remb.bitrate_bps && a->u.remb.n_ssrcs == b->u.remb.n_ssrcs);
		CHECK(!memcmp(a->u.remb.ssrcs, b->u.remb.ssrcs, 4u * a->u.remb.n_ssrcs));
		break;
	case RTCP_ITEM_TWCC:
		CHECK(a->u.twcc.base_seq == b->u.twcc.base_seq && a->u.twcc.status_count == b->u.twcc.status_count);
		CHECK(a->u.twcc.ref_time == b->u.twcc.ref_time && a->u.twcc.fb_count == b->u.twcc.fb_count);
		CHECK(b->u.twcc.len == a->u.twcc.len);
		CHECK(!memcmp(a->u.twcc.fci, b->u.twcc.fci, a->u.twcc.len));
		break;
	case RTCP_ITEM_XR_RRTR:
		CHECK(a->u.rrtr.ntp == b->u.rrtr.ntp);
		break;
	case RTCP_ITEM_XR_DLRR:
		CHECK(a->u.dlrr.ssrc == b->u.dlrr.ssrc && a->u.dlrr.lrr == b->u.dlrr.lrr && a->u.dlrr.dlrr == b->u.dlrr.dlrr);
		break;
	case RTCP_ITEM_APP:
		CHECK(a->u.app.subtype == b->u.app.subtype && !memcmp(a->u.app.name, b->u.app.name, 4));
		CHECK(a->u.app.len == b->u.app.len && !memcmp(a->u.app.data, b->u.app.data, a->u.app.len));
		break;
	default:
		break;
	}
}

static void rebuild(const struct rtcp_item *items, unsigned n)
{
	static uint8_t out[1 << 18];
	static struct rtcp_item again[MAX_ITEMS];
	static struct rtcp_item want[MAX_ITEMS];
	struct rtcp_builder b;
	unsigned nw = 0;

	rtcp_build_init(&b, out, sizeof(out));
	for (unsigned i = 0; i < n; i++) {
		const struct rtcp_item *it = &items[i];
		if (!rebuildable(it))
			continue;
		switch (it->type) {
		case RTCP_ITEM_SR: {
			struct rtcp_report_block rb[RTCP_MAX_RB];
			unsigned k = it->u.sr.n_rb;
			CHECK(i + k < n);
			for (unsigned j = 0; j < k; j++) {
				CHECK(items[i + 1 + j].type == RTCP_ITEM_RR);
				rb[j] = items[i + 1 + j].u.rb;
			}
			rtcp_build_sr(&b, it->sender_ssrc, it->u.sr.ntp, it->u.sr.rtp_ts, it->u.sr.pkts,
				      it->u.sr.octets, rb, k);
			for (unsigned j = 0; j <= k; j++)
				want[nw++] = items[i + j];
			i += k;
			continue;
		}
		case RTCP_ITEM_RR:
			rtcp_build_rr(&b, it->sender_ssrc, &it->u.rb, 1);
			break;
		case RTCP_ITEM_SDES: {
			char cname[256];
			memcpy(cname, it->u.sdes.cname, it->u.sdes.cname_len);
			cname[it->u.sdes.cname_len] = 0;
			if (memchr(cname, 0, it->u.sdes.cname_len))
				continue;
			rtcp_build_sdes_cname(&b, it->sender_ssrc, cname);
			break;
		}
		case RTCP_ITEM_BYE: {
			uint32_t ssrcs[31];
			char reason[256];
			for (unsigned j = 0; j < it->u.bye.n_ssrcs; j++)
				ssrcs[j] = be32(it->u.bye.ssrcs + 4 * j);
			if (it->u.bye.reason) {
				memcpy(reason, it->u.bye.reason, it->u.bye.reason_len);
				reason[it->u.bye.reason_len] = 0;
			}
			rtcp_build_bye(&b, ssrcs, it->u.bye.n_ssrcs, it->u.bye.reason ? reason : NULL);
			break;
		}
		case RTCP_ITEM_NACK: {
			uint16_t seqs[17];
			unsigned k = rtcp_nack_seqs(it->u.nack.pid, it->u.nack.blp, seqs);
			rtcp_build_nack(&b, it->sender_ssrc, it->media_ssrc, seqs, k);
			break;
		}
		case RTCP_ITEM_PLI:
			rtcp_build_pli(&b, it->sender_ssrc, it->media_ssrc);
			break;
		case RTCP_ITEM_FIR:
			rtcp_build_fir(&b, it->sender_ssrc, it->u.fir.ssrc, it->u.fir.seq);
			break;
		case RTCP_ITEM_REMB: {
			uint32_t ssrcs[255];
			for (unsigned j = 0; j < it->u.remb.n_ssrcs; j++)
				ssrcs[j] = be32(it->u.remb.ssrcs + 4 * j);
			/* the builder writes media SSRC 0: compare against that */
			rtcp_build_remb(&b, it->sender_ssrc, it->u.remb.bitrate_bps, ssrcs, it->u.remb.n_ssrcs);
			want[nw] = *it;
			want[nw++].media_ssrc = 0;
			continue;
		}
		case RTCP_ITEM_TWCC:
			rtcp_build_twcc(&b, it->sender_ssrc, it->media_ssrc, it->u.twcc.fci, it->u.twcc.len);
			break;
		case RTCP_ITEM_XR_RRTR:
			rtcp_build_xr_rrtr(&b, it->sender_ssrc, it->u.rrtr.ntp);
			break;
		case RTCP_ITEM_XR_DLRR:
			rtcp_build_xr_dlrr(&b, it->sender_ssrc, it->u.dlrr.ssrc, it->u.dlrr.lrr, it->u.dlrr.dlrr);
			break;
		case RTCP_ITEM_APP:
			rtcp_build_app(&b, it->sender_ssrc, it->u.app.subtype, (const char *)it->u.app.name,
				       it->u.app.data, (uint16_t)it->u.app.len);
			break;
		default:
			continue;
		}
		want[nw++] = *it;
	}
	uint32_t len = rtcp_build_end(&b);
	if (nw == 0 || len == 0 || len > 65535)
		return;                 /* nothing to compare, or too big for one datagram */
	CHECK(rtcp_check(out, len, 0) == MMR_DROP_NONE);
	struct rtcp_iter w;
	unsigned na = 0;
	rtcp_iter_init(&w, out, len);
	while (na < MAX_ITEMS && rtcp_iter_next(&w, &again[na]))
		na++;
	CHECK(w.err == 0);
	CHECK(na == nw);
	for (unsigned i = 0; i < nw; i++)
		same_item(&want[i], &again[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rtcp_item items[MAX_ITEMS];

	if (size < 1 || size > 65536)
		return 0;
	int compound = data[0] & 1;
	uint32_t len = (uint32_t)size - 1;
	uint8_t *p = malloc(len ? len : 1);
	if (!p)
		return 0;
	memcpy(p, data + 1, len);

	enum mmr_drop_reason r = rtcp_check(p, len, compound);
	CHECK(r == MMR_DROP_NONE || r == MMR_DROP_BAD_RTCP || r == MMR_DROP_RTCP_TRUNCATED ||
	      r == MMR_DROP_RTCP_NOT_COMPOUND);
	CHECK(r != MMR_DROP_RTCP_NOT_COMPOUND || compound);

	struct rtcp_iter it;
	unsigned n = 0;
	rtcp_iter_init(&it, p, len);
	while (n < MAX_ITEMS && rtcp_iter_next(&it, &items[n])) {
		check_item(&items[n], p, len);
		n++;
	}
	CHECK(n <= len / 4);            /* at most one item per 4 bytes */
	if (r == MMR_DROP_NONE || r == MMR_DROP_RTCP_NOT_COMPOUND) {
		CHECK(it.err == 0);
		/* the same datagram without the compound rule is accepted */
		CHECK(rtcp_check(p, len, 0) == MMR_DROP_NONE);
		rebuild(items, n);
	} else if (len) {
		CHECK(it.err == r);
	}
	free(p);
	return 0;
}
