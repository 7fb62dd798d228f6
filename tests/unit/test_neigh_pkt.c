/*
 * test_neigh_pkt.c - unit tests of neighbour resolution's frames: the ARP requests and neighbour
 * solicitations lib/pkt/neigh_pkt.c builds (checked field by field, and through pkt_parse), and
 * the parse of what answers them (pkt.c: ARP replies, neighbour advertisements with and without a
 * target link-layer address option, malformed options, hop limit, every truncation).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "neigh_pkt.h"
#include "pkt.h"
#include "unit_util.h"

static const uint8_t OUR_MAC[6] = { 0x02, 0, 0, 0, 0x01, 0x02 };
static const uint8_t GW_MAC[6] = { 0x02, 0, 0, 0, 0x0a, 0x0a };
static const uint8_t OUR_IP4[4] = { 198, 51, 100, 2 };
static const uint8_t GW_IP4[4] = { 198, 51, 100, 1 };
static const uint8_t OUR_IP6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x64, [15] = 0x02 };
static const uint8_t GW_IP6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x64, [13] = 0xab, 0xcd, 0x01 };

static void test_arp_request(void **state)
{
	(void)state;
	uint8_t b[NEIGH_ARP_FRAME_LEN];
	struct pkt_info pi;
	uint32_t len = neigh_build_arp_request(b, OUR_MAC, OUR_IP4, GW_IP4, NULL);
	assert_int_equal(len, 60);
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	assert_memory_equal(b, bcast, 6);
	assert_memory_equal(b + 6, OUR_MAC, 6);
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NONE);
	assert_int_equal(pi.kind, PKT_ARP);
	assert_int_equal(pi.arp_op, 1);
	assert_memory_equal(pi.arp_sha, OUR_MAC, 6);
	assert_memory_equal(pi.arp_spa.ip, OUR_IP4, 4);
	assert_memory_equal(pi.arp_tpa.ip, GW_IP4, 4);
	/* unicast (a probe of an entry we know): to that MAC */
	len = neigh_build_arp_request(b, OUR_MAC, OUR_IP4, GW_IP4, GW_MAC);
	assert_memory_equal(b, GW_MAC, 6);
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NONE);
	assert_int_equal(pi.arp_op, 1);

	/* the gateway's reply, as the worker hands it over: op 2, sender = the gateway */
	uint8_t r[60];
	memcpy(r, b, sizeof(r));
	memcpy(r, OUR_MAC, 6);
	memcpy(r + 6, GW_MAC, 6);
	r[21] = 2;
	memcpy(r + 22, GW_MAC, 6);
	memcpy(r + 28, GW_IP4, 4);
	memcpy(r + 32, OUR_MAC, 6);
	memcpy(r + 38, OUR_IP4, 4);
	assert_int_equal(pkt_parse(r, 42, &pi), MMR_DROP_NONE);
	assert_int_equal(pi.arp_op, 2);
	assert_memory_equal(pi.arp_sha, GW_MAC, 6);
	assert_memory_equal(pi.arp_spa.ip, GW_IP4, 4);
	for (uint32_t l = 0; l < 42; l++) {
		uint8_t *c = malloc(l ? l : 1);
		memcpy(c, r, l);
		assert_int_not_equal(pkt_parse(c, l, &pi), MMR_DROP_NONE);
		free(c);
	}
	r[21] = 3;    /* RARP: not ours */
	assert_int_equal(pkt_parse(r, 42, &pi), MMR_DROP_BAD_L2);
}

static uint16_t icmp6_sum(const uint8_t *ip6, const uint8_t *icmp, uint32_t len)
{
	return pkt_fold_sum(pkt_raw_sum(icmp, len, pkt_raw_sum(ip6 + 8, 32, 0) + len + 58u));
}

