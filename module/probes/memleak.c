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
 * Outstanding blocks: while a session wants a process's allocations (or
 * the group is in the global set: every process), its blocks are also
 * kept in the kernel (core/leaktab.h: address -> size, time, stack id,
 * stacks deduplicated), so that what is outstanding can be read at any
 * time without a reader having followed the stream: the aggregate table
 * "memleak" (AGG_DUMP rows, and a bcc-style debugfs text). Its capacity is
 * fixed at load (memleak_blocks, memleak_stacks); what does not fit is
 * counted in "memleakstat". Both are emptied when the group attaches and
 * when it detaches; in between, blocks go when freed and both go when
 * their process does (below).
 *
 * Exited processes: a process that exits without freeing would hold its
 * blocks' slots until the group detaches. When a thread group dies
 * (sched_process_exit), a sweep of the table is scheduled, at most one per
 * PM_ML_SWEEP_DELAY however many processes exit; it forgets every block
 * whose process is gone, is exiting, or is a newer process that got the
 * same pid after the block was allocated (its start time is later),
 * unless a session names that pid in its filter: memleak -p and -c report
 * what a process left behind after it exited. Counted in memleakstat's
 * "exit_forgotten". An exec replaces the address space: the blocks of the
 * image before are gone whoever names the process, so sched_process_exec
 * logs (tgid, time) for a process whose blocks are kept and the next
 * sweep drops its blocks older than the exec ("exec_forgotten"; a full
 * log leaves them until the exit, "exec_missed"). Then the sweep forgets
 * the stacks that no block names any more and whose process or image is
 * gone, judged as for the blocks ("stacks_forgotten"), so that the stack
 * table does not fill up with the dead.
 *
 * File mappings (PERSECMON_EV_MAP): a stack's frames are addresses in one
 * process, meaningless once it is gone. When a session wants an
 * allocation whose stack the table did not have yet, the handler looks
 * up the mapping of each frame (mmap_read_trylock(): a handler never
 * waits for the lock; a contended lock or more than PM_ML_MAPS distinct
 * files leaves mappings undescribed, counted in memleakstat's
 * "maps_missed") and writes, before the ALLOC, one record per file
 * mapping not sent yet (a small lossy cache of what was sent; a
 * collision only sends one twice). Quiet sessions get them too: their
 * reports read the table, and symbolize its stacks from these when
 * /proc/PID/maps is gone.
 *
 * Sampling: memleak_sample=N (writable module parameter) keeps only
 * allocations and frees whose address hashes to 0 modulo N, so that both
 * ends of a block make the same decision.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hash.h>
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/kdev_t.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/moduleparam.h>
#include <linux/overflow.h>
#include <linux/pid.h>
#include <linux/ptrace.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/spinlock.h>
#include <linux/timekeeping.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>
#include <trace/events/sched.h>

#include "compat/compat.h"
#include "core/agg.h"
#include "core/filter.h"
#include "core/groups.h"
#include "core/hashmix.h"
#include "core/leakagg.h"
#include "core/session.h"
#include "core/tracepoint.h"
#include "core/uprobe.h"
#include "probes/memleak.h"

static unsigned int memleak_sample = 1;
module_param(memleak_sample, uint, 0644);
MODULE_PARM_DESC(memleak_sample,
		 "memleak group: record 1 in N user allocations and frees, chosen by address (1 = all)");

static unsigned int memleak_blocks = 1U << 16;
module_param(memleak_blocks, uint, 0444);
MODULE_PARM_DESC(memleak_blocks,
		 "memleak group: outstanding user allocations kept in the kernel (power of two)");

static unsigned int memleak_stacks = 1U << 12;
module_param(memleak_stacks, uint, 0444);
MODULE_PARM_DESC(memleak_stacks,
		 "memleak group: distinct user stacks kept in the kernel (power of two)");

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
/* memleakstat's columns after the counters: from the leak table. */
#define PM_ML_STAT_COLUMNS	(PM_ML_STAT_NR + 8)

/* Exits within this delay share one sweep of the table. */
#define PM_ML_SWEEP_DELAY	HZ
/* Execs logged for the next sweep. */
#define PM_ML_EXECS		256

