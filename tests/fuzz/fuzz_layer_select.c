/*
 * fuzz_layer_select.c - libFuzzer target for the layer selector (lib/select/layer_select.c): VP8 through
 * layer_sel_vp8, and every codec and simulcast through layer_sel_video. The first input byte picks
 * a mode, the rest drives it:
 *
 *  0  raw: arbitrary descriptors, sequence numbers, timestamps and targets, packet by packet.
 *     Checks: nothing is forwarded before a keyframe went in; PictureIDs stay within their width.
 *  1  in order: a well-formed VP8 sender (frames of 1-4 packets, any TID / Y / keyframe pattern)
 *     and three receivers whose targets change at any packet. Checks what a decoder needs: one
 *     decision per frame, contiguous output sequence numbers, continuous PictureIDs, and that
 *     every forwarded frame references only frames the receiver got (a Y=0 frame of layer t uses
 *     the latest frames of layers 0..t, a Y=1 frame the latest TL0 frame, a keyframe nothing).
 *  2  lossy: the same sender, delivered with losses, swaps, late packets and duplicates.
 *     Checks: an output sequence number always stands for the same input packet and the other way
 *     round, every forwarded packet of a frame carries the same PictureID and distinct frames
 *     distinct ones, nothing before a keyframe.
 *  3  media: layer_sel_video on arbitrary media_pkt sequences (VP8, VP9, AV1 or H.264; up to three
 *     simulcast encodings, each with its own increasing sequence numbers, with losses, late and
 *     duplicated packets), target changes and allocation words (LAYER_ALLOC_NONE / PAUSED / a
 *     target) at any packet. Checks: LAYER_SEL_PAUSED exactly while paused; nothing of an encoding is
 *     forwarded before one of its keyframe starts went in; an output sequence number always stands
 *     for the same input packet (encoding, seq), and between encoding switches the other way round
 *     too; the current layers stay within the limits; PictureIDs stay within their width.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layer_select.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s (line %d)\n", #c, __LINE__); \
			abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
	const uint8_t *p;
	size_t n;
};

static bool take(struct input *in, uint8_t *b)
{
	if (in->n == 0)
		return false;
	*b = *in->p++;
	in->n--;
	return true;
}

/* ---- mode 0: raw packets ------------------------------------------------------------------- */

static void run_raw(struct input *in)
{
	struct layer_sel sel, audio;
	bool key_seen = false;
	uint8_t b[6];
	uint16_t seq = 0;

	layer_sel_init(&sel);
	layer_sel_init(&audio);
	for (;;) {
		struct rtp_info ri;
		struct vp8_desc d;
		struct layer_out o;
		int i;

		for (i = 0; i < 6; i++)
			if (!take(in, &b[i]))
				return;
		memset(&ri, 0, sizeof(ri));
		memset(&d, 0, sizeof(d));
		seq = b[0] & 0x80 ? (uint16_t)(b[2] << 8 | b[3]) : (uint16_t)(seq + (int8_t)b[2]);
		ri.seq = seq;
		ri.ts = (uint32_t)b[4] * 3000u;
		d.frame_start = d.start = b[0] & 1;
		d.keyframe = d.frame_start && (b[0] & 2);
		d.has_tid = (b[0] >> 2) & 1;
		d.tid = d.has_tid ? b[1] & 3 : 0;
		d.layer_sync = d.has_tid ? (b[1] >> 2) & 1 : 0;
		d.has_picture_id = (b[0] >> 3) & 1;
		d.picture_id_16 = d.has_picture_id && ((b[0] >> 4) & 1);
		if (d.has_picture_id)
			d.picture_id = (uint16_t)((b[5] << 7 | b[3]) & (d.picture_id_16 ? 0x7fff : 0x7f));
		d.has_tl0picidx = (b[0] >> 5) & 1;
		d.tl0picidx = d.has_tl0picidx ? b[5] : 0;
		key_seen |= d.keyframe;
		if (layer_sel_vp8(&sel, (uint8_t)(b[1] >> 3), &ri, &d, &o)) {
			CHECK(key_seen);
			CHECK(o.picture_id <= (d.picture_id_16 ? 0x7fff : 0x7f));
			CHECK(d.has_tl0picidx || o.tl0picidx == 0);
		}
		CHECK(sel.cur_tid <= 3);
		CHECK(layer_sel_passthrough(&audio, &ri, &o) == 1 && o.seq == ri.seq);
	}
}

