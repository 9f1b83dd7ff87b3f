// SPDX-License-Identifier: GPL-2.0
/*
 * module/core/aggmap.c built unchanged in userspace through
 * tests/unit/kshim: lookup and insert, the overflow row of a full map,
 * column validation, sorted and histogram dumps, the merge of duplicate
 * slots (forced, and produced by writers nested in signal handlers),
 * exact sums from concurrent threads, and resets racing with writers.
 * Also built with ThreadSanitizer.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <ucontext.h>
#include <unistd.h>
#include <cmocka.h>

#include "aggmap.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MT_UPDATES	100000
#else
#define MT_UPDATES	400000
#endif
#define MT_THREADS	4

/* A {tgid, comm} key: 24 bytes, only 4-byte aligned. */
struct tkey {
	u32 tgid;
	char comm[16];
	u32 pad;
};

/* Async-signal-safe: signal handlers build keys too. */
static struct tkey mkkey(u32 tgid, const char *comm)
{
	struct tkey k;
	size_t i;

	memset(&k, 0, sizeof(k));
	k.tgid = tgid;
	for (i = 0; i < sizeof(k.comm) - 1 && comm[i]; i++)
		k.comm[i] = comm[i];
	return k;
}

static int tkey_format(char *buf, size_t size, const void *key)
{
	const struct tkey *k = key;

	return snprintf(buf, size, "pid=%u comm=%s", k->tgid, k->comm);
}

/* The aggregate table registry of agg.h, as far as aggmap.c uses it. */

#define MAX_TABLES 8
static struct pm_agg_table *tables[MAX_TABLES];

int pm_agg_table_register(struct pm_agg_table *table)
{
	unsigned int i, free_slot = MAX_TABLES;

	if (!table->name || !table->columns || !table->rows || !table->reset)
		return -EINVAL;
	for (i = 0; i < MAX_TABLES; i++) {
		if (tables[i] && !strcmp(tables[i]->name, table->name))
			return -EEXIST;
		if (!tables[i] && free_slot == MAX_TABLES)
			free_slot = i;
	}
	if (free_slot == MAX_TABLES)
		return -ENOSPC;
	tables[free_slot] = table;
	return 0;
}

void pm_agg_table_unregister(struct pm_agg_table *table)
{
	unsigned int i;

	for (i = 0; i < MAX_TABLES; i++)
		if (tables[i] == table)
			tables[i] = NULL;
}

static struct pm_agg_table *find_table(const char *name)
{
	unsigned int i;

	for (i = 0; i < MAX_TABLES; i++)
		if (tables[i] && !strcmp(tables[i]->name, name))
			return tables[i];
	return NULL;
}

/* Dumps, through the registered table as AGG_DUMP does. */

struct row {
	char key[PM_AGG_KEY_MAX];
	u64 v[PM_AGG_HIST_SLOTS];
	unsigned int n;
};

struct dump {
	struct row *rows;
	unsigned int nr, max;
	int fail_at;		/* emit returns -EMSGSIZE at this row */
};

static int collect(void *ctx, const char *key, const u64 *values,
		   unsigned int nr_values)
{
	struct dump *d = ctx;
	struct row *r;

	if (d->fail_at >= 0 && d->nr == (unsigned int)d->fail_at)
		return -EMSGSIZE;
	assert_true(d->nr < d->max);
	assert_true(nr_values <= PM_AGG_HIST_SLOTS);
	assert_true(strlen(key) < PM_AGG_KEY_MAX);
	r = &d->rows[d->nr++];
	snprintf(r->key, sizeof(r->key), "%s", key);
	memcpy(r->v, values, nr_values * sizeof(u64));
	r->n = nr_values;
	return 0;
}

static void dump_table(const char *name, struct dump *d, unsigned int max)
{
	struct pm_agg_table *t = find_table(name);

	assert_non_null(t);
	d->rows = calloc(max, sizeof(*d->rows));
	assert_non_null(d->rows);
	d->nr = 0;
	d->max = max;
	d->fail_at = -1;
	assert_int_equal(t->rows(collect, d), 0);
}

static const struct row *find_row(const struct dump *d, const char *key)
{
	const struct row *found = NULL;
	unsigned int i;

	for (i = 0; i < d->nr; i++) {
		if (strcmp(d->rows[i].key, key))
			continue;
		/* A key appears once: duplicates are merged. */
		assert_null(found);
		found = &d->rows[i];
	}
	return found;
}

static void free_dump(struct dump *d)
{
	free(d->rows);
	d->rows = NULL;
}

/* Internals, to check the banks and to force states. */

