/*
 * cmd_chan.h - the shared-memory segment between mmr-controller and mmr-dataplane.
 *
 * Ownership: the DATAPLANE creates the segment (POSIX shm, mode 0600, name from its config,
 * default "/mmr-dp0") when it starts, writes a fresh random epoch into it, and unlinks/recreates it
 * on every start. The CONTROLLER only opens and maps an existing segment. So:
 *   - controller dies: the segment and the dataplane's tables live on, forwarding goes on; a new
 *     controller maps the same segment, sees the same epoch and resynchronises (SYNC_BEGIN, every
 *     object as an idempotent PUT, SYNC_END) without disturbing anything that did not change.
 *   - dataplane dies: its tables die with it; the restarted dataplane creates a new segment with a
 *     new epoch; the controller notices (epoch changed or heartbeat stale), remaps and replays its
 *     whole state the same way.
 *
 * The command ring is single-producer (controller) single-consumer (dataplane control thread):
 * the producer writes a slot, then release-stores `tail`; the consumer acquire-loads `tail`,
 * applies slots in order, then release-stores `head` and `applied_seq`. A producer that dies
 * half-way through writing a slot never published it. Sequence numbers are per epoch: the
 * controller's n-th command carries seq n (the slot index is seq % MMR_CMD_RING).
 *
 * Liveness, both ways: each side stores CLOCK_MONOTONIC nanoseconds into its heartbeat about every
 * 100 ms; a heartbeat older than MMR_HEARTBEAT_DEAD_NS means the other side is gone.
 *
 * Keys: a PARTICIPANT_PUT of an SRTP meeting carries the participant's SRTP master keys (version 2).
 * The segment is mode 0600 (only the two processes' user reads it); the dataplane wipes the key
 * bytes of a ring slot once it has copied the command out, so keys do not linger in the ring.
 *
 * SRTP positions: the dataplane publishes where each SRTP context is (its rollover counter and the
 * half of the sequence space, `srtp_index`, see srtp_fast.h) in the counters area, per stream
 * (inbound) and per subscription (outbound), for `mmrctl stats` (srtp_roc) only. The commands carry
 * no positions (version 5): a restarted dataplane resumes each context from its own ledger of
 * index leases (srtp_ledger.h, docs/design.md "SRTP indexes: never twice"). The header carries that
 * ledger's id, so that the controller can tell when the ledger its keys were used under is gone.
 *
 * One driver, and no wipe by mistake (version 7, docs/design.md "One controller, and no wipe by
 * mistake"):
 *   - Fencing: `owner_token` is the fencing token of the controller that drives the dataplane. A
 *     controller takes over by a compare-and-swap of it to the value it read plus one
 *     (cmd_chan_take_over), only after it saw the previous owner's heartbeat stale (or when forced),
 *     and then stamps it on every command it pushes. The dataplane refuses every command whose token
 *     is not the current owner_token (counted in `rejected` and `stale_refused`, reason in last_error),
 *     so a controller that was stopped while another took over changes nothing when it wakes; it sees
 *     owner_token moved and stops driving. Producers publish a slot with a compare-and-swap of `tail`
 *     (a stale producer never moves tail backwards), and the dataplane refuses a slot whose seq is not
 *     its position (a slot written over by a stale producer).
 *   - State id: every SYNC_BEGIN carries the 128-bit id of the controller state it replays (random,
 *     made with the controller's state, kept in its state file), every command the number of changes
 *     that state has had (`changes`). The dataplane records the id in `state_id` when it applies
 *     SYNC_BEGIN, the count of every command it applies in `state_changes`, and publishes how many
 *     objects its tables hold after every batch (`n_participants`, `n_streams`, `n_subs`). A
 *     controller replays (and so deletes what it does not know) only onto tables that are empty, or
 *     were built from its own state id, by the owner token its state file records, at no more
 *     changes than its state has (control/dp_link.h).
 *
 * Events (version 8): what the dataplane learns goes to the controller as events in lockless
 * per-lcore rings (event_ring.h), not as per-object words in the counters area: today the layers
 * each receiver gets now (MMR_EV_LAYERS). The controller keeps the values in its own memory; a
 * controller that attaches asks for a snapshot (ev_snap_req below) to learn them all again.
 */
#ifndef MMR_CMD_CHAN_H
#define MMR_CMD_CHAN_H

#include <stddef.h>
#include <stdint.h>
#include <stdatomic.h>
#include "mmr_types.h"
#include "event_ring.h"
#include "srtp_master.h"
#include "stats.h"

