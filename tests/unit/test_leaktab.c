// SPDX-License-Identifier: GPL-2.0
/*
 * module/core/leaktab.c built unchanged in userspace through
 * tests/unit/kshim: insert, remove and replace with exact counts, a full
 * probe window, stack deduplication per process, the report's sums and
 * order, forgetting blocks, randomized runs against a naive model (one
 * in a crowded table, where windows overlap and fill), and
 * threads inserting and removing at once (also under ThreadSanitizer)
 * whose leftovers the report must give exactly.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "leaktab.h"

#define MAX_ROWS	4096

struct report {
	size_t n;
	struct pm_leak_row rows[MAX_ROWS];
	u64 frames[MAX_ROWS][PM_LEAKTAB_FRAMES];
};

static int collect(void *arg, const struct pm_leak_row *row)
{
	struct report *r = arg;

	assert_true(r->n < MAX_ROWS);
	r->rows[r->n] = *row;
	if (row->nr_frames)
		memcpy(r->frames[r->n], row->frames,
		       row->nr_frames * sizeof(u64));
	r->rows[r->n].frames = r->frames[r->n];
	r->n++;
	return 0;
}

static struct report *report(struct pm_leaktab *lt)
{
	struct report *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	assert_int_equal(pm_leaktab_report(lt, collect, r), 0);
	return r;
}

static const struct pm_leak_row *row_of(const struct report *r, u32 stack)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->rows[i].stack == stack)
			return &r->rows[i];
	return NULL;
}

static void insert_remove(void **state)
{
	u64 f1[3] = { 0x401000, 0x402000, 0x403000 }, f2[2] = { 0x501000, 1 };
	struct pm_leaktab lt;
	const struct pm_leak_row *row;
	struct report *r;
	bool added = false;
	u32 s1, s2, s3;

	(void)state;
	assert_int_equal(pm_leaktab_init(&lt, 1024, 64), 0);
	s1 = pm_leaktab_stack_add(&lt, 10, f1, 3, 0, &added);
	assert_true(added);
	s2 = pm_leaktab_stack(&lt, 10, f2, 2, 0);
	assert_true(s1 && s2 && s1 != s2);
	/* Same frames: the same id, not added again; another process: another id. */
	assert_int_equal(pm_leaktab_stack_add(&lt, 10, f1, 3, 0, &added), s1);
	assert_false(added);
	s3 = pm_leaktab_stack_add(&lt, 11, f1, 3, 0, &added);
	assert_true(s3 && s3 != s1 && added);
	/* A prefix is another stack. */
	assert_int_not_equal(pm_leaktab_stack(&lt, 10, f1, 2, 0), s1);

	assert_true(pm_leaktab_insert(&lt, 10, 0x1000, 100, s1, 50));
	assert_true(pm_leaktab_insert(&lt, 10, 0x2000, 200, s1, 40));
	assert_true(pm_leaktab_insert(&lt, 10, 0x3000, 1000, s2, 60));
	/* Same address, another process: another block. */
	assert_true(pm_leaktab_insert(&lt, 11, 0x1000, 7, s3, 70));
	assert_false(pm_leaktab_remove(&lt, 10, 0x4000));
	assert_false(pm_leaktab_remove(&lt, 12, 0x1000));

	r = report(&lt);
	assert_int_equal(r->n, 3);
	/* Largest first. */
	assert_int_equal(r->rows[0].stack, s2);
	assert_int_equal(r->rows[0].bytes, 1000);
	assert_int_equal(r->rows[1].stack, s1);
	assert_int_equal(r->rows[1].bytes, 300);
	assert_int_equal(r->rows[1].allocations, 2);
	assert_int_equal(r->rows[1].oldest_ns, 40);
	assert_int_equal(r->rows[1].tgid, 10);
	assert_int_equal(r->rows[1].nr_frames, 3);
	assert_memory_equal(r->rows[1].frames, f1, sizeof(f1));
	assert_int_equal(r->rows[2].stack, s3);
	assert_int_equal(r->rows[2].tgid, 11);
	free(r);

	assert_true(pm_leaktab_remove(&lt, 10, 0x1000));
	assert_false(pm_leaktab_remove(&lt, 10, 0x1000));
	/* An allocation over a live block: its free was lost. */
	assert_true(pm_leaktab_insert(&lt, 10, 0x2000, 20, s2, 80));
	assert_int_equal(atomic64_read(&lt.replaced), 1);
	r = report(&lt);
	assert_int_equal(r->n, 2);
	assert_null(row_of(r, s1));
	row = row_of(r, s2);
	assert_non_null(row);
	assert_int_equal(row->bytes, 1020);
	assert_int_equal(row->allocations, 2);
	free(r);

	/* Blocks without a stack gather in stack 0. */
	assert_true(pm_leaktab_insert(&lt, 12, 0x9000, 5, 0, 90));
	r = report(&lt);
	row = row_of(r, 0);
	assert_non_null(row);
	assert_int_equal(row->bytes, 5);
	assert_int_equal(row->nr_frames, 0);
	free(r);

	pm_leaktab_forget_blocks(&lt);
	r = report(&lt);
	assert_int_equal(r->n, 0);
	free(r);
	/* Stacks survive forget_blocks(), not clear(). */
	assert_int_equal(pm_leaktab_stack(&lt, 10, f1, 3, 0), s1);
	pm_leaktab_clear(&lt);
	assert_int_equal(atomic64_read(&lt.replaced), 0);
	pm_leaktab_destroy(&lt);
}

