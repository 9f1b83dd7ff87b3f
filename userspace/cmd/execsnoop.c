// SPDX-License-Identifier: GPL-2.0
/*
 * persecmon execsnoop: one line per successful exec(), in the columns of
 * bcc's execsnoop, from the "proc" group's PERSECMON_EV_EXEC records; with
 * -x also one per failed exec() (PERSECMON_EV_EXEC_FAIL), RET = -errno.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "persecmon/decode.h"
#include "persecmon/error.h"
#include "persecmon/snoop.h"

struct execsnoop_opts {
	bool wall_clock;
	bool timestamp;
	bool fails;
	const char *device;
};

static struct execsnoop_opts opts;

static const struct pm_option execsnoop_options[] = {
	{ "time", 'T', PM_OPT_FLAG, NULL,
	  "add a TIME column (wall clock, HH:MM:SS)", &opts.wall_clock, 0, 0,
	  NULL },
	{ "timestamp", 't', PM_OPT_FLAG, NULL,
	  "add a TIME(s) column (seconds since start)", &opts.timestamp, 0, 0,
	  NULL },
	{ "fails", 'x', PM_OPT_FLAG, NULL,
	  "include failed exec()s (RET is -errno)", &opts.fails, 0, 0, NULL },
	{ "device", 0, PM_OPT_STRING, "PATH",
	  "device to open (default " PERSECMON_DEVICE_PATH ")", &opts.device,
	  0, 0, NULL },
	{ 0 },
};

static const char execsnoop_description[] =
	"Traces every exec() that succeeded, through the \"proc\" probe group\n"
	"(the sched_process_exec tracepoint), which this command enables for\n"
	"its own session only. Columns: PCOMM (command name after exec), PID,\n"
	"PPID (process id of the real parent), RET (0 for an exec that\n"
	"succeeded), ARGS (the arguments, space-separated; the filename when\n"
	"there are none). The kernel keeps at most 256 bytes of filename and\n"
	"512 of arguments; a cut line ends with \" ...\" (JSON: \"truncated\":\n"
	"true).\n"
	"\n"
	"-x adds the execve()/execveat() calls that failed (kretprobes of the\n"
	"same group): PCOMM is the caller's command name, RET the negative\n"
	"errno (-2 ENOENT, -13 EACCES, ...), ARGS the filename as the caller\n"
	"passed it (no arguments are recorded for a failed exec). A filename\n"
	"the kernel could not read shows as \"<unreadable>\". Without -x a\n"
	"failed exec() is not shown.\n"
	"\n"
	"-p PID keeps the execs of process PID and of its direct children.\n"
	"Records the kernel had to drop are reported on stderr as they are\n"
	"announced and in the closing count.\n";

static const char execsnoop_examples[] =
	"  persecmon execsnoop             # trace every exec()\n"
	"  persecmon execsnoop -x          # and the exec()s that failed\n"
	"  persecmon execsnoop -T          # with a wall-clock TIME column\n"
	"  persecmon execsnoop -p 1234     # execs by 1234 and its children\n"
	"  persecmon execsnoop --json -d 5 # JSON lines for 5 seconds\n"
	"  persecmon execsnoop -x --json   # failed ones have \"errno\"\n";

static void print_header(struct pm_snoop_ctx *sc)
{
	const char *time_col = opts.wall_clock ? "TIME     " :
			       opts.timestamp ? "TIME(s)   " : "";

	pm_out_header(&sc->out, "%s%-16s %-7s %-7s %3s %s", time_col,
		      "PCOMM", "PID", "PPID", "RET", "ARGS");
}

/*
 * Starts a line with the columns both kinds of exec share (TIME, PCOMM,
 * PID, PPID, RET); false if -p does not want it.
 */
static bool exec_line_begin(struct pm_snoop_ctx *sc,
			    const struct persecmon_record *rec,
			    const uint8_t raw_comm[PERSECMON_COMM_LEN],
			    uint32_t ppid, int32_t ret)
{
	struct pm_out *out = &sc->out;
	char comm[PERSECMON_COMM_LEN + 1];

	if (!pm_snoop_pid_wanted(sc, rec->tgid) &&
	    !pm_snoop_pid_wanted(sc, ppid))
		return false;
	pm_snoop_comm(comm, raw_comm);
	pm_out_line_begin(out);
	pm_snoop_time_col(sc, rec->time_ns, opts.wall_clock, opts.timestamp);
	pm_out_col_str(out, "comm", -16, comm);
	pm_out_col_u64(out, "pid", -7, rec->tgid);
	pm_out_col_u64(out, "ppid", -7, ppid);
	pm_out_col_i64(out, "ret", 3, ret);
	return true;
}

