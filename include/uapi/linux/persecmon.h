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
#define PERSECMON_ABI_MINOR		11

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
	PERSECMON_EV_EXEC_FAIL	= 23,	/* group proc: failed exec (ABI 1.4) */
	PERSECMON_EV_OPEN	= 24,	/* group files */
	PERSECMON_EV_VFS	= 28,	/* group vfs */
	PERSECMON_EV_BLOCK	= 32,	/* group block: one completed request */
	PERSECMON_EV_TCP_CONNECT = 36,	/* group net: active connect done */
	PERSECMON_EV_TCP_STATE	= 37,	/* group net: TCP state change */
	PERSECMON_EV_DNS	= 40,	/* group dns: one name lookup */
	PERSECMON_EV_ALLOC	= 44,	/* group memleak: user allocation */
	PERSECMON_EV_FREE	= 45,	/* group memleak: user free */
	PERSECMON_EV_KALLOC	= 46,	/* group kmemleak: kernel allocation */
	PERSECMON_EV_KFREE	= 47,	/* group kmemleak: kernel free */
	PERSECMON_EV_MAP	= 48,	/* group memleak: file mapping (ABI 1.9) */
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
 * PERSECMON_EV_EXEC_FAIL (ABI 1.4): an execve(2) or execveat(2) that
 * returned an error; hdr is the caller, whose image did not change. The
 * filename is the string the caller passed (@filename_len bytes in
 * filename[]). When it could not be read, @filename_len is 0 and both
 * PERSECMON_EXEC_FAIL_NO_FILENAME and PERSECMON_RF_TRUNCATED are set; a
 * filename longer than the kernel keeps is cut (PERSECMON_RF_TRUNCATED).
 *
 * Since ABI 1.6 the caller's argv follows the filename: @args_len bytes,
 * NUL-separated as in PERSECMON_EV_EXEC (the last string unterminated).
 * Arguments beyond what the kernel keeps are left out and flagged
 * PERSECMON_RF_TRUNCATED; an argv that could not be read at all (a bad
 * pointer, a page not resident) gives @args_len 0 and
 * PERSECMON_EXEC_FAIL_NO_ARGS plus PERSECMON_RF_TRUNCATED. Before 1.6,
 * @args_len is 0.
 */
struct persecmon_exec_fail_event {
	struct persecmon_record hdr;
	__s32 ret;		/* -errno */
	__u32 ppid;		/* tgid of the real parent */
	__s32 dfd;		/* execveat's dirfd; AT_FDCWD (-100) for execve */
	__u32 at_flags;		/* execveat's flags (AT_*); 0 for execve */
	__u8 comm[PERSECMON_COMM_LEN];
	__u16 syscall;		/* enum persecmon_exec_syscall */
	__u16 flags;		/* PERSECMON_EXEC_FAIL_* */
	__u16 filename_len;
	__u16 args_len;		/* ABI 1.6 */
	__u8 filename[];	/* then args_len bytes of arguments */
};

enum persecmon_exec_syscall {
	PERSECMON_EXEC_EXECVE	= 0,
	PERSECMON_EXEC_EXECVEAT	= 1,
};

/* A 32-bit caller: the ia32 form of the syscall (x32 is not probed). */
#define PERSECMON_EXEC_FAIL_COMPAT	(1U << 0)
/*
 * The filename could not be read: a bad pointer, a page not resident, or
 * a failure after the caller's address space was already replaced.
 */
#define PERSECMON_EXEC_FAIL_NO_FILENAME	(1U << 1)
/* The argument vector could not be read (ABI 1.6). */
#define PERSECMON_EXEC_FAIL_NO_ARGS	(1U << 2)

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
	__u32 dev;		/* as stat(2) st_dev: new_encode_dev() */
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

/* The block group's records (PERSECMON_EV_BLOCK). */

/*
 * PERSECMON_EV_BLOCK: one block request, written when it completes.
 *
 * The header describes the task that SUBMITTED the request (hdr.pid,
 * tgid, uid, cgroup_id; comm below), not the context the record was
 * written in (completions run in interrupt context): the submitter is
 * sampled when the request is built from its first bio and joined to the
 * completion through the request. hdr.time_ns is the completion time.
 * When the submission was not seen (the request was built before the
 * group attached, or not from a bio, e.g. a flush the block layer made
 * itself), PERSECMON_BLOCK_F_NO_SUBMITTER is set and the header's task
 * fields and comm are 0.
 *
 * Buffered writes are submitted by writeback, i.e. by a kernel flusher
 * thread ("kworker/u8:1+flush-254:0"), not by the process that dirtied
 * the pages: such records have PERSECMON_BLOCK_F_KTHREAD and, for writes,
 * PERSECMON_BLOCK_F_WRITEBACK; the dirtying process is not known.
 */
