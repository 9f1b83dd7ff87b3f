/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * PerSecMon user/kernel ABI.
 *
 * This header is the only file shared by persecmon.ko and userspace. Every
 * structure has fixed-size fields and explicit padding; every record is a
 * multiple of 8 bytes. docs/abi.md describes each record and the reader
 * protocol in prose.
 *
 * Compatibility: a reader accepts a module whose ABI major equals its own.
 * Minor bumps only add record types, attributes, commands or fields at the
 * end of a structure whose size is carried with it.
 */
#ifndef _UAPI_LINUX_PERSECMON_H
#define _UAPI_LINUX_PERSECMON_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define PERSECMON_ABI_MAJOR		1
#define PERSECMON_ABI_MINOR		1

#define PERSECMON_DEVICE_NAME		"persecmon"
#define PERSECMON_DEVICE_PATH		"/dev/persecmon"
#define PERSECMON_DEBUGFS_DIR		"persecmon"

/* Records are aligned to, and sized in multiples of, this many bytes. */
#define PERSECMON_RECORD_ALIGN		8
/* Largest record a writer may produce (header included). */
#define PERSECMON_RECORD_MAX		4096

/*
 * Record types. Types below 16 describe the stream itself; a reader must
 * skip types it does not know, using hdr.size. Types are < 64 so that a
 * loss record can name them in one 64-bit mask.
 */
enum persecmon_record_type {
	PERSECMON_REC_INVALID	= 0,
	PERSECMON_REC_PAD	= 1,	/* filler up to the end of the buffer */
	PERSECMON_REC_LOST	= 2,	/* records were dropped before this one */
	PERSECMON_REC_CLOCK	= 3,	/* ties time_ns to wall-clock time */
	PERSECMON_EV_TEST	= 16,	/* synthetic, from PERSECMON_CMD_TRIGGER */
	PERSECMON_EV_EXEC	= 20,	/* group proc */
	PERSECMON_EV_FORK	= 21,	/* group proc */
	PERSECMON_EV_EXIT	= 22,	/* group proc */
	PERSECMON_EV_OPEN	= 24,	/* group files */
	PERSECMON_EV_VFS	= 28,	/* group vfs */
	PERSECMON_REC_TYPE_MAX	= 63,
};

/* hdr.flags */
#define PERSECMON_RF_TRUNCATED		(1U << 0) /* variable data was cut */

/*
 * Common header of every record (40 bytes).
 *
 * @size:	record size in bytes, header included, multiple of 8
 * @type:	enum persecmon_record_type
 * @flags:	PERSECMON_RF_*
 * @cpu:	CPU whose buffer holds the record
 * @seq:	per-session, per-CPU sequence number. Every record the kernel
 *		tried to write on this CPU for this session takes the next
 *		number, including the ones it had to drop, so gaps in seq are
 *		exactly the losses announced by PERSECMON_REC_LOST. Records
 *		written by an interrupt that nested inside another writer on the
 *		same CPU may appear one place out of seq order. Wraps at 2^32.
 * @uid:	real uid of the current task (in the initial user namespace)
 * @time_ns:	CLOCK_MONOTONIC nanoseconds, from a clock that is safe in every
 *		context (ktime_get_mono_fast_ns)
 * @pid:	thread id of the current task (0 in interrupt context)
 * @tgid:	process id of the current task (0 in interrupt context)
 * @cgroup_id:	cgroup v2 id of the current task (0 if none)
 */
struct persecmon_record {
	__u16 size;
	__u16 type;
	__u16 flags;
	__u16 cpu;
	__u32 seq;
	__u32 uid;
	__u64 time_ns;
	__u32 pid;
	__u32 tgid;
	__u64 cgroup_id;
};

/* PERSECMON_REC_LOST: @lost records were dropped on this CPU for this
 * session since the previous loss record. Bit N of @type_mask is set if a
 * dropped record had type N. @total_lost is the running total.
 * hdr.time_ns is when the loss was announced; the record with seq + 1
 * follows immediately.
 */
struct persecmon_lost_record {
	struct persecmon_record hdr;
	__u64 lost;
	__u64 type_mask;
	__u64 total_lost;
};

