/*
 * dtls_srtp.c - DTLS-SRTP sessions (dtls_srtp.h) on OpenSSL 3.0: an SSL object per session behind a
 * datagram BIO of our own, the peer's certificate pinned by fingerprint in the verify callback,
 * timers re-armed after every call, the keys exported on completion.
 *
 * Why a BIO of our own rather than BIO_s_mem: a memory BIO concatenates the records of a flight, so
 * their datagram boundaries (each within the MTU) are lost; BIO_s_dgram_pair keeps them but is
 * OpenSSL 3.2+. Ours hands OpenSSL the one datagram being input and queues each write as one
 * datagram in the session's fixed queue.
 */
#include "dtls_srtp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

struct dtls_ctx {
	SSL_CTX *ssl_ctx;
	BIO_METHOD *bio_meth;
};

struct out_dgram {
	uint16_t len;
	uint8_t data[DTLS_MTU_MAX];
};

struct dtls_srtp {
	SSL *ssl;
	struct dtls_srtp_cfg cfg;
	enum dtls_state state;
	enum dtls_fail fail;
	uint8_t fp_checked;             /* the verify callback saw the leaf and it matched */
	uint8_t fp_mismatch;            /* ... and it did not */
	enum srtp_suite suite;
	struct srtp_master local, remote;
	uint64_t deadline_ms;           /* handshake deadline */
	uint64_t rtx_ms;                /* next retransmission look, UINT64_MAX none */
	uint64_t win_start_ms;          /* input budget window */
	uint32_t win_count;
	const uint8_t *in;              /* the datagram being fed (bio_read takes it) */
	size_t in_len;
	struct dtls_srtp_stats st;
	char detail[120];
	unsigned out_head, out_count;
	struct out_dgram out[DTLS_OUT_QUEUE];
};

/* Preference order; each maps to the enum srtp_suite lib/srtp implements. */
#define SRTP_PROFILES "SRTP_AEAD_AES_256_GCM:SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"
/* ECDHE only; ECDSA first (our certificate), RSA for a client-role peer that has an RSA one. */
#define DTLS_CIPHERS "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA"
#define MAX_CERT_LIST 16384

const char *dtls_fail_name(enum dtls_fail f)
{
	static const char *const names[DTLS_FAIL_COUNT] = {
		[DTLS_FAIL_NONE] = "none",
		[DTLS_FAIL_FINGERPRINT] = "fingerprint",
		[DTLS_FAIL_NO_SRTP] = "no_srtp_profile",
		[DTLS_FAIL_HANDSHAKE] = "handshake",
		[DTLS_FAIL_DEADLINE] = "deadline",
		[DTLS_FAIL_RETRANSMIT] = "retransmit_limit",
		[DTLS_FAIL_EXPORT] = "export",
		[DTLS_FAIL_INTERNAL] = "internal",
	};
	return (unsigned)f < DTLS_FAIL_COUNT ? names[f] : "?";
}

const char *dtls_state_name(enum dtls_state st)
{
	switch (st) {
	case DTLS_HANDSHAKING: return "handshaking";
	case DTLS_CONNECTED: return "connected";
	case DTLS_CLOSED: return "closed";
	case DTLS_FAILED: return "failed";
	}
	return "?";
}

/* ---- the datagram BIO ---------------------------------------------------------------------- */

static int bio_write(BIO *b, const char *buf, int len)
{
	struct dtls_srtp *s = BIO_get_data(b);

	BIO_clear_retry_flags(b);
	if (len <= 0)
		return 0;
	if ((size_t)len > s->cfg.mtu || s->out_count == DTLS_OUT_QUEUE) {
		s->st.out_dropped++;   /* as a lost datagram: the peer's timer recovers it */
		return len;
	}
	struct out_dgram *d = &s->out[(s->out_head + s->out_count) % DTLS_OUT_QUEUE];

	memcpy(d->data, buf, (size_t)len);
	d->len = (uint16_t)len;
	s->out_count++;
	s->st.out_dgrams++;
	s->st.out_bytes += (uint64_t)len;
	return len;
}

