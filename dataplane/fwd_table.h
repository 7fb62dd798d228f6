/*
 * fwd_table.h - the forwarding tables the worker lcores read without locks.
 *
 *   participants: lock-free hash (liburcu rculfhash) keyed by (source address, UDP port) -> id
 *   streams:      lock-free hash keyed by (participant id, SSRC) -> stream node, whose `outputs`
 *                 is an RCU pointer to an immutable array: one entry per subscription, with
 *                 everything needed to build a receiver's copy (addresses, MAC, port, SSRC)
 *                 copied in, so the packet path touches no other table but sel[] (video).
 *
 * The layer target is state, not structure: it lives in the receiver's struct layer_sel (its
 * sel_id's, `target`, layer_select.h), a word the control thread stores at any time and the owning
 * lcore reads per packet, so a target change publishes no array and waits for no grace period.
 *
 * Readers are the worker lcores (liburcu QSBR: registered, online, one rcu_quiescent_state() per
 * poll-loop iteration; no pointer from here is kept across it). The only writer is the control
 * thread (cmd_apply.c): nodes and output arrays are never modified after publication; a change
 * publishes a new version, and the old one is freed after synchronize_rcu().
 *
 * SRTP meetings add crypto state that is NOT immutable: the per-packet state of an srtp_stream (ROC,
 * replay window, SRTCP index, and the position it publishes into the segment for stats) and
 * fwd_srtp_in.cur_ok_tsc are written by the one lcore that owns the sender's meeting (owner.h:
 * packets received elsewhere are handed to it). The control thread creates these objects,
 * publishes pointers to them (fwd_stream.srtp_in, fwd_participant.rtcp_in, fwd_output.srtp) and
 * frees them after a grace period, like everything else here.
 *
 * RTCP and repair (issue 11) add, the same way (made and freed by the control thread, written only
 * by the owning lcore): per stream `repair` (struct stream_repair: receive statistics, SR anchor,
 * NACK generation, keyframe requests, the packet ring), per output `repair` (struct sub_repair: the
 * receiver's sequence map and SR state; a simulcast group's members share their leader's), per
 * participant `rtcp` (struct part_rtcp: RTT, last report, timers). Their allocation hooks are in
 * repair_hooks.h. A publisher's RTX SSRC has a node in the streams table too (`is_rtx`, `media`:
 * the media stream's node), and a third table, `subs`, finds a receiver's subscription from the
 * SSRC it sees (out_ssrc or its RTX SSRC), for the feedback it sends about it.
 *
 * Application-layer QoS (issue 12) adds, the same way (made and freed by the control thread through
 * the hooks of qos_hooks.h, written only by the owning lcore): per participant `bwe` (the downlink
 * estimate, send log and allocation state of a receiver that takes TWCC or REMB: dataplane/bwe.c) and
 * `uplink` (the feedback it gets as a publisher: dataplane/uplink.c); per video stream `rate` (its
 * layer bitrates), per audio stream `speaker` (its dominant speaker state); per meeting a node of its
 * own (`fwd_meeting`, found by id with fwd_meeting_get) with its top-N slot output arrays, the list of
 * its audio streams and `audio_state` (dataplane/audio.c). A receiver's video subscriptions, with what
 * its allocator needs, are in its participant node's `rx_subs`, an immutable array (RCU pointer)
 * republished when they change.
 */
#ifndef MMR_FWD_TABLE_H
#define MMR_FWD_TABLE_H

#include <stdint.h>
#include <urcu-qsbr.h>
#include <urcu/rculfhash.h>
#include "media.h"
#include "mmr_types.h"

struct srtp_stream;
struct av1_dd_structure;
struct stream_repair;   /* repair.h / rtcp_state.h (issue 11) */
struct sub_repair;
struct part_rtcp;
struct part_bwe;        /* dataplane/bwe.h (issue 12) */
struct part_uplink;     /* dataplane/uplink.h */
struct layer_rate;      /* lib/alloc/layer_rate.h */
struct ds_speaker;      /* lib/audio/dominant_speaker.h */
struct meeting_audio;   /* dataplane/audio.h */
struct topn_out;        /* lib/audio/topn.h */

