/*
 * vp8_simulcast.c - the libvpx end of the VP8 simulcast end-to-end test (test_simulcast_vp8.py).
 *
 *   vp8_simulcast encode DIR FRAMES SSRC0 SSRC1 SSRC2
 *	Encodes one deterministic synthetic moving picture at three sizes (160x90, 320x180, 640x360,
 *	30 fps) with three independent VP8 encoders, keyframes staggered (all at picture 0, then
 *	encoding e at every picture p > 0 with p % 30 == 10 * e), packetizes each encoding per RFC 7741
 *	with its own SSRC, sequence numbers, random timestamp offset, 15-bit PictureID and TL0PICIDX,
 *	and writes:
 *	  DIR/packets.bin  every RTP packet in send order (the encodings' packets of one picture
 *	                   interleaved, highest encoding first, as a sender with one pacer queue per
 *	                   encoding might send them), each
 *	                   record: u8 encoding, u32 picture, u8 flags (1 key, 2 first, 4 last of its
 *	                   frame), u16 length, the RTP packet (integers little-endian);
 *	  DIR/ref.txt      the reference decode: "enc picture width height hash" per picture of each
 *	                   encoding, decoded by libvpx from the full encoding.
 *   vp8_simulcast decode CAPTURE
 *	Depacketizes what one receiver got (CAPTURE: records u16 length + RTP packet, in arrival
 *	order), decodes with libvpx (which takes resolution changes at keyframes) and prints one line
 *	per frame: "F first_seq last_seq npkts ts pid tl0 key complete decoded width height hash",
 *	and "E message" for anything wrong (malformed packet, stray packet, decoder error).
 *
 * The hash is 64-bit FNV-1a over the visible I420 planes, so a picture's hash depends on its pixels
 * and size only. This tool is the independent other end of the MMR: it uses none of lib/'s parsers.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vpx/vp8cx.h>
#include <vpx/vp8dx.h>
#include <vpx/vpx_decoder.h>
#include <vpx/vpx_encoder.h>

#define N_ENC      3
#define FPS        30
#define TS_STEP    (90000 / FPS)
#define KF_PERIOD  30
#define MAX_PAYLOAD 1100        /* VP8 bytes per packet; well under a 1500-byte MTU */
#define DESC_LEN   6            /* X, I/L/T byte, 15-bit PictureID, TL0PICIDX, TID/Y */
#define MAX_PKTS   256          /* packets of one frame of one encoding */
#define MAX_FRAME  (1 << 20)

static const unsigned enc_w[N_ENC] = { 160, 320, 640 };
static const unsigned enc_h[N_ENC] = { 90, 180, 360 };
static const unsigned enc_kbps[N_ENC] = { 150, 400, 1000 };

static void __attribute__((noreturn)) die(const char *what)
{
	fprintf(stderr, "vp8_simulcast: %s\n", what);
	exit(2);
}

/* ---- pictures ----------------------------------------------------------------------------- */

static uint64_t fnv_update(uint64_t h, const uint8_t *p, size_t n)
{
	while (n--) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t image_hash(const vpx_image_t *img)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (int pl = 0; pl < 3; pl++) {
		unsigned w = pl ? (img->d_w + 1) / 2 : img->d_w;
		unsigned hh = pl ? (img->d_h + 1) / 2 : img->d_h;
		for (unsigned y = 0; y < hh; y++)
			h = fnv_update(h, img->planes[pl] + (size_t)y * img->stride[pl], w);
	}
	return h;
}

/*
 * The same scene at every size: coordinates are scaled to a 640x360 canvas so the three encodings
 * show one picture. Smooth gradients that drift plus a bright box that moves: every picture differs
 * from every other, and the encoder has real motion to predict.
 */
