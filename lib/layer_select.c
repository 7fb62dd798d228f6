/*
 * layer_select.c - the per-receiver VP8 temporal layer selector of layer_select.h (the rules are
 * listed there), and the pass-through used for audio.
 *
 * State is one small struct per subscription: the current frame (its first sequence number,
 * timestamp and decision), the previous frame (the same, plus the offsets it was forwarded with,
 * to place its late packets exactly), and the running sequence / PictureID offsets. Sequence
 * numbers compare modulo 2^16 by half range: a packet is newer when (int16_t)(seq - highest) > 0.
 * No allocation, no locks, a few branches per packet.
 */
#include "layer_select.h"

#include <string.h>

#define LS_MAX_TID 3

_Static_assert(sizeof(struct layer_sel) == 32, "struct layer_sel grew past 32 bytes");

static inline int16_t seq_diff(uint16_t a, uint16_t b)
{
	return (int16_t)(uint16_t)(a - b);
}

void layer_sel_init(struct layer_sel *s)
{
	memset(s, 0, sizeof(*s));
}

/* The forwarding decision for a frame whose first packet (as far as we know) is described by d. */
static uint8_t decide_frame(struct layer_sel *s, uint8_t target, const struct vp8_desc *d)
{
	uint8_t tid = d->has_tid ? d->tid : 0;

	if (d->keyframe) {
		/* References nothing, refreshes all buffers: safe at any layer, straight to target. */
		s->started = 1;
		s->cur_tid = target;
		return 1;
	}
	if (!s->started)
		return 0;
	if (target < s->cur_tid)
		s->cur_tid = target;
	else if (d->frame_start && d->has_tid && d->layer_sync &&
		 tid == s->cur_tid + 1 && tid <= target)
		s->cur_tid = tid;
	return tid <= s->cur_tid;
}

static void fill_out(const struct rtp_info *ri, const struct vp8_desc *d, uint16_t seq_off,
		     uint16_t pid_off, struct layer_out *out)
{
	uint16_t mask = d->picture_id_16 ? 0x7fff : 0x7f;

	out->seq = (uint16_t)(ri->seq - seq_off);
	out->picture_id = d->has_picture_id ? (uint16_t)((d->picture_id - pid_off) & mask) : 0;
	out->tl0picidx = d->has_tl0picidx ? d->tl0picidx : 0;
}

/*
 * A packet not newer than the highest seen: find its frame among the current and the previous
 * one. Every packet of a frame carries the frame's timestamp; the sequence range separates frames
 * that share a timestamp (only a frame begun by its S=1 packet has a known first packet). A
 * packet of an older frame, or of a frame never seen, is withheld.
 */
static int late_packet(struct layer_sel *s, const struct rtp_info *ri, const struct vp8_desc *d,
		       struct layer_out *out)
{
	uint8_t tid = d->has_tid ? d->tid : 0;
	int after_cur_start = seq_diff(ri->seq, s->frame_first_seq) >= 0;
	int in_cur = ri->ts == s->frame_ts && tid == s->frame_tid &&
		     (after_cur_start || !s->frame_by_start);
	int in_prev = s->have_prev && ri->ts == s->prev_ts && tid == s->prev_tid && !after_cur_start &&
		      (seq_diff(ri->seq, s->prev_first_seq) >= 0 || !s->prev_by_start);

	if (in_cur) {
		/* The offsets have not moved since the current frame began if it is forwarded. */
		if (!s->frame_fwd)
			return 0;
		fill_out(ri, d, s->seq_offset, s->pid_offset, out);
		return 1;
	}
	if (in_prev && s->prev_fwd) {
		fill_out(ri, d, s->prev_seq_offset, s->prev_pid_offset, out);
		return 1;
	}
	return 0;
}

int layer_sel_vp8(struct layer_sel *s, uint8_t target_tid, const struct rtp_info *ri,
		  const struct vp8_desc *d, struct layer_out *out)
{
	uint8_t target = target_tid > LS_MAX_TID ? LS_MAX_TID : target_tid;

	if (s->have_seq && seq_diff(ri->seq, s->highest_in_seq) <= 0)
		return late_packet(s, ri, d, out);

	/* Input numbers skipped between the highest seen and this packet (lost, or late). */
	uint16_t gap = s->have_seq ? (uint16_t)(ri->seq - s->highest_in_seq - 1) : 0;
	uint8_t was_started = s->started, gap_withheld;

	if (!s->have_seq || d->frame_start || ri->ts != s->frame_ts) {
		uint8_t old_fwd = s->frame_fwd;
		/* Whole frames lost in between (a PictureID jump): the skipped numbers may hold a
		 * frame the receiver should have had, so they stay a visible gap. */
		uint16_t pid_mask = d->picture_id_16 ? 0x7fff : 0x7f;
		uint8_t frames_lost = d->has_picture_id &&
			((d->picture_id - s->last_in_pid - 1) & pid_mask) != 0;

		if (s->have_seq) {
			s->have_prev = 1;
			s->prev_fwd = s->frame_fwd;
			s->prev_ts = s->frame_ts;
			s->prev_first_seq = s->frame_first_seq;
			s->prev_seq_offset = s->seq_offset;
			s->prev_pid_offset = s->pid_offset;
			s->prev_by_start = s->frame_by_start;
			s->prev_tid = s->frame_tid;
		}
		s->frame_by_start = d->frame_start;
		s->frame_tid = d->has_tid ? d->tid : 0;
		s->frame_ts = ri->ts;
		s->frame_first_seq = ri->seq;
		s->last_in_pid = d->picture_id;
		s->frame_fwd = decide_frame(s, target, d);
		if (!s->frame_fwd && s->started && d->has_picture_id)
			s->pid_offset++;
		/* Otherwise, with S=1 the skipped packets were the old frame's tail; after a timestamp
		 * change they may be either frame's, so they are ours to hide only if both are
		 * withheld. */
		gap_withheld = !frames_lost && !old_fwd && (d->frame_start || !s->frame_fwd);
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
	fill_out(ri, d, s->seq_offset, s->pid_offset, out);
	return 1;
}

int layer_sel_passthrough(struct layer_sel *s, const struct rtp_info *ri, struct layer_out *out)
{
	if (!s->have_seq || seq_diff(ri->seq, s->highest_in_seq) > 0)
		s->highest_in_seq = ri->seq;   /* informational only: nothing is rewritten */
	s->started = 1;
	s->have_seq = 1;
	out->seq = ri->seq;
	out->picture_id = 0;
	out->tl0picidx = 0;
	return 1;
}
