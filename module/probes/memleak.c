// SPDX-License-Identifier: GPL-2.0
/*
 * The "memleak" group: PERSECMON_EV_ALLOC and PERSECMON_EV_FREE from
 * uprobes on libc's allocator (core/uprobe.h). Userspace resolves the
 * functions in the libc it traces and sends them as targets; the role id
 * is the function (enum persecmon_alloc_func): entry and return for the
 * allocating ones, entry only for free().
 *
 * The entry handler reads the size (and realloc()'s old block, or
 * posix_memalign()'s result pointer) and pushes it on the calling
 * thread's in-flight slot; the return handler pops it, reads the result,
 * walks the user stack and writes the records. realloc() writes a FREE of
 * the old block and an ALLOC of the new one; a failed call writes
 * nothing. A call nested in another of the same thread (glibc's
 * realloc(NULL, n) calls malloc()) is paired with its own return.
 *
 * In-flight slots: a fixed table, open addressing on the thread id within
 * a window of PM_ML_WINDOW slots, claimed with cmpxchg() (no lock, no
 * allocation); only the owning thread writes its slot, matched by (pid,
 * task start time) so that a recycled pid reclaims, rather than inherits,
 * a dead thread's slot. Pairing is done only while a session enables the
 * group; a call that finds no free slot is counted as "untracked".
 *
 * User stacks: stack_trace_save_user() is not exported, so the return
 * handler walks the frame-pointer chain itself with
 * copy_from_user_nofault(): frame 0 is the return address into the
 * allocator's caller (exact: the uretprobe handler sees the real return
 * address), then one frame per saved frame pointer, while each one lies
 * above the last and within PM_ML_STACK_SPAN of the stack pointer. Code
 * built without frame pointers (Debian's libc and most distribution
 * binaries) ends the walk early or, when rbp holds data that happens to
 * pass the checks, adds bogus frames; docs/memleak.md says more.
 *
 * Sampling: memleak_sample=N (writable module parameter) keeps only
 * allocations and frees whose address hashes to 0 modulo N, so that both
 * ends of a block make the same decision.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hash.h>
#include <linux/kernel.h>
#include <linux/moduleparam.h>
#include <linux/overflow.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "core/agg.h"
#include "core/groups.h"
#include "core/session.h"
#include "core/uprobe.h"
#include "probes/memleak.h"

static unsigned int memleak_sample = 1;
module_param(memleak_sample, uint, 0644);
MODULE_PARM_DESC(memleak_sample,
		 "memleak group: record 1 in N user allocations and frees, chosen by address (1 = all)");

#define PM_ML_INFLIGHT_BITS	10
#define PM_ML_INFLIGHT		(1U << PM_ML_INFLIGHT_BITS)
/* Slots a thread may land in, from its hash on. */
#define PM_ML_WINDOW		16
/* Nested calls of one thread that are paired. */
#define PM_ML_NEST		4
/* Largest distance from the stack pointer a frame may have. */
#define PM_ML_STACK_SPAN	(8UL << 20)

struct pm_ml_pending {
	u64 size;
	u64 arg;		/* realloc: old block; posix_memalign: memptr */
	u8 func;
};

struct pm_ml_call {
	u32 pid;		/* 0: free; claimed with cmpxchg() */
	u32 depth;		/* calls in flight, maybe > PM_ML_NEST */
	u64 task_start;		/* current->start_time of the owner */
	struct pm_ml_pending pending[PM_ML_NEST];
	u64 frames[PERSECMON_USTACK_MAX];	/* the owner's scratch */
};

enum {
	PM_ML_STAT_ALLOC_BYTES = PERSECMON_ALLOC_FUNC_MAX + 1,
	PM_ML_STAT_FAILED,
	PM_ML_STAT_UNTRACKED,
	PM_ML_STAT_MISMATCHED,
	PM_ML_STAT_SAMPLED_OUT,
	PM_ML_STAT_NR,
};

static struct pm_ml_call *pm_ml_calls;
static struct pm_agg_counters pm_ml_stat;

static bool pm_ml_sampled(u64 addr)
{
	unsigned int rate = READ_ONCE(memleak_sample);

	if (rate <= 1 || hash_64(addr, 32) % rate == 0)
		return true;
	pm_agg_add(&pm_ml_stat, PM_ML_STAT_SAMPLED_OUT, 1);
	return false;
}

