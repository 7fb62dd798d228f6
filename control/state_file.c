/*
 * state_file.c - write and load the controller's state file (format in state_file.h).
 */
#include "state_file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file_atomic.h"
#include "hex.h"
#include "keys.h"
#include "outbuf.h"
#include "dtls_fp.h"

#define STATE_MAGIC "mmr-state"
#define STATE_VERSION 9

/* ---- writing -------------------------------------------------------------------------------- */

char *ledger_id_hex(const uint8_t id[MMR_SRTP_LEDGER_ID_LEN], char out[2 * MMR_SRTP_LEDGER_ID_LEN + 1])
{
	return mmr_hex_encode(id, MMR_SRTP_LEDGER_ID_LEN, out);
}

char *id_short(bool has, const uint8_t id[MMR_SRTP_LEDGER_ID_LEN], char out[16])
{
	char hex[2 * MMR_SRTP_LEDGER_ID_LEN + 1];
	if (has)
		snprintf(out, 16, "%.8s..", ledger_id_hex(id, hex));
	else
		snprintf(out, 16, "none");
	return out;
}

/* ---- one object's line (the snapshot and the journal share them) ---------------------------- */

void state_line_meeting(struct outbuf *b, const struct model *m, uint32_t id)
{
	const struct m_meeting *mt = &m->meetings[id];
	bool srtp = mt->srtp_suite != SRTP_SUITE_NONE;
	ob_printf(b, "meeting %u %s %s %u\n", id, mt->name, srtp ? srtp_suite_name(mt->srtp_suite) : "plain",
		  mt->top_n);
}

/* A participant's ICE credentials as one token: UFRAG:PWD, or - (version 8). Key material: the
 * caller wipes buf. */
#define ICE_TOKEN_MAX (MMR_ICE_UFRAG_MAX + 1 + MMR_ICE_PWD_MAX + 1)
static const char *ice_token(const struct m_participant *pp, char buf[ICE_TOKEN_MAX])
{
	if (!pp->ice)
		return "-";
	memcpy(buf, pp->ice_ufrag, pp->ice_ufrag_len);
	buf[pp->ice_ufrag_len] = ':';
	memcpy(buf + pp->ice_ufrag_len + 1, pp->ice_pwd, pp->ice_pwd_len);
	buf[pp->ice_ufrag_len + 1 + pp->ice_pwd_len] = 0;
	return buf;
}

/* A participant's DTLS settings as one token: ROLE:FINGERPRINT ("server:AB:CD:..."), or - (version 9) */
#define DTLS_TOKEN_MAX (7 + MMR_DTLS_FP_TEXT_LEN + 1)
static const char *dtls_token(const struct m_participant *pp, char buf[DTLS_TOKEN_MAX])
{
	if (!pp->dtls)
		return "-";
	char fp[MMR_DTLS_FP_TEXT_LEN + 1];
	dtls_fp_format(pp->dtls_fp, fp);
	snprintf(buf, DTLS_TOKEN_MAX, "%s:%s", pp->dtls_role == MMR_DTLS_CLIENT ? "client" : "server", fp);
	return buf;
}

void state_line_pdtls(struct outbuf *b, const struct model *m, uint32_t p)
{
	char tok[DTLS_TOKEN_MAX];
	ob_printf(b, "pdtls %u %s\n", p, dtls_token(&m->parts[p], tok));
}

void state_line_paddr(struct outbuf *b, const struct model *m, uint32_t p)
{
	const struct m_participant *pp = &m->parts[p];
	char addr[VAL_ADDR_STRLEN], ice[ICE_TOKEN_MAX];
	ob_printf(b, "paddr %u %s %u %s\n", p, val_addr_fmt(&pp->addr, addr), pp->udp_port, ice_token(pp, ice));
	explicit_bzero(ice, sizeof(ice));
}

void state_line_participant(struct outbuf *b, const struct model *m, uint32_t p)
{
	const struct m_participant *pp = &m->parts[p];
	bool srtp = m->meetings[pp->meeting].srtp_suite != SRTP_SUITE_NONE && !pp->dtls;   /* DTLS: no keys */
	char addr[VAL_ADDR_STRLEN], mac[18], skey[KEYS_INLINE_MAX] = "-", rkey[KEYS_INLINE_MAX] = "-";
	if (srtp && (keys_to_inline(&pp->send_key, skey) < 0 || keys_to_inline(&pp->recv_key, rkey) < 0)) {
		b->oom = true;    /* cannot happen for keys the model accepted; fail the save */
		strcpy(skey, "-");
		strcpy(rkey, "-");
	}
	char fb[VAL_FB_STRLEN], rtx[VAL_RTX_MAP_STRLEN], ext[VAL_EXT_STRLEN], ice[ICE_TOKEN_MAX], dtls[DTLS_TOKEN_MAX];
	uint8_t ids[VAL_EXT_N];
	model_participant_ext_ids(pp, ids);
	ob_printf(b, "participant %u %u %s %s %u %s %s %u %s %s %s 0x%08x %s %s %s %s\n", p, pp->meeting, pp->name,
		  val_addr_fmt(&pp->addr, addr), pp->udp_port, val_role_name(pp->role),
		  pp->has_mac ? val_mac_fmt(pp->mac, mac) : "-", pp->dp_port, skey, rkey,
		  val_fb_fmt(pp->fb & (uint8_t)~MMR_FB_RTX, fb), pp->mmr_ssrc, val_rtx_map_fmt(pp->rtx_map, rtx),
		  val_ext_fmt(ids, ext), ice_token(pp, ice), dtls_token(pp, dtls));
	explicit_bzero(ice, sizeof(ice));
	explicit_bzero(skey, sizeof(skey));
	explicit_bzero(rkey, sizeof(rkey));
}

void state_line_keys(struct outbuf *b, const struct model *m, uint32_t p)
{
	const struct m_participant *pp = &m->parts[p];
	char skey[KEYS_INLINE_MAX], rkey[KEYS_INLINE_MAX];
	if (keys_to_inline(&pp->send_key, skey) < 0 || keys_to_inline(&pp->recv_key, rkey) < 0)
		b->oom = true;
	else
		ob_printf(b, "keys %u %s %s\n", p, skey, rkey);
	explicit_bzero(skey, sizeof(skey));
	explicit_bzero(rkey, sizeof(rkey));
}

void state_line_stream(struct outbuf *b, const struct model *m, uint32_t s)
{
	const struct m_stream *ss = &m->streams[s];
	char group[16] = "-", dd[8] = "-";
	if (ss->group != MMR_ID_NONE)
		snprintf(group, sizeof(group), "%u", ss->group);
	if (ss->dd_ext_id)
		snprintf(dd, sizeof(dd), "%u", ss->dd_ext_id);
	char rtx[16] = "-", rtx_pt[8] = "-";
	if (ss->rtx_ssrc) {
		snprintf(rtx, sizeof(rtx), "0x%08x", ss->rtx_ssrc);
		snprintf(rtx_pt, sizeof(rtx_pt), "%u", ss->rtx_pt);
	}
	/* version 9: MID:RID:LEARN:RTX_PT (SSRC learning; RID may be empty) or - */
	char learn[2 * MMR_MID_MAX + 16] = "-";
	if (ss->mid[0])
		snprintf(learn, sizeof(learn), "%s:%s:%u:%u", ss->mid, ss->rid, ss->learn, ss->rtx_pt);
	ob_printf(b, "stream %u %u 0x%08x %s %s %u %u %s %u %s %s %s %u %s %s\n", s, ss->participant, ss->ssrc,
		  val_kind_name(ss->kind), val_codec_name(ss->codec), ss->layers, ss->spatial, group,
		  ss->encoding, dd, rtx, rtx_pt, ss->clock_hz, ss->screen ? "screen" : "-", learn);
}

void state_line_pext(struct outbuf *b, const struct model *m, uint32_t p)
{
	uint8_t ids[VAL_EXT_N];
	char ext[VAL_EXT_STRLEN];
	model_participant_ext_ids(&m->parts[p], ids);
	ob_printf(b, "pext %u %s\n", p, val_ext_fmt(ids, ext));
}

void state_line_ssrc(struct outbuf *b, const struct model *m, uint32_t s)
{
	const struct m_stream *ss = &m->streams[s];
	ob_printf(b, "sssrc %u 0x%08x 0x%08x %u\n", s, ss->ssrc, ss->rtx_ssrc, ss->learn);
}

/* " TARGET OUT_SSRC TARGET_SID TARGET_DT TARGET_ENCODING RTX_SSRC|- PRIORITY" */
static void sub_tail(struct outbuf *b, const struct m_sub *b2)
{
	ob_char(b, ' ');
	ob_u64(b, b2->target);
	ob_char(b, ' ');
	ob_hex32(b, b2->out_ssrc);
	ob_char(b, ' ');
	ob_u64(b, b2->target_sid);
	ob_char(b, ' ');
	ob_u64(b, b2->target_dt);
	ob_char(b, ' ');
	ob_u64(b, b2->target_encoding);
	ob_char(b, ' ');
	if (b2->rtx_ssrc)
		ob_hex32(b, b2->rtx_ssrc);
	else
		ob_char(b, '-');
	if (b2->priority == MMR_PRIO_PINNED)
		ob_add(b, " pinned", 7);
	else
		ob_add(b, " -", 2);
}

/* vslot ID SUBSCRIBER K OUT_SSRC RTX_SSRC|- TARGET TARGET_SID TARGET_DT TARGET_ENCODING GEN (version 9):
 * receiver SUBSCRIBER's video slot K (created, or its targets and assignment number changed);
 * vmember ID STREAM SLOT: stream STREAM on video slot SLOT (a subscription id) */
static void vslot_line(struct outbuf *b, const struct model *m, uint32_t s)
{
	const struct m_sub *b2 = &m->subs[s];
	char rtx[16] = "-";
	if (b2->rtx_ssrc)
		snprintf(rtx, sizeof(rtx), "0x%08x", b2->rtx_ssrc);
	if (b2->stream == MMR_ID_NONE)
		ob_printf(b, "vslot %u %u %u 0x%08x %s %u %u %u %u %u\n", s, b2->subscriber, b2->video_slot - 1u,
			  b2->out_ssrc, rtx, b2->target, b2->target_sid, b2->target_dt, b2->target_encoding,
			  b2->slot_gen);
	else
		ob_printf(b, "vmember %u %u %u\n", s, b2->stream, b2->sel_id);
}

/* aslots PARTICIPANT SSRC,... (version 9): a participant's audio slot SSRCs */
void state_line_aslots(struct outbuf *b, const struct model *m, uint32_t p)
{
	const struct m_participant *pp = &m->parts[p];
	ob_printf(b, "aslots %u", p);
	for (unsigned k = 0; k < pp->n_aslots; k++)
		ob_printf(b, "%c0x%08x", k ? ',' : ' ', pp->aslot_ssrc[k]);
	ob_char(b, '\n');
}

