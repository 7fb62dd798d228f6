/*
 * shadow.h - the control thread's shadow of every participant, stream and subscription (private to
 * cmd_apply.c, which applies the commands, and srtp_ctl.c, which keeps their SRTP contexts).
 *
 * Plain arrays indexed by id, touched only by the control thread:
 *   participants: the command as received, its table node, the head of its stream list and of the
 *                 list of subscriptions it receives; SRTP: its keys and its RTCP contexts;
 *   streams:      the command, its table node, its current output array (owned here; nodes only
 *                 point at it), its subscription list, its place in its publisher's list; SRTP:
 *                 its inbound contexts (owned here; the node points at them);
 *   subs:         the command and its places in its stream's and its receiver's lists; SRTP: its
 *                 outbound context (owned here; output arrays point at it).
 * RTCP and repair (issue 11): each object's state from repair_hooks.h (owned here; nodes and
 * outputs point at it); a stream's RTX node and its inbound contexts; a subscription's RTX
 * outbound context; a participant's outbound RTCP context for mmr_ssrc. The subs table's nodes
 * (fwd_sub, by receiver and SSRC) are found through the table itself.
 * Application-layer QoS (issue 12): each object's state from qos_hooks.h (owned here); a
 * participant's rx_subs array (owned here, republished when marked rx-dirty); meetings: a shadow by
 * meeting id with its participants, its top-N slot subscriptions per slot (linked through
 * sh_sub.s_next like a stream's), its node and its arrays (owned here, rebuilt when marked dirty).
 * Whatever a worker may still see is never freed directly: it is retired (shadow_retire) and freed
 * after the next grace period (cmd_apply_reclaim).
 */
#ifndef MMR_DP_SHADOW_H
#define MMR_DP_SHADOW_H

#include <stddef.h>
#include <stdint.h>
#include "cmd_chan.h"
#include "fwd_table.h"
#include "srtp_fast.h"
#include "srtp_ledger.h"

#define NIL MMR_ID_NONE

struct dataplane;

struct sh_participant {
	uint8_t  used;
	uint8_t  rekeying;               /* in the rekey list: old_send_keys still accepted */
	uint32_t stamp;                  /* sync stamp of its last PUT */
	struct mmr_cmd_participant c;    /* keys included (SRTP): compared on every PUT */
	struct fwd_participant *node;    /* NULL while another participant holds its key */
	uint32_t streams;                /* its streams (sh_stream.p_next) */
	uint32_t rsubs;                  /* subscriptions it receives (sh_sub.r_next) */
	/* SRTP meetings (srtp_ctl.c); NULL for plain RTP */
	struct srtp_keys *send_keys;     /* inbound contexts are made from it */
	struct srtp_keys *old_send_keys; /* the previous SEND key while a rekey is in progress */
	struct srtp_keys *recv_keys;     /* outbound contexts are made from it */
	struct fwd_srtp_in *rtcp_in;     /* its RTCP from SSRCs that are not its streams */
	struct srtp_stream *rtcp_out;    /* RECV key, mmr_ssrc, RTCP lease: the RTCP we send it */
	struct part_rtcp *rtcp;          /* repair_hooks.h; may be NULL */
	uint8_t send_fp[SRTP_LEDGER_FP_LEN];     /* the keys' fingerprints (srtp_lease.h) */
	uint8_t old_send_fp[SRTP_LEDGER_FP_LEN];
	uint8_t recv_fp[SRTP_LEDGER_FP_LEN];
	uint32_t rk_next, rk_prev;       /* in the rekey list */
	/* issue 12 */
	struct part_bwe *bwe;            /* qos_hooks.h; NULL: none */
	struct part_uplink *uplink;      /* qos_hooks.h; NULL: none */
	struct fwd_rx_subs *rx_subs;     /* the array its node points at; NULL: no video received */
	uint8_t  rx_dirty;               /* in the rx-dirty list: rx_subs to rebuild */
	uint16_t neigh;                  /* the neighbour entry its copies go to (no MAC of its own:
					    neigh.h, a reference held); 0: its MAC or the gateway_mac */
	uint32_t m_next, m_prev;         /* in its meeting's list */
};

struct sh_stream {
	uint8_t  used;
	uint8_t  dirty;                  /* in the dirty list: output array to rebuild */
	uint32_t stamp;
	uint32_t del_batch;              /* batch that last deleted this id */
	struct mmr_cmd_stream c;
	struct fwd_stream *node;         /* NULL while shadowed */
	struct fwd_outputs *outputs;     /* current array, owned here; NULL = no subscriber */
	struct fwd_srtp_in *srtp_in;     /* SRTP publisher: inbound contexts; else NULL */
	struct av1_dd_structure *av1;    /* AV1: its Dependency Descriptor state (owned here); else NULL */
	struct stream_repair *repair;    /* repair_hooks.h; may be NULL */
	struct fwd_stream *rtx_node;     /* the node of its publisher's RTX SSRC; NULL: none, or the key is
					    another stream's */
	struct fwd_srtp_in *rtx_srtp_in; /* SRTP publisher with an RTX SSRC: its inbound contexts */
	uint32_t p_next, p_prev;         /* in its publisher's list */
	uint32_t subs;                   /* its subscriptions (sh_sub.s_next) */
	struct layer_rate *rate;         /* video: qos_hooks.h; may be NULL */
	struct ds_speaker *speaker;      /* audio: qos_hooks.h; may be NULL */
};

