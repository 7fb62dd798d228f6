/*
 * dtls_path.h - DTLS-SRTP handshakes of WebRTC participants (issue 13), off the media path: the
 * workers hand DTLS datagrams to one slow-path thread, which runs a lib/dtls session per DTLS
 * participant and sends its flights back through the workers; the exported keys go to the control
 * thread, which installs them in the participant's SRTP contexts like a PUT's keys.
 *
 *   worker (RFC 7983: first byte 20..63) --dtls_in (one multi-producer ring)--> DTLS thread
 *   DTLS thread --dtls_tx[w] (one SP/SC ring per worker)--> worker w, sent on its TX queue
 *   DTLS thread --results (SP/SC, in this module)--> control thread --> cmd_apply_dtls_keys
 *
 * Which datagrams: from the address and port of a participant (fwd_participant_lookup), or of the
 * participant whose latest valid ICE check came from there (dp_ice_recent: the browser's
 * ClientHello right after its first check, before the controller's address is back), if that
 * participant is a DTLS one (PARTICIPANT_PUT dtls). Otherwise a counted drop: dtls_unknown (no
 * such participant), dtls_off (not a DTLS participant), dtls_full (the ring full).
 *
 * The thread (a plain pthread, not an lcore: OpenSSL, malloc, a ~1 ms poll cadence): a session is
 * made when a participant's first DTLS datagram arrives (server role) or as soon as it has an
 * address (client role: we send the ClientHello), with its role and peer fingerprint, and the SRTP
 * profile restricted to its meeting's suite (every participant of a meeting keeps the meeting's
 * suite); it is ended (counted dtls_replaced) when the participant goes or its role or fingerprint
 * changes. Datagrams out are built on a copy of the headers of the participant's last datagram
 * (VLAN tags as received; local_reply_udp swaps addresses and fixes lengths and checksums), or,
 * before any (client role), on headers made from its address. Timers are driven every loop.
 *
 * Configuration per participant (on, role, fingerprint, suite, address, a generation) is written by
 * the control thread under a sequence lock and read by the DTLS thread; the workers read only the
 * `on` byte. Results (a new session, connected with the keys, failed, closed) go to the control
 * thread through a small SP/SC ring; it copies the keys out and wipes the slot, drops results of an
 * older generation, installs the keys (a fresh key for the ledger: srtp_ledger.h), and posts
 * MMR_EV_DTLS. Until the first handshake a DTLS participant's contexts hold random keys nobody
 * knows (a PUT carries none): what it sends fails authentication, and nothing we send is readable.
 * A controller PUT with the same role and fingerprint keeps the keys of the last handshake.
 */
#ifndef MMR_DP_DTLS_PATH_H
#define MMR_DP_DTLS_PATH_H

#include <stdint.h>
#include <rte_mbuf.h>
#include "drop_reason.h"
#include "pkt.h"
#include "srtp_master.h"

struct dataplane;
struct worker;
struct mmr_cmd_participant;

#define DTLS_IN_RING   1024u   /* datagrams waiting for the DTLS thread (all workers) */
#define DTLS_TX_RING   256u    /* per worker: datagrams the DTLS thread made */

/* Start-up, before the workers: the certificate (cfg dtls_cert, or a fresh one), its fingerprint
 * into the segment's header, the rings. 0, or -1 (logged). */
int dp_dtls_init(struct dataplane *dp);
/* The thread; after the workers are launched. 0 or -1 (logged). */
int dp_dtls_start(struct dataplane *dp);
/* Stop and join the thread (dp->stop set or not), free the sessions (keys wiped), the rings (and
 * the mbufs in them), the certificate. Again: nothing. */
void dp_dtls_stop(struct dataplane *dp);

/* Control thread: participant c was put (c as applied) / deleted: its DTLS configuration. */
void dp_dtls_put(const struct mmr_cmd_participant *c);
void dp_dtls_del(uint32_t pid);
/* Control thread: the generation of pid's DTLS configuration (0: not DTLS). */
uint32_t dp_dtls_gen(uint32_t pid);
/* Control thread: the last MMR_EV_DTLS sent for pid, as generation << 32 | v0 (0: none, or its
 * configuration changed since), for snapshots (dp_events.c); and the record of one sent. */
uint64_t dp_dtls_state_word(uint32_t pid);
void dp_dtls_state_sent(uint32_t pid, uint32_t gen, uint32_t v0);

/* A handshake's outcome for the control thread. */
struct dp_dtls_result {
	uint32_t pid;
	uint32_t gen;          /* the configuration it was made for */
	uint8_t  state;        /* enum mmr_dtls_state */
	uint8_t  fail;         /* enum mmr_dtls_fail */
	uint8_t  suite;        /* enum srtp_suite (connected) */
	struct srtp_master local;    /* connected: what we protect with (its RECV key) */
	struct srtp_master remote;   /* connected: what it protects with (its SEND key) */
};
/* Control thread: the next result into *r (keys copied, the slot wiped): 1, or 0 when none. The
 * caller wipes *r. */
int dp_dtls_result_pop(struct dp_dtls_result *r);

/* Worker: a UDP datagram to our port whose first byte is 20..63. MMR_DROP_NONE: m was handed to the
 * DTLS thread (not ours any more); otherwise the drop reason (m untouched). */
enum mmr_drop_reason dp_dtls_in(struct worker *w, struct rte_mbuf *m, const struct pkt_info *pi);
/* Worker, every loop: send what the DTLS thread made for us. */
void dp_dtls_tx(struct worker *w);

#endif
