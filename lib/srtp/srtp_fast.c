/*
 * srtp_fast.c - SRTP and SRTCP packet transforms for the dataplane's packet path (srtp_fast.h):
 * AEAD_AES_128_GCM / AEAD_AES_256_GCM (RFC 7714) and AES_CM_128_HMAC_SHA1_80 (RFC 3711) on OpenSSL,
 * wire-compatible with libsrtp2.
 *
 * A stream context holds, for one SSRC in one direction, everything a packet needs, so the packet
 * path does no allocation, takes no lock and makes no system call:
 *   - two EVP_CIPHER_CTX (SRTP, SRTCP) keyed once at srtp_stream_new(); each packet only sets the IV
 *     (EVP_CipherInit_ex with a NULL cipher and key keeps the key schedule and GHASH tables);
 *   - for the HMAC suite, SHA-1 states already fed with (auth key ^ ipad) and (auth key ^ opad).
 *     OpenSSL 3.0's EVP_MAC and HMAC_CTX allocate on every re-init or copy (2 to 4 mallocs per
 *     packet, measured), so HMAC is done here from the low-level SHA-1 functions (deprecated in
 *     3.0 but still the same assembly); a packet costs two struct copies of the pre-keyed states;
 *   - the salts, the rollover counter state and the 128-packet replay windows.
 *
 * Packet index (RFC 3711 section 3.3.1): i = 2^16 * ROC + SEQ, 48 bits. Inbound, the ROC of a packet
 * is guessed from its SEQ and the highest index authenticated so far (appendix A); outbound, the same
 * guess against the highest index sent follows the caller's sequence numbers over 65535 -> 0.
 *
 * Wire formats (tag = 16 bytes GCM, 10 bytes HMAC-SHA1-80):
 *   SRTP       header | payload (encrypted) | tag
 *     GCM:     IV = salt ^ (00 00 | SSRC | ROC | SEQ), AAD = header (with CSRCs and extension)
 *     AES-CM:  IV = (salt | 00 00) ^ (SSRC << 64) ^ (i << 16), tag = HMAC(header | payload | ROC)
 *   SRTCP      first 8 bytes clear | rest (encrypted if E) | trailer
 *     GCM:     ... | tag | E+index (libsrtp2's and RFC 7714's order), IV = salt ^ (00 00 | SSRC |
 *              00 00 | index), AAD = first 8 bytes | E+index (E clear: the whole packet | E+index)
 *     AES-CM:  ... | E+index | tag, tag = HMAC(everything before it), IV as SRTP with i = index
 * SRTCP packets we send are always encrypted (E set), index counting from 0.
 *
 * Restarts (srtp_fast.h): a context may be told where its stream was (srtp_stream_set_roc); its
 * first packet's index is then taken from that instead of ROC 0, and until a packet authenticates a
 * failure is retried at ROC + 1 and ROC - 1. The position (highest index rounded down to 2^15) is
 * published through an optional sink pointer when it changes: one mask and compare per packet.
 */
#define OPENSSL_SUPPRESS_DEPRECATED     /* SHA1_Init/Update/Final: see above */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "srtp_keys.h"
#include "be_bytes.h"

#define GCM_TAG_LEN        16
#define HMAC_TAG_LEN       10
#define SRTCP_TRAILER_LEN  4          /* E flag + 31-bit index */
#define SRTCP_E_FLAG       0x80000000u
#define SRTCP_INDEX_MAX    0x7fffffffu
#define RTCP_CLEAR_LEN     8          /* V/P/RC, PT, length, SSRC */
#define MAX_PKT_LEN        65535u     /* bigger cannot come from UDP; keeps EVP's int lengths safe */
#define REPLAY_WINDOW      128

/* Highest index authenticated and a bitmap of the 128 indexes at and below it (bit k: top - k). */
struct replay {
	uint64_t top;
	unsigned __int128 seen;
	int started;
};

/* SHA-1 after one block of (key ^ ipad) and of (key ^ opad). */
struct hmac_sha1 {
	SHA_CTX inner;
	SHA_CTX outer;
};

/* An index lease (srtp_fast.h): [floor, limit), limit raised by the control thread. */
struct lease {
	uint64_t floor;
	uint64_t limit;                   /* atomic: the control thread raises it */
	uint64_t asked_limit;             /* lcore: the limit it last asked more of (UINT64_MAX: none) */
	uint64_t asked_top;               /* atomic: highest index used when it asked */
	uint32_t half;                    /* ask for more within half a window of the limit */
	uint32_t ticket;
};

/* The state of one protocol (SRTP or SRTCP) in the stream. */
struct proto_ctx {
	EVP_CIPHER_CTX *cipher;
	uint8_t salt[SRTP_MAX_SALT];
	struct replay in;                 /* unprotect */
	struct replay sent;               /* protect, SRTP: the indexes sent (top: the highest) */
	uint64_t out_next;                /* protect, SRTCP: next index */
	uint16_t seq_shift;               /* protect, SRTP: added to every sequence number (leases) */
	uint8_t  rebase;                  /* protect, SRTP: the first packet goes at lease.floor */
	struct lease lease;
	struct hmac_sha1 hmac;            /* HMAC suite only */
};

