/*
 * sdp.h - WebRTC signalling: an SDP offer as browsers send it (RFC 8866, JSEP RFC 8829, BUNDLE
 * RFC 9143, simulcast RFC 8851/8853) parsed into a bounded struct, and the MMR's answer built from
 * it (ICE-lite, DTLS-SRTP, BUNDLE, rtcp-mux-only) together with a structured result the controller
 * turns into its participant and stream commands. Pure C: no allocation (the caller provides the
 * structs and the answer buffer), no system call, every bound checked; a malformed offer gives an
 * error string naming the line. Used by the controller's WHIP/WHEP endpoints (issue 13); driven
 * directly by tests/unit/test_sdp.c and tests/fuzz/fuzz_sdp.c.
 *
 * Two steps:
 *   sdp_parse_offer(text, len, &offer, err, errlen)    the offer's facts, or -1 and why
 *   sdp_answer(&offer, &cfg, out, cap, &result, ...)   the answer text and what was negotiated
 * and the result as the controller's command options (sdp_result_participant_args, _stream_args).
 */
#ifndef MMR_SDP_H
#define MMR_SDP_H

#include <stddef.h>
#include <stdint.h>

#include "mmr_types.h"

/* Bounds. An offer over any of them is refused with the line that went over. */
#define SDP_MAX_TEXT     65536   /* whole offer */
#define SDP_MAX_LINE     1024    /* one line, without its CRLF */
#define SDP_MAX_MEDIA    16      /* m-sections */
#define SDP_MAX_PT       64      /* payload types of one m-section (Chromium offers ~40 for video) */
#define SDP_MAX_FB       8       /* rtcp-fb lines per payload type */
#define SDP_MAX_EXTMAP   24      /* a=extmap lines per m-section (Chromium offers ~14 for video) */
#define SDP_MAX_SSRC     8       /* distinct a=ssrc values per m-section */
#define SDP_MAX_FID      4       /* a=ssrc-group:FID pairs per m-section */
#define SDP_MAX_RID      8       /* a=rid lines per m-section (the answer keeps at most 3) */
#define SDP_MAX_FP       4       /* a=fingerprint lines at one level */
#define SDP_TOKEN        64      /* mid, rid, cname, codec name, ... (with the NUL) */
#define SDP_ICE_MAX      257     /* ice-ufrag / ice-pwd: up to 256 chars (RFC 8839) + NUL */
#define SDP_FP_MAX       200     /* "XX:XX:..." of sha-512 is 191 chars */
#define SDP_SIMULCAST_MAX 3      /* encodings of a simulcast group the MMR takes (stream add --ssrc a,b,c) */

enum sdp_kind { SDP_KIND_OTHER = 0, SDP_KIND_AUDIO, SDP_KIND_VIDEO, SDP_KIND_APPLICATION };

/* Direction as the offerer says it (its own point of view). */
enum sdp_dir { SDP_SENDRECV = 0, SDP_SENDONLY, SDP_RECVONLY, SDP_INACTIVE };

/* a=setup */
enum sdp_setup { SDP_SETUP_NONE = 0, SDP_SETUP_ACTPASS, SDP_SETUP_ACTIVE, SDP_SETUP_PASSIVE };

/* What a payload type is, from its rtpmap name. */
enum sdp_enc {
	SDP_ENC_UNKNOWN = 0,
	SDP_ENC_OPUS, SDP_ENC_VP8, SDP_ENC_VP9, SDP_ENC_AV1, SDP_ENC_H264,
	SDP_ENC_RTX,                        /* RFC 4588, with apt */
	SDP_ENC_RED, SDP_ENC_ULPFEC, SDP_ENC_FLEXFEC,   /* recognized, declined */
	SDP_ENC_CN, SDP_ENC_TELEPHONE_EVENT,            /* recognized, declined */
};

/* The header extensions the MMR uses (and the names the controller gives them). */
enum sdp_ext {
	SDP_EXT_MID = 0,        /* urn:ietf:params:rtp-hdrext:sdes:mid */
	SDP_EXT_RID,            /* urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id */
	SDP_EXT_RRID,           /* urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id */
	SDP_EXT_DD,             /* AV1 Dependency Descriptor */
	SDP_EXT_TWCC,           /* transport-wide-cc-extensions-01 */
	SDP_EXT_ABS_SEND_TIME,  /* abs-send-time */
	SDP_EXT_AUDIO_LEVEL,    /* urn:ietf:params:rtp-hdrext:ssrc-audio-level (RFC 6464) */
	SDP_EXT_N
};
/* "mid", "rid", "rrid", "dd", "twcc", "abs-send-time", "audio-level" (participant add --ext names) */
extern const char *const sdp_ext_names[SDP_EXT_N];
extern const char *const sdp_ext_uris[SDP_EXT_N];

