/*
 * test_srtp_fast.c - unit tests of the SRTP/SRTCP fast path (lib/srtp/srtp_fast.c, lib/srtp/srtp_keys.c):
 *   - known answers: RFC 3711 appendix B.3 key derivation, RFC 7714 sections 16-17 (AES-128-GCM and
 *     AES-256-GCM, SRTP and SRTCP, encrypt and decrypt, exact bytes, the SRTCP E=0 vector);
 *   - libsrtp2 as the reference, every suite: our protect gives the same bytes as libsrtp2's for the
 *     same packets (CSRCs, header extensions, empty to 1400-byte payloads), each side unprotects the
 *     other's, SRTP and SRTCP; the sequence-number wrap 65535 -> 0 (ROC 0 -> 1) in both directions
 *     with a late packet from before the wrap;
 *   - restarts: a context resumed from the position another one published (or given a ROC) goes on
 *     with a libsrtp2 peer that never restarted, both directions, also after a wrap during the
 *     outage, and interoperates with libsrtp2's srtp_set_stream_roc; the unsynchronised probe
 *     (ROC +- 1 until the first authenticated packet, not further, not after); the published
 *     position (first packet, each half of the sequence space, sink cleared);
 *   - bad input: every bit of a packet flipped, every truncation (exact-length heap buffers, so ASan
 *     sees over-reads), wrong master key or salt -> MMR_DROP_SRTP_AUTH; replays and packets older
 *     than the 128-packet window -> MMR_DROP_SRTP_REPLAY; failed packets leave the state and the
 *     packet bytes alone (a packet refused under the old key of a rekey is then taken by the new);
 *   - master key checks in srtp_keys_new, the SDES inline: encoding and its strict parser;
 *   - no OpenSSL allocation per packet (OpenSSL's allocator is counted from the start of main).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/crypto.h>
#include <srtp2/srtp.h>    /* first: srtp_fast.h then leaves out its srtp_unprotect_rtcp alias */

#include "srtp_fast.h"
#include "srtp_keys.h"

#define BUF 2048

static const enum srtp_suite all_suites[] = {
	SRTP_SUITE_AEAD_AES_128_GCM, SRTP_SUITE_AEAD_AES_256_GCM, SRTP_SUITE_AES_CM_128_HMAC_SHA1_80,
};
#define N_SUITES (sizeof(all_suites) / sizeof(all_suites[0]))

/* ---- OpenSSL allocation counter (installed first thing in main) ---------------------------- */

static long ossl_allocs;
static int ossl_counting;

static void *count_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	ossl_allocs++;
	return malloc(n);
}

static void *count_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	ossl_allocs++;
	return realloc(p, n);
}

static void count_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	free(p);
}

/* ---- helpers ------------------------------------------------------------------------------- */

static size_t unhex(const char *h, uint8_t *out, size_t cap)
{
	size_t n = 0;

	while (h[0] && h[1]) {
		unsigned v;

		assert_true(n < cap);
		assert_int_equal(sscanf(h, "%2x", &v), 1);
		out[n++] = (uint8_t)v;
		h += 2;
	}
	assert_int_equal(h[0], '\0');
	return n;
}

static uint32_t rng_state = 0x12345678;

static uint8_t rnd8(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return (uint8_t)rng_state;
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)(v >> 16));
	wr16(p + 2, (uint16_t)v);
}

struct shape {
	uint8_t  cc;
	uint16_t ext_words;     /* 0: no extension */
	uint32_t payload;
};

/* An RTP packet: PT 96, given seq and SSRC, CSRCs, one-byte-header extension, random payload. */
static uint32_t build_rtp(uint8_t *b, uint16_t seq, uint32_t ssrc, const struct shape *s)
{
	uint32_t off = 12;

	b[0] = (uint8_t)(0x80 | (s->ext_words ? 0x10 : 0) | s->cc);
	b[1] = 96;
	wr16(b + 2, seq);
	wr32(b + 4, 0x1000u * seq);
	wr32(b + 8, ssrc);
	for (uint8_t i = 0; i < s->cc; i++, off += 4)
		wr32(b + off, 0xc0000000u + i);
	if (s->ext_words) {
		wr16(b + off, 0xbede);
		wr16(b + off + 2, s->ext_words);
		off += 4;
		for (uint32_t i = 0; i < 4u * s->ext_words; i++)
			b[off++] = rnd8();
	}
	for (uint32_t i = 0; i < s->payload; i++)
		b[off++] = rnd8();
	return off;
}

/* An RTCP sender report (PT 200) of 8 + 4 * words bytes with random contents after the SSRC. */
static uint32_t build_rtcp(uint8_t *b, uint32_t ssrc, uint32_t words)
{
	uint32_t len = 8 + 4 * words;

	b[0] = 0x80;
	b[1] = 200;
	wr16(b + 2, (uint16_t)(len / 4 - 1));
	wr32(b + 4, ssrc);
	for (uint32_t i = 8; i < len; i++)
		b[i] = rnd8();
	return len;
}

static void make_master(struct srtp_master *m, enum srtp_suite suite, uint8_t seed)
{
	memset(m, 0, sizeof(*m));
	m->suite = (uint8_t)suite;
	m->key_len = (uint8_t)srtp_suite_key_len(suite);
	m->salt_len = (uint8_t)srtp_suite_salt_len(suite);
	for (int i = 0; i < m->key_len; i++)
		m->key[i] = (uint8_t)(seed + 7 * i);
	for (int i = 0; i < m->salt_len; i++)
		m->salt[i] = (uint8_t)(seed ^ (0x5a + 3 * i));
}

static struct srtp_stream *stream_of(const struct srtp_master *m)
{
	struct srtp_keys *k = srtp_keys_new(m);
	struct srtp_stream *s;

	assert_non_null(k);
	s = srtp_stream_new(k);
	assert_non_null(s);
	srtp_keys_free(k);         /* the stream keeps what it needs */
	return s;
}

static srtp_t ref_session(const struct srtp_master *m, int outbound)
{
	srtp_policy_t pol;
	uint8_t key[SRTP_MAX_KEY + SRTP_MAX_SALT];
	srtp_t s;

	memset(&pol, 0, sizeof(pol));
	switch (m->suite) {
	case SRTP_SUITE_AEAD_AES_128_GCM:
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtcp);
		break;
	case SRTP_SUITE_AEAD_AES_256_GCM:
		srtp_crypto_policy_set_aes_gcm_256_16_auth(&pol.rtp);
		srtp_crypto_policy_set_aes_gcm_256_16_auth(&pol.rtcp);
		break;
	default:
		srtp_crypto_policy_set_rtp_default(&pol.rtp);
		srtp_crypto_policy_set_rtcp_default(&pol.rtcp);
		break;
	}
	memcpy(key, m->key, m->key_len);
	memcpy(key + m->key_len, m->salt, m->salt_len);
	pol.key = key;
	pol.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
	pol.window_size = 128;
	assert_int_equal(srtp_create(&s, &pol), srtp_err_status_ok);
	return s;
}

/* ---- suites, key derivation, known answers ------------------------------------------------- */

static void test_suite_names(void **state)
{
	(void)state;
	assert_string_equal(srtp_suite_name(SRTP_SUITE_AEAD_AES_128_GCM), "AEAD_AES_128_GCM");
	assert_string_equal(srtp_suite_name(SRTP_SUITE_AEAD_AES_256_GCM), "AEAD_AES_256_GCM");
	assert_string_equal(srtp_suite_name(SRTP_SUITE_AES_CM_128_HMAC_SHA1_80), "AES_CM_128_HMAC_SHA1_80");
	assert_string_equal(srtp_suite_name(SRTP_SUITE_NONE), "NONE");
	assert_string_equal(srtp_suite_name((enum srtp_suite)77), "UNKNOWN");
	for (size_t i = 0; i < N_SUITES; i++)
		assert_int_equal(srtp_suite_from_name(srtp_suite_name(all_suites[i])), all_suites[i]);
	assert_int_equal(srtp_suite_from_name("AES_CM_128_HMAC_SHA1_32"), SRTP_SUITE_NONE);
	assert_int_equal(srtp_suite_from_name("aead_aes_128_gcm"), SRTP_SUITE_NONE);
	assert_int_equal(srtp_suite_from_name(NULL), SRTP_SUITE_NONE);
	assert_int_equal(srtp_suite_key_len(SRTP_SUITE_AEAD_AES_128_GCM), 16);
	assert_int_equal(srtp_suite_salt_len(SRTP_SUITE_AEAD_AES_128_GCM), 12);
	assert_int_equal(srtp_suite_key_len(SRTP_SUITE_AEAD_AES_256_GCM), 32);
	assert_int_equal(srtp_suite_salt_len(SRTP_SUITE_AEAD_AES_256_GCM), 12);
	assert_int_equal(srtp_suite_key_len(SRTP_SUITE_AES_CM_128_HMAC_SHA1_80), 16);
	assert_int_equal(srtp_suite_salt_len(SRTP_SUITE_AES_CM_128_HMAC_SHA1_80), 14);
	assert_true(srtp_suite_key_len(SRTP_SUITE_NONE) < 0);
	assert_true(srtp_suite_salt_len((enum srtp_suite)9) < 0);
}

