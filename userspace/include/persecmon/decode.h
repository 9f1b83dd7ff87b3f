/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Record validation and decoding.
 *
 * pm_record_check() is the gate every record passes before anything reads
 * past its first four bytes: once it returns PM_REC_OK, hdr.size bytes are
 * readable and every type-specific length inside the record is in bounds.
 */
#ifndef PERSECMON_DECODE_H
#define PERSECMON_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/persecmon.h>

#include "persecmon/output.h"

struct pm_comm_cache;

enum pm_rec_status {
	PM_REC_OK = 0,
	PM_REC_ZERO_SIZE,	/* hdr.size == 0: the stream is unparseable */
	PM_REC_MISALIGNED,	/* hdr.size not a multiple of 8 */
	PM_REC_BEYOND_BUFFER,	/* hdr.size larger than the bytes available */
	PM_REC_TOO_SHORT,	/* smaller than the header or the type's struct */
	PM_REC_TOO_LARGE,	/* larger than PERSECMON_RECORD_MAX */
	PM_REC_BAD_TYPE,	/* PERSECMON_REC_INVALID or > REC_TYPE_MAX */
	PM_REC_BAD_LENGTH,	/* an inner length field points past hdr.size */
};

const char *pm_rec_status_str(enum pm_rec_status st);

/*
 * Check the record at @rec with @avail bytes readable from there. A PAD
 * record may be as small as 8 bytes (only size and type are read from it),
 * because the space left at the end of a data area can be smaller than a
 * header; every other record needs at least the 40-byte header.
 */
enum pm_rec_status pm_record_check(const void *rec, size_t avail);

/* Smallest valid hdr.size for @type (PAD: 8, unknown types: header). */
size_t pm_record_min_size(unsigned int type);

/* Integrity of a PERSECMON_EV_TEST record (which passed pm_record_check). */
enum pm_test_status {
	PM_TEST_OK = 0,
	PM_TEST_BAD_CONTEXT,	/* context > PERSECMON_CTX_MAX */
	PM_TEST_BAD_CHECK,	/* check != persecmon_test_check(...) */
	PM_TEST_BAD_FILL,	/* fill[i] != (index + i) & 0xff */
	PM_TEST_BAD_PADDING,	/* a byte after fill[] is not zero */
};

struct pm_test_result {
	enum pm_test_status status;
	size_t offset;		/* byte offset in the record of the bad byte */
	uint64_t expected;
	uint64_t actual;
};

enum pm_test_status pm_test_event_verify(const struct persecmon_record *rec,
					 struct pm_test_result *res);
/* One-line description of a failed result. */
void pm_test_result_describe(const struct pm_test_result *res, char *buf,
			     size_t len);

/* How the record columns are rendered. */
struct pm_decode_ctx {
	uint64_t base_ns;		/* CLOCK_MONOTONIC origin of "ts" */
	bool have_realtime;		/* realtime_offset_ns is known */
	int64_t realtime_offset_ns;	/* CLOCK_REALTIME - CLOCK_MONOTONIC */
	bool wall_clock;		/* text: TIME column as wall-clock time */
	struct pm_comm_cache *comms;	/* may be NULL: no COMM lookup */
};

/* Text column titles matching pm_decode_record(). */
void pm_decode_header(struct pm_out *o, const struct pm_decode_ctx *ctx);
/* One line / JSON object for @rec (which passed pm_record_check). */
void pm_decode_record(struct pm_out *o, const struct pm_decode_ctx *ctx,
		      const struct persecmon_record *rec);
/* Only the type-specific fields of @rec, into the current container. */
void pm_decode_details(struct pm_out *o, const struct persecmon_record *rec);

/*
 * The strings of a PERSECMON_EV_EXEC record (which passed pm_record_check),
 * NUL-terminated: the filename and each argument found in the (possibly
 * cut) argument area. argc is the kernel's count before any cut.
 */
#define PM_EXEC_DATA_MAX	(PERSECMON_RECORD_MAX + 1)
#define PM_EXEC_ARGV_MAX	(PERSECMON_RECORD_MAX / 2 + 1)

struct pm_exec_view {
	char filename[PM_EXEC_DATA_MAX];
	char args[PM_EXEC_DATA_MAX];
	const char *argv[PM_EXEC_ARGV_MAX];
	size_t nargs;		/* strings in argv[] */
	uint32_t argc;
	bool truncated;		/* PERSECMON_RF_TRUNCATED */
};

void pm_exec_view(const struct persecmon_record *rec, struct pm_exec_view *v);

/* A PERSECMON_EV_MAP record (pm_record_check() passed), path terminated. */
struct pm_map_view {
	uint64_t start, end, offset, ino;
	uint32_t dev;
	char path[PERSECMON_RECORD_MAX];
};

void pm_map_view(const struct persecmon_record *rec, struct pm_map_view *v);

/*
 * A PERSECMON_EV_EXEC_FAIL record (which passed pm_record_check), with its
 * strings NUL-terminated and its numbers named.
 */
struct pm_exec_fail_view {
	char filename[PERSECMON_RECORD_MAX];
	char args[PM_EXEC_DATA_MAX];	/* as in struct pm_exec_view */
	const char *argv[PM_EXEC_ARGV_MAX];
	size_t nargs;
	size_t args_len;
	char comm[PERSECMON_COMM_LEN + 1];
	char syscall[16];	/* "execve", "execveat", "syscallN" */
	const char *errno_name;	/* "ENOENT", ...; NULL if ret >= 0 */
	bool truncated;		/* PERSECMON_RF_TRUNCATED */
	bool no_filename;	/* PERSECMON_EXEC_FAIL_NO_FILENAME */
	bool compat;		/* PERSECMON_EXEC_FAIL_COMPAT */
	bool no_args;		/* PERSECMON_EXEC_FAIL_NO_ARGS */
};

void pm_exec_fail_view(const struct persecmon_record *rec,
		       struct pm_exec_fail_view *v);

/* "ENOENT" for 2; "E?" for a number glibc has no name for. */
const char *pm_errno_name(int err);

/* realtime_offset_ns from a PERSECMON_REC_CLOCK record. */
void pm_decode_clock_update(struct pm_decode_ctx *ctx,
			    const struct persecmon_record *rec);

#endif /* PERSECMON_DECODE_H */
