// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "test_ring_common.h"

int test_ring_open(struct test_ring *t, u64 data_size, unsigned int cpu)
{
	memset(t, 0, sizeof(*t));
	t->ctrl = aligned_alloc(4096, 4096);
	t->data = aligned_alloc(4096, data_size < 4096 ? 4096 : data_size);
	if (!t->ctrl || !t->data)
		abort();
	memset(t->ctrl, 0, 4096);
	memset(t->data, TEST_POISON, data_size < 4096 ? 4096 : data_size);
	t->data_size = data_size;
	return pm_ring_init(&t->ring, t->ctrl, t->data, data_size, cpu);
}

int test_ring_reset(struct test_ring *t, unsigned int cpu)
{
	memset(t->ctrl, 0, 4096);
	memset(t->data, TEST_POISON, t->data_size);
	return pm_ring_init(&t->ring, t->ctrl, t->data, t->data_size, cpu);
}

void test_ring_close(struct test_ring *t)
{
	free(t->ctrl);
	free(t->data);
	memset(t, 0, sizeof(*t));
}

u64 test_ring_unread(struct test_ring *t)
{
	return __atomic_load_n(&t->ring.published, __ATOMIC_RELAXED) -
	       __atomic_load_n(&t->ring.consumed, __ATOMIC_ACQUIRE);
}

