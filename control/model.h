/*
 * model.h - the controller's authoritative picture of the zone: meetings, the participants in
 * them, the streams participants publish, and the subscriptions (stream -> receiving participant)
 * that tell the dataplane who gets a copy of what.
 *
 * Every object lives in a fixed array indexed by its dense id (the id the dataplane is programmed
 * with; a stream id also indexes the per-stream counters). Objects link to each other by id in
 * intrusive doubly-linked lists, kept in creation order:
 *   meeting -> its participants;  participant -> the streams it publishes;
 *   stream -> its subscriptions;  participant -> the subscriptions it receives.
 * Hash indexes answer every lookup a request needs without scanning: meeting by name, participant
 * by (meeting, name) and by (address, UDP port) (unique in the whole controller: the dataplane
 * recognises senders by it), stream by (meeting, SSRC), subscription by (stream, subscriber).
 *
 * Subscriptions follow one rule: every participant that receives (sendrecv, recvonly) subscribes
 * to every stream of every other participant of its meeting, starting at the top: temporal target
 * layers-1, spatial target spatial-1, AV1 decode target spatial*layers-1 (decode targets are
 * numbered dt = sid * layers + tid, libwebrtc's L<S>T<T> order), the highest simulcast encoding;
 * out SSRC = the stream's SSRC. model_participant_join() and model_stream_publish() create them;
 * removing a participant or a stream removes them.
 *
 * Simulcast: the 2 or 3 encodings of one source are streams of one group, published together
 * (model_stream_publish with several SSRCs), lowest quality first, consecutive in the publisher's
 * list and removed together. Each member's `group` is the id of the encoding-0 stream (its own id
 * for encoding 0); a stream outside a group has group MMR_ID_NONE and encoding 0. A receiver's
 * subscriptions to the members of one group share the out SSRC (default: encoding 0's SSRC), the
 * targets, and `sel_id`: the id of its subscription to encoding 0 (the dataplane's per-receiver
 * selection state and current-layers slot); every other subscription's sel_id is its own id.
 *
 * Security is the meeting's: plain RTP or one SRTP suite, fixed at creation. In an SRTP meeting
 * every participant has two master keys of that suite (send_key: it encrypts what it sends, the
 * dataplane decrypts with it; recv_key: the dataplane encrypts its copies, it decrypts), generated
 * by the requests (keys.c) and kept here and in the state file; plain meetings' participants have
 * none (zeroed).
 *
 * RTCP (issue 11): a participant has the feedback it takes (fb, MMR_FB_*: default NACK, PLI, FIR),
 * the RTX payload types of what it receives (rtx_map; MMR_FB_RTX set when not empty) and mmr_ssrc,
 * the SSRC the MMR sends it RTCP under (random, never 0, none of its meeting's stream SSRCs;
 * model_participant_add gives it a stand-in made from its id until one is set). A
 * stream may carry its publisher's RTX SSRC and payload type and its clock rate. A subscription of
 * a receiver with an RTX map has an RTX SSRC (the SSRC its retransmissions reach the receiver
 * under): made by the controller (model_pick_rtx_ssrc) unless set; a simulcast group's members
 * share their encoding-0 subscription's, as they share its out SSRC.
 *
 * Application-layer QoS (issue 12): a participant has the RTP header extension ids it negotiated
 * (transport-wide sequence, abs-send-time, audio level; 0: none) and may take TWCC and REMB
 * feedback (fb); a stream may be a screen share; a subscription has a priority (MMR_PRIO_*: pinned
 * ones are served first by the dataplane's allocator). Its targets are the CEILING of what the
 * allocator may give. A meeting may have top-N audio (top_n 1..MMR_TOPN_MAX): it then has no
 * per-pair audio subscriptions; every receiver instead has top_n slot subscriptions (topn_slot
 * k+1 for slot k, stream MMR_ID_NONE, an out SSRC of its own: picked from `ssrc_seed`, which the
 * requests set from the random generator, and kept), in its receiver's list but in no stream's
 * list and not in the (stream, subscriber) index. Changing top_n adds and removes them and the
 * per-pair audio subscriptions (model_meeting_set_top_n). What the dataplane reports about them
 * (each meeting's dominant speaker, each receiver's bandwidth estimate) is the events' (events.h),
 * like the layers each receiver gets.
 *
 * Receive slots (issue 13): a participant may receive on fixed slots. With video slots (up to
 * MMR_VSLOT_MAX, vslot_sub[k]) it has no per-pair video subscriptions; each video slot is a
 * subscription with video_slot k+1, stream MMR_ID_NONE, its own sel_id and the slot's out and RTX
 * SSRCs (given by the participant, kept), its targets the slot's ceiling and slot_gen its
 * assignment number (1..255, then 1: bumped each time another publisher is put on it); it is in its
 * receiver's list, in no stream's list and not in the index. The publisher stream (or each stream
 * of a simulcast group) on the slot is a subscription to that stream with the slot's video_slot,
 * out/RTX SSRCs, targets and slot_gen and sel_id = the slot's id (in the stream's list and the
 * index; a stream is on at most one slot of a receiver). Removing the stream empties the slot.
 * With audio slots (n_aslots SSRCs) its top-N slot subscriptions use those SSRCs, one per slot
 * below min(top_n, n_aslots).
 *
 * The model also records the id of the dataplane's SRTP index ledger the SRTP keys have been used
 * under (lib/contract/cmd_chan.h). A key used under one ledger must never be used under another: a new ledger
 * knows nothing of the indexes the old one leased (requests.h, request_ledger_check, at attach).
 *
 * SSRC learning (issue 13): a stream a browser announces by mid (and rid) but not by SSRC is added
 * with a random stand-in SSRC (learn MMR_LEARN_MEDIA; unused in its meeting; the index, the
 * subscriptions' out SSRCs and the dataplane's tables use it like any SSRC) until the dataplane
 * reports the real one (MMR_EV_SSRC); model_stream_set_ssrc then re-keys it. The subscriptions keep
 * the stand-in as their out SSRC: receivers see no change. Its RTX SSRC is learned the same way
 * (MMR_LEARN_RTX; 0 until then).
 *
 * The mutators do not check their arguments beyond what the caller promised: requests validate
 * first and reserve capacity (model_reserve), then mutate, so a failed request changes nothing.
 */
