/*
 * gcc.c - Google Congestion Control for one receiver or one publisher (see gcc.h): delay-based
 * detector (inter-arrival groups -> trendline -> adaptive threshold), AIMD rate control, loss-based
 * v1, acked bitrate, probe clusters, REMB input. The structure follows libwebrtc's goog_cc
 * (InterArrival, TrendlineEstimator, AimdRateControl, SendSideBandwidthEstimation,
 * ProbeBitrateEstimator, ProbeController) as described in the notes; written from those
 * descriptions, not copied.
 */
#include <string.h>

#include "gcc.h"

#define SIG_UNDER  (-1)
#define SIG_NORMAL 0
#define SIG_OVER   1
#define SIG_HOLD   2      /* over-use put down to our own burst: no decrease, but no increase either */
#define ST_HOLD     0
#define ST_INCREASE 1
#define ST_DECREASE 2
#define RATE_MIN_SPAN_US 100000
#define PROBE_TIMEOUT_US 1000000
#define PROBE_BACKOFF_MIN_US 1000000
#define PROBE_BACKOFF_MAX_US 2000000
#define PROBE_GAIN 1.2                  /* a probe that raised less than this backs off */
#define LOSS_START_PHASE_US 2000000
#define LOSS_GUESS_PHASE_US 4000000   /* a loss decrease goes at most to beta x the receive rate */
#define ACK_RX_MIN_SPAN_US 20000

static int64_t fdiv64(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b && a < 0) ? q - 1 : q;
}

