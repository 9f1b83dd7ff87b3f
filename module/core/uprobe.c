// SPDX-License-Identifier: GPL-2.0
/*
 * User-level probes for probe groups: targets from netlink become
 * registered uprobes/uretprobes whose handlers call the group's role
 * handlers. core/uprobe.h explains how a group uses this.
 *
 * A target pins its file with the struct path from kern_path() until after
 * the uprobe is unregistered (the inode alone is not enough: the mount
 * must stay too), and probes d_real_inode() of it: through overlayfs (the
 * root of containers and of the test VM) the inode that is mapped and
 * has read_folio is the underlying one.
 *
 * A uprobe is a breakpoint in every process that maps the file, and each
 * hit traps into the kernel whether or not anyone wants it. A group with
 * a wants() callback gives each consumer a filter, so that only the
 * processes some enabler may want get the breakpoint: at registration
 * (the kernel asks the new consumer's filter) and when a process maps the
 * file later (it asks every consumer's). When the wanted set changes while
 * targets are registered (a session enables the group, changes its
 * filter or closes), pm_uprobe_refresh() registers a second consumer per
 * target, with the same filter, and unregisters it again: uprobe_apply(),
 * which would do this, is not exported. The registration installs the
 * breakpoints the filter now passes, the unregistration removes those no
 * consumer wants any more. Processes forked from a wanted one inherit its
 * breakpoints; their hits are dropped, as before.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dcache.h>
#include <linux/errno.h>
#include <linux/fs.h>
#include <linux/mutex.h>
#include <linux/namei.h>
#include <linux/netlink.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uprobes.h>

#include "core/groups.h"
#include "core/uprobe.h"

static DEFINE_MUTEX(pm_uprobe_lock);
static LIST_HEAD(pm_uprobe_groups);

#define PM_UPROBE_FLAGS_CALL	(PERSECMON_UPROBE_ENTRY | PERSECMON_UPROBE_RETURN)

static int pm_uprobe_entry(struct uprobe_consumer *uc, struct pt_regs *regs)
{
	struct pm_uprobe_target *t = container_of(uc, struct pm_uprobe_target,
						  consumer.uc);

	pm_probe_hit(&t->probe);
	t->ug->roles[t->role].entry(t, regs);
	return 0;
}

/* PERSECMON_UPROBE_COUNT: hits only, no handler of the group. */
static int pm_uprobe_count(struct uprobe_consumer *uc, struct pt_regs *regs)
{
	struct pm_uprobe_target *t = container_of(uc, struct pm_uprobe_target,
						  consumer.uc);

	pm_probe_hit(&t->probe);
	return 0;
}

static int pm_uprobe_return(struct uprobe_consumer *uc, unsigned long func,
			    struct pt_regs *regs)
{
	struct pm_uprobe_target *t = container_of(uc, struct pm_uprobe_target,
						  consumer.uc);

	/* A target with an entry probe counted the call there already. */
	if (!(t->flags & PERSECMON_UPROBE_ENTRY))
		pm_probe_hit(&t->probe);
	t->ug->roles[t->role].ret(t, func, regs);
	return 0;
}

/* Whether the process of @mm may be wanted: unknown owners always are. */
bool pm_uprobe_wants_mm(struct uprobe_consumer *uc, struct mm_struct *mm)
{
	struct pm_uprobe_consumer *c = container_of(uc,
						    struct pm_uprobe_consumer,
						    uc);
	u32 tgid = pm_mm_owner_tgid(mm);

	return !tgid || c->ug->wants(tgid);
}

/* The installer only makes the kernel consult the filter: no work. */
static int pm_uprobe_installer_hit(struct uprobe_consumer *uc,
				   struct pt_regs *regs)
{
	return 0;
}

static struct pm_uprobe_group *pm_uprobe_group_find(unsigned int group)
{
	struct pm_uprobe_group *ug;

	lockdep_assert_held(&pm_uprobe_lock);
	list_for_each_entry(ug, &pm_uprobe_groups, node)
		if (ug->group == group)
			return ug;
	return NULL;
}

int pm_uprobe_group_register(struct pm_uprobe_group *ug)
{
	int ret = 0;

	if (!ug->roles || !ug->nr_roles)
		return -EINVAL;
	mutex_lock(&pm_uprobe_lock);
	if (pm_uprobe_group_find(ug->group)) {
		ret = -EEXIST;
	} else {
		INIT_LIST_HEAD(&ug->targets);
		ug->nr_targets = 0;
		ug->attached = false;
		list_add_tail(&ug->node, &pm_uprobe_groups);
	}
	mutex_unlock(&pm_uprobe_lock);
	return ret;
}

