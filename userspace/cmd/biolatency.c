// SPDX-License-Identifier: GPL-2.0
/*
 * persecmon biolatency: block I/O latency histograms, like bcc's
 * biolatency, from the "block" group's in-kernel log2 aggregates
 * ("biolatency", "biolatency_disk", "biolatency_proc"): no event stream.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "persecmon/aggtool.h"
#include "persecmon/control.h"
#include "persecmon/error.h"
#include "persecmon/hist.h"
#include "persecmon/output.h"
#include "persecmon/proc.h"

struct biolat_opts {
	bool disks;
	bool procs;
	bool ms;
	bool timestamp;
	bool reset;
};

static struct biolat_opts opts;

static const struct pm_option biolat_options[] = {
	{ "disks", 'D', PM_OPT_FLAG, NULL, "one histogram per disk",
	  &opts.disks, 0, 0, NULL },
	{ "pids", 'P', PM_OPT_FLAG, NULL,
	  "one histogram per submitting process (pid and command name)",
	  &opts.procs, 0, 0, NULL },
	{ "milliseconds", 'm', PM_OPT_FLAG, NULL,
	  "millisecond buckets (default: microseconds)", &opts.ms, 0, 0,
	  NULL },
	{ "timestamp", 'T', PM_OPT_FLAG, NULL,
	  "print the time (HH:MM:SS) before each interval's output",
	  &opts.timestamp, 0, 0, NULL },
	{ "reset", 0, PM_OPT_FLAG, NULL,
	  "zero the module's biolatency, biolatency_disk, biolatency_proc, biotop and biostats tables and exit",
	  &opts.reset, 0, 0, NULL },
	{ 0 },
};

static const char biolat_description[] =
	"Summarizes the latency of block device I/O as power-of-two\n"
	"histograms, like bcc's biolatency. The latency of a request runs\n"
	"from its issue to the device driver (block_rq_issue) to its\n"
	"completion (block_rq_complete); time spent queued before the issue\n"
	"is not included (persecmon biosnoop -Q shows it per request).\n"
	"\n"
	"Without an interval, the histogram covers the time until Ctrl-C\n"
	"(or -d SECONDS); with one, it is printed every INTERVAL seconds,\n"
	"COUNT times, each covering that interval only. The numbers are the\n"
	"differences between dumps of the module's in-kernel tables\n"
	"(PERSECMON_CMD_AGG_DUMP): \"biolatency\" (all disks), with -D\n"
	"\"biolatency_disk\" (per disk, named from /sys/dev/block), with -P\n"
	"\"biolatency_proc\" (per process that submitted the I/O). Buffered\n"
	"writes are submitted by the kernel's writeback threads (kworker),\n"
	"so -P shows them under those threads, not under the writer.\n"
	"\n"
	"The aggregates are updated while the \"block\" group is attached, so\n"
	"biolatency holds the group for its lifetime (aggregate-only: no\n"
	"ring buffer writes); the hold goes when it exits, however it ends,\n"
	"and never touches the global set.\n"
	"\n"
	"The kernel keeps microsecond buckets. With -m, the microsecond\n"
	"bucket [2^i, 2^(i+1)) is counted in the millisecond bucket of\n"
	"2^i / 1000 (rounded down): since a millisecond is not a power of two\n"
	"microseconds, a request near a bucket edge may land one bucket low.\n"
	"\n"
	"bcc's biolatency (bpfcc-tools 0.26) hooks blk_account_io_start and\n"
	"blk_account_io_done with kprobes; 6.1 inlines blk_account_io_start\n"
	"and 6.12 keeps both out of line only by accident of the compiler.\n"
	"This command uses tracepoints only.\n";

static const char biolat_examples[] =
	"  persecmon biolatency              # one histogram, printed at Ctrl-C\n"
	"  persecmon biolatency 1 10         # every second, ten times\n"
	"  persecmon biolatency -mT 1        # milliseconds, with timestamps\n"
	"  persecmon biolatency -D 5         # per disk, every 5 seconds\n"
	"  persecmon biolatency -P -d 10     # per process, over 10 seconds\n"
	"  persecmon biolatency --json -D 1 3  # three JSON lines\n";

/* One histogram row of a dump, keyed as the kernel keyed it. */
struct biolat_row {
	char key[PM_AGG_NAME_MAX];
	uint64_t slots[PM_HIST_SLOTS];
};

struct biolat_sample {
	struct biolat_row *rows;
	size_t nr;
};

static void sample_free(void *snap)
{
	struct biolat_sample *s = snap;

	free(s->rows);
	s->rows = NULL;
	s->nr = 0;
}

