/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one kernel-version difference the floor module meets: the uprobe
 * registration API (kernel-api-notes §1). 6.1 registers by inode and
 * offset and unregisters synchronously; 6.12 returns a struct uprobe
 * handle, unregisters without waiting and needs one
 * uprobe_unregister_sync() before the consumers may be freed. Kbuild
 * tests for the 6.12 API in the kernel's uprobes.h and defines
 * FLOOR_HAVE_UPROBE_NOSYNC (no macro in the header itself tells them
 * apart).
 *
 * The handler prototypes are the same in 6.1 and 6.12; 6.13 adds a
 * __u64 *data argument, which makes this module fail to build there (an
 * incompatible-pointer-types error) rather than misbehave.
 */
#ifndef PERSECMON_FLOOR_COMPAT_H
#define PERSECMON_FLOOR_COMPAT_H

#include <linux/uprobes.h>
#include <linux/err.h>

#ifdef FLOOR_HAVE_UPROBE_NOSYNC

struct floor_uprobe_handle {
	struct uprobe *uprobe;
};

static inline int floor_uprobe_register(struct floor_uprobe_handle *h,
					struct inode *inode, loff_t offset,
					struct uprobe_consumer *uc)
{
	struct uprobe *uprobe = uprobe_register(inode, offset, 0, uc);

	/* On failure 6.12 has already unregistered and synced itself. */
	if (IS_ERR(uprobe))
		return PTR_ERR(uprobe);
	h->uprobe = uprobe;
	return 0;
}

/* Handlers may still run until floor_uprobe_unregister_sync() returns. */
static inline void floor_uprobe_unregister_nosync(struct floor_uprobe_handle *h,
						  struct uprobe_consumer *uc)
{
	uprobe_unregister_nosync(h->uprobe, uc);
}

static inline void floor_uprobe_unregister_sync(void)
{
	uprobe_unregister_sync();
}

#else

struct floor_uprobe_handle {
	struct inode *inode;
	loff_t offset;
};

static inline int floor_uprobe_register(struct floor_uprobe_handle *h,
					struct inode *inode, loff_t offset,
					struct uprobe_consumer *uc)
{
	int ret = uprobe_register(inode, offset, uc);

	if (ret)
		return ret;
	h->inode = inode;
	h->offset = offset;
	return 0;
}

/* 6.1's uprobe_unregister() waits for running handlers itself. */
static inline void floor_uprobe_unregister_nosync(struct floor_uprobe_handle *h,
						  struct uprobe_consumer *uc)
{
	uprobe_unregister(h->inode, h->offset, uc);
}

static inline void floor_uprobe_unregister_sync(void)
{
}

#endif

#endif /* PERSECMON_FLOOR_COMPAT_H */
