/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Best-effort process names. Records carry pid/tgid but no command name,
 * so COMM is read from /proc/TGID/comm when a record is printed. A process
 * that has already exited shows as NULL ("-"); an entry is trusted for
 * PM_COMM_TTL_NS to bound the damage of pid reuse.
 */
#ifndef PERSECMON_PROC_H
#define PERSECMON_PROC_H

#include <stdint.h>

#define PM_COMM_LEN		16
#define PM_COMM_SLOTS		1024
#define PM_COMM_TTL_NS		1000000000ULL

struct pm_comm_cache {
	const char *proc_root;	/* "/proc" unless testing */
	struct {
		uint32_t tgid;
		uint64_t fetched_ns;
		int found;
		char comm[PM_COMM_LEN];
	} slot[PM_COMM_SLOTS];
};

void pm_comm_cache_init(struct pm_comm_cache *c, const char *proc_root);
/* Name of @tgid at @now_ns (CLOCK_MONOTONIC), or NULL if unknown. */
const char *pm_comm_lookup(struct pm_comm_cache *c, uint32_t tgid,
			   uint64_t now_ns);

uint64_t pm_monotonic_ns(void);
uint64_t pm_realtime_ns(void);

#endif /* PERSECMON_PROC_H */
