// SPDX-License-Identifier: GPL-2.0
/*
 * The "kmemleak" group: PERSECMON_EV_KALLOC and PERSECMON_EV_KFREE.
 *
 * Tracepoints kmem:kmalloc, kmem:kmem_cache_alloc and kmem:mm_page_alloc
 * report allocations; kmem:kfree, kmem:kmem_cache_free and
 * kmem:mm_page_free report frees. Their prototypes are the same on the
 * Debian 6.1 and 6.12 kernels (6.1 already has the merged kmalloc_node
 * form); check_trace_callback_type_*() turns any future difference into a
 * build error. Only the first four tracepoints are exported, so all six
 * are looked up by name, like the proc group does.
 *
 * Each allocation record carries the kernel stack from stack_trace_save()
 * (exported, ORC unwinder), with the frames of this module removed.
 *
 * Outstanding blocks: while a session enables the group, its allocations
 * are also kept in the kernel (core/leakagg.h: address, or pfn for pages,
 * -> size, time, stack id; stacks deduplicated), the table
 * "kmemleak_outstanding", which persecmon memleak reads by default (its
 * session quiet: no record per allocation). The table is lock-free and
 * preallocated (capacity kmemleak_blocks, kmemleak_stacks at load), as
 * the tracepoints fire in hardirq context too; what does not fit is
 * counted in "kmemleak". It is emptied when the group attaches and when
 * it detaches. The global set alone keeps only the counters: unwinding
 * every kernel allocation is not an always-on cost.
 *
 * Contexts and recursion: the probes run inside the allocator with
 * preemption disabled, in task, softirq or hardirq context (and, should an
 * allocator ever be called there, NMI). The stack is saved into a per-CPU
 * scratch area with one slot per context level, so an interrupt that
 * allocates while a probe runs on the same CPU uses its own slot. A probe
 * that finds its own level's slot busy (it was entered again from inside
 * itself) counts the event as "recursion" and records nothing. Nothing on
 * the emit path allocates, so this is a guard rather than an expected
 * case.
 *
 * Cost: the allocators run hot, so a probe does only a per-CPU count
 * unless a session enabled the group. With a session, the unwind is paid
 * once per allocation whatever the number of sessions, and only when one
 * of them wants the allocating task (filters); a free is one table
 * lookup, plus a record only if a session wants records. kmemleak_sample=N
 * (writable module parameter) keeps only allocations and frees whose
 * address hashes to 0 modulo N: both ends of an allocation make the same
 * decision, so sampled pairs still match in userspace.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/hash.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/percpu.h>
#include <linux/preempt.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/stacktrace.h>
#include <linux/string.h>
#include <linux/tracepoint.h>
#include <trace/events/kmem.h>

#include "core/agg.h"
#include "core/groups.h"
#include "core/leakagg.h"
#include "core/session.h"
#include "probes/kmemleak.h"

static unsigned int kmemleak_sample = 1;
module_param(kmemleak_sample, uint, 0644);
MODULE_PARM_DESC(kmemleak_sample,
		 "kmemleak group: record 1 in N kernel allocations and frees, chosen by address (1 = all)");

static unsigned int kmemleak_blocks = 1U << 16;
module_param(kmemleak_blocks, uint, 0444);
MODULE_PARM_DESC(kmemleak_blocks,
		 "kmemleak group: outstanding kernel allocations kept in the kernel (power of two)");

static unsigned int kmemleak_stacks = 1U << 12;
module_param(kmemleak_stacks, uint, 0444);
MODULE_PARM_DESC(kmemleak_stacks,
		 "kmemleak group: distinct kernel stacks kept in the kernel (power of two)");

/* Frames of this module above the tracepoint, saved and then dropped. */
#define PM_KML_SKIP_MAX		8
#define PM_KML_SAVE_MAX		(PERSECMON_KSTACK_MAX + PM_KML_SKIP_MAX)
/* Context levels: task, softirq, hardirq, NMI. */
#define PM_KML_LEVELS		4

