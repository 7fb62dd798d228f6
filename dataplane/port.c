/*
 * port.c - ethdev and mempool set-up for the dataplane.
 *
 * Port i (the i-th ethdev the EAL found) gets the i-th `ports` entry of the config. Every worker
 * lcore owns RX queue q and TX queue q of every port (q = its worker index), so the packet path
 * needs no locks. With more than one worker, RSS over IPv4/IPv6 + UDP spreads senders over the
 * queues when the PMD supports it; a sender's 5-tuple always lands on the same lcore, which makes
 * that lcore the only writer of its streams' forwarding state.
 *
 * Mempools (per NUMA socket that runs a worker):
 *   pkt   - RX buffers and full copies of large packets, `mbufs` entries, plus `rtx_max_mbufs` per
 *           worker on the socket when RTCP is on and packets are kept for resends (the packet
 *           rings hold references to received mbufs, issue 11);
 *   hdr   - small mbufs (DP_HDR_MBUF_ROOM) for a copy's headers in front of a payload clone, or a
 *           whole small (audio) copy;
 *   clone - indirect mbufs without data room, pointing into a received packet's buffer.
 */
#include "port.h"

#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dataplane.h"

#define RX_DESC 1024
#define TX_DESC 1024
#define POOL_CACHE 256

static struct rte_mempool *make_pool(const char *kind, unsigned socket, unsigned n, uint16_t room)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	snprintf(name, sizeof(name), "mmr_%s_%u", kind, socket);
	struct rte_mempool *mp = rte_pktmbuf_pool_create(name, n, POOL_CACHE, 0, room, (int)socket);
	if (!mp)
		dp_log("cannot create mempool %s (%u mbufs of %u bytes): %s", name, n, room,
		       rte_strerror(rte_errno));
	return mp;
}

static unsigned worker_socket(const struct dataplane *dp, unsigned w)
{
	unsigned socket = rte_lcore_to_socket_id(dp->worker_lcore[w]);
	return socket >= RTE_MAX_NUMA_NODES ? 0 : socket;
}

int pools_init(struct dataplane *dp)
{
	const struct dp_config *cfg = dp->cfg;
	unsigned n = cfg->mbufs;
	int keeps = cfg->rtcp && (cfg->rtx_video_packets || cfg->rtx_audio_packets);
	for (unsigned i = 0; i < dp->n_workers; i++) {
		unsigned socket = worker_socket(dp, i);
		struct dp_pools *p = &dp->pools[socket];
		if (p->pkt)
			continue;
		unsigned n_pkt = n;
		for (unsigned w = 0; keeps && w < dp->n_workers; w++)
			if (worker_socket(dp, w) == socket)
				n_pkt += cfg->rtx_max_mbufs;
		p->pkt = make_pool("pkt", socket, n_pkt, RTE_MBUF_DEFAULT_BUF_SIZE);
		p->hdr = make_pool("hdr", socket, n, (uint16_t)(DP_HDR_MBUF_ROOM + RTE_PKTMBUF_HEADROOM));
		p->clone = make_pool("clone", socket, n, 0);
		if (!p->pkt || !p->hdr || !p->clone)
			return -1;
	}
	return 0;
}

void pools_free(struct dataplane *dp)
{
	for (unsigned s = 0; s < RTE_MAX_NUMA_NODES; s++) {
		rte_mempool_free(dp->pools[s].pkt);
		rte_mempool_free(dp->pools[s].hdr);
		rte_mempool_free(dp->pools[s].clone);
		memset(&dp->pools[s], 0, sizeof(dp->pools[s]));
	}
}

static struct dp_pools *worker_pools(struct dataplane *dp, unsigned w)
{
	unsigned socket = rte_lcore_to_socket_id(dp->worker_lcore[w]);
	return &dp->pools[socket < RTE_MAX_NUMA_NODES ? socket : 0];
}

