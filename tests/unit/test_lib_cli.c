// SPDX-License-Identifier: GPL-2.0
/*
 * libpersecmon cli and output: the shared option parser (values, ranges,
 * positionals, errors, generated help) and the text/JSON output layer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <cmocka.h>

#include "persecmon/cli.h"
#include "persecmon/error.h"
#include "persecmon/output.h"

static bool opt_flag;
static uint64_t opt_num;
static const char *opt_str;
static double opt_secs;
static int opt_cb_calls;

static int parse_even(const char *arg, void *target, char *errbuf,
		      size_t errlen)
{
	uint64_t v;

	opt_cb_calls++;
	if (pm_parse_u64(arg, 0, 1000, &v) < 0 || v % 2) {
		snprintf(errbuf, errlen, "expected an even number");
		return -1;
	}
	*(uint64_t *)target = v;
	return 0;
}

static uint64_t opt_even;

static const struct pm_option options[] = {
	{ "flag", 'f', PM_OPT_FLAG, NULL, "a flag", &opt_flag, 0, 0, NULL },
	{ "num", 'n', PM_OPT_UINT, "N", "a number 1-100", &opt_num, 1, 100,
	  NULL },
	{ "str", 0, PM_OPT_STRING, "S", "a string", &opt_str, 0, 0, NULL },
	{ "secs", 0, PM_OPT_SECONDS, "SECONDS", "a duration", &opt_secs, 0, 0,
	  NULL },
	{ "even", 'e', PM_OPT_CALLBACK, "N", "an even number\nsecond line",
	  &opt_even, 0, 0, parse_even },
	{ 0 },
};

static const struct pm_command cmd = {
	.name = "tool",
	.summary = "A tool for tests.",
	.args = "[THING]",
	.min_args = 0,
	.max_args = 1,
	.common = PM_CLI_JSON | PM_CLI_PID | PM_CLI_DURATION,
	.options = options,
	.examples = "  tool -f      # flag it\n",
};

static const struct pm_command interval_cmd = {
	.name = "itool",
	.summary = "Repeats.",
	.common = PM_CLI_INTERVAL,
};

static char *out_text, *err_text;
static size_t out_len, err_len;
static FILE *out, *err;

static int setup(void **state)
{
	(void)state;
	opt_flag = false;
	opt_num = 0;
	opt_str = NULL;
	opt_secs = 0;
	opt_even = 0;
	opt_cb_calls = 0;
	out = open_memstream(&out_text, &out_len);
	err = open_memstream(&err_text, &err_len);
	return out && err ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	fclose(out);
	fclose(err);
	free(out_text);
	free(err_text);
	return 0;
}

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])) - 1)

static enum pm_cli_result parse(const struct pm_command *c, int argc,
				char **argv, struct pm_cli *cli)
{
	enum pm_cli_result r = pm_cli_parse(c, argc, argv, cli, out, err);

	fflush(out);
	fflush(err);
	return r;
}

static void check_everything_parses(void **state)
{
	char *argv[] = { "tool", "-j", "-v", "-v", "-p", "12,34", "thing",
			 "-d", "1.5", "-f", "--num", "42", "--str", "x y",
			 "--secs=0.25", "-e", "8", "-p", "56", NULL };
	struct pm_cli cli;

	(void)state;
	assert_int_equal(parse(&cmd, ARGC(argv), argv, &cli), PM_CLI_OK);
	assert_true(cli.json);
	assert_int_equal(cli.verbose, 2);
	assert_int_equal(cli.nr_pids, 3);
	assert_int_equal(cli.pids[0], 12);
	assert_int_equal(cli.pids[1], 34);
	assert_int_equal(cli.pids[2], 56);
	assert_true(cli.duration == 1.5);
	assert_true(opt_flag);
	assert_int_equal(opt_num, 42);
	assert_string_equal(opt_str, "x y");
	assert_true(opt_secs == 0.25);
	assert_int_equal(opt_even, 8);
	/* Options after the positional were permuted away from it. */
	assert_int_equal(cli.nr_args, 1);
	assert_string_equal(cli.args[0], "thing");
	assert_int_equal(err_len, 0);
}

