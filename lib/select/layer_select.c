/*
 * layer_select.c - the per-receiver layer selector of layer_select.h (the rules are listed there):
 * VP8 temporal layers, VP9 spatial and temporal layers, AV1 decode targets, H.264, simulcast, and
 * the pass-through used for audio.
 *
 * One core does what every codec shares: frame boundaries, the current and previous frame (their
 * first sequence number, timestamp, layer and decision, and the offsets the previous one was
 * forwarded with, to place its late packets exactly), and the running sequence / PictureID offsets.
 * Only the decision taken at a frame's first packet is per codec. The core is inlined into each
 * entry point with the codec as a constant, so the VP8 path carries no VP9/AV1 branches. Sequence
 * numbers compare modulo 2^16 by half range: a packet is newer when (int16_t)(seq - highest) > 0.
 * No allocation, no locks, a few branches per packet.
 */
#include "layer_select.h"

#include <string.h>

#define LS_MAX_TID (MEDIA_MAX_TEMPORAL - 1)
#define LS_MAX_SID (MEDIA_MAX_SPATIAL - 1)
#define LS_CODEC_OTHER 0     /* H.264 and anything else without layers */

#define ls_always_inline inline __attribute__((always_inline))
#define ls_unlikely(x) __builtin_expect(!!(x), 0)
#if defined(__clang__)
#define ls_noipa __attribute__((noinline))
#else
#define ls_noipa __attribute__((noinline, noipa))   /* keep the signature: dispatch is a jump */
#endif

_Static_assert(sizeof(struct layer_sel) <= 64, "struct layer_sel grew past one cache line");

/* The packet's fields, from its media_pkt. codec is a constant at every call site, so the codec
 * tests fold away. */
#define LS_SRC    int codec, const struct media_pkt *mp
#define IS_VP8    (codec == MMR_CODEC_VP8)
#define P_START   (mp->start)
#define P_KEY     (mp->keyframe && mp->start)
#define P_HAS_TID (mp->has_layers)
#define P_TID     (P_HAS_TID ? mp->tid : 0)
#define P_SYNC    (mp->switch_up)
#define P_HAS_PID (codec == MMR_CODEC_AV1 ? 0 : mp->has_pid)
#define P_PID16   (mp->pid_16)
#define P_PID     (mp->picture_id)
#define P_HAS_TL0 (codec == MMR_CODEC_AV1 ? 0 : mp->has_tl0)
#define P_TL0     (mp->tl0picidx)
/* the layer id a late packet must match: VP8 TID, VP9 SID/TID, AV1 frame number (low byte) */
#define P_ID      (IS_VP8 ? (uint8_t)P_TID : codec == MMR_CODEC_VP9 ? (uint8_t)(mp->sid << 3 | (mp->tid & 7)) : \
		   codec == MMR_CODEC_AV1 ? (uint8_t)mp->frame_number : 0)

static inline int16_t seq_diff(uint16_t a, uint16_t b)
{
	return (int16_t)(uint16_t)(a - b);
}

void layer_sel_init(struct layer_sel *s)
{
	memset(s, 0, sizeof(*s));
	s->alloc = LAYER_ALLOC_NONE;
}

/* ---- per-codec decisions at a frame's first packet ------------------------------------------ */

/* VP8: the temporal rules. Returns the decision. */
static ls_always_inline uint8_t decide_vp8(struct layer_sel *s, uint8_t target, const struct media_pkt *mp)
{
	if (P_KEY) {
		/* References nothing, refreshes all buffers: safe at any layer, straight to target. */
		s->dirty |= !s->started || s->cur_tid != target;
		s->started = 1;
		s->cur_tid = target;
		return 1;
	}
	if (!s->started)
		return 0;
	if (target < s->cur_tid) {
		s->cur_tid = target;
		s->dirty = 1;
	} else if (P_START && P_HAS_TID && P_SYNC && P_TID == s->cur_tid + 1 && P_TID <= target) {
		s->cur_tid = P_TID;
		s->dirty = 1;
	}
	return P_TID <= s->cur_tid;
}

