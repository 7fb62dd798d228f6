/*
 * main.c - mmr-gen: a DPDK meeting traffic generator for benchmarking the MMR.
 *
 *   mmr-gen [OPTIONS] [-- EAL ARGS]        (mmr-gen --help lists the options)
 *
 * It emulates N meetings of M participants (model.h): every publisher sends VP8 L1T3 video (or
 * VP9 / AV1 L3T3 with --video) and Opus audio (media.h) with fresh sequence numbers, timestamps and PictureIDs, plain or SRTP,
 * through one DPDK port (memif to a dataplane on the same machine, or a real NIC), at real time
 * times a scale, at a given packet rate, or as fast as the port takes packets. It receives the
 * copies the MMR sends back and measures loss and one-way latency (rx_track.h), reads the
 * dataplane's own busy-cycle counters at the edges of the measurement window (dp_counters.h),
 * optionally drives table updates (updates.h), sets the meetings up (setup.h), and can write its
 * traffic to a pcap file (with --pcap-only, without DPDK at all).
 *
 * One lcore does everything: per loop iteration it generates what is due, transmits, receives a
 * burst, polls the updates, and once a second prints a progress line. A run is warm-up, a
 * measurement window, and a short drain (transmission stopped, copies in flight still counted).
 * The result is one JSON object (--json FILE, or stdout).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "dp_counters.h"
#include "dtls_bench.h"
#include "gcm_bench.h"
#include "latency_hist.h"
#include "media.h"
#include "model.h"
#include "pcap_out.h"
#include "rx_track.h"
#include "setup.h"
#include "srtp_fast.h"
#include "stats.h"
#include "stun_checks.h"
#include "version.h"
#include "twcc_fb.h"
#include "updates.h"

#define EXIT_USAGE 2
#define TXQ_CAP    1024u
#define RX_BURST   64u
#define TX_BURST   64u
#define FRAME_ROOM 1600u

enum setup_mode { SETUP_NONE = 0, SETUP_CTL, SETUP_RING, SETUP_SCRIPT };

struct gen_opts {
	uint32_t meetings, participants, video_pubs, audio_pubs;
	struct gen_media_cfg mc;
	double scale, pps;
	double nack_per_s;        /* receivers' NACKs a second (0: none) */
	double twcc_fb_per_s;     /* TWCC feedbacks a second per port-0 receiver (0: none) */
	double stun_per_s;        /* connectivity checks a second, all participants (0: none) */
	int twcc;                 /* participants negotiate transport-cc (set-up) */
	uint32_t top_n;           /* meetings with top-N audio (set-up), 0: none */
	int video_slots;          /* ring set-up: receivers get video on receive slots (issue 13) */
	int max_rate;
	int mid_ext;              /* participants negotiate mid (id 9, set-up --ext mid=9) */
	unsigned queues;          /* port queues (memif: as many as the peer has); we send on queue 0 */
	double duration, warmup, drain;
	const char *mmr_ip, *gen_ip, *base_ip, *mmr_mac, *src_mac;
	uint16_t mmr_port;
	int sink_port;
	uint32_t probe_stride;
	enum setup_mode setup;
	const char *script, *socket, *shm, *dp_shm;
	int shuffle_ids;
	enum srtp_suite srtp;
	uint32_t srtp_rx_every;
	enum upd_mode upd;
	double upd_rate;
	uint32_t upd_flows, upd_inflight;
	int upd_bulk;
	int upd_targets;
	const char *pcap, *rx_pcap;
	uint64_t pcap_packets;
	int pcap_only;
	const char *json;
	int quiet;
	uint16_t port;
	uint32_t mbufs;
	int udp_csum;
	double gcm_seconds;
	double dtls_seconds;
	double setup_delay;
};

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: mmr-gen [OPTIONS] [-- EAL ARGS]\n"
"meetings:\n"
"  --meetings N            meetings (8)\n"
"  --participants M        participants per meeting (8)\n"
"  --video-pubs V          video publishers per meeting (default: all participants)\n"
"  --audio-pubs A          audio publishers per meeting (default: as many as video)\n"
"media:\n"
"  --video vp8|vp9|av1     video codec: VP8 L1T3 (default), VP9 or AV1 L3T3 (3 spatial layers)\n"
"  --dd-ext ID             AV1: Dependency Descriptor extension id, 1-14 (3)\n"
"  --video-kbps K          video bitrate per publisher, all layers (1000)\n"
"  --keyframe-ms T         a keyframe every T virtual ms (5000; 0: only the first)\n"
"  --mtu-payload B         largest RTP payload after the header (1200)\n"
"  --audio-bytes B         Opus payload bytes per 20 ms (100)\n"
"  --fixed-rtp-bytes B     every video RTP packet exactly B bytes (header included)\n"
"  --no-rtp-ext            no RTP header extension (default: 12 bytes, like a browser)\n"
"  --browser-ext           VP8 and audio: 8 more extension bytes, the rest of a browser's set on its\n"
"                          first packets: mid (id 9), playout-delay (6), video-content-type (7)\n"
"  --mid-ext                with --browser-ext: participants negotiate that mid id (set-up --ext mid=9),\n"
"                          so the MMR blanks the element in every packet before its copies\n"
"  --level-ext ID          audio packets carry the audio level (RFC 6464) as extension ID (3-14),\n"
"                          one loud talker per meeting at a time (participants: --ext audio-level=ID)\n"
"  --udp-csum              compute UDP checksums (default 0, valid for IPv4)\n"
"rate and time:\n"
"  --scale X               virtual time runs X times real time (1)\n"
"  --pps R                 aim at R packets/s (sets the scale from the model)\n"
"  --max                   as fast as the port takes packets\n"
"  --queues N              configure N queues on the port (a memif peer with N queues); send on\n"
"                          the first, receive on all\n"
"  --warmup S --duration S --drain S    phases of the run in seconds (1, 5, 0.2)\n"
"addresses:\n"
"  --mmr-ip A --mmr-port P the MMR's address and media port (198.18.0.2, 5000)\n"
"  --mmr-mac MAC           the MMR port's MAC (default: ask with ARP)\n"
"  --gen-ip A              our address for ARP (198.18.0.1)\n"
"  --src-mac MAC           our MAC (default: the port's)\n"
"  --base-ip A             participant p is A + p (198.18.1.0)\n"
"  --sink-port N           receivers reached through dataplane port N instead of 0 ...\n"
"  --probe-stride K        ... except every K-th participant of a meeting (probes, back to us)\n"
"set-up:\n"
"  --setup ctl|ring|none   through mmr-controller, the dataplane's command ring, or not at all\n"
"  --setup-script FILE     write the mmrctl commands to FILE (and exit unless traffic is asked)\n"
"  --setup-delay S         wait S seconds after the link is up before setting up (0)\n"
"  --socket PATH           controller socket (/run/mmr/mmr.sock)\n"
"  --shm NAME              dataplane segment for ring set-up/updates and counters (/mmr-dp0)\n"
"  --dp-shm NAME           read the dataplane's counters from NAME (default: --shm)\n"
"  --shuffle-ids           ring set-up: subscription ids in random order\n"
"  --srtp SUITE            SRTP (e.g. AEAD_AES_128_GCM; keys from the controller: --setup ctl)\n"
"  --srtp-rx-every N       decrypt one received copy in N per flow (1)\n"
"  --twcc                  participants take transport-wide feedback: --rtcp nack,pli,fir,twcc\n"
"                          --ext twcc=1 (the MMR stamps their copies, sends them feedback)\n"
"  --top-n N               meetings with top-N audio (meeting create --top-n N)\n"
"  --video-slots           (--setup ring) every receiver gets each video stream on a receive slot of\n"
"                          its own (issue 13: a slot subscription + the stream on it) instead of a\n"
"                          per-pair subscription; the same copies, through the slot path\n"
"updates:\n"
"  --updates ctl|ring      change out SSRCs of subscriptions during the window\n"
"  --update-rate R         updates per second (0: as fast as possible)\n"
"  --update-flows N        subscriptions touched (256)\n"
"  --update-inflight K     concurrent controller requests (4)\n"
"  --update-bulk           ring: also update every subscription of non-probe receivers\n"
"  --update-targets        ring: change temporal targets instead of out SSRCs (effects not measured)\n"
"output:\n"
"  --pcap FILE             write the first --pcap-packets sent frames (10000) to FILE\n"
"  --pcap-only             no DPDK: write --duration virtual seconds of traffic to --pcap\n"
"  --rx-pcap FILE          write the first --pcap-packets received frames to FILE\n"
"  --json FILE             the result object (default: stdout)\n"
"  --port N                DPDK port to use (0)\n"
"  --mbufs N               mbufs in our pool (65535)\n"
"  --quiet                 no progress lines\n"
"loss repair:\n"
"  --nack-per-s R          receivers send R generic NACKs a second (RR + NACK, each asking 17\n"
"                          packets their video stream sent recently) during the run\n"
"bandwidth estimation:\n"
"  --twcc-fb-per-s R       every receiver of port 0 sends R transport-wide feedbacks a second\n"
"                          (RR + RTPFB FMT 15 of the copies it received; implies --twcc)\n"
"ICE:\n"
"  --stun-per-s R          participants get ICE credentials at set-up (ctl or script) and send R\n"
"                          connectivity checks a second in all, in turn, from their addresses\n"
"                          (inf: as fast as the port takes them); the answers are counted\n"
"other:\n"
"  --gcm-bench SECONDS     no traffic: this core's raw OpenSSL AES-128-GCM rate on 1200-byte\n"
"                          packets (12-byte header authenticated, the rest encrypted), and the cost\n"
"                          of SRTP index leases (leased vs unleased protect, alternating), as JSON\n"
"  --dtls-bench SECONDS    no traffic: DTLS-SRTP handshakes (lib/dtls server and client sessions in\n"
"                          memory on this thread): the server side's rate and the pair's, as JSON\n");
}

static int parse_ip(const char *s, uint32_t *out)
{
	struct mmr_addr a;
	if (mmr_addr_parse(s, &a) < 0 || a.family != MMR_AF_INET)
		return -1;
	*out = ((uint32_t)a.ip[0] << 24) | ((uint32_t)a.ip[1] << 16) | ((uint32_t)a.ip[2] << 8) | a.ip[3];
	return 0;
}