static unsigned long *slot_state(struct pm_aggmap *m, unsigned int bank,
				 unsigned int i)
{
	return (unsigned long *)((char *)m->banks[bank].slots +
				 i * m->slot_size);
}

static unsigned int ready_slots(struct pm_aggmap *m, unsigned int bank)
{
	unsigned int i, n = 0;

	for (i = 0; i <= m->mask; i++)
		if ((*slot_state(m, bank, i) & 3) == 2)
			n++;
	return n;
}

static bool bank_is_zero(struct pm_aggmap *m, unsigned int bank)
{
	const unsigned char *p = m->banks[bank].slots;
	size_t i, size = (size_t)(m->mask + 1) * m->slot_size;

	for (i = 0; i < size; i++)
		if (p[i])
			return false;
	for (i = 0; i < m->nr_values; i++)
		if (atomic64_read(&m->banks[bank].overflow[i]))
			return false;
	return true;
}

/* The index of the slot that holds @v (not the overflow row). */
static unsigned int slot_of(struct pm_aggmap *m, atomic64_t *v)
{
	unsigned int bank = m->active;
	size_t off = (char *)v - (char *)m->banks[bank].slots;

	assert_true((char *)v >= (char *)m->banks[bank].slots);
	assert_true(off < (size_t)(m->mask + 1) * m->slot_size);
	return off / m->slot_size;
}

/* Maps under test */

static const struct pm_aggmap_info procs_info = {
	.name = "t_procs",
	.columns = "reads,writes,read_bytes,write_bytes",
	.capacity = 64,
	.key_size = sizeof(struct tkey),
	.format_key = tkey_format,
};
DEFINE_PM_AGGMAP(procs);

static int setup_procs(void **state)
{
	(void)state;
	return pm_aggmap_init(&procs, &procs_info);
}

static int teardown_procs(void **state)
{
	(void)state;
	pm_aggmap_destroy(&procs);
	return find_table("t_procs") ? -1 : 0;
}

static void test_insert_lookup(void **state)
{
	struct tkey a = mkkey(12, "dd"), b = mkkey(13, "dd");
	struct tkey c = mkkey(12, "cat");
	atomic64_t *va, *vb, *vc;
	const struct row *r;
	struct dump d;

	(void)state;
	assert_string_equal(find_table("t_procs")->columns, procs_info.columns);
	assert_int_equal(procs.nr_values, 4);
	va = pm_aggmap_values(&procs, &a);
	vb = pm_aggmap_values(&procs, &b);
	vc = pm_aggmap_values(&procs, &c);
	assert_ptr_not_equal(va, vb);
	assert_ptr_not_equal(va, vc);
	assert_ptr_not_equal(vb, vc);
	/* A second lookup finds the same row, from a copy of the key. */
	assert_ptr_equal(pm_aggmap_values(&procs, &(struct tkey){ a.tgid,
				"dd", 0 }), va);
	assert_ptr_equal(pm_aggmap_values(&procs, &b), vb);
	pm_aggmap_add(va, 0, 3);
	pm_aggmap_add(va, 2, 4096);
	pm_aggmap_add(vb, 1, 1);
	pm_aggmap_add(vb, 3, 10);
	pm_aggmap_update(&procs, &a, 0, 1);
	assert_int_equal(ready_slots(&procs, procs.active), 3);

	dump_table("t_procs", &d, 64);
	assert_int_equal(d.nr, 3);
	r = find_row(&d, "pid=12 comm=dd");
	assert_non_null(r);
	assert_int_equal(r->n, 4);
	assert_int_equal(r->v[0], 4);
	assert_int_equal(r->v[1], 0);
	assert_int_equal(r->v[2], 4096);
	assert_int_equal(r->v[3], 0);
	r = find_row(&d, "pid=13 comm=dd");
	assert_non_null(r);
	assert_int_equal(r->v[1], 1);
	assert_int_equal(r->v[3], 10);
	r = find_row(&d, "pid=12 comm=cat");
	assert_non_null(r);
	assert_int_equal(r->v[0] | r->v[1] | r->v[2] | r->v[3], 0);
	assert_null(find_row(&d, PM_AGGMAP_OVERFLOW_KEY));
	free_dump(&d);
}

/* Each reset moves the generation: rows cached under another are stale. */
static void test_generation(void **state)
{
	struct tkey a = mkkey(12, "dd");
	unsigned long g0 = pm_aggmap_generation(&procs);
	unsigned long waited = kshim_rcu_grace_periods;

	(void)state;
	pm_aggmap_values(&procs, &a);
	assert_int_equal(pm_aggmap_generation(&procs), g0);
	pm_aggmap_reset(&procs);
	assert_int_equal(pm_aggmap_generation(&procs), g0 + 1);
	assert_true(kshim_rcu_grace_periods > waited);
	pm_aggmap_reset(&procs);
	/* Two resets bring the first bank back: the generation tells. */
	assert_int_equal(pm_aggmap_generation(&procs), g0 + 2);
}

