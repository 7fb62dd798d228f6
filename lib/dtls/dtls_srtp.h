/*
 * dtls_srtp.h - DTLS-SRTP handshakes (RFC 5764, DTLS 1.2 on OpenSSL) for WebRTC participants, off
 * the media path: one slow-path thread drives any number of sessions, each a pure state machine
 * with datagrams in, datagrams out and the caller's clock passed in (no sockets, no blocking, no
 * global state; the OpenSSL error queue is cleared around every call, so sessions on one thread do
 * not see each other's errors).
 *
 * A session is the DTLS server by default (the MMR answers a=setup:passive, the browser is the DTLS
 * client) or the client (a=setup:active). The peer's certificate is accepted only if its SHA-256
 * fingerprint equals the one from its SDP (constant-time compare, no CA, no validity dates). The
 * use_srtp profiles offered or accepted, in this order of preference: SRTP_AEAD_AES_256_GCM,
 * SRTP_AEAD_AES_128_GCM, SRTP_AES128_CM_SHA1_80, which are exactly the suites lib/srtp supports
 * (enum srtp_suite); SRTP_AES128_CM_SHA1_32, the NULL profiles and anything else are never offered
 * and never accepted (a peer offering only those fails with DTLS_FAIL_NO_SRTP). Datagrams out are at
 * most the MTU (1200 by default). On completion the keys are exported with "EXTRACTOR-dtls_srtp"
 * (client_key | server_key | client_salt | server_salt) into struct srtp_master, local (what we
 * protect with) and remote (what we unprotect with) picked by role; they are wiped when the session
 * is freed.
 *
 * Driving a session (one thread per session at a time; sessions are independent):
 *   s = dtls_srtp_new(ctx, &cfg, now_ms);       a client queues its ClientHello at once
 *   on a datagram from the peer (first byte 20-63, RFC 7983): dtls_srtp_input(s, p, len, now_ms)
 *   at dtls_srtp_next_timer(s) (absolute, the caller's ms): dtls_srtp_on_timer(s, now_ms)
 *   after either: while ((n = dtls_srtp_pop(s, buf, sizeof buf)) > 0) send buf[0..n) to the peer
 *   dtls_srtp_state(s) == DTLS_CONNECTED: dtls_srtp_keys(s, &local, &remote) into the SRTP contexts
 *   DTLS_FAILED: dtls_srtp_failure(s) says why (dtls_fail_name), dtls_srtp_detail(s) OpenSSL's words
 *
 * Retransmission: OpenSSL 3.0 measures the retransmission interval on its own clock (gettimeofday);
 * the caller's clock decides when the session looks (next_timer is now + OpenSSL's remaining time),
 * and a look that comes early re-arms. The handshake deadline is on the caller's clock alone.
 *
 * Bad input never crashes and costs bounded memory (the session's output queue is fixed; OpenSSL's
 * reassembly is bounded by its window and a 16 KB certificate-chain cap): datagrams that are not
 * DTLS, too big, over the per-second budget, or arriving after the session ended are ignored and
 * counted (struct dtls_srtp_stats); records OpenSSL cannot use are dropped by it silently (RFC 6347
 * 4.1.2.7); a malformed handshake, a wrong fingerprint, no common profile, the deadline or too many
 * retransmissions fail the session (a fatal alert may be queued to send). After the handshake:
 * application data is ignored and counted, renegotiation is refused (SSL_OP_NO_RENEGOTIATION),
 * close_notify closes the session (DTLS_CLOSED), a fatal alert fails it.
 */
#ifndef MMR_DTLS_SRTP_H
#define MMR_DTLS_SRTP_H

#include <stddef.h>
#include <stdint.h>
#include "dtls_cert.h"
#include "srtp_master.h"

#define DTLS_MTU_DEFAULT          1200
#define DTLS_MTU_MIN              576
#define DTLS_MTU_MAX              1472
#define DTLS_OUT_QUEUE            16     /* datagrams waiting for dtls_srtp_pop */
#define DTLS_MAX_IN_DGRAM         4096   /* bigger datagrams are ignored (ignored_too_big) */
#define DTLS_HANDSHAKE_TIMEOUT_MS 30000
#define DTLS_RTX_INITIAL_MS       1000   /* RFC 6347 4.2.4.1; doubled per retransmission */
#define DTLS_RTX_MAX_MS           8000
#define DTLS_IN_PER_S             64     /* datagrams handled per second and session */
#define DTLS_EXPORTER_LABEL       "EXTRACTOR-dtls_srtp"

enum dtls_role {
	DTLS_ROLE_SERVER = 0,   /* we answered a=setup:passive (the default) */
	DTLS_ROLE_CLIENT = 1,   /* we answered a=setup:active */
};

enum dtls_state {
	DTLS_HANDSHAKING = 0,
	DTLS_CONNECTED,         /* keys available */
	DTLS_CLOSED,            /* close_notify received or dtls_srtp_close called (keys still readable) */
	DTLS_FAILED,            /* dtls_srtp_failure says why; nothing more is processed */
};

