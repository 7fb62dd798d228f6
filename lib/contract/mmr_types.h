/*
 * mmr_types.h - small value types and limits shared by the dataplane and the controller.
 *
 * Everything here is plain data with a fixed layout: it travels through the shared-memory
 * command channel (cmd_chan.h) and the counters area (stats.h), so both processes must agree
 * on it byte for byte. Changing a layout means bumping MMR_SHM_VERSION in cmd_chan.h.
 */
#ifndef MMR_TYPES_H
#define MMR_TYPES_H

#include <stdint.h>
#include <stdbool.h>
#include <string.h>

/* Table limits. Ids are dense indexes chosen by the controller, below these bounds. */
#define MMR_MAX_PARTICIPANTS  (1u << 17)   /* 131072 */
#define MMR_MAX_STREAMS       (1u << 18)   /* 262144 */
#define MMR_MAX_SUBS          (1u << 20)   /* 1048576 subscriptions (stream -> receiver) */
#define MMR_MAX_PORTS         8
#define MMR_MAX_LCORES        16
#define MMR_MAX_TLAYERS       4            /* temporal layers 0..3 (VP8 TID is 2 bits) */
/* ICE credentials (RFC 8839: ice-ufrag 4..256 and ice-pwd 22..256 ICE characters; we bound them) */
#define MMR_ICE_UFRAG_MIN 4
#define MMR_ICE_UFRAG_MAX 32
#define MMR_ICE_PWD_MIN   22
#define MMR_ICE_PWD_MAX   64
/* DTLS-SRTP (version 14): a peer certificate's SHA-256 fingerprint (dtls_fp.h: its text form) */
#define MMR_DTLS_FP_LEN      32
#define MMR_DTLS_FP_TEXT_LEN (MMR_DTLS_FP_LEN * 3 - 1)
#define MMR_MAX_MEETINGS      MMR_MAX_PARTICIPANTS   /* meeting ids: each owned by one worker lcore */
#define MEDIA_MAX_SPATIAL  3   /* spatial layers 0..2 a target may name (VP9 SID is 3 bits: more parse, are dropped) */
#define MEDIA_MAX_TEMPORAL 4   /* temporal layers 0..3 (VP8 TID 2 bits; VP9 TID 3 bits: more are dropped) */
#define MEDIA_MAX_ENCODINGS 3  /* simulcast encodings per group */

#define MMR_ID_NONE           UINT32_MAX

/*
 * SSRC learning (issue 13, RFC 8843 mid, RFC 8852 rid and repaired-rid): a stream a browser does not
 * announce by SSRC is found by the mid (and rid) its packets carry in header extensions. One entry
 * per stream (a simulcast encoding) whose media or RTX SSRC is not known yet. mid and rid are
 * RFC 8842 tokens of 1..MMR_MID_MAX bytes (what the one-byte header form carries); rid_len 0: the
 * stream has no rid (a single encoding), packets carry mid alone.
 */
#define MMR_MID_MAX    16
#define MMR_LEARN_MAX  8     /* streams per participant whose SSRCs may be pending at once */
#define MMR_LEARN_MEDIA 1u   /* mmr_learn.need: the media SSRC is not known yet */
#define MMR_LEARN_RTX   2u   /*                 its RTX SSRC is not known yet (repaired-rid) */
struct mmr_learn {
	uint32_t stream_id;    /* the stream (the encoding's own id) */
	uint8_t  need;         /* MMR_LEARN_* */
	uint8_t  mid_len;      /* 1..MMR_MID_MAX */
	uint8_t  rid_len;      /* 0..MMR_MID_MAX */
	uint8_t  pad;
	char     mid[MMR_MID_MAX];  /* not terminated */
	char     rid[MMR_MID_MAX];
};

/* An IPv4 or IPv6 address. IPv4 is stored in ip[0..3], the rest zero. Network byte order. */
struct mmr_addr {
	uint8_t family;        /* MMR_AF_INET or MMR_AF_INET6 */
	uint8_t pad[3];
	uint8_t ip[16];
};
#define MMR_AF_INET  4
#define MMR_AF_INET6 6

/* memcmp, not uint64_t loads: the struct is only byte-aligned (ip sits at offset 4), and a
 * misaligned load is undefined behaviour (UBSan stops the fuzz builds on it). A 16-byte memcmp
 * compiles to two unaligned 8-byte loads anyway. */
