// SPDX-License-Identifier: GPL-2.0
/*
 * Probe group table and reference counting.
 *
 * The global set (module parameter groups=, changed over netlink) holds one
 * reference on each group it contains, every session that enables a group
 * holds one more, and so does every netlink socket that asked for a hold
 * (an aggregate tool, for as long as it runs: its socket closing lets go,
 * whatever way the tool ended). The first reference attaches the group's probes,
 * the last one detaches them, so a group nobody asked for costs nothing.
 * All state changes happen under pm_groups_lock in process context; the
 * masks are also read locklessly by the status views.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bits.h>
#include <linux/errno.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "core/groups.h"
#include "core/uprobe.h"

#define PM_GROUPS_NR	(PERSECMON_GROUP_MAX + 1)

static char *groups;
module_param(groups, charp, 0444);
MODULE_PARM_DESC(groups,
		 "Comma-separated probe groups enabled globally at load (feed the in-kernel aggregates)");

static DEFINE_MUTEX(pm_groups_lock);
static const struct pm_group *pm_group_table[PM_GROUPS_NR];
static unsigned int pm_group_refs[PM_GROUPS_NR];
static u64 pm_global_mask;
static u64 pm_attached_mask;

/* A netlink socket's holds; under pm_groups_lock, like everything here. */
struct pm_group_holder {
	struct list_head node;
	const struct net *net;
	u32 portid;
	u64 mask;
};
static LIST_HEAD(pm_holders);
/* Read without the lock by the close path: most closing sockets hold none. */
static unsigned int pm_nr_holders;
static unsigned int pm_group_holds[PM_GROUPS_NR];

int pm_group_register(unsigned int id, const struct pm_group *group)
{
	int ret = 0;

	if (id >= PM_GROUPS_NR || !group->name || !group->attach ||
	    !group->detach || strlen(group->name) >= PM_GROUP_NAME_MAX)
		return -EINVAL;

	mutex_lock(&pm_groups_lock);
	if (pm_group_table[id])
		ret = -EEXIST;
	else
		pm_group_table[id] = group;
	mutex_unlock(&pm_groups_lock);
	return ret;
}

void pm_group_unregister(unsigned int id)
{
	mutex_lock(&pm_groups_lock);
	/* Every session and the global set let go before the probe exits. */
	WARN_ON(pm_group_refs[id]);
	pm_group_table[id] = NULL;
	mutex_unlock(&pm_groups_lock);
}

int pm_group_lookup(const char *name)
{
	int ret = -ENOENT;
	unsigned int id;

	mutex_lock(&pm_groups_lock);
	for (id = 0; id < PM_GROUPS_NR; id++) {
		if (pm_group_table[id] &&
		    !strcmp(pm_group_table[id]->name, name)) {
			ret = id;
			break;
		}
	}
	mutex_unlock(&pm_groups_lock);
	return ret;
}

u64 pm_groups_registered(void)
{
	unsigned int id;
	u64 mask = 0;

	mutex_lock(&pm_groups_lock);
	for (id = 0; id < PM_GROUPS_NR; id++)
		if (pm_group_table[id])
			mask |= BIT_ULL(id);
	mutex_unlock(&pm_groups_lock);
	return mask;
}

/* Registered groups live until module exit, so the name may be kept. */
const char *pm_group_name(unsigned int id)
{
	const struct pm_group *group = NULL;

	if (id < PM_GROUPS_NR)
		group = READ_ONCE(pm_group_table[id]);
	return group ? group->name : "?";
}

static int pm_group_get_locked(unsigned int id)
{
	const struct pm_group *group;
	int ret;

	lockdep_assert_held(&pm_groups_lock);
	group = id < PM_GROUPS_NR ? pm_group_table[id] : NULL;
	if (!group)
		return -ENOENT;
	if (pm_group_refs[id] == 0) {
		ret = group->attach();
		if (ret) {
			pr_warn("attaching group %s failed: %d\n",
				group->name, ret);
			return ret;
		}
		WRITE_ONCE(pm_attached_mask, pm_attached_mask | BIT_ULL(id));
	}
	pm_group_refs[id]++;
	return 0;
}

