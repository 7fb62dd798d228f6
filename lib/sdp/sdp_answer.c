/*
 * sdp_answer.c - the MMR's SDP answer to a parsed offer (sdp.h), and what was negotiated.
 *
 * The MMR is an ICE-lite endpoint with one host candidate (a=ice-lite, RFC 8445 2.5), one BUNDLE
 * transport (RFC 9143) with rtcp-mux and rtcp-mux-only (WHIP, RFC 9725), DTLS-SRTP (RFC 5764).
 *
 * DTLS role: the answer says a=setup:passive, the MMR is the DTLS server. An ICE-lite agent never
 * sends checks, so it learns the browser's address only from the browser's first valid STUN check;
 * as the server it never has to send the first flight (it answers a ClientHello that arrives from
 * an address ICE already validated), so no DTLS packet ever leaves toward an unverified address and
 * the slow path needs no retransmission timer before the handshake starts. An offer that insists
 * on a=setup:passive (it wants to be the server) is refused.
 *
 * Per m-section, in the offer's order (an answer has as many m-sections as the offer):
 * - accepted (in the BUNDLE group, port of the candidate): audio or video with rtcp-mux and a codec
 *   the MMR forwards: ONE codec per m-section (the MMR forwards a stream in one codec: `stream add
 *   --codec`), the offered payload type number kept: video VP8, VP9 profile 0, AV1, H.264 (in
 *   cfg->video_codecs order, else the offer's), audio Opus/48000/2; the RTX payload type whose apt
 *   is that codec; the rtcp-fb the MMR implements that were offered (nack, nack pli, ccm fir;
 *   transport-cc only with the transport-wide-cc extension, goog-remb only with abs-send-time and
 *   without transport-cc: a sender with transport-cc estimates for itself, and a REMB from the
 *   MMR's receive-side estimate would cap it (Chromium 156 publishers were held at 84 kbit/s, its
 *   floor, by the MMR's REMB while the transport-wide feedback alone gave 1.5-3 Mbit/s);
 *   the extensions the MMR uses with the offered ids (mid, twcc, abs-send-time; audio-level for
 *   audio; rid and repaired-rid for an accepted rid simulcast; the Dependency Descriptor for AV1,
 *   and on a receive-only slot whatever its codec (an AV1 publisher may be put on it, and Chromium
 *   decodes AV1 spatial layers above the first only with the DD); not for a VP8/VP9/H.264 section
 *   the participant sends on: the MMR reads their payload descriptor, and would have to rewrite a
 *   DD it does not read; AV1 is taken only when the DD is offered). An extension id is kept for one
 *   extension across the BUNDLE (a later m-section reusing it for another is not given that one).
 *   a=rtcp-rsize and a=extmap-allow-mixed when offered (ids over 14 only with the latter).
 *   red, ulpfec, flexfec, CN, telephone-event and unknown codecs are left out.
 * - direction mirrored, within what the participant may do (cfg->may_send, may_recv): the
 *   participant's sendonly becomes recvonly, its recvonly sendonly on the next free receive slot of
 *   that kind (the MMR's SSRC for the slot with a=ssrc cname and msid lines, so publishers joining
 *   and leaving change the slot mapping and never the SDP), sendrecv both; what is not allowed or has
 *   no slot left is dropped from the direction and an accepted m-section may end up inactive (with
 *   r->m[i].reason saying why).
 * - a publisher's rid simulcast (RFC 8853): a=rid:X recv and a=simulcast:recv for the first three
 *   rids of its a=simulcast (the MMR's simulcast groups have three encodings).
 * - rejected (port 0, r->m[i].reason): data channels (the MMR carries no SCTP), media types other
 *   than audio and video, no codec the MMR forwards, no rtcp-mux, not in the BUNDLE group, or
 *   rejected by the offerer itself.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sdp.h"

struct w {
	char  *p;
	size_t cap, n;
	int    over;
};

static void wr(struct w *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void wr(struct w *w, const char *fmt, ...)
{
	if (w->over)
		return;
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(w->p + w->n, w->cap - w->n, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= w->cap - w->n) {
		w->over = 1;
		return;
	}
	w->n += (size_t)k;
}

static int errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int errf(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int chars_ok(const char *s, size_t min, size_t max, const char *extra)
{
	size_t n = s ? strlen(s) : 0;
	if (n < min || n > max)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      strchr(extra, ch)))
			return 0;
	}
	return 1;
}

static int fingerprint_ok(const char *s)
{
	if (!s || strlen(s) != 95)
		return 0;
	for (int i = 0; i < 95; i++) {
		char ch = s[i];
		if (i % 3 == 2 ? ch != ':' : !((ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'F')))
			return 0;
	}
	return 1;
}

static int check_cfg(const struct sdp_answer_cfg *cfg, int *v6, char *err, size_t errlen)
{
	unsigned char a[16];
	if (!chars_ok(cfg->ice_ufrag, 4, 256, "+/"))
		return errf(err, errlen, "answer: our ice-ufrag must be 4-256 ice-chars");
	if (!chars_ok(cfg->ice_pwd, 22, 256, "+/"))
		return errf(err, errlen, "answer: our ice-pwd must be 22-256 ice-chars");
	if (!fingerprint_ok(cfg->fingerprint))
		return errf(err, errlen, "answer: our fingerprint must be a sha-256 'AB:CD:...' (upper case)");
	if (!cfg->cand_ip || (inet_pton(AF_INET, cfg->cand_ip, a) != 1 &&
			      inet_pton(AF_INET6, cfg->cand_ip, a) != 1))
		return errf(err, errlen, "answer: the candidate address must be an IPv4 or IPv6 address");
	*v6 = strchr(cfg->cand_ip, ':') != NULL;
	if (!cfg->cand_port)
		return errf(err, errlen, "answer: the candidate port must be 1-65535");
	if (!chars_ok(cfg->cname, 1, SDP_TOKEN - 1, "-_.+/"))
		return errf(err, errlen, "answer: cname must be 1-%d letters, digits, - _ . + /", SDP_TOKEN - 1);
	if (cfg->n_video_slots > SDP_MAX_SLOTS || cfg->n_audio_slots > SDP_MAX_SLOTS)
		return errf(err, errlen, "answer: at most %d slots of each kind", SDP_MAX_SLOTS);
	uint32_t seen[3 * SDP_MAX_SLOTS];
	int n = 0;
	for (int i = 0; i < cfg->n_video_slots + cfg->n_audio_slots; i++) {
		int vid = i < cfg->n_video_slots;
		int k = vid ? i : i - cfg->n_video_slots;
		uint32_t s[2] = { vid ? cfg->video_ssrc[k] : cfg->audio_ssrc[k], vid ? cfg->video_rtx_ssrc[k] : 0 };
		if (!s[0])
			return errf(err, errlen, "answer: %s slot %d has SSRC 0", vid ? "video" : "audio", k);
		for (int j = 0; j < 2; j++) {
			if (!s[j])
				continue;
			for (int q = 0; q < n; q++)
				if (seen[q] == s[j])
					return errf(err, errlen, "answer: SSRC %u given twice", s[j]);
			seen[n++] = s[j];
		}
	}
	if (cfg->video_codecs)
		for (const uint8_t *c = cfg->video_codecs; *c; c++)
			if (*c != MMR_CODEC_VP8 && *c != MMR_CODEC_VP9 && *c != MMR_CODEC_AV1 && *c != MMR_CODEC_H264)
				return errf(err, errlen, "answer: video codec %u is not VP8, VP9, AV1 or H.264", *c);
	return 0;
}

static int codec_of(const struct sdp_pt *p, int kind)
{
	if (kind == SDP_KIND_AUDIO)
		return p->enc == SDP_ENC_OPUS && p->clock == 48000 && p->channels == 2 ? MMR_CODEC_OPUS : 0;
	if (p->clock != 90000)
		return 0;
	switch (p->enc) {
	case SDP_ENC_VP8: return MMR_CODEC_VP8;
	case SDP_ENC_VP9: return p->vp9_profile_id <= 0 ? MMR_CODEC_VP9 : 0;   /* 8-bit profile 0 */
	case SDP_ENC_AV1: return p->av1_profile <= 0 ? MMR_CODEC_AV1 : 0;      /* main profile */
	case SDP_ENC_H264: return p->h264_pmode <= 1 ? MMR_CODEC_H264 : 0;
	default: return 0;
	}
}

