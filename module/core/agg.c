// SPDX-License-Identifier: GPL-2.0
/*
 * In-kernel aggregates. Writers only ever touch their own CPU's counters
 * with this_cpu ops, so updates need no lock and no allocation in any
 * context; readers sum over every possible CPU and may see a sum that is a
 * few updates behind, never a torn one on 64-bit. The table and probe
 * registries change only at module init and exit; the mutex covers the
 * readers that walk them (netlink, debugfs "probes").
 */
#include <linux/debugfs.h>
#include <linux/kprobes.h>
#include <linux/limits.h>
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/string.h>

#include "core/agg.h"

static DEFINE_MUTEX(pm_agg_lock);
static LIST_HEAD(pm_agg_tables);
static LIST_HEAD(pm_probes);

int pm_agg_counters_alloc(struct pm_agg_counters *c, unsigned int n)
{
	c->values = __alloc_percpu(array_size(n, sizeof(u64)),
				   __alignof__(u64));
	if (!c->values)
		return -ENOMEM;
	c->n = n;
	return 0;
}

void pm_agg_counters_free(struct pm_agg_counters *c)
{
	free_percpu(c->values);
	c->values = NULL;
}

void pm_agg_counters_sum(const struct pm_agg_counters *c, u64 *out)
{
	unsigned int cpu, i;
	const u64 *v;

	memset(out, 0, c->n * sizeof(*out));
	for_each_possible_cpu(cpu) {
		v = per_cpu_ptr(c->values, cpu);
		for (i = 0; i < c->n; i++)
			out[i] += READ_ONCE(v[i]);
	}
}

void pm_agg_counters_reset(struct pm_agg_counters *c)
{
	unsigned int cpu, i;
	u64 *v;

	for_each_possible_cpu(cpu) {
		v = per_cpu_ptr(c->values, cpu);
		for (i = 0; i < c->n; i++)
			WRITE_ONCE(v[i], 0);
	}
}

/* Tables */

static struct pm_agg_table *pm_agg_find_locked(const char *name)
{
	struct pm_agg_table *t;

	list_for_each_entry(t, &pm_agg_tables, node)
		if (!strcmp(t->name, name))
			return t;
	return NULL;
}

int pm_agg_table_register(struct pm_agg_table *table)
{
	int ret = 0;

	if (!table->name || !table->columns || !table->rows || !table->reset)
		return -EINVAL;
	mutex_lock(&pm_agg_lock);
	if (pm_agg_find_locked(table->name))
		ret = -EEXIST;
	else
		list_add_tail(&table->node, &pm_agg_tables);
	mutex_unlock(&pm_agg_lock);
	return ret;
}

void pm_agg_table_unregister(struct pm_agg_table *table)
{
	mutex_lock(&pm_agg_lock);
	list_del(&table->node);
	mutex_unlock(&pm_agg_lock);
}

int pm_agg_tables_for_each(const char *name,
			   int (*fn)(void *arg, struct pm_agg_table *table),
			   void *arg)
{
	struct pm_agg_table *t;
	int ret = 0;

	mutex_lock(&pm_agg_lock);
	list_for_each_entry(t, &pm_agg_tables, node) {
		if (name && strcmp(t->name, name))
			continue;
		ret = fn(arg, t);
		if (ret)
			break;
	}
	mutex_unlock(&pm_agg_lock);
	return ret;
}

int pm_agg_table_reset(const char *name)
{
	struct pm_agg_table *t;

	mutex_lock(&pm_agg_lock);
	t = pm_agg_find_locked(name);
	if (t)
		t->reset();
	mutex_unlock(&pm_agg_lock);
	return t ? 0 : -ENOENT;
}

static bool pm_agg_is_hist(const struct pm_agg_table *table)
{
	return !strncmp(table->columns, "log2:", 5);
}

#define PM_AGG_STARS	40

static void pm_agg_show_hist(struct seq_file *m, const char *unit,
			     const u64 *slots, unsigned int n)
{
	unsigned int i, last = 0, stars;
	u64 max = 0, low, high;

	for (i = 0; i < n; i++) {
		if (slots[i])
			last = i;
		max = max(max, slots[i]);
	}
	seq_printf(m, "%20s : count    distribution\n", unit);
	for (i = 0; i <= last; i++) {
		low = i ? 1ULL << i : 0;
		high = i == 63 ? U64_MAX : (2ULL << i) - 1;
		stars = max ? div64_u64(slots[i] * PM_AGG_STARS, max) : 0;
		seq_printf(m, "%9llu -> %-9llu : %-8llu |%-*.*s|\n", low, high,
			   slots[i], PM_AGG_STARS, stars,
			   "****************************************");
	}
}

