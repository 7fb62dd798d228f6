/*
 * pcap_out.h - write frames to a classic libpcap file (microsecond timestamps, Ethernet), the
 * format tcpdump, Wireshark, DPDK's net_pcap and Pktgen-DPDK's pcap mode all read.
 */
#ifndef MMR_GEN_PCAP_OUT_H
#define MMR_GEN_PCAP_OUT_H

#include <stdint.h>
#include <stdio.h>

struct pcap_out {
	FILE *f;
	uint64_t frames;
};

int pcap_out_open(struct pcap_out *p, const char *path);
/* t_ns: the frame's time since the start of the capture. 0 or -EIO. */
int pcap_out_frame(struct pcap_out *p, const uint8_t *frame, uint32_t len, uint64_t t_ns);
int pcap_out_close(struct pcap_out *p);

#endif