enum {
	PM_KML_TP_KMALLOC,
	PM_KML_TP_KFREE,
	PM_KML_TP_CACHE_ALLOC,
	PM_KML_TP_CACHE_FREE,
	PM_KML_TP_PAGE_ALLOC,
	PM_KML_TP_PAGE_FREE,
	PM_KML_TP_NR,
};

enum {
	PM_KML_STAT_KMALLOC,
	PM_KML_STAT_KFREE,
	PM_KML_STAT_CACHE_ALLOC,
	PM_KML_STAT_CACHE_FREE,
	PM_KML_STAT_PAGE_ALLOC,
	PM_KML_STAT_PAGE_FREE,
	PM_KML_STAT_ALLOC_BYTES,
	PM_KML_STAT_SAMPLED_OUT,
	PM_KML_STAT_RECURSION,
	PM_KML_STAT_NR,
};
/* The stat table's columns after the counters: from the leak table. */
#define PM_KML_STAT_COLUMNS	(PM_KML_STAT_NR + 3)

struct pm_kml_scratch {
	unsigned long frames[PM_KML_LEVELS][PM_KML_SAVE_MAX];
	bool busy[PM_KML_LEVELS];
};

static struct pm_kml_scratch __percpu *pm_kml_scratch;
static struct pm_agg_counters pm_kml_stat;
static struct pm_leakagg pm_kml_leaks;

struct pm_kml_tp {
	const char *name;
	void *probe;
	struct tracepoint *tp;
};

static struct pm_kml_tp pm_kml_tps[PM_KML_TP_NR];

static struct pm_probe pm_kml_probes[PM_KML_TP_NR] = {
	[PM_KML_TP_KMALLOC] = {
		.group = "kmemleak", .name = "kmalloc",
		.mechanism = "tracepoint",
	},
	[PM_KML_TP_KFREE] = {
		.group = "kmemleak", .name = "kfree",
		.mechanism = "tracepoint",
	},
	[PM_KML_TP_CACHE_ALLOC] = {
		.group = "kmemleak", .name = "kmem_cache_alloc",
		.mechanism = "tracepoint",
	},
	[PM_KML_TP_CACHE_FREE] = {
		.group = "kmemleak", .name = "kmem_cache_free",
		.mechanism = "tracepoint",
	},
	[PM_KML_TP_PAGE_ALLOC] = {
		.group = "kmemleak", .name = "mm_page_alloc",
		.mechanism = "tracepoint",
	},
	[PM_KML_TP_PAGE_FREE] = {
		.group = "kmemleak", .name = "mm_page_free",
		.mechanism = "tracepoint",
	},
};

/* True if the object at @key is one the sampling keeps. */
static __always_inline bool pm_kml_sampled(u64 key)
{
	unsigned int rate = READ_ONCE(kmemleak_sample);

	if (rate <= 1)
		return true;
	if (hash_64(key, 32) % rate == 0)
		return true;
	pm_agg_add(&pm_kml_stat, PM_KML_STAT_SAMPLED_OUT, 1);
	return false;
}

/*
 * Saves the current kernel stack into @frames and drops the leading frames
 * that belong to this module (the probe and its helpers), so that the
 * record starts at the tracepoint's caller. Returns the frames kept;
 * *@cut when the stack may have been deeper than PERSECMON_KSTACK_MAX.
 */
static unsigned int pm_kml_stack(unsigned long *frames, bool *cut)
{
	unsigned int nr, skip = 0;

	nr = stack_trace_save(frames, PM_KML_SAVE_MAX, 0);
	while (skip < nr && skip < PM_KML_SKIP_MAX &&
	       within_module(frames[skip], THIS_MODULE))
		skip++;
	nr -= skip;
	*cut = nr >= PERSECMON_KSTACK_MAX &&
	       nr + skip == PM_KML_SAVE_MAX;
	if (nr > PERSECMON_KSTACK_MAX)
		nr = PERSECMON_KSTACK_MAX;
	if (skip)
		memmove(frames, frames + skip, nr * sizeof(*frames));
	return nr;
}

