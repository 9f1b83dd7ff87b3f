/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Probe groups: the table of what can be switched on. A group is a set of
 * probes (one file under probes/) with an attach and a detach. It is
 * attached while the global set, a netlink socket's hold or at least one
 * session enables it; every enabler holds one reference.
 */
#ifndef PERSECMON_CORE_GROUPS_H
#define PERSECMON_CORE_GROUPS_H

#include <linux/types.h>

#include "compat/compat.h"

struct net;
struct seq_file;

/* Longest group name, NUL included (PERSECMON_A_GROUP). */
#define PM_GROUP_NAME_MAX	32

struct pm_group {
	const char *name;	/* lower-case suffix of PERSECMON_GROUP_* */
	/*
	 * attach() turns the group's probes on, detach() off. Both run in
	 * process context under the groups mutex and may sleep. After
	 * detach() returns, no handler of the group may still be running.
	 */
	int (*attach)(void);
	void (*detach)(void);
	/* Optional: print the group's in-kernel aggregates (debugfs). */
	void (*show)(struct seq_file *m);
};

/* A probe file registers its group from its init, before pm_groups_init(). */
int pm_group_register(unsigned int id, const struct pm_group *group);
void pm_group_unregister(unsigned int id);

/* Applies the groups= module parameter; undone by pm_groups_exit(). */
int pm_groups_init(void);
void pm_groups_exit(void);

/* Returns the group id for @name, or -ENOENT. */
int pm_group_lookup(const char *name);
const char *pm_group_name(unsigned int id);
/* Mask of the registered groups' ids. */
u64 pm_groups_registered(void);

/* One reference; the first attaches the group. */
int pm_group_get(unsigned int id);
void pm_group_put(unsigned int id);
/* A reference only if the group is attached already; never attaches. */
bool pm_group_hold_attached(unsigned int id);

int pm_groups_global_enable(unsigned int id);
void pm_groups_global_disable(unsigned int id);
u64 pm_groups_global(void);
u64 pm_groups_attached(void);

/*
 * Holds (PERSECMON_A_GROUP_HOLD): one reference per group and netlink
 * socket (@net, @portid), for as long as a tool runs; holding twice takes
 * no second reference. pm_groups_release_holder() drops every hold of a
 * socket that closed.
 */
int pm_groups_hold(const struct net *net, u32 portid, unsigned int id);
void pm_groups_unhold(const struct net *net, u32 portid, unsigned int id);
void pm_groups_release_holder(const struct net *net, u32 portid);

/* Writes "a,b" for the groups in @mask (or "-" for none). */
void pm_groups_print_mask(struct seq_file *m, u64 mask);
/* One line per registered group, then its own aggregates. */
void pm_groups_show(struct seq_file *m);

#endif /* PERSECMON_CORE_GROUPS_H */
