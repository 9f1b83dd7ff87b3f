// SPDX-License-Identifier: GPL-2.0
/*
 * The "vfs" group: kretprobes on vfs_read and vfs_write (bytes, latency)
 * and a kprobe on vfs_open.
 *
 * While the group is attached (by the global set or by any session) every
 * call updates the per-CPU aggregates "vfsstat" and "vfs_latency"; records
 * go to the rings only of the sessions that enabled the group, so enabling
 * it only globally costs no ring writes at all.
 *
 * A file is named cheaply: device, inode number and the last path
 * component (the dentry name, read under RCU and cut at PM_VFS_NAME_MAX).
 * Full paths are userspace's job: d_path() is far too costly here.
 */
#include <linux/dcache.h>
#include <linux/fs.h>
#include <linux/kdev_t.h>
#include <linux/kprobes.h>
#include <linux/path.h>
#include <linux/percpu.h>
#include <linux/ptrace.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/timekeeping.h>

#include "core/agg.h"
#include "core/aggmap.h"
#include "core/filter.h"
#include "core/groups.h"
#include "core/session.h"
#include "probes/vfs.h"

/* Longest dentry name an event carries. */
#define PM_VFS_NAME_MAX		64
/*
 * Calls that may be in flight at once per kretprobe. vfs_read can block
 * for as long as a pipe or a tty stays empty; a call that finds no free
 * instance is not timed and shows in "missed".
 */
#define PM_VFS_MAXACTIVE	2048

enum {
	PM_VFS_STAT_READ,
	PM_VFS_STAT_WRITE,
	PM_VFS_STAT_OPEN,
	PM_VFS_STAT_READ_BYTES,
	PM_VFS_STAT_WRITE_BYTES,
	PM_VFS_STAT_NR,
};

/* What the entry handler hands to the return handler. */
struct pm_vfs_call {
	struct file *file;	/* pinned by the caller for the whole call */
	u64 count;
	u64 start_ns;
};

static struct pm_agg_counters pm_vfs_stat;
/* Indexed by PERSECMON_VFS_READ, PERSECMON_VFS_WRITE. */
static struct pm_agg_counters pm_vfs_latency[2];

static struct kretprobe pm_vfs_read_rp;
static struct kretprobe pm_vfs_write_rp;
static struct kprobe pm_vfs_open_kp;

/*
 * Top-N tables (aggmap.h), updated by every read and write: per process
 * ("vfs_top_procs", key tgid and comm) and per process and file
 * ("vfs_top_files", key tgid, dev, ino, file type and dentry name, like
 * bcc's filetop). Rows come sorted by bytes, largest first.
 */
enum {
	PM_VFS_TOP_READS,
	PM_VFS_TOP_WRITES,
	PM_VFS_TOP_READ_BYTES,
	PM_VFS_TOP_WRITE_BYTES,
};

#define PM_VFS_TOP_COLUMNS	"reads,writes,read_bytes,write_bytes"
#define PM_VFS_TOP_SORT		(BIT(PM_VFS_TOP_READ_BYTES) | \
				 BIT(PM_VFS_TOP_WRITE_BYTES))
/* Dentry name bytes in a file key, NUL included. */
#define PM_VFS_TOP_NAME_LEN	31

struct pm_vfs_proc_key {
	u32 tgid;
	char comm[TASK_COMM_LEN];
	u32 pad;
};

struct pm_vfs_file_key {
	u64 ino;
	u32 tgid;
	u32 dev;
	char type;		/* R regular, S socket, O other (filetop's T) */
	char name[PM_VFS_TOP_NAME_LEN];
};

/* Non-printable bytes of a name would break the debugfs lines. */
static void pm_vfs_key_printable(char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s == 0x7f)
			*s = '?';
}

static int pm_vfs_proc_format(char *buf, size_t size, const void *key)
{
	const struct pm_vfs_proc_key *k = key;
	int len = scnprintf(buf, size, "pid=%u comm=%s", k->tgid, k->comm);

	pm_vfs_key_printable(buf);
	return len;
}

