// SPDX-License-Identifier: GPL-2.0
/*
 * Nested writers on one "CPU": a writer thread is interrupted at random
 * instructions by SIGUSR1, whose handler writes into the same ring, and by
 * SIGUSR2, which may also interrupt the SIGUSR1 handler and writes too
 * (task -> hardirq -> NMI); both come from timers of the writer thread.
 * A consumer thread reads concurrently through
 * the mmap protocol. Every record, the per-context order and the accounting
 * are checked exactly. Not built with TSan, which defers signals.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "test_ring_common.h"

#define CTX_TASK	0
#define CTX_IRQ		1	/* SIGUSR1 */
#define CTX_NMI		2	/* SIGUSR2 */
#define NR_CTX		3
/*
 * Run at least MIN_RUN_NS and until handlers landed inside writers often
 * enough for the test to mean something; a loaded machine needs longer.
 */
#define MIN_RUN_NS	1500000000ULL
#define MAX_RUN_NS	30000000000ULL
#define MIN_HITS	1000
#define MIN_NMI_IN_IRQ	10

/* Everything the handlers touch; each context only writes its own slot. */
static struct test_ring sig_ring;
static u64 ctx_written[NR_CTX], ctx_dropped[NR_CTX], ctx_rnd[NR_CTX];
static u64 ctx_skipped[NR_CTX];
static u64 hits_in_writer[NR_CTX];	/* interrupted a reserve..commit */
static u64 hits_in_loss_bookkeeping[NR_CTX];
static u64 nmi_in_irq;		/* three levels deep */
static volatile sig_atomic_t in_irq;
static volatile sig_atomic_t handler_fault;
static u64 unpublished_after_commit;
static bool sig_throttle;	/* leave room: nothing may drop */
static u32 sig_max_size;

static int stop_writer, writer_done;	/* atomics */

/* Whether every reserved byte is published, read without interference. */
static bool all_published(void)
{
	long word, again;
	u64 published;

	do {
		word = local_read(&sig_ring.ring.head);
		published = __atomic_load_n(&sig_ring.ring.published,
					    __ATOMIC_RELAXED);
		again = local_read(&sig_ring.ring.head);
	} while (word != again);	/* an interrupt wrote in between */
	return (u32)word == (u32)published;
}

static void write_one(unsigned int ctx)
{
	struct persecmon_record *rec;
	u32 size = test_rand_size(&ctx_rnd[ctx], sig_max_size);

	if (sig_throttle && test_ring_unread(&sig_ring) >
	    sig_ring.data_size / 2) {
		ctx_skipped[ctx]++;
		return;
	}
	rec = pm_ring_reserve(&sig_ring.ring, TEST_TYPE(ctx), size);
	if (!rec) {
		ctx_dropped[ctx]++;
		return;
	}
	if (rec->type != TEST_TYPE(ctx) || rec->size != size)
		handler_fault = 1;
	test_fill(rec, test_tag(ctx, ctx_written[ctx]));
	/*
	 * The task context works on its record longer, as a probe gathering
	 * data would, so that interrupts land between reserve and commit.
	 */
	if (ctx == CTX_TASK) {
		test_fill(rec, test_tag(ctx, ctx_written[ctx]));
		test_fill(rec, test_tag(ctx, ctx_written[ctx]));
	}
	ctx_written[ctx]++;
	pm_ring_commit(&sig_ring.ring, rec);
	/*
	 * The task context is the outermost writer: once it has committed,
	 * everything reserved on this CPU is published (an interrupt coming
	 * after the commit publishes its own record before it returns).
	 */
	if (ctx == CTX_TASK && !all_published())
		unpublished_after_commit++;
}

static void on_signal(int sig)
{
	unsigned int ctx = sig == SIGUSR1 ? CTX_IRQ : CTX_NMI;
	int saved_errno = errno;

	/* Atomic only because the main thread watches them. */
	if (local_read(&sig_ring.ring.nest))
		__atomic_fetch_add(&hits_in_writer[ctx], 1, __ATOMIC_RELAXED);
	if (local_read(&sig_ring.ring.lost_busy))
		hits_in_loss_bookkeeping[ctx]++;
	if (ctx == CTX_NMI && in_irq)
		__atomic_fetch_add(&nmi_in_irq, 1, __ATOMIC_RELAXED);
	if (ctx == CTX_IRQ)
		in_irq = 1;
	write_one(ctx);
	if (ctx == CTX_IRQ) {
		write_one(ctx);
		in_irq = 0;
	}
	errno = saved_errno;
}

