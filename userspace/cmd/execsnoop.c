// SPDX-License-Identifier: GPL-2.0
/*
 * persecmon execsnoop: one line per successful exec(), in the columns of
 * bcc's execsnoop, from the "proc" group's PERSECMON_EV_EXEC records.
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
	{ "device", 0, PM_OPT_STRING, "PATH",
	  "device to open (default " PERSECMON_DEVICE_PATH ")", &opts.device,
	  0, 0, NULL },
	{ 0 },
};

static const char execsnoop_description[] =
	"Traces every exec() that succeeded, through the \"proc\" probe group\n"
	"(the sched_process_exec tracepoint), which this command enables for\n"
	"its own session only. Columns: PCOMM (command name after exec), PID,\n"
	"PPID (process id of the real parent), RET (always 0: the tracepoint\n"
	"fires only once the new image is installed, so failed exec()s are not\n"
	"seen), ARGS (the arguments, space-separated; the filename when there\n"
	"are none). The kernel keeps at most 256 bytes of filename and 512 of\n"
	"arguments; a cut line ends with \" ...\" (JSON: \"truncated\": true).\n"
	"\n"
	"-p PID keeps the execs of process PID and of its direct children.\n"
	"Records the kernel had to drop are reported on stderr as they are\n"
	"announced and in the closing count.\n";

static const char execsnoop_examples[] =
	"  persecmon execsnoop             # trace every exec()\n"
	"  persecmon execsnoop -T          # with a wall-clock TIME column\n"
	"  persecmon execsnoop -p 1234     # execs by 1234 and its children\n"
	"  persecmon execsnoop --json -d 5 # JSON lines for 5 seconds\n";

static void print_header(struct pm_snoop_ctx *sc)
{
	const char *time_col = opts.wall_clock ? "TIME     " :
			       opts.timestamp ? "TIME(s)   " : "";

	pm_out_header(&sc->out, "%s%-16s %-7s %-7s %3s %s", time_col,
		      "PCOMM", "PID", "PPID", "RET", "ARGS");
}

static int print_exec(struct pm_snoop_ctx *sc,
		      const struct persecmon_record *rec)
{
	const struct persecmon_exec_event *ev = (const void *)rec;
	struct pm_exec_view v;
	char comm[PERSECMON_COMM_LEN + 1];
	char line[PM_EXEC_DATA_MAX + 8];
	struct pm_out *out = &sc->out;
	char wall[16];
	size_t i, len = 0;

	/* fork and exit records of the group are not shown here */
	if (rec->type != PERSECMON_EV_EXEC)
		return 0;
	if (!pm_snoop_pid_wanted(sc, rec->tgid) &&
	    !pm_snoop_pid_wanted(sc, ev->ppid))
		return 0;
	pm_exec_view(rec, &v);
	pm_snoop_comm(comm, ev->comm);

	pm_out_line_begin(out);
	if (opts.wall_clock && !pm_out_is_json(out)) {
		pm_snoop_wall_clock(sc, rec->time_ns, wall);
		pm_out_col_str(out, "time", -8, wall);
	} else if (opts.timestamp || pm_out_is_json(out)) {
		pm_out_col_f64(out, "ts", -9, 3,
			       pm_snoop_elapsed(sc, rec->time_ns));
	}
	pm_out_col_str(out, "comm", -16, comm);
	pm_out_col_u64(out, "pid", -7, rec->tgid);
	pm_out_col_u64(out, "ppid", -7, ev->ppid);
	pm_out_col_u64(out, "ret", 3, 0);
	if (pm_out_is_json(out)) {
		pm_out_col_str(out, "filename", 0, v.filename);
		pm_out_kv_u64(out, "argc", v.argc);
		pm_out_kv_strlist(out, "args", v.argv, v.nargs);
		pm_out_kv_bool(out, "truncated", v.truncated);
		pm_out_extra_u64(out, "tid", rec->pid);
		pm_out_extra_u64(out, "uid", rec->uid);
		pm_out_extra_u64(out, "time_ns", rec->time_ns);
	} else {
		if (v.nargs == 0)
			len = (size_t)snprintf(line, sizeof(line), "%s",
					       v.filename);
		for (i = 0; i < v.nargs; i++)
			len += (size_t)snprintf(line + len, sizeof(line) - len,
						"%s%s", i ? " " : "",
						v.argv[i]);
		if (v.truncated)
			snprintf(line + len, sizeof(line) - len, " ...");
		pm_out_col_str(out, "args", 0, line);
	}
	pm_out_line_end(out);
	return 0;
}

int cmd_execsnoop(const char *name, int argc, char **argv)
{
	static const char *const groups[] = { "proc", NULL };
	const struct pm_command cmd = {
		.name = name,
		.summary = "Trace new processes: one line per successful exec().",
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

	memset(&opts, 0, sizeof(opts));
	switch (pm_cli_parse(&cmd, argc, argv, &cli, stdout, stderr)) {
	case PM_CLI_HELP:
		return PM_EXIT_OK;
	case PM_CLI_ERROR:
		return PM_EXIT_USAGE;
	case PM_CLI_OK:
		break;
	}
	if (opts.wall_clock && opts.timestamp) {
		fprintf(stderr, "%s: -T and -t contradict each other\n", name);
		return PM_EXIT_USAGE;
	}
	sn.device = opts.device;
	return pm_snoop_run(&sn, &cli, NULL);
}