/* The name comes last: a long pid, dev and ino cut the name, not them. */
static int pm_vfs_file_format(char *buf, size_t size, const void *key)
{
	const struct pm_vfs_file_key *k = key;
	int len = scnprintf(buf, size, "pid=%u dev=%u:%u ino=%llu t=%c name=%s",
			    k->tgid, MAJOR(k->dev), MINOR(k->dev), k->ino,
			    k->type, k->name);

	pm_vfs_key_printable(buf);
	return len;
}

static const struct pm_aggmap_info pm_vfs_top_procs_info = {
	.name = "vfs_top_procs",
	.columns = PM_VFS_TOP_COLUMNS,
	.capacity = 1024,
	.key_size = sizeof(struct pm_vfs_proc_key),
	.format_key = pm_vfs_proc_format,
	.sort_columns = PM_VFS_TOP_SORT,
};

static const struct pm_aggmap_info pm_vfs_top_files_info = {
	.name = "vfs_top_files",
	.columns = PM_VFS_TOP_COLUMNS,
	.capacity = 4096,
	.key_size = sizeof(struct pm_vfs_file_key),
	.format_key = pm_vfs_file_format,
	.sort_columns = PM_VFS_TOP_SORT,
};

DEFINE_PM_AGGMAP(pm_vfs_top_procs);
DEFINE_PM_AGGMAP(pm_vfs_top_files);

static struct pm_probe pm_vfs_probes[] = {
	[PERSECMON_VFS_READ] = {
		.group = "vfs", .name = "vfs_read", .mechanism = "kretprobe",
		.rp = &pm_vfs_read_rp,
	},
	[PERSECMON_VFS_WRITE] = {
		.group = "vfs", .name = "vfs_write", .mechanism = "kretprobe",
		.rp = &pm_vfs_write_rp,
	},
	[PERSECMON_VFS_OPEN] = {
		.group = "vfs", .name = "vfs_open", .mechanism = "kprobe",
		.kp = &pm_vfs_open_kp,
	},
};

/*
 * Copies the dentry's name, stopping at its NUL: a concurrent rename may
 * swap d_name under us, and RCU keeps the old name's memory valid but not
 * its length. Returns the length copied; *@cut if the name was longer.
 */
static u16 pm_vfs_dentry_name(const struct dentry *dentry, u8 *buf,
			      bool *cut)
{
	const unsigned char *name;
	u16 len = 0;

	*cut = false;
	rcu_read_lock();
	name = READ_ONCE(dentry->d_name.name);
	while (len < PM_VFS_NAME_MAX && name[len]) {
		buf[len] = name[len];
		len++;
	}
	if (len == PM_VFS_NAME_MAX && name[len])
		*cut = true;
	rcu_read_unlock();
	return len;
}

static void pm_vfs_emit(u8 op, const struct dentry *dentry,
			const struct inode *inode, dev_t dev, u64 latency_ns,
			s64 ret, u64 count)
{
	struct persecmon_vfs_event *ev;
	struct persecmon_record *rec;
	u8 name[PM_VFS_NAME_MAX];
	struct pm_emit em;
	bool cut;
	u16 len;

	if (!pm_emit_begin(&em, PERSECMON_GROUP_VFS))
		return;
	len = pm_vfs_dentry_name(dentry, name, &cut);
	while ((rec = pm_emit_reserve(&em, PERSECMON_EV_VFS,
				      sizeof(*ev) + len))) {
		ev = container_of(rec, struct persecmon_vfs_event, hdr);
		if (cut)
			rec->flags |= PERSECMON_RF_TRUNCATED;
		ev->latency_ns = latency_ns;
		ev->ret = ret;
		ev->count = count;
		ev->ino = inode ? inode->i_ino : 0;
		ev->dev = new_encode_dev(dev);
		ev->op = op;
		ev->name_len = len;
		memcpy(ev->comm, current->comm, sizeof(ev->comm));
		ev->comm[sizeof(ev->comm) - 1] = '\0';
		memcpy(ev->name, name, len);
		pm_emit_commit(&em, rec);
	}
	pm_emit_end(&em);
}

