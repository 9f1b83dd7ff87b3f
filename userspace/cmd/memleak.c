// SPDX-License-Identifier: GPL-2.0
/*
 * persecmon memleak: outstanding allocations by stack, like bcc memleak.
 *
 * Without -p/-c it traces the kernel's allocations (group "kmemleak":
 * kmalloc, slab caches, pages); with -p PID or -c COMMAND the libc
 * allocations of those processes (group "memleak": uprobes on malloc,
 * calloc, realloc, free, posix_memalign, aligned_alloc, memalign, valloc,
 * pvalloc, resolved here in the process's libc). Every interval it prints
 * the stacks that hold the most memory not freed yet, symbolized:
 * "N bytes in M allocations from stack". The bookkeeping is
 * lib/leaks.c, the symbols lib/symbolize.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "persecmon/child.h"
#include "persecmon/decode.h"
#include "persecmon/elfsym.h"
#include "persecmon/error.h"
#include "persecmon/leaks.h"
#include "persecmon/proc.h"
#include "persecmon/snoop.h"
#include "persecmon/symbolize.h"

#define DEFAULT_INTERVAL_S	5
#define DEFAULT_TOP		10
#define SAMPLE_PARAM_DIR	"/sys/module/persecmon/parameters/"

/* Address spaces of kernel records (see persecmon/leaks.h). */
#define KSPACE_SLAB		0
#define KSPACE_PAGE		1

struct memleak_opts {
	bool kernel;
	bool stream;
	const char *command;
	uint64_t top;
	uint64_t older_ms;
	uint64_t sample;
	uint64_t min_size;
	uint64_t max_size;
	const char *libc;
	const char *device;
};

struct memleak_state {
	bool kernel;
	struct pm_leaks *leaks;
	struct pm_ksyms *ksyms;
	struct {
		uint32_t tgid;
		struct pm_usyms *us;
	} procs[PM_CLI_MAX_PIDS];
	size_t nr_procs;
	struct pm_child cmd;	/* -c: the command; .pid 0 once reaped */
	bool has_command;
	pid_t procs_child_tgid;	/* -c: the command's pid, kept */
	atomic_bool child_exited; /* -c: reaped by the watcher */
	bool child_done;	/* -c: one more round after the exit, then stop */
	/*
	 * -c: a short command may exit before its records are read, taking
	 * its mappings along. A thread watches it: it reads them at each
	 * exec and exit stop, and every POLL_MAPS_NS between (dlopen()).
	 */
	pthread_t watcher;
	bool watcher_running;
	atomic_bool watcher_stop;
	sem_t released;		/* the watcher let the command run (or failed) */
	struct pm_error release_err;
	int release_ret;
	pthread_mutex_t lock;	/* procs[].us against the watcher */
	/*
	 * Unless --stream (or -o, -z, -Z, which need every allocation): the
	 * session is quiet for the group and each report reads the kernel's
	 * table of outstanding blocks (user: "memleak", counted in
	 * "memleakstat"; kernel: "kmemleak_outstanding", "kmemleak").
	 */
	bool table;
	const char *table_name;
	const char *stat_table;
	struct pm_ctl *ctl;	/* table: AGG_DUMP requests */
	uint64_t kstat_base[3];	/* table: blocks_full, stacks_full, replaced */
	uint64_t filtered;	/* allocations outside -z/-Z */
	uint64_t mappings;	/* PERSECMON_EV_MAP records taken */
	int error;		/* -ENOMEM from the tracker */
};

static struct memleak_opts opts;

static const struct pm_option memleak_options[] = {
	{ "kernel", 0, PM_OPT_FLAG, NULL,
	  "trace the kernel's allocations (the default without -p or -c)",
	  &opts.kernel, 0, 0, NULL },
	{ "command", 'c', PM_OPT_STRING, "COMMAND",
	  "run COMMAND (through /bin/sh -c) and trace its allocations",
	  &opts.command, 0, 0, NULL },
	{ "top", 'T', PM_OPT_UINT, "N",
	  "show the N stacks with the most outstanding bytes (default 10)",
	  &opts.top, 1, 100000, NULL },
	{ "older", 'o', PM_OPT_UINT, "MS",
	  "only count allocations older than MS milliseconds", &opts.older_ms,
	  0, 86400000, NULL },
	{ "sample-rate", 's', PM_OPT_UINT, "N",
	  "record one in N allocations, chosen by address in the kernel (sets the module's *_sample parameter while running)",
	  &opts.sample, 1, 1000000, NULL },
	{ "min-size", 'z', PM_OPT_UINT, "BYTES",
	  "ignore allocations smaller than BYTES", &opts.min_size, 0,
	  UINT64_MAX, NULL },
	{ "max-size", 'Z', PM_OPT_UINT, "BYTES",
	  "ignore allocations larger than BYTES", &opts.max_size, 0,
	  UINT64_MAX, NULL },
	{ "stream", 0, PM_OPT_FLAG, NULL,
	  "pair every allocation record here instead of reading the kernel's table (implied by -o, -z, -Z)",
	  &opts.stream, 0, 0, NULL },
	{ "libc", 'l', PM_OPT_STRING, "PATH",
	  "the libc to probe (default: the one the process maps)", &opts.libc,
	  0, 0, NULL },
	{ "device", 0, PM_OPT_STRING, "PATH",
	  "device to open (default " PERSECMON_DEVICE_PATH ")", &opts.device,
	  0, 0, NULL },
	{ 0 },
};

