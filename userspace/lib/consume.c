// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "persecmon/consume.h"
#include "persecmon/decode.h"

int pm_ring_view_init(struct pm_ring_view *v, struct persecmon_ring_ctrl *ctrl,
		      const void *data, uint64_t data_size, unsigned int cpu,
		      struct pm_error *err)
{
	uint64_t tail;

	memset(v, 0, sizeof(*v));
	if (data_size < 2 * PERSECMON_RECORD_MAX ||
	    (data_size & (data_size - 1)))
		return pm_error_set(err, PM_ERR_ABI, EPROTO,
				    "data area of %" PRIu64 " bytes is not a power of two of at least %d bytes",
				    data_size, 2 * PERSECMON_RECORD_MAX);
	if (ctrl->version != PERSECMON_ABI_MAJOR)
		return pm_error_set(err, PM_ERR_ABI, EPROTO,
				    "control page of CPU %u has ABI version %u, this reader speaks %d",
				    cpu, ctrl->version, PERSECMON_ABI_MAJOR);
	if (ctrl->cpu != cpu)
		return pm_error_set(err, PM_ERR_ABI, EPROTO,
				    "control page mapped for CPU %u says it belongs to CPU %u",
				    cpu, ctrl->cpu);
	if (ctrl->data_size != data_size)
		return pm_error_set(err, PM_ERR_ABI, EPROTO,
				    "control page of CPU %u has data_size %llu, expected %" PRIu64,
				    cpu, (unsigned long long)ctrl->data_size,
				    data_size);
	tail = __atomic_load_n(&ctrl->tail, __ATOMIC_RELAXED);
	if (tail % PERSECMON_RECORD_ALIGN)
		return pm_error_set(err, PM_ERR_RUNTIME, EPROTO,
				    "control page of CPU %u has an unaligned tail %" PRIu64,
				    cpu, tail);
	v->ctrl = ctrl;
	v->data = data;
	v->data_size = data_size;
	v->cpu = cpu;
	v->tail = tail;
	v->published = tail;
	v->round_head = tail;
	return 0;
}

uint64_t pm_ring_view_pending(const struct pm_ring_view *v)
{
	return __atomic_load_n(&v->ctrl->head, __ATOMIC_ACQUIRE) - v->tail;
}

static void report_corrupt(struct pm_ring_view *v,
			   const struct pm_consume_ops *ops, void *ctx,
			   const char *why)
{
	v->corrupt_events++;
	if (ops->corrupt)
		ops->corrupt(ctx, v, v->tail, why);
}

/*
 * Take this round's head. The acquire pairs with the kernel's release of
 * head after it filled the records, so everything below head is complete.
 */
static void snapshot(struct pm_ring_view *v, const struct pm_consume_ops *ops,
		     void *ctx)
{
	uint64_t head = __atomic_load_n(&v->ctrl->head, __ATOMIC_ACQUIRE);
	char why[160];

	v->round_head = v->tail;
	if (head % PERSECMON_RECORD_ALIGN || head < v->tail) {
		snprintf(why, sizeof(why),
			 "head %" PRIu64 " is unaligned or behind tail %" PRIu64,
			 head, v->tail);
		report_corrupt(v, ops, ctx, why);
		return;
	}
	if (head - v->tail > v->data_size) {
		/* The unread bytes were overwritten: nothing there is usable. */
		snprintf(why, sizeof(why),
			 "head %" PRIu64 " is more than one data area ahead of tail %" PRIu64,
			 head, v->tail);
		report_corrupt(v, ops, ctx, why);
		v->corrupt_bytes += head - v->tail;
		v->bytes += head - v->tail;
		v->tail = head;
		v->round_head = head;
		return;
	}
	v->round_head = head;
}

/*
 * The next non-PAD record of the round, or NULL. Records never wrap, so
 * one that would run past the end of the area is as corrupt as one that
 * runs past the head.
 */