/* ---- a well-formed sender ------------------------------------------------------------------ */

#define MAX_PKTS 4

struct sender {
	uint16_t seq, pid;
	uint32_t ts;
	uint8_t  tl0;
	bool     pid7, started;
};

struct frame {
	int tid, y, key, n, index;
	struct rtp_info ri[MAX_PKTS];
	struct vp8_desc d[MAX_PKTS];
};

/* One frame from one byte: TID, Y, keyframe (1 in 8), packets; same timestamp as the previous
 * frame when same_ts. */
static void make_frame(struct sender *s, struct frame *f, uint8_t b, bool same_ts)
{
	uint16_t mask = s->pid7 ? 0x7f : 0x7fff;

	f->tid = b & 3;
	f->y = f->tid ? (b >> 2) & 1 : 0;
	f->key = ((b >> 3) & 7) == 0;
	f->n = 1 + ((b >> 6) & 3);
	if (f->tid == 0 && s->started)
		s->tl0++;
	if (!same_ts || !s->started)
		s->ts += 3000;
	s->started = true;
	for (int i = 0; i < f->n; i++) {
		struct rtp_info *ri = &f->ri[i];
		struct vp8_desc *d = &f->d[i];

		memset(ri, 0, sizeof(*ri));
		memset(d, 0, sizeof(*d));
		ri->seq = s->seq++;
		ri->ts = s->ts;
		ri->marker = i == f->n - 1;
		d->start = d->frame_start = i == 0;
		d->keyframe = i == 0 && f->key;
		d->has_picture_id = 1;
		d->picture_id_16 = !s->pid7;
		d->picture_id = s->pid & mask;
		d->has_tl0picidx = 1;
		d->tl0picidx = s->tl0;
		d->has_tid = 1;
		d->tid = (uint8_t)f->tid;
		d->layer_sync = (uint8_t)f->y;
	}
	s->pid = (uint16_t)((s->pid + 1) & mask);
}

static void sender_init(struct sender *s, struct input *in)
{
	uint8_t a = 0, b = 0, c = 0;

	take(in, &a);
	take(in, &b);
	take(in, &c);
	memset(s, 0, sizeof(*s));
	s->seq = (uint16_t)(a << 8 | b);      /* anywhere, near the wrap included */
	s->pid7 = c & 1;
	s->pid = (uint16_t)((c & 0xfe) << 7 | a);
	s->pid &= s->pid7 ? 0x7f : 0x7fff;
	s->ts = (uint32_t)b << 24;
}

/* ---- mode 1: in order, no loss; decodability ----------------------------------------------- */

#define N_RX 3

struct receiver {
	struct layer_sel sel;
	uint8_t  target;
	bool     have_out, ok[4];
	uint16_t last_seq, last_pid;
};

static void run_in_order(struct input *in)
{
	struct sender s;
	struct receiver rx[N_RX];
	struct frame f;
	uint8_t fb, tb;

	sender_init(&s, in);
	memset(rx, 0, sizeof(rx));
	for (int k = 0; k < N_RX; k++) {
		layer_sel_init(&rx[k].sel);
		rx[k].target = (uint8_t)k;
	}
	while (take(in, &fb) && take(in, &tb)) {
		make_frame(&s, &f, fb, false);
		for (int k = 0; k < N_RX; k++) {
			struct receiver *r = &rx[k];
			int fwd = -1;

			for (int i = 0; i < f.n; i++) {
				struct layer_out o;
				int got;

				/* tb: bit 7 set = receiver (tb>>5)&3 gets target tb&7 before packet tb>>3&3 */
				if ((tb & 0x80) && ((tb >> 5) & 3) == k && ((tb >> 3) & 3) == i)
					r->target = tb & 7;
				got = layer_sel_vp8(&r->sel, r->target, &f.ri[i], &f.d[i], &o);
				if (fwd < 0)
					fwd = got;
				CHECK(got == fwd);
				if (!got)
					continue;
				if (r->have_out)
					CHECK(o.seq == (uint16_t)(r->last_seq + 1));
				if (r->have_out && i == 0)
					CHECK(o.picture_id == ((r->last_pid + 1) & (s.pid7 ? 0x7f : 0x7fff)));
				if (i > 0)
					CHECK(o.picture_id == r->last_pid);
				CHECK(o.tl0picidx == f.d[i].tl0picidx);
				r->have_out = true;
				r->last_seq = o.seq;
				r->last_pid = o.picture_id;
			}
			if (f.key) {
				for (int t = 0; t < 4; t++)
					r->ok[t] = fwd;
			} else {
				bool dec = r->ok[0];

				for (int t = 1; !f.y && t <= f.tid; t++)
					dec = dec && r->ok[t];
				CHECK(!fwd || dec);
				r->ok[f.tid] = fwd && dec;
			}
		}
	}
}

