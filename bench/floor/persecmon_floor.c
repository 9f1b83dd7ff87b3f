// SPDX-License-Identifier: GPL-2.0
/*
 * The benchmark floor: empty handlers on the hooks PerSecMon uses.
 *
 * Any tool that watches a kernel function, tracepoint or user function
 * pays for the hook itself (the breakpoint or ftrace trampoline, the
 * kretprobe instance, the tracepoint's indirect call, the uprobe trap)
 * before it does any work. This module pays exactly that and nothing
 * else, so "per-event cost of a tool / per-event cost of the floor" says
 * how much the tool adds on top of the unavoidable.
 *
 * Each handler does one thing beyond returning: it increments a per-CPU
 * hit counter. Every real tool counts or records something, so this is
 * part of the floor too, and it lets the benchmark check that the probe
 * fired once per expected event (/sys/kernel/debug/persecmon_floor/hits).
 *
 * What to attach is chosen at load time:
 *   kprobes=vfs_read,vfs_write             kprobe at function entry
 *   kretprobes=vfs_read                    entry and return handlers
 *   tracepoints=sys_enter,block_rq_issue   see floor_tp_types[]
 *   uprobes=/path/lib.so:0x9a0c0[:ret],…   file offset; ":ret" = uretprobe
 *   maxactive=1024                         kretprobe instances
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/percpu.h>
#include <linux/kprobes.h>
#include <linux/tracepoint.h>
#include <linux/uprobes.h>
#include <linux/namei.h>
#include <linux/dcache.h>
#include <linux/fs.h>
#include <linux/path.h>
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include <trace/events/syscalls.h>
#include <trace/events/block.h>
#include <trace/events/kmem.h>
#include <trace/events/sched.h>
#include <trace/events/sock.h>

#include "floor_compat.h"

static char *kprobes_param;
module_param_named(kprobes, kprobes_param, charp, 0444);
MODULE_PARM_DESC(kprobes, "Comma-separated kernel symbols: kprobe at entry");

static char *kretprobes_param;
module_param_named(kretprobes, kretprobes_param, charp, 0444);
MODULE_PARM_DESC(kretprobes,
		 "Comma-separated kernel symbols: kretprobe with entry and return handlers");

static char *tracepoints_param;
module_param_named(tracepoints, tracepoints_param, charp, 0444);
MODULE_PARM_DESC(tracepoints,
		 "Comma-separated tracepoints: sys_enter, sys_exit, block_rq_issue, block_rq_complete, block_io_start, block_getrq, sched_process_exec, inet_sock_set_state, mm_page_alloc, kmalloc");

static char *uprobes_param;
module_param_named(uprobes, uprobes_param, charp, 0444);
MODULE_PARM_DESC(uprobes,
		 "Comma-separated PATH:FILE_OFFSET[:ret]; :ret makes it a uretprobe");

static int maxactive = 1024;
module_param(maxactive, int, 0444);
MODULE_PARM_DESC(maxactive,
		 "kretprobe instances (calls in flight at once); default 1024 because vfs_read can block");

struct floor_kprobe {
	struct kprobe kp;
	u64 __percpu *hits;
	bool registered;
};

struct floor_kretprobe {
	struct kretprobe rp;
	u64 __percpu *entries;
	u64 __percpu *returns;
	bool registered;
};

struct floor_tracepoint {
	const char *name;
	void *probe;
	struct tracepoint *tp;
	u64 __percpu *hits;
	bool registered;
};

struct floor_uprobe {
	struct uprobe_consumer uc;
	const char *spec;	/* as given, for the hits file */
	char *file;
	loff_t offset;
	bool ret;
	struct path path;	/* pins the inode and its mount until unregister */
	bool have_path;
	struct floor_uprobe_handle handle;
	u64 __percpu *hits;
	bool registered;
};

/* Each *_list holds the kstrdup'ed parameter that the names point into. */
static struct floor_kprobe *kps;
static unsigned int nr_kps;
static char *kps_list;

static struct floor_kretprobe *krps;
static unsigned int nr_krps;
static char *krps_list;

static struct floor_tracepoint *tps;
static unsigned int nr_tps;
static char *tps_list;

static struct floor_uprobe *ups;
static unsigned int nr_ups;
static char *ups_list;

static struct dentry *floor_dir;

/* ---- handlers: count and return ---- */

