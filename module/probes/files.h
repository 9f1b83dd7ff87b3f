/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The "files" probe group: every open(2), openat(2), openat2(2) and
 * creat(2) as PERSECMON_EV_OPEN, with the path as the caller gave it, the
 * flags and mode the kernel used, and the result (fd or -errno).
 */
#ifndef PERSECMON_PROBES_FILES_H
#define PERSECMON_PROBES_FILES_H

#include "compat/compat.h"

/*
 * Longest path a record carries; a longer one is cut to this many bytes
 * and the record has PERSECMON_RF_TRUNCATED.
 */
#define PM_FILES_PATH_MAX	256

int pm_files_init(void);
void pm_files_exit(void);

#endif /* PERSECMON_PROBES_FILES_H */
