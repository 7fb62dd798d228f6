/*
 * dtls_peer.c - drives one lib/dtls session over a real UDP socket, for tests/integration/
 * test_dtls_srtp.py: the module against another DTLS-SRTP implementation (openssl s_client /
 * s_server, aiortc). It prints its certificate's fingerprint, runs the handshake (server: the first
 * datagram's source becomes the peer; client: to --connect), and prints the negotiated suite and
 * the exported keys; then lingers answering retransmissions until close_notify or --linger-ms.
 *
 *   dtls_peer --role server|client [--port N | --connect PORT] --peer-fp AB:CD:... [--cert PEM]
 *             [--timeout-ms N] [--linger-ms N] [--host IP] [--bind IP:PORT] [--no-close]
 *   dtls_peer --cert PEM --print-fp        (the certificate's fingerprint only; made if absent)
 *
 * --host: the server to connect to (default 127.0.0.1); --bind: the client's own address and port
 * (test_dtls_ingress.py: the port its ICE check came from), or the server's instead of --port; --no-close: no close_notify at the end
 * (the MMR's session stays connected).
 *
 * Output lines: "fingerprint FP", "port N" (server, the bound port), "suite NAME", "keying_material
 * HEX" (client_key|server_key|client_salt|server_salt, as RFC 5764 4.2 and s_client print it),
 * "local_key HEX", "local_salt HEX", "remote_key HEX", "remote_salt HEX", "closed", or "failed
 * REASON: DETAIL"; "stats ..." last. Exit 0 after a completed handshake, 1 on failure, 2 on usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dtls_cert.h"
#include "dtls_srtp.h"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void hex(const char *label, const uint8_t *p, size_t n)
{
	printf("%s ", label);
	for (size_t i = 0; i < n; i++)
		printf("%02X", p[i]);
	printf("\n");
}

static void flush_out(int fd, struct dtls_srtp *s, int connected)
{
	uint8_t buf[DTLS_MTU_MAX];
	int n;

	while ((n = dtls_srtp_pop(s, buf, sizeof(buf))) > 0)
		if (connected && send(fd, buf, (size_t)n, 0) < 0)
			perror("send");
}

static int usage(void)
{
	fprintf(stderr, "usage: dtls_peer --role server|client [--port N | --connect PORT] --peer-fp FP "
		"[--cert PEM] [--timeout-ms N] [--linger-ms N] [--host IP] [--bind IP:PORT] [--no-close]\n"
		"       dtls_peer --cert PEM --print-fp\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *role = "server", *fp_text = NULL, *cert_path = NULL;
	int port = 0, connect_port = 0;
	unsigned timeout_ms = 10000, linger_ms = 3000;
	const char *host = "127.0.0.1", *bind_to = NULL;
	int no_close = 0, print_fp = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--no-close")) {
			no_close = 1;
			continue;
		}
		if (!strcmp(a, "--print-fp")) {
			print_fp = 1;
			continue;
		}
		if (!v)
			return usage();
		if (!strcmp(a, "--role"))
			role = v;
		else if (!strcmp(a, "--port"))
			port = atoi(v);
		else if (!strcmp(a, "--connect"))
			connect_port = atoi(v);
		else if (!strcmp(a, "--peer-fp"))
			fp_text = v;
		else if (!strcmp(a, "--cert"))
			cert_path = v;
		else if (!strcmp(a, "--timeout-ms"))
			timeout_ms = (unsigned)atoi(v);
		else if (!strcmp(a, "--linger-ms"))
			linger_ms = (unsigned)atoi(v);
		else if (!strcmp(a, "--host"))
			host = v;
		else if (!strcmp(a, "--bind"))
			bind_to = v;
		else
			return usage();
		i++;
	}
	struct dtls_srtp_cfg cfg = { .handshake_timeout_ms = timeout_ms };

	if (!strcmp(role, "client"))
		cfg.role = DTLS_ROLE_CLIENT;
	else if (strcmp(role, "server"))
		return usage();
	if (!print_fp && (!fp_text || dtls_fp_parse(fp_text, cfg.peer_fp) < 0)) {
		fprintf(stderr, "dtls_peer: --peer-fp: not a sha-256 fingerprint\n");
		return 2;
	}
	if (cfg.role == DTLS_ROLE_CLIENT && !connect_port && !print_fp)
		return usage();

	struct dtls_cert *cert = NULL;

	if (cert_path) {
		cert = dtls_cert_load(cert_path);
		if (!cert && errno == ENOENT) {
			cert = dtls_cert_new(0);
			if (cert && dtls_cert_save(cert, cert_path) < 0) {
				fprintf(stderr, "dtls_peer: cannot save %s\n", cert_path);
				return 1;
			}
		}
	} else {
		cert = dtls_cert_new(0);
	}
	if (!cert) {
		fprintf(stderr, "dtls_peer: certificate: %s\n", strerror(errno));
		return 1;
	}
	struct dtls_ctx *ctx = dtls_ctx_new(cert);

	if (!ctx) {
		fprintf(stderr, "dtls_peer: context: %s\n", strerror(errno));
		return 1;
	}
	printf("fingerprint %s\n", dtls_cert_fingerprint(cert));
	dtls_cert_free(cert);
	if (print_fp) {
		dtls_ctx_free(ctx);
		return 0;
	}

	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int connected = 0;

	if (fd < 0)
		return perror("socket"), 1;
	if (cfg.role == DTLS_ROLE_SERVER) {
		sa.sin_port = htons((uint16_t)port);
		if (bind_to) {      /* --bind IP:PORT instead of 127.0.0.1:--port */
			char ip[64];
			const char *colon = strrchr(bind_to, ':');

			if (!colon || (size_t)(colon - bind_to) >= sizeof(ip))
				return usage();
			memcpy(ip, bind_to, (size_t)(colon - bind_to));
			ip[colon - bind_to] = '\0';
			sa.sin_port = htons((uint16_t)atoi(colon + 1));
			if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
				return usage();
		}
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0)
			return perror("bind"), 1;
		printf("port %u\n", ntohs(sa.sin_port));
	} else {
		if (bind_to) {
			struct sockaddr_in la = { .sin_family = AF_INET };
			char ip[64];
			const char *colon = strrchr(bind_to, ':');
			int one = 1;

			if (!colon || (size_t)(colon - bind_to) >= sizeof(ip))
				return usage();
			memcpy(ip, bind_to, (size_t)(colon - bind_to));
			ip[colon - bind_to] = '\0';
			la.sin_port = htons((uint16_t)atoi(colon + 1));
			if (inet_pton(AF_INET, ip, &la.sin_addr) != 1)
				return usage();
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			if (bind(fd, (struct sockaddr *)&la, sizeof(la)) < 0)
				return perror("bind"), 1;
		}
		if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
			return usage();
		sa.sin_port = htons((uint16_t)connect_port);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			return perror("connect"), 1;
		connected = 1;
	}
	fflush(stdout);

	struct dtls_srtp *s = dtls_srtp_new(ctx, &cfg, now_ms());

	if (!s)
		return perror("dtls_srtp_new"), 1;
	flush_out(fd, s, connected);

	uint64_t linger_end = UINT64_MAX;
	int printed = 0;

	for (;;) {
		uint64_t t = now_ms(), next = dtls_srtp_next_timer(s);
		enum dtls_state st = dtls_srtp_state(s);

		if (st == DTLS_CONNECTED && !printed) {
			struct srtp_master l, r;
			uint8_t km[2 * (SRTP_MAX_KEY + SRTP_MAX_SALT)];

			dtls_srtp_keys(s, &l, &r);
			const struct srtp_master *c = cfg.role == DTLS_ROLE_CLIENT ? &l : &r;
			const struct srtp_master *sv = cfg.role == DTLS_ROLE_CLIENT ? &r : &l;
			size_t k = c->key_len, n = c->salt_len;

			memcpy(km, c->key, k);
			memcpy(km + k, sv->key, k);
			memcpy(km + 2 * k, c->salt, n);
			memcpy(km + 2 * k + n, sv->salt, n);
			printf("suite %s\n", srtp_suite_name(dtls_srtp_suite(s)));
			hex("keying_material", km, 2 * (k + n));
			hex("local_key", l.key, l.key_len);
			hex("local_salt", l.salt, l.salt_len);
			hex("remote_key", r.key, r.key_len);
			hex("remote_salt", r.salt, r.salt_len);
			fflush(stdout);
			printed = 1;
			linger_end = t + linger_ms;
		}
		if (st == DTLS_FAILED || st == DTLS_CLOSED || t >= linger_end)
			break;
		if (next <= t) {
			dtls_srtp_on_timer(s, t);
			flush_out(fd, s, connected);
			continue;
		}
		uint64_t wait = next == UINT64_MAX ? 200 : next - t;

		if (linger_end != UINT64_MAX && linger_end - t < wait)
			wait = linger_end - t;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		if (poll(&pfd, 1, (int)(wait > 1000 ? 1000 : wait)) <= 0)
			continue;
		uint8_t buf[8192];
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);

		if (n < 0)
			continue;
		if (!connected) {   /* server: the first datagram's source is the peer */
			if (connect(fd, (struct sockaddr *)&from, fl) < 0)
				return perror("connect"), 1;
			connected = 1;
		}
		dtls_srtp_input(s, buf, (size_t)n, now_ms());
		flush_out(fd, s, connected);
	}
	enum dtls_state st = dtls_srtp_state(s);

	if (st == DTLS_FAILED)
		printf("failed %s: %s\n", dtls_fail_name(dtls_srtp_failure(s)), dtls_srtp_detail(s));
	else if (st == DTLS_CLOSED)
		printf("closed\n");
	const struct dtls_srtp_stats *ss = dtls_srtp_stats(s);

	printf("stats in %llu out %llu retransmits %llu app_data_ignored %llu not_dtls %llu\n",
	       (unsigned long long)ss->in_dgrams, (unsigned long long)ss->out_dgrams,
	       (unsigned long long)ss->retransmits, (unsigned long long)ss->app_data_ignored,
	       (unsigned long long)ss->ignored_not_dtls);
	int rc = printed ? 0 : 1;

	if (st == DTLS_CONNECTED && !no_close) {
		dtls_srtp_close(s);
		flush_out(fd, s, connected);
	}
	dtls_srtp_free(s);
	dtls_ctx_free(ctx);
	close(fd);
	return rc;
}