/* VP9: new_pic when this layer frame is the first seen of its picture. */
static uint8_t decide_vp9(struct layer_sel *s, const struct layer_target *t, const struct media_pkt *mp,
			  int keyframe, int new_pic)
{
	uint8_t tsid = t->sid > LS_MAX_SID ? LS_MAX_SID : t->sid;
	uint8_t ttid = t->tid > LS_MAX_TID ? LS_MAX_TID : t->tid;
	uint8_t sid = mp->sid, tid = mp->tid;

	if (keyframe && sid <= LS_MAX_SID && tid <= LS_MAX_TID) {
		s->dirty |= !s->started || s->cur_sid != tsid || s->cur_tid != ttid;
		s->started = 1;
		s->cur_sid = tsid;
		s->cur_tid = ttid;
		s->pic_tfwd = 1;
		s->pic_sids = (uint8_t)(1u << sid);
		return 1;
	}
	if (!s->started)
		return 0;
	if (new_pic) {
		/* One temporal decision for the whole picture; spatial down-switch here too. A temporal
		 * down-switch waits while a spatial up-switch is pending (S0T2 -> S1T0, one step up the
		 * allocator's ladder: dropping to S0T0 at once until S1's switch point, up to a sync
		 * period, gave the receiver less than it had; the ladder's spatial layer never falls
		 * along it, so the layers kept meanwhile cost less than the target's). */
		if (ttid < s->cur_tid && tsid <= s->cur_sid) {
			s->cur_tid = ttid;
			s->dirty = 1;
		} else if (mp->start && mp->has_layers && mp->switch_up && tid == s->cur_tid + 1 &&
			   tid <= ttid) {
			s->cur_tid = tid;
			s->dirty = 1;
		}
		if (tsid < s->cur_sid) {
			s->cur_sid = tsid;
			s->dirty = 1;
		}
		s->pic_tfwd = tid <= s->cur_tid;
		s->pic_sids = 0;
		if (!s->pic_tfwd && mp->has_pid)
			s->pid_offset++;      /* the whole picture is withheld */
	}
	if (!s->pic_tfwd)
		return 0;
	/* Spatial up one layer: no reference to an earlier picture of its layer, its inter-layer
	 * reference (if any) went out in this picture, and a temporal layer the target keeps (later
	 * frames of the target's temporal layers may reference it). */
	if (mp->start && sid == s->cur_sid + 1 && sid <= tsid && tid <= ttid && !mp->inter_pic &&
	    (!mp->inter_layer || (s->pic_sids >> (sid - 1) & 1))) {
		s->cur_sid = sid;
		if (s->cur_tid > ttid)
			s->cur_tid = ttid;      /* the temporal down-switch that waited for this */
		s->dirty = 1;
	}
	if (sid > s->cur_sid)
		return 0;
	s->pic_sids |= (uint8_t)(1u << sid);
	return 1;
}

static inline unsigned av1_dti(const struct media_pkt *mp, unsigned dt)
{
	return (unsigned)(mp->dtis >> (2 * dt)) & 3;
}

/* Was frame fn forwarded (as far as the last 64 frame numbers tell)? */
static inline int av1_was_fwd(const struct layer_sel *s, uint16_t fn)
{
	uint16_t back = (uint16_t)(s->fn_base - fn);

	return back < 64 && (s->fwd_map >> back & 1);
}

/* Bit i of the result = bit 2i of x (x has bits at even positions only), for the first n_dts. */
static inline uint32_t av1_compact(uint64_t x, unsigned n_dts)
{
	x = (x | x >> 1) & 0x3333333333333333ull;
	x = (x | x >> 2) & 0x0f0f0f0f0f0f0f0full;
	x = (x | x >> 4) & 0x00ff00ff00ff00ffull;
	x = (x | x >> 8) & 0x0000ffff0000ffffull;
	x = (x | x >> 16) & 0x00000000ffffffffull;
	if (n_dts < 32)
		x &= (1ull << n_dts) - 1;
	return (uint32_t)x;
}

/* Would this frame be decodable by the receiver if forwarded: every fdiff reference went out? */
static int av1_refs_fwd(const struct layer_sel *s, const struct media_pkt *mp)
{
	uint16_t fn = mp->frame_number;
	unsigned n = mp->n_fdiffs < AV1_MAX_FDIFFS ? mp->n_fdiffs : AV1_MAX_FDIFFS;

	for (unsigned i = 0; i < n; i++)
		if (!mp->fdiff[i] || !av1_was_fwd(s, (uint16_t)(fn - mp->fdiff[i])))
			return 0;
	return 1;
}

