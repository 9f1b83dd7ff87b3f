// SPDX-License-Identifier: GPL-2.0
/*
 * The "files" group: one PERSECMON_EV_OPEN per open(2), openat(2),
 * openat2(2) and creat(2), like bcc's opensnoop.
 *
 * All four syscalls (and their compat forms) end in
 *	long do_sys_openat2(int dfd, const char __user *filename,
 *			    struct open_how *how)
 * which a kretprobe watches. Its entry handler runs before getname() and
 * saves dfd, the flags and mode from @how (kernel memory), the time, the
 * user pointer and a copy of the user's path; the return handler adds the
 * result and emits. Both handlers run with preemption off, so the path is
 * read with page faults disabled: a path on a page that is not
 * resident cannot be read at entry. getname() then faults it in, so the
 * return handler tries once more; only if that fails too is the record
 * sent with no path and PERSECMON_RF_TRUNCATED (counted as path_faults).
 * docs/module.md explains the choice and what the group does not see.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bits.h>
#include <linux/compat.h>
#include <linux/fcntl.h>
#include <linux/kprobes.h>
#include <linux/percpu.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include <uapi/linux/openat2.h>
#include <asm/syscall.h>
#include <asm/unistd.h>

#include "core/agg.h"
#include "core/aggmap.h"
#include "core/filter.h"
#include "core/groups.h"
#include "core/session.h"
#include "probes/files.h"

/*
 * Opens in flight at once, over all tasks. An open that blocks (a FIFO, a
 * slow network file system) holds its instance; when none is free the open
 * is not seen and the kretprobe's nmissed counts it (debugfs).
 */
#define PM_FILES_MAXACTIVE	2048

/* Not one of the four syscalls (never expected: counted in debugfs). */
#define PM_FILES_SYSCALL_UNKNOWN	0xffff

/* What the entry handler hands to the return handler (ri->data). */
struct pm_files_call {
	const char __user *upath;
	u64 start_ns;
	s32 dfd;
	u32 flags;
	u32 mode;
	u16 syscall;
	s16 path_len;		/* -1: not read yet (the page faulted) */
	bool listening;		/* a session has the group: emit */
	/* One byte more than kept, to tell "exactly the limit" from "cut". */
	char path[PM_FILES_PATH_MAX + 1];
};

struct pm_files_counts {
	u64 opens;
	u64 failed;
	u64 truncated;
	u64 path_faults;
	u64 unknown_syscall;
};

static struct pm_files_counts __percpu *pm_files_counts;
static struct kretprobe pm_files_kretprobe;

/*
 * "opens": opens and failed opens per process (tgid and comm), counted
 * while the group is attached, by a session or only globally.
 */
enum {
	PM_FILES_OPENS_OPENS,
	PM_FILES_OPENS_FAILED,
};

struct pm_files_opens_key {
	u32 tgid;
	char comm[TASK_COMM_LEN];
	u32 pad;
};