static void check_defaults_untouched(void **state)
{
	char *argv[] = { "tool", NULL };
	struct pm_cli cli;

	(void)state;
	opt_num = 7;	/* a command's default survives when not given */
	assert_int_equal(parse(&cmd, ARGC(argv), argv, &cli), PM_CLI_OK);
	assert_false(cli.json);
	assert_int_equal(cli.nr_pids, 0);
	assert_true(cli.duration == 0);
	assert_int_equal(opt_num, 7);
	assert_int_equal(cli.nr_args, 0);
}

static void expect_usage_error(const struct pm_command *c, int argc,
			       char **argv, const char *msg)
{
	struct pm_cli cli;

	assert_int_equal(parse(c, argc, argv, &cli), PM_CLI_ERROR);
	if (!strstr(err_text, msg))
		fail_msg("expected '%s' in '%s'", msg, err_text);
	assert_non_null(strstr(err_text, "Try '"));
	rewind(err);
	fflush(err);
}

static void check_usage_errors(void **state)
{
	char *unknown[] = { "tool", "--bogus", NULL };
	char *unknown_short[] = { "tool", "-z", NULL };
	char *missing[] = { "tool", "--num", NULL };
	char *missing_short[] = { "tool", "-p", NULL };
	char *range[] = { "tool", "-n", "101", NULL };
	char *zero[] = { "tool", "-n", "0", NULL };
	char *negative[] = { "tool", "-n", "-1", NULL };
	char *junk[] = { "tool", "-n", "12abc", NULL };
	char *pid0[] = { "tool", "-p", "0", NULL };
	char *pidlist[] = { "tool", "-p", "1,,2", NULL };
	char *secs[] = { "tool", "-d", "nan", NULL };
	char *secs0[] = { "tool", "-d", "0", NULL };
	char *secsinf[] = { "tool", "--secs", "inf", NULL };
	char *cb[] = { "tool", "-e", "3", NULL };
	char *extra[] = { "tool", "a", "b", NULL };

	(void)state;
	expect_usage_error(&cmd, ARGC(unknown), unknown, "unknown option '--bogus'");
	expect_usage_error(&cmd, ARGC(unknown_short), unknown_short, "unknown option '-z'");
	expect_usage_error(&cmd, ARGC(missing), missing, "option --num needs an argument");
	expect_usage_error(&cmd, ARGC(missing_short), missing_short, "option --pid needs an argument");
	expect_usage_error(&cmd, ARGC(range), range, "expected an integer from 1 to 100");
	expect_usage_error(&cmd, ARGC(zero), zero, "invalid --num '0'");
	expect_usage_error(&cmd, ARGC(negative), negative, "invalid --num '-1'");
	expect_usage_error(&cmd, ARGC(junk), junk, "invalid --num '12abc'");
	expect_usage_error(&cmd, ARGC(pid0), pid0, "invalid --pid '0'");
	expect_usage_error(&cmd, ARGC(pidlist), pidlist, "invalid --pid '1,,2'");
	expect_usage_error(&cmd, ARGC(secs), secs, "invalid --duration 'nan'");
	expect_usage_error(&cmd, ARGC(secs0), secs0, "invalid --duration '0'");
	expect_usage_error(&cmd, ARGC(secsinf), secsinf, "invalid --secs 'inf'");
	expect_usage_error(&cmd, ARGC(cb), cb, "invalid --even '3': expected an even number");
	assert_int_equal(opt_cb_calls, 1);
	expect_usage_error(&cmd, ARGC(extra), extra, "unexpected argument 'b'");
}

static void check_too_many_pids(void **state)
{
	char *argv[] = { "tool", "-p", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16",
			 "-p", "17", NULL };

	(void)state;
	expect_usage_error(&cmd, ARGC(argv), argv, "up to 16");
}

