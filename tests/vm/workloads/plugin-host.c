// SPDX-License-Identifier: GPL-2.0
/*
 * plugin-host DIR LIB K S [PROGRAM ARG...]: writes DIR/pid and waits for
 * DIR/go; then dlopen()s LIB, has it leak K blocks of S bytes
 * (plugin_leak_many) and exits at once. A tracer that reads
 * /proc/PID/maps at report time finds nothing, and never saw LIB mapped:
 * only what the kernel recorded while the process lived can name the
 * frames (t27-memleak.sh). With PROGRAM, it writes DIR/done after the
 * leaks, waits for DIR/exec and execs PROGRAM instead of exiting: the
 * leaked blocks go with the old image. PROGRAM "-" exits there instead:
 * a tracer that starts between the leaks and the exit joins late.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	void (*leak_many)(int k, size_t s);
	char path[4096], tmp[4096];
	void *lib;
	FILE *f;

	if (argc < 5) {
		fprintf(stderr, "usage: plugin-host DIR LIB K S [PROGRAM ARG...]\n");
		return 2;
	}
	/* Whole or not at all: the test reads it as soon as it exists. */
	snprintf(tmp, sizeof(tmp), "%s/pid.tmp", argv[1]);
	snprintf(path, sizeof(path), "%s/pid", argv[1]);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%d\n", getpid()) < 0 || fclose(f) ||
	    rename(tmp, path))
		return 1;
	snprintf(path, sizeof(path), "%s/go", argv[1]);
	while (access(path, F_OK) != 0)
		usleep(50000);
	lib = dlopen(argv[2], RTLD_NOW);
	if (!lib) {
		fprintf(stderr, "plugin-host: %s\n", dlerror());
		return 1;
	}
	*(void **)&leak_many = dlsym(lib, "plugin_leak_many");
	if (!leak_many) {
		fprintf(stderr, "plugin-host: %s\n", dlerror());
		return 1;
	}
	leak_many(atoi(argv[3]), (size_t)atol(argv[4]));
	if (argc == 5)
		return 0;
	snprintf(path, sizeof(path), "%s/done", argv[1]);
	f = fopen(path, "w");
	if (!f)
		return 1;
	fclose(f);
	snprintf(path, sizeof(path), "%s/exec", argv[1]);
	while (access(path, F_OK) != 0)
		usleep(50000);
	if (!strcmp(argv[5], "-"))
		return 0;
	execvp(argv[5], &argv[5]);
	perror("plugin-host: exec");
	return 1;
}
