/*
 * rate_limit.c - token buckets by key (see rate_limit.h).
 */
#include "rate_limit.h"

#include <stdio.h>
#include <string.h>

void rl_init(struct rate_limit *rl, double rate, double burst)
{
	memset(rl, 0, sizeof(*rl));
	rl->rate = rate;
	rl->burst = burst;
}

/* FNV-1a, never 0 */
static uint64_t hash_key(const char *k)
{
	uint64_t h = 1469598103934665603ull;
	for (; *k; k++)
		h = (h ^ (uint8_t)*k) * 1099511628211ull;
	return h ? h : 1;
}

int rl_take(struct rate_limit *rl, const char *key, uint64_t now, unsigned *retry_s)
{
	uint64_t h = hash_key(key);
	struct rl_bucket *hit = NULL, *victim = NULL;
	for (unsigned i = 0; i < RL_PROBE && !hit; i++) {
		struct rl_bucket *b = &rl->b[(h + i) & (RL_SLOTS - 1)];
		if (b->hash == h && strncmp(b->key, key, RL_KEY - 1) == 0)
			hit = b;
		else if (!victim || (victim->hash && (!b->hash || b->last_ns < victim->last_ns)))
			victim = b;
	}
	if (!hit) {
		hit = victim;
		hit->hash = h;
		snprintf(hit->key, sizeof(hit->key), "%s", key);
		hit->tokens = rl->burst;
		hit->last_ns = now;
	}
	double dt = now > hit->last_ns ? (double)(now - hit->last_ns) / 1e9 : 0.0;
	hit->tokens += dt * rl->rate;
	if (hit->tokens > rl->burst)
		hit->tokens = rl->burst;
	hit->last_ns = now;
	if (hit->tokens >= 1.0) {
		hit->tokens -= 1.0;
		return 0;
	}
	double wait = (1.0 - hit->tokens) / rl->rate;
	*retry_s = (unsigned)wait + ((double)(unsigned)wait < wait);
	if (*retry_s < 1)
		*retry_s = 1;
	return -1;
}
