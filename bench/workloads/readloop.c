// SPDX-License-Identifier: GPL-2.0
/*
 * readloop FILE N: N one-byte pread()s of offset 0 of FILE. Each is one
 * pread64 system call and one vfs_read(); tiny reads make the per-call
 * cost of a probe on vfs_read as visible as it can be. FILE must hold at
 * least one byte (a tmpfs file keeps the filesystem out of the picture).
 */
#include "common.h"

#include <fcntl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	uint64_t n, i, t0, t1;
	char byte;
	int fd;

	workload_init(argc, argv);
	if (argc != 3)
		usage("FILE N");
	n = parse_count(argv[2]);
	fd = open(argv[1], O_RDONLY);
	if (fd < 0)
		die_errno(argv[1]);
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		ssize_t r = pread(fd, &byte, 1, 0);

		if (r != 1) {
			if (r < 0)
				die_errno("pread");
			die("pread returned no byte: the file must not be empty");
		}
	}
	t1 = now_ns();
	close(fd);
	report(n, t1 - t0);
	return 0;
}
