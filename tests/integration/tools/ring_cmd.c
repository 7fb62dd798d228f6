/*
 * ring_cmd.c - push hand-written commands straight into a running mmr-dataplane's command ring
 * (lib/contract/cmd_chan.h), to test the dataplane's own checks (dataplane/cmd_apply.c) with commands the
 * controller would never send.
 *
 *   ring_cmd [-t TIMEOUT_MS] SHM_NAME < commands
 *
 * One command per line, `op key=value ...`; blank lines and lines starting with '#' are skipped.
 *   participant id= meeting= addr= port= dp_port= mac= role=      (plain RTP: SRTP suite 0, no keys)
 *   stream      id= participant= ssrc= kind= codec= tl= sl= group= enc= dd=
 *   participant ... twcc= abs= level=                            (header extension ids, issue 12)
 *   participant ... mid_ext= rid_ext= rrid_ext= n_learn= lK_stream= lK_need= lK_mid= lK_rid=
 *                                               (SSRC learning, issue 13: entries K 0 and 1; lK_mid
 *                                                and lK_rid are text, their lengths set with them)
 *   sub         id= stream= subscriber= out_ssrc= tid= sid= dt= enc= sel= slot=   (slot: topn_slot)
 *   meeting     id= top_n=                                         (MEETING_PUT)
 *   counters    (pushes nothing: prints the segment's rejected, head, tail and applied_seq)
 * The long field names of cmd_chan.h work too (meeting_id, udp_port, participant_id, temporal_layers,
 * spatial_layers, group_id, encoding, dd_ext_id, stream_id, subscriber_id, target_tid, target_sid,
 * target_dt, target_encoding, sel_id). Numbers are decimal or 0x hex; kind and codec are the numbers
 * of enum mmr_media_kind / mmr_codec (lib/contract/mmr_types.h); addr is IPv4 or IPv6 text; mac=aa:bb:..
 * sets has_mac (else the port's gateway MAC is used). A key not given is 0, except group (none:
 * not simulcast; `group=none` also works) and sel (the subscription's own id).
 *
 * Each command is pushed (cmd_chan_push fills in seq), then ring_cmd waits (at most TIMEOUT_MS,
 * default 5000) until the dataplane's head has moved past it, and prints one line: `ok`, or
 * `refused: <last_error>` when the segment's `rejected` counter grew meanwhile.
 *
 * The ring has one producer: run this only while no controller is attached (ring_cmd refuses
 * to start when the controller's heartbeat is fresh). It takes the ring over (fencing token,
 * lib/contract/cmd_chan.h), so a controller that attached before stops driving. Exit 0 when every
 * line was understood and applied or refused by the dataplane; 2 on a bad line or usage (nothing
 * more is pushed); 3 when the segment cannot be opened, is not ready, or the dataplane does not
 * take a command in time.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd_chan.h"

enum ftype { F_U8, F_U16, F_U32, F_ID, F_ADDR, F_MAC, F_LMID, F_LRID };   /* F_L*: a struct mmr_learn */

struct field {
	const char *name;        /* short key */
	const char *alias;       /* cmd_chan.h field name */
	enum ftype type;
	size_t off;              /* in the op's union member */
};

#define PF(n, a, t, m) { n, a, t, offsetof(struct mmr_cmd_participant, m) }
static const struct field participant_fields[] = {
	PF("id", "id", F_U32, id),
	PF("meeting", "meeting_id", F_U32, meeting_id),
	PF("addr", "addr", F_ADDR, addr),
	PF("port", "udp_port", F_U16, udp_port),
	PF("dp_port", "dp_port", F_U16, dp_port),
	PF("mac", "mac", F_MAC, mac),
	PF("role", "role", F_U8, role),
	PF("fb", "fb", F_U8, fb),
	PF("mmr_ssrc", "mmr_ssrc", F_U32, mmr_ssrc),
	PF("rtx0_apt", "rtx_map[0].apt", F_U8, rtx_map[0].apt),
	PF("rtx0_pt", "rtx_map[0].pt", F_U8, rtx_map[0].pt),
	PF("rtx1_apt", "rtx_map[1].apt", F_U8, rtx_map[1].apt),
	PF("rtx1_pt", "rtx_map[1].pt", F_U8, rtx_map[1].pt),
	PF("twcc", "twcc_ext_id", F_U8, twcc_ext_id),
	PF("abs", "abs_ext_id", F_U8, abs_ext_id),
	PF("level", "level_ext_id", F_U8, level_ext_id),
	PF("mid_ext", "mid_ext_id", F_U8, mid_ext_id),
	PF("rid_ext", "rid_ext_id", F_U8, rid_ext_id),
	PF("rrid_ext", "rrid_ext_id", F_U8, rrid_ext_id),
	PF("n_learn", "n_learn", F_U8, n_learn),
	PF("l0_stream", "learn[0].stream_id", F_U32, learn[0].stream_id),
	PF("l0_need", "learn[0].need", F_U8, learn[0].need),
	PF("l0_mid", "learn[0].mid", F_LMID, learn[0]),
	PF("l0_rid", "learn[0].rid", F_LRID, learn[0]),
	PF("l1_stream", "learn[1].stream_id", F_U32, learn[1].stream_id),
	PF("l1_need", "learn[1].need", F_U8, learn[1].need),
	PF("l1_mid", "learn[1].mid", F_LMID, learn[1]),
	PF("l1_rid", "learn[1].rid", F_LRID, learn[1]),
	{ NULL, NULL, F_U8, 0 },
};