static struct pm_ml_call *pm_ml_find(u32 pid, u64 task_start)
{
	unsigned int i, h = hash_32(pid, PM_ML_INFLIGHT_BITS);
	struct pm_ml_call *c;

	for (i = 0; i < PM_ML_WINDOW; i++) {
		c = &pm_ml_calls[(h + i) & (PM_ML_INFLIGHT - 1)];
		/* Pairs with the release in pm_ml_release(). */
		if (smp_load_acquire(&c->pid) == pid &&
		    READ_ONCE(c->task_start) == task_start)
			return c;
	}
	return NULL;
}

/* A free slot, or one left by a dead thread that had the same pid. */
static struct pm_ml_call *pm_ml_claim(u32 pid)
{
	unsigned int i, h = hash_32(pid, PM_ML_INFLIGHT_BITS);
	struct pm_ml_call *c;

	for (i = 0; i < PM_ML_WINDOW; i++) {
		c = &pm_ml_calls[(h + i) & (PM_ML_INFLIGHT - 1)];
		if (READ_ONCE(c->pid) == pid || !cmpxchg(&c->pid, 0, pid))
			return c;
	}
	return NULL;
}

static void pm_ml_release(struct pm_ml_call *c)
{
	WRITE_ONCE(c->task_start, 0);
	/* The slot's contents are dead before another thread claims it. */
	smp_store_release(&c->pid, 0);
}

/*
 * The user stack at an allocator's return: the return address, then the
 * frame-pointer chain from the caller's frame.
 */
static unsigned int pm_ml_user_stack(struct pt_regs *regs, u64 *frames,
				     bool *cut)
{
	unsigned long sp = user_stack_pointer(regs);
	unsigned long fp = frame_pointer(regs);
	unsigned long pair[2];
	unsigned int n = 0;

	*cut = false;
	frames[n++] = instruction_pointer(regs);
	while (n < PERSECMON_USTACK_MAX) {
		if (fp < sp || fp - sp > PM_ML_STACK_SPAN ||
		    !IS_ALIGNED(fp, sizeof(long)))
			return n;
		if (copy_from_user_nofault(pair, (const void __user *)fp,
					   sizeof(pair)) || !pair[1])
			return n;
		frames[n++] = pair[1];
		if (pair[0] <= fp)
			return n;
		fp = pair[0];
	}
	*cut = true;
	return n;
}

static void pm_ml_emit_free(u64 addr, u8 func)
{
	struct persecmon_free_event *ev;
	struct persecmon_record *rec;
	struct pm_emit em;

	if (!pm_ml_sampled(addr))
		return;
	if (!pm_emit_begin(&em, PERSECMON_GROUP_MEMLEAK))
		return;
	while ((rec = pm_emit_reserve(&em, PERSECMON_EV_FREE, sizeof(*ev)))) {
		ev = container_of(rec, struct persecmon_free_event, hdr);
		ev->addr = addr;
		ev->func = func;
		pm_emit_commit(&em, rec);
	}
	pm_emit_end(&em);
}

static void pm_ml_emit_alloc(struct pm_ml_call *c, struct pt_regs *regs,
			     u64 addr, u64 size, u8 func)
{
	struct persecmon_alloc_event *ev;
	struct persecmon_record *rec;
	struct pm_emit em;
	unsigned int nr;
	bool cut;

	if (!pm_ml_sampled(addr))
		return;
	/* May take page faults' slow path: before preemption goes off. */
	nr = pm_ml_user_stack(regs, c->frames, &cut);
	if (!pm_emit_begin(&em, PERSECMON_GROUP_MEMLEAK))
		return;
	while ((rec = pm_emit_reserve(&em, PERSECMON_EV_ALLOC,
				      sizeof(*ev) + nr * sizeof(u64)))) {
		ev = container_of(rec, struct persecmon_alloc_event, hdr);
		if (cut)
			rec->flags |= PERSECMON_RF_TRUNCATED;
		ev->addr = addr;
		ev->size = size;
		ev->func = func;
		ev->nr_frames = nr;
		memcpy(ev->frames, c->frames, nr * sizeof(u64));
		pm_emit_commit(&em, rec);
	}
	pm_emit_end(&em);
}

static void pm_ml_free_entry(const struct pm_uprobe_target *t,
			     struct pt_regs *regs)
{
	u64 addr = regs_get_kernel_argument(regs, 0);

