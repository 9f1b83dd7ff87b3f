// SPDX-License-Identifier: GPL-2.0
/*
 * persecmon filetop: reads and writes by file and process, like bcc's
 * filetop, from the "vfs" group's in-kernel tables "vfs_top_files" and
 * "vfs_top_procs" (aggregate maps: no event stream).
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

/* The row key of the kernel's overflow row (module/core/aggmap.h). */
#define OVERFLOW_KEY	"[overflow]"

enum sort_by { SORT_BYTES, SORT_ALL, SORT_READS, SORT_WRITES, SORT_RBYTES,
	       SORT_WBYTES };

struct filetop_opts {
	bool reset;
	bool noclear;
	bool all_files;
	uint64_t rows;
	enum sort_by sort;
};

static struct filetop_opts opts;

static int parse_sort(const char *arg, void *target, char *errbuf,
		      size_t errlen)
{
	static const char *const names[] = {
		[SORT_BYTES] = "bytes", [SORT_ALL] = "all",
		[SORT_READS] = "reads", [SORT_WRITES] = "writes",
		[SORT_RBYTES] = "rbytes", [SORT_WBYTES] = "wbytes",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(arg, names[i])) {
			*(enum sort_by *)target = (enum sort_by)i;
			return 0;
		}
	}
	snprintf(errbuf, errlen,
		 "unknown sort key '%s' (bytes, all, reads, writes, rbytes, wbytes)",
		 arg);
	return -1;
}

static const struct pm_option filetop_options[] = {
	{ "reset", 0, PM_OPT_FLAG, NULL,
	  "zero the module's vfs_top_files and vfs_top_procs tables and exit",
	  &opts.reset, 0, 0, NULL },
	{ "noclear", 'C', PM_OPT_FLAG, NULL,
	  "don't clear the screen before each interval", &opts.noclear, 0, 0,
	  NULL },
	{ "all-files", 'a', PM_OPT_FLAG, NULL,
	  "include sockets, pipes, ttys and other non-regular files",
	  &opts.all_files, 0, 0, NULL },
	{ "rows", 'r', PM_OPT_UINT, "N", "print at most N rows (default 20)",
	  &opts.rows, 1, 100000, NULL },
	{ "sort", 's', PM_OPT_CALLBACK, "KEY",
	  "sort by bytes (read + written, the default), all (bytes and calls,\n"
	  "like bcc), reads, writes, rbytes or wbytes", &opts.sort, 0, 0,
	  parse_sort },
	{ 0 },
};

static const char filetop_description[] =
	"Shows, every INTERVAL seconds (default 1, COUNT times or until\n"
	"Ctrl-C), which processes read and wrote which files, like bcc's\n"
	"filetop: one line per process and file, largest first. The numbers\n"
	"are the differences between dumps of the module's in-kernel tables\n"
	"\"vfs_top_files\" and \"vfs_top_procs\" (PERSECMON_CMD_AGG_DUMP), so no\n"
	"event is streamed; the \"vfs\" group is held attached for the\n"
	"command's lifetime (aggregate-only: no ring buffer writes), apart\n"
	"from the global set, and let go when it exits, however it ends.\n"
	"\n"
	"Columns: TID (the process id, tgid, as in bcc), COMM (from\n"
	"vfs_top_procs, else /proc), READS and WRITES (vfs_read and vfs_write\n"
	"calls), R_Kb and W_Kb (Kbytes actually transferred), T (R regular\n"
	"file, S socket, O other) and FILE (the dentry name, at most 30\n"
	"characters, less when the pid, device and inode numbers are long).\n"
	"Only regular files are shown unless -a is given.\n"
	"\n"
	"The kernel table holds 4096 process/file pairs; reads and writes that\n"
	"find it full are summed in a row shown as FILE \"[overflow]\", never\n"
	"dropped silently. The tables keep counting until --reset (AGG_RESET)\n"
	"zeroes them; filetop itself never resets them, so several readers can\n"
	"watch at once.\n";

