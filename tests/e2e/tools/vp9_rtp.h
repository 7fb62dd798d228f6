/*
 * vp9_rtp.h - the test's own (independent of lib/codec/vp9.c) writer and reader of the RFC 9628 VP9
 * payload descriptor, and the packet files the e2e VP9 tool and test exchange. Header-only: the
 * tool is a single .c file. Nothing here is used by the MMR itself.
 *
 * Packet file (tx.bin, rx files): records of  u32 LE time in microseconds, u16 LE length, bytes.
 */
#ifndef E2E_VP9_RTP_H
#define E2E_VP9_RTP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define VP9D_I 0x80   /* PictureID present */
#define VP9D_P 0x40   /* inter-picture predicted */
#define VP9D_L 0x20   /* layer indices present */
#define VP9D_F 0x10   /* flexible mode */
#define VP9D_B 0x08   /* start of a layer frame */
#define VP9D_E 0x04   /* end of a layer frame */
#define VP9D_V 0x02   /* scalability structure present */
#define VP9D_Z 0x01   /* not a reference for upper spatial layers of this picture */

#define VP9D_MAX_REFS 3

/* What one packet's descriptor says. */
struct vp9d {
	uint8_t flags;            /* first byte */
	uint16_t pid;             /* 15-bit PictureID (the writer always sends M=1) */
	uint8_t tid, u, sid, d;
	uint8_t tl0picidx;        /* non-flexible mode */
	uint8_t n_refs;
	uint8_t p_diff[VP9D_MAX_REFS];
	uint8_t has_ss;
	uint8_t ss_ns;            /* spatial layers (N_S + 1) */
	uint16_t ss_w[8], ss_h[8];
	size_t len;               /* descriptor bytes; the VP9 data follows */
};

/* The scalability structure a keyframe carries. In non-flexible mode it includes the picture
 * group: n_g pictures, each with its TID, U and P_DIFFs. */
struct vp9d_ss {
	uint8_t n_spatial;
	uint16_t w[3], h[3];
	uint8_t n_g;                       /* 0: G=0 */
	uint8_t g_tid[8], g_u[8], g_r[8], g_pdiff[8][VP9D_MAX_REFS];
};

/* Write a descriptor to out (at least 64 bytes); returns its length. ss: NULL unless V. */
static inline size_t vp9d_write(uint8_t *out, const struct vp9d *d, const struct vp9d_ss *ss)
{
	size_t n = 0;
	int i, k;

	out[n++] = d->flags | (ss ? VP9D_V : 0) | VP9D_I | VP9D_L;
	out[n++] = 0x80 | ((d->pid >> 8) & 0x7f);
	out[n++] = d->pid & 0xff;
	out[n++] = (uint8_t)((d->tid << 5) | (d->u << 4) | (d->sid << 1) | d->d);
	if (!(d->flags & VP9D_F))
		out[n++] = d->tl0picidx;
	else if (d->flags & VP9D_P)
		for (i = 0; i < d->n_refs; i++)
			out[n++] = (uint8_t)((d->p_diff[i] << 1) | (i + 1 < d->n_refs));
	if (ss) {
		out[n++] = (uint8_t)(((ss->n_spatial - 1) << 5) | 0x10 | (ss->n_g ? 0x08 : 0));
		for (i = 0; i < ss->n_spatial; i++) {
			out[n++] = ss->w[i] >> 8;
			out[n++] = ss->w[i] & 0xff;
			out[n++] = ss->h[i] >> 8;
			out[n++] = ss->h[i] & 0xff;
		}
		if (ss->n_g) {
			out[n++] = ss->n_g;
			for (i = 0; i < ss->n_g; i++) {
				out[n++] = (uint8_t)((ss->g_tid[i] << 5) | (ss->g_u[i] << 4) | (ss->g_r[i] << 2));
				for (k = 0; k < ss->g_r[i]; k++)
					out[n++] = ss->g_pdiff[i][k];
			}
		}
	}
	return n;
}

