// SPDX-License-Identifier: GPL-2.0
/*
 * persecmon gethostlatency: latency of libc name lookups (getaddrinfo,
 * gethostbyname, gethostbyname2), one line per lookup in the columns of
 * bcc's gethostlatency, from the "dns" group's PERSECMON_EV_DNS records.
 *
 * The kernel does no ELF parsing: this command finds the functions in
 * libc (lib/elfsym.c) and sends their file offsets as uprobe targets
 * (PERSECMON_CMD_UPROBE_ENABLE) from the snoop loop's setup hook, which
 * also enables the group for this session.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "persecmon/elfsym.h"
#include "persecmon/error.h"
#include "persecmon/latstat.h"
#include "persecmon/names.h"
#include "persecmon/snoop.h"

#define LDCACHE_PATH	"/etc/ld.so.cache"
#define LIBC_SONAME	"libc.so.6"

struct gethostlatency_opts {
	const char *libc;
	const char *device;
	bool summary;
	bool quiet;
};

/* -s: every lookup's latency by host and by process, for the summary. */
struct lookup_stats {
	struct pm_latstat hosts;
	struct pm_latstat procs;
	uint64_t lost;		/* samples left out for want of memory */
};

static struct gethostlatency_opts opts;

static const struct pm_option gethostlatency_options[] = {
	{ "libc", 'l', PM_OPT_STRING, "LIBC",
	  "probe this libc (default: the one this command runs with)",
	  &opts.libc, 0, 0, NULL },
	{ "device", 0, PM_OPT_STRING, "PATH",
	  "device to open (default " PERSECMON_DEVICE_PATH ")", &opts.device,
	  0, 0, NULL },
	{ "summary", 's', PM_OPT_FLAG, NULL,
	  "at the end, latency by host and by process (count, failed, p50, p99, max)",
	  &opts.summary, 0, 0, NULL },
	{ "quiet", 'q', PM_OPT_FLAG, NULL,
	  "with -s: no line per lookup, only the summary", &opts.quiet, 0, 0,
	  NULL },
	{ 0 },
};

static const char gethostlatency_description[] =
	"Shows the latency of name lookups through libc's getaddrinfo(),\n"
	"gethostbyname() and gethostbyname2(), system wide, with uprobes on\n"
	"the three functions (the \"dns\" probe group, enabled for this\n"
	"command's session only). Columns: TIME (when the lookup returned),\n"
	"PID, COMM, LATms (call to return, milliseconds), HOST (the name asked\n"
	"for; a cut name ends with \" ...\"). --json adds the function, its\n"
	"return value (getaddrinfo: 0 or EAI_* code; gethostbyname*: 0 or -1\n"
	"for NULL), the thread id and exact nanoseconds.\n"
	"\n"
	"The probes go on a libc file, and every process using that file\n"
	"takes them. Without -p it is the file this command has mapped\n"
	"(/proc/self/maps), else " LIBC_SONAME " from " LDCACHE_PATH ".\n"
	"With -p, the libc each of those processes maps, reached through\n"
	"/proc/PID/root (a container's own libc; a file deleted since it was\n"
	"mapped through /proc/PID/map_files). -l names the file instead.\n"
	"Programs that use another file (static binaries, other libcs, Go's\n"
	"own resolver) are not seen.\n"
	"\n"
	"-s ends with two tables, by HOST and by process (PID COMM): COUNT\n"
	"lookups, FAILED ones (nonzero return), and P50ms, P99ms, MAXms over\n"
	"every lookup seen (exact nearest-rank percentiles, not histogram\n"
	"buckets). With --json they are lines {\"summary\": \"host\" or\n"
	"\"process\", ...}.\n";

static const char gethostlatency_examples[] =
	"  persecmon gethostlatency             # trace every lookup\n"
	"  persecmon gethostlatency -p 1234     # only process 1234 (its libc)\n"
	"  persecmon gethostlatency --json -d 5 # JSON lines for 5 seconds\n"
	"  persecmon gethostlatency -s -q -d 60 # p50/p99 by host over a minute\n"
	"  persecmon gethostlatency -l /srv/ct/lib/x86_64-linux-gnu/libc.so.6\n";

