/*
 * sdp_offer.c - parse an SDP offer as browsers send it (RFC 8866 syntax, JSEP RFC 8829 usage) into
 * struct sdp_offer (sdp.h). Line by line over a length-bounded buffer (no NUL needed, nothing read
 * past len); every count, length and number checked against the bounds of sdp.h; the first problem
 * stops the parse with "line N (first chars of the line): what is wrong". Attributes the MMR has no
 * use for are skipped; the ones it uses are checked strictly (a malformed rtpmap, fmtp value the MMR
 * reads, extmap, ssrc, rid, simulcast, ice or fingerprint line is an error, not ignored).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sdp.h"

const char *const sdp_ext_names[SDP_EXT_N] = {
	"mid", "rid", "rrid", "dd", "twcc", "abs-send-time", "audio-level",
};
const char *const sdp_ext_uris[SDP_EXT_N] = {
	"urn:ietf:params:rtp-hdrext:sdes:mid",
	"urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
	"urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
	"https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension",
	"http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
	"http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
	"urn:ietf:params:rtp-hdrext:ssrc-audio-level",
};

/* A piece of the offer: not NUL-terminated. */
struct span { const char *p; size_t n; };

struct ctx {
	struct sdp_offer *o;
	struct sdp_media *m;        /* current m-section, NULL at session level */
	int   lineno;
	struct span line;
	char *err;
	size_t errlen;
};