static void draw(vpx_image_t *img, unsigned pic)
{
	unsigned w = img->d_w, h = img->d_h;
	unsigned bx = (pic * 7) % 560, by = (pic * 3) % 300;

	for (unsigned y = 0; y < h; y++) {
		uint8_t *row = img->planes[0] + (size_t)y * img->stride[0];
		unsigned cy = y * 360 / h;
		for (unsigned x = 0; x < w; x++) {
			unsigned cx = x * 640 / w;
			unsigned v = 40 + ((cx + 2 * cy + 4 * pic) % 160);
			if (cx >= bx && cx < bx + 80 && cy >= by && cy < by + 60)
				v = 230 - ((cx - bx) + (cy - by)) / 4;
			row[x] = (uint8_t)v;
		}
	}
	for (int pl = 1; pl < 3; pl++) {
		unsigned cw = (w + 1) / 2, ch = (h + 1) / 2;
		for (unsigned y = 0; y < ch; y++) {
			uint8_t *row = img->planes[pl] + (size_t)y * img->stride[pl];
			unsigned cy = y * 180 / ch;
			for (unsigned x = 0; x < cw; x++) {
				unsigned cx = x * 320 / cw;
				row[x] = (uint8_t)(pl == 1 ? 64 + (cx / 3 + pic) % 128
							   : 64 + (cy / 2 + 2 * pic) % 128);
			}
		}
	}
}

/* ---- RTP / RFC 7741 packetizer ------------------------------------------------------------ */

/* The per-encoding state a real sender keeps: all its own numbering, randomly started. */
struct sender {
	uint32_t ssrc;
	uint16_t seq;
	uint32_t ts_base;
	uint16_t pid;            /* 15 bits */
	uint8_t  tl0;
};

static uint32_t rnd_state;

static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

struct pkt {
	uint16_t len;
	uint8_t  flags;
	uint8_t  data[12 + DESC_LEN + MAX_PAYLOAD];
};

/* Split one encoded frame into RTP packets of about equal size. Returns the count. */
static int packetize(struct sender *s, unsigned pic, const uint8_t *frame, size_t len, int key,
		     struct pkt *out)
{
	int n = (int)((len + MAX_PAYLOAD - 1) / MAX_PAYLOAD);
	size_t off = 0;
	uint32_t ts = s->ts_base + pic * TS_STEP;

	if (n > MAX_PKTS)
		die("frame too large");
	for (int i = 0; i < n; i++) {
		size_t chunk = (len - off) / (size_t)(n - i);
		uint8_t *p = out[i].data;
		int last = i == n - 1;

		p[0] = 0x80;
		p[1] = (uint8_t)(96 | (last ? 0x80 : 0));
		p[2] = (uint8_t)(s->seq >> 8);
		p[3] = (uint8_t)s->seq;
		p[4] = (uint8_t)(ts >> 24);
		p[5] = (uint8_t)(ts >> 16);
		p[6] = (uint8_t)(ts >> 8);
		p[7] = (uint8_t)ts;
		p[8] = (uint8_t)(s->ssrc >> 24);
		p[9] = (uint8_t)(s->ssrc >> 16);
		p[10] = (uint8_t)(s->ssrc >> 8);
		p[11] = (uint8_t)s->ssrc;
		/* X=1, N=0, S on the first packet, partition index 0 */
		p[12] = (uint8_t)(0x80 | (i == 0 ? 0x10 : 0));
		p[13] = 0xe0;                                   /* I, L, T */
		p[14] = (uint8_t)(0x80 | (s->pid >> 8));        /* M=1: 15-bit PictureID */
		p[15] = (uint8_t)s->pid;
		p[16] = s->tl0;
		p[17] = 0x20;                                   /* TID 0, Y=1 */
		memcpy(p + 12 + DESC_LEN, frame + off, chunk);
		out[i].len = (uint16_t)(12 + DESC_LEN + chunk);
		out[i].flags = (uint8_t)((key ? 1 : 0) | (i == 0 ? 2 : 0) | (last ? 4 : 0));
		off += chunk;
		s->seq++;
	}
	s->pid = (s->pid + 1) & 0x7fff;
	s->tl0++;        /* every frame is a TL0 frame: one temporal layer per encoding */
	return n;
}

static void write_record(FILE *f, unsigned enc, unsigned pic, const struct pkt *p)
{
	uint8_t h[8] = { (uint8_t)enc, (uint8_t)pic, (uint8_t)(pic >> 8), (uint8_t)(pic >> 16),
			 (uint8_t)(pic >> 24), p->flags, (uint8_t)p->len, (uint8_t)(p->len >> 8) };
	if (fwrite(h, 1, 8, f) != 8 || fwrite(p->data, 1, p->len, f) != p->len)
		die("write packets.bin");
}

/* ---- encode ------------------------------------------------------------------------------- */

