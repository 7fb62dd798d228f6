/*
 * mmrctl.c - the command-line client of mmr-controller.
 *
 *   mmrctl [-S SOCKET] [--json] COMMAND ...
 *
 * Sends the command line (everything but -S) to the controller's Unix socket as one request
 * (lib/contract/ctl_proto.h) and prints the reply: the body on stdout, an error line on stderr. Exit 0 on
 * success, 1 when the controller reports an error, 2 when it cannot be reached or breaks off.
 * The controller does all parsing and validation, so this program knows no command but help.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_proto.h"

#define REPLY_TIMEOUT_MS 120000    /* no byte for this long: the controller is stuck */

static void usage(FILE *f)
{
	fprintf(f, "usage: mmrctl [-S SOCKET] [--json] COMMAND ...\n"
		   "  -S SOCKET   controller socket (default $MMR_SOCKET or %s)\n"
		   "  --json      JSON output (read commands)\n"
		   "'mmrctl help' lists the commands.\n", CTL_DEFAULT_SOCKET);
}

/* Read exactly len bytes, waiting at most REPLY_TIMEOUT_MS between bytes. */
static int read_timed(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len > 0) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int n = poll(&pfd, 1, REPLY_TIMEOUT_MS);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ETIMEDOUT;
		ssize_t r = read(fd, p, len);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EPIPE;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *sock = getenv("MMR_SOCKET");
	if (!sock || !*sock)
		sock = CTL_DEFAULT_SOCKET;

	/* our own options come first; --json is passed on to the controller wherever it stands */
	int i = 1;
	for (; i < argc; i++) {
		if (strcmp(argv[i], "-S") == 0 || strcmp(argv[i], "--socket") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "error: %s needs a socket path\n", argv[i]);
				return 1;
			}
			sock = argv[++i];
		} else if (strncmp(argv[i], "--socket=", 9) == 0) {
			sock = argv[i] + 9;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			break;
		}
	}
	int nargs = argc - i;
	bool any_command = false;
	for (int k = i; k < argc; k++)
		if (strcmp(argv[k], "--json") != 0)
			any_command = true;
	if (!any_command) {
		fprintf(stderr, "error: no command; usage: mmrctl [-S SOCKET] [--json] COMMAND ... "
				"(see 'mmrctl help')\n");
		return 1;
	}

	uint8_t *frame;
	size_t frame_len;
	int rc = ctl_request_encode(nargs, argv + i, &frame, &frame_len);
	if (rc < 0) {
		fprintf(stderr, "error: %s\n", rc == -E2BIG ? "command line too long" : strerror(-rc));
		return 1;
	}

	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(sock) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "error: cannot reach controller at %s: socket path too long\n", sock);
		free(frame);
		return 2;
	}
	strcpy(sa.sun_path, sock);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "error: cannot reach controller at %s: %s\n", sock, strerror(errno));
		free(frame);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	rc = ctl_write_all(fd, frame, frame_len);
	free(frame);
	if (rc < 0) {
		fprintf(stderr, "error: cannot reach controller at %s: %s\n", sock, strerror(-rc));
		close(fd);
		return 2;
	}

	uint8_t hdr[CTL_HDR_LEN];
	rc = read_timed(fd, hdr, sizeof(hdr));
	int64_t len = rc < 0 ? -1 : ctl_frame_check(hdr, CTL_RESP_MAGIC, CTL_MAX_RESPONSE);
	char *payload = NULL;
	if (len >= 0) {
		payload = malloc((size_t)len + 1);
		if (!payload) {
			fprintf(stderr, "error: out of memory for a %lld-byte reply\n", (long long)len);
			close(fd);
			return 2;
		}
		rc = read_timed(fd, payload, (size_t)len);
	}
	close(fd);
	if (rc < 0 || len < 0) {
		const char *why = rc == -EPIPE ? "connection closed before the reply was complete" :
				  rc == -ETIMEDOUT ? "no reply (timed out)" :
				  rc < 0 ? strerror(-rc) : "malformed reply";
		fprintf(stderr, "error: controller at %s: %s\n", sock, why);
		free(payload);
		return 2;
	}
	payload[len] = '\0';

	size_t status_len, body_len;
	const char *body;
	int st = ctl_response_parse(payload, (size_t)len, &status_len, &body, &body_len);
	if (st < 0) {
		fprintf(stderr, "error: controller at %s: malformed reply\n", sock);
		free(payload);
		return 2;
	}
	if (st == 1)
		fprintf(stderr, "%.*s\n", (int)status_len, payload);
	if (body_len)
		fwrite(body, 1, body_len, st == 1 ? stderr : stdout);
	free(payload);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "error: writing the output: %s\n", strerror(errno));
		return 1;
	}
	return st == 1 ? 1 : 0;
}
