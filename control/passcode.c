/*
 * passcode.c - meeting passcodes, salted SHA-256, their file (see passcode.h).
 */
#define _GNU_SOURCE
#include "passcode.h"

#include <errno.h>
#include <libgen.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file_atomic.h"
#include "hex.h"
#include "log.h"
#include "outbuf.h"
#include "values.h"

struct entry {
	char name[64];
	uint8_t salt[PASSCODE_SALT_LEN];
	uint8_t hash[PASSCODE_HASH_LEN];
};

static struct entry *tab;
static unsigned n_tab;
static char path[1100];

int passcode_valid(const char *code, char *err, size_t errlen)
{
	size_t n = strlen(code);
	if (n < PASSCODE_MIN || n > PASSCODE_MAX) {
		snprintf(err, errlen, "a passcode is %d-%d characters (printable ASCII, no spaces), not %zu", PASSCODE_MIN,
			 PASSCODE_MAX, n);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)code[i] <= 0x20 || (unsigned char)code[i] >= 0x7f) {
			snprintf(err, errlen, "a passcode is printable ASCII without spaces (character %zu is not)", i + 1);
			return -1;
		}
	return 0;
}

int passcode_hash(const uint8_t salt[PASSCODE_SALT_LEN], const char *code, size_t len, uint8_t out[PASSCODE_HASH_LEN])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned ol = 0;
	int ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
		 EVP_DigestUpdate(c, salt, PASSCODE_SALT_LEN) == 1 && EVP_DigestUpdate(c, code, len) == 1 &&
		 EVP_DigestFinal_ex(c, out, &ol) == 1 && ol == PASSCODE_HASH_LEN;
	EVP_MD_CTX_free(c);
	return ok ? 0 : -1;
}

bool passcode_equal(const uint8_t a[PASSCODE_HASH_LEN], const uint8_t b[PASSCODE_HASH_LEN])
{
	return CRYPTO_memcmp(a, b, PASSCODE_HASH_LEN) == 0;
}

static struct entry *find(const char *meeting)
{
	for (unsigned i = 0; i < n_tab; i++)
		if (strcmp(tab[i].name, meeting) == 0)
			return &tab[i];
	return NULL;
}

/* Write the whole table to path (file_write_atomic: owner-only, durable), the buffer wiped after. 0 or
 * -1 with err. */
static int save(char *err, size_t errlen)
{
	struct outbuf b;
	ob_init(&b);
	for (unsigned i = 0; i < n_tab; i++) {
		char s[2 * PASSCODE_SALT_LEN + 1], h[2 * PASSCODE_HASH_LEN + 1];
		ob_printf(&b, "%s %s %s\n", tab[i].name, mmr_hex_encode(tab[i].salt, PASSCODE_SALT_LEN, s),
			  mmr_hex_encode(tab[i].hash, PASSCODE_HASH_LEN, h));
	}
	char why[400];
	int rc = b.oom ? -1 : file_write_atomic(path, b.p ? b.p : "", b.len, why, sizeof(why));
	if (rc < 0)
		snprintf(err, errlen, "cannot save the passcodes: %s", b.oom ? "out of memory" : why);
	if (b.p)
		explicit_bzero(b.p, b.len);
	ob_free(&b);
	return rc;
}

int passcode_load(const char *dir_of, bool (*keep)(const char *name, void *arg), void *arg, char *err, size_t errlen)
{
	passcode_reset();
	char d[1024];
	snprintf(d, sizeof(d), "%s", dir_of);
	snprintf(path, sizeof(path), "%s/%s", dirname(d), PASSCODE_FILE_NAME);
	tab = calloc(PASSCODE_MAX_MEETINGS, sizeof(*tab));
	if (!tab) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	FILE *f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char line[512];
	unsigned lineno = 0;
	bool dropped = false;
	int rc = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		char name[64], s[80], h[80];
		struct entry e;
		if (sscanf(line, "%63s %79s %79s", name, s, h) != 3 || !val_name_ok(name) ||
		    mmr_hex_decode(s, e.salt, PASSCODE_SALT_LEN) < 0 || mmr_hex_decode(h, e.hash, PASSCODE_HASH_LEN) < 0) {
			snprintf(err, errlen, "%s:%u: not MEETING SALT HASH (a meeting name, lower-case hex)", path, lineno);
			rc = -1;
			break;
		}
		if (find(name)) {
			snprintf(err, errlen, "%s:%u: meeting '%s' a second time", path, lineno, name);
			rc = -1;
			break;
		}
		if (n_tab == PASSCODE_MAX_MEETINGS) {
			snprintf(err, errlen, "%s:%u: more than %d meetings", path, lineno, PASSCODE_MAX_MEETINGS);
			rc = -1;
			break;
		}
		if (keep && !keep(name, arg)) {
			dropped = true;
			continue;
		}
		snprintf(e.name, sizeof(e.name), "%s", name);
		tab[n_tab++] = e;
	}
	fclose(f);
	explicit_bzero(line, sizeof(line));
	/* the entries of meetings that are gone: dropped here, and from the file when it can be written
	 * (a full or read-only disk keeps the stale lines until the next change; they match nothing) */
	char why[400];
	if (rc == 0 && dropped && save(why, sizeof(why)) < 0)
		ctl_log("passcodes: %s (entries of ended meetings stay in the file until the next change)", why);
	return rc;
}