static const char filetop_examples[] =
	"  persecmon filetop                 # every second until Ctrl-C\n"
	"  persecmon filetop -C 5 3          # three 5-second intervals, no clearing\n"
	"  persecmon filetop -p 1234 -a      # one process, sockets and pipes too\n"
	"  persecmon filetop -s reads -r 5   # the 5 lines with most read calls\n"
	"  persecmon filetop --json 1 10     # ten JSON lines\n"
	"  persecmon filetop --reset         # zero vfs_top_files, vfs_top_procs\n";

enum { COL_READS, COL_WRITES, COL_RBYTES, COL_WBYTES, NCOL };

static const char *const col_names[NCOL] = {
	"reads", "writes", "read_bytes", "write_bytes",
};

struct top_row {
	char key[PM_AGG_NAME_MAX];
	uint64_t v[NCOL];
};

/* One table's rows, sorted by key for lookups. */
struct top_table {
	struct top_row *rows;
	size_t nr;
};

struct top_sample {
	struct top_table files, procs;
};

/* One output line: a process and file over one interval. */
struct top_line {
	unsigned long tid;
	char comm[PERSECMON_COMM_LEN + 1];
	char type;
	char file[PM_AGG_NAME_MAX];
	char dev[24];
	unsigned long long ino;
	bool overflow;
	uint64_t v[NCOL];
};

static void table_free(struct top_table *t)
{
	free(t->rows);
	t->rows = NULL;
	t->nr = 0;
}

static void sample_free(void *snap)
{
	struct top_sample *s = snap;

	table_free(&s->files);
	table_free(&s->procs);
}

static int cmp_row_key(const void *a, const void *b)
{
	return strcmp(((const struct top_row *)a)->key,
		      ((const struct top_row *)b)->key);
}

static int table_copy(const struct pm_agg_set *set, const char *name,
		      struct top_table *out, struct pm_error *err)
{
	const struct pm_agg_table *t = pm_agg_find(set, name);
	int col[NCOL], i;
	size_t r;

	for (i = 0; t && i < NCOL; i++) {
		col[i] = pm_agg_column(t, col_names[i]);
		if (col[i] < 0)
			t = NULL;
	}
	if (!t)
		return pm_error_set(err, PM_ERR_RUNTIME, EPROTO,
				    "the module has no %s table with columns reads,writes,read_bytes,write_bytes",
				    name);
	out->rows = calloc(t->nr_rows ? t->nr_rows : 1, sizeof(*out->rows));
	if (!out->rows)
		return pm_error_set(err, PM_ERR_RUNTIME, ENOMEM, "out of memory");
	out->nr = t->nr_rows;
	for (r = 0; r < t->nr_rows; r++) {
		snprintf(out->rows[r].key, sizeof(out->rows[r].key), "%s",
			 t->rows[r].key);
		for (i = 0; i < NCOL; i++)
			if ((size_t)col[i] < t->rows[r].nr_values)
				out->rows[r].v[i] = t->rows[r].values[col[i]];
	}
	qsort(out->rows, out->nr, sizeof(*out->rows), cmp_row_key);
	return 0;
}

static int dump_table(struct pm_ctl *ctl, const char *name,
		      struct top_table *out, struct pm_error *err)
{
	struct pm_agg_set set;
	int ret;

	ret = pm_ctl_agg_dump(ctl, name, &set, err);
	if (ret < 0)
		return ret;
	ret = table_copy(&set, name, out, err);
	pm_agg_set_free(&set);
	return ret;
}

static int sample(struct pm_aggtool_run *run, void *snap,
		  struct pm_error *err)
{
	struct top_sample *out = snap;
	struct pm_ctl *ctl = run->ctl;
	int ret;

	ret = dump_table(ctl, "vfs_top_files", &out->files, err);
	if (ret == 0)
		ret = dump_table(ctl, "vfs_top_procs", &out->procs, err);
	if (ret < 0)
		sample_free(out);
	return ret;
}

