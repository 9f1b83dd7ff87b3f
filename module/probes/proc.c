// SPDX-License-Identifier: GPL-2.0
/*
 * The "proc" group: PERSECMON_EV_EXEC, _FORK and _EXIT.
 *
 * The sched_process_* tracepoints are not exported, so they are found by
 * name among the kernel's tracepoints. check_trace_callback_type_*() makes
 * a probe whose prototype differs from the tracepoint's a build error
 * rather than silently misread arguments.
 *
 * Every probe runs in the context of the task it reports (the new image
 * for exec, the parent for fork, the exiting task for exit) with
 * preemption disabled, so it must not fault: the argument area of the new
 * image is read with copy_from_user_nofault(). Its pages were just written
 * by exec itself, so in practice the read succeeds; when it does not, the
 * record carries no arguments and is flagged PERSECMON_RF_TRUNCATED.
 *
 * Failed execs (PERSECMON_EV_EXEC_FAIL) never reach sched_process_exec.
 * They are seen by kretprobes on the syscall entry points, the one place
 * both the caller's filename pointer and the result are at hand on 6.1
 * and 6.12 alike: do_execveat_common(), which holds the kernel's getname()
 * copy, exists in both kernels only as a .isra clone that cannot be named,
 * and bprm_execve() neither has the same prototype in both nor sees the
 * failures of the open (6.12 opens the file before it). docs/module.md
 * has the rest of the argument.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/binfmts.h>
#include <linux/bits.h>
#include <linux/compat.h>
#include <linux/errno.h>
#include <linux/fcntl.h>
#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/ktime.h>
#include <linux/mm_types.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/tracepoint.h>
#include <linux/uaccess.h>
#include <asm/syscall.h>
#include <trace/events/sched.h>

#include "core/groups.h"
#include "core/tracepoint.h"
#include "core/session.h"
#include "probes/proc.h"

/*
 * The exec probe's staging area: the filename and arguments are read once
 * and copied into every session's record, each sized to what was read.
 * Only the exec probe uses it, in task context with preemption disabled,
 * so it is never used twice at once on a CPU.
 */
struct pm_proc_exec_scratch {
	char filename[PM_PROC_FILENAME_MAX];
	/* Also the failed exec's (below): never both at once on a CPU. */
	char args[PM_PROC_ARGS_MAX];
	/*
	 * The failed exec's filename, read by the kretprobe return handler
	 * (task context, preemption off, never nested with the tracepoint
	 * probe on one CPU). One byte more than kept, to tell "exactly the
	 * limit" from "cut".
	 */
	char fail_filename[PM_PROC_FILENAME_MAX + 1];
};

static struct pm_proc_exec_scratch __percpu *pm_proc_scratch;

/* Counted while a session has the group (the entry handler's test). */
struct pm_proc_fail_counts {
	u64 exec_fail;
	u64 no_filename;
	u64 truncated;
};

static struct pm_proc_fail_counts __percpu *pm_proc_fail_counts;

/*
 * What the exec kretprobes' entry handler hands to the return handler
 * (ri->data, preallocated with the instances: no lock, no allocation).
 */
struct pm_proc_exec_call {
	const char __user *filename;
	const void __user *argv;	/* char *[] or, compat, u32[] */
	/* Only compared: a failure past the point of no return replaced it. */
	const struct mm_struct *mm;
	s32 dfd;
	u32 at_flags;
	u16 syscall;
	u16 flags;
};

/*
 * Exec syscalls in flight at once per kretprobe, over all tasks. An exec
 * that blocks (a slow file system, de_thread() waiting for the other
 * threads) holds its instance; when none is free the exec is not seen and
 * the kretprobe's nmissed counts it (status, debugfs "probes").
 */
#define PM_PROC_EXEC_MAXACTIVE		256
#define PM_PROC_EXEC_COMPAT_MAXACTIVE	32

static int pm_proc_execve_entry(struct kretprobe_instance *ri,
				struct pt_regs *regs);
static int pm_proc_execveat_entry(struct kretprobe_instance *ri,
				  struct pt_regs *regs);
