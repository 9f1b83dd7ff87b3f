// SPDX-License-Identifier: GPL-2.0
/*
 * persecmon execsnoop: one line per successful exec(), in the columns of
 * bcc's execsnoop, from the "proc" group's PERSECMON_EV_EXEC records.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "persecmon/control.h"
#include "persecmon/decode.h"
#include "persecmon/error.h"
#include "persecmon/names.h"
#include "persecmon/output.h"
#include "persecmon/proc.h"
#include "persecmon/reader.h"

/* Longest sleep between rounds when no exec happens. */
#define ROUND_INTERVAL_MS	250

struct execsnoop_opts {
	bool wall_clock;
	bool timestamp;
	const char *device;
};

struct execsnoop_state {
	const struct execsnoop_opts *opts;
	const struct pm_cli *cli;
	struct pm_out out;
	uint64_t base_ns;
	int64_t realtime_offset_ns;
	uint64_t execs;
	uint64_t lost;
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

static bool pid_wanted(const struct execsnoop_state *st, uint32_t tgid,
		       uint32_t ppid)
{
	size_t i;

	if (st->cli->nr_pids == 0)
		return true;
	for (i = 0; i < st->cli->nr_pids; i++)
		if (tgid == st->cli->pids[i] || ppid == st->cli->pids[i])
			return true;
	return false;
}

static void print_header(struct execsnoop_state *st)
{
	const char *time_col = st->opts->wall_clock ? "TIME     " :
			       st->opts->timestamp ? "TIME(s)   " : "";

	pm_out_header(&st->out, "%s%-16s %-7s %-7s %3s %s", time_col,
		      "PCOMM", "PID", "PPID", "RET", "ARGS");
}

static void print_exec(struct execsnoop_state *st,
		       const struct persecmon_record *rec)
{
	const struct persecmon_exec_event *ev = (const void *)rec;
	struct pm_exec_view v;
	char comm[PERSECMON_COMM_LEN + 1];
	char line[PM_EXEC_DATA_MAX + 8];
	char wall[16];
	time_t secs;
	struct tm tm;
	size_t i, len = 0;

	if (!pid_wanted(st, rec->tgid, ev->ppid))
		return;
	st->execs++;
	pm_exec_view(rec, &v);
	memcpy(comm, ev->comm, PERSECMON_COMM_LEN);
	comm[PERSECMON_COMM_LEN] = '\0';

	pm_out_line_begin(&st->out);
	if (st->opts->wall_clock && !pm_out_is_json(&st->out)) {
		secs = (time_t)((rec->time_ns + (uint64_t)st->realtime_offset_ns) /
				1000000000ULL);
		localtime_r(&secs, &tm);
		snprintf(wall, sizeof(wall), "%02d:%02d:%02d", tm.tm_hour,
			 tm.tm_min, tm.tm_sec);
		pm_out_col_str(&st->out, "time", -8, wall);
	} else if (st->opts->timestamp || pm_out_is_json(&st->out)) {
		pm_out_col_f64(&st->out, "ts", -9, 3,
			       (double)(int64_t)(rec->time_ns - st->base_ns) /
				       1e9);
	}
	pm_out_col_str(&st->out, "comm", -16, comm);
	pm_out_col_u64(&st->out, "pid", -7, rec->tgid);
	pm_out_col_u64(&st->out, "ppid", -7, ev->ppid);
	pm_out_col_u64(&st->out, "ret", 3, 0);
	if (pm_out_is_json(&st->out)) {
		pm_out_col_str(&st->out, "filename", 0, v.filename);
		pm_out_kv_u64(&st->out, "argc", v.argc);
		pm_out_kv_strlist(&st->out, "args", v.argv, v.nargs);
		pm_out_kv_bool(&st->out, "truncated", v.truncated);
		pm_out_extra_u64(&st->out, "tid", rec->pid);
		pm_out_extra_u64(&st->out, "uid", rec->uid);
		pm_out_extra_u64(&st->out, "time_ns", rec->time_ns);
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
		pm_out_col_str(&st->out, "args", 0, line);
	}
	pm_out_line_end(&st->out);
}

static int on_record(void *ctx, const struct pm_ring_view *ring,
		     const struct persecmon_record *rec)
{
	struct execsnoop_state *st = ctx;
	const struct persecmon_lost_record *lost = (const void *)rec;

	switch (rec->type) {
	case PERSECMON_EV_EXEC:
		print_exec(st, rec);
		break;
	case PERSECMON_REC_LOST:
		st->lost += lost->lost;
		fprintf(stderr, "WARNING: %llu events lost on CPU %u (buffer full)\n",
			(unsigned long long)lost->lost, ring->cpu);
		break;
	default:
		break;	/* fork and exit: not shown here */
	}
	return 0;
}

static void on_corrupt(void *ctx, const struct pm_ring_view *ring,
		       uint64_t pos, const char *why)
{
	(void)ctx;
	fprintf(stderr, "execsnoop: cpu %u: skipping unparseable data at byte %" PRIu64 ": %s\n",
		ring->cpu, pos, why);
}

static int setup_session(struct pm_reader *r, struct pm_error *err)
{
	struct pm_session_ref session = {
		.id = r->info.session_id,
		.token = r->info.session_token,
	};
	struct pm_ctl *ctl;
	int ret;

	ret = pm_ctl_open(&ctl, false, err);
	if (ret < 0)
		return ret;
	ret = pm_ctl_set_group(ctl, "proc", true, &session, err);
	pm_ctl_close(ctl);
	return ret;
}

static int stream(struct execsnoop_state *st, struct pm_reader *r,
		  struct pm_error *err)
{
	const struct pm_consume_ops ops = {
		.record = on_record,
		.corrupt = on_corrupt,
	};
	uint64_t deadline = st->cli->duration > 0 ?
			    st->base_ns + (uint64_t)(st->cli->duration * 1e9) :
			    0;
	bool device_said_ready = false;

