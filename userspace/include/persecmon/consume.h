/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Consumer side of the per-CPU buffers (uapi "Reader protocol") and the
 * time-ordered merge across CPUs. Works on any memory laid out per the
 * uapi header, so the unit tests drive it with buffers built in memory.
 *
 * Ordering guarantee (docs/userspace.md, "Ordering"):
 *   A poll round snapshots every CPU's head once. Within a round, records
 *   are handed out in (time_ns, cpu) order, with one exception: records of
 *   one CPU always keep their buffer order, so a CPU whose own timestamps
 *   step backwards (a nested writer) holds its later records back behind
 *   that one. A record is handed out only when every other CPU's next
 *   record in the round is later, or that CPU has nothing left in the
 *   round. Records committed after the snapshot belong to the next round,
 *   so across rounds the stream can step back in time by at most the
 *   commit latency of a writer racing with the snapshot.
 */
#ifndef PERSECMON_CONSUME_H
#define PERSECMON_CONSUME_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/persecmon.h>

#include "persecmon/error.h"

struct pm_ring_view {
	struct persecmon_ring_ctrl *ctrl;	/* shared page (rw) */
	const uint8_t *data;			/* data area (ro) */
	uint64_t data_size;			/* power of two */
	unsigned int cpu;

	uint64_t tail;		/* consumer position, free-running bytes */
	uint64_t published;	/* last tail stored to ctrl->tail */
	uint64_t round_head;	/* head snapshot of the current round */
	const struct persecmon_record *next;	/* merge: record up next */

	/* Totals since the view was set up. */
	uint64_t records;	/* records handed out (PAD excluded) */
	uint64_t pad_records;
	uint64_t bytes;		/* bytes consumed, PAD included */
	uint64_t corrupt_events;
	uint64_t corrupt_bytes;	/* bytes skipped because they were unparseable */
};

/*
 * Set up @v over one CPU's control page and data area after checking the
 * control page against the ABI (version, cpu, data_size). Consumption
 * starts at ctrl->tail.
 */
int pm_ring_view_init(struct pm_ring_view *v, struct persecmon_ring_ctrl *ctrl,
		      const void *data, uint64_t data_size, unsigned int cpu,
		      struct pm_error *err);

/*
 * Callbacks of a round. @record sees a record that passed pm_record_check();
 * the pointer is into the shared buffer and valid only during the call.
 * Return 0 to go on, > 0 to end the round after this record, < 0 to end
 * it with that error. @corrupt (may be NULL) hears about unparseable data
 * or an impossible head; the view then skips to the round's head, which is
 * a record boundary, and counts the bytes it skipped.
 */
struct pm_consume_ops {
	int (*record)(void *ctx, const struct pm_ring_view *ring,
		      const struct persecmon_record *rec);
	void (*corrupt)(void *ctx, const struct pm_ring_view *ring,
			uint64_t pos, const char *why);
};

/*
 * Scratch space for the merge heap: one pointer per ring. Kept by the
 * caller so a round does not allocate.
 */
struct pm_merge {
	struct pm_ring_view **heap;
	unsigned int cap;
};

int pm_merge_init(struct pm_merge *m, unsigned int nr_rings);
void pm_merge_free(struct pm_merge *m);

/*
 * One round over @nr rings: snapshot each head (load-acquire), hand out the
 * records below the snapshots in merged order, and publish each ring's new
 * tail (store-release) as soon as it has nothing left in the round, and in
 * any case before returning. Returns the number of records handed out, or
 * the negative value a @record callback returned.
 */
long pm_merge_round(struct pm_merge *m, struct pm_ring_view *rings,
		    unsigned int nr, const struct pm_consume_ops *ops,
		    void *ctx);

/* Bytes a ring holds unread right now (head - tail, acquire). */
uint64_t pm_ring_view_pending(const struct pm_ring_view *v);

#endif /* PERSECMON_CONSUME_H */