/* emit's error stops the dump and is passed on; nothing leaks. */
static void test_emit_error(void **state)
{
	struct pm_agg_table *t = find_table("t_procs");
	struct dump d = { .fail_at = 1 };
	unsigned int i;
	struct tkey k;

	(void)state;
	for (i = 0; i < 5; i++) {
		k = mkkey(i, "x");
		pm_aggmap_add(pm_aggmap_values(&procs, &k), 0, 1);
	}
	d.rows = calloc(8, sizeof(*d.rows));
	d.max = 8;
	assert_int_equal(t->rows(collect, &d), -EMSGSIZE);
	assert_int_equal(d.nr, 1);
	free_dump(&d);
	/* An allocation failure of the dump is an error, not an empty table. */
	kshim_alloc_countdown = 0;
	d = (struct dump){ .fail_at = -1, .max = 8 };
	d.rows = calloc(8, sizeof(*d.rows));
	assert_int_equal(t->rows(collect, &d), -ENOMEM);
	assert_int_equal(d.nr, 0);
	free_dump(&d);
}

/* Every key has a slot until the map is full; then the overflow row. */
static void test_full_overflow(void **state)
{
	unsigned int i, n = 64 + 36, rows_total = 0;
	atomic64_t *v, *first[64];
	const struct row *r;
	struct dump d;
	struct tkey k;
	u64 sum = 0;

	(void)state;
	for (i = 0; i < n; i++) {
		k = mkkey(1000 + i, "many");
		v = pm_aggmap_values(&procs, &k);
		if (i < 64)
			first[i] = v;
		pm_aggmap_add(v, 0, 1);
		pm_aggmap_add(v, 2, i);
	}
	/* capacity == max_probe: the first 64 keys all found a slot. */
	for (i = 0; i < 64; i++)
		assert_ptr_not_equal(first[i], procs.banks[procs.active].overflow);
	assert_int_equal(ready_slots(&procs, procs.active), 64);
	/* The overflow row is a constant fallback; old keys are still found. */
	k = mkkey(1000 + n, "many");
	assert_ptr_equal(pm_aggmap_values(&procs, &k),
			 procs.banks[procs.active].overflow);
	k = mkkey(1000, "many");
	assert_ptr_equal(pm_aggmap_values(&procs, &k), first[0]);

	dump_table("t_procs", &d, 128);
	assert_int_equal(d.nr, 65);
	/* Drops come first, so that a truncated top-N still shows them. */
	assert_string_equal(d.rows[0].key, PM_AGGMAP_OVERFLOW_KEY);
	r = &d.rows[0];
	assert_int_equal(r->v[0], 36);
	for (i = 64; i < n; i++)
		sum += i;
	assert_int_equal(r->v[2], sum);
	/* Column totals are exact over all rows, the overflow row included. */
	sum = 0;
	for (i = 0; i < d.nr; i++) {
		rows_total += d.rows[i].v[0];
		sum += d.rows[i].v[2];
	}
	assert_int_equal(rows_total, n);
	assert_int_equal(sum, (u64)n * (n - 1) / 2);
	free_dump(&d);

	/* Reset: empty, overflow row gone, the other bank took over. */
	i = procs.active;
	procs.table.reset();
	assert_int_not_equal(procs.active, i);
	assert_true(bank_is_zero(&procs, i));
	dump_table("t_procs", &d, 128);
	assert_int_equal(d.nr, 0);
	free_dump(&d);
	k = mkkey(1, "again");
	pm_aggmap_add(pm_aggmap_values(&procs, &k), 1, 5);
	dump_table("t_procs", &d, 128);
	assert_int_equal(d.nr, 1);
	assert_string_equal(d.rows[0].key, "pid=1 comm=again");
	assert_int_equal(d.rows[0].v[1], 5);
	free_dump(&d);
}

/*
 * A writer that finds its key's slot BUSY (claimed by the context it
 * interrupted) takes the next one; the dump must add the two up. Forced
 * here by setting the state, at a home slot inside the table and at the
 * last slot (the window wraps).
 */
