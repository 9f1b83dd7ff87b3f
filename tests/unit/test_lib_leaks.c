// SPDX-License-Identifier: GPL-2.0
/*
 * libpersecmon leaks: outstanding allocations by stack, on synthetic
 * record sequences with exact expected numbers (pairing, unknown frees,
 * replaced allocations, address spaces, ordering, ages, dropping a
 * process) and a long randomized sequence checked against a naive model
 * after every step.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "persecmon/decode.h"
#include "persecmon/names.h"
#include "persecmon/leaks.h"

static const uint64_t stack_a[] = { 0x1000, 0x2000, 0x3000 };
static const uint64_t stack_b[] = { 0x1000, 0x2000, 0x3004 };
static const uint64_t stack_c[] = { 0x5000 };

static void check_stats(struct pm_leaks *l, uint64_t allocs,
			uint64_t frees, uint64_t unknown, uint64_t replaced,
			uint64_t count, uint64_t bytes)
{
	struct pm_leak_stats st;

	pm_leaks_stats(l, &st);
	assert_int_equal(st.allocs, allocs);
	assert_int_equal(st.frees_matched, frees);
	assert_int_equal(st.frees_unknown, unknown);
	assert_int_equal(st.replaced, replaced);
	assert_int_equal(st.outstanding_count, count);
	assert_int_equal(st.outstanding_bytes, bytes);
	assert_int_equal(st.outstanding_count,
			 allocs - frees - replaced - st.dropped);
}

static void pairing(void **state)
{
	struct pm_leaks *l = pm_leaks_new();
	struct pm_leak_row *rows;
	long n;
	int i;

	(void)state;
	assert_non_null(l);
	/* K = 7 leaks of 48 bytes from stack a, 20 freed blocks from b. */
	for (i = 0; i < 7; i++)
		assert_int_equal(pm_leaks_alloc(l, 42, 0x10000 + i * 64, 48,
						100 + i, 42, stack_a, 3), 0);
	for (i = 0; i < 20; i++) {
		assert_int_equal(pm_leaks_alloc(l, 42, 0x20000 + i * 64, 100,
						200 + i, 42, stack_b, 3), 0);
		assert_true(pm_leaks_free(l, 42, 0x20000 + i * 64));
	}
	/* A free of something never seen, and one in another space. */
	assert_false(pm_leaks_free(l, 42, 0x99999));
	assert_false(pm_leaks_free(l, 43, 0x10000));
	check_stats(l, 27, 20, 2, 0, 7, 7 * 48);

	n = pm_leaks_top(l, 0, 0, &rows);
	assert_int_equal(n, 1);
	assert_int_equal(rows[0].bytes, 7 * 48);
	assert_int_equal(rows[0].count, 7);
	assert_int_equal(rows[0].nr_frames, 3);
	assert_memory_equal(rows[0].frames, stack_a, sizeof(stack_a));
	assert_int_equal(rows[0].stack_space, 42);
	assert_int_equal(rows[0].oldest_ns, 100);
	free(rows);

	/* Stack b still exists but holds nothing. */
	pm_leaks_free(l, 42, 0x10000);
	check_stats(l, 27, 21, 2, 0, 6, 6 * 48);
	pm_leaks_destroy(l);
}

