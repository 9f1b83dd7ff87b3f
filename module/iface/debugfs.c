// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/persecmon/status: what the module is doing, as
 * "key value" lines. Read-only (0444) on purpose: under lockdown debugfs
 * refuses every file with a write bit, and control belongs to netlink.
 * Reading takes the control-side mutexes only; writers never wait for it.
 */
#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/module.h>
#include <linux/seq_file.h>

#include "core/agg.h"
#include "core/filter.h"
#include "core/groups.h"
#include "core/session.h"
#include "iface/debugfs.h"

static struct dentry *pm_debugfs_dir;

static int pm_status_session(void *arg, const struct pm_session_summary *ss)
{
	struct seq_file *m = arg;

	seq_printf(m, "session %u owner_tgid %u groups ", ss->id,
		   ss->owner_tgid);
	pm_groups_print_mask(m, ss->groups);
	seq_printf(m, " produced %llu written %llu dropped %llu consumed %llu\n",
		   ss->counts.produced, ss->counts.written,
		   ss->counts.dropped, ss->counts.consumed);
	return 0;
}

/* "global_filter -", or e.g. "global_filter tgids 12,34 cgroup 5". */
static void pm_status_global_filter(struct seq_file *m)
{
	struct pm_filter_spec spec;
	unsigned int i;

	seq_puts(m, "global_filter");
	if (!pm_global_filter_get(&spec)) {
		seq_puts(m, " -\n");
		return;
	}
	if (spec.nr_tgids) {
		seq_puts(m, " tgids ");
		for (i = 0; i < spec.nr_tgids; i++)
			seq_printf(m, "%s%u", i ? "," : "", spec.tgids[i]);
	}
	if (spec.cgroup_id)
		seq_printf(m, " cgroup %llu", spec.cgroup_id);
	seq_putc(m, '\n');
}

static int pm_status_show(struct seq_file *m, void *unused)
{
	struct pm_counts counts;
	unsigned int cpu;

	seq_printf(m, "abi %u.%u\n", PERSECMON_ABI_MAJOR, PERSECMON_ABI_MINOR);
	seq_printf(m, "module_version %s\n", PERSECMON_VERSION);
	seq_printf(m, "data_size %llu\n", pm_session_data_size());
	seq_printf(m, "sessions %u\n", pm_sessions_open());
	seq_printf(m, "max_sessions %u\n", pm_sessions_max());
	seq_puts(m, "groups_global ");
	pm_groups_print_mask(m, pm_groups_global());
	seq_puts(m, "\ngroups_attached ");
	pm_groups_print_mask(m, pm_groups_attached());
	seq_putc(m, '\n');
	pm_status_global_filter(m);
	pm_groups_show(m);
	pm_sessions_for_each(pm_status_session, m);
	/* Totals over every session, closed ones included. */
	for_each_possible_cpu(cpu) {
		pm_sessions_cpu_counts(cpu, &counts);
		seq_printf(m,
			   "cpu %u online %d produced %llu written %llu dropped %llu consumed %llu\n",
			   cpu, cpu_online(cpu), counts.produced,
			   counts.written, counts.dropped, counts.consumed);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pm_status);

void pm_debugfs_init(void)
{
	pm_debugfs_dir = debugfs_create_dir(PERSECMON_DEBUGFS_DIR, NULL);
	debugfs_create_file("status", 0444, pm_debugfs_dir, NULL,
			    &pm_status_fops);
	/* One file per aggregate table, and "probes". */
	pm_agg_debugfs_init(pm_debugfs_dir);
}

void pm_debugfs_exit(void)
{
	debugfs_remove(pm_debugfs_dir);
}
