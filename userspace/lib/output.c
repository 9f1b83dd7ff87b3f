// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "persecmon/output.h"

enum level_kind {
	LVL_TOP,
	LVL_LINE,
	LVL_BLOCK,
	LVL_OBJECT,
	LVL_LIST,
};

/* Width of the label column of text blocks. */
#define TEXT_LABEL_WIDTH	20

void pm_out_init(struct pm_out *o, FILE *f, enum pm_out_format format,
		 bool verbose)
{
	memset(o, 0, sizeof(*o));
	o->f = f;
	o->format = format;
	o->verbose = verbose;
	o->level[0].kind = LVL_TOP;
}

static unsigned int cur_kind(const struct pm_out *o)
{
	return o->level[o->depth].kind;
}

/*
 * A container nested deeper than PM_OUT_MAX_DEPTH is a programming error;
 * the excess levels are folded into the last one rather than overflowing.
 */
static void push(struct pm_out *o, enum level_kind kind)
{
	if (o->depth + 1 < PM_OUT_MAX_DEPTH)
		o->depth++;
	o->level[o->depth].kind = kind;
	o->level[o->depth].fields = 0;
}

static void pop(struct pm_out *o)
{
	if (o->depth > 0)
		o->depth--;
}

/* Text: is the current level laid out on one line? */
static bool text_inline(const struct pm_out *o)
{
	unsigned int d;

	for (d = o->depth; d > 0; d--) {
		if (o->level[d].kind == LVL_LINE)
			return true;
		if (o->level[d].kind != LVL_OBJECT)
			return false;
	}
	return false;
}

static unsigned int text_indent(const struct pm_out *o)
{
	unsigned int d, n = 0;

	for (d = 1; d <= o->depth; d++)
		if (o->level[d].kind == LVL_OBJECT)
			n += 2;
	return n;
}

/* JSON: comma before every member but the first. */
static void json_sep(struct pm_out *o)
{
	if (o->level[o->depth].fields++ > 0)
		fputc(',', o->f);
}

