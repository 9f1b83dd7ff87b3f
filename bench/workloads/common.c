// SPDX-License-Identifier: GPL-2.0
#include "common.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *workload_name = "workload";

void workload_init(int argc, char **argv)
{
	const char *slash;

	if (argc < 1 || !argv[0])
		return;
	slash = strrchr(argv[0], '/');
	workload_name = slash ? slash + 1 : argv[0];
}

_Noreturn void die_errno(const char *msg)
{
	fprintf(stderr, "%s: %s: %s\n", workload_name, msg, strerror(errno));
	exit(1);
}

_Noreturn void die(const char *msg)
{
	fprintf(stderr, "%s: %s\n", workload_name, msg);
	exit(1);
}

_Noreturn void usage(const char *synopsis)
{
	fprintf(stderr, "usage: %s %s\n", workload_name, synopsis);
	exit(2);
}

uint64_t parse_count(const char *arg)
{
	unsigned long long n;
	char *end;

	errno = 0;
	if (*arg < '0' || *arg > '9') {
		fprintf(stderr, "%s: count '%s' is not a positive integer\n",
			workload_name, arg);
		exit(2);
	}
	n = strtoull(arg, &end, 10);
	if (errno || *end || n == 0) {
		fprintf(stderr, "%s: count '%s' is not a positive integer\n",
			workload_name, arg);
		exit(2);
	}
	return n;
}

uint64_t now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts))
		die_errno("clock_gettime");
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void report(uint64_t ops, uint64_t ns_total)
{
	printf("workload=%s ops=%" PRIu64 " ns_total=%" PRIu64 " ns_per_op=%.1f\n",
	       workload_name, ops, ns_total, (double)ns_total / (double)ops);
	if (fflush(stdout))
		die_errno("writing the result");
}
