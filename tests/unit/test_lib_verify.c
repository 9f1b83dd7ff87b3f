// SPDX-License-Identifier: GPL-2.0
/*
 * libpersecmon verify: test-event integrity and per-CPU sequence
 * accounting, fed with synthetic streams. Each violation kind has a stream
 * that must trip it and a near-identical legal stream that must not.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "persecmon/verify.h"

#define ALIGN8(x)	(((x) + 7) & ~(size_t)7)
#define RUN		0xabcdefULL

static uint64_t scratch[PERSECMON_RECORD_MAX / 8];

struct reports {
	unsigned int n;
	char last[256];
};

static void on_report(void *ctx, const char *msg)
{
	struct reports *r = ctx;

	r->n++;
	snprintf(r->last, sizeof(r->last), "%s", msg);
}

static struct pm_verifier v;
static struct reports reports;

static int setup(void **state)
{
	(void)state;
	memset(&reports, 0, sizeof(reports));
	return pm_verifier_init(&v, 4, 0, on_report, &reports);
}

static int setup_expect(void **state)
{
	(void)state;
	memset(&reports, 0, sizeof(reports));
	return pm_verifier_init(&v, 4, 10, on_report, &reports);
}

static int teardown(void **state)
{
	(void)state;
	pm_verifier_free(&v);
	return 0;
}

static struct persecmon_test_event *test_event(unsigned int cpu, uint32_t seq,
					       uint32_t index, uint8_t ctx,
					       uint16_t fill_len)
{
	struct persecmon_test_event *ev = (void *)scratch;
	uint16_t i;

	memset(scratch, 0, sizeof(scratch));
	ev->hdr.size = (uint16_t)ALIGN8(sizeof(*ev) + fill_len);
	ev->hdr.type = PERSECMON_EV_TEST;
	ev->hdr.cpu = (uint16_t)cpu;
	ev->hdr.seq = seq;
	ev->run_id = RUN;
	ev->index = index;
	ev->context = ctx;
	ev->fill_len = fill_len;
	ev->check = persecmon_test_check(RUN, index, ctx, (uint16_t)cpu,
					 fill_len);
	for (i = 0; i < fill_len; i++)
		ev->fill[i] = (uint8_t)((index + i) & 0xff);
	return ev;
}

static void feed_test(unsigned int cpu, uint32_t seq, uint32_t index,
		      uint8_t ctx)
{
	pm_verifier_record(&v, cpu, &test_event(cpu, seq, index, ctx, 24)->hdr);
}

static void feed_lost(unsigned int cpu, uint32_t seq, uint64_t lost,
		      uint64_t mask, uint64_t total)
{
	struct persecmon_lost_record *l = (void *)scratch;

	memset(scratch, 0, sizeof(*l));
	l->hdr.size = sizeof(*l);
	l->hdr.type = PERSECMON_REC_LOST;
	l->hdr.cpu = (uint16_t)cpu;
	l->hdr.seq = seq;
	l->lost = lost;
	l->type_mask = mask;
	l->total_lost = total;
	pm_verifier_record(&v, cpu, &l->hdr);
}

static void feed_clock(unsigned int cpu, uint32_t seq)
{
	struct persecmon_clock_record *c = (void *)scratch;

	memset(scratch, 0, sizeof(*c));
	c->hdr.size = sizeof(*c);
	c->hdr.type = PERSECMON_REC_CLOCK;
	c->hdr.cpu = (uint16_t)cpu;
	c->hdr.seq = seq;
	pm_verifier_record(&v, cpu, &c->hdr);
}

#define TEST_BIT	(1ULL << PERSECMON_EV_TEST)

static void check_clean_stream(void **state)
{
	uint32_t i;

	(void)state;
	for (i = 0; i < 100; i++) {
		feed_test(0, i, i, PERSECMON_CTX_TASK);
		feed_test(3, 2 * i, i, PERSECMON_CTX_TASK);
		feed_test(3, 2 * i + 1, i, PERSECMON_CTX_NMI);
	}
	feed_clock(0, 100);
	assert_int_equal(pm_verifier_finish(&v, NULL), 0);
	assert_int_equal(v.test_events, 300);
	assert_int_equal(v.test_intact, 300);
	assert_int_equal(v.cpu[3].records, 200);
	assert_int_equal(v.cpu[0].deficit, 0);
	assert_int_equal(reports.n, 0);
}

static void check_corrupt_fill_byte(void **state)
{
	struct persecmon_test_event *ev;

	(void)state;
	feed_test(0, 0, 0, PERSECMON_CTX_TASK);
	ev = test_event(0, 1, 1, PERSECMON_CTX_TASK, 24);
	ev->fill[17] ^= 0x80;
	pm_verifier_record(&v, 0, &ev->hdr);
	feed_test(0, 2, 2, PERSECMON_CTX_TASK);
	/* One fault, one report: its index is not also counted missing. */
	assert_int_equal(pm_verifier_finish(&v, NULL), 1);
	assert_int_equal(v.test_intact, 2);
	assert_non_null(strstr(reports.last, "is corrupt: fill byte at offset 81"));
}