static void test_ns(void **state)
{
	(void)state;
	uint8_t b[NEIGH_NS_FRAME_LEN], sn[16], mac[6];
	struct pkt_info pi;
	neigh_solicited_node(GW_IP6, sn, mac);
	static const uint8_t want_sn[16] = { 0xff, 0x02, [11] = 0x01, 0xff, 0xcd, 0x01, 0x00 };
	uint8_t want_sn2[16];
	memcpy(want_sn2, want_sn, 16);
	want_sn2[13] = GW_IP6[13];
	want_sn2[14] = GW_IP6[14];
	want_sn2[15] = GW_IP6[15];
	assert_memory_equal(sn, want_sn2, 16);
	static const uint8_t want_mac[6] = { 0x33, 0x33, 0xff, 0xab, 0xcd, 0x01 };
	assert_memory_equal(mac, want_mac, 6);

	uint32_t len = neigh_build_ns(b, OUR_MAC, OUR_IP6, GW_IP6, NULL);
	assert_int_equal(len, 86);
	assert_memory_equal(b, want_mac, 6);
	assert_memory_equal(b + 6, OUR_MAC, 6);
	assert_memory_equal(b + 14 + 24, sn, 16);
	assert_int_equal(icmp6_sum(b + 14, b + 54, 32), 0);     /* the checksum verifies */
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NONE);
	assert_int_equal(pi.kind, PKT_ICMP6_NS);
	assert_int_equal(pi.ttl, 255);
	assert_memory_equal(pi.nd_target.ip, GW_IP6, 16);
	assert_memory_equal(pi.src.ip, OUR_IP6, 16);
	assert_int_equal(b[78], 1);                              /* source link-layer address option */
	assert_int_equal(b[79], 1);
	assert_memory_equal(b + 80, OUR_MAC, 6);
	/* unicast probe: to the target itself, at the MAC we know */
	len = neigh_build_ns(b, OUR_MAC, OUR_IP6, GW_IP6, GW_MAC);
	assert_memory_equal(b, GW_MAC, 6);
	assert_memory_equal(b + 14 + 24, GW_IP6, 16);
	assert_int_equal(icmp6_sum(b + 14, b + 54, 32), 0);
}

/* A neighbour advertisement from the gateway: target GW_IP6, option target link-layer address. */
static uint32_t build_na(uint8_t *b, int with_lla)
{
	uint32_t plen = with_lla ? 32 : 24;
	memset(b, 0, 14 + 40 + plen);
	memcpy(b, OUR_MAC, 6);
	memcpy(b + 6, GW_MAC, 6);
	b[12] = 0x86;
	b[13] = 0xdd;
	uint8_t *ip = b + 14, *icmp = ip + 40;
	ip[0] = 0x60;
	ip[5] = (uint8_t)plen;
	ip[6] = 58;
	ip[7] = 255;
	memcpy(ip + 8, GW_IP6, 16);
	memcpy(ip + 24, OUR_IP6, 16);
	icmp[0] = 136;
	icmp[4] = 0x60;                 /* solicited, override */
	memcpy(icmp + 8, GW_IP6, 16);
	if (with_lla) {
		icmp[24] = 2;
		icmp[25] = 1;
		memcpy(icmp + 26, GW_MAC, 6);
	}
	uint16_t s = icmp6_sum(ip, icmp, plen);
	icmp[2] = (uint8_t)(s >> 8);
	icmp[3] = (uint8_t)s;
	return 14 + 40 + plen;
}

static void test_na(void **state)
{
	(void)state;
	uint8_t b[128];
	struct pkt_info pi;
	uint32_t len = build_na(b, 1);
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NONE);
	assert_int_equal(pi.kind, PKT_ICMP6_NA);
	assert_int_equal(pi.nd_flags, 0x60);
	assert_int_equal(pi.nd_has_lla, 1);
	assert_memory_equal(pi.arp_sha, GW_MAC, 6);
	assert_memory_equal(pi.nd_target.ip, GW_IP6, 16);
	/* without the option: parsed, no MAC */
	len = build_na(b, 0);
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NONE);
	assert_int_equal(pi.kind, PKT_ICMP6_NA);
	assert_int_equal(pi.nd_has_lla, 0);
	/* an option of length 0 (RFC 4861 4.6: malformed), one past the end */
	len = build_na(b, 1);
	b[54 + 25] = 0;
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_TRUNCATED);
	b[54 + 25] = 2;
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_TRUNCATED);
	/* another option type (e.g. 14, nonce) is skipped: no MAC */
	b[54 + 24] = 14;
	b[54 + 25] = 1;
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NONE);
	assert_int_equal(pi.nd_has_lla, 0);
	/* crossed a router (hop limit 254), or a non-zero code */
	len = build_na(b, 1);
	b[14 + 7] = 254;
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NOT_UDP);
	len = build_na(b, 1);
	b[55] = 1;
	assert_int_equal(pkt_parse(b, len, &pi), MMR_DROP_NOT_UDP);
	/* every truncation of a valid advertisement is refused, never read past */
	len = build_na(b, 1);
	for (uint32_t l = 0; l < len; l++) {
		uint8_t *c = malloc(l ? l : 1);
		memcpy(c, b, l);
		assert_int_not_equal(pkt_parse(c, l, &pi), MMR_DROP_NONE);
		free(c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arp_request),
		cmocka_unit_test(test_ns),
		cmocka_unit_test(test_na),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