	for (;;) {
		long n = pm_reader_round(r, &ops, st);
		uint64_t now;
		int timeout = ROUND_INTERVAL_MS, w;

		if (n < 0)
			return pm_error_set(err, PM_ERR_RUNTIME, (int)-n,
					    "reading records failed: %s",
					    strerror((int)-n));
		if (pm_out_flush(&st->out) < 0)
			return pm_error_set(err, PM_ERR_RUNTIME, EIO,
					    "cannot write the output: %s",
					    strerror(errno));
		if (pm_cli_stop_requested())
			return 0;
		now = pm_monotonic_ns();
		if (deadline && now >= deadline)
			return 0;
		if (deadline && (deadline - now) / 1000000 < (uint64_t)timeout)
			timeout = (int)((deadline - now) / 1000000) + 1;
		if (device_said_ready && n == 0 && !pm_cli_sleep(0.01))
			return 0;
		w = pm_reader_wait(r, timeout, err);
		if (w < 0)
			return w;
		device_said_ready = w > 0;
	}
}

/* Drops the kernel counted but had not announced yet. */
static uint64_t pending_drops(struct pm_reader *r)
{
	struct persecmon_cpu_stats stats;
	struct pm_error err;
	uint64_t pending = 0;
	unsigned int i;

	for (i = 0; i < r->nr_rings; i++) {
		if (pm_reader_cpu_stats(r, r->rings[i].cpu, &stats, &err) < 0) {
			fprintf(stderr, "execsnoop: warning: %s; drop count incomplete\n",
				err.msg);
			break;
		}
		pending += stats.dropped - stats.lost_reported;
	}
	return pending;
}

int cmd_execsnoop(const char *name, int argc, char **argv)
{
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
	struct execsnoop_state st = { .opts = &opts };
	struct pm_reader *r = NULL;
	struct pm_cli cli;
	struct pm_error err;
	uint64_t pending;
	int ret, exit_code = PM_EXIT_OK;

	memset(&opts, 0, sizeof(opts));
	pm_error_clear(&err);
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
	st.cli = &cli;

	ret = pm_reader_open(&r, opts.device, &err);
	if (ret < 0)
		return pm_error_report(&err, name);
	pm_out_init(&st.out, stdout, cli.json ? PM_OUT_JSON : PM_OUT_TEXT,
		    cli.verbose > 0);
	st.base_ns = pm_monotonic_ns();
	st.realtime_offset_ns = (int64_t)(pm_realtime_ns() - st.base_ns);

	pm_cli_catch_stop_signals();
	ret = setup_session(r, &err);
	if (ret < 0) {
		exit_code = pm_error_report(&err, name);
		goto out;
	}
	fprintf(stderr, "Tracing exec()s... Hit Ctrl-C to end.\n");
	print_header(&st);
	ret = stream(&st, r, &err);
	if (ret < 0)
		exit_code = pm_error_report(&err, name);
	pm_out_flush(&st.out);
	pending = pending_drops(r);
	if (st.lost || pending)
		fprintf(stderr, "WARNING: %" PRIu64 " events lost (%" PRIu64 " announced, %" PRIu64 " not yet announced)\n",
			st.lost + pending, st.lost, pending);
out:
	pm_reader_close(r);
	return exit_code;
}