/* A process that exited at time 100: tgid 20's blocks from before then. */
static bool orphaned_before_100(void *arg, u32 tgid, u64 time_ns)
{
	unsigned int *calls = arg;

	(*calls)++;
	return tgid == 20 && time_ns < 100;
}

static void forget_if(void **state)
{
	u64 f_old[1] = { 0x400100 }, f_new[1] = { 0x400200 };
	unsigned int calls = 0, i;
	struct pm_leaktab lt;
	u32 s20, s21, s20new;
	struct report *r;

	(void)state;
	assert_int_equal(pm_leaktab_init(&lt, 1 << 8, 1 << 6), 0);
	s20 = pm_leaktab_stack(&lt, 20, f_old, 1, 0);
	s21 = pm_leaktab_stack(&lt, 21, f_old, 1, 0);
	s20new = pm_leaktab_stack(&lt, 20, f_new, 1, 0);
	for (i = 0; i < 10; i++) {
		/* Same addresses in both processes: keys are (tgid, addr). */
		assert_true(pm_leaktab_insert(&lt, 20, 0x1000 + 16 * i, 1,
					      s20, 10 * i));
		assert_true(pm_leaktab_insert(&lt, 21, 0x1000 + 16 * i, 1,
					      s21, 10 * i));
	}
	/* A newer tgid 20 (the pid reused) allocated at 150: kept. */
	assert_true(pm_leaktab_insert(&lt, 20, 0x8000, 7, s20new, 150));
	assert_int_equal(pm_leaktab_forget_if(&lt, orphaned_before_100,
					      &calls), 10);
	/* Asked once per live block. */
	assert_int_equal(calls, 21);
	r = report(&lt);
	assert_int_equal(r->n, 2);
	assert_null(row_of(r, s20));
	assert_int_equal(row_of(r, s21)->bytes, 10);
	assert_int_equal(row_of(r, s20new)->bytes, 7);
	free(r);
	/* The forgotten ones are gone, the rest still removable. */
	assert_false(pm_leaktab_remove(&lt, 20, 0x1000));
	assert_true(pm_leaktab_remove(&lt, 21, 0x1000));
	assert_true(pm_leaktab_remove(&lt, 20, 0x8000));
	/* Their slots take new blocks. */
	for (i = 0; i < PM_LEAKTAB_PROBE; i++)
		assert_true(pm_leaktab_insert(&lt, 20, 0x1000 + 16 * i, 1, 0,
					      200));
	assert_int_equal(atomic64_read(&lt.blocks_full), 0);
	pm_leaktab_destroy(&lt);
}

static bool tgid_30_gone(void *arg, u32 tgid, u64 time_ns)
{
	unsigned int *calls = arg;

	(void)time_ns;
	(*calls)++;
	return tgid == 30;
}

static bool tgid_40_gone(void *arg, u32 tgid, u64 time_ns)
{
	(void)arg;
	(void)time_ns;
	return tgid == 40;
}