/* ---- mode 2: losses, reordering, duplicates ------------------------------------------------ */

#define MAX_FRAMES 256
#define MAX_REC    1024

struct fwd_rec {
	uint16_t in_seq, out_seq;
};

static void run_lossy(struct input *in)
{
	static struct frame frames[MAX_FRAMES];
	static struct fwd_rec rec[MAX_REC];
	static int frame_pid[MAX_FRAMES];      /* out PictureID of each frame, -1 none yet */
	struct sender s;
	struct layer_sel sel;
	int n_frames = 0, n_rec = 0, total = 0;
	int frame_of[MAX_FRAMES * MAX_PKTS], pkt_of[MAX_FRAMES * MAX_PKTS];
	uint8_t b, target = 3, cfg = 0;
	bool key_in = false;

	sender_init(&s, in);
	s.pid7 = false;                        /* 15 bits: distinct frames keep distinct ids here */
	take(in, &cfg);
	/* frames: until a 0xff byte or MAX_FRAMES */
	while (n_frames < MAX_FRAMES && take(in, &b) && b != 0xff) {
		make_frame(&s, &frames[n_frames], b, (cfg & 1) && (b & 0x20) && n_frames > 0);
		for (int i = 0; i < frames[n_frames].n; i++) {
			frame_of[total] = n_frames;
			pkt_of[total] = i;
			total++;
		}
		frame_pid[n_frames] = -1;
		n_frames++;
	}
	layer_sel_init(&sel);

	/* delivery script */
	int cursor = 0;

	while (cursor < total && take(in, &b)) {
		int idx[2], n_idx = 0;

		switch (b & 7) {
		case 0: case 1: case 2: case 3:        /* deliver the next */
			idx[n_idx++] = cursor++;
			break;
		case 4:                                /* lose the next */
			cursor++;
			break;
		case 5:                                /* swap the next two */
			if (cursor + 1 < total)
				idx[n_idx++] = cursor + 1;
			idx[n_idx++] = cursor;
			cursor += 2;
			if (cursor > total)
				cursor = total;
			break;
		case 6:                                /* a late or duplicated packet */
			if (cursor > 0) {
				int back = 1 + ((b >> 3) & 15);

				idx[n_idx++] = cursor - (back > cursor ? cursor : back);
			}
			break;
		default:                               /* change the target */
			target = (uint8_t)((b >> 3) & 3);
			break;
		}
		for (int j = 0; j < n_idx; j++) {
			int fi = frame_of[idx[j]], pi = pkt_of[idx[j]];
			const struct rtp_info *ri = &frames[fi].ri[pi];
			const struct vp8_desc *d = &frames[fi].d[pi];
			struct layer_out o;

			int fwd;

			key_in |= d->keyframe;
			fwd = layer_sel_vp8(&sel, target, ri, d, &o);
#ifdef FUZZ_TRACE
			fprintf(stderr, "frame %d pkt %d seq %u ts %u tid %d y %d key %d start %d target %u"
				" -> %d out seq %u pid %u (off %u)\n", fi, pi, ri->seq, ri->ts, d->tid,
				d->layer_sync, d->keyframe, d->frame_start, target, fwd, fwd ? o.seq : 0,
				fwd ? o.picture_id : 0, sel.seq_offset);
#endif
			if (!fwd)
				continue;
			CHECK(key_in);
			for (int r = 0; r < n_rec; r++) {
				CHECK((rec[r].in_seq == ri->seq) == (rec[r].out_seq == o.seq));
			}
			if (n_rec < MAX_REC)
				rec[n_rec++] = (struct fwd_rec){ ri->seq, o.seq };
			if (frame_pid[fi] < 0) {
				for (int g = 0; g < n_frames; g++)
					CHECK(g == fi || frame_pid[g] != o.picture_id);
				frame_pid[fi] = o.picture_id;
			}
			CHECK(frame_pid[fi] == o.picture_id);
		}
	}
}


/* ---- mode 3: layer_sel_video on arbitrary media packets ------------------------------------- */

#define HIST 16

struct msender {
	uint16_t seq, pid, fn;
	uint32_t ts;
	uint8_t tl0;
	bool key_in;       /* a keyframe start of this encoding went in */
};

