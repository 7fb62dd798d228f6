/*
 * av1_svc.c - the AV1 SVC end of tests/e2e/test_av1_svc.py: a real libaom real-time SVC encoder
 * (L3T3, L3T3_KEY (K-SVC) or L1T3, our own reference structure set with
 * AV1E_SET_SVC_REF_FRAME_CONFIG, so the sender knows exactly which frame depends on which) packetized per the AV1 RTP payload format with a
 * Dependency Descriptor on every packet, and the checker that decodes what each receiver got with
 * libaom and compares every picture, pixel for pixel, with reference decodes.
 *
 *   av1_svc encode --out DIR [--spatial 3|2|1] [--mode svc|ksvc] [--pictures N] [--keyint N]
 *                  [--ssrc N] [--dd-ext ID] [--abs-ext ID] [--budget BYTES]
 *     --mode ksvc: K-SVC (L3T3_KEY): the spatial layers predict from each other only in key
 *     pictures; in delta pictures each layer frame references only its own layer's earlier frames,
 *     so a lower layer's delta frames are NOT_PRESENT for a higher spatial decode target, each
 *     chain (one per spatial layer) runs through the key picture's frames up to its layer and then
 *     through its own layer's T0 frames, and a spatial switch either way can only be at a keyframe
 *     DIR/sent.bin   every RTP packet to send, in order, each after a 16-byte record
 *                    (<HHBBBBIHH: length, picture, sid, tid, flags, kind, DTIs (2 bits per decode
 *                    target), DD frame number, and for a packet carrying the structure the bit
 *                    of its descriptor where the structure ends (where an active decode targets
 *                    bitmask would go), else 0); flags: 1 key picture, 2 start of frame, 4 end of
 *                    frame, 8 structure attached, 16 N (new coded video sequence), 32 marker
 *     DIR/refs.txt   "ref PICTURE DT HASH WIDTH HEIGHT": the reference decode of the encoder's own
 *                    output filtered to decode target DT (= sid * 3 + tid), one line per picture in it
 *     DIR/info.txt   key=value parameters
 *   av1_svc check --dir DIR --recv FILE --name NAME --dt D [--switch PIC:DT[,PIC:DT...]]
 *                 [--settle N] [--slack N]
 *     FILE holds what one receiver got, each packet after a 4-byte little-endian length. Exit 0
 *     when every check passes; one line per finding on stdout.
 *
 * The tool is the independent other end of the MMR: av1_rtp.h is its own packetizer, depacketizer
 * and descriptor code; nothing of lib/ is used.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <aom/aom_decoder.h>
#include <aom/aom_encoder.h>
#include <aom/aomcx.h>
#include <aom/aomdx.h>

#include "av1_rtp.h"

#define NTL        3           /* temporal layers, pattern 0 2 1 2 */
#define TOP_W      320
#define TOP_H      176         /* 320x176: every layer (80x44, 160x88) even, as libaom makes them */
#define FPS        30
#define TS_STEP    (90000 / FPS)
#define MAX_PICS   1024
#define MAX_PKTS   65536
#define PT_AV1     45
#define SEQ0       65000       /* sequence numbers wrap during the call */
#define TS0        0xfffe0000u /* so do timestamps */
#define FN0        65200       /* and DD frame numbers */
#define ID_OFFSET  10          /* template_id_offset: template ids are not the indices */

/* Frame kinds of the pattern; template index = sid * N_KINDS + kind (layer order, as the
 * descriptor's template_layers() needs: per spatial layer T0, T0, T1, T2, T2). */
enum { K_KEY, K_T0, K_T1, K_T2A, K_T2B, N_KINDS };
static const int kind_tid[N_KINDS] = { 0, 0, 1, 2, 2 };
static const char *kind_name[N_KINDS] = { "key", "T0", "T1", "T2a", "T2b" };

/* K-SVC (--mode ksvc; the checker reads it from info.txt): inter-layer prediction in key pictures only */
static int g_ksvc;

enum { F_KEY = 1, F_START = 2, F_END = 4, F_STRUCT = 8, F_NEWCVS = 16, F_MARKER = 32 };

struct rec {
	uint16_t len, pic;
	uint8_t sid, tid, flags, kind;
	uint32_t dtis;
	uint16_t fn, pad;
} __attribute__((packed));

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "av1_svc: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}
#define FNV0 0xcbf29ce484222325ull

/* ---- the layer structure: one place that says which frame references which ----------------- */

static int pic_kind(int p, int keyint)
{
	static const int by_pos[4] = { K_T0, K_T2A, K_T1, K_T2B };

	return p % keyint == 0 ? K_KEY : by_pos[p % 4];
}

/* Is frame (s, kind) referenced by a later frame of decode target (S, T)? T0 frames by the next
 * T0 of their layer; T1 by the T2 frame after it; any frame by the next spatial layer of its
 * picture when that layer is in the target (K-SVC: key pictures only; dti_of() has the rest). */
static int referenced_in(int s, int kind, int S, int T)
{
	int t = kind_tid[kind];

	return t == 0 || (t == 1 && T >= 2) || s < S;
}

static int dti_of(int s, int kind, int S, int T)
{
	if (s > S || kind_tid[kind] > T)
		return DTI_NONE;
	/* K-SVC: a lower layer's delta frames are nothing to a higher spatial target */
	if (g_ksvc && kind != K_KEY && s != S)
		return DTI_NONE;
	if (!referenced_in(s, kind, S, T))
		return DTI_DISCARDABLE;
	/* A frame of a lower spatial layer than the target's, outside a keyframe, is no switching
	 * point for it: the target's own layer frames of this picture reference earlier frames of
	 * that layer (the decode target cannot start here), only its own layer's frame can be one. */
	if (s < S && kind != K_KEY)
		return DTI_REQUIRED;
	/* All frames but T2b reference (temporally) only T0 frames, i.e. frames in the chain: one can
	 * start decoding the target there. T2b references the T1 frame before it. */
	return kind == K_T2B ? DTI_REQUIRED : DTI_SWITCH;
}

/* Temporal distance in pictures to the same-layer reference (0: none). */
static const int kind_tref[N_KINDS] = { 0, 4, 2, 1, 1 };
/* Distance to the previous T0 picture (the chain's previous frames live there). */
static const int kind_t0dist[N_KINDS] = { 0, 4, 2, 1, 3 };

static void build_structure(int nsl, struct dd_structure *st)
{
	memset(st, 0, sizeof(*st));
	st->id_offset = ID_OFFSET;
	st->dt_cnt = nsl * NTL;
	st->template_cnt = nsl * N_KINDS;
	st->chain_cnt = nsl;
	st->max_sid = nsl - 1;
	st->has_res = 1;
	for (int s = 0; s < nsl; s++) {
		int sh = nsl - 1 - s;

		st->width[s] = TOP_W >> sh;
		st->height[s] = TOP_H >> sh;
		for (int k = 0; k < N_KINDS; k++) {
			int t = s * N_KINDS + k;

			st->sid[t] = s;
			st->tid[t] = kind_tid[k];
			for (int S = 0; S < nsl; S++)
				for (int T = 0; T < NTL; T++)
					st->dti[t][S * NTL + T] = dti_of(s, k, S, T);
			/* frame numbers run p * nsl + s: a picture is nsl frames */
			if (kind_tref[k])
				st->fdiff[t][st->fdiff_cnt[t]++] = kind_tref[k] * nsl;
			if (s > 0 && (!g_ksvc || k == K_KEY))
				st->fdiff[t][st->fdiff_cnt[t]++] = 1;
			/* chain c: the T0 frames of spatial layers 0..c; it protects the targets of
			 * spatial layer c. K-SVC: the key picture's frames of layers 0..c, then the T0
			 * frames of layer c alone (chain c's previous frame is in this picture only
			 * for c < s) */
			for (int c = 0; c < nsl; c++) {
				int d;

				if (g_ksvc && k == K_T0)
					d = c < s ? s - c : kind_t0dist[k] * nsl + s - c;
				else if ((k == K_KEY || k == K_T0) && s > 0)
					d = s - (c < s - 1 ? c : s - 1);
				else if (k == K_KEY)
					d = 0;
				else
					d = kind_t0dist[k] * nsl + s - c;
				st->chain_fdiff[t][c] = d;
			}
		}
	}
	for (int d = 0; d < st->dt_cnt; d++)
		st->dt_chain[d] = d / NTL;
}

