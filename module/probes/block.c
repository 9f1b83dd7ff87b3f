// SPDX-License-Identifier: GPL-2.0
/*
 * The "block" group: one PERSECMON_EV_BLOCK per completed block request,
 * attributed to the task that submitted it, and the aggregates
 * "biolatency", "biolatency_disk", "biolatency_proc", "biotop" and
 * "biostats".
 *
 * Three moments of a request are seen, all through tracepoints found by
 * name (none is exported), chosen once at load and reported in the log:
 *
 *  submission  in the submitting task, when a request is built from its
 *              first bio. Where the kernel has block_io_start (6.5+, so
 *              6.12) that is it: blk_mq_bio_to_request() fires it for
 *              every request, with the request. Otherwise (6.1)
 *              block_getrq(bio), fired by blk_mq_submit_bio() right after
 *              it got a request for the bio, which becomes rq->bio; and
 *              block_bio_frontmerge(bio), since a bio merged in front
 *              becomes rq->bio instead. Those are keyed by the bio and
 *              moved to the request at issue.
 *  issue       block_rq_issue(rq), in blk_mq_start_request(): the driver
 *              gets the request. Latency is measured from here.
 *  completion  block_rq_complete(rq, status, nr_bytes), fired by
 *              blk_update_request() and the batched completion path, in
 *              whatever context completes (often hard or soft IRQ). It is
 *              the one completion point with the status, and it fires for
 *              every request; block_io_done is not used because the block
 *              layer skips it for requests that need no timestamp (e.g.
 *              iostats off and no I/O scheduler) and it has no status.
 *
 * The kprobes of bcc's tools (blk_account_io_start/done,
 * blk_mq_start_request) are not needed: blk_account_io_start is inlined
 * on 6.1, and the tracepoints above sit in the same places.
 *
 * Joining the three needs per-request state reachable from any context
 * without locks or allocation: a fixed table of PM_BLOCK_SLOTS slots,
 * open addressing over PM_BLOCK_MAX_PROBE slots from the key's hash. A
 * slot is owned by the key stored in it, claimed with cmpxchg from 0 (or
 * from a stale key: an entry untouched for PM_BLOCK_STALE_NS, left by a
 * request whose completion was never seen) and released with cmpxchg back
 * to 0. The block layer orders the moments of one request (submission
 * happens before issue, issue before completion), so only the owner
 * touches a slot's fields; the completion still re-checks the key after
 * copying them, so that a slot taken over meanwhile is detected rather
 * than misread. A full window is counted (biostats "table_full") and the
 * request goes unseen.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/cgroup.h>
#include <linux/cred.h>
#include <linux/hash.h>
#include <linux/kdev_t.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/preempt.h>
#include <linux/printk.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/tracepoint.h>
#include <trace/events/block.h>

#include "core/agg.h"
#include "core/aggmap.h"
#include "core/filter.h"
#include "core/groups.h"
#include "core/session.h"
#include "core/tracepoint.h"
#include "probes/block.h"

#define PM_BLOCK_SLOTS_SHIFT	12
#define PM_BLOCK_SLOTS		(1U << PM_BLOCK_SLOTS_SHIFT)
#define PM_BLOCK_MAX_PROBE	32
/* An entry untouched for this long may be taken over by another key. */
#define PM_BLOCK_STALE_NS	(30ULL * NSEC_PER_SEC)
/* Bio keys (6.1) have bit 0 set; requests and bios are 8-byte aligned. */
#define PM_BLOCK_KEY_BIO	1UL

/* One tracked request (or, until its issue on 6.1, its first bio). */
struct pm_block_slot {
	unsigned long key;	/* 0: free */
	u64 stamp_ns;		/* last claim or issue; 0 while free */
	u64 start_ns;		/* submission seen (request built); 0 if not */
	u64 issue_ns;		/* 0 until issued */
	u64 sector;
	u64 cgroup_id;
	u32 done;		/* bytes completed so far */
	u32 pid;
	u32 tgid;
	u32 uid;
	u32 flags;		/* PERSECMON_BLOCK_F_* known so far */
	s32 error;
	char comm[TASK_COMM_LEN];
};

