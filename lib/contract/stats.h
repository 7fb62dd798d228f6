/*
 * stats.h - layout of the dataplane's counters inside the shared-memory segment.
 *
 * Every counter has exactly one writer: a worker lcore writes its own mmr_lcore_stats slot and the
 * per-stream counters of the streams of the meetings it owns (packets received by another lcore
 * are handed to the owner); the dataplane's control thread writes the port counters and its own
 * (mmr_ctl_stats). Readers (the
 * controller, mmrctl through it) read with relaxed loads and tolerate a counter being a few packets
 * behind. No atomics read-modify-write on the packet path.
 */
#ifndef MMR_STATS_H
#define MMR_STATS_H

#include <stdint.h>
#include "mmr_types.h"
#include "drop_reason.h"

/* A worker lcore's counters, each declared once here: _(field, "name", "meaning"). All uint64_t,
 * all counted since the lcore started; the struct fields, mmr_lcore_counter_names/docs[] (stats.c)
 * and every output (`mmrctl stats`, the status line, mmr-gen) come from this list. Changing the
 * list changes the shared layout (MMR_SHM_VERSION, cmd_chan.h). */
#define foreach_mmr_lcore_counter(_)                                                                   \
	_(rx_pkts,      "rx_pkts",      "packets received")                                               \
	_(rx_bytes,     "rx_bytes",     "bytes received")                                                 \
	_(tx_pkts,      "tx_pkts",      "packets handed to TX (copies, ARP and ICMP replies)")           \
	_(tx_bytes,     "tx_bytes",     "bytes handed to TX")                                             \
	_(rtp_pkts,     "rtp_pkts",     "RTP packets from known streams")                                 \
	_(copies,       "copies",       "RTP copies built for receivers")                                 \
	_(arp_replies,  "arp_replies",  "ARP replies sent")                                               \
	_(icmp_replies, "icmp_replies", "ICMP echo replies sent")                                         \
	_(loops,        "loops",        "poll-loop iterations")                                           \
	_(busy_loops,   "busy_loops",   "iterations that received at least one packet")                   \
	_(cycles,       "cycles",       "TSC cycles of all iterations (the lcore's time polling)")        \
	_(busy_cycles,  "busy_cycles",  "TSC cycles of the iterations that received packets")            \
	_(handoff_out,  "handoff_out",  "packets of meetings another lcore owns, handed to it")           \
	_(handoff_in,   "handoff_in",   "packets handed to this lcore by others (it owns their meeting)") \
	_(held,         "held",         "packets held while a meeting moved here, then processed in order") \
	_(slow_cycles,  "slow_cycles",  "the part of busy_cycles in iterations longer than 1 ms (the "    \
					"thread was most likely descheduled: benchmarks leave them out)") \
	_(slow_copies,  "slow_copies",  "the copies made in those iterations")                           \
	_(rtcp_pkts,    "rtcp_pkts",    "RTCP packets received from known participants (compound: one)")  \
	_(rtcp_out_pkts, "rtcp_out_pkts", "RTCP packets the MMR built and sent (reports, feedback)")  \
	_(rtx_not_kept, "rtx_not_kept", "received packets not kept for resends: the lcore held rtx_max_mbufs already") \
	_(twcc_stamped, "twcc_stamped", "copies stamped with a receiver's transport-wide sequence number (or "  \
					"abs-send-time) and logged for its bandwidth estimate") \
	_(twcc_unstamped, "twcc_unstamped", "copies to a receiver that takes TWCC sent unstamped: the packet " \
					"carried no transport-wide sequence number element") \
	_(bwe_feedback, "bwe_feedback", "TWCC feedback and REMB messages fed to receivers' bandwidth estimates") \
	_(alloc_runs,   "alloc_runs",   "allocations run (a receiver's estimate shared among its subscriptions)") \
	_(probe_pkts,   "probe_pkts",   "probe packets sent (padding or resends) to find headroom") \
	_(speaker_runs, "speaker_runs", "dominant speaker decisions run (one per meeting per interval)") \
	_(ext_bad,      "ext_bad",      "publishers' header extension elements that could not be read (audio " \
					"level, transport-wide seq, abs-send-time: malformed or of the wrong length); " \
					"the packet was forwarded as usual") \
	_(stun_answered, "stun_answered", "STUN connectivity checks answered with a Binding success " \
					"response (ICE-lite)") \
	_(stun_errors,  "stun_errors",  "STUN Binding error responses sent (400, 401, 420, 487)") \
	_(ice_addr_events, "ice_addr_events", "addresses learned from valid checks reported to the " \
					"controller (a new address with USE-CANDIDATE, or a first one)") \
	_(ice_addr_v6,  "ice_addr_v6",  "valid checks from an IPv6 address that would change the participant's " \
					"address: answered, not learned (IPv6 learning is not supported yet)") \
	_(dtls_in,      "dtls_in",      "DTLS datagrams of DTLS participants handed to the DTLS thread") \
	_(dtls_out,     "dtls_out",     "DTLS datagrams the DTLS thread made, sent on this lcore's TX queue") \
	_(slot_switches, "slot_switches", "receivers' video slots that took up a new publisher stream (the " \
					"selection restarts at its keyframe, the slot's numbering continues)") \
	_(slot_nack_stale, "slot_nack_stale", "sequence numbers a receiver NACKed on a video slot from before " \
					"its last publisher change: ignored")

