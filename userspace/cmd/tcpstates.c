// SPDX-License-Identifier: GPL-2.0
/*
 * persecmon tcpstates: one line per TCP state change, in the columns of
 * bcc's tcpstates (without SKADDR: records carry no kernel pointers), from
 * the "net" group's PERSECMON_EV_TCP_STATE records.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cmd.h"
#include "persecmon/error.h"
#include "persecmon/snoop.h"

struct tcpstates_opts {
	bool timestamp;
	bool wall_clock;
	bool ipv4;
	bool ipv6;
	const char *lports;
	const char *dports;
	const char *device;
};

#define MAX_PORTS	16

struct tcpstates_state {
	uint32_t lports[MAX_PORTS], dports[MAX_PORTS];
	int nr_lports, nr_dports;
};

static struct tcpstates_opts opts;

static const struct pm_option tcpstates_options[] = {
	{ "timestamp", 't', PM_OPT_FLAG, NULL,
	  "add a TIME(s) column (seconds since start)", &opts.timestamp, 0, 0,
	  NULL },
	{ "time", 'T', PM_OPT_FLAG, NULL,
	  "add a TIME column (wall clock, HH:MM:SS)", &opts.wall_clock, 0, 0,
	  NULL },
	{ "ipv4", '4', PM_OPT_FLAG, NULL, "only IPv4 sockets", &opts.ipv4, 0,
	  0, NULL },
	{ "ipv6", '6', PM_OPT_FLAG, NULL, "only IPv6 sockets", &opts.ipv6, 0,
	  0, NULL },
	{ "localport", 'L', PM_OPT_STRING, "PORT[,PORT...]",
	  "only these local ports", &opts.lports, 0, 0, NULL },
	{ "remoteport", 'D', PM_OPT_STRING, "PORT[,PORT...]",
	  "only these remote ports", &opts.dports, 0, 0, NULL },
	{ "device", 0, PM_OPT_STRING, "PATH",
	  "device to open (default " PERSECMON_DEVICE_PATH ")", &opts.device,
	  0, 0, NULL },
	{ 0 },
};

static const char tcpstates_description[] =
	"Traces every TCP state change of IPv4 and IPv6 sockets through the\n"
	"\"net\" probe group (the sock:inet_sock_set_state tracepoint), which\n"
	"this command enables for its own session only.\n"
	"\n"
	"Columns: C-PID and C-COMM: for the changes of an active connect in\n"
	"flight (CLOSE -> SYN_SENT -> ESTABLISHED or CLOSE) the process that\n"
	"called connect(), even in softirq context; otherwise the process that\n"
	"caused the change in process context (listen(), close()), and \"-\"\n"
	"(pid 0) for changes made in interrupt context, where bcc's tcpstates\n"
	"prints whichever task happened to be interrupted. LADDR, LPORT,\n"
	"RADDR, RPORT; OLDSTATE -> NEWSTATE; MS: milliseconds spent in\n"
	"OLDSTATE, known only for a connect in flight (else \"-\"; bcc keeps a\n"
	"timestamp per socket). SKADDR is not shown: records carry no kernel\n"
	"addresses.\n"
	"\n"
	"-p PID filters in the kernel, by the attributed process: changes\n"
	"made in interrupt context (pid 0) outside a connect are not shown.\n";

static const char tcpstates_examples[] =
	"  persecmon tcpstates              # trace every TCP state change\n"
	"  persecmon tcpstates -t           # with a TIME(s) column\n"
	"  persecmon tcpstates -L 80,81     # only local ports 80 and 81\n"
	"  persecmon tcpstates -D 443       # only remote port 443\n"
	"  persecmon tcpstates -4 -p 181    # IPv4, attributed to process 181\n"
	"  persecmon tcpstates --json -d 5  # JSON lines for 5 seconds\n";

static const char *const state_names[] = {
	[1] = "ESTABLISHED", [2] = "SYN_SENT", [3] = "SYN_RECV",
	[4] = "FIN_WAIT1", [5] = "FIN_WAIT2", [6] = "TIME_WAIT",
	[7] = "CLOSE", [8] = "CLOSE_WAIT", [9] = "LAST_ACK",
	[10] = "LISTEN", [11] = "CLOSING", [12] = "NEW_SYN_RECV",
};

static const char *state_str(unsigned int s, char buf[16])
{
	if (s < sizeof(state_names) / sizeof(state_names[0]) && state_names[s])
		return state_names[s];
	snprintf(buf, 16, "state%u", s);
	return buf;
}

static bool port_wanted(const uint32_t *ports, int n, uint16_t port)
{
	int i;

	if (n == 0)
		return true;
	for (i = 0; i < n; i++)
		if (ports[i] == port)
			return true;
	return false;
}

static void print_header(struct pm_snoop_ctx *sc)
{
	const char *time_col = opts.wall_clock ? "TIME     " :
			       opts.timestamp ? "TIME(s)   " : "";

	pm_out_header(&sc->out, "%s%-6s %-10s %-2s %-15s %-5s %-15s %-5s %-11s -> %-11s %s",
		      time_col, "C-PID", "C-COMM", "IP", "LADDR", "LPORT",
		      "RADDR", "RPORT", "OLDSTATE", "NEWSTATE", "MS");
}

static int print_state(struct pm_snoop_ctx *sc,
		       const struct persecmon_record *rec)
{
	const struct persecmon_tcp_event *ev = (const void *)rec;
	const struct tcpstates_state *st = sc->priv;
	char laddr[INET6_ADDRSTRLEN], raddr[INET6_ADDRSTRLEN];
	char comm[PERSECMON_COMM_LEN + 1], short_comm[11];
	char old_buf[16], new_buf[16], ms[32];
	struct pm_out *out = &sc->out;
	int af = ev->family == AF_INET6 ? AF_INET6 : AF_INET;

	if (rec->type != PERSECMON_EV_TCP_STATE)
		return 0;
	if (!pm_snoop_pid_wanted(sc, rec->tgid))
		return 0;
	if ((opts.ipv4 && af != AF_INET) || (opts.ipv6 && af != AF_INET6))
		return 0;
	if (!port_wanted(st->lports, st->nr_lports, ev->sport) ||
	    !port_wanted(st->dports, st->nr_dports, ev->dport))
		return 0;
	if (!inet_ntop(af, ev->saddr, laddr, sizeof(laddr)))
		snprintf(laddr, sizeof(laddr), "?");
	if (!inet_ntop(af, ev->daddr, raddr, sizeof(raddr)))
		snprintf(raddr, sizeof(raddr), "?");
	pm_snoop_comm(comm, ev->comm);

	pm_out_line_begin(out);
	pm_snoop_time_col(sc, rec->time_ns, opts.wall_clock, opts.timestamp);
	if (pm_out_is_json(out)) {
		pm_out_col_u64(out, "pid", 0, rec->tgid);
		pm_out_col_str(out, "comm", 0, comm);
	} else {
		if (rec->tgid)
			pm_out_col_u64(out, "pid", -6, rec->tgid);
		else
			pm_out_col_str(out, "pid", -6, "-");
		memcpy(short_comm, comm, sizeof(short_comm) - 1);
		short_comm[sizeof(short_comm) - 1] = '\0';
		pm_out_col_str(out, "comm", -10, *comm ? short_comm : "-");
	}
	pm_out_col_u64(out, "ip", -2, af == AF_INET6 ? 6 : 4);
	pm_out_col_str(out, "laddr", -15, laddr);
	pm_out_col_u64(out, "lport", -5, ev->sport);
	pm_out_col_str(out, "raddr", -15, raddr);
	pm_out_col_u64(out, "rport", -5, ev->dport);
	pm_out_col_str(out, "oldstate", -11,
		       state_str(ev->oldstate, old_buf));
	if (!pm_out_is_json(out))
		pm_out_text(out, " ->");
	pm_out_col_str(out, "newstate", -11,
		       state_str(ev->newstate, new_buf));
	if (pm_out_is_json(out)) {
		if (ev->flags & PERSECMON_TCP_LATENCY)
			pm_out_kv_f64(out, "ms", 3,
				      (double)ev->latency_ns / 1e6);
		pm_out_kv_bool(out, "connector",
			       ev->flags & PERSECMON_TCP_CONNECTOR);
		pm_out_kv_u64(out, "tid", rec->pid);
		pm_out_kv_u64(out, "time_ns", rec->time_ns);
	} else {
		if (ev->flags & PERSECMON_TCP_LATENCY)
			snprintf(ms, sizeof(ms), "%.3f",
				 (double)ev->latency_ns / 1e6);
		else
			snprintf(ms, sizeof(ms), "-");
		pm_out_col_str(out, "ms", 0, ms);
	}
	pm_out_line_end(out);
	return 0;
}

static int parse_ports(const char *name, const char *opt, const char *s,
		       uint32_t *ports, int *n)
{
	size_t i;

	if (!s)
		return 0;
	*n = pm_parse_u32_list(s, ports, MAX_PORTS);
	for (i = 0; *n > 0 && i < (size_t)*n; i++)
		if (ports[i] > 65535)
			*n = -1;
	if (*n <= 0) {
		fprintf(stderr, "%s: %s needs up to %d ports (0-65535), not '%s'\n",
			name, opt, MAX_PORTS, s);
		return -1;
	}
	return 0;
}

int cmd_tcpstates(const char *name, int argc, char **argv)
{
	static const char *const groups[] = { "net", NULL };
	const struct pm_command cmd = {
		.name = name,
		.summary = "Trace TCP state changes.",
		.common = PM_CLI_JSON | PM_CLI_PID | PM_CLI_DURATION,
		.pid_help = "only changes attributed to these processes",
		.duration_help = "stop after SECONDS",
		.options = tcpstates_options,
		.description = tcpstates_description,
		.examples = tcpstates_examples,
	};
	struct pm_snoop sn = {
		.tool = name,
		.what = "TCP state changes",
		.groups = groups,
		.header = print_header,
		.record = print_state,
	};
	struct tcpstates_state st = { 0 };
	struct pm_cli cli;
	int exit_code;

	memset(&opts, 0, sizeof(opts));
	if (!pm_cli_parse_main(&cmd, argc, argv, &cli, &exit_code))
		return exit_code;
	if (opts.wall_clock && opts.timestamp) {
		fprintf(stderr, "%s: -T and -t contradict each other\n", name);
		return PM_EXIT_USAGE;
	}
	if (opts.ipv4 && opts.ipv6) {
		fprintf(stderr, "%s: -4 and -6 contradict each other\n", name);
		return PM_EXIT_USAGE;
	}
	if (parse_ports(name, "-L", opts.lports, st.lports, &st.nr_lports) ||
	    parse_ports(name, "-D", opts.dports, st.dports, &st.nr_dports))
		return PM_EXIT_USAGE;
	sn.device = opts.device;
	return pm_snoop_run(&sn, &cli, &st);
}
