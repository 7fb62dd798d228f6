/*
 * fuzz_srtp_ledger.c - libFuzzer target for the SRTP lease ledger's loader (lib/srtp/srtp_ledger.c): the
 * input becomes a ledger file (/tmp/fuzz-ledger-<pid>, one per process) that srtp_ledger_open must
 * refuse or load without crashing or leaking. Input layout:
 *   byte 0: flags: bit 0 put a valid header in front of the body, bit 1 give every non-zero 32-byte
 *     copy of the body a correct CRC-32C (so that the fuzzer reaches the record logic past the CRCs);
 *   byte 1: number of operations (low 4 bits), then 6 bytes per operation, then the file body.
 *   An operation is: kind byte (raise, retire, sync, lookup, close + reopen), a slot number whose
 *   record's fp / ssrc it uses (or a fixed id if there is no such slot), and a limit.
 * When the file opens, the operations run against a model of what was synced: after every
 * close + reopen, each id raised and synced has at least the synced limit or its key is retired, each
 * key retired and synced is still retired; an id in memory never goes below what was raised.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "srtp_ledger.h"
#include "../unit/ledger_file.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s\n", #c); abort(); } } while (0)

#define HDR LEDGER_HDR
#define COPY LEDGER_COPY
#define MAX_OPS 15

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct op {
	uint8_t what, slot;
	uint32_t limit;
};

struct seen {                    /* what the model knows of one operation's id */
	struct srtp_lease_id id;
	uint64_t raised, synced;
	int retired, retired_synced;
};

static char path[64];

static struct srtp_ledger *reopen(void)
{
	char err[256];
	struct srtp_ledger *l = srtp_ledger_open(path, err, sizeof(err));

	if (!l) {
		fprintf(stderr, "reopen of a ledger that opened before failed: %s\n", err);
		abort();
	}
	return l;
}

static void remove_file(void)
{
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct op ops[MAX_OPS];
	struct seen seen[MAX_OPS];
	uint8_t *file;
	size_t nops, body_len, flen, off;
	int fd;

	if (size < 2)
		return 0;
	if (!path[0]) {
		snprintf(path, sizeof(path), "/tmp/fuzz-ledger-%d", (int)getpid());
		atexit(remove_file);
	}
	nops = data[1] & 0xf;
	if (size < 2 + nops * 6)
		nops = (size - 2) / 6;
	for (size_t i = 0; i < nops; i++) {
		const uint8_t *p = data + 2 + i * 6;

		ops[i].what = p[0];
		ops[i].slot = p[1];
		ops[i].limit = rd32(p + 2);
	}
	off = 2 + nops * 6;
	body_len = size - off;
	flen = body_len + ((data[0] & 1) ? HDR : 0);
	file = malloc(flen ? flen : 1);
	CHECK(file != NULL);
	if (data[0] & 1) {
		static const uint8_t id[16];

		ledger_header(file, id);
	}
	memcpy(file + flen - body_len, data + off, body_len);
	if ((data[0] & 2) && flen > HDR) {
		for (size_t c = HDR; c + COPY <= flen; c += COPY) {
			static const uint8_t zero[COPY];

			if (memcmp(file + c, zero, COPY))
				ledger_seal_copy(file + c, (c - HDR) / 64);
		}
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	CHECK(write(fd, file, flen) == (ssize_t)flen);
	close(fd);

	struct srtp_ledger *l = srtp_ledger_open(path, NULL, 0);

	if (!l) {
		CHECK(errno != 0);
		free(file);
		return 0;
	}
	/* Every operation's id: from the file's slot (if it has one) or a fixed one. */
	size_t nslots = flen > HDR ? (flen - HDR) / 64 : 0;

	memset(seen, 0, sizeof(seen));
	for (size_t i = 0; i < nops; i++) {
		struct srtp_lease_id *id = &seen[i].id;

		if (ops[i].slot < nslots) {
			const uint8_t *c = file + HDR + (size_t)ops[i].slot * 64 + (ops[i].what & 0x80 ? COPY : 0);

			memcpy(id->fp, c, SRTP_LEDGER_FP_LEN);
			id->ssrc = rd32(c + 12);
		} else {
			memset(id->fp, ops[i].slot, SRTP_LEDGER_FP_LEN);
			id->ssrc = ops[i].slot;
		}
		id->kind = (uint8_t)(1 + (ops[i].what >> 3 & 3));
		if (ops[i].what & 0x40)
			id->kind = (uint8_t)(ops[i].what >> 3 & 7);   /* sometimes out of range */
		uint64_t v;

		seen[i].retired = srtp_ledger_lookup(l, id, &v) == -EPERM;
		seen[i].retired_synced = seen[i].retired;
		seen[i].raised = seen[i].synced = seen[i].retired ? 0 : v;
	}
	for (size_t i = 0; i < nops; i++) {
		struct seen *s = &seen[i];
		uint64_t v, lim = (uint64_t)ops[i].limit << (ops[i].what & 0x20 ? 17 : 0);
		int r;

		switch (ops[i].what & 7) {
		case 0: case 1: case 2:   /* raise */
			r = srtp_ledger_raise(l, &s->id, lim);
			if (s->id.kind < 1 || s->id.kind > 4 || lim > SRTP_LEDGER_LIMIT_MAX)
				CHECK(r == -EINVAL);
			else if (srtp_ledger_is_retired(l, s->id.fp))
				CHECK(r == -EPERM);
			else
				CHECK(r == 0 || r == -ENOSPC || r == -ENOMEM);
			break;
		case 3:                   /* retire */
			r = srtp_ledger_retire(l, s->id.fp);
			CHECK(r == 0 || r == -ENOSPC || r == -ENOMEM);
			break;
		case 4: case 5:           /* sync */
			CHECK(srtp_ledger_sync(l) == 0);
			CHECK(!srtp_ledger_pending(l));
			break;
		case 6:                   /* lookup */
			r = srtp_ledger_lookup(l, &s->id, &v);
			CHECK(r == 0 || r == -EPERM);
			break;
		default:                  /* crash (close without sync) and reopen */
			srtp_ledger_close(l);
			l = reopen();
			break;
		}
		/* the model, for every id seen */
		int synced_now = (ops[i].what & 7) == 4 || (ops[i].what & 7) == 5;
		int reopened = (ops[i].what & 7) == 7;

		for (size_t j = 0; j < nops; j++) {
			struct seen *t = &seen[j];
			int ret = srtp_ledger_is_retired(l, t->id.fp);

			r = srtp_ledger_lookup(l, &t->id, &v);
			CHECK(ret ? r == -EPERM : r == 0);
			if (reopened) {
				CHECK(!t->retired_synced || ret);
				CHECK(ret || v >= t->synced);
				t->retired = ret;
				t->raised = ret ? 0 : v;
			} else {
				CHECK(!t->retired || ret);
				CHECK(ret || v >= t->raised);
			}
			t->retired = ret;
			if (!ret)
				t->raised = v;
			if (synced_now || reopened) {
				t->synced = t->raised;
				t->retired_synced = t->retired;
			}
		}
	}
	struct srtp_ledger_stats st;

	srtp_ledger_get_stats(l, &st);
	CHECK(st.records <= st.slots && st.retired <= st.slots);
	srtp_ledger_close(l);
	free(file);
	return 0;
}