#ifndef MMR_MODEL_H
#define MMR_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include "cmd_chan.h"
#include "mmr_types.h"
#include "srtp_master.h"
#include "id_index.h"
#include "id_pool.h"
#include "values.h"

#define MODEL_MAX_MEETINGS MMR_MAX_PARTICIPANTS

struct m_meeting {
	bool used;
	uint8_t srtp_suite;                 /* enum srtp_suite; SRTP_SUITE_NONE: plain RTP */
	char name[VAL_NAME_MAX + 1];
	uint32_t first_part, last_part;     /* participants, in join order */
	uint32_t n_parts, n_receivers, n_streams, n_subs;
	uint8_t top_n;                      /* 0: off; 1..MMR_TOPN_MAX: top-N audio (above) */
	/* meeting controls (issue 15, below) */
	bool waiting_room;                  /* new participants wait until admitted */
	bool unmute_forbidden;              /* self_unmute forbidden (checked by the API layer) */
	bool share_host_only;               /* only hosts may share their screen */
	bool locked;                        /* no new joins */
	uint8_t max_sharers;                /* 0: no limit */
};

struct m_participant {
	bool used;
	uint8_t role;                       /* enum mmr_role */
	uint8_t has_mac;
	uint8_t mac[6];
	uint16_t udp_port, dp_port;
	uint32_t meeting;
	uint32_t prev, next;                /* in the meeting's list */
	uint32_t first_stream, last_stream; /* streams it publishes */
	uint32_t first_rsub, last_rsub;     /* subscriptions it receives */
	uint32_t n_streams, n_rsubs;
	struct mmr_addr addr;
	char name[VAL_NAME_MAX + 1];
	struct srtp_master send_key;        /* SRTP meetings only (see above); zero otherwise */
	struct srtp_master recv_key;
	uint8_t fb;                         /* MMR_FB_* (RTCP, above) */
	uint32_t mmr_ssrc;
	struct mmr_rtx_pt rtx_map[MMR_RTX_MAP_MAX];
	uint8_t twcc_ext_id, abs_ext_id, level_ext_id;  /* header extension ids (issue 12); 0: none */
	uint8_t mid_ext_id, rid_ext_id, rrid_ext_id;    /* mid, rid, repaired-rid (SSRC learning); 0: none */
	/* ICE-lite (issue 13): the MMR's ice-ufrag and ice-pwd for it (ice 0: none). With ice, port 0
	 * (address 0.0.0.0) is "no address yet": the dataplane learns one from its checks. The pwd is
	 * key material: never printed, wiped when freed. */
	uint8_t ice, ice_ufrag_len, ice_pwd_len;
	char ice_ufrag[MMR_ICE_UFRAG_MAX];
	char ice_pwd[MMR_ICE_PWD_MAX];
	/* DTLS-SRTP (issue 13): dtls 1: its SRTP keys come from its DTLS handshake with the dataplane
	 * (send_key/recv_key stay zero here and are never printed); dtls_role the MMR's (enum
	 * mmr_dtls_role), dtls_fp the SHA-256 fingerprint its certificate must have. Needs ice and an
	 * SRTP meeting. Persisted. dtls_state/fail/suite: what the dataplane last reported (MMR_EV_DTLS;
	 * not persisted: MMR_DTLS_WAITING until it reports). */
	uint8_t dtls, dtls_role;
	uint8_t dtls_fp[MMR_DTLS_FP_LEN];
	uint8_t dtls_state, dtls_fail, dtls_suite;
	/* receive slots (issue 13, above) */
	uint8_t n_vslots, n_aslots;
	uint32_t vslot_sub[MMR_VSLOT_MAX];  /* slot k's subscription (MMR_ID_NONE beyond n_vslots) */
	uint32_t aslot_ssrc[MMR_TOPN_MAX];  /* audio slot k's SSRC */
	/* meeting controls (issue 15, below) */
	bool waiting;                       /* in the waiting room: not admitted yet */
	bool host;                          /* may share when the meeting's share policy is host_only */
	uint8_t mute;                       /* MMR_BLOCK_AUDIO|VIDEO|SCREEN: muted kinds */
	uint8_t block_sent;                 /* the block the dataplane was last given (not persisted) */
	/* self-unmute (issue 15, the HTTP API; not persisted: lost with a restart or a reload, when
	 * every mute counts as a host's): of the muted kinds, those the participant muted itself, and
	 * those a host asked it to unmute (it may, once, even where self-unmute is forbidden) */
	uint8_t self_mute, unmute_ok;
};