static const struct {
	const char *symbol;
	uint32_t role;
} dns_functions[] = {
	{ "getaddrinfo", PERSECMON_DNS_GETADDRINFO },
	{ "gethostbyname", PERSECMON_DNS_GETHOSTBYNAME },
	{ "gethostbyname2", PERSECMON_DNS_GETHOSTBYNAME2 },
};

#define NR_DNS_FUNCTIONS (sizeof(dns_functions) / sizeof(dns_functions[0]))

/* The libc files to probe: -l, the -p processes' own, or ours. */
static int find_libcs(const struct pm_cli *cli, struct pm_elf_file_set *libs,
		      struct pm_error *err)
{
	char path[PATH_MAX];
	size_t i;
	int ret;

	if (opts.libc) {
		if (!realpath(opts.libc, path))
			return pm_error_set(err, PM_ERR_RUNTIME, errno, "%s: %s",
					    opts.libc, strerror(errno));
		goto add;
	}
	if (cli->nr_pids) {
		pid_t pids[PM_CLI_MAX_PIDS];

		for (i = 0; i < cli->nr_pids; i++)
			pids[i] = (pid_t)cli->pids[i];
		return pm_elf_file_set_add_libcs(libs, pids, cli->nr_pids,
						 err);
	}
	if (pm_elf_mapped_libc(0, path, sizeof(path)) < 0) {
		ret = pm_elf_ldcache_lookup(LDCACHE_PATH, LIBC_SONAME, path,
					    sizeof(path));
		if (ret < 0)
			return pm_error_set(err, PM_ERR_RUNTIME, -ret,
					    "cannot find %s (not mapped, not in %s: %s); use -l LIBC",
					    LIBC_SONAME, LDCACHE_PATH,
					    strerror(-ret));
	}
add:
	ret = pm_elf_file_set_add(libs, path);
	if (ret < 0)
		return pm_error_set(err, PM_ERR_RUNTIME, -ret, "%s: %s", path,
				    strerror(-ret));
	return 0;
}

/* Resolves the three functions in each libc and attaches the dns group. */
static int setup_uprobes(struct pm_snoop_ctx *sc, struct pm_ctl *ctl,
			 const struct pm_session_ref *session,
			 struct pm_error *err)
{
	struct pm_ctl_uprobe targets[PM_ELF_FILE_SET_MAX * NR_DNS_FUNCTIONS];
	struct pm_elf_file_set *libs;
	size_t i, l, n = 0;
	struct pm_elf_sym sym;
	struct pm_elf *elf;
	int ret;

	libs = calloc(1, sizeof(*libs));
	if (!libs)
		return pm_error_set(err, PM_ERR_RUNTIME, ENOMEM,
				    "out of memory");
	ret = find_libcs(sc->cli, libs, err);
	for (l = 0; ret >= 0 && l < libs->n; l++) {
		ret = pm_elf_open(libs->file[l].path, &elf, err);
		if (ret < 0)
			break;
		if (sc->cli->verbose)
			fprintf(stderr, "gethostlatency: probing %s\n",
				libs->file[l].path);
		for (i = 0; i < NR_DNS_FUNCTIONS; i++) {
			ret = pm_elf_symbol(elf, dns_functions[i].symbol, &sym,
					    err);
			if (ret < 0)
				break;
			targets[n++] = (struct pm_ctl_uprobe){
				.path = libs->file[l].path,
				.offset = sym.offset,
				.role = dns_functions[i].role,
				.flags = PERSECMON_UPROBE_ENTRY |
					 PERSECMON_UPROBE_RETURN,
				.name = dns_functions[i].symbol,
			};
		}
		pm_elf_close(elf);
	}
	if (ret >= 0)
		ret = pm_ctl_uprobe_enable(ctl, "dns", session, targets, n,
					   err);
	free(libs);
	return ret < 0 ? ret : 0;
}

