/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Subcommands. Each takes the name it was invoked as (for messages and
 * help) and its own argv, and returns an exit status (enum pm_exit).
 */
#ifndef PERSECMON_CMD_H
#define PERSECMON_CMD_H

#include <stdbool.h>

#include "persecmon/cli.h"

int cmd_read(const char *name, int argc, char **argv);
int cmd_status(const char *name, int argc, char **argv);
int cmd_enable(const char *name, int argc, char **argv);
int cmd_disable(const char *name, int argc, char **argv);
int cmd_filter(const char *name, int argc, char **argv);
int cmd_trigger(const char *name, int argc, char **argv);
int cmd_vfsstat(const char *name, int argc, char **argv);
int cmd_filetop(const char *name, int argc, char **argv);
int cmd_execsnoop(const char *name, int argc, char **argv);
int cmd_opensnoop(const char *name, int argc, char **argv);
int cmd_biolatency(const char *name, int argc, char **argv);
int cmd_biosnoop(const char *name, int argc, char **argv);
int cmd_biotop(const char *name, int argc, char **argv);
int cmd_tcpconnlat(const char *name, int argc, char **argv);
int cmd_tcpstates(const char *name, int argc, char **argv);
int cmd_memleak(const char *name, int argc, char **argv);
int cmd_gethostlatency(const char *name, int argc, char **argv);
int cmd_usdt(const char *name, int argc, char **argv);

/* enable and disable differ only in direction and help text. */
int cmd_group_run(const struct pm_command *cmd, bool enable, int argc,
		  char **argv);

#endif /* PERSECMON_CMD_H */