static const char *table_name(void)
{
	if (opts.disks)
		return "biolatency_disk";
	if (opts.procs)
		return "biolatency_proc";
	return "biolatency";
}

static int sample(struct pm_aggtool_run *run, void *snap,
		  struct pm_error *err)
{
	struct biolat_sample *out = snap;
	struct pm_ctl *ctl = run->ctl;
	const char *name = table_name();
	const struct pm_agg_table *t;
	struct pm_agg_set set;
	size_t i, n;
	int ret;

	ret = pm_ctl_agg_dump(ctl, name, &set, err);
	if (ret < 0)
		return ret;
	t = pm_agg_find(&set, name);
	if (!t || strncmp(t->columns, "log2:", 5)) {
		pm_agg_set_free(&set);
		return pm_error_set(err, PM_ERR_RUNTIME, EPROTO,
				    "the module has no log2 table %s", name);
	}
	out->rows = calloc(t->nr_rows ? t->nr_rows : 1, sizeof(*out->rows));
	if (!out->rows) {
		pm_agg_set_free(&set);
		return pm_error_set(err, PM_ERR_RUNTIME, ENOMEM, "out of memory");
	}
	out->nr = t->nr_rows;
	for (i = 0; i < t->nr_rows; i++) {
		snprintf(out->rows[i].key, sizeof(out->rows[i].key), "%s",
			 t->rows[i].key);
		n = t->rows[i].nr_values;
		if (n > PM_HIST_SLOTS)
			n = PM_HIST_SLOTS;
		memcpy(out->rows[i].slots, t->rows[i].values,
		       n * sizeof(uint64_t));
	}
	pm_agg_set_free(&set);
	return 0;
}

static const struct biolat_row *find_row(const struct biolat_sample *s,
					 const char *key)
{
	size_t i;

	for (i = 0; i < s->nr; i++)
		if (!strcmp(s->rows[i].key, key))
			return &s->rows[i];
	return NULL;
}

