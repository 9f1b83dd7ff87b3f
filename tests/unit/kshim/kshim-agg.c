// SPDX-License-Identifier: GPL-2.0
/* Out-of-line parts of kshim-agg.h. */
#include <sched.h>
#include <stdint.h>

#include "kshim-agg.h"

/* RCU: readers count themselves in the counter of the current phase. */

static unsigned long kshim_rcu_phase;
static long kshim_rcu_readers[2];
static pthread_mutex_t kshim_rcu_sync = PTHREAD_MUTEX_INITIALIZER;
static __thread unsigned int kshim_rcu_nest;
static __thread unsigned int kshim_rcu_idx;
unsigned long kshim_rcu_grace_periods;

/*
 * A full barrier between a reader's count and its reads, and between an
 * updater's stores and its wait: RMWs of one word are totally ordered, so
 * either the updater's RMW reads from the reader's (the updater sees the
 * count) or the other way round (the reader sees the updater's stores).
 * A fence would do in C11 but ThreadSanitizer does not model fences.
 */
static unsigned long kshim_rcu_barrier_word;

static void kshim_rcu_barrier(void)
{
	__atomic_fetch_add(&kshim_rcu_barrier_word, 1, __ATOMIC_ACQ_REL);
}

void rcu_read_lock(void)
{
	if (kshim_rcu_nest++)
		return;
	kshim_rcu_idx = __atomic_load_n(&kshim_rcu_phase, __ATOMIC_SEQ_CST) & 1;
	__atomic_fetch_add(&kshim_rcu_readers[kshim_rcu_idx], 1,
			   __ATOMIC_SEQ_CST);
	/* Our reads below, or the updater's wait, see the other side. */
	kshim_rcu_barrier();
}

void rcu_read_unlock(void)
{
	if (--kshim_rcu_nest)
		return;
	__atomic_fetch_sub(&kshim_rcu_readers[kshim_rcu_idx], 1,
			   __ATOMIC_SEQ_CST);
}

/*
 * Two rounds: a reader that read the phase just before a flip may count
 * itself in the old counter after we saw it reach zero, and is caught by
 * the next round (it did see the updater's stores, by the barriers).
 */
void synchronize_rcu(void)
{
	unsigned long old;
	int round;

	pthread_mutex_lock(&kshim_rcu_sync);
	kshim_rcu_barrier();
	for (round = 0; round < 2; round++) {
		old = __atomic_load_n(&kshim_rcu_phase, __ATOMIC_SEQ_CST);
		__atomic_store_n(&kshim_rcu_phase, old + 1, __ATOMIC_SEQ_CST);
		while (__atomic_load_n(&kshim_rcu_readers[old & 1],
				       __ATOMIC_SEQ_CST))
			sched_yield();
	}
	__atomic_fetch_add(&kshim_rcu_grace_periods, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&kshim_rcu_sync);
}

/* Memory */

int kshim_alloc_countdown = -1;

void *kshim_alloc(size_t n, size_t size, bool zero)
{
	if (kshim_alloc_countdown == 0) {
		kshim_alloc_countdown = -1;
		return NULL;
	}
	if (kshim_alloc_countdown > 0)
		kshim_alloc_countdown--;
	if (size && n > SIZE_MAX / size)
		return NULL;
	/* Never 0 bytes: the kernel returns ZERO_SIZE_PTR, not NULL. */
	if (!n || !size)
		n = size = 1;
	return zero ? calloc(n, size) : malloc(n * size);
}

/* Random: the seed of the map's hash; any value must do. */
u32 get_random_u32(void)
{
	static u64 state = 0x853c49e6748fea9bULL;
	u64 x = __atomic_add_fetch(&state, 0x9e3779b97f4a7c15ULL,
				   __ATOMIC_RELAXED);

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return (u32)(x ^ (x >> 31));
}
