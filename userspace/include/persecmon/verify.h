/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stream verifier behind `persecmon-read --verify`.
 *
 * Checks, per CPU buffer:
 *  - every record claims the CPU whose buffer holds it;
 *  - sequence accounting: records seen + drops announced by LOST records
 *    equals the span of sequence numbers seen (32-bit wrap handled), with
 *    no sequence number seen twice; a shortfall is tolerated only up to the
 *    drops the kernel still has pending (not yet announced) at the end;
 *  - LOST.total_lost equals the running sum of LOST.lost;
 * and for PERSECMON_EV_TEST records:
 *  - integrity (context, check, fill pattern, zero padding);
 *  - per (run_id, context, cpu), indices only move forward; skipped
 *    indices on a CPU never exceed the drops announced there by LOST
 *    records whose type mask includes the test type, plus the drops the
 *    kernel has not announced yet (a CPU that writes nothing after a drop
 *    has no record to put the LOST in front of) and the corrupt test
 *    events there (reported once, as corrupt); with an expected count,
 *    no index reaches it and missing tails count as skipped.
 * Nested writers may commit a record one place out of seq order; the
 * accounting is exact regardless of order, and a record more than 63
 * places behind the newest is reported.
 */
#ifndef PERSECMON_VERIFY_H
#define PERSECMON_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/persecmon.h>

struct pm_verify_cpu {
	bool seen;
	bool first_was_lost;
	uint64_t min_u;		/* unwrapped seq range seen */
	uint64_t max_u;
	uint64_t window;	/* bit k set: seq max_u - k was seen */
	uint64_t lost_before_first;
	uint64_t records;	/* records with a seq (all but PAD) */
	uint64_t lost;		/* sum of LOST.lost */
	uint64_t lost_with_test;/* sum of LOST.lost whose mask has the test type */
	uint64_t test_missing;	/* test indices skipped on this CPU */
	uint64_t test_corrupt;	/* corrupt test events (already reported) */
	int64_t deficit;	/* after pm_verifier_finish() */
};

struct pm_test_track {
	uint64_t run_id;
	uint16_t cpu;
	uint8_t context;
	uint8_t used;
	uint32_t next_index;
};

typedef void (*pm_verify_report_fn)(void *ctx, const char *msg);

struct pm_verifier {
	unsigned int nr_cpus;		/* entries in cpu[], indexed by CPU id */
	struct pm_verify_cpu *cpu;
	struct pm_test_track *tracks;
	size_t nr_tracks, cap_tracks;
	uint32_t expect_count;		/* 0: unknown */
	uint64_t test_events;
	uint64_t test_intact;
	uint64_t violations;
	pm_verify_report_fn report;
	void *report_ctx;
};

int pm_verifier_init(struct pm_verifier *v, unsigned int nr_cpus,
		     uint32_t expect_count, pm_verify_report_fn report,
		     void *report_ctx);
void pm_verifier_free(struct pm_verifier *v);

/* Feed every record (PAD excluded) of the buffer of CPU @ring_cpu. */
void pm_verifier_record(struct pm_verifier *v, unsigned int ring_cpu,
			const struct persecmon_record *rec);

/* Count (and report) a violation found outside the record stream. */
void pm_verifier_violation(struct pm_verifier *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Final checks. @pending[cpu] (NULL: all 0) is the kernel's count of drops
 * not yet announced (stats.dropped - stats.lost_reported) after the last
 * read. Returns the total number of violations.
 */
uint64_t pm_verifier_finish(struct pm_verifier *v, const uint64_t *pending);

#endif /* PERSECMON_VERIFY_H */
