/*
 * stun.c - STUN messages for the ICE-lite agent (stun.h): parse, verify, answer.
 */
#include "stun.h"

#include <string.h>
#include <zlib.h>
/* The one-shot HMAC() and EVP digests of OpenSSL 3 allocate per call; the SHA-1 block functions
 * do not (a worker answers checks on its packet path). They are deprecated, not removed. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include <openssl/sha.h>
#include "be_bytes.h"

const char *stun_err_name(enum stun_err e)
{
	static const char *const names[STUN_ERR_COUNT] = {
		[STUN_OK] = "ok", [STUN_ERR_SHORT] = "short", [STUN_ERR_HEADER] = "header",
		[STUN_ERR_ATTR] = "attribute", [STUN_ERR_ORDER] = "order",
	};
	return (unsigned)e < STUN_ERR_COUNT ? names[e] : "?";
}

enum stun_err stun_parse(const uint8_t *p, uint32_t len, struct stun_msg *m)
{
	memset(m, 0, sizeof(*m));
	if (len < STUN_HDR_LEN)
		return STUN_ERR_SHORT;
	uint16_t blen = get_be16(p + 2);
	if ((p[0] & 0xC0) || (blen & 3) || get_be32(p + 4) != STUN_COOKIE)
		return STUN_ERR_HEADER;
	if ((uint32_t)blen + STUN_HDR_LEN != len)
		return STUN_ERR_SHORT;
	m->type = get_be16(p);
	m->len = (uint16_t)(blen + STUN_HDR_LEN);
	for (uint32_t off = STUN_HDR_LEN; off < m->len;) {
		if (off + 4 > m->len)
			return STUN_ERR_ATTR;
		uint16_t t = get_be16(p + off), alen = get_be16(p + off + 2);
		uint32_t next = off + 4 + (((uint32_t)alen + 3) & ~3u);
		if (next > m->len)
			return STUN_ERR_ATTR;
		if (m->fp_off)
			return STUN_ERR_ORDER;          /* FINGERPRINT is last */
		if (m->mi_off && t != STUN_ATTR_FINGERPRINT)
			return STUN_ERR_ORDER;          /* only FINGERPRINT after MESSAGE-INTEGRITY */
		const uint8_t *v = p + off + 4;
		switch (t) {
		case STUN_ATTR_USERNAME:
			if (alen == 0 || alen > STUN_MAX_USERNAME || m->username_off)
				return STUN_ERR_ATTR;
			m->username_off = (uint16_t)(off + 4);
			m->username_len = alen;
			break;
		case STUN_ATTR_MESSAGE_INTEGRITY:
			if (alen != STUN_ATTR_MI_LEN)
				return STUN_ERR_ATTR;
			m->mi_off = (uint16_t)off;
			break;
		case STUN_ATTR_FINGERPRINT:
			if (alen != 4)
				return STUN_ERR_ATTR;
			m->fp_off = (uint16_t)off;
			break;
		case STUN_ATTR_PRIORITY:
			if (alen != 4)
				return STUN_ERR_ATTR;
			m->has_priority = 1;
			m->priority = get_be32(v);
			break;
		case STUN_ATTR_USE_CANDIDATE:
			if (alen != 0)
				return STUN_ERR_ATTR;
			m->use_candidate = 1;
			break;
		case STUN_ATTR_ICE_CONTROLLING:
		case STUN_ATTR_ICE_CONTROLLED:
			if (alen != 8)
				return STUN_ERR_ATTR;
			if (t == STUN_ATTR_ICE_CONTROLLING)
				m->ice_controlling = 1;
			else
				m->ice_controlled = 1;
			m->tiebreaker = get_be64(v);
			break;
		default:
			if (t < 0x8000 && !m->unknown_attr)
				m->unknown_attr = t;    /* comprehension-required: 420 for a request */
			break;
		}
		off = next;
	}
	return STUN_OK;
}

/* The message up to (not including) the attribute at end_off, with the header's length as if the
 * message ended after that attribute (attr_len bytes of value): what MI and FINGERPRINT cover. */
static void covered_header(uint8_t hdr[STUN_HDR_LEN], const uint8_t *p, uint32_t end_off, uint32_t attr_len)
{
	memcpy(hdr, p, STUN_HDR_LEN);
	put_be16(hdr + 2, (uint16_t)(end_off + 4 + attr_len - STUN_HDR_LEN));
}

