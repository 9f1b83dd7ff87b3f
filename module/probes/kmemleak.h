/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The "kmemleak" probe group: every kernel allocation (kmalloc, slab
 * caches, pages) with the kernel stack that made it, and every free, from
 * the kmem:* tracepoints. Userspace (persecmon memleak) pairs them and
 * reports the stacks with the most outstanding memory, like bcc memleak.
 */
#ifndef PERSECMON_PROBES_KMEMLEAK_H
#define PERSECMON_PROBES_KMEMLEAK_H

#include "compat/compat.h"

int pm_kmemleak_init(void);
void pm_kmemleak_exit(void);

#endif /* PERSECMON_PROBES_KMEMLEAK_H */