static int floor_kprobe_pre(struct kprobe *kp, struct pt_regs *regs)
{
	struct floor_kprobe *fk = container_of(kp, struct floor_kprobe, kp);

	this_cpu_inc(*fk->hits);
	return 0;
}
NOKPROBE_SYMBOL(floor_kprobe_pre);

static int floor_kretprobe_entry(struct kretprobe_instance *ri,
				 struct pt_regs *regs)
{
	struct floor_kretprobe *fr =
		container_of(get_kretprobe(ri), struct floor_kretprobe, rp);

	this_cpu_inc(*fr->entries);
	return 0;
}
NOKPROBE_SYMBOL(floor_kretprobe_entry);

static int floor_kretprobe_return(struct kretprobe_instance *ri,
				  struct pt_regs *regs)
{
	struct floor_kretprobe *fr =
		container_of(get_kretprobe(ri), struct floor_kretprobe, rp);

	this_cpu_inc(*fr->returns);
	return 0;
}
NOKPROBE_SYMBOL(floor_kretprobe_return);

/*
 * uprobe handlers run preemptible; this_cpu_inc() is still safe (one
 * instruction on x86, irq-protected elsewhere).
 */
static int floor_uprobe_entry(struct uprobe_consumer *uc, struct pt_regs *regs)
{
	struct floor_uprobe *fu = container_of(uc, struct floor_uprobe, uc);

	this_cpu_inc(*fu->hits);
	return 0;
}

static int floor_uprobe_return(struct uprobe_consumer *uc, unsigned long func,
			       struct pt_regs *regs)
{
	struct floor_uprobe *fu = container_of(uc, struct floor_uprobe, uc);

	this_cpu_inc(*fu->hits);
	return 0;
}

/*
 * A tracepoint calls its probes with its own prototype, so one generic
 * probe would be called with arguments it does not declare. Each
 * tracepoint gets a typed probe instead, checked against the tracepoint's
 * declaration by floor_tp_check_types(); all forward to one counter.
 */
static void floor_tp_hit(void *data)
{
	struct floor_tracepoint *ft = data;

	this_cpu_inc(*ft->hits);
}

static void floor_tp_sys_enter(void *data, struct pt_regs *regs, long id)
{
	floor_tp_hit(data);
}

static void floor_tp_sys_exit(void *data, struct pt_regs *regs, long ret)
{
	floor_tp_hit(data);
}

static void floor_tp_block_rq_issue(void *data, struct request *rq)
{
	floor_tp_hit(data);
}

static void floor_tp_block_rq_complete(void *data, struct request *rq,
				       blk_status_t error,
				       unsigned int nr_bytes)
{
	floor_tp_hit(data);
}

/*
 * block_getrq: the block group's submission probe where the kernel (6.1)
 * lacks block_io_start. block_io_start is DEFINE_EVENT(block_rq) like
 * block_rq_issue and shares its probe.
 */
static void floor_tp_block_getrq(void *data, struct bio *bio)
{
	floor_tp_hit(data);
}

static void floor_tp_sched_process_exec(void *data, struct task_struct *p,
					pid_t old_pid,
					struct linux_binprm *bprm)
{
	floor_tp_hit(data);
}

static void floor_tp_inet_sock_set_state(void *data, const struct sock *sk,
					 const int oldstate,
					 const int newstate)
{
	floor_tp_hit(data);
}

static void floor_tp_mm_page_alloc(void *data, struct page *page,
				   unsigned int order, gfp_t gfp_flags,
				   int migratetype)
{
	floor_tp_hit(data);
}

static void floor_tp_kmalloc(void *data, unsigned long call_site,
			     const void *ptr, size_t bytes_req,
			     size_t bytes_alloc, gfp_t gfp_flags, int node)
{
	floor_tp_hit(data);
}

/* Compiles to nothing; fails the build if a prototype above is wrong. */
static void floor_tp_check_types(void)
{
	check_trace_callback_type_sys_enter(floor_tp_sys_enter);
	check_trace_callback_type_sys_exit(floor_tp_sys_exit);
	check_trace_callback_type_block_rq_issue(floor_tp_block_rq_issue);
	check_trace_callback_type_block_rq_complete(floor_tp_block_rq_complete);
	check_trace_callback_type_block_getrq(floor_tp_block_getrq);
	check_trace_callback_type_sched_process_exec(floor_tp_sched_process_exec);
	check_trace_callback_type_inet_sock_set_state(floor_tp_inet_sock_set_state);
	check_trace_callback_type_mm_page_alloc(floor_tp_mm_page_alloc);
	check_trace_callback_type_kmalloc(floor_tp_kmalloc);
}

