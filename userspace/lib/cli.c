// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "persecmon/cli.h"
#include "persecmon/error.h"

/* getopt_long() values of long-only options start here. */
#define LONG_ONLY_BASE	256
#define MAX_OPTIONS	48
/* Longest duration or interval accepted: about 115 days. */
#define SECONDS_MAX	1e7

static const char *const common_exit_status =
	"  0  success\n"
	"  1  runtime error\n"
	"  2  usage error\n"
	"  3  persecmon module not loaded\n"
	"  4  permission denied (run as root)\n"
	"  5  the module's ABI major differs from this tool's\n";

enum common_id {
	COMMON_HELP = -1,
	COMMON_VERBOSE = -2,
	COMMON_JSON = -3,
	COMMON_PID = -4,
	COMMON_DURATION = -5,
};

/* One row of the merged (common + command) option table. */
struct row {
	const char *long_name;
	int short_name;
	const char *arg_name;
	const char *help;
	int id;			/* index into cmd->options, or COMMON_* */
};

static size_t build_rows(const struct pm_command *cmd, struct row *rows)
{
	size_t n = 0, i;

	rows[n++] = (struct row){ "help", 'h', NULL, "show this help and exit",
				  COMMON_HELP };
	rows[n++] = (struct row){ "verbose", 'v', NULL,
				  "say more (repeat for even more)",
				  COMMON_VERBOSE };
	if (cmd->common & PM_CLI_JSON)
		rows[n++] = (struct row){ "json", 'j', NULL,
					  "print JSON (one object per line)",
					  COMMON_JSON };
	if (cmd->common & PM_CLI_PID)
		rows[n++] = (struct row){ "pid", 'p', "PID[,PID...]",
					  cmd->pid_help ? cmd->pid_help :
					  "only these processes (tgid)",
					  COMMON_PID };
	if (cmd->common & PM_CLI_DURATION)
		rows[n++] = (struct row){ "duration", 'd', "SECONDS",
					  cmd->duration_help ? cmd->duration_help :
					  "stop after SECONDS",
					  COMMON_DURATION };
	for (i = 0; cmd->options && cmd->options[i].long_name &&
		    n < MAX_OPTIONS; i++) {
		const struct pm_option *o = &cmd->options[i];

		rows[n++] = (struct row){ o->long_name, o->short_name,
					  o->type == PM_OPT_FLAG ? NULL :
					  o->arg_name ? o->arg_name : "ARG",
					  o->help, (int)i };
	}
	return n;
}

static void print_synopsis(const struct pm_command *cmd, FILE *f)
{
	fprintf(f, "Usage: %s [OPTIONS]", cmd->name);
	if (cmd->common & PM_CLI_INTERVAL)
		fputs(" [interval [count]]", f);
	if (cmd->args)
		fprintf(f, " %s", cmd->args);
	fputc('\n', f);
}

bool pm_cli_parse_main(const struct pm_command *cmd, int argc, char **argv,
		       struct pm_cli *cli, int *exit_code)
{
	switch (pm_cli_parse(cmd, argc, argv, cli, stdout, stderr)) {
	case PM_CLI_OK:
		return true;
	case PM_CLI_HELP:
		*exit_code = PM_EXIT_OK;
		return false;
	case PM_CLI_ERROR:
		break;
	}
	*exit_code = PM_EXIT_USAGE;
	return false;
}

void pm_cli_help(const struct pm_command *cmd, FILE *f)
{
	struct row rows[MAX_OPTIONS];
	size_t n = build_rows(cmd, rows), i;

	print_synopsis(cmd, f);
	fprintf(f, "\n%s\n", cmd->summary);
	if (cmd->description)
		fprintf(f, "\n%s", cmd->description);
	if (cmd->common & PM_CLI_INTERVAL)
		fputs("\nPositional arguments:\n"
		      "  interval              repeat every interval seconds\n"
		      "  count                 stop after count repetitions\n",
		      f);
	fputs("\nOptions:\n", f);
	for (i = 0; i < n; i++) {
		char left[64];
		const char *h = rows[i].help;

		if (rows[i].short_name)
			snprintf(left, sizeof(left), "-%c, --%s%s%s",
				 rows[i].short_name, rows[i].long_name,
				 rows[i].arg_name ? " " : "",
				 rows[i].arg_name ? rows[i].arg_name : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s",
				 rows[i].long_name, rows[i].arg_name ? " " : "",
				 rows[i].arg_name ? rows[i].arg_name : "");
		if (strlen(left) > 26)
			fprintf(f, "  %s\n%30s", left, "");
		else
			fprintf(f, "  %-26s  ", left);
		/* Continuation lines of a help text line up under its start. */
		for (; *h; h++) {
			fputc(*h, f);
			if (*h == '\n')
				fprintf(f, "%30s", "");
		}
		fputc('\n', f);
	}
	if (cmd->examples)
		fprintf(f, "\nExamples:\n%s", cmd->examples);
	fprintf(f, "\nExit status:\n%s",
		cmd->exit_status ? cmd->exit_status : common_exit_status);
}

