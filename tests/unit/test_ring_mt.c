// SPDX-License-Identifier: GPL-2.0
/*
 * One writer thread per simulated CPU, each with its own ring, and one
 * consumer thread per ring reading concurrently, either through the mmap
 * protocol of the uapi header (plus pm_ring_sync_tail(), as the kernel's
 * poll() would) or through pm_ring_consume() (the kernel's read()). Every
 * record's content and the accounting are checked exactly, with the
 * writers throttled so that nothing may drop, and with a slow consumer so
 * that much does. Also built with ThreadSanitizer.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>

#include "test_ring_common.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MT_RECORDS	40000
#else
#define MT_RECORDS	80000
#endif

enum read_mode { READ_MMAP, READ_CONSUME };

struct mt_ring {
	struct test_ring t;
	unsigned int cpu;
	enum read_mode mode;
	bool throttle;		/* writer waits for room: nothing may drop */
	unsigned int consumer_delay_us;
	u64 rnd_writer, rnd_reader;

	pthread_t writer, consumer;
	int writer_done;	/* atomic */
	int consumer_quit;	/* atomic */
	u64 written, dropped;	/* writer's view */
	struct stream_check sc;
	char err[256];
	unsigned int refusals;
};

static void *writer_main(void *arg)
{
	struct mt_ring *m = arg;
	struct persecmon_record *rec;
	u64 scratch[PERSECMON_RECORD_MAX / sizeof(u64)];
	u32 size;
	u64 i;

	for (i = 0; i < MT_RECORDS; i++) {
		size = test_rand_size(&m->rnd_writer, PERSECMON_RECORD_MAX);
		while (m->throttle && m->t.data_size - test_ring_unread(&m->t) <
		       TEST_WORST_RESERVE) {
			if (__atomic_load_n(&m->consumer_quit, __ATOMIC_ACQUIRE))
				goto out;
			sched_yield();
		}
		/* Events come in bursts; the consumer gets the CPU in between. */
		if (!m->throttle && test_rand(&m->rnd_writer) % 128 == 0)
			sched_yield();
		rec = pm_ring_reserve(&m->t.ring, TEST_TYPE(0), size);
		if (!rec) {
			/* An event costs its producer the same, kept or not. */
			rec = (void *)scratch;
			rec->size = size;
			test_fill(rec, test_tag(0, m->written));
			m->dropped++;
			continue;
		}
		test_fill(rec, test_tag(0, m->written++));
		pm_ring_commit(&m->t.ring, rec);
	}
out:
	__atomic_store_n(&m->writer_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static int mt_emit(void *p, const struct persecmon_record *rec)
{
	struct mt_ring *m = p;

	if (test_rand(&m->rnd_reader) % 64 == 0) {
		m->refusals++;
		return 1;
	}
	stream_check_record(&m->sc, rec);
	return 0;
}

/* One pass over what is published; false on a checker error. */
static bool mt_read_pass(struct mt_ring *m)
{
	u64 tail, budget;

	if (m->mode == READ_MMAP) {
		tail = m->t.ring.consumed;
		if (!test_mmap_read(&m->t, &tail, &m->sc))
			return false;
		pm_ring_sync_tail(&m->t.ring);
		if (m->t.ring.consumed != tail) {
			snprintf(m->err, sizeof(m->err),
				 "sync_tail did not adopt the tail %llu (%llu)",
				 (unsigned long long)tail,
				 (unsigned long long)m->t.ring.consumed);
			return false;
		}
	} else {
		budget = test_rand(&m->rnd_reader) % (4 * m->t.data_size);
		pm_ring_consume(&m->t.ring, budget, mt_emit, m);
	}
	return !m->sc.err[0];
}

static bool mt_drained(struct mt_ring *m)
{
	return m->t.ring.consumed ==
	       __atomic_load_n(&m->t.ring.published, __ATOMIC_ACQUIRE);
}

static void *consumer_main(void *arg)
{
	struct mt_ring *m = arg;
	u64 stuck = 0, last = 0;
	int done;

	for (;;) {
		done = __atomic_load_n(&m->writer_done, __ATOMIC_ACQUIRE);
		if (!mt_read_pass(m))
			break;
		if (done && mt_drained(m))
			break;
		/* A broken ring must fail the test, not hang it. */
		if (__atomic_load_n(&kshim_warnings, __ATOMIC_RELAXED)) {
			snprintf(m->err, sizeof(m->err), "the ring warned");
			break;
		}
		stuck = done && m->t.ring.consumed == last ? stuck + 1 : 0;
		last = m->t.ring.consumed;
		if (stuck > 100000) {
			snprintf(m->err, sizeof(m->err),
				 "cannot drain: consumed %llu, published %llu",
				 (unsigned long long)last,
				 (unsigned long long)m->t.ring.published);
			break;
		}
		if (m->consumer_delay_us)
			usleep(m->consumer_delay_us);
	}
	__atomic_store_n(&m->consumer_quit, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* The rings of the running test, freed by the teardown if it fails. */
static struct mt_ring *mt_rings;
static unsigned int mt_nr_rings;

static int teardown_rings(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; mt_rings && i < mt_nr_rings; i++)
		if (mt_rings[i].t.data)
			test_ring_close(&mt_rings[i].t);
	free(mt_rings);
	mt_rings = NULL;
	return 0;
}

static void run_rings(enum read_mode mode, bool throttle,
		      unsigned int delay_us, u64 ring_size)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned int n = ncpu > 2 ? (unsigned int)ncpu : 2, i;
	struct mt_ring *rings = calloc(n, sizeof(*rings));
	struct mt_ring *m;
	struct persecmon_record *rec;
	const char *why;
	u64 total_dropped = 0, refusals = 0;
	unsigned int flushed;

	assert_non_null(rings);
	mt_rings = rings;
	mt_nr_rings = n;
	kshim_warnings = 0;
	for (i = 0; i < n; i++) {
		m = &rings[i];
		m->cpu = i;
		m->mode = mode;
		m->throttle = throttle;
		m->consumer_delay_us = delay_us;
		m->rnd_writer = 0x1234567ULL * (i + 1);
		m->rnd_reader = 0x7654321ULL * (i + 1);
		assert_int_equal(test_ring_open(&m->t, ring_size, i), 0);
		stream_check_init(&m->sc, i, 0, 1ULL << TEST_TYPE(0));
	}
	for (i = 0; i < n; i++) {
		assert_int_equal(pthread_create(&rings[i].consumer, NULL,
						consumer_main, &rings[i]), 0);
		assert_int_equal(pthread_create(&rings[i].writer, NULL,
						writer_main, &rings[i]), 0);
	}
	for (i = 0; i < n; i++) {
		pthread_join(rings[i].writer, NULL);
		pthread_join(rings[i].consumer, NULL);
	}

	for (i = 0; i < n; i++) {
		m = &rings[i];
		if (m->err[0])
			fail_msg("ring %u: %s", i, m->err);
		if (m->sc.err[0])
			fail_msg("ring %u: %s", i, m->sc.err);
		/* The writers are gone: this thread is every ring's CPU now. */
		flushed = 0;
		if (local_read(&m->t.ring.lost_pending)) {
			flushed = 1;
			rec = pm_ring_reserve(&m->t.ring, TEST_TYPE(0), 64);
			assert_non_null(rec);
			test_fill(rec, test_tag(0, m->written++));
			pm_ring_commit(&m->t.ring, rec);
			m->mode = READ_MMAP;
			assert_true(mt_read_pass(m));
		}
		why = test_ring_final_check(&m->t, &m->sc, 0);
		if (why)
			fail_msg("ring %u: %s", i, why);
		assert_int_equal(m->sc.ctx_records[0], m->written);
		assert_int_equal(local_read(&m->t.ring.dropped), m->dropped);
		assert_int_equal(m->written + m->dropped, MT_RECORDS + flushed);
		total_dropped += m->dropped;
		refusals += m->refusals;
		print_message("# ring %u: %llu records, %llu dropped in %llu LOST records, %u PADs\n",
			      i, (unsigned long long)m->sc.records,
			      (unsigned long long)m->dropped,
			      (unsigned long long)m->sc.lost_records,
			      (unsigned int)m->sc.pads);
	}
	if (throttle)
		assert_int_equal(total_dropped, 0);
	else
		assert_true(total_dropped > 0);
	if (mode == READ_CONSUME)
		assert_true(refusals > 0);
	assert_int_equal(kshim_warnings, 0);
}

static void test_mt_mmap_no_overflow(void **state)
{
	(void)state;
	run_rings(READ_MMAP, true, 0, 65536);
}

static void test_mt_mmap_overflow(void **state)
{
	(void)state;
	run_rings(READ_MMAP, false, 0, 16384);
}

static void test_mt_read_no_overflow(void **state)
{
	(void)state;
	run_rings(READ_CONSUME, true, 0, 65536);
}

static void test_mt_read_overflow(void **state)
{
	(void)state;
	run_rings(READ_CONSUME, false, 0, 16384);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_mt_mmap_no_overflow, teardown_rings),
		cmocka_unit_test_teardown(test_mt_mmap_overflow, teardown_rings),
		cmocka_unit_test_teardown(test_mt_read_no_overflow, teardown_rings),
		cmocka_unit_test_teardown(test_mt_read_overflow, teardown_rings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