/* The payload type to keep: index into m->pt, or -1. AV1 only with the Dependency Descriptor (the
 * MMR reads AV1 layers from it: stream add --dd-ext is required). */
static int pick_codec(const struct sdp_media *m, const uint8_t *pref)
{
	static const uint8_t all[] = { 0 };
	if (m->kind == SDP_KIND_AUDIO || !pref)
		pref = all;
	int dd = sdp_media_ext_id(m, SDP_EXT_DD) != 0;
	for (const uint8_t *c = pref;; c++) {
		for (int i = 0; i < m->n_pt; i++) {
			int k = codec_of(&m->pt[i], m->kind);
			if (k == MMR_CODEC_AV1 && !dd)
				continue;
			if (k && (!*c || k == *c))
				return i;
		}
		if (!*c)
			return -1;
	}
}

static void reason(struct sdp_result_media *rm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reason(struct sdp_result_media *rm, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rm->reason, sizeof(rm->reason), fmt, ap);
	va_end(ap);
}

static const char *dir_name(int d)
{
	return d == SDP_SENDRECV ? "sendrecv" : d == SDP_SENDONLY ? "sendonly" : d == SDP_RECVONLY ? "recvonly"
		: "inactive";
}

static int in_bundle(const struct sdp_offer *o, const char *mid)
{
	for (int i = 0; i < o->n_bundle; i++)
		if (!strcmp(o->bundle[i], mid))
			return 1;
	return 0;
}

