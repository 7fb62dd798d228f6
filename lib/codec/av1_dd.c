/*
 * av1_dd.c - the AV1 Dependency Descriptor (AV1 RTP payload specification, appendix A).
 *
 * Layout: a bit string, most significant bit first.
 *   mandatory (3 bytes):  start_of_frame(1) end_of_frame(1) frame_dependency_template_id(6)
 *                         frame_number(16)
 *   extended (len > 3):   structure_present(1) active_dts_present(1) custom_dtis(1)
 *                         custom_fdiffs(1) custom_chains(1)
 *                         [template_dependency_structure] [active_decode_targets_bitmask f(DtCnt)]
 *   frame dependency:     [custom DTIs f(2) x DtCnt] [custom fdiffs: size f(2), then f(4*size)
 *                         until a size of 0] [custom chain fdiffs f(8) x chain count]
 *   zero padding to the end, ignored.
 *
 * A frame refers to a template by id: index = (id - template_id_offset) mod 64; an index beyond
 * the templates means the packet belongs to a structure we do not have (lost or late), so it is
 * dropped as BAD_PAYLOAD. A structure in the packet is parsed into a scratch copy on the stack
 * and replaces the stream's only once everything parsed, so a malformed packet changes nothing.
 */
#include "av1_dd.h"

#include <string.h>

#define AV1_DD_MANDATORY_BITS 24
#define AV1_DD_FLAGS_BITS     5

/* Bounded bit reader: reading past the end returns zeros and sets `over`; callers check it at
 * the end of each loop so that zeros never drive a loop on. */
struct br {
	const uint8_t *p;
	uint32_t nbits;
	uint32_t pos;
	uint8_t  over;
};

static uint32_t br_f(struct br *b, unsigned n)
{
	uint32_t v = 0;

	if (n > b->nbits - b->pos) {
		b->over = 1;
		b->pos = b->nbits;
		return 0;
	}
	while (n) {
		unsigned used = b->pos & 7;
		unsigned take = 8 - used < n ? 8 - used : n;
		uint32_t byte = b->p[b->pos >> 3];

		v = v << take | ((byte >> (8 - used - take)) & ((1u << take) - 1));
		b->pos += take;
		n -= take;
	}
	return v;
}

/* ns(n): a value 0..n-1 in w-1 or w bits (w = bits of n), the short codes for the low values. */
static uint32_t br_ns(struct br *b, uint32_t n)
{
	unsigned w = 0;
	uint32_t x = n, m, v;

	while (x) {
		x >>= 1;
		w++;
	}
	m = (1u << w) - n;
	v = br_f(b, w - 1);
	if (v < m)
		return v;
	return (v << 1) - m + br_f(b, 1);
}

static void bw_f(uint8_t *p, uint32_t pos, unsigned n, uint32_t v)
{
	while (n) {
		uint8_t bit = (uint8_t)(0x80 >> (pos & 7));

		n--;
		if (v >> n & 1)
			p[pos >> 3] |= bit;
		else
			p[pos >> 3] &= (uint8_t)~bit;
		pos++;
	}
}

static inline uint32_t all_dts(unsigned n_dts)
{
	return n_dts >= 32 ? 0xffffffffu : (1u << n_dts) - 1;
}

/* template_layers(): next_layer_idc 0 same layer, 1 next temporal, 2 next spatial, 3 stop. */
static enum mmr_drop_reason parse_layers(struct br *b, struct av1_dd_structure *s)
{
	unsigned sid = 0, tid = 0, n = 0, idc;

	do {
		if (n == AV1_DD_MAX_TEMPLATES)
			return MMR_DROP_BAD_PAYLOAD;
		if (sid > AV1_DD_MAX_SPATIAL || tid > AV1_DD_MAX_TEMPORAL)
			return MMR_DROP_BAD_PAYLOAD;
		s->tpl[n].sid = (uint8_t)sid;
		s->tpl[n].tid = (uint8_t)tid;
		if (tid > s->max_tid)
			s->max_tid = (uint8_t)tid;
		n++;
		idc = br_f(b, 2);
		if (b->over)
			return MMR_DROP_TRUNCATED;
		if (idc == 1) {
			tid++;
		} else if (idc == 2) {
			tid = 0;
			sid++;
		}
	} while (idc != 3);
	s->n_templates = (uint8_t)n;
	s->max_sid = (uint8_t)sid;
	return MMR_DROP_NONE;
}

