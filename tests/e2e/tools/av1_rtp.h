/*
 * av1_rtp.h - the test's own, independent implementation of the AV1 RTP payload format (OBU
 * elements, aggregation header, fragments) and of the Dependency Descriptor header extension
 * (AV1 RTP specification, appendix A), written from the specification for tests/e2e/tools/av1_svc.c.
 * It deliberately shares no code with the MMR's parsers (lib/codec/av1_dd.c): it is the other end.
 * Everything here is bounds-checked and returns -1 on malformed input.
 */
#ifndef E2E_AV1_RTP_H
#define E2E_AV1_RTP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- LEB128 (AV1 spec 4.10.5) ------------------------------------------------------------ */

static inline size_t leb128_size(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static inline size_t leb128_put(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	do {
		uint8_t b = v & 0x7f;

		v >>= 7;
		p[n++] = b | (v ? 0x80 : 0);
	} while (v);
	return n;
}

/* Returns bytes used, or 0 when the value runs past len or is longer than 8 bytes. */
static inline size_t leb128_get(const uint8_t *p, size_t len, uint64_t *v)
{
	uint64_t x = 0;

	for (size_t i = 0; i < len && i < 8; i++) {
		x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			*v = x;
			return i + 1;
		}
	}
	return 0;
}

/* ---- bit writer / reader (MSB first, as the descriptor's f(n)) ------------------------------ */

struct bitw {
	uint8_t *buf;
	size_t cap;      /* bytes */
	size_t pos;      /* bits written */
	int err;
};

static inline void bw_put(struct bitw *w, uint32_t v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		if (w->pos / 8 >= w->cap) {
			w->err = 1;
			return;
		}
		if ((v >> i) & 1)
			w->buf[w->pos / 8] |= 0x80 >> (w->pos % 8);
		w->pos++;
	}
}

struct bitr {
	const uint8_t *buf;
	size_t bits;
	size_t pos;
	int err;
};

static inline uint32_t br_get(struct bitr *r, int n)
{
	uint32_t v = 0;

	for (int i = 0; i < n; i++) {
		if (r->pos >= r->bits) {
			r->err = 1;
			return 0;
		}
		v = (v << 1) | ((r->buf[r->pos / 8] >> (7 - r->pos % 8)) & 1);
		r->pos++;
	}
	return v;
}

/* ns(n): non-symmetric unsigned value in [0, n) (descriptor spec, like AV1 4.10.7). */
static inline int ns_bits(uint32_t n)
{
	int w = 0;

	while (n) {
		n >>= 1;
		w++;
	}
	return w;
}

static inline void bw_ns(struct bitw *w, uint32_t n, uint32_t v)
{
	int b = ns_bits(n);
	uint32_t m = (1u << b) - n;

	if (v < m) {
		bw_put(w, v, b - 1);
	} else {
		bw_put(w, (v + m) >> 1, b - 1);
		bw_put(w, (v + m) & 1, 1);
	}
}

static inline uint32_t br_ns(struct bitr *r, uint32_t n)
{
	int b = ns_bits(n);
	uint32_t m = (1u << b) - n;
	uint32_t v = br_get(r, b - 1);

	if (v < m)
		return v;
	return (v << 1) - m + br_get(r, 1);
}

/* ---- Dependency Descriptor ------------------------------------------------------------------ */

#define DD_MAX_TEMPLATES 64
#define DD_MAX_DTS       32
#define DD_MAX_FDIFFS    16
#define DD_MAX_SPATIAL   4

enum { DTI_NONE = 0, DTI_DISCARDABLE = 1, DTI_SWITCH = 2, DTI_REQUIRED = 3 };

struct dd_structure {
	int id_offset;
	int dt_cnt;
	int template_cnt;
	int chain_cnt;
	int max_sid;
	int has_res;
	uint8_t sid[DD_MAX_TEMPLATES], tid[DD_MAX_TEMPLATES];
	uint8_t dti[DD_MAX_TEMPLATES][DD_MAX_DTS];
	uint8_t fdiff_cnt[DD_MAX_TEMPLATES];
	uint8_t fdiff[DD_MAX_TEMPLATES][DD_MAX_FDIFFS];
	uint8_t chain_fdiff[DD_MAX_TEMPLATES][DD_MAX_DTS];
	uint8_t dt_chain[DD_MAX_DTS];
	uint16_t width[DD_MAX_SPATIAL], height[DD_MAX_SPATIAL];
};

