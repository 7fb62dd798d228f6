/*
 * recv_stats.c - RFC 3550 Appendix A.1/A.3/A.8 reception statistics of a received RTP stream
 * (see recv_stats.h for the rules).
 */
#include <string.h>

#include "ntp_time.h"
#include "recv_stats.h"

#define RTP_SEQ_MOD (1u << 16)

void recv_stats_init(struct recv_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->bad_seq = RTP_SEQ_MOD + 1;
}

/* A.1 init_seq, with the packet counted as received. */
static void start_at(struct recv_stats *s, uint16_t seq)
{
	s->started = 1;
	s->max_seq = seq;
	s->cycles = 0;
	s->base_seq = seq;
	s->bad_seq = RTP_SEQ_MOD + 1;
	s->received = 1;
	s->expected_prior = 0;
	s->received_prior = 0;
	s->seen = 1;
	s->have_transit = 0;
}

/* A.8, for packets in order. */
static void jitter_update(struct recv_stats *s, uint32_t rtp_ts, uint32_t arrival_rtp)
{
	uint32_t transit = arrival_rtp - rtp_ts;
	int32_t d;

	if (s->have_transit) {
		d = (int32_t)(transit - s->transit);
		if (d < 0)
			d = d == INT32_MIN ? INT32_MAX : -d;
		s->jitter += (uint32_t)d - ((s->jitter + 8) >> 4);
	}
	s->transit = transit;
	s->have_transit = 1;
}

enum recv_result recv_stats_update(struct recv_stats *s, uint16_t seq, uint32_t rtp_ts, uint32_t arrival_rtp,
				   uint32_t *ext_seq)
{
	uint16_t udelta, back;
	uint32_t ext;

	if (!s->started) {
		start_at(s, seq);
		jitter_update(s, rtp_ts, arrival_rtp);
		*ext_seq = seq;
		return RECV_NEW;
	}
	udelta = (uint16_t)(seq - s->max_seq);
	if (udelta == 0) {
		*ext_seq = recv_stats_ext_max(s);
		return RECV_DUP;
	}
	if (udelta < RECV_MAX_DROPOUT) {
		if (seq < s->max_seq)
			s->cycles += RTP_SEQ_MOD;
		s->max_seq = seq;
		s->seen = udelta >= RECV_WINDOW ? 1 : (s->seen << udelta | 1);
		s->received++;
		jitter_update(s, rtp_ts, arrival_rtp);
		*ext_seq = recv_stats_ext_max(s);
		return RECV_NEW;
	}
	if (udelta <= RTP_SEQ_MOD - RECV_MAX_MISORDER) {
		/* a big jump: restart if the previous packet was one just before it */
		if (seq == s->bad_seq) {
			/* extended seqs go on forward from the old highest (A.1 would start again at
			   cycles 0): whatever is keyed by them (pkt_ring, nack_gen) stays ordered */
			ext = recv_stats_ext_max(s) + udelta;
			start_at(s, seq);
			s->cycles = ext - seq;
			s->base_seq = ext;
			jitter_update(s, rtp_ts, arrival_rtp);
			*ext_seq = ext;
			return RECV_RESTART;
		}
		s->bad_seq = (seq + 1) & (RTP_SEQ_MOD - 1);
		return RECV_BAD;
	}
	/* late: 1..RECV_MAX_MISORDER behind the highest */
	back = (uint16_t)(s->max_seq - seq);
	if (recv_stats_ext_max(s) < back)
		return RECV_BAD;        /* before extended seq 0: cannot be placed */
	ext = recv_stats_ext_max(s) - back;
	if ((s->seen >> back) & 1) {
		*ext_seq = ext;
		return RECV_DUP;
	}
	s->seen |= (unsigned __int128)1 << back;
	if (ext < s->base_seq)
		s->base_seq = ext;      /* older than the first packet: the stream began earlier */
	s->received++;
	*ext_seq = ext;
	return RECV_LATE;
}

void recv_stats_on_sr(struct recv_stats *s, uint64_t ntp, uint64_t arrival_tsc)
{
	s->lsr = ntp_middle32(ntp);
	s->sr_tsc = arrival_tsc;
	s->have_sr = 1;
}

int64_t recv_stats_lost(const struct recv_stats *s)
{
	if (!s->started)
		return 0;
	return (int64_t)(recv_stats_ext_max(s) - s->base_seq + 1) - (int64_t)s->received;
}

int recv_stats_block(struct recv_stats *s, uint64_t now_tsc, uint64_t tsc_hz, struct recv_report *rb)
{
	uint32_t expected, exp_int, rec_int;
	int64_t lost, lost_int;

	if (!s->started)
		return -1;
	expected = recv_stats_ext_max(s) - s->base_seq + 1;
	lost = recv_stats_lost(s);
	if (lost > 0x7fffff)
		lost = 0x7fffff;
	if (lost < -0x800000)
		lost = -0x800000;
	exp_int = expected - s->expected_prior;
	rec_int = s->received - s->received_prior;
	s->expected_prior = expected;
	s->received_prior = s->received;
	lost_int = (int64_t)exp_int - (int64_t)rec_int;
	if (exp_int == 0 || lost_int <= 0)
		rb->fraction_lost = 0;
	else if (lost_int >= exp_int)
		rb->fraction_lost = 255;
	else
		rb->fraction_lost = (uint8_t)(((uint64_t)lost_int << 8) / exp_int);
	rb->cum_lost = (int32_t)lost;
	rb->ext_high_seq = recv_stats_ext_max(s);
	rb->jitter = recv_stats_jitter(s);
	if (s->have_sr) {
		rb->lsr = s->lsr;
		rb->dlsr = now_tsc > s->sr_tsc && tsc_hz ? ntp_dlsr_from_tsc(now_tsc - s->sr_tsc, tsc_hz) : 0;
	} else {
		rb->lsr = 0;
		rb->dlsr = 0;
	}
	return 0;
}