static void replaced_and_spaces(void **state)
{
	struct pm_leaks *l = pm_leaks_new();
	struct pm_leak_row *rows;
	long n;

	(void)state;
	/* The same address in two spaces: two allocations. */
	assert_int_equal(pm_leaks_alloc(l, 0, 0xffff888000001000ULL, 64, 1, 0,
					stack_a, 3), 0);
	assert_int_equal(pm_leaks_alloc(l, 1, 0xffff888000001000ULL, 4096, 2,
					0, stack_c, 1), 0);
	check_stats(l, 2, 0, 0, 0, 2, 64 + 4096);
	/* Reallocated without a free seen: the old one is replaced. */
	assert_int_equal(pm_leaks_alloc(l, 0, 0xffff888000001000ULL, 32, 3, 0,
					stack_b, 3), 0);
	check_stats(l, 3, 0, 0, 1, 2, 32 + 4096);
	n = pm_leaks_top(l, 0, 0, &rows);
	assert_int_equal(n, 2);
	assert_int_equal(rows[0].bytes, 4096);
	assert_memory_equal(rows[0].frames, stack_c, sizeof(stack_c));
	assert_int_equal(rows[1].bytes, 32);
	assert_memory_equal(rows[1].frames, stack_b, sizeof(stack_b));
	free(rows);
	assert_true(pm_leaks_free(l, 1, 0xffff888000001000ULL));
	assert_true(pm_leaks_free(l, 0, 0xffff888000001000ULL));
	assert_false(pm_leaks_free(l, 0, 0xffff888000001000ULL));
	check_stats(l, 3, 2, 1, 1, 0, 0);
	n = pm_leaks_top(l, 0, 0, &rows);
	assert_int_equal(n, 0);
	free(rows);
	pm_leaks_destroy(l);
}

static void same_frames_other_process(void **state)
{
	struct pm_leaks *l = pm_leaks_new();
	struct pm_leak_row *rows;
	long n;

	(void)state;
	/* Same addresses in two processes are two stacks. */
	pm_leaks_alloc(l, 10, 0x100, 8, 1, 10, stack_a, 3);
	pm_leaks_alloc(l, 11, 0x100, 16, 1, 11, stack_a, 3);
	pm_leaks_alloc(l, 11, 0x200, 16, 1, 11, stack_a, 3);
	n = pm_leaks_top(l, 0, 0, &rows);
	assert_int_equal(n, 2);
	assert_int_equal(rows[0].stack_space, 11);
	assert_int_equal(rows[0].bytes, 32);
	assert_int_equal(rows[0].count, 2);
	assert_int_equal(rows[1].stack_space, 10);
	assert_int_equal(rows[1].bytes, 8);
	free(rows);
	pm_leaks_drop_space(l, 11);
	check_stats(l, 3, 0, 0, 0, 1, 8);
	{
		struct pm_leak_stats st;

		pm_leaks_stats(l, &st);
		assert_int_equal(st.dropped, 2);
	}
	pm_leaks_destroy(l);
}

static void top_and_age(void **state)
{
	struct pm_leaks *l = pm_leaks_new();
	struct pm_leak_row *rows;
	uint64_t f[1];
	long n;
	int i;

	(void)state;
	/* Stack i has i allocations of 10 bytes at time 1000 * i. */
	for (i = 1; i <= 20; i++) {
		int j;

		f[0] = 0x400000 + (uint64_t)i;
		for (j = 0; j < i; j++)
			pm_leaks_alloc(l, 1, (uint64_t)i << 20 | (uint64_t)j,
				       10, 1000ULL * i, 1, f, 1);
	}
	n = pm_leaks_top(l, 0, 5, &rows);
	assert_int_equal(n, 5);
	for (i = 0; i < 5; i++) {
		assert_int_equal(rows[i].count, 20 - i);
		assert_int_equal(rows[i].bytes, 10 * (20 - i));
		assert_int_equal(rows[i].frames[0], 0x400000 + 20 - i);
	}
	free(rows);
	/* Older than time 3000 only: stacks 1, 2, 3. */
	n = pm_leaks_top(l, 3000, 0, &rows);
	assert_int_equal(n, 3);
	assert_int_equal(rows[0].bytes, 30);
	assert_int_equal(rows[0].oldest_ns, 3000);
	assert_int_equal(rows[2].bytes, 10);
	free(rows);
	/* Equal bytes: more allocations first. */
	pm_leaks_alloc(l, 2, 1, 300, 5, 2, stack_c, 1);
	n = pm_leaks_top(l, 0, 1, &rows);
	assert_int_equal(n, 1);
	assert_int_equal(rows[0].bytes, 300);
	assert_int_equal(rows[0].count, 1);
	free(rows);
	f[0] = 0x400000 + 20;
	pm_leaks_alloc(l, 1, 0xabc, 100, 5, 1, f, 1);
	n = pm_leaks_top(l, 0, 1, &rows);
	assert_int_equal(rows[0].bytes, 300);
	assert_int_equal(rows[0].count, 21);
	free(rows);
	pm_leaks_destroy(l);
}