/* Distinct file mappings described for one new stack. */
#define PM_ML_MAPS		8
/* Longest path kept, NUL included. */
#define PM_ML_PATH_MAX		256
/* Mappings remembered as sent (a power of two). */
#define PM_ML_MAPS_SENT		512

struct pm_ml_map {
	u64 start;
	u64 end;
	u64 offset;
	u64 ino;
	u32 dev;
	u16 path_len;
	bool cut;
	char path[PM_ML_PATH_MAX];
};

/* Filled and written with preemption off, by one handler per CPU. */
struct pm_ml_maps {
	unsigned int n;
	struct pm_ml_map map[PM_ML_MAPS];
};

struct pm_ml_exec {
	u32 tgid;
	u64 time_ns;		/* blocks older than this are gone */
};

/* Execs since the last sweep; taken in process context only. */
static DEFINE_SPINLOCK(pm_ml_execs_lock);
static struct pm_ml_exec pm_ml_execs[PM_ML_EXECS];
static unsigned int pm_ml_nr_execs;
/* The sweep's copy: one sweep runs at a time (a work item). */
static struct pm_ml_exec pm_ml_swept_execs[PM_ML_EXECS];
static atomic64_t pm_ml_exec_forgotten;
static atomic64_t pm_ml_exec_missed;

static DEFINE_PER_CPU(struct pm_ml_maps, pm_ml_maps);
static u64 pm_ml_maps_sent[PM_ML_MAPS_SENT];
static atomic64_t pm_ml_maps_missed;

static struct pm_ml_call *pm_ml_calls;
static struct pm_agg_counters pm_ml_stat;
static struct pm_leakagg pm_ml_leaks;
/* Blocks forgotten because their process exited (memleakstat). */
static atomic64_t pm_ml_exit_forgotten;
static atomic64_t pm_ml_stacks_forgotten;

/* Whether allocations are paired at all: some session or the global set. */
static bool pm_ml_tracking(void)
{
	u64 on = READ_ONCE(pm_session_groups) | pm_groups_global();

	return on & BIT_ULL(PERSECMON_GROUP_MEMLEAK);
}

/*
 * Between pm_emit_begin() (@em_ok: it returned true) and the first
 * reserve: whether this process's blocks are kept in the leak table.
 */
static bool pm_ml_keep(const struct pm_emit *em, bool em_ok)
{
	if ((pm_groups_global() & BIT_ULL(PERSECMON_GROUP_MEMLEAK)) &&
	    pm_global_counts_current())
		return true;
	return em_ok && pm_emit_wanted(em);
}

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

