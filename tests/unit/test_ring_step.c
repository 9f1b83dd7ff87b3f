// SPDX-License-Identifier: GPL-2.0
/*
 * Every interleaving of two nested writers, exhaustively: the outer writer
 * runs with the x86 trap flag set, so a SIGTRAP comes after each of its
 * instructions. At each one the handler (which runs with the flag clear)
 * forks: the child plays an interrupt there, writing into the same ring,
 * lets the outer writer finish, checks the stream and the accounting in
 * full and exits with the verdict; the parent waits for it and steps on.
 * Windows a few instructions wide, which random signals almost never hit,
 * are all covered. x86-64 only; not built with TSan.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>
#include <cmocka.h>

#include "test_ring_common.h"

#ifndef __x86_64__
#error "test_ring_step single-steps with the x86-64 trap flag"
#endif

#define RING_SIZE	16384ULL
#define EFLAGS_TF	0x100

#define CTX_OUTER	0
#define CTX_INNER	1

struct writer {
	unsigned int ctx;
	u64 written, dropped;
};

struct scenario {
	const char *name;
	/* Brings a fresh ring to the state under test. */
	void (*prepare)(struct stream_check *sc, struct writer *w);
	u32 outer_size;		/* 0: an invalid request */
	u32 inner_size;
};

static struct test_ring ring;
static struct writer writers[2];
static const struct scenario *current;

/* The linker's bounds of this program's code. */
extern const char __executable_start[], etext[];

static long step_count;		/* instructions of the outer writer so far */
static uintptr_t last_pc;
static long failures;
static bool in_child;
static struct stream_check check;

static void put(struct writer *w, u32 size)
{
	struct persecmon_record *rec;

	rec = pm_ring_reserve(&ring.ring, TEST_TYPE(w->ctx), size);
	if (!rec) {
		w->dropped++;
		return;
	}
	test_fill(rec, test_tag(w->ctx, w->written++));
	pm_ring_commit(&ring.ring, rec);
}

static inline void step_on(void)
{
	__asm__ __volatile__("pushfq; orq %0, (%%rsp); popfq"
			     : : "i" (EFLAGS_TF) : "memory", "cc");
}

static inline void step_off(void)
{
	__asm__ __volatile__("pushfq; andq %0, (%%rsp); popfq"
			     : : "i" (~EFLAGS_TF) : "memory", "cc");
}

/*
 * put() with the ring's code single-stepped. The fill in between changes
 * no ring state: one interrupt point there (after step_off) stands for all.
 */
static void put_stepped(struct writer *w, u32 size)
{
	struct persecmon_record *rec;

	step_on();
	rec = pm_ring_reserve(&ring.ring, TEST_TYPE(w->ctx), size);
	step_off();
	if (!rec) {
		w->dropped++;
		return;
	}
	test_fill(rec, test_tag(w->ctx, w->written++));
	if (in_child) {		/* its interrupt happened: run free */
		pm_ring_commit(&ring.ring, rec);
		return;
	}
	step_on();
	pm_ring_commit(&ring.ring, rec);
	step_off();
}

/* Stepping through the vDSO clock's retry loop would take ~10^5 steps. */
u64 ktime_get_mono_fast_ns(void)
{
	static u64 fake_ns;

	return ++fake_ns;
}

static void on_trap(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	uintptr_t pc;
	pid_t child;
	int status;

	(void)sig;
	(void)si;
	/*
	 * Only points inside this program's code (ring.c) are interleavings
	 * of interest: inside libc's or the sanitizer's memset no ring state
	 * is read or written, so they equal the points around the call.
	 */
	pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	if (pc < (uintptr_t)__executable_start || pc >= (uintptr_t)etext)
		return;
	/* The same pc again: an iteration of a rep-prefixed zero-fill. */
	if (pc == last_pc)
		return;
	last_pc = pc;
	step_count++;
	child = fork();
	if (child < 0)
		abort();
	if (child == 0) {
		/* The interrupt, after instruction step_count; then run free. */
		uc->uc_mcontext.gregs[REG_EFL] &= ~EFLAGS_TF;
		in_child = true;
		put(&writers[CTX_INNER], current->inner_size);
		return;
	}
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		failures++;
}

static void drain(struct stream_check *sc)
{
	u64 tail = ring.ring.consumed;

	if (!test_mmap_read(&ring, &tail, sc))
		fail_msg("%s: %s", current->name, sc->err);
	pm_ring_sync_tail(&ring.ring);
	assert_int_equal(ring.ring.consumed, tail);
}

/* @records records of @size, each read at once. */
static void write_and_read(struct stream_check *sc, struct writer *w,
			   unsigned int records, u32 size)
{
	while (records--) {
		put(w, size);
		drain(sc);
	}
}

/* On a fresh ring: @total bytes of records of @piece bytes, unread. */
static void fill_fresh(struct writer *w, u32 total, u32 piece)
{
	assert_int_equal(ring.ring.published, 0);
	while (total >= 2 * piece) {
		put(w, piece);
		total -= piece;
	}
	if (total > piece) {
		put(w, ALIGN(total / 2, 8));
		total -= ALIGN(total / 2, 8);
	}
	if (total)
		put(w, total);
	assert_int_equal(w->dropped, 0);
}

static void prepare_empty(struct stream_check *sc, struct writer *w)
{
	write_and_read(sc, w, 3, 64);
}

/* The next record needs a PAD: 104 bytes before the end. */
static void prepare_near_end(struct stream_check *sc, struct writer *w)
{
	write_and_read(sc, w, 3, 4096);
	write_and_read(sc, w, 1, (RING_SIZE - 104) % 4096);
	assert_int_equal(ring.ring.published, RING_SIZE - 104);
}

