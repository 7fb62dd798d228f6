/*
 * ctl_proto.c - encode and decode the mmrctl <-> mmr-controller frames described in ctl_proto.h,
 * and the blocking socket helpers mmrctl uses.
 */
#include "ctl_proto.h"
#include "le_bytes.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void ctl_frame_header(uint8_t hdr[CTL_HDR_LEN], const char magic[4], uint32_t payload_len)
{
	memcpy(hdr, magic, 4);
	put_le32(hdr + 4, payload_len);
}

int64_t ctl_frame_check(const uint8_t hdr[CTL_HDR_LEN], const char magic[4], uint32_t max)
{
	if (memcmp(hdr, magic, 4) != 0)
		return -1;
	uint32_t len = get_le32(hdr + 4);
	if (len > max)
		return -1;
	return len;
}

int ctl_request_encode(int argc, char *const argv[], uint8_t **frame, size_t *frame_len)
{
	if (argc < 0 || (unsigned)argc > CTL_MAX_ARGS)
		return -E2BIG;
	size_t payload = 4;
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]);
		if (n > CTL_MAX_ARG)
			return -E2BIG;
		payload += 4 + n;
	}
	if (payload > CTL_MAX_REQUEST)
		return -E2BIG;
	uint8_t *buf = malloc(CTL_HDR_LEN + payload);
	if (!buf)
		return -ENOMEM;
	ctl_frame_header(buf, CTL_REQ_MAGIC, (uint32_t)payload);
	uint8_t *p = buf + CTL_HDR_LEN;
	put_le32(p, (uint32_t)argc);
	p += 4;
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]);
		put_le32(p, (uint32_t)n);
		memcpy(p + 4, argv[i], n);
		p += 4 + n;
	}
	*frame = buf;
	*frame_len = CTL_HDR_LEN + payload;
	return 0;
}

int ctl_request_decode(const uint8_t *payload, size_t len, struct ctl_request *req)
{
	req->argc = 0;
	req->argv = NULL;
	if (len < 4 || len > CTL_MAX_REQUEST)
		return -EPROTO;
	uint32_t argc = get_le32(payload);
	if (argc > CTL_MAX_ARGS)
		return -EPROTO;
	/* first pass: check every length and that the arguments fill the payload exactly */
	size_t off = 4, text = 0;
	for (uint32_t i = 0; i < argc; i++) {
		if (len - off < 4)
			return -EPROTO;
		uint32_t n = get_le32(payload + off);
		off += 4;
		if (n > CTL_MAX_ARG || n > len - off)
			return -EPROTO;
		if (memchr(payload + off, '\0', n))
			return -EPROTO;
		off += n;
		text += n + 1;
	}
	if (off != len)
		return -EPROTO;
	/* one block: the pointer array, then the strings */
	size_t ptrs = (argc + 1) * sizeof(char *);
	char **argv = malloc(ptrs + text);
	if (!argv)
		return -ENOMEM;
	char *s = (char *)argv + ptrs;
	off = 4;
	for (uint32_t i = 0; i < argc; i++) {
		uint32_t n = get_le32(payload + off);
		off += 4;
		memcpy(s, payload + off, n);
		s[n] = '\0';
		argv[i] = s;
		s += n + 1;
		off += n;
	}
	argv[argc] = NULL;
	req->argc = (int)argc;
	req->argv = argv;
	return 0;
}

void ctl_request_free(struct ctl_request *req)
{
	free(req->argv);
	req->argv = NULL;
	req->argc = 0;
}

int ctl_response_parse(const char *payload, size_t len, size_t *status_len, const char **body,
		       size_t *body_len)
{
	const char *nl = memchr(payload, '\n', len);
	size_t sl = nl ? (size_t)(nl - payload) : len;
	*status_len = sl;
	*body = nl ? nl + 1 : payload + len;
	*body_len = len - (size_t)(*body - payload);
	if (sl == 2 && memcmp(payload, "ok", 2) == 0)
		return 0;
	if (sl >= 6 && memcmp(payload, "error:", 6) == 0)
		return 1;
	return -1;
}

int ctl_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int ctl_read_all(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len > 0) {
		ssize_t n = read(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