static int is_keyframe_pic(unsigned enc, unsigned pic)
{
	return pic == 0 || pic % KF_PERIOD == 10 * enc;
}

static void enc_init(vpx_codec_ctx_t *ctx, unsigned e)
{
	vpx_codec_enc_cfg_t cfg;

	if (vpx_codec_enc_config_default(vpx_codec_vp8_cx(), &cfg, 0))
		die("enc_config_default");
	cfg.g_w = enc_w[e];
	cfg.g_h = enc_h[e];
	cfg.g_timebase.num = 1;
	cfg.g_timebase.den = FPS;
	cfg.g_threads = 1;
	cfg.g_lag_in_frames = 0;
	cfg.g_error_resilient = 0;
	cfg.rc_end_usage = VPX_CBR;
	cfg.rc_target_bitrate = enc_kbps[e];
	cfg.rc_dropframe_thresh = 0;          /* every picture must give a frame */
	cfg.rc_min_quantizer = 4;
	cfg.rc_max_quantizer = 56;
	cfg.kf_mode = VPX_KF_DISABLED;        /* keyframes only where we force them */
	if (vpx_codec_enc_init(ctx, vpx_codec_vp8_cx(), &cfg, 0))
		die("enc_init");
	/* A negative speed is a fixed speed (no timing-based auto speed): reproducible output. */
	vpx_codec_control(ctx, VP8E_SET_CPUUSED, -6);
	vpx_codec_control(ctx, VP8E_SET_NOISE_SENSITIVITY, 0);
}

static int cmd_encode(const char *dir, unsigned frames, const uint32_t *ssrc)
{
	vpx_codec_ctx_t enc[N_ENC], dec[N_ENC];
	vpx_image_t img[N_ENC];
	struct sender snd[N_ENC];
	static struct pkt pk[N_ENC][MAX_PKTS];
	int npk[N_ENC];
	char path[4096];
	FILE *fp, *fr;
	uint64_t *hashes = calloc((size_t)frames * N_ENC, sizeof(*hashes));

	if (!hashes)
		die("no memory");
	rnd_state = ssrc[0] ^ 0x9e3779b9u;
	for (unsigned e = 0; e < N_ENC; e++) {
		enc_init(&enc[e], e);
		if (vpx_codec_dec_init(&dec[e], vpx_codec_vp8_dx(), NULL, 0))
			die("dec_init");
		if (!vpx_img_alloc(&img[e], VPX_IMG_FMT_I420, enc_w[e], enc_h[e], 16))
			die("img_alloc");
		snd[e].ssrc = ssrc[e];
		snd[e].seq = (uint16_t)rnd();
		snd[e].ts_base = rnd();
		snd[e].pid = (uint16_t)(rnd() & 0x7fff);
		snd[e].tl0 = (uint8_t)rnd();
	}
	/* Make the wraps happen inside the test: encoding 1's sequence numbers, encoding 2's
	 * PictureIDs, encoding 0's timestamps. */
	snd[1].seq = (uint16_t)(65536 - 40 - (rnd() & 15));
	snd[2].pid = (uint16_t)(0x7fff - 20 - (rnd() & 15));
	snd[0].ts_base = 0u - (uint32_t)(frames / 2) * TS_STEP;

	snprintf(path, sizeof(path), "%s/packets.bin", dir);
	fp = fopen(path, "wb");
	snprintf(path, sizeof(path), "%s/ref.txt", dir);
	fr = fopen(path, "w");
	if (!fp || !fr)
		die(strerror(errno));

	for (unsigned pic = 0; pic < frames; pic++) {
		for (unsigned e = 0; e < N_ENC; e++) {
			vpx_codec_iter_t it = NULL;
			const vpx_codec_cx_pkt_t *cx;
			int key = is_keyframe_pic(e, pic), got = 0;

			draw(&img[e], pic);
			if (vpx_codec_encode(&enc[e], &img[e], pic, 1, key ? VPX_EFLAG_FORCE_KF : 0,
					     VPX_DL_REALTIME))
				die("encode");
			npk[e] = 0;
			while ((cx = vpx_codec_get_cx_data(&enc[e], &it))) {
				vpx_codec_iter_t dit = NULL;
				vpx_image_t *out;
				int is_key;

				if (cx->kind != VPX_CODEC_CX_FRAME_PKT)
					continue;
				if (got++)
					die("more than one frame for one picture");
				is_key = !!(cx->data.frame.flags & VPX_FRAME_IS_KEY);
				if (is_key != key)
					die("keyframe where none was asked for, or none where one was");
				npk[e] = packetize(&snd[e], pic, cx->data.frame.buf, cx->data.frame.sz,
						   key, pk[e]);
				/* the reference: this encoding decoded from its start */
				if (vpx_codec_decode(&dec[e], cx->data.frame.buf,
						     (unsigned)cx->data.frame.sz, NULL, 0))
					die("reference decode");
				out = vpx_codec_get_frame(&dec[e], &dit);
				if (!out)
					die("reference decode gave no picture");
				hashes[(size_t)e * frames + pic] = image_hash(out);
				fprintf(fr, "%u %u %u %u %016" PRIx64 "\n", e, pic, out->d_w, out->d_h,
					hashes[(size_t)e * frames + pic]);
			}
			if (!got)
				die("the encoder dropped a picture");
		}
		/*
		 * Interleave the three encodings' packets of this picture, highest first: a
		 * down-switch at a keyframe of a lower encoding then lands inside the higher
		 * encoding's frame, which the forwarder must cut.
		 */
		for (int i = 0; i < MAX_PKTS; i++) {
			int any = 0;
			for (unsigned e = N_ENC; e-- > 0;) {
				if (i < npk[e]) {
					write_record(fp, e, pic, &pk[e][i]);
					any = 1;
				}
			}
			if (!any)
				break;
		}
	}
	/* matching decoded pictures by hash needs every picture of an encoding to be distinct */
	for (unsigned e = 0; e < N_ENC; e++)
		for (unsigned a = 0; a < frames; a++)
			for (unsigned b = a + 1; b < frames; b++)
				if (hashes[(size_t)e * frames + a] == hashes[(size_t)e * frames + b])
					die("two reference pictures are identical");
	for (unsigned e = 0; e < N_ENC; e++) {
		vpx_codec_destroy(&enc[e]);
		vpx_codec_destroy(&dec[e]);
		vpx_img_free(&img[e]);
	}
	free(hashes);
	if (fclose(fp) || fclose(fr))
		die("close");
	return 0;
}