/* Is this frame a switching point for decode target dt that the receiver can take: DTI SWITCH,
 * the target active, its chain intact? (Its references: av1_refs_fwd.) */
static int av1_switch_point(const struct layer_sel *s, const struct media_pkt *mp, unsigned dt)
{
	if (av1_dti(mp, dt) != AV1_DTI_SWITCH || !(mp->active_dts >> dt & 1))
		return 0;
	if (mp->n_chains) {
		unsigned c = mp->dt_chain[dt];

		/* a chain index past the last means "not protected by a chain" */
		if (c < mp->n_chains && c < AV1_MAX_CHAINS && mp->chain_fdiff[c] &&
		    !av1_was_fwd(s, (uint16_t)(mp->frame_number - mp->chain_fdiff[c])))
			return 0;
	}
	return 1;
}

/* Decode targets for which this frame is a switching point the receiver can take. */
static uint32_t av1_switch_dts(const struct layer_sel *s, const struct media_pkt *mp)
{
	uint32_t m = 0;
	unsigned n = mp->n_dts < AV1_MAX_DT ? mp->n_dts : AV1_MAX_DT;

	for (unsigned dt = 0; dt < n; dt++)
		if (av1_switch_point(s, mp, dt))
			m |= 1u << dt;
	return m;
}

/* Decode targets that need this frame: DTI SWITCH (2) or REQUIRED (3), the high bit of the pair. */
static inline uint32_t av1_needed(const struct media_pkt *mp)
{
	return av1_compact(mp->dtis >> 1 & 0x5555555555555555ull, mp->n_dts);
}

/* Record frame fn's decision in the bitmap; fn_base follows the newest frame number. */
static void av1_record(struct layer_sel *s, uint16_t fn, uint8_t fwd)
{
	int16_t ahead = seq_diff(fn, s->fn_base);
	uint16_t back;

	if (ahead > 0) {
		s->fwd_map = ahead >= 64 ? 0 : s->fwd_map << ahead;
		s->fn_base = fn;
	}
	back = (uint16_t)(s->fn_base - fn);
	if (back < 64) {
		s->fwd_map &= ~(1ull << back);
		s->fwd_map |= (uint64_t)fwd << back;
	}
}

/* AV1: first is set for the first frame of a fresh state (the bitmap starts there), new_pic for the
 * first frame seen of a picture. */
static uint8_t decide_av1(struct layer_sel *s, const struct layer_target *t, const struct media_pkt *mp,
			  int keyframe, int first, int new_pic)
{
	uint8_t fwd = 0;

	if (first) {
		s->fn_base = mp->frame_number;
		s->fwd_map = 0;
		s->dt_ok = 0;
	}
	if (mp->n_dts == 0 || mp->n_dts > AV1_MAX_DT)
		goto out;                           /* no usable structure */

	unsigned tgt = t->dt < mp->n_dts ? t->dt : mp->n_dts - 1u;
	uint32_t act = mp->active_dts & (uint32_t)((2ull << tgt) - 1);

	if (act)                                    /* the highest active one up to the target */
		tgt = 31u - (unsigned)__builtin_clz(act);
	/* a frame whose references all went out repairs the targets it is a switching point of */
	int refs = av1_refs_fwd(s, mp);
	uint32_t can = refs ? av1_switch_dts(s, mp) : 0;
	if (keyframe) {
		s->dt_ok = ~0u;
		if (!s->started || s->cur_dt != tgt) {
			s->started = 1;
			s->cur_dt = (uint8_t)tgt;
			s->cur_sid = s->cur_tid = 0;
			s->dirty = 1;
		}
	} else if (!s->started) {
		goto out;
	} else if (tgt != s->cur_dt && refs && ((can >> tgt & 1) || (new_pic && (s->dt_ok >> tgt & 1)))) {
		/* at a switching point of the target, or (a target the receiver has everything for,
		 * e.g. a lower one) at the start of a picture */
		s->cur_dt = (uint8_t)tgt;
		s->cur_sid = s->cur_tid = 0;
		s->dirty = 1;
	}
	fwd = s->cur_dt < mp->n_dts && av1_dti(mp, s->cur_dt) != AV1_DTI_NOT_PRESENT;
	if (fwd)
		s->dt_ok |= can;
	else
		s->dt_ok &= ~av1_needed(mp);
	if (fwd && (mp->sid > s->cur_sid || mp->tid > s->cur_tid)) {
		/* reported layers: the highest forwarded since the decode target was chosen */
		if (mp->sid > s->cur_sid && mp->sid <= LS_MAX_SID)
			s->cur_sid = mp->sid;
		if (mp->tid > s->cur_tid && mp->tid <= LS_MAX_TID)
			s->cur_tid = mp->tid;
		s->dirty = 1;
	}
out:
	av1_record(s, mp->frame_number, fwd);
	return fwd;
}

