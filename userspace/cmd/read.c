// SPDX-License-Identifier: GPL-2.0
/*
 * persecmon-read / persecmon read: open a session, enable groups for it,
 * stream its records merged by time, and account for every record on exit.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "persecmon/cgroup.h"
#include "persecmon/control.h"
#include "persecmon/decode.h"
#include "persecmon/error.h"
#include "persecmon/names.h"
#include "persecmon/output.h"
#include "persecmon/proc.h"
#include "persecmon/reader.h"
#include "persecmon/verify.h"

#define MAX_GROUPS		64
#define GROUP_NAME_MAX		32
/* Longest sleep between rounds when the device stays quiet. */
#define ROUND_INTERVAL_MS	250
/* Messages printed per kind before only counting them. */
#define MAX_REPORTS		50

struct group_list {
	size_t n;
	char name[MAX_GROUPS][GROUP_NAME_MAX];
};

struct read_opts {
	uint64_t type_mask;	/* 0: every type */
	struct group_list groups;
	bool quiet;
	bool wall_clock;
	bool verify;
	uint64_t expect_count;
	bool include_self;
	bool no_self;
	uint64_t cgroup_id;
	const char *device;
};

struct read_state {
	const char *prog;
	const struct read_opts *opts;
	const struct pm_cli *cli;
	struct pm_out out;
	struct pm_decode_ctx dctx;
	struct pm_comm_cache *comms;
	struct pm_verifier verifier;
	unsigned int nr_cpu_ids;
	uint64_t *lost_announced;	/* per CPU id */
	uint64_t type_records[PERSECMON_REC_TYPE_MAX + 1];
	uint64_t shown;
	uint64_t verify_reports;
	uint64_t corrupt_reports;
};

static int parse_types(const char *arg, void *target, char *errbuf,
		       size_t errlen)
{
	uint64_t *mask = target, m;
	char bad[64];

	if (pm_parse_name_list(arg, pm_type_parse, PERSECMON_REC_TYPE_MAX, &m,
			       bad, sizeof(bad)) < 0) {
		snprintf(errbuf, errlen,
			 "unknown record type '%s' (known: test, lost, clock, or a number 1-63)",
			 bad);
		return -1;
	}
	*mask |= m;
	return 0;
}

static int parse_groups(const char *arg, void *target, char *errbuf,
			size_t errlen)
{
	struct group_list *g = target;
	const char *p = arg;

	do {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (len == 0 || len >= GROUP_NAME_MAX) {
			snprintf(errbuf, errlen, "group names are 1 to %d characters",
				 GROUP_NAME_MAX - 1);
			return -1;
		}
		if (g->n == MAX_GROUPS) {
			snprintf(errbuf, errlen, "at most %d groups", MAX_GROUPS);
			return -1;
		}
		memcpy(g->name[g->n], p, len);
		g->name[g->n][len] = '\0';
		g->n++;
		p = comma ? comma + 1 : NULL;
	} while (p);
	return 0;
}

static struct read_opts opts;

static const struct pm_option read_options[] = {
	{ "type", 't', PM_OPT_CALLBACK, "TYPE[,TYPE...]",
	  "show only these record types (test, clock, type42, 42);\n"
	  "LOST records are always shown", &opts.type_mask, 0, 0,
	  parse_types },
	{ "group", 'g', PM_OPT_CALLBACK, "GROUP[,GROUP...]",
	  "enable these probe groups for this session (e.g. test);\n"
	  "default: the groups enabled globally at start", &opts.groups,
	  0, 0, parse_groups },
	{ "quiet", 'q', PM_OPT_FLAG, NULL,
	  "do not print records, only the summary", &opts.quiet, 0, 0, NULL },
	{ "timestamp", 'T', PM_OPT_FLAG, NULL,
	  "TIME column as wall-clock HH:MM:SS.us", &opts.wall_clock, 0, 0,
	  NULL },
	{ "verify", 0, PM_OPT_FLAG, NULL,
	  "check test-event integrity and seq accounting;\n"
	  "exit 6 on any violation", &opts.verify, 0, 0, NULL },
	{ "expect-count", 0, PM_OPT_UINT, "N",
	  "--verify: each (run, context, cpu) should deliver N test events",
	  &opts.expect_count, 1, UINT32_MAX, NULL },
	{ "include-self", 0, PM_OPT_FLAG, NULL,
	  "keep events caused by PerSecMon readers themselves",
	  &opts.include_self, 0, 0, NULL },
	{ "no-self", 0, PM_OPT_FLAG, NULL,
	  "drop events caused by PerSecMon readers (the kernel default)",
	  &opts.no_self, 0, 0, NULL },
	{ "cgroup", 0, PM_OPT_CALLBACK, "PATH|ID",
	  "only events of this cgroup v2 (directory, or id; kernel-side filter)",
	  &opts.cgroup_id, 0, 0, pm_cgroup_opt_parse },
	{ "device", 0, PM_OPT_STRING, "PATH",
	  "device to open (default " PERSECMON_DEVICE_PATH ")", &opts.device,
	  0, 0, NULL },
	{ 0 },
};