static uint32_t fingerprint(const uint8_t *p, uint32_t fp_off)
{
	uint8_t hdr[STUN_HDR_LEN];
	covered_header(hdr, p, fp_off, 4);
	uLong c = crc32(0L, Z_NULL, 0);
	c = crc32(c, hdr, STUN_HDR_LEN);
	c = crc32(c, p + STUN_HDR_LEN, fp_off - STUN_HDR_LEN);
	return (uint32_t)c ^ STUN_FINGERPRINT_XOR;
}

int stun_fingerprint_ok(const uint8_t *p, const struct stun_msg *m)
{
	return m->fp_off && get_be32(p + m->fp_off + 4) == fingerprint(p, m->fp_off);
}

/* HMAC-SHA1 (RFC 2104) of the message up to the attribute at mi_off, header length adjusted. */
static void integrity(uint8_t out[SHA_DIGEST_LENGTH], const uint8_t *p, uint32_t mi_off, const uint8_t *key,
		      size_t key_len)
{
	uint8_t k[SHA_CBLOCK], pad[SHA_CBLOCK], hdr[STUN_HDR_LEN], inner[SHA_DIGEST_LENGTH];
	SHA_CTX c;

	memset(k, 0, sizeof(k));
	if (key_len > SHA_CBLOCK) {
		SHA1_Init(&c);
		SHA1_Update(&c, key, key_len);
		SHA1_Final(k, &c);
	} else {
		memcpy(k, key, key_len);
	}
	covered_header(hdr, p, mi_off, STUN_ATTR_MI_LEN);
	for (unsigned i = 0; i < SHA_CBLOCK; i++)
		pad[i] = k[i] ^ 0x36;
	SHA1_Init(&c);
	SHA1_Update(&c, pad, SHA_CBLOCK);
	SHA1_Update(&c, hdr, STUN_HDR_LEN);
	SHA1_Update(&c, p + STUN_HDR_LEN, mi_off - STUN_HDR_LEN);
	SHA1_Final(inner, &c);
	for (unsigned i = 0; i < SHA_CBLOCK; i++)
		pad[i] = k[i] ^ 0x5c;
	SHA1_Init(&c);
	SHA1_Update(&c, pad, SHA_CBLOCK);
	SHA1_Update(&c, inner, SHA_DIGEST_LENGTH);
	SHA1_Final(out, &c);
	memset(k, 0, sizeof(k));                /* the password's pads: not left on the stack */
	memset(pad, 0, sizeof(pad));
	memset(&c, 0, sizeof(c));
}

int stun_integrity_ok(const uint8_t *p, const struct stun_msg *m, const uint8_t *key, size_t key_len)
{
	uint8_t mac[SHA_DIGEST_LENGTH];

	if (!m->mi_off)
		return 0;
	integrity(mac, p, m->mi_off, key, key_len);
	uint8_t diff = 0;                       /* constant time */
	for (unsigned i = 0; i < SHA_DIGEST_LENGTH; i++)
		diff |= (uint8_t)(mac[i] ^ p[m->mi_off + 4 + i]);
	return diff == 0;
}

int stun_username_is(const uint8_t *p, const struct stun_msg *m, const char *ufrag, size_t ufrag_len)
{
	return m->username_len > ufrag_len && p[m->username_off + ufrag_len] == ':' &&
	       memcmp(p + m->username_off, ufrag, ufrag_len) == 0;
}

/* The response's header and MI/FINGERPRINT trailer around attributes already at out + 20, n bytes. */
static uint32_t finish(uint8_t *out, uint32_t cap, uint16_t type, const uint8_t *reqp, uint32_t n,
		       const uint8_t *key, size_t key_len)
{
	uint32_t end = STUN_HDR_LEN + n;

	put_be16(out, type);
	put_be32(out + 4, STUN_COOKIE);
	memcpy(out + 8, reqp + 8, STUN_TXID_LEN);
	if (key) {
		if (end + 4 + STUN_ATTR_MI_LEN > cap)
			return 0;
		put_be16(out + end, STUN_ATTR_MESSAGE_INTEGRITY);
		put_be16(out + end + 2, STUN_ATTR_MI_LEN);
		uint8_t mac[SHA_DIGEST_LENGTH];
		integrity(mac, out, end, key, key_len);
		memcpy(out + end + 4, mac, STUN_ATTR_MI_LEN);
		end += 4 + STUN_ATTR_MI_LEN;
	}
	if (end + 8 > cap)
		return 0;
	put_be16(out + end, STUN_ATTR_FINGERPRINT);
	put_be16(out + end + 2, 4);
	put_be32(out + end + 4, fingerprint(out, end));
	end += 8;
	put_be16(out + 2, (uint16_t)(end - STUN_HDR_LEN));
	return end;
}

