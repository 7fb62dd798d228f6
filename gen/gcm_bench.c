/*
 * gcm_bench.c - the raw AES-128-GCM reference rate of gcm_bench.h, with OpenSSL's EVP interface
 * the way an SRTP implementation uses it per packet: set the IV, authenticate the RTP header,
 * encrypt the payload, produce the tag. Rates are per second of this thread's CPU time.
 */
#include "gcm_bench.h"

#include <string.h>
#include <time.h>
#include <openssl/evp.h>

#include "srtp_fast.h"

#define HDR 12

/* CPU time of this thread: on a shared machine the rate must not count time we were descheduled
 * (the dataplane's figures are corrected the same way). */
static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int gcm_bench_run(double seconds, uint32_t pkt_bytes, struct gcm_result *r)
{
	static uint8_t in[2048], out[2048 + 16];
	uint8_t key[16], iv[12], tag[16];
	int rc = -1, len;

	memset(r, 0, sizeof(*r));
	if (pkt_bytes <= HDR || pkt_bytes > sizeof(in))
		return -1;
	for (unsigned i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 37 + 1);
	memset(iv, 0x5a, sizeof(iv));
	for (unsigned i = 0; i < pkt_bytes; i++)
		in[i] = (uint8_t)(i * 7);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return -1;
	if (EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, key, NULL) != 1)
		goto out;
	uint64_t n = 0;
	double t0 = now_s(), t1 = t0;
	while (t1 - t0 < seconds) {
		for (int k = 0; k < 1024; k++, n++) {
			iv[8] = (uint8_t)(n >> 24);
			iv[9] = (uint8_t)(n >> 16);
			iv[10] = (uint8_t)(n >> 8);
			iv[11] = (uint8_t)n;
			if (EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, iv) != 1 ||
			    EVP_EncryptUpdate(ctx, NULL, &len, in, HDR) != 1 ||
			    EVP_EncryptUpdate(ctx, out + HDR, &len, in + HDR, (int)(pkt_bytes - HDR)) != 1 ||
			    EVP_EncryptFinal_ex(ctx, out + HDR + len, &len) != 1 ||
			    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag) != 1)
				goto out;
		}
		t1 = now_s();
	}
	r->pkts = n;
	r->pkt_bytes = pkt_bytes;
	r->pkts_per_s = (double)n / (t1 - t0);
	r->ns_per_pkt = (t1 - t0) * 1e9 / (double)n;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

/* Protect n packets with s (sequence numbers from *seq on); the seconds it took, < 0 on failure. */
static double protect_slice(struct srtp_stream *s, uint8_t *in, uint32_t len, uint8_t *out, uint32_t cap,
			    uint16_t *seq, unsigned n)
{
	double t0 = now_s();
	for (unsigned k = 0; k < n; k++, (*seq)++) {
		in[2] = (uint8_t)(*seq >> 8);
		in[3] = (uint8_t)*seq;
		if (!srtp_protect_rtp_copy(s, in, len, out, cap))
			return -1;
	}
	return now_s() - t0;
}

int lease_cost_run(double seconds, uint32_t pkt_bytes, struct lease_cost *r)
{
	static uint8_t in[2048], out[2048 + SRTP_MAX_TRAILER];
	struct srtp_master m;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (pkt_bytes <= HDR || pkt_bytes > sizeof(in))
		return -1;
	memset(&m, 0, sizeof(m));
	m.suite = SRTP_SUITE_AEAD_AES_128_GCM;
	m.key_len = 16;
	m.salt_len = 12;
	for (unsigned i = 0; i < 16; i++)
		m.key[i] = (uint8_t)(i * 37 + 1);
	for (unsigned i = 0; i < pkt_bytes; i++)
		in[i] = (uint8_t)(i * 7);
	in[0] = 0x80;
	in[1] = 96;
	struct srtp_keys *k = srtp_keys_new(&m);
	struct srtp_stream *plain = k ? srtp_stream_new(k) : NULL;
	struct srtp_stream *leased = k ? srtp_stream_new(k) : NULL;
	if (!plain || !leased)
		goto out;
	/* as the dataplane leases an outbound context; the limit is never reached here */
	srtp_stream_lease(leased, SRTP_PROTO_RTP, 0, SRTP_INDEX_MAX, 4096, 0);
	uint16_t seq_a = 0, seq_b = 0;
	double ta = 0, tb = 0;
	const unsigned slice = 4096;
	while (ta + tb < seconds) {
		double a = protect_slice(plain, in, pkt_bytes, out, sizeof(out), &seq_a, slice);
		double b = protect_slice(leased, in, pkt_bytes, out, sizeof(out), &seq_b, slice);
		if (a < 0 || b < 0)
			goto out;
		ta += a;
		tb += b;
		r->pkts += slice;
	}
	r->unleased_ns_per_pkt = ta * 1e9 / (double)r->pkts;
	r->leased_ns_per_pkt = tb * 1e9 / (double)r->pkts;
	r->ratio = tb / ta;
	rc = 0;
out:
	srtp_stream_free(plain);
	srtp_stream_free(leased);
	srtp_keys_free(k);
	return rc;
}
