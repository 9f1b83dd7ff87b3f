/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel tracepoints for probe groups. A module cannot name a tracepoint
 * that its kernel does not export, so each one is found by name with
 * for_each_kernel_tracepoint() at init; a group's tracepoints are then
 * attached all-or-nothing and each is listed as a probe (status, debugfs
 * "probes"), found or not.
 */
#ifndef PERSECMON_CORE_TRACEPOINT_H
#define PERSECMON_CORE_TRACEPOINT_H

#include <linux/types.h>

#include "core/agg.h"

struct tracepoint;

struct pm_tp {
	const char *name;	/* e.g. "sched_process_exec" */
	void *func;		/* the probe, with the tracepoint's prototype */
	bool optional;		/* a kernel without it is fine */
	/* private to tracepoint.c */
	struct tracepoint *tp;
	struct pm_probe probe;
};

/*
 * Finds every tracepoint of @tps and registers its probe view under
 * @group. -ENOENT (and a log line) if a required one is missing.
 */
int pm_tps_init(const char *group, struct pm_tp *tps, unsigned int n);
void pm_tps_exit(struct pm_tp *tps, unsigned int n);

/* Attaches the tracepoints that exist; on failure none stays attached. */
int pm_tps_attach(struct pm_tp *tps, unsigned int n);
/* Detaches all; no probe of @tps is running once it returns. */
void pm_tps_detach(struct pm_tp *tps, unsigned int n);

static inline bool pm_tp_found(const struct pm_tp *t)
{
	return t->tp;
}

struct task_struct;

/*
 * In a sched_process_exit probe: whether @p was its thread group's last
 * live thread. do_exit() has already dropped it from signal->live before
 * the tracepoint, on 6.1 and 6.12 alike.
 */
bool pm_tp_exit_group_dead(const struct task_struct *p);

/* Counts one hit of @t (from its probe function). */
static __always_inline void pm_tp_hit(struct pm_tp *t)
{
	pm_probe_hit(&t->probe);
}

#endif /* PERSECMON_CORE_TRACEPOINT_H */