static void forget_stacks(void **state)
{
	u64 fa[2] = { 0x401000, 0x402000 }, fb[1] = { 0x403000 };
	u64 fc[1] = { 0x404000 }, frame[1];
	unsigned int calls = 0, i;
	u32 a, b, c, b2, ids[PM_LEAKTAB_PROBE];
	struct pm_leaktab lt;
	struct report *r;
	bool added;

	(void)state;
	assert_int_equal(pm_leaktab_init(&lt, 1 << 8, 1 << 6), 0);
	a = pm_leaktab_stack(&lt, 30, fa, 2, 0);
	b = pm_leaktab_stack(&lt, 30, fb, 1, 0);
	c = pm_leaktab_stack(&lt, 31, fc, 1, 0);
	/* Ids of first lives are small: the slot's index plus one. */
	assert_true(a && a <= 64 && b && b <= 64 && c && c <= 64);
	assert_true(pm_leaktab_insert(&lt, 30, 0x1000, 24, a, 1));
	/* A: a block names it; B: none, tgid 30 gone; C: tgid 31 lives. */
	assert_int_equal(pm_leaktab_forget_stacks(&lt, tgid_30_gone, &calls), 1);
	assert_int_equal(calls, 2);
	assert_int_equal(pm_leaktab_stack(&lt, 30, fa, 2, 0), a);
	assert_int_equal(pm_leaktab_stack(&lt, 31, fc, 1, 0), c);
	/* B again is a new stack, with a new id even in the same slot. */
	b2 = pm_leaktab_stack_add(&lt, 30, fb, 1, 0, &added);
	assert_true(added);
	assert_int_not_equal(b2, 0);
	assert_int_not_equal(b2, b);
	/* A block given B's old id (a writer that raced) has no stack. */
	assert_true(pm_leaktab_insert(&lt, 30, 0x2000, 8, b, 2));
	r = report(&lt);
	assert_int_equal(r->n, 2);
	assert_int_equal(row_of(r, a)->bytes, 24);
	assert_int_equal(row_of(r, a)->nr_frames, 2);
	assert_int_equal(row_of(r, 0)->bytes, 8);
	assert_int_equal(row_of(r, 0)->tgid, 0);
	assert_null(row_of(r, b));
	assert_null(row_of(r, b2));
	free(r);
	pm_leaktab_destroy(&lt);

	/*
	 * A table of one window: every stack shares every slot. Forgetting
	 * leaves holes between the survivors; a survivor is still found
	 * (never added again behind a hole), and the holes take new ones.
	 */
	assert_int_equal(pm_leaktab_init(&lt, PM_LEAKTAB_PROBE,
					 PM_LEAKTAB_PROBE), 0);
	for (i = 0; i < PM_LEAKTAB_PROBE; i++) {
		frame[0] = 0x500000 + i;
		ids[i] = pm_leaktab_stack(&lt, 40 + i % 2, frame, 1, 0);
		assert_int_not_equal(ids[i], 0);
	}
	assert_int_equal(pm_leaktab_forget_stacks(&lt, tgid_40_gone, NULL),
			 PM_LEAKTAB_PROBE / 2);
	for (i = 1; i < PM_LEAKTAB_PROBE; i += 2) {
		frame[0] = 0x500000 + i;
		assert_int_equal(pm_leaktab_stack_add(&lt, 41, frame, 1, 0,
						      &added), ids[i]);
		assert_false(added);
	}
	for (i = 0; i < PM_LEAKTAB_PROBE / 2; i++) {
		frame[0] = 0x600000 + i;
		assert_int_not_equal(pm_leaktab_stack(&lt, 42, frame, 1, 0), 0);
	}
	assert_int_equal(atomic64_read(&lt.stacks_full), 0);
	frame[0] = 0x700000;
	assert_int_equal(pm_leaktab_stack(&lt, 42, frame, 1, 0), 0);
	assert_int_equal(atomic64_read(&lt.stacks_full), 1);
	pm_leaktab_destroy(&lt);
}

/* An exec at @arg: what was made before it goes, whatever the tgid. */
static bool made_before(void *arg, u32 tgid, u64 time_ns)
{
	(void)tgid;
	return time_ns < *(u64 *)arg;
}

