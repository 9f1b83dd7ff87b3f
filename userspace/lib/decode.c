// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/socket.h>
#include <time.h>

#include "persecmon/decode.h"
#include "persecmon/names.h"
#include "persecmon/proc.h"

#define HDR_SIZE	sizeof(struct persecmon_record)
#define TEST_FIXED	offsetof(struct persecmon_test_event, fill)
#define EXEC_FIXED	offsetof(struct persecmon_exec_event, data)
#define EXEC_FAIL_FIXED	offsetof(struct persecmon_exec_fail_event, filename)
#define OPEN_FIXED	offsetof(struct persecmon_open_event, path)
#define VFS_FIXED	offsetof(struct persecmon_vfs_event, name)
#define DNS_FIXED	offsetof(struct persecmon_dns_event, host)
#define KALLOC_FIXED	offsetof(struct persecmon_kalloc_event, frames)
#define ALLOC_FIXED	offsetof(struct persecmon_alloc_event, frames)
#define MAP_FIXED	offsetof(struct persecmon_map_event, path)

_Static_assert(sizeof(struct persecmon_record) == 40, "ABI: header size");
_Static_assert(sizeof(struct persecmon_lost_record) == 64, "ABI: lost size");
_Static_assert(sizeof(struct persecmon_clock_record) == 64, "ABI: clock size");
_Static_assert(offsetof(struct persecmon_test_event, fill) == 64,
	       "ABI: test event fixed part");
_Static_assert(offsetof(struct persecmon_exec_event, data) == 72,
	       "ABI: exec event fixed part");
_Static_assert(offsetof(struct persecmon_exec_fail_event, filename) == 80,
	       "ABI: exec_fail event fixed part");
_Static_assert(sizeof(struct persecmon_fork_event) == 72, "ABI: fork size");
_Static_assert(offsetof(struct persecmon_open_event, path) == 88,
	       "ABI: open event fixed part");
_Static_assert(sizeof(struct persecmon_exit_event) == 72, "ABI: exit size");
_Static_assert(sizeof(struct persecmon_block_event) == 104,
	       "ABI: block event size");
_Static_assert(offsetof(struct persecmon_vfs_event, name) == 96,
	       "ABI: vfs event fixed part");
_Static_assert(offsetof(struct persecmon_dns_event, host) == 72,
	       "ABI: dns event fixed part");
_Static_assert(sizeof(struct persecmon_tcp_event) == 112, "ABI: tcp event size");
_Static_assert(offsetof(struct persecmon_kalloc_event, frames) == 88,
	       "ABI: kalloc event fixed part");
_Static_assert(sizeof(struct persecmon_kfree_event) == 64, "ABI: kfree size");
_Static_assert(offsetof(struct persecmon_alloc_event, frames) == 64,
	       "ABI: alloc event fixed part");
