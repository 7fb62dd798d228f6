/*
 * rtcp_state.c - the RTCP side tables (rtcp_state.h): made at start-up, entries (re)initialised in
 * place by the owning lcore when it meets a new object at an index.
 */
#include "rtcp_state.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <rte_cycles.h>

#include "dataplane.h"

/* Fresh zero pages, page aligned: memory is used only where entries are touched. */
static void *zmap(size_t n, size_t size)
{
	void *p = mmap(NULL, n * size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static void zunmap(void *p, size_t n, size_t size)
{
	if (p)
		munmap(p, n * size);
}

int rtcp_state_alloc(struct rtcp_tables *t, uint32_t kf_throttle_ms)
{
	t->stream = zmap(MMR_MAX_STREAMS, sizeof(*t->stream));
	t->sub = zmap(MMR_MAX_SUBS, sizeof(*t->sub));
	t->part = zmap(MMR_MAX_PARTICIPANTS, sizeof(*t->part));
	t->kf_throttle_ms = kf_throttle_ms;
	if (!t->stream || !t->sub || !t->part) {
		dp_log("cannot allocate the RTCP state tables");
		rtcp_state_free(t);
		return -1;
	}
	return 0;
}

void rtcp_state_free(struct rtcp_tables *t)
{
	zunmap(t->stream, MMR_MAX_STREAMS, sizeof(*t->stream));
	zunmap(t->sub, MMR_MAX_SUBS, sizeof(*t->sub));
	zunmap(t->part, MMR_MAX_PARTICIPANTS, sizeof(*t->part));
	t->stream = NULL;
	t->sub = NULL;
	t->part = NULL;
}

void stream_rtcp_reset(struct stream_rtcp *r, const struct fwd_stream *s, uint32_t kf_throttle_ms)
{
	memset(r, 0, sizeof(*r));
	recv_stats_init(&r->rs);
	sr_anchor_init(&r->anchor);
	kf_req_init(&r->kf, rte_get_tsc_hz(), kf_throttle_ms);
	r->key_pid = s->participant_id;
	r->key_ssrc = s->ssrc;
	r->kind = s->kind;
	r->next_tsc = 0;          /* the first packet sends the first RR */
	r->next_rr_tsc = 0;
	r->valid = 1;
}

void sub_rtcp_reset(struct sub_rtcp *r, const struct fwd_output *o, uint8_t kind)
{
	memset(r, 0, sizeof(*r));
	sr_out_init(&r->so);
	r->key_ssrc_be = o->out_ssrc_be;
	r->key_port_be = o->dst_port_be;
	r->kind = kind;
	r->next_sr_tsc = 0;       /* its first SR goes with its first copy */
	r->valid = 1;
}

void part_rtcp_reset(struct part_rtcp *r, const struct fwd_participant *p)
{
	memset(r, 0, sizeof(*r));
	r->key_addr = p->addr;
	r->key_port = p->udp_port;
	r->valid = 1;
}
