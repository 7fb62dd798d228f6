/*
 * srtp_ledger.c - the SRTP index lease ledger (srtp_ledger.h): a file of fixed-size records that
 * survives any crash with every durable lease limit and every durable key retirement intact.
 *
 * File format (all integers little-endian):
 *   header, 64 bytes: magic "MMRSLDG1" (8), version u32 = 1, slot size u32 = 64, ledger id (16),
 *     zero (28), CRC-32C u32 of bytes 0..59. Written once, when the file is made, never again.
 *   then N slots of 64 bytes (the file is exactly 64 + 64 N bytes); slot i at offset 64 + 64 i holds
 *   two 32-byte copies of its record:
 *     fp (12) | ssrc u32 | word u64: limit in bits 0-48 (<= 2^48), bits 49-55 zero, kind in 56-63 |
 *     gen u32 (write generation, never 0) | CRC-32C u32 over (i as u64, bytes 0..27 of the copy)
 *   kind 1-4: a lease (enum srtp_lease_kind); kind 5: a retired key (tombstone, ssrc 0, limit 0).
 *   A copy is valid if its CRC (which covers the slot number: a copy written to the wrong place is
 *   not valid) and its fields check. A slot's record is its valid copy of the newer generation
 *   (serial-number order); a slot with no valid copy is free if one copy is all zero, else corrupt.
 *
 * Writes. Each write of a slot is one 32-byte pwrite to the copy that does NOT hold the slot's newest
 * valid record (the older one, or the damaged / zero one), with generation + 1; the other copy is
 * never touched, so a torn write (a crash in the middle of the pwrite, or of the fdatasync after it)
 * can damage only the copy that was being written, and the other still holds the previous durable
 * record, or zeros if there never was one (then the torn first write was never durable: free slot).
 * Hence every slot always keeps at least one copy that is valid or all zero, whatever the sequence of
 * crashes, and "both copies damaged" can only mean corruption from outside: refused at open.
 * Which copy is written next changes only when a sync succeeded, so a retry after a failed sync
 * writes the same copy again. A record written once (its other copy still zero or another record)
 * is written a second time, to its other copy, on the next sync that has work (the "mirror"), so that
 * after that a single damaged copy of it is caught instead of reading as a free slot.
 *
 * Reuse. A retired key's lease slots are not reused until the sync that makes its tombstone durable
 * succeeded (until then they wait on the limbo list). A free slot may still hold a record of a
 * retired key; at load such records are ignored because the key's tombstone is in the file, and
 * tombstones are never overwritten. Two lease records of one id (only a damaged or hand-made file
 * has them) are merged: the higher limit wins, the other slot becomes free.
 *
 * Growth: when no slot is free the file is extended by max(1024, N / 8) slots with posix_fallocate
 * (zeros: free slots), so that later pwrites cannot fail for lack of space; the next sync is an fsync.
 *
 * In memory: an array of slots (the record, its generation, which copy is written next), an
 * open-addressing hash (linear probing, backward-shift deletion) from (fp, ssrc, kind) to slot, an
 * open-addressing table from fp to its tombstone and its chain of lease slots, a free stack, and the
 * dirty list, so that a sync costs in proportion to what changed.
 */
#define _GNU_SOURCE   /* mkostemp */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "srtp_ledger.h"
#include "crc32c.h"
#include "mix64.h"

#define HDR_LEN      64
#define SLOT_LEN     64
#define COPY_LEN     32
#define MAGIC        "MMRSLDG1"
#define VERSION      1
#define KIND_TOMB    5
#define GROW_MIN     1024u
#define MAX_SLOTS    (1u << 30)
#define NONE         UINT32_MAX
#define READ_SLOTS   16384u          /* slots read per pread at load (1 MiB) */

static const char fp_label[] = "mmr srtp ledger v1";

/* ---- little-endian helpers --------------------------------------------------------------- */

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* ---- in-memory state ---------------------------------------------------------------------- */

enum slot_state { ST_FREE = 0, ST_LEASE, ST_TOMB, ST_LIMBO };

struct mslot {
	uint8_t  fp[SRTP_LEDGER_FP_LEN];
	uint32_t ssrc;
	uint64_t limit;
	uint32_t gen;      /* generation of the newest valid copy on disk (0: none) */
	uint32_t next;     /* lease chain of the key, or free / limbo list */
	uint8_t  kind;     /* 1-4 lease, KIND_TOMB */
	uint8_t  state;    /* enum slot_state */
	uint8_t  target;   /* copy (0, 1) the next write goes to */
	uint8_t  owned;    /* bit c: copy c on disk holds this record (some version of it) */
	uint8_t  dirty;    /* on l->dirty */
	uint8_t  mirror;   /* on l->mirror */
	uint8_t  written;  /* scratch during sync */
};