/* How the first RTP packet's ROC is chosen (srtp_stream_set_roc). */
enum first_roc {
	FIRST_ROC_ZERO = 0,               /* a new stream: ROC 0 */
	FIRST_ROC_EXACT,                  /* resume_top >> 16 */
	FIRST_ROC_NEAREST,                /* the index nearest resume_top (RFC 3711 appendix A) */
};

#define INDEX_POS_MASK   (~(uint64_t)(SRTP_INDEX_STEP - 1))
#define POS_NONE         UINT64_MAX   /* nothing published yet */

/* SRTCP inbound replay state of one sender SSRC (the index is per SSRC, RFC 3711 3.3.2): a
 * participant's RTCP context hears several (a browser's receive streams report as 1 and 0xFA17FA17,
 * beside its senders' SSRCs), each counting from its own start. */
#define SRTCP_IN_SSRCS 8
struct srtcp_in {
	uint32_t ssrc;
	uint8_t  used;
	struct replay w;
};

struct srtp_stream {
	enum srtp_suite suite;
	int aead;                         /* GCM: 1, AES-CM + HMAC: 0 */
	uint32_t tag_len;
	struct proto_ctx rtp;
	struct proto_ctx rtcp;            /* rtcp.in: the highest index accepted of any SSRC (leases) */
	struct srtcp_in rtcp_in[SRTCP_IN_SSRCS];  /* unprotect: replay windows by sender SSRC */
	/* restarts: RTP only */
	enum first_roc first;
	int probe;                        /* unsynchronised: retry a failed first packet at ROC +- 1 */
	uint64_t resume_top;              /* where the stream was (FIRST_ROC_EXACT, _NEAREST) */
	uint64_t pos;                     /* last position published (POS_NONE: none) */
	uint64_t *sink;                   /* where to publish it (atomic pointer); NULL: nowhere */
	enum mmr_drop_reason why;         /* the last protect's refusal (srtp_protect_why) */
};

static srtp_lease_hook_fn lease_hook;

/* ---- small helpers ------------------------------------------------------------------------- */

static inline void xor32(uint8_t *p, uint32_t v)
{
	p[0] ^= (uint8_t)(v >> 24);
	p[1] ^= (uint8_t)(v >> 16);
	p[2] ^= (uint8_t)(v >> 8);
	p[3] ^= (uint8_t)v;
}

/* Length of the RTP header (fixed part, CSRCs, extension), or 0 if it does not fit in len. */
static inline uint32_t rtp_header_len(const uint8_t *p, uint32_t len)
{
	uint32_t h;

	if (len < 12 || (p[0] >> 6) != 2)
		return 0;
	h = 12 + 4u * (p[0] & 0x0f);
	if (p[0] & 0x10) {
		if (len < h + 4)
			return 0;
		h += 4 + 4u * get_be16(p + h + 2);
	}
	return h <= len ? h : 0;
}

/* ---- replay window and ROC guess ----------------------------------------------------------- */

/* 0 if idx may be accepted (not seen, not older than the window). */
static inline int replay_check(const struct replay *w, uint64_t idx)
{
	uint64_t d;

	if (!w->started || idx > w->top)
		return 0;
	d = w->top - idx;
	if (d >= REPLAY_WINDOW)
		return -1;
	return (int)(w->seen >> d) & 1 ? -1 : 0;
}

static inline void replay_accept(struct replay *w, uint64_t idx)
{
	if (!w->started) {
		w->started = 1;
		w->top = idx;
		w->seen = 1;
	} else if (idx > w->top) {
		uint64_t d = idx - w->top;

		w->seen = d >= REPLAY_WINDOW ? 1 : (w->seen << d) | 1;
		__atomic_store_n(&w->top, idx, __ATOMIC_RELAXED);  /* srtp_stream_lease_top reads it */
	} else {
		w->seen |= (unsigned __int128)1 << (w->top - idx);
	}
}

/*
 * RFC 3711 appendix A: the index of a packet with sequence number seq, given the highest index top
 * seen so far (ROC = top >> 16, s_l = top & 0xffff). Returns -1 for a packet that would belong to
 * ROC -1 (a late packet from before the very first one): no such index exists.
 */
static inline int64_t index_guess(uint64_t top, int started, uint16_t seq)
{
	uint64_t roc = top >> 16;
	uint32_t s_l = (uint32_t)(top & 0xffff);

	if (!started)
		return seq;
	if (s_l < 32768) {
		if ((uint32_t)seq > s_l + 32768) {
			if (roc == 0)
				return -1;
			roc--;
		}
	} else if (s_l - 32768 > (uint32_t)seq) {
		roc++;
	}
	return (int64_t)((roc << 16) | seq);
}

/* Index of the first RTP packet of a context (nothing sent or authenticated yet). */
static inline uint64_t first_index(const struct srtp_stream *s, uint16_t seq)
{
	int64_t g;

	switch (s->first) {
	case FIRST_ROC_EXACT:
		return (s->resume_top & ~(uint64_t)0xffff) | seq;
	case FIRST_ROC_NEAREST:
		g = index_guess(s->resume_top, 1, seq);
		return g < 0 ? seq : (uint64_t)g;     /* there is no ROC -1: the stream was at ROC 0 */
	default:
		return seq;
	}
}

/* The highest index is now top: publish its position if that changed (rare: twice per 2^16). */
static void publish_slow(struct srtp_stream *s, uint64_t pos)
{
	uint64_t *sink = __atomic_load_n(&s->sink, __ATOMIC_RELAXED);

	s->pos = pos;
	if (sink)
		__atomic_store_n(sink, pos, __ATOMIC_RELAXED);
}

