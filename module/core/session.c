// SPDX-License-Identifier: GPL-2.0
/*
 * Sessions and the emit path.
 *
 * Writers (probe handlers, in any context) find sessions through pm_slots,
 * an array of RCU pointers, without a lock: they run with preemption
 * disabled (pm_emit_begin() sees to it), which is an RCU read-side critical
 * section on both kernels since the RCU flavours were consolidated (4.20),
 * for task, softirq, hardirq and NMI code alike. Closing a session clears
 * its slot and waits with synchronize_rcu(), after which no writer can
 * still hold it; only then are its rings freed.
 *
 * Everything else (opening, closing, group and filter changes, status) is
 * serialized by pm_sessions_lock. Readers of one session are serialized by
 * its consume_lock, which writers never take.
 *
 * Wakeups: a writer never wakes a task. When a commit leaves at least the
 * watermark unread and a reader has armed the session, the writer queues
 * the session's irq_work, whose callback wakes the wait queue. A delayed
 * work (the tick) runs while the session is open: every 100 ms while a
 * reader waits, it wakes the reader if anything is unread, so a lone
 * record below the watermark is never stuck; about once a second it writes
 * a PERSECMON_REC_CLOCK record.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/err.h>
#include <linux/cred.h>
#include <linux/irq_work.h>
#include <linux/jiffies.h>
#include <linux/list.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/preempt.h>
#include <linux/random.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "core/session.h"
#include "core/groups.h"
#include "core/uprobe.h"

static unsigned int buffer_kb = 1024;
module_param(buffer_kb, uint, 0444);
MODULE_PARM_DESC(buffer_kb,
		 "Data area per CPU and session in KiB (power of two, 16 to 2097152)");

static unsigned int max_sessions = 8;
module_param(max_sessions, uint, 0444);
MODULE_PARM_DESC(max_sessions,
		 "Most simultaneously open sessions of /dev/persecmon (1-64)");

static unsigned int watermark_pct = 25;
module_param(watermark_pct, uint, 0444);
MODULE_PARM_DESC(watermark_pct,
		 "Wake a waiting reader once this percentage of a CPU's buffer is unread (1-100)");

#define PM_SESSIONS_LIMIT	64
/* A waiting reader is woken this soon after its first unread record. */
#define PM_WAKE_PERIOD		(HZ / 10)
#define PM_CLOCK_PERIOD		HZ

struct pm_session_cpu {
	struct pm_ring ring;
	void *area;	/* vmalloc_user(): control page, then data area */
};

struct pm_session {
	u32 id;
	u32 owner_tgid;
	u64 token;
	unsigned int slot;
	bool closing;
	/* Groups this session enabled; written under pm_sessions_lock. */
	u64 groups;
	struct pm_filter __rcu *filter;
	struct pm_session_cpu __percpu *cpus;
	struct list_head node;		/* pm_sessions, under the lock */

	/* Readers. */
	struct mutex consume_lock;
	unsigned int next_cpu;		/* where the next read() starts */
	wait_queue_head_t wq;
	bool wake_armed;		/* a reader is (about to be) asleep */
	struct irq_work wake_work;
	struct delayed_work tick;
	unsigned long next_clock;	/* jiffies; tick and open only */
};

u64 pm_session_groups;
u64 pm_session_record_groups;

static u64 pm_data_size;
static u64 pm_watermark;
static DEFINE_MUTEX(pm_sessions_lock);
static LIST_HEAD(pm_sessions);
static struct pm_session __rcu **pm_slots;	/* max_sessions entries */
/*
 * One past the highest slot in use: writers scan no further, so one open
 * session costs one slot's check, not max_sessions. Written under
 * pm_sessions_lock; a writer that reads a stale value scans slots that
 * are empty or that hold a session with no group enabled yet.
 */
static unsigned int pm_slots_end;
/* Opened or being opened: slots in use or promised. */
static unsigned int pm_sessions_reserved;
static unsigned int pm_sessions_listed;
static u32 pm_next_session_id;
static unsigned int pm_group_sessions[PERSECMON_GROUP_MAX + 1];
/* Per CPU, what closed sessions counted: totals never go backwards. */
static struct pm_counts *pm_retired;

