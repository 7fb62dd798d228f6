/*
 * outbuf.h - growable text buffers for replies and the state file, aligned text tables, and JSON
 * string escaping. A buffer that fails to grow remembers it (oom) and ignores further appends,
 * so callers check once at the end.
 */
#ifndef MMR_OUTBUF_H
#define MMR_OUTBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct outbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

void ob_init(struct outbuf *b);
void ob_free(struct outbuf *b);
void ob_reset(struct outbuf *b);
void ob_add(struct outbuf *b, const char *s, size_t n);
void ob_puts(struct outbuf *b, const char *s);
void ob_printf(struct outbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ob_u64(struct outbuf *b, uint64_t v);
/* "0x" and 8 lower-case hex digits. */
void ob_hex32(struct outbuf *b, uint32_t v);
void ob_char(struct outbuf *b, char c);
/* A JSON string literal, quotes included; bytes outside printable ASCII are \u-escaped. */
void ob_json_str(struct outbuf *b, const char *s);
void ob_json_strn(struct outbuf *b, const char *s, size_t n);

/* An aligned text table: columns named in the header, numbers right-aligned. */
#define TABLE_MAX_COLS 40
struct table {
	unsigned ncols;
	const char *head[TABLE_MAX_COLS];
	bool right[TABLE_MAX_COLS];
	size_t width[TABLE_MAX_COLS];
	struct outbuf cells;       /* every cell, NUL-terminated, row after row */
	size_t nrows;
	unsigned col;              /* next column of the current row */
};

/* Columns: "NAME" left-aligned, ">NAME" right-aligned. */
void table_init(struct table *t, unsigned ncols, const char *const cols[]);
void table_cell(struct table *t, const char *s);
void table_cellf(struct table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void table_cell_u64(struct table *t, uint64_t v);
/* Append the table (header and rows) to out, indented by indent spaces; frees the cells. */
void table_emit(struct table *t, struct outbuf *out, unsigned indent);
bool table_oom(const struct table *t);
/* Drop a table without emitting it. */
void table_free(struct table *t);

#endif
