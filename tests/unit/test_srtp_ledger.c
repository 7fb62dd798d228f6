/*
 * test_srtp_ledger.c - unit tests of the SRTP index lease ledger (lib/srtp/srtp_ledger.c):
 *   - create / reopen keeps the ledger id, the limits and the retired keys; the file is mode 0600
 *     and no temporary file is left behind; a second open of an open ledger is refused ("in use");
 *   - raise is monotonic, unknown ids look up as 0, argument checks (kind, limit <= 2^48), pending
 *     and sync with nothing pending (no I/O), stats;
 *   - retire: lookup / raise -> -EPERM, also after reopen; the retired key's lease records are not
 *     overwritten before the tombstone is durable, and are reused after;
 *   - crash damage made by hand in the file (the format is re-implemented here, with a bitwise
 *     CRC-32C, from the description at the top of srtp_ledger.c): the newest copy of a slot torn ->
 *     the previous durable limit; the older copy torn -> the newest; a torn first write -> free slot,
 *     and after the mirror write a torn copy loses nothing; both copies damaged -> open refused with
 *     a rekey message; bad header, size, version, CRC -> refused; a hand-made file with a duplicate
 *     record, a retired key's lease, a zero + damaged slot opens with the right answers;
 *   - 100k ids: raise, sync, reopen, every limit back (and how long the load took);
 *   - -ENOSPC: growth refused (RLIMIT_FSIZE with SIGXFSZ ignored) changes nothing;
 *   - a randomized model: raise / retire / sync / close without sync / crash in the middle of a sync
 *     (each 32-byte copy the sync wrote either reached the disk or not, one of them torn), then
 *     reopen: every durable limit is still there (>=), nothing above what was raised, every durable
 *     retirement still retired, and the file always opens.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "srtp_ledger.h"
#include "unit_util.h"
#include "ledger_file.h"

#define HDR LEDGER_HDR
#define SLOT 64
#define COPY LEDGER_COPY

static char tmpdir[256];

static void path_for(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", tmpdir, name);
}

static struct srtp_ledger *open_ok(const char *path)
{
	char err[256];
	struct srtp_ledger *l = srtp_ledger_open(path, err, sizeof(err));

	if (!l)
		fail_msg("open %s: %s", path, err);
	return l;
}

static void mkid(struct srtp_lease_id *id, uint8_t keyno, uint32_t ssrc, uint8_t kind)
{
	memset(id, 0, sizeof(*id));
	for (int i = 0; i < SRTP_LEDGER_FP_LEN; i++)
		id->fp[i] = (uint8_t)(keyno * 37 + i * 11 + 1);
	id->ssrc = ssrc;
	id->kind = kind;
}

static uint64_t lookup(struct srtp_ledger *l, const struct srtp_lease_id *id)
{
	uint64_t v = 12345;

	assert_int_equal(srtp_ledger_lookup(l, id, &v), 0);
	return v;
}

static uint8_t *read_all(const char *path, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	uint8_t *b = malloc((size_t)st.st_size + 1);

	assert_non_null(b);
	assert_int_equal(pread(fd, b, (size_t)st.st_size, 0), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return b;
}

static void write_at(const char *path, const void *p, size_t n, off_t off)
{
	int fd = open(path, O_WRONLY);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, p, n, off), (ssize_t)n);
	close(fd);
}

static void write_new(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	close(fd);
}

/* ---- the file format, independently ------------------------------------------------------- */

static void make_copy(uint8_t c[COPY], uint32_t slot, const uint8_t *fp, uint32_t ssrc, uint8_t kind,
		      uint64_t limit, uint32_t gen)
{
	memcpy(c, fp, 12);
	le32(c + 12, ssrc);
	le64(c + 16, limit | (uint64_t)kind << 56);
	le32(c + 24, gen);
	ledger_seal_copy(c, slot);
}

static void make_header(uint8_t h[HDR])
{
	uint8_t id[16];

	for (int i = 0; i < 16; i++)
		id[i] = (uint8_t)(0xa0 + i);
	ledger_header(h, id);
}

/* The copies of id in the file image: slot number, and for each copy 1 if it holds id, its gen. */
static long find_slot(const uint8_t *b, size_t len, const struct srtp_lease_id *id, int has[2],
		      uint32_t gen[2])
{
	for (size_t s = 0; HDR + (s + 1) * SLOT <= len; s++) {
		const uint8_t *p = b + HDR + s * SLOT;
		int any = 0;

		for (int c = 0; c < 2; c++) {
			const uint8_t *q = p + c * COPY;

			has[c] = !memcmp(q, id->fp, 12) && rd32(q + 12) == id->ssrc && q[23] == id->kind;
			gen[c] = rd32(q + 24);
			any |= has[c];
		}
		if (any)
			return (long)s;
	}
	return -1;
}

/* ---- tests ---------------------------------------------------------------------------------- */

static int no_tmp_left(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	int ok = 1;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strstr(e->d_name, ".new-"))
			ok = 0;
	closedir(d);
	return ok;
}

