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

#include "keys.h"
#include "outbuf.h"

#define STATE_MAGIC "mmr-state"
#define STATE_VERSION 5

/* ---- writing -------------------------------------------------------------------------------- */

char *ledger_id_hex(const uint8_t id[MMR_SRTP_LEDGER_ID_LEN], char out[2 * MMR_SRTP_LEDGER_ID_LEN + 1])
{
	for (int i = 0; i < MMR_SRTP_LEDGER_ID_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", id[i]);
	return out;
}

static bool skipped_participant(const struct model *m, const struct state_skip *sk, uint32_t p)
{
	return (sk->kind == STATE_SKIP_PARTICIPANT && sk->id == p) ||
	       (sk->kind == STATE_SKIP_MEETING && sk->id == m->parts[p].meeting);
}

/* A skipped stream takes the rest of its simulcast group with it. */
static bool skipped_stream(const struct model *m, const struct state_skip *sk, uint32_t s)
{
	return (sk->kind == STATE_SKIP_STREAM && (sk->id == s || m->streams[s].group == sk->id)) ||
	       skipped_participant(m, sk, m->streams[s].participant);
}

struct counts { uint32_t meetings, parts, streams, subs; };

static void write_meeting(const struct model *m, const struct state_skip *sk, uint32_t id,
			  struct outbuf *b, struct counts *c)
{
	const struct m_meeting *mt = &m->meetings[id];
	bool srtp = mt->srtp_suite != SRTP_SUITE_NONE;
	ob_printf(b, "meeting %u %s %s\n", id, mt->name, srtp ? srtp_suite_name(mt->srtp_suite) : "plain");
	c->meetings++;
	for (uint32_t p = mt->first_part; p != MMR_ID_NONE; p = m->parts[p].next) {
		if (skipped_participant(m, sk, p))
			continue;
		const struct m_participant *pp = &m->parts[p];
		char addr[VAL_ADDR_STRLEN], mac[18], skey[KEYS_INLINE_MAX] = "-", rkey[KEYS_INLINE_MAX] = "-";
		if (srtp && (keys_to_inline(&pp->send_key, skey) < 0 || keys_to_inline(&pp->recv_key, rkey) < 0)) {
			b->oom = true;    /* cannot happen for keys the model accepted; fail the save */
			strcpy(skey, "-");
			strcpy(rkey, "-");
		}
		ob_printf(b, "participant %u %u %s %s %u %s %s %u %s %s\n", p, id, pp->name,
			  val_addr_fmt(&pp->addr, addr), pp->udp_port, val_role_name(pp->role),
			  pp->has_mac ? val_mac_fmt(pp->mac, mac) : "-", pp->dp_port, skey, rkey);
		explicit_bzero(skey, sizeof(skey));
		explicit_bzero(rkey, sizeof(rkey));
		c->parts++;
	}
	for (uint32_t p = mt->first_part; p != MMR_ID_NONE; p = m->parts[p].next) {
		for (uint32_t s = m->parts[p].first_stream; s != MMR_ID_NONE; s = m->streams[s].next) {
			if (skipped_stream(m, sk, s))
				continue;
			const struct m_stream *ss = &m->streams[s];
			char group[16] = "-", dd[8] = "-";
			if (ss->group != MMR_ID_NONE)
				snprintf(group, sizeof(group), "%u", ss->group);
			if (ss->dd_ext_id)
				snprintf(dd, sizeof(dd), "%u", ss->dd_ext_id);
			ob_printf(b, "stream %u %u 0x%08x %s %s %u %u %s %u %s\n", s, p, ss->ssrc,
				  val_kind_name(ss->kind), val_codec_name(ss->codec), ss->layers, ss->spatial, group,
				  ss->encoding, dd);
			c->streams++;
		}
	}
	for (uint32_t p = mt->first_part; p != MMR_ID_NONE; p = m->parts[p].next) {
		if (skipped_participant(m, sk, p))
			continue;
		for (uint32_t s = m->parts[p].first_rsub; s != MMR_ID_NONE; s = m->subs[s].r_next) {
			const struct m_sub *b2 = &m->subs[s];
			if (skipped_stream(m, sk, b2->stream))
				continue;
			/* the bulk of a big state: formatted by hand, printf is several times slower */
			ob_add(b, "sub ", 4);
			ob_u64(b, s);
			ob_char(b, ' ');
			ob_u64(b, b2->stream);
			ob_char(b, ' ');
			ob_u64(b, p);
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
			ob_char(b, '\n');
			c->subs++;
		}
	}
}

static int write_file(const char *path, const char *data, size_t len, char *err, size_t errlen)
{
	char tmp[4096];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		snprintf(err, errlen, "state file path too long");
		return -1;
	}
	/* it holds the participants' keys: owner only (fchmod too: O_TRUNC keeps an old file's mode) */
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
		return -1;
	}
	if (fchmod(fd, 0600) < 0) {
		snprintf(err, errlen, "cannot chmod %s: %s", tmp, strerror(errno));
		goto err_close;
	}
	size_t off = 0;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "cannot write %s: %s", tmp, n < 0 ? strerror(errno) : "short write");
			goto err_close;
		}
		off += (size_t)n;
	}
	if (fsync(fd) < 0) {
		snprintf(err, errlen, "cannot fsync %s: %s", tmp, strerror(errno));
		goto err_close;
	}
	if (close(fd) < 0) {
		fd = -1;
		snprintf(err, errlen, "cannot close %s: %s", tmp, strerror(errno));
		goto err_unlink;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		goto err_unlink;
	}
	/* make the rename itself durable */
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", path);
	int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
