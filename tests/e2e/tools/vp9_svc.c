/*
 * vp9_svc.c - the e2e tests' VP9 SVC sender and receiver-side checker (libvpx), independent of the
 * MMR's own parsers.
 *
 *   vp9_svc encode --mode l3t3|l3t3key|l2t3 --out DIR [--flexible] [--frames N] [--kf N]
 *                  [--ssrc N] [--pt N]
 *     Encodes a synthetic moving picture (320x180 top layer, 2:1 between spatial layers, 30 fps,
 *     three temporal layers 0,2,1,2) with libvpx's SVC encoder in bypass mode: this tool sets every
 *     layer frame's references and buffer updates (VP9E_SET_SVC_REF_FRAME_CONFIG), so it knows the
 *     reference structure exactly:
 *       l3t3     full SVC: every upper layer frame also predicts from the layer below (D=1);
 *                half way between keyframes a "spatial sync" picture whose upper layer frames
 *                predict only from the layer below (P=0), where a receiver may step up a layer;
 *       l3t3key  K-SVC: inter-layer prediction only on keyframes (VP9E_SET_SVC_INTER_LAYER_PRED 2);
 *       l2t3     like l3t3 with two spatial layers.
 *     Every superframe is split at its index into layer frames and packetized per RFC 9628
 *     (payload <= 1100 bytes, 15-bit PictureID, layer indices, TL0PICIDX in non-flexible mode or
 *     P_DIFFs in flexible mode, the scalability structure on keyframes, marker on the last packet
 *     of the picture). Writes into DIR:
 *       tx.bin        the RTP packets with their send times (vp9_rtp.h record format)
 *       packets.txt   per packet: "pkt INDEX PICTURE SID B E M"
 *       pictures.txt  per picture: "pic INDEX TS TID KEY SYNC NS" then per layer "P U D Z"
 *       ref.txt       per picture and spatial layer: "ref PICTURE SID W H HASH", the picture the
 *                     decoder shows after that layer frame when fed the whole stream
 *       info.txt      "ns N frames N ssrc N pt N flexible F"
 *     Before writing, it proves its reference knowledge: for every (spatial, temporal) target the
 *     stream filtered to it decodes, picture by picture, to exactly ref.txt's hash of that
 *     spatial layer. Exit 1 if not.
 *
 *   vp9_svc encode ... --rates S0,S1,S2
 *     Per spatial layer target bitrates in kbit/s for l3t3/l3t3key (default 60,160,400); the
 *     temporal layers get 50, 70 and 100 % of their spatial layer's. --smooth: a softer picture
 *     (sine texture instead of the hashed one; still moving everywhere) that the encoder can keep
 *     near such rates, keyframes included.
 *
 *   vp9_svc live --out DIR --bind IP:PORT --dest IP:PORT [--mode l3t3|l2t3] [--frames N] [--smooth]
 *                [--rates S0,S1,S2] [--ssrc N] [--pt N] [--rtx-ssrc N --rtx-pt N] [--drain S]
 *     A live publisher (test_vp9_loss.py): encodes in real time at 30 fps (flexible mode, no spatial
 *     sync pictures), a keyframe ONLY for the first picture and when a PLI or a new FIR for its SSRC
 *     arrives on its socket; sends from --bind to --dest, answers generic NACKs from a history of its
 *     last 2048 packets (as RTX with --rtx-ssrc, else the same packet again), sends SR + SDES every
 *     second, and --drain seconds after the last picture keeps answering. Logs DIR/live.txt:
 *       "pic I T KEY TS" (T: CLOCK_MONOTONIC seconds at its first packet), "req pli|fir T",
 *       "kf I T_REQUEST T_SENT", "resend SEQ T rtx|media", "gone SEQ T", then "summary ...";
 *     afterwards proves the reference structure (as encode does) and writes encode's files
 *     (tx.bin with nominal times), so `check --lossy` checks its receivers.
 *
 *   vp9_svc check --ref DIR --rx FILE --lossy
 *     For a receiver behind a lossy link (test_bwe_svc.py; flexible-mode streams): decodes like a
 *     real receiver (only complete layer frames whose references were decoded), compares every
 *     decoded layer frame with the reference (a stream renumbered on resumption, timestamps and
 *     PictureIDs continued, is mapped back to the sender's pictures at its keyframe), prints per picture
 *       "pic INDEX tid T rx SIDS dec SIDS out S|corrupt|none", then "summary ...".
 *
 *   vp9_svc check --ref DIR --rx FILE
 *     Depacketizes what one receiver got (packet file), reassembles layer frames by B/E and
 *     timestamp, checks the marker bit is on the last packet of the highest spatial layer it got
 *     of every picture, decodes with libvpx (layer frames one at a time; the last output of a
 *     picture is the picture) and prints one line per picture:
 *       "pic INDEX tid T layers 0,1 out S WxH pid P tl0 X" (S: the spatial layer whose reference
 *       it equals) or "... out corrupt WxH ..." or "... out none ..."
 *     and "err ..." for every protocol problem (sequence gaps, SSRC, payload type, marker,
 *     incomplete layer frames, undecodable data), then "summary ...". The e2e test decides from
 *     these lines what was right for the receiver's targets. Exit 0 unless the input is unusable.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <vpx/vp8cx.h>
#include <vpx/vp8dx.h>
#include <vpx/vpx_decoder.h>
#include <vpx/vpx_encoder.h>

#include "vp9_rtp.h"

#define MAX_PICS   2400       /* 80 s: test_bwe_svc sends one long stream */
#define MAX_SL     3
#define NT         3          /* temporal layers: pattern 0,2,1,2 */
#define TOP_W      320
#define TOP_H      180
#define FPS        30
#define TS_STEP    3000       /* 90 kHz / 30 fps */
#define MAX_PAYLOAD 1100
#define MAX_PKTS   60000

/* Where the streams start: every counter wraps during a run. */
#define SEQ0       65500
#define TS0        4294900000u
#define PID0       32700
#define TL0IDX0    250

enum mode { M_L3T3, M_L3T3_KEY, M_L2T3 };

static const uint8_t pattern_tid[4] = { 0, 2, 1, 2 };

struct layer_frame {
	uint8_t *data;
	size_t size;
	int tref, iref, upd;        /* buffer slots: temporal ref, inter-layer ref, update (-1: none) */
	uint8_t p, u, d, z;
	uint8_t n_refs;
	uint8_t p_diff[VP9D_MAX_REFS];
	uint16_t w, h;              /* reference decode of the full stream after this layer frame */
	uint64_t hash;
};

struct picture {
	uint32_t ts;
	uint16_t pid;
	uint8_t tl0picidx;
	uint8_t tid, key, sync, pos;
	struct layer_frame l[MAX_SL];
};

static struct picture pics[MAX_PICS];
static int n_pics, n_sl;
static enum mode mode;
static int flexible;
static int smooth;            /* --smooth: a softer picture, for bit rates a shaped link carries */

static __attribute__((noreturn)) void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "vp9_svc: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(1);
}

static __attribute__((noreturn)) void die_codec(vpx_codec_ctx_t *c, const char *what)
{
	const char *detail = vpx_codec_error_detail(c);

	fprintf(stderr, "vp9_svc: %s: %s%s%s\n", what, vpx_codec_error(c), detail ? ": " : "",
		detail ? detail : "");
	exit(1);
}

/* ---- pictures ------------------------------------------------------------------------------ */

/* A deterministic moving picture: a texture scrolling right, a bright block moving diagonally,
 * chroma drifting. Motion makes every inter frame depend on its references, so a decoder that
 * lacks one shows different pixels. */
static void synth(vpx_image_t *img, int t)
{
	int x, y;

	for (y = 0; y < TOP_H; y++) {
		uint8_t *row = img->planes[0] + y * img->stride[0];

		for (x = 0; x < TOP_W; x++) {
			int bgx = x - 2 * t;   /* the whole background moves as one */
			int v = 60 + ((((bgx >> 2) * 7) ^ ((y >> 2) * 13)) & 31) + ((bgx + y) & 63);
			int bx = (t * 3) % (TOP_W - 48), by = (t * 2) % (TOP_H - 36);

			if (smooth)   /* soft texture; the block's texture moves with the block */
				v = 110 + (int)(40.0 * sin(bgx / 9.0) * cos(y / 7.0));
			if (x >= bx && x < bx + 48 && y >= by && y < by + 36)
				v = smooth ? 200 + (int)(20.0 * sin((x - bx) / 5.0)) : 200 + ((x ^ y) & 15);
			row[x] = (uint8_t)v;
		}
	}
	for (y = 0; y < TOP_H / 2; y++) {
		uint8_t *u = img->planes[1] + y * img->stride[1];
		uint8_t *v = img->planes[2] + y * img->stride[2];

		for (x = 0; x < TOP_W / 2; x++) {
			if (smooth) {
				u[x] = (uint8_t)(128 + (int)(20.0 * sin((x - t) / 11.0)));
				v[x] = (uint8_t)(128 + (int)(20.0 * cos(y / 6.0)));
				continue;
			}
			u[x] = (uint8_t)(128 + ((x + t) & 31) - 16);
			v[x] = (uint8_t)(128 + ((y * 2 - t) & 31) - 16);
		}
	}
}