struct m_stream {
	bool used;
	uint8_t kind, codec, layers;        /* enum mmr_media_kind, enum mmr_codec, 1..MMR_MAX_TLAYERS */
	uint8_t spatial;                    /* spatial layers: 1..MEDIA_MAX_SPATIAL (VP9, AV1), else 1 */
	uint8_t encoding;                   /* simulcast encoding, 0 = lowest; 0 outside a group */
	uint8_t dd_ext_id;                  /* AV1: the Dependency Descriptor's RTP header extension id; else 0 */
	uint32_t group;                     /* encoding 0's stream id, MMR_ID_NONE: not simulcast */
	uint32_t participant;               /* publisher */
	uint32_t ssrc;
	uint32_t prev, next;                /* in the publisher's list */
	uint32_t first_sub, last_sub;       /* subscriptions to it */
	uint32_t n_subs;
	uint8_t rtx_pt;                     /* the publisher's RTX payload type; 0: no RTX */
	uint32_t rtx_ssrc;                  /* the publisher's RTX SSRC for it; 0: none */
	uint32_t clock_hz;                  /* RTP clock rate */
	uint8_t screen;                     /* a screen share (issue 12) */
	/* SSRC learning (issue 13, see above): the publisher's mid for it ("" none) and rid ("" none),
	 * and what is not known yet (MMR_LEARN_MEDIA: `ssrc` is a stand-in, MMR_LEARN_RTX: rtx_ssrc
	 * is 0 though rtx_pt is set) */
	uint8_t learn;
	char mid[MMR_MID_MAX + 1];
	char rid[MMR_MID_MAX + 1];
};

