// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel tracepoints for probe groups, found by name (tracepoint.h).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/errno.h>
#include <linux/printk.h>
#include <linux/sched/signal.h>
#include <linux/string.h>
#include <linux/tracepoint.h>

#include "core/tracepoint.h"

struct pm_tps_lookup {
	struct pm_tp *tps;
	unsigned int n;
};

static void pm_tps_match(struct tracepoint *tp, void *priv)
{
	struct pm_tps_lookup *l = priv;
	unsigned int i;

	for (i = 0; i < l->n; i++)
		if (!l->tps[i].tp && !strcmp(tp->name, l->tps[i].name))
			l->tps[i].tp = tp;
}

int pm_tps_init(const char *group, struct pm_tp *tps, unsigned int n)
{
	struct pm_tps_lookup l = { .tps = tps, .n = n };
	unsigned int i;
	int ret;

	for_each_kernel_tracepoint(pm_tps_match, &l);
	for (i = 0; i < n; i++) {
		if (!tps[i].tp && !tps[i].optional) {
			pr_err("%s: tracepoint %s not found\n", group,
			       tps[i].name);
			return -ENOENT;
		}
	}
	for (i = 0; i < n; i++) {
		tps[i].probe.group = group;
		tps[i].probe.name = tps[i].name;
		tps[i].probe.mechanism = "tracepoint";
		/* A tracepoint this kernel lacks stays listed, detached. */
		tps[i].probe.error = tps[i].tp ? 0 : -ENOENT;
		ret = pm_probe_register(&tps[i].probe);
		if (ret)
			goto err;
	}
	return 0;

err:
	while (i--)
		pm_probe_unregister(&tps[i].probe);
	return ret;
}

void pm_tps_exit(struct pm_tp *tps, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		pm_probe_unregister(&tps[i].probe);
}

int pm_tps_attach(struct pm_tp *tps, unsigned int n)
{
	unsigned int i;
	int ret;

	for (i = 0; i < n; i++) {
		if (!tps[i].tp)
			continue;
		ret = tracepoint_probe_register(tps[i].tp, tps[i].func, NULL);
		pm_probe_set_state(&tps[i].probe, !ret, ret);
		if (ret)
			goto err;
	}
	return 0;

err:
	while (i--) {
		if (!tps[i].tp)
			continue;
		tracepoint_probe_unregister(tps[i].tp, tps[i].func, NULL);
		pm_probe_set_state(&tps[i].probe, false, 0);
	}
	tracepoint_synchronize_unregister();
	return ret;
}

void pm_tps_detach(struct pm_tp *tps, unsigned int n)
{
	unsigned int i = n;

	while (i--) {
		if (!tps[i].tp)
			continue;
		tracepoint_probe_unregister(tps[i].tp, tps[i].func, NULL);
		pm_probe_set_state(&tps[i].probe, false, 0);
	}
	/* No probe may still be running once detach returns. */
	tracepoint_synchronize_unregister();
}

bool pm_tp_exit_group_dead(const struct task_struct *p)
{
	return !atomic_read(&p->signal->live);
}