static inline void publish(struct srtp_stream *s, uint64_t top)
{
	uint64_t pos = top & INDEX_POS_MASK;

	if (__builtin_expect(pos != s->pos, 0))
		publish_slow(s, pos);
}

/* ---- leases -------------------------------------------------------------------------------- */

/* Ask the owner for more once per limit value, when idx (about to be used, or refused at the limit)
 * comes within half a window of it. Rare: twice per window. */
static void lease_ask_slow(struct lease *l, uint64_t limit, uint64_t top)
{
	srtp_lease_hook_fn hook = __atomic_load_n(&lease_hook, __ATOMIC_RELAXED);

	__atomic_store_n(&l->asked_top, top, __ATOMIC_RELAXED);
	if (hook && hook(l->ticket) == 0)
		l->asked_limit = limit;
}

/* MMR_DROP_NONE if idx lies in the lease, else why not (below the floor: REUSE; at or beyond the
 * limit: LEASE). When idx is within half a window of the limit or beyond it, ask for more
 * (outbound: before the index is used; inbound: only once the packet authenticated, so a forged
 * packet cannot move the durable limit; its floor is checked before the crypto). */
static inline enum mmr_drop_reason lease_check(struct lease *l, uint64_t idx)
{
	uint64_t limit = __atomic_load_n(&l->limit, __ATOMIC_RELAXED);

	if (__builtin_expect(limit == SRTP_LEASE_UNLIMITED, 1) && l->floor == 0)
		return MMR_DROP_NONE;
	if (idx < l->floor)
		return MMR_DROP_SRTP_REUSE;
	if (__builtin_expect(idx < limit && limit - idx > __atomic_load_n(&l->half, __ATOMIC_RELAXED), 1))
		return MMR_DROP_NONE;
	if (limit != l->asked_limit)
		lease_ask_slow(l, limit, idx);
	return idx < limit ? MMR_DROP_NONE : MMR_DROP_SRTP_LEASE;
}

/* ---- HMAC-SHA1-80 -------------------------------------------------------------------------- */

static void hmac_prekey(struct hmac_sha1 *h, const uint8_t key[SRTP_AUTH_KEY_LEN])
{
	uint8_t pad[SHA_CBLOCK];

	memset(pad, 0x36, sizeof(pad));
	for (int i = 0; i < SRTP_AUTH_KEY_LEN; i++)
		pad[i] ^= key[i];
	SHA1_Init(&h->inner);
	SHA1_Update(&h->inner, pad, sizeof(pad));
	memset(pad, 0x5c, sizeof(pad));
	for (int i = 0; i < SRTP_AUTH_KEY_LEN; i++)
		pad[i] ^= key[i];
	SHA1_Init(&h->outer);
	SHA1_Update(&h->outer, pad, sizeof(pad));
	OPENSSL_cleanse(pad, sizeof(pad));
}

/* HMAC-SHA1(msg | tail[tail_len]) into mac[20]. */
static inline void hmac_sha1(const struct hmac_sha1 *h, const uint8_t *msg, size_t len,
			     const uint8_t *tail, size_t tail_len, uint8_t mac[SHA_DIGEST_LENGTH])
{
	SHA_CTX c = h->inner;

	SHA1_Update(&c, msg, len);
	if (tail_len)
		SHA1_Update(&c, tail, tail_len);
	SHA1_Final(mac, &c);
	c = h->outer;
	SHA1_Update(&c, mac, SHA_DIGEST_LENGTH);
	SHA1_Final(mac, &c);
}

/* ---- IVs ----------------------------------------------------------------------------------- */

/* GCM SRTP: salt ^ (00 00 | SSRC | ROC | SEQ); SRTCP: salt ^ (00 00 | SSRC | 00 00 | index). */
static inline void gcm_iv(uint8_t iv[12], const uint8_t *salt, uint32_t ssrc, uint32_t hi,
			  uint32_t lo)
{
	memcpy(iv, salt, 12);
	xor32(iv + 2, ssrc);
	xor32(iv + 6, hi);
	iv[10] ^= (uint8_t)(lo >> 8);
	iv[11] ^= (uint8_t)lo;
}

/* AES-CM: (salt | 00 00) ^ (SSRC << 64) ^ (i << 16), i = 48-bit packet index or SRTCP index. */
static inline void cm_iv(uint8_t iv[16], const uint8_t *salt, uint32_t ssrc, uint64_t i)
{
	memcpy(iv, salt, 14);
	iv[14] = 0;
	iv[15] = 0;
	xor32(iv + 4, ssrc);
	iv[8] ^= (uint8_t)(i >> 40);
	iv[9] ^= (uint8_t)(i >> 32);
	xor32(iv + 10, (uint32_t)i);
}

/* ---- AEAD (GCM) core ----------------------------------------------------------------------- */