#define MMR_SHM_MAGIC         0x4d4d5253u  /* "MMRS" */
#define MMR_SHM_VERSION       16u        /* 2: SRTP suite and keys in PARTICIPANT_PUT;
					      3: SRTP positions (srtp_index) in the counters and PUTs;
					      4: VP9/AV1/H.264, spatial layers, simulcast groups, decode
					         targets, current layers in the counters;
					      5: SRTP index leases (drop reasons srtp_reuse, srtp_lease);
					         PUTs carry no SRTP positions; the ledger id in the header;
					      6: lcore counter `cycles` (the base of busy %);
					      7: fencing token in the header and in every command, the
					         state id in SYNC_BEGIN/END and the header, change counts,
					         object counts;
					      8: event rings (current layers as events, no sub_layers[]),
					         snapshot request, control-thread counters;
					      9: meeting owners (MEETING_MOVE, meeting_owner[], hand-off
					         counters and drop reasons, slow iterations, rte_flow rule
					         counters);
					      10: RTCP termination and repair (feedback flags, mmr_ssrc and
					         RTX map in PARTICIPANT_PUT, RTX SSRC/PT and clock rate in
					         STREAM_PUT, RTX SSRC in SUB_PUT, RTCP counters per stream,
					         participant and lcore, RTCP drop reasons);
					      11: application-layer QoS (issue 12): TWCC/REMB feedback flags,
					         header extension ids in PARTICIPANT_PUT, screen in
					         STREAM_PUT, priority and top-N slot in SUB_PUT,
					         MEETING_PUT/DEL, BWE/allocation/audio counters, layer
					         rates, meeting_speaker[], drop reasons paused/topn,
					         events SPEAKER and BWE;
					      12: over-use and probe counters per participant;
					      13: ICE-lite (issue 13): ICE credentials in PARTICIPANT_PUT
					         (a participant with them may have no address: port 0),
					         STUN counters and drop reasons, events ADDRESS and
					         CONSENT, consent counter;
					      14: SSRC learning: mid/rid/repaired-rid extension ids and
					         pending streams in PARTICIPANT_PUT, event SSRC, drop
					         reason ssrc_learning; DTLS-SRTP (issue 13): dtls, role and
					         peer fingerprint in PARTICIPANT_PUT, the dataplane's
					         certificate fingerprint in the header, event DTLS, DTLS
					         counters and drop reasons; receive slots (issue 13):
					         video_slot and slot_gen in SUB_PUT, slot counters per lcore;
					      15: drop reason ssrc_learn_auth;
					      16: meeting controls (issue 15): block in PARTICIPANT_PUT,
					         drop reasons not_admitted, muted, share_denied;
					         policing (issue 15): drop reason and participant
					         counter policed; input checks (issue 15):
					         drop reasons udp_checksum, vlan, dst_mac;
					         neighbour resolution (issue 14): drop reasons
					         neigh_unresolved, neigh_full, neigh_* control counters */
#define MMR_SHM_LAYOUT        0xa605308d155b7d1dull /* the layout of this version (see the check below) */
#define MMR_CMD_RING          4096u        /* power of two */
#define MMR_HEARTBEAT_NS      100000000ull /* 100 ms */
#define MMR_HEARTBEAT_DEAD_NS 1000000000ull /* 1 s */
#define MMR_SHM_DEFAULT_NAME  "/mmr-dp0"
#define MMR_SRTP_LEDGER_ID_LEN 16          /* = SRTP_LEDGER_ID_LEN (srtp_ledger.h) */
#define MMR_STATE_ID_LEN      16           /* a controller state's id (version 7) */
/* event rings (event_ring.h): one per worker lcore slot (events[i]: worker i, the index of its
 * stats.lcore slot), and the last one the dataplane's control thread's */
#define MMR_EV_RINGS          (MMR_MAX_LCORES + 1u)
#define MMR_EV_RING_CTL       MMR_MAX_LCORES

enum mmr_cmd_op {
	MMR_CMD_NOP = 0,
	MMR_CMD_SYNC_BEGIN,        /* start of a full replay; u.sync.gen is the new generation,
				      u.sync.state_id the controller state replayed (recorded) */
	MMR_CMD_SYNC_END,          /* end of replay: delete every object not PUT since SYNC_BEGIN(gen) */
	MMR_CMD_PARTICIPANT_PUT,   /* create or update (idempotent) */
	MMR_CMD_PARTICIPANT_DEL,   /* also deletes its streams and every subscription to or from it */
	MMR_CMD_STREAM_PUT,
	MMR_CMD_STREAM_DEL,        /* also deletes its subscriptions */
	MMR_CMD_SUB_PUT,           /* create, or update the layer target keeping the forwarding state */
	MMR_CMD_SUB_DEL,
	MMR_CMD_MEETING_MOVE,      /* move a meeting to another worker lcore, no packet lost (version 7) */
	MMR_CMD_MEETING_PUT,       /* a meeting's settings (top-N audio), create or update (version 11) */
	MMR_CMD_MEETING_DEL,       /* back to the defaults (top_n 0); u.del.id is the meeting id */
	MMR_CMD__COUNT
};