/* Decide m-section i: fills r->m[i]; 1 if accepted. */
static int decide(const struct sdp_offer *o, int i, const struct sdp_answer_cfg *cfg,
		  int *vslot, int *aslot, struct sdp_result_media *rm)
{
	const struct sdp_media *m = &o->m[i];
	memset(rm, 0, sizeof(*rm));
	rm->kind = m->kind;
	rm->slot = -1;
	rm->dir = SDP_INACTIVE;
	memcpy(rm->mid, m->mid, sizeof(rm->mid));
	if (m->port0 && !m->bundle_only) {
		reason(rm, "rejected by the offer (port 0)");
		return 0;
	}
	if (m->kind == SDP_KIND_APPLICATION) {
		reason(rm, "data channels are not supported by the MMR");
		return 0;
	}
	if (m->kind != SDP_KIND_AUDIO && m->kind != SDP_KIND_VIDEO) {
		reason(rm, "media type '%s' is not supported", m->kind_text);
		return 0;
	}
	if (!strstr(m->proto, "RTP")) {
		reason(rm, "transport '%s' is not RTP", m->proto);
		return 0;
	}
	if (!in_bundle(o, m->mid)) {
		reason(rm, "not in the BUNDLE group (the MMR needs max-bundle)");
		return 0;
	}
	if (!m->rtcp_mux) {
		reason(rm, "no a=rtcp-mux (the MMR needs RTP and RTCP on one port)");
		return 0;
	}
	int ci = pick_codec(m, cfg->video_codecs);
	if (ci < 0) {
		reason(rm, "%s", m->kind == SDP_KIND_AUDIO ? "no codec the MMR forwards (audio: opus/48000/2)"
		       : "no codec the MMR forwards (video: VP8, VP9 profile 0, AV1 profile 0 with the "
			 "Dependency Descriptor, H.264 packetization-mode 0/1)");
		return 0;
	}
	const struct sdp_pt *p = &m->pt[ci];
	rm->accepted = 1;
	rm->codec = (uint8_t)codec_of(p, m->kind);
	rm->pt = p->pt;
	rm->clock = p->clock;
	rm->channels = p->channels;
	for (int j = 0; j < m->n_pt; j++)
		if (m->pt[j].enc == SDP_ENC_RTX && m->pt[j].apt == p->pt && m->pt[j].clock == p->clock && !rm->rtx_pt)
			rm->rtx_pt = m->pt[j].pt;
	rm->rsize = m->rtcp_rsize;

	/* direction, from the participant's side then mirrored */
	int p_sends = m->dir == SDP_SENDRECV || m->dir == SDP_SENDONLY;
	int p_recvs = m->dir == SDP_SENDRECV || m->dir == SDP_RECVONLY;
	const char *why = "";
	if (m->dir == SDP_INACTIVE)
		why = "the offer is inactive";
	if (p_sends && !cfg->may_send) {
		p_sends = 0;
		why = "the participant may not send";
	}
	if (p_recvs && !cfg->may_recv) {
		p_recvs = 0;
		why = "the participant may not receive";
	}
	if (p_recvs) {
		int *next = m->kind == SDP_KIND_VIDEO ? vslot : aslot;
		int n = m->kind == SDP_KIND_VIDEO ? cfg->n_video_slots : cfg->n_audio_slots;
		if (*next >= n) {
			p_recvs = 0;
			why = m->kind == SDP_KIND_VIDEO ? "no video receive slot left" : "no audio receive slot left";
		} else {
			rm->slot = (int8_t)(*next)++;
			rm->out_ssrc = m->kind == SDP_KIND_VIDEO ? cfg->video_ssrc[rm->slot] : cfg->audio_ssrc[rm->slot];
			if (m->kind == SDP_KIND_VIDEO && rm->rtx_pt)
				rm->out_rtx_ssrc = cfg->video_rtx_ssrc[rm->slot];
		}
	}
	rm->publish = (uint8_t)p_sends;
	rm->receive = (uint8_t)p_recvs;
	rm->dir = p_sends && p_recvs ? SDP_SENDRECV : p_sends ? SDP_RECVONLY : p_recvs ? SDP_SENDONLY : SDP_INACTIVE;
	if (rm->dir == SDP_INACTIVE)
		reason(rm, "inactive: %s", why);

	/* extensions */
	for (int e = 0; e < SDP_EXT_N; e++) {
		int id = sdp_media_ext_id(m, (enum sdp_ext)e);
		if (!id)
			continue;
		if (e == SDP_EXT_AUDIO_LEVEL && m->kind != SDP_KIND_AUDIO)
			continue;
		/* a receive slot carries whichever publisher is on it, AV1 included, whatever codec its
		 * answer names: the DD goes with AV1 copies (a browser that did not negotiate it decodes
		 * only the lowest spatial layer); a section the participant sends on gets it for AV1 only */
		if (e == SDP_EXT_DD && rm->codec != MMR_CODEC_AV1 && (rm->publish || !rm->receive))
			continue;
		if ((e == SDP_EXT_RID || e == SDP_EXT_RRID) && m->kind != SDP_KIND_VIDEO)
			continue;
		if (id > 14 && !o->extmap_allow_mixed)
			continue;       /* a two-byte id without extmap-allow-mixed: not usable */
		rm->ext_id[e] = (uint8_t)id;
	}

	/* publisher streams: rid simulcast, else the a=ssrc lines */
	if (rm->publish && m->has_simulcast && m->sim_send) {
		for (int j = 0; j < m->n_rid && rm->n_rid < SDP_SIMULCAST_MAX; j++)
			if (m->rid[j].send && m->rid[j].in_simulcast)
				memcpy(rm->rid[rm->n_rid++], m->rid[j].id, SDP_TOKEN);
	}
	if (!rm->n_rid)
		rm->ext_id[SDP_EXT_RID] = rm->ext_id[SDP_EXT_RRID] = 0;
	if (rm->publish && !rm->n_rid) {
		for (int j = 0; j < m->n_ssrc && rm->n_ssrc < SDP_SIMULCAST_MAX; j++) {
			int is_rtx = 0;
			for (int f = 0; f < m->n_fid; f++)
				is_rtx |= m->fid[f][1] == m->ssrc[j].ssrc;
			if (is_rtx)
				continue;
			rm->ssrc[rm->n_ssrc] = m->ssrc[j].ssrc;
			for (int f = 0; f < m->n_fid; f++)
				if (m->fid[f][0] == m->ssrc[j].ssrc && rm->rtx_pt)
					rm->rtx_ssrc[rm->n_ssrc] = m->fid[f][1];
			rm->n_ssrc++;
		}
	}

	/* feedback */
	uint8_t fb = (uint8_t)((p->fb | m->fb_any) & (SDP_FB_NACK | SDP_FB_PLI | SDP_FB_FIR | SDP_FB_REMB | SDP_FB_TWCC));
	if (!rm->ext_id[SDP_EXT_TWCC])
		fb &= (uint8_t)~SDP_FB_TWCC;
	if (!rm->ext_id[SDP_EXT_ABS_SEND_TIME] || (fb & SDP_FB_TWCC))
		fb &= (uint8_t)~SDP_FB_REMB;   /* see the top: no REMB beside transport-cc */
	rm->fb = fb;
	return 1;
}

