/*
 * test_dtls_srtp.c - unit tests of lib/dtls: the certificate (fingerprint text, PEM save and load,
 * validity), fingerprint parsing, and two sessions of the module against each other in memory
 * (client and server roles): the handshake completes, both export the same keys mirrored (local of
 * one = remote of the other), the suite is the server's preferred common one; every datagram
 * within the MTU (also a 576-byte MTU that fragments the certificate flight); a wrong fingerprint
 * either way fails with `fingerprint`; garbage, every truncation of a ClientHello and a flood do not
 * crash, are ignored or counted, and a real handshake still completes after them; a lost flight
 * (the server's first, then its last) recovered by the retransmission timer; the handshake
 * deadline; close_notify; key wiping on free is not observable here (see dtls_srtp_free).
 * The interop test against OpenSSL's s_client/s_server is tests/integration/test_dtls_srtp.py.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "dtls_cert.h"
#include "dtls_srtp.h"
#include "unit_util.h"

static struct dtls_cert *cert_a, *cert_b;   /* server, client */
static struct dtls_ctx *ctx_a, *ctx_b;

static uint64_t real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int setup(void **state)
{
	(void)state;
	cert_a = dtls_cert_new(0);
	cert_b = dtls_cert_new(0);
	ctx_a = cert_a ? dtls_ctx_new(cert_a) : NULL;
	ctx_b = cert_b ? dtls_ctx_new(cert_b) : NULL;
	return ctx_a && ctx_b ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	dtls_ctx_free(ctx_a);
	dtls_ctx_free(ctx_b);
	dtls_cert_free(cert_a);
	dtls_cert_free(cert_b);
	return 0;
}

/* ---- fingerprints and certificates ------------------------------------------------------------ */

static void test_fp_parse(void **state)
{
	(void)state;
	uint8_t fp[DTLS_FP_LEN], back[DTLS_FP_LEN];
	char text[DTLS_FP_TEXT_LEN + 1], buf[160];

	for (int i = 0; i < DTLS_FP_LEN; i++)
		fp[i] = (uint8_t)(i * 37 + 5);
	dtls_fp_format(fp, text);
	assert_int_equal(strlen(text), DTLS_FP_TEXT_LEN);
	assert_int_equal(dtls_fp_parse(text, back), 0);
	assert_memory_equal(fp, back, DTLS_FP_LEN);
	snprintf(buf, sizeof(buf), "sha-256 %s\r\n", text);
	assert_int_equal(dtls_fp_parse(buf, back), 0);
	assert_memory_equal(fp, back, DTLS_FP_LEN);
	snprintf(buf, sizeof(buf), "SHA-256 %s", text);
	for (char *p = buf + 8; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'F' ? *p + 32 : *p);
	assert_int_equal(dtls_fp_parse(buf, back), 0);
	assert_memory_equal(fp, back, DTLS_FP_LEN);

	assert_int_equal(dtls_fp_parse("", back), -EINVAL);
	snprintf(buf, sizeof(buf), "sha-1 %s", text);
	assert_int_equal(dtls_fp_parse(buf, back), -EINVAL);
	snprintf(buf, sizeof(buf), "sha-256%s", text);               /* no separator */
	assert_int_equal(dtls_fp_parse(buf, back), -EINVAL);
	snprintf(buf, sizeof(buf), "%.*s", DTLS_FP_TEXT_LEN - 3, text); /* 31 pairs */
	assert_int_equal(dtls_fp_parse(buf, back), -EINVAL);
	snprintf(buf, sizeof(buf), "%s:AB", text);                    /* 33 pairs */
	assert_int_equal(dtls_fp_parse(buf, back), -EINVAL);
	snprintf(buf, sizeof(buf), "%s x", text);                     /* junk after */
	assert_int_equal(dtls_fp_parse(buf, back), -EINVAL);
	snprintf(buf, sizeof(buf), "%s", text);
	buf[2] = '-';                                                   /* separator */
	assert_int_equal(dtls_fp_parse(buf, back), -EINVAL);
	snprintf(buf, sizeof(buf), "%s", text);
	buf[4] = 'G';                                                   /* not hex */
	assert_int_equal(dtls_fp_parse(buf, back), -EINVAL);
	assert_memory_equal(fp, back, DTLS_FP_LEN);                     /* untouched on error */
}