/*
 * The time a stack was made reaches the judge: an exec (or a newer
 * process with the same pid) leaves the stacks made before it to go,
 * while the same process's later stacks, and any a block names, stay.
 */
static void forget_stacks_by_time(void **state)
{
	u64 f_old[1] = { 0x401000 }, f_named[1] = { 0x402000 };
	u64 f_new[1] = { 0x403000 }, exec_ns = 250;
	u32 old, named, new_stack, again;
	struct pm_leaktab lt;
	bool added;

	(void)state;
	assert_int_equal(pm_leaktab_init(&lt, 1 << 8, 1 << 6), 0);
	old = pm_leaktab_stack(&lt, 50, f_old, 1, 100);
	named = pm_leaktab_stack(&lt, 50, f_named, 1, 200);
	new_stack = pm_leaktab_stack(&lt, 50, f_new, 1, 300);
	assert_true(old && named && new_stack);
	/* Found again, a stack keeps the time it was made. */
	assert_int_equal(pm_leaktab_stack(&lt, 50, f_old, 1, 400), old);
	assert_true(pm_leaktab_insert(&lt, 50, 0x1000, 8, named, 200));
	assert_int_equal(pm_leaktab_forget_stacks(&lt, made_before, &exec_ns),
			 1);
	assert_int_equal(pm_leaktab_stack_add(&lt, 50, f_named, 1, 500,
					      &added), named);
	assert_false(added);
	assert_int_equal(pm_leaktab_stack_add(&lt, 50, f_new, 1, 500,
					      &added), new_stack);
	assert_false(added);
	again = pm_leaktab_stack_add(&lt, 50, f_old, 1, 500, &added);
	assert_true(added);
	assert_int_not_equal(again, old);
	/* Made after the exec now: it stays. */
	assert_int_equal(pm_leaktab_forget_stacks(&lt, made_before, &exec_ns),
			 0);
	pm_leaktab_destroy(&lt);
}

static void full(void **state)
{
	struct pm_leaktab lt;
	u64 frame[1];
	u32 i, ok = 0;

	(void)state;
	assert_int_equal(pm_leaktab_init(&lt, 100, 64), -EINVAL);
	assert_int_equal(pm_leaktab_init(&lt, 16, 64), -EINVAL);
	/* One probe window's worth of slots: the 33rd block finds none. */
	assert_int_equal(pm_leaktab_init(&lt, PM_LEAKTAB_PROBE,
					 PM_LEAKTAB_PROBE), 0);
	for (i = 0; i < PM_LEAKTAB_PROBE + 5; i++)
		ok += pm_leaktab_insert(&lt, 1, 0x1000 + 16 * i, 1, 0, i);
	assert_int_equal(ok, PM_LEAKTAB_PROBE);
	assert_int_equal(atomic64_read(&lt.blocks_full), 5);
	/* A freed slot is usable again. */
	assert_true(pm_leaktab_remove(&lt, 1, 0x1000));
	assert_true(pm_leaktab_insert(&lt, 1, 0x100000, 1, 0, 0));
	for (i = 0; i < PM_LEAKTAB_PROBE + 3; i++) {
		frame[0] = i + 1;
		ok = pm_leaktab_stack(&lt, 1, frame, 1, 0);
		assert_true(i < PM_LEAKTAB_PROBE ? ok != 0 : ok == 0);
	}
	assert_int_equal(atomic64_read(&lt.stacks_full), 3);
	pm_leaktab_destroy(&lt);
}

/* Random operations against a naive model of (tgid, addr) -> block. */
#define MODEL_KEYS	512

struct model_block {
	bool live;
	u32 stack;
	u64 size;
};

/*
 * Random inserts and removes of @keys addresses per process in a table
 * of @blocks slots, checked against the model at every step. A crowded
 * table (windows overlapping, some full) may refuse an insert: the model
 * then holds no block, as the report must not.
 */