enum mmr_lcore_counter {
#define _(f, name, doc) MMR_LC_##f,
	foreach_mmr_lcore_counter(_)
#undef _
	MMR_LC__COUNT
};
extern const char *const mmr_lcore_counter_names[MMR_LC__COUNT];
extern const char *const mmr_lcore_counter_docs[MMR_LC__COUNT];

/* One worker lcore's counters; padded to its own cache lines. The counters can also be read by
 * index: c[MMR_LC_x] is the field x. */
struct mmr_lcore_stats {
	union {
		struct {
#define _(f, name, doc) uint64_t f;
			foreach_mmr_lcore_counter(_)
#undef _
		};
		uint64_t c[MMR_LC__COUNT];
	};
	uint64_t drops[MMR_DROP__COUNT];
	uint32_t lcore_id;
	uint32_t active;           /* 1 while this slot belongs to a running lcore */
} __attribute__((aligned(64)));

/* A DPDK port's counters, copied from rte_eth_stats by the control thread about every 100 ms. */
struct mmr_port_stats {
	uint64_t ipackets, opackets, ibytes, obytes, imissed, ierrors, oerrors, rx_nombuf;
	uint64_t flow_rules;       /* rte_flow rules steering a participant to its meeting's owner queue,
				      installed now (dataplane/steer.c) */
	uint64_t flow_failed;      /* rules the port refused (it is not tried again: hand-off) */
	uint32_t port_id;
	uint32_t active;
	char name[48];
} __attribute__((aligned(64)));

/* Per-stream counters, each declared once: _(field, "name", "meaning"), uint64_t, counted since the
 * stream was made; `mmrctl stats --streams` shows each under its name. */
#define foreach_mmr_stream_counter(_)                                                                  \
	_(rx_pkts,     "rx_pkts",     "packets received on the stream")                                  \
	_(rx_bytes,    "rx_bytes",    "bytes received on the stream")                                    \
	_(fwd_copies,  "fwd_copies",  "copies sent to receivers")                                        \
	_(layer_drops, "layer_drops", "copies withheld by layer selection")                             \
	_(rtcp_in,     "rtcp_in",     "RTCP packets about the stream: from its publisher, or feedback "    \
				      "from a receiver about its copy")                                  \
	_(sr_in,       "sr_in",       "sender reports from its publisher")                               \
	_(nack_in,     "nack_in",     "packets of it receivers asked for again (NACKed sequence numbers)") \
	_(resent,      "resent",      "packets resent to receivers on the media SSRC (no RTX)")          \
	_(resent_rtx,  "resent_rtx",  "packets resent to receivers as RTX")                              \
	_(resent_hole, "resent_hole", "NACKed packets the receiver never got because the MMR lacked them "  \
				      "then (uplink loss repaired since), resent from its neighbours' fields") \
	_(resend_gone, "resend_gone", "NACKed packets no longer kept (not resent)")                      \
	_(resend_within_rtt, "resend_within_rtt", "NACKed packets not resent: resent to that receiver " \
				      "within its round-trip time")                                      \
	_(pli_in,      "pli_in",      "picture loss indications from receivers")                          \
	_(fir_in,      "fir_in",      "full intra requests from receivers")                               \
	_(kf_requests, "kf_requests", "keyframe requests (PLI or FIR) sent to its publisher")            \
	_(nack_out,    "nack_out",    "lost packets the MMR asked its publisher for (NACKed sequence numbers)") \
	_(rtx_in,      "rtx_in",      "RTX packets from its publisher, unwrapped into the stream")       \
	_(repaired,    "repaired",    "gaps filled by a resent or RTX packet from its publisher")        \
	_(sr_out,      "sr_out",      "sender reports sent to its receivers about their copies")          \
	_(rr_out,      "rr_out",      "receiver report blocks about it sent to its publisher")          \
	_(paused_drops, "paused_drops", "copies withheld because the receiver's subscription is paused (its " \
				      "bandwidth does not carry the lowest layer)")                       \
	_(topn_drops,  "topn_drops",  "audio packets not forwarded: the stream is not among its meeting's top N") \
	_(level,       "level",       "its last audio level (RFC 6464), 0-127 -dBov (127: silence); a value")