static void test_cert(void **state)
{
	(void)state;
	uint8_t fp[DTLS_FP_LEN];
	char path[] = "/tmp/test_dtls_srtp_XXXXXX";
	int fd = mkstemp(path);
	struct stat st;

	assert_true(fd >= 0);
	close(fd);
	/* fingerprint text = SHA-256 of the DER, formatted */
	assert_int_equal(dtls_fp_of_x509(dtls_cert_x509(cert_a), fp), 0);
	assert_memory_equal(fp, dtls_cert_fp(cert_a), DTLS_FP_LEN);
	assert_int_equal(dtls_fp_parse(dtls_cert_fingerprint(cert_a), fp), 0);
	assert_memory_equal(fp, dtls_cert_fp(cert_a), DTLS_FP_LEN);
	assert_memory_not_equal(dtls_cert_fp(cert_a), dtls_cert_fp(cert_b), DTLS_FP_LEN);
	/* 30 days (+ the hour of skew allowance), self-signed, P-256, different CNs and serials */
	X509 *x = dtls_cert_x509(cert_a);
	int days, secs;

	assert_int_equal(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), X509_get0_notAfter(x)), 1);
	assert_int_equal(days, 30);
	assert_int_equal(secs, 3600);
	assert_int_equal(X509_check_issued(x, x), X509_V_OK);
	assert_int_equal(EVP_PKEY_get_bits(dtls_cert_pkey(cert_a)), 256);
	assert_int_not_equal(X509_NAME_cmp(X509_get_subject_name(x),
					   X509_get_subject_name(dtls_cert_x509(cert_b))), 0);
	assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(x),
					      X509_get0_serialNumber(dtls_cert_x509(cert_b))), 0);
	/* save (0600) and load back the same identity */
	assert_int_equal(dtls_cert_save(cert_a, path), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	struct dtls_cert *c = dtls_cert_load(path);

	assert_non_null(c);
	assert_string_equal(dtls_cert_fingerprint(c), dtls_cert_fingerprint(cert_a));
	dtls_cert_free(c);
	/* refusals: garbage, a missing file, a key with another's certificate */
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs("-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n", f);
	fclose(f);
	errno = 0;
	assert_null(dtls_cert_load(path));
	assert_int_equal(errno, EINVAL);
	f = fopen(path, "w");
	assert_non_null(f);
	PEM_write_PrivateKey(f, dtls_cert_pkey(cert_a), NULL, NULL, 0, NULL, NULL);
	PEM_write_X509(f, dtls_cert_x509(cert_b));
	fclose(f);
	errno = 0;
	assert_null(dtls_cert_load(path));
	assert_int_equal(errno, EINVAL);
	unlink(path);
	errno = 0;
	assert_null(dtls_cert_load(path));
	assert_int_equal(errno, ENOENT);
}

/* ---- two sessions in memory ------------------------------------------------------------------- */

struct pair {
	struct dtls_srtp *srv, *cli;
	unsigned max_len;          /* the longest datagram seen */
	unsigned moved;
	int drop_srv_flight;       /* drop the server's next N datagram batches */
	int drop_srv_last;         /* drop what the server sends once it is connected, once */
};

static struct dtls_srtp_cfg cfg_of(enum dtls_role role, const struct dtls_cert *peer)
{
	struct dtls_srtp_cfg cfg = { .role = role };

	memcpy(cfg.peer_fp, dtls_cert_fp(peer), DTLS_FP_LEN);
	return cfg;
}

/* Move every queued datagram from one to the other; returns how many. */
static unsigned move(struct pair *p, struct dtls_srtp *from, struct dtls_srtp *to, uint64_t now, int drop)
{
	uint8_t buf[DTLS_MTU_MAX];
	unsigned n = 0;
	int len;

	while ((len = dtls_srtp_pop(from, buf, sizeof(buf))) > 0) {
		if ((unsigned)len > p->max_len)
			p->max_len = (unsigned)len;
		n++;
		if (!drop)
			dtls_srtp_input(to, buf, (size_t)len, now);
	}
	assert_int_equal(len, 0);
	p->moved += n;
	return n;
}