static void pm_ml_record_free(u64 addr, u8 func)
{
	struct persecmon_free_event *ev;
	struct persecmon_record *rec;
	struct pm_emit em;

	if (!pm_ml_sampled(addr))
		return;
	/*
	 * Only wanted processes' blocks are in the table, and a lookup that
	 * finds none costs one word: no need to ask the sessions first.
	 */
	pm_leaktab_remove(&pm_ml_leaks.tab, task_tgid_nr(current), addr);
	if (!(READ_ONCE(pm_session_record_groups) &
	      BIT_ULL(PERSECMON_GROUP_MEMLEAK)))
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

/*
 * The entry of pm_ml_maps_sent that remembers whether @vma of @tgid was
 * described, and in @tag the value it holds if so (never 0: empty).
 */
static u64 *pm_ml_map_seen(u32 tgid, const struct vm_area_struct *vma,
			   u64 *tag)
{
	const struct inode *inode = file_inode(vma->vm_file);
	u64 key[4] = { tgid, vma->vm_start, inode->i_ino, inode->i_sb->s_dev };
	u32 h = pm_hash_words(0, key, ARRAY_SIZE(key));

	*tag = ((u64)h << 32 | pm_hash_words(h, key, ARRAY_SIZE(key))) | 1;
	return &pm_ml_maps_sent[h & (PM_ML_MAPS_SENT - 1)];
}

static void pm_ml_map_fill(struct pm_ml_map *m, struct vm_area_struct *vma)
{
	struct inode *inode = file_inode(vma->vm_file);
	char *p;

	m->start = vma->vm_start;
	m->end = vma->vm_end;
	m->offset = (u64)vma->vm_pgoff << PAGE_SHIFT;
	m->ino = inode->i_ino;
	m->dev = new_encode_dev(inode->i_sb->s_dev);
	/* Built at the end of the buffer: moved to its start. */
	p = d_path(pm_file_user_path(vma->vm_file), m->path, sizeof(m->path));
	m->cut = IS_ERR(p);
	m->path_len = m->cut ? 0 : strlen(p);
	if (!m->cut)
		memmove(m->path, p, m->path_len);
}

/*
 * The file mappings of @frames that were not sent yet, into this CPU's
 * scratch. Preemption is off; current's mm is ours to read.
 */
static struct pm_ml_maps *pm_ml_new_maps(u32 tgid, const u64 *frames,
					 unsigned int nr)
{
	struct pm_ml_maps *maps = this_cpu_ptr(&pm_ml_maps);
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	u64 *seen, tag;
	unsigned int i;

	maps->n = 0;
	if (!mm)
		return maps;
	if (!mmap_read_trylock(mm)) {
		atomic64_inc(&pm_ml_maps_missed);
		return maps;
	}
	for (i = 0; i < nr; i++) {
		/* A return address: its call is the byte before. */
		vma = vma_lookup(mm, frames[i] - 1);
		if (!vma || !vma->vm_file)
			continue;
		/* Racy: two handlers may both describe it, which is harmless. */
		seen = pm_ml_map_seen(tgid, vma, &tag);
		if (READ_ONCE(*seen) == tag)
			continue;
		if (maps->n == PM_ML_MAPS) {
			atomic64_inc(&pm_ml_maps_missed);
			break;
		}
		WRITE_ONCE(*seen, tag);
		pm_ml_map_fill(&maps->map[maps->n++], vma);
	}
	mmap_read_unlock(mm);
	return maps;
}

/* PERSECMON_EV_MAP records for @maps, to every session @em reaches. */
static void pm_ml_emit_maps(struct pm_emit *em, const struct pm_ml_maps *maps)
{
	struct persecmon_map_event *ev;
	struct persecmon_record *rec;
	unsigned int i;

	for (i = 0; i < maps->n; i++) {
		const struct pm_ml_map *m = &maps->map[i];

		pm_emit_rewind(em);
		while ((rec = pm_emit_reserve_all(em, PERSECMON_EV_MAP,
						  sizeof(*ev) + m->path_len))) {
			ev = container_of(rec, struct persecmon_map_event, hdr);
			if (m->cut)
				rec->flags |= PERSECMON_RF_TRUNCATED;
			ev->start = m->start;
			ev->end = m->end;
			ev->offset = m->offset;
			ev->ino = m->ino;
			ev->dev = m->dev;
			ev->path_len = m->path_len;
			memcpy(ev->path, m->path, m->path_len);
			pm_emit_commit(em, rec);
		}
	}
	pm_emit_rewind(em);
}

static void pm_ml_record_alloc(struct pm_ml_call *c, struct pt_regs *regs,
			       u64 addr, u64 size, u8 func)
{
	u32 tgid = task_tgid_nr(current), stack;
	struct persecmon_alloc_event *ev;
	struct persecmon_record *rec;
	bool cut, em_ok, keep, added;
	struct pm_emit em;
	unsigned int nr;
	u64 now;

	if (!pm_ml_sampled(addr))
		return;
	em_ok = pm_emit_begin(&em, PERSECMON_GROUP_MEMLEAK);
	keep = pm_ml_keep(&em, em_ok);
	if (!keep && !(em_ok && (READ_ONCE(pm_session_record_groups) &
				 BIT_ULL(PERSECMON_GROUP_MEMLEAK))))
		goto out;
	/* Never faults: copy_from_user_nofault(). */
	nr = pm_ml_user_stack(regs, c->frames, &cut);
	if (keep) {
		/* The begin's time when it ran: the same clock. */
		now = em_ok ? em.time_ns : ktime_get_mono_fast_ns();
		stack = pm_leaktab_stack_add(&pm_ml_leaks.tab, tgid, c->frames,
					     nr, now, &added);
		pm_leaktab_insert(&pm_ml_leaks.tab, tgid, addr, size, stack,
				  now);
		if (added && em_ok)
			pm_ml_emit_maps(&em, pm_ml_new_maps(tgid, c->frames,
							    nr));
	}
	if (!em_ok)
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
out:
	if (em_ok)
		pm_emit_end(&em);
}

static void pm_ml_free_entry(const struct pm_uprobe_target *t,
			     struct pt_regs *regs)
{
	u64 addr = regs_get_kernel_argument(regs, 0);

	pm_agg_add(&pm_ml_stat, PERSECMON_ALLOC_FREE, 1);
	if (addr && pm_ml_tracking())
		pm_ml_record_free(addr, PERSECMON_ALLOC_FREE);
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

	/* Pair only while some session or the global set wants them. */
	if (likely(!pm_ml_tracking()))
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
		pm_ml_record_free(p.arg, PERSECMON_ALLOC_REALLOC);
	if (addr) {
		pm_agg_add(&pm_ml_stat, PM_ML_STAT_ALLOC_BYTES, p.size);
		pm_ml_record_alloc(c, regs, addr, p.size, p.func);
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

/*
 * The processes whose allocations pm_ml_keep() or a session may want: only
 * they trap on malloc and free ("memleak -p" no longer slows every
 * process that maps libc).
 */
static bool pm_ml_wants(u32 tgid)
{
	if ((pm_groups_global() & BIT_ULL(PERSECMON_GROUP_MEMLEAK)) &&
	    pm_global_filter_may_pass(tgid))
		return true;
	return pm_session_may_want_tgid(PERSECMON_GROUP_MEMLEAK, tgid);
}

static struct pm_uprobe_group pm_ml_uprobes = {
	.group = PERSECMON_GROUP_MEMLEAK,
	.roles = pm_ml_roles,
	.nr_roles = ARRAY_SIZE(pm_ml_roles),
	.wants = pm_ml_wants,
};

/*
 * What a sweep learnt of a tgid: blocks come in runs of few processes, so
 * most blocks cost no pid lookup.
 */
#define PM_ML_SWEEP_CACHE	32

struct pm_ml_sweep_cache {
	u32 tgid[PM_ML_SWEEP_CACHE];	/* 0: empty (no process has 0) */
	u64 start[PM_ML_SWEEP_CACHE];	/* U64_MAX: no such process */
	u64 exec[PM_ML_SWEEP_CACHE];	/* its last logged exec, or 0 */
	unsigned int nr_execs;		/* in pm_ml_swept_execs */
	unsigned int exec_dropped;
};

static u64 pm_ml_last_exec(const struct pm_ml_sweep_cache *cache, u32 tgid)
{
	u64 last = 0;
	unsigned int i;

	for (i = 0; i < cache->nr_execs; i++)
		if (pm_ml_swept_execs[i].tgid == tgid)
			last = max(last, pm_ml_swept_execs[i].time_ns);
	return last;
}

/*
 * Start time of live process @tgid; U64_MAX if it is gone or exiting and
 * no session names it (whose reports still want its blocks); 0 if one
 * does.
 */
static u64 pm_ml_process_start(u32 tgid)
{
	struct task_struct *leader;
	u64 start = U64_MAX;

	if (pm_session_names_tgid(PERSECMON_GROUP_MEMLEAK, tgid))
		return 0;
	rcu_read_lock();
	leader = pid_task(find_pid_ns(tgid, &init_pid_ns), PIDTYPE_TGID);
	/* A zombie leader, or a group whose last thread is in do_exit(). */
	if (leader && atomic_read(&leader->signal->live))
		start = leader->start_time;
	rcu_read_unlock();
	return start;
}

/* @tgid's slot of @cache, filled if it held another. */
static unsigned int pm_ml_sweep_lookup(struct pm_ml_sweep_cache *cache,
				       u32 tgid)
{
	unsigned int i = hash_32(tgid, ilog2(PM_ML_SWEEP_CACHE));

	if (cache->tgid[i] != tgid) {
		cache->tgid[i] = tgid;
		cache->start[i] = pm_ml_process_start(tgid);
		cache->exec[i] = pm_ml_last_exec(cache, tgid);
	}
	return i;
}

/*
 * Whether the block (@tgid, allocated at @time_ns) outlived its process
 * (gone, exiting, or replaced by a newer one with the same pid) or its
 * image (an exec came after it).
 */
static bool pm_ml_block_orphaned(void *arg, u32 tgid, u64 time_ns)
{
	struct pm_ml_sweep_cache *cache = arg;
	unsigned int i = pm_ml_sweep_lookup(cache, tgid);

	if (cache->start[i] > time_ns)
		return true;
	if (cache->exec[i] > time_ns) {
		cache->exec_dropped++;
		return true;
	}
	return false;
}

/*
 * Whether the stack (@tgid, made at @time_ns), which no block names any
 * more, outlived what its addresses were in: its process (gone, exiting,
 * or replaced by a newer one with the same pid, unless a session names
 * the pid) or its image (an exec came after it). Its frames mean nothing
 * in a newer process or image, whose own stacks are made anew.
 */
static bool pm_ml_stack_orphaned(void *arg, u32 tgid, u64 time_ns)
{
	struct pm_ml_sweep_cache *cache = arg;
	unsigned int i = pm_ml_sweep_lookup(cache, tgid);

	return cache->start[i] > time_ns || cache->exec[i] > time_ns;
}

static void pm_ml_sweep_fn(struct work_struct *work)
{
	struct pm_ml_sweep_cache cache = {};
	unsigned int n;
	int stacks;

	spin_lock(&pm_ml_execs_lock);
	cache.nr_execs = pm_ml_nr_execs;
	memcpy(pm_ml_swept_execs, pm_ml_execs,
	       pm_ml_nr_execs * sizeof(*pm_ml_execs));
	pm_ml_nr_execs = 0;
	spin_unlock(&pm_ml_execs_lock);
	n = pm_leaktab_forget_if(&pm_ml_leaks.tab, pm_ml_block_orphaned,
				 &cache);
	atomic64_add(n - cache.exec_dropped, &pm_ml_exit_forgotten);
	atomic64_add(cache.exec_dropped, &pm_ml_exec_forgotten);
	/* After the blocks: a dead process's stacks are named by none. */
	stacks = pm_leakagg_forget_stacks(&pm_ml_leaks, pm_ml_stack_orphaned,
					  &cache);
	if (stacks > 0)
		atomic64_add(stacks, &pm_ml_stacks_forgotten);
}

static DECLARE_DELAYED_WORK(pm_ml_sweep, pm_ml_sweep_fn);

static void pm_ml_exit_probe(void *data, struct task_struct *p);
static void pm_ml_exec_probe(void *data, struct task_struct *p,
			     pid_t old_pid, struct linux_binprm *bprm);

static struct pm_tp pm_ml_tps[] = {
	{ .name = "sched_process_exit", .func = pm_ml_exit_probe },
	{ .name = "sched_process_exec", .func = pm_ml_exec_probe },
};

static void pm_ml_sweep_soon(void)
{
	/* Pending: these blocks are swept with the others'. */
	if (!delayed_work_pending(&pm_ml_sweep))
		schedule_delayed_work(&pm_ml_sweep, PM_ML_SWEEP_DELAY);
}

static void pm_ml_exit_probe(void *data, struct task_struct *p)
{
	pm_tp_hit(&pm_ml_tps[0]);
	if (pm_tp_exit_group_dead(p))
		pm_ml_sweep_soon();
}

/* Whether current's blocks are kept: as at allocation (pm_ml_keep()). */
static bool pm_ml_keeps_current(void)
{
	struct pm_emit em;
	bool em_ok, keep;

	em_ok = pm_emit_begin(&em, PERSECMON_GROUP_MEMLEAK);
	keep = pm_ml_keep(&em, em_ok);
	if (em_ok)
		pm_emit_end(&em);
	return keep;
}

/* In the task that exec'd, its new image in place. */
static void pm_ml_exec_probe(void *data, struct task_struct *p,
			     pid_t old_pid, struct linux_binprm *bprm)
{
	u64 now = ktime_get_mono_fast_ns();
	bool logged = false;

	pm_tp_hit(&pm_ml_tps[1]);
	if (!pm_ml_keeps_current())
		return;
	spin_lock(&pm_ml_execs_lock);
	if (pm_ml_nr_execs < PM_ML_EXECS) {
		pm_ml_execs[pm_ml_nr_execs].tgid = task_tgid_nr(p);
		pm_ml_execs[pm_ml_nr_execs].time_ns = now;
		pm_ml_nr_execs++;
		logged = true;
	}
	spin_unlock(&pm_ml_execs_lock);
	if (!logged) {
		atomic64_inc(&pm_ml_exec_missed);
		return;
	}
	pm_ml_sweep_soon();
}

static int pm_ml_attach(void)
{
	int ret;

	/* No handler runs while detached: the tables are ours to reset. */
	memset(pm_ml_calls, 0, PM_ML_INFLIGHT * sizeof(*pm_ml_calls));
	pm_leakagg_clear(&pm_ml_leaks);
	/* New stacks again: their mappings are sent again. */
	memset(pm_ml_maps_sent, 0, sizeof(pm_ml_maps_sent));
	pm_ml_nr_execs = 0;
	ret = pm_tps_attach(pm_ml_tps, ARRAY_SIZE(pm_ml_tps));
	if (ret)
		return ret;
	pm_uprobe_group_attach(&pm_ml_uprobes);
	return 0;
}

static void pm_ml_detach(void)
{
	pm_uprobe_group_detach(&pm_ml_uprobes);
	pm_tps_detach(pm_ml_tps, ARRAY_SIZE(pm_ml_tps));
	/* No probe can schedule it again: the last sweep ends here. */
	cancel_delayed_work_sync(&pm_ml_sweep);
	/* Handlers are done: what nobody tracks any more is not shown. */
	pm_leakagg_clear(&pm_ml_leaks);
}

static const struct pm_group pm_ml_group = {
	.name = "memleak",
	.attach = pm_ml_attach,
	.detach = pm_ml_detach,
};

static int pm_ml_stat_rows(pm_agg_emit_fn emit, void *ctx)
{
	u64 values[PM_ML_STAT_COLUMNS];

	pm_agg_counters_sum(&pm_ml_stat, values);
	pm_leakagg_losses(&pm_ml_leaks, &values[PM_ML_STAT_NR]);
	values[PM_ML_STAT_NR + 3] = atomic64_read(&pm_ml_exit_forgotten);
	values[PM_ML_STAT_NR + 4] = atomic64_read(&pm_ml_maps_missed);
	values[PM_ML_STAT_NR + 5] = atomic64_read(&pm_ml_exec_forgotten);
	values[PM_ML_STAT_NR + 6] = atomic64_read(&pm_ml_exec_missed);
	values[PM_ML_STAT_NR + 7] = atomic64_read(&pm_ml_stacks_forgotten);
	return emit(ctx, "all", values, ARRAY_SIZE(values));
}

static void pm_ml_stat_reset(void)
{
	pm_agg_counters_reset(&pm_ml_stat);
	atomic64_set(&pm_ml_exit_forgotten, 0);
	atomic64_set(&pm_ml_maps_missed, 0);
	atomic64_set(&pm_ml_exec_forgotten, 0);
	atomic64_set(&pm_ml_exec_missed, 0);
	atomic64_set(&pm_ml_stacks_forgotten, 0);
}

static struct pm_agg_table pm_ml_stat_table = {
	.name = "memleakstat",
	.columns = "malloc,calloc,realloc,posix_memalign,aligned_alloc,memalign,valloc,pvalloc,free,alloc_bytes,failed,untracked,mismatched,sampled_out,blocks_full,stacks_full,replaced,exit_forgotten,maps_missed,exec_forgotten,exec_missed,stacks_forgotten",
	.rows = pm_ml_stat_rows,
	.reset = pm_ml_stat_reset,
};

/* The table "memleak": core/leakagg.h. */
static int pm_ml_leak_rows(pm_agg_emit_fn emit, void *ctx)
{
	return pm_leakagg_rows(&pm_ml_leaks, emit, ctx);
}

static int pm_ml_leak_show(struct seq_file *m)
{
	return pm_leakagg_show(&pm_ml_leaks, m, "user allocations");
}

static void pm_ml_leak_reset(void)
{
	pm_leakagg_forget(&pm_ml_leaks);
}

static struct pm_agg_table pm_ml_leak_table = {
	.name = "memleak",
	.columns = PM_LEAKAGG_COLUMNS,
	.rows = pm_ml_leak_rows,
	.reset = pm_ml_leak_reset,
	.show = pm_ml_leak_show,
};

int pm_memleak_init(void)
{
	int ret;

	BUILD_BUG_ON(ARRAY_SIZE(pm_ml_roles) != PERSECMON_ALLOC_FUNC_MAX + 1);
	BUILD_BUG_ON(PM_LEAKTAB_FRAMES != PERSECMON_USTACK_MAX);
	ret = pm_leakagg_init(&pm_ml_leaks, memleak_blocks, memleak_stacks);
	if (ret) {
		pr_err("memleak_blocks and memleak_stacks must be powers of two from %u to %u\n",
		       PM_LEAKTAB_PROBE, PM_LEAKTAB_CAPACITY_MAX);
		return ret;
	}
	pm_ml_calls = vzalloc(PM_ML_INFLIGHT * sizeof(*pm_ml_calls));
	if (!pm_ml_calls) {
		ret = -ENOMEM;
		goto err_leaks;
	}
	ret = pm_agg_counters_alloc(&pm_ml_stat, PM_ML_STAT_NR);
	if (ret)
		goto err_calls;
	check_trace_callback_type_sched_process_exit(pm_ml_exit_probe);
	check_trace_callback_type_sched_process_exec(pm_ml_exec_probe);
	ret = pm_tps_init("memleak", pm_ml_tps, ARRAY_SIZE(pm_ml_tps));
	if (ret)
		goto err_stat;
	ret = pm_agg_table_register(&pm_ml_stat_table);
	if (ret)
		goto err_tps;
	ret = pm_agg_table_register(&pm_ml_leak_table);
	if (ret)
		goto err_stat_table;
	ret = pm_uprobe_group_register(&pm_ml_uprobes);
	if (ret)
		goto err_leak_table;
	ret = pm_group_register(PERSECMON_GROUP_MEMLEAK, &pm_ml_group);
	if (ret)
		goto err_uprobes;
	return 0;

err_uprobes:
	pm_uprobe_group_unregister(&pm_ml_uprobes);
err_leak_table:
	pm_agg_table_unregister(&pm_ml_leak_table);
err_stat_table:
	pm_agg_table_unregister(&pm_ml_stat_table);
err_tps:
	pm_tps_exit(pm_ml_tps, ARRAY_SIZE(pm_ml_tps));
err_stat:
	pm_agg_counters_free(&pm_ml_stat);
err_calls:
	vfree(pm_ml_calls);
	pm_ml_calls = NULL;
err_leaks:
	pm_leakagg_destroy(&pm_ml_leaks);
	return ret;
}

void pm_memleak_exit(void)
{
	pm_group_unregister(PERSECMON_GROUP_MEMLEAK);
	pm_uprobe_group_unregister(&pm_ml_uprobes);
	pm_agg_table_unregister(&pm_ml_leak_table);
	pm_agg_table_unregister(&pm_ml_stat_table);
	pm_tps_exit(pm_ml_tps, ARRAY_SIZE(pm_ml_tps));
	pm_agg_counters_free(&pm_ml_stat);
	vfree(pm_ml_calls);
	pm_ml_calls = NULL;
	pm_leakagg_destroy(&pm_ml_leaks);
}
