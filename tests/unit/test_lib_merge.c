// SPDX-License-Identifier: GPL-2.0
/*
 * libpersecmon consume: the uapi reader protocol and the time-ordered
 * k-way merge, over per-CPU control pages and data areas built in memory
 * exactly as the uapi header lays them out (PAD records at the wrap, head
 * published with release, tail read back with acquire).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "persecmon/consume.h"
#include "persecmon/decode.h"

#define PAGE		4096
#define SMALL_AREA	8192	/* the smallest area the reader accepts */
#define EV_TYPE		62	/* an event type the reader does not know */
#define EV_SIZE		48	/* header + one u64 tag */

/* One CPU as the kernel would present it, plus the writer's state. */
struct fake_cpu {
	struct persecmon_ring_ctrl *ctrl;
	uint8_t *data;
	uint64_t size;
	uint64_t head;		/* writer position, published on demand */
	uint32_t seq;
	unsigned int cpu;
};

static void fake_init(struct fake_cpu *f, unsigned int cpu, uint64_t size)
{
	memset(f, 0, sizeof(*f));
	f->ctrl = aligned_alloc(PAGE, PAGE);
	f->data = aligned_alloc(PAGE, size);
	assert_non_null(f->ctrl);
	assert_non_null(f->data);
	memset(f->ctrl, 0, PAGE);
	/* Garbage everywhere a reader must not look. */
	memset(f->data, 0xa5, size);
	f->ctrl->version = PERSECMON_ABI_MAJOR;
	f->ctrl->cpu = cpu;
	f->ctrl->data_size = size;
	f->size = size;
	f->cpu = cpu;
}

static void fake_free(struct fake_cpu *f)
{
	free(f->ctrl);
	free(f->data);
}

static void fake_publish(struct fake_cpu *f)
{
	__atomic_store_n(&f->ctrl->head, f->head, __ATOMIC_RELEASE);
}

/* Fills the rest of the area with a PAD whose body stays garbage. */
static void fake_pad(struct fake_cpu *f)
{
	uint64_t off = f->head & (f->size - 1);
	uint16_t room = (uint16_t)(f->size - off);
	uint16_t type = PERSECMON_REC_PAD;

	memcpy(f->data + off, &room, 2);
	memcpy(f->data + off + 2, &type, 2);
	f->head += room;
}

/* Reserves like the kernel: PAD if it does not fit before the end. */
static struct persecmon_record *fake_reserve(struct fake_cpu *f,
					     uint16_t type, uint16_t size)
{
	uint64_t room = f->size - (f->head & (f->size - 1));
	uint64_t pad = room < size ? room : 0;
	struct persecmon_record *rec;

	/* The PAD too may only cover bytes the reader is done with. */
	if (f->head + pad + size - __atomic_load_n(&f->ctrl->tail, __ATOMIC_ACQUIRE) >
	    f->size)
		return NULL;
	if (pad)
		fake_pad(f);
	rec = (void *)(f->data + (f->head & (f->size - 1)));
	memset(rec, 0, size);
	rec->size = size;
	rec->type = type;
	rec->cpu = (uint16_t)f->cpu;
	rec->seq = f->seq++;
	f->head += size;
	return rec;
}

static void fake_event(struct fake_cpu *f, uint64_t time_ns, uint64_t tag)
{
	struct persecmon_record *rec = fake_reserve(f, EV_TYPE, EV_SIZE);

	assert_non_null(rec);
	rec->time_ns = time_ns;
	memcpy(rec + 1, &tag, sizeof(tag));
}

static uint64_t tag_of(const struct persecmon_record *rec)
{
	uint64_t tag;

	memcpy(&tag, rec + 1, sizeof(tag));
	return tag;
}

#define MAX_SEEN	4096