/* libaom buffer slots: T0 frames of layer s in slot s, T1 in 3 + s, T2 frames that the next
 * spatial layer predicts from in 6 + s (not the top layer: 8 slots exactly for L3T3; K-SVC: no
 * inter-layer reference outside key pictures, T2 frames are stored nowhere). */
static void ref_config(int nsl, int s, int kind, aom_svc_ref_frame_config_t *rc)
{
	int tslot = -1, islot = -1, refresh = -1;

	memset(rc, 0, sizeof(*rc));
	switch (kind) {
	case K_KEY: refresh = s; break;
	case K_T0: tslot = s; refresh = s; break;
	case K_T1: tslot = s; refresh = 3 + s; break;
	case K_T2A: tslot = s; refresh = s < nsl - 1 && !g_ksvc ? 6 + s : -1; break;
	case K_T2B: tslot = 3 + s; refresh = s < nsl - 1 && !g_ksvc ? 6 + s : -1; break;
	}
	if (s > 0 && (!g_ksvc || kind == K_KEY))   /* the lower layer of this picture: where that
						      frame was just stored */
		islot = kind == K_KEY || kind == K_T0 ? s - 1 : kind == K_T1 ? 3 + s - 1 : 6 + s - 1;
	if (tslot < 0) {
		tslot = islot;      /* key picture, upper layer: inter-layer only, as LAST */
		islot = -1;
	}
	for (int i = 0; i < 7; i++)
		rc->ref_idx[i] = tslot < 0 ? 0 : tslot;   /* unused refs name a valid slot too */
	if (tslot >= 0)
		rc->reference[0] = 1;                     /* LAST */
	if (islot >= 0) {
		rc->reference[3] = 1;                     /* GOLDEN */
		rc->ref_idx[3] = islot;
	}
	if (kind == K_KEY && s == 0) {
		for (int i = 0; i < 8; i++)
			rc->refresh[i] = 1;
	} else if (refresh >= 0) {
		/* libaom refreshes only slots that one of the 7 references names: let the unused
		 * ALTREF name it (without it the T1 and T2 frames and the key picture's upper layers
		 * silently refresh nothing, and the structure is not the one we describe) */
		rc->refresh[refresh] = 1;
		rc->ref_idx[6] = refresh;
	}
}

static int refresh_mask(int nsl, int s, int kind)
{
	aom_svc_ref_frame_config_t rc;
	int m = 0;

	ref_config(nsl, s, kind, &rc);
	for (int i = 0; i < 8; i++)
		m |= rc.refresh[i] << i;
	return m;
}

/* ---- synthetic moving picture ---------------------------------------------------------------- */

static void draw(aom_image_t *img, int p)
{
	int w = img->d_w, h = img->d_h;

	for (int y = 0; y < h; y++) {
		uint8_t *row = img->planes[0] + y * img->stride[0];

		for (int x = 0; x < w; x++) {
			int v = (x * 2 + y + p * 3) & 0xff;
			int bx = (p * 4) % (w + 40) - 40, by = 40 + (p * 2) % (h - 80);

			if (x >= bx && x < bx + 40 && y >= by && y < by + 40)
				v = 230 - ((x - bx) ^ (y - by)) % 16;
			if (((x / 16) + (y / 16) + p / 8) % 7 == 0)
				v = 30 + (p % 50);
			row[x] = v;
		}
	}
	for (int pl = 1; pl < 3; pl++)
		for (int y = 0; y < (h + 1) / 2; y++) {
			uint8_t *row = img->planes[pl] + y * img->stride[pl];

			for (int x = 0; x < (w + 1) / 2; x++)
				row[x] = 128 + ((pl == 1 ? x + p : y - p) & 63) - 32;
		}
}

static uint64_t img_hash(const aom_image_t *img)
{
	int bps = (img->fmt & AOM_IMG_FMT_HIGHBITDEPTH) ? 2 : 1;
	uint64_t h = FNV0;

	for (int pl = 0; pl < 3; pl++) {
		int w = pl ? (int)((img->d_w + img->x_chroma_shift) >> img->x_chroma_shift) : (int)img->d_w;
		int hh = pl ? (int)((img->d_h + img->y_chroma_shift) >> img->y_chroma_shift) : (int)img->d_h;

		for (int y = 0; y < hh; y++)
			h = fnv(h, img->planes[pl] + y * img->stride[pl], (size_t)w * bps);
	}
	return h;
}

/* ---- decoding --------------------------------------------------------------------------------- */

static void dec_open(aom_codec_ctx_t *dec)
{
	aom_codec_dec_cfg_t cfg = { .threads = 1, .allow_lowbitdepth = 1 };

	if (aom_codec_dec_init(dec, aom_codec_av1_dx(), &cfg, 0))
		die("decoder init failed");
	aom_codec_control(dec, AV1D_SET_OUTPUT_ALL_LAYERS, 0);
	aom_codec_control(dec, AV1D_SET_OPERATING_POINT, 0);
}

/* Decodes one temporal unit; returns the number of pictures it output (the last one hashed), or
 * -1 with *err set. */
static int dec_tu(aom_codec_ctx_t *dec, const uint8_t *tu, size_t len, uint64_t *hash, int *w,
		  int *h, const char **err)
{
	aom_codec_iter_t it = NULL;
	aom_image_t *img;
	int n = 0;

	if (aom_codec_decode(dec, tu, len, NULL)) {
		const char *d = aom_codec_error_detail(dec);

		*err = d ? d : aom_codec_error(dec);
		return -1;
	}
	while ((img = aom_codec_get_frame(dec, &it)) != NULL) {
		*hash = img_hash(img);
		*w = img->d_w;
		*h = img->d_h;
		n++;
	}
	return n;
}

/* ---- encode ---------------------------------------------------------------------------------- */

struct lframe {
	int pic, sid, kind;
	uint8_t *data;           /* encoder output as is (size fields present) */
	size_t len;
};

struct enc_opts {
	const char *out;
	int nsl, pics, keyint, dd_id, abs_id, budget;
	uint32_t ssrc;
};

