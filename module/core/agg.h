/* SPDX-License-Identifier: GPL-2.0 */
/*
 * In-kernel aggregates: per-CPU counters and log2 histograms that probes
 * update from any context, summed only when someone reads them; a registry
 * of named aggregate tables (debugfs files, PERSECMON_CMD_AGG_DUMP and
 * AGG_RESET); and a registry of probes for the "probes" views.
 */
#ifndef PERSECMON_CORE_AGG_H
#define PERSECMON_CORE_AGG_H

#include <linux/bitops.h>
#include <linux/list.h>
#include <linux/build_bug.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/types.h>

#include "compat/compat.h"

struct dentry;
struct kprobe;
struct kretprobe;
struct seq_file;

/* Slot i of a log2 histogram counts values in [2^i, 2^(i+1)); slot 0 also 0. */
#define PM_AGG_HIST_SLOTS	64

/* Longest row key, NUL included. */
#define PM_AGG_KEY_MAX		64

/*
 * @n per-CPU u64 counters. Updates are one this_cpu_add(): safe in any
 * context, NMI included, and never contended.
 */
struct pm_agg_counters {
	u64 __percpu *values;
	unsigned int n;
};

int pm_agg_counters_alloc(struct pm_agg_counters *c, unsigned int n);
void pm_agg_counters_free(struct pm_agg_counters *c);
/* @out[i] = counter i summed over every possible CPU. */
void pm_agg_counters_sum(const struct pm_agg_counters *c, u64 *out);
/* Racy against concurrent updates: an update during the reset may survive. */
void pm_agg_counters_reset(struct pm_agg_counters *c);

static __always_inline void pm_agg_add(struct pm_agg_counters *c,
				       unsigned int i, u64 delta)
{
	this_cpu_add(c->values[i], delta);
}

static __always_inline unsigned int pm_agg_log2_slot(u64 value)
{
	/* fls64() is 1..64 for a non-zero value: slots 0..63. */
	return value ? fls64(value) - 1 : 0;
}

/* A log2 histogram is PM_AGG_HIST_SLOTS counters. */
static inline int pm_agg_hist_alloc(struct pm_agg_counters *h)
{
	return pm_agg_counters_alloc(h, PM_AGG_HIST_SLOTS);
}

static __always_inline void pm_agg_hist_add(struct pm_agg_counters *h,
					    u64 value)
{
	this_cpu_inc(h->values[pm_agg_log2_slot(value)]);
}

/*
 * A named aggregate table. @columns follows PERSECMON_A_AGG_COLUMNS:
 * "a,b,c" (one value per column) or "log2:UNIT" (PM_AGG_HIST_SLOTS values
 * per row). @rows() calls @emit for each row, in process context, and
 * stops at the first non-zero return, which it passes on. @reset zeroes
 * the table.
 */
typedef int (*pm_agg_emit_fn)(void *ctx, const char *key, const u64 *values,
			      unsigned int nr_values);

struct pm_agg_table {
	const char *name;
	const char *columns;
	int (*rows)(pm_agg_emit_fn emit, void *ctx);
	void (*reset)(void);
	/* optional: the debugfs file's text, when rows are not for humans */
	int (*show)(struct seq_file *m);
	/* private to agg.c */
	struct list_head node;
};

/* From a probe file's init, before pm_debugfs_init(); undone at its exit. */
int pm_agg_table_register(struct pm_agg_table *table);
void pm_agg_table_unregister(struct pm_agg_table *table);
/* Calls @fn for every table (or only the one named @name) until non-zero. */
int pm_agg_tables_for_each(const char *name,
			   int (*fn)(void *arg, struct pm_agg_table *table),
			   void *arg);
/* 0, or -ENOENT if no table is called @name. */
int pm_agg_table_reset(const char *name);
/*
 * "key v1 v2 ..." lines, bcc-style star histograms for log2 tables, or
 * the table's own show().
 */
int pm_agg_table_show(struct seq_file *m, struct pm_agg_table *table);

/*
 * A probe of a group, for GET_STATUS (PERSECMON_A_PROBE) and the debugfs
 * "probes" file. The group sets @attached and @error under the groups
 * mutex (in attach/detach) and counts hits with pm_probe_hit(). @kp and
 * @rp, when set, supply the kernel's nmissed counters.
 */
struct pm_probe {
	const char *group;
	const char *name;
	const char *mechanism;	/* kprobe, kretprobe, tracepoint, uprobe */
	struct kprobe *kp;
	struct kretprobe *rp;
	bool attached;
	int error;
	/* private to agg.c */
	u64 __percpu *hits;
	struct list_head node;
};

struct pm_probe_summary {
	const char *group;
	const char *name;
	const char *mechanism;
	bool attached;
	int error;
	u64 hits;
	u64 missed;
};

int pm_probe_register(struct pm_probe *probe);
void pm_probe_unregister(struct pm_probe *probe);
unsigned int pm_probes_count(void);
int pm_probes_for_each(int (*fn)(void *arg, const struct pm_probe_summary *ps),
		       void *arg);

/* From a group's attach/detach: what the last (un)register did. */
static inline void pm_probe_set_state(struct pm_probe *probe, bool attached,
				      int error)
{
	WRITE_ONCE(probe->attached, attached);
	WRITE_ONCE(probe->error, error);
}

static __always_inline void pm_probe_hit(struct pm_probe *probe)
{
	this_cpu_inc(*probe->hits);
}

/*
 * Whether two task comms (TASK_COMM_LEN bytes, NUL padded as the kernel
 * keeps them) are the same: two word compares instead of a memcmp() call,
 * for the per-CPU row caches of the probe handlers.
 */
static __always_inline bool pm_comm_equal(const char *a, const char *b)
{
	u64 a0, a1, b0, b1;

	BUILD_BUG_ON(sizeof(a0) + sizeof(a1) != TASK_COMM_LEN);
	memcpy(&a0, a, sizeof(a0));
	memcpy(&a1, a + sizeof(a0), sizeof(a1));
	memcpy(&b0, b, sizeof(b0));
	memcpy(&b1, b + sizeof(b0), sizeof(b1));
	return a0 == b0 && a1 == b1;
}

/* Hits of @probe counted on @cpu. */
static inline u64 pm_probe_hits_cpu(const struct pm_probe *probe,
				    unsigned int cpu)
{
	return *per_cpu_ptr(probe->hits, cpu);
}

/* Creates one file per table plus "probes" in @dir (debugfs.c). */
void pm_agg_debugfs_init(struct dentry *dir);

#endif /* PERSECMON_CORE_AGG_H */
