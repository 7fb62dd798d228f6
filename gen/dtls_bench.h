/*
 * dtls_bench.h - the slow path's DTLS-SRTP handshake rate (`mmr-gen --dtls-bench SECONDS`): full
 * handshakes between a lib/dtls server session (what the dataplane's DTLS thread runs per browser)
 * and a lib/dtls client session, in memory on the calling thread, datagrams handed across directly.
 * The server side's time (its session made, every datagram it takes, its timers, its flights
 * popped, its keys exported, freed) is measured apart: that is the DTLS thread's cost per join.
 */
#ifndef MMR_GEN_DTLS_BENCH_H
#define MMR_GEN_DTLS_BENCH_H

#include <stdint.h>

struct dtls_bench_result {
	uint64_t handshakes;            /* completed (both sides connected, keys equal) */
	double pair_per_s;              /* handshakes per second of the thread, both sides */
	double server_per_s;            /* 1 / the server side's time per handshake */
	double server_us, client_us;    /* each side's time per handshake */
	const char *suite;              /* negotiated */
};

/* Handshakes for about `seconds` (ECDSA P-256 certificates, one per side, made before). 0, or -1
 * (a handshake failed or the keys did not match; a reason on stderr). */
int dtls_bench_run(double seconds, struct dtls_bench_result *r);

#endif