struct dd_frame {
	int start, end, template_id, frame_number;
	int has_structure;       /* this descriptor carried a structure */
	int has_active;
	uint32_t active;
	size_t active_pos;       /* bit position of the active decode targets bitmask (has_active) */
	int tindex;              /* template index in the structure in use */
	int sid, tid;
	int custom_dtis, custom_fdiffs, custom_chains;
};

/* Writes a descriptor that uses template tindex of st without custom fields; attaches st when
 * attach is set. Returns its length in bytes, -1 if it does not fit. */
static inline int dd_write(uint8_t *buf, size_t cap, const struct dd_structure *st, int attach,
			   int start, int end, int tindex, uint16_t frame_number)
{
	struct bitw w = { buf, cap, 0, 0 };
	int t, d, c, i;

	memset(buf, 0, cap);
	bw_put(&w, start, 1);
	bw_put(&w, end, 1);
	bw_put(&w, (tindex + st->id_offset) % 64, 6);
	bw_put(&w, frame_number, 16);
	if (attach) {
		bw_put(&w, 1, 1);    /* template_dependency_structure_present_flag */
		bw_put(&w, 0, 4);    /* active DTs, custom dtis/fdiffs/chains: none */
		bw_put(&w, st->id_offset, 6);
		bw_put(&w, st->dt_cnt - 1, 5);
		for (t = 0; t < st->template_cnt; t++) {
			int idc = 3;

			if (t + 1 < st->template_cnt) {
				if (st->sid[t + 1] == st->sid[t] && st->tid[t + 1] == st->tid[t])
					idc = 0;
				else if (st->sid[t + 1] == st->sid[t] && st->tid[t + 1] == st->tid[t] + 1)
					idc = 1;
				else if (st->sid[t + 1] == st->sid[t] + 1 && st->tid[t + 1] == 0)
					idc = 2;
				else
					return -1;   /* templates not in layer order */
			}
			bw_put(&w, idc, 2);
		}
		for (t = 0; t < st->template_cnt; t++)
			for (d = 0; d < st->dt_cnt; d++)
				bw_put(&w, st->dti[t][d], 2);
		for (t = 0; t < st->template_cnt; t++) {
			for (i = 0; i < st->fdiff_cnt[t]; i++) {
				bw_put(&w, 1, 1);
				bw_put(&w, st->fdiff[t][i] - 1, 4);
			}
			bw_put(&w, 0, 1);
		}
		bw_ns(&w, st->dt_cnt + 1, st->chain_cnt);
		if (st->chain_cnt) {
			for (d = 0; d < st->dt_cnt; d++)
				bw_ns(&w, st->chain_cnt, st->dt_chain[d]);
			for (t = 0; t < st->template_cnt; t++)
				for (c = 0; c < st->chain_cnt; c++)
					bw_put(&w, st->chain_fdiff[t][c], 4);
		}
		bw_put(&w, st->has_res, 1);
		if (st->has_res)
			for (i = 0; i <= st->max_sid; i++) {
				bw_put(&w, st->width[i] - 1, 16);
				bw_put(&w, st->height[i] - 1, 16);
			}
	}
	if (w.err)
		return -1;
	return (int)((w.pos + 7) / 8);
}

