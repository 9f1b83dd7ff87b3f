/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the ring tests: a ring in userspace memory, records whose every
 * byte follows from (seq, writer tag), and a checker that replays the
 * reader's view of one CPU's stream and enforces the accounting rules of
 * docs/ring.md exactly.
 */
#ifndef TEST_RING_COMMON_H
#define TEST_RING_COMMON_H

#include <stdbool.h>

#include "ring.h"

#define TEST_POISON		0xa5
/* Writers tag records with a context (main thread, signal handler...). */
#define TEST_CTX_MAX		4
#define TEST_TYPE(ctx)		(PERSECMON_EV_TEST + (ctx))
#define TEST_TYPES_MASK		(((1ULL << TEST_CTX_MAX) - 1) << PERSECMON_EV_TEST)
/* Room a writer needs so that its next reserve cannot drop. */
#define TEST_WORST_RESERVE	\
	(2 * (PERSECMON_RECORD_MAX + sizeof(struct persecmon_lost_record)))

struct test_ring {
	struct pm_ring ring;
	struct persecmon_ring_ctrl *ctrl;
	u8 *data;
	u64 data_size;
};

/* Allocates page-aligned ctrl and data (data poisoned) and inits the ring. */
int test_ring_open(struct test_ring *t, u64 data_size, unsigned int cpu);
/* Poisons the data again and re-inits the ring on the same memory. */
int test_ring_reset(struct test_ring *t, unsigned int cpu);
void test_ring_close(struct test_ring *t);

/* Bytes published and not yet validated as consumed. */
u64 test_ring_unread(struct test_ring *t);

static inline u64 test_tag(unsigned int ctx, u64 index)
{
	return (u64)ctx << 56 | index;
}

/* Fills everything but size/type/cpu/seq from the record's seq and @tag. */
void test_fill(struct persecmon_record *rec, u64 tag);
/* NULL if @rec is exactly what test_fill() wrote; sets *tag. */
const char *test_check(const struct persecmon_record *rec, u64 *tag);

/* xorshift64*: deterministic, cheap, async-signal-safe. */
static inline u64 test_rand(u64 *state)
{
	u64 x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* A record size in [40, max], multiple of 8, mostly <= 256; max % 8 == 0. */
static inline u32 test_rand_size(u64 *state, u32 max)
{
	u64 r = test_rand(state);
	u32 hdr = sizeof(struct persecmon_record);
	u32 span = ((r & 7) == 0 || max < 256) ? max : 256;
	u32 size = ALIGN(hdr + (u32)((r >> 8) % (span - hdr + 1)),
			 PERSECMON_RECORD_ALIGN);

	return size > max ? max : size;
}

struct stream_check {
	u16 cpu;
	u32 next_seq;		/* seq the next written record must have */
	bool after_lost;	/* the previous record was a LOST record */
	u32 lost_seq;
	u64 allowed_lost_mask;	/* types that may be announced lost */
	u64 records;		/* PAD excluded, LOST included */
	u64 lost_records;
	u64 pads;
	u64 total_lost;
	u64 lost_mask_seen;
	u64 ctx_records[TEST_CTX_MAX];
	char err[256];
};

void stream_check_init(struct stream_check *sc, u16 cpu, u32 first_seq,
		       u64 allowed_lost_mask);
/* Checks the next non-skipped record in buffer order; false on error. */
bool stream_check_record(struct stream_check *sc,
			 const struct persecmon_record *rec);

/*
 * One pass of the uapi reader protocol: load_acquire(head), check every
 * record from *tail to head, store_release(tail). False on error (sc->err).
 */
bool test_mmap_read(struct test_ring *t, u64 *tail, struct stream_check *sc);
/* The same, stopping after @max records (PAD included). */
bool test_mmap_read_n(struct test_ring *t, u64 *tail, struct stream_check *sc,
		      u64 max);

/*
 * The final accounting every test ends with, once writers have stopped and
 * the stream is drained: the checker saw every written record, its LOST
 * records announced every drop but the pending ones, and seq covers every
 * attempt. NULL if all holds, otherwise what failed.
 */
const char *test_ring_final_check(struct test_ring *t,
				  const struct stream_check *sc,
				  u32 first_seq);

#endif /* TEST_RING_COMMON_H */
