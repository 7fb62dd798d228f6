/*
 * config.c - read the mmr-dataplane configuration (libconfig) into struct dp_config.
 *
 * Every error names the file and line of the offending setting. Settings that may be absent get
 * the defaults documented in docs/interfaces.md; unknown settings are refused so typos show.
 */
#include "config.h"
#include "cmd_chan.h"

#include <libconfig.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MBUFS       16383u
#define DEFAULT_UDP_PORT    5000u
#define DEFAULT_STATUS_MS   1000u
#define DEFAULT_SRTP_LEDGER "/var/lib/mmr/srtp-ledger"
#define DEFAULT_LEASE_OUT   4096u
#define DEFAULT_LEASE_IN    128u
#define DEFAULT_RTX_VIDEO   512u
#define DEFAULT_RTX_AUDIO   0u
#define DEFAULT_RTX_MBUFS   32768u
#define DEFAULT_SR_VIDEO_MS 1000u
#define DEFAULT_SR_AUDIO_MS 5000u
#define DEFAULT_RR_MS       1000u
#define DEFAULT_KF_MS       500u
#define DEFAULT_NACK_TRIES  10u
#define DEFAULT_SPEAKER_MS  300u   /* dominant speaker decisions per meeting (Jitsi, mediasoup) */
#define DEFAULT_TOPN_MS     100u   /* top-N audio ranking per meeting */
#define DEFAULT_TWCC_FB_MS  100u   /* transport-wide feedback to a publisher (libwebrtc, mediasoup) */
#define DEFAULT_BWE_START   1000u
#define DEFAULT_BWE_MIN     30u
#define DEFAULT_BWE_MAX     20000u
#define DEFAULT_BWE_ALLOC   200u
#define MAX_RTX_PACKETS     32768u
#define MIN_MBUFS           1023u
#define MAX_MBUFS           (1u << 24)

static void set_err(char *err, size_t errlen, const char *path, const config_setting_t *s,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void set_err(char *err, size_t errlen, const char *path, const config_setting_t *s,
		    const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	unsigned line = s ? config_setting_source_line(s) : 0;
	if (line)
		snprintf(err, errlen, "%s:%u: %s", path, line, msg);
	else
		snprintf(err, errlen, "%s: %s", path, msg);
}

static int is_known(const char *name, const char *const *known)
{
	for (; *known; known++)
		if (strcmp(name, *known) == 0)
			return 1;
	return 0;
}

/* Refuse settings of a group that are not in `known`. */
static int check_known(const config_setting_t *group, const char *const *known, const char *path,
		       char *err, size_t errlen)
{
	int n = config_setting_length(group);
	for (int i = 0; i < n; i++) {
		config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(s);
		if (name && !is_known(name, known)) {
			set_err(err, errlen, path, s, "unknown setting '%s'", name);
			return -1;
		}
	}
	return 0;
}

/* An integer setting within [lo, hi]; absent -> *out = def. */
static int get_uint(const config_setting_t *group, const char *name, long long lo, long long hi,
		    uint32_t def, uint32_t *out, const char *path, char *err, size_t errlen)
{
	config_setting_t *s = config_setting_get_member(group, name);
	if (!s) {
		*out = def;
		return 0;
	}
	int t = config_setting_type(s);
	if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
		set_err(err, errlen, path, s, "'%s' must be an integer", name);
		return -1;
	}
	long long v = config_setting_get_int64(s);
	if (v < lo || v > hi) {
		set_err(err, errlen, path, s, "'%s' = %lld is out of range %lld..%lld", name, v, lo, hi);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

/* A boolean setting; absent -> *out = def. */
static int get_bool(const config_setting_t *group, const char *name, uint8_t def, uint8_t *out,
		    const char *path, char *err, size_t errlen)
{
	config_setting_t *s = config_setting_get_member(group, name);
	if (!s) {
		*out = def;
		return 0;
	}
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		set_err(err, errlen, path, s, "'%s' must be true or false", name);
		return -1;
	}
	*out = config_setting_get_bool(s) ? 1 : 0;
	return 0;
}

/* A packet count that is 0 or a power of two up to MAX_RTX_PACKETS; absent -> def. */
static int get_ring_size(const config_setting_t *group, const char *name, uint32_t def, uint32_t *out,
			 const char *path, char *err, size_t errlen)
{
	if (get_uint(group, name, 0, MAX_RTX_PACKETS, def, out, path, err, errlen) < 0)
		return -1;
	if (*out & (*out - 1)) {
		set_err(err, errlen, path, config_setting_get_member(group, name),
			"'%s' = %u must be 0 or a power of two", name, *out);
		return -1;
	}
	return 0;
}

/* A string setting; absent -> NULL with return 0. */
static int get_string(const config_setting_t *group, const char *name, const char **out,
		      config_setting_t **where, const char *path, char *err, size_t errlen)
{
	config_setting_t *s = config_setting_get_member(group, name);
	*out = NULL;
	if (where)
		*where = s;
	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		set_err(err, errlen, path, s, "'%s' must be a string", name);
		return -1;
	}
	*out = config_setting_get_string(s);
	return 0;
}