static const char memleak_description[] =
	"Keeps the allocations that were made and not freed yet, grouped by\n"
	"the stack that made them, and prints every interval (default 5 s)\n"
	"the stacks holding the most memory, largest last, as bcc memleak:\n"
	"\"N bytes in M allocations from stack\" and the symbolized frames.\n"
	"\n"
	"With --kernel, or without -p or -c, it traces the kernel (probe\n"
	"group \"kmemleak\": tracepoints kmem:kmalloc, kmem:kmem_cache_alloc,\n"
	"kmem:mm_page_alloc and their frees; sizes are bytes_alloc, pages\n"
	"count PAGE_SIZE << order; a large kmalloc() shows both as a kmalloc\n"
	"and as its pages). With -p PID (or -c COMMAND) it traces those\n"
	"processes' libc calls (probe group \"memleak\": uprobes on malloc,\n"
	"calloc, realloc, free, posix_memalign, aligned_alloc, memalign,\n"
	"valloc, pvalloc) in the libc each of them maps, reached through\n"
	"/proc/PID/root (a container's own libc). User stacks come from a\n"
	"frame-pointer walk in the kernel: exact for the allocator's caller,\n"
	"shorter or wrong beyond code built without frame pointers (see\n"
	"docs/memleak.md).\n"
	"\n"
	"The kernel keeps the outstanding blocks itself (table \"memleak\",\n"
	"or \"kmemleak_outstanding\" for the kernel's) and no record per\n"
	"allocation is written: each report reads that table. --stream\n"
	"(implied by -o, -z, -Z) pairs the records here instead.\n"
	"\n"
	"Only allocations made while it runs are seen; a free whose record was\n"
	"lost leaves its allocation outstanding, so lost events (reported on\n"
	"stderr) make leaks look bigger. Its own allocations are not traced.\n";

static const char memleak_examples[] =
	"  persecmon memleak                   # kernel, top 10 every 5 s\n"
	"  persecmon memleak --kernel -T 5 1 3 # kernel, top 5, three reports\n"
	"  persecmon memleak -p 1234 10        # process 1234, every 10 s\n"
	"  persecmon memleak -c ./a.out 1 3    # run ./a.out, three reports\n"
	"  persecmon memleak -o 60000 -T 5     # older than a minute, top 5\n"
	"  persecmon memleak -s 10 --json      # sample 1 in 10, JSON lines\n";

/* Kernel mode */

/* Drops leading tracing frames, which depend on who else traces. */
static unsigned int kernel_trim(const struct memleak_state *st,
				const uint64_t *frames, unsigned int nr)
{
	unsigned int skip = 0;
	struct pm_sym sym;

	while (skip < nr && pm_ksyms_lookup(st->ksyms, frames[skip], &sym) &&
	       !strncmp(sym.name, "__traceiter_", 12))
		skip++;
	return skip;
}

static bool size_wanted(uint64_t size)
{
	if (size < opts.min_size)
		return false;
	if (opts.max_size && size > opts.max_size)
		return false;
	return true;
}

static int on_kernel_record(struct memleak_state *st,
			    const struct persecmon_record *rec)
{
	const struct persecmon_kalloc_event *a = (const void *)rec;
	const struct persecmon_kfree_event *f = (const void *)rec;
	uint64_t frames[PERSECMON_KSTACK_MAX];
	unsigned int nr, skip, i;

	if (rec->type == PERSECMON_EV_KFREE) {
		pm_leaks_free(st->leaks, f->kind == PERSECMON_KMEM_PAGE ?
			      KSPACE_PAGE : KSPACE_SLAB, f->ptr);
		return 0;
	}
	if (rec->type != PERSECMON_EV_KALLOC)
		return 0;
	if (!size_wanted(a->bytes_alloc)) {
		st->filtered++;
		return 0;
	}
	nr = a->nr_frames < PERSECMON_KSTACK_MAX ? a->nr_frames :
						   PERSECMON_KSTACK_MAX;
	for (i = 0; i < nr; i++)
		frames[i] = a->frames[i];
	skip = kernel_trim(st, frames, nr);
	if (pm_leaks_alloc(st->leaks, a->kind == PERSECMON_KMEM_PAGE ?
			   KSPACE_PAGE : KSPACE_SLAB, a->ptr, a->bytes_alloc,
			   rec->time_ns, 0, frames + skip, nr - skip) < 0) {
		st->error = -ENOMEM;
		return 1;
	}
	return 0;
}

/* User mode */

/*
 * The symbolizer of @tgid. Its mappings are read now if it lives, and
 * again on a miss and at each report; when it is gone, the module's
 * PERSECMON_EV_MAP records describe them. NULL: no memory,
 * or more processes than -p takes.
 */