static const struct {
	const char *name;
	void *probe;
} floor_tp_types[] = {
	{ "sys_enter", floor_tp_sys_enter },
	{ "sys_exit", floor_tp_sys_exit },
	{ "block_rq_issue", floor_tp_block_rq_issue },
	{ "block_rq_complete", floor_tp_block_rq_complete },
	{ "block_io_start", floor_tp_block_rq_issue },
	{ "block_getrq", floor_tp_block_getrq },
	{ "sched_process_exec", floor_tp_sched_process_exec },
	{ "inet_sock_set_state", floor_tp_inet_sock_set_state },
	{ "mm_page_alloc", floor_tp_mm_page_alloc },
	{ "kmalloc", floor_tp_kmalloc },
};

/* ---- parameters ---- */

/*
 * Duplicates @param into *@list and returns the number of comma-separated
 * items; an empty item is an error because it is certainly a typo.
 */
static int floor_split(const char *what, const char *param, char **list)
{
	unsigned int n = 1;
	const char *s;

	*list = NULL;
	if (!param || !*param)
		return 0;
	for (s = param; *s; s++) {
		if (*s != ',')
			continue;
		if (s == param || s[1] == ',' || s[1] == '\0')
			goto empty;
		n++;
	}
	*list = kstrdup(param, GFP_KERNEL);
	if (!*list)
		return -ENOMEM;
	return n;
empty:
	pr_err("%s=: empty item in '%s'\n", what, param);
	return -EINVAL;
}

static u64 floor_sum(u64 __percpu *counter)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += *per_cpu_ptr(counter, cpu);
	return sum;
}

/* ---- kprobes and kretprobes ---- */

static int floor_kprobes_init(void)
{
	char *next, *sym;
	unsigned int i = 0;
	int n, ret;

	n = floor_split("kprobes", kprobes_param, &kps_list);
	if (n <= 0)
		return n;
	kps = kcalloc(n, sizeof(*kps), GFP_KERNEL);
	if (!kps)
		return -ENOMEM;
	nr_kps = n;
	next = kps_list;
	while ((sym = strsep(&next, ","))) {
		struct floor_kprobe *fk = &kps[i++];

		fk->hits = alloc_percpu(u64);
		if (!fk->hits)
			return -ENOMEM;
		fk->kp.symbol_name = sym;
		fk->kp.pre_handler = floor_kprobe_pre;
		ret = register_kprobe(&fk->kp);
		if (ret) {
			pr_err("kprobe on %s: error %d\n", sym, ret);
			return ret;
		}
		fk->registered = true;
	}
	return 0;
}

static int floor_kretprobes_init(void)
{
	char *next, *sym;
	unsigned int i = 0;
	int n, ret;

	if (maxactive <= 0) {
		pr_err("maxactive=%d: must be positive\n", maxactive);
		return -EINVAL;
	}
	n = floor_split("kretprobes", kretprobes_param, &krps_list);
	if (n <= 0)
		return n;
	krps = kcalloc(n, sizeof(*krps), GFP_KERNEL);
	if (!krps)
		return -ENOMEM;
	nr_krps = n;
	next = krps_list;
	while ((sym = strsep(&next, ","))) {
		struct floor_kretprobe *fr = &krps[i++];

		fr->entries = alloc_percpu(u64);
		fr->returns = alloc_percpu(u64);
		if (!fr->entries || !fr->returns)
			return -ENOMEM;
		fr->rp.kp.symbol_name = sym;
		fr->rp.entry_handler = floor_kretprobe_entry;
		fr->rp.handler = floor_kretprobe_return;
		fr->rp.maxactive = maxactive;
		ret = register_kretprobe(&fr->rp);
		if (ret) {
			pr_err("kretprobe on %s: error %d\n", sym, ret);
			return ret;
		}
		fr->registered = true;
	}
	return 0;
}

static void floor_kprobes_exit(void)
{
	unsigned int i;

	for (i = 0; i < nr_kps; i++) {
		if (kps[i].registered)
			unregister_kprobe(&kps[i].kp);
		free_percpu(kps[i].hits);
	}
	for (i = 0; i < nr_krps; i++) {
		if (krps[i].registered)
			unregister_kretprobe(&krps[i].rp);
		free_percpu(krps[i].entries);
		free_percpu(krps[i].returns);
	}
	kfree(kps);
	kfree(kps_list);
	kfree(krps);
	kfree(krps_list);
}