static const struct top_row *find_row(const struct top_table *t,
				      const char *key)
{
	struct top_row probe;

	if (!t->nr)
		return NULL;
	snprintf(probe.key, sizeof(probe.key), "%s", key);
	return bsearch(&probe, t->rows, t->nr, sizeof(*t->rows), cmp_row_key);
}

/* @cur minus @prev; an AGG_RESET meanwhile makes a counter go back. */
static void row_delta(const struct top_row *cur, const struct top_row *prev,
		      uint64_t d[NCOL])
{
	int k;

	for (k = 0; k < NCOL; k++) {
		uint64_t b = prev ? prev->v[k] : 0;

		d[k] = cur->v[k] >= b ? cur->v[k] - b : cur->v[k];
	}
}

/* "pid=P dev=MAJ:MIN ino=I t=T name=NAME" (name last: any bytes). */
static int parse_file_key(const char *key, struct top_line *l)
{
	const char *name = strstr(key, " name=");
	unsigned int maj, min;
	char type;

	if (!name ||
	    sscanf(key, "pid=%lu dev=%u:%u ino=%llu t=%c", &l->tid, &maj, &min,
		   &l->ino, &type) != 5)
		return -1;
	l->type = type;
	snprintf(l->dev, sizeof(l->dev), "%u:%u", maj, min);
	snprintf(l->file, sizeof(l->file), "%s", name + 6);
	return 0;
}

/* "pid=P comm=C" (comm last: it may hold spaces). */
static int parse_proc_key(const char *key, unsigned long *tid, char *comm)
{
	const char *c = strstr(key, " comm=");
	size_t n;

	if (!c || sscanf(key, "pid=%lu", tid) != 1)
		return -1;
	n = strlen(c + 6);
	if (n > PERSECMON_COMM_LEN)
		n = PERSECMON_COMM_LEN;
	memcpy(comm, c + 6, n);
	comm[n] = '\0';
	return 0;
}

/* A process's name as vfs_top_procs knows it. */
struct proc_comm {
	unsigned long tid;
	uint64_t bytes;
	char comm[PERSECMON_COMM_LEN + 1];
};

struct comm_index {
	struct proc_comm *v;
	size_t nr;
};

/* By tid, then most bytes first. */
static int cmp_proc_comm(const void *a, const void *b)
{
	const struct proc_comm *x = a, *y = b;

	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return (x->bytes < y->bytes) - (x->bytes > y->bytes);
}

static int cmp_proc_tid(const void *key, const void *elem)
{
	unsigned long tid = *(const unsigned long *)key;
	const struct proc_comm *e = elem;

	return (tid > e->tid) - (tid < e->tid);
}

/*
 * One entry per tid: its vfs_top_procs row with the most bytes (a
 * process that renamed itself has several).
 */
static void comm_index_build(const struct top_table *procs,
			     struct comm_index *ix)
{
	size_t i, n = 0;

	ix->nr = 0;
	ix->v = calloc(procs->nr ? procs->nr : 1, sizeof(*ix->v));
	if (!ix->v)
		return;
	for (i = 0; i < procs->nr; i++) {
		struct proc_comm *e = &ix->v[n];

		if (parse_proc_key(procs->rows[i].key, &e->tid, e->comm) < 0)
			continue;
		e->bytes = procs->rows[i].v[COL_RBYTES] +
			   procs->rows[i].v[COL_WBYTES];
		n++;
	}
	qsort(ix->v, n, sizeof(*ix->v), cmp_proc_comm);
	for (i = 0; i < n; i++)
		if (!ix->nr || ix->v[ix->nr - 1].tid != ix->v[i].tid)
			ix->v[ix->nr++] = ix->v[i];
}