/* template_fdiffs(): per template, fdiff_follows_flag(1) then fdiff_minus_one(4), repeated. */
static enum mmr_drop_reason parse_template_fdiffs(struct br *b, struct av1_dd_structure *s)
{
	for (unsigned t = 0; t < s->n_templates; t++) {
		struct av1_dd_template *tp = &s->tpl[t];

		while (br_f(b, 1)) {
			if (tp->n_fdiffs == AV1_MAX_FDIFFS)
				return MMR_DROP_BAD_PAYLOAD;
			tp->fdiff[tp->n_fdiffs++] = (uint8_t)(br_f(b, 4) + 1);
		}
		if (b->over)
			return MMR_DROP_TRUNCATED;
	}
	return MMR_DROP_NONE;
}

/* template_chains(): chain count ns(DtCnt + 1), each DT's chain ns(count), f(4) per template. */
static void parse_template_chains(struct br *b, struct av1_dd_structure *s)
{
	s->n_chains = (uint8_t)br_ns(b, s->n_dts + 1u);
	if (s->n_chains == 0)
		return;
	for (unsigned dt = 0; dt < s->n_dts; dt++)
		s->dt_chain[dt] = (uint8_t)br_ns(b, s->n_chains);
	for (unsigned t = 0; t < s->n_templates; t++)
		for (unsigned c = 0; c < s->n_chains; c++)
			s->tpl[t].chain_fdiff[c] = (uint8_t)br_f(b, 4);
}

/* template_dependency_structure() into s, which the caller zeroed. */
static enum mmr_drop_reason parse_structure(struct br *b, struct av1_dd_structure *s)
{
	enum mmr_drop_reason r;

	s->template_id_offset = (uint8_t)br_f(b, 6);
	s->n_dts = (uint8_t)(br_f(b, 5) + 1);
	if (b->over)
		return MMR_DROP_TRUNCATED;
	r = parse_layers(b, s);
	if (r != MMR_DROP_NONE)
		return r;
	for (unsigned t = 0; t < s->n_templates; t++) {
		uint64_t dtis = 0;

		for (unsigned dt = 0; dt < s->n_dts; dt++)
			dtis |= (uint64_t)br_f(b, 2) << (2 * dt);
		s->tpl[t].dtis = dtis;
	}
	if (b->over)
		return MMR_DROP_TRUNCATED;
	r = parse_template_fdiffs(b, s);
	if (r != MMR_DROP_NONE)
		return r;
	parse_template_chains(b, s);
	s->has_resolutions = (uint8_t)br_f(b, 1);
	if (s->has_resolutions) {
		for (unsigned sid = 0; sid <= s->max_sid; sid++) {
			s->width[sid] = br_f(b, 16) + 1;
			s->height[sid] = br_f(b, 16) + 1;
		}
	}
	if (b->over)
		return MMR_DROP_TRUNCATED;
	s->active_dts = all_dts(s->n_dts);
	s->dt_top_sid = 0;
	for (unsigned dt = 0; dt < s->n_dts; dt++) {
		unsigned top = 0;
		for (unsigned t = 0; t < s->n_templates; t++)
			if ((s->tpl[t].dtis >> (2 * dt) & 3) != 0 && s->tpl[t].sid > top)
				top = s->tpl[t].sid;
		s->dt_top_sid |= (uint64_t)top << (2 * dt);
	}
	/* DT j lies within DT k when no template has j present and k not present */
	for (unsigned k = 0; k < s->n_dts; k++) {
		uint32_t outside = 0;
		for (unsigned t = 0; t < s->n_templates; t++) {
			uint64_t d = s->tpl[t].dtis;
			uint32_t present = 0;
			for (unsigned j = 0; j < s->n_dts; j++)
				present |= (uint32_t)((d >> (2 * j) & 3) != 0) << j;
			if (!(present >> k & 1))
				outside |= present;
		}
		s->dt_within[k] = all_dts(s->n_dts) & ~outside;
	}
	s->valid = 1;
	return MMR_DROP_NONE;
}

/* frame_fdiffs(): next_fdiff_size(2), then fdiff_minus_one of 4*size bits, until a size of 0. */
static enum mmr_drop_reason parse_frame_fdiffs(struct br *b, struct media_pkt *f)
{
	unsigned size;

	f->n_fdiffs = 0;
	while ((size = br_f(b, 2)) != 0) {
		uint32_t fdiff = br_f(b, 4 * size) + 1;

		if (b->over)
			return MMR_DROP_TRUNCATED;
		if (f->n_fdiffs == AV1_MAX_FDIFFS || fdiff > 255)
			return MMR_DROP_BAD_PAYLOAD;
		f->fdiff[f->n_fdiffs++] = (uint8_t)fdiff;
	}
	return b->over ? MMR_DROP_TRUNCATED : MMR_DROP_NONE;
}