_Static_assert(sizeof(struct persecmon_free_event) == 56, "ABI: free size");
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
	case PERSECMON_EV_EXEC:
		return EXEC_FIXED;
	case PERSECMON_EV_FORK:
		return sizeof(struct persecmon_fork_event);
	case PERSECMON_EV_EXIT:
		return sizeof(struct persecmon_exit_event);
	case PERSECMON_EV_EXEC_FAIL:
		return EXEC_FAIL_FIXED;
	case PERSECMON_EV_OPEN:
		return OPEN_FIXED;
	case PERSECMON_EV_VFS:
		return VFS_FIXED;
	case PERSECMON_EV_BLOCK:
		return sizeof(struct persecmon_block_event);
	case PERSECMON_EV_TCP_CONNECT:
	case PERSECMON_EV_TCP_STATE:
		return sizeof(struct persecmon_tcp_event);
	case PERSECMON_EV_DNS:
		return DNS_FIXED;
	case PERSECMON_EV_KALLOC:
		return KALLOC_FIXED;
	case PERSECMON_EV_KFREE:
		return sizeof(struct persecmon_kfree_event);
	case PERSECMON_EV_ALLOC:
		return ALLOC_FIXED;
	case PERSECMON_EV_FREE:
		return sizeof(struct persecmon_free_event);
	case PERSECMON_EV_MAP:
		return MAP_FIXED;
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
	if (type == PERSECMON_EV_EXEC) {
		uint16_t filename_len, args_len;

		memcpy(&filename_len,
		       p + offsetof(struct persecmon_exec_event, filename_len),
		       2);
		memcpy(&args_len,
		       p + offsetof(struct persecmon_exec_event, args_len), 2);
		if (EXEC_FIXED + (size_t)filename_len + args_len > size)
			return PM_REC_BAD_LENGTH;
	}
	if (type == PERSECMON_EV_EXEC_FAIL) {
		uint16_t filename_len, args_len;

		memcpy(&filename_len,
		       p + offsetof(struct persecmon_exec_fail_event,
				    filename_len), 2);
		memcpy(&args_len,
		       p + offsetof(struct persecmon_exec_fail_event,
				    args_len), 2);
		if (EXEC_FAIL_FIXED + (size_t)filename_len + args_len > size)
			return PM_REC_BAD_LENGTH;
	}
	if (type == PERSECMON_EV_OPEN) {
		uint16_t path_len;

		memcpy(&path_len,
		       p + offsetof(struct persecmon_open_event, path_len), 2);
		if (OPEN_FIXED + (size_t)path_len > size)
			return PM_REC_BAD_LENGTH;
	}
	if (type == PERSECMON_EV_VFS) {
		uint16_t name_len;

		memcpy(&name_len,
		       p + offsetof(struct persecmon_vfs_event, name_len), 2);
		if (VFS_FIXED + (size_t)name_len > size)
			return PM_REC_BAD_LENGTH;
	}
	if (type == PERSECMON_EV_DNS) {
		uint16_t host_len;

		memcpy(&host_len,
		       p + offsetof(struct persecmon_dns_event, host_len), 2);
		if (DNS_FIXED + (size_t)host_len > size)
			return PM_REC_BAD_LENGTH;
	}
	if (type == PERSECMON_EV_KALLOC) {
		uint16_t nr_frames;

		memcpy(&nr_frames,
		       p + offsetof(struct persecmon_kalloc_event, nr_frames),
		       2);
		if (KALLOC_FIXED + (size_t)nr_frames * 8 > size)
			return PM_REC_BAD_LENGTH;
	}
	if (type == PERSECMON_EV_ALLOC) {
		uint16_t nr_frames;

		memcpy(&nr_frames,
		       p + offsetof(struct persecmon_alloc_event, nr_frames),
		       2);
		if (ALLOC_FIXED + (size_t)nr_frames * 8 > size)
			return PM_REC_BAD_LENGTH;
	}
	if (type == PERSECMON_EV_MAP) {
		uint16_t path_len;

		memcpy(&path_len,
		       p + offsetof(struct persecmon_map_event, path_len), 2);
		if (MAP_FIXED + (size_t)path_len > size)
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

const char *pm_errno_name(int err)
{
	const char *name = strerrorname_np(err);

	return name ? name : "E?";
}

/* A fixed-size comm field, which the kernel NUL-pads but need not end. */
static void comm_str(const uint8_t *comm, char out[PERSECMON_COMM_LEN + 1])
{
	memcpy(out, comm, PERSECMON_COMM_LEN);
	out[PERSECMON_COMM_LEN] = '\0';
}

/*
 * An argument area (NUL-separated, the last string unterminated or cut)
 * into NUL-terminated strings: @args holds a copy, @argv points into it.
 */
static void split_args(const uint8_t *data, size_t len,
		       char args[PM_EXEC_DATA_MAX],
		       const char *argv[PM_EXEC_ARGV_MAX], size_t *nargs)
{
	size_t i, start;

	memcpy(args, data, len);
	args[len] = '\0';
	*nargs = 0;
	for (i = 0, start = 0; i <= len; i++) {
		if (i < len && args[i] != '\0')
			continue;
		if (len && *nargs < PM_EXEC_ARGV_MAX)
			argv[(*nargs)++] = args + start;
		start = i + 1;
	}
}

/* Text form of split arguments: one line, space-separated, as a shell. */
static void join_args(const char *args, size_t len,
		      char out[PM_EXEC_DATA_MAX])
{
	size_t i;

	memcpy(out, args, len + 1);
	for (i = 0; i < len; i++)
		if (out[i] == '\0')
			out[i] = ' ';
}

void pm_exec_view(const struct persecmon_record *rec, struct pm_exec_view *v)
{
	const struct persecmon_exec_event *ev = (const void *)rec;

	memcpy(v->filename, ev->data, ev->filename_len);
	v->filename[ev->filename_len] = '\0';
	split_args(ev->data + ev->filename_len, ev->args_len, v->args,
		   v->argv, &v->nargs);
	v->argc = ev->argc;
	v->truncated = rec->flags & PERSECMON_RF_TRUNCATED;
}

static void decode_exec(struct pm_out *o, const struct persecmon_record *rec)
{
	const struct persecmon_exec_event *ev = (const void *)rec;
	struct pm_exec_view v;
	char comm[PERSECMON_COMM_LEN + 1];
	char joined[PM_EXEC_DATA_MAX];

	pm_exec_view(rec, &v);
	comm_str(ev->comm, comm);
	pm_out_kv_u64(o, "ppid", ev->ppid);
	pm_out_kv_str(o, "filename", v.filename);
	pm_out_kv_u64(o, "argc", v.argc);
	if (pm_out_is_json(o)) {
		pm_out_kv_strlist(o, "args", v.argv, v.nargs);
	} else {
		join_args(v.args, ev->args_len, joined);
		pm_out_kv_str(o, "args", joined);
	}
	pm_out_extra_str(o, "new_comm", comm);
	pm_out_extra_u64(o, "old_pid", ev->old_pid);
}

static void decode_fork(struct pm_out *o, const struct persecmon_record *rec)
{
	const struct persecmon_fork_event *ev = (const void *)rec;
	char comm[PERSECMON_COMM_LEN + 1];

	comm_str(ev->comm, comm);
	pm_out_kv_u64(o, "child_pid", ev->child_pid);
	pm_out_kv_u64(o, "child_tgid", ev->child_tgid);
	pm_out_kv_bool(o, "thread", ev->flags & PERSECMON_FORK_THREAD);
	pm_out_extra_str(o, "parent_comm", comm);
}

static void decode_exit(struct pm_out *o, const struct persecmon_record *rec)
{
	const struct persecmon_exit_event *ev = (const void *)rec;
	char comm[PERSECMON_COMM_LEN + 1];
	int code = ev->exit_code;

	comm_str(ev->comm, comm);
	pm_out_kv_i64(o, "exit_code", code);
	/* wait(2) encoding: status in bits 8-15, or the signal in 0-6. */
	if (code & 0x7f)
		pm_out_kv_u64(o, "signal", code & 0x7f);
	else
		pm_out_kv_u64(o, "status", (code >> 8) & 0xff);
	pm_out_kv_u64(o, "lifetime_ns", ev->lifetime_ns);
	pm_out_kv_bool(o, "group_dead", ev->flags & PERSECMON_EXIT_GROUP_DEAD);
	pm_out_extra_str(o, "exit_comm", comm);
}

static const char *const exec_syscall_names[] = {
	[PERSECMON_EXEC_EXECVE]		= "execve",
	[PERSECMON_EXEC_EXECVEAT]	= "execveat",
};

void pm_exec_fail_view(const struct persecmon_record *rec,
		       struct pm_exec_fail_view *v)
{
	const struct persecmon_exec_fail_event *ev = (const void *)rec;

	/* pm_record_check() bounded both lengths by the record size. */
	memcpy(v->filename, ev->filename, ev->filename_len);
	v->filename[ev->filename_len] = '\0';
	split_args(ev->filename + ev->filename_len, ev->args_len, v->args,
		   v->argv, &v->nargs);
	v->args_len = ev->args_len;
	comm_str(ev->comm, v->comm);
	if (ev->syscall < sizeof(exec_syscall_names) /
			  sizeof(exec_syscall_names[0]) &&
	    exec_syscall_names[ev->syscall])
		snprintf(v->syscall, sizeof(v->syscall), "%s",
			 exec_syscall_names[ev->syscall]);
	else
		snprintf(v->syscall, sizeof(v->syscall), "syscall%u",
			 ev->syscall);
	v->errno_name = ev->ret < 0 ? pm_errno_name(-ev->ret) : NULL;
	v->truncated = rec->flags & PERSECMON_RF_TRUNCATED;
	v->no_filename = ev->flags & PERSECMON_EXEC_FAIL_NO_FILENAME;
	v->compat = ev->flags & PERSECMON_EXEC_FAIL_COMPAT;
	v->no_args = ev->flags & PERSECMON_EXEC_FAIL_NO_ARGS;
}

static void decode_exec_fail(struct pm_out *o,
			     const struct persecmon_record *rec)
{
	const struct persecmon_exec_fail_event *ev = (const void *)rec;
	char joined[PM_EXEC_DATA_MAX];
	struct pm_exec_fail_view v;

	pm_exec_fail_view(rec, &v);
	pm_out_kv_str(o, "syscall", v.syscall);
	pm_out_kv_i64(o, "ret", ev->ret);
	if (v.errno_name)
		pm_out_kv_str(o, "errno", v.errno_name);
	pm_out_kv_u64(o, "ppid", ev->ppid);
	pm_out_kv_i64(o, "dfd", ev->dfd);
	pm_out_kv_hex(o, "at_flags", ev->at_flags);
	pm_out_kv_str(o, "filename", v.filename);
	if (pm_out_is_json(o)) {
		pm_out_kv_strlist(o, "args", v.argv, v.nargs);
	} else {
		join_args(v.args, v.args_len, joined);
		pm_out_kv_str(o, "args", joined);
	}
	pm_out_kv_bool(o, "no_filename", v.no_filename);
	pm_out_kv_bool(o, "no_args", v.no_args);
	pm_out_kv_bool(o, "compat", v.compat);
	pm_out_extra_str(o, "exec_comm", v.comm);
}

static const char *const open_syscall_names[] = {
	[PERSECMON_OPEN_OPEN]		= "open",
	[PERSECMON_OPEN_OPENAT]		= "openat",
	[PERSECMON_OPEN_OPENAT2]	= "openat2",
	[PERSECMON_OPEN_CREAT]		= "creat",
};

/*
 * The kernel's value (asm-generic/fcntl.h): glibc defines O_LARGEFILE as 0
 * on 64-bit, where the kernel still adds this bit to every open.
 */
#define KERNEL_O_LARGEFILE	00100000

static const struct {
	uint32_t bit;
	const char *name;
} open_flag_bits[] = {
	{ O_CREAT, "O_CREAT" },		{ O_EXCL, "O_EXCL" },
	{ O_NOCTTY, "O_NOCTTY" },	{ O_TRUNC, "O_TRUNC" },
	{ O_APPEND, "O_APPEND" },	{ O_NONBLOCK, "O_NONBLOCK" },
	{ O_DSYNC, "O_DSYNC" },		{ O_ASYNC, "O_ASYNC" },
	{ O_DIRECT, "O_DIRECT" },	{ KERNEL_O_LARGEFILE, "O_LARGEFILE" },
	{ O_DIRECTORY, "O_DIRECTORY" },	{ O_NOFOLLOW, "O_NOFOLLOW" },
	{ O_NOATIME, "O_NOATIME" },	{ O_CLOEXEC, "O_CLOEXEC" },
	{ O_PATH, "O_PATH" },
	/* O_SYNC and O_TMPFILE include O_DSYNC and O_DIRECTORY. */
	{ O_SYNC & ~O_DSYNC, "O_SYNC" },
	{ O_TMPFILE & ~O_DIRECTORY, "O_TMPFILE" },
};

/* "O_WRONLY|O_CREAT|...", bits with no name as one trailing hex number. */
static void pm_open_flags_str(uint32_t flags, char *buf, size_t len)
{
	static const char *const access_names[] = {
		"O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"
	};
	uint32_t rest = flags & ~(uint32_t)O_ACCMODE;
	size_t used, i;

	used = (size_t)snprintf(buf, len, "%s", access_names[flags & O_ACCMODE]);
	for (i = 0; i < sizeof(open_flag_bits) / sizeof(open_flag_bits[0]);
	     i++) {
		if (!(rest & open_flag_bits[i].bit) || used >= len)
			continue;
		rest &= ~open_flag_bits[i].bit;
		used += (size_t)snprintf(buf + used, len - used, "|%s",
					 open_flag_bits[i].name);
	}
	if (rest && used < len)
		snprintf(buf + used, len - used, "|0x%x", rest);
}


static void decode_open(struct pm_out *o, const struct persecmon_record *rec)
{
	const struct persecmon_open_event *ev = (const void *)rec;
	char comm[PERSECMON_COMM_LEN + 1];
	char path[PERSECMON_RECORD_MAX];
	char syscall_buf[16];
	const char *syscall_name = NULL;
	char flags[256];
	char mode[16];

	comm_str(ev->comm, comm);
	/* pm_record_check() bounded path_len by the record size. */
	memcpy(path, ev->path, ev->path_len);
	path[ev->path_len] = '\0';
	if (ev->syscall < sizeof(open_syscall_names) /
			  sizeof(open_syscall_names[0]))
		syscall_name = open_syscall_names[ev->syscall];
	if (!syscall_name) {
		snprintf(syscall_buf, sizeof(syscall_buf), "syscall%u",
			 ev->syscall);
		syscall_name = syscall_buf;
	}
	pm_out_kv_str(o, "syscall", syscall_name);
	pm_out_kv_i64(o, "ret", ev->ret);
	pm_out_kv_i64(o, "dfd", ev->dfd);
	if (ev->ret < 0)
		pm_out_kv_str(o, "errno", pm_errno_name(-ev->ret));
	pm_out_kv_hex(o, "open_flags", ev->flags);
	pm_open_flags_str(ev->flags, flags, sizeof(flags));
	pm_out_kv_str(o, "open_flag_names", flags);
	if (pm_out_is_json(o)) {
		pm_out_kv_u64(o, "mode", ev->mode);
	} else {
		snprintf(mode, sizeof(mode), "0%o", ev->mode);
		pm_out_kv_str(o, "mode", mode);
	}
	pm_out_kv_str(o, "path", path);
	pm_out_kv_u64(o, "latency_ns", ev->latency_ns);
	pm_out_extra_str(o, "open_comm", comm);
}

static const char *const vfs_op_names[] = {
	[PERSECMON_VFS_READ]	= "read",
	[PERSECMON_VFS_WRITE]	= "write",
	[PERSECMON_VFS_OPEN]	= "open",
};

static void decode_vfs(struct pm_out *o, const struct persecmon_record *rec)
{
	const struct persecmon_vfs_event *ev = (const void *)rec;
	char comm[PERSECMON_COMM_LEN + 1];
	char name[PERSECMON_RECORD_MAX];
	char op_buf[16];
	const char *op = NULL;

	comm_str(ev->comm, comm);
	/* pm_record_check() bounded name_len by the record size. */
	memcpy(name, ev->name, ev->name_len);
	name[ev->name_len] = '\0';
	if (ev->op < sizeof(vfs_op_names) / sizeof(vfs_op_names[0]))
		op = vfs_op_names[ev->op];
	if (!op) {
		snprintf(op_buf, sizeof(op_buf), "op%u", ev->op);
		op = op_buf;
	}
	pm_out_kv_str(o, "op", op);
	pm_out_kv_i64(o, "ret", ev->ret);
	pm_out_kv_u64(o, "count", ev->count);
	pm_out_kv_u64(o, "latency_ns", ev->latency_ns);
	/* The same numbers stat(2) reports as st_dev and st_ino. */
	pm_out_kv_u64(o, "dev", ev->dev);
	pm_out_kv_u64(o, "ino", ev->ino);
	pm_out_kv_str(o, "name", name);
	pm_out_extra_str(o, "vfs_comm", comm);
}

static const char *const block_op_names[] = {
	[PERSECMON_BLOCK_READ]		= "read",
	[PERSECMON_BLOCK_WRITE]		= "write",
	[PERSECMON_BLOCK_FLUSH]		= "flush",
	[PERSECMON_BLOCK_DISCARD]	= "discard",
	[PERSECMON_BLOCK_WRITE_ZEROES]	= "write_zeroes",
	[PERSECMON_BLOCK_OTHER]		= "other",
};

static const char *const block_flag_names[] = {
	"sync", "meta", "fua", "preflush", "rahead", "kthread", "writeback",
	"no_submitter", "partial",
};

/* PERSECMON_EV_BLOCK: hdr.pid/tgid/uid/cgroup_id are the submitter's. */
static void decode_block(struct pm_out *o, const struct persecmon_record *rec)
{
	const struct persecmon_block_event *ev = (const void *)rec;
	const char *flags[sizeof(block_flag_names) / sizeof(block_flag_names[0])];
	char comm[PERSECMON_COMM_LEN + 1];
	char op_buf[16], disk[32];
	const char *op = NULL;
	size_t i, n = 0;

	comm_str(ev->comm, comm);
	if (ev->op < sizeof(block_op_names) / sizeof(block_op_names[0]))
		op = block_op_names[ev->op];
	if (!op) {
		snprintf(op_buf, sizeof(op_buf), "op%u", ev->op);
		op = op_buf;
	}
	for (i = 0; i < sizeof(block_flag_names) / sizeof(block_flag_names[0]);
	     i++)
		if (ev->flags & (1U << i))
			flags[n++] = block_flag_names[i];
	/* new_encode_dev(): major in bits 8-19, minor in 0-7 and 20-31. */
	snprintf(disk, sizeof(disk), "%u:%u", (ev->dev >> 8) & 0xfff,
		 (ev->dev & 0xff) | ((ev->dev >> 12) & 0xfff00));
	pm_out_kv_str(o, "op", op);
	pm_out_kv_str(o, "disk", disk);
	pm_out_kv_u64(o, "sector", ev->sector);
	pm_out_kv_u64(o, "bytes", ev->bytes);
	pm_out_kv_u64(o, "latency_ns", ev->latency_ns);
	pm_out_kv_u64(o, "queue_ns", ev->queue_ns);
	pm_out_kv_i64(o, "error", ev->error);
	if (ev->error < 0)
		pm_out_kv_str(o, "errno", pm_errno_name(-ev->error));
	pm_out_kv_strlist(o, "block_flags", flags, n);
	pm_out_kv_str(o, "submitter_comm", comm);
	/* The same number stat(2) reports as st_rdev of the disk's node. */
	pm_out_extra_u64(o, "dev", ev->dev);
}

static void decode_dns(struct pm_out *o, const struct persecmon_record *rec)
{
	const struct persecmon_dns_event *ev = (const void *)rec;
	char comm[PERSECMON_COMM_LEN + 1];
	char host[PERSECMON_RECORD_MAX];
	const char *func = pm_dns_func_name(ev->func);
	char func_buf[16];

	comm_str(ev->comm, comm);
	/* pm_record_check() bounded host_len by the record size. */
	memcpy(host, ev->host, ev->host_len);
	host[ev->host_len] = '\0';
	if (!func) {
		snprintf(func_buf, sizeof(func_buf), "func%u", ev->func);
		func = func_buf;
	}
	pm_out_kv_str(o, "func", func);
	pm_out_kv_i64(o, "ret", ev->ret);
	pm_out_kv_u64(o, "latency_ns", ev->latency_ns);
	pm_out_kv_str(o, "host", host);
	if (ev->flags & PERSECMON_DNS_HOST_NULL)
		pm_out_kv_str(o, "host_state", "null");
	else if (ev->flags & PERSECMON_DNS_HOST_FAULT)
		pm_out_kv_str(o, "host_state", "fault");
	pm_out_extra_str(o, "dns_comm", comm);
}

/* TCP_* of the kernel's include/net/tcp_states.h. */
static const char *const tcp_state_names[] = {
	[1] = "ESTABLISHED", [2] = "SYN_SENT", [3] = "SYN_RECV",
	[4] = "FIN_WAIT1", [5] = "FIN_WAIT2", [6] = "TIME_WAIT",
	[7] = "CLOSE", [8] = "CLOSE_WAIT", [9] = "LAST_ACK",
	[10] = "LISTEN", [11] = "CLOSING", [12] = "NEW_SYN_RECV",
};

static const char *tcp_state_str(unsigned int state, char *buf, size_t len)
{
	if (state < sizeof(tcp_state_names) / sizeof(tcp_state_names[0]) &&
	    tcp_state_names[state])
		return tcp_state_names[state];
	snprintf(buf, len, "state%u", state);
	return buf;
}

static void tcp_addr_str(uint16_t family, const uint8_t addr[16], char *buf,
			 size_t len)
{
	if (!inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, addr, buf,
		       (socklen_t)len))
		snprintf(buf, len, "?");
}