/* biostats columns */
enum {
	PM_BLOCK_ST_SUBMITTED,	/* submissions seen */
	PM_BLOCK_ST_ISSUED,
	PM_BLOCK_ST_COMPLETED,	/* final completions of issued requests */
	PM_BLOCK_ST_PARTIAL,	/* partial completions */
	PM_BLOCK_ST_NO_SUBMITTER, /* completed, submission not seen */
	PM_BLOCK_ST_NO_ISSUE,	/* completions of requests not seen issued */
	PM_BLOCK_ST_TABLE_FULL,	/* no slot free in the key's window */
	PM_BLOCK_ST_STALE,	/* stale entries taken over */
	PM_BLOCK_ST_NR,
};

struct pm_block_disk_key {
	u32 dev;		/* dev_t */
	u32 pad;
};

struct pm_block_proc_key {
	u32 tgid;
	u32 pad;
	char comm[TASK_COMM_LEN];
};

struct pm_block_top_key {
	u32 tgid;
	u32 dev;		/* dev_t */
	char comm[TASK_COMM_LEN];
};

/* biotop columns */
enum {
	PM_BLOCK_TOP_READS,
	PM_BLOCK_TOP_WRITES,
	PM_BLOCK_TOP_READ_BYTES,
	PM_BLOCK_TOP_WRITE_BYTES,
	PM_BLOCK_TOP_READ_NS,
	PM_BLOCK_TOP_WRITE_NS,
};

static struct pm_block_slot *pm_block_slots;
static bool pm_block_by_bio;	/* 6.1: submission keyed by the first bio */

static struct pm_agg_counters pm_block_stats;
static struct pm_agg_counters pm_block_lat;
DEFINE_PM_AGGMAP(pm_block_disk_map);
DEFINE_PM_AGGMAP(pm_block_proc_map);
DEFINE_PM_AGGMAP(pm_block_top_map);

static void pm_block_io_start_probe(void *data, struct request *rq);
static void pm_block_getrq_probe(void *data, struct bio *bio);
static void pm_block_frontmerge_probe(void *data, struct bio *bio);
static void pm_block_issue_probe(void *data, struct request *rq);
static void pm_block_complete_probe(void *data, struct request *rq,
				    blk_status_t status,
				    unsigned int nr_bytes);

/* The set used where block_io_start exists (6.12). */
enum { PM_BLOCK_RQ_START, PM_BLOCK_RQ_ISSUE, PM_BLOCK_RQ_COMPLETE,
	PM_BLOCK_RQ_NR };
static struct pm_tp pm_block_tps_rq[PM_BLOCK_RQ_NR] = {
	[PM_BLOCK_RQ_START] = {
		.name = "block_io_start", .func = pm_block_io_start_probe,
	},
	[PM_BLOCK_RQ_ISSUE] = {
		.name = "block_rq_issue", .func = pm_block_issue_probe,
	},
	[PM_BLOCK_RQ_COMPLETE] = {
		.name = "block_rq_complete", .func = pm_block_complete_probe,
	},
};

/* The set used otherwise (6.1). */
enum { PM_BLOCK_BIO_GETRQ, PM_BLOCK_BIO_FRONTMERGE, PM_BLOCK_BIO_ISSUE,
	PM_BLOCK_BIO_COMPLETE, PM_BLOCK_BIO_NR };
static struct pm_tp pm_block_tps_bio[PM_BLOCK_BIO_NR] = {
	[PM_BLOCK_BIO_GETRQ] = {
		.name = "block_getrq", .func = pm_block_getrq_probe,
	},
	[PM_BLOCK_BIO_FRONTMERGE] = {
		.name = "block_bio_frontmerge",
		.func = pm_block_frontmerge_probe,
	},
	[PM_BLOCK_BIO_ISSUE] = {
		.name = "block_rq_issue", .func = pm_block_issue_probe,
	},
	[PM_BLOCK_BIO_COMPLETE] = {
		.name = "block_rq_complete", .func = pm_block_complete_probe,
	},
};

