// SPDX-License-Identifier: GPL-2.0
/*
 * persecmon tcpconnlat: one line per active TCP connect, with its latency
 * (SYN sent to established), in the columns of bcc's tcpconnlat, from the
 * "net" group's PERSECMON_EV_TCP_CONNECT records. Unlike bcc it also shows
 * connects that failed (refused, timed out), marked as such.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cmd.h"
#include "persecmon/error.h"
#include "persecmon/snoop.h"

struct tcpconnlat_opts {
	bool timestamp;
	bool lport;
	bool failed_only;
	bool established_only;
	const char *device;
};

struct tcpconnlat_state {
	uint64_t min_ns;	/* the MIN_MS argument, 0 = all */
};

static struct tcpconnlat_opts opts;

static const struct pm_option tcpconnlat_options[] = {
	{ "timestamp", 't', PM_OPT_FLAG, NULL,
	  "add a TIME(s) column (seconds since start)", &opts.timestamp, 0, 0,
	  NULL },
	{ "lport", 'L', PM_OPT_FLAG, NULL,
	  "add an LPORT column (the local port)", &opts.lport, 0, 0, NULL },
	{ "failed", 'x', PM_OPT_FLAG, NULL, "only connects that failed",
	  &opts.failed_only, 0, 0, NULL },
	{ "established", 'E', PM_OPT_FLAG, NULL,
	  "only connects that succeeded",
	  &opts.established_only, 0, 0, NULL },
	{ "device", 0, PM_OPT_STRING, "PATH",
	  "device to open (default " PERSECMON_DEVICE_PATH ")", &opts.device,
	  0, 0, NULL },
	{ 0 },
};

static const char tcpconnlat_description[] =
	"Traces active TCP connects (connect(2) on IPv4 and IPv6 sockets)\n"
	"and their latency, through the \"net\" probe group (the\n"
	"sock:inet_sock_set_state tracepoint), which this command enables for\n"
	"its own session only. The latency runs from the moment the socket\n"
	"enters SYN_SENT inside connect() (after the route lookup, just\n"
	"before the SYN is sent) to the moment it becomes ESTABLISHED (the\n"
	"SYN-ACK arrived) or, for a failed connect, CLOSE (a RST: refused;\n"
	"retransmissions exhausted: timed out; or closed meanwhile).\n"
	"\n"
	"Columns: PID (the process that called connect(), even though the\n"
	"handshake ends in softirq context), COMM (its command name, 12\n"
	"characters as in bcc), IP (4 or 6), SADDR, LPORT (with -L), DADDR,\n"
	"DPORT, LAT(ms). A failed connect ends with \"FAILED\" and the socket's\n"
	"error (e.g. ECONNREFUSED, ETIMEDOUT; \"-\" when it was closed). MIN_MS\n"
	"shows only connects that took at least MIN_MS milliseconds.\n"
	"\n"
	"Not seen: connects started before this command, or while the kernel's\n"
	"table of connects in flight (4096) was full (debugfs status, \"net\n"
	"... table_full\"). Records the kernel had to drop are reported on\n"
	"stderr as they are announced and in the closing count.\n";

static const char tcpconnlat_examples[] =
	"  persecmon tcpconnlat             # trace every connect\n"
	"  persecmon tcpconnlat 1           # only connects slower than 1 ms\n"
	"  persecmon tcpconnlat 0.1         # only connects slower than 100 us\n"
	"  persecmon tcpconnlat -t -L       # with TIME(s) and LPORT columns\n"
	"  persecmon tcpconnlat -p 181      # only connects by process 181\n"
	"  persecmon tcpconnlat -x          # only failed connects\n"
	"  persecmon tcpconnlat --json -d 5 # JSON lines for 5 seconds\n";

static void print_header(struct pm_snoop_ctx *sc)
{
	pm_out_header(&sc->out, "%s%-7s %-12s %-2s %-16s %s%-16s %-5s %s",
		      opts.timestamp ? "TIME(s)   " : "", "PID", "COMM", "IP",
		      "SADDR", opts.lport ? "LPORT  " : "", "DADDR", "DPORT",
		      "LAT(ms)");
}

static void addr_str(const struct persecmon_tcp_event *ev,
		     const uint8_t addr[16], char *buf, size_t len)
{
	if (!inet_ntop(ev->family == AF_INET6 ? AF_INET6 : AF_INET, addr, buf,
		       (socklen_t)len))
		snprintf(buf, len, "?");
}

