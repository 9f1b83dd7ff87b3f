/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Power-of-two histograms, printed the way bcc tools print them:
 *
 *      usecs               : count    distribution
 *          0 -> 1          : 3        |**                                      |
 *          2 -> 3          : 57       |****************************************|
 *
 * Slot 0 holds 0 and 1; slot i > 0 holds [2^i, 2^(i+1) - 1]. Rows run from
 * slot 0 to the last non-empty slot. Bars are scaled to the largest count
 * (40 characters); a non-empty slot always shows at least one '*' so that
 * rare values stay visible. JSON: {"unit": U, "buckets": [{"low": L,
 * "high": H, "count": C}, ...]} over the same slots.
 */
#ifndef PERSECMON_HIST_H
#define PERSECMON_HIST_H

#include <stdint.h>

#include "persecmon/output.h"

#define PM_HIST_SLOTS		64
#define PM_HIST_BAR_WIDTH	40

/* Slot of @v. */
unsigned int pm_log2_slot(uint64_t v);
uint64_t pm_log2_slot_low(unsigned int slot);
uint64_t pm_log2_slot_high(unsigned int slot);

/*
 * Print @slots[0..n) (n <= PM_HIST_SLOTS). In JSON the histogram is the
 * member @key of the current object. An all-zero histogram prints only the
 * header in text and an empty bucket list in JSON.
 */
void pm_hist_log2_print(struct pm_out *o, const char *key, const char *unit,
			const uint64_t *slots, unsigned int n);

#endif /* PERSECMON_HIST_H */
