// SPDX-License-Identifier: GPL-2.0
/*
 * libpersecmon's reader against the module's own writer: module/core/ring.c
 * built in userspace through kshim. Records are written with
 * pm_ring_reserve()/pm_ring_commit(), read with the mmap protocol
 * (pm_merge_round) and handed back with pm_ring_sync_tail(), which is what
 * the module's poll() does. The verifier must find the accounting exact:
 * every drop announced (or still pending), every seq covered, every test
 * event intact.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "ring.h"

#include "persecmon/consume.h"
#include "persecmon/verify.h"

#define NR_CPUS		2
#define AREA		PM_RING_MIN_DATA_SIZE
#define PAGE		4096

struct kcpu {
	struct pm_ring ring;
	struct persecmon_ring_ctrl *ctrl;
	uint8_t *data;
	uint32_t next_index[PERSECMON_CTX_MAX + 1];
	uint64_t attempts;
	uint64_t rand;
};

struct world {
	struct kcpu cpu[NR_CPUS];
	struct pm_ring_view view[NR_CPUS];
	struct pm_merge merge;
	struct pm_verifier verifier;
	uint64_t clock;
	uint64_t run_id;
	uint64_t lost_records[NR_CPUS];
	unsigned int reports;
	char last_report[256];
};

static void on_report(void *ctx, const char *msg)
{
	struct world *w = ctx;

	w->reports++;
	snprintf(w->last_report, sizeof(w->last_report), "%s", msg);
	fprintf(stderr, "# violation: %s\n", msg);
}

static struct world *world_new(void)
{
	struct world *w = calloc(1, sizeof(*w));
	struct pm_error err;
	unsigned int c;

	assert_non_null(w);
	for (c = 0; c < NR_CPUS; c++) {
		struct kcpu *k = &w->cpu[c];

		k->ctrl = aligned_alloc(PAGE, PAGE);
		k->data = aligned_alloc(PAGE, AREA);
		assert_non_null(k->ctrl);
		assert_non_null(k->data);
		memset(k->ctrl, 0, PAGE);
		memset(k->data, 0x5a, AREA);
		k->rand = 0x1234567 + c;
		assert_int_equal(pm_ring_init(&k->ring, k->ctrl, k->data, AREA,
					      c), 0);
		assert_int_equal(pm_ring_view_init(&w->view[c], k->ctrl,
						   k->data, AREA, c, &err), 0);
	}
	assert_int_equal(pm_merge_init(&w->merge, NR_CPUS), 0);
	assert_int_equal(pm_verifier_init(&w->verifier, NR_CPUS, 0, on_report,
					  w), 0);
	w->run_id = 0x77;
	return w;
}

static void world_free(struct world *w)
{
	unsigned int c;

	for (c = 0; c < NR_CPUS; c++) {
		free(w->cpu[c].ctrl);
		free(w->cpu[c].data);
	}
	pm_merge_free(&w->merge);
	pm_verifier_free(&w->verifier);
	free(w);
}

static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* A test event as probes/test.c writes it; false if it was dropped. */
static bool emit(struct kcpu *k, uint64_t run_id, uint8_t ctx, uint16_t fill,
		 uint64_t time_ns, struct persecmon_record **keep)
{
	struct persecmon_test_event *ev;
	struct persecmon_record *rec;
	uint32_t index = k->next_index[ctx]++;
	uint16_t i;

	k->attempts++;
	rec = pm_ring_reserve(&k->ring, PERSECMON_EV_TEST, sizeof(*ev) + fill);
	if (!rec)
		return false;
	ev = (void *)rec;
	rec->time_ns = time_ns;
	ev->run_id = run_id;
	ev->index = index;
	ev->context = ctx;
	ev->fill_len = fill;
	ev->check = persecmon_test_check(run_id, index, ctx, rec->cpu, fill);
	for (i = 0; i < fill; i++)
		ev->fill[i] = (uint8_t)((index + i) & 0xff);
	if (keep) {
		*keep = rec;	/* the caller commits */
		return true;
	}
	pm_ring_commit(&k->ring, rec);
	return true;
}