static void write_fmtp(struct w *w, const struct sdp_pt *p, int codec)
{
	char buf[160] = "";
	size_t n = 0;
#define ADD(...) n += (size_t)snprintf(buf + n, sizeof(buf) - n, __VA_ARGS__)
	switch (codec) {
	case MMR_CODEC_OPUS:
		if (p->opus_minptime >= 0)
			ADD("minptime=%d;", p->opus_minptime);
		if (p->opus_fec >= 0)
			ADD("useinbandfec=%d;", p->opus_fec);
		if (p->opus_stereo >= 0)
			ADD("stereo=%d;", p->opus_stereo);
		break;
	case MMR_CODEC_VP9:
		if (p->vp9_profile_id >= 0)
			ADD("profile-id=%d;", p->vp9_profile_id);
		break;
	case MMR_CODEC_AV1:
		if (p->av1_level_idx >= 0)
			ADD("level-idx=%d;", p->av1_level_idx);
		if (p->av1_profile >= 0)
			ADD("profile=%d;", p->av1_profile);
		if (p->av1_tier >= 0)
			ADD("tier=%d;", p->av1_tier);
		break;
	case MMR_CODEC_H264:
		if (p->h264_asym >= 0)
			ADD("level-asymmetry-allowed=%d;", p->h264_asym);
		if (p->h264_pmode >= 0)
			ADD("packetization-mode=%d;", p->h264_pmode);
		if (p->h264_plid >= 0)
			ADD("profile-level-id=%06x;", (unsigned)p->h264_plid);
		break;
	}
#undef ADD
	if (n) {
		buf[n - 1] = 0;        /* the last ';' */
		wr(w, "a=fmtp:%u %s\r\n", p->pt, buf);
	}
}