static struct pm_usyms *proc_syms(struct memleak_state *st, uint32_t tgid)
{
	struct pm_usyms *us;
	size_t i;

	for (i = 0; i < st->nr_procs; i++)
		if (st->procs[i].tgid == tgid)
			return st->procs[i].us;
	if (st->nr_procs == PM_CLI_MAX_PIDS)
		return NULL;
	us = pm_usyms_new(tgid, NULL);
	if (!us)
		return NULL;
	/* No mapping yet (mid-exec) or gone: a lookup tries again. */
	pm_usyms_refresh(us);
	st->procs[st->nr_procs].tgid = tgid;
	st->procs[st->nr_procs++].us = us;
	return us;
}

/*
 * Reads the mappings of every process named with -p and of those seen so
 * far, as they are now. A process that is gone keeps its last ones, and
 * the module's mapping records of it then come first.
 */
static void refresh_all_maps(struct memleak_state *st,
			     const struct pm_cli *cli)
{
	size_t i, known;

	pthread_mutex_lock(&st->lock);
	known = st->nr_procs;
	for (i = 0; i < known; i++)
		pm_usyms_refresh(st->procs[i].us);
	/* Those not seen yet are read as they are added. */
	for (i = 0; i < cli->nr_pids; i++)
		proc_syms(st, cli->pids[i]);
	pthread_mutex_unlock(&st->lock);
}

static void on_map_record(struct memleak_state *st,
			  const struct persecmon_record *rec)
{
	struct pm_map_view v;
	struct pm_usyms *us;

	pm_map_view(rec, &v);
	st->mappings++;
	pthread_mutex_lock(&st->lock);
	us = proc_syms(st, rec->tgid);
	/* A cut path (hdr.flags) is empty: nothing to open. */
	if (us && v.path[0])
		pm_usyms_add_mapping(us, v.start, v.end, v.offset, v.path,
				     v.ino);
	pthread_mutex_unlock(&st->lock);
}

static int on_user_record(struct memleak_state *st,
			  const struct persecmon_record *rec)
{
	const struct persecmon_alloc_event *a = (const void *)rec;
	const struct persecmon_free_event *f = (const void *)rec;
	uint64_t frames[PERSECMON_USTACK_MAX];
	struct pm_usyms *us;
	struct pm_sym sym;
	unsigned int nr, i;

	if (rec->type == PERSECMON_EV_FREE) {
		pm_leaks_free(st->leaks, rec->tgid, f->addr);
		return 0;
	}
	if (rec->type != PERSECMON_EV_ALLOC)
		return 0;
	if (!size_wanted(a->size)) {
		st->filtered++;
		return 0;
	}
	nr = a->nr_frames < PERSECMON_USTACK_MAX ? a->nr_frames :
						   PERSECMON_USTACK_MAX;
	for (i = 0; i < nr; i++)
		frames[i] = a->frames[i];
	/*
	 * While the process lives: a lookup that misses re-reads its
	 * mappings, so they are known when it has exited by report time.
	 */
	pthread_mutex_lock(&st->lock);
	us = proc_syms(st, rec->tgid);
	if (us && nr)
		pm_usyms_lookup(us, frames[0], &sym);
	pthread_mutex_unlock(&st->lock);
	if (pm_leaks_alloc(st->leaks, rec->tgid, a->addr, a->size,
			   rec->time_ns, rec->tgid, frames, nr) < 0) {
		st->error = -ENOMEM;
		return 1;
	}
	return 0;
}

static int on_record(struct pm_snoop_ctx *sc,
		     const struct persecmon_record *rec)
{
	struct memleak_state *st = sc->priv;

	if (st->kernel)
		return on_kernel_record(st, rec);
	if (!pm_snoop_pid_wanted(sc, rec->tgid))
		return 0;
	if (rec->type == PERSECMON_EV_MAP) {
		on_map_record(st, rec);
		return 0;
	}
	return on_user_record(st, rec);
}

/* Reports */

static void format_frame(struct memleak_state *st, uint32_t space,
			 uint64_t addr, char *buf, size_t len)
{
	struct pm_usyms *us;
	struct pm_sym sym;

	memset(&sym, 0, sizeof(sym));
	if (st->kernel) {
		pm_ksyms_lookup(st->ksyms, addr, &sym);
	} else {
		pthread_mutex_lock(&st->lock);
		us = proc_syms(st, space);
		if (us)
			pm_usyms_lookup(us, addr, &sym);
		pthread_mutex_unlock(&st->lock);
	}
	pm_sym_format(buf, len, addr, &sym);
}

