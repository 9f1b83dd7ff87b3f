// SPDX-License-Identifier: GPL-2.0
/*
 * openloop PATH N: N open(O_RDONLY) + close() of PATH. Each open is one
 * openat system call (glibc's open() uses openat) and one
 * do_sys_openat2(); each close is one close system call.
 */
#include "common.h"

#include <fcntl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	uint64_t n, i, t0, t1;

	workload_init(argc, argv);
	if (argc != 3)
		usage("PATH N");
	n = parse_count(argv[2]);
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		int fd = open(argv[1], O_RDONLY);

		if (fd < 0)
			die_errno(argv[1]);
		if (close(fd))
			die_errno("close");
	}
	t1 = now_ns();
	report(n, t1 - t0);
	return 0;
}
