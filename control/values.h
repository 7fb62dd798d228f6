/*
 * values.h - the text forms of the controller's values, shared by request parsing and the state
 * file: names, SSRCs and other numbers, IP addresses, MAC addresses, roles, media kinds and codecs.
 * Parsers return 0 on success and -1 on bad text (some -2 for text that parses but is unusable).
 */
#ifndef MMR_VALUES_H
#define MMR_VALUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "mmr_types.h"

#define VAL_NAME_MAX 63          /* bytes in a meeting or participant name */
#define VAL_ADDR_STRLEN 46

/* 1-63 characters of [A-Za-z0-9_.-], not starting with '-'. */
bool val_name_ok(const char *s);
/* Unsigned decimal, or hex with 0x; at most max. */
int val_uint(const char *s, uint64_t max, uint64_t *out);
int val_ssrc(const char *s, uint32_t *out);
/* IPv4 or IPv6 text; an IPv4-mapped IPv6 address becomes IPv4. -2: unspecified or multicast. */
int val_addr(const char *s, struct mmr_addr *out);
char *val_addr_fmt(const struct mmr_addr *a, char buf[VAL_ADDR_STRLEN]);
/* aa:bb:cc:dd:ee:ff; -2: all-zero or a group (multicast/broadcast) address. */
int val_mac(const char *s, uint8_t mac[6]);
/* "UFRAG:PWD" ICE credentials (ICE characters A-Z a-z 0-9 + /; ufrag 4-32, pwd 22-64): 0, -1 bad
 * syntax or characters, -2 ufrag length, -3 pwd length. Not terminated (lengths out). */
int val_ice(const char *s, char ufrag[MMR_ICE_UFRAG_MAX], size_t *ulen, char pwd[MMR_ICE_PWD_MAX], size_t *plen);
char *val_mac_fmt(const uint8_t mac[6], char buf[18]);

/* enum mmr_role / mmr_media_kind / mmr_codec from text, or -1; and back ("?" if unknown). */
int val_role(const char *s);
const char *val_role_name(unsigned role);
int val_kind(const char *s);
const char *val_kind_name(unsigned kind);
int val_codec(const char *s);
const char *val_codec_name(unsigned codec);

/* What a codec allows (the dataplane's parsers and selector decide per packet within these):
 * the media kind it carries, temporal layers 1..max_tlayers, spatial layers 1..max_slayers. VP8,
 * VP9 and AV1 have temporal layers, VP9 and AV1 spatial ones; Opus and H.264 one layer. */
static inline unsigned val_codec_kind(unsigned codec)
{
	return codec == MMR_CODEC_OPUS ? MMR_KIND_AUDIO : MMR_KIND_VIDEO;
}
static inline unsigned val_codec_max_tlayers(unsigned codec)
{
	return codec == MMR_CODEC_VP8 || codec == MMR_CODEC_VP9 || codec == MMR_CODEC_AV1 ? MMR_MAX_TLAYERS : 1;
}
static inline unsigned val_codec_max_slayers(unsigned codec)
{
	return codec == MMR_CODEC_VP9 || codec == MMR_CODEC_AV1 ? MEDIA_MAX_SPATIAL : 1;
}

/* RTCP feedback flags (MMR_FB_*, without MMR_FB_RTX) as "nack,pli,fir,rsize,twcc,remb" (any
 * subset, any order, no repeats) or "none"; -1 on bad text. The format writes them in that order. */
int val_fb(const char *s, uint8_t *fb);
#define VAL_FB_STRLEN 32
char *val_fb_fmt(uint8_t fb, char buf[VAL_FB_STRLEN]);
/* An RTX payload-type map "APT:PT[,APT:PT...]" (up to MMR_RTX_MAP_MAX pairs: media payload type
 * 0-127, RTX payload type 1-127, different, no payload type twice) or "-" (none, the format's only);
 * unused pairs zeroed. -1 bad text, -2 too many pairs, -3 a payload type twice. */
int val_rtx_map(const char *s, struct mmr_rtx_pt map[MMR_RTX_MAP_MAX]);
#define VAL_RTX_MAP_STRLEN (MMR_RTX_MAP_MAX * 8 + 2)
char *val_rtx_map_fmt(const struct mmr_rtx_pt map[MMR_RTX_MAP_MAX], char buf[VAL_RTX_MAP_STRLEN]);

/* RTP header extension ids (issue 12), in this order: twcc (transport-wide sequence number),
 * abs-send-time, audio-level, and (issue 13, SSRC learning) mid, rid, rrid (repaired-rid). Text
 * "twcc=ID,abs-send-time=ID,audio-level=ID,mid=ID,rid=ID,rrid=ID" (any subset, any order) or
 * "-"/"none"; ids 1..max_id (14 in the one-byte header form, 255 in the two-byte form).
 * -1 bad text, -2 an id 0 or above max_id, -3 an extension twice, -4 two extensions with one id. */
#define VAL_EXT_N 6
#define VAL_EXT_ONE_BYTE_MAX 14u
#define VAL_EXT_TWO_BYTE_MAX 255u
int val_ext(const char *s, uint8_t ids[VAL_EXT_N], unsigned max_id);
#define VAL_EXT_STRLEN 96
char *val_ext_fmt(const uint8_t ids[VAL_EXT_N], char buf[VAL_EXT_STRLEN]);
const char *val_ext_name(unsigned i);
/* A mid or rid (RFC 8843, RFC 8851): 1..MMR_MID_MAX of A-Z a-z 0-9 - _ . */
bool val_mid_ok(const char *s);

static inline bool val_role_sends(unsigned role)
{
	return role == MMR_ROLE_SENDRECV || role == MMR_ROLE_SENDONLY;
}
static inline bool val_role_receives(unsigned role)
{
	return role == MMR_ROLE_SENDRECV || role == MMR_ROLE_RECVONLY;
}

#endif