/*
 * Inbound SRTP/SRTCP contexts of a sender: one per stream (its SSRC), and one per participant for
 * its RTCP from SSRCs that are not streams (receiver reports of a receive-only client). Made from the
 * participant's SEND key. During a rekey `prev` (the context of the previous SEND key, with its ROC
 * and replay window) is tried after `cur` until a packet has authenticated with cur and about 2 s
 * more; the control thread then publishes a version without prev.
 */
struct fwd_srtp_in {
	struct srtp_stream *cur;      /* newest SEND key */
	struct srtp_stream *prev;     /* the one before it during a rekey, else NULL */
	uint64_t cur_ok_tsc;          /* owner lcore: TSC of the first packet cur authenticated (0: none) */
};

/* One receiver of a stream: two cache lines. */
struct fwd_output {
	uint32_t sub_id;          /* the subscription (its SRTP position slot) */
	uint32_t sel_id;          /* index of its struct layer_sel (selection state and target): sub_id,
				     or for a simulcast group the receiver's subscription to encoding 0 */
	uint32_t out_ssrc_be;     /* SSRC written into the copy, network order */
	uint16_t dst_port_be;     /* receiver's UDP port, network order */
	uint16_t dp_port;         /* DPDK port the copy leaves on */
	uint8_t  fb;              /* the receiver's MMR_FB_* flags */
	uint8_t  twcc_ext_id;     /* the receiver's transport-wide seq extension id (0: none) (issue 12) */
	uint8_t  abs_ext_id;      /* the receiver's abs-send-time extension id (0: none) */
	uint8_t  slot_gen;        /* a video slot's publisher stream (issue 13): the slot's assignment
				     number (layer_sel_slot_source); 0: not on a slot */
	uint8_t  family;          /* MMR_AF_INET / MMR_AF_INET6 */
	uint8_t  dst_mac[6];      /* receiver's MAC or the port's static gateway MAC (neigh 0) */
	uint8_t  src_mac[6];      /* the port's MAC */
	uint16_t neigh;           /* the neighbour entry whose MAC copies go to (neigh.h: its gateway,
				     or the on-link receiver itself); 0: dst_mac */
	uint32_t pseudo_sum;      /* raw checksum sum of the UDP pseudo header minus the length */
	uint32_t ip4_sum;         /* raw sum of the IPv4 header minus total length (and checksum) */
	uint8_t  src_ip[16];      /* our address on dp_port (4 or 16 bytes used) */
	uint8_t  dst_ip[16];
	struct srtp_stream *srtp; /* SRTP meetings: the receiver's RECV-key context for out_ssrc (for a
				     simulcast group, the one of its sel_id subscription); else NULL.
				     Its RTCP side protects the SRs about out_ssrc. */
	/* RTCP and repair (issue 11) */
	uint32_t rtx_ssrc_be;     /* the receiver's RTX SSRC for this copy, network order; 0: no RTX
				     (repairs are resent on out_ssrc) */
	struct mmr_rtx_pt rtx_map[MMR_RTX_MAP_MAX];  /* the receiver's RTX payload types (fwd_output_rtx_pt) */
	uint32_t receiver_id;     /* the receiving participant (issue 12) */
	union {
		struct srtp_stream *rtx_srtp; /* SRTP: the receiver's RECV-key context for rtx_ssrc (RTP
					 lease; the simulcast leader's); NULL for plain RTP or no RTX */
		struct topn_out *topn;  /* a top-N slot output (in a fwd_meeting's slot_outputs; it has
					 no RTX: rtx_ssrc_be 0): its (receiver, slot) numbering state
					 (qos_hooks.h); NULL: none */
	};
	struct sub_repair *repair;    /* the receiver's per-subscription repair state (the simulcast
				     leader's, shared by the group); NULL: none (hooks said so, and
				     always for a slot output) */
	struct part_bwe *bwe;     /* the receiver's downlink estimate state (its fwd_participant.bwe):
				     stamp and log its copies; NULL: no stamping (issue 12) */
} __attribute__((aligned(64)));
_Static_assert(sizeof(struct fwd_output) == 128, "struct fwd_output: two cache lines");