/* Put n in place of e (NULL: a new entry) and save the table; on a failed save the table is as it
 * was. 0 or -1 (err). */
static int install(struct entry *e, const struct entry *n, char *err, size_t errlen)
{
	struct entry old = e ? *e : (struct entry){ 0 };
	bool added = !e;
	if (added)
		e = &tab[n_tab++];
	*e = *n;
	if (save(err, errlen) < 0) {
		if (added)
			n_tab--;
		else
			*e = old;
		return -1;
	}
	return 0;
}

int passcode_set(const char *meeting, const char *code, char *err, size_t errlen)
{
	if (!tab) {
		snprintf(err, errlen, "passcodes are not loaded");
		return -1;
	}
	struct entry *e = find(meeting);
	struct entry old = { 0 };
	if (e)
		old = *e;
	if (!code) {
		if (!e)
			return 0;
		*e = tab[--n_tab];
		if (save(err, errlen) < 0) {
			tab[n_tab++] = old;   /* (order differs; nothing else does) */
			return -1;
		}
		return 0;
	}
	if (passcode_valid(code, err, errlen) < 0)
		return -1;
	if (!e && n_tab == PASSCODE_MAX_MEETINGS) {
		snprintf(err, errlen, "too many meetings with a passcode (the limit is %d)", PASSCODE_MAX_MEETINGS);
		return -1;
	}
	struct entry n = { 0 };
	snprintf(n.name, sizeof(n.name), "%s", meeting);
	if (RAND_bytes(n.salt, PASSCODE_SALT_LEN) != 1 || passcode_hash(n.salt, code, strlen(code), n.hash) < 0) {
		snprintf(err, errlen, "the random generator failed; nothing changed");
		return -1;
	}
	return install(e, &n, err, errlen);
}

bool passcode_get_hashed(const char *meeting, uint8_t salt[PASSCODE_SALT_LEN], uint8_t hash[PASSCODE_HASH_LEN])
{
	struct entry *e = tab ? find(meeting) : NULL;
	if (!e)
		return false;
	memcpy(salt, e->salt, PASSCODE_SALT_LEN);
	memcpy(hash, e->hash, PASSCODE_HASH_LEN);
	return true;
}

int passcode_set_hashed(const char *meeting, const uint8_t salt[PASSCODE_SALT_LEN],
			const uint8_t hash[PASSCODE_HASH_LEN], char *err, size_t errlen)
{
	if (!tab) {
		snprintf(err, errlen, "passcodes are not loaded");
		return -1;
	}
	struct entry *e = find(meeting);
	if (e && memcmp(e->salt, salt, PASSCODE_SALT_LEN) == 0 && passcode_equal(e->hash, hash))
		return 0;
	if (!e && n_tab == PASSCODE_MAX_MEETINGS) {
		snprintf(err, errlen, "too many meetings with a passcode (the limit is %d)", PASSCODE_MAX_MEETINGS);
		return -1;
	}
	struct entry n = { 0 };
	snprintf(n.name, sizeof(n.name), "%s", meeting);
	memcpy(n.salt, salt, PASSCODE_SALT_LEN);
	memcpy(n.hash, hash, PASSCODE_HASH_LEN);
	return install(e, &n, err, errlen);
}

bool passcode_required(const char *meeting)
{
	return tab && find(meeting) != NULL;
}

bool passcode_check(const char *meeting, const char *code, size_t len)
{
	struct entry *e = tab ? find(meeting) : NULL;
	if (!e)
		return false;
	uint8_t h[PASSCODE_HASH_LEN];
	/* a missing or over-long code is hashed too (as the empty string): the same work either way */
	bool usable = code && len <= PASSCODE_MAX;
	if (passcode_hash(e->salt, usable ? code : "", usable ? len : 0, h) < 0)
		return false;
	bool ok = passcode_equal(h, e->hash) && usable;
	explicit_bzero(h, sizeof(h));
	return ok;
}

void passcode_reset(void)
{
	if (tab)
		explicit_bzero(tab, PASSCODE_MAX_MEETINGS * sizeof(*tab));
	free(tab);
	tab = NULL;
	n_tab = 0;
}