static int parse_mac_setting(const config_setting_t *group, const char *name, uint8_t mac[6],
			     uint8_t *has, const char *path, char *err, size_t errlen)
{
	const char *txt;
	config_setting_t *s;
	if (get_string(group, name, &txt, &s, path, err, errlen) < 0)
		return -1;
	*has = 0;
	if (!txt)
		return 0;
	if (mmr_mac_parse(txt, mac) < 0) {
		set_err(err, errlen, path, s, "'%s' = \"%s\" is not a MAC address (aa:bb:cc:dd:ee:ff)",
			name, txt);
		return -1;
	}
	if (mac[0] & 1) {
		set_err(err, errlen, path, s, "'%s' = \"%s\" is a multicast MAC", name, txt);
		return -1;
	}
	*has = 1;
	return 0;
}

static int parse_addr_setting(const config_setting_t *group, const char *name, int family,
			      struct mmr_addr *a, uint8_t *has, const char *path, char *err,
			      size_t errlen)
{
	const char *txt;
	config_setting_t *s;
	if (get_string(group, name, &txt, &s, path, err, errlen) < 0)
		return -1;
	*has = 0;
	if (!txt)
		return 0;
	if (mmr_addr_parse(txt, a) < 0 || a->family != family) {
		set_err(err, errlen, path, s, "'%s' = \"%s\" is not an IPv%d address", name, txt, family);
		return -1;
	}
	*has = 1;
	return 0;
}

int dp_port_on_link(const struct dp_port_config *pc, const struct mmr_addr *a)
{
	const uint8_t *ours = a->family == MMR_AF_INET ? pc->ipv4.ip : pc->ipv6.ip;
	unsigned bits = a->family == MMR_AF_INET ? pc->prefix4 : pc->prefix6;
	unsigned max = a->family == MMR_AF_INET ? 32u : 128u;
	if (bits >= max || !(a->family == MMR_AF_INET ? pc->has_ipv4 : pc->has_ipv6))
		return 0;
	for (unsigned b = 0; b < bits; b++)
		if (((ours[b / 8] ^ a->ip[b / 8]) >> (7 - b % 8)) & 1)
			return 0;
	return 1;
}

/* Static entry i of a port (ip and mac parsed): one the dataplane would use (neigh.c looks entries
 * up for on-link receivers and the gateway only), a MAC other than zero, no address twice. */
static int static_neigh_check(const struct dp_port_config *pc, uint32_t i, const char *path,
			      const config_setting_t *e, char *err, size_t errlen)
{
	const struct mmr_addr *a = &pc->static_neigh[i].ip;
	const uint8_t *mac = pc->static_neigh[i].mac;
	int v4 = a->family == MMR_AF_INET;
	int gw = v4 ? pc->has_gateway_ipv4 && mmr_addr_eq(a, &pc->gateway_ipv4)
		    : pc->has_gateway_ipv6 && mmr_addr_eq(a, &pc->gateway_ipv6);
	if (!dp_port_on_link(pc, a) && !gw) {
		set_err(err, errlen, path, e, "neighbours[%u]: the address is neither inside the port's %s nor its %s: "
			"it would never be used", i, v4 ? "ipv4/ipv4_prefix" : "ipv6/ipv6_prefix",
			v4 ? "gateway_ipv4" : "gateway_ipv6");
		return -1;
	}
	if (!memcmp(mac, "\0\0\0\0\0\0", 6)) {     /* (a multicast one is refused by parse_mac_setting) */
		set_err(err, errlen, path, e, "neighbours[%u]: 'mac' must not be 00:00:00:00:00:00", i);
		return -1;
	}
	for (uint32_t k = 0; k < i; k++)
		if (mmr_addr_eq(&pc->static_neigh[k].ip, a)) {
			set_err(err, errlen, path, e, "neighbours[%u]: the same address as neighbours[%u]", i, k);
			return -1;
		}
	return 0;
}

