// SPDX-License-Identifier: GPL-2.0
/*
 * PerSecMon per-CPU record buffer.
 *
 * Layout
 *
 * Each session has, for every possible CPU, a control page (struct
 * persecmon_ring_ctrl, shared with the mmap consumer) and a data area of
 * data_size bytes. Positions are free-running byte counts; position p is at
 * data[p & mask]. Records are multiples of 8 bytes and never wrap: when a
 * record does not fit before the end of the area, the rest of the area
 * becomes a PAD record. Only the size and type of a PAD are meaningful (we
 * write its first 8 bytes), because the rest of the area can be as short
 * as 8 bytes.
 *
 * The writer's word
 *
 * ring->head packs the next sequence number (high 32 bits) and the reserved
 * position modulo 2^32 (low 32 bits). Every write attempt changes the word
 * exactly once: a reservation moves both halves in one local_cmpxchg(), a
 * drop moves only the sequence number. So in buffer order seq strictly
 * increases, and the gap between two written records is exactly the
 * records dropped between their reservations. 32 bits of position suffice
 * because fewer than data_size <= 2^31 bytes are ever unread; the publisher
 * rebuilds the 64-bit head from the head it published last.
 *
 * Nesting (the scheme of perf's kernel/events/ring_buffer.c)
 *
 * Writers on one CPU nest strictly: an interrupt that writes (softirq,
 * hardirq, NMI) completes before the writer it interrupted resumes.
 *
 * - Reserve is a cmpxchg loop on the word. If a nested writer moved the word
 *   between our read and our cmpxchg, the cmpxchg fails and we retry with
 *   fresh values; nobody ever waits for anybody.
 * - ring->nest counts the writers in progress on this CPU. Only the
 *   outermost one (nest == 1 when it commits) publishes the head: by then
 *   every record reserved on this CPU is complete, because every writer
 *   nested in it has returned. A nested commit only decrements nest; its
 *   record becomes visible when the outermost writer commits.
 * - The outermost commit publishes, sets nest to 0, then reads the word
 *   again. An interrupt arriving between its read of the word and nest = 0
 *   reserved and committed as a nested writer and published nothing, so
 *   the outermost writer goes round again (nest = 1) to publish it. We
 *   publish before clearing nest so that we never overwrite a newer head
 *   published by an interrupt with our older one.
 * - A reserve that drops its record runs the same path, so it never strands
 *   the records of writers that nested in it.
 *
 * Loss accounting
 *
 * A drop adds one to lost_pending and dropped_by_type[type], sets the type's
 * bit in a mask and takes a sequence number. The next reservation that sees
 * lost_pending != 0 reserves a LOST record and its own record as one region
 * with one cmpxchg (seq L and L + 1) and then subtracts what the LOST record
 * announced. If the two do not fit, its record is dropped too. The result
 * is exact: a LOST record counts exactly the drops whose seq lies between
 * the written record before it and itself, and the record with seq L + 1
 * follows it immediately.
 *
 * For that, the bookkeeping of one writer (counters, mask, seq) must not
 * interleave with another's. lost_busy marks a writer doing it: a drop, or
 * a reservation while a loss is pending. A writer that finds lost_busy set
 * has interrupted that writer, which cannot go on before the interrupt
 * returns, so it must not announce losses itself: if a loss is pending it
 * drops its record, putting the type bit in lost_mask_nested, which only
 * the lost_busy owner folds into lost_mask. This costs records only in the
 * window of another writer's loss bookkeeping, and only while a loss is
 * pending. The owner that announces reads the word before the loss state:
 * any nested drop after that read also moves the word and fails its
 * cmpxchg. Nested drops after its cmpxchg have larger seqs; they only add
 * to lost_pending and lost_mask_nested, and it subtracts exactly what it
 * announced. A drop adds to lost_pending before it takes its seq, so a
 * writer whose cmpxchg comes after that seq sees the loss pending.
 *
 * Memory ordering between the writer's CPU and a reader on another CPU
 *
 *	writer (this CPU)			reader (any CPU)
 *
 *	c = load_acquire(consumed)  (A)		h = load_acquire(head)  (C)
 *	if (the record fits above c)		read records below h
 *		write the record		t = end of what it read
 *		store_release(head)  (B)	store_release(tail, t)  (D)
 *
 * B pairs with C: a reader that sees a head sees every byte below it.
 * D pairs with A: the writer reuses bytes only once the reader is done
 * with them. A perf-style control dependency would do for A, but an
 * acquire is free on x86 and says what we mean. An mmap consumer's tail
 * reaches A through pm_ring_sync_tail(): load_acquire(ctrl->tail), check
 * the records, store_release(ring->consumed). Release/acquire chains are
 * transitive, so the consumer's reads happen before the writer reuses the
 * bytes. The kernel's own reads use ring->published, never ctrl->head,
 * which userspace can overwrite, and never trust ctrl->tail unchecked.
 *
 * Between writers nested on one CPU only program order matters; the word,
 * nest and loss fields are local_t or READ_ONCE accesses, and barrier()
 * keeps them in the order the argument above needs.
 */