static void run_model(unsigned int blocks, size_t keys, bool crowded)
{
	static struct model_block model[4][MODEL_KEYS];
	/* Indexed by stack id: 1 to the table's 64. */
	u64 want_bytes[65] = { 0 }, want_count[65] = { 0 };
	u32 stacks[4][4];
	struct pm_leaktab lt;
	struct report *r;
	unsigned int seed = 1;
	size_t i, t, k, nrows = 0, refused = 0;

	memset(model, 0, sizeof(model));
	assert_true(keys <= MODEL_KEYS);
	assert_int_equal(pm_leaktab_init(&lt, blocks, 64), 0);
	for (t = 0; t < 4; t++)
		for (k = 0; k < 4; k++) {
			u64 frames[2] = { 0x400000 + t, 0x500000 + k };

			stacks[t][k] = pm_leaktab_stack(&lt, 100 + t, frames, 2, 0);
			assert_true(stacks[t][k] != 0);
		}
	for (i = 0; i < 40000; i++) {
		struct model_block *m;
		u64 addr;
		bool kept;

		t = rand_r(&seed) % 4;
		k = rand_r(&seed) % keys;
		m = &model[t][k];
		addr = 0x10000 + 32 * k;
		if (rand_r(&seed) % 2) {
			m->stack = stacks[t][rand_r(&seed) % 4];
			m->size = 1 + rand_r(&seed) % 4096;
			kept = pm_leaktab_insert(&lt, 100 + t, addr, m->size,
						 m->stack, i);
			/* A live block is replaced in place, never refused. */
			assert_true(kept || (crowded && !m->live));
			refused += !kept;
			m->live = kept;
		} else {
			assert_int_equal(pm_leaktab_remove(&lt, 100 + t, addr),
					 m->live);
			m->live = false;
		}
	}
	for (t = 0; t < 4; t++)
		for (k = 0; k < keys; k++)
			if (model[t][k].live) {
				want_bytes[model[t][k].stack] += model[t][k].size;
				want_count[model[t][k].stack]++;
			}
	r = report(&lt);
	for (i = 0; i <= 64; i++)
		nrows += want_count[i] != 0;
	assert_int_equal(r->n, nrows);
	for (i = 0; i < r->n; i++) {
		assert_int_equal(r->rows[i].bytes, want_bytes[r->rows[i].stack]);
		assert_int_equal(r->rows[i].allocations,
				 want_count[r->rows[i].stack]);
		if (i)
			assert_true(r->rows[i - 1].bytes >= r->rows[i].bytes);
	}
	assert_int_equal(atomic64_read(&lt.blocks_full), refused);
	if (crowded)
		assert_true(refused > 0);
	/* Forgetting leaves a table that takes every key again. */
	pm_leaktab_forget_blocks(&lt);
	for (k = 0; k < keys && k < blocks / 2; k++)
		assert_true(pm_leaktab_insert(&lt, 100, 0x10000 + 32 * k, 1,
					      0, 0));
	for (k = 0; k < keys && k < blocks / 2; k++)
		assert_true(pm_leaktab_remove(&lt, 100, 0x10000 + 32 * k));
	free(r);
	r = report(&lt);
	assert_int_equal(r->n, 0);
	free(r);
	pm_leaktab_destroy(&lt);
}

static void randomized(void **state)
{
	(void)state;
	run_model(1 << 14, MODEL_KEYS, false);
}

/* 4 x 100 keys over 64 slots: every window overlaps, many are full. */
static void randomized_crowded(void **state)
{
	(void)state;
	run_model(64, 100, true);
}

/*
 * Threads share the table, each as its own process: they allocate and
 * free blocks in rounds, and each keeps LEFT blocks of its last round.
 */
#define MT_THREADS	4
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MT_ROUNDS	2000
#else
#define MT_ROUNDS	20000
#endif
#define MT_BLOCKS	16
#define MT_LEFT		5

struct mt_arg {
	struct pm_leaktab *lt;
	u32 tgid;
	u32 stack;
	bool ok;
};

/* Transient processes: tgid MT_GONE + worker, with a stack per round. */
#define MT_GONE		1000

static bool mt_gone(void *arg, u32 tgid, u64 time_ns)
{
	(void)arg;
	(void)time_ns;
	return tgid > MT_GONE;
}

static int mt_done;
static unsigned long mt_forgotten;