static void print_stack(struct pm_snoop_ctx *sc, const struct pm_leak_row *r,
			uint64_t now_ns)
{
	struct memleak_state *st = sc->priv;
	char frames[PERSECMON_KSTACK_MAX > PERSECMON_USTACK_MAX ?
		    PERSECMON_KSTACK_MAX : PERSECMON_USTACK_MAX][256];
	char addrs[sizeof(frames) / sizeof(frames[0])][24];
	const char *fp[sizeof(frames) / sizeof(frames[0])];
	const char *ap[sizeof(frames) / sizeof(frames[0])];
	struct pm_out *out = &sc->out;
	unsigned int i, n = r->nr_frames;

	if (n > sizeof(frames) / sizeof(frames[0]))
		n = sizeof(frames) / sizeof(frames[0]);
	for (i = 0; i < n; i++) {
		format_frame(st, r->stack_space, r->frames[i], frames[i],
			     sizeof(frames[i]));
		snprintf(addrs[i], sizeof(addrs[i]), "0x%" PRIx64,
			 r->frames[i]);
		fp[i] = frames[i];
		ap[i] = addrs[i];
	}
	if (!pm_out_is_json(out)) {
		pm_out_text(out, "\t%" PRIu64 " bytes in %" PRIu64 " allocations from stack\n",
			    r->bytes, r->count);
		for (i = 0; i < n; i++)
			pm_out_text(out, "\t\t%s\n", frames[i]);
		if (!n)
			pm_out_text(out, "\t\t[no frames]\n");
		return;
	}
	pm_out_line_begin(out);
	pm_out_kv_u64(out, "bytes", r->bytes);
	pm_out_kv_u64(out, "allocations", r->count);
	if (!st->kernel)
		pm_out_kv_u64(out, "tgid", r->stack_space);
	pm_out_kv_f64(out, "oldest_age_s", 3,
		      now_ns > r->oldest_ns ?
		      (double)(now_ns - r->oldest_ns) / 1e9 : 0);
	pm_out_kv_strlist(out, "stack", fp, n);
	pm_out_kv_strlist(out, "addrs", ap, n);
	pm_out_line_end(out);
}

/* What a report says besides its stacks. */
struct report_totals {
	uint64_t bytes;
	uint64_t count;
	uint64_t stacks;
	const struct pm_leak_stats *stream;	/* stream: its counters */
	uint64_t kstat[3];	/* table: kstat_columns since the start */
};

static void print_report(struct pm_snoop_ctx *sc, bool last, uint64_t now,
			 const struct pm_leak_row *rows, long n,
			 const struct report_totals *tot)
{
	struct memleak_state *st = sc->priv;
	struct pm_out *out = &sc->out;
	char when[16];
	long i;

	pm_snoop_wall_clock(sc, now, when);
	if (!pm_out_is_json(out)) {
		pm_out_text(out, "[%s] Top %ld stacks with outstanding allocations:\n",
			    when, n);
		/* Largest last, as bcc prints them. */
		for (i = n - 1; i >= 0; i--)
			print_stack(sc, &rows[i], now);
		return;
	}
	pm_out_line_begin(out);
	pm_out_kv_str(out, "time", when);
	pm_out_kv_f64(out, "ts", 3, pm_snoop_elapsed(sc, now));
	pm_out_kv_str(out, "mode", st->kernel ? "kernel" : "user");
	pm_out_kv_str(out, "source", st->table ? "kernel_table" : "stream");
	pm_out_kv_bool(out, "final", last);
	pm_out_kv_u64(out, "outstanding_bytes", tot->bytes);
	pm_out_kv_u64(out, "outstanding_allocations", tot->count);
	if (tot->stream) {
		pm_out_kv_u64(out, "allocs", tot->stream->allocs);
		pm_out_kv_u64(out, "frees", tot->stream->frees_matched);
		pm_out_kv_u64(out, "frees_unknown", tot->stream->frees_unknown);
		pm_out_kv_u64(out, "replaced", tot->stream->replaced);
		pm_out_kv_u64(out, "filtered", st->filtered);
	} else {
		pm_out_kv_u64(out, "kernel_blocks_full", tot->kstat[0]);
		pm_out_kv_u64(out, "kernel_stacks_full", tot->kstat[1]);
		pm_out_kv_u64(out, "kernel_replaced", tot->kstat[2]);
	}
	if (!st->kernel)
		pm_out_kv_u64(out, "kernel_mappings", st->mappings);
	pm_out_kv_u64(out, "stacks_seen", tot->stacks);
	pm_out_list_begin(out, "stacks", NULL);
	for (i = 0; i < n; i++)
		print_stack(sc, &rows[i], now);
	pm_out_list_end(out);
	pm_out_line_end(out);
}

static int report_stream(struct pm_snoop_ctx *sc, bool last, uint64_t now)
{
	struct memleak_state *st = sc->priv;
	struct report_totals tot = { 0 };
	struct pm_leak_stats stats;
	struct pm_leak_row *rows;
	uint64_t max_time = 0;
	long n;

	if (opts.older_ms)
		max_time = now - opts.older_ms * 1000000ULL;
	n = pm_leaks_top(st->leaks, max_time, opts.top, &rows);
	if (n < 0) {
		fprintf(stderr, "memleak: out of memory\n");
		return 1;
	}
	pm_leaks_stats(st->leaks, &stats);
	tot.bytes = stats.outstanding_bytes;
	tot.count = stats.outstanding_count;
	tot.stacks = stats.stacks;
	tot.stream = &stats;
	print_report(sc, last, now, rows, n, &tot);
	free(rows);
	return 0;
}