struct m_sub {
	bool used;
	uint8_t target;                     /* highest temporal layer forwarded (VP8, VP9) */
	uint8_t target_sid;                 /* highest spatial layer forwarded (VP9) */
	uint8_t target_dt;                  /* decode target (AV1) */
	uint8_t target_encoding;            /* simulcast encoding forwarded */
	uint32_t stream, subscriber, out_ssrc;
	uint32_t sel_id;                    /* see above: its own id, or its group's encoding-0 subscription's */
	uint32_t rtx_ssrc;                  /* the receiver's RTX SSRC for it (RTCP, above); 0: none */
	uint8_t priority;                   /* MMR_PRIO_* (issue 12) */
	uint8_t topn_slot;                  /* 0: a subscription to `stream`; k+1: top-N audio slot k
					       (stream MMR_ID_NONE, above) */
	uint8_t video_slot;                 /* k+1: video slot k itself (stream MMR_ID_NONE) or a stream on it */
	uint8_t slot_gen;                   /* video slot: its assignment number (above); 0: none */
	uint32_t s_prev, s_next;            /* in the stream's list (not for a slot) */
	uint32_t r_prev, r_next;            /* in the subscriber's list */
};

/* What a stream is, beyond who publishes it under which SSRC. */
struct m_stream_desc {
	uint8_t kind, codec, layers, spatial, dd_ext_id, encoding;
	uint32_t group;                     /* MMR_ID_NONE, or (loading) the group's encoding-0 stream */
	uint8_t rtx_pt;                     /* 0: no RTX */
	uint32_t rtx_ssrc[MEDIA_MAX_ENCODINGS]; /* by encoding (0 outside a group); 0: none */
	uint32_t clock_hz;                  /* 0: MMR_CLOCK_VIDEO_HZ / MMR_CLOCK_AUDIO_HZ by kind */
	uint8_t screen;                     /* a screen share */
};

/* A subscription's layer targets. */
struct m_target {
	uint8_t tid, sid, dt, encoding;
};

/* An identity ejected from a meeting (issue 15): it may not join it again (model_banned). */
struct m_ban {
	uint32_t meeting;
	char name[VAL_NAME_MAX + 1];
};
#define MODEL_MAX_BANS 4096u

