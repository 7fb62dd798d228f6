/*
 * etcd_client.c - the controller's non-blocking etcd v3 gateway client (see etcd_client.h): libcurl
 * multi with its socket and timer callbacks, so the controller's poll() serves its sockets.
 */
#define _GNU_SOURCE
#include "etcd_client.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "char_value.h"
#include "cmd_chan.h"
#include "log.h"

#define ETCD_MAX_ANSWER (8u << 20)

struct xfer {
	struct xfer *next;
	struct etcd *e;
	CURL *h;
	struct curl_slist *hdrs;
	char path[64];
	char *body;                     /* the request (JSON text) */
	char *ans;                      /* the answer so far */
	size_t ans_len, ans_cap;
	bool too_large;
	unsigned ep, tries;
	etcd_done_fn done;
	void *arg;
	char errbuf[CURL_ERROR_SIZE];
	json_t *resp;                   /* finished: the answer, or NULL and why in errbuf */
	etcd_line_fn line;              /* a watch stream (etcd_watch), NULL: one answer */
};

struct etcd {
	CURLM *m;
	char eps[ETCD_MAX_ENDPOINTS][256];
	unsigned n_eps, cur;
	unsigned timeout_ms;
	struct etcd_stats *st;
	struct xfer *xfers;
	unsigned n_xfers;
	struct { int fd; short events; } fds[ETCD_MAX_FDS];
	unsigned n_fds;
	uint64_t timer_ns;              /* UINT64_MAX: none */
};

static int on_socket(CURL *h, curl_socket_t s, int what, void *userp, void *socketp)
{
	(void)h;
	(void)socketp;
	struct etcd *e = userp;
	unsigned i;
	for (i = 0; i < e->n_fds && e->fds[i].fd != s; i++)
		;
	if (what == CURL_POLL_REMOVE) {
		if (i < e->n_fds)
			e->fds[i] = e->fds[--e->n_fds];
		return 0;
	}
	if (i == e->n_fds) {
		if (e->n_fds == ETCD_MAX_FDS) {
			ctl_logl(CTL_LOG_ERROR, "etcd: more than %d sockets: one is not polled", ETCD_MAX_FDS);
			return -1;
		}
		e->n_fds++;
	}
	e->fds[i].fd = s;
	e->fds[i].events = (short)((what & CURL_POLL_IN ? POLLIN : 0) | (what & CURL_POLL_OUT ? POLLOUT : 0));
	return 0;
}

static int on_timer(CURLM *m, long ms, void *userp)
{
	(void)m;
	struct etcd *e = userp;
	e->timer_ns = ms < 0 ? UINT64_MAX : mmr_now_ns() + (uint64_t)ms * 1000000ull;
	return 0;
}

static size_t on_data(char *p, size_t size, size_t nmemb, void *userp)
{
	struct xfer *x = userp;
	size_t n = size * nmemb;
	if (x->ans_len + n + 1 > ETCD_MAX_ANSWER) {
		x->too_large = true;
		return 0;
	}
	if (x->ans_len + n + 1 > x->ans_cap) {
		size_t cap = x->ans_cap ? x->ans_cap * 2 : 4096;
		while (cap < x->ans_len + n + 1)
			cap *= 2;
		char *q = realloc(x->ans, cap);
		if (!q)
			return 0;
		x->ans = q;
		x->ans_cap = cap;
	}
	memcpy(x->ans + x->ans_len, p, n);
	x->ans_len += n;
	x->ans[x->ans_len] = '\0';
	/* a stream: every whole line now (the rest stays for the next data) */
	char *nl;
	while (x->line && (nl = memchr(x->ans, '\n', x->ans_len))) {
		size_t len = (size_t)(nl - x->ans);
		json_t *j = json_loadb(x->ans, len, 0, NULL);
		if (json_is_object(j))
			x->line(x->arg, j);
		json_decref(j);
		memmove(x->ans, nl + 1, x->ans_len - len - 1);
		x->ans_len -= len + 1;
		x->ans[x->ans_len] = '\0';
	}
	return n;
}

