// SPDX-License-Identifier: GPL-2.0
/*
 * Decoding of the "proc" group's records (exec, exec_fail, fork, exit):
 * length checks,
 * argument splitting, cut data, and the text and JSON keys.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "persecmon/decode.h"
#include "persecmon/names.h"
#include "persecmon/output.h"

#define ALIGN8(x)	(((x) + 7) & ~(size_t)7)

static uint64_t scratch[PERSECMON_RECORD_MAX / 8];

/* An exec record with @args_len bytes of NUL-separated @args. */
static struct persecmon_record *make_exec(const char *filename,
					  const char *args, size_t args_len,
					  uint32_t argc, uint16_t flags)
{
	struct persecmon_exec_event *ev = (void *)scratch;
	size_t flen = strlen(filename);

	memset(scratch, 0, sizeof(scratch));
	ev->hdr.size = (uint16_t)ALIGN8(sizeof(*ev) + flen + args_len);
	ev->hdr.type = PERSECMON_EV_EXEC;
	ev->hdr.flags = flags;
	ev->hdr.pid = 200;
	ev->hdr.tgid = 200;
	ev->ppid = 100;
	ev->old_pid = 200;
	memcpy(ev->comm, "sh", 2);
	ev->argc = argc;
	ev->filename_len = (uint16_t)flen;
	ev->args_len = (uint16_t)args_len;
	memcpy(ev->data, filename, flen);
	memcpy(ev->data + flen, args, args_len);
	return &ev->hdr;
}

static char *render(enum pm_out_format fmt, const struct persecmon_record *rec)
{
	struct pm_decode_ctx ctx = { .base_ns = 0 };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct pm_out o;

	assert_non_null(f);
	pm_out_init(&o, f, fmt, false);
	pm_decode_record(&o, &ctx, rec);
	fclose(f);
	return text;
}

static void exec_lengths_checked(void **state)
{
	struct persecmon_record *rec;
	struct persecmon_exec_event *ev;

	(void)state;
	rec = make_exec("/bin/sh", "sh\0-c\0exit 7", 12, 3, 0);
	assert_int_equal(pm_record_check(rec, rec->size), PM_REC_OK);
	ev = (void *)rec;
	ev->args_len = (uint16_t)(rec->size - sizeof(*ev) - 7 + 1);
	assert_int_equal(pm_record_check(rec, rec->size), PM_REC_BAD_LENGTH);
	ev->args_len = 0;
	ev->filename_len = 0xffff;
	assert_int_equal(pm_record_check(rec, rec->size), PM_REC_BAD_LENGTH);
	rec->size = 64;		/* shorter than the fixed part */
	assert_int_equal(pm_record_check(rec, rec->size), PM_REC_TOO_SHORT);
	rec->type = PERSECMON_EV_FORK;
	assert_int_equal(pm_record_check(rec, 64), PM_REC_TOO_SHORT);
	rec->type = PERSECMON_EV_EXIT;
	assert_int_equal(pm_record_check(rec, 64), PM_REC_TOO_SHORT);
	rec->size = 72;
	assert_int_equal(pm_record_check(rec, 72), PM_REC_OK);
}

static void exec_args_split(void **state)
{
	static struct pm_exec_view v;
	struct persecmon_record *rec;

	(void)state;
	rec = make_exec("/bin/sh", "sh\0-c\0exit 7", 12, 3, 0);
	pm_exec_view(rec, &v);
	assert_string_equal(v.filename, "/bin/sh");
	assert_int_equal(v.nargs, 3);
	assert_string_equal(v.argv[0], "sh");
	assert_string_equal(v.argv[1], "-c");
	assert_string_equal(v.argv[2], "exit 7");
	assert_int_equal(v.argc, 3);
	assert_false(v.truncated);

	/* An empty argument in the middle stays an argument. */
	rec = make_exec("/x", "a\0\0b", 4, 3, 0);
	pm_exec_view(rec, &v);
	assert_int_equal(v.nargs, 3);
	assert_string_equal(v.argv[1], "");
	assert_string_equal(v.argv[2], "b");

	/* No arguments at all (argv[] empty). */
	rec = make_exec("/x", "", 0, 0, 0);
	pm_exec_view(rec, &v);
	assert_int_equal(v.nargs, 0);

	/* Cut in the middle of the second string. */
	rec = make_exec("/usr/bin/env", "env\0tr", 6, 5,
			PERSECMON_RF_TRUNCATED);
	pm_exec_view(rec, &v);
	assert_int_equal(v.nargs, 2);
	assert_string_equal(v.argv[1], "tr");
	assert_int_equal(v.argc, 5);
	assert_true(v.truncated);
}