struct pm_kml_alloc_info {
	u64 ptr;
	u64 bytes_req;
	u64 bytes_alloc;
	u64 call_site;
	u32 gfp_flags;
	s32 node;
	u8 kind;
	u8 order;
};

static void pm_kml_emit_alloc(const struct pm_kml_alloc_info *info)
{
	struct persecmon_kalloc_event *ev;
	struct pm_kml_scratch *scratch;
	struct persecmon_record *rec;
	unsigned int level, nr;
	struct pm_emit em;
	unsigned long *frames;
	u32 stack;
	bool cut;

	if (!pm_emit_begin(&em, PERSECMON_GROUP_KMEMLEAK))
		return;
	/* No session wants this task's allocations: no unwind either. */
	if (!pm_kml_sampled(info->ptr) || !pm_emit_wanted(&em))
		goto out;
	level = interrupt_context_level();
	scratch = this_cpu_ptr(pm_kml_scratch);
	if (scratch->busy[level]) {
		pm_agg_add(&pm_kml_stat, PM_KML_STAT_RECURSION, 1);
		goto out;
	}
	scratch->busy[level] = true;
	/* The flag is set before the unwind; an interrupt sees it. */
	barrier();
	frames = scratch->frames[level];
	nr = pm_kml_stack(frames, &cut);
	/* Kernel blocks are freed by anyone: one key space, tgid 0. */
	stack = pm_leaktab_stack(&pm_kml_leaks.tab, 0, (const u64 *)frames,
				 nr, em.time_ns);
	pm_leaktab_insert(&pm_kml_leaks.tab, 0, info->ptr, info->bytes_alloc,
			  stack, em.time_ns);
	while ((rec = pm_emit_reserve(&em, PERSECMON_EV_KALLOC,
				      sizeof(*ev) + nr * sizeof(u64)))) {
		ev = container_of(rec, struct persecmon_kalloc_event, hdr);
		if (cut)
			rec->flags |= PERSECMON_RF_TRUNCATED;
		ev->ptr = info->ptr;
		ev->bytes_req = info->bytes_req;
		ev->bytes_alloc = info->bytes_alloc;
		ev->call_site = info->call_site;
		ev->gfp_flags = info->gfp_flags;
		ev->node = info->node;
		ev->kind = info->kind;
		ev->order = info->order;
		ev->nr_frames = nr;
		memcpy(ev->frames, frames, nr * sizeof(u64));
		pm_emit_commit(&em, rec);
	}
	barrier();
	scratch->busy[level] = false;
out:
	pm_emit_end(&em);
}

static void pm_kml_emit_free(u64 ptr, u64 call_site, u8 kind, u8 order)
{
	struct persecmon_kfree_event *ev;
	struct persecmon_record *rec;
	struct pm_emit em;

	/* Without a session: the counters only. */
	if (!pm_session_group_on(PERSECMON_GROUP_KMEMLEAK))
		return;
	if (!pm_kml_sampled(ptr))
		return;
	/* A block no session kept costs one lookup that finds nothing. */
	pm_leaktab_remove(&pm_kml_leaks.tab, 0, ptr);
	if (!(READ_ONCE(pm_session_record_groups) &
	      BIT_ULL(PERSECMON_GROUP_KMEMLEAK)))
		return;
	if (!pm_emit_begin(&em, PERSECMON_GROUP_KMEMLEAK))
		return;
	while ((rec = pm_emit_reserve(&em, PERSECMON_EV_KFREE, sizeof(*ev)))) {
		ev = container_of(rec, struct persecmon_kfree_event, hdr);
		ev->ptr = ptr;
		ev->call_site = call_site;
		ev->kind = kind;
		ev->order = order;
		pm_emit_commit(&em, rec);
	}
	pm_emit_end(&em);
}

