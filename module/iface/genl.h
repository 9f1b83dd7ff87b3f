/* SPDX-License-Identifier: GPL-2.0 */
/* Generic netlink family "persecmon": status and control. */
#ifndef PERSECMON_IFACE_GENL_H
#define PERSECMON_IFACE_GENL_H

int pm_genl_init(void);
void pm_genl_exit(void);

#endif /* PERSECMON_IFACE_GENL_H */