static int parse_port(const config_setting_t *ps, struct dp_port_config *pc, unsigned idx,
		      const char *path, char *err, size_t errlen)
{
	static const char *const known[] = { "ipv4", "ipv6", "gateway_mac", "mac", "tx_multiseg", "vlan", "gateway_ipv4",
					     "gateway_ipv6", "ipv4_prefix", "ipv6_prefix", "neighbours", NULL };
	if (!config_setting_is_group(ps)) {
		set_err(err, errlen, path, ps, "ports[%u] must be a group { ... }", idx);
		return -1;
	}
	if (check_known(ps, known, path, err, errlen) < 0)
		return -1;
	if (parse_addr_setting(ps, "ipv4", MMR_AF_INET, &pc->ipv4, &pc->has_ipv4, path, err, errlen) < 0 ||
	    parse_addr_setting(ps, "ipv6", MMR_AF_INET6, &pc->ipv6, &pc->has_ipv6, path, err, errlen) < 0 ||
	    parse_mac_setting(ps, "gateway_mac", pc->gateway_mac, &pc->has_gateway_mac, path, err, errlen) < 0 ||
	    parse_mac_setting(ps, "mac", pc->mac, &pc->has_mac, path, err, errlen) < 0 ||
	    parse_addr_setting(ps, "gateway_ipv4", MMR_AF_INET, &pc->gateway_ipv4, &pc->has_gateway_ipv4, path,
			       err, errlen) < 0 ||
	    parse_addr_setting(ps, "gateway_ipv6", MMR_AF_INET6, &pc->gateway_ipv6, &pc->has_gateway_ipv6, path,
			       err, errlen) < 0)
		return -1;
	uint32_t pl;
	if (get_uint(ps, "ipv4_prefix", 1, 32, 32, &pl, path, err, errlen) < 0)
		return -1;
	pc->prefix4 = (uint8_t)pl;
	if (get_uint(ps, "ipv6_prefix", 1, 128, 128, &pl, path, err, errlen) < 0)
		return -1;
	pc->prefix6 = (uint8_t)pl;
	if ((pc->has_gateway_ipv4 && !pc->has_ipv4) || (pc->has_gateway_ipv6 && !pc->has_ipv6)) {
		set_err(err, errlen, path, ps, "ports[%u]: a gateway_ipv4/6 needs the port's own ipv4/6", idx);
		return -1;
	}
	config_setting_t *nl = config_setting_get_member(ps, "neighbours");
	if (nl) {
		static const char *const nknown[] = { "ip", "mac", NULL };
		if (!config_setting_is_list(nl) || config_setting_length(nl) > 8) {
			set_err(err, errlen, path, nl, "'neighbours' must be a list of at most 8 { ip = ...; mac = ...; }");
			return -1;
		}
		pc->n_static = (uint32_t)config_setting_length(nl);
		for (uint32_t i = 0; i < pc->n_static; i++) {
			config_setting_t *e = config_setting_get_elem(nl, i);
			const char *ip;
			uint8_t has = 0;
			if (!config_setting_is_group(e) || check_known(e, nknown, path, err, errlen) < 0 ||
			    get_string(e, "ip", &ip, NULL, path, err, errlen) < 0 ||
			    parse_mac_setting(e, "mac", pc->static_neigh[i].mac, &has, path, err, errlen) < 0)
				return -1;
			if (!ip || mmr_addr_parse(ip, &pc->static_neigh[i].ip) < 0 || !has) {
				set_err(err, errlen, path, e, "neighbours[%u] needs 'ip' (an address) and 'mac'", i);
				return -1;
			}
			if (static_neigh_check(pc, i, path, e, err, errlen) < 0)
				return -1;
		}
	}
	const char *ms;
	config_setting_t *mss;
	if (get_string(ps, "tx_multiseg", &ms, &mss, path, err, errlen) < 0)
		return -1;
	if (!ms || strcmp(ms, "auto") == 0) {
		pc->tx_multiseg = DP_MULTISEG_AUTO;
	} else if (strcmp(ms, "on") == 0) {
		pc->tx_multiseg = DP_MULTISEG_ON;
	} else if (strcmp(ms, "off") == 0) {
		pc->tx_multiseg = DP_MULTISEG_OFF;
	} else {
		set_err(err, errlen, path, mss, "'tx_multiseg' = \"%s\" must be \"auto\", \"on\" or \"off\"", ms);
		return -1;
	}
	uint32_t vlan;
	if (get_uint(ps, "vlan", 0, 4094, 0, &vlan, path, err, errlen) < 0)
		return -1;
	pc->vlan = (uint16_t)vlan;
	if (!pc->has_ipv4 && !pc->has_ipv6) {
		set_err(err, errlen, path, ps, "ports[%u] needs 'ipv4' or 'ipv6'", idx);
		return -1;
	}
	return 0;
}