static int pm_files_opens_format(char *buf, size_t size, const void *key)
{
	const struct pm_files_opens_key *k = key;
	int len = scnprintf(buf, size, "pid=%u comm=%s", k->tgid, k->comm);
	char *c;

	/* A comm may hold any byte: one debugfs line per row. */
	for (c = buf; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			*c = '?';
	return len;
}

static const struct pm_aggmap_info pm_files_opens_info = {
	.name = "opens",
	.columns = "opens,failed",
	.capacity = 1024,
	.key_size = sizeof(struct pm_files_opens_key),
	.format_key = pm_files_opens_format,
	.sort_columns = BIT(PM_FILES_OPENS_OPENS),
};

DEFINE_PM_AGGMAP(pm_files_opens);
static struct pm_probe pm_files_probe = {
	.group = "files", .name = "do_sys_openat2", .mechanism = "kretprobe",
	.rp = &pm_files_kretprobe,
};

static u16 pm_files_syscall(void)
{
	long nr = syscall_get_nr(current, task_pt_regs(current));

	if (in_compat_syscall()) {
		switch (nr) {
#ifdef __NR_ia32_open
		case __NR_ia32_open:
			return PERSECMON_OPEN_OPEN;
		case __NR_ia32_creat:
			return PERSECMON_OPEN_CREAT;
		case __NR_ia32_openat:
			return PERSECMON_OPEN_OPENAT;
		case __NR_ia32_openat2:
			return PERSECMON_OPEN_OPENAT2;
#endif
		default:
			return PM_FILES_SYSCALL_UNKNOWN;
		}
	}
#ifdef __X32_SYSCALL_BIT
	nr &= ~(long)__X32_SYSCALL_BIT;
#endif
	switch (nr) {
#ifdef __NR_open
	case __NR_open:
		return PERSECMON_OPEN_OPEN;
#endif
#ifdef __NR_creat
	case __NR_creat:
		return PERSECMON_OPEN_CREAT;
#endif
	case __NR_openat:
		return PERSECMON_OPEN_OPENAT;
	case __NR_openat2:
		return PERSECMON_OPEN_OPENAT2;
	default:
		return PM_FILES_SYSCALL_UNKNOWN;
	}
}

/* Copies the user's path into @call; false if its page is not resident. */
static bool pm_files_read_path(struct pm_files_call *call)
{
	long len;

	/*
	 * strncpy_from_user_nofault() is not exported; this is what it does:
	 * with page faults disabled a missing page fails with -EFAULT.
	 */
	pagefault_disable();
	len = strncpy_from_user(call->path, call->upath, sizeof(call->path));
	pagefault_enable();
	if (len < 0)
		return false;
	call->path_len = len;
	return true;
}

/*
 * The "opens" row of the last open on this CPU and whose it was (tgid,
 * comm, and the map's generation it was taken under: aggmap.h): a
 * process opening in a loop then skips building and hashing its key.
 * Only the kretprobe return handler uses it: preemption off, never
 * nested.
 */
struct pm_files_opens_cache {
	atomic64_t *row;
	unsigned long gen;
	u32 tgid;
	char comm[TASK_COMM_LEN];
};

static DEFINE_PER_CPU(struct pm_files_opens_cache, pm_files_opens_cache);

static atomic64_t *pm_files_opens_row(void)
{
	struct pm_files_opens_cache *c = this_cpu_ptr(&pm_files_opens_cache);
	unsigned long gen = pm_aggmap_generation(&pm_files_opens);
	struct pm_files_opens_key key;

	if (c->row && c->gen == gen && c->tgid == current->tgid &&
	    pm_comm_equal(c->comm, current->comm))
		return c->row;
	memset(&key, 0, sizeof(key));
	key.tgid = current->tgid;
	strscpy(key.comm, current->comm, sizeof(key.comm));
	c->row = pm_aggmap_values(&pm_files_opens, &key);
	c->gen = gen;
	c->tgid = key.tgid;
	memcpy(c->comm, current->comm, sizeof(c->comm));
	return c->row;
}

static int pm_files_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct pm_files_call *call = (struct pm_files_call *)ri->data;
	const struct open_how *how;

	pm_probe_hit(&pm_files_probe);
	/*
	 * Nobody is listening (the group is on only globally): the return
	 * handler only counts the open in the aggregates.
	 */
	call->listening = pm_session_group_on(PERSECMON_GROUP_FILES);
	if (!call->listening)
		return 0;
	how = (const struct open_how *)regs_get_kernel_argument(regs, 2);
	call->dfd = (s32)regs_get_kernel_argument(regs, 0);
	call->upath = (const char __user *)regs_get_kernel_argument(regs, 1);
	call->flags = how->flags;
	call->mode = how->mode;
	call->syscall = pm_files_syscall();
	call->start_ns = ktime_get_mono_fast_ns();
	if (!pm_files_read_path(call))
		call->path_len = -1;
	return 0;
}

static int pm_files_return(struct kretprobe_instance *ri,
			   struct pt_regs *regs)
{
	struct pm_files_call *call = (struct pm_files_call *)ri->data;
	struct pm_files_counts *counts = this_cpu_ptr(pm_files_counts);
	long ret = regs_return_value(regs);
	atomic64_t *opens;
	struct persecmon_open_event *ev;
	struct persecmon_record *rec;
	bool truncated = false;
	struct pm_emit em;
	u32 path_len = 0;
	u64 now;

	if (pm_global_counts_current()) {
		counts->opens++;
		if (ret < 0)
			counts->failed++;
		/* Preemption is off in a kretprobe: aggmap.h's RULE holds. */
		opens = pm_files_opens_row();
		pm_aggmap_add(opens, PM_FILES_OPENS_OPENS, 1);
		if (ret < 0)
			pm_aggmap_add(opens, PM_FILES_OPENS_FAILED, 1);
	}
	if (!call->listening)
		return 0;
	if (call->syscall == PM_FILES_SYSCALL_UNKNOWN)
		counts->unknown_syscall++;
	if (call->path_len < 0 && !pm_files_read_path(call)) {
		counts->path_faults++;
		truncated = true;
	} else if (call->path_len > PM_FILES_PATH_MAX) {
		counts->truncated++;
		truncated = true;
		path_len = PM_FILES_PATH_MAX;
	} else {
		path_len = call->path_len;
	}

