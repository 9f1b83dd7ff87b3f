/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernels persecmon.ko builds for (Debian 6.1
 * and 6.12) lives here, and nowhere else, together with the one clash
 * between the uapi header and kernel names. Differences are detected by
 * feature, never by LINUX_VERSION_CODE (Debian backports APIs to 6.1):
 * either a macro the new API brings, or a PM_HAVE_* define that Kbuild sets
 * after looking at the target kernel's headers. Most differences are
 * avoided instead (misc device rather than class_create() and devnode,
 * capability check in each doit rather than pre_doit, noop_llseek):
 * docs/module.md lists them.
 */
#ifndef PERSECMON_COMPAT_H
#define PERSECMON_COMPAT_H

#include <linux/bits.h>
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/stddef.h>
#include <linux/uprobes.h>
#include <net/genetlink.h>

#include <linux/persecmon.h>

/* CPUs that PERSECMON_IOC_INFO can describe. */
enum {
	PM_INFO_MAX_CPUS = sizeof_field(struct persecmon_info, possible_cpus) *
			   BITS_PER_BYTE,
};

static inline void pm_info_set_possible(struct persecmon_info *info,
					unsigned int cpu)
{
	info->possible_cpus[cpu / 64] |= 1ULL << (cpu % 64);
}

/*
 * vma->vm_flags is const since 6.3 and changes through vm_flags_set() and
 * vm_flags_clear(); 6.1 has neither. Kbuild defines PM_HAVE_VM_FLAGS_SET
 * when the target kernel's <linux/mm.h> declares vm_flags_set().
 */
static inline void pm_vm_flags_set(struct vm_area_struct *vma,
				   vm_flags_t flags)
{
#ifdef PM_HAVE_VM_FLAGS_SET
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

/*
 * The path a process sees for a mapped file. Under overlayfs, vm_file is
 * the file of the layer below: 6.12 keeps the overlay's path beside it
 * (a backing file: file_user_path(), PM_HAVE_FILE_USER_PATH); 6.1's
 * overlayfs opened that file with the overlay's path as its f_path
 * (open_with_fake_path()). t27-memleak.sh checks both.
 */
static inline const struct path *pm_file_user_path(struct file *file)
{
#ifdef PM_HAVE_FILE_USER_PATH
	return file_user_path(file);
#else
	return &file->f_path;
#endif
}

static inline void pm_vm_flags_clear(struct vm_area_struct *vma,
				     vm_flags_t flags)
{
#ifdef PM_HAVE_VM_FLAGS_SET
	vm_flags_clear(vma, flags);
#else
	vma->vm_flags &= ~flags;
#endif
}

/*
 * uprobes, written against the 6.12 API: uprobe_register() returns the
 * struct uprobe (or an ERR_PTR) and takes the USDT semaphore offset;
 * removal is uprobe_unregister_nosync() per probe, then one
 * uprobe_unregister_sync() before anything the handlers use is freed.
 * 6.1 has uprobe_register_refctr() returning an int and a synchronous
 * uprobe_unregister() that needs the inode and offset again; there the
 * struct uprobe stays NULL and the sync is a no-op. Kbuild defines
 * PM_HAVE_UPROBE_UNREGISTER_SYNC when <linux/uprobes.h> declares it.
 * Handler prototypes are the same on both (6.13 adds a __u64 *data).
 */
struct inode;
struct uprobe;
struct uprobe_consumer;

static inline int pm_uprobe_register(struct inode *inode, loff_t offset,
				     loff_t ref_ctr_offset,
				     struct uprobe_consumer *uc,
				     struct uprobe **uprobe)
{
#ifdef PM_HAVE_UPROBE_UNREGISTER_SYNC
	struct uprobe *u = uprobe_register(inode, offset, ref_ctr_offset, uc);

	if (IS_ERR(u)) {
		*uprobe = NULL;
		return PTR_ERR(u);	/* already unregistered and synced */
	}
	*uprobe = u;
	return 0;
#else
	*uprobe = NULL;
	return uprobe_register_refctr(inode, offset, ref_ctr_offset, uc);
#endif
}

static inline void pm_uprobe_unregister_nosync(struct uprobe *uprobe,
					       struct inode *inode,
					       loff_t offset,
					       struct uprobe_consumer *uc)
{
#ifdef PM_HAVE_UPROBE_UNREGISTER_SYNC
	uprobe_unregister_nosync(uprobe, uc);
#else
	uprobe_unregister(inode, offset, uc);	/* synchronous on 6.1 */
#endif
}

static inline void pm_uprobe_unregister_sync(void)
{
#ifdef PM_HAVE_UPROBE_UNREGISTER_SYNC
	uprobe_unregister_sync();
#endif
}

/*
 * A uprobe consumer's filter says which processes need the breakpoint.
 * 6.12's takes (consumer, mm); 6.1's also an enum uprobe_filter_ctx that
 * persecmon has no use for. pm_uprobe_filter() has the target kernel's
 * prototype and asks core/uprobe.c's pm_uprobe_wants_mm(). Kbuild defines
 * PM_HAVE_UPROBE_FILTER_CTX when <linux/uprobes.h> has the enum.
 */
bool pm_uprobe_wants_mm(struct uprobe_consumer *uc, struct mm_struct *mm);

#ifdef PM_HAVE_UPROBE_FILTER_CTX
static inline bool pm_uprobe_filter(struct uprobe_consumer *uc,
				    enum uprobe_filter_ctx ctx,
				    struct mm_struct *mm)
{
	return pm_uprobe_wants_mm(uc, mm);
}
#else
static inline bool pm_uprobe_filter(struct uprobe_consumer *uc,
				    struct mm_struct *mm)
{
	return pm_uprobe_wants_mm(uc, mm);
}
#endif

/*
 * The tgid of the process that owns @mm (init pid namespace), or 0 where
 * the kernel does not track an owner: mm->owner exists with CONFIG_MEMCG
 * only (Debian's kernels and the debug kernel have it).
 */
static inline u32 pm_mm_owner_tgid(struct mm_struct *mm)
{
#ifdef CONFIG_MEMCG
	struct task_struct *owner;
	u32 tgid = 0;

	rcu_read_lock();
	owner = rcu_dereference(mm->owner);
	if (owner)
		tgid = task_tgid_nr(owner);
	rcu_read_unlock();
	return tgid;
#else
	return 0;
#endif
}

/*
 * The attributes of a dump request, parsed and validated by the command's
 * policy before .start runs. 6.12 keeps them in a genl_info inside the
 * dump's state (genl_info_dump()); 6.1 in genl_dumpit_info's attrs. Kbuild
 * defines PM_HAVE_GENL_INFO_DUMP when <net/genetlink.h> has the former.
 */
static inline struct nlattr **pm_genl_dump_attrs(struct netlink_callback *cb)
{
#ifdef PM_HAVE_GENL_INFO_DUMP
	return genl_info_dump(cb)->attrs;
#else
	return genl_dumpit_info(cb)->attrs;
#endif
}

#endif /* PERSECMON_COMPAT_H */