#define SF(n, a, t, m) { n, a, t, offsetof(struct mmr_cmd_stream, m) }
static const struct field stream_fields[] = {
	SF("id", "id", F_U32, id),
	SF("participant", "participant_id", F_U32, participant_id),
	SF("ssrc", "ssrc", F_U32, ssrc),
	SF("kind", "kind", F_U8, kind),
	SF("codec", "codec", F_U8, codec),
	SF("tl", "temporal_layers", F_U8, temporal_layers),
	SF("sl", "spatial_layers", F_U8, spatial_layers),
	SF("group", "group_id", F_ID, group_id),
	SF("enc", "encoding", F_U8, encoding),
	SF("dd", "dd_ext_id", F_U8, dd_ext_id),
	SF("rtx_ssrc", "rtx_ssrc", F_U32, rtx_ssrc),
	SF("rtx_pt", "rtx_pt", F_U8, rtx_pt),
	SF("clock", "clock_hz", F_U32, clock_hz),
	{ NULL, NULL, F_U8, 0 },
};

#define UF(n, a, t, m) { n, a, t, offsetof(struct mmr_cmd_sub, m) }
static const struct field sub_fields[] = {
	UF("id", "id", F_U32, id),
	UF("stream", "stream_id", F_U32, stream_id),
	UF("subscriber", "subscriber_id", F_U32, subscriber_id),
	UF("out_ssrc", "out_ssrc", F_U32, out_ssrc),
	UF("tid", "target_tid", F_U8, target_tid),
	UF("sid", "target_sid", F_U8, target_sid),
	UF("dt", "target_dt", F_U8, target_dt),
	UF("enc", "target_encoding", F_U8, target_encoding),
	UF("sel", "sel_id", F_ID, sel_id),
	UF("rtx_ssrc", "rtx_ssrc", F_U32, rtx_ssrc),
	UF("slot", "topn_slot", F_U8, topn_slot),
	{ NULL, NULL, F_U8, 0 },
};

#define MF(n, a, t, m) { n, a, t, offsetof(struct mmr_cmd_meeting, m) }
static const struct field meeting_fields[] = {
	MF("id", "meeting_id", F_U32, meeting_id),
	MF("top_n", "top_n", F_U8, top_n),
	{ NULL, NULL, F_U8, 0 },
};

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	if (*s == '\0' || *s == '-')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Store value text into field f of the command body; 0 or -1 (message in err). */
static int set_field(void *body, const struct field *f, const char *val, char *err, size_t errlen)
{
	unsigned char *p = (unsigned char *)body + f->off;
	uint64_t v;
	switch (f->type) {
	case F_U8:
	case F_U16:
	case F_U32:
	case F_ID: {
		uint64_t max = f->type == F_U8 ? UINT8_MAX : f->type == F_U16 ? UINT16_MAX : UINT32_MAX;
		if (f->type == F_ID && strcmp(val, "none") == 0) {
			v = MMR_ID_NONE;
		} else if (parse_u64(val, max, &v) < 0) {
			snprintf(err, errlen, "%s=%s: not a number in 0..%" PRIu64, f->name, val, max);
			return -1;
		}
		if (f->type == F_U8) {
			uint8_t x = (uint8_t)v;
			memcpy(p, &x, 1);
		} else if (f->type == F_U16) {
			uint16_t x = (uint16_t)v;
			memcpy(p, &x, 2);
		} else {
			uint32_t x = (uint32_t)v;
			memcpy(p, &x, 4);
		}
		return 0;
	}
	case F_ADDR:
		if (mmr_addr_parse(val, (struct mmr_addr *)(void *)p) < 0) {
			snprintf(err, errlen, "%s=%s: not an IPv4 or IPv6 address", f->name, val);
			return -1;
		}
		return 0;
	case F_MAC:
		if (mmr_mac_parse(val, p) < 0) {
			snprintf(err, errlen, "%s=%s: not a MAC address", f->name, val);
			return -1;
		}
		((struct mmr_cmd_participant *)body)->has_mac = 1;
		return 0;
	case F_LMID:
	case F_LRID: {
		struct mmr_learn *e = (struct mmr_learn *)(void *)p;
		size_t n = strlen(val);
		if (n > MMR_MID_MAX) {
			snprintf(err, errlen, "%s=%s: longer than %u bytes", f->name, val, MMR_MID_MAX);
			return -1;
		}
		memcpy(f->type == F_LMID ? e->mid : e->rid, val, n);
		*(f->type == F_LMID ? &e->mid_len : &e->rid_len) = (uint8_t)n;
		return 0;
	}
	}
	snprintf(err, errlen, "%s: bad field type", f->name);
	return -1;
}

