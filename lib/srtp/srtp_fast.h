/*
 * srtp_fast.h - SRTP and SRTCP (RFC 3711, RFC 7714 AEAD-GCM) on OpenSSL, for the dataplane's packet
 * path: per-stream crypto contexts owned by one lcore, no locks, no allocation per packet, no syscalls.
 * Interoperable with libsrtp2 peers (tests/unit/test_srtp_fast.c checks it against libsrtp2 and the
 * RFC 7714 test vectors).
 *
 * Keys: a participant's master key and salt (SDES "inline:" material) are expanded once into session
 * keys (struct srtp_keys, RFC 3711 section 4.3 KDF with AES-CM PRF); any number of per-SSRC stream
 * contexts are then made from them. Contexts are set up and freed by the control thread, used by one
 * lcore only.
 */
#ifndef MMR_SRTP_FAST_H
#define MMR_SRTP_FAST_H

#include <stdint.h>
#include <stddef.h>
#include "drop_reason.h"
#include "srtp_master.h"   /* suites, struct srtp_master */

#define SRTP_MAX_TRAILER 16  /* bytes protect may add to an RTP packet (tag) */
#define SRTCP_MAX_TRAILER 20 /* tag + SRTCP index (+ MKI none) */

/* Opaque: derived session keys of one master key (RTP and RTCP), and per-SSRC stream state. */
struct srtp_keys;
struct srtp_stream;

/* Control thread. NULL on bad suite / key length (errno EINVAL) or no memory. */
struct srtp_keys *srtp_keys_new(const struct srtp_master *m);
void srtp_keys_free(struct srtp_keys *k);
/* A stream context (ROC, replay window, cipher contexts) for one SSRC in one direction. It copies
 * what it needs from k: k may be freed while the stream lives. NULL (errno EINVAL, ENOMEM) on
 * error. */
struct srtp_stream *srtp_stream_new(const struct srtp_keys *k);
void srtp_stream_free(struct srtp_stream *s);

/*
 * Restarts. An SRTP stream outlives a dataplane that dies: the peer keeps its context, rollover
 * counter (ROC) included, so a new context for the same SSRC and key must go on from where the old
 * one was. A context's "position" is its highest RTP packet index (inbound: authenticated; outbound:
 * sent) rounded down to a multiple of SRTP_INDEX_STEP, i.e. ROC << 16 | (SEQ & 0x8000): it changes
 * twice per 65536 packets, so publishing it (for `mmrctl stats`) costs nothing on the packet path.
 *
 * srtp_stream_set_roc: start this context's RTP at rollover counter roc instead of 0 (control thread,
 *   before the context is used). seq_hint_valid 0: the first packet (sent or authenticated) gets ROC
 *   roc exactly. seq_hint_valid 1: seq_hint is about where the sequence number was (within +-2^14);
 *   the first packet's index is guessed against roc << 16 | seq_hint as if that were the highest
 *   index seen (RFC 3711 appendix A), so its ROC may be roc - 1 or roc + 1 (never below 0). Either
 *   way the first packet then establishes the highest index; the replay window starts empty.
 *   It also arms the unsynchronised probe (inbound): until a packet has authenticated, one that fails
 *   under the guessed ROC is tried once with ROC + 1 and once with ROC - 1 (a wrap while the
 *   dataplane was down). The probe ends with the first authenticated packet, so it costs nothing on
 *   the steady path; while it lasts a forged packet costs up to three tag checks and has three
 *   chances instead of one (3 * 2^-128 for GCM, 3 * 2^-80 for HMAC-SHA1-80). Contexts that were not
 *   given a ROC (srtp_stream_new alone, e.g. a rekey's) do not probe.
 * srtp_stream_resume: the same from a position: ROC = index >> 16, seq_hint = the middle of the half
 *   the position names. 0 (a new stream) gives ROC 0 to any first packet. index must be below 2^48.
 * srtp_stream_set_index_sink: publish the position to *sink (a relaxed atomic 64-bit store by the
 *   lcore using the context) whenever it changes, and at the first packet of a context that was not
 *   resumed; NULL stops it. Atomic itself: the control thread may call it while an lcore uses s.
 */
#define SRTP_INDEX_STEP 0x8000u
#define SRTP_INDEX_MAX  0xffffffffffffull
void srtp_stream_set_roc(struct srtp_stream *s, uint32_t roc, uint16_t seq_hint, int seq_hint_valid);
void srtp_stream_set_index_sink(struct srtp_stream *s, uint64_t *sink);
static inline void srtp_stream_resume(struct srtp_stream *s, uint64_t index)
{
	srtp_stream_set_roc(s, (uint32_t)((index & SRTP_INDEX_MAX) >> 16),
			    (uint16_t)((index & SRTP_INDEX_STEP) | (SRTP_INDEX_STEP >> 1)), 1);
}

