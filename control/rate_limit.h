/*
 * rate_limit.h - token buckets by key (a client's address, a token's identity) for the join
 * endpoints (join.h): `rate` tokens a second, at most `burst` saved; a request takes one. A fixed
 * table (RL_SLOTS keys, open addressing over RL_PROBE slots): a new key takes an empty slot or the
 * one in its probe window idle longest (a bucket idle for burst/rate seconds is full again, so
 * forgetting it changes nothing); a table full of busy keys may forget one early (then that key
 * starts with a full bucket: the limit is loose for it, never tight for others). No allocation.
 */
#ifndef MMR_CTL_RATE_LIMIT_H
#define MMR_CTL_RATE_LIMIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define RL_SLOTS 1024u          /* power of two */
#define RL_PROBE 8u
#define RL_KEY   136

struct rl_bucket {
	uint32_t hash;          /* 0: empty */
	uint64_t last_ns;
	double tokens;
	char key[RL_KEY];
};

struct rate_limit {
	double rate, burst;
	struct rl_bucket b[RL_SLOTS];
};

void rl_init(struct rate_limit *rl, double rate, double burst);
/* Take a token for key at now: 0, or -1 (over the limit) with *retry_s the whole seconds until one
 * is there (at least 1). */
int rl_take(struct rate_limit *rl, const char *key, uint64_t now, unsigned *retry_s);
/* Would rl_take refuse key at now? -1 (and *retry_s) if its bucket holds less than one token, else
 * 0; takes nothing and makes no bucket (for limits charged on failures only: peek first, take
 * after a failure). */
int rl_peek(struct rate_limit *rl, const char *key, uint64_t now, unsigned *retry_s);
/* The per-source key of a client's address into out (RL_ADDR_KEY bytes): an IPv4 address whole
 * (also when IPv4-mapped in IPv6), an IPv6 address by its /64 prefix ("2001:db8:1:2::/64"): one
 * host holds a whole /64 and could rotate through it. "?" for another family. */
#define RL_ADDR_KEY 64
void rl_addr_key(const struct sockaddr_storage *ss, char *out, size_t n);

#endif