static int ended(struct dtls_srtp *s)
{
	return dtls_srtp_state(s) != DTLS_HANDSHAKING;
}

/* Pump both ways until neither has anything to say and both ended (or rounds run out); timers on
 * the real clock (OpenSSL measures retransmission intervals on it). */
static void pump(struct pair *p, int max_ms)
{
	uint64_t end = real_ms() + (uint64_t)max_ms;

	while (real_ms() < end) {
		uint64_t now = real_ms();
		unsigned n = move(p, p->cli, p->srv, now, 0);
		int connected_before = dtls_srtp_state(p->srv) == DTLS_CONNECTED;
		int drop = 0;

		if (p->drop_srv_flight > 0 && dtls_srtp_state(p->srv) == DTLS_HANDSHAKING)
			drop = 1;
		if (p->drop_srv_last && connected_before)
			drop = 1;
		unsigned m = move(p, p->srv, p->cli, now, drop);

		if (drop && m) {
			if (p->drop_srv_flight > 0)
				p->drop_srv_flight--;
			else
				p->drop_srv_last = 0;
		}
		if (n + m)
			continue;
		if (ended(p->srv) && ended(p->cli))
			return;
		dtls_srtp_on_timer(p->cli, now);
		dtls_srtp_on_timer(p->srv, now);
		usleep(2000);
	}
}

static void new_pair(struct pair *p, struct dtls_srtp_cfg *scfg, struct dtls_srtp_cfg *ccfg)
{
	uint64_t now = real_ms();

	memset(p, 0, sizeof(*p));
	p->srv = dtls_srtp_new(ctx_a, scfg, now);
	p->cli = dtls_srtp_new(ctx_b, ccfg, now);
	assert_non_null(p->srv);
	assert_non_null(p->cli);
}

static void free_pair(struct pair *p)
{
	dtls_srtp_free(p->srv);
	dtls_srtp_free(p->cli);
}

static void assert_mirrored(struct pair *p, enum srtp_suite suite)
{
	struct srtp_master sl, sr, cl, cr;

	assert_int_equal(dtls_srtp_state(p->srv), DTLS_CONNECTED);
	assert_int_equal(dtls_srtp_state(p->cli), DTLS_CONNECTED);
	assert_int_equal(dtls_srtp_suite(p->srv), suite);
	assert_int_equal(dtls_srtp_suite(p->cli), suite);
	assert_int_equal(dtls_srtp_keys(p->srv, &sl, &sr), 0);
	assert_int_equal(dtls_srtp_keys(p->cli, &cl, &cr), 0);
	assert_memory_equal(&sl, &cr, sizeof(sl));
	assert_memory_equal(&sr, &cl, sizeof(sr));
	assert_int_equal(sl.suite, suite);
	assert_int_equal(sl.key_len, srtp_suite_key_len(suite));
	assert_int_equal(sl.salt_len, srtp_suite_salt_len(suite));
	assert_memory_not_equal(sl.key, sr.key, sl.key_len);
	assert_memory_not_equal(sl.salt, sr.salt, sl.salt_len);
	/* the keys go where SDES keys go: through the inline text and back */
	char text[80];
	struct srtp_master back;

	assert_true(srtp_master_to_inline(&sl, text, sizeof(text)) > 0);
	assert_int_equal(srtp_master_from_inline(suite, text, &back), 0);
	assert_memory_equal(&back, &sl, sizeof(sl));
}

