// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "persecmon/decode.h"
#include "persecmon/names.h"
#include "persecmon/proc.h"

#define HDR_SIZE	sizeof(struct persecmon_record)
#define TEST_FIXED	offsetof(struct persecmon_test_event, fill)

_Static_assert(sizeof(struct persecmon_record) == 40, "ABI: header size");
_Static_assert(sizeof(struct persecmon_lost_record) == 64, "ABI: lost size");
_Static_assert(sizeof(struct persecmon_clock_record) == 64, "ABI: clock size");
_Static_assert(offsetof(struct persecmon_test_event, fill) == 64,
	       "ABI: test event fixed part");
_Static_assert(sizeof(struct persecmon_ring_ctrl) == 192, "ABI: ctrl layout");
_Static_assert(offsetof(struct persecmon_ring_ctrl, head) == 64,
	       "ABI: head on its own cache line");
_Static_assert(offsetof(struct persecmon_ring_ctrl, tail) == 128,
	       "ABI: tail on its own cache line");

static const char *const rec_status_str[] = {
	[PM_REC_OK]		= "ok",
	[PM_REC_ZERO_SIZE]	= "record size is 0",
	[PM_REC_MISALIGNED]	= "record size is not a multiple of 8",
	[PM_REC_BEYOND_BUFFER]	= "record extends beyond the readable data",
	[PM_REC_TOO_SHORT]	= "record is shorter than its type's structure",
	[PM_REC_TOO_LARGE]	= "record is larger than PERSECMON_RECORD_MAX",
	[PM_REC_BAD_TYPE]	= "record type is invalid (0 or above 63)",
	[PM_REC_BAD_LENGTH]	= "a length inside the record exceeds its size",
};

const char *pm_rec_status_str(enum pm_rec_status st)
{
	if ((size_t)st < sizeof(rec_status_str) / sizeof(rec_status_str[0]))
		return rec_status_str[st];
	return "unknown record error";
}

size_t pm_record_min_size(unsigned int type)
{
	switch (type) {
	case PERSECMON_REC_PAD:
		return PERSECMON_RECORD_ALIGN;
	case PERSECMON_REC_LOST:
		return sizeof(struct persecmon_lost_record);
	case PERSECMON_REC_CLOCK:
		return sizeof(struct persecmon_clock_record);
	case PERSECMON_EV_TEST:
		return TEST_FIXED;
	default:
		return HDR_SIZE;
	}
}

enum pm_rec_status pm_record_check(const void *rec, size_t avail)
{
	const unsigned char *p = rec;
	uint16_t size, type, fill_len;

	/* size and type are the first two u16: readable in any record. */
	if (avail < PERSECMON_RECORD_ALIGN)
		return PM_REC_BEYOND_BUFFER;
	memcpy(&size, p + offsetof(struct persecmon_record, size), 2);
	memcpy(&type, p + offsetof(struct persecmon_record, type), 2);

	if (size == 0)
		return PM_REC_ZERO_SIZE;
	if (size % PERSECMON_RECORD_ALIGN)
		return PM_REC_MISALIGNED;
	if (size > avail)
		return PM_REC_BEYOND_BUFFER;
	if (type == PERSECMON_REC_INVALID || type > PERSECMON_REC_TYPE_MAX)
		return PM_REC_BAD_TYPE;
	if (size < pm_record_min_size(type))
		return PM_REC_TOO_SHORT;
	/* A PAD fills whatever the end of the area had left. */
	if (type != PERSECMON_REC_PAD && size > PERSECMON_RECORD_MAX)
		return PM_REC_TOO_LARGE;
	if (type == PERSECMON_EV_TEST) {
		memcpy(&fill_len,
		       p + offsetof(struct persecmon_test_event, fill_len), 2);
		if (TEST_FIXED + fill_len > size)
			return PM_REC_BAD_LENGTH;
	}
	return PM_REC_OK;
}

static enum pm_test_status test_fail(struct pm_test_result *res,
				     enum pm_test_status st, size_t off,
				     uint64_t expected, uint64_t actual)
{
	res->status = st;
	res->offset = off;
	res->expected = expected;
	res->actual = actual;
	return st;
}