/* Encrypt in -> out (may be equal), authenticating aad1 | aad2; tag to tag_out. 0 on success. */
static int gcm_seal(EVP_CIPHER_CTX *ctx, const uint8_t iv[12], const uint8_t *aad1, int aad1_len,
		    const uint8_t *aad2, int aad2_len, const uint8_t *in, uint8_t *out, int len,
		    uint8_t *tag_out)
{
	int n;

	if (EVP_CipherInit_ex(ctx, NULL, NULL, NULL, iv, 1) != 1)
		return -1;
	if (EVP_CipherUpdate(ctx, NULL, &n, aad1, aad1_len) != 1)
		return -1;
	if (aad2_len && EVP_CipherUpdate(ctx, NULL, &n, aad2, aad2_len) != 1)
		return -1;
	if (len && EVP_CipherUpdate(ctx, out, &n, in, len) != 1)
		return -1;
	if (EVP_CipherFinal_ex(ctx, out + len, &n) != 1)
		return -1;
	return EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, GCM_TAG_LEN, tag_out) == 1 ? 0 : -1;
}

/*
 * Decrypt buf in place, checking tag over aad1 | aad2 | ciphertext. 0 if authentic. GCM decrypts
 * while it authenticates, so a packet that fails has been overwritten by then: it is put back by
 * running the same counter-mode keystream over it again (only on failure), so that a caller may
 * try the packet under another key (rekeying) and a dropped packet is left as it came.
 */
static int gcm_open(EVP_CIPHER_CTX *ctx, const uint8_t iv[12], const uint8_t *aad1, int aad1_len,
		    const uint8_t *aad2, int aad2_len, uint8_t *buf, int len, const uint8_t *tag)
{
	int n;

	if (EVP_CipherInit_ex(ctx, NULL, NULL, NULL, iv, 0) != 1)
		return -1;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, GCM_TAG_LEN, (void *)tag) != 1)
		return -1;
	if (EVP_CipherUpdate(ctx, NULL, &n, aad1, aad1_len) != 1)
		return -1;
	if (aad2_len && EVP_CipherUpdate(ctx, NULL, &n, aad2, aad2_len) != 1)
		return -1;
	if (!len)
		return EVP_CipherFinal_ex(ctx, buf, &n) == 1 ? 0 : -1;
	if (EVP_CipherUpdate(ctx, buf, &n, buf, len) != 1)
		return -1;          /* not reached: OpenSSL fails an update only on length overflow */
	if (EVP_CipherFinal_ex(ctx, buf + len, &n) == 1)
		return 0;
	/* Restore the ciphertext; the keystream does not depend on the AAD. The next packet's
	 * EVP_CipherInit_ex resets the context. */
	if (EVP_CipherInit_ex(ctx, NULL, NULL, NULL, iv, 1) == 1)
		EVP_CipherUpdate(ctx, buf, &n, buf, len);
	return -1;
}

/* Check tag over aad | ct without writing ct: the plaintext goes through a stack buffer, a chunk at
 * a time, and is wiped. 0 if authentic. */
static int gcm_check(EVP_CIPHER_CTX *ctx, const uint8_t iv[12], const uint8_t *aad, int aad_len,
		     const uint8_t *ct, int len, const uint8_t *tag)
{
	uint8_t scratch[256];
	int n, r = -1;

	if (EVP_CipherInit_ex(ctx, NULL, NULL, NULL, iv, 0) != 1)
		return -1;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, GCM_TAG_LEN, (void *)tag) != 1)
		return -1;
	if (EVP_CipherUpdate(ctx, NULL, &n, aad, aad_len) != 1)
		return -1;
	for (int off = 0; off < len; off += (int)sizeof(scratch)) {
		int chunk = len - off < (int)sizeof(scratch) ? len - off : (int)sizeof(scratch);

		if (EVP_CipherUpdate(ctx, scratch, &n, ct + off, chunk) != 1)
			goto out;
	}
	r = EVP_CipherFinal_ex(ctx, scratch, &n) == 1 ? 0 : -1;
out:
	OPENSSL_cleanse(scratch, sizeof(scratch));
	return r;
}

/* AES-CM: XOR the keystream for iv into in -> out (may be equal). */
static inline int cm_crypt(EVP_CIPHER_CTX *ctx, const uint8_t iv[16], const uint8_t *in,
			   uint8_t *out, int len)
{
	int n;

	if (!len)
		return 0;
	if (EVP_CipherInit_ex(ctx, NULL, NULL, NULL, iv, 1) != 1)
		return -1;
	return EVP_CipherUpdate(ctx, out, &n, in, len) == 1 ? 0 : -1;
}

/* ---- SRTP ---------------------------------------------------------------------------------- */

/* Authenticate and decrypt an RTP packet (header h bytes, body, tag) as index idx. 0 if authentic;
 * on failure the packet is as it came. */
static int rtp_open(struct srtp_stream *s, uint8_t *pkt, uint32_t h, uint32_t body, uint32_t ssrc,
		    uint64_t idx)
{
	struct proto_ctx *pc = &s->rtp;
	uint32_t roc = (uint32_t)(idx >> 16);
	uint16_t seq = (uint16_t)idx;

	if (s->aead) {
		uint8_t iv[12];

		gcm_iv(iv, pc->salt, ssrc, roc, seq);
		return gcm_open(pc->cipher, iv, pkt, (int)h, NULL, 0, pkt + h, (int)body, pkt + h + body);
	} else {
		uint8_t mac[SHA_DIGEST_LENGTH], roc_be[4], iv[16];

		put_be32(roc_be, roc);
		hmac_sha1(&pc->hmac, pkt, h + body, roc_be, 4, mac);
		if (CRYPTO_memcmp(mac, pkt + h + body, HMAC_TAG_LEN) != 0)
			return -1;
		cm_iv(iv, pc->salt, ssrc, idx);
		return cm_crypt(pc->cipher, iv, pkt + h, pkt + h, (int)body);
	}
}