/* The JSON-only keys of both kinds of exec, then the end of the line. */
static void exec_line_end(struct pm_snoop_ctx *sc,
			  const struct persecmon_record *rec)
{
	if (pm_out_is_json(&sc->out)) {
		pm_out_extra_u64(&sc->out, "tid", rec->pid);
		pm_out_extra_u64(&sc->out, "uid", rec->uid);
		pm_out_extra_u64(&sc->out, "time_ns", rec->time_ns);
	}
	pm_out_line_end(&sc->out);
}

/*
 * The ARGS column: the arguments space-separated, or @filename when there
 * are none, and " ..." when the kernel cut them.
 */
static void format_args(char *line, size_t size, const char *filename,
			const char *const *argv, size_t nargs, bool truncated)
{
	size_t i, len = 0;

	line[0] = '\0';
	if (nargs == 0)
		len = (size_t)snprintf(line, size, "%s", filename);
	for (i = 0; i < nargs && len < size; i++)
		len += (size_t)snprintf(line + len, size - len, "%s%s",
					i ? " " : "", argv[i]);
	if (truncated && len < size)
		snprintf(line + len, size - len, " ...");
}

static int print_exec_fail(struct pm_snoop_ctx *sc,
			   const struct persecmon_record *rec)
{
	const struct persecmon_exec_fail_event *ev = (const void *)rec;
	struct pm_exec_fail_view v;
	struct pm_out *out = &sc->out;
	char line[PM_EXEC_DATA_MAX + 8];

	if (!exec_line_begin(sc, rec, ev->comm, ev->ppid, ev->ret))
		return 0;
	pm_exec_fail_view(rec, &v);
	if (pm_out_is_json(out)) {
		pm_out_col_str(out, "filename", 0, v.filename);
		pm_out_kv_strlist(out, "args", v.argv, v.nargs);
		pm_out_kv_str(out, "errno", v.errno_name ? v.errno_name : "");
		pm_out_kv_str(out, "syscall", v.syscall);
		pm_out_kv_bool(out, "truncated", v.truncated);
		pm_out_kv_bool(out, "no_filename", v.no_filename);
		pm_out_kv_bool(out, "no_args", v.no_args);
	} else {
		/* As bcc: the arguments, argv[0] first; the filename if none. */
		format_args(line, sizeof(line),
			    v.no_filename ? "<unreadable>" : v.filename,
			    v.argv, v.nargs, v.truncated && !v.no_filename);
		pm_out_col_str(out, "args", 0, line);
	}
	exec_line_end(sc, rec);
	return 0;
}

static int print_exec(struct pm_snoop_ctx *sc,
		      const struct persecmon_record *rec)
{
	const struct persecmon_exec_event *ev = (const void *)rec;
	struct pm_exec_view v;
	char line[PM_EXEC_DATA_MAX + 8];
	struct pm_out *out = &sc->out;

	if (rec->type == PERSECMON_EV_EXEC_FAIL && opts.fails)
		return print_exec_fail(sc, rec);
	/* fork and exit records of the group are not shown here */
	if (rec->type != PERSECMON_EV_EXEC)
		return 0;
	if (!exec_line_begin(sc, rec, ev->comm, ev->ppid, 0))
		return 0;
	pm_exec_view(rec, &v);
	if (pm_out_is_json(out)) {
		pm_out_col_str(out, "filename", 0, v.filename);
		pm_out_kv_u64(out, "argc", v.argc);
		pm_out_kv_strlist(out, "args", v.argv, v.nargs);
		pm_out_kv_bool(out, "truncated", v.truncated);
	} else {
		format_args(line, sizeof(line), v.filename, v.argv, v.nargs,
			    v.truncated);
		pm_out_col_str(out, "args", 0, line);
	}
	exec_line_end(sc, rec);
	return 0;
}

int cmd_execsnoop(const char *name, int argc, char **argv)
{
	static const char *const groups[] = { "proc", NULL };
	const struct pm_command cmd = {
		.name = name,
		.summary = "Trace new processes: one line per exec() (-x: failed ones too).",
		.common = PM_CLI_JSON | PM_CLI_PID | PM_CLI_DURATION,
		.pid_help = "only execs by these processes or their children",
		.duration_help = "stop after SECONDS",
		.options = execsnoop_options,
		.description = execsnoop_description,
		.examples = execsnoop_examples,
	};
	struct pm_snoop sn = {
		.tool = name,
		.what = "exec()s",
		.groups = groups,
		/* A child's exec record carries the child's tgid. */
		.pids_in_userspace = true,
		.header = print_header,
		.record = print_exec,
	};
	struct pm_cli cli;
	int exit_code;

	memset(&opts, 0, sizeof(opts));
	if (!pm_cli_parse_main(&cmd, argc, argv, &cli, &exit_code))
		return exit_code;
	if (opts.wall_clock && opts.timestamp) {
		fprintf(stderr, "%s: -T and -t contradict each other\n", name);
		return PM_EXIT_USAGE;
	}
	sn.device = opts.device;
	return pm_snoop_run(&sn, &cli, NULL);
}