static const char read_description[] =
	"Opens a session on " PERSECMON_DEVICE_PATH ", enables probe groups for it,\n"
	"and prints its records merged across CPUs in time order (see\n"
	"docs/userspace.md, \"Ordering\"). Columns: TIME(s) since start, CPU,\n"
	"PID (thread), TGID (process), COMM (from /proc, '-' if gone or in\n"
	"interrupt context), TYPE, DETAILS (key=value, same keys as --json).\n"
	"\n"
	"With -p the kernel is asked to keep only those processes (SET_FILTER)\n"
	"and the reader filters again. Events of PerSecMon readers themselves\n"
	"are dropped unless --include-self.\n"
	"\n"
	"On exit (-d elapsed, Ctrl-C, SIGTERM) a summary goes to stderr: records\n"
	"read, LOST announcements and kernel drop counters (PERSECMON_IOC_STATS,\n"
	"including drops not yet announced) per CPU and per type. With --json\n"
	"it is one JSON object {\"summary\": ...}. \"Tracing...\" on stderr marks\n"
	"the moment the session is set up.\n";

static const char read_examples[] =
	"  persecmon-read -g test               # stream test events\n"
	"  persecmon-read -g test --json -d 5   # JSON lines for 5 seconds\n"
	"  persecmon-read -p 1234               # events of process 1234 only\n"
	"  persecmon-read -t test -T            # test events, wall-clock time\n"
	"  persecmon-read -g test -q --verify --expect-count 1000 -d 10\n"
	"                                       # check integrity, print summary\n";

static const char read_exit_status[] =
	"  0  success\n"
	"  1  runtime error (including unparseable data in the buffers)\n"
	"  2  usage error\n"
	"  3  persecmon module not loaded\n"
	"  4  permission denied (run as root)\n"
	"  5  the module's ABI major differs from this tool's\n"
	"  6  --verify found a violation\n";

static bool wanted(const struct read_state *st,
		   const struct persecmon_record *rec)
{
	size_t i;

	if (rec->type == PERSECMON_REC_LOST)
		return true;
	if (st->opts->type_mask) {
		if (!(st->opts->type_mask & (1ULL << rec->type)))
			return false;
	} else if (rec->type < PERSECMON_EV_TEST) {
		return rec->type == PERSECMON_REC_CLOCK && st->cli->verbose;
	}
	/* Stream records carry no process; -p is about events. */
	if (rec->type < PERSECMON_EV_TEST || st->cli->nr_pids == 0)
		return true;
	for (i = 0; i < st->cli->nr_pids; i++)
		if (rec->tgid == st->cli->pids[i])
			return true;
	return false;
}

static int on_record(void *ctx, const struct pm_ring_view *ring,
		     const struct persecmon_record *rec)
{
	struct read_state *st = ctx;

	st->type_records[rec->type]++;
	if (rec->type == PERSECMON_REC_LOST && ring->cpu < st->nr_cpu_ids)
		st->lost_announced[ring->cpu] +=
			((const struct persecmon_lost_record *)rec)->lost;
	else if (rec->type == PERSECMON_REC_CLOCK)
		pm_decode_clock_update(&st->dctx, rec);
	if (st->opts->verify)
		pm_verifier_record(&st->verifier, ring->cpu, rec);
	if (!st->opts->quiet && wanted(st, rec)) {
		pm_decode_record(&st->out, &st->dctx, rec);
		st->shown++;
	}
	return 0;
}

