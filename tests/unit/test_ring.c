// SPDX-License-Identifier: GPL-2.0
/*
 * Single-threaded tests of module/core/ring.c: record layout, padding,
 * drops and their announcement, sequence numbers, and the reader side.
 * Every test gets a fresh 16 KiB ring on CPU 0 (setup_ring) and ends with
 * the full accounting check of test_ring_final_check() where it applies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "test_ring_common.h"

#define SMALL_RING	16384ULL
#define REC_HDR		((u32)sizeof(struct persecmon_record))
#define LOST_SIZE	((u32)sizeof(struct persecmon_lost_record))

static int setup_ring(void **state)
{
	struct test_ring *t = malloc(sizeof(*t));

	if (!t || test_ring_open(t, SMALL_RING, 0))
		return -1;
	kshim_warnings = 0;
	*state = t;
	return 0;
}

static int teardown_ring(void **state)
{
	struct test_ring *t = *state;

	test_ring_close(t);
	free(t);
	return 0;
}

/* A writer context of the tests: which type it writes, how many it wrote. */
struct writer {
	unsigned int ctx;
	u64 written;
	u64 dropped;
};

static struct persecmon_record *put(struct test_ring *t, struct writer *w,
				    u32 size)
{
	struct persecmon_record *rec;

	rec = pm_ring_reserve(&t->ring, TEST_TYPE(w->ctx), size);
	if (!rec) {
		w->dropped++;
		return NULL;
	}
	test_fill(rec, test_tag(w->ctx, w->written++));
	pm_ring_commit(&t->ring, rec);
	return rec;
}

static u64 rec_pos(struct test_ring *t, const void *rec)
{
	return (u64)((const u8 *)rec - t->data);
}

struct emit_ctx {
	struct stream_check *sc;
	unsigned int calls;
	unsigned int refuse_call;	/* 1-based call to refuse, 0: none */
	unsigned int pads_seen;
	u64 bytes;
};

static int emit_check(void *p, const struct persecmon_record *rec)
{
	struct emit_ctx *e = p;

	if (++e->calls == e->refuse_call)
		return 1;
	if (rec->type == PERSECMON_REC_PAD)
		e->pads_seen++;
	e->bytes += rec->size;
	stream_check_record(e->sc, rec);
	return 0;
}

static void drain_consume(struct test_ring *t, struct stream_check *sc)
{
	struct emit_ctx e = { .sc = sc };
	u64 total = 0, got;

	while ((got = pm_ring_consume(&t->ring, UINT64_MAX, emit_check, &e)))
		total += got;
	assert_int_equal(e.pads_seen, 0);
	assert_int_equal(total, e.bytes);
	if (sc->err[0])
		fail_msg("%s", sc->err);
	assert_int_equal(t->ring.consumed, t->ring.published);
	assert_int_equal(t->ctrl->tail, t->ring.published);
}

/* The mmap consumer reads up to @max records, then the kernel syncs. */
static void read_mmap(struct test_ring *t, struct stream_check *sc, u64 max)
{
	u64 tail = t->ring.consumed;

	if (!test_mmap_read_n(t, &tail, sc, max))
		fail_msg("%s", sc->err);
	assert_int_equal(pm_ring_sync_tail(&t->ring), t->ring.published - tail);
	assert_int_equal(t->ring.consumed, tail);
}

static void drain_mmap(struct test_ring *t, struct stream_check *sc)
{
	read_mmap(t, sc, UINT64_MAX);
}

static void final_check(struct test_ring *t, struct stream_check *sc,
			u32 first_seq)
{
	const char *why = test_ring_final_check(t, sc, first_seq);

	if (why)
		fail_msg("%s", why);
	assert_int_equal(kshim_warnings, 0);
}

