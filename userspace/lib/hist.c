// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "persecmon/hist.h"

unsigned int pm_log2_slot(uint64_t v)
{
	return v < 2 ? 0 : 63 - (unsigned int)__builtin_clzll(v);
}

uint64_t pm_log2_slot_low(unsigned int slot)
{
	return slot == 0 ? 0 : 1ULL << slot;
}

uint64_t pm_log2_slot_high(unsigned int slot)
{
	return slot >= 63 ? UINT64_MAX : (2ULL << slot) - 1;
}

static int digits(uint64_t v)
{
	char buf[24];

	return snprintf(buf, sizeof(buf), "%" PRIu64, v);
}

void pm_hist_log2_print(struct pm_out *o, const char *key, const char *unit,
			const uint64_t *slots, unsigned int n)
{
	char bar[PM_HIST_BAR_WIDTH + 1];
	uint64_t max = 0;
	unsigned int i, rows = 0;
	int lw, hw, cw = 8;

	if (n > PM_HIST_SLOTS)
		n = PM_HIST_SLOTS;
	for (i = 0; i < n; i++) {
		if (slots[i])
			rows = i + 1;
		if (slots[i] > max)
			max = slots[i];
	}

	if (pm_out_is_json(o)) {
		pm_out_object_begin(o, key);
		pm_out_kv_str(o, "unit", unit);
		pm_out_list_begin(o, "buckets", NULL);
		for (i = 0; i < rows; i++) {
			pm_out_line_begin(o);
			pm_out_kv_u64(o, "low", pm_log2_slot_low(i));
			pm_out_kv_u64(o, "high", pm_log2_slot_high(i));
			pm_out_kv_u64(o, "count", slots[i]);
			pm_out_line_end(o);
		}
		pm_out_list_end(o);
		pm_out_object_end(o);
		return;
	}

	/* Column widths follow the widest row, with bcc's minimum of 10. */
	lw = rows ? digits(pm_log2_slot_low(rows - 1)) : 1;
	hw = rows ? digits(pm_log2_slot_high(rows - 1)) : 1;
	if (lw < 10)
		lw = 10;
	if (hw < 10)
		hw = 10;
	if (max && digits(max) > cw)
		cw = digits(max);
	/* The unit label starts five columns left of the low bound's end. */
	pm_out_text(o, "%*s%-*s : %-*s distribution\n", lw - 5, "", hw + 9,
		    unit, cw, "count");
	for (i = 0; i < rows; i++) {
		unsigned int stars = 0;

		if (slots[i]) {
			/* Double keeps count * width from overflowing. */
			stars = (unsigned int)((double)slots[i] *
					       PM_HIST_BAR_WIDTH / (double)max);
			if (stars == 0)
				stars = 1;
		}
		memset(bar, '*', stars);
		memset(bar + stars, ' ', PM_HIST_BAR_WIDTH - stars);
		bar[PM_HIST_BAR_WIDTH] = '\0';
		pm_out_text(o, "%*" PRIu64 " -> %-*" PRIu64 " : %-*" PRIu64 " |%s|\n",
			    lw, pm_log2_slot_low(i), hw, pm_log2_slot_high(i),
			    cw, slots[i], bar);
	}
}