/* FNV-1a over the visible I420 planes and the size. */
static uint64_t img_hash(const vpx_image_t *img)
{
	uint64_t h = 1469598103934665603ull;
	int plane, y;
	unsigned int x;

	h = (h ^ img->d_w) * 1099511628211ull;
	h = (h ^ img->d_h) * 1099511628211ull;
	for (plane = 0; plane < 3; plane++) {
		unsigned int w = plane ? (img->d_w + 1) / 2 : img->d_w;
		int hh = plane ? (int)(img->d_h + 1) / 2 : (int)img->d_h;

		for (y = 0; y < hh; y++) {
			const uint8_t *row = img->planes[plane] + y * img->stride[plane];

			for (x = 0; x < w; x++)
				h = (h ^ row[x]) * 1099511628211ull;
		}
	}
	return h;
}

/* ---- the reference structure (this tool's own knowledge) -------------------------------------
 * Buffer slots: sl = the last TL0 frame of spatial layer sl; 3+sl = its last TL1 frame; 6+sl = its
 * last TL2 frame, kept only for the layer above in the same picture (slots 6, 7). */

static int interlayer(const struct picture *pc)
{
	return mode != M_L3T3_KEY || pc->key;
}

static int tid_slot(int sl, int tid)
{
	return tid * 3 + sl;
}

static void plan_picture(struct picture *pc, uint16_t slot_pid[8], uint8_t slot_tid[8])
{
	int sl;

	for (sl = 0; sl < n_sl; sl++) {
		struct layer_frame *lf = &pc->l[sl];

		lf->tref = lf->iref = lf->upd = -1;
		if (!pc->key && !(pc->sync && sl > 0))
			lf->tref = pc->pos == 3 ? tid_slot(sl, 1) : tid_slot(sl, 0);
		if (sl > 0 && interlayer(pc))
			lf->iref = tid_slot(sl - 1, pc->tid);
		if (pc->tid < 2 || (sl < n_sl - 1 && interlayer(pc)))
			lf->upd = tid_slot(sl, pc->tid);
		lf->p = lf->tref >= 0;
		lf->d = lf->iref >= 0;
		lf->z = !(sl < n_sl - 1 && interlayer(pc));
		/* U: every inter-picture reference is of a lower temporal layer, so a receiver that has the
		 * layers below may start this temporal layer here. */
		lf->u = lf->tref < 0 || slot_tid[lf->tref] < pc->tid;
		lf->n_refs = 0;
		if (lf->tref >= 0) {
			lf->p_diff[0] = (uint8_t)((pc->pid - slot_pid[lf->tref]) & 0x7fff);
			lf->n_refs = 1;
		}
	}
	/* buffer updates after the whole picture is planned (refs are to earlier pictures) */
	if (pc->key) {
		int i;

		for (i = 0; i < 8; i++) {   /* a keyframe refreshes every buffer */
			slot_pid[i] = pc->pid;
			slot_tid[i] = 0;
		}
	}
	for (sl = 0; sl < n_sl; sl++) {
		if (pc->l[sl].upd >= 0) {
			slot_pid[pc->l[sl].upd] = pc->pid;
			slot_tid[pc->l[sl].upd] = pc->tid;
		}
	}
}

static void ref_config(const struct picture *pc, vpx_svc_ref_frame_config_t *rc)
{
	int sl;

	memset(rc, 0, sizeof(*rc));
	for (sl = 0; sl < n_sl; sl++) {
		const struct layer_frame *lf = &pc->l[sl];
		int refs[2], n = 0;

		if (lf->tref >= 0)
			refs[n++] = lf->tref;
		if (lf->iref >= 0)
			refs[n++] = lf->iref;
		rc->lst_fb_idx[sl] = n > 0 ? refs[0] : 0;
		rc->gld_fb_idx[sl] = n > 1 ? refs[1] : rc->lst_fb_idx[sl];
		rc->alt_fb_idx[sl] = rc->lst_fb_idx[sl];
		rc->reference_last[sl] = n > 0;
		rc->reference_golden[sl] = n > 1;
		rc->reference_alt_ref[sl] = 0;
		rc->update_buffer_slot[sl] = lf->upd >= 0 ? 1 << lf->upd : 0;
		rc->duration[sl] = 1;
	}
}

/* ---- encoding ------------------------------------------------------------------------------- */

/* Split a superframe at its index (VP9 bitstream annex B) into n layer frames. */
static int split_superframe(const uint8_t *buf, size_t sz, const uint8_t **frames, size_t *sizes,
			    int max)
{
	uint8_t m = buf[sz - 1];
	int nf, mag, i, j;
	size_t idx_sz, off = 0;
	const uint8_t *x;

	if ((m & 0xe0) != 0xc0) {
		frames[0] = buf;
		sizes[0] = sz;
		return 1;
	}
	nf = (m & 7) + 1;
	mag = ((m >> 3) & 3) + 1;
	idx_sz = 2 + (size_t)mag * nf;
	if (sz < idx_sz || buf[sz - idx_sz] != m || nf > max)
		return -1;
	x = buf + sz - idx_sz + 1;
	for (i = 0; i < nf; i++) {
		size_t s = 0;

		for (j = 0; j < mag; j++)
			s |= (size_t)(*x++) << (8 * j);
		if (off + s > sz - idx_sz)
			return -1;
		frames[i] = buf + off;
		sizes[i] = s;
		off += s;
	}
	return nf;
}

/* Per spatial layer target kbit/s (its temporal layers 50/70/100 % of it); --rates overrides. */
static int sl_kbps[3][MAX_SL] = { { 60, 160, 400 }, { 60, 160, 400 }, { 150, 450, 0 } };

/* The encoder and the reference-structure state it carries from picture to picture. */
struct encoder {
	vpx_codec_ctx_t enc;
	vpx_image_t img;
	uint16_t slot_pid[8];
	uint8_t slot_tid[8];
	int last_key, n_tl0;
};

static void enc_open(struct encoder *e)
{
	static const int tl_pct[NT] = { 50, 70, 100 };
	vpx_codec_enc_cfg_t cfg;
	vpx_svc_extra_cfg_t svc;
	int i, sl, tl, total = 0;

	memset(e, 0, sizeof(*e));
	if (vpx_codec_enc_config_default(vpx_codec_vp9_cx(), &cfg, 0))
		die("%s", "no VP9 encoder config");
	cfg.g_w = TOP_W;
	cfg.g_h = TOP_H;
	cfg.g_timebase.num = 1;
	cfg.g_timebase.den = FPS;
	cfg.g_threads = 1;
	cfg.g_lag_in_frames = 0;
	cfg.g_error_resilient = 1;      /* no probability contexts carried across (dropped) frames */
	cfg.rc_end_usage = VPX_CBR;
	cfg.rc_dropframe_thresh = 0;    /* every layer of every picture is encoded */
	cfg.rc_min_quantizer = 2;
	cfg.rc_max_quantizer = smooth ? 63 : 56;
	cfg.rc_buf_initial_sz = 500;
	cfg.rc_buf_optimal_sz = 600;
	cfg.rc_buf_sz = 1000;
	cfg.kf_mode = VPX_KF_DISABLED;  /* keyframes are forced, every kf pictures */
	cfg.ss_number_layers = (unsigned int)n_sl;
	cfg.ts_number_layers = NT;
	cfg.ts_rate_decimator[0] = 4;
	cfg.ts_rate_decimator[1] = 2;
	cfg.ts_rate_decimator[2] = 1;
	cfg.ts_periodicity = 4;
	for (i = 0; i < 4; i++)
		cfg.ts_layer_id[i] = pattern_tid[i];
	cfg.temporal_layering_mode = VP9E_TEMPORAL_LAYERING_MODE_BYPASS;
	for (sl = 0; sl < n_sl; sl++) {
		for (tl = 0; tl < NT; tl++)
			cfg.layer_target_bitrate[sl * NT + tl] =
				(unsigned int)(sl_kbps[mode][sl] * tl_pct[tl] / 100);
		total += sl_kbps[mode][sl];
	}
	cfg.rc_target_bitrate = (unsigned int)total;
	if (vpx_codec_enc_init(&e->enc, vpx_codec_vp9_cx(), &cfg, 0))
		die_codec(&e->enc, "encoder init");
	memset(&svc, 0, sizeof(svc));
	for (sl = 0; sl < n_sl; sl++) {
		svc.scaling_factor_num[sl] = 1;
		svc.scaling_factor_den[sl] = 1 << (n_sl - 1 - sl);
		svc.max_quantizers[sl] = smooth ? 63 : 56;
		svc.min_quantizers[sl] = 2;
		svc.speed_per_layer[sl] = 7;
		svc.loopfilter_ctrl[sl] = 0;
	}
	svc.temporal_layering_mode = VP9E_TEMPORAL_LAYERING_MODE_BYPASS;
	if (vpx_codec_control(&e->enc, VP9E_SET_SVC, 1) ||
	    vpx_codec_control(&e->enc, VP9E_SET_SVC_PARAMETERS, &svc) ||
	    vpx_codec_control(&e->enc, VP8E_SET_CPUUSED, 7) ||
	    vpx_codec_control(&e->enc, VP9E_SET_AQ_MODE, 0) ||
	    vpx_codec_control(&e->enc, VP9E_SET_SVC_GF_TEMPORAL_REF, 0) ||
	    vpx_codec_control(&e->enc, VP9E_SET_SVC_INTER_LAYER_PRED, mode == M_L3T3_KEY ? 2 : 0))
		die_codec(&e->enc, "encoder controls");
	if (!vpx_img_alloc(&e->img, VPX_IMG_FMT_I420, TOP_W, TOP_H, 32))
		die("%s", "image alloc");

}