/* H.264 and other video without layers: everything after the first keyframe. */
static ls_always_inline uint8_t decide_other(struct layer_sel *s, const struct media_pkt *mp)
{
	if (P_KEY && !s->started) {
		s->started = 1;
		s->dirty = 1;
	}
	return s->started;
}

/* ---- the shared core ------------------------------------------------------------------------ */

static ls_always_inline void fill_out(const struct layer_sel *s, const struct rtp_info *ri, LS_SRC,
				      uint16_t seq_off, uint16_t pid_off, struct layer_out *out)
{
	uint16_t mask = P_PID16 ? 0x7fff : 0x7f;

	out->seq = (uint16_t)(ri->seq - seq_off);
	out->ts = ri->ts + s->ts_offset;
	out->marker = ri->marker;
	out->picture_id = P_HAS_PID ? (uint16_t)((P_PID - pid_off) & mask) : 0;
	out->tl0picidx = P_HAS_TL0 ? (uint8_t)(P_TL0 - s->tl0_offset) : 0;
	out->frame_number = 0;
}

/*
 * A packet not newer than the highest seen: find its frame among the current and the previous
 * one. Every packet of a frame carries the frame's timestamp and layer id; the sequence range
 * separates frames that share them (only a frame begun by its start packet has a known first
 * packet). A packet of an older frame, or of a frame never seen, is withheld.
 */
static ls_always_inline int late_packet(struct layer_sel *s, const struct rtp_info *ri, LS_SRC,
					struct layer_out *out)
{
	/* VP9/AV1 frames also begin at a layer change, so a frame two back may share the timestamp
	 * and layer of the current one: a lost head then lies after the previous frame's start, and
	 * nothing before the previous frame's first packet is its own. */
	const int id_frames = codec == MMR_CODEC_VP9 || codec == MMR_CODEC_AV1;
	int after_cur_start = seq_diff(ri->seq, s->frame_first_seq) >= 0;
	int after_prev_start = seq_diff(ri->seq, s->prev_first_seq) >= 0;
	int in_cur = ri->ts == s->frame_ts && P_ID == s->frame_tid &&
		     (after_cur_start ||
		      (!s->frame_by_start && (!id_frames || !s->have_prev ||
					      (after_prev_start && ri->seq != s->prev_first_seq))));
	int in_prev = s->have_prev && ri->ts == s->prev_ts && P_ID == s->prev_tid && !after_cur_start &&
		      (after_prev_start || (!s->prev_by_start && !id_frames));

	if (in_cur) {
		/* The offsets have not moved since the current frame began if it is forwarded. */
		if (!s->frame_fwd)
			return 0;
		fill_out(s, ri, codec, mp, s->seq_offset, P_HAS_PID ? s->pid_offset : 0, out);
		return 1;
	}
	if (in_prev && s->prev_fwd) {
		fill_out(s, ri, codec, mp, s->prev_seq_offset, P_HAS_PID ? s->prev_pid_offset : 0, out);
		return 1;
	}
	return 0;
}

/*
 * The decision for one packet. codec is a constant at every call site (MMR_CODEC_VP8,
 * MMR_CODEC_VP9, MMR_CODEC_AV1 or LS_CODEC_OTHER). For VP8, t_tid is the clamped temporal
 * target; VP9 and AV1 read t.
 */
