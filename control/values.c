/*
 * values.c - parse and format the controller's text values (see values.h).
 */
#include "values.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

bool val_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > VAL_NAME_MAX || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '_' || c == '.' || c == '-';
		if (!ok)
			return false;
	}
	return true;
}

int val_uint(const char *s, uint64_t max, uint64_t *out)
{
	unsigned base = 10;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (*s == '\0')
		return -1;
	uint64_t v = 0;
	for (; *s; s++) {
		unsigned d;
		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return -1;
		if (d > max || v > (max - d) / base)
			return -1;
		v = v * base + d;
	}
	*out = v;
	return 0;
}

int val_ssrc(const char *s, uint32_t *out)
{
	uint64_t v;
	if (val_uint(s, UINT32_MAX, &v) < 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int val_addr(const char *s, struct mmr_addr *out)
{
	memset(out, 0, sizeof(*out));
	uint8_t b[16];
	if (inet_pton(AF_INET, s, b) == 1) {
		out->family = MMR_AF_INET;
		memcpy(out->ip, b, 4);
	} else if (inet_pton(AF_INET6, s, b) == 1) {
		static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		if (memcmp(b, mapped, 12) == 0) {
			out->family = MMR_AF_INET;
			memcpy(out->ip, b + 12, 4);
		} else {
			out->family = MMR_AF_INET6;
			memcpy(out->ip, b, 16);
		}
	} else {
		return -1;
	}
	if (out->family == MMR_AF_INET) {
		uint32_t v = (uint32_t)out->ip[0] << 24 | (uint32_t)out->ip[1] << 16 |
			     (uint32_t)out->ip[2] << 8 | out->ip[3];
		if (v == 0 || (v >> 28) == 0xe || v == 0xffffffffu)
			return -2;
	} else {
		static const uint8_t zero[16];
		if (memcmp(out->ip, zero, 16) == 0 || out->ip[0] == 0xff)
			return -2;
	}
	return 0;
}

char *val_addr_fmt(const struct mmr_addr *a, char buf[VAL_ADDR_STRLEN])
{
	if (!inet_ntop(a->family == MMR_AF_INET ? AF_INET : AF_INET6, a->ip, buf, VAL_ADDR_STRLEN))
		snprintf(buf, VAL_ADDR_STRLEN, "?");
	return buf;
}

/* The syntax is lib's (mmr_mac_parse); a participant's next hop must also be a unicast, non-zero MAC. */
int val_mac(const char *s, uint8_t mac[6])
{
	if (mmr_mac_parse(s, mac) < 0)
		return -1;
	static const uint8_t zero[6];
	if (memcmp(mac, zero, 6) == 0 || (mac[0] & 1))
		return -2;
	return 0;
}

char *val_mac_fmt(const uint8_t mac[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
	return buf;
}

static const char *const role_names[] = {
	[MMR_ROLE_SENDRECV] = "sendrecv", [MMR_ROLE_RECVONLY] = "recvonly", [MMR_ROLE_SENDONLY] = "sendonly",
};
static const char *const kind_names[] = { [MMR_KIND_AUDIO] = "audio", [MMR_KIND_VIDEO] = "video" };
static const char *const codec_names[] = {
	[MMR_CODEC_OPUS] = "opus", [MMR_CODEC_VP8] = "vp8", [MMR_CODEC_VP9] = "vp9", [MMR_CODEC_AV1] = "av1",
	[MMR_CODEC_H264] = "h264",
};

static int lookup(const char *const *names, unsigned n, const char *s)
{
	for (unsigned i = 0; i < n; i++)
		if (names[i] && strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

static const char *name_of(const char *const *names, unsigned n, unsigned v)
{
	return v < n && names[v] ? names[v] : "?";
}

#define N(a) (unsigned)(sizeof(a) / sizeof((a)[0]))
int val_role(const char *s) { return lookup(role_names, N(role_names), s); }
const char *val_role_name(unsigned v) { return name_of(role_names, N(role_names), v); }
int val_kind(const char *s) { return lookup(kind_names, N(kind_names), s); }
const char *val_kind_name(unsigned v) { return name_of(kind_names, N(kind_names), v); }
int val_codec(const char *s) { return lookup(codec_names, N(codec_names), s); }
const char *val_codec_name(unsigned v) { return name_of(codec_names, N(codec_names), v); }

/* ---- RTCP ------------------------------------------------------------------------------------ */

static const struct { const char *name; uint8_t flag; } fb_names[] = {
	{ "nack", MMR_FB_NACK }, { "pli", MMR_FB_PLI }, { "fir", MMR_FB_FIR }, { "rsize", MMR_FB_RSIZE },
	{ "twcc", MMR_FB_TWCC }, { "remb", MMR_FB_REMB },
};

int val_fb(const char *s, uint8_t *fb)
{
	*fb = 0;
	if (strcmp(s, "none") == 0)
		return 0;
	const char *p = s;
	for (;;) {
		size_t len = strcspn(p, ",");
		unsigned i;
		for (i = 0; i < sizeof(fb_names) / sizeof(fb_names[0]); i++)
			if (strlen(fb_names[i].name) == len && strncmp(p, fb_names[i].name, len) == 0)
				break;
		if (i == sizeof(fb_names) / sizeof(fb_names[0]) || (*fb & fb_names[i].flag))
			return -1;
		*fb |= fb_names[i].flag;
		if (p[len] == '\0')
			return 0;
		p += len + 1;
	}
}

char *val_fb_fmt(uint8_t fb, char buf[VAL_FB_STRLEN])
{
	buf[0] = '\0';
	for (unsigned i = 0; i < sizeof(fb_names) / sizeof(fb_names[0]); i++)
		if (fb & fb_names[i].flag) {
			if (buf[0])
				strcat(buf, ",");
			strcat(buf, fb_names[i].name);
		}
	if (!buf[0])
		strcpy(buf, "none");
	return buf;
}

int val_rtx_map(const char *s, struct mmr_rtx_pt map[MMR_RTX_MAP_MAX])
{
	memset(map, 0, MMR_RTX_MAP_MAX * sizeof(*map));
	if (strcmp(s, "-") == 0)
		return 0;
	const char *p = s;
	for (unsigned n = 0;; n++) {
		char item[16];
		size_t len = strcspn(p, ",");
		if (len == 0 || len >= sizeof(item))
			return -1;
		if (n == MMR_RTX_MAP_MAX)
			return -2;
		memcpy(item, p, len);
		item[len] = '\0';
		char *colon = strchr(item, ':');
		uint64_t apt, pt;
		if (!colon)
			return -1;
		*colon = '\0';
		if (val_uint(item, 127, &apt) < 0 || val_uint(colon + 1, 127, &pt) < 0 || pt == 0 || pt == apt)
			return -1;
		for (unsigned j = 0; j < n; j++)
			if (map[j].apt == apt || map[j].pt == pt || map[j].apt == pt || map[j].pt == apt)
				return -3;
		map[n].apt = (uint8_t)apt;
		map[n].pt = (uint8_t)pt;
		if (p[len] == '\0')
			return 0;
		p += len + 1;
	}
}

char *val_rtx_map_fmt(const struct mmr_rtx_pt map[MMR_RTX_MAP_MAX], char buf[VAL_RTX_MAP_STRLEN])
{
	size_t n = 0;
	buf[0] = '\0';
	for (unsigned i = 0; i < MMR_RTX_MAP_MAX; i++)
		if (map[i].apt || map[i].pt)
			n += (size_t)snprintf(buf + n, VAL_RTX_MAP_STRLEN - n, "%s%u:%u", n ? "," : "", map[i].apt,
					      map[i].pt);
	if (n == 0)
		strcpy(buf, "-");
	return buf;
}

/* ---- RTP header extension ids (issue 12) ------------------------------------------------------ */

static const char *const ext_names[VAL_EXT_N] = { "twcc", "abs-send-time", "audio-level", "mid", "rid", "rrid" };

int val_ext(const char *s, uint8_t ids[VAL_EXT_N], unsigned max_id)
{
	memset(ids, 0, VAL_EXT_N);
	if (strcmp(s, "-") == 0 || strcmp(s, "none") == 0)
		return 0;
	const char *p = s;
	for (;;) {
		char item[32];
		size_t len = strcspn(p, ",");
		if (len == 0 || len >= sizeof(item))
			return -1;
		memcpy(item, p, len);
		item[len] = '\0';
		char *eq = strchr(item, '=');
		if (!eq)
			return -1;
		*eq = '\0';
		unsigned i;
		for (i = 0; i < VAL_EXT_N && strcmp(item, ext_names[i]) != 0; i++)
			;
		if (i == VAL_EXT_N)
			return -1;
		if (ids[i])
			return -3;
		uint64_t v;
		if (val_uint(eq + 1, UINT32_MAX, &v) < 0)
			return -1;
		if (v == 0 || v > max_id)
			return -2;
		for (unsigned j = 0; j < VAL_EXT_N; j++)
			if (ids[j] == v)
				return -4;
		ids[i] = (uint8_t)v;
		if (p[len] == '\0')
			return 0;
		p += len + 1;
	}
}

char *val_ext_fmt(const uint8_t ids[VAL_EXT_N], char buf[VAL_EXT_STRLEN])
{
	size_t n = 0;
	buf[0] = '\0';
	for (unsigned i = 0; i < VAL_EXT_N; i++)
		if (ids[i])
			n += (size_t)snprintf(buf + n, VAL_EXT_STRLEN - n, "%s%s=%u", n ? "," : "", ext_names[i], ids[i]);
	if (n == 0)
		strcpy(buf, "-");
	return buf;
}

const char *val_ext_name(unsigned i)
{
	return i < VAL_EXT_N ? ext_names[i] : "?";
}

bool val_mid_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > MMR_MID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return false;
	return true;
}

/* ICE characters (RFC 8839 ice-char): ALPHA / DIGIT / "+" / "/" */
static int ice_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

int val_ice(const char *s, char ufrag[MMR_ICE_UFRAG_MAX], size_t *ulen, char pwd[MMR_ICE_PWD_MAX], size_t *plen)
{
	const char *colon = strchr(s, ':');
	if (!colon)
		return -1;
	size_t u = (size_t)(colon - s), p = strlen(colon + 1);
	for (size_t i = 0; i < u; i++)
		if (!ice_char(s[i]))
			return -1;
	for (size_t i = 0; i < p; i++)
		if (!ice_char(colon[1 + i]))
			return -1;
	if (u < MMR_ICE_UFRAG_MIN || u > MMR_ICE_UFRAG_MAX)
		return -2;
	if (p < MMR_ICE_PWD_MIN || p > MMR_ICE_PWD_MAX)
		return -3;
	memcpy(ufrag, s, u);
	memcpy(pwd, colon + 1, p);
	*ulen = u;
	*plen = p;
	return 0;
}
