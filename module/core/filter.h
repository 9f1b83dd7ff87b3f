/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Filters: which processes something is about. A spec names processes by
 * tgid (a sorted list) and by cgroup v2 id; a session's filter decides
 * which events reach its buffers (session.c), and the global filter below
 * decides which events the always-on aggregates count.
 *
 * The global filter belongs to the global set (PERSECMON_CMD_SET_FILTER
 * without a session, "persecmon filter"). While none is set, every
 * aggregate counts every process, at the cost of one load per event. While
 * one is set, each per-event statistic (vfsstat, vfs_latency, the vfs,
 * opens, block and tcpconnect tables, dnsstat) counts only the events of
 * the processes it passes, judged by the task an event is attributed to
 * (the submitter of a block request, the caller of connect()), and the
 * global memleak set keeps only their blocks. Counters that describe the
 * probes themselves (hits, misses, full tables, memleakstat, kmemleak)
 * still count everything: they say what the mechanism saw and lost.
 */
#ifndef PERSECMON_CORE_FILTER_H
#define PERSECMON_CORE_FILTER_H

#include <linux/compiler.h>
#include <linux/rcupdate.h>
#include <linux/types.h>

/* Most tgids one filter can name (PERSECMON_A_FILTER_TGID). */
#define PM_FILTER_TGIDS_MAX	64

struct pm_filter_spec {
	u64 cgroup_id;			/* 0: any cgroup */
	bool include_self;		/* sessions: keep the opener's events */
	u64 quiet_groups;		/* sessions: wanted, but write no records */
	unsigned int nr_tgids;		/* 0: any process */
	u32 tgids[PM_FILTER_TGIDS_MAX];
};

/* A published spec (RCU): a session's filter, or the global filter. */
struct pm_filter {
	struct pm_filter_spec spec;	/* tgids sorted */
	struct rcu_head rcu;
};

/*
 * A copy of @spec with its tgids sorted, as pm_filter_has_tgid() expects:
 * NULL for out of memory, ERR_PTR(-E2BIG) for too many tgids. Process
 * context; free with kfree() or, once published, kfree_rcu().
 */
struct pm_filter *pm_filter_new(const struct pm_filter_spec *spec);
bool pm_filter_has_tgid(const struct pm_filter_spec *spec, u32 tgid);
/* The tgid and cgroup tests (include_self and quiet_groups aside). */
bool pm_filter_match(const struct pm_filter_spec *spec, u32 tgid,
		     u64 cgroup_id);

/* The cgroup v2 id of current (0 without CONFIG_CGROUPS). */
u64 pm_current_cgroup_id(void);

/* The global filter. NULL while none is set; RCU (any flavour). */
extern struct pm_filter __rcu *pm_global_filter;

bool __pm_global_counts(u32 tgid, u64 cgroup_id);
bool __pm_global_counts_current(void);

/*
 * Whether the aggregates count an event of current (task context: the
 * current process; any other context: no process, which a set filter
 * never passes). Callable from any context, NMI included.
 */
static __always_inline bool pm_global_counts_current(void)
{
	if (likely(!rcu_access_pointer(pm_global_filter)))
		return true;
	return __pm_global_counts_current();
}

/* As above, for an event attributed to another task. */
static __always_inline bool pm_global_counts(u32 tgid, u64 cgroup_id)
{
	if (likely(!rcu_access_pointer(pm_global_filter)))
		return true;
	return __pm_global_counts(tgid, cgroup_id);
}

/*
 * Whether the global filter may pass process @tgid: none is set, it names
 * @tgid, or it names no tgid (a cgroup filter counts as a yes). For
 * uprobe filters: RCU only, any sleepable context.
 */
bool pm_global_filter_may_pass(u32 tgid);

/*
 * Replaces the global filter; a spec that names nothing (no tgid, cgroup
 * 0) removes it. Process context; 0 or -errno.
 */
int pm_global_filter_set(const struct pm_filter_spec *spec);
/* Copies the global filter into @spec; false while none is set. */
bool pm_global_filter_get(struct pm_filter_spec *spec);
/* Module unload, once no probe can run any more. */
void pm_global_filter_exit(void);

#endif /* PERSECMON_CORE_FILTER_H */