/* The set in use, and its issue and completion entries (for hits). */
static struct pm_tp *pm_block_tps;
static unsigned int pm_block_nr_tps;
static struct pm_tp *pm_block_tp_issue;
static struct pm_tp *pm_block_tp_complete;

static __always_inline void pm_block_stat(unsigned int i)
{
	pm_agg_add(&pm_block_stats, i, 1);
}

/* In-flight table */

static struct pm_block_slot *pm_block_slot_at(unsigned long key,
						unsigned int i)
{
	return &pm_block_slots[(hash_long(key, PM_BLOCK_SLOTS_SHIFT) + i) &
			       (PM_BLOCK_SLOTS - 1)];
}

static struct pm_block_slot *pm_block_find(unsigned long key)
{
	struct pm_block_slot *s;
	unsigned int i;

	for (i = 0; i < PM_BLOCK_MAX_PROBE; i++) {
		s = pm_block_slot_at(key, i);
		if (READ_ONCE(s->key) == key)
			return s;
	}
	return NULL;
}

/* Takes over @s from @old if nobody touched it for PM_BLOCK_STALE_NS. */
static bool pm_block_take_stale(struct pm_block_slot *s, unsigned long old,
				unsigned long key, u64 now)
{
	u64 stamp = READ_ONCE(s->stamp_ns);

	if (!stamp || (s64)(now - stamp) < (s64)PM_BLOCK_STALE_NS)
		return false;
	/* One claimer per stale epoch: whoever moves the stamp. */
	if (cmpxchg(&s->stamp_ns, stamp, now) != stamp)
		return false;
	if (cmpxchg(&s->key, old, key) != old)
		return false;
	pm_block_stat(PM_BLOCK_ST_STALE);
	return true;
}

/*
 * The slot of @key: its own if it has one (*@fresh false), else a free or
 * stale one claimed for it (*@fresh true); NULL if the window is full.
 */
static struct pm_block_slot *pm_block_claim(unsigned long key, u64 now,
					    bool *fresh)
{
	struct pm_block_slot *s;
	unsigned long old;
	unsigned int i;

	s = pm_block_find(key);
	if (s) {
		*fresh = false;
		WRITE_ONCE(s->stamp_ns, now);
		return s;
	}
	for (i = 0; i < PM_BLOCK_MAX_PROBE; i++) {
		s = pm_block_slot_at(key, i);
		old = READ_ONCE(s->key);
		if (old ? pm_block_take_stale(s, old, key, now) :
			  cmpxchg(&s->key, 0UL, key) == 0UL) {
			*fresh = true;
			WRITE_ONCE(s->stamp_ns, now);
			return s;
		}
	}
	pm_block_stat(PM_BLOCK_ST_TABLE_FULL);
	return NULL;
}

static void pm_block_release(struct pm_block_slot *s, unsigned long key)
{
	WRITE_ONCE(s->stamp_ns, 0);
	/* Full barrier: the stamp is cleared before the slot is free. */
	cmpxchg(&s->key, key, 0UL);
}

/* Request flags */

static u32 pm_block_opf_flags(blk_opf_t opf)
{
	u32 flags = 0;

	if (opf & REQ_SYNC)
		flags |= PERSECMON_BLOCK_F_SYNC;
	if (opf & REQ_META)
		flags |= PERSECMON_BLOCK_F_META;
	if (opf & REQ_FUA)
		flags |= PERSECMON_BLOCK_F_FUA;
	if (opf & REQ_PREFLUSH)
		flags |= PERSECMON_BLOCK_F_PREFLUSH;
	if (opf & REQ_RAHEAD)
		flags |= PERSECMON_BLOCK_F_RAHEAD;
	return flags;
}

