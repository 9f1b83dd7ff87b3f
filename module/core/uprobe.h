/* SPDX-License-Identifier: GPL-2.0 */
/*
 * User-level probes (uprobes and uretprobes) for probe groups.
 *
 * The kernel does no ELF parsing. Userspace resolves symbols and USDT
 * notes to *file offsets* and sends them as targets with
 * PERSECMON_CMD_UPROBE_ENABLE (path, offset, optional USDT semaphore
 * offset, role id, PERSECMON_UPROBE_ENTRY / _RETURN), which also enables
 * the group for the sending session (or the global set). This file turns
 * targets into registered uprobes and calls the group's handler for the
 * target's role.
 *
 * Targets belong to the group, not to a session: they stay registered
 * while the group is attached (any enabler) and are all released when the
 * last enabler goes (group detach). Identical targets (same file, offset,
 * role, flags and semaphore) are registered once. At most
 * PM_UPROBE_TARGETS_MAX per group.
 *
 * How a group uses it (probes/dns.c is the first user):
 *
 *   1. Declare its roles: an array indexed by role id (the ids are ABI,
 *      documented in the uapi header next to the group's records), each
 *      with an entry handler, a return handler or both:
 *
 *	static const struct pm_uprobe_role pm_foo_roles[] = {
 *		[PERSECMON_FOO_ROLE_A] = { .name = "a", .entry = foo_a_entry,
 *					   .ret = foo_a_return },
 *		[PERSECMON_FOO_ROLE_B] = { .name = "b", .entry = foo_b_entry },
 *	};
 *	static struct pm_uprobe_group pm_foo_uprobes = {
 *		.group = PERSECMON_GROUP_FOO,
 *		.roles = pm_foo_roles,
 *		.nr_roles = ARRAY_SIZE(pm_foo_roles),
 *	};
 *
 *   2. Its init calls pm_uprobe_group_register(&pm_foo_uprobes) (before
 *      or after pm_group_register()), its exit
 *      pm_uprobe_group_unregister(&pm_foo_uprobes).
 *
 *   3. Its struct pm_group attach() calls pm_uprobe_group_attach()
 *      (after resetting its own per-call state), its detach() calls
 *      pm_uprobe_group_detach(), which unregisters every target, waits
 *      until no handler of the group can run any more and frees them.
 *      Targets arriving over netlink are registered at once while the
 *      group is attached; none exist while it is detached.
 *      A target with PERSECMON_UPROBE_COUNT only counts hits (any role,
 *      no handler called): for checking a probe point, e.g. USDT.
 *
 *   4. Handlers run in the probed task, in process context, preemptible,
 *      with interrupts on; they may fault (copy_from_user(),
 *      strncpy_from_user()) but should not sleep for long. Copy user
 *      memory first, then use the emit API (pm_emit_begin() disables
 *      preemption until pm_emit_end()). @t is the target that fired:
 *      t->role and t->cookie are for the handler; the rest is private.
 *      The core counts hits (status "probes") before calling the
 *      handler. The return handler gets the probed function's address
 *      (@func) and the registers at its return (regs_return_value()).
 *      A uretprobe can only pair with its entry through per-task state
 *      of the group's own (e.g. a table keyed by pid).
 *
 * Locking: pm_uprobe_lock (internal) nests inside pm_sessions_lock and
 * pm_groups_lock; attach/detach run under both, as every group's do.
 */
#ifndef PERSECMON_CORE_UPROBE_H
#define PERSECMON_CORE_UPROBE_H

#include <linux/list.h>
#include <linux/path.h>
#include <linux/types.h>
#include <linux/uprobes.h>

#include "compat/compat.h"
#include "core/agg.h"

struct netlink_ext_ack;
struct nlattr;
struct pt_regs;
struct pm_uprobe_target;

/* Most targets one group holds at once. */
#define PM_UPROBE_TARGETS_MAX	64
/* Longest PERSECMON_A_UP_NAME, NUL included. */
#define PM_UPROBE_LABEL_MAX	64
/* Longest probe name in the status views ("libc.so.6:getaddrinfo"). */
#define PM_UPROBE_NAME_MAX	96

typedef void (*pm_uprobe_entry_fn)(const struct pm_uprobe_target *t,
				   struct pt_regs *regs);
typedef void (*pm_uprobe_ret_fn)(const struct pm_uprobe_target *t,
				 unsigned long func, struct pt_regs *regs);

struct pm_uprobe_role {
	const char *name;		/* for messages; NULL: role unused */
	pm_uprobe_entry_fn entry;	/* for PERSECMON_UPROBE_ENTRY */
	pm_uprobe_ret_fn ret;		/* for PERSECMON_UPROBE_RETURN */
};