static void encode_all(const struct enc_opts *o, struct lframe *lf)
{
	aom_codec_enc_cfg_t cfg;
	aom_codec_ctx_t enc;
	aom_svc_params_t svc;
	aom_image_t img;
	static const int kbps[3] = { 60, 160, 400 };
	int total = 0;

	if (aom_codec_enc_config_default(aom_codec_av1_cx(), &cfg, AOM_USAGE_REALTIME))
		die("no default config");
	cfg.g_w = TOP_W;
	cfg.g_h = TOP_H;
	cfg.g_timebase.num = 1;
	cfg.g_timebase.den = FPS;
	cfg.g_lag_in_frames = 0;
	cfg.g_threads = 1;
	cfg.g_error_resilient = 0;
	cfg.rc_end_usage = AOM_CBR;
	cfg.rc_dropframe_thresh = 0;      /* every layer frame must come out */
	cfg.rc_min_quantizer = 4;
	cfg.rc_max_quantizer = 56;
	cfg.kf_mode = AOM_KF_DISABLED;     /* keyframes where we force them */
	memset(&svc, 0, sizeof(svc));
	svc.number_spatial_layers = o->nsl;
	svc.number_temporal_layers = NTL;
	for (int s = 0; s < o->nsl; s++) {
		int rate = kbps[s + 3 - o->nsl];

		svc.scaling_factor_num[s] = 1;
		svc.scaling_factor_den[s] = 1 << (o->nsl - 1 - s);
		svc.layer_target_bitrate[s * NTL + 0] = rate / 2;
		svc.layer_target_bitrate[s * NTL + 1] = rate * 3 / 4;
		svc.layer_target_bitrate[s * NTL + 2] = rate;
		total += rate;
		for (int t = 0; t < NTL; t++) {
			svc.max_quantizers[s * NTL + t] = 56;
			svc.min_quantizers[s * NTL + t] = 4;
		}
	}
	svc.framerate_factor[0] = 4;
	svc.framerate_factor[1] = 2;
	svc.framerate_factor[2] = 1;
	cfg.rc_target_bitrate = total;
	if (aom_codec_enc_init(&enc, aom_codec_av1_cx(), &cfg, 0))
		die("encoder init: %s", aom_codec_error(&enc));
	if (aom_codec_control(&enc, AOME_SET_CPUUSED, 9) ||
	    aom_codec_control(&enc, AV1E_SET_AQ_MODE, 0) ||
	    aom_codec_control(&enc, AV1E_SET_SVC_PARAMS, &svc))
		die("encoder controls: %s", aom_codec_error_detail(&enc));
	if (!aom_img_alloc(&img, AOM_IMG_FMT_I420, TOP_W, TOP_H, 32))
		die("image alloc");
	for (int p = 0; p < o->pics; p++) {
		int kind = pic_kind(p, o->keyint);

		draw(&img, p);
		for (int s = 0; s < o->nsl; s++) {
			aom_svc_layer_id_t lid = { s, kind_tid[kind] };
			aom_svc_ref_frame_config_t rc;
			struct lframe *f = &lf[p * o->nsl + s];
			const aom_codec_cx_pkt_t *pkt;
			aom_codec_iter_t it = NULL;

			ref_config(o->nsl, s, kind, &rc);
			if (aom_codec_control(&enc, AV1E_SET_SVC_LAYER_ID, &lid) ||
			    aom_codec_control(&enc, AV1E_SET_SVC_REF_FRAME_CONFIG, &rc))
				die("layer controls: %s", aom_codec_error_detail(&enc));
			if (aom_codec_encode(&enc, &img, p, 1,
					     kind == K_KEY && s == 0 ? AOM_EFLAG_FORCE_KF : 0))
				die("encode picture %d layer %d: %s", p, s, aom_codec_error_detail(&enc));
			f->pic = p;
			f->sid = s;
			f->kind = kind;
			while ((pkt = aom_codec_get_cx_data(&enc, &it)) != NULL) {
				if (pkt->kind != AOM_CODEC_CX_FRAME_PKT)
					continue;
				f->data = realloc(f->data, f->len + pkt->data.frame.sz);
				if (!f->data)
					die("oom");
				memcpy(f->data + f->len, pkt->data.frame.buf, pkt->data.frame.sz);
				f->len += pkt->data.frame.sz;
			}
			if (!f->len)
				die("picture %d layer %d: the encoder dropped the frame", p, s);
		}
	}
	aom_img_free(&img);
	aom_codec_destroy(&enc);
}

/* Checks the encoder put the layer ids we asked for in the OBU extension headers. */
static void check_obus(const struct lframe *f)
{
	size_t off = 0;
	int frames = 0;

	while (off < f->len) {
		struct obu_info o;

		if (obu_parse(f->data + off, f->len - off, &o) || !(f->data[off] & 2))
			die("picture %d layer %d: unparsable encoder output", f->pic, f->sid);
		if (getenv("AV1_SVC_DEBUG"))
			fprintf(stderr, "pic %d S%d: OBU type %d ext %d S%dT%d len %zu\n", f->pic, f->sid,
				o.type, o.has_ext, o.sid, o.tid, o.total);
		if (o.type == T_OBU_FRAME || o.type == T_OBU_FRAME_HDR) {
			frames++;
			/* libaom leaves the extension out where it would say S0T0 */
			if (o.sid != f->sid || o.tid != kind_tid[f->kind] ||
			    (!o.has_ext && (f->sid || kind_tid[f->kind])))
				die("picture %d layer %d: OBU says S%dT%d", f->pic, f->sid, o.sid, o.tid);
		}
		off += o.total;
	}
	if (frames < 1)
		die("picture %d layer %d: no frame OBU", f->pic, f->sid);
}

/* The encoder must have stored each layer frame where the structure says (the decoder reports
 * the refresh_frame_flags of every frame it decodes): a layer frame at a time, all of them. */
static void verify_refresh(const struct enc_opts *o, const struct lframe *lf)
{
	aom_codec_ctx_t dec;

	dec_open(&dec);
	for (int i = 0; i < o->pics * o->nsl; i++) {
		aom_codec_iter_t it = NULL;
		int upd = -1;

		if (aom_codec_decode(&dec, lf[i].data, lf[i].len, NULL))
			die("picture %d layer %d does not decode", lf[i].pic, lf[i].sid);
		while (aom_codec_get_frame(&dec, &it))
			;
		if (aom_codec_control(&dec, AOMD_GET_LAST_REF_UPDATES, &upd) ||
		    upd != refresh_mask(o->nsl, lf[i].sid, lf[i].kind))
			die("picture %d layer %d (%s): the encoder refreshed slots %#x, not %#x", lf[i].pic,
			    lf[i].sid, kind_name[lf[i].kind], upd, refresh_mask(o->nsl, lf[i].sid, lf[i].kind));
	}
	aom_codec_destroy(&dec);
}

/* Reference decode of decode target dt: the encoder's output, only the layer frames the sender
 * knows to be in the target (DTI not NOT_PRESENT), one temporal unit per picture. all_lower: every
 * layer frame of layers 0..S instead (K-SVC: must give the same pictures, else a layer frame
 * depends on a lower layer's delta frame that its DTIs call NOT_PRESENT). */
static void reference_dec(const struct enc_opts *o, const struct lframe *lf, int dt, FILE *out,
			  uint64_t *top_hash, int all_lower)
{
	int S = dt / NTL, T = dt % NTL;
	aom_codec_ctx_t dec;
	static uint8_t tu[1 << 20];

	dec_open(&dec);
	for (int p = 0; p < o->pics; p++) {
		size_t len = 0;
		uint64_t h = 0;
		int w = 0, hh = 0, n;
		const char *err = NULL;

		if (kind_tid[lf[p * o->nsl].kind] > T)
			continue;
		for (int s = 0; s <= S; s++) {
			const struct lframe *f = &lf[p * o->nsl + s];

			if (!all_lower && dti_of(s, f->kind, S, T) == DTI_NONE)
				continue;
			if (len + f->len > sizeof(tu))
				die("temporal unit too large");
			memcpy(tu + len, f->data, f->len);
			len += f->len;
		}
		n = dec_tu(&dec, tu, len, &h, &w, &hh, &err);
		if (n != 1)
			die("reference decode dt %d picture %d: %s (%d pictures)", dt, p,
			    err ? err : "not one picture", n);
		if (w != TOP_W >> (o->nsl - 1 - S) || hh != TOP_H >> (o->nsl - 1 - S))
			die("reference decode dt %d picture %d: %dx%d", dt, p, w, hh);
		if (all_lower) {
			if (h != top_hash[p])
				die("dt %d picture %d: decoding the lower layers' delta frames too changes "
				    "the picture: the DTIs say they are not needed", dt, p);
			continue;
		}
		fprintf(out, "ref %d %d %016llx %d %d\n", p, dt, (unsigned long long)h, w, hh);
		if (top_hash)
			top_hash[p] = h;
	}
	aom_codec_destroy(&dec);
}

static void reference(const struct enc_opts *o, const struct lframe *lf, int dt, FILE *out,
		      uint64_t *top_hash)
{
	static uint64_t mine[MAX_PICS];

	reference_dec(o, lf, dt, out, top_hash ? top_hash : mine, 0);
	if (g_ksvc && dt / NTL > 0)
		reference_dec(o, lf, dt, out, top_hash ? top_hash : mine, 1);
}

struct elem {
	const uint8_t *p;
	size_t len;
};