enum pm_test_status pm_test_event_verify(const struct persecmon_record *rec,
					 struct pm_test_result *res)
{
	const struct persecmon_test_event *ev = (const void *)rec;
	const unsigned char *bytes = (const void *)rec;
	struct pm_test_result dummy;
	uint64_t check;
	size_t i;

	if (!res)
		res = &dummy;
	memset(res, 0, sizeof(*res));
	if (ev->context > PERSECMON_CTX_MAX)
		return test_fail(res, PM_TEST_BAD_CONTEXT,
				 offsetof(struct persecmon_test_event, context),
				 PERSECMON_CTX_MAX, ev->context);
	check = persecmon_test_check(ev->run_id, ev->index, ev->context,
				     rec->cpu, ev->fill_len);
	if (check != ev->check)
		return test_fail(res, PM_TEST_BAD_CHECK,
				 offsetof(struct persecmon_test_event, check),
				 check, ev->check);
	for (i = 0; i < ev->fill_len; i++) {
		uint8_t want = (uint8_t)((ev->index + i) & 0xff);

		if (ev->fill[i] != want)
			return test_fail(res, PM_TEST_BAD_FILL, TEST_FIXED + i,
					 want, ev->fill[i]);
	}
	for (i = TEST_FIXED + ev->fill_len; i < rec->size; i++)
		if (bytes[i] != 0)
			return test_fail(res, PM_TEST_BAD_PADDING, i, 0,
					 bytes[i]);
	return PM_TEST_OK;
}

void pm_test_result_describe(const struct pm_test_result *res, char *buf,
			     size_t len)
{
	switch (res->status) {
	case PM_TEST_OK:
		snprintf(buf, len, "intact");
		break;
	case PM_TEST_BAD_CONTEXT:
		snprintf(buf, len, "context %" PRIu64 " is out of range",
			 res->actual);
		break;
	case PM_TEST_BAD_CHECK:
		snprintf(buf, len,
			 "check is 0x%" PRIx64 ", expected 0x%" PRIx64,
			 res->actual, res->expected);
		break;
	case PM_TEST_BAD_FILL:
		snprintf(buf, len,
			 "fill byte at offset %zu is 0x%02" PRIx64
			 ", expected 0x%02" PRIx64,
			 res->offset, res->actual, res->expected);
		break;
	case PM_TEST_BAD_PADDING:
		snprintf(buf, len,
			 "padding byte at offset %zu is 0x%02" PRIx64
			 ", expected 0",
			 res->offset, res->actual);
		break;
	}
}

void pm_decode_clock_update(struct pm_decode_ctx *ctx,
			    const struct persecmon_record *rec)
{
	const struct persecmon_clock_record *c = (const void *)rec;

	if (rec->type != PERSECMON_REC_CLOCK)
		return;
	ctx->realtime_offset_ns = (int64_t)(c->realtime_ns - c->monotonic_ns);
	ctx->have_realtime = true;
}

void pm_decode_header(struct pm_out *o, const struct pm_decode_ctx *ctx)
{
	pm_out_header(o, "%-*s %-3s %-7s %-7s %-16s %-8s %s",
		      ctx->wall_clock ? 15 : 14,
		      ctx->wall_clock ? "TIME" : "TIME(s)", "CPU", "PID",
		      "TGID", "COMM", "TYPE", "DETAILS");
}

static void decode_lost(struct pm_out *o, const struct persecmon_record *rec)
{
	const struct persecmon_lost_record *l = (const void *)rec;
	char storage[PM_MASK_NAMES_MAX][PM_LABEL_MAX];
	const char *names[PM_MASK_NAMES_MAX];
	size_t n;

	n = pm_mask_labels(l->type_mask, pm_type_label, storage, names);
	pm_out_kv_u64(o, "lost", l->lost);
	pm_out_kv_strlist(o, "lost_types", names, n);
	pm_out_kv_u64(o, "total_lost", l->total_lost);
	pm_out_extra_hex(o, "type_mask", l->type_mask);
}

static void decode_clock(struct pm_out *o, const struct persecmon_record *rec)
{
	const struct persecmon_clock_record *c = (const void *)rec;

	pm_out_kv_u64(o, "realtime_ns", c->realtime_ns);
	pm_out_kv_u64(o, "boottime_ns", c->boottime_ns);
	pm_out_extra_u64(o, "monotonic_ns", c->monotonic_ns);
}