/* Encode picture i (a keyframe if key; kf > 0: a spatial sync picture kf / 2 after each keyframe)
 * into pics[i]. */
static void enc_picture(struct encoder *e, int i, int key, int kf)
{
	struct picture *pc = &pics[i];
	vpx_svc_layer_id_t lid;
	vpx_svc_ref_frame_config_t rc;
	const vpx_codec_cx_pkt_t *pkt;
	vpx_codec_iter_t it = NULL;
	const uint8_t *fr[8];
	size_t fsz[8];
	uint8_t *sf = NULL;
	size_t sf_len = 0;
	int nf, sl;

	pc->key = (uint8_t)!!key;
	if (pc->key)
		e->last_key = i;
	pc->pos = (uint8_t)((i - e->last_key) % 4);
	pc->tid = pattern_tid[pc->pos];
	pc->sync = kf > 0 && mode != M_L3T3_KEY && !pc->key && (i - e->last_key) == kf / 2 &&
		   pc->pos == 0;
	pc->ts = TS0 + (uint32_t)i * TS_STEP;
	pc->pid = (uint16_t)((PID0 + i) & 0x7fff);
	if (pc->tid == 0)
		e->n_tl0++;
	pc->tl0picidx = (uint8_t)(TL0IDX0 + e->n_tl0 - 1);
	plan_picture(pc, e->slot_pid, e->slot_tid);

	memset(&lid, 0, sizeof(lid));
	lid.spatial_layer_id = 0;
	lid.temporal_layer_id = pc->tid;
	for (sl = 0; sl < VPX_SS_MAX_LAYERS; sl++)
		lid.temporal_layer_id_per_spatial[sl] = pc->tid;
	ref_config(pc, &rc);
	if (vpx_codec_control(&e->enc, VP9E_SET_SVC_LAYER_ID, &lid) ||
	    vpx_codec_control(&e->enc, VP9E_SET_SVC_REF_FRAME_CONFIG, &rc))
		die_codec(&e->enc, "layer controls");
	synth(&e->img, i);
	if (vpx_codec_encode(&e->enc, &e->img, i, 1, pc->key ? VPX_EFLAG_FORCE_KF : 0, VPX_DL_REALTIME))
		die_codec(&e->enc, "encode");
	while ((pkt = vpx_codec_get_cx_data(&e->enc, &it)) != NULL) {
		if (pkt->kind != VPX_CODEC_CX_FRAME_PKT)
			continue;
		sf = realloc(sf, sf_len + pkt->data.frame.sz);
		if (!sf)
			die("%s", "out of memory");
		memcpy(sf + sf_len, pkt->data.frame.buf, pkt->data.frame.sz);
		sf_len += pkt->data.frame.sz;
	}
	if (!sf_len)
		die("%s", "the encoder dropped a picture");
	nf = split_superframe(sf, sf_len, fr, fsz, 8);
	if (nf != n_sl) {
		fprintf(stderr, "vp9_svc: picture %d: %d layer frames, want %d\n", i, nf, n_sl);
		exit(1);
	}
	for (sl = 0; sl < n_sl; sl++) {
		pc->l[sl].data = malloc(fsz[sl]);
		if (!pc->l[sl].data)
			die("%s", "out of memory");
		memcpy(pc->l[sl].data, fr[sl], fsz[sl]);
		pc->l[sl].size = fsz[sl];
	}
	free(sf);
}

static void enc_close(struct encoder *e)
{
	vpx_img_free(&e->img);
	vpx_codec_destroy(&e->enc);
}

static void encode(int frames, int kf)
{
	struct encoder e;
	int i;

	enc_open(&e);
	for (i = 0; i < frames; i++)
		enc_picture(&e, i, i % kf == 0, kf);
	n_pics = frames;
	enc_close(&e);
}

/* ---- decoding ------------------------------------------------------------------------------- */

/* Decode one layer frame; returns the last picture it output (NULL: none). */
static const vpx_image_t *decode_one(vpx_codec_ctx_t *dec, const uint8_t *p, size_t n, int *err)
{
	const vpx_image_t *img, *last = NULL;
	vpx_codec_iter_t it = NULL;

	*err = vpx_codec_decode(dec, p, (unsigned int)n, NULL, 0) != VPX_CODEC_OK;
	while ((img = vpx_codec_get_frame(dec, &it)) != NULL)
		last = img;
	return last;
}

/* The full stream's decode of picture i, layer frame by layer frame: each one's size and hash. */
static void ref_decode_picture(vpx_codec_ctx_t *dec, int i)
{
	int sl, err;

	for (sl = 0; sl < n_sl; sl++) {
		struct layer_frame *lf = &pics[i].l[sl];
		const vpx_image_t *img = decode_one(dec, lf->data, lf->size, &err);

		if (err || !img) {
			fprintf(stderr, "vp9_svc: reference decode of picture %d layer %d: %s\n", i, sl,
				err ? vpx_codec_error(dec) : "no output");
			exit(1);
		}
		lf->w = (uint16_t)img->d_w;
		lf->h = (uint16_t)img->d_h;
		lf->hash = img_hash(img);
	}
}

static void reference_decode(void)
{
	vpx_codec_ctx_t dec;
	int i;

	if (vpx_codec_dec_init(&dec, vpx_codec_vp9_dx(), NULL, 0))
		die_codec(&dec, "decoder init");
	for (i = 0; i < n_pics; i++)
		ref_decode_picture(&dec, i);
	vpx_codec_destroy(&dec);
}

/* The stream filtered to (S, T) must decode to the full stream's layer-S pictures: this is what
 * proves that the reference configuration above is what the encoder did. */
static int verify_filtered(void)
{
	int s, t, i, sl, bad = 0, err;

	for (s = 0; s < n_sl; s++) {
		for (t = 0; t < NT; t++) {
			vpx_codec_ctx_t dec;
			int n = 0, nbad = 0;

			if (vpx_codec_dec_init(&dec, vpx_codec_vp9_dx(), NULL, 0))
				die_codec(&dec, "decoder init");
			for (i = 0; i < n_pics; i++) {
				const vpx_image_t *img = NULL;

				if (pics[i].tid > t)
					continue;
				for (sl = 0; sl <= s; sl++) {
					const vpx_image_t *o = decode_one(&dec, pics[i].l[sl].data,
									  pics[i].l[sl].size, &err);
					if (o)
						img = o;
					if (err)
						nbad++;
				}
				n++;
				if (!img || img_hash(img) != pics[i].l[s].hash) {
					if (!nbad)
						fprintf(stderr, "vp9_svc: filtered S%dT%d: picture %d differs "
							"from the reference\n", s, t, i);
					nbad++;
				}
			}
			printf("verify S%dT%d: %d pictures, %d differ\n", s, t, n, nbad);
			bad += nbad;
			vpx_codec_destroy(&dec);
		}
	}
	return bad;
}

/* ---- packetization -------------------------------------------------------------------------- */