static int feed(void *ctx, const struct pm_ring_view *ring,
		const struct persecmon_record *rec)
{
	struct world *w = ctx;

	pm_verifier_record(&w->verifier, ring->cpu, rec);
	if (rec->type == PERSECMON_REC_LOST)
		w->lost_records[ring->cpu]++;
	return 0;
}

static void corrupt(void *ctx, const struct pm_ring_view *ring, uint64_t pos,
		    const char *why)
{
	struct world *w = ctx;

	(void)pos;
	w->reports++;
	fprintf(stderr, "# corrupt data on cpu %u: %s\n", ring->cpu, why);
}

static const struct pm_consume_ops ops = { .record = feed, .corrupt = corrupt };

/* One read as persecmon-read does it: a round, then poll()'s tail sync. */
static long read_round(struct world *w)
{
	long n = pm_merge_round(&w->merge, w->view, NR_CPUS, &ops, w);
	unsigned int c;

	for (c = 0; c < NR_CPUS; c++)
		pm_ring_sync_tail(&w->cpu[c].ring);
	return n;
}

/* Everything the kernel counted agrees with what the reader saw. */
static void final_checks(struct world *w)
{
	uint64_t pending[NR_CPUS];
	unsigned int c;

	while (read_round(w) > 0)
		;
	for (c = 0; c < NR_CPUS; c++) {
		struct kcpu *k = &w->cpu[c];
		uint64_t written = (uint64_t)local_read(&k->ring.written);
		uint64_t dropped = (uint64_t)local_read(&k->ring.dropped);
		uint64_t reported = (uint64_t)local_read(&k->ring.lost_reported);

		pending[c] = dropped - reported;
		/* Nothing written was missed, nothing unwritten was seen. */
		assert_int_equal(w->view[c].records, written);
		assert_int_equal(w->verifier.cpu[c].records, written);
		assert_int_equal(w->verifier.cpu[c].lost, reported);
		/* The kernel adopted every tail the reader published. */
		assert_int_equal(k->ring.consumed, k->ctrl->tail);
		assert_int_equal(k->ring.consumed, k->ctrl->head);
		assert_int_equal(w->view[c].corrupt_events, 0);
		/* Every attempt was written or dropped; LOST records add theirs. */
		assert_int_equal(pm_ring_produced(&k->ring),
				 k->attempts + w->lost_records[c]);
	}
	assert_int_equal(pm_verifier_finish(&w->verifier, pending), 0);
	assert_int_equal(w->reports, 0);
}

static void check_overflow_accounting(void **state)
{
	struct world *w = world_new();
	unsigned int c, burst, i;
	uint64_t lost_total = 0;

	(void)state;
	for (burst = 0; burst < 20; burst++) {
		/* Far more than fits: most are dropped, then announced. */
		for (i = 0; i < 600; i++)
			for (c = 0; c < NR_CPUS; c++)
				emit(&w->cpu[c], w->run_id, PERSECMON_CTX_TASK,
				     (uint16_t)(i % 97), ++w->clock, NULL);
		read_round(w);
	}
	final_checks(w);
	for (c = 0; c < NR_CPUS; c++) {
		lost_total += w->verifier.cpu[c].lost;
		/*
		 * Only test events were dropped: every announced drop is an
		 * index gap before the last event read, and the pending ones
		 * are the attempts after it.
		 */
		assert_int_equal(w->verifier.cpu[c].test_missing,
				 w->verifier.cpu[c].lost);
		assert_int_equal(w->cpu[c].attempts,
				 w->verifier.cpu[c].records -
				 w->lost_records[c] + w->verifier.cpu[c].lost +
				 (uint64_t)local_read(&w->cpu[c].ring.lost_pending));
	}
	assert_true(lost_total > 1000);
	assert_true(w->verifier.test_intact > 1000);
	world_free(w);
}