static void decode_test(struct pm_out *o, const struct persecmon_record *rec)
{
	const struct persecmon_test_event *ev = (const void *)rec;
	struct pm_test_result res;
	char label[PM_LABEL_MAX];
	char why[128];

	pm_out_kv_hex(o, "run_id", ev->run_id);
	pm_out_kv_u64(o, "index", ev->index);
	pm_out_kv_str(o, "context",
		      pm_context_label(ev->context, label, sizeof(label)));
	pm_out_kv_u64(o, "fill_len", ev->fill_len);
	pm_out_extra_hex(o, "check", ev->check);
	if (pm_test_event_verify(rec, &res) == PM_TEST_OK) {
		pm_out_kv_bool(o, "intact", true);
	} else {
		pm_out_kv_bool(o, "intact", false);
		pm_test_result_describe(&res, why, sizeof(why));
		pm_out_kv_str(o, "error", why);
	}
}

void pm_decode_details(struct pm_out *o, const struct persecmon_record *rec)
{
	switch (rec->type) {
	case PERSECMON_REC_LOST:
		decode_lost(o, rec);
		break;
	case PERSECMON_REC_CLOCK:
		decode_clock(o, rec);
		break;
	case PERSECMON_EV_TEST:
		decode_test(o, rec);
		break;
	default:
		/* Unknown types: only the header is understood. */
		pm_out_kv_u64(o, "payload_len", rec->size - HDR_SIZE);
		break;
	}
}

static void wall_clock_str(uint64_t realtime_ns, char *buf, size_t len)
{
	time_t secs = (time_t)(realtime_ns / 1000000000ULL);
	struct tm tm;

	localtime_r(&secs, &tm);
	snprintf(buf, len, "%02d:%02d:%02d.%06u", tm.tm_hour, tm.tm_min,
		 tm.tm_sec, (unsigned int)(realtime_ns % 1000000000ULL / 1000));
}

void pm_decode_record(struct pm_out *o, const struct pm_decode_ctx *ctx,
		      const struct persecmon_record *rec)
{
	const char *flag_names[1];
	size_t nflags = 0;
	char label[PM_LABEL_MAX];
	uint64_t realtime = rec->time_ns + (uint64_t)ctx->realtime_offset_ns;
	const char *comm = NULL;
	char wall[32];

	if (rec->flags & PERSECMON_RF_TRUNCATED)
		flag_names[nflags++] = "truncated";
	if (ctx->comms && rec->pid != 0)
		comm = pm_comm_lookup(ctx->comms, rec->tgid, pm_monotonic_ns());

	pm_out_line_begin(o);
	if (!pm_out_is_json(o) && ctx->wall_clock && ctx->have_realtime) {
		wall_clock_str(realtime, wall, sizeof(wall));
		pm_out_col_str(o, "time", -15, wall);
	} else {
		pm_out_col_f64(o, "ts", ctx->wall_clock ? -15 : -14, 9,
			       (double)(int64_t)(rec->time_ns - ctx->base_ns) /
				       1e9);
	}
	pm_out_col_u64(o, "cpu", -3, rec->cpu);
	pm_out_col_u64(o, "pid", -7, rec->pid);
	pm_out_col_u64(o, "tgid", -7, rec->tgid);
	pm_out_col_str(o, "comm", -16, comm);
	pm_out_col_str(o, "type", -8,
		       pm_type_label(rec->type, label, sizeof(label)));
	pm_decode_details(o, rec);
	pm_out_kv_strlist(o, "flags", flag_names, nflags);
	pm_out_extra_u64(o, "type_id", rec->type);
	pm_out_extra_u64(o, "seq", rec->seq);
	pm_out_extra_u64(o, "time_ns", rec->time_ns);
	if (ctx->have_realtime)
		pm_out_extra_u64(o, "realtime_ns", realtime);
	pm_out_extra_u64(o, "uid", rec->uid);
	pm_out_extra_u64(o, "cgroup_id", rec->cgroup_id);
	pm_out_extra_u64(o, "size", rec->size);
	pm_out_line_end(o);
}
