/*
 * metrics.h - GET /metrics: the controller's and the dataplane's counters in the Prometheus text
 * exposition format 0.0.4 (docs/interfaces.md, "Metrics"). Every dataplane counter comes from the
 * one declared list of its kind (lib/contract/stats.h, drop_reason.h): a family per list entry, its
 * HELP the entry's meaning, a counter (`_total`) unless the meaning says "a value" (a gauge); a
 * name in microseconds (NAME_us) becomes NAME_seconds (Prometheus' base unit).
 */
#ifndef MMR_CTL_METRICS_H
#define MMR_CTL_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include "controller.h"
#include "outbuf.h"
#include "stats.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define METRICS_MAX_STATUS   600

/* The HTTP API's own counts (http_server.c): replies by status code. */
struct metrics_http {
	uint64_t by_status[METRICS_MAX_STATUS];
};

/* Append v as a label value: backslash, double quote and newline escaped. */
void metrics_label_value(struct outbuf *out, const char *v);
/* "# HELP name text" (backslash and newline escaped) and "# TYPE name type". */
void metrics_family(struct outbuf *out, const char *name, const char *type, const char *help);
/* Is a counter list entry a value (a gauge) rather than a count? Its meaning says so ("; a value"). */
bool metrics_doc_is_value(const char *doc);
/* The dataplane's worker lcores, ports and control thread from the counters area: every lcore
 * counter as mmr_NAME_total{lcore}, every drop reason (1..) as mmr_drops_total{lcore,reason}. */
void metrics_render_area(struct outbuf *out, const struct mmr_stats_area *st);
/* The whole page: controller, command channel, meetings, and (attached) the dataplane's counters
 * with per-stream and per-participant ones labelled by meeting and participant names. */
void metrics_render(const struct ctl_ctx *ctx, const struct metrics_http *http, struct outbuf *out);

#endif
