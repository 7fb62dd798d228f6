/*
 * static_files.c - the demo page's files (see static_files.h).
 */
#define _GNU_SOURCE
#include "static_files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

bool static_files_url(const char *url)
{
	return strcmp(url, "/demo") == 0 || strncmp(url, "/demo/", 6) == 0;
}

static const char *content_type(const char *name)
{
	static const struct { const char *ext, *type; } types[] = {
		{ ".html", "text/html; charset=utf-8" }, { ".js", "text/javascript; charset=utf-8" },
		{ ".mjs", "text/javascript; charset=utf-8" }, { ".css", "text/css; charset=utf-8" },
		{ ".json", "application/json" }, { ".svg", "image/svg+xml" }, { ".png", "image/png" },
		{ ".ico", "image/x-icon" }, { ".txt", "text/plain; charset=utf-8" },
	};
	const char *dot = strrchr(name, '.');
	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

static bool name_ok(const char *n)
{
	if (!*n || *n == '.' || strlen(n) > 128)
		return false;
	for (; *n; n++)
		if (!((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') || (*n >= '0' && *n <= '9') || *n == '.' ||
		      *n == '_' || *n == '-'))
			return false;
	return true;
}

enum MHD_Result static_files_serve(struct http_req *r, const char *dir, const char *url, const char *method)
{
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		static const struct http_hdr allow[] = { { "Allow", "GET, HEAD" }, { NULL, NULL } };
		return http_reply(r, 405, "text/plain", "only GET and HEAD\n", 18, allow);
	}
	const char *name = strcmp(url, "/demo") == 0 || strcmp(url, "/demo/") == 0 ? "demo.html" : url + 6;
	if (!dir[0])
		return http_reply_error(r, 404, "no demo page here (config demo_dir)");
	if (!name_ok(name))
		return http_reply_error(r, 404, "no such file under /demo");
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		/* the server's path is for its log, not for an unauthenticated client */
		ctl_log("http %s: /demo: demo_dir %s: %s", r->who, dir, strerror(errno));
		return http_reply_error(r, 404, "no demo page here");
	}
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	close(dfd);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)STATIC_MAX_FILE) {
		if (fd >= 0)
			close(fd);
		return http_reply_error(r, 404, "no such file under /demo");
	}
	size_t len = (size_t)st.st_size, got = 0;
	char *buf = malloc(len + 1);
	while (buf && got < len) {
		ssize_t n = read(fd, buf + got, len - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (!buf || got != len) {
		free(buf);
		return http_reply_error(r, 500, "cannot read the file");
	}
	/* no-referrer: the page takes its token from its URL (?token=), which must not leak onward */
	static const struct http_hdr hdrs[] = { { "X-Content-Type-Options", "nosniff" },
						 { "Referrer-Policy", "no-referrer" }, { NULL, NULL } };
	enum MHD_Result rc = http_reply(r, 200, content_type(name), buf, len, hdrs);
	free(buf);
	return rc;
}