static u64 test_mix(u64 x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static u64 test_word(u32 seq, u64 tag, u64 j)
{
	return test_mix(((u64)seq << 20) ^ (tag * 0x100000001b3ULL) ^ j);
}

/*
 * The tag goes in time_ns; pid, tgid and the payload follow from (seq, tag);
 * uid, flags and cgroup_id stay as pm_ring_reserve() left them (zero).
 */
void test_fill(struct persecmon_record *rec, u64 tag)
{
	u64 *words = (u64 *)(rec + 1);
	size_t n = (rec->size - sizeof(*rec)) / sizeof(u64), j;

	rec->time_ns = tag;
	rec->pid = (u32)test_word(rec->seq, tag, ~0ULL);
	rec->tgid = rec->seq ^ 0x5a5a5a5aU;
	for (j = 0; j < n; j++)
		words[j] = test_word(rec->seq, tag, j);
}

const char *test_check(const struct persecmon_record *rec, u64 *tag)
{
	const u64 *words = (const u64 *)(rec + 1);
	size_t n = (rec->size - sizeof(*rec)) / sizeof(u64), j;

	*tag = rec->time_ns;
	if (rec->flags || rec->uid || rec->cgroup_id)
		return "header bytes the writer did not set are not zero";
	if (rec->pid != (u32)test_word(rec->seq, *tag, ~0ULL) ||
	    rec->tgid != (rec->seq ^ 0x5a5a5a5aU))
		return "header fields differ from what the writer wrote";
	for (j = 0; j < n; j++)
		if (words[j] != test_word(rec->seq, *tag, j))
			return "payload differs from what the writer wrote";
	return NULL;
}

void stream_check_init(struct stream_check *sc, u16 cpu, u32 first_seq,
		       u64 allowed_lost_mask)
{
	memset(sc, 0, sizeof(*sc));
	sc->cpu = cpu;
	sc->next_seq = first_seq;
	sc->allowed_lost_mask = allowed_lost_mask;
}

__attribute__((format(printf, 2, 3)))
static bool stream_fail(struct stream_check *sc, const char *fmt, ...)
{
	va_list ap;

	if (!sc->err[0]) {
		va_start(ap, fmt);
		vsnprintf(sc->err, sizeof(sc->err), fmt, ap);
		va_end(ap);
	}
	return false;
}

static bool stream_check_lost(struct stream_check *sc,
			      const struct persecmon_record *rec)
{
	const struct persecmon_lost_record *lr = (const void *)rec;
	u32 gap = rec->seq - sc->next_seq;

	if (rec->size != sizeof(*lr))
		return stream_fail(sc, "LOST seq %u has size %u", rec->seq,
				   rec->size);
	if (gap == 0 || lr->lost != gap)
		return stream_fail(sc, "LOST seq %u announces %llu, seq gap is %u",
				   rec->seq, (unsigned long long)lr->lost, gap);
	if (lr->total_lost != sc->total_lost + gap)
		return stream_fail(sc, "LOST seq %u total %llu, expected %llu",
				   rec->seq, (unsigned long long)lr->total_lost,
				   (unsigned long long)(sc->total_lost + gap));
	if (!lr->type_mask || (lr->type_mask & ~sc->allowed_lost_mask))
		return stream_fail(sc, "LOST seq %u type mask %#llx not in %#llx",
				   rec->seq, (unsigned long long)lr->type_mask,
				   (unsigned long long)sc->allowed_lost_mask);
	if (rec->flags || rec->uid || rec->pid || rec->tgid ||
	    rec->cgroup_id || !rec->time_ns)
		return stream_fail(sc, "LOST seq %u header not as documented",
				   rec->seq);
	sc->total_lost += gap;
	sc->lost_mask_seen |= lr->type_mask;
	sc->lost_records++;
	sc->after_lost = true;
	sc->lost_seq = rec->seq;
	return true;
}

bool stream_check_record(struct stream_check *sc,
			 const struct persecmon_record *rec)
{
	const char *why;
	u64 tag;
	unsigned int ctx;

	if (sc->err[0])
		return false;
	if (rec->type == PERSECMON_REC_PAD) {
		if (rec->size < 8 || rec->size % 8)
			return stream_fail(sc, "PAD of size %u", rec->size);
		if (sc->after_lost)
			return stream_fail(sc, "PAD between LOST seq %u and its record",
					   sc->lost_seq);
		sc->pads++;
		return true;
	}
	if (rec->cpu != sc->cpu)
		return stream_fail(sc, "seq %u has cpu %u, expected %u", rec->seq,
				   rec->cpu, sc->cpu);
	if (rec->size < sizeof(*rec) || rec->size % 8 ||
	    rec->size > PERSECMON_RECORD_MAX)
		return stream_fail(sc, "seq %u has size %u", rec->seq, rec->size);
	if (sc->after_lost) {
		if (rec->seq != sc->lost_seq + 1 ||
		    rec->type == PERSECMON_REC_LOST)
			return stream_fail(sc, "LOST seq %u followed by type %u seq %u",
					   sc->lost_seq, rec->type, rec->seq);
		sc->after_lost = false;
	}
	if (rec->type == PERSECMON_REC_LOST) {
		if (!stream_check_lost(sc, rec))
			return false;
	} else {
		if (rec->seq != sc->next_seq)
			return stream_fail(sc, "seq %u where %u was due, no LOST record announced the gap",
					   rec->seq, sc->next_seq);
		if (rec->type >= TEST_TYPE(0) &&
		    rec->type < TEST_TYPE(TEST_CTX_MAX)) {
			why = test_check(rec, &tag);
			if (why)
				return stream_fail(sc, "seq %u: %s", rec->seq, why);
			ctx = (unsigned int)(tag >> 56);
			if (ctx != (unsigned int)(rec->type - TEST_TYPE(0)))
				return stream_fail(sc, "seq %u: context %u in a type %u record",
						   rec->seq, ctx, rec->type);
			if ((tag & ((1ULL << 56) - 1)) != sc->ctx_records[ctx])
				return stream_fail(sc, "seq %u: context %u record %llu, expected %llu",
						   rec->seq, ctx,
						   (unsigned long long)(tag & ((1ULL << 56) - 1)),
						   (unsigned long long)sc->ctx_records[ctx]);
			sc->ctx_records[ctx]++;
		}
	}
	sc->next_seq = rec->seq + 1;
	sc->records++;
	return true;
}

bool test_mmap_read(struct test_ring *t, u64 *tailp, struct stream_check *sc)
{
	return test_mmap_read_n(t, tailp, sc, UINT64_MAX);
}

bool test_mmap_read_n(struct test_ring *t, u64 *tailp, struct stream_check *sc,
		      u64 max)
{
	u64 head = __atomic_load_n(&t->ctrl->head, __ATOMIC_ACQUIRE);
	u64 tail = *tailp;
	const struct persecmon_record *rec;
	u64 off;
	u32 size;

	for (; tail != head && max; max--) {
		off = tail & (t->data_size - 1);
		rec = (const void *)(t->data + off);
		size = rec->size;
		if (size < 8 || size % 8 || off + size > t->data_size ||
		    size > head - tail)
			return stream_fail(sc, "record of size %u at %llu, head %llu",
					   size, (unsigned long long)tail,
					   (unsigned long long)head);
		if (rec->type == PERSECMON_REC_PAD && off + size != t->data_size)
			return stream_fail(sc, "PAD at offset %llu stops short of the end",
					   (unsigned long long)off);
		if (!stream_check_record(sc, rec))
			return false;
		tail += size;
	}
	__atomic_store_n(&t->ctrl->tail, tail, __ATOMIC_RELEASE);
	*tailp = tail;
	return true;
}

const char *test_ring_final_check(struct test_ring *t,
				  const struct stream_check *sc, u32 first_seq)
{
	static __thread char msg[320];
	struct pm_ring *r = &t->ring;
	u64 written = (u64)local_read(&r->written);
	u64 dropped = (u64)local_read(&r->dropped);
	u64 pending = (u64)local_read(&r->lost_pending);
	u64 reported = (u64)local_read(&r->lost_reported);
	u32 seq_end = (u32)((u64)local_read(&r->head) >> 32);
	u64 by_type = 0, dropped_types = 0;
	int i;

	for (i = 0; i <= PERSECMON_REC_TYPE_MAX; i++) {
		by_type += (u64)local_read(&r->dropped_by_type[i]);
		if (local_read(&r->dropped_by_type[i]))
			dropped_types |= 1ULL << i;
	}
#define FAIL(...) do { snprintf(msg, sizeof(msg), __VA_ARGS__); return msg; } while (0)
	if (sc->err[0])
		FAIL("stream: %s", sc->err);
	if (local_read(&r->nest) || local_read(&r->lost_busy))
		FAIL("nest %ld, lost_busy %ld after writers stopped",
		     local_read(&r->nest), local_read(&r->lost_busy));
	if (r->consumed != r->published || t->ctrl->head != r->published)
		FAIL("not drained: consumed %llu, published %llu, ctrl head %llu",
		     (unsigned long long)r->consumed,
		     (unsigned long long)r->published,
		     (unsigned long long)t->ctrl->head);
	if (pm_ring_produced(r) != written + dropped)
		FAIL("produced %llu != written %llu + dropped %llu",
		     (unsigned long long)pm_ring_produced(r),
		     (unsigned long long)written, (unsigned long long)dropped);
	if ((u32)(seq_end - first_seq) != (u32)(written + dropped))
		FAIL("seq advanced by %u for %llu attempts",
		     seq_end - first_seq,
		     (unsigned long long)(written + dropped));
	if (sc->records != written || r->consumed_records != written)
		FAIL("written %llu, reader saw %llu, ring counted %llu consumed",
		     (unsigned long long)written,
		     (unsigned long long)sc->records,
		     (unsigned long long)r->consumed_records);
	if (sc->total_lost != reported || reported + pending != dropped)
		FAIL("dropped %llu, announced %llu (ring says %llu), pending %llu",
		     (unsigned long long)dropped,
		     (unsigned long long)sc->total_lost,
		     (unsigned long long)reported, (unsigned long long)pending);
	if ((u32)(sc->next_seq + pending) != seq_end)
		FAIL("last seq seen %u + pending %llu != next seq %u",
		     sc->next_seq, (unsigned long long)pending, seq_end);
	if (by_type != dropped)
		FAIL("dropped_by_type sums to %llu, dropped %llu",
		     (unsigned long long)by_type, (unsigned long long)dropped);
	if (sc->lost_mask_seen & ~dropped_types)
		FAIL("LOST masks name types %#llx never dropped (%#llx)",
		     (unsigned long long)sc->lost_mask_seen,
		     (unsigned long long)dropped_types);
	if (!pending && (sc->lost_mask_seen != dropped_types ||
			 local_read(&r->lost_mask) ||
			 local_read(&r->lost_mask_nested)))
		FAIL("all announced, yet LOST masks %#llx != dropped types %#llx",
		     (unsigned long long)sc->lost_mask_seen,
		     (unsigned long long)dropped_types);
#undef FAIL
	return NULL;
}