/* An SRTP packet of len bytes as header (*h) and encrypted body (*body), the tag after it: 0, or -1
 * when it is too long, its RTP header is not well formed or it has no room for the tag. */
static inline int srtp_rtp_split(const struct srtp_stream *s, const uint8_t *pkt, uint32_t len, uint32_t *h,
				 uint32_t *body)
{
	if (len > MAX_PKT_LEN)
		return -1;
	*h = rtp_header_len(pkt, len);
	if (!*h || len < *h + s->tag_len)
		return -1;
	*body = len - *h - s->tag_len;
	return 0;
}

enum mmr_drop_reason srtp_unprotect_rtp(struct srtp_stream *s, uint8_t *pkt, uint32_t *len)
{
	struct proto_ctx *pc = &s->rtp;
	uint32_t l = *len, h, body, ssrc;
	uint16_t seq;
	int64_t guess;
	uint64_t idx;
	enum mmr_drop_reason why;

	if (srtp_rtp_split(s, pkt, l, &h, &body))
		return MMR_DROP_SRTP_AUTH;
	seq = get_be16(pkt + 2);
	ssrc = get_be32(pkt + 8);
	if (__builtin_expect(pc->in.started, 1)) {
		guess = index_guess(pc->in.top, 1, seq);
		if (guess < 0)
			return MMR_DROP_SRTP_REPLAY;
		idx = (uint64_t)guess;
		if (replay_check(&pc->in, idx))
			return MMR_DROP_SRTP_REPLAY;
	} else {
		idx = first_index(s, seq);
	}
	if (__builtin_expect(idx < pc->lease.floor, 0))
		return MMR_DROP_SRTP_REPLAY;    /* below the floor: accepted by a predecessor, maybe */

	if (rtp_open(s, pkt, h, body, ssrc, idx)) {
		/* unsynchronised probe (srtp_fast.h): the ROC guess may be one off after a restart */
		if (__builtin_expect(pc->in.started || !s->probe, 1))
			return MMR_DROP_SRTP_AUTH;
		if ((idx >> 16) < UINT32_MAX && !rtp_open(s, pkt, h, body, ssrc, idx + 0x10000))
			idx += 0x10000;
		else if ((idx >> 16) > 0 && idx - 0x10000 >= pc->lease.floor &&
			 !rtp_open(s, pkt, h, body, ssrc, idx - 0x10000))
			idx -= 0x10000;
		else
			return MMR_DROP_SRTP_AUTH;
	}
	/* authentic: ask for more index near the limit; beyond it, not accepted (the packet is left
	 * decrypted: the caller drops it) */
	why = lease_check(&pc->lease, idx);
	if (__builtin_expect(why != MMR_DROP_NONE, 0))
		return why;
	replay_accept(&pc->in, idx);
	publish(s, pc->in.top);
	*len = h + body;
	return MMR_DROP_NONE;
}

enum mmr_drop_reason srtp_verify_rtp_new(struct srtp_stream *s, const uint8_t *pkt, uint32_t len)
{
	struct proto_ctx *pc = &s->rtp;
	uint32_t h, body, ssrc;
	uint16_t seq;

	if (srtp_rtp_split(s, pkt, len, &h, &body))
		return MMR_DROP_SRTP_AUTH;
	seq = get_be16(pkt + 2);
	ssrc = get_be32(pkt + 8);
	if (s->aead) {
		uint8_t iv[12];

		gcm_iv(iv, pc->salt, ssrc, 0, seq);       /* ROC 0 */
		return gcm_check(pc->cipher, iv, pkt, (int)h, pkt + h, (int)body, pkt + h + body) ?
			       MMR_DROP_SRTP_AUTH : MMR_DROP_NONE;
	} else {
		static const uint8_t roc0[4];
		uint8_t mac[SHA_DIGEST_LENGTH];

		hmac_sha1(&pc->hmac, pkt, h + body, roc0, 4, mac);
		return CRYPTO_memcmp(mac, pkt + h + body, HMAC_TAG_LEN) != 0 ? MMR_DROP_SRTP_AUTH :
										MMR_DROP_NONE;
	}
}

