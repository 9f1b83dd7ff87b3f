// SPDX-License-Identifier: GPL-2.0
/*
 * persecmon usdt: list the USDT probes (.note.stapsdt) of a binary, or
 * attach one count-only (PERSECMON_UPROBE_COUNT, with its semaphore) to a
 * uprobe group for this command's session and report how often it fired.
 * A check that a USDT probe point works, end to end, before a group with
 * handlers for it exists.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "persecmon/control.h"
#include "persecmon/elfsym.h"
#include "persecmon/error.h"
#include "persecmon/snoop.h"

struct usdt_opts {
	bool list;
	const char *group;
	const char *device;
};

static struct usdt_opts opts;

struct usdt_run {
	char path[PATH_MAX];
	char probe[64];		/* provider:name, as PERSECMON_A_UP_NAME */
	char status_name[96];	/* "<basename>:<probe>", as the kernel cuts it */
	struct pm_usdt_note note;
	int status;
};

static const struct pm_option usdt_options[] = {
	{ "list", 'l', PM_OPT_FLAG, NULL,
	  "list the USDT probes of BINARY and exit", &opts.list, 0, 0, NULL },
	{ "group", 'g', PM_OPT_STRING, "GROUP",
	  "uprobe group to attach to (default dns)", &opts.group, 0, 0, NULL },
	{ "device", 0, PM_OPT_STRING, "PATH",
	  "device to open (default " PERSECMON_DEVICE_PATH ")", &opts.device,
	  0, 0, NULL },
	{ 0 },
};

static const char usdt_description[] =
	"With -l: one line per USDT probe of BINARY: PROVIDER, NAME, ADDRESS\n"
	"(virtual), OFFSET (file offset, what the kernel probes), SEMAPHORE\n"
	"(virtual address of its enable counter, - if none), SEM_OFFSET (its\n"
	"file offset), ARGS (the note's argument spec).\n"
	"\n"
	"With PROVIDER:NAME: attaches that probe, semaphore included, as a\n"
	"count-only uprobe target of GROUP for this command's session (the\n"
	"kernel increments the semaphore in every process that maps BINARY,\n"
	"so guarded probes fire), waits until Ctrl-C or -d, and prints how\n"
	"often it fired, system wide: BINARY, PROBE, HITS. The probe is\n"
	"removed when the command exits.\n";

static const char usdt_examples[] =
	"  persecmon usdt -l /usr/bin/python3.11\n"
	"  persecmon usdt -d 10 /usr/bin/python3.11 python:gc__start\n";