/* The model: live allocations in a plain array. */
struct model_alloc {
	uint32_t space;
	uint64_t addr, size;
	unsigned int stack;
};

static void randomized(void **state)
{
	enum { OPS = 40000, ADDRS = 3000, STACKS = 37 };
	static struct model_alloc live[ADDRS * 2];
	uint64_t stack_frames[STACKS][4];
	uint64_t per_stack[STACKS], per_count[STACKS];
	struct pm_leaks *l = pm_leaks_new();
	uint64_t allocs = 0, frees = 0, unknown = 0, replaced = 0;
	struct pm_leak_row *rows;
	size_t nlive = 0, i, k;
	unsigned int seed = 12345;
	long n;
	int op;

	(void)state;
	for (i = 0; i < STACKS; i++)
		for (k = 0; k < 4; k++)
			stack_frames[i][k] = 0x1000 * (i + 1) + k;
	for (op = 0; op < OPS; op++) {
		uint32_t space = (uint32_t)(rand_r(&seed) % 2);
		uint64_t addr = 0x7f0000000000ULL +
				16 * (uint64_t)(rand_r(&seed) % ADDRS);
		size_t found = nlive;

		for (i = 0; i < nlive; i++)
			if (live[i].space == space && live[i].addr == addr)
				found = i;
		if (rand_r(&seed) % 100 < 55) {
			unsigned int s = (unsigned int)rand_r(&seed) % STACKS;
			uint64_t size = 1 + (uint64_t)(rand_r(&seed) % 5000);

			assert_int_equal(pm_leaks_alloc(l, space, addr, size,
							(uint64_t)op, space,
							stack_frames[s],
							1 + s % 4), 0);
			allocs++;
			if (found < nlive) {
				replaced++;
			} else {
				found = nlive++;
			}
			live[found] = (struct model_alloc){ space, addr, size,
							    s };
		} else {
			bool known = pm_leaks_free(l, space, addr);

			assert_int_equal(known, found < nlive);
			if (found < nlive) {
				frees++;
				live[found] = live[--nlive];
			} else {
				unknown++;
			}
		}
		if (op % 97 && op != OPS - 1)
			continue;
		/* Every 97 ops: totals, then every stack against the model. */
		memset(per_stack, 0, sizeof(per_stack));
		memset(per_count, 0, sizeof(per_count));
		{
			uint64_t bytes = 0;

			for (i = 0; i < nlive; i++) {
				bytes += live[i].size;
				per_stack[live[i].stack] += live[i].size;
				per_count[live[i].stack]++;
			}
			check_stats(l, allocs, frees, unknown, replaced, nlive,
				    bytes);
		}
		n = pm_leaks_top(l, 0, 0, &rows);
		assert_true(n >= 0);
		{
			uint64_t seen_bytes = 0, seen_count = 0;

			for (i = 0; i < (size_t)n; i++) {
				unsigned int s = (unsigned int)
					((rows[i].frames[0] / 0x1000) - 1);

				/* Stacks are per space here: sum both. */
				seen_bytes += rows[i].bytes;
				seen_count += rows[i].count;
				assert_true(s < STACKS);
				assert_true(rows[i].bytes <= per_stack[s]);
				if (i)
					assert_true(rows[i - 1].bytes >=
						    rows[i].bytes);
			}
			assert_int_equal(seen_count, nlive);
			{
				uint64_t bytes = 0;

				for (i = 0; i < nlive; i++)
					bytes += live[i].size;
				assert_int_equal(seen_bytes, bytes);
			}
			for (k = 0; k < STACKS; k++) {
				uint64_t b = 0, c = 0;

				for (i = 0; i < (size_t)n; i++) {
					if (rows[i].frames[0] / 0x1000 - 1 != k)
						continue;
					b += rows[i].bytes;
					c += rows[i].count;
				}
				assert_int_equal(b, per_stack[k]);
				assert_int_equal(c, per_count[k]);
			}
		}
		free(rows);
	}
	/* Drop one space: exactly its allocations go. */
	{
		uint64_t bytes = 0, count = 0;

		for (i = 0; i < nlive; i++) {
			if (live[i].space == 1)
				continue;
			bytes += live[i].size;
			count++;
		}
		pm_leaks_drop_space(l, 1);
		{
			struct pm_leak_stats st;

			pm_leaks_stats(l, &st);
			assert_int_equal(st.outstanding_count, count);
			assert_int_equal(st.outstanding_bytes, bytes);
		}
	}
	pm_leaks_destroy(l);
}