static void fill_ss(struct vp9d_ss *ss)
{
	int sl, k;

	memset(ss, 0, sizeof(*ss));
	ss->n_spatial = (uint8_t)n_sl;
	for (sl = 0; sl < n_sl; sl++) {
		ss->w[sl] = pics[0].l[sl].w;
		ss->h[sl] = pics[0].l[sl].h;
	}
	if (flexible)
		return;
	/* the picture group of the steady state: 0 (refs the TL0 4 back), 2 (refs 1 back),
	 * 1 (refs 2 back), 2 (refs the TL1 1 back) */
	ss->n_g = 4;
	for (k = 0; k < 4; k++) {
		static const uint8_t pd[4] = { 4, 1, 2, 1 };

		ss->g_tid[k] = pattern_tid[k];
		ss->g_u[k] = k != 0;
		ss->g_r[k] = 1;
		ss->g_pdiff[k][0] = pd[k];
	}
}

/* One RTP packet of picture pic, layer sl, as packetize() makes it. */
typedef void (*emit_fn)(void *ctx, int pic, int sl, int first, int last, int m, const uint8_t *pkt,
			size_t len);

/* Packetize picture i per RFC 9628 from sequence number *seq on; returns the packets made. */
static int packetize(int i, uint16_t *seq, uint32_t ssrc, uint8_t pt, const struct vp9d_ss *ss,
		     emit_fn emit, void *ctx)
{
	struct picture *pc = &pics[i];
	int sl, n = 0;

	for (sl = 0; sl < n_sl; sl++) {
		struct layer_frame *lf = &pc->l[sl];
		size_t off = 0;

		while (off < lf->size) {
			uint8_t pkt[1500];
			struct vp9d d;
			size_t hl, dl, chunk;
			int first = off == 0, with_ss = first && sl == 0 && pc->key, last, m;

			memset(&d, 0, sizeof(d));
			d.flags = (uint8_t)((lf->p ? VP9D_P : 0) | (flexible ? VP9D_F : 0) |
					    (first ? VP9D_B : 0) | (lf->z ? VP9D_Z : 0));
			d.pid = pc->pid;
			d.tid = pc->tid;
			d.u = lf->u;
			d.sid = (uint8_t)sl;
			d.d = lf->d;
			d.tl0picidx = pc->tl0picidx;
			d.n_refs = lf->n_refs;
			memcpy(d.p_diff, lf->p_diff, sizeof(d.p_diff));
			hl = 12;
			/* E and M depend on whether the rest fits: size with E set, then decide */
			dl = vp9d_write(pkt + hl, &d, with_ss ? ss : NULL);
			chunk = lf->size - off;
			if (chunk > MAX_PAYLOAD - dl)
				chunk = MAX_PAYLOAD - dl;
			last = off + chunk == lf->size;
			m = last && sl == n_sl - 1;
			if (last) {
				d.flags |= VP9D_E;
				vp9d_write(pkt + hl, &d, with_ss ? ss : NULL);
			}
			e2e_rtp_write(pkt, m, pt, *seq, pc->ts, ssrc);
			memcpy(pkt + hl + dl, lf->data + off, chunk);
			emit(ctx, i, sl, first, last, m, pkt, hl + dl + chunk);
			off += chunk;
			(*seq)++;
			n++;
		}
	}
	return n;
}

struct file_emit {
	FILE *tx, *pk;
	int n_pkt;
	size_t bytes;
};

static void emit_to_files(void *ctx, int pic, int sl, int first, int last, int m, const uint8_t *pkt,
			  size_t len)
{
	struct file_emit *fe = ctx;

	if (pktfile_write(fe->tx, (uint32_t)((uint64_t)pic * 1000000 / FPS), pkt, (uint16_t)len))
		die("%s", "write tx.bin");
	fprintf(fe->pk, "pkt %d %d %d %d %d %d\n", fe->n_pkt, pic, sl, first, last, m);
	fe->n_pkt++;
	fe->bytes += len;
}

static void write_outputs(const char *dir, uint32_t ssrc, uint8_t pt)
{
	char path[4096];
	FILE *pf, *rf, *inf;
	struct vp9d_ss ss;
	struct file_emit fe = { 0 };
	uint16_t seq = SEQ0;
	int i, sl;

	fill_ss(&ss);
#define OPEN(f, name, m) do { snprintf(path, sizeof(path), "%s/%s", dir, name); \
		if (!(f = fopen(path, m))) die("cannot write %s", path); } while (0)
	OPEN(fe.tx, "tx.bin", "wb");
	OPEN(fe.pk, "packets.txt", "w");
	OPEN(pf, "pictures.txt", "w");
	OPEN(rf, "ref.txt", "w");
	OPEN(inf, "info.txt", "w");
#undef OPEN
	fprintf(inf, "ns %d frames %d ssrc %u pt %u flexible %d ts0 %u\n", n_sl, n_pics, ssrc, pt,
		flexible, TS0);
	for (i = 0; i < n_pics; i++) {
		struct picture *pc = &pics[i];

		fprintf(pf, "pic %d %u %d %d %d %d", i, pc->ts, pc->tid, pc->key, pc->sync, n_sl);
		for (sl = 0; sl < n_sl; sl++) {
			struct layer_frame *lf = &pc->l[sl];

			fprintf(pf, " %d%d%d%d", lf->p, lf->u, lf->d, lf->z);
			fprintf(rf, "ref %d %d %d %d %016llx\n", i, sl, lf->w, lf->h,
				(unsigned long long)lf->hash);
		}
		packetize(i, &seq, ssrc, pt, &ss, emit_to_files, &fe);
		fprintf(pf, "\n");
	}
	if (fclose(fe.tx) || fclose(fe.pk) || fclose(pf) || fclose(rf) || fclose(inf))
		die("%s", "write outputs");
	printf("encoded %d pictures, %d spatial layers (%dx%d top), %d packets, %zu bytes, %s mode\n",
	       n_pics, n_sl, pics[0].l[n_sl - 1].w, pics[0].l[n_sl - 1].h, fe.n_pkt, fe.bytes,
	       flexible ? "flexible" : "non-flexible");
}

/* ---- checking a receiver ---------------------------------------------------------------------- */

struct rx_pkt {
	uint8_t *buf;
	int len;
	struct e2e_rtp r;
	struct vp9d d;
	int payload;
	int pic;
};

static struct rx_pkt rx[MAX_PKTS];
static int n_rx;

static void load_ref(const char *dir, uint32_t *ssrc, uint8_t *pt)
{
	char path[4096], line[512];
	FILE *f;
	unsigned int ss, p, ts0;
	int fr;

	snprintf(path, sizeof(path), "%s/info.txt", dir);
	if (!(f = fopen(path, "r")) ||
	    fscanf(f, "ns %d frames %d ssrc %u pt %u flexible %d ts0 %u", &n_sl, &fr, &ss, &p, &flexible,
		   &ts0) != 6 || n_sl < 1 || n_sl > MAX_SL || fr < 1 || fr > MAX_PICS)
		die("cannot read %s", path);
	fclose(f);
	*ssrc = ss;
	*pt = (uint8_t)p;
	n_pics = fr;
	snprintf(path, sizeof(path), "%s/pictures.txt", dir);
	if (!(f = fopen(path, "r")))
		die("cannot read %s", path);
	while (fgets(line, sizeof(line), f)) {
		int i, tid, key, sync, ns;
		unsigned int ts;

		if (sscanf(line, "pic %d %u %d %d %d %d", &i, &ts, &tid, &key, &sync, &ns) != 6 ||
		    i < 0 || i >= n_pics)
			die("bad line in %s", path);
		pics[i].ts = ts;
		pics[i].tid = (uint8_t)tid;
		pics[i].key = (uint8_t)key;
	}
	fclose(f);
	snprintf(path, sizeof(path), "%s/ref.txt", dir);
	if (!(f = fopen(path, "r")))
		die("cannot read %s", path);
	while (fgets(line, sizeof(line), f)) {
		int i, sl, w, h;
		unsigned long long hash;

		if (sscanf(line, "ref %d %d %d %d %llx", &i, &sl, &w, &h, &hash) != 5 || i < 0 ||
		    i >= n_pics || sl < 0 || sl >= n_sl)
			die("bad line in %s", path);
		pics[i].l[sl].w = (uint16_t)w;
		pics[i].l[sl].h = (uint16_t)h;
		pics[i].l[sl].hash = hash;
	}
	fclose(f);
}

static int find_pic(uint32_t ts)
{
	uint32_t k = (ts - pics[0].ts) / TS_STEP;

	if ((ts - pics[0].ts) % TS_STEP || k >= (uint32_t)n_pics || pics[k].ts != ts)
		return -1;
	return (int)k;
}