static int print_connect(struct pm_snoop_ctx *sc,
			 const struct persecmon_record *rec)
{
	const struct persecmon_tcp_event *ev = (const void *)rec;
	const struct tcpconnlat_state *st = sc->priv;
	char saddr[INET6_ADDRSTRLEN], daddr[INET6_ADDRSTRLEN];
	char comm[PERSECMON_COMM_LEN + 1], short_comm[13];
	bool failed = ev->flags & PERSECMON_TCP_FAILED;
	struct pm_out *out = &sc->out;
	const char *err_name = NULL;
	unsigned int ip = ev->family == AF_INET6 ? 6 : 4;

	/* The group's state-change records are not shown here. */
	if (rec->type != PERSECMON_EV_TCP_CONNECT)
		return 0;
	if (!pm_snoop_pid_wanted(sc, rec->tgid))
		return 0;
	if ((opts.failed_only && !failed) ||
	    (opts.established_only && failed))
		return 0;
	if (ev->latency_ns < st->min_ns)
		return 0;
	pm_snoop_comm(comm, ev->comm);
	addr_str(ev, ev->saddr, saddr, sizeof(saddr));
	addr_str(ev, ev->daddr, daddr, sizeof(daddr));
	if (ev->error)
		err_name = strerrorname_np(ev->error);

	pm_out_line_begin(out);
	if (opts.timestamp || pm_out_is_json(out))
		pm_out_col_f64(out, "ts", -9, 3,
			       pm_snoop_elapsed(sc, rec->time_ns));
	pm_out_col_u64(out, "pid", -7, rec->tgid);
	if (pm_out_is_json(out)) {
		pm_out_col_str(out, "comm", 0, comm);
	} else {
		/* bcc prints "%-12.12s" */
		memcpy(short_comm, comm, sizeof(short_comm) - 1);
		short_comm[sizeof(short_comm) - 1] = '\0';
		pm_out_col_str(out, "comm", -12, short_comm);
	}
	pm_out_col_u64(out, "ip", -2, ip);
	pm_out_col_str(out, "saddr", -16, saddr);
	if (opts.lport || pm_out_is_json(out))
		pm_out_col_u64(out, "lport", -6, ev->sport);
	pm_out_col_str(out, "daddr", -16, daddr);
	pm_out_col_u64(out, "dport", -5, ev->dport);
	pm_out_col_f64(out, "lat_ms", 0, 2, (double)ev->latency_ns / 1e6);
	if (pm_out_is_json(out)) {
		pm_out_kv_bool(out, "failed", failed);
		pm_out_kv_i64(out, "error", ev->error);
		if (ev->error)
			pm_out_kv_str(out, "errno", err_name ? err_name : "E?");
		pm_out_kv_u64(out, "latency_ns", ev->latency_ns);
		pm_out_kv_u64(out, "tid", rec->pid);
		pm_out_kv_u64(out, "uid", rec->uid);
		pm_out_kv_u64(out, "time_ns", rec->time_ns);
	} else if (failed) {
		pm_out_text(out, " FAILED %s",
			    ev->error ? (err_name ? err_name : "E?") : "-");
	}
	pm_out_line_end(out);
	return 0;
}

/* MIN_MS: a non-negative number of milliseconds, fractions allowed. */
static int parse_min_ms(const char *s, uint64_t *ns)
{
	char *end;
	double ms;

	errno = 0;
	ms = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(ms) || ms < 0 ||
	    ms > 86400e3)
		return -1;
	*ns = (uint64_t)(ms * 1e6 + 0.5);
	return 0;
}

int cmd_tcpconnlat(const char *name, int argc, char **argv)
{
	static const char *const groups[] = { "net", NULL };
	const struct pm_command cmd = {
		.name = name,
		.summary = "Trace TCP active connects and their latency.",
		.args = "[MIN_MS]",
		.min_args = 0,
		.max_args = 1,
		.common = PM_CLI_JSON | PM_CLI_PID | PM_CLI_DURATION,
		.pid_help = "only connects by these processes",
		.duration_help = "stop after SECONDS",
		.options = tcpconnlat_options,
		.description = tcpconnlat_description,
		.examples = tcpconnlat_examples,
	};
	struct pm_snoop sn = {
		.tool = name,
		.what = "connect()s",
		.groups = groups,
		.header = print_header,
		.record = print_connect,
	};
	struct tcpconnlat_state st = { 0 };
	struct pm_cli cli;
	int exit_code;

	memset(&opts, 0, sizeof(opts));
	if (!pm_cli_parse_main(&cmd, argc, argv, &cli, &exit_code))
		return exit_code;
	if (cli.nr_args == 1 && parse_min_ms(cli.args[0], &st.min_ns) < 0) {
		fprintf(stderr, "%s: MIN_MS must be a number of milliseconds >= 0, not '%s'\n",
			name, cli.args[0]);
		return PM_EXIT_USAGE;
	}
	if (opts.failed_only && opts.established_only) {
		fprintf(stderr, "%s: -x and -E contradict each other\n", name);
		return PM_EXIT_USAGE;
	}
	sn.device = opts.device;
	return pm_snoop_run(&sn, &cli, &st);
}
