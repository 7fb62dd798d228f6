/*
 * gcm_bench.h - one core's raw OpenSSL AES-128-GCM rate on SRTP-sized packets: the reference the
 * dataplane's SRTP forwarding rate is compared with (`mmr-gen --gcm-bench SECONDS`); and the cost of
 * SRTP index leases per protected packet, leased against unleased contexts in one run.
 */
#ifndef MMR_GEN_GCM_BENCH_H
#define MMR_GEN_GCM_BENCH_H

#include <stdint.h>

struct gcm_result {
	double pkts_per_s;        /* packets sealed per second */
	double ns_per_pkt;
	uint64_t pkts;
	uint32_t pkt_bytes;       /* header (authenticated) + payload (encrypted) */
};

/* Seal pkt_bytes-byte packets (12-byte header as AAD, the rest encrypted, 16-byte tag, a new IV
 * each, as SRTP AEAD does) for about `seconds` on the calling thread. 0 or -1. */
int gcm_bench_run(double seconds, uint32_t pkt_bytes, struct gcm_result *r);

/* The cost of SRTP index leases on the packet path (lib/srtp/srtp_fast.h): srtp_protect_rtp_copy of
 * pkt_bytes-byte RTP packets under AEAD_AES_128_GCM by an unleased context (what a client uses) and
 * by a leased one (what the dataplane uses: floor, limit and window checked per copy, the lease
 * never running out), in alternating slices of the same run, about `seconds` in all. 0 or -1. */
struct lease_cost {
	double unleased_ns_per_pkt;
	double leased_ns_per_pkt;
	double ratio;             /* leased / unleased */
	uint64_t pkts;            /* per variant */
};
int lease_cost_run(double seconds, uint32_t pkt_bytes, struct lease_cost *r);

#endif