#include "ring.h"

#define PM_SEQ_SHIFT	32
#define PM_SEQ_ONE	(1ULL << PM_SEQ_SHIFT)
#define PM_LOST_SIZE	((u32)sizeof(struct persecmon_lost_record))

static inline u32 pm_word_pos(u64 word)
{
	return (u32)word;
}

static inline u32 pm_word_seq(u64 word)
{
	return (u32)(word >> PM_SEQ_SHIFT);
}

static inline u64 pm_word(u32 seq, u32 pos)
{
	return (u64)seq << PM_SEQ_SHIFT | pos;
}

static inline u64 pm_ring_word(const struct pm_ring *ring)
{
	return (u64)local_read(&ring->head);
}

static inline bool pm_ring_word_update(struct pm_ring *ring, u64 old, u64 new)
{
	return (u64)local_cmpxchg(&ring->head, (long)old, (long)new) == old;
}

static inline u64 pm_ring_size(const struct pm_ring *ring)
{
	return ring->mask + 1;
}

static inline bool pm_ring_type_writable(u16 type)
{
	return type > PERSECMON_REC_LOST && type <= PERSECMON_REC_TYPE_MAX;
}

/* Padding that keeps @len bytes at @pos from crossing the end of the area. */
static inline u32 pm_ring_pad(const struct pm_ring *ring, u32 pos, u32 len)
{
	u32 room = (u32)(pm_ring_size(ring) - (pos & ring->mask));

	return room < len ? room : 0;
}

/* Whether @len more bytes at @pos leave the reader's unread bytes alone. */
static inline bool pm_ring_fits(const struct pm_ring *ring, u32 pos,
				u64 consumed, u32 len)
{
	u32 unread = pos - (u32)consumed;

	return (u64)unread + len <= pm_ring_size(ring);
}

static void pm_ring_put_pad(struct pm_ring *ring, u32 pos, u32 pad)
{
	struct persecmon_record *rec = (void *)(ring->data + (pos & ring->mask));

	rec->size = pad;
	rec->type = PERSECMON_REC_PAD;
	rec->flags = 0;
	rec->cpu = ring->cpu;
}

/*
 * Up to this many payload words are zeroed one by one: for the small
 * records that dominate, memset()'s setup (rep stos, or a call) costs as
 * much as the rest of the reservation.
 */
#define PM_ZERO_LOOP_WORDS	32

static struct persecmon_record *pm_ring_put_header(struct pm_ring *ring,
						   u32 pos, u16 type, u32 size,
						   u32 seq)
{
	struct persecmon_record *rec = (void *)(ring->data + (pos & ring->mask));
	u64 *payload = (u64 *)(rec + 1);
	u32 i, words = (size - sizeof(*rec)) / sizeof(u64);

	if (words <= PM_ZERO_LOOP_WORDS) {
		/* WRITE_ONCE: keeps the compiler from making this a memset() */
		for (i = 0; i < words; i++)
			WRITE_ONCE(payload[i], 0);
	} else {
		memset(payload, 0, size - sizeof(*rec));
	}
	*rec = (struct persecmon_record){
		.size = size, .type = type, .cpu = ring->cpu, .seq = seq,
	};
	return rec;
}