struct collector {
	unsigned int n;
	uint64_t tags[MAX_SEEN];
	unsigned int cpus[MAX_SEEN];
	uint64_t times[MAX_SEEN];
	unsigned int stop_after;	/* return 1 after this many, 0 = never */
	int fail_with;			/* return this on the first record */
	unsigned int corrupt;
	char last_corrupt[200];
	/* Called from inside the round, to write behind its back. */
	void (*during)(struct collector *c);
	struct fake_cpu *side;
};

static int collect(void *ctx, const struct pm_ring_view *ring,
		   const struct persecmon_record *rec)
{
	struct collector *c = ctx;

	assert_true(c->n < MAX_SEEN);
	assert_int_equal(ring->cpu, rec->cpu);
	c->tags[c->n] = rec->type == EV_TYPE ? tag_of(rec) : 0;
	c->cpus[c->n] = ring->cpu;
	c->times[c->n] = rec->time_ns;
	c->n++;
	if (c->during) {
		c->during(c);
		c->during = NULL;
	}
	if (c->fail_with)
		return c->fail_with;
	return c->stop_after && c->n >= c->stop_after ? 1 : 0;
}

static void note_corrupt(void *ctx, const struct pm_ring_view *ring,
			 uint64_t pos, const char *why)
{
	struct collector *c = ctx;

	(void)ring;
	(void)pos;
	c->corrupt++;
	snprintf(c->last_corrupt, sizeof(c->last_corrupt), "%s", why);
}

static const struct pm_consume_ops ops = {
	.record = collect,
	.corrupt = note_corrupt,
};

/* Views over @n fake CPUs plus the merge scratch. */
struct setup {
	struct fake_cpu cpu[4];
	struct pm_ring_view view[4];
	struct pm_merge merge;
	unsigned int n;
};

static void setup_views(struct setup *s, unsigned int n, uint64_t size)
{
	struct pm_error err;
	unsigned int i;

	s->n = n;
	for (i = 0; i < n; i++) {
		/* Sparse ids, as possible CPUs may be. */
		fake_init(&s->cpu[i], i * 2, size);
		assert_int_equal(pm_ring_view_init(&s->view[i], s->cpu[i].ctrl,
						   s->cpu[i].data, size,
						   i * 2, &err), 0);
	}
	assert_int_equal(pm_merge_init(&s->merge, n), 0);
}

static void teardown_views(struct setup *s)
{
	unsigned int i;

	for (i = 0; i < s->n; i++)
		fake_free(&s->cpu[i]);
	pm_merge_free(&s->merge);
}

static long do_round(struct setup *s, struct collector *c)
{
	return pm_merge_round(&s->merge, s->view, s->n, &ops, c);
}

static void check_merge_orders_across_cpus(void **state)
{
	static const uint64_t want[] = { 1, 4, 7, 2, 5, 8, 3, 6, 10, 11, 9 };
	struct collector *c = calloc(1, sizeof(*c));
	struct setup s;
	unsigned int i;

	(void)state;
	setup_views(&s, 3, SMALL_AREA);
	fake_event(&s.cpu[0], 10, 1);
	fake_event(&s.cpu[0], 40, 2);
	fake_event(&s.cpu[0], 70, 3);
	fake_event(&s.cpu[0], 90, 10);	/* tie with CPU 4: lower CPU first */
	fake_event(&s.cpu[1], 20, 4);
	fake_event(&s.cpu[1], 50, 5);
	fake_event(&s.cpu[1], 80, 6);
	fake_event(&s.cpu[2], 30, 7);
	fake_event(&s.cpu[2], 60, 8);
	fake_event(&s.cpu[2], 90, 11);
	fake_event(&s.cpu[2], 95, 9);
	for (i = 0; i < 3; i++)
		fake_publish(&s.cpu[i]);

	assert_int_equal(do_round(&s, c), 11);
	assert_int_equal(c->n, 11);
	for (i = 0; i < 11; i++)
		assert_int_equal(c->tags[i], want[i]);
	/* Everything consumed is handed back to the writer. */
	for (i = 0; i < 3; i++) {
		assert_int_equal(s.cpu[i].ctrl->tail, s.cpu[i].head);
		assert_int_equal(s.view[i].records, i == 1 ? 3 : 4);
	}
	/* Nothing new: an empty round. */
	assert_int_equal(do_round(&s, c), 0);
	teardown_views(&s);
	free(c);
}