struct dd_flags {
	uint8_t structure, active, custom_dtis, custom_fdiffs, custom_chains;
};

static void read_flags(struct br *b, struct dd_flags *fl)
{
	fl->structure = (uint8_t)br_f(b, 1);
	fl->active = (uint8_t)br_f(b, 1);
	fl->custom_dtis = (uint8_t)br_f(b, 1);
	fl->custom_fdiffs = (uint8_t)br_f(b, 1);
	fl->custom_chains = (uint8_t)br_f(b, 1);
}

/*
 * frame_dependency_definition() into the scratch frame f (only its AV1 fields are used): the
 * template's layers, and its DTIs / fdiffs / chain fdiffs unless the packet carries custom ones.
 */
static enum mmr_drop_reason parse_frame(struct br *b, const struct dd_flags *fl,
					const struct av1_dd_structure *s, uint8_t template_id,
					struct media_pkt *f)
{
	unsigned idx = (template_id + AV1_DD_MAX_TEMPLATES - s->template_id_offset) % AV1_DD_MAX_TEMPLATES;
	const struct av1_dd_template *t;

	if (idx >= s->n_templates)
		return MMR_DROP_BAD_PAYLOAD;
	t = &s->tpl[idx];
	f->sid = t->sid;
	f->tid = t->tid;
	if (fl->custom_dtis) {
		f->dtis = 0;
		for (unsigned dt = 0; dt < s->n_dts; dt++)
			f->dtis |= (uint64_t)br_f(b, 2) << (2 * dt);
	} else {
		f->dtis = t->dtis;
	}
	if (fl->custom_fdiffs) {
		enum mmr_drop_reason r = parse_frame_fdiffs(b, f);

		if (r != MMR_DROP_NONE)
			return r;
	} else {
		f->n_fdiffs = t->n_fdiffs;
		memcpy(f->fdiff, t->fdiff, sizeof(f->fdiff));
	}
	if (fl->custom_chains) {
		for (unsigned c = 0; c < s->n_chains; c++)
			f->chain_fdiff[c] = (uint8_t)br_f(b, 8);
	} else {
		memcpy(f->chain_fdiff, t->chain_fdiff, sizeof(f->chain_fdiff));
	}
	return b->over ? MMR_DROP_TRUNCATED : MMR_DROP_NONE;
}

/* Copy the parsed frame into the caller's media_pkt, leaving its non-AV1 fields alone. */
static void fill_pkt(struct media_pkt *mp, const struct media_pkt *f, const struct av1_dd_structure *s)
{
	mp->start = f->start;
	mp->end = f->end;
	mp->sid = f->sid;
	mp->tid = f->tid;
	mp->has_layers = 1;
	mp->dd_off = f->dd_off;
	mp->dd_len = f->dd_len;
	mp->frame_number = f->frame_number;
	mp->template_id = f->template_id;
	mp->structure_attached = f->structure_attached;
	mp->n_fdiffs = f->n_fdiffs;
	memset(mp->fdiff, 0, sizeof(mp->fdiff));
	memcpy(mp->fdiff, f->fdiff, f->n_fdiffs);
	mp->dtis = f->dtis;
	mp->n_dts = s->n_dts;
	mp->n_chains = s->n_chains;
	memset(mp->chain_fdiff, 0, sizeof(mp->chain_fdiff));
	memcpy(mp->chain_fdiff, f->chain_fdiff, s->n_chains);
	memcpy(mp->dt_chain, s->dt_chain, sizeof(mp->dt_chain));
	mp->active_dts = s->active_dts;
	mp->dt_top_sid = s->dt_top_sid;
	/* decodable from nothing earlier: the first packet of a spatial-0 frame with no references,
	 * and the structure it needs in the same packet */
	mp->keyframe = f->start && f->sid == 0 && f->n_fdiffs == 0 && f->structure_attached;
}

enum mmr_drop_reason av1_dd_parse(const uint8_t *dd, uint32_t len, uint16_t dd_off,
				  struct av1_dd_structure *st, struct media_pkt *mp)
{
	struct br b = { .p = dd, .nbits = len * 8, .pos = AV1_DD_MANDATORY_BITS };
	struct dd_flags fl = { 0 };
	struct av1_dd_structure nst;
	const struct av1_dd_structure *s = st;
	struct media_pkt f;
	uint32_t active;
	enum mmr_drop_reason r;