/* The stat table's counters of what the kernel's table could not keep. */
static const char *const kstat_columns[] = {
	"blocks_full", "stacks_full", "replaced",
};

static int kernel_stats(struct memleak_state *st, uint64_t out[3],
			struct pm_error *err)
{
	struct pm_agg_set set = { 0 };
	const struct pm_agg_table *t;
	int ret, col;
	size_t i;

	ret = pm_ctl_agg_dump(st->ctl, st->stat_table, &set, err);
	if (ret < 0)
		return ret;
	t = pm_agg_find(&set, st->stat_table);
	for (i = 0; i < 3; i++) {
		col = t ? pm_agg_column(t, kstat_columns[i]) : -1;
		if (col < 0 || !t->nr_rows ||
		    (size_t)col >= t->rows[0].nr_values) {
			ret = pm_error_set(err, PM_ERR_ABI, EPROTO,
					   "the module's %s table has no %s column",
					   st->stat_table, kstat_columns[i]);
			break;
		}
		out[i] = t->rows[0].values[col];
	}
	pm_agg_set_free(&set);
	return ret;
}

/*
 * The kernel's table ("memleak" or "kmemleak_outstanding"): one row per
 * (tgid, stack) with outstanding blocks, keyed "tgid=T stack=S", values
 * bytes, allocations, oldest_ns, frames, f0... (docs/abi.md). The user
 * table holds the blocks of every process some session wants, so keep
 * ours; the kernel's rows are all tgid 0.
 */
static int report_table(struct pm_snoop_ctx *sc, bool last, uint64_t now)
{
	struct memleak_state *st = sc->priv;
	struct pm_agg_set set = { 0 };
	struct report_totals tot = { 0 };
	const struct pm_agg_table *t;
	struct pm_leak_row *rows;
	uint64_t kstat[3];
	struct pm_error err;
	size_t i, n = 0;
	int ret;

	pm_error_clear(&err);
	ret = pm_ctl_agg_dump(st->ctl, st->table_name, &set, &err);
	if (ret >= 0)
		ret = kernel_stats(st, kstat, &err);
	t = pm_agg_find(&set, st->table_name);
	if (ret >= 0 && (!t || pm_agg_column(t, "bytes") != 0 ||
			 pm_agg_column(t, "frames") != 3))
		ret = pm_error_set(&err, PM_ERR_ABI, EPROTO,
				   "the module's %s table has unexpected columns",
				   st->table_name);
	if (ret < 0) {
		fprintf(stderr, "memleak: cannot read the kernel's table: %s\n",
			err.msg);
		pm_agg_set_free(&set);
		return 1;
	}
	rows = calloc(t->nr_rows ? t->nr_rows : 1, sizeof(*rows));
	if (!rows) {
		fprintf(stderr, "memleak: out of memory\n");
		pm_agg_set_free(&set);
		return 1;
	}
	for (i = 0; i < t->nr_rows; i++) {
		const struct pm_agg_row *ar = &t->rows[i];
		unsigned int tgid, stack, skip = 0;
		uint64_t frames;

		if (sscanf(ar->key, "tgid=%u stack=%u", &tgid, &stack) != 2 ||
		    ar->nr_values < 4 ||
		    (!st->kernel && !pm_snoop_pid_wanted(sc, tgid)))
			continue;
		frames = ar->values[3];
		if (frames > ar->nr_values - 4)
			frames = ar->nr_values - 4;
		if (st->kernel)
			skip = kernel_trim(st, &ar->values[4],
					   (unsigned int)frames);
		rows[n++] = (struct pm_leak_row){
			.frames = &ar->values[4 + skip],
			.nr_frames = (unsigned int)frames - skip,
			.stack_space = tgid,
			.bytes = ar->values[0],
			.count = ar->values[1],
			.oldest_ns = ar->values[2],
		};
		tot.bytes += ar->values[0];
		tot.count += ar->values[1];
	}
	tot.stacks = n;
	pm_leak_rows_sort(rows, n);
	/* The group re-attached (its table emptied): count from there. */
	for (i = 0; i < 3; i++)
		tot.kstat[i] = kstat[i] >= st->kstat_base[i] ?
			       kstat[i] - st->kstat_base[i] : kstat[i];
	if (last && (tot.kstat[0] || tot.kstat[1]))
		fprintf(stderr, "memleak: the kernel's table had no room for %" PRIu64 " blocks and %" PRIu64 " stacks (module parameters %s_blocks, %s_stacks): those allocations are missing\n",
			tot.kstat[0], tot.kstat[1],
			st->kernel ? "kmemleak" : "memleak",
			st->kernel ? "kmemleak" : "memleak");
	print_report(sc, last, now, rows,
		     (long)(n < opts.top ? n : opts.top), &tot);
	free(rows);
	pm_agg_set_free(&set);
	return 0;
}

