/*
 * dtls_bench.c - DTLS-SRTP handshakes per second on one thread (dtls_bench.h).
 */
#include "dtls_bench.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dtls_cert.h"
#include "dtls_srtp.h"

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Everything `from` has queued, into `to`; the time spent in each side added to its counter. */
static int pump(struct dtls_srtp *from, uint64_t *from_ns, struct dtls_srtp *to, uint64_t *to_ns, uint64_t ms)
{
	uint8_t buf[DTLS_MTU_MAX];
	int n, moved = 0;
	for (;;) {
		uint64_t t0 = now_ns();
		n = dtls_srtp_pop(from, buf, sizeof(buf));
		uint64_t t1 = now_ns();
		*from_ns += t1 - t0;
		if (n <= 0)
			break;
		dtls_srtp_input(to, buf, (size_t)n, ms);
		*to_ns += now_ns() - t1;
		moved++;
	}
	return moved;
}

int dtls_bench_run(double seconds, struct dtls_bench_result *r)
{
	memset(r, 0, sizeof(*r));
	struct dtls_cert *sc = dtls_cert_new(0), *cc = dtls_cert_new(0);
	struct dtls_ctx *sctx = sc ? dtls_ctx_new(sc) : NULL, *cctx = cc ? dtls_ctx_new(cc) : NULL;
	int rc = -1;
	if (!sctx || !cctx) {
		fprintf(stderr, "dtls-bench: cannot make the certificates\n");
		goto out;
	}
	struct dtls_srtp_cfg scfg = { .role = DTLS_ROLE_SERVER }, ccfg = { .role = DTLS_ROLE_CLIENT };
	memcpy(scfg.peer_fp, dtls_cert_fp(cc), DTLS_FP_LEN);
	memcpy(ccfg.peer_fp, dtls_cert_fp(sc), DTLS_FP_LEN);
	scfg.suites = ccfg.suites = (uint8_t)DTLS_SUITE_BIT(SRTP_SUITE_AEAD_AES_128_GCM);   /* a meeting's one suite */
	uint64_t server_ns = 0, client_ns = 0, t_start = now_ns(), t_end = t_start + (uint64_t)(seconds * 1e9);
	while (now_ns() < t_end || r->handshakes == 0) {
		uint64_t ms = (now_ns() - t_start) / 1000000u, t0 = now_ns();
		struct dtls_srtp *c = dtls_srtp_new(cctx, &ccfg, ms);
		uint64_t t1 = now_ns();
		struct dtls_srtp *s = dtls_srtp_new(sctx, &scfg, ms);
		uint64_t t2 = now_ns();
		client_ns += t1 - t0;
		server_ns += t2 - t1;
		if (!c || !s) {
			fprintf(stderr, "dtls-bench: cannot make a session\n");
			dtls_srtp_free(c);
			dtls_srtp_free(s);
			goto out;
		}
		for (int round = 0; round < 20; round++) {
			int moved = pump(c, &client_ns, s, &server_ns, ms) + pump(s, &server_ns, c, &client_ns, ms);
			if (dtls_srtp_state(c) == DTLS_CONNECTED && dtls_srtp_state(s) == DTLS_CONNECTED)
				break;
			if (!moved)
				break;
		}
		struct srtp_master sl, sr, cl, cr;
		t0 = now_ns();
		int sk = dtls_srtp_keys(s, &sl, &sr);
		t1 = now_ns();
		int ck = dtls_srtp_keys(c, &cl, &cr);
		t2 = now_ns();
		server_ns += t1 - t0;
		client_ns += t2 - t1;
		int ok = sk == 0 && ck == 0 && memcmp(&sl, &cr, sizeof(sl)) == 0 && memcmp(&sr, &cl, sizeof(sr)) == 0;
		r->suite = srtp_suite_name(dtls_srtp_suite(s));
		if (!ok)
			fprintf(stderr, "dtls-bench: handshake %llu: server %s (%s), client %s (%s)%s\n",
				(unsigned long long)r->handshakes, dtls_state_name(dtls_srtp_state(s)),
				dtls_srtp_detail(s), dtls_state_name(dtls_srtp_state(c)), dtls_srtp_detail(c),
				sk == 0 && ck == 0 ? ": keys differ" : "");
		explicit_bzero(&sl, sizeof(sl));
		explicit_bzero(&sr, sizeof(sr));
		explicit_bzero(&cl, sizeof(cl));
		explicit_bzero(&cr, sizeof(cr));
		t0 = now_ns();
		dtls_srtp_free(c);
		t1 = now_ns();
		dtls_srtp_free(s);
		t2 = now_ns();
		client_ns += t1 - t0;
		server_ns += t2 - t1;
		if (!ok)
			goto out;
		r->handshakes++;
	}
	double wall = (double)(now_ns() - t_start) / 1e9;
	r->pair_per_s = (double)r->handshakes / wall;
	r->server_us = (double)server_ns / 1e3 / (double)r->handshakes;
	r->client_us = (double)client_ns / 1e3 / (double)r->handshakes;
	r->server_per_s = 1e6 / r->server_us;
	rc = 0;
out:
	dtls_ctx_free(sctx);
	dtls_ctx_free(cctx);
	dtls_cert_free(sc);
	dtls_cert_free(cc);
	return rc;
}
