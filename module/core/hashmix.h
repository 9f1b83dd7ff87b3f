/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The hash of the lock-free tables (aggmap.c, leaktab.c): a 64-bit
 * multiply-xorshift mix of whole words, cheap in a probe and good enough
 * that keys differing in any bit spread over a power-of-two table.
 */
#ifndef PERSECMON_CORE_HASHMIX_H
#define PERSECMON_CORE_HASHMIX_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include "kshim.h"
#endif

static inline u32 pm_hash_words(u64 seed, const u64 *words, unsigned int n)
{
	u64 h = seed;
	unsigned int i;

	for (i = 0; i < n; i++) {
		h ^= words[i];
		h *= 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return (u32)h;
}

#endif /* PERSECMON_CORE_HASHMIX_H */
