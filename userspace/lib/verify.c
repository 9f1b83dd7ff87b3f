// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "persecmon/decode.h"
#include "persecmon/names.h"
#include "persecmon/verify.h"

/* Unwrapped seqs start here so a reordered record can sit below the first. */
#define SEQ_BIAS	(1ULL << 32)
#define WINDOW_BITS	64

int pm_verifier_init(struct pm_verifier *v, unsigned int nr_cpus,
		     uint32_t expect_count, pm_verify_report_fn report,
		     void *report_ctx)
{
	memset(v, 0, sizeof(*v));
	v->cpu = calloc(nr_cpus ? nr_cpus : 1, sizeof(*v->cpu));
	if (!v->cpu)
		return -ENOMEM;
	v->nr_cpus = nr_cpus;
	v->expect_count = expect_count;
	v->report = report;
	v->report_ctx = report_ctx;
	return 0;
}

void pm_verifier_free(struct pm_verifier *v)
{
	free(v->cpu);
	free(v->tracks);
	memset(v, 0, sizeof(*v));
}

static void vviolation(struct pm_verifier *v, const char *fmt, va_list ap)
{
	char msg[256];

	v->violations++;
	if (!v->report)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	v->report(v->report_ctx, msg);
}

void pm_verifier_violation(struct pm_verifier *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vviolation(v, fmt, ap);
	va_end(ap);
}

#define violation pm_verifier_violation

static void account_seq(struct pm_verifier *v, struct pm_verify_cpu *c,
			unsigned int cpu, uint32_t seq)
{
	uint64_t u, k;

	if (!c->seen) {
		c->seen = true;
		c->min_u = c->max_u = SEQ_BIAS + seq;
		c->window = 1;
		c->records = 1;
		return;
	}
	u = c->max_u + (int64_t)(int32_t)(seq - (uint32_t)c->max_u);
	c->records++;
	if (u < c->min_u)
		c->min_u = u;
	if (u > c->max_u) {
		k = u - c->max_u;
		c->window = k >= WINDOW_BITS ? 0 : c->window << k;
		c->window |= 1;
		c->max_u = u;
		return;
	}
	k = c->max_u - u;
	if (k >= WINDOW_BITS) {
		violation(v, "cpu %u: seq %u arrived %" PRIu64 " places behind seq %u",
			  cpu, seq, k, (uint32_t)c->max_u);
		return;
	}
	if (c->window & (1ULL << k)) {
		violation(v, "cpu %u: seq %u seen twice", cpu, seq);
		return;
	}
	c->window |= 1ULL << k;
}

static void account_lost(struct pm_verifier *v, struct pm_verify_cpu *c,
			 unsigned int cpu, const struct persecmon_record *rec)
{
	const struct persecmon_lost_record *l = (const void *)rec;

	if (c->records == 1) {
		/* Its drops happened before the first seq we saw. */
		c->first_was_lost = true;
		c->lost_before_first = l->lost;
	}
	c->lost += l->lost;
	if (l->type_mask & (1ULL << PERSECMON_EV_TEST))
		c->lost_with_test += l->lost;
	if (l->total_lost != c->lost)
		violation(v, "cpu %u: LOST seq %u says total_lost %llu, but LOST records so far add up to %" PRIu64,
			  cpu, rec->seq, (unsigned long long)l->total_lost,
			  c->lost);
	if (l->lost == 0)
		violation(v, "cpu %u: LOST seq %u announces 0 lost records",
			  cpu, rec->seq);
}

static size_t track_hash(uint64_t run_id, uint16_t cpu, uint8_t ctx)
{
	uint64_t h = run_id * 0x9e3779b97f4a7c15ULL;

	h ^= ((uint64_t)cpu << 8 | ctx) * 0xff51afd7ed558ccdULL;
	return (size_t)(h ^ (h >> 29));
}

static struct pm_test_track *track_slot(struct pm_test_track *t, size_t cap,
					uint64_t run_id, uint16_t cpu,
					uint8_t ctx)
{
	size_t i = track_hash(run_id, cpu, ctx) & (cap - 1);

	while (t[i].used && !(t[i].run_id == run_id && t[i].cpu == cpu &&
			      t[i].context == ctx))
		i = (i + 1) & (cap - 1);
	return &t[i];
}

static struct pm_test_track *track_get(struct pm_verifier *v, uint64_t run_id,
				       uint16_t cpu, uint8_t ctx)
{
	struct pm_test_track *slot;

	if (2 * (v->nr_tracks + 1) > v->cap_tracks) {
		size_t cap = v->cap_tracks ? 2 * v->cap_tracks : 64, i;
		struct pm_test_track *t = calloc(cap, sizeof(*t));

		if (!t)
			return NULL;
		for (i = 0; i < v->cap_tracks; i++)
			if (v->tracks[i].used)
				*track_slot(t, cap, v->tracks[i].run_id,
					    v->tracks[i].cpu,
					    v->tracks[i].context) = v->tracks[i];
		free(v->tracks);
		v->tracks = t;
		v->cap_tracks = cap;
	}
	slot = track_slot(v->tracks, v->cap_tracks, run_id, cpu, ctx);
	if (!slot->used) {
		slot->used = 1;
		slot->run_id = run_id;
		slot->cpu = cpu;
		slot->context = ctx;
		slot->next_index = 0;
		v->nr_tracks++;
	}
	return slot;
}