static void check_nested_writer(void **state)
{
	struct world *w = world_new();
	struct persecmon_record *outer = NULL;
	const struct persecmon_test_event *first;

	(void)state;
	/* A hardirq writer interrupts a task writer between reserve and commit. */
	assert_true(emit(&w->cpu[0], 1, PERSECMON_CTX_TASK, 8, 100, &outer));
	assert_true(emit(&w->cpu[0], 1, PERSECMON_CTX_HARDIRQ, 8, 50, NULL));
	/* Nothing is visible until the outermost writer commits. */
	assert_int_equal(read_round(w), 0);
	pm_ring_commit(&w->cpu[0].ring, outer);
	first = (const void *)(w->cpu[0].data);
	assert_int_equal(first->context, PERSECMON_CTX_TASK);
	assert_int_equal(read_round(w), 2);
	final_checks(w);
	world_free(w);
}

static void check_random_sizes_many_wraps(void **state)
{
	struct world *w = world_new();
	unsigned int round_no, c;
	uint64_t pads = 0;

	(void)state;
	for (round_no = 0; round_no < 3000; round_no++) {
		for (c = 0; c < NR_CPUS; c++) {
			struct kcpu *k = &w->cpu[c];
			uint64_t r = next_rand(&k->rand);
			unsigned int n = (unsigned int)(r % 8), i;

			for (i = 0; i < n; i++) {
				uint16_t fill = (uint16_t)(next_rand(&k->rand) %
							   ((r & 64) ? 4032 : 300));
				uint8_t ctx = (uint8_t)(next_rand(&k->rand) % 4);

				emit(k, w->run_id, ctx, fill, ++w->clock, NULL);
			}
		}
		/* Read only now and then, so the areas fill and wrap. */
		if (next_rand(&w->cpu[0].rand) % 3 == 0)
			read_round(w);
	}
	final_checks(w);
	for (c = 0; c < NR_CPUS; c++)
		pads += w->view[c].pad_records;
	assert_true(pads > 50);
	world_free(w);
}

/*
 * Writers on their own threads (one per CPU, as the kernel's writers are
 * CPU-local), the reader on the test thread. Under TSan this checks the
 * whole acquire/release chain: writer publish -> reader round -> tail ->
 * pm_ring_sync_tail -> writer reuse.
 */
#define THREAD_EVENTS	60000

struct writer_arg {
	struct world *w;
	unsigned int cpu;
	bool done;
};

static void *writer(void *p)
{
	struct writer_arg *a = p;
	struct kcpu *k = &a->w->cpu[a->cpu];
	unsigned int i;

	for (i = 0; i < THREAD_EVENTS; i++) {
		uint16_t fill = (uint16_t)(next_rand(&k->rand) % 600);

		if (emit(k, a->w->run_id, PERSECMON_CTX_TASK, fill,
			 ktime_get_mono_fast_ns(), NULL))
			continue;
		/* Dropped: back off until the reader has caught up halfway. */
		while (k->ring.published -
		       __atomic_load_n(&k->ring.consumed, __ATOMIC_ACQUIRE) >
		       AREA / 2)
			sched_yield();
	}
	__atomic_store_n(&a->done, true, __ATOMIC_RELEASE);
	return NULL;
}

static void check_concurrent_writers(void **state)
{
	struct world *w = world_new();
	struct writer_arg args[NR_CPUS];
	pthread_t th[NR_CPUS];
	unsigned int c, done;

	(void)state;
	for (c = 0; c < NR_CPUS; c++) {
		args[c] = (struct writer_arg){ .w = w, .cpu = c };
		assert_int_equal(pthread_create(&th[c], NULL, writer, &args[c]), 0);
	}
	do {
		read_round(w);
		for (done = 0, c = 0; c < NR_CPUS; c++)
			done += __atomic_load_n(&args[c].done, __ATOMIC_ACQUIRE);
	} while (done < NR_CPUS);
	for (c = 0; c < NR_CPUS; c++)
		pthread_join(th[c], NULL);
	final_checks(w);
	/* Back-off keeps drops rare: most events must have arrived. */
	assert_true(w->verifier.test_intact > THREAD_EVENTS);
	assert_true(w->verifier.cpu[0].lost + w->verifier.cpu[1].lost > 0);
	world_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(check_overflow_accounting),
		cmocka_unit_test(check_nested_writer),
		cmocka_unit_test(check_random_sizes_many_wraps),
		cmocka_unit_test(check_concurrent_writers),
	};

	return cmocka_run_group_tests_name("lib_kring", tests, NULL, NULL);
}