static void test_create_reopen(void **state)
{
	char path[512];
	uint8_t id0[SRTP_LEDGER_ID_LEN], zero[SRTP_LEDGER_ID_LEN] = {0};
	struct srtp_lease_id a, b;
	struct srtp_ledger_stats st;
	struct stat sb;

	(void)state;
	path_for(path, sizeof(path), "create.ledger");
	struct srtp_ledger *l = open_ok(path);

	memcpy(id0, srtp_ledger_id(l), sizeof(id0));
	assert_memory_not_equal(id0, zero, sizeof(id0));
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(sb.st_size, HDR);
	assert_true(no_tmp_left());
	mkid(&a, 1, 0x11111111, SRTP_LEASE_OUT_RTP);
	mkid(&b, 2, 0x22222222, SRTP_LEASE_IN_RTCP);
	assert_int_equal(srtp_ledger_raise(l, &a, 1000), 0);
	assert_int_equal(srtp_ledger_raise(l, &b, SRTP_LEDGER_LIMIT_MAX), 0);
	assert_int_equal(srtp_ledger_sync(l), 0);
	srtp_ledger_close(l);

	l = open_ok(path);
	assert_memory_equal(srtp_ledger_id(l), id0, sizeof(id0));
	assert_int_equal(lookup(l, &a), 1000);
	assert_int_equal(lookup(l, &b), SRTP_LEDGER_LIMIT_MAX);
	srtp_ledger_get_stats(l, &st);
	assert_int_equal(st.records, 2);
	assert_int_equal(st.retired, 0);
	assert_int_equal(st.slots, 1024);
	assert_int_equal(st.syncs, 0);
	assert_int_equal(srtp_ledger_pending(l), 0);
	srtp_ledger_close(l);
	srtp_ledger_close(NULL);

	/* another file gets another id */
	path_for(path, sizeof(path), "create2.ledger");
	l = open_ok(path);
	assert_memory_not_equal(srtp_ledger_id(l), id0, sizeof(id0));
	srtp_ledger_close(l);
}

static void test_raise_rules(void **state)
{
	char path[512];
	struct srtp_lease_id a, u;
	struct srtp_ledger_stats st;

	(void)state;
	path_for(path, sizeof(path), "raise.ledger");
	struct srtp_ledger *l = open_ok(path);

	mkid(&a, 3, 7, SRTP_LEASE_IN_RTP);
	mkid(&u, 3, 8, SRTP_LEASE_IN_RTP);
	assert_int_equal(lookup(l, &u), 0);
	assert_int_equal(srtp_ledger_sync(l), 0);        /* nothing pending: no I/O */
	srtp_ledger_get_stats(l, &st);
	assert_int_equal(st.syncs, 0);
	assert_int_equal(srtp_ledger_raise(l, &u, 0), 0); /* 0 on an unknown id: no record */
	assert_int_equal(srtp_ledger_pending(l), 0);

	assert_int_equal(srtp_ledger_raise(l, &a, 100), 0);
	assert_int_equal(srtp_ledger_pending(l), 1);
	assert_int_equal(srtp_ledger_raise(l, &a, 50), 0);
	assert_int_equal(lookup(l, &a), 100);
	assert_int_equal(srtp_ledger_sync(l), 0);
	assert_int_equal(srtp_ledger_pending(l), 0);
	assert_int_equal(srtp_ledger_raise(l, &a, 100), 0);   /* equal: nothing changes */
	assert_int_equal(srtp_ledger_raise(l, &a, 99), 0);
	assert_int_equal(srtp_ledger_pending(l), 0);
	assert_int_equal(srtp_ledger_raise(l, &a, 101), 0);
	assert_int_equal(srtp_ledger_pending(l), 1);
	assert_int_equal(lookup(l, &a), 101);

	/* the same fp and ssrc in another kind is another id */
	struct srtp_lease_id k = a;

	k.kind = SRTP_LEASE_OUT_RTP;
	assert_int_equal(lookup(l, &k), 0);

	/* argument checks */
	k.kind = 0;
	assert_int_equal(srtp_ledger_raise(l, &k, 1), -EINVAL);
	k.kind = 5;
	assert_int_equal(srtp_ledger_raise(l, &k, 1), -EINVAL);
	k.kind = SRTP_LEASE_OUT_RTCP;
	assert_int_equal(srtp_ledger_raise(l, &k, SRTP_LEDGER_LIMIT_MAX + 1), -EINVAL);
	assert_int_equal(srtp_ledger_raise(l, &k, UINT64_MAX), -EINVAL);
	assert_int_equal(lookup(l, &k), 0);
	assert_int_equal(srtp_ledger_raise(NULL, &k, 1), -EINVAL);
	assert_int_equal(srtp_ledger_raise(l, NULL, 1), -EINVAL);
	assert_int_equal(srtp_ledger_lookup(l, &k, NULL), -EINVAL);

	assert_int_equal(srtp_ledger_sync(l), 0);
	srtp_ledger_get_stats(l, &st);
	assert_int_equal(st.syncs, 2);
	assert_int_equal(st.sync_errors, 0);
	assert_int_equal(st.records, 1);
	srtp_ledger_close(l);
	l = open_ok(path);
	assert_int_equal(lookup(l, &a), 101);
	srtp_ledger_close(l);
}