static void copy_cut(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static int list_notes(const char *binary, bool json)
{
	struct pm_usdt_note *notes;
	struct pm_error err;
	struct pm_elf *elf;
	struct pm_out out;
	char sem[32], sem_off[32];
	size_t n, i;
	int ret;

	pm_error_clear(&err);
	ret = pm_elf_open(binary, &elf, &err);
	if (ret == 0)
		ret = pm_elf_usdt_notes(elf, &notes, &n, &err);
	pm_elf_close(elf);
	if (ret < 0)
		return pm_error_report(&err, "usdt");
	pm_out_init(&out, stdout, json ? PM_OUT_JSON : PM_OUT_TEXT, false);
	if (!json)
		pm_out_header(&out, "%-12s %-24s %-18s %-10s %-18s %-10s %s",
			      "PROVIDER", "NAME", "ADDRESS", "OFFSET",
			      "SEMAPHORE", "SEM_OFFSET", "ARGS");
	for (i = 0; i < n; i++) {
		const struct pm_usdt_note *u = &notes[i];

		pm_out_line_begin(&out);
		pm_out_col_str(&out, "provider", -12, u->provider);
		pm_out_col_str(&out, "name", -24, u->name);
		if (json) {
			pm_out_kv_u64(&out, "address", u->pc);
			pm_out_kv_u64(&out, "offset", u->pc_offset);
			pm_out_kv_u64(&out, "semaphore", u->semaphore);
			pm_out_kv_u64(&out, "semaphore_offset",
				      u->semaphore_offset);
			pm_out_kv_str(&out, "args", u->args);
		} else {
			snprintf(sem, sizeof(sem), "-");
			snprintf(sem_off, sizeof(sem_off), "-");
			if (u->semaphore) {
				snprintf(sem, sizeof(sem), "0x%llx",
					 (unsigned long long)u->semaphore);
				snprintf(sem_off, sizeof(sem_off), "0x%llx",
					 (unsigned long long)u->semaphore_offset);
			}
			pm_out_text(&out, " 0x%-16llx 0x%-8llx %-18s %-10s %s",
				    (unsigned long long)u->pc,
				    (unsigned long long)u->pc_offset, sem,
				    sem_off, u->args);
		}
		pm_out_line_end(&out);
	}
	free(notes);
	return pm_out_flush(&out) < 0 ? PM_EXIT_RUNTIME : PM_EXIT_OK;
}

static int setup_usdt(struct pm_snoop_ctx *sc, struct pm_ctl *ctl,
		      const struct pm_session_ref *session,
		      struct pm_error *err)
{
	struct usdt_run *run = sc->priv;
	const struct pm_ctl_uprobe target = {
		.path = run->path,
		.offset = run->note.pc_offset,
		.ref_ctr_offset = run->note.semaphore_offset,
		.flags = PERSECMON_UPROBE_COUNT,
		.name = run->probe,
	};

	return pm_ctl_uprobe_enable(ctl, opts.group, session, &target, 1,
				    err);
}

static int ignore_record(struct pm_snoop_ctx *sc,
			 const struct persecmon_record *rec)
{
	(void)sc;
	(void)rec;
	return 0;
}

/* At the end, while the session still holds the probe: its hits. */
static int report_hits(struct pm_snoop_ctx *sc, bool last)
{
	struct usdt_run *run = sc->priv;
	struct pm_status st = { 0 };
	const struct pm_status_probe *p = NULL;
	struct pm_error err;
	struct pm_ctl *ctl;
	size_t i;

	(void)last;
	pm_error_clear(&err);
	if (pm_ctl_open(&ctl, false, &err) < 0 ||
	    pm_ctl_get_status(ctl, &st, &err) < 0) {
		run->status = pm_error_report(&err, "usdt");
		pm_status_free(&st);
		return 1;
	}
	pm_ctl_close(ctl);
	for (i = 0; i < st.nr_probes; i++) {
		if (!strcmp(st.probes[i].group, opts.group) &&
		    !strcmp(st.probes[i].name, run->status_name)) {
			p = &st.probes[i];
			break;
		}
	}
	if (!p) {
		fprintf(stderr, "usdt: probe %s of group %s not in the status\n",
			run->status_name, opts.group);
		run->status = PM_EXIT_RUNTIME;
	} else {
		pm_out_line_begin(&sc->out);
		pm_out_col_str(&sc->out, "binary", -24, run->path);
		pm_out_col_str(&sc->out, "probe", -32, run->probe);
		pm_out_col_u64(&sc->out, "hits", 10, p->hits);
		if (pm_out_is_json(&sc->out)) {
			pm_out_kv_u64(&sc->out, "offset", run->note.pc_offset);
			pm_out_kv_u64(&sc->out, "semaphore_offset",
				      run->note.semaphore_offset);
			pm_out_kv_bool(&sc->out, "attached", p->attached);
		}
		pm_out_line_end(&sc->out);
	}
	pm_status_free(&st);
	return 0;
}

static void print_header(struct pm_snoop_ctx *sc)
{
	(void)sc;
}

int cmd_usdt(const char *name, int argc, char **argv)
{
	const struct pm_command cmd = {
		.name = name,
		.summary = "List the USDT probes of a binary, or count one's hits.",
		.args = "BINARY [PROVIDER:NAME]",
		.min_args = 1,
		.max_args = 2,
		.common = PM_CLI_JSON | PM_CLI_DURATION,
		.duration_help = "stop after SECONDS",
		.options = usdt_options,
		.description = usdt_description,
		.examples = usdt_examples,
	};
	struct pm_snoop sn = {
		.tool = name,
		.what = "a USDT probe",
		.setup = setup_usdt,
		.header = print_header,
		.record = ignore_record,
		.interval = report_hits,
		.final_summary = true,
	};
	struct usdt_run run = { 0 };
	struct pm_error err;
	struct pm_elf *elf;
	const char *colon;
	char provider[PM_USDT_NAME_MAX];
	char buf[PATH_MAX + 2 * PM_USDT_NAME_MAX];
	struct pm_cli cli;
	int exit_code;
	int ret;

	memset(&opts, 0, sizeof(opts));
	if (!pm_cli_parse_main(&cmd, argc, argv, &cli, &exit_code))
		return exit_code;
	if (!opts.group)
		opts.group = "dns";
	if (opts.list) {
		if (cli.nr_args != 1) {
			fprintf(stderr, "%s: -l takes BINARY only\n", name);
			return PM_EXIT_USAGE;
		}
		return list_notes(cli.args[0], cli.json);
	}
	if (cli.nr_args != 2) {
		fprintf(stderr, "%s: BINARY PROVIDER:NAME needed (or -l BINARY)\n",
			name);
		return PM_EXIT_USAGE;
	}
	colon = strchr(cli.args[1], ':');
	if (!colon || colon == cli.args[1] || !colon[1] ||
	    (size_t)(colon - cli.args[1]) >= sizeof(provider)) {
		fprintf(stderr, "%s: probe must be PROVIDER:NAME, not '%s'\n",
			name, cli.args[1]);
		return PM_EXIT_USAGE;
	}
	snprintf(provider, sizeof(provider), "%.*s",
		 (int)(colon - cli.args[1]), cli.args[1]);
	if (!realpath(cli.args[0], run.path)) {
		fprintf(stderr, "%s: %s: %s\n", name, cli.args[0],
			strerror(errno));
		return PM_EXIT_RUNTIME;
	}
	pm_error_clear(&err);
	ret = pm_elf_open(run.path, &elf, &err);
	if (ret == 0)
		ret = pm_elf_usdt_find(elf, provider, colon + 1, &run.note,
				       &err);
	pm_elf_close(elf);
	if (ret < 0)
		return pm_error_report(&err, name);
	/* Cut as the kernel does (label 63 bytes, probe name 95). */
	snprintf(buf, sizeof(buf), "%s:%s", run.note.provider, run.note.name);
	copy_cut(run.probe, sizeof(run.probe), buf);
	snprintf(buf, sizeof(buf), "%s:%s", strrchr(run.path, '/') + 1,
		 run.probe);
	copy_cut(run.status_name, sizeof(run.status_name), buf);
	sn.device = opts.device;
	ret = pm_snoop_run(&sn, &cli, &run);
	return ret != PM_EXIT_OK ? ret : run.status;
}
