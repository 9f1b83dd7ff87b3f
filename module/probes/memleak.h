/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The "memleak" probe group: libc allocations and frees of user processes
 * (uprobes and uretprobes whose targets userspace resolves and sends with
 * PERSECMON_CMD_UPROBE_ENABLE; roles are enum persecmon_alloc_func), with
 * the user stack of each allocation. persecmon memleak -p PID pairs them
 * and reports the stacks with the most outstanding memory.
 */
#ifndef PERSECMON_PROBES_MEMLEAK_H
#define PERSECMON_PROBES_MEMLEAK_H

#include "compat/compat.h"

int pm_memleak_init(void);
void pm_memleak_exit(void);

#endif /* PERSECMON_PROBES_MEMLEAK_H */