static void test_handshake(void **state)
{
	(void)state;
	struct dtls_srtp_cfg s = cfg_of(DTLS_ROLE_SERVER, cert_b), c = cfg_of(DTLS_ROLE_CLIENT, cert_a);
	struct pair p;
	struct srtp_master k;

	new_pair(&p, &s, &c);
	assert_int_equal(dtls_srtp_keys(p.srv, &k, &k), -EAGAIN);
	assert_int_equal(dtls_srtp_suite(p.srv), SRTP_SUITE_NONE);
	assert_true(dtls_srtp_next_timer(p.cli) != UINT64_MAX);   /* the ClientHello's timer */
	pump(&p, 5000);
	assert_mirrored(&p, SRTP_SUITE_AEAD_AES_256_GCM);
	assert_true(p.max_len <= DTLS_MTU_DEFAULT);
	assert_int_equal(dtls_srtp_next_timer(p.srv), UINT64_MAX);
	assert_int_equal(dtls_srtp_next_timer(p.cli), UINT64_MAX);
	const struct dtls_srtp_stats *st = dtls_srtp_stats(p.srv);

	print_message("handshake: %u datagrams, longest %u; server in %llu out %llu\n", p.moved, p.max_len,
		      (unsigned long long)st->in_dgrams, (unsigned long long)st->out_dgrams);
	assert_int_equal(st->retransmits + dtls_srtp_stats(p.cli)->retransmits, 0);
	assert_int_equal(st->out_dropped, 0);

	/* close_notify from the client closes the server; keys stay readable */
	dtls_srtp_close(p.cli);
	assert_int_equal(dtls_srtp_state(p.cli), DTLS_CLOSED);
	assert_int_equal(move(&p, p.cli, p.srv, real_ms(), 0), 1);
	assert_int_equal(dtls_srtp_state(p.srv), DTLS_CLOSED);
	assert_int_equal(dtls_srtp_keys(p.srv, &k, NULL), 0);
	/* and later datagrams are counted, not processed */
	uint8_t junk[20] = { 23, 0xfe, 0xfd };

	dtls_srtp_input(p.srv, junk, sizeof(junk), real_ms());
	assert_int_equal(dtls_srtp_stats(p.srv)->ignored_ended, 1);
	free_pair(&p);
}

/* The server's preference among what the client offers; no common profile fails. */
static void test_suites(void **state)
{
	(void)state;
	static const struct {
		uint8_t srv, cli;
		enum srtp_suite want;   /* NONE: no_srtp_profile */
	} cases[] = {
		{ 0, DTLS_SUITE_BIT(SRTP_SUITE_AEAD_AES_128_GCM) | DTLS_SUITE_BIT(SRTP_SUITE_AES_CM_128_HMAC_SHA1_80),
		  SRTP_SUITE_AEAD_AES_128_GCM },
		{ 0, DTLS_SUITE_BIT(SRTP_SUITE_AES_CM_128_HMAC_SHA1_80), SRTP_SUITE_AES_CM_128_HMAC_SHA1_80 },
		{ DTLS_SUITE_BIT(SRTP_SUITE_AES_CM_128_HMAC_SHA1_80), 0, SRTP_SUITE_AES_CM_128_HMAC_SHA1_80 },
		{ 0, DTLS_SUITE_BIT(SRTP_SUITE_AEAD_AES_256_GCM), SRTP_SUITE_AEAD_AES_256_GCM },
		{ DTLS_SUITE_BIT(SRTP_SUITE_AEAD_AES_128_GCM), DTLS_SUITE_BIT(SRTP_SUITE_AEAD_AES_256_GCM),
		  SRTP_SUITE_NONE },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dtls_srtp_cfg s = cfg_of(DTLS_ROLE_SERVER, cert_b), c = cfg_of(DTLS_ROLE_CLIENT, cert_a);
		struct pair p;

		s.suites = cases[i].srv;
		c.suites = cases[i].cli;
		new_pair(&p, &s, &c);
		pump(&p, 5000);
		if (cases[i].want != SRTP_SUITE_NONE) {
			assert_mirrored(&p, cases[i].want);
		} else {
			/* the server completes TLS without use_srtp; it fails, and the client refuses a
			 * ServerHello without the extension it asked for, or fails the same way */
			assert_int_equal(dtls_srtp_state(p.srv), DTLS_FAILED);
			assert_int_equal(dtls_srtp_failure(p.srv), DTLS_FAIL_NO_SRTP);
			assert_int_equal(dtls_srtp_state(p.cli), DTLS_FAILED);
			struct srtp_master k;

			assert_int_equal(dtls_srtp_keys(p.srv, &k, &k), -EAGAIN);
			assert_int_equal(dtls_srtp_keys(p.cli, &k, &k), -EAGAIN);
		}
		free_pair(&p);
	}
	/* a set with a suite lib/srtp lacks, or none known, is refused */
	struct dtls_srtp_cfg bad = cfg_of(DTLS_ROLE_SERVER, cert_b);

	bad.suites = 0x80;
	assert_null(dtls_srtp_new(ctx_a, &bad, 0));
	bad.suites = DTLS_SUITE_BIT(SRTP_SUITE_NONE);
	assert_null(dtls_srtp_new(ctx_a, &bad, 0));
	bad.suites = 0;
	bad.mtu = 100;
	assert_null(dtls_srtp_new(ctx_a, &bad, 0));
	bad.mtu = 0;
	bad.role = 7;
	assert_null(dtls_srtp_new(ctx_a, &bad, 0));
}

