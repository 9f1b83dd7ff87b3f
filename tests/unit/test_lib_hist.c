// SPDX-License-Identifier: GPL-2.0
/* libpersecmon hist: log2 slots and the bcc-style printer, text and JSON. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "persecmon/hist.h"

static char *print_hist(enum pm_out_format fmt, const char *unit,
			const uint64_t *slots, unsigned int n)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct pm_out o;

	assert_non_null(f);
	pm_out_init(&o, f, fmt, false);
	pm_out_block_begin(&o);
	pm_hist_log2_print(&o, "hist", unit, slots, n);
	pm_out_block_end(&o);
	fclose(f);
	return text;
}

static void check_slots(void **state)
{
	(void)state;
	assert_int_equal(pm_log2_slot(0), 0);
	assert_int_equal(pm_log2_slot(1), 0);
	assert_int_equal(pm_log2_slot(2), 1);
	assert_int_equal(pm_log2_slot(3), 1);
	assert_int_equal(pm_log2_slot(4), 2);
	assert_int_equal(pm_log2_slot(1023), 9);
	assert_int_equal(pm_log2_slot(1024), 10);
	assert_int_equal(pm_log2_slot(UINT64_MAX), 63);
	assert_int_equal(pm_log2_slot_low(0), 0);
	assert_int_equal(pm_log2_slot_high(0), 1);
	assert_int_equal(pm_log2_slot_low(1), 2);
	assert_int_equal(pm_log2_slot_high(1), 3);
	assert_int_equal(pm_log2_slot_low(10), 1024);
	assert_int_equal(pm_log2_slot_high(10), 2047);
	assert_true(pm_log2_slot_high(63) == UINT64_MAX);
	/* Every value lies inside its slot's bounds. */
	for (uint64_t v = 0; v < 5000; v += 7) {
		unsigned int s = pm_log2_slot(v);

		assert_true(pm_log2_slot_low(s) <= v);
		assert_true(v <= pm_log2_slot_high(s));
	}
}

static void check_text_like_bcc(void **state)
{
	static const uint64_t slots[8] = { 3, 57, 0, 10 };
	char *text;

	(void)state;
	text = print_hist(PM_OUT_TEXT, "usecs", slots, 8);
	assert_string_equal(text,
		"     usecs               : count    distribution\n"
		"         0 -> 1          : 3        |**                                      |\n"
		"         2 -> 3          : 57       |****************************************|\n"
		"         4 -> 7          : 0        |                                        |\n"
		"         8 -> 15         : 10       |*******                                 |\n");
	free(text);
}

static void check_rare_values_stay_visible(void **state)
{
	static const uint64_t slots[3] = { 100000, 1, 0 };
	char *text;

	(void)state;
	text = print_hist(PM_OUT_TEXT, "nsecs", slots, 3);
	assert_non_null(strstr(text, ": 1        |*                                       |\n"));
	/* The trailing empty slot is not printed. */
	assert_null(strstr(text, "4 -> 7"));
	free(text);
}

static void check_wide_values_align(void **state)
{
	uint64_t slots[PM_HIST_SLOTS] = { 0 };
	char *text, *line, *save = NULL;
	size_t width = 0;
	int lines = 0;

	(void)state;
	slots[3] = 5;
	slots[40] = 123456789012ULL;
	text = print_hist(PM_OUT_TEXT, "bytes", slots, PM_HIST_SLOTS);
	assert_non_null(strstr(text, "1099511627776 -> 2199023255551 : 123456789012 |****"));
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save), lines++) {
		if (lines == 0)
			continue;	/* the header */
		if (!width)
			width = strlen(line);
		assert_int_equal(strlen(line), width);
	}
	assert_int_equal(lines, 1 + 41);
	free(text);
}

static void check_empty(void **state)
{
	static const uint64_t slots[4];
	char *text;

	(void)state;
	text = print_hist(PM_OUT_TEXT, "usecs", slots, 4);
	assert_string_equal(text,
		"     usecs               : count    distribution\n");
	free(text);
	text = print_hist(PM_OUT_JSON, "usecs", slots, 4);
	assert_string_equal(text, "{\"hist\":{\"unit\":\"usecs\",\"buckets\":[]}}\n");
	free(text);
}

static void check_json(void **state)
{
	static const uint64_t slots[8] = { 3, 57, 0, 10 };
	char *text;

	(void)state;
	text = print_hist(PM_OUT_JSON, "usecs", slots, 8);
	assert_string_equal(text,
		"{\"hist\":{\"unit\":\"usecs\",\"buckets\":["
		"{\"low\":0,\"high\":1,\"count\":3},"
		"{\"low\":2,\"high\":3,\"count\":57},"
		"{\"low\":4,\"high\":7,\"count\":0},"
		"{\"low\":8,\"high\":15,\"count\":10}]}}\n");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(check_slots),
		cmocka_unit_test(check_text_like_bcc),
		cmocka_unit_test(check_rare_values_stay_visible),
		cmocka_unit_test(check_wide_values_align),
		cmocka_unit_test(check_empty),
		cmocka_unit_test(check_json),
	};

	return cmocka_run_group_tests_name("lib_hist", tests, NULL, NULL);
}
