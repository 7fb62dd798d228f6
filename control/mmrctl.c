/*
 * mmrctl.c - the command-line client of mmr-controller.
 *
 *   mmrctl [-S SOCKET] [--json] COMMAND ...
 *   mmrctl [-S SOCKET] batch [--window N] < COMMANDS
 *   mmrctl token mint --secret-file F --meeting M|'*' --identity I --role R --ttl S [--issuer ISS]
 *   mmrctl [--json] doctor [--dataplane-config FILE] [--root DIR]     (doctor.c)
 *
 * Sends the command line (everything but -S) to the controller's Unix socket as one request
 * (lib/contract/ctl_proto.h) and prints the reply: the body on stdout, an error line on stderr. Exit 0 on
 * success, 1 when the controller reports an error, 2 when it cannot be reached or breaks off.
 * Under --json every error is one JSON object on stderr instead (err_emit), the exit status the same.
 * The controller does all parsing and validation, so this program knows no command but help.
 *
 * batch: one command per line of stdin (words split at blanks; blank lines and lines starting
 * with '#' skipped), all over one connection, up to N (default 64) sent ahead of their answers
 * (pipelining, docs/interfaces.md). Each answer's body goes to stdout as it comes, in order; an
 * error to stderr as "error: WHY (line L: COMMAND)". Exit 0 if every command succeeded, 1 if any
 * failed, 2 if the controller cannot be reached or breaks off.
 *
 * `--passcode -` (meeting passcode): the passcode is read from stdin's first line, not the command
 * line (which every user sees in ps).
 *
 * token mint: an access token for the HTTP API (token.h), signed here with the zone secret (the
 * controller's token_secret_file); no controller needed. Prints the token and a newline.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl_proto.h"
#include "doctor.h"
#include "jwipe.h"
#include "outbuf.h"
#include "token.h"
#include "version.h"

#define REPLY_TIMEOUT_MS 120000    /* no byte for this long: the controller is stuck */
#define PASSCODE_STDIN_MAX 256

/* `--passcode -`: the passcode is the first line of stdin (a command line is visible to every user
 * of the host in ps; stdin is not). argv's "-" is pointed at buf; -ENODATA: no line, -E2BIG: too
 * long. The controller validates it as any passcode. */
static int passcode_from_stdin(int n, char **argv, char *buf, size_t cap)
{
	for (int k = 0; k + 1 < n; k++) {
		if (strcmp(argv[k], "--passcode") != 0 || strcmp(argv[k + 1], "-") != 0)
			continue;
		if (!fgets(buf, (int)cap, stdin))
			return -ENODATA;
		size_t l = strcspn(buf, "\r\n");
		if (!buf[l] && l + 1 >= cap)
			return -E2BIG;
		buf[l] = '\0';
		argv[k + 1] = buf;
		return 0;
	}
	return 0;
}

/* --json anywhere on the command line: every error this program prints is one JSON object on stderr,
 * {"error": "WHY", "code": "usage|unreachable|protocol|refused|io", "status": EXIT} (plus "line" and
 * "command" for a batch line); without it, one "error: WHY" line. The exit status is the same. */
static bool json_errors;

static void err_emit(int status, const char *code, unsigned long line, const char *cmd, const char *msg)
{
	if (!json_errors) {
		if (cmd)
			fprintf(stderr, "error: %s (line %lu: %s)\n", msg, line, cmd);
		else
			fprintf(stderr, "error: %s\n", msg);
		return;
	}
	struct outbuf b;
	ob_init(&b);
	ob_puts(&b, "{\"error\": ");
	ob_json_str(&b, msg);
	ob_puts(&b, ", \"code\": ");
	ob_json_str(&b, code);
	ob_printf(&b, ", \"status\": %d", status);
	if (cmd) {
		ob_printf(&b, ", \"line\": %lu, \"command\": ", line);
		ob_json_str(&b, cmd);
	}
	ob_puts(&b, "}\n");
	if (b.oom)
		fprintf(stderr, "{\"error\": \"out of memory\", \"code\": \"io\", \"status\": %d}\n", status);
	else
		fwrite(b.p, 1, b.len, stderr);
	ob_free(&b);
}