/*
 * Index leases: the one rule that no (key, SSRC, index) is ever encrypted twice, and that no packet
 * accepted once is accepted again, across restarts (docs/design.md, "Keys"). Each protocol (RTP,
 * RTCP) of a context has a lease [floor, limit): outbound it encrypts only at indexes inside it,
 * inbound it accepts only indexes inside it. The owner (the dataplane) makes every limit durable
 * before it grants it (lib/srtp/srtp_ledger.h), and starts a context that may have had a predecessor at
 * that predecessor's durable limit: every index used before is below the new floor.
 *
 * A context from srtp_stream_new is unleased (floor 0, no limit): right for a client whose contexts
 * live exactly as long as its process (mmr-gen, tests). The dataplane leases every context.
 *
 * srtp_stream_lease: (control thread, before the context is used) floor, the first limit (floor:
 *   nothing may be used until srtp_stream_lease_grant), the window the owner extends it by, and the
 *   ticket that srtp_lease_hook is called with. RTP, floor > 0:
 *     outbound: the first packet is sent at index floor exactly, whatever its sequence number: the
 *       context adds a fixed offset to every sequence number it encrypts (written into the copy), so
 *       the receiver sees its stream go on a little ahead of where it was (less than 2^15, so its
 *       ROC guess stays right: docs/design.md);
 *     inbound: the first packet's ROC is guessed around floor (as srtp_stream_resume) and any
 *       index below floor is a replay.
 * srtp_stream_lease_grant: (control thread, any time) raise the limit (a relaxed atomic store; a
 *   lower value is ignored). The lcore sees it at its next packet.
 * Provisional leases (inbound RTP of a new identity, whose first index can be anything in ROC 0):
 *   srtp_stream_lease with window SRTP_LEASE_PROVISIONAL and a limit covering ROC 0; the lcore asks
 *   at the first packet that authenticates. srtp_stream_lease_narrow (control thread) then lowers
 *   the limit and sets the real window; once every lcore has passed a quiescent state (RCU), no
 *   index at or beyond the new limit is accepted any more, and srtp_stream_lease_top (the highest
 *   index accepted: a relaxed load) says what was: the owner records the narrowed limit from them.
 * srtp_stream_lease_asked: (control thread) the highest index used when the lcore last asked for
 *   more (0 if it never asked). srtp_stream_lease_ticket: the ticket given to srtp_stream_lease.
 * srtp_set_lease_hook: process-wide; the lcore calls hook(ticket) when a packet's index comes
 *   within half a window of the limit (or reaches it), once per limit value: 0 if the request was
 *   taken (the lcore asks again only after the limit changed), -1 to be asked again at the next
 *   packet. Never called for unleased contexts. Runs on the packet path: no locks, no syscalls.
 *
 * Packets refused by a lease: outbound, protect returns 0 and srtp_protect_why() says why
 * (MMR_DROP_SRTP_REUSE below the floor or at an index already sent, MMR_DROP_SRTP_LEASE at or
 * beyond the limit); inbound, unprotect returns MMR_DROP_SRTP_REPLAY below the floor and
 * MMR_DROP_SRTP_LEASE at or beyond the limit (before any crypto: the packet is left as it came).
 */
enum srtp_proto { SRTP_PROTO_RTP = 0, SRTP_PROTO_RTCP = 1 };
#define SRTP_LEASE_UNLIMITED UINT64_MAX
#define SRTP_LEASE_PROVISIONAL UINT32_MAX   /* window of a provisional lease */
typedef int (*srtp_lease_hook_fn)(uint32_t ticket);
void srtp_set_lease_hook(srtp_lease_hook_fn hook);
void srtp_stream_lease(struct srtp_stream *s, enum srtp_proto proto, uint64_t floor, uint64_t limit,
		       uint32_t window, uint32_t ticket);
void srtp_stream_lease_grant(struct srtp_stream *s, enum srtp_proto proto, uint64_t limit);
void srtp_stream_lease_narrow(struct srtp_stream *s, enum srtp_proto proto, uint64_t limit,
			      uint32_t window);
