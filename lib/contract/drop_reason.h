/*
 * drop_reason.h - why the dataplane dropped a packet: the one list of drop reasons (symbol, printed
 * name, meaning), from which the enum, mmr_drop_names[] and mmr_drop_docs[] (drop_reason.c), every
 * output (status line, `mmrctl stats`, mmr-gen) and the docs check (tests/unit/test_counters.c) are
 * made. The parsers include this, not the counters' layout (stats.h).
 *
 * A reason is an index into mmr_lcore_stats.drops[] in the shared segment: adding one, or changing
 * the order, changes that layout (bump MMR_SHM_VERSION, cmd_chan.h; the layout check there fails to
 * compile until then). Add new reasons at the end.
 */
#ifndef MMR_DROP_REASON_H
#define MMR_DROP_REASON_H

/* _(SYMBOL, "name", "meaning") */
#define foreach_mmr_drop(_)                                                                                  \
	_(NONE,           "none",           "not a drop (slot 0, never counted)")                               \
	_(TRUNCATED,      "truncated",      "shorter than its headers say")                                     \
	_(BAD_L2,         "bad_l2",         "not Ethernet/VLAN carrying IPv4/IPv6/ARP")                         \
	_(BAD_IP,         "bad_ip",         "bad IPv4/IPv6 header: version, length, checksum, fragment, options") \
	_(NOT_UDP,        "not_udp",        "IP but neither UDP nor ICMP echo for us")                          \
	_(BAD_UDP,        "bad_udp",        "UDP length inconsistent")                                          \
	_(NOT_FOR_US,     "not_for_us",     "destination address or UDP port not ours")                         \
	_(BAD_RTP,        "bad_rtp",        "RTP header malformed (version, CSRC/extension/padding lengths)")   \
	_(RTCP,           "rtcp",           "RTCP while the dataplane's rtcp is off (config), counted and dropped") \
	_(UNKNOWN_SENDER, "unknown_sender", "no participant with this source address and port")                 \
	_(UNKNOWN_SSRC,   "unknown_ssrc",   "participant known, SSRC not one of its streams (spoofed or stale)") \
	_(BAD_PAYLOAD,    "bad_payload",    "codec payload descriptor malformed")                               \
	_(LAYER,          "layer",          "not forwarded to a receiver by layer selection (per copy)")        \
	_(NO_MBUF,        "no_mbuf",        "mempool empty when building a copy")                               \
	_(TX_FULL,        "tx_full",        "TX queue full: copies the NIC did not take")                       \
	_(ARP_OTHER,      "arp_other",      "ARP not asking for one of our addresses")                          \
	_(SRTP_AUTH,      "srtp_auth",      "SRTP/SRTCP authentication failed (wrong key, tampered, too short)") \
	_(SRTP_REPLAY,    "srtp_replay",    "SRTP/SRTCP replayed or older than the replay window")              \
	_(NO_STRUCTURE,   "no_structure",   "AV1 packet without a usable Dependency Descriptor (extension "     \
					    "missing, or its template structure not received yet)")             \
	_(SRTP_REUSE,     "srtp_reuse",     "SRTP copy not sent: its index was used before under this key "     \
					    "and SSRC, or lies below where the context had to start")           \
	_(SRTP_LEASE,     "srtp_lease",     "SRTP/SRTCP index beyond the context's durable lease (the ledger "  \
					    "has not recorded it yet, or cannot)")                              \
	_(HANDOFF_FULL,   "handoff_full",   "the hand-off ring toward the meeting's owner lcore was full")      \
	_(HOLD_FULL,      "hold_full",      "a meeting moving to this lcore: its hold queue was full")          \
	_(BAD_RTCP,       "bad_rtcp",       "RTCP malformed: version, packet type, lengths, counts or padding " \
					    "inconsistent")                                                     \
	_(RTCP_TRUNCATED, "rtcp_truncated", "RTCP datagram ends before a header or a packet's length does")    \
	_(RTCP_NOT_COMPOUND, "rtcp_not_compound", "RTCP compound required and the first packet is not SR or RR") \
	_(RTCP_UNKNOWN_SSRC, "rtcp_unknown_ssrc", "RTCP feedback or report about an SSRC we do not send that " \
					    "participant")                                                      \
	_(RTX_UNUSED,     "rtx_unused",     "a publisher's RTX packet not used: a packet its stream already holds, " \
					    "padding only, another payload type, or before the stream's payload type is known") \
	_(PAUSED,         "paused",         "not forwarded to a receiver whose subscription the allocator paused " \
					    "(per copy; its bandwidth does not carry the lowest layer)")      \
	_(TOPN,           "topn",           "an audio packet not forwarded: not among its meeting's top N")      \
	_(STUN_BAD,       "stun_bad",       "STUN malformed (lengths, attribute order, trailing bytes), or a " \
					    "Binding request without USERNAME, MESSAGE-INTEGRITY or FINGERPRINT, or " \
					    "with a wrong FINGERPRINT or an unknown comprehension-required attribute " \
					    "(400 or 420 answered where the request parsed)")                     \
	_(STUN_UFRAG,     "stun_ufrag",     "STUN Binding request for an ice-ufrag no participant has (no answer)") \
	_(STUN_AUTH,      "stun_auth",      "STUN Binding request with a wrong MESSAGE-INTEGRITY (401 answered)") \
	_(STUN_ROLE,      "stun_role",      "STUN Binding request from an ICE-CONTROLLED peer: both sides "    \
					    "controlled (487 answered)")                                          \
	_(STUN_OTHER,     "stun_other",     "STUN other than a Binding request (indications, responses, "     \
					    "other methods): ignored")                                            \
	_(NO_ADDRESS,     "no_address",     "a copy not sent: its receiver (ICE) has no address yet, or its "  \
					    "consent expired (per copy)")                                       \
	_(SSRC_LEARNING,  "ssrc_learning",  "an unknown SSRC whose mid/rid (or repaired-rid) header extensions " \
					    "name a stream of its sender whose SSRC is not known yet: reported " \
					    "to the controller (at most once per SSRC per 100 ms) and dropped") \
	_(DTLS_UNKNOWN,   "dtls_unknown",   "DTLS from an address that is no participant's and sent no valid ICE " \
					    "check just before")                                                  \
	_(DTLS_OFF,       "dtls_off",       "DTLS from a participant without --dtls-fp (SDES keys, or plain)") \
	_(DTLS_FULL,      "dtls_full",      "DTLS datagram not handed to the DTLS thread: its ring was full") \
	_(SSRC_LEARN_AUTH, "ssrc_learn_auth", "SRTP meeting: an unknown SSRC whose mid/rid (or repaired-rid) " \
					    "name a stream still learning, but whose SRTP tag does not verify " \
					    "under its sender's key as a new stream (ROC 0): not reported, " \
					    "nothing learned (forged, tampered or without a tag)")             \
	_(POLICED,        "policed",        "over its publisher's rate limit for the stream kind (audio, video, " \
					    "screen, RTCP; the dataplane config's police_*): dropped before " \
					    "decryption and fan-out")                                          \
	_(NOT_ADMITTED,   "not_admitted",   "meeting controls: a packet from a participant in the waiting room " \
					    "(not admitted yet), or a copy toward one (per copy)")              \
	_(MUTED,          "muted",          "meeting controls: media of a kind its sender is muted for "       \
					    "(audio, video or screen)")                                         \
	_(SHARE_DENIED,   "share_denied",   "meeting controls: a screen share the meeting's policy does not "  \
					    "allow this sender (host only, or beyond max sharers)") \
	_(UDP_CHECKSUM,   "udp_checksum",   "UDP checksum wrong (the NIC's verdict, or verified in software): " \
					    "IPv4 checksum 0 means none and is allowed, IPv6 checksum 0 is not") \
	_(VLAN,           "vlan",           "VLAN tag not the port's: tagged on a port without `vlan`, another " \
					    "VLAN or untagged on a port with one, or two tags")               \
	_(DST_MAC,        "dst_mac",        "destination MAC not ours: another unicast MAC, broadcast other " \
					    "than ARP, multicast other than IPv6 neighbour solicitation to " \
					    "all-nodes or our solicited-node group or advertisement to all-nodes") \
	_(NEIGH_UNRESOLVED, "neigh_unresolved", "a copy not sent: the MAC of its next hop (the port's " \
					    "gateway, or the on-link receiver) is not resolved yet, or its " \
					    "resolution failed (per copy; it asks for resolution)")             \
	_(NEIGH_FULL,     "neigh_full",     "ARP reply or neighbour advertisement not handed to the control " \
					    "thread's neighbour table: its ring was full")

enum mmr_drop_reason {
#define _(sym, name, doc) MMR_DROP_##sym,
	foreach_mmr_drop(_)
#undef _
	MMR_DROP__COUNT
};

extern const char *const mmr_drop_names[MMR_DROP__COUNT];
extern const char *const mmr_drop_docs[MMR_DROP__COUNT];

#endif
