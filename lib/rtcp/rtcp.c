/*
 * rtcp.c - RTCP check, item walk and builders (rtcp.h). First stub: the API compiles, the code follows.
 */
#include <string.h>
#include "rtcp.h"

enum mmr_drop_reason rtcp_check(const uint8_t *p, uint32_t len, int require_compound)
{
	(void)p; (void)require_compound;
	return len ? MMR_DROP_BAD_RTCP : MMR_DROP_RTCP_TRUNCATED;
}
void rtcp_iter_init(struct rtcp_iter *it, const uint8_t *p, uint32_t len)
{
	memset(it, 0, sizeof(*it)); it->p = p; it->len = len;
}
int rtcp_iter_next(struct rtcp_iter *it, struct rtcp_item *item) { (void)it; (void)item; return 0; }
unsigned rtcp_nack_seqs(uint16_t pid, uint16_t blp, uint16_t seqs[17])
{
	unsigned n = 0;
	seqs[n++] = pid;
	for (unsigned i = 0; i < 16; i++)
		if (blp & (1u << i))
			seqs[n++] = (uint16_t)(pid + i + 1);
	return n;
}
void rtcp_build_init(struct rtcp_builder *b, uint8_t *buf, uint32_t cap) { b->buf = buf; b->cap = cap; b->len = 0; b->overflow = 0; }
void rtcp_build_sr(struct rtcp_builder *b, uint32_t ssrc, uint64_t ntp, uint32_t rtp_ts, uint32_t pkts,
		   uint32_t octets, const struct rtcp_report_block *rb, unsigned n)
{ (void)b; (void)ssrc; (void)ntp; (void)rtp_ts; (void)pkts; (void)octets; (void)rb; (void)n; }
void rtcp_build_rr(struct rtcp_builder *b, uint32_t ssrc, const struct rtcp_report_block *rb, unsigned n)
{ (void)b; (void)ssrc; (void)rb; (void)n; }
void rtcp_build_sdes_cname(struct rtcp_builder *b, uint32_t ssrc, const char *cname) { (void)b; (void)ssrc; (void)cname; }
void rtcp_build_bye(struct rtcp_builder *b, const uint32_t *ssrcs, unsigned n, const char *reason)
{ (void)b; (void)ssrcs; (void)n; (void)reason; }
void rtcp_build_nack(struct rtcp_builder *b, uint32_t sender, uint32_t media, const uint16_t *seqs, unsigned n)
{ (void)b; (void)sender; (void)media; (void)seqs; (void)n; }
void rtcp_build_pli(struct rtcp_builder *b, uint32_t sender, uint32_t media) { (void)b; (void)sender; (void)media; }
void rtcp_build_fir(struct rtcp_builder *b, uint32_t sender, uint32_t media, uint8_t seq)
{ (void)b; (void)sender; (void)media; (void)seq; }
void rtcp_build_fir_n(struct rtcp_builder *b, uint32_t sender, const uint32_t *ssrcs, const uint8_t *seqs, unsigned n)
{ (void)b; (void)sender; (void)ssrcs; (void)seqs; (void)n; }
void rtcp_build_remb(struct rtcp_builder *b, uint32_t sender, uint64_t bitrate_bps, const uint32_t *ssrcs, unsigned n)
{ (void)b; (void)sender; (void)bitrate_bps; (void)ssrcs; (void)n; }
void rtcp_build_twcc(struct rtcp_builder *b, uint32_t sender, uint32_t media, const uint8_t *fci, uint16_t len)
{ (void)b; (void)sender; (void)media; (void)fci; (void)len; }
void rtcp_build_xr_rrtr(struct rtcp_builder *b, uint32_t ssrc, uint64_t ntp) { (void)b; (void)ssrc; (void)ntp; }
void rtcp_build_xr_dlrr(struct rtcp_builder *b, uint32_t ssrc, uint32_t sub_ssrc, uint32_t lrr, uint32_t dlrr)
{ (void)b; (void)ssrc; (void)sub_ssrc; (void)lrr; (void)dlrr; }
void rtcp_build_xr(struct rtcp_builder *b, uint32_t ssrc, const uint64_t *rrtr_ntp, const struct rtcp_dlrr_block *dlrr, unsigned n)
{ (void)b; (void)ssrc; (void)rrtr_ntp; (void)dlrr; (void)n; }
void rtcp_build_app(struct rtcp_builder *b, uint32_t ssrc, uint8_t subtype, const char name[4], const uint8_t *data, uint16_t len)
{ (void)b; (void)ssrc; (void)subtype; (void)name; (void)data; (void)len; }
void rtcp_build_pad_last(struct rtcp_builder *b, unsigned pad_bytes) { (void)b; (void)pad_bytes; }
uint32_t rtcp_build_end(struct rtcp_builder *b) { return b->overflow ? 0 : b->len; }
