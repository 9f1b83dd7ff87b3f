// SPDX-License-Identifier: GPL-2.0
/*
 * The "dns" group: latency of libc name lookups, like bcc's
 * gethostlatency. Userspace resolves getaddrinfo(), gethostbyname() and
 * gethostbyname2() in the libc it cares about and sends them as uprobe
 * targets (core/uprobe.h) with roles enum persecmon_dns_func, entry and
 * return. The entry handler copies the host name argument and stamps the
 * time into a per-thread in-flight slot; the return handler writes one
 * PERSECMON_EV_DNS record per lookup and frees the slot.
 *
 * In-flight slots: a fixed table of PM_DNS_INFLIGHT, open addressing on
 * the thread id, claimed with cmpxchg() (no lock, no allocation in the
 * handlers). Only the owning thread writes a claimed slot, and a slot is
 * matched by (pid, task start time), so a recycled pid never takes over a
 * dead thread's slot by mistake: it reclaims it. A call nested in another
 * lookup of the same thread only counts depth; the outermost call is
 * timed. A lookup that finds the table full is not timed and is counted
 * as "untracked" in the aggregate table dnsstat. A thread killed inside a
 * lookup keeps its slot until its pid is reused or the group detaches.
 */
#include <linux/atomic.h>
#include <linux/kernel.h>
#include <linux/hash.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "core/agg.h"
#include "core/filter.h"
#include "core/groups.h"
#include "core/session.h"
#include "core/uprobe.h"
#include "probes/dns.h"

#define PM_DNS_INFLIGHT_BITS	9
#define PM_DNS_INFLIGHT		(1U << PM_DNS_INFLIGHT_BITS)

struct pm_dns_call {
	u32 pid;		/* 0: free; claimed with cmpxchg() */
	u32 depth;		/* nested lookups of the same thread */
	u64 task_start;		/* current->start_time of the owner */
	u64 start_ns;
	u8 func;
	u8 flags;		/* PERSECMON_DNS_* */
	u16 host_len;
	bool truncated;
	char host[PERSECMON_DNS_HOST_MAX + 1];	/* one more: was it cut? */
};

/* Columns of dnsstat: completed lookups per function (by role id), ... */
enum {
	PM_DNS_STAT_FAILED = PERSECMON_DNS_FUNC_MAX + 1,
	PM_DNS_STAT_UNTRACKED,
	PM_DNS_STAT_NR,
};

static struct pm_dns_call *pm_dns_calls;
static struct pm_agg_counters pm_dns_stat;

static struct pm_dns_call *pm_dns_find(u32 pid, u64 task_start)
{
	unsigned int i, h = hash_32(pid, PM_DNS_INFLIGHT_BITS);
	struct pm_dns_call *c;

	for (i = 0; i < PM_DNS_INFLIGHT; i++) {
		c = &pm_dns_calls[(h + i) & (PM_DNS_INFLIGHT - 1)];
		if (READ_ONCE(c->pid) == pid &&
		    READ_ONCE(c->task_start) == task_start)
			return c;
	}
	return NULL;
}

/*
 * A free slot, or the slot of a dead thread whose pid the current thread
 * now has: nobody else can match (pid, start time) of the current thread,
 * and the dead one will never touch its slot again.
 */
static struct pm_dns_call *pm_dns_claim(u32 pid)
{
	unsigned int i, h = hash_32(pid, PM_DNS_INFLIGHT_BITS);
	struct pm_dns_call *c;

	for (i = 0; i < PM_DNS_INFLIGHT; i++) {
		c = &pm_dns_calls[(h + i) & (PM_DNS_INFLIGHT - 1)];
		if (READ_ONCE(c->pid) == pid || !cmpxchg(&c->pid, 0, pid))
			return c;
	}
	return NULL;
}

static void pm_dns_entry(const struct pm_uprobe_target *t,
			 struct pt_regs *regs)
{
	const char __user *host;
	struct pm_dns_call *c;
	u64 task_start = current->start_time;
	u32 pid = current->pid;
	long len;

	c = pm_dns_find(pid, task_start);
	if (c) {
		c->depth++;
		return;
	}
	c = pm_dns_claim(pid);
	if (!c) {
		pm_agg_add(&pm_dns_stat, PM_DNS_STAT_UNTRACKED, 1);
		return;
	}
	c->depth = 0;
	c->func = t->role;
	c->flags = 0;
	c->host_len = 0;
	c->truncated = false;
	/* The first argument, on x86-64 and arm64 alike. */
	host = (const char __user *)regs_get_kernel_argument(regs, 0);
	if (!host) {
		c->flags |= PERSECMON_DNS_HOST_NULL;
	} else {
		/* May fault the page in: preemptible process context. */
		len = strncpy_from_user(c->host, host, sizeof(c->host));
		if (len < 0) {
			c->flags |= PERSECMON_DNS_HOST_FAULT;
		} else if (len > PERSECMON_DNS_HOST_MAX) {
			c->host_len = PERSECMON_DNS_HOST_MAX;
			c->truncated = true;
		} else {
			c->host_len = len;
		}
	}
	c->start_ns = ktime_get_mono_fast_ns();
	/* Only this thread looks for its slot: no ordering needed here. */
	WRITE_ONCE(c->task_start, task_start);
}