static const struct persecmon_record *
peek(struct pm_ring_view *v, const struct pm_consume_ops *ops, void *ctx)
{
	while (v->tail != v->round_head) {
		uint64_t off = v->tail & (v->data_size - 1);
		uint64_t avail = v->data_size - off;
		const struct persecmon_record *rec;
		enum pm_rec_status st;
		char why[160];

		if (v->round_head - v->tail < avail)
			avail = v->round_head - v->tail;
		st = pm_record_check(v->data + off, avail);
		if (st != PM_REC_OK) {
			snprintf(why, sizeof(why), "%s (offset %" PRIu64 ")",
				 pm_rec_status_str(st), off);
			report_corrupt(v, ops, ctx, why);
			v->corrupt_bytes += v->round_head - v->tail;
			v->bytes += v->round_head - v->tail;
			v->tail = v->round_head;
			return NULL;
		}
		rec = (const void *)(v->data + off);
		if (rec->type != PERSECMON_REC_PAD)
			return rec;
		v->pad_records++;
		v->bytes += rec->size;
		v->tail += rec->size;
	}
	return NULL;
}

/*
 * The release orders our reads of the consumed records before the kernel
 * can see the space as free and overwrite it.
 */
static void publish(struct pm_ring_view *v)
{
	if (v->tail == v->published)
		return;
	__atomic_store_n(&v->ctrl->tail, v->tail, __ATOMIC_RELEASE);
	v->published = v->tail;
}

int pm_merge_init(struct pm_merge *m, unsigned int nr_rings)
{
	m->heap = calloc(nr_rings ? nr_rings : 1, sizeof(*m->heap));
	m->cap = nr_rings;
	return m->heap ? 0 : -ENOMEM;
}

void pm_merge_free(struct pm_merge *m)
{
	free(m->heap);
	m->heap = NULL;
	m->cap = 0;
}

static bool before(const struct pm_ring_view *a, const struct pm_ring_view *b)
{
	if (a->next->time_ns != b->next->time_ns)
		return a->next->time_ns < b->next->time_ns;
	return a->cpu < b->cpu;
}

static void sift_down(struct pm_ring_view **h, unsigned int n, unsigned int i)
{
	for (;;) {
		unsigned int l = 2 * i + 1, r = l + 1, min = i;
		struct pm_ring_view *t;

		if (l < n && before(h[l], h[min]))
			min = l;
		if (r < n && before(h[r], h[min]))
			min = r;
		if (min == i)
			return;
		t = h[i];
		h[i] = h[min];
		h[min] = t;
		i = min;
	}
}

static void sift_up(struct pm_ring_view **h, unsigned int i)
{
	while (i > 0) {
		unsigned int parent = (i - 1) / 2;
		struct pm_ring_view *t;

		if (!before(h[i], h[parent]))
			return;
		t = h[i];
		h[i] = h[parent];
		h[parent] = t;
		i = parent;
	}
}

long pm_merge_round(struct pm_merge *m, struct pm_ring_view *rings,
		    unsigned int nr, const struct pm_consume_ops *ops,
		    void *ctx)
{
	struct pm_ring_view **heap = m->heap;
	unsigned int i, n = 0;
	long emitted = 0;
	int rc = 0;

	if (nr > m->cap)
		return -EINVAL;
	for (i = 0; i < nr; i++) {
		struct pm_ring_view *v = &rings[i];

		snapshot(v, ops, ctx);
		v->next = peek(v, ops, ctx);
		if (v->next) {
			heap[n] = v;
			sift_up(heap, n++);
		} else {
			publish(v);
		}
	}

	while (n > 0 && rc == 0) {
		struct pm_ring_view *v = heap[0];
		const struct persecmon_record *rec = v->next;

		rc = ops->record(ctx, v, rec);
		v->tail += rec->size;
		v->bytes += rec->size;
		v->records++;
		emitted++;
		v->next = peek(v, ops, ctx);
		if (!v->next) {
			/* Known empty for this round: free its space now. */
			publish(v);
			heap[0] = heap[--n];
		}
		sift_down(heap, n, 0);
	}

	for (i = 0; i < nr; i++) {
		rings[i].next = NULL;
		publish(&rings[i]);
	}
	return rc < 0 ? rc : emitted;
}
