/* SPDX-License-Identifier: GPL-2.0 */
/* The "dns" probe group: latency of libc name lookups (probes/dns.c). */
#ifndef PERSECMON_PROBES_DNS_H
#define PERSECMON_PROBES_DNS_H

int pm_dns_init(void);
void pm_dns_exit(void);

#endif /* PERSECMON_PROBES_DNS_H */