static ls_always_inline int select_core(struct layer_sel *s, uint8_t t_tid,
					const struct layer_target *t, const struct rtp_info *ri,
					LS_SRC, uint32_t arrival_rtp, struct layer_out *out)
{
	const int vpx = codec != MMR_CODEC_AV1;   /* the union holds PictureID / TL0PICIDX state */

	if (s->have_seq && seq_diff(ri->seq, s->highest_in_seq) <= 0)
		return late_packet(s, ri, codec, mp, out);

	/* Input numbers skipped between the highest seen and this packet (lost, or late). */
	uint16_t gap = s->have_seq ? (uint16_t)(ri->seq - s->highest_in_seq - 1) : 0;
	uint8_t was_started = s->started, gap_withheld;

	if (!s->have_seq || P_START || ri->ts != s->frame_ts ||
	    ((codec == MMR_CODEC_VP9 || codec == MMR_CODEC_AV1) && P_ID != s->frame_tid)) {
		uint8_t old_fwd = s->frame_fwd;
		int new_pic = !s->have_seq || ri->ts != s->frame_ts;
		/* Whole frames lost in between (a PictureID or frame number jump): the skipped numbers
		 * may hold a frame the receiver should have had, so they stay a visible gap. */
		uint8_t frames_lost = 0;

		if (codec == MMR_CODEC_AV1) {
			frames_lost = (uint16_t)(mp->frame_number - s->fn_base - 1) != 0;
		} else if (P_HAS_PID) {
			uint16_t pid_mask = P_PID16 ? 0x7fff : 0x7f;
			/* VP9: the layer frames of one picture share its PictureID */
			uint16_t step = codec == MMR_CODEC_VP9 && !new_pic ? 0 : 1;

			frames_lost = ((P_PID - s->last_in_pid - step) & pid_mask) != 0;
			/* VP9: a picture's layer frames come in SID order, so a picture whose first
			 * packet seen starts a layer frame above SID 0 lost its lower layer frames in the
			 * gap (frames the receiver takes, whatever the frame before was) */
			if (codec == MMR_CODEC_VP9 && new_pic && gap && mp->sid > 0)
				frames_lost = 1;
		}

		if (s->have_seq) {
			s->have_prev = 1;
			s->prev_fwd = s->frame_fwd;
			s->prev_ts = s->frame_ts;
			s->prev_first_seq = s->frame_first_seq;
			s->prev_seq_offset = s->seq_offset;
			if (vpx)
				s->prev_pid_offset = s->pid_offset;
			s->prev_by_start = s->frame_by_start;
			s->prev_tid = s->frame_tid;
		}
		s->frame_by_start = P_START;
		s->frame_tid = P_ID;
		s->frame_ts = ri->ts;
		s->frame_first_seq = ri->seq;
		if (vpx) {
			s->last_in_pid = P_PID;
			if (P_HAS_TL0)
				s->last_in_tl0 = P_TL0;
		}
		switch (codec) {
		case MMR_CODEC_VP8:
			s->frame_fwd = decide_vp8(s, t_tid, mp);
			if (!s->frame_fwd && s->started && P_HAS_PID)
				s->pid_offset++;
			break;
		case MMR_CODEC_VP9:
			s->frame_fwd = decide_vp9(s, t, mp, P_KEY, new_pic);
			break;
		case MMR_CODEC_AV1:
			s->frame_fwd = decide_av1(s, t, mp, P_KEY, !s->have_seq, new_pic);
			break;
		default:
			s->frame_fwd = decide_other(s, mp);
			break;
		}
		/* Otherwise, at a start packet the skipped packets were the old frame's tail; after a
		 * timestamp change they may be either frame's, so they are ours to hide only if both
		 * are withheld. */
		gap_withheld = !frames_lost && !old_fwd && (P_START || !s->frame_fwd);
	} else {
		gap_withheld = !s->frame_fwd;      /* the skipped packets are this frame's */
	}
	s->have_seq = 1;
	s->highest_in_seq = ri->seq;
	/* Packets lost from a withheld frame leave no gap: the receiver should not see a loss of
	 * what it was never meant to get. Losses in forwarded frames stay visible. */
	if (was_started && gap_withheld)
		s->seq_offset = (uint16_t)(s->seq_offset + gap);

	if (!s->frame_fwd) {
		if (s->started)
			s->seq_offset++;
		return 0;
	}
	fill_out(s, ri, codec, mp, s->seq_offset, P_HAS_PID ? s->pid_offset : 0, out);
	/* where a simulcast switch continues from */
	s->last_out_ts = out->ts;
	s->last_arrival = arrival_rtp;
	s->open = !(mp->end || ri->marker);
	return 1;
}