/* Frees targets whose uprobes are not registered (any more). */
static void pm_uprobe_free_list(struct list_head *targets)
{
	struct pm_uprobe_target *t, *tmp;

	list_for_each_entry_safe(t, tmp, targets, node) {
		list_del(&t->node);
		if (t->probe.hits)
			pm_probe_unregister(&t->probe);
		path_put(&t->path);
		kfree(t);
	}
}

/*
 * Unregisters every uprobe on @targets: nosync each, then one sync, after
 * which no handler can still be running on them (on 6.1 each unregister
 * is synchronous already); then frees them.
 */
static void pm_uprobe_release_list(struct list_head *targets)
{
	struct pm_uprobe_target *t;

	if (list_empty(targets))
		return;
	list_for_each_entry(t, targets, node) {
		WRITE_ONCE(t->probe.attached, false);
		pm_uprobe_unregister_nosync(t->uprobe, t->inode, t->offset,
					    &t->consumer.uc);
	}
	pm_uprobe_unregister_sync();
	pm_uprobe_free_list(targets);
}

void pm_uprobe_group_unregister(struct pm_uprobe_group *ug)
{
	mutex_lock(&pm_uprobe_lock);
	/* Every enabler let go before the probe file exits. */
	WARN_ON(ug->attached);
	pm_uprobe_release_list(&ug->targets);
	ug->nr_targets = 0;
	list_del(&ug->node);
	mutex_unlock(&pm_uprobe_lock);
}

void pm_uprobe_group_attach(struct pm_uprobe_group *ug)
{
	mutex_lock(&pm_uprobe_lock);
	ug->attached = true;
	mutex_unlock(&pm_uprobe_lock);
}

void pm_uprobe_group_detach(struct pm_uprobe_group *ug)
{
	mutex_lock(&pm_uprobe_lock);
	ug->attached = false;
	pm_uprobe_release_list(&ug->targets);
	ug->nr_targets = 0;
	mutex_unlock(&pm_uprobe_lock);
}

static int pm_uprobe_check_spec(struct pm_uprobe_group *ug,
				const struct pm_uprobe_spec *spec,
				struct netlink_ext_ack *extack)
{
	const struct pm_uprobe_role *role;

	if (!spec->path || spec->path[0] != '/') {
		NL_SET_ERR_MSG_ATTR(extack, spec->nla,
				    "uprobe path must be absolute");
		return -EINVAL;
	}
	if (spec->ref_ctr_offset % 2) {
		NL_SET_ERR_MSG_ATTR(extack, spec->nla,
				    "USDT semaphore offset must be 2-byte aligned");
		return -EINVAL;
	}
	if (spec->flags == PERSECMON_UPROBE_COUNT)
		return 0;		/* no handler, any role */
	if (spec->role >= ug->nr_roles || !ug->roles[spec->role].name) {
		NL_SET_ERR_MSG_ATTR(extack, spec->nla,
				    "unknown uprobe role for this group");
		return -EINVAL;
	}
	if (!spec->flags || (spec->flags & ~PM_UPROBE_FLAGS_CALL)) {
		NL_SET_ERR_MSG_ATTR(extack, spec->nla,
				    "uprobe flags must be ENTRY and/or RETURN, or COUNT alone");
		return -EINVAL;
	}
	role = &ug->roles[spec->role];
	if (((spec->flags & PERSECMON_UPROBE_ENTRY) && !role->entry) ||
	    ((spec->flags & PERSECMON_UPROBE_RETURN) && !role->ret)) {
		NL_SET_ERR_MSG_ATTR(extack, spec->nla,
				    "this role has no handler for that probe kind");
		return -EINVAL;
	}
	return 0;
}

static int pm_uprobe_target_new(struct pm_uprobe_group *ug,
				const struct pm_uprobe_spec *spec,
				struct pm_uprobe_target **out,
				struct netlink_ext_ack *extack)
{
	struct pm_uprobe_target *t;
	loff_t size;
	int ret;