static u8 pm_block_op(const struct request *rq)
{
	switch (req_op(rq)) {
	case REQ_OP_READ:
		return PERSECMON_BLOCK_READ;
	case REQ_OP_WRITE:
		return PERSECMON_BLOCK_WRITE;
	case REQ_OP_FLUSH:
		return PERSECMON_BLOCK_FLUSH;
	case REQ_OP_DISCARD:
	case REQ_OP_SECURE_ERASE:
		return PERSECMON_BLOCK_DISCARD;
	case REQ_OP_WRITE_ZEROES:
		return PERSECMON_BLOCK_WRITE_ZEROES;
	default:
		return PERSECMON_BLOCK_OTHER;
	}
}

/* Submission */

/* Fills @s for a new request submitted by the current task. */
static void pm_block_set_submitter(struct pm_block_slot *s, blk_opf_t opf,
				   u64 now)
{
	struct task_struct *task = current;

	s->start_ns = now;
	s->issue_ns = 0;
	s->sector = 0;
	s->done = 0;
	s->error = 0;
	s->flags = pm_block_opf_flags(opf);
	if (!in_task()) {
		/* Submitted from an interrupt: no task to name. */
		s->pid = 0;
		s->tgid = 0;
		s->uid = 0;
		s->cgroup_id = 0;
		memset(s->comm, 0, sizeof(s->comm));
		s->flags |= PERSECMON_BLOCK_F_NO_SUBMITTER;
		return;
	}
	s->pid = task_pid_nr(task);
	s->tgid = task_tgid_nr(task);
	s->uid = __kuid_val(current_uid());
#ifdef CONFIG_CGROUPS
	rcu_read_lock();
	s->cgroup_id = cgroup_id(task_dfl_cgroup(task));
	rcu_read_unlock();
#else
	s->cgroup_id = 0;
#endif
	strscpy_pad(s->comm, task->comm, sizeof(s->comm));
	if (task->flags & PF_KTHREAD) {
		s->flags |= PERSECMON_BLOCK_F_KTHREAD;
		if (op_is_write(opf))
			s->flags |= PERSECMON_BLOCK_F_WRITEBACK;
	}
}

static void pm_block_submit(unsigned long key, blk_opf_t opf)
{
	u64 now = ktime_get_mono_fast_ns();
	struct pm_block_slot *s;
	bool fresh;

	pm_block_stat(PM_BLOCK_ST_SUBMITTED);
	s = pm_block_claim(key, now, &fresh);
	if (s)
		pm_block_set_submitter(s, opf, now);
}

/*
 * block_io_start is DEFINE_EVENT(block_rq, ...) like block_rq_issue, so
 * pm_block_init() checks this probe's prototype against block_rq_issue's:
 * the check then builds on kernels without block_io_start too.
 */
static void pm_block_io_start_probe(void *data, struct request *rq)
{
	pm_tp_hit(&pm_block_tps_rq[PM_BLOCK_RQ_START]);
	pm_block_submit((unsigned long)rq, rq->cmd_flags);
}

static void pm_block_getrq_probe(void *data, struct bio *bio)
{
	pm_tp_hit(&pm_block_tps_bio[PM_BLOCK_BIO_GETRQ]);
	pm_block_submit((unsigned long)bio | PM_BLOCK_KEY_BIO, bio->bi_opf);
}

static void pm_block_frontmerge_probe(void *data, struct bio *bio)
{
	pm_tp_hit(&pm_block_tps_bio[PM_BLOCK_BIO_FRONTMERGE]);
	pm_block_submit((unsigned long)bio | PM_BLOCK_KEY_BIO, bio->bi_opf);
}

/* Issue */

/* 6.1: a new request takes over its first bio's submission entry. */
static bool pm_block_adopt_bio(struct pm_block_slot *s, struct request *rq)
{
	struct pm_block_slot *b;
	unsigned long bkey;

	if (!rq->bio)
		return false;
	bkey = (unsigned long)rq->bio | PM_BLOCK_KEY_BIO;
	b = pm_block_find(bkey);
	if (!b)
		return false;
	s->start_ns = b->start_ns;
	s->cgroup_id = b->cgroup_id;
	s->pid = b->pid;
	s->tgid = b->tgid;
	s->uid = b->uid;
	s->flags = b->flags;
	memcpy(s->comm, b->comm, sizeof(s->comm));
	/* As in pm_block_complete_probe(): the bio's slot may be taken over. */
	smp_rmb();
	if (READ_ONCE(b->key) != bkey)
		return false;
	pm_block_release(b, bkey);
	return true;
}