static void check_duplicate(struct tkey *k, unsigned int home)
{
	unsigned long *st = slot_state(&procs, procs.active, home), saved;
	unsigned int next = (home + 1) & procs.mask;
	atomic64_t *v1, *v2;
	struct dump d;
	char key[64];
	const struct row *r;

	v1 = pm_aggmap_values(&procs, k);
	assert_int_equal(slot_of(&procs, v1), home);
	pm_aggmap_add(v1, 0, 7);
	pm_aggmap_add(v1, 3, 100);
	saved = *st;
	*st = 1;	/* BUSY */
	v2 = pm_aggmap_values(&procs, k);
	assert_int_equal(slot_of(&procs, v2), next);
	pm_aggmap_add(v2, 0, 5);
	pm_aggmap_add(v2, 3, 1);
	*st = saved;
	/* From now on the first copy collects again. */
	assert_ptr_equal(pm_aggmap_values(&procs, k), v1);
	pm_aggmap_add(v1, 0, 1);
	assert_int_equal(ready_slots(&procs, procs.active), 2);

	dump_table("t_procs", &d, 8);
	assert_int_equal(d.nr, 1);
	tkey_format(key, sizeof(key), k);
	r = find_row(&d, key);
	assert_non_null(r);
	assert_int_equal(r->v[0], 13);
	assert_int_equal(r->v[3], 101);
	free_dump(&d);
}

static void test_duplicate_merge(void **state)
{
	bool inside = false, wraps = false;
	unsigned int i, slot;
	struct tkey k;

	(void)state;
	for (i = 0; i < 100000 && !(inside && wraps); i++) {
		procs.table.reset();
		k = mkkey(i, "dup");
		slot = slot_of(&procs, pm_aggmap_values(&procs, &k));
		if (slot == procs.mask && !wraps) {
			wraps = true;
		} else if (slot < procs.mask && !inside) {
			inside = true;
		} else {
			continue;
		}
		procs.table.reset();
		check_duplicate(&k, slot);
	}
	assert_true(inside);
	assert_true(wraps);
}

/* Two different keys with a full probe window in between are not merged. */
static void test_busy_slots_skipped(void **state)
{
	struct tkey k = mkkey(77, "busy");
	unsigned int home, i;
	atomic64_t *v;
	struct dump d;

	(void)state;
	home = slot_of(&procs, pm_aggmap_values(&procs, &k));
	procs.table.reset();
	/* Every slot BUSY: a writer must not wait, it gets the overflow row. */
	for (i = 0; i <= procs.mask; i++)
		*slot_state(&procs, procs.active, i) = 1;
	v = pm_aggmap_values(&procs, &k);
	assert_ptr_equal(v, procs.banks[procs.active].overflow);
	pm_aggmap_add(v, 1, 2);
	/* Only the home slot frees up: the key lands there. */
	*slot_state(&procs, procs.active, home) = 0;
	v = pm_aggmap_values(&procs, &k);
	assert_int_equal(slot_of(&procs, v), home);
	pm_aggmap_add(v, 1, 3);
	dump_table("t_procs", &d, 8);
	assert_int_equal(d.nr, 2);
	assert_string_equal(d.rows[0].key, PM_AGGMAP_OVERFLOW_KEY);
	assert_int_equal(d.rows[0].v[1], 2);
	assert_string_equal(d.rows[1].key, "pid=77 comm=busy");
	assert_int_equal(d.rows[1].v[1], 3);
	free_dump(&d);
	for (i = 0; i <= procs.mask; i++)
		if (*slot_state(&procs, procs.active, i) == 1)
			*slot_state(&procs, procs.active, i) = 0;
	procs.table.reset();
}

/* Sorted dump, histograms, and what init refuses. */

static const struct pm_aggmap_info sorted_info = {
	.name = "t_sorted", .columns = "reads,writes,rb,wb",
	.capacity = 256, .key_size = sizeof(struct tkey),
	.format_key = tkey_format, .sort_columns = BIT(2) | BIT(3),
};
DEFINE_PM_AGGMAP(sorted);

static void test_sorted(void **state)
{
	unsigned int i, n = 200;
	struct dump d;
	struct tkey k;
	atomic64_t *v;
	u64 prev = UINT64_MAX, w;

	(void)state;
	assert_int_equal(pm_aggmap_init(&sorted, &sorted_info), 0);
	for (i = 0; i < n; i++) {
		k = mkkey(i, "s");
		v = pm_aggmap_values(&sorted, &k);
		/* Weights 0..(n - 1) * 37 mod 1009, written in pieces. */
		pm_aggmap_add(v, 0, 1000000);	/* not a sort column */
		pm_aggmap_add(v, 2, (i * 37) % 1009);
		pm_aggmap_add(v, 3, i);
	}
	dump_table("t_sorted", &d, 256);
	assert_int_equal(d.nr, n);
	for (i = 0; i < d.nr; i++) {
		w = d.rows[i].v[2] + d.rows[i].v[3];
		assert_true(w <= prev);
		prev = w;
	}
	free_dump(&d);
	pm_aggmap_destroy(&sorted);
}