struct mmr_cmd_participant {
	uint32_t id;               /* < MMR_MAX_PARTICIPANTS */
	uint32_t meeting_id;
	struct mmr_addr addr;      /* where its media comes from and goes to */
	uint16_t udp_port;         /* host byte order */
	uint16_t dp_port;          /* DPDK port index it is reached through */
	uint8_t  mac[6];           /* next-hop MAC for its copies; used when has_mac, else the port's gateway MAC */
	uint8_t  has_mac;
	uint8_t  role;             /* enum mmr_role */
	/* SRTP (version 2). srtp_suite is the meeting's (enum srtp_suite; SRTP_SUITE_NONE = plain RTP,
	 * the keys are then ignored); every participant of a meeting has the same one. */
	uint8_t  srtp_suite;
	uint8_t  fb;               /* MMR_FB_* (version 10): the RTCP feedback it takes */
	uint8_t  twcc_ext_id;      /* (version 11) its transport-wide sequence number header extension id:
				      read in what it publishes, stamped in what it receives; 0: none */
	uint8_t  abs_ext_id;       /* (version 11) its abs-send-time header extension id; 0: none */
	struct srtp_master send_key; /* the participant encrypts with it; the dataplane decrypts with it */
	struct srtp_master recv_key; /* the dataplane encrypts the participant's copies with it */
	/* RTCP (version 10) */
	uint32_t mmr_ssrc;         /* the SSRC the MMR sends its RTCP to this participant under (RR, NACK,
				      PLI, FIR); random, never 0, none of its own SSRCs */
	struct mmr_rtx_pt rtx_map[MMR_RTX_MAP_MAX];  /* RTX payload types of what it receives */
	uint8_t  level_ext_id;     /* (version 11) its audio level (RFC 6464) header extension id; 0: none.
				      Extension ids: 1..14 (one-byte form) or 1..255 (two-byte form) */
	/* ICE-lite (version 13): the MMR's own ice-ufrag and ice-pwd for this participant (what the SDP
	 * answer carries): its connectivity checks are answered with them, and its address is learned
	 * from them. ice 0: none (the lengths 0, the bytes zero). With ice, udp_port 0 (address
	 * 0.0.0.0 or ::) means no address yet: nothing is sent to it. */
	uint8_t  ice;
	uint8_t  ice_ufrag_len;    /* MMR_ICE_UFRAG_MIN..MAX */
	uint8_t  ice_pwd_len;      /* MMR_ICE_PWD_MIN..MAX */
	char     ice_ufrag[MMR_ICE_UFRAG_MAX];   /* ICE characters (A-Z a-z 0-9 + /), not terminated */
	char     ice_pwd[MMR_ICE_PWD_MAX];       /* key material: wiped where freed */
	/* SSRC learning (version 14): its mid, rid and repaired-rid header extension ids (0: none)
	 * and its streams whose SSRCs are not known yet (mmr_types.h, struct mmr_learn): a packet of
	 * an unknown SSRC carrying one's mid (and rid, or repaired-rid for its RTX) is reported
	 * (MMR_EV_SSRC, event_ring.h) and dropped (ssrc_learning) */
	uint8_t  mid_ext_id;
	uint8_t  rid_ext_id;
	uint8_t  rrid_ext_id;
	uint8_t  n_learn;          /* 0..MMR_LEARN_MAX */
	struct mmr_learn learn[MMR_LEARN_MAX];
	/* DTLS-SRTP (version 14): dtls 1: the participant's SRTP keys come from a DTLS handshake on the
	 * media port (dataplane/dtls_path.h), not from this command: send_key and recv_key are ignored
	 * (zero), and a PUT with the same role and fingerprint keeps the keys the handshake gave. Needs
	 * ice and an SRTP suite. dtls_role: the MMR's (enum mmr_dtls_role); dtls_fp: the SHA-256
	 * fingerprint the peer's certificate must have (its SDP's a=fingerprint). dtls 0: all zero. */
	uint8_t  dtls;
	uint8_t  dtls_role;
	uint8_t  dtls_fp[MMR_DTLS_FP_LEN];
	/* Meeting controls (version 16, issue 15): what the dataplane must not forward of or to this
	 * participant, MMR_BLOCK_* (mmr_types.h): the controller's decision (waiting room, mutes, screen
	 * share policy), applied at once on every PUT (a byte the owning lcore reads per packet) */
	uint8_t  block;
};

struct mmr_cmd_stream {
	uint32_t id;               /* < MMR_MAX_STREAMS; also its index in mmr_stats_area.stream */
	uint32_t participant_id;   /* publisher */
	uint32_t ssrc;             /* host byte order */
	uint8_t  kind;             /* enum mmr_media_kind */
	uint8_t  codec;            /* enum mmr_codec */
	uint8_t  temporal_layers;  /* 1..MMR_MAX_TLAYERS for VP8/VP9/AV1, 1 for audio and H.264 */
	uint8_t  spatial_layers;   /* 1..MEDIA_MAX_SPATIAL for VP9/AV1, else 1 (version 4) */
	/* Simulcast (version 4): the encodings of one source are streams of one group. group_id is
	 * the id of the group's encoding-0 stream (its own id for encoding 0); MMR_ID_NONE: not
	 * simulcast. encoding: 0 (lowest) .. MEDIA_MAX_ENCODINGS-1. */
	uint32_t group_id;
	uint8_t  encoding;
	/* AV1 (version 4): the RTP header extension id the Dependency Descriptor is negotiated with
	 * (1..14 in one-byte headers, 1..255 in two-byte ones) */
	uint8_t  dd_ext_id;
	uint8_t  rtx_pt;           /* (version 10) the publisher's RTX payload type; 0: it sends no RTX */
	uint8_t  screen;           /* (version 11) 1: a screen share (allocated first, like a pinned
				      subscription); 0: a camera or audio */
	uint32_t rtx_ssrc;         /* (version 10) the publisher's RTX SSRC for this stream; 0: none */
	uint32_t clock_hz;         /* (version 10) RTP clock rate; 0: MMR_CLOCK_VIDEO_HZ/AUDIO_HZ by kind */
};