u64 pm_session_data_size(void)
{
	return pm_data_size;
}

u64 pm_session_mmap_stride(void)
{
	return PAGE_SIZE + pm_data_size;
}

/* The emit path. */

bool __pm_emit_begin(struct pm_emit *em, unsigned int group)
{
	preempt_disable_notrace();
	em->session = NULL;
	em->ring = NULL;
	em->slot = 0;
	em->cpu = smp_processor_id();
	em->group = group;
	em->time_ns = ktime_get_mono_fast_ns();
	if (in_task()) {
		em->pid = task_pid_nr(current);
		em->tgid = task_tgid_nr(current);
		em->uid = __kuid_val(current_uid());
		em->cgroup_id = pm_current_cgroup_id();
	} else {
		em->pid = 0;
		em->tgid = 0;
		em->uid = 0;
		em->cgroup_id = 0;
	}
	return true;
}

void pm_emit_end(struct pm_emit *em)
{
	preempt_enable_notrace();
}

static bool pm_filter_pass(const struct pm_session *s,
			   const struct pm_filter_spec *spec,
			   const struct pm_emit *em)
{
	if (em->tgid == s->owner_tgid && !spec->include_self)
		return false;
	return pm_filter_match(spec, em->tgid, em->cgroup_id);
}

/* @records: and wants them written, not only counted (quiet groups). */
static bool pm_session_wants(const struct pm_session *s,
			     const struct pm_emit *em, bool records)
{
	const struct pm_filter *filter;

	if (!s || !(READ_ONCE(s->groups) & BIT_ULL(em->group)))
		return false;
	filter = rcu_dereference_sched(s->filter);
	if (records && (filter->spec.quiet_groups & BIT_ULL(em->group)))
		return false;
	return pm_filter_pass(s, &filter->spec, em);
}

bool pm_emit_wanted(const struct pm_emit *em)
{
	unsigned int end = READ_ONCE(pm_slots_end);
	unsigned int slot;

	for (slot = em->slot; slot < end; slot++)
		if (pm_session_wants(rcu_dereference_sched(pm_slots[slot]),
				     em, false))
			return true;
	return false;
}

/*
 * Whether a session that enables @group names @tgid in its pid filter or,
 * with @unnamed_too, has no pid filter (and is not @tgid's own, unless it
 * includes itself).
 */
static bool pm_session_scan_tgid(unsigned int group, u32 tgid,
				 bool unnamed_too)
{
	const struct pm_filter_spec *spec;
	const struct pm_session *s;
	unsigned int slot, end;
	bool found = false;

	rcu_read_lock_sched();
	end = READ_ONCE(pm_slots_end);
	for (slot = 0; slot < end && !found; slot++) {
		s = rcu_dereference_sched(pm_slots[slot]);
		if (!s || !(READ_ONCE(s->groups) & BIT_ULL(group)))
			continue;
		spec = &rcu_dereference_sched(s->filter)->spec;
		found = pm_filter_has_tgid(spec, tgid);
		if (unnamed_too && !spec->nr_tgids)
			found = tgid != s->owner_tgid || spec->include_self;
	}
	rcu_read_unlock_sched();
	return found;
}

bool pm_session_names_tgid(unsigned int group, u32 tgid)
{
	return pm_session_scan_tgid(group, tgid, false);
}

bool pm_session_may_want_tgid(unsigned int group, u32 tgid)
{
	return pm_session_scan_tgid(group, tgid, true);
}

static struct persecmon_record *pm_emit_next(struct pm_emit *em, u16 type,
					     u32 size, bool records)
{
	unsigned int end = READ_ONCE(pm_slots_end);
	struct persecmon_record *rec;
	struct pm_session *s;
	struct pm_ring *ring;

	while (em->slot < end) {
		s = rcu_dereference_sched(pm_slots[em->slot]);
		em->slot++;
		if (!pm_session_wants(s, em, records))
			continue;
		ring = &per_cpu_ptr(s->cpus, em->cpu)->ring;
		rec = pm_ring_reserve(ring, type, size);
		if (!rec)
			continue;	/* full: counted, LOST record later */
		rec->uid = em->uid;
		rec->time_ns = em->time_ns;
		rec->pid = em->pid;
		rec->tgid = em->tgid;
		rec->cgroup_id = em->cgroup_id;
		em->session = s;
		em->ring = ring;
		return rec;
	}
	return NULL;
}

