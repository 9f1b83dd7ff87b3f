// SPDX-License-Identifier: GPL-2.0
/*
 * libpersecmon decode: structural record checks (malformed records must be
 * rejected without reading past what is available), PERSECMON_EV_TEST
 * integrity, the text and JSON renderings, and the name tables.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "persecmon/decode.h"
#include "persecmon/names.h"
#include "persecmon/output.h"

#define ALIGN8(x)	(((x) + 7) & ~(size_t)7)

/* 8-byte aligned scratch large enough for any record. */
/* A record type no version of the ABI has assigned (yet). */
#define UNKNOWN_TYPE	62

static uint64_t scratch[2 * PERSECMON_RECORD_MAX / 8];

static struct persecmon_record *make_header(void *mem, uint16_t type,
					    uint16_t size)
{
	struct persecmon_record *rec = mem;

	memset(mem, 0, size < sizeof(*rec) ? sizeof(*rec) : size);
	rec->size = size;
	rec->type = type;
	return rec;
}

static struct persecmon_record *make_test_event(void *mem, uint64_t run,
						uint32_t index, uint8_t ctx,
						uint16_t cpu, uint16_t fill_len)
{
	size_t size = ALIGN8(sizeof(struct persecmon_test_event) + fill_len);
	struct persecmon_test_event *ev = mem;
	uint16_t i;

	make_header(mem, PERSECMON_EV_TEST, (uint16_t)size);
	ev->hdr.cpu = cpu;
	ev->hdr.seq = 7;
	ev->hdr.pid = 100;
	ev->hdr.tgid = 100;
	ev->hdr.time_ns = 1000 + 1000;
	ev->run_id = run;
	ev->index = index;
	ev->context = ctx;
	ev->fill_len = fill_len;
	ev->check = persecmon_test_check(run, index, ctx, cpu, fill_len);
	for (i = 0; i < fill_len; i++)
		ev->fill[i] = (uint8_t)((index + i) & 0xff);
	return &ev->hdr;
}

static void check_zero_size_rejected(void **state)
{
	(void)state;
	make_header(scratch, PERSECMON_EV_TEST, 0);
	assert_int_equal(pm_record_check(scratch, 4096), PM_REC_ZERO_SIZE);
	make_header(scratch, PERSECMON_REC_PAD, 0);
	assert_int_equal(pm_record_check(scratch, 4096), PM_REC_ZERO_SIZE);
}

static void check_unaligned_size_rejected(void **state)
{
	(void)state;
	make_header(scratch, UNKNOWN_TYPE, 44);
	assert_int_equal(pm_record_check(scratch, 4096), PM_REC_MISALIGNED);
	make_header(scratch, PERSECMON_REC_PAD, 12);
	assert_int_equal(pm_record_check(scratch, 4096), PM_REC_MISALIGNED);
}

static void check_size_beyond_buffer_rejected(void **state)
{
	(void)state;
	make_header(scratch, UNKNOWN_TYPE, 80);
	assert_int_equal(pm_record_check(scratch, 72), PM_REC_BEYOND_BUFFER);
	assert_int_equal(pm_record_check(scratch, 80), PM_REC_OK);
	/* Not even size and type are readable. */
	assert_int_equal(pm_record_check(scratch, 4), PM_REC_BEYOND_BUFFER);
	assert_int_equal(pm_record_check(scratch, 0), PM_REC_BEYOND_BUFFER);
}

static void check_short_records_rejected(void **state)
{
	(void)state;
	make_header(scratch, UNKNOWN_TYPE, 32);
	assert_int_equal(pm_record_check(scratch, 4096), PM_REC_TOO_SHORT);
	make_header(scratch, PERSECMON_REC_LOST, 56);
	assert_int_equal(pm_record_check(scratch, 4096), PM_REC_TOO_SHORT);
	make_header(scratch, PERSECMON_REC_CLOCK, 40);
	assert_int_equal(pm_record_check(scratch, 4096), PM_REC_TOO_SHORT);
	make_header(scratch, PERSECMON_EV_TEST, 56);
	assert_int_equal(pm_record_check(scratch, 4096), PM_REC_TOO_SHORT);
	/* An unknown type needs only the header. */
	make_header(scratch, UNKNOWN_TYPE, 40);
	assert_int_equal(pm_record_check(scratch, 4096), PM_REC_OK);
}