static void pm_block_no_submitter(struct pm_block_slot *s,
				  const struct request *rq)
{
	s->pid = 0;
	s->tgid = 0;
	s->uid = 0;
	s->cgroup_id = 0;
	memset(s->comm, 0, sizeof(s->comm));
	s->flags = PERSECMON_BLOCK_F_NO_SUBMITTER;
	/* The block layer's own start time, when it took one. */
	s->start_ns = READ_ONCE(rq->start_time_ns);
}

static void pm_block_issue_probe(void *data, struct request *rq)
{
	u64 now = ktime_get_mono_fast_ns();
	unsigned long key = (unsigned long)rq;
	struct pm_block_slot *s;
	bool fresh, adopted = false;

	pm_tp_hit(pm_block_tp_issue);
	pm_block_stat(PM_BLOCK_ST_ISSUED);
	s = pm_block_claim(key, now, &fresh);
	if (!s)
		return;
	if (pm_block_by_bio) {
		/* A bio entry means a new request, whatever the slot held. */
		adopted = pm_block_adopt_bio(s, rq);
		if (adopted || fresh) {
			s->issue_ns = 0;
			s->done = 0;
			s->error = 0;
		}
	}
	if (fresh && !adopted) {
		pm_block_no_submitter(s, rq);
		s->issue_ns = 0;
		s->done = 0;
		s->error = 0;
	}
	/* A request issued again after a partial completion keeps its start. */
	if (!(s->flags & PERSECMON_BLOCK_F_PARTIAL)) {
		s->sector = blk_rq_pos(rq);
		s->issue_ns = now;
	}
}

/* Completion */

/* Records the submitter as the record's task (hdr.pid, tgid, uid, cgroup). */
static void pm_block_emit_as_submitter(struct pm_emit *em,
				       const struct pm_block_slot *c)
{
	pm_emit_set_task(em, c->pid, c->tgid, c->uid, c->cgroup_id);
}

static void pm_block_emit(const struct pm_block_slot *c, dev_t dev, u8 op,
			  u64 latency_ns, u64 queue_ns)
{
	struct persecmon_block_event *ev;
	struct persecmon_record *rec;
	struct pm_emit em;

	if (!pm_emit_begin(&em, PERSECMON_GROUP_BLOCK))
		return;
	pm_block_emit_as_submitter(&em, c);
	while ((rec = pm_emit_reserve(&em, PERSECMON_EV_BLOCK, sizeof(*ev)))) {
		ev = container_of(rec, struct persecmon_block_event, hdr);
		ev->sector = c->sector;
		ev->latency_ns = latency_ns;
		ev->queue_ns = queue_ns;
		ev->bytes = c->done;
		ev->dev = new_encode_dev(dev);
		ev->error = c->error;
		ev->flags = c->flags;
		ev->op = op;
		memcpy(ev->comm, c->comm, sizeof(ev->comm));
		pm_emit_commit(&em, rec);
	}
	pm_emit_end(&em);
}