struct persecmon_record *pm_emit_reserve(struct pm_emit *em, u16 type,
					 u32 size)
{
	/* Counted or kept state only: no session to look at. */
	if (!(READ_ONCE(pm_session_record_groups) & BIT_ULL(em->group)))
		return NULL;
	return pm_emit_next(em, type, size, true);
}

struct persecmon_record *pm_emit_reserve_all(struct pm_emit *em, u16 type,
					     u32 size)
{
	return pm_emit_next(em, type, size, false);
}

/*
 * The barrier orders the commit before the load of wake_armed; it pairs
 * with the one in pm_session_arm_and_check(), so either the writer sees the
 * reader armed or the reader sees the record. It is paid only past the
 * watermark.
 */
static void pm_session_kick(struct pm_session *s, u64 unread)
{
	if (unread < pm_watermark)
		return;
	/* Commit before wake_armed; pairs with pm_session_arm_and_check(). */
	smp_mb();
	if (READ_ONCE(s->wake_armed))
		irq_work_queue(&s->wake_work);
}

void pm_emit_commit(struct pm_emit *em, struct persecmon_record *rec)
{
	pm_session_kick(em->session, pm_ring_commit(em->ring, rec));
}

/* Stream records and wakeups. */

static void pm_session_write_clock(struct pm_session *s)
{
	struct persecmon_clock_record *clock;
	struct persecmon_record *rec;
	struct pm_ring *ring;
	u64 unread;

	preempt_disable();
	ring = &this_cpu_ptr(s->cpus)->ring;
	rec = pm_ring_reserve(ring, PERSECMON_REC_CLOCK, sizeof(*clock));
	if (rec) {
		clock = container_of(rec, struct persecmon_clock_record, hdr);
		clock->monotonic_ns = ktime_get_mono_fast_ns();
		clock->realtime_ns = ktime_get_real_ns();
		clock->boottime_ns = ktime_get_boottime_ns();
		rec->time_ns = clock->monotonic_ns;
		unread = pm_ring_commit(ring, rec);
		pm_session_kick(s, unread);
	}
	preempt_enable();
}

/*
 * Lockless: whether some CPU holds records the consumer has not passed.
 * The head is the ring's own copy (userspace may scribble on ctrl->head).
 * Both the kernel's consumed count and the consumer's published tail must
 * lag it, so that neither a stale kernel count (mmap consumers publish
 * only ctrl->tail) nor a bogus tail written by the consumer keeps a reader
 * spinning.
 */
static bool pm_session_unread_hint(struct pm_session *s)
{
	struct pm_ring *ring;
	unsigned int cpu;
	u64 head;

	for_each_possible_cpu(cpu) {
		ring = &per_cpu_ptr(s->cpus, cpu)->ring;
		/* Pairs with the ring's release of ring->published. */
		head = smp_load_acquire(&ring->published);
		if (head != READ_ONCE(ring->consumed) &&
		    head != READ_ONCE(ring->ctrl->tail))
			return true;
	}
	return false;
}

/* Tells writers a reader waits; the tick then runs at PM_WAKE_PERIOD. */
static bool pm_session_arm_and_check(struct pm_session *s)
{
	if (!READ_ONCE(s->wake_armed)) {
		WRITE_ONCE(s->wake_armed, true);
		mod_delayed_work(system_wq, &s->tick, PM_WAKE_PERIOD);
	}
	/* wake_armed before the heads; pairs with pm_session_kick(). */
	smp_mb();
	return pm_session_unread_hint(s);
}

static void pm_session_wake(struct pm_session *s)
{
	WRITE_ONCE(s->wake_armed, false);
	wake_up_interruptible_poll(&s->wq, EPOLLIN | EPOLLRDNORM);
}

static void pm_session_wake_irq_work(struct irq_work *work)
{
	pm_session_wake(container_of(work, struct pm_session, wake_work));
}