/* Builds one RTP packet: header, extension (DD + the abs-send-time-like element), payload. */
static size_t rtp_build(uint8_t *pkt, const struct enc_opts *o, int marker, uint16_t seq,
			uint32_t ts, const uint8_t *dd, int dd_len, const uint8_t abs[3],
			const uint8_t *payload, size_t plen)
{
	size_t n = 12, x;
	int two = dd_len > 16;

	pkt[0] = 0x90;
	pkt[1] = (marker ? 0x80 : 0) | PT_AV1;
	pkt[2] = seq >> 8;
	pkt[3] = seq;
	for (int i = 0; i < 4; i++) {
		pkt[4 + i] = ts >> (24 - 8 * i);
		pkt[8 + i] = o->ssrc >> (24 - 8 * i);
	}
	pkt[n++] = two ? 0x10 : 0xBE;
	pkt[n++] = two ? 0x00 : 0xDE;
	n += 2;      /* length, below */
	x = n;
	if (two) {
		pkt[n++] = o->abs_id;
		pkt[n++] = 3;
		memcpy(pkt + n, abs, 3);
		n += 3;
		pkt[n++] = o->dd_id;
		pkt[n++] = dd_len;
	} else {
		pkt[n++] = o->abs_id << 4 | 2;
		memcpy(pkt + n, abs, 3);
		n += 3;
		pkt[n++] = o->dd_id << 4 | (dd_len - 1);
	}
	memcpy(pkt + n, dd, dd_len);
	n += dd_len;
	while ((n - x) % 4)
		pkt[n++] = 0;
	pkt[x - 2] = ((n - x) / 4) >> 8;
	pkt[x - 1] = (n - x) / 4;
	memcpy(pkt + n, payload, plen);
	return n + plen;
}

static uint8_t g_pkt[MAX_PKTS][1400];
static struct rec g_rec[MAX_PKTS];

/* Packetizes one layer frame into RTP packets; returns how many. */
static int packetize(const struct enc_opts *o, const struct dd_structure *st, const struct lframe *f,
		     int first, uint16_t *seq, uint32_t *absc)
{
	static uint8_t strip[1 << 20];
	struct elem obus[64];
	int n_obus = 0, has_seq = 0, n_pk = 0, t = f->sid * N_KINDS + f->kind;
	size_t sl = 0, off = 0;
	uint16_t fn = (uint16_t)(FN0 + f->pic * o->nsl + f->sid);

	/* OBU elements: size fields removed (obu_has_size_field = 0), temporal delimiters dropped */
	while (off < f->len) {
		struct obu_info ob;

		obu_parse(f->data + off, f->len - off, &ob);
		if (ob.type == T_OBU_SEQ)
			has_seq = 1;
		if (ob.type != T_OBU_TD) {
			if (n_obus >= 64)
				die("too many OBUs");
			obus[n_obus].p = strip + sl;
			memcpy(strip + sl, f->data + off, ob.hdr_len);
			strip[sl] &= ~2;
			memcpy(strip + sl + ob.hdr_len, f->data + off + ob.payload_off, ob.payload_len);
			obus[n_obus].len = ob.hdr_len + ob.payload_len;
			sl += obus[n_obus].len;
			n_obus++;
		}
		off += ob.total;
	}
	{
		struct elem el[64];
		int ne = 0, z = 0, oi = 0;
		size_t used = 1, ooff = 0;
		int kpic = f->kind == K_KEY;

		for (;;) {
			int close = 0, y = 0;

			if (oi < n_obus) {
				size_t rem = obus[oi].len - ooff;
				size_t space = o->budget - used;

				if (leb128_size(rem) + rem <= space) {
					el[ne++] = (struct elem){ obus[oi].p + ooff, rem };
					used += leb128_size(rem) + rem;
					oi++;
					ooff = 0;
				} else if (space >= 3) {
					size_t fr = space - leb128_size(space);

					while (leb128_size(fr) + fr > space)
						fr--;
					el[ne++] = (struct elem){ obus[oi].p + ooff, fr };
					ooff += fr;
					close = y = 1;
				} else {
					close = 1;
				}
				if (ne >= 60)
					close = 1;
			} else {
				close = 1;
			}
			if (!close)
				continue;
			if (ne) {
				uint8_t payload[1400], dd[256], abs[3];
				size_t pl = 1;
				int w = ne <= 3 ? ne : 0, last = oi >= n_obus;
				int attach = kpic && f->sid == 0 && n_pk == 0;
				int ddl;
				struct rec *r;

				for (int i = 0; i < ne; i++) {
					if (!(w && i == ne - 1))
						pl += leb128_put(payload + pl, el[i].len);
					memcpy(payload + pl, el[i].p, el[i].len);
					pl += el[i].len;
				}
				payload[0] = z << 7 | y << 6 | w << 4 |
					     ((has_seq && first && n_pk == 0) ? 8 : 0);
				ddl = dd_write(dd, sizeof(dd), st, attach, n_pk == 0, last, t, fn);
				if (ddl < 0)
					die("descriptor does not fit");
				abs[0] = *absc >> 16;
				abs[1] = *absc >> 8;
				abs[2] = *absc;
				*absc = (*absc * 1103515245u + 12345u) & 0xffffff;
				{
					int idx = (uint16_t)(*seq - SEQ0);
					int marker = last && f->sid == o->nsl - 1;

					if (idx >= MAX_PKTS)
						die("too many packets");
					r = &g_rec[idx];
					r->len = rtp_build(g_pkt[idx], o, marker, *seq,
							   TS0 + (uint32_t)f->pic * TS_STEP, dd, ddl, abs,
							   payload, pl);
					r->pic = f->pic;
					r->sid = f->sid;
					r->tid = kind_tid[f->kind];
					r->kind = f->kind;
					r->flags = (kpic ? F_KEY : 0) | (n_pk == 0 ? F_START : 0) |
						   (last ? F_END : 0) | (attach ? F_STRUCT : 0) |
						   (payload[0] & 8 ? F_NEWCVS : 0) | (marker ? F_MARKER : 0);
					r->dtis = 0;
					for (int d = 0; d < st->dt_cnt; d++)
						r->dtis |= (uint32_t)st->dti[t][d] << (2 * d);
					r->fn = fn;
					r->pad = 0;
					if (attach) {
						struct bitr br = { dd, (size_t)ddl * 8, 29, 0 };
						struct dd_structure tmp;

						if (dd_parse_structure(&br, &tmp))
							die("own descriptor does not parse");
						r->pad = (uint16_t)br.pos;
					}
				}
				(*seq)++;
				n_pk++;
				z = y;
				ne = 0;
				used = 1;
			}
			if (oi >= n_obus)
				break;
		}
	}
	return n_pk;
}