/* ---- decode (the receiver) ---------------------------------------------------------------- */

struct rx_frame {
	int      open;           /* a frame is being assembled */
	int      complete;       /* its last packet (marker) arrived, with no gap */
	int      gap;
	int      key;
	unsigned npkts;
	uint16_t first_seq, last_seq, pid;
	uint8_t  tl0;
	uint32_t ts;
	size_t   len;
	uint8_t  buf[MAX_FRAME];
};

static struct rx_frame cur;
static vpx_codec_ctx_t rx_dec;

static void frame_done(void)
{
	unsigned w = 0, h = 0, decoded = 0;
	uint64_t hash = 0;

	if (!cur.open)
		return;
	if (cur.complete && !cur.gap) {
		if (vpx_codec_decode(&rx_dec, cur.buf, (unsigned)cur.len, NULL, 0)) {
			printf("E decoder error on frame ts %" PRIu32 " seq %u: %s\n", cur.ts,
			       cur.first_seq, vpx_codec_error_detail(&rx_dec) ?
			       vpx_codec_error_detail(&rx_dec) : vpx_codec_error(&rx_dec));
		} else {
			vpx_codec_iter_t it = NULL;
			vpx_image_t *img = vpx_codec_get_frame(&rx_dec, &it);
			if (img) {
				decoded = 1;
				w = img->d_w;
				h = img->d_h;
				hash = image_hash(img);
			}
		}
	}
	printf("F %u %u %u %" PRIu32 " %u %u %d %d %u %u %u %016" PRIx64 "\n", cur.first_seq,
	       cur.last_seq, cur.npkts, cur.ts, cur.pid, cur.tl0, cur.key, cur.complete && !cur.gap,
	       decoded, w, h, hash);
	cur.open = 0;
}

