/*
 * config.h - the mmr-dataplane configuration file (libconfig syntax, see docs/interfaces.md):
 * what it holds after parsing and the one function that reads and checks it.
 */
#ifndef MMR_DP_CONFIG_H
#define MMR_DP_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include "mmr_types.h"
#include "dp_log.h"

#define DP_MAX_EAL_ARGS 64
#define DP_POLICE_KINDS 4    /* police.h: POLICE__KINDS */

/* How copies of large payloads are built on a port (see fanout.c). */
enum dp_multiseg {
	DP_MULTISEG_AUTO = 0,     /* header mbuf + payload clone if the PMD reports multi-segment TX */
	DP_MULTISEG_ON,           /* always (for PMDs that take chains without saying so, e.g. net_null) */
	DP_MULTISEG_OFF,          /* never: every copy is one memcpy'd mbuf */
};

/* One `ports` entry: our side of DPDK port i. */
struct dp_port_config {
	uint8_t tx_multiseg;      /* enum dp_multiseg */
	uint8_t has_ipv4;
	uint8_t has_ipv6;
	uint8_t has_mac;          /* set the port's own MAC to `mac` */
	uint8_t has_gateway_mac;
	struct mmr_addr ipv4;     /* our address: ARP/ICMP answered, media received, copies sent from */
	struct mmr_addr ipv6;
	uint8_t mac[6];
	uint8_t gateway_mac[6];   /* next hop for receivers that have no MAC of their own: a static
				     entry, never resolved or overwritten (neigh.h) */
	uint8_t has_gateway_ipv4; /* the gateway resolved by ARP / neighbour discovery (neigh.h) */
	uint8_t has_gateway_ipv6;
	uint8_t prefix4;          /* `ipv4_prefix`: receivers inside ipv4/prefix4 are on-link (their
				     own address is resolved); 32 (default): none */
	uint8_t prefix6;          /* `ipv6_prefix`: the same for IPv6; 128 (default): none */
	struct mmr_addr gateway_ipv4;
	struct mmr_addr gateway_ipv6;
	uint32_t n_static;        /* `neighbours`: static entries { ip, mac } */
	struct { struct mmr_addr ip; uint8_t mac[6]; } static_neigh[8];
	uint16_t vlan;            /* 0: untagged frames only; 1..4094: frames of this VLAN only, and
				     everything sent tagged with it */
};

struct dp_config {
	char shm_name[64];
	int eal_argc;                        /* entries of the `eal` list */
	char *eal_argv[DP_MAX_EAL_ARGS];     /* owned copies */
	uint32_t mbufs;                      /* packet pool size per socket */
	uint16_t udp_port;                   /* 0 = any */
	uint32_t n_ports;
	struct dp_port_config port[MMR_MAX_PORTS];
	uint32_t status_interval_ms;         /* 0 = no status line */
	char srtp_ledger[256];               /* the SRTP lease ledger file (srtp_lease.h) */
	uint32_t log_level;                  /* `log_level`: the mmr.* log types' level (dp_log.h, RTE_LOG_*);
					        re-read on SIGHUP */
	char dtls_cert[256];                 /* PEM (key and certificate) of the DTLS identity; "": a fresh
					        certificate per start (dtls_path.h) */
	uint32_t srtp_lease_out;             /* outbound lease window, packets (64..8192) */
	uint32_t srtp_lease_in;              /* inbound lease window, packets (video: twice that) */
	/* RTCP termination and repair (issue 11; docs/interfaces.md) */
	uint8_t  rtcp;                       /* 1: terminate RTCP (default); 0: count it as drop `rtcp` */
	uint32_t rtx_video_packets;          /* packets kept per video stream for resends (power of 2; 0: none) */
	uint32_t rtx_audio_packets;          /* the same per audio stream (default 0) */
	uint32_t rtx_max_mbufs;              /* per worker lcore: mbufs held for resends at most; the
					        packet pool grows by it per worker */
	uint32_t sr_video_ms;                /* sender report interval per video copy */
	uint32_t sr_audio_ms;                /* per audio copy */
	uint32_t rr_ms;                      /* receiver report interval per published stream */
	uint32_t kf_throttle_ms;             /* keyframe requests to one publisher stream at most this often */
	uint32_t nack_max_tries;             /* uplink NACKs per lost packet at most */
	/* audio and uplink feedback (issue 12; dataplane/audio.h, uplink.h) */
	uint32_t speaker_interval_ms;        /* dominant speaker decision per meeting (100..5000) */
	uint32_t topn_ms;                    /* top-N audio ranking per meeting (20..5000) */
	uint32_t twcc_fb_ms;                 /* transport-wide feedback to a publisher (20..1000) */
	uint8_t  verify_udp_checksum;        /* 1 (default): UDP checksums verified on receive (the NIC's
					        verdict or software); 0: not (the bench's comparison only) */
	uint32_t ice_consent_s;              /* ICE consent (RFC 7675): seconds without a valid check
					        before an address is cleared (default 30; 0: never) */
	/* per-receiver downlink bandwidth estimation and allocation (issue 12; dataplane/bwe.h) */
	uint8_t  bwe;                        /* 1 (default): stamp, estimate, allocate; 0: none of it */
	uint8_t  bwe_probe;                  /* 1 (default): probe for headroom before raising */
	uint8_t  bwe_no_feedback_lowest;     /* a receiver that never sent feedback: 0 ceiling, 1 lowest */
	uint32_t bwe_start_kbps;             /* the estimate before any feedback */
	uint32_t bwe_min_kbps;
	uint32_t bwe_max_kbps;
	uint32_t bwe_alloc_ms;               /* allocation per receiver at most this often (or on a >15 % move) */
	/* per-publisher policing (issue 15; dataplane/police.h), re-read on SIGHUP */
	uint8_t  police;                     /* 1 (default): enforce the limits below; 0: none */
	uint32_t police_burst_ms;            /* burst tolerance of every meter */
	uint32_t police_pps[DP_POLICE_KINDS];  /* by enum police_kind (audio, video, screen, rtcp); 0: no limit */
	uint32_t police_kbps[DP_POLICE_KINDS];
	/* neighbour resolution (neigh.h), re-read on SIGHUP */
	uint32_t neigh_reachable_s;          /* a resolved entry is probed again after this (default 30) */
	uint32_t neigh_retrans_ms;           /* between two requests of one resolution (default 1000) */
	uint32_t neigh_tries;                /* requests per resolution before it fails (default 3) */
};

/*
 * Read and check FILE. Returns 0, or -1 with a one-line "FILE:LINE: what is wrong" message in err.
 * Unknown settings are errors (a typo must not silently fall back to a default).
 */
int dp_config_load(const char *path, struct dp_config *cfg, char *err, size_t errlen);

/* Is a on-link on the port: inside its own address's ipv4_prefix / ipv6_prefix (neigh.h)? */
int dp_port_on_link(const struct dp_port_config *pc, const struct mmr_addr *a);
void dp_config_free(struct dp_config *cfg);

/*
 * SIGHUP: take fresh's run-time settings into live (the running dataplane's config; each a single
 * aligned store, so lcores reading live never see half a value), and say which changed ("name
 * old -> new, ...") and which changed but need a restart and were kept ("name, ..."). log_level
 * is left to the caller. Readers that cache a setting (struct worker) refresh it when the control
 * thread bumps their tunables_gen (dataplane.h).
 */
void dp_config_reload(struct dp_config *live, const struct dp_config *fresh, char *changed, size_t changed_len,
		      char *kept, size_t kept_len);

#endif