/* PERSECMON_REC_CLOCK: the same instant on three clocks. */
struct persecmon_clock_record {
	struct persecmon_record hdr;
	__u64 monotonic_ns;	/* same clock as hdr.time_ns */
	__u64 realtime_ns;	/* CLOCK_REALTIME */
	__u64 boottime_ns;	/* CLOCK_BOOTTIME */
};

/* Execution context a synthetic test event was produced in. */
enum persecmon_context {
	PERSECMON_CTX_TASK	= 0,
	PERSECMON_CTX_SOFTIRQ	= 1,
	PERSECMON_CTX_HARDIRQ	= 2,
	PERSECMON_CTX_NMI	= 3,
	PERSECMON_CTX_MAX	= 3,
};

/*
 * PERSECMON_EV_TEST: emitted by PERSECMON_CMD_TRIGGER. The fill bytes and
 * @check let a reader prove the record arrived intact:
 * fill[i] = (index + i) & 0xff and check = persecmon_test_check(...).
 */
struct persecmon_test_event {
	struct persecmon_record hdr;
	__u64 run_id;
	__u32 index;		/* 0..count-1 within (run, context, cpu) */
	__u8 context;		/* enum persecmon_context actually observed */
	__u8 reserved;
	__u16 fill_len;		/* bytes of fill[] that follow */
	__u64 check;
	__u8 fill[];		/* padded with zeroes to hdr.size */
};

