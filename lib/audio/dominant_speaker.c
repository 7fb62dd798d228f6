/*
 * dominant_speaker.c - Volfin-Cohen dominant speaker identification (dominant_speaker.h).
 */
#include "dominant_speaker.h"

#include <string.h>

void ds_speaker_init(struct ds_speaker *s, uint64_t now_ms)
{
	memset(s, 0, sizeof(*s));
	s->last_ms = now_ms;
}

int ds_speaker_on_level(struct ds_speaker *s, uint64_t now_ms, uint8_t level)
{
	if (level > 127)
		return -1;
	s->ring[s->head++ % DS_RING] = (uint8_t)(127 - level);
	s->last_ms = now_ms;
	return 0;
}

void ds_meeting_init(struct ds_meeting *m)
{
	memset(m, 0, sizeof(*m));
	m->dominant_id = UINT32_MAX;
}

int ds_decide(struct ds_meeting *m, struct ds_speaker *const sp[], const uint32_t ids[], unsigned n,
	      uint64_t now_ms)
{
	(void)sp; (void)ids; (void)n; (void)now_ms;
	m->decisions++;
	return -1;
}