static double clampd(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* ---- rate over the last GCC_ACK_BUCKETS x 50 ms ------------------------------------------------ */

static void rate_add(struct gcc_rate *r, int64_t t, uint32_t bytes)
{
	int64_t b = fdiv64(t, GCC_ACK_BUCKET_US);

	if (!r->started) {
		r->started = 1;
		r->first_us = (uint64_t)t;
		r->latest_us = (uint64_t)t;
	}
	int64_t lb = fdiv64((int64_t)r->latest_us, GCC_ACK_BUCKET_US);
	if (b < lb - (GCC_ACK_BUCKETS - 1))
		return;                         /* older than the window */
	if (t > (int64_t)r->latest_us)
		r->latest_us = (uint64_t)t;
	unsigned i = (unsigned)((uint64_t)b % GCC_ACK_BUCKETS);
	if (r->bucket[i] != (uint64_t)b + 1) {
		r->bucket[i] = (uint64_t)b + 1;
		r->bytes[i] = 0;
	}
	r->bytes[i] += bytes;
}

static uint64_t rate_bps(const struct gcc_rate *r)
{
	if (!r->started)
		return 0;
	int64_t lb = fdiv64((int64_t)r->latest_us, GCC_ACK_BUCKET_US);
	int64_t from = (lb - (GCC_ACK_BUCKETS - 1)) * GCC_ACK_BUCKET_US;
	uint64_t bytes = 0;

	if (from < (int64_t)r->first_us)
		from = (int64_t)r->first_us;
	for (unsigned i = 0; i < GCC_ACK_BUCKETS; i++) {
		int64_t b = (int64_t)r->bucket[i] - 1;
		if (r->bucket[i] && b >= lb - (GCC_ACK_BUCKETS - 1) && b <= lb)
			bytes += r->bytes[i];
	}
	int64_t span = (int64_t)r->latest_us - from;
	if (span < RATE_MIN_SPAN_US)
		return 0;
	return bytes * 8ull * 1000000ull / (uint64_t)span;
}

/* One feedback's received bytes (n packets) over its receive and send spans. */
static void ack_sample(struct gcc *g, uint64_t bytes, uint64_t all_bytes, uint32_t n, int64_t rx_span,
		       uint64_t tx_span)
{
	if (n < 2 || tx_span == 0 || tx_span > 5000000)
		return;
	if (rx_span < 0)
		rx_span = 0;
	if (rx_span > 5000000)
		rx_span = 5000000;
	bytes = bytes * (n - 1) / n;            /* n packets span n - 1 intervals */
	all_bytes = all_bytes * (n - 1) / n;
	g->ack_all_bytes[g->ack_head] = (uint32_t)(all_bytes > UINT32_MAX ? UINT32_MAX : all_bytes);
	g->ack_rx_bps[g->ack_head] = rx_span >= ACK_RX_MIN_SPAN_US ? bytes * 8000000ull / (uint64_t)rx_span : 0;
	g->ack_bytes[g->ack_head] = (uint32_t)(bytes > UINT32_MAX ? UINT32_MAX : bytes);
	g->ack_rx_span[g->ack_head] = (uint32_t)rx_span;
	g->ack_tx_span[g->ack_head] = (uint32_t)tx_span;
	g->ack_head = (g->ack_head + 1) % GCC_ACK_SAMPLES;
	if (g->ack_n < GCC_ACK_SAMPLES)
		g->ack_n++;
}

/* What the acknowledged window's packets came at, by their receive times (0: too short to say). */
static uint64_t acked_rx_bps(const struct gcc *g)
{
	uint64_t bytes = 0, rx = 0;

	for (unsigned i = 0; i < g->ack_n; i++) {
		bytes += g->ack_all_bytes[i];
		rx += g->ack_rx_span[i];
	}
	return rx >= RATE_MIN_SPAN_US ? bytes * 8000000ull / rx : 0;
}

static void update_acked(struct gcc *g)
{
	if (g->remb_mode == 2) {                /* receive side: the incoming rate */
		g->acked_bps = rate_bps(&g->ack_rx);
		return;
	}
	uint64_t bytes = 0, rx = 0, tx = 0;
	for (unsigned i = 0; i < g->ack_n; i++) {
		bytes += g->ack_bytes[i];
		rx += g->ack_rx_span[i];
		tx += g->ack_tx_span[i];
	}
	if (!tx)
		return;
	uint64_t by_tx = bytes * 8000000ull / tx;
	uint64_t by_rx = rx ? bytes * 8000000ull / rx : by_tx;
	g->acked_bps = by_rx < by_tx ? by_rx : by_tx;
}

/* ---- delay-based detector ----------------------------------------------------------------------- */

static void threshold_update(struct gcc *g, double mod, double now_ms)
{
	double a = mod < 0 ? -mod : mod;

	if (!g->have_thresh_time) {
		g->have_thresh_time = 1;
		g->last_thresh_ms = now_ms;
	}
	if (a > g->thresh_ms + 15.0) {          /* a spike: do not adapt to it */
		g->last_thresh_ms = now_ms;
		return;
	}
	double k = a < g->thresh_ms ? GCC_K_DOWN : GCC_K_UP;
	double dt = clampd(now_ms - g->last_thresh_ms, 0, 100);
	g->thresh_ms = clampd(g->thresh_ms + k * (a - g->thresh_ms) * dt, GCC_THRESH_MIN_MS, GCC_THRESH_MAX_MS);
	g->last_thresh_ms = now_ms;
}

static void detect(struct gcc *g, double send_delta_ms, double now_ms)
{
	if (g->num_deltas < 2) {
		g->signal = SIG_NORMAL;
		return;
	}
	double n = g->num_deltas < 60 ? g->num_deltas : 60;
	double mod = n * g->trend * GCC_TREND_GAIN;

	if (mod > g->thresh_ms) {
		if (g->time_over_ms < 0)
			g->time_over_ms = send_delta_ms / 2;
		else
			g->time_over_ms += send_delta_ms;
		g->overuse_count++;
		if (g->time_over_ms > GCC_OVERUSE_MS && g->overuse_count >= GCC_OVERUSE_SAMPLES &&
		    g->trend >= g->prev_trend && g->det_send_us < g->burst_until_send_us) {
			/* the queue of a burst we sent in one go (a keyframe), draining: no pacer here
			 * spreads it, so the delay it makes says little about the path; not a decrease,
			 * but the estimate does not grow meanwhile (it did, at 8 %/s while keyframes came
			 * every 1.6 s: 1.25 Mbit/s on a 1 Mbit/s link) */
			g->time_over_ms = 0;
			g->overuse_count = 0;
			g->signal = SIG_HOLD;
			g->st.burst_ignored++;
		} else if (g->time_over_ms > GCC_OVERUSE_MS && g->overuse_count >= GCC_OVERUSE_SAMPLES &&
		    g->trend >= g->prev_trend) {
			g->time_over_ms = 0;
			g->overuse_count = 0;
			g->signal = SIG_OVER;
			g->batch_overuse = 1;
			g->st.overuse++;
		}
	} else if (mod < -g->thresh_ms) {
		g->time_over_ms = -1;
		g->overuse_count = 0;
		if (g->signal != SIG_UNDER)
			g->st.underuse++;
		g->signal = SIG_UNDER;
	} else {
		g->time_over_ms = -1;
		g->overuse_count = 0;
		g->signal = SIG_NORMAL;
	}
	g->prev_trend = g->trend;
	threshold_update(g, mod, now_ms);
}

static void trend_update(struct gcc *g, double send_delta_ms, double recv_delta_ms, double arrival_ms)
{
	double delta = recv_delta_ms - send_delta_ms;

	if (g->num_deltas < 1000)
		g->num_deltas++;
	if (!g->have_first_arrival) {
		g->have_first_arrival = 1;
		g->first_arrival_ms = arrival_ms;
	}
	g->acc_delay_ms += delta;
	g->smoothed_ms = GCC_TREND_SMOOTHING * g->smoothed_ms + (1 - GCC_TREND_SMOOTHING) * g->acc_delay_ms;
	g->hist_t[g->hist_head] = arrival_ms - g->first_arrival_ms;
	g->hist_d[g->hist_head] = g->smoothed_ms;
	g->hist_head = (g->hist_head + 1) % GCC_TREND_WINDOW;
	if (g->hist_n < GCC_TREND_WINDOW)
		g->hist_n++;
	if (g->hist_n == GCC_TREND_WINDOW) {    /* least-squares slope of delay over time */
		double mx = 0, my = 0, num = 0, den = 0;
		for (unsigned i = 0; i < GCC_TREND_WINDOW; i++) {
			mx += g->hist_t[i];
			my += g->hist_d[i];
		}
		mx /= GCC_TREND_WINDOW;
		my /= GCC_TREND_WINDOW;
		for (unsigned i = 0; i < GCC_TREND_WINDOW; i++) {
			num += (g->hist_t[i] - mx) * (g->hist_d[i] - my);
			den += (g->hist_t[i] - mx) * (g->hist_t[i] - mx);
		}
		if (den != 0)
			g->trend = num / den;
	}
	detect(g, send_delta_ms, arrival_ms);
}

/* A completed send group: one far larger than usual (a keyframe sent in one go; GCC_BURST_*)
 * queues at the bottleneck for about its size over the estimate; over-use signals of the groups
 * sent while that drains (twice that, + 100 ms, at most GCC_BURST_HOLD_MAX_US) are not taken. */
static void group_done(struct gcc *g)
{
	double b = (double)g->grp_bytes;

	if (g->grp_bytes >= GCC_BURST_MIN_BYTES && g->grp_avg_bytes > 0 &&
	    b >= GCC_BURST_FACTOR * g->grp_avg_bytes && g->delay_bps > 0) {
		double drain_us = b * 8e6 / g->delay_bps;
		uint64_t hold = (uint64_t)(2 * drain_us) + 100000;
		if (hold > GCC_BURST_HOLD_MAX_US)
			hold = GCC_BURST_HOLD_MAX_US;
		g->burst_until_send_us = g->grp_last_send + hold;
		b = GCC_BURST_FACTOR * g->grp_avg_bytes;   /* the average stays an average */
	}
	g->grp_avg_bytes = g->grp_avg_bytes > 0 ? g->grp_avg_bytes + (b - g->grp_avg_bytes) / 16 : b;
}

/* One packet (in send order) into the 5 ms send-time groups; a completed group pair feeds the
 * trendline. */
static void group_add(struct gcc *g, uint64_t send_us, int64_t arrival_us, uint32_t size)
{
	if (!g->grp_valid) {
		g->grp_valid = 1;
		g->grp_first_send = g->grp_last_send = send_us;
		g->grp_last_arrival = arrival_us;
		g->grp_bytes = size;
		return;
	}
	if (send_us < g->grp_first_send)
		return;                         /* older than the current group */
	if (send_us - g->grp_first_send <= GCC_GROUP_US) {
		if (send_us > g->grp_last_send)
			g->grp_last_send = send_us;
		if (arrival_us > g->grp_last_arrival)
			g->grp_last_arrival = arrival_us;
		g->grp_bytes += size;
		return;
	}
	group_done(g);
	g->det_send_us = g->grp_last_send;
	if (g->prev_valid) {
		double sd = (double)(g->grp_last_send - g->prev_last_send) / 1000.0;
		double rd = (double)(g->grp_last_arrival - g->prev_last_arrival) / 1000.0;
		trend_update(g, sd, rd, (double)g->grp_last_arrival / 1000.0);
		g->batch_groups++;
	}
	g->prev_valid = 1;
	g->prev_last_send = g->grp_last_send;
	g->prev_last_arrival = g->grp_last_arrival;
	g->grp_first_send = g->grp_last_send = send_us;
	g->grp_last_arrival = arrival_us;
	g->grp_bytes = size;
}

/* ---- AIMD ------------------------------------------------------------------------------------- */

static void cap_update(struct gcc *g, double sample_kbps)
{
	const double a = 0.05;

	if (!g->have_cap) {
		g->cap_kbps = sample_kbps;
		g->cap_dev = 0.4;
		g->have_cap = 1;
		return;
	}
	g->cap_kbps = (1 - a) * g->cap_kbps + a * sample_kbps;
	double norm = g->cap_kbps > 1 ? g->cap_kbps : 1, err = g->cap_kbps - sample_kbps;
	g->cap_dev = clampd((1 - a) * g->cap_dev + a * err * err / norm, 0.4, 2.5);
}

/* x outside cap +- 3 standard deviations (no sqrt: compare squares) */
static int cap_above(const struct gcc *g, double kbps)
{
	double d = kbps - g->cap_kbps;

	return d > 0 && d * d > 9 * g->cap_dev * g->cap_kbps;
}

static int cap_below(const struct gcc *g, double kbps)
{
	double d = g->cap_kbps - kbps;

	return d > 0 && d * d > 9 * g->cap_dev * g->cap_kbps;
}

static void aimd_update(struct gcc *g, uint64_t now_us, int signal)
{
	double cur = g->delay_bps, acked = (double)g->acked_bps, next = cur;
	uint64_t rtt = g->rtt_us ? g->rtt_us : 100000;
	uint64_t interval = rtt < 10000 ? 10000 : rtt > 200000 ? 200000 : rtt;

	if (signal == SIG_OVER) {
		if (g->aimd_last_decrease_us && now_us - g->aimd_last_decrease_us < interval &&
		    !(acked > 0 && acked < 0.5 * cur))
			return;                 /* reduced less than an RTT ago */
		g->aimd_state = ST_DECREASE;
	} else if (signal == SIG_UNDER || signal == SIG_HOLD) {
		g->aimd_state = ST_HOLD;
	} else if (g->aimd_state == ST_HOLD) {
		g->aimd_state = ST_INCREASE;
	}
	double dt = g->aimd_last_us && now_us > g->aimd_last_us ? (double)(now_us - g->aimd_last_us) / 1e6 : 0;
	if (dt > 1)
		dt = 1;

	switch (g->aimd_state) {
	case ST_INCREASE: {
		if (g->have_cap && acked > 0 && cap_above(g, acked / 1000))
			g->have_cap = 0;        /* the link got faster: far from capacity again */
		double inc;
		if (g->have_cap) {              /* near capacity: about one packet per response time */
			double resp_s = (double)(rtt + 100000) / 1e6;
			double bits_per_frame = cur / 30;
			double pkts = (double)(uint64_t)(bits_per_frame / (1200 * 8) + 0.999999);
			double pkt_bits = pkts > 0 ? bits_per_frame / pkts : bits_per_frame;
			double per_s = pkt_bits / resp_s;
			if (per_s < 4000)
				per_s = 4000;
			inc = per_s * dt;
		} else {                        /* far: x1.08 per second */
			inc = cur * GCC_AIMD_GROW * dt;
			if (inc < 1000 * dt)
				inc = 1000 * dt;
		}
		next = cur + inc;
		break;
	}
	case ST_DECREASE:
		/* the receive rate of a single recent feedback: while a queue drains (what over-use
		 * means), that is the path's rate; the mean over several can be our own lower send rate
		 * (no pacer: we send what the publishers send) */
		for (unsigned i = 0; i < g->ack_n; i++)
			if ((double)g->ack_rx_bps[i] > acked)
				acked = (double)g->ack_rx_bps[i];
		if (acked > 0) {
			if (g->have_cap && cap_below(g, acked / 1000))
				g->have_cap = 0;
			next = GCC_AIMD_BETA * acked;
			if (next > cur)
				next = g->have_cap && GCC_AIMD_BETA * g->cap_kbps * 1000 < cur ?
					GCC_AIMD_BETA * g->cap_kbps * 1000 : cur;
			cap_update(g, acked / 1000);
		} else {
			next = GCC_AIMD_BETA * cur;
		}
		g->aimd_state = ST_HOLD;
		g->aimd_last_decrease_us = now_us;
		break;
	default:
		break;
	}
	if (acked > 0) {                        /* never grow past 1.5 x what got through + 10 kbps */
		double lim = 1.5 * acked + 10000;
		if (next > cur && next > lim)
			next = cur > lim ? cur : lim;
	}
	g->delay_bps = clampd(next, (double)g->cfg.min_bps, (double)g->cfg.max_bps);
	g->aimd_last_us = now_us;
}

/* ---- loss-based v1 and the final target ------------------------------------------------------- */

static void minhist_push(struct gcc *g, uint64_t now_us, double bps)
{
	g->minhist_us[g->minhist_head] = now_us;
	g->minhist_bps[g->minhist_head] = bps;
	g->minhist_head = (g->minhist_head + 1) % GCC_MINHIST;
	if (g->minhist_n < GCC_MINHIST)
		g->minhist_n++;
}

static double minhist_min(const struct gcc *g, uint64_t now_us, double dflt)
{
	double m = -1;

	for (unsigned i = 0; i < g->minhist_n; i++) {
		unsigned k = (g->minhist_head + GCC_MINHIST - 1 - i) % GCC_MINHIST;
		if (now_us - g->minhist_us[k] > 1000000)
			break;
		if (m < 0 || g->minhist_bps[k] < m)
			m = g->minhist_bps[k];
	}
	return m < 0 ? dflt : m;
}

static void set_target(struct gcc *g)
{
	double t = g->delay_bps < g->loss_bps ? g->delay_bps : g->loss_bps;

	t = clampd(t, (double)g->cfg.min_bps, (double)g->cfg.max_bps);
	g->target_bps = (uint64_t)t;
}

static void loss_take_counts(struct gcc *g)
{
	if (g->loss_total < GCC_LOSS_MIN_PKTS)
		return;
	uint32_t f = (uint32_t)((uint64_t)g->loss_lost * 256 / g->loss_total);
	g->loss_frac = f > 255 ? 255 : (uint8_t)f;
	g->have_loss = 1;
	g->loss_decreased = 0;
	g->loss_lost = g->loss_total = 0;
}

static void loss_update(struct gcc *g, uint64_t now_us)
{
	double cur = clampd(g->delay_bps < g->loss_bps ? g->delay_bps : g->loss_bps, (double)g->cfg.min_bps,
			    (double)g->cfg.max_bps), next = cur;

	if (!g->have_loss || (g->loss_frac == 0 && now_us - g->start_us < LOSS_START_PHASE_US)) {
		next = g->delay_bps > cur ? g->delay_bps : cur;   /* trust the delay part at first */
	} else {
		double frac = g->loss_frac / 256.0;
		if (frac <= GCC_LOSS_LOW) {
			next = 1.08 * minhist_min(g, now_us, cur) + 1000;
		} else if (frac > GCC_LOSS_HIGH) {
			uint64_t wait = GCC_LOSS_DECREASE_US + g->rtt_us;
			if (!g->loss_decreased && (!g->loss_last_decrease_us ||
						   now_us - g->loss_last_decrease_us >= wait)) {
				next = cur * (1 - 0.5 * frac);
				/* the start: an estimate no probe has raised is the start value, a guess. A
				 * tail-drop queue that overflowed at once (the start's rate and probes into a
				 * narrow link) shows no delay gradient (its delay stands at its depth), only
				 * loss; what got through, at its receive rate, is what the path carries. Down to
				 * GCC's over-use answer, beta x that rate (libwebrtc's loss-based v1.5 fell to
				 * the acknowledged rate too), not 1 - loss/2 per 300 ms from the guess: that took
				 * 2 s and left a 300 kbit/s receiver on layers its link could not carry. Only
				 * lower: a receiver that lies about its arrival times gains nothing by it. */
				uint64_t rx_bps = acked_rx_bps(g);
				if (!g->loss_from_send_us && !g->st.probes_ok && g->ack_n == GCC_ACK_SAMPLES &&
				    now_us - g->start_us < LOSS_GUESS_PHASE_US && rx_bps &&
				    next > GCC_AIMD_BETA * (double)rx_bps) {
					next = GCC_AIMD_BETA * (double)rx_bps;
					g->loss_from_send_us = now_us;   /* the rest of that overflow: not again */
					if (g->delay_bps > next)          /* the guess was the delay part's too */
						g->delay_bps = next;
					/* carried, so the allocation may use it; never above the guess (a
					 * receiver's compressed arrivals would make it anything) */
					g->probe_seen_bps = rx_bps < (uint64_t)cur ? rx_bps : (uint64_t)cur;
				}
				g->loss_decreased = 1;
				g->loss_last_decrease_us = now_us;
			}
		}
	}
	g->loss_bps = clampd(next, (double)g->cfg.min_bps, (double)g->cfg.max_bps);
	set_target(g);
	minhist_push(g, now_us, (double)g->target_bps);
}

/* ---- probes ----------------------------------------------------------------------------------- */

uint64_t gcc_proven_bps(const struct gcc *g)
{
	uint64_t t = g->target_bps, seen = g->acked_bps * 3 / 2;

	if (!g->acked_bps || g->remb_mode)
		return t;
	if (g->probe_seen_bps > seen)
		seen = g->probe_seen_bps;
	return t < seen ? t : seen;
}

static struct gcc_probe_state *probe_find(struct gcc *g, uint8_t id)
{
	for (unsigned i = 0; i < GCC_PROBE_CLUSTERS; i++)
		if (g->probe[i].id == id)
			return &g->probe[i];
	return NULL;
}

static void probe_account(struct gcc *g, const struct send_log_entry *e, uint64_t send_us, int received,
			  int64_t arrival_us)
{
	struct gcc_probe_state *c = probe_find(g, e->probe_cluster);

	if (!c || c->done)
		return;
	if (!c->sent_pkts || send_us < c->first_send_us)
		c->first_send_us = send_us;
	if (!c->sent_pkts || send_us >= c->last_send_us) {
		c->last_send_us = send_us;
		c->last_send_size = e->size;
	}
	c->sent_pkts++;
	c->sent_bytes += e->size;
	if (!received)
		return;
	if (!c->recv_pkts || arrival_us < c->first_recv_us) {
		c->first_recv_us = arrival_us;
		c->first_recv_size = e->size;
	}
	if (!c->recv_pkts || arrival_us > c->last_recv_us)
		c->last_recv_us = arrival_us;
	c->recv_pkts++;
	c->recv_bytes += e->size;
	if (!c->have_mid && (uint64_t)c->recv_bytes * 2 >= c->bytes) {
		c->have_mid = 1;
		c->mid_bytes = c->recv_bytes;
		c->mid_recv_us = arrival_us;
	}
}

/* A finished cluster's estimate (0: not valid). */
static uint64_t probe_result(const struct gcc_probe_state *c)
{
	if (c->recv_pkts < GCC_PROBE_MIN_PKTS || c->recv_pkts * 10 < c->sent_pkts * 8)
		return 0;
	int64_t rspan = c->last_recv_us - c->first_recv_us;
	if (rspan <= 0 || rspan > 1000000)
		return 0;
	double recv = (double)(c->recv_bytes - c->first_recv_size) * 8e6 / (double)rspan;
	/* a train (sent in under 5 ms): its second half alone. A shaper's burst allowance (a token
	 * bucket's depth) lets the head of a train through at once, the tail comes at the path's
	 * rate; a tail in less than 1 ms: the path is far faster than the cluster. (A paced cluster
	 * is compared with its send rate below.) */
	if (c->last_send_us - c->first_send_us < 5000 && c->have_mid && c->last_recv_us > c->mid_recv_us &&
	    c->recv_bytes > c->mid_bytes) {
		int64_t tspan = c->last_recv_us - c->mid_recv_us;
		double tail = tspan >= 1000 ? (double)(c->recv_bytes - c->mid_bytes) * 8e6 / (double)tspan :
			      (double)c->bps;
		if (tail < recv)
			recv = tail;
	}
	double res = recv;
	uint64_t sspan = c->last_send_us - c->first_send_us;
	if (sspan >= 5000) {                    /* paced: compare with the send rate */
		double send = (double)(c->sent_bytes - c->last_send_size) * 8e6 / (double)sspan;
		if (send > 2 * recv)
			return 0;
		if (recv > send)
			res = send;
		else if (recv < 0.9 * send)
			res = 0.95 * recv;
	}
	if (res > (double)c->bps)               /* never more than it was sent at */
		res = (double)c->bps;
	return (uint64_t)res;
}

static void probe_finish(struct gcc *g, struct gcc_probe_state *c, uint64_t now_us)
{
	uint64_t r = probe_result(c), proven = gcc_proven_bps(g);

	c->done = 1;
	if (r)
		g->probe_seen_bps = r;
	if (r && r > (uint64_t)g->delay_bps && !g->batch_overuse && g->signal != SIG_OVER) {
		double before = g->delay_bps;
		g->st.probes_ok++;
		g->probe_bps = r;
		g->delay_bps = clampd((double)r, (double)g->cfg.min_bps, (double)g->cfg.max_bps);
		if (g->loss_bps < g->delay_bps)
			g->loss_bps = g->delay_bps;
		g->minhist_n = 0;
		g->probe_ok_start_us = c->start_us;
		if ((double)r >= PROBE_GAIN * before) {
			g->probe_backoff_us = PROBE_BACKOFF_MIN_US;
			g->probe_2x_bps = r * 10 >= c->bps * 7 ? 2 * r : 0;
			g->probe_next_us = g->probe_2x_bps ? now_us : now_us + PROBE_BACKOFF_MIN_US;
			return;
		}
		/* it raised a little: the estimate is near what the path carries; probing on every
		 * second toward an allocation the path cannot carry only loads it: back off */
		g->probe_2x_bps = 0;
		g->probe_next_us = now_us + g->probe_backoff_us;
		g->probe_backoff_us = g->probe_backoff_us * 2 > PROBE_BACKOFF_MAX_US ? PROBE_BACKOFF_MAX_US :
			g->probe_backoff_us * 2;
	} else {
		g->st.probes_failed++;
		if (r && r * 10 >= c->bps * 7 && (double)r >= PROBE_GAIN * (double)proven) {
			/* carried, below the estimate but well above what was proven before it: on at
			 * twice it. (Not when it only equals what was proven: the result of the last
			 * failed probe is proven, and every cluster would be followed by another at once,
			 * trains that overload the path they measure.) */
			g->probe_2x_bps = 2 * r;
			g->probe_next_us = now_us;
			return;
		}
		if (g->st.probes_ok && c->start_us <= g->probe_ok_start_us)
			return;                 /* sent with a cluster that did raise it: no backoff */
		if (g->probe_fail_us && c->start_us <= g->probe_fail_us)
			return;                 /* sent before the last failure backed off: one backoff */
		g->probe_fail_us = now_us;
		g->probe_2x_bps = 0;
		g->probe_next_us = now_us + g->probe_backoff_us;
		g->probe_backoff_us = g->probe_backoff_us * 2 > PROBE_BACKOFF_MAX_US ? PROBE_BACKOFF_MAX_US :
			g->probe_backoff_us * 2;
	}
}

static void probes_check(struct gcc *g, uint64_t now_us)
{
	for (unsigned i = 0; i < GCC_PROBE_CLUSTERS; i++) {
		struct gcc_probe_state *c = &g->probe[i];
		if (!c->id || c->done)
			continue;
		if (c->sent_bytes >= c->bytes || now_us - c->start_us > PROBE_TIMEOUT_US)
			probe_finish(g, c, now_us);
	}
}

static int probe_make(struct gcc *g, uint64_t now_us, uint64_t bps, struct gcc_probe *p)
{
	struct gcc_probe_state *c = &g->probe[0];

	if (bps > g->cfg.max_bps)
		bps = g->cfg.max_bps;
	for (unsigned i = 0; i < GCC_PROBE_CLUSTERS; i++)
		if (!g->probe[i].id || g->probe[i].done) {
			c = &g->probe[i];
			break;
		} else if (g->probe[i].start_us < c->start_us) {
			c = &g->probe[i];
		}
	memset(c, 0, sizeof(*c));
	if (++g->probe_next_id == 0)
		g->probe_next_id = 1;
	c->id = g->probe_next_id;
	c->bps = bps;
	c->start_us = now_us;
	uint64_t bytes = bps * GCC_PROBE_CLUSTER_US / 8000000;
	if (bytes < GCC_PROBE_MIN_PKTS * GCC_PROBE_MIN_BYTES)
		bytes = GCC_PROBE_MIN_PKTS * GCC_PROBE_MIN_BYTES;
	if (bytes < g->cfg.probe_min_bytes)
		bytes = g->cfg.probe_min_bytes;
	c->bytes = (uint32_t)bytes;
	p->id = c->id;
	p->bps = bps;
	p->bytes = c->bytes;
	p->min_pkts = GCC_PROBE_MIN_PKTS;
	if (bps > g->probe_peak_bps || now_us - g->probe_peak_us > 5000000) {
		g->probe_peak_bps = bps;
		g->probe_peak_us = now_us;
	}
	g->st.probes_sent++;
	return 1;
}

int gcc_probe_request(struct gcc *g, uint64_t now_us, uint64_t want_bps, struct gcc_probe *p)
{
	if (g->initial_probes) {
		uint64_t m = g->initial_probes == 2 ? 3 : 6;
		g->initial_probes--;
		return probe_make(g, now_us, m * g->cfg.start_bps, p);
	}
	probes_check(g, now_us);
	for (unsigned i = 0; i < GCC_PROBE_CLUSTERS; i++)
		if (g->probe[i].id && !g->probe[i].done)
			return 0;               /* one in flight */
	if (want_bps > g->cfg.max_bps)
		want_bps = g->cfg.max_bps;
	uint64_t proven = gcc_proven_bps(g);
	if (want_bps <= proven || g->signal == SIG_OVER || now_us < g->probe_next_us ||
	    (g->aimd_last_decrease_us && now_us - g->aimd_last_decrease_us < 1000000))
		return 0;
	uint64_t bps = want_bps;                /* at most twice the estimate (or the result) at a time */
	uint64_t step = g->probe_2x_bps ? g->probe_2x_bps : 2 * proven;
	if (step < bps)
		bps = step;
	g->probe_2x_bps = 0;
	g->probe_next_us = now_us + g->probe_backoff_us;
	return probe_make(g, now_us, bps, p);
}

/* ---- inputs ----------------------------------------------------------------------------------- */

void gcc_init(struct gcc *g, const struct gcc_cfg *cfg, uint64_t now_us)
{
	memset(g, 0, sizeof(*g));
	g->cfg = *cfg;
	if (g->cfg.min_bps < 1000)
		g->cfg.min_bps = 1000;
	if (g->cfg.max_bps < g->cfg.min_bps)
		g->cfg.max_bps = g->cfg.min_bps;
	if (g->cfg.start_bps < g->cfg.min_bps)
		g->cfg.start_bps = g->cfg.min_bps;
	if (g->cfg.start_bps > g->cfg.max_bps)
		g->cfg.start_bps = g->cfg.max_bps;
	g->delay_bps = g->loss_bps = (double)g->cfg.start_bps;
	g->target_bps = g->cfg.start_bps;
	g->thresh_ms = GCC_THRESH_INIT_MS;
	g->time_over_ms = -1;
	g->initial_probes = 2;
	g->probe_backoff_us = PROBE_BACKOFF_MIN_US;
	g->start_us = now_us;
}

unsigned gcc_on_twcc(struct gcc *g, uint64_t now_us, const struct twcc_fb *fb, const struct twcc_status *st,
		     unsigned n, struct send_log *log)
{
	unsigned refused = 0, used = 0;
	uint64_t bytes = 0, all_bytes = 0, tx_first = 0, tx_last = 0;
	int64_t rx_first = 0, rx_last = 0;

	(void)fb;
	g->st.feedback++;
	g->batch_overuse = 0;
	g->batch_groups = 0;
	for (unsigned i = 0; i < n; i++) {
		struct send_log_entry *e = send_log_find(log, st[i].seq);
		if (!e) {
			g->st.unknown++;
			refused++;
			continue;
		}
		if (!st[i].received) {
			if (!(e->flags & SEND_LOG_REPORTED)) {
				e->flags |= SEND_LOG_REPORTED;
				if (!g->loss_from_send_us || send_log_time(log, e) >= g->loss_from_send_us) {
					g->loss_total++;
					g->loss_lost++;
				}
				if (e->probe_cluster)
					probe_account(g, e, send_log_time(log, e), 0, 0);
			}
			continue;
		}
		if (e->flags & SEND_LOG_ACKED) {
			g->st.dup++;
			refused++;
			continue;
		}
		int64_t arrival = st[i].arrival_us;
		uint64_t send_us = send_log_time(log, e);
		if (g->have_last) {
			int64_t jump = (arrival - g->last_arrival) - ((int64_t)send_us - (int64_t)g->last_send);
			if ((jump > GCC_ABSURD_US || jump < -GCC_ABSURD_US) && ++g->absurd_run < 100) {
				g->st.absurd++;
				refused++;
				continue;
			}
		}
		g->absurd_run = 0;
		if (g->loss_from_send_us && send_us < g->loss_from_send_us)
			;                       /* sent at the start's guess, answered by its cut */
		else if (!(e->flags & SEND_LOG_REPORTED))
			g->loss_total++;
		else if (g->loss_lost)
			g->loss_lost--;         /* reported lost before, arrived late */
		e->flags |= SEND_LOG_REPORTED | SEND_LOG_ACKED;
		if (!used || arrival < rx_first)
			rx_first = arrival;
		if (!used || arrival > rx_last)
			rx_last = arrival;
		if (!used || send_us < tx_first)
			tx_first = send_us;
		if (!used || send_us > tx_last)
			tx_last = send_us;
		if (!e->probe_cluster)
			bytes += e->size;       /* acked: media only (probe trains would inflate the cap) */
		all_bytes += e->size;
		used++;
		if (e->probe_cluster)
			probe_account(g, e, send_us, 1, arrival);
		if (g->have_last && arrival < g->last_arrival) {
			g->st.reordered++;      /* used for loss and throughput, not for delay */
			refused++;
			continue;
		}
		g->have_last = 1;
		g->last_arrival = arrival;
		g->last_send = send_us;
		group_add(g, send_us, arrival, e->size);
	}
	if (!used)
		return refused;                 /* nothing believable: nothing changes */
	ack_sample(g, bytes, all_bytes, used, rx_last - rx_first, tx_last - tx_first);
	update_acked(g);
	probes_check(g, now_us);
	if (!g->remb_mode)
		aimd_update(g, now_us, g->batch_overuse ? SIG_OVER : g->signal);
	loss_take_counts(g);
	loss_update(g, now_us);
	return refused;
}

void gcc_on_remb(struct gcc *g, uint64_t now_us, uint64_t bps, const struct send_log *log)
{
	double cur = g->delay_bps, next = (double)bps;

	g->remb_mode = 1;
	g->remb_bps = bps;
	if (log && next > cur) {
		double lim = 1.5 * (double)send_log_rate_bps(log, now_us) + 10000;
		if (now_us - g->probe_peak_us <= 5000000 && (double)g->probe_peak_bps > lim)
			lim = (double)g->probe_peak_bps;
		if (next > lim) {
			g->st.remb_capped++;
			next = cur > lim ? cur : lim;
		}
	}
	g->delay_bps = clampd(next, (double)g->cfg.min_bps, (double)g->cfg.max_bps);
	loss_update(g, now_us);
}

void gcc_on_loss(struct gcc *g, uint64_t now_us, uint32_t lost, uint32_t expected)
{
	if (lost > expected)
		lost = expected;
	g->loss_lost += lost;
	g->loss_total += expected;
	loss_take_counts(g);
	loss_update(g, now_us);
}

void gcc_on_rtt(struct gcc *g, uint64_t rtt_us)
{
	g->rtt_us = rtt_us > 10000000 ? 10000000 : rtt_us;
}

void gcc_on_arrival(struct gcc *g, uint64_t send_us, uint64_t arrival_us, uint32_t size)
{
	g->remb_mode = 2;
	g->batch_overuse = 0;
	g->batch_groups = 0;
	rate_add(&g->ack_rx, (int64_t)arrival_us, size);
	group_add(g, send_us, (int64_t)arrival_us, size);
	if (!g->batch_groups)
		return;
	update_acked(g);
	aimd_update(g, arrival_us, g->batch_overuse ? SIG_OVER : g->signal);
	g->loss_bps = g->delay_bps;
	set_target(g);
}

uint64_t gcc_target_bps(const struct gcc *g) { return g->target_bps; }
uint64_t gcc_delay_bps(const struct gcc *g) { return (uint64_t)g->delay_bps; }
uint64_t gcc_loss_bps(const struct gcc *g) { return (uint64_t)g->loss_bps; }
uint8_t gcc_loss_frac(const struct gcc *g) { return g->loss_frac; }
uint64_t gcc_acked_bps(const struct gcc *g) { return g->acked_bps; }

uint64_t gcc_probe_result_bps(const struct gcc *g) { return g->probe_seen_bps; }

uint64_t gcc_last_decrease_us(const struct gcc *g)
{
	return g->aimd_last_decrease_us > g->loss_last_decrease_us ? g->aimd_last_decrease_us :
	       g->loss_last_decrease_us;
}