static void decode_tcp(struct pm_out *o, const struct persecmon_record *rec)
{
	const struct persecmon_tcp_event *ev = (const void *)rec;
	char comm[PERSECMON_COMM_LEN + 1];
	char saddr[INET6_ADDRSTRLEN], daddr[INET6_ADDRSTRLEN];
	char old_buf[16], new_buf[16];

	comm_str(ev->comm, comm);
	tcp_addr_str(ev->family, ev->saddr, saddr, sizeof(saddr));
	tcp_addr_str(ev->family, ev->daddr, daddr, sizeof(daddr));
	pm_out_kv_str(o, "family", ev->family == AF_INET6 ? "ipv6" :
			   ev->family == AF_INET ? "ipv4" : "other");
	pm_out_kv_str(o, "saddr", saddr);
	pm_out_kv_u64(o, "sport", ev->sport);
	pm_out_kv_str(o, "daddr", daddr);
	pm_out_kv_u64(o, "dport", ev->dport);
	pm_out_kv_str(o, "oldstate", tcp_state_str(ev->oldstate, old_buf,
						   sizeof(old_buf)));
	pm_out_kv_str(o, "newstate", tcp_state_str(ev->newstate, new_buf,
						   sizeof(new_buf)));
	if (ev->flags & PERSECMON_TCP_LATENCY)
		pm_out_kv_u64(o, "latency_ns", ev->latency_ns);
	pm_out_kv_bool(o, "failed", ev->flags & PERSECMON_TCP_FAILED);
	if (ev->error) {
		pm_out_kv_i64(o, "error", ev->error);
		pm_out_kv_str(o, "errno", pm_errno_name(ev->error));
	}
	pm_out_kv_bool(o, "connector", ev->flags & PERSECMON_TCP_CONNECTOR);
	pm_out_extra_str(o, "tcp_comm", comm);
	pm_out_extra_u64(o, "family_id", ev->family);
	pm_out_extra_hex(o, "tcp_flags", ev->flags);
}