static int cmd_encode(int argc, char **argv)
{
	struct enc_opts o = { .nsl = 3, .pics = 192, .keyint = 40, .dd_id = 5, .abs_id = 3,
			      .budget = 400, .ssrc = 0x11223344 };
	struct dd_structure st;
	struct lframe *lf;
	uint16_t seq = SEQ0;
	uint32_t absc = 0x123456;
	char path[4096];
	FILE *fp;
	int npk;
	uint64_t *top;

	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			die("%s needs a value", a);
		if (!strcmp(a, "--out")) o.out = v;
		else if (!strcmp(a, "--spatial")) o.nsl = atoi(v);
		else if (!strcmp(a, "--mode") && (!strcmp(v, "svc") || !strcmp(v, "ksvc")))
			g_ksvc = !strcmp(v, "ksvc");
		else if (!strcmp(a, "--pictures")) o.pics = atoi(v);
		else if (!strcmp(a, "--keyint")) o.keyint = atoi(v);
		else if (!strcmp(a, "--ssrc")) o.ssrc = strtoul(v, NULL, 0);
		else if (!strcmp(a, "--dd-ext")) o.dd_id = atoi(v);
		else if (!strcmp(a, "--abs-ext")) o.abs_id = atoi(v);
		else if (!strcmp(a, "--budget")) o.budget = atoi(v);
		else die("unknown option %s", a);
		i++;
	}
	if (!o.out || o.nsl < 1 || o.nsl > 3 || o.pics < 1 || o.pics > MAX_PICS || o.keyint < 4 ||
	    o.keyint % 4 || o.dd_id < 1 || o.dd_id > 14 || o.abs_id < 1 || o.abs_id > 14 ||
	    o.abs_id == o.dd_id || o.budget < 64 || o.budget > 1200)
		die("bad arguments (keyint a multiple of 4, ids 1-14 and distinct, budget 64-1200)");
	mkdir(o.out, 0755);
	build_structure(o.nsl, &st);
	lf = calloc((size_t)o.pics * o.nsl, sizeof(*lf));
	top = calloc(o.pics, sizeof(*top));
	if (!lf || !top)
		die("oom");
	encode_all(&o, lf);
	for (int i = 0; i < o.pics * o.nsl; i++)
		check_obus(&lf[i]);
	verify_refresh(&o, lf);

	snprintf(path, sizeof(path), "%s/refs.txt", o.out);
	if (!(fp = fopen(path, "w")))
		die("%s: %s", path, strerror(errno));
	for (int dt = 0; dt < o.nsl * NTL; dt++)
		reference(&o, lf, dt, fp, dt == o.nsl * NTL - 1 ? top : NULL);
	fclose(fp);

	for (int i = 0; i < o.pics * o.nsl; i++)
		packetize(&o, &st, &lf[i], i == 0 || (lf[i].kind == K_KEY && lf[i].sid == 0), &seq,
			  &absc);
	npk = (uint16_t)(seq - SEQ0);

	/* payloads must identify their packet (the checker finds sent packets by payload) */
	for (int i = 0; i < npk; i++)
		for (int j = i + 1; j < npk && j < i + 200; j++)
			if (g_rec[i].len == g_rec[j].len && !memcmp(g_pkt[i], g_pkt[j], g_rec[i].len))
				die("packets %d and %d are identical", i, j);

	/* round trip: our own depacketizer on everything sent must give the top target's pictures */
	{
		static uint8_t frag[1 << 20], tu[1 << 20];
		struct av1_depack d = { .frag = frag, .frag_cap = sizeof(frag), .tu = tu,
					.tu_cap = sizeof(tu) };
		aom_codec_ctx_t dec;
		int k = 0;

		dec_open(&dec);
		for (int p = 0; p < o.pics; p++) {
			uint64_t h = 0;
			int w, hh, nf;
			const char *err = NULL;

			depack_tu_begin(&d);
			for (; k < npk && g_rec[k].pic == p; k++) {
				struct rtp_view v;

				if (rtp_parse(g_pkt[k], g_rec[k].len, &v) ||
				    depack_payload(&d, v.payload, v.payload_len, &nf))
					die("round trip: packet %d: %s", k, d.err ? d.err : "rtp");
			}
			if (dec_tu(&dec, tu, d.tu_len, &h, &w, &hh, &err) != 1 || h != top[p])
				die("round trip: picture %d does not decode to the reference (%s)", p,
				    err ? err : "differs");
		}
		aom_codec_destroy(&dec);
	}

	snprintf(path, sizeof(path), "%s/sent.bin", o.out);
	if (!(fp = fopen(path, "wb")))
		die("%s: %s", path, strerror(errno));
	for (int i = 0; i < npk; i++) {
		fwrite(&g_rec[i], sizeof(g_rec[i]), 1, fp);
		fwrite(g_pkt[i], g_rec[i].len, 1, fp);
	}
	fclose(fp);

	snprintf(path, sizeof(path), "%s/info.txt", o.out);
	if (!(fp = fopen(path, "w")))
		die("%s: %s", path, strerror(errno));
	fprintf(fp, "spatial=%d\ntemporal=%d\npictures=%d\nkeyint=%d\nssrc=%u\npt=%d\ndd_ext=%d\n"
		"abs_ext=%d\nfps=%d\npackets=%d\nwidth=%d\nheight=%d\nksvc=%d\n", o.nsl, NTL, o.pics,
		o.keyint, o.ssrc, PT_AV1, o.dd_id, o.abs_id, FPS, npk, TOP_W, TOP_H, g_ksvc);
	fclose(fp);
	{
		size_t bytes[3] = { 0 };

		for (int i = 0; i < o.pics * o.nsl; i++)
			bytes[lf[i].sid] += lf[i].len;
		printf("encoded L%dT%d%s %dx%d: %d pictures, %d layer frames, %d RTP packets, keyframes "
		       "every %d; bytes per spatial layer %zu %zu %zu; round trip OK\n", o.nsl, NTL,
		       g_ksvc ? "_KEY" : "", TOP_W, TOP_H, o.pics, o.pics * o.nsl, npk, o.keyint,
		       bytes[0], bytes[1], bytes[2]);
	}
	for (int i = 0; i < o.pics * o.nsl; i++)
		free(lf[i].data);
	free(lf);
	free(top);
	return 0;
}

/* ---- check ------------------------------------------------------------------------------------ */

struct sent {
	int n, nsl, pics, keyint, dd_id, abs_id, pt;
	uint32_t ssrc;
	struct rec *rec;
	uint8_t **pkt;
	struct { uint64_t h; int k; } *byhash;
	int *first_pkt;          /* [pic * nsl + sid] */
	int *n_pkt;
	int *kind;               /* [pic] */
	int ref_ok[3 * NTL][MAX_PICS];
	int ref_sids[3 * NTL][MAX_PICS];   /* layer frames with a DTI other than NOT_PRESENT */
	uint64_t ref_hash[3 * NTL][MAX_PICS];
	int ref_w[3 * NTL][MAX_PICS], ref_h[3 * NTL][MAX_PICS];
};