/* One received RTP packet: RFC 3550 header, RFC 7741 descriptor, then the VP8 bytes. */
static void rx_packet(const uint8_t *p, size_t n)
{
	size_t off = 12, end = n;
	uint16_t seq;
	uint32_t ts;
	int marker, start, has_pid = 0, has_tl0 = 0;
	uint16_t pid = 0;
	uint8_t tl0 = 0;

	if (n < 12 || (p[0] >> 6) != 2) {
		printf("E not an RTP packet (%zu bytes)\n", n);
		return;
	}
	seq = (uint16_t)(p[2] << 8 | p[3]);
	ts = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
	marker = p[1] >> 7;
	off += 4u * (p[0] & 0x0f);
	if ((p[0] & 0x10) && off + 4 <= n)
		off += 4 + 4u * (size_t)(p[off + 2] << 8 | p[off + 3]);
	if (off < n && (p[0] & 0x20))
		end = p[n - 1] > n - off ? off : n - p[n - 1];
	if (off + 1 > end) {
		printf("E seq %u: truncated header\n", seq);
		return;
	}
	/* RFC 7741 section 4.2 */
	{
		uint8_t b0 = p[off++];
		start = (b0 & 0x10) && (b0 & 0x0f) == 0;
		if (b0 & 0x80) {
			uint8_t x;
			if (off >= end)
				goto bad;
			x = p[off++];
			if (x & 0x80) {
				if (off >= end)
					goto bad;
				has_pid = 1;
				if (p[off] & 0x80) {
					if (off + 2 > end)
						goto bad;
					pid = (uint16_t)((p[off] & 0x7f) << 8 | p[off + 1]);
					off += 2;
				} else {
					pid = p[off++];
				}
			}
			if (x & 0x40) {
				if (off >= end)
					goto bad;
				has_tl0 = 1;
				tl0 = p[off++];
			}
			if (x & 0x30) {
				if (off >= end)
					goto bad;
				off++;
			}
		}
	}
	if (start) {
		frame_done();
		memset(&cur, 0, offsetof(struct rx_frame, buf));
		cur.open = 1;
		cur.first_seq = seq;
		cur.ts = ts;
		cur.pid = has_pid ? pid : 0xffff;
		cur.tl0 = has_tl0 ? tl0 : 0;
		/* VP8 payload header: P bit (inverse key frame) in the first byte */
		cur.key = off < end && !(p[off] & 0x01);
	} else if (!cur.open || cur.complete || cur.ts != ts) {
		printf("E seq %u ts %" PRIu32 ": packet of no open frame (stray continuation)\n", seq, ts);
		return;
	} else if ((uint16_t)(cur.last_seq + 1) != seq) {
		cur.gap = 1;
	}
	if (cur.len + (end - off) > sizeof(cur.buf)) {
		printf("E seq %u: frame too large\n", seq);
		cur.gap = 1;
	} else {
		memcpy(cur.buf + cur.len, p + off, end - off);
		cur.len += end - off;
	}
	cur.last_seq = seq;
	cur.npkts++;
	if (marker) {
		cur.complete = 1;
		frame_done();
	}
	return;
bad:
	printf("E seq %u: truncated VP8 payload descriptor\n", seq);
}

static int cmd_decode(const char *capture)
{
	static uint8_t pkt[65536];
	FILE *f = fopen(capture, "rb");
	uint8_t lb[2];

	if (!f)
		die(strerror(errno));
	if (vpx_codec_dec_init(&rx_dec, vpx_codec_vp8_dx(), NULL, 0))
		die("dec_init");
	while (fread(lb, 1, 2, f) == 2) {
		size_t n = (size_t)(lb[0] | lb[1] << 8);
		if (fread(pkt, 1, n, f) != n)
			die("truncated capture");
		rx_packet(pkt, n);
	}
	frame_done();          /* a last frame that never got its marker */
	vpx_codec_destroy(&rx_dec);
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 7 && !strcmp(argv[1], "encode")) {
		uint32_t ssrc[N_ENC];
		unsigned frames = (unsigned)strtoul(argv[3], NULL, 0);
		for (int e = 0; e < N_ENC; e++)
			ssrc[e] = (uint32_t)strtoul(argv[4 + e], NULL, 0);
		if (frames < 1 || frames > 100000)
			die("bad frame count");
		return cmd_encode(argv[2], frames, ssrc);
	}
	if (argc == 3 && !strcmp(argv[1], "decode"))
		return cmd_decode(argv[2]);
	fprintf(stderr, "usage: vp8_simulcast encode DIR FRAMES SSRC0 SSRC1 SSRC2\n"
			"       vp8_simulcast decode CAPTURE\n");
	return 2;
}