static void write_media(struct w *w, const struct sdp_offer *o, int i, const struct sdp_answer_cfg *cfg,
			const struct sdp_result_media *rm, int v6)
{
	const struct sdp_media *m = &o->m[i];
	if (!rm->accepted) {
		wr(w, "m=%s 0 %s %s\r\nc=IN IP4 0.0.0.0\r\n", m->kind_text, m->proto, m->fmt0);
		if (m->mid[0])
			wr(w, "a=mid:%s\r\n", m->mid);
		return;
	}
	const struct sdp_pt *p = sdp_media_pt(m, rm->pt);
	wr(w, "m=%s %u %s %u", m->kind_text, cfg->cand_port, m->proto, rm->pt);
	if (rm->rtx_pt)
		wr(w, " %u", rm->rtx_pt);
	wr(w, "\r\nc=IN %s %s\r\n", v6 ? "IP6" : "IP4", cfg->cand_ip);
	wr(w, "a=mid:%s\r\n", m->mid);
	wr(w, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", cfg->ice_ufrag, cfg->ice_pwd);
	wr(w, "a=fingerprint:sha-256 %s\r\na=setup:passive\r\n", cfg->fingerprint);
	wr(w, "a=%s\r\n", dir_name(rm->dir));
	wr(w, "a=rtcp-mux\r\na=rtcp-mux-only\r\n");
	if (rm->rsize)
		wr(w, "a=rtcp-rsize\r\n");
	for (int e = 0; e < SDP_EXT_N; e++)
		if (rm->ext_id[e])
			wr(w, "a=extmap:%u %s\r\n", rm->ext_id[e], sdp_ext_uris[e]);
	if (p->channels)
		wr(w, "a=rtpmap:%u %s/%u/%u\r\n", p->pt, p->name, p->clock, p->channels);
	else
		wr(w, "a=rtpmap:%u %s/%u\r\n", p->pt, p->name, p->clock);
	if (rm->fb & SDP_FB_NACK)
		wr(w, "a=rtcp-fb:%u nack\r\n", p->pt);
	if (rm->fb & SDP_FB_PLI)
		wr(w, "a=rtcp-fb:%u nack pli\r\n", p->pt);
	if (rm->fb & SDP_FB_FIR)
		wr(w, "a=rtcp-fb:%u ccm fir\r\n", p->pt);
	if (rm->fb & SDP_FB_REMB)
		wr(w, "a=rtcp-fb:%u goog-remb\r\n", p->pt);
	if (rm->fb & SDP_FB_TWCC)
		wr(w, "a=rtcp-fb:%u transport-cc\r\n", p->pt);
	write_fmtp(w, p, rm->codec);
	if (rm->rtx_pt) {
		wr(w, "a=rtpmap:%u rtx/%u\r\n", rm->rtx_pt, p->clock);
		wr(w, "a=fmtp:%u apt=%u\r\n", rm->rtx_pt, p->pt);
	}
	if (rm->n_rid) {
		for (int j = 0; j < rm->n_rid; j++)
			wr(w, "a=rid:%s recv\r\n", rm->rid[j]);
		wr(w, "a=simulcast:recv ");
		for (int j = 0; j < rm->n_rid; j++) {
			int paused = 0;
			for (int q = 0; q < m->n_rid; q++)
				if (!strcmp(m->rid[q].id, rm->rid[j]))
					paused = m->rid[q].paused;
			wr(w, "%s%s%s", j ? ";" : "", paused ? "~" : "", rm->rid[j]);
		}
		wr(w, "\r\n");
	}
	if (rm->receive) {
		char sid[24];
		snprintf(sid, sizeof(sid), "mmr-%c%d", m->kind == SDP_KIND_VIDEO ? 'v' : 'a', rm->slot);
		wr(w, "a=msid:%s %s\r\n", sid, sid);
		if (rm->out_rtx_ssrc)
			wr(w, "a=ssrc-group:FID %u %u\r\n", rm->out_ssrc, rm->out_rtx_ssrc);
		wr(w, "a=ssrc:%u cname:%s\r\na=ssrc:%u msid:%s %s\r\n", rm->out_ssrc, cfg->cname, rm->out_ssrc,
		   sid, sid);
		if (rm->out_rtx_ssrc)
			wr(w, "a=ssrc:%u cname:%s\r\na=ssrc:%u msid:%s %s\r\n", rm->out_rtx_ssrc, cfg->cname,
			   rm->out_rtx_ssrc, sid, sid);
	}
	wr(w, "a=candidate:1 1 udp 2130706431 %s %u typ host\r\na=end-of-candidates\r\n", cfg->cand_ip,
	   cfg->cand_port);
}

/* A mid or rid `stream add` takes (control/values.c val_mid_ok): 1..16 of A-Z a-z 0-9 - _ . */
static int ctl_token_ok(const char *t)
{
	size_t n = strlen(t);
	if (n == 0 || n > MMR_MID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= '0' && t[i] <= '9') ||
		      t[i] == '-' || t[i] == '_' || t[i] == '.'))
			return 0;
	return 1;
}