/* RFC 3711 appendix B.3 (SRTP labels), and the SRTCP labels of the same master key. */
static void test_kdf_rfc3711(void **state)
{
	uint8_t mk[16], ms[14], want[32], got[32];
	static const struct { enum srtp_kdf_label label; const char *out; } v[] = {
		{ SRTP_LABEL_RTP_ENC,   "c61e7a93744f39ee10734afe3ff7a087" },
		{ SRTP_LABEL_RTP_SALT,  "30cbbc08863d8c85d49db34a9ae1" },
		{ SRTP_LABEL_RTP_AUTH,  "cebe321f6ff7716b6fd4ab49af256a156d38baa4" },
		{ SRTP_LABEL_RTCP_ENC,  "4c1aa45a81f73d61c800bbb00fbb1eaa" },
		{ SRTP_LABEL_RTCP_AUTH, "8d54534feb49ae8e7993a6bd0b844fc323a93dfd" },
		{ SRTP_LABEL_RTCP_SALT, "9581c7ad87b3e530bf3e4454a8b3" },
	};

	(void)state;
	unhex("e1f97a0d3e018be0d64fa32c06de4139", mk, sizeof(mk));
	unhex("0ec675ad498afeebb6960b3aabe6", ms, sizeof(ms));
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t n = unhex(v[i].out, want, sizeof(want));

		assert_int_equal(srtp_kdf(mk, 16, ms, 14, v[i].label, got, n), 0);
		assert_memory_equal(got, want, n);
	}
	assert_int_equal(srtp_kdf(mk, 15, ms, 14, SRTP_LABEL_RTP_ENC, got, 16), -EINVAL);
	assert_int_equal(srtp_kdf(mk, 16, ms, 13, SRTP_LABEL_RTP_ENC, got, 16), -EINVAL);
}

/* RFC 7714 section 16: the same SRTP packet under AES-128-GCM (16.1) and AES-256-GCM (16.2). */
static const char rfc7714_rtp[] =
	"8040f17b8041f8d35501a0b247616c6c696120657374206f6d6e69732064697669736120696e2070"
	"61727465732074726573";
static const char rfc7714_salt[] = "517569642070726f2071756f";
static const char rfc7714_key128[] = "000102030405060708090a0b0c0d0e0f";
static const char rfc7714_key256[] =
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

static void check_rfc7714_rtp(enum srtp_suite suite, const char *key_hex, const char *srtp_hex)
{
	uint8_t key[32], salt[12], plain[BUF], want[BUF], buf[BUF];
	uint32_t plen, wlen, n;
	struct srtp_keys *k;
	struct srtp_stream *tx, *rx;

	unhex(key_hex, key, sizeof(key));
	unhex(rfc7714_salt, salt, sizeof(salt));
	plen = (uint32_t)unhex(rfc7714_rtp, plain, sizeof(plain));
	wlen = (uint32_t)unhex(srtp_hex, want, sizeof(want));
	k = srtp_keys_from_session(suite, key, salt, NULL);
	assert_non_null(k);
	tx = srtp_stream_new(k);
	rx = srtp_stream_new(k);
	assert_non_null(tx);
	assert_non_null(rx);

	n = srtp_protect_rtp_copy(tx, plain, plen, buf, sizeof(buf));
	assert_int_equal(n, wlen);
	assert_memory_equal(buf, want, wlen);

	memcpy(buf, want, wlen);
	n = wlen;
	assert_int_equal(srtp_unprotect_rtp(rx, buf, &n), MMR_DROP_NONE);
	assert_int_equal(n, plen);
	assert_memory_equal(buf, plain, plen);

	srtp_stream_free(tx);
	srtp_stream_free(rx);
	srtp_keys_free(k);
}

static void test_rfc7714_rtp(void **state)
{
	(void)state;
	check_rfc7714_rtp(SRTP_SUITE_AEAD_AES_128_GCM, rfc7714_key128,
		"8040f17b8041f8d35501a0b2f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f42a5f47a"
		"51c7d19b36de3adf8833899d7f27beb16a9152cf765ee4390cce");
	check_rfc7714_rtp(SRTP_SUITE_AEAD_AES_256_GCM, rfc7714_key256,
		"8040f17b8041f8d35501a0b232b1de78a822fe12ef9f78fa332e33aab18012389a58e2f3b50b2a02"
		"76ffae0f1ba63799b87b7aa3db36dfffd6b0f9bb7878d7a76c13");
}

/* RFC 7714 section 17: an SRTCP sender report, SRTCP index 0x5d4, encrypted (17.1, 17.2) and
 * authenticated only (17.3, E flag clear). */
static const char rfc7714_rtcp[] =
	"81c8000d4d6172734e5450314e545032525450200000042a0000e9304c756e61deadbeefdeadbeef"
	"deadbeefdeadbeefdeadbeef";

static void check_rfc7714_rtcp(enum srtp_suite suite, const char *key_hex, const char *srtcp_hex)
{
	uint8_t key[32], salt[12], plain[BUF], want[BUF], buf[BUF];
	uint32_t plen, wlen, n;
	struct srtp_keys *k;
	struct srtp_stream *tx, *rx;

	unhex(key_hex, key, sizeof(key));
	unhex(rfc7714_salt, salt, sizeof(salt));
	plen = (uint32_t)unhex(rfc7714_rtcp, plain, sizeof(plain));
	wlen = (uint32_t)unhex(srtcp_hex, want, sizeof(want));
	k = srtp_keys_from_session(suite, key, salt, NULL);
	assert_non_null(k);
	tx = srtp_stream_new(k);
	rx = srtp_stream_new(k);

	memcpy(buf, want, wlen);
	n = wlen;
	assert_int_equal(srtp_fast_unprotect_rtcp(rx, buf, &n), MMR_DROP_NONE);
	assert_int_equal(n, plen);
	assert_memory_equal(buf, plain, plen);

	/* Our SRTCP index counts from 0: send 0x5d4 packets, then the vector's. */
	for (int i = 0; i < 0x5d4; i++)
		assert_int_equal(srtp_protect_rtcp_copy(tx, plain, plen, buf, sizeof(buf)),
				 plen + SRTCP_MAX_TRAILER);
	n = srtp_protect_rtcp_copy(tx, plain, plen, buf, sizeof(buf));
	assert_int_equal(n, wlen);
	assert_memory_equal(buf, want, wlen);

	srtp_stream_free(tx);
	srtp_stream_free(rx);
	srtp_keys_free(k);
}

static void test_rfc7714_rtcp(void **state)
{
	uint8_t key[16], salt[12], plain[BUF], buf[BUF];
	uint32_t plen, n;
	struct srtp_keys *k;
	struct srtp_stream *rx;

	(void)state;
	check_rfc7714_rtcp(SRTP_SUITE_AEAD_AES_128_GCM, rfc7714_key128,
		"81c8000d4d61727363e94885dcdab67ca727d7662f6b7e997ff5c0f76c06f32dc676a5f1730d6fda"
		"4ce09b4686303ded0bb9275bc84aa45896cf4d2fc5abf87245d9eade800005d4");
	check_rfc7714_rtcp(SRTP_SUITE_AEAD_AES_256_GCM, rfc7714_key256,
		"81c8000d4d617273d50ae4d1f5ce5d304ba297e47d470c282c3ece5dbffe0a50a2eaa5c1110555be"
		"8415f658c61de0476f1b6fad1d1eb30c4446839f57ff6f6cb26ac3be800005d4");

	/* 17.3: authenticated, not encrypted; then a tampered copy of it. */
	unhex(rfc7714_key128, key, sizeof(key));
	unhex(rfc7714_salt, salt, sizeof(salt));
	plen = (uint32_t)unhex(rfc7714_rtcp, plain, sizeof(plain));
	k = srtp_keys_from_session(SRTP_SUITE_AEAD_AES_128_GCM, key, salt, NULL);
	rx = srtp_stream_new(k);
	n = (uint32_t)unhex("81c8000d4d6172734e5450314e545032525450200000042a0000e9304c756e61"
			    "deadbeefdeadbeefdeadbeefdeadbeefdeadbeef841dd9683dd78ec92ae58790"
			    "125f62b3000005d4", buf, sizeof(buf));
	buf[20] ^= 1;
	assert_int_equal(srtp_fast_unprotect_rtcp(rx, buf, &n), MMR_DROP_SRTP_AUTH);
	buf[20] ^= 1;
	assert_int_equal(srtp_fast_unprotect_rtcp(rx, buf, &n), MMR_DROP_NONE);
	assert_int_equal(n, plen);
	assert_memory_equal(buf, plain, plen);
	srtp_stream_free(rx);
	srtp_keys_free(k);
}

/* ---- interoperability with libsrtp2 -------------------------------------------------------- */

static const struct shape shapes[] = {
	{ 0, 0, 0 }, { 0, 0, 1 }, { 0, 0, 160 }, { 1, 0, 100 }, { 15, 0, 33 }, { 0, 1, 17 },
	{ 2, 3, 1200 }, { 0, 255, 0 }, { 4, 2, 1400 }, { 0, 0, 1188 },
};