static int parse_u32(const char *s, uint32_t *out, uint32_t min, uint32_t max)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 0);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int parse_double(const char *s, double *out, double min)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= min))
		return -1;
	*out = v;
	return 0;
}

enum {
	O_MEETINGS = 256, O_PARTS, O_VPUBS, O_APUBS, O_KBPS, O_KEYMS, O_MTU, O_ABYTES, O_FIXED, O_NOEXT,
	O_CSUM, O_SCALE, O_PPS, O_MAX, O_WARMUP, O_DURATION, O_DRAIN, O_MMRIP, O_MMRPORT, O_MMRMAC,
	O_GENIP, O_SRCMAC, O_BASEIP, O_SINK, O_PROBE, O_SETUP, O_SCRIPT, O_SETUPDELAY, O_SOCKET, O_SHM, O_DPSHM,
	O_SHUFFLE, O_SRTP, O_SRTPEVERY, O_UPD, O_UPDRATE, O_UPDFLOWS, O_UPDINFL, O_UPDBULK, O_UPDTGT, O_PCAP, O_PCAPN,
	O_PCAPONLY, O_RXPCAP, O_JSON, O_PORT, O_MBUFS, O_QUIET, O_GCM, O_DTLSB, O_VIDEO, O_DDEXT, O_QUEUES, O_NACKS,
	O_LEVELEXT, O_TWCC, O_TOPN, O_TWCCFB, O_STUN, O_BROWSEREXT, O_MIDEXT, O_VSLOTS, O_HELP
};

static const struct option long_opts[] = {
	{ "meetings", 1, 0, O_MEETINGS }, { "participants", 1, 0, O_PARTS },
	{ "video-pubs", 1, 0, O_VPUBS }, { "audio-pubs", 1, 0, O_APUBS },
	{ "video-kbps", 1, 0, O_KBPS }, { "keyframe-ms", 1, 0, O_KEYMS },
	{ "mtu-payload", 1, 0, O_MTU }, { "audio-bytes", 1, 0, O_ABYTES },
	{ "fixed-rtp-bytes", 1, 0, O_FIXED }, { "no-rtp-ext", 0, 0, O_NOEXT },
	{ "udp-csum", 0, 0, O_CSUM }, { "scale", 1, 0, O_SCALE }, { "pps", 1, 0, O_PPS },
	{ "max", 0, 0, O_MAX }, { "queues", 1, 0, O_QUEUES }, { "warmup", 1, 0, O_WARMUP }, { "duration", 1, 0, O_DURATION },
	{ "drain", 1, 0, O_DRAIN }, { "mmr-ip", 1, 0, O_MMRIP }, { "mmr-port", 1, 0, O_MMRPORT },
	{ "mmr-mac", 1, 0, O_MMRMAC }, { "gen-ip", 1, 0, O_GENIP }, { "src-mac", 1, 0, O_SRCMAC },
	{ "base-ip", 1, 0, O_BASEIP }, { "sink-port", 1, 0, O_SINK },
	{ "probe-stride", 1, 0, O_PROBE }, { "setup", 1, 0, O_SETUP },
	{ "setup-script", 1, 0, O_SCRIPT }, { "setup-delay", 1, 0, O_SETUPDELAY }, { "socket", 1, 0, O_SOCKET }, { "shm", 1, 0, O_SHM },
	{ "dp-shm", 1, 0, O_DPSHM }, { "shuffle-ids", 0, 0, O_SHUFFLE }, { "srtp", 1, 0, O_SRTP },
	{ "srtp-rx-every", 1, 0, O_SRTPEVERY }, { "updates", 1, 0, O_UPD },
	{ "update-rate", 1, 0, O_UPDRATE }, { "update-flows", 1, 0, O_UPDFLOWS },
	{ "update-inflight", 1, 0, O_UPDINFL }, { "update-bulk", 0, 0, O_UPDBULK }, { "update-targets", 0, 0, O_UPDTGT }, { "pcap", 1, 0, O_PCAP },
	{ "pcap-packets", 1, 0, O_PCAPN }, { "pcap-only", 0, 0, O_PCAPONLY }, { "rx-pcap", 1, 0, O_RXPCAP }, { "json", 1, 0, O_JSON },
	{ "port", 1, 0, O_PORT }, { "mbufs", 1, 0, O_MBUFS }, { "quiet", 0, 0, O_QUIET }, { "gcm-bench", 1, 0, O_GCM }, { "dtls-bench", 1, 0, O_DTLSB },
	{ "video", 1, 0, O_VIDEO }, { "dd-ext", 1, 0, O_DDEXT }, { "nack-per-s", 1, 0, O_NACKS },
	{ "level-ext", 1, 0, O_LEVELEXT }, { "twcc", 0, 0, O_TWCC }, { "top-n", 1, 0, O_TOPN },
	{ "twcc-fb-per-s", 1, 0, O_TWCCFB }, { "stun-per-s", 1, 0, O_STUN },
	{ "browser-ext", 0, 0, O_BROWSEREXT }, { "mid-ext", 0, 0, O_MIDEXT }, { "video-slots", 0, 0, O_VSLOTS },
	{ "help", 0, 0, O_HELP }, { 0, 0, 0, 0 }
};

static int bad(const char *opt, const char *val)
{
	fprintf(stderr, "mmr-gen: bad value for --%s: '%s'\n", opt, val);
	return -1;
}