	pm_agg_add(&pm_ml_stat, PERSECMON_ALLOC_FREE, 1);
	if (addr)
		pm_ml_emit_free(addr, PERSECMON_ALLOC_FREE);
}

static void pm_ml_alloc_entry(const struct pm_uprobe_target *t,
			      struct pt_regs *regs)
{
	u64 a0 = regs_get_kernel_argument(regs, 0);
	u64 a1 = regs_get_kernel_argument(regs, 1);
	u64 task_start = current->start_time;
	struct pm_ml_pending p = { .func = t->role };
	u32 pid = current->pid;
	struct pm_ml_call *c;

	switch (t->role) {
	case PERSECMON_ALLOC_CALLOC:
		if (check_mul_overflow(a0, a1, &p.size))
			p.size = U64_MAX;	/* fails: nothing recorded */
		break;
	case PERSECMON_ALLOC_REALLOC:
		p.arg = a0;
		p.size = a1;
		break;
	case PERSECMON_ALLOC_POSIX_MEMALIGN:
		p.arg = a0;
		p.size = regs_get_kernel_argument(regs, 2);
		break;
	case PERSECMON_ALLOC_ALIGNED_ALLOC:
	case PERSECMON_ALLOC_MEMALIGN:
		p.size = a1;
		break;
	default:		/* malloc, valloc, pvalloc */
		p.size = a0;
		break;
	}
	pm_agg_add(&pm_ml_stat, t->role, 1);

	/* Pair only while some session wants the records. */
	if (likely(!(READ_ONCE(pm_session_groups) &
		     BIT_ULL(PERSECMON_GROUP_MEMLEAK))))
		return;
	c = pm_ml_find(pid, task_start);
	if (!c) {
		c = pm_ml_claim(pid);
		if (!c) {
			pm_agg_add(&pm_ml_stat, PM_ML_STAT_UNTRACKED, 1);
			return;
		}
		c->depth = 0;
		c->pending[0] = p;
		c->depth = 1;
		/* The slot matches only once it is complete. */
		smp_store_release(&c->task_start, task_start);
		return;
	}
	if (c->depth < PM_ML_NEST)
		c->pending[c->depth] = p;
	else
		pm_agg_add(&pm_ml_stat, PM_ML_STAT_UNTRACKED, 1);
	c->depth++;
}

static void pm_ml_alloc_return(const struct pm_uprobe_target *t,
			       unsigned long func, struct pt_regs *regs)
{
	u64 ret = regs_return_value(regs);
	struct pm_ml_pending p;
	struct pm_ml_call *c;
	u64 addr = ret;

	c = pm_ml_find(current->pid, current->start_time);
	if (!c)
		return;		/* entry not seen (no session then, or full) */
	if (!c->depth) {
		pm_agg_add(&pm_ml_stat, PM_ML_STAT_MISMATCHED, 1);
		goto out;
	}
	c->depth--;
	if (c->depth >= PM_ML_NEST)
		return;		/* counted as untracked at entry */
	p = c->pending[c->depth];
	if (p.func != t->role) {
		/* A return was missed (e.g. a longjmp out of a hook). */
		pm_agg_add(&pm_ml_stat, PM_ML_STAT_MISMATCHED, 1);
		goto out;
	}
	if (p.func == PERSECMON_ALLOC_POSIX_MEMALIGN) {
		addr = 0;
		if ((int)ret == 0 &&
		    copy_from_user_nofault(&addr,
					   (const void __user *)p.arg,
					   sizeof(addr)))
			addr = 0;
	}
	if (p.func == PERSECMON_ALLOC_REALLOC && p.arg &&
	    (addr || p.size == 0))
		pm_ml_emit_free(p.arg, PERSECMON_ALLOC_REALLOC);
	if (addr) {
		pm_agg_add(&pm_ml_stat, PM_ML_STAT_ALLOC_BYTES, p.size);
		pm_ml_emit_alloc(c, regs, addr, p.size, p.func);
	} else if (p.size) {
		pm_agg_add(&pm_ml_stat, PM_ML_STAT_FAILED, 1);
	}
out:
	if (!c->depth)
		pm_ml_release(c);
}

#define PM_ML_ALLOC_ROLE(id, fname) \
	[id] = { .name = fname, .entry = pm_ml_alloc_entry, \
		 .ret = pm_ml_alloc_return }

