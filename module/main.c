// SPDX-License-Identifier: GPL-2.0
/*
 * persecmon.ko: init and exit only. Each part comes up after the parts it
 * uses and goes down in exactly the reverse order; docs/module.md explains
 * the order.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/module.h>

#include "core/filter.h"
#include "core/groups.h"
#include "core/session.h"
#include "iface/chardev.h"
#include "iface/debugfs.h"
#include "iface/genl.h"
#include "probes/block.h"
#include "probes/dns.h"
#include "probes/kmemleak.h"
#include "probes/memleak.h"
#include "probes/net.h"
#include "probes/proc.h"
#include "probes/files.h"
#include "probes/test.h"
#include "probes/vfs.h"

static int __init pm_init(void)
{
	int ret;

	ret = pm_session_init();
	if (ret)
		goto err_session;
	ret = pm_test_init();
	if (ret)
		goto err_test;
	ret = pm_vfs_init();
	if (ret)
		goto err_vfs;
	ret = pm_files_init();
	if (ret)
		goto err_files;
	ret = pm_proc_init();
	if (ret)
		goto err_proc;
	ret = pm_block_init();
	if (ret)
		goto err_block;
	ret = pm_net_init();
	if (ret)
		goto err_net;
	ret = pm_dns_init();
	if (ret)
		goto err_dns;
	ret = pm_memleak_init();
	if (ret)
		goto err_memleak;
	ret = pm_kmemleak_init();
	if (ret)
		goto err_kmemleak;
	ret = pm_groups_init();
	if (ret)
		goto err_groups;
	pm_debugfs_init();
	ret = pm_genl_init();
	if (ret)
		goto err_genl;
	ret = pm_chardev_init();
	if (ret)
		goto err_chardev;

	pr_info("version %s (ABI %u.%u) loaded\n", PERSECMON_VERSION,
		PERSECMON_ABI_MAJOR, PERSECMON_ABI_MINOR);
	return 0;

err_chardev:
	pm_genl_exit();
err_genl:
	pm_debugfs_exit();
	pm_groups_exit();
err_groups:
	pm_kmemleak_exit();
err_kmemleak:
	pm_memleak_exit();
err_memleak:
	pm_dns_exit();
err_dns:
	pm_net_exit();
err_net:
	pm_block_exit();
err_block:
	pm_proc_exit();
err_proc:
	pm_files_exit();
err_files:
	pm_vfs_exit();
err_vfs:
	pm_test_exit();
err_test:
	pm_session_exit();
	pm_global_filter_exit();
err_session:
	return ret;
}

static void __exit pm_exit(void)
{
	pm_chardev_exit();
	pm_genl_exit();
	pm_debugfs_exit();
	pm_groups_exit();
	pm_kmemleak_exit();
	pm_memleak_exit();
	pm_dns_exit();
	pm_net_exit();
	pm_block_exit();
	pm_proc_exit();
	pm_files_exit();
	pm_vfs_exit();
	pm_test_exit();
	pm_session_exit();
	pm_global_filter_exit();
}

module_init(pm_init);
module_exit(pm_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("PerSecMon: low-overhead performance and security monitoring");
MODULE_VERSION(PERSECMON_VERSION);