/* Returns 0, 1 (--help given) or -1. */
static int parse_opts(int argc, char **argv, struct gen_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->meetings = 8;
	o->participants = 8;
	o->video_pubs = o->audio_pubs = UINT32_MAX;
	o->mc = (struct gen_media_cfg){ .video_kbps = 1000, .keyframe_ms = 5000, .mtu_payload = 1200,
					.audio_bytes = 100, .fixed_video_bytes = 0, .rtp_ext = 1,
					.video_codec = GEN_VC_VP8, .dd_ext_id = GEN_DD_EXT_ID };
	o->scale = 1;
	o->duration = 5;
	o->warmup = 1;
	o->drain = 0.2;
	o->mmr_ip = "198.18.0.2";
	o->gen_ip = "198.18.0.1";
	o->base_ip = "198.18.1.0";
	o->mmr_port = 5000;
	o->sink_port = -1;
	o->probe_stride = 1;
	o->socket = getenv("MMR_SOCKET") ? getenv("MMR_SOCKET") : "/run/mmr/mmr.sock";
	o->shm = "/mmr-dp0";
	o->srtp_rx_every = 1;
	o->upd_flows = 256;
	o->upd_inflight = 4;
	o->pcap_packets = 10000;
	o->mbufs = 65535;

	int c;
	uint32_t u;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", long_opts, NULL)) != -1) {
		const char *name = NULL;
		for (const struct option *lo = long_opts; lo->name; lo++)
			if (lo->val == c)
				name = lo->name;
		switch (c) {
		case O_MEETINGS: if (parse_u32(optarg, &o->meetings, 1, 1u << 17)) return bad(name, optarg); break;
		case O_PARTS: if (parse_u32(optarg, &o->participants, 2, 1u << 17)) return bad(name, optarg); break;
		case O_VPUBS: if (parse_u32(optarg, &o->video_pubs, 0, 1u << 17)) return bad(name, optarg); break;
		case O_APUBS: if (parse_u32(optarg, &o->audio_pubs, 0, 1u << 17)) return bad(name, optarg); break;
		case O_KBPS: if (parse_u32(optarg, &o->mc.video_kbps, 10, 20000)) return bad(name, optarg); break;
		case O_KEYMS: if (parse_u32(optarg, &o->mc.keyframe_ms, 0, 3600000)) return bad(name, optarg); break;
		case O_MTU: if (parse_u32(optarg, &o->mc.mtu_payload, 64, 1400)) return bad(name, optarg); break;
		case O_ABYTES: if (parse_u32(optarg, &o->mc.audio_bytes, 20, 1200)) return bad(name, optarg); break;
		case O_FIXED: if (parse_u32(optarg, &o->mc.fixed_video_bytes, 80, 1440)) return bad(name, optarg); break;
		case O_NOEXT: o->mc.rtp_ext = 0; break;
		case O_BROWSEREXT: o->mc.browser_ext = 1; break;
		case O_MIDEXT: o->mid_ext = 1; break;
		case O_VIDEO:
			if (strcmp(optarg, "vp8") == 0)
				o->mc.video_codec = GEN_VC_VP8;
			else if (strcmp(optarg, "vp9") == 0)
				o->mc.video_codec = GEN_VC_VP9;
			else if (strcmp(optarg, "av1") == 0)
				o->mc.video_codec = GEN_VC_AV1;
			else
				return bad(name, optarg);
			break;
		case O_DDEXT:
			if (parse_u32(optarg, &u, 1, 14)) return bad(name, optarg);
			o->mc.dd_ext_id = (uint8_t)u;
			break;
		case O_CSUM: o->udp_csum = 1; break;
		case O_SCALE: if (parse_double(optarg, &o->scale, 1e-6)) return bad(name, optarg); break;
		case O_PPS: if (parse_double(optarg, &o->pps, 1)) return bad(name, optarg); break;
		case O_MAX: o->max_rate = 1; break;
		case O_QUEUES: if (parse_u32(optarg, &u, 1, RTE_MAX_QUEUES_PER_PORT)) return bad(name, optarg); o->queues = u; break;
		case O_WARMUP: if (parse_double(optarg, &o->warmup, 0)) return bad(name, optarg); break;
		case O_DURATION: if (parse_double(optarg, &o->duration, 0.01)) return bad(name, optarg); break;
		case O_DRAIN: if (parse_double(optarg, &o->drain, 0)) return bad(name, optarg); break;
		case O_MMRIP: o->mmr_ip = optarg; break;
		case O_MMRPORT: if (parse_u32(optarg, &u, 1, 65535)) return bad(name, optarg); o->mmr_port = (uint16_t)u; break;
		case O_MMRMAC: o->mmr_mac = optarg; break;
		case O_GENIP: o->gen_ip = optarg; break;
		case O_SRCMAC: o->src_mac = optarg; break;
		case O_BASEIP: o->base_ip = optarg; break;
		case O_SINK: if (parse_u32(optarg, &u, 1, MMR_MAX_PORTS - 1)) return bad(name, optarg); o->sink_port = (int)u; break;
		case O_PROBE: if (parse_u32(optarg, &o->probe_stride, 1, 1u << 17)) return bad(name, optarg); break;
		case O_SETUP:
			if (!strcmp(optarg, "ctl")) o->setup = SETUP_CTL;
			else if (!strcmp(optarg, "ring")) o->setup = SETUP_RING;
			else if (!strcmp(optarg, "none")) o->setup = SETUP_NONE;
			else return bad(name, optarg);
			break;
		case O_SCRIPT: o->script = optarg; break;
		case O_SETUPDELAY: if (parse_double(optarg, &o->setup_delay, 0)) return bad(name, optarg); break;
		case O_SOCKET: o->socket = optarg; break;
		case O_SHM: o->shm = optarg; break;
		case O_DPSHM: o->dp_shm = optarg; break;
		case O_SHUFFLE: o->shuffle_ids = 1; break;
		case O_SRTP:
			o->srtp = srtp_suite_from_name(optarg);
			if (o->srtp == SRTP_SUITE_NONE) return bad(name, optarg);
			break;
		case O_SRTPEVERY: if (parse_u32(optarg, &o->srtp_rx_every, 1, 1000000)) return bad(name, optarg); break;
		case O_UPD:
			if (!strcmp(optarg, "ctl")) o->upd = UPD_CTL;
			else if (!strcmp(optarg, "ring")) o->upd = UPD_RING;
			else return bad(name, optarg);
			break;
		case O_UPDRATE: if (parse_double(optarg, &o->upd_rate, 0)) return bad(name, optarg); break;
		case O_UPDFLOWS: if (parse_u32(optarg, &o->upd_flows, 1, 1u << 20)) return bad(name, optarg); break;
		case O_UPDINFL: if (parse_u32(optarg, &o->upd_inflight, 1, 60)) return bad(name, optarg); break;
		case O_UPDBULK: o->upd_bulk = 1; break;
		case O_UPDTGT: o->upd_targets = 1; break;
		case O_PCAP: o->pcap = optarg; break;
		case O_PCAPN: if (parse_u32(optarg, &u, 0, UINT32_MAX)) return bad(name, optarg); o->pcap_packets = u; break;
		case O_PCAPONLY: o->pcap_only = 1; break;
		case O_RXPCAP: o->rx_pcap = optarg; break;
		case O_JSON: o->json = optarg; break;
		case O_PORT: if (parse_u32(optarg, &u, 0, RTE_MAX_ETHPORTS - 1)) return bad(name, optarg); o->port = (uint16_t)u; break;
		case O_MBUFS: if (parse_u32(optarg, &o->mbufs, 1023, 1u << 22)) return bad(name, optarg); break;
		case O_QUIET: o->quiet = 1; break;
		case O_NACKS: if (parse_double(optarg, &o->nack_per_s, 0)) return bad(name, optarg); break;
		case O_LEVELEXT:
			if (parse_u32(optarg, &u, 1, 14)) return bad(name, optarg);
			o->mc.level_ext_id = (uint8_t)u;
			break;
		case O_TWCC: o->twcc = 1; break;
		case O_TOPN: if (parse_u32(optarg, &o->top_n, 1, 8)) return bad(name, optarg); break;
		case O_VSLOTS: o->video_slots = 1; break;
		case O_TWCCFB:
			if (parse_double(optarg, &o->twcc_fb_per_s, 0)) return bad(name, optarg);
			o->twcc = 1;
			break;
		case O_STUN: if (parse_double(optarg, &o->stun_per_s, 0)) return bad(name, optarg); break;
		case O_GCM: if (parse_double(optarg, &o->gcm_seconds, 0.01)) return bad(name, optarg); break;
		case O_DTLSB: if (parse_double(optarg, &o->dtls_seconds, 0.01)) return bad(name, optarg); break;
		case 'h':
		case O_HELP: return 1;
		default: return -1;
		}
	}
	if (optind < argc && strcmp(argv[optind - 1], "--") != 0) {
		fprintf(stderr, "mmr-gen: unexpected argument '%s' (EAL arguments go after --)\n", argv[optind]);
		return -1;
	}
	if (o->video_pubs == UINT32_MAX)
		o->video_pubs = o->participants;
	if (o->audio_pubs == UINT32_MAX)
		o->audio_pubs = o->video_pubs;
	if (o->video_pubs > o->participants || o->audio_pubs > o->participants) {
		fprintf(stderr, "mmr-gen: more publishers than participants\n");
		return -1;
	}
	if (o->mc.fixed_video_bytes && o->mc.fixed_video_bytes < 12 + 12 + GEN_VP8_DESC_LEN + 32) {
		fprintf(stderr, "mmr-gen: --fixed-rtp-bytes too small for headers and the stamp\n");
		return -1;
	}
	if (o->mc.video_codec == GEN_VC_AV1 && o->mc.rtp_ext && o->mc.dd_ext_id <= 2) {
		fprintf(stderr, "mmr-gen: --dd-ext %u collides with the browser-like extension ids 1 and 2 "
			"(give 3-14, or --no-rtp-ext)\n", o->mc.dd_ext_id);
		return -1;
	}
	o->mc.talkers = o->audio_pubs;
	if (o->mc.level_ext_id && (!o->mc.rtp_ext || o->mc.level_ext_id <= 2 ||
				   (o->mc.video_codec == GEN_VC_AV1 && o->mc.level_ext_id == o->mc.dd_ext_id))) {
		fprintf(stderr, "mmr-gen: --level-ext needs the RTP extension and an id other than 1, 2 "
			"(transport-cc, abs-send-time) and the AV1 --dd-ext\n");
		return -1;
	}
	if (o->mc.browser_ext && (!o->mc.rtp_ext || o->mc.video_codec != GEN_VC_VP8 || o->mc.level_ext_id == 6 ||
				  o->mc.level_ext_id == 7 || o->mc.level_ext_id == 9)) {
		fprintf(stderr, "mmr-gen: --browser-ext goes with VP8 video and the RTP extension, and takes ids 6, 7 "
			"and 9 (not for --level-ext)\n");
		return -1;
	}
	if (o->mid_ext && (!o->mc.browser_ext || o->setup == SETUP_RING)) {
		fprintf(stderr, "mmr-gen: --mid-ext goes with --browser-ext and a ctl or script set-up\n");
		return -1;
	}
	if (o->twcc && !o->mc.rtp_ext) {
		fprintf(stderr, "mmr-gen: --twcc needs the RTP extension (no --no-rtp-ext)\n");
		return -1;
	}
	if (o->srtp != SRTP_SUITE_NONE && o->setup != SETUP_CTL && !o->pcap_only) {
		fprintf(stderr, "mmr-gen: --srtp needs --setup ctl (the keys come from the controller)\n");
		return -1;
	}
	if (o->stun_per_s > 0 && o->setup != SETUP_CTL && !o->script) {
		fprintf(stderr, "mmr-gen: --stun-per-s needs --setup ctl or --setup-script (ICE credentials)\n");
		return -1;
	}
	if (o->upd == UPD_RING && o->setup != SETUP_RING) {
		fprintf(stderr, "mmr-gen: --updates ring needs --setup ring\n");
		return -1;
	}
	if (o->upd_targets && o->upd != UPD_RING) {
		fprintf(stderr, "mmr-gen: --update-targets needs --updates ring\n");
		return -1;
	}
	if (o->upd == UPD_CTL && o->setup != SETUP_CTL) {
		fprintf(stderr, "mmr-gen: --updates ctl needs --setup ctl\n");
		return -1;
	}
	if (o->pcap_only && !o->pcap) {
		fprintf(stderr, "mmr-gen: --pcap-only needs --pcap FILE\n");
		return -1;
	}
	if (!o->dp_shm && (o->setup == SETUP_RING || o->setup == SETUP_CTL))
		o->dp_shm = o->shm;
	return 0;
}

/* ---- the run ---------------------------------------------------------------------------------- */

struct gen {
	struct gen_opts *o;
	uint16_t nq, rxq;         /* port queues; the next one to receive from */
	struct gen_model m;
	struct gen_net net;
	struct rx_track rx;
	struct updates upd;
	struct gen_setup su;
	struct cmd_chan dp;            /* the dataplane's segment, if mapped */
	int have_dp;
	struct rte_mempool *pool;
	uint16_t port;
	uint64_t hz;

	struct rte_mbuf *pend[TXQ_CAP];
	uint32_t npend;
	uint64_t slot_abs;             /* virtual ms */
	uint32_t ev_cursor;
	double cycles_per_slot;        /* 0: as fast as possible */
	struct pcap_out pcap, rx_pcap;
	uint64_t pcap_left, rx_pcap_left;
	uint64_t t_start;

	struct srtp_keys **send_keys, **recv_keys;

	uint64_t tx_pkts, tx_bytes, tx_nombuf, tx_srtp_fail;
	uint64_t w_tx_pkts, w_tx_bytes;
	uint64_t nacks_sent, w_nacks;  /* --nack-per-s: NACK packets sent (all, in the window) */
	uint32_t nack_stream, nack_rank;  /* the next video stream and receiver rank to NACK for */
	struct twcc_fb_gen fb;         /* --twcc-fb-per-s: the receivers' feedback */
	int have_fb;
	uint64_t fb_turns, w_fb, w_fb_statuses;  /* feedback turns so far; sent in the window */
	struct stun_checks stun;       /* --stun-per-s */
	int have_stun;
	uint64_t w_stun_sent, w_stun_answered, w_stun_errors;   /* in the window */
	struct dp_snapshot dp0, dp1;
	uint64_t t_w0, t_w1;
};