static void check_merge_keeps_buffer_order(void **state)
{
	static const uint64_t want[] = { 1, 4, 5, 2, 3 };
	struct collector *c = calloc(1, sizeof(*c));
	struct setup s;
	unsigned int i;

	(void)state;
	setup_views(&s, 2, SMALL_AREA);
	/* A nested writer made CPU 0's clock step back from 50 to 30. */
	fake_event(&s.cpu[0], 10, 1);
	fake_event(&s.cpu[0], 50, 2);
	fake_event(&s.cpu[0], 30, 3);
	fake_event(&s.cpu[1], 20, 4);
	fake_event(&s.cpu[1], 40, 5);
	fake_publish(&s.cpu[0]);
	fake_publish(&s.cpu[1]);
	assert_int_equal(do_round(&s, c), 5);
	for (i = 0; i < 5; i++)
		assert_int_equal(c->tags[i], want[i]);
	teardown_views(&s);
	free(c);
}

/* Writes an early record on CPU 2 while the round is under way. */
static void write_behind(struct collector *c)
{
	fake_event(c->side, 1, 99);
	fake_publish(c->side);
}

static void check_round_uses_one_snapshot(void **state)
{
	struct collector *c = calloc(1, sizeof(*c));
	struct setup s;

	(void)state;
	setup_views(&s, 2, SMALL_AREA);
	fake_event(&s.cpu[0], 10, 1);
	fake_event(&s.cpu[0], 30, 2);
	fake_event(&s.cpu[1], 20, 3);
	fake_publish(&s.cpu[0]);
	fake_publish(&s.cpu[1]);
	c->during = write_behind;
	c->side = &s.cpu[1];
	/*
	 * CPU 2 ran out of records of this round after tag 3, so tag 2 goes
	 * out although a record with an earlier time arrived meanwhile: the
	 * documented cross-round inversion.
	 */
	assert_int_equal(do_round(&s, c), 3);
	assert_int_equal(c->tags[0], 1);
	assert_int_equal(c->tags[1], 3);
	assert_int_equal(c->tags[2], 2);
	assert_int_equal(do_round(&s, c), 1);
	assert_int_equal(c->tags[3], 99);
	teardown_views(&s);
	free(c);
}

static void check_pad_at_wrap(void **state)
{
	struct collector *c = calloc(1, sizeof(*c));
	struct setup s;
	unsigned int i, k = 0;

	(void)state;
	setup_views(&s, 1, SMALL_AREA);
	/* 170 records of 48 bytes leave 8192 - 8160 = 32 bytes at the end. */
	for (i = 0; i < 170; i++)
		fake_event(&s.cpu[0], i, k++);
	fake_publish(&s.cpu[0]);
	assert_int_equal(do_round(&s, c), 170);
	/* The next one does not fit: a 32-byte PAD, then offset 0. */
	fake_event(&s.cpu[0], 1000, k++);
	fake_event(&s.cpu[0], 1001, k++);
	fake_publish(&s.cpu[0]);
	assert_int_equal(do_round(&s, c), 2);
	assert_int_equal(c->tags[170], 170);
	assert_int_equal(c->tags[171], 171);
	assert_int_equal(s.view[0].pad_records, 1);
	assert_int_equal(s.cpu[0].ctrl->tail, s.cpu[0].head);
	assert_int_equal(s.view[0].bytes, s.cpu[0].head);
	assert_int_equal(s.view[0].corrupt_events, 0);
	teardown_views(&s);
	free(c);
}

