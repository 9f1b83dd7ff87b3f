/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Keyed aggregation map: a fixed-capacity hash table from a small binary
 * key ({tgid, comm}, {dev, ino, name}, ...) to a row of counters or to a
 * log2 histogram, updated lock-free from any context (NMI included) and
 * published as an aggregate table (agg.h): a debugfs file and rows of
 * PERSECMON_CMD_AGG_DUMP / AGG_RESET, with the key printed by the map's
 * format_key(). The algorithm and its memory ordering are at the top of
 * aggmap.c; docs/aggregates.md explains costs and limits.
 *
 * Use:
 *
 *	struct my_key { u32 tgid; char comm[TASK_COMM_LEN]; u32 pad; };
 *
 *	static int my_format(char *buf, size_t size, const void *key);
 *	static const struct pm_aggmap_info my_info = {
 *		.name = "my_top", .columns = "calls,bytes",
 *		.capacity = 1024, .key_size = sizeof(struct my_key),
 *		.format_key = my_format, .sort_columns = BIT(1),
 *	};
 *	DEFINE_PM_AGGMAP(my_map);
 *
 *	init:	err = pm_aggmap_init(&my_map, &my_info);
 *	exit:	pm_aggmap_destroy(&my_map);
 *	probe (preemption disabled, e.g. a kprobe handler):
 *		struct my_key k;
 *		atomic64_t *v;
 *
 *		memset(&k, 0, sizeof(k));	(padding is part of the key)
 *		k.tgid = ...;
 *		v = pm_aggmap_values(&my_map, &k);
 *		pm_aggmap_add(v, 0, 1);
 *		pm_aggmap_add(v, 1, bytes);
 *
 * pm_aggmap_values() never fails: when the key has no slot (the map is
 * full, or the probe window around its hash is), it returns the values of
 * the map's overflow row, which the dump shows under PM_AGGMAP_OVERFLOW_KEY
 * as soon as it is non-zero. Column totals over all rows are thus exact.
 *
 * RULE: the lookup and every update through the pointer it returns must
 * happen inside one RCU read-side critical section, because a reset frees
 * the bank for reuse after synchronize_rcu(). kprobe, kretprobe and
 * tracepoint handlers run with preemption disabled, which is one; a
 * preemptible caller (uprobe handler, process context) wraps the sequence
 * in rcu_read_lock()/rcu_read_unlock() or uses pm_aggmap_update() and
 * pm_aggmap_update_hist(), which do.
 *
 * This file and aggmap.c also build in userspace through
 * tests/unit/kshim/ (tests/unit/aggmap.mk).
 */
#ifndef PERSECMON_CORE_AGGMAP_H
#define PERSECMON_CORE_AGGMAP_H

#ifdef __KERNEL__
#include <linux/atomic.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/types.h>

#include "core/agg.h"
#else
#include "kshim-agg.h"
#endif

/* Largest key, in bytes. key_size must be a multiple of 8. */
#define PM_AGGMAP_KEY_MAX	48
/* Slots probed from a key's home slot before it goes to the overflow row. */
#define PM_AGGMAP_MAX_PROBE	64
/* Row key of the overflow row. No format_key() may produce it. */
#define PM_AGGMAP_OVERFLOW_KEY	"[overflow]"

/*
 * Writes the row key for @key (key_size bytes) into @buf, NUL-terminated,
 * like "pid=12 comm=dd"; at most @size bytes (PM_AGG_KEY_MAX). Process
 * context. Returns the length, as scnprintf() does.
 */
typedef int (*pm_aggmap_format_fn)(char *buf, size_t size, const void *key);

/* What a map is; constant for its lifetime. */
struct pm_aggmap_info {
	const char *name;	/* table name: debugfs file, AGG_DUMP */
	/*
	 * "a,b,c": one u64 per column (at most 16 columns), or "log2:UNIT":
	 * a log2 histogram (PM_AGG_HIST_SLOTS values), updated with
	 * pm_aggmap_hist_add().
	 */
	const char *columns;
	unsigned int capacity;	/* keys; a power of two, at most 2^20 */
	unsigned int key_size;	/* bytes; multiple of 8, <= PM_AGGMAP_KEY_MAX */
	pm_aggmap_format_fn format_key;
	/*
	 * 0: rows in slot order. Otherwise rows come sorted by the sum of
	 * these columns (bit i = column i), largest first; for a histogram,
	 * any non-zero value sorts by the total count.
	 */
	u32 sort_columns;
};

