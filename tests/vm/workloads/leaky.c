// SPDX-License-Identifier: GPL-2.0
/*
 * leaky K S J F DIR [run]: a workload whose leaks are known exactly, for
 * t27-memleak.sh and t30-memleak-bcc.sh (built on the host with frame
 * pointers: workloads/Makefile).
 *
 * Leaks K blocks of S bytes from leak_here(), J blocks each from
 * leak_calloc() (7 x 300), leak_realloc() (malloc(16), then realloc to
 * 3000: the first block is freed by the realloc), leak_memalign()
 * (posix_memalign, 5000) and leak_aligned() (aligned_alloc, 6144), after
 * F rounds of churn() that free everything they allocate, through every
 * allocator. Without "run", it writes DIR/pid, waits for DIR/go, writes
 * DIR/done when its leaks are made and waits for DIR/exit, so that
 * tracers can attach first and read while it lives.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void *kept[100000];	/* global: the leaks stay reachable */
static int nkept;

static void wait_for(const char *dir, const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	while (access(path, F_OK) != 0)
		usleep(50000);
}

/* Whole or not at all: the test reads the file as soon as it exists. */
static void say(const char *dir, const char *name)
{
	char path[4096], tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", dir, name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%d\n", getpid()) < 0 || fclose(f) ||
	    rename(tmp, path))
		exit(1);
}

__attribute__((noinline)) void leak_here(size_t s)
{
	char *p = malloc(s);

	memset(p, 1, s);
	kept[nkept++] = p;
}

__attribute__((noinline)) void leak_calloc(size_t n, size_t s)
{
	kept[nkept++] = calloc(n, s);
}

__attribute__((noinline)) void leak_realloc(size_t s)
{
	char *p = malloc(16);

	p = realloc(p, s);
	kept[nkept++] = p;
}

__attribute__((noinline)) void leak_memalign(size_t s)
{
	void *p;

	if (posix_memalign(&p, 64, s))
		abort();
	kept[nkept++] = p;
}

__attribute__((noinline)) void leak_aligned(size_t s)
{
	kept[nkept++] = aligned_alloc(256, s);
}

__attribute__((noinline)) void churn(size_t s)
{
	void *p;

	free(malloc(s));
	free(calloc(4, s));
	p = malloc(s);
	free(realloc(p, 3 * s));
	if (posix_memalign(&p, 128, s))
		abort();
	free(p);
	free(aligned_alloc(64, s));
	free(memalign(4096, s));
	free(valloc(s));
	free(pvalloc(s));
}

int main(int argc, char **argv)
{
	int k = atoi(argv[1]), s = atoi(argv[2]), j = atoi(argv[3]);
	int f = atoi(argv[4]), i;
	const char *dir = argv[5];
	int run = argc > 6;

	if (!run) {
		say(dir, "pid");
		wait_for(dir, "go");
	}
	for (i = 0; i < f; i++)
		churn(100 + i % 50);
	for (i = 0; i < k; i++)
		leak_here(s);
	for (i = 0; i < j; i++) {
		leak_calloc(7, 300);
		leak_realloc(3000);
		leak_memalign(5000);
		leak_aligned(6144);
	}
	if (!run) {
		say(dir, "done");
		wait_for(dir, "exit");
	}
	return nkept == k + 4 * j ? 0 : 1;
}
