// SPDX-License-Identifier: GPL-2.0
/*
 * The "net" group: TCP active-connect latency, like bcc's tcpconnlat, and
 * TCP state changes, like bcc's tcpstates, from one tracepoint,
 * sock:inet_sock_set_state(sk, oldstate, newstate).
 *
 * An active connect is CLOSE -> SYN_SENT, which tcp_v4_connect() and
 * tcp_v6_connect() do in the connecting task (socket locked, before the
 * source port is chosen and the SYN sent); it ends with SYN_SENT ->
 * ESTABLISHED (tcp_finish_connect()) or SYN_SENT -> CLOSE (a RST, a
 * timeout, close() or a failed port allocation), usually in softirq
 * context, where the current task is whoever was interrupted. So the
 * start stores the connecting task in a fixed-size table keyed by the
 * struct sock pointer, and the end takes it out again: the record and
 * the aggregates are then attributed to that task. The table is a set of
 * buckets of PM_NET_WAYS slots claimed and released with cmpxchg(), so
 * any context may use it without a lock; a start that finds its bucket
 * full is counted (table_full) and that connect is not timed.
 *
 * While the group is attached every event updates the aggregates
 * ("tcpconnlat", "tcpconn", "tcpconn_proc"); records go only to the
 * sessions that enabled the group.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/cred.h>
#include <linux/errno.h>
#include <linux/hash.h>
#include <linux/in.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/socket.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/tracepoint.h>
#include <net/inet_sock.h>
#include <net/ipv6.h>
#include <net/sock.h>
#include <net/tcp_states.h>
#include <trace/events/sock.h>

#include "core/agg.h"
#include "core/aggmap.h"
#include "core/filter.h"
#include "core/groups.h"
#include "core/session.h"
#include "core/tracepoint.h"
#include "probes/net.h"

/* Connects in flight the table can follow: buckets x ways. */
#define PM_NET_BUCKET_BITS	9
#define PM_NET_WAYS		8
#define PM_NET_SLOTS		((1U << PM_NET_BUCKET_BITS) * PM_NET_WAYS)
/* A slot's key while its owner fills or reads it (sk pointers are aligned). */
#define PM_NET_BUSY		1UL

/* Processes the per-process table "tcpconn_proc" can tell apart. */
#define PM_NET_PROC_CAPACITY	1024

/* Who called connect(), and when the socket entered SYN_SENT. */
struct pm_net_conn {
	unsigned long key;	/* the sock, 0 when free, | BUSY while used */
	u64 start_ns;
	u64 cgroup_id;
	u32 pid;
	u32 tgid;
	u32 uid;
	char comm[TASK_COMM_LEN];
};

/* Key of "tcpconn_proc"; the padding is part of the key. */
struct pm_net_proc_key {
	u32 tgid;
	char comm[TASK_COMM_LEN];
	u32 pad;
};

enum {
	PM_NET_PROC_CONNECTS,
	PM_NET_PROC_FAILED,
};

enum {
	PM_NET_STAT_CONNECTS,		/* CLOSE -> SYN_SENT */
	PM_NET_STAT_ESTABLISHED,	/* timed connects that succeeded */
	PM_NET_STAT_FAILED,		/* timed connects that failed */
	PM_NET_STAT_TABLE_FULL,		/* starts not timed: bucket full */
	PM_NET_STAT_UNMATCHED,		/* ends without a start in the table */
	PM_NET_STAT_REPLACED,		/* starts that found a stale slot */
	PM_NET_STAT_STATES,		/* TCP state changes */
	PM_NET_STAT_NR,
};

enum {
	PM_NET_LAT_ESTABLISHED,
	PM_NET_LAT_FAILED,
	PM_NET_LAT_NR,
};

static void pm_net_state_probe(void *data, const struct sock *sk,
			       const int oldstate, const int newstate);

