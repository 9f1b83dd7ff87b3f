// SPDX-License-Identifier: GPL-2.0
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "persecmon/proc.h"

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t pm_monotonic_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t pm_realtime_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

void pm_comm_cache_init(struct pm_comm_cache *c, const char *proc_root)
{
	memset(c, 0, sizeof(*c));
	c->proc_root = proc_root ? proc_root : "/proc";
}

static int read_comm(const char *root, uint32_t tgid, char *out)
{
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%u/comm", root, tgid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, out, PM_COMM_LEN - 1);
	close(fd);
	if (n <= 0)
		return 0;
	out[n] = '\0';
	out[strcspn(out, "\n")] = '\0';
	return 1;
}

const char *pm_comm_lookup(struct pm_comm_cache *c, uint32_t tgid,
			   uint64_t now_ns)
{
	unsigned int i = (tgid * 2654435761U) % PM_COMM_SLOTS;

	if (tgid == 0)
		return NULL;
	if (c->slot[i].tgid != tgid ||
	    now_ns - c->slot[i].fetched_ns > PM_COMM_TTL_NS) {
		c->slot[i].tgid = tgid;
		c->slot[i].fetched_ns = now_ns;
		c->slot[i].found = read_comm(c->proc_root, tgid,
					     c->slot[i].comm);
	}
	return c->slot[i].found ? c->slot[i].comm : NULL;
}