struct keyent {
	uint8_t  fp[SRTP_LEDGER_FP_LEN];
	uint32_t tomb;     /* tombstone slot, NONE if not retired */
	uint32_t head;     /* first lease slot of this key, NONE if none */
	uint32_t used;
};

struct srtp_ledger {
	int fd;
	uint8_t id[SRTP_LEDGER_ID_LEN];
	struct mslot *s;
	uint32_t nslots, scap;
	uint32_t *ih;                 /* id hash: slot + 1, 0 empty */
	uint32_t ihcap, ihcount;
	struct keyent *kt;
	uint32_t ktcap, ktcount;
	uint32_t free_head, limbo_head;
	uint32_t *dirty, ndirty;      /* capacity scap: a slot is on it at most once */
	uint32_t *mirror, nmirror;
	int grown;
	uint64_t records, retired, syncs, sync_errors;
};

static uint64_t hash_fp(const uint8_t *fp)
{
	return mix64(get64(fp) ^ (uint64_t)get32(fp + 8) << 17);
}

static uint64_t hash_id(const uint8_t *fp, uint32_t ssrc, uint8_t kind)
{
	return mix64(hash_fp(fp) ^ ((uint64_t)ssrc << 8 | kind));
}

static int slot_is(const struct mslot *s, const uint8_t *fp, uint32_t ssrc, uint8_t kind)
{
	return s->ssrc == ssrc && s->kind == kind && !memcmp(s->fp, fp, SRTP_LEDGER_FP_LEN);
}

/* ---- id hash ------------------------------------------------------------------------------ */

static uint32_t ih_find(const struct srtp_ledger *l, const uint8_t *fp, uint32_t ssrc, uint8_t kind)
{
	if (!l->ihcap)
		return NONE;
	uint32_t mask = l->ihcap - 1;

	for (uint32_t i = (uint32_t)hash_id(fp, ssrc, kind) & mask;; i = (i + 1) & mask) {
		uint32_t v = l->ih[i];

		if (!v)
			return NONE;
		if (slot_is(&l->s[v - 1], fp, ssrc, kind))
			return v - 1;
	}
}

static void ih_put(uint32_t *tab, uint32_t cap, const struct mslot *s, uint32_t slot)
{
	uint32_t mask = cap - 1;
	uint32_t i = (uint32_t)hash_id(s->fp, s->ssrc, s->kind) & mask;

	while (tab[i])
		i = (i + 1) & mask;
	tab[i] = slot + 1;
}

/* Room for `more` further entries at load factor <= 1/2. 0 or -ENOMEM (nothing changed). */
static int ih_reserve(struct srtp_ledger *l, uint32_t more)
{
	uint64_t need = ((uint64_t)l->ihcount + more) * 2;
	uint32_t cap = l->ihcap ? l->ihcap : 64;

	if (need <= l->ihcap)
		return 0;
	while (cap < need)
		cap *= 2;
	uint32_t *tab = calloc(cap, sizeof(*tab));

	if (!tab)
		return -ENOMEM;
	for (uint32_t i = 0; i < l->ihcap; i++)
		if (l->ih[i])
			ih_put(tab, cap, &l->s[l->ih[i] - 1], l->ih[i] - 1);
	free(l->ih);
	l->ih = tab;
	l->ihcap = cap;
	return 0;
}

static void ih_insert(struct srtp_ledger *l, uint32_t slot)
{
	ih_put(l->ih, l->ihcap, &l->s[slot], slot);
	l->ihcount++;
}

/* Remove slot (which is in the hash): backward-shift deletion. */
static void ih_remove(struct srtp_ledger *l, uint32_t slot)
{
	const struct mslot *s = &l->s[slot];
	uint32_t mask = l->ihcap - 1;
	uint32_t i = (uint32_t)hash_id(s->fp, s->ssrc, s->kind) & mask;

	while (l->ih[i] != slot + 1)
		i = (i + 1) & mask;
	for (uint32_t j = (i + 1) & mask;; j = (j + 1) & mask) {
		uint32_t v = l->ih[j];

		if (!v)
			break;
		const struct mslot *o = &l->s[v - 1];
		uint32_t home = (uint32_t)hash_id(o->fp, o->ssrc, o->kind) & mask;

		/* Move v into the hole at i unless its home lies cyclically in (i, j]. */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			l->ih[i] = v;
			i = j;
		}
	}
	l->ih[i] = 0;
	l->ihcount--;
}

/* ---- key table (fp -> tombstone, lease chain) ---------------------------------------------- */

static struct keyent *kt_find(const struct srtp_ledger *l, const uint8_t *fp)
{
	if (!l->ktcap)
		return NULL;
	uint32_t mask = l->ktcap - 1;