static void pm_session_tick(struct work_struct *work)
{
	struct pm_session *s = container_of(to_delayed_work(work),
					    struct pm_session, tick);
	unsigned long delay;

	if (time_after_eq(jiffies, s->next_clock)) {
		pm_session_write_clock(s);
		s->next_clock = jiffies + PM_CLOCK_PERIOD;
	}
	if (READ_ONCE(s->wake_armed) && pm_session_unread_hint(s))
		pm_session_wake(s);

	if (READ_ONCE(s->wake_armed))
		delay = PM_WAKE_PERIOD;
	else if (time_before(jiffies, s->next_clock))
		delay = s->next_clock - jiffies;
	else
		delay = 1;
	/* A reader arming meanwhile may have queued it sooner: keep that. */
	queue_delayed_work(system_wq, &s->tick, delay);
}

/* Readers. */

ssize_t pm_session_consume(struct pm_session *s, pm_ring_emit_fn emit,
			   void *ctx)
{
	unsigned int i, cpu, start;
	struct pm_ring *ring;
	ssize_t total = 0;

	if (mutex_lock_interruptible(&s->consume_lock))
		return -ERESTARTSYS;
	/* Start one CPU further each time so no CPU starves the others. */
	start = s->next_cpu;
	for (i = 0; i < nr_cpu_ids; i++) {
		cpu = (start + i) % nr_cpu_ids;
		if (!cpu_possible(cpu))
			continue;
		ring = &per_cpu_ptr(s->cpus, cpu)->ring;
		pm_ring_sync_tail(ring);
		total += pm_ring_consume(ring, U64_MAX, emit, ctx);
	}
	s->next_cpu = (start + 1) % nr_cpu_ids;
	mutex_unlock(&s->consume_lock);
	return total;
}

/* The condition re-arms after every wakeup, spurious ones included. */
int pm_session_wait(struct pm_session *s)
{
	return wait_event_interruptible(s->wq, pm_session_arm_and_check(s));
}

__poll_t pm_session_poll(struct pm_session *s, struct file *file,
			 poll_table *wait)
{
	bool unread = false;
	unsigned int cpu;

	poll_wait(file, &s->wq, wait);

	/* Adopt the tails mmap consumers wrote, then look for records. */
	mutex_lock(&s->consume_lock);
	for_each_possible_cpu(cpu) {
		if (pm_ring_sync_tail(&per_cpu_ptr(s->cpus, cpu)->ring))
			unread = true;
	}
	mutex_unlock(&s->consume_lock);
	if (unread || pm_session_arm_and_check(s))
		return EPOLLIN | EPOLLRDNORM;
	return 0;
}

void *pm_session_cpu_area(struct pm_session *s, unsigned int cpu)
{
	return per_cpu_ptr(s->cpus, cpu)->area;
}

void pm_session_info(struct pm_session *s, struct persecmon_info *info)
{
	unsigned int cpu;

	memset(info, 0, sizeof(*info));
	info->abi_major = PERSECMON_ABI_MAJOR;
	info->abi_minor = PERSECMON_ABI_MINOR;
	info->nr_cpu_ids = nr_cpu_ids;
	info->page_size = PAGE_SIZE;
	info->data_size = pm_data_size;
	info->mmap_stride = pm_session_mmap_stride();
	info->session_id = s->id;
	info->session_token = s->token;
	strscpy((char *)info->module_version, PERSECMON_VERSION,
		sizeof(info->module_version));
	/* pm_session_init() refused to load if some CPU does not fit. */
	for_each_possible_cpu(cpu)
		pm_info_set_possible(info, cpu);
}

int pm_session_cpu_stats(struct pm_session *s,
			 struct persecmon_cpu_stats *stats)
{
	if (stats->cpu >= nr_cpu_ids || !cpu_possible(stats->cpu))
		return -EINVAL;
	stats->reserved = 0;
	pm_ring_read_stats(&per_cpu_ptr(s->cpus, stats->cpu)->ring, stats);
	return 0;
}

/* Open and close. */

static void pm_session_free(struct pm_session *s)
{
	unsigned int cpu;

	if (s->cpus) {
		for_each_possible_cpu(cpu)
			vfree(per_cpu_ptr(s->cpus, cpu)->area);
		free_percpu(s->cpus);
	}
	kfree(rcu_dereference_protected(s->filter, true));
	kfree(s);
}

