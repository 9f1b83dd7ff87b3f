/* SPDX-License-Identifier: GPL-2.0 */
/* /sys/kernel/debug/persecmon/: read-only status views. */
#ifndef PERSECMON_IFACE_DEBUGFS_H
#define PERSECMON_IFACE_DEBUGFS_H

/* debugfs failures (debugfs=off, lockdown) are not the module's: no errors. */
void pm_debugfs_init(void);
void pm_debugfs_exit(void);

#endif /* PERSECMON_IFACE_DEBUGFS_H */