static void pm_kml_kmalloc(void *data, unsigned long call_site,
			   const void *ptr, size_t bytes_req,
			   size_t bytes_alloc, gfp_t gfp_flags, int node)
{
	struct pm_kml_alloc_info info = {
		.ptr = (unsigned long)ptr,
		.bytes_req = bytes_req,
		.bytes_alloc = bytes_alloc,
		.call_site = call_site,
		.gfp_flags = (__force u32)gfp_flags,
		.node = node,
		.kind = PERSECMON_KMEM_KMALLOC,
	};

	pm_probe_hit(&pm_kml_probes[PM_KML_TP_KMALLOC]);
	if (ZERO_OR_NULL_PTR(ptr))
		return;
	pm_agg_add(&pm_kml_stat, PM_KML_STAT_KMALLOC, 1);
	pm_agg_add(&pm_kml_stat, PM_KML_STAT_ALLOC_BYTES, bytes_alloc);
	pm_kml_emit_alloc(&info);
}

static void pm_kml_cache_alloc(void *data, unsigned long call_site,
			       const void *ptr, struct kmem_cache *s,
			       gfp_t gfp_flags, int node)
{
	unsigned int size = s ? kmem_cache_size(s) : 0;
	struct pm_kml_alloc_info info = {
		.ptr = (unsigned long)ptr,
		.bytes_req = size,
		.bytes_alloc = size,
		.call_site = call_site,
		.gfp_flags = (__force u32)gfp_flags,
		.node = node,
		.kind = PERSECMON_KMEM_CACHE,
	};

	pm_probe_hit(&pm_kml_probes[PM_KML_TP_CACHE_ALLOC]);
	if (!ptr)
		return;
	pm_agg_add(&pm_kml_stat, PM_KML_STAT_CACHE_ALLOC, 1);
	pm_agg_add(&pm_kml_stat, PM_KML_STAT_ALLOC_BYTES, size);
	pm_kml_emit_alloc(&info);
}

static void pm_kml_page_alloc(void *data, struct page *page,
			      unsigned int order, gfp_t gfp_flags,
			      int migratetype)
{
	u64 bytes = (u64)PAGE_SIZE << order;
	struct pm_kml_alloc_info info = {
		.bytes_req = bytes,
		.bytes_alloc = bytes,
		.gfp_flags = (__force u32)gfp_flags,
		.node = NUMA_NO_NODE,
		.kind = PERSECMON_KMEM_PAGE,
		.order = order,
	};

	pm_probe_hit(&pm_kml_probes[PM_KML_TP_PAGE_ALLOC]);
	if (!page)
		return;
	info.ptr = page_to_pfn(page);
	pm_agg_add(&pm_kml_stat, PM_KML_STAT_PAGE_ALLOC, 1);
	pm_agg_add(&pm_kml_stat, PM_KML_STAT_ALLOC_BYTES, bytes);
	pm_kml_emit_alloc(&info);
}

static void pm_kml_kfree(void *data, unsigned long call_site,
			 const void *ptr)
{
	pm_probe_hit(&pm_kml_probes[PM_KML_TP_KFREE]);
	if (ZERO_OR_NULL_PTR(ptr))
		return;
	pm_agg_add(&pm_kml_stat, PM_KML_STAT_KFREE, 1);
	pm_kml_emit_free((unsigned long)ptr, call_site, PERSECMON_KMEM_KMALLOC,
			 0);
}

static void pm_kml_cache_free(void *data, unsigned long call_site,
			      const void *ptr, const struct kmem_cache *s)
{
	pm_probe_hit(&pm_kml_probes[PM_KML_TP_CACHE_FREE]);
	if (!ptr)
		return;
	pm_agg_add(&pm_kml_stat, PM_KML_STAT_CACHE_FREE, 1);
	pm_kml_emit_free((unsigned long)ptr, call_site, PERSECMON_KMEM_CACHE,
			 0);
}

static void pm_kml_page_free(void *data, struct page *page,
			     unsigned int order)
{
	pm_probe_hit(&pm_kml_probes[PM_KML_TP_PAGE_FREE]);
	pm_agg_add(&pm_kml_stat, PM_KML_STAT_PAGE_FREE, 1);
	pm_kml_emit_free(page_to_pfn(page), 0, PERSECMON_KMEM_PAGE, order);
}