/* Our protect and libsrtp2's give the same bytes; each unprotects the other's. */
static void interop_rtp(enum srtp_suite suite)
{
	struct srtp_master m;
	struct srtp_stream *tx, *rx;
	srtp_t ref_tx, ref_rx;
	uint8_t plain[BUF], ours[BUF], theirs[BUF];

	make_master(&m, suite, (uint8_t)(0x40 + suite));
	tx = stream_of(&m);
	rx = stream_of(&m);
	ref_tx = ref_session(&m, 1);
	ref_rx = ref_session(&m, 0);
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		for (int rep = 0; rep < 3; rep++) {
			uint16_t seq = (uint16_t)(1000 + 3 * i + rep);
			uint32_t plen = build_rtp(plain, seq, 0xa1b2c3d4, &shapes[i]);
			uint32_t n_ours, n2;
			int n_theirs = (int)plen;

			n_ours = srtp_protect_rtp_copy(tx, plain, plen, ours, sizeof(ours));
			assert_true(n_ours > plen);
			memcpy(theirs, plain, plen);
			assert_int_equal(srtp_protect(ref_tx, theirs, &n_theirs), srtp_err_status_ok);
			assert_int_equal((int)n_ours, n_theirs);
			assert_memory_equal(ours, theirs, n_ours);

			n2 = (uint32_t)n_theirs;
			assert_int_equal(srtp_unprotect_rtp(rx, theirs, &n2), MMR_DROP_NONE);
			assert_int_equal(n2, plen);
			assert_memory_equal(theirs, plain, plen);
			n_theirs = (int)n_ours;
			assert_int_equal(srtp_unprotect(ref_rx, ours, &n_theirs), srtp_err_status_ok);
			assert_int_equal(n_theirs, (int)plen);
			assert_memory_equal(ours, plain, plen);
		}
	}
	srtp_dealloc(ref_tx);
	srtp_dealloc(ref_rx);
	srtp_stream_free(tx);
	srtp_stream_free(rx);
}

static void interop_rtcp(enum srtp_suite suite)
{
	static const uint32_t words[] = { 0, 1, 6, 13, 31, 300 };
	struct srtp_master m;
	struct srtp_stream *tx, *rx;
	srtp_t ref_tx, ref_rx;
	uint8_t plain[BUF], ours[BUF], theirs[BUF];
	uint32_t plen, n;
	int ni;

	make_master(&m, suite, (uint8_t)(0x70 + suite));
	tx = stream_of(&m);
	rx = stream_of(&m);
	ref_tx = ref_session(&m, 1);
	ref_rx = ref_session(&m, 0);

	/* Our first SRTCP index is 0 (RFC 3711 3.3.2), libsrtp2's is 1: libsrtp2 takes our 0... */
	plen = build_rtcp(plain, 0x0badcafe, 6);
	n = srtp_protect_rtcp_copy(tx, plain, plen, ours, sizeof(ours));
	assert_int_equal(n, plen + (suite == SRTP_SUITE_AES_CM_128_HMAC_SHA1_80 ? 14 : 20));
	ni = (int)n;
	assert_int_equal(srtp_unprotect_rtcp(ref_rx, ours, &ni), srtp_err_status_ok);
	assert_int_equal(ni, (int)plen);
	assert_memory_equal(ours, plain, plen);

	/* ... and from then on both send the same bytes. */
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		plen = build_rtcp(plain, 0x0badcafe, words[i]);
		n = srtp_protect_rtcp_copy(tx, plain, plen, ours, sizeof(ours));
		memcpy(theirs, plain, plen);
		ni = (int)plen;
		assert_int_equal(srtp_protect_rtcp(ref_tx, theirs, &ni), srtp_err_status_ok);
		assert_int_equal((int)n, ni);
		assert_memory_equal(ours, theirs, n);

		assert_int_equal(srtp_fast_unprotect_rtcp(rx, theirs, &n), MMR_DROP_NONE);
		assert_int_equal(n, plen);
		assert_memory_equal(theirs, plain, plen);
		assert_int_equal(srtp_unprotect_rtcp(ref_rx, ours, &ni), srtp_err_status_ok);
		assert_int_equal(ni, (int)plen);
		assert_memory_equal(ours, plain, plen);
	}
	srtp_dealloc(ref_tx);
	srtp_dealloc(ref_rx);
	srtp_stream_free(tx);
	srtp_stream_free(rx);
}

/*
 * One context hears SRTCP from several sender SSRCs, each with its own index (a browser's receive
 * streams report as 1 and 0xFA17FA17): each SSRC's packets are taken in its own window, whatever
 * the others' indexes; a replay of either is refused; a ninth SSRC is refused (no window left).
 */
static void test_rtcp_several_ssrcs(void **state)
{
	(void)state;
	struct srtp_master m;
	make_master(&m, SRTP_SUITE_AEAD_AES_128_GCM, 0x31);
	struct srtp_stream *rx = stream_of(&m);
	srtp_t ref_tx = ref_session(&m, 1);
	uint8_t plain[BUF], pkt[BUF], keep[BUF];
	uint32_t n, keep_n = 0;
	int ni;

	/* SSRC 1 runs 300 packets ahead, then 0xFA17FA17 starts from index 1 */
	for (int i = 0; i < 300; i++) {
		n = build_rtcp(plain, 1, 6);
		memcpy(pkt, plain, n);
		ni = (int)n;
		assert_int_equal(srtp_protect_rtcp(ref_tx, pkt, &ni), srtp_err_status_ok);
		n = (uint32_t)ni;
		if (i == 299) {
			memcpy(keep, pkt, n);
			keep_n = n;
		}
		assert_int_equal(srtp_fast_unprotect_rtcp(rx, pkt, &n), MMR_DROP_NONE);
	}
	for (int i = 0; i < 5; i++) {
		n = build_rtcp(plain, 0xFA17FA17u, 6);
		memcpy(pkt, plain, n);
		ni = (int)n;
		assert_int_equal(srtp_protect_rtcp(ref_tx, pkt, &ni), srtp_err_status_ok);
		n = (uint32_t)ni;
		assert_int_equal(srtp_fast_unprotect_rtcp(rx, pkt, &n), MMR_DROP_NONE);
		assert_memory_equal(pkt, plain, n);
	}
	/* a replay of SSRC 1's last packet: refused */
	n = keep_n;
	assert_int_equal(srtp_fast_unprotect_rtcp(rx, keep, &n), MMR_DROP_SRTP_REPLAY);
	/* six more SSRCs fill the windows; a ninth is refused */
	for (uint32_t k = 0; k < 7; k++) {
		n = build_rtcp(plain, 0x100 + k, 6);
		memcpy(pkt, plain, n);
		ni = (int)n;
		assert_int_equal(srtp_protect_rtcp(ref_tx, pkt, &ni), srtp_err_status_ok);
		n = (uint32_t)ni;
		assert_int_equal(srtp_fast_unprotect_rtcp(rx, pkt, &n), k < 6 ? MMR_DROP_NONE : MMR_DROP_SRTP_REPLAY);
	}
	srtp_dealloc(ref_tx);
	srtp_stream_free(rx);
}

static void test_interop_libsrtp2(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_SUITES; i++) {
		interop_rtp(all_suites[i]);
		interop_rtcp(all_suites[i]);
	}
}

/*
 * Sequence numbers 65500 .. 65535, 0 .. 40 (ROC 0 -> 1) with 65530 held back and sent after 10:
 * same bytes from both senders (so our outbound ROC follows the wrap and the late packet keeps ROC
 * 0), both receivers take the other's packets, and the late packet is a replay the second time.
 */
static void wrap_one(enum srtp_suite suite)
{
	static const struct shape sh = { 1, 1, 200 };
	struct srtp_master m;
	struct srtp_stream *tx, *rx;
	srtp_t ref_tx, ref_rx;
	uint8_t plain[BUF], ours[BUF], theirs[BUF], late[BUF];
	uint32_t late_len = 0;

	make_master(&m, suite, (uint8_t)(0x90 + suite));
	tx = stream_of(&m);
	rx = stream_of(&m);
	ref_tx = ref_session(&m, 1);
	ref_rx = ref_session(&m, 0);
	for (uint32_t k = 0; k < 36 + 41 + 1; k++) {
		uint16_t seq;
		uint32_t plen, n, n2;
		int ni;

		if (k < 36)
			seq = (uint16_t)(65500 + k);
		else if (k == 36 + 11)
			seq = 65530;               /* the late one, after seq 10 */
		else
			seq = (uint16_t)(k < 36 + 11 ? k - 36 : k - 37);
		if (seq == 65530 && k < 36)
			continue;                  /* held back */
		plen = build_rtp(plain, seq, 0x5eed5eed, &sh);
		n = srtp_protect_rtp_copy(tx, plain, plen, ours, sizeof(ours));
		memcpy(theirs, plain, plen);
		ni = (int)plen;
		assert_int_equal(srtp_protect(ref_tx, theirs, &ni), srtp_err_status_ok);
		assert_int_equal((int)n, ni);
		assert_memory_equal(ours, theirs, n);
		if (seq == 65530) {
			memcpy(late, theirs, n);
			late_len = n;
		}
		n2 = n;
		assert_int_equal(srtp_unprotect_rtp(rx, theirs, &n2), MMR_DROP_NONE);
		assert_memory_equal(theirs, plain, plen);
		assert_int_equal(srtp_unprotect(ref_rx, ours, &ni), srtp_err_status_ok);
		assert_memory_equal(ours, plain, plen);
	}
	assert_true(late_len > 0);
	assert_int_equal(srtp_unprotect_rtp(rx, late, &late_len), MMR_DROP_SRTP_REPLAY);
	srtp_dealloc(ref_tx);
	srtp_dealloc(ref_rx);
	srtp_stream_free(tx);
	srtp_stream_free(rx);
}