static int parse_eal(const config_setting_t *root, struct dp_config *cfg, const char *path,
		     char *err, size_t errlen)
{
	config_setting_t *eal = config_setting_get_member(root, "eal");
	if (!eal)
		return 0;
	if (!config_setting_is_array(eal) && !config_setting_is_list(eal)) {
		set_err(err, errlen, path, eal, "'eal' must be a list of strings [ \"-l\", \"0,1\", ... ]");
		return -1;
	}
	int n = config_setting_length(eal);
	if (n > DP_MAX_EAL_ARGS) {
		set_err(err, errlen, path, eal, "'eal' has %d entries, at most %d", n, DP_MAX_EAL_ARGS);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		config_setting_t *s = config_setting_get_elem(eal, (unsigned)i);
		if (config_setting_type(s) != CONFIG_TYPE_STRING) {
			set_err(err, errlen, path, s, "'eal' entry %d must be a string", i);
			return -1;
		}
		cfg->eal_argv[i] = strdup(config_setting_get_string(s));
		if (!cfg->eal_argv[i]) {
			set_err(err, errlen, path, s, "out of memory");
			return -1;
		}
		cfg->eal_argc = i + 1;
	}
	return 0;
}

/* The police* keys (issue 15, police.h): limits per publisher and stream kind. The defaults are
 * generous for real media (several simulcast encodings, keyframe bursts). */