/* Reassemble and decode one picture's packets rx[a..b). */
static void check_picture(vpx_codec_ctx_t *dec, int a, int b, int *n_err, int *n_corrupt,
			  int *n_ok)
{
	int pic = rx[a].pic, sl, k, max_sid = -1, last = b - 1, err;
	const vpx_image_t *img = NULL;
	char layers[32] = "";
	static uint8_t frame[1 << 20];

	for (k = a; k < b; k++)
		if (rx[k].d.sid > max_sid)
			max_sid = rx[k].d.sid;
	/* the marker: on the last packet of the picture, which ends the highest layer received. One
	 * exception, documented in lib/select/layer_select.h: in the picture where the MMR steps the receiver
	 * up a spatial layer (at a P=0 layer frame), the end of the layer that was the top one until
	 * then went out with its marker before the MMR saw the layer above; that packet may carry one. */
	static int prev_max_sid = -1;
	int up_switch = prev_max_sid >= 0 && max_sid > prev_max_sid;
	for (k = a; k < b; k++) {
		if (rx[k].r.marker && k != last && up_switch && rx[k].d.sid == prev_max_sid &&
		    (rx[k].d.flags & VP9D_E))
			continue;
		if (rx[k].r.marker && k != last) {
			printf("err pic %d: marker: set on a packet (seq %u, sid %d) that is not the "
			       "picture's last\n", pic, rx[k].r.seq, rx[k].d.sid);
			(*n_err)++;
		}
	}
	prev_max_sid = max_sid;
	if (!rx[last].r.marker || !(rx[last].d.flags & VP9D_E) || rx[last].d.sid != max_sid) {
		printf("err pic %d: marker: the last packet (seq %u sid %d E %d M %d) is not the marked "
		       "end of the highest layer received (sid %d)\n", pic, rx[last].r.seq, rx[last].d.sid,
		       !!(rx[last].d.flags & VP9D_E), rx[last].r.marker, max_sid);
		(*n_err)++;
	}
	for (sl = 0; sl <= max_sid && sl < 8; sl++) {
		size_t len = 0;
		int first = -1, prev = -1, bad = 0, n = 0;

		for (k = a; k < b; k++) {
			if (rx[k].d.sid != sl)
				continue;
			if (first < 0) {
				first = k;
				bad |= !(rx[k].d.flags & VP9D_B);
			} else {
				bad |= (rx[k].d.flags & VP9D_B) || (uint16_t)(rx[prev].r.seq + 1) != rx[k].r.seq ||
				       (rx[prev].d.flags & VP9D_E);
			}
			if (len + (size_t)(rx[k].payload - (int)rx[k].d.len) <= sizeof(frame)) {
				memcpy(frame + len, rx[k].buf + rx[k].r.hdr_len + rx[k].d.len,
				       (size_t)rx[k].payload - rx[k].d.len);
				len += (size_t)rx[k].payload - rx[k].d.len;
			}
			prev = k;
			n++;
		}
		if (first < 0)
			continue;
		bad |= !(rx[prev].d.flags & VP9D_E);
		if (bad || sl >= n_sl) {
			printf("err pic %d: layer frame sid %d incomplete or malformed (%d packets), not "
			       "decoded\n", pic, sl, n);
			(*n_err)++;
			continue;
		}
		{
			const vpx_image_t *o = decode_one(dec, frame, len, &err);

			if (err) {
				printf("err pic %d: decoder error on sid %d: %s\n", pic, sl,
				       vpx_codec_error(dec));
				(*n_err)++;
			}
			if (o)
				img = o;
		}
		snprintf(layers + strlen(layers), sizeof(layers) - strlen(layers), "%s%d",
			 layers[0] ? "," : "", sl);
	}
	printf("pic %d tid %d layers %s out ", pic, rx[a].d.tid, layers[0] ? layers : "-");
	if (!img) {
		printf("none");
	} else {
		uint64_t h = img_hash(img);
		int s, match = -1;

		for (s = 0; s < n_sl; s++)
			if (pics[pic].l[s].hash == h)
				match = s;
		if (match >= 0) {
			printf("%d", match);
			(*n_ok)++;
		} else {
			printf("corrupt");
			(*n_corrupt)++;
		}
		printf(" %ux%u", img->d_w, img->d_h);
	}
	printf(" pid %u tl0 %u\n", rx[a].d.pid, rx[a].d.tl0picidx);
}

static int check(const char *dir, const char *rxfile)
{
	vpx_codec_ctx_t dec;
	uint32_t ssrc, t;
	uint8_t pt, buf[2048];
	FILE *f;
	int n, k, a, n_err = 0, n_corrupt = 0, n_ok = 0, gaps = 0, last_pic = -1;

	load_ref(dir, &ssrc, &pt);
	if (!(f = fopen(rxfile, "rb")))
		die("cannot read %s", rxfile);
	while ((n = pktfile_read(f, &t, buf, sizeof(buf))) > 0) {
		struct rx_pkt *p = &rx[n_rx];
		int pl;

		if (n_rx == MAX_PKTS)
			die("%s", "too many packets");
		pl = e2e_rtp_read(buf, (size_t)n, &p->r);
		if (pl < 0) {
			printf("err packet %d: not RTP\n", n_rx);
			n_err++;
			continue;
		}
		if (p->r.pt != pt || p->r.ssrc != ssrc) {
			printf("err packet %d: pt %u ssrc %u, want pt %u ssrc %u\n", n_rx, p->r.pt,
			       p->r.ssrc, pt, ssrc);
			n_err++;
			continue;
		}
		if (vp9d_read(buf + p->r.hdr_len, (size_t)pl, &p->d)) {
			printf("err packet %d (seq %u): malformed VP9 descriptor\n", n_rx, p->r.seq);
			n_err++;
			continue;
		}
		p->pic = find_pic(p->r.ts);
		if (p->pic < 0) {
			printf("err packet %d (seq %u): timestamp %u is no picture the sender sent\n", n_rx,
			       p->r.seq, p->r.ts);
			n_err++;
			continue;
		}
		p->payload = pl;
		p->len = n;
		p->buf = malloc((size_t)n);
		if (!p->buf)
			die("%s", "out of memory");
		memcpy(p->buf, buf, (size_t)n);
		if (n_rx > 0 && (uint16_t)(rx[n_rx - 1].r.seq + 1) != p->r.seq) {
			printf("err seqgap %u -> %u at pic %d\n", rx[n_rx - 1].r.seq, p->r.seq, p->pic);
			gaps++;
		}
		n_rx++;
	}
	if (n < 0) {
		printf("err truncated packet file\n");
		n_err++;
	}
	fclose(f);
	if (vpx_codec_dec_init(&dec, vpx_codec_vp9_dx(), NULL, 0))
		die_codec(&dec, "decoder init");
	for (a = 0; a < n_rx; a = k) {
		for (k = a + 1; k < n_rx && rx[k].pic == rx[a].pic; k++)
			;
		if (rx[a].pic <= last_pic) {
			printf("err pic %d: arrived again or out of order (after pic %d)\n", rx[a].pic,
			       last_pic);
			n_err++;
			continue;
		}
		last_pic = rx[a].pic;
		check_picture(&dec, a, k, &n_err, &n_corrupt, &n_ok);
	}
	vpx_codec_destroy(&dec);
	printf("summary packets %d pictures_ok %d corrupt %d errors %d seqgaps %d\n", n_rx, n_ok,
	       n_corrupt, n_err, gaps);
	return 0;
}

/* ---- checking a receiver behind a lossy, shaped link (test_bwe_svc) ---------------------------
 * What a real SVC receiver does with loss it cannot repair: a layer frame is decoded only when all
 * its packets arrived (B..E with consecutive sequence numbers) and every frame it predicts from was
 * decoded: the temporal reference from the flexible-mode P_DIFF (so the stream must be encoded
 * with --flexible), the layer below in the same picture when D=1. Anything else is skipped (never
 * shown), as libwebrtc's frame buffer does. Every decoded layer frame is compared with the
 * reference; a mismatch is a corrupt picture (what the MMR must never cause). Gaps, padding-only
 * packets (probes), duplicates and packets of other SSRCs are counted, not errors. */

static uint8_t good_sl[MAX_PICS][MAX_SL];

static int rx_cmp(const void *a, const void *b)
{
	const struct rx_pkt *x = a, *y = b;

	return x->len < y->len ? -1 : x->len > y->len;   /* len holds the unwrapped seq here */
}

/* The sender's picture of every received packet (rx[] in sequence order). An MMR may renumber a
 * stream it resumes (after a pause: timestamps and PictureIDs continued from what the receiver got
 * last, which a receiver must accept): the timestamp offset in force is checked at every keyframe
 * start, and where the keyframe is not the sender's picture at that offset, the keyframe's base
 * layer frame is decoded on its own and found among the sender's keyframes by its picture (the
 * sender's pictures all differ). Returns the number of offset changes found. */
