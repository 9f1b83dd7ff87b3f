// SPDX-License-Identifier: GPL-2.0
/* persecmon status: what the module is doing, from GET_STATUS. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "persecmon/control.h"
#include "persecmon/error.h"
#include "persecmon/names.h"
#include "persecmon/output.h"
#include "persecmon/proc.h"

static const char status_description[] =
	"Asks the module (generic netlink GET_STATUS) for its version and ABI,\n"
	"buffer size, open sessions, the probe groups enabled globally and the\n"
	"groups attached (enabled globally or by any session), the global\n"
	"filter (persecmon filter: 0 and - mean any), and per-CPU\n"
	"totals over all sessions: records produced, written, dropped (buffer\n"
	"full) and consumed by readers, and every probe of every group: its\n"
	"mechanism, whether it is attached (ERROR: -errno of a failed attach),\n"
	"HITS and MISSED (kprobe recursion misses plus kretprobe instances\n"
	"that ran out). With an interval, repeats.\n";

static const char status_examples[] =
	"  persecmon status                # one snapshot\n"
	"  persecmon status --json         # the same as one JSON object\n"
	"  persecmon status 1 10           # every second, ten times\n"
	"  persecmon status -p 1234        # only sessions owned by process 1234\n";

static bool pid_wanted(const struct pm_cli *cli, uint32_t tgid)
{
	size_t i;

	if (cli->nr_pids == 0)
		return true;
	for (i = 0; i < cli->nr_pids; i++)
		if (cli->pids[i] == tgid)
			return true;
	return false;
}

static void print_groups(struct pm_out *o, const char *key, uint64_t mask)
{
	char storage[PM_MASK_NAMES_MAX][PM_LABEL_MAX];
	const char *names[PM_MASK_NAMES_MAX];
	size_t n = pm_mask_labels(mask, pm_group_label, storage, names);

	pm_out_kv_strlist(o, key, names, n);
}

static void print_status(struct pm_out *o, const struct pm_status *st,
			 const struct pm_cli *cli)
{
	size_t i;

	pm_out_block_begin(o);
	pm_out_extra_u64(o, "realtime_ns", pm_realtime_ns());
	if (st->have & PM_ST_MODULE_VERSION)
		pm_out_kv_str(o, "module_version", st->module_version);
	if (st->have & PM_ST_ABI) {
		pm_out_kv_u64(o, "abi_major", st->abi_major);
		pm_out_kv_u64(o, "abi_minor", st->abi_minor);
		pm_out_kv_bool(o, "abi_compatible",
			       st->abi_major == PERSECMON_ABI_MAJOR);
	}
	if (st->have & PM_ST_DATA_SIZE)
		pm_out_kv_u64(o, "data_size", st->data_size);
	if (st->have & PM_ST_SESSIONS)
		pm_out_kv_u64(o, "sessions", st->sessions);
	if (st->have & PM_ST_MAX_SESSIONS)
		pm_out_kv_u64(o, "max_sessions", st->max_sessions);
	if (st->have & PM_ST_GROUPS_GLOBAL)
		print_groups(o, "groups_global", st->groups_global);
	if (st->have & PM_ST_GROUPS_ATTACHED)
		print_groups(o, "groups_attached", st->groups_attached);
	/* The aggregates count only what it passes: never leave it unsaid. */
	pm_out_kv_bool(o, "global_filter", st->have & PM_ST_GLOBAL_FILTER);
	if (st->have & PM_ST_GLOBAL_FILTER) {
		pm_out_kv_u32list(o, "filter_tgids", st->filter_tgids,
				  st->nr_filter_tgids);
		pm_out_kv_u64(o, "filter_cgroup_id", st->filter_cgroup_id);
	}

	pm_out_list_begin(o, "cpus",
			  "CPU  PRODUCED     WRITTEN      DROPPED      CONSUMED");
	for (i = 0; i < st->nr_cpus; i++) {
		const struct pm_status_cpu *c = &st->cpus[i];

		pm_out_line_begin(o);
		pm_out_col_u64(o, "cpu", -4, c->cpu);
		pm_out_col_u64(o, "produced", -12, c->produced);
		pm_out_col_u64(o, "written", -12, c->written);
		pm_out_col_u64(o, "dropped", -12, c->dropped);
		pm_out_col_u64(o, "consumed", 0, c->consumed);
		pm_out_line_end(o);
	}
	pm_out_list_end(o);

	pm_out_list_begin(o, "session_list",
			  "SESSION  OWNER    PRODUCED     DROPPED      GROUPS");
	for (i = 0; i < st->nr_sessions; i++) {
		const struct pm_status_session *s = &st->sessions_list[i];

		if (!pid_wanted(cli, s->owner_tgid))
			continue;
		pm_out_line_begin(o);
		pm_out_col_u64(o, "id", -8, s->id);
		pm_out_col_u64(o, "owner_tgid", -8, s->owner_tgid);
		pm_out_col_u64(o, "produced", -12, s->produced);
		pm_out_col_u64(o, "dropped", -12, s->dropped);
		print_groups(o, "groups", s->groups);
		pm_out_line_end(o);
	}
	pm_out_list_end(o);

	/* Failed attaches and misses are shown, never hidden. */
	pm_out_list_begin(o, "probes",
			  "GROUP      MECHANISM  ATTACHED ERROR HITS         MISSED       PROBE");
	for (i = 0; i < st->nr_probes; i++) {
		const struct pm_status_probe *p = &st->probes[i];

		pm_out_line_begin(o);
		pm_out_col_str(o, "group", -10, p->group);
		pm_out_col_str(o, "mechanism", -10, p->mechanism);
		if (pm_out_is_json(o))
			pm_out_kv_bool(o, "attached", p->attached);
		else
			pm_out_col_str(o, "attached", -8,
				       p->attached ? "yes" : "no");
		pm_out_col_i64(o, "error", -5, p->error);
		pm_out_col_u64(o, "hits", -12, p->hits);
		pm_out_col_u64(o, "missed", -12, p->missed);
		pm_out_col_str(o, "name", 0, p->name);
		pm_out_line_end(o);
	}
	pm_out_list_end(o);
	pm_out_block_end(o);
}

