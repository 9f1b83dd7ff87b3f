// SPDX-License-Identifier: GPL-2.0
/*
 * PerSecMon keyed aggregation map.
 *
 * Layout
 *
 * A map has two banks of capacity slots each (a power of two), allocated
 * once at init. Writers use the bank map->active; the other one is all
 * zeroes whenever no reset is running. A slot is
 *
 *	unsigned long state;		(padded to 8 bytes)
 *	u64 key[key_words];
 *	atomic64_t values[nr_values];
 *
 * and state is EMPTY (0), BUSY (1: claimed, key being written) or READY
 * ((hash << 2) | 2: key written and immutable from then on). The hash is a
 * 32-bit mix of the key words with a per-map random seed; its low bits
 * pick the key's home slot. Slots never go back to EMPTY except through a
 * reset, so a key's slot never moves and nothing is ever deleted.
 *
 * Lookup-or-insert (pm_aggmap_values, any context)
 *
 * Linear probing over at most max_probe = min(capacity, 64) slots from the
 * home slot:
 *
 *	s = load_acquire(state)				(A)
 *	EMPTY:	cmpxchg(state, EMPTY, BUSY)		(B)
 *		won:  write key, store_release(state, READY)	(C)
 *		      return values
 *		lost: s = load_acquire(state), go on as below
 *	READY:	same hash and same key words: return values
 *	BUSY or another key: next slot
 *
 * If no slot in the window fits, the caller gets the bank's overflow row.
 *
 * Nobody ever waits for anybody. A BUSY slot may belong to the very
 * context we interrupted (an NMI on top of a kprobe handler on the same
 * CPU, or a hardirq on top of a softirq); spinning on it would deadlock,
 * so we probe past it. The price: two contexts inserting the same new key
 * at the same time (one interrupting the other, or two CPUs) can each end
 * up with a slot, a duplicate. Later lookups stop at the first READY copy
 * in probe order, so a duplicate only collects updates made during the
 * race. The dump merges duplicates: they all lie inside the probe window
 * of their common home slot.
 *
 * A slot's values start at zero (the bank was zeroed before it became
 * active) and are only ever changed with atomic64 adds, which are atomic
 * against other CPUs and against interrupts, NMI included. We do not use
 * per-CPU values: that would multiply the memory by the number of CPUs.
 * The cost is a LOCKed add per column, contended only when several CPUs
 * update the same key at once.
 *
 * Memory ordering
 *
 *	writer (claims the slot)		writer / dump (any CPU)
 *
 *	cmpxchg(state, EMPTY, BUSY)  (B)	s = load_acquire(state)  (A)
 *	key[] = ...				if (s is READY)
 *	store_release(state, READY)  (C)		read key[], values[]
 *
 * C pairs with A: whoever sees READY sees the whole key. B is a full
 * barrier and is the only way out of EMPTY, so exactly one context claims
 * a slot. A failed cmpxchg orders nothing, hence the second acquire load.
 * Values need no ordering with the key: they are zero from before the bank
 * became active, and every later change is an atomic RMW.
 *
 * Reset (process context, under map->lock)
 *
 *	old = active
 *	store_release(active, !old)	the other bank, zeroed earlier
 *	synchronize_rcu()
 *	memset(bank old, 0)
 *
 * A writer reads map->active once, then works in that bank until it has
 * made its last update (the RULE in aggmap.h): all of it inside an RCU
 * read-side critical section. Since Linux 5.0 synchronize_rcu() also waits
 * for regions with preemption or interrupts disabled and for NMI handlers,
 * so once it returns no writer can still be using the old bank and
 * clearing it races with nobody. The release store orders the previous
 * memset of the new bank before any writer can pick it, and pairs with the
 * writer's acquire load of map->active (a plain load on x86; an address
 * dependency would do, but the acquire says what we mean).
 * Without the RULE, an update landing after the memset would leave
 * garbage in a free slot of the next generation.
 *
 * Dump (process context, under map->lock)
 *
 * The dump copies every READY slot of the active bank into a snapshot
 * (acquire load of the state, then key and atomic64_read of the values),
 * so that it works on a fixed set of slots while writers go on. In the
 * snapshot, a slot is canonical if no slot closer to its home in the probe
 * window holds the same key; a canonical slot absorbs the values of the
 * same-key slots further along the window. The rows are then sorted if
 * the map asks for it, and each key is printed by format_key(). A dump
 * concurrent with updates sees each update entirely or not at all per
 * column, like any aggregate table, but never counts a value twice.
 */