static void test_seq_wrap(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_SUITES; i++)
		wrap_one(all_suites[i]);
}

/* A receiver whose first packet had seq 5 cannot take seq 65534 (that would be ROC -1). */
static void test_before_first_packet(void **state)
{
	static const struct shape sh = { 0, 0, 50 };
	struct srtp_master m;
	struct srtp_stream *tx, *tx2, *rx;
	uint8_t plain[BUF], a[BUF], b[BUF];
	uint32_t plen, na, nb;

	(void)state;
	make_master(&m, SRTP_SUITE_AEAD_AES_128_GCM, 3);
	tx = stream_of(&m);
	tx2 = stream_of(&m);
	rx = stream_of(&m);
	plen = build_rtp(plain, 5, 1, &sh);
	na = srtp_protect_rtp_copy(tx, plain, plen, a, sizeof(a));
	plen = build_rtp(plain, 65534, 1, &sh);
	nb = srtp_protect_rtp_copy(tx2, plain, plen, b, sizeof(b));      /* ROC 0 too */
	assert_int_equal(srtp_unprotect_rtp(rx, a, &na), MMR_DROP_NONE);
	assert_int_equal(srtp_unprotect_rtp(rx, b, &nb), MMR_DROP_SRTP_REPLAY);
	srtp_stream_free(tx);
	srtp_stream_free(tx2);
	srtp_stream_free(rx);
}

/* ---- restarts: srtp_stream_set_roc / resume, the probe, the published position -------------- */

/* seq -> the next RTP packet of SSRC 0x600d0000 (fixed shape), plain and libsrtp2-protected. */
static uint32_t ref_packet(srtp_t ref_tx, uint16_t seq, uint8_t *plain, uint8_t *prot)
{
	static const struct shape sh = { 1, 1, 160 };
	uint32_t plen = build_rtp(plain, seq, 0x600d0000, &sh);
	int n = (int)plen;

	memcpy(prot, plain, plen);
	assert_int_equal(srtp_protect(ref_tx, prot, &n), srtp_err_status_ok);
	return (uint32_t)n;
}

/* Our receiver takes prot (n bytes) and gets plain back. */
static void take(struct srtp_stream *rx, uint8_t *prot, uint32_t n, const uint8_t *plain)
{
	uint32_t l = n;

	assert_int_equal(srtp_unprotect_rtp(rx, prot, &l), MMR_DROP_NONE);
	assert_memory_equal(prot, plain, l);
}

/*
 * Inbound, against a libsrtp2 sender that never restarts: seq 65500 .. 199 (ROC 0 -> 1) into our
 * first receiver, which publishes its position; then a new receiver resumed from that position takes
 * the stream where it is (a fresh one without it refuses it: ROC 0), and so does one given ROC 1
 * exactly. Then the sender goes on to 0x9000 (position ROC 1, upper half), stops reaching us, wraps to
 * ROC 2 (an outage with a wrap): a receiver resumed from the upper-half position takes seq 0x10 at
 * ROC 2 with no probe needed.
 */
static void restart_inbound(enum srtp_suite suite)
{
	struct srtp_master m;
	struct srtp_stream *rx1, *rx2, *rx3, *fresh, *rx4;
	srtp_t ref_tx;
	uint8_t plain[BUF], prot[BUF], keep[BUF];
	uint64_t pos1 = 77, pos2, pos4;
	uint32_t n;

	make_master(&m, suite, (uint8_t)(0xa0 + suite));
	ref_tx = ref_session(&m, 1);
	rx1 = stream_of(&m);
	srtp_stream_set_index_sink(rx1, &pos1);
	for (uint32_t i = 0; i < 36 + 200; i++) {
		uint16_t seq = (uint16_t)(65500 + i);

		n = ref_packet(ref_tx, seq, plain, prot);
		take(rx1, prot, n, plain);
		if (i == 0)
			assert_int_equal(pos1, 0x8000); /* published at the first packet: upper half */
	}
	assert_int_equal(pos1, 0x10000);              /* ROC 1, lower half */

	rx2 = stream_of(&m);
	rx3 = stream_of(&m);
	fresh = stream_of(&m);
	pos2 = pos1;                                  /* the slot keeps what the old one published */
	srtp_stream_resume(rx2, pos1);
	srtp_stream_set_index_sink(rx2, &pos2);
	srtp_stream_set_roc(rx3, 1, 0, 0);
	for (uint16_t seq = 200; seq < 300; seq++) {
		n = ref_packet(ref_tx, seq, plain, prot);
		if (seq == 200) {
			uint32_t l = n;

			memcpy(keep, prot, n);
			assert_int_equal(srtp_unprotect_rtp(fresh, keep, &l), MMR_DROP_SRTP_AUTH);
			assert_memory_equal(keep, prot, n);
		}
		memcpy(keep, prot, n);
		take(rx3, keep, n, plain);
		take(rx2, prot, n, plain);
	}
	assert_int_equal(pos2, 0x10000);

	/* on to 0x9000 in steps (below 2^15) rx2 follows, then the outage with a wrap */
	for (uint32_t seq = 0x1000; seq <= 0x9000; seq += 0x1000) {
		n = ref_packet(ref_tx, (uint16_t)seq, plain, prot);
		take(rx2, prot, n, plain);
	}
	assert_int_equal(pos2, 0x18000);              /* ROC 1, upper half */
	ref_packet(ref_tx, 0xfff0, plain, prot);      /* lost */
	n = ref_packet(ref_tx, 0x0010, plain, prot);  /* ROC 2 */
	rx4 = stream_of(&m);
	pos4 = pos2;
	srtp_stream_resume(rx4, pos2);
	srtp_stream_set_index_sink(rx4, &pos4);
	take(rx4, prot, n, plain);
	assert_int_equal(pos4, 0x20000);
	n = ref_packet(ref_tx, 0x0011, plain, prot);
	take(rx4, prot, n, plain);

	srtp_dealloc(ref_tx);
	srtp_stream_free(rx1);
	srtp_stream_free(rx2);
	srtp_stream_free(rx3);
	srtp_stream_free(fresh);
	srtp_stream_free(rx4);
}

/*
 * Outbound, against a libsrtp2 receiver that never restarts: our first sender crosses the wrap
 * (ROC 1) and publishes its position; a new sender resumed from it gives byte for byte what the first
 * one would have sent, which the receiver takes; a fresh sender (ROC 0) is refused. Then libsrtp2's
 * own ROC setting: a libsrtp2 sender put at ROC 5 (srtp_set_stream_roc) is taken by our receiver given
 * ROC 5 exactly, and our sender given ROC 5 by a libsrtp2 receiver put at ROC 5.
 */
