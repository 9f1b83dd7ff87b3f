/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An outstanding-allocation table (core/leaktab.h) published as an
 * aggregate table (core/agg.h): one row per stack with outstanding
 * blocks, largest first, keyed "tgid=T stack=S" with the values
 * PM_LEAKAGG_COLUMNS (the frames as values, docs/abi.md), and a debugfs
 * text that reads like bcc memleak's report. Used by the memleak (user)
 * and kmemleak (kernel) groups, each with its own table.
 */
#ifndef PERSECMON_CORE_LEAKAGG_H
#define PERSECMON_CORE_LEAKAGG_H

#include <linux/mutex.h>

#include "core/agg.h"
#include "core/leaktab.h"

#define PM_LEAKAGG_COLUMNS "bytes,allocations,oldest_ns,frames,f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15,f16,f17,f18,f19,f20,f21,f22,f23,f24,f25,f26,f27,f28,f29,f30,f31"

struct pm_leakagg {
	struct pm_leaktab tab;
	/*
	 * Keeps reports (reads), clears (group attach, detach) and
	 * forgetting stacks apart.
	 */
	struct mutex lock;
};

/* pm_leaktab_init() of @la->tab, and the lock. */
int pm_leakagg_init(struct pm_leakagg *la, unsigned int blocks,
		    unsigned int stacks);
void pm_leakagg_destroy(struct pm_leakagg *la);
/* Empties the table: no writer may run (the group is detached). */
void pm_leakagg_clear(struct pm_leakagg *la);

/* For the aggregate table's rows, show and reset callbacks. */
int pm_leakagg_rows(struct pm_leakagg *la, pm_agg_emit_fn emit, void *ctx);
/* @what: the first line's subject, e.g. "user allocations". */
int pm_leakagg_show(struct pm_leakagg *la, struct seq_file *m,
		    const char *what);
void pm_leakagg_forget(struct pm_leakagg *la);
/* pm_leaktab_forget_stacks(), apart from reports and clears. */
int pm_leakagg_forget_stacks(struct pm_leakagg *la,
			     bool (*drop)(void *arg, u32 tgid, u64 time_ns),
			     void *arg);

/* blocks_full, stacks_full, replaced into @out[0..2] (stat tables). */
void pm_leakagg_losses(struct pm_leakagg *la, u64 out[3]);

#endif /* PERSECMON_CORE_LEAKAGG_H */