static struct pm_session *pm_session_alloc(void)
{
	struct pm_session_cpu *pc;
	struct pm_filter *filter;
	struct pm_session *s;
	unsigned int cpu;
	int ret;

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return NULL;
	filter = kzalloc(sizeof(*filter), GFP_KERNEL);
	RCU_INIT_POINTER(s->filter, filter);
	s->cpus = alloc_percpu(struct pm_session_cpu);
	if (!filter || !s->cpus)
		goto fail;
	/*
	 * Every possible CPU gets its buffer now and keeps it until close:
	 * a CPU that goes offline may still hold unread records and be
	 * mapped, and one that comes online needs no allocation.
	 */
	for_each_possible_cpu(cpu) {
		pc = per_cpu_ptr(s->cpus, cpu);
		pc->area = vmalloc_user(PAGE_SIZE + pm_data_size);
		if (!pc->area)
			goto fail;
		ret = pm_ring_init(&pc->ring, pc->area,
				   (u8 *)pc->area + PAGE_SIZE, pm_data_size,
				   cpu);
		if (WARN_ON_ONCE(ret))
			goto fail;
	}
	mutex_init(&s->consume_lock);
	init_waitqueue_head(&s->wq);
	init_irq_work(&s->wake_work, pm_session_wake_irq_work);
	INIT_DELAYED_WORK(&s->tick, pm_session_tick);
	INIT_LIST_HEAD(&s->node);
	s->owner_tgid = task_tgid_nr(current);
	do {
		s->token = get_random_u64();
	} while (!s->token);
	return s;
fail:
	pm_session_free(s);
	return NULL;
}

struct pm_session *pm_session_open(void)
{
	struct pm_session *s;
	unsigned int slot;

	/* Refuse before allocating megabytes for a session that can't be. */
	mutex_lock(&pm_sessions_lock);
	if (pm_sessions_reserved >= max_sessions) {
		mutex_unlock(&pm_sessions_lock);
		return ERR_PTR(-EBUSY);
	}
	pm_sessions_reserved++;
	mutex_unlock(&pm_sessions_lock);

	s = pm_session_alloc();

	mutex_lock(&pm_sessions_lock);
	if (!s) {
		pm_sessions_reserved--;
		mutex_unlock(&pm_sessions_lock);
		return ERR_PTR(-ENOMEM);
	}
	for (slot = 0; slot < max_sessions; slot++) {
		if (!rcu_access_pointer(pm_slots[slot]))
			break;
	}
	/* Reservations guarantee a slot: closing ones clear theirs first. */
	if (WARN_ON_ONCE(slot == max_sessions)) {
		pm_sessions_reserved--;
		mutex_unlock(&pm_sessions_lock);
		pm_session_free(s);
		return ERR_PTR(-EBUSY);
	}
	s->slot = slot;
	if (++pm_next_session_id == 0)
		pm_next_session_id = 1;
	s->id = pm_next_session_id;
	list_add_tail(&s->node, &pm_sessions);
	pm_sessions_listed++;
	/* No group is enabled yet, so writers skip it until one is. */
	rcu_assign_pointer(pm_slots[slot], s);
	if (slot >= pm_slots_end)
		WRITE_ONCE(pm_slots_end, slot + 1);
	mutex_unlock(&pm_sessions_lock);

	pm_session_write_clock(s);
	s->next_clock = jiffies + PM_CLOCK_PERIOD;
	queue_delayed_work(system_wq, &s->tick, PM_CLOCK_PERIOD);
	return s;
}

/*
 * pm_session_record_groups from the sessions' groups and quiet sets. A
 * writer that reads a stale value writes or skips records as before the
 * change, as one that runs a moment earlier would.
 */
static void pm_session_update_record_groups(void)
{
	const struct pm_filter *filter;
	struct pm_session *s;
	u64 groups = 0;

	lockdep_assert_held(&pm_sessions_lock);
	list_for_each_entry(s, &pm_sessions, node) {
		filter = rcu_dereference_protected(s->filter,
						   lockdep_is_held(&pm_sessions_lock));
		groups |= s->groups & ~filter->spec.quiet_groups;
	}
	WRITE_ONCE(pm_session_record_groups, groups);
}