static int map_pictures(void)
{
	uint32_t off = 0;
	int k, n = 0;
	static uint8_t frame[1 << 20];

	for (k = 0; k < n_rx; k++) {
		struct rx_pkt *p = &rx[k];
		int pic = find_pic(p->r.ts - off);

		if (p->d.sid == 0 && (p->d.flags & VP9D_B) && !(p->d.flags & VP9D_P) &&
		    (pic < 0 || !pics[pic].key)) {
			vpx_codec_ctx_t dec;
			const vpx_image_t *img;
			size_t len = 0;
			int i, err, j;

			for (i = k; i < n_rx && rx[i].r.ts == p->r.ts && rx[i].d.sid == 0 &&
			     (i == k || rx[i].len == rx[i - 1].len + 1); i++) {
				size_t m = (size_t)rx[i].payload - rx[i].d.len;

				if (len + m > sizeof(frame))
					break;
				memcpy(frame + len, rx[i].buf + rx[i].r.hdr_len + rx[i].d.len, m);
				len += m;
				if (rx[i].d.flags & VP9D_E)
					break;
			}
			if (vpx_codec_dec_init(&dec, vpx_codec_vp9_dx(), NULL, 0))
				die_codec(&dec, "decoder init");
			img = decode_one(&dec, frame, len, &err);
			for (j = 0; img && !err && j < n_pics; j++) {
				if (pics[j].key && pics[j].l[0].hash == img_hash(img)) {
					off = p->r.ts - pics[j].ts;
					pic = j;
					n++;
					printf("note seq %u: a keyframe renumbered: sender's picture %d, "
					       "timestamp offset %u\n", p->r.seq, j, off);
					break;
				}
			}
			vpx_codec_destroy(&dec);
		}
		p->pic = pic;
	}
	return n;
}

static int check_lossy(const char *dir, const char *rxfile)
{
	vpx_codec_ctx_t dec;
	uint32_t ssrc, t;
	uint8_t pt, buf[2048];
	FILE *f;
	int n, a, k, n_corrupt = 0, n_ok = 0, n_skip = 0, n_incomplete = 0, n_other = 0, n_pad = 0;
	int n_dup = 0, n_bad = 0, gaps = 0, last_ext = -1, dec_err = 0, n_renum;
	static uint8_t seen[65536];
	static uint8_t frame[1 << 20];

	load_ref(dir, &ssrc, &pt);
	if (!flexible)
		die("%s", "check --lossy needs a stream encoded with --flexible (P_DIFFs)");
	if (!(f = fopen(rxfile, "rb")))
		die("cannot read %s", rxfile);
	while ((n = pktfile_read(f, &t, buf, sizeof(buf))) > 0) {
		struct rx_pkt *p = &rx[n_rx];
		int pl, ext;

		if (n_rx == MAX_PKTS)
			die("%s", "too many packets");
		pl = e2e_rtp_read(buf, (size_t)n, &p->r);
		if (pl < 0 || p->r.pt != pt || p->r.ssrc != ssrc) {
			n_other++;
			continue;
		}
		if (pl == 0) {
			n_pad++;
			continue;
		}
		if (seen[p->r.seq]) {
			n_dup++;
			continue;
		}
		if (vp9d_read(buf + p->r.hdr_len, (size_t)pl, &p->d) || p->d.sid >= n_sl) {
			printf("err packet seq %u: malformed VP9 descriptor\n", p->r.seq);
			n_bad++;
			continue;
		}
		/* unwrap the sequence number around the last one (reordering within +-32767) */
		if (last_ext < 0)
			ext = p->r.seq + 65536;
		else
			ext = last_ext + (int16_t)(uint16_t)(p->r.seq - (uint16_t)last_ext);
		if (ext > last_ext)
			last_ext = ext;
		p->len = ext;
		seen[p->r.seq] = 1;    /* (a file of < 65536 packets: every test's case) */
		p->payload = pl;
		p->buf = malloc((size_t)n);
		if (!p->buf)
			die("%s", "out of memory");
		memcpy(p->buf, buf, (size_t)n);
		n_rx++;
	}
	fclose(f);
	qsort(rx, (size_t)n_rx, sizeof(rx[0]), rx_cmp);
	for (k = 1; k < n_rx; k++)
		if (rx[k].len != rx[k - 1].len + 1)
			gaps++;
	n_renum = map_pictures();
	if (vpx_codec_dec_init(&dec, vpx_codec_vp9_dx(), NULL, 0))
		die_codec(&dec, "decoder init");
	/* pictures in picture order; within one, packets in sequence order */
	for (a = 0; a < n_rx; a = k) {
		int pic = rx[a].pic, sl, out = -1, corrupt = 0, b;

		if (pic < 0) {      /* no picture the sender sent, even renumbered */
			for (k = a + 1; k < n_rx && rx[k].pic < 0; k++)
				;
			printf("err packets seq %u..%u: timestamp %u is no picture the sender sent\n",
			       rx[a].r.seq, rx[k - 1].r.seq, rx[a].r.ts);
			n_bad += k - a;
			continue;
		}
		char got[16] = "", okl[16] = "";

		for (k = a + 1; k < n_rx && rx[k].pic == pic; k++)
			;
		b = k;
		if (a > 0 && rx[a - 1].pic >= pic) {
			printf("err pic %d: arrived again or out of order\n", pic);
			n_bad++;
			continue;
		}
		for (sl = 0; sl < n_sl; sl++) {
			int first = -1, prev = -1, bad = 0, i, err, refs_ok;
			size_t len = 0;
			const struct vp9d *d = NULL;

			for (i = a; i < b; i++) {
				if (rx[i].d.sid != sl)
					continue;
				if (first < 0) {
					first = i;
					d = &rx[i].d;
					bad |= !(rx[i].d.flags & VP9D_B);
				} else {
					bad |= rx[prev].len + 1 != rx[i].len || (rx[prev].d.flags & VP9D_E);
				}
				if (len + (size_t)(rx[i].payload - (int)rx[i].d.len) <= sizeof(frame)) {
					memcpy(frame + len, rx[i].buf + rx[i].r.hdr_len + rx[i].d.len,
					       (size_t)rx[i].payload - rx[i].d.len);
					len += (size_t)rx[i].payload - rx[i].d.len;
				}
				prev = i;
			}
			if (first < 0)
				continue;
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%d", got[0] ? "," : "",
				 sl);
			bad |= !(rx[prev].d.flags & VP9D_E);
			if (bad) {
				n_incomplete++;
				continue;
			}
			refs_ok = 1;
			if ((d->flags & VP9D_P) && d->n_refs > 0) {
				for (i = 0; i < d->n_refs; i++) {
					int r = pic - d->p_diff[i];

					refs_ok &= r >= 0 && good_sl[r][sl];
				}
			} else if (d->flags & VP9D_P) {
				refs_ok = 0;     /* predicted, references unknown */
			}
			if (d->d)
				refs_ok &= sl > 0 && good_sl[pic][sl - 1];
			if (!refs_ok) {
				n_skip++;
				continue;
			}
			{
				const vpx_image_t *o = decode_one(&dec, frame, len, &err);

				if (err) {
					printf("err pic %d: decoder error on sid %d: %s\n", pic, sl,
					       vpx_codec_error(&dec));
					dec_err++;
					corrupt = 1;
					continue;
				}
				if (!o || img_hash(o) != pics[pic].l[sl].hash) {
					printf("err pic %d: sid %d decoded %s the reference\n", pic, sl,
					       o ? "unlike" : "to nothing, unlike");
					corrupt = 1;
					continue;
				}
			}
			good_sl[pic][sl] = 1;
			out = sl;
			snprintf(okl + strlen(okl), sizeof(okl) - strlen(okl), "%s%d", okl[0] ? "," : "",
				 sl);
		}
		printf("pic %d tid %d rx %s dec %s out ", pic, rx[a].d.tid, got[0] ? got : "-",
		       okl[0] ? okl : "-");
		if (corrupt) {
			printf("corrupt\n");
			n_corrupt++;
		} else if (out < 0) {
			printf("none\n");
		} else {
			printf("%d\n", out);
			n_ok++;
		}
	}
	vpx_codec_destroy(&dec);
	printf("summary packets %d pictures_ok %d corrupt %d skipped_frames %d incomplete_frames %d "
	       "gaps %d padding %d duplicates %d other %d bad %d decoder_errors %d renumbered %d\n",
	       n_rx, n_ok, n_corrupt, n_skip, n_incomplete, gaps, n_pad, n_dup, n_other, n_bad, dec_err,
	       n_renum);
	return 0;
}