/* the bulk of a big state: formatted by hand, printf is several times slower */
void state_line_sub(struct outbuf *b, const struct model *m, uint32_t s)
{
	const struct m_sub *b2 = &m->subs[s];
	if (b2->video_slot) {
		vslot_line(b, m, s);
		return;
	}
	ob_add(b, "sub ", 4);
	ob_u64(b, s);
	ob_char(b, ' ');
	if (b2->topn_slot)
		ob_char(b, '-');
	else
		ob_u64(b, b2->stream);
	ob_char(b, ' ');
	ob_u64(b, b2->subscriber);
	sub_tail(b, b2);
	/* " SLOT": the top-N slot (0-based), or - */
	ob_char(b, ' ');
	if (b2->topn_slot)
		ob_u64(b, b2->topn_slot - 1u);
	else
		ob_char(b, '-');
	ob_char(b, '\n');
}

void state_line_target(struct outbuf *b, const struct model *m, uint32_t s)
{
	ob_add(b, "target ", 7);
	ob_u64(b, s);
	sub_tail(b, &m->subs[s]);
	ob_char(b, '\n');
}

void state_line_topn(struct outbuf *b, const struct model *m, uint32_t meeting)
{
	ob_printf(b, "topn %u %u\n", meeting, m->meetings[meeting].top_n);
}

/* ---- meeting controls (issue 15) ---- */

void state_line_mctl(struct outbuf *b, const struct model *m, uint32_t meeting)
{
	const struct m_meeting *mt = &m->meetings[meeting];
	ob_printf(b, "mctl %u %s %s %s %u %s\n", meeting, mt->waiting_room ? "on" : "off",
		  mt->unmute_forbidden ? "forbidden" : "allowed", mt->share_host_only ? "host_only" : "everyone",
		  mt->max_sharers, mt->locked ? "locked" : "open");
}

void state_line_pctl(struct outbuf *b, const struct model *m, uint32_t p)
{
	const struct m_participant *pp = &m->parts[p];
	char mute[32] = "";
	if (pp->mute & MMR_BLOCK_AUDIO)
		strcat(mute, ",audio");
	if (pp->mute & MMR_BLOCK_VIDEO)
		strcat(mute, ",video");
	if (pp->mute & MMR_BLOCK_SCREEN)
		strcat(mute, ",screen");
	ob_printf(b, "pctl %u %s %s %s\n", p, pp->waiting ? "waiting" : "admitted", pp->host ? "host" : "-",
		  mute[0] ? mute + 1 : "-");
}

void state_line_ban(struct outbuf *b, uint32_t meeting, const char *name)
{
	ob_printf(b, "ban %u %s\n", meeting, name);
}

static bool mctl_default(const struct m_meeting *mt)
{
	return !mt->waiting_room && !mt->unmute_forbidden && !mt->share_host_only && !mt->max_sharers && !mt->locked;
}

void state_line_remove(struct outbuf *b, const char *kind, uint32_t id)
{
	ob_printf(b, "remove %s %u\n", kind, id);
}

void state_line_ledger(struct outbuf *b, const struct model *m)
{
	char id[2 * MMR_SRTP_LEDGER_ID_LEN + 1];
	ob_printf(b, "srtp_ledger %s ", ledger_id_hex(m->ledger_id, id));
	if (m->ledger_rekeyed)
		ob_printf(b, "%lld\n", (long long)m->ledger_rekeyed);
	else
		ob_puts(b, "-\n");
}

struct counts { uint32_t meetings, parts, streams, subs; };

static void write_meeting(const struct model *m, uint32_t id, struct outbuf *b, struct counts *c)
{
	const struct m_meeting *mt = &m->meetings[id];
	state_line_meeting(b, m, id);
	if (!mctl_default(mt))
		state_line_mctl(b, m, id);
	c->meetings++;
	for (uint32_t p = mt->first_part; p != MMR_ID_NONE; p = m->parts[p].next) {
		state_line_participant(b, m, p);
		if (m->parts[p].n_aslots)
			state_line_aslots(b, m, p);
		if (m->parts[p].waiting || m->parts[p].host || m->parts[p].mute)
			state_line_pctl(b, m, p);
		c->parts++;
	}
	for (uint32_t i = 0; i < m->n_bans; i++)
		if (m->bans[i].meeting == id)
			state_line_ban(b, id, m->bans[i].name);
	for (uint32_t p = mt->first_part; p != MMR_ID_NONE; p = m->parts[p].next)
		for (uint32_t s = m->parts[p].first_stream; s != MMR_ID_NONE; s = m->streams[s].next) {
			state_line_stream(b, m, s);
			c->streams++;
		}
	for (uint32_t p = mt->first_part; p != MMR_ID_NONE; p = m->parts[p].next)
		for (uint32_t s = m->parts[p].first_rsub; s != MMR_ID_NONE; s = m->subs[s].r_next) {
			state_line_sub(b, m, s);
			c->subs++;
		}
}

int state_file_save(const struct model *m, const char *path, uint64_t journal_gen, size_t *bytes, char *err,
		    size_t errlen)
{
	/* kept between saves: a big state is written at every compaction */
	static struct outbuf b;
	struct counts c = { 0, 0, 0, 0 };
	ob_reset(&b);
	ob_printf(&b, "# mmr-controller state: a snapshot; the changes since are in the journal it names\n"
		      "%s %d\njournal %llu\n", STATE_MAGIC, STATE_VERSION, (unsigned long long)journal_gen);
	if (m->has_state_id) {
		char id[2 * MMR_STATE_ID_LEN + 1];
		ob_printf(&b, "state_id %s %llu %llu\n", ledger_id_hex(m->state_id, id),
			  (unsigned long long)m->state_token, (unsigned long long)m->state_changes);
	}
	if (m->has_ledger)
		state_line_ledger(&b, m);
	for (uint32_t id = 0; id < model_meeting_bound(m); id++)
		if (m->meetings[id].used)
			write_meeting(m, id, &b, &c);
	ob_printf(&b, "end %u %u %u %u\n", c.meetings, c.parts, c.streams, c.subs);
	int rc;
	if (b.oom) {
		snprintf(err, errlen, "out of memory writing the state");
		rc = -1;
	} else {
		rc = file_write_atomic(path, b.p, b.len, err, errlen);
		if (bytes)
			*bytes = b.len;
	}
	if (b.p)
		explicit_bzero(b.p, b.len);   /* keys */
	if (b.oom || b.cap > 4 * b.len + (1u << 20))
		ob_free(&b);   /* do not hold on to a buffer the state has long outgrown */
	return rc;
}

/* ---- loading -------------------------------------------------------------------------------- */

struct loader {
	struct model *m;
	const char *path;
	unsigned line;
	char *err;
	size_t errlen;
	char *tok[24];
	int ntok;
	int version;      /* of the file: 1 (no SRTP), 2 (no spatial layers, simulcast), 3 (no SRTP
			     ledger line), 4 (no journal line, no state id), 5 (no RTCP fields), 6 (no
			     QoS fields: top-N, extension ids, screen, priority, slots), 7, 8 (no SSRC
			     learning token, no sssrc record) or 9 */
	bool have_ledger; /* the srtp_ledger line was read */
	bool have_state_id;
	bool have_journal;/* the journal line was read */
	bool journal;     /* reading journal records (state_file_replay), not a snapshot */
	uint64_t journal_gen;
};