static void on_corrupt(void *ctx, const struct pm_ring_view *ring,
		       uint64_t pos, const char *why)
{
	struct read_state *st = ctx;

	if (st->corrupt_reports++ < MAX_REPORTS)
		fprintf(stderr, "%s: cpu %u: skipping unparseable data at byte %" PRIu64 ": %s\n",
			st->prog, ring->cpu, pos, why);
}

static void on_violation(void *ctx, const char *msg)
{
	struct read_state *st = ctx;

	if (st->verify_reports++ < MAX_REPORTS)
		fprintf(stderr, "%s: VERIFY: %s\n", st->prog, msg);
}

/* Groups for the session: -g, or else whatever is enabled globally. */
static int default_groups(struct pm_ctl *ctl, struct group_list *g,
			  const char *prog, struct pm_error *err)
{
	struct pm_status status;
	unsigned int bit;
	int ret;

	ret = pm_ctl_get_status(ctl, &status, err);
	if (ret < 0)
		return ret;
	for (bit = 0; bit < 64 && g->n < MAX_GROUPS; bit++) {
		char label[PM_LABEL_MAX];

		if (!(status.groups_global & (1ULL << bit)))
			continue;
		/* The label may be a static name rather than @label. */
		snprintf(g->name[g->n++], GROUP_NAME_MAX, "%s",
			 pm_group_label(bit, label, sizeof(label)));
	}
	pm_status_free(&status);
	if (g->n == 0)
		fprintf(stderr, "%s: warning: no group is enabled globally and none was given with -g: nothing will be recorded\n",
			prog);
	return 0;
}

static int setup_session(struct read_state *st, struct pm_reader *r,
			 struct group_list *groups, struct pm_error *err)
{
	const struct read_opts *o = st->opts;
	struct pm_session_ref session = {
		.id = r->info.session_id,
		.token = r->info.session_token,
	};
	struct pm_filter filter = {
		.tgids = st->cli->pids,
		.nr_tgids = st->cli->nr_pids,
		.cgroup_id = o->cgroup_id,
		.include_self = o->include_self,
	};
	struct pm_ctl *ctl;
	size_t i;
	int ret;

	ret = pm_ctl_open(&ctl, st->cli->verbose > 0, err);
	if (ret < 0)
		return ret;
	/* Filter first, so no unwanted record arrives once groups are on. */
	if (filter.nr_tgids || filter.cgroup_id || o->include_self ||
	    o->no_self) {
		ret = pm_ctl_set_filter(ctl, &session, &filter, err);
		if (ret < 0)
			goto out;
	}
	if (groups->n == 0) {
		ret = default_groups(ctl, groups, st->prog, err);
		if (ret < 0)
			goto out;
	}
	for (i = 0; i < groups->n; i++) {
		ret = pm_ctl_set_group(ctl, groups->name[i], true, &session,
				       err);
		if (ret < 0)
			goto out;
	}
out:
	pm_ctl_close(ctl);
	return ret;
}

