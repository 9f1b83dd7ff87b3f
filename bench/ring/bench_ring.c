// SPDX-License-Identifier: GPL-2.0
/*
 * Native benchmark of module/core/ring.c (built through tests/unit/kshim):
 * the cost of pm_ring_reserve() + pm_ring_commit() of one record, on 1..N
 * producers, each a thread pinned to its own CPU with its own ring and a
 * consumer thread draining that ring through the mmap protocol plus
 * pm_ring_sync_tail(), as a reader and the kernel's poll() would.
 *
 * Producers write in timed batches that always fit (the ring is drained
 * between batches, untimed), so the drop path is never what is measured;
 * the consumer runs during the batches. ns/op (wall) includes whatever
 * the scheduler does to the producer; ns/op (cpu) is the producer thread's
 * own CPU time. Best of -R repetitions.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ring.h"

struct options {
	u64 records;		/* per producer */
	u32 size;
	u64 ring_size;
	unsigned int max_producers;
	unsigned int repeats;
	bool no_consumer;	/* the producer drains, untimed */
};

struct lane {
	struct pm_ring ring;
	struct persecmon_ring_ctrl *ctrl;
	u8 *data;
	const struct options *opt;
	unsigned int cpu;
	pthread_t producer, consumer;
	pthread_barrier_t *start;
	int producer_done;	/* atomic */
	u64 wall_ns, cpu_ns, dropped, consumed, checksum;
} __attribute__((aligned(128)));

static u64 clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

static void pin(pthread_t thread, unsigned int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(thread, sizeof(set), &set);
}

static u64 unread(struct lane *l)
{
	return __atomic_load_n(&l->ring.published, __ATOMIC_RELAXED) -
	       __atomic_load_n(&l->ring.consumed, __ATOMIC_ACQUIRE);
}