struct pm_uprobe_group {
	unsigned int group;		/* enum persecmon_group */
	const struct pm_uprobe_role *roles;	/* indexed by role id */
	unsigned int nr_roles;
	/*
	 * Optional: whether process @tgid (init pid namespace) may be
	 * wanted by some enabler. Only those get the breakpoints (uprobe.c);
	 * without it, every process that maps the file does. It must be
	 * true for any process the handlers would act on; it is called in
	 * sleepable context, with mm locks held, and may use RCU only.
	 */
	bool (*wants)(u32 tgid);
	/* private to uprobe.c */
	struct list_head node;
	struct list_head targets;
	unsigned int nr_targets;
	bool attached;
};

/* A consumer and the group whose wants() its filter asks (uprobe.c). */
struct pm_uprobe_consumer {
	struct uprobe_consumer uc;
	struct pm_uprobe_group *ug;
};

/* One registered uprobe. Handlers read @role and @cookie only. */
struct pm_uprobe_target {
	u32 role;
	u64 cookie;			/* PERSECMON_A_UP_COOKIE, 0 if none */
	/* private to uprobe.c */
	u32 flags;			/* PERSECMON_UPROBE_* */
	struct pm_uprobe_consumer consumer;
	struct pm_uprobe_consumer installer;	/* pm_uprobe_refresh() */
	struct pm_uprobe_group *ug;
	struct list_head node;
	struct path path;		/* held until after unregister */
	struct inode *inode;		/* d_real_inode(path.dentry) */
	loff_t offset;
	loff_t ref_ctr_offset;
	struct uprobe *uprobe;		/* 6.12; NULL on 6.1 */
	struct pm_probe probe;
	const struct nlattr *nla;	/* while being added: its spec's */
	char name[PM_UPROBE_NAME_MAX];
};

/* A target as it arrives over netlink (iface/genl.c fills it). */
struct pm_uprobe_spec {
	const char *path;		/* absolute */
	u64 offset;			/* file offset */
	u64 ref_ctr_offset;		/* USDT semaphore file offset, 0: none */
	u32 role;
	u32 flags;			/* PERSECMON_UPROBE_* */
	u64 cookie;
	const char *label;		/* symbol name for the views, or NULL */
	const struct nlattr *nla;	/* for error messages */
};

/* From the group's init / exit. */
int pm_uprobe_group_register(struct pm_uprobe_group *ug);
void pm_uprobe_group_unregister(struct pm_uprobe_group *ug);

/* From the group's attach() / detach() (under pm_groups_lock). */
void pm_uprobe_group_attach(struct pm_uprobe_group *ug);
void pm_uprobe_group_detach(struct pm_uprobe_group *ug);

/*
 * After the processes that @groups' wants() passes may have changed (a
 * session enabled or disabled one, changed its filter or closed; the
 * global set or filter changed): gives the processes that lack them the
 * breakpoints of those groups' registered targets and takes them from
 * the processes no consumer wants any more. Process context, no
 * persecmon lock held.
 */
void pm_uprobe_refresh(u64 groups);

/*
 * PERSECMON_CMD_UPROBE_ENABLE in three steps, so that nothing is enabled
 * for a request that cannot succeed:
 *
 * pm_uprobe_prepare() validates every spec (the group takes uprobes, role
 * and flags known to it, absolute path resolved with kern_path(), regular
 * file, offsets within the file) into @batch, registering nothing. Then
 * the caller enables the group for the requester and calls
 * pm_uprobe_commit(), which registers the targets not registered yet,
 * all or none; or pm_uprobe_discard() if enabling failed. Both consume
 * the batch. Errors carry an extack message pointing at the spec's
 * attribute: -ENOENT (no such file) and others from kern_path(), -EINVAL,
 * -EOPNOTSUPP (group without uprobes), -E2BIG (more than
 * PM_UPROBE_TARGETS_MAX), -ENODATA (group not attached: its last enabler
 * went meanwhile), or uprobe_register()'s error.
 */
struct pm_uprobe_batch {
	struct pm_uprobe_group *ug;
	struct list_head targets;
};

int pm_uprobe_prepare(unsigned int group, const struct pm_uprobe_spec *specs,
		      unsigned int nr, struct pm_uprobe_batch *batch,
		      struct netlink_ext_ack *extack);
int pm_uprobe_commit(struct pm_uprobe_batch *batch,
		     struct netlink_ext_ack *extack);
void pm_uprobe_discard(struct pm_uprobe_batch *batch);

#endif /* PERSECMON_CORE_UPROBE_H */