/* Does the participant's publishing m-section have its SSRCs learned (rid simulcast with the mid
 * and rid extensions, no a=ssrc)? */
static int learns(const struct sdp_result_media *m)
{
	return m->publish && !m->n_ssrc && m->n_rid && m->ext_id[SDP_EXT_MID] && m->ext_id[SDP_EXT_RID];
}

int sdp_answer(const struct sdp_offer *o, const struct sdp_answer_cfg *cfg, char *out, size_t cap,
	       struct sdp_result *r, char *err, size_t errlen)
{
	int v6 = 0;
	if (err && errlen)
		err[0] = 0;
	memset(r, 0, sizeof(*r));
	if (!out || cap == 0)
		return errf(err, errlen, "answer: no output buffer");
	out[0] = 0;
	if (check_cfg(cfg, &v6, err, errlen) < 0)
		return -1;
	if (o->n_media == 0 || o->n_media > SDP_MAX_MEDIA)
		return errf(err, errlen, "offer: no m-section");
	if (o->ice_lite)
		return errf(err, errlen, "offer: the offerer is ICE-lite like the MMR; one side must run full ICE");
	if (!o->n_bundle)
		return errf(err, errlen, "offer: no a=group:BUNDLE (the MMR needs max-bundle)");

	r->n_media = o->n_media;
	int vslot = 0, aslot = 0, first = -1;
	/* BUNDLE: one transport, one meaning per extension id (RFC 8285, 9143) and the controller keeps
	 * one id per extension per participant: a later m-section that gives an id another extension
	 * already has, or another id to an extension, does not get that extension (aiortc 1.4 offers
	 * audio-level and abs-send-time both as id 2) */
	int8_t id_ext[256];
	uint8_t ext_id[SDP_EXT_N] = { 0 };
	memset(id_ext, -1, sizeof(id_ext));
	for (int i = 0; i < o->n_media; i++) {
		struct sdp_result_media *rm = &r->m[i];
		if (!decide(o, i, cfg, &vslot, &aslot, rm))
			continue;
		r->n_accepted++;
		for (int e = 0; e < SDP_EXT_N; e++) {
			uint8_t id = rm->ext_id[e];
			if (!id)
				continue;
			if ((id_ext[id] >= 0 && id_ext[id] != e) || (ext_id[e] && ext_id[e] != id)) {
				rm->ext_id[e] = 0;
				continue;
			}
			id_ext[id] = (int8_t)e;
			ext_id[e] = id;
		}
		if (!rm->ext_id[SDP_EXT_TWCC])
			rm->fb &= (uint8_t)~SDP_FB_TWCC;
		if (!rm->ext_id[SDP_EXT_ABS_SEND_TIME] || (rm->fb & SDP_FB_TWCC))
			rm->fb &= (uint8_t)~SDP_FB_REMB;
	}
	if (!r->n_accepted)
		return errf(err, errlen, "offer: nothing the MMR can accept: m-section 1 (%s, mid %s): %s",
			    o->m[0].kind_text, o->m[0].mid[0] ? o->m[0].mid : "none", r->m[0].reason);
	/* a stream whose SSRCs are learned is found by its mid and rid, which the dataplane holds as
	 * 1-16 bytes (MMR_MID_MAX): one it cannot hold is refused now, not by `stream add` after */
	for (int i = 0; i < o->n_media; i++) {
		const struct sdp_result_media *rm = &r->m[i];
		if (!rm->accepted || !learns(rm))
			continue;
		if (!ctl_token_ok(rm->mid))
			return errf(err, errlen, "offer: m-section %d: mid '%.40s' for SSRC learning must be 1-%d of "
				    "A-Z a-z 0-9 - _ .", i + 1, rm->mid, MMR_MID_MAX);
		for (int k = 0; k < rm->n_rid; k++)
			if (!ctl_token_ok(rm->rid[k]))
				return errf(err, errlen, "offer: m-section %d (mid %s): rid '%.40s' is longer than the "
					    "%d characters the MMR learns SSRCs by (or not A-Z a-z 0-9 - _ .)", i + 1,
					    rm->mid, rm->rid[k], MMR_MID_MAX);
	}
	/* One transport: the ICE and DTLS parameters of the BUNDLE tag (the first accepted mid of the
	 * offer's group); an offerer such as aiortc may give each m-section its own in the offer. */
	for (int b = 0; b < o->n_bundle && first < 0; b++)
		for (int i = 0; i < o->n_media; i++)
			if (r->m[i].accepted && !strcmp(o->m[i].mid, o->bundle[b]))
				first = i;
	const char *uf = sdp_media_ufrag(o, first), *pw = sdp_media_pwd(o, first);
	const char *fp = sdp_media_fingerprint(o, first);
	if (sdp_media_setup(o, first) == SDP_SETUP_PASSIVE)
		return errf(err, errlen, "offer: m-section %d (mid %s) wants a=setup:passive; the MMR is "
			    "always the DTLS server (passive)", first + 1, o->m[first].mid);
	snprintf(r->remote_ufrag, sizeof(r->remote_ufrag), "%s", uf);
	snprintf(r->remote_pwd, sizeof(r->remote_pwd), "%s", pw);
	snprintf(r->remote_fingerprint, sizeof(r->remote_fingerprint), "%s", fp);
	r->extmap_allow_mixed = o->extmap_allow_mixed;
	r->n_video_slots_used = (uint8_t)vslot;
	r->n_audio_slots_used = (uint8_t)aslot;

