// SPDX-License-Identifier: GPL-2.0
/* Out-of-line parts of kshim.h. */
#include <stdio.h>
#include <time.h>

#include "kshim.h"

unsigned long kshim_warnings;

void kshim_warn(const char *file, int line, const char *cond)
{
	__atomic_fetch_add(&kshim_warnings, 1, __ATOMIC_RELAXED);
	fprintf(stderr, "# WARNING: %s:%d: WARN_ON_ONCE(%s)\n", file, line, cond);
}

__attribute__((weak)) u64 ktime_get_mono_fast_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}