	for (uint32_t i = (uint32_t)hash_fp(fp) & mask;; i = (i + 1) & mask) {
		struct keyent *k = &l->kt[i];

		if (!k->used)
			return NULL;
		if (!memcmp(k->fp, fp, SRTP_LEDGER_FP_LEN))
			return k;
	}
}

static struct keyent *kt_slot(struct keyent *tab, uint32_t cap, const uint8_t *fp)
{
	uint32_t mask = cap - 1;
	uint32_t i = (uint32_t)hash_fp(fp) & mask;

	while (tab[i].used && memcmp(tab[i].fp, fp, SRTP_LEDGER_FP_LEN))
		i = (i + 1) & mask;
	return &tab[i];
}

static int kt_reserve(struct srtp_ledger *l, uint32_t more)
{
	uint64_t need = ((uint64_t)l->ktcount + more) * 2;
	uint32_t cap = l->ktcap ? l->ktcap : 64;

	if (need <= l->ktcap)
		return 0;
	while (cap < need)
		cap *= 2;
	struct keyent *tab = calloc(cap, sizeof(*tab));

	if (!tab)
		return -ENOMEM;
	for (uint32_t i = 0; i < l->ktcap; i++)
		if (l->kt[i].used)
			*kt_slot(tab, cap, l->kt[i].fp) = l->kt[i];
	free(l->kt);
	l->kt = tab;
	l->ktcap = cap;
	return 0;
}

/* The entry of fp, made if missing: call kt_reserve(l, 1) first. */
static struct keyent *kt_get(struct srtp_ledger *l, const uint8_t *fp)
{
	struct keyent *k = kt_slot(l->kt, l->ktcap, fp);

	if (!k->used) {
		memcpy(k->fp, fp, SRTP_LEDGER_FP_LEN);
		k->tomb = NONE;
		k->head = NONE;
		k->used = 1;
		l->ktcount++;
	}
	return k;
}

/* ---- slots ---------------------------------------------------------------------------------- */

/* Make room in the arrays for cap slots. 0 or -ENOMEM (arrays unchanged or merely larger). */
static int slots_reserve(struct srtp_ledger *l, uint32_t cap)
{
	if (cap <= l->scap)
		return 0;
	struct mslot *s = realloc(l->s, (size_t)cap * sizeof(*s));

	if (!s)
		return -ENOMEM;
	l->s = s;
	uint32_t *d = realloc(l->dirty, (size_t)cap * sizeof(*d));

	if (!d)
		return -ENOMEM;
	l->dirty = d;
	uint32_t *m = realloc(l->mirror, (size_t)cap * sizeof(*m));

	if (!m)
		return -ENOMEM;
	l->mirror = m;
	l->scap = cap;
	return 0;
}

/* Extend the file by a chunk of free slots. 0, -ENOSPC, -ENOMEM; nothing changes on error. */
static int grow(struct srtp_ledger *l)
{
	uint32_t n = l->nslots / 8 > GROW_MIN ? l->nslots / 8 : GROW_MIN;

	if (l->nslots >= MAX_SLOTS)
		return -ENOSPC;
	if (n > MAX_SLOTS - l->nslots)
		n = MAX_SLOTS - l->nslots;
	int r = slots_reserve(l, l->nslots + n);

	if (r)
		return r;
	if (posix_fallocate(l->fd, (off_t)HDR_LEN + (off_t)l->nslots * SLOT_LEN, (off_t)n * SLOT_LEN))
		return -ENOSPC;
	memset(&l->s[l->nslots], 0, (size_t)n * sizeof(*l->s));
	for (uint32_t i = l->nslots + n; i-- > l->nslots;) {
		l->s[i].next = l->free_head;
		l->free_head = i;
	}
	l->nslots += n;
	l->grown = 1;
	return 0;
}

/* A free slot (growing the file if none), taken off the free list; NONE with *err set. */
static uint32_t alloc_slot(struct srtp_ledger *l, int *err)
{
	if (l->free_head == NONE) {
		*err = grow(l);
		if (*err)
			return NONE;
	}
	uint32_t i = l->free_head;

	l->free_head = l->s[i].next;
	l->s[i].owned = 0;   /* neither copy holds the new record yet */
	return i;
}

static void mark_dirty(struct srtp_ledger *l, uint32_t i)
{
	if (!l->s[i].dirty) {
		l->s[i].dirty = 1;
		l->dirty[l->ndirty++] = i;
	}
}

/* ---- copies on disk -------------------------------------------------------------------------- */