enum mmr_stream_counter {
#define _(f, name, doc) MMR_SC_##f,
	foreach_mmr_stream_counter(_)
#undef _
	MMR_SC__COUNT
};
extern const char *const mmr_stream_counter_names[MMR_SC__COUNT];
extern const char *const mmr_stream_counter_docs[MMR_SC__COUNT];

/* Per-stream counters and state, indexed by stream id; written by the lcore that owns the
 * stream's meeting. */
struct mmr_stream_stats {
	union {
		struct {
#define _(f, name, doc) uint64_t f;
			foreach_mmr_stream_counter(_)
#undef _
		};
		uint64_t c[MMR_SC__COUNT];
	};
	uint32_t last_seq;
	uint32_t last_tid;         /* temporal layer of the last packet (video) */
	/* SRTP meetings: position of the stream's inbound context (srtp_fast.h), for `mmrctl stats`
	 * (srtp_roc) only: its highest authenticated RTP index rounded down to 2^15, ROC = srtp_index
	 * >> 16. Set to 0 by the control thread when the context is made, then stored (relaxed atomic)
	 * by the receiving lcore when it changes: twice per 65536 packets. 0 in plain meetings.
	 * Restarts resume from the dataplane's ledger, not from here. */
	uint64_t srtp_index;
	/* Video (issue 12): the bitrate of each layer alone, kbit/s, index sid * MMR_MAX_TLAYERS + tid
	 * (a simulcast encoding's stream has its own, sid 0), measured by the owner lcore and stored at
	 * most every 250 ms; `mmrctl stats --streams` shows the non-zero ones as layer_kbps. */
	uint32_t layer_kbps[MEDIA_MAX_SPATIAL * MMR_MAX_TLAYERS];
};

/* Per-participant RTCP counters and values (version 10), each declared once: _(field, "name",
 * "meaning"), uint64_t, since the participant was made; written by the lcore that owns its meeting;
 * `mmrctl stats --participants` and `mmrctl participant show/list` show them. rtt_us, fraction_lost
 * and cum_lost are values (the latest), the others counts. */
#define foreach_mmr_participant_counter(_)                                                             \
	_(rtt_us,        "rtt_us",        "round-trip time to it in microseconds, from its last report "  \
					  "about a copy we sent it (LSR/DLSR, or XR DLRR); 0: not known; a value") \
	_(fraction_lost, "fraction_lost", "fraction of our copies it lost, from its last report (0-255 = 0-100%); a value") \
	_(cum_lost,      "cum_lost",      "packets of our copies it lost in all, from its last report; a value")   \
	_(rtcp_in,       "rtcp_in",       "RTCP packets received from it")                                \
	_(rtcp_out,      "rtcp_out",      "RTCP packets sent to it (reports and feedback)")               \
	_(nack_in,       "nack_in",       "NACK messages from it (one per FCI entry)")                    \
	_(pli_in,        "pli_in",        "picture loss indications from it")                             \
	_(fir_in,        "fir_in",        "full intra requests from it")                                  \
	_(remb_in,       "remb_in",       "REMB messages from it")     \
	_(twcc_in,       "twcc_in",       "transport-wide congestion control feedback messages from it") \
	_(bwe_bps,       "bwe_bps",       "bandwidth estimated toward it now, bit/s (0: no estimate); a value") \
	_(bwe_delay_bps, "bwe_delay_bps", "the delay-based part of that estimate, bit/s; a value")        \
	_(bwe_loss_bps,  "bwe_loss_bps",  "the loss-based part of that estimate, bit/s; a value")         \
	_(alloc_bps,     "alloc_bps",     "the sum of the bitrates of the layers allocated to it now, bit/s; a value") \
	_(bwe_loss,      "bwe_loss",      "loss fraction its feedback reports, 0-255 = 0-100%; a value")   \
	_(twcc_fb_in,    "twcc_fb_in",    "its TWCC feedback messages used by the estimate")              \
	_(remb_bps,      "remb_bps",      "the last REMB value it sent, bit/s; a value")                  \
	_(bwe_bad_fb,    "bwe_bad_fb",    "feedback items from it refused, whole or in part: malformed, about " \
					  "packets never sent or forgotten, absurd values")               \
	_(probe_pkts,    "probe_pkts",    "probe packets sent to it")                                     \
	_(probe_bytes,   "probe_bytes",   "probe bytes sent to it")                                       \
	_(alloc_runs,    "alloc_runs",    "allocations run for it")                                       \
	_(alloc_changes, "alloc_changes", "subscriptions of it whose allocated layers changed")           \
	_(paused,        "paused",        "its video subscriptions paused now (the lowest layer does not fit); a value") \
	_(twcc_fb_out,   "twcc_fb_out",   "TWCC feedback messages sent to it about what it publishes")    \
	_(remb_out,      "remb_out",      "REMB messages sent to it about what it publishes")             \
	_(bwe_overuse,   "bwe_overuse",   "over-use signals of the delay-based estimate toward it (each a decrease)") \
	_(bwe_burst_ignored, "bwe_burst_ignored", "over-use signals put down to a burst we sent in one go (a keyframe) and not taken") \
	_(probes_ok,     "probes_ok",     "probe clusters to it that raised its estimate")                \
	_(probes_failed, "probes_failed", "probe clusters to it that did not raise its estimate")    \
	_(policed,       "policed",       "its packets dropped over its rate limit (drop reason policed)")

