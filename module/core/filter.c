// SPDX-License-Identifier: GPL-2.0
/*
 * Filter specs and the global filter (filter.h).
 *
 * The global filter is one RCU pointer. Probes test it without a lock:
 * the inline fast path reads only whether it is NULL, and the slow path
 * dereferences it inside rcu_read_lock_sched(), which is cheap and valid
 * in every context a probe runs in, NMI included. A change publishes a new
 * copy under pm_global_filter_lock and frees the old one after a grace
 * period (kfree_rcu(): since the RCU flavours were consolidated, that
 * also waits for every preemption-disabled reader).
 */
#include <linux/cgroup.h>
#include <linux/err.h>
#include <linux/mutex.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sort.h>

#include "core/filter.h"
#include "core/groups.h"
#include "core/uprobe.h"

struct pm_filter __rcu *pm_global_filter;
static DEFINE_MUTEX(pm_global_filter_lock);

static int pm_cmp_u32(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;

	return x < y ? -1 : x > y;
}

struct pm_filter *pm_filter_new(const struct pm_filter_spec *spec)
{
	struct pm_filter *f;

	if (spec->nr_tgids > PM_FILTER_TGIDS_MAX)
		return ERR_PTR(-E2BIG);
	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return NULL;
	f->spec = *spec;
	sort(f->spec.tgids, f->spec.nr_tgids, sizeof(u32), pm_cmp_u32, NULL);
	return f;
}

bool pm_filter_has_tgid(const struct pm_filter_spec *spec, u32 tgid)
{
	unsigned int lo = 0, hi = spec->nr_tgids, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (spec->tgids[mid] == tgid)
			return true;
		if (spec->tgids[mid] < tgid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

bool pm_filter_match(const struct pm_filter_spec *spec, u32 tgid,
		     u64 cgroup_id)
{
	if (spec->cgroup_id && spec->cgroup_id != cgroup_id)
		return false;
	if (spec->nr_tgids && !pm_filter_has_tgid(spec, tgid))
		return false;
	return true;
}

u64 pm_current_cgroup_id(void)
{
#ifdef CONFIG_CGROUPS
	u64 id;

	rcu_read_lock();
	id = cgroup_id(task_dfl_cgroup(current));
	rcu_read_unlock();
	return id;
#else
	return 0;
#endif
}

bool __pm_global_counts(u32 tgid, u64 cgroup_id)
{
	const struct pm_filter *f;
	bool pass = true;

	rcu_read_lock_sched_notrace();
	f = rcu_dereference_sched(pm_global_filter);
	if (f)
		pass = pm_filter_match(&f->spec, tgid, cgroup_id);
	rcu_read_unlock_sched_notrace();
	return pass;
}

bool __pm_global_counts_current(void)
{
	if (!in_task())
		return __pm_global_counts(0, 0);
	return __pm_global_counts(task_tgid_nr(current),
				  pm_current_cgroup_id());
}

bool pm_global_filter_may_pass(u32 tgid)
{
	const struct pm_filter *f;
	bool pass;

	rcu_read_lock_sched();
	f = rcu_dereference_sched(pm_global_filter);
	pass = !f || !f->spec.nr_tgids || pm_filter_has_tgid(&f->spec, tgid);
	rcu_read_unlock_sched();
	return pass;
}

int pm_global_filter_set(const struct pm_filter_spec *spec)
{
	struct pm_filter *f = NULL, *old;

	if (spec->nr_tgids || spec->cgroup_id) {
		f = pm_filter_new(spec);
		if (IS_ERR_OR_NULL(f))
			return f ? PTR_ERR(f) : -ENOMEM;
	}
	mutex_lock(&pm_global_filter_lock);
	old = rcu_replace_pointer(pm_global_filter, f,
				  lockdep_is_held(&pm_global_filter_lock));
	mutex_unlock(&pm_global_filter_lock);
	if (old)
		kfree_rcu(old, rcu);
	pm_uprobe_refresh(pm_groups_global());
	return 0;
}

bool pm_global_filter_get(struct pm_filter_spec *spec)
{
	const struct pm_filter *f;
	bool set;

	mutex_lock(&pm_global_filter_lock);
	f = rcu_dereference_protected(pm_global_filter,
				      lockdep_is_held(&pm_global_filter_lock));
	set = !!f;
	if (f)
		*spec = f->spec;
	mutex_unlock(&pm_global_filter_lock);
	return set;
}

void pm_global_filter_exit(void)
{
	/* No probe runs any more and netlink is gone: no reader is left. */
	kfree(rcu_dereference_protected(pm_global_filter, true));
	RCU_INIT_POINTER(pm_global_filter, NULL);
}