/* Print one error (text or JSON, see above) and return status, the exit status it goes with. */
static int __attribute__((format(printf, 3, 4))) fail(int status, const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err_emit(status, code, 0, NULL, msg);
	return status;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: mmrctl [-S SOCKET] [--json] COMMAND ...\n"
		   "  -S SOCKET   controller socket (default $MMR_SOCKET or %s)\n"
		   "  --json      JSON output (read commands)\n"
		   "mmrctl [-S SOCKET] batch [--window N] < COMMANDS: one command per line, over one\n"
		   "connection, up to N (default 64) ahead of their answers.\n"
		   "mmrctl token mint --secret-file F --meeting M|'*' --identity I --role R --ttl S [--issuer ISS]:\n"
		   "an access token for the HTTP API (role " TOKEN_ROLE_NAMES ").\n"
		   "mmrctl [--json] doctor [--dataplane-config FILE] [--root DIR]: checks this host for the MMR\n"
		   "(hugepages, NICs, IOMMU, lcores, ...), one ok/warn/FAIL line each; exit 1 on a FAIL.\n"
		   "Under --json every error is one JSON object on stderr: {\"error\", \"code\", \"status\"}.\n"
		   "'mmrctl help' lists the commands; 'mmrctl --version' prints the version.\n", CTL_DEFAULT_SOCKET);
}

/* The controller's refusal (status line "error: WHY", any body after it) or a malformed reply (st < 0):
 * printed as today ("error: WHY" and the body on stderr), or as one JSON object with the body as "detail". */