static void pm_kml_set_state(struct pm_probe *probe, bool attached, int err)
{
	WRITE_ONCE(probe->attached, attached);
	WRITE_ONCE(probe->error, err);
}

static void pm_kml_unregister(unsigned int n)
{
	while (n--) {
		tracepoint_probe_unregister(pm_kml_tps[n].tp,
					    pm_kml_tps[n].probe, NULL);
		pm_kml_set_state(&pm_kml_probes[n], false, 0);
	}
	/* No probe may still be running once this returns. */
	tracepoint_synchronize_unregister();
}

static int pm_kml_attach(void)
{
	unsigned int i;
	int ret;

	/* No probe runs while detached: the table is ours to empty. */
	pm_leakagg_clear(&pm_kml_leaks);
	for (i = 0; i < PM_KML_TP_NR; i++) {
		ret = tracepoint_probe_register(pm_kml_tps[i].tp,
						pm_kml_tps[i].probe, NULL);
		pm_kml_set_state(&pm_kml_probes[i], !ret, ret);
		if (ret) {
			pm_kml_unregister(i);
			return ret;
		}
	}
	return 0;
}

static void pm_kml_detach(void)
{
	pm_kml_unregister(PM_KML_TP_NR);
	/* Probes are done: what nobody tracks any more is not shown. */
	pm_leakagg_clear(&pm_kml_leaks);
}

static int pm_kml_stat_rows(pm_agg_emit_fn emit, void *ctx)
{
	u64 values[PM_KML_STAT_COLUMNS];

	pm_agg_counters_sum(&pm_kml_stat, values);
	pm_leakagg_losses(&pm_kml_leaks, &values[PM_KML_STAT_NR]);
	return emit(ctx, "all", values, ARRAY_SIZE(values));
}

static void pm_kml_stat_reset(void)
{
	pm_agg_counters_reset(&pm_kml_stat);
}

static struct pm_agg_table pm_kml_stat_table = {
	.name = "kmemleak",
	.columns = "kmalloc,kfree,cache_alloc,cache_free,page_alloc,page_free,alloc_bytes,sampled_out,recursion,blocks_full,stacks_full,replaced",
	.rows = pm_kml_stat_rows,
	.reset = pm_kml_stat_reset,
};

/* The table "kmemleak_outstanding": core/leakagg.h, all rows tgid 0. */
static int pm_kml_leak_rows(pm_agg_emit_fn emit, void *ctx)
{
	return pm_leakagg_rows(&pm_kml_leaks, emit, ctx);
}

static int pm_kml_leak_show(struct seq_file *m)
{
	return pm_leakagg_show(&pm_kml_leaks, m,
			       "kernel allocations (pages by pfn)");
}

static void pm_kml_leak_reset(void)
{
	pm_leakagg_forget(&pm_kml_leaks);
}

static struct pm_agg_table pm_kml_leak_table = {
	.name = "kmemleak_outstanding",
	.columns = PM_LEAKAGG_COLUMNS,
	.rows = pm_kml_leak_rows,
	.reset = pm_kml_leak_reset,
	.show = pm_kml_leak_show,
};

static const struct pm_group pm_kml_group = {
	.name = "kmemleak",
	.attach = pm_kml_attach,
	.detach = pm_kml_detach,
};

static void pm_kml_find_tp(struct tracepoint *tp, void *priv)
{
	unsigned int i;

	for (i = 0; i < PM_KML_TP_NR; i++)
		if (!strcmp(tp->name, pm_kml_tps[i].name))
			pm_kml_tps[i].tp = tp;
}

static void pm_kml_unregister_probes(unsigned int n)
{
	while (n--)
		pm_probe_unregister(&pm_kml_probes[n]);
}

