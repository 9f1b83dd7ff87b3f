/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What module/core/aggmap.c needs beyond kshim.h, for its unit test
 * (tests/unit/aggmap.mk). As in kshim.h, nothing here is stronger than the
 * kernel primitive it stands for:
 *
 * - atomic64_t ops are relaxed __atomic RMWs (the kernel's atomic64_add()
 *   and atomic64_inc() order nothing either); cmpxchg() is sequentially
 *   consistent when it succeeds and relaxed when it fails, as the kernel
 *   guarantees nothing for a failed cmpxchg().
 * - RCU is a two-phase reader count (the scheme of classic SRCU): a thread
 *   is an RCU reader between rcu_read_lock() and rcu_read_unlock(), and
 *   synchronize_rcu() waits for every reader that could have started
 *   before it. Readers do not nest across signal handlers.
 * - The aggregate table registry (agg.h) is the test's: the test defines
 *   pm_agg_table_register() and pm_agg_table_unregister(). struct
 *   pm_agg_table has the fields aggmap.c uses, under agg.h's names.
 */
#ifndef PERSECMON_KSHIM_AGG_H
#define PERSECMON_KSHIM_AGG_H

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>

#include "kshim.h"

typedef __s64 s64;

#ifndef __always_inline		/* glibc's <sys/cdefs.h> has it */
#define __always_inline		inline __attribute__((__always_inline__))
#endif
#define BIT(nr)			(1UL << (nr))
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define min_t(type, a, b)	((type)(a) < (type)(b) ? (type)(a) : (type)(b))

/* Atomics */

typedef struct {
	s64 counter;
} atomic64_t;

static inline s64 atomic64_read(const atomic64_t *v)
{
	return __atomic_load_n(&v->counter, __ATOMIC_RELAXED);
}

static inline void atomic64_set(atomic64_t *v, s64 i)
{
	__atomic_store_n(&v->counter, i, __ATOMIC_RELAXED);
}

static inline void atomic64_add(s64 i, atomic64_t *v)
{
	__atomic_fetch_add(&v->counter, i, __ATOMIC_RELAXED);
}

static inline void atomic64_inc(atomic64_t *v)
{
	atomic64_add(1, v);
}

#define cmpxchg(ptr, old, new) ({					\
	__typeof__(*(ptr)) __kshim_old = (old);				\
	__atomic_compare_exchange_n((ptr), &__kshim_old, (new), false,	\
				    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);\
	__kshim_old;							\
})

/* Bit operations: atomic, unordered, as the kernel's set_bit(). */

static inline void set_bit(unsigned int nr, unsigned long *addr)
{
	__atomic_fetch_or(addr, 1UL << nr, __ATOMIC_RELAXED);
}

static inline void clear_bit(unsigned int nr, unsigned long *addr)
{
	__atomic_fetch_and(addr, ~(1UL << nr), __ATOMIC_RELAXED);
}

/* Non-atomic, as the kernel's __set_bit() and test_bit() on a bitmap. */
#define BITS_PER_LONG		(8 * (unsigned int)sizeof(long))

static inline void __set_bit(unsigned int nr, unsigned long *addr)
{
	addr[nr / BITS_PER_LONG] |= 1UL << (nr % BITS_PER_LONG);
}

static inline bool test_bit(unsigned int nr, const unsigned long *addr)
{
	return addr[nr / BITS_PER_LONG] >> (nr % BITS_PER_LONG) & 1;
}

/* The lowest set bit; undefined for 0, as in the kernel. */
static inline unsigned long __ffs(unsigned long word)
{
	return (unsigned long)__builtin_ctzl(word);
}

/* RCU */

void rcu_read_lock(void);
void rcu_read_unlock(void);
void synchronize_rcu(void);
/* Grace periods completed so far (tests check that a reset waited). */
extern unsigned long kshim_rcu_grace_periods;

/* Mutex */

struct mutex {
	pthread_mutex_t m;
};

static inline void mutex_init(struct mutex *lock)
{
	pthread_mutex_init(&lock->m, NULL);
}

static inline void mutex_destroy(struct mutex *lock)
{
	pthread_mutex_destroy(&lock->m);
}

static inline void mutex_lock(struct mutex *lock)
{
	pthread_mutex_lock(&lock->m);
}

static inline void mutex_unlock(struct mutex *lock)
{
	pthread_mutex_unlock(&lock->m);
}

/* Memory: kv*alloc may fail like the kernel's (kshim_alloc_countdown). */

#define GFP_KERNEL		0
/* Userspace threads are preempted anyway. */
#define cond_resched()		do { } while (0)
/*
 * -1: allocations succeed. n >= 0: n more succeed, the next one fails and
 * the countdown goes back to -1.
 */
extern int kshim_alloc_countdown;
void *kshim_alloc(size_t n, size_t size, bool zero);

#define kcalloc(n, size, gfp)		kshim_alloc((n), (size), true)
#define kvcalloc(n, size, gfp)		kshim_alloc((n), (size), true)
#define kvmalloc_array(n, size, gfp)	kshim_alloc((n), (size), false)
#define kfree(p)			free(p)
#define kvfree(p)			free(p)
#define bitmap_zalloc(nbits, gfp)	\
	kshim_alloc(((nbits) + BITS_PER_LONG - 1) / BITS_PER_LONG,	\
		    sizeof(unsigned long), true)
#define bitmap_free(p)			free(p)

/* Misc */

u32 get_random_u32(void);

static inline void sort(void *base, size_t num, size_t size,
			int (*cmp)(const void *, const void *),
			void (*swap)(void *, void *, int))
{
	(void)swap;
	qsort(base, num, size, cmp);
}

/* Aggregate tables (module/core/agg.h) */

#define PM_AGG_HIST_SLOTS	64
#define PM_AGG_KEY_MAX		64

static __always_inline unsigned int pm_agg_log2_slot(u64 value)
{
	return value ? 63 - __builtin_clzll(value) : 0;
}

typedef int (*pm_agg_emit_fn)(void *ctx, const char *key, const u64 *values,
			      unsigned int nr_values);

struct pm_agg_table {
	const char *name;
	const char *columns;
	int (*rows)(pm_agg_emit_fn emit, void *ctx);
	void (*reset)(void);
};

int pm_agg_table_register(struct pm_agg_table *table);
void pm_agg_table_unregister(struct pm_agg_table *table);

#endif /* PERSECMON_KSHIM_AGG_H */