static void check_seq_gap_without_lost(void **state)
{
	(void)state;
	feed_test(1, 0, 0, PERSECMON_CTX_TASK);
	feed_test(1, 1, 1, PERSECMON_CTX_TASK);
	/* seq 2 and 3 and test index 2 and 3 vanish. */
	feed_test(1, 4, 4, PERSECMON_CTX_TASK);
	assert_int_equal(pm_verifier_finish(&v, NULL), 2);
	assert_int_equal(v.cpu[1].deficit, 2);
	assert_int_equal(v.cpu[1].test_missing, 2);
}

static void check_seq_gap_covered_by_lost(void **state)
{
	(void)state;
	feed_test(1, 0, 0, PERSECMON_CTX_TASK);
	feed_test(1, 1, 1, PERSECMON_CTX_TASK);
	/* seq 2..4 dropped (test events 2..4), announced at seq 5. */
	feed_lost(1, 5, 3, TEST_BIT, 3);
	feed_test(1, 6, 5, PERSECMON_CTX_TASK);
	feed_lost(1, 9, 2, TEST_BIT, 5);
	feed_test(1, 10, 8, PERSECMON_CTX_TASK);
	assert_int_equal(pm_verifier_finish(&v, NULL), 0);
	assert_int_equal(v.cpu[1].lost, 5);
	assert_int_equal(v.cpu[1].test_missing, 5);
	assert_int_equal(v.cpu[1].deficit, 0);
}

static void check_lost_of_other_types_does_not_cover_tests(void **state)
{
	(void)state;
	feed_test(1, 0, 0, PERSECMON_CTX_TASK);
	/* seq 1 lost, but it was a type-20 record, not a test event. */
	feed_lost(1, 2, 1, 1ULL << 20, 1);
	feed_test(1, 3, 2, PERSECMON_CTX_TASK);
	assert_int_equal(pm_verifier_finish(&v, NULL), 1);
	assert_non_null(strstr(reports.last, "1 test events missing"));
}

static void check_over_reported_loss(void **state)
{
	(void)state;
	feed_test(2, 0, 0, PERSECMON_CTX_TASK);
	feed_lost(2, 2, 5, TEST_BIT, 5);	/* only seq 1 is missing */
	feed_test(2, 3, 2, PERSECMON_CTX_TASK);
	assert_int_equal(pm_verifier_finish(&v, NULL), 1);
	assert_non_null(strstr(reports.last, "exceed the seq span"));
}

static void check_total_lost_mismatch(void **state)
{
	(void)state;
	feed_test(2, 0, 0, PERSECMON_CTX_TASK);
	feed_lost(2, 2, 1, TEST_BIT, 1);
	feed_test(2, 3, 2, PERSECMON_CTX_TASK);
	feed_lost(2, 5, 1, TEST_BIT, 3);	/* running total should be 2 */
	feed_test(2, 6, 4, PERSECMON_CTX_TASK);
	assert_int_equal(pm_verifier_finish(&v, NULL), 1);
	assert_non_null(strstr(reports.last, "total_lost 3"));
}

