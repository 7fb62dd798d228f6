/*
 * ctl_proto.h - the wire format between mmrctl and mmr-controller over their Unix stream socket.
 *
 * A connection carries requests in sequence, each answered by one response, in order; a client may
 * send requests before the previous answers came (pipelining: the controller takes up to 64 ahead,
 * docs/interfaces.md). mmrctl sends one and closes. Both are frames: an 8-byte header (4 magic
 * bytes, then the payload length as a little-endian u32) followed by the payload.
 *
 *   request  "MMRQ" len | u32 argc | argc x (u32 len | bytes)     all little-endian
 *            the command line as typed after mmrctl's own options (-S), "--json" kept as given;
 *            at most CTL_MAX_ARGS arguments of at most CTL_MAX_ARG bytes, no NUL bytes inside,
 *            payload at most CTL_MAX_REQUEST bytes.
 *   response "MMRA" len | text
 *            the first line is the status: "ok" or "error: WHY"; the rest is the body that mmrctl
 *            prints to stdout (tables, JSON, "note: ..." lines). At most CTL_MAX_RESPONSE bytes.
 *
 * The decoder is pure C over a byte buffer and never reads outside it, so it can be fuzzed.
 */
#ifndef MMR_CTL_PROTO_H
#define MMR_CTL_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define CTL_REQ_MAGIC      "MMRQ"
#define CTL_RESP_MAGIC     "MMRA"
#define CTL_HDR_LEN        8u
#define CTL_MAX_REQUEST    65536u           /* request payload bytes */
#define CTL_MAX_ARGS       64u
#define CTL_MAX_ARG        4096u            /* bytes in one argument */
#define CTL_MAX_RESPONSE   (512u << 20)     /* response payload bytes */
#define CTL_DEFAULT_SOCKET "/run/mmr/mmr.sock"

/* A decoded request: argv[0..argc-1] are NUL-terminated copies, argv[argc] is NULL. */
struct ctl_request {
	int argc;
	char **argv;
};

/* Fill an 8-byte frame header. */
void ctl_frame_header(uint8_t hdr[CTL_HDR_LEN], const char magic[4], uint32_t payload_len);
/* Check a frame header against magic; the payload length, or -1 if the magic is wrong or the
 * length exceeds max. */
int64_t ctl_frame_check(const uint8_t hdr[CTL_HDR_LEN], const char magic[4], uint32_t max);

/* Build a whole request frame (header + payload) from argv into a malloc'd buffer.
 * 0, -E2BIG if it breaks a limit above, or -ENOMEM. */
int ctl_request_encode(int argc, char *const argv[], uint8_t **frame, size_t *frame_len);
/* Decode a request payload (without the header). 0, or -EPROTO when it is malformed or breaks a
 * limit, -ENOMEM. On success free with ctl_request_free(). */
int ctl_request_decode(const uint8_t *payload, size_t len, struct ctl_request *req);
void ctl_request_free(struct ctl_request *req);

/* Split a response payload: *status_len is the length of the first line (without '\n'), *body
 * points after it. 0 if the status is "ok", 1 if it starts with "error:", -1 if malformed. */
int ctl_response_parse(const char *payload, size_t len, size_t *status_len, const char **body,
		       size_t *body_len);

/* Blocking full write / read on a socket; 0, -EPIPE on EOF while reading, or -errno. */
int ctl_write_all(int fd, const void *buf, size_t len);
int ctl_read_all(int fd, void *buf, size_t len);

#endif