static void pm_dns_return(const struct pm_uprobe_target *t,
			  unsigned long func, struct pt_regs *regs)
{
	struct persecmon_dns_event *ev;
	struct persecmon_record *rec;
	struct pm_dns_call *c;
	u8 comm[PERSECMON_COMM_LEN];
	unsigned long rv;
	struct pm_emit em;
	u64 latency;
	s32 ret;

	c = pm_dns_find(current->pid, current->start_time);
	if (!c)
		return;		/* entry not seen (table full, or attached late) */
	if (c->depth) {
		c->depth--;
		return;
	}
	latency = ktime_get_mono_fast_ns() - c->start_ns;
	rv = regs_return_value(regs);
	if (c->func == PERSECMON_DNS_GETADDRINFO)
		ret = (s32)rv;
	else
		ret = rv ? 0 : -1;

	if (pm_global_counts_current()) {
		pm_agg_add(&pm_dns_stat, c->func, 1);
		if (ret)
			pm_agg_add(&pm_dns_stat, PM_DNS_STAT_FAILED, 1);
	}

	strscpy_pad(comm, current->comm, sizeof(comm));
	if (pm_emit_begin(&em, PERSECMON_GROUP_DNS)) {
		while ((rec = pm_emit_reserve(&em, PERSECMON_EV_DNS,
					      sizeof(*ev) + c->host_len))) {
			ev = container_of(rec, struct persecmon_dns_event,
					  hdr);
			if (c->truncated)
				rec->flags |= PERSECMON_RF_TRUNCATED;
			ev->latency_ns = latency;
			ev->ret = ret;
			ev->func = c->func;
			ev->flags = c->flags;
			ev->host_len = c->host_len;
			memcpy(ev->comm, comm, sizeof(ev->comm));
			memcpy(ev->host, c->host, c->host_len);
			pm_emit_commit(&em, rec);
		}
		pm_emit_end(&em);
	}
	WRITE_ONCE(c->task_start, 0);
	/*
	 * Release: our reads of the slot complete before another thread's
	 * cmpxchg() (fully ordered) can claim it and start writing.
	 */
	smp_store_release(&c->pid, 0);
}

static const struct pm_uprobe_role pm_dns_roles[] = {
	[PERSECMON_DNS_GETADDRINFO] = {
		.name = "getaddrinfo",
		.entry = pm_dns_entry, .ret = pm_dns_return,
	},
	[PERSECMON_DNS_GETHOSTBYNAME] = {
		.name = "gethostbyname",
		.entry = pm_dns_entry, .ret = pm_dns_return,
	},
	[PERSECMON_DNS_GETHOSTBYNAME2] = {
		.name = "gethostbyname2",
		.entry = pm_dns_entry, .ret = pm_dns_return,
	},
};

static struct pm_uprobe_group pm_dns_uprobes = {
	.group = PERSECMON_GROUP_DNS,
	.roles = pm_dns_roles,
	.nr_roles = ARRAY_SIZE(pm_dns_roles),
};

static int pm_dns_attach(void)
{
	/* No handler runs while detached: the table is ours to reset. */
	memset(pm_dns_calls, 0, PM_DNS_INFLIGHT * sizeof(*pm_dns_calls));
	pm_uprobe_group_attach(&pm_dns_uprobes);
	return 0;
}

static void pm_dns_detach(void)
{
	pm_uprobe_group_detach(&pm_dns_uprobes);
}

static const struct pm_group pm_dns_group = {
	.name = "dns",
	.attach = pm_dns_attach,
	.detach = pm_dns_detach,
};

static int pm_dns_stat_rows(pm_agg_emit_fn emit, void *ctx)
{
	u64 values[PM_DNS_STAT_NR];

	pm_agg_counters_sum(&pm_dns_stat, values);
	return emit(ctx, "all", values, ARRAY_SIZE(values));
}

static void pm_dns_stat_reset(void)
{
	pm_agg_counters_reset(&pm_dns_stat);
}

static struct pm_agg_table pm_dns_stat_table = {
	.name = "dnsstat",
	.columns = "getaddrinfo,gethostbyname,gethostbyname2,failed,untracked",
	.rows = pm_dns_stat_rows,
	.reset = pm_dns_stat_reset,
};

int pm_dns_init(void)
{
	int ret;

	BUILD_BUG_ON(PERSECMON_DNS_HOST_MAX > U16_MAX);

	pm_dns_calls = vzalloc(PM_DNS_INFLIGHT * sizeof(*pm_dns_calls));
	if (!pm_dns_calls)
		return -ENOMEM;
	ret = pm_agg_counters_alloc(&pm_dns_stat, PM_DNS_STAT_NR);
	if (ret)
		goto err_calls;
	ret = pm_agg_table_register(&pm_dns_stat_table);
	if (ret)
		goto err_stat;
	ret = pm_uprobe_group_register(&pm_dns_uprobes);
	if (ret)
		goto err_table;
	ret = pm_group_register(PERSECMON_GROUP_DNS, &pm_dns_group);
	if (ret)
		goto err_uprobes;
	return 0;

err_uprobes:
	pm_uprobe_group_unregister(&pm_dns_uprobes);
err_table:
	pm_agg_table_unregister(&pm_dns_stat_table);
err_stat:
	pm_agg_counters_free(&pm_dns_stat);
err_calls:
	vfree(pm_dns_calls);
	pm_dns_calls = NULL;
	return ret;
}

void pm_dns_exit(void)
{
	pm_group_unregister(PERSECMON_GROUP_DNS);
	pm_uprobe_group_unregister(&pm_dns_uprobes);
	pm_agg_table_unregister(&pm_dns_stat_table);
	pm_agg_counters_free(&pm_dns_stat);
	vfree(pm_dns_calls);
	pm_dns_calls = NULL;
}