static void check_duplicate_seq(void **state)
{
	(void)state;
	feed_test(0, 0, 0, PERSECMON_CTX_TASK);
	feed_test(0, 1, 1, PERSECMON_CTX_TASK);
	feed_clock(0, 1);
	assert_int_equal(reports.n, 1);
	assert_non_null(strstr(reports.last, "seq 1 seen twice"));
}

static void check_nested_reorder_is_legal(void **state)
{
	(void)state;
	/* An interrupt's record (seq 2) committed before the outer one. */
	feed_test(0, 0, 0, PERSECMON_CTX_TASK);
	feed_test(0, 2, 0, PERSECMON_CTX_HARDIRQ);
	feed_test(0, 1, 1, PERSECMON_CTX_TASK);
	feed_test(0, 3, 2, PERSECMON_CTX_TASK);
	/* Even as the very first record of a CPU. */
	feed_test(1, 11, 0, PERSECMON_CTX_HARDIRQ);
	feed_test(1, 10, 0, PERSECMON_CTX_TASK);
	assert_int_equal(pm_verifier_finish(&v, NULL), 0);
	assert_int_equal(v.cpu[0].deficit, 0);
	assert_int_equal(v.cpu[1].deficit, 0);
}

static void check_far_out_of_order(void **state)
{
	uint32_t i;

	(void)state;
	for (i = 0; i < 100; i++)
		if (i != 5)
			feed_clock(0, i);
	feed_clock(0, 5);	/* 94 places late */
	assert_int_equal(reports.n, 1);
	assert_non_null(strstr(reports.last, "seq 5 arrived 94 places behind"));
}

static void check_seq_gap_across_wrap(void **state)
{
	(void)state;
	feed_test(0, 0xfffffffeU, 0, PERSECMON_CTX_TASK);
	feed_test(0, 0xffffffffU, 1, PERSECMON_CTX_TASK);
	/* seq 0 and 1 vanish along with test events 2 and 3. */
	feed_test(0, 2, 4, PERSECMON_CTX_TASK);
	assert_int_equal(pm_verifier_finish(&v, NULL), 2);
	assert_int_equal(v.cpu[0].deficit, 2);
	assert_non_null(strstr(reports.last, "2 records vanished without a LOST record"));
}

static void check_seq_wraps_exactly(void **state)
{
	uint32_t seq = 0xfffffff0U, i;

	(void)state;
	for (i = 0; i < 40; i++)
		feed_test(0, seq++, i, PERSECMON_CTX_TASK);
	/* index 40 (seq 0x18) dropped and announced at seq 0x19 */
	seq++;
	feed_lost(0, seq++, 1, TEST_BIT, 1);
	feed_test(0, seq, 41, PERSECMON_CTX_TASK);
	assert_int_equal(pm_verifier_finish(&v, NULL), 0);
	assert_int_equal(v.cpu[0].records, 42);
	assert_int_equal(v.cpu[0].max_u - v.cpu[0].min_u + 1, 43);
}

static void check_lost_as_first_record(void **state)
{
	(void)state;
	/* Drops before anything was read: seqs 0..2 precede the LOST. */
	feed_lost(2, 3, 3, TEST_BIT, 3);
	feed_test(2, 4, 3, PERSECMON_CTX_TASK);
	assert_int_equal(pm_verifier_finish(&v, NULL), 0);
}

static void check_test_index_repeat(void **state)
{
	(void)state;
	feed_test(0, 0, 0, PERSECMON_CTX_TASK);
	feed_test(0, 1, 1, PERSECMON_CTX_TASK);
	feed_test(0, 2, 1, PERSECMON_CTX_TASK);
	assert_int_equal(reports.n, 1);
	assert_non_null(strstr(reports.last, "index 1 repeated or out of order"));
	/* The same index in another context or run is a different stream. */
	feed_test(0, 3, 1, PERSECMON_CTX_SOFTIRQ);
	assert_int_equal(reports.n, 1);
}

