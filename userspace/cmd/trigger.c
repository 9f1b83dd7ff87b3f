// SPDX-License-Identifier: GPL-2.0
/*
 * persecmon trigger: ask the module for synthetic test events, the way the
 * tests drive the data path from every execution context.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "persecmon/control.h"
#include "persecmon/error.h"
#include "persecmon/names.h"
#include "persecmon/output.h"
#include "persecmon/proc.h"

#define DEFAULT_FILL	16

struct trigger_opts {
	uint64_t count;
	uint64_t contexts;
	uint64_t fill;
	uint64_t run_id;
	bool have_run_id;
};

static struct trigger_opts topts;

static int parse_contexts(const char *arg, void *target, char *errbuf,
			  size_t errlen)
{
	char bad[64];

	if (pm_parse_name_list(arg, pm_context_parse, PERSECMON_CTX_MAX,
			       target, bad, sizeof(bad)) < 0) {
		snprintf(errbuf, errlen,
			 "unknown context '%s' (known: task, softirq, hardirq, nmi)",
			 bad);
		return -1;
	}
	return 0;
}

static int parse_run_id(const char *arg, void *target, char *errbuf,
			size_t errlen)
{
	if (pm_parse_u64(arg, 0, UINT64_MAX, target) < 0) {
		snprintf(errbuf, errlen, "expected a number (decimal or 0x hex)");
		return -1;
	}
	topts.have_run_id = true;
	return 0;
}

static const struct pm_option trigger_options[] = {
	{ "count", 'c', PM_OPT_UINT, "N",
	  "events per context per CPU (default 1)", &topts.count, 1,
	  UINT32_MAX, NULL },
	{ "contexts", 'C', PM_OPT_CALLBACK, "LIST",
	  "contexts to emit from: task,softirq,hardirq,nmi\n(default task)",
	  &topts.contexts, 0, 0, parse_contexts },
	{ "fill", 'f', PM_OPT_UINT, "BYTES",
	  "fill bytes per event, 0-4032 (default 16)", &topts.fill, 0,
	  PM_TRIGGER_FILL_MAX, NULL },
	{ "run-id", 'r', PM_OPT_CALLBACK, "ID",
	  "run id carried by the events (default: derived from the time);\n"
	  "repetitions use ID, ID+1, ...", &topts.run_id, 0, 0,
	  parse_run_id },
	{ 0 },
};

static void context_names(uint32_t mask, const char **names, size_t *n,
			  char storage[][PM_LABEL_MAX])
{
	*n = pm_mask_labels(mask, pm_context_label, storage, names);
}

int cmd_trigger(const char *name, int argc, char **argv)
{
	const struct pm_command cmd = {
		.name = name,
		.summary = "Emit synthetic PERSECMON_EV_TEST events from chosen contexts.",
		.common = PM_CLI_JSON | PM_CLI_DURATION | PM_CLI_INTERVAL,
		.duration_help = "repeat for SECONDS (every second unless an\n"
				 "interval is given)",
		.options = trigger_options,
		.description =
			"Sends PERSECMON_CMD_TRIGGER: on every CPU and in every requested\n"
			"context the module emits COUNT test events with index 0..COUNT-1,\n"
			"FILL pattern bytes and a check value, into every session that enabled\n"
			"the 'test' group. A reader proves them intact with\n"
			"'persecmon-read -g test --verify'. Prints the run id used.\n",
		.examples =
			"  persecmon trigger                          # 1 task-context event per CPU\n"
			"  persecmon trigger -c 1000 -C task,softirq,hardirq,nmi -f 64\n"
			"  persecmon trigger -r 0x42 -c 10 1 5        # runs 0x42..0x46, one per second\n"
			"  persecmon trigger -c 100 -d 10 --json      # every second for 10 seconds\n",
	};
	char storage[PERSECMON_CTX_MAX + 1][PM_LABEL_MAX];
	const char *ctx_names[PERSECMON_CTX_MAX + 1];
	struct pm_trigger t;
	struct pm_ctl *ctl;
	struct pm_error err;
	struct pm_out o;
	struct pm_cli cli;
	uint64_t n = 0, deadline = 0;
	size_t nctx;
	int exit_code = PM_EXIT_OK;

	/* Defaults; the parser overwrites only what is given. */
	memset(&topts, 0, sizeof(topts));
	topts.count = 1;
	topts.contexts = 1U << PERSECMON_CTX_TASK;
	topts.fill = DEFAULT_FILL;
	pm_error_clear(&err);
	if (!pm_cli_parse_main(&cmd, argc, argv, &cli, &exit_code))
		return exit_code;
	t.count = (uint32_t)topts.count;
	t.contexts = (uint32_t)topts.contexts;
	t.fill = (uint32_t)topts.fill;
	t.run_id = topts.have_run_id ? topts.run_id :
		   (pm_realtime_ns() ^ ((uint64_t)getpid() << 40)) | 1;
	if (pm_trigger_check(&t, &err) < 0)
		return pm_error_report(&err, name);
	if (cli.duration > 0 && cli.interval == 0)
		cli.interval = 1;
	if (cli.duration > 0)
		deadline = pm_monotonic_ns() + (uint64_t)(cli.duration * 1e9);
	context_names(t.contexts, ctx_names, &nctx, storage);

	pm_out_init(&o, stdout, cli.json ? PM_OUT_JSON : PM_OUT_TEXT,
		    cli.verbose > 0);
	if (pm_ctl_open(&ctl, cli.verbose > 0, &err) < 0)
		return pm_error_report(&err, name);
	pm_cli_catch_stop_signals();
	for (;;) {
		if (pm_ctl_trigger(ctl, &t, &err) < 0) {
			exit_code = pm_error_report(&err, name);
			break;
		}
		pm_out_line_begin(&o);
		pm_out_kv_hex(&o, "run_id", t.run_id);
		pm_out_kv_u64(&o, "count", t.count);
		pm_out_kv_strlist(&o, "contexts", ctx_names, nctx);
		pm_out_kv_u64(&o, "fill", t.fill);
		pm_out_line_end(&o);
		pm_out_flush(&o);
		n++;
		if (cli.interval == 0 || (cli.count && n >= cli.count))
			break;
		if (deadline && pm_monotonic_ns() +
				(uint64_t)(cli.interval * 1e9) > deadline)
			break;
		if (!pm_cli_sleep(cli.interval))
			break;
		t.run_id++;
	}
	pm_ctl_close(ctl);
	return exit_code;
}