/* A small MTU fragments the certificate flight; every datagram stays within it. */
static void test_small_mtu(void **state)
{
	(void)state;
	struct dtls_srtp_cfg s = cfg_of(DTLS_ROLE_SERVER, cert_b), c = cfg_of(DTLS_ROLE_CLIENT, cert_a);
	struct pair p;

	s.mtu = c.mtu = DTLS_MTU_MIN;
	new_pair(&p, &s, &c);
	pump(&p, 5000);
	assert_mirrored(&p, SRTP_SUITE_AEAD_AES_256_GCM);
	assert_true(p.max_len <= DTLS_MTU_MIN);
	print_message("MTU %u: %u datagrams, longest %u\n", DTLS_MTU_MIN, p.moved, p.max_len);
	free_pair(&p);
}

static void test_wrong_fingerprint(void **state)
{
	(void)state;
	struct pair p;
	struct srtp_master k;

	/* the server expects another certificate than the client's */
	struct dtls_srtp_cfg s = cfg_of(DTLS_ROLE_SERVER, cert_a), c = cfg_of(DTLS_ROLE_CLIENT, cert_a);

	new_pair(&p, &s, &c);
	pump(&p, 5000);
	assert_int_equal(dtls_srtp_state(p.srv), DTLS_FAILED);
	assert_int_equal(dtls_srtp_failure(p.srv), DTLS_FAIL_FINGERPRINT);
	assert_int_equal(dtls_srtp_state(p.cli), DTLS_FAILED);   /* the alert reached it */
	assert_int_equal(dtls_srtp_failure(p.cli), DTLS_FAIL_HANDSHAKE);
	assert_int_equal(dtls_srtp_keys(p.srv, &k, &k), -EAGAIN);
	assert_int_equal(dtls_srtp_keys(p.cli, &k, &k), -EAGAIN);
	print_message("server: %s (%s)\n", dtls_fail_name(dtls_srtp_failure(p.srv)), dtls_srtp_detail(p.srv));
	print_message("client: %s (%s)\n", dtls_fail_name(dtls_srtp_failure(p.cli)), dtls_srtp_detail(p.cli));
	free_pair(&p);

	/* the client expects another server certificate; one flipped bit of the right one */
	s = cfg_of(DTLS_ROLE_SERVER, cert_b);
	c = cfg_of(DTLS_ROLE_CLIENT, cert_a);
	c.peer_fp[31] ^= 1;
	new_pair(&p, &s, &c);
	pump(&p, 5000);
	assert_int_equal(dtls_srtp_state(p.cli), DTLS_FAILED);
	assert_int_equal(dtls_srtp_failure(p.cli), DTLS_FAIL_FINGERPRINT);
	assert_int_equal(dtls_srtp_state(p.srv), DTLS_FAILED);
	assert_int_equal(dtls_srtp_keys(p.cli, &k, &k), -EAGAIN);
	free_pair(&p);
}

/* The client's first datagram (its ClientHello), captured. */
static int client_hello(uint8_t *buf, size_t cap)
{
	struct dtls_srtp_cfg c = cfg_of(DTLS_ROLE_CLIENT, cert_a);
	struct dtls_srtp *cli = dtls_srtp_new(ctx_b, &c, 0);
	int n = dtls_srtp_pop(cli, buf, cap);

	assert_true(n > 0);
	assert_int_equal(dtls_srtp_pop(cli, buf + n, cap - (size_t)n), 0);
	dtls_srtp_free(cli);
	return n;
}

