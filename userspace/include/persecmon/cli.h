/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One option parser for every command.
 *
 * A command declares its options in a table and which common options it
 * takes (-p PID, -d SECONDS, --json, [interval [count]]); -h and -v are
 * always there. The parser builds the getopt_long() tables, checks and
 * converts values, and generates the --help text (usage, options,
 * examples, exit status) from the same table, so help cannot drift from
 * behaviour.
 */
#ifndef PERSECMON_CLI_H
#define PERSECMON_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum pm_opt_type {
	PM_OPT_FLAG,		/* bool *: set to true */
	PM_OPT_UINT,		/* uint64_t *: within [min, max] */
	PM_OPT_SECONDS,		/* double *: > 0, at most a day per unit */
	PM_OPT_STRING,		/* const char **: the argument */
	PM_OPT_CALLBACK,	/* parse(arg, target, errbuf, errlen) */
};

struct pm_option {
	const char *long_name;
	int short_name;		/* 0: long form only */
	enum pm_opt_type type;
	const char *arg_name;	/* NULL for flags */
	const char *help;
	void *target;
	uint64_t min, max;	/* PM_OPT_UINT */
	/* PM_OPT_CALLBACK: 0, or -1 with a message in errbuf. */
	int (*parse)(const char *arg, void *target, char *errbuf,
		     size_t errlen);
};

/* Common options a command takes. */
enum {
	PM_CLI_JSON	= 1 << 0,	/* --json / -j */
	PM_CLI_PID	= 1 << 1,	/* -p PID[,PID...] */
	PM_CLI_DURATION	= 1 << 2,	/* -d SECONDS */
	PM_CLI_INTERVAL	= 1 << 3,	/* positional [interval [count]] */
};

#define PM_CLI_MAX_PIDS	16

struct pm_command {
	const char *name;	/* as invoked: "persecmon status" */
	const char *summary;	/* one line */
	const char *args;	/* positional synopsis, e.g. "GROUP..." */
	unsigned int min_args, max_args;	/* without PM_CLI_INTERVAL */
	unsigned int common;	/* PM_CLI_* */
	const char *pid_help;	/* what -p means here */
	const char *duration_help;
	const struct pm_option *options;	/* ends with { 0 } */
	const char *description;
	const char *examples;	/* lines "  cmd ...    # what" */
	const char *exit_status;	/* NULL: the common table */
};

struct pm_cli {
	bool json;
	unsigned int verbose;
	size_t nr_pids;
	uint32_t pids[PM_CLI_MAX_PIDS];
	double duration;	/* seconds, 0 = not given */
	double interval;	/* seconds, 0 = not given */
	uint64_t count;		/* 0 = unlimited */
	int nr_args;		/* positionals not consumed as interval/count */
	char **args;
};

enum pm_cli_result {
	PM_CLI_OK = 0,
	PM_CLI_HELP = 1,	/* help was printed: exit 0 */
	PM_CLI_ERROR = -1,	/* message printed: exit PM_EXIT_USAGE */
};

/*
 * Parse @argv (argv[0] is the command name). Errors and help go to @err
 * and @out respectively. Permutes @argv like getopt_long().
 */
enum pm_cli_result pm_cli_parse(const struct pm_command *cmd, int argc,
				char **argv, struct pm_cli *cli, FILE *out,
				FILE *err);
void pm_cli_help(const struct pm_command *cmd, FILE *f);

/*
 * pm_cli_parse() for a command's main(), with stdout and stderr: true to
 * go on; false when help was printed (*exit_code = PM_EXIT_OK) or the
 * command line was refused (*exit_code = PM_EXIT_USAGE).
 */
bool pm_cli_parse_main(const struct pm_command *cmd, int argc, char **argv,
		       struct pm_cli *cli, int *exit_code);

/* Shared value parsers (also usable as PM_OPT_CALLBACK helpers). */
int pm_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *v);
int pm_parse_seconds(const char *s, double *v);
/* "1,2,3" into @out (at most @max); returns the count or -1. */
int pm_parse_u32_list(const char *s, uint32_t *out, size_t max);

/* SIGINT/SIGTERM set a flag instead of killing; slow calls return EINTR. */
void pm_cli_catch_stop_signals(void);
bool pm_cli_stop_requested(void);
/* Sleep @seconds or until a stop signal; returns false if interrupted. */
bool pm_cli_sleep(double seconds);

#endif /* PERSECMON_CLI_H */