static void fake_sized_event(struct fake_cpu *f, uint16_t size,
			     uint64_t time_ns, uint64_t tag)
{
	struct persecmon_record *rec = fake_reserve(f, EV_TYPE, size);

	assert_non_null(rec);
	rec->time_ns = time_ns;
	memcpy(rec + 1, &tag, sizeof(tag));
}

static void check_tiny_pad_at_wrap(void **state)
{
	struct collector *c = calloc(1, sizeof(*c));
	struct setup s;
	unsigned int i;

	(void)state;
	setup_views(&s, 1, SMALL_AREA);
	/* 169 * 48 + 72 = 8184: the end of the area keeps only 8 bytes. */
	for (i = 0; i < 169; i++)
		fake_event(&s.cpu[0], i, i);
	fake_sized_event(&s.cpu[0], 72, 169, 169);
	fake_publish(&s.cpu[0]);
	assert_int_equal(do_round(&s, c), 170);
	fake_event(&s.cpu[0], 500, 170);
	fake_publish(&s.cpu[0]);
	assert_int_equal(s.cpu[0].head, 8192 + 48);
	assert_int_equal(do_round(&s, c), 1);
	assert_int_equal(c->tags[170], 170);
	assert_int_equal(s.view[0].pad_records, 1);
	assert_int_equal(s.view[0].corrupt_events, 0);
	assert_int_equal(s.cpu[0].ctrl->tail, 8192 + 48);
	teardown_views(&s);
	free(c);
}

static void check_many_wraps_with_random_sizes(void **state)
{
	struct collector *c = calloc(1, sizeof(*c));
	uint64_t seed = 12345, k = 0, seen = 0;
	struct setup s;
	unsigned int r;

	(void)state;
	setup_views(&s, 2, SMALL_AREA);
	for (r = 0; r < 200; r++) {
		unsigned int i, n = 1 + (unsigned int)(seed % 60);

		for (i = 0; i < n; i++) {
			struct fake_cpu *f = &s.cpu[(seed >> 7) & 1];
			uint16_t size;

			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			size = (uint16_t)(48 + 8 * ((seed >> 33) % 40));
			if (f->head + size + 512 - f->ctrl->tail > f->size)
				break;
			fake_sized_event(f, size, k, k);
			k++;
		}
		fake_publish(&s.cpu[0]);
		fake_publish(&s.cpu[1]);
		c->n = 0;
		seen += (uint64_t)do_round(&s, c);
		for (i = 1; i < c->n; i++)
			assert_true(c->times[i - 1] <= c->times[i]);
	}
	assert_int_equal(seen, k);
	assert_true(s.view[0].pad_records + s.view[1].pad_records > 10);
	assert_int_equal(s.view[0].corrupt_events + s.view[1].corrupt_events, 0);
	teardown_views(&s);
	free(c);
}

static void check_zero_size_record_skipped(void **state)
{
	struct collector *c = calloc(1, sizeof(*c));
	struct persecmon_record *bad;
	struct setup s;

	(void)state;
	setup_views(&s, 2, SMALL_AREA);
	fake_event(&s.cpu[0], 10, 1);
	fake_event(&s.cpu[0], 20, 2);
	bad = fake_reserve(&s.cpu[0], EV_TYPE, EV_SIZE);
	bad->time_ns = 30;
	fake_event(&s.cpu[0], 40, 3);
	fake_event(&s.cpu[1], 15, 4);
	fake_publish(&s.cpu[0]);
	fake_publish(&s.cpu[1]);
	bad->size = 0;
	assert_int_equal(do_round(&s, c), 3);
	assert_int_equal(c->tags[0], 1);
	assert_int_equal(c->tags[1], 4);
	assert_int_equal(c->tags[2], 2);
	assert_int_equal(c->corrupt, 1);
	assert_non_null(strstr(c->last_corrupt, "record size is 0"));
	/* Nothing after the bad record can be trusted: skipped, counted. */
	assert_int_equal(s.view[0].corrupt_bytes, 2 * EV_SIZE);
	assert_int_equal(s.cpu[0].ctrl->tail, s.cpu[0].head);
	/* And the buffer works on. */
	fake_event(&s.cpu[0], 50, 5);
	fake_publish(&s.cpu[0]);
	assert_int_equal(do_round(&s, c), 1);
	assert_int_equal(c->tags[3], 5);
	teardown_views(&s);
	free(c);
}