static void test_garbage(void **state)
{
	(void)state;
	struct dtls_srtp_cfg s = cfg_of(DTLS_ROLE_SERVER, cert_b), c = cfg_of(DTLS_ROLE_CLIENT, cert_a);
	uint8_t ch[DTLS_MTU_MAX], buf[DTLS_MTU_MAX];
	int chlen = client_hello(ch, sizeof(ch));
	uint64_t now = 1000;
	unsigned failed = 0, outs = 0;

	rng_state = 0x13579bdf;
	/* random datagrams, one fresh server each 25: never connected, never a crash; the ones whose
	 * first byte is not DTLS are counted as such */
	for (int round = 0; round < 40; round++) {
		struct dtls_srtp *srv = dtls_srtp_new(ctx_a, &s, now);
		unsigned not_dtls = 0;

		for (int i = 0; i < 25; i++) {
			uint32_t len = rnd() % 300;
			uint8_t *d = malloc(len ? len : 1);

			for (uint32_t j = 0; j < len; j++)
				d[j] = (uint8_t)rnd();
			if (len && (i & 1)) {          /* half of them look like DTLS 1.2 records */
				d[0] = (uint8_t)(20 + rnd() % 4);
				if (len > 2) {
					d[1] = 0xfe;
					d[2] = 0xfd;
				}
			}
			if (!len || d[0] < 20 || d[0] > 63)
				not_dtls += dtls_srtp_state(srv) == DTLS_HANDSHAKING;
			dtls_srtp_input(srv, d, len, now += 30);
			free(d);
			while (dtls_srtp_pop(srv, buf, sizeof(buf)) > 0)
				outs++;
		}
		assert_true(dtls_srtp_state(srv) == DTLS_HANDSHAKING || dtls_srtp_state(srv) == DTLS_FAILED);
		if (dtls_srtp_state(srv) == DTLS_FAILED)
			failed++;
		else
			assert_int_equal(dtls_srtp_stats(srv)->ignored_not_dtls, not_dtls);
		dtls_srtp_free(srv);
	}
	print_message("garbage: 1000 datagrams into 40 servers: %u failed, %u datagrams out\n", failed, outs);

	/* every truncation of a real ClientHello, then bytes flipped in its body, into one server:
	 * ignored (a record longer than its datagram is dropped, RFC 6347 4.1.2.7) or failed; if it is
	 * still handshaking, the whole ClientHello afterwards gets an answer and the handshake completes */
	struct pair p;

	new_pair(&p, &s, &c);
	for (int n = 0; n < chlen; n++)
		dtls_srtp_input(p.srv, ch, (size_t)n, now += 10);
	assert_int_equal(dtls_srtp_state(p.srv), DTLS_HANDSHAKING);
	assert_int_equal(dtls_srtp_stats(p.srv)->out_dgrams, 0);
	assert_int_equal(dtls_srtp_stats(p.srv)->ignored_not_dtls, 1);   /* the empty one */
	assert_true(dtls_srtp_stats(p.srv)->ignored_rate > 0);            /* > 64 in a second */
	free_pair(&p);

	/* the same at one per 20 ms (under the budget), then the real handshake */
	new_pair(&p, &s, &c);
	uint64_t t = real_ms();

	for (int n = 0; n < chlen; n++)
		dtls_srtp_input(p.srv, ch, (size_t)n, t + (uint64_t)n * 20);
	assert_int_equal(dtls_srtp_state(p.srv), DTLS_HANDSHAKING);
	assert_int_equal(dtls_srtp_stats(p.srv)->out_dgrams, 0);
	free_pair(&p);
	new_pair(&p, &s, &c);
	for (int n = 13; n < chlen; n++) {      /* truncated ones, spread over the budget */
		if (n % 8)
			continue;
		dtls_srtp_input(p.srv, ch, (size_t)n, real_ms());
	}
	assert_int_equal(dtls_srtp_state(p.srv), DTLS_HANDSHAKING);
	assert_int_equal(dtls_srtp_stats(p.srv)->out_dgrams, 0);
	pump(&p, 5000);    /* the client's own ClientHello */
	assert_mirrored(&p, SRTP_SUITE_AEAD_AES_256_GCM);
	free_pair(&p);

	/* a ClientHello with a flipped bit in its handshake body: ignored or a failure, never keys */
	for (int i = 13; i < chlen; i += 7) {
		struct dtls_srtp *srv = dtls_srtp_new(ctx_a, &s, now);
		uint8_t *d = heap_copy(ch, (uint32_t)chlen);

		d[i] ^= (uint8_t)(1 << (i & 7));
		dtls_srtp_input(srv, d, (size_t)chlen, now);
		assert_int_not_equal(dtls_srtp_state(srv), DTLS_CONNECTED);
		free(d);
		dtls_srtp_free(srv);
	}
}

