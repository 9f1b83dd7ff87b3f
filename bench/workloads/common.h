/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the benchmark workloads: argument parsing, the clock and the
 * one result line every workload prints:
 *
 *   workload=NAME ops=N ns_total=T ns_per_op=X
 *
 * Each workload does exactly N operations of one kind between the two
 * clock readings, so the probe hits it causes are known (see README.md).
 */
#ifndef BENCH_WORKLOADS_COMMON_H
#define BENCH_WORKLOADS_COMMON_H

#include <stdint.h>

/* Prints "NAME: MSG: strerror(errno)" and exits 1. */
_Noreturn void die_errno(const char *msg);
/* Prints "NAME: MSG" and exits 1 (usage errors exit 2 via usage()). */
_Noreturn void die(const char *msg);
_Noreturn void usage(const char *synopsis);

/* The operation count argument: a positive decimal integer. */
uint64_t parse_count(const char *arg);

uint64_t now_ns(void);

void report(uint64_t ops, uint64_t ns_total);

/* Set from argv[0] by workload_init(); used in messages. */
extern const char *workload_name;
void workload_init(int argc, char **argv);

#endif /* BENCH_WORKLOADS_COMMON_H */
