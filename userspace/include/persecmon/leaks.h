/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Outstanding allocations, the bookkeeping behind persecmon memleak.
 *
 * Every allocation record adds an entry keyed by (space, address): the
 * space separates address spaces that may reuse the same numbers (a
 * process's tgid for user memory; slab objects and page frames for the
 * kernel). A free removes the entry, if it is known. An allocation at an
 * address that is already outstanding replaces the old entry (its free
 * was not seen: it predates the trace or was dropped) and is counted as
 * "replaced".
 *
 * Allocations are grouped by stack: the same frames in the same stack
 * space (tgid, or 0 for the kernel) are one stack, whose outstanding
 * bytes and count are kept exact at every step, so at any moment
 *   sum over stacks of bytes == outstanding_bytes
 *   outstanding_count == allocs - frees_matched - replaced - dropped.
 */
#ifndef PERSECMON_LEAKS_H
#define PERSECMON_LEAKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pm_leaks;

struct pm_leak_stats {
	uint64_t allocs;		/* allocation records taken */
	uint64_t frees_matched;		/* frees of an outstanding entry */
	uint64_t frees_unknown;		/* frees of nothing we saw allocated */
	uint64_t replaced;		/* allocations over an outstanding one */
	uint64_t dropped;		/* forgotten by pm_leaks_drop_space() */
	uint64_t outstanding_count;
	uint64_t outstanding_bytes;
	uint64_t stacks;		/* distinct stacks seen */
};

struct pm_leak_row {
	const uint64_t *frames;
	unsigned int nr_frames;
	uint32_t stack_space;	/* tgid, 0 for the kernel */
	uint64_t bytes;
	uint64_t count;
	uint64_t oldest_ns;	/* time of the oldest allocation counted */
};

struct pm_leaks *pm_leaks_new(void);
void pm_leaks_destroy(struct pm_leaks *l);

/* 0, or -ENOMEM (then nothing changed). */
int pm_leaks_alloc(struct pm_leaks *l, uint32_t space, uint64_t addr,
		   uint64_t size, uint64_t time_ns, uint32_t stack_space,
		   const uint64_t *frames, unsigned int nr_frames);
/* True if @addr was outstanding in @space (and is no longer). */
bool pm_leaks_free(struct pm_leaks *l, uint32_t space, uint64_t addr);
/* Forgets every allocation of @space (a process that exited). */
void pm_leaks_drop_space(struct pm_leaks *l, uint32_t space);

void pm_leaks_stats(const struct pm_leaks *l, struct pm_leak_stats *st);

/*
 * Largest bytes first (ties: more allocations first, then by frames'
 * address): the order of every report, pm_leaks_top()'s and rows read
 * from the kernel's table alike.
 */
void pm_leak_rows_sort(struct pm_leak_row *rows, size_t n);

/*
 * The stacks holding outstanding memory, largest bytes first (ties: more
 * allocations first, then lower stack index), counting only allocations
 * made at or before @max_time_ns (0: all). At most @max rows (0: all).
 * Returns the number of rows in *@rows (malloc'ed, free() it), or -ENOMEM.
 * Rows point into @l: valid until the next change.
 */
long pm_leaks_top(struct pm_leaks *l, uint64_t max_time_ns, size_t max,
		  struct pm_leak_row **rows);

#endif /* PERSECMON_LEAKS_H */