static void check_interval_and_count(void **state)
{
	char *both[] = { "itool", "2.5", "5", NULL };
	char *one[] = { "itool", "1", NULL };
	char *none[] = { "itool", NULL };
	char *bad_interval[] = { "itool", "0", NULL };
	char *bad_count[] = { "itool", "1", "0", NULL };
	char *three[] = { "itool", "1", "2", "3", NULL };
	struct pm_cli cli;

	(void)state;
	assert_int_equal(parse(&interval_cmd, ARGC(both), both, &cli), PM_CLI_OK);
	assert_true(cli.interval == 2.5);
	assert_int_equal(cli.count, 5);
	assert_int_equal(cli.nr_args, 0);
	assert_int_equal(parse(&interval_cmd, ARGC(one), one, &cli), PM_CLI_OK);
	assert_true(cli.interval == 1);
	assert_int_equal(cli.count, 0);
	assert_int_equal(parse(&interval_cmd, ARGC(none), none, &cli), PM_CLI_OK);
	assert_true(cli.interval == 0);
	expect_usage_error(&interval_cmd, ARGC(bad_interval), bad_interval, "invalid interval '0'");
	expect_usage_error(&interval_cmd, ARGC(bad_count), bad_count, "invalid count '0'");
	expect_usage_error(&interval_cmd, ARGC(three), three, "unexpected argument '3'");
	/* Options the command does not take are unknown to it. */
	char *json[] = { "itool", "--json", NULL };

	expect_usage_error(&interval_cmd, ARGC(json), json, "unknown option '--json'");
}

static void check_help(void **state)
{
	char *argv[] = { "tool", "-n", "5", "--help", NULL };
	struct pm_cli cli;

	(void)state;
	assert_int_equal(parse(&cmd, ARGC(argv), argv, &cli), PM_CLI_HELP);
	assert_non_null(strstr(out_text, "Usage: tool [OPTIONS] [THING]\n\nA tool for tests.\n"));
	assert_non_null(strstr(out_text, "  -h, --help                  show this help and exit\n"));
	assert_non_null(strstr(out_text, "  -p, --pid PID[,PID...]      "));
	assert_non_null(strstr(out_text, "      --str S                 a string\n"));
	assert_non_null(strstr(out_text, "  -e, --even N                an even number\n"
					 "                              second line\n"));
	assert_non_null(strstr(out_text, "\nExamples:\n  tool -f      # flag it\n"));
	assert_non_null(strstr(out_text, "\nExit status:\n  0  success\n"));
	assert_non_null(strstr(out_text, "  3  persecmon module not loaded\n"));
	assert_non_null(strstr(out_text, "  5  the module's ABI major differs"));
}

/* pm_cli_parse_main() prints to stdout and stderr: send both to /dev/null. */
static bool parse_main_quietly(char **argv, int argc, struct pm_cli *cli,
			       int *exit_code)
{
	int saved_out, saved_err, null_fd;
	bool go_on;

	fflush(stdout);
	fflush(stderr);
	saved_out = dup(STDOUT_FILENO);
	saved_err = dup(STDERR_FILENO);
	null_fd = open("/dev/null", O_WRONLY);
	assert_true(saved_out >= 0 && saved_err >= 0 && null_fd >= 0);
	dup2(null_fd, STDOUT_FILENO);
	dup2(null_fd, STDERR_FILENO);
	go_on = pm_cli_parse_main(&cmd, argc, argv, cli, exit_code);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, STDOUT_FILENO);
	dup2(saved_err, STDERR_FILENO);
	close(saved_out);
	close(saved_err);
	close(null_fd);
	return go_on;
}

