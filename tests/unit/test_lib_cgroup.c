// SPDX-License-Identifier: GPL-2.0
/*
 * Naming a cgroup: a decimal id is taken as is, a path must be a cgroup v2
 * directory, and everything else is a plain usage error. That a real
 * cgroup directory gives the id the kernel uses is tested in the VM
 * (tests/vm/t18-global-filter.sh), where the kernel says which id it is.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "persecmon/cgroup.h"

static void check_ids(void **state)
{
	struct pm_error err;
	uint64_t id = 0;

	(void)state;
	assert_int_equal(pm_cgroup_id_parse("4242", &id, &err), 0);
	assert_true(id == 4242);
	assert_int_equal(pm_cgroup_id_parse("18446744073709551615", &id,
					    &err), 0);
	assert_true(id == UINT64_MAX);
	assert_int_equal(pm_cgroup_id_parse("0", &id, &err), -EINVAL);
	assert_int_equal(err.kind, PM_ERR_USAGE);
	assert_string_equal(err.msg, "not a path nor an id from 1 up");
	assert_int_equal(pm_cgroup_id_parse("12x", &id, &err), -EINVAL);
	assert_int_equal(pm_cgroup_id_parse("18446744073709551616", &id,
					    &err), -EINVAL);
}

static void check_bad_paths(void **state)
{
	struct pm_error err;
	uint64_t id = 0;

	(void)state;
	assert_int_equal(pm_cgroup_id_parse("/nonexistent/cgroup", &id, &err),
			 -ENOENT);
	assert_int_equal(err.kind, PM_ERR_USAGE);
	assert_non_null(strstr(err.msg, "No such file or directory"));
	/* The root is never a cgroup2 mount. */
	assert_int_equal(pm_cgroup_id_parse("/", &id, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not on a cgroup v2 file system"));
	assert_int_equal(pm_cgroup_id_parse("relative/path", &id, &err),
			 -ENOENT);
	/* A directory, but not of a cgroup2 mount. */
	assert_int_equal(pm_cgroup_id_parse("/tmp", &id, &err) < 0, 1);
}

/* As an option callback: the reason alone, for cli.c's message. */
static void check_option_callback(void **state)
{
	char msg[128];
	uint64_t id = 0;

	(void)state;
	assert_int_equal(pm_cgroup_opt_parse("77", &id, msg, sizeof(msg)), 0);
	assert_true(id == 77);
	assert_int_equal(pm_cgroup_opt_parse("/", &id, msg, sizeof(msg)), -1);
	assert_string_equal(msg, "not on a cgroup v2 file system");
	assert_true(id == 77);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(check_ids),
		cmocka_unit_test(check_bad_paths),
		cmocka_unit_test(check_option_callback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