struct mmr_cmd_sub {
	uint32_t id;               /* < MMR_MAX_SUBS */
	uint32_t stream_id;
	uint32_t subscriber_id;    /* receiving participant */
	uint32_t out_ssrc;         /* SSRC the receiver sees (host order); the stream's SSRC by default;
				      the same for every subscription of one receiver to one simulcast group */
	uint8_t  target_tid;       /* highest temporal layer to forward (VP8, VP9) */
	uint8_t  target_sid;       /* highest spatial layer to forward (VP9) (version 4) */
	uint8_t  target_dt;        /* decode target (AV1) (version 4) */
	uint8_t  target_encoding;  /* simulcast encoding to forward (version 4) */
	/* index of the per-receiver selection state (struct layer_sel, with its target word) and of
	 * its current layers (MMR_EV_LAYERS events): the
	 * subscription's own id, except in a simulcast group, where a receiver's subscriptions to all
	 * the group's streams share the id of its subscription to encoding 0 (version 4) */
	uint32_t sel_id;
	uint32_t rtx_ssrc;         /* (version 10) the SSRC of the RTX copies toward the receiver (its
				      RTX stream for out_ssrc); 0: no RTX, repairs are resent on out_ssrc */
	/* (version 11) The target_* fields are the CEILING: the most the receiver may get; the
	 * dataplane's allocator (its bandwidth estimate) may give it less. */
	uint8_t  priority;         /* MMR_PRIO_NORMAL or MMR_PRIO_PINNED (allocated first) */
	uint8_t  topn_slot;        /* 0: a normal subscription. k+1: audio slot k (< the meeting's top_n) of
				      the subscriber's top-N meeting: stream_id is MMR_ID_NONE, out_ssrc
				      the slot's SSRC, targets 0, sel_id its own id, rtx_ssrc 0 */
	/* (version 14) Receive slots (issue 13): k+1 for the subscriber's video slot k (< MMR_VSLOT_MAX),
	 * 0: none. The slot itself is a subscription with stream_id MMR_ID_NONE, sel_id its own id: it
	 * owns the receiver's selection state, out SSRC (+ RTX SSRC), SRTP contexts and sequence map,
	 * and outlives the publishers put on it. The publisher stream (or each stream of a simulcast
	 * group) on it is a subscription with that stream, sel_id the slot's id, the slot's out and RTX
	 * SSRCs and video_slot, and slot_gen the slot's assignment number (1..255, then 1 again; 0 is
	 * never one): a new number restarts the selection at the new stream's keyframe, continuing the
	 * receiver's numbering (layer_select.h). */
	uint8_t  video_slot;
	uint8_t  slot_gen;
};

/* A meeting's settings (version 11). A meeting exists in the dataplane while it has participants
 * or a MEETING_PUT: MEETING_DEL (or top_n 0) sets it back to the defaults. */
struct mmr_cmd_meeting {
	uint32_t meeting_id;       /* < MMR_MAX_MEETINGS */
	uint8_t  top_n;            /* 0: every audio stream goes to every receiver (per-pair subscriptions);
				      1..MMR_TOPN_MAX: top-N audio over slot subscriptions */
	uint8_t  pad[3];
};

struct mmr_cmd_move {
	uint32_t meeting_id;
	uint32_t lcore;            /* worker index (0 .. n_lcores-1, the order of stats.lcore[]) */
};

struct mmr_cmd {
	uint64_t seq;              /* its position in the ring: refused when it is not */
	uint64_t token;            /* the producer's fencing token: refused unless = owner_token (v7) */
	uint64_t changes;          /* the controller state's change count it comes from (v7), recorded */
	uint32_t op;               /* enum mmr_cmd_op */
	uint32_t gen;              /* sync generation the command belongs to */
	union {
		struct mmr_cmd_participant participant;
		struct mmr_cmd_stream stream;
		struct mmr_cmd_sub sub;
		struct mmr_cmd_move move;
		struct mmr_cmd_meeting meeting;
		struct { uint32_t id; } del;
		struct { uint32_t gen; uint8_t state_id[MMR_STATE_ID_LEN]; } sync;
	} u;
	uint32_t pad;              /* tail padding to seq's alignment, explicit (the bodies are 4-aligned) */
};

struct mmr_shm {
	uint32_t magic;
	uint32_t version;
	uint64_t size;                    /* bytes mapped */
	uint64_t epoch;                   /* random, new at every dataplane start */
	_Atomic uint32_t dp_pid;
	_Atomic uint32_t ctl_pid;
	_Atomic uint64_t dp_heartbeat_ns;
	_Atomic uint64_t ctl_heartbeat_ns;
	_Atomic uint32_t dp_ready;        /* 1 once ports are up and lcores poll */
	uint32_t n_lcores;
	uint32_t n_ports;
	uint32_t pad0;
	uint64_t tsc_hz;                  /* the dataplane's TSC frequency (busy_cycles -> seconds) */
	/* the id of the dataplane's SRTP ledger (srtp_ledger_id(): random, made with the file, the same
	 * across restarts that keep the file). Written before dp_ready is set, never changed after: a
	 * reader that saw dp_ready == 1 (acquire) may read it. The controller compares it with the id its
	 * keys were used under and rekeys every SRTP participant when it differs (version 5). */
	uint8_t srtp_ledger_id[MMR_SRTP_LEDGER_ID_LEN];
	/* the SHA-256 fingerprint of the dataplane's DTLS certificate, "AB:CD:..." NUL-terminated (what
	 * SDP answers carry as a=fingerprint; version 14). Written before dp_ready like the ledger id;
	 * all zero when the dataplane has no DTLS. */
	char dtls_fingerprint[MMR_DTLS_FP_TEXT_LEN + 1];