static void account_test(struct pm_verifier *v, struct pm_verify_cpu *c,
			 unsigned int cpu, const struct persecmon_record *rec)
{
	const struct persecmon_test_event *ev = (const void *)rec;
	struct pm_test_result res;
	struct pm_test_track *t;
	char why[128];

	v->test_events++;
	if (pm_test_event_verify(rec, &res) != PM_TEST_OK) {
		/* Its index cannot be trusted; it still accounts for one. */
		c->test_corrupt++;
		pm_test_result_describe(&res, why, sizeof(why));
		violation(v, "cpu %u: test event seq %u (run 0x%llx index %u) is corrupt: %s",
			  cpu, rec->seq, (unsigned long long)ev->run_id,
			  ev->index, why);
		return;
	}
	v->test_intact++;
	if (v->expect_count && ev->index >= v->expect_count)
		violation(v, "cpu %u: test event run 0x%llx context %u has index %u, beyond the expected count %u",
			  cpu, (unsigned long long)ev->run_id, ev->context,
			  ev->index, v->expect_count);
	t = track_get(v, ev->run_id, (uint16_t)cpu, ev->context);
	if (!t) {
		violation(v, "out of memory tracking test events");
		return;
	}
	if (ev->index < t->next_index) {
		violation(v, "cpu %u: test event run 0x%llx context %u index %u repeated or out of order (next expected %u)",
			  cpu, (unsigned long long)ev->run_id, ev->context,
			  ev->index, t->next_index);
		return;
	}
	c->test_missing += ev->index - t->next_index;
	t->next_index = ev->index + 1;
}

void pm_verifier_record(struct pm_verifier *v, unsigned int ring_cpu,
			const struct persecmon_record *rec)
{
	struct pm_verify_cpu *c;

	if (ring_cpu >= v->nr_cpus) {
		violation(v, "record from CPU buffer %u, beyond nr_cpu_ids %u",
			  ring_cpu, v->nr_cpus);
		return;
	}
	c = &v->cpu[ring_cpu];
	if (rec->cpu != ring_cpu)
		violation(v, "cpu %u: record seq %u claims cpu %u", ring_cpu,
			  rec->seq, rec->cpu);
	account_seq(v, c, ring_cpu, rec->seq);
	if (rec->type == PERSECMON_REC_LOST)
		account_lost(v, c, ring_cpu, rec);
	else if (rec->type == PERSECMON_EV_TEST)
		account_test(v, c, ring_cpu, rec);
}

uint64_t pm_verifier_finish(struct pm_verifier *v, const uint64_t *pending)
{
	unsigned int cpu;
	size_t i;

	if (v->expect_count) {
		for (i = 0; i < v->cap_tracks; i++) {
			struct pm_test_track *t = &v->tracks[i];

			if (t->used && t->cpu < v->nr_cpus &&
			    t->next_index < v->expect_count)
				v->cpu[t->cpu].test_missing +=
					v->expect_count - t->next_index;
		}
	}
	for (cpu = 0; cpu < v->nr_cpus; cpu++) {
		struct pm_verify_cpu *c = &v->cpu[cpu];
		uint64_t slack = pending ? pending[cpu] : 0;
		uint64_t span;

		if (c->test_missing > c->lost_with_test + slack + c->test_corrupt)
			violation(v, "cpu %u: %" PRIu64 " test events missing, but LOST records covering test events announce only %" PRIu64 " (kernel pending drops: %" PRIu64 ")",
				  cpu, c->test_missing, c->lost_with_test,
				  slack);
		if (!c->seen)
			continue;
		span = c->max_u - c->min_u + 1 + c->lost_before_first;
		c->deficit = (int64_t)(span - c->records - c->lost);
		if (c->deficit < 0)
			violation(v, "cpu %u: %" PRIu64 " records + %" PRIu64 " announced drops exceed the seq span %" PRIu64 " (over-reported loss)",
				  cpu, c->records, c->lost, span);
		else if ((uint64_t)c->deficit > slack)
			violation(v, "cpu %u: seq span %" PRIu64 " but only %" PRIu64 " records + %" PRIu64 " announced drops: %" PRId64 " records vanished without a LOST record (kernel pending drops: %" PRIu64 ")",
				  cpu, span, c->records, c->lost, c->deficit,
				  slack);
	}
	return v->violations;
}