__attribute__((format(printf, 2, 3)))
static int fail(struct loader *ld, const char *fmt, ...)
{
	char why[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(ld->err, ld->errlen, "%s:%u: %s", ld->path, ld->line, why);
	return -1;
}

static int get_id(struct loader *ld, int i, uint32_t max, uint32_t *out, const char *what)
{
	uint64_t v;
	if (val_uint(ld->tok[i], max - 1, &v) < 0)
		return fail(ld, "bad %s id '%s'", what, ld->tok[i]);
	*out = (uint32_t)v;
	return 0;
}

static int reserve_one(struct loader *ld, uint32_t mt, uint32_t p, uint32_t s, uint32_t b)
{
	const char *what;
	if (ld->journal) {
		/* ids are given, and removals in the journal released some into the pools before they
		 * were rebuilt: their counts mean nothing until state_file_replay_end(); room for the
		 * objects was checked when the change was made */
		struct model *m = ld->m;
		m->meeting_ids.in_use = m->part_ids.in_use = m->stream_ids.in_use = m->sub_ids.in_use = 0;
	}
	if (model_reserve(ld->m, mt, p, s, b, &what) < 0)
		return fail(ld, "out of memory");
	return 0;
}

static int load_meeting(struct loader *ld)
{
	struct model *m = ld->m;
	uint32_t id = 0;
	bool qos = ld->version >= 7 && ld->ntok == 5;   /* version 7 (a version 6 journal record replays too) */
	if (!qos && ld->ntok != (ld->version >= 2 ? 4 : 3))
		return fail(ld, ld->version >= 7 ? "meeting: expected 'meeting ID NAME SECURITY TOP_N'" :
				ld->version >= 2 ? "meeting: expected 'meeting ID NAME SECURITY'" :
						   "meeting: expected 'meeting ID NAME'");
	if (get_id(ld, 1, MODEL_MAX_MEETINGS, &id, "meeting") < 0)
		return -1;
	if (m->meetings[id].used)
		return fail(ld, "meeting id %u used twice", id);
	if (!val_name_ok(ld->tok[2]))
		return fail(ld, "bad meeting name '%s'", ld->tok[2]);
	if (model_find_meeting(m, ld->tok[2]) != MMR_ID_NONE)
		return fail(ld, "meeting '%s' appears twice", ld->tok[2]);
	enum srtp_suite suite = SRTP_SUITE_NONE;
	if (ld->version >= 2 && strcmp(ld->tok[3], "plain") != 0) {
		suite = srtp_suite_from_name(ld->tok[3]);
		if (suite == SRTP_SUITE_NONE)
			return fail(ld, "meeting '%s': bad security '%s' (plain or an SRTP suite)", ld->tok[2],
				    ld->tok[3]);
	}
	uint64_t top_n = 0;
	if (qos && val_uint(ld->tok[4], MMR_TOPN_MAX, &top_n) < 0)
		return fail(ld, "meeting '%s': bad top-n '%s' (0-%u)", ld->tok[2], ld->tok[4], MMR_TOPN_MAX);
	if (reserve_one(ld, 1, 0, 0, 0) < 0)
		return -1;
	model_meeting_add(m, id, ld->tok[2], suite);
	m->meetings[id].top_n = (uint8_t)top_n;
	return 0;
}

struct ice_tok {
	size_t ulen, plen;
	char ufrag[MMR_ICE_UFRAG_MAX];
	char pwd[MMR_ICE_PWD_MAX];
};
static void ice_tok_wipe(struct ice_tok *t)
{
	explicit_bzero(t, sizeof(*t));
}

/* ICE: UFRAG:PWD or - (never quoted in an error: it holds the pwd). */
static int load_ice(struct loader *ld, const char *t, struct ice_tok *ice)
{
	if (strcmp(t, "-") == 0)
		return 0;
	if (val_ice(t, ice->ufrag, &ice->ulen, ice->pwd, &ice->plen) < 0)
		return fail(ld, "bad ICE credentials");
	return 0;
}

/* ADDR PORT at tok[i], tok[i + 1]: port 0 only with ICE; the address not another participant's. */
static int load_addr_self(struct loader *ld, int i, bool ice, uint32_t self, struct mmr_addr *addr, uint64_t *port)
{
	if (val_addr(ld->tok[i], addr) < 0 && !(ice && strcmp(ld->tok[i + 1], "0") == 0))
		return fail(ld, "bad address '%s'", ld->tok[i]);
	if (val_uint(ld->tok[i + 1], 65535, port) < 0 || (*port == 0 && !ice))
		return fail(ld, "bad UDP port '%s'", ld->tok[i + 1]);
	if (*port == 0) {
		memset(addr, 0, sizeof(*addr));
		addr->family = MMR_AF_INET;
		return 0;
	}
	uint32_t other = model_find_participant_by_addr(ld->m, addr, (uint16_t)*port);
	if (other != MMR_ID_NONE && other != self)
		return fail(ld, "address %s port %s used twice", ld->tok[i], ld->tok[i + 1]);
	return 0;
}

static int load_addr(struct loader *ld, int i, bool ice, struct mmr_addr *addr, uint64_t *port)
{
	return load_addr_self(ld, i, ice, MMR_ID_NONE, addr, port);
}

/* DTLS: ROLE:FINGERPRINT or - (version 9); needs ICE and an SRTP meeting */
struct dtls_tok {
	bool on;
	unsigned role;
	uint8_t fp[MMR_DTLS_FP_LEN];
};
static int load_dtls(struct loader *ld, const char *t, bool ice, unsigned suite, struct dtls_tok *d)
{
	if (strcmp(t, "-") == 0)
		return 0;
	if (strncmp(t, "server:", 7) == 0)
		d->role = MMR_DTLS_SERVER;
	else if (strncmp(t, "client:", 7) == 0)
		d->role = MMR_DTLS_CLIENT;
	else
		return fail(ld, "bad DTLS '%s' (server:FINGERPRINT, client:FINGERPRINT or -)", t);
	if (dtls_fp_parse(t + 7, d->fp) < 0)
		return fail(ld, "bad DTLS fingerprint '%s'", t + 7);
	if (!ice || suite == SRTP_SUITE_NONE)
		return fail(ld, "DTLS without ICE credentials or in a plain RTP meeting");
	d->on = true;
	return 0;
}

static int load_participant(struct loader *ld)
{
	struct model *m = ld->m;
	uint32_t id = 0, mt = 0;
	uint64_t port, dp_port;
	struct mmr_addr addr;
	uint8_t mac[6];
	/* version 6 writes the RTCP fields; a version 5 journal record may follow a version 6 snapshot
	 * (an upgrade between a snapshot and its journal): both forms replay */
	bool dtls_tok = ld->version >= 9 && ld->ntok == 17;  /* version 9: DTLS */
	bool ice_tok = ld->version >= 8 && (ld->ntok == 16 || dtls_tok);  /* version 8: ICE */
	bool qos = ld->version >= 7 && (ld->ntok == 15 || ice_tok);   /* version 7: EXT */
	bool rtcp = ld->version >= 6 && (ld->ntok == 14 || qos);
	if (!rtcp && ld->ntok != (ld->version >= 2 ? 11 : 9))
		return fail(ld, ld->version >= 9 ?
			    "participant: expected 'participant ID MEETING NAME ADDR PORT ROLE MAC DP_PORT SEND_KEY RECV_KEY FB MMR_SSRC RTX EXT ICE DTLS'" :
			    ld->version >= 8 ?
			    "participant: expected 'participant ID MEETING NAME ADDR PORT ROLE MAC DP_PORT SEND_KEY RECV_KEY FB MMR_SSRC RTX EXT ICE'" :
			    ld->version >= 7 ?
			    "participant: expected 'participant ID MEETING NAME ADDR PORT ROLE MAC DP_PORT SEND_KEY RECV_KEY FB MMR_SSRC RTX EXT'" :
			    ld->version >= 6 ?
			    "participant: expected 'participant ID MEETING NAME ADDR PORT ROLE MAC DP_PORT SEND_KEY RECV_KEY FB MMR_SSRC RTX'" :
			    ld->version >= 2 ?
			    "participant: expected 'participant ID MEETING NAME ADDR PORT ROLE MAC DP_PORT SEND_KEY RECV_KEY'" :
			    "participant: expected 'participant ID MEETING NAME ADDR PORT ROLE MAC DP_PORT'");
	if (get_id(ld, 1, MMR_MAX_PARTICIPANTS, &id, "participant") < 0 ||
	    get_id(ld, 2, MODEL_MAX_MEETINGS, &mt, "meeting") < 0)
		return -1;
	if (m->parts[id].used)
		return fail(ld, "participant id %u used twice", id);
	if (!m->meetings[mt].used)
		return fail(ld, "participant %u: no meeting with id %u", id, mt);
	const char *name = ld->tok[3];
	if (!val_name_ok(name))
		return fail(ld, "bad participant name '%s'", name);
	if (model_find_participant(m, mt, name) != MMR_ID_NONE)
		return fail(ld, "participant '%s' appears twice in meeting '%s'", name, m->meetings[mt].name);
	struct ice_tok ice __attribute__((cleanup(ice_tok_wipe))) = { 0 };
	if (ice_tok && load_ice(ld, ld->tok[15], &ice) < 0)
		return -1;
	if (load_addr(ld, 4, ice.ulen > 0, &addr, &port) < 0)
		return -1;
	struct dtls_tok dtls = { 0 };
	if (dtls_tok && load_dtls(ld, ld->tok[16], ice.ulen > 0, m->meetings[mt].srtp_suite, &dtls) < 0)
		return -1;
	int role = val_role(ld->tok[6]);
	if (role < 0)
		return fail(ld, "bad role '%s'", ld->tok[6]);
	bool has_mac = strcmp(ld->tok[7], "-") != 0;
	if (has_mac && val_mac(ld->tok[7], mac) < 0)
		return fail(ld, "bad MAC '%s'", ld->tok[7]);
	if (val_uint(ld->tok[8], MMR_MAX_PORTS - 1, &dp_port) < 0)
		return fail(ld, "bad dataplane port '%s'", ld->tok[8]);
	/* keys: never quoted in an error (the log would carry them) */
	struct srtp_master keys[2];
	enum srtp_suite suite = m->meetings[mt].srtp_suite;
	memset(keys, 0, sizeof(keys));
	for (int k = 0; k < 2 && ld->version >= 2; k++) {
		const char *t = ld->tok[9 + k], *which = k ? "receive" : "send";
		if (suite == SRTP_SUITE_NONE && strcmp(t, "-") != 0)
			return fail(ld, "participant '%s': a %s key in plain RTP meeting '%s'", name, which,
				    m->meetings[mt].name);
		if (dtls.on && strcmp(t, "-") != 0)
			return fail(ld, "participant '%s': a %s key with DTLS (its keys come from its handshake)", name,
				    which);
		if (suite != SRTP_SUITE_NONE && !dtls.on && keys_from_inline(suite, t, &keys[k]) < 0) {
			explicit_bzero(keys, sizeof(keys));
			return fail(ld, "participant '%s': bad or missing %s key for %s", name, which,
				    srtp_suite_name(suite));
		}
	}
	/* RTCP (version 6); before: the defaults (model_participant_add: an mmr_ssrc made from the
	 * participant's id and meeting, the same at every load until a snapshot records it) */
	uint8_t fb = MMR_FB_DEFAULT;
	uint32_t mmr_ssrc = 0;
	struct mmr_rtx_pt map[MMR_RTX_MAP_MAX];
	memset(map, 0, sizeof(map));
	if (rtcp) {
		if (val_fb(ld->tok[11], &fb) < 0) {
			explicit_bzero(keys, sizeof(keys));
			return fail(ld, "participant '%s': bad feedback flags '%s'", name, ld->tok[11]);
		}
		if (val_ssrc(ld->tok[12], &mmr_ssrc) < 0 || mmr_ssrc == 0) {
			explicit_bzero(keys, sizeof(keys));
			return fail(ld, "participant '%s': bad mmr_ssrc '%s'", name, ld->tok[12]);
		}
		if (val_rtx_map(ld->tok[13], map) < 0) {
			explicit_bzero(keys, sizeof(keys));
			return fail(ld, "participant '%s': bad RTX payload types '%s'", name, ld->tok[13]);
		}
	}
	uint8_t ext[VAL_EXT_N] = { 0 };
	if (qos && val_ext(ld->tok[14], ext, VAL_EXT_TWO_BYTE_MAX) < 0) {
		explicit_bzero(keys, sizeof(keys));
		return fail(ld, "participant '%s': bad header extension ids '%s'", name, ld->tok[14]);
	}
	if (((fb & MMR_FB_TWCC) && !ext[0]) || ((fb & MMR_FB_REMB) && !ext[1])) {
		explicit_bzero(keys, sizeof(keys));
		return fail(ld, "participant '%s': twcc/remb feedback without its header extension id", name);
	}
	if (ice.ulen && model_find_participant_by_ufrag(m, ice.ufrag, ice.ulen) != MMR_ID_NONE) {
		explicit_bzero(keys, sizeof(keys));
		return fail(ld, "participant '%s': ICE ufrag used twice", name);
	}
	if (reserve_one(ld, 0, 1, 0, 0) < 0) {
		explicit_bzero(keys, sizeof(keys));
		return -1;
	}
	model_participant_add(m, id, mt, name, &addr, (uint16_t)port, (unsigned)role, has_mac ? mac : NULL,
			      (uint16_t)dp_port);
	model_participant_set_keys(m, id, &keys[0], &keys[1]);
	if (rtcp)
		model_participant_set_rtcp(m, id, fb, mmr_ssrc, map);
	model_participant_set_ext_ids(&m->parts[id], ext);
	model_participant_set_ice(m, id, ice.ufrag, ice.ulen, ice.pwd, ice.plen);
	model_participant_set_dtls(m, id, dtls.on, dtls.role, dtls.fp);
	explicit_bzero(keys, sizeof(keys));
	return 0;
}

/* pdtls ID DTLS (journal, version 9): a DTLS participant's role or peer fingerprint changed. */
static int load_pdtls(struct loader *ld)
{
	struct model *m = ld->m;
	uint32_t id = 0;
	if (ld->ntok != 3)
		return fail(ld, "pdtls: expected 'pdtls PARTICIPANT DTLS'");
	if (get_id(ld, 1, MMR_MAX_PARTICIPANTS, &id, "participant") < 0)
		return -1;
	if (!m->parts[id].used || !m->parts[id].dtls)
		return fail(ld, "pdtls: no DTLS participant with id %u", id);
	struct dtls_tok dtls = { 0 };
	if (load_dtls(ld, ld->tok[2], m->parts[id].ice, m->meetings[m->parts[id].meeting].srtp_suite, &dtls) < 0)
		return -1;
	if (!dtls.on)
		return fail(ld, "pdtls: participant %u: DTLS cannot be removed", id);
	model_participant_set_dtls(m, id, true, dtls.role, dtls.fp);
	return 0;
}

/* paddr ID ADDR PORT ICE (journal, version 8): a participant's address and ICE credentials changed
 * (`participant set`, an address learned by ICE, consent lost). */
static int load_paddr(struct loader *ld)
{
	struct model *m = ld->m;
	uint32_t id = 0;
	if (ld->ntok != 5)
		return fail(ld, "paddr: expected 'paddr PARTICIPANT ADDR PORT ICE'");
	if (get_id(ld, 1, MMR_MAX_PARTICIPANTS, &id, "participant") < 0)
		return -1;
	if (!m->parts[id].used)
		return fail(ld, "paddr: no participant with id %u", id);
	struct ice_tok ice __attribute__((cleanup(ice_tok_wipe))) = { 0 };
	struct mmr_addr addr;
	uint64_t port;
	if (load_ice(ld, ld->tok[4], &ice) < 0 || load_addr_self(ld, 2, ice.ulen > 0, id, &addr, &port) < 0)
		return -1;
	uint32_t other = ice.ulen ? model_find_participant_by_ufrag(m, ice.ufrag, ice.ulen) : MMR_ID_NONE;
	if (other != MMR_ID_NONE && other != id)
		return fail(ld, "paddr: participant %u: ICE ufrag used twice", id);
	if (m->parts[id].dtls && !ice.ulen)
		return fail(ld, "paddr: participant %u: DTLS without ICE credentials", id);
	model_participant_set_addr(m, id, &addr, (uint16_t)port);
	model_participant_set_ice(m, id, ice.ufrag, ice.ulen, ice.pwd, ice.plen);
	return 0;
}

/* SPATIAL GROUP|- ENCODING DD_EXT|- of a version 3 stream line, checked against what is loaded. */
static int load_stream_v3(struct loader *ld, uint32_t id, uint32_t p, struct m_stream_desc *d)
{
	struct model *m = ld->m;
	uint64_t v;
	if (val_uint(ld->tok[7], val_codec_max_slayers(d->codec), &v) < 0 || v == 0)
		return fail(ld, "bad spatial layer count '%s' for %s", ld->tok[7], ld->tok[5]);
	d->spatial = (uint8_t)v;
	if (val_uint(ld->tok[9], MEDIA_MAX_ENCODINGS - 1, &v) < 0)
		return fail(ld, "bad encoding '%s'", ld->tok[9]);
	d->encoding = (uint8_t)v;
	if (strcmp(ld->tok[8], "-") == 0) {
		if (d->encoding != 0)
			return fail(ld, "stream %u: encoding %u outside a simulcast group", id, d->encoding);
	} else {
		uint32_t g = 0;
		if (get_id(ld, 8, MMR_MAX_STREAMS, &g, "group") < 0)
			return -1;
		if (d->kind == MMR_KIND_AUDIO)
			return fail(ld, "stream %u: audio cannot be simulcast", id);
		if (d->encoding == 0 && g != id)
			return fail(ld, "stream %u: encoding 0 of group %u (it must be the group's own id)", id, g);
		if (d->encoding > 0) {
			/* the previous encoding of the same group, just before it in the publisher's list */
			uint32_t prev = m->parts[p].last_stream;
			const struct m_stream *ps = prev == MMR_ID_NONE ? NULL : &m->streams[prev];
			if (!ps || ps->group != g || ps->encoding + 1u != d->encoding)
				return fail(ld, "stream %u: encoding %u of group %u does not follow encoding %u", id,
					    d->encoding, g, d->encoding - 1u);
			if (ps->codec != d->codec || ps->layers != d->layers)
				return fail(ld, "stream %u: not the same codec and layers as the rest of group %u", id, g);
		}
		d->group = g;
	}
	if (d->codec == MMR_CODEC_AV1) {
		if (val_uint(ld->tok[10], 255, &v) < 0 || v == 0)
			return fail(ld, "stream %u: av1 needs a Dependency Descriptor extension id 1-255, not '%s'", id,
				    ld->tok[10]);
		d->dd_ext_id = (uint8_t)v;
	} else if (strcmp(ld->tok[10], "-") != 0) {
		return fail(ld, "stream %u: a Dependency Descriptor extension id for %s", id, ld->tok[5]);
	}
	if (d->group != MMR_ID_NONE && d->encoding > 0) {
		const struct m_stream *ps = &m->streams[m->parts[p].last_stream];
		if (ps->spatial != d->spatial || ps->dd_ext_id != d->dd_ext_id)
			return fail(ld, "stream %u: not the same codec and layers as the rest of group %u", id, d->group);
	}
	return 0;
}

static int load_stream(struct loader *ld)
{
	struct model *m = ld->m;
	uint32_t id = 0, p = 0, ssrc;
	uint64_t layers;
	bool learn = ld->version >= 9 && ld->ntok == 16; /* version 9: MID:RID:LEARN:RTX_PT */
	bool qos = ld->version >= 7 && (ld->ntok == 15 || learn);   /* version 7: SCREEN */
	bool rtcp = ld->version >= 6 && (ld->ntok == 14 || qos);   /* version 6 (both forms replay: participant) */
	if (!rtcp && ld->ntok != (ld->version >= 3 ? 11 : 7))
		return fail(ld, ld->version >= 7 ?
			    "stream: expected 'stream ID PARTICIPANT SSRC KIND CODEC LAYERS SPATIAL GROUP ENCODING DD_EXT RTX_SSRC RTX_PT CLOCK SCREEN'" :
			    ld->version >= 6 ?
			    "stream: expected 'stream ID PARTICIPANT SSRC KIND CODEC LAYERS SPATIAL GROUP ENCODING DD_EXT RTX_SSRC RTX_PT CLOCK'" :
			    ld->version >= 3 ?
			    "stream: expected 'stream ID PARTICIPANT SSRC KIND CODEC LAYERS SPATIAL GROUP ENCODING DD_EXT'" :
			    "stream: expected 'stream ID PARTICIPANT SSRC KIND CODEC LAYERS'");
	if (get_id(ld, 1, MMR_MAX_STREAMS, &id, "stream") < 0 ||
	    get_id(ld, 2, MMR_MAX_PARTICIPANTS, &p, "participant") < 0)
		return -1;
	if (m->streams[id].used)
		return fail(ld, "stream id %u used twice", id);
	if (!m->parts[p].used)
		return fail(ld, "stream %u: no participant with id %u", id, p);
	if (!val_role_sends(m->parts[p].role))
		return fail(ld, "stream %u: participant '%s' is %s and may not publish", id, m->parts[p].name,
			    val_role_name(m->parts[p].role));
	if (val_ssrc(ld->tok[3], &ssrc) < 0)
		return fail(ld, "bad SSRC '%s'", ld->tok[3]);
	if (model_find_stream(m, m->parts[p].meeting, ssrc) != MMR_ID_NONE)
		return fail(ld, "SSRC %s used twice in meeting '%s'", ld->tok[3], m->meetings[m->parts[p].meeting].name);
	int kind = val_kind(ld->tok[4]), codec = val_codec(ld->tok[5]);
	if (kind < 0)
		return fail(ld, "bad kind '%s'", ld->tok[4]);
	if (codec < 0)
		return fail(ld, "bad codec '%s'", ld->tok[5]);
	if ((unsigned)kind != val_codec_kind((unsigned)codec))
		return fail(ld, "codec %s does not carry %s", ld->tok[5], ld->tok[4]);
	if (val_uint(ld->tok[6], val_codec_max_tlayers((unsigned)codec), &layers) < 0 || layers == 0)
		return fail(ld, "bad layer count '%s'", ld->tok[6]);
	struct m_stream_desc d = { .kind = (uint8_t)kind, .codec = (uint8_t)codec, .layers = (uint8_t)layers,
				   .spatial = 1, .group = MMR_ID_NONE };
	if (ld->version >= 3 && load_stream_v3(ld, id, p, &d) < 0)
		return -1;
	if (ld->version < 3 && codec == MMR_CODEC_AV1)   /* cannot be: version 2 had no av1 */
		return fail(ld, "stream %u: av1 in a version %d file", id, ld->version);
	if (rtcp) {
		uint32_t rtx = 0;
		uint64_t v;
		bool none = strcmp(ld->tok[11], "-") == 0;
		if (none != (strcmp(ld->tok[12], "-") == 0))
			return fail(ld, "stream %u: RTX SSRC and payload type go together", id);
		if (!none) {
			if (val_ssrc(ld->tok[11], &rtx) < 0 || rtx == 0 || rtx == ssrc)
				return fail(ld, "stream %u: bad RTX SSRC '%s'", id, ld->tok[11]);
			if (val_uint(ld->tok[12], 127, &v) < 0 || v == 0)
				return fail(ld, "stream %u: bad RTX payload type '%s'", id, ld->tok[12]);
			if (model_find_stream(m, m->parts[p].meeting, rtx) != MMR_ID_NONE ||
			    model_find_rtx_ssrc(m, m->parts[p].meeting, rtx) != MMR_ID_NONE)
				return fail(ld, "stream %u: RTX SSRC %s used twice in its meeting", id, ld->tok[11]);
			d.rtx_pt = (uint8_t)v;
			d.rtx_ssrc[d.group == MMR_ID_NONE ? 0 : d.encoding] = rtx;
		}
		if (val_uint(ld->tok[13], 1000000, &v) < 0 || v < 1000)
			return fail(ld, "stream %u: bad clock rate '%s' (1000-1000000 Hz)", id, ld->tok[13]);
		d.clock_hz = (uint32_t)v;
	}
	if (qos) {
		if (strcmp(ld->tok[14], "screen") == 0)
			d.screen = 1;
		else if (strcmp(ld->tok[14], "-") != 0)
			return fail(ld, "stream %u: bad screen flag '%s' (screen or -)", id, ld->tok[14]);
		if (d.screen && kind != MMR_KIND_VIDEO)
			return fail(ld, "stream %u: an audio stream is no screen share", id);
	}
	char mid[MMR_MID_MAX + 1] = "", rid[MMR_MID_MAX + 1] = "";
	unsigned need = 0, rtx_pt = 0;
	if (learn && strcmp(ld->tok[15], "-") != 0) {
		const char *t = ld->tok[15];
		size_t ml = strcspn(t, ":");
		const char *r = t + ml + (t[ml] == ':');
		size_t rl = strcspn(r, ":");
		char tail[16];
		if (t[ml] != ':' || r[rl] != ':' || ml == 0 || ml > MMR_MID_MAX || rl > MMR_MID_MAX ||
		    strlen(r + rl + 1) >= sizeof(tail))
			return fail(ld, "stream %u: bad learning token '%s' (MID:RID:LEARN:RTX_PT)", id, t);
		memcpy(mid, t, ml);
		mid[ml] = '\0';
		memcpy(rid, r, rl);
		rid[rl] = '\0';
		strcpy(tail, r + rl + 1);
		if (sscanf(tail, "%u:%u", &need, &rtx_pt) != 2 || need > 3 || rtx_pt > 127 ||
		    !val_mid_ok(mid) || (rl && !val_mid_ok(rid)) || ((need & MMR_LEARN_RTX) && (!rtx_pt || d.rtx_pt)))
			return fail(ld, "stream %u: bad learning token '%s' (MID:RID:LEARN:RTX_PT)", id, t);
	}
	if (need) {
		unsigned pending = 1;
		for (uint32_t o = m->parts[p].first_stream; o != MMR_ID_NONE; o = m->streams[o].next)
			pending += m->streams[o].learn != 0;
		if (pending > MMR_LEARN_MAX)
			return fail(ld, "stream %u: participant %u would have %u streams whose SSRCs are being learned "
				    "(at most %u)", id, p, pending, MMR_LEARN_MAX);
	}
	if (reserve_one(ld, 0, 0, 1, 0) < 0)
		return -1;
	model_stream_add(m, id, p, ssrc, &d);
	struct m_stream *ss = &m->streams[id];
	memcpy(ss->mid, mid, sizeof(ss->mid));
	memcpy(ss->rid, rid, sizeof(ss->rid));
	ss->learn = (uint8_t)need;
	if (need & MMR_LEARN_RTX)
		ss->rtx_pt = (uint8_t)rtx_pt;
	return 0;
}

/* pext ID EXT (journal, version 9): a participant's header extension ids changed (`participant set --ext`). */
static int load_pext(struct loader *ld)
{
	struct model *m = ld->m;
	uint32_t id = 0;
	uint8_t ext[VAL_EXT_N];
	if (ld->ntok != 3)
		return fail(ld, "pext: expected 'pext PARTICIPANT EXT'");
	if (get_id(ld, 1, MMR_MAX_PARTICIPANTS, &id, "participant") < 0)
		return -1;
	if (!m->parts[id].used)
		return fail(ld, "pext: no participant with id %u", id);
	if (val_ext(ld->tok[2], ext, VAL_EXT_TWO_BYTE_MAX) < 0)
		return fail(ld, "pext: bad extension ids '%s'", ld->tok[2]);
	struct m_participant *pp = &m->parts[id];
	if (((pp->fb & MMR_FB_TWCC) && !ext[0]) || ((pp->fb & MMR_FB_REMB) && !ext[1]))
		return fail(ld, "pext: participant %u's feedback needs its extension ids", id);
	model_participant_set_ext_ids(pp, ext);
	return 0;
}

/* sssrc ID SSRC RTX_SSRC LEARN (journal, version 9): a stream's SSRC or RTX SSRC learned. */
static int load_sssrc(struct loader *ld)
{
	struct model *m = ld->m;
	uint32_t id = 0, ssrc, rtx;
	uint64_t need;
	if (ld->ntok != 5)
		return fail(ld, "sssrc: expected 'sssrc STREAM SSRC RTX_SSRC LEARN'");
	if (get_id(ld, 1, MMR_MAX_STREAMS, &id, "stream") < 0)
		return -1;
	if (!m->streams[id].used)
		return fail(ld, "sssrc: no stream with id %u", id);
	if (val_ssrc(ld->tok[2], &ssrc) < 0 || val_ssrc(ld->tok[3], &rtx) < 0 || val_uint(ld->tok[4], 3, &need) < 0)
		return fail(ld, "sssrc: bad values for stream %u", id);
	struct m_stream *ss = &m->streams[id];
	uint32_t meeting = m->parts[ss->participant].meeting;
	uint32_t other = model_find_stream(m, meeting, ssrc);
	if (ssrc == 0 || (other != MMR_ID_NONE && other != id))
		return fail(ld, "sssrc: stream %u: SSRC %s used twice", id, ld->tok[2]);
	if (rtx && ((other = model_find_rtx_ssrc(m, meeting, rtx)) != MMR_ID_NONE && other != id))
		return fail(ld, "sssrc: stream %u: RTX SSRC %s used twice", id, ld->tok[3]);
	if (rtx && (!ss->rtx_pt || rtx == ssrc))
		return fail(ld, "sssrc: stream %u: bad RTX SSRC %s", id, ld->tok[3]);
	if (need & ~(uint64_t)ss->learn)
		return fail(ld, "sssrc: stream %u: learning %llu where it was %u (a learned SSRC only ends learning)", id,
			    (unsigned long long)need, ss->learn);
	if (ssrc != ss->ssrc)
		model_stream_set_ssrc(m, id, ssrc);
	ss->rtx_ssrc = rtx;
	ss->learn = (uint8_t)need;
	return 0;
}

/* PRIORITY of a version 7 sub or target line: pinned or - */
static int get_priority(struct loader *ld, int i, uint8_t *prio)
{
	if (strcmp(ld->tok[i], "pinned") == 0)
		*prio = MMR_PRIO_PINNED;
	else if (strcmp(ld->tok[i], "-") == 0)
		*prio = MMR_PRIO_NORMAL;
	else
		return fail(ld, "bad priority '%s' (pinned or -)", ld->tok[i]);
	return 0;
}

/* sub ID - SUBSCRIBER 0 OUT_SSRC 0 0 0 - - SLOT (version 7): receiver SUBSCRIBER's top-N slot */
static int load_slot(struct loader *ld, uint32_t id)
{
	struct model *m = ld->m;
	uint32_t r = 0, out_ssrc;
	uint64_t slot;
	if (get_id(ld, 3, MMR_MAX_PARTICIPANTS, &r, "participant") < 0)
		return -1;
	if (!m->parts[r].used)
		return fail(ld, "subscription %u: no participant with id %u", id, r);
	if (!val_role_receives(m->parts[r].role))
		return fail(ld, "subscription %u: participant '%s' is %s and receives nothing", id,
			    m->parts[r].name, val_role_name(m->parts[r].role));
	const struct m_meeting *mt = &m->meetings[m->parts[r].meeting];
	if (val_uint(ld->tok[11], MMR_TOPN_MAX - 1u, &slot) < 0 || slot >= mt->top_n)
		return fail(ld, "subscription %u: bad top-N slot '%s' (meeting '%s' has top-n %u)", id, ld->tok[11],
			    mt->name, mt->top_n);
	if (model_find_slot(m, r, (unsigned)slot) != MMR_ID_NONE)
		return fail(ld, "subscription %u: participant %u's slot %llu appears twice", id, r,
			    (unsigned long long)slot);
	if (val_ssrc(ld->tok[5], &out_ssrc) < 0)
		return fail(ld, "bad out SSRC '%s'", ld->tok[5]);
	if (strcmp(ld->tok[4], "0") || strcmp(ld->tok[6], "0") || strcmp(ld->tok[7], "0") || strcmp(ld->tok[8], "0") ||
	    strcmp(ld->tok[9], "-") || strcmp(ld->tok[10], "-"))
		return fail(ld, "subscription %u: a top-N slot has no targets, RTX or priority", id);
	if (reserve_one(ld, 0, 0, 0, 1) < 0)
		return -1;
	model_slot_add(m, id, r, (unsigned)slot, out_ssrc);
	return 0;
}

/* vslot ... (version 9, above): create video slot K of SUBSCRIBER, or (journal) set an existing
 * one's targets and assignment number */
static int load_vslot(struct loader *ld)
{
	struct model *m = ld->m;
	uint32_t id = 0, r = 0, out_ssrc, rtx = 0;
	uint64_t k, v[5];
	if (ld->version < 9)
		return fail(ld, "unknown record 'vslot' in a version %d file", ld->version);
	if (ld->ntok != 11)
		return fail(ld, "vslot: expected 'vslot ID SUBSCRIBER K OUT_SSRC RTX_SSRC|- TARGET TARGET_SID TARGET_DT TARGET_ENCODING GEN'");
	if (get_id(ld, 1, MMR_MAX_SUBS, &id, "subscription") < 0 || get_id(ld, 2, MMR_MAX_PARTICIPANTS, &r, "participant") < 0)
		return -1;
	if (!m->parts[r].used || !val_role_receives(m->parts[r].role))
		return fail(ld, "vslot %u: no receiving participant with id %u", id, r);
	if (val_uint(ld->tok[3], MMR_VSLOT_MAX - 1u, &k) < 0 || val_ssrc(ld->tok[4], &out_ssrc) < 0 || out_ssrc == 0 ||
	    (strcmp(ld->tok[5], "-") != 0 && (val_ssrc(ld->tok[5], &rtx) < 0 || rtx == 0 || rtx == out_ssrc)) ||
	    val_uint(ld->tok[6], MMR_MAX_TLAYERS - 1u, &v[0]) < 0 || val_uint(ld->tok[7], MEDIA_MAX_SPATIAL - 1u, &v[1]) < 0 ||
	    val_uint(ld->tok[8], 31u /* AV1_MAX_DT - 1 */, &v[2]) < 0 || val_uint(ld->tok[9], MEDIA_MAX_ENCODINGS - 1u, &v[3]) < 0 ||
	    val_uint(ld->tok[10], 255, &v[4]) < 0)
		return fail(ld, "vslot %u: bad slot, SSRCs, targets or assignment number", id);
	struct m_sub *b;
	if (m->subs[id].used) {
		b = &m->subs[id];
		if (!ld->journal || b->stream != MMR_ID_NONE || b->video_slot != k + 1 || b->subscriber != r ||
		    b->out_ssrc != out_ssrc || b->rtx_ssrc != rtx)
			return fail(ld, "subscription id %u used twice", id);
	} else {
		if (m->parts[r].n_vslots > k && m->parts[r].vslot_sub[k] != MMR_ID_NONE)
			return fail(ld, "vslot %u: participant %u's video slot %llu appears twice", id, r,
				    (unsigned long long)k);
		if (reserve_one(ld, 0, 0, 0, 1) < 0)
			return -1;
		b = &m->subs[model_vslot_add(m, id, r, (unsigned)k, out_ssrc, rtx)];
	}
	b->target = (uint8_t)v[0];
	b->target_sid = (uint8_t)v[1];
	b->target_dt = (uint8_t)v[2];
	b->target_encoding = (uint8_t)v[3];
	b->slot_gen = (uint8_t)v[4];
	return 0;
}

/* vmember ID STREAM SLOT (version 9): a stream on a video slot */
static int load_vmember(struct loader *ld)
{
	struct model *m = ld->m;
	uint32_t id = 0, s = 0, slot = 0;
	if (ld->version < 9)
		return fail(ld, "unknown record 'vmember' in a version %d file", ld->version);
	if (ld->ntok != 4)
		return fail(ld, "vmember: expected 'vmember ID STREAM SLOT'");
	if (get_id(ld, 1, MMR_MAX_SUBS, &id, "subscription") < 0 || get_id(ld, 2, MMR_MAX_STREAMS, &s, "stream") < 0 ||
	    get_id(ld, 3, MMR_MAX_SUBS, &slot, "subscription") < 0)
		return -1;
	if (m->subs[id].used)
		return fail(ld, "subscription id %u used twice", id);
	const struct m_sub *a = &m->subs[slot];
	if (!a->used || !a->video_slot || a->stream != MMR_ID_NONE)
		return fail(ld, "vmember %u: no video slot with id %u", id, slot);
	if (!m->streams[s].used || m->streams[s].kind != MMR_KIND_VIDEO || m->streams[s].participant == a->subscriber ||
	    model_stream_meeting(m, s) != m->parts[a->subscriber].meeting)
		return fail(ld, "vmember %u: stream %u is no video stream of another participant of the slot's meeting", id, s);
	if (model_find_sub(m, s, a->subscriber) != MMR_ID_NONE)
		return fail(ld, "vmember %u: participant %u receives stream %u twice", id, a->subscriber, s);
	if (reserve_one(ld, 0, 0, 0, 1) < 0)
		return -1;
	model_vslot_member_add(m, id, s, slot);
	return 0;
}

/* aslots PARTICIPANT SSRC,... (version 9) */
static int load_aslots(struct loader *ld)
{
	struct model *m = ld->m;
	uint32_t p = 0;
	if (ld->version < 9)
		return fail(ld, "unknown record 'aslots' in a version %d file", ld->version);
	if (ld->ntok != 3)
		return fail(ld, "aslots: expected 'aslots PARTICIPANT SSRC,...'");
	if (get_id(ld, 1, MMR_MAX_PARTICIPANTS, &p, "participant") < 0)
		return -1;
	if (!m->parts[p].used)
		return fail(ld, "aslots: no participant with id %u", p);
	unsigned n = 0;
	char *save = NULL;
	for (char *t = strtok_r(ld->tok[2], ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		uint32_t v;
		if (n == MMR_TOPN_MAX || val_ssrc(t, &v) < 0 || v == 0)
			return fail(ld, "aslots: bad SSRC list for participant %u", p);
		for (unsigned k = 0; k < n; k++)
			if (m->parts[p].aslot_ssrc[k] == v)
				return fail(ld, "aslots: participant %u: SSRC 0x%08x twice", p, v);
		m->parts[p].aslot_ssrc[n++] = v;
	}
	m->parts[p].n_aslots = (uint8_t)n;
	return 0;
}

static int load_sub(struct loader *ld)
{
	struct model *m = ld->m;
	uint32_t id = 0, s = 0, r = 0, out_ssrc;
	bool qos = ld->version >= 7 && ld->ntok == 12;   /* version 7: PRIORITY SLOT */
	bool rtcp = ld->version >= 6 && (ld->ntok == 10 || qos);   /* version 6 (both forms replay: participant) */
	if (!rtcp && ld->ntok != (ld->version >= 3 ? 9 : 6))
		return fail(ld, ld->version >= 7 ?
			    "sub: expected 'sub ID STREAM|- SUBSCRIBER TARGET OUT_SSRC TARGET_SID TARGET_DT TARGET_ENCODING RTX_SSRC PRIORITY SLOT'" :
			    ld->version >= 6 ?
			    "sub: expected 'sub ID STREAM SUBSCRIBER TARGET OUT_SSRC TARGET_SID TARGET_DT TARGET_ENCODING RTX_SSRC'" :
			    ld->version >= 3 ?
			    "sub: expected 'sub ID STREAM SUBSCRIBER TARGET OUT_SSRC TARGET_SID TARGET_DT TARGET_ENCODING'" :
			    "sub: expected 'sub ID STREAM SUBSCRIBER TARGET OUT_SSRC'");
	if (get_id(ld, 1, MMR_MAX_SUBS, &id, "subscription") < 0)
		return -1;
	if (m->subs[id].used)
		return fail(ld, "subscription id %u used twice", id);
	if (qos && strcmp(ld->tok[2], "-") == 0)
		return load_slot(ld, id);
	if (qos && strcmp(ld->tok[11], "-") != 0)
		return fail(ld, "subscription %u: a top-N slot '%s' with a stream", id, ld->tok[11]);
	if (get_id(ld, 2, MMR_MAX_STREAMS, &s, "stream") < 0 ||
	    get_id(ld, 3, MMR_MAX_PARTICIPANTS, &r, "participant") < 0)
		return -1;
	if (!m->streams[s].used)
		return fail(ld, "subscription %u: no stream with id %u", id, s);
	if (!m->parts[r].used)
		return fail(ld, "subscription %u: no participant with id %u", id, r);
	if (m->parts[r].meeting != model_stream_meeting(m, s))
		return fail(ld, "subscription %u: subscriber and stream are in different meetings", id);
	if (!val_role_receives(m->parts[r].role))
		return fail(ld, "subscription %u: participant '%s' is %s and receives nothing", id,
			    m->parts[r].name, val_role_name(m->parts[r].role));
	if (m->streams[s].participant == r)
		return fail(ld, "subscription %u: participant '%s' subscribed to its own stream", id, m->parts[r].name);
	if (model_find_sub(m, s, r) != MMR_ID_NONE)
		return fail(ld, "subscription of participant %u to stream %u appears twice", r, s);
	const struct m_stream *ss = &m->streams[s];
	struct m_target t = { 0, 0, 0, 0 };
	uint64_t v;
	if (val_uint(ld->tok[4], ss->layers - 1u, &v) < 0)
		return fail(ld, "bad target layer '%s' (stream has %u layers)", ld->tok[4], ss->layers);
	t.tid = (uint8_t)v;
	if (val_ssrc(ld->tok[5], &out_ssrc) < 0)
		return fail(ld, "bad out SSRC '%s'", ld->tok[5]);
	if (ld->version >= 3) {
		/* a group's streams all come before any subscription of its meeting: its size is known */
		if (val_uint(ld->tok[6], ss->spatial - 1u, &v) < 0)
			return fail(ld, "bad spatial target '%s' (stream has %u spatial layers)", ld->tok[6], ss->spatial);
		t.sid = (uint8_t)v;
		if (val_uint(ld->tok[7], (uint64_t)ss->spatial * ss->layers - 1u, &v) < 0)
			return fail(ld, "bad decode target '%s' (stream has %u)", ld->tok[7], ss->spatial * ss->layers);
		t.dt = (uint8_t)v;
		if (val_uint(ld->tok[8], model_group_size(m, s) - 1u, &v) < 0)
			return fail(ld, "bad target encoding '%s' (stream has %u)", ld->tok[8], model_group_size(m, s));
		t.encoding = (uint8_t)v;
	}
	uint32_t rtx = 0;
	if (rtcp && strcmp(ld->tok[9], "-") != 0 && (val_ssrc(ld->tok[9], &rtx) < 0 || rtx == 0 || rtx == out_ssrc))
		return fail(ld, "subscription %u: bad RTX SSRC '%s'", id, ld->tok[9]);
	uint8_t prio = MMR_PRIO_NORMAL;
	if (qos && get_priority(ld, 10, &prio) < 0)
		return -1;
	if (prio != MMR_PRIO_NORMAL && ss->kind != MMR_KIND_VIDEO)
		return fail(ld, "subscription %u: only video is pinned", id);
	if (!model_stream_subscribed(m, m->parts[r].meeting, ss->kind))
		return fail(ld, "subscription %u: audio of top-N meeting '%s' goes through slots, not per pair", id,
			    m->meetings[m->parts[r].meeting].name);
	if (reserve_one(ld, 0, 0, 0, 1) < 0)
		return -1;
	model_sub_add(m, id, s, r, &t, out_ssrc, MMR_ID_NONE);   /* sel_id: set_sel_ids() at the end */
	m->subs[id].rtx_ssrc = rtx;
	m->subs[id].priority = prio;
	return 0;
}

/* srtp_ledger ID REKEYED (version 4): 32 hex digits, and - or the Unix time of the last forced rekey */
static int load_ledger(struct loader *ld)
{
	struct model *m = ld->m;
	if (ld->version < 4)
		return fail(ld, "unknown record 'srtp_ledger' in a version %d file", ld->version);
	if (ld->ntok != 3)
		return fail(ld, "srtp_ledger: expected 'srtp_ledger ID REKEYED'");
	if (!ld->journal && ld->have_ledger)
		return fail(ld, "srtp_ledger appears twice");
	if (!ld->journal && m->n_meetings)
		return fail(ld, "srtp_ledger after the first meeting");
	const char *hex = ld->tok[1];
	uint8_t id[MMR_SRTP_LEDGER_ID_LEN];
	if (mmr_hex_decode(hex, id, MMR_SRTP_LEDGER_ID_LEN) < 0)
		return fail(ld, "srtp_ledger: bad id '%s' (%d lowercase hex digits)", hex, 2 * MMR_SRTP_LEDGER_ID_LEN);
	uint64_t t = 0;
	if (strcmp(ld->tok[2], "-") != 0 && (val_uint(ld->tok[2], INT64_MAX, &t) < 0 || t == 0))
		return fail(ld, "srtp_ledger: bad rekey time '%s' (- or Unix seconds)", ld->tok[2]);
	memcpy(m->ledger_id, id, MMR_SRTP_LEDGER_ID_LEN);
	m->has_ledger = true;
	m->ledger_rekeyed = (int64_t)t;
	ld->have_ledger = true;
	return 0;
}

/* state_id ID TOKEN CHANGES (version 5): 32 hex digits, two counts */
static int load_state_id(struct loader *ld)
{
	struct model *m = ld->m;
	if (ld->version < 5)
		return fail(ld, "unknown record 'state_id' in a version %d file", ld->version);
	if (ld->ntok != 4)
		return fail(ld, "state_id: expected 'state_id ID TOKEN CHANGES'");
	uint64_t token, changes;
	if (val_uint(ld->tok[2], UINT64_MAX, &token) < 0)
		return fail(ld, "state_id: bad token '%s'", ld->tok[2]);
	if (val_uint(ld->tok[3], UINT64_MAX, &changes) < 0)
		return fail(ld, "state_id: bad change count '%s'", ld->tok[3]);
	if (ld->journal)
		return fail(ld, "state_id in a journal record");
	if (ld->have_state_id)
		return fail(ld, "state_id appears twice");
	if (m->n_meetings)
		return fail(ld, "state_id after the first meeting");
	const char *hex = ld->tok[1];
	if (strlen(hex) != 2 * MMR_STATE_ID_LEN || strspn(hex, "0123456789abcdef") != strlen(hex))
		return fail(ld, "state_id: bad id '%s' (%d lowercase hex digits)", hex, 2 * MMR_STATE_ID_LEN);
	for (int i = 0; i < MMR_STATE_ID_LEN; i++) {
		char byte[3] = { hex[2 * i], hex[2 * i + 1], '\0' };
		m->state_id[i] = (uint8_t)strtoul(byte, NULL, 16);
	}
	m->has_state_id = true;
	m->state_token = token;
	m->state_changes = changes;
	ld->have_state_id = true;
	return 0;
}

/* journal GEN (version 5): the generation of the journal that holds the changes after this snapshot */
static int load_journal_gen(struct loader *ld)
{
	uint64_t g;
	if (ld->version < 5)
		return fail(ld, "unknown record 'journal' in a version %d file", ld->version);
	if (ld->ntok != 2 || val_uint(ld->tok[1], UINT64_MAX, &g) < 0)
		return fail(ld, "journal: expected 'journal GENERATION'");
	if (ld->have_journal)
		return fail(ld, "journal appears twice");
	if (ld->m->n_meetings)
		return fail(ld, "journal after the first meeting");
	ld->have_journal = true;
	ld->journal_gen = g;
	return 0;
}

/* ---- journal records: what a change replaces or removes ----------------------------------- */

/* target SUB TARGET OUT_SSRC TARGET_SID TARGET_DT TARGET_ENCODING: new targets of a subscription */
static int load_target(struct loader *ld)
{
	struct model *m = ld->m;
	uint32_t id = 0, out_ssrc;
	uint64_t v[4];
	/* version 6 adds RTX_SSRC, 7 PRIORITY (older records replay too) */
	if (ld->ntok != 7 && ld->ntok != 8 && ld->ntok != 9)
		return fail(ld, "target: expected 'target SUB TARGET OUT_SSRC TARGET_SID TARGET_DT TARGET_ENCODING RTX_SSRC PRIORITY'");
	if (get_id(ld, 1, MMR_MAX_SUBS, &id, "subscription") < 0)
		return -1;
	if (!m->subs[id].used || m->subs[id].topn_slot)
		return fail(ld, "target: no subscription to a stream with id %u", id);
	const struct m_stream *ss = &m->streams[m->subs[id].stream];
	if (val_uint(ld->tok[2], ss->layers - 1u, &v[0]) < 0 || val_ssrc(ld->tok[3], &out_ssrc) < 0 ||
	    val_uint(ld->tok[4], ss->spatial - 1u, &v[1]) < 0 ||
	    val_uint(ld->tok[5], (uint64_t)ss->spatial * ss->layers - 1u, &v[2]) < 0 ||
	    val_uint(ld->tok[6], model_group_size(m, m->subs[id].stream) - 1u, &v[3]) < 0)
		return fail(ld, "target: bad targets or out SSRC for subscription %u", id);
	uint32_t rtx = m->subs[id].rtx_ssrc;
	uint8_t prio = m->subs[id].priority;
	if (ld->ntok == 9 && get_priority(ld, 8, &prio) < 0)
		return -1;
	if (ld->ntok >= 8) {
		rtx = 0;
		if (strcmp(ld->tok[7], "-") != 0 && (val_ssrc(ld->tok[7], &rtx) < 0 || rtx == 0 || rtx == out_ssrc))
			return fail(ld, "target: bad RTX SSRC '%s' for subscription %u", ld->tok[7], id);
	}
	struct m_sub *b = &m->subs[id];
	b->rtx_ssrc = rtx;
	b->priority = prio;
	b->target = (uint8_t)v[0];
	b->out_ssrc = out_ssrc;
	b->target_sid = (uint8_t)v[1];
	b->target_dt = (uint8_t)v[2];
	b->target_encoding = (uint8_t)v[3];
	return 0;
}

/* keys PARTICIPANT SEND_KEY RECV_KEY: an SRTP participant's new keys */
static int load_keys(struct loader *ld)
{
	struct model *m = ld->m;
	uint32_t id = 0;
	if (ld->ntok != 4)
		return fail(ld, "keys: expected 'keys PARTICIPANT SEND_KEY RECV_KEY'");
	if (get_id(ld, 1, MMR_MAX_PARTICIPANTS, &id, "participant") < 0)
		return -1;
	if (!m->parts[id].used)
		return fail(ld, "keys: no participant with id %u", id);
	enum srtp_suite suite = m->meetings[m->parts[id].meeting].srtp_suite;
	if (suite == SRTP_SUITE_NONE)
		return fail(ld, "keys: participant %u is in a plain RTP meeting", id);
	struct srtp_master keys[2];
	if (keys_from_inline(suite, ld->tok[2], &keys[0]) < 0 || keys_from_inline(suite, ld->tok[3], &keys[1]) < 0) {
		explicit_bzero(keys, sizeof(keys));
		return fail(ld, "keys: bad keys for participant %u", id);   /* never quoted */
	}
	model_participant_set_keys(m, id, &keys[0], &keys[1]);
	explicit_bzero(keys, sizeof(keys));
	return 0;
}

/* remove meeting|participant|stream ID (a stream: its whole simulcast group, by encoding 0's id) */
static int load_remove(struct loader *ld)
{
	struct model *m = ld->m;
	uint32_t id = 0;
	if (ld->ntok != 3)
		return fail(ld, "remove: expected 'remove meeting|participant|stream|sub ID'");
	const char *kind = ld->tok[1];
	if (strcmp(kind, "meeting") == 0) {
		if (get_id(ld, 2, MODEL_MAX_MEETINGS, &id, "meeting") < 0)
			return -1;
		if (!m->meetings[id].used)
			return fail(ld, "remove: no meeting with id %u", id);
		model_meeting_remove(m, id);
	} else if (strcmp(kind, "participant") == 0) {
		if (get_id(ld, 2, MMR_MAX_PARTICIPANTS, &id, "participant") < 0)
			return -1;
		if (!m->parts[id].used)
			return fail(ld, "remove: no participant with id %u", id);
		model_participant_remove(m, id);
	} else if (strcmp(kind, "sub") == 0) {
		/* version 7: a subscription a top-N change removed */
		if (get_id(ld, 2, MMR_MAX_SUBS, &id, "subscription") < 0)
			return -1;
		if (!m->subs[id].used)
			return fail(ld, "remove: no subscription with id %u", id);
		model_sub_remove(m, id);
	} else if (strcmp(kind, "stream") == 0) {
		if (get_id(ld, 2, MMR_MAX_STREAMS, &id, "stream") < 0)
			return -1;
		if (!m->streams[id].used || model_group_head(m, id) != id)
			return fail(ld, "remove: no stream (or simulcast group) with id %u", id);
		model_group_remove(m, id);
	} else {
		return fail(ld, "remove: unknown kind '%s'", kind);
	}
	return 0;
}

/* mctl MEETING WAITING_ROOM SELF_UNMUTE SHARE MAX_SHARERS LOCK (issue 15) */
static int load_mctl(struct loader *ld)
{
	struct model *m = ld->m;
	uint32_t id = 0;
	uint64_t n;
	if (ld->ntok != 7)
		return fail(ld, "mctl: expected 'mctl MEETING on|off allowed|forbidden everyone|host_only N open|locked'");
	if (get_id(ld, 1, MODEL_MAX_MEETINGS, &id, "meeting") < 0)
		return -1;
	if (!m->meetings[id].used)
		return fail(ld, "mctl: no meeting with id %u", id);
	struct m_meeting *mt = &m->meetings[id];
	const char *w = ld->tok[2], *u = ld->tok[3], *sh = ld->tok[4], *lk = ld->tok[6];
	if ((strcmp(w, "on") && strcmp(w, "off")) || (strcmp(u, "allowed") && strcmp(u, "forbidden")) ||
	    (strcmp(sh, "everyone") && strcmp(sh, "host_only")) || (strcmp(lk, "open") && strcmp(lk, "locked")) ||
	    val_uint(ld->tok[5], 255, &n) < 0)
		return fail(ld, "mctl: bad value (on|off allowed|forbidden everyone|host_only 0-255 open|locked)");
	mt->waiting_room = strcmp(w, "on") == 0;
	mt->unmute_forbidden = strcmp(u, "forbidden") == 0;
	mt->share_host_only = strcmp(sh, "host_only") == 0;
	mt->max_sharers = (uint8_t)n;
	mt->locked = strcmp(lk, "locked") == 0;
	return 0;
}

/* pctl PARTICIPANT waiting|admitted host|- MUTE (issue 15; MUTE: audio,video,screen subset or -) */
static int load_pctl(struct loader *ld)
{
	struct model *m = ld->m;
	uint32_t id = 0;
	if (ld->ntok != 5)
		return fail(ld, "pctl: expected 'pctl PARTICIPANT waiting|admitted host|- MUTE'");
	if (get_id(ld, 1, MMR_MAX_PARTICIPANTS, &id, "participant") < 0)
		return -1;
	if (!m->parts[id].used)
		return fail(ld, "pctl: no participant with id %u", id);
	const char *w = ld->tok[2], *h = ld->tok[3];
	if ((strcmp(w, "waiting") && strcmp(w, "admitted")) || (strcmp(h, "host") && strcmp(h, "-")))
		return fail(ld, "pctl: bad value '%s %s' (waiting|admitted host|-)", w, h);
	uint8_t mute = 0;
	if (strcmp(ld->tok[4], "-") != 0) {
		char buf[64];
		snprintf(buf, sizeof(buf), "%s", ld->tok[4]);
		for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			if (strcmp(t, "audio") == 0)
				mute |= MMR_BLOCK_AUDIO;
			else if (strcmp(t, "video") == 0)
				mute |= MMR_BLOCK_VIDEO;
			else if (strcmp(t, "screen") == 0)
				mute |= MMR_BLOCK_SCREEN;
			else
				return fail(ld, "pctl: bad mute kind '%s' (audio, video, screen)", t);
		}
	}
	m->parts[id].waiting = strcmp(w, "waiting") == 0;
	m->parts[id].host = strcmp(h, "host") == 0;
	m->parts[id].mute = mute;
	return 0;
}

/* ban MEETING NAME (issue 15): an ejected identity */
static int load_ban(struct loader *ld)
{
	struct model *m = ld->m;
	uint32_t id = 0;
	if (ld->ntok != 3)
		return fail(ld, "ban: expected 'ban MEETING NAME'");
	if (get_id(ld, 1, MODEL_MAX_MEETINGS, &id, "meeting") < 0)
		return -1;
	if (!m->meetings[id].used)
		return fail(ld, "ban: no meeting with id %u", id);
	if (!val_name_ok(ld->tok[2]))
		return fail(ld, "ban: bad name '%s'", ld->tok[2]);
	if (model_ban_add(m, id, ld->tok[2]) < 0)
		return fail(ld, "ban: too many bans (the limit is %u)", MODEL_MAX_BANS);
	return 0;
}

/* topn MEETING N (version 7): a meeting's new top-N setting; the subscriptions it added and removed
 * follow as their own records */
static int load_topn(struct loader *ld)
{
	struct model *m = ld->m;
	uint32_t id = 0;
	uint64_t n;
	if (ld->ntok != 3)
		return fail(ld, "topn: expected 'topn MEETING N'");
	if (get_id(ld, 1, MODEL_MAX_MEETINGS, &id, "meeting") < 0)
		return -1;
	if (!m->meetings[id].used)
		return fail(ld, "topn: no meeting with id %u", id);
	if (val_uint(ld->tok[2], MMR_TOPN_MAX, &n) < 0)
		return fail(ld, "topn: bad top-n '%s' (0-%u)", ld->tok[2], MMR_TOPN_MAX);
	m->meetings[id].top_n = (uint8_t)n;
	return 0;
}

static int load_end(struct loader *ld)
{
	struct model *m = ld->m;
	uint64_t n[4];
	if (ld->ntok != 5)
		return fail(ld, "end: expected 'end MEETINGS PARTICIPANTS STREAMS SUBS'");
	for (int i = 0; i < 4; i++)
		if (val_uint(ld->tok[i + 1], UINT32_MAX, &n[i]) < 0)
			return fail(ld, "end: bad count '%s'", ld->tok[i + 1]);
	if (n[0] != m->n_meetings || n[1] != m->n_parts || n[2] != m->n_streams || n[3] != m->n_subs)
		return fail(ld, "end: counts %llu %llu %llu %llu do not match the %u %u %u %u objects read",
			    (unsigned long long)n[0], (unsigned long long)n[1], (unsigned long long)n[2],
			    (unsigned long long)n[3], m->n_meetings, m->n_parts, m->n_streams, m->n_subs);
	return 0;
}

/* Every receiver must be subscribed to every other participant's streams; a simulcast group has 2
 * or more streams. */
static int check_subscriptions(struct loader *ld)
{
	struct model *m = ld->m;
	for (uint32_t s = 0; s < model_stream_bound(m); s++) {
		if (!m->streams[s].used)
			continue;
		uint32_t want = model_stream_sub_count(m, s), have = 0;
		for (uint32_t b = m->streams[s].first_sub; b != MMR_ID_NONE; b = m->subs[b].s_next)
			have += m->subs[b].video_slot == 0;   /* not one on a receiver's video slot */
		if (have != want)
			return fail(ld, "stream %u (SSRC 0x%08x) has %u subscriptions, the meeting's receivers need %u",
				    s, m->streams[s].ssrc, have, want);
		if (m->streams[s].group == s && model_group_size(m, s) < 2)
			return fail(ld, "stream %u (SSRC 0x%08x): a simulcast group of one", s, m->streams[s].ssrc);
	}
	/* top-N: every receiver has one slot subscription per slot below its meeting's top_n, no more */
	for (uint32_t r = 0; r < model_part_bound(m); r++) {
		const struct m_participant *rp = &m->parts[r];
		if (!rp->used)
			continue;
		unsigned want = val_role_receives(rp->role) ? model_topn_slots_of(rp, m->meetings[rp->meeting].top_n) : 0,
			 have = 0;
		for (uint32_t b = rp->first_rsub; b != MMR_ID_NONE; b = m->subs[b].r_next)
			if (m->subs[b].topn_slot) {
				if (m->subs[b].topn_slot > want)
					return fail(ld, "participant %u: slot subscription %u beyond its meeting's top-n %u", r,
						    b, want);
				have++;
			}
		if (have != want)
			return fail(ld, "participant %u has %u top-N slot subscriptions, its meeting's top-n is %u", r,
				    have, want);
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* What a request never makes and the records checked one by one cannot see (a snapshot has the
 * aslots lines before the streams): an audio slot SSRC that is another of its meeting's (a
 * stream's, an RTX or MMR SSRC, another audio slot's). */
static int check_ssrcs(struct loader *ld)
{
	struct model *m = ld->m;
	uint32_t n = 0;
	for (uint32_t p = 0; p < model_part_bound(m); p++) {
		const struct m_participant *pp = &m->parts[p];
		if (!pp->used)
			continue;
		for (unsigned k = 0; k < pp->n_aslots; k++) {
			uint32_t v = pp->aslot_ssrc[k], x;
			if ((x = model_find_stream(m, pp->meeting, v)) != MMR_ID_NONE ||
			    (x = model_find_rtx_ssrc(m, pp->meeting, v)) != MMR_ID_NONE)
				return fail(ld, "participant %u: audio slot SSRC 0x%08x is stream %u's too", p, v, x);
			if ((x = model_find_mmr_ssrc(m, pp->meeting, v)) != MMR_ID_NONE)
				return fail(ld, "participant %u: audio slot SSRC 0x%08x is participant %u's MMR SSRC too", p,
					    v, x);
			n++;
		}
	}
	if (n < 2)
		return 0;
	/* another participant's audio slot in the same meeting: (meeting, SSRC) sorted */
	uint64_t *all = malloc((size_t)n * sizeof(*all));
	if (!all)
		return fail(ld, "out of memory");
	n = 0;
	for (uint32_t p = 0; p < model_part_bound(m); p++)
		for (unsigned k = 0; m->parts[p].used && k < m->parts[p].n_aslots; k++)
			all[n++] = (uint64_t)m->parts[p].meeting << 32 | m->parts[p].aslot_ssrc[k];
	qsort(all, n, sizeof(*all), cmp_u64);
	for (uint32_t i = 1; i < n; i++)
		if (all[i] == all[i - 1]) {
			uint32_t meeting = (uint32_t)(all[i] >> 32), v = (uint32_t)all[i];
			free(all);
			return fail(ld, "audio slot SSRC 0x%08x used twice in meeting '%s'", v, m->meetings[meeting].name);
		}
	free(all);
	return 0;
}

/* A receiver's subscriptions to a group's members share the encoding-0 one's sel_id, out SSRC and
 * targets (a request never makes them differ). */
static int set_sel_ids(struct loader *ld)
{
	struct model *m = ld->m;
	for (uint32_t b = 0; b < model_sub_bound(m); b++) {
		struct m_sub *sb = &m->subs[b];
		if (!sb->used || sb->topn_slot || sb->video_slot)
			continue;      /* a slot's, and a stream on a video slot (its sel_id is the slot's) */
		uint32_t head = model_group_head(m, sb->stream);
		if (head == sb->stream)
			continue;
		uint32_t b0 = model_find_sub(m, head, sb->subscriber);   /* exists: check_subscriptions */
		const struct m_sub *s0 = &m->subs[b0];
		if (s0->out_ssrc != sb->out_ssrc || s0->target != sb->target || s0->target_sid != sb->target_sid ||
		    s0->target_dt != sb->target_dt || s0->target_encoding != sb->target_encoding ||
		    s0->priority != sb->priority)
			return fail(ld, "subscription %u: out SSRC or targets differ from subscription %u to the same "
				    "simulcast group", b, b0);
		sb->sel_id = b0;
	}
	return 0;
}

/* Split one line into ld->tok; 0 (ld->ntok 0 for a blank or comment line) or -1. */
static int tokenize(struct loader *ld, char *line)
{
	ld->ntok = 0;
	char *save = NULL;
	for (char *t = strtok_r(line, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
		if (ld->ntok == 0 && t[0] == '#')
			return 0;       /* a comment line */
		if (ld->ntok == (int)(sizeof(ld->tok) / sizeof(ld->tok[0])))
			return fail(ld, "too many fields");
		ld->tok[ld->ntok++] = t;
	}
	return 0;
}

/* One object line of a snapshot or a journal record (tokenized). */
static int load_record(struct loader *ld, bool *is_end)
{
	const char *kw = ld->tok[0];
	*is_end = false;
	if (strcmp(kw, "meeting") == 0)
		return load_meeting(ld);
	if (strcmp(kw, "participant") == 0)
		return load_participant(ld);
	if (strcmp(kw, "stream") == 0)
		return load_stream(ld);
	if (strcmp(kw, "sub") == 0)
		return load_sub(ld);
	if (strcmp(kw, "vslot") == 0)
		return load_vslot(ld);
	if (strcmp(kw, "vmember") == 0)
		return load_vmember(ld);
	if (strcmp(kw, "aslots") == 0)
		return load_aslots(ld);
	if (strcmp(kw, "srtp_ledger") == 0)
		return load_ledger(ld);
	if (strcmp(kw, "mctl") == 0)
		return load_mctl(ld);
	if (strcmp(kw, "pctl") == 0)
		return load_pctl(ld);
	if (strcmp(kw, "ban") == 0)
		return load_ban(ld);
	if (!ld->journal) {
		if (strcmp(kw, "journal") == 0)
			return load_journal_gen(ld);
		if (strcmp(kw, "state_id") == 0)
			return load_state_id(ld);
		if (strcmp(kw, "end") == 0) {
			*is_end = true;
			return load_end(ld);
		}
	} else {
		if (strcmp(kw, "target") == 0)
			return load_target(ld);
		if (strcmp(kw, "keys") == 0)
			return load_keys(ld);
		if (strcmp(kw, "paddr") == 0)
			return load_paddr(ld);
		if (strcmp(kw, "sssrc") == 0)
			return load_sssrc(ld);
		if (strcmp(kw, "pdtls") == 0)
			return load_pdtls(ld);
		if (strcmp(kw, "pext") == 0)
			return load_pext(ld);
		if (strcmp(kw, "remove") == 0)
			return load_remove(ld);
		if (strcmp(kw, "topn") == 0)
			return load_topn(ld);
	}
	return fail(ld, "unknown record '%s'", kw);
}

int state_file_load(struct model *m, const char *path, uint64_t *journal_gen, char *err, size_t errlen)
{
	struct loader ld = { .m = m, .path = path, .err = err, .errlen = errlen };
	*journal_gen = 0;
	FILE *f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 1;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	/* a file written before keys existed may be group-readable: it is about to hold keys */
	struct stat st;
	if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077))
		(void)fchmod(fileno(f), st.st_mode & 0700);
	char iobuf[16384];          /* our buffer, so that it can be wiped */
	setvbuf(f, iobuf, _IOFBF, sizeof(iobuf));
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	bool have_header = false, have_end = false;
	int rc = -1;
	while ((n = getline(&line, &cap, f)) >= 0) {
		ld.line++;
		if ((size_t)n != strlen(line)) {
			fail(&ld, "NUL byte in line");
			goto out;
		}
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (tokenize(&ld, line) < 0)
			goto out;
		if (ld.ntok == 0)
			continue;
		if (have_end) {
			fail(&ld, "data after the end line");
			goto out;
		}
		if (!have_header) {
			if (strcmp(ld.tok[0], STATE_MAGIC) != 0 || ld.ntok != 2) {
				fail(&ld, "not an mmr state file (expected '%s %d')", STATE_MAGIC, STATE_VERSION);
				goto out;
			}
			if (strlen(ld.tok[1]) != 1 || ld.tok[1][0] < '1' || ld.tok[1][0] > '0' + STATE_VERSION) {
				fail(&ld, "unsupported state file version '%s'", ld.tok[1]);
				goto out;
			}
			ld.version = ld.tok[1][0] - '0';
			have_header = true;
			continue;
		}
		if (load_record(&ld, &have_end) < 0)
			goto out;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
		goto out;
	}
	ld.line++;
	if (!have_header) {
		fail(&ld, "empty file: not an mmr state file");
		goto out;
	}
	if (!have_end) {
		fail(&ld, "truncated: no end line");
		goto out;
	}
	if (check_subscriptions(&ld) < 0 || check_ssrcs(&ld) < 0 || set_sel_ids(&ld) < 0)
		goto out;
	model_rebuild_pools(m);
	/* before ledgers (versions 1-3) keys were used without one: unknown where. From version 4 the
	 * srtp_ledger line is written from the first attach on: a file without it was never attached,
	 * so none of its keys has been used by any dataplane. */
	m->ledger_unknown = ld.version < 4;
	*journal_gen = ld.journal_gen;
	rc = 0;
out:
	if (line)
		explicit_bzero(line, cap);
	free(line);
	fclose(f);
	explicit_bzero(iobuf, sizeof(iobuf));
	return rc;
}

int state_file_replay(struct model *m, const char *payload, size_t len, const char *where, char *err,
		      size_t errlen)
{
	struct loader ld = { .m = m, .path = where, .err = err, .errlen = errlen, .version = STATE_VERSION,
			     .journal = true };
	char *text = malloc(len + 1);
	if (!text) {
		snprintf(err, errlen, "%s: out of memory", where);
		return -1;
	}
	memcpy(text, payload, len);
	text[len] = '\0';
	int rc = 0;
	if (len == 0 || text[len - 1] != '\n' || strlen(text) != len) {
		snprintf(err, errlen, "%s: not a change record (NUL byte or no final newline)", where);
		rc = -1;
	}
	for (char *line = text, *nl; rc == 0 && *line; line = nl + 1) {
		nl = strchr(line, '\n');
		*nl = '\0';
		ld.line++;
		bool is_end;
		if (tokenize(&ld, line) < 0 || (ld.ntok && load_record(&ld, &is_end) < 0))
			rc = -1;
	}
	explicit_bzero(text, len);
	free(text);
	if (rc == 0)
		m->state_changes++;     /* one per record, as requests.c counts them (model.h) */
	return rc;
}

int state_file_replay_end(struct model *m, const char *where, char *err, size_t errlen)
{
	struct loader ld = { .m = m, .path = where, .err = err, .errlen = errlen, .version = STATE_VERSION,
			     .journal = true };
	/* sel_ids follow from the groups (set_sel_ids); clear the replayed ones' first */
	for (uint32_t b = 0; b < model_sub_bound(m); b++)
		if (m->subs[b].used && !m->subs[b].video_slot)   /* a stream on a video slot: the slot's */
			m->subs[b].sel_id = b;
	if (check_subscriptions(&ld) < 0 || check_ssrcs(&ld) < 0 || set_sel_ids(&ld) < 0)
		return -1;
	model_rebuild_pools(m);
	return 0;
}
