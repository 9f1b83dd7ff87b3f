// SPDX-License-Identifier: GPL-2.0
/*
 * Outstanding allocations by stack (persecmon/leaks.h).
 *
 * Two open-addressing hash tables with linear probing: allocations keyed
 * by (space, address), deleted by backward shift so no tombstones pile
 * up; and stacks keyed by (stack space, frames), never deleted (a stack
 * index stays valid for the tracker's life).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "persecmon/leaks.h"

struct leak_alloc {
	uint64_t addr;
	uint64_t size;
	uint64_t time_ns;
	uint32_t space;
	uint32_t stack;		/* index into stacks; UINT32_MAX: empty slot */
};

struct leak_stack {
	uint64_t hash;
	uint64_t *frames;
	unsigned int nr;
	uint32_t space;
	uint64_t bytes;
	uint64_t count;
};

struct pm_leaks {
	struct leak_alloc *allocs;
	size_t alloc_cap;	/* power of two */
	size_t nr_allocs;
	struct leak_stack *stacks;
	size_t nr_stacks, stack_cap;
	uint32_t *stack_index;	/* hash -> stack + 1, 0 empty */
	size_t index_cap;	/* power of two */
	struct pm_leak_stats st;
};

#define EMPTY		UINT32_MAX

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static size_t alloc_slot(const struct pm_leaks *l, uint32_t space,
			 uint64_t addr)
{
	return mix64(addr ^ ((uint64_t)space << 40)) & (l->alloc_cap - 1);
}

static uint64_t stack_hash(uint32_t space, const uint64_t *frames,
			   unsigned int nr)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ space;
	unsigned int i;

	for (i = 0; i < nr; i++)
		h = mix64(h ^ frames[i]);
	return h ^ nr;
}

struct pm_leaks *pm_leaks_new(void)
{
	struct pm_leaks *l = calloc(1, sizeof(*l));
	size_t i;

	if (!l)
		return NULL;
	l->alloc_cap = 1024;
	l->allocs = malloc(l->alloc_cap * sizeof(*l->allocs));
	l->index_cap = 256;
	l->stack_index = calloc(l->index_cap, sizeof(*l->stack_index));
	if (!l->allocs || !l->stack_index) {
		pm_leaks_destroy(l);
		return NULL;
	}
	for (i = 0; i < l->alloc_cap; i++)
		l->allocs[i].stack = EMPTY;
	return l;
}

void pm_leaks_destroy(struct pm_leaks *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->nr_stacks; i++)
		free(l->stacks[i].frames);
	free(l->stacks);
	free(l->stack_index);
	free(l->allocs);
	free(l);
}

static int allocs_grow(struct pm_leaks *l)
{
	size_t cap = l->alloc_cap * 2, i, j;
	struct leak_alloc *n = malloc(cap * sizeof(*n));
	struct leak_alloc *old = l->allocs;
	size_t old_cap = l->alloc_cap;

	if (!n)
		return -ENOMEM;
	for (i = 0; i < cap; i++)
		n[i].stack = EMPTY;
	l->allocs = n;
	l->alloc_cap = cap;
	for (i = 0; i < old_cap; i++) {
		if (old[i].stack == EMPTY)
			continue;
		j = alloc_slot(l, old[i].space, old[i].addr);
		while (n[j].stack != EMPTY)
			j = (j + 1) & (cap - 1);
		n[j] = old[i];
	}
	free(old);
	return 0;
}

static int index_grow(struct pm_leaks *l)
{
	size_t cap = l->index_cap * 2, i, j;
	uint32_t *n = calloc(cap, sizeof(*n));

	if (!n)
		return -ENOMEM;
	for (i = 0; i < l->nr_stacks; i++) {
		j = l->stacks[i].hash & (cap - 1);
		while (n[j])
			j = (j + 1) & (cap - 1);
		n[j] = (uint32_t)i + 1;
	}
	free(l->stack_index);
	l->stack_index = n;
	l->index_cap = cap;
	return 0;
}

/* Index of the stack, interned if new; -ENOMEM. */
static long stack_get(struct pm_leaks *l, uint32_t space,
		      const uint64_t *frames, unsigned int nr)
{
	uint64_t h = stack_hash(space, frames, nr);
	struct leak_stack *s;
	size_t j;

	for (j = h & (l->index_cap - 1); l->stack_index[j];
	     j = (j + 1) & (l->index_cap - 1)) {
		s = &l->stacks[l->stack_index[j] - 1];
		if (s->hash == h && s->space == space && s->nr == nr &&
		    !memcmp(s->frames, frames, nr * sizeof(*frames)))
			return l->stack_index[j] - 1;
	}
	if ((l->nr_stacks + 1) * 2 > l->index_cap) {
		if (index_grow(l))
			return -ENOMEM;
		for (j = h & (l->index_cap - 1); l->stack_index[j];
		     j = (j + 1) & (l->index_cap - 1))
			;
	}
	if (l->nr_stacks == l->stack_cap) {
		size_t cap = l->stack_cap ? l->stack_cap * 2 : 64;
		void *n = realloc(l->stacks, cap * sizeof(*l->stacks));

		if (!n)
			return -ENOMEM;
		l->stacks = n;
		l->stack_cap = cap;
	}
	s = &l->stacks[l->nr_stacks];
	memset(s, 0, sizeof(*s));
	s->frames = malloc(nr ? nr * sizeof(*frames) : 1);
	if (!s->frames)
		return -ENOMEM;
	memcpy(s->frames, frames, nr * sizeof(*frames));
	s->nr = nr;
	s->space = space;
	s->hash = h;
	l->stack_index[j] = (uint32_t)l->nr_stacks + 1;
	l->st.stacks = ++l->nr_stacks;
	return (long)l->nr_stacks - 1;
}