err_close:
	close(fd);
err_unlink:
	unlink(tmp);
	return -1;
}

int state_file_save(const struct model *m, const char *path, const struct state_skip *skip,
		    char *err, size_t errlen)
{
	static const struct state_skip none = { STATE_SKIP_NONE, 0 };
	const struct state_skip *sk = skip ? skip : &none;
	/* kept between saves: a big state is rewritten after every change */
	static struct outbuf b;
	struct counts c = { 0, 0, 0, 0 };
	ob_reset(&b);
	ob_printf(&b, "# mmr-controller state: rewritten after every change; ids are the dataplane's\n"
		      "%s %d\n", STATE_MAGIC, STATE_VERSION);
	if (m->has_state_id) {
		char id[2 * MMR_STATE_ID_LEN + 1];
		ob_printf(&b, "state_id %s %llu %llu\n", ledger_id_hex(m->state_id, id),
			  (unsigned long long)m->state_token, (unsigned long long)m->state_changes);
	}
	if (m->has_ledger) {
		char id[2 * MMR_SRTP_LEDGER_ID_LEN + 1];
		ob_printf(&b, "srtp_ledger %s ", ledger_id_hex(m->ledger_id, id));
		if (m->ledger_rekeyed)
			ob_printf(&b, "%lld\n", (long long)m->ledger_rekeyed);
		else
			ob_puts(&b, "-\n");
	}
	for (uint32_t id = 0; id < model_meeting_bound(m); id++) {
		if (!m->meetings[id].used || (sk->kind == STATE_SKIP_MEETING && sk->id == id))
			continue;
		write_meeting(m, sk, id, &b, &c);
	}
	ob_printf(&b, "end %u %u %u %u\n", c.meetings, c.parts, c.streams, c.subs);
	int rc;
	if (b.oom) {
		snprintf(err, errlen, "out of memory writing the state");
		rc = -1;
	} else {
		rc = write_file(path, b.p, b.len, err, errlen);
	}
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
	char *tok[12];
	int ntok;
	int version;      /* of the file: 1 (no SRTP), 2 (no spatial layers, simulcast), 3 (no SRTP
			     ledger line), 4 (no state id) or 5 */
	bool have_ledger; /* the srtp_ledger line was read */
	bool have_state_id;
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
	if (model_reserve(ld->m, mt, p, s, b, &what) < 0)
		return fail(ld, "out of memory");
	return 0;
}