static struct pm_net_conn *pm_net_table;
static struct pm_agg_counters pm_net_stat;
static struct pm_agg_counters pm_net_lat[PM_NET_LAT_NR];
DEFINE_PM_AGGMAP(pm_net_procs);

static struct pm_tp pm_net_tps[] = {
	{ .name = "inet_sock_set_state", .func = pm_net_state_probe },
};

static struct pm_net_conn *pm_net_bucket(const struct sock *sk)
{
	return &pm_net_table[hash_ptr(sk, PM_NET_BUCKET_BITS) * PM_NET_WAYS];
}

/* CLOSE -> SYN_SENT, in the connecting task: remember it. */
static void pm_net_conn_start(const struct sock *sk, u64 now)
{
	unsigned long key = (unsigned long)sk;
	struct pm_net_conn *b = pm_net_bucket(sk), *c = NULL;
	unsigned int i;

	/* A slot this socket still holds means its end went unseen. */
	for (i = 0; i < PM_NET_WAYS && !c; i++) {
		if (READ_ONCE(b[i].key) == key &&
		    cmpxchg(&b[i].key, key, key | PM_NET_BUSY) == key) {
			c = &b[i];
			pm_agg_add(&pm_net_stat, PM_NET_STAT_REPLACED, 1);
		}
	}
	for (i = 0; i < PM_NET_WAYS && !c; i++) {
		if (!READ_ONCE(b[i].key) &&
		    !cmpxchg(&b[i].key, 0UL, key | PM_NET_BUSY))
			c = &b[i];
	}
	if (!c) {
		pm_agg_add(&pm_net_stat, PM_NET_STAT_TABLE_FULL, 1);
		return;
	}
	c->start_ns = now;
	if (in_task()) {
		c->pid = task_pid_nr(current);
		c->tgid = task_tgid_nr(current);
		c->uid = __kuid_val(current_uid());
		c->cgroup_id = pm_current_cgroup_id();
		strscpy_pad(c->comm, current->comm, sizeof(c->comm));
	} else {
		c->pid = 0;
		c->tgid = 0;
		c->uid = 0;
		c->cgroup_id = 0;
		memset(c->comm, 0, sizeof(c->comm));
	}
	/* The payload before the key that publishes it. */
	smp_store_release(&c->key, key);
}

/*
 * Copies the slot of @sk into @out; with @remove, frees it. Returns false
 * if @sk has no slot. Only one end of a connect can run at a time (the
 * socket's own locking), so a slot is not taken twice.
 */
static bool pm_net_conn_find(const struct sock *sk, struct pm_net_conn *out,
			     bool remove)
{
	unsigned long key = (unsigned long)sk;
	struct pm_net_conn *b = pm_net_bucket(sk);
	unsigned int i;

	for (i = 0; i < PM_NET_WAYS; i++) {
		/* Pairs with the release in pm_net_conn_start(). */
		if (smp_load_acquire(&b[i].key) != key)
			continue;
		*out = b[i];
		if (!remove)
			return true;
		/* Full barrier: the copy is done before the slot is free. */
		if (cmpxchg(&b[i].key, key, 0UL) == key)
			return true;
	}
	return false;
}

/* Per-process counts, by the task that called connect(). */
static void pm_net_proc_count(const struct pm_net_conn *c, bool failed)
{
	struct pm_net_proc_key key;
	atomic64_t *v;

	memset(&key, 0, sizeof(key));
	key.tgid = c->tgid;
	memcpy(key.comm, c->comm, sizeof(key.comm));
	/* Tracepoint probes run with preemption disabled: RCU held. */
	v = pm_aggmap_values(&pm_net_procs, &key);
	pm_aggmap_add(v, PM_NET_PROC_CONNECTS, 1);
	if (failed)
		pm_aggmap_add(v, PM_NET_PROC_FAILED, 1);
}

static int pm_net_proc_format(char *buf, size_t size, const void *k)
{
	const struct pm_net_proc_key *key = k;

	return scnprintf(buf, size, "pid=%u comm=%.*s", key->tgid,
			 (int)strnlen(key->comm, sizeof(key->comm)),
			 key->comm);
}