struct model {
	struct m_ban *bans;                 /* [MODEL_MAX_BANS], the first n_bans used */
	uint32_t n_bans;
	struct m_meeting *meetings;         /* [MODEL_MAX_MEETINGS] */
	struct m_participant *parts;        /* [MMR_MAX_PARTICIPANTS] */
	struct m_stream *streams;           /* [MMR_MAX_STREAMS] */
	struct m_sub *subs;                 /* [MMR_MAX_SUBS] */
	struct id_pool meeting_ids, part_ids, stream_ids, sub_ids;
	struct id_index meeting_by_name, part_by_name, part_by_addr, stream_by_ssrc, sub_by_pair;
	uint32_t n_meetings, n_parts, n_streams, n_subs;
	/* The dataplane SRTP ledger the participants' current keys have been used under (see above);
	 * has_ledger false: none recorded (no dataplane seen yet, or a state file from before ledgers:
	 * ledger_unknown).
	 * ledger_rekeyed: when every SRTP participant last got new keys because the ledger changed
	 * (Unix time, s; 0: never). */
	bool has_ledger;
	bool ledger_unknown;             /* no ledger recorded and loaded from a state file older than
					    ledgers (version < 4): its keys may have been used under one */
	uint8_t ledger_id[MMR_SRTP_LEDGER_ID_LEN];
	int64_t ledger_rekeyed;
	/* The lineage of this state (lib/contract/cmd_chan.h, version 7; dp_link.h): its id (random, made with
	 * the state: a missing state file, or one from before ids), the fencing token of the last
	 * controller that drove a dataplane with it (state_token; 0: none yet), and how many changes it
	 * has had (state_changes: one more at every saved request). All three are in the state file;
	 * SYNC_BEGIN carries the id, every command the count. A dataplane whose tables come from another
	 * lineage, or from more changes, is not wiped. has_state_id false: none yet (model_init). */
	bool has_state_id;
	uint8_t state_id[MMR_STATE_ID_LEN];
	uint64_t state_token;
	uint64_t state_changes;
	/* where top-N slots' out SSRCs come from (above): the requests set it from the random
	 * generator before a change that makes slots; any value works (tests set their own) */
	uint32_t ssrc_seed;
};

/* Set up an empty model (the arrays are reserved, not touched); 0 or -ENOMEM. */
int model_init(struct model *m);
void model_free(struct model *m);

/* Lookups; MMR_ID_NONE when absent. */
uint32_t model_find_meeting(const struct model *m, const char *name);
uint32_t model_find_participant(const struct model *m, uint32_t meeting, const char *name);
uint32_t model_find_participant_by_addr(const struct model *m, const struct mmr_addr *addr, uint16_t port);
/* The participant whose ICE ufrag is ufrag (len bytes); MMR_ID_NONE: none. A scan. */
uint32_t model_find_participant_by_ufrag(const struct model *m, const char *ufrag, size_t len);
/* A participant's address and port change (port 0: none, an ICE participant's; the index follows). */
void model_participant_set_addr(struct model *m, uint32_t id, const struct mmr_addr *addr, uint16_t port);
/* A participant's DTLS settings (dtls false: none; its reported state back to waiting/none). */
void model_participant_set_dtls(struct model *m, uint32_t id, bool dtls, unsigned role, const uint8_t *fp);
/* A participant's ICE credentials (ulen 0: none); the old pwd wiped. */
void model_participant_set_ice(struct model *m, uint32_t id, const char *ufrag, size_t ulen, const char *pwd,
			       size_t plen);
uint32_t model_find_stream(const struct model *m, uint32_t meeting, uint32_t ssrc);
uint32_t model_find_sub(const struct model *m, uint32_t stream, uint32_t subscriber);

/* Room for this many more objects of each kind (ids and index capacity). 0, or -ENOSPC with
 * *what set to the kind that ran out ("meetings", ...), or -ENOMEM. */
int model_reserve(struct model *m, uint32_t meetings, uint32_t parts, uint32_t streams, uint32_t subs,
		  const char **what);

/* Subscriptions that joining/publishing would create. */
uint32_t model_join_sub_count(const struct model *m, uint32_t meeting, unsigned role);
uint32_t model_publish_sub_count(const struct model *m, uint32_t participant);

/* Mutators. `id` MMR_ID_NONE allocates one; a given id (loading saved state) must be free and in range;
 * the id pools are then rebuilt with model_rebuild_pools(). Each returns the object's id. */
uint32_t model_meeting_add(struct model *m, uint32_t id, const char *name, unsigned srtp_suite);
uint32_t model_participant_add(struct model *m, uint32_t id, uint32_t meeting, const char *name,
			       const struct mmr_addr *addr, uint16_t port, unsigned role,
			       const uint8_t *mac, uint16_t dp_port);
/* d->group MMR_ID_NONE: not simulcast; else the group's encoding-0 stream id, or for encoding 0
 * (d->encoding 0) any value but MMR_ID_NONE: the stream's own id is used. */