static int op_format(char *buf, size_t size, const void *key)
{
	return snprintf(buf, size, "op=%llu",
			(unsigned long long)*(const u64 *)key);
}

static const struct pm_aggmap_info hist_info = {
	.name = "t_hist", .columns = "log2:ns", .capacity = 16,
	.key_size = 8, .format_key = NULL, .sort_columns = 1,
};
DEFINE_PM_AGGMAP(hist);

static void test_hist(void **state)
{
	struct pm_aggmap_info good = hist_info;
	u64 key = 3, other = 4;
	const struct row *r;
	struct dump d;
	atomic64_t *v;

	(void)state;
	assert_int_equal(pm_aggmap_init(&hist, &hist_info), -EINVAL);
	good.format_key = op_format;
	assert_int_equal(pm_aggmap_init(&hist, &good), 0);
	assert_true(hist.hist);
	assert_int_equal(hist.nr_values, PM_AGG_HIST_SLOTS);
	v = pm_aggmap_values(&hist, &key);
	pm_aggmap_hist_add(v, 0);
	pm_aggmap_hist_add(v, 1);
	pm_aggmap_hist_add(v, 1000);
	pm_aggmap_hist_add(v, 1023);
	pm_aggmap_hist_add(v, UINT64_MAX);
	pm_aggmap_hist_add(v, 2);
	pm_aggmap_update_hist(&hist, &other, 4096);
	dump_table("t_hist", &d, 4);
	assert_int_equal(d.nr, 2);
	/* Sorted by total count: op=3 (6) before op=4 (1). */
	assert_string_equal(d.rows[0].key, "op=3");
	r = find_row(&d, "op=3");
	assert_non_null(r);
	assert_int_equal(r->n, PM_AGG_HIST_SLOTS);
	assert_int_equal(r->v[0], 2);
	assert_int_equal(r->v[9], 2);
	assert_int_equal(r->v[63], 1);
	assert_int_equal(r->v[1], 1);
	r = find_row(&d, "op=4");
	assert_non_null(r);
	assert_int_equal(r->v[12], 1);
	free_dump(&d);
	pm_aggmap_destroy(&hist);
}

static const struct pm_aggmap_info bad_base = {
	.name = "t_bad", .columns = "a,b", .capacity = 8,
	.key_size = 16, .format_key = tkey_format,
};
DEFINE_PM_AGGMAP(bad);

static void test_init_invalid(void **state)
{
	const struct pm_aggmap_info base = bad_base;
	struct pm_aggmap_info info;
	static const char * const bad_columns[] = {
		"", ",a", "a,", "a,,b", "log2:",
		"c0,c1,c2,c3,c4,c5,c6,c7,c8,c9,c10,c11,c12,c13,c14,c15,c16",
	};
	unsigned int i;

	(void)state;
	info = base;
	info.capacity = 12;
	assert_int_equal(pm_aggmap_init(&bad, &info), -EINVAL);
	info.capacity = 0;
	assert_int_equal(pm_aggmap_init(&bad, &info), -EINVAL);
	info.capacity = 1U << 21;
	assert_int_equal(pm_aggmap_init(&bad, &info), -EINVAL);
	info = base;
	info.key_size = 20;
	assert_int_equal(pm_aggmap_init(&bad, &info), -EINVAL);
	info.key_size = 56;
	assert_int_equal(pm_aggmap_init(&bad, &info), -EINVAL);
	info.key_size = 0;
	assert_int_equal(pm_aggmap_init(&bad, &info), -EINVAL);
	info = base;
	info.sort_columns = BIT(2);
	assert_int_equal(pm_aggmap_init(&bad, &info), -EINVAL);
	for (i = 0; i < ARRAY_SIZE(bad_columns); i++) {
		info = base;
		info.columns = bad_columns[i];
		assert_int_equal(pm_aggmap_init(&bad, &info), -EINVAL);
	}
	info = base;
	info.name = "t_procs";	/* taken */
	assert_int_equal(pm_aggmap_init(&bad, &info), -EEXIST);
	/* Each of the four allocations failing (ASan checks for leaks). */
	for (i = 0; i < 4; i++) {
		kshim_alloc_countdown = (int)i;
		assert_int_equal(pm_aggmap_init(&bad, &base), -ENOMEM);
		assert_int_equal(kshim_alloc_countdown, -1);
		assert_null(find_table("t_bad"));
	}
	/* 16 columns and the largest key are fine. */
	info = base;
	info.columns = "c0,c1,c2,c3,c4,c5,c6,c7,c8,c9,c10,c11,c12,c13,c14,c15";
	info.key_size = PM_AGGMAP_KEY_MAX;
	info.sort_columns = BIT(15);
	assert_int_equal(pm_aggmap_init(&bad, &info), 0);
	assert_int_equal(bad.nr_values, 16);
	pm_aggmap_destroy(&bad);
}