static int cmp_hash(const void *a, const void *b)
{
	const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void load_sent(const char *dir, struct sent *S)
{
	char path[4096], line[256];
	FILE *fp;
	struct rec r;
	int cap = 0;

	snprintf(path, sizeof(path), "%s/info.txt", dir);
	if (!(fp = fopen(path, "r")))
		die("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), fp)) {
		char k[64];
		unsigned long v;

		if (sscanf(line, "%63[^=]=%lu", k, &v) != 2)
			continue;
		if (!strcmp(k, "spatial")) S->nsl = v;
		else if (!strcmp(k, "pictures")) S->pics = v;
		else if (!strcmp(k, "keyint")) S->keyint = v;
		else if (!strcmp(k, "ssrc")) S->ssrc = v;
		else if (!strcmp(k, "dd_ext")) S->dd_id = v;
		else if (!strcmp(k, "abs_ext")) S->abs_id = v;
		else if (!strcmp(k, "pt")) S->pt = v;
		else if (!strcmp(k, "ksvc")) g_ksvc = !!v;
	}
	fclose(fp);
	if (S->nsl < 1 || S->nsl > 3 || S->pics < 1 || S->pics > MAX_PICS)
		die("%s: bad info", path);
	snprintf(path, sizeof(path), "%s/sent.bin", dir);
	if (!(fp = fopen(path, "rb")))
		die("%s: %s", path, strerror(errno));
	while (fread(&r, sizeof(r), 1, fp) == 1) {
		if (S->n == cap) {
			cap = cap ? cap * 2 : 1024;
			S->rec = realloc(S->rec, cap * sizeof(*S->rec));
			S->pkt = realloc(S->pkt, cap * sizeof(*S->pkt));
			if (!S->rec || !S->pkt)
				die("oom");
		}
		S->rec[S->n] = r;
		S->pkt[S->n] = malloc(r.len);
		if (!S->pkt[S->n] || fread(S->pkt[S->n], r.len, 1, fp) != 1)
			die("%s: truncated", path);
		S->n++;
	}
	fclose(fp);
	S->byhash = calloc(S->n, sizeof(*S->byhash));
	S->first_pkt = calloc((size_t)S->pics * S->nsl, sizeof(int));
	S->n_pkt = calloc((size_t)S->pics * S->nsl, sizeof(int));
	S->kind = calloc(S->pics, sizeof(int));
	if (!S->byhash || !S->first_pkt || !S->n_pkt || !S->kind)
		die("oom");
	for (int k = 0; k < S->n; k++) {
		struct rtp_view v;
		int f = S->rec[k].pic * S->nsl + S->rec[k].sid;

		if (rtp_parse(S->pkt[k], S->rec[k].len, &v))
			die("sent packet %d unparsable", k);
		S->byhash[k].h = fnv(FNV0, v.payload, v.payload_len);
		S->byhash[k].k = k;
		if (!S->n_pkt[f]++)
			S->first_pkt[f] = k;
		S->kind[S->rec[k].pic] = S->rec[k].kind;
		for (int dt = 0; dt < S->nsl * NTL; dt++)
			if ((S->rec[k].dtis >> (2 * dt)) & 3)
				S->ref_sids[dt][S->rec[k].pic] |= 1 << S->rec[k].sid;
	}
	qsort(S->byhash, S->n, sizeof(*S->byhash), cmp_hash);
	snprintf(path, sizeof(path), "%s/refs.txt", dir);
	if (!(fp = fopen(path, "r")))
		die("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), fp)) {
		int p, dt, w, h;
		unsigned long long hv;

		if (sscanf(line, "ref %d %d %llx %d %d", &p, &dt, &hv, &w, &h) != 5 || p < 0 ||
		    p >= S->pics || dt < 0 || dt >= S->nsl * NTL)
			die("%s: bad line", path);
		S->ref_ok[dt][p] = 1;
		S->ref_hash[dt][p] = hv;
		S->ref_w[dt][p] = w;
		S->ref_h[dt][p] = h;
	}
	fclose(fp);
	for (int dt = 0; dt < S->nsl * NTL; dt++)
		for (int p = 0; p < S->pics; p++)
			if (S->ref_ok[dt][p] != !!S->ref_sids[dt][p] ||
			    (S->ref_sids[dt][p] && !(S->ref_sids[dt][p] >> (dt / NTL) & 1)))
				die("%s: dt %d picture %d: references and the sent DTIs disagree", path, dt, p);
}

static int find_sent(const struct sent *S, const struct rtp_view *v)
{
	uint64_t h = fnv(FNV0, v->payload, v->payload_len);
	int lo = 0, hi = S->n;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (S->byhash[mid].h < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < S->n && S->byhash[lo].h == h; lo++) {
		int k = S->byhash[lo].k;
		struct rtp_view sv;

		rtp_parse(S->pkt[k], S->rec[k].len, &sv);
		if (sv.payload_len == v->payload_len && !memcmp(sv.payload, v->payload, v->payload_len))
			return k;
	}
	return -1;
}

/* Findings: counted per kind, the first few printed. */
static int g_fail;
static const char *g_name = "?";

static void fail(const char *fmt, ...)
{
	va_list ap;

	if (++g_fail > 40)
		return;
	printf("  %s FAIL: ", g_name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

struct pic_got {
	int got;                 /* packets received */
	int first_rx, last_rx;   /* receive index range */
	int sids;                /* bitmask of complete layer frames */
	int partial;             /* bitmask of incomplete ones */
	int decoded;
	uint64_t hash;
	int w, h;
};

struct sw { int pic, dt; };

static int dt_s(int dt) { return dt / NTL; }
static int dt_t(int dt) { return dt % NTL; }

/* The first picture at or after `from` where a receiver may move from decode target a to b:
 * down at once; spatially up at a keyframe; temporally up where the DTI for b of the picture's
 * frame of b's spatial layer is SWITCH. K-SVC: spatially down at a keyframe too (a higher layer's
 * receiver has none of the lower layer's delta frames). */
static int switch_point(const struct sent *S, int from, int a, int b)
{
	for (int p = from; p < S->pics; p++) {
		int k = S->first_pkt[p * S->nsl + dt_s(b)];
		int dti = (S->rec[k].dtis >> (2 * b)) & 3;

		if ((dt_s(b) > dt_s(a) || (g_ksvc && dt_s(b) != dt_s(a))) && S->kind[p] != K_KEY)
			continue;
		if (dt_t(b) > dt_t(a) && dti != DTI_SWITCH)
			continue;
		return p;
	}
	return S->pics;
}

/* Does the picture as received equal the reference of decode target dt? */
static int pic_is(const struct sent *S, const struct pic_got *g, int p, int dt)
{
	return S->ref_ok[dt][p] && g->decoded && g->sids == S->ref_sids[dt][p] &&
	       g->hash == S->ref_hash[dt][p] && g->w == S->ref_w[dt][p] && g->h == S->ref_h[dt][p];
}

static void check_exact(const struct sent *S, const struct pic_got *g, int p, int dt,
			const char *phase)
{
	int want = S->ref_ok[dt][p];

	if (want && !g->got)
		fail("%spicture %d (%s) missing: decode target %d (S%dT%d) needs it", phase, p,
		     kind_name[S->kind[p]], dt, dt_s(dt), dt_t(dt));
	else if (!want && g->got)
		fail("%spicture %d (%s, T%d) received: above decode target %d (S%dT%d)", phase, p,
		     kind_name[S->kind[p]], kind_tid[S->kind[p]], dt, dt_s(dt), dt_t(dt));
	else if (want && g->sids != S->ref_sids[dt][p])
		fail("%spicture %d (%s): layer frames received (mask %#x) are not those of decode "
		     "target %d (mask %#x)", phase, p, kind_name[S->kind[p]], g->sids, dt,
		     S->ref_sids[dt][p]);
	else if (want && !pic_is(S, g, p, dt))
		fail("%spicture %d: decoded %dx%d picture is not pixel-exact to the reference of "
		     "decode target %d (%dx%d)", phase, p, g->w, g->h, dt, S->ref_w[dt][p],
		     S->ref_h[dt][p]);
}

/* The decode target a receiver is on at picture p (its switches as issued), and the one before. */
static int dt_at(int dt0, const struct sw *sw, int nsw, int p)
{
	int dt = dt0;

	for (int i = 0; i < nsw && sw[i].pic <= p; i++)
		dt = sw[i].dt;
	return dt;
}

static int dt_before(int dt0, const struct sw *sw, int nsw, int p)
{
	int prev = dt0, dt = dt0;

	for (int i = 0; i < nsw && sw[i].pic <= p; i++) {
		prev = dt;
		dt = sw[i].dt;
	}
	return prev;
}

/* The active decode targets a receiver of decode target dt should be told: those all of whose
 * frames (by the structure's DTIs) it gets too. L3T3: those with sid and tid both at or below its
 * own; K-SVC: the lower temporal targets of its own spatial layer only. */
static uint32_t within(int dt, const struct dd_structure *st)
{
	uint32_t m = 0;

	for (int j = 0; j < st->dt_cnt; j++) {
		int in = 1;

		for (int t = 0; t < st->template_cnt; t++)
			if (st->dti[t][j] != DTI_NONE && st->dti[t][dt] == DTI_NONE)
				in = 0;
		if (in)
			m |= 1u << j;
	}
	return m;
}

static int bit_at(const uint8_t *b, size_t i)
{
	return b[i >> 3] >> (7 - (i & 7)) & 1;
}

/* Is the received descriptor r the sent one s but for its frame number and, where the sent one
 * carries the structure or a bitmask, the active decode targets bitmask (added after the structure
 * or rewritten) naming what decode target dt (or prev, a switch in flight) holds? */
static int dd_same_but_active(const uint8_t *r, size_t rlen, const uint8_t *s, size_t slen,
			      const struct dd_structure *st_before, int have_before, int dt, int prev)
{
	struct dd_structure st = *st_before, st2;
	struct dd_frame fr, fs;
	int have = have_before, have2 = have_before;

	if (rlen < 3 || slen < 3 || r[0] != s[0])
		return 0;
	st2 = *st_before;
	if (dd_parse(s, slen, &st2, &have2, &fs))
		return 0;
	if (rlen == slen && (slen == 3 || !memcmp(r + 3, s + 3, slen - 3))) {
		/* as sent (frame number aside): right unless it tells this receiver about decode
		 * targets it does not get */
		if (!fs.has_structure && !fs.has_active)
			return 1;
		return fs.active == within(dt, &st2) || fs.active == within(prev, &st2);
	}
	if (dd_parse(r, rlen, &st, &have, &fr) || !fr.has_active || !(fs.has_structure || fs.has_active))
		return 0;
	if (fr.active != within(dt, &st) && fr.active != within(prev, &st))
		return 0;
	if (fs.has_active)                              /* rewritten in place */
		return rlen == slen && fs.active_pos == fr.active_pos;
	/* inserted: bits before it equal (frame number aside, the present flag set), after it moved */
	size_t at = fr.active_pos, n = (size_t)st.dt_cnt;
	for (size_t i = 24; i < at; i++)
		if (bit_at(r, i) != (i == 25 ? 1 : bit_at(s, i)))
			return 0;
	for (size_t i = at; i < slen * 8; i++)
		if (bit_at(r, i + n) != bit_at(s, i))
			return 0;
	for (size_t i = slen * 8 + n; i < rlen * 8; i++)
		if (bit_at(r, i))
			return 0;
	return rlen == (slen * 8 + n + 7) / 8;
}

static int cmd_check(int argc, char **argv)
{
	static struct sent S;
	static struct pic_got G[MAX_PICS];
	static uint8_t frag[1 << 20], tu[1 << 20];
	const char *dir = NULL, *recv = NULL;
	int dt0 = -1, settle = 10, slack = 8, nsw = 0;
	struct sw sw[16];
	uint8_t **rx = NULL;
	size_t *rxlen = NULL;
	int nrx = 0, cap = 0;
	FILE *fp;

	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			die("%s needs a value", a);
		if (!strcmp(a, "--dir")) dir = v;
		else if (!strcmp(a, "--recv")) recv = v;
		else if (!strcmp(a, "--name")) g_name = v;
		else if (!strcmp(a, "--dt")) dt0 = atoi(v);
		else if (!strcmp(a, "--settle")) settle = atoi(v);
		else if (!strcmp(a, "--slack")) slack = atoi(v);
		else if (!strcmp(a, "--switch")) {
			const char *q = v;

			while (*q && nsw < 16) {
				if (sscanf(q, "%d:%d", &sw[nsw].pic, &sw[nsw].dt) != 2)
					die("bad --switch");
				nsw++;
				q = strchr(q, ',');
				if (!q)
					break;
				q++;
			}
		} else die("unknown option %s", a);
		i++;
	}
	if (!dir || !recv || dt0 < 0)
		die("check needs --dir, --recv and --dt");
	load_sent(dir, &S);
	if (dt0 >= S.nsl * NTL)
		die("decode target %d out of range", dt0);
	for (int i = 0; i < nsw; i++)
		if (sw[i].dt < 0 || sw[i].dt >= S.nsl * NTL || (i && sw[i].pic < sw[i - 1].pic))
			die("bad --switch");
	if (!(fp = fopen(recv, "rb")))
		die("%s: %s", recv, strerror(errno));
	for (;;) {
		uint8_t l[4];
		size_t len;

		if (fread(l, 4, 1, fp) != 1)
			break;
		len = l[0] | l[1] << 8 | l[2] << 16 | (size_t)l[3] << 24;
		if (len > 65536)
			die("%s: bad record", recv);
		if (nrx == cap) {
			cap = cap ? 2 * cap : 1024;
			rx = realloc(rx, cap * sizeof(*rx));
			rxlen = realloc(rxlen, cap * sizeof(*rxlen));
			if (!rx || !rxlen)
				die("oom");
		}
		rx[nrx] = malloc(len ? len : 1);
		if (!rx[nrx] || (len && fread(rx[nrx], len, 1, fp) != 1))
			die("%s: truncated", recv);
		rxlen[nrx++] = len;
	}
	fclose(fp);

	/* ---- per packet: identity, header fields, extensions, descriptor ---- */
	int *which = calloc(nrx ? nrx : 1, sizeof(int));
	int *seen = calloc(S.n, sizeof(int));
	struct dd_structure rst = { 0 };
	int have_st = 0, have_ts = 0, have_fn = 0, prev_k = -1, cuts = 0;
	uint32_t ts_off = 0;
	uint16_t fn_off = 0, prev_seq = 0;

	if (!which || !seen)
		die("oom");
	for (int i = 0; i < nrx; i++) {
		struct rtp_view v, sv;
		const struct rtp_ext_el *e, *se;
		struct dd_frame f;
		int k;

		which[i] = -1;
		if (rtp_parse(rx[i], rxlen[i], &v)) {
			fail("received packet %d is not RTP", i);
			continue;
		}
		k = find_sent(&S, &v);
		if (k < 0) {
			fail("received packet %d (seq %u): payload equals no packet sent", i, v.seq);
			continue;
		}
		if (seen[k]++) {
			fail("sent packet %d received twice", k);
			continue;
		}
		which[i] = k;
		rtp_parse(S.pkt[k], S.rec[k].len, &sv);
		if (v.ssrc != S.ssrc || v.pt != S.pt)
			fail("packet %d: SSRC %u PT %d, want %u %d", i, v.ssrc, v.pt, S.ssrc, S.pt);
		if (!have_ts) {
			ts_off = v.ts - sv.ts;
			have_ts = 1;
		} else if (v.ts - sv.ts != ts_off) {
			fail("packet %d (picture %d): timestamp offset %d, was %d", i, S.rec[k].pic,
			     (int)(v.ts - sv.ts), (int)ts_off);
			ts_off = v.ts - sv.ts;
		}
		if (i > 0 && (uint16_t)(v.seq - prev_seq) != 1) {
			if (prev_k >= 0 && !(S.rec[prev_k].flags & F_END))
				cuts++;   /* a gap after a cut frame is allowed; the frame is incomplete */
			else
				fail("packet %d (picture %d S%d): sequence number %u after %u", i,
				     S.rec[k].pic, S.rec[k].sid, v.seq, prev_seq);
		}
		prev_seq = v.seq;
		prev_k = k;
		e = rtp_ext_find(&v, S.abs_id);
		se = rtp_ext_find(&sv, S.abs_id);
		if (!e || e->len != se->len || memcmp(rx[i] + e->off, S.pkt[k] + se->off, se->len))
			fail("packet %d (picture %d S%d): extension element %d not received unchanged",
			     i, S.rec[k].pic, S.rec[k].sid, S.abs_id);
		e = rtp_ext_find(&v, S.dd_id);
		se = rtp_ext_find(&sv, S.dd_id);
		if (!e) {
			fail("packet %d (picture %d S%d): no Dependency Descriptor", i, S.rec[k].pic,
			     S.rec[k].sid);
			continue;
		}
		if (!dd_same_but_active(rx[i] + e->off, e->len, S.pkt[k] + se->off, se->len, &rst, have_st,
					dt_at(dt0, sw, nsw, S.rec[k].pic), dt_before(dt0, sw, nsw, S.rec[k].pic)))
			fail("packet %d (picture %d S%d): descriptor is not the one sent with this "
			     "receiver's active decode targets (frame number aside)", i, S.rec[k].pic,
			     S.rec[k].sid);
		if (dd_parse(rx[i] + e->off, e->len, &rst, &have_st, &f)) {
			fail("packet %d (picture %d S%d): descriptor does not parse%s", i, S.rec[k].pic,
			     S.rec[k].sid, have_st ? "" : " (no structure received before it)");
			continue;
		}
		if (f.sid != S.rec[k].sid || f.tid != S.rec[k].tid ||
		    f.start != !!(S.rec[k].flags & F_START) || f.end != !!(S.rec[k].flags & F_END))
			fail("packet %d (picture %d): descriptor says S%dT%d start %d end %d, sent S%dT%d",
			     i, S.rec[k].pic, f.sid, f.tid, f.start, f.end, S.rec[k].sid, S.rec[k].tid);
		if (!have_fn || (f.has_structure && (S.rec[k].flags & F_KEY))) {
			fn_off = f.frame_number - S.rec[k].fn;   /* may be rebased at a keyframe */
			have_fn = 1;
		} else if ((uint16_t)(f.frame_number - S.rec[k].fn) != fn_off) {
			fail("packet %d (picture %d S%d): frame number %d, sent %d: offset %d, was %d", i,
			     S.rec[k].pic, S.rec[k].sid, f.frame_number, S.rec[k].fn,
			     (uint16_t)(f.frame_number - S.rec[k].fn), fn_off);
			fn_off = f.frame_number - S.rec[k].fn;
		}
	}

	/* ---- per picture: grouping, completeness, marker, depacketize, decode ---- */
	memset(G, 0, sizeof(G));
	{
		int last_pic = -1;

		for (int i = 0; i < nrx; i++) {
			int k = which[i], p;

			if (k < 0)
				continue;
			p = S.rec[k].pic;
			if (G[p].got && p != last_pic)
				fail("picture %d: its packets did not arrive together", p);
			if (last_pic >= 0 && p < last_pic && p != last_pic)
				fail("picture %d arrived after picture %d", p, last_pic);
			if (!G[p].got)
				G[p].first_rx = i;
			G[p].got++;
			G[p].last_rx = i;
			last_pic = p;
		}
	}
	struct av1_depack d = { .frag = frag, .frag_cap = sizeof(frag), .tu = tu,
				.tu_cap = sizeof(tu) };
	aom_codec_ctx_t dec;
	int started = 0, decoded = 0;

	dec_open(&dec);
	for (int p = 0; p < S.pics; p++) {
		struct pic_got *g = &G[p];
		int top = -1, prevk = -1, bad = 0, nf;

		if (!g->got)
			continue;
		for (int s = 0; s < S.nsl; s++) {
			int f = p * S.nsl + s, n = 0;

			for (int j = 0; j < S.n_pkt[f]; j++)
				n += seen[S.first_pkt[f] + j] > 0;
			if (n == S.n_pkt[f])
				g->sids |= 1 << s;
			else if (n)
				g->partial |= 1 << s;
		}
		if (g->partial)
			fail("picture %d: incomplete layer frames (mask %#x)%s", p, g->partial,
			     cuts ? " (cut)" : "");
		for (int s = 0; s < S.nsl; s++)
			if (g->sids & (1 << s))
				top = s;
		depack_tu_begin(&d);
		for (int i = g->first_rx; i <= g->last_rx; i++) {
			int k = which[i];
			struct rtp_view v;
			int want_m;

			if (k < 0 || S.rec[k].pic != p)
				continue;
			rtp_parse(rx[i], rxlen[i], &v);
			want_m = S.rec[k].sid == top && (S.rec[k].flags & F_END);
			if (v.marker != want_m)
				fail("picture %d S%d packet: marker %d, want %d (last packet of the highest "
				     "layer frame received, S%d)", p, S.rec[k].sid, v.marker, want_m, top);
			if (prevk >= 0 && k < prevk)
				fail("picture %d: packets reordered", p);
			prevk = k;
			if (!(g->sids & (1 << S.rec[k].sid)) || bad)
				continue;   /* a receiver does not decode a partial layer frame */
			if (depack_payload(&d, v.payload, v.payload_len, &nf)) {
				fail("picture %d S%d: depacketization failed: %s", p, S.rec[k].sid, d.err);
				bad = 1;
			}
			if (nf && S.kind[p] != K_KEY)
				fail("picture %d: N=1 outside a keyframe", p);
		}
		if (bad || !g->sids)
			continue;
		if (!started && S.kind[p] != K_KEY) {
			fail("picture %d: first picture received is not a keyframe", p);
		}
		started = 1;
		{
			const char *err = NULL;
			int n = dec_tu(&dec, tu, d.tu_len, &g->hash, &g->w, &g->h, &err);

			if (n < 0)
				fail("picture %d: decoder error: %s", p, err);
			else if (n != 1)
				fail("picture %d: decoder output %d pictures for one temporal unit", p, n);
			else {
				g->decoded = 1;
				decoded++;
			}
		}
	}
	aom_codec_destroy(&dec);

	/* ---- the pictures against the decode target(s) ---- */
	int expected = 0;

	if (!nsw) {
		for (int p = 0; p < S.pics; p++) {
			expected += S.ref_ok[dt0][p];
			check_exact(&S, &G[p], p, dt0, "");
		}
	} else {
		int dl[17];
		struct sw ev[17];

		ev[0].pic = 0;
		ev[0].dt = dt0;
		for (int i = 0; i < nsw; i++)
			ev[i + 1] = sw[i];
		dl[0] = 0;
		for (int i = 1; i <= nsw; i++) {
			int sp = switch_point(&S, ev[i].pic + settle, ev[i - 1].dt, ev[i].dt);

			dl[i] = sp + slack;
			if (sp >= S.pics || (i < nsw && dl[i] >= ev[i + 1].pic))
				fail("schedule: no valid switching point for the switch to dt %d at picture "
				     "%d before the next one (first %d)", ev[i].dt, ev[i].pic, sp);
		}
		for (int p = 0; p < S.pics; p++) {
			int k = 0;
			char ph[64];

			while (k < nsw && ev[k + 1].pic <= p)
				k++;
			if (k == 0 || p >= dl[k]) {
				snprintf(ph, sizeof(ph), "[at dt %d] ", ev[k].dt);
				expected += S.ref_ok[ev[k].dt][p];
				check_exact(&S, &G[p], p, ev[k].dt, ph);
				continue;
			}
			/* switching from ev[k-1].dt to ev[k].dt: any target between them, pixel-exact */
			{
				int a = ev[k - 1].dt, b = ev[k].dt, ok = 0;
				int ms = dt_s(a) > dt_s(b) ? dt_s(a) : dt_s(b);
				int mt = dt_t(a) > dt_t(b) ? dt_t(a) : dt_t(b);
				int nt = dt_t(a) < dt_t(b) ? dt_t(a) : dt_t(b);

				if (!G[p].got) {
					if (kind_tid[S.kind[p]] <= nt)
						fail("[dt %d->%d] picture %d (T%d) missing: both targets need it",
						     a, b, p, kind_tid[S.kind[p]]);
					continue;
				}
				for (int x = 0; x < S.nsl * NTL; x++)
					if (dt_s(x) <= ms && dt_t(x) <= mt && pic_is(&S, &G[p], p, x))
						ok = 1;
				if (!ok)
					fail("[dt %d->%d] picture %d: decoded %dx%d (layers %#x) equals the "
					     "reference of no decode target: corrupt", a, b, p, G[p].w, G[p].h,
					     G[p].sids);
			}
		}
		/* when each switch was seen: the first picture from which on the receiver got exactly
		 * the new target's pictures */
		for (int i = 1; i <= nsw; i++) {
			int end = i < nsw ? ev[i + 1].pic : S.pics, at = end;

			for (int p = end - 1; p >= ev[i].pic; p--) {
				int want = S.ref_ok[ev[i].dt][p];

				if ((want && !pic_is(&S, &G[p], p, ev[i].dt)) || (!want && G[p].got))
					break;
				at = p;
			}
			printf("  %s: switch to dt %d (S%dT%d) issued at picture %d, in effect from "
			       "picture %d (deadline %d)\n", g_name, ev[i].dt, dt_s(ev[i].dt),
			       dt_t(ev[i].dt), ev[i].pic, at, dl[i]);
		}
	}
	printf("%s: dt %d%s: %d packets, %d pictures decoded (expected %s%d), timestamp offset %d, "
	       "frame number offset %d%s: %s\n", g_name, dt0, nsw ? " with switches" : "", nrx,
	       decoded, nsw ? "~" : "", expected, (int)ts_off, fn_off,
	       cuts ? " (cut frames seen)" : "", g_fail ? "FAIL" : "PASS");
	if (g_fail > 40)
		printf("  %s: %d more findings not shown\n", g_name, g_fail - 40);
	return g_fail ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "encode"))
		return cmd_encode(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "check"))
		return cmd_check(argc, argv);
	fprintf(stderr, "usage: av1_svc encode --out DIR [...] | av1_svc check --dir DIR --recv FILE "
		"--name NAME --dt D [--switch PIC:DT,...]\n");
	return 2;
}
