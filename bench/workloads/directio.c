// SPDX-License-Identifier: GPL-2.0
/*
 * directio BLOCKDEV N: N synchronous O_DIRECT 4 KiB writes to BLOCKDEV,
 * walking through the device and wrapping around. Each write is one
 * request issued and completed (block_rq_issue, block_rq_complete), with
 * nothing to merge because each waits for the previous one. Meant for
 * null_blk (modprobe null_blk; /dev/nullb0), which completes requests
 * without storage so the block layer's own cost dominates. It overwrites
 * the device: never point it at a disk that holds data.
 */
#include "common.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOCK 4096

int main(int argc, char **argv)
{
	uint64_t n, i, t0, t1, blocks;
	struct stat st;
	off_t size;
	void *buf;
	int fd;

	workload_init(argc, argv);
	if (argc != 3)
		usage("BLOCKDEV N");
	n = parse_count(argv[2]);
	fd = open(argv[1], O_WRONLY | O_DIRECT);
	if (fd < 0)
		die_errno(argv[1]);
	if (fstat(fd, &st))
		die_errno("fstat");
	if (!S_ISBLK(st.st_mode))
		die("not a block device (refusing to O_DIRECT-write anything else)");
	size = lseek(fd, 0, SEEK_END);
	if (size < 0)
		die_errno("lseek");
	blocks = (uint64_t)size / BLOCK;
	if (blocks == 0)
		die("device smaller than one 4 KiB block");
	if (posix_memalign(&buf, BLOCK, BLOCK))
		die("posix_memalign failed");
	memset(buf, 0xa5, BLOCK);
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		ssize_t r = pwrite(fd, buf, BLOCK, (off_t)((i % blocks) * BLOCK));

		if (r != BLOCK) {
			if (r < 0)
				die_errno("pwrite");
			die("short O_DIRECT write");
		}
	}
	t1 = now_ns();
	free(buf);
	if (close(fd))
		die_errno("close");
	report(n, t1 - t0);
	return 0;
}