static void restart_outbound(enum srtp_suite suite)
{
	static const struct shape sh = { 0, 2, 300 };
	struct srtp_master m;
	struct srtp_stream *tx1, *tx2, *tx3, *fresh, *rx5, *tx5;
	srtp_t ref_rx, ref_tx5, ref_rx5;
	uint8_t plain[BUF], a[BUF], b[BUF];
	uint64_t pos1 = 77, pos2;
	uint32_t plen, na, nb;
	int ni;

	make_master(&m, suite, (uint8_t)(0xb0 + suite));
	ref_rx = ref_session(&m, 0);
	tx1 = stream_of(&m);
	srtp_stream_set_index_sink(tx1, &pos1);
	for (uint32_t i = 0; i < 36 + 100; i++) {
		plen = build_rtp(plain, (uint16_t)(65500 + i), 0x0e0e0e0e, &sh);
		na = srtp_protect_rtp_copy(tx1, plain, plen, a, sizeof(a));
		ni = (int)na;
		assert_int_equal(srtp_unprotect(ref_rx, a, &ni), srtp_err_status_ok);
	}
	assert_int_equal(pos1, 0x10000);

	tx2 = stream_of(&m);
	fresh = stream_of(&m);
	srtp_stream_resume(tx2, pos1);
	pos2 = pos1;
	srtp_stream_set_index_sink(tx2, &pos2);
	for (uint16_t seq = 100; seq < 200; seq++) {
		plen = build_rtp(plain, seq, 0x0e0e0e0e, &sh);
		if (seq == 100) {
			na = srtp_protect_rtp_copy(fresh, plain, plen, a, sizeof(a));
			ni = (int)na;
			assert_int_not_equal(srtp_unprotect(ref_rx, a, &ni), srtp_err_status_ok);
		}
		na = srtp_protect_rtp_copy(tx2, plain, plen, a, sizeof(a));
		nb = srtp_protect_rtp_copy(tx1, plain, plen, b, sizeof(b));
		assert_int_equal(na, nb);
		assert_memory_equal(a, b, na);
		ni = (int)na;
		assert_int_equal(srtp_unprotect(ref_rx, a, &ni), srtp_err_status_ok);
		assert_memory_equal(a, plain, plen);
	}

	/* on to 0x9000 (ROC 1, upper half), then copies stop (the dataplane is down) while the stream
	 * wraps: a sender resumed from the upper-half position sends seq 0x10 at ROC 2, as the receiver
	 * guesses (outbound has no probe: the half in the position is what makes this work) */
	for (uint32_t seq = 0x1000; seq <= 0x9000; seq += 0x1000) {
		plen = build_rtp(plain, (uint16_t)seq, 0x0e0e0e0e, &sh);
		na = srtp_protect_rtp_copy(tx2, plain, plen, a, sizeof(a));
		ni = (int)na;
		assert_int_equal(srtp_unprotect(ref_rx, a, &ni), srtp_err_status_ok);
	}
	assert_int_equal(pos2, 0x18000);
	tx3 = stream_of(&m);
	srtp_stream_resume(tx3, pos2);
	for (uint16_t seq = 0x10; seq < 0x20; seq++) {
		plen = build_rtp(plain, seq, 0x0e0e0e0e, &sh);
		na = srtp_protect_rtp_copy(tx3, plain, plen, a, sizeof(a));
		ni = (int)na;
		assert_int_equal(srtp_unprotect(ref_rx, a, &ni), srtp_err_status_ok);
		assert_memory_equal(a, plain, plen);
	}

	/* libsrtp2 at ROC 5 (its stream exists once it protected or took a packet) */
	ref_tx5 = ref_session(&m, 1);
	ref_rx5 = ref_session(&m, 0);
	rx5 = stream_of(&m);
	tx5 = stream_of(&m);
	srtp_stream_set_roc(rx5, 5, 0, 0);
	srtp_stream_set_roc(tx5, 5, 0, 0);
	ref_packet(ref_tx5, 1, plain, a);
	assert_int_equal(srtp_set_stream_roc(ref_tx5, 0x600d0000, 5), srtp_err_status_ok);
	for (uint16_t seq = 2; seq < 20; seq++) {
		na = ref_packet(ref_tx5, seq, plain, a);
		take(rx5, a, na, plain);
	}
	plen = build_rtp(plain, 1000, 0x0e0e0e0e, &sh);
	na = srtp_protect_rtp_copy(fresh, plain, plen, a, sizeof(a));   /* ROC 0: creates the stream */
	ni = (int)na;
	assert_int_equal(srtp_unprotect(ref_rx5, a, &ni), srtp_err_status_ok);
	assert_int_equal(srtp_set_stream_roc(ref_rx5, 0x0e0e0e0e, 5), srtp_err_status_ok);
	for (uint16_t seq = 1001; seq < 1020; seq++) {
		plen = build_rtp(plain, seq, 0x0e0e0e0e, &sh);
		na = srtp_protect_rtp_copy(tx5, plain, plen, a, sizeof(a));
		ni = (int)na;
		assert_int_equal(srtp_unprotect(ref_rx5, a, &ni), srtp_err_status_ok);
		assert_memory_equal(a, plain, plen);
	}

	srtp_dealloc(ref_rx);
	srtp_dealloc(ref_tx5);
	srtp_dealloc(ref_rx5);
	srtp_stream_free(tx1);
	srtp_stream_free(tx2);
	srtp_stream_free(tx3);
	srtp_stream_free(fresh);
	srtp_stream_free(rx5);
	srtp_stream_free(tx5);
}

static void test_restart_interop(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_SUITES; i++) {
		restart_inbound(all_suites[i]);
		restart_outbound(all_suites[i]);
	}
}

/* A packet of SSRC 0x77 with seq at ROC roc, from our sender (ROC set exactly). */
static uint32_t at_roc(const struct srtp_master *m, uint32_t roc, uint16_t seq, uint8_t *plain,
		       uint32_t *plen, uint8_t *prot)
{
	static const struct shape sh = { 0, 1, 90 };
	struct srtp_stream *tx = stream_of(m);
	uint32_t n;

	srtp_stream_set_roc(tx, roc, 0, 0);
	*plen = build_rtp(plain, seq, 0x77, &sh);
	n = srtp_protect_rtp_copy(tx, plain, *plen, prot, BUF);
	assert_true(n > *plen);
	srtp_stream_free(tx);
	return n;
}

/* The first packet of a resumed receiver given position pos, at ROC roc and seq: want. */
static void probe_one(const struct srtp_master *m, uint64_t pos, uint32_t roc, uint16_t seq,
		      enum mmr_drop_reason want)
{
	struct srtp_stream *rx = stream_of(m);
	uint8_t plain[BUF], prot[BUF], keep[BUF];
	uint32_t plen, n = at_roc(m, roc, seq, plain, &plen, prot), l = n;

	srtp_stream_resume(rx, pos);
	memcpy(keep, prot, n);
	assert_int_equal(srtp_unprotect_rtp(rx, prot, &l), want);
	if (want == MMR_DROP_NONE) {
		assert_memory_equal(prot, plain, plen);
	} else {
		assert_int_equal(l, n);
		assert_memory_equal(prot, keep, n);     /* left as it came */
	}
	srtp_stream_free(rx);
}

/*
 * The unsynchronised probe: a resumed receiver whose position is one ROC off takes the first packet
 * at ROC + 1 or ROC - 1, not further; a forged packet is refused and changes nothing; once a packet
 * has authenticated there is no probe; a context never resumed (a rekey's) does not probe; position 0
 * never means ROC -1.
 */
static void test_probe(void **state)
{
	uint8_t plain[BUF], prot[BUF], t[BUF];
	uint32_t plen, n, l;

	(void)state;
	for (size_t si = 0; si < N_SUITES; si++) {
		struct srtp_master m;
		struct srtp_stream *rx, *fresh;
		uint64_t pos = 5;

		make_master(&m, all_suites[si], (uint8_t)(0xc0 + si));
		probe_one(&m, 0x10000, 1, 5, MMR_DROP_NONE);          /* as guessed */
		probe_one(&m, 0x10000, 2, 5, MMR_DROP_NONE);          /* ROC + 1 */
		probe_one(&m, 0x18000, 0, 0x9000, MMR_DROP_NONE);     /* ROC - 1 */
		probe_one(&m, 0x10000, 3, 5, MMR_DROP_SRTP_AUTH);     /* two off: no */
		probe_one(&m, 0x30000, 1, 5, MMR_DROP_SRTP_AUTH);
		probe_one(&m, 0, 0, 0xf000, MMR_DROP_NONE);           /* no ROC -1 */
		probe_one(&m, 0, 1, 0x0100, MMR_DROP_NONE);           /* ROC + 1 from 0 */

		/* forged, then out of reach, then the genuine packet: state untouched by the failures */
		rx = stream_of(&m);
		srtp_stream_resume(rx, 0x10000);
		srtp_stream_set_index_sink(rx, &pos);
		n = at_roc(&m, 2, 7, plain, &plen, prot);
		memcpy(t, prot, n);
		t[n - 1] ^= 0x20;
		l = n;
		assert_int_equal(srtp_unprotect_rtp(rx, t, &l), MMR_DROP_SRTP_AUTH);
		t[n - 1] ^= 0x20;
		assert_memory_equal(t, prot, n);
		n = at_roc(&m, 4, 7, plain, &plen, t);
		l = n;
		assert_int_equal(srtp_unprotect_rtp(rx, t, &l), MMR_DROP_SRTP_AUTH);
		assert_int_equal(pos, 5);                             /* nothing published */
		n = at_roc(&m, 2, 7, plain, &plen, prot);
		l = n;
		assert_int_equal(srtp_unprotect_rtp(rx, prot, &l), MMR_DROP_NONE);
		assert_int_equal(pos, 0x20000);
		/* synchronised: a packet one ROC ahead is refused (no probe) */
		n = at_roc(&m, 3, 9, plain, &plen, prot);
		l = n;
		assert_int_equal(srtp_unprotect_rtp(rx, prot, &l), MMR_DROP_SRTP_AUTH);
		n = at_roc(&m, 2, 9, plain, &plen, prot);
		l = n;
		assert_int_equal(srtp_unprotect_rtp(rx, prot, &l), MMR_DROP_NONE);

		/* never resumed: ROC 0 only */
		fresh = stream_of(&m);
		n = at_roc(&m, 1, 5, plain, &plen, prot);
		l = n;
		assert_int_equal(srtp_unprotect_rtp(fresh, prot, &l), MMR_DROP_SRTP_AUTH);
		srtp_stream_free(rx);
		srtp_stream_free(fresh);
	}
}

/* The published position: at the first packet, at each half of the sequence space, not when a
 * resumed context stays where it was, and no more once the sink is cleared. */
