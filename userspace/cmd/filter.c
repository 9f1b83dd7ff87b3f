// SPDX-License-Identifier: GPL-2.0
/*
 * persecmon filter: show or set the global filter, which limits the
 * always-on aggregates to some processes (SET_FILTER without a session).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "persecmon/cgroup.h"
#include "persecmon/control.h"
#include "persecmon/error.h"
#include "persecmon/output.h"

static const char filter_description[] =
	"The global filter limits the in-kernel aggregates (vfsstat, vfs_latency,\n"
	"the vfs, opens, block and tcpconnect tables, dnsstat, and the blocks the\n"
	"global memleak set keeps) to the processes it names: by tgid (-p), by\n"
	"cgroup v2 (--cgroup), or both. An event counts when its process passes:\n"
	"the submitter of a block request, the caller of connect(). Counters\n"
	"that describe the probes themselves (hits, misses, full tables,\n"
	"memleakstat, kmemleak) still count everything, and sessions\n"
	"(persecmon-read, the snoop tools) keep their own filters.\n"
	"\n"
	"Without options, prints the filter. -p and --cgroup replace the whole\n"
	"filter; --clear removes it. The filter stays until changed, like the\n"
	"global set (persecmon enable), unless -d limits it: then the previous\n"
	"filter comes back on expiry or Ctrl-C. A pid must name a running\n"
	"process; it is kept as the initial pid namespace's number, so after the\n"
	"process exits, a new process given the same pid would pass.\n";

static const char filter_examples[] =
	"  persecmon filter                               # show the filter\n"
	"  persecmon filter -p 1234,1240                  # count only these processes\n"
	"  persecmon filter --cgroup /sys/fs/cgroup/system.slice/nginx.service\n"
	"  persecmon filter -p 1234 -d 60                 # for one minute\n"
	"  persecmon filter --clear                       # count every process again\n";

struct filter_opts {
	uint64_t cgroup_id;
	bool clear;
};

static void print_filter(struct pm_out *o, const char *action,
			 const struct pm_status *st)
{
	bool json = pm_out_is_json(o);

	/* JSON: [] and 0 mean any; text says so. */
	pm_out_line_begin(o);
	pm_out_kv_str(o, "action", action);
	pm_out_kv_bool(o, "filtered", st->have & PM_ST_GLOBAL_FILTER);
	if (json || st->nr_filter_tgids)
		pm_out_kv_u32list(o, "tgids", st->filter_tgids,
				  st->nr_filter_tgids);
	else
		pm_out_kv_str(o, "tgids", "any");
	if (json || st->filter_cgroup_id)
		pm_out_kv_u64(o, "cgroup_id", st->filter_cgroup_id);
	else
		pm_out_kv_str(o, "cgroup_id", "any");
	pm_out_line_end(o);
	pm_out_flush(o);
}

static int show(struct pm_ctl *ctl, struct pm_out *o, const char *action,
		struct pm_status *st, struct pm_error *err)
{
	memset(st, 0, sizeof(*st));
	if (pm_ctl_get_status(ctl, st, err) < 0)
		return -1;
	if (!(st->have & PM_ST_ABI) || st->abi_major != PERSECMON_ABI_MAJOR ||
	    st->abi_minor < 11) {
		pm_error_set(err, PM_ERR_ABI, EPROTO,
			     "the module (ABI %" PRIu32 ".%" PRIu32
			     ") has no global filter; it came in ABI 1.11",
			     st->abi_major, st->abi_minor);
		pm_status_free(st);
		return -EPROTO;
	}
	if (o)
		print_filter(o, action, st);
	return 0;
}

static int set(struct pm_ctl *ctl, const uint32_t *tgids, size_t nr_tgids,
	       uint64_t cgroup_id, struct pm_error *err)
{
	struct pm_filter f = {
		.tgids = tgids,
		.nr_tgids = nr_tgids,
		.cgroup_id = cgroup_id,
	};

	return pm_ctl_set_filter(ctl, NULL, &f, err);
}

int cmd_filter(const char *name, int argc, char **argv)
{
	static struct filter_opts opts;
	static const struct pm_option options[] = {
		{ "cgroup", 0, PM_OPT_CALLBACK, "PATH|ID",
		  "only this cgroup v2 (directory, or id)",
		  &opts.cgroup_id, 0, 0, pm_cgroup_opt_parse },
		{ "clear", 0, PM_OPT_FLAG, NULL,
		  "remove the filter: count every process",
		  &opts.clear, 0, 0, NULL },
		{ 0 }
	};
	const struct pm_command cmd = {
		.name = name,
		.summary = "Show or set the global filter of the aggregates.",
		.common = PM_CLI_JSON | PM_CLI_PID | PM_CLI_DURATION,
		.pid_help = "count only these processes (tgids)",
		.duration_help = "keep the new filter for SECONDS (or until\n"
				 "Ctrl-C), then put the previous one back",
		.options = options,
		.description = filter_description,
		.examples = filter_examples,
	};
	struct pm_status before = { 0 }, after = { 0 };
	struct pm_ctl *ctl = NULL;
	struct pm_error err;
	struct pm_out o;
	struct pm_cli cli;
	bool change;
	int exit_code = PM_EXIT_OK;

	memset(&opts, 0, sizeof(opts));
	pm_error_clear(&err);
	if (!pm_cli_parse_main(&cmd, argc, argv, &cli, &exit_code))
		return exit_code;
	change = opts.clear || opts.cgroup_id || cli.nr_pids;
	if (opts.clear && (opts.cgroup_id || cli.nr_pids)) {
		fprintf(stderr, "%s: --clear takes neither -p nor --cgroup\n",
			name);
		return PM_EXIT_USAGE;
	}
	if (cli.duration > 0 && !change) {
		fprintf(stderr, "%s: -d needs a filter to set (-p, --cgroup or --clear)\n",
			name);
		return PM_EXIT_USAGE;
	}
	pm_out_init(&o, stdout, cli.json ? PM_OUT_JSON : PM_OUT_TEXT,
		    cli.verbose > 0);
	if (pm_ctl_open(&ctl, cli.verbose > 0, &err) < 0)
		return pm_error_report(&err, name);
	if (show(ctl, change ? NULL : &o, "show", &before, &err) < 0)
		goto fail;
	if (!change)
		goto out;

	pm_cli_catch_stop_signals();
	if (set(ctl, cli.pids, cli.nr_pids, opts.cgroup_id, &err) < 0 ||
	    show(ctl, &o, opts.clear ? "clear" : "set", &after, &err) < 0)
		goto fail;
	if (cli.duration > 0) {
		/* Put the previous filter back on expiry and Ctrl-C alike. */
		pm_cli_sleep(cli.duration);
		pm_status_free(&after);
		if (set(ctl, before.filter_tgids, before.nr_filter_tgids,
			before.filter_cgroup_id, &err) < 0 ||
		    show(ctl, &o, "restore", &after, &err) < 0)
			goto fail;
	}
	goto out;
fail:
	exit_code = pm_error_report(&err, name);
out:
	pm_status_free(&before);
	pm_status_free(&after);
	pm_ctl_close(ctl);
	return exit_code;
}