/* Like pm_vfs_dentry_name(), into a zeroed key field of @size bytes. */
static void pm_vfs_key_name(const struct dentry *dentry, char *buf,
			    size_t size)
{
	const unsigned char *name;
	size_t len = 0;

	rcu_read_lock();
	name = READ_ONCE(dentry->d_name.name);
	while (len < size - 1 && name[len]) {
		buf[len] = name[len];
		len++;
	}
	rcu_read_unlock();
}

static __always_inline void pm_vfs_top_add(atomic64_t *v, unsigned int col,
					   s64 ret)
{
	pm_aggmap_add(v, col, 1);
	if (ret > 0)
		pm_aggmap_add(v, col + PM_VFS_TOP_READ_BYTES, ret);
}

/*
 * The rows the last read or write on this CPU updated, and what they
 * were for. A process reading or writing one file in a loop (the common
 * case) then costs a few compares instead of two keys built and hashed.
 * The identity is what the keys are made of, held by pointer and number:
 * tgid and comm, the inode (pointer, number, device: a freed inode's
 * memory reused for another cannot match all three) and the dentry. A
 * rename of that dentry while cached keeps the old name's row until the
 * next miss. The rows are valid while both maps keep their generation.
 * Only kretprobe return handlers use it: preemption off, never nested.
 */
struct pm_vfs_top_cache {
	const struct inode *inode;
	const struct dentry *dentry;
	unsigned long ino;
	dev_t dev;
	u32 tgid;
	unsigned long gen_procs;
	unsigned long gen_files;
	char comm[TASK_COMM_LEN];
	atomic64_t *proc_row;
	atomic64_t *file_row;
};

static DEFINE_PER_CPU(struct pm_vfs_top_cache, pm_vfs_top_cache);

static bool pm_vfs_top_cached(const struct pm_vfs_top_cache *c,
			      const struct inode *inode,
			      const struct dentry *dentry,
			      unsigned long gen_procs,
			      unsigned long gen_files)
{
	return c->proc_row && c->inode == inode && c->dentry == dentry &&
	       c->ino == inode->i_ino && c->dev == inode->i_sb->s_dev &&
	       c->tgid == current->tgid && c->gen_procs == gen_procs &&
	       c->gen_files == gen_files && pm_comm_equal(c->comm, current->comm);
}

/*
 * A miss: build both keys and look the rows up. Out of line, so that the
 * common hit path carries neither the keys on its stack nor their
 * stack-protector check.
 */
static noinline void pm_vfs_top_fill(struct pm_vfs_top_cache *c,
				     const struct inode *inode,
				     const struct dentry *dentry,
				     unsigned long gen_procs,
				     unsigned long gen_files)
{
	struct pm_vfs_proc_key pk;
	struct pm_vfs_file_key fk;

	memset(&pk, 0, sizeof(pk));
	pk.tgid = current->tgid;
	strscpy(pk.comm, current->comm, sizeof(pk.comm));
	memset(&fk, 0, sizeof(fk));
	fk.ino = inode->i_ino;
	fk.tgid = pk.tgid;
	fk.dev = inode->i_sb->s_dev;
	fk.type = S_ISREG(inode->i_mode) ? 'R' :
		  S_ISSOCK(inode->i_mode) ? 'S' : 'O';
	pm_vfs_key_name(dentry, fk.name, sizeof(fk.name));
	c->proc_row = pm_aggmap_values(&pm_vfs_top_procs, &pk);
	c->file_row = pm_aggmap_values(&pm_vfs_top_files, &fk);
	c->inode = inode;
	c->dentry = dentry;
	c->ino = inode->i_ino;
	c->dev = inode->i_sb->s_dev;
	c->tgid = pk.tgid;
	c->gen_procs = gen_procs;
	c->gen_files = gen_files;
	memcpy(c->comm, current->comm, sizeof(c->comm));
}