	if (len < 3)
		return MMR_DROP_TRUNCATED;
	if (len > AV1_DD_MAX_LEN)
		return MMR_DROP_BAD_PAYLOAD;
	f.start = dd[0] >> 7;
	f.end = (dd[0] >> 6) & 1;
	f.template_id = dd[0] & 0x3f;
	f.frame_number = (uint16_t)(dd[1] << 8 | dd[2]);
	f.dd_off = dd_off;
	f.dd_len = (uint16_t)len;

	if (len > 3)
		read_flags(&b, &fl);
	if (fl.structure) {
		memset(&nst, 0, sizeof(nst));
		r = parse_structure(&b, &nst);
		if (r != MMR_DROP_NONE)
			return r;
		s = &nst;
	} else if (!st->valid) {
		return MMR_DROP_NO_STRUCTURE;
	}
	active = s->active_dts;
	if (fl.active) {
		active = br_f(&b, s->n_dts);
		if (b.over)
			return MMR_DROP_TRUNCATED;
	}
	f.structure_attached = fl.structure;
	r = parse_frame(&b, &fl, s, f.template_id, &f);
	if (r != MMR_DROP_NONE)
		return r;

	/* everything parsed: commit */
	if (fl.structure)
		*st = nst;
	st->active_dts = active;
	fill_pkt(mp, &f, st);
	mp->dd_active_present = fl.active;
	return MMR_DROP_NONE;
}

void av1_dd_set_frame_number(uint8_t *dd, uint16_t frame_number)
{
	dd[1] = (uint8_t)(frame_number >> 8);
	dd[2] = (uint8_t)frame_number;
}

int av1_dd_set_active_dts(uint8_t *dd, uint32_t len, uint8_t n_dts, uint32_t mask)
{
	struct br b = { .p = dd, .nbits = len * 8, .pos = AV1_DD_MANDATORY_BITS };
	struct dd_flags fl;

	if (len <= 3 || len > AV1_DD_MAX_LEN || n_dts == 0 || n_dts > AV1_MAX_DT)
		return -1;
	read_flags(&b, &fl);
	if (!fl.active)
		return -1;
	if (fl.structure) {
		struct av1_dd_structure nst;

		/* the bitmask follows the structure: walk it to find where */
		memset(&nst, 0, sizeof(nst));
		if (parse_structure(&b, &nst) != MMR_DROP_NONE || nst.n_dts != n_dts)
			return -1;
	}
	if (n_dts > b.nbits - b.pos)
		return -1;
	bw_f(dd, b.pos, n_dts, mask);          /* its low n_dts bits */
	return 0;
}

int av1_dd_with_active(const uint8_t *dd, uint32_t len, uint8_t n_dts, uint32_t mask, uint8_t *out,
		       uint32_t cap)
{
	struct br b = { .p = dd, .nbits = len * 8, .pos = AV1_DD_MANDATORY_BITS };
	struct dd_flags fl;

	if (len <= 3 || len > AV1_DD_MAX_LEN || n_dts == 0 || n_dts > AV1_MAX_DT || cap < len)
		return -1;
	read_flags(&b, &fl);
	if (b.over)
		return -1;
	if (fl.active) {
		memcpy(out, dd, len);
		return av1_dd_set_active_dts(out, len, n_dts, mask) == 0 ? (int)len : -1;
	}
	if (fl.structure) {
		struct av1_dd_structure nst;

		memset(&nst, 0, sizeof(nst));
		if (parse_structure(&b, &nst) != MMR_DROP_NONE || nst.n_dts != n_dts)
			return -1;
	}
	/* insert n_dts bits at b.pos; the rest (frame dependency fields, zero padding) moves down */
	uint32_t at = b.pos, nbits = len * 8 + n_dts;
	uint32_t n = (nbits + 7) / 8;
	if (n > cap || n > AV1_DD_MAX_LEN)
		return -1;
	memset(out, 0, n);
	memcpy(out, dd, at / 8 + (at % 8 != 0));
	bw_f(out, at, n_dts, mask);
	for (uint32_t i = at; i < len * 8; i++)
		bw_f(out, i + n_dts, 1, dd[i >> 3] >> (7 - (i & 7)) & 1);
	bw_f(out, AV1_DD_MANDATORY_BITS + 1, 1, 1);    /* active_decode_targets_present_flag */
	return (int)n;
}
