/*
 * file_atomic.c - replacing a file so that it is either the old or the new one, whole and durable,
 * owner-only (see file_atomic.h): the state file, the journal's base, the passcodes.
 */
#define _GNU_SOURCE
#include "file_atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int file_write_atomic(const char *path, const char *data, size_t len, char *err, size_t errlen)
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
