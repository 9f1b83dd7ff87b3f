/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Latency statistics by key (host name, process, ...): count, failures
 * and exact percentiles over every sample seen, for a tool's summary.
 *
 * Samples are kept, not bucketed: a summary's p99 is the value of a real
 * call (nearest rank), which log2 histograms can only bound to a power of
 * two. Memory grows with the number of samples (8 bytes each).
 */
#ifndef PERSECMON_LATSTAT_H
#define PERSECMON_LATSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pm_latstat_entry;

struct pm_latstat {
	struct pm_latstat_entry **slots;	/* open addressing */
	size_t nr_slots;	/* a power of two, or 0 */
	size_t nr;		/* keys */
};

/* One key's summary, as pm_latstat_rows() returns it. */
struct pm_latstat_row {
	const char *key;	/* owned by the pm_latstat */
	uint64_t count;
	uint64_t failed;
	uint64_t p50_ns;
	uint64_t p99_ns;
	uint64_t max_ns;
	uint64_t total_ns;
};

void pm_latstat_init(struct pm_latstat *st);
void pm_latstat_free(struct pm_latstat *st);

/* Adds one sample of @key. 0, or -ENOMEM (the sample is not counted). */
int pm_latstat_add(struct pm_latstat *st, const char *key,
		   uint64_t latency_ns, bool failed);

/*
 * Every key's summary, sorted by count (most first), then key, in a new
 * array of *@nr rows for the caller to free(). The percentiles are
 * nearest-rank: the smallest sample with at least p% of the samples at
 * or below it. NULL with *@nr 0 when there are none or on no memory.
 */
struct pm_latstat_row *pm_latstat_rows(struct pm_latstat *st, size_t *nr);

/* The nearest-rank @pct percentile (0 < @pct <= 100) of @n sorted values. */
uint64_t pm_percentile_sorted(const uint64_t *sorted, size_t n, double pct);

#endif /* PERSECMON_LATSTAT_H */