/* rtcp-fb the MMR implements (bits) */
#define SDP_FB_NACK   0x01u    /* nack */
#define SDP_FB_PLI    0x02u    /* nack pli */
#define SDP_FB_FIR    0x04u    /* ccm fir */
#define SDP_FB_REMB   0x08u    /* goog-remb */
#define SDP_FB_TWCC   0x10u    /* transport-cc */
#define SDP_FB_OTHER  0x80u    /* something else was offered (ignored) */

struct sdp_pt {
	uint8_t  pt;                /* 0-127 */
	uint8_t  enc;               /* enum sdp_enc */
	uint8_t  channels;          /* rtpmap's third field (audio), 0 if absent */
	uint8_t  fb;                /* SDP_FB_* offered for this pt (and a=rtcp-fb:* ones) */
	uint32_t clock;             /* rtpmap clock rate */
	char     name[SDP_TOKEN];   /* rtpmap encoding name as written */
	/* fmtp parameters the MMR looks at (-1: absent) */
	int16_t  apt;               /* RTX: the payload type it repairs */
	int16_t  vp9_profile_id;    /* VP9 profile-id */
	int16_t  h264_pmode;        /* H.264 packetization-mode */
	int32_t  h264_plid;         /* H.264 profile-level-id (24 bits) */
	int8_t   h264_asym;         /* H.264 level-asymmetry-allowed */
	int8_t   av1_profile, av1_tier;
	int8_t   av1_level_idx;
	int8_t   opus_fec;          /* useinbandfec */
	int8_t   opus_stereo;       /* stereo */
	int8_t   opus_minptime;     /* minptime */
	uint8_t  has_rtpmap, has_fmtp;
};

struct sdp_extmap { uint8_t id; int8_t ext; /* enum sdp_ext or -1: not used by the MMR */ };

struct sdp_rid {
	char    id[SDP_TOKEN];
	uint8_t send;               /* 1: "send", 0: "recv" */
	uint8_t in_simulcast;       /* named in a=simulcast (first alternative) */
	uint8_t paused;             /* "~rid" in a=simulcast */
};

struct sdp_ssrc {
	uint32_t ssrc;
	char     cname[SDP_TOKEN];  /* "" if none */
};

struct sdp_media {
	uint8_t  kind;              /* enum sdp_kind */
	uint8_t  dir;               /* enum sdp_dir */
	uint8_t  rtcp_mux, rtcp_mux_only, rtcp_rsize;
	uint8_t  port0;             /* offered with port 0: rejected by the offerer itself unless bundle-only */
	uint8_t  bundle_only;
	uint8_t  setup;             /* enum sdp_setup, SDP_SETUP_NONE if only at session level */
	uint16_t port;
	char     kind_text[16];     /* m= media as written */
	char     proto[32];         /* m= proto */
	char     fmt0[32];          /* first format of the m= line (for a rejection) */
	char     mid[SDP_TOKEN];
	char     ufrag[SDP_ICE_MAX], pwd[SDP_ICE_MAX];   /* "" if only at session level */
	char     fp_sha256[SDP_FP_MAX];                  /* "" if none at this level */
	uint8_t  n_fp;
	uint8_t  n_pt, n_ext, n_ssrc, n_fid, n_rid;
	uint8_t  has_simulcast, sim_send;               /* a=simulcast seen; its direction is send */
	uint8_t  fb_any;            /* a=rtcp-fb:* bits */
	struct sdp_pt     pt[SDP_MAX_PT];
	struct sdp_extmap ext[SDP_MAX_EXTMAP];
	struct sdp_ssrc   ssrc[SDP_MAX_SSRC];
	uint32_t fid[SDP_MAX_FID][2];   /* a=ssrc-group:FID media rtx */
	struct sdp_rid    rid[SDP_MAX_RID];
	char     msid[2 * SDP_TOKEN];   /* a=msid value, "" if none */
};