/*
 * End of a writer, whether it committed or dropped: publish if it is the
 * outermost one on this CPU. Returns the reserved bytes not yet consumed.
 */
static u64 pm_ring_end_write(struct pm_ring *ring)
{
	u64 published, head;
	u32 pos;

	if (local_read(&ring->nest) > 1) {
		local_dec(&ring->nest);
		pos = pm_word_pos(pm_ring_word(ring));
		return (u32)(pos - (u32)READ_ONCE(ring->consumed));
	}

	for (;;) {
		/* Our nest count of 1 keeps interrupts from publishing now. */
		barrier();
		pos = pm_word_pos(pm_ring_word(ring));
		published = READ_ONCE(ring->published);
		head = published + (u32)(pos - (u32)published);
		if (head != published) {
			/* (B): the records below head before head; pairs with (C) */
			smp_store_release(&ring->published, head);
			/* (B) for mmap consumers, pairs with their acquire (C) */
			smp_store_release(&ring->ctrl->head, head);
		}
		/* Publish before letting an interrupt publish a newer head. */
		barrier();
		local_set(&ring->nest, 0);
		/* Only now look for writers that came while we published. */
		barrier();
		if (likely(pm_word_pos(pm_ring_word(ring)) == (u32)head))
			break;
		local_set(&ring->nest, 1);
	}
	return head - READ_ONCE(ring->consumed);
}

static void pm_ring_or_mask(local_t *mask, long bits)
{
	long old = local_read(mask);
	long seen;

	while ((seen = local_cmpxchg(mask, old, old | bits)) != old)
		old = seen;
}

static void pm_ring_take_seq(struct pm_ring *ring)
{
	u64 old = pm_ring_word(ring);

	while (!pm_ring_word_update(ring, old, old + PM_SEQ_ONE))
		old = pm_ring_word(ring);
}

/*
 * Counts one dropped record of @type and gives it its sequence number.
 * @owner: the caller holds lost_busy; otherwise it interrupted the holder.
 */
static void pm_ring_count_drop(struct pm_ring *ring, u16 type, bool owner)
{
	long bit = (long)BIT_ULL(type);

	local_inc(&ring->lost_pending);
	if (owner)
		local_set(&ring->lost_mask, local_read(&ring->lost_mask) | bit);
	else
		pm_ring_or_mask(&ring->lost_mask_nested, bit);
	local_inc(&ring->dropped_by_type[type]);
	local_inc(&ring->dropped);
	/* The loss is pending before its seq exists: see "Loss accounting". */
	barrier();
	pm_ring_take_seq(ring);
}

static void pm_ring_drop(struct pm_ring *ring, u16 type)
{
	if (local_read(&ring->lost_busy)) {
		pm_ring_count_drop(ring, type, false);
		return;
	}
	local_inc(&ring->lost_busy);
	/* Owner before touching the loss state. */
	barrier();
	pm_ring_count_drop(ring, type, true);
	/* Bookkeeping complete before anyone else may own it. */
	barrier();
	local_dec(&ring->lost_busy);
}

static void pm_ring_fold_nested_mask(struct pm_ring *ring)
{
	long bits = local_read(&ring->lost_mask_nested);
	long seen;

	while (bits) {
		seen = local_cmpxchg(&ring->lost_mask_nested, bits, 0);
		if (seen == bits) {
			local_set(&ring->lost_mask,
				  local_read(&ring->lost_mask) | bits);
			return;
		}
		bits = seen;
	}
}