static const char *const kmem_kind_names[] = {
	[PERSECMON_KMEM_KMALLOC]	= "kmalloc",
	[PERSECMON_KMEM_CACHE]		= "cache",
	[PERSECMON_KMEM_PAGE]		= "page",
};

static const char *const alloc_func_names[PERSECMON_ALLOC_FUNC_MAX + 1] = {
	[PERSECMON_ALLOC_MALLOC]		= "malloc",
	[PERSECMON_ALLOC_CALLOC]		= "calloc",
	[PERSECMON_ALLOC_REALLOC]		= "realloc",
	[PERSECMON_ALLOC_POSIX_MEMALIGN]	= "posix_memalign",
	[PERSECMON_ALLOC_ALIGNED_ALLOC]		= "aligned_alloc",
	[PERSECMON_ALLOC_MEMALIGN]		= "memalign",
	[PERSECMON_ALLOC_VALLOC]		= "valloc",
	[PERSECMON_ALLOC_PVALLOC]		= "pvalloc",
	[PERSECMON_ALLOC_FREE]			= "free",
};

static const char *pm_kmem_kind_name(unsigned int kind)
{
	return kind < sizeof(kmem_kind_names) / sizeof(kmem_kind_names[0]) ?
	       kmem_kind_names[kind] : NULL;
}