static void encode_copy(const struct mslot *s, uint32_t slot, uint32_t gen, uint8_t c[COPY_LEN])
{
	uint8_t crcbuf[8 + 28];

	memcpy(c, s->fp, SRTP_LEDGER_FP_LEN);
	put32(c + 12, s->ssrc);
	put64(c + 16, s->limit | (uint64_t)s->kind << 56);
	put32(c + 24, gen);
	put64(crcbuf, slot);
	memcpy(crcbuf + 8, c, 28);
	put32(c + 28, crc32c(0, crcbuf, sizeof(crcbuf)));
}

enum copy_class { C_BAD, C_ZERO, C_VALID };

static enum copy_class decode_copy(const uint8_t c[COPY_LEN], uint32_t slot, struct mslot *out)
{
	static const uint8_t zero[COPY_LEN];
	uint8_t crcbuf[8 + 28];

	if (!memcmp(c, zero, COPY_LEN))
		return C_ZERO;
	put64(crcbuf, slot);
	memcpy(crcbuf + 8, c, 28);
	if (crc32c(0, crcbuf, sizeof(crcbuf)) != get32(c + 28))
		return C_BAD;
	uint64_t w = get64(c + 16);
	uint64_t limit = w & ((1ULL << 49) - 1);
	uint8_t kind = (uint8_t)(w >> 56);
	uint32_t ssrc = get32(c + 12), gen = get32(c + 24);

	if (gen == 0 || (w >> 49 & 0x7f) || limit > SRTP_LEDGER_LIMIT_MAX || kind < 1 || kind > KIND_TOMB)
		return C_BAD;
	if (kind == KIND_TOMB && (ssrc || limit))
		return C_BAD;
	memcpy(out->fp, c, SRTP_LEDGER_FP_LEN);
	out->ssrc = ssrc;
	out->limit = limit;
	out->kind = kind;
	out->gen = gen;
	return C_VALID;
}