static int bio_read(BIO *b, char *buf, int len)
{
	struct dtls_srtp *s = BIO_get_data(b);

	BIO_clear_retry_flags(b);
	if (!s->in || len <= 0) {
		BIO_set_retry_read(b);
		return -1;
	}
	size_t n = s->in_len < (size_t)len ? s->in_len : (size_t)len;

	memcpy(buf, s->in, n);
	s->in = NULL;
	s->in_len = 0;
	return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct dtls_srtp *s = BIO_get_data(b);

	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_DGRAM_QUERY_MTU:
	case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
		return s ? s->cfg.mtu : DTLS_MTU_DEFAULT;
	case BIO_CTRL_PENDING:
		return s && s->in ? (long)s->in_len : 0;
	case BIO_CTRL_WPENDING:
	case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:
	case BIO_CTRL_DGRAM_MTU_EXCEEDED:
	default:
		return 0;
	}
}

static int bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static int bio_destroy(BIO *b)
{
	BIO_set_data(b, NULL);
	return 1;
}

/* ---- context ------------------------------------------------------------------------------- */

static int verify_cb(int preverify_ok, X509_STORE_CTX *xs);

struct dtls_ctx *dtls_ctx_new(const struct dtls_cert *c)
{
	struct dtls_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx) {
		errno = ENOMEM;
		return NULL;
	}
	if (!c) {
		free(ctx);
		errno = EINVAL;
		return NULL;
	}
	ctx->ssl_ctx = SSL_CTX_new(DTLS_method());
	ctx->bio_meth = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "mmr dtls datagram");
	if (!ctx->ssl_ctx || !ctx->bio_meth)
		goto err;
	if (!BIO_meth_set_write(ctx->bio_meth, bio_write) || !BIO_meth_set_read(ctx->bio_meth, bio_read) ||
	    !BIO_meth_set_ctrl(ctx->bio_meth, bio_ctrl) || !BIO_meth_set_create(ctx->bio_meth, bio_create) ||
	    !BIO_meth_set_destroy(ctx->bio_meth, bio_destroy))
		goto err;
	SSL_CTX *sc = ctx->ssl_ctx;

	if (!SSL_CTX_set_min_proto_version(sc, DTLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(sc, DTLS1_2_VERSION) ||
	    SSL_CTX_use_certificate(sc, dtls_cert_x509(c)) != 1 ||
	    SSL_CTX_use_PrivateKey(sc, dtls_cert_pkey(c)) != 1 || SSL_CTX_check_private_key(sc) != 1 ||
	    SSL_CTX_set_cipher_list(sc, DTLS_CIPHERS) != 1 ||
	    SSL_CTX_set1_groups_list(sc, "X25519:P-256:P-384") != 1 ||
	    SSL_CTX_set_tlsext_use_srtp(sc, SRTP_PROFILES) != 0)   /* 0 is success here */
		goto err;
	SSL_CTX_set_options(sc, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET |
			    SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_session_cache_mode(sc, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_max_cert_list(sc, MAX_CERT_LIST);
	/* No CA: every certificate is judged by its fingerprint in verify_cb. The server asks for the
	 * client's and fails without one. */
	SSL_CTX_set_verify(sc, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
	ERR_clear_error();
	return ctx;
err:
	ERR_clear_error();
	dtls_ctx_free(ctx);
	errno = EIO;
	return NULL;
}

void dtls_ctx_free(struct dtls_ctx *ctx)
{
	if (!ctx)
		return;
	SSL_CTX_free(ctx->ssl_ctx);
	BIO_meth_free(ctx->bio_meth);
	free(ctx);
}

/* ---- session ------------------------------------------------------------------------------- */

/* The pinned leaf: any chain and validity problem is ignored (no CA), only the fingerprint counts. */
static int verify_cb(int preverify_ok, X509_STORE_CTX *xs)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct dtls_srtp *s = ssl ? SSL_get_app_data(ssl) : NULL;
	uint8_t fp[DTLS_FP_LEN];

	(void)preverify_ok;
	if (!s)
		return 0;
	if (X509_STORE_CTX_get_error_depth(xs) != 0)
		return 1;
	X509 *leaf = X509_STORE_CTX_get0_cert(xs);   /* the peer's own certificate */

	if (dtls_fp_of_x509(leaf, fp) < 0 || CRYPTO_memcmp(fp, s->cfg.peer_fp, DTLS_FP_LEN) != 0) {
		s->fp_mismatch = 1;
		s->fp_checked = 0;
		X509_STORE_CTX_set_error(xs, X509_V_ERR_CERT_REJECTED);
		return 0;
	}
	s->fp_checked = 1;
	X509_STORE_CTX_set_error(xs, X509_V_OK);
	return 1;
}

static unsigned int timer_cb(SSL *ssl, unsigned int previous_us)
{
	struct dtls_srtp *s = SSL_get_app_data(ssl);
	uint64_t next;

	if (!s)
		return 1000000;
	if (previous_us == 0)
		return s->cfg.rtx_initial_ms * 1000u;
	next = (uint64_t)previous_us * 2;
	if (next > (uint64_t)DTLS_RTX_MAX_MS * 1000)
		next = (uint64_t)DTLS_RTX_MAX_MS * 1000;
	return (unsigned int)next;
}

static void fail(struct dtls_srtp *s, enum dtls_fail why)
{
	unsigned long e = ERR_peek_error();

	if (s->state == DTLS_FAILED)
		return;
	s->state = DTLS_FAILED;
	s->fail = why;
	s->rtx_ms = UINT64_MAX;
	if (e && !s->detail[0])
		ERR_error_string_n(e, s->detail, sizeof(s->detail));
	ERR_clear_error();
}

static void arm_timer(struct dtls_srtp *s, uint64_t now_ms)
{
	struct timeval tv;

	s->rtx_ms = UINT64_MAX;
	if (s->state != DTLS_HANDSHAKING)
		return;
	if (DTLSv1_get_timeout(s->ssl, &tv) == 1)
		s->rtx_ms = now_ms + (uint64_t)tv.tv_sec * 1000 + ((uint64_t)tv.tv_usec + 999) / 1000;
}

static enum srtp_suite suite_of_profile(unsigned long id)
{
	switch (id) {
	case SRTP_AEAD_AES_256_GCM: return SRTP_SUITE_AEAD_AES_256_GCM;
	case SRTP_AEAD_AES_128_GCM: return SRTP_SUITE_AEAD_AES_128_GCM;
	case SRTP_AES128_CM_SHA1_80: return SRTP_SUITE_AES_CM_128_HMAC_SHA1_80;
	default: return SRTP_SUITE_NONE;
	}
}

/* Handshake done: pin check once more, profile, keys (RFC 5764 4.2). */
static void complete(struct dtls_srtp *s)
{
	uint8_t fp[DTLS_FP_LEN];
	uint8_t km[2 * (SRTP_MAX_KEY + SRTP_MAX_SALT)];
	X509 *peer = SSL_get0_peer_certificate(s->ssl);

	if (!peer || !s->fp_checked || dtls_fp_of_x509(peer, fp) < 0 ||
	    CRYPTO_memcmp(fp, s->cfg.peer_fp, DTLS_FP_LEN) != 0) {
		fail(s, DTLS_FAIL_FINGERPRINT);
		return;
	}
	SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(s->ssl);
	enum srtp_suite suite = p ? suite_of_profile(p->id) : SRTP_SUITE_NONE;

	if (suite == SRTP_SUITE_NONE) {
		fail(s, DTLS_FAIL_NO_SRTP);
		return;
	}
	size_t kl = (size_t)srtp_suite_key_len(suite), sl = (size_t)srtp_suite_salt_len(suite);
	size_t total = 2 * (kl + sl);

	if (SSL_export_keying_material(s->ssl, km, total, DTLS_EXPORTER_LABEL,
				       strlen(DTLS_EXPORTER_LABEL), NULL, 0, 0) != 1) {
		OPENSSL_cleanse(km, sizeof(km));
		fail(s, DTLS_FAIL_EXPORT);
		return;
	}
	/* client_key | server_key | client_salt | server_salt */
	struct srtp_master *cli = s->cfg.role == DTLS_ROLE_CLIENT ? &s->local : &s->remote;
	struct srtp_master *srv = s->cfg.role == DTLS_ROLE_CLIENT ? &s->remote : &s->local;

	memset(cli, 0, sizeof(*cli));
	memset(srv, 0, sizeof(*srv));
	cli->suite = srv->suite = (uint8_t)suite;
	cli->key_len = srv->key_len = (uint8_t)kl;
	cli->salt_len = srv->salt_len = (uint8_t)sl;
	memcpy(cli->key, km, kl);
	memcpy(srv->key, km + kl, kl);
	memcpy(cli->salt, km + 2 * kl, sl);
	memcpy(srv->salt, km + 2 * kl + sl, sl);
	OPENSSL_cleanse(km, sizeof(km));
	s->suite = suite;
	s->state = DTLS_CONNECTED;
	s->rtx_ms = UINT64_MAX;
}

/* Run the handshake one step (after input or a timer); classify what stopped it. */
static void step_handshake(struct dtls_srtp *s, uint64_t now_ms)
{
	ERR_clear_error();
	int r = SSL_do_handshake(s->ssl);

	if (r == 1) {
		complete(s);
	} else {
		int e = SSL_get_error(s->ssl, r);

		/* a client that sent no certificate has no fingerprint to match */
		int no_cert = ERR_GET_LIB(ERR_peek_error()) == ERR_LIB_SSL &&
			ERR_GET_REASON(ERR_peek_error()) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE;

		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
			fail(s, s->fp_mismatch || no_cert ? DTLS_FAIL_FINGERPRINT :
				e == SSL_ERROR_SSL ? DTLS_FAIL_HANDSHAKE : DTLS_FAIL_INTERNAL);
	}
	ERR_clear_error();
	arm_timer(s, now_ms);
}

/* After the handshake: what a datagram holds (application data, alerts, a resent Finished that
 * OpenSSL answers by resending ours). */
static void step_connected(struct dtls_srtp *s)
{
	uint8_t buf[DTLS_MAX_IN_DGRAM];

	for (int i = 0; i < 8; i++) {
		ERR_clear_error();
		int r = SSL_read(s->ssl, buf, sizeof(buf));

		if (r > 0) {
			s->st.app_data_ignored++;
			continue;
		}
		int e = SSL_get_error(s->ssl, r);

		if (e == SSL_ERROR_ZERO_RETURN) {
			s->state = DTLS_CLOSED;
		} else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
			fail(s, DTLS_FAIL_HANDSHAKE);
		}
		break;
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	ERR_clear_error();
}

/* A session's own subset of the profiles, in the context's order. */
static int set_profiles(SSL *ssl, uint8_t suites)
{
	static const struct { enum srtp_suite suite; const char *name; } order[] = {
		{ SRTP_SUITE_AEAD_AES_256_GCM, "SRTP_AEAD_AES_256_GCM" },
		{ SRTP_SUITE_AEAD_AES_128_GCM, "SRTP_AEAD_AES_128_GCM" },
		{ SRTP_SUITE_AES_CM_128_HMAC_SHA1_80, "SRTP_AES128_CM_SHA1_80" },
	};
	char list[96] = "";
	uint8_t known = 0;

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		known |= (uint8_t)DTLS_SUITE_BIT(order[i].suite);
		if (!(suites & DTLS_SUITE_BIT(order[i].suite)))
			continue;
		if (list[0])
			strcat(list, ":");
		strcat(list, order[i].name);
	}
	if ((suites & ~known) || !list[0])
		return -EINVAL;
	return SSL_set_tlsext_use_srtp(ssl, list) == 0 ? 0 : -EINVAL;   /* 0 is success here */
}

struct dtls_srtp *dtls_srtp_new(struct dtls_ctx *ctx, const struct dtls_srtp_cfg *cfg, uint64_t now_ms)
{
	struct dtls_srtp *s;
	BIO *bio;

	if (!ctx || !cfg || (cfg->role != DTLS_ROLE_SERVER && cfg->role != DTLS_ROLE_CLIENT) ||
	    (cfg->mtu && (cfg->mtu < DTLS_MTU_MIN || cfg->mtu > DTLS_MTU_MAX))) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		errno = ENOMEM;
		return NULL;
	}
	s->cfg = *cfg;
	if (!s->cfg.handshake_timeout_ms)
		s->cfg.handshake_timeout_ms = DTLS_HANDSHAKE_TIMEOUT_MS;
	if (!s->cfg.rtx_initial_ms)
		s->cfg.rtx_initial_ms = DTLS_RTX_INITIAL_MS;
	if (s->cfg.rtx_initial_ms > DTLS_RTX_MAX_MS)
		s->cfg.rtx_initial_ms = DTLS_RTX_MAX_MS;
	if (!s->cfg.mtu)
		s->cfg.mtu = DTLS_MTU_DEFAULT;
	if (!s->cfg.in_per_s)
		s->cfg.in_per_s = DTLS_IN_PER_S;
	s->deadline_ms = now_ms + s->cfg.handshake_timeout_ms;
	s->rtx_ms = UINT64_MAX;
	s->win_start_ms = now_ms;
	s->state = DTLS_HANDSHAKING;

	ERR_clear_error();
	s->ssl = SSL_new(ctx->ssl_ctx);
	bio = s->ssl ? BIO_new(ctx->bio_meth) : NULL;
	if (!bio) {
		SSL_free(s->ssl);
		free(s);
		ERR_clear_error();
		errno = ENOMEM;
		return NULL;
	}
	BIO_set_data(bio, s);
	SSL_set_bio(s->ssl, bio, bio);   /* the SSL owns it now */
	SSL_set_app_data(s->ssl, s);
	SSL_set_mtu(s->ssl, s->cfg.mtu);
	if (cfg->suites && set_profiles(s->ssl, cfg->suites) < 0) {
		SSL_free(s->ssl);
		free(s);
		ERR_clear_error();
		errno = EINVAL;
		return NULL;
	}
	DTLS_set_timer_cb(s->ssl, timer_cb);
	if (s->cfg.role == DTLS_ROLE_CLIENT) {
		SSL_set_connect_state(s->ssl);
		step_handshake(s, now_ms);     /* the ClientHello */
	} else {
		SSL_set_accept_state(s->ssl);
	}
	ERR_clear_error();
	return s;
}