static const char *pm_alloc_func_name(unsigned int func)
{
	return func <= PERSECMON_ALLOC_FUNC_MAX ? alloc_func_names[func] :
						  NULL;
}

/* Frames as a list of "0x..." strings (JSON and text alike). */
static void decode_frames(struct pm_out *o, const __u64 *frames,
			  unsigned int nr)
{
	char storage[PERSECMON_KSTACK_MAX > PERSECMON_USTACK_MAX ?
		     PERSECMON_KSTACK_MAX : PERSECMON_USTACK_MAX][20];
	const char *names[sizeof(storage) / sizeof(storage[0])];
	unsigned int i, n = 0;

	for (i = 0; i < nr && n < sizeof(storage) / sizeof(storage[0]); i++) {
		snprintf(storage[n], sizeof(storage[n]), "0x%llx",
			 (unsigned long long)frames[i]);
		names[n] = storage[n];
		n++;
	}
	pm_out_kv_strlist(o, "frames", names, n);
}

static void decode_kalloc(struct pm_out *o, const struct persecmon_record *rec)
{
	const struct persecmon_kalloc_event *ev = (const void *)rec;
	const char *kind = pm_kmem_kind_name(ev->kind);

	pm_out_kv_str(o, "kind", kind ? kind : "?");
	pm_out_kv_hex(o, "ptr", ev->ptr);
	pm_out_kv_u64(o, "bytes_req", ev->bytes_req);
	pm_out_kv_u64(o, "bytes_alloc", ev->bytes_alloc);
	pm_out_kv_hex(o, "call_site", ev->call_site);
	pm_out_extra_hex(o, "gfp_flags", ev->gfp_flags);
	pm_out_extra_u64(o, "order", ev->order);
	pm_out_kv_i64(o, "node", ev->node);
	pm_out_kv_u64(o, "nr_frames", ev->nr_frames);
	decode_frames(o, ev->frames, ev->nr_frames);
}