static void test_index_sink(void **state)
{
	static const struct shape sh = { 0, 0, 20 };
	struct srtp_master m;
	struct srtp_stream *tx, *rx, *tx2;
	uint8_t plain[BUF], a[BUF];
	uint64_t vt = 0xdead, vr = 0xdead, v2 = 0x1234;
	uint32_t plen, n;
	static const struct { uint16_t seq; uint64_t pos; } steps[] = {
		{ 0x0010, 0 }, { 0x7fff, 0 }, { 0x8000, 0x8000 }, { 0xffff, 0x8000 }, { 0x0001, 0x10000 },
		{ 0x0000, 0x10000 } /* late: the highest index stays */, { 0x8001, 0x18000 },
	};

	(void)state;
	make_master(&m, SRTP_SUITE_AEAD_AES_128_GCM, 0x33);
	tx = stream_of(&m);
	rx = stream_of(&m);
	srtp_stream_set_index_sink(tx, &vt);
	srtp_stream_set_index_sink(rx, &vr);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		plen = build_rtp(plain, steps[i].seq, 0x99, &sh);
		n = srtp_protect_rtp_copy(tx, plain, plen, a, sizeof(a));
		assert_int_equal(srtp_unprotect_rtp(rx, a, &n), MMR_DROP_NONE);
		assert_int_equal(vt, steps[i].pos);
		assert_int_equal(vr, steps[i].pos);
	}
	srtp_stream_set_index_sink(tx, NULL);
	plen = build_rtp(plain, 0xc000, 0x99, &sh);
	assert_true(srtp_protect_rtp_copy(tx, plain, plen, a, sizeof(a)) > 0);
	plen = build_rtp(plain, 0x0100, 0x99, &sh);            /* ROC 2 */
	assert_true(srtp_protect_rtp_copy(tx, plain, plen, a, sizeof(a)) > 0);
	assert_int_equal(vt, 0x18000);

	/* resumed at ROC 2 upper half: a first packet in that half publishes nothing new */
	tx2 = stream_of(&m);
	srtp_stream_resume(tx2, 0x28000);
	srtp_stream_set_index_sink(tx2, &v2);
	plen = build_rtp(plain, 0x9000, 0x99, &sh);
	assert_true(srtp_protect_rtp_copy(tx2, plain, plen, a, sizeof(a)) > 0);
	assert_int_equal(v2, 0x1234);
	plen = build_rtp(plain, 0x0005, 0x99, &sh);            /* wraps: ROC 3 */
	assert_true(srtp_protect_rtp_copy(tx2, plain, plen, a, sizeof(a)) > 0);
	assert_int_equal(v2, 0x30000);
	srtp_stream_free(tx);
	srtp_stream_free(rx);
	srtp_stream_free(tx2);
}

/* ---- bad input ----------------------------------------------------------------------------- */

/* Every single-bit flip (two bits per byte) of an SRTP and an SRTCP packet fails authentication,
 * and leaves the receiver able to take the original afterwards. */
static void test_tampered(void **state)
{
	static const struct shape sh = { 2, 2, 120 };
	uint8_t plain[BUF], prot[BUF], t[BUF];

	(void)state;
	for (size_t si = 0; si < N_SUITES; si++) {
		struct srtp_master m;
		struct srtp_stream *tx, *rx;
		uint32_t plen, n, tl;

		make_master(&m, all_suites[si], 11);
		tx = stream_of(&m);
		rx = stream_of(&m);

		plen = build_rtp(plain, 777, 0x01010101, &sh);
		n = srtp_protect_rtp_copy(tx, plain, plen, prot, sizeof(prot));
		for (uint32_t i = 0; i < n; i++) {
			for (int bit = 0; bit < 8; bit += 7) {
				memcpy(t, prot, n);
				t[i] ^= (uint8_t)(1u << bit);
				tl = n;
				assert_int_equal(srtp_unprotect_rtp(rx, t, &tl), MMR_DROP_SRTP_AUTH);
				assert_int_equal(tl, n);
				t[i] ^= (uint8_t)(1u << bit);      /* the drop left the packet as it was */
				assert_memory_equal(t, prot, n);
			}
		}
		assert_int_equal(srtp_unprotect_rtp(rx, prot, &n), MMR_DROP_NONE);
		assert_memory_equal(prot, plain, plen);

		plen = build_rtcp(plain, 0x01010101, 10);
		n = srtp_protect_rtcp_copy(tx, plain, plen, prot, sizeof(prot));
		for (uint32_t i = 0; i < n; i++) {
			for (int bit = 0; bit < 8; bit += 7) {
				memcpy(t, prot, n);
				t[i] ^= (uint8_t)(1u << bit);
				tl = n;
				assert_int_equal(srtp_fast_unprotect_rtcp(rx, t, &tl), MMR_DROP_SRTP_AUTH);
				assert_int_equal(tl, n);
				t[i] ^= (uint8_t)(1u << bit);
				assert_memory_equal(t, prot, n);
			}
		}
		assert_int_equal(srtp_fast_unprotect_rtcp(rx, prot, &n), MMR_DROP_NONE);
		assert_memory_equal(prot, plain, plen);
		srtp_stream_free(tx);
		srtp_stream_free(rx);
	}
}

/* Every truncation of an SRTP and an SRTCP packet, from an exact-length heap buffer. */
static void test_truncated(void **state)
{
	static const struct shape sh = { 3, 1, 64 };
	uint8_t plain[BUF], prot[BUF];

	(void)state;
	for (size_t si = 0; si < N_SUITES; si++) {
		struct srtp_master m;
		struct srtp_stream *tx, *rx;
		uint32_t plen, n;

		make_master(&m, all_suites[si], 12);
		tx = stream_of(&m);
		rx = stream_of(&m);
		for (int proto = 0; proto < 2; proto++) {
			if (proto == 0) {
				plen = build_rtp(plain, 4242, 0x0f0f0f0f, &sh);
				n = srtp_protect_rtp_copy(tx, plain, plen, prot, sizeof(prot));
			} else {
				plen = build_rtcp(plain, 0x0f0f0f0f, 7);
				n = srtp_protect_rtcp_copy(tx, plain, plen, prot, sizeof(prot));
			}
			assert_true(n > plen);
			for (uint32_t cut = 0; cut < n; cut++) {
				uint8_t *p = malloc(cut ? cut : 1);
				uint32_t l = cut;
				enum mmr_drop_reason r;

				assert_non_null(p);
				memcpy(p, prot, cut);
				r = proto == 0 ? srtp_unprotect_rtp(rx, p, &l) : srtp_fast_unprotect_rtcp(rx, p, &l);
				assert_int_equal(r, MMR_DROP_SRTP_AUTH);
				free(p);
			}
			/* Also cut from the front: a packet that starts inside another. */
			for (uint32_t skip = 1; skip < n; skip++) {
				uint32_t l = n - skip;
				uint8_t *p = malloc(l);
				enum mmr_drop_reason r;

				memcpy(p, prot + skip, l);
				r = proto == 0 ? srtp_unprotect_rtp(rx, p, &l) : srtp_fast_unprotect_rtcp(rx, p, &l);
				assert_int_equal(r, MMR_DROP_SRTP_AUTH);
				free(p);
			}
			assert_int_equal(proto == 0 ? srtp_unprotect_rtp(rx, prot, &n)
						    : srtp_fast_unprotect_rtcp(rx, prot, &n), MMR_DROP_NONE);
			assert_int_equal(n, plen);
		}
		srtp_stream_free(tx);
		srtp_stream_free(rx);
	}
}

static void test_wrong_key(void **state)
{
	static const struct shape sh = { 0, 0, 300 };
	uint8_t plain[BUF], prot[BUF];

	(void)state;
	for (size_t si = 0; si < N_SUITES; si++) {
		for (int which = 0; which < 2; which++) {
			struct srtp_master m, bad;
			struct srtp_stream *tx, *rx, *good;
			uint32_t plen, n;

			make_master(&m, all_suites[si], 13);
			bad = m;
			if (which == 0)
				bad.key[bad.key_len - 1] ^= 0x40;
			else
				bad.salt[0] ^= 0x01;
			tx = stream_of(&m);
			rx = stream_of(&bad);
			good = stream_of(&m);
			/* Refused under the wrong key, then taken as it is by the right one. */
			plen = build_rtp(plain, 9, 0x22, &sh);
			n = srtp_protect_rtp_copy(tx, plain, plen, prot, sizeof(prot));
			assert_int_equal(srtp_unprotect_rtp(rx, prot, &n), MMR_DROP_SRTP_AUTH);
			assert_int_equal(srtp_unprotect_rtp(good, prot, &n), MMR_DROP_NONE);
			assert_int_equal(n, plen);
			assert_memory_equal(prot, plain, plen);
			plen = build_rtcp(plain, 0x22, 5);
			n = srtp_protect_rtcp_copy(tx, plain, plen, prot, sizeof(prot));
			assert_int_equal(srtp_fast_unprotect_rtcp(rx, prot, &n), MMR_DROP_SRTP_AUTH);
			assert_int_equal(srtp_fast_unprotect_rtcp(good, prot, &n), MMR_DROP_NONE);
			assert_int_equal(n, plen);
			assert_memory_equal(prot, plain, plen);
			srtp_stream_free(tx);
			srtp_stream_free(rx);
			srtp_stream_free(good);
		}
	}
}