void pm_json_write_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	for (; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

static void json_key(struct pm_out *o, const char *key)
{
	json_sep(o);
	if (cur_kind(o) != LVL_LIST && key) {
		pm_json_write_string(o->f, key);
		fputc(':', o->f);
	}
}

/*
 * Text: start a field. Inline fields are separated by one space; block
 * fields get their own line with an aligned label. Returns true when the
 * field is inline.
 */
static bool text_field(struct pm_out *o, const char *key, bool with_key)
{
	unsigned int indent, i;
	int width;

	if (text_inline(o)) {
		if (o->level[o->depth].fields++ > 0)
			fputc(' ', o->f);
		if (with_key)
			fprintf(o->f, "%s=", key);
		return true;
	}
	o->level[o->depth].fields++;
	indent = text_indent(o);
	width = TEXT_LABEL_WIDTH - (int)indent;
	fprintf(o->f, "%*s", (int)indent, "");
	for (i = 0; key[i]; i++)
		fputc(key[i] == '_' ? ' ' : key[i], o->f);
	fprintf(o->f, "%*s ", width - (int)i > 0 ? width - (int)i : 0, "");
	return false;
}

static void text_field_end(struct pm_out *o, bool inl)
{
	if (!inl)
		fputc('\n', o->f);
}

void pm_out_header(struct pm_out *o, const char *fmt, ...)
{
	va_list ap;

	if (pm_out_is_json(o))
		return;
	va_start(ap, fmt);
	vfprintf(o->f, fmt, ap);
	va_end(ap);
	fputc('\n', o->f);
}

void pm_out_text(struct pm_out *o, const char *fmt, ...)
{
	va_list ap;

	if (pm_out_is_json(o))
		return;
	va_start(ap, fmt);
	vfprintf(o->f, fmt, ap);
	va_end(ap);
}

void pm_out_line_begin(struct pm_out *o)
{
	if (pm_out_is_json(o)) {
		if (cur_kind(o) != LVL_TOP)
			json_sep(o);
		fputc('{', o->f);
	} else if (cur_kind(o) == LVL_LIST) {
		o->level[o->depth].fields++;
	}
	push(o, LVL_LINE);
}

void pm_out_line_end(struct pm_out *o)
{
	pop(o);
	if (pm_out_is_json(o)) {
		fputc('}', o->f);
		if (cur_kind(o) == LVL_TOP)
			fputc('\n', o->f);
	} else {
		fputc('\n', o->f);
	}
}

void pm_out_block_begin(struct pm_out *o)
{
	if (pm_out_is_json(o)) {
		if (cur_kind(o) != LVL_TOP)
			json_sep(o);
		fputc('{', o->f);
	}
	push(o, LVL_BLOCK);
}

void pm_out_block_end(struct pm_out *o)
{
	pop(o);
	if (pm_out_is_json(o)) {
		fputc('}', o->f);
		if (cur_kind(o) == LVL_TOP)
			fputc('\n', o->f);
	}
}

void pm_out_object_begin(struct pm_out *o, const char *key)
{
	unsigned int i;

	if (pm_out_is_json(o)) {
		json_key(o, key);
		fputc('{', o->f);
	} else if (text_inline(o)) {
		text_field(o, key, true);
		fputc('{', o->f);
	} else {
		/* A heading line; the object's fields follow indented. */
		o->level[o->depth].fields++;
		fprintf(o->f, "%*s", (int)text_indent(o), "");
		for (i = 0; key[i]; i++)
			fputc(key[i] == '_' ? ' ' : key[i], o->f);
		fputs(":\n", o->f);
	}
	push(o, LVL_OBJECT);
}

void pm_out_object_end(struct pm_out *o)
{
	pop(o);
	if (pm_out_is_json(o))
		fputc('}', o->f);
	else if (text_inline(o))
		fputc('}', o->f);
}

void pm_out_list_begin(struct pm_out *o, const char *key,
		       const char *text_header)
{
	if (pm_out_is_json(o)) {
		json_key(o, key);
		fputc('[', o->f);
	} else if (text_header) {
		if (o->level[o->depth].fields > 0)
			fputc('\n', o->f);
		fprintf(o->f, "%s\n", text_header);
	}
	if (!pm_out_is_json(o))
		o->level[o->depth].fields++;
	push(o, LVL_LIST);
}

void pm_out_list_end(struct pm_out *o)
{
	pop(o);
	if (pm_out_is_json(o))
		fputc(']', o->f);
}

/* Text values with blanks are quoted so a line stays splittable on '='. */
static void text_value(struct pm_out *o, const char *s, bool inl)
{
	if (!s) {
		fputc('-', o->f);
		return;
	}
	if (inl && (!*s || strpbrk(s, " \t=")))
		fprintf(o->f, "\"%s\"", s);
	else
		fputs(s, o->f);
}

void pm_out_col_str(struct pm_out *o, const char *key, int width,
		    const char *s)
{
	bool inl;

	if (pm_out_is_json(o)) {
		json_key(o, key);
		if (s)
			pm_json_write_string(o->f, s);
		else
			fputs("null", o->f);
		return;
	}
	inl = text_field(o, key, false);
	if (inl)
		fprintf(o->f, "%*s", width, s ? s : "-");
	else
		text_value(o, s, false);
	text_field_end(o, inl);
}

void pm_out_col_u64(struct pm_out *o, const char *key, int width, uint64_t v)
{
	bool inl;

	if (pm_out_is_json(o)) {
		json_key(o, key);
		fprintf(o->f, "%" PRIu64, v);
		return;
	}
	inl = text_field(o, key, false);
	fprintf(o->f, "%*" PRIu64, inl ? width : 0, v);
	text_field_end(o, inl);
}

void pm_out_col_i64(struct pm_out *o, const char *key, int width, int64_t v)
{
	bool inl;

	if (pm_out_is_json(o)) {
		json_key(o, key);
		fprintf(o->f, "%" PRId64, v);
		return;
	}
	inl = text_field(o, key, false);
	fprintf(o->f, "%*" PRId64, inl ? width : 0, v);
	text_field_end(o, inl);
}

static void json_f64(FILE *f, int prec, double v)
{
	if (isfinite(v))
		fprintf(f, "%.*f", prec, v);
	else
		fputs("null", f);
}

void pm_out_col_f64(struct pm_out *o, const char *key, int width, int prec,
		    double v)
{
	bool inl;

	if (pm_out_is_json(o)) {
		json_key(o, key);
		json_f64(o->f, prec, v);
		return;
	}
	inl = text_field(o, key, false);
	fprintf(o->f, "%*.*f", inl ? width : 0, prec, v);
	text_field_end(o, inl);
}

void pm_out_kv_str(struct pm_out *o, const char *key, const char *s)
{
	bool inl;

	if (pm_out_is_json(o)) {
		pm_out_col_str(o, key, 0, s);
		return;
	}
	inl = text_field(o, key, true);
	text_value(o, s, inl);
	text_field_end(o, inl);
}

void pm_out_kv_u64(struct pm_out *o, const char *key, uint64_t v)
{
	bool inl;

	if (pm_out_is_json(o)) {
		pm_out_col_u64(o, key, 0, v);
		return;
	}
	inl = text_field(o, key, true);
	fprintf(o->f, "%" PRIu64, v);
	text_field_end(o, inl);
}

void pm_out_kv_i64(struct pm_out *o, const char *key, int64_t v)
{
	bool inl;

	if (pm_out_is_json(o)) {
		json_key(o, key);
		fprintf(o->f, "%" PRId64, v);
		return;
	}
	inl = text_field(o, key, true);
	fprintf(o->f, "%" PRId64, v);
	text_field_end(o, inl);
}

void pm_out_kv_hex(struct pm_out *o, const char *key, uint64_t v)
{
	bool inl;

	if (pm_out_is_json(o)) {
		pm_out_col_u64(o, key, 0, v);
		return;
	}
	inl = text_field(o, key, true);
	fprintf(o->f, "0x%" PRIx64, v);
	text_field_end(o, inl);
}

void pm_out_kv_f64(struct pm_out *o, const char *key, int prec, double v)
{
	bool inl;

	if (pm_out_is_json(o)) {
		json_key(o, key);
		json_f64(o->f, prec, v);
		return;
	}
	inl = text_field(o, key, true);
	fprintf(o->f, "%.*f", prec, v);
	text_field_end(o, inl);
}

void pm_out_kv_bool(struct pm_out *o, const char *key, bool v)
{
	bool inl;

	if (pm_out_is_json(o)) {
		json_key(o, key);
		fputs(v ? "true" : "false", o->f);
		return;
	}
	inl = text_field(o, key, true);
	fputs(v ? "yes" : "no", o->f);
	text_field_end(o, inl);
}

/*
 * A list value: JSON [a,b] with each item as @put writes it (strings
 * quoted), text a,b ("-" when empty, nothing when inline and empty).
 */
static void kv_list(struct pm_out *o, const char *key, const void *items,
		    size_t n, void (*put)(FILE *f, const void *items, size_t i,
					  bool json))
{
	bool json = pm_out_is_json(o);
	size_t i;
	bool inl = false;

	if (json) {
		json_key(o, key);
		fputc('[', o->f);
	} else {
		if (n == 0 && text_inline(o))
			return;
		inl = text_field(o, key, true);
		if (n == 0)
			fputc('-', o->f);
	}
	for (i = 0; i < n; i++) {
		if (i)
			fputc(',', o->f);
		put(o->f, items, i, json);
	}
	if (json)
		fputc(']', o->f);
	else
		text_field_end(o, inl);
}

static void put_str(FILE *f, const void *items, size_t i, bool json)
{
	const char *s = ((const char *const *)items)[i];

	if (json)
		pm_json_write_string(f, s);
	else
		fputs(s, f);
}

static void put_u32(FILE *f, const void *items, size_t i, bool json)
{
	(void)json;
	fprintf(f, "%" PRIu32, ((const uint32_t *)items)[i]);
}

void pm_out_kv_strlist(struct pm_out *o, const char *key,
		       const char *const *items, size_t n)
{
	kv_list(o, key, items, n, put_str);
}

void pm_out_kv_u32list(struct pm_out *o, const char *key,
		       const uint32_t *items, size_t n)
{
	kv_list(o, key, items, n, put_u32);
}

void pm_out_extra_u64(struct pm_out *o, const char *key, uint64_t v)
{
	if (pm_out_is_json(o) || o->verbose)
		pm_out_kv_u64(o, key, v);
}

void pm_out_extra_hex(struct pm_out *o, const char *key, uint64_t v)
{
	if (pm_out_is_json(o) || o->verbose)
		pm_out_kv_hex(o, key, v);
}

void pm_out_extra_str(struct pm_out *o, const char *key, const char *s)
{
	if (pm_out_is_json(o) || o->verbose)
		pm_out_kv_str(o, key, s);
}

int pm_out_flush(struct pm_out *o)
{
	if (fflush(o->f) != 0 || ferror(o->f))
		return errno ? -errno : -EIO;
	return 0;
}
