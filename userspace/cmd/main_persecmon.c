// SPDX-License-Identifier: GPL-2.0
/* persecmon: dispatch to a subcommand. */
#include <stdio.h>
#include <string.h>

#include <linux/persecmon.h>

#include "cmd.h"
#include "persecmon/error.h"

#ifndef PERSECMON_VERSION
#define PERSECMON_VERSION "unknown"
#endif

struct subcommand {
	const char *name;
	int (*run)(const char *name, int argc, char **argv);
	const char *summary;
};

static const struct subcommand subcommands[] = {
	{ "status", cmd_status, "module state, sessions, per-CPU counters" },
	{ "enable", cmd_enable, "enable probe groups in the global set" },
	{ "disable", cmd_disable, "disable probe groups in the global set" },
	{ "filter", cmd_filter, "show or set the processes the aggregates count" },
	{ "trigger", cmd_trigger, "emit synthetic test events (drives the data path)" },
	{ "read", cmd_read, "stream events (same as persecmon-read)" },
	{ "vfsstat", cmd_vfsstat, "VFS reads, writes, opens per second, like bcc vfsstat" },
	{ "filetop", cmd_filetop, "file reads and writes by process, like bcc filetop" },
	{ "execsnoop", cmd_execsnoop, "trace new processes (exec), like bcc execsnoop" },
	{ "opensnoop", cmd_opensnoop, "trace file opens, like bcc opensnoop" },
	{ "biolatency", cmd_biolatency, "block I/O latency histograms, like bcc biolatency" },
	{ "biosnoop", cmd_biosnoop, "trace block I/O, like bcc biosnoop" },
	{ "biotop", cmd_biotop, "block I/O by process, like bcc biotop" },
	{ "tcpconnlat", cmd_tcpconnlat, "TCP connect latency, like bcc tcpconnlat" },
	{ "tcpstates", cmd_tcpstates, "TCP state changes, like bcc tcpstates" },
	{ "memleak", cmd_memleak, "outstanding allocations by stack (kernel or -p PID), like bcc memleak" },
	{ "gethostlatency", cmd_gethostlatency, "latency of libc name lookups, like bcc gethostlatency" },
	{ "usdt", cmd_usdt, "list a binary's USDT probes, or count one's hits" },
};

#define NR_SUBCOMMANDS (sizeof(subcommands) / sizeof(subcommands[0]))

static void usage(FILE *f)
{
	size_t i;

	fputs("Usage: persecmon [-h] [--version] COMMAND [OPTIONS] [ARGS]\n"
	      "\nControl the PerSecMon kernel module (persecmon.ko).\n"
	      "\nCommands:\n", f);
	for (i = 0; i < NR_SUBCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", subcommands[i].name,
			subcommands[i].summary);
	fputs("  help CMD   show the help of CMD\n"
	      "\nRun 'persecmon COMMAND -h' for the options and examples of a command.\n"
	      "\nExamples:\n"
	      "  persecmon status                 # module, sessions, per-CPU counters\n"
	      "  persecmon status --json 1 5      # five JSON snapshots, one per second\n"
	      "  persecmon enable test            # enable the test group globally\n"
	      "  persecmon trigger --count 100 --contexts task,hardirq\n"
	      "\nExit status:\n"
	      "  0  success\n"
	      "  1  runtime error\n"
	      "  2  usage error\n"
	      "  3  persecmon module not loaded\n"
	      "  4  permission denied (run as root)\n"
	      "  5  the module's ABI major differs from this tool's\n"
	      "  6  (read --verify) the event stream failed verification\n", f);
}

static const struct subcommand *find(const char *name)
{
	size_t i;

	for (i = 0; i < NR_SUBCOMMANDS; i++)
		if (strcmp(subcommands[i].name, name) == 0)
			return &subcommands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const struct subcommand *sc;
	char name[64];

	if (argc < 2) {
		usage(stderr);
		return PM_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return PM_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("persecmon %s (ABI %d.%d)\n", PERSECMON_VERSION,
		       PERSECMON_ABI_MAJOR, PERSECMON_ABI_MINOR);
		return PM_EXIT_OK;
	}
	if (!strcmp(argv[1], "help")) {
		char *help_argv[] = { argv[1], (char *)"--help", NULL };

		if (argc < 3) {
			usage(stdout);
			return PM_EXIT_OK;
		}
		sc = find(argv[2]);
		if (!sc) {
			fprintf(stderr, "persecmon: unknown command '%s'\nTry 'persecmon --help'.\n",
				argv[2]);
			return PM_EXIT_USAGE;
		}
		snprintf(name, sizeof(name), "persecmon %s", sc->name);
		return sc->run(name, 2, help_argv);
	}
	sc = find(argv[1]);
	if (!sc) {
		fprintf(stderr, "persecmon: unknown command '%s'\nTry 'persecmon --help'.\n",
			argv[1]);
		return PM_EXIT_USAGE;
	}
	snprintf(name, sizeof(name), "persecmon %s", sc->name);
	return sc->run(name, argc - 1, argv + 1);
}
