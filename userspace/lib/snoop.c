// SPDX-License-Identifier: GPL-2.0
/*
 * The shared streaming loop of the event commands (persecmon/snoop.h).
 *
 * The order matters: the session exists (open) before its filter is set,
 * and the filter is set before the groups are enabled, so that not one
 * record of an unwanted process is ever written into the session's rings.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "persecmon/consume.h"
#include "persecmon/proc.h"
#include "persecmon/reader.h"
#include "persecmon/snoop.h"

/* Longest sleep between rounds when nothing arrives. */
#define SNOOP_ROUND_MS		250
/* Pause after a round that found nothing although poll said "ready". */
#define SNOOP_SPIN_PAUSE_S	0.01

struct snoop_run {
	const struct pm_snoop *sn;
	struct pm_snoop_ctx sc;
	uint64_t lost;
	int stop;		/* non-zero from the record callback */
};

double pm_snoop_elapsed(const struct pm_snoop_ctx *sc, uint64_t time_ns)
{
	return (double)(int64_t)(time_ns - sc->start_ns) / 1e9;
}

void pm_snoop_comm(char buf[PERSECMON_COMM_LEN + 1],
		   const uint8_t comm[PERSECMON_COMM_LEN])
{
	memcpy(buf, comm, PERSECMON_COMM_LEN);
	buf[PERSECMON_COMM_LEN] = '\0';
}

bool pm_snoop_pid_wanted(const struct pm_snoop_ctx *sc, uint32_t tgid)
{
	size_t i;

	if (sc->cli->nr_pids == 0)
		return true;
	for (i = 0; i < sc->cli->nr_pids; i++)
		if (tgid == sc->cli->pids[i])
			return true;
	return false;
}