uint32_t srtp_protect_rtp_copy(struct srtp_stream *s, const uint8_t *src, uint32_t len,
			       uint8_t *dst, uint32_t dst_cap)
{
	struct proto_ctx *pc = &s->rtp;
	uint32_t h, body, ssrc, roc;
	uint16_t seq;
	int64_t guess;
	uint64_t idx;
	enum mmr_drop_reason why;

	if (len > MAX_PKT_LEN - s->tag_len || dst_cap < len + s->tag_len)
		goto refuse_no_room;
	h = rtp_header_len(src, len);
	if (!h)
		goto refuse_no_room;
	body = len - h;
	seq = get_be16(src + 2);
	ssrc = get_be32(src + 8);
	if (__builtin_expect(pc->sent.started, 1)) {
		seq = (uint16_t)(seq + pc->seq_shift);
		guess = index_guess(pc->sent.top, 1, seq);
		if (guess < 0)   /* before the first packet sent, ROC -1: no receiver would take it */
			goto refuse_reuse;
		idx = (uint64_t)guess;
		if (replay_check(&pc->sent, idx))   /* sent before, or older than the window */
			goto refuse_reuse;
	} else if (pc->rebase) {
		/* a context with a predecessor starts exactly at its floor */
		idx = pc->lease.floor;
		pc->seq_shift = (uint16_t)((uint16_t)idx - seq);
		seq = (uint16_t)idx;
	} else {
		idx = first_index(s, seq);
	}
	if (idx > SRTP_INDEX_MAX)
		goto refuse_reuse;
	why = lease_check(&pc->lease, idx);
	if (__builtin_expect(why != MMR_DROP_NONE, 0)) {
		s->why = why;
		return 0;
	}
	roc = (uint32_t)(idx >> 16);
	if (dst != src)
		memcpy(dst, src, h);
	if (pc->seq_shift) {
		dst[2] = (uint8_t)(seq >> 8);
		dst[3] = (uint8_t)seq;
	}

	if (s->aead) {
		uint8_t iv[12];

		gcm_iv(iv, pc->salt, ssrc, roc, seq);
		if (gcm_seal(pc->cipher, iv, dst, (int)h, NULL, 0, src + h, dst + h, (int)body,
			     dst + len))
			goto refuse_no_room;
	} else {
		uint8_t mac[SHA_DIGEST_LENGTH], roc_be[4], iv[16];

		cm_iv(iv, pc->salt, ssrc, idx);
		if (cm_crypt(pc->cipher, iv, src + h, dst + h, (int)body))
			goto refuse_no_room;
		put_be32(roc_be, roc);
		hmac_sha1(&pc->hmac, dst, len, roc_be, 4, mac);
		memcpy(dst + len, mac, HMAC_TAG_LEN);
	}
	/* the index is used up (even if the caller drops the copy now) */
	replay_accept(&pc->sent, idx);
	publish(s, pc->sent.top);
	return len + s->tag_len;
refuse_reuse:
	s->why = MMR_DROP_SRTP_REUSE;
	return 0;
refuse_no_room:
	s->why = MMR_DROP_NO_MBUF;
	return 0;
}

/* ---- SRTCP --------------------------------------------------------------------------------- */

enum mmr_drop_reason srtp_fast_unprotect_rtcp(struct srtp_stream *s, uint8_t *pkt, uint32_t *len)
{
	struct proto_ctx *pc = &s->rtcp;
	uint32_t l = *len, body, ssrc, eidx, idx;
	const uint8_t *trailer, *tag;
	int encrypted;
	enum mmr_drop_reason why;

	if (l > MAX_PKT_LEN || l < RTCP_CLEAR_LEN + SRTCP_TRAILER_LEN + s->tag_len ||
	    (pkt[0] >> 6) != 2)
		return MMR_DROP_SRTP_AUTH;
	/* RTCP body between the 8 clear bytes and the trailer (and tag). */
	body = l - RTCP_CLEAR_LEN - SRTCP_TRAILER_LEN - s->tag_len;
	if (s->aead) {
		tag = pkt + RTCP_CLEAR_LEN + body;
		trailer = tag + GCM_TAG_LEN;
	} else {
		trailer = pkt + RTCP_CLEAR_LEN + body;
		tag = trailer + SRTCP_TRAILER_LEN;
	}
	eidx = get_be32(trailer);
	encrypted = (eidx & SRTCP_E_FLAG) != 0;
	idx = eidx & SRTCP_INDEX_MAX;
	ssrc = get_be32(pkt + 4);
	/* the sender SSRC's window; a new SSRC takes a free one when the packet authenticates (none
	 * free: refused, as its replays could not be told) */
	struct srtcp_in *win = NULL, *room = NULL;
	for (unsigned i = 0; i < SRTCP_IN_SSRCS; i++) {
		if (s->rtcp_in[i].used && s->rtcp_in[i].ssrc == ssrc)
			win = &s->rtcp_in[i];
		else if (!s->rtcp_in[i].used && !room)
			room = &s->rtcp_in[i];
	}
	if (win ? replay_check(&win->w, idx) != 0 : room == NULL)
		return MMR_DROP_SRTP_REPLAY;
	if (__builtin_expect(idx < pc->lease.floor, 0))
		return MMR_DROP_SRTP_REPLAY;    /* below the floor: accepted by a predecessor, maybe */