static void decode_kfree(struct pm_out *o, const struct persecmon_record *rec)
{
	const struct persecmon_kfree_event *ev = (const void *)rec;
	const char *kind = pm_kmem_kind_name(ev->kind);

	pm_out_kv_str(o, "kind", kind ? kind : "?");
	pm_out_kv_hex(o, "ptr", ev->ptr);
	pm_out_kv_hex(o, "call_site", ev->call_site);
	pm_out_extra_u64(o, "order", ev->order);
}

static void decode_alloc(struct pm_out *o, const struct persecmon_record *rec)
{
	const struct persecmon_alloc_event *ev = (const void *)rec;
	const char *func = pm_alloc_func_name(ev->func);

	pm_out_kv_str(o, "func", func ? func : "?");
	pm_out_kv_hex(o, "addr", ev->addr);
	pm_out_kv_u64(o, "size", ev->size);
	pm_out_kv_u64(o, "nr_frames", ev->nr_frames);
	decode_frames(o, ev->frames, ev->nr_frames);
}

static void decode_free(struct pm_out *o, const struct persecmon_record *rec)
{
	const struct persecmon_free_event *ev = (const void *)rec;
	const char *func = pm_alloc_func_name(ev->func);

	pm_out_kv_str(o, "func", func ? func : "?");
	pm_out_kv_hex(o, "addr", ev->addr);
}