uint32_t model_stream_add(struct model *m, uint32_t id, uint32_t participant, uint32_t ssrc,
			  const struct m_stream_desc *d);
/* sel_id MMR_ID_NONE: the subscription's own id. */
uint32_t model_sub_add(struct model *m, uint32_t id, uint32_t stream, uint32_t subscriber,
		       const struct m_target *t, uint32_t out_ssrc, uint32_t sel_id);
/* Cascading (issue 16, zone_cascade.h): a participant named MODEL_TRUNK_PREFIX + HOST is the trunk to
 * host HOST of the zone. It publishes the streams that host's participants send and receives this
 * host's own; a trunk is never subscribed by default to another trunk's streams (every stream crosses
 * once, from its own host to each other host). The prefix is reserved: participant add --trunk only. */
#define MODEL_TRUNK_PREFIX "_trunk."
bool model_is_trunk(const char *name);

/* Add a participant and its default subscriptions to every other sender's streams. */
uint32_t model_participant_join(struct model *m, uint32_t meeting, const char *name,
				const struct mmr_addr *addr, uint16_t port, unsigned role,
				const uint8_t *mac, uint16_t dp_port);
/* Add n streams (1, or 2..MEDIA_MAX_ENCODINGS: a simulcast group, ssrcs lowest encoding first) and
 * every other receiver's default subscriptions to them. d->group and d->encoding are ignored.
 * Returns the first (encoding 0) stream's id. */
uint32_t model_stream_publish(struct model *m, uint32_t participant, const uint32_t *ssrcs, unsigned n,
			      const struct m_stream_desc *d);
/* Set a participant's RTCP feedback flags (MMR_FB_RTX is made from the map), RTX map and mmr_ssrc;
 * the subscriptions it receives get RTX SSRCs (model_pick_rtx_ssrc) when it has an RTX map and
 * lose them when it has none. */
void model_participant_set_rtcp(struct model *m, uint32_t id, uint8_t fb, uint32_t mmr_ssrc,
				const struct mmr_rtx_pt map[MMR_RTX_MAP_MAX]);
/* An SSRC for receiver r's view that none of its meeting's streams, none of r's subscriptions and
 * not r's mmr_ssrc use; not 0. Made from seed (deterministic). */
uint32_t model_pick_rtx_ssrc(const struct model *m, uint32_t r, uint32_t seed);
/* The next non-zero SSRC of the deterministic sequence *x (advanced). */
uint32_t model_ssrc_from(uint32_t *x);
/* Is ssrc one that receiver r sees, or that we send it RTCP under (its subscriptions' out and RTX
 * SSRCs but `except`'s group's, its mmr_ssrc)? */
bool model_view_ssrc_taken(const struct model *m, uint32_t r, uint32_t ssrc, uint32_t except);
/* The participant of meeting whose mmr_ssrc is ssrc; MMR_ID_NONE: none (a scan of the meeting). */
uint32_t model_find_mmr_ssrc(const struct model *m, uint32_t meeting, uint32_t ssrc);
/* The stream of meeting whose publisher's RTX SSRC is ssrc; MMR_ID_NONE: none (a scan). */
uint32_t model_find_rtx_ssrc(const struct model *m, uint32_t meeting, uint32_t ssrc);
/* ---- top-N audio (issue 12) ---- */
/* Add slot subscription `slot` (0-based) of receiver r with out_ssrc (loading; requests use
 * model_meeting_set_top_n and model_participant_join). */
uint32_t model_slot_add(struct model *m, uint32_t id, uint32_t r, unsigned slot, uint32_t out_ssrc);
/* Receiver r's subscription to slot `slot` (0-based); MMR_ID_NONE: none. */
uint32_t model_find_slot(const struct model *m, uint32_t r, unsigned slot);
/* How many subscriptions setting meeting's top_n to n would add and remove. */
void model_topn_change_count(const struct model *m, uint32_t meeting, unsigned n, uint32_t *add,
			     uint32_t *remove);