struct persecmon_block_event {
	struct persecmon_record hdr;
	__u64 sector;		/* first 512-byte sector, from the disk start */
	__u64 latency_ns;	/* issue to the driver -> completion */
	__u64 queue_ns;		/* request built -> issue; 0 if not seen */
	__u32 bytes;		/* bytes the request carried */
	__u32 dev;		/* whole disk, as stat(2) st_rdev: new_encode_dev() */
	__s32 error;		/* 0, or -errno of the completion status */
	__u32 flags;		/* PERSECMON_BLOCK_F_* */
	__u8 op;		/* enum persecmon_block_op */
	__u8 reserved[7];
	__u8 comm[PERSECMON_COMM_LEN];	/* submitter's */
};

enum persecmon_block_op {
	PERSECMON_BLOCK_READ		= 0,
	PERSECMON_BLOCK_WRITE		= 1,
	PERSECMON_BLOCK_FLUSH		= 2,
	PERSECMON_BLOCK_DISCARD		= 3,	/* also secure erase */
	PERSECMON_BLOCK_WRITE_ZEROES	= 4,
	PERSECMON_BLOCK_OTHER		= 5,	/* zone and driver commands */
};

/* persecmon_block_event.flags */
#define PERSECMON_BLOCK_F_SYNC		(1U << 0) /* REQ_SYNC */
#define PERSECMON_BLOCK_F_META		(1U << 1) /* REQ_META: fs metadata */
#define PERSECMON_BLOCK_F_FUA		(1U << 2) /* REQ_FUA: forced unit access */
#define PERSECMON_BLOCK_F_PREFLUSH	(1U << 3) /* REQ_PREFLUSH */
#define PERSECMON_BLOCK_F_RAHEAD	(1U << 4) /* REQ_RAHEAD: readahead */
#define PERSECMON_BLOCK_F_KTHREAD	(1U << 5) /* submitter is a kernel thread */
#define PERSECMON_BLOCK_F_WRITEBACK	(1U << 6) /* a write by a kernel thread */
#define PERSECMON_BLOCK_F_NO_SUBMITTER	(1U << 7) /* submission not seen */
#define PERSECMON_BLOCK_F_PARTIAL	(1U << 8) /* completed in several parts */

/* The net group's records (PERSECMON_EV_TCP_*). */

/*
 * PERSECMON_EV_TCP_CONNECT (an active connect ended: SYN_SENT to
 * ESTABLISHED, or to CLOSE with PERSECMON_TCP_FAILED) and
 * PERSECMON_EV_TCP_STATE (any TCP state change, inet_sock_set_state).
 *
 * hdr.pid/tgid/uid/cgroup_id: for a connect, and for the state changes of
 * a connect in flight, the task that called connect() (recorded when the
 * socket entered SYN_SENT, inside connect()), even though the handshake
 * usually ends in softirq context (PERSECMON_TCP_CONNECTOR). Otherwise the
 * current task, or 0 in interrupt context.
 *
 * Addresses are in network byte order: IPv4 in the first 4 bytes of
 * saddr/daddr (the rest zero), IPv6 in all 16. Ports are in host order.
 * latency_ns (with PERSECMON_TCP_LATENCY): for a connect, SYN_SENT to its
 * end; for a state change of a connect in flight, the time since the
 * socket entered SYN_SENT; else 0. error is the socket's error (sk_err,
 * e.g. ECONNREFUSED, ETIMEDOUT) of a failed connect, 0 when there was
 * none (a close() or a port allocation failure ended it).
 */
struct persecmon_tcp_event {
	struct persecmon_record hdr;
	__u64 latency_ns;	/* see PERSECMON_TCP_LATENCY */
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 family;		/* AF_INET (2) or AF_INET6 (10) */
	__u16 sport;
	__u16 dport;
	__u8 oldstate;		/* TCP_* of include/net/tcp_states.h */
	__u8 newstate;
	__u32 flags;		/* PERSECMON_TCP_* */
	__s32 error;		/* failed connect: sk_err, e.g. ECONNREFUSED */
	__u8 comm[PERSECMON_COMM_LEN];	/* of the task in hdr, "" if none */
};

