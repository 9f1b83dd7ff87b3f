/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-CPU lock-free record buffer: the contract between writers (probes,
 * through the session layer) and readers (read(), mmap consumers).
 * The algorithm and its memory-ordering argument are at the top of ring.c;
 * docs/ring.md explains it for newcomers.
 *
 * This file and ring.c build both in the kernel and, through
 * tests/unit/kshim/, in userspace for the unit tests and the native
 * benchmark: include only what the shim provides.
 */
#ifndef PERSECMON_CORE_RING_H
#define PERSECMON_CORE_RING_H

#include <linux/persecmon.h>
#ifdef __KERNEL__
#include <linux/align.h>
#include <linux/bits.h>
#include <linux/bug.h>
#include <linux/build_bug.h>
#include <linux/compiler.h>
#include <linux/errno.h>
#include <linux/ktime.h>
#include <linux/limits.h>
#include <linux/log2.h>
#include <linux/string.h>
#include <linux/types.h>
#include <asm/barrier.h>
#include <asm/local.h>
#else
#include "kshim.h"
#endif

/*
 * Smallest data area: a PERSECMON_RECORD_MAX record preceded by a loss
 * record must fit from any offset of an empty buffer, padding included,
 * or a writer could drop forever.
 */
#define PM_RING_MIN_DATA_SIZE	16384ULL
/* Largest data area: positions are kept modulo 2^32 in the writer's word. */
#define PM_RING_MAX_DATA_SIZE	(1ULL << 31)

struct pm_ring {
	struct persecmon_ring_ctrl *ctrl;	/* shared page, mmap'd rw */
	u8 *data;				/* data_size bytes, mmap'd ro */
	u64 mask;				/* data_size - 1 */
	u16 cpu;

	/* writer side: only touched on this CPU, by nested writers */
	local_t head;		/* next seq << 32 | bytes reserved mod 2^32 */
	local_t nest;		/* writers in progress on this CPU */
	local_t written;
	local_t dropped;
	local_t lost_pending;	/* dropped, not yet announced */
	local_t lost_mask;	/* types among lost_pending (lost_busy owner) */
	local_t lost_mask_nested; /* same, from writers nested in the owner */
	local_t lost_busy;	/* a writer is doing loss bookkeeping */
	local_t lost_reported;
	local_t dropped_by_type[PERSECMON_REC_TYPE_MAX + 1];
	u64 published;		/* head as last published to ctrl->head */

	/* reader side: serialized by the caller (session mutex) */
	u64 consumed;		/* validated tail, in bytes */
	u64 consumed_records;	/* PAD records excluded */
};

/*
 * @data_size must be a power of two within [PM_RING_MIN_DATA_SIZE,
 * PM_RING_MAX_DATA_SIZE]; @ctrl and @data must be zeroed or hold no reader
 * state (the session layer's vmalloc_user() areas). Returns -EINVAL on bad
 * arguments. Sets up ctrl->version, cpu, data_size, head and tail.
 */
int pm_ring_init(struct pm_ring *ring, struct persecmon_ring_ctrl *ctrl,
		 void *data, u64 data_size, unsigned int cpu);

/*
 * Writer side. Callable from any context (task, softirq, hardirq, NMI) with
 * preemption disabled, on the CPU that owns @ring. Never sleeps, never
 * spins on another writer.
 *
 * pm_ring_reserve() returns a record of @size bytes (rounded up to
 * PERSECMON_RECORD_ALIGN) whose header has size, type, cpu and seq filled
 * and every other byte zeroed, or NULL when the buffer is full: the drop is
 * then counted (per type) and announced by a PERSECMON_REC_LOST record as
 * soon as there is room again. The caller fills the rest and must call
 * pm_ring_commit() on the same CPU before re-enabling preemption.
 *
 * A request with @size outside [sizeof(struct persecmon_record),
 * PERSECMON_RECORD_MAX] or a @type a caller may not write (INVALID, PAD,
 * LOST, > PERSECMON_REC_TYPE_MAX) is a caller bug: it is refused (NULL) and
 * counted as a drop of type PERSECMON_REC_INVALID, so it stays visible.
 */
struct persecmon_record *pm_ring_reserve(struct pm_ring *ring, u16 type,
					 u32 size);
/*
 * Returns the bytes now unread (reserved head - validated tail), for
 * watermarks. A nested writer's value includes bytes of the writer it
 * interrupted, which become readable when that writer commits.
 */
u64 pm_ring_commit(struct pm_ring *ring, struct persecmon_record *rec);

/* Records tried on this CPU: written + dropped (LOST records included). */
u64 pm_ring_produced(const struct pm_ring *ring);

/*
 * Counters of @ring into the uapi layout (st->cpu is left alone). Exact
 * when no writer is active on the ring's CPU; otherwise each counter is
 * exact and they may be a few records apart.
 */
static inline void pm_ring_read_stats(const struct pm_ring *ring,
				      struct persecmon_cpu_stats *st)
{
	int t;

	st->written = (u64)local_read(&ring->written);
	st->dropped = (u64)local_read(&ring->dropped);
	st->produced = st->written + st->dropped;
	st->lost_reported = (u64)local_read(&ring->lost_reported);
	for (t = 0; t <= PERSECMON_REC_TYPE_MAX; t++)
		st->dropped_by_type[t] =
			(u64)local_read(&ring->dropped_by_type[t]);
}

/*
 * Reader side; callers serialize readers of one ring.
 *
 * pm_ring_sync_tail() adopts ctrl->tail written by an mmap consumer if it
 * lies on a record boundary within [consumed, head], counting the records
 * it passes; any other value is ignored. Returns the bytes still unread.
 * Space an mmap consumer hands back is reusable by writers only once this
 * has run.
 */
u64 pm_ring_sync_tail(struct pm_ring *ring);

/*
 * Hands whole records from the tail on to @emit, in buffer order, skipping
 * PAD records, until the buffer is empty, @budget bytes of records would be
 * exceeded, or @emit returns non-zero. Advances and publishes the tail past
 * every record @emit accepted (returned 0). Returns the bytes of records
 * accepted. Starts from the validated tail: call pm_ring_sync_tail() first
 * if an mmap consumer may have moved ctrl->tail.
 */
typedef int (*pm_ring_emit_fn)(void *ctx, const struct persecmon_record *rec);
u64 pm_ring_consume(struct pm_ring *ring, u64 budget, pm_ring_emit_fn emit,
		    void *ctx);

#endif /* PERSECMON_CORE_RING_H */