static void check_pad_may_be_tiny_or_huge(void **state)
{
	(void)state;
	/* The end of an area can leave 8 bytes: only size/type exist. */
	make_header(scratch, PERSECMON_REC_PAD, 8);
	assert_int_equal(pm_record_check(scratch, 8), PM_REC_OK);
	make_header(scratch, PERSECMON_REC_PAD, 8192);
	assert_int_equal(pm_record_check(scratch, 8192), PM_REC_OK);
	make_header(scratch, UNKNOWN_TYPE, PERSECMON_RECORD_MAX + 8);
	assert_int_equal(pm_record_check(scratch, 8192), PM_REC_TOO_LARGE);
}

static void check_bad_types_rejected(void **state)
{
	(void)state;
	make_header(scratch, PERSECMON_REC_INVALID, 40);
	assert_int_equal(pm_record_check(scratch, 4096), PM_REC_BAD_TYPE);
	make_header(scratch, PERSECMON_REC_TYPE_MAX + 1, 40);
	assert_int_equal(pm_record_check(scratch, 4096), PM_REC_BAD_TYPE);
}

static void check_test_fill_len_bounded(void **state)
{
	struct persecmon_test_event *ev = (void *)scratch;

	(void)state;
	make_test_event(scratch, 1, 0, 0, 0, 8);
	assert_int_equal(pm_record_check(scratch, 4096), PM_REC_OK);
	ev->fill_len = 9;	/* 64 + 9 > 72 */
	assert_int_equal(pm_record_check(scratch, 4096), PM_REC_BAD_LENGTH);
}

/*
 * Random bytes, placed so that the record ends exactly at the end of a heap
 * block: ASan turns any read past "avail" into a failure. Whatever passes
 * the check must also decode without trouble.
 */
static void check_random_bytes_never_overread(void **state)
{
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	struct pm_decode_ctx ctx = { 0 };
	int accepted = 0, i;
	struct pm_out o;
	char *text = NULL;
	size_t text_len = 0;
	FILE *f = open_memstream(&text, &text_len);

	(void)state;
	assert_non_null(f);
	for (i = 0; i < 20000; i++) {
		size_t avail, j;
		uint8_t *blk;

		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		avail = 8 * (seed % 80);
		blk = malloc(avail ? avail : 1);
		assert_non_null(blk);
		for (j = 0; j < avail; j++)
			blk[j] = (uint8_t)((seed >> (j % 56)) ^ j);
		if (avail >= 4 && (seed & 1)) {
			/* Steer half of them towards plausible headers. */
			uint16_t size = (uint16_t)(8 * ((seed >> 20) % 12));
			uint16_t type = (uint16_t)((seed >> 40) % 70);

			memcpy(blk, &size, 2);
			memcpy(blk + 2, &type, 2);
		}
		if (pm_record_check(blk, avail) == PM_REC_OK) {
			const struct persecmon_record *rec = (const void *)blk;

			accepted++;
			if (rec->type != PERSECMON_REC_PAD) {
				pm_out_init(&o, f, (i & 2) ? PM_OUT_JSON :
							     PM_OUT_TEXT, true);
				pm_decode_record(&o, &ctx, rec);
			}
		}
		free(blk);
	}
	fclose(f);
	free(text);
	/* The steering must have produced some valid records to decode. */
	assert_true(accepted > 100);
}

static void check_test_event_intact(void **state)
{
	struct pm_test_result res;

	(void)state;
	make_test_event(scratch, 0x1234, 5, PERSECMON_CTX_HARDIRQ, 3, 100);
	assert_int_equal(pm_record_check(scratch, 4096), PM_REC_OK);
	assert_int_equal(pm_test_event_verify((void *)scratch, &res),
			 PM_TEST_OK);
	make_test_event(scratch, 0x1234, 5, PERSECMON_CTX_NMI, 3, 0);
	assert_int_equal(pm_test_event_verify((void *)scratch, NULL),
			 PM_TEST_OK);
}

static void check_test_event_corrupt_fill(void **state)
{
	struct persecmon_test_event *ev = (void *)scratch;
	struct pm_test_result res;
	char why[128];

	(void)state;
	make_test_event(scratch, 0x1234, 250, PERSECMON_CTX_TASK, 0, 16);
	ev->fill[9] ^= 0x01;
	assert_int_equal(pm_test_event_verify(&ev->hdr, &res), PM_TEST_BAD_FILL);
	assert_int_equal(res.offset, 64 + 9);
	assert_int_equal(res.expected, (250 + 9) & 0xff);
	assert_int_equal(res.actual, ((250 + 9) & 0xff) ^ 1);
	pm_test_result_describe(&res, why, sizeof(why));
	assert_string_equal(why, "fill byte at offset 73 is 0x02, expected 0x03");
}