/* persecmon_tcp_event.flags */
#define PERSECMON_TCP_FAILED		(1U << 0) /* connect ended in CLOSE */
#define PERSECMON_TCP_CONNECTOR		(1U << 1) /* hdr is the connecting task */
#define PERSECMON_TCP_LATENCY		(1U << 2) /* latency_ns is valid */

/* The dns group's records (PERSECMON_EV_DNS). */

/*
 * Roles of the dns group's uprobe targets (PERSECMON_A_UP_ROLE), each with
 * PERSECMON_UPROBE_ENTRY | PERSECMON_UPROBE_RETURN on the libc function.
 */
enum persecmon_dns_func {
	PERSECMON_DNS_GETADDRINFO	= 0,	/* getaddrinfo(node, ...) */
	PERSECMON_DNS_GETHOSTBYNAME	= 1,	/* gethostbyname(name) */
	PERSECMON_DNS_GETHOSTBYNAME2	= 2,	/* gethostbyname2(name, af) */
	PERSECMON_DNS_FUNC_MAX		= 2,
};

/* Longest host name a DNS event carries (longer ones are cut). */
#define PERSECMON_DNS_HOST_MAX		256

/*
 * PERSECMON_EV_DNS: one completed lookup, written at the function's
 * return; hdr is the calling thread. @ret is getaddrinfo()'s return value
 * (0 or an EAI_* code), or for gethostbyname*() 0 when a hostent came
 * back and -1 for NULL. The host name as the caller passed it (@host_len
 * bytes in host[], copied at entry; cut at PERSECMON_DNS_HOST_MAX with
 * PERSECMON_RF_TRUNCATED). A nested call of the same thread is not
 * timed on its own: the outermost call's record covers it.
 */
struct persecmon_dns_event {
	struct persecmon_record hdr;
	__u64 latency_ns;	/* entry to return */
	__s32 ret;
	__u8 func;		/* enum persecmon_dns_func */
	__u8 flags;		/* PERSECMON_DNS_* */
	__u16 host_len;
	__u8 comm[PERSECMON_COMM_LEN];
	__u8 host[];
};

#define PERSECMON_DNS_HOST_NULL		(1U << 0) /* host argument was NULL */
#define PERSECMON_DNS_HOST_FAULT	(1U << 1) /* host was unreadable */

/* The memleak and kmemleak groups' records (PERSECMON_EV_ALLOC.._KFREE). */

/* Most stack frames an allocation record carries. */
#define PERSECMON_KSTACK_MAX		32
#define PERSECMON_USTACK_MAX		32

/* What a kernel allocation record or free record is about. */
enum persecmon_kmem_kind {
	PERSECMON_KMEM_KMALLOC	= 0,	/* kmalloc(), freed by kfree() */
	PERSECMON_KMEM_CACHE	= 1,	/* kmem_cache_alloc()/_free() */
	PERSECMON_KMEM_PAGE	= 2,	/* page allocator; ptr is the pfn */
};

/*
 * PERSECMON_EV_KALLOC (group kmemleak: tracepoints kmem:kmalloc,
 * kmem:kmem_cache_alloc, kmem:mm_page_alloc): one kernel allocation and
 * the kernel stack that made it, innermost frame first (@nr_frames
 * return addresses, the probe's own frames removed; hdr.flags has
 * PERSECMON_RF_TRUNCATED when the stack was deeper than
 * PERSECMON_KSTACK_MAX). Slab objects (kmalloc and kmem_cache kinds) share
 * one address space: either may be freed by either free record; pages
 * are keyed by pfn.
 */
struct persecmon_kalloc_event {
	struct persecmon_record hdr;
	__u64 ptr;		/* object address, or pfn for pages */
	__u64 bytes_req;	/* bytes asked for (pages: PAGE_SIZE << order) */
	__u64 bytes_alloc;	/* bytes taken (pages: same) */
	__u64 call_site;	/* caller's address (0 for pages) */
	__u32 gfp_flags;
	__s32 node;		/* NUMA node asked for, -1 = any */
	__u8 kind;		/* enum persecmon_kmem_kind */
	__u8 order;		/* pages only */
	__u16 nr_frames;
	__u32 reserved;
	__u64 frames[];		/* kernel return addresses */
};