static void check_wrong_cpu(void **state)
{
	struct persecmon_test_event *ev;

	(void)state;
	/* Intact for CPU 2, but found in CPU 1's buffer. */
	ev = test_event(2, 0, 0, PERSECMON_CTX_TASK, 8);
	pm_verifier_record(&v, 1, &ev->hdr);
	assert_int_equal(reports.n, 1);
	assert_non_null(strstr(reports.last, "claims cpu 2"));
	pm_verifier_record(&v, 9, &ev->hdr);
	assert_int_equal(reports.n, 2);
	assert_non_null(strstr(reports.last, "beyond nr_cpu_ids"));
}

static void check_pending_drops_excuse_the_tail(void **state)
{
	uint64_t pending[4] = { 0, 0, 0, 0 };

	(void)state;
	feed_test(0, 0, 0, PERSECMON_CTX_TASK);
	feed_test(0, 1, 1, PERSECMON_CTX_TASK);
	feed_test(0, 2, 3, PERSECMON_CTX_TASK);	/* index 2 dropped... */
	pending[0] = 1;				/* ...and not announced yet */
	/* The seq of a pending drop is beyond the last record read. */
	assert_int_equal(pm_verifier_finish(&v, pending), 0);
}

static void check_pending_is_per_cpu(void **state)
{
	uint64_t pending[4] = { 0, 5, 0, 0 };

	(void)state;
	feed_test(0, 0, 0, PERSECMON_CTX_TASK);
	feed_test(0, 1, 2, PERSECMON_CTX_TASK);
	assert_int_equal(pm_verifier_finish(&v, pending), 1);
}

static void check_expected_count(void **state)
{
	uint32_t i;

	(void)state;
	for (i = 0; i < 10; i++)
		feed_test(0, i, i, PERSECMON_CTX_TASK);
	for (i = 0; i < 8; i++)	/* the last two softirq events never came */
		feed_test(1, i, i, PERSECMON_CTX_SOFTIRQ);
	assert_int_equal(pm_verifier_finish(&v, NULL), 1);
	assert_int_equal(v.cpu[1].test_missing, 2);
	assert_int_equal(v.cpu[0].test_missing, 0);
}

static void check_index_beyond_expected_count(void **state)
{
	(void)state;
	feed_test(0, 0, 10, PERSECMON_CTX_TASK);
	assert_int_equal(reports.n, 1);
	assert_non_null(strstr(reports.last, "beyond the expected count 10"));
}

static void check_many_streams(void **state)
{
	uint32_t seq[4] = { 0 }, run;

	(void)state;
	/* Enough (run, context, cpu) streams to grow the tracking table. */
	for (run = 0; run < 300; run++) {
		unsigned int cpu = run % 4, ctx;
		uint32_t i;

		for (ctx = 0; ctx <= PERSECMON_CTX_MAX; ctx++)
			for (i = 0; i < 3; i++) {
				struct persecmon_test_event *ev =
					test_event(cpu, seq[cpu]++, i,
						   (uint8_t)ctx, 0);

				ev->run_id = run;
				ev->check = persecmon_test_check(run, i,
								 (uint8_t)ctx,
								 (uint16_t)cpu, 0);
				pm_verifier_record(&v, cpu, &ev->hdr);
			}
	}
	assert_int_equal(pm_verifier_finish(&v, NULL), 0);
	assert_int_equal(v.nr_tracks, 300 * 4);
	assert_int_equal(v.test_intact, 300 * 4 * 3);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
#define TE(f) cmocka_unit_test_setup_teardown(f, setup_expect, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(check_clean_stream),
		T(check_corrupt_fill_byte),
		T(check_seq_gap_without_lost),
		T(check_seq_gap_covered_by_lost),
		T(check_lost_of_other_types_does_not_cover_tests),
		T(check_over_reported_loss),
		T(check_total_lost_mismatch),
		T(check_duplicate_seq),
		T(check_nested_reorder_is_legal),
		T(check_far_out_of_order),
		T(check_seq_gap_across_wrap),
		T(check_seq_wraps_exactly),
		T(check_lost_as_first_record),
		T(check_test_index_repeat),
		T(check_wrong_cpu),
		T(check_pending_drops_excuse_the_tail),
		T(check_pending_is_per_cpu),
		TE(check_expected_count),
		TE(check_index_beyond_expected_count),
		T(check_many_streams),
	};

	return cmocka_run_group_tests_name("lib_verify", tests, NULL, NULL);
}