static const struct pm_uprobe_role pm_ml_roles[] = {
	PM_ML_ALLOC_ROLE(PERSECMON_ALLOC_MALLOC, "malloc"),
	PM_ML_ALLOC_ROLE(PERSECMON_ALLOC_CALLOC, "calloc"),
	PM_ML_ALLOC_ROLE(PERSECMON_ALLOC_REALLOC, "realloc"),
	PM_ML_ALLOC_ROLE(PERSECMON_ALLOC_POSIX_MEMALIGN, "posix_memalign"),
	PM_ML_ALLOC_ROLE(PERSECMON_ALLOC_ALIGNED_ALLOC, "aligned_alloc"),
	PM_ML_ALLOC_ROLE(PERSECMON_ALLOC_MEMALIGN, "memalign"),
	PM_ML_ALLOC_ROLE(PERSECMON_ALLOC_VALLOC, "valloc"),
	PM_ML_ALLOC_ROLE(PERSECMON_ALLOC_PVALLOC, "pvalloc"),
	[PERSECMON_ALLOC_FREE] = { .name = "free", .entry = pm_ml_free_entry },
};

static struct pm_uprobe_group pm_ml_uprobes = {
	.group = PERSECMON_GROUP_MEMLEAK,
	.roles = pm_ml_roles,
	.nr_roles = ARRAY_SIZE(pm_ml_roles),
};

static int pm_ml_attach(void)
{
	/* No handler runs while detached: the table is ours to reset. */
	memset(pm_ml_calls, 0, PM_ML_INFLIGHT * sizeof(*pm_ml_calls));
	pm_uprobe_group_attach(&pm_ml_uprobes);
	return 0;
}

static void pm_ml_detach(void)
{
	pm_uprobe_group_detach(&pm_ml_uprobes);
}

static const struct pm_group pm_ml_group = {
	.name = "memleak",
	.attach = pm_ml_attach,
	.detach = pm_ml_detach,
};

static int pm_ml_stat_rows(pm_agg_emit_fn emit, void *ctx)
{
	u64 values[PM_ML_STAT_NR];

	pm_agg_counters_sum(&pm_ml_stat, values);
	return emit(ctx, "all", values, ARRAY_SIZE(values));
}

static void pm_ml_stat_reset(void)
{
	pm_agg_counters_reset(&pm_ml_stat);
}

static struct pm_agg_table pm_ml_stat_table = {
	.name = "memleak",
	.columns = "malloc,calloc,realloc,posix_memalign,aligned_alloc,memalign,valloc,pvalloc,free,alloc_bytes,failed,untracked,mismatched,sampled_out",
	.rows = pm_ml_stat_rows,
	.reset = pm_ml_stat_reset,
};

int pm_memleak_init(void)
{
	int ret;

	BUILD_BUG_ON(ARRAY_SIZE(pm_ml_roles) != PERSECMON_ALLOC_FUNC_MAX + 1);
	pm_ml_calls = vzalloc(PM_ML_INFLIGHT * sizeof(*pm_ml_calls));
	if (!pm_ml_calls)
		return -ENOMEM;
	ret = pm_agg_counters_alloc(&pm_ml_stat, PM_ML_STAT_NR);
	if (ret)
		goto err_calls;
	ret = pm_agg_table_register(&pm_ml_stat_table);
	if (ret)
		goto err_stat;
	ret = pm_uprobe_group_register(&pm_ml_uprobes);
	if (ret)
		goto err_table;
	ret = pm_group_register(PERSECMON_GROUP_MEMLEAK, &pm_ml_group);
	if (ret)
		goto err_uprobes;
	return 0;

err_uprobes:
	pm_uprobe_group_unregister(&pm_ml_uprobes);
err_table:
	pm_agg_table_unregister(&pm_ml_stat_table);
err_stat:
	pm_agg_counters_free(&pm_ml_stat);
err_calls:
	vfree(pm_ml_calls);
	pm_ml_calls = NULL;
	return ret;
}

void pm_memleak_exit(void)
{
	pm_group_unregister(PERSECMON_GROUP_MEMLEAK);
	pm_uprobe_group_unregister(&pm_ml_uprobes);
	pm_agg_table_unregister(&pm_ml_stat_table);
	pm_agg_counters_free(&pm_ml_stat);
	vfree(pm_ml_calls);
	pm_ml_calls = NULL;
}