/* ---- tracepoints ---- */

static void floor_tp_match(struct tracepoint *tp, void *priv)
{
	struct floor_tracepoint *ft = priv;

	if (!ft->tp && !strcmp(tp->name, ft->name))
		ft->tp = tp;
}

static int floor_tracepoints_init(void)
{
	char *next, *name;
	unsigned int i = 0, t;
	int n, ret;

	floor_tp_check_types();
	n = floor_split("tracepoints", tracepoints_param, &tps_list);
	if (n <= 0)
		return n;
	tps = kcalloc(n, sizeof(*tps), GFP_KERNEL);
	if (!tps)
		return -ENOMEM;
	nr_tps = n;
	next = tps_list;
	while ((name = strsep(&next, ","))) {
		struct floor_tracepoint *ft = &tps[i++];

		ft->name = name;
		for (t = 0; t < ARRAY_SIZE(floor_tp_types); t++)
			if (!strcmp(floor_tp_types[t].name, name))
				ft->probe = floor_tp_types[t].probe;
		if (!ft->probe) {
			pr_err("tracepoints=: no typed probe for '%s' (add one to floor_tp_types)\n",
			       name);
			return -EINVAL;
		}
		for_each_kernel_tracepoint(floor_tp_match, ft);
		if (!ft->tp) {
			pr_err("tracepoints=: this kernel has no tracepoint '%s'\n",
			       name);
			return -ENOENT;
		}
		ft->hits = alloc_percpu(u64);
		if (!ft->hits)
			return -ENOMEM;
		ret = tracepoint_probe_register(ft->tp, ft->probe, ft);
		if (ret) {
			pr_err("tracepoint %s: error %d\n", name, ret);
			return ret;
		}
		ft->registered = true;
	}
	return 0;
}

static void floor_tracepoints_exit(void)
{
	unsigned int i;
	bool any = false;

	for (i = 0; i < nr_tps; i++) {
		if (!tps[i].registered)
			continue;
		tracepoint_probe_unregister(tps[i].tp, tps[i].probe, &tps[i]);
		any = true;
	}
	if (any)
		tracepoint_synchronize_unregister();
	for (i = 0; i < nr_tps; i++)
		free_percpu(tps[i].hits);
	kfree(tps);
	kfree(tps_list);
}

/* ---- uprobes ---- */

/* Splits "PATH:OFFSET[:ret]" in place; the offset is a file offset. */
static int floor_uprobe_parse(struct floor_uprobe *fu, char *item)
{
	char *colon;
	int ret;

	fu->spec = kstrdup(item, GFP_KERNEL);
	if (!fu->spec)
		return -ENOMEM;
	colon = strrchr(item, ':');
	if (colon && !strcmp(colon + 1, "ret")) {
		fu->ret = true;
		*colon = '\0';
		colon = strrchr(item, ':');
	}
	if (!colon || colon == item) {
		pr_err("uprobes=: '%s' is not PATH:OFFSET[:ret]\n", fu->spec);
		return -EINVAL;
	}
	*colon = '\0';
	fu->file = item;
	ret = kstrtoll(colon + 1, 0, &fu->offset);
	if (ret || fu->offset < 0) {
		pr_err("uprobes=: bad file offset in '%s'\n", fu->spec);
		return -EINVAL;
	}
	return 0;
}

static int floor_uprobe_attach(struct floor_uprobe *fu)
{
	struct inode *inode;
	int ret;

	ret = kern_path(fu->file, LOOKUP_FOLLOW, &fu->path);
	if (ret) {
		pr_err("uprobes=: cannot resolve %s: error %d\n", fu->file, ret);
		return ret;
	}
	fu->have_path = true;
	if (!d_is_reg(fu->path.dentry)) {
		pr_err("uprobes=: %s is not a regular file\n", fu->file);
		return -EINVAL;
	}
	/* The file mapped by processes is the real one under overlayfs. */
	inode = d_real_inode(fu->path.dentry);
	if (fu->offset >= i_size_read(inode)) {
		pr_err("uprobes=: offset %lld is past the end of %s\n",
		       fu->offset, fu->file);
		return -EINVAL;
	}
	if (fu->ret)
		fu->uc.ret_handler = floor_uprobe_return;
	else
		fu->uc.handler = floor_uprobe_entry;
	ret = floor_uprobe_register(&fu->handle, inode, fu->offset, &fu->uc);
	if (ret) {
		pr_err("uprobe %s: error %d\n", fu->spec, ret);
		return ret;
	}
	fu->registered = true;
	return 0;
}

