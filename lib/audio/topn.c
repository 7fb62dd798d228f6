/*
 * topn.c - top-N audio ranking, stable slots and per-output numbering (topn.h).
 */
#include "topn.h"

#include <string.h>

void topn_energy_init(struct topn_energy *e) { memset(e, 0, sizeof(*e)); }
int topn_energy_on_level(struct topn_energy *e, uint64_t now_ms, uint8_t level) { (void)e; (void)now_ms; (void)level; return 0; }
uint32_t topn_energy_now(const struct topn_energy *e, uint64_t now_ms) { (void)e; (void)now_ms; return 0; }
void topn_init(struct topn *t, unsigned n) { memset(t, 0, sizeof(*t)); t->n = (uint8_t)(n > TOPN_MAX ? TOPN_MAX : n); for (unsigned k = 0; k < TOPN_MAX; k++) t->slot[k] = MMR_ID_NONE; }
unsigned topn_update(struct topn *t, const uint32_t ids[], const struct topn_energy *const e[], unsigned cnt,
		     int dominant, uint64_t now_ms) { (void)t; (void)ids; (void)e; (void)cnt; (void)dominant; (void)now_ms; return 0; }
void topn_out_init(struct topn_out *o) { memset(o, 0, sizeof(*o)); o->stream_id = MMR_ID_NONE; }
int topn_out_map(struct topn_out *o, uint32_t stream_id, uint16_t seq, uint32_t ts, uint32_t arrival_ts,
		 uint16_t *out_seq, uint32_t *out_ts) { (void)o; (void)stream_id; (void)arrival_ts; *out_seq = seq; *out_ts = ts; return 1; }