	if (s->aead) {
		uint8_t iv[12];
		int r;

		gcm_iv(iv, pc->salt, ssrc, 0, 0);
		xor32(iv + 8, idx);
		if (encrypted)
			r = gcm_open(pc->cipher, iv, pkt, RTCP_CLEAR_LEN, trailer, SRTCP_TRAILER_LEN,
				     pkt + RTCP_CLEAR_LEN, (int)body, tag);
		else
			r = gcm_open(pc->cipher, iv, pkt, (int)(RTCP_CLEAR_LEN + body), trailer,
				     SRTCP_TRAILER_LEN, NULL, 0, tag);
		if (r)
			return MMR_DROP_SRTP_AUTH;
	} else {
		uint8_t mac[SHA_DIGEST_LENGTH], iv[16];

		hmac_sha1(&pc->hmac, pkt, RTCP_CLEAR_LEN + body + SRTCP_TRAILER_LEN, NULL, 0, mac);
		if (CRYPTO_memcmp(mac, tag, HMAC_TAG_LEN) != 0)
			return MMR_DROP_SRTP_AUTH;
		if (encrypted) {
			cm_iv(iv, pc->salt, ssrc, idx);
			if (cm_crypt(pc->cipher, iv, pkt + RTCP_CLEAR_LEN, pkt + RTCP_CLEAR_LEN, (int)body))
				return MMR_DROP_SRTP_AUTH;
		}
	}
	why = lease_check(&pc->lease, idx);
	if (__builtin_expect(why != MMR_DROP_NONE, 0))
		return why;
	if (!win) {
		win = room;
		win->used = 1;
		win->ssrc = ssrc;
	}
	replay_accept(&win->w, idx);
	if (!pc->in.started || idx > pc->in.top)
		replay_accept(&pc->in, idx);   /* its top: the highest of any SSRC (srtp_stream_lease_top) */
	*len = RTCP_CLEAR_LEN + body;
	return MMR_DROP_NONE;
}

uint32_t srtp_protect_rtcp_copy(struct srtp_stream *s, const uint8_t *src, uint32_t len,
				uint8_t *dst, uint32_t dst_cap)
{
	struct proto_ctx *pc = &s->rtcp;
	uint32_t body, ssrc, idx, out_len = len + SRTCP_TRAILER_LEN + s->tag_len;
	uint8_t eidx[SRTCP_TRAILER_LEN];

	enum mmr_drop_reason why;

	if (len > MAX_PKT_LEN - SRTCP_TRAILER_LEN - s->tag_len || dst_cap < out_len ||
	    len < RTCP_CLEAR_LEN || (src[0] >> 6) != 2) {
		s->why = MMR_DROP_NO_MBUF;
		return 0;
	}
	if (pc->out_next < pc->lease.floor)
		pc->out_next = pc->lease.floor;
	if (pc->out_next > SRTCP_INDEX_MAX) {  /* 2^31 packets under one key: rekey first */
		s->why = MMR_DROP_SRTP_REUSE;
		return 0;
	}
	why = lease_check(&pc->lease, pc->out_next);
	if (why != MMR_DROP_NONE) {
		s->why = why;
		return 0;
	}
	idx = (uint32_t)pc->out_next;
	body = len - RTCP_CLEAR_LEN;
	ssrc = get_be32(src + 4);
	put_be32(eidx, SRTCP_E_FLAG | idx);
	if (dst != src)
		memcpy(dst, src, RTCP_CLEAR_LEN);

	if (s->aead) {
		uint8_t iv[12];

		gcm_iv(iv, pc->salt, ssrc, 0, 0);
		xor32(iv + 8, idx);
		if (gcm_seal(pc->cipher, iv, src, RTCP_CLEAR_LEN, eidx, SRTCP_TRAILER_LEN,
			     src + RTCP_CLEAR_LEN, dst + RTCP_CLEAR_LEN, (int)body, dst + len)) {
			s->why = MMR_DROP_NO_MBUF;
			return 0;
		}
		memcpy(dst + len + GCM_TAG_LEN, eidx, SRTCP_TRAILER_LEN);
	} else {
		uint8_t mac[SHA_DIGEST_LENGTH], iv[16];

		cm_iv(iv, pc->salt, ssrc, idx);
		if (cm_crypt(pc->cipher, iv, src + RTCP_CLEAR_LEN, dst + RTCP_CLEAR_LEN, (int)body)) {
			s->why = MMR_DROP_NO_MBUF;
			return 0;
		}
		memcpy(dst + len, eidx, SRTCP_TRAILER_LEN);
		hmac_sha1(&pc->hmac, dst, len + SRTCP_TRAILER_LEN, NULL, 0, mac);
		memcpy(dst + len + SRTCP_TRAILER_LEN, mac, HMAC_TAG_LEN);
	}
	pc->out_next++;
	return out_len;
}

/* ---- stream contexts (control thread) ------------------------------------------------------ */

static const EVP_CIPHER *stream_cipher(enum srtp_suite suite)
{
	switch (suite) {
	case SRTP_SUITE_AEAD_AES_128_GCM:
		return EVP_aes_128_gcm();
	case SRTP_SUITE_AEAD_AES_256_GCM:
		return EVP_aes_256_gcm();
	case SRTP_SUITE_AES_CM_128_HMAC_SHA1_80:
		return EVP_aes_128_ctr();
	default:
		return NULL;
	}
}

static int proto_init(struct proto_ctx *pc, const EVP_CIPHER *cipher, const struct srtp_keys *k,
		      const struct srtp_session_keys *sk)
{
	pc->cipher = EVP_CIPHER_CTX_new();
	if (!pc->cipher)
		return -ENOMEM;
	if (EVP_CipherInit_ex(pc->cipher, cipher, NULL, sk->enc, NULL, 1) != 1)
		return -EINVAL;
	memcpy(pc->salt, sk->salt, k->salt_len);
	pc->lease.limit = SRTP_LEASE_UNLIMITED;
	pc->lease.asked_limit = UINT64_MAX;
	if (k->suite == SRTP_SUITE_AES_CM_128_HMAC_SHA1_80)
		hmac_prekey(&pc->hmac, sk->auth);
	return 0;
}