static int report(struct pm_snoop_ctx *sc, bool last)
{
	struct memleak_state *st = sc->priv;
	uint64_t now = pm_monotonic_ns();
	int ret;

	/* Once per report, not per frame: an exec or an exit since the last. */
	if (!st->kernel)
		refresh_all_maps(st, sc->cli);
	ret = st->table ? report_table(sc, last, now) :
			  report_stream(sc, last, now);
	if (ret)
		return ret;
	/*
	 * The command ended: stop after the next interval, so that the
	 * round before it has taken every record the command wrote.
	 */
	if (st->child_done)
		return 1;
	if (st->has_command && atomic_load(&st->child_exited))
		st->child_done = true;
	return 0;
}

/* User mode setup */

static const struct {
	const char *symbol;
	uint32_t role;
	uint32_t flags;
} alloc_functions[] = {
	{ "malloc", PERSECMON_ALLOC_MALLOC,
	  PERSECMON_UPROBE_ENTRY | PERSECMON_UPROBE_RETURN },
	{ "calloc", PERSECMON_ALLOC_CALLOC,
	  PERSECMON_UPROBE_ENTRY | PERSECMON_UPROBE_RETURN },
	{ "realloc", PERSECMON_ALLOC_REALLOC,
	  PERSECMON_UPROBE_ENTRY | PERSECMON_UPROBE_RETURN },
	{ "posix_memalign", PERSECMON_ALLOC_POSIX_MEMALIGN,
	  PERSECMON_UPROBE_ENTRY | PERSECMON_UPROBE_RETURN },
	{ "aligned_alloc", PERSECMON_ALLOC_ALIGNED_ALLOC,
	  PERSECMON_UPROBE_ENTRY | PERSECMON_UPROBE_RETURN },
	{ "memalign", PERSECMON_ALLOC_MEMALIGN,
	  PERSECMON_UPROBE_ENTRY | PERSECMON_UPROBE_RETURN },
	{ "valloc", PERSECMON_ALLOC_VALLOC,
	  PERSECMON_UPROBE_ENTRY | PERSECMON_UPROBE_RETURN },
	{ "pvalloc", PERSECMON_ALLOC_PVALLOC,
	  PERSECMON_UPROBE_ENTRY | PERSECMON_UPROBE_RETURN },
	{ "free", PERSECMON_ALLOC_FREE, PERSECMON_UPROBE_ENTRY },
};

#define NR_ALLOC_FUNCTIONS (sizeof(alloc_functions) / sizeof(alloc_functions[0]))

static void *watch_command(void *arg);

/*
 * The libc files to probe: -l, the one each -p process maps (reached
 * through /proc/PID/root, so a container's own), or, for -c, ours: the
 * command has not exec'd yet and uses the same.
 */
static int find_libcs(const struct memleak_state *st, const struct pm_cli *cli,
		      struct pm_elf_file_set *libs, struct pm_error *err)
{
	pid_t pids[PM_CLI_MAX_PIDS];
	char path[PATH_MAX];
	size_t i;
	int ret;

	if (opts.libc) {
		if (!realpath(opts.libc, path))
			return pm_error_set(err, PM_ERR_USAGE, errno, "%s: %s",
					    opts.libc, strerror(errno));
		ret = pm_elf_file_set_add(libs, path);
		if (ret < 0)
			return pm_error_set(err, PM_ERR_RUNTIME, -ret, "%s: %s",
					    path, strerror(-ret));
		return 0;
	}
	for (i = 0; i < cli->nr_pids; i++)
		pids[i] = st->has_command ? 0 : (pid_t)cli->pids[i];
	return pm_elf_file_set_add_libcs(libs, pids, cli->nr_pids, err);
}

/* The allocator functions of @path, appended to @targets. */
static int libc_targets(const char *path, struct pm_ctl_uprobe *targets,
			size_t *n, bool verbose, struct pm_error *err)
{
	size_t i, k, first = *n;
	struct pm_elf_sym sym;
	struct pm_elf *elf;
	int ret;

	ret = pm_elf_open(path, &elf, err);
	if (ret < 0)
		return ret;
	if (verbose)
		fprintf(stderr, "memleak: probing %s\n", path);
	for (i = 0; i < NR_ALLOC_FUNCTIONS; i++) {
		/* A libc without one of them (a minimal libc) still works. */
		if (pm_elf_symbol(elf, alloc_functions[i].symbol, &sym,
				  err) < 0) {
			if (!strcmp(alloc_functions[i].symbol, "malloc") ||
			    !strcmp(alloc_functions[i].symbol, "free")) {
				pm_elf_close(elf);
				return -ENOENT;
			}
			fprintf(stderr, "memleak: warning: %s\n", err->msg);
			pm_error_clear(err);
			continue;
		}
		/*
		 * Aliases (glibc's aligned_alloc is memalign): one probe per
		 * address, or both roles would fire for every call.
		 */
		for (k = first; k < *n; k++)
			if (targets[k].offset == sym.offset)
				break;
		if (k < *n) {
			if (verbose)
				fprintf(stderr, "memleak: %s is an alias of %s: traced as %s\n",
					alloc_functions[i].symbol,
					targets[k].name, targets[k].name);
			continue;
		}
		targets[(*n)++] = (struct pm_ctl_uprobe){
			.path = path,
			.offset = sym.offset,
			.role = alloc_functions[i].role,
			.flags = alloc_functions[i].flags,
			.name = alloc_functions[i].symbol,
		};
	}
	pm_elf_close(elf);
	return 0;
}

