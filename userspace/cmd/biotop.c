// SPDX-License-Identifier: GPL-2.0
/*
 * persecmon biotop: block I/O per process and disk, like bcc's biotop,
 * from the "block" group's in-kernel "biotop" aggregate (no event stream).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "persecmon/aggtool.h"
#include "persecmon/control.h"
#include "persecmon/error.h"
#include "persecmon/output.h"
#include "persecmon/proc.h"

struct biotop_opts {
	bool noclear;
	uint64_t rows;
};

static struct biotop_opts opts;

static const struct pm_option biotop_options[] = {
	{ "noclear", 'C', PM_OPT_FLAG, NULL,
	  "don't clear the screen before each interval", &opts.noclear, 0, 0,
	  NULL },
	{ "rows", 'r', PM_OPT_UINT, "N", "print at most N rows (default 20)",
	  &opts.rows, 1, 100000, NULL },
	{ 0 },
};

static const char biotop_description[] =
	"Shows, every INTERVAL seconds (default 1, COUNT times or until\n"
	"Ctrl-C), which processes did block I/O on which disk, like bcc's\n"
	"biotop: one line per process, disk and direction, largest Kbytes\n"
	"first. The numbers are the differences between dumps of the module's\n"
	"in-kernel table \"biotop\" (PERSECMON_CMD_AGG_DUMP), so no event is\n"
	"streamed; the \"block\" group is held attached for the command's\n"
	"lifetime (aggregate-only: no ring buffer writes), apart from the\n"
	"global set, and let go when it exits, however it ends.\n"
	"\n"
	"Columns: PID and COMM (the process that SUBMITTED the I/O; buffered\n"
	"writes are submitted by the kernel's writeback threads, kworker/...,\n"
	"so they appear under those), D (R read, W write or write-zeroes;\n"
	"flushes and discards are not counted), MAJ MIN DISK (disk names\n"
	"from /sys/dev/block), I/O (requests completed), Kbytes, AVGms\n"
	"(average issue-to-completion latency).\n"
	"\n"
	"bcc's biotop (bpfcc-tools 0.26) needs a kprobe on\n"
	"blk_account_io_start, which 6.1 inlines; this command uses\n"
	"tracepoints only.\n";

static const char biotop_examples[] =
	"  persecmon biotop                  # every second until Ctrl-C\n"
	"  persecmon biotop -C 5 3           # three 5-second intervals, no clearing\n"
	"  persecmon biotop -r 5 1           # the top 5 lines every second\n"
	"  persecmon biotop --json 1 10      # ten JSON lines\n";

enum { COL_READS, COL_WRITES, COL_RBYTES, COL_WBYTES, COL_RNS, COL_WNS, NCOL };

static const char *const col_names[NCOL] = {
	"reads", "writes", "read_bytes", "write_bytes", "read_ns", "write_ns",
};

struct top_row {
	char key[PM_AGG_NAME_MAX];
	uint64_t v[NCOL];
};

struct top_sample {
	struct top_row *rows;
	size_t nr;
};

/* One output line: a key's reads or writes in one interval. */
struct top_line {
	unsigned long pid;
	unsigned int maj, min;
	char comm[PERSECMON_COMM_LEN + 1];
	char disk[32];
	char dir;
	uint64_t io, bytes, ns;
};

static void sample_free(void *snap)
{
	struct top_sample *s = snap;

	free(s->rows);
	s->rows = NULL;
	s->nr = 0;
}

static int sample(struct pm_aggtool_run *run, void *snap,
		  struct pm_error *err)
{
	struct top_sample *out = snap;
	struct pm_ctl *ctl = run->ctl;
	const struct pm_agg_table *t;
	struct pm_agg_set set;
	int col[NCOL], i, ret;
	size_t r;