static void print_summary(struct read_state *st, struct pm_reader *r,
			  const struct persecmon_cpu_stats *stats,
			  bool have_stats, double elapsed)
{
	uint64_t records = 0, lost = 0, dropped = 0, pending = 0, corrupt = 0;
	uint64_t dropped_by_type[PERSECMON_REC_TYPE_MAX + 1] = { 0 };
	char label[PM_LABEL_MAX];
	struct pm_out o;
	unsigned int i, t;

	pm_out_init(&o, stderr, st->out.format, st->cli->verbose > 0);
	for (i = 0; i < r->nr_rings; i++) {
		const struct pm_ring_view *v = &r->rings[i];

		records += v->records;
		lost += st->lost_announced[v->cpu];
		corrupt += v->corrupt_bytes;
		if (have_stats) {
			dropped += stats[i].dropped;
			pending += stats[i].dropped - stats[i].lost_reported;
			for (t = 0; t <= PERSECMON_REC_TYPE_MAX; t++)
				dropped_by_type[t] += stats[i].dropped_by_type[t];
		}
	}

	pm_out_block_begin(&o);
	pm_out_object_begin(&o, "summary");
	pm_out_kv_f64(&o, "duration_s", 3, elapsed);
	pm_out_kv_u64(&o, "records", records);
	pm_out_kv_u64(&o, "shown", st->shown);
	pm_out_kv_u64(&o, "lost_announced", lost);
	if (have_stats) {
		pm_out_kv_u64(&o, "dropped", dropped);
		pm_out_kv_u64(&o, "pending_drops", pending);
	}
	pm_out_kv_u64(&o, "corrupt_bytes", corrupt);

	pm_out_list_begin(&o, "cpus",
			  have_stats ?
			  "CPU  RECORDS      LOST_ANNOUNCED  DROPPED      PENDING_DROPS  CORRUPT_BYTES" :
			  "CPU  RECORDS      LOST_ANNOUNCED  CORRUPT_BYTES");
	for (i = 0; i < r->nr_rings; i++) {
		const struct pm_ring_view *v = &r->rings[i];

		pm_out_line_begin(&o);
		pm_out_col_u64(&o, "cpu", -4, v->cpu);
		pm_out_col_u64(&o, "records", -12, v->records);
		pm_out_col_u64(&o, "lost_announced", -15,
			       st->lost_announced[v->cpu]);
		if (have_stats) {
			pm_out_col_u64(&o, "dropped", -12, stats[i].dropped);
			pm_out_col_u64(&o, "pending_drops", -14,
				       stats[i].dropped - stats[i].lost_reported);
		}
		pm_out_col_u64(&o, "corrupt_bytes", 0, v->corrupt_bytes);
		if (have_stats) {
			pm_out_extra_u64(&o, "produced", stats[i].produced);
			pm_out_extra_u64(&o, "written", stats[i].written);
			pm_out_extra_u64(&o, "lost_reported",
					 stats[i].lost_reported);
		}
		pm_out_line_end(&o);
	}
	pm_out_list_end(&o);

	pm_out_list_begin(&o, "types", "TYPE     RECORDS      DROPPED");
	for (t = 1; t <= PERSECMON_REC_TYPE_MAX; t++) {
		if (!st->type_records[t] && !dropped_by_type[t])
			continue;
		pm_out_line_begin(&o);
		pm_out_col_str(&o, "type", -8,
			       pm_type_label(t, label, sizeof(label)));
		pm_out_col_u64(&o, "records", -12, st->type_records[t]);
		pm_out_col_u64(&o, "dropped", 0, dropped_by_type[t]);
		pm_out_line_end(&o);
	}
	pm_out_list_end(&o);

	if (st->opts->verify) {
		pm_out_object_begin(&o, "verify");
		pm_out_kv_bool(&o, "ok", st->verifier.violations == 0);
		pm_out_kv_u64(&o, "violations", st->verifier.violations);
		pm_out_kv_u64(&o, "test_events", st->verifier.test_events);
		pm_out_kv_u64(&o, "test_intact", st->verifier.test_intact);
		pm_out_object_end(&o);
	}
	pm_out_object_end(&o);
	pm_out_block_end(&o);
	pm_out_flush(&o);
}

/*
 * --verify: the seq checks cannot see drops after the last record read, so
 * finish by proving that nothing the kernel counted is missing: read, then
 * take the kernel's counters; once the records read equal the records
 * counted as written and every drop counted has been announced, the stream
 * is complete and the counters describe exactly what was read. Counters
 * taken before the read would let a record written in between (the module's
 * periodic clock record) arrive uncounted. Writers in flight get a few
 * retries.
 */
#define SETTLE_ATTEMPTS		20
#define SETTLE_PAUSE_NS		50000000L

static int settle(struct read_state *st, struct pm_reader *r,
		  struct persecmon_cpu_stats *stats, struct pm_error *err)
{
	const struct pm_consume_ops ops = {
		.record = on_record,
		.corrupt = on_corrupt,
	};
	const struct timespec pause = { .tv_nsec = SETTLE_PAUSE_NS };
	unsigned int attempt, i, cpu;
	bool complete = false;
	int ret;