static inline bool mmr_addr_eq(const struct mmr_addr *a, const struct mmr_addr *b)
{
	return a->family == b->family && memcmp(a->ip, b->ip, 16) == 0;
}

/* Parse "1.2.3.4" or "2001:db8::1" into an mmr_addr; 0 on success, -1 on bad text. */
int mmr_addr_parse(const char *s, struct mmr_addr *out);
/* Format into buf (at least 46 bytes); returns buf. */
char *mmr_addr_format(const struct mmr_addr *a, char *buf, unsigned len);
/* Parse "aa:bb:cc:dd:ee:ff"; 0 on success, -1 on bad text. */
int mmr_mac_parse(const char *s, uint8_t mac[6]);

enum mmr_media_kind { MMR_KIND_AUDIO = 1, MMR_KIND_VIDEO = 2 };
enum mmr_codec {
	MMR_CODEC_OPUS = 1,
	MMR_CODEC_VP8 = 2,   /* RFC 7741: temporal layers */
	MMR_CODEC_VP9 = 3,   /* RFC 9628: spatial and temporal layers */
	MMR_CODEC_AV1 = 4,   /* AV1 RTP specification with the Dependency Descriptor: decode targets */
	MMR_CODEC_H264 = 5,  /* RFC 6184: no layers; keyframes found for simulcast switches */
};

/* What a participant does in a meeting. */
enum mmr_role {
	MMR_ROLE_SENDRECV = 1,  /* publishes and receives (default) */
	MMR_ROLE_RECVONLY = 2,  /* viewer: receives only, may not add streams */
	MMR_ROLE_SENDONLY = 3,  /* publishes only, gets no subscriptions */
};

/* Meeting controls (issue 15): PARTICIPANT_PUT.block, what the dataplane does not forward. A muted
 * or denied kind's packets are dropped on arrival (muted, share_denied); a waiting participant's
 * packets are all dropped (not_admitted; STUN and DTLS still answered, so admission is instant)
 * and no copy goes to it. */
#define MMR_BLOCK_AUDIO   0x01u   /* muted: audio */
#define MMR_BLOCK_VIDEO   0x02u   /* muted: camera video */
#define MMR_BLOCK_SCREEN  0x04u   /* muted: screen share */
#define MMR_BLOCK_SHARE   0x08u   /* screen share not allowed by the meeting's policy */
#define MMR_BLOCK_WAITING 0x80u   /* in the waiting room: nothing from it, nothing to it */
#define MMR_BLOCK_MASK    0x8fu

/* The MMR's DTLS role toward a participant (PARTICIPANT_PUT.dtls_role): server when its answer
 * says a=setup:passive (the browser, a=setup:active, starts the handshake), client for active. */
enum mmr_dtls_role {
	MMR_DTLS_SERVER = 0,
	MMR_DTLS_CLIENT = 1,
};

/* A DTLS participant's handshake as the dataplane reports it (MMR_EV_DTLS, event_ring.h). */
enum mmr_dtls_state {
	MMR_DTLS_NONE = 0,        /* not a DTLS participant */
	MMR_DTLS_WAITING,         /* no handshake datagram seen yet (the controller's own state) */
	MMR_DTLS_HANDSHAKING,
	MMR_DTLS_CONNECTED,       /* keys exported and installed in its SRTP contexts */
	MMR_DTLS_FAILED,          /* v0's reason says why (enum mmr_dtls_fail) */
	MMR_DTLS_CLOSED,          /* the peer sent close_notify (its keys stay until a new handshake) */
	MMR_DTLS__STATES
};

/* Why a handshake failed (the same list as lib/dtls's enum dtls_fail, in its order) */
enum mmr_dtls_fail {
	MMR_DTLS_FAIL_NONE = 0,
	MMR_DTLS_FAIL_FINGERPRINT,    /* the peer's certificate is not the one its SDP named */
	MMR_DTLS_FAIL_NO_SRTP,        /* no SRTP profile in common (the meeting's suite) */
	MMR_DTLS_FAIL_HANDSHAKE,      /* protocol error or fatal alert */
	MMR_DTLS_FAIL_DEADLINE,       /* took too long */
	MMR_DTLS_FAIL_RETRANSMIT,     /* retransmission limit */
	MMR_DTLS_FAIL_EXPORT,         /* key export failed */
	MMR_DTLS_FAIL_INTERNAL,       /* out of memory, OpenSSL setup */
	MMR_DTLS_FAIL_KEYS,           /* the keys could not be installed (the dataplane refused them) */
	MMR_DTLS__FAILS
};
const char *mmr_dtls_state_name(unsigned st);    /* "none", "waiting", ...; "?" */
const char *mmr_dtls_fail_name(unsigned f);      /* "fingerprint", ...; "?" */