/* The RTX payload type of media payload type pt toward this output's receiver; 0: it takes no RTX
 * for pt (resend on out_ssrc), or has no RTX SSRC. */
static inline uint8_t fwd_output_rtx_pt(const struct fwd_output *o, uint8_t pt)
{
	if (!o->rtx_ssrc_be)
		return 0;
	for (unsigned i = 0; i < MMR_RTX_MAP_MAX; i++)
		if (o->rtx_map[i].pt && o->rtx_map[i].apt == pt)
			return o->rtx_map[i].pt;
	return 0;
}

struct fwd_outputs {
	uint32_t n;
	uint8_t  slotted;         /* some output is a receive slot's (issue 13): its copies' timestamps
				     are rebased, so every copy's timestamp is written (rw_tsm) */
	uint8_t  pad[3];
	struct fwd_output o[];
};

struct fwd_participant {
	struct cds_lfht_node node;
	struct mmr_addr addr;     /* key */
	uint16_t udp_port;        /* key, host order */
	uint32_t id;
	uint32_t meeting;         /* its meeting: dp->owner[meeting] says which lcore processes its packets */
	uint8_t  srtp;            /* enum srtp_suite of its meeting; 0: plain RTP */
	struct fwd_srtp_in *rtcp_in;  /* RCU pointer (SRTP): its RTCP from SSRCs that are not its streams */
	/* RTCP (issue 11) */
	uint8_t  fb;              /* MMR_FB_* it takes */
	uint32_t mmr_ssrc;        /* our sender SSRC for the RTCP we send it (RR, NACK, PLI, FIR), host order */
	struct mmr_rtx_pt rtx_map[MMR_RTX_MAP_MAX];  /* RTX payload types of what it receives */
	struct srtp_stream *rtcp_out; /* RCU pointer (SRTP): the outbound context of its RECV key for
				     mmr_ssrc (RTCP lease): protects the RTCP we send it as mmr_ssrc */
	struct part_rtcp *rtcp;   /* its RTCP state (RTT, last report, timers); NULL: none */
	/* application-layer QoS (issue 12) */
	uint8_t  twcc_ext_id;     /* its header extension ids (0: not negotiated): transport-wide seq, */
	uint8_t  abs_ext_id;      /* abs-send-time, */
	uint8_t  level_ext_id;    /* audio level (RFC 6464) */
	struct part_bwe *bwe;     /* its downlink estimate (MMR_FB_TWCC or MMR_FB_REMB); NULL: none */
	struct part_uplink *uplink; /* the feedback we send it as a publisher (twcc_ext_id or
				     MMR_FB_REMB); NULL: none */
	struct fwd_rx_subs *rx_subs; /* RCU pointer: the video subscriptions it receives; NULL: none */
	/* SSRC learning (issue 13): its mid / rid / repaired-rid extension ids and its streams whose
	 * SSRCs are not known yet, read only on the unknown-SSRC path (dataplane/learn.h, lib/pkt/ssrc_learn.h) */
	uint8_t  mid_ext_id, rid_ext_id, rrid_ext_id;
	uint8_t  n_learn;
	struct mmr_learn learn[MMR_LEARN_MAX];
};

/*
 * A receiver's video subscriptions, one entry per selection state (a subscription, or its whole
 * simulcast group: the leader), for its allocator (issue 12). Immutable; the control thread
 * publishes a new array when the receiver's video subscriptions, their ceilings' shape (codec,
 * layers, encodings) or priorities change. The target (the ceiling) and the allocation are in the
 * sel_id's struct layer_sel, not here.
 */
struct fwd_rx_sub {
	uint32_t sel_id;          /* its struct layer_sel */
	uint32_t publisher;       /* the publishing participant's id */
	uint32_t stream_id[MEDIA_MAX_ENCODINGS];  /* by encoding (simulcast), else [0]; MMR_ID_NONE: none */
	struct layer_rate *rate[MEDIA_MAX_ENCODINGS]; /* each one's layer bitrates (fwd_stream.rate);
					  NULL: not measured */
	uint8_t  n_enc;           /* encodings (1 outside simulcast) */
	uint8_t  codec;           /* enum mmr_codec */
	uint8_t  spatial;         /* spatial layers */
	uint8_t  temporal;        /* temporal layers */
	uint8_t  priority;        /* MMR_PRIO_* */
	uint8_t  screen;          /* a screen share */
	uint8_t  pad[2];
};