static void check_test_event_corrupt_fields(void **state)
{
	struct persecmon_test_event *ev = (void *)scratch;
	struct pm_test_result res;

	(void)state;
	make_test_event(scratch, 1, 2, PERSECMON_CTX_TASK, 0, 4);
	ev->check ^= 1ULL << 40;
	assert_int_equal(pm_test_event_verify(&ev->hdr, &res),
			 PM_TEST_BAD_CHECK);

	/* check covers the CPU: a record filed under another CPU fails. */
	make_test_event(scratch, 1, 2, PERSECMON_CTX_TASK, 0, 4);
	ev->hdr.cpu = 1;
	assert_int_equal(pm_test_event_verify(&ev->hdr, &res),
			 PM_TEST_BAD_CHECK);

	make_test_event(scratch, 1, 2, PERSECMON_CTX_TASK, 0, 4);
	ev->context = PERSECMON_CTX_MAX + 1;
	assert_int_equal(pm_test_event_verify(&ev->hdr, &res),
			 PM_TEST_BAD_CONTEXT);

	/* 64 + 4 fill bytes in a 72-byte record: 4 bytes of zero padding. */
	make_test_event(scratch, 1, 2, PERSECMON_CTX_TASK, 0, 4);
	((uint8_t *)scratch)[70] = 0xff;
	assert_int_equal(pm_test_event_verify(&ev->hdr, &res),
			 PM_TEST_BAD_PADDING);
	assert_int_equal(res.offset, 70);
}

static char *render(enum pm_out_format fmt, bool verbose,
		    const struct pm_decode_ctx *ctx,
		    const struct persecmon_record *rec)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct pm_out o;

	assert_non_null(f);
	pm_out_init(&o, f, fmt, verbose);
	pm_decode_record(&o, ctx, rec);
	fclose(f);
	return text;
}

static void check_text_rendering(void **state)
{
	struct pm_decode_ctx ctx = { .base_ns = 1000 };
	char *text;

	(void)state;
	make_test_event(scratch, 42, 3, PERSECMON_CTX_SOFTIRQ, 1, 4);
	text = render(PM_OUT_TEXT, false, &ctx, (void *)scratch);
	assert_string_equal(text,
		"0.000001000    1   100     100     -                test     "
		"run_id=0x2a index=3 context=softirq fill_len=4 intact=yes\n");
	free(text);
}

static void check_json_rendering(void **state)
{
	struct pm_decode_ctx ctx = {
		.base_ns = 1000, .have_realtime = true,
		.realtime_offset_ns = 5000,
	};
	struct persecmon_test_event *ev = (void *)scratch;
	char want[1024];
	char *text;

	(void)state;
	make_test_event(scratch, 42, 3, PERSECMON_CTX_SOFTIRQ, 1, 4);
	ev->hdr.flags = PERSECMON_RF_TRUNCATED;
	ev->hdr.uid = 1000;
	ev->hdr.cgroup_id = 77;
	text = render(PM_OUT_JSON, false, &ctx, &ev->hdr);
	snprintf(want, sizeof(want),
		 "{\"ts\":0.000001000,\"cpu\":1,\"pid\":100,\"tgid\":100,"
		 "\"comm\":null,\"type\":\"test\",\"run_id\":42,\"index\":3,"
		 "\"context\":\"softirq\",\"fill_len\":4,\"check\":%llu,"
		 "\"intact\":true,\"flags\":[\"truncated\"],\"type_id\":16,"
		 "\"seq\":7,\"time_ns\":2000,\"realtime_ns\":7000,\"uid\":1000,"
		 "\"cgroup_id\":77,\"size\":72}\n",
		 (unsigned long long)ev->check);
	assert_string_equal(text, want);
	free(text);
}

static void check_corrupt_event_rendering(void **state)
{
	struct pm_decode_ctx ctx = { .base_ns = 1000 };
	struct persecmon_test_event *ev = (void *)scratch;
	char *text;

	(void)state;
	make_test_event(scratch, 42, 3, PERSECMON_CTX_TASK, 1, 4);
	ev->fill[0] = 0;
	text = render(PM_OUT_JSON, false, &ctx, &ev->hdr);
	assert_non_null(strstr(text, "\"intact\":false,\"error\":\"fill byte at offset 64 is 0x00, expected 0x03\""));
	free(text);
	text = render(PM_OUT_TEXT, false, &ctx, &ev->hdr);
	assert_non_null(strstr(text, "intact=no error=\"fill byte at offset 64 is 0x00, expected 0x03\""));
	free(text);
}

