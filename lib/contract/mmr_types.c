/*
 * mmr_types.c - text forms of the small value types of mmr_types.h: IPv4/IPv6 addresses and MAC
 * addresses, as they appear in configs, mmrctl arguments and logs. Not used on the packet path.
 */
#include "mmr_types.h"
#include "char_value.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

int mmr_addr_parse(const char *s, struct mmr_addr *out)
{
	struct mmr_addr a;

	if (!s || !out)
		return -1;
	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, s, a.ip) == 1) {
		a.family = MMR_AF_INET;
	} else if (inet_pton(AF_INET6, s, a.ip) == 1) {
		a.family = MMR_AF_INET6;
	} else {
		return -1;
	}
	*out = a;
	return 0;
}

char *mmr_addr_format(const struct mmr_addr *a, char *buf, unsigned len)
{
	if (!buf || len == 0)
		return buf;
	buf[0] = '\0';
	if (!a) {
		snprintf(buf, len, "(null)");
		return buf;
	}
	switch (a->family) {
	case MMR_AF_INET:
		if (!inet_ntop(AF_INET, a->ip, buf, len))
			buf[0] = '\0';
		break;
	case MMR_AF_INET6:
		if (!inet_ntop(AF_INET6, a->ip, buf, len))
			buf[0] = '\0';
		break;
	default:
		snprintf(buf, len, "(family %u)", a->family);
		break;
	}
	return buf;
}

/* Exactly six groups of two hex digits separated by ':' (or all by '-'), nothing else. */
int mmr_mac_parse(const char *s, uint8_t mac[6])
{
	uint8_t m[6];
	char sep;

	if (!s || !mac || strlen(s) != 17)
		return -1;
	sep = s[2];
	if (sep != ':' && sep != '-')
		return -1;
	for (int i = 0; i < 6; i++) {
		const char *g = s + 3 * i;
		int hi = hex_char_value(g[0]), lo = hex_char_value(g[1]);

		if (hi < 0 || lo < 0)
			return -1;
		if (i < 5 && g[2] != sep)
			return -1;
		m[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(mac, m, 6);
	return 0;
}

const char *mmr_dtls_state_name(unsigned st)
{
	static const char *const names[MMR_DTLS__STATES] = {
		[MMR_DTLS_NONE] = "none", [MMR_DTLS_WAITING] = "waiting", [MMR_DTLS_HANDSHAKING] = "handshaking",
		[MMR_DTLS_CONNECTED] = "connected", [MMR_DTLS_FAILED] = "failed", [MMR_DTLS_CLOSED] = "closed",
	};
	return st < MMR_DTLS__STATES ? names[st] : "?";
}

const char *mmr_dtls_fail_name(unsigned f)
{
	/* lib/dtls's dtls_fail_name words for the same reasons */
	static const char *const names[MMR_DTLS__FAILS] = {
		[MMR_DTLS_FAIL_NONE] = "none", [MMR_DTLS_FAIL_FINGERPRINT] = "fingerprint",
		[MMR_DTLS_FAIL_NO_SRTP] = "no_srtp_profile", [MMR_DTLS_FAIL_HANDSHAKE] = "handshake",
		[MMR_DTLS_FAIL_DEADLINE] = "deadline", [MMR_DTLS_FAIL_RETRANSMIT] = "retransmit_limit",
		[MMR_DTLS_FAIL_EXPORT] = "export", [MMR_DTLS_FAIL_INTERNAL] = "internal",
		[MMR_DTLS_FAIL_KEYS] = "keys",
	};
	return f < MMR_DTLS__FAILS ? names[f] : "?";
}
