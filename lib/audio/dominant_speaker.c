/*
 * dominant_speaker.c - Volfin-Cohen dominant speaker identification (dominant_speaker.h): per
 * packet a level sample into the speaker's ring and a noise-floor step; per decision the
 * immediate / medium / long windows, their scores from tables, and the challenger test.
 */
#include "dominant_speaker.h"

#include <string.h>

#define DS_SUBUNIT 10            /* (127 - 0 + DS_N1 - 1) / DS_N1: width of a sub-band in loudness */
#define DS_C1 3.0f
#define DS_C2 2.0f
#define DS_C3 0.0f
/* A guard of ours (Jitsi has none): the noise floor never rises above this loudness (-57 dBov), so
 * a steady loud source (a tone, a speaker who never pauses) is not taken for noise. */
#define DS_MAX_FLOOR 70

/*
 * log(max(score(v, n, lambda), 1e-10)) with score = ln C(n,v) + n ln 0.5 - ln lambda + lambda v
 * (p = 0.5), for v = 0..n: immediate (n 13, lambda 0.78), medium (n 5, lambda 24), long (n 10,
 * lambda 47). Computed with libm once (tests/unit/test_dominant_speaker.c checks them).
 */
static const float ds_log_imm[DS_N1 + 1] = {
	-23.025850930f, -23.025850930f, -23.025850930f, -23.025850930f, -0.072752909f, 0.831872594f,
	1.213516902f, 1.421974992f, 1.534200704f, 1.574811385f, 1.546187057f, 1.428936340f, 1.151362022f,
	0.320305116f };
static const float ds_log_med[DS_N2 + 1] = {
	-23.025850930f, 2.942629352f, 3.776404759f, 4.214477359f, 4.510481943f, 4.730535164f };
static const float ds_log_long[DS_N3 + 1] = {
	-23.025850930f, 3.651202656f, 4.466195929f, 4.905318276f, 5.207108948f, 5.436982228f,
	5.622447640f, 5.777670504f, 5.910864509f, 6.027123554f, 6.129525872f };

const float *ds_score_table(unsigned which, unsigned *len)
{
	switch (which) {
	case 0: *len = DS_N1 + 1; return ds_log_imm;
	case 1: *len = DS_N2 + 1; return ds_log_med;
	default: *len = DS_N3 + 1; return ds_log_long;
	}
}

void ds_speaker_init(struct ds_speaker *s, uint64_t now_ms)
{
	memset(s, 0, sizeof(*s));
	s->last_ms = now_ms;
}

static unsigned isqrt(unsigned x)
{
	unsigned r = 0;

	while ((r + 1) * (r + 1) <= x)
		r++;
	return r;
}

/* The noise floor: the lowest loudness seen, raised (geometric mean with the lowest of the next
 * window) after DS_MIN_LEVEL_WINDOW samples above it. Silence (loudness 0) does not count. */
static void ds_floor_step(struct ds_speaker *s, uint8_t loud)
{
	if (loud == 0)
		return;
	if (s->min_level == 0 || s->min_level > loud) {
		s->min_level = loud > DS_MAX_FLOOR ? DS_MAX_FLOOR : loud;
		s->next_min_level = 0;
		s->next_min_count = 0;
		return;
	}
	if (s->next_min_level == 0 || s->next_min_level > loud)
		s->next_min_level = loud;
	if (++s->next_min_count >= DS_MIN_LEVEL_WINDOW) {
		unsigned m = isqrt((unsigned)s->min_level * s->next_min_level);

		if (m < 1)
			m = 1;
		s->min_level = (uint8_t)(m > DS_MAX_FLOOR ? DS_MAX_FLOOR : m);
		s->next_min_level = 0;
		s->next_min_count = 0;
	}
}

int ds_speaker_on_level(struct ds_speaker *s, uint64_t now_ms, uint8_t level)
{
	if (level > 127)
		return -1;
	uint8_t loud = (uint8_t)(127 - level);

	s->ring[s->head++ % DS_RING] = loud;
	s->last_ms = now_ms;
	ds_floor_step(s, loud);
	return 0;
}

void ds_meeting_init(struct ds_meeting *m)
{
	memset(m, 0, sizeof(*m));
	m->dominant_id = UINT32_MAX;
}

/* Silent samples for the time s sent none (one per DS_LEVEL_IDLE_MS, at most a history). */
static void ds_idle(struct ds_speaker *s, uint64_t now_ms)
{
	unsigned k = 0;

	while (now_ms >= s->last_ms + DS_LEVEL_IDLE_MS && k < DS_HISTORY) {
		s->ring[s->head++ % DS_RING] = 0;
		s->last_ms += DS_LEVEL_IDLE_MS;
		k++;
	}
	if (now_ms >= s->last_ms + DS_LEVEL_IDLE_MS)
		s->last_ms = now_ms;
}

/* The three windows of s and their log scores into s->log_score. */
static void ds_scores(struct ds_speaker *s)
{
	unsigned thr = (unsigned)s->min_level + DS_SUBUNIT;
	unsigned imm0 = 0, med[DS_N3] = { 0 }, lng = 0;

	for (unsigned i = 0; i < DS_HISTORY; i++) {
		unsigned loud = s->ring[(s->head - 1u - i) % DS_RING];
		unsigned band = loud < thr ? 0 : loud / DS_SUBUNIT;

		if (band > DS_N1 - 1)
			band = DS_N1 - 1;
		if (i == 0)
			imm0 = band;
		if (band > DS_MEDIUM_THRESHOLD)
			med[i / DS_N2]++;
	}
	for (unsigned k = 0; k < DS_N3; k++)
		if (med[k] > DS_LONG_THRESHOLD)
			lng++;
	s->log_score[0] = ds_log_imm[imm0];
	s->log_score[1] = ds_log_med[med[0]];
	s->log_score[2] = ds_log_long[lng];
}

int ds_decide(struct ds_meeting *m, struct ds_speaker *const sp[], const uint32_t ids[], unsigned n,
	      uint64_t now_ms)
{
	int dom = -1;

	m->decisions++;
	for (unsigned i = 0; i < n; i++) {
		if (!sp[i])
			continue;
		ds_idle(sp[i], now_ms);
		ds_scores(sp[i]);
		if (ids[i] == m->dominant_id && m->dominant_id != UINT32_MAX)
			dom = (int)i;
	}
	if (dom < 0)
		m->dominant_id = UINT32_MAX;   /* none, or it left */
	/* with no dominant speaker, challengers are measured against silence */
	float ref[3] = { ds_log_imm[0], ds_log_med[0], ds_log_long[0] };
	if (dom >= 0)
		memcpy(ref, sp[dom]->log_score, sizeof(ref));

	int best = -1;
	float best_c2 = DS_C2;
	for (unsigned i = 0; i < n; i++) {
		if ((int)i == dom || ids[i] == UINT32_MAX || !sp[i])
			continue;
		float c1 = sp[i]->log_score[0] - ref[0];
		float c2 = sp[i]->log_score[1] - ref[1];
		float c3 = sp[i]->log_score[2] - ref[2];

		if (c1 > DS_C1 && c2 > DS_C2 && c3 > DS_C3 && c2 > best_c2) {
			best = (int)i;
			best_c2 = c2;
		}
	}
	if (best >= 0) {
		m->dominant_id = ids[best];
		m->changes++;
		return best;
	}
	return dom;
}