static inline int dd_parse_structure(struct bitr *r, struct dd_structure *st)
{
	int t, d, c, idc;

	memset(st, 0, sizeof(*st));
	st->id_offset = br_get(r, 6);
	st->dt_cnt = br_get(r, 5) + 1;
	/* template_layers */
	{
		int s = 0, tl = 0;

		do {
			if (st->template_cnt >= DD_MAX_TEMPLATES || s >= DD_MAX_SPATIAL)
				return -1;
			st->sid[st->template_cnt] = s;
			st->tid[st->template_cnt] = tl;
			st->template_cnt++;
			idc = br_get(r, 2);
			if (idc == 1) {
				tl++;
			} else if (idc == 2) {
				tl = 0;
				s++;
			}
			if (r->err)
				return -1;
		} while (idc != 3);
		st->max_sid = s;
	}
	for (t = 0; t < st->template_cnt; t++)
		for (d = 0; d < st->dt_cnt; d++)
			st->dti[t][d] = br_get(r, 2);
	for (t = 0; t < st->template_cnt; t++) {
		while (br_get(r, 1)) {
			if (st->fdiff_cnt[t] >= DD_MAX_FDIFFS || r->err)
				return -1;
			st->fdiff[t][st->fdiff_cnt[t]++] = br_get(r, 4) + 1;
		}
	}
	st->chain_cnt = br_ns(r, st->dt_cnt + 1);
	if (st->chain_cnt) {
		for (d = 0; d < st->dt_cnt; d++)
			st->dt_chain[d] = br_ns(r, st->chain_cnt);
		for (t = 0; t < st->template_cnt; t++)
			for (c = 0; c < st->chain_cnt; c++)
				st->chain_fdiff[t][c] = br_get(r, 4);
	}
	st->has_res = br_get(r, 1);
	if (st->has_res)
		for (int i = 0; i <= st->max_sid; i++) {
			st->width[i] = br_get(r, 16) + 1;
			st->height[i] = br_get(r, 16) + 1;
		}
	return r->err ? -1 : 0;
}

/* Parses one descriptor. *st is the structure in use (replaced when one is attached); *have says
 * whether *st holds one. Returns 0, or -1 (malformed, or no structure to interpret it with). */
static inline int dd_parse(const uint8_t *buf, size_t len, struct dd_structure *st, int *have,
			   struct dd_frame *f)
{
	struct bitr r = { buf, len * 8, 0, 0 };
	int d;

	memset(f, 0, sizeof(*f));
	if (len < 3)
		return -1;
	f->start = br_get(&r, 1);
	f->end = br_get(&r, 1);
	f->template_id = br_get(&r, 6);
	f->frame_number = br_get(&r, 16);
	if (len > 3) {
		f->has_structure = br_get(&r, 1);
		f->has_active = br_get(&r, 1);
		f->custom_dtis = br_get(&r, 1);
		f->custom_fdiffs = br_get(&r, 1);
		f->custom_chains = br_get(&r, 1);
		if (f->has_structure) {
			struct dd_structure tmp;

			if (dd_parse_structure(&r, &tmp))
				return -1;
			*st = tmp;
			*have = 1;
			f->active = (st->dt_cnt >= 32) ? 0xffffffffu : (1u << st->dt_cnt) - 1;
		}
		if (!*have)
			return -1;
		if (f->has_active) {
			f->active_pos = r.pos;
			f->active = br_get(&r, st->dt_cnt);
		}
	}
	if (!*have)
		return -1;
	f->tindex = (f->template_id + 64 - st->id_offset) % 64;
	if (f->tindex >= st->template_cnt)
		return -1;
	f->sid = st->sid[f->tindex];
	f->tid = st->tid[f->tindex];
	if (f->custom_dtis)
		for (d = 0; d < st->dt_cnt; d++)
			br_get(&r, 2);
	if (f->custom_fdiffs) {
		int sz, n = 0;

		while ((sz = br_get(&r, 2)) != 0) {
			if (++n > DD_MAX_FDIFFS || r.err)
				return -1;
			br_get(&r, 4 * sz);
		}
	}
	if (f->custom_chains)
		for (d = 0; d < st->chain_cnt; d++)
			br_get(&r, 8);
	return r.err ? -1 : 0;
}

/* ---- RTP with header extension elements (RFC 3550, RFC 8285) -------------------------------- */

#define RTP_MAX_EXT 16

struct rtp_ext_el {
	uint8_t id;
	uint8_t len;
	uint16_t off;            /* of the element's data from the start of the packet */
};

struct rtp_view {
	uint8_t marker, pt;
	uint16_t seq;
	uint32_t ts, ssrc;
	uint16_t ext_profile;    /* 0xBEDE, 0x1000 or 0 (no extension) */
	int n_ext;
	struct rtp_ext_el ext[RTP_MAX_EXT];
	size_t hdr_len;
	const uint8_t *payload;
	size_t payload_len;
};