	ret = pm_ctl_agg_dump(ctl, "biotop", &set, err);
	if (ret < 0)
		return ret;
	t = pm_agg_find(&set, "biotop");
	for (i = 0; t && i < NCOL; i++) {
		col[i] = pm_agg_column(t, col_names[i]);
		if (col[i] < 0)
			t = NULL;
	}
	if (!t) {
		pm_agg_set_free(&set);
		return pm_error_set(err, PM_ERR_RUNTIME, EPROTO,
				    "the module has no biotop table with columns reads,writes,read_bytes,write_bytes,read_ns,write_ns");
	}
	out->rows = calloc(t->nr_rows ? t->nr_rows : 1, sizeof(*out->rows));
	if (!out->rows) {
		pm_agg_set_free(&set);
		return pm_error_set(err, PM_ERR_RUNTIME, ENOMEM, "out of memory");
	}
	out->nr = t->nr_rows;
	for (r = 0; r < t->nr_rows; r++) {
		snprintf(out->rows[r].key, sizeof(out->rows[r].key), "%s",
			 t->rows[r].key);
		for (i = 0; i < NCOL; i++)
			if ((size_t)col[i] < t->rows[r].nr_values)
				out->rows[r].v[i] = t->rows[r].values[col[i]];
	}
	pm_agg_set_free(&set);
	return 0;
}

static const struct top_row *find_row(const struct top_sample *s,
				      const char *key)
{
	size_t i;

	for (i = 0; i < s->nr; i++)
		if (!strcmp(s->rows[i].key, key))
			return &s->rows[i];
	return NULL;
}

static void disk_name(unsigned int maj, unsigned int min, char *buf,
		      size_t len)
{
	char path[96], line[256];
	FILE *f;

	snprintf(buf, len, "%u:%u", maj, min);
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/uevent", maj, min);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "DEVNAME=", 8)) {
			size_t l = strcspn(line + 8, "\n");

			if (l >= len)
				l = len - 1;
			memcpy(buf, line + 8, l);
			buf[l] = '\0';
			break;
		}
	}
	fclose(f);
}

/* "pid=P dev=MAJ:MIN comm=C" (comm last: it may hold spaces). */
static int parse_key(const char *key, struct top_line *l)
{
	const char *comm = strstr(key, " comm=");
	size_t n;

	if (sscanf(key, "pid=%lu dev=%u:%u", &l->pid, &l->maj, &l->min) != 3 ||
	    !comm)
		return -1;
	n = strlen(comm + 6);
	if (n > PERSECMON_COMM_LEN)
		n = PERSECMON_COMM_LEN;
	memcpy(l->comm, comm + 6, n);
	l->comm[n] = '\0';
	return 0;
}

