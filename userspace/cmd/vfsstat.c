// SPDX-License-Identifier: GPL-2.0
/*
 * persecmon vfsstat: VFS calls per second, like bcc's vfsstat, from the
 * module's always-on "vfsstat" aggregate (no event stream at all).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "persecmon/aggtool.h"
#include "persecmon/control.h"
#include "persecmon/error.h"
#include "persecmon/output.h"
#include "persecmon/proc.h"

static const char vfsstat_description[] =
	"Counts vfs_read, vfs_write and vfs_open calls (and the bytes read and\n"
	"written) over the whole system and prints the rate per second for each\n"
	"interval (default: 1 second, until interrupted). The numbers are the\n"
	"differences between two dumps of the module's in-kernel aggregate\n"
	"table \"vfsstat\" (PERSECMON_CMD_AGG_DUMP), so no event is streamed.\n"
	"\n"
	"The aggregates are global and are updated while the \"vfs\" group is\n"
	"attached, so vfsstat holds the group for its lifetime (aggregate-only:\n"
	"no ring buffer writes), apart from the global set; the hold goes when\n"
	"it exits, however it ends.\n"
	"\n"
	"bcc's FSYNC/s and CREATE/s columns are not available: the vfs group\n"
	"probes vfs_read, vfs_write and vfs_open only. READ_KB/s and WRITE_KB/s\n"
	"(bytes actually transferred) are extra.\n";

static const char vfsstat_examples[] =
	"  persecmon vfsstat               # every second until Ctrl-C\n"
	"  persecmon vfsstat 5 3           # three 5-second intervals\n"
	"  persecmon vfsstat --json 1 10   # ten JSON lines (counts per interval)\n"
	"  persecmon vfsstat --reset       # zero the tables vfsstat, vfs_latency\n";

enum { COL_READ, COL_WRITE, COL_OPEN, COL_READ_BYTES, COL_WRITE_BYTES, NCOL };

static const char *const col_names[NCOL] = {
	"read", "write", "open", "read_bytes", "write_bytes",
};

struct vfsstat_snapshot {
	uint64_t v[NCOL];
};

static int sample(struct pm_aggtool_run *run, void *snap,
		  struct pm_error *err)
{
	uint64_t *out = ((struct vfsstat_snapshot *)snap)->v;
	struct pm_ctl *ctl = run->ctl;
	const struct pm_agg_table *t;
	struct pm_agg_set set;
	int i, col, ret;

	ret = pm_ctl_agg_dump(ctl, "vfsstat", &set, err);
	if (ret < 0)
		return ret;
	t = pm_agg_find(&set, "vfsstat");
	if (!t || t->nr_rows != 1) {
		pm_agg_set_free(&set);
		return pm_error_set(err, PM_ERR_RUNTIME, EPROTO,
				    "the module's vfsstat table has no single row");
	}
	for (i = 0; i < NCOL; i++) {
		col = pm_agg_column(t, col_names[i]);
		if (col < 0 || (size_t)col >= t->rows[0].nr_values) {
			pm_agg_set_free(&set);
			return pm_error_set(err, PM_ERR_RUNTIME, EPROTO,
					    "the module's vfsstat table has no column %s",
					    col_names[i]);
		}
		out[i] = t->rows[0].values[col];
	}
	pm_agg_set_free(&set);
	return 0;
}

static void print_header(struct pm_aggtool_run *run)
{
	pm_out_header(run->out, "%-9s %10s %10s %10s %11s %11s", "TIME",
		      "READ/s", "WRITE/s", "OPEN/s", "READ_KB/s", "WRITE_KB/s");
}

static void print_interval(struct pm_aggtool_run *run, const void *prev_snap,
			   const void *cur_snap, double seconds)
{
	const uint64_t *prev = ((const struct vfsstat_snapshot *)prev_snap)->v;
	const uint64_t *cur = ((const struct vfsstat_snapshot *)cur_snap)->v;
	struct pm_out *o = run->out;
	uint64_t delta[NCOL];
	char now[16];
	time_t t = time(NULL);
	struct tm tm;

	int i;

	/* An AGG_RESET meanwhile makes a counter go backwards. */
	for (i = 0; i < NCOL; i++)
		delta[i] = cur[i] >= prev[i] ? cur[i] - prev[i] : cur[i];
	localtime_r(&t, &tm);
	strftime(now, sizeof(now), "%H:%M:%S", &tm);
	pm_out_line_begin(o);
	pm_out_col_str(o, "time", -9, now);
	if (pm_out_is_json(o)) {
		/* JSON: exact counts per interval; rates are a division away. */
		pm_out_kv_f64(o, "interval_s", 3, seconds);
		pm_out_kv_u64(o, "read", delta[COL_READ]);
		pm_out_kv_u64(o, "write", delta[COL_WRITE]);
		pm_out_kv_u64(o, "open", delta[COL_OPEN]);
		pm_out_kv_u64(o, "read_bytes", delta[COL_READ_BYTES]);
		pm_out_kv_u64(o, "write_bytes", delta[COL_WRITE_BYTES]);
	} else {
		pm_out_col_f64(o, "read_s", 10, 0, delta[COL_READ] / seconds);
		pm_out_col_f64(o, "write_s", 10, 0, delta[COL_WRITE] / seconds);
		pm_out_col_f64(o, "open_s", 10, 0, delta[COL_OPEN] / seconds);
		pm_out_col_f64(o, "read_kb_s", 11, 0,
			       delta[COL_READ_BYTES] / 1024.0 / seconds);
		pm_out_col_f64(o, "write_kb_s", 11, 0,
			       delta[COL_WRITE_BYTES] / 1024.0 / seconds);
	}
	pm_out_line_end(o);
}

int cmd_vfsstat(const char *name, int argc, char **argv)
{
	static const char *const reset_tables[] = {
		"vfsstat", "vfs_latency", NULL,
	};
	bool reset = false;
	const struct pm_option options[] = {
		{ "reset", 0, PM_OPT_FLAG, NULL,
		  "zero the module's vfsstat and vfs_latency tables and exit",
		  &reset, 0, 0, NULL },
		{ 0 },
	};
	const struct pm_command cmd = {
		.name = name,
		.options = options,
		.summary = "Count VFS reads, writes and opens per second (like bcc vfsstat).",
		.common = PM_CLI_JSON | PM_CLI_INTERVAL,
		.description = vfsstat_description,
		.examples = vfsstat_examples,
	};
	const struct pm_aggtool tool = {
		.tool = name,
		.group = "vfs",
		.snapshot_size = sizeof(struct vfsstat_snapshot),
		.snapshot = sample,
		.start = print_header,
		.report = print_interval,
		.reset_tables = reset_tables,
	};
	struct pm_cli cli;
	int exit_code;

	if (!pm_cli_parse_main(&cmd, argc, argv, &cli, &exit_code))
		return exit_code;
	if (cli.interval == 0)
		cli.interval = 1;
	return pm_aggtool_main(&tool, &cli, reset, NULL, cli.interval,
			       cli.count);
}