struct fwd_rx_subs {
	uint32_t n;
	uint32_t pad;
	struct fwd_rx_sub e[];
};

struct fwd_stream {
	struct cds_lfht_node node;
	uint32_t participant_id;  /* key */
	uint32_t ssrc;            /* key, host order */
	uint32_t id;              /* index of its mmr_stream_stats */
	uint8_t  kind;            /* enum mmr_media_kind */
	uint8_t  codec;           /* enum mmr_codec */
	uint8_t  layers;          /* temporal layers */
	uint8_t  spatial;         /* spatial layers */
	uint8_t  simulcast;       /* a member of a simulcast group (its copies' timestamps are rebased) */
	uint8_t  encoding;        /* simulcast: its index in the group (0 otherwise) */
	uint8_t  dd_ext_id;       /* AV1: header extension id of the Dependency Descriptor */
	struct fwd_outputs *outputs;  /* RCU pointer; NULL = nobody subscribed */
	/* AV1: the latest template structure of its Dependency Descriptor, written by the lcore that
	 * owns its meeting (like the SRTP state); made and freed by the control thread. */
	struct av1_dd_structure *av1;
	struct fwd_srtp_in *srtp_in;  /* RCU pointer (SRTP meetings): this SSRC's inbound contexts */
	/* RTCP and repair (issue 11) */
	uint8_t  is_rtx;          /* this node is the publisher's RTX SSRC of stream `media` (ssrc is the
				     RTX SSRC, id the media stream's; outputs, repair NULL: use media's) */
	uint8_t  rtx_pt;          /* media node: the publisher's RTX payload type (0: it sends no RTX) */
	uint32_t rtx_ssrc;        /* media node: the publisher's RTX SSRC (0: none), host order */
	uint32_t clock_hz;        /* RTP clock rate (90000 video, 48000 audio unless the stream said) */
	struct fwd_stream *media; /* RTX node: the media stream's current node; media node: itself */
	struct stream_repair *repair; /* its repair and report state; NULL: none */
	/* application-layer QoS (issue 12) */
	uint8_t  screen;          /* a screen share */
	uint32_t meeting;         /* its publisher's meeting */
	struct layer_rate *rate;  /* video: its layer bitrates (written by the owner); NULL: none */
	struct ds_speaker *speaker; /* audio: its dominant speaker state (owner); NULL: none */
};

/*
 * A meeting (issue 12): made by MEETING_PUT or by its first participant, gone with its last
 * participant unless a MEETING_PUT set it up. `top_n` is a word the control thread stores; the
 * arrays are RCU pointers to immutable arrays replaced like a stream's outputs.
 */
struct fwd_meeting_audio_entry {
	uint32_t stream_id;
	uint32_t publisher_id;
	uint32_t ssrc;            /* host order (fwd_stream_lookup(publisher_id, ssrc)) */
	uint32_t pad;
	struct ds_speaker *speaker; /* the stream's (fwd_stream.speaker); NULL: none */
};

struct fwd_meeting_audio {
	uint32_t n;
	uint32_t pad;
	struct fwd_meeting_audio_entry e[];
};

struct fwd_meeting {
	uint32_t id;
	uint8_t  top_n;           /* 0: off; 1..MMR_TOPN_MAX (CMM_LOAD_SHARED: the control thread stores it) */
	uint8_t  pad[3];
	/* RCU pointers: slot k's outputs (one per receiver with a slot-k subscription, its own out SSRC;
	 * NULL: none); the meeting's audio streams (NULL: none) */
	struct fwd_outputs *slot_outputs[MMR_TOPN_MAX];
	struct fwd_meeting_audio *audio;
	struct meeting_audio *audio_state;  /* dataplane/audio.c's (qos_hooks.h); NULL: none */
};