/* pm_ring_reserve() when a loss is pending: announce it first. */
static struct persecmon_record *pm_ring_reserve_lost(struct pm_ring *ring,
						     u16 type, u32 size)
{
	struct persecmon_lost_record *lost_rec;
	u64 word, consumed, lost, mask, total = 0;
	u32 pos, pad, extra, seq;

	if (local_read(&ring->lost_busy)) {
		/* We interrupted the loss bookkeeping: see "Loss accounting". */
		pm_ring_count_drop(ring, type, false);
		pm_ring_end_write(ring);
		return NULL;
	}
	local_inc(&ring->lost_busy);
	/* Owner before reading the loss state. */
	barrier();

	do {
		word = pm_ring_word(ring);
		/* The word before the loss state: nested drops move the word. */
		barrier();
		pm_ring_fold_nested_mask(ring);
		lost = (u64)local_read(&ring->lost_pending);
		mask = (u64)local_read(&ring->lost_mask);
		extra = lost ? PM_LOST_SIZE : 0;
		pos = pm_word_pos(word);
		pad = pm_ring_pad(ring, pos, extra + size);
		/* (A), as in pm_ring_reserve() */
		consumed = smp_load_acquire(&ring->consumed);
		if (!pm_ring_fits(ring, pos, consumed, pad + extra + size)) {
			pm_ring_count_drop(ring, type, true);
			/* Bookkeeping complete before releasing ownership. */
			barrier();
			local_dec(&ring->lost_busy);
			pm_ring_end_write(ring);
			return NULL;
		}
		seq = pm_word_seq(word);
	} while (!pm_ring_word_update(ring, word,
				      pm_word(seq + (lost ? 2 : 1),
					      pos + pad + extra + size)));

	if (lost) {
		local_sub((long)lost, &ring->lost_pending);
		local_set(&ring->lost_mask, 0);
		local_add((long)lost, &ring->lost_reported);
		total = (u64)local_read(&ring->lost_reported);
		local_inc(&ring->written);
	}
	local_inc(&ring->written);
	/* Bookkeeping complete before releasing ownership. */
	barrier();
	local_dec(&ring->lost_busy);

	if (pad)
		pm_ring_put_pad(ring, pos, pad);
	if (lost) {
		lost_rec = (void *)pm_ring_put_header(ring, pos + pad,
						      PERSECMON_REC_LOST,
						      PM_LOST_SIZE, seq);
		lost_rec->hdr.time_ns = ktime_get_mono_fast_ns();
		lost_rec->lost = lost;
		lost_rec->type_mask = mask;
		lost_rec->total_lost = total;
		seq++;
	}
	return pm_ring_put_header(ring, pos + pad + extra, type, size, seq);
}

struct persecmon_record *pm_ring_reserve(struct pm_ring *ring, u16 type,
					 u32 size)
{
	u64 word, consumed;
	u32 pos, pad;

	local_inc(&ring->nest);
	/* In progress before we touch the word, so nobody publishes past us. */
	barrier();

	if (unlikely(!pm_ring_type_writable(type) ||
		     size < sizeof(struct persecmon_record) ||
		     size > PERSECMON_RECORD_MAX)) {
		pm_ring_drop(ring, PERSECMON_REC_INVALID);
		pm_ring_end_write(ring);
		return NULL;
	}
	size = ALIGN(size, PERSECMON_RECORD_ALIGN);

	do {
		word = pm_ring_word(ring);
		/* The word before the loss state: nested drops move the word. */
		barrier();
		if (unlikely(local_read(&ring->lost_pending)))
			return pm_ring_reserve_lost(ring, type, size);
		pos = pm_word_pos(word);
		pad = pm_ring_pad(ring, pos, size);
		/* (A): reuse bytes only once the reader is done; pairs with (D) */
		consumed = smp_load_acquire(&ring->consumed);
		if (unlikely(!pm_ring_fits(ring, pos, consumed, pad + size))) {
			pm_ring_drop(ring, type);
			pm_ring_end_write(ring);
			return NULL;
		}
	} while (!pm_ring_word_update(ring, word,
				      pm_word(pm_word_seq(word) + 1,
					      pos + pad + size)));

	local_inc(&ring->written);
	if (pad)
		pm_ring_put_pad(ring, pos, pad);
	return pm_ring_put_header(ring, pos + pad, type, size,
				  pm_word_seq(word));
}

u64 pm_ring_commit(struct pm_ring *ring,
		   struct persecmon_record *rec __always_unused)
{
	return pm_ring_end_write(ring);
}

u64 pm_ring_produced(const struct pm_ring *ring)
{
	return (u64)local_read(&ring->written) +
	       (u64)local_read(&ring->dropped);
}