/*
 * The top-N tables. A kretprobe handler runs with preemption disabled,
 * which is the RCU read-side section aggmap.h asks for, also for the
 * cached rows (taken under the same generations).
 */
static void pm_vfs_top_update(u8 op, const struct file *file,
			      const struct inode *inode, s64 ret)
{
	unsigned int col = op == PERSECMON_VFS_READ ? PM_VFS_TOP_READS :
						      PM_VFS_TOP_WRITES;
	unsigned long gen_procs = pm_aggmap_generation(&pm_vfs_top_procs);
	unsigned long gen_files = pm_aggmap_generation(&pm_vfs_top_files);
	const struct dentry *dentry = file->f_path.dentry;
	struct pm_vfs_top_cache *c = this_cpu_ptr(&pm_vfs_top_cache);

	BUILD_BUG_ON(PM_VFS_TOP_WRITE_BYTES - PM_VFS_TOP_WRITES !=
		     PM_VFS_TOP_READ_BYTES);
	if (!pm_vfs_top_cached(c, inode, dentry, gen_procs, gen_files))
		pm_vfs_top_fill(c, inode, dentry, gen_procs, gen_files);
	pm_vfs_top_add(c->proc_row, col, ret);
	pm_vfs_top_add(c->file_row, col, ret);
}

static int pm_vfs_rw_entry(struct kretprobe_instance *ri,
			   struct pt_regs *regs, u8 op)
{
	struct pm_vfs_call *call = (struct pm_vfs_call *)ri->data;

	pm_probe_hit(&pm_vfs_probes[op]);
	call->file = (struct file *)regs_get_kernel_argument(regs, 0);
	call->count = regs_get_kernel_argument(regs, 2);
	call->start_ns = ktime_get_mono_fast_ns();
	return 0;
}

static int pm_vfs_rw_return(struct kretprobe_instance *ri,
			    struct pt_regs *regs, u8 op)
{
	const struct pm_vfs_call *call = (const struct pm_vfs_call *)ri->data;
	u64 latency_ns = ktime_get_mono_fast_ns() - call->start_ns;
	s64 ret = (s64)regs_return_value(regs);
	const struct inode *inode = file_inode(call->file);

	if (pm_global_counts_current()) {
		pm_agg_add(&pm_vfs_stat, op == PERSECMON_VFS_READ ?
			   PM_VFS_STAT_READ : PM_VFS_STAT_WRITE, 1);
		if (ret > 0)
			pm_agg_add(&pm_vfs_stat, op == PERSECMON_VFS_READ ?
				   PM_VFS_STAT_READ_BYTES :
				   PM_VFS_STAT_WRITE_BYTES, ret);
		pm_agg_hist_add(&pm_vfs_latency[op], latency_ns);
		pm_vfs_top_update(op, call->file, inode, ret);
	}
	/* Tested before the call: aggregate-only is the common case. */
	if (pm_session_group_on(PERSECMON_GROUP_VFS))
		pm_vfs_emit(op, call->file->f_path.dentry, inode,
			    inode->i_sb->s_dev, latency_ns, ret, call->count);
	return 0;
}

static int pm_vfs_read_entry(struct kretprobe_instance *ri,
			     struct pt_regs *regs)
{
	return pm_vfs_rw_entry(ri, regs, PERSECMON_VFS_READ);
}

static int pm_vfs_read_return(struct kretprobe_instance *ri,
			      struct pt_regs *regs)
{
	return pm_vfs_rw_return(ri, regs, PERSECMON_VFS_READ);
}

static int pm_vfs_write_entry(struct kretprobe_instance *ri,
			      struct pt_regs *regs)
{
	return pm_vfs_rw_entry(ri, regs, PERSECMON_VFS_WRITE);
}

static int pm_vfs_write_return(struct kretprobe_instance *ri,
			       struct pt_regs *regs)
{
	return pm_vfs_rw_return(ri, regs, PERSECMON_VFS_WRITE);
}