static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline int rtp_parse(const uint8_t *p, size_t len, struct rtp_view *v)
{
	size_t hl, end = len;

	memset(v, 0, sizeof(*v));
	if (len < 12 || (p[0] >> 6) != 2)
		return -1;
	hl = 12 + 4 * (p[0] & 0x0f);
	v->marker = p[1] >> 7;
	v->pt = p[1] & 0x7f;
	v->seq = rd16(p + 2);
	v->ts = rd32(p + 4);
	v->ssrc = rd32(p + 8);
	if (p[0] & 0x10) {
		size_t xl, i, xe;

		if (len < hl + 4)
			return -1;
		v->ext_profile = rd16(p + hl);
		xl = 4 * (size_t)rd16(p + hl + 2);
		i = hl + 4;
		xe = i + xl;
		if (xe > len)
			return -1;
		if (v->ext_profile == 0xBEDE) {
			while (i < xe) {
				uint8_t b = p[i];

				if (b == 0) {          /* padding */
					i++;
					continue;
				}
				if ((b >> 4) == 15)    /* reserved id: stop */
					break;
				if (v->n_ext >= RTP_MAX_EXT || i + 1 + (b & 15) + 1 > xe)
					return -1;
				v->ext[v->n_ext++] = (struct rtp_ext_el){ b >> 4, (b & 15) + 1, i + 1 };
				i += 1 + (b & 15) + 1;
			}
		} else if ((v->ext_profile & 0xfff0) == 0x1000) {
			while (i < xe) {
				if (p[i] == 0) {
					i++;
					continue;
				}
				if (i + 2 > xe || i + 2 + p[i + 1] > xe || v->n_ext >= RTP_MAX_EXT)
					return -1;
				v->ext[v->n_ext++] = (struct rtp_ext_el){ p[i], p[i + 1], i + 2 };
				i += 2 + p[i + 1];
			}
		}
		hl = xe;
	}
	if (p[0] & 0x20) {
		if (len <= hl || p[len - 1] == 0 || p[len - 1] > len - hl)
			return -1;
		end -= p[len - 1];
	}
	if (hl > end)
		return -1;
	v->hdr_len = hl;
	v->payload = p + hl;
	v->payload_len = end - hl;
	return 0;
}

static inline const struct rtp_ext_el *rtp_ext_find(const struct rtp_view *v, int id)
{
	for (int i = 0; i < v->n_ext; i++)
		if (v->ext[i].id == id)
			return &v->ext[i];
	return NULL;
}

/* ---- AV1 OBUs ---------------------------------------------------------------------------------- */

enum {
	T_OBU_SEQ = 1, T_OBU_TD = 2, T_OBU_FRAME_HDR = 3,
	T_OBU_TILE_GROUP = 4, T_OBU_METADATA = 5, T_OBU_FRAME = 6, T_OBU_TILE_LIST = 8, T_OBU_PADDING = 15,
};

struct obu_info {
	int type, has_ext, tid, sid;
	size_t hdr_len;          /* header (+ extension) bytes */
	size_t total;            /* whole OBU incl. size field */
	size_t payload_off, payload_len;
};

/* Parses the OBU at p (low-overhead format, size field required unless it runs to len). */
static inline int obu_parse(const uint8_t *p, size_t len, struct obu_info *o)
{
	uint64_t sz;
	size_t n;

	memset(o, 0, sizeof(*o));
	if (len < 1 || (p[0] & 0x80))
		return -1;
	o->type = (p[0] >> 3) & 15;
	o->has_ext = (p[0] >> 2) & 1;
	o->hdr_len = 1 + o->has_ext;
	if (len < o->hdr_len)
		return -1;
	if (o->has_ext) {
		o->tid = p[1] >> 5;
		o->sid = (p[1] >> 3) & 3;
	}
	if (p[0] & 2) {
		n = leb128_get(p + o->hdr_len, len - o->hdr_len, &sz);
		if (!n || sz > len - o->hdr_len - n)
			return -1;
		o->payload_off = o->hdr_len + n;
		o->payload_len = (size_t)sz;
	} else {
		o->payload_off = o->hdr_len;
		o->payload_len = len - o->hdr_len;
	}
	o->total = o->payload_off + o->payload_len;
	return 0;
}

