/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The "test" probe group: synthetic PERSECMON_EV_TEST events, produced on
 * demand (PERSECMON_CMD_TRIGGER) in task, softirq, hardirq and NMI-like
 * context on every online CPU, so that tests can check the data path
 * end to end, nesting and overflow included.
 */
#ifndef PERSECMON_PROBES_TEST_H
#define PERSECMON_PROBES_TEST_H

#include <linux/bits.h>
#include <linux/types.h>

#include "compat/compat.h"

struct netlink_ext_ack;

/* Largest PERSECMON_A_TRIGGER_COUNT. */
#define PM_TEST_COUNT_MAX	BIT(20)
/* Largest PERSECMON_A_TRIGGER_FILL: the event stays a valid record. */
#define PM_TEST_FILL_MAX	(PERSECMON_RECORD_MAX - \
				 sizeof(struct persecmon_test_event))
/* Every context of enum persecmon_context. */
#define PM_TEST_CONTEXTS_ALL	(BIT(PERSECMON_CTX_MAX + 1) - 1)

struct pm_test_trigger_args {
	u64 run_id;
	u32 count;	/* events per context per online CPU */
	u32 contexts;	/* mask of 1 << enum persecmon_context */
	u32 fill;	/* fill bytes per event */
};

/*
 * Emits the events and returns once every one of them has been written
 * (or dropped). -ENODATA if the test group is attached for nobody.
 */
int pm_test_trigger(const struct pm_test_trigger_args *args,
		    struct netlink_ext_ack *extack);

int pm_test_init(void);
void pm_test_exit(void);

#endif /* PERSECMON_PROBES_TEST_H */