/* The `participant add --ext` list of the run's options ("" when none is negotiated). */
static void gen_ext_list(const struct gen_opts *o, char *buf, size_t len)
{
	int n = 0;
	buf[0] = 0;
	if (o->twcc)
		n += snprintf(buf + n, len - (size_t)n, "twcc=%u", GEN_TWCC_EXT_ID);
	if (o->mc.level_ext_id)
		n += snprintf(buf + n, len - (size_t)n, "%saudio-level=%u", n ? "," : "", o->mc.level_ext_id);
	if (o->mid_ext)
		snprintf(buf + n, len - (size_t)n, "%smid=%u", n ? "," : "", GEN_MID_EXT_ID);
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	return mmr_mac_parse(s, mac);
}

/* One event of stream si (a frame or an audio packet) into the pending TX queue. */
static void emit_event(struct gen *g, uint32_t si)
{
	struct gen_stream *s = &g->m.streams[si];
	struct gen_frame_plan fp;
	gen_frame_plan(&g->o->mc, s, &fp);
	struct rte_mbuf **mb = &g->pend[g->npend];
	if (rte_pktmbuf_alloc_bulk(g->pool, mb, fp.npkts) != 0) {
		g->tx_nombuf += fp.npkts;
		return;
	}
	uint64_t tsc = rte_rdtsc();
	uint32_t ip = gen_part_ip(&g->m, s->part);
	uint16_t port = gen_part_port(s->part);
	uint32_t n = 0;
	for (uint32_t i = 0; i < fp.npkts; i++) {
		struct rte_mbuf *b = mb[i];
		uint8_t *f = rte_pktmbuf_mtod(b, uint8_t *);
		uint8_t *rtp = f + GEN_L2L3_LEN;
		uint32_t len = gen_build_rtp(&g->o->mc, s, si, &fp, i, tsc, rtp);
		if (s->srtp) {
			len = srtp_protect_rtp_copy(s->srtp, rtp, len, rtp, FRAME_ROOM - GEN_L2L3_LEN);
			if (len == 0) {
				g->tx_srtp_fail++;
				rte_pktmbuf_free(b);
				continue;
			}
		}
		uint32_t flen = gen_write_l2l3(&g->net, ip, port, f, len);
		b->data_len = (uint16_t)flen;
		b->pkt_len = flen;
		if (g->pcap_left) {
			pcap_out_frame(&g->pcap, f, flen, (uint64_t)((double)(tsc - g->t_start) * 1e9 / (double)g->hz));
			g->pcap_left--;
		}
		g->tx_bytes += flen;
		mb[n++] = b;       /* compacts over packets that failed */
	}
	gen_frame_done(s, &fp);
	g->npend += n;
	g->tx_pkts += n;
}

/*
 * --nack-per-s: one receiver's compound RTCP (RR, generic NACK) about a video stream of its meeting:
 * the 17 packets before the last 3 the stream sent (PID + BLP 0xffff), from the receiver's address
 * and port, media SSRC = the stream's (the set-up keeps out SSRC = SSRC). Receivers are taken in turn
 * among those that get every packet (temporal target 2: their numbering is the stream's) and whose
 * copies leave through the sink port (their resends do not come back to us); streams in turn.
 * 0: nothing sent (no stream has sent enough yet).
 */
static int emit_nack(struct gen *g)
{
	const struct gen_model *m = &g->m;
	for (uint32_t tries = 0; tries < m->n_streams; tries++) {
		const struct gen_stream *s = &m->streams[g->nack_stream % m->n_streams];
		uint32_t rank = g->nack_rank++ % m->per_meeting;
		if (rank == 0)
			g->nack_stream++;
		uint32_t p = s->meeting * m->per_meeting + rank;
		if (s->kind != GEN_VIDEO || s->frame < 4 || !gen_receives(m, p, s) || gen_target_tid(m, p, s) != 2 ||
		    (m->sink_port >= 0 && gen_part_dp_port(m, p) == 0))
			continue;
		struct rte_mbuf *b = rte_pktmbuf_alloc(g->pool);
		if (!b) {
			g->tx_nombuf++;
			return 0;
		}
		uint8_t *f = rte_pktmbuf_mtod(b, uint8_t *);
		uint8_t *r = f + GEN_L2L3_LEN;
		uint32_t me = 0x5A000000u + p;
		uint16_t pid = (uint16_t)(s->seq - 20);
		const uint8_t pkt[32] = {
			0x80, 201, 0, 1, (uint8_t)(me >> 24), (uint8_t)(me >> 16), (uint8_t)(me >> 8), (uint8_t)me,
			0x81, 205, 0, 3, (uint8_t)(me >> 24), (uint8_t)(me >> 16), (uint8_t)(me >> 8), (uint8_t)me,
			(uint8_t)(s->ssrc >> 24), (uint8_t)(s->ssrc >> 16), (uint8_t)(s->ssrc >> 8), (uint8_t)s->ssrc,
			(uint8_t)(pid >> 8), (uint8_t)pid, 0xff, 0xff };
		memcpy(r, pkt, 24);
		uint32_t flen = gen_write_l2l3(&g->net, gen_part_ip(m, p), gen_part_port(p), f, 24);
		b->data_len = (uint16_t)flen;
		b->pkt_len = flen;
		g->pend[g->npend++] = b;
		g->nacks_sent++;
		return 1;
	}
	return 0;     /* nobody to NACK for yet (streams just started) */
}

/* --twcc-fb-per-s: receiver i's transport-wide feedback (twcc_fb.h) into the pending TX queue;
 * nothing if it received nothing new since its last one. */
static void emit_fb(struct gen *g, uint32_t i, uint64_t now)
{
	struct rte_mbuf *b = rte_pktmbuf_alloc(g->pool);
	if (!b) {
		g->tx_nombuf++;
		return;
	}
	uint8_t *f = rte_pktmbuf_mtod(b, uint8_t *);
	uint32_t len = twcc_fb_build_next(&g->fb, i, now, f + GEN_L2L3_LEN, FRAME_ROOM - GEN_L2L3_LEN);
	if (len == 0) {
		rte_pktmbuf_free(b);
		return;
	}
	uint32_t p = g->fb.part_of[i];
	uint32_t flen = gen_write_l2l3(&g->net, gen_part_ip(&g->m, p), gen_part_port(p), f, len);
	b->data_len = (uint16_t)flen;
	b->pkt_len = flen;
	g->pend[g->npend++] = b;
}

/* --stun-per-s: the next participant's connectivity check into the pending TX queue. */
static int emit_stun(struct gen *g)
{
	struct rte_mbuf *b = rte_pktmbuf_alloc(g->pool);
	if (!b) {
		g->tx_nombuf++;
		return 0;
	}
	uint32_t p, len;
	const uint8_t *req = stun_checks_next(&g->stun, &p, &len);
	uint8_t *f = rte_pktmbuf_mtod(b, uint8_t *);
	memcpy(f + GEN_L2L3_LEN, req, len);
	uint32_t flen = gen_write_l2l3(&g->net, gen_part_ip(&g->m, p), gen_part_port(p), f, len);
	b->data_len = (uint16_t)flen;
	b->pkt_len = flen;
	g->pend[g->npend++] = b;
	return 1;
}

static void on_copy(void *ctx, uint32_t p, const uint8_t *rtp, uint32_t len, uint64_t now)
{
	twcc_fb_on_copy(ctx, p, rtp, len, now);
}

/* Generate what is due (paced) or what fits (max rate), at most about GEN_BATCH packets per call
 * so that the loop comes back to receiving quickly: a long generation burst would show up as
 * latency of the copies waiting to be received. */
#define GEN_BATCH 48u
static void generate(struct gen *g, uint64_t now)
{
	const struct gen_model *m = &g->m;
	double due = g->cycles_per_slot > 0 ? (double)(now - g->t_start) / g->cycles_per_slot : INFINITY;
	uint32_t start = g->npend;
	while (g->npend + GEN_MAX_FRAME_PKTS <= TXQ_CAP && g->npend - start < GEN_BATCH) {
		uint32_t slot = (uint32_t)(g->slot_abs % GEN_WHEEL_SLOTS);
		if (g->ev_cursor >= m->wheel_start[slot + 1]) {
			if ((double)(g->slot_abs + 1) > due)
				return;
			g->slot_abs++;
			g->ev_cursor = m->wheel_start[(g->slot_abs) % GEN_WHEEL_SLOTS];
			continue;
		}
		if ((double)g->slot_abs > due)
			return;
		emit_event(g, m->wheel_ev[g->ev_cursor++]);
	}
}

static void transmit(struct gen *g)
{
	uint32_t done = 0;
	while (done < g->npend) {
		uint16_t want = (uint16_t)(g->npend - done < TX_BURST ? g->npend - done : TX_BURST);
		uint16_t sent = rte_eth_tx_burst(g->port, 0, &g->pend[done], want);
		done += sent;
		if (sent < want)
			break;
	}
	if (done == 0)
		return;
	memmove(g->pend, g->pend + done, (g->npend - done) * sizeof(g->pend[0]));
	g->npend -= done;
}

static unsigned receive(struct gen *g)
{
	struct rte_mbuf *rx[RX_BURST];
	uint16_t n = 0;
	for (uint16_t q = 0; q < g->nq && n == 0; q++)
		n = rte_eth_rx_burst(g->port, (uint16_t)((g->rxq + q) % g->nq), rx, RX_BURST);
	g->rxq = (uint16_t)((g->rxq + 1) % g->nq);
	if (n == 0)
		return 0;
	uint64_t now = rte_rdtsc();
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *mb = rx[i];
		if (mb->nb_segs > 1 && rte_pktmbuf_linearize(mb) != 0) {
			g->rx.rx_pkts++;
			g->rx.foreign++;
			continue;
		}
		if (g->rx_pcap_left) {
			pcap_out_frame(&g->rx_pcap, rte_pktmbuf_mtod(mb, uint8_t *), mb->data_len,
				       (uint64_t)((double)(now - g->t_start) * 1e9 / (double)g->hz));
			g->rx_pcap_left--;
		}
		uint8_t *fr = rte_pktmbuf_mtod(mb, uint8_t *);
		if (g->have_stun && mb->data_len > GEN_L2L3_LEN && fr[12] == 0x08 && fr[13] == 0x00 && fr[23] == 17 &&
		    stun_checks_on_rx(&g->stun, fr + GEN_L2L3_LEN, mb->data_len - GEN_L2L3_LEN))
			continue;
		rx_track_frame(&g->rx, fr, mb->data_len, now);
	}
	rte_pktmbuf_free_bulk(rx, n);
	return n;
}