enum mmr_participant_counter {
#define _(f, name, doc) MMR_PC_##f,
	foreach_mmr_participant_counter(_)
#undef _
	MMR_PC__COUNT
};
extern const char *const mmr_participant_counter_names[MMR_PC__COUNT];
extern const char *const mmr_participant_counter_docs[MMR_PC__COUNT];

struct mmr_participant_stats {
	union {
		struct {
#define _(f, name, doc) uint64_t f;
			foreach_mmr_participant_counter(_)
#undef _
		};
		uint64_t c[MMR_PC__COUNT];
	};
};

/* The dataplane's control thread's counters (the cost of table changes), each declared once:
 * _(field, "name", "meaning"), uint64_t, counted since the dataplane started; `mmrctl stats` shows
 * each under its name ("control"). */
#define foreach_mmr_ctl_counter(_)                                                                     \
	_(arrays_published, "arrays_published", "output arrays built and published (one per stream whose receivers changed, per batch)") \
	_(grace_periods,    "grace_periods",    "RCU grace periods waited for (synchronize_rcu)")             \
	_(target_updates,   "target_updates",   "SUB_PUTs that changed only a target: one word stored, nothing published") \
	_(snapshots,        "snapshots",        "event snapshots sent (a controller asked, cmd_chan.h)")       \
	_(snapshot_events,  "snapshot_events",  "events those snapshots sent")                          \
	_(ice_consent_lost, "ice_consent_lost", "ICE participants whose consent expired (no valid check for " \
						"ice_consent_s): reported to the controller, which clears the address") \
	_(dtls_keys,        "dtls_keys",        "DTLS handshakes whose keys were installed in the participant's SRTP contexts") \
	_(dtls_keys_refused, "dtls_keys_refused", "DTLS handshakes whose keys could not be installed (ledger, memory)") \
	/* the DTLS thread's (dtls_path.h; one writer each, like every counter) */ \
	_(dtls_sessions,    "dtls_sessions",    "DTLS sessions made (a participant's first handshake datagram)") \
	_(dtls_replaced,    "dtls_replaced",    "DTLS sessions ended because the participant went or its role or fingerprint changed") \
	_(dtls_connected,   "dtls_connected",   "DTLS handshakes completed (keys exported)") \
	_(dtls_failed,      "dtls_failed",      "DTLS handshakes failed (wrong fingerprint, no common profile, timeout, ...)") \
	_(dtls_ignored,     "dtls_ignored",     "DTLS datagrams a session ignored (not DTLS, too big, over its rate, after it ended)") \
	_(dtls_out_dropped, "dtls_out_dropped", "DTLS datagrams not sent: no mbuf, or the worker's TX ring full") \
	_(dtls_results_full, "dtls_results_full", "handshake results waiting: the ring to the control thread was full (retried)") \
	_(dtls_unknown_late, "dtls_unknown_late", "DTLS datagrams for a participant that was gone or no longer DTLS when the thread read them") \
	/* neighbour resolution (dataplane/neigh.h) */ \
	_(neigh_requests,   "neigh_requests",   "ARP requests and IPv6 neighbour solicitations sent (resolution, refresh, retries)") \
	_(neigh_replies,    "neigh_replies",    "ARP replies, gratuitous ARPs and neighbour advertisements that resolved or refreshed a table entry") \
	_(neigh_changes,    "neigh_changes",    "table entries whose MAC changed (a neighbour announced or answered with a new one)") \
	_(neigh_failed,     "neigh_failed",     "resolutions that ended unanswered (the entry is failed: its copies are dropped as neigh_unresolved)") \
	_(neigh_ignored,    "neigh_ignored",    "ARP replies and advertisements about no table entry, about a static one, or malformed") \
	_(neigh_tx_dropped, "neigh_tx_dropped", "requests or solicitations not sent: no mbuf, or the ring to the worker full")