static void check_malformed_sizes_skipped(void **state)
{
	struct collector *c = calloc(1, sizeof(*c));
	struct persecmon_record *bad;
	struct setup s;
	unsigned int i;

	(void)state;
	setup_views(&s, 1, SMALL_AREA);
	/* Size not a multiple of 8. */
	fake_event(&s.cpu[0], 10, 1);
	bad = fake_reserve(&s.cpu[0], EV_TYPE, EV_SIZE);
	fake_publish(&s.cpu[0]);
	bad->size = EV_SIZE + 4;
	assert_int_equal(do_round(&s, c), 1);
	assert_int_equal(c->corrupt, 1);
	assert_non_null(strstr(c->last_corrupt, "multiple of 8"));

	/* Size beyond the published head. */
	bad = fake_reserve(&s.cpu[0], EV_TYPE, EV_SIZE);
	fake_publish(&s.cpu[0]);
	bad->size = EV_SIZE + 64;
	assert_int_equal(do_round(&s, c), 0);
	assert_int_equal(c->corrupt, 2);
	assert_non_null(strstr(c->last_corrupt, "beyond"));

	/* A record running past the end of the area instead of a PAD. */
	while ((s.cpu[0].head & (SMALL_AREA - 1)) + EV_SIZE <= SMALL_AREA - EV_SIZE) {
		fake_event(&s.cpu[0], 20, 2);
		fake_publish(&s.cpu[0]);
		assert_int_equal(do_round(&s, c), 1);
	}
	bad = (void *)(s.cpu[0].data + (s.cpu[0].head & (SMALL_AREA - 1)));
	memset(bad, 0, EV_SIZE);
	bad->type = EV_TYPE;
	bad->size = 2 * EV_SIZE + 16;
	s.cpu[0].head += SMALL_AREA - (s.cpu[0].head & (SMALL_AREA - 1));
	fake_publish(&s.cpu[0]);
	i = c->corrupt;
	assert_int_equal(do_round(&s, c), 0);
	assert_int_equal(c->corrupt, i + 1);
	assert_non_null(strstr(c->last_corrupt, "beyond"));
	assert_int_equal(s.cpu[0].ctrl->tail, s.cpu[0].head);
	teardown_views(&s);
	free(c);
}

static void check_impossible_heads(void **state)
{
	struct collector *c = calloc(1, sizeof(*c));
	struct setup s;

	(void)state;
	setup_views(&s, 1, SMALL_AREA);
	fake_event(&s.cpu[0], 10, 1);
	fake_publish(&s.cpu[0]);
	assert_int_equal(do_round(&s, c), 1);

	/* More than one area ahead: the unread bytes were overwritten. */
	s.cpu[0].head += SMALL_AREA + 8;
	fake_publish(&s.cpu[0]);
	assert_int_equal(do_round(&s, c), 0);
	assert_int_equal(c->corrupt, 1);
	assert_int_equal(s.view[0].corrupt_bytes, SMALL_AREA + 8);
	assert_int_equal(s.view[0].tail, s.cpu[0].head);

	/* Behind the tail: ignored, nothing moves. */
	__atomic_store_n(&s.cpu[0].ctrl->head, s.cpu[0].head - 48,
			 __ATOMIC_RELEASE);
	assert_int_equal(do_round(&s, c), 0);
	assert_int_equal(c->corrupt, 2);
	assert_int_equal(s.view[0].tail, s.cpu[0].head);

	/* Unaligned. */
	__atomic_store_n(&s.cpu[0].ctrl->head, s.cpu[0].head + 4,
			 __ATOMIC_RELEASE);
	assert_int_equal(do_round(&s, c), 0);
	assert_int_equal(c->corrupt, 3);
	teardown_views(&s);
	free(c);
}