struct sdp_offer {
	/* session level */
	char     ufrag[SDP_ICE_MAX], pwd[SDP_ICE_MAX];   /* "" if only per m-section */
	char     fp_sha256[SDP_FP_MAX];
	uint8_t  n_fp;              /* fingerprint lines at session level */
	uint8_t  setup;
	uint8_t  extmap_allow_mixed;
	uint8_t  ice_lite;          /* the offerer is ICE-lite (refused by sdp_answer: one side must be full) */
	uint8_t  n_bundle;
	uint8_t  n_media;
	char     bundle[SDP_MAX_MEDIA][SDP_TOKEN];       /* a=group:BUNDLE mids */
	struct sdp_media m[SDP_MAX_MEDIA];
};

/* Parse an offer of len bytes (need not be NUL-terminated; never read past len). 0: parsed into
 * *o; -1: malformed or over a bound, with "line N: ..." (or a whole-offer reason) in err. A parsed
 * offer has, for every m-section not rejected by the offerer (port 0 without bundle-only), an ice-ufrag, ice-pwd, a sha-256
 * fingerprint and a mid (its own or the session's), distinct mids, payload types 0-127 each once. */
int sdp_parse_offer(const char *text, size_t len, struct sdp_offer *o, char *err, size_t errlen);

/* The offer's effective values for m-section i (its own, else the session's). */
const char *sdp_media_ufrag(const struct sdp_offer *o, int i);
const char *sdp_media_pwd(const struct sdp_offer *o, int i);
const char *sdp_media_fingerprint(const struct sdp_offer *o, int i);
int sdp_media_setup(const struct sdp_offer *o, int i);

/* The id the offer gives ext in m-section m, or 0 if not offered. */
int sdp_media_ext_id(const struct sdp_media *m, enum sdp_ext ext);
/* The payload type entry with number pt, or NULL. */
const struct sdp_pt *sdp_media_pt(const struct sdp_media *m, int pt);

/* ---- the answer ---------------------------------------------------------------------------- */

#define SDP_MAX_SLOTS 16

struct sdp_answer_cfg {
	const char *ice_ufrag, *ice_pwd;   /* the MMR's (4-256 and 22-256 ice-chars) */
	const char *fingerprint;           /* sha-256 of the MMR's DTLS certificate, "AB:CD:..." (95 chars) */
	const char *cand_ip;               /* the host candidate: an IPv4 or IPv6 address */
	uint16_t    cand_port;
	const char *cname;                 /* the cname of the MMR's sending SSRCs (1-63 token chars) */
	uint64_t    session_id;            /* o= session id */
	uint8_t     may_send;              /* the participant may publish (its sendonly/sendrecv m-sections) */
	uint8_t     may_recv;              /* the participant may receive (recvonly/sendrecv m-sections) */
	/* Video codecs the MMR may accept, best first (enum mmr_codec; 0-terminated, NULL: all
	 * four video codecs in the offer's own order). Audio is always Opus. */
	const uint8_t *video_codecs;
	/* Receive slots: one per receiving m-section, in the offer's order. The MMR sends on slot k
	 * with SSRC video_ssrc[k] (and RTX SSRC video_rtx_ssrc[k] if RTX is negotiated, 0: none). */
	uint8_t     n_video_slots, n_audio_slots;
	uint32_t    video_ssrc[SDP_MAX_SLOTS], video_rtx_ssrc[SDP_MAX_SLOTS];
	uint32_t    audio_ssrc[SDP_MAX_SLOTS];
};

/* What was negotiated for one m-section of the offer (same index). */
struct sdp_result_media {
	uint8_t  kind;              /* enum sdp_kind */
	uint8_t  accepted;          /* 1: in the BUNDLE with a codec (may still be inactive) */
	uint8_t  dir;               /* the answer's direction (MMR point of view), enum sdp_dir */
	uint8_t  publish;           /* the participant sends media here (the MMR receives) */
	uint8_t  receive;           /* the MMR sends on a slot here */
	uint8_t  codec;             /* enum mmr_codec, 0 if not accepted */
	uint8_t  pt;                /* the offered payload type kept */
	uint8_t  rtx_pt;            /* 0: no RTX */
	uint32_t clock;
	uint8_t  channels;
	uint8_t  fb;                /* SDP_FB_* negotiated */
	uint8_t  rsize;             /* a=rtcp-rsize (both sides) */
	uint8_t  ext_id[SDP_EXT_N]; /* 0: not negotiated */
	char     mid[SDP_TOKEN];
	/* publisher: SSRCs from a=ssrc (and their FID RTX), or rids for rid simulcast */
	uint8_t  n_ssrc, n_rid;
	uint32_t ssrc[SDP_SIMULCAST_MAX], rtx_ssrc[SDP_SIMULCAST_MAX];
	char     rid[SDP_SIMULCAST_MAX][SDP_TOKEN];
	/* receiver: the slot and the MMR's SSRCs on it */
	int8_t   slot;              /* -1: none */
	uint32_t out_ssrc, out_rtx_ssrc;
	char     reason[160];        /* why rejected or inactive ("" if neither) */
};