struct etcd *etcd_open(const char (*endpoints)[256], unsigned n, unsigned timeout_ms, struct etcd_stats *st)
{
	static bool global;
	if (!global) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return NULL;
		global = true;
	}
	struct etcd *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->m = curl_multi_init();
	if (!e->m) {
		free(e);
		return NULL;
	}
	for (unsigned i = 0; i < n && i < ETCD_MAX_ENDPOINTS; i++)
		snprintf(e->eps[e->n_eps++], sizeof(e->eps[0]), "%s", endpoints[i]);
	e->timeout_ms = timeout_ms;
	e->st = st;
	e->timer_ns = UINT64_MAX;
	curl_multi_setopt(e->m, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(e->m, CURLMOPT_SOCKETDATA, e);
	curl_multi_setopt(e->m, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(e->m, CURLMOPT_TIMERDATA, e);
	return e;
}

static void xfer_free(struct xfer *x)
{
	if (x->h) {
		curl_multi_remove_handle(x->e->m, x->h);
		curl_easy_cleanup(x->h);
	}
	curl_slist_free_all(x->hdrs);
	free(x->body);
	free(x->ans);
	free(x);
}

void etcd_close(struct etcd *e)
{
	if (!e)
		return;
	while (e->xfers) {
		struct xfer *x = e->xfers;
		e->xfers = x->next;
		xfer_free(x);
	}
	curl_multi_cleanup(e->m);
	free(e);
}

/* (Re)start x on its endpoint. 0 or -1. */
static int xfer_start(struct xfer *x)
{
	struct etcd *e = x->e;
	if (x->h) {
		curl_multi_remove_handle(e->m, x->h);
		curl_easy_cleanup(x->h);
	}
	x->h = curl_easy_init();
	if (!x->h)
		return -1;
	x->ans_len = 0;
	x->too_large = false;
	x->errbuf[0] = '\0';
	char url[400];
	snprintf(url, sizeof(url), "%s%s", e->eps[x->ep], x->path);
	curl_easy_setopt(x->h, CURLOPT_URL, url);
	curl_easy_setopt(x->h, CURLOPT_POSTFIELDS, x->body);
	curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(x->h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->h, CURLOPT_PRIVATE, x);
	curl_easy_setopt(x->h, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(x->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->h, CURLOPT_TIMEOUT_MS, x->line ? 0L : (long)e->timeout_ms);
	if (x->line) {
		curl_easy_setopt(x->h, CURLOPT_TCP_KEEPALIVE, 1L);
		curl_easy_setopt(x->h, CURLOPT_TCP_KEEPIDLE, 2L);
		curl_easy_setopt(x->h, CURLOPT_TCP_KEEPINTVL, 1L);
	}
	curl_easy_setopt(x->h, CURLOPT_CONNECTTIMEOUT_MS, (long)(e->timeout_ms < 500 ? e->timeout_ms : 500));
	curl_easy_setopt(x->h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(x->h, CURLOPT_NOPROXY, "*");
	x->tries++;
	if (e->st)
		e->st->requests++;
	return curl_multi_add_handle(e->m, x->h) == CURLM_OK ? 0 : -1;
}

static int post(struct etcd *e, const char *path, json_t *body, etcd_line_fn line, etcd_done_fn done, void *arg);

int etcd_post(struct etcd *e, const char *path, json_t *body, etcd_done_fn done, void *arg)
{
	return post(e, path, body, NULL, done, arg);
}

int etcd_watch(struct etcd *e, json_t *body, etcd_line_fn line, etcd_done_fn done, void *arg)
{
	return post(e, "/v3/watch", body, line, done, arg);
}

static int post(struct etcd *e, const char *path, json_t *body, etcd_line_fn line, etcd_done_fn done, void *arg)
{
	struct xfer *x = calloc(1, sizeof(*x));
	/* (json_dumpb into our own buffer: jansson's allocator is the wiping one, jwipe.h) */
	size_t len = json_dumpb(body, NULL, 0, JSON_COMPACT);
	char *text = len ? malloc(len + 1) : NULL;
	if (text && json_dumpb(body, text, len, JSON_COMPACT) == len)
		text[len] = '\0';
	else if (text)
		text[0] = '\0';
	json_decref(body);
	if (!x || !text) {
		free(x);
		free(text);
		return -1;
	}
	x->e = e;
	x->body = text;
	snprintf(x->path, sizeof(x->path), "%s", path);
	x->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	x->ep = e->cur;
	x->done = done;
	x->line = line;
	x->arg = arg;
	if (!x->hdrs || xfer_start(x) < 0) {
		xfer_free(x);
		return -1;
	}
	x->next = e->xfers;
	e->xfers = x;
	e->n_xfers++;
	return 0;
}

unsigned etcd_pollfds(const struct etcd *e, struct pollfd *pfd, unsigned max)
{
	unsigned n = 0;
	for (unsigned i = 0; i < e->n_fds && n < max; i++)
		pfd[n++] = (struct pollfd){ .fd = e->fds[i].fd, .events = e->fds[i].events };
	return n;
}

uint64_t etcd_timeout_ns(const struct etcd *e, uint64_t now)
{
	if (e->timer_ns == UINT64_MAX)
		return UINT64_MAX;
	return e->timer_ns > now ? e->timer_ns - now : 0;
}

unsigned etcd_in_flight(const struct etcd *e)
{
	return e->n_xfers;
}

const char *etcd_endpoint(const struct etcd *e)
{
	return e->eps[e->cur];
}

/* A finished attempt: 1 done (*resp or err set), 0 tried again elsewhere. */
static int xfer_finished(struct xfer *x, CURLcode cc, json_t **resp, char *err, size_t errlen)
{
	struct etcd *e = x->e;
	long status = 0;
	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
	bool retry = false;
	if (cc != CURLE_OK) {
		if (e->st) {
			e->st->errors++;
			if (cc == CURLE_OPERATION_TIMEDOUT)
				e->st->timeouts++;
		}
		snprintf(err, errlen, "etcd %s: %s", e->eps[x->ep],
			 x->too_large ? "answer too large" : x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc));
		retry = true;
	} else {
		json_error_t je;
		json_t *j = x->ans ? json_loadb(x->ans, x->ans_len, 0, &je) : NULL;
		if (status == 200 && json_is_object(j)) {
			*resp = j;
			return 1;
		}
		const char *msg = json_is_object(j) ? json_string_value(json_object_get(j, "error")) : NULL;
		if (!msg && json_is_object(j))
			msg = json_string_value(json_object_get(j, "message"));
		snprintf(err, errlen, "etcd %s: HTTP %ld: %.200s", e->eps[x->ep], status,
			 msg ? msg : status == 200 ? "the answer is not a JSON object" : "(no message)");
		json_decref(j);
		if (e->st)
			e->st->errors++;
		/* 5xx (no leader, unavailable) and answers we cannot read: another member may do */
		retry = status >= 500 || status == 200;
	}
	if (retry && x->tries < e->n_eps) {
		ctl_logl(CTL_LOG_DEBUG, "%s: trying the next member", err);
		x->ep = (x->ep + 1) % e->n_eps;
		e->cur = x->ep;
		if (e->st)
			e->st->failovers++;
		if (xfer_start(x) == 0)
			return 0;
		snprintf(err, errlen, "etcd: out of memory");
	} else if (retry) {
		/* every member tried: the next call starts with the next one */
		e->cur = (x->ep + 1) % e->n_eps;
	}
	return 1;
}

void etcd_run(struct etcd *e, const struct pollfd *pfd, unsigned n, uint64_t now)
{
	int running;
	for (unsigned i = 0; i < n; i++) {
		if (!pfd[i].revents)
			continue;
		for (unsigned k = 0; k < e->n_fds; k++)
			if (e->fds[k].fd == pfd[i].fd) {
				int ev = (pfd[i].revents & POLLIN ? CURL_CSELECT_IN : 0) |
					 (pfd[i].revents & POLLOUT ? CURL_CSELECT_OUT : 0) |
					 (pfd[i].revents & (POLLERR | POLLHUP | POLLNVAL) ? CURL_CSELECT_ERR : 0);
				curl_multi_socket_action(e->m, pfd[i].fd, ev, &running);
				break;
			}
	}
	if (e->timer_ns != UINT64_MAX && now >= e->timer_ns) {
		e->timer_ns = UINT64_MAX;
		curl_multi_socket_action(e->m, CURL_SOCKET_TIMEOUT, 0, &running);
	}
	/* the finished ones first, off the list; then their done functions (which may post again) */
	struct xfer *done = NULL, **tail = &done;
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(e->m, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		struct xfer *x = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		CURLcode cc = msg->data.result;
		json_t *resp = NULL;
		char err[400] = "";
		if (x && x->line) {
			/* a stream ended: said so; the next call goes to the next member */
			if (e->st) {
				e->st->errors++;
				if (cc == CURLE_OPERATION_TIMEDOUT)
					e->st->timeouts++;
			}
			snprintf(err, sizeof(err), "etcd %s: watch ended: %s", e->eps[x->ep],
				 cc != CURLE_OK ? (x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc)) : "closed");
			e->cur = (x->ep + 1) % e->n_eps;
		} else if (!x || xfer_finished(x, cc, &resp, err, sizeof(err)) == 0) {
			continue;
		}
		struct xfer **pp = &e->xfers;
		while (*pp && *pp != x)
			pp = &(*pp)->next;
		if (*pp)
			*pp = x->next;
		e->n_xfers--;
		curl_multi_remove_handle(e->m, x->h);
		/* keep the outcome on the record until its done function runs */
		x->resp = resp;
		snprintf(x->errbuf, sizeof(x->errbuf), "%.250s", err);
		x->next = NULL;         /* in the order they finished */
		*tail = x;
		tail = &x->next;
	}
	while (done) {
		struct xfer *x = done;
		done = x->next;
		x->done(x->arg, x->resp, x->resp ? NULL : x->errbuf);
		json_decref(x->resp);
		xfer_free(x);
	}
}

static const char b64_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int etcd_b64(const void *in, size_t n, char *out, size_t cap)
{
	const uint8_t *p = in;
	size_t need = (n + 2) / 3 * 4 + 1, o = 0;
	if (need > cap)
		return -1;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
		out[o++] = b64_alpha[v >> 18];
		out[o++] = b64_alpha[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64_alpha[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? b64_alpha[v & 63] : '=';
	}
	out[o] = '\0';
	return (int)o;
}

int etcd_unb64(const char *in, char *out, size_t cap)
{
	size_t len = strlen(in), o = 0;
	if (len % 4)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		int v[4];
		for (int k = 0; k < 4; k++) {
			v[k] = in[i + k] == '=' && i + 4 == len && k >= 2 ? 0 : b64_char_value(in[i + k], '+', '/');
			if (v[k] < 0)
				return -1;
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
		unsigned nb = in[i + 2] == '=' ? 1 : in[i + 3] == '=' ? 2 : 3;
		if (o + nb + 1 > cap)
			return -1;
		out[o++] = (char)(w >> 16);
		if (nb > 1)
			out[o++] = (char)(w >> 8);
		if (nb > 2)
			out[o++] = (char)w;
	}
	out[o] = '\0';
	return (int)o;
}
