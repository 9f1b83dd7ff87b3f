// SPDX-License-Identifier: GPL-2.0
/*
 * PerSecMon: an outstanding-allocation table as an aggregate table. See
 * leakagg.h.
 */
#include <linux/kernel.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/timekeeping.h>

#include "core/leakagg.h"

#define PM_LEAKAGG_VALUES	(4 + PM_LEAKTAB_FRAMES)

int pm_leakagg_init(struct pm_leakagg *la, unsigned int blocks,
		    unsigned int stacks)
{
	int ret;

	mutex_init(&la->lock);
	ret = pm_leaktab_init(&la->tab, blocks, stacks);
	if (ret)
		mutex_destroy(&la->lock);
	return ret;
}

void pm_leakagg_destroy(struct pm_leakagg *la)
{
	pm_leaktab_destroy(&la->tab);
	mutex_destroy(&la->lock);
}

void pm_leakagg_clear(struct pm_leakagg *la)
{
	mutex_lock(&la->lock);
	pm_leaktab_clear(&la->tab);
	mutex_unlock(&la->lock);
}

static int pm_leakagg_read(struct pm_leakagg *la,
			   int (*fn)(void *arg, const struct pm_leak_row *row),
			   void *arg)
{
	int ret;

	mutex_lock(&la->lock);
	ret = pm_leaktab_report(&la->tab, fn, arg);
	mutex_unlock(&la->lock);
	return ret;
}

struct pm_leakagg_emit {
	pm_agg_emit_fn emit;
	void *ctx;
};

static int pm_leakagg_row(void *arg, const struct pm_leak_row *row)
{
	struct pm_leakagg_emit *le = arg;
	u64 values[PM_LEAKAGG_VALUES] = {
		row->bytes, row->allocations, row->oldest_ns, row->nr_frames,
	};
	char key[PM_AGG_KEY_MAX];

	memcpy(&values[4], row->frames, row->nr_frames * sizeof(u64));
	snprintf(key, sizeof(key), "tgid=%u stack=%u", row->tgid, row->stack);
	return le->emit(le->ctx, key, values, ARRAY_SIZE(values));
}

int pm_leakagg_rows(struct pm_leakagg *la, pm_agg_emit_fn emit, void *ctx)
{
	struct pm_leakagg_emit le = { .emit = emit, .ctx = ctx };

	return pm_leakagg_read(la, pm_leakagg_row, &le);
}

static int pm_leakagg_show_row(void *arg, const struct pm_leak_row *row)
{
	u64 now = ktime_get_mono_fast_ns();
	struct seq_file *m = arg;
	unsigned int i;

	seq_printf(m, "%llu bytes in %llu allocations from ", row->bytes,
		   row->allocations);
	if (row->stack)
		seq_printf(m, "stack %u of tgid %u", row->stack, row->tgid);
	else
		seq_puts(m, "no stack (stack table full, or stack forgotten)");
	seq_printf(m, ", oldest %llu ms ago\n",
		   now > row->oldest_ns ? (now - row->oldest_ns) / NSEC_PER_MSEC
					: 0);
	for (i = 0; i < row->nr_frames; i++)
		seq_printf(m, "\t0x%016llx\n", row->frames[i]);
	return 0;
}

int pm_leakagg_show(struct pm_leakagg *la, struct seq_file *m,
		    const char *what)
{
	u64 losses[3];

	pm_leakagg_losses(la, losses);
	seq_printf(m, "# outstanding %s by stack, largest first (persecmon memleak symbolizes)\n",
		   what);
	seq_printf(m, "# blocks_full %llu stacks_full %llu replaced %llu\n",
		   losses[0], losses[1], losses[2]);
	return pm_leakagg_read(la, pm_leakagg_show_row, m);
}

void pm_leakagg_forget(struct pm_leakagg *la)
{
	pm_leaktab_forget_blocks(&la->tab);
}

int pm_leakagg_forget_stacks(struct pm_leakagg *la,
			     bool (*drop)(void *arg, u32 tgid, u64 time_ns),
			     void *arg)
{
	int ret;

	mutex_lock(&la->lock);
	ret = pm_leaktab_forget_stacks(&la->tab, drop, arg);
	mutex_unlock(&la->lock);
	return ret;
}

void pm_leakagg_losses(struct pm_leakagg *la, u64 out[3])
{
	out[0] = atomic64_read(&la->tab.blocks_full);
	out[1] = atomic64_read(&la->tab.stacks_full);
	out[2] = atomic64_read(&la->tab.replaced);
}
