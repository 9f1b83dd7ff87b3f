/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Outstanding-allocation table: which blocks are allocated and not freed
 * yet (address -> size, time, stack), with their stacks deduplicated into
 * a stack table, updated lock-free and without allocating from any
 * context (the uprobe handlers of the memleak group; tracepoints in
 * hardirq context could use it too). Both tables have a fixed capacity,
 * allocated at init: a block or stack that finds no slot is counted, never
 * fatal. leaktab.c explains the algorithm and its memory ordering.
 *
 * Use:
 *
 *	init:	err = pm_leaktab_init(&lt, 1 << 16, 1 << 12);
 *	attach (no writer running):	pm_leaktab_clear(&lt);
 *	allocation returned @addr:
 *		stack = pm_leaktab_stack(&lt, tgid, frames, nr, now_ns);
 *		pm_leaktab_insert(&lt, tgid, addr, size, stack, now_ns);
 *	free(@addr):	pm_leaktab_remove(&lt, tgid, addr);
 *	processes gone:	pm_leaktab_forget_if(&lt, orphaned, arg);
 *			pm_leaktab_forget_stacks(&lt, gone, arg);
 *	report (process context):	pm_leaktab_report(&lt, fn, arg);
 *	exit:	pm_leaktab_destroy(&lt);
 *
 * Keys are (tgid, address): two processes may have a block at the same
 * address. A stack belongs to one tgid for the same reason.
 *
 * This file and leaktab.c also build in userspace through
 * tests/unit/kshim/ (tests/unit/leaktab.mk).
 */
#ifndef PERSECMON_CORE_LEAKTAB_H
#define PERSECMON_CORE_LEAKTAB_H

#ifdef __KERNEL__
#include <linux/atomic.h>
#include <linux/types.h>
#else
#include "kshim-agg.h"
#endif

/* Frames kept per stack: PERSECMON_USTACK_MAX. */
#define PM_LEAKTAB_FRAMES	32
/* Slots probed from a key's home slot. */
#define PM_LEAKTAB_PROBE	32
#define PM_LEAKTAB_CAPACITY_MAX	(1U << 22)

struct pm_leak_block;
struct pm_leak_stack;

struct pm_leaktab {
	struct pm_leak_block *blocks;
	struct pm_leak_stack *stacks;
	unsigned int block_mask;
	unsigned int stack_mask;
	u64 seed;		/* of the hash: a process cannot aim at slots */
	/* what could not be kept, and blocks allocated over a live one */
	atomic64_t blocks_full;
	atomic64_t stacks_full;
	atomic64_t replaced;
};

/* What a report gives per stack, largest outstanding bytes first. */
struct pm_leak_row {
	u32 stack;		/* the id pm_leaktab_stack() gave; 0: none */
	u32 tgid;
	u64 bytes;
	u64 allocations;
	u64 oldest_ns;		/* time of the oldest outstanding block */
	unsigned int nr_frames;
	const u64 *frames;
};

/* Capacities: powers of two, at least PM_LEAKTAB_PROBE. */
int pm_leaktab_init(struct pm_leaktab *lt, unsigned int blocks,
		    unsigned int stacks);
void pm_leaktab_destroy(struct pm_leaktab *lt);
/* Empties both tables and the counters. No writer may run. */
void pm_leaktab_clear(struct pm_leaktab *lt);

/*
 * The id of @tgid's stack @frames (@nr <= PM_LEAKTAB_FRAMES), added if
 * new, with @time_ns as the time it was made (kept for
 * pm_leaktab_forget_stacks()); 0 if the stack table has no slot for it
 * (counted in stacks_full).
 * An id names one life of a slot: a stack forgotten and a new one in its
 * slot have different ids.
 * @added (may be NULL) tells whether this call added it: true for one
 * caller per stack, except that two threads adding the same new stack at
 * once may both add it (two ids, two report rows).
 */
u32 pm_leaktab_stack_add(struct pm_leaktab *lt, u32 tgid, const u64 *frames,
			 unsigned int nr, u64 time_ns, bool *added);

static inline u32 pm_leaktab_stack(struct pm_leaktab *lt, u32 tgid,
				   const u64 *frames, unsigned int nr,
				   u64 time_ns)
{
	return pm_leaktab_stack_add(lt, tgid, frames, nr, time_ns, NULL);
}

/*
 * Records a block. A live block at the same (tgid, addr) lost its free
 * (not traced, or its record missed): it is replaced and counted. Returns
 * false if no slot was free (counted in blocks_full).
 */
bool pm_leaktab_insert(struct pm_leaktab *lt, u32 tgid, u64 addr, u64 size,
		       u32 stack, u64 time_ns);

/*
 * Forgets every block, while writers may run (stacks stay until the next
 * clear: a writer may be about to use an id). Process context.
 */
void pm_leaktab_forget_blocks(struct pm_leaktab *lt);

/*
 * Forgets the stacks that no block names and for which @drop(@arg, tgid,
 * time_ns) is true (their process, or its image, is gone; @time_ns: when
 * the stack was made), while writers may run: a block a writer still
 * gives such a stack's id is reported without a stack. Returns how many,
 * or -ENOMEM. Process context, apart from reports and clears: may sleep.
 */
int pm_leaktab_forget_stacks(struct pm_leaktab *lt,
			     bool (*drop)(void *arg, u32 tgid, u64 time_ns),
			     void *arg);

/*
 * Forgets the blocks for which @drop(@arg, tgid, time_ns) is true (all
 * without @drop), while writers may run; returns how many. @drop may
 * see a block that changes meanwhile: only the one it judged is taken.
 * Process context: may sleep.
 */
unsigned int pm_leaktab_forget_if(struct pm_leaktab *lt,
				  bool (*drop)(void *arg, u32 tgid,
					       u64 time_ns),
				  void *arg);

/* Forgets a block; false if it was not outstanding. */
bool pm_leaktab_remove(struct pm_leaktab *lt, u32 tgid, u64 addr);

/*
 * Calls @fn for every stack with outstanding blocks, largest bytes first
 * (blocks without a stack, or whose stack was forgotten: one row, stack 0
 * and tgid 0), until it returns non-zero, which is returned. Process
 * context: allocates.
 * Blocks that come and go meanwhile may or may not be counted.
 */
int pm_leaktab_report(struct pm_leaktab *lt,
		      int (*fn)(void *arg, const struct pm_leak_row *row),
		      void *arg);

#endif /* PERSECMON_CORE_LEAKTAB_H */