#ifdef __KERNEL__
#include <linux/bits.h>
#include <linux/bug.h>
#include <linux/errno.h>
#include <linux/log2.h>
#include <linux/minmax.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#endif

#include "aggmap.h"
#include "hashmix.h"

/* Slot states; READY is (hash << 2) | PM_AGGMAP_READY. */
#define PM_AGGMAP_EMPTY		0UL
#define PM_AGGMAP_BUSY		1UL
#define PM_AGGMAP_READY		2UL
#define PM_AGGMAP_STATE_MASK	3UL

/* At most this many columns in a counter map. */
#define PM_AGGMAP_COLUMNS_MAX	16
#define PM_AGGMAP_CAPACITY_MAX	(1U << 20)

#define PM_AGGMAP_KEY_WORDS	(PM_AGGMAP_KEY_MAX / sizeof(u64))

struct pm_aggmap_slot {
	union {
		unsigned long state;
		u64 pad;
	};
	u64 key[];
	/* then atomic64_t values[nr_values] */
};

static inline struct pm_aggmap_slot *
pm_aggmap_slot(const struct pm_aggmap *map, void *slots, unsigned int i)
{
	return (struct pm_aggmap_slot *)((char *)slots + i * map->slot_size);
}

static inline atomic64_t *pm_aggmap_slot_values(const struct pm_aggmap *map,
						struct pm_aggmap_slot *slot)
{
	return (atomic64_t *)&slot->key[map->key_words];
}

static inline unsigned long pm_aggmap_ready_state(u32 hash)
{
	return ((unsigned long)hash << 2) | PM_AGGMAP_READY;
}

static inline u32 pm_aggmap_state_hash(unsigned long state)
{
	return (u32)(state >> 2);
}

static u32 pm_aggmap_hash(const struct pm_aggmap *map, const u64 *key)
{
	return pm_hash_words(map->seed, key, map->key_words);
}

