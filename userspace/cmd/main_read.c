// SPDX-License-Identifier: GPL-2.0
/* persecmon-read: the streaming reader as a command of its own. */
#include "cmd.h"

int main(int argc, char **argv)
{
	return cmd_read("persecmon-read", argc, argv);
}