void pm_map_view(const struct persecmon_record *rec, struct pm_map_view *v)
{
	const struct persecmon_map_event *ev = (const void *)rec;

	v->start = ev->start;
	v->end = ev->end;
	v->offset = ev->offset;
	v->ino = ev->ino;
	v->dev = ev->dev;
	/* pm_record_check() bounded path_len by the record size. */
	memcpy(v->path, ev->path, ev->path_len);
	v->path[ev->path_len] = '\0';
}

static void decode_map(struct pm_out *o, const struct persecmon_record *rec)
{
	struct pm_map_view v;
	char dev[32];

	pm_map_view(rec, &v);
	pm_out_kv_hex(o, "start", v.start);
	pm_out_kv_hex(o, "end", v.end);
	pm_out_kv_hex(o, "offset", v.offset);
	snprintf(dev, sizeof(dev), "%u:%u", major(v.dev), minor(v.dev));
	pm_out_kv_str(o, "dev", dev);
	pm_out_kv_u64(o, "ino", v.ino);
	pm_out_kv_str(o, "path", v.path);
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
	case PERSECMON_EV_EXEC:
		decode_exec(o, rec);
		break;
	case PERSECMON_EV_FORK:
		decode_fork(o, rec);
		break;
	case PERSECMON_EV_EXIT:
		decode_exit(o, rec);
		break;
	case PERSECMON_EV_EXEC_FAIL:
		decode_exec_fail(o, rec);
		break;
	case PERSECMON_EV_OPEN:
		decode_open(o, rec);
		break;
	case PERSECMON_EV_VFS:
		decode_vfs(o, rec);
		break;
	case PERSECMON_EV_BLOCK:
		decode_block(o, rec);
		break;
	case PERSECMON_EV_TCP_CONNECT:
	case PERSECMON_EV_TCP_STATE:
		decode_tcp(o, rec);
		break;
	case PERSECMON_EV_DNS:
		decode_dns(o, rec);
		break;
	case PERSECMON_EV_KALLOC:
		decode_kalloc(o, rec);
		break;
	case PERSECMON_EV_KFREE:
		decode_kfree(o, rec);
		break;
	case PERSECMON_EV_ALLOC:
		decode_alloc(o, rec);
		break;
	case PERSECMON_EV_FREE:
		decode_free(o, rec);
		break;
	case PERSECMON_EV_MAP:
		decode_map(o, rec);
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