	/* fencing (version 7): the owner's token, bumped by cmd_chan_take_over (compare-and-swap) */
	_Atomic uint64_t owner_token;
	_Atomic uint64_t stale_refused;   /* commands refused for a token other than owner_token */
	_Atomic uint64_t stale_last_seq;  /* seq of the last of them */
	/* what the tables were built from (version 7), written by the dataplane: the state id of the
	 * last SYNC_BEGIN applied (two words, all zero: none yet; state_syncs counts the writes) and the
	 * objects the tables hold, after every batch */
	_Atomic uint64_t state_id[2];
	_Atomic uint64_t state_syncs;
	_Atomic uint64_t state_changes;   /* the `changes` of the last command applied */
	_Atomic uint32_t n_participants;
	_Atomic uint32_t n_streams;
	_Atomic uint32_t n_subs;
	uint32_t pad1;

	/* command ring: controller -> dataplane */
	_Atomic uint64_t tail __attribute__((aligned(64)));   /* next seq the producer will write */
	_Atomic uint64_t head __attribute__((aligned(64)));   /* next seq the consumer will read */
	_Atomic uint64_t applied_seq;     /* last seq applied (its effect is visible to lcores) */
	_Atomic uint64_t rejected;        /* commands the dataplane refused */
	char last_error[128];             /* why the last refused command was refused */
	struct mmr_cmd ring[MMR_CMD_RING] __attribute__((aligned(64)));

	/* events: dataplane -> controller (event_ring.h; version 6). A snapshot: the controller
	 * increments ev_snap_req (it is the only writer); the dataplane's control thread then sends, on
	 * its own ring, the current value of every fact it can restate (today: MMR_EV_LAYERS of every
	 * subscription that has selection state), waiting for room rather than dropping, and then
	 * release-stores the request's value into ev_snap_done. A controller asks at every attach and
	 * whenever a ring's `dropped` grew; once it read ev_snap_done >= its request and then drained
	 * the control thread's ring, it holds every value as new as the snapshot. */
	_Atomic uint64_t ev_snap_req __attribute__((aligned(64)));
	_Atomic uint64_t ev_snap_done __attribute__((aligned(64)));
	struct mmr_ev_ring events[MMR_EV_RINGS];

	struct mmr_stats_area stats __attribute__((aligned(64)));
};

/*
 * Layout check. Every size and offset of the shared structs (the counts that size their arrays, and the
 * lists of lcore counters, stream counters and drop reasons) folded into one number, asserted equal to
 * MMR_SHM_LAYOUT: a layout change that does not come with a new MMR_SHM_VERSION and MMR_SHM_LAYOUT
 * fails to compile. `make shm-layout` prints the fingerprint of the current source.
 */