enum mmr_ctl_counter {
#define _(f, name, doc) MMR_CC_##f,
	foreach_mmr_ctl_counter(_)
#undef _
	MMR_CC__COUNT
};
extern const char *const mmr_ctl_counter_names[MMR_CC__COUNT];
extern const char *const mmr_ctl_counter_docs[MMR_CC__COUNT];

struct mmr_ctl_stats {
	union {
		struct {
#define _(f, name, doc) uint64_t f;
			foreach_mmr_ctl_counter(_)
#undef _
		};
		uint64_t c[MMR_CC__COUNT];
	};
} __attribute__((aligned(64)));

/* The whole counters area. */
struct mmr_stats_area {
	struct mmr_lcore_stats lcore[MMR_MAX_LCORES];
	struct mmr_port_stats port[MMR_MAX_PORTS];
	struct mmr_stream_stats stream[MMR_MAX_STREAMS];
	/* SRTP meetings: position of each subscription's outbound context (its receiver's copies), as
	 * stream[].srtp_index, indexed by subscription id; written by the lcore receiving the stream. */
	uint64_t sub_srtp_index[MMR_MAX_SUBS] __attribute__((aligned(64)));
	struct mmr_ctl_stats ctl;   /* the control thread's */
	/* The worker lcore (index into lcore[]) that owns each meeting, indexed by meeting id:
	 * MMR_OWNER_NONE while the meeting has no participant in the dataplane; MMR_OWNER_MOVING set
	 * during a move (the index is then the lcore it moves to). Written by the dataplane's control
	 * thread; read (relaxed) by the controller for `mmrctl meeting show/list`. */
	uint8_t meeting_owner[MMR_MAX_MEETINGS] __attribute__((aligned(64)));
	/* RTCP per participant (version 10), indexed by participant id; zeroed by the control thread
	 * when the participant is made. */
	struct mmr_participant_stats participant[MMR_MAX_PARTICIPANTS] __attribute__((aligned(64)));
	/* The dominant speaker of each meeting (issue 12), indexed by meeting id: a participant id, or
	 * MMR_ID_NONE (nobody yet, or not decided: no audio levels). Written by the lcore owning the
	 * meeting when it changes (MMR_EV_SPEAKER carries the same value); reset to MMR_ID_NONE by the
	 * control thread when the meeting is made. */
	uint32_t meeting_speaker[MMR_MAX_MEETINGS] __attribute__((aligned(64)));
};

#define MMR_OWNER_NONE   0xffu
#define MMR_OWNER_MOVING 0x80u
#define MMR_OWNER_INDEX  0x7fu

/*
 * The one summary of the lcore counters, used by the dataplane's status line and `mmrctl stats`
 * (per lcore and in total) so that they cannot disagree. A sample is the lcore counters and drops
 * summed over lcores, read with relaxed loads (the readers are not the writers).
 */
struct mmr_stats_sample {
	uint64_t c[MMR_LC__COUNT];
	uint64_t drops[MMR_DROP__COUNT];
};

struct mmr_stats_summary {
	uint64_t drops;            /* packets dropped, all reasons but `layer`, `paused` and `topn` (a
				      withheld copy is selection working, not a loss) */
	uint64_t layer_drops;      /* copies withheld by selection: layer, paused, topn */
	double rx_pps, tx_pps, copies_ps, drops_ps;   /* per second over the interval (0 if dt_s <= 0) */
	double busy_pct;           /* 100 * busy_cycles / cycles over the interval: the share of the
				      lcores' polling time spent in iterations that received packets */
};

/* Add one lcore's counters to s (which the caller zeroed). */
void mmr_stats_sample_add(struct mmr_stats_sample *s, const struct mmr_lcore_stats *l);
/* s = the sum over the active lcores of the area. */
void mmr_stats_sample_area(struct mmr_stats_sample *s, const struct mmr_stats_area *a);
/* Summary of the interval prev -> cur of dt_s seconds; prev NULL: since the lcores started. */
void mmr_stats_summarize(const struct mmr_stats_sample *prev, const struct mmr_stats_sample *cur, double dt_s,
			 struct mmr_stats_summary *out);

#endif