/* ARP for the MMR's address until it answers (at most 5 s). */
static int resolve_mmr_mac(struct gen *g, uint32_t gen_ip)
{
	uint64_t deadline = rte_rdtsc() + 5 * g->hz, next_req = 0;
	while (rte_rdtsc() < deadline && !g_stop) {
		if (rte_rdtsc() >= next_req) {
			struct rte_mbuf *mb = rte_pktmbuf_alloc(g->pool);
			if (!mb)
				return -ENOMEM;
			uint8_t *f = rte_pktmbuf_mtod(mb, uint8_t *);
			memset(f, 0, 60);
			memset(f, 0xff, 6);
			memcpy(f + 6, g->net.src_mac, 6);
			f[12] = 0x08; f[13] = 0x06;
			f[14] = 0; f[15] = 1; f[16] = 0x08; f[17] = 0; f[18] = 6; f[19] = 4; f[20] = 0; f[21] = 1;
			memcpy(f + 22, g->net.src_mac, 6);
			for (int i = 0; i < 4; i++) {
				f[28 + i] = (uint8_t)(gen_ip >> (24 - 8 * i));
				f[38 + i] = (uint8_t)(g->net.mmr_ip >> (24 - 8 * i));
			}
			mb->data_len = mb->pkt_len = 60;
			if (rte_eth_tx_burst(g->port, 0, &mb, 1) != 1)
				rte_pktmbuf_free(mb);
			next_req = rte_rdtsc() + g->hz / 5;
		}
		struct rte_mbuf *rx[RX_BURST];
		uint16_t n = rte_eth_rx_burst(g->port, 0, rx, RX_BURST);
		int found = 0;
		for (uint16_t i = 0; i < n; i++) {
			const uint8_t *f = rte_pktmbuf_mtod(rx[i], const uint8_t *);
			if (!found && rx[i]->data_len >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[20] == 0 && f[21] == 2) {
				uint32_t spa = ((uint32_t)f[28] << 24) | ((uint32_t)f[29] << 16) | ((uint32_t)f[30] << 8) | f[31];
				if (spa == g->net.mmr_ip) {
					memcpy(g->net.dst_mac, f + 22, 6);
					found = 1;
				}
			}
		}
		rte_pktmbuf_free_bulk(rx, n);
		if (found)
			return 0;
	}
	return -ETIMEDOUT;
}