static void pm_block_aggregate(const struct pm_block_slot *c, dev_t dev,
			       u8 op, u64 latency_ns)
{
	struct pm_block_disk_key dk = { .dev = dev };
	struct pm_block_proc_key pk = { .tgid = c->tgid };
	struct pm_block_top_key tk = { .tgid = c->tgid, .dev = dev };
	u64 us = div_u64(latency_ns, NSEC_PER_USEC);
	atomic64_t *v;

	if (!pm_global_counts(c->tgid, c->cgroup_id))
		return;
	pm_agg_hist_add(&pm_block_lat, us);
	pm_aggmap_hist_add(pm_aggmap_values(&pm_block_disk_map, &dk), us);
	memcpy(pk.comm, c->comm, sizeof(pk.comm));
	pm_aggmap_hist_add(pm_aggmap_values(&pm_block_proc_map, &pk), us);
	if (op == PERSECMON_BLOCK_READ) {
		memcpy(tk.comm, c->comm, sizeof(tk.comm));
		v = pm_aggmap_values(&pm_block_top_map, &tk);
		pm_aggmap_add(v, PM_BLOCK_TOP_READS, 1);
		pm_aggmap_add(v, PM_BLOCK_TOP_READ_BYTES, c->done);
		pm_aggmap_add(v, PM_BLOCK_TOP_READ_NS, latency_ns);
	} else if (op == PERSECMON_BLOCK_WRITE ||
		   op == PERSECMON_BLOCK_WRITE_ZEROES) {
		memcpy(tk.comm, c->comm, sizeof(tk.comm));
		v = pm_aggmap_values(&pm_block_top_map, &tk);
		pm_aggmap_add(v, PM_BLOCK_TOP_WRITES, 1);
		pm_aggmap_add(v, PM_BLOCK_TOP_WRITE_BYTES, c->done);
		pm_aggmap_add(v, PM_BLOCK_TOP_WRITE_NS, latency_ns);
	}
}

static void pm_block_complete_probe(void *data, struct request *rq,
				    blk_status_t status,
				    unsigned int nr_bytes)
{
	u64 now = ktime_get_mono_fast_ns();
	unsigned long key = (unsigned long)rq;
	struct gendisk *disk = rq->q->disk;
	struct pm_block_slot *s, c;
	u64 latency_ns, queue_ns = 0;
	dev_t dev;
	u8 op;

	pm_tp_hit(pm_block_tp_complete);
	s = pm_block_find(key);
	if (!s || !s->issue_ns) {
		/* Seen submitted but ended before its issue (e.g. an error). */
		if (s && nr_bytes >= blk_rq_bytes(rq))
			pm_block_release(s, key);
		pm_block_stat(PM_BLOCK_ST_NO_ISSUE);
		return;
	}
	if (status && !s->error)
		s->error = blk_status_to_errno(status);
	s->done += nr_bytes;
	/* The tracepoint fires before the request is advanced. */
	if (nr_bytes < blk_rq_bytes(rq)) {
		s->flags |= PERSECMON_BLOCK_F_PARTIAL;
		pm_block_stat(PM_BLOCK_ST_PARTIAL);
		return;
	}
	memcpy(&c, s, sizeof(c));
	/* Pairs with the full barrier of a take-over's cmpxchg. */
	smp_rmb();
	if (READ_ONCE(s->key) != key) {
		pm_block_stat(PM_BLOCK_ST_NO_ISSUE);
		return;
	}
	pm_block_release(s, key);

	latency_ns = now > c.issue_ns ? now - c.issue_ns : 0;
	if (c.start_ns && c.issue_ns > c.start_ns)
		queue_ns = c.issue_ns - c.start_ns;
	dev = disk ? disk_devt(disk) : 0;
	op = pm_block_op(rq);
	/* blk-flush may strip REQ_PREFLUSH/REQ_FUA: keep what was submitted. */
	c.flags |= pm_block_opf_flags(rq->cmd_flags);
	pm_block_stat(PM_BLOCK_ST_COMPLETED);
	if (c.flags & PERSECMON_BLOCK_F_NO_SUBMITTER)
		pm_block_stat(PM_BLOCK_ST_NO_SUBMITTER);
	pm_block_aggregate(&c, dev, op, latency_ns);
	pm_block_emit(&c, dev, op, latency_ns, queue_ns);
}

/* Group */

static int pm_block_attach(void)
{
	int ret;

	pm_block_slots = kvcalloc(PM_BLOCK_SLOTS, sizeof(*pm_block_slots),
				  GFP_KERNEL);
	if (!pm_block_slots)
		return -ENOMEM;
	ret = pm_tps_attach(pm_block_tps, pm_block_nr_tps);
	if (ret) {
		kvfree(pm_block_slots);
		pm_block_slots = NULL;
	}
	return ret;
}