void pm_snoop_wall_clock(const struct pm_snoop_ctx *sc, uint64_t time_ns,
			 char buf[16])
{
	time_t secs = (time_t)((time_ns + (uint64_t)sc->realtime_offset_ns) /
			       1000000000ULL);
	struct tm tm;

	localtime_r(&secs, &tm);
	snprintf(buf, 16, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void pm_snoop_time_col(struct pm_snoop_ctx *sc, uint64_t time_ns,
		       bool wall_clock, bool elapsed)
{
	struct pm_out *out = &sc->out;
	char wall[16];

	if (wall_clock && !pm_out_is_json(out)) {
		pm_snoop_wall_clock(sc, time_ns, wall);
		pm_out_col_str(out, "time", -8, wall);
	} else if (elapsed || pm_out_is_json(out)) {
		pm_out_col_f64(out, "ts", -9, 3,
			       pm_snoop_elapsed(sc, time_ns));
	}
}

static int on_record(void *ctx, const struct pm_ring_view *ring,
		     const struct persecmon_record *rec)
{
	struct snoop_run *run = ctx;
	const struct persecmon_lost_record *lost = (const void *)rec;

	switch (rec->type) {
	case PERSECMON_REC_PAD:
	case PERSECMON_REC_CLOCK:
		return 0;
	case PERSECMON_REC_LOST:
		run->lost += lost->lost;
		fprintf(stderr, "WARNING: %llu events lost on CPU %u (buffer full)\n",
			(unsigned long long)lost->lost, ring->cpu);
		return 0;
	default:
		run->stop = run->sn->record(&run->sc, rec);
		/* Stops the round; the loop ends after it. */
		return run->stop;
	}
}

static void on_corrupt(void *ctx, const struct pm_ring_view *ring,
		       uint64_t pos, const char *why)
{
	struct snoop_run *run = ctx;

	fprintf(stderr, "%s: cpu %u: skipping unparseable data at byte %" PRIu64 ": %s\n",
		run->sn->tool, ring->cpu, pos, why);
}

static int setup_session(struct snoop_run *run, struct pm_reader *r,
			 struct pm_error *err)
{
	const struct pm_cli *cli = run->sc.cli;
	struct pm_session_ref session = {
		.id = r->info.session_id,
		.token = r->info.session_token,
	};
	struct pm_filter filter = {
		.quiet_groups = run->sn->quiet_groups,
	};
	const char *const *g;
	struct pm_ctl *ctl;
	int ret;

	ret = pm_ctl_open(&ctl, false, err);
	if (ret < 0)
		return ret;
	if (!run->sn->pids_in_userspace) {
		filter.tgids = cli->pids;
		filter.nr_tgids = cli->nr_pids;
	}
	if (filter.nr_tgids || filter.quiet_groups)
		ret = pm_ctl_set_filter(ctl, &session, &filter, err);
	if (ret >= 0 && run->sn->setup)
		ret = run->sn->setup(&run->sc, ctl, &session, err);
	for (g = run->sn->groups; ret >= 0 && g && *g; g++)
		ret = pm_ctl_set_group(ctl, *g, true, &session, err);
	pm_ctl_close(ctl);
	return ret;
}

/* Next interval boundary after @now, or 0 without intervals. */
static uint64_t next_tick(const struct pm_cli *cli, uint64_t from)
{
	if (cli->interval <= 0)
		return 0;
	return from + (uint64_t)(cli->interval * 1e9);
}

static uint64_t earliest(uint64_t a, uint64_t b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	return a < b ? a : b;
}

static int stream(struct snoop_run *run, struct pm_reader *r,
		  struct pm_error *err)
{
	const struct pm_consume_ops ops = {
		.record = on_record,
		.corrupt = on_corrupt,
	};
	const struct pm_cli *cli = run->sc.cli;
	uint64_t deadline = cli->duration > 0 ?
			    run->sc.start_ns +
				    (uint64_t)(cli->duration * 1e9) : 0;
	uint64_t tick = run->sn->interval ?
			next_tick(cli, run->sc.start_ns) : 0;
	uint64_t ticks = 0;
	bool device_said_ready = false;

	for (;;) {
		long n = pm_reader_round(r, &ops, run);
		uint64_t now, wake;
		int timeout = SNOOP_ROUND_MS, w;

		if (n < 0 && !run->stop)
			return pm_error_set(err, PM_ERR_RUNTIME, (int)-n,
					    "reading records failed: %s",
					    strerror((int)-n));
		if (pm_out_flush(&run->sc.out) < 0)
			return pm_error_set(err, PM_ERR_RUNTIME, EIO,
					    "cannot write the output: %s",
					    strerror(errno));
		if (run->stop)
			return 0;
		now = pm_monotonic_ns();
		if (pm_cli_stop_requested() || (deadline && now >= deadline)) {
			/* What was written before the stop is still shown. */
			if (pm_reader_drain(r, &ops, run) < 0 && !run->stop)
				return pm_error_set(err, PM_ERR_RUNTIME, EIO,
						    "reading records failed");
			return pm_out_flush(&run->sc.out) < 0 ?
			       pm_error_set(err, PM_ERR_RUNTIME, EIO,
					    "cannot write the output: %s",
					    strerror(errno)) : 0;
		}
		if (tick && now >= tick) {
			ticks++;
			if (cli->count && ticks >= cli->count)
				return 0;
			if (run->sn->interval(&run->sc, false))
				return 0;
			if (pm_out_flush(&run->sc.out) < 0)
				return pm_error_set(err, PM_ERR_RUNTIME, EIO,
						    "cannot write the output: %s",
						    strerror(errno));
			tick = next_tick(cli, tick);
			if (tick <= now)
				tick = next_tick(cli, now);
		}
		wake = earliest(deadline, tick);
		if (wake && (wake - now) / 1000000 < (uint64_t)timeout)
			timeout = (int)((wake - now) / 1000000) + 1;
		if (device_said_ready && n == 0 &&
		    !pm_cli_sleep(SNOOP_SPIN_PAUSE_S))
			return 0;
		w = pm_reader_wait(r, timeout, err);
		if (w < 0)
			return w;
		device_said_ready = w > 0;
	}
}

/* Drops the kernel counted but had not announced yet; -1 if unknown. */
static int64_t pending_drops(const struct pm_snoop *sn, struct pm_reader *r)
{
	struct persecmon_cpu_stats stats;
	struct pm_error err;
	uint64_t pending = 0;
	unsigned int i;

	for (i = 0; i < r->nr_rings; i++) {
		if (pm_reader_cpu_stats(r, r->rings[i].cpu, &stats, &err) < 0) {
			fprintf(stderr, "%s: warning: %s; drop count unknown\n",
				sn->tool, err.msg);
			return -1;
		}
		pending += stats.dropped - stats.lost_reported;
	}
	return (int64_t)pending;
}

int pm_snoop_run(const struct pm_snoop *sn, const struct pm_cli *cli,
		 void *priv)
{
	struct snoop_run run = {
		.sn = sn,
		.sc = { .priv = priv, .cli = cli },
	};
	struct pm_reader *r = NULL;
	struct pm_error err;
	int64_t pending;
	int ret, exit_code = PM_EXIT_OK;

	pm_error_clear(&err);
	ret = pm_reader_open(&r, sn->device, &err);
	if (ret < 0)
		return pm_error_report(&err, sn->tool);
	run.sc.session_id = r->info.session_id;
	run.sc.session_token = r->info.session_token;
	pm_out_init(&run.sc.out, stdout, cli->json ? PM_OUT_JSON : PM_OUT_TEXT,
		    cli->verbose > 0);
	pm_cli_catch_stop_signals();
	ret = setup_session(&run, r, &err);
	if (ret < 0) {
		exit_code = pm_error_report(&err, sn->tool);
		goto out;
	}
	run.sc.start_ns = pm_monotonic_ns();
	run.sc.realtime_offset_ns = (int64_t)(pm_realtime_ns() -
					      run.sc.start_ns);
	fprintf(stderr, "Tracing %s... Hit Ctrl-C to end.\n", sn->what);
	if (sn->header && !pm_out_is_json(&run.sc.out))
		sn->header(&run.sc);
	ret = stream(&run, r, &err);
	if (ret < 0)
		exit_code = pm_error_report(&err, sn->tool);
	if (sn->interval && sn->final_summary && exit_code == PM_EXIT_OK)
		sn->interval(&run.sc, true);
	pm_out_flush(&run.sc.out);
	pending = pending_drops(sn, r);
	if (pending < 0) {
		fprintf(stderr, "WARNING: %" PRIu64 " events lost, maybe more\n",
			run.lost);
	} else if (run.lost || pending) {
		fprintf(stderr, "WARNING: %" PRIu64 " events lost (%" PRIu64 " announced, %" PRId64 " not yet announced)\n",
			run.lost + (uint64_t)pending, run.lost, pending);
	}
out:
	pm_reader_close(r);
	return exit_code;
}