static int cmp_line(const void *a, const void *b)
{
	const struct top_line *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	if (x->io != y->io)
		return x->io < y->io ? 1 : -1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static void print_interval(struct pm_out *o, const struct top_sample *prev,
			   const struct top_sample *cur, double seconds)
{
	struct top_line *lines, l;
	const struct top_row *p;
	uint64_t d[NCOL];
	size_t i, n = 0, shown;
	char now[16], load[64] = "";
	time_t t = time(NULL);
	struct tm tm;
	FILE *f;
	int k;

	localtime_r(&t, &tm);
	strftime(now, sizeof(now), "%H:%M:%S", &tm);
	lines = calloc(2 * (cur->nr ? cur->nr : 1), sizeof(*lines));
	if (!lines)
		return;
	for (i = 0; i < cur->nr; i++) {
		memset(&l, 0, sizeof(l));
		if (parse_key(cur->rows[i].key, &l) < 0)
			continue;
		p = find_row(prev, cur->rows[i].key);
		for (k = 0; k < NCOL; k++) {
			uint64_t b = p ? p->v[k] : 0;

			/* An AGG_RESET meanwhile makes a counter go back. */
			d[k] = cur->rows[i].v[k] >= b ? cur->rows[i].v[k] - b :
							cur->rows[i].v[k];
		}
		disk_name(l.maj, l.min, l.disk, sizeof(l.disk));
		if (d[COL_READS]) {
			lines[n] = l;
			lines[n].dir = 'R';
			lines[n].io = d[COL_READS];
			lines[n].bytes = d[COL_RBYTES];
			lines[n].ns = d[COL_RNS];
			n++;
		}
		if (d[COL_WRITES]) {
			lines[n] = l;
			lines[n].dir = 'W';
			lines[n].io = d[COL_WRITES];
			lines[n].bytes = d[COL_WBYTES];
			lines[n].ns = d[COL_WNS];
			n++;
		}
	}
	qsort(lines, n, sizeof(*lines), cmp_line);
	shown = n < opts.rows ? n : opts.rows;

	if (pm_out_is_json(o)) {
		pm_out_line_begin(o);
		pm_out_kv_str(o, "time", now);
		pm_out_kv_f64(o, "interval_s", 3, seconds);
		pm_out_list_begin(o, "rows", NULL);
	} else {
		if (!opts.noclear && isatty(STDOUT_FILENO))
			pm_out_text(o, "\033[H\033[2J");
		f = fopen("/proc/loadavg", "re");
		if (f) {
			if (fgets(load, sizeof(load), f))
				load[strcspn(load, "\n")] = '\0';
			fclose(f);
		}
		pm_out_text(o, "%-8s loadavg: %s\n\n", now, load);
		pm_out_text(o, "%-7s %-16s %1s %-3s %-3s %-8s %5s %7s %6s\n",
			    "PID", "COMM", "D", "MAJ", "MIN", "DISK", "I/O",
			    "Kbytes", "AVGms");
	}
	for (i = 0; i < shown; i++) {
		const struct top_line *x = &lines[i];
		double avg_ms = (double)x->ns / (double)x->io / 1e6;

		if (pm_out_is_json(o)) {
			char dir[2] = { x->dir, '\0' };

			pm_out_line_begin(o);
			pm_out_kv_u64(o, "pid", x->pid);
			pm_out_kv_str(o, "comm", x->comm);
			pm_out_kv_str(o, "d", dir);
			pm_out_kv_u64(o, "major", x->maj);
			pm_out_kv_u64(o, "minor", x->min);
			pm_out_kv_str(o, "disk", x->disk);
			pm_out_kv_u64(o, "io", x->io);
			pm_out_kv_u64(o, "bytes", x->bytes);
			pm_out_kv_u64(o, "kbytes", x->bytes / 1024);
			pm_out_kv_f64(o, "avg_ms", 3, avg_ms);
			pm_out_kv_u64(o, "latency_ns", x->ns);
			pm_out_line_end(o);
		} else {
			pm_out_text(o, "%-7lu %-16s %c %-3u %-3u %-8s %5" PRIu64
				    " %7" PRIu64 " %6.2f\n", x->pid, x->comm,
				    x->dir, x->maj, x->min, x->disk, x->io,
				    x->bytes / 1024, avg_ms);
		}
	}
	if (pm_out_is_json(o)) {
		pm_out_list_end(o);
		pm_out_kv_u64(o, "rows_omitted", n - shown);
		pm_out_line_end(o);
	} else {
		pm_out_text(o, "\n");
	}
	free(lines);
}

static void tool_report(struct pm_aggtool_run *run, const void *prev,
			const void *cur, double seconds)
{
	print_interval(run->out, prev, cur, seconds);
}

int cmd_biotop(const char *name, int argc, char **argv)
{
	const struct pm_command cmd = {
		.name = name,
		.options = biotop_options,
		.summary = "Block I/O by process and disk (like bcc biotop).",
		.common = PM_CLI_JSON | PM_CLI_INTERVAL,
		.description = biotop_description,
		.examples = biotop_examples,
	};
	const struct pm_aggtool tool = {
		.tool = name,
		.group = "block",
		.snapshot_size = sizeof(struct top_sample),
		.snapshot = sample,
		.free_snapshot = sample_free,
		.interval_banner = true,
		.report = tool_report,
	};
	struct pm_cli cli;
	int exit_code;

	memset(&opts, 0, sizeof(opts));
	opts.rows = 20;
	if (!pm_cli_parse_main(&cmd, argc, argv, &cli, &exit_code))
		return exit_code;
	if (cli.interval == 0)
		cli.interval = 1;
	return pm_aggtool_main(&tool, &cli, false, NULL, cli.interval,
			       cli.count);
}