/* A zeroed record of @type, @size bytes long. */
static void *make_rec(uint16_t type, size_t size)
{
	struct persecmon_record *rec = calloc(1, size);

	assert_non_null(rec);
	rec->size = (uint16_t)size;
	rec->type = type;
	return rec;
}

static char *decode_json(const struct persecmon_record *rec)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct pm_out o;

	assert_non_null(f);
	pm_out_init(&o, f, PM_OUT_JSON, false);
	pm_out_line_begin(&o);
	pm_decode_details(&o, rec);
	pm_out_line_end(&o);
	fclose(f);
	return text;
}

static void memory_records(void **state)
{
	const size_t kfix = offsetof(struct persecmon_kalloc_event, frames);
	const size_t ufix = offsetof(struct persecmon_alloc_event, frames);
	struct persecmon_kalloc_event *k;
	struct persecmon_alloc_event *a;
	struct persecmon_kfree_event *kf;
	struct persecmon_free_event *f;
	char *json;

	(void)state;
	assert_int_equal(kfix, 88);
	assert_int_equal(ufix, 64);
	assert_int_equal(pm_record_min_size(PERSECMON_EV_KALLOC), 88);
	assert_int_equal(pm_record_min_size(PERSECMON_EV_ALLOC), 64);
	assert_int_equal(pm_record_min_size(PERSECMON_EV_KFREE), 64);
	assert_int_equal(pm_record_min_size(PERSECMON_EV_FREE), 56);

	k = make_rec(PERSECMON_EV_KALLOC, kfix + 3 * 8);
	k->ptr = 0xffff888001234500ULL;
	k->bytes_req = 100;
	k->bytes_alloc = 128;
	k->node = -1;
	k->kind = PERSECMON_KMEM_KMALLOC;
	k->nr_frames = 3;
	k->frames[0] = 0xffffffff81000010ULL;
	k->frames[1] = 0xffffffff81000020ULL;
	k->frames[2] = 0xffffffff81000030ULL;
	assert_int_equal(pm_record_check(k, k->hdr.size), PM_REC_OK);
	json = decode_json(&k->hdr);
	assert_non_null(strstr(json, "\"kind\":\"kmalloc\""));
	assert_non_null(strstr(json, "\"bytes_alloc\":128"));
	assert_non_null(strstr(json, "\"frames\":[\"0xffffffff81000010\",\"0xffffffff81000020\",\"0xffffffff81000030\"]"));
	free(json);
	/* One frame more than the record holds. */
	k->nr_frames = 4;
	assert_int_equal(pm_record_check(k, k->hdr.size), PM_REC_BAD_LENGTH);
	free(k);

	a = make_rec(PERSECMON_EV_ALLOC, ufix + 2 * 8);
	a->addr = 0x5555deadb000ULL;
	a->size = 1000;
	a->func = PERSECMON_ALLOC_CALLOC;
	a->nr_frames = 2;
	a->frames[0] = 0x401234;
	a->frames[1] = 0x405678;
	assert_int_equal(pm_record_check(a, a->hdr.size), PM_REC_OK);
	json = decode_json(&a->hdr);
	assert_non_null(strstr(json, "\"func\":\"calloc\""));
	assert_non_null(strstr(json, "\"size\":1000"));
	assert_non_null(strstr(json, "\"frames\":[\"0x401234\",\"0x405678\"]"));
	free(json);
	a->nr_frames = 3;
	assert_int_equal(pm_record_check(a, a->hdr.size), PM_REC_BAD_LENGTH);
	/* Shorter than the fixed part. */
	a->hdr.size = 56;
	assert_int_equal(pm_record_check(a, 64), PM_REC_TOO_SHORT);
	free(a);

	kf = make_rec(PERSECMON_EV_KFREE, sizeof(*kf));
	kf->ptr = 0x1234;
	kf->kind = PERSECMON_KMEM_PAGE;
	assert_int_equal(pm_record_check(kf, sizeof(*kf)), PM_REC_OK);
	json = decode_json(&kf->hdr);
	assert_non_null(strstr(json, "\"kind\":\"page\""));
	free(json);
	free(kf);

	f = make_rec(PERSECMON_EV_FREE, sizeof(*f));
	f->addr = 0x5555deadb000ULL;
	f->func = PERSECMON_ALLOC_REALLOC;
	assert_int_equal(pm_record_check(f, sizeof(*f)), PM_REC_OK);
	json = decode_json(&f->hdr);
	assert_non_null(strstr(json, "\"func\":\"realloc\""));
	free(json);
	free(f);
}