static void pm_group_put_locked(unsigned int id)
{
	lockdep_assert_held(&pm_groups_lock);
	if (WARN_ON(!pm_group_refs[id]))
		return;
	if (--pm_group_refs[id] == 0) {
		pm_group_table[id]->detach();
		WRITE_ONCE(pm_attached_mask, pm_attached_mask & ~BIT_ULL(id));
	}
}

int pm_group_get(unsigned int id)
{
	int ret;

	mutex_lock(&pm_groups_lock);
	ret = pm_group_get_locked(id);
	mutex_unlock(&pm_groups_lock);
	return ret;
}

void pm_group_put(unsigned int id)
{
	mutex_lock(&pm_groups_lock);
	pm_group_put_locked(id);
	mutex_unlock(&pm_groups_lock);
}

bool pm_group_hold_attached(unsigned int id)
{
	bool held = false;

	if (id >= PM_GROUPS_NR)
		return false;
	mutex_lock(&pm_groups_lock);
	if (pm_group_refs[id]) {
		pm_group_refs[id]++;
		held = true;
	}
	mutex_unlock(&pm_groups_lock);
	return held;
}

/* Enabling twice is not an error, and takes no second reference. */
int pm_groups_global_enable(unsigned int id)
{
	bool changed = false;
	int ret = 0;

	if (id >= PM_GROUPS_NR)
		return -ENOENT;
	mutex_lock(&pm_groups_lock);
	if (!(pm_global_mask & BIT_ULL(id))) {
		ret = pm_group_get_locked(id);
		changed = !ret;
		if (changed)
			WRITE_ONCE(pm_global_mask, pm_global_mask | BIT_ULL(id));
	}
	mutex_unlock(&pm_groups_lock);
	if (changed)
		pm_uprobe_refresh(BIT_ULL(id));
	return ret;
}

void pm_groups_global_disable(unsigned int id)
{
	bool changed;

	if (id >= PM_GROUPS_NR)
		return;
	mutex_lock(&pm_groups_lock);
	changed = pm_global_mask & BIT_ULL(id);
	if (changed) {
		WRITE_ONCE(pm_global_mask, pm_global_mask & ~BIT_ULL(id));
		pm_group_put_locked(id);
	}
	mutex_unlock(&pm_groups_lock);
	if (changed)
		pm_uprobe_refresh(BIT_ULL(id));
}

u64 pm_groups_global(void)
{
	return READ_ONCE(pm_global_mask);
}

u64 pm_groups_attached(void)
{
	return READ_ONCE(pm_attached_mask);
}

static struct pm_group_holder *pm_holder_find(const struct net *net,
					       u32 portid)
{
	struct pm_group_holder *h;

	lockdep_assert_held(&pm_groups_lock);
	list_for_each_entry(h, &pm_holders, node)
		if (h->net == net && h->portid == portid)
			return h;
	return NULL;
}

/* Drops @mask of @h's holds; @h goes when it holds nothing. */
static void pm_holder_put_locked(struct pm_group_holder *h, u64 mask)
{
	unsigned int id;

	lockdep_assert_held(&pm_groups_lock);
	for (id = 0; id < PM_GROUPS_NR; id++) {
		if (!(h->mask & mask & BIT_ULL(id)))
			continue;
		h->mask &= ~BIT_ULL(id);
		pm_group_holds[id]--;
		pm_group_put_locked(id);
	}
	if (!h->mask) {
		list_del(&h->node);
		WRITE_ONCE(pm_nr_holders, pm_nr_holders - 1);
		kfree(h);
	}
}