static void pm_block_detach(void)
{
	/* No probe runs once this returns: the table can go. */
	pm_tps_detach(pm_block_tps, pm_block_nr_tps);
	kvfree(pm_block_slots);
	pm_block_slots = NULL;
}

static const struct pm_group pm_block_group = {
	.name = "block",
	.attach = pm_block_attach,
	.detach = pm_block_detach,
};

/* Aggregate tables */

static int pm_block_format_disk(char *buf, size_t size, const void *key)
{
	const struct pm_block_disk_key *k = key;

	return scnprintf(buf, size, "dev=%u:%u", MAJOR(k->dev),
			 MINOR(k->dev));
}

static int pm_block_format_proc(char *buf, size_t size, const void *key)
{
	const struct pm_block_proc_key *k = key;

	return scnprintf(buf, size, "pid=%u comm=%.*s", k->tgid,
			 (int)sizeof(k->comm), k->comm);
}

static int pm_block_format_top(char *buf, size_t size, const void *key)
{
	const struct pm_block_top_key *k = key;

	return scnprintf(buf, size, "pid=%u dev=%u:%u comm=%.*s", k->tgid,
			 MAJOR(k->dev), MINOR(k->dev), (int)sizeof(k->comm),
			 k->comm);
}

static const struct pm_aggmap_info pm_block_disk_info = {
	.name = "biolatency_disk",
	.columns = "log2:us",
	.capacity = 64,
	.key_size = sizeof(struct pm_block_disk_key),
	.format_key = pm_block_format_disk,
};

static const struct pm_aggmap_info pm_block_proc_info = {
	.name = "biolatency_proc",
	.columns = "log2:us",
	.capacity = 1024,
	.key_size = sizeof(struct pm_block_proc_key),
	.format_key = pm_block_format_proc,
	.sort_columns = 1,
};

static const struct pm_aggmap_info pm_block_top_info = {
	.name = "biotop",
	.columns = "reads,writes,read_bytes,write_bytes,read_ns,write_ns",
	.capacity = 2048,
	.key_size = sizeof(struct pm_block_top_key),
	.format_key = pm_block_format_top,
	.sort_columns = BIT(PM_BLOCK_TOP_READ_BYTES) |
			BIT(PM_BLOCK_TOP_WRITE_BYTES),
};

static int pm_block_lat_rows(pm_agg_emit_fn emit, void *ctx)
{
	u64 slots[PM_AGG_HIST_SLOTS];

	pm_agg_counters_sum(&pm_block_lat, slots);
	return emit(ctx, "all", slots, ARRAY_SIZE(slots));
}

static void pm_block_lat_reset(void)
{
	pm_agg_counters_reset(&pm_block_lat);
}

static int pm_block_stats_rows(pm_agg_emit_fn emit, void *ctx)
{
	u64 values[PM_BLOCK_ST_NR];

	pm_agg_counters_sum(&pm_block_stats, values);
	return emit(ctx, "all", values, ARRAY_SIZE(values));
}

static void pm_block_stats_reset(void)
{
	pm_agg_counters_reset(&pm_block_stats);
}

static struct pm_agg_table pm_block_lat_table = {
	.name = "biolatency",
	.columns = "log2:us",
	.rows = pm_block_lat_rows,
	.reset = pm_block_lat_reset,
};

static struct pm_agg_table pm_block_stats_table = {
	.name = "biostats",
	.columns = "submitted,issued,completed,partial,no_submitter,no_issue,table_full,stale",
	.rows = pm_block_stats_rows,
	.reset = pm_block_stats_reset,
};

struct pm_block_tp_lookup {
	bool io_start;
};

static void pm_block_find_io_start(struct tracepoint *tp, void *priv)
{
	struct pm_block_tp_lookup *l = priv;

	if (!strcmp(tp->name, "block_io_start"))
		l->io_start = true;
}

