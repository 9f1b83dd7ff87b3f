/* SPDX-License-Identifier: GPL-2.0 */
/* The "vfs" group: vfs_read, vfs_write and vfs_open. */
#ifndef PERSECMON_PROBES_VFS_H
#define PERSECMON_PROBES_VFS_H

int pm_vfs_init(void);
void pm_vfs_exit(void);

#endif /* PERSECMON_PROBES_VFS_H */