/* The table's control socket and its losses so far. */
static int setup_table(struct memleak_state *st, int verbose,
		       struct pm_error *err)
{
	int ret = pm_ctl_open(&st->ctl, verbose, err);

	return ret < 0 ? ret : kernel_stats(st, st->kstat_base, err);
}

/* Kernel mode: the session has the group (attached, its table empty). */
static int setup_kernel(struct pm_snoop_ctx *sc, struct pm_ctl *ctl,
			const struct pm_session_ref *session,
			struct pm_error *err)
{
	struct memleak_state *st = sc->priv;

	(void)ctl;
	(void)session;
	return st->table ? setup_table(st, sc->cli->verbose, err) : 0;
}

static int setup_uprobes(struct pm_snoop_ctx *sc, struct pm_ctl *ctl,
			 const struct pm_session_ref *session,
			 struct pm_error *err)
{
	struct pm_ctl_uprobe targets[PM_ELF_FILE_SET_MAX * NR_ALLOC_FUNCTIONS];
	struct memleak_state *st = sc->priv;
	struct pm_elf_file_set *libs;
	size_t l, n = 0;
	int ret;

	libs = calloc(1, sizeof(*libs));
	if (!libs)
		return pm_error_set(err, PM_ERR_RUNTIME, ENOMEM,
				    "out of memory");
	ret = find_libcs(st, sc->cli, libs, err);
	for (l = 0; ret >= 0 && l < libs->n; l++)
		ret = libc_targets(libs->file[l].path, targets, &n,
				   sc->cli->verbose, err);
	if (ret >= 0)
		ret = pm_ctl_uprobe_enable(ctl, "memleak", session, targets,
					   n, err);
	free(libs);
	if (ret >= 0 && st->table)
		ret = setup_table(st, sc->cli->verbose, err);
	if (ret < 0)
		return ret;
	if (!st->has_command) {
		/*
		 * The module describes a stack's mappings once, to the
		 * sessions that want its process when it is new: stacks made
		 * before this session joined (the global set or another
		 * session had the group) come with none. Read the mappings
		 * they were made in now, while each process lives; it may
		 * exit before the first report.
		 */
		refresh_all_maps(st, sc->cli);
		return 0;
	}
	/* Everything is in place: let the command exec. */
	if (pthread_create(&st->watcher, NULL, watch_command, st) != 0)
		return pm_error_set(err, PM_ERR_RUNTIME, EAGAIN,
				    "cannot start the command's watcher");
	st->watcher_running = true;
	sem_wait(&st->released);
	if (st->release_ret < 0) {
		*err = st->release_err;
		return st->release_ret;
	}
	return 0;
}

#define POLL_MAPS_NS	10000000L

static void refresh_maps(struct memleak_state *st)
{
	struct pm_usyms *us;

	pthread_mutex_lock(&st->lock);
	us = proc_syms(st, (uint32_t)st->procs_child_tgid);
	if (us)
		pm_usyms_refresh(us);
	pthread_mutex_unlock(&st->lock);
}

/* The -c command's tracer: see persecmon/child.h. */
static void *watch_command(void *arg)
{
	struct memleak_state *st = arg;
	const struct timespec period = { 0, POLL_MAPS_NS };
	struct pm_error warn;

	st->release_ret = pm_child_release(&st->cmd, &warn,
					     &st->release_err);
	sem_post(&st->released);
	if (st->release_ret < 0)
		return NULL;
	if (warn.kind != PM_ERR_NONE)
		fprintf(stderr, "persecmon memleak: warning: %s\n", warn.msg);
	while (!atomic_load(&st->watcher_stop)) {
		switch (pm_child_poll(&st->cmd)) {
		case PM_CHILD_EXEC:
		case PM_CHILD_EXITING:
			refresh_maps(st);
			pm_child_resume(&st->cmd);
			continue;
		case PM_CHILD_EXITED:
			atomic_store(&st->child_exited, true);
			return NULL;
		case PM_CHILD_RUNNING:
			break;
		}
		refresh_maps(st);
		nanosleep(&period, NULL);
	}
	/* Stopped first: ending this thread detaches, it runs on. */
	return NULL;
}

/* -s: the module parameter, set while running, restored after. */
static int sample_set(const char *param, uint64_t rate, uint64_t *old,
		      struct pm_error *err)
{
	char path[128], buf[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), SAMPLE_PARAM_DIR "%s", param);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return pm_error_set(err, errno == ENOENT ? PM_ERR_NO_MODULE :
				    PM_ERR_RUNTIME, errno, "%s: %s", path,
				    strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		*old = strtoull(buf, NULL, 10);
	}
	n = snprintf(buf, sizeof(buf), "%" PRIu64 "\n", rate);
	if (pwrite(fd, buf, (size_t)n, 0) != n) {
		int e = errno;

		close(fd);
		return pm_error_set(err, PM_ERR_RUNTIME, e, "writing %s: %s",
				    path, strerror(e));
	}
	close(fd);
	return 0;
}