/* ---- entry points --------------------------------------------------------------------------- */

int layer_sel_vp8(struct layer_sel *s, uint8_t target_tid, const struct rtp_info *ri,
		  const struct vp8_desc *d, struct layer_out *out)
{
	struct media_pkt mp;
	struct layer_target t = { .tid = target_tid };

	vp8_media(d, ri->hdr_len, ri, &mp);
	return layer_sel_video(s, &t, ri, &mp, 0, out);
}

/* Which frame number the receiver saw last (AV1): the newest forwarded one, in output numbers. */
static uint16_t av1_last_out_fn(const struct layer_sel *s)
{
	uint16_t back = s->fwd_map ? (uint16_t)__builtin_ctzll(s->fwd_map) : 0;

	return (uint16_t)(s->fn_base - back + s->fn_offset);
}

/*
 * A keyframe start of encoding mp->encoding (the target) while another was current: continue the
 * receiver's stream from what it last saw, and restart the frame state at this keyframe.
 */
static __attribute__((cold, noinline)) void switch_encoding(struct layer_sel *s, const struct rtp_info *ri,
							     const struct media_pkt *mp, uint32_t arrival_rtp)
{
	if (s->started || s->rebase) {
		uint16_t next_seq = (uint16_t)(s->highest_in_seq - s->seq_offset + 1 + s->open);
		int32_t dt = (int32_t)(arrival_rtp - s->last_arrival);
		uint32_t next_ts = s->last_out_ts + (uint32_t)(dt < 1 ? 1 : dt);

		if (!s->have_seq)       /* started, but nothing seen since: no history to continue */
			next_seq = ri->seq;
		s->seq_offset = (uint16_t)(ri->seq - next_seq);
		s->ts_offset = next_ts - ri->ts;
		if (mp->codec == MMR_CODEC_AV1) {
			uint16_t next_fn = (uint16_t)(av1_last_out_fn(s) + 1);

			s->fn_offset = (uint16_t)(next_fn - mp->frame_number);
		} else {
			uint16_t next_pid = (uint16_t)(s->last_in_pid - s->pid_offset + 1);
			uint8_t next_tl0 = (uint8_t)(s->last_in_tl0 - s->tl0_offset + 1);

			s->pid_offset = (uint16_t)(mp->picture_id - next_pid);
			s->tl0_offset = (uint8_t)(mp->tl0picidx - next_tl0);
		}
	} else {
		s->seq_offset = 0;
		s->ts_offset = 0;
		s->pid_offset = 0;
		s->last_in_pid = 0;
		s->prev_pid_offset = 0;
		s->tl0_offset = 0;
		s->last_in_tl0 = 0;
	}
	if (mp->codec == MMR_CODEC_AV1) {
		s->dt_ok = 0;
		s->fwd_map = 0;
		s->fn_base = mp->frame_number;
	}
	s->have_seq = 0;
	s->have_prev = 0;
	s->frame_fwd = 0;
	s->open = 0;
	s->pic_tfwd = 0;
	s->pic_sids = 0;
	s->encoding = mp->encoding;
	s->rebase = 0;
	s->dirty = 1;
}

/* The allocation pauses the receiver: nothing is forwarded; what it saw last is kept (rebase) so
 * that the keyframe it resumes at continues its numbering. */
static __attribute__((cold, noinline)) int pause_video(struct layer_sel *s)
{
	if (s->started) {
		s->started = 0;
		s->rebase = 1;
		s->dirty = 1;
	}
	return LAYER_SEL_PAUSED;
}

/* The highest spatial layer decode target dt holds (from the structure). */
static inline unsigned av1_top_sid(const struct media_pkt *mp, unsigned dt)
{
	return dt >= 32 ? 0 : (unsigned)(mp->dt_top_sid >> (2 * dt)) & 3;
}