static void check_parse_main_exit_codes(void **state)
{
	char *good[] = { "tool", "-n", "5", NULL };
	char *help[] = { "tool", "--help", NULL };
	char *bad[] = { "tool", "-n", "500", NULL };
	struct pm_cli cli;
	int exit_code = -1;

	(void)state;
	assert_true(parse_main_quietly(good, ARGC(good), &cli, &exit_code));
	assert_int_equal(exit_code, -1);	/* untouched when going on */
	assert_int_equal(opt_num, 5);
	assert_false(parse_main_quietly(help, ARGC(help), &cli, &exit_code));
	assert_int_equal(exit_code, PM_EXIT_OK);
	exit_code = -1;
	assert_false(parse_main_quietly(bad, ARGC(bad), &cli, &exit_code));
	assert_int_equal(exit_code, PM_EXIT_USAGE);
}

static void check_parse_numbers(void **state)
{
	uint32_t pids[4];
	uint64_t v;
	double d;

	(void)state;
	assert_int_equal(pm_parse_u64("0x10", 0, 100, &v), 0);
	assert_int_equal(v, 16);
	assert_int_equal(pm_parse_u64("010", 0, 100, &v), 0);
	assert_int_equal(v, 10);	/* decimal, not octal */
	assert_int_equal(pm_parse_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(pm_parse_u64("18446744073709551616", 0, UINT64_MAX, &v), -1);
	assert_int_equal(pm_parse_u64(" 1", 0, 100, &v), -1);
	assert_int_equal(pm_parse_u64("", 0, 100, &v), -1);
	assert_int_equal(pm_parse_u64("0x", 0, 100, &v), -1);
	assert_int_equal(pm_parse_seconds(".5", &d), 0);
	assert_true(d == 0.5);
	assert_int_equal(pm_parse_seconds("1e3", &d), 0);
	assert_int_equal(pm_parse_seconds("1e30", &d), -1);
	assert_int_equal(pm_parse_seconds("-1", &d), -1);
	assert_int_equal(pm_parse_u32_list("1,2,3", pids, 4), 3);
	assert_int_equal(pm_parse_u32_list("1,2,3,4,5", pids, 4), -1);
	assert_int_equal(pm_parse_u32_list("4294967296", pids, 4), -1);
	assert_int_equal(pm_parse_u32_list("7,", pids, 4), -1);
}

/* ---- output layer ---- */

static char *capture(void (*body)(struct pm_out *o), enum pm_out_format fmt,
		     bool verbose)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct pm_out o;

	assert_non_null(f);
	pm_out_init(&o, f, fmt, verbose);
	body(&o);
	assert_int_equal(pm_out_flush(&o), 0);
	fclose(f);
	return text;
}

static void a_line(struct pm_out *o)
{
	static const char *const list[] = { "a", "b" };

	pm_out_line_begin(o);
	pm_out_col_u64(o, "cpu", -4, 3);
	pm_out_col_str(o, "comm", -6, "sh");
	pm_out_col_str(o, "none", 3, NULL);
	pm_out_col_f64(o, "ts", 8, 3, 1.5);
	pm_out_kv_str(o, "msg", "two words");
	pm_out_kv_hex(o, "mask", 255);
	pm_out_kv_i64(o, "delta", -4);
	pm_out_kv_bool(o, "ok", true);
	pm_out_kv_strlist(o, "list", list, 2);
	pm_out_kv_strlist(o, "empty", list, 0);
	pm_out_extra_u64(o, "seq", 9);
	pm_out_line_end(o);
}

static void check_line_text_and_json(void **state)
{
	char *t;

	(void)state;
	t = capture(a_line, PM_OUT_TEXT, false);
	assert_string_equal(t, "3    sh       -    1.500 msg=\"two words\" mask=0xff delta=-4 ok=yes list=a,b\n");
	free(t);
	t = capture(a_line, PM_OUT_TEXT, true);
	assert_string_equal(t, "3    sh       -    1.500 msg=\"two words\" mask=0xff delta=-4 ok=yes list=a,b seq=9\n");
	free(t);
	t = capture(a_line, PM_OUT_JSON, false);
	assert_string_equal(t, "{\"cpu\":3,\"comm\":\"sh\",\"none\":null,\"ts\":1.500,"
			       "\"msg\":\"two words\",\"mask\":255,\"delta\":-4,\"ok\":true,"
			       "\"list\":[\"a\",\"b\"],\"empty\":[],\"seq\":9}\n");
	free(t);
}