struct srtp_stream *srtp_stream_new(const struct srtp_keys *k)
{
	const EVP_CIPHER *cipher = k ? stream_cipher(k->suite) : NULL;
	struct srtp_stream *s;
	int r;

	if (!cipher) {
		errno = EINVAL;
		return NULL;
	}
	s = aligned_alloc(64, (sizeof(*s) + 63) & ~(size_t)63);
	if (!s) {
		errno = ENOMEM;
		return NULL;
	}
	memset(s, 0, sizeof(*s));
	s->pos = POS_NONE;
	s->suite = k->suite;
	s->aead = k->suite != SRTP_SUITE_AES_CM_128_HMAC_SHA1_80;
	s->tag_len = s->aead ? GCM_TAG_LEN : HMAC_TAG_LEN;
	r = proto_init(&s->rtp, cipher, k, &k->rtp);
	if (r == 0)
		r = proto_init(&s->rtcp, cipher, k, &k->rtcp);
	if (r != 0) {
		srtp_stream_free(s);
		errno = -r;
		return NULL;
	}
	return s;
}

void srtp_stream_set_roc(struct srtp_stream *s, uint32_t roc, uint16_t seq_hint, int seq_hint_valid)
{
	s->resume_top = (uint64_t)roc << 16 | (seq_hint_valid ? seq_hint : 0);
	s->first = seq_hint_valid ? FIRST_ROC_NEAREST : FIRST_ROC_EXACT;
	s->probe = 1;
	s->pos = s->resume_top & INDEX_POS_MASK;   /* what the previous context published */
}

void srtp_set_lease_hook(srtp_lease_hook_fn hook)
{
	__atomic_store_n(&lease_hook, hook, __ATOMIC_RELAXED);
}

static struct proto_ctx *proto_of(struct srtp_stream *s, enum srtp_proto proto)
{
	return proto == SRTP_PROTO_RTCP ? &s->rtcp : &s->rtp;
}

void srtp_stream_lease(struct srtp_stream *s, enum srtp_proto proto, uint64_t floor, uint64_t limit,
		       uint32_t window, uint32_t ticket)
{
	struct proto_ctx *pc = proto_of(s, proto);

	pc->lease.floor = floor;
	pc->lease.limit = limit < floor ? floor : limit;
	pc->lease.half = window == SRTP_LEASE_PROVISIONAL ? UINT32_MAX : window / 2;
	pc->lease.ticket = ticket;
	pc->lease.asked_limit = UINT64_MAX;
	pc->lease.asked_top = 0;
	if (proto != SRTP_PROTO_RTP)
		return;
	/* outbound: the first packet goes at floor (0 for a new identity) whatever its sequence number */
	pc->rebase = limit != SRTP_LEASE_UNLIMITED;
	if (floor > 0)   /* inbound: the first packet's ROC is guessed around floor; the probe */
		srtp_stream_set_roc(s, (uint32_t)(floor >> 16), (uint16_t)floor, 1);
}

void srtp_stream_lease_grant(struct srtp_stream *s, enum srtp_proto proto, uint64_t limit)
{
	struct proto_ctx *pc = proto_of(s, proto);

	if (limit > __atomic_load_n(&pc->lease.limit, __ATOMIC_RELAXED))
		__atomic_store_n(&pc->lease.limit, limit, __ATOMIC_RELAXED);
}

void srtp_stream_lease_narrow(struct srtp_stream *s, enum srtp_proto proto, uint64_t limit,
			      uint32_t window)
{
	struct proto_ctx *pc = proto_of(s, proto);

	__atomic_store_n(&pc->lease.limit, limit < pc->lease.floor ? pc->lease.floor : limit,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&pc->lease.half, window / 2, __ATOMIC_RELAXED);
}

uint64_t srtp_stream_lease_top(const struct srtp_stream *s, enum srtp_proto proto)
{
	const struct replay *r = &(proto == SRTP_PROTO_RTCP ? &s->rtcp : &s->rtp)->in;

	return __atomic_load_n(&r->top, __ATOMIC_RELAXED);
}

uint64_t srtp_stream_lease_limit(const struct srtp_stream *s, enum srtp_proto proto)
{
	return __atomic_load_n(&(proto == SRTP_PROTO_RTCP ? &s->rtcp : &s->rtp)->lease.limit,
			       __ATOMIC_RELAXED);
}

uint64_t srtp_stream_lease_asked(const struct srtp_stream *s, enum srtp_proto proto)
{
	return __atomic_load_n(&(proto == SRTP_PROTO_RTCP ? &s->rtcp : &s->rtp)->lease.asked_top,
			       __ATOMIC_RELAXED);
}

uint32_t srtp_stream_lease_ticket(const struct srtp_stream *s, enum srtp_proto proto)
{
	return (proto == SRTP_PROTO_RTCP ? &s->rtcp : &s->rtp)->lease.ticket;
}

enum mmr_drop_reason srtp_protect_why(const struct srtp_stream *s)
{
	return s->why;
}

void srtp_stream_set_index_sink(struct srtp_stream *s, uint64_t *sink)
{
	__atomic_store_n(&s->sink, sink, __ATOMIC_RELAXED);
}

void srtp_stream_free(struct srtp_stream *s)
{
	if (!s)
		return;
	EVP_CIPHER_CTX_free(s->rtp.cipher);
	EVP_CIPHER_CTX_free(s->rtcp.cipher);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}
