/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The "net" group: TCP active-connect latency (PERSECMON_EV_TCP_CONNECT)
 * and TCP state changes (PERSECMON_EV_TCP_STATE).
 */
#ifndef PERSECMON_PROBES_NET_H
#define PERSECMON_PROBES_NET_H

int pm_net_init(void);
void pm_net_exit(void);

#endif /* PERSECMON_PROBES_NET_H */