/* Simulcast: is this packet of the current encoding (after a switch it may have become so)? */
static ls_always_inline int of_current_encoding(struct layer_sel *s, const struct layer_target *t,
						const struct rtp_info *ri, const struct media_pkt *mp,
						uint32_t arrival_rtp)
{
	if (ls_unlikely(mp->encoding != s->encoding ||
			(!s->started && (mp->encoding != t->encoding || s->rebase)))) {
		/* another encoding: only a keyframe start of the target moves us (before the first
		 * keyframe, the current encoding simply follows the target); after a pause, only a
		 * keyframe start of the target resumes, continuing the receiver's numbering */
		if (mp->encoding != t->encoding)
			return 0;
		if ((s->started || s->rebase) && !(mp->keyframe && mp->start))
			return 0;
		switch_encoding(s, ri, mp, arrival_rtp);
	}
	return 1;
}

/* One function per codec, each with the core inlined for it alone (registers stay its own); the
 * same signature as layer_sel_video so that the dispatch is a jump. */
#define LS_VIDEO_ARGS struct layer_sel *s, const struct layer_target *t, const struct rtp_info *ri, \
		      const struct media_pkt *mp, uint32_t arrival_rtp, struct layer_out *out

static ls_noipa int video_vp8(LS_VIDEO_ARGS)
{
	if (ls_unlikely(!of_current_encoding(s, t, ri, mp, arrival_rtp)))
		return 0;
	return select_core(s, t->tid > LS_MAX_TID ? LS_MAX_TID : t->tid, t, ri, MMR_CODEC_VP8, mp,
			   arrival_rtp, out);
}

static ls_noipa int video_vp9(LS_VIDEO_ARGS)
{
	if (ls_unlikely(!of_current_encoding(s, t, ri, mp, arrival_rtp)))
		return 0;
	if (!select_core(s, 0, t, ri, MMR_CODEC_VP9, mp, arrival_rtp, out))
		return 0;
	out->marker = ri->marker || (mp->end && mp->sid == s->cur_sid);
	return 1;
}

static ls_noipa int video_av1(LS_VIDEO_ARGS)
{
	if (ls_unlikely(!of_current_encoding(s, t, ri, mp, arrival_rtp)))
		return 0;
	if (!select_core(s, 0, t, ri, MMR_CODEC_AV1, mp, arrival_rtp, out))
		return 0;
	out->frame_number = (uint16_t)(mp->frame_number + s->fn_offset);
	out->marker = ri->marker || (mp->end && mp->sid == av1_top_sid(mp, s->cur_dt));
	return 1;
}

static ls_noipa int video_other(LS_VIDEO_ARGS)
{
	if (ls_unlikely(!of_current_encoding(s, t, ri, mp, arrival_rtp)))
		return 0;
	return select_core(s, 0, t, ri, LS_CODEC_OTHER, mp, arrival_rtp, out);
}

int layer_sel_video(struct layer_sel *s, const struct layer_target *t, const struct rtp_info *ri,
		    const struct media_pkt *mp, uint32_t arrival_rtp, struct layer_out *out)
{
	uint16_t a = __atomic_load_n(&s->alloc, __ATOMIC_RELAXED);
	struct layer_target eff;

	if (ls_unlikely(a != LAYER_ALLOC_NONE)) {
		if (a == LAYER_ALLOC_PAUSED)
			return pause_video(s);
		eff = layer_alloc_apply(*t, a);
		t = &eff;
	}
	switch (mp->codec) {
	case MMR_CODEC_VP8:
		return video_vp8(s, t, ri, mp, arrival_rtp, out);
	case MMR_CODEC_VP9:
		return video_vp9(s, t, ri, mp, arrival_rtp, out);
	case MMR_CODEC_AV1:
		return video_av1(s, t, ri, mp, arrival_rtp, out);
	default:
		return video_other(s, t, ri, mp, arrival_rtp, out);
	}
}

void layer_sel_current(const struct layer_sel *s, struct layer_current *c)
{
	c->sid = s->cur_sid;
	c->tid = s->cur_tid;
	c->dt = s->cur_dt;
	c->encoding = s->encoding;
	c->started = s->started;
}

int layer_sel_passthrough(struct layer_sel *s, const struct rtp_info *ri, struct layer_out *out)
{
	if (!s->have_seq || seq_diff(ri->seq, s->highest_in_seq) > 0)
		s->highest_in_seq = ri->seq;   /* informational only: nothing is rewritten */
	s->started = 1;
	s->have_seq = 1;
	layer_out_passthrough(ri, out);
	return 1;
}