	struct w w = { out, cap, 0, 0 };
	wr(&w, "v=0\r\no=- %llu 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n", (unsigned long long)cfg->session_id);
	wr(&w, "a=group:BUNDLE");
	for (int b = 0; b < o->n_bundle; b++)
		for (int i = 0; i < o->n_media; i++)
			if (r->m[i].accepted && !strcmp(o->m[i].mid, o->bundle[b]))
				wr(&w, " %s", o->m[i].mid);
	wr(&w, "\r\n");
	if (o->extmap_allow_mixed)
		wr(&w, "a=extmap-allow-mixed\r\n");
	wr(&w, "a=msid-semantic: WMS *\r\na=ice-lite\r\n");
	for (int i = 0; i < o->n_media; i++)
		write_media(&w, o, i, cfg, &r->m[i], v6);
	if (w.over) {
		out[0] = 0;
		return errf(err, errlen, "answer: longer than the %zu-byte buffer", cap);
	}
	return (int)w.n;
}

static const char *const codec_names[] = { "?", "opus", "vp8", "vp9", "av1", "h264" };

int sdp_result_participant_args(const struct sdp_result *r, char *buf, size_t cap)
{
	struct w w = { buf, cap, 0, 0 };
	uint8_t fb = 0, rsize = 0, ext[SDP_EXT_N] = { 0 };
	uint8_t rtx[4][2];
	int n_rtx = 0;
	if (!buf || !cap)
		return -1;
	buf[0] = 0;
	for (int i = 0; i < r->n_media && i < SDP_MAX_MEDIA; i++) {
		const struct sdp_result_media *m = &r->m[i];
		if (!m->accepted)
			continue;
		fb |= m->fb;
		rsize |= m->rsize;
		for (int e = 0; e < SDP_EXT_N; e++) {
			if (!m->ext_id[e])
				continue;
			if (ext[e] && ext[e] != m->ext_id[e])
				return -1;      /* one id per extension across the BUNDLE (RFC 8285/9143) */
			ext[e] = m->ext_id[e];
		}
		if (!m->rtx_pt)
			continue;
		int dup = 0;
		for (int k = 0; k < n_rtx; k++) {
			if (rtx[k][0] == m->pt && rtx[k][1] == m->rtx_pt)
				dup = 1;
			else if (rtx[k][0] == m->pt || rtx[k][1] == m->rtx_pt)
				return -1;
		}
		if (dup)
			continue;
		if (n_rtx == 4)
			return -1;
		rtx[n_rtx][0] = m->pt;
		rtx[n_rtx][1] = m->rtx_pt;
		n_rtx++;
	}
	static const struct { uint8_t bit; const char *name; } fbs[] = {
		{ SDP_FB_NACK, "nack" }, { SDP_FB_PLI, "pli" }, { SDP_FB_FIR, "fir" }, { SDP_FB_TWCC, "twcc" },
		{ SDP_FB_REMB, "remb" },
	};
	wr(&w, "--rtcp ");
	int any = 0;
	for (size_t k = 0; k < sizeof(fbs) / sizeof(fbs[0]); k++)
		if (fb & fbs[k].bit)
			wr(&w, "%s%s", any++ ? "," : "", fbs[k].name);
	if (rsize)
		wr(&w, "%srsize", any++ ? "," : "");
	if (!any)
		wr(&w, "none");
	for (int k = 0; k < n_rtx; k++)
		wr(&w, "%s%u:%u", k ? "," : " --rtx ", rtx[k][0], rtx[k][1]);
	static const int ctl_ext[] = { SDP_EXT_TWCC, SDP_EXT_ABS_SEND_TIME, SDP_EXT_AUDIO_LEVEL, SDP_EXT_MID,
				       SDP_EXT_RID, SDP_EXT_RRID };
	int two = 0;
	any = 0;
	for (size_t k = 0; k < sizeof(ctl_ext) / sizeof(ctl_ext[0]); k++) {
		int e = ctl_ext[k];
		if (!ext[e])
			continue;
		wr(&w, "%s%s=%u", any++ ? "," : " --ext ", sdp_ext_names[e], ext[e]);
		two |= ext[e] > 14;
	}
	if (two)
		wr(&w, " --ext-two-byte");
	return w.over ? (buf[0] = 0, -1) : (int)w.n;
}