static void pm_session_account_group(struct pm_session *s,
				     unsigned int group, bool on)
{
	u64 bit = BIT_ULL(group);

	lockdep_assert_held(&pm_sessions_lock);
	if (on) {
		WRITE_ONCE(s->groups, s->groups | bit);
		if (pm_group_sessions[group]++ == 0)
			WRITE_ONCE(pm_session_groups, pm_session_groups | bit);
	} else {
		WRITE_ONCE(s->groups, s->groups & ~bit);
		if (--pm_group_sessions[group] == 0)
			WRITE_ONCE(pm_session_groups,
				   pm_session_groups & ~bit);
	}
	pm_session_update_record_groups();
}

static void pm_counts_add(struct pm_counts *sum, struct pm_ring *ring)
{
	sum->produced += pm_ring_produced(ring);
	sum->written += local_read(&ring->written);
	sum->dropped += local_read(&ring->dropped);
	sum->consumed += READ_ONCE(ring->consumed_records);
}

void pm_session_close(struct pm_session *s)
{
	unsigned int group, cpu, end;
	u64 groups;

	mutex_lock(&pm_sessions_lock);
	groups = s->groups;
	s->closing = true;
	RCU_INIT_POINTER(pm_slots[s->slot], NULL);
	end = pm_slots_end;
	while (end && !rcu_access_pointer(pm_slots[end - 1]))
		end--;
	WRITE_ONCE(pm_slots_end, end);
	for (group = 0; group <= PERSECMON_GROUP_MAX; group++) {
		if (s->groups & BIT_ULL(group)) {
			pm_session_account_group(s, group, false);
			pm_group_put(group);
		}
	}
	mutex_unlock(&pm_sessions_lock);

	/* The tick writes CLOCK records and may queue the irq_work too. */
	cancel_delayed_work_sync(&s->tick);
	/* Writers run with preemption off: this waits for all of them. */
	synchronize_rcu();
	/* The last thing a writer may have left behind. */
	irq_work_sync(&s->wake_work);

	mutex_lock(&pm_sessions_lock);
	for_each_possible_cpu(cpu)
		pm_counts_add(&pm_retired[cpu],
			      &per_cpu_ptr(s->cpus, cpu)->ring);
	list_del(&s->node);
	pm_sessions_listed--;
	pm_sessions_reserved--;
	mutex_unlock(&pm_sessions_lock);

	pm_session_free(s);
	/* Out of the slots: its processes may lose their breakpoints. */
	pm_uprobe_refresh(groups);
}

/* Control. */

static struct pm_session *pm_session_find(u32 id, u64 token, int *err)
{
	struct pm_session *s;

	lockdep_assert_held(&pm_sessions_lock);
	list_for_each_entry(s, &pm_sessions, node) {
		if (s->id != id || s->closing)
			continue;
		if (s->token != token) {
			*err = -EPERM;
			return NULL;
		}
		return s;
	}
	*err = -ENOENT;
	return NULL;
}

int pm_session_set_group(u32 id, u64 token, unsigned int group, bool on)
{
	struct pm_session *s;
	bool changed = false;
	int ret = 0;

	if (group > PERSECMON_GROUP_MAX)
		return -ENOENT;
	mutex_lock(&pm_sessions_lock);
	s = pm_session_find(id, token, &ret);
	if (!s)
		goto out;
	if (on == !!(s->groups & BIT_ULL(group)))
		goto out;	/* already so: not an error */
	if (on) {
		/* Attach before the writers look, so they find probes on. */
		ret = pm_group_get(group);
		if (!ret)
			pm_session_account_group(s, group, true);
	} else {
		pm_session_account_group(s, group, false);
		pm_group_put(group);
	}
	changed = !ret;
out:
	mutex_unlock(&pm_sessions_lock);
	if (changed)
		pm_uprobe_refresh(BIT_ULL(group));
	return ret;
}

