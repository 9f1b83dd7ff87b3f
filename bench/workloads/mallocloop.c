// SPDX-License-Identifier: GPL-2.0
/*
 * mallocloop [-s] [-r REPS] N [SIZE]: N malloc(SIZE) + free() pairs
 * through libc (SIZE defaults to 64), timed, REPS times (default 1), one
 * result line per repetition. Each op is exactly one call to libc's
 * malloc and one to free, so uprobes on them fire once per op each.
 *
 * -s stops the process (SIGSTOP) before the first repetition, so that a
 * tool which traces one PID (bcc memleak -p) can attach first; SIGCONT
 * starts the loops.
 *
 * The calls go through volatile function pointers: the compiler may
 * otherwise remove a malloc/free pair whose memory is never used.
 */
#include "common.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *(*volatile malloc_fn)(size_t) = malloc;
static void (*volatile free_fn)(void *) = free;

#define SYNOPSIS "[-s] [-r REPS] N [SIZE]"

int main(int argc, char **argv)
{
	uint64_t n, i, t0, t1, reps = 1, rep;
	size_t size = 64;
	int stop = 0, opt;

	workload_init(argc, argv);
	while ((opt = getopt(argc, argv, "sr:")) != -1) {
		switch (opt) {
		case 's':
			stop = 1;
			break;
		case 'r':
			reps = parse_count(optarg);
			break;
		default:
			usage(SYNOPSIS);
		}
	}
	if (argc - optind != 1 && argc - optind != 2)
		usage(SYNOPSIS);
	n = parse_count(argv[optind]);
	if (argc - optind == 2)
		size = (size_t)parse_count(argv[optind + 1]);
	if (stop && raise(SIGSTOP))
		die_errno("raise SIGSTOP");
	for (rep = 0; rep < reps; rep++) {
		t0 = now_ns();
		for (i = 0; i < n; i++) {
			char *p = malloc_fn(size);

			if (!p)
				die("malloc failed");
			p[0] = (char)i;
			free_fn(p);
		}
		t1 = now_ns();
		report(n, t1 - t0);
	}
	return 0;
}