static int parse_police(const config_setting_t *root, struct dp_config *cfg, const char *path,
			char *err, size_t errlen)
{
	static const char *const kind[DP_POLICE_KINDS] = { "audio", "video", "screen", "rtcp" };
	static const uint32_t def_pps[DP_POLICE_KINDS] = { 100, 3000, 3000, 1000 };
	static const uint32_t def_kbps[DP_POLICE_KINDS] = { 256, 20000, 20000, 2000 };
	if (get_bool(root, "police", 1, &cfg->police, path, err, errlen) < 0 ||
	    get_uint(root, "police_burst_ms", 10, 10000, 500, &cfg->police_burst_ms, path, err, errlen) < 0)
		return -1;
	for (unsigned k = 0; k < DP_POLICE_KINDS; k++) {
		char n_pps[32], n_kbps[32];
		snprintf(n_pps, sizeof(n_pps), "police_%s_pps", kind[k]);
		snprintf(n_kbps, sizeof(n_kbps), "police_%s_kbps", kind[k]);
		if (get_uint(root, n_pps, 0, 100000000, def_pps[k], &cfg->police_pps[k], path, err, errlen) < 0 ||
		    get_uint(root, n_kbps, 0, 1000000000, def_kbps[k], &cfg->police_kbps[k], path, err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* The neigh_* keys (issue 14, neigh.h): resolution timers. */
static int parse_neigh(const config_setting_t *root, struct dp_config *cfg, const char *path,
		       char *err, size_t errlen)
{
	if (get_uint(root, "neigh_reachable_s", 1, 3600, 30, &cfg->neigh_reachable_s, path, err, errlen) < 0 ||
	    get_uint(root, "neigh_retrans_ms", 100, 10000, 1000, &cfg->neigh_retrans_ms, path, err, errlen) < 0 ||
	    get_uint(root, "neigh_tries", 1, 10, 3, &cfg->neigh_tries, path, err, errlen) < 0)
		return -1;
	return 0;
}

/* The bwe* keys (issue 12): per-receiver downlink estimation and allocation. */
static int parse_bwe(const config_setting_t *root, struct dp_config *cfg, const char *path,
		     char *err, size_t errlen)
{
	if (get_bool(root, "bwe", 1, &cfg->bwe, path, err, errlen) < 0 ||
	    get_bool(root, "bwe_probe", 1, &cfg->bwe_probe, path, err, errlen) < 0 ||
	    get_uint(root, "bwe_min_kbps", 10, 1000000, DEFAULT_BWE_MIN, &cfg->bwe_min_kbps, path, err,
		     errlen) < 0 ||
	    get_uint(root, "bwe_max_kbps", 10, 1000000, DEFAULT_BWE_MAX, &cfg->bwe_max_kbps, path, err,
		     errlen) < 0 ||
	    get_uint(root, "bwe_start_kbps", 10, 1000000, DEFAULT_BWE_START, &cfg->bwe_start_kbps, path, err,
		     errlen) < 0 ||
	    get_uint(root, "bwe_alloc_ms", 10, 60000, DEFAULT_BWE_ALLOC, &cfg->bwe_alloc_ms, path, err,
		     errlen) < 0)
		return -1;
	if (cfg->bwe_min_kbps > cfg->bwe_max_kbps || cfg->bwe_start_kbps < cfg->bwe_min_kbps ||
	    cfg->bwe_start_kbps > cfg->bwe_max_kbps) {
		set_err(err, errlen, path, NULL, "need bwe_min_kbps <= bwe_start_kbps <= bwe_max_kbps");
		return -1;
	}
	const char *nf;
	config_setting_t *s;
	if (get_string(root, "bwe_no_feedback", &nf, &s, path, err, errlen) < 0)
		return -1;
	if (!nf || strcmp(nf, "ceiling") == 0) {
		cfg->bwe_no_feedback_lowest = 0;
	} else if (strcmp(nf, "lowest") == 0) {
		cfg->bwe_no_feedback_lowest = 1;
	} else {
		set_err(err, errlen, path, s, "'bwe_no_feedback' = \"%s\" must be \"ceiling\" or \"lowest\"", nf);
		return -1;
	}
	return 0;
}

static int parse_root(const config_setting_t *root, struct dp_config *cfg, const char *path,
		      char *err, size_t errlen)
{
	static const char *const known[] = { "shm_name", "eal", "mbufs", "udp_port", "ports",
					     "status_interval_ms", "srtp_ledger", "srtp_lease_out", "srtp_lease_in",
					     "rtcp", "rtx_video_packets", "rtx_audio_packets", "rtx_max_mbufs",
					     "sr_video_ms", "sr_audio_ms", "rr_ms", "kf_throttle_ms", "nack_max_tries",
					     "speaker_interval_ms", "topn_ms", "twcc_fb_ms",
					     "bwe", "bwe_start_kbps", "bwe_min_kbps", "bwe_max_kbps", "bwe_alloc_ms",
					     "bwe_no_feedback", "bwe_probe", "ice_consent_s",
					     "dtls_cert", "log_level", "police", "police_burst_ms",
					     "police_audio_pps", "police_audio_kbps", "police_video_pps", "police_video_kbps",
					     "police_screen_pps", "police_screen_kbps", "police_rtcp_pps", "police_rtcp_kbps",
					     "verify_udp_checksum", "neigh_reachable_s", "neigh_retrans_ms", "neigh_tries", NULL };
	if (check_known(root, known, path, err, errlen) < 0)
		return -1;

	const char *shm;
	config_setting_t *s;
	if (get_string(root, "shm_name", &shm, &s, path, err, errlen) < 0)
		return -1;
	if (!shm)
		shm = MMR_SHM_DEFAULT_NAME;
	if (shm[0] != '/' || strlen(shm) < 2 || strlen(shm) >= sizeof(cfg->shm_name) ||
	    strchr(shm + 1, '/')) {
		set_err(err, errlen, path, s, "'shm_name' = \"%s\" must be \"/name\" (1-62 characters, no other '/')",
			shm);
		return -1;
	}
	snprintf(cfg->shm_name, sizeof(cfg->shm_name), "%s", shm);

	if (parse_eal(root, cfg, path, err, errlen) < 0)
		return -1;
	uint32_t v;
	if (get_uint(root, "mbufs", MIN_MBUFS, MAX_MBUFS, DEFAULT_MBUFS, &cfg->mbufs, path, err, errlen) < 0 ||
	    get_uint(root, "udp_port", 0, 65535, DEFAULT_UDP_PORT, &v, path, err, errlen) < 0 ||
	    get_uint(root, "status_interval_ms", 0, 3600000, DEFAULT_STATUS_MS, &cfg->status_interval_ms,
		     path, err, errlen) < 0)
		return -1;
	cfg->udp_port = (uint16_t)v;

	const char *ledger;
	if (get_string(root, "srtp_ledger", &ledger, &s, path, err, errlen) < 0)
		return -1;
	if (!ledger)
		ledger = DEFAULT_SRTP_LEDGER;
	if (ledger[0] != '/' || strlen(ledger) >= sizeof(cfg->srtp_ledger)) {
		set_err(err, errlen, path, s, "'srtp_ledger' = \"%s\" must be an absolute path (< %zu characters)",
			ledger, sizeof(cfg->srtp_ledger));
		return -1;
	}
	snprintf(cfg->srtp_ledger, sizeof(cfg->srtp_ledger), "%s", ledger);
	const char *cert;
	if (get_string(root, "dtls_cert", &cert, &s, path, err, errlen) < 0)
		return -1;
	if (cert && (cert[0] != '/' || strlen(cert) >= sizeof(cfg->dtls_cert))) {
		set_err(err, errlen, path, s, "'dtls_cert' = \"%s\" must be an absolute path (< %zu characters)",
			cert, sizeof(cfg->dtls_cert));
		return -1;
	}
	snprintf(cfg->dtls_cert, sizeof(cfg->dtls_cert), "%s", cert ? cert : "");
	const char *lvl;
	if (get_string(root, "log_level", &lvl, &s, path, err, errlen) < 0)
		return -1;
	cfg->log_level = DP_LOG_INFO;
	if (lvl && dp_log_level_parse(lvl, &cfg->log_level) < 0) {
		set_err(err, errlen, path, s, "'log_level' = \"%s\" must be error, warning, notice, info or debug",
			lvl);
		return -1;
	}
	/* outbound: a receiver's copies jump ahead by up to one window after a restart; its ROC guess
	 * needs well under 2^15 (docs/design.md). inbound: up to one window (video: two) of a publisher's packets are refused. */
	if (get_uint(root, "srtp_lease_out", 64, 8192, DEFAULT_LEASE_OUT, &cfg->srtp_lease_out, path,
		     err, errlen) < 0 ||
	    get_uint(root, "srtp_lease_in", 16, 4096, DEFAULT_LEASE_IN, &cfg->srtp_lease_in, path, err,
		     errlen) < 0)
		return -1;

	if (get_bool(root, "rtcp", 1, &cfg->rtcp, path, err, errlen) < 0 ||
	    get_bool(root, "verify_udp_checksum", 1, &cfg->verify_udp_checksum, path, err, errlen) < 0 ||
	    get_ring_size(root, "rtx_video_packets", DEFAULT_RTX_VIDEO, &cfg->rtx_video_packets, path, err,
			  errlen) < 0 ||
	    get_ring_size(root, "rtx_audio_packets", DEFAULT_RTX_AUDIO, &cfg->rtx_audio_packets, path, err,
			  errlen) < 0 ||
	    get_uint(root, "rtx_max_mbufs", 0, 1u << 22, DEFAULT_RTX_MBUFS, &cfg->rtx_max_mbufs, path, err,
		     errlen) < 0 ||
	    get_uint(root, "sr_video_ms", 100, 60000, DEFAULT_SR_VIDEO_MS, &cfg->sr_video_ms, path, err,
		     errlen) < 0 ||
	    get_uint(root, "sr_audio_ms", 100, 60000, DEFAULT_SR_AUDIO_MS, &cfg->sr_audio_ms, path, err,
		     errlen) < 0 ||
	    get_uint(root, "rr_ms", 100, 60000, DEFAULT_RR_MS, &cfg->rr_ms, path, err, errlen) < 0 ||
	    get_uint(root, "kf_throttle_ms", 0, 60000, DEFAULT_KF_MS, &cfg->kf_throttle_ms, path, err,
		     errlen) < 0 ||
	    get_uint(root, "nack_max_tries", 0, 100, DEFAULT_NACK_TRIES, &cfg->nack_max_tries, path, err,
		     errlen) < 0 ||
	    get_uint(root, "speaker_interval_ms", 100, 5000, DEFAULT_SPEAKER_MS, &cfg->speaker_interval_ms,
		     path, err, errlen) < 0 ||
	    get_uint(root, "topn_ms", 20, 5000, DEFAULT_TOPN_MS, &cfg->topn_ms, path, err, errlen) < 0 ||
	    get_uint(root, "ice_consent_s", 0, 3600, 30, &cfg->ice_consent_s, path, err, errlen) < 0 ||
	    get_uint(root, "twcc_fb_ms", 20, 1000, DEFAULT_TWCC_FB_MS, &cfg->twcc_fb_ms, path, err,
		     errlen) < 0)
		return -1;
	if (parse_bwe(root, cfg, path, err, errlen) < 0 || parse_police(root, cfg, path, err, errlen) < 0 ||
	    parse_neigh(root, cfg, path, err, errlen) < 0)
		return -1;

	config_setting_t *ports = config_setting_get_member(root, "ports");
	if (!ports) {
		set_err(err, errlen, path, NULL, "missing 'ports' (one entry per DPDK port)");
		return -1;
	}
	if (!config_setting_is_list(ports) && !config_setting_is_array(ports)) {
		set_err(err, errlen, path, ports, "'ports' must be a list ( { ipv4 = ...; }, ... )");
		return -1;
	}
	int n = config_setting_length(ports);
	if (n < 1 || n > (int)MMR_MAX_PORTS) {
		set_err(err, errlen, path, ports, "'ports' has %d entries, need 1..%u", n, MMR_MAX_PORTS);
		return -1;
	}
	for (int i = 0; i < n; i++)
		if (parse_port(config_setting_get_elem(ports, (unsigned)i), &cfg->port[i], (unsigned)i,
			       path, err, errlen) < 0)
			return -1;
	cfg->n_ports = (uint32_t)n;
	return 0;
}

int dp_config_load(const char *path, struct dp_config *cfg, char *err, size_t errlen)
{
	config_t lc;
	int rc = -1;

	memset(cfg, 0, sizeof(*cfg));
	config_init(&lc);
	if (config_read_file(&lc, path) != CONFIG_TRUE) {
		if (config_error_type(&lc) == CONFIG_ERR_FILE_IO)
			snprintf(err, errlen, "%s: cannot read the file", path);
		else
			snprintf(err, errlen, "%s:%d: %s", config_error_file(&lc) ? config_error_file(&lc) : path,
				 config_error_line(&lc), config_error_text(&lc));
		goto out;
	}
	if (parse_root(config_root_setting(&lc), cfg, path, err, errlen) < 0)
		goto out_free;
	rc = 0;
	goto out;
out_free:
	dp_config_free(cfg);
out:
	config_destroy(&lc);
	return rc;
}

void dp_config_free(struct dp_config *cfg)
{
	for (int i = 0; i < cfg->eal_argc; i++)
		free(cfg->eal_argv[i]);
	cfg->eal_argc = 0;
}

/* ---- SIGHUP: what a running dataplane takes from a re-read file ---------------------------- */

struct field {
	const char *name;
	size_t off;
	uint8_t size;             /* 1 or 4 bytes */
};
#define F32(n) { #n, offsetof(struct dp_config, n), 4 }
#define F8(n)  { #n, offsetof(struct dp_config, n), 1 }

/* Taken at run time: the readers load each with one relaxed load (dp_config_reload's stores are
 * single aligned words, so nobody sees half a value). log_level is applied by the caller. */
static const struct field runtime_fields[] = {
	F32(status_interval_ms), F32(sr_video_ms), F32(sr_audio_ms), F32(rr_ms), F32(kf_throttle_ms),
	F32(nack_max_tries), F32(speaker_interval_ms), F32(topn_ms), F32(twcc_fb_ms), F32(ice_consent_s),
	F8(bwe_probe), { "bwe_no_feedback (1: lowest)", offsetof(struct dp_config, bwe_no_feedback_lowest), 1 },
	F32(bwe_start_kbps), F32(bwe_min_kbps), F32(bwe_max_kbps),
	F32(bwe_alloc_ms),
	/* neighbour timers (neigh.c reads them at each scan) */
	F32(neigh_reachable_s), F32(neigh_retrans_ms), F32(neigh_tries),
	/* policing (police.h): the control thread turns them into the lcores' limits (police_set) */
	F8(police), F32(police_burst_ms),
#define POLICE_FIELDS(k, name) { "police_" name "_pps", offsetof(struct dp_config, police_pps[k]), 4 }, \
			       { "police_" name "_kbps", offsetof(struct dp_config, police_kbps[k]), 4 }
	POLICE_FIELDS(0, "audio"), POLICE_FIELDS(1, "video"), POLICE_FIELDS(2, "screen"), POLICE_FIELDS(3, "rtcp"),
#undef POLICE_FIELDS
};
/* Sized at start (pools, rings, tables, the segment, EAL, ports): kept until a restart. */
static const struct field restart_fields[] = {
	F32(mbufs), F32(srtp_lease_out), F32(srtp_lease_in), F8(rtcp), F32(rtx_video_packets),
	F32(rtx_audio_packets), F32(rtx_max_mbufs), F8(bwe), F8(verify_udp_checksum),
};

static uint32_t field_get(const struct dp_config *c, const struct field *f)
{
	const char *p = (const char *)c + f->off;
	return f->size == 1 ? *(const uint8_t *)p : *(const uint32_t *)p;
}

static void append(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	if (used + 1 >= len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

void dp_config_reload(struct dp_config *live, const struct dp_config *fresh, char *changed, size_t changed_len,
		      char *kept, size_t kept_len)
{
	changed[0] = kept[0] = '\0';
	for (size_t i = 0; i < sizeof(runtime_fields) / sizeof(runtime_fields[0]); i++) {
		const struct field *f = &runtime_fields[i];
		uint32_t was = field_get(live, f), now = field_get(fresh, f);
		if (was == now)
			continue;
		append(changed, changed_len, "%s%s %u -> %u", changed[0] ? ", " : "", f->name, was, now);
		char *p = (char *)live + f->off;
		if (f->size == 1)
			__atomic_store_n((uint8_t *)p, (uint8_t)now, __ATOMIC_RELAXED);
		else
			__atomic_store_n((uint32_t *)p, now, __ATOMIC_RELAXED);
	}
	for (size_t i = 0; i < sizeof(restart_fields) / sizeof(restart_fields[0]); i++) {
		const struct field *f = &restart_fields[i];
		if (field_get(live, f) != field_get(fresh, f))
			append(kept, kept_len, "%s%s", kept[0] ? ", " : "", f->name);
	}
	if (strcmp(live->shm_name, fresh->shm_name) != 0)
		append(kept, kept_len, "%sshm_name", kept[0] ? ", " : "");
	if (strcmp(live->srtp_ledger, fresh->srtp_ledger) != 0)
		append(kept, kept_len, "%ssrtp_ledger", kept[0] ? ", " : "");
	if (strcmp(live->dtls_cert, fresh->dtls_cert) != 0)
		append(kept, kept_len, "%sdtls_cert", kept[0] ? ", " : "");
	if (live->udp_port != fresh->udp_port)
		append(kept, kept_len, "%sudp_port", kept[0] ? ", " : "");
	int eal_same = live->eal_argc == fresh->eal_argc;
	for (int i = 0; eal_same && i < live->eal_argc; i++)
		eal_same = strcmp(live->eal_argv[i], fresh->eal_argv[i]) == 0;
	if (!eal_same)
		append(kept, kept_len, "%seal", kept[0] ? ", " : "");
	if (live->n_ports != fresh->n_ports ||
	    memcmp(live->port, fresh->port, sizeof(live->port[0]) * live->n_ports) != 0)
		append(kept, kept_len, "%sports", kept[0] ? ", " : "");
}
