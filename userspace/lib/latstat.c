// SPDX-License-Identifier: GPL-2.0
/*
 * Latency statistics by key (persecmon/latstat.h): an open-addressing
 * table of keys, each with its samples in a growing array.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "persecmon/latstat.h"

struct pm_latstat_entry {
	char *key;
	uint64_t *samples;
	size_t nr, cap;
	uint64_t failed;
};

void pm_latstat_init(struct pm_latstat *st)
{
	memset(st, 0, sizeof(*st));
}

void pm_latstat_free(struct pm_latstat *st)
{
	size_t i;

	for (i = 0; i < st->nr_slots; i++) {
		struct pm_latstat_entry *e = st->slots[i];

		if (!e)
			continue;
		free(e->key);
		free(e->samples);
		free(e);
	}
	free(st->slots);
	pm_latstat_init(st);
}

/* FNV-1a. */
static size_t hash_key(const char *key)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *key; key++)
		h = (h ^ (unsigned char)*key) * 1099511628211ULL;
	return (size_t)h;
}

static struct pm_latstat_entry **find_slot(struct pm_latstat_entry **slots,
					   size_t nr_slots, const char *key)
{
	size_t i = hash_key(key) & (nr_slots - 1);

	while (slots[i] && strcmp(slots[i]->key, key))
		i = (i + 1) & (nr_slots - 1);
	return &slots[i];
}

/* Keeps the table at most half full. */
static int grow(struct pm_latstat *st)
{
	size_t nr_slots = st->nr_slots ? st->nr_slots * 2 : 16, i;
	struct pm_latstat_entry **slots;

	slots = calloc(nr_slots, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (i = 0; i < st->nr_slots; i++)
		if (st->slots[i])
			*find_slot(slots, nr_slots, st->slots[i]->key) =
				st->slots[i];
	free(st->slots);
	st->slots = slots;
	st->nr_slots = nr_slots;
	return 0;
}

int pm_latstat_add(struct pm_latstat *st, const char *key,
		   uint64_t latency_ns, bool failed)
{
	struct pm_latstat_entry **slot, *e;

	if (2 * (st->nr + 1) > st->nr_slots && grow(st) < 0)
		return -ENOMEM;
	slot = find_slot(st->slots, st->nr_slots, key);
	e = *slot;
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e)
			return -ENOMEM;
		e->key = strdup(key);
		if (!e->key) {
			free(e);
			return -ENOMEM;
		}
		*slot = e;
		st->nr++;
	}
	if (e->nr == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 8;
		uint64_t *s = realloc(e->samples, cap * sizeof(*s));

		if (!s)
			return -ENOMEM;
		e->samples = s;
		e->cap = cap;
	}
	e->samples[e->nr++] = latency_ns;
	if (failed)
		e->failed++;
	return 0;
}

uint64_t pm_percentile_sorted(const uint64_t *sorted, size_t n, double pct)
{
	size_t rank;

	if (!n)
		return 0;
	rank = (size_t)ceil(pct / 100.0 * (double)n);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static int cmp_row(const void *a, const void *b)
{
	const struct pm_latstat_row *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->key, y->key);
}

struct pm_latstat_row *pm_latstat_rows(struct pm_latstat *st, size_t *nr)
{
	struct pm_latstat_row *rows;
	size_t i, n = 0, j;

	*nr = 0;
	if (!st->nr)
		return NULL;
	rows = calloc(st->nr, sizeof(*rows));
	if (!rows)
		return NULL;
	for (i = 0; i < st->nr_slots; i++) {
		struct pm_latstat_entry *e = st->slots[i];
		struct pm_latstat_row *r = &rows[n];

		if (!e)
			continue;
		qsort(e->samples, e->nr, sizeof(*e->samples), cmp_u64);
		r->key = e->key;
		r->count = e->nr;
		r->failed = e->failed;
		r->p50_ns = pm_percentile_sorted(e->samples, e->nr, 50);
		r->p99_ns = pm_percentile_sorted(e->samples, e->nr, 99);
		r->max_ns = e->nr ? e->samples[e->nr - 1] : 0;
		for (j = 0; j < e->nr; j++)
			r->total_ns += e->samples[j];
		n++;
	}
	qsort(rows, n, sizeof(*rows), cmp_row);
	*nr = n;
	return rows;
}