/* RTCP feedback a participant takes (issue 11): PARTICIPANT_PUT.fb and fwd_participant.fb. What it
 * negotiated in its SDP (a=rtcp-fb, a=rtcp-rsize, RTX payload types); the dataplane sends it only
 * these kinds of feedback and repairs only as it can take them. */
#define MMR_FB_NACK   0x01u   /* generic NACK (RFC 4585): it asks for lost packets, and we ask it */
#define MMR_FB_PLI    0x02u   /* picture loss indication (RFC 4585) */
#define MMR_FB_FIR    0x04u   /* full intra request (RFC 5104) */
#define MMR_FB_RSIZE  0x08u   /* reduced-size RTCP (RFC 5506): feedback without a report first */
#define MMR_FB_RTX    0x10u   /* it receives RTX (RFC 4588): its rtx_map is not empty (set by the
				 dataplane/controller from the map, not chosen on its own) */
#define MMR_FB_TWCC   0x20u   /* transport-wide congestion control (issue 12): it sends transport-wide
				 feedback (draft-holmer-rmcat-transport-wide-cc-extensions); the MMR
				 stamps its copies with transport-wide sequence numbers (its
				 twcc_ext_id) and estimates the bandwidth toward it; as a publisher
				 it gets transport-wide feedback from the MMR */
#define MMR_FB_REMB   0x40u   /* REMB (issue 12): it sends receiver estimated maximum bitrate; the MMR
				 stamps abs-send-time (its abs_ext_id) on its copies; as a publisher
				 it gets REMB from the MMR */
#define MMR_FB_DEFAULT (MMR_FB_NACK | MMR_FB_PLI | MMR_FB_FIR)
#define MMR_FB_ALL     (MMR_FB_NACK | MMR_FB_PLI | MMR_FB_FIR | MMR_FB_RSIZE | MMR_FB_RTX | MMR_FB_TWCC | \
			MMR_FB_REMB)

/* RTP header extension ids (issue 12): 1..14 in the one-byte form (RFC 8285), 1..255 in the two-byte
 * form; 0: not negotiated. */
#define MMR_EXT_ID_NONE 0u

/* Top-N audio (issue 12): a meeting forwards to each receiver only its N loudest audio streams, on N
 * slot subscriptions per receiver (mmr_cmd_sub.topn_slot); N = 0 (off) .. MMR_TOPN_MAX. */
#define MMR_TOPN_MAX 8u
/* Receive slots (issue 13): a receiver's video slots (mmr_cmd_sub.video_slot), at most this many;
 * its audio slots are its meeting's top-N slots (at most MMR_TOPN_MAX). */
#define MMR_VSLOT_MAX 8u

/* Allocation priority of a subscription (issue 12, mmr_cmd_sub.priority): a pinned one is served
 * before the others (like a screen share, mmr_cmd_stream.screen). */
#define MMR_PRIO_NORMAL 0u
#define MMR_PRIO_PINNED 1u

/* A participant's RTX payload types for what it receives: retransmissions of media payload type
 * `apt` go to it as payload type `pt` on the subscription's rtx SSRC. Up to MMR_RTX_MAP_MAX pairs;
 * an unused pair is {0, 0} (payload type 0 is PCMU, never an RTX or video payload here). */
#define MMR_RTX_MAP_MAX 4
struct mmr_rtx_pt {
	uint8_t apt;   /* the media payload type (0..127) */
	uint8_t pt;    /* its RTX payload type (1..127) */
};

/* Clock rates when a stream gives none: video 90 kHz, audio (Opus) 48 kHz. */
#define MMR_CLOCK_VIDEO_HZ 90000u
#define MMR_CLOCK_AUDIO_HZ 48000u

#endif