#define foreach_mmr_shm_layout_item(_) \
	_(  0, offsetof(struct mmr_addr, family)) \
	_(  1, offsetof(struct mmr_addr, ip)) \
	_(  2, sizeof(struct mmr_addr)) \
	_(  3, offsetof(struct srtp_master, suite)) \
	_(  4, offsetof(struct srtp_master, key_len)) \
	_(  5, offsetof(struct srtp_master, salt_len)) \
	_(  6, offsetof(struct srtp_master, key)) \
	_(  7, offsetof(struct srtp_master, salt)) \
	_(  8, sizeof(struct srtp_master)) \
	_(  9, offsetof(struct mmr_cmd_participant, id)) \
	_( 10, offsetof(struct mmr_cmd_participant, meeting_id)) \
	_( 11, offsetof(struct mmr_cmd_participant, addr)) \
	_( 12, offsetof(struct mmr_cmd_participant, udp_port)) \
	_( 13, offsetof(struct mmr_cmd_participant, dp_port)) \
	_( 14, offsetof(struct mmr_cmd_participant, mac)) \
	_( 15, offsetof(struct mmr_cmd_participant, has_mac)) \
	_( 16, offsetof(struct mmr_cmd_participant, role)) \
	_( 17, offsetof(struct mmr_cmd_participant, srtp_suite)) \
	_( 18, offsetof(struct mmr_cmd_participant, send_key)) \
	_( 19, offsetof(struct mmr_cmd_participant, recv_key)) \
	_( 20, sizeof(struct mmr_cmd_participant)) \
	_( 21, offsetof(struct mmr_cmd_stream, id)) \
	_( 22, offsetof(struct mmr_cmd_stream, participant_id)) \
	_( 23, offsetof(struct mmr_cmd_stream, ssrc)) \
	_( 24, offsetof(struct mmr_cmd_stream, kind)) \
	_( 25, offsetof(struct mmr_cmd_stream, codec)) \
	_( 26, offsetof(struct mmr_cmd_stream, temporal_layers)) \
	_( 27, offsetof(struct mmr_cmd_stream, spatial_layers)) \
	_( 28, offsetof(struct mmr_cmd_stream, group_id)) \
	_( 29, offsetof(struct mmr_cmd_stream, encoding)) \
	_( 30, offsetof(struct mmr_cmd_stream, dd_ext_id)) \
	_( 31, sizeof(struct mmr_cmd_stream)) \
	_( 32, offsetof(struct mmr_cmd_sub, id)) \
	_( 33, offsetof(struct mmr_cmd_sub, stream_id)) \
	_( 34, offsetof(struct mmr_cmd_sub, subscriber_id)) \
	_( 35, offsetof(struct mmr_cmd_sub, out_ssrc)) \
	_( 36, offsetof(struct mmr_cmd_sub, target_tid)) \
	_( 37, offsetof(struct mmr_cmd_sub, target_sid)) \
	_( 38, offsetof(struct mmr_cmd_sub, target_dt)) \
	_( 39, offsetof(struct mmr_cmd_sub, target_encoding)) \
	_( 40, offsetof(struct mmr_cmd_sub, sel_id)) \
	_( 41, sizeof(struct mmr_cmd_sub)) \
	_( 42, offsetof(struct mmr_cmd, seq)) \
	_( 43, offsetof(struct mmr_cmd, op)) \
	_( 44, offsetof(struct mmr_cmd, gen)) \
	_( 45, offsetof(struct mmr_cmd, u)) \
	_( 46, sizeof(struct mmr_cmd)) \
	_( 47, offsetof(struct mmr_shm, magic)) \
	_( 48, offsetof(struct mmr_shm, version)) \
	_( 49, offsetof(struct mmr_shm, size)) \
	_( 50, offsetof(struct mmr_shm, epoch)) \
	_( 51, offsetof(struct mmr_shm, dp_pid)) \
	_( 52, offsetof(struct mmr_shm, ctl_pid)) \
	_( 53, offsetof(struct mmr_shm, dp_heartbeat_ns)) \
	_( 54, offsetof(struct mmr_shm, ctl_heartbeat_ns)) \
	_( 55, offsetof(struct mmr_shm, dp_ready)) \
	_( 56, offsetof(struct mmr_shm, n_lcores)) \
	_( 57, offsetof(struct mmr_shm, n_ports)) \
	_( 58, offsetof(struct mmr_shm, tsc_hz)) \
	_( 59, offsetof(struct mmr_shm, srtp_ledger_id)) \
	_( 60, offsetof(struct mmr_shm, tail)) \
	_( 61, offsetof(struct mmr_shm, head)) \
	_( 62, offsetof(struct mmr_shm, applied_seq)) \
	_( 63, offsetof(struct mmr_shm, rejected)) \
	_( 64, offsetof(struct mmr_shm, last_error)) \
	_( 65, offsetof(struct mmr_shm, ring)) \
	_( 66, offsetof(struct mmr_shm, stats)) \
	_( 67, sizeof(struct mmr_shm)) \
	_( 68, offsetof(struct mmr_lcore_stats, drops)) \
	_( 69, offsetof(struct mmr_lcore_stats, lcore_id)) \
	_( 70, offsetof(struct mmr_lcore_stats, active)) \
	_( 71, sizeof(struct mmr_lcore_stats)) \
	_( 72, offsetof(struct mmr_port_stats, ipackets)) \
	_( 73, offsetof(struct mmr_port_stats, opackets)) \
	_( 74, offsetof(struct mmr_port_stats, ibytes)) \
	_( 75, offsetof(struct mmr_port_stats, obytes)) \
	_( 76, offsetof(struct mmr_port_stats, imissed)) \
	_( 77, offsetof(struct mmr_port_stats, ierrors)) \
	_( 78, offsetof(struct mmr_port_stats, oerrors)) \
	_( 79, offsetof(struct mmr_port_stats, rx_nombuf)) \
	_( 80, offsetof(struct mmr_port_stats, port_id)) \
	_( 81, offsetof(struct mmr_port_stats, active)) \
	_( 82, offsetof(struct mmr_port_stats, name)) \
	_( 83, sizeof(struct mmr_port_stats)) \
	_( 84, offsetof(struct mmr_stream_stats, last_seq)) \
	_( 85, offsetof(struct mmr_stream_stats, last_tid)) \
	_( 86, offsetof(struct mmr_stream_stats, srtp_index)) \
	_( 87, sizeof(struct mmr_stream_stats)) \
	_( 88, offsetof(struct mmr_stats_area, lcore)) \
	_( 89, offsetof(struct mmr_stats_area, port)) \
	_( 90, offsetof(struct mmr_stats_area, stream)) \
	_( 91, offsetof(struct mmr_stats_area, sub_srtp_index)) \
	_( 92, offsetof(struct mmr_stats_area, ctl)) \
	_( 93, sizeof(struct mmr_stats_area)) \
	_( 94, MMR_DROP__COUNT) \
	_( 95, MMR_LC__COUNT) \
	_( 96, MMR_SC__COUNT) \
	_( 97, MMR_CMD__COUNT) \
	_( 98, MMR_CMD_RING) \
	_( 99, MMR_MAX_LCORES) \
	_(100, MMR_MAX_PORTS) \
	_(101, MMR_MAX_STREAMS) \
	_(102, MMR_MAX_SUBS) \
	_(103, offsetof(struct mmr_cmd, token)) \
	_(104, offsetof(struct mmr_cmd, changes)) \
	_(105, offsetof(struct mmr_cmd, u.sync.state_id)) \
	_(106, offsetof(struct mmr_shm, owner_token)) \
	_(107, offsetof(struct mmr_shm, stale_refused)) \
	_(108, offsetof(struct mmr_shm, stale_last_seq)) \
	_(109, offsetof(struct mmr_shm, state_id)) \
	_(110, offsetof(struct mmr_shm, state_syncs)) \
	_(111, offsetof(struct mmr_shm, state_changes)) \
	_(112, offsetof(struct mmr_shm, n_participants)) \
	_(113, offsetof(struct mmr_shm, n_streams)) \
	_(114, offsetof(struct mmr_shm, n_subs)) \
	_(115, MMR_STATE_ID_LEN) \
	_(116, offsetof(struct mmr_shm, ev_snap_req)) \
	_(117, offsetof(struct mmr_shm, ev_snap_done)) \
	_(118, offsetof(struct mmr_shm, events)) \
	_(119, offsetof(struct mmr_event, type)) \
	_(120, offsetof(struct mmr_event, flags)) \
	_(121, offsetof(struct mmr_event, id)) \
	_(122, offsetof(struct mmr_event, v0)) \
	_(123, offsetof(struct mmr_event, v1)) \
	_(124, sizeof(struct mmr_event)) \
	_(125, offsetof(struct mmr_ev_ring, tail)) \
	_(126, offsetof(struct mmr_ev_ring, dropped)) \
	_(127, offsetof(struct mmr_ev_ring, head)) \
	_(128, offsetof(struct mmr_ev_ring, ev)) \
	_(129, sizeof(struct mmr_ev_ring)) \
	_(130, MMR_EV_RINGS) \
	_(131, MMR_EV_RING_CTL) \
	_(132, MMR_EV__COUNT) \
	_(133, sizeof(struct mmr_ctl_stats)) \
	_(134, MMR_CC__COUNT) \
	_(135, offsetof(struct mmr_cmd_move, meeting_id)) \
	_(136, offsetof(struct mmr_cmd_move, lcore)) \
	_(137, sizeof(struct mmr_cmd_move)) \
	_(138, offsetof(struct mmr_port_stats, flow_rules)) \
	_(139, offsetof(struct mmr_port_stats, flow_failed)) \
	_(140, offsetof(struct mmr_stats_area, meeting_owner)) \
	_(141, MMR_MAX_MEETINGS) \
	_(142, offsetof(struct mmr_cmd_participant, fb)) \
	_(143, offsetof(struct mmr_cmd_participant, mmr_ssrc)) \
	_(144, offsetof(struct mmr_cmd_participant, rtx_map)) \
	_(145, MMR_RTX_MAP_MAX) \
	_(146, sizeof(struct mmr_rtx_pt)) \
	_(147, offsetof(struct mmr_cmd_stream, rtx_pt)) \
	_(148, offsetof(struct mmr_cmd_stream, rtx_ssrc)) \
	_(149, offsetof(struct mmr_cmd_stream, clock_hz)) \
	_(150, offsetof(struct mmr_cmd_sub, rtx_ssrc)) \
	_(151, offsetof(struct mmr_stats_area, participant)) \
	_(152, sizeof(struct mmr_participant_stats)) \
	_(153, MMR_PC__COUNT) \
	_(154, MMR_MAX_PARTICIPANTS) \
	_(155, offsetof(struct mmr_cmd_participant, twcc_ext_id)) \
	_(156, offsetof(struct mmr_cmd_participant, abs_ext_id)) \
	_(157, offsetof(struct mmr_cmd_participant, level_ext_id)) \
	_(158, offsetof(struct mmr_cmd_stream, screen)) \
	_(159, offsetof(struct mmr_cmd_sub, priority)) \
	_(160, offsetof(struct mmr_cmd_sub, topn_slot)) \
	_(161, sizeof(struct mmr_cmd_meeting)) \
	_(162, offsetof(struct mmr_cmd_meeting, top_n)) \
	_(163, offsetof(struct mmr_stream_stats, layer_kbps)) \
	_(164, offsetof(struct mmr_stats_area, meeting_speaker)) \
	_(165, MMR_TOPN_MAX) \
	_(166, offsetof(struct mmr_cmd_participant, mid_ext_id)) \
	_(167, offsetof(struct mmr_cmd_participant, learn)) \
	_(168, sizeof(struct mmr_learn)) \
	_(169, MMR_LEARN_MAX) \
	_(170, offsetof(struct mmr_cmd_participant, dtls)) \
	_(171, offsetof(struct mmr_cmd_participant, dtls_role)) \
	_(172, offsetof(struct mmr_cmd_participant, dtls_fp)) \
	_(173, offsetof(struct mmr_shm, dtls_fingerprint)) \
	_(174, offsetof(struct mmr_cmd_sub, video_slot)) \
	_(175, offsetof(struct mmr_cmd_sub, slot_gen)) \
	_(176, MMR_VSLOT_MAX) \
	_(177, offsetof(struct mmr_cmd_participant, block))