/* One generation of the map: the slots and the overflow row. Private. */
struct pm_aggmap_bank {
	void *slots;			/* capacity * slot_size bytes */
	atomic64_t *overflow;		/* nr_values */
};

struct pm_aggmap {
	/* Set by DEFINE_PM_AGGMAP(); name and columns by pm_aggmap_init(). */
	struct pm_agg_table table;
	/* private to aggmap.c */
	const struct pm_aggmap_info *info;
	struct pm_aggmap_bank banks[2];
	unsigned int active;		/* bank writers use */
	unsigned long generation;	/* bumped by each reset's flip */
	unsigned int mask;		/* capacity - 1 */
	unsigned int max_probe;
	unsigned int key_words;		/* key_size / 8 */
	unsigned int nr_values;
	size_t slot_size;		/* bytes */
	u64 seed;			/* of the key hash */
	bool hist;
	struct mutex lock;		/* dump and reset */
};

/* Back-ends of the table callbacks that DEFINE_PM_AGGMAP() generates. */
int pm_aggmap_rows(struct pm_aggmap *map, pm_agg_emit_fn emit, void *ctx);
void pm_aggmap_reset(struct pm_aggmap *map);

/*
 * Defines "static struct pm_aggmap @_map" wired to an aggregate table.
 * agg.h's table callbacks carry no pointer, hence one pair per map.
 */
#define DEFINE_PM_AGGMAP(_map)						\
	static struct pm_aggmap _map;					\
	static int _map##_rows(pm_agg_emit_fn emit, void *ctx)		\
	{								\
		return pm_aggmap_rows(&_map, emit, ctx);		\
	}								\
	static void _map##_reset(void)					\
	{								\
		pm_aggmap_reset(&_map);					\
	}								\
	static struct pm_aggmap _map = {				\
		.table = { .rows = _map##_rows, .reset = _map##_reset },\
	}

/*
 * Allocates both banks (GFP_KERNEL, process context) and registers the
 * table: call from a probe file's init, before pm_debugfs_init(). 0,
 * -EINVAL for a bad @info, -ENOMEM, or pm_agg_table_register()'s error.
 */
int pm_aggmap_init(struct pm_aggmap *map, const struct pm_aggmap_info *info);
/* Unregisters and frees. No update may be running or start any more. */
void pm_aggmap_destroy(struct pm_aggmap *map);

/*
 * The values of @key's row (key_size bytes, padding zeroed), inserted if
 * new, or of the overflow row: never NULL. Any context; see the RULE above.
 */
atomic64_t *pm_aggmap_values(struct pm_aggmap *map, const void *key);

/*
 * The map's generation, for callers that keep a values pointer across
 * RCU sections (a per-CPU cache of the last key's row): a pointer taken
 * under generation G may be used in a later section that reads G again.
 * A reset bumps it when writers switch banks, before it waits for them,
 * so a section that still reads G ends before the old bank is cleared.
 */
static __always_inline unsigned long
pm_aggmap_generation(const struct pm_aggmap *map)
{
	return READ_ONCE(map->generation);
}

static __always_inline void pm_aggmap_add(atomic64_t *values, unsigned int i,
					  u64 delta)
{
	atomic64_add((s64)delta, &values[i]);
}

static __always_inline void pm_aggmap_hist_add(atomic64_t *values, u64 value)
{
	atomic64_inc(&values[pm_agg_log2_slot(value)]);
}

/* Lookup and one update in one RCU read-side section: any context. */
static inline void pm_aggmap_update(struct pm_aggmap *map, const void *key,
				    unsigned int i, u64 delta)
{
	rcu_read_lock();
	pm_aggmap_add(pm_aggmap_values(map, key), i, delta);
	rcu_read_unlock();
}

static inline void pm_aggmap_update_hist(struct pm_aggmap *map,
					 const void *key, u64 value)
{
	rcu_read_lock();
	pm_aggmap_hist_add(pm_aggmap_values(map, key), value);
	rcu_read_unlock();
}

#endif /* PERSECMON_CORE_AGGMAP_H */