/* Receive IPv6 neighbour solicitations for our address on a NIC that filters multicast. */
static void join_solicited_node(const struct dp_port *pt)
{
	struct rte_ether_addr mc = { { 0x33, 0x33, 0xff, pt->ipv6.ip[13], pt->ipv6.ip[14], pt->ipv6.ip[15] } };
	if (rte_eth_dev_set_mc_addr_list(pt->port_id, &mc, 1) == 0)
		return;
	if (rte_eth_allmulticast_enable(pt->port_id) == 0)
		return;
	dp_log("port %u: cannot receive the IPv6 solicited-node multicast group; NDP may not work",
	       pt->port_id);
}

static int port_setup(struct dataplane *dp, unsigned idx, uint16_t port_id)
{
	const struct dp_port_config *pc = &dp->cfg->port[idx];
	struct dp_port *pt = &dp->port[idx];
	uint16_t nq = (uint16_t)dp->n_workers;
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	int rc;

	memset(pt, 0, sizeof(*pt));
	pt->port_id = port_id;
	dp->pidx_of[port_id] = (uint8_t)idx;   /* a handed-off mbuf names its port by id (mbuf->port) */
	rte_eth_dev_get_name_by_port(port_id, pt->name);
	rc = rte_eth_dev_info_get(port_id, &info);
	if (rc != 0) {
		dp_log("port %u (%s): cannot get device info: %s", port_id, pt->name, rte_strerror(-rc));
		return -1;
	}
	if (info.max_rx_queues < nq || info.max_tx_queues < nq) {
		dp_log("port %u (%s): %u workers need %u RX and TX queues, the device has %u/%u",
		       port_id, pt->name, nq, nq, info.max_rx_queues, info.max_tx_queues);
		return -1;
	}

	memset(&conf, 0, sizeof(conf));
	const char *rss = "single queue";
	if (nq > 1) {
		uint64_t hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
		if (hf) {
			conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
			conf.rx_adv_conf.rss_conf.rss_hf = hf;
			rss = "RSS over IP/UDP";
		} else {
			rss = "NO RSS: only worker 0 receives on it";
		}
	}
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) {
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
		pt->multiseg_tx = 1;
	}
	/* the NIC's UDP checksum verdict where it has one (mbuf ol_flags; the worker verifies in
	 * software what it leaves UNKNOWN: net_tap, memif) */
	if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_UDP_CKSUM)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
	if (pc->tx_multiseg == DP_MULTISEG_ON)
		pt->multiseg_tx = 1;      /* the operator knows the PMD takes chains */
	else if (pc->tx_multiseg == DP_MULTISEG_OFF)
		pt->multiseg_tx = 0;
	rc = rte_eth_dev_configure(port_id, nq, nq, &conf);
	if (rc != 0) {
		dp_log("port %u (%s): configure failed: %s", port_id, pt->name, rte_strerror(-rc));
		return -1;
	}
	uint16_t nb_rx = RX_DESC, nb_tx = TX_DESC;
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &nb_rx, &nb_tx);
	if (rc != 0) {
		dp_log("port %u (%s): descriptor counts refused: %s", port_id, pt->name, rte_strerror(-rc));
		return -1;
	}
	int dev_socket = rte_eth_dev_socket_id(port_id);
	struct rte_eth_txconf txconf = info.default_txconf;
	txconf.offloads = conf.txmode.offloads;
	for (uint16_t q = 0; q < nq; q++) {
		struct dp_pools *pools = worker_pools(dp, q);
		rc = rte_eth_rx_queue_setup(port_id, q, nb_rx, (unsigned)dev_socket, NULL, pools->pkt);
		if (rc == 0)
			rc = rte_eth_tx_queue_setup(port_id, q, nb_tx, (unsigned)dev_socket, &txconf);
		if (rc != 0) {
			dp_log("port %u (%s): queue %u setup failed: %s", port_id, pt->name, q, rte_strerror(-rc));
			return -1;
		}
	}
	if (pc->has_mac) {
		struct rte_ether_addr ea;
		memcpy(ea.addr_bytes, pc->mac, 6);
		rc = rte_eth_dev_default_mac_addr_set(port_id, &ea);
		if (rc != 0) {
			dp_log("port %u (%s): cannot set MAC: %s", port_id, pt->name, rte_strerror(-rc));
			return -1;
		}
	}
	rc = rte_eth_dev_start(port_id);
	if (rc != 0) {
		dp_log("port %u (%s): start failed: %s", port_id, pt->name, rte_strerror(-rc));
		return -1;
	}
	pt->started = 1;
	rc = rte_eth_promiscuous_disable(port_id);
	if (rc != 0 && rc != -ENOTSUP)
		dp_log("port %u (%s): cannot turn promiscuous mode off: %s", port_id, pt->name,
		       rte_strerror(-rc));

	struct rte_ether_addr ea;
	rte_eth_macaddr_get(port_id, &ea);
	memcpy(pt->mac, ea.addr_bytes, 6);
	pt->has_ipv4 = pc->has_ipv4;
	pt->has_ipv6 = pc->has_ipv6;
	pt->ipv4 = pc->ipv4;
	pt->ipv6 = pc->ipv6;
	memset(pt->ipv4.pad, 0, sizeof(pt->ipv4.pad));
	memset(pt->ipv4.ip + 4, 0, 12);
	memset(pt->ipv6.pad, 0, sizeof(pt->ipv6.pad));
	pt->has_gateway_mac = pc->has_gateway_mac;
	memcpy(pt->gateway_mac, pc->gateway_mac, 6);
	if (pt->has_ipv6)
		join_solicited_node(pt);
	/* layer 2: what the worker accepts (pkt_l2_check) and the tag it sends with */
	memcpy(pt->l2.mac, pt->mac, 6);
	pt->l2.vlan = pc->vlan;
	pt->l2.has_ipv6 = pt->has_ipv6;
	memcpy(pt->l2.ipv6, pt->ipv6.ip, 16);
	pt->vlan_tci_be = rte_cpu_to_be_16(pc->vlan);

	char a4[64] = "-", a6[64] = "-";
	if (pt->has_ipv4)
		mmr_addr_format(&pt->ipv4, a4, sizeof(a4));
	if (pt->has_ipv6)
		mmr_addr_format(&pt->ipv6, a6, sizeof(a6));
	char vl[24] = "untagged";
	if (pc->vlan)
		snprintf(vl, sizeof(vl), "VLAN %u", pc->vlan);
	dp_log("port %u (%s): MAC %02x:%02x:%02x:%02x:%02x:%02x, IPv4 %s, IPv6 %s, %s, %u queue(s), %s, %s",
	       port_id, pt->name, pt->mac[0], pt->mac[1], pt->mac[2], pt->mac[3], pt->mac[4], pt->mac[5],
	       a4, a6, vl, nq, rss, pt->multiseg_tx ? "zero-copy (chained) fan-out" : "copying fan-out");
	return 0;
}

int ports_init(struct dataplane *dp)
{
	uint16_t avail = rte_eth_dev_count_avail();
	if (avail != dp->cfg->n_ports) {
		dp_log("the EAL found %u ethdev(s) but the config lists %u port(s); they must match",
		       avail, dp->cfg->n_ports);
		return -1;
	}
	unsigned idx = 0;
	uint16_t port_id;
	RTE_ETH_FOREACH_DEV(port_id) {
		if (idx >= MMR_MAX_PORTS)
			break;
		dp->n_ports = idx + 1;
		if (port_setup(dp, idx, port_id) < 0)
			return -1;
		idx++;
	}
	return 0;
}

void ports_close(struct dataplane *dp)
{
	for (unsigned i = 0; i < dp->n_ports; i++) {
		struct dp_port *pt = &dp->port[i];
		if (pt->started) {
			int rc = rte_eth_dev_stop(pt->port_id);
			if (rc != 0)
				dp_log("port %u: stop failed: %s", pt->port_id, rte_strerror(-rc));
			pt->started = 0;
		}
		rte_eth_dev_close(pt->port_id);
	}
}
