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
#include <linux/stddef.h>

/*
 * struct persecmon_info has a field named cpu_possible_mask, which is also
 * an object-like macro of <linux/cpumask.h>. Parse the uapi header, and
 * touch the field, with the macro out of the way; module code includes the
 * uapi header through this file only (directly or via ring.h afterwards,
 * which the include guard turns into a no-op).
 */
#pragma push_macro("cpu_possible_mask")
#undef cpu_possible_mask
#include <linux/persecmon.h>

/* CPUs that PERSECMON_IOC_INFO can describe. */
enum {
	PM_INFO_MAX_CPUS = sizeof_field(struct persecmon_info,
					cpu_possible_mask) * BITS_PER_BYTE,
};

static inline void pm_info_set_possible(struct persecmon_info *info,
					unsigned int cpu)
{
	info->cpu_possible_mask[cpu / 64] |= 1ULL << (cpu % 64);
}

#pragma pop_macro("cpu_possible_mask")

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

static inline void pm_vm_flags_clear(struct vm_area_struct *vma,
				     vm_flags_t flags)
{
#ifdef PM_HAVE_VM_FLAGS_SET
	vm_flags_clear(vma, flags);
#else
	vma->vm_flags &= ~flags;
#endif
}

#endif /* PERSECMON_COMPAT_H */