uint32_t stun_binding_success(uint8_t *out, uint32_t cap, const uint8_t *reqp, const struct stun_addr *from,
			      const uint8_t *key, size_t key_len)
{
	uint32_t alen = from->family == 6 ? 16 : 4, n = 4 + 4 + alen;

	if (cap < STUN_HDR_LEN + n || (from->family != 4 && from->family != 6))
		return 0;
	uint8_t *a = out + STUN_HDR_LEN;
	put_be16(a, STUN_ATTR_XOR_MAPPED_ADDRESS);
	put_be16(a + 2, (uint16_t)(4 + alen));
	a[4] = 0;
	a[5] = from->family == 6 ? 0x02 : 0x01;
	put_be16(a + 6, (uint16_t)(from->port ^ (STUN_COOKIE >> 16)));
	uint8_t x[16];                          /* cookie, then the transaction id */
	put_be32(x, STUN_COOKIE);
	memcpy(x + 4, reqp + 8, STUN_TXID_LEN);
	for (uint32_t i = 0; i < alen; i++)
		a[8 + i] = (uint8_t)(from->ip[i] ^ x[i]);
	return finish(out, cap, STUN_BINDING_SUCCESS, reqp, n, key, key_len);
}

uint32_t stun_binding_error(uint8_t *out, uint32_t cap, const uint8_t *reqp, uint16_t code, uint16_t unknown_attr,
			    const uint8_t *key, size_t key_len)
{
	const char *reason = code == 400 ? "Bad Request" : code == 401 ? "Unauthenticated" :
			     code == 420 ? "Unknown Attribute" : code == 487 ? "Role Conflict" : "Error";
	uint32_t rlen = (uint32_t)strlen(reason), vlen = 4 + rlen, n = 4 + ((vlen + 3) & ~3u);

	if (code == 420 && unknown_attr)
		n += 8;
	if (cap < STUN_HDR_LEN + n || code < 300 || code > 699)
		return 0;
	uint8_t *a = out + STUN_HDR_LEN;
	memset(a, 0, n);
	put_be16(a, STUN_ATTR_ERROR_CODE);
	put_be16(a + 2, (uint16_t)vlen);
	a[6] = (uint8_t)(code / 100);
	a[7] = (uint8_t)(code % 100);
	memcpy(a + 8, reason, rlen);
	if (code == 420 && unknown_attr) {
		uint8_t *u = a + 4 + ((vlen + 3) & ~3u);
		put_be16(u, STUN_ATTR_UNKNOWN_ATTRIBUTES);
		put_be16(u + 2, 2);
		put_be16(u + 4, unknown_attr);
	}
	return finish(out, cap, STUN_BINDING_ERROR, reqp, n, key, key_len);
}

uint32_t stun_binding_request(uint8_t *out, uint32_t cap, const uint8_t txid[STUN_TXID_LEN], const char *username,
			      size_t username_len, uint32_t priority, uint64_t tiebreaker, int use_candidate,
			      const uint8_t *key, size_t key_len)
{
	uint32_t ulen = (uint32_t)((username_len + 3) & ~(size_t)3), n = 4 + ulen + 8 + 12 + (use_candidate ? 4 : 0);
	uint8_t hdr[STUN_HDR_LEN] = { 0 };      /* finish() takes the transaction id from a header */

	if (username_len == 0 || username_len > STUN_MAX_USERNAME || cap < STUN_HDR_LEN + n)
		return 0;
	memcpy(hdr + 8, txid, STUN_TXID_LEN);
	uint8_t *a = out + STUN_HDR_LEN;
	memset(a, 0, n);
	put_be16(a, STUN_ATTR_USERNAME);
	put_be16(a + 2, (uint16_t)username_len);
	memcpy(a + 4, username, username_len);
	a += 4 + ulen;
	put_be16(a, STUN_ATTR_PRIORITY);
	put_be16(a + 2, 4);
	put_be32(a + 4, priority);
	put_be16(a + 8, STUN_ATTR_ICE_CONTROLLING);
	put_be16(a + 10, 8);
	put_be32(a + 12, (uint32_t)(tiebreaker >> 32));
	put_be32(a + 16, (uint32_t)tiebreaker);
	if (use_candidate)
		put_be16(a + 20, STUN_ATTR_USE_CANDIDATE);   /* length 0 */
	return finish(out, cap, STUN_BINDING_REQUEST, hdr, n, key, key_len);
}

#pragma GCC diagnostic pop