/* Parse a descriptor; returns 0, or -1 when the payload ends inside it or it is malformed. */
static inline int vp9d_read(const uint8_t *p, size_t len, struct vp9d *d)
{
	size_t n = 0;
	int i;

	memset(d, 0, sizeof(*d));
	if (len < 1)
		return -1;
	d->flags = p[n++];
	if (d->flags & VP9D_I) {
		if (n >= len)
			return -1;
		if (p[n] & 0x80) {
			if (n + 2 > len)
				return -1;
			d->pid = (uint16_t)(((p[n] & 0x7f) << 8) | p[n + 1]);
			n += 2;
		} else {
			d->pid = p[n++];
		}
	}
	if (d->flags & VP9D_L) {
		if (n >= len)
			return -1;
		d->tid = p[n] >> 5;
		d->u = (p[n] >> 4) & 1;
		d->sid = (p[n] >> 1) & 7;
		d->d = p[n] & 1;
		n++;
		if (!(d->flags & VP9D_F)) {
			if (n >= len)
				return -1;
			d->tl0picidx = p[n++];
		}
	}
	if ((d->flags & VP9D_F) && (d->flags & VP9D_P)) {
		for (;;) {
			if (n >= len || d->n_refs == VP9D_MAX_REFS)
				return -1;
			d->p_diff[d->n_refs++] = p[n] >> 1;
			if (!(p[n++] & 1))
				break;
		}
	}
	if (d->flags & VP9D_V) {
		uint8_t b;

		if (n >= len)
			return -1;
		b = p[n++];
		d->has_ss = 1;
		d->ss_ns = (uint8_t)((b >> 5) + 1);
		if (b & 0x10) {
			for (i = 0; i < d->ss_ns; i++) {
				if (n + 4 > len)
					return -1;
				d->ss_w[i] = (uint16_t)((p[n] << 8) | p[n + 1]);
				d->ss_h[i] = (uint16_t)((p[n + 2] << 8) | p[n + 3]);
				n += 4;
			}
		}
		if (b & 0x08) {
			int ng;

			if (n >= len)
				return -1;
			ng = p[n++];
			for (i = 0; i < ng; i++) {
				int r;

				if (n >= len)
					return -1;
				r = (p[n++] >> 2) & 3;
				if (n + (size_t)r > len)
					return -1;
				n += (size_t)r;
			}
		}
	}
	d->len = n;
	return n < len ? 0 : -1;   /* a packet carries at least one byte of the frame */
}

/* Minimal RTP (no CSRC/extension expected from our sender; both are skipped if present). */
struct e2e_rtp {
	uint8_t marker, pt;
	uint16_t seq;
	uint32_t ts, ssrc;
	size_t hdr_len;
};

static inline int e2e_rtp_read(const uint8_t *p, size_t len, struct e2e_rtp *r)
{
	size_t n;

	if (len < 12 || (p[0] >> 6) != 2)
		return -1;
	r->marker = p[1] >> 7;
	r->pt = p[1] & 0x7f;
	r->seq = (uint16_t)((p[2] << 8) | p[3]);
	r->ts = ((uint32_t)p[4] << 24) | ((uint32_t)p[5] << 16) | ((uint32_t)p[6] << 8) | p[7];
	r->ssrc = ((uint32_t)p[8] << 24) | ((uint32_t)p[9] << 16) | ((uint32_t)p[10] << 8) | p[11];
	n = 12 + 4u * (p[0] & 0x0f);
	if (p[0] & 0x10) {
		if (n + 4 > len)
			return -1;
		n += 4 + 4u * (size_t)((p[n + 2] << 8) | p[n + 3]);
	}
	if (n > len)
		return -1;
	if (p[0] & 0x20) {          /* padding */
		if (len == n || p[len - 1] > len - n)
			return -1;
		len -= p[len - 1];
	}
	r->hdr_len = n;
	return (int)(len - n);      /* payload bytes */
}

static inline size_t e2e_rtp_write(uint8_t *p, int marker, uint8_t pt, uint16_t seq, uint32_t ts,
				   uint32_t ssrc)
{
	p[0] = 0x80;
	p[1] = (uint8_t)((marker ? 0x80 : 0) | pt);
	p[2] = seq >> 8;
	p[3] = seq & 0xff;
	p[4] = ts >> 24;
	p[5] = (ts >> 16) & 0xff;
	p[6] = (ts >> 8) & 0xff;
	p[7] = ts & 0xff;
	p[8] = ssrc >> 24;
	p[9] = (ssrc >> 16) & 0xff;
	p[10] = (ssrc >> 8) & 0xff;
	p[11] = ssrc & 0xff;
	return 12;
}

static inline int pktfile_write(FILE *f, uint32_t t_us, const uint8_t *p, uint16_t len)
{
	uint8_t h[6] = { t_us & 0xff, (t_us >> 8) & 0xff, (t_us >> 16) & 0xff, t_us >> 24,
			 len & 0xff, len >> 8 };

	return fwrite(h, 1, 6, f) == 6 && fwrite(p, 1, len, f) == len ? 0 : -1;
}

/* Returns the record's length, 0 at a clean end of file, -1 on a truncated record. */
static inline int pktfile_read(FILE *f, uint32_t *t_us, uint8_t *p, size_t cap)
{
	uint8_t h[6];
	size_t got = fread(h, 1, 6, f);
	uint16_t len;

	if (got == 0)
		return 0;
	if (got != 6)
		return -1;
	*t_us = (uint32_t)h[0] | ((uint32_t)h[1] << 8) | ((uint32_t)h[2] << 16) | ((uint32_t)h[3] << 24);
	len = (uint16_t)(h[4] | (h[5] << 8));
	if (len == 0 || len > cap || fread(p, 1, len, f) != len)
		return -1;
	return len;
}

#endif