int pm_groups_hold(const struct net *net, u32 portid, unsigned int id)
{
	struct pm_group_holder *h;
	int ret = 0;

	if (id >= PM_GROUPS_NR)
		return -ENOENT;
	mutex_lock(&pm_groups_lock);
	h = pm_holder_find(net, portid);
	if (h && (h->mask & BIT_ULL(id)))
		goto out;
	if (!h) {
		h = kzalloc(sizeof(*h), GFP_KERNEL);
		if (!h) {
			ret = -ENOMEM;
			goto out;
		}
		h->net = net;
		h->portid = portid;
		list_add(&h->node, &pm_holders);
		WRITE_ONCE(pm_nr_holders, pm_nr_holders + 1);
	}
	ret = pm_group_get_locked(id);
	if (!ret) {
		h->mask |= BIT_ULL(id);
		pm_group_holds[id]++;
	} else if (!h->mask) {
		list_del(&h->node);
		WRITE_ONCE(pm_nr_holders, pm_nr_holders - 1);
		kfree(h);
	}
out:
	mutex_unlock(&pm_groups_lock);
	return ret;
}

void pm_groups_unhold(const struct net *net, u32 portid, unsigned int id)
{
	struct pm_group_holder *h;

	if (id >= PM_GROUPS_NR)
		return;
	mutex_lock(&pm_groups_lock);
	h = pm_holder_find(net, portid);
	if (h)
		pm_holder_put_locked(h, BIT_ULL(id));
	mutex_unlock(&pm_groups_lock);
}

void pm_groups_release_holder(const struct net *net, u32 portid)
{
	struct pm_group_holder *h;

	/*
	 * A socket's own holds are added by its requests, which cannot race
	 * with its close: with no holder at all, it has none.
	 */
	if (!READ_ONCE(pm_nr_holders))
		return;
	mutex_lock(&pm_groups_lock);
	h = pm_holder_find(net, portid);
	if (h)
		pm_holder_put_locked(h, U64_MAX);
	mutex_unlock(&pm_groups_lock);
}

static void pm_groups_release_all_holders(void)
{
	struct pm_group_holder *h, *tmp;

	mutex_lock(&pm_groups_lock);
	list_for_each_entry_safe(h, tmp, &pm_holders, node)
		pm_holder_put_locked(h, U64_MAX);
	mutex_unlock(&pm_groups_lock);
}

static void pm_groups_disable_all(void)
{
	unsigned int id;

	for (id = 0; id < PM_GROUPS_NR; id++)
		pm_groups_global_disable(id);
}

int pm_groups_init(void)
{
	char *list, *cursor, *name;
	int ret = 0, id;

	if (!groups || !*groups)
		return 0;
	list = kstrdup(groups, GFP_KERNEL);
	if (!list)
		return -ENOMEM;
	cursor = list;
	while ((name = strsep(&cursor, ",")) != NULL) {
		name = strim(name);
		if (!*name)
			continue;
		id = pm_group_lookup(name);
		if (id < 0) {
			pr_err("groups=: unknown group '%s'\n", name);
			ret = -EINVAL;
			break;
		}
		ret = pm_groups_global_enable(id);
		if (ret) {
			pr_err("groups=: cannot enable group '%s': %d\n",
			       name, ret);
			break;
		}
	}
	kfree(list);
	if (ret)
		pm_groups_disable_all();
	return ret;
}

void pm_groups_exit(void)
{
	/* The netlink family is gone: no socket can hold or let go now. */
	pm_groups_release_all_holders();
	pm_groups_disable_all();
}

void pm_groups_print_mask(struct seq_file *m, u64 mask)
{
	const char *sep = "";
	unsigned int id;

	if (!mask) {
		seq_puts(m, "-");
		return;
	}
	for (id = 0; id < PM_GROUPS_NR; id++) {
		if (mask & BIT_ULL(id)) {
			seq_printf(m, "%s%s", sep, pm_group_name(id));
			sep = ",";
		}
	}
}

void pm_groups_show(struct seq_file *m)
{
	const struct pm_group *group;
	unsigned int id;

	mutex_lock(&pm_groups_lock);
	for (id = 0; id < PM_GROUPS_NR; id++) {
		group = pm_group_table[id];
		if (!group)
			continue;
		seq_printf(m, "group %s refs %u global %d attached %d holds %u\n",
			   group->name, pm_group_refs[id],
			   !!(pm_global_mask & BIT_ULL(id)),
			   !!(pm_attached_mask & BIT_ULL(id)),
			   pm_group_holds[id]);
		if (group->show)
			group->show(m);
	}
	mutex_unlock(&pm_groups_lock);
}
