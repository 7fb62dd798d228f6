/*
 * pcap_out.c - the classic pcap writer of pcap_out.h.
 */
#include "pcap_out.h"

#include <errno.h>
#include <string.h>

struct pcap_file_hdr {
	uint32_t magic;
	uint16_t major, minor;
	int32_t  thiszone;
	uint32_t sigfigs, snaplen, linktype;
};

struct pcap_rec_hdr {
	uint32_t sec, usec, incl, orig;
};

int pcap_out_open(struct pcap_out *p, const char *path)
{
	struct pcap_file_hdr h = { 0xa1b2c3d4u, 2, 4, 0, 0, 65535, 1 };
	memset(p, 0, sizeof(*p));
	p->f = fopen(path, "wb");
	if (!p->f)
		return -errno;
	if (fwrite(&h, sizeof(h), 1, p->f) != 1) {
		fclose(p->f);
		p->f = NULL;
		return -EIO;
	}
	return 0;
}

int pcap_out_frame(struct pcap_out *p, const uint8_t *frame, uint32_t len, uint64_t t_ns)
{
	struct pcap_rec_hdr r = { (uint32_t)(t_ns / 1000000000ull), (uint32_t)(t_ns % 1000000000ull / 1000),
				  len, len };
	if (fwrite(&r, sizeof(r), 1, p->f) != 1 || fwrite(frame, 1, len, p->f) != len)
		return -EIO;
	p->frames++;
	return 0;
}

int pcap_out_close(struct pcap_out *p)
{
	int rc = 0;
	if (p->f && fclose(p->f) != 0)
		rc = -EIO;
	p->f = NULL;
	return rc;
}
