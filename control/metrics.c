/*
 * metrics.c - the Prometheus text page of GET /metrics (see metrics.h). Counters are read from the
 * dataplane's shared segment with relaxed loads, as `mmrctl stats` does (render.c).
 */
#define _GNU_SOURCE
#include "metrics.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "values.h"

static uint64_t rd(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static uint32_t rd32(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

void metrics_label_value(struct outbuf *out, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\')
			ob_puts(out, "\\\\");
		else if (*v == '"')
			ob_puts(out, "\\\"");
		else if (*v == '\n')
			ob_puts(out, "\\n");
		else
			ob_char(out, *v);
	}
}

void metrics_family(struct outbuf *out, const char *name, const char *type, const char *help)
{
	ob_printf(out, "# HELP %s ", name);
	for (const char *h = help; *h; h++) {
		if (*h == '\\')
			ob_puts(out, "\\\\");
		else if (*h == '\n')
			ob_puts(out, "\\n");
		else
			ob_char(out, *h);
	}
	ob_printf(out, "\n# TYPE %s %s\n", name, type);
}

bool metrics_doc_is_value(const char *doc)
{
	size_t n = strlen(doc), k = strlen("; a value");
	return n >= k && strcmp(doc + n - k, "; a value") == 0;
}

/* Does a list entry's name end in _us (microseconds)? Prometheus wants base units: its family is
 * NAME_seconds and its samples are divided by 1e6. */
static bool entry_in_us(const char *entry)
{
	size_t n = strlen(entry);
	return n > 3 && strcmp(entry + n - 3, "_us") == 0;
}

/* A list entry's family: mmr_PREFIXNAME_total (a count) or mmr_PREFIXNAME (a value). */
static const char *entry_family(struct outbuf *out, char *name, size_t cap, const char *prefix, const char *entry,
				const char *doc)
{
	bool value = metrics_doc_is_value(doc);
	if (entry_in_us(entry))
		snprintf(name, cap, "mmr_%s%.*s_seconds%s", prefix, (int)strlen(entry) - 3, entry, value ? "" : "_total");
	else
		snprintf(name, cap, "mmr_%s%s%s", prefix, entry, value ? "" : "_total");
	metrics_family(out, name, value ? "gauge" : "counter", doc);
	return name;
}

/* " VALUE\n" of a list entry's sample (microseconds as seconds) */
static void entry_value(struct outbuf *out, const char *entry, uint64_t v)
{
	if (entry_in_us(entry))
		ob_printf(out, " %.6f\n", (double)v / 1e6);
	else
		ob_printf(out, " %llu\n", (unsigned long long)v);
}

static void sample_u64(struct outbuf *out, const char *name, const char *labels, uint64_t v)
{
	ob_printf(out, "%s%s%s%s %llu\n", name, labels[0] ? "{" : "", labels, labels[0] ? "}" : "",
		  (unsigned long long)v);
}

static void gauge1(struct outbuf *out, const char *name, const char *help, double v)
{
	metrics_family(out, name, "gauge", help);
	ob_printf(out, "%s %.17g\n", name, v);
}

static void counter1(struct outbuf *out, const char *name, const char *help, uint64_t v)
{
	metrics_family(out, name, "counter", help);
	ob_printf(out, "%s %llu\n", name, (unsigned long long)v);
}

/* ---- the counters area -------------------------------------------------------------------------- */

/* The port counters (stats.h, struct mmr_port_stats): not a list there, named here once. */
static const struct {
	const char *name;
	size_t off;
	bool value;
	const char *help;
} port_fields[] = {
	{ "rx_packets", offsetof(struct mmr_port_stats, ipackets), false, "packets the port received" },
	{ "tx_packets", offsetof(struct mmr_port_stats, opackets), false, "packets the port sent" },
	{ "rx_bytes", offsetof(struct mmr_port_stats, ibytes), false, "bytes the port received" },
	{ "tx_bytes", offsetof(struct mmr_port_stats, obytes), false, "bytes the port sent" },
	{ "rx_missed", offsetof(struct mmr_port_stats, imissed), false,
	  "packets the port dropped: its RX queues were full" },
	{ "rx_errors", offsetof(struct mmr_port_stats, ierrors), false, "erroneous packets the port received" },
	{ "tx_errors", offsetof(struct mmr_port_stats, oerrors), false, "packets the port failed to send" },
	{ "rx_nombuf", offsetof(struct mmr_port_stats, rx_nombuf), false, "RX mbuf allocation failures" },
	{ "flow_rules", offsetof(struct mmr_port_stats, flow_rules), true,
	  "rte_flow rules steering a participant to its meeting's owner queue, installed now" },
	{ "flow_failed", offsetof(struct mmr_port_stats, flow_failed), false, "rte_flow rules the port refused" },
};

void metrics_render_area(struct outbuf *out, const struct mmr_stats_area *st)
{
	char name[128], lab[64];
	for (unsigned f = 0; f < sizeof(port_fields) / sizeof(port_fields[0]); f++) {
		snprintf(name, sizeof(name), "mmr_port_%s%s", port_fields[f].name, port_fields[f].value ? "" : "_total");
		metrics_family(out, name, port_fields[f].value ? "gauge" : "counter", port_fields[f].help);
		for (unsigned i = 0; i < MMR_MAX_PORTS; i++) {
			const struct mmr_port_stats *p = &st->port[i];
			if (!rd32(&p->active))
				continue;
			ob_printf(out, "%s{port=\"%u\",name=\"", name, rd32(&p->port_id));
			char pn[sizeof(p->name) + 1];
			memcpy(pn, p->name, sizeof(p->name));
			pn[sizeof(p->name)] = '\0';
			metrics_label_value(out, pn);
			ob_printf(out, "\"} %llu\n",
				  (unsigned long long)rd((const uint64_t *)((const char *)p + port_fields[f].off)));
		}
	}
	for (unsigned c = 0; c < MMR_LC__COUNT; c++) {
		entry_family(out, name, sizeof(name), "", mmr_lcore_counter_names[c], mmr_lcore_counter_docs[c]);
		for (unsigned i = 0; i < MMR_MAX_LCORES; i++) {
			const struct mmr_lcore_stats *l = &st->lcore[i];
			if (!rd32(&l->active))
				continue;
			snprintf(lab, sizeof(lab), "lcore=\"%u\"", rd32(&l->lcore_id));
			sample_u64(out, name, lab, rd(&l->c[c]));
		}
	}
	metrics_family(out, "mmr_drops_total", "counter",
		       "packets (or copies) the dataplane dropped, by lcore and reason (mmr_drop_reason_info "
		       "gives each reason's meaning)");
	for (unsigned i = 0; i < MMR_MAX_LCORES; i++) {
		const struct mmr_lcore_stats *l = &st->lcore[i];
		if (!rd32(&l->active))
			continue;
		for (unsigned d = 1; d < MMR_DROP__COUNT; d++)
			ob_printf(out, "mmr_drops_total{lcore=\"%u\",reason=\"%s\"} %llu\n", rd32(&l->lcore_id),
				  mmr_drop_names[d], (unsigned long long)rd(&l->drops[d]));
	}
	metrics_family(out, "mmr_drop_reason_info", "gauge", "the drop reasons (label reason) and their meaning");
	for (unsigned d = 1; d < MMR_DROP__COUNT; d++) {
		ob_printf(out, "mmr_drop_reason_info{reason=\"%s\",meaning=\"", mmr_drop_names[d]);
		metrics_label_value(out, mmr_drop_docs[d]);
		ob_puts(out, "\"} 1\n");
	}
	for (unsigned k = 0; k < MMR_CC__COUNT; k++) {
		entry_family(out, name, sizeof(name), "dp_control_", mmr_ctl_counter_names[k], mmr_ctl_counter_docs[k]);
		sample_u64(out, name, "", rd(&st->ctl.c[k]));
	}
}

/* ---- the whole page ----------------------------------------------------------------------------- */

/* meeting="M",participant="P" */
static void part_labels(struct outbuf *out, const struct model *m, uint32_t p)
{
	const struct m_participant *pp = &m->parts[p];
	ob_puts(out, "meeting=\"");
	metrics_label_value(out, m->meetings[pp->meeting].name);
	ob_puts(out, "\",participant=\"");
	metrics_label_value(out, pp->name);
	ob_puts(out, "\"");
}

static void render_streams(struct outbuf *out, const struct model *m, const struct mmr_stats_area *st)
{
	char name[128];
	for (unsigned k = 0; k < MMR_SC__COUNT; k++) {
		entry_family(out, name, sizeof(name), "stream_", mmr_stream_counter_names[k], mmr_stream_counter_docs[k]);
		for (uint32_t s = 0; s < model_stream_bound(m); s++) {
			const struct m_stream *ss = &m->streams[s];
			if (!ss->used)
				continue;
			ob_printf(out, "%s{", name);
			part_labels(out, m, ss->participant);
			ob_printf(out, ",stream=\"%u\",ssrc=\"%u\",kind=\"%s\"}", s, ss->ssrc, val_kind_name(ss->kind));
			entry_value(out, mmr_stream_counter_names[k], rd(&st->stream[s].c[k]));
		}
	}
}

static void render_participants(struct outbuf *out, const struct model *m, const struct mmr_stats_area *st)
{
	char name[128];
	for (unsigned k = 0; k < MMR_PC__COUNT; k++) {
		entry_family(out, name, sizeof(name), "participant_", mmr_participant_counter_names[k],
			     mmr_participant_counter_docs[k]);
		for (uint32_t p = 0; p < model_part_bound(m); p++) {
			if (!m->parts[p].used)
				continue;
			ob_printf(out, "%s{", name);
			part_labels(out, m, p);
			ob_puts(out, "}");
			entry_value(out, mmr_participant_counter_names[k], rd(&st->participant[p].c[k]));
		}
	}
}

static void render_meetings(struct outbuf *out, const struct model *m)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} f[] = {
		{ "mmr_meeting_participants", "participants in the meeting", offsetof(struct m_meeting, n_parts) },
		{ "mmr_meeting_streams", "streams published in the meeting", offsetof(struct m_meeting, n_streams) },
		{ "mmr_meeting_subscriptions", "subscriptions in the meeting", offsetof(struct m_meeting, n_subs) },
	};
	for (unsigned k = 0; k < sizeof(f) / sizeof(f[0]); k++) {
		metrics_family(out, f[k].name, "gauge", f[k].help);
		for (uint32_t i = 0; i < model_meeting_bound(m); i++) {
			const struct m_meeting *mm = &m->meetings[i];
			if (!mm->used)
				continue;
			ob_printf(out, "%s{meeting=\"", f[k].name);
			metrics_label_value(out, mm->name);
			ob_printf(out, "\"} %u\n", *(const uint32_t *)((const char *)mm + f[k].off));
		}
	}
}