/*
 * A timer that signals this thread every @period_ns. Armed by the writer
 * itself, its interrupt fires on the writer's CPU and the signal lands at
 * whatever instruction that interrupt hit.
 */
static timer_t arm_timer(int sig, long period_ns)
{
	struct sigevent sev;
	struct itimerspec its;
	timer_t timer;

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = sig;
	sev._sigev_un._tid = gettid();	/* sigev_notify_thread_id */
	if (timer_create(CLOCK_MONOTONIC, &sev, &timer))
		abort();
	memset(&its, 0, sizeof(its));
	its.it_interval.tv_nsec = period_ns;
	its.it_value.tv_nsec = period_ns;
	if (timer_settime(timer, 0, &its, NULL))
		abort();
	return timer;
}

static void *writer_main(void *arg)
{
	timer_t irq, nmi;
	sigset_t block;

	(void)arg;
	irq = arm_timer(SIGUSR1, 40000);
	nmi = arm_timer(SIGUSR2, 110000);
	while (!__atomic_load_n(&stop_writer, __ATOMIC_ACQUIRE))
		write_one(CTX_TASK);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &block, NULL);
	timer_delete(irq);
	timer_delete(nmi);
	__atomic_store_n(&writer_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

static void pin(pthread_t thread, int cpu)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;

	if (ncpu < 2)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(thread, sizeof(set), &set);
}

struct consumer {
	struct stream_check sc;
	unsigned int delay_us;
	u64 passes;
	char err[128];
};

static void *consumer_main(void *arg)
{
	struct consumer *c = arg;
	u64 tail = 0, stuck = 0, last = 0;
	int done;

	for (;;) {
		done = __atomic_load_n(&writer_done, __ATOMIC_ACQUIRE);
		if (!test_mmap_read(&sig_ring, &tail, &c->sc))
			break;
		pm_ring_sync_tail(&sig_ring.ring);
		c->passes++;
		if (done && sig_ring.ring.consumed ==
		    __atomic_load_n(&sig_ring.ring.published, __ATOMIC_ACQUIRE))
			break;
		/* A broken ring must fail the test, not hang it. */
		stuck = done && tail == last ? stuck + 1 : 0;
		last = tail;
		if (stuck > 10000 ||
		    __atomic_load_n(&kshim_warnings, __ATOMIC_RELAXED)) {
			snprintf(c->err, sizeof(c->err),
				 "cannot drain: tail %llu, consumed %llu, published %llu",
				 (unsigned long long)tail,
				 (unsigned long long)sig_ring.ring.consumed,
				 (unsigned long long)sig_ring.ring.published);
			break;
		}
		if (c->delay_us)
			usleep(c->delay_us);
	}
	return NULL;
}

static bool enough_nesting(void)
{
	return __atomic_load_n(&hits_in_writer[CTX_IRQ], __ATOMIC_RELAXED) +
	       __atomic_load_n(&hits_in_writer[CTX_NMI], __ATOMIC_RELAXED) >=
	       MIN_HITS &&
	       __atomic_load_n(&nmi_in_irq, __ATOMIC_RELAXED) >= MIN_NMI_IN_IRQ;
}