int pm_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *v)
{
	unsigned long long x;
	int base = 10;
	char *end;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!((*s >= '0' && *s <= '9') ||
	      (base == 16 && ((*s >= 'a' && *s <= 'f') ||
			      (*s >= 'A' && *s <= 'F')))))
		return -1;
	errno = 0;
	x = strtoull(s, &end, base);
	if (errno || *end || x < min || x > max)
		return -1;
	*v = x;
	return 0;
}

int pm_parse_seconds(const char *s, double *v)
{
	char *end;
	double x;

	if (!((*s >= '0' && *s <= '9') || *s == '.'))
		return -1;
	errno = 0;
	x = strtod(s, &end);
	if (errno || *end || !isfinite(x) || x <= 0 || x > SECONDS_MAX)
		return -1;
	*v = x;
	return 0;
}

int pm_parse_u32_list(const char *s, uint32_t *out, size_t max)
{
	size_t n = 0;
	char buf[32];

	do {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		uint64_t v;

		if (len == 0 || len >= sizeof(buf) || n == max)
			return -1;
		memcpy(buf, s, len);
		buf[len] = '\0';
		if (pm_parse_u64(buf, 1, UINT32_MAX, &v) < 0)
			return -1;
		out[n++] = (uint32_t)v;
		s = comma ? comma + 1 : NULL;
	} while (s);
	return (int)n;
}

static int usage_error(const struct pm_command *cmd, FILE *err,
		       const char *fmt, const char *what, const char *detail)
{
	fprintf(err, "%s: ", cmd->name);
	fprintf(err, fmt, what, detail);
	fprintf(err, "\nTry '%s --help' for more information.\n", cmd->name);
	return PM_CLI_ERROR;
}

static const struct row *find_row(const struct row *rows, size_t n, int val)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int v = rows[i].short_name ? rows[i].short_name :
					     LONG_ONLY_BASE + (int)i;

		if (v == val)
			return &rows[i];
	}
	return NULL;
}

static int apply_option(const struct pm_command *cmd, const struct row *r,
			const char *arg, struct pm_cli *cli, FILE *err)
{
	char optname[64], msg[160] = "";
	const struct pm_option *o;
	uint64_t u;
	int n;

	snprintf(optname, sizeof(optname), "--%s", r->long_name);
	switch (r->id) {
	case COMMON_VERBOSE:
		cli->verbose++;
		return 0;
	case COMMON_JSON:
		cli->json = true;
		return 0;
	case COMMON_PID:
		n = pm_parse_u32_list(arg, cli->pids + cli->nr_pids,
				      PM_CLI_MAX_PIDS - cli->nr_pids);
		if (n < 0)
			return usage_error(cmd, err,
					   "invalid %s '%s': expected process ids (up to 16 in all)",
					   optname, arg);
		cli->nr_pids += (size_t)n;
		return 0;
	case COMMON_DURATION:
		if (pm_parse_seconds(arg, &cli->duration) < 0)
			return usage_error(cmd, err,
					   "invalid %s '%s': expected a positive number of seconds",
					   optname, arg);
		return 0;
	default:
		break;
	}

	o = &cmd->options[r->id];
	switch (o->type) {
	case PM_OPT_FLAG:
		*(bool *)o->target = true;
		return 0;
	case PM_OPT_UINT:
		if (pm_parse_u64(arg, o->min, o->max, &u) < 0) {
			snprintf(msg, sizeof(msg),
				 "expected an integer from %" PRIu64 " to %" PRIu64,
				 o->min, o->max);
			break;
		}
		*(uint64_t *)o->target = u;
		return 0;
	case PM_OPT_SECONDS:
		if (pm_parse_seconds(arg, (double *)o->target) < 0) {
			snprintf(msg, sizeof(msg),
				 "expected a positive number of seconds");
			break;
		}
		return 0;
	case PM_OPT_STRING:
		*(const char **)o->target = arg;
		return 0;
	case PM_OPT_CALLBACK:
		if (o->parse(arg, o->target, msg, sizeof(msg)) < 0)
			break;
		return 0;
	}
	fprintf(err, "%s: invalid %s '%s': %s\n", cmd->name, optname, arg, msg);
	fprintf(err, "Try '%s --help' for more information.\n", cmd->name);
	return PM_CLI_ERROR;
}

