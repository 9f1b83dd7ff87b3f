/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A session on /dev/persecmon: open, check the ABI, map every possible
 * CPU's control page (rw) and data area (ro), and read rounds of merged
 * records (consume.h). Closing the reader ends the session.
 */
#ifndef PERSECMON_READER_H
#define PERSECMON_READER_H

#include <stdint.h>

#include <linux/persecmon.h>

#include "persecmon/consume.h"
#include "persecmon/error.h"

/* nr_cpu_ids the ABI can describe: bits in info.possible_cpus. */
#define PM_MAX_CPUS	(int)(sizeof(((struct persecmon_info *)0)->possible_cpus) * 8)

struct pm_reader {
	int fd;
	struct persecmon_info info;
	unsigned int nr_rings;		/* possible CPUs, ascending ids */
	unsigned int nr_alloc;		/* entries in the arrays below */
	struct pm_ring_view *rings;
	void **ctrl_maps;
	void **data_maps;
	struct pm_merge merge;
};

/*
 * Open @path (NULL: PERSECMON_DEVICE_PATH). Errors are classified:
 * PM_ERR_NO_MODULE (no device), PM_ERR_PERMISSION, PM_ERR_ABI (other
 * major, unknown ioctl, inconsistent layout), PM_ERR_RUNTIME.
 */
int pm_reader_open(struct pm_reader **out, const char *path,
		   struct pm_error *err);
void pm_reader_close(struct pm_reader *r);

/* Check an info block as returned by PERSECMON_IOC_INFO. */
int pm_info_check(const struct persecmon_info *info, long page_size,
		  struct pm_error *err);
static inline int pm_info_cpu_possible(const struct persecmon_info *info,
				       unsigned int cpu)
{
	return cpu < info->nr_cpu_ids &&
	       (info->possible_cpus[cpu / 64] >> (cpu % 64)) & 1;
}

/*
 * Wait up to @timeout_ms (-1: forever) for data. Returns 1 when the device
 * reports data, 0 on timeout or signal, negative errno on failure.
 */
int pm_reader_wait(struct pm_reader *r, int timeout_ms, struct pm_error *err);

/* One merged round (pm_merge_round) over all CPUs. */
long pm_reader_round(struct pm_reader *r, const struct pm_consume_ops *ops,
		     void *ctx);

/*
 * At the stop: rounds until one finds nothing (at most
 * PM_READER_DRAIN_ROUNDS, in case writers keep up), so that what the kernel
 * had written when the reader was told to stop is read, not left behind.
 * Returns the records handed out, or a negative value from @ops.
 */
#define PM_READER_DRAIN_ROUNDS	64
long pm_reader_drain(struct pm_reader *r, const struct pm_consume_ops *ops,
		     void *ctx);

/* PERSECMON_IOC_STATS for @cpu. */
int pm_reader_cpu_stats(struct pm_reader *r, unsigned int cpu,
			struct persecmon_cpu_stats *st, struct pm_error *err);

#endif /* PERSECMON_READER_H */