static void run_nested(u64 ring_size, bool throttle, unsigned int delay_us)
{
	struct sigaction sa;
	struct consumer c;
	pthread_t writer, consumer;
	const char *why;
	u64 start, total_dropped = 0, hits = 0, bookkeeping_hits = 0;
	unsigned int ctx;

	memset(ctx_written, 0, sizeof(ctx_written));
	memset(ctx_dropped, 0, sizeof(ctx_dropped));
	memset(ctx_skipped, 0, sizeof(ctx_skipped));
	memset(hits_in_writer, 0, sizeof(hits_in_writer));
	memset(hits_in_loss_bookkeeping, 0, sizeof(hits_in_loss_bookkeeping));
	nmi_in_irq = 0;
	for (ctx = 0; ctx < NR_CTX; ctx++)
		ctx_rnd[ctx] = 0xabcdef12345ULL * (ctx + 1);
	handler_fault = 0;
	unpublished_after_commit = 0;
	sig_throttle = throttle;
	sig_max_size = 1024;
	stop_writer = writer_done = 0;
	kshim_warnings = 0;
	assert_int_equal(test_ring_open(&sig_ring, ring_size, 0), 0);
	memset(&c, 0, sizeof(c));
	stream_check_init(&c.sc, 0, 0, TEST_TYPES_MASK);
	c.delay_us = delay_us;

	/* SIGUSR2 may interrupt the SIGUSR1 handler, not the reverse. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
	sigaddset(&sa.sa_mask, SIGUSR1);
	assert_int_equal(sigaction(SIGUSR2, &sa, NULL), 0);

	assert_int_equal(pthread_create(&consumer, NULL, consumer_main, &c), 0);
	assert_int_equal(pthread_create(&writer, NULL, writer_main, NULL), 0);
	/* The consumer elsewhere, so that the writer keeps its CPU. */
	pin(writer, 0);
	pin(consumer, 1);
	start = now_ns();
	while (now_ns() - start < MIN_RUN_NS || !enough_nesting()) {
		if (now_ns() - start > MAX_RUN_NS)
			break;
		usleep(10000);
	}
	__atomic_store_n(&stop_writer, 1, __ATOMIC_RELEASE);
	pthread_join(writer, NULL);
	pthread_join(consumer, NULL);
	signal(SIGUSR1, SIG_DFL);
	signal(SIGUSR2, SIG_DFL);

	assert_int_equal(handler_fault, 0);
	assert_int_equal(unpublished_after_commit, 0);
	if (c.sc.err[0])
		fail_msg("%s", c.sc.err);
	if (c.err[0])
		fail_msg("%s", c.err);
	/* The writer thread is gone: this one is the ring's CPU now. */
	if (local_read(&sig_ring.ring.lost_pending)) {
		write_one(CTX_TASK);
		assert_true(test_mmap_read(&sig_ring, &(u64){ sig_ring.ring.consumed },
					   &c.sc));
		pm_ring_sync_tail(&sig_ring.ring);
	}
	why = test_ring_final_check(&sig_ring, &c.sc, 0);
	if (why)
		fail_msg("%s", why);
	for (ctx = 0; ctx < NR_CTX; ctx++) {
		assert_int_equal(c.sc.ctx_records[ctx], ctx_written[ctx]);
		assert_int_equal(local_read(&sig_ring.ring.dropped_by_type[TEST_TYPE(ctx)]),
				 ctx_dropped[ctx]);
		total_dropped += ctx_dropped[ctx];
		hits += hits_in_writer[ctx];
		bookkeeping_hits += hits_in_loss_bookkeeping[ctx];
		print_message("# context %u: %llu written, %llu dropped, %llu skipped, interrupted a writer %llu times (%llu in loss bookkeeping)\n",
			      ctx, (unsigned long long)ctx_written[ctx],
			      (unsigned long long)ctx_dropped[ctx],
			      (unsigned long long)ctx_skipped[ctx],
			      (unsigned long long)hits_in_writer[ctx],
			      (unsigned long long)hits_in_loss_bookkeeping[ctx]);
	}
	print_message("# %llu SIGUSR2 inside the SIGUSR1 handler, %llu LOST records, %llu PADs, %llu consumer passes\n",
		      (unsigned long long)nmi_in_irq,
		      (unsigned long long)c.sc.lost_records,
		      (unsigned long long)c.sc.pads,
		      (unsigned long long)c.passes);
	/* The test means something only if handlers did land inside writers. */
	if (!enough_nesting())
		fail_msg("only %llu interrupts inside a writer, %llu three deep, in %llu s",
			 (unsigned long long)hits,
			 (unsigned long long)nmi_in_irq,
			 (unsigned long long)(MAX_RUN_NS / 1000000000ULL));
	assert_true(ctx_written[CTX_NMI] > 0 && ctx_written[CTX_IRQ] > 0);
	if (throttle)
		assert_int_equal(total_dropped, 0);
	else
		assert_true(total_dropped > 0 && c.sc.lost_records > 10);
	assert_int_equal(kshim_warnings, 0);
}

static int teardown_ring(void **state)
{
	(void)state;
	signal(SIGUSR1, SIG_DFL);
	signal(SIGUSR2, SIG_DFL);
	if (sig_ring.data)
		test_ring_close(&sig_ring);
	return 0;
}

static void test_signal_nesting_no_overflow(void **state)
{
	(void)state;
	run_nested(1 << 20, true, 100);
}

static void test_signal_nesting_overflow(void **state)
{
	(void)state;
	run_nested(16384, false, 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_signal_nesting_no_overflow,
					  teardown_ring),
		cmocka_unit_test_teardown(test_signal_nesting_overflow,
					  teardown_ring),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