	t = kzalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	ret = kern_path(spec->path, LOOKUP_FOLLOW, &t->path);
	if (ret) {
		kfree(t);
		NL_SET_ERR_MSG_ATTR(extack, spec->nla,
				    "uprobe path cannot be resolved");
		return ret;
	}
	ret = -EINVAL;
	if (!d_is_reg(t->path.dentry)) {
		NL_SET_ERR_MSG_ATTR(extack, spec->nla,
				    "uprobe path is not a regular file");
		goto err;
	}
	t->inode = d_real_inode(t->path.dentry);
	size = i_size_read(t->inode);
	if (spec->offset >= size) {
		NL_SET_ERR_MSG_ATTR(extack, spec->nla,
				    "uprobe offset beyond the end of the file");
		goto err;
	}
	if (spec->ref_ctr_offset &&
	    (size < sizeof(u16) ||
	     spec->ref_ctr_offset > (u64)size - sizeof(u16))) {
		NL_SET_ERR_MSG_ATTR(extack, spec->nla,
				    "USDT semaphore offset beyond the end of the file");
		goto err;
	}
	t->ug = ug;
	t->role = spec->role;
	t->flags = spec->flags;
	t->cookie = spec->cookie;
	t->offset = spec->offset;
	t->ref_ctr_offset = spec->ref_ctr_offset;
	t->nla = spec->nla;
	if (spec->flags & PERSECMON_UPROBE_COUNT)
		t->consumer.uc.handler = pm_uprobe_count;
	if (spec->flags & PERSECMON_UPROBE_ENTRY)
		t->consumer.uc.handler = pm_uprobe_entry;
	if (spec->flags & PERSECMON_UPROBE_RETURN)
		t->consumer.uc.ret_handler = pm_uprobe_return;
	/* A COUNT target checks the probe point: every hit counts. */
	if (ug->wants && !(spec->flags & PERSECMON_UPROBE_COUNT)) {
		t->consumer.uc.filter = pm_uprobe_filter;
		t->consumer.ug = ug;
		t->installer.uc.filter = pm_uprobe_filter;
		t->installer.uc.handler = pm_uprobe_installer_hit;
		t->installer.ug = ug;
	}
	if (spec->label && spec->label[0])
		snprintf(t->name, sizeof(t->name), "%s:%s",
			 kbasename(spec->path), spec->label);
	else
		snprintf(t->name, sizeof(t->name), "%s:0x%llx",
			 kbasename(spec->path), spec->offset);
	t->probe.group = pm_group_name(ug->group);
	t->probe.name = t->name;
	t->probe.mechanism = (spec->flags & PERSECMON_UPROBE_RETURN) &&
			     !(spec->flags & PERSECMON_UPROBE_ENTRY) ?
			     "uretprobe" : "uprobe";
	*out = t;
	return 0;
err:
	path_put(&t->path);
	kfree(t);
	return ret;
}

int pm_uprobe_prepare(unsigned int group, const struct pm_uprobe_spec *specs,
		      unsigned int nr, struct pm_uprobe_batch *batch,
		      struct netlink_ext_ack *extack)
{
	struct pm_uprobe_target *t;
	unsigned int i;
	int ret;

	INIT_LIST_HEAD(&batch->targets);
	mutex_lock(&pm_uprobe_lock);
	batch->ug = pm_uprobe_group_find(group);
	mutex_unlock(&pm_uprobe_lock);
	if (!batch->ug) {
		NL_SET_ERR_MSG(extack, "this group takes no uprobe targets");
		return -EOPNOTSUPP;
	}
	if (nr > PM_UPROBE_TARGETS_MAX) {
		NL_SET_ERR_MSG_ATTR(extack, specs[PM_UPROBE_TARGETS_MAX].nla,
				    "too many uprobe targets");
		return -E2BIG;
	}
	for (i = 0; i < nr; i++) {
		ret = pm_uprobe_check_spec(batch->ug, &specs[i], extack);
		if (!ret)
			ret = pm_uprobe_target_new(batch->ug, &specs[i], &t,
						   extack);
		if (ret) {
			pm_uprobe_free_list(&batch->targets);
			return ret;
		}
		list_add_tail(&t->node, &batch->targets);
	}
	return 0;
}

void pm_uprobe_discard(struct pm_uprobe_batch *batch)
{
	pm_uprobe_free_list(&batch->targets);
}

static bool pm_uprobe_same(const struct pm_uprobe_target *a,
			   const struct pm_uprobe_target *b)
{
	return a->inode == b->inode && a->offset == b->offset &&
	       a->role == b->role && a->flags == b->flags &&
	       a->ref_ctr_offset == b->ref_ctr_offset &&
	       a->cookie == b->cookie;
}

static bool pm_uprobe_listed(const struct list_head *list,
			     const struct pm_uprobe_target *t)
{
	const struct pm_uprobe_target *o;

	list_for_each_entry(o, list, node)
		if (pm_uprobe_same(o, t))
			return true;
	return false;
}