/* The failed exec's argv[@i] pointer; false if it cannot be read. */
static bool pm_proc_fail_argv(const struct pm_proc_exec_call *call,
			      unsigned int i, unsigned long *ptr)
{
	u32 ptr32;
	u64 ptr64;

	if (call->flags & PERSECMON_EXEC_FAIL_COMPAT) {
		if (copy_from_user_nofault(&ptr32, call->argv + i * sizeof(u32),
					   sizeof(ptr32)))
			return false;
		*ptr = ptr32;
	} else {
		if (copy_from_user_nofault(&ptr64, call->argv + i * sizeof(u64),
					   sizeof(ptr64)))
			return false;
		*ptr = ptr64;
	}
	return true;
}

/*
 * Copies the failed exec's arguments into @buf, NUL-separated as in an
 * EXEC record, for the same reasons and under the same conditions as the
 * filename. Returns the bytes kept; *@cut when some were left out,
 * *@unreadable when argv itself could not be read (a NULL argv is an
 * empty one, as the kernel takes it).
 */
static u16 pm_proc_read_fail_args(const struct pm_proc_exec_call *call,
				  char *buf, bool *cut, bool *unreadable)
{
	unsigned long ptr;
	unsigned int i;
	long len;
	u16 n = 0;

	if (current->mm != call->mm) {
		*unreadable = true;
		return 0;
	}
	if (!call->argv)
		return 0;
	for (i = 0; ; i++) {
		if (!pm_proc_fail_argv(call, i, &ptr)) {
			*unreadable = !i;
			*cut = true;
			break;
		}
		if (!ptr)
			break;
		if (i) {
			/* Room for the separator and some of the string. */
			if (n + 1 >= PM_PROC_ARGS_MAX) {
				*cut = true;
				break;
			}
			buf[n++] = '\0';
		}
		pagefault_disable();
		len = strncpy_from_user(buf + n, (const char __user *)ptr,
					PM_PROC_ARGS_MAX - n);
		pagefault_enable();
		if (len < 0) {
			*cut = true;
			break;
		}
		n += len;
		if (n >= PM_PROC_ARGS_MAX) {
			/* This string filled the rest, maybe without its end. */
			*cut = true;
			break;
		}
	}
	return n;
}

static int pm_proc_exec_return(struct kretprobe_instance *ri,
			       struct pt_regs *regs);

/*
 * The x86-64 syscall entry points; the ia32 ones exist only with
 * IA32_EMULATION and are optional. x32 (__x64_compat_sys_*) is not
 * covered: disabled at boot on Debian, absent from the debug kernel.
 */
struct pm_proc_exec_rp {
	const char *symbol;
	kretprobe_handler_t entry;
	int maxactive;
	bool optional;
	struct kretprobe rp;
	struct pm_probe probe;
};

enum {
	PM_PROC_RP_EXECVE,
	PM_PROC_RP_EXECVEAT,
	PM_PROC_RP_IA32_EXECVE,
	PM_PROC_RP_IA32_EXECVEAT,
	PM_PROC_NR_RPS
};

static struct pm_proc_exec_rp pm_proc_rps[PM_PROC_NR_RPS] = {
	[PM_PROC_RP_EXECVE] = {
		.symbol = "__x64_sys_execve", .entry = pm_proc_execve_entry,
		.maxactive = PM_PROC_EXEC_MAXACTIVE,
	},
	[PM_PROC_RP_EXECVEAT] = {
		.symbol = "__x64_sys_execveat",
		.entry = pm_proc_execveat_entry,
		.maxactive = PM_PROC_EXEC_MAXACTIVE,
	},
	[PM_PROC_RP_IA32_EXECVE] = {
		.symbol = "__ia32_compat_sys_execve",
		.entry = pm_proc_execve_entry,
		.maxactive = PM_PROC_EXEC_COMPAT_MAXACTIVE, .optional = true,
	},
	[PM_PROC_RP_IA32_EXECVEAT] = {
		.symbol = "__ia32_compat_sys_execveat",
		.entry = pm_proc_execveat_entry,
		.maxactive = PM_PROC_EXEC_COMPAT_MAXACTIVE, .optional = true,
	},
};

static void pm_proc_exec_probe(void *data, struct task_struct *p,
			       pid_t old_pid, struct linux_binprm *bprm);