static void refusal(int st, const char *payload, size_t status_len, const char *body, size_t body_len,
		    unsigned long line, const char *cmd)
{
	char msg[1024];
	if (st < 0)
		snprintf(msg, sizeof(msg), "malformed reply");
	else if (status_len >= 7 && strncmp(payload, "error: ", 7) == 0)
		snprintf(msg, sizeof(msg), "%.*s", (int)(status_len - 7), payload + 7);
	else
		snprintf(msg, sizeof(msg), "%.*s", (int)status_len, payload);
	if (!json_errors || body_len == 0) {
		err_emit(1, st < 0 ? "protocol" : "refused", line, cmd, msg);
		if (!json_errors && body_len)
			fwrite(body, 1, body_len, stderr);
		return;
	}
	/* with a body: the message and the body (as "detail") in one object */
	struct outbuf b;
	ob_init(&b);
	ob_puts(&b, "{\"error\": ");
	ob_json_str(&b, msg);
	ob_puts(&b, ", \"code\": \"refused\", \"status\": 1");
	if (cmd) {
		ob_printf(&b, ", \"line\": %lu, \"command\": ", line);
		ob_json_str(&b, cmd);
	}
	ob_puts(&b, ", \"detail\": ");
	ob_json_strn(&b, body, body_len);
	ob_puts(&b, "}\n");
	if (!b.oom)
		fwrite(b.p, 1, b.len, stderr);
	ob_free(&b);
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

/* Connect to the controller; the socket, or -1 (message printed). */
static int connect_ctl(const char *sock)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(sock) >= sizeof(sa.sun_path)) {
		fail(2, "unreachable", "cannot reach controller at %s: socket path too long", sock);
		return -1;
	}
	strcpy(sa.sun_path, sock);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fail(2, "unreachable", "cannot reach controller at %s: %s", sock, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* One answer frame: 0 with *payload (malloc'd, NUL-terminated) and *len, or -errno / -EPROTO. */
static int read_answer(int fd, char **payload, int64_t *len)
{
	uint8_t hdr[CTL_HDR_LEN];
	*payload = NULL;
	int rc = read_timed(fd, hdr, sizeof(hdr));
	if (rc < 0)
		return rc;
	*len = ctl_frame_check(hdr, CTL_RESP_MAGIC, CTL_MAX_RESPONSE);
	if (*len < 0)
		return -EPROTO;
	*payload = malloc((size_t)*len + 1);
	if (!*payload)
		return -ENOMEM;
	rc = read_timed(fd, *payload, (size_t)*len);
	if (rc < 0) {
		free(*payload);
		*payload = NULL;
		return rc;
	}
	(*payload)[*len] = '\0';
	return 0;
}

#define BATCH_MAX_WINDOW 1024

/* A line's command, kept until its answer comes (for the error message). */
struct pending {
	unsigned long line;
	char *text;
};

static int run_batch(const char *sock, int argc, char **argv)
{
	unsigned window = 64;
	for (int i = 0; i < argc; i++) {
		char *end;
		if (strcmp(argv[i], "--window") == 0 && i + 1 < argc) {
			unsigned long w = strtoul(argv[++i], &end, 10);
			if (*end || w == 0 || w > BATCH_MAX_WINDOW) {
				return fail(1, "usage", "--window must be 1-%u", BATCH_MAX_WINDOW);
			}
			window = (unsigned)w;
		} else {
			return fail(1, "usage", "usage: mmrctl [-S SOCKET] batch [--window N] < COMMANDS");
		}
	}
	int fd = connect_ctl(sock);
	if (fd < 0)
		return 2;
	static struct pending q[BATCH_MAX_WINDOW];
	unsigned head = 0, n = 0;
	unsigned long lineno = 0, failed = 0;
	bool in_eof = false;
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;
	while (!in_eof || n > 0) {
		/* send while the window has room */
		while (!in_eof && n < window) {
			ssize_t len = getline(&line, &cap, stdin);
			if (len < 0) {
				in_eof = true;
				break;
			}
			lineno++;
			if (len > 0 && line[len - 1] == '\n')
				line[--len] = '\0';
			char *text = strdup(line), *words[CTL_MAX_ARGS + 1], *save = NULL;
			int nw = 0;
			if (!text) {
				return fail(2, "io", "out of memory");
			}
			for (char *t = strtok_r(line, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
				if (nw == (int)CTL_MAX_ARGS + 1)
					break;
				words[nw++] = t;
			}
			if (nw == 0 || words[0][0] == '#') {
				free(text);
				continue;
			}
			uint8_t *frame;
			size_t frame_len;
			int e = nw > (int)CTL_MAX_ARGS ? -E2BIG : ctl_request_encode(nw, words, &frame, &frame_len);
			if (e < 0) {
				err_emit(1, "usage", lineno, text, e == -E2BIG ? "command line too long" : strerror(-e));
				free(text);
				failed++;
				continue;
			}
			e = ctl_write_all(fd, frame, frame_len);
			free(frame);
			if (e < 0) {
				fail(2, "protocol", "controller at %s: %s", sock, strerror(-e));
				free(text);
				return 2;
			}
			q[(head + n) % BATCH_MAX_WINDOW] = (struct pending){ lineno, text };
			n++;
		}
		if (n == 0)
			continue;
		/* then take one answer */
		char *payload;
		int64_t len;
		int e = read_answer(fd, &payload, &len);
		struct pending *p = &q[head];
		if (e < 0) {
			char msg[600];
			snprintf(msg, sizeof(msg), "controller at %s: %s", sock,
				 e == -EPIPE ? "connection closed before the answer" : e == -EPROTO ? "malformed reply" :
				 strerror(-e));
			err_emit(2, "protocol", p->line, p->text, msg);
			rc = 2;
			break;
		}
		size_t status_len, body_len;
		const char *body;
		int st = ctl_response_parse(payload, (size_t)len, &status_len, &body, &body_len);
		if (st != 0) {
			refusal(st, payload, status_len, body, body_len, p->line, p->text);
			failed++;
		} else if (body_len) {
			fwrite(body, 1, body_len, stdout);
		}
		explicit_bzero(payload, (size_t)len);
		free(payload);
		free(p->text);
		head = (head + 1) % BATCH_MAX_WINDOW;
		n--;
	}
	free(line);
	close(fd);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fail(1, "io", "writing the output: %s", strerror(errno));
		return rc ? rc : 1;
	}
	return rc ? rc : failed ? 1 : 0;
}

#define TOKEN_USAGE "usage: mmrctl token mint --secret-file F --meeting M|'*' --identity I --role R --ttl S " \
		    "[--issuer ISS]"

/* mmrctl token mint ...: 0, or 1 with one error line. */
static int token_mint_cmd(int argc, char **argv)
{
	static const char *const names[] = { "secret-file", "meeting", "identity", "role", "ttl", "issuer" };
	const char *v[6] = { 0 };
	if (argc < 1 || strcmp(argv[0], "mint") != 0) {
		return fail(1, "usage", "'token' needs a subcommand: mint; " TOKEN_USAGE "");
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *eq = strchr(a, '=');
		size_t nl = eq ? (size_t)(eq - a) : strlen(a);
		int k = -1;
		for (int j = 0; j < 6; j++)
			if (strncmp(a, "--", 2) == 0 && nl - 2 == strlen(names[j]) && strncmp(a + 2, names[j], nl - 2) == 0)
				k = j;
		if (k < 0) {
			return fail(1, "usage", "unknown option '%.*s'; " TOKEN_USAGE "", (int)nl, a);
		}
		if (v[k]) {
			return fail(1, "usage", "option --%s given twice; " TOKEN_USAGE "", names[k]);
		}
		if (eq)
			v[k] = eq + 1;
		else if (i + 1 < argc)
			v[k] = argv[++i];
		else {
			return fail(1, "usage", "option --%s needs a value; " TOKEN_USAGE "", names[k]);
		}
	}
	for (int j = 0; j < 5; j++)
		if (!v[j]) {
			return fail(1, "usage", "missing option --%s; " TOKEN_USAGE "", names[j]);
		}
	struct token_claims c = { .nbf = 0 };
	char *end;
	errno = 0;
	long long ttl = strtoll(v[4], &end, 10);
	if (!*v[4] || *end || errno || ttl < 1 || ttl > 366LL * 86400) {
		return fail(1, "usage", "bad --ttl '%s' (seconds, 1-31622400)", v[4]);
	}
	if (token_role_parse(v[3], &c.role) < 0) {
		return fail(1, "usage", "bad --role '%s' (" TOKEN_ROLE_NAMES ")", v[3]);
	}
	const char *iss = v[5] ? v[5] : "mmrctl";
	if (strlen(iss) >= sizeof(c.iss) || strlen(v[2]) >= sizeof(c.sub) || strlen(v[1]) >= sizeof(c.meeting)) {
		return fail(1, "usage", "--issuer, --identity and --meeting are at most 63 characters");
	}
	strcpy(c.iss, iss);
	strcpy(c.sub, v[2]);
	strcpy(c.meeting, v[1]);
	int64_t now = (int64_t)time(NULL);
	c.iat = now;
	c.nbf = now;
	c.exp = now + ttl;
	jwipe_install();
	uint8_t secret[TOKEN_SECRET_MAX];
	size_t slen;
	char err[400], tok[TOKEN_MAX_LEN + 1];
	if (token_load_secret(v[0], secret, &slen, err, sizeof(err)) < 0) {
		return fail(1, "token", "%s", err);
	}
	int rc = token_mint(secret, slen, &c, tok, sizeof(tok), err, sizeof(err));
	explicit_bzero(secret, sizeof(secret));
	if (rc < 0) {
		return fail(1, "token", "%s", err);
	}
	printf("%s\n", tok);
	explicit_bzero(tok, sizeof(tok));
	if (fflush(stdout) != 0 || ferror(stdout)) {
		return fail(1, "io", "writing the output: %s", strerror(errno));
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (mmr_version_arg("mmrctl", argc, argv))
		return 0;
	for (int k = 1; k < argc; k++)
		if (strcmp(argv[k], "--json") == 0)
			json_errors = true;
	const char *sock = getenv("MMR_SOCKET");
	if (!sock || !*sock)
		sock = CTL_DEFAULT_SOCKET;

	/* our own options come first; --json is passed on to the controller wherever it stands (one
	 * among our options moves to the end, so "--json -S SOCK status" works too) */
	int i = 1, moved = 0;
	for (; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0 && i + 1 < argc && moved < argc) {
			char *j = argv[i];
			memmove(&argv[i], &argv[i + 1], (size_t)(argc - i - 1) * sizeof(*argv));
			argv[argc - 1] = j;
			moved++;
			i--;
		} else if (strcmp(argv[i], "-S") == 0 || strcmp(argv[i], "--socket") == 0) {
			if (i + 1 >= argc)
				return fail(1, "usage", "%s needs a socket path", argv[i]);
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
	signal(SIGPIPE, SIG_IGN);
	/* the local commands: their own arguments, --json taken out wherever it stands */
	int c = i;
	while (c < argc && strcmp(argv[c], "--json") == 0)
		c++;
	if (c < argc && (strcmp(argv[c], "batch") == 0 || strcmp(argv[c], "token") == 0 ||
			 strcmp(argv[c], "doctor") == 0)) {
		int n = 0;
		for (int k = c + 1; k < argc; k++)
			if (strcmp(argv[k], "--json") != 0)
				argv[c + 1 + n++] = argv[k];
		if (strcmp(argv[c], "batch") == 0)
			return run_batch(sock, n, argv + c + 1);
		if (strcmp(argv[c], "token") == 0)
			return token_mint_cmd(n, argv + c + 1);
		char err[400];
		int rc = doctor_main(n, argv + c + 1, json_errors, sock, err, sizeof(err));
		return rc < 0 ? fail(1, "usage", "%s", err) : rc;
	}
	bool any_command = false;
	for (int k = i; k < argc; k++)
		if (strcmp(argv[k], "--json") != 0)
			any_command = true;
	if (!any_command) {
		return fail(1, "usage", "no command; usage: mmrctl [-S SOCKET] [--json] COMMAND ... "
				"(see 'mmrctl help')");
	}

	char secret[PASSCODE_STDIN_MAX + 2];
	int rc = passcode_from_stdin(nargs, argv + i, secret, sizeof(secret));
	if (rc < 0)
		return fail(1, "usage", "--passcode -: %s", rc == -E2BIG ? "the line on stdin is too long" :
			    "no line on stdin");
	uint8_t *frame;
	size_t frame_len;
	rc = ctl_request_encode(nargs, argv + i, &frame, &frame_len);
	explicit_bzero(secret, sizeof(secret));
	if (rc < 0) {
		return fail(1, "usage", "%s", rc == -E2BIG ? "command line too long" : strerror(-rc));
	}

	int fd = connect_ctl(sock);
	if (fd < 0) {
		free(frame);
		return 2;
	}
	rc = ctl_write_all(fd, frame, frame_len);
	free(frame);
	if (rc < 0) {
		fail(2, "unreachable", "cannot reach controller at %s: %s", sock, strerror(-rc));
		close(fd);
		return 2;
	}

	char *payload;
	int64_t len;
	rc = read_answer(fd, &payload, &len);
	close(fd);
	if (rc < 0) {
		const char *why = rc == -EPIPE ? "connection closed before the reply was complete" :
				  rc == -ETIMEDOUT ? "no reply (timed out)" :
				  rc == -EPROTO ? "malformed reply" : strerror(-rc);
		return fail(2, "protocol", "controller at %s: %s", sock, why);
	}

	size_t status_len, body_len;
	const char *body;
	int st = ctl_response_parse(payload, (size_t)len, &status_len, &body, &body_len);
	if (st < 0) {
		fail(2, "protocol", "controller at %s: malformed reply", sock);
		free(payload);
		return 2;
	}
	if (st == 1)
		refusal(st, payload, status_len, body, body_len, 0, NULL);
	else if (body_len)
		fwrite(body, 1, body_len, stdout);
	free(payload);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		return fail(1, "io", "writing the output: %s", strerror(errno));
	}
	return st == 1 ? 1 : 0;
}