int cmd_memleak(const char *name, int argc, char **argv)
{
	static const char *const kernel_groups[] = { "kmemleak", NULL };
	const struct pm_command cmd = {
		.name = name,
		.summary = "Show outstanding allocations by stack (kernel, or processes with -p/-c), like bcc memleak.",
		.common = PM_CLI_JSON | PM_CLI_PID | PM_CLI_DURATION |
			  PM_CLI_INTERVAL,
		.pid_help = "trace the libc allocations of these processes",
		.duration_help = "stop after SECONDS (then print a last report)",
		.options = memleak_options,
		.description = memleak_description,
		.examples = memleak_examples,
	};
	struct memleak_state st = {
		.cmd = { .gate = -1 },
		.lock = PTHREAD_MUTEX_INITIALIZER,
	};
	struct pm_snoop sn = {
		.tool = name,
		.record = on_record,
		.interval = report,
		.final_summary = true,
	};
	const char *param = NULL;
	uint64_t old_sample = 1;
	struct pm_error err;
	struct pm_cli cli;
	int exit_code;
	size_t i;
	int ret;

	memset(&opts, 0, sizeof(opts));
	opts.top = DEFAULT_TOP;
	if (!pm_cli_parse_main(&cmd, argc, argv, &cli, &exit_code))
		return exit_code;
	if (opts.command && cli.nr_pids) {
		fprintf(stderr, "%s: -c and -p cannot be combined\n", name);
		return PM_EXIT_USAGE;
	}
	if (opts.kernel && (opts.command || cli.nr_pids)) {
		fprintf(stderr, "%s: --kernel traces the kernel: no -p or -c with it\n",
			name);
		return PM_EXIT_USAGE;
	}
	if (opts.max_size && opts.max_size < opts.min_size) {
		fprintf(stderr, "%s: --max-size is below --min-size\n", name);
		return PM_EXIT_USAGE;
	}
	if (cli.interval == 0)
		cli.interval = DEFAULT_INTERVAL_S;
	pm_error_clear(&err);
	st.kernel = !opts.command && !cli.nr_pids;
	st.table = !opts.stream && !opts.older_ms && !opts.min_size &&
		   !opts.max_size;
	st.table_name = st.kernel ? "kmemleak_outstanding" : "memleak";
	st.stat_table = st.kernel ? "kmemleak" : "memleakstat";
	if (st.table)
		sn.quiet_groups = 1ULL << (st.kernel ? PERSECMON_GROUP_KMEMLEAK :
					   PERSECMON_GROUP_MEMLEAK);
	st.leaks = pm_leaks_new();
	if (!st.leaks) {
		fprintf(stderr, "%s: out of memory\n", name);
		return PM_EXIT_RUNTIME;
	}
	sn.device = opts.device;
	if (st.kernel) {
		ret = pm_ksyms_load(&st.ksyms, NULL, &err);
		if (ret < 0) {
			ret = pm_error_report(&err, name);
			goto out;
		}
		sn.groups = kernel_groups;
		sn.setup = setup_kernel;
		sn.what = "kernel allocations";
		param = "kmemleak_sample";
	} else {
		sn.setup = setup_uprobes;
		sn.what = "libc allocations";
		param = "memleak_sample";
		if (opts.command) {
			if (pm_child_start(&st.cmd, opts.command, &err) < 0) {
				ret = pm_error_report(&err, name);
				goto out;
			}
			st.has_command = true;
			st.procs_child_tgid = st.cmd.pid;
			sem_init(&st.released, 0, 0);
			cli.pids[0] = (uint32_t)st.cmd.pid;
			cli.nr_pids = 1;
		}
	}
	if (opts.sample > 1 &&
	    sample_set(param, opts.sample, &old_sample, &err) < 0) {
		ret = pm_error_report(&err, name);
		goto out;
	}
	ret = pm_snoop_run(&sn, &cli, &st);
	if (st.watcher_running) {
		atomic_store(&st.watcher_stop, true);
		pthread_join(st.watcher, NULL);
	}
	if (st.error)
		fprintf(stderr, "%s: out of memory keeping the allocations\n",
			name);
	if (opts.sample > 1 && sample_set(param, old_sample, &old_sample,
					  &err) < 0)
		fprintf(stderr, "%s: warning: %s\n", name, err.msg);
out:
	if (st.has_command && st.cmd.gate >= 0)
		pm_child_abandon(&st.cmd);
	else if (st.has_command && st.cmd.pid > 0)
		/* Stopped before the command ended: leave it running. */
		fprintf(stderr, "%s: command still running as pid %d\n", name,
			(int)st.cmd.pid);
	if (st.has_command)
		sem_destroy(&st.released);
	for (i = 0; i < st.nr_procs; i++)
		pm_usyms_close(st.procs[i].us);
	pm_usyms_cache_free();
	pm_ksyms_free(st.ksyms);
	pm_ctl_close(st.ctl);
	pm_leaks_destroy(st.leaks);
	if (ret == PM_EXIT_OK && st.error)
		ret = PM_EXIT_RUNTIME;
	return ret;
}