static void map_records(void **state)
{
	const size_t fix = offsetof(struct persecmon_map_event, path);
	static const char path[] = "/usr/lib/x86_64-linux-gnu/libc.so.6";
	struct persecmon_map_event *m;
	struct pm_map_view v;
	char *json;

	(void)state;
	assert_int_equal(fix, 80);
	assert_int_equal(pm_record_min_size(PERSECMON_EV_MAP), 80);
	assert_string_equal(pm_type_name(PERSECMON_EV_MAP), "map");
	/* Records are padded to 8 bytes: the path does not end the record. */
	m = make_rec(PERSECMON_EV_MAP, fix + ((sizeof(path) - 1 + 7) & ~7UL));
	m->start = 0x7f0000001000ULL;
	m->end = 0x7f0000100000ULL;
	m->offset = 0x28000;
	m->ino = 1234567;
	/* st_dev of 254:1, the encoding stat(2) uses for small numbers */
	m->dev = (254 << 8) | 1;
	m->path_len = sizeof(path) - 1;
	memcpy(m->path, path, m->path_len);
	assert_int_equal(pm_record_check(m, m->hdr.size), PM_REC_OK);
	pm_map_view(&m->hdr, &v);
	assert_string_equal(v.path, path);
	assert_int_equal(v.offset, 0x28000);
	json = decode_json(&m->hdr);
	assert_non_null(strstr(json, "\"start\":139637976731648,"));
	assert_non_null(strstr(json, "\"dev\":\"254:1\""));
	assert_non_null(strstr(json, "\"ino\":1234567"));
	assert_non_null(strstr(json, "\"path\":\"/usr/lib/x86_64-linux-gnu/libc.so.6\""));
	free(json);
	/* A path longer than the record. */
	m->path_len = (uint16_t)(m->hdr.size - fix + 1);
	assert_int_equal(pm_record_check(m, m->hdr.size), PM_REC_BAD_LENGTH);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pairing),
		cmocka_unit_test(replaced_and_spaces),
		cmocka_unit_test(same_frames_other_process),
		cmocka_unit_test(top_and_age),
		cmocka_unit_test(randomized),
		cmocka_unit_test(memory_records),
		cmocka_unit_test(map_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