static void exec_rendering(void **state)
{
	struct persecmon_record *rec;
	char *text;

	(void)state;
	rec = make_exec("/bin/sh", "sh\0-c\0exit 7", 12, 3, 0);
	text = render(PM_OUT_JSON, rec);
	assert_non_null(strstr(text, "\"type\":\"exec\",\"ppid\":100,"
				     "\"filename\":\"/bin/sh\",\"argc\":3,"
				     "\"args\":[\"sh\",\"-c\",\"exit 7\"]"));
	assert_non_null(strstr(text, "\"new_comm\":\"sh\",\"old_pid\":200"));
	assert_non_null(strstr(text, "\"flags\":[]"));
	free(text);
	text = render(PM_OUT_TEXT, rec);
	assert_non_null(strstr(text, "exec     ppid=100 filename=/bin/sh argc=3 args=\"sh -c exit 7\""));
	free(text);

	rec = make_exec("/usr/bin/env", "env\0tr", 6, 5,
			PERSECMON_RF_TRUNCATED);
	text = render(PM_OUT_JSON, rec);
	assert_non_null(strstr(text, "\"args\":[\"env\",\"tr\"]"));
	assert_non_null(strstr(text, "\"flags\":[\"truncated\"]"));
	free(text);
}

static void fork_exit_rendering(void **state)
{
	struct persecmon_fork_event *fk = (void *)scratch;
	struct persecmon_exit_event *ex = (void *)scratch;
	char *text;

	(void)state;
	memset(scratch, 0, sizeof(scratch));
	fk->hdr.size = sizeof(*fk);
	fk->hdr.type = PERSECMON_EV_FORK;
	fk->child_pid = 301;
	fk->child_tgid = 300;
	fk->flags = PERSECMON_FORK_THREAD;
	memcpy(fk->comm, "0123456789abcdef", 16);	/* no NUL */
	text = render(PM_OUT_JSON, &fk->hdr);
	assert_non_null(strstr(text, "\"type\":\"fork\",\"child_pid\":301,"
				     "\"child_tgid\":300,\"thread\":true,"
				     "\"parent_comm\":\"0123456789abcdef\""));
	free(text);

	memset(scratch, 0, sizeof(scratch));
	ex->hdr.size = sizeof(*ex);
	ex->hdr.type = PERSECMON_EV_EXIT;
	ex->exit_code = 7 << 8;
	ex->flags = PERSECMON_EXIT_GROUP_DEAD;
	ex->lifetime_ns = 123456789;
	memcpy(ex->comm, "sh", 2);
	text = render(PM_OUT_JSON, &ex->hdr);
	assert_non_null(strstr(text, "\"type\":\"exit\",\"exit_code\":1792,"
				     "\"status\":7,\"lifetime_ns\":123456789,"
				     "\"group_dead\":true,\"exit_comm\":\"sh\""));
	free(text);

	ex->exit_code = 9;	/* SIGKILL */
	ex->flags = 0;
	text = render(PM_OUT_TEXT, &ex->hdr);
	assert_non_null(strstr(text, "exit     exit_code=9 signal=9 lifetime_ns=123456789 group_dead=no"));
	free(text);
}

/*
 * A failed-exec record with @filename (@len bytes) and the arguments
 * @args (@args_len bytes, NUL-separated).
 */
static struct persecmon_record *make_exec_fail_args(const char *filename,
						    size_t len,
						    const char *args,
						    size_t args_len,
						    int32_t ret,
						    uint16_t syscall,
						    uint16_t ev_flags,
						    uint16_t hdr_flags)
{
	struct persecmon_exec_fail_event *ev = (void *)scratch;

	memset(scratch, 0, sizeof(scratch));
	ev->hdr.size = (uint16_t)ALIGN8(sizeof(*ev) + len + args_len);
	ev->hdr.type = PERSECMON_EV_EXEC_FAIL;
	ev->hdr.flags = hdr_flags;
	ev->hdr.pid = 201;
	ev->hdr.tgid = 200;
	ev->ret = ret;
	ev->ppid = 100;
	ev->dfd = syscall == PERSECMON_EXEC_EXECVEAT ? 3 : -100;
	ev->at_flags = syscall == PERSECMON_EXEC_EXECVEAT ? 0x1000 : 0;
	memcpy(ev->comm, "bash", 4);
	ev->syscall = syscall;
	ev->flags = ev_flags;
	ev->filename_len = (uint16_t)len;
	ev->args_len = (uint16_t)args_len;
	memcpy(ev->filename, filename, len);
	memcpy(ev->filename + len, args, args_len);
	return &ev->hdr;
}

