// SPDX-License-Identifier: GPL-2.0
/* The body shared by `persecmon enable` and `persecmon disable`. */
#include <stdio.h>

#include "cmd.h"
#include "persecmon/control.h"
#include "persecmon/error.h"
#include "persecmon/output.h"

static void report(struct pm_out *o, const char *group, bool enable)
{
	pm_out_line_begin(o);
	pm_out_kv_str(o, "group", group);
	pm_out_kv_str(o, "action", enable ? "enable" : "disable");
	pm_out_kv_str(o, "scope", "global");
	pm_out_line_end(o);
}

static int set_all(struct pm_ctl *ctl, struct pm_out *o, int n, char **groups,
		   bool enable, struct pm_error *err)
{
	int i, ret;

	for (i = 0; i < n; i++) {
		ret = pm_ctl_set_group(ctl, groups[i], enable, NULL, err);
		if (ret < 0)
			return ret;
		report(o, groups[i], enable);
	}
	pm_out_flush(o);
	return 0;
}

int cmd_group_run(const struct pm_command *cmd, bool enable, int argc,
		  char **argv)
{
	struct pm_ctl *ctl;
	struct pm_error err;
	struct pm_out o;
	struct pm_cli cli;
	int exit_code = PM_EXIT_OK;

	pm_error_clear(&err);
	if (!pm_cli_parse_main(cmd, argc, argv, &cli, &exit_code))
		return exit_code;
	pm_out_init(&o, stdout, cli.json ? PM_OUT_JSON : PM_OUT_TEXT,
		    cli.verbose > 0);
	if (pm_ctl_open(&ctl, cli.verbose > 0, &err) < 0)
		return pm_error_report(&err, cmd->name);
	pm_cli_catch_stop_signals();
	if (set_all(ctl, &o, cli.nr_args, cli.args, enable, &err) < 0) {
		exit_code = pm_error_report(&err, cmd->name);
		goto out;
	}
	if (enable && cli.duration > 0) {
		/* Undo on expiry and on Ctrl-C alike. */
		pm_cli_sleep(cli.duration);
		if (set_all(ctl, &o, cli.nr_args, cli.args, false, &err) < 0)
			exit_code = pm_error_report(&err, cmd->name);
	}
out:
	pm_ctl_close(ctl);
	return exit_code;
}