static bool pm_aggmap_key_equal(const struct pm_aggmap *map, const u64 *a,
				const u64 *b)
{
	unsigned int i;

	for (i = 0; i < map->key_words; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

atomic64_t *pm_aggmap_values(struct pm_aggmap *map, const void *key)
{
	u64 k[PM_AGGMAP_KEY_WORDS];
	struct pm_aggmap_bank *bank;
	struct pm_aggmap_slot *slot;
	unsigned long state, ready;
	unsigned int i, n;
	u32 hash;

	/* The caller's key may be only 4-byte aligned. */
	memcpy(k, key, map->key_words * sizeof(u64));
	hash = pm_aggmap_hash(map, k);
	ready = pm_aggmap_ready_state(hash);
	/* Pairs with the flip in pm_aggmap_reset(): the bank is zeroed. */
	bank = &map->banks[smp_load_acquire(&map->active)];
	i = hash & map->mask;
	for (n = 0; n < map->max_probe; n++, i = (i + 1) & map->mask) {
		slot = pm_aggmap_slot(map, bank->slots, i);
		/* (A): pairs with (C), a READY key is complete. */
		state = smp_load_acquire(&slot->state);
		if (state == PM_AGGMAP_EMPTY) {
			/* (B): exactly one context claims the slot. */
			if (cmpxchg(&slot->state, PM_AGGMAP_EMPTY,
				    PM_AGGMAP_BUSY) == PM_AGGMAP_EMPTY) {
				memcpy(slot->key, k,
				       map->key_words * sizeof(u64));
				/* (C): publishes the key; pairs with (A). */
				smp_store_release(&slot->state, ready);
				return pm_aggmap_slot_values(map, slot);
			}
			/* (A) again: a failed cmpxchg orders nothing. */
			state = smp_load_acquire(&slot->state);
		}
		if (state == ready && pm_aggmap_key_equal(map, slot->key, k))
			return pm_aggmap_slot_values(map, slot);
	}
	return bank->overflow;
}

/* Setup */

static int pm_aggmap_parse_columns(struct pm_aggmap *map, const char *columns)
{
	unsigned int n = 1;
	const char *c;

	if (!strncmp(columns, "log2:", 5)) {
		if (!columns[5])
			return -EINVAL;
		map->hist = true;
		map->nr_values = PM_AGG_HIST_SLOTS;
		return 0;
	}
	if (!*columns)
		return -EINVAL;
	for (c = columns; *c; c++) {
		if (*c != ',')
			continue;
		/* No empty column name. */
		if (c == columns || c[1] == ',' || !c[1])
			return -EINVAL;
		n++;
	}
	if (n > PM_AGGMAP_COLUMNS_MAX)
		return -EINVAL;
	map->hist = false;
	map->nr_values = n;
	return 0;
}

static void pm_aggmap_free_banks(struct pm_aggmap *map)
{
	unsigned int b;

	for (b = 0; b < ARRAY_SIZE(map->banks); b++) {
		kvfree(map->banks[b].slots);
		map->banks[b].slots = NULL;
		kfree(map->banks[b].overflow);
		map->banks[b].overflow = NULL;
	}
}

int pm_aggmap_init(struct pm_aggmap *map, const struct pm_aggmap_info *info)
{
	unsigned int b;
	int ret;

	BUILD_BUG_ON(sizeof(unsigned long) > sizeof(u64));
	BUILD_BUG_ON(sizeof(atomic64_t) != sizeof(u64));
	BUILD_BUG_ON(PM_AGGMAP_KEY_MAX % sizeof(u64));
	if (!info->name || !info->columns || !info->format_key ||
	    !is_power_of_2(info->capacity) ||
	    info->capacity > PM_AGGMAP_CAPACITY_MAX ||
	    !info->key_size || info->key_size % sizeof(u64) ||
	    info->key_size > PM_AGGMAP_KEY_MAX)
		return -EINVAL;
	ret = pm_aggmap_parse_columns(map, info->columns);
	if (ret)
		return ret;
	if (!map->hist && (info->sort_columns >> map->nr_values))
		return -EINVAL;
	if (!map->table.rows || !map->table.reset)
		return -EINVAL;	/* not defined by DEFINE_PM_AGGMAP() */

	map->info = info;
	map->mask = info->capacity - 1;
	map->max_probe = min_t(unsigned int, info->capacity,
			       PM_AGGMAP_MAX_PROBE);
	map->key_words = info->key_size / sizeof(u64);
	map->slot_size = sizeof(struct pm_aggmap_slot) + info->key_size +
			 map->nr_values * sizeof(atomic64_t);
	map->seed = ((u64)get_random_u32() << 32) | get_random_u32();
	map->active = 0;
	mutex_init(&map->lock);
	for (b = 0; b < ARRAY_SIZE(map->banks); b++) {
		map->banks[b].slots = kvcalloc(info->capacity, map->slot_size,
					       GFP_KERNEL);
		map->banks[b].overflow = kcalloc(map->nr_values,
						 sizeof(atomic64_t),
						 GFP_KERNEL);
		if (!map->banks[b].slots || !map->banks[b].overflow) {
			ret = -ENOMEM;
			goto err_free;
		}
	}
	map->table.name = info->name;
	map->table.columns = info->columns;
	ret = pm_agg_table_register(&map->table);
	if (ret)
		goto err_free;
	return 0;

err_free:
	pm_aggmap_free_banks(map);
	mutex_destroy(&map->lock);
	return ret;
}

void pm_aggmap_destroy(struct pm_aggmap *map)
{
	pm_agg_table_unregister(&map->table);
	pm_aggmap_free_banks(map);
	mutex_destroy(&map->lock);
}

/* Reset */

static void pm_aggmap_clear_bank(struct pm_aggmap *map,
				 struct pm_aggmap_bank *bank)
{
	memset(bank->slots, 0, (size_t)(map->mask + 1) * map->slot_size);
	memset(bank->overflow, 0, map->nr_values * sizeof(atomic64_t));
}

void pm_aggmap_reset(struct pm_aggmap *map)
{
	unsigned int old;

	mutex_lock(&map->lock);
	old = map->active;
	/* Orders the earlier clearing of the other bank before its use. */
	smp_store_release(&map->active, !old);
	/* Cached rows of bank old are stale from here (aggmap.h). */
	WRITE_ONCE(map->generation, map->generation + 1);
	/* Every writer that could have picked bank old is done with it. */
	synchronize_rcu();
	pm_aggmap_clear_bank(map, &map->banks[old]);
	mutex_unlock(&map->lock);
}

/* Dump */

struct pm_aggmap_order {
	u64 weight;
	unsigned int slot;
};

static int pm_aggmap_order_cmp(const void *a, const void *b)
{
	const struct pm_aggmap_order *x = a, *y = b;

	/* Largest first; equal weights in slot order, for a stable output. */
	if (x->weight != y->weight)
		return x->weight < y->weight ? 1 : -1;
	return x->slot < y->slot ? -1 : x->slot > y->slot;
}

/* Plain u64 views of a snapshot slot's values. */
static inline u64 *pm_aggmap_snap_values(const struct pm_aggmap *map,
					 struct pm_aggmap_slot *slot)
{
	return (u64 *)pm_aggmap_slot_values(map, slot);
}

/* Copies the READY slots of the active bank into @snap; returns how many. */
static unsigned int pm_aggmap_snapshot(struct pm_aggmap *map, void *snap,
				       u64 *overflow)
{
	struct pm_aggmap_bank *bank = &map->banks[map->active];
	struct pm_aggmap_slot *slot, *copy;
	unsigned int i, v, n = 0;
	atomic64_t *values;
	unsigned long state;
	u64 *out;

	for (i = 0; i <= map->mask; i++) {
		slot = pm_aggmap_slot(map, bank->slots, i);
		copy = pm_aggmap_slot(map, snap, i);
		/* (A) of the dump: pairs with (C), a READY key is complete. */
		state = smp_load_acquire(&slot->state);
		if ((state & PM_AGGMAP_STATE_MASK) != PM_AGGMAP_READY) {
			copy->state = PM_AGGMAP_EMPTY;
			continue;
		}
		copy->state = state;
		memcpy(copy->key, slot->key, map->key_words * sizeof(u64));
		values = pm_aggmap_slot_values(map, slot);
		out = pm_aggmap_snap_values(map, copy);
		for (v = 0; v < map->nr_values; v++)
			out[v] = (u64)atomic64_read(&values[v]);
		n++;
	}
	for (v = 0; v < map->nr_values; v++)
		overflow[v] = (u64)atomic64_read(&bank->overflow[v]);
	return n;
}

/*
 * Folds every duplicate into its canonical slot (see the top of the file)
 * and marks it EMPTY. Returns the number of rows left.
 */
static unsigned int pm_aggmap_merge(struct pm_aggmap *map, void *snap,
				    unsigned int rows)
{
	struct pm_aggmap_slot *slot, *other;
	unsigned int i, j, d, e, home, v;
	u64 *sum, *add;

	for (i = 0; i <= map->mask; i++) {
		slot = pm_aggmap_slot(map, snap, i);
		if (slot->state == PM_AGGMAP_EMPTY)
			continue;
		home = pm_aggmap_state_hash(slot->state) & map->mask;
		d = (i - home) & map->mask;
		/* Canonical: no copy closer to home (d < max_probe). */
		for (e = 0; e < d; e++) {
			other = pm_aggmap_slot(map, snap, (home + e) & map->mask);
			if (other->state == slot->state &&
			    pm_aggmap_key_equal(map, other->key, slot->key))
				break;
		}
		if (e < d)
			continue;
		sum = pm_aggmap_snap_values(map, slot);
		for (e = d + 1; e < map->max_probe; e++) {
			j = (home + e) & map->mask;
			other = pm_aggmap_slot(map, snap, j);
			if (other->state != slot->state ||
			    !pm_aggmap_key_equal(map, other->key, slot->key))
				continue;
			add = pm_aggmap_snap_values(map, other);
			for (v = 0; v < map->nr_values; v++)
				sum[v] += add[v];
			other->state = PM_AGGMAP_EMPTY;
			rows--;
		}
	}
	return rows;
}

static u64 pm_aggmap_weight(const struct pm_aggmap *map, const u64 *values)
{
	u32 mask = map->info->sort_columns;
	unsigned int v;
	u64 w = 0;

	for (v = 0; v < map->nr_values; v++)
		if (map->hist || (mask & BIT(v)))
			w += values[v];
	return w;
}

static bool pm_aggmap_nonzero(const struct pm_aggmap *map, const u64 *values)
{
	unsigned int v;

	for (v = 0; v < map->nr_values; v++)
		if (values[v])
			return true;
	return false;
}

static int pm_aggmap_emit_rows(struct pm_aggmap *map, void *snap,
			       struct pm_aggmap_order *order,
			       unsigned int rows, const u64 *overflow,
			       pm_agg_emit_fn emit, void *ctx)
{
	struct pm_aggmap_slot *slot;
	char key[PM_AGG_KEY_MAX];
	unsigned int i, r = 0;
	int ret;

	if (pm_aggmap_nonzero(map, overflow)) {
		ret = emit(ctx, PM_AGGMAP_OVERFLOW_KEY, overflow,
			   map->nr_values);
		if (ret)
			return ret;
	}
	for (i = 0; i <= map->mask && r < rows; i++) {
		slot = pm_aggmap_slot(map, snap, i);
		if (slot->state == PM_AGGMAP_EMPTY)
			continue;
		order[r].slot = i;
		order[r].weight = map->info->sort_columns ?
			pm_aggmap_weight(map,
					 pm_aggmap_snap_values(map, slot)) : 0;
		r++;
	}
	if (map->info->sort_columns)
		sort(order, r, sizeof(*order), pm_aggmap_order_cmp, NULL);
	for (i = 0; i < r; i++) {
		slot = pm_aggmap_slot(map, snap, order[i].slot);
		key[0] = '\0';
		map->info->format_key(key, sizeof(key), slot->key);
		ret = emit(ctx, key, pm_aggmap_snap_values(map, slot),
			   map->nr_values);
		if (ret)
			return ret;
	}
	return 0;
}

int pm_aggmap_rows(struct pm_aggmap *map, pm_agg_emit_fn emit, void *ctx)
{
	u64 overflow[PM_AGG_HIST_SLOTS];
	struct pm_aggmap_order *order = NULL;
	unsigned int rows;
	void *snap;
	int ret;

	BUILD_BUG_ON(PM_AGGMAP_COLUMNS_MAX > PM_AGG_HIST_SLOTS);
	snap = kvmalloc_array(map->mask + 1, map->slot_size, GFP_KERNEL);
	if (!snap)
		return -ENOMEM;
	mutex_lock(&map->lock);
	rows = pm_aggmap_snapshot(map, snap, overflow);
	mutex_unlock(&map->lock);
	rows = pm_aggmap_merge(map, snap, rows);
	if (rows) {
		order = kvmalloc_array(rows, sizeof(*order), GFP_KERNEL);
		if (!order) {
			ret = -ENOMEM;
			goto out;
		}
	}
	ret = pm_aggmap_emit_rows(map, snap, order, rows, overflow, emit, ctx);
out:
	kvfree(order);
	kvfree(snap);
	return ret;
}