/* Concurrency */

#define MT_KEYS 48

struct mt_ctx {
	struct pm_aggmap *map;
	unsigned int id;
	u64 per_key[MT_KEYS];
	bool *stop;
	/* Yield between the two updates: a long (preempted) RCU section. */
	bool slow;
	u64 done;
};

static u64 xorshift(u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Every thread updates shared keys: (1, 2) per update, exact in the end. */
static void *mt_writer(void *arg)
{
	struct mt_ctx *c = arg;
	u64 rnd = 0x9e3779b97f4a7c15ULL * (c->id + 1);
	unsigned int i, key;
	struct tkey k;
	atomic64_t *v;

	for (i = 0; c->stop ? !__atomic_load_n(c->stop, __ATOMIC_RELAXED) :
			      i < MT_UPDATES; i++) {
		key = xorshift(&rnd) % MT_KEYS;
		k = mkkey(key, "mt");
		rcu_read_lock();
		v = pm_aggmap_values(c->map, &k);
		pm_aggmap_add(v, 0, 1);
		if (c->slow && !(i & 1))
			sched_yield();
		pm_aggmap_add(v, 1, 2);
		rcu_read_unlock();
		c->per_key[key]++;
		__atomic_store_n(&c->done, c->done + 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void test_mt_exact(void **state)
{
	struct mt_ctx ctx[MT_THREADS];
	pthread_t th[MT_THREADS];
	unsigned int i, t;
	char key[64];
	const struct row *r;
	struct dump d;
	u64 want;

	(void)state;
	procs.table.reset();
	for (t = 0; t < MT_THREADS; t++) {
		ctx[t] = (struct mt_ctx){ .map = &procs, .id = t };
		assert_int_equal(pthread_create(&th[t], NULL, mt_writer,
						&ctx[t]), 0);
	}
	/* Dumps while the writers run: never more rows than keys. */
	for (i = 0; i < 20; i++) {
		dump_table("t_procs", &d, 128);
		assert_true(d.nr <= MT_KEYS);
		assert_null(find_row(&d, PM_AGGMAP_OVERFLOW_KEY));
		free_dump(&d);
	}
	for (t = 0; t < MT_THREADS; t++)
		assert_int_equal(pthread_join(th[t], NULL), 0);
	dump_table("t_procs", &d, 128);
	assert_int_equal(d.nr, MT_KEYS);
	for (i = 0; i < MT_KEYS; i++) {
		want = 0;
		for (t = 0; t < MT_THREADS; t++)
			want += ctx[t].per_key[i];
		snprintf(key, sizeof(key), "pid=%u comm=mt", i);
		r = find_row(&d, key);
		assert_non_null(r);
		assert_int_equal(r->v[0], want);
		assert_int_equal(r->v[1], 2 * want);
	}
	print_message("# %u slots for %u keys (duplicates from races)\n",
		      ready_slots(&procs, procs.active), MT_KEYS);
	free_dump(&d);
}

/*
 * Resets racing with writers. A writer makes two updates per lookup; if a
 * reset cleared a bank while a writer was still in it, a row of a later
 * generation would start with a leftover and lose col1 == 2 * col0, or
 * the idle bank would not be all zeroes.
 */
static void test_mt_reset(void **state)
{
	struct mt_ctx ctx[MT_THREADS];
	pthread_t th[MT_THREADS];
	bool stop = false;
	unsigned long gp;
	unsigned int i, t;
	struct dump d;

	(void)state;
	for (t = 0; t < MT_THREADS; t++) {
		ctx[t] = (struct mt_ctx){ .map = &procs, .id = t,
					  .stop = &stop, .slow = true };
		assert_int_equal(pthread_create(&th[t], NULL, mt_writer,
						&ctx[t]), 0);
	}
	/* Every writer is running before the resets start. */
	for (t = 0; t < MT_THREADS; t++)
		while (__atomic_load_n(&ctx[t].done, __ATOMIC_RELAXED) < 1000)
			sched_yield();
	for (i = 0; i < 300; i++) {
		gp = __atomic_load_n(&kshim_rcu_grace_periods,
				     __ATOMIC_RELAXED);
		procs.table.reset();
		assert_true(__atomic_load_n(&kshim_rcu_grace_periods,
					    __ATOMIC_RELAXED) > gp);
		/* No writer is left in the bank just cleared, nor comes back. */
		usleep(50);
		assert_true(bank_is_zero(&procs, !procs.active));
		if (i % 10 == 0) {
			dump_table("t_procs", &d, 128);
			assert_true(d.nr <= MT_KEYS);
			free_dump(&d);
		}
	}
	__atomic_store_n(&stop, true, __ATOMIC_RELAXED);
	for (t = 0; t < MT_THREADS; t++)
		assert_int_equal(pthread_join(th[t], NULL), 0);
	assert_true(bank_is_zero(&procs, !procs.active));
	dump_table("t_procs", &d, 128);
	for (i = 0; i < d.nr; i++)
		assert_int_equal(d.rows[i].v[1], 2 * d.rows[i].v[0]);
	free_dump(&d);
	procs.table.reset();
	assert_true(bank_is_zero(&procs, 0));
	assert_true(bank_is_zero(&procs, 1));
}

#ifndef __SANITIZE_THREAD__
/*
 * Writers nested by signal handlers (interrupts): the handler updates the
 * same keys as the code it interrupted, sometimes in the middle of an
 * insert. Nobody may wait, and the sums stay exact. Not with TSan, which
 * defers signals past pthread_sigmask().
 */
#define SIG_KEYS 2048
static const struct pm_aggmap_info sig_info = {
	.name = "t_sig", .columns = "n", .capacity = 4096,
	.key_size = sizeof(struct tkey), .format_key = tkey_format,
};
DEFINE_PM_AGGMAP(sigmap);
static u64 sig_expect[SIG_KEYS];
static volatile sig_atomic_t sig_key;

static void sig_handler(int sig)
{
	struct tkey k = mkkey(sig_key, "sig");

	(void)sig;
	pm_aggmap_add(pm_aggmap_values(&sigmap, &k), 0, 1);
	sig_expect[sig_key]++;
}

struct sig_kicker {
	pthread_t target;
	bool stop;
};

static void *sig_kick(void *arg)
{
	struct sig_kicker *kk = arg;

	while (!__atomic_load_n(&kk->stop, __ATOMIC_RELAXED)) {
		pthread_kill(kk->target, SIGUSR1);
		sched_yield();
	}
	return NULL;
}

static void test_signal_nesting(void **state)
{
	struct sigaction sa = { .sa_handler = sig_handler };
	struct sig_kicker kk = { .target = pthread_self() };
	unsigned int round, i, dups = 0;
	char key[64];
	const struct row *r;
	pthread_t kicker;
	struct dump d;
	struct tkey k;
	sigset_t set;

	(void)state;
	assert_int_equal(pm_aggmap_init(&sigmap, &sig_info), 0);
	sigemptyset(&sa.sa_mask);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
	memset(sig_expect, 0, sizeof(sig_expect));
	assert_int_equal(pthread_create(&kicker, NULL, sig_kick, &kk), 0);
	for (round = 0; round < 20; round++) {
		for (i = 0; i < SIG_KEYS; i++) {
			/* The handler inserts the key we are inserting. */
			sig_key = i;
			k = mkkey(i, "sig");
			pm_aggmap_add(pm_aggmap_values(&sigmap, &k), 0, 1);
			pthread_sigmask(SIG_BLOCK, &set, NULL);
			sig_expect[i]++;
			pthread_sigmask(SIG_UNBLOCK, &set, NULL);
		}
		pthread_sigmask(SIG_BLOCK, &set, NULL);
		dups += ready_slots(&sigmap, sigmap.active) - SIG_KEYS;
		dump_table("t_sig", &d, SIG_KEYS + 1);
		assert_int_equal(d.nr, SIG_KEYS);
		for (i = 0; i < SIG_KEYS; i++) {
			snprintf(key, sizeof(key), "pid=%u comm=sig", i);
			r = find_row(&d, key);
			assert_non_null(r);
			assert_int_equal(r->v[0], sig_expect[i]);
		}
		free_dump(&d);
		/* Both, before a pending signal counts into the new bank. */
		sigmap.table.reset();
		memset(sig_expect, 0, sizeof(sig_expect));
		pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	}
	__atomic_store_n(&kk.stop, true, __ATOMIC_RELAXED);
	assert_int_equal(pthread_join(kicker, NULL), 0);
	/* Ignoring discards a signal still pending. */
	signal(SIGUSR1, SIG_IGN);
	print_message("# %u duplicate slots merged over 20 rounds\n", dups);
	pm_aggmap_destroy(&sigmap);
}

#ifdef __x86_64__
/*
 * The same nesting, exhaustively: the outer insert of a new key runs with
 * the x86 trap flag set, and at its n-th instruction (one run per n) the
 * SIGTRAP handler, playing an NMI, inserts and updates the same key. The
 * handler must never wait (a BUSY slot is the outer's), the two updates
 * must end up in one row, and some n must hit the window where the slot
 * is claimed but not published (a real duplicate, merged by the dump).
 */
#define EFLAGS_TF	0x100

static const struct pm_aggmap_info step_info = {
	.name = "t_step", .columns = "n", .capacity = 64,
	.key_size = sizeof(struct tkey), .format_key = tkey_format,
};
DEFINE_PM_AGGMAP(stepmap);
extern const char __executable_start[], etext[];
static long step_target, step_count;
static uintptr_t step_last_pc;
static bool step_nested;

static inline void step_on(void)
{
	__asm__ __volatile__("pushfq; orq %0, (%%rsp); popfq"
			     : : "i" (EFLAGS_TF) : "memory", "cc");
}

static inline void step_off(void)
{
	__asm__ __volatile__("pushfq; andq %0, (%%rsp); popfq"
			     : : "i" (~EFLAGS_TF) : "memory", "cc");
}

static void on_trap(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	struct tkey k = mkkey(1, "step");
	uintptr_t pc;

	(void)sig;
	(void)si;
	/* Our own code only (not libc's or the sanitizer's memcpy). */
	pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	if (pc < (uintptr_t)__executable_start || pc >= (uintptr_t)etext ||
	    pc == step_last_pc)
		return;
	step_last_pc = pc;
	if (++step_count != step_target)
		return;
	uc->uc_mcontext.gregs[REG_EFL] &= ~EFLAGS_TF;
	pm_aggmap_add(pm_aggmap_values(&stepmap, &k), 0, 10);
	step_nested = true;
}

static void test_step_nesting(void **state)
{
	struct sigaction sa = { .sa_sigaction = on_trap,
				.sa_flags = SA_SIGINFO };
	struct tkey k = mkkey(1, "step");
	unsigned int dups = 0;
	struct dump d;
	atomic64_t *v;

	(void)state;
	assert_int_equal(pm_aggmap_init(&stepmap, &step_info), 0);
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGTRAP, &sa, NULL), 0);
	for (step_target = 1;; step_target++) {
		step_count = 0;
		step_last_pc = 0;
		step_nested = false;
		stepmap.table.reset();
		step_on();
		v = pm_aggmap_values(&stepmap, &k);
		pm_aggmap_add(v, 0, 1);
		step_off();
		if (!step_nested)
			break;	/* the outer finished first: all n covered */
		dups += ready_slots(&stepmap, stepmap.active) - 1;
		dump_table("t_step", &d, 4);
		assert_int_equal(d.nr, 1);
		assert_string_equal(d.rows[0].key, "pid=1 comm=step");
		assert_int_equal(d.rows[0].v[0], 11);
		free_dump(&d);
	}
	signal(SIGTRAP, SIG_DFL);
	print_message("# %ld interrupt points, %u of them made a duplicate\n",
		      step_target - 1, dups);
	assert_true(step_target > 10);
	assert_true(dups > 0);
	pm_aggmap_destroy(&stepmap);
}
#endif /* __x86_64__ */
#endif /* !__SANITIZE_THREAD__ */

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_insert_lookup,
						setup_procs, teardown_procs),
		cmocka_unit_test_setup_teardown(test_generation,
						setup_procs, teardown_procs),
		cmocka_unit_test_setup_teardown(test_emit_error,
						setup_procs, teardown_procs),
		cmocka_unit_test_setup_teardown(test_full_overflow,
						setup_procs, teardown_procs),
		cmocka_unit_test_setup_teardown(test_duplicate_merge,
						setup_procs, teardown_procs),
		cmocka_unit_test_setup_teardown(test_busy_slots_skipped,
						setup_procs, teardown_procs),
		cmocka_unit_test(test_sorted),
		cmocka_unit_test(test_hist),
		cmocka_unit_test_setup_teardown(test_init_invalid,
						setup_procs, teardown_procs),
		cmocka_unit_test_setup_teardown(test_mt_exact,
						setup_procs, teardown_procs),
		cmocka_unit_test_setup_teardown(test_mt_reset,
						setup_procs, teardown_procs),
		/* TSan defers signals past pthread_sigmask(): not there. */
#ifndef __SANITIZE_THREAD__
		cmocka_unit_test(test_signal_nesting),
#ifdef __x86_64__
		cmocka_unit_test(test_step_nesting),
#endif
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
