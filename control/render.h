/*
 * render.h - the read commands' output, as aligned text tables or as JSON: meeting list,
 * meeting show, sub list, stats (from the dataplane's shared counters) and status.
 * Each appends to out; they return 0, or -1 with a one-line reason in err.
 */
#ifndef MMR_RENDER_H
#define MMR_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "controller.h"
#include "outbuf.h"

/* owners: the dataplane's meeting_owner[] (stats.h), NULL when it is not attached. */
void render_meeting_list(const struct model *m, const uint8_t *owners, bool json, struct outbuf *out);
/* speaker: the meeting's dominant speaker as the dataplane said (MMR_ID_NONE: none or not known) */
void render_meeting_show(const struct model *m, const uint8_t *owners, uint32_t speaker, uint32_t meeting, bool json,
			 struct outbuf *out);
/* One row per receiver per stream or simulcast group, with its target and the layers it gets now
 * (as the dataplane's events told, events.h; "unknown" / null without a dataplane or before its
 * snapshot was read). */
void render_sub_list(const struct ctl_ctx *ctx, uint32_t meeting, bool json, struct outbuf *out);
/* slot list MEETING (issue 13): every receiver's video slots (who is on them, target, layers now)
 * and top-N audio slots */
void render_slot_list(const struct ctl_ctx *ctx, uint32_t meeting, bool json, struct outbuf *out);
/* participants: the per-participant RTCP counters too (stats.h). */
int render_stats(const struct ctl_ctx *ctx, bool streams, bool participants, bool json, struct outbuf *out,
		 char *err, size_t errlen);
/* A meeting's participants with their RTCP settings (feedback, RTX map, mmr_ssrc) and, from the
 * dataplane, RTT and loss ("-" / null when not known or offline); one participant with all its
 * RTCP counters. */
void render_participant_list(const struct ctl_ctx *ctx, uint32_t meeting, bool json, struct outbuf *out);
void render_participant_show(const struct ctl_ctx *ctx, uint32_t p, bool json, struct outbuf *out);
void render_status(const struct ctl_ctx *ctx, bool json, struct outbuf *out);

#endif