/* FNV-1a over the identifying fields; simple enough to repeat anywhere. */
static inline __u64 persecmon_test_check(__u64 run_id, __u32 index,
					 __u8 context, __u16 cpu,
					 __u16 fill_len)
{
	__u64 h = 0xcbf29ce484222325ULL;
	__u64 v[5] = { run_id, index, context, cpu, fill_len };
	int i;

	for (i = 0; i < 5; i++) {
		h ^= v[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

#define PERSECMON_COMM_LEN		16

/*
 * Variable-length strings in events: @..._len bytes follow the fixed part,
 * without a NUL; the record is zero-padded to a multiple of 8. A string
 * that did not fit is cut and PERSECMON_RF_TRUNCATED set in hdr.flags.
 */

/*
 * PERSECMON_EV_EXEC (sched_process_exec): the new image of hdr.tgid.
 * data[] holds the filename (@filename_len bytes) then the arguments as
 * NUL-separated strings (@args_len bytes, @argc of them before any cut).
 */
struct persecmon_exec_event {
	struct persecmon_record hdr;
	__u32 ppid;		/* tgid of the real parent */
	__u32 old_pid;		/* pid before exec (differs for a thread) */
	__u8 comm[PERSECMON_COMM_LEN];	/* after exec */
	__u32 argc;
	__u16 filename_len;
	__u16 args_len;
	__u8 data[];
};

/* PERSECMON_EV_FORK (sched_process_fork): hdr is the parent. */
struct persecmon_fork_event {
	struct persecmon_record hdr;
	__u32 child_pid;
	__u32 child_tgid;
	__u8 comm[PERSECMON_COMM_LEN];
	__u32 flags;		/* PERSECMON_FORK_THREAD */
	__u32 reserved;
};
#define PERSECMON_FORK_THREAD		(1U << 0)

/* PERSECMON_EV_EXIT (sched_process_exit): hdr is the exiting task. */
struct persecmon_exit_event {
	struct persecmon_record hdr;
	__s32 exit_code;	/* as wait(2) encodes it */
	__u32 flags;		/* PERSECMON_EXIT_GROUP_DEAD */
	__u64 lifetime_ns;	/* since the task started */
	__u8 comm[PERSECMON_COMM_LEN];
};
#define PERSECMON_EXIT_GROUP_DEAD	(1U << 0) /* last thread of its process */

/*
 * PERSECMON_EV_OPEN (open, openat, openat2, creat): the path as the caller
 * gave it (@path_len bytes in path[]), the flags and mode, and the result.
 */
struct persecmon_open_event {
	struct persecmon_record hdr;
	__s32 ret;		/* fd, or -errno */
	__s32 dfd;		/* AT_FDCWD (-100) for open() */
	__u32 flags;		/* O_* */
	__u32 mode;
	__u8 comm[PERSECMON_COMM_LEN];
	__u64 latency_ns;
	__u16 path_len;
	__u16 syscall;		/* enum persecmon_open_syscall */
	__u32 reserved;
	__u8 path[];
};

enum persecmon_open_syscall {
	PERSECMON_OPEN_OPEN	= 0,
	PERSECMON_OPEN_OPENAT	= 1,
	PERSECMON_OPEN_OPENAT2	= 2,
	PERSECMON_OPEN_CREAT	= 3,
};

/*
 * PERSECMON_EV_VFS (vfs_read, vfs_write, vfs_open): the file as the
 * kernel knows it cheaply (device, inode, dentry name in name[]); full
 * paths are resolved in userspace from (dev, ino) when needed.
 */
struct persecmon_vfs_event {
	struct persecmon_record hdr;
	__u64 latency_ns;	/* entry to return; 0 for open */
	__s64 ret;		/* bytes, or -errno */
	__u64 count;		/* bytes asked for */
	__u64 ino;
	__u32 dev;		/* st_dev encoding: major << 20 | minor */
	__u8 op;		/* enum persecmon_vfs_op */
	__u8 reserved;
	__u16 name_len;
	__u8 comm[PERSECMON_COMM_LEN];
	__u8 name[];
};

enum persecmon_vfs_op {
	PERSECMON_VFS_READ	= 0,
	PERSECMON_VFS_WRITE	= 1,
	PERSECMON_VFS_OPEN	= 2,
};

/*
 * Shared memory.
 *
 * Every session (one open file of /dev/persecmon) has, for every possible
 * CPU, one control page and a data area of info.data_size bytes (a power of
 * two, a multiple of the page size). Both are mapped through the same file:
 *
 *   control page of CPU c at offset c * info.mmap_stride
 *   data area of CPU c    at offset c * info.mmap_stride + info.page_size
 *
 * The control page is mapped read/write, the data area read-only.
 *
 * Reader protocol (per CPU), as in perf's ring buffer:
 *   head = load_acquire(&ctrl->head);
 *   while (tail != head) {
 *           rec = data + (tail & (data_size - 1));
 *           consume rec (skip PERSECMON_REC_PAD);
 *           tail += rec->size;
 *   }
 *   store_release(&ctrl->tail, tail);
 * Records never wrap around the end of the data area; the writer fills
 * the end with a PAD record instead. A PAD record can be shorter than
 * struct persecmon_record (as short as 8 bytes): only its size and type
 * are meaningful. The kernel treats ctrl->tail as a
 * hint it validates: a tail outside [consumed, head], or not on a record
 * boundary, is ignored. All other
 * words of the control page are written by the kernel only.
 */
struct persecmon_ring_ctrl {
	__u32 version;		/* PERSECMON_ABI_MAJOR */
	__u32 cpu;
	__u64 data_size;
	__u64 reserved0[6];
	/* cache line 1: written by the kernel */
	__u64 head;		/* bytes produced, free-running */
	__u64 reserved1[7];
	/* cache line 2: written by the consumer */
	__u64 tail;		/* bytes consumed, free-running */
	__u64 reserved2[7];
};

/* PERSECMON_IOC_INFO */
struct persecmon_info {
	__u32 abi_major;
	__u32 abi_minor;
	__u32 nr_cpu_ids;	/* size of per-CPU arrays; ids may be sparse */
	__u32 page_size;
	__u64 data_size;	/* bytes of each per-CPU data area */
	__u64 mmap_stride;	/* bytes between two CPUs' control pages */
	__u32 session_id;	/* for PERSECMON_A_SESSION_ID */
	__u32 reserved;
	__u64 session_token;	/* for PERSECMON_A_SESSION_TOKEN */
	__u8 module_version[32];/* NUL-terminated */
	__u64 cpu_possible_mask[16]; /* bit c set if CPU c has a buffer */
};

/* PERSECMON_IOC_STATS: counters of this session on one CPU. */
struct persecmon_cpu_stats {
	__u32 cpu;		/* in: which CPU */
	__u32 reserved;
	__u64 produced;		/* records the kernel tried to write */
	__u64 written;		/* records committed to the buffer */
	__u64 dropped;		/* records dropped because it was full */
	__u64 lost_reported;	/* drops already announced by LOST records */
	__u64 dropped_by_type[64];
};

#define PERSECMON_IOC_MAGIC		0xb7
#define PERSECMON_IOC_INFO	_IOR(PERSECMON_IOC_MAGIC, 1, struct persecmon_info)
#define PERSECMON_IOC_STATS	_IOWR(PERSECMON_IOC_MAGIC, 2, struct persecmon_cpu_stats)

/*
 * Generic netlink family "persecmon". Every command requires CAP_PERFMON
 * or CAP_SYS_ADMIN. Session-scoped commands name the session with
 * PERSECMON_A_SESSION_ID and prove ownership with PERSECMON_A_SESSION_TOKEN
 * (both from PERSECMON_IOC_INFO); without them they act on the global set
 * that feeds the always-on aggregates.
 */
#define PERSECMON_GENL_NAME		"persecmon"
#define PERSECMON_GENL_VERSION		1

enum persecmon_cmd {
	PERSECMON_CMD_UNSPEC,
	PERSECMON_CMD_GET_STATUS,	/* reply: status attributes */
	PERSECMON_CMD_ENABLE,		/* GROUP [, SESSION_ID, SESSION_TOKEN] */
	PERSECMON_CMD_DISABLE,		/* GROUP [, SESSION_ID, SESSION_TOKEN] */
	PERSECMON_CMD_SET_FILTER,	/* SESSION_*, FILTER_* */
	PERSECMON_CMD_TRIGGER,		/* TRIGGER_* : synthetic test events */
	PERSECMON_CMD_AGG_DUMP,		/* [AGG_NAME]: dump, one reply per table */
	PERSECMON_CMD_AGG_RESET,	/* AGG_NAME: zero one aggregate table */
	__PERSECMON_CMD_MAX,
};
#define PERSECMON_CMD_MAX (__PERSECMON_CMD_MAX - 1)

enum persecmon_attr {
	PERSECMON_A_UNSPEC,
	PERSECMON_A_ABI_MAJOR,		/* u32 */
	PERSECMON_A_ABI_MINOR,		/* u32 */
	PERSECMON_A_MODULE_VERSION,	/* string */
	PERSECMON_A_DATA_SIZE,		/* u64 */
	PERSECMON_A_SESSIONS,		/* u32: open sessions */
	PERSECMON_A_MAX_SESSIONS,	/* u32 */
	PERSECMON_A_GROUPS_GLOBAL,	/* u64: mask of enum persecmon_group */
	PERSECMON_A_GROUPS_ATTACHED,	/* u64: groups whose probes are on */
	PERSECMON_A_GROUP,		/* string: group name */
	PERSECMON_A_SESSION_ID,		/* u32 */
	PERSECMON_A_SESSION_TOKEN,	/* u64 */
	PERSECMON_A_FILTER_TGID,	/* u32, repeated: tgids to keep */
	PERSECMON_A_FILTER_CGROUP,	/* u64: cgroup id to keep, 0 = any */
	PERSECMON_A_FILTER_INCLUDE_SELF,/* flag: keep the readers' own events */
	PERSECMON_A_TRIGGER_RUN_ID,	/* u64 */
	PERSECMON_A_TRIGGER_COUNT,	/* u32: events per context per CPU */
	PERSECMON_A_TRIGGER_CONTEXTS,	/* u32: mask of 1 << persecmon_context */
	PERSECMON_A_TRIGGER_FILL,	/* u32: fill bytes per event */
	PERSECMON_A_CPU_STATS,		/* nested, repeated: PERSECMON_A_CS_* */
	PERSECMON_A_PAD,		/* alignment padding for u64 attrs */
	PERSECMON_A_SESSION,		/* nested, repeated: PERSECMON_A_SS_* */
	PERSECMON_A_AGG_NAME,		/* string: aggregate table, e.g. "vfsstat" */
	PERSECMON_A_AGG_COLUMNS,	/* string: comma-separated column names */
	PERSECMON_A_AGG_ROW,		/* nested, repeated: PERSECMON_A_AR_* */
	PERSECMON_A_PROBE,		/* nested, repeated: PERSECMON_A_PR_* */
	__PERSECMON_A_MAX,
};
#define PERSECMON_A_MAX (__PERSECMON_A_MAX - 1)

/* Nested in PERSECMON_A_CPU_STATS: totals over all sessions of one CPU. */
enum persecmon_cpu_stats_attr {
	PERSECMON_A_CS_UNSPEC,
	PERSECMON_A_CS_CPU,		/* u32 */
	PERSECMON_A_CS_PRODUCED,	/* u64 */
	PERSECMON_A_CS_WRITTEN,		/* u64 */
	PERSECMON_A_CS_DROPPED,		/* u64 */
	PERSECMON_A_CS_CONSUMED,	/* u64: records read by consumers */
	PERSECMON_A_CS_PAD,
	__PERSECMON_A_CS_MAX,
};
#define PERSECMON_A_CS_MAX (__PERSECMON_A_CS_MAX - 1)

/* Nested in PERSECMON_A_SESSION: one open session. */
enum persecmon_session_attr {
	PERSECMON_A_SS_UNSPEC,
	PERSECMON_A_SS_ID,		/* u32 */
	PERSECMON_A_SS_OWNER_TGID,	/* u32 */
	PERSECMON_A_SS_GROUPS,		/* u64 */
	PERSECMON_A_SS_PRODUCED,	/* u64 */
	PERSECMON_A_SS_DROPPED,		/* u64 */
	PERSECMON_A_SS_PAD,
	__PERSECMON_A_SS_MAX,
};
#define PERSECMON_A_SS_MAX (__PERSECMON_A_SS_MAX - 1)

/*
 * Nested in PERSECMON_A_AGG_ROW: one row of an aggregate table. VALUES is
 * an array of __u64, one per column of PERSECMON_A_AGG_COLUMNS; for a log2
 * histogram (columns "log2:UNIT") slot i counts values in [2^i, 2^(i+1)),
 * slot 0 also counting 0.
 */
enum persecmon_agg_row_attr {
	PERSECMON_A_AR_UNSPEC,
	PERSECMON_A_AR_KEY,		/* string: "dev=vda op=read", "pid=1 comm=x" */
	PERSECMON_A_AR_VALUES,		/* binary: __u64[] */
	__PERSECMON_A_AR_MAX,
};
#define PERSECMON_A_AR_MAX (__PERSECMON_A_AR_MAX - 1)

/* Nested in PERSECMON_A_PROBE (GET_STATUS): one probe of one group. */
enum persecmon_probe_attr {
	PERSECMON_A_PR_UNSPEC,
	PERSECMON_A_PR_GROUP,		/* string */
	PERSECMON_A_PR_NAME,		/* string: symbol or tracepoint */
	PERSECMON_A_PR_MECHANISM,	/* string: kprobe, kretprobe, tracepoint, uprobe */
	PERSECMON_A_PR_ATTACHED,	/* u32: 0/1 */
	PERSECMON_A_PR_ERROR,		/* s32: -errno of the last attach */
	PERSECMON_A_PR_HITS,		/* u64 */
	PERSECMON_A_PR_MISSED,		/* u64: nmissed (recursion, no instance) */
	PERSECMON_A_PR_PAD,
	__PERSECMON_A_PR_MAX,
};
#define PERSECMON_A_PR_MAX (__PERSECMON_A_PR_MAX - 1)

/*
 * Probe groups. A group is attached while the global set or any session
 * enables it. Names (PERSECMON_A_GROUP) are the lower-case suffixes.
 */
enum persecmon_group {
	PERSECMON_GROUP_TEST	= 0,	/* "test": synthetic events only */
	PERSECMON_GROUP_VFS	= 1,	/* "vfs": vfs_read/vfs_write/vfs_open */
	PERSECMON_GROUP_FILES	= 2,	/* "files": open/openat/openat2/creat */
	PERSECMON_GROUP_BLOCK	= 3,	/* "block": block request latency */
	PERSECMON_GROUP_PROC	= 4,	/* "proc": exec, fork, exit */
	PERSECMON_GROUP_NET	= 5,	/* "net": TCP connect, state changes */
	PERSECMON_GROUP_MAX	= 63,
};

#endif /* _UAPI_LINUX_PERSECMON_H */
