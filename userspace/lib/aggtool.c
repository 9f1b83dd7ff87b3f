// SPDX-License-Identifier: GPL-2.0
/*
 * The shared loop of the aggregate-reading commands (persecmon/aggtool.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "persecmon/aggtool.h"
#include "persecmon/proc.h"

int pm_aggtool_hold(struct pm_ctl *ctl, const char *group, bool *held,
		    struct pm_error *err)
{
	*held = false;
	if (pm_ctl_hold_group(ctl, group, true, err) < 0)
		return -1;
	*held = true;
	return 0;
}

int pm_aggtool_release(struct pm_ctl *ctl, const char *group, bool held,
		       struct pm_error *err)
{
	if (!held)
		return 0;
	return pm_ctl_hold_group(ctl, group, false, err);
}

static void drop_snapshot(const struct pm_aggtool *t, void *snap)
{
	if (t->free_snapshot)
		t->free_snapshot(snap);
	memset(snap, 0, t->snapshot_size);
}

static int loop(const struct pm_aggtool *t, struct pm_aggtool_run *run,
		double interval, uint64_t count, void *prev, void *cur,
		struct pm_error *err)
{
	uint64_t n = 0, t_prev, t_cur;
	void *swap;

	if (t->snapshot(run, prev, err) < 0)
		return -1;
	t_prev = pm_monotonic_ns();
	if (t->interval_banner) {
		FILE *f = run->cli->json ? stderr : stdout;

		fprintf(f, "Tracing... Output every %g secs. Hit Ctrl-C to end\n",
			interval);
		fflush(f);
	}
	if (t->start)
		t->start(run);
	while (!count || n < count) {
		bool stopped = !pm_cli_sleep(interval);

		if (stopped && !t->report_partial)
			break;
		if (t->snapshot(run, cur, err) < 0)
			return -1;
		t_cur = pm_monotonic_ns();
		t->report(run, prev, cur, (double)(t_cur - t_prev) / 1e9);
		if (pm_out_flush(run->out) < 0)
			return pm_error_set(err, PM_ERR_RUNTIME, errno,
					    "cannot write the output: %s",
					    strerror(errno));
		drop_snapshot(t, prev);
		swap = prev;
		prev = cur;
		cur = swap;
		t_prev = t_cur;
		n++;
		if (stopped)
			break;
	}
	return 0;
}

/*
 * The tables count only what the global filter passes (persecmon filter):
 * say so once, on stderr, so that no number is read as the whole host's.
 */
static void note_global_filter(const struct pm_aggtool *t, struct pm_ctl *ctl)
{
	struct pm_status st = { 0 };
	struct pm_error err;
	size_t i;

	pm_error_clear(&err);
	if (pm_ctl_get_status(ctl, &st, &err) < 0) {
		fprintf(stderr, "%s: cannot tell whether a global filter is set: %s\n",
			t->tool, err.msg);
		return;
	}
	if (st.have & PM_ST_GLOBAL_FILTER) {
		fprintf(stderr, "%s: note: the global filter counts only", t->tool);
		if (st.nr_filter_tgids) {
			fputs(" processes ", stderr);
			for (i = 0; i < st.nr_filter_tgids; i++)
				fprintf(stderr, "%s%" PRIu32, i ? "," : "",
					st.filter_tgids[i]);
		}
		if (st.filter_cgroup_id)
			fprintf(stderr, "%s cgroup %" PRIu64,
				st.nr_filter_tgids ? " in" : "",
				st.filter_cgroup_id);
		fputs(" ('persecmon filter --clear' counts every process)\n",
		      stderr);
	}
	pm_status_free(&st);
}

int pm_aggtool_loop(const struct pm_aggtool *t, struct pm_aggtool_run *run,
		    double interval, uint64_t count)
{
	struct pm_error err, err2;
	void *prev, *cur;
	bool held = false;
	int exit_code = PM_EXIT_OK;

	pm_error_clear(&err);
	prev = calloc(1, t->snapshot_size);
	cur = calloc(1, t->snapshot_size);
	if (!prev || !cur) {
		pm_error_set(&err, PM_ERR_RUNTIME, ENOMEM, "out of memory");
		exit_code = pm_error_report(&err, t->tool);
		goto out;
	}
	note_global_filter(t, run->ctl);
	if (pm_aggtool_hold(run->ctl, t->group, &held, &err) < 0 ||
	    loop(t, run, interval, count, prev, cur, &err) < 0)
		exit_code = pm_error_report(&err, t->tool);
	pm_error_clear(&err2);
	if (pm_aggtool_release(run->ctl, t->group, held, &err2) < 0 &&
	    exit_code == PM_EXIT_OK)
		exit_code = pm_error_report(&err2, t->tool);
out:
	if (prev)
		drop_snapshot(t, prev);
	if (cur)
		drop_snapshot(t, cur);
	free(prev);
	free(cur);
	return exit_code;
}

static int reset_tables(const struct pm_aggtool *t, struct pm_ctl *ctl,
			struct pm_error *err)
{
	const char *const *name;

	for (name = t->reset_tables; name && *name; name++)
		if (pm_ctl_agg_reset(ctl, *name, err) < 0)
			return -1;
	return 0;
}

int pm_aggtool_main(const struct pm_aggtool *t, const struct pm_cli *cli,
		    bool reset, void *priv, double interval, uint64_t count)
{
	struct pm_aggtool_run run;
	struct pm_ctl *ctl = NULL;
	struct pm_error err;
	struct pm_out out;
	int exit_code = PM_EXIT_OK;

	pm_error_clear(&err);
	pm_out_init(&out, stdout, cli->json ? PM_OUT_JSON : PM_OUT_TEXT,
		    cli->verbose > 0);
	if (pm_ctl_open(&ctl, cli->verbose > 0, &err) < 0)
		return pm_error_report(&err, t->tool);
	pm_cli_catch_stop_signals();
	if (reset) {
		if (reset_tables(t, ctl, &err) < 0)
			exit_code = pm_error_report(&err, t->tool);
	} else {
		run = (struct pm_aggtool_run){
			.priv = priv, .ctl = ctl, .out = &out, .cli = cli,
		};
		exit_code = pm_aggtool_loop(t, &run, interval, count);
	}
	pm_ctl_close(ctl);
	return exit_code;
}