	if (!pm_emit_begin(&em, PERSECMON_GROUP_FILES))
		return 0;
	now = ktime_get_mono_fast_ns();
	while ((rec = pm_emit_reserve(&em, PERSECMON_EV_OPEN,
				      sizeof(*ev) + path_len))) {
		ev = container_of(rec, struct persecmon_open_event, hdr);
		if (truncated)
			rec->flags |= PERSECMON_RF_TRUNCATED;
		ev->ret = ret;
		ev->dfd = call->dfd;
		ev->flags = call->flags;
		ev->mode = call->mode;
		/* No task_lock() in probe context: current's own comm. */
		strscpy_pad(ev->comm, current->comm, sizeof(ev->comm));
		ev->latency_ns = now - call->start_ns;
		ev->path_len = path_len;
		ev->syscall = call->syscall;
		memcpy(ev->path, call->path, path_len);
		pm_emit_commit(&em, rec);
	}
	pm_emit_end(&em);
	return 0;
}

static int pm_files_attach(void)
{
	int ret;

	/* A kretprobe is reusable only with addr and flags reset. */
	memset(&pm_files_kretprobe, 0, sizeof(pm_files_kretprobe));
	pm_files_kretprobe.kp.symbol_name = "do_sys_openat2";
	pm_files_kretprobe.entry_handler = pm_files_entry;
	pm_files_kretprobe.handler = pm_files_return;
	pm_files_kretprobe.data_size = sizeof(struct pm_files_call);
	pm_files_kretprobe.maxactive = PM_FILES_MAXACTIVE;
	ret = register_kretprobe(&pm_files_kretprobe);
	pm_probe_set_state(&pm_files_probe, !ret, ret);
	return ret;
}

static void pm_files_detach(void)
{
	unregister_kretprobe(&pm_files_kretprobe);
	pm_probe_set_state(&pm_files_probe, false, 0);
}

static void pm_files_show(struct seq_file *m)
{
	const struct pm_files_counts *counts;
	unsigned int cpu;

	for_each_possible_cpu(cpu) {
		counts = per_cpu_ptr(pm_files_counts, cpu);
		seq_printf(m,
			   "files cpu %u opens %llu failed %llu truncated %llu path_faults %llu unknown_syscall %llu\n",
			   cpu, counts->opens, counts->failed,
			   counts->truncated, counts->path_faults,
			   counts->unknown_syscall);
	}
	/*
	 * Opens not seen: no free instance (nmissed), or the probe hit while
	 * another kprobe ran on that CPU (kp.nmissed).
	 */
	seq_printf(m,
		   "files kretprobe_missed %d kprobe_missed %lu maxactive %d\n",
		   READ_ONCE(pm_files_kretprobe.nmissed),
		   READ_ONCE(pm_files_kretprobe.kp.nmissed),
		   pm_files_kretprobe.maxactive);
}

static const struct pm_group pm_files_group = {
	.name = "files",
	.attach = pm_files_attach,
	.detach = pm_files_detach,
	.show = pm_files_show,
};

int pm_files_init(void)
{
	int ret;

	pm_files_counts = alloc_percpu(struct pm_files_counts);
	if (!pm_files_counts)
		return -ENOMEM;
	ret = pm_probe_register(&pm_files_probe);
	if (ret)
		goto err_probe;
	ret = pm_aggmap_init(&pm_files_opens, &pm_files_opens_info);
	if (ret)
		goto err_opens;
	ret = pm_group_register(PERSECMON_GROUP_FILES, &pm_files_group);
	if (ret)
		goto err_group;
	return 0;

err_group:
	pm_aggmap_destroy(&pm_files_opens);
err_opens:
	pm_probe_unregister(&pm_files_probe);
err_probe:
	free_percpu(pm_files_counts);
	return ret;
}

void pm_files_exit(void)
{
	pm_group_unregister(PERSECMON_GROUP_FILES);
	pm_aggmap_destroy(&pm_files_opens);
	pm_probe_unregister(&pm_files_probe);
	free_percpu(pm_files_counts);
}
