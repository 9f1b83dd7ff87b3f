// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/persecmon. Each open file is a session (core/session.c); this file
 * only translates between the file operations and the session.
 *
 * It is a misc device: the misc core creates the node with our mode (0600)
 * and needs neither class_create() nor a devnode callback, both of which
 * changed between 6.1 and 6.12.
 *
 * Lifetime: fops.owner is THIS_MODULE, so the open() path takes a module
 * reference that the file keeps until its last close, and every mapping
 * holds the file. rmmod therefore fails ("in use") while any reader has
 * the device open or mapped, and a blocked reader can never outlive the
 * module.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/compat.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "compat/compat.h"
#include "core/session.h"
#include "iface/chardev.h"

static int pm_open(struct inode *inode, struct file *file)
{
	struct pm_session *s;

	/* The records carry kernel data of every process on the host. */
	if (!perfmon_capable())
		return -EPERM;
	stream_open(inode, file);
	/* Replaces the misc core's pointer to our struct miscdevice. */
	s = pm_session_open();
	if (IS_ERR(s))
		return PTR_ERR(s);
	file->private_data = s;
	return 0;
}

static int pm_release(struct inode *inode, struct file *file)
{
	pm_session_close(file->private_data);
	return 0;
}

struct pm_read_ctx {
	char __user *buf;
	size_t len;
	size_t copied;
	bool too_small;	/* a record did not fit although nothing was copied */
	int err;
};

/*
 * Runs in process context under the session's consume lock; the record
 * lives in vmalloc memory, so a fault on the user buffer is harmless.
 */
static int pm_read_record(void *arg, const struct persecmon_record *rec)
{
	struct pm_read_ctx *ctx = arg;

	if (ctx->err)
		return 1;
	if (rec->size > ctx->len - ctx->copied) {
		if (!ctx->copied)
			ctx->too_small = true;
		return 1;
	}
	if (copy_to_user(ctx->buf + ctx->copied, rec, rec->size)) {
		ctx->err = -EFAULT;
		return 1;
	}
	ctx->copied += rec->size;
	return 0;
}

/*
 * Whole records only, from every CPU. A record that does not fit stays for
 * the next read; if nothing fits at all, EINVAL.
 */
static ssize_t pm_read(struct file *file, char __user *buf, size_t len,
		       loff_t *ppos)
{
	struct pm_session *s = file->private_data;
	struct pm_read_ctx ctx;
	ssize_t ret;

	for (;;) {
		ctx = (struct pm_read_ctx){ .buf = buf, .len = len };
		ret = pm_session_consume(s, pm_read_record, &ctx);
		if (ret < 0)
			return ret;
		if (ctx.copied)
			return ctx.copied;
		if (ctx.err)
			return ctx.err;
		if (ctx.too_small)
			return -EINVAL;
		if (file->f_flags & O_NONBLOCK)
			return -EAGAIN;
		ret = pm_session_wait(s);
		if (ret)
			return ret;
	}
}

static __poll_t pm_poll(struct file *file, poll_table *wait)
{
	return pm_session_poll(file->private_data, file, wait);
}

/*
 * Per CPU c: the control page at c * stride (read/write, one page) and the
 * data area at c * stride + PAGE_SIZE (read-only, exactly data_size bytes).
 * Shared mappings only: the consumer's tail must reach the kernel. The
 * areas are fixed for the session's life, so no lock is needed here (and
 * none may be: mmap_lock is held).
 */
static int pm_mmap(struct file *file, struct vm_area_struct *vma)
{
	unsigned long stride_pages = pm_session_mmap_stride() >> PAGE_SHIFT;
	unsigned long len = vma->vm_end - vma->vm_start;
	unsigned long cpu = vma->vm_pgoff / stride_pages;
	unsigned long page = vma->vm_pgoff % stride_pages;

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (cpu >= nr_cpu_ids || !cpu_possible(cpu))
		return -EINVAL;
	if (page == 0) {
		if (len != PAGE_SIZE)
			return -EINVAL;
	} else if (page == 1) {
		if (len != pm_session_data_size())
			return -EINVAL;
		if (vma->vm_flags & VM_WRITE)
			return -EPERM;
		pm_vm_flags_clear(vma, VM_MAYWRITE);
	} else {
		return -EINVAL;
	}
	/* A forked child would map buffers of a session it cannot drive. */
	pm_vm_flags_set(vma, VM_DONTCOPY);
	return remap_vmalloc_range(vma, pm_session_cpu_area(file->private_data,
							    cpu), page);
}

static long pm_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct pm_session *s = file->private_data;
	void __user *uarg = (void __user *)arg;
	struct persecmon_cpu_stats stats;
	struct persecmon_info info;
	int ret;

	switch (cmd) {
	case PERSECMON_IOC_INFO:
		pm_session_info(s, &info);
		if (copy_to_user(uarg, &info, sizeof(info)))
			return -EFAULT;
		return 0;
	case PERSECMON_IOC_STATS:
		if (copy_from_user(&stats, uarg, sizeof(stats)))
			return -EFAULT;
		ret = pm_session_cpu_stats(s, &stats);
		if (ret)
			return ret;
		if (copy_to_user(uarg, &stats, sizeof(stats)))
			return -EFAULT;
		return 0;
	default:
		return -ENOTTY;
	}
}

static const struct file_operations pm_fops = {
	.owner = THIS_MODULE,
	.open = pm_open,
	.release = pm_release,
	.read = pm_read,
	.poll = pm_poll,
	.mmap = pm_mmap,
	.unlocked_ioctl = pm_ioctl,
	/* Both structures have the same layout for 32-bit callers. */
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

/* Root only: the buffers expose kernel addresses and other users' data. */
static struct miscdevice pm_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = PERSECMON_DEVICE_NAME,
	.fops = &pm_fops,
	.mode = 0600,
};

int pm_chardev_init(void)
{
	return misc_register(&pm_misc);
}

void pm_chardev_exit(void)
{
	misc_deregister(&pm_misc);
}
