// SPDX-License-Identifier: GPL-2.0
/*
 * timed OPS CMD [ARGS...]: run CMD once and report its run time as OPS
 * operations (e.g. one bonnie++ run, or the MiB an iperf3 client moves),
 * for whole programs that cannot print the workload line themselves.
 * CMD's standard output is discarded (the line below must be the only
 * one); its standard error is kept. A CMD that fails fails the run.
 */
#include "common.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	uint64_t ops, t0, t1;
	int status, devnull;
	pid_t pid;

	workload_init(argc, argv);
	if (argc < 3)
		usage("OPS CMD [ARGS...]");
	ops = parse_count(argv[1]);
	t0 = now_ns();
	pid = fork();
	if (pid < 0)
		die_errno("fork");
	if (pid == 0) {
		devnull = open("/dev/null", O_WRONLY);
		if (devnull < 0 || dup2(devnull, STDOUT_FILENO) < 0)
			die_errno("/dev/null");
		execvp(argv[2], argv + 2);
		die_errno(argv[2]);
	}
	if (waitpid(pid, &status, 0) != pid)
		die_errno("waitpid");
	t1 = now_ns();
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "%s: %s failed (wait status 0x%x)\n",
			workload_name, argv[2], status);
		return 1;
	}
	report(ops, t1 - t0);
	return 0;
}