static void test_retire(void **state)
{
	char path[512];
	struct srtp_lease_id a[8], b;
	struct srtp_ledger_stats st;
	uint64_t v;
	size_t len;
	int has[2];
	uint32_t gen[2];

	(void)state;
	path_for(path, sizeof(path), "retire.ledger");
	struct srtp_ledger *l = open_ok(path);

	for (int i = 0; i < 8; i++) {
		mkid(&a[i], 4, 100 + (uint32_t)i / 4, (uint8_t)(1 + i % 4));
		assert_int_equal(srtp_ledger_raise(l, &a[i], 1000 + (uint64_t)i), 0);
	}
	mkid(&b, 5, 100, SRTP_LEASE_OUT_RTP);
	assert_int_equal(srtp_ledger_raise(l, &b, 77), 0);
	assert_int_equal(srtp_ledger_sync(l), 0);

	assert_int_equal(srtp_ledger_is_retired(l, a[0].fp), 0);
	assert_int_equal(srtp_ledger_retire(l, a[0].fp), 0);
	assert_int_equal(srtp_ledger_retire(l, a[0].fp), 0);   /* again: fine */
	assert_int_equal(srtp_ledger_is_retired(l, a[0].fp), 1);
	assert_int_equal(srtp_ledger_pending(l), 1);
	for (int i = 0; i < 8; i++) {
		v = 5;
		assert_int_equal(srtp_ledger_lookup(l, &a[i], &v), -EPERM);
		assert_int_equal(v, 0);
		assert_int_equal(srtp_ledger_raise(l, &a[i], 5000), -EPERM);
	}
	struct srtp_lease_id n = a[0];

	n.ssrc = 999;   /* a new SSRC of a retired key: refused too */
	assert_int_equal(srtp_ledger_raise(l, &n, 1), -EPERM);
	assert_int_equal(lookup(l, &b), 77);
	srtp_ledger_get_stats(l, &st);
	assert_int_equal(st.records, 1);
	assert_int_equal(st.retired, 1);

	/* Before the tombstone is durable, new records must not take the retired key's slots: raise
	 * 20 new ids and sync together with the tombstone: a's 8 records are all still on disk. */
	for (int i = 0; i < 20; i++) {
		struct srtp_lease_id c;

		mkid(&c, 6, (uint32_t)i, SRTP_LEASE_OUT_RTP);
		assert_int_equal(srtp_ledger_raise(l, &c, 10), 0);
	}
	assert_int_equal(srtp_ledger_sync(l), 0);
	uint8_t *img = read_all(path, &len);

	for (int i = 0; i < 8; i++)
		assert_true(find_slot(img, len, &a[i], has, gen) >= 0);
	free(img);
	/* After it: new records take them (the lowest free slots first). */
	for (int i = 0; i < 8; i++) {
		struct srtp_lease_id c;

		mkid(&c, 7, (uint32_t)i, SRTP_LEASE_OUT_RTP);
		assert_int_equal(srtp_ledger_raise(l, &c, 10), 0);
	}
	assert_int_equal(srtp_ledger_sync(l), 0);
	srtp_ledger_close(l);

	l = open_ok(path);
	assert_int_equal(srtp_ledger_is_retired(l, a[0].fp), 1);
	assert_int_equal(srtp_ledger_lookup(l, &a[3], &v), -EPERM);
	assert_int_equal(srtp_ledger_raise(l, &a[3], 1), -EPERM);
	assert_int_equal(lookup(l, &b), 77);
	srtp_ledger_get_stats(l, &st);
	assert_int_equal(st.retired, 1);
	assert_int_equal(st.records, 1 + 20 + 8);
	srtp_ledger_close(l);

	/* a retirement that was not synced is gone after a crash (close without sync) */
	l = open_ok(path);
	assert_int_equal(srtp_ledger_retire(l, b.fp), 0);
	srtp_ledger_close(l);
	l = open_ok(path);
	assert_int_equal(srtp_ledger_is_retired(l, b.fp), 0);
	assert_int_equal(lookup(l, &b), 77);
	/* retire a key that never had a lease */
	uint8_t fp[SRTP_LEDGER_FP_LEN];

	memset(fp, 0xee, sizeof(fp));
	assert_int_equal(srtp_ledger_retire(l, fp), 0);
	assert_int_equal(srtp_ledger_sync(l), 0);
	srtp_ledger_close(l);
	l = open_ok(path);
	assert_int_equal(srtp_ledger_is_retired(l, fp), 1);
	srtp_ledger_close(l);
}

static void test_in_use(void **state)
{
	char path[512], err[256];

	(void)state;
	path_for(path, sizeof(path), "inuse.ledger");
	struct srtp_ledger *l = open_ok(path);

	errno = 0;
	assert_null(srtp_ledger_open(path, err, sizeof(err)));
	assert_int_equal(errno, EWOULDBLOCK);
	assert_non_null(strstr(err, "in use"));
	/* from another process as well */
	pid_t pid = fork();

	if (pid == 0) {
		struct srtp_ledger *c = srtp_ledger_open(path, err, sizeof(err));

		_exit(c == NULL && strstr(err, "in use") ? 0 : 1);
	}
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	srtp_ledger_close(l);
	l = open_ok(path);
	srtp_ledger_close(l);
	assert_null(srtp_ledger_open("", err, sizeof(err)));
	assert_null(srtp_ledger_open("/nonexistent-dir-mmr/x.ledger", err, sizeof(err)));
	assert_int_equal(errno, ENOENT);
}

