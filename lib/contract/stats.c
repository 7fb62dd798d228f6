/*
 * stats.c - the printable names of the drop reasons of stats.h (enum mmr_drop_reason), used by the
 * dataplane's status line, the controller's stats reply and mmrctl. Short snake_case, one word or two.
 */
#include "stats.h"

const char *const mmr_drop_names[MMR_DROP__COUNT] = {
	[MMR_DROP_NONE]           = "none",
	[MMR_DROP_TRUNCATED]      = "truncated",
	[MMR_DROP_BAD_L2]         = "bad_l2",
	[MMR_DROP_BAD_IP]         = "bad_ip",
	[MMR_DROP_NOT_UDP]        = "not_udp",
	[MMR_DROP_BAD_UDP]        = "bad_udp",
	[MMR_DROP_NOT_FOR_US]     = "not_for_us",
	[MMR_DROP_BAD_RTP]        = "bad_rtp",
	[MMR_DROP_RTCP]           = "rtcp",
	[MMR_DROP_UNKNOWN_SENDER] = "unknown_sender",
	[MMR_DROP_UNKNOWN_SSRC]   = "unknown_ssrc",
	[MMR_DROP_BAD_PAYLOAD]    = "bad_payload",
	[MMR_DROP_LAYER]          = "layer",
	[MMR_DROP_NO_MBUF]        = "no_mbuf",
	[MMR_DROP_TX_FULL]        = "tx_full",
	[MMR_DROP_ARP_OTHER]      = "arp_other",
	[MMR_DROP_SRTP_AUTH]      = "srtp_auth",
	[MMR_DROP_SRTP_REPLAY]    = "srtp_replay",
	[MMR_DROP_NO_STRUCTURE]   = "no_structure",
	[MMR_DROP_SRTP_REUSE]     = "srtp_reuse",
	[MMR_DROP_SRTP_LEASE]     = "srtp_lease",
};

/* A reason added to the enum without a name here leaves a NULL: test_mmr_types.c checks every slot. */
_Static_assert(MMR_DROP__COUNT == 21, "new drop reason: give it a name in mmr_drop_names[]");