int sdp_result_stream_args(const struct sdp_result_media *m, char *buf, size_t cap)
{
	struct w w = { buf, cap, 0, 0 };
	if (!buf || !cap)
		return -1;
	buf[0] = 0;
	if (!m->accepted || !m->publish || !m->codec || m->codec > MMR_CODEC_H264)
		return -1;
	wr(&w, "--kind %s --codec %s", m->kind == SDP_KIND_AUDIO ? "audio" : "video", codec_names[m->codec]);
	if (m->clock != (m->kind == SDP_KIND_AUDIO ? 48000u : 90000u))
		wr(&w, " --clock %u", m->clock);
	if (m->codec == MMR_CODEC_AV1)
		wr(&w, " --dd-ext %u", m->ext_id[SDP_EXT_DD]);
	/* the mid (SSRC learning, issue 13): recorded with --ssrc; without SSRCs (rid simulcast) the
	 * SSRCs are learned from the mid/rid/repaired-rid extensions, rids in a=simulcast order, which
	 * is the page's sendEncodings order (lowest quality first when the page lists them so) */
	int learn = learns(m);
	if (!m->n_ssrc && !learn)
		return -1;      /* no SSRC and nothing to learn it from */
	if (learn || (m->mid[0] && m->ext_id[SDP_EXT_MID] && ctl_token_ok(m->mid)))
		wr(&w, " --mid %s", m->mid);
	for (int k = 0; learn && k < m->n_rid; k++)
		wr(&w, "%s%s", k ? "," : " --rid ", m->rid[k]);
	if (learn && m->rtx_pt && m->ext_id[SDP_EXT_RRID])
		wr(&w, " --rtx-pt %u", m->rtx_pt);
	for (int k = 0; k < m->n_ssrc; k++)
		wr(&w, "%s%u", k ? "," : " --ssrc ", m->ssrc[k]);
	int rtx = m->n_ssrc && m->rtx_pt;
	for (int k = 0; rtx && k < m->n_ssrc; k++)
		rtx = m->rtx_ssrc[k] != 0;
	for (int k = 0; rtx && k < m->n_ssrc; k++)
		wr(&w, "%s%u", k ? "," : " --rtx-ssrc ", m->rtx_ssrc[k]);
	if (rtx)
		wr(&w, " --rtx-pt %u", m->rtx_pt);
	return w.over ? (buf[0] = 0, -1) : (int)w.n;
}
