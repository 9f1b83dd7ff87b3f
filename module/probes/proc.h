/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The "proc" probe group: exec, fork and exit of every task, from the
 * sched_process_{exec,fork,exit} tracepoints. It gives the process context
 * (who ran what, from which parent, for how long) that the other groups'
 * events are joined against.
 */
#ifndef PERSECMON_PROBES_PROC_H
#define PERSECMON_PROBES_PROC_H

#include "compat/compat.h"

/* Longest filename, and longest argument area, an exec record carries. */
#define PM_PROC_FILENAME_MAX	256
#define PM_PROC_ARGS_MAX	512

int pm_proc_init(void);
void pm_proc_exit(void);

#endif /* PERSECMON_PROBES_PROC_H */