/* Forgets the transient stacks while the workers run. */
static void *mt_forgetter(void *p)
{
	struct pm_leaktab *lt = p;
	int n;

	while (!__atomic_load_n(&mt_done, __ATOMIC_ACQUIRE)) {
		n = pm_leaktab_forget_stacks(lt, mt_gone, NULL);
		assert_true(n >= 0);
		mt_forgotten += (unsigned long)n;
	}
	return NULL;
}

static void *mt_worker(void *p)
{
	struct mt_arg *a = p;
	u64 frames[2] = { 0x1000, a->tgid };
	unsigned int round, b;

	a->ok = true;
	for (round = 0; round < MT_ROUNDS; round++) {
		for (b = 0; b < MT_BLOCKS; b++)
			a->ok &= pm_leaktab_insert(a->lt, a->tgid, 0x7000 + b * 64,
						   b + 1, a->stack, round);
		for (b = 0; b < MT_BLOCKS; b++)
			if (round < MT_ROUNDS - 1 || b >= MT_LEFT)
				a->ok &= pm_leaktab_remove(a->lt, a->tgid,
							   0x7000 + b * 64);
		/* Someone else's stack, while its owner uses it. */
		frames[1] = a->tgid % MT_THREADS + 1;
		a->ok &= pm_leaktab_stack(a->lt, frames[1], frames, 2, 0) != 0;
		frames[1] = a->tgid;
		/*
		 * A stack of a process gone, forgotten meanwhile: ours is
		 * still found as it was, never added again behind a hole.
		 */
		frames[0] = 0x2000 + round;
		pm_leaktab_stack(a->lt, MT_GONE + a->tgid, frames, 2, 0);
		frames[0] = 0x1000;
		a->ok &= pm_leaktab_stack(a->lt, a->tgid, frames, 2, 0) ==
			 a->stack;
	}
	return NULL;
}

static void concurrent(void **state)
{
	struct mt_arg args[MT_THREADS];
	pthread_t th[MT_THREADS], forgetter;
	struct pm_leaktab lt;
	struct report *r;
	size_t i;

	(void)state;
	assert_int_equal(pm_leaktab_init(&lt, 1 << 10, 64), 0);
	mt_done = 0;
	mt_forgotten = 0;
	assert_int_equal(pthread_create(&forgetter, NULL, mt_forgetter, &lt),
			 0);
	for (i = 0; i < MT_THREADS; i++) {
		u64 frames[2] = { 0x1000, i + 1 };

		/*
		 * Before the transient stacks may fill the table; and two
		 * threads adding one new stack at once may get two ids.
		 */
		args[i] = (struct mt_arg){ .lt = &lt, .tgid = i + 1 };
		args[i].stack = pm_leaktab_stack(&lt, i + 1, frames, 2, 0);
		assert_int_not_equal(args[i].stack, 0);
	}
	for (i = 0; i < MT_THREADS; i++) {
		assert_int_equal(pthread_create(&th[i], NULL, mt_worker,
						&args[i]), 0);
	}
	for (i = 0; i < MT_THREADS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_true(args[i].ok);
	}
	__atomic_store_n(&mt_done, 1, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(forgetter, NULL), 0);
	assert_true(mt_forgotten > 0);
	/* What the forgetter left of the transient ones goes now. */
	pm_leaktab_forget_stacks(&lt, mt_gone, NULL);
	r = report(&lt);
	/* Each kept blocks 1..LEFT bytes: LEFT*(LEFT+1)/2. */
	assert_int_equal(r->n, MT_THREADS);
	for (i = 0; i < r->n; i++) {
		assert_int_equal(r->rows[i].allocations, MT_LEFT);
		assert_int_equal(r->rows[i].bytes, MT_LEFT * (MT_LEFT + 1) / 2);
		assert_int_equal(r->rows[i].oldest_ns, MT_ROUNDS - 1);
		assert_int_equal(r->rows[i].frames[1], r->rows[i].tgid);
	}
	assert_int_equal(atomic64_read(&lt.replaced), 0);
	free(r);
	pm_leaktab_destroy(&lt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(insert_remove),
		cmocka_unit_test(full),
		cmocka_unit_test(forget_if),
		cmocka_unit_test(forget_stacks),
		cmocka_unit_test(forget_stacks_by_time),
		cmocka_unit_test(randomized),
		cmocka_unit_test(randomized_crowded),
		cmocka_unit_test(concurrent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