/* The subscriptions that change would remove, into out (room for the count above). */
void model_topn_removals(const struct model *m, uint32_t meeting, unsigned n, uint32_t *out);
/* Set meeting's top_n to n: removes the slots >= n (all when n is 0) and, from off to on, every
 * per-pair audio subscription; adds the missing slots < n of every receiver and, from on to off,
 * every receiver's audio subscriptions. The added subscriptions' ids go to added (room for the
 * count above; NULL: not wanted); returns how many. */
uint32_t model_meeting_set_top_n(struct model *m, uint32_t meeting, unsigned n, uint32_t *added);
/* Does a stream of kind `kind` in meeting get per-pair subscriptions (not audio in a top-N meeting)? */
static inline bool model_stream_subscribed(const struct model *m, uint32_t meeting, uint8_t kind)
{
	return !(kind == MMR_KIND_AUDIO && m->meetings[meeting].top_n);
}
/* The subscriptions stream s must have: one per other receiver of its meeting, or none. */
uint32_t model_stream_sub_count(const struct model *m, uint32_t s);

/* SSRC learning: stream s's SSRC becomes ssrc (the index follows; its subscriptions keep their out
 * SSRCs) and MMR_LEARN_MEDIA is cleared; model_stream_set_rtx: its RTX SSRC, MMR_LEARN_RTX cleared.
 * The caller checked that no other stream, RTX or view of the meeting uses it. */
void model_stream_set_ssrc(struct model *m, uint32_t s, uint32_t ssrc);
void model_stream_set_rtx(struct model *m, uint32_t s, uint32_t rtx_ssrc);
/* Participant p's streams still learning, as the dataplane gets them (struct mmr_learn); returns
 * how many (at most max). */
unsigned model_learn_table(const struct model *m, uint32_t p, struct mmr_learn *out, unsigned max);
/* The encoding a subscription to (a member of) s's group with ceiling `encoding` is given while the
 * group learns its SSRCs: the highest learned encoding not above the ceiling; the ceiling itself
 * when none is learned yet, or outside a group. */
uint8_t model_learned_encoding(const struct model *m, uint32_t s, uint8_t encoding);
/* A participant's extension ids in val_ext order (values.h): read, and set. */
void model_participant_ext_ids(const struct m_participant *pp, uint8_t ids[VAL_EXT_N]);
void model_participant_set_ext_ids(struct m_participant *pp, const uint8_t ids[VAL_EXT_N]);
/* ---- receive slots (issue 13) ---- */
/* Has no stream behind it (a top-N or a video slot itself)? */
static inline bool model_sub_streamless(const struct m_sub *b)
{
	return b->stream == MMR_ID_NONE;
}
/* Give participant id (just joined) its receive slots: n_v video slots with their SSRCs (v_rtx[k]
 * 0: none) instead of its per-pair video subscriptions, n_a audio slots (its top-N slots use those
 * SSRCs; none beyond n_a). */
void model_participant_set_slots(struct model *m, uint32_t id, unsigned n_v, const uint32_t *v_ssrc,
				 const uint32_t *v_rtx, unsigned n_a, const uint32_t *a_ssrc);
/* Add video slot k (0-based) of receiver r with its SSRCs (rtx_ssrc 0: none), empty, targets 0. */
uint32_t model_vslot_add(struct model *m, uint32_t id, uint32_t r, unsigned k, uint32_t out_ssrc,
			 uint32_t rtx_ssrc);
/* Put stream s (one stream; a simulcast group is one call per member, encoding 0 first) on video
 * slot `slot` (the slot's subscription id): a subscription with the slot's SSRCs, targets, gen. */
uint32_t model_vslot_member_add(struct model *m, uint32_t id, uint32_t s, uint32_t slot);
/* The subscriptions of the streams on video slot `slot` (up to MEDIA_MAX_ENCODINGS, encoding 0
 * first) into out; returns how many (0: empty). */