int pm_kmemleak_init(void)
{
	unsigned int i, probes = 0;
	int ret;

	check_trace_callback_type_kmalloc(pm_kml_kmalloc);
	check_trace_callback_type_kfree(pm_kml_kfree);
	check_trace_callback_type_kmem_cache_alloc(pm_kml_cache_alloc);
	check_trace_callback_type_kmem_cache_free(pm_kml_cache_free);
	check_trace_callback_type_mm_page_alloc(pm_kml_page_alloc);
	check_trace_callback_type_mm_page_free(pm_kml_page_free);

	pm_kml_tps[PM_KML_TP_KMALLOC] = (struct pm_kml_tp){
		"kmalloc", pm_kml_kmalloc };
	pm_kml_tps[PM_KML_TP_KFREE] = (struct pm_kml_tp){
		"kfree", pm_kml_kfree };
	pm_kml_tps[PM_KML_TP_CACHE_ALLOC] = (struct pm_kml_tp){
		"kmem_cache_alloc", pm_kml_cache_alloc };
	pm_kml_tps[PM_KML_TP_CACHE_FREE] = (struct pm_kml_tp){
		"kmem_cache_free", pm_kml_cache_free };
	pm_kml_tps[PM_KML_TP_PAGE_ALLOC] = (struct pm_kml_tp){
		"mm_page_alloc", pm_kml_page_alloc };
	pm_kml_tps[PM_KML_TP_PAGE_FREE] = (struct pm_kml_tp){
		"mm_page_free", pm_kml_page_free };
	for_each_kernel_tracepoint(pm_kml_find_tp, NULL);
	for (i = 0; i < PM_KML_TP_NR; i++) {
		if (!pm_kml_tps[i].tp) {
			pr_err("tracepoint kmem:%s not found\n",
			       pm_kml_tps[i].name);
			return -ENOENT;
		}
	}

	BUILD_BUG_ON(sizeof(unsigned long) != sizeof(u64));
	BUILD_BUG_ON(PM_LEAKTAB_FRAMES < PERSECMON_KSTACK_MAX);
	ret = pm_leakagg_init(&pm_kml_leaks, kmemleak_blocks, kmemleak_stacks);
	if (ret) {
		pr_err("kmemleak_blocks and kmemleak_stacks must be powers of two from %u to %u\n",
		       PM_LEAKTAB_PROBE, PM_LEAKTAB_CAPACITY_MAX);
		return ret;
	}
	pm_kml_scratch = alloc_percpu(struct pm_kml_scratch);
	if (!pm_kml_scratch) {
		ret = -ENOMEM;
		goto err_scratch;
	}
	ret = pm_agg_counters_alloc(&pm_kml_stat, PM_KML_STAT_NR);
	if (ret)
		goto err_stat;
	for (; probes < PM_KML_TP_NR; probes++) {
		ret = pm_probe_register(&pm_kml_probes[probes]);
		if (ret)
			goto err_probes;
	}
	ret = pm_agg_table_register(&pm_kml_stat_table);
	if (ret)
		goto err_probes;
	ret = pm_agg_table_register(&pm_kml_leak_table);
	if (ret)
		goto err_leak_table;
	ret = pm_group_register(PERSECMON_GROUP_KMEMLEAK, &pm_kml_group);
	if (ret)
		goto err_group;
	return 0;

err_group:
	pm_agg_table_unregister(&pm_kml_leak_table);
err_leak_table:
	pm_agg_table_unregister(&pm_kml_stat_table);
err_probes:
	pm_kml_unregister_probes(probes);
	pm_agg_counters_free(&pm_kml_stat);
err_stat:
	free_percpu(pm_kml_scratch);
err_scratch:
	pm_leakagg_destroy(&pm_kml_leaks);
	return ret;
}

void pm_kmemleak_exit(void)
{
	pm_group_unregister(PERSECMON_GROUP_KMEMLEAK);
	pm_agg_table_unregister(&pm_kml_leak_table);
	pm_agg_table_unregister(&pm_kml_stat_table);
	pm_kml_unregister_probes(PM_KML_TP_NR);
	pm_agg_counters_free(&pm_kml_stat);
	free_percpu(pm_kml_scratch);
	pm_leakagg_destroy(&pm_kml_leaks);
}