/* The comm of @tid: from vfs_top_procs, else /proc, else "?". */
static void comm_of(const struct comm_index *ix, struct pm_comm_cache *cc,
		    unsigned long tid, char *comm)
{
	const struct proc_comm *e = NULL;
	const char *s;

	if (ix->nr)
		e = bsearch(&tid, ix->v, ix->nr, sizeof(*ix->v), cmp_proc_tid);
	if (e) {
		memcpy(comm, e->comm, sizeof(e->comm));
		return;
	}
	s = pm_comm_lookup(cc, (uint32_t)tid, pm_monotonic_ns());
	snprintf(comm, PERSECMON_COMM_LEN + 1, "%s", s ? s : "?");
}

static uint64_t sort_weight(const struct top_line *l)
{
	switch (opts.sort) {
	case SORT_ALL:
		return l->v[COL_READS] + l->v[COL_WRITES] + l->v[COL_RBYTES] +
		       l->v[COL_WBYTES];
	case SORT_READS:
		return l->v[COL_READS];
	case SORT_WRITES:
		return l->v[COL_WRITES];
	case SORT_RBYTES:
		return l->v[COL_RBYTES];
	case SORT_WBYTES:
		return l->v[COL_WBYTES];
	case SORT_BYTES:
	default:
		return l->v[COL_RBYTES] + l->v[COL_WBYTES];
	}
}

static int cmp_line(const void *a, const void *b)
{
	const struct top_line *x = a, *y = b;
	uint64_t wx = sort_weight(x), wy = sort_weight(y);
	int c;

	if (wx != wy)
		return wx < wy ? 1 : -1;
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	c = strcmp(x->file, y->file);
	return c ? c : (x->ino > y->ino) - (x->ino < y->ino);
}

static bool pid_wanted(const struct pm_cli *cli, unsigned long tid)
{
	size_t i;

	if (!cli->nr_pids)
		return true;
	for (i = 0; i < cli->nr_pids; i++)
		if (cli->pids[i] == tid)
			return true;
	return false;
}

/* The interval's lines, sorted; returns how many (0 on no memory). */
static size_t collect_lines(const struct pm_cli *cli,
			    const struct top_sample *prev,
			    const struct top_sample *cur,
			    struct pm_comm_cache *cc, struct top_line **out)
{
	struct top_line *lines, l;
	struct comm_index ix;
	size_t i, n = 0;

	*out = NULL;
	lines = calloc(cur->files.nr ? cur->files.nr : 1, sizeof(*lines));
	if (!lines)
		return 0;
	comm_index_build(&cur->procs, &ix);
	for (i = 0; i < cur->files.nr; i++) {
		const struct top_row *row = &cur->files.rows[i];

		memset(&l, 0, sizeof(l));
		row_delta(row, find_row(&prev->files, row->key), l.v);
		if (!l.v[COL_READS] && !l.v[COL_WRITES])
			continue;
		if (!strcmp(row->key, OVERFLOW_KEY)) {
			/* Not attributable: shown whatever the filters. */
			l.overflow = true;
			l.type = '-';
			snprintf(l.comm, sizeof(l.comm), "-");
			snprintf(l.file, sizeof(l.file), "%s", OVERFLOW_KEY);
		} else {
			if (parse_file_key(row->key, &l) < 0)
				continue;
			if (!opts.all_files && l.type != 'R')
				continue;
			if (!pid_wanted(cli, l.tid))
				continue;
			comm_of(&ix, cc, l.tid, l.comm);
		}
		lines[n++] = l;
	}
	free(ix.v);
	qsort(lines, n, sizeof(*lines), cmp_line);
	*out = lines;
	return n;
}

static void print_interval(struct pm_out *o, const struct pm_cli *cli,
			   const struct top_sample *prev,
			   const struct top_sample *cur,
			   struct pm_comm_cache *cc, double seconds)
{
	struct top_line *lines;
	char now[16], load[64] = "";
	time_t t = time(NULL);
	size_t i, n, shown;
	struct tm tm;
	FILE *f;