#define MMR_LAYOUT_TERM(n, x) + ((uint64_t)(x) + 1u) * ((2u * (uint64_t)(n) + 1u) * 0x9e3779b97f4a7c15ull)
/* list entries: where each sits, weighted by its name's length (a reorder of the list shows) */
#define MMR_LAYOUT_LC(f, name, doc) \
	+ ((uint64_t)offsetof(struct mmr_lcore_stats, f) + 1u) * (sizeof(name) * 0xff51afd7ed558ccdull)
#define MMR_LAYOUT_SC(f, name, doc) \
	+ ((uint64_t)offsetof(struct mmr_stream_stats, f) + 1u) * (sizeof(name) * 0xc4ceb9fe1a85ec53ull)
#define MMR_LAYOUT_PC(f, name, doc) \
	+ ((uint64_t)offsetof(struct mmr_participant_stats, f) + 1u) * (sizeof(name) * 0x4cf5ad432745937full)
#define MMR_LAYOUT_CC(f, name, doc) \
	+ ((uint64_t)offsetof(struct mmr_ctl_stats, f) + 1u) * (sizeof(name) * 0x2127599bf4325c37ull)
#define MMR_LAYOUT_DROP(sym, name, doc) + ((uint64_t)MMR_DROP_##sym + 1u) * (sizeof(name) * 0x87c37b91114253d5ull)
#define MMR_SHM_LAYOUT_FINGERPRINT \
	(0u foreach_mmr_shm_layout_item(MMR_LAYOUT_TERM) foreach_mmr_lcore_counter(MMR_LAYOUT_LC) \
	 foreach_mmr_stream_counter(MMR_LAYOUT_SC) foreach_mmr_ctl_counter(MMR_LAYOUT_CC) \
	 foreach_mmr_participant_counter(MMR_LAYOUT_PC) \
	 foreach_mmr_drop(MMR_LAYOUT_DROP))
