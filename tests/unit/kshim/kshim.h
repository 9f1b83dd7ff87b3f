/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Just enough of the kernel's environment for module/core/ring.c to build
 * unchanged in userspace (unit tests, native benchmark). Nothing here may be
 * stronger than the kernel primitive it stands for, or the tests would pass
 * on code that breaks in the kernel:
 *
 * - local_t is the kernel's CPU-local atomic. A thread plays the CPU and its
 *   signal handlers play interrupts, so local ops must be atomic with
 *   respect to a handler on the same thread, and need not be with respect
 *   to other threads. On x86-64 they are the kernel's own instructions
 *   (no LOCK prefix; only cmpxchg is a compiler barrier), so the benchmark
 *   measures what the kernel executes. Under ThreadSanitizer, on another
 *   architecture or with KSHIM_LOCAL_ATOMIC, they are relaxed __atomic
 *   operations, which are at least as atomic and which TSan understands.
 * - READ_ONCE/WRITE_ONCE are relaxed atomic accesses (what volatile
 *   accesses give the kernel on 64-bit, visible to TSan).
 * - smp_load_acquire/smp_store_release/smp_mb map to the C11 orderings
 *   that the Linux memory model gives them.
 */
#ifndef PERSECMON_KSHIM_H
#define PERSECMON_KSHIM_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <linux/types.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;

#define U16_MAX			((u16)~0U)
#define BIT_ULL(nr)		(1ULL << (nr))
#define ALIGN(x, a)		(((x) + ((__typeof__(x))(a) - 1)) & \
				 ~((__typeof__(x))(a) - 1))
#define BUILD_BUG_ON(cond)	_Static_assert(!(cond), "BUILD_BUG_ON(" #cond ")")
#define likely(x)		__builtin_expect(!!(x), 1)
#define unlikely(x)		__builtin_expect(!!(x), 0)
#define __always_unused		__attribute__((__unused__))

/*
 * A kernel WARN reports a bug. Here it prints and counts, so that a test can
 * both require that none happened and provoke one on purpose.
 */
extern unsigned long kshim_warnings;
void kshim_warn(const char *file, int line, const char *cond);
#define WARN_ON_ONCE(cond) ({						\
	bool __warn_cond = !!(cond);					\
	if (__warn_cond)						\
		kshim_warn(__FILE__, __LINE__, #cond);			\
	__warn_cond;							\
})

static inline bool is_power_of_2(unsigned long n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

/*
 * The clock uapi/linux/persecmon.h names for hdr.time_ns: CLOCK_MONOTONIC.
 * Weak, so that a test that single-steps the writer can put a counter in
 * place of the vDSO's retry loop.
 */
u64 ktime_get_mono_fast_ns(void);

#define barrier()		__asm__ __volatile__("" : : : "memory")
#define READ_ONCE(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define smp_load_acquire(p)	__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define smp_store_release(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define smp_mb()		__atomic_thread_fence(__ATOMIC_SEQ_CST)
#ifdef __SANITIZE_THREAD__
/*
 * TSan does not model fences; no test reads a leak table report while its
 * writers run, which is the only reader this barrier serves.
 */
#define smp_rmb()		barrier()
#else
#define smp_rmb()		__atomic_thread_fence(__ATOMIC_ACQUIRE)
#endif

typedef struct {
	long counter;
} local_t;

static inline long local_read(const local_t *l)
{
	return __atomic_load_n(&l->counter, __ATOMIC_RELAXED);
}

static inline void local_set(local_t *l, long i)
{
	__atomic_store_n(&l->counter, i, __ATOMIC_RELAXED);
}

/* KSHIM_LOCAL_ATOMIC: the generic version on x86-64 too (benchmark). */
#if defined(__x86_64__) && !defined(__SANITIZE_THREAD__) && \
	!defined(KSHIM_LOCAL_ATOMIC)

/* Same instructions and constraints as arch/x86/include/asm/local.h. */
static inline void local_inc(local_t *l)
{
	__asm__ __volatile__("incq %0" : "+m" (l->counter));
}

static inline void local_dec(local_t *l)
{
	__asm__ __volatile__("decq %0" : "+m" (l->counter));
}

static inline void local_add(long i, local_t *l)
{
	__asm__ __volatile__("addq %1,%0" : "+m" (l->counter) : "ir" (i));
}

static inline void local_sub(long i, local_t *l)
{
	__asm__ __volatile__("subq %1,%0" : "+m" (l->counter) : "ir" (i));
}

static inline long local_cmpxchg(local_t *l, long old, long new)
{
	long ret;

	__asm__ __volatile__("cmpxchgq %2,%1"
			     : "=a" (ret), "+m" (l->counter)
			     : "r" (new), "0" (old)
			     : "memory");
	return ret;
}

#else

static inline void local_inc(local_t *l)
{
	__atomic_fetch_add(&l->counter, 1, __ATOMIC_RELAXED);
}

static inline void local_dec(local_t *l)
{
	__atomic_fetch_sub(&l->counter, 1, __ATOMIC_RELAXED);
}

static inline void local_add(long i, local_t *l)
{
	__atomic_fetch_add(&l->counter, i, __ATOMIC_RELAXED);
}

static inline void local_sub(long i, local_t *l)
{
	__atomic_fetch_sub(&l->counter, i, __ATOMIC_RELAXED);
}

/* The kernel's local_cmpxchg() is a compiler barrier on every architecture. */
static inline long local_cmpxchg(local_t *l, long old, long new)
{
	barrier();
	__atomic_compare_exchange_n(&l->counter, &old, new, false,
				    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	barrier();
	return old;
}

#endif

#endif /* PERSECMON_KSHIM_H */
