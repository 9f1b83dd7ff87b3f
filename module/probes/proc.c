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
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/binfmts.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/mm_types.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/tracepoint.h>
#include <linux/uaccess.h>
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
	char args[PM_PROC_ARGS_MAX];
};

static struct pm_proc_exec_scratch __percpu *pm_proc_scratch;

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
	/*
	 * do_exit() has already dropped this thread from signal->live
	 * before the tracepoint, on 6.1 and 6.12 alike.
	 */
	group_dead = atomic_read(&p->signal->live) == 0;
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

static int pm_proc_attach(void)
{
	return pm_tps_attach(pm_proc_tps, PM_PROC_NR_TPS);
}

static void pm_proc_detach(void)
{
	pm_tps_detach(pm_proc_tps, PM_PROC_NR_TPS);
}

static void pm_proc_show(struct seq_file *m)
{
	const struct pm_tp *tps = pm_proc_tps;
	unsigned int cpu;

	for_each_possible_cpu(cpu)
		seq_printf(m, "proc cpu %u exec %llu fork %llu exit %llu\n", cpu,
			   pm_probe_hits_cpu(&tps[PM_PROC_TP_EXEC].probe, cpu),
			   pm_probe_hits_cpu(&tps[PM_PROC_TP_FORK].probe, cpu),
			   pm_probe_hits_cpu(&tps[PM_PROC_TP_EXIT].probe, cpu));
}

static const struct pm_group pm_proc_group = {
	.name = "proc",
	.attach = pm_proc_attach,
	.detach = pm_proc_detach,
	.show = pm_proc_show,
};

int pm_proc_init(void)
{
	int ret;

	check_trace_callback_type_sched_process_exec(pm_proc_exec_probe);
	check_trace_callback_type_sched_process_fork(pm_proc_fork_probe);
	check_trace_callback_type_sched_process_exit(pm_proc_exit_probe);

	ret = pm_tps_init("proc", pm_proc_tps, PM_PROC_NR_TPS);
	if (ret)
		return ret;
	pm_proc_scratch = alloc_percpu(struct pm_proc_exec_scratch);
	if (!pm_proc_scratch) {
		ret = -ENOMEM;
		goto err_scratch;
	}
	ret = pm_group_register(PERSECMON_GROUP_PROC, &pm_proc_group);
	if (ret)
		goto err_register;
	return 0;

err_register:
	free_percpu(pm_proc_scratch);
err_scratch:
	pm_tps_exit(pm_proc_tps, PM_PROC_NR_TPS);
	return ret;
}

void pm_proc_exit(void)
{
	pm_group_unregister(PERSECMON_GROUP_PROC);
	free_percpu(pm_proc_scratch);
	pm_tps_exit(pm_proc_tps, PM_PROC_NR_TPS);
}
