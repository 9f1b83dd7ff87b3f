// SPDX-License-Identifier: GPL-2.0
/*
 * persecmon biosnoop: one line per completed block request, in the columns
 * of bcc's biosnoop, from the "block" group's PERSECMON_EV_BLOCK records.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "persecmon/error.h"
#include "persecmon/snoop.h"

struct biosnoop_opts {
	bool queue;
	const char *disk;
	const char *device;
};

/* dev -> disk name, looked up once per device. */
struct disk_cache {
	uint32_t dev[64];
	char name[64][32];
	unsigned int nr;
};

static struct biosnoop_opts opts;
static struct disk_cache disks;

static const struct pm_option biosnoop_options[] = {
	{ "queue", 'Q', PM_OPT_FLAG, NULL,
	  "add a QUE(ms) column: time queued before the issue", &opts.queue,
	  0, 0, NULL },
	{ "disk", 0, PM_OPT_STRING, "NAME",
	  "only this disk (e.g. vda, nvme0n1)", &opts.disk, 0, 0, NULL },
	{ "device", 0, PM_OPT_STRING, "PATH",
	  "device to open (default " PERSECMON_DEVICE_PATH ")", &opts.device,
	  0, 0, NULL },
	{ 0 },
};

static const char biosnoop_description[] =
	"Traces block device I/O: one line per request when it completes,\n"
	"through the \"block\" probe group (tracepoints block_rq_issue and\n"
	"block_rq_complete, and block_io_start or block_getrq for the\n"
	"submitter), which this command enables for its own session only.\n"
	"\n"
	"Columns: TIME(s) (completion, seconds since start), COMM and PID\n"
	"(the process that SUBMITTED the request, although completions run\n"
	"in interrupt context), DISK, T (R read, W write, F flush, D discard,\n"
	"Z write zeroes, O other), SECTOR (512-byte units from the start of\n"
	"the disk), BYTES, QUE(ms) with -Q (request built -> issued to the\n"
	"driver), LAT(ms) (issued -> completed).\n"
	"\n"
	"Buffered writes reach the disk through writeback, so they are\n"
	"submitted by a kernel flusher thread (kworker/...), not by the\n"
	"process that wrote them: such lines end with \"writeback\" (JSON:\n"
	"\"writeback\": true); the writing process is not known. A request\n"
	"whose submission was not seen (built before tracing started, or by\n"
	"the block layer itself, e.g. a cache flush) has PID 0 and COMM \"?\"\n"
	"and ends with \"no-submitter\". -p filters on the submitter, in the\n"
	"kernel.\n"
	"\n"
	"bcc's biosnoop (bpfcc-tools 0.26) needs a kprobe on\n"
	"blk_account_io_start, which 6.1 inlines. bcc's -d DISK is --disk\n"
	"here (-d is the duration, as in every PerSecMon command). Records\n"
	"the kernel had to drop are reported on stderr as they are announced\n"
	"and in the closing count.\n";

static const char biosnoop_examples[] =
	"  persecmon biosnoop                # trace all block I/O\n"
	"  persecmon biosnoop -Q             # with time queued in the kernel\n"
	"  persecmon biosnoop --disk vda     # only the disk vda\n"
	"  persecmon biosnoop -p 1234        # only I/O submitted by process 1234\n"
	"  persecmon biosnoop --json -d 5    # JSON lines for 5 seconds\n";

static const char *disk_name(uint32_t dev, char *majmin, size_t len)
{
	unsigned int maj = (dev >> 8) & 0xfff;
	unsigned int min = (dev & 0xff) | ((dev >> 12) & 0xfff00);
	char path[96], line[256];
	unsigned int i;
	char *name;
	FILE *f;

	snprintf(majmin, len, "%u:%u", maj, min);
	for (i = 0; i < disks.nr; i++)
		if (disks.dev[i] == dev)
			return disks.name[i];
	if (disks.nr == sizeof(disks.dev) / sizeof(disks.dev[0]))
		return majmin;
	i = disks.nr++;
	disks.dev[i] = dev;
	name = disks.name[i];
	snprintf(name, sizeof(disks.name[i]), "%s", majmin);
	snprintf(path, sizeof(path), "/sys/dev/block/%s/uevent", majmin);
	f = fopen(path, "re");
	if (!f)
		return name;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "DEVNAME=", 8)) {
			size_t l = strcspn(line + 8, "\n");

			if (l >= sizeof(disks.name[i]))
				l = sizeof(disks.name[i]) - 1;
			memcpy(name, line + 8, l);
			name[l] = '\0';
			break;
		}
	}
	fclose(f);
	return name;
}