/* a newer than b in serial-number order */
static int gen_newer(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

/* Decode slot i from its 64 bytes into l->s[i]: state ST_LEASE / ST_TOMB / ST_FREE. -EBADMSG if
 * both copies are damaged. */
static int decode_slot(struct srtp_ledger *l, uint32_t i, const uint8_t *b)
{
	struct mslot c[2];
	enum copy_class k0, k1;
	struct mslot *s = &l->s[i];

	memset(c, 0, sizeof(c));
	k0 = decode_copy(b, i, &c[0]);
	k1 = decode_copy(b + COPY_LEN, i, &c[1]);
	memset(s, 0, sizeof(*s));
	s->next = NONE;
	if (k0 != C_VALID && k1 != C_VALID) {
		if (k0 == C_BAD && k1 == C_BAD)
			return -EBADMSG;
		s->state = ST_FREE;
		s->target = k0 == C_BAD ? 0 : k1 == C_BAD ? 1 : 0;
		return 0;
	}
	int n;   /* copy with the newest valid record */

	if (k0 == C_VALID && k1 == C_VALID)
		n = gen_newer(c[1].gen, c[0].gen) ? 1 : 0;
	else
		n = k0 == C_VALID ? 0 : 1;
	*s = c[n];
	s->next = NONE;
	s->target = (uint8_t)(1 - n);
	s->owned = (uint8_t)(1u << n);
	if (k0 == C_VALID && k1 == C_VALID && slot_is(&c[1 - n], s->fp, s->ssrc, s->kind))
		s->owned = 3;
	s->state = s->kind == KIND_TOMB ? ST_TOMB : ST_LEASE;
	return 0;
}

/* ---- errors -------------------------------------------------------------------------------- */

static void __attribute__((format(printf, 4, 5)))
set_err(char *err, size_t errlen, int errnum, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	errno = errnum;
}

/* ---- open / create --------------------------------------------------------------------------- */

static int pwrite_all(int fd, const void *buf, size_t n, off_t off)
{
	const uint8_t *p = buf;

	while (n) {
		ssize_t w = pwrite(fd, p, n, off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (w == 0)
			return -EIO;
		p += w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}

static int pread_all(int fd, void *buf, size_t n, off_t off)
{
	uint8_t *p = buf;

	while (n) {
		ssize_t r = pread(fd, p, n, off);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EIO;   /* the file shrank under us */
		p += r;
		n -= (size_t)r;
		off += r;
	}
	return 0;
}

static int fsync_dir_of(const char *path)
{
	char *dir = strdup(path);
	int r = 0;

	if (!dir)
		return -ENOMEM;
	char *slash = strrchr(dir, '/');
	const char *d = dir;

	if (!slash)
		d = ".";
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fsync(fd))
		r = -errno;
	if (fd >= 0)
		close(fd);
	free(dir);
	return r;
}

/*
 * Make a new ledger at path: a complete, synced file under a temporary name, linked to path (link
 * fails if path exists: someone else made it first -> -EEXIST). On success *fdp is the new file,
 * already locked, and id its identity.
 */
static int create_file(const char *path, int *fdp, uint8_t id[SRTP_LEDGER_ID_LEN], char *err,
		       size_t errlen)
{
	size_t n = strlen(path) + sizeof(".new-XXXXXX");
	char *tmp = malloc(n);
	uint8_t h[HDR_LEN];
	int fd, r;

	if (!tmp)
		return -ENOMEM;
	snprintf(tmp, n, "%s.new-XXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		set_err(err, errlen, -r, "srtp ledger %s: cannot create: %s", path, strerror(-r));
		free(tmp);
		return r;
	}
	if (fchmod(fd, 0600) || flock(fd, LOCK_EX | LOCK_NB)) {
		r = -errno;
		goto fail;
	}
	if (RAND_bytes(id, SRTP_LEDGER_ID_LEN) != 1) {
		r = -EIO;
		set_err(err, errlen, EIO, "srtp ledger %s: RAND_bytes failed", path);
		goto out;
	}
	memset(h, 0, sizeof(h));
	memcpy(h, MAGIC, 8);
	put32(h + 8, VERSION);
	put32(h + 12, SLOT_LEN);
	memcpy(h + 16, id, SRTP_LEDGER_ID_LEN);
	put32(h + 60, crc32c(0, h, 60));
	r = pwrite_all(fd, h, sizeof(h), 0);
	if (r)
		goto fail;
	if (fsync(fd)) {
		r = -errno;
		goto fail;
	}
	if (link(tmp, path)) {
		r = -errno;
		if (r == -EEXIST)
			goto out;
		goto fail;
	}
	unlink(tmp);
	r = fsync_dir_of(path);
	if (r) {
		set_err(err, errlen, -r, "srtp ledger %s: cannot fsync its directory: %s", path,
			strerror(-r));
		close(fd);
		free(tmp);
		return r;
	}
	*fdp = fd;
	free(tmp);
	return 0;
fail:
	set_err(err, errlen, -r, "srtp ledger %s: cannot create: %s", path, strerror(-r));
out:
	unlink(tmp);
	close(fd);
	free(tmp);
	errno = -r;
	return r;
}

static int check_header(const uint8_t *h, uint8_t id[SRTP_LEDGER_ID_LEN])
{
	if (memcmp(h, MAGIC, 8) || get32(h + 8) != VERSION || get32(h + 12) != SLOT_LEN ||
	    get32(h + 60) != crc32c(0, h, 60))
		return -EBADMSG;
	for (int i = 32; i < 60; i++)
		if (h[i])
			return -EBADMSG;
	memcpy(id, h + 16, SRTP_LEDGER_ID_LEN);
	return 0;
}

/* Read and index every slot of the file (size bytes). */
static int load(struct srtp_ledger *l, const char *path, off_t size, char *err, size_t errlen)
{
	uint8_t h[HDR_LEN];
	int r;

	if (size < HDR_LEN) {
		set_err(err, errlen, EBADMSG, "srtp ledger %s: bad header (file too short)", path);
		return -EBADMSG;
	}
	r = pread_all(l->fd, h, sizeof(h), 0);
	if (r) {
		set_err(err, errlen, -r, "srtp ledger %s: read error: %s", path, strerror(-r));
		return r;
	}
	if (check_header(h, l->id)) {
		set_err(err, errlen, EBADMSG, "srtp ledger %s: bad header (not an mmr srtp ledger v%d)",
			path, VERSION);
		return -EBADMSG;
	}
	if ((size - HDR_LEN) % SLOT_LEN || (size - HDR_LEN) / SLOT_LEN > MAX_SLOTS) {
		set_err(err, errlen, EBADMSG,
			"srtp ledger %s: bad size %lld (not a header and whole 64-byte slots)", path,
			(long long)size);
		return -EBADMSG;
	}
	uint32_t n = (uint32_t)((size - HDR_LEN) / SLOT_LEN);

	if (slots_reserve(l, n ? n : 1))
		goto nomem;
	l->nslots = n;

	uint8_t *buf = malloc((size_t)READ_SLOTS * SLOT_LEN);
	uint32_t leases = 0, tombs = 0;

	if (!buf)
		goto nomem;
	for (uint32_t base = 0; base < n; base += READ_SLOTS) {
		uint32_t cnt = n - base < READ_SLOTS ? n - base : READ_SLOTS;

		r = pread_all(l->fd, buf, (size_t)cnt * SLOT_LEN, HDR_LEN + (off_t)base * SLOT_LEN);
		if (r) {
			free(buf);
			set_err(err, errlen, -r, "srtp ledger %s: read error: %s", path, strerror(-r));
			return r;
		}
		for (uint32_t j = 0; j < cnt; j++) {
			uint32_t i = base + j;

			if (decode_slot(l, i, buf + (size_t)j * SLOT_LEN)) {
				free(buf);
				set_err(err, errlen, EBADMSG,
					"srtp ledger %s: slot %u is corrupt (both copies damaged): the ledger can "
					"no longer prove which SRTP packet indexes were used; move this file away: "
					"the controller then rekeys every SRTP participant (new master keys) before "
					"the new ledger is used", path, i);
				return -EBADMSG;
			}
			leases += l->s[i].state == ST_LEASE;
			tombs += l->s[i].state == ST_TOMB;
		}
	}
	free(buf);
	/* Both tables sized once: no rehash while loading. */
	if (ih_reserve(l, leases) || kt_reserve(l, leases + tombs))
		goto nomem;
	for (uint32_t i = 0; i < n; i++) {
		struct mslot *s = &l->s[i];

		if (s->state != ST_TOMB)
			continue;
		struct keyent *k = kt_get(l, s->fp);

		if (k->tomb == NONE) {
			k->tomb = i;
			l->retired++;
		} else {
			s->state = ST_FREE;   /* a second tombstone of one key */
		}
	}
	for (uint32_t i = 0; i < n; i++) {
		struct mslot *s = &l->s[i];

		if (s->state != ST_LEASE)
			continue;
		struct keyent *k = kt_get(l, s->fp);

		if (k->tomb != NONE) {
			s->state = ST_FREE;   /* a lease of a retired key: reusable */
			continue;
		}
		/* find or insert in one probe sequence */
		uint32_t mask = l->ihcap - 1, h = (uint32_t)hash_id(s->fp, s->ssrc, s->kind) & mask, o;

		while ((o = l->ih[h]) && !slot_is(&l->s[o - 1], s->fp, s->ssrc, s->kind))
			h = (h + 1) & mask;
		if (o) {
			o--;
			/* Two records of one id: keep the higher limit, free the other slot. */
			if (l->s[o].limit >= s->limit) {
				s->state = ST_FREE;
				continue;
			}
			/* s has the higher limit: o takes it and is written at the next sync; s may be
			 * overwritten only once that sync succeeded (limbo). */
			l->s[o].limit = s->limit;
			mark_dirty(l, o);
			s->state = ST_LIMBO;
			s->next = l->limbo_head;
			l->limbo_head = i;
			continue;
		}
		l->ih[h] = i + 1;
		l->ihcount++;
		s->next = k->head;
		k->head = i;
		l->records++;
	}
	for (uint32_t i = n; i-- > 0;) {
		struct mslot *s = &l->s[i];

		if (s->state == ST_FREE) {
			s->next = l->free_head;
			l->free_head = i;
		} else if ((s->state == ST_LEASE || s->state == ST_TOMB) && s->owned != 3 && !s->dirty) {
			s->mirror = 1;   /* written once only (a crash came before its mirror) */
			l->mirror[l->nmirror++] = i;
		}
	}
	return 0;
nomem:
	set_err(err, errlen, ENOMEM, "srtp ledger %s: out of memory", path);
	return -ENOMEM;
}

/* ---- public ---------------------------------------------------------------------------------- */

void srtp_ledger_fingerprint(const struct srtp_master *m, uint8_t fp[SRTP_LEDGER_FP_LEN])
{
	uint8_t buf[sizeof(fp_label) - 1 + 1 + SRTP_MAX_KEY + SRTP_MAX_SALT];
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t kl = m->key_len < SRTP_MAX_KEY ? m->key_len : SRTP_MAX_KEY;
	size_t sl = m->salt_len < SRTP_MAX_SALT ? m->salt_len : SRTP_MAX_SALT;
	size_t n = 0;

	memcpy(buf, fp_label, sizeof(fp_label) - 1);
	n += sizeof(fp_label) - 1;
	buf[n++] = m->suite;
	memcpy(buf + n, m->key, kl);
	n += kl;
	memcpy(buf + n, m->salt, sl);
	n += sl;
	int ok = EVP_Digest(buf, n, md, &mdlen, EVP_sha256(), NULL);

	OPENSSL_cleanse(buf, sizeof(buf));
	if (!ok || mdlen < SRTP_LEDGER_FP_LEN)
		abort();   /* no SHA-256: nothing about keys can be recorded safely */
	memcpy(fp, md, SRTP_LEDGER_FP_LEN);
	OPENSSL_cleanse(md, sizeof(md));
}

struct srtp_ledger *srtp_ledger_open(const char *path, char *err, size_t errlen)
{
	struct srtp_ledger *l;
	struct stat st;
	int created = 0, r;

	if (err && errlen)
		err[0] = '\0';
	if (!path || !*path) {
		set_err(err, errlen, EINVAL, "srtp ledger: no path");
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		set_err(err, errlen, ENOMEM, "srtp ledger %s: out of memory", path);
		return NULL;
	}
	l->fd = -1;
	l->free_head = NONE;
	l->limbo_head = NONE;
	for (int tries = 0;; tries++) {
		l->fd = open(path, O_RDWR | O_CLOEXEC);
		if (l->fd >= 0)
			break;
		if (errno != ENOENT || tries >= 3) {
			r = errno;
			set_err(err, errlen, r, "srtp ledger %s: cannot open: %s", path, strerror(r));
			goto fail;
		}
		r = create_file(path, &l->fd, l->id, err, errlen);
		if (r == 0) {
			created = 1;
			break;
		}
		if (r != -EEXIST)
			goto fail;   /* err and errno set */
		/* made by someone else meanwhile: open theirs */
	}
	if (!created && flock(l->fd, LOCK_EX | LOCK_NB)) {
		r = errno;
		if (r == EWOULDBLOCK)
			set_err(err, errlen, r, "srtp ledger %s is in use by another process", path);
		else
			set_err(err, errlen, r, "srtp ledger %s: cannot lock: %s", path, strerror(r));
		goto fail;
	}
	if (fstat(l->fd, &st)) {
		r = errno;
		set_err(err, errlen, r, "srtp ledger %s: fstat: %s", path, strerror(r));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		set_err(err, errlen, EINVAL, "srtp ledger %s: not a regular file", path);
		goto fail;
	}
	r = load(l, path, st.st_size, err, errlen);
	if (r) {
		errno = -r;
		goto fail;
	}
	return l;
fail:
	r = errno;
	srtp_ledger_close(l);
	errno = r;
	return NULL;
}

void srtp_ledger_close(struct srtp_ledger *l)
{
	if (!l)
		return;
	if (l->fd >= 0)
		close(l->fd);
	free(l->s);
	free(l->dirty);
	free(l->mirror);
	free(l->ih);
	free(l->kt);
	free(l);
}

const uint8_t *srtp_ledger_id(const struct srtp_ledger *l)
{
	return l->id;
}

int srtp_ledger_is_retired(const struct srtp_ledger *l, const uint8_t fp[SRTP_LEDGER_FP_LEN])
{
	const struct keyent *k;

	if (!l || !fp)
		return 0;
	k = kt_find(l, fp);
	return k && k->tomb != NONE;
}

int srtp_ledger_lookup(const struct srtp_ledger *l, const struct srtp_lease_id *id, uint64_t *limit)
{
	if (!l || !id || !limit)
		return -EINVAL;
	*limit = 0;
	if (srtp_ledger_is_retired(l, id->fp))
		return -EPERM;
	uint32_t i = ih_find(l, id->fp, id->ssrc, id->kind);

	if (i != NONE)
		*limit = l->s[i].limit;
	return 0;
}

static int set_limit(struct srtp_ledger *l, const struct srtp_lease_id *id, uint64_t limit, int lower);

int srtp_ledger_raise(struct srtp_ledger *l, const struct srtp_lease_id *id, uint64_t limit)
{
	return set_limit(l, id, limit, 0);
}

int srtp_ledger_set(struct srtp_ledger *l, const struct srtp_lease_id *id, uint64_t limit)
{
	return set_limit(l, id, limit, 1);
}

static int set_limit(struct srtp_ledger *l, const struct srtp_lease_id *id, uint64_t limit, int lower)
{
	int r;

	if (!l || !id || id->kind < SRTP_LEASE_OUT_RTP || id->kind > SRTP_LEASE_IN_RTCP ||
	    limit > SRTP_LEDGER_LIMIT_MAX)
		return -EINVAL;
	if (srtp_ledger_is_retired(l, id->fp))
		return -EPERM;
	uint32_t i = ih_find(l, id->fp, id->ssrc, id->kind);

	if (i != NONE) {
		if (limit > l->s[i].limit || (lower && limit != l->s[i].limit)) {
			l->s[i].limit = limit;
			mark_dirty(l, i);
		}
		return 0;
	}
	if (limit == 0)
		return 0;
	r = ih_reserve(l, 1);
	if (!r)
		r = kt_reserve(l, 1);
	if (r)
		return r;
	i = alloc_slot(l, &r);
	if (i == NONE)
		return r;

	struct mslot *s = &l->s[i];
	struct keyent *k = kt_get(l, id->fp);

	memcpy(s->fp, id->fp, SRTP_LEDGER_FP_LEN);
	s->ssrc = id->ssrc;
	s->kind = id->kind;
	s->limit = limit;
	s->state = ST_LEASE;
	ih_insert(l, i);
	s->next = k->head;
	k->head = i;
	l->records++;
	mark_dirty(l, i);
	return 0;
}

int srtp_ledger_retire(struct srtp_ledger *l, const uint8_t fp[SRTP_LEDGER_FP_LEN])
{
	int r;

	if (!l || !fp)
		return -EINVAL;
	if (srtp_ledger_is_retired(l, fp))
		return 0;
	r = kt_reserve(l, 1);
	if (r)
		return r;
	uint32_t t = alloc_slot(l, &r);

	if (t == NONE)
		return r;

	struct mslot *s = &l->s[t];
	struct keyent *k = kt_get(l, fp);

	memcpy(s->fp, fp, SRTP_LEDGER_FP_LEN);
	s->ssrc = 0;
	s->kind = KIND_TOMB;
	s->limit = 0;
	s->state = ST_TOMB;
	mark_dirty(l, t);
	k->tomb = t;
	l->retired++;
	/* The key's leases leave the index; their slots wait until the tombstone is durable. */
	for (uint32_t i = k->head, next; i != NONE; i = next) {
		next = l->s[i].next;
		ih_remove(l, i);
		l->s[i].state = ST_LIMBO;
		l->s[i].next = l->limbo_head;
		l->limbo_head = i;
		l->records--;
	}
	k->head = NONE;
	return 0;
}

/* Write slot i's record to its target copy with the next generation. */
static int write_slot(struct srtp_ledger *l, uint32_t i)
{
	struct mslot *s = &l->s[i];
	uint8_t c[COPY_LEN];
	uint32_t gen = s->gen + 1 ? s->gen + 1 : 1;

	encode_copy(s, i, gen, c);
	s->written = 1;
	return pwrite_all(l->fd, c, sizeof(c),
			  (off_t)HDR_LEN + (off_t)i * SLOT_LEN + (off_t)s->target * COPY_LEN);
}

/* After a durable write of slot i: it is now the newest copy; the next write goes to the other. */
static void commit_slot(struct srtp_ledger *l, uint32_t i)
{
	struct mslot *s = &l->s[i];

	s->gen = s->gen + 1 ? s->gen + 1 : 1;
	s->owned |= (uint8_t)(1u << s->target);
	s->target ^= 1;
	s->written = 0;
}

static int live(const struct mslot *s)
{
	return s->state == ST_LEASE || s->state == ST_TOMB;
}

int srtp_ledger_sync(struct srtp_ledger *l)
{
	int r = 0;

	if (!l)
		return -EINVAL;
	if (!l->ndirty)
		return 0;
	for (uint32_t j = 0; j < l->ndirty && !r; j++)
		if (live(&l->s[l->dirty[j]]))
			r = write_slot(l, l->dirty[j]);
	for (uint32_t j = 0; j < l->nmirror && !r; j++) {
		const struct mslot *s = &l->s[l->mirror[j]];

		if (s->mirror && live(s) && !s->dirty && s->owned != 3)
			r = write_slot(l, l->mirror[j]);
	}
	if (!r && (l->grown ? fsync(l->fd) : fdatasync(l->fd)))
		r = -errno;
	if (r) {
		for (uint32_t j = 0; j < l->ndirty; j++)
			l->s[l->dirty[j]].written = 0;
		for (uint32_t j = 0; j < l->nmirror; j++)
			l->s[l->mirror[j]].written = 0;
		l->sync_errors++;
		return r;
	}
	for (uint32_t j = 0; j < l->nmirror; j++) {
		struct mslot *s = &l->s[l->mirror[j]];

		if (s->written)
			commit_slot(l, l->mirror[j]);
		s->mirror = 0;
	}
	l->nmirror = 0;
	for (uint32_t j = 0; j < l->ndirty; j++) {
		uint32_t i = l->dirty[j];
		struct mslot *s = &l->s[i];

		if (s->written)
			commit_slot(l, i);
		s->dirty = 0;
		if (live(s) && s->owned != 3) {
			s->mirror = 1;
			l->mirror[l->nmirror++] = i;
		}
	}
	l->ndirty = 0;
	/* Every tombstone is durable now: the retired keys' lease slots may be overwritten. */
	for (uint32_t i = l->limbo_head, next; i != NONE; i = next) {
		next = l->s[i].next;
		l->s[i].state = ST_FREE;
		l->s[i].next = l->free_head;
		l->free_head = i;
	}
	l->limbo_head = NONE;
	l->grown = 0;
	l->syncs++;
	return 0;
}

int srtp_ledger_pending(const struct srtp_ledger *l)
{
	return l && l->ndirty > 0;
}

void srtp_ledger_get_stats(const struct srtp_ledger *l, struct srtp_ledger_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!l)
		return;
	st->records = l->records;
	st->retired = l->retired;
	st->slots = l->nslots;
	st->syncs = l->syncs;
	st->sync_errors = l->sync_errors;
}