/* The same without arguments (an ABI 1.4 record). */
static struct persecmon_record *make_exec_fail(const char *filename,
					       size_t len, int32_t ret,
					       uint16_t syscall,
					       uint16_t ev_flags,
					       uint16_t hdr_flags)
{
	return make_exec_fail_args(filename, len, "", 0, ret, syscall,
				   ev_flags, hdr_flags);
}

static void exec_fail_lengths_checked(void **state)
{
	struct persecmon_exec_fail_event *ev;
	struct persecmon_record *rec;

	(void)state;
	rec = make_exec_fail("/nonexistent", 12, -2, PERSECMON_EXEC_EXECVE,
			     0, 0);
	assert_int_equal(rec->size, 96);
	assert_int_equal(pm_record_check(rec, rec->size), PM_REC_OK);
	ev = (void *)rec;
	/* 80 + 16 = 96: the padding may hold the name, not one byte more. */
	ev->filename_len = 16;
	assert_int_equal(pm_record_check(rec, rec->size), PM_REC_OK);
	ev->filename_len = 17;
	assert_int_equal(pm_record_check(rec, rec->size), PM_REC_BAD_LENGTH);
	ev->filename_len = 0;
	rec->size = 72;		/* shorter than the fixed part */
	assert_int_equal(pm_record_check(rec, rec->size), PM_REC_TOO_SHORT);
	rec->size = 80;		/* no filename at all */
	assert_int_equal(pm_record_check(rec, rec->size), PM_REC_OK);

	/* Filename and arguments together bound by the size. */
	rec = make_exec_fail_args("/x", 2, "a\0bc", 4, -2,
				  PERSECMON_EXEC_EXECVE, 0, 0);
	assert_int_equal(rec->size, 88);
	assert_int_equal(pm_record_check(rec, rec->size), PM_REC_OK);
	ev = (void *)rec;
	ev->args_len = 6;	/* 80 + 2 + 6 = 88 */
	assert_int_equal(pm_record_check(rec, rec->size), PM_REC_OK);
	ev->args_len = 7;
	assert_int_equal(pm_record_check(rec, rec->size), PM_REC_BAD_LENGTH);
	ev->args_len = 0xffff;
	assert_int_equal(pm_record_check(rec, rec->size), PM_REC_BAD_LENGTH);
}

static void exec_fail_view(void **state)
{
	static struct pm_exec_fail_view v;
	struct persecmon_record *rec;

	(void)state;
	rec = make_exec_fail("/tmp/noexec.sh", 14, -13, PERSECMON_EXEC_EXECVE,
			     0, 0);
	pm_exec_fail_view(rec, &v);
	assert_string_equal(v.filename, "/tmp/noexec.sh");
	assert_string_equal(v.comm, "bash");
	assert_string_equal(v.syscall, "execve");
	assert_string_equal(v.errno_name, "EACCES");
	assert_false(v.truncated);
	assert_false(v.no_filename);
	assert_false(v.compat);

	/* Unreadable: no bytes, both flags. */
	rec = make_exec_fail("", 0, -14, PERSECMON_EXEC_EXECVEAT,
			     PERSECMON_EXEC_FAIL_NO_FILENAME |
				     PERSECMON_EXEC_FAIL_COMPAT,
			     PERSECMON_RF_TRUNCATED);
	pm_exec_fail_view(rec, &v);
	assert_string_equal(v.filename, "");
	assert_string_equal(v.syscall, "execveat");
	assert_string_equal(v.errno_name, "EFAULT");
	assert_true(v.truncated);
	assert_true(v.no_filename);
	assert_true(v.compat);

	/* Arguments after the filename; an empty last one is kept. */
	rec = make_exec_fail_args("/bin/nope", 9, "nope\0-x\0\0y z", 12, -2,
				  PERSECMON_EXEC_EXECVE, 0, 0);
	pm_exec_fail_view(rec, &v);
	assert_string_equal(v.filename, "/bin/nope");
	assert_int_equal(v.nargs, 4);
	assert_string_equal(v.argv[0], "nope");
	assert_string_equal(v.argv[1], "-x");
	assert_string_equal(v.argv[2], "");
	assert_string_equal(v.argv[3], "y z");
	assert_false(v.no_args);
	rec = make_exec_fail_args("/bin/nope", 9, "", 0, -14,
				  PERSECMON_EXEC_EXECVE,
				  PERSECMON_EXEC_FAIL_NO_ARGS, 0);
	pm_exec_fail_view(rec, &v);
	assert_int_equal(v.nargs, 0);
	assert_true(v.no_args);

	/* A syscall number this tool does not know is still shown. */
	rec = make_exec_fail("/x", 2, -2, 7, 0, 0);
	pm_exec_fail_view(rec, &v);
	assert_string_equal(v.syscall, "syscall7");
}