	localtime_r(&t, &tm);
	strftime(now, sizeof(now), "%H:%M:%S", &tm);
	n = collect_lines(cli, prev, cur, cc, &lines);
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
		pm_out_text(o, "%-7s %-16s %-6s %-6s %-7s %-7s %1s %s\n", "TID",
			    "COMM", "READS", "WRITES", "R_Kb", "W_Kb", "T",
			    "FILE");
	}
	for (i = 0; i < shown; i++) {
		const struct top_line *x = &lines[i];
		char type[2] = { x->type, '\0' };

		if (pm_out_is_json(o)) {
			pm_out_line_begin(o);
			pm_out_kv_u64(o, "tid", x->tid);
			pm_out_kv_str(o, "comm", x->comm);
			pm_out_kv_u64(o, "reads", x->v[COL_READS]);
			pm_out_kv_u64(o, "writes", x->v[COL_WRITES]);
			pm_out_kv_u64(o, "read_bytes", x->v[COL_RBYTES]);
			pm_out_kv_u64(o, "write_bytes", x->v[COL_WBYTES]);
			pm_out_kv_u64(o, "r_kb", x->v[COL_RBYTES] / 1024);
			pm_out_kv_u64(o, "w_kb", x->v[COL_WBYTES] / 1024);
			pm_out_kv_str(o, "type", type);
			pm_out_kv_str(o, "file", x->file);
			pm_out_kv_str(o, "dev", x->overflow ? NULL : x->dev);
			pm_out_kv_u64(o, "ino", x->ino);
			pm_out_kv_bool(o, "overflow", x->overflow);
			pm_out_line_end(o);
		} else if (x->overflow) {
			pm_out_text(o, "%-7s %-16s %-6" PRIu64 " %-6" PRIu64
				    " %-7" PRIu64 " %-7" PRIu64 " %c %s\n", "-",
				    x->comm, x->v[COL_READS], x->v[COL_WRITES],
				    x->v[COL_RBYTES] / 1024,
				    x->v[COL_WBYTES] / 1024, x->type, x->file);
		} else {
			pm_out_text(o, "%-7lu %-16s %-6" PRIu64 " %-6" PRIu64
				    " %-7" PRIu64 " %-7" PRIu64 " %c %s\n",
				    x->tid, x->comm, x->v[COL_READS],
				    x->v[COL_WRITES], x->v[COL_RBYTES] / 1024,
				    x->v[COL_WBYTES] / 1024, x->type, x->file);
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
	print_interval(run->out, run->cli, prev, cur, run->priv, seconds);
}

int cmd_filetop(const char *name, int argc, char **argv)
{
	static const char *const reset_tables[] = {
		"vfs_top_files", "vfs_top_procs", NULL,
	};
	const struct pm_command cmd = {
		.name = name,
		.options = filetop_options,
		.summary = "File reads and writes by process (like bcc filetop).",
		.common = PM_CLI_JSON | PM_CLI_PID | PM_CLI_INTERVAL,
		.pid_help = "only these processes (tgid)",
		.description = filetop_description,
		.examples = filetop_examples,
	};
	const struct pm_aggtool tool = {
		.tool = name,
		.group = "vfs",
		.snapshot_size = sizeof(struct top_sample),
		.snapshot = sample,
		.free_snapshot = sample_free,
		.interval_banner = true,
		.report = tool_report,
		.reset_tables = reset_tables,
	};
	struct pm_comm_cache cc;
	struct pm_cli cli;
	int exit_code;

	memset(&opts, 0, sizeof(opts));
	opts.rows = 20;
	opts.sort = SORT_BYTES;
	if (!pm_cli_parse_main(&cmd, argc, argv, &cli, &exit_code))
		return exit_code;
	if (cli.interval == 0)
		cli.interval = 1;
	pm_comm_cache_init(&cc, NULL);
	return pm_aggtool_main(&tool, &cli, opts.reset, &cc, cli.interval,
			       cli.count);
}
