// SPDX-License-Identifier: GPL-2.0
/* persecmon disable GROUP...: turn probe groups off in the global set. */
#include "cmd.h"

int cmd_disable(const char *name, int argc, char **argv)
{
	const struct pm_command cmd = {
		.name = name,
		.summary = "Disable probe groups in the global set.",
		.args = "GROUP...",
		.min_args = 1,
		.max_args = 64,
		.common = PM_CLI_JSON,
		.description =
			"Removes groups from the global set. A group stays attached while\n"
			"a session enables it or a running aggregate tool holds it;\n"
			"'persecmon status' shows the sets.\n",
		.examples =
			"  persecmon disable test\n",
	};

	return cmd_group_run(&cmd, false, argc, argv);
}
