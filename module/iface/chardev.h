/* SPDX-License-Identifier: GPL-2.0 */
/* /dev/persecmon: one session per open file; read, poll, mmap, ioctl. */
#ifndef PERSECMON_IFACE_CHARDEV_H
#define PERSECMON_IFACE_CHARDEV_H

int pm_chardev_init(void);
void pm_chardev_exit(void);

#endif /* PERSECMON_IFACE_CHARDEV_H */