/* Replays and the 128-packet window, SRTP and SRTCP. */
static void test_replay(void **state)
{
	static const struct shape sh = { 0, 0, 40 };
	static uint8_t prot[256][200];
	static uint32_t plen_of[256];
	uint8_t plain[BUF], t[BUF];

	(void)state;
	for (size_t si = 0; si < N_SUITES; si++) {
		struct srtp_master m;
		struct srtp_stream *tx, *rx;
		uint32_t n;

		make_master(&m, all_suites[si], 14);
		tx = stream_of(&m);
		rx = stream_of(&m);
		/* seq 1000 + i, i = 0..200; 72 and 73 (128 and 127 behind 200) held back. */
		for (int i = 0; i <= 200; i++) {
			uint32_t pl = build_rtp(plain, (uint16_t)(1000 + i), 0x33, &sh);

			plen_of[i] = srtp_protect_rtp_copy(tx, plain, pl, prot[i], sizeof(prot[i]));
			assert_true(plen_of[i] > 0);
			if (i == 72 || i == 73)
				continue;
			memcpy(t, prot[i], plen_of[i]);
			n = plen_of[i];
			assert_int_equal(srtp_unprotect_rtp(rx, t, &n), MMR_DROP_NONE);
		}
		for (int i = 0; i <= 200; i++) {
			enum mmr_drop_reason want = i == 73 ? MMR_DROP_NONE : MMR_DROP_SRTP_REPLAY;

			memcpy(t, prot[i], plen_of[i]);
			n = plen_of[i];
			assert_int_equal(srtp_unprotect_rtp(rx, t, &n), want);
		}
		memcpy(t, prot[73], plen_of[73]);
		n = plen_of[73];
		assert_int_equal(srtp_unprotect_rtp(rx, t, &n), MMR_DROP_SRTP_REPLAY);

		/* SRTCP: index 0..199 sent, 71 and 72 held back; then 72 (127 behind) is taken,
		 * 71 (128 behind) is too old, everything else is a replay. */
		for (int i = 0; i < 200; i++) {
			uint32_t pl = build_rtcp(plain, 0x33, 4);

			plen_of[i] = srtp_protect_rtcp_copy(tx, plain, pl, prot[i], sizeof(prot[i]));
			if (i == 71 || i == 72)
				continue;
			memcpy(t, prot[i], plen_of[i]);
			n = plen_of[i];
			assert_int_equal(srtp_fast_unprotect_rtcp(rx, t, &n), MMR_DROP_NONE);
		}
		for (int i = 0; i < 200; i++) {
			enum mmr_drop_reason want = i == 72 ? MMR_DROP_NONE : MMR_DROP_SRTP_REPLAY;

			memcpy(t, prot[i], plen_of[i]);
			n = plen_of[i];
			assert_int_equal(srtp_fast_unprotect_rtcp(rx, t, &n), want);
		}
		srtp_stream_free(tx);
		srtp_stream_free(rx);
	}
}

/* protect: dst == src, dst != src (src untouched), dst_cap too small, malformed source. */
static void test_protect_args(void **state)
{
	static const struct shape sh = { 1, 1, 100 };
	uint8_t plain[BUF], src[BUF], a[BUF], b[BUF];
	struct srtp_master m;
	struct srtp_stream *tx1, *tx2;
	uint32_t plen, n1, n2;

	(void)state;
	for (size_t si = 0; si < N_SUITES; si++) {
		uint32_t tag = all_suites[si] == SRTP_SUITE_AES_CM_128_HMAC_SHA1_80 ? 10 : 16;

		make_master(&m, all_suites[si], 15);
		tx1 = stream_of(&m);
		tx2 = stream_of(&m);
		plen = build_rtp(plain, 1, 2, &sh);
		memcpy(src, plain, plen);
		n1 = srtp_protect_rtp_copy(tx1, src, plen, a, sizeof(a));
		assert_int_equal(n1, plen + tag);
		assert_memory_equal(src, plain, plen);
		memcpy(b, plain, plen);
		n2 = srtp_protect_rtp_copy(tx2, b, plen, b, plen + tag);
		assert_int_equal(n2, n1);
		assert_memory_equal(a, b, n1);
		assert_int_equal(srtp_protect_rtp_copy(tx1, plain, plen, a, plen + tag - 1), 0);
		plain[0] = 0x40;                             /* version 1 */
		assert_int_equal(srtp_protect_rtp_copy(tx1, plain, plen, a, sizeof(a)), 0);
		assert_int_equal(srtp_protect_rtp_copy(tx1, plain, 11, a, sizeof(a)), 0);

		plen = build_rtcp(plain, 2, 3);
		n1 = srtp_protect_rtcp_copy(tx1, plain, plen, a, sizeof(a));
		assert_int_equal(n1, plen + 4 + tag);
		assert_int_equal(srtp_protect_rtcp_copy(tx1, plain, plen, a, n1 - 1), 0);
		assert_int_equal(srtp_protect_rtcp_copy(tx1, plain, 7, a, sizeof(a)), 0);
		srtp_stream_free(tx1);
		srtp_stream_free(tx2);
	}
}

/* ---- keys and SDES ------------------------------------------------------------------------- */

static void expect_bad_master(const struct srtp_master *m)
{
	errno = 0;
	assert_null(srtp_keys_new(m));
	assert_int_equal(errno, EINVAL);
}

static void test_keys_new_checks(void **state)
{
	struct srtp_master m;
	struct srtp_keys *k;

	(void)state;
	expect_bad_master(NULL);
	for (size_t si = 0; si < N_SUITES; si++) {
		make_master(&m, all_suites[si], 1);
		k = srtp_keys_new(&m);
		assert_non_null(k);
		srtp_keys_free(k);
		m.key_len--;
		expect_bad_master(&m);
		m.key_len += 2;
		expect_bad_master(&m);
		make_master(&m, all_suites[si], 1);
		m.salt_len = m.salt_len == 12 ? 14 : 12;
		expect_bad_master(&m);
		m.salt_len = 0;
		expect_bad_master(&m);
		make_master(&m, all_suites[si], 1);
		m.key_len = 255;
		expect_bad_master(&m);
	}
	make_master(&m, SRTP_SUITE_AEAD_AES_128_GCM, 1);
	m.suite = SRTP_SUITE_NONE;
	expect_bad_master(&m);
	m.suite = 4;
	expect_bad_master(&m);
	make_master(&m, SRTP_SUITE_AEAD_AES_256_GCM, 1);
	m.key_len = 16;                                  /* a 128-bit key for the 256-bit suite */
	expect_bad_master(&m);
	errno = 0;
	assert_null(srtp_stream_new(NULL));
	assert_int_equal(errno, EINVAL);
	srtp_keys_free(NULL);
	srtp_stream_free(NULL);
}