struct sdp_result {
	uint8_t n_media;
	uint8_t n_accepted;
	uint8_t extmap_allow_mixed;
	uint8_t n_video_slots_used, n_audio_slots_used;
	char    remote_ufrag[SDP_ICE_MAX], remote_pwd[SDP_ICE_MAX];   /* the browser's, for STUN */
	char    remote_fingerprint[SDP_FP_MAX];                       /* sha-256 of its DTLS certificate */
	struct sdp_result_media m[SDP_MAX_MEDIA];
};

/*
 * Build the answer to a parsed offer into out (cap bytes, NUL-terminated) and say what was
 * negotiated in *r. Returns the answer's length, or -1 with a reason in err: a bad cfg, an
 * ICE-lite offerer, an offer without BUNDLE or rtcp-mux, nothing acceptable in the whole offer (each
 * m-section's reason is in r->m[i].reason, and err says the first), a published stream whose SSRCs
 * would be learned by a mid or rid the dataplane cannot hold (1-16 of A-Z a-z 0-9 - _ ., MMR_MID_MAX),
 * or cap too small.
 */
int sdp_answer(const struct sdp_offer *o, const struct sdp_answer_cfg *cfg, char *out, size_t cap,
	       struct sdp_result *r, char *err, size_t errlen);

/*
 * The result as the controller's command options (docs/interfaces.md), into buf (NUL-terminated);
 * the length, or -1 (buf too small, or a result the options cannot say: two ids for one extension,
 * one payload type with two RTX payload types, more than 4 RTX pairs).
 *
 * sdp_result_participant_args: `participant add` options for the whole peer connection:
 *   "--rtcp nack,pli,fir,twcc,remb,rsize|none [--rtx APT:PT,...] [--ext twcc=ID,abs-send-time=ID,
 *   audio-level=ID,mid=ID,rid=ID,rrid=ID] [--ext-two-byte]" (the union over the accepted m-sections).
 * sdp_result_stream_args: `stream add` options for an accepted m-section the participant publishes
 *   on: "--kind K --codec C [--clock HZ] [--dd-ext ID] [--mid MID] (--ssrc A[,B,C] [--rtx-ssrc X[,Y,Z]
 *   --rtx-pt PT] | --rid R0[,R1,R2] [--rtx-pt PT])"; -1 if it publishes nothing there (or announces
 *   no SSRC and has no mid and rid extensions to learn them from). --mid: with --ssrc when the mid
 *   extension is negotiated and the mid is one `stream add` takes (1-16 of A-Z a-z 0-9 - _ .),
 *   always with --rid. Without --ssrc (rid simulcast: m->n_rid rids, no SSRCs in the SDP) the
 *   controller learns the SSRCs from the mid/rid extensions and the RTX SSRCs (--rtx-pt, when
 *   repaired-rid is negotiated) from repaired-rid. The rids are in a=simulcast order: the page's
 *   sendEncodings order, which the MMR takes as encoding 0, 1, 2 = lowest quality first (what a
 *   page does that lists scaleResolutionDownBy 4, 2, 1).
 *
 * SVC: an offer says nothing about it. Chromium 156's offers for a VP9 or AV1 L3T3 sender
 * (scalabilityMode) are the same as for a single-layer one (tests/fixtures/sdp/); the layers are in
 * the VP9 payload descriptor or the AV1 Dependency Descriptor of the packets, so `--layers` and
 * `--spatial` come from the caller (the publisher's own request) or from what the dataplane sees.
 */
int sdp_result_participant_args(const struct sdp_result *r, char *buf, size_t cap);
int sdp_result_stream_args(const struct sdp_result_media *m, char *buf, size_t cap);

#endif