static void *producer_main(void *arg)
{
	struct lane *l = arg;
	const struct options *o = l->opt;
	u64 batch = o->ring_size / 2 / ALIGN(o->size, 8), left = o->records;
	u64 t0, c0, i, n;
	struct persecmon_record *rec;

	pthread_barrier_wait(l->start);
	while (left) {
		if (o->no_consumer) {			/* untimed */
			__atomic_store_n(&l->ctrl->tail, l->ring.published,
					 __ATOMIC_RELEASE);
			pm_ring_sync_tail(&l->ring);
		}
		while (unread(l) > o->ring_size / 4)	/* untimed */
			sched_yield();
		n = left < batch ? left : batch;
		t0 = clock_ns(CLOCK_MONOTONIC);
		c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
		for (i = 0; i < n; i++) {
			rec = pm_ring_reserve(&l->ring, PERSECMON_EV_TEST, o->size);
			if (!rec) {
				l->dropped++;
				continue;
			}
			rec->time_ns = i;	/* what a probe fills, roughly */
			rec->pid = l->cpu;
			pm_ring_commit(&l->ring, rec);
		}
		l->cpu_ns += clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
		l->wall_ns += clock_ns(CLOCK_MONOTONIC) - t0;
		left -= n;
	}
	__atomic_store_n(&l->producer_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* The reader protocol of the uapi header, then the kernel's tail check. */
static void *consumer_main(void *arg)
{
	struct lane *l = arg;
	u64 mask = l->opt->ring_size - 1, head, tail = 0;
	const struct persecmon_record *rec;
	int done;

	if (l->opt->no_consumer)
		return NULL;
	for (;;) {
		done = __atomic_load_n(&l->producer_done, __ATOMIC_ACQUIRE);
		head = __atomic_load_n(&l->ctrl->head, __ATOMIC_ACQUIRE);
		while (tail != head) {
			rec = (const void *)(l->data + (tail & mask));
			if (rec->type != PERSECMON_REC_PAD) {
				l->consumed++;
				l->checksum += rec->time_ns;
			}
			tail += rec->size;
		}
		__atomic_store_n(&l->ctrl->tail, tail, __ATOMIC_RELEASE);
		pm_ring_sync_tail(&l->ring);
		if (done && tail == __atomic_load_n(&l->ring.published,
						    __ATOMIC_ACQUIRE))
			break;
		usleep(20);
	}
	return NULL;
}

struct result {
	double wall_ns_op, cpu_ns_op, mev_producer, mev_total;
	u64 dropped;
};

static int run(const struct options *o, unsigned int producers,
	       unsigned int ncpu, struct result *res)
{
	struct lane *lanes;
	pthread_barrier_t start;
	double wall = 0, cpu = 0;
	unsigned int i;
	int ret = 0;

	lanes = aligned_alloc(128, producers * sizeof(*lanes));
	if (!lanes)
		return -ENOMEM;
	memset(lanes, 0, producers * sizeof(*lanes));
	pthread_barrier_init(&start, NULL, producers);
	for (i = 0; i < producers; i++) {
		struct lane *l = &lanes[i];

		l->opt = o;
		l->cpu = i % ncpu;
		l->start = &start;
		l->ctrl = aligned_alloc(4096, 4096);
		l->data = aligned_alloc(4096, o->ring_size);
		if (!l->ctrl || !l->data)
			return -ENOMEM;
		memset(l->ctrl, 0, 4096);
		memset(l->data, 0, o->ring_size);	/* fault it in */
		ret = pm_ring_init(&l->ring, l->ctrl, l->data, o->ring_size, i);
		if (ret)
			return ret;
	}
	for (i = 0; i < producers; i++) {
		pthread_create(&lanes[i].consumer, NULL, consumer_main, &lanes[i]);
		pthread_create(&lanes[i].producer, NULL, producer_main, &lanes[i]);
		pin(lanes[i].producer, lanes[i].cpu);
	}
	memset(res, 0, sizeof(*res));
	for (i = 0; i < producers; i++) {
		pthread_join(lanes[i].producer, NULL);
		pthread_join(lanes[i].consumer, NULL);
		wall += (double)lanes[i].wall_ns / (double)o->records;
		cpu += (double)lanes[i].cpu_ns / (double)o->records;
		res->dropped += lanes[i].dropped;
		if (o->no_consumer) {
			__atomic_store_n(&lanes[i].ctrl->tail,
					 lanes[i].ring.published, __ATOMIC_RELEASE);
			pm_ring_sync_tail(&lanes[i].ring);
			lanes[i].consumed = lanes[i].ring.consumed_records;
		}
		if (lanes[i].consumed != (u64)local_read(&lanes[i].ring.written) ||
		    pm_ring_produced(&lanes[i].ring) != o->records) {
			fprintf(stderr, "lane %u: consumed %llu, written %llu, produced %llu of %llu\n",
				i, (unsigned long long)lanes[i].consumed,
				(unsigned long long)local_read(&lanes[i].ring.written),
				(unsigned long long)pm_ring_produced(&lanes[i].ring),
				(unsigned long long)o->records);
			ret = -EIO;
		}
		free(lanes[i].ctrl);
		free(lanes[i].data);
	}
	res->wall_ns_op = wall / producers;
	res->cpu_ns_op = cpu / producers;
	res->mev_producer = 1e3 / res->wall_ns_op;
	res->mev_total = res->mev_producer * producers;
	pthread_barrier_destroy(&start);
	free(lanes);
	return ret;
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [-n records per producer] [-s record size] [-r ring bytes]\n"
		"       [-p max producers] [-R repetitions] [-C]\n"
		"  -C: no consumer thread; producers drain their ring between\n"
		"      timed batches (the cost of the ring alone)\n", argv0);
	exit(2);
}

int main(int argc, char **argv)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct options o = {
		.records = 20000000, .size = 64, .ring_size = 16 << 20,
		.max_producers = ncpu > 0 ? (unsigned int)ncpu : 1,
		.repeats = 3,
	};
	struct result best, r;
	unsigned int p, k;
	int c, ret;

	while ((c = getopt(argc, argv, "n:s:r:p:R:C")) != -1) {
		switch (c) {
		case 'C': o.no_consumer = true; break;
		case 'n': o.records = strtoull(optarg, NULL, 0); break;
		case 's': o.size = (u32)strtoul(optarg, NULL, 0); break;
		case 'r': o.ring_size = strtoull(optarg, NULL, 0); break;
		case 'p': o.max_producers = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'R': o.repeats = (unsigned int)strtoul(optarg, NULL, 0); break;
		default: usage(argv[0]);
		}
	}
	if (!o.records || !o.max_producers || !o.repeats)
		usage(argv[0]);

	printf("# pm_ring_reserve + pm_ring_commit, %u-byte records, %llu per producer, %llu KiB ring each, %s, best of %u\n",
	       o.size, (unsigned long long)o.records,
	       (unsigned long long)(o.ring_size >> 10),
	       o.no_consumer ? "no consumer thread" :
	       "a consumer thread per ring", o.repeats);
	printf("# local_t: %s; %ld CPUs online\n",
#if defined(__x86_64__) && !defined(KSHIM_LOCAL_ATOMIC)
	       "x86-64 instructions without LOCK, as in the kernel",
#else
	       "__atomic read-modify-write (LOCK-prefixed on x86)",
#endif
	       ncpu);
	printf("%-9s %12s %11s %15s %12s %8s\n", "producers", "ns/op(wall)",
	       "ns/op(cpu)", "Mev/s/producer", "Mev/s total", "dropped");
	for (p = 1; p <= o.max_producers; p++) {
		memset(&best, 0, sizeof(best));
		for (k = 0; k < o.repeats; k++) {
			ret = run(&o, p, (unsigned int)ncpu, &r);
			if (ret) {
				fprintf(stderr, "run with %u producers failed: %s\n",
					p, strerror(-ret));
				return 1;
			}
			if (!k || r.wall_ns_op < best.wall_ns_op)
				best = r;
		}
		printf("%-9u %12.2f %11.2f %15.1f %12.1f %8llu\n", p,
		       best.wall_ns_op, best.cpu_ns_op, best.mev_producer,
		       best.mev_total, (unsigned long long)best.dropped);
	}
	return 0;
}
