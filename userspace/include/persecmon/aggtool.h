/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The loop every aggregate-reading command shares (vfsstat, filetop,
 * biolatency, biotop): keep the command's probe group attached in the
 * global set for the run (the module's aggregates are updated only while
 * it is), take a snapshot of the command's tables over netlink, and every
 * interval take the next one and print the difference, until the count,
 * -d or Ctrl-C ends the run. The group is disabled again at the end if
 * this command was the one that enabled it.
 *
 * Snapshots are the command's own type: the loop only allocates two of
 * @snapshot_size bytes, zeroed, and hands them back as prev and cur.
 */
#ifndef PERSECMON_AGGTOOL_H
#define PERSECMON_AGGTOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "persecmon/cli.h"
#include "persecmon/control.h"
#include "persecmon/error.h"
#include "persecmon/output.h"

struct pm_aggtool_run {
	void *priv;		/* the command's own state */
	struct pm_ctl *ctl;
	struct pm_out *out;
	const struct pm_cli *cli;
};

struct pm_aggtool {
	const char *tool;	/* message prefix */
	const char *group;	/* held attached for the run */
	size_t snapshot_size;
	/* Fills @snap (zeroed, or freed by @free_snapshot) from the tables. */
	int (*snapshot)(struct pm_aggtool_run *run, void *snap,
			struct pm_error *err);
	/* Optional: releases what @snapshot allocated inside @snap. */
	void (*free_snapshot)(void *snap);
	/*
	 * bcc's "Tracing... Output every N secs. Hit Ctrl-C to end" at the
	 * start (on stderr with --json, so stdout stays JSON).
	 */
	bool interval_banner;
	/* Optional: once, after the first snapshot (banner, header). */
	void (*start)(struct pm_aggtool_run *run);
	/* One report: @cur minus @prev over @seconds. */
	void (*report)(struct pm_aggtool_run *run, const void *prev,
		       const void *cur, double seconds);
	/*
	 * An interval cut short by Ctrl-C or -d is still reported (tools
	 * that print one summary at the end); otherwise it is dropped, as
	 * bcc's interval tools do.
	 */
	bool report_partial;
	/* The tables --reset zeroes (NULL-terminated). */
	const char *const *reset_tables;
};

/*
 * Runs @t: reports every @interval seconds, @count times (0: until
 * stopped). Returns a PM_EXIT_* code, errors reported with @t->tool.
 */
int pm_aggtool_loop(const struct pm_aggtool *t, struct pm_aggtool_run *run,
		    double interval, uint64_t count);

/*
 * The whole command after its options are parsed: opens the output and
 * the control socket, catches the stop signals, then either zeroes
 * @t->reset_tables (@reset) or runs the loop with @priv as the run's
 * private state. Returns a PM_EXIT_* code.
 */
int pm_aggtool_main(const struct pm_aggtool *t, const struct pm_cli *cli,
		    bool reset, void *priv, double interval, uint64_t count);

/*
 * Holds @group for this run (PERSECMON_A_GROUP_HOLD on the control
 * socket): attached whatever the global set and other tools do, and let
 * go by pm_aggtool_release() or, if the tool dies, by the socket closing.
 * @*held says whether there is a hold to release.
 */
int pm_aggtool_hold(struct pm_ctl *ctl, const char *group, bool *held,
		    struct pm_error *err);
int pm_aggtool_release(struct pm_ctl *ctl, const char *group, bool held,
		       struct pm_error *err);

#endif /* PERSECMON_AGGTOOL_H */