static const struct pm_aggmap_info pm_net_proc_info = {
	.name = "tcpconn_proc",
	.columns = "connects,failed",
	.capacity = PM_NET_PROC_CAPACITY,
	.key_size = sizeof(struct pm_net_proc_key),
	.format_key = pm_net_proc_format,
	.sort_columns = BIT(PM_NET_PROC_CONNECTS),
};

/* Addresses and ports of @sk, as the uapi wants them. */
static void pm_net_fill_addrs(struct persecmon_tcp_event *ev,
			      const struct sock *sk)
{
	const struct inet_sock *inet = inet_sk(sk);

	ev->family = sk->sk_family;
	ev->sport = ntohs(READ_ONCE(inet->inet_sport));
	ev->dport = ntohs(READ_ONCE(inet->inet_dport));
#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6) {
		memcpy(ev->saddr, &sk->sk_v6_rcv_saddr, 16);
		memcpy(ev->daddr, &sk->sk_v6_daddr, 16);
		return;
	}
#endif
	memcpy(ev->saddr, &inet->inet_saddr, 4);
	memcpy(ev->daddr, &inet->inet_daddr, 4);
}

/*
 * Writes one record of @type to every session that wants it. With @owner,
 * the record (header, filters) is the task that called connect(), not the
 * current one. @ev holds the payload; its header is ignored.
 */
static void pm_net_emit(u16 type, struct persecmon_tcp_event *ev,
			const struct sock *sk, const struct pm_net_conn *owner)
{
	const size_t off = offsetof(struct persecmon_tcp_event, latency_ns);
	struct persecmon_record *rec;
	struct pm_emit em;

	if (!pm_emit_begin(&em, PERSECMON_GROUP_NET))
		return;
	if (owner) {
		/*
		 * The emit API samples the current task, which in softirq
		 * is nobody; the filters must judge the connecting task.
		 */
		pm_emit_set_task(&em, owner->pid, owner->tgid, owner->uid,
				 owner->cgroup_id);
		memcpy(ev->comm, owner->comm, sizeof(ev->comm));
		ev->flags |= PERSECMON_TCP_CONNECTOR;
	} else if (in_task()) {
		strscpy_pad(ev->comm, current->comm, sizeof(ev->comm));
	}
	pm_net_fill_addrs(ev, sk);
	while ((rec = pm_emit_reserve(&em, type, sizeof(*ev)))) {
		memcpy((u8 *)rec + off, (const u8 *)ev + off,
		       sizeof(*ev) - off);
		pm_emit_commit(&em, rec);
	}
	pm_emit_end(&em);
}

/*
 * SYN_SENT (or SYN_RECV after a simultaneous open) -> ESTABLISHED or
 * CLOSE, with the start found in the table.
 */
static void pm_net_conn_end(const struct sock *sk,
			    const struct pm_net_conn *c, int oldstate,
			    int newstate, u64 latency_ns)
{
	struct persecmon_tcp_event ev = { };
	bool failed = newstate != TCP_ESTABLISHED;

	if (pm_global_counts(c->tgid, c->cgroup_id)) {
		pm_agg_add(&pm_net_stat, failed ? PM_NET_STAT_FAILED :
			   PM_NET_STAT_ESTABLISHED, 1);
		pm_agg_hist_add(&pm_net_lat[failed ? PM_NET_LAT_FAILED :
					    PM_NET_LAT_ESTABLISHED],
				latency_ns / NSEC_PER_USEC);
		pm_net_proc_count(c, failed);
	}

	ev.latency_ns = latency_ns;
	ev.oldstate = oldstate;
	ev.newstate = newstate;
	ev.flags = PERSECMON_TCP_LATENCY;
	if (failed) {
		ev.flags |= PERSECMON_TCP_FAILED;
		ev.error = READ_ONCE(sk->sk_err);
	}
	pm_net_emit(PERSECMON_EV_TCP_CONNECT, &ev, sk, c);
}