static void print_header(struct pm_snoop_ctx *sc)
{
	pm_out_header(&sc->out, "%-9s %-7s %-16s %10s %s", "TIME", "PID",
		      "COMM", "LATms", "HOST");
}

static void count_lookup(struct lookup_stats *st,
			 const struct persecmon_record *rec, const char *host,
			 const char *comm)
{
	const struct persecmon_dns_event *ev = (const void *)rec;
	char proc[32 + PERSECMON_COMM_LEN];

	snprintf(proc, sizeof(proc), "%u %s", rec->tgid, comm);
	if (pm_latstat_add(&st->hosts, host, ev->latency_ns, ev->ret) < 0 ||
	    pm_latstat_add(&st->procs, proc, ev->latency_ns, ev->ret) < 0)
		st->lost++;
}

static void print_table(struct pm_out *out, struct pm_latstat *st,
			bool by_host)
{
	struct pm_latstat_row *rows;
	size_t i, n;

	rows = pm_latstat_rows(st, &n);
	if (!pm_out_is_json(out)) {
		pm_out_text(out, "\n");
		if (by_host)
			pm_out_text(out, "%-8s %6s %9s %9s %9s  %s\n", "COUNT",
				    "FAILED", "P50ms", "P99ms", "MAXms",
				    "HOST");
		else
			pm_out_text(out, "%-8s %6s %9s %9s %9s  %-7s %s\n",
				    "COUNT", "FAILED", "P50ms", "P99ms",
				    "MAXms", "PID", "COMM");
	}
	for (i = 0; i < n; i++) {
		const struct pm_latstat_row *r = &rows[i];

		pm_out_line_begin(out);
		if (pm_out_is_json(out)) {
			unsigned long pid = 0;
			char *comm = NULL;

			pm_out_kv_str(out, "summary",
				      by_host ? "host" : "process");
			if (by_host) {
				pm_out_kv_str(out, "host", r->key);
			} else {
				pid = strtoul(r->key, &comm, 10);
				pm_out_kv_u64(out, "pid", pid);
				pm_out_kv_str(out, "comm",
					      *comm ? comm + 1 : comm);
			}
			pm_out_kv_u64(out, "count", r->count);
			pm_out_kv_u64(out, "failed", r->failed);
			pm_out_kv_u64(out, "p50_ns", r->p50_ns);
			pm_out_kv_u64(out, "p99_ns", r->p99_ns);
			pm_out_kv_u64(out, "max_ns", r->max_ns);
			pm_out_kv_u64(out, "total_ns", r->total_ns);
		} else {
			char first[16];
			const char *rest = r->key;

			pm_out_text(out, "%-8llu %6llu %9.2f %9.2f %9.2f  ",
				    (unsigned long long)r->count,
				    (unsigned long long)r->failed,
				    (double)r->p50_ns / 1e6,
				    (double)r->p99_ns / 1e6,
				    (double)r->max_ns / 1e6);
			if (by_host) {
				pm_out_text(out, "%s", r->key);
			} else {
				size_t len = strcspn(r->key, " ");

				snprintf(first, sizeof(first), "%.*s",
					 (int)len, r->key);
				rest += len + (r->key[len] == ' ');
				pm_out_text(out, "%-7s %s", first, rest);
			}
		}
		pm_out_line_end(out);
	}
	free(rows);
}

/* At the end (pm_snoop's final call): the -s tables. */
static int print_summary(struct pm_snoop_ctx *sc, bool last)
{
	struct lookup_stats *st = sc->priv;

	if (!last)
		return 0;
	print_table(&sc->out, &st->hosts, true);
	print_table(&sc->out, &st->procs, false);
	if (st->lost)
		fprintf(stderr,
			"gethostlatency: %llu lookups left out of the summary (out of memory)\n",
			(unsigned long long)st->lost);
	return 0;
}