static void check_stop_mid_round(void **state)
{
	struct collector *c = calloc(1, sizeof(*c));
	struct setup s;

	(void)state;
	setup_views(&s, 2, SMALL_AREA);
	fake_event(&s.cpu[0], 10, 1);
	fake_event(&s.cpu[0], 30, 2);
	fake_event(&s.cpu[1], 20, 3);
	fake_event(&s.cpu[1], 40, 4);
	fake_publish(&s.cpu[0]);
	fake_publish(&s.cpu[1]);
	c->stop_after = 2;
	assert_int_equal(do_round(&s, c), 2);
	/* Each tail is on the boundary after what was handed out. */
	assert_int_equal(s.cpu[0].ctrl->tail, EV_SIZE);
	assert_int_equal(s.cpu[1].ctrl->tail, EV_SIZE);
	c->stop_after = 0;
	assert_int_equal(do_round(&s, c), 2);
	assert_int_equal(c->tags[2], 2);
	assert_int_equal(c->tags[3], 4);

	fake_event(&s.cpu[1], 50, 5);
	fake_publish(&s.cpu[1]);
	c->fail_with = -EIO;
	assert_int_equal(do_round(&s, c), -EIO);
	/* The failing record was consumed nonetheless. */
	assert_int_equal(s.cpu[1].ctrl->tail, s.cpu[1].head);
	teardown_views(&s);
	free(c);
}

static void check_view_init_checks_abi(void **state)
{
	struct pm_ring_view v;
	struct pm_error err;
	struct fake_cpu f;

	(void)state;
	fake_init(&f, 3, SMALL_AREA);
	assert_int_equal(pm_ring_view_init(&v, f.ctrl, f.data, SMALL_AREA, 3,
					   &err), 0);
	assert_int_equal(pm_ring_view_init(&v, f.ctrl, f.data, SMALL_AREA, 2,
					   &err), -EPROTO);
	assert_int_equal(err.kind, PM_ERR_ABI);
	assert_int_equal(pm_ring_view_init(&v, f.ctrl, f.data, 2 * SMALL_AREA,
					   3, &err), -EPROTO);
	assert_int_equal(pm_ring_view_init(&v, f.ctrl, f.data, 12288, 3, &err),
			 -EPROTO);
	f.ctrl->version = PERSECMON_ABI_MAJOR + 1;
	assert_int_equal(pm_ring_view_init(&v, f.ctrl, f.data, SMALL_AREA, 3,
					   &err), -EPROTO);
	assert_non_null(strstr(err.msg, "ABI version 2"));
	f.ctrl->version = PERSECMON_ABI_MAJOR;
	/* A session that was read before: start where the reader left off. */
	f.ctrl->tail = 96;
	assert_int_equal(pm_ring_view_init(&v, f.ctrl, f.data, SMALL_AREA, 3,
					   &err), 0);
	assert_int_equal(v.tail, 96);
	fake_free(&f);
}

/*
 * A producer thread writes through the protocol into two CPUs while the
 * test thread reads rounds. Checks every record arrives intact, each CPU
 * in order, and each round in time order. The TSan build checks that the
 * acquire/release pairs order the data.
 */
#define THREAD_RECORDS	100000

struct producer_arg {
	struct setup *s;
	uint64_t next_time;
	bool done;
};

