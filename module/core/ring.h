/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-CPU lock-free record buffer: the contract between writers (probes,
 * through the session layer) and readers (read(), mmap consumers).
 * The algorithm and its memory-ordering argument are at the top of ring.c.
 *
 * This file and ring.c build both in the kernel and, through
 * tests/unit/kshim/, in userspace for the unit tests and the native
 * benchmark: include only what the shim provides.
 */
#ifndef PERSECMON_CORE_RING_H
#define PERSECMON_CORE_RING_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <asm/local.h>
#else
#include "kshim.h"
#endif
#include <linux/persecmon.h>

struct pm_ring {
	struct persecmon_ring_ctrl *ctrl;	/* shared page, mmap'd rw */
	u8 *data;				/* data_size bytes, mmap'd ro */
	u64 mask;				/* data_size - 1 */
	u16 cpu;

	/* writer side: only touched on this CPU, by nested writers */
	local_t head;		/* bytes reserved */
	local_t nest;		/* writers in progress on this CPU */
	local_t seq;		/* next sequence number */
	local_t written;
	local_t dropped;
	local_t lost_pending;	/* dropped, not yet announced */
	local_t lost_mask;	/* types among lost_pending */
	local_t lost_reported;
	local_t dropped_by_type[PERSECMON_REC_TYPE_MAX + 1];

	/* reader side: serialized by the caller (session mutex) */
	u64 consumed;		/* validated tail, in bytes */
	u64 consumed_records;	/* PAD records excluded */
};

/* @data_size must be a power of two and at least 2 * PERSECMON_RECORD_MAX. */
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
 */
struct persecmon_record *pm_ring_reserve(struct pm_ring *ring, u16 type,
					 u32 size);
/* Returns the bytes now unread (head - consumer's tail), for watermarks. */
u64 pm_ring_commit(struct pm_ring *ring, struct persecmon_record *rec);

/* Records tried on this CPU: written + dropped (LOST records included). */
u64 pm_ring_produced(const struct pm_ring *ring);

/*
 * Reader side; callers serialize readers of one ring.
 *
 * pm_ring_sync_tail() adopts ctrl->tail written by an mmap consumer if it
 * lies on a record boundary within [consumed, head], counting the records
 * it passes; any other value is ignored. Returns the bytes still unread.
 */
u64 pm_ring_sync_tail(struct pm_ring *ring);

/*
 * Hands whole records from the tail on to @emit, in buffer order, skipping
 * PAD records, until the buffer is empty, @budget bytes of records would be
 * exceeded, or @emit returns non-zero. Advances and publishes the tail past
 * every record @emit accepted (returned 0). Returns the bytes of records
 * accepted.
 */
typedef int (*pm_ring_emit_fn)(void *ctx, const struct persecmon_record *rec);
u64 pm_ring_consume(struct pm_ring *ring, u64 budget, pm_ring_emit_fn emit,
		    void *ctx);

#endif /* PERSECMON_CORE_RING_H */
