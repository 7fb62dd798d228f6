/*
 * model.c - build the emulated meetings of model.h: streams, their slots, the time wheel.
 */
#include "model.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "media.h"
#include "mmr_types.h"

static uint32_t hash32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

int gen_part_is_publisher(const struct gen_model *m, uint32_t p)
{
	uint32_t j = gen_part_rank(m, p);
	return j < m->video_pubs || j < m->audio_pubs;
}

int gen_part_dp_port(const struct gen_model *m, uint32_t p)
{
	if (m->sink_port < 0)
		return 0;
	return gen_part_rank(m, p) % m->probe_stride == 0 ? 0 : m->sink_port;
}

int gen_receives(const struct gen_model *m, uint32_t p, const struct gen_stream *s)
{
	return gen_part_meeting(m, p) == s->meeting && p != s->part;
}

uint8_t gen_target_tid(const struct gen_model *m, uint32_t p, const struct gen_stream *s)
{
	if (s->kind == GEN_AUDIO)
		return 0;
	/* a gallery: half of the receivers at 30 fps, a quarter at 15, a quarter at 7.5 */
	static const uint8_t mix[4] = { 2, 2, 1, 0 };
	return mix[(gen_part_rank(m, p) + gen_part_rank(m, s->part)) & 3];
}

uint8_t gen_target_sid(const struct gen_model *m, uint32_t p, const struct gen_stream *s)
{
	if (s->kind == GEN_AUDIO || m->video_codec == GEN_VC_VP8)
		return 0;
	/* the same half / quarter / quarter split as the temporal target, combined differently so
	 * that every (spatial, temporal) pair occurs in a meeting of 8 */
	static const uint8_t mix[4] = { 2, 2, 1, 0 };
	uint32_t a = gen_part_rank(m, p), b = gen_part_rank(m, s->part);
	return mix[((a >> 2) + b + (b >> 2)) & 3];
}

int gen_target_is_top(const struct gen_model *m, uint32_t p, const struct gen_stream *s)
{
	if (s->kind == GEN_AUDIO)
		return 1;
	return gen_target_tid(m, p, s) == 2 &&
	       (m->video_codec == GEN_VC_VP8 || gen_target_sid(m, p, s) == GEN_SVC_LAYERS - 1);
}

uint8_t gen_video_mmr_codec(const struct gen_model *m)
{
	return m->video_codec == GEN_VC_VP9 ? MMR_CODEC_VP9 : m->video_codec == GEN_VC_AV1 ? MMR_CODEC_AV1 :
	       MMR_CODEC_VP8;
}

const char *gen_video_codec_name(uint8_t video_codec)
{
	return video_codec == GEN_VC_VP9 ? "vp9" : video_codec == GEN_VC_AV1 ? "av1" : "vp8";
}

uint32_t gen_stream_of_ssrc(const struct gen_model *m, uint32_t ssrc)
{
	ssrc &= ~GEN_SSRC_ALT_BIT;
	if (ssrc < GEN_SSRC_VIDEO)
		return UINT32_MAX;
	uint32_t p = (ssrc - GEN_SSRC_VIDEO) >> 1;
	uint32_t kind = (ssrc - GEN_SSRC_VIDEO) & 1;
	if (p >= m->n_parts)
		return UINT32_MAX;
	uint32_t slot = 2 * gen_part_rank(m, p) + kind;
	if (slot >= m->slots_per_meeting)
		return UINT32_MAX;
	return m->stream_of_slot[gen_part_meeting(m, p) * m->slots_per_meeting + slot];
}

static void add_event(uint32_t *count, uint32_t **fill, uint32_t slot, uint32_t stream, int counting)
{
	if (counting)
		count[slot]++;
	else
		*fill[slot]++ = stream;
}