enum dtls_fail {
	DTLS_FAIL_NONE = 0,
	DTLS_FAIL_FINGERPRINT,  /* the peer's certificate is not the one its SDP named (or none) */
	DTLS_FAIL_NO_SRTP,      /* no use_srtp profile in common with the peer */
	DTLS_FAIL_HANDSHAKE,    /* a protocol error, a malformed message, or a fatal alert from the peer */
	DTLS_FAIL_DEADLINE,     /* the handshake took longer than cfg.handshake_timeout_ms */
	DTLS_FAIL_RETRANSMIT,   /* OpenSSL gave up after its retransmission limit */
	DTLS_FAIL_EXPORT,       /* the key exporter failed */
	DTLS_FAIL_INTERNAL,     /* out of memory, an OpenSSL setup error */
	DTLS_FAIL_COUNT
};

struct dtls_srtp_cfg {
	enum dtls_role role;
	uint8_t peer_fp[DTLS_FP_LEN];   /* SHA-256 fingerprint from the peer's a=fingerprint (dtls_fp_parse) */
	uint32_t handshake_timeout_ms;  /* 0: DTLS_HANDSHAKE_TIMEOUT_MS */
	uint32_t rtx_initial_ms;        /* 0: DTLS_RTX_INITIAL_MS */
	uint16_t mtu;                   /* 0: DTLS_MTU_DEFAULT; DTLS_MTU_MIN..DTLS_MTU_MAX */
	uint16_t in_per_s;              /* 0: DTLS_IN_PER_S */
	uint8_t suites;                 /* 0: all three; else a set of DTLS_SUITE_BIT(enum srtp_suite),
	                                 * offered or accepted in the order above */
};
#define DTLS_SUITE_BIT(suite) (1u << (suite))

struct dtls_srtp_stats {
	uint64_t in_dgrams, in_bytes;   /* handed to OpenSSL */
	uint64_t out_dgrams, out_bytes; /* queued for the caller */
	uint64_t ignored_not_dtls;      /* first byte outside 20-63, or empty */
	uint64_t ignored_too_big;       /* over DTLS_MAX_IN_DGRAM */
	uint64_t ignored_rate;          /* over the per-second budget */
	uint64_t ignored_ended;         /* after DTLS_FAILED or DTLS_CLOSED */
	uint64_t app_data_ignored;      /* application data records after the handshake */
	uint64_t out_dropped;           /* a datagram out found the queue full, or over the MTU */
	uint64_t retransmits;           /* timer expiries that resent a flight */
};

/* Shared by the sessions of one identity: the SSL_CTX (DTLS 1.2 only, the cert, the profiles, the
 * ciphers) and the datagram BIO method. NULL with errno (EINVAL, ENOMEM, EIO) on error. It keeps a
 * reference to the certificate's key and X509: c may be freed after. Free it after its sessions. */
struct dtls_ctx;
struct dtls_ctx *dtls_ctx_new(const struct dtls_cert *c);
void dtls_ctx_free(struct dtls_ctx *ctx);

struct dtls_srtp;

/* A session at now_ms (the caller's milliseconds, any epoch, never going back). NULL with errno
 * EINVAL (bad cfg) or ENOMEM. A client's ClientHello is queued before it returns. */
struct dtls_srtp *dtls_srtp_new(struct dtls_ctx *ctx, const struct dtls_srtp_cfg *cfg, uint64_t now_ms);
/* Sends nothing (call dtls_srtp_close first for a close_notify); wipes the keys. NULL is fine. */
void dtls_srtp_free(struct dtls_srtp *s);

/* One received datagram. Returns the state after it (a datagram ignored leaves it as it was). */
enum dtls_state dtls_srtp_input(struct dtls_srtp *s, const uint8_t *dgram, size_t len, uint64_t now_ms);
/* Timers: the next instant (caller's ms) dtls_srtp_on_timer wants to run, UINT64_MAX when none
 * (connected, closed, failed). on_timer at or after it retransmits or fails the session; calling it
 * at any other time is harmless. Returns the state. */
uint64_t dtls_srtp_next_timer(const struct dtls_srtp *s);
enum dtls_state dtls_srtp_on_timer(struct dtls_srtp *s, uint64_t now_ms);
/* The next datagram to send into buf: its length, 0 when none is queued, -ENOSPC if cap is smaller
 * than it (it stays queued; cap DTLS_MTU_MAX always fits). */
int dtls_srtp_pop(struct dtls_srtp *s, uint8_t *buf, size_t cap);
/* Queue a close_notify (if connected) and mark the session DTLS_CLOSED. */
void dtls_srtp_close(struct dtls_srtp *s);

enum dtls_state dtls_srtp_state(const struct dtls_srtp *s);
enum dtls_fail dtls_srtp_failure(const struct dtls_srtp *s);
const char *dtls_srtp_detail(const struct dtls_srtp *s);   /* "" or OpenSSL's reason for a failure */
const struct dtls_srtp_stats *dtls_srtp_stats(const struct dtls_srtp *s);
const char *dtls_fail_name(enum dtls_fail f);               /* "fingerprint", ...; "?" if unknown */
const char *dtls_state_name(enum dtls_state st);

/* The exported keys (DTLS_CONNECTED or DTLS_CLOSED after a connection): local = our direction
 * (server_key/server_salt for the server role), remote = the peer's; the suite is the negotiated
 * profile. 0, or -EAGAIN before the handshake completed or once the session failed (a fatal alert
 * after the connection: the peer gave up on it) (outputs untouched). Wipe your copies. */
int dtls_srtp_keys(const struct dtls_srtp *s, struct srtp_master *local, struct srtp_master *remote);
enum srtp_suite dtls_srtp_suite(const struct dtls_srtp *s);   /* SRTP_SUITE_NONE until connected */

#endif
