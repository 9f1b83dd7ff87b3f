// SPDX-License-Identifier: GPL-2.0
/* persecmon enable GROUP...: turn probe groups on in the global set. */
#include "cmd.h"

int cmd_enable(const char *name, int argc, char **argv)
{
	const struct pm_command cmd = {
		.name = name,
		.summary = "Enable probe groups in the global set.",
		.args = "GROUP...",
		.min_args = 1,
		.max_args = 64,
		.common = PM_CLI_JSON | PM_CLI_DURATION,
		.duration_help = "keep the groups enabled for SECONDS (or until\n"
				 "Ctrl-C), then disable them again",
		.description =
			"The global set feeds the always-on aggregates; a group's probes are\n"
			"attached while the global set, a session or a tool's hold needs it. Group names\n"
			"are the lower-case suffixes of enum persecmon_group (e.g. test); the\n"
			"module rejects unknown names with a message saying so. Sessions\n"
			"(persecmon-read -g) enable groups for themselves instead.\n",
		.examples =
			"  persecmon enable test            # until 'persecmon disable test'\n"
			"  persecmon enable test -d 30      # for 30 seconds\n",
	};

	return cmd_group_run(&cmd, true, argc, argv);
}
