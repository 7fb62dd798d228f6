/*
 * gcm_bench.h - one core's raw OpenSSL AES-128-GCM rate on SRTP-sized packets: the reference the
 * dataplane's SRTP forwarding rate is compared with (`mmr-gen --gcm-bench SECONDS`).
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

#endif