void dtls_srtp_free(struct dtls_srtp *s)
{
	if (!s)
		return;
	SSL_free(s->ssl);   /* OpenSSL cleanses its own secrets */
	ERR_clear_error();
	OPENSSL_cleanse(&s->local, sizeof(s->local));
	OPENSSL_cleanse(&s->remote, sizeof(s->remote));
	OPENSSL_cleanse(s->out, sizeof(s->out));
	free(s);
}

static int deadline_passed(struct dtls_srtp *s, uint64_t now_ms)
{
	if (s->state == DTLS_HANDSHAKING && now_ms >= s->deadline_ms) {
		snprintf(s->detail, sizeof(s->detail), "no handshake within %u ms", s->cfg.handshake_timeout_ms);
		fail(s, DTLS_FAIL_DEADLINE);
		return 1;
	}
	return 0;
}

enum dtls_state dtls_srtp_input(struct dtls_srtp *s, const uint8_t *dgram, size_t len, uint64_t now_ms)
{
	if (s->state == DTLS_FAILED || s->state == DTLS_CLOSED) {
		s->st.ignored_ended++;
		return s->state;
	}
	if (deadline_passed(s, now_ms)) {
		s->st.ignored_ended++;
		return s->state;
	}
	if (!dgram || len == 0 || dgram[0] < 20 || dgram[0] > 63) {
		s->st.ignored_not_dtls++;
		return s->state;
	}
	if (len > DTLS_MAX_IN_DGRAM) {
		s->st.ignored_too_big++;
		return s->state;
	}
	if (now_ms - s->win_start_ms >= 1000) {
		s->win_start_ms = now_ms;
		s->win_count = 0;
	}
	if (++s->win_count > s->cfg.in_per_s) {
		s->st.ignored_rate++;
		return s->state;
	}
	s->st.in_dgrams++;
	s->st.in_bytes += len;
	s->in = dgram;
	s->in_len = len;
	if (s->state == DTLS_HANDSHAKING) {
		step_handshake(s, now_ms);
		/* The Finished that completed the handshake may share its datagram with application
		 * data or an alert: read what is left. */
		if (s->state == DTLS_CONNECTED)
			step_connected(s);
	} else {
		step_connected(s);
	}
	s->in = NULL;
	s->in_len = 0;
	return s->state;
}