/* PERSECMON_EV_KFREE (kmem:kfree, kmem:kmem_cache_free, kmem:mm_page_free). */
struct persecmon_kfree_event {
	struct persecmon_record hdr;
	__u64 ptr;		/* object address, or pfn for pages */
	__u64 call_site;	/* caller's address (0 for pages) */
	__u8 kind;		/* enum persecmon_kmem_kind */
	__u8 order;		/* pages only */
	__u8 reserved[6];
};

/* The libc function a user allocation or free record is about. */
enum persecmon_alloc_func {
	PERSECMON_ALLOC_MALLOC		= 0,
	PERSECMON_ALLOC_CALLOC		= 1,
	PERSECMON_ALLOC_REALLOC		= 2,
	PERSECMON_ALLOC_POSIX_MEMALIGN	= 3,
	PERSECMON_ALLOC_ALIGNED_ALLOC	= 4,
	PERSECMON_ALLOC_MEMALIGN	= 5,
	PERSECMON_ALLOC_VALLOC		= 6,
	PERSECMON_ALLOC_PVALLOC		= 7,
	PERSECMON_ALLOC_FREE		= 8,
	PERSECMON_ALLOC_FUNC_MAX	= 8,
};

/*
 * PERSECMON_EV_ALLOC (group memleak: uprobes/uretprobes on libc): one
 * successful allocation by hdr.tgid: the block's address and size, the
 * function, and the user stack at the call, innermost first: frames[0]
 * is the return address into the caller of the libc function, then what
 * a frame-pointer walk found (see docs/memleak.md for its limits).
 * hdr.flags has PERSECMON_RF_TRUNCATED when the walk stopped at
 * PERSECMON_USTACK_MAX frames. realloc() reports the new block here and
 * the old one as a PERSECMON_EV_FREE.
 */
struct persecmon_alloc_event {
	struct persecmon_record hdr;
	__u64 addr;
	__u64 size;		/* bytes asked for (calloc: nmemb * size) */
	__u8 func;		/* enum persecmon_alloc_func */
	__u8 reserved;
	__u16 nr_frames;
	__u32 reserved2;
	__u64 frames[];		/* user return addresses */
};

/* PERSECMON_EV_FREE: free(addr), or the old block of a realloc(). */
struct persecmon_free_event {
	struct persecmon_record hdr;
	__u64 addr;
	__u8 func;		/* enum persecmon_alloc_func */
	__u8 reserved[7];
};

/*
 * PERSECMON_EV_MAP (group memleak, ABI 1.9): a file mapping of hdr.tgid
 * that a frame of a newly kept stack lies in, so that the stack can be
 * symbolized after the process is gone: the frame's file offset is
 * frame - @start + @offset. Written just before the PERSECMON_EV_ALLOC
 * record whose stack the module saw first, to every session that wants
 * the event, quiet ones (PERSECMON_A_FILTER_QUIET) included, and at most
 * once per (process, mapping, file) while the group stays attached (a
 * session that starts while the group is attached does not get the
 * mappings of stacks seen before it; docs/memleak.md). @dev and @ino name
 * the file that backs the mapping (the real one under overlayfs);
 * @path is the file as the process saw it, without a NUL, " (deleted)"
 * appended when it was unlinked; a path longer than the module keeps is
 * left empty and hdr.flags has PERSECMON_RF_TRUNCATED.
 */