/* ---- AV1 RTP depacketizer --------------------------------------------------------------------- */

struct av1_depack {
	uint8_t *frag;           /* the OBU element being reassembled */
	size_t frag_len, frag_cap;
	int in_frag;
	uint8_t *tu;             /* the temporal unit: TD + OBUs with size fields */
	size_t tu_len, tu_cap;
	int n_obus;
	const char *err;
};

static inline void depack_tu_begin(struct av1_depack *d)
{
	d->tu_len = 0;
	d->n_obus = 0;
	d->in_frag = 0;
	d->frag_len = 0;
	d->err = NULL;
	if (d->tu_cap >= 2) {
		d->tu[0] = T_OBU_TD << 3 | 2;   /* TD with obu_has_size_field, size 0 */
		d->tu[1] = 0;
		d->tu_len = 2;
	}
}

/* One complete OBU element: give it back its size field and append it to the TU. */
static inline int depack_obu(struct av1_depack *d, const uint8_t *e, size_t len)
{
	struct obu_info o;

	if (obu_parse(e, len, &o) || o.total != len) {
		d->err = "malformed OBU element";
		return -1;
	}
	if (o.type == T_OBU_TD || o.type == T_OBU_TILE_LIST || o.type == T_OBU_PADDING)
		return 0;    /* not to be sent; a receiver ignores them */
	if (d->tu_len + len + 8 > d->tu_cap) {
		d->err = "temporal unit too large";
		return -1;
	}
	memcpy(d->tu + d->tu_len, e, o.hdr_len);
	d->tu[d->tu_len] |= 2;
	d->tu_len += o.hdr_len;
	d->tu_len += leb128_put(d->tu + d->tu_len, o.payload_len);
	memcpy(d->tu + d->tu_len, e + o.payload_off, o.payload_len);
	d->tu_len += o.payload_len;
	d->n_obus++;
	return 0;
}

/* One RTP payload. Returns 0, -1 on a malformed payload or a broken fragment chain (d->err). */
static inline int depack_payload(struct av1_depack *d, const uint8_t *p, size_t len, int *n_flag)
{
	int z, y, w, idx = 0;
	size_t pos = 1;

	if (len < 2) {
		d->err = "payload shorter than aggregation header + element";
		return -1;
	}
	z = p[0] >> 7;
	y = (p[0] >> 6) & 1;
	w = (p[0] >> 4) & 3;
	*n_flag = (p[0] >> 3) & 1;
	if (z && !d->in_frag) {
		d->err = "Z=1 but no OBU fragment pending (lost packet)";
		return -1;
	}
	if (!z && d->in_frag) {
		d->err = "OBU fragment never completed";
		return -1;
	}
	while (pos < len) {
		uint64_t el;
		size_t n;
		int last;

		if (w == 0 || idx < w - 1) {
			n = leb128_get(p + pos, len - pos, &el);
			if (!n || el > len - pos - n) {
				d->err = "OBU element length runs past the payload";
				return -1;
			}
			pos += n;
		} else {
			el = len - pos;
		}
		if (w && idx >= w) {
			d->err = "more OBU elements than W says";
			return -1;
		}
		last = (pos + el == len);
		if (!(idx == 0 && z)) {
			d->frag_len = 0;
		}
		if (d->frag_len + el > d->frag_cap) {
			d->err = "OBU too large";
			return -1;
		}
		memcpy(d->frag + d->frag_len, p + pos, el);
		d->frag_len += el;
		pos += el;
		d->in_frag = 1;
		if (!(last && y)) {
			d->in_frag = 0;
			if (depack_obu(d, d->frag, d->frag_len))
				return -1;
			d->frag_len = 0;
		}
		idx++;
	}
	if (w && idx != w) {
		d->err = "fewer OBU elements than W says";
		return -1;
	}
	return 0;
}

#endif