static void *producer(void *p)
{
	struct producer_arg *a = p;
	uint64_t i;

	for (i = 0; i < 2 * THREAD_RECORDS; i++) {
		struct fake_cpu *f = &a->s->cpu[(i * 7 / 3) & 1];
		uint16_t size = (uint16_t)(48 + 8 * (i % 9));
		struct persecmon_record *rec;
		uint64_t j;

		while (!(rec = fake_reserve(f, EV_TYPE, size)))
			fake_publish(f);	/* full: wait for the reader */
		rec->time_ns = a->next_time++;
		for (j = 0; j < (size - 40u) / 8; j++) {
			uint64_t v = i * 1000 + j;

			memcpy((uint8_t *)(rec + 1) + 8 * j, &v, 8);
		}
		if (i % 5 == 0)
			fake_publish(f);
	}
	fake_publish(&a->s->cpu[0]);
	fake_publish(&a->s->cpu[1]);
	__atomic_store_n(&a->done, true, __ATOMIC_RELEASE);
	return NULL;
}

struct thread_check {
	uint64_t count;
	uint64_t last_tag[2];
	uint64_t round_last_time;
	bool round_started;
	uint64_t errors;
};

static int thread_collect(void *ctx, const struct pm_ring_view *ring,
			  const struct persecmon_record *rec)
{
	struct thread_check *t = ctx;
	unsigned int k = ring->cpu / 2;
	uint64_t tag = tag_of(rec), j;

	for (j = 0; j < (rec->size - 40u) / 8; j++) {
		uint64_t v;

		memcpy(&v, (const uint8_t *)(rec + 1) + 8 * j, 8);
		if (v != tag + j)
			t->errors++;
	}
	if (t->count && k < 2 && tag <= t->last_tag[k] && t->last_tag[k] != UINT64_MAX)
		t->errors++;
	if (t->round_started && rec->time_ns < t->round_last_time)
		t->errors++;
	t->round_started = true;
	t->round_last_time = rec->time_ns;
	t->last_tag[k] = tag;
	t->count++;
	return 0;
}

static void check_threaded_producer(void **state)
{
	const struct pm_consume_ops tops = { .record = thread_collect };
	struct thread_check t = { .last_tag = { UINT64_MAX, UINT64_MAX } };
	struct producer_arg a;
	struct setup s;
	pthread_t th;

	(void)state;
	setup_views(&s, 2, SMALL_AREA);
	a.s = &s;
	a.next_time = 1;
	a.done = false;
	assert_int_equal(pthread_create(&th, NULL, producer, &a), 0);
	while (t.count < 2 * THREAD_RECORDS) {
		bool done = __atomic_load_n(&a.done, __ATOMIC_ACQUIRE);
		long n;

		t.round_started = false;
		n = pm_merge_round(&s.merge, s.view, 2, &tops, &t);
		assert_true(n >= 0);
		/* Everything is published: a lost record must fail, not hang. */
		if (done && n == 0)
			break;
	}
	pthread_join(th, NULL);
	assert_int_equal(t.errors, 0);
	assert_int_equal(t.count, 2 * THREAD_RECORDS);
	assert_int_equal(s.view[0].records + s.view[1].records,
			 2 * THREAD_RECORDS);
	assert_int_equal(s.view[0].corrupt_events + s.view[1].corrupt_events, 0);
	teardown_views(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(check_merge_orders_across_cpus),
		cmocka_unit_test(check_merge_keeps_buffer_order),
		cmocka_unit_test(check_round_uses_one_snapshot),
		cmocka_unit_test(check_pad_at_wrap),
		cmocka_unit_test(check_tiny_pad_at_wrap),
		cmocka_unit_test(check_many_wraps_with_random_sizes),
		cmocka_unit_test(check_zero_size_record_skipped),
		cmocka_unit_test(check_malformed_sizes_skipped),
		cmocka_unit_test(check_impossible_heads),
		cmocka_unit_test(check_stop_mid_round),
		cmocka_unit_test(check_view_init_checks_abi),
		cmocka_unit_test(check_threaded_producer),
	};

	return cmocka_run_group_tests_name("lib_merge", tests, NULL, NULL);
}