static void pm_net_state_probe(void *data, const struct sock *sk,
			       const int oldstate, const int newstate)
{
	struct persecmon_tcp_event ev = { };
	struct pm_net_conn conn, *owner = NULL;
	bool connector = false;
	u64 now;

	if (sk->sk_protocol != IPPROTO_TCP ||
	    (sk->sk_family != AF_INET && sk->sk_family != AF_INET6))
		return;
	pm_tp_hit(&pm_net_tps[0]);
	pm_agg_add(&pm_net_stat, PM_NET_STAT_STATES, 1);
	now = ktime_get_mono_fast_ns();

	if (newstate == TCP_SYN_SENT) {
		pm_agg_add(&pm_net_stat, PM_NET_STAT_CONNECTS, 1);
		pm_net_conn_start(sk, now);
		/* Inside connect(): the current task is the connector. */
		connector = in_task();
	} else if (oldstate == TCP_SYN_SENT && newstate == TCP_SYN_RECV) {
		/* Simultaneous open: the connect goes on in SYN_RECV. */
		if (pm_net_conn_find(sk, &conn, false))
			owner = &conn;
	} else if (oldstate == TCP_SYN_SENT || oldstate == TCP_SYN_RECV) {
		/*
		 * A passive child leaves SYN_RECV too, but never had a
		 * slot: only SYN_SENT without one is a miss.
		 */
		if (pm_net_conn_find(sk, &conn, true)) {
			owner = &conn;
			pm_net_conn_end(sk, owner, oldstate, newstate,
					now - conn.start_ns);
		} else if (oldstate == TCP_SYN_SENT) {
			pm_agg_add(&pm_net_stat, PM_NET_STAT_UNMATCHED, 1);
		}
	}

	ev.oldstate = oldstate;
	ev.newstate = newstate;
	if (owner) {
		ev.latency_ns = now - owner->start_ns;
		ev.flags = PERSECMON_TCP_LATENCY;
	} else if (connector) {
		ev.flags = PERSECMON_TCP_CONNECTOR;
	}
	pm_net_emit(PERSECMON_EV_TCP_STATE, &ev, sk, owner);
}

static int pm_net_attach(void)
{
	/* No handler runs now: forget connects whose end was never seen. */
	memset(pm_net_table, 0, PM_NET_SLOTS * sizeof(*pm_net_table));
	return pm_tps_attach(pm_net_tps, ARRAY_SIZE(pm_net_tps));
}

static void pm_net_detach(void)
{
	pm_tps_detach(pm_net_tps, ARRAY_SIZE(pm_net_tps));
}

/* Slots in use now: connects in flight (debugfs status). */
static unsigned int pm_net_inflight(void)
{
	unsigned int i, n = 0;

	for (i = 0; i < PM_NET_SLOTS; i++)
		if (READ_ONCE(pm_net_table[i].key))
			n++;
	return n;
}

static void pm_net_show(struct seq_file *m)
{
	u64 v[PM_NET_STAT_NR];

	pm_agg_counters_sum(&pm_net_stat, v);
	seq_printf(m, "net connects %llu established %llu failed %llu table_full %llu unmatched %llu replaced %llu states %llu inflight %u slots %u\n",
		   v[PM_NET_STAT_CONNECTS], v[PM_NET_STAT_ESTABLISHED],
		   v[PM_NET_STAT_FAILED], v[PM_NET_STAT_TABLE_FULL],
		   v[PM_NET_STAT_UNMATCHED], v[PM_NET_STAT_REPLACED],
		   v[PM_NET_STAT_STATES], pm_net_inflight(), PM_NET_SLOTS);
}

/* Aggregate tables */

static int pm_net_stat_rows(pm_agg_emit_fn emit, void *ctx)
{
	u64 values[PM_NET_STAT_NR];

	pm_agg_counters_sum(&pm_net_stat, values);
	return emit(ctx, "all", values, ARRAY_SIZE(values));
}