static void test_inline(void **state)
{
	struct srtp_master m, back;
	char text[128];
	int n;

	(void)state;
	/* Known encodings: key || salt = bytes 0, 1, 2, ... */
	static const struct { enum srtp_suite s; const char *b64; } known[] = {
		{ SRTP_SUITE_AES_CM_128_HMAC_SHA1_80, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd" },
		{ SRTP_SUITE_AEAD_AES_128_GCM, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw==" },
		{ SRTP_SUITE_AEAD_AES_256_GCM,
		  "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKis=" },
	};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		make_master(&m, known[i].s, 0);
		for (int j = 0; j < m.key_len; j++)
			m.key[j] = (uint8_t)j;
		for (int j = 0; j < m.salt_len; j++)
			m.salt[j] = (uint8_t)(m.key_len + j);
		n = srtp_master_to_inline(&m, text, sizeof(text));
		assert_int_equal(n, (int)strlen(known[i].b64));
		assert_string_equal(text, known[i].b64);
		assert_int_equal(srtp_master_to_inline(&m, text, (size_t)n), -ENOSPC);
		assert_int_equal(srtp_master_to_inline(&m, text, (size_t)n + 1), n);

		memset(&back, 0xee, sizeof(back));
		assert_int_equal(srtp_master_from_inline(known[i].s, known[i].b64, &back), 0);
		assert_memory_equal(&back, &m, sizeof(m));
		snprintf(text, sizeof(text), "inline:%s", known[i].b64);
		assert_int_equal(srtp_master_from_inline(known[i].s, text, &back), 0);
		assert_memory_equal(&back, &m, sizeof(m));
	}
	/* Round trips with other bytes. */
	for (size_t si = 0; si < N_SUITES; si++) {
		for (int seed = 0; seed < 50; seed++) {
			make_master(&m, all_suites[si], (uint8_t)(seed * 37));
			assert_true(srtp_master_to_inline(&m, text, sizeof(text)) > 0);
			assert_int_equal(srtp_master_from_inline(all_suites[si], text, &back), 0);
			assert_memory_equal(&back, &m, sizeof(m));
		}
	}
	/* Strictness. */
	static const struct { enum srtp_suite s; const char *text; } bad[] = {
		{ SRTP_SUITE_AES_CM_128_HMAC_SHA1_80, "" },
		{ SRTP_SUITE_AES_CM_128_HMAC_SHA1_80, "inline:" },
		{ SRTP_SUITE_AES_CM_128_HMAC_SHA1_80, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxw" },   /* short */
		{ SRTP_SUITE_AES_CM_128_HMAC_SHA1_80, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdA" }, /* long */
		{ SRTP_SUITE_AES_CM_128_HMAC_SHA1_80, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxw!" },  /* char */
		{ SRTP_SUITE_AES_CM_128_HMAC_SHA1_80, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd|2^31" },
		{ SRTP_SUITE_AES_CM_128_HMAC_SHA1_80, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd|1:1" },
		{ SRTP_SUITE_AES_CM_128_HMAC_SHA1_80, " AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd" },
		{ SRTP_SUITE_AES_CM_128_HMAC_SHA1_80, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxw=" },  /* pad */
		{ SRTP_SUITE_AES_CM_128_HMAC_SHA1_80, "inline:inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd" },
		{ SRTP_SUITE_AES_CM_128_HMAC_SHA1_80, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw==" },  /* GCM's */
		{ SRTP_SUITE_AEAD_AES_128_GCM, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw" },          /* no pad */
		{ SRTP_SUITE_AEAD_AES_128_GCM, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw=A" },
		{ SRTP_SUITE_AEAD_AES_128_GCM, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGx==" },  /* non-canonical */
		{ SRTP_SUITE_AEAD_AES_128_GCM, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaG===" },
		{ SRTP_SUITE_AEAD_AES_128_GCM, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd" },  /* CM's */
		{ SRTP_SUITE_AEAD_AES_256_GCM, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKiu=" },
		{ SRTP_SUITE_AEAD_AES_256_GCM, "AAECAwQFBgcICQoLDA0ODx=REhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKis=" },
		{ SRTP_SUITE_NONE, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&back, 0xee, sizeof(back));
		assert_int_equal(srtp_master_from_inline(bad[i].s, bad[i].text, &back), -EINVAL);
	}
	assert_int_equal(srtp_master_from_inline(SRTP_SUITE_AEAD_AES_128_GCM, NULL, &back), -EINVAL);
	make_master(&m, SRTP_SUITE_AEAD_AES_128_GCM, 1);
	m.key_len = 15;
	assert_int_equal(srtp_master_to_inline(&m, text, sizeof(text)), -EINVAL);
}

/* ---- verify only (SSRC learning) ----------------------------------------------------------- */

/*
 * srtp_verify_rtp_new (dataplane/learn.c): a genuine first packet of a new stream (ours and
 * libsrtp2's, payloads under and over the GCM scratch chunk) verifies; every bit flip, a forged tag,
 * no tag, a truncation, the wrong key and a packet at ROC 1 fail; the packet is never written, no
 * OpenSSL allocation is made; and the context's ROC and replay window are untouched (a packet
 * verified first is then still accepted by srtp_unprotect_rtp on the same context, twice verified).
 */
static void test_verify_new(void **state)
{
	static const struct shape shapes_v[] = { { 0, 0, 0 }, { 0, 2, 40 }, { 2, 1, 255 }, { 0, 3, 1100 } };
	uint8_t plain[BUF], prot[BUF], t[BUF];

	(void)state;
	for (size_t si = 0; si < N_SUITES; si++) {
		struct srtp_master m, other;
		struct srtp_stream *tx, *v, *wrong;
		srtp_t ref_tx;
		uint32_t plen, n, tag_len = all_suites[si] == SRTP_SUITE_AES_CM_128_HMAC_SHA1_80 ? 10 : 16;

		make_master(&m, all_suites[si], 31);
		make_master(&other, all_suites[si], 32);
		tx = stream_of(&m);
		v = stream_of(&m);
		wrong = stream_of(&other);
		ref_tx = ref_session(&m, 1);
		for (size_t k = 0; k < sizeof(shapes_v) / sizeof(shapes_v[0]); k++) {
			plen = build_rtp(plain, (uint16_t)(3000 + k), 0x5500aa00u + (uint32_t)k, &shapes_v[k]);
			n = srtp_protect_rtp_copy(tx, plain, plen, prot, sizeof(prot));
			assert_int_equal(n, plen + tag_len);
			memcpy(t, prot, n);
			long before = ossl_allocs;
			assert_int_equal(srtp_verify_rtp_new(v, t, n), MMR_DROP_NONE);
			assert_int_equal(srtp_verify_rtp_new(v, t, n), MMR_DROP_NONE);
			assert_int_equal(ossl_allocs, before);
			assert_memory_equal(t, prot, n);                /* not written */
			assert_int_equal(srtp_verify_rtp_new(wrong, t, n), MMR_DROP_SRTP_AUTH);
			/* libsrtp2's packet of the same stream verifies too */
			int nt = (int)plen;
			memcpy(t, plain, plen);
			assert_int_equal(srtp_protect(ref_tx, t, &nt), srtp_err_status_ok);
			assert_int_equal(srtp_verify_rtp_new(v, t, (uint32_t)nt), MMR_DROP_NONE);
			/* every bit flip (two per byte): refused, the packet as it was */
			for (uint32_t i = 0; i < n; i++) {
				for (int bit = 0; bit < 8; bit += 7) {
					memcpy(t, prot, n);
					t[i] ^= (uint8_t)(1u << bit);
					assert_int_equal(srtp_verify_rtp_new(v, t, n), MMR_DROP_SRTP_AUTH);
					t[i] ^= (uint8_t)(1u << bit);
					assert_memory_equal(t, prot, n);
				}
			}
			/* forged: the clear packet with a made-up tag; the clear packet alone; truncated */
			memcpy(t, plain, plen);
			for (uint32_t i = 0; i < tag_len; i++)
				t[plen + i] = rnd8();
			assert_int_equal(srtp_verify_rtp_new(v, t, plen + tag_len), MMR_DROP_SRTP_AUTH);
			memset(t + plen, 0, tag_len);
			assert_int_equal(srtp_verify_rtp_new(v, t, plen + tag_len), MMR_DROP_SRTP_AUTH);
			assert_int_equal(srtp_verify_rtp_new(v, plain, plen), MMR_DROP_SRTP_AUTH);
			for (uint32_t cut = 0; cut < n; cut += 3)
				assert_int_equal(srtp_verify_rtp_new(v, prot, cut), MMR_DROP_SRTP_AUTH);
			/* the context's inbound state is untouched: the verified packet is still new to it */
			assert_int_equal(srtp_unprotect_rtp(v, prot, &n), MMR_DROP_NONE);
			assert_int_equal(n, plen);
			assert_memory_equal(prot, plain, plen);
		}
		/* ROC 1 (after a wrap): not a new stream's packet */
		struct srtp_stream *tx2 = stream_of(&m);
		plen = build_rtp(plain, 65535, 0x77, &shapes_v[1]);
		n = srtp_protect_rtp_copy(tx2, plain, plen, prot, sizeof(prot));
		assert_int_equal(srtp_verify_rtp_new(v, prot, n), MMR_DROP_NONE);
		plen = build_rtp(plain, 0, 0x77, &shapes_v[1]);
		n = srtp_protect_rtp_copy(tx2, plain, plen, prot, sizeof(prot));
		assert_int_equal(srtp_verify_rtp_new(v, prot, n), MMR_DROP_SRTP_AUTH);
		srtp_stream_free(tx2);
		srtp_dealloc(ref_tx);
		srtp_stream_free(tx);
		srtp_stream_free(v);
		srtp_stream_free(wrong);
	}
}

/* ---- no allocation on the packet path ------------------------------------------------------ */

static void test_no_alloc_per_packet(void **state)
{
	static const struct shape sh = { 0, 1, 1188 };
	uint8_t plain[BUF], a[BUF];

	(void)state;
	assert_true(ossl_counting);
	for (size_t si = 0; si < N_SUITES; si++) {
		struct srtp_master m;
		struct srtp_stream *tx, *rx;
		long before;

		make_master(&m, all_suites[si], 16);
		tx = stream_of(&m);
		rx = stream_of(&m);
		before = ossl_allocs;
		for (int i = 0; i < 300; i++) {
			uint32_t plen = build_rtp(plain, (uint16_t)(65400 + i), 7, &sh), n;

			n = srtp_protect_rtp_copy(tx, plain, plen, a, sizeof(a));
			assert_int_equal(srtp_unprotect_rtp(rx, a, &n), MMR_DROP_NONE);
			plen = build_rtcp(plain, 7, 20);
			n = srtp_protect_rtcp_copy(tx, plain, plen, a, sizeof(a));
			assert_int_equal(srtp_fast_unprotect_rtcp(rx, a, &n), MMR_DROP_NONE);
			a[30] ^= 1;
			assert_int_equal(srtp_fast_unprotect_rtcp(rx, a, &n), MMR_DROP_SRTP_AUTH);
		}
		assert_int_equal(ossl_allocs, before);
		srtp_stream_free(tx);
		srtp_stream_free(rx);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_suite_names),
		cmocka_unit_test(test_kdf_rfc3711),
		cmocka_unit_test(test_rfc7714_rtp),
		cmocka_unit_test(test_rfc7714_rtcp),
		cmocka_unit_test(test_interop_libsrtp2),
		cmocka_unit_test(test_rtcp_several_ssrcs),
		cmocka_unit_test(test_seq_wrap),
		cmocka_unit_test(test_before_first_packet),
		cmocka_unit_test(test_restart_interop),
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_index_sink),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_protect_args),
		cmocka_unit_test(test_keys_new_checks),
		cmocka_unit_test(test_inline),
		cmocka_unit_test(test_verify_new),
		cmocka_unit_test(test_no_alloc_per_packet),
	};

	/* Before OpenSSL allocates anything: count its allocations (test_no_alloc_per_packet). */
	ossl_counting = CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free);
	if (srtp_init() != srtp_err_status_ok) {
		fprintf(stderr, "libsrtp2 srtp_init failed\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