/*
 * A receiver's view of a subscription: (receiver id, SSRC it sees) -> the subscription(s) behind
 * it. The SSRC is the subscription's out_ssrc, or its rtx_ssrc (is_rtx). A simulcast group's
 * subscriptions of one receiver share one out SSRC: the node lists each member by encoding
 * (m[e]; sub_id MMR_ID_NONE where the receiver has none), sel_id is their leader. Immutable like
 * the other nodes; replaced by the control thread when a subscription of the key changes.
 */
struct fwd_sub_member {
	uint32_t sub_id;          /* MMR_ID_NONE: no member at this index */
	uint32_t stream_id;       /* the stream it receives (its counters' index) */
	uint32_t publisher_id;    /* the stream's key (fwd_stream_lookup) */
	uint32_t ssrc;
};

struct fwd_sub {
	struct cds_lfht_node node;
	uint32_t receiver_id;     /* key */
	uint32_t ssrc;            /* key, host order: out_ssrc, or rtx_ssrc when is_rtx */
	uint8_t  is_rtx;
	uint8_t  n;               /* entries of m[] used (1 unless simulcast) */
	uint32_t sel_id;          /* the leader subscription (its selection state, its repair state) */
	struct fwd_sub_member m[MEDIA_MAX_ENCODINGS];  /* by encoding (simulcast), else m[0] */
};

struct fwd_tables {
	struct cds_lfht *participants;
	struct cds_lfht *streams;
	struct cds_lfht *subs;    /* struct fwd_sub (issue 11) */
	struct fwd_meeting **meetings;  /* [MMR_MAX_MEETINGS] RCU pointers (issue 12) */
};

/* Create the empty tables; 0 or -ENOMEM. */
int fwd_tables_init(struct fwd_tables *t);
/* Free the tables once the owner has unpublished every node and no reader is left. */
void fwd_tables_destroy(struct fwd_tables *t);

/* ---- packet path (registered, online RCU reader) ---- */
struct fwd_participant *fwd_participant_lookup(struct fwd_tables *t, const struct mmr_addr *a,
					       uint16_t udp_port);
struct fwd_stream *fwd_stream_lookup(struct fwd_tables *t, uint32_t participant_id, uint32_t ssrc);
/* The subscription(s) receiver_id sees as ssrc (its out SSRC or RTX SSRC); NULL: none. */
struct fwd_sub *fwd_sub_lookup(struct fwd_tables *t, uint32_t receiver_id, uint32_t ssrc);
/* The meeting node of meeting_id; NULL: none (no participant, no MEETING_PUT) or out of range. */
static inline struct fwd_meeting *fwd_meeting_get(struct fwd_tables *t, uint32_t meeting_id)
{
	if (meeting_id >= MMR_MAX_MEETINGS)
		return NULL;
	return rcu_dereference(t->meetings[meeting_id]);
}
/* Member m of a sub node: its stream's current (media) node and that node's output for the
 * subscription; NULL when it is gone or shadowed (a command in flight). *stream is set when found. */
struct fwd_output *fwd_sub_member_output(struct fwd_tables *t, const struct fwd_sub_member *m,
					 struct fwd_stream **stream);

/* ---- control thread (the only writer; online RCU reader while it calls these) ---- */
/* Insert n, replacing a node with the same key; returns the replaced node (to be retired) or NULL. */
struct fwd_participant *fwd_participant_publish(struct fwd_tables *t, struct fwd_participant *n);
/* Remove n from the table (it must be in it); retire it afterwards. */
void fwd_participant_unpublish(struct fwd_tables *t, struct fwd_participant *n);
struct fwd_stream *fwd_stream_publish(struct fwd_tables *t, struct fwd_stream *n);
void fwd_stream_unpublish(struct fwd_tables *t, struct fwd_stream *n);
/* Insert n only if no node holds its key: NULL, or the node that does (n is then not inserted). */
struct fwd_stream *fwd_stream_publish_unique(struct fwd_tables *t, struct fwd_stream *n);
struct fwd_sub *fwd_sub_publish(struct fwd_tables *t, struct fwd_sub *n);
void fwd_sub_unpublish(struct fwd_tables *t, struct fwd_sub *n);

#endif
