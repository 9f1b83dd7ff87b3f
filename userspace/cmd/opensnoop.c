// SPDX-License-Identifier: GPL-2.0
/*
 * persecmon opensnoop: one line per open(), openat(), openat2() and
 * creat(), in the columns of bcc's opensnoop, from the "files" group's
 * PERSECMON_EV_OPEN records.
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

/* Longest sleep between rounds when nothing is opened. */
#define ROUND_INTERVAL_MS	250

struct opensnoop_opts {
	bool timestamp;
	bool failed_only;
	const char *name;
	const char *device;
};

struct opensnoop_state {
	const struct opensnoop_opts *opts;
	const struct pm_cli *cli;
	struct pm_out out;
	uint64_t base_ns;
	uint64_t opens;
	uint64_t lost;
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

static bool pid_wanted(const struct opensnoop_state *st, uint32_t tgid)
{
	size_t i;

	if (st->cli->nr_pids == 0)
		return true;
	for (i = 0; i < st->cli->nr_pids; i++)
		if (tgid == st->cli->pids[i])
			return true;
	return false;
}

static void print_header(struct opensnoop_state *st)
{
	pm_out_header(&st->out, "%s%-7s %-16s %4s %3s %s",
		      st->opts->timestamp ? "TIME(s)        " : "", "PID",
		      "COMM", "FD", "ERR", "PATH");
}

static void print_open(struct opensnoop_state *st,
		       const struct persecmon_record *rec)
{
	const struct persecmon_open_event *ev = (const void *)rec;
	bool truncated = rec->flags & PERSECMON_RF_TRUNCATED;
	char comm[PERSECMON_COMM_LEN + 1];
	char path[PERSECMON_RECORD_MAX + 8];
	int fd = ev->ret >= 0 ? ev->ret : -1;
	int err = ev->ret < 0 ? -ev->ret : 0;

	if (!pid_wanted(st, rec->tgid))
		return;
	if (st->opts->failed_only && ev->ret >= 0)
		return;
	memcpy(comm, ev->comm, PERSECMON_COMM_LEN);
	comm[PERSECMON_COMM_LEN] = '\0';
	if (st->opts->name && !strstr(comm, st->opts->name))
		return;
	st->opens++;
	/* pm_record_check() bounded path_len by the record size. */
	memcpy(path, ev->path, ev->path_len);
	path[ev->path_len] = '\0';

	pm_out_line_begin(&st->out);
	if (st->opts->timestamp || pm_out_is_json(&st->out))
		pm_out_col_f64(&st->out, "ts", -14, 9,
			       (double)(int64_t)(rec->time_ns - st->base_ns) /
				       1e9);
	pm_out_col_u64(&st->out, "pid", -7, rec->tgid);
	pm_out_col_str(&st->out, "comm", -16, comm);
	if (pm_out_is_json(&st->out)) {
		pm_out_kv_i64(&st->out, "fd", fd);
		pm_out_kv_i64(&st->out, "err", err);
		pm_out_kv_str(&st->out, "path", path);
		pm_out_kv_bool(&st->out, "truncated", truncated);
		pm_out_kv_u64(&st->out, "tid", rec->pid);
		pm_out_kv_u64(&st->out, "uid", rec->uid);
		pm_out_kv_u64(&st->out, "open_flags", ev->flags);
		pm_out_kv_u64(&st->out, "mode", ev->mode);
		pm_out_kv_i64(&st->out, "dfd", ev->dfd);
		pm_out_kv_u64(&st->out, "latency_ns", ev->latency_ns);
		pm_out_kv_u64(&st->out, "time_ns", rec->time_ns);
	} else {
		/* Right-aligned like bcc: "%4d %3d %s". */
		pm_out_text(&st->out, " %4d %3d %s%s", fd, err, path,
			    truncated ? " ..." : "");
	}
	pm_out_line_end(&st->out);
}

static int on_record(void *ctx, const struct pm_ring_view *ring,
		     const struct persecmon_record *rec)
{
	struct opensnoop_state *st = ctx;
	const struct persecmon_lost_record *lost = (const void *)rec;

	switch (rec->type) {
	case PERSECMON_EV_OPEN:
		print_open(st, rec);
		break;
	case PERSECMON_REC_LOST:
		st->lost += lost->lost;
		fprintf(stderr, "WARNING: %llu events lost on CPU %u (buffer full)\n",
			(unsigned long long)lost->lost, ring->cpu);
		break;
	default:
		break;
	}
	return 0;
}

static void on_corrupt(void *ctx, const struct pm_ring_view *ring,
		       uint64_t pos, const char *why)
{
	(void)ctx;
	fprintf(stderr, "opensnoop: cpu %u: skipping unparseable data at byte %" PRIu64 ": %s\n",
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
	ret = pm_ctl_set_group(ctl, "files", true, &session, err);
	pm_ctl_close(ctl);
	return ret;
}

static int stream(struct opensnoop_state *st, struct pm_reader *r,
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
			fprintf(stderr, "opensnoop: warning: %s; drop count incomplete\n",
				err.msg);
			break;
		}
		pending += stats.dropped - stats.lost_reported;
	}
	return pending;
}

int cmd_opensnoop(const char *name, int argc, char **argv)
{
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
	struct opensnoop_state st = { .opts = &opts };
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
	if (opts.name && !*opts.name) {
		fprintf(stderr, "%s: -n needs a non-empty NAME\n", name);
		return PM_EXIT_USAGE;
	}
	st.cli = &cli;

	ret = pm_reader_open(&r, opts.device, &err);
	if (ret < 0)
		return pm_error_report(&err, name);
	pm_out_init(&st.out, stdout, cli.json ? PM_OUT_JSON : PM_OUT_TEXT,
		    cli.verbose > 0);
	st.base_ns = pm_monotonic_ns();

	pm_cli_catch_stop_signals();
	ret = setup_session(r, &err);
	if (ret < 0) {
		exit_code = pm_error_report(&err, name);
		goto out;
	}
	fprintf(stderr, "Tracing opens... Hit Ctrl-C to end.\n");
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