static int load_meeting(struct loader *ld)
{
	struct model *m = ld->m;
	uint32_t id = 0;
	if (ld->ntok != (ld->version >= 2 ? 4 : 3))
		return fail(ld, ld->version >= 2 ? "meeting: expected 'meeting ID NAME SECURITY'" :
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
	if (reserve_one(ld, 1, 0, 0, 0) < 0)
		return -1;
	model_meeting_add(m, id, ld->tok[2], suite);
	return 0;
}

static int load_participant(struct loader *ld)
{
	struct model *m = ld->m;
	uint32_t id = 0, mt = 0;
	uint64_t port, dp_port;
	struct mmr_addr addr;
	uint8_t mac[6];
	if (ld->ntok != (ld->version >= 2 ? 11 : 9))
		return fail(ld, ld->version >= 2 ?
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
	if (val_addr(ld->tok[4], &addr) < 0)
		return fail(ld, "bad address '%s'", ld->tok[4]);
	if (val_uint(ld->tok[5], 65535, &port) < 0 || port == 0)
		return fail(ld, "bad UDP port '%s'", ld->tok[5]);
	if (model_find_participant_by_addr(m, &addr, (uint16_t)port) != MMR_ID_NONE)
		return fail(ld, "address %s port %s used twice", ld->tok[4], ld->tok[5]);
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
		if (suite != SRTP_SUITE_NONE && keys_from_inline(suite, t, &keys[k]) < 0) {
			explicit_bzero(keys, sizeof(keys));
			return fail(ld, "participant '%s': bad or missing %s key for %s", name, which,
				    srtp_suite_name(suite));
		}
	}
	if (reserve_one(ld, 0, 1, 0, 0) < 0) {
		explicit_bzero(keys, sizeof(keys));
		return -1;
	}
	model_participant_add(m, id, mt, name, &addr, (uint16_t)port, (unsigned)role, has_mac ? mac : NULL,
			      (uint16_t)dp_port);
	model_participant_set_keys(m, id, &keys[0], &keys[1]);
	explicit_bzero(keys, sizeof(keys));
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
	if (ld->ntok != (ld->version >= 3 ? 11 : 7))
		return fail(ld, ld->version >= 3 ?
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
	if (reserve_one(ld, 0, 0, 1, 0) < 0)
		return -1;
	model_stream_add(m, id, p, ssrc, &d);
	return 0;
}

static int load_sub(struct loader *ld)
{
	struct model *m = ld->m;
	uint32_t id = 0, s = 0, r = 0, out_ssrc;
	if (ld->ntok != (ld->version >= 3 ? 9 : 6))
		return fail(ld, ld->version >= 3 ?
			    "sub: expected 'sub ID STREAM SUBSCRIBER TARGET OUT_SSRC TARGET_SID TARGET_DT TARGET_ENCODING'" :
			    "sub: expected 'sub ID STREAM SUBSCRIBER TARGET OUT_SSRC'");
	if (get_id(ld, 1, MMR_MAX_SUBS, &id, "subscription") < 0 ||
	    get_id(ld, 2, MMR_MAX_STREAMS, &s, "stream") < 0 ||
	    get_id(ld, 3, MMR_MAX_PARTICIPANTS, &r, "participant") < 0)
		return -1;
	if (m->subs[id].used)
		return fail(ld, "subscription id %u used twice", id);
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
	if (reserve_one(ld, 0, 0, 0, 1) < 0)
		return -1;
	model_sub_add(m, id, s, r, &t, out_ssrc, MMR_ID_NONE);   /* sel_id: set_sel_ids() at the end */
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
	if (ld->have_ledger)
		return fail(ld, "srtp_ledger appears twice");
	if (m->n_meetings)
		return fail(ld, "srtp_ledger after the first meeting");
	const char *hex = ld->tok[1];
	if (strlen(hex) != 2 * MMR_SRTP_LEDGER_ID_LEN || strspn(hex, "0123456789abcdef") != strlen(hex))
		return fail(ld, "srtp_ledger: bad id '%s' (%d lowercase hex digits)", hex, 2 * MMR_SRTP_LEDGER_ID_LEN);
	uint64_t t = 0;
	if (strcmp(ld->tok[2], "-") != 0 && (val_uint(ld->tok[2], INT64_MAX, &t) < 0 || t == 0))
		return fail(ld, "srtp_ledger: bad rekey time '%s' (- or Unix seconds)", ld->tok[2]);
	for (int i = 0; i < MMR_SRTP_LEDGER_ID_LEN; i++) {
		char byte[3] = { hex[2 * i], hex[2 * i + 1], '\0' };
		m->ledger_id[i] = (uint8_t)strtoul(byte, NULL, 16);
	}
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
		uint32_t want = model_publish_sub_count(m, m->streams[s].participant);
		if (m->streams[s].n_subs != want)
			return fail(ld, "stream %u (SSRC 0x%08x) has %u subscriptions, the meeting's receivers need %u",
				    s, m->streams[s].ssrc, m->streams[s].n_subs, want);
		if (m->streams[s].group == s && model_group_size(m, s) < 2)
			return fail(ld, "stream %u (SSRC 0x%08x): a simulcast group of one", s, m->streams[s].ssrc);
	}
	return 0;
}

/* A receiver's subscriptions to a group's members share the encoding-0 one's sel_id, out SSRC and
 * targets (a request never makes them differ). */
static int set_sel_ids(struct loader *ld)
{
	struct model *m = ld->m;
	for (uint32_t b = 0; b < model_sub_bound(m); b++) {
		struct m_sub *sb = &m->subs[b];
		if (!sb->used)
			continue;
		uint32_t head = model_group_head(m, sb->stream);
		if (head == sb->stream)
			continue;
		uint32_t b0 = model_find_sub(m, head, sb->subscriber);   /* exists: check_subscriptions */
		const struct m_sub *s0 = &m->subs[b0];
		if (s0->out_ssrc != sb->out_ssrc || s0->target != sb->target || s0->target_sid != sb->target_sid ||
		    s0->target_dt != sb->target_dt || s0->target_encoding != sb->target_encoding)
			return fail(ld, "subscription %u: out SSRC or targets differ from subscription %u to the same "
				    "simulcast group", b, b0);
		sb->sel_id = b0;
	}
	return 0;
}

int state_file_load(struct model *m, const char *path, char *err, size_t errlen)
{
	struct loader ld = { .m = m, .path = path, .err = err, .errlen = errlen };
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
		ld.ntok = 0;
		char *save = NULL;
		for (char *t = strtok_r(line, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
			if (ld.ntok == (int)(sizeof(ld.tok) / sizeof(ld.tok[0]))) {
				fail(&ld, "too many fields");
				goto out;
			}
			ld.tok[ld.ntok++] = t;
		}
		if (ld.ntok == 0 || ld.tok[0][0] == '#')
			continue;
		if (have_end) {
			fail(&ld, "data after the end line");
			goto out;
		}
		const char *kw = ld.tok[0];
		if (!have_header) {
			if (strcmp(kw, STATE_MAGIC) != 0 || ld.ntok != 2) {
				fail(&ld, "not an mmr state file (expected '%s %d')", STATE_MAGIC, STATE_VERSION);
				goto out;
			}
			if (strcmp(ld.tok[1], "1") != 0 && strcmp(ld.tok[1], "2") != 0 && strcmp(ld.tok[1], "3") != 0 &&
			    strcmp(ld.tok[1], "4") != 0 && strcmp(ld.tok[1], "5") != 0) {
				fail(&ld, "unsupported state file version '%s'", ld.tok[1]);
				goto out;
			}
			ld.version = ld.tok[1][0] - '0';
			have_header = true;
			continue;
		}
		int r;
		if (strcmp(kw, "meeting") == 0)
			r = load_meeting(&ld);
		else if (strcmp(kw, "participant") == 0)
			r = load_participant(&ld);
		else if (strcmp(kw, "stream") == 0)
			r = load_stream(&ld);
		else if (strcmp(kw, "sub") == 0)
			r = load_sub(&ld);
		else if (strcmp(kw, "srtp_ledger") == 0)
			r = load_ledger(&ld);
		else if (strcmp(kw, "state_id") == 0)
			r = load_state_id(&ld);
		else if (strcmp(kw, "end") == 0)
			r = load_end(&ld), have_end = true;
		else
			r = fail(&ld, "unknown record '%s'", kw);
		if (r < 0)
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
	if (check_subscriptions(&ld) < 0 || set_sel_ids(&ld) < 0)
		goto out;
	model_rebuild_pools(m);
	/* before ledgers (versions 1-3) keys were used without one: unknown where. From version 4 the
	 * srtp_ledger line is written from the first attach on: a file without it was never attached,
	 * so none of its keys has been used by any dataplane. */
	m->ledger_unknown = ld.version < 4;
	rc = 0;
out:
	if (line)
		explicit_bzero(line, cap);
	free(line);
	fclose(f);
	explicit_bzero(iobuf, sizeof(iobuf));
	return rc;
}
