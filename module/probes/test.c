// SPDX-License-Identifier: GPL-2.0
/*
 * The "test" group: synthetic events in every context a real probe can
 * fire in, on every online CPU.
 *
 * PERSECMON_CMD_TRIGGER queues one work item on each online CPU (bound
 * kworkers, CPU hotplug held off meanwhile). On its CPU the work item
 *  - queues an irq_work: its callback runs in hardirq context;
 *  - schedules a tasklet: it runs in softirq context;
 *  - emits the task-context events itself (preemption is disabled per event
 *    by the emit API);
 *  - calls pm_test_nmi_target(), which carries a kprobe: the int3 handler
 *    runs with in_nmi() true, like a kprobe on any kernel function.
 * The irq_work and the tasklet start first, so they interrupt the
 * task-context writer on the same CPU and exercise nested writers. Each
 * context emits in chunks of PM_TEST_CHUNK and requeues itself for the
 * rest, which bounds the time spent with interrupts off. The trigger
 * returns only once every context on every CPU is done, so a test can
 * read and count right after.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/interrupt.h>
#include <linux/irq_work.h>
#include <linux/kprobes.h>
#include <linux/mm.h>
#include <linux/netlink.h>
#include <linux/overflow.h>
#include <linux/percpu.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "core/groups.h"
#include "core/session.h"
#include "probes/test.h"

/* Events per context invocation: bounds interrupts-off time. */
#define PM_TEST_CHUNK		1024
/* Calls in a row that may miss the kprobe before the trigger gives up. */
#define PM_TEST_NMI_RETRIES	100

struct pm_test_run;

struct pm_test_job {		/* one per CPU */
	struct pm_test_run *run;
	struct work_struct work;
	struct irq_work hardirq_work;
	struct tasklet_struct softirq_tasklet;
	u32 done[PERSECMON_CTX_MAX + 1];	/* events emitted per context */
	u32 nmi_calls;
	int err;
};

struct pm_test_run {
	struct pm_test_trigger_args args;
	atomic_t pending;		/* hardirq and softirq parts running */
	struct completion finished;
	struct pm_test_job jobs[];	/* indexed by CPU id */
};

/* The group's aggregate: events generated, by the context observed. */
struct pm_test_counts {
	u64 events[PERSECMON_CTX_MAX + 1];
};

static struct pm_test_counts __percpu *pm_test_counts;
static struct kprobe pm_test_kprobe;

static u8 pm_test_context(void)
{
	if (in_nmi())
		return PERSECMON_CTX_NMI;
	if (in_hardirq())
		return PERSECMON_CTX_HARDIRQ;
	if (in_serving_softirq())
		return PERSECMON_CTX_SOFTIRQ;
	return PERSECMON_CTX_TASK;
}

static void pm_test_emit(const struct pm_test_trigger_args *args, u32 index,
			 u8 context)
{
	struct persecmon_test_event *ev;
	struct persecmon_record *rec;
	struct pm_emit em;
	u32 i;

	this_cpu_inc(pm_test_counts->events[context]);
	if (!pm_emit_begin(&em, PERSECMON_GROUP_TEST))
		return;
	while ((rec = pm_emit_reserve(&em, PERSECMON_EV_TEST,
				      sizeof(*ev) + args->fill))) {
		ev = container_of(rec, struct persecmon_test_event, hdr);
		ev->run_id = args->run_id;
		ev->index = index;
		ev->context = context;
		ev->fill_len = args->fill;
		ev->check = persecmon_test_check(args->run_id, index, context,
						 rec->cpu, args->fill);
		for (i = 0; i < args->fill; i++)
			ev->fill[i] = (index + i) & 0xff;
		pm_emit_commit(&em, rec);
	}
	pm_emit_end(&em);
}

/*
 * Emits the next chunk of the events asked for in context @requested, each
 * labelled with the context actually observed. True while some remain.
 */