uint64_t srtp_stream_lease_top(const struct srtp_stream *s, enum srtp_proto proto);
uint64_t srtp_stream_lease_limit(const struct srtp_stream *s, enum srtp_proto proto);
uint64_t srtp_stream_lease_asked(const struct srtp_stream *s, enum srtp_proto proto);
uint32_t srtp_stream_lease_ticket(const struct srtp_stream *s, enum srtp_proto proto);
enum mmr_drop_reason srtp_protect_why(const struct srtp_stream *s);

/*
 * Packet path. Buffers are the RTP/RTCP packet starting at its first byte.
 * srtp_unprotect_rtp: authenticate and decrypt in place; *len shrinks by the trailer. Returns
 *   MMR_DROP_NONE, or MMR_DROP_SRTP_AUTH (tag mismatch, too short, RTP header not well formed),
 *   MMR_DROP_SRTP_REPLAY (replayed, older than the 128-packet window, or before the stream's first
 *   packet at ROC 0). Only an authenticated packet updates ROC and the replay window (and may
 *   publish the position, see above). On a drop the
 *   packet and *len are left exactly as they were (so it may be tried under a second context, e.g.
 *   the previous key during a rekey).
 * srtp_protect_rtp_copy: encrypt src (len bytes, header in clear) into dst (which may equal src, or
 *   must not overlap it), append the tag; returns the new length (len + 16 for GCM, len + 10 for
 *   AES-CM), or 0 (srtp_protect_why: MMR_DROP_NO_MBUF) if dst_cap is too small or src is not a
 *   well-formed RTP header, or 0 (MMR_DROP_SRTP_REUSE) if its index was already used by this
 *   context (a duplicate, or older than the 128 newest indexes sent), lies before the first one
 *   this stream sent (it would need ROC -1) or below the lease's floor, or would pass 2^48, or 0
 *   (MMR_DROP_SRTP_LEASE) beyond the lease. Sequence-number rollover is tracked from the packets
 *   themselves (the caller writes contiguous sequence numbers). Only an encrypted packet uses its
 *   index up.
 * RTCP variants likewise: protect always encrypts (E flag set) and appends index (counting from the
 *   lease's floor) and tag (len + 20 GCM, len + 14 AES-CM); unprotect also takes
 *   authenticated-only SRTCP (E clear), and keeps a replay window per sender SSRC (the SRTCP index
 *   counts per SSRC; one context hears up to 8 sender SSRCs, a 9th is refused as a replay; the
 *   inbound lease's floor holds for all of them).
 */
enum mmr_drop_reason srtp_unprotect_rtp(struct srtp_stream *s, uint8_t *pkt, uint32_t *len);
/*
 * srtp_verify_rtp_new: is the SRTP packet pkt (len bytes, tag included) authentic under s's RTP
 *   session keys as a packet of a NEW stream, i.e. at ROC 0 (index = its sequence number)?
 *   MMR_DROP_NONE, or MMR_DROP_SRTP_AUTH (tag mismatch, too short, header not well formed).
 *   Verify only: the packet is not written (GCM decrypts into a small stack buffer, AES-CM checks
 *   the HMAC alone), and nothing of s's ROC, replay window, lease or position is read or changed;
 *   only its cipher context is re-initialised, as by any packet. So any context of the sender's key
 *   will do, whatever SSRC it serves (SSRC learning uses the participant's RTCP context, learn.h).
 *   No allocation.
 */
enum mmr_drop_reason srtp_verify_rtp_new(struct srtp_stream *s, const uint8_t *pkt, uint32_t len);
uint32_t srtp_protect_rtp_copy(struct srtp_stream *s, const uint8_t *src, uint32_t len,
			       uint8_t *dst, uint32_t dst_cap);
enum mmr_drop_reason srtp_fast_unprotect_rtcp(struct srtp_stream *s, uint8_t *pkt, uint32_t *len);
uint32_t srtp_protect_rtcp_copy(struct srtp_stream *s, const uint8_t *src, uint32_t len,
				uint8_t *dst, uint32_t dst_cap);

/*
 * libsrtp2 exports a function named srtp_unprotect_rtcp too, so ours links as
 * srtp_fast_unprotect_rtcp (a program may link both: the unit test does). srtp_unprotect_rtcp is
 * this inline alias, left out where <srtp2/srtp.h> was included first.
 */
#ifndef SRTP_SRTP_H
static inline enum mmr_drop_reason srtp_unprotect_rtcp(struct srtp_stream *s, uint8_t *pkt,
							uint32_t *len)
{
	return srtp_fast_unprotect_rtcp(s, pkt, len);
}
#endif

#endif
