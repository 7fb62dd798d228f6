/*
 * rate_limit.c - token buckets by key (see rate_limit.h).
 */
#include "rate_limit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "id_index.h"

void rl_init(struct rate_limit *rl, double rate, double burst)
{
	memset(rl, 0, sizeof(*rl));
	rl->rate = rate;
	rl->burst = burst;
}

/* never 0 (0 marks an empty slot) */
static uint32_t hash_key(const char *k)
{
	uint32_t h = id_hash_bytes(k, (uint32_t)strnlen(k, RL_KEY - 1), 0x726c696du);
	return h ? h : 1;
}

void rl_addr_key(const struct sockaddr_storage *ss, char *out, size_t n)
{
	snprintf(out, n, "?");
	if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, out, (socklen_t)n);
	} else if (ss->ss_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a)) {
			inet_ntop(AF_INET, &a->s6_addr[12], out, (socklen_t)n);
			return;
		}
		struct in6_addr p = *a;
		memset(&p.s6_addr[8], 0, 8);
		char t[INET6_ADDRSTRLEN];
		if (inet_ntop(AF_INET6, &p, t, sizeof(t)))
			snprintf(out, n, "%s/64", t);
	}
}

static unsigned retry_of(const struct rate_limit *rl, double tokens)
{
	double wait = (1.0 - tokens) / rl->rate;
	unsigned r = (unsigned)wait + ((double)(unsigned)wait < wait);
	return r < 1 ? 1 : r;
}

int rl_peek(struct rate_limit *rl, const char *key, uint64_t now, unsigned *retry_s)
{
	uint32_t h = hash_key(key);
	for (unsigned i = 0; i < RL_PROBE; i++) {
		const struct rl_bucket *b = &rl->b[(h + i) & (RL_SLOTS - 1)];
		if (b->hash == h && strncmp(b->key, key, RL_KEY - 1) == 0) {
			double dt = now > b->last_ns ? (double)(now - b->last_ns) / 1e9 : 0.0;
			double t = b->tokens + dt * rl->rate;
			if (t >= 1.0)
				return 0;
			*retry_s = retry_of(rl, t);
			return -1;
		}
	}
	return 0;
}

int rl_take(struct rate_limit *rl, const char *key, uint64_t now, unsigned *retry_s)
{
	uint32_t h = hash_key(key);
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
	*retry_s = retry_of(rl, hit->tokens);
	return -1;
}