static bool pm_test_emit_chunk(struct pm_test_job *job,
			       unsigned int requested)
{
	const struct pm_test_trigger_args *args = &job->run->args;
	u32 end = min(job->done[requested] + PM_TEST_CHUNK, args->count);
	u8 observed = pm_test_context();

	while (job->done[requested] < end)
		pm_test_emit(args, job->done[requested]++, observed);
	return job->done[requested] < args->count;
}

static void pm_test_async_done(struct pm_test_run *run)
{
	if (atomic_dec_and_test(&run->pending))
		complete(&run->finished);
}

static void pm_test_hardirq(struct irq_work *work)
{
	struct pm_test_job *job = container_of(work, struct pm_test_job,
					       hardirq_work);

	if (pm_test_emit_chunk(job, PERSECMON_CTX_HARDIRQ))
		irq_work_queue(work);	/* the rest in the next interrupt */
	else
		pm_test_async_done(job->run);
}

static void pm_test_softirq(struct tasklet_struct *t)
{
	struct pm_test_job *job = from_tasklet(job, t, softirq_tasklet);

	if (pm_test_emit_chunk(job, PERSECMON_CTX_SOFTIRQ))
		tasklet_schedule(t);
	else
		pm_test_async_done(job->run);
}

/*
 * The kprobe sits on this function's first instruction. notrace leaves no
 * ftrace call site, so the probe is an int3 and its handler runs in the
 * NMI-like context of the int3 exception (in_nmi() true, interrupts off);
 * noipa keeps every call a real call of this very function.
 */
static noinline notrace __noipa void pm_test_nmi_target(struct pm_test_job *job)
{
	/*
	 * A plain store gives the probe an ordinary instruction to sit on
	 * (an empty body is a lone return-thunk jump).
	 */
	WRITE_ONCE(job->nmi_calls, job->nmi_calls + 1);
}

static int pm_test_kprobe_pre(struct kprobe *kp, struct pt_regs *regs)
{
	struct pm_test_job *job;

	job = (struct pm_test_job *)regs_get_kernel_argument(regs, 0);
	pm_test_emit_chunk(job, PERSECMON_CTX_NMI);
	return 0;
}

/* Having a post handler keeps the probe an int3: optprobes skip it. */
static void pm_test_kprobe_post(struct kprobe *kp, struct pt_regs *regs,
				unsigned long flags)
{
}

static int pm_test_run_nmi(struct pm_test_job *job)
{
	unsigned int misses = 0;
	u32 before;

	while (job->done[PERSECMON_CTX_NMI] < job->run->args.count) {
		before = job->done[PERSECMON_CTX_NMI];
		pm_test_nmi_target(job);
		/* A kprobe that hits inside another kprobe is skipped. */
		if (job->done[PERSECMON_CTX_NMI] == before &&
		    ++misses > PM_TEST_NMI_RETRIES)
			return -EIO;
		cond_resched();
	}
	return 0;
}

static void pm_test_work(struct work_struct *work)
{
	struct pm_test_job *job = container_of(work, struct pm_test_job,
					       work);
	struct pm_test_run *run = job->run;
	u32 contexts = run->args.contexts;

	/* Bound kworker: both queue on this CPU. */
	if (contexts & BIT(PERSECMON_CTX_HARDIRQ)) {
		atomic_inc(&run->pending);
		irq_work_queue(&job->hardirq_work);
	}
	if (contexts & BIT(PERSECMON_CTX_SOFTIRQ)) {
		atomic_inc(&run->pending);
		tasklet_schedule(&job->softirq_tasklet);
	}
	if (contexts & BIT(PERSECMON_CTX_TASK)) {
		while (pm_test_emit_chunk(job, PERSECMON_CTX_TASK))
			cond_resched();
	}
	if (contexts & BIT(PERSECMON_CTX_NMI))
		job->err = pm_test_run_nmi(job);
}

int pm_test_trigger(const struct pm_test_trigger_args *args,
		    struct netlink_ext_ack *extack)
{
	struct pm_test_run *run;
	struct pm_test_job *job;
	unsigned int cpu;
	int ret = 0;