uint64_t dtls_srtp_next_timer(const struct dtls_srtp *s)
{
	if (s->state != DTLS_HANDSHAKING)
		return UINT64_MAX;
	return s->rtx_ms < s->deadline_ms ? s->rtx_ms : s->deadline_ms;
}

enum dtls_state dtls_srtp_on_timer(struct dtls_srtp *s, uint64_t now_ms)
{
	if (s->state != DTLS_HANDSHAKING || deadline_passed(s, now_ms))
		return s->state;
	if (now_ms < s->rtx_ms)
		return s->state;
	ERR_clear_error();
	int r = DTLSv1_handle_timeout(s->ssl);

	if (r > 0) {
		s->st.retransmits++;
	} else if (r < 0) {
		fail(s, DTLS_FAIL_RETRANSMIT);
		return s->state;
	}
	ERR_clear_error();
	arm_timer(s, now_ms);   /* r == 0: OpenSSL's clock says not yet: look again when it says */
	return s->state;
}

int dtls_srtp_pop(struct dtls_srtp *s, uint8_t *buf, size_t cap)
{
	if (!s->out_count)
		return 0;
	struct out_dgram *d = &s->out[s->out_head];

	if (cap < d->len)
		return -ENOSPC;
	memcpy(buf, d->data, d->len);
	OPENSSL_cleanse(d->data, d->len);
	s->out_head = (s->out_head + 1) % DTLS_OUT_QUEUE;
	s->out_count--;
	return d->len;
}

void dtls_srtp_close(struct dtls_srtp *s)
{
	if (s->state == DTLS_CONNECTED) {
		ERR_clear_error();
		SSL_shutdown(s->ssl);
		ERR_clear_error();
	}
	if (s->state != DTLS_FAILED)
		s->state = DTLS_CLOSED;
	s->rtx_ms = UINT64_MAX;
}

enum dtls_state dtls_srtp_state(const struct dtls_srtp *s)
{
	return s->state;
}

enum dtls_fail dtls_srtp_failure(const struct dtls_srtp *s)
{
	return s->fail;
}

const char *dtls_srtp_detail(const struct dtls_srtp *s)
{
	return s->detail;
}

const struct dtls_srtp_stats *dtls_srtp_stats(const struct dtls_srtp *s)
{
	return &s->st;
}

int dtls_srtp_keys(const struct dtls_srtp *s, struct srtp_master *local, struct srtp_master *remote)
{
	if (s->suite == SRTP_SUITE_NONE || s->state == DTLS_FAILED)
		return -EAGAIN;
	if (local)
		*local = s->local;
	if (remote)
		*remote = s->remote;
	return 0;
}

enum srtp_suite dtls_srtp_suite(const struct dtls_srtp *s)
{
	return s->suite;
}