static char op_char(uint8_t op)
{
	static const char chars[] = {
		[PERSECMON_BLOCK_READ] = 'R',
		[PERSECMON_BLOCK_WRITE] = 'W',
		[PERSECMON_BLOCK_FLUSH] = 'F',
		[PERSECMON_BLOCK_DISCARD] = 'D',
		[PERSECMON_BLOCK_WRITE_ZEROES] = 'Z',
		[PERSECMON_BLOCK_OTHER] = 'O',
	};

	return op < sizeof(chars) ? chars[op] : '?';
}

static void print_header(struct pm_snoop_ctx *sc)
{
	pm_out_header(&sc->out, "%-11s %-14s %-7s %-9s %-1s %-10s %-7s %s%7s",
		      "TIME(s)", "COMM", "PID", "DISK", "T", "SECTOR", "BYTES",
		      opts.queue ? "QUE(ms) " : "", "LAT(ms)");
}

static int print_block(struct pm_snoop_ctx *sc,
		       const struct persecmon_record *rec)
{
	const struct persecmon_block_event *ev = (const void *)rec;
	bool writeback = ev->flags & PERSECMON_BLOCK_F_WRITEBACK;
	bool nosub = ev->flags & PERSECMON_BLOCK_F_NO_SUBMITTER;
	char comm[PERSECMON_COMM_LEN + 1], majmin[32], t[2];
	struct pm_out *out = &sc->out;
	const char *disk;

	if (rec->type != PERSECMON_EV_BLOCK)
		return 0;
	disk = disk_name(ev->dev, majmin, sizeof(majmin));
	if (opts.disk && strcmp(opts.disk, disk))
		return 0;
	pm_snoop_comm(comm, ev->comm);
	if (nosub)
		snprintf(comm, sizeof(comm), "?");
	t[0] = op_char(ev->op);
	t[1] = '\0';

	pm_out_line_begin(out);
	pm_out_col_f64(out, "ts", -11, 6, pm_snoop_elapsed(sc, rec->time_ns));
	pm_out_col_str(out, "comm", -14, comm);
	pm_out_col_u64(out, "pid", -7, rec->tgid);
	pm_out_col_str(out, "disk", -9, disk);
	pm_out_col_str(out, "t", -1, t);
	pm_out_col_u64(out, "sector", -10, ev->sector);
	pm_out_col_u64(out, "bytes", -7, ev->bytes);
	if (opts.queue || pm_out_is_json(out))
		pm_out_col_f64(out, "que_ms", 7, 2, (double)ev->queue_ns / 1e6);
	pm_out_col_f64(out, "lat_ms", 7, 2, (double)ev->latency_ns / 1e6);
	if (pm_out_is_json(out)) {
		pm_out_kv_str(out, "dev", majmin);
		pm_out_kv_bool(out, "writeback", writeback);
		pm_out_kv_bool(out, "kthread",
			       ev->flags & PERSECMON_BLOCK_F_KTHREAD);
		pm_out_kv_bool(out, "no_submitter", nosub);
		pm_out_kv_i64(out, "error", ev->error);
		pm_out_kv_u64(out, "latency_ns", ev->latency_ns);
		pm_out_kv_u64(out, "queue_ns", ev->queue_ns);
		pm_out_kv_u64(out, "flags", ev->flags);
		pm_out_kv_u64(out, "tid", rec->pid);
		pm_out_kv_u64(out, "uid", rec->uid);
		pm_out_kv_u64(out, "time_ns", rec->time_ns);
	} else {
		if (writeback)
			pm_out_text(out, " writeback");
		if (nosub)
			pm_out_text(out, " no-submitter");
		if (ev->error)
			pm_out_text(out, " error %d", ev->error);
	}
	pm_out_line_end(out);
	return 0;
}

int cmd_biosnoop(const char *name, int argc, char **argv)
{
	static const char *const groups[] = { "block", NULL };
	const struct pm_command cmd = {
		.name = name,
		.summary = "Trace block device I/O: one line per request, with its latency.",
		.common = PM_CLI_JSON | PM_CLI_PID | PM_CLI_DURATION,
		.pid_help = "only I/O submitted by these processes",
		.duration_help = "stop after SECONDS",
		.options = biosnoop_options,
		.description = biosnoop_description,
		.examples = biosnoop_examples,
	};
	struct pm_snoop sn = {
		.tool = name,
		.what = "block I/O",
		.groups = groups,
		.header = print_header,
		.record = print_block,
	};
	struct pm_cli cli;
	int exit_code;

	memset(&opts, 0, sizeof(opts));
	memset(&disks, 0, sizeof(disks));
	if (!pm_cli_parse_main(&cmd, argc, argv, &cli, &exit_code))
		return exit_code;
	if (opts.disk && !*opts.disk) {
		fprintf(stderr, "%s: --disk needs a non-empty NAME\n", name);
		return PM_EXIT_USAGE;
	}
	sn.device = opts.device;
	return pm_snoop_run(&sn, &cli, NULL);
}
