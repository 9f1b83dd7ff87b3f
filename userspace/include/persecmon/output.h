/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One output layer for text and JSON.
 *
 * Commands describe what they print once, as keyed fields inside
 * containers; the layer lays it out as aligned text or as JSON, so the two
 * forms cannot drift apart. Keys are the JSON keys documented in
 * docs/userspace.md.
 *
 * Containers:
 *   line   one text line / one JSON object. At top level a JSON line ends
 *          with '\n' (JSON Lines); inside a list it is one list element.
 *   block  one JSON object; in text every field is a "label  value" line.
 *   object a nested JSON object under a key; in text, an indented block.
 *   list   a JSON array under a key; in text, a table: its header, then
 *          one line per element.
 *
 * Fields:
 *   col    a fixed-width column in text
 *   kv     "key=value" in a text line, "label  value" in a text block
 *   extra  JSON only, unless the layer is verbose (then like kv)
 * Text omits empty lists inside lines and prints "-" for NULL strings.
 */
#ifndef PERSECMON_OUTPUT_H
#define PERSECMON_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum pm_out_format {
	PM_OUT_TEXT,
	PM_OUT_JSON,
};

#define PM_OUT_MAX_DEPTH	8

struct pm_out {
	FILE *f;
	enum pm_out_format format;
	bool verbose;
	unsigned int depth;
	struct {
		unsigned char kind;
		unsigned int fields;
	} level[PM_OUT_MAX_DEPTH];
};

void pm_out_init(struct pm_out *o, FILE *f, enum pm_out_format format,
		 bool verbose);

static inline bool pm_out_is_json(const struct pm_out *o)
{
	return o->format == PM_OUT_JSON;
}

/* Text only: a header line such as column titles. */
void pm_out_header(struct pm_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void pm_out_line_begin(struct pm_out *o);
void pm_out_line_end(struct pm_out *o);
void pm_out_block_begin(struct pm_out *o);
void pm_out_block_end(struct pm_out *o);
void pm_out_object_begin(struct pm_out *o, const char *key);
void pm_out_object_end(struct pm_out *o);
/* @text_header: table header line printed in text mode (may be NULL). */
void pm_out_list_begin(struct pm_out *o, const char *key,
		       const char *text_header);
void pm_out_list_end(struct pm_out *o);

/* @width: text column width, negative = left-aligned, 0 = unpadded. */
void pm_out_col_str(struct pm_out *o, const char *key, int width,
		    const char *s);
void pm_out_col_u64(struct pm_out *o, const char *key, int width, uint64_t v);
void pm_out_col_i64(struct pm_out *o, const char *key, int width, int64_t v);
void pm_out_col_f64(struct pm_out *o, const char *key, int width, int prec,
		    double v);

void pm_out_kv_str(struct pm_out *o, const char *key, const char *s);
void pm_out_kv_u64(struct pm_out *o, const char *key, uint64_t v);
void pm_out_kv_i64(struct pm_out *o, const char *key, int64_t v);
/* Text shows 0x%llx; JSON a plain number. */
void pm_out_kv_hex(struct pm_out *o, const char *key, uint64_t v);
void pm_out_kv_f64(struct pm_out *o, const char *key, int prec, double v);
void pm_out_kv_bool(struct pm_out *o, const char *key, bool v);
void pm_out_kv_strlist(struct pm_out *o, const char *key,
		       const char *const *items, size_t n);
/* Text "a,b,c" ("-" if empty); JSON an array of numbers. */
void pm_out_kv_u32list(struct pm_out *o, const char *key,
		       const uint32_t *items, size_t n);

void pm_out_extra_u64(struct pm_out *o, const char *key, uint64_t v);
void pm_out_extra_hex(struct pm_out *o, const char *key, uint64_t v);
void pm_out_extra_str(struct pm_out *o, const char *key, const char *s);

/* Raw text for the histogram printer (text mode only). */
void pm_out_text(struct pm_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Writes @s as a JSON string literal, quotes included. */
void pm_json_write_string(FILE *f, const char *s);

/* Flushes; returns 0 or -errno of the first write error. */
int pm_out_flush(struct pm_out *o);

#endif /* PERSECMON_OUTPUT_H */