/* Picks the tracepoint set this kernel supports and reports it. */
static int pm_block_tps_init(void)
{
	struct pm_block_tp_lookup l = { };
	int ret;

	for_each_kernel_tracepoint(pm_block_find_io_start, &l);
	if (l.io_start) {
		pm_block_by_bio = false;
		pm_block_tps = pm_block_tps_rq;
		pm_block_nr_tps = PM_BLOCK_RQ_NR;
		pm_block_tp_issue = &pm_block_tps_rq[PM_BLOCK_RQ_ISSUE];
		pm_block_tp_complete = &pm_block_tps_rq[PM_BLOCK_RQ_COMPLETE];
	} else {
		pm_block_by_bio = true;
		pm_block_tps = pm_block_tps_bio;
		pm_block_nr_tps = PM_BLOCK_BIO_NR;
		pm_block_tp_issue = &pm_block_tps_bio[PM_BLOCK_BIO_ISSUE];
		pm_block_tp_complete = &pm_block_tps_bio[PM_BLOCK_BIO_COMPLETE];
	}
	ret = pm_tps_init("block", pm_block_tps, pm_block_nr_tps);
	if (ret)
		return ret;
	if (l.io_start)
		pr_info("block: submitter from tracepoint block_io_start, issue block_rq_issue, completion block_rq_complete\n");
	else
		pr_info("block: no block_io_start; submitter from tracepoints block_getrq and block_bio_frontmerge, issue block_rq_issue, completion block_rq_complete\n");
	return 0;
}

int pm_block_init(void)
{
	int ret;

	check_trace_callback_type_block_rq_issue(pm_block_io_start_probe);
	check_trace_callback_type_block_getrq(pm_block_getrq_probe);
	check_trace_callback_type_block_bio_frontmerge(pm_block_frontmerge_probe);
	check_trace_callback_type_block_rq_issue(pm_block_issue_probe);
	check_trace_callback_type_block_rq_complete(pm_block_complete_probe);

	ret = pm_agg_counters_alloc(&pm_block_stats, PM_BLOCK_ST_NR);
	if (ret)
		return ret;
	ret = pm_agg_hist_alloc(&pm_block_lat);
	if (ret)
		goto err_lat;
	ret = pm_block_tps_init();
	if (ret)
		goto err_tps;
	ret = pm_agg_table_register(&pm_block_lat_table);
	if (ret)
		goto err_lat_table;
	ret = pm_agg_table_register(&pm_block_stats_table);
	if (ret)
		goto err_stats_table;
	ret = pm_aggmap_init(&pm_block_disk_map, &pm_block_disk_info);
	if (ret)
		goto err_disk;
	ret = pm_aggmap_init(&pm_block_proc_map, &pm_block_proc_info);
	if (ret)
		goto err_proc;
	ret = pm_aggmap_init(&pm_block_top_map, &pm_block_top_info);
	if (ret)
		goto err_top;
	ret = pm_group_register(PERSECMON_GROUP_BLOCK, &pm_block_group);
	if (ret)
		goto err_group;
	return 0;

err_group:
	pm_aggmap_destroy(&pm_block_top_map);
err_top:
	pm_aggmap_destroy(&pm_block_proc_map);
err_proc:
	pm_aggmap_destroy(&pm_block_disk_map);
err_disk:
	pm_agg_table_unregister(&pm_block_stats_table);
err_stats_table:
	pm_agg_table_unregister(&pm_block_lat_table);
err_lat_table:
	pm_tps_exit(pm_block_tps, pm_block_nr_tps);
err_tps:
	pm_agg_counters_free(&pm_block_lat);
err_lat:
	pm_agg_counters_free(&pm_block_stats);
	return ret;
}

void pm_block_exit(void)
{
	pm_group_unregister(PERSECMON_GROUP_BLOCK);
	pm_aggmap_destroy(&pm_block_top_map);
	pm_aggmap_destroy(&pm_block_proc_map);
	pm_aggmap_destroy(&pm_block_disk_map);
	pm_agg_table_unregister(&pm_block_stats_table);
	pm_agg_table_unregister(&pm_block_lat_table);
	pm_tps_exit(pm_block_tps, pm_block_nr_tps);
	pm_agg_counters_free(&pm_block_lat);
	pm_agg_counters_free(&pm_block_stats);
}