int gen_model_init(struct gen_model *m, uint32_t meetings, uint32_t per_meeting, uint32_t video_pubs,
		   uint32_t audio_pubs, uint32_t base_ip, int sink_port, uint32_t probe_stride,
		   const struct gen_media_cfg *mc)
{
	memset(m, 0, sizeof(*m));
	if (meetings == 0 || per_meeting < 2 || video_pubs > per_meeting || audio_pubs > per_meeting ||
	    (video_pubs == 0 && audio_pubs == 0) || (uint64_t)meetings * per_meeting > (1u << 20))
		return -EINVAL;
	m->meetings = meetings;
	m->per_meeting = per_meeting;
	m->video_pubs = video_pubs;
	m->audio_pubs = audio_pubs;
	m->n_parts = meetings * per_meeting;
	m->base_ip = base_ip;
	m->sink_port = sink_port;
	m->probe_stride = probe_stride ? probe_stride : 1;
	m->video_codec = mc->video_codec;
	m->dd_ext_id = mc->dd_ext_id;
	uint32_t pubs = video_pubs > audio_pubs ? video_pubs : audio_pubs;
	m->slots_per_meeting = 2 * pubs;

	m->n_streams = meetings * (video_pubs + audio_pubs);
	m->streams = calloc(m->n_streams, sizeof(*m->streams));
	m->stream_of_slot = malloc((size_t)meetings * m->slots_per_meeting * sizeof(uint32_t));
	m->part_tw_seq = calloc(m->n_parts, sizeof(uint16_t));
	if (!m->streams || !m->stream_of_slot || !m->part_tw_seq)
		goto fail;
	memset(m->stream_of_slot, 0xff, (size_t)meetings * m->slots_per_meeting * sizeof(uint32_t));

	uint32_t k = 0;
	for (uint32_t mt = 0; mt < meetings; mt++) {
		for (uint32_t j = 0; j < pubs; j++) {
			uint32_t p = mt * per_meeting + j;
			for (int kind = GEN_VIDEO; kind <= GEN_AUDIO; kind++) {
				if ((kind == GEN_VIDEO && j >= video_pubs) || (kind == GEN_AUDIO && j >= audio_pubs))
					continue;
				struct gen_stream *s = &m->streams[k];
				s->kind = (uint8_t)kind;
				s->part = p;
				s->meeting = mt;
				s->slot = (uint16_t)(2 * j + kind);
				s->ssrc = (kind == GEN_VIDEO ? GEN_SSRC_VIDEO : GEN_SSRC_AUDIO) + 2 * p;
				s->pt = kind == GEN_AUDIO ? GEN_PT_OPUS : mc->video_codec == GEN_VC_VP9 ? GEN_PT_VP9 :
					mc->video_codec == GEN_VC_AV1 ? GEN_PT_AV1 : GEN_PT_VP8;
				uint32_t h = hash32(s->ssrc);
				s->seq = (uint16_t)h;
				s->ts = hash32(h);
				s->picture_id = (uint16_t)(h >> 17);
				s->tl0picidx = (uint8_t)(h >> 9);
				s->frame_number = (uint16_t)(h >> 3);
				s->rng = h | 1;
				s->dp_stream_id = UINT32_MAX;
				s->tw_seq = &m->part_tw_seq[p];
				m->stream_of_slot[mt * m->slots_per_meeting + s->slot] = k;
				k++;
			}
		}
	}

	/* the wheel, in two passes: count per slot, then fill */
	uint32_t count[GEN_WHEEL_SLOTS] = { 0 };
	uint32_t *fill[GEN_WHEEL_SLOTS];
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t i = 0; i < m->n_streams; i++) {
			const struct gen_stream *s = &m->streams[i];
			uint32_t phase = hash32(s->ssrc * 31u + 7u) % GEN_WHEEL_SLOTS;
			if (s->kind == GEN_VIDEO) {
				static const uint32_t at[3] = { 0, 33, 67 };
				for (int f = 0; f < 3; f++)
					add_event(count, fill, (phase + at[f]) % GEN_WHEEL_SLOTS, i, pass == 0);
			} else {
				for (uint32_t t = 0; t < GEN_WHEEL_SLOTS; t += 20)
					add_event(count, fill, (phase + t) % GEN_WHEEL_SLOTS, i, pass == 0);
			}
		}
		if (pass == 0) {
			uint32_t total = 0;
			for (uint32_t s = 0; s < GEN_WHEEL_SLOTS; s++) {
				m->wheel_start[s] = total;
				total += count[s];
			}
			m->wheel_start[GEN_WHEEL_SLOTS] = total;
			m->wheel_ev = malloc((total ? total : 1) * sizeof(uint32_t));
			if (!m->wheel_ev)
				goto fail;
			for (uint32_t s = 0; s < GEN_WHEEL_SLOTS; s++)
				fill[s] = m->wheel_ev + m->wheel_start[s];
		}
	}
	m->nominal_pps = meetings * (video_pubs * gen_video_pps(mc) + audio_pubs * gen_audio_pps());
	return 0;
fail:
	gen_model_free(m);
	return -ENOMEM;
}

void gen_model_free(struct gen_model *m)
{
	free(m->streams);
	free(m->stream_of_slot);
	free(m->wheel_ev);
	free(m->part_tw_seq);
	memset(m, 0, sizeof(*m));
}