static void pm_proc_fork_probe(void *data, struct task_struct *parent,
			       struct task_struct *child);
static void pm_proc_exit_probe(void *data, struct task_struct *p);

enum { PM_PROC_TP_EXEC, PM_PROC_TP_FORK, PM_PROC_TP_EXIT, PM_PROC_NR_TPS };

static struct pm_tp pm_proc_tps[PM_PROC_NR_TPS] = {
	[PM_PROC_TP_EXEC] = {
		.name = "sched_process_exec", .func = pm_proc_exec_probe,
	},
	[PM_PROC_TP_FORK] = {
		.name = "sched_process_fork", .func = pm_proc_fork_probe,
	},
	[PM_PROC_TP_EXIT] = {
		.name = "sched_process_exit", .func = pm_proc_exit_probe,
	},
};

static u32 pm_proc_ppid(struct task_struct *task)
{
	u32 ppid;

	rcu_read_lock();
	ppid = rcu_dereference(task->real_parent)->tgid;
	rcu_read_unlock();
	return ppid;
}

/*
 * Reads the argument area of the current (new) image into @buf. Returns
 * the bytes kept; *@cut is set when some were left out. The last string's
 * NUL is dropped: the strings are NUL-separated, not NUL-terminated.
 */
static u16 pm_proc_read_args(char *buf, bool *cut)
{
	struct mm_struct *mm = current->mm;
	unsigned long start, end, len;

	if (!mm)
		return 0;
	start = READ_ONCE(mm->arg_start);
	end = READ_ONCE(mm->arg_end);
	if (end <= start)
		return 0;
	len = end - start - 1;	/* without the final NUL */
	if (len > PM_PROC_ARGS_MAX) {
		len = PM_PROC_ARGS_MAX;
		*cut = true;
	}
	if (!len)
		return 0;
	if (copy_from_user_nofault(buf, (const void __user *)start, len)) {
		*cut = true;
		return 0;
	}
	return len;
}

static void pm_proc_exec_probe(void *data, struct task_struct *p,
			       pid_t old_pid, struct linux_binprm *bprm)
{
	struct pm_proc_exec_scratch *scratch;
	struct persecmon_exec_event *ev;
	struct persecmon_record *rec;
	u16 filename_len, args_len;
	bool cut = false;
	struct pm_emit em;
	size_t len;
	u32 ppid;

	pm_tp_hit(&pm_proc_tps[PM_PROC_TP_EXEC]);
	if (!pm_emit_begin(&em, PERSECMON_GROUP_PROC))
		return;
	scratch = this_cpu_ptr(pm_proc_scratch);
	len = strnlen(bprm->filename, PM_PROC_FILENAME_MAX);
	if (len == PM_PROC_FILENAME_MAX && bprm->filename[len])
		cut = true;
	memcpy(scratch->filename, bprm->filename, len);
	filename_len = len;
	args_len = pm_proc_read_args(scratch->args, &cut);
	ppid = pm_proc_ppid(p);

	while ((rec = pm_emit_reserve(&em, PERSECMON_EV_EXEC,
				      sizeof(*ev) + filename_len +
				      args_len))) {
		ev = container_of(rec, struct persecmon_exec_event, hdr);
		if (cut)
			rec->flags |= PERSECMON_RF_TRUNCATED;
		ev->ppid = ppid;
		ev->old_pid = old_pid;
		strscpy_pad(ev->comm, p->comm, sizeof(ev->comm));
		ev->argc = bprm->argc;
		ev->filename_len = filename_len;
		ev->args_len = args_len;
		memcpy(ev->data, scratch->filename, filename_len);
		memcpy(ev->data + filename_len, scratch->args, args_len);
		pm_emit_commit(&em, rec);
	}
	pm_emit_end(&em);
}

/* The probe whose kretprobe @ri belongs to, for its hit count. */
static struct pm_proc_exec_rp *pm_proc_rp_of(struct kretprobe_instance *ri)
{
	return container_of(get_kretprobe(ri), struct pm_proc_exec_rp, rp);
}