struct pm_agg_show_ctx {
	struct seq_file *m;
	const struct pm_agg_table *table;
};

static int pm_agg_show_row(void *arg, const char *key, const u64 *values,
			   unsigned int nr_values)
{
	struct pm_agg_show_ctx *ctx = arg;
	unsigned int i;

	if (pm_agg_is_hist(ctx->table)) {
		seq_printf(ctx->m, "\n%s\n", key);
		pm_agg_show_hist(ctx->m, ctx->table->columns + 5, values,
				 nr_values);
		return 0;
	}
	seq_puts(ctx->m, key);
	for (i = 0; i < nr_values; i++)
		seq_printf(ctx->m, " %llu", values[i]);
	seq_putc(ctx->m, '\n');
	return 0;
}

int pm_agg_table_show(struct seq_file *m, struct pm_agg_table *table)
{
	struct pm_agg_show_ctx ctx = { .m = m, .table = table };
	const char *c;

	if (table->show)
		return table->show(m);
	if (pm_agg_is_hist(table)) {
		seq_printf(m, "# %s: log2 histogram of %s per key\n",
			   table->name, table->columns + 5);
	} else {
		seq_puts(m, "# key ");
		for (c = table->columns; *c; c++)
			seq_putc(m, *c == ',' ? ' ' : *c);
		seq_putc(m, '\n');
	}
	return table->rows(pm_agg_show_row, &ctx);
}

/* Probes */

int pm_probe_register(struct pm_probe *probe)
{
	probe->hits = alloc_percpu(u64);
	if (!probe->hits)
		return -ENOMEM;
	mutex_lock(&pm_agg_lock);
	list_add_tail(&probe->node, &pm_probes);
	mutex_unlock(&pm_agg_lock);
	return 0;
}

void pm_probe_unregister(struct pm_probe *probe)
{
	mutex_lock(&pm_agg_lock);
	list_del(&probe->node);
	mutex_unlock(&pm_agg_lock);
	free_percpu(probe->hits);
	probe->hits = NULL;
}

unsigned int pm_probes_count(void)
{
	struct pm_probe *p;
	unsigned int n = 0;

	mutex_lock(&pm_agg_lock);
	list_for_each_entry(p, &pm_probes, node)
		n++;
	mutex_unlock(&pm_agg_lock);
	return n;
}

int pm_probes_for_each(int (*fn)(void *arg, const struct pm_probe_summary *ps),
		       void *arg)
{
	struct pm_probe_summary ps;
	struct pm_probe *p;
	unsigned int cpu;
	int ret = 0;

	mutex_lock(&pm_agg_lock);
	list_for_each_entry(p, &pm_probes, node) {
		ps.group = p->group;
		ps.name = p->name;
		ps.mechanism = p->mechanism;
		ps.attached = READ_ONCE(p->attached);
		ps.error = READ_ONCE(p->error);
		ps.hits = 0;
		for_each_possible_cpu(cpu)
			ps.hits += READ_ONCE(*per_cpu_ptr(p->hits, cpu));
		ps.missed = 0;
		if (p->kp)
			ps.missed += READ_ONCE(p->kp->nmissed);
		if (p->rp)
			ps.missed += READ_ONCE(p->rp->kp.nmissed) +
				     READ_ONCE(p->rp->nmissed);
		ret = fn(arg, &ps);
		if (ret)
			break;
	}
	mutex_unlock(&pm_agg_lock);
	return ret;
}

/* debugfs */

static int pm_agg_file_show(struct seq_file *m, void *unused)
{
	return pm_agg_table_show(m, m->private);
}
DEFINE_SHOW_ATTRIBUTE(pm_agg_file);

static int pm_probes_show_one(void *arg, const struct pm_probe_summary *ps)
{
	seq_printf(arg,
		   "group %s probe %s mechanism %s attached %d error %d hits %llu missed %llu\n",
		   ps->group, ps->name, ps->mechanism, ps->attached, ps->error,
		   ps->hits, ps->missed);
	return 0;
}

static int pm_probes_file_show(struct seq_file *m, void *unused)
{
	return pm_probes_for_each(pm_probes_show_one, m);
}
DEFINE_SHOW_ATTRIBUTE(pm_probes_file);

static int pm_agg_debugfs_table(void *arg, struct pm_agg_table *table)
{
	debugfs_create_file(table->name, 0444, arg, table, &pm_agg_file_fops);
	return 0;
}

void pm_agg_debugfs_init(struct dentry *dir)
{
	debugfs_create_file("probes", 0444, dir, NULL, &pm_probes_file_fops);
	pm_agg_tables_for_each(NULL, pm_agg_debugfs_table, dir);
}