int pm_session_set_filter(u32 id, u64 token,
			  const struct pm_filter_spec *spec)
{
	struct pm_filter *filter, *old;
	struct pm_session *s;
	u64 groups = 0;
	int ret = 0;

	filter = pm_filter_new(spec);
	if (IS_ERR_OR_NULL(filter))
		return filter ? PTR_ERR(filter) : -ENOMEM;

	mutex_lock(&pm_sessions_lock);
	s = pm_session_find(id, token, &ret);
	if (s) {
		old = rcu_replace_pointer(s->filter, filter,
					  lockdep_is_held(&pm_sessions_lock));
		kfree_rcu(old, rcu);
		filter = NULL;
		pm_session_update_record_groups();
		groups = s->groups;
	}
	mutex_unlock(&pm_sessions_lock);
	kfree(filter);
	if (groups)
		pm_uprobe_refresh(groups);
	return ret;
}

/* Status. */

unsigned int pm_sessions_open(void)
{
	return READ_ONCE(pm_sessions_listed);
}

unsigned int pm_sessions_max(void)
{
	return max_sessions;
}

int pm_sessions_for_each(int (*fn)(void *arg,
				   const struct pm_session_summary *ss),
			 void *arg)
{
	struct pm_session_summary ss;
	struct pm_session *s;
	unsigned int cpu;
	int ret = 0;

	mutex_lock(&pm_sessions_lock);
	list_for_each_entry(s, &pm_sessions, node) {
		memset(&ss, 0, sizeof(ss));
		ss.id = s->id;
		ss.owner_tgid = s->owner_tgid;
		ss.groups = s->groups;
		for_each_possible_cpu(cpu)
			pm_counts_add(&ss.counts,
				      &per_cpu_ptr(s->cpus, cpu)->ring);
		ret = fn(arg, &ss);
		if (ret)
			break;
	}
	mutex_unlock(&pm_sessions_lock);
	return ret;
}

void pm_sessions_cpu_counts(unsigned int cpu, struct pm_counts *counts)
{
	struct pm_session *s;

	mutex_lock(&pm_sessions_lock);
	*counts = pm_retired[cpu];
	list_for_each_entry(s, &pm_sessions, node)
		pm_counts_add(counts, &per_cpu_ptr(s->cpus, cpu)->ring);
	mutex_unlock(&pm_sessions_lock);
}

/* Module lifetime. */

int pm_session_init(void)
{
	u64 data_size = (u64)buffer_kb * 1024;

	/* The ring's bounds; a data area also spans whole pages. */
	if (!is_power_of_2(data_size) || data_size < PM_RING_MIN_DATA_SIZE ||
	    data_size < PAGE_SIZE || data_size > PM_RING_MAX_DATA_SIZE) {
		pr_err("buffer_kb=%u: need a power of two from %llu to %llu\n",
		       buffer_kb,
		       max_t(u64, PM_RING_MIN_DATA_SIZE, PAGE_SIZE) / 1024,
		       PM_RING_MAX_DATA_SIZE / 1024);
		return -EINVAL;
	}
	if (max_sessions < 1 || max_sessions > PM_SESSIONS_LIMIT) {
		pr_err("max_sessions=%u: need 1 to %u\n", max_sessions,
		       PM_SESSIONS_LIMIT);
		return -EINVAL;
	}
	if (watermark_pct < 1 || watermark_pct > 100) {
		pr_err("watermark_pct=%u: need 1 to 100\n", watermark_pct);
		return -EINVAL;
	}
	if (nr_cpu_ids > PM_INFO_MAX_CPUS) {
		pr_err("%u CPU ids; PERSECMON_IOC_INFO describes at most %u\n",
		       nr_cpu_ids, PM_INFO_MAX_CPUS);
		return -EOPNOTSUPP;
	}
	pm_data_size = data_size;
	pm_watermark = data_size * watermark_pct / 100;

	pm_slots = kcalloc(max_sessions, sizeof(*pm_slots), GFP_KERNEL);
	pm_retired = kcalloc(nr_cpu_ids, sizeof(*pm_retired), GFP_KERNEL);
	if (!pm_slots || !pm_retired) {
		kfree(pm_slots);
		kfree(pm_retired);
		return -ENOMEM;
	}
	return 0;
}

/* Every session is closed: each open file holds a module reference. */
void pm_session_exit(void)
{
	WARN_ON(!list_empty(&pm_sessions));
	kfree(pm_retired);
	kfree(pm_slots);
}