static int pm_proc_exec_entry(struct kretprobe_instance *ri, u16 syscall)
{
	struct pm_proc_exec_call *call = (struct pm_proc_exec_call *)ri->data;
	unsigned long args[6];

	pm_probe_hit(&pm_proc_rp_of(ri)->probe);
	/*
	 * No session has the group (it is on only globally): nothing to
	 * emit, so the instance goes straight back to the pool and the
	 * return is not probed. This one load is what every exec pays then.
	 */
	if (!pm_session_group_on(PERSECMON_GROUP_PROC))
		return 1;
	/*
	 * The syscall's own arguments, from the user registers: the entry
	 * points' prototypes (a pt_regs pointer) say nothing about them, and
	 * syscall_get_arguments() knows the ia32 layout.
	 */
	syscall_get_arguments(current, task_pt_regs(current), args);
	call->mm = current->mm;
	call->syscall = syscall;
	call->flags = in_compat_syscall() ? PERSECMON_EXEC_FAIL_COMPAT : 0;
	if (syscall == PERSECMON_EXEC_EXECVEAT) {
		call->dfd = (s32)args[0];
		call->filename = (const char __user *)args[1];
		call->argv = (const void __user *)args[2];
		call->at_flags = (u32)args[4];
	} else {
		call->dfd = AT_FDCWD;
		call->filename = (const char __user *)args[0];
		call->argv = (const void __user *)args[1];
		call->at_flags = 0;
	}
	return 0;
}

static int pm_proc_execve_entry(struct kretprobe_instance *ri,
				struct pt_regs *regs)
{
	return pm_proc_exec_entry(ri, PERSECMON_EXEC_EXECVE);
}

static int pm_proc_execveat_entry(struct kretprobe_instance *ri,
				  struct pt_regs *regs)
{
	return pm_proc_exec_entry(ri, PERSECMON_EXEC_EXECVEAT);
}

/*
 * Copies the failed exec's filename into @buf; -1 if it cannot be read.
 * Read at return, not entry, so successful execs pay nothing for it: a
 * failure before the point of no return leaves the caller's memory as it
 * was, and getname() has just faulted the string's page in, so a read
 * with page faults disabled almost always succeeds. After the point of no
 * return the address space is the new image's and the pointer means
 * nothing there.
 */
static long pm_proc_read_fail_filename(const struct pm_proc_exec_call *call,
				       char *buf)
{
	long len;

	if (current->mm != call->mm)
		return -1;
	/* strncpy_from_user_nofault() is not exported; this is what it does. */
	pagefault_disable();
	len = strncpy_from_user(buf, call->filename, PM_PROC_FILENAME_MAX + 1);
	pagefault_enable();
	return len < 0 ? -1 : len;
}

static int pm_proc_exec_return(struct kretprobe_instance *ri,
			       struct pt_regs *regs)
{
	struct pm_proc_exec_call *call = (struct pm_proc_exec_call *)ri->data;
	struct persecmon_exec_fail_event *ev;
	struct pm_proc_fail_counts *counts;
	struct persecmon_record *rec;
	long ret = regs_return_value(regs);
	bool truncated = false;
	u16 flags = call->flags;
	bool args_cut = false, no_args = false;
	struct pm_emit em;
	char *filename, *args;
	u16 args_len;
	long len;
	u32 ppid;

	if (ret >= 0)
		return 0;
	counts = this_cpu_ptr(pm_proc_fail_counts);
	counts->exec_fail++;
	filename = this_cpu_ptr(pm_proc_scratch)->fail_filename;
	args = this_cpu_ptr(pm_proc_scratch)->args;
	len = pm_proc_read_fail_filename(call, filename);
	if (len < 0) {
		counts->no_filename++;
		flags |= PERSECMON_EXEC_FAIL_NO_FILENAME;
		truncated = true;
		len = 0;
	} else if (len > PM_PROC_FILENAME_MAX) {
		counts->truncated++;
		truncated = true;
		len = PM_PROC_FILENAME_MAX;
	}
	args_len = pm_proc_read_fail_args(call, args, &args_cut, &no_args);
	if (no_args)
		flags |= PERSECMON_EXEC_FAIL_NO_ARGS;
	if (args_cut && !truncated)
		counts->truncated++;
	truncated |= args_cut;
	ppid = pm_proc_ppid(current);

