/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The loop every event-streaming command shares (opensnoop, execsnoop,
 * biosnoop, tcpconnlat, gethostlatency, memleak, ...): open a session on
 * /dev/persecmon, narrow it to the -p processes in the kernel, enable the
 * command's groups for that session only, stream records until Ctrl-C, -d
 * or [interval [count]] says stop, and account for every lost record (as
 * the kernel announces them, and the ones it had counted but not yet
 * announced when the command stops).
 *
 * A command supplies what is its own: its groups, a header, one callback
 * per record and, for commands that print summaries, one per interval.
 */
#ifndef PERSECMON_SNOOP_H
#define PERSECMON_SNOOP_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/persecmon.h>

#include "persecmon/cli.h"
#include "persecmon/control.h"
#include "persecmon/error.h"
#include "persecmon/output.h"

struct pm_snoop_ctx {
	void *priv;		/* the command's own state */
	struct pm_out out;	/* stdout, text or JSON per --json */
	const struct pm_cli *cli;
	uint64_t start_ns;	/* CLOCK_MONOTONIC when streaming began */
	int64_t realtime_offset_ns;	/* CLOCK_REALTIME - CLOCK_MONOTONIC */
	uint32_t session_id;
	uint64_t session_token;
};

struct pm_snoop {
	const char *tool;	/* message prefix, e.g. "opensnoop" */
	const char *what;	/* "Tracing <what>... Hit Ctrl-C to end." */
	const char *const *groups;	/* NULL-terminated, session-scoped */
	const char *device;	/* NULL: PERSECMON_DEVICE_PATH */
	/*
	 * -p is applied by @record rather than by the session's kernel
	 * filter (e.g. execsnoop, whose -p also keeps the children).
	 */
	bool pids_in_userspace;
	/*
	 * Groups (1 << enum persecmon_group) the session enables without
	 * their records (PERSECMON_A_FILTER_QUIET): the command reads what
	 * the module keeps for it (e.g. the memleak table) instead.
	 */
	uint64_t quiet_groups;
	/*
	 * Optional, before the groups are enabled: extra session setup
	 * (e.g. uprobe targets). 0 or a negative errno with @err set.
	 */
	int (*setup)(struct pm_snoop_ctx *sc, struct pm_ctl *ctl,
		     const struct pm_session_ref *session,
		     struct pm_error *err);
	/* Optional: column header, printed once (text mode only). */
	void (*header)(struct pm_snoop_ctx *sc);
	/* Every event record (never PAD, LOST or CLOCK). Non-zero stops. */
	int (*record)(struct pm_snoop_ctx *sc,
		      const struct persecmon_record *rec);
	/*
	 * Optional: called every cli->interval seconds (when the command
	 * takes PM_CLI_INTERVAL and the user gave one), and once more at
	 * the end if @final_summary is set. @last is true on the final call.
	 */
	int (*interval)(struct pm_snoop_ctx *sc, bool last);
	bool final_summary;
};

/*
 * Runs @sn with the parsed @cli. Returns a PM_EXIT_* code; errors have
 * been reported on stderr, prefixed with @sn->tool.
 */
int pm_snoop_run(const struct pm_snoop *sn, const struct pm_cli *cli,
		 void *priv);

/* Seconds since @sc->start_ns, for a TIME(s) column. */
double pm_snoop_elapsed(const struct pm_snoop_ctx *sc, uint64_t time_ns);

/* True if @tgid is one of the -p processes, or there are none. */
bool pm_snoop_pid_wanted(const struct pm_snoop_ctx *sc, uint32_t tgid);

/* "HH:MM:SS" local time of @time_ns, for a TIME column. */
void pm_snoop_wall_clock(const struct pm_snoop_ctx *sc, uint64_t time_ns,
			 char buf[16]);

/*
 * The optional first column of a bcc-style line: with @wall_clock (-T) a
 * text "TIME" (HH:MM:SS), with @elapsed (-t) or in JSON "ts" (seconds
 * since start); nothing otherwise.
 */
void pm_snoop_time_col(struct pm_snoop_ctx *sc, uint64_t time_ns,
		       bool wall_clock, bool elapsed);

/* Copies a fixed-size, maybe unterminated comm into @buf (17 bytes). */
void pm_snoop_comm(char buf[PERSECMON_COMM_LEN + 1],
		   const uint8_t comm[PERSECMON_COMM_LEN]);

#endif /* PERSECMON_SNOOP_H */