	for (attempt = 0; attempt < SETTLE_ATTEMPTS && !complete; attempt++) {
		pm_reader_round(r, &ops, st);
		for (i = 0; i < r->nr_rings; i++) {
			ret = pm_reader_cpu_stats(r, r->rings[i].cpu, &stats[i],
						  err);
			if (ret < 0)
				return ret;
		}
		complete = true;
		for (i = 0; i < r->nr_rings; i++) {
			cpu = r->rings[i].cpu;
			if (r->rings[i].records != stats[i].written ||
			    st->lost_announced[cpu] < stats[i].lost_reported)
				complete = false;
		}
		if (!complete)
			nanosleep(&pause, NULL);
	}
	for (i = 0; i < r->nr_rings && !complete; i++) {
		cpu = r->rings[i].cpu;
		if (r->rings[i].records < stats[i].written)
			pm_verifier_violation(&st->verifier,
					      "cpu %u: the kernel wrote %llu records, only %" PRIu64 " arrived",
					      cpu,
					      (unsigned long long)stats[i].written,
					      r->rings[i].records);
		else if (r->rings[i].records > stats[i].written)
			pm_verifier_violation(&st->verifier,
					      "cpu %u: %" PRIu64 " records arrived, the kernel counts %llu written",
					      cpu, r->rings[i].records,
					      (unsigned long long)stats[i].written);
		if (st->lost_announced[cpu] < stats[i].lost_reported)
			pm_verifier_violation(&st->verifier,
					      "cpu %u: the kernel announced %llu drops, LOST records read add up to %" PRIu64,
					      cpu,
					      (unsigned long long)stats[i].lost_reported,
					      st->lost_announced[cpu]);
	}
	return 0;
}

static int stream(struct read_state *st, struct pm_reader *r,
		  struct pm_error *err)
{
	const struct pm_consume_ops ops = {
		.record = on_record,
		.corrupt = on_corrupt,
	};
	uint64_t start = pm_monotonic_ns();
	uint64_t deadline = st->cli->duration > 0 ?
			    start + (uint64_t)(st->cli->duration * 1e9) : 0;
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
		now = pm_monotonic_ns();
		if (pm_cli_stop_requested() || (deadline && now >= deadline)) {
			n = pm_reader_drain(r, &ops, st);
			if (n < 0)
				return pm_error_set(err, PM_ERR_RUNTIME, (int)-n,
						    "reading records failed: %s",
						    strerror((int)-n));
			return pm_out_flush(&st->out) < 0 ?
			       pm_error_set(err, PM_ERR_RUNTIME, EIO,
					    "cannot write the output: %s",
					    strerror(errno)) : 0;
		}
		if (deadline && (deadline - now) / 1000000 < (uint64_t)timeout)
			timeout = (int)((deadline - now) / 1000000) + 1;
		/*
		 * If the device said "readable" but the round found nothing,
		 * its idea of unread data lags ours: pause instead of spinning.
		 */
		if (device_said_ready && n == 0 && !pm_cli_sleep(0.01))
			return 0;
		w = pm_reader_wait(r, timeout, err);
		if (w < 0)
			return w;
		device_said_ready = w > 0;
	}
}