struct persecmon_map_event {
	struct persecmon_record hdr;
	__u64 start;		/* first address of the mapping */
	__u64 end;		/* one past its last */
	__u64 offset;		/* file offset of @start, in bytes */
	__u64 ino;
	__u32 dev;		/* as stat(2)'s st_dev */
	__u16 path_len;		/* bytes in @path */
	__u8 reserved[2];
	char path[];
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
	__u64 possible_cpus[16];	/* bit c set if CPU c has a buffer */
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
	/* GROUP [, SESSION_ID, SESSION_TOKEN | GROUP_HOLD] */
	PERSECMON_CMD_ENABLE,
	PERSECMON_CMD_DISABLE,
	/*
	 * [SESSION_*], FILTER_*: replace the session's filter or (ABI 1.11)
	 * without a session the global filter, which limits the aggregates
	 * to the processes it names (FILTER_TGID as the caller sees them,
	 * live ones only, else ESRCH; FILTER_CGROUP); naming nothing
	 * removes it. FILTER_INCLUDE_SELF and FILTER_QUIET are a session's
	 * only (EINVAL). GET_STATUS replies carry the global filter as
	 * FILTER_TGID (initial pid namespace) and FILTER_CGROUP.
	 */
	PERSECMON_CMD_SET_FILTER,
	PERSECMON_CMD_TRIGGER,		/* TRIGGER_* : synthetic test events */
	/*
	 * [AGG_NAME]: the tables' rows, one message per table (or more).
	 * With NLM_F_DUMP (ABI 1.7) a netlink dump built at its start and
	 * paced by the reader, ended by NLMSG_DONE; without it every reply
	 * is sent before the ACK, and may overrun the receive buffer.
	 */
	PERSECMON_CMD_AGG_DUMP,
	PERSECMON_CMD_AGG_RESET,	/* AGG_NAME: zero one aggregate table */
	/*
	 * GROUP, UPROBE (nested, repeated) [, SESSION_ID, SESSION_TOKEN]:
	 * enable a uprobe group for the session (or globally) and register
	 * the targets. Targets stay until the group's last enabler goes.
	 */
	PERSECMON_CMD_UPROBE_ENABLE,
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
	PERSECMON_A_UPROBE,		/* nested, repeated: PERSECMON_A_UP_* */
	/*
	 * flag (ABI 1.3), ENABLE/DISABLE without a session: a hold, a
	 * reference on the group owned by the sending netlink socket, not the
	 * global set. Each socket holds a group at most once; the hold goes
	 * with DISABLE + GROUP_HOLD from that socket or when it closes.
	 */
	PERSECMON_A_GROUP_HOLD,
	/*
	 * u64 (ABI 1.5), SET_FILTER: mask of enum persecmon_group whose
	 * records this session does not want in its buffers. The session
	 * still wants those events in every other respect: state the module
	 * keeps for wanted processes (the memleak group's table of
	 * outstanding blocks) follows the session's groups and filter, and
	 * the reader reads that state (AGG_DUMP) instead of the stream,
	 * paying for no record. A bit of a group the module does not have
	 * is EINVAL.
	 */
	PERSECMON_A_FILTER_QUIET,
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
 * Nested in PERSECMON_A_UPROBE (UPROBE_ENABLE): one user-level probe
 * target. Offsets are file offsets (symbol value - p_vaddr + p_offset of
 * the PT_LOAD segment holding it), not virtual addresses. The probe shows
 * in GET_STATUS as "<basename of PATH>:<NAME or 0xOFFSET>".
 */
enum persecmon_uprobe_attr {
	PERSECMON_A_UP_UNSPEC,
	PERSECMON_A_UP_PATH,		/* string: absolute path (required) */
	PERSECMON_A_UP_OFFSET,		/* u64: file offset (required) */
	PERSECMON_A_UP_REF_CTR_OFFSET,	/* u64: USDT semaphore file offset */
	PERSECMON_A_UP_ROLE,		/* u32: the group's role id (required) */
	PERSECMON_A_UP_FLAGS,		/* u32: PERSECMON_UPROBE_* (required) */
	PERSECMON_A_UP_NAME,		/* string: symbol or probe name */
	PERSECMON_A_UP_COOKIE,		/* u64: passed to the group's handler */
	__PERSECMON_A_UP_MAX,
};
#define PERSECMON_A_UP_MAX (__PERSECMON_A_UP_MAX - 1)

/*
 * PERSECMON_A_UP_FLAGS: ENTRY and/or RETURN, calling the group's handlers
 * of ROLE; or COUNT alone: only count hits (GET_STATUS PROBE nests, the
 * debugfs probes file), e.g. to check a USDT probe, whatever the role.
 */
#define PERSECMON_UPROBE_ENTRY		(1U << 0) /* at the function's entry */
#define PERSECMON_UPROBE_RETURN		(1U << 1) /* at its return (uretprobe) */
#define PERSECMON_UPROBE_COUNT		(1U << 2) /* entry, hits counted only */

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
	PERSECMON_GROUP_DNS	= 6,	/* "dns": libc name lookups (uprobes) */
	PERSECMON_GROUP_MEMLEAK	= 7,	/* "memleak": libc allocations (uprobes) */
	PERSECMON_GROUP_KMEMLEAK = 8,	/* "kmemleak": kernel allocations */
	PERSECMON_GROUP_MAX	= 63,
};

#endif /* _UAPI_LINUX_PERSECMON_H */