static int take_positionals(const struct pm_command *cmd, int argc,
			    char **argv, struct pm_cli *cli, FILE *err)
{
	int n = argc - optind;

	cli->args = argv + optind;
	cli->nr_args = n;
	if (cmd->common & PM_CLI_INTERVAL) {
		if (n > 2)
			return usage_error(cmd, err, "unexpected argument '%s'%s",
					   argv[optind + 2], "");
		if (n >= 1 && pm_parse_seconds(argv[optind], &cli->interval) < 0)
			return usage_error(cmd, err,
					   "invalid interval '%s'%s: expected a positive number of seconds",
					   argv[optind], "");
		if (n == 2 && pm_parse_u64(argv[optind + 1], 1, UINT64_MAX,
					   &cli->count) < 0)
			return usage_error(cmd, err,
					   "invalid count '%s'%s: expected a positive integer",
					   argv[optind + 1], "");
		cli->args += n;
		cli->nr_args = 0;
		return 0;
	}
	if ((unsigned int)n < cmd->min_args)
		return usage_error(cmd, err, "missing argument %s%s",
				   cmd->args ? cmd->args : "", "");
	if ((unsigned int)n > cmd->max_args)
		return usage_error(cmd, err, "unexpected argument '%s'%s",
				   argv[optind + cmd->max_args], "");
	return 0;
}

enum pm_cli_result pm_cli_parse(const struct pm_command *cmd, int argc,
				char **argv, struct pm_cli *cli, FILE *out,
				FILE *err)
{
	struct option longopts[MAX_OPTIONS + 1];
	char shortopts[2 * MAX_OPTIONS + 2];
	struct row rows[MAX_OPTIONS];
	size_t n, i, s = 0;
	int ch;

	memset(cli, 0, sizeof(*cli));
	n = build_rows(cmd, rows);
	shortopts[s++] = ':';	/* report missing arguments as ':' */
	for (i = 0; i < n; i++) {
		int val = rows[i].short_name ? rows[i].short_name :
					       LONG_ONLY_BASE + (int)i;

		longopts[i] = (struct option){
			rows[i].long_name,
			rows[i].arg_name ? required_argument : no_argument,
			NULL, val,
		};
		if (rows[i].short_name) {
			shortopts[s++] = (char)rows[i].short_name;
			if (rows[i].arg_name)
				shortopts[s++] = ':';
		}
	}
	memset(&longopts[n], 0, sizeof(longopts[n]));
	shortopts[s] = '\0';

	optind = 0;	/* full reinitialisation: parsers may run twice */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		const struct row *r;
		char name[64];

		if (ch == '?' || ch == ':') {
			r = optopt ? find_row(rows, n, optopt) : NULL;
			if (r)
				snprintf(name, sizeof(name), "--%s",
					 r->long_name);
			else if (optopt)
				snprintf(name, sizeof(name), "-%c", optopt);
			else
				snprintf(name, sizeof(name), "%s",
					 argv[optind - 1]);
			if (ch == ':')
				return usage_error(cmd, err,
						   "option %s needs an argument%s",
						   name, "");
			return usage_error(cmd, err, "unknown option '%s'%s",
					   name, "");
		}
		r = find_row(rows, n, ch);
		if (!r)
			return usage_error(cmd, err, "unknown option '%s'%s",
					   argv[optind - 1], "");
		if (r->id == COMMON_HELP) {
			pm_cli_help(cmd, out);
			return PM_CLI_HELP;
		}
		if (apply_option(cmd, r, optarg, cli, err) < 0)
			return PM_CLI_ERROR;
	}
	if (take_positionals(cmd, argc, argv, cli, err) < 0)
		return PM_CLI_ERROR;
	return PM_CLI_OK;
}

static volatile sig_atomic_t stop_flag;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

void pm_cli_catch_stop_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: poll() and nanosleep() must return EINTR. */
	sa.sa_flags = 0;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

bool pm_cli_stop_requested(void)
{
	return stop_flag != 0;
}

bool pm_cli_sleep(double seconds)
{
	struct timespec ts = {
		.tv_sec = (time_t)seconds,
		.tv_nsec = (long)((seconds - (double)(time_t)seconds) * 1e9),
	};

	while (nanosleep(&ts, &ts) < 0) {
		if (errno != EINTR || stop_flag)
			return false;
	}
	return !stop_flag;
}