static void pm_net_stat_reset(void)
{
	pm_agg_counters_reset(&pm_net_stat);
}

static int pm_net_lat_rows(pm_agg_emit_fn emit, void *ctx)
{
	static const char * const keys[] = {
		[PM_NET_LAT_ESTABLISHED] = "result=established",
		[PM_NET_LAT_FAILED] = "result=failed",
	};
	u64 slots[PM_AGG_HIST_SLOTS];
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(pm_net_lat); i++) {
		pm_agg_counters_sum(&pm_net_lat[i], slots);
		ret = emit(ctx, keys[i], slots, ARRAY_SIZE(slots));
		if (ret)
			return ret;
	}
	return 0;
}

static void pm_net_lat_reset(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(pm_net_lat); i++)
		pm_agg_counters_reset(&pm_net_lat[i]);
}

static struct pm_agg_table pm_net_stat_table = {
	.name = "tcpconn",
	.columns = "connects,established,failed,table_full,unmatched,replaced,states",
	.rows = pm_net_stat_rows,
	.reset = pm_net_stat_reset,
};

static struct pm_agg_table pm_net_lat_table = {
	.name = "tcpconnlat",
	.columns = "log2:usecs",
	.rows = pm_net_lat_rows,
	.reset = pm_net_lat_reset,
};

static const struct pm_group pm_net_group = {
	.name = "net",
	.attach = pm_net_attach,
	.detach = pm_net_detach,
	.show = pm_net_show,
};

static void pm_net_free(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(pm_net_lat); i++)
		pm_agg_counters_free(&pm_net_lat[i]);
	pm_agg_counters_free(&pm_net_stat);
	kvfree(pm_net_table);
	pm_net_table = NULL;
}

int pm_net_init(void)
{
	unsigned int i;
	int ret;

	check_trace_callback_type_inet_sock_set_state(pm_net_state_probe);
	pm_net_table = kvcalloc(PM_NET_SLOTS, sizeof(*pm_net_table),
				GFP_KERNEL);
	ret = pm_net_table ? 0 : -ENOMEM;
	if (!ret)
		ret = pm_agg_counters_alloc(&pm_net_stat, PM_NET_STAT_NR);
	for (i = 0; !ret && i < ARRAY_SIZE(pm_net_lat); i++)
		ret = pm_agg_hist_alloc(&pm_net_lat[i]);
	if (ret)
		goto err_free;
	ret = pm_tps_init("net", pm_net_tps, ARRAY_SIZE(pm_net_tps));
	if (ret)
		goto err_free;
	ret = pm_agg_table_register(&pm_net_lat_table);
	if (ret)
		goto err_tps;
	ret = pm_agg_table_register(&pm_net_stat_table);
	if (ret)
		goto err_lat_table;
	ret = pm_aggmap_init(&pm_net_procs, &pm_net_proc_info);
	if (ret)
		goto err_stat_table;
	ret = pm_group_register(PERSECMON_GROUP_NET, &pm_net_group);
	if (ret)
		goto err_procs;
	return 0;

err_procs:
	pm_aggmap_destroy(&pm_net_procs);
err_stat_table:
	pm_agg_table_unregister(&pm_net_stat_table);
err_lat_table:
	pm_agg_table_unregister(&pm_net_lat_table);
err_tps:
	pm_tps_exit(pm_net_tps, ARRAY_SIZE(pm_net_tps));
err_free:
	pm_net_free();
	return ret;
}

void pm_net_exit(void)
{
	pm_group_unregister(PERSECMON_GROUP_NET);
	pm_aggmap_destroy(&pm_net_procs);
	pm_agg_table_unregister(&pm_net_stat_table);
	pm_agg_table_unregister(&pm_net_lat_table);
	pm_tps_exit(pm_net_tps, ARRAY_SIZE(pm_net_tps));
	pm_net_free();
}