static void damage(const char *path, long slot, int copy, size_t at)
{
	uint8_t b;
	off_t off = HDR + slot * SLOT + copy * COPY + (off_t)at;
	int fd = open(path, O_RDWR);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, off), 1);
	b ^= 0x5a;
	assert_int_equal(pwrite(fd, &b, 1, off), 1);
	close(fd);
}

static void test_torn_copies(void **state)
{
	char path[512], err[512];
	struct srtp_lease_id a;
	size_t len;
	int has[2];
	uint32_t gen[2];

	(void)state;
	path_for(path, sizeof(path), "torn.ledger");
	struct srtp_ledger *l = open_ok(path);

	mkid(&a, 9, 42, SRTP_LEASE_OUT_RTP);
	assert_int_equal(srtp_ledger_raise(l, &a, 100), 0);
	assert_int_equal(srtp_ledger_sync(l), 0);
	/* written once: the other copy of its slot is still zero */
	uint8_t *img = read_all(path, &len);
	long s = find_slot(img, len, &a, has, gen);

	assert_true(s >= 0);
	assert_int_equal(has[0] + has[1], 1);
	free(img);
	srtp_ledger_close(l);

	/* A torn first write (it never became durable): the slot reads as free, the file opens. */
	damage(path, s, has[0] ? 0 : 1, 20);
	l = open_ok(path);
	assert_int_equal(lookup(l, &a), 0);
	assert_int_equal(srtp_ledger_raise(l, &a, 100), 0);
	assert_int_equal(srtp_ledger_sync(l), 0);
	assert_int_equal(srtp_ledger_raise(l, &a, 200), 0);
	assert_int_equal(srtp_ledger_sync(l), 0);
	srtp_ledger_close(l);

	/* Both copies hold a: 100 (older), 200 (newer). Tear the newer: the older durable value. */
	img = read_all(path, &len);
	s = find_slot(img, len, &a, has, gen);
	assert_true(has[0] && has[1]);
	int newer = gen[1] > gen[0] ? 1 : 0;

	free(img);
	damage(path, s, newer, 3);
	l = open_ok(path);
	assert_int_equal(lookup(l, &a), 100);
	/* the next write goes to the damaged copy, the good one stays */
	assert_int_equal(srtp_ledger_raise(l, &a, 300), 0);
	assert_int_equal(srtp_ledger_sync(l), 0);
	srtp_ledger_close(l);
	img = read_all(path, &len);
	s = find_slot(img, len, &a, has, gen);
	assert_true(has[0] && has[1]);
	assert_true(gen[newer] > gen[1 - newer]);
	free(img);
	/* tear the older copy: the newest is still read */
	damage(path, s, 1 - newer, 30);
	l = open_ok(path);
	assert_int_equal(lookup(l, &a), 300);
	srtp_ledger_close(l);

	/* both copies damaged: refused, with the rekey advice, and no key material in the message */
	damage(path, s, newer, 13);
	errno = 0;
	assert_null(srtp_ledger_open(path, err, sizeof(err)));
	assert_int_equal(errno, EBADMSG);
	assert_non_null(strstr(err, "corrupt"));
	assert_non_null(strstr(err, "rekey"));

	/* A record written once, then mirrored by the next sync that has work: one damaged copy loses
	 * nothing. */
	path_for(path, sizeof(path), "mirror.ledger");
	l = open_ok(path);
	struct srtp_lease_id b, c;

	mkid(&b, 10, 1, SRTP_LEASE_IN_RTP);
	mkid(&c, 10, 2, SRTP_LEASE_IN_RTP);
	assert_int_equal(srtp_ledger_raise(l, &b, 555), 0);
	assert_int_equal(srtp_ledger_retire(l, a.fp), 0);
	assert_int_equal(srtp_ledger_sync(l), 0);
	assert_int_equal(srtp_ledger_raise(l, &c, 1), 0);
	assert_int_equal(srtp_ledger_sync(l), 0);   /* mirrors b and the tombstone */
	srtp_ledger_close(l);
	img = read_all(path, &len);
	s = find_slot(img, len, &b, has, gen);
	assert_true(has[0] && has[1]);
	free(img);
	damage(path, s, 0, 5);
	l = open_ok(path);
	assert_int_equal(lookup(l, &b), 555);
	srtp_ledger_close(l);
	damage(path, s, 0, 5);   /* undo */
	damage(path, s, 1, 5);
	l = open_ok(path);
	assert_int_equal(lookup(l, &b), 555);
	/* the tombstone, mirrored too */
	assert_int_equal(srtp_ledger_is_retired(l, a.fp), 1);
	srtp_ledger_close(l);
}