/* vfs_open(const struct path *path, struct file *file) */
static int pm_vfs_open_pre(struct kprobe *kp, struct pt_regs *regs)
{
	const struct path *path;
	const struct inode *inode;

	pm_probe_hit(&pm_vfs_probes[PERSECMON_VFS_OPEN]);
	if (pm_global_counts_current())
		pm_agg_add(&pm_vfs_stat, PM_VFS_STAT_OPEN, 1);
	path = (const struct path *)regs_get_kernel_argument(regs, 0);
	inode = d_inode(path->dentry);
	pm_vfs_emit(PERSECMON_VFS_OPEN, path->dentry, inode,
		    inode ? inode->i_sb->s_dev : path->mnt->mnt_sb->s_dev,
		    0, 0, 0);
	return 0;
}

static void pm_vfs_setup_rp(struct kretprobe *rp, const char *symbol,
			    kretprobe_handler_t entry,
			    kretprobe_handler_t handler)
{
	/* A probe is reusable only with addr and flags reset. */
	memset(rp, 0, sizeof(*rp));
	rp->kp.symbol_name = symbol;
	rp->entry_handler = entry;
	rp->handler = handler;
	rp->data_size = sizeof(struct pm_vfs_call);
	rp->maxactive = PM_VFS_MAXACTIVE;
}

static void pm_vfs_set_state(struct pm_probe *probe, bool attached, int err)
{
	WRITE_ONCE(probe->attached, attached);
	WRITE_ONCE(probe->error, err);
}

static int pm_vfs_attach(void)
{
	struct pm_probe *p = pm_vfs_probes;
	int ret;

	pm_vfs_setup_rp(&pm_vfs_read_rp, "vfs_read", pm_vfs_read_entry,
			pm_vfs_read_return);
	pm_vfs_setup_rp(&pm_vfs_write_rp, "vfs_write", pm_vfs_write_entry,
			pm_vfs_write_return);
	memset(&pm_vfs_open_kp, 0, sizeof(pm_vfs_open_kp));
	pm_vfs_open_kp.symbol_name = "vfs_open";
	pm_vfs_open_kp.pre_handler = pm_vfs_open_pre;

	ret = register_kretprobe(&pm_vfs_read_rp);
	pm_vfs_set_state(&p[PERSECMON_VFS_READ], !ret, ret);
	if (ret)
		return ret;
	ret = register_kretprobe(&pm_vfs_write_rp);
	pm_vfs_set_state(&p[PERSECMON_VFS_WRITE], !ret, ret);
	if (ret)
		goto err_write;
	ret = register_kprobe(&pm_vfs_open_kp);
	pm_vfs_set_state(&p[PERSECMON_VFS_OPEN], !ret, ret);
	if (ret)
		goto err_open;
	return 0;

err_open:
	unregister_kretprobe(&pm_vfs_write_rp);
	pm_vfs_set_state(&p[PERSECMON_VFS_WRITE], false, 0);
err_write:
	unregister_kretprobe(&pm_vfs_read_rp);
	pm_vfs_set_state(&p[PERSECMON_VFS_READ], false, 0);
	return ret;
}

static void pm_vfs_detach(void)
{
	struct kretprobe *rps[] = { &pm_vfs_read_rp, &pm_vfs_write_rp };
	unsigned int i;

	/* One grace period for all: in-flight instances are disarmed. */
	unregister_kprobe(&pm_vfs_open_kp);
	unregister_kretprobes(rps, ARRAY_SIZE(rps));
	for (i = 0; i < ARRAY_SIZE(pm_vfs_probes); i++)
		pm_vfs_set_state(&pm_vfs_probes[i], false, 0);
}

/* Aggregate tables */

static int pm_vfs_stat_rows(pm_agg_emit_fn emit, void *ctx)
{
	u64 values[PM_VFS_STAT_NR];

	pm_agg_counters_sum(&pm_vfs_stat, values);
	return emit(ctx, "all", values, ARRAY_SIZE(values));
}