static void escapes(struct pm_out *o)
{
	pm_out_line_begin(o);
	pm_out_kv_str(o, "s", "q\"b\\n\n\t\x01\x7f\xc3\xa9");
	pm_out_kv_f64(o, "nan", 2, NAN);
	pm_out_line_end(o);
}

static void check_json_escaping(void **state)
{
	char *t;

	(void)state;
	t = capture(escapes, PM_OUT_JSON, false);
	assert_string_equal(t, "{\"s\":\"q\\\"b\\\\n\\n\\t\\u0001\\u007f\xc3\xa9\",\"nan\":null}\n");
	free(t);
}

static void a_block(struct pm_out *o)
{
	unsigned int i;

	pm_out_block_begin(o);
	pm_out_kv_str(o, "module_version", "1.2");
	pm_out_kv_u64(o, "sessions", 2);
	pm_out_object_begin(o, "inner");
	pm_out_kv_bool(o, "ok", false);
	pm_out_object_end(o);
	pm_out_list_begin(o, "rows", "ID  VALUE");
	for (i = 0; i < 2; i++) {
		pm_out_line_begin(o);
		pm_out_col_u64(o, "id", -3, i);
		pm_out_col_u64(o, "value", 0, 10 * i);
		pm_out_line_end(o);
	}
	pm_out_list_end(o);
	pm_out_list_begin(o, "none", "NOTHING");
	pm_out_list_end(o);
	pm_out_block_end(o);
}

static void check_block_text_and_json(void **state)
{
	char *t;

	(void)state;
	t = capture(a_block, PM_OUT_TEXT, false);
	assert_string_equal(t,
		"module version       1.2\n"
		"sessions             2\n"
		"inner:\n"
		"  ok                 no\n"
		"\n"
		"ID  VALUE\n"
		"0   0\n"
		"1   10\n"
		"\n"
		"NOTHING\n");
	free(t);
	t = capture(a_block, PM_OUT_JSON, false);
	assert_string_equal(t,
		"{\"module_version\":\"1.2\",\"sessions\":2,\"inner\":{\"ok\":false},"
		"\"rows\":[{\"id\":0,\"value\":0},{\"id\":1,\"value\":10}],\"none\":[]}\n");
	free(t);
}

static void header_and_lines(struct pm_out *o)
{
	pm_out_header(o, "%-4s %s", "CPU", "N");
	a_line(o);
	a_line(o);
}

static void check_json_lines(void **state)
{
	char *t, *nl;
	int lines = 0;

	(void)state;
	t = capture(header_and_lines, PM_OUT_JSON, false);
	/* No header in JSON; one object per line. */
	for (nl = t; (nl = strchr(nl, '\n')); nl++)
		lines++;
	assert_int_equal(lines, 2);
	assert_int_equal(t[0], '{');
	free(t);
	t = capture(header_and_lines, PM_OUT_TEXT, false);
	assert_true(strncmp(t, "CPU  N\n3    sh", 14) == 0);
	free(t);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(check_everything_parses),
		T(check_defaults_untouched),
		T(check_usage_errors),
		T(check_too_many_pids),
		T(check_interval_and_count),
		T(check_help),
		T(check_parse_main_exit_codes),
		T(check_parse_numbers),
		cmocka_unit_test(check_line_text_and_json),
		cmocka_unit_test(check_json_escaping),
		cmocka_unit_test(check_block_text_and_json),
		cmocka_unit_test(check_json_lines),
	};

	return cmocka_run_group_tests_name("lib_cli", tests, NULL, NULL);
}