static void test_init_rejects_bad_arguments(void **state)
{
	struct test_ring *t = *state;
	struct pm_ring r;

	assert_int_equal(t->ctrl->version, PERSECMON_ABI_MAJOR);
	assert_int_equal(t->ctrl->cpu, 0);
	assert_int_equal(t->ctrl->data_size, SMALL_RING);

	/* A stale control page is reset. */
	t->ctrl->head = 12345;
	t->ctrl->tail = 678;
	assert_int_equal(pm_ring_init(&r, t->ctrl, t->data, SMALL_RING, 7), 0);
	assert_int_equal(t->ctrl->head, 0);
	assert_int_equal(t->ctrl->tail, 0);
	assert_int_equal(t->ctrl->cpu, 7);
	assert_int_equal(r.cpu, 7);

	assert_int_equal(pm_ring_init(&r, t->ctrl, t->data, 0, 0), -EINVAL);
	assert_int_equal(pm_ring_init(&r, t->ctrl, t->data, 8192, 0), -EINVAL);
	assert_int_equal(pm_ring_init(&r, t->ctrl, t->data, 3 * 8192, 0),
			 -EINVAL);
	assert_int_equal(pm_ring_init(&r, t->ctrl, t->data, 1ULL << 32, 0),
			 -EINVAL);
	assert_int_equal(pm_ring_init(&r, t->ctrl, t->data, SMALL_RING, 65536),
			 -EINVAL);
	assert_int_equal(pm_ring_init(&r, NULL, t->data, SMALL_RING, 0),
			 -EINVAL);
	assert_int_equal(pm_ring_init(&r, t->ctrl, NULL, SMALL_RING, 0),
			 -EINVAL);
	assert_int_equal(pm_ring_init(NULL, t->ctrl, t->data, SMALL_RING, 0),
			 -EINVAL);
	/* Both limits are accepted (init does not touch the data area). */
	assert_int_equal(pm_ring_init(&r, t->ctrl, t->data,
				      PM_RING_MIN_DATA_SIZE, 65535), 0);
	assert_int_equal(pm_ring_init(&r, t->ctrl, t->data,
				      PM_RING_MAX_DATA_SIZE, 0), 0);
}

static void test_reserve_zero_fills_and_commit_publishes(void **state)
{
	struct test_ring *t = *state;
	struct persecmon_record *rec, *rec2;
	struct persecmon_cpu_stats st;
	const u8 *bytes;
	size_t i;

	assert_int_equal(test_ring_reset(t, 5), 0);
	rec = pm_ring_reserve(&t->ring, TEST_TYPE(0), 60);
	assert_non_null(rec);
	assert_ptr_equal(rec, t->data);
	assert_int_equal(rec->size, 64);
	assert_int_equal(rec->type, TEST_TYPE(0));
	assert_int_equal(rec->cpu, 5);
	assert_int_equal(rec->seq, 0);
	bytes = (const u8 *)rec;
	assert_int_equal(rec->flags, 0);
	for (i = offsetof(struct persecmon_record, uid); i < 64; i++)
		assert_int_equal(bytes[i], 0);
	assert_int_equal(bytes[64], TEST_POISON);	/* nothing past it */

	/* Not visible before the commit. */
	assert_int_equal(t->ctrl->head, 0);
	assert_int_equal(local_read(&t->ring.nest), 1);
	assert_int_equal(pm_ring_commit(&t->ring, rec), 64);
	assert_int_equal(t->ctrl->head, 64);
	assert_int_equal(t->ring.published, 64);
	assert_int_equal(local_read(&t->ring.nest), 0);

	rec2 = pm_ring_reserve(&t->ring, PERSECMON_REC_CLOCK, 41);
	assert_non_null(rec2);
	assert_int_equal(rec_pos(t, rec2), 64);
	assert_int_equal(rec2->size, 48);
	assert_int_equal(rec2->seq, 1);
	for (i = 41; i < 48; i++)	/* rounding bytes are zero too */
		assert_int_equal(((u8 *)rec2)[i], 0);
	assert_int_equal(pm_ring_commit(&t->ring, rec2), 112);

	memset(&st, 0, sizeof(st));
	pm_ring_read_stats(&t->ring, &st);
	assert_int_equal(st.written, 2);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(st.produced, 2);
	assert_int_equal(pm_ring_produced(&t->ring), 2);
	assert_int_equal(st.lost_reported, 0);

	/* The validated tail, not ctrl->tail, is what commit compares to. */
	t->ctrl->tail = 112;
	rec = pm_ring_reserve(&t->ring, TEST_TYPE(0), 40);
	assert_int_equal(pm_ring_commit(&t->ring, rec), 152);
	assert_int_equal(pm_ring_sync_tail(&t->ring), 40);
	rec = pm_ring_reserve(&t->ring, TEST_TYPE(0), 40);
	assert_int_equal(pm_ring_commit(&t->ring, rec), 80);
}

/* Every legal size: rounding, zero-fill, content, through the read path. */
static void test_every_record_size(void **state)
{
	struct test_ring *t = *state;
	struct stream_check sc;
	struct persecmon_record *rec;
	struct writer w = { .ctx = 0 };
	const u8 *bytes;
	u32 size, i;

	stream_check_init(&sc, 0, 0, 0);
	for (size = REC_HDR; size <= PERSECMON_RECORD_MAX; size++) {
		rec = pm_ring_reserve(&t->ring, TEST_TYPE(0), size);
		assert_non_null(rec);
		assert_int_equal(rec->size, ALIGN(size, 8));
		bytes = (const u8 *)rec;
		for (i = REC_HDR; i < rec->size; i++)
			if (bytes[i])
				fail_msg("size %u: byte %u not zeroed", size, i);
		test_fill(rec, test_tag(0, w.written++));
		pm_ring_commit(&t->ring, rec);
		drain_consume(t, &sc);
	}
	final_check(t, &sc, 0);
	assert_int_equal(sc.records, PERSECMON_RECORD_MAX - REC_HDR + 1);
	assert_true(t->ring.published > 100 * SMALL_RING);	/* many wraps */
}