/* Two drops pending, 256 bytes free at offset 0. */
static void prepare_pending_room(struct stream_check *sc, struct writer *w)
{
	u64 tail = 0;

	fill_fresh(w, RING_SIZE, 64);
	put(w, 64);
	put(w, 64);
	assert_int_equal(local_read(&ring.ring.lost_pending), 2);
	assert_true(test_mmap_read_n(&ring, &tail, sc, 4));
	pm_ring_sync_tail(&ring.ring);
	assert_int_equal(ring.ring.consumed, 256);
}

/* Full but for the last 200 bytes of the area, nothing pending. */
static void prepare_room_200(struct stream_check *sc, struct writer *w)
{
	(void)sc;
	fill_fresh(w, RING_SIZE - 200, 4096);
	assert_int_equal(local_read(&ring.ring.lost_pending), 0);
}

/* The same, with one drop pending. */
static void prepare_pending_room_200(struct stream_check *sc, struct writer *w)
{
	prepare_room_200(sc, w);
	put(w, 4096);
	assert_int_equal(local_read(&ring.ring.lost_pending), 1);
}

static const struct scenario scenarios[] = {
	/* Both write; no loss anywhere. */
	{ "write/write", prepare_empty, 64, 64 },
	/* The outer record needs a PAD, the inner one may take the room. */
	{ "wrap/write", prepare_near_end, 4096, 64 },
	{ "wrap/wrap", prepare_near_end, 200, 120 },
	/* The outer writer announces a loss; the inner one fits or not. */
	{ "announce/write", prepare_pending_room, 64, 64 },
	{ "announce/drop", prepare_pending_room, 64, 4096 },
	/* The outer writer drops first (nothing pending), the inner fits. */
	{ "first-drop/write", prepare_room_200, 4096, 64 },
	{ "first-drop/drop", prepare_room_200, 4096, 4096 },
	/* The outer writer drops with a loss pending; the inner may announce. */
	{ "owner-drop/write", prepare_pending_room_200, 4096, 64 },
	/* A refused request is a drop too. */
	{ "invalid/write", prepare_room_200, 0, 64 },
};

/* In the child, once the outer writer is done: NULL if all is well. */
static const char *verdict(void)
{
	static char msg[400];
	struct stream_check *sc = &check;
	const char *why;
	u64 tail;
	int c;

	/* Everything reserved is published: no writer is left on the "CPU". */
	if (local_read(&ring.ring.nest) ||
	    (u32)local_read(&ring.ring.head) != (u32)ring.ring.published) {
		snprintf(msg, sizeof(msg), "nest %ld, reserved %u, published %u",
			 local_read(&ring.ring.nest),
			 (u32)local_read(&ring.ring.head),
			 (u32)ring.ring.published);
		return msg;
	}
	tail = ring.ring.consumed;
	if (!test_mmap_read(&ring, &tail, sc))
		return sc->err;
	pm_ring_sync_tail(&ring.ring);
	if (local_read(&ring.ring.lost_pending)) {	/* announce the rest */
		put(&writers[CTX_OUTER], 64);
		if (!test_mmap_read(&ring, &tail, sc))
			return sc->err;
		pm_ring_sync_tail(&ring.ring);
	}
	why = test_ring_final_check(&ring, sc, 0);
	if (why)
		return why;
	for (c = 0; c < 2; c++) {
		if (sc->ctx_records[c] != writers[c].written) {
			snprintf(msg, sizeof(msg),
				 "context %d wrote %llu, reader saw %llu", c,
				 (unsigned long long)writers[c].written,
				 (unsigned long long)sc->ctx_records[c]);
			return msg;
		}
	}
	if ((u64)local_read(&ring.ring.dropped_by_type[TEST_TYPE(CTX_INNER)]) !=
	    writers[CTX_INNER].dropped)
		return "inner writer's drops not counted under its type";
	if (kshim_warnings)
		return "the ring warned";
	return NULL;
}

/* All interleavings of one scenario; returns the outer writer's length. */
static long run_scenario(const struct scenario *s)
{
	const char *why;

	assert_int_equal(test_ring_reset(&ring, 0), 0);
	memset(writers, 0, sizeof(writers));
	writers[CTX_INNER].ctx = CTX_INNER;
	stream_check_init(&check, 0, 0,
			  TEST_TYPES_MASK | 1ULL << PERSECMON_REC_INVALID);
	s->prepare(&check, &writers[CTX_OUTER]);

	current = s;
	step_count = 0;
	last_pc = 0;
	failures = 0;
	put_stepped(&writers[CTX_OUTER], s->outer_size);
	if (in_child) {
		why = verdict();
		if (why)
			fprintf(stderr, "# %s, interrupt after instruction %ld: %s\n",
				s->name, step_count, why);
		_exit(why ? 1 : 0);
	}
	if (failures)
		fail_msg("%s: %ld of %ld interleavings failed (see above)",
			 s->name, failures, step_count);
	return step_count;
}

static void test_every_interleaving(void **state)
{
	struct sigaction sa;
	size_t i;
	long steps;

	(void)state;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_trap;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGTRAP, &sa, NULL), 0);
	assert_int_equal(test_ring_open(&ring, RING_SIZE, 0), 0);
	kshim_warnings = 0;

	for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		steps = run_scenario(&scenarios[i]);
		assert_true(steps > 20);	/* it did step through a writer */
		print_message("# %s: an interrupt after each of %ld instructions\n",
			      scenarios[i].name, steps);
	}
	assert_int_equal(kshim_warnings, 0);
	signal(SIGTRAP, SIG_DFL);
	test_ring_close(&ring);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_interleaving),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