/* "dev=MAJ:MIN" -> the disk's name from /sys/dev/block/MAJ:MIN/uevent. */
static void disk_name(const char *majmin, char *buf, size_t len)
{
	char path[96], line[256];
	FILE *f;

	snprintf(buf, len, "%s", majmin);
	snprintf(path, sizeof(path), "/sys/dev/block/%s/uevent", majmin);
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

struct biolat_hist {
	const char *key;
	uint64_t slots[PM_HIST_SLOTS];
	uint64_t total;
	char disk[64];		/* -D */
	unsigned long pid;	/* -P */
	const char *comm;	/* -P */
};

static int cmp_hist(const void *a, const void *b)
{
	const struct biolat_hist *x = a, *y = b;

	if (opts.disks)
		return strcmp(x->disk, y->disk);
	if (opts.procs) {
		if (x->total != y->total)
			return x->total < y->total ? 1 : -1;
		return x->pid < y->pid ? -1 : x->pid > y->pid;
	}
	return 0;
}

/* Microsecond slots -> millisecond slots (see the description). */
static void to_ms(uint64_t slots[PM_HIST_SLOTS])
{
	uint64_t ms[PM_HIST_SLOTS] = { 0 };
	unsigned int i;

	for (i = 0; i < PM_HIST_SLOTS; i++)
		if (slots[i])
			ms[pm_log2_slot(pm_log2_slot_low(i) / 1000)] += slots[i];
	memcpy(slots, ms, sizeof(ms));
}

static void print_interval(struct pm_out *o, const struct biolat_sample *prev,
			   const struct biolat_sample *cur, double seconds)
{
	struct biolat_hist *h;
	const struct biolat_row *p;
	const char *unit = opts.ms ? "msecs" : "usecs";
	char now[16], label[128];
	time_t t = time(NULL);
	size_t i, n = 0;
	unsigned int j;
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(now, sizeof(now), "%H:%M:%S", &tm);
	h = calloc(cur->nr ? cur->nr : 1, sizeof(*h));
	if (!h)
		return;
	for (i = 0; i < cur->nr; i++) {
		p = find_row(prev, cur->rows[i].key);
		h[n].key = cur->rows[i].key;
		for (j = 0; j < PM_HIST_SLOTS; j++) {
			uint64_t c = cur->rows[i].slots[j];
			uint64_t b = p ? p->slots[j] : 0;

			/* An AGG_RESET meanwhile makes a counter go back. */
			h[n].slots[j] = c >= b ? c - b : c;
			h[n].total += h[n].slots[j];
		}
		if (!h[n].total)
			continue;
		if (opts.ms)
			to_ms(h[n].slots);
		if (opts.disks && !strncmp(h[n].key, "dev=", 4))
			disk_name(h[n].key + 4, h[n].disk, sizeof(h[n].disk));
		if (opts.procs && !strncmp(h[n].key, "pid=", 4)) {
			const char *c = strstr(h[n].key, " comm=");

			h[n].pid = strtoul(h[n].key + 4, NULL, 10);
			h[n].comm = c ? c + 6 : "";
		}
		n++;
	}
	qsort(h, n, sizeof(*h), cmp_hist);

	if (pm_out_is_json(o)) {
		pm_out_line_begin(o);
		pm_out_kv_str(o, "time", now);
		pm_out_kv_f64(o, "interval_s", 3, seconds);
		pm_out_list_begin(o, "histograms", NULL);
		for (i = 0; i < n; i++) {
			pm_out_line_begin(o);
			if (opts.disks) {
				pm_out_kv_str(o, "disk", h[i].disk);
				pm_out_kv_str(o, "dev", h[i].key + 4);
			} else if (opts.procs) {
				pm_out_kv_u64(o, "pid", h[i].pid);
				pm_out_kv_str(o, "comm", h[i].comm);
			}
			pm_out_kv_u64(o, "count", h[i].total);
			pm_hist_log2_print(o, "hist", unit, h[i].slots,
					   PM_HIST_SLOTS);
			pm_out_line_end(o);
		}
		pm_out_list_end(o);
		pm_out_line_end(o);
		free(h);
		return;
	}
	if (opts.timestamp)
		pm_out_text(o, "%s\n", now);
	if (!n && !opts.disks && !opts.procs) {
		/* bcc prints the header of an empty histogram. */
		uint64_t zero[1] = { 0 };

		pm_hist_log2_print(o, "hist", unit, zero, 1);
	}
	for (i = 0; i < n; i++) {
		if (opts.disks) {
			snprintf(label, sizeof(label), "disk = %s", h[i].disk);
			pm_out_text(o, "\n%s\n", label);
		} else if (opts.procs) {
			pm_out_text(o, "\npid = %lu comm = %s\n", h[i].pid,
				    h[i].comm);
		}
		pm_hist_log2_print(o, "hist", unit, h[i].slots, PM_HIST_SLOTS);
	}
	pm_out_text(o, "\n");
	free(h);
}

static const char *const reset_tables[] = {
	"biolatency", "biolatency_disk", "biolatency_proc", "biotop",
	"biostats", NULL,
};

static void tool_start(struct pm_aggtool_run *run)
{
	/* Like bcc on stdout; with --json on stderr, keeping stdout JSON. */
	FILE *f = run->cli->json ? stderr : stdout;
	bool until_stop = *(const bool *)run->priv;

	fprintf(f, "Tracing block device I/O...%s\n",
		until_stop && !run->cli->duration ? " Hit Ctrl-C to end." : "");
	fflush(f);
}

static void tool_report(struct pm_aggtool_run *run, const void *prev,
			const void *cur, double seconds)
{
	print_interval(run->out, prev, cur, seconds);
}

int cmd_biolatency(const char *name, int argc, char **argv)
{
	const struct pm_command cmd = {
		.name = name,
		.options = biolat_options,
		.summary = "Block I/O latency histograms (like bcc biolatency).",
		.common = PM_CLI_JSON | PM_CLI_INTERVAL | PM_CLI_DURATION,
		.duration_help = "without an interval: one histogram over SECONDS",
		.description = biolat_description,
		.examples = biolat_examples,
	};
	const struct pm_aggtool tool = {
		.tool = name,
		.group = "block",
		.snapshot_size = sizeof(struct biolat_sample),
		.snapshot = sample,
		.free_snapshot = sample_free,
		.start = tool_start,
		.report = tool_report,
		/* Interrupted mid-interval: print what there is, then stop. */
		.report_partial = true,
		.reset_tables = reset_tables,
	};
	struct pm_cli cli;
	int exit_code;
	bool until_stop;
	double interval;

	memset(&opts, 0, sizeof(opts));
	if (!pm_cli_parse_main(&cmd, argc, argv, &cli, &exit_code))
		return exit_code;
	if (opts.disks && opts.procs) {
		fprintf(stderr, "%s: -D and -P exclude each other\n", name);
		return PM_EXIT_USAGE;
	}
	if (cli.interval && cli.duration) {
		fprintf(stderr, "%s: give an interval or -d, not both\n", name);
		return PM_EXIT_USAGE;
	}
	/* No interval: one histogram at the stop (Ctrl-C or -d). */
	until_stop = cli.interval == 0;
	interval = until_stop ? (cli.duration ? cli.duration : 86400.0) :
				cli.interval;
	return pm_aggtool_main(&tool, &cli, opts.reset, &until_stop, interval,
			       until_stop ? 1 : cli.count);
}