/* Refused requests are caller bugs: counted, announced, never silent. */
static void test_invalid_requests_are_counted(void **state)
{
	static const u32 bad_sizes[] = { 0, 1, 39, 4097, 65535, UINT32_MAX };
	static const u16 bad_types[] = { PERSECMON_REC_INVALID,
		PERSECMON_REC_PAD, PERSECMON_REC_LOST,
		PERSECMON_REC_TYPE_MAX + 1, 65535 };
	struct test_ring *t = *state;
	struct stream_check sc;
	struct writer w = { .ctx = 1 };
	const struct persecmon_lost_record *lost;
	size_t i, n = 0;

	for (i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++, n++)
		assert_null(pm_ring_reserve(&t->ring, TEST_TYPE(0),
					    bad_sizes[i]));
	for (i = 0; i < sizeof(bad_types) / sizeof(bad_types[0]); i++, n++)
		assert_null(pm_ring_reserve(&t->ring, bad_types[i], 64));
	assert_int_equal(local_read(&t->ring.nest), 0);
	assert_int_equal(local_read(&t->ring.dropped), n);
	assert_int_equal(local_read(&t->ring.dropped_by_type[PERSECMON_REC_INVALID]),
			 n);
	assert_int_equal(local_read(&t->ring.dropped_by_type[TEST_TYPE(0)]), 0);
	assert_int_equal(local_read(&t->ring.lost_pending), n);
	assert_int_equal(t->ctrl->head, 0);

	assert_non_null(put(t, &w, 64));
	lost = (const void *)t->data;
	assert_int_equal(lost->hdr.type, PERSECMON_REC_LOST);
	assert_int_equal(lost->hdr.seq, n);
	assert_int_equal(lost->lost, n);
	assert_int_equal(lost->type_mask, 1ULL << PERSECMON_REC_INVALID);
	assert_int_equal(lost->total_lost, n);

	stream_check_init(&sc, 0, 0, 1ULL << PERSECMON_REC_INVALID);
	drain_mmap(t, &sc);
	final_check(t, &sc, 0);
	assert_int_equal(sc.lost_records, 1);
}

/* Writes records of exactly @len bytes in all (0 or >= 40), no PAD. */
static void tile(struct test_ring *t, struct writer *w, u64 len)
{
	u32 a;

	assert_true(len == 0 || len >= REC_HDR);
	while (len > 2 * PERSECMON_RECORD_MAX) {
		assert_non_null(put(t, w, PERSECMON_RECORD_MAX));
		len -= PERSECMON_RECORD_MAX;
	}
	if (len > PERSECMON_RECORD_MAX) {
		a = (u32)ALIGN(len / 2, 8);
		assert_non_null(put(t, w, a));
		len -= a;
	}
	if (len)
		assert_non_null(put(t, w, (u32)len));
}

/*
 * Drains the ring and writes records so that the next one starts @room
 * bytes before the end of the area; drains them too.
 */
static void fill_to_room(struct test_ring *t, struct writer *w,
			 struct stream_check *sc, u32 room)
{
	u64 off, end_room;

	drain_mmap(t, sc);
	off = t->ring.published & (t->data_size - 1);
	end_room = t->data_size - off;
	if (off && end_room < REC_HDR) {	/* PAD, record at 0 */
		assert_non_null(put(t, w, REC_HDR));
		off = REC_HDR;
	} else if (off && off > t->data_size - room) {
		tile(t, w, end_room);			/* to the next lap */
		off = 0;
	}
	drain_mmap(t, sc);
	tile(t, w, t->data_size - room - off);
	assert_int_equal(t->ring.published & (t->data_size - 1),
			 t->data_size - room);
	drain_mmap(t, sc);
}