static void pm_vfs_stat_reset(void)
{
	pm_agg_counters_reset(&pm_vfs_stat);
}

static int pm_vfs_latency_rows(pm_agg_emit_fn emit, void *ctx)
{
	static const char * const keys[] = { "op=read", "op=write" };
	u64 slots[PM_AGG_HIST_SLOTS];
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(pm_vfs_latency); i++) {
		pm_agg_counters_sum(&pm_vfs_latency[i], slots);
		ret = emit(ctx, keys[i], slots, ARRAY_SIZE(slots));
		if (ret)
			return ret;
	}
	return 0;
}

static void pm_vfs_latency_reset(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(pm_vfs_latency); i++)
		pm_agg_counters_reset(&pm_vfs_latency[i]);
}

static struct pm_agg_table pm_vfs_stat_table = {
	.name = "vfsstat",
	.columns = "read,write,open,read_bytes,write_bytes",
	.rows = pm_vfs_stat_rows,
	.reset = pm_vfs_stat_reset,
};

static struct pm_agg_table pm_vfs_latency_table = {
	.name = "vfs_latency",
	.columns = "log2:ns",
	.rows = pm_vfs_latency_rows,
	.reset = pm_vfs_latency_reset,
};

static const struct pm_group pm_vfs_group = {
	.name = "vfs",
	.attach = pm_vfs_attach,
	.detach = pm_vfs_detach,
};

static void pm_vfs_free(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(pm_vfs_latency); i++)
		pm_agg_counters_free(&pm_vfs_latency[i]);
	pm_agg_counters_free(&pm_vfs_stat);
}

static void pm_vfs_unregister_probes(unsigned int n)
{
	while (n--)
		pm_probe_unregister(&pm_vfs_probes[n]);
}

int pm_vfs_init(void)
{
	unsigned int i, probes = 0;
	int ret;

	ret = pm_agg_counters_alloc(&pm_vfs_stat, PM_VFS_STAT_NR);
	for (i = 0; !ret && i < ARRAY_SIZE(pm_vfs_latency); i++)
		ret = pm_agg_hist_alloc(&pm_vfs_latency[i]);
	if (ret)
		goto err_free;
	for (; probes < ARRAY_SIZE(pm_vfs_probes); probes++) {
		ret = pm_probe_register(&pm_vfs_probes[probes]);
		if (ret)
			goto err_probes;
	}
	ret = pm_agg_table_register(&pm_vfs_stat_table);
	if (ret)
		goto err_probes;
	ret = pm_agg_table_register(&pm_vfs_latency_table);
	if (ret)
		goto err_stat_table;
	ret = pm_aggmap_init(&pm_vfs_top_procs, &pm_vfs_top_procs_info);
	if (ret)
		goto err_latency_table;
	ret = pm_aggmap_init(&pm_vfs_top_files, &pm_vfs_top_files_info);
	if (ret)
		goto err_top_procs;
	ret = pm_group_register(PERSECMON_GROUP_VFS, &pm_vfs_group);
	if (ret)
		goto err_top_files;
	return 0;

err_top_files:
	pm_aggmap_destroy(&pm_vfs_top_files);
err_top_procs:
	pm_aggmap_destroy(&pm_vfs_top_procs);
err_latency_table:
	pm_agg_table_unregister(&pm_vfs_latency_table);
err_stat_table:
	pm_agg_table_unregister(&pm_vfs_stat_table);
err_probes:
	pm_vfs_unregister_probes(probes);
err_free:
	pm_vfs_free();
	return ret;
}

void pm_vfs_exit(void)
{
	pm_group_unregister(PERSECMON_GROUP_VFS);
	pm_aggmap_destroy(&pm_vfs_top_files);
	pm_aggmap_destroy(&pm_vfs_top_procs);
	pm_agg_table_unregister(&pm_vfs_latency_table);
	pm_agg_table_unregister(&pm_vfs_stat_table);
	pm_vfs_unregister_probes(ARRAY_SIZE(pm_vfs_probes));
	pm_vfs_free();
}