static int floor_uprobes_init(void)
{
	char *next, *item;
	unsigned int i = 0;
	int n, ret;

	n = floor_split("uprobes", uprobes_param, &ups_list);
	if (n <= 0)
		return n;
	ups = kcalloc(n, sizeof(*ups), GFP_KERNEL);
	if (!ups)
		return -ENOMEM;
	nr_ups = n;
	next = ups_list;
	while ((item = strsep(&next, ","))) {
		struct floor_uprobe *fu = &ups[i++];

		ret = floor_uprobe_parse(fu, item);
		if (ret)
			return ret;
		fu->hits = alloc_percpu(u64);
		if (!fu->hits)
			return -ENOMEM;
		ret = floor_uprobe_attach(fu);
		if (ret)
			return ret;
	}
	return 0;
}

static void floor_uprobes_exit(void)
{
	unsigned int i;
	bool any = false;

	for (i = 0; i < nr_ups; i++) {
		if (!ups[i].registered)
			continue;
		floor_uprobe_unregister_nosync(&ups[i].handle, &ups[i].uc);
		any = true;
	}
	/* One grace period for all of them; the consumers live until then. */
	if (any)
		floor_uprobe_unregister_sync();
	for (i = 0; i < nr_ups; i++) {
		if (ups[i].have_path)
			path_put(&ups[i].path);
		free_percpu(ups[i].hits);
		kfree(ups[i].spec);
	}
	kfree(ups);
	kfree(ups_list);
}

/* ---- debugfs: persecmon_floor/hits ---- */

/*
 * One line per probe: "KIND NAME hits=N", kretprobes also returns=N, and
 * missed=N where the kernel counts hits it skipped (recursion, or no free
 * kretprobe instance), so a short count is never silent.
 */
static int floor_hits_show(struct seq_file *m, void *v)
{
	unsigned int i;

	for (i = 0; i < nr_kps; i++)
		seq_printf(m, "kprobe %s hits=%llu missed=%lu\n",
			   kps[i].kp.symbol_name, floor_sum(kps[i].hits),
			   kps[i].kp.nmissed);
	for (i = 0; i < nr_krps; i++)
		seq_printf(m, "kretprobe %s hits=%llu returns=%llu missed=%lu\n",
			   krps[i].rp.kp.symbol_name,
			   floor_sum(krps[i].entries),
			   floor_sum(krps[i].returns),
			   krps[i].rp.nmissed + krps[i].rp.kp.nmissed);
	for (i = 0; i < nr_tps; i++)
		seq_printf(m, "tracepoint %s hits=%llu\n", tps[i].name,
			   floor_sum(tps[i].hits));
	for (i = 0; i < nr_ups; i++)
		seq_printf(m, "%s %s hits=%llu\n",
			   ups[i].ret ? "uretprobe" : "uprobe", ups[i].spec,
			   floor_sum(ups[i].hits));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(floor_hits);

/* ---- init/exit ---- */

static void floor_detach_all(void)
{
	floor_tracepoints_exit();
	floor_kprobes_exit();
	floor_uprobes_exit();
}

static int __init floor_init(void)
{
	int ret;

	ret = floor_kprobes_init();
	if (!ret)
		ret = floor_kretprobes_init();
	if (!ret)
		ret = floor_tracepoints_init();
	if (!ret)
		ret = floor_uprobes_init();
	if (ret) {
		floor_detach_all();
		return ret;
	}
	floor_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("hits", 0444, floor_dir, NULL, &floor_hits_fops);
	pr_info("attached %u kprobes, %u kretprobes, %u tracepoints, %u uprobes\n",
		nr_kps, nr_krps, nr_tps, nr_ups);
	return 0;
}

static void __exit floor_exit(void)
{
	/* No reader may see the counters after they are freed. */
	debugfs_remove(floor_dir);
	floor_detach_all();
}

module_init(floor_init);
module_exit(floor_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("PerSecMon benchmark floor: empty kprobe, kretprobe, tracepoint and uprobe handlers");