/* A flood of ClientHellos, oversized datagrams and RTP at one session: the budget caps what reaches
 * OpenSSL (DTLS_IN_PER_S a second), the output queue caps what waits, the rest is counted. */
static void test_flood(void **state)
{
	(void)state;
	struct dtls_srtp_cfg s = cfg_of(DTLS_ROLE_SERVER, cert_b), c = cfg_of(DTLS_ROLE_CLIENT, cert_a);
	uint8_t ch[DTLS_MTU_MAX], big[DTLS_MAX_IN_DGRAM + 1];
	int chlen = client_hello(ch, sizeof(ch));
	struct pair p;
	uint64_t t = real_ms();

	memset(big, 22, sizeof(big));
	new_pair(&p, &s, &c);
	for (int i = 0; i < 20000; i++) {
		if (i % 3 == 0)
			dtls_srtp_input(p.srv, ch, (size_t)chlen, t);
		else if (i % 3 == 1)
			dtls_srtp_input(p.srv, big, sizeof(big), t);
		else
			dtls_srtp_input(p.srv, (const uint8_t *)"\x80junk-rtp", 9, t);
	}
	const struct dtls_srtp_stats *st = dtls_srtp_stats(p.srv);

	print_message("flood: in %llu, rate %llu, too big %llu, not dtls %llu, out %llu, out dropped %llu\n",
		      (unsigned long long)st->in_dgrams, (unsigned long long)st->ignored_rate,
		      (unsigned long long)st->ignored_too_big, (unsigned long long)st->ignored_not_dtls,
		      (unsigned long long)st->out_dgrams, (unsigned long long)st->out_dropped);
	assert_int_equal(st->in_dgrams, DTLS_IN_PER_S);
	assert_int_equal(st->ignored_rate, 6667 - DTLS_IN_PER_S);
	assert_int_equal(st->ignored_too_big, 6667);
	assert_int_equal(st->ignored_not_dtls, 6666);
	assert_true(st->out_dgrams <= DTLS_OUT_QUEUE + st->out_dropped);
	/* (a ClientHello from another session took this server's handshake: only the ICE-checked
	 * address reaches a session, so that is the browser itself starting over) */
	uint8_t buf[DTLS_MTU_MAX];

	while (dtls_srtp_pop(p.srv, buf, sizeof(buf)) > 0)
		;
	dtls_srtp_free(p.srv);
	dtls_srtp_free(p.cli);
}

/* The server's first flight lost once, then (another pair) its last flight: the timers resend. */
static void test_lost_flight(void **state)
{
	(void)state;
	struct dtls_srtp_cfg s = cfg_of(DTLS_ROLE_SERVER, cert_b), c = cfg_of(DTLS_ROLE_CLIENT, cert_a);
	struct pair p;

	s.rtx_initial_ms = c.rtx_initial_ms = 50;
	new_pair(&p, &s, &c);
	p.drop_srv_flight = 1;
	uint64_t t0 = real_ms();

	pump(&p, 5000);
	assert_mirrored(&p, SRTP_SUITE_AEAD_AES_256_GCM);
	assert_true(dtls_srtp_stats(p.cli)->retransmits >= 1);
	print_message("first flight lost: done in %llu ms, client retransmits %llu\n",
		      (unsigned long long)(real_ms() - t0), (unsigned long long)dtls_srtp_stats(p.cli)->retransmits);
	free_pair(&p);

	new_pair(&p, &s, &c);
	p.drop_srv_last = 1;
	t0 = real_ms();
	pump(&p, 5000);
	assert_mirrored(&p, SRTP_SUITE_AEAD_AES_256_GCM);
	assert_true(dtls_srtp_stats(p.cli)->retransmits >= 1);
	print_message("last flight lost: done in %llu ms, client retransmits %llu\n",
		      (unsigned long long)(real_ms() - t0), (unsigned long long)dtls_srtp_stats(p.cli)->retransmits);
	free_pair(&p);
}