static void test_bad_header(void **state)
{
	char path[512], err[256];
	uint8_t h[HDR], buf[HDR + 3 * SLOT];

	(void)state;
	path_for(path, sizeof(path), "hdr.ledger");
	make_header(h);
	/* the hand-made header is accepted */
	write_new(path, h, HDR);
	struct srtp_ledger *l = open_ok(path);

	assert_memory_equal(srtp_ledger_id(l), h + 16, 16);
	srtp_ledger_close(l);

	static const size_t flips[] = { 0, 7, 8, 12, 16, 31, 40, 60, 63 };

	for (size_t i = 0; i < sizeof(flips) / sizeof(flips[0]); i++) {
		uint8_t bad[HDR];

		memcpy(bad, h, HDR);
		bad[flips[i]] ^= 1;
		write_new(path, bad, HDR);
		errno = 0;
		assert_null(srtp_ledger_open(path, err, sizeof(err)));
		assert_int_equal(errno, EBADMSG);
		assert_non_null(strstr(err, "bad header"));
	}
	/* version 2 with a right CRC */
	uint8_t v2[HDR];

	memcpy(v2, h, HDR);
	le32(v2 + 8, 2);
	le32(v2 + 60, ledger_crc32c(v2, 60));
	write_new(path, v2, HDR);
	assert_null(srtp_ledger_open(path, err, sizeof(err)));
	assert_int_equal(errno, EBADMSG);
	/* too short, empty */
	write_new(path, h, 10);
	assert_null(srtp_ledger_open(path, err, sizeof(err)));
	assert_int_equal(errno, EBADMSG);
	write_new(path, h, 0);
	assert_null(srtp_ledger_open(path, err, sizeof(err)));
	assert_int_equal(errno, EBADMSG);
	/* not a whole number of slots */
	memset(buf, 0, sizeof(buf));
	memcpy(buf, h, HDR);
	write_new(path, buf, HDR + SLOT + 5);
	assert_null(srtp_ledger_open(path, err, sizeof(err)));
	assert_int_equal(errno, EBADMSG);
	/* zero slots are fine */
	write_new(path, buf, HDR + 3 * SLOT);
	l = open_ok(path);
	srtp_ledger_close(l);
}

