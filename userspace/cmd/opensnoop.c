// SPDX-License-Identifier: GPL-2.0
/*
 * persecmon opensnoop: one line per open(), openat(), openat2() and
 * creat(), in the columns of bcc's opensnoop, from the "files" group's
 * PERSECMON_EV_OPEN records.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "persecmon/error.h"
#include "persecmon/snoop.h"

struct opensnoop_opts {
	bool timestamp;
	bool failed_only;
	const char *name;
	const char *device;
};

static struct opensnoop_opts opts;

static const struct pm_option opensnoop_options[] = {
	{ "timestamp", 'T', PM_OPT_FLAG, NULL,
	  "add a TIME(s) column (seconds since start)", &opts.timestamp, 0, 0,
	  NULL },
	{ "failed", 'x', PM_OPT_FLAG, NULL, "only show failed opens",
	  &opts.failed_only, 0, 0, NULL },
	{ "name", 'n', PM_OPT_STRING, "NAME",
	  "only processes whose command name contains NAME", &opts.name, 0, 0,
	  NULL },
	{ "device", 0, PM_OPT_STRING, "PATH",
	  "device to open (default " PERSECMON_DEVICE_PATH ")", &opts.device,
	  0, 0, NULL },
	{ 0 },
};

static const char opensnoop_description[] =
	"Traces open(), openat(), openat2() and creat() through the \"files\"\n"
	"probe group (a kretprobe on do_sys_openat2), which this command\n"
	"enables for its own session only; its own opens are not shown.\n"
	"Columns: PID (process id), COMM (command name), FD (the new file\n"
	"descriptor, -1 on failure), ERR (errno on failure, else 0), PATH (as\n"
	"the caller passed it, relative to its working directory or dfd).\n"
	"The kernel keeps at most 256 bytes of path; a cut path ends with\n"
	"\" ...\" (JSON: \"truncated\": true).\n"
	"\n"
	"Not seen: io_uring opens, open_by_handle_at(), opens the kernel does\n"
	"for itself (exec, module loading). Records the kernel had to drop are\n"
	"reported on stderr as they are announced and in the closing count.\n";

static const char opensnoop_examples[] =
	"  persecmon opensnoop             # trace every open\n"
	"  persecmon opensnoop -T          # with a TIME(s) column\n"
	"  persecmon opensnoop -x          # only failed opens\n"
	"  persecmon opensnoop -p 1234     # only process 1234\n"
	"  persecmon opensnoop -n nginx    # only commands containing \"nginx\"\n"
	"  persecmon opensnoop --json -d 5 # JSON lines for 5 seconds\n";

static void print_header(struct pm_snoop_ctx *sc)
{
	pm_out_header(&sc->out, "%s%-7s %-16s %4s %3s %s",
		      opts.timestamp ? "TIME(s)        " : "", "PID", "COMM",
		      "FD", "ERR", "PATH");
}

static int print_open(struct pm_snoop_ctx *sc,
		      const struct persecmon_record *rec)
{
	const struct persecmon_open_event *ev = (const void *)rec;
	bool truncated = rec->flags & PERSECMON_RF_TRUNCATED;
	char comm[PERSECMON_COMM_LEN + 1];
	char path[PERSECMON_RECORD_MAX + 8];
	int fd = ev->ret >= 0 ? ev->ret : -1;
	int err = ev->ret < 0 ? -ev->ret : 0;
	struct pm_out *out = &sc->out;

	if (rec->type != PERSECMON_EV_OPEN)
		return 0;
	if (opts.failed_only && ev->ret >= 0)
		return 0;
	pm_snoop_comm(comm, ev->comm);
	if (opts.name && !strstr(comm, opts.name))
		return 0;
	/* pm_record_check() bounded path_len by the record size. */
	memcpy(path, ev->path, ev->path_len);
	path[ev->path_len] = '\0';

	pm_out_line_begin(out);
	if (opts.timestamp || pm_out_is_json(out))
		pm_out_col_f64(out, "ts", -14, 9,
			       pm_snoop_elapsed(sc, rec->time_ns));
	pm_out_col_u64(out, "pid", -7, rec->tgid);
	pm_out_col_str(out, "comm", -16, comm);
	if (pm_out_is_json(out)) {
		pm_out_kv_i64(out, "fd", fd);
		pm_out_kv_i64(out, "err", err);
		pm_out_kv_str(out, "path", path);
		pm_out_kv_bool(out, "truncated", truncated);
		pm_out_kv_u64(out, "tid", rec->pid);
		pm_out_kv_u64(out, "uid", rec->uid);
		pm_out_kv_u64(out, "open_flags", ev->flags);
		pm_out_kv_u64(out, "mode", ev->mode);
		pm_out_kv_i64(out, "dfd", ev->dfd);
		pm_out_kv_u64(out, "latency_ns", ev->latency_ns);
		pm_out_kv_u64(out, "time_ns", rec->time_ns);
	} else {
		/* Right-aligned like bcc: "%4d %3d %s". */
		pm_out_text(out, " %4d %3d %s%s", fd, err, path,
			    truncated ? " ..." : "");
	}
	pm_out_line_end(out);
	return 0;
}

int cmd_opensnoop(const char *name, int argc, char **argv)
{
	static const char *const groups[] = { "files", NULL };
	const struct pm_command cmd = {
		.name = name,
		.summary = "Trace file opens: one line per open(), openat(), openat2(), creat().",
		.common = PM_CLI_JSON | PM_CLI_PID | PM_CLI_DURATION,
		.pid_help = "only opens by these processes",
		.duration_help = "stop after SECONDS",
		.options = opensnoop_options,
		.description = opensnoop_description,
		.examples = opensnoop_examples,
	};
	struct pm_snoop sn = {
		.tool = name,
		.what = "opens",
		.groups = groups,
		.header = print_header,
		.record = print_open,
	};
	struct pm_cli cli;
	int exit_code;

	memset(&opts, 0, sizeof(opts));
	if (!pm_cli_parse_main(&cmd, argc, argv, &cli, &exit_code))
		return exit_code;
	if (opts.name && !*opts.name) {
		fprintf(stderr, "%s: -n needs a non-empty NAME\n", name);
		return PM_EXIT_USAGE;
	}
	sn.device = opts.device;
	return pm_snoop_run(&sn, &cli, NULL);
}