static void test_wrap_pads_the_end(void **state)
{
	static const u32 rooms[] = { 8, 16, 24, 32, 40, 48, 56, 64, 72, 1000,
				     4088 };
	struct test_ring *t = *state;
	struct stream_check sc;
	struct writer w;
	struct persecmon_record *rec;
	const struct persecmon_record *pad;
	u32 room, size;
	size_t i;

	for (i = 0; i < sizeof(rooms) / sizeof(rooms[0]); i++) {
		room = rooms[i];
		memset(&w, 0, sizeof(w));
		assert_int_equal(test_ring_reset(t, 2), 0);
		stream_check_init(&sc, 2, 0, 0);
		fill_to_room(t, &w, &sc, room);

		size = room + 8 > REC_HDR ? room + 8 : REC_HDR;
		rec = put(t, &w, size);
		assert_non_null(rec);
		assert_ptr_equal(rec, t->data);	/* after the PAD, at 0 */
		pad = (const void *)(t->data + t->data_size - room);
		assert_int_equal(pad->size, room);
		assert_int_equal(pad->type, PERSECMON_REC_PAD);
		assert_int_equal(t->ring.published, t->data_size + size);

		drain_mmap(t, &sc);
		assert_int_equal(sc.pads, 1);
		final_check(t, &sc, 0);
	}

	/* An exact fit needs no PAD: the next record starts the next lap. */
	memset(&w, 0, sizeof(w));
	assert_int_equal(test_ring_reset(t, 2), 0);
	stream_check_init(&sc, 2, 0, 0);
	fill_to_room(t, &w, &sc, 64);
	rec = put(t, &w, 64);
	assert_int_equal(rec_pos(t, rec), t->data_size - 64);
	rec = put(t, &w, 64);
	assert_ptr_equal(rec, t->data);
	drain_mmap(t, &sc);
	assert_int_equal(sc.pads, 0);
	final_check(t, &sc, 0);
}

