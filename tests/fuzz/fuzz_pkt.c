/*
 * fuzz_pkt.c - libFuzzer target for the frame parser (lib/pkt/pkt.c). Any byte string is a frame; the
 * parser must not read outside it (ASan), must not hit undefined behaviour (UBSan), and when it
 * accepts a frame every offset it reports must lie inside the frame. Also runs the checksum
 * helpers over the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkt.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s\n", #c); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkt_info pi;
	uint32_t len = size > UINT32_MAX ? UINT32_MAX : (uint32_t)size;
	enum mmr_drop_reason r = pkt_parse(data, len, &pi);

	CHECK(r < MMR_DROP__COUNT);
	if (r == MMR_DROP_NONE) {
		static const struct pkt_l2_filter f = { .mac = { 2, 0, 0, 0, 1, 2 }, .vlan = 100, .has_ipv6 = 1 };
		enum mmr_drop_reason l2 = pkt_l2_check(data, &pi, &f, 0, 0);
		CHECK(l2 == MMR_DROP_NONE || l2 == MMR_DROP_VLAN || l2 == MMR_DROP_DST_MAC);
		CHECK(pi.n_vlans <= 2);
		CHECK(pi.l3_off == 14 + 4u * pi.n_vlans);
		switch (pi.kind) {
		case PKT_UDP:
			CHECK(pi.ip_version == 4 || pi.ip_version == 6);
			CHECK(pi.l4_off >= pi.l3_off + 20);
			CHECK(pi.payload_off == pi.l4_off + 8);
			CHECK((uint32_t)pi.payload_off + pi.payload_len <= len);
			CHECK(pi.src.family == pi.ip_version && pi.dst.family == pi.ip_version);
			r = pkt_udp_csum_check(data, &pi);
			CHECK(r == MMR_DROP_NONE || r == MMR_DROP_UDP_CHECKSUM);
			break;
		case PKT_ICMP_ECHO:
			CHECK((uint32_t)pi.l4_off + 8 <= len);
			break;
		case PKT_ICMP6_NS:
			CHECK(pi.ip_version == 6 && pi.ttl == 255);
			CHECK((uint32_t)pi.l4_off + 24 <= len);
			CHECK(pi.nd_target.family == MMR_AF_INET6);
			break;
		case PKT_ARP:
			CHECK(pi.arp_op == 1 || pi.arp_op == 2);
			CHECK((uint32_t)pi.l3_off + 28 <= len);
			break;
		default:
			CHECK(!"unknown kind");
		}
		if (pi.ip_version == 4) {
			/* an accepted IPv4 header verifies */
			uint32_t hlen = (uint32_t)(data[pi.l3_off] & 0x0f) * 4;

			CHECK(pkt_fold_sum(pkt_raw_sum(data + pi.l3_off, hlen, 0)) == 0);
		}
	}
	(void)pkt_fold_sum(pkt_raw_sum(data, len, (uint32_t)size));
	return 0;
}