	if (!args->count || args->count > PM_TEST_COUNT_MAX ||
	    !args->contexts || args->contexts & ~PM_TEST_CONTEXTS_ALL ||
	    args->fill > PM_TEST_FILL_MAX) {
		NL_SET_ERR_MSG(extack, "invalid trigger count, contexts or fill");
		return -EINVAL;
	}
	/* Holds the kprobe in place until every event is out. */
	if (!pm_group_hold_attached(PERSECMON_GROUP_TEST)) {
		NL_SET_ERR_MSG(extack,
			       "group \"test\" is enabled neither globally nor by a session");
		return -ENODATA;
	}
	run = kvzalloc(struct_size(run, jobs, nr_cpu_ids), GFP_KERNEL);
	if (!run) {
		ret = -ENOMEM;
		goto out;
	}
	run->args = *args;
	atomic_set(&run->pending, 1);
	init_completion(&run->finished);
	for_each_possible_cpu(cpu) {
		job = &run->jobs[cpu];
		job->run = run;
		INIT_WORK(&job->work, pm_test_work);
		job->hardirq_work = IRQ_WORK_INIT_HARD(pm_test_hardirq);
		tasklet_setup(&job->softirq_tasklet, pm_test_softirq);
	}

	cpus_read_lock();
	for_each_online_cpu(cpu)
		queue_work_on(cpu, system_highpri_wq, &run->jobs[cpu].work);
	for_each_online_cpu(cpu)
		flush_work(&run->jobs[cpu].work);
	cpus_read_unlock();

	if (!atomic_dec_and_test(&run->pending))
		wait_for_completion(&run->finished);
	for_each_possible_cpu(cpu) {
		job = &run->jobs[cpu];
		/* Their callbacks may still be returning. */
		irq_work_sync(&job->hardirq_work);
		tasklet_kill(&job->softirq_tasklet);
		if (job->err && !ret)
			ret = job->err;
	}
	if (ret == -EIO)
		NL_SET_ERR_MSG(extack,
			       "the NMI-context kprobe did not fire (kprobes disabled?)");
	kvfree(run);
out:
	pm_group_put(PERSECMON_GROUP_TEST);
	return ret;
}

static int pm_test_attach(void)
{
	/* A kprobe is reusable only with addr and flags reset. */
	memset(&pm_test_kprobe, 0, sizeof(pm_test_kprobe));
	pm_test_kprobe.addr = (kprobe_opcode_t *)pm_test_nmi_target;
	pm_test_kprobe.pre_handler = pm_test_kprobe_pre;
	pm_test_kprobe.post_handler = pm_test_kprobe_post;
	return register_kprobe(&pm_test_kprobe);
}

static void pm_test_detach(void)
{
	unregister_kprobe(&pm_test_kprobe);
}

static void pm_test_show(struct seq_file *m)
{
	const struct pm_test_counts *counts;
	unsigned int cpu;

	for_each_possible_cpu(cpu) {
		counts = per_cpu_ptr(pm_test_counts, cpu);
		seq_printf(m,
			   "test cpu %u events task %llu softirq %llu hardirq %llu nmi %llu\n",
			   cpu, counts->events[PERSECMON_CTX_TASK],
			   counts->events[PERSECMON_CTX_SOFTIRQ],
			   counts->events[PERSECMON_CTX_HARDIRQ],
			   counts->events[PERSECMON_CTX_NMI]);
	}
	/* Hits skipped because another kprobe was running on that CPU. */
	seq_printf(m, "test kprobe_missed %lu\n",
		   READ_ONCE(pm_test_kprobe.nmissed));
}

static const struct pm_group pm_test_group = {
	.name = "test",
	.attach = pm_test_attach,
	.detach = pm_test_detach,
	.show = pm_test_show,
};

int pm_test_init(void)
{
	int ret;

	pm_test_counts = alloc_percpu(struct pm_test_counts);
	if (!pm_test_counts)
		return -ENOMEM;
	ret = pm_group_register(PERSECMON_GROUP_TEST, &pm_test_group);
	if (ret)
		free_percpu(pm_test_counts);
	return ret;
}

void pm_test_exit(void)
{
	pm_group_unregister(PERSECMON_GROUP_TEST);
	free_percpu(pm_test_counts);
}