/* The handshake deadline on the caller's clock alone. */
static void test_deadline(void **state)
{
	(void)state;
	struct dtls_srtp_cfg c = cfg_of(DTLS_ROLE_CLIENT, cert_a), s = cfg_of(DTLS_ROLE_SERVER, cert_b);
	uint64_t t0 = 5000000;
	uint8_t ch[DTLS_MTU_MAX];

	c.handshake_timeout_ms = 2000;
	struct dtls_srtp *cli = dtls_srtp_new(ctx_b, &c, t0);

	assert_true(dtls_srtp_next_timer(cli) <= t0 + 2000);
	assert_int_equal(dtls_srtp_on_timer(cli, t0 + 1999), DTLS_HANDSHAKING);
	assert_int_equal(dtls_srtp_on_timer(cli, t0 + 2000), DTLS_FAILED);
	assert_int_equal(dtls_srtp_failure(cli), DTLS_FAIL_DEADLINE);
	assert_int_equal(dtls_srtp_next_timer(cli), UINT64_MAX);
	print_message("deadline: %s\n", dtls_srtp_detail(cli));
	dtls_srtp_free(cli);

	/* the default is 30 s; input after the deadline fails the session too */
	struct dtls_srtp *srv = dtls_srtp_new(ctx_a, &s, t0);
	int n = client_hello(ch, sizeof(ch));

	assert_int_equal(dtls_srtp_next_timer(srv), t0 + DTLS_HANDSHAKE_TIMEOUT_MS);
	assert_int_equal(dtls_srtp_input(srv, ch, (size_t)n, t0 + DTLS_HANDSHAKE_TIMEOUT_MS), DTLS_FAILED);
	assert_int_equal(dtls_srtp_failure(srv), DTLS_FAIL_DEADLINE);
	assert_int_equal(dtls_srtp_stats(srv)->in_dgrams, 0);
	dtls_srtp_free(srv);
	assert_string_equal(dtls_fail_name(DTLS_FAIL_COUNT), "?");
	assert_string_equal(dtls_state_name(DTLS_CLOSED), "closed");
}

/* Many sessions on one thread and one context, interleaved: each pair gets its own keys. */
static void test_many(void **state)
{
	(void)state;
	enum { N = 8 };
	struct pair p[N];
	struct dtls_srtp_cfg s = cfg_of(DTLS_ROLE_SERVER, cert_b), c = cfg_of(DTLS_ROLE_CLIENT, cert_a);

	uint64_t t0 = real_ms();

	for (int i = 0; i < N; i++)
		new_pair(&p[i], &s, &c);
	for (int round = 0; round < 10; round++)
		for (int i = 0; i < N; i++) {
			move(&p[i], p[i].cli, p[i].srv, real_ms(), 0);
			move(&p[i], p[i].srv, p[i].cli, real_ms(), 0);
		}
	uint64_t dt = real_ms() - t0;

	print_message("%d handshakes, both ends on this thread: %llu ms (%.0f/s)\n", N, (unsigned long long)dt,
		      dt ? N * 1000.0 / (double)dt : 0.0);
	for (int i = 0; i < N; i++) {
		struct srtp_master a, b;

		assert_mirrored(&p[i], SRTP_SUITE_AEAD_AES_256_GCM);
		dtls_srtp_keys(p[i].srv, &a, NULL);
		for (int j = 0; j < i; j++) {
			dtls_srtp_keys(p[j].srv, &b, NULL);
			assert_memory_not_equal(a.key, b.key, a.key_len);
		}
	}
	for (int i = 0; i < N; i++)
		free_pair(&p[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fp_parse),
		cmocka_unit_test(test_cert),
		cmocka_unit_test(test_handshake),
		cmocka_unit_test(test_suites),
		cmocka_unit_test(test_small_mtu),
		cmocka_unit_test(test_wrong_fingerprint),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_flood),
		cmocka_unit_test(test_lost_flight),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_many),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
