/*
 * outbuf.c - growable text buffers, aligned tables and JSON strings (see outbuf.h).
 */
#include "outbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ob_init(struct outbuf *b)
{
	memset(b, 0, sizeof(*b));
}

void ob_free(struct outbuf *b)
{
	/* replies and the state text may hold keys: nothing is handed back to malloc readable */
	if (b->p)
		explicit_bzero(b->p, b->cap);
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void ob_reset(struct outbuf *b)
{
	b->len = 0;
	b->oom = false;
	if (b->p)
		b->p[0] = '\0';
}

static bool grow(struct outbuf *b, size_t more)
{
	if (b->oom)
		return false;
	if (b->len + more + 1 <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + more + 1)
		cap *= 2;
	/* not realloc: the old block is wiped before it goes back (it may hold keys) */
	char *p = malloc(cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	if (b->p) {
		memcpy(p, b->p, b->len);
		explicit_bzero(b->p, b->cap);
		free(b->p);
	}
	p[b->len] = '\0';
	b->p = p;
	b->cap = cap;
	return true;
}

void ob_add(struct outbuf *b, const char *s, size_t n)
{
	if (!grow(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void ob_puts(struct outbuf *b, const char *s)
{
	ob_add(b, s, strlen(s));
}

void ob_printf(struct outbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char small[256];
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		ob_add(b, small, (size_t)n);
		return;
	}
	if (!grow(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void ob_u64(struct outbuf *b, uint64_t v)
{
	char tmp[21];
	int i = 20;
	tmp[i] = '\0';
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	ob_add(b, tmp + i, (size_t)(20 - i));
}

void ob_hex32(struct outbuf *b, uint32_t v)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[10] = { '0', 'x' };
	for (int i = 0; i < 8; i++)
		tmp[9 - i] = digits[(v >> (4 * i)) & 15];
	ob_add(b, tmp, sizeof(tmp));
}

void ob_char(struct outbuf *b, char c)
{
	if (b->len + 2 <= b->cap) {
		b->p[b->len++] = c;
		b->p[b->len] = '\0';
		return;
	}
	ob_add(b, &c, 1);
}

void ob_json_strn(struct outbuf *b, const char *s, size_t n)
{
	ob_add(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };
			ob_add(b, e, 2);
		} else if (c < 0x20 || c >= 0x7f) {
			ob_printf(b, "\\u%04x", c);
		} else {
			ob_add(b, (const char *)&c, 1);
		}
	}
	ob_add(b, "\"", 1);
}

void ob_json_str(struct outbuf *b, const char *s)
{
	ob_json_strn(b, s, strlen(s));
}

/* ---- tables --------------------------------------------------------------------------------- */

void table_init(struct table *t, unsigned ncols, const char *const cols[])
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols < TABLE_MAX_COLS ? ncols : TABLE_MAX_COLS;
	for (unsigned i = 0; i < t->ncols; i++) {
		t->right[i] = cols[i][0] == '>';
		t->head[i] = cols[i] + (t->right[i] ? 1 : 0);
		t->width[i] = strlen(t->head[i]);
	}
	ob_init(&t->cells);
}

void table_cell(struct table *t, const char *s)
{
	size_t n = strlen(s);
	if (n > t->width[t->col])
		t->width[t->col] = n;
	ob_add(&t->cells, s, n + 1);    /* keep the NUL as the separator */
	if (++t->col == t->ncols) {
		t->col = 0;
		t->nrows++;
	}
}

void table_cellf(struct table *t, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	table_cell(t, tmp);
}

void table_cell_u64(struct table *t, uint64_t v)
{
	table_cellf(t, "%llu", (unsigned long long)v);
}

void table_free(struct table *t)
{
	ob_free(&t->cells);
}

bool table_oom(const struct table *t)
{
	return t->cells.oom;
}

static void emit_cell(struct outbuf *out, const char *s, size_t width, bool right, bool last)
{
	size_t n = strlen(s);
	static const char spaces[] = "                                                                ";
	size_t pad = width > n ? width - n : 0;
	if (right)
		while (pad) {
			size_t k = pad < sizeof(spaces) - 1 ? pad : sizeof(spaces) - 1;
			ob_add(out, spaces, k);
			pad -= k;
		}
	ob_add(out, s, n);
	if (last)
		return;
	if (!right)
		while (pad) {
			size_t k = pad < sizeof(spaces) - 1 ? pad : sizeof(spaces) - 1;
			ob_add(out, spaces, k);
			pad -= k;
		}
	ob_add(out, "  ", 2);
}

void table_emit(struct table *t, struct outbuf *out, unsigned indent)
{
	if (t->cells.oom) {
		out->oom = true;
		ob_free(&t->cells);
		return;
	}
	for (unsigned i = 0; i < indent; i++)
		ob_add(out, " ", 1);
	for (unsigned c = 0; c < t->ncols; c++)
		emit_cell(out, t->head[c], t->width[c], t->right[c], c + 1 == t->ncols);
	ob_add(out, "\n", 1);
	const char *p = t->cells.p;
	for (size_t r = 0; r < t->nrows && p; r++) {
		for (unsigned i = 0; i < indent; i++)
			ob_add(out, " ", 1);
		for (unsigned c = 0; c < t->ncols; c++) {
			emit_cell(out, p, t->width[c], t->right[c], c + 1 == t->ncols);
			p += strlen(p) + 1;
		}
		ob_add(out, "\n", 1);
	}
	ob_free(&t->cells);
}