static void check_lost_and_clock_rendering(void **state)
{
	struct persecmon_lost_record *l = (void *)scratch;
	struct persecmon_clock_record *c = (void *)scratch;
	struct pm_decode_ctx ctx = { 0 };
	char *text;

	(void)state;
	make_header(scratch, PERSECMON_REC_LOST, sizeof(*l));
	l->lost = 5;
	l->total_lost = 9;
	l->type_mask = 1ULL << PERSECMON_EV_TEST | 1ULL << UNKNOWN_TYPE;
	text = render(PM_OUT_TEXT, false, &ctx, &l->hdr);
	assert_non_null(strstr(text,
			       " lost     lost=5 lost_types=test,type62 total_lost=9\n"));
	free(text);
	text = render(PM_OUT_JSON, false, &ctx, &l->hdr);
	assert_non_null(strstr(text,
			       "\"lost\":5,\"lost_types\":[\"test\",\"type62\"],\"total_lost\":9,\"type_mask\":4611686018427453440"));
	free(text);

	make_header(scratch, PERSECMON_REC_CLOCK, sizeof(*c));
	c->monotonic_ns = 100;
	c->realtime_ns = 1700000000000000000ULL;
	c->boottime_ns = 150;
	pm_decode_clock_update(&ctx, &c->hdr);
	assert_true(ctx.have_realtime);
	assert_int_equal(ctx.realtime_offset_ns, 1700000000000000000LL - 100);
	text = render(PM_OUT_TEXT, true, &ctx, &c->hdr);
	assert_non_null(strstr(text, "realtime_ns=1700000000000000000 boottime_ns=150 monotonic_ns=100"));
	free(text);
}

static void check_unknown_type_rendering(void **state)
{
	struct pm_decode_ctx ctx = { 0 };
	char *text;

	(void)state;
	make_header(scratch, UNKNOWN_TYPE, 56);
	text = render(PM_OUT_JSON, false, &ctx, (void *)scratch);
	assert_non_null(strstr(text, "\"type\":\"type62\",\"payload_len\":16"));
	free(text);
}

static void check_names(void **state)
{
	char bad[64], buf[PM_LABEL_MAX];
	uint64_t mask;

	(void)state;
	assert_int_equal(pm_type_parse("test"), PERSECMON_EV_TEST);
	assert_int_equal(pm_type_parse("lost"), PERSECMON_REC_LOST);
	assert_int_equal(pm_type_parse("type20"), 20);
	assert_int_equal(pm_type_parse("20"), 20);
	assert_int_equal(pm_type_parse("0"), -1);
	assert_int_equal(pm_type_parse("64"), -1);
	assert_int_equal(pm_type_parse("bogus"), -1);
	assert_int_equal(pm_type_parse("20x"), -1);
	assert_int_equal(pm_context_parse("nmi"), PERSECMON_CTX_NMI);
	assert_int_equal(pm_context_parse("irq"), -1);
	assert_string_equal(pm_type_label(16, buf, sizeof(buf)), "test");
	assert_string_equal(pm_type_label(UNKNOWN_TYPE, buf, sizeof(buf)), "type62");
	assert_string_equal(pm_group_label(0, buf, sizeof(buf)), "test");
	assert_string_equal(pm_group_label(62, buf, sizeof(buf)), "group62");

	assert_int_equal(pm_parse_name_list("task,nmi", pm_context_parse,
					    PERSECMON_CTX_MAX, &mask, bad,
					    sizeof(bad)), 0);
	assert_int_equal(mask, 0x9);
	assert_int_equal(pm_parse_name_list("task,,nmi", pm_context_parse,
					    PERSECMON_CTX_MAX, &mask, bad,
					    sizeof(bad)), -1);
	assert_int_equal(pm_parse_name_list("task,idle", pm_context_parse,
					    PERSECMON_CTX_MAX, &mask, bad,
					    sizeof(bad)), -1);
	assert_string_equal(bad, "idle");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(check_zero_size_rejected),
		cmocka_unit_test(check_unaligned_size_rejected),
		cmocka_unit_test(check_size_beyond_buffer_rejected),
		cmocka_unit_test(check_short_records_rejected),
		cmocka_unit_test(check_pad_may_be_tiny_or_huge),
		cmocka_unit_test(check_bad_types_rejected),
		cmocka_unit_test(check_test_fill_len_bounded),
		cmocka_unit_test(check_random_bytes_never_overread),
		cmocka_unit_test(check_test_event_intact),
		cmocka_unit_test(check_test_event_corrupt_fill),
		cmocka_unit_test(check_test_event_corrupt_fields),
		cmocka_unit_test(check_text_rendering),
		cmocka_unit_test(check_json_rendering),
		cmocka_unit_test(check_corrupt_event_rendering),
		cmocka_unit_test(check_lost_and_clock_rendering),
		cmocka_unit_test(check_unknown_type_rendering),
		cmocka_unit_test(check_names),
	};

	return cmocka_run_group_tests_name("lib_decode", tests, NULL, NULL);
}