#ifndef MMR_SHM_LAYOUT_UNCHECKED
_Static_assert(MMR_SHM_LAYOUT_FINGERPRINT == MMR_SHM_LAYOUT,
	       "shared-memory layout changed: bump MMR_SHM_VERSION and set MMR_SHM_LAYOUT (make shm-layout)");
#endif

/* Handle on a mapped segment. */
struct cmd_chan {
	struct mmr_shm *shm;
	uint64_t size;
	char name[64];
	uint64_t token;            /* producer: the fencing token cmd_chan_push stamps on commands */
};

/* Dataplane: create (replacing any old one) and map the segment; 0 or -errno. */
int cmd_chan_create(struct cmd_chan *ch, const char *name, uint32_t n_lcores, uint32_t n_ports);
/* Controller: map an existing segment; 0, -ENOENT if absent, -EPROTO if magic/version/size differ. */
int cmd_chan_open(struct cmd_chan *ch, const char *name);
/* Unmap (and, for the creator at clean exit, cmd_chan_unlink removes the name). */
void cmd_chan_close(struct cmd_chan *ch);
void cmd_chan_unlink(const char *name);

/* Producer: take over the ring: owner_token goes from `seen` (a value the caller read and judged,
 * e.g. after finding its owner's heartbeat stale) to seen + 1 by one compare-and-swap, which becomes
 * ch->token. 0, or -EBUSY (nothing changed) when owner_token is no longer `seen`: another producer
 * took over meanwhile. */
int cmd_chan_take_over(struct cmd_chan *ch, uint64_t seen);
/* Producer: does ch->token still own the ring? */
static inline int cmd_chan_owner(const struct cmd_chan *ch)
{
	return ch->token != 0 &&
	       atomic_load_explicit(&ch->shm->owner_token, memory_order_acquire) == ch->token;
}
/* Producer: enqueue one command, filling in cmd->seq (the tail) and cmd->token (ch->token); 0,
 * -EAGAIN if the ring is full, -EBUSY if another producer moved the tail while we wrote the slot
 * (ours was not published; the slot may hold either one). */
int cmd_chan_push(struct cmd_chan *ch, struct mmr_cmd *cmd);
/* Consumer: next command or NULL. Call cmd_chan_done() after applying it. */
const struct mmr_cmd *cmd_chan_peek(struct cmd_chan *ch);
void cmd_chan_done(struct cmd_chan *ch, const struct mmr_cmd *cmd);

/* Waking the consumer: its control thread sleeps in cmd_chan_wait() (a futex on the low 32 bits of
 * `tail`, shared between the processes) when the ring is empty; the producer calls cmd_chan_wake()
 * after pushing. No layout change: a consumer that does not wait is not affected, and a producer
 * that does not wake is seen at the consumer's next timeout. */
void cmd_chan_wake(struct cmd_chan *ch);
/* Sleep until tail moves away from seen_tail, a wake, or timeout_us. */
void cmd_chan_wait(struct cmd_chan *ch, uint64_t seen_tail, unsigned timeout_us);

/* CLOCK_MONOTONIC in ns. */
uint64_t mmr_now_ns(void);
/* Is the heartbeat value recent enough? A heartbeat stored after the caller read its clock (hb_ns
 * a little above now_ns) is recent, not 2^64 ns old. */
static inline int mmr_alive(uint64_t hb_ns, uint64_t now_ns)
{
	return hb_ns != 0 && (int64_t)(now_ns - hb_ns) < (int64_t)MMR_HEARTBEAT_DEAD_NS;
}

#endif