	if (!pm_emit_begin(&em, PERSECMON_GROUP_PROC))
		return 0;
	while ((rec = pm_emit_reserve(&em, PERSECMON_EV_EXEC_FAIL,
				      sizeof(*ev) + len + args_len))) {
		ev = container_of(rec, struct persecmon_exec_fail_event, hdr);
		if (truncated)
			rec->flags |= PERSECMON_RF_TRUNCATED;
		ev->ret = ret;
		ev->ppid = ppid;
		ev->dfd = call->dfd;
		ev->at_flags = call->at_flags;
		/* No task_lock() in probe context: current's own comm. */
		strscpy_pad(ev->comm, current->comm, sizeof(ev->comm));
		ev->syscall = call->syscall;
		ev->flags = flags;
		ev->filename_len = len;
		ev->args_len = args_len;
		memcpy(ev->filename, filename, len);
		memcpy(ev->filename + len, args, args_len);
		pm_emit_commit(&em, rec);
	}
	pm_emit_end(&em);
	return 0;
}

static void pm_proc_fork_probe(void *data, struct task_struct *parent,
			       struct task_struct *child)
{
	struct persecmon_fork_event *ev;
	struct persecmon_record *rec;
	struct pm_emit em;

	pm_tp_hit(&pm_proc_tps[PM_PROC_TP_FORK]);
	if (!pm_emit_begin(&em, PERSECMON_GROUP_PROC))
		return;
	while ((rec = pm_emit_reserve(&em, PERSECMON_EV_FORK, sizeof(*ev)))) {
		ev = container_of(rec, struct persecmon_fork_event, hdr);
		ev->child_pid = child->pid;
		ev->child_tgid = child->tgid;
		strscpy_pad(ev->comm, parent->comm, sizeof(ev->comm));
		if (child->pid != child->tgid)
			ev->flags |= PERSECMON_FORK_THREAD;
		pm_emit_commit(&em, rec);
	}
	pm_emit_end(&em);
}

static void pm_proc_exit_probe(void *data, struct task_struct *p)
{
	struct persecmon_exit_event *ev;
	struct persecmon_record *rec;
	struct pm_emit em;
	u64 lifetime;
	bool group_dead;

	pm_tp_hit(&pm_proc_tps[PM_PROC_TP_EXIT]);
	if (!pm_emit_begin(&em, PERSECMON_GROUP_PROC))
		return;
	lifetime = ktime_get_ns() - p->start_time;
	group_dead = pm_tp_exit_group_dead(p);
	while ((rec = pm_emit_reserve(&em, PERSECMON_EV_EXIT, sizeof(*ev)))) {
		ev = container_of(rec, struct persecmon_exit_event, hdr);
		ev->exit_code = p->exit_code;
		if (group_dead)
			ev->flags |= PERSECMON_EXIT_GROUP_DEAD;
		ev->lifetime_ns = lifetime;
		strscpy_pad(ev->comm, p->comm, sizeof(ev->comm));
		pm_emit_commit(&em, rec);
	}
	pm_emit_end(&em);
}

static void pm_proc_rps_detach(unsigned int n)
{
	struct kretprobe *rps[PM_PROC_NR_RPS];
	unsigned int i, nr = 0;

	for (i = 0; i < n; i++)
		if (pm_proc_rps[i].probe.attached)
			rps[nr++] = &pm_proc_rps[i].rp;
	/* One grace period for all: in-flight instances are disarmed. */
	if (nr)
		unregister_kretprobes(rps, nr);
	for (i = 0; i < n; i++)
		if (pm_proc_rps[i].probe.attached)
			pm_probe_set_state(&pm_proc_rps[i].probe, false, 0);
}

static int pm_proc_rps_attach(void)
{
	struct pm_proc_exec_rp *p;
	unsigned int i;
	int ret;

	for (i = 0; i < PM_PROC_NR_RPS; i++) {
		p = &pm_proc_rps[i];
		/* A kretprobe is reusable only with addr and flags reset. */
		memset(&p->rp, 0, sizeof(p->rp));
		p->rp.kp.symbol_name = p->symbol;
		p->rp.entry_handler = p->entry;
		p->rp.handler = pm_proc_exec_return;
		p->rp.data_size = sizeof(struct pm_proc_exec_call);
		p->rp.maxactive = p->maxactive;
		ret = register_kretprobe(&p->rp);
		pm_probe_set_state(&p->probe, !ret, ret);
		/* A kernel without IA32_EMULATION has no ia32 entry points. */
		if (ret == -ENOENT && p->optional)
			continue;
		if (ret) {
			pr_err("proc: kretprobe on %s: error %d\n", p->symbol,
			       ret);
			pm_proc_rps_detach(i);
			return ret;
		}
	}
	return 0;
}