static int print_lookup(struct pm_snoop_ctx *sc,
			const struct persecmon_record *rec)
{
	const struct persecmon_dns_event *ev = (const void *)rec;
	bool truncated = rec->flags & PERSECMON_RF_TRUNCATED;
	char host[PERSECMON_RECORD_MAX + 1];
	char comm[PERSECMON_COMM_LEN + 1];
	const char *func = pm_dns_func_name(ev->func);
	struct pm_out *out = &sc->out;
	char when[16], func_buf[16];

	if (rec->type != PERSECMON_EV_DNS)
		return 0;
	pm_snoop_comm(comm, ev->comm);
	/* pm_record_check() bounded host_len by the record size. */
	memcpy(host, ev->host, ev->host_len);
	host[ev->host_len] = '\0';
	if (opts.summary)
		count_lookup(sc->priv, rec, host, comm);
	if (opts.quiet)
		return 0;
	if (!func) {
		snprintf(func_buf, sizeof(func_buf), "func%u", ev->func);
		func = func_buf;
	}
	pm_snoop_wall_clock(sc, rec->time_ns, when);

	pm_out_line_begin(out);
	pm_out_col_str(out, "time", -9, when);
	pm_out_col_u64(out, "pid", -7, rec->tgid);
	pm_out_col_str(out, "comm", -16, comm);
	if (pm_out_is_json(out)) {
		pm_out_kv_f64(out, "latency_ms", 3,
			      (double)ev->latency_ns / 1e6);
		pm_out_kv_str(out, "host", host);
		pm_out_kv_bool(out, "truncated", truncated);
		pm_out_kv_bool(out, "host_null",
			       ev->flags & PERSECMON_DNS_HOST_NULL);
		pm_out_kv_bool(out, "host_fault",
			       ev->flags & PERSECMON_DNS_HOST_FAULT);
		pm_out_kv_str(out, "func", func);
		pm_out_kv_i64(out, "ret", ev->ret);
		pm_out_kv_u64(out, "latency_ns", ev->latency_ns);
		pm_out_kv_u64(out, "tid", rec->pid);
		pm_out_kv_u64(out, "uid", rec->uid);
		pm_out_kv_u64(out, "time_ns", rec->time_ns);
	} else {
		/* bcc: "%-9s %-7d %-16s %10.2f %s". */
		pm_out_text(out, " %10.2f %s%s", (double)ev->latency_ns / 1e6,
			    host, truncated ? " ..." : "");
	}
	pm_out_line_end(out);
	return 0;
}

int cmd_gethostlatency(const char *name, int argc, char **argv)
{
	static const char *const groups[] = { "dns", NULL };
	const struct pm_command cmd = {
		.name = name,
		.summary = "Show the latency of libc name lookups (getaddrinfo, gethostbyname*).",
		.common = PM_CLI_JSON | PM_CLI_PID | PM_CLI_DURATION,
		.pid_help = "only lookups by these processes",
		.duration_help = "stop after SECONDS",
		.options = gethostlatency_options,
		.description = gethostlatency_description,
		.examples = gethostlatency_examples,
	};
	struct pm_snoop sn = {
		.tool = name,
		.what = "getaddrinfo/gethostbyname[2] calls",
		.groups = groups,
		.setup = setup_uprobes,
		.header = print_header,
		.record = print_lookup,
	};
	struct lookup_stats stats;
	struct pm_cli cli;
	int exit_code;

	memset(&opts, 0, sizeof(opts));
	if (!pm_cli_parse_main(&cmd, argc, argv, &cli, &exit_code))
		return exit_code;
	if (opts.quiet && !opts.summary) {
		fprintf(stderr, "%s: -q only goes with -s (it would print nothing)\n",
			name);
		return PM_EXIT_USAGE;
	}
	sn.device = opts.device;
	if (opts.summary) {
		sn.interval = print_summary;
		sn.final_summary = true;
	}
	if (opts.quiet)
		sn.header = NULL;
	memset(&stats, 0, sizeof(stats));
	pm_latstat_init(&stats.hosts);
	pm_latstat_init(&stats.procs);
	exit_code = pm_snoop_run(&sn, &cli, &stats);
	pm_latstat_free(&stats.hosts);
	pm_latstat_free(&stats.procs);
	return exit_code;
}