struct sh_sub {
	uint8_t  used;
	uint32_t stamp;
	uint32_t del_batch;
	struct mmr_cmd_sub c;
	struct srtp_stream *srtp_out;    /* SRTP: the receiver's RECV-key context for out_ssrc; NULL for
					    plain RTP and for a simulcast follower (sel_id != id) */
	struct srtp_stream *rtx_out;     /* SRTP, rtx_ssrc set, leader: the RECV-key context for rtx_ssrc */
	struct sub_repair *repair;       /* leader: repair_hooks.h; may be NULL (always for a slot) */
	struct topn_out *topn;           /* a top-N slot subscription's (qos_hooks.h); may be NULL */
	uint32_t s_next, s_prev;         /* in its stream's list; a slot subscription (topn_slot k+1): in
					    its meeting's slots[k] list */
	uint32_t r_next, r_prev;         /* in its receiver's list */
};

/* A meeting (issue 12): exists (used, node published) while it has participants or a MEETING_PUT
 * with top_n > 0 (put). */
struct sh_meeting {
	uint8_t  used;
	uint8_t  put;                    /* set by MEETING_PUT (top_n > 0), cleared by MEETING_DEL */
	uint8_t  dirty;                  /* in the meeting dirty list: arrays to rebuild */
	uint8_t  top_n;
	uint32_t stamp;                  /* sync stamp of its last MEETING_PUT */
	uint32_t parts;                  /* its participants (sh_participant.m_next) */
	uint32_t n_parts;
	uint32_t slots[MMR_TOPN_MAX];    /* slot subscriptions per slot (sh_sub.s_next) */
	struct fwd_meeting *node;
	struct fwd_outputs *slot_outputs[MMR_TOPN_MAX];  /* owned here; NULL: none */
	struct fwd_meeting_audio *audio; /* owned here; NULL: no audio stream */
	struct meeting_audio *audio_state;  /* qos_hooks.h; may be NULL */
};

/* Something to free after the next grace period, and how. */
struct retired {
	void *p;
	void (*free_fn)(void *);
};

struct cmd_apply {
	struct dataplane *dp;
	struct sh_participant *P;
	struct sh_stream *S;
	struct sh_sub *U;
	uint32_t p_hw, s_hw, u_hw;       /* 1 + highest id ever used */
	uint32_t n_p, n_s, n_u;
	uint32_t n_shadowed_p, n_shadowed_s;

	uint32_t *dirty;                 /* stream ids, each at most once */
	uint32_t n_dirty;

	struct sh_meeting *M;            /* by meeting id (issue 12) */
	uint32_t m_hw, n_m;
	uint32_t *mdirty;                /* meeting ids whose arrays to rebuild, each at most once */
	uint32_t n_mdirty;
	uint32_t *rxdirty;               /* participant ids whose rx_subs to rebuild, each at most once */
	uint32_t n_rxdirty;

	struct retired *retired;         /* freed after the next grace period, in order */
	size_t   n_retired, cap_retired;
	int      need_grace;             /* something was unpublished in this batch */
	uint32_t batch;                  /* increments at every reclaim */

	uint32_t stamp;                  /* current sync stamp */
	uint8_t  sync_active;
	uint32_t sync_gen;

	uint32_t rekeying;               /* first participant of the rekey list (NIL: none) */
	uint64_t rekey_grace_tsc;        /* DP_REKEY_GRACE_MS in TSC cycles */

	struct meeting_owner *mo;        /* which worker owns each meeting (meeting_owner.h) */
	struct steer *steer;             /* rte_flow rules to the owners' queues (steer.h) */

	uint64_t applied, refused;
};

/* Free p with free_fn (free() when NULL) after the next grace period. NULL p: nothing. */
void shadow_retire(struct cmd_apply *ca, void *p, void (*free_fn)(void *));
/* The output array of stream sid is to be rebuilt at publication. */
void shadow_mark_dirty(struct cmd_apply *ca, uint32_t sid);
/* The output array subscription uid is in (its stream's, or its meeting's slot array for a top-N
 * slot subscription) is to be rebuilt at publication. */
void shadow_mark_sub_dirty(struct cmd_apply *ca, uint32_t uid);

#endif
