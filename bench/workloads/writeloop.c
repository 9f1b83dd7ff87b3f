// SPDX-License-Identifier: GPL-2.0
/*
 * writeloop FILE N: N one-byte pwrite()s at offset 0 of FILE (created if
 * missing). Each is one pwrite64 system call and one vfs_write().
 */
#include "common.h"

#include <fcntl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	uint64_t n, i, t0, t1;
	const char byte = 'x';
	int fd;

	workload_init(argc, argv);
	if (argc != 3)
		usage("FILE N");
	n = parse_count(argv[2]);
	fd = open(argv[1], O_WRONLY | O_CREAT, 0600);
	if (fd < 0)
		die_errno(argv[1]);
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		ssize_t r = pwrite(fd, &byte, 1, 0);

		if (r != 1) {
			if (r < 0)
				die_errno("pwrite");
			die("pwrite wrote nothing");
		}
	}
	t1 = now_ns();
	if (close(fd))
		die_errno("close");
	report(n, t1 - t0);
	return 0;
}