int pm_ring_init(struct pm_ring *ring, struct persecmon_ring_ctrl *ctrl,
		 void *data, u64 data_size, unsigned int cpu)
{
	/* The writer's word holds a 32-bit seq and a 32-bit position. */
	BUILD_BUG_ON(sizeof(local_t) < sizeof(u64));
	/* Any record, with a LOST record and padding, fits an empty area. */
	BUILD_BUG_ON(2 * (PERSECMON_RECORD_MAX + sizeof(struct persecmon_lost_record)) >
		     PM_RING_MIN_DATA_SIZE);
	BUILD_BUG_ON(sizeof(struct persecmon_lost_record) % PERSECMON_RECORD_ALIGN);

	if (!ring || !ctrl || !data || !is_power_of_2(data_size) ||
	    data_size < PM_RING_MIN_DATA_SIZE ||
	    data_size > PM_RING_MAX_DATA_SIZE || cpu > U16_MAX)
		return -EINVAL;

	memset(ring, 0, sizeof(*ring));
	ring->ctrl = ctrl;
	ring->data = data;
	ring->mask = data_size - 1;
	ring->cpu = cpu;

	ctrl->version = PERSECMON_ABI_MAJOR;
	ctrl->cpu = cpu;
	ctrl->data_size = data_size;
	WRITE_ONCE(ctrl->head, 0);
	WRITE_ONCE(ctrl->tail, 0);
	return 0;
}

/*
 * Size of the record at @pos, which must end by @end, or 0 if its header is
 * not one a writer produces. Sets *@type.
 */
static u32 pm_ring_record_at(const struct pm_ring *ring, u64 pos, u64 end,
			     u16 *type)
{
	const struct persecmon_record *rec =
		(const void *)(ring->data + (pos & ring->mask));
	u32 size = rec->size;

	*type = rec->type;
	if (size < PERSECMON_RECORD_ALIGN || size % PERSECMON_RECORD_ALIGN ||
	    size > end - pos || (pos & ring->mask) + size > pm_ring_size(ring))
		return 0;
	if (*type != PERSECMON_REC_PAD &&
	    size < sizeof(struct persecmon_record))
		return 0;
	return size;
}

u64 pm_ring_sync_tail(struct pm_ring *ring)
{
	u64 pos = ring->consumed;
	u64 head, tail, records = 0;
	u32 size;
	u16 type;

	/* (C): every record below head is complete */
	head = smp_load_acquire(&ring->published);
	/* (D) of the consumer: it is done with the records below tail */
	tail = smp_load_acquire(&ring->ctrl->tail);
	if (tail == pos || tail - pos > head - pos)
		return head - pos;

	while (pos != tail) {
		size = pm_ring_record_at(ring, pos, head, &type);
		if (WARN_ON_ONCE(!size))
			return head - ring->consumed;
		/* A tail inside a record was not written by a reader. */
		if (size > tail - pos)
			return head - ring->consumed;
		if (type != PERSECMON_REC_PAD)
			records++;
		pos += size;
	}

	ring->consumed_records += records;
	/* (D) for the writer's (A): the consumer and we are done below tail */
	smp_store_release(&ring->consumed, tail);
	return head - tail;
}

u64 pm_ring_consume(struct pm_ring *ring, u64 budget, pm_ring_emit_fn emit,
		    void *ctx)
{
	const struct persecmon_record *rec;
	u64 pos = ring->consumed;
	u64 head, accepted = 0, records = 0;
	u32 size;
	u16 type;

	/* (C): every record below head is complete */
	head = smp_load_acquire(&ring->published);
	while (pos != head) {
		size = pm_ring_record_at(ring, pos, head, &type);
		if (WARN_ON_ONCE(!size))
			break;
		if (type == PERSECMON_REC_PAD) {
			pos += size;
			continue;
		}
		if (accepted + size > budget)
			break;
		rec = (const void *)(ring->data + (pos & ring->mask));
		if (emit(ctx, rec))
			break;
		accepted += size;
		records++;
		pos += size;
	}

	if (pos != ring->consumed) {
		ring->consumed_records += records;
		/* (D) for the writer's (A): we are done below pos */
		smp_store_release(&ring->consumed, pos);
		WRITE_ONCE(ring->ctrl->tail, pos);
	}
	return accepted;
}