/* Parse one line into cmd; 1: a command to push, 0: nothing to push (blank, comment), 2: the
 * counters op, -1: bad line (message in err). */
static int parse_line(char *line, struct mmr_cmd *cmd, char *err, size_t errlen)
{
	const char *sep = " \t\r\n";
	char *save = NULL;
	char *op = strtok_r(line, sep, &save);
	if (!op || op[0] == '#')
		return 0;
	memset(cmd, 0, sizeof(*cmd));
	const struct field *fields;
	void *body;
	if (strcmp(op, "participant") == 0) {
		cmd->op = MMR_CMD_PARTICIPANT_PUT;
		fields = participant_fields;
		body = &cmd->u.participant;
	} else if (strcmp(op, "stream") == 0) {
		cmd->op = MMR_CMD_STREAM_PUT;
		fields = stream_fields;
		body = &cmd->u.stream;
		cmd->u.stream.group_id = MMR_ID_NONE;
	} else if (strcmp(op, "sub") == 0) {
		cmd->op = MMR_CMD_SUB_PUT;
		fields = sub_fields;
		body = &cmd->u.sub;
	} else if (strcmp(op, "meeting") == 0) {
		cmd->op = MMR_CMD_MEETING_PUT;
		fields = meeting_fields;
		body = &cmd->u.meeting;
	} else if (strcmp(op, "counters") == 0) {
		if (strtok_r(NULL, sep, &save)) {
			snprintf(err, errlen, "counters takes no arguments");
			return -1;
		}
		return 2;
	} else {
		snprintf(err, errlen, "unknown op '%s' (participant, stream, sub, meeting, counters)", op);
		return -1;
	}
	int sel_given = 0;
	for (char *kv; (kv = strtok_r(NULL, sep, &save));) {
		char *eq = strchr(kv, '=');
		if (!eq || eq == kv) {
			snprintf(err, errlen, "'%s': not key=value", kv);
			return -1;
		}
		*eq = '\0';
		const struct field *f = fields;
		while (f->name && strcmp(kv, f->name) != 0 && strcmp(kv, f->alias) != 0)
			f++;
		if (!f->name) {
			snprintf(err, errlen, "%s: unknown key '%s'", op, kv);
			return -1;
		}
		if (set_field(body, f, eq + 1, err, errlen) < 0)
			return -1;
		if (cmd->op == MMR_CMD_SUB_PUT && f->off == offsetof(struct mmr_cmd_sub, sel_id))
			sel_given = 1;
	}
	if (cmd->op == MMR_CMD_SUB_PUT && !sel_given)
		cmd->u.sub.sel_id = cmd->u.sub.id;
	return 1;
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	long timeout_ms = 5000;
	int opt;
	while ((opt = getopt(argc, argv, "t:")) != -1) {
		if (opt == 't' && atol(optarg) > 0) {
			timeout_ms = atol(optarg);
		} else {
			fprintf(stderr, "usage: %s [-t TIMEOUT_MS] SHM_NAME < commands\n", argv[0]);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: %s [-t TIMEOUT_MS] SHM_NAME < commands\n", argv[0]);
		return 2;
	}
	const char *name = argv[optind];
	setvbuf(stdout, NULL, _IOLBF, 0);

	struct cmd_chan ch;
	int rc = cmd_chan_open(&ch, name);
	if (rc < 0) {
		fprintf(stderr, "ring_cmd: %s: %s\n", name,
			rc == -EPROTO ? "not an mmr segment of this version" : strerror(-rc));
		return 3;
	}
	struct mmr_shm *s = ch.shm;
	uint64_t timeout_ns = (uint64_t)timeout_ms * 1000000ull;
	uint64_t t0 = mmr_now_ns();
	while (!atomic_load_explicit(&s->dp_ready, memory_order_acquire)) {
		if (mmr_now_ns() - t0 > timeout_ns) {
			fprintf(stderr, "ring_cmd: %s: the dataplane is not ready\n", name);
			cmd_chan_close(&ch);
			return 3;
		}
		sleep_us(1000);
	}
	if (mmr_alive(atomic_load_explicit(&s->ctl_heartbeat_ns, memory_order_relaxed), mmr_now_ns())) {
		fprintf(stderr, "ring_cmd: %s: a controller (pid %u) is attached; the ring has one producer\n",
			name, atomic_load_explicit(&s->ctl_pid, memory_order_relaxed));
		cmd_chan_close(&ch);
		return 3;
	}
	/* take the ring over (fencing token, lib/contract/cmd_chan.h): commands carry the new token */
	if (cmd_chan_take_over(&ch, atomic_load_explicit(&s->owner_token, memory_order_acquire)) < 0) {
		fprintf(stderr, "ring_cmd: %s: another producer took the ring over at the same time\n", name);
		cmd_chan_close(&ch);
		return 3;
	}

	char line[1024], err[160];
	unsigned lineno = 0;
	int status = 0;
	while (fgets(line, sizeof(line), stdin)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(stdin)) {
			fprintf(stderr, "ring_cmd: line %u: too long\n", lineno);
			status = 2;
			break;
		}
		struct mmr_cmd cmd;
		int k = parse_line(line, &cmd, err, sizeof(err));
		if (k < 0) {
			fprintf(stderr, "ring_cmd: line %u: %s\n", lineno, err);
			status = 2;
			break;
		}
		if (k == 0)
			continue;
		if (k == 2) {
			printf("rejected=%" PRIu64 " head=%" PRIu64 " tail=%" PRIu64 " applied_seq=%" PRIu64 "\n",
			       atomic_load_explicit(&s->rejected, memory_order_acquire),
			       atomic_load_explicit(&s->head, memory_order_acquire),
			       atomic_load_explicit(&s->tail, memory_order_acquire),
			       atomic_load_explicit(&s->applied_seq, memory_order_acquire));
			continue;
		}
		uint64_t rejected0 = atomic_load_explicit(&s->rejected, memory_order_acquire);
		t0 = mmr_now_ns();
		while ((rc = cmd_chan_push(&ch, &cmd)) == -EAGAIN && mmr_now_ns() - t0 < timeout_ns)
			sleep_us(200);
		if (rc < 0) {
			fprintf(stderr, "ring_cmd: line %u: the ring stays full\n", lineno);
			status = 3;
			break;
		}
		/* head moves past seq once the dataplane applied it; `rejected` and `last_error` are
		 * written before that (release), so they are complete when we see head move */
		uint64_t seq = cmd.seq;
		while (atomic_load_explicit(&s->head, memory_order_acquire) <= seq &&
		       mmr_now_ns() - t0 < timeout_ns)
			sleep_us(200);
		if (atomic_load_explicit(&s->head, memory_order_acquire) <= seq) {
			fprintf(stderr, "ring_cmd: line %u: seq %" PRIu64 " not applied within %ld ms\n", lineno,
				seq, timeout_ms);
			status = 3;
			break;
		}
		uint64_t rejected1 = atomic_load_explicit(&s->rejected, memory_order_acquire);
		if (rejected1 != rejected0) {
			char last[sizeof(s->last_error) + 1];
			memcpy(last, s->last_error, sizeof(s->last_error));
			last[sizeof(s->last_error)] = '\0';
			printf("refused: %s\n", last);
		} else {
			printf("ok\n");
		}
	}
	if (status == 0 && ferror(stdin)) {
		fprintf(stderr, "ring_cmd: reading stdin: %s\n", strerror(errno));
		status = 2;
	}
	cmd_chan_close(&ch);
	return status;
}