unsigned model_vslot_members(const struct model *m, uint32_t slot, uint32_t *out);
/* The video slot of receiver r that stream s is on; MMR_ID_NONE: none. */
uint32_t model_vslot_of_stream(const struct model *m, uint32_t r, uint32_t s);
/* The next assignment number after g (1..255, 0 skipped). */
static inline uint8_t model_slot_gen_next(uint8_t g)
{
	return (uint8_t)(g == 255 ? 1 : g + 1);
}
/* How many top-N slots receiver r has in a meeting with top_n n: n, or at most its audio slots. */
static inline unsigned model_topn_slots_of(const struct m_participant *r, unsigned n)
{
	return r->n_aslots && r->n_aslots < n ? r->n_aslots : n;
}
/* The out SSRC of receiver r's top-N slot k: its audio slot's, else one picked from the seed. */
uint32_t model_topn_slot_ssrc(const struct model *m, uint32_t r, unsigned k);

/* ---- meeting controls (issue 15) ----
 * A meeting may have a waiting room (participants added to it wait until admitted: nothing from
 * them is forwarded, nothing goes to them), forbid self-unmute (recorded for the API layer), limit
 * screen sharing (host_only: hosts only; max_sharers N: the first N allowed participants in join
 * order that publish a screen stream), and be locked (no new joins). A participant may be muted per
 * kind (audio, camera video, screen). The dataplane enforces all of it from one byte per
 * participant (model_participant_block, PARTICIPANT_PUT.block). An ejected identity is banned from
 * its meeting (model_ban_add) until the meeting ends. */
/* The block byte (MMR_BLOCK_*) the dataplane must have for participant p now. */
uint8_t model_participant_block(const struct model *m, uint32_t p);
/* The participants of meeting whose block differs from block_sent, into out (room for n_parts);
 * their block_sent is updated. Returns how many. */
uint32_t model_block_changes(struct model *m, uint32_t meeting, uint32_t *out);
/* Is identity `name` banned from meeting? */
bool model_banned(const struct model *m, uint32_t meeting, const char *name);
/* Ban it (idempotent); 0, or -ENOSPC (MODEL_MAX_BANS reached). */
int model_ban_add(struct model *m, uint32_t meeting, const char *name);

/* Set (or replace) a participant's SRTP keys. */
void model_participant_set_keys(struct model *m, uint32_t id, const struct srtp_master *send_key,
				const struct srtp_master *recv_key);
/* Removals cascade: meeting -> participants -> streams -> subscriptions. model_stream_remove()
 * removes one stream; model_group_remove() a stream with the rest of its simulcast group. */
void model_meeting_remove(struct model *m, uint32_t id);
void model_participant_remove(struct model *m, uint32_t id);
void model_stream_remove(struct model *m, uint32_t id);
void model_group_remove(struct model *m, uint32_t id);
void model_sub_remove(struct model *m, uint32_t id);
void model_rebuild_pools(struct model *m);

/* Id bound for iterating every object of a kind: ids below it may be used. */
static inline uint32_t model_meeting_bound(const struct model *m) { return m->meeting_ids.fresh; }
static inline uint32_t model_part_bound(const struct model *m) { return m->part_ids.fresh; }
static inline uint32_t model_stream_bound(const struct model *m) { return m->stream_ids.fresh; }
static inline uint32_t model_sub_bound(const struct model *m) { return m->sub_ids.fresh; }

/* Simulcast: the first stream of the group `s` is in (s itself outside a group), the number of
 * streams in it (1 outside a group), and the default target of a subscription to s. */
static inline uint32_t model_group_head(const struct model *m, uint32_t s)
{
	return m->streams[s].group == MMR_ID_NONE ? s : m->streams[s].group;
}
unsigned model_group_size(const struct model *m, uint32_t s);
void model_default_target(const struct model *m, uint32_t s, struct m_target *t);

/* The meeting a stream or subscription belongs to. */
static inline uint32_t model_stream_meeting(const struct model *m, uint32_t stream)
{
	return m->parts[m->streams[stream].participant].meeting;
}

#endif