static int pm_proc_attach(void)
{
	int ret;

	ret = pm_tps_attach(pm_proc_tps, PM_PROC_NR_TPS);
	if (ret)
		return ret;
	ret = pm_proc_rps_attach();
	if (ret)
		pm_tps_detach(pm_proc_tps, PM_PROC_NR_TPS);
	return ret;
}

static void pm_proc_detach(void)
{
	pm_proc_rps_detach(PM_PROC_NR_RPS);
	pm_tps_detach(pm_proc_tps, PM_PROC_NR_TPS);
}

static void pm_proc_show(struct seq_file *m)
{
	const struct pm_tp *tps = pm_proc_tps;
	const struct pm_proc_fail_counts *c;
	unsigned int cpu;

	for_each_possible_cpu(cpu) {
		c = per_cpu_ptr(pm_proc_fail_counts, cpu);
		seq_printf(m,
			   "proc cpu %u exec %llu fork %llu exit %llu exec_fail %llu no_filename %llu truncated %llu\n",
			   cpu,
			   pm_probe_hits_cpu(&tps[PM_PROC_TP_EXEC].probe, cpu),
			   pm_probe_hits_cpu(&tps[PM_PROC_TP_FORK].probe, cpu),
			   pm_probe_hits_cpu(&tps[PM_PROC_TP_EXIT].probe, cpu),
			   c->exec_fail, c->no_filename, c->truncated);
	}
}

static const struct pm_group pm_proc_group = {
	.name = "proc",
	.attach = pm_proc_attach,
	.detach = pm_proc_detach,
	.show = pm_proc_show,
};

int pm_proc_init(void)
{
	struct pm_probe *p;
	unsigned int i;
	int ret;

	check_trace_callback_type_sched_process_exec(pm_proc_exec_probe);
	check_trace_callback_type_sched_process_fork(pm_proc_fork_probe);
	check_trace_callback_type_sched_process_exit(pm_proc_exit_probe);

	ret = pm_tps_init("proc", pm_proc_tps, PM_PROC_NR_TPS);
	if (ret)
		return ret;
	for (i = 0; i < PM_PROC_NR_RPS; i++) {
		p = &pm_proc_rps[i].probe;
		p->group = "proc";
		p->name = pm_proc_rps[i].symbol;
		p->mechanism = "kretprobe";
		p->rp = &pm_proc_rps[i].rp;
		ret = pm_probe_register(p);
		if (ret)
			goto err_probes;
	}
	pm_proc_scratch = alloc_percpu(struct pm_proc_exec_scratch);
	pm_proc_fail_counts = alloc_percpu(struct pm_proc_fail_counts);
	if (!pm_proc_scratch || !pm_proc_fail_counts) {
		ret = -ENOMEM;
		goto err_alloc;
	}
	ret = pm_group_register(PERSECMON_GROUP_PROC, &pm_proc_group);
	if (ret)
		goto err_alloc;
	return 0;

err_alloc:
	free_percpu(pm_proc_fail_counts);
	free_percpu(pm_proc_scratch);
err_probes:
	while (i--)
		pm_probe_unregister(&pm_proc_rps[i].probe);
	pm_tps_exit(pm_proc_tps, PM_PROC_NR_TPS);
	return ret;
}

void pm_proc_exit(void)
{
	unsigned int i;

	pm_group_unregister(PERSECMON_GROUP_PROC);
	free_percpu(pm_proc_fail_counts);
	free_percpu(pm_proc_scratch);
	for (i = 0; i < PM_PROC_NR_RPS; i++)
		pm_probe_unregister(&pm_proc_rps[i].probe);
	pm_tps_exit(pm_proc_tps, PM_PROC_NR_TPS);
}
