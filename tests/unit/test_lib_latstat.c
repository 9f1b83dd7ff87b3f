// SPDX-License-Identifier: GPL-2.0
/* libpersecmon latstat: per-key counts, failures and exact percentiles. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "persecmon/latstat.h"

static void nearest_rank(void **state)
{
	const uint64_t v[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	const uint64_t one[] = { 42 };

	(void)state;
	/* p50 of 10: rank ceil(5) = 5; p99: rank ceil(9.9) = 10. */
	assert_int_equal(pm_percentile_sorted(v, 10, 50), 5);
	assert_int_equal(pm_percentile_sorted(v, 10, 99), 10);
	assert_int_equal(pm_percentile_sorted(v, 10, 100), 10);
	assert_int_equal(pm_percentile_sorted(v, 10, 10), 1);
	assert_int_equal(pm_percentile_sorted(v, 10, 11), 2);
	assert_int_equal(pm_percentile_sorted(one, 1, 50), 42);
	assert_int_equal(pm_percentile_sorted(one, 1, 99), 42);
	assert_int_equal(pm_percentile_sorted(v, 0, 50), 0);
}

static void by_key(void **state)
{
	struct pm_latstat st;
	struct pm_latstat_row *rows;
	size_t n, i;
	char key[32];

	(void)state;
	pm_latstat_init(&st);
	rows = pm_latstat_rows(&st, &n);
	assert_null(rows);
	assert_int_equal(n, 0);

	/* "a": 100 samples 1..100 given backwards, every 10th failed. */
	for (i = 100; i >= 1; i--)
		assert_int_equal(pm_latstat_add(&st, "a", i, i % 10 == 0), 0);
	/* Enough other keys to grow the table several times. */
	for (i = 0; i < 300; i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		assert_int_equal(pm_latstat_add(&st, key, 1000 + i, false), 0);
	}
	assert_int_equal(pm_latstat_add(&st, "b", 7, true), 0);
	assert_int_equal(pm_latstat_add(&st, "b", 3, false), 0);

	rows = pm_latstat_rows(&st, &n);
	assert_non_null(rows);
	assert_int_equal(n, 302);
	/* Most samples first, then by key. */
	assert_string_equal(rows[0].key, "a");
	assert_int_equal(rows[0].count, 100);
	assert_int_equal(rows[0].failed, 10);
	assert_int_equal(rows[0].p50_ns, 50);
	assert_int_equal(rows[0].p99_ns, 99);
	assert_int_equal(rows[0].max_ns, 100);
	assert_int_equal(rows[0].total_ns, 5050);
	assert_string_equal(rows[1].key, "b");
	assert_int_equal(rows[1].count, 2);
	assert_int_equal(rows[1].failed, 1);
	assert_int_equal(rows[1].p50_ns, 3);
	assert_int_equal(rows[1].p99_ns, 7);
	assert_int_equal(rows[1].max_ns, 7);
	assert_string_equal(rows[2].key, "k0");
	for (i = 2; i < n; i++) {
		assert_int_equal(rows[i].count, 1);
		assert_int_equal(rows[i].p50_ns, rows[i].max_ns);
		if (i > 2)
			assert_true(strcmp(rows[i - 1].key, rows[i].key) < 0);
	}
	free(rows);
	pm_latstat_free(&st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nearest_rank),
		cmocka_unit_test(by_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