int cmd_read(const char *name, int argc, char **argv)
{
	const struct pm_command cmd = {
		.name = name,
		.summary = "Stream PerSecMon events as columns or JSON lines.",
		.common = PM_CLI_JSON | PM_CLI_PID | PM_CLI_DURATION,
		.pid_help = "only these processes (tgid); also filters in the kernel",
		.duration_help = "stop after SECONDS and print the summary",
		.options = read_options,
		.description = read_description,
		.examples = read_examples,
		.exit_status = read_exit_status,
	};
	struct read_state st = { .prog = name, .opts = &opts };
	struct persecmon_cpu_stats *stats = NULL;
	struct pm_reader *r = NULL;
	struct pm_cli cli;
	struct pm_error err;
	uint64_t *pending = NULL;
	bool have_stats = true, settled = false;
	uint64_t start, corrupt = 0;
	unsigned int i;
	int ret, exit_code = PM_EXIT_OK;

	memset(&opts, 0, sizeof(opts));
	pm_error_clear(&err);
	if (!pm_cli_parse_main(&cmd, argc, argv, &cli, &exit_code))
		return exit_code;
	if (opts.include_self && opts.no_self) {
		fprintf(stderr, "%s: --include-self and --no-self contradict each other\n",
			name);
		return PM_EXIT_USAGE;
	}
	if (opts.expect_count && !opts.verify) {
		fprintf(stderr, "%s: --expect-count needs --verify\n", name);
		return PM_EXIT_USAGE;
	}
	st.cli = &cli;

	ret = pm_reader_open(&r, opts.device, &err);
	if (ret < 0)
		return pm_error_report(&err, name);
	st.nr_cpu_ids = r->info.nr_cpu_ids;
	st.lost_announced = calloc(st.nr_cpu_ids, sizeof(*st.lost_announced));
	stats = calloc(r->nr_rings, sizeof(*stats));
	pending = calloc(st.nr_cpu_ids, sizeof(*pending));
	st.comms = malloc(sizeof(*st.comms));
	if (!st.lost_announced || !stats || !pending || !st.comms ||
	    (opts.verify &&
	     pm_verifier_init(&st.verifier, st.nr_cpu_ids,
			      (uint32_t)opts.expect_count, on_violation,
			      &st) < 0)) {
		pm_error_set(&err, PM_ERR_RUNTIME, ENOMEM, "out of memory");
		exit_code = pm_error_report(&err, name);
		goto out;
	}
	pm_comm_cache_init(st.comms, NULL);
	pm_out_init(&st.out, stdout, cli.json ? PM_OUT_JSON : PM_OUT_TEXT,
		    cli.verbose > 0);
	start = pm_monotonic_ns();
	st.dctx.base_ns = start;
	st.dctx.have_realtime = true;
	st.dctx.realtime_offset_ns = (int64_t)(pm_realtime_ns() - start);
	st.dctx.wall_clock = opts.wall_clock;
	st.dctx.comms = st.comms;

	if (cli.verbose)
		fprintf(stderr, "%s: module %s, ABI %u.%u, session %u, %u CPU buffers of %llu bytes\n",
			name, (const char *)r->info.module_version,
			r->info.abi_major, r->info.abi_minor,
			r->info.session_id, r->nr_rings,
			(unsigned long long)r->info.data_size);

	pm_cli_catch_stop_signals();
	ret = setup_session(&st, r, &opts.groups, &err);
	if (ret < 0) {
		exit_code = pm_error_report(&err, name);
		goto out;
	}
	fprintf(stderr, "Tracing session %u", r->info.session_id);
	for (i = 0; i < opts.groups.n; i++)
		fprintf(stderr, "%s%s", i ? "," : " (groups ",
			opts.groups.name[i]);
	fprintf(stderr, "%s... Hit Ctrl-C to end.\n", opts.groups.n ? ")" : "");
	if (!opts.quiet)
		pm_decode_header(&st.out, &st.dctx);

	ret = stream(&st, r, &err);
	if (ret < 0) {
		exit_code = pm_error_report(&err, name);
		/* Still account for what was read. */
	}

	if (opts.verify && exit_code == PM_EXIT_OK) {
		if (settle(&st, r, stats, &err) < 0) {
			exit_code = pm_error_report(&err, name);
			have_stats = false;
		} else {
			settled = true;
		}
		pm_out_flush(&st.out);
	}
	for (i = 0; i < r->nr_rings; i++) {
		unsigned int cpu = r->rings[i].cpu;

		if (have_stats && !settled &&
		    pm_reader_cpu_stats(r, cpu, &stats[i], &err) < 0) {
			fprintf(stderr, "%s: warning: %s; drop counters are incomplete\n",
				name, err.msg);
			have_stats = false;
		}
		if (have_stats)
			pending[cpu] = stats[i].dropped - stats[i].lost_reported;
		corrupt += r->rings[i].corrupt_events;
	}
	if (opts.verify)
		pm_verifier_finish(&st.verifier, have_stats ? pending : NULL);
	print_summary(&st, r, stats, have_stats,
		      (double)(pm_monotonic_ns() - start) / 1e9);
	if (st.verify_reports > MAX_REPORTS)
		fprintf(stderr, "%s: %" PRIu64 " more verification messages not shown\n",
			name, st.verify_reports - MAX_REPORTS);
	if (exit_code == PM_EXIT_OK && opts.verify &&
	    (st.verifier.violations || corrupt))
		exit_code = PM_EXIT_VERIFY;
	else if (exit_code == PM_EXIT_OK && corrupt)
		exit_code = PM_EXIT_RUNTIME;
out:
	if (opts.verify)
		pm_verifier_free(&st.verifier);
	free(st.comms);
	free(pending);
	free(stats);
	free(st.lost_announced);
	pm_reader_close(r);
	return exit_code;
}