static int port_init(struct gen *g)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t port = g->o->port;
	int rc;

	if (!rte_eth_dev_is_valid_port(port)) {
		fprintf(stderr, "mmr-gen: no DPDK port %u (give the EAL a --vdev or a PCI device)\n", port);
		return -1;
	}
	g->port = port;
	g->pool = rte_pktmbuf_pool_create("gen_pool", g->o->mbufs, 512, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					  (int)rte_socket_id());
	if (!g->pool) {
		fprintf(stderr, "mmr-gen: cannot create the mbuf pool: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	rc = rte_eth_dev_info_get(port, &info);
	if (rc != 0)
		return -1;
	memset(&conf, 0, sizeof(conf));
	g->nq = (uint16_t)(g->o->queues ? g->o->queues : 1);
	rc = rte_eth_dev_configure(port, g->nq, g->nq, &conf);
	if (rc != 0) {
		fprintf(stderr, "mmr-gen: port %u: configure failed: %s\n", port, rte_strerror(-rc));
		return -1;
	}
	uint16_t nrx = 4096, ntx = 4096;
	rte_eth_dev_adjust_nb_rx_tx_desc(port, &nrx, &ntx);
	for (uint16_t q = 0; q < g->nq && rc == 0; q++) {
		rc = rte_eth_rx_queue_setup(port, q, nrx, (unsigned)rte_eth_dev_socket_id(port), NULL, g->pool);
		if (rc == 0)
			rc = rte_eth_tx_queue_setup(port, q, ntx, (unsigned)rte_eth_dev_socket_id(port), NULL);
	}
	/* a memif client cannot start before its server listens: retry for up to 30 s */
	for (int tries = 0; rc == 0 && tries < 300 && !g_stop; tries++) {
		int e = rte_eth_dev_start(port);
		if (e == 0)
			break;
		if (tries == 299)
			rc = e;
		usleep(100000);
	}
	if (rc != 0) {
		fprintf(stderr, "mmr-gen: port %u: queue set-up/start failed: %s\n", port, rte_strerror(-rc));
		return -1;
	}
	struct rte_ether_addr ea;
	rte_eth_macaddr_get(port, &ea);
	if (!g->o->src_mac)
		memcpy(g->net.src_mac, ea.addr_bytes, 6);
	/* wait for the link (memif: until the peer connects) */
	uint64_t deadline = rte_rdtsc() + 30 * g->hz;
	struct rte_eth_link link;
	do {
		memset(&link, 0, sizeof(link));
		rte_eth_link_get_nowait(port, &link);
		if (link.link_status)
			break;
		usleep(10000);
	} while (rte_rdtsc() < deadline && !g_stop);
	if (!link.link_status) {
		fprintf(stderr, "mmr-gen: port %u: link did not come up within 30 s\n", port);
		return -1;
	}
	return 0;
}

static int srtp_init(struct gen *g)
{
	const struct gen_model *m = &g->m;
	g->send_keys = calloc(m->n_parts, sizeof(*g->send_keys));
	g->recv_keys = calloc(m->n_parts, sizeof(*g->recv_keys));
	g->rx.srtp = calloc(g->rx.n_flows, sizeof(*g->rx.srtp));
	if (!g->send_keys || !g->recv_keys || !g->rx.srtp)
		return -ENOMEM;
	g->rx.srtp_every = g->o->srtp_rx_every;
	for (uint32_t p = 0; p < m->n_parts; p++) {
		if (gen_part_is_publisher(m, p) && !(g->send_keys[p] = srtp_keys_new(&g->su.send_key[p])))
			return -EINVAL;
		if (gen_part_dp_port(m, p) == 0 && !(g->recv_keys[p] = srtp_keys_new(&g->su.recv_key[p])))
			return -EINVAL;
	}
	for (uint32_t i = 0; g->have_fb && i < g->fb.n_rx; i++) {
		uint32_t p = g->fb.part_of[i];
		if (!g->send_keys[p] && !(g->send_keys[p] = srtp_keys_new(&g->su.send_key[p])))
			return -EINVAL;
		if (!(g->fb.srtcp[i] = srtp_stream_new(g->send_keys[p])))
			return -ENOMEM;
	}
	for (uint32_t i = 0; i < m->n_streams; i++) {
		struct gen_stream *s = &m->streams[i];
		if (!(s->srtp = srtp_stream_new(g->send_keys[s->part])))
			return -ENOMEM;
		uint32_t first = s->meeting * m->per_meeting;
		for (uint32_t p = first; p < first + m->per_meeting; p++) {
			if (!gen_receives(m, p, s) || !g->recv_keys[p])
				continue;
			uint32_t fi = p * m->slots_per_meeting + s->slot;
			if (!(g->rx.srtp[fi] = srtp_stream_new(g->recv_keys[p])))
				return -ENOMEM;
		}
	}
	return 0;
}

static void srtp_fini(struct gen *g)
{
	if (g->rx.srtp)
		for (uint32_t f = 0; f < g->rx.n_flows; f++)
			srtp_stream_free(g->rx.srtp[f]);
	free(g->rx.srtp);
	g->rx.srtp = NULL;
	for (uint32_t i = 0; g->have_fb && i < g->fb.n_rx; i++) {
		srtp_stream_free(g->fb.srtcp[i]);
		g->fb.srtcp[i] = NULL;
	}
	for (uint32_t i = 0; i < g->m.n_streams; i++) {
		srtp_stream_free(g->m.streams[i].srtp);
		g->m.streams[i].srtp = NULL;
	}
	for (uint32_t p = 0; g->send_keys && p < g->m.n_parts; p++)
		srtp_keys_free(g->send_keys[p]);
	for (uint32_t p = 0; g->recv_keys && p < g->m.n_parts; p++)
		srtp_keys_free(g->recv_keys[p]);
	free(g->send_keys);
	free(g->recv_keys);
	g->send_keys = g->recv_keys = NULL;
}

static double cyc_us(const struct gen *g, uint64_t c)
{
	return (double)c * 1e6 / (double)g->hz;
}

static void progress(struct gen *g, double t, uint64_t *last_tx, uint64_t *last_rx,
		     struct dp_snapshot *last_dp, uint64_t *last_tsc)
{
	uint64_t now = rte_rdtsc();
	double dt = (double)(now - *last_tsc) / (double)g->hz;
	if (dt <= 0)
		return;
	uint64_t rxp = g->rx.rx_pkts;
	char dps[160] = "";
	if (g->have_dp) {
		struct dp_snapshot s;
		dp_counters_take(&g->dp, &s);
		uint64_t dc = s.copies - last_dp->copies, db = s.busy_cycles - last_dp->busy_cycles;
		snprintf(dps, sizeof(dps), " | dp copies %.2f M/s, busy %.0f%%, %.0f cycles/copy", dc / dt / 1e6,
			 100.0 * (double)db / ((double)dp_counters_tsc_hz(&g->dp) * dt), dc ? (double)db / dc : 0.0);
		*last_dp = s;
	}
	fprintf(stderr, "mmr-gen: t=%5.1fs tx %.3f Mpps rx %.3f Mpps%s | latency p50 %.1f us p99 %.1f us\n", t,
		(g->tx_pkts - *last_tx) / dt / 1e6, (rxp >= *last_rx ? rxp - *last_rx : rxp) / dt / 1e6, dps,
		cyc_us(g, lhist_quantile(&g->rx.lat, 0.5)), cyc_us(g, lhist_quantile(&g->rx.lat, 0.99)));
	*last_tx = g->tx_pkts;
	*last_rx = rxp;
	*last_tsc = now;
}

static void run_traffic(struct gen *g)
{
	struct gen_opts *o = g->o;
	uint64_t hz = g->hz;
	g->t_start = rte_rdtsc();
	uint64_t t_w0 = g->t_start + (uint64_t)(o->warmup * (double)hz);
	uint64_t t_w1 = t_w0 + (uint64_t)(o->duration * (double)hz);
	uint64_t t_end = t_w1 + (uint64_t)(o->drain * (double)hz);
	uint64_t next_progress = g->t_start + hz;
	uint64_t last_tx = 0, last_rx = 0, last_tsc = g->t_start;
	struct dp_snapshot last_dp;
	int phase = 0;                 /* 0 warm-up, 1 window, 2 drain */
	if (g->have_dp)
		dp_counters_take(&g->dp, &last_dp);
	g->slot_abs = 0;
	g->ev_cursor = g->m.wheel_start[0];

	while (!g_stop) {
		uint64_t now = rte_rdtsc();
		if (phase == 0 && now >= t_w0) {
			phase = 1;
			rx_track_window_start(&g->rx);
			last_rx = 0;
			updates_window_start(&g->upd);
			if (g->have_dp)
				dp_counters_take(&g->dp, &g->dp0);
			g->w_tx_pkts = g->tx_pkts;
			g->w_tx_bytes = g->tx_bytes;
			g->w_nacks = g->nacks_sent;
			g->w_fb = g->fb.sent;
			g->w_fb_statuses = g->fb.statuses;
			g->w_stun_sent = g->stun.sent;
			g->w_stun_answered = g->stun.answered;
			g->w_stun_errors = g->stun.errors;
			g->t_w0 = now;
		} else if (phase == 1 && now >= t_w1) {
			phase = 2;
			if (g->have_dp)
				dp_counters_take(&g->dp, &g->dp1);
			g->w_tx_pkts = g->tx_pkts - g->w_tx_pkts;
			g->w_tx_bytes = g->tx_bytes - g->w_tx_bytes;
			g->w_nacks = g->nacks_sent - g->w_nacks;
			g->w_fb = g->fb.sent - g->w_fb;
			g->w_fb_statuses = g->fb.statuses - g->w_fb_statuses;
			g->w_stun_sent = g->stun.sent - g->w_stun_sent;
			g->w_stun_answered = g->stun.answered - g->w_stun_answered;
			g->w_stun_errors = g->stun.errors - g->w_stun_errors;
			g->t_w1 = now;
			updates_stop(&g->upd);
		} else if (phase == 2 && now >= t_end) {
			break;
		}
		if (phase < 2)
			generate(g, now);
		if (o->nack_per_s > 0 && phase < 2) {
			double due = (double)(now - g->t_start) / (double)hz * o->nack_per_s;
			while ((double)g->nacks_sent < due && g->npend < TXQ_CAP && emit_nack(g))
				;
		}
		if (g->have_fb && o->twcc_fb_per_s > 0 && phase < 2 && g->fb.n_rx) {
			double due = (double)(now - g->t_start) / (double)hz * o->twcc_fb_per_s * g->fb.n_rx;
			while ((double)g->fb_turns < due && g->npend < TXQ_CAP) {
				emit_fb(g, (uint32_t)(g->fb_turns % g->fb.n_rx), now);
				g->fb_turns++;
			}
		}
		if (g->have_stun && phase < 2) {
			double due = (double)(now - g->t_start) / (double)hz * o->stun_per_s;
			/* a check when a whole one is due: a tiny rate (the bench's credentials-only run) sends none */
			while ((double)g->stun.sent + 1.0 <= due && g->npend < TXQ_CAP && emit_stun(g))
				;
		}
		if (g->npend)
			transmit(g);
		receive(g);
		updates_poll(&g->upd, now);
		if (!o->quiet && now >= next_progress) {
			progress(g, (double)(now - g->t_start) / (double)hz, &last_tx, &last_rx, &last_dp, &last_tsc);
			next_progress += hz;
		}
	}
	if (phase == 1) {              /* interrupted inside the window */
		if (g->have_dp)
			dp_counters_take(&g->dp, &g->dp1);
		g->w_tx_pkts = g->tx_pkts - g->w_tx_pkts;
		g->w_tx_bytes = g->tx_bytes - g->w_tx_bytes;
		g->t_w1 = rte_rdtsc();
	}
	rte_pktmbuf_free_bulk(g->pend, g->npend);
	g->npend = 0;
}

/* Without DPDK: write duration virtual seconds of traffic into the pcap file. */
static int run_pcap_only(struct gen *g)
{
	static uint8_t frame[FRAME_ROOM];
	uint64_t slots = (uint64_t)(g->o->duration * 1000.0);
	const struct gen_model *m = &g->m;
	for (uint64_t t = 0; t < slots && !g_stop; t++) {
		uint32_t slot = (uint32_t)(t % GEN_WHEEL_SLOTS);
		for (uint32_t e = m->wheel_start[slot]; e < m->wheel_start[slot + 1]; e++) {
			uint32_t si = m->wheel_ev[e];
			struct gen_stream *s = &g->m.streams[si];
			struct gen_frame_plan fp;
			gen_frame_plan(&g->o->mc, s, &fp);
			for (uint32_t i = 0; i < fp.npkts; i++) {
				memset(frame, 0, sizeof(frame));
				uint32_t len = gen_build_rtp(&g->o->mc, s, si, &fp, i, t * 1000000ull, frame + GEN_L2L3_LEN);
				uint32_t flen = gen_write_l2l3(&g->net, gen_part_ip(m, s->part), gen_part_port(s->part),
							       frame, len);
				if (pcap_out_frame(&g->pcap, frame, flen, t * 1000000ull) < 0)
					return -EIO;
				g->tx_pkts++;
				g->tx_bytes += flen;
			}
			gen_frame_done(s, &fp);
		}
	}
	return 0;
}

/* ---- the result ------------------------------------------------------------------------------- */

static void json_result(struct gen *g, FILE *f)
{
	struct gen_opts *o = g->o;
	double win = g->t_w1 > g->t_w0 ? (double)(g->t_w1 - g->t_w0) / (double)g->hz : 0;
	struct rx_totals rt;
	rx_track_totals(&g->rx, &rt);
	fprintf(f, "{\"tool\": \"mmr-gen\", \"meetings\": %u, \"participants\": %u, \"video_pubs\": %u, "
		"\"audio_pubs\": %u, \"streams\": %u, \"nominal_pps\": %.1f, \"scale\": %.6g, \"mode\": \"%s\", "
		"\"srtp\": \"%s\", \"video\": \"%s\",\n", o->meetings, o->participants, o->video_pubs, o->audio_pubs, g->m.n_streams,
		g->m.nominal_pps, g->cycles_per_slot > 0 ? o->scale : 0.0, g->cycles_per_slot > 0 ? "paced" : "max",
		o->srtp != SRTP_SUITE_NONE ? srtp_suite_name(o->srtp) : "none", gen_video_codec_name(o->mc.video_codec));
	fprintf(f, " \"window_s\": %.4f, \"tx_pkts\": %" PRIu64 ", \"tx_bytes\": %" PRIu64 ", \"tx_pps\": %.1f, "
		"\"tx_nombuf\": %" PRIu64 ", \"tx_srtp_fail\": %" PRIu64 ",\n", win, g->w_tx_pkts, g->w_tx_bytes,
		win > 0 ? g->w_tx_pkts / win : 0.0, g->tx_nombuf, g->tx_srtp_fail);
	fprintf(f, " \"rx_pkts\": %" PRIu64 ", \"rx_pps\": %.1f, \"rx_foreign\": %" PRIu64 ", \"rx_late\": %" PRIu64
		", \"rx_echoes\": %" PRIu64 ", \"rx_no_stamp\": %" PRIu64 ", \"srtp_checked\": %" PRIu64 ", \"srtp_fail\": %" PRIu64 ",\n",
		g->rx.rx_pkts, win > 0 ? g->rx.rx_pkts / win : 0.0, g->rx.foreign, g->rx.late, g->rx.echoes, g->rx.no_stamp,
		g->rx.srtp_checked, g->rx.srtp_fail);
	fprintf(f, " \"flows\": %" PRIu64 ", \"silent_flows\": %" PRIu64 ", \"expected\": %" PRIu64 ", \"lost\": %"
		PRIu64 ", \"loss_ratio\": %.3g, \"touched_lost\": %" PRIu64 ", \"untouched_lost\": %" PRIu64 ",\n",
		rt.flows, rt.silent_flows, rt.expected, rt.lost, rt.expected ? (double)rt.lost / rt.expected : 0.0,
		rt.touched_lost, rt.lost - rt.touched_lost);
	const struct latency_hist *h = &g->rx.lat;
	fprintf(f, " \"lat_samples\": %" PRIu64 ", \"lat_p50_us\": %.3f, \"lat_p90_us\": %.3f, \"lat_p99_us\": %.3f, "
		"\"lat_p999_us\": %.3f, \"lat_max_us\": %.3f, \"lat_mean_us\": %.3f", h->n,
		cyc_us(g, lhist_quantile(h, 0.5)), cyc_us(g, lhist_quantile(h, 0.9)), cyc_us(g, lhist_quantile(h, 0.99)),
		cyc_us(g, lhist_quantile(h, 0.999)), cyc_us(g, h->max), h->n ? cyc_us(g, h->sum / h->n) : 0.0);
	if (g->have_dp && g->t_w1 > g->t_w0) {
		const struct dp_snapshot *a = &g->dp0, *b = &g->dp1;
		uint64_t dhz = dp_counters_tsc_hz(&g->dp);
		uint64_t busy = b->busy_cycles - a->busy_cycles, copies = b->copies - a->copies;
		uint64_t rtp = b->rtp_pkts - a->rtp_pkts;
		double dwin = (double)(b->tsc - a->tsc) / (double)g->hz;
		/* time the worker threads waited for a CPU is taken out of their busy cycles, in the
		 * proportion of the window they were busy (all of it when the lcore is saturated) */
		double run_ns = (double)(b->worker_run_ns - a->worker_run_ns);
		double wait_ns = (double)(b->worker_wait_ns - a->worker_wait_ns);
		int sched = a->sched_ok && b->sched_ok;
		double stolen = sched && run_ns + wait_ns > 0 ? wait_ns / (run_ns + wait_ns) : 0.0;
		double gr = (double)(b->self_run_ns - a->self_run_ns), gw = (double)(b->self_wait_ns - a->self_wait_ns);
		double gen_stolen = sched && gr + gw > 0 ? gw / (gr + gw) : 0.0;
		double wall_c = (double)(b->tsc - a->tsc);
		double busy_share = wall_c > 0 && (double)busy < wall_c ? (double)busy / wall_c : 1.0;
		double busy_cpu = (double)busy - (sched ? wait_ns * (double)dhz / 1e9 * busy_share : 0.0);
		if (busy_cpu < 0.05 * (double)busy)
			busy_cpu = 0.05 * (double)busy;
		double cpc_cpu = copies ? busy_cpu / (double)copies : 0.0;
		fprintf(f, ",\n \"dp\": {\"tsc_hz\": %" PRIu64 ", \"window_s\": %.4f, \"busy_cycles\": %" PRIu64
			", \"copies\": %" PRIu64 ", \"rx_pkts\": %" PRIu64 ", \"rtp_pkts\": %" PRIu64 ", \"tx_pkts\": %"
			PRIu64 ", \"loops\": %" PRIu64 ", \"busy_loops\": %" PRIu64 ", \"busy_frac\": %.4f, "
			"\"cycles_per_copy\": %.2f, \"cycles_per_rtp_pkt\": %.2f, \"copies_per_s_busy\": %.1f, "
			"\"copies_per_s_wall\": %.1f, \"rx_pps_wall\": %.1f, \"commands_applied\": %" PRIu64
			", \"commands_per_s\": %.1f, \"rejected\": %" PRIu64 ",\n  \"sched_ok\": %d, \"worker_run_s\": %.4f, "
			"\"worker_wait_s\": %.4f, \"stolen_frac\": %.4f, \"gen_stolen_frac\": %.4f, "
			"\"cycles_per_copy_cpu\": %.2f, \"copies_per_s_cpu\": %.1f, \"busy_cycles_cpu\": %.0f, "
			"\"handoffs\": %" PRIu64 ", \"slow_cycles\": %" PRIu64 ", \"slow_copies\": %" PRIu64
			", \"arrays_published\": %" PRIu64 ", \"grace_periods\": %" PRIu64 ", \"target_updates\": %" PRIu64
			", \"drops\": {",
			dhz, dwin, busy, copies, b->rx_pkts - a->rx_pkts, rtp, b->tx_pkts - a->tx_pkts,
			b->loops - a->loops, b->busy_loops - a->busy_loops,
			dwin > 0 ? (double)busy / ((double)dhz * dwin) : 0.0, copies ? (double)busy / copies : 0.0,
			rtp ? (double)busy / rtp : 0.0, busy ? (double)copies * (double)dhz / (double)busy : 0.0,
			dwin > 0 ? copies / dwin : 0.0, dwin > 0 ? (b->rx_pkts - a->rx_pkts) / dwin : 0.0,
			b->ring_head - a->ring_head, dwin > 0 ? (b->ring_head - a->ring_head) / dwin : 0.0,
			b->rejected - a->rejected, a->sched_ok && b->sched_ok, (b->worker_run_ns - a->worker_run_ns) / 1e9,
			(b->worker_wait_ns - a->worker_wait_ns) / 1e9, stolen, gen_stolen, cpc_cpu,
			cpc_cpu > 0 ? (double)dhz / cpc_cpu : 0.0, busy_cpu, b->handoff_out - a->handoff_out,
			b->slow_cycles - a->slow_cycles, b->slow_copies - a->slow_copies,
			b->arrays_published - a->arrays_published, b->grace_periods - a->grace_periods,
			b->target_updates - a->target_updates);
		int first = 1;
		for (unsigned r = 1; r < MMR_DROP__COUNT; r++) {
			uint64_t d = b->drops[r] - a->drops[r];
			if (!d)
				continue;
			fprintf(f, "%s\"%s\": %" PRIu64, first ? "" : ", ", mmr_drop_names[r], d);
			first = 0;
		}
		fprintf(f, "}, \"rtcp_pkts\": %" PRIu64 ", \"rtcp_out_pkts\": %" PRIu64 ", \"replies\": %" PRIu64
			", \"nacks_sent\": %" PRIu64 "}",
			b->rtcp_pkts - a->rtcp_pkts, b->rtcp_out_pkts - a->rtcp_out_pkts,
			(b->arp_replies - a->arp_replies) + (b->icmp_replies - a->icmp_replies), g->w_nacks);
		/* every lcore counter of the window by its name (stats.h) */
		fprintf(f, ",\n \"lcore\": {");
		const char *sep = "";
#define _(fl, nm, doc) fprintf(f, "%s\"%s\": %" PRIu64, sep, nm, b->fl - a->fl); sep = ", ";
		foreach_mmr_lcore_counter(_)
#undef _
		fprintf(f, "}");
	}
	if (g->have_fb) {
		const struct twcc_fb_gen *t = &g->fb;
		fprintf(f, ",\n \"twcc_fb\": {\"receivers\": %u, \"per_s\": %.3g, \"sent\": %" PRIu64 ", \"window_sent\": %"
			PRIu64 ", \"window_statuses\": %" PRIu64 ", \"empty\": %" PRIu64 ", \"recorded\": %" PRIu64
			", \"late\": %" PRIu64 ", \"overflow\": %" PRIu64 ", \"no_ext\": %" PRIu64 ", \"build_fail\": %" PRIu64
			", \"srtcp_fail\": %" PRIu64 "}", t->n_rx, o->twcc_fb_per_s, t->sent, g->w_fb, g->w_fb_statuses,
			t->empty, t->recorded, t->late, t->overflow, t->no_ext, t->build_fail, t->srtcp_fail);
	}
	if (g->have_stun)
		fprintf(f, ",\n \"stun\": {\"per_s\": %.6g, \"sent\": %" PRIu64 ", \"answered\": %" PRIu64 ", \"errors\": %"
			PRIu64 ", \"window_sent\": %" PRIu64 ", \"window_answered\": %" PRIu64 ", \"window_errors\": %" PRIu64
			", \"answered_per_s\": %.1f}", o->stun_per_s, g->stun.sent, g->stun.answered, g->stun.errors,
			g->w_stun_sent, g->w_stun_answered, g->w_stun_errors, win > 0 ? g->w_stun_answered / win : 0.0);
	if (g->upd.mode != UPD_NONE) {
		const struct updates *u = &g->upd;
		fprintf(f, ",\n \"updates\": {\"mode\": \"%s\", \"flows\": %u, \"bulk_flows\": %u, \"issued\": %" PRIu64
			", \"issued_bulk\": %" PRIu64 ", \"effects\": %" PRIu64 ", \"timeouts\": %" PRIu64 ", \"errors\": %" PRIu64 ", \"ring_full\": %" PRIu64
			", \"answers\": %" PRIu64 ", \"issued_per_s\": %.1f, \"effects_per_s\": %.1f, "
			"\"effect_p50_us\": %.2f, \"effect_p99_us\": %.2f, \"effect_max_us\": %.2f, "
			"\"answer_p50_us\": %.2f, \"answer_p99_us\": %.2f}",
			u->mode == UPD_CTL ? "ctl" : "ring", u->n_measured, u->n_targets - u->n_measured, u->issued,
			u->issued_bulk, u->effects, u->timeouts,
			u->ctl_errors, u->ring_full, u->ctl_answers, win > 0 ? u->issued / win : 0.0,
			win > 0 ? u->effects / win : 0.0, cyc_us(g, lhist_quantile(&u->effect, 0.5)),
			cyc_us(g, lhist_quantile(&u->effect, 0.99)), cyc_us(g, u->effect.max),
			cyc_us(g, lhist_quantile(&u->answer, 0.5)), cyc_us(g, lhist_quantile(&u->answer, 0.99)));
	}
	fprintf(f, ",\n \"setup\": {\"mode\": \"%s\", \"requests\": %" PRIu64 ", \"seconds\": %.3f}}\n",
		o->setup == SETUP_CTL ? "ctl" : o->setup == SETUP_RING ? "ring" : "none", g->su.requests,
		g->su.seconds);
}

int main(int argc, char **argv)
{
	static struct gen_opts o;
	static struct gen g;
	int rc = EXIT_FAILURE, eal_up = 0, port_up = 0;

	if (mmr_version_arg("mmr-gen", argc, argv))
		return 0;
	int pr = parse_opts(argc, argv, &o);
	if (pr == 1) {
		usage(stdout);
		return 0;
	}
	if (pr < 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	g.o = &o;
	if (o.dtls_seconds > 0) {
		struct dtls_bench_result dr;
		if (dtls_bench_run(o.dtls_seconds, &dr) < 0) {
			fprintf(stderr, "mmr-gen: the DTLS handshake measurement failed\n");
			return EXIT_FAILURE;
		}
		FILE *jf = o.json ? fopen(o.json, "w") : stdout;
		if (!jf)
			return EXIT_FAILURE;
		fprintf(jf, "{\"tool\": \"mmr-gen\", \"dtls_handshakes\": %" PRIu64 ", \"dtls_suite\": \"%s\""
			", \"dtls_handshakes_per_s\": %.1f, \"dtls_pair_handshakes_per_s\": %.1f"
			", \"dtls_server_us\": %.1f, \"dtls_client_us\": %.1f}\n", dr.handshakes, dr.suite,
			dr.server_per_s, dr.pair_per_s, dr.server_us, dr.client_us);
		if (jf != stdout)
			fclose(jf);
		return EXIT_SUCCESS;
	}
	if (o.gcm_seconds > 0) {
		struct gcm_result gr;
		if (gcm_bench_run(o.gcm_seconds, 1200, &gr) < 0) {
			fprintf(stderr, "mmr-gen: the OpenSSL AES-128-GCM measurement failed\n");
			return EXIT_FAILURE;
		}
		struct lease_cost lc;
		if (lease_cost_run(o.gcm_seconds, 1200, &lc) < 0) {
			fprintf(stderr, "mmr-gen: the SRTP lease cost measurement failed\n");
			return EXIT_FAILURE;
		}
		FILE *jf = o.json ? fopen(o.json, "w") : stdout;
		if (!jf)
			return EXIT_FAILURE;
		fprintf(jf, "{\"tool\": \"mmr-gen\", \"gcm_pkt_bytes\": %u, \"gcm_pkts\": %" PRIu64
			", \"openssl_gcm_pkts_per_s\": %.1f, \"gcm_ns_per_pkt\": %.2f"
			", \"srtp_protect_unleased_ns\": %.2f, \"srtp_protect_leased_ns\": %.2f"
			", \"srtp_lease_cost_ratio\": %.4f}\n", gr.pkt_bytes, gr.pkts, gr.pkts_per_s, gr.ns_per_pkt,
			lc.unleased_ns_per_pkt, lc.leased_ns_per_pkt, lc.ratio);
		if (jf != stdout)
			fclose(jf);
		return EXIT_SUCCESS;
	}
	uint32_t base_ip, gen_ip;
	if (parse_ip(o.base_ip, &base_ip) || parse_ip(o.mmr_ip, &g.net.mmr_ip) || parse_ip(o.gen_ip, &gen_ip)) {
		fprintf(stderr, "mmr-gen: --base-ip, --mmr-ip and --gen-ip take IPv4 addresses\n");
		return EXIT_USAGE;
	}
	g.net.mmr_port = o.mmr_port;
	g.net.udp_csum = (uint8_t)o.udp_csum;
	if ((o.mmr_mac && parse_mac(o.mmr_mac, g.net.dst_mac)) || (o.src_mac && parse_mac(o.src_mac, g.net.src_mac))) {
		fprintf(stderr, "mmr-gen: bad MAC address\n");
		return EXIT_USAGE;
	}
	if (gen_model_init(&g.m, o.meetings, o.participants, o.video_pubs, o.audio_pubs, base_ip, o.sink_port,
			   o.probe_stride, &o.mc) < 0) {
		fprintf(stderr, "mmr-gen: cannot build the model (at most 2^20 participants, at least one publisher)\n");
		return EXIT_USAGE;
	}
	if (o.pps > 0)
		o.scale = o.pps / g.m.nominal_pps;
	if (rx_track_init(&g.rx, &g.m) < 0)
		goto out_model;
	g.rx.echo_ip = g.net.mmr_ip;

	if (o.script) {
		g.su.srtp = o.srtp;
		g.su.rtcp_fb = o.twcc ? "nack,pli,fir,twcc" : NULL;
		gen_ext_list(&o, g.su.ext, sizeof(g.su.ext));
		g.su.top_n = (uint8_t)o.top_n;
		g.su.ice = o.stun_per_s > 0;
		int e = setup_script(&g.su, &g.m, o.script);
		if (e < 0) {
			fprintf(stderr, "mmr-gen: cannot write %s: %s\n", o.script, strerror(-e));
			goto out_rx;
		}
		if (o.setup == SETUP_NONE && !o.pcap) {
			rc = EXIT_SUCCESS;
			goto out_rx;
		}
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	if (o.pcap_only) {
		if (pcap_out_open(&g.pcap, o.pcap) < 0) {
			fprintf(stderr, "mmr-gen: cannot write %s\n", o.pcap);
			goto out_rx;
		}
		if (!o.mmr_mac)
			mmr_mac_parse("02:00:00:00:00:02", g.net.dst_mac);
		if (!o.src_mac)
			mmr_mac_parse("02:00:00:00:00:01", g.net.src_mac);
		int e = run_pcap_only(&g);
		if (pcap_out_close(&g.pcap) < 0 || e < 0) {
			fprintf(stderr, "mmr-gen: writing %s failed\n", o.pcap);
			goto out_rx;
		}
		fprintf(stderr, "mmr-gen: wrote %" PRIu64 " frames (%.1f virtual s) to %s\n", g.tx_pkts, o.duration, o.pcap);
		rc = EXIT_SUCCESS;
		goto out_rx;
	}

	/* EAL: argv[0] plus what followed "--" */
	int eal_argc = argc - optind + 1;
	char **eal_argv = calloc((size_t)eal_argc + 1, sizeof(char *));
	if (!eal_argv)
		goto out_rx;
	eal_argv[0] = argv[0];
	for (int i = optind; i < argc; i++)
		eal_argv[i - optind + 1] = argv[i];
	int e = rte_eal_init(eal_argc, eal_argv);
	free(eal_argv);
	if (e < 0) {
		fprintf(stderr, "mmr-gen: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
		goto out_rx;
	}
	eal_up = 1;
	g.hz = rte_get_tsc_hz();
	if (port_init(&g) < 0)
		goto out_eal;
	port_up = 1;
	if (!o.mmr_mac && resolve_mmr_mac(&g, gen_ip) < 0) {
		fprintf(stderr, "mmr-gen: the MMR (%s) does not answer ARP on port %u; give --mmr-mac\n", o.mmr_ip, g.port);
		goto out_port;
	}
	if (o.dp_shm) {
		e = dp_counters_open(&g.dp, o.dp_shm);
		if (e == 0)
			g.have_dp = 1;
		else if (o.setup == SETUP_RING) {
			fprintf(stderr, "mmr-gen: cannot map the dataplane's segment %s: %s\n", o.dp_shm, strerror(-e));
			goto out_port;
		}
	}
	g.su.socket = o.socket;
	g.su.shm_name = o.shm;
	g.su.srtp = o.srtp;
	g.su.shuffle_ids = o.shuffle_ids;
	g.su.wait_s = 30;
	g.su.rtcp_fb = o.twcc ? "nack,pli,fir,twcc" : NULL;
	gen_ext_list(&o, g.su.ext, sizeof(g.su.ext));
	g.su.top_n = (uint8_t)o.top_n;
	g.su.video_slots = o.video_slots;
	g.su.twcc_ext_id = o.twcc ? GEN_TWCC_EXT_ID : 0;
	g.su.level_ext_id = o.mc.level_ext_id;
	g.su.ice = o.stun_per_s > 0;
	if (o.stun_per_s > 0) {
		if (stun_checks_init(&g.stun, g.m.n_parts) < 0)
			goto out_dp;
		g.have_stun = 1;
	}
	if (o.twcc_fb_per_s > 0) {
		if (twcc_fb_init(&g.fb, &g.m, GEN_TWCC_EXT_ID, g.hz) < 0)
			goto out_dp;
		g.have_fb = 1;
		g.rx.on_copy = on_copy;
		g.rx.copy_ctx = &g.fb;
	}
	if (o.setup_delay > 0)
		usleep((useconds_t)(o.setup_delay * 1e6));
	if (o.setup == SETUP_CTL && setup_ctl(&g.su, &g.m) < 0)
		goto out_dp;
	if (o.setup == SETUP_RING && setup_ring(&g.su, &g.m, &g.dp) < 0)
		goto out_dp;
	if (o.setup != SETUP_NONE && !o.quiet)
		fprintf(stderr, "mmr-gen: set up %u meetings, %u participants, %u streams with %" PRIu64
			" %s in %.2f s\n", g.m.meetings, g.m.n_parts, g.m.n_streams, g.su.requests,
			o.setup == SETUP_CTL ? "controller requests" : "ring commands", g.su.seconds);
	if (o.srtp != SRTP_SUITE_NONE && srtp_init(&g) < 0) {
		fprintf(stderr, "mmr-gen: cannot make the SRTP contexts\n");
		goto out_srtp;
	}
	if (o.upd != UPD_NONE &&
	    updates_init(&g.upd, o.upd, &g.m, &g.rx, &g.su, o.upd_flows, o.upd_bulk, o.upd_rate, o.upd_inflight, o.socket,
			 &g.dp, g.hz) < 0)
		goto out_srtp;
	g.upd.targets_only = (uint8_t)o.upd_targets;
	if (o.pcap) {
		if (pcap_out_open(&g.pcap, o.pcap) < 0) {
			fprintf(stderr, "mmr-gen: cannot write %s\n", o.pcap);
			goto out_upd;
		}
		g.pcap_left = o.pcap_packets;
	}
	if (o.rx_pcap) {
		if (pcap_out_open(&g.rx_pcap, o.rx_pcap) < 0) {
			fprintf(stderr, "mmr-gen: cannot write %s\n", o.rx_pcap);
			goto out_pcap;
		}
		g.rx_pcap_left = o.pcap_packets;
	}
	g.cycles_per_slot = o.max_rate ? 0 : (double)g.hz / 1000.0 / o.scale;
	if (!o.quiet)
		fprintf(stderr, "mmr-gen: %u meetings x %u participants, %u streams, %s (%.0f packets/s nominal)\n",
			o.meetings, o.participants, g.m.n_streams,
			o.max_rate ? "as fast as possible" : "paced", g.m.nominal_pps * (o.max_rate ? 1 : o.scale));
	run_traffic(&g);
	if (o.rx_pcap)
		pcap_out_close(&g.rx_pcap);

	FILE *jf = o.json ? fopen(o.json, "w") : stdout;
	if (!jf) {
		fprintf(stderr, "mmr-gen: cannot write %s: %s\n", o.json, strerror(errno));
		goto out_pcap;
	}
	json_result(&g, jf);
	if (jf != stdout)
		fclose(jf);
	rc = EXIT_SUCCESS;
out_pcap:
	if (o.pcap)
		pcap_out_close(&g.pcap);
out_upd:
	updates_free(&g.upd);
out_srtp:
	srtp_fini(&g);
out_dp:
	if (g.have_fb)
		twcc_fb_free(&g.fb);
	if (g.have_stun)
		stun_checks_free(&g.stun);
	if (g.have_dp)
		cmd_chan_close(&g.dp);
	setup_free(&g.su);
out_port:
	if (port_up) {
		rte_eth_dev_stop(g.port);
		rte_eth_dev_close(g.port);
	}
out_eal:
	if (eal_up)
		rte_eal_cleanup();
out_rx:
	rx_track_free(&g.rx);
out_model:
	gen_model_free(&g.m);
	return rc;
}