struct mrec {
	uint8_t enc;
	uint16_t in_seq, out_seq;
	int epoch;         /* encoding switches before it */
};

static void run_media(struct input *in)
{
	static struct mrec rec[MAX_REC];
	static struct pkt3 { struct rtp_info ri; struct media_pkt mp; } hist[HIST];
	struct msender snd[MEDIA_MAX_ENCODINGS];
	struct layer_sel sel;
	struct layer_target t = { 2, 3, 31, 0 };
	uint8_t cfg = 0, b, d, e, f;
	int n_rec = 0, n_hist = 0, n_enc, codec, epoch = 0;
	uint8_t cur_enc = 0;
	uint32_t arrival = 0;
	static const uint8_t codecs[4] = { MMR_CODEC_VP8, MMR_CODEC_VP9, MMR_CODEC_AV1, MMR_CODEC_H264 };

	take(in, &cfg);
	codec = codecs[cfg & 3];
	n_enc = 1 + (cfg >> 2) % MEDIA_MAX_ENCODINGS;
	for (int i = 0; i < MEDIA_MAX_ENCODINGS; i++)
		snd[i] = (struct msender){ .seq = (uint16_t)(cfg * 257 + i * 20000), .pid = (uint16_t)(i * 999),
					   .fn = (uint16_t)(65500 + i * 7), .ts = (uint32_t)i << 28 };
	layer_sel_init(&sel);
	while (take(in, &b)) {
		struct pkt3 p;
		struct layer_out o;
		int fwd;

		arrival += b & 0xf0;
		if ((b & 7) == 6) {                        /* target change */
			if (!take(in, &d))
				return;
			t.encoding = (uint8_t)((d & 3) % (n_enc + 1));  /* may name one that never comes */
			t.sid = (d >> 2) & 3;
			t.tid = (d >> 4) & 7;
			t.dt = (uint8_t)(d >> 2);
			if (b & 8) {                       /* the allocation word too (issue 12) */
				uint16_t w = (b & 16) ? (uint16_t)LAYER_ALLOC_PAUSED : (b & 32) ? (uint16_t)LAYER_ALLOC_NONE :
					     layer_alloc_word(&(struct layer_target){ .sid = (uint8_t)(d & 3),
							.tid = (uint8_t)(d >> 2 & 3), .dt = (uint8_t)(d >> 3),
							.encoding = (uint8_t)(d >> 6 & 3) });
				CHECK(layer_sel_alloc_set(&sel, w) == 0);
			}
			continue;
		}
		if ((b & 7) == 5) {                        /* a late or duplicated packet */
			if (n_hist == 0)
				continue;
			p = hist[(n_hist - 1 - ((b >> 3) % (n_hist < HIST ? n_hist : HIST))) % HIST];
		} else {
			struct msender *sn;
			int enc = (b >> 3) % n_enc;

			if (!take(in, &d) || !take(in, &e) || !take(in, &f))
				return;
			sn = &snd[enc];
			if ((b & 7) == 7)                  /* lost in the network */
				sn->seq++;
			memset(&p, 0, sizeof(p));
			p.mp.codec = (uint8_t)codec;
			p.mp.encoding = (uint8_t)enc;
			p.mp.start = d & 1;
			p.mp.end = (d >> 1) & 1;
			p.mp.sid = (d >> 3) & 3;
			p.mp.tid = (uint8_t)(((d >> 5) & 3) + ((e & 0x80) && (e & 0x40) ? 3 : 0));
			p.mp.keyframe = ((d >> 2) & 1) && (codec != MMR_CODEC_VP9 || p.mp.sid == 0);
			p.mp.has_layers = codec != MMR_CODEC_H264 && !(e & 0x40 && !(e & 0x80));
			p.mp.switch_up = e & 1;
			p.mp.inter_pic = (e >> 1) & 1 && !p.mp.keyframe;
			p.mp.inter_layer = (e >> 2) & 1;
			if (p.mp.start && (p.mp.sid == 0 || (e & 8))) {   /* a new picture */
				sn->ts += 3000;
				sn->pid = (uint16_t)((sn->pid + 1) & 0x7fff);
				if (p.mp.tid == 0)
					sn->tl0++;
			}
			if (p.mp.start)
				sn->fn = (uint16_t)(sn->fn + 1 + ((e >> 4) & 1));
			p.ri.seq = sn->seq++;
			p.ri.ts = sn->ts;
			p.ri.marker = p.mp.end && (f & 1);
			if (codec == MMR_CODEC_VP8 || codec == MMR_CODEC_VP9) {
				p.mp.has_pid = 1;
				p.mp.pid_16 = 1;
				p.mp.picture_id = sn->pid;
				p.mp.has_tl0 = 1;
				p.mp.tl0picidx = sn->tl0;
			}
			if (codec == MMR_CODEC_AV1) {
				p.mp.frame_number = sn->fn;
				p.mp.n_dts = (uint8_t)(f >> 3);     /* 0..31: 0 is no structure */
				p.mp.n_chains = (uint8_t)(e & 3);
				p.mp.active_dts = (f & 2) ? 0xffffffffu : (uint32_t)d * 0x01010101u;
				p.mp.dtis = (uint64_t)d * 0x0101010101010101ull ^ (uint64_t)e << 7 ^ (uint64_t)f << 29;
				p.mp.n_fdiffs = p.mp.keyframe ? 0 : (uint8_t)((f >> 2) & 3);
				for (int i = 0; i < p.mp.n_fdiffs; i++)
					p.mp.fdiff[i] = (uint8_t)(1 + ((e >> i) & 7));
				for (int i = 0; i < AV1_MAX_CHAINS; i++)
					p.mp.chain_fdiff[i] = (uint8_t)((d >> (i & 7)) & 3);
				for (int i = 0; i < AV1_MAX_DT; i++)
					p.mp.dt_chain[i] = (uint8_t)((i + f) & 3);
				p.mp.structure_attached = p.mp.keyframe;
			}
			sn->key_in |= p.mp.keyframe && p.mp.start;
			hist[n_hist % HIST] = p;
			n_hist++;
		}
		uint8_t was_rebase = sel.rebase;
		fwd = layer_sel_video(&sel, &t, &p.ri, &p.mp, arrival, &o);
		CHECK((fwd == LAYER_SEL_PAUSED) == (layer_sel_alloc(&sel) == LAYER_ALLOC_PAUSED));
		CHECK(fwd >= LAYER_SEL_PAUSED && fwd <= LAYER_SEL_FORWARD);
		if (was_rebase && !sel.rebase)
			epoch++;                           /* resumed: numbering continues anew */
#ifdef FUZZ_TRACE
		fprintf(stderr, "enc %d seq %u ts %u start %d end %d key %d sid %d tid %d fn %u t.enc %d sid %d"
			" tid %d -> %d out %u (cur enc %d sid %d tid %d off %u)\n", p.mp.encoding, p.ri.seq,
			p.ri.ts, p.mp.start, p.mp.end, p.mp.keyframe, p.mp.sid, p.mp.tid, p.mp.frame_number,
			t.encoding, t.sid, t.tid, fwd, fwd ? o.seq : 0, sel.encoding, sel.cur_sid, sel.cur_tid,
			sel.seq_offset);
#endif
		{
			struct layer_current c;

			layer_sel_current(&sel, &c);
			CHECK(c.sid <= 2 && c.tid <= 3 && c.encoding < MEDIA_MAX_ENCODINGS);
			CHECK(!sel.started || c.started);
		}
		if (sel.encoding != cur_enc) {
			cur_enc = sel.encoding;
			epoch++;
		}
		if (fwd <= 0)
			continue;
		CHECK(snd[p.mp.encoding].key_in);
		CHECK(p.mp.encoding == sel.encoding);
		CHECK(o.picture_id <= 0x7fff);
		for (int r = 0; r < n_rec; r++) {
			bool same_in = rec[r].enc == p.mp.encoding && rec[r].in_seq == p.ri.seq;

			/* never one number for two packets; between switches, one packet one number (a
			 * late keyframe of the target may switch again, and goes out under a new one) */
			if (rec[r].out_seq == o.seq)
				CHECK(same_in);
			if (same_in && rec[r].epoch == epoch)
				CHECK(rec[r].out_seq == o.seq);
		}
		if (n_rec < MAX_REC)
			rec[n_rec++] = (struct mrec){ p.mp.encoding, p.ri.seq, o.seq, epoch };
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	uint8_t mode;

	if (!take(&in, &mode))
		return 0;
	switch (mode % 4) {
	case 0:
		run_raw(&in);
		break;
	case 1:
		run_in_order(&in);
		break;
	case 2:
		run_lossy(&in);
		break;
	default:
		run_media(&in);
		break;
	}
	return 0;
}