static struct leak_alloc *alloc_find(struct pm_leaks *l, uint32_t space,
				     uint64_t addr)
{
	size_t j;

	for (j = alloc_slot(l, space, addr); l->allocs[j].stack != EMPTY;
	     j = (j + 1) & (l->alloc_cap - 1))
		if (l->allocs[j].addr == addr && l->allocs[j].space == space)
			return &l->allocs[j];
	return NULL;
}

static void alloc_account(struct pm_leaks *l, const struct leak_alloc *a,
			  int sign)
{
	struct leak_stack *s = &l->stacks[a->stack];

	if (sign > 0) {
		s->bytes += a->size;
		s->count++;
		l->st.outstanding_bytes += a->size;
		l->st.outstanding_count++;
	} else {
		s->bytes -= a->size;
		s->count--;
		l->st.outstanding_bytes -= a->size;
		l->st.outstanding_count--;
	}
}

/* Removes the entry at slot @i, shifting its probe chain back. */
static void alloc_remove(struct pm_leaks *l, size_t i)
{
	size_t mask = l->alloc_cap - 1, j = i, home;

	alloc_account(l, &l->allocs[i], -1);
	l->allocs[i].stack = EMPTY;
	l->nr_allocs--;
	for (;;) {
		j = (j + 1) & mask;
		if (l->allocs[j].stack == EMPTY)
			return;
		home = alloc_slot(l, l->allocs[j].space, l->allocs[j].addr);
		/* Move j back to i unless its home lies in (i, j]. */
		if ((i < j) ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		l->allocs[i] = l->allocs[j];
		l->allocs[j].stack = EMPTY;
		i = j;
	}
}

int pm_leaks_alloc(struct pm_leaks *l, uint32_t space, uint64_t addr,
		   uint64_t size, uint64_t time_ns, uint32_t stack_space,
		   const uint64_t *frames, unsigned int nr_frames)
{
	struct leak_alloc *a;
	long stack;
	size_t j;

	stack = stack_get(l, stack_space, frames, nr_frames);
	if (stack < 0)
		return -ENOMEM;
	a = alloc_find(l, space, addr);
	if (a) {
		alloc_account(l, a, -1);
		l->st.replaced++;
	} else {
		if ((l->nr_allocs + 1) * 4 > l->alloc_cap * 3 &&
		    allocs_grow(l))
			return -ENOMEM;
		j = alloc_slot(l, space, addr);
		while (l->allocs[j].stack != EMPTY)
			j = (j + 1) & (l->alloc_cap - 1);
		a = &l->allocs[j];
		l->nr_allocs++;
	}
	a->addr = addr;
	a->space = space;
	a->size = size;
	a->time_ns = time_ns;
	a->stack = (uint32_t)stack;
	alloc_account(l, a, 1);
	l->st.allocs++;
	return 0;
}

bool pm_leaks_free(struct pm_leaks *l, uint32_t space, uint64_t addr)
{
	struct leak_alloc *a = alloc_find(l, space, addr);

	if (!a) {
		l->st.frees_unknown++;
		return false;
	}
	alloc_remove(l, (size_t)(a - l->allocs));
	l->st.frees_matched++;
	return true;
}

void pm_leaks_drop_space(struct pm_leaks *l, uint32_t space)
{
	size_t i = 0;

	/* A backward shift may move an unvisited entry into slot i. */
	while (i < l->alloc_cap) {
		if (l->allocs[i].stack != EMPTY &&
		    l->allocs[i].space == space) {
			alloc_remove(l, i);
			l->st.dropped++;
		} else {
			i++;
		}
	}
}

void pm_leaks_stats(const struct pm_leaks *l, struct pm_leak_stats *st)
{
	*st = l->st;
}

static int row_cmp(const void *a, const void *b)
{
	const struct pm_leak_row *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->frames < y->frames ? -1 : x->frames > y->frames;
}

void pm_leak_rows_sort(struct pm_leak_row *rows, size_t n)
{
	qsort(rows, n, sizeof(*rows), row_cmp);
}

long pm_leaks_top(struct pm_leaks *l, uint64_t max_time_ns, size_t max,
		  struct pm_leak_row **rows)
{
	struct pm_leak_row *r;
	size_t i, n = 0;

	*rows = NULL;
	r = calloc(l->nr_stacks ? l->nr_stacks : 1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (i = 0; i < l->nr_stacks; i++) {
		r[i].frames = l->stacks[i].frames;
		r[i].nr_frames = l->stacks[i].nr;
		r[i].stack_space = l->stacks[i].space;
		r[i].oldest_ns = UINT64_MAX;
		if (!max_time_ns) {
			r[i].bytes = l->stacks[i].bytes;
			r[i].count = l->stacks[i].count;
		}
	}
	/* Ages need the allocations themselves. */
	for (i = 0; i < l->alloc_cap; i++) {
		const struct leak_alloc *a = &l->allocs[i];

		if (a->stack == EMPTY)
			continue;
		if (max_time_ns && a->time_ns > max_time_ns)
			continue;
		if (max_time_ns) {
			r[a->stack].bytes += a->size;
			r[a->stack].count++;
		}
		if (a->time_ns < r[a->stack].oldest_ns)
			r[a->stack].oldest_ns = a->time_ns;
	}
	for (i = 0; i < l->nr_stacks; i++)
		if (r[i].count)
			r[n++] = r[i];
	pm_leak_rows_sort(r, n);
	if (max && n > max)
		n = max;
	*rows = r;
	return (long)n;
}
