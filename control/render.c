/*
 * render.c - text tables and JSON for the read commands (see render.h).
 *
 * Text output is for people: one aligned table per section, SSRCs in hex. JSON output is for
 * programs: numbers as numbers (SSRCs too), the 64-bit epoch as a hex string, names as strings.
 * Counters come from the dataplane's shared segment, read with relaxed loads (each has one
 * writer; a value may be a few packets behind).
 */
#define _GNU_SOURCE
#include "render.h"
#include "requests.h"
#include "dtls_fp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "srtp_master.h"
#include "state_file.h"
#include "stats.h"
#include "values.h"

static uint64_t rd(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static uint32_t rd32(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static uint64_t rd_atomic(const _Atomic uint64_t *p)
{
	return atomic_load_explicit(p, memory_order_relaxed);
}

/* ---- security (never keys: those only go to `participant add|keys|rekey`) ------------------------ */

static const char *security_name(unsigned suite)
{
	const char *n = suite == SRTP_SUITE_NONE ? "plain" : srtp_suite_name((enum srtp_suite)suite);
	return n ? n : "?";
}

/* JSON: the suite's name, or null for plain RTP. */
static void json_suite(struct outbuf *out, unsigned suite)
{
	if (suite == SRTP_SUITE_NONE)
		ob_puts(out, "null");
	else
		ob_printf(out, "\"%s\"", security_name(suite));
}

/* ---- meeting list --------------------------------------------------------------------------- */

static int cmp_meeting_name(const void *a, const void *b, void *ctx)
{
	const struct model *m = ctx;
	return strcmp(m->meetings[*(const uint32_t *)a].name, m->meetings[*(const uint32_t *)b].name);
}

/* A meeting's worker lcore as the dataplane says: "N", "N (moving)", or "-" (not attached, or no
 * participant in the dataplane yet). */
static const char *owner_text(const uint8_t *owners, uint32_t meeting, char *buf, size_t n)
{
	uint8_t w = owners ? __atomic_load_n(&owners[meeting], __ATOMIC_RELAXED) : MMR_OWNER_NONE;
	if (w == MMR_OWNER_NONE)
		snprintf(buf, n, "-");
	else
		snprintf(buf, n, "%u%s", w & MMR_OWNER_INDEX, w & MMR_OWNER_MOVING ? " (moving)" : "");
	return buf;
}

/* JSON: "lcore": N or null, "moving": bool */
static void json_owner(const uint8_t *owners, uint32_t meeting, struct outbuf *out)
{
	uint8_t w = owners ? __atomic_load_n(&owners[meeting], __ATOMIC_RELAXED) : MMR_OWNER_NONE;
	if (w == MMR_OWNER_NONE)
		ob_puts(out, ", \"lcore\": null, \"moving\": false");
	else
		ob_printf(out, ", \"lcore\": %u, \"moving\": %s", w & MMR_OWNER_INDEX,
			  w & MMR_OWNER_MOVING ? "true" : "false");
}

void render_meeting_list(const struct model *m, const uint8_t *owners, bool json, struct outbuf *out)
{
	char ow[24];
	uint32_t n = 0, *ids = malloc(((size_t)m->n_meetings + 1) * sizeof(*ids));
	if (!ids) {
		out->oom = true;
		return;
	}
	for (uint32_t id = 0; id < model_meeting_bound(m); id++)
		if (m->meetings[id].used)
			ids[n++] = id;
	qsort_r(ids, n, sizeof(*ids), cmp_meeting_name, (void *)m);
	if (json) {
		ob_puts(out, "{\"meetings\": [");
		for (uint32_t i = 0; i < n; i++) {
			const struct m_meeting *mt = &m->meetings[ids[i]];
			ob_puts(out, i ? ",\n  {\"name\": " : "\n  {\"name\": ");
			ob_json_str(out, mt->name);
			ob_printf(out, ", \"id\": %u, \"participants\": %u, \"streams\": %u, \"subscriptions\": %u, "
				       "\"srtp_suite\": ", ids[i], mt->n_parts, mt->n_streams, mt->n_subs);
			json_suite(out, mt->srtp_suite);
			json_owner(owners, ids[i], out);
			ob_puts(out, "}");
		}
		ob_puts(out, n ? "\n]}\n" : "]}\n");
	} else if (n == 0) {
		ob_puts(out, "no meetings\n");
	} else {
		static const char *const cols[] = { "MEETING", ">ID", ">PARTICIPANTS", ">STREAMS", ">SUBSCRIPTIONS",
						    "SECURITY", "LCORE" };
		struct table t;
		table_init(&t, 7, cols);
		for (uint32_t i = 0; i < n; i++) {
			const struct m_meeting *mt = &m->meetings[ids[i]];
			table_cell(&t, mt->name);
			table_cell_u64(&t, ids[i]);
			table_cell_u64(&t, mt->n_parts);
			table_cell_u64(&t, mt->n_streams);
			table_cell_u64(&t, mt->n_subs);
			table_cell(&t, security_name(mt->srtp_suite));
			table_cell(&t, owner_text(owners, ids[i], ow, sizeof(ow)));
		}
		table_emit(&t, out, 0);
	}
	free(ids);
}

/* ---- meeting show and sub list -------------------------------------------------------------- */

/* ---- layers: text forms ---------------------------------------------------------------------- */

/* A stream's (or its group's) layer structure: "L<S>T<T>" for video, "<n>x" before it for a
 * simulcast group, "-" for audio. */
static char *layers_text(const struct model *m, uint32_t s, char *buf, size_t n)
{
	const struct m_stream *ss = &m->streams[s];
	unsigned enc = model_group_size(m, s);
	if (ss->kind == MMR_KIND_AUDIO)
		snprintf(buf, n, "-");
	else if (enc > 1)
		snprintf(buf, n, "%uxL%uT%u", enc, ss->spatial, ss->layers);
	else
		snprintf(buf, n, "L%uT%u", ss->spatial, ss->layers);
	return buf;
}

/* Layers as the codec of stream s knows them: "E<enc>:" in a group, then "T<tid>" (VP8), "S<sid>T<tid>"
 * (VP9), "DT<dt>" (AV1); H.264 only has the encoding, audio nothing ("-"). */
static char *layer_choice_text(const struct model *m, uint32_t s, unsigned enc, unsigned sid, unsigned tid,
			       unsigned dt, char *buf, size_t n)
{
	const struct m_stream *ss = &m->streams[s];
	int k = 0;
	buf[0] = '\0';
	if (model_group_size(m, s) > 1)
		k = snprintf(buf, n, "E%u%s", enc, ss->codec == MMR_CODEC_H264 ? "" : ":");
	if (k < 0 || (size_t)k >= n)
		return buf;
	if (ss->codec == MMR_CODEC_VP8)
		snprintf(buf + k, n - (size_t)k, "T%u", tid);
	else if (ss->codec == MMR_CODEC_VP9)
		snprintf(buf + k, n - (size_t)k, "S%uT%u", sid, tid);
	else if (ss->codec == MMR_CODEC_AV1)
		snprintf(buf + k, n - (size_t)k, "DT%u", dt);
	if (buf[0] == '\0')
		snprintf(buf, n, "-");
	return buf;
}

static char *target_text(const struct model *m, uint32_t b, char *buf, size_t n)
{
	const struct m_sub *sb = &m->subs[b];
	return layer_choice_text(m, sb->stream, sb->target_encoding, sb->target_sid, sb->target, sb->target_dt,
				 buf, n);
}

/* What the receiver of subscription b gets now, as the dataplane's events told (events.h, by
 * sel_id): "unknown" without a dataplane or before its snapshot was read, "waiting for keyframe"
 * before its first one, else the layers; "-" for audio (no layer selection). */
static char *current_text(const struct model *m, const struct dp_link *dp, uint32_t b, char *buf, size_t n)
{
	const struct m_sub *sb = &m->subs[b];
	if (m->streams[sb->stream].kind == MMR_KIND_AUDIO) {
		snprintf(buf, n, "-");
		return buf;
	}
	uint32_t v;
	if (!dp || !dp->attached || !events_layers(&dp->ev, sb->sel_id, &v)) {
		snprintf(buf, n, "unknown");
		return buf;
	}
	if (!MMR_LAYERS_STARTED(v)) {
		snprintf(buf, n, "waiting for keyframe");
		return buf;
	}
	return layer_choice_text(m, sb->stream, MMR_LAYERS_ENCODING(v), MMR_LAYERS_SID(v), MMR_LAYERS_TID(v),
				 MMR_LAYERS_DT(v), buf, n);
}

/* ---- meeting show and sub list -------------------------------------------------------------- */

/* JSON: a number, or null when it does not apply. */
static void json_opt_u(struct outbuf *out, const char *name, bool applies, unsigned v)
{
	if (applies)
		ob_printf(out, ", \"%s\": %u", name, v);
	else
		ob_printf(out, ", \"%s\": null", name);
}

/* JSON: ", \"ext\": {\"twcc\": ID, ...}" with the ids it negotiated (issue 12) */
static void json_ext(const struct m_participant *pp, struct outbuf *out)
{
	uint8_t ids[VAL_EXT_N];
	model_participant_ext_ids(pp, ids);
	bool first = true;
	ob_puts(out, ", \"ext\": {");
	for (unsigned i = 0; i < VAL_EXT_N; i++)
		if (ids[i]) {
			ob_printf(out, "%s\"%s\": %u", first ? "" : ", ", val_ext_name(i), ids[i]);
			first = false;
		}
	ob_puts(out, "}");
}

/* JSON: a stream's SSRC learning fields (issue 13): "learned" (false: `ssrc` is a stand-in until
 * the packets' mid/rid name the real one), "rtx_learned", "mid", "rid" (null: none), "rtx_ssrc". */
static void json_stream_learn(const struct m_stream *ss, struct outbuf *out)
{
	ob_printf(out, ", \"learned\": %s, \"rtx_learned\": %s, \"mid\": ",
		  ss->learn & MMR_LEARN_MEDIA ? "false" : "true", ss->learn & MMR_LEARN_RTX ? "false" : "true");
	if (ss->mid[0])
		ob_json_str(out, ss->mid);
	else
		ob_puts(out, "null");
	ob_puts(out, ", \"rid\": ");
	if (ss->rid[0])
		ob_json_str(out, ss->rid);
	else
		ob_puts(out, "null");
	json_opt_u(out, "rtx_ssrc", ss->rtx_ssrc != 0, ss->rtx_ssrc);
}

/* Text: one line per stream of p, with what SSRC learning knows (issue 13). */
static void text_part_streams(const struct model *m, uint32_t p, struct outbuf *out)
{
	for (uint32_t s = m->parts[p].first_stream; s != MMR_ID_NONE; s = m->streams[s].next) {
		const struct m_stream *ss = &m->streams[s];
		ob_printf(out, "stream %u: %s %s", s, val_kind_name(ss->kind), val_codec_name(ss->codec));
		if (ss->learn & MMR_LEARN_MEDIA)
			ob_printf(out, ", ssrc learning (stand-in 0x%08x)", ss->ssrc);
		else
			ob_printf(out, ", ssrc 0x%08x", ss->ssrc);
		if (ss->group != MMR_ID_NONE)
			ob_printf(out, ", encoding %u of group %u", ss->encoding, ss->group);
		if (ss->mid[0])
			ob_printf(out, ", mid %s", ss->mid);
		if (ss->rid[0])
			ob_printf(out, ", rid %s", ss->rid);
		if (ss->learn & MMR_LEARN_RTX)
			ob_printf(out, ", rtx learning (pt %u)", ss->rtx_pt);
		else if (ss->rtx_ssrc)
			ob_printf(out, ", rtx 0x%08x pt %u", ss->rtx_ssrc, ss->rtx_pt);
		ob_puts(out, "\n");
	}
}

static void json_participant(const struct model *m, uint32_t p, struct outbuf *out)
{
	const struct m_participant *pp = &m->parts[p];
	char addr[VAL_ADDR_STRLEN], mac[18];
	ob_puts(out, "{\"name\": ");
	ob_json_str(out, pp->name);
	ob_printf(out, ", \"id\": %u, \"addr\": \"%s\", \"port\": %u, \"role\": \"%s\", \"mac\": ", p,
		  val_addr_fmt(&pp->addr, addr), pp->udp_port, val_role_name(pp->role));
	if (pp->has_mac)
		ob_printf(out, "\"%s\"", val_mac_fmt(pp->mac, mac));
	else
		ob_puts(out, "null");
	ob_printf(out, ", \"dp_port\": %u, \"streams\": [", pp->dp_port);
	for (uint32_t s = pp->first_stream; s != MMR_ID_NONE; s = m->streams[s].next) {
		const struct m_stream *ss = &m->streams[s];
		ob_printf(out, "%s{\"id\": %u, \"ssrc\": %u, \"kind\": \"%s\", \"codec\": \"%s\", \"layers\": %u, "
			       "\"spatial_layers\": %u",
			  s == pp->first_stream ? "" : ", ", s, ss->ssrc, val_kind_name(ss->kind),
			  val_codec_name(ss->codec), ss->layers, ss->spatial);
		json_opt_u(out, "dd_ext_id", ss->dd_ext_id != 0, ss->dd_ext_id);
		json_opt_u(out, "group", ss->group != MMR_ID_NONE, ss->group);
		json_opt_u(out, "encoding", ss->group != MMR_ID_NONE, ss->encoding);
		ob_printf(out, ", \"screen\": %s, \"subscribers\": %u", ss->screen ? "true" : "false", ss->n_subs);
		json_stream_learn(ss, out);
		ob_puts(out, "}");
	}
	ob_printf(out, "], \"subscriptions\": %u", pp->n_rsubs);
	json_ext(pp, out);
	ob_puts(out, "}");
}

/* Rows: one per receiver and stream, a simulcast group being one row (its encoding-0 subscription,
 * whose id is the group's sel_id). */
static bool sub_row(const struct model *m, uint32_t b)
{
	if (m->subs[b].video_slot)
		return false;   /* a receive slot's: `slot list` shows them */
	return m->subs[b].topn_slot || model_group_head(m, m->subs[b].stream) == m->subs[b].stream;
}

/* A top-N slot subscription (issue 12): audio, whoever is loud now */
static void json_slot(const struct model *m, uint32_t b, struct outbuf *out)
{
	const struct m_sub *sb = &m->subs[b];
	ob_puts(out, "{\"subscriber\": ");
	ob_json_str(out, m->parts[sb->subscriber].name);
	ob_printf(out, ", \"publisher\": null, \"ssrc\": null, \"kind\": \"audio\", \"codec\": \"opus\", "
		       "\"topn_slot\": %u, \"out_ssrc\": %u, \"id\": %u, \"stream_id\": null, \"sel_id\": %u, "
		       "\"pinned\": false}",
		  sb->topn_slot - 1u, sb->out_ssrc, b, sb->sel_id);
}

static void json_sub(const struct model *m, const struct dp_link *dp, bool current, uint32_t b,
		     struct outbuf *out)
{
	const struct m_sub *sb = &m->subs[b];
	if (sb->topn_slot) {
		json_slot(m, b, out);
		return;
	}
	const struct m_stream *ss = &m->streams[sb->stream];
	unsigned enc = model_group_size(m, sb->stream);
	bool video = ss->kind == MMR_KIND_VIDEO;
	ob_puts(out, "{\"subscriber\": ");
	ob_json_str(out, m->parts[sb->subscriber].name);
	ob_puts(out, ", \"publisher\": ");
	ob_json_str(out, m->parts[ss->participant].name);
	ob_printf(out, ", \"ssrc\": %u, \"ssrcs\": [", ss->ssrc);
	uint32_t x = sb->stream;
	for (unsigned i = 0; i < enc; i++, x = m->streams[x].next)
		ob_printf(out, "%s%u", i ? ", " : "", m->streams[x].ssrc);
	ob_printf(out, "], \"kind\": \"%s\", \"codec\": \"%s\", \"layers\": %u, \"spatial_layers\": %u, "
		       "\"encodings\": %u",
		  val_kind_name(ss->kind), val_codec_name(ss->codec), ss->layers, ss->spatial, enc);
	json_opt_u(out, "target", ss->codec != MMR_CODEC_AV1, sb->target);
	json_opt_u(out, "target_spatial", ss->codec == MMR_CODEC_VP9, sb->target_sid);
	json_opt_u(out, "target_dt", ss->codec == MMR_CODEC_AV1, sb->target_dt);
	json_opt_u(out, "target_encoding", enc > 1, sb->target_encoding);
	ob_printf(out, ", \"out_ssrc\": %u", sb->out_ssrc);
	json_opt_u(out, "rtx_ssrc", sb->rtx_ssrc != 0, sb->rtx_ssrc);
	ob_printf(out, ", \"id\": %u, \"stream_id\": %u, \"sel_id\": %u, \"topn_slot\": null, \"pinned\": %s, "
		       "\"screen\": %s", b, sb->stream, sb->sel_id, sb->priority == MMR_PRIO_PINNED ? "true" : "false",
		  ss->screen ? "true" : "false");
	if (current) {
		ob_puts(out, ", \"current\": ");
		uint32_t v;
		if (!video || !dp || !dp->attached || !events_layers(&dp->ev, sb->sel_id, &v)) {
			ob_puts(out, "null");
		} else {
			if (!MMR_LAYERS_STARTED(v)) {
				ob_puts(out, "{\"started\": false}");
			} else {
				ob_puts(out, "{\"started\": true");
				json_opt_u(out, "encoding", enc > 1, MMR_LAYERS_ENCODING(v));
				json_opt_u(out, "spatial", ss->codec == MMR_CODEC_VP9 || ss->codec == MMR_CODEC_AV1,
					   MMR_LAYERS_SID(v));
				json_opt_u(out, "temporal", ss->codec == MMR_CODEC_VP8 || ss->codec == MMR_CODEC_VP9 ||
					   ss->codec == MMR_CODEC_AV1, MMR_LAYERS_TID(v));
				json_opt_u(out, "dt", ss->codec == MMR_CODEC_AV1, MMR_LAYERS_DT(v));
				ob_puts(out, "}");
			}
		}
	}
	ob_puts(out, "}");
}

static void json_subs(const struct model *m, const struct dp_link *dp, bool current, uint32_t meeting,
		      struct outbuf *out)
{
	bool first = true;
	ob_puts(out, "[");
	for (uint32_t p = m->meetings[meeting].first_part; p != MMR_ID_NONE; p = m->parts[p].next)
		for (uint32_t b = m->parts[p].first_rsub; b != MMR_ID_NONE; b = m->subs[b].r_next) {
			if (!sub_row(m, b))
				continue;
			ob_puts(out, first ? "\n    " : ",\n    ");
			json_sub(m, dp, current, b, out);
			first = false;
		}
	ob_puts(out, first ? "]" : "\n  ]");
}

static void text_subs(const struct model *m, const struct dp_link *dp, bool current, uint32_t meeting,
		      struct outbuf *out, unsigned indent)
{
	static const char *const cols[] = { "SUBSCRIBER", "PUBLISHER", "SSRC", "KIND", "CODEC", "LAYERS", "TARGET",
					    "OUT_SSRC", "RTX_SSRC", "PRIO", ">ID", "CURRENT" };
	if (m->meetings[meeting].n_subs == 0) {
		ob_printf(out, "%*s(none)\n", (int)indent, "");
		return;
	}
	struct table t;
	table_init(&t, current ? 12 : 11, cols);
	for (uint32_t p = m->meetings[meeting].first_part; p != MMR_ID_NONE; p = m->parts[p].next)
		for (uint32_t b = m->parts[p].first_rsub; b != MMR_ID_NONE; b = m->subs[b].r_next) {
			if (!sub_row(m, b))
				continue;
			const struct m_sub *sb = &m->subs[b];
			if (sb->topn_slot) {   /* a top-N slot: whoever is loud now */
				table_cell(&t, m->parts[p].name);
				table_cellf(&t, "top-N slot %u", sb->topn_slot - 1u);
				table_cell(&t, "-");
				table_cell(&t, "audio");
				table_cell(&t, "opus");
				table_cell(&t, "-");
				table_cell(&t, "-");
				table_cellf(&t, "0x%08x", sb->out_ssrc);
				table_cell(&t, "-");
				table_cell(&t, "-");
				table_cell_u64(&t, b);
				if (current)
					table_cell(&t, "-");
				continue;
			}
			const struct m_stream *ss = &m->streams[sb->stream];
			char ssrcs[40], buf[32];
			int k = 0;
			uint32_t x = sb->stream;
			for (unsigned i = model_group_size(m, sb->stream); i > 0; i--, x = m->streams[x].next)
				k += snprintf(ssrcs + k, sizeof(ssrcs) - (size_t)k, "%s0x%08x", k ? "," : "",
					      m->streams[x].ssrc);
			table_cell(&t, m->parts[p].name);
			table_cell(&t, m->parts[ss->participant].name);
			table_cell(&t, ssrcs);
			table_cell(&t, val_kind_name(ss->kind));
			table_cell(&t, val_codec_name(ss->codec));
			table_cell(&t, layers_text(m, sb->stream, buf, sizeof(buf)));
			table_cell(&t, target_text(m, b, buf, sizeof(buf)));
			table_cellf(&t, "0x%08x", sb->out_ssrc);
			if (sb->rtx_ssrc)
				table_cellf(&t, "0x%08x", sb->rtx_ssrc);
			else
				table_cell(&t, "-");
			table_cell(&t, sb->priority == MMR_PRIO_PINNED ? "pinned" : ss->screen ? "screen" : "-");
			table_cell_u64(&t, b);
			if (current)
				table_cell(&t, current_text(m, dp, b, buf, sizeof(buf)));
		}
	table_emit(&t, out, indent);
}

/* Meeting controls (issue 15): a participant's and a meeting's. */
static void mute_text(uint8_t mute, char *out, size_t cap)
{
	snprintf(out, cap, "%s%s%s", mute & MMR_BLOCK_AUDIO ? ",audio" : "", mute & MMR_BLOCK_VIDEO ? ",video" : "",
		 mute & MMR_BLOCK_SCREEN ? ",screen" : "");
	if (out[0])
		memmove(out, out + 1, strlen(out));
}

static void json_part_controls(const struct model *m, uint32_t p, struct outbuf *out)
{
	const struct m_participant *pp = &m->parts[p];
	char mute[32];
	mute_text(pp->mute, mute, sizeof(mute));
	uint8_t b = model_participant_block(m, p);
	ob_printf(out, ", \"waiting\": %s, \"host\": %s, \"muted\": \"%s\", \"share_denied\": %s",
		  pp->waiting ? "true" : "false", pp->host ? "true" : "false", mute,
		  b & MMR_BLOCK_SHARE ? "true" : "false");
}

static void json_meeting_controls(const struct m_meeting *mt, struct outbuf *out)
{
	ob_printf(out, ", \"waiting_room\": %s, \"self_unmute\": \"%s\", \"share\": \"%s\", \"max_sharers\": %u, "
		  "\"locked\": %s", mt->waiting_room ? "true" : "false", mt->unmute_forbidden ? "forbidden" : "allowed",
		  mt->share_host_only ? "host_only" : "everyone", mt->max_sharers, mt->locked ? "true" : "false");
}

void render_meeting_show(const struct model *m, const uint8_t *owners, uint32_t speaker, uint32_t meeting,
			 bool json, struct outbuf *out)
{
	const struct m_meeting *mt = &m->meetings[meeting];
	char ow[24];
	/* a speaker the dataplane names must be one of this meeting's participants */
	if (speaker != MMR_ID_NONE &&
	    (speaker >= model_part_bound(m) || !m->parts[speaker].used || m->parts[speaker].meeting != meeting))
		speaker = MMR_ID_NONE;
	if (json) {
		ob_puts(out, "{\"name\": ");
		ob_json_str(out, mt->name);
		ob_printf(out, ", \"id\": %u, \"srtp_suite\": ", meeting);
		json_suite(out, mt->srtp_suite);
		json_owner(owners, meeting, out);
		json_meeting_controls(mt, out);
		ob_printf(out, ", \"top_n\": %u, \"dominant_speaker\": ", mt->top_n);
		if (speaker != MMR_ID_NONE)
			ob_json_str(out, m->parts[speaker].name);
		else
			ob_puts(out, "null");
		ob_puts(out, ",\n  \"participants\": [");
		for (uint32_t p = mt->first_part; p != MMR_ID_NONE; p = m->parts[p].next) {
			ob_puts(out, p == mt->first_part ? "\n    " : ",\n    ");
			json_participant(m, p, out);
		}
		ob_puts(out, mt->n_parts ? "\n  ],\n  \"subscriptions\": " : "],\n  \"subscriptions\": ");
		json_subs(m, NULL, false, meeting, out);
		ob_puts(out, "}\n");
		return;
	}
	ob_printf(out, "meeting %s (id %u): %u participants, %u streams, %u subscriptions; %s%s; lcore %s\n",
		  mt->name, meeting, mt->n_parts, mt->n_streams, mt->n_subs, mt->srtp_suite ? "SRTP " : "",
		  mt->srtp_suite ? security_name(mt->srtp_suite) : "plain RTP",
		  owner_text(owners, meeting, ow, sizeof(ow)));
	if (mt->top_n)
		ob_printf(out, "top-n: %u (each receiver gets the %u loudest audio streams)\n", mt->top_n, mt->top_n);
	else
		ob_puts(out, "top-n: 0 (every audio stream to every receiver)\n");
	ob_printf(out, "dominant speaker: %s\n", speaker != MMR_ID_NONE ? m->parts[speaker].name : "none");
	ob_printf(out, "controls: waiting room %s, self-unmute %s, share %s, max sharers %u%s, %s\n",
		  mt->waiting_room ? "on" : "off", mt->unmute_forbidden ? "forbidden" : "allowed",
		  mt->share_host_only ? "host_only" : "everyone", mt->max_sharers, mt->max_sharers ? "" : " (no limit)",
		  mt->locked ? "LOCKED (no new joins)" : "open");

	ob_puts(out, "participants\n");
	if (mt->n_parts == 0) {
		ob_puts(out, "  (none)\n");
	} else {
		static const char *const cols[] = { "NAME", ">ID", "ADDRESS", ">PORT", "ROLE", "MAC", ">DP_PORT",
						    ">STREAMS", ">RECEIVES" };
		struct table t;
		table_init(&t, 9, cols);
		for (uint32_t p = mt->first_part; p != MMR_ID_NONE; p = m->parts[p].next) {
			const struct m_participant *pp = &m->parts[p];
			char addr[VAL_ADDR_STRLEN], mac[18];
			table_cell(&t, pp->name);
			table_cell_u64(&t, p);
			table_cell(&t, val_addr_fmt(&pp->addr, addr));
			table_cell_u64(&t, pp->udp_port);
			table_cell(&t, val_role_name(pp->role));
			table_cell(&t, pp->has_mac ? val_mac_fmt(pp->mac, mac) : "-");
			table_cell_u64(&t, pp->dp_port);
			table_cell_u64(&t, pp->n_streams);
			table_cell_u64(&t, pp->n_rsubs);
		}
		table_emit(&t, out, 2);
	}

	ob_puts(out, "streams\n");
	if (mt->n_streams == 0) {
		ob_puts(out, "  (none)\n");
	} else {
		static const char *const cols[] = { "PUBLISHER", "SSRC", "KIND", "CODEC", ">LAYERS", ">SPATIAL",
						    ">DD_EXT", ">GROUP", ">ENC", ">ID", ">SUBSCRIBERS" };
		struct table t;
		table_init(&t, 11, cols);
		for (uint32_t p = mt->first_part; p != MMR_ID_NONE; p = m->parts[p].next)
			for (uint32_t s = m->parts[p].first_stream; s != MMR_ID_NONE; s = m->streams[s].next) {
				const struct m_stream *ss = &m->streams[s];
				table_cell(&t, m->parts[p].name);
				table_cellf(&t, "0x%08x", ss->ssrc);
				table_cell(&t, val_kind_name(ss->kind));
				table_cell(&t, val_codec_name(ss->codec));
				table_cell_u64(&t, ss->layers);
				table_cell_u64(&t, ss->spatial);
				if (ss->dd_ext_id)
					table_cell_u64(&t, ss->dd_ext_id);
				else
					table_cell(&t, "-");
				if (ss->group != MMR_ID_NONE) {
					table_cell_u64(&t, ss->group);
					table_cell_u64(&t, ss->encoding);
				} else {
					table_cell(&t, "-");
					table_cell(&t, "-");
				}
				table_cell_u64(&t, s);
				table_cell_u64(&t, ss->n_subs);
			}
		table_emit(&t, out, 2);
	}

	ob_puts(out, "subscriptions\n");
	text_subs(m, NULL, false, meeting, out, 2);
}

void render_sub_list(const struct ctl_ctx *ctx, uint32_t meeting, bool json, struct outbuf *out)
{
	const struct model *m = ctx->model;
	if (json) {
		ob_puts(out, "{\"meeting\": ");
		ob_json_str(out, m->meetings[meeting].name);
		ob_puts(out, ",\n  \"subscriptions\": ");
		json_subs(m, ctx->dp, true, meeting, out);
		ob_puts(out, "}\n");
		return;
	}
	text_subs(m, ctx->dp, true, meeting, out, 0);
}

/* ---- receive slots (issue 13) --------------------------------------------------------------- */

/* Rows: every receiver's video slots, then its top-N audio slots. */
void render_slot_list(const struct ctl_ctx *ctx, uint32_t meeting, bool json, struct outbuf *out)
{
	const struct model *m = ctx->model;
	static const char *const cols[] = { "RECEIVER", "KIND", "SLOT", "OUT_SSRC", "RTX_SSRC", "PUBLISHER", "SSRC",
					    "TARGET", "ASSIGNMENT", "CURRENT" };
	struct table t;
	bool first = true;
	char buf[64];
	if (json) {
		ob_puts(out, "{\"meeting\": ");
		ob_json_str(out, m->meetings[meeting].name);
		ob_puts(out, ",\n  \"slots\": [");
	} else {
		table_init(&t, 10, cols);
	}
	for (uint32_t p = m->meetings[meeting].first_part; p != MMR_ID_NONE; p = m->parts[p].next) {
		const struct m_participant *rp = &m->parts[p];
		for (unsigned k = 0; k < rp->n_vslots; k++) {
			uint32_t a = rp->vslot_sub[k], mem[MEDIA_MAX_ENCODINGS];
			if (a == MMR_ID_NONE)
				continue;
			const struct m_sub *sb = &m->subs[a];
			unsigned n = model_vslot_members(m, a, mem);
			const struct m_stream *ss = n ? &m->streams[m->subs[mem[0]].stream] : NULL;
			if (json) {
				ob_puts(out, first ? "\n    {\"receiver\": " : ",\n    {\"receiver\": ");
				first = false;
				ob_json_str(out, rp->name);
				ob_printf(out, ", \"kind\": \"video\", \"slot\": %u, \"out_ssrc\": %u", k, sb->out_ssrc);
				json_opt_u(out, "rtx_ssrc", sb->rtx_ssrc != 0, sb->rtx_ssrc);
				ob_printf(out, ", \"id\": %u, \"assignment\": %u, \"publisher\": ", a, sb->slot_gen);
				if (!ss) {
					ob_puts(out, "null, \"ssrc\": null, \"ssrcs\": [], \"codec\": null, \"current\": null}");
					continue;
				}
				ob_json_str(out, m->parts[ss->participant].name);
				ob_printf(out, ", \"ssrc\": %u, \"ssrcs\": [", ss->ssrc);
				for (unsigned i = 0; i < n; i++)
					ob_printf(out, "%s%u", i ? ", " : "", m->streams[m->subs[mem[i]].stream].ssrc);
				ob_printf(out, "], \"codec\": \"%s\"", val_codec_name(ss->codec));
				json_opt_u(out, "target", ss->codec != MMR_CODEC_AV1, sb->target);
				json_opt_u(out, "target_spatial", ss->codec == MMR_CODEC_VP9, sb->target_sid);
				json_opt_u(out, "target_dt", ss->codec == MMR_CODEC_AV1, sb->target_dt);
				json_opt_u(out, "target_encoding", n > 1, sb->target_encoding);
				uint32_t v;
				const struct dp_link *dp = ctx->dp;
				if (!dp || !dp->attached || !events_layers(&dp->ev, a, &v))
					ob_puts(out, ", \"current\": null}");
				else if (!MMR_LAYERS_STARTED(v))
					ob_puts(out, ", \"current\": {\"started\": false}}");
				else
					ob_printf(out, ", \"current\": {\"started\": true, \"encoding\": %u, \"spatial\": %u, "
						       "\"temporal\": %u, \"dt\": %u}}", MMR_LAYERS_ENCODING(v),
						  MMR_LAYERS_SID(v), MMR_LAYERS_TID(v), MMR_LAYERS_DT(v));
				continue;
			}
			table_cell(&t, rp->name);
			table_cell(&t, "video");
			table_cell_u64(&t, k);
			table_cellf(&t, "0x%08x", sb->out_ssrc);
			if (sb->rtx_ssrc)
				table_cellf(&t, "0x%08x", sb->rtx_ssrc);
			else
				table_cell(&t, "-");
			if (!ss) {
				table_cell(&t, "(empty)");
				table_cell(&t, "-");
				table_cell(&t, "-");
				table_cell_u64(&t, sb->slot_gen);
				table_cell(&t, "-");
				continue;
			}
			table_cell(&t, m->parts[ss->participant].name);
			table_cellf(&t, "0x%08x", ss->ssrc);
			table_cell(&t, target_text(m, mem[0], buf, sizeof(buf)));
			table_cell_u64(&t, sb->slot_gen);
			table_cell(&t, current_text(m, ctx->dp, mem[0], buf, sizeof(buf)));
		}
		for (uint32_t b = rp->first_rsub; b != MMR_ID_NONE; b = m->subs[b].r_next) {
			const struct m_sub *sb = &m->subs[b];
			if (!sb->topn_slot)
				continue;
			if (json) {
				ob_puts(out, first ? "\n    {\"receiver\": " : ",\n    {\"receiver\": ");
				first = false;
				ob_json_str(out, rp->name);
				ob_printf(out, ", \"kind\": \"audio\", \"slot\": %u, \"out_ssrc\": %u, \"rtx_ssrc\": null, "
					       "\"id\": %u, \"publisher\": null, \"top_n\": true}",
					  sb->topn_slot - 1u, sb->out_ssrc, b);
				continue;
			}
			table_cell(&t, rp->name);
			table_cell(&t, "audio");
			table_cell_u64(&t, sb->topn_slot - 1u);
			table_cellf(&t, "0x%08x", sb->out_ssrc);
			table_cell(&t, "-");
			table_cellf(&t, "(top-N %u)", sb->topn_slot - 1u);
			table_cell(&t, "-");
			table_cell(&t, "-");
			table_cell(&t, "-");
			table_cell(&t, "-");
		}
	}
	if (json) {
		ob_puts(out, first ? "]}\n" : "\n  ]}\n");
		return;
	}
	if (t.nrows == 0) {
		table_free(&t);
		ob_puts(out, "(no slots)\n");
		return;
	}
	table_emit(&t, out, 0);
}

/* ---- stats ---------------------------------------------------------------------------------- */

static const char *drop_name(unsigned i)
{
	const char *n = mmr_drop_names[i];
	return n ? n : "?";
}

static void json_u64_field(struct outbuf *out, const char *name, uint64_t v, bool comma)
{
	ob_printf(out, "%s\"%s\": %llu", comma ? ", " : "", name, (unsigned long long)v);
}

/* ">NAME" column headers for a counter list's names (stats.h), made once. */
static const char *upper_head(char *buf, size_t n, const char *name)
{
	size_t i = 0;
	buf[i++] = '>';
	for (; *name && i + 1 < n; name++)
		buf[i++] = (char)(*name >= 'a' && *name <= 'z' ? *name - 'a' + 'A' : *name);
	buf[i] = '\0';
	return buf;
}

/* ---- participants (RTCP) -------------------------------------------------------------------- */

/* Its RTCP counters from the dataplane, or NULL when it is not attached. */
static const struct mmr_participant_stats *part_stats(const struct ctl_ctx *ctx, uint32_t p)
{
	return ctx->dp->attached ? &ctx->dp->ch.shm->stats.participant[p] : NULL;
}

/* "12.3 ms" / "-" (not known: no report yet, or no dataplane) */
static const char *rtt_text(const struct mmr_participant_stats *c, char *buf, size_t n)
{
	uint64_t us = c ? rd(&c->rtt_us) : 0;
	if (!us)
		return "-";
	snprintf(buf, n, "%.1f ms", (double)us / 1000.0);
	return buf;
}

/* "1.6%" of the last report's fraction (x/256), "-" without a dataplane */
static const char *loss_text(const struct mmr_participant_stats *c, char *buf, size_t n)
{
	if (!c)
		return "-";
	snprintf(buf, n, "%.1f%%", (double)rd(&c->fraction_lost) * 100.0 / 256.0);
	return buf;
}

static void json_part_rtcp(const struct ctl_ctx *ctx, uint32_t p, bool counters, struct outbuf *out)
{
	const struct m_participant *pp = &ctx->model->parts[p];
	const struct mmr_participant_stats *c = part_stats(ctx, p);
	char fb[VAL_FB_STRLEN], rtx[VAL_RTX_MAP_STRLEN];
	ob_printf(out, ", \"rtcp\": \"%s\", \"rsize\": %s, \"mmr_ssrc\": %u, \"rtx\": ",
		  val_fb_fmt(pp->fb & (uint8_t)~MMR_FB_RTX, fb), (pp->fb & MMR_FB_RSIZE) ? "true" : "false",
		  pp->mmr_ssrc);
	if (pp->fb & MMR_FB_RTX)
		ob_printf(out, "\"%s\"", val_rtx_map_fmt(pp->rtx_map, rtx));
	else
		ob_puts(out, "null");
	if (!c) {
		ob_puts(out, ", \"rtt_us\": null, \"fraction_lost\": null, \"cum_lost\": null");
		return;
	}
	uint64_t rtt = rd(&c->rtt_us);
	if (rtt)
		json_u64_field(out, "rtt_us", rtt, true);
	else
		ob_puts(out, ", \"rtt_us\": null");
	for (unsigned k = 0; k < MMR_PC__COUNT; k++)
		if (k != MMR_PC_rtt_us && (counters || k == MMR_PC_fraction_lost || k == MMR_PC_cum_lost))
			json_u64_field(out, mmr_participant_counter_names[k], rd(&c->c[k]), true);
}

/* A participant's DTLS state as shown: "none", "waiting", "handshaking", "connected", "closed", or
 * "failed:REASON" */
static const char *dtls_text(const struct m_participant *pp, char buf[40])
{
	if (!pp->dtls)
		return "none";
	if (pp->dtls_state == MMR_DTLS_FAILED)
		snprintf(buf, 40, "failed:%s", mmr_dtls_fail_name(pp->dtls_fail));
	else
		snprintf(buf, 40, "%s", mmr_dtls_state_name(pp->dtls_state));
	return buf;
}

/* , "dtls": "...", "dtls_role": ..., "dtls_suite": ..., "dtls_peer_fingerprint": ... */
static void json_dtls(const struct m_participant *pp, bool full, struct outbuf *out)
{
	char st[40];
	ob_printf(out, ", \"dtls\": \"%s\"", dtls_text(pp, st));
	if (pp->dtls && pp->dtls_state == MMR_DTLS_CONNECTED)
		ob_printf(out, ", \"dtls_suite\": \"%s\"", srtp_suite_name((enum srtp_suite)pp->dtls_suite));
	else
		ob_puts(out, ", \"dtls_suite\": null");
	if (!full)
		return;
	if (pp->dtls) {
		char fp[MMR_DTLS_FP_TEXT_LEN + 1];
		dtls_fp_format(pp->dtls_fp, fp);
		ob_printf(out, ", \"dtls_role\": \"%s\", \"dtls_peer_fingerprint\": \"%s\"",
			  pp->dtls_role == MMR_DTLS_CLIENT ? "client" : "server", fp);
	} else {
		ob_puts(out, ", \"dtls_role\": null, \"dtls_peer_fingerprint\": null");
	}
}

void render_participant_list(const struct ctl_ctx *ctx, uint32_t meeting, bool json, struct outbuf *out)
{
	const struct model *m = ctx->model;
	const struct m_meeting *mt = &m->meetings[meeting];
	char addr[VAL_ADDR_STRLEN];
	if (json) {
		ob_puts(out, "[");
		for (uint32_t p = mt->first_part; p != MMR_ID_NONE; p = m->parts[p].next) {
			const struct m_participant *pp = &m->parts[p];
			ob_puts(out, p == mt->first_part ? "\n  {\"name\": " : ",\n  {\"name\": ");
			ob_json_str(out, pp->name);
			ob_printf(out, ", \"id\": %u, \"addr\": \"%s\", \"port\": %u, \"role\": \"%s\"", p,
				  val_addr_fmt(&pp->addr, addr), pp->udp_port, val_role_name(pp->role));
			json_dtls(pp, false, out);
			json_part_rtcp(ctx, p, false, out);
			ob_puts(out, "}");
		}
		ob_puts(out, mt->n_parts ? "\n]\n" : "]\n");
		return;
	}
	if (mt->n_parts == 0) {
		ob_puts(out, "(no participants)\n");
		return;
	}
	static const char *const cols[] = { "NAME", ">ID", "ADDRESS", ">PORT", "ROLE", "RTCP", "RTX", "MMR_SSRC",
					    ">RTT", ">LOSS", ">CUM_LOST", "DTLS" };
	struct table t;
	bool any_dtls = false;     /* the DTLS column only where a participant uses DTLS */
	for (uint32_t p = mt->first_part; p != MMR_ID_NONE; p = m->parts[p].next)
		any_dtls |= m->parts[p].dtls;
	table_init(&t, any_dtls ? 12 : 11, cols);
	for (uint32_t p = mt->first_part; p != MMR_ID_NONE; p = m->parts[p].next) {
		const struct m_participant *pp = &m->parts[p];
		const struct mmr_participant_stats *c = part_stats(ctx, p);
		char fb[VAL_FB_STRLEN], rtx[VAL_RTX_MAP_STRLEN], rtt[32], loss[32], dst[40];
		table_cell(&t, pp->name);
		table_cell_u64(&t, p);
		table_cell(&t, val_addr_fmt(&pp->addr, addr));
		table_cell_u64(&t, pp->udp_port);
		table_cell(&t, val_role_name(pp->role));
		table_cell(&t, val_fb_fmt(pp->fb & (uint8_t)~MMR_FB_RTX, fb));
		table_cell(&t, val_rtx_map_fmt(pp->rtx_map, rtx));
		table_cellf(&t, "0x%08x", pp->mmr_ssrc);
		table_cell(&t, rtt_text(c, rtt, sizeof(rtt)));
		table_cell(&t, loss_text(c, loss, sizeof(loss)));
		if (c)
			table_cell_u64(&t, rd(&c->cum_lost));
		else
			table_cell(&t, "-");
		if (any_dtls)
			table_cell(&t, pp->dtls ? dtls_text(pp, dst) : "-");
	}
	table_emit(&t, out, 0);
}

void render_participant_show(const struct ctl_ctx *ctx, uint32_t p, bool json, struct outbuf *out)
{
	const struct model *m = ctx->model;
	const struct m_participant *pp = &m->parts[p];
	const struct mmr_participant_stats *c = part_stats(ctx, p);
	char addr[VAL_ADDR_STRLEN], mac[18], fb[VAL_FB_STRLEN], rtx[VAL_RTX_MAP_STRLEN], rtt[32], loss[32];
	if (json) {
		ob_puts(out, "{\"name\": ");
		ob_json_str(out, pp->name);
		ob_puts(out, ", \"meeting\": ");
		ob_json_str(out, m->meetings[pp->meeting].name);
		ob_printf(out, ", \"id\": %u, \"addr\": \"%s\", \"port\": %u, \"role\": \"%s\", \"mac\": ", p,
			  val_addr_fmt(&pp->addr, addr), pp->udp_port, val_role_name(pp->role));
		if (pp->has_mac)
			ob_printf(out, "\"%s\"", val_mac_fmt(pp->mac, mac));
		else
			ob_puts(out, "null");
		ob_printf(out, ", \"dp_port\": %u, \"streams\": %u, \"subscriptions\": %u", pp->dp_port,
			  pp->n_streams, pp->n_rsubs);
		json_ext(pp, out);
		ob_puts(out, ", \"published\": [");
		for (uint32_t s = pp->first_stream; s != MMR_ID_NONE; s = m->streams[s].next) {
			const struct m_stream *ss = &m->streams[s];
			ob_printf(out, "%s{\"id\": %u, \"ssrc\": %u, \"kind\": \"%s\", \"codec\": \"%s\"",
				  s == pp->first_stream ? "" : ", ", s, ss->ssrc, val_kind_name(ss->kind),
				  val_codec_name(ss->codec));
			json_opt_u(out, "group", ss->group != MMR_ID_NONE, ss->group);
			json_opt_u(out, "encoding", ss->group != MMR_ID_NONE, ss->encoding);
			json_stream_learn(ss, out);
			ob_puts(out, "}");
		}
		ob_puts(out, "]");
		ob_puts(out, ", \"ice_ufrag\": ");   /* the pwd is never shown */
		if (pp->ice)
			ob_printf(out, "\"%.*s\"", (int)pp->ice_ufrag_len, pp->ice_ufrag);
		else
			ob_puts(out, "null");
		json_dtls(pp, true, out);
		json_part_rtcp(ctx, p, true, out);
		json_part_controls(m, p, out);
		ob_puts(out, "}\n");
		return;
	}
	{
		char mute[32];
		mute_text(pp->mute, mute, sizeof(mute));
		ob_printf(out, "controls: %s%s, muted %s%s\n", pp->waiting ? "WAITING (not admitted)" : "admitted",
			  pp->host ? ", host" : "", mute[0] ? mute : "nothing",
			  model_participant_block(m, p) & MMR_BLOCK_SHARE ? ", screen share denied by policy" : "");
	}
	ob_printf(out, "participant %s (id %u) in meeting %s: %s port %u, %s, %u streams, receives %u\n",
		  pp->name, p, m->meetings[pp->meeting].name, val_addr_fmt(&pp->addr, addr), pp->udp_port,
		  val_role_name(pp->role), pp->n_streams, pp->n_rsubs);
	uint8_t ids[VAL_EXT_N];
	model_participant_ext_ids(pp, ids);
	char ext[VAL_EXT_STRLEN];
	ob_printf(out, "ext: %s\n", val_ext_fmt(ids, ext));
	text_part_streams(m, p, out);
	if (pp->ice)
		ob_printf(out, "ice: ufrag %.*s, %s\n", (int)pp->ice_ufrag_len, pp->ice_ufrag,
			  pp->udp_port ? "address learned or given" : "no address yet (nothing sent to it)");
	if (pp->dtls) {
		char fp[MMR_DTLS_FP_TEXT_LEN + 1], st[40];
		dtls_fp_format(pp->dtls_fp, fp);
		ob_printf(out, "dtls: %s", dtls_text(pp, st));
		if (pp->dtls_state == MMR_DTLS_CONNECTED)
			ob_printf(out, " (%s)", srtp_suite_name((enum srtp_suite)pp->dtls_suite));
		ob_printf(out, ", MMR role %s, peer fingerprint sha-256 %s\n",
			  pp->dtls_role == MMR_DTLS_CLIENT ? "client" : "server", fp);
	}
	if (c && (pp->fb & (MMR_FB_TWCC | MMR_FB_REMB)))
		ob_printf(out, "bandwidth estimate: %.0f kbit/s (delay %.0f, loss %.0f), allocated %.0f kbit/s, %llu "
			       "paused\n", (double)rd(&c->bwe_bps) / 1e3, (double)rd(&c->bwe_delay_bps) / 1e3,
			  (double)rd(&c->bwe_loss_bps) / 1e3, (double)rd(&c->alloc_bps) / 1e3,
			  (unsigned long long)rd(&c->paused));
	ob_printf(out, "rtcp: %s; rtx: %s; mmr_ssrc 0x%08x; rtt %s; loss %s", val_fb_fmt(pp->fb & (uint8_t)~MMR_FB_RTX, fb),
		  val_rtx_map_fmt(pp->rtx_map, rtx), pp->mmr_ssrc, rtt_text(c, rtt, sizeof(rtt)),
		  loss_text(c, loss, sizeof(loss)));
	if (!c) {
		ob_printf(out, " (dataplane offline: %s)\n", ctx->dp->why_detached);
		return;
	}
	ob_printf(out, ", %llu lost in all\n", (unsigned long long)rd(&c->cum_lost));
	static const char *const cols[] = { "COUNTER", ">VALUE" };
	struct table t;
	table_init(&t, 2, cols);
	for (unsigned k = 0; k < MMR_PC__COUNT; k++) {
		table_cell(&t, mmr_participant_counter_names[k]);
		table_cell_u64(&t, rd(&c->c[k]));
	}
	table_emit(&t, out, 2);
}

int render_stats(const struct ctl_ctx *ctx, bool streams, bool participants, bool json, struct outbuf *out,
		 char *err, size_t errlen)
{
	const struct dp_link *dp = ctx->dp;
	const struct model *m = ctx->model;
	if (!dp->attached) {
		snprintf(err, errlen, "dataplane offline (%s): no counters", dp->why_detached);
		return -1;
	}
	const struct mmr_stats_area *st = &dp->ch.shm->stats;
	/* busy % and drops: the dataplane's status line uses the same summary (stats.h) */
	struct mmr_stats_sample total;
	struct mmr_stats_summary total_sum;
	mmr_stats_sample_area(&total, st);
	mmr_stats_summarize(NULL, &total, 0, &total_sum);
	const uint64_t *drops = total.drops;

	if (json) {
		bool first = true;
		ob_printf(out, "{\"tsc_hz\": %llu, \"ports\": [", (unsigned long long)dp->ch.shm->tsc_hz);
		for (unsigned i = 0; i < MMR_MAX_PORTS; i++) {
			const struct mmr_port_stats *p = &st->port[i];
			if (!rd32(&p->active))
				continue;
			ob_printf(out, "%s{\"port\": %u, \"name\": ", first ? "\n  " : ",\n  ", rd32(&p->port_id));
			ob_json_strn(out, p->name, strnlen(p->name, sizeof(p->name)));
			json_u64_field(out, "rx_pkts", rd(&p->ipackets), true);
			json_u64_field(out, "rx_bytes", rd(&p->ibytes), true);
			json_u64_field(out, "tx_pkts", rd(&p->opackets), true);
			json_u64_field(out, "tx_bytes", rd(&p->obytes), true);
			json_u64_field(out, "rx_missed", rd(&p->imissed), true);
			json_u64_field(out, "rx_errors", rd(&p->ierrors), true);
			json_u64_field(out, "tx_errors", rd(&p->oerrors), true);
			json_u64_field(out, "rx_nombuf", rd(&p->rx_nombuf), true);
			json_u64_field(out, "flow_rules", rd(&p->flow_rules), true);
			json_u64_field(out, "flow_failed", rd(&p->flow_failed), true);
			ob_puts(out, "}");
			first = false;
		}
		ob_puts(out, first ? "],\n \"lcores\": [" : "\n ],\n \"lcores\": [");
		first = true;
		for (unsigned i = 0; i < MMR_MAX_LCORES; i++) {
			const struct mmr_lcore_stats *l = &st->lcore[i];
			if (!rd32(&l->active))
				continue;
			ob_printf(out, "%s{\"lcore\": %u", first ? "\n  " : ",\n  ", rd32(&l->lcore_id));
			struct mmr_stats_sample ls = { .c = { 0 } };
			struct mmr_stats_summary lsum;
			mmr_stats_sample_add(&ls, l);
			mmr_stats_summarize(NULL, &ls, 0, &lsum);
			for (unsigned c = 0; c < MMR_LC__COUNT; c++)
				json_u64_field(out, mmr_lcore_counter_names[c], ls.c[c], true);
			json_u64_field(out, "drops", lsum.drops, true);
			json_u64_field(out, "layer_drops", lsum.layer_drops, true);
			ob_printf(out, ", \"busy_pct\": %.1f", lsum.busy_pct);
			json_u64_field(out, "events_dropped", rd_atomic(&dp->ch.shm->events[i].dropped), true);
			ob_puts(out, "}");
			first = false;
		}
		const struct mmr_ctl_stats *cs = &st->ctl;
		ob_puts(out, first ? "],\n \"control\": {" : "\n ],\n \"control\": {");
		for (unsigned k = 0; k < MMR_CC__COUNT; k++)
			json_u64_field(out, mmr_ctl_counter_names[k], rd(&cs->c[k]), k > 0);
		json_u64_field(out, "events_dropped", rd_atomic(&dp->ch.shm->events[MMR_EV_RING_CTL].dropped), true);
		ob_puts(out, "},\n \"drops\": {");
		for (unsigned d = 1; d < MMR_DROP__COUNT; d++) {
			ob_puts(out, d > 1 ? ", " : "");
			ob_json_str(out, drop_name(d));
			ob_printf(out, ": %llu", (unsigned long long)drops[d]);
		}
		ob_printf(out, "},\n \"summary\": {\"drops\": %llu, \"layer_drops\": %llu, \"busy_pct\": %.1f}",
			  (unsigned long long)total_sum.drops, (unsigned long long)total_sum.layer_drops,
			  total_sum.busy_pct);
		if (streams) {
			ob_puts(out, ",\n \"streams\": [");
			first = true;
			for (uint32_t s = 0; s < model_stream_bound(m); s++) {
				if (!m->streams[s].used)
					continue;
				const struct m_stream *ss = &m->streams[s];
				const struct m_participant *pp = &m->parts[ss->participant];
				const struct mmr_stream_stats *c = &st->stream[s];
				ob_puts(out, first ? "\n  {\"meeting\": " : ",\n  {\"meeting\": ");
				ob_json_str(out, m->meetings[pp->meeting].name);
				ob_puts(out, ", \"participant\": ");
				ob_json_str(out, pp->name);
				ob_printf(out, ", \"id\": %u, \"ssrc\": %u, \"kind\": \"%s\"", s, ss->ssrc,
					  val_kind_name(ss->kind));
				for (unsigned k = 0; k < MMR_SC__COUNT; k++)
					json_u64_field(out, mmr_stream_counter_names[k], rd(&c->c[k]), true);
				/* SRTP: the rollover counter of its inbound context, as the dataplane
				 * publishes it (a restarted dataplane resumes from its ledger) */
				if (m->meetings[pp->meeting].srtp_suite != SRTP_SUITE_NONE)
					json_u64_field(out, "srtp_roc", rd(&c->srtp_index) >> 16, true);
				else
					ob_puts(out, ", \"srtp_roc\": null");
				/* issue 12: each layer's own bitrate, index sid * 4 + tid (video) */
				if (ss->kind == MMR_KIND_VIDEO) {
					ob_puts(out, ", \"layer_kbps\": [");
					for (unsigned k = 0; k < MEDIA_MAX_SPATIAL * MMR_MAX_TLAYERS; k++)
						ob_printf(out, "%s%u", k ? ", " : "", rd32(&c->layer_kbps[k]));
					ob_puts(out, "]");
				} else {
					ob_puts(out, ", \"layer_kbps\": null");
				}
				ob_puts(out, "}");
				first = false;
			}
			ob_puts(out, first ? "]" : "\n ]");
		}
		if (participants) {
			ob_puts(out, ",\n \"participants\": [");
			first = true;
			for (uint32_t p = 0; p < model_part_bound(m); p++) {
				if (!m->parts[p].used)
					continue;
				const struct m_participant *pp = &m->parts[p];
				const struct mmr_participant_stats *c = &st->participant[p];
				ob_puts(out, first ? "\n  {\"meeting\": " : ",\n  {\"meeting\": ");
				ob_json_str(out, m->meetings[pp->meeting].name);
				ob_puts(out, ", \"participant\": ");
				ob_json_str(out, pp->name);
				ob_printf(out, ", \"id\": %u", p);
				for (unsigned k = 0; k < MMR_PC__COUNT; k++)
					json_u64_field(out, mmr_participant_counter_names[k], rd(&c->c[k]), true);
				ob_puts(out, "}");
				first = false;
			}
			ob_puts(out, first ? "]" : "\n ]");
		}
		ob_puts(out, "}\n");
		return 0;
	}

	ob_puts(out, "ports\n");
	{
		static const char *const cols[] = { ">PORT", "NAME", ">RX_PKTS", ">RX_BYTES", ">TX_PKTS", ">TX_BYTES",
						    ">RX_MISSED", ">RX_ERRORS", ">TX_ERRORS", ">RX_NOMBUF" };
		struct table t;
		table_init(&t, 10, cols);
		for (unsigned i = 0; i < MMR_MAX_PORTS; i++) {
			const struct mmr_port_stats *p = &st->port[i];
			if (!rd32(&p->active))
				continue;
			char name[sizeof(p->name) + 1];
			memcpy(name, p->name, sizeof(p->name));
			name[sizeof(p->name)] = '\0';
			table_cell_u64(&t, rd32(&p->port_id));
			table_cell(&t, name[0] ? name : "-");
			table_cell_u64(&t, rd(&p->ipackets));
			table_cell_u64(&t, rd(&p->ibytes));
			table_cell_u64(&t, rd(&p->opackets));
			table_cell_u64(&t, rd(&p->obytes));
			table_cell_u64(&t, rd(&p->imissed));
			table_cell_u64(&t, rd(&p->ierrors));
			table_cell_u64(&t, rd(&p->oerrors));
			table_cell_u64(&t, rd(&p->rx_nombuf));
		}
		if (t.nrows)
			table_emit(&t, out, 2);
		else {
			ob_puts(out, "  (none active)\n");
			table_free(&t);
		}
	}
	ob_puts(out, "lcores\n");
	{
		/* LCORE, every lcore counter (stats.h), then the summary's DROPS (all but layer) and BUSY% */
		static char heads[MMR_LC__COUNT][24];
		const char *cols[MMR_LC__COUNT + 3];
		unsigned nc = 0;
		cols[nc++] = ">LCORE";
		for (unsigned c = 0; c < MMR_LC__COUNT; c++)
			cols[nc++] = upper_head(heads[c], sizeof(heads[c]), mmr_lcore_counter_names[c]);
		cols[nc++] = ">DROPS";
		cols[nc++] = ">BUSY%";
		_Static_assert(MMR_LC__COUNT + 3 <= TABLE_MAX_COLS, "lcore table: too many columns");
		struct table t;
		table_init(&t, nc, cols);
		for (unsigned i = 0; i < MMR_MAX_LCORES; i++) {
			const struct mmr_lcore_stats *l = &st->lcore[i];
			if (!rd32(&l->active))
				continue;
			struct mmr_stats_sample ls = { .c = { 0 } };
			struct mmr_stats_summary lsum;
			mmr_stats_sample_add(&ls, l);
			mmr_stats_summarize(NULL, &ls, 0, &lsum);
			table_cell_u64(&t, rd32(&l->lcore_id));
			for (unsigned c = 0; c < MMR_LC__COUNT; c++)
				table_cell_u64(&t, ls.c[c]);
			table_cell_u64(&t, lsum.drops);
			table_cellf(&t, "%.1f", lsum.busy_pct);
		}
		if (t.nrows)
			table_emit(&t, out, 2);
		else {
			ob_puts(out, "  (none active)\n");
			table_free(&t);
		}
		ob_printf(out, "  total: drops %llu (all reasons but layer), layer %llu, busy %.1f%%\n",
			  (unsigned long long)total_sum.drops, (unsigned long long)total_sum.layer_drops,
			  total_sum.busy_pct);
	}
	{
		const struct mmr_ctl_stats *cs = &st->ctl;
		uint64_t ev_dropped = 0;
		for (unsigned r = 0; r < MMR_EV_RINGS; r++)
			ev_dropped += rd_atomic(&dp->ch.shm->events[r].dropped);
		ob_puts(out, "control thread\n");
		for (unsigned k = 0; k < MMR_CC__COUNT; k++)
			ob_printf(out, "  %-18s %llu\n", mmr_ctl_counter_names[k], (unsigned long long)rd(&cs->c[k]));
		ob_printf(out, "  %-18s %llu (rings full)\n", "events_dropped", (unsigned long long)ev_dropped);
	}
	ob_puts(out, "drops\n");
	{
		static const char *const cols[] = { "REASON", ">PACKETS" };
		struct table t;
		table_init(&t, 2, cols);
		for (unsigned d = 1; d < MMR_DROP__COUNT; d++) {
			table_cell(&t, drop_name(d));
			table_cell_u64(&t, drops[d]);
		}
		table_emit(&t, out, 2);
	}
	if (streams) {
		ob_puts(out, "streams\n");
		if (m->n_streams == 0) {
			ob_puts(out, "  (none)\n");
		} else {
			static char heads[MMR_SC__COUNT][24];
			const char *cols[6 + MMR_SC__COUNT] = { "MEETING", "PARTICIPANT", "SSRC", "KIND", ">ID" };
			for (unsigned k = 0; k < MMR_SC__COUNT; k++)
				cols[5 + k] = upper_head(heads[k], sizeof(heads[k]), mmr_stream_counter_names[k]);
			cols[5 + MMR_SC__COUNT] = "LAYER_KBPS";
			_Static_assert(6 + MMR_SC__COUNT <= TABLE_MAX_COLS, "stream table: too many columns");
			struct table t;
			table_init(&t, 6 + MMR_SC__COUNT, cols);
			for (uint32_t s = 0; s < model_stream_bound(m); s++) {
				if (!m->streams[s].used)
					continue;
				const struct m_stream *ss = &m->streams[s];
				const struct m_participant *pp = &m->parts[ss->participant];
				const struct mmr_stream_stats *c = &st->stream[s];
				table_cell(&t, m->meetings[pp->meeting].name);
				table_cell(&t, pp->name);
				table_cellf(&t, "0x%08x", ss->ssrc);
				table_cell(&t, val_kind_name(ss->kind));
				table_cell_u64(&t, s);
				for (unsigned k = 0; k < MMR_SC__COUNT; k++)
					table_cell_u64(&t, rd(&c->c[k]));
				/* the non-zero layers as S.T:KBPS, comma-separated; - when none */
				char lk[MEDIA_MAX_SPATIAL * MMR_MAX_TLAYERS * 16] = "";
				size_t len = 0;
				for (unsigned k = 0; k < MEDIA_MAX_SPATIAL * MMR_MAX_TLAYERS; k++) {
					uint32_t v = rd32(&c->layer_kbps[k]);
					if (v)
						len += (size_t)snprintf(lk + len, sizeof(lk) - len, "%s%u.%u:%u", len ? "," : "",
									k / MMR_MAX_TLAYERS, k % MMR_MAX_TLAYERS, v);
				}
				table_cell(&t, len ? lk : "-");
			}
			table_emit(&t, out, 2);
		}
	}
	if (participants) {
		ob_puts(out, "participants\n");
		if (m->n_parts == 0) {
			ob_puts(out, "  (none)\n");
		} else {
			static char heads[MMR_PC__COUNT][24];
			const char *cols[3 + MMR_PC__COUNT] = { "MEETING", "PARTICIPANT", ">ID" };
			for (unsigned k = 0; k < MMR_PC__COUNT; k++)
				cols[3 + k] = upper_head(heads[k], sizeof(heads[k]), mmr_participant_counter_names[k]);
			_Static_assert(3 + MMR_PC__COUNT <= TABLE_MAX_COLS, "participant table: too many columns");
			struct table t;
			table_init(&t, 3 + MMR_PC__COUNT, cols);
			for (uint32_t p = 0; p < model_part_bound(m); p++) {
				if (!m->parts[p].used)
					continue;
				const struct m_participant *pp = &m->parts[p];
				const struct mmr_participant_stats *c = &st->participant[p];
				table_cell(&t, m->meetings[pp->meeting].name);
				table_cell(&t, pp->name);
				table_cell_u64(&t, p);
				for (unsigned k = 0; k < MMR_PC__COUNT; k++)
					table_cell_u64(&t, rd(&c->c[k]));
			}
			table_emit(&t, out, 2);
		}
	}
	return 0;
}

/* ---- status --------------------------------------------------------------------------------- */

static void age_text(char *buf, size_t n, uint64_t hb, uint64_t now)
{
	if (hb == 0)
		snprintf(buf, n, "never");
	else if (hb > now)
		snprintf(buf, n, "0 ms ago");
	else
		snprintf(buf, n, "%llu ms ago", (unsigned long long)((now - hb) / 1000000));
}

static void json_age(struct outbuf *out, const char *name, uint64_t hb, uint64_t now)
{
	if (hb == 0)
		ob_printf(out, ", \"%s\": null", name);
	else
		ob_printf(out, ", \"%s\": %llu", name, (unsigned long long)(hb > now ? 0 : (now - hb) / 1000000));
}

/* The SRTP ledger the controller's keys were used under: its id's first 8 hex digits ("" if none
 * recorded), and the time of the last forced rekey, UTC ("" if never). */
static void ledger_text(const struct model *m, char id[9], char when[32], bool iso)
{
	char hex[2 * MMR_SRTP_LEDGER_ID_LEN + 1];
	id[0] = when[0] = '\0';
	if (m->has_ledger)
		snprintf(id, 9, "%.8s", ledger_id_hex(m->ledger_id, hex));
	struct tm tm;
	time_t t = (time_t)m->ledger_rekeyed;
	if (m->ledger_rekeyed && gmtime_r(&t, &tm))
		strftime(when, 32, iso ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d %H:%M:%S UTC", &tm);
}

void render_status(const struct ctl_ctx *ctx, bool json, struct outbuf *out)
{
	const struct model *m = ctx->model;
	const struct dp_link *dp = ctx->dp;
	uint64_t now = mmr_now_ns();
	double uptime = (double)(now - ctx->start_ns) / 1e9;
	const struct mmr_shm *s = dp->attached ? dp->ch.shm : NULL;
	uint64_t dp_hb = 0, ctl_hb = 0, head = 0, tail = 0, applied = 0, rejected = 0;
	uint32_t dp_pid = 0, ready = 0;
	char last_error[sizeof(s->last_error) + 1] = "";
	char dtls_fp[MMR_DTLS_FP_TEXT_LEN + 1] = "";
	if (s) {
		dp_hb = atomic_load_explicit(&s->dp_heartbeat_ns, memory_order_relaxed);
		ctl_hb = atomic_load_explicit(&s->ctl_heartbeat_ns, memory_order_relaxed);
		head = atomic_load_explicit(&s->head, memory_order_relaxed);
		tail = atomic_load_explicit(&s->tail, memory_order_relaxed);
		applied = atomic_load_explicit(&s->applied_seq, memory_order_relaxed);
		rejected = atomic_load_explicit(&s->rejected, memory_order_relaxed);
		dp_pid = atomic_load_explicit(&s->dp_pid, memory_order_relaxed);
		ready = atomic_load_explicit(&s->dp_ready, memory_order_relaxed);
		memcpy(last_error, (const char *)s->last_error, sizeof(s->last_error));
		last_error[sizeof(s->last_error)] = '\0';
		if (ready) {   /* written before dp_ready (cmd_chan.h) */
			memcpy(dtls_fp, s->dtls_fingerprint, MMR_DTLS_FP_TEXT_LEN);
			dtls_fp[MMR_DTLS_FP_TEXT_LEN] = '\0';
			if (strlen(dtls_fp) != MMR_DTLS_FP_TEXT_LEN)
				dtls_fp[0] = '\0';
		}
	}

	char ledger[9], rekeyed[32];
	ledger_text(m, ledger, rekeyed, json);
	/* fencing and the tables' origin (dp_link.h) */
	char sid[2 * MMR_STATE_ID_LEN + 1], tid[2 * MMR_STATE_ID_LEN + 1];
	ledger_id_hex(m->state_id, sid);
	struct dp_link_tables t;
	bool have_t = dp_link_tables(dp, &t) == 1;
	if (have_t)
		ledger_id_hex(t.state_id, tid);
	const char *mode = dp->fenced ? "fenced" : dp->held ? "held" : s ? "driving" : "detached";

	if (json) {
		ob_printf(out, "{\"controller\": {\"pid\": %d, \"uptime_s\": %.1f, \"socket\": ", (int)ctx->pid, uptime);
		ob_json_str(out, ctx->cfg->socket);
		ob_puts(out, ", \"state_file\": ");
		ob_json_str(out, ctx->cfg->state_file);
		ob_printf(out, ", \"meetings\": %u, \"participants\": %u, \"streams\": %u, \"subscriptions\": %u, "
			       "\"requests\": %llu",
			  m->n_meetings, m->n_parts, m->n_streams, m->n_subs, (unsigned long long)ctx->requests);
		ob_printf(out, ", \"unsaved_safety_actions\": %u, \"safety_alarms\": %llu", requests_safety_unsaved(),
			  (unsigned long long)requests_safety_alarms());
		ob_printf(out, ", \"srtp_ledger\": %s%s%s, \"srtp_ledger_rekeyed\": %s%s%s},\n",
			  ledger[0] ? "\"" : "", ledger[0] ? ledger : "null", ledger[0] ? "\"" : "",
			  rekeyed[0] ? "\"" : "", rekeyed[0] ? rekeyed : "null", rekeyed[0] ? "\"" : "");
		ob_printf(out, " \"dataplane\": {\"attached\": %s, \"mode\": \"%s\", \"state_id\": \"%s\", "
			       "\"fencing_token\": %llu, \"resyncs\": %llu, \"shm_name\": ", s ? "true" : "false", mode, sid,
			  (unsigned long long)dp->token, (unsigned long long)dp->resyncs);
		ob_json_str(out, dp->shm_name);
		if (have_t)
			ob_printf(out, ", \"tables\": {\"state_id\": \"%s\", \"participants\": %u, \"streams\": %u, "
				       "\"subscriptions\": %u, \"owner_token\": %llu, \"stale_refused\": %llu}",
				  tid, t.participants, t.streams, t.subs, (unsigned long long)t.owner_token,
				  (unsigned long long)t.stale_refused);
		if (!s) {
			ob_puts(out, ", \"why\": ");
			ob_json_str(out, dp->why_detached);
			ob_printf(out, ", \"syncs\": %llu}}\n", (unsigned long long)dp->syncs);
			return;
		}
		ob_printf(out, ", \"pid\": %u, \"ready\": %s, \"epoch\": \"0x%016llx\"", dp_pid, ready ? "true" : "false",
			  (unsigned long long)dp->epoch);
		json_age(out, "dp_heartbeat_age_ms", dp_hb, now);
		json_age(out, "ctl_heartbeat_age_ms", ctl_hb, now);
		ob_printf(out, ", \"ring\": {\"head\": %llu, \"tail\": %llu, \"applied_seq\": %llu, \"size\": %u, "
			       "\"queued_in_controller\": %zu}",
			  (unsigned long long)head, (unsigned long long)tail, (unsigned long long)applied, MMR_CMD_RING,
			  dp->fifo_len);
		ob_puts(out, ", \"dtls_fingerprint\": ");
		if (dtls_fp[0])
			ob_json_str(out, dtls_fp);
		else
			ob_puts(out, "null");
		ob_printf(out, ", \"sync_gen\": %u, \"syncs\": %llu, \"rejected\": %llu, \"last_error\": ", dp->gen,
			  (unsigned long long)dp->syncs, (unsigned long long)rejected);
		ob_json_str(out, last_error);
		ob_printf(out, ", \"events\": {\"read\": %llu, \"stale\": %llu, \"bad\": %llu, \"lost\": %llu, "
			       "\"snapshots_asked\": %llu, \"layers_known\": %s, \"ssrc_learned\": %llu, "
			       "\"ssrc_refused\": %llu}",
			  (unsigned long long)dp->ev.received, (unsigned long long)dp->ev.stale,
			  (unsigned long long)dp->ev.bad, (unsigned long long)dp->ev.lost,
			  (unsigned long long)dp->ev.snapshots, dp->ev.complete ? "true" : "false",
			  (unsigned long long)dp->ev.ssrc_learned, (unsigned long long)dp->ev.ssrc_refused);
		ob_puts(out, "}}\n");
		return;
	}

	ob_printf(out, "controller\n"
		       "  pid            %d\n"
		       "  uptime         %.1f s\n"
		       "  socket         %s\n"
		       "  state file     %s\n"
		       "  meetings       %u\n"
		       "  participants   %u\n"
		       "  streams        %u\n"
		       "  subscriptions  %u\n"
		       "  requests       %llu\n",
		  (int)ctx->pid, uptime, ctx->cfg->socket, ctx->cfg->state_file, m->n_meetings, m->n_parts,
		  m->n_streams, m->n_subs, (unsigned long long)ctx->requests);
	if (requests_safety_unsaved() || requests_safety_alarms())
		ob_printf(out, "  unsaved safety %u%s (alarms raised: %llu)\n", requests_safety_unsaved(),
			  requests_safety_unsaved() ? " ALARM: eject/mute/lock in force but not saved: the disk" : "",
			  (unsigned long long)requests_safety_alarms());
	if (ledger[0])
		ob_printf(out, "  srtp ledger    %s..\n", ledger);
	else
		ob_puts(out, "  srtp ledger    none recorded\n");
	if (rekeyed[0])
		ob_printf(out, "  ledger rekey   %s (every SRTP participant got new keys)\n", rekeyed);
	ob_printf(out, "dataplane\n"
		       "  shm            %s\n"
		       "  mode           %s\n"
		       "  our state id   %.8s..\n", dp->shm_name, mode, sid);
	if (have_t)
		ob_printf(out, "  tables         %u participants, %u streams, %u subscriptions, built from state %.8s..%s\n"
			       "  fencing        owner token %llu%s, %llu stale commands refused, %llu resyncs\n",
			  t.participants, t.streams, t.subs, tid, memcmp(t.state_id, m->state_id, MMR_STATE_ID_LEN) ?
			  " (not ours)" : " (ours)", (unsigned long long)t.owner_token,
			  s && t.owner_token == dp->token ? " (ours)" : "", (unsigned long long)t.stale_refused,
			  (unsigned long long)dp->resyncs);
	if (!s) {
		ob_printf(out, "  attached       no (%s)\n"
			       "  full syncs     %llu\n", dp->why_detached, (unsigned long long)dp->syncs);
		return;
	}
	char a1[32], a2[32];
	age_text(a1, sizeof(a1), dp_hb, now);
	age_text(a2, sizeof(a2), ctl_hb, now);
	ob_printf(out, "  dtls cert      sha-256 %s\n", dtls_fp[0] ? dtls_fp : "(none yet)");
	ob_printf(out, "  attached       yes\n"
		       "  pid            %u\n"
		       "  ready          %s\n"
		       "  epoch          0x%016llx\n"
		       "  heartbeats     dataplane %s, controller %s\n"
		       "  ring           head %llu, tail %llu, applied seq %llu, %llu in flight, %zu queued here\n"
		       "  full syncs     %llu (last gen %u)\n"
		       "  rejected       %llu\n"
		       "  last error     %s\n"
		       "  events         %llu read, %llu stale, %llu lost (rings full), %llu snapshots asked; layers %s\n"
		       "  ssrc learning  %llu learned, %llu refused (SSRC already used in the meeting)\n",
		  dp_pid, ready ? "yes" : "no", (unsigned long long)dp->epoch, a1, a2, (unsigned long long)head,
		  (unsigned long long)tail, (unsigned long long)applied, (unsigned long long)(tail - head),
		  dp->fifo_len, (unsigned long long)dp->syncs, dp->gen, (unsigned long long)rejected,
		  last_error[0] ? last_error : "-", (unsigned long long)dp->ev.received,
		  (unsigned long long)dp->ev.stale, (unsigned long long)dp->ev.lost,
		  (unsigned long long)dp->ev.snapshots, dp->ev.complete ? "known" : "waiting for a snapshot",
		  (unsigned long long)dp->ev.ssrc_learned, (unsigned long long)dp->ev.ssrc_refused);
}