int pm_uprobe_commit(struct pm_uprobe_batch *batch,
		     struct netlink_ext_ack *extack)
{
	struct pm_uprobe_group *ug = batch->ug;
	struct pm_uprobe_target *t, *tmp;
	LIST_HEAD(added);
	LIST_HEAD(dups);
	unsigned int n = 0;
	int ret = 0;

	mutex_lock(&pm_uprobe_lock);
	if (!ug->attached) {
		NL_SET_ERR_MSG(extack, "group detached meanwhile");
		ret = -ENODATA;
		goto out;
	}
	/* Targets already registered (or twice in this batch) are kept once. */
	list_for_each_entry_safe(t, tmp, &batch->targets, node) {
		if (pm_uprobe_listed(&ug->targets, t) ||
		    pm_uprobe_listed(&added, t)) {
			list_move_tail(&t->node, &dups);
			continue;
		}
		list_move_tail(&t->node, &added);
		n++;
	}
	if (ug->nr_targets + n > PM_UPROBE_TARGETS_MAX) {
		NL_SET_ERR_MSG(extack,
			       "too many uprobe targets in this group");
		ret = -E2BIG;
		goto out;
	}
	list_for_each_entry(t, &added, node) {
		ret = pm_probe_register(&t->probe);
		if (!ret)
			ret = pm_uprobe_register(t->inode, t->offset,
						 t->ref_ctr_offset, &t->consumer.uc,
						 &t->uprobe);
		/*
		 * Path, offset and semaphore were checked: the kernel's own
		 * -EINVAL is a probe at this address with another
		 * ref_ctr_offset (e.g. bcc's Python tools, which pass an
		 * uninitialized one), which uprobes cannot share.
		 */
		if (ret == -EINVAL)
			NL_SET_ERR_MSG_ATTR(extack, t->nla,
					    "another tracer's uprobe at this address has a different ref_ctr_offset (dmesg)");
		else if (ret)
			NL_SET_ERR_MSG_ATTR(extack, t->nla,
					    "registering the uprobe failed");
		if (ret) {
			pr_warn("uprobe %s offset 0x%llx: %d\n", t->name,
				(unsigned long long)t->offset, ret);
			break;
		}
		t->nla = NULL;
		WRITE_ONCE(t->probe.attached, true);
	}
	if (ret) {
		/* All or none: unregister the ones registered before @t. */
		LIST_HEAD(done);
		struct pm_uprobe_target *r, *next;

		list_for_each_entry_safe(r, next, &added, node) {
			if (r == t)
				break;
			list_move_tail(&r->node, &done);
		}
		pm_uprobe_release_list(&done);
		goto out;
	}
	list_splice_tail_init(&added, &ug->targets);
	ug->nr_targets += n;
out:
	mutex_unlock(&pm_uprobe_lock);
	pm_uprobe_free_list(&added);
	pm_uprobe_free_list(&dups);
	pm_uprobe_free_list(&batch->targets);
	return ret;
}

/*
 * Installs the breakpoints of @ug's filtered targets in every process
 * that its wants() passes now and lacks them, and removes those it no
 * longer passes. Each target's installer consumer is registered and
 * unregistered again; one sync at the end, before they can be reused.
 */
static void pm_uprobe_group_refresh(struct pm_uprobe_group *ug)
{
	struct pm_uprobe_target *t;
	struct uprobe *uprobe;
	bool registered = false;
	int ret;

	lockdep_assert_held(&pm_uprobe_lock);
	list_for_each_entry(t, &ug->targets, node) {
		if (!t->consumer.uc.filter)
			continue;
		ret = pm_uprobe_register(t->inode, t->offset, t->ref_ctr_offset,
					 &t->installer.uc, &uprobe);
		if (ret) {
			/* Some wanted process may lack the breakpoint. */
			WRITE_ONCE(t->probe.error, ret);
			pr_warn("uprobe %s: applying the filter failed: %d\n",
				t->name, ret);
			continue;
		}
		pm_uprobe_unregister_nosync(uprobe, t->inode, t->offset,
					    &t->installer.uc);
		registered = true;
	}
	if (registered)
		pm_uprobe_unregister_sync();
}

void pm_uprobe_refresh(u64 groups)
{
	struct pm_uprobe_group *ug;

	mutex_lock(&pm_uprobe_lock);
	list_for_each_entry(ug, &pm_uprobe_groups, node)
		if ((groups & BIT_ULL(ug->group)) && ug->wants &&
		    ug->attached)
			pm_uprobe_group_refresh(ug);
	mutex_unlock(&pm_uprobe_lock);
}