int cmd_status(const char *name, int argc, char **argv)
{
	const struct pm_command cmd = {
		.name = name,
		.summary = "Show the state of the persecmon module.",
		.common = PM_CLI_JSON | PM_CLI_PID | PM_CLI_DURATION |
			  PM_CLI_INTERVAL,
		.pid_help = "only sessions owned by these processes",
		.duration_help = "with an interval: stop after SECONDS",
		.description = status_description,
		.examples = status_examples,
	};
	struct pm_ctl *ctl = NULL;
	struct pm_status st;
	struct pm_error err;
	struct pm_out o;
	struct pm_cli cli;
	uint64_t n = 0, deadline = 0;
	int exit_code = PM_EXIT_OK;
	uint32_t bad_major = 0, bad_minor = 0;
	bool abi_bad = false;

	pm_error_clear(&err);
	if (!pm_cli_parse_main(&cmd, argc, argv, &cli, &exit_code))
		return exit_code;
	if (cli.duration > 0 && cli.interval == 0)
		cli.interval = 1;
	if (cli.duration > 0)
		deadline = pm_monotonic_ns() + (uint64_t)(cli.duration * 1e9);
	pm_out_init(&o, stdout, cli.json ? PM_OUT_JSON : PM_OUT_TEXT,
		    cli.verbose > 0);
	if (pm_ctl_open(&ctl, cli.verbose > 0, &err) < 0)
		return pm_error_report(&err, name);
	pm_cli_catch_stop_signals();

	for (;;) {
		if (pm_ctl_get_status(ctl, &st, &err) < 0) {
			exit_code = pm_error_report(&err, name);
			break;
		}
		if (n > 0)
			pm_out_header(&o, "%s", "");
		print_status(&o, &st, &cli);
		if ((st.have & PM_ST_ABI) &&
		    st.abi_major != PERSECMON_ABI_MAJOR) {
			abi_bad = true;
			bad_major = st.abi_major;
			bad_minor = st.abi_minor;
		}
		pm_status_free(&st);
		if (pm_out_flush(&o) < 0) {
			exit_code = PM_EXIT_RUNTIME;
			break;
		}
		n++;
		if (cli.interval == 0 || (cli.count && n >= cli.count))
			break;
		if (deadline && pm_monotonic_ns() + (uint64_t)(cli.interval * 1e9) > deadline)
			break;
		if (!pm_cli_sleep(cli.interval))
			break;
	}
	pm_ctl_close(ctl);
	if (exit_code == PM_EXIT_OK && abi_bad) {
		fprintf(stderr, "%s: the persecmon module speaks ABI %u.%u, this tool speaks %d.%d: use tools built for the loaded module\n",
			name, bad_major, bad_minor, PERSECMON_ABI_MAJOR,
			PERSECMON_ABI_MINOR);
		exit_code = PM_EXIT_ABI;
	}
	return exit_code;
}
