/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sessions: one per open file of /dev/persecmon, each with its own per-CPU
 * rings, enabled groups and filters. Probes hand their events to the
 * sessions through the emit API below; the interfaces (chardev, genl,
 * debugfs) use the rest.
 */
#ifndef PERSECMON_CORE_SESSION_H
#define PERSECMON_CORE_SESSION_H

#include <linux/bits.h>
#include <linux/compiler.h>
#include <linux/poll.h>
#include <linux/types.h>

#include "compat/compat.h"
#include "core/filter.h"
#include "core/ring.h"

struct file;
struct pm_session;

/*
 * Emit API for probes.
 *
 *	struct pm_emit em;
 *	struct persecmon_record *rec;
 *
 *	if (!pm_emit_begin(&em, PERSECMON_GROUP_FOO))
 *		return;
 *	while ((rec = pm_emit_reserve(&em, PERSECMON_EV_FOO, size))) {
 *		fill the payload after the header;
 *		pm_emit_commit(&em, rec);
 *	}
 *	pm_emit_end(&em);
 *
 * pm_emit_begin() costs one load when no session enabled the group and
 * returns false; otherwise it disables preemption (so the caller may be
 * preemptible, as uprobe handlers are), samples the time and the current
 * task, and returns true: pm_emit_end() must follow. pm_emit_reserve()
 * returns a zeroed record in the next session that wants it (group enabled,
 * filters pass, group not quiet) with the common header filled, or NULL
 * when no session is left; a session whose buffer is full counts the drop
 * and is skipped. Call pm_emit_commit() on each record before the next
 * pm_emit_reserve().
 *
 * Callable from any context, NMI included. Never sleeps, allocates, takes
 * a lock or wakes a task directly (wakeups go through irq_work).
 */
struct pm_emit {
	/* private to session.c (pm_emit_set_task() sets the task) */
	struct pm_session *session;
	struct pm_ring *ring;
	unsigned int slot;
	unsigned int cpu;
	unsigned int group;
	u32 pid;
	u32 tgid;
	u32 uid;
	u64 time_ns;
	u64 cgroup_id;
};

/*
 * Between pm_emit_begin() and the first pm_emit_reserve(): attribute the
 * event to another task than current (e.g. the process that submitted a
 * block request or called connect(), when the event fires in interrupt
 * context). Headers and the sessions' tgid, cgroup and self filters then
 * judge that task.
 */
static inline void pm_emit_set_task(struct pm_emit *em, u32 pid, u32 tgid,
				    u32 uid, u64 cgroup_id)
{
	em->pid = pid;
	em->tgid = tgid;
	em->uid = uid;
	em->cgroup_id = cgroup_id;
}

/* Bit N set while at least one session enables group N. */
extern u64 pm_session_groups;
/* ... and wants its records written: not quiet (PERSECMON_A_FILTER_QUIET). */
extern u64 pm_session_record_groups;

bool __pm_emit_begin(struct pm_emit *em, unsigned int group);

/*
 * One load: whether any session enables @group. pm_emit_begin()'s first
 * test, for a handler that skips work of its own (building a record,
 * reading user memory) when no session listens.
 */
static __always_inline bool pm_session_group_on(unsigned int group)
{
	return READ_ONCE(pm_session_groups) & BIT_ULL(group);
}

static __always_inline bool pm_emit_begin(struct pm_emit *em,
					  unsigned int group)
{
	if (likely(!pm_session_group_on(group)))
		return false;
	return __pm_emit_begin(em, group);
}

struct persecmon_record *pm_emit_reserve(struct pm_emit *em, u16 type,
					 u32 size);
/*
 * As pm_emit_reserve(), quiet sessions included: for a rare record that
 * describes state a quiet session reads elsewhere (e.g. the file mappings
 * behind the stacks of a kept table), never for a per-event record.
 */
struct persecmon_record *pm_emit_reserve_all(struct pm_emit *em, u16 type,
					     u32 size);

/* Back to the first session: the next reserve starts the walk again. */
static inline void pm_emit_rewind(struct pm_emit *em)
{
	em->slot = 0;
}
/*
 * Between pm_emit_begin() and the first pm_emit_reserve(): whether any
 * session wants this event (group enabled, filters pass), whatever room
 * its buffers have and whether it wants the records at all (a quiet
 * group, PERSECMON_A_FILTER_QUIET). For state kept beside the records
 * (e.g. the memleak group's outstanding blocks).
 */
bool pm_emit_wanted(const struct pm_emit *em);
void pm_emit_commit(struct pm_emit *em, struct persecmon_record *rec);
void pm_emit_end(struct pm_emit *em);

/*
 * Whether a session that enables @group names process @tgid in its pid
 * filter. Process context; not for the hot path.
 */
bool pm_session_names_tgid(unsigned int group, u32 tgid);
/*
 * Whether some session that enables @group may want the events of
 * process @tgid: its pid filter names it, or it has none (a cgroup filter
 * counts as a yes). For uprobe filters: RCU only, any sleepable context.
 */
bool pm_session_may_want_tgid(unsigned int group, u32 tgid);

/* Module lifetime: validates buffer_kb, max_sessions, watermark_pct. */
int pm_session_init(void);
void pm_session_exit(void);

/* Geometry shared by every session (PERSECMON_IOC_INFO). */
u64 pm_session_data_size(void);
u64 pm_session_mmap_stride(void);

/* The chardev's side: open/close, reading, waiting, mapping. */
struct pm_session *pm_session_open(void);
void pm_session_close(struct pm_session *s);

/*
 * Hands every unread record of every CPU to @emit (see pm_ring_consume()),
 * serialized against other readers of @s. Returns the bytes consumed, or
 * -ERESTARTSYS if interrupted while waiting for another reader.
 */
ssize_t pm_session_consume(struct pm_session *s, pm_ring_emit_fn emit,
			   void *ctx);
/* Sleeps until @s has unread records; 0, or -ERESTARTSYS on a signal. */
int pm_session_wait(struct pm_session *s);
__poll_t pm_session_poll(struct pm_session *s, struct file *file,
			 poll_table *wait);
/* The vmalloc_user() area of @cpu: control page, then data area. */
void *pm_session_cpu_area(struct pm_session *s, unsigned int cpu);
void pm_session_info(struct pm_session *s, struct persecmon_info *info);
int pm_session_cpu_stats(struct pm_session *s,
			 struct persecmon_cpu_stats *stats);

/* The control side: sessions named by id and proven by token. */
int pm_session_set_group(u32 id, u64 token, unsigned int group, bool on);

int pm_session_set_filter(u32 id, u64 token,
			  const struct pm_filter_spec *spec);

/* Status, for debugfs and netlink. */
struct pm_counts {
	u64 produced;
	u64 written;
	u64 dropped;
	u64 consumed;
};

struct pm_session_summary {
	u32 id;
	u32 owner_tgid;
	u64 groups;
	struct pm_counts counts;	/* summed over CPUs */
};

unsigned int pm_sessions_open(void);
unsigned int pm_sessions_max(void);
/* Calls @fn for every open session until it returns non-zero. */
int pm_sessions_for_each(int (*fn)(void *arg,
				   const struct pm_session_summary *ss),
			 void *arg);
/* Totals of one CPU over every session, closed ones included. */
void pm_sessions_cpu_counts(unsigned int cpu, struct pm_counts *counts);

#endif /* PERSECMON_CORE_SESSION_H */