static int fail(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct ctx *c, const char *fmt, ...)
{
	char what[160], shown[44];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (!c->err || !c->errlen)
		return -1;
	if (c->lineno == 0) {
		snprintf(c->err, c->errlen, "%s", what);
		return -1;
	}
	/* the start of the line, printable characters only */
	size_t k = 0;
	for (size_t i = 0; i < c->line.n && k < 40; i++) {
		unsigned char ch = (unsigned char)c->line.p[i];
		shown[k++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	shown[k] = 0;
	snprintf(c->err, c->errlen, "line %d (%s%s): %s", c->lineno, shown, c->line.n > 40 ? "..." : "",
		 what);
	return -1;
}

static int span_eq(struct span s, const char *lit)
{
	size_t n = strlen(lit);
	return s.n == n && memcmp(s.p, lit, n) == 0;
}

static int span_caseeq(struct span s, const char *lit)
{
	size_t n = strlen(lit);
	if (s.n != n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char a = s.p[i], b = lit[i];
		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (b >= 'A' && b <= 'Z')
			b = (char)(b - 'A' + 'a');
		if (a != b)
			return 0;
	}
	return 1;
}

/* The next space-separated token of *s (skipping leading spaces); an empty span at the end. */
static struct span tok(struct span *s)
{
	while (s->n && s->p[0] == ' ') {
		s->p++;
		s->n--;
	}
	struct span t = { s->p, 0 };
	while (t.n < s->n && s->p[t.n] != ' ')
		t.n++;
	s->p += t.n;
	s->n -= t.n;
	return t;
}

/* Split s at the first ch: *head before it, s after it; 0 if ch is not in s (head = s). */
static int split(struct span *s, char ch, struct span *head)
{
	const char *q = memchr(s->p, ch, s->n);
	if (!q) {
		*head = *s;
		s->p += s->n;
		s->n = 0;
		return 0;
	}
	head->p = s->p;
	head->n = (size_t)(q - s->p);
	s->n -= head->n + 1;
	s->p = q + 1;
	return 1;
}

/* Decimal, 1-10 digits, at most max. 0 or -1. */
static int num(struct span s, uint64_t max, uint64_t *v)
{
	if (s.n == 0 || s.n > 10)
		return -1;
	uint64_t x = 0;
	for (size_t i = 0; i < s.n; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return -1;
		x = x * 10 + (uint64_t)(s.p[i] - '0');
	}
	if (x > max)
		return -1;
	*v = x;
	return 0;
}

/* Copy a token into a fixed buffer; -1 if empty, too long, or with a character outside the RFC
 * 8866 token set (or, with ice = 1, outside ice-char: ALPHA DIGIT + /). */
static int copy_tok(struct span s, char *dst, size_t cap, int ice)
{
	if (s.n == 0 || s.n >= cap)
		return -1;
	for (size_t i = 0; i < s.n; i++) {
		unsigned char ch = (unsigned char)s.p[i];
		int alnum = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
		if (ice ? !(alnum || ch == '+' || ch == '/')
			: !(alnum || strchr("!#$%&'*+-.^_`{|}~", ch)) || ch == 0)
			return -1;
	}
	memcpy(dst, s.p, s.n);
	dst[s.n] = 0;
	return 0;
}

static struct sdp_pt *find_pt(struct sdp_media *m, uint64_t pt)
{
	for (int i = 0; i < m->n_pt; i++)
		if (m->pt[i].pt == pt)
			return &m->pt[i];
	return NULL;
}

const struct sdp_pt *sdp_media_pt(const struct sdp_media *m, int pt)
{
	for (int i = 0; i < m->n_pt; i++)
		if (m->pt[i].pt == pt)
			return &m->pt[i];
	return NULL;
}

int sdp_media_ext_id(const struct sdp_media *m, enum sdp_ext ext)
{
	for (int i = 0; i < m->n_ext; i++)
		if (m->ext[i].ext == (int8_t)ext)
			return m->ext[i].id;
	return 0;
}

static int is_rtp(const struct sdp_media *m)
{
	return strstr(m->proto, "RTP") != NULL;
}

/* ---- attributes of either level ---- */

static int parse_ice(struct ctx *c, struct span v, char *dst, size_t min, const char *what)
{
	char tmp[SDP_ICE_MAX];
	if (copy_tok(v, tmp, sizeof(tmp), 1) < 0 || v.n < min)
		return fail(c, "%s must be %zu-256 ice-chars (letters, digits, + and /)", what, min);
	if (dst[0] && strcmp(dst, tmp) != 0)
		return fail(c, "a second, different %s", what);
	memcpy(dst, tmp, v.n + 1);
	return 0;
}

/* "sha-256 AB:CD:..." (32 hex pairs); other hashes are counted, not kept. */
static int parse_fingerprint(struct ctx *c, struct span v, char *dst, uint8_t *n_fp)
{
	struct span hash = tok(&v), fp = tok(&v);
	if (!hash.n || !fp.n || tok(&v).n)
		return fail(c, "expected 'a=fingerprint:HASH XX:XX:...'");
	if (*n_fp >= SDP_MAX_FP)
		return fail(c, "more than %d fingerprints", SDP_MAX_FP);
	(*n_fp)++;
	if (!span_caseeq(hash, "sha-256"))
		return 0;
	if (fp.n != 32 * 3 - 1)
		return fail(c, "a sha-256 fingerprint is 32 hex pairs separated by ':'");
	char tmp[SDP_FP_MAX];
	for (size_t i = 0; i < fp.n; i++) {
		char ch = fp.p[i];
		if (i % 3 == 2) {
			if (ch != ':')
				return fail(c, "a sha-256 fingerprint is 32 hex pairs separated by ':'");
			tmp[i] = ch;
			continue;
		}
		if (ch >= 'a' && ch <= 'f')
			ch = (char)(ch - 'a' + 'A');
		if (!((ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'F')))
			return fail(c, "fingerprint: '%c' is not a hex digit", fp.p[i]);
		tmp[i] = ch;
	}
	tmp[fp.n] = 0;
	if (dst[0] && strcmp(dst, tmp) != 0)
		return fail(c, "a second, different sha-256 fingerprint");
	memcpy(dst, tmp, fp.n + 1);
	return 0;
}

static int parse_setup(struct ctx *c, struct span v, uint8_t *dst)
{
	uint8_t s;
	if (span_eq(v, "actpass"))
		s = SDP_SETUP_ACTPASS;
	else if (span_eq(v, "active"))
		s = SDP_SETUP_ACTIVE;
	else if (span_eq(v, "passive"))
		s = SDP_SETUP_PASSIVE;
	else
		return fail(c, "setup must be actpass, active or passive");
	if (*dst && *dst != s)
		return fail(c, "a second, different a=setup");
	*dst = s;
	return 0;
}

/* ---- media-level attributes ---- */

static int enc_of(struct span name)
{
	static const struct { const char *n; int e; } t[] = {
		{ "opus", SDP_ENC_OPUS }, { "VP8", SDP_ENC_VP8 }, { "VP9", SDP_ENC_VP9 },
		{ "AV1", SDP_ENC_AV1 }, { "H264", SDP_ENC_H264 }, { "rtx", SDP_ENC_RTX },
		{ "red", SDP_ENC_RED }, { "ulpfec", SDP_ENC_ULPFEC }, { "flexfec-03", SDP_ENC_FLEXFEC },
		{ "flexfec", SDP_ENC_FLEXFEC }, { "CN", SDP_ENC_CN },
		{ "telephone-event", SDP_ENC_TELEPHONE_EVENT },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (span_caseeq(name, t[i].n))
			return t[i].e;
	return SDP_ENC_UNKNOWN;
}

/* The payload type at the start of an attribute value, which the m= line must list. */
static struct sdp_pt *attr_pt(struct ctx *c, struct span *v, const char *attr)
{
	struct span p = tok(v);
	uint64_t n;
	if (num(p, 127, &n) < 0) {
		fail(c, "%s: payload type must be 0-127", attr);
		return NULL;
	}
	struct sdp_pt *pt = find_pt(c->m, n);
	if (!pt)
		fail(c, "%s: payload type %u is not on the m= line", attr, (unsigned)n);
	return pt;
}

static int parse_rtpmap(struct ctx *c, struct span v)
{
	struct sdp_pt *pt = attr_pt(c, &v, "rtpmap");
	if (!pt)
		return -1;
	if (pt->has_rtpmap)
		return fail(c, "a second rtpmap for payload type %u", pt->pt);
	struct span enc = tok(&v), name, clock, ch;
	if (!enc.n || tok(&v).n)
		return fail(c, "expected 'a=rtpmap:PT NAME/CLOCK[/CHANNELS]'");
	split(&enc, '/', &name);
	int has_ch = split(&enc, '/', &clock);
	ch = enc;
	uint64_t clk, nch = 0;
	if (copy_tok(name, pt->name, sizeof(pt->name), 0) < 0)
		return fail(c, "rtpmap: bad encoding name");
	if (num(clock, 10000000, &clk) < 0 || clk == 0)
		return fail(c, "rtpmap: clock rate must be 1-10000000");
	if (has_ch && (num(ch, 255, &nch) < 0 || nch == 0))
		return fail(c, "rtpmap: channels must be 1-255");
	pt->clock = (uint32_t)clk;
	pt->channels = (uint8_t)nch;
	pt->enc = (uint8_t)enc_of(name);
	pt->has_rtpmap = 1;
	return 0;
}

/* fmtp parameters the MMR reads; others (and the RED form "111/111") are skipped. */
static int parse_fmtp(struct ctx *c, struct span v)
{
	struct sdp_pt *pt = attr_pt(c, &v, "fmtp");
	if (!pt)
		return -1;
	if (pt->has_fmtp)
		return fail(c, "a second fmtp for payload type %u", pt->pt);
	pt->has_fmtp = 1;
	while (v.n && v.p[0] == ' ') {
		v.p++;
		v.n--;
	}
	while (v.n) {
		struct span kv, key;
		split(&v, ';', &kv);
		while (kv.n && kv.p[0] == ' ') {
			kv.p++;
			kv.n--;
		}
		if (!split(&kv, '=', &key))
			continue;
		struct span val = kv;
		uint64_t x;
#define FMTP_NUM(k, max, field) \
		if (span_eq(key, k)) { \
			if (num(val, max, &x) < 0) \
				return fail(c, "fmtp %s must be 0-%u", k, (unsigned)(max)); \
			field = (__typeof__(field))x; \
			continue; \
		}
		FMTP_NUM("apt", 127, pt->apt)
		FMTP_NUM("profile-id", 3, pt->vp9_profile_id)
		FMTP_NUM("packetization-mode", 2, pt->h264_pmode)
		FMTP_NUM("level-asymmetry-allowed", 1, pt->h264_asym)
		FMTP_NUM("profile", 2, pt->av1_profile)
		FMTP_NUM("level-idx", 31, pt->av1_level_idx)
		FMTP_NUM("tier", 1, pt->av1_tier)
		FMTP_NUM("useinbandfec", 1, pt->opus_fec)
		FMTP_NUM("stereo", 1, pt->opus_stereo)
		FMTP_NUM("minptime", 120, pt->opus_minptime)
#undef FMTP_NUM
		if (span_eq(key, "profile-level-id")) {
			uint32_t p = 0;
			if (val.n != 6)
				return fail(c, "fmtp profile-level-id must be 6 hex digits");
			for (size_t i = 0; i < 6; i++) {
				char h = val.p[i];
				int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10
					: h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
				if (d < 0)
					return fail(c, "fmtp profile-level-id must be 6 hex digits");
				p = p << 4 | (uint32_t)d;
			}
			pt->h264_plid = (int32_t)p;
		}
	}
	return 0;
}

static int parse_rtcp_fb(struct ctx *c, struct span v)
{
	struct span save = v, p = tok(&save);
	uint8_t *dst;
	if (span_eq(p, "*")) {
		dst = &c->m->fb_any;
		v = save;
	} else {
		struct sdp_pt *pt = attr_pt(c, &v, "rtcp-fb");
		if (!pt)
			return -1;
		dst = &pt->fb;
	}
	struct span type = tok(&v), param = tok(&v);
	if (!type.n)
		return fail(c, "expected 'a=rtcp-fb:PT TYPE [PARAM]'");
	if (span_eq(type, "nack") && !param.n)
		*dst |= SDP_FB_NACK;
	else if (span_eq(type, "nack") && span_eq(param, "pli"))
		*dst |= SDP_FB_PLI;
	else if (span_eq(type, "ccm") && span_eq(param, "fir"))
		*dst |= SDP_FB_FIR;
	else if (span_eq(type, "goog-remb"))
		*dst |= SDP_FB_REMB;
	else if (span_eq(type, "transport-cc"))
		*dst |= SDP_FB_TWCC;
	else
		*dst |= SDP_FB_OTHER;
	return 0;
}

static int parse_extmap(struct ctx *c, struct span v)
{
	struct sdp_media *m = c->m;
	struct span idd = tok(&v), uri = tok(&v), id;
	split(&idd, '/', &id);
	uint64_t n;
	if (num(id, 255, &n) < 0 || n == 0)
		return fail(c, "extmap id must be 1-255");
	if (idd.n && !span_eq(idd, "sendrecv") && !span_eq(idd, "sendonly") && !span_eq(idd, "recvonly")
	    && !span_eq(idd, "inactive"))
		return fail(c, "extmap direction must be sendrecv, sendonly, recvonly or inactive");
	if (!uri.n)
		return fail(c, "expected 'a=extmap:ID[/DIR] URI'");
	if (m->n_ext >= SDP_MAX_EXTMAP)
		return fail(c, "more than %d extmap lines in one m-section", SDP_MAX_EXTMAP);
	int ext = -1;
	for (int e = 0; e < SDP_EXT_N; e++)
		if (span_eq(uri, sdp_ext_uris[e]))
			ext = e;
	for (int i = 0; i < m->n_ext; i++) {
		if (m->ext[i].id == n)
			return fail(c, "extmap id %u used twice", (unsigned)n);
		if (ext >= 0 && m->ext[i].ext == ext)
			return fail(c, "extension %s offered twice", sdp_ext_names[ext]);
	}
	m->ext[m->n_ext].id = (uint8_t)n;
	m->ext[m->n_ext].ext = (int8_t)ext;
	m->n_ext++;
	return 0;
}

static struct sdp_ssrc *add_ssrc(struct ctx *c, uint32_t ssrc)
{
	struct sdp_media *m = c->m;
	for (int i = 0; i < m->n_ssrc; i++)
		if (m->ssrc[i].ssrc == ssrc)
			return &m->ssrc[i];
	if (m->n_ssrc >= SDP_MAX_SSRC) {
		fail(c, "more than %d SSRCs in one m-section", SDP_MAX_SSRC);
		return NULL;
	}
	struct sdp_ssrc *s = &m->ssrc[m->n_ssrc++];
	s->ssrc = ssrc;
	return s;
}

static int parse_ssrc(struct ctx *c, struct span v)
{
	struct span s = tok(&v), attr;
	uint64_t n;
	if (num(s, 0xffffffffu, &n) < 0)
		return fail(c, "SSRC must be 0-4294967295");
	while (v.n && v.p[0] == ' ') {
		v.p++;
		v.n--;
	}
	int has_val = split(&v, ':', &attr);
	if (!attr.n)
		return fail(c, "expected 'a=ssrc:SSRC ATTRIBUTE[:VALUE]'");
	struct sdp_ssrc *e = add_ssrc(c, (uint32_t)n);
	if (!e)
		return -1;
	if (span_eq(attr, "cname")) {
		/* RFC 5576: a byte-string; browsers send base64 (with + and /) */
		int ok = has_val && v.n && v.n < sizeof(e->cname);
		for (size_t i = 0; ok && i < v.n; i++)
			ok = (unsigned char)v.p[i] > 0x20 && (unsigned char)v.p[i] < 0x7f;
		if (!ok)
			return fail(c, "ssrc cname must be 1-%d visible characters", SDP_TOKEN - 1);
		memcpy(e->cname, v.p, v.n);
		e->cname[v.n] = 0;
	}
	return 0;
}

static int parse_ssrc_group(struct ctx *c, struct span v)
{
	struct span sem = tok(&v);
	if (!sem.n)
		return fail(c, "expected 'a=ssrc-group:SEMANTICS SSRC...'");
	uint64_t a, b;
	if (!span_eq(sem, "FID")) {
		struct span s;
		while ((s = tok(&v)).n)
			if (num(s, 0xffffffffu, &a) < 0)
				return fail(c, "SSRC must be 0-4294967295");
		return 0;
	}
	if (num(tok(&v), 0xffffffffu, &a) < 0 || num(tok(&v), 0xffffffffu, &b) < 0 || tok(&v).n)
		return fail(c, "expected 'a=ssrc-group:FID MEDIA_SSRC RTX_SSRC'");
	if (a == b)
		return fail(c, "FID: the RTX SSRC equals the media SSRC");
	if (c->m->n_fid >= SDP_MAX_FID)
		return fail(c, "more than %d FID groups in one m-section", SDP_MAX_FID);
	c->m->fid[c->m->n_fid][0] = (uint32_t)a;
	c->m->fid[c->m->n_fid][1] = (uint32_t)b;
	c->m->n_fid++;
	return 0;
}

static int rid_ok(struct span r)
{
	if (!r.n || r.n >= SDP_TOKEN)
		return 0;
	for (size_t i = 0; i < r.n; i++) {
		char ch = r.p[i];
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      ch == '-' || ch == '_'))
			return 0;
	}
	return 1;
}

static int parse_rid(struct ctx *c, struct span v)
{
	struct sdp_media *m = c->m;
	struct span id = tok(&v), dir = tok(&v);
	if (!rid_ok(id))
		return fail(c, "rid must be 1-%d letters, digits, - or _", SDP_TOKEN - 1);
	if (!span_eq(dir, "send") && !span_eq(dir, "recv"))
		return fail(c, "rid direction must be send or recv");
	if (m->n_rid >= SDP_MAX_RID)
		return fail(c, "more than %d rids in one m-section", SDP_MAX_RID);
	for (int i = 0; i < m->n_rid; i++)
		if (strlen(m->rid[i].id) == id.n && !memcmp(m->rid[i].id, id.p, id.n))
			return fail(c, "rid '%.*s' declared twice", (int)id.n, id.p);
	struct sdp_rid *r = &m->rid[m->n_rid++];
	memcpy(r->id, id.p, id.n);
	r->id[id.n] = 0;
	r->send = span_eq(dir, "send");
	return 0;
}

/* "send q;h;f [recv ...]": the first rid of each alternative list marks a=rid entries. */
static int parse_simulcast(struct ctx *c, struct span v)
{
	struct sdp_media *m = c->m;
	if (m->has_simulcast)
		return fail(c, "a second a=simulcast");
	m->has_simulcast = 1;
	int sections = 0;
	for (;;) {
		struct span dir = tok(&v), list = tok(&v);
		if (!dir.n)
			break;
		if ((!span_eq(dir, "send") && !span_eq(dir, "recv")) || !list.n || ++sections > 2)
			return fail(c, "expected 'a=simulcast:send|recv RID;RID... [recv|send RID...]'");
		int send = span_eq(dir, "send");
		if (send)
			m->sim_send = 1;
		while (list.n) {
			struct span alt, first;
			split(&list, ';', &alt);
			int firstone = 1;
			while (alt.n || firstone) {
				split(&alt, ',', &first);
				int paused = first.n && first.p[0] == '~';
				if (paused) {
					first.p++;
					first.n--;
				}
				if (!rid_ok(first))
					return fail(c, "simulcast: bad rid '%.*s'", (int)(first.n > 40 ? 40 : first.n),
						    first.p);
				struct sdp_rid *r = NULL;
				for (int i = 0; i < m->n_rid; i++)
					if (strlen(m->rid[i].id) == first.n && !memcmp(m->rid[i].id, first.p, first.n))
						r = &m->rid[i];
				if (!r || r->send != send)
					return fail(c, "simulcast: rid '%.*s' has no 'a=rid:%.*s %s' before it",
						    (int)first.n, first.p, (int)first.n, first.p, send ? "send" : "recv");
				if (firstone) {
					if (r->in_simulcast)
						return fail(c, "simulcast: rid '%s' listed twice", r->id);
					r->in_simulcast = 1;
					r->paused = (uint8_t)paused;
				}
				firstone = 0;
			}
		}
	}
	if (!sections)
		return fail(c, "expected 'a=simulcast:send|recv RID;RID...'");
	return 0;
}

static int media_attr(struct ctx *c, struct span name, struct span v, int has_val)
{
	struct sdp_media *m = c->m;
	if (span_eq(name, "mid")) {
		if (m->mid[0])
			return fail(c, "a second a=mid");
		if (copy_tok(v, m->mid, sizeof(m->mid), 0) < 0)
			return fail(c, "mid must be 1-%d token characters", SDP_TOKEN - 1);
		for (int i = 0; i < c->o->n_media - 1; i++)
			if (!strcmp(c->o->m[i].mid, m->mid))
				return fail(c, "mid '%s' already used by m-section %d", m->mid, i + 1);
		return 0;
	}
	if (!has_val) {
		if (span_eq(name, "sendrecv"))
			m->dir = SDP_SENDRECV;
		else if (span_eq(name, "sendonly"))
			m->dir = SDP_SENDONLY;
		else if (span_eq(name, "recvonly"))
			m->dir = SDP_RECVONLY;
		else if (span_eq(name, "inactive"))
			m->dir = SDP_INACTIVE;
		else if (span_eq(name, "rtcp-mux"))
			m->rtcp_mux = 1;
		else if (span_eq(name, "rtcp-mux-only"))
			m->rtcp_mux_only = 1;
		else if (span_eq(name, "rtcp-rsize"))
			m->rtcp_rsize = 1;
		else if (span_eq(name, "bundle-only"))
			m->bundle_only = 1;
		else if (span_eq(name, "extmap-allow-mixed"))
			c->o->extmap_allow_mixed = 1;
		return 0;
	}
	if (span_eq(name, "ice-ufrag"))
		return parse_ice(c, v, m->ufrag, 4, "ice-ufrag");
	if (span_eq(name, "ice-pwd"))
		return parse_ice(c, v, m->pwd, 22, "ice-pwd");
	if (span_eq(name, "fingerprint"))
		return parse_fingerprint(c, v, m->fp_sha256, &m->n_fp);
	if (span_eq(name, "setup"))
		return parse_setup(c, v, &m->setup);
	if (span_eq(name, "msid")) {
		if (v.n >= sizeof(m->msid))
			return fail(c, "msid longer than %zu characters", sizeof(m->msid) - 1);
		memcpy(m->msid, v.p, v.n);
		m->msid[v.n] = 0;
		return 0;
	}
	if (!is_rtp(m))
		return 0;
	if (span_eq(name, "rtpmap"))
		return parse_rtpmap(c, v);
	if (span_eq(name, "fmtp"))
		return parse_fmtp(c, v);
	if (span_eq(name, "rtcp-fb"))
		return parse_rtcp_fb(c, v);
	if (span_eq(name, "extmap"))
		return parse_extmap(c, v);
	if (span_eq(name, "ssrc"))
		return parse_ssrc(c, v);
	if (span_eq(name, "ssrc-group"))
		return parse_ssrc_group(c, v);
	if (span_eq(name, "rid"))
		return parse_rid(c, v);
	if (span_eq(name, "simulcast"))
		return parse_simulcast(c, v);
	return 0;
}

static int session_attr(struct ctx *c, struct span name, struct span v, int has_val)
{
	struct sdp_offer *o = c->o;
	if (!has_val) {
		if (span_eq(name, "extmap-allow-mixed"))
			o->extmap_allow_mixed = 1;
		else if (span_eq(name, "ice-lite"))
			o->ice_lite = 1;
		return 0;
	}
	if (span_eq(name, "group")) {
		struct span sem = tok(&v), mid;
		if (!span_eq(sem, "BUNDLE"))
			return 0;
		if (o->n_bundle)
			return fail(c, "a second BUNDLE group (the MMR takes one)");
		while ((mid = tok(&v)).n) {
			if (o->n_bundle >= SDP_MAX_MEDIA)
				return fail(c, "more than %d mids in the BUNDLE group", SDP_MAX_MEDIA);
			if (copy_tok(mid, o->bundle[o->n_bundle], SDP_TOKEN, 0) < 0)
				return fail(c, "BUNDLE: mid must be 1-%d token characters", SDP_TOKEN - 1);
			for (int i = 0; i < o->n_bundle; i++)
				if (!strcmp(o->bundle[i], o->bundle[o->n_bundle]))
					return fail(c, "BUNDLE: mid '%s' twice", o->bundle[i]);
			o->n_bundle++;
		}
		if (!o->n_bundle)
			return fail(c, "an empty BUNDLE group");
		return 0;
	}
	if (span_eq(name, "ice-ufrag"))
		return parse_ice(c, v, o->ufrag, 4, "ice-ufrag");
	if (span_eq(name, "ice-pwd"))
		return parse_ice(c, v, o->pwd, 22, "ice-pwd");
	if (span_eq(name, "fingerprint"))
		return parse_fingerprint(c, v, o->fp_sha256, &o->n_fp);
	if (span_eq(name, "setup"))
		return parse_setup(c, v, &o->setup);
	return 0;
}

/* "m=<media> <port>[/<n>] <proto> <fmt> ..." */
static int media_line(struct ctx *c, struct span v)
{
	struct sdp_offer *o = c->o;
	if (o->n_media >= SDP_MAX_MEDIA)
		return fail(c, "more than %d m-sections", SDP_MAX_MEDIA);
	struct sdp_media *m = &o->m[o->n_media++];
	c->m = m;
	struct span kind = tok(&v), portn = tok(&v), proto = tok(&v), port;
	split(&portn, '/', &port);
	uint64_t p;
	if (!kind.n || !proto.n)
		return fail(c, "expected 'm=MEDIA PORT PROTO FMT...'");
	if (num(port, 65535, &p) < 0)
		return fail(c, "port must be 0-65535");
	if (kind.n >= sizeof(m->kind_text) || copy_tok(kind, m->kind_text, sizeof(m->kind_text), 0) < 0)
		return fail(c, "bad media type");
	/* proto has '/', not a token character: checked by hand */
	if (proto.n >= sizeof(m->proto))
		return fail(c, "transport protocol longer than %zu characters", sizeof(m->proto) - 1);
	for (size_t i = 0; i < proto.n; i++)
		if ((unsigned char)proto.p[i] <= 0x20 || (unsigned char)proto.p[i] >= 0x7f)
			return fail(c, "bad transport protocol");
	memcpy(m->proto, proto.p, proto.n);
	m->proto[proto.n] = 0;
	m->port = (uint16_t)p;
	m->port0 = p == 0;
	m->kind = span_eq(kind, "audio") ? SDP_KIND_AUDIO : span_eq(kind, "video") ? SDP_KIND_VIDEO
		: span_eq(kind, "application") ? SDP_KIND_APPLICATION : SDP_KIND_OTHER;
	struct span f;
	int n = 0;
	while ((f = tok(&v)).n) {
		if (!n) {
			if (f.n >= sizeof(m->fmt0))
				return fail(c, "format '%.*s' longer than %zu characters", (int)(f.n > 40 ? 40 : f.n),
					    f.p, sizeof(m->fmt0) - 1);
			memcpy(m->fmt0, f.p, f.n);
			m->fmt0[f.n] = 0;
		}
		n++;
		if (!is_rtp(m))
			continue;
		uint64_t pt;
		if (num(f, 127, &pt) < 0)
			return fail(c, "RTP payload type must be 0-127");
		if (find_pt(m, pt))
			return fail(c, "payload type %u listed twice", (unsigned)pt);
		if (m->n_pt >= SDP_MAX_PT)
			return fail(c, "more than %d payload types", SDP_MAX_PT);
		struct sdp_pt *e = &m->pt[m->n_pt++];
		e->pt = (uint8_t)pt;
		e->apt = e->vp9_profile_id = e->h264_pmode = -1;
		e->h264_plid = -1;
		e->h264_asym = e->av1_profile = e->av1_tier = e->av1_level_idx = -1;
		e->opus_fec = e->opus_stereo = e->opus_minptime = -1;
	}
	if (!n)
		return fail(c, "an m= line without formats");
	return 0;
}

/* Checks once a m-section is complete (all its attributes read). */
static int media_done(struct ctx *c, int idx)
{
	struct sdp_media *m = &c->o->m[idx];
	const char *k = m->kind_text;
	c->lineno = 0;
	if (!(m->port0 && !m->bundle_only) && !m->mid[0])
		return fail(c, "m-section %d (%s) has no a=mid", idx + 1, k);
	for (int i = 0; i < m->n_pt; i++) {
		struct sdp_pt *p = &m->pt[i];
		if (p->enc == SDP_ENC_RTX) {
			if (p->apt < 0)
				return fail(c, "m-section %d (%s): rtx payload type %u has no apt", idx + 1, k, p->pt);
			if (!find_pt(m, (uint64_t)p->apt))
				return fail(c, "m-section %d (%s): rtx payload type %u: apt=%d is not offered",
					    idx + 1, k, p->pt, p->apt);
		}
	}
	for (int i = 0; i < m->n_fid; i++)
		for (int j = 0; j < 2; j++) {
			int found = 0;
			for (int s = 0; s < m->n_ssrc; s++)
				found |= m->ssrc[s].ssrc == m->fid[i][j];
			if (!found)
				return fail(c, "m-section %d (%s): FID SSRC %u has no a=ssrc line", idx + 1, k,
					    m->fid[i][j]);
		}
	return 0;
}

const char *sdp_media_ufrag(const struct sdp_offer *o, int i)
{
	return o->m[i].ufrag[0] ? o->m[i].ufrag : o->ufrag;
}

const char *sdp_media_pwd(const struct sdp_offer *o, int i)
{
	return o->m[i].pwd[0] ? o->m[i].pwd : o->pwd;
}

const char *sdp_media_fingerprint(const struct sdp_offer *o, int i)
{
	return o->m[i].fp_sha256[0] ? o->m[i].fp_sha256 : o->fp_sha256;
}

int sdp_media_setup(const struct sdp_offer *o, int i)
{
	return o->m[i].setup ? o->m[i].setup : o->setup;
}

int sdp_parse_offer(const char *text, size_t len, struct sdp_offer *o, char *err, size_t errlen)
{
	struct ctx c = { .o = o, .err = err, .errlen = errlen };
	memset(o, 0, sizeof(*o));
	if (err && errlen)
		err[0] = 0;
	if (!text || len == 0)
		return fail(&c, "empty offer");
	if (len > SDP_MAX_TEXT)
		return fail(&c, "offer longer than %d bytes", SDP_MAX_TEXT);
	size_t pos = 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		c.lineno++;
		c.line.p = text + pos;
		c.line.n = end - pos;
		if (c.line.n && c.line.p[c.line.n - 1] == '\r')
			c.line.n--;
		pos = nl ? end + 1 : len;
		if (c.line.n > SDP_MAX_LINE) {
			return fail(&c, "longer than %d bytes", SDP_MAX_LINE);
		}
		for (size_t i = 0; i < c.line.n; i++) {
			unsigned char ch = (unsigned char)c.line.p[i];
			if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
				return fail(&c, "control character 0x%02x at column %zu", ch, i + 1);
		}
		if (c.line.n < 2 || c.line.p[1] != '=' || c.line.p[0] < 'a' || c.line.p[0] > 'z')
			return fail(&c, "not a 'x=value' line");
		char type = c.line.p[0];
		struct span v = { c.line.p + 2, c.line.n - 2 };
		if (c.lineno == 1 && !(type == 'v' && span_eq(v, "0")))
			return fail(&c, "an offer starts with 'v=0'");
		if (type == 'v' && c.lineno != 1)
			return fail(&c, "a second v= line");
		if (type == 'm') {
			if (c.m) {
				int save = c.lineno;
				if (media_done(&c, o->n_media - 1) < 0)
					return -1;
				c.lineno = save;
			}
			if (media_line(&c, v) < 0)
				return -1;
			continue;
		}
		if (type != 'a')
			continue;
		struct span name, val = v;
		int has_val = split(&val, ':', &name);
		if (!name.n)
			return fail(&c, "an attribute without a name");
		if ((c.m ? media_attr(&c, name, val, has_val) : session_attr(&c, name, val, has_val)) < 0)
			return -1;
	}
	if (!c.m) {
		c.lineno = 0;
		return fail(&c, "no m= line: nothing to answer");
	}
	if (media_done(&c, o->n_media - 1) < 0)
		return -1;
	c.lineno = 0;
	for (int i = 0; i < o->n_bundle; i++) {
		int found = 0;
		for (int j = 0; j < o->n_media; j++)
			found |= !strcmp(o->bundle[i], o->m[j].mid);
		if (!found)
			return fail(&c, "BUNDLE names mid '%s', which no m-section has", o->bundle[i]);
	}
	for (int i = 0; i < o->n_media; i++) {
		if (o->m[i].port0 && !o->m[i].bundle_only)
			continue;
		if (!sdp_media_ufrag(o, i)[0] || !sdp_media_pwd(o, i)[0])
			return fail(&c, "m-section %d (mid %s) has no a=ice-ufrag and a=ice-pwd", i + 1,
				    o->m[i].mid);
		if (!sdp_media_fingerprint(o, i)[0])
			return fail(&c, "m-section %d (mid %s) has no a=fingerprint:sha-256", i + 1, o->m[i].mid);
	}
	return 0;
}