static void test_full_buffer_drops_and_announces(void **state)
{
	struct test_ring *t = *state;
	struct stream_check sc;
	struct writer w[3] = { { .ctx = 0 }, { .ctx = 1 }, { .ctx = 2 } };
	struct persecmon_record *rec;
	const struct persecmon_lost_record *lost;
	int i;

	stream_check_init(&sc, 0, 0, TEST_TYPES_MASK);
	for (i = 0; i < 256; i++)
		assert_non_null(put(t, &w[0], 64));
	assert_int_equal(t->ring.published, SMALL_RING);
	/* Full: every attempt drops and takes a seq (256..262). */
	assert_null(put(t, &w[0], 64));
	assert_null(put(t, &w[0], 40));
	assert_null(put(t, &w[1], 4096));
	assert_null(put(t, &w[0], 64));
	assert_null(put(t, &w[1], 64));
	assert_null(put(t, &w[2], 64));
	assert_null(put(t, &w[0], 64));
	assert_int_equal(local_read(&t->ring.dropped), 7);
	assert_int_equal(local_read(&t->ring.dropped_by_type[TEST_TYPE(0)]), 4);
	assert_int_equal(local_read(&t->ring.dropped_by_type[TEST_TYPE(1)]), 2);
	assert_int_equal(local_read(&t->ring.dropped_by_type[TEST_TYPE(2)]), 1);
	assert_int_equal(local_read(&t->ring.lost_pending), 7);
	assert_int_equal(pm_ring_produced(&t->ring), 263);
	assert_int_equal(t->ring.published, SMALL_RING);  /* nothing to show */
	assert_int_equal(local_read(&t->ring.nest), 0);

	/* 64 bytes free: the record would fit, the LOST record with it not. */
	read_mmap(t, &sc, 1);
	assert_null(put(t, &w[0], 64));
	assert_int_equal(local_read(&t->ring.lost_pending), 8);

	/* 128 bytes: LOST (seq 264) and the record (seq 265), at offset 0. */
	read_mmap(t, &sc, 1);
	rec = put(t, &w[2], 64);
	assert_non_null(rec);
	lost = (const void *)t->data;
	assert_int_equal(rec_pos(t, rec), LOST_SIZE);
	assert_int_equal(lost->hdr.type, PERSECMON_REC_LOST);
	assert_int_equal(lost->hdr.size, LOST_SIZE);
	assert_int_equal(lost->hdr.cpu, 0);
	assert_int_equal(lost->hdr.seq, 264);
	assert_true(lost->hdr.time_ns > 0);
	assert_int_equal(lost->lost, 8);
	assert_int_equal(lost->total_lost, 8);
	assert_int_equal(lost->type_mask, (1ULL << TEST_TYPE(0)) |
			 (1ULL << TEST_TYPE(1)) | (1ULL << TEST_TYPE(2)));
	assert_int_equal(rec->seq, 265);
	assert_int_equal(local_read(&t->ring.lost_pending), 0);
	assert_int_equal(local_read(&t->ring.lost_reported), 8);
	assert_int_equal(local_read(&t->ring.written), 258);
	drain_mmap(t, &sc);
	final_check(t, &sc, 0);
	assert_int_equal(sc.lost_records, 1);

	/* Second round: the running total goes on. */
	while (put(t, &w[1], 128))
		;
	assert_null(put(t, &w[1], 128));
	assert_null(put(t, &w[1], 128));
	drain_mmap(t, &sc);
	rec = put(t, &w[0], 64);
	assert_non_null(rec);
	lost = (const void *)((u8 *)rec - LOST_SIZE);
	assert_int_equal(lost->lost, 3);
	assert_int_equal(lost->total_lost, 11);
	assert_int_equal(lost->type_mask, 1ULL << TEST_TYPE(1));
	drain_mmap(t, &sc);
	final_check(t, &sc, 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(sc.ctx_records[i], w[i].written);
	assert_int_equal(w[0].dropped + w[1].dropped + w[2].dropped, 11);
}

/* A LOST record and its record are one region: they are padded together. */
static void test_lost_record_pads_with_its_record(void **state)
{
	struct test_ring *t = *state;
	struct stream_check sc;
	struct writer w = { .ctx = 0 };
	struct persecmon_record *rec;
	const struct persecmon_record *pad;
	const struct persecmon_lost_record *lost;
	u64 lap = SMALL_RING;

	stream_check_init(&sc, 0, 0, TEST_TYPES_MASK);
	fill_to_room(t, &w, &sc, 96);			/* at lap - 96 */
	assert_non_null(put(t, &w, 64));		/* 32 bytes left */
	rec = put(t, &w, 4096);				/* PAD 32, then 0 */
	assert_ptr_equal(rec, t->data);
	assert_non_null(put(t, &w, 4096));
	assert_non_null(put(t, &w, 4096));		/* at 2 lap - 4096 */
	assert_int_equal(t->ring.published, 2 * lap - 4096);
	assert_null(put(t, &w, 4096));			/* 12384 unread */
	drain_mmap(t, &sc);

	/* 4096 before the end, LOST + record need 4160: PAD, both at 0. */
	rec = put(t, &w, 4096);
	assert_non_null(rec);
	pad = (const void *)(t->data + lap - 4096);
	assert_int_equal(pad->type, PERSECMON_REC_PAD);
	assert_int_equal(pad->size, 4096);
	lost = (const void *)t->data;
	assert_int_equal(lost->hdr.type, PERSECMON_REC_LOST);
	assert_int_equal(lost->lost, 1);
	assert_int_equal(rec_pos(t, rec), LOST_SIZE);
	assert_int_equal(rec->seq, lost->hdr.seq + 1);
	assert_int_equal(t->ring.published, 2 * lap + LOST_SIZE + 4096);
	drain_mmap(t, &sc);
	assert_int_equal(sc.pads, 2);
	final_check(t, &sc, 0);
}

/* Sets ctrl->tail as an mmap consumer would and lets the ring judge it. */
static u64 offer_tail(struct test_ring *t, u64 tail)
{
	__atomic_store_n(&t->ctrl->tail, tail, __ATOMIC_RELEASE);
	return pm_ring_sync_tail(&t->ring);
}

static void test_sync_tail_accepts_only_record_boundaries(void **state)
{
	struct test_ring *t = *state;
	struct writer w = { .ctx = 0 };
	struct persecmon_record *rec;
	u64 head;

	/* Records at 0, 64, 192, 232; head 4328. */
	put(t, &w, 64);
	put(t, &w, 128);
	put(t, &w, 40);
	put(t, &w, 4096);
	head = t->ring.published;
	assert_int_equal(head, 4328);

	assert_int_equal(offer_tail(t, 0), head);		/* no move */
	assert_int_equal(offer_tail(t, 8), head);		/* inside */
	assert_int_equal(offer_tail(t, 100), head);		/* inside */
	assert_int_equal(offer_tail(t, head + 8), head);	/* beyond */
	assert_int_equal(offer_tail(t, UINT64_MAX), head);
	assert_int_equal(t->ring.consumed, 0);
	assert_int_equal(t->ring.consumed_records, 0);

	assert_int_equal(offer_tail(t, 64), head - 64);
	assert_int_equal(t->ring.consumed_records, 1);
	assert_int_equal(offer_tail(t, 0), head - 64);		/* behind */
	assert_int_equal(offer_tail(t, 56), head - 64);		/* behind */
	assert_int_equal(offer_tail(t, 232 + 8), head - 64);	/* inside */
	assert_int_equal(t->ring.consumed, 64);
	assert_int_equal(offer_tail(t, 232), head - 232);	/* two more */
	assert_int_equal(t->ring.consumed_records, 3);

	/* Reserved but not committed is not consumable. */
	rec = pm_ring_reserve(&t->ring, TEST_TYPE(0), 64);
	assert_int_equal(offer_tail(t, head + 64), head - 232);
	test_fill(rec, test_tag(0, w.written++));
	pm_ring_commit(&t->ring, rec);
	assert_int_equal(offer_tail(t, head + 64), 0);		/* all */
	assert_int_equal(t->ring.consumed_records, 5);
	assert_int_equal(t->ring.consumed, head + 64);

	/* A rejected tail frees nothing for writers. */
	while (put(t, &w, 64))
		;
	head = t->ring.published;
	assert_true(head - t->ring.consumed > SMALL_RING - 128);
	assert_int_equal(offer_tail(t, head - 8), head - t->ring.consumed);
	assert_null(put(t, &w, 64));
	assert_int_equal(kshim_warnings, 0);
}

static void test_sync_tail_across_a_pad(void **state)
{
	struct test_ring *t = *state;
	struct stream_check sc;
	struct writer w = { .ctx = 0 };
	u64 pad_pos, records;

	stream_check_init(&sc, 0, 0, 0);
	fill_to_room(t, &w, &sc, 200);
	pad_pos = t->ring.published;
	put(t, &w, 4096);				/* PAD 200, then 0 */
	put(t, &w, 64);
	records = t->ring.consumed_records;
	assert_int_equal(offer_tail(t, pad_pos + 8), 200 + 4096 + 64);
	assert_int_equal(offer_tail(t, pad_pos), 200 + 4096 + 64);
	assert_int_equal(t->ring.consumed_records, records);
	assert_int_equal(offer_tail(t, pad_pos + 200), 4096 + 64);
	assert_int_equal(t->ring.consumed_records, records);	/* PAD */
	assert_int_equal(offer_tail(t, pad_pos + 200 + 4096 + 64), 0);
	assert_int_equal(t->ring.consumed_records, records + 2);

	/* Straight over the PAD in one step. The checker skips what we did. */
	stream_check_init(&sc, 0, (u32)((u64)local_read(&t->ring.head) >> 32), 0);
	sc.ctx_records[0] = w.written;
	fill_to_room(t, &w, &sc, 48);
	pad_pos = t->ring.published;
	put(t, &w, 64);
	put(t, &w, 64);
	records = t->ring.consumed_records;
	assert_int_equal(offer_tail(t, pad_pos + 48 + 128), 0);
	assert_int_equal(t->ring.consumed_records, records + 2);
	assert_int_equal(kshim_warnings, 0);
}

static void test_consume_budget_and_refusal(void **state)
{
	struct test_ring *t = *state;
	struct stream_check sc;
	struct emit_ctx e = { .sc = &sc };
	struct writer w = { .ctx = 0 };

	stream_check_init(&sc, 0, 0, 0);
	put(t, &w, 64);
	put(t, &w, 128);
	put(t, &w, 40);
	put(t, &w, 4096);

	assert_int_equal(pm_ring_consume(&t->ring, 63, emit_check, &e), 0);
	assert_int_equal(e.calls, 0);
	assert_int_equal(t->ring.consumed, 0);
	assert_int_equal(t->ctrl->tail, 0);

	assert_int_equal(pm_ring_consume(&t->ring, 64 + 127, emit_check, &e), 64);
	assert_int_equal(t->ring.consumed, 64);
	assert_int_equal(t->ctrl->tail, 64);
	assert_int_equal(t->ring.consumed_records, 1);

	/* Refuse the second record handed out: only the first goes. */
	e.calls = 0;
	e.refuse_call = 2;
	assert_int_equal(pm_ring_consume(&t->ring, UINT64_MAX, emit_check, &e),
			 128);
	assert_int_equal(t->ring.consumed, 192);
	assert_int_equal(t->ring.consumed_records, 2);

	/* Refusing the first moves nothing. */
	e.calls = 0;
	e.refuse_call = 1;
	assert_int_equal(pm_ring_consume(&t->ring, UINT64_MAX, emit_check, &e),
			 0);
	assert_int_equal(t->ring.consumed, 192);

	/* The refused record comes again, then the rest. */
	e.refuse_call = 0;
	assert_int_equal(pm_ring_consume(&t->ring, 40 + 4096, emit_check, &e),
			 40 + 4096);
	assert_int_equal(pm_ring_consume(&t->ring, UINT64_MAX, emit_check, &e),
			 0);
	assert_int_equal(t->ring.consumed_records, 4);

	/* A PAD is skipped: never handed out, not charged to the budget. */
	fill_to_room(t, &w, &sc, 400);
	put(t, &w, 4096);
	e.calls = 0;
	e.bytes = 0;
	assert_int_equal(pm_ring_consume(&t->ring, 4096, emit_check, &e), 4096);
	assert_int_equal(e.calls, 1);
	assert_int_equal(e.pads_seen, 0);
	final_check(t, &sc, 0);
}

/* Writers nested by hand: only the outermost commit publishes. */
static void test_nested_writers_publish_at_outer_commit(void **state)
{
	struct test_ring *t = *state;
	struct stream_check sc;
	struct persecmon_record *outer, *inner, *inner2;

	stream_check_init(&sc, 0, 0, 0);
	outer = pm_ring_reserve(&t->ring, TEST_TYPE(0), 64);
	inner = pm_ring_reserve(&t->ring, TEST_TYPE(1), 128);
	assert_int_equal(local_read(&t->ring.nest), 2);
	assert_int_equal(rec_pos(t, inner), 64);
	assert_int_equal(inner->seq, 1);
	test_fill(inner, test_tag(1, 0));
	assert_int_equal(pm_ring_commit(&t->ring, inner), 192);
	assert_int_equal(t->ctrl->head, 0);	/* outer still being written */

	inner2 = pm_ring_reserve(&t->ring, TEST_TYPE(2), 40);
	test_fill(inner2, test_tag(2, 0));
	pm_ring_commit(&t->ring, inner2);
	assert_int_equal(t->ctrl->head, 0);

	test_fill(outer, test_tag(0, 0));
	assert_int_equal(pm_ring_commit(&t->ring, outer), 232);
	assert_int_equal(t->ctrl->head, 232);
	assert_int_equal(local_read(&t->ring.nest), 0);
	drain_mmap(t, &sc);
	final_check(t, &sc, 0);
	assert_int_equal(sc.ctx_records[0], 1);
	assert_int_equal(sc.ctx_records[1], 1);
	assert_int_equal(sc.ctx_records[2], 1);
}

/*
 * A writer that interrupts another one's loss bookkeeping (lost_busy set
 * by hand here) drops instead of announcing; the owner folds its type in.
 */
static void test_writer_nested_in_loss_bookkeeping_drops(void **state)
{
	struct test_ring *t = *state;
	struct stream_check sc;
	struct writer w[3] = { { .ctx = 0 }, { .ctx = 1 }, { .ctx = 2 } };
	const struct persecmon_lost_record *lost;
	struct persecmon_record *rec;

	stream_check_init(&sc, 0, 0, TEST_TYPES_MASK);
	/* Without a pending loss, lost_busy changes nothing. */
	local_inc(&t->ring.lost_busy);
	assert_non_null(put(t, &w[0], 64));
	local_dec(&t->ring.lost_busy);

	while (put(t, &w[0], 64))
		;
	drain_mmap(t, &sc);
	assert_int_equal(local_read(&t->ring.lost_pending), 1);

	local_inc(&t->ring.lost_busy);
	assert_null(put(t, &w[1], 64));		/* room, but must not announce */
	assert_int_equal(local_read(&t->ring.lost_pending), 2);
	assert_int_equal(local_read(&t->ring.lost_mask), 1ULL << TEST_TYPE(0));
	assert_int_equal(local_read(&t->ring.lost_mask_nested),
			 1ULL << TEST_TYPE(1));
	assert_int_equal(local_read(&t->ring.nest), 0);
	local_dec(&t->ring.lost_busy);

	rec = put(t, &w[2], 64);
	assert_non_null(rec);
	lost = (const void *)((u8 *)rec - LOST_SIZE);
	assert_int_equal(lost->hdr.type, PERSECMON_REC_LOST);
	assert_int_equal(lost->lost, 2);
	assert_int_equal(lost->type_mask,
			 (1ULL << TEST_TYPE(0)) | (1ULL << TEST_TYPE(1)));
	assert_int_equal(local_read(&t->ring.lost_mask_nested), 0);
	drain_mmap(t, &sc);
	final_check(t, &sc, 0);
}

/* seq is 32 bits and wraps; nothing else may notice. */
static void test_seq_wraps(void **state)
{
	struct test_ring *t = *state;
	struct stream_check sc;
	struct writer w = { .ctx = 0 };
	const u32 first = 0xfffffff0U;
	int i;

	/* As if 2^32 - 16 records had gone before: seq in the word's top. */
	local_set(&t->ring.head, (long)((u64)first << 32));
	stream_check_init(&sc, 0, first, TEST_TYPES_MASK);
	for (i = 0; i < 10; i++)
		assert_non_null(put(t, &w, 1024));
	while (put(t, &w, 1024))
		;
	for (i = 0; i < 20; i++)
		assert_null(put(t, &w, 1024));
	drain_mmap(t, &sc);
	for (i = 0; i < 10; i++)
		assert_non_null(put(t, &w, 1024));
	drain_mmap(t, &sc);
	final_check(t, &sc, first);
	assert_int_equal(sc.total_lost, 21);
	assert_true(sc.next_seq < first);	/* wrapped */
}

/*
 * A long random mix of sizes, drops and both read paths, partial reads
 * included, checked record by record.
 */
static void test_random_soak(void **state)
{
	struct test_ring *t = *state;
	struct stream_check sc;
	struct emit_ctx e = { .sc = &sc };
	struct writer w[TEST_CTX_MAX];
	u64 rnd = 0x9e3779b97f4a7c15ULL, r, tail;
	unsigned int ctx;
	int i;

	memset(w, 0, sizeof(w));
	for (ctx = 0; ctx < TEST_CTX_MAX; ctx++)
		w[ctx].ctx = ctx;
	stream_check_init(&sc, 0, 0, TEST_TYPES_MASK);
	for (i = 0; i < 300000; i++) {
		r = test_rand(&rnd);
		ctx = r % TEST_CTX_MAX;
		put(t, &w[ctx], test_rand_size(&rnd, PERSECMON_RECORD_MAX));
		switch ((r >> 8) % 16) {
		case 0:
			e.calls = 0;
			e.refuse_call = (r >> 16) % 4;
			pm_ring_consume(&t->ring, (r >> 20) % 20000,
					emit_check, &e);
			break;
		case 1:
			tail = t->ring.consumed;
			if (!test_mmap_read_n(t, &tail, &sc, (r >> 16) % 40))
				fail_msg("%s", sc.err);
			pm_ring_sync_tail(&t->ring);
			assert_int_equal(t->ring.consumed, tail);
			break;
		}
		if (sc.err[0])
			fail_msg("%s", sc.err);
	}
	drain_mmap(t, &sc);
	put(t, &w[0], 64);		/* announces what is still pending */
	drain_mmap(t, &sc);
	final_check(t, &sc, 0);
	assert_int_equal(local_read(&t->ring.lost_pending), 0);
	assert_true(sc.total_lost > 1000 && sc.records > 100000);
	for (ctx = 0; ctx < TEST_CTX_MAX; ctx++) {
		assert_int_equal(sc.ctx_records[ctx], w[ctx].written);
		assert_int_equal(local_read(&t->ring.dropped_by_type[TEST_TYPE(ctx)]),
				 w[ctx].dropped);
	}
}

/* A broken header in the published area is a kernel bug: WARN, stop. */
static void test_corrupt_record_warns_and_stops(void **state)
{
	struct test_ring *t = *state;
	struct stream_check sc;
	struct emit_ctx e = { .sc = &sc };
	struct writer w = { .ctx = 0 };
	struct persecmon_record *rec;

	stream_check_init(&sc, 0, 0, 0);
	rec = put(t, &w, 64);
	put(t, &w, 64);
	rec->size = 0;
	assert_int_equal(pm_ring_consume(&t->ring, UINT64_MAX, emit_check, &e),
			 0);
	assert_int_equal(kshim_warnings, 1);
	assert_int_equal(offer_tail(t, 128), 128);
	assert_int_equal(kshim_warnings, 2);
	assert_int_equal(t->ring.consumed, 0);
	rec->size = 64;
	assert_int_equal(offer_tail(t, 128), 0);
	kshim_warnings = 0;
}

int main(void)
{
#define RING_TEST(f) cmocka_unit_test_setup_teardown(f, setup_ring, teardown_ring)
	const struct CMUnitTest tests[] = {
		RING_TEST(test_init_rejects_bad_arguments),
		RING_TEST(test_reserve_zero_fills_and_commit_publishes),
		RING_TEST(test_every_record_size),
		RING_TEST(test_invalid_requests_are_counted),
		RING_TEST(test_wrap_pads_the_end),
		RING_TEST(test_full_buffer_drops_and_announces),
		RING_TEST(test_lost_record_pads_with_its_record),
		RING_TEST(test_sync_tail_accepts_only_record_boundaries),
		RING_TEST(test_sync_tail_across_a_pad),
		RING_TEST(test_consume_budget_and_refusal),
		RING_TEST(test_nested_writers_publish_at_outer_commit),
		RING_TEST(test_writer_nested_in_loss_bookkeeping_drops),
		RING_TEST(test_seq_wraps),
		RING_TEST(test_random_soak),
		RING_TEST(test_corrupt_record_warns_and_stops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