void metrics_render(const struct ctl_ctx *ctx, const struct metrics_http *http, struct outbuf *out)
{
	const struct model *m = ctx->model;
	const struct dp_link *dp = ctx->dp;
	uint64_t now = mmr_now_ns();
	const struct mmr_shm *s = dp->attached ? dp->ch.shm : NULL;

	/* the controller */
	gauge1(out, "mmr_controller_uptime_seconds", "seconds since the controller started",
	       (double)(now - ctx->start_ns) / 1e9);
	counter1(out, "mmr_controller_requests_total", "requests served (control socket and HTTP API)", ctx->requests);
	if (ctx->zone) {
		const struct zone_stats *z = &ctx->zstats;
		counter1(out, "mmr_zone_etcd_requests_total", "calls to etcd (each member tried counts once)", z->etcd.requests);
		counter1(out, "mmr_zone_etcd_errors_total", "etcd calls that failed (transport, status, bad answer)",
			 z->etcd.errors);
		counter1(out, "mmr_zone_etcd_timeouts_total", "etcd calls that ran out of time (also in errors)",
			 z->etcd.timeouts);
		counter1(out, "mmr_zone_etcd_failovers_total", "moves to the next etcd member after a failure",
			 z->etcd.failovers);
		counter1(out, "mmr_zone_refused_total", "zone requests refused because etcd was unreachable", z->refused);
		counter1(out, "mmr_zone_full_total", "meeting creations refused: no zone host had room", z->full);
		counter1(out, "mmr_zone_redirects_total", "requests about a meeting placed on another host", z->redirects);
		counter1(out, "mmr_zone_failover_moved_total", "meetings of hosts that left the zone this host placed again",
			 z->failover_moved);
		counter1(out, "mmr_zone_rejoin_told_total", "event streams of moved meetings told to join again",
			 z->rejoin_told);
		gauge1(out, "mmr_zone_registered", "1 while this host is registered in the zone under a live lease",
		       z->registered ? 1 : 0);
	}
	counter1(out, "mmr_controller_changes_total", "changes saved in the state's lineage (state_changes)",
		 m->state_changes);
	gauge1(out, "mmr_journal_records", "change records in the journal now", (double)ctx->store->jrecords);
	gauge1(out, "mmr_journal_bytes", "durable bytes in the journal now", (double)ctx->store->jbytes);
	gauge1(out, "mmr_snapshot_bytes", "size of the last state snapshot", (double)ctx->store->snap_bytes);
	counter1(out, "mmr_journal_commits_total", "batches of changes made durable", ctx->store->commits);
	counter1(out, "mmr_journal_compactions_total", "journal compactions into a snapshot", ctx->store->compactions);
	metrics_family(out, "mmr_http_requests_total", "counter", "HTTP API requests answered, by status code");
	for (unsigned c = 100; http && c < METRICS_MAX_STATUS; c++)
		if (http->by_status[c])
			ob_printf(out, "mmr_http_requests_total{code=\"%u\"} %llu\n", c,
				  (unsigned long long)http->by_status[c]);
	/* the model */
	gauge1(out, "mmr_meetings", "meetings", m->n_meetings);
	gauge1(out, "mmr_participants", "participants", m->n_parts);
	gauge1(out, "mmr_streams", "streams", m->n_streams);
	gauge1(out, "mmr_subscriptions", "subscriptions", m->n_subs);
	render_meetings(out, m);
	/* the command channel (dp_link.h) */
	gauge1(out, "mmr_dataplane_attached", "1 while the controller drives a dataplane", s ? 1 : 0);
	gauge1(out, "mmr_dataplane_fenced", "1 once another controller took the dataplane over", dp->fenced ? 1 : 0);
	gauge1(out, "mmr_dataplane_held", "1 while the dataplane's tables come from another state (not replayed)",
	       dp->held ? 1 : 0);
	counter1(out, "mmr_dataplane_syncs_total", "full resynchronisations started", dp->syncs);
	counter1(out, "mmr_dataplane_resyncs_total", "full syncs of our own state because of a stale producer",
		 dp->resyncs);
	gauge1(out, "mmr_commands_queued", "commands waiting in the controller for room in the ring",
	       (double)dp->fifo_len);
	counter1(out, "mmr_events_read_total", "dataplane events read", dp->ev.received);
	counter1(out, "mmr_events_lost_total", "dataplane events lost (rings full)", dp->ev.lost);
	counter1(out, "mmr_events_stale_total", "dataplane events about objects that changed since", dp->ev.stale);
	counter1(out, "mmr_events_bad_total", "dataplane events that could not be read", dp->ev.bad);
	counter1(out, "mmr_ssrc_learned_total", "SSRCs learned from the dataplane's reports", dp->ev.ssrc_learned);
	if (!s)
		return;
	uint64_t hb = atomic_load_explicit(&s->dp_heartbeat_ns, memory_order_relaxed);
	uint64_t head = atomic_load_explicit(&s->head, memory_order_relaxed);
	uint64_t tail = atomic_load_explicit(&s->tail, memory_order_relaxed);
	gauge1(out, "mmr_dataplane_heartbeat_age_seconds", "age of the dataplane's last heartbeat",
	       hb && hb < now ? (double)(now - hb) / 1e9 : 0);
	counter1(out, "mmr_commands_pushed_total", "commands the controller put in the ring (its tail)", tail);
	counter1(out, "mmr_commands_consumed_total", "commands the dataplane took from the ring (its head)", head);
	gauge1(out, "mmr_commands_in_flight", "commands in the ring not yet taken", (double)(tail - head));
	counter1(out, "mmr_commands_rejected_total", "commands the dataplane refused",
		 atomic_load_explicit(&s->rejected, memory_order_relaxed));
	gauge1(out, "mmr_tsc_hz", "the dataplane's TSC frequency (cycles counters to seconds)", (double)s->tsc_hz);
	metrics_family(out, "mmr_events_dropped_total", "counter",
		       "events the dataplane could not put in a full ring, by ring (an lcore, or control)");
	for (unsigned i = 0; i < MMR_EV_RINGS; i++) {
		if (i < MMR_MAX_LCORES && !rd32(&s->stats.lcore[i].active))
			continue;
		uint64_t v = atomic_load_explicit(&s->events[i].dropped, memory_order_relaxed);
		if (i == MMR_EV_RING_CTL)
			ob_printf(out, "mmr_events_dropped_total{ring=\"control\"} %llu\n", (unsigned long long)v);
		else
			ob_printf(out, "mmr_events_dropped_total{ring=\"%u\"} %llu\n", rd32(&s->stats.lcore[i].lcore_id),
				  (unsigned long long)v);
	}
	metrics_render_area(out, &s->stats);
	render_streams(out, m, &s->stats);
	render_participants(out, m, &s->stats);
}