static void exec_fail_rendering(void **state)
{
	struct persecmon_record *rec;
	char *text;

	(void)state;
	rec = make_exec_fail("/nonexistent/x", 14, -2, PERSECMON_EXEC_EXECVE,
			     0, 0);
	text = render(PM_OUT_JSON, rec);
	assert_non_null(strstr(text, "\"type\":\"exec_fail\",\"syscall\":\"execve\","
				     "\"ret\":-2,\"errno\":\"ENOENT\",\"ppid\":100,"
				     "\"dfd\":-100,\"at_flags\":0,"
				     "\"filename\":\"/nonexistent/x\",\"args\":[],"
				     "\"no_filename\":false,\"no_args\":false,"
				     "\"compat\":false,"
				     "\"exec_comm\":\"bash\""));
	assert_non_null(strstr(text, "\"pid\":201,\"tgid\":200"));
	assert_non_null(strstr(text, "\"flags\":[]"));
	free(text);
	text = render(PM_OUT_TEXT, rec);
	assert_non_null(strstr(text, "exec_fail syscall=execve ret=-2 errno=ENOENT ppid=100 dfd=-100 at_flags=0x0 filename=/nonexistent/x args=\"\" no_filename=no no_args=no compat=no"));
	free(text);

	rec = make_exec_fail_args("/x/y", 4, "y\0--help", 8, -13,
				  PERSECMON_EXEC_EXECVE, 0, 0);
	text = render(PM_OUT_JSON, rec);
	assert_non_null(strstr(text, "\"filename\":\"/x/y\",\"args\":[\"y\",\"--help\"],"));
	free(text);
	text = render(PM_OUT_TEXT, rec);
	assert_non_null(strstr(text, "filename=/x/y args=\"y --help\" no_filename=no"));
	free(text);

	rec = make_exec_fail("/a/b", 4, -36, PERSECMON_EXEC_EXECVEAT, 0,
			     PERSECMON_RF_TRUNCATED);
	text = render(PM_OUT_JSON, rec);
	assert_non_null(strstr(text, "\"syscall\":\"execveat\",\"ret\":-36,"
				     "\"errno\":\"ENAMETOOLONG\",\"ppid\":100,"
				     "\"dfd\":3,\"at_flags\":4096"));
	assert_non_null(strstr(text, "\"flags\":[\"truncated\"]"));
	free(text);
}

static void proc_names(void **state)
{
	(void)state;
	assert_string_equal(pm_type_name(PERSECMON_EV_EXEC), "exec");
	assert_string_equal(pm_type_name(PERSECMON_EV_FORK), "fork");
	assert_string_equal(pm_type_name(PERSECMON_EV_EXIT), "exit");
	assert_string_equal(pm_type_name(PERSECMON_EV_EXEC_FAIL), "exec_fail");
	assert_int_equal(pm_type_parse("exec_fail"), PERSECMON_EV_EXEC_FAIL);
	assert_string_equal(pm_group_name(PERSECMON_GROUP_PROC), "proc");
	assert_int_equal(pm_type_parse("exec"), PERSECMON_EV_EXEC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exec_lengths_checked),
		cmocka_unit_test(exec_args_split),
		cmocka_unit_test(exec_rendering),
		cmocka_unit_test(fork_exit_rendering),
		cmocka_unit_test(exec_fail_lengths_checked),
		cmocka_unit_test(exec_fail_view),
		cmocka_unit_test(exec_fail_rendering),
		cmocka_unit_test(proc_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