/* ---- live: a real-time publisher that answers RTCP ------------------------------------------
 * Encodes picture i at t0 + i / FPS (flexible mode, no spatial sync pictures), a keyframe only for
 * picture 0 and when a PLI or a new FIR (RFC 5104: a FIR whose command sequence number differs from
 * the last one) for its SSRC came in; sends every packet at once from its socket and keeps the last
 * HIST of them; answers each generic NACK item by resending from that history as RTX (RFC 4588:
 * --rtx-ssrc/--rtx-pt, original sequence number first) or, without --rtx-ssrc, the same packet
 * again; sends an SR + SDES CNAME every second. Between pictures it waits in poll() for RTCP. */

#define HIST 2048

struct live {
	int fd;
	struct sockaddr_in dest;
	uint32_t ssrc, rtx_ssrc;
	uint8_t pt, rtx_pt;
	uint16_t rtx_seq;
	FILE *log;
	double t0;
	int key_req, fir_seq;          /* fir_seq: last FIR command sequence number, -1: none */
	double key_req_at;
	uint32_t sr_packets, sr_octets;
	struct { uint16_t seq, len; uint8_t valid; uint8_t buf[1500]; } hist[HIST];
	int n_pkt, n_resent, n_rtx, n_gone, n_key, n_pli, n_fir, n_fir_repeat, n_nack, n_nack_seqs;
	int n_sr, n_rtcp, n_rtcp_other, n_rtcp_bad, n_send_err;
	size_t bytes;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void live_send(struct live *L, const uint8_t *p, size_t n)
{
	if (sendto(L->fd, p, n, 0, (const struct sockaddr *)&L->dest, sizeof(L->dest)) != (ssize_t)n)
		L->n_send_err++;
}

static void emit_live(void *ctx, int pic, int sl, int first, int last, int m, const uint8_t *pkt,
		      size_t len)
{
	struct live *L = ctx;
	uint16_t seq = (uint16_t)((pkt[2] << 8) | pkt[3]);
	int h = seq % HIST;

	(void)pic; (void)sl; (void)first; (void)last; (void)m;
	memcpy(L->hist[h].buf, pkt, len);
	L->hist[h].len = (uint16_t)len;
	L->hist[h].seq = seq;
	L->hist[h].valid = 1;
	live_send(L, pkt, len);
	L->n_pkt++;
	L->bytes += len;
	L->sr_packets++;
	L->sr_octets += (uint32_t)(len - 12);
}

static void live_resend(struct live *L, uint16_t seq, double t)
{
	int h = seq % HIST;
	uint8_t out[1600];
	size_t n = L->hist[h].len;

	if (!L->hist[h].valid || L->hist[h].seq != seq) {
		L->n_gone++;
		fprintf(L->log, "gone %u %.6f\n", seq, t);
		return;
	}
	if (L->rtx_ssrc) {        /* RFC 4588: the RTX header, then the original seq, then the payload */
		memcpy(out, L->hist[h].buf, 12);
		out[1] = (uint8_t)((out[1] & 0x80) | L->rtx_pt);
		out[2] = L->rtx_seq >> 8;
		out[3] = L->rtx_seq & 0xff;
		out[8] = L->rtx_ssrc >> 24;
		out[9] = (L->rtx_ssrc >> 16) & 0xff;
		out[10] = (L->rtx_ssrc >> 8) & 0xff;
		out[11] = L->rtx_ssrc & 0xff;
		out[12] = seq >> 8;
		out[13] = seq & 0xff;
		memcpy(out + 14, L->hist[h].buf + 12, n - 12);
		L->rtx_seq++;
		live_send(L, out, n + 2);
		L->n_rtx++;
	} else {
		live_send(L, L->hist[h].buf, n);
	}
	L->n_resent++;
	fprintf(L->log, "resend %u %.6f %s\n", seq, t, L->rtx_ssrc ? "rtx" : "media");
}

static uint32_t rd32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void key_request(struct live *L, const char *kind, double t)
{
	fprintf(L->log, "req %s %.6f\n", kind, t);
	if (!L->key_req) {
		L->key_req = 1;
		L->key_req_at = t;
	}
}

/* One (compound or reduced-size) RTCP packet from the MMR. */
static void live_rtcp(struct live *L, const uint8_t *p, size_t n, double t)
{
	size_t off = 0;

	L->n_rtcp++;
	while (off + 4 <= n) {
		int fmt = p[off] & 0x1f, pt = p[off + 1];
		size_t len = ((size_t)((p[off + 2] << 8) | p[off + 3]) + 1) * 4, k;
		const uint8_t *b = p + off;

		if ((p[off] >> 6) != 2 || off + len > n) {
			L->n_rtcp_bad++;
			return;
		}
		if (pt == 205 && fmt == 1 && len >= 12 && rd32(b + 8) == L->ssrc) {
			L->n_nack++;
			for (k = 12; k + 4 <= len; k += 4) {
				uint16_t pid = (uint16_t)((b[k] << 8) | b[k + 1]);
				uint16_t blp = (uint16_t)((b[k + 2] << 8) | b[k + 3]);
				int j;

				L->n_nack_seqs++;
				live_resend(L, pid, t);
				for (j = 0; j < 16; j++) {
					if (blp & (1u << j)) {
						L->n_nack_seqs++;
						live_resend(L, (uint16_t)(pid + j + 1), t);
					}
				}
			}
		} else if (pt == 206 && fmt == 1 && len >= 12 && rd32(b + 8) == L->ssrc) {
			L->n_pli++;
			key_request(L, "pli", t);
		} else if (pt == 206 && fmt == 4 && len >= 12) {
			for (k = 12; k + 8 <= len; k += 8) {
				if (rd32(b + k) != L->ssrc)
					continue;
				if (L->fir_seq == b[k + 4]) {   /* a repeat of the last request */
					L->n_fir_repeat++;
					continue;
				}
				L->fir_seq = b[k + 4];
				L->n_fir++;
				key_request(L, "fir", t);
			}
		} else {
			L->n_rtcp_other++;
		}
		off += len;
	}
	if (off != n)
		L->n_rtcp_bad++;
}

/* Answer RTCP until `until` (monotonic seconds). */
static void live_wait(struct live *L, double until)
{
	for (;;) {
		double t = now_s();
		struct pollfd pfd = { .fd = L->fd, .events = POLLIN };
		uint8_t buf[2048];
		ssize_t n;

		if (t >= until)
			return;
		if (poll(&pfd, 1, (int)((until - t) * 1000) + 1) <= 0)
			continue;
		while ((n = recv(L->fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
			if (n >= 8 && (buf[0] >> 6) == 2 && buf[1] >= 192 && buf[1] <= 223)
				live_rtcp(L, buf, (size_t)n, now_s());
			else
				L->n_rtcp_other++;
		}
	}
}

static void live_sr(struct live *L, double t)
{
	uint8_t b[64];
	struct timespec rt;
	uint64_t ntp_sec;
	uint32_t frac, rtp_ts;
	size_t n = 0;
	static const char cname[] = "vp9live";

	clock_gettime(CLOCK_REALTIME, &rt);
	ntp_sec = (uint64_t)rt.tv_sec + 2208988800u;
	frac = (uint32_t)((double)rt.tv_nsec * 4294967296.0 / 1e9);
	rtp_ts = TS0 + (uint32_t)((t - L->t0) * 90000.0);
#define PUT32(v) do { uint32_t v_ = (v); b[n++] = v_ >> 24; b[n++] = (v_ >> 16) & 0xff; \
		b[n++] = (v_ >> 8) & 0xff; b[n++] = v_ & 0xff; } while (0)
	b[n++] = 0x80;
	b[n++] = 200;
	b[n++] = 0;
	b[n++] = 6;
	PUT32(L->ssrc);
	PUT32((uint32_t)ntp_sec);
	PUT32(frac);
	PUT32(rtp_ts);
	PUT32(L->sr_packets);
	PUT32(L->sr_octets);
	b[n++] = 0x81;        /* SDES, one chunk: CNAME, end, padding to 4 */
	b[n++] = 202;
	b[n++] = 0;
	b[n++] = 4;
	PUT32(L->ssrc);
	b[n++] = 1;
	b[n++] = sizeof(cname) - 1;
	memcpy(b + n, cname, sizeof(cname) - 1);
	n += sizeof(cname) - 1;
	b[n++] = 0;
	while (n % 4)
		b[n++] = 0;
#undef PUT32
	live_send(L, b, n);
	L->n_sr++;
}

static int parse_addr(const char *s, struct sockaddr_in *a)
{
	char host[64];
	const char *c = strrchr(s, ':');

	memset(a, 0, sizeof(*a));
	if (!c || (size_t)(c - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(c - s));
	host[c - s] = 0;
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)atoi(c + 1));
	return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -1;
}

static struct live live_state;

static int live(const char *dir, const char *bind_s, const char *dest_s, int frames, double drain,
		uint32_t ssrc, uint8_t pt, uint32_t rtx_ssrc, uint8_t rtx_pt)
{
	struct live *L = &live_state;
	struct sockaddr_in me;
	struct encoder e;
	vpx_codec_ctx_t dec;
	struct vp9d_ss ss;
	char path[4096];
	uint16_t seq = SEQ0;
	double next_sr, max_lag = 0;
	int i, bad, one = 1, bufsz = 4 << 20;

	if (parse_addr(bind_s, &me) || parse_addr(dest_s, &L->dest))
		die("%s", "live: --bind and --dest want IPv4:PORT");
	L->fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (L->fd < 0 || setsockopt(L->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(L->fd, (struct sockaddr *)&me, sizeof(me)))
		die("live: cannot bind %s", bind_s);
	setsockopt(L->fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	setsockopt(L->fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	L->ssrc = ssrc;
	L->pt = pt;
	L->rtx_ssrc = rtx_ssrc;
	L->rtx_pt = rtx_pt;
	L->rtx_seq = 1000;
	L->fir_seq = -1;
	snprintf(path, sizeof(path), "%s/live.txt", dir);
	if (!(L->log = fopen(path, "w")))
		die("cannot write %s", path);
	flexible = 1;
	enc_open(&e);
	if (vpx_codec_dec_init(&dec, vpx_codec_vp9_dx(), NULL, 0))
		die_codec(&dec, "decoder init");
	L->t0 = now_s() + 0.05;
	next_sr = L->t0;
	for (i = 0; i < frames; i++) {
		double due = L->t0 + (double)i / FPS, t;
		int key;

		live_wait(L, due);
		t = now_s();
		if (t - due > max_lag)
			max_lag = t - due;
		key = i == 0 || L->key_req;
		enc_picture(&e, i, key, 0);
		ref_decode_picture(&dec, i);
		if (i == 0)
			fill_ss(&ss);
		n_pics = i + 1;
		t = now_s();
		packetize(i, &seq, ssrc, pt, &ss, emit_live, L);
		fprintf(L->log, "pic %d %.6f %d %u\n", i, t, key, pics[i].ts);
		if (key) {
			L->n_key++;
			if (i > 0)
				fprintf(L->log, "kf %d %.6f %.6f\n", i, L->key_req_at, t);
			L->key_req = 0;
		}
		if (t >= next_sr) {
			live_sr(L, t);
			next_sr += 1.0;
		}
	}
	live_wait(L, now_s() + drain);
	vpx_codec_destroy(&dec);
	enc_close(&e);
	close(L->fd);
	fprintf(L->log, "summary pictures %d packets %d bytes %zu keyframes %d pli %d fir %d "
		"fir_repeats %d nacks %d nack_seqs %d resent %d rtx %d gone %d sr %d rtcp_in %d "
		"rtcp_other %d rtcp_bad %d send_errors %d max_lag_ms %.1f\n", frames, L->n_pkt, L->bytes,
		L->n_key, L->n_pli, L->n_fir, L->n_fir_repeat, L->n_nack, L->n_nack_seqs, L->n_resent,
		L->n_rtx, L->n_gone, L->n_sr, L->n_rtcp, L->n_rtcp_other, L->n_rtcp_bad, L->n_send_err,
		max_lag * 1000);
	if (fclose(L->log))
		die("%s", "write live.txt");
	printf("live: %d pictures, %d packets, %d keyframes (%d PLI, %d FIR), %d NACKed seqs, %d "
	       "resent (%d RTX, %d gone), %d SR, largest lag %.1f ms\n", frames, L->n_pkt, L->n_key,
	       L->n_pli, L->n_fir, L->n_nack_seqs, L->n_resent, L->n_rtx, L->n_gone, L->n_sr,
	       max_lag * 1000);
	bad = verify_filtered();
	if (bad) {
		fprintf(stderr, "vp9_svc: %d filtered pictures differ: the reference structure is not "
			"what this tool believes\n", bad);
		return 1;
	}
	write_outputs(dir, ssrc, pt);
	return 0;
}

/* ---- main ----------------------------------------------------------------------------------- */

static const char *arg_val(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc)
		die("%s needs a value", argv[*i]);
	return argv[++*i];
}

int main(int argc, char **argv)
{
	const char *out = NULL, *ref = NULL, *rxf = NULL, *m = "l3t3", *bind_s = NULL, *dest_s = NULL;
	int frames = 180, kf = 48, i, bad, lossy = 0;
	uint32_t ssrc = 1111, rtx_ssrc = 0;
	uint8_t pt = 98, rtx_pt = 99;
	double drain = 1.0;

	if (argc < 2)
		die("%s", "usage: vp9_svc encode|check ... (see the comment at the top of vp9_svc.c)");
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--out"))
			out = arg_val(argc, argv, &i);
		else if (!strcmp(argv[i], "--ref"))
			ref = arg_val(argc, argv, &i);
		else if (!strcmp(argv[i], "--rx"))
			rxf = arg_val(argc, argv, &i);
		else if (!strcmp(argv[i], "--mode"))
			m = arg_val(argc, argv, &i);
		else if (!strcmp(argv[i], "--frames"))
			frames = atoi(arg_val(argc, argv, &i));
		else if (!strcmp(argv[i], "--kf"))
			kf = atoi(arg_val(argc, argv, &i));
		else if (!strcmp(argv[i], "--ssrc"))
			ssrc = (uint32_t)strtoul(arg_val(argc, argv, &i), NULL, 0);
		else if (!strcmp(argv[i], "--pt"))
			pt = (uint8_t)atoi(arg_val(argc, argv, &i));
		else if (!strcmp(argv[i], "--flexible"))
			flexible = 1;
		else if (!strcmp(argv[i], "--smooth"))
			smooth = 1;
		else if (!strcmp(argv[i], "--lossy"))
			lossy = 1;
		else if (!strcmp(argv[i], "--bind"))
			bind_s = arg_val(argc, argv, &i);
		else if (!strcmp(argv[i], "--dest"))
			dest_s = arg_val(argc, argv, &i);
		else if (!strcmp(argv[i], "--drain"))
			drain = atof(arg_val(argc, argv, &i));
		else if (!strcmp(argv[i], "--rtx-ssrc"))
			rtx_ssrc = (uint32_t)strtoul(arg_val(argc, argv, &i), NULL, 0);
		else if (!strcmp(argv[i], "--rtx-pt"))
			rtx_pt = (uint8_t)atoi(arg_val(argc, argv, &i));
		else if (!strcmp(argv[i], "--rates")) {
			const char *v = arg_val(argc, argv, &i);
			int r[MAX_SL], m2;

			if (sscanf(v, "%d,%d,%d", &r[0], &r[1], &r[2]) != 3)
				die("--rates wants S0,S1,S2 kbit/s, not %s", v);
			for (m2 = 0; m2 < 2; m2++)
				memcpy(sl_kbps[m2], r, sizeof(r));
		}
		else
			die("unknown option %s", argv[i]);
	}
	if (!strcmp(argv[1], "check")) {
		if (!ref || !rxf)
			die("%s", "check needs --ref DIR --rx FILE");
		return lossy ? check_lossy(ref, rxf) : check(ref, rxf);
	}
	if ((strcmp(argv[1], "encode") && strcmp(argv[1], "live")) || !out)
		die("%s", "usage: vp9_svc encode --out DIR ... | live --out DIR --bind IP:PORT --dest "
		    "IP:PORT ... | check --ref DIR --rx FILE");
	if (!strcmp(m, "l3t3"))
		mode = M_L3T3;
	else if (!strcmp(m, "l3t3key"))
		mode = M_L3T3_KEY;
	else if (!strcmp(m, "l2t3"))
		mode = M_L2T3;
	else
		die("unknown mode %s", m);
	n_sl = mode == M_L2T3 ? 2 : 3;
	if (frames < 8 || frames > MAX_PICS || kf < 8 || kf % 8)
		die("%s", "--frames 8..2400, --kf a multiple of 8");
	if (mkdir(out, 0755) && errno != EEXIST)
		die("cannot create %s", out);
	if (!strcmp(argv[1], "live")) {
		if (!bind_s || !dest_s)
			die("%s", "live needs --bind IP:PORT --dest IP:PORT");
		return live(out, bind_s, dest_s, frames, drain, ssrc, pt, rtx_ssrc, rtx_pt);
	}
	encode(frames, kf);
	reference_decode();
	bad = verify_filtered();
	if (bad) {
		fprintf(stderr, "vp9_svc: %d filtered pictures differ: the reference structure is not "
			"what this tool believes\n", bad);
		return 1;
	}
	write_outputs(out, ssrc, pt);
	return 0;
}