/* A file made by hand: the format as documented. */
static void test_handmade(void **state)
{
	char path[512];
	uint8_t f[HDR + 8 * SLOT];
	struct srtp_lease_id a, b, r, z;
	struct srtp_ledger_stats st;
	uint64_t v;

	(void)state;
	path_for(path, sizeof(path), "handmade.ledger");
	memset(f, 0, sizeof(f));
	make_header(f);
	mkid(&a, 20, 1, SRTP_LEASE_OUT_RTP);
	mkid(&b, 21, 2, SRTP_LEASE_IN_RTCP);
	mkid(&r, 22, 3, SRTP_LEASE_OUT_RTCP);
	mkid(&z, 23, 4, SRTP_LEASE_OUT_RTCP);
	uint8_t *s0 = f + HDR, *s1 = s0 + SLOT, *s2 = s1 + SLOT, *s3 = s2 + SLOT, *s4 = s3 + SLOT,
		*s5 = s4 + SLOT, *s6 = s5 + SLOT;

	/* slot 0: a, gens 7 (limit 70) and 8 (limit 80) */
	make_copy(s0, 0, a.fp, a.ssrc, a.kind, 70, 7);
	make_copy(s0 + COPY, 0, a.fp, a.ssrc, a.kind, 80, 8);
	/* slot 1: a again (a duplicate), 90 in copy 1 only: merged -> 90 */
	make_copy(s1 + COPY, 1, a.fp, a.ssrc, a.kind, 90, 3);
	/* slot 2: b with generations across the 32-bit wrap: 0xffffffff (limit 5), 1 (limit 6) */
	make_copy(s2, 2, b.fp, b.ssrc, b.kind, 5, 0xffffffffu);
	make_copy(s2 + COPY, 2, b.fp, b.ssrc, b.kind, 6, 1);
	/* slot 3: r's lease; slot 4: r's tombstone (copy 1) */
	make_copy(s3, 3, r.fp, r.ssrc, r.kind, 1000, 1);
	make_copy(s4 + COPY, 4, r.fp, 0, 5, 0, 1);
	/* slot 5: zero + damaged (a torn first write): free */
	make_copy(s5, 5, z.fp, z.ssrc, z.kind, 1, 1);
	s5[10] ^= 0xff;
	/* slot 6: a valid copy written for slot 7 (wrong place) + zero: free; slot 7 zero */
	make_copy(s6, 7, z.fp, z.ssrc, z.kind, 2, 1);
	write_new(path, f, sizeof(f));

	struct srtp_ledger *l = open_ok(path);

	assert_int_equal(lookup(l, &a), 90);
	assert_int_equal(lookup(l, &b), 6);
	assert_int_equal(srtp_ledger_lookup(l, &r, &v), -EPERM);
	assert_int_equal(lookup(l, &z), 0);
	srtp_ledger_get_stats(l, &st);
	assert_int_equal(st.records, 2);
	assert_int_equal(st.retired, 1);
	assert_int_equal(st.slots, 8);
	assert_int_equal(srtp_ledger_pending(l), 1);   /* the merged duplicate is rewritten */
	assert_int_equal(srtp_ledger_sync(l), 0);
	/* fill every free slot (3, 5, 6, 7, and 1 now that the merge is durable) without growing */
	for (uint32_t i = 0; i < 5; i++) {
		struct srtp_lease_id n;

		mkid(&n, 30, i, SRTP_LEASE_OUT_RTP);
		assert_int_equal(srtp_ledger_raise(l, &n, 1 + i), 0);
	}
	srtp_ledger_get_stats(l, &st);
	assert_int_equal(st.slots, 8);
	assert_int_equal(srtp_ledger_sync(l), 0);
	srtp_ledger_close(l);
	l = open_ok(path);
	assert_int_equal(lookup(l, &a), 90);
	assert_int_equal(lookup(l, &b), 6);
	assert_int_equal(srtp_ledger_is_retired(l, r.fp), 1);
	srtp_ledger_get_stats(l, &st);
	assert_int_equal(st.records, 7);
	srtp_ledger_close(l);

	/* one slot whose copies are both damaged: refused */
	f[HDR + 3 * SLOT + 2] ^= 1;
	make_copy(s3 + COPY, 3, r.fp, r.ssrc, r.kind, 1000, 2);
	s3[COPY + 1] ^= 1;
	write_new(path, f, sizeof(f));
	assert_null(srtp_ledger_open(path, NULL, 0));
	assert_int_equal(errno, EBADMSG);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_many(void **state)
{
	char path[512];
	const uint32_t n = 100000;
	struct srtp_lease_id id;
	struct srtp_ledger_stats st;

	(void)state;
	path_for(path, sizeof(path), "many.ledger");
	struct srtp_ledger *l = open_ok(path);

	for (uint32_t i = 0; i < n; i++) {
		mkid(&id, (uint8_t)(i >> 16), i, (uint8_t)(1 + i % 4));
		assert_int_equal(srtp_ledger_raise(l, &id, (uint64_t)i * 65536 + 1), 0);
	}
	assert_int_equal(srtp_ledger_sync(l), 0);
	for (uint32_t i = 0; i < n; i += 3) {
		mkid(&id, (uint8_t)(i >> 16), i, (uint8_t)(1 + i % 4));
		assert_int_equal(srtp_ledger_raise(l, &id, (uint64_t)i * 65536 + 2), 0);
	}
	assert_int_equal(srtp_ledger_sync(l), 0);
	srtp_ledger_close(l);

	double t0 = now();

	l = open_ok(path);
	double t1 = now();

	print_message("    load of %u records: %.3f s\n", n, t1 - t0);
	srtp_ledger_get_stats(l, &st);
	assert_int_equal(st.records, n);
	for (uint32_t i = 0; i < n; i++) {
		mkid(&id, (uint8_t)(i >> 16), i, (uint8_t)(1 + i % 4));
		assert_int_equal(lookup(l, &id), (uint64_t)i * 65536 + (i % 3 ? 1 : 2));
	}
	mkid(&id, 0, n + 5, 1);
	assert_int_equal(lookup(l, &id), 0);
	srtp_ledger_close(l);
	unlink(path);
}

static void test_enospc(void **state)
{
	char path[512];
	struct srtp_lease_id a, b;
	struct srtp_ledger_stats st0, st1;
	struct rlimit old, lim;
	uint8_t fp[SRTP_LEDGER_FP_LEN];

	(void)state;
	path_for(path, sizeof(path), "nospc.ledger");
	struct srtp_ledger *l = open_ok(path);

	mkid(&a, 40, 1, SRTP_LEASE_OUT_RTP);
	mkid(&b, 41, 1, SRTP_LEASE_OUT_RTP);
	memset(fp, 0x77, sizeof(fp));
	srtp_ledger_get_stats(l, &st0);
	assert_int_equal(st0.slots, 0);   /* a new file has no slot: the first record grows it */

	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = HDR;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	int r1 = srtp_ledger_raise(l, &a, 5);
	int r2 = srtp_ledger_retire(l, fp);

	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(r1, -ENOSPC);
	assert_int_equal(r2, -ENOSPC);
	assert_int_equal(lookup(l, &a), 0);
	assert_int_equal(srtp_ledger_is_retired(l, fp), 0);
	assert_int_equal(srtp_ledger_pending(l), 0);
	srtp_ledger_get_stats(l, &st1);
	assert_memory_equal(&st0, &st1, sizeof(st0));

	/* with the limit lifted the same calls work */
	assert_int_equal(srtp_ledger_raise(l, &a, 5), 0);
	assert_int_equal(srtp_ledger_retire(l, fp), 0);
	assert_int_equal(srtp_ledger_sync(l), 0);
	srtp_ledger_close(l);
	l = open_ok(path);
	assert_int_equal(lookup(l, &a), 5);
	assert_int_equal(srtp_ledger_is_retired(l, fp), 1);
	assert_int_equal(lookup(l, &b), 0);
	srtp_ledger_close(l);
}

static void test_fingerprint(void **state)
{
	struct srtp_master m;
	uint8_t f1[SRTP_LEDGER_FP_LEN], f2[SRTP_LEDGER_FP_LEN], md[32], buf[80];
	unsigned int mdlen;
	size_t n = 0;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.suite = SRTP_SUITE_AEAD_AES_128_GCM;
	m.key_len = 16;
	m.salt_len = 12;
	for (int i = 0; i < 16; i++)
		m.key[i] = (uint8_t)i;
	for (int i = 0; i < 12; i++)
		m.salt[i] = (uint8_t)(0x80 + i);
	srtp_ledger_fingerprint(&m, f1);
	/* SHA-256("mmr srtp ledger v1" | suite | key | salt), first 12 bytes */
	memcpy(buf, "mmr srtp ledger v1", 18);
	n = 18;
	buf[n++] = 1;
	memcpy(buf + n, m.key, 16);
	n += 16;
	memcpy(buf + n, m.salt, 12);
	n += 12;
	assert_int_equal(EVP_Digest(buf, n, md, &mdlen, EVP_sha256(), NULL), 1);
	assert_memory_equal(f1, md, SRTP_LEDGER_FP_LEN);
	/* padding bytes and key bytes past key_len do not count */
	m.pad = 9;
	m.key[20] = 1;
	srtp_ledger_fingerprint(&m, f2);
	assert_memory_equal(f1, f2, sizeof(f1));
	/* suite, key, salt each change it */
	m.suite = SRTP_SUITE_AES_CM_128_HMAC_SHA1_80;
	srtp_ledger_fingerprint(&m, f2);
	assert_memory_not_equal(f1, f2, sizeof(f1));
	m.suite = SRTP_SUITE_AEAD_AES_128_GCM;
	m.key[0] ^= 1;
	srtp_ledger_fingerprint(&m, f2);
	assert_memory_not_equal(f1, f2, sizeof(f1));
	m.key[0] ^= 1;
	m.salt[11] ^= 1;
	srtp_ledger_fingerprint(&m, f2);
	assert_memory_not_equal(f1, f2, sizeof(f1));
	/* out-of-range lengths are clamped, not over-read */
	m.key_len = 255;
	m.salt_len = 255;
	srtp_ledger_fingerprint(&m, f2);
}

/* ---- randomized model -------------------------------------------------------------------------- */

#define M_KEYS  128
#define M_SSRC  6
#define M_IDS   (M_KEYS * M_SSRC * 4)

struct model {
	uint64_t mem[M_IDS];       /* what the open ledger should answer */
	uint64_t durable[M_IDS];   /* what any reopen must give at least */
	uint64_t hi[M_IDS];        /* nothing above this may ever come back */
	uint8_t ret_mem[M_KEYS], ret_durable[M_KEYS], ret_ever[M_KEYS];
};

static void model_id(struct srtp_lease_id *id, unsigned i)
{
	mkid(id, (uint8_t)(100 + i / (M_SSRC * 4)), 1000 + (i / 4) % M_SSRC, (uint8_t)(1 + i % 4));
}

static void check_open(struct srtp_ledger *l, struct model *m)
{
	struct srtp_lease_id id;
	uint64_t v;

	for (unsigned i = 0; i < M_IDS; i++) {
		model_id(&id, i);
		int r = srtp_ledger_lookup(l, &id, &v);

		if (m->ret_mem[i / (M_SSRC * 4)]) {
			assert_int_equal(r, -EPERM);
		} else {
			assert_int_equal(r, 0);
			assert_int_equal(v, m->mem[i]);
		}
	}
}

/* After a reopen: the durable state is there at least, nothing invented. Then the model takes what
 * the file says (in this simulation, what is in the file is on disk). */
static void check_reopen(struct srtp_ledger *l, struct model *m, int exact)
{
	struct srtp_lease_id id;
	uint64_t v;

	for (unsigned k = 0; k < M_KEYS; k++) {
		int r = srtp_ledger_is_retired(l, (model_id(&id, k * M_SSRC * 4), id.fp));

		if (m->ret_durable[k])
			assert_int_equal(r, 1);
		if (r)
			assert_true(m->ret_ever[k]);
		if (exact)
			assert_int_equal(r, m->ret_durable[k]);
		m->ret_mem[k] = m->ret_durable[k] = (uint8_t)r;
	}
	for (unsigned i = 0; i < M_IDS; i++) {
		model_id(&id, i);
		int r = srtp_ledger_lookup(l, &id, &v);

		if (m->ret_mem[i / (M_SSRC * 4)]) {
			assert_int_equal(r, -EPERM);
			continue;
		}
		assert_int_equal(r, 0);
		if (v < m->durable[i] || v > m->hi[i] || (exact && v != m->durable[i]))
			fail_msg("id %u: reopened limit %llu, durable %llu, highest raised %llu", i,
				 (unsigned long long)v, (unsigned long long)m->durable[i],
				 (unsigned long long)m->hi[i]);
		m->mem[i] = m->durable[i] = v;
	}
}

/* A sync interrupted by a crash: of the 32-byte copies it changed, each reached the disk or not
 * (any subset: the page cache writes back in any order), and (sometimes) one was torn. */
static void crash_image(const uint8_t *pre, const uint8_t *post, size_t len, uint8_t *out)
{
	size_t changed[8192], nch = 0;

	memcpy(out, post, len);
	for (size_t off = HDR; off + COPY <= len; off += COPY)
		if (memcmp(pre + off, post + off, COPY) && nch < 8192)
			changed[nch++] = off;
	int mode = (int)(rnd() % 3);   /* 0: few reached the disk, 1: about half, 2: most */

	for (size_t j = 0; j < nch; j++) {
		uint32_t p = rnd() % 8;
		int keep = mode == 0 ? p < 1 : mode == 1 ? p < 4 : p < 7;

		if (!keep)
			memcpy(out + changed[j], pre + changed[j], COPY);
	}
	if (nch && rnd() % 2) {
		size_t off = changed[rnd() % nch];
		uint32_t how = rnd() % 3, cut = 1 + rnd() % (COPY - 1);

		for (uint32_t b = 0; b < COPY; b++) {
			if (how == 0)        /* new bytes up to the cut, old after */
				out[off + b] = b < cut ? post[off + b] : pre[off + b];
			else if (how == 1)   /* old bytes up to the cut, new after */
				out[off + b] = b < cut ? pre[off + b] : post[off + b];
			else                 /* garbage */
				out[off + b] = (uint8_t)rnd();
		}
	}
}

static void run_model(uint32_t seed, int steps)
{
	char path[512];
	static struct model m;
	struct srtp_lease_id id;
	size_t lpre, lpost;
	int crashes = 0, torn_syncs = 0;

	rng_state = seed;
	memset(&m, 0, sizeof(m));
	snprintf(path, sizeof(path), "%s/model-%u.ledger", tmpdir, seed);
	unlink(path);
	struct srtp_ledger *l = open_ok(path);
	unsigned keys = 4;   /* keys in use; a retirement brings a new one in */

	for (int step = 0; step < steps; step++) {
		uint32_t op = rnd() % 100;

		if (op < 60) {                     /* raise */
			unsigned i = rnd() % (keys * M_SSRC * 4);
			uint64_t lim = m.mem[i] + (rnd() % 4 == 0 ? 0 : 1 + rnd() % 100000);
			int r;

			if (rnd() % 64 == 0)
				lim = SRTP_LEDGER_LIMIT_MAX;
			if (lim > SRTP_LEDGER_LIMIT_MAX)
				lim = SRTP_LEDGER_LIMIT_MAX;
			model_id(&id, i);
			r = srtp_ledger_raise(l, &id, lim);
			if (m.ret_mem[i / (M_SSRC * 4)]) {
				assert_int_equal(r, -EPERM);
			} else {
				assert_int_equal(r, 0);
				if (lim > m.mem[i])
					m.mem[i] = lim;
				if (lim > m.hi[i])
					m.hi[i] = lim;
			}
		} else if (op < 62) {              /* retire */
			unsigned k = rnd() % keys;

			model_id(&id, k * M_SSRC * 4);
			assert_int_equal(srtp_ledger_retire(l, id.fp), 0);
			m.ret_mem[k] = m.ret_ever[k] = 1;
			if (keys < M_KEYS)
				keys++;
		} else if (op < 84) {              /* sync */
			assert_int_equal(srtp_ledger_sync(l), 0);
			memcpy(m.durable, m.mem, sizeof(m.mem));
			memcpy(m.ret_durable, m.ret_mem, sizeof(m.ret_mem));
		} else if (op < 88) {              /* check the open ledger */
			check_open(l, &m);
		} else if (op < 93) {              /* crash with nothing written since the last sync */
			srtp_ledger_close(l);
			l = open_ok(path);
			check_reopen(l, &m, 1);
			crashes++;
		} else {                           /* crash in the middle of a sync */
			uint8_t *pre = read_all(path, &lpre);

			assert_int_equal(srtp_ledger_sync(l), 0);
			uint8_t *post = read_all(path, &lpost);

			assert_int_equal(lpre, lpost);
			uint8_t *img = malloc(lpost);

			assert_non_null(img);
			crash_image(pre, post, lpost, img);
			srtp_ledger_close(l);
			write_at(path, img, lpost, 0);
			free(pre);
			free(post);
			free(img);
			l = open_ok(path);   /* must always open */
			check_reopen(l, &m, 0);
			torn_syncs++;
		}
	}
	srtp_ledger_close(l);
	l = open_ok(path);
	check_reopen(l, &m, 1);
	srtp_ledger_close(l);
	unlink(path);
	print_message("    seed %u: %d steps, %d crashes after a sync, %d crashes during a sync, %u keys\n",
		      seed, steps, crashes, torn_syncs, keys);
}

static void test_model(void **state)
{
	(void)state;
	for (uint32_t seed = 1; seed <= 6; seed++)
		run_model(seed * 2654435761u, 4000);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_srtp_ledger-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_reopen),
		cmocka_unit_test(test_raise_rules),
		cmocka_unit_test(test_retire),
		cmocka_unit_test(test_in_use),
		cmocka_unit_test(test_torn_copies),
		cmocka_unit_test(test_bad_header),
		cmocka_unit_test(test_handmade),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_enospc),
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_model),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
