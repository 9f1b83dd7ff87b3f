// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "persecmon/reader.h"

static int open_error(const char *path, int errnum, struct pm_error *err)
{
	struct stat st;

	switch (errnum) {
	case ENOENT:
		if (stat("/sys/module/persecmon", &st) == 0)
			return pm_error_set(err, PM_ERR_NO_MODULE, errnum,
					    "%s does not exist although persecmon.ko is loaded; is devtmpfs mounted (or udev running)?",
					    path);
		return pm_error_set(err, PM_ERR_NO_MODULE, errnum,
				    "%s does not exist: the persecmon module is not loaded (try: modprobe persecmon)",
				    path);
	case ENODEV:
	case ENXIO:
		return pm_error_set(err, PM_ERR_NO_MODULE, errnum,
				    "%s has no driver behind it: the persecmon module is not loaded (try: modprobe persecmon)",
				    path);
	case EACCES:
	case EPERM:
		return pm_error_set(err, PM_ERR_PERMISSION, errnum,
				    "permission denied opening %s: run as root (CAP_PERFMON or CAP_SYS_ADMIN is required)",
				    path);
	case EBUSY:
	case EMFILE:
	case ENOSPC:
		return pm_error_set(err, PM_ERR_RUNTIME, errnum,
				    "cannot open a session on %s: %s (too many sessions open? see 'persecmon status')",
				    path, strerror(errnum));
	default:
		return pm_error_set(err, PM_ERR_RUNTIME, errnum,
				    "cannot open %s: %s", path, strerror(errnum));
	}
}

int pm_info_check(const struct persecmon_info *info, long page_size,
		  struct pm_error *err)
{
	if (info->abi_major != PERSECMON_ABI_MAJOR)
		return pm_error_set(err, PM_ERR_ABI, EPROTO,
				    "the persecmon module speaks ABI %u.%u, this tool speaks %d.%d: use tools built for the loaded module",
				    info->abi_major, info->abi_minor,
				    PERSECMON_ABI_MAJOR, PERSECMON_ABI_MINOR);
	if (info->page_size != (uint64_t)page_size)
		return pm_error_set(err, PM_ERR_ABI, EPROTO,
				    "module reports page size %u, the system uses %ld",
				    info->page_size, page_size);
	if (info->nr_cpu_ids == 0 || info->nr_cpu_ids > (unsigned int)PM_MAX_CPUS)
		return pm_error_set(err, PM_ERR_ABI, EPROTO,
				    "module reports nr_cpu_ids %u, outside 1..%d",
				    info->nr_cpu_ids, PM_MAX_CPUS);
	if (info->data_size < 2 * PERSECMON_RECORD_MAX ||
	    (info->data_size & (info->data_size - 1)) ||
	    info->data_size % info->page_size)
		return pm_error_set(err, PM_ERR_ABI, EPROTO,
				    "module reports data_size %llu: not a power of two, a page multiple and at least %d bytes",
				    (unsigned long long)info->data_size,
				    2 * PERSECMON_RECORD_MAX);
	if (info->mmap_stride < info->page_size + info->data_size ||
	    info->mmap_stride % info->page_size)
		return pm_error_set(err, PM_ERR_ABI, EPROTO,
				    "module reports mmap_stride %llu, too small or not page aligned for page %u + data %llu",
				    (unsigned long long)info->mmap_stride,
				    info->page_size,
				    (unsigned long long)info->data_size);
	return 0;
}

static int map_rings(struct pm_reader *r, const char *path,
		     struct pm_error *err)
{
	const struct persecmon_info *info = &r->info;
	unsigned int cpu, n = 0;
	int ret;

	for (cpu = 0; cpu < info->nr_cpu_ids; cpu++)
		n += pm_info_cpu_possible(info, cpu);
	if (n == 0)
		return pm_error_set(err, PM_ERR_ABI, EPROTO,
				    "module reports no possible CPU");
	r->rings = calloc(n, sizeof(*r->rings));
	r->ctrl_maps = calloc(n, sizeof(*r->ctrl_maps));
	r->data_maps = calloc(n, sizeof(*r->data_maps));
	if (r->ctrl_maps && r->data_maps)
		r->nr_alloc = n;
	if (!r->rings || !r->ctrl_maps || !r->data_maps ||
	    pm_merge_init(&r->merge, n) < 0)
		return pm_error_set(err, PM_ERR_RUNTIME, ENOMEM,
				    "out of memory for %u CPU buffers", n);

	for (cpu = 0; cpu < info->nr_cpu_ids; cpu++) {
		off_t off = (off_t)(cpu * info->mmap_stride);
		unsigned int i = r->nr_rings;
		void *ctrl, *data;

		if (!pm_info_cpu_possible(info, cpu))
			continue;
		ctrl = mmap(NULL, info->page_size, PROT_READ | PROT_WRITE,
			    MAP_SHARED, r->fd, off);
		if (ctrl == MAP_FAILED)
			return pm_error_set(err, pm_err_kind_from_errno(errno),
					    errno,
					    "cannot map the control page of CPU %u from %s: %s",
					    cpu, path, strerror(errno));
		r->ctrl_maps[i] = ctrl;
		data = mmap(NULL, info->data_size, PROT_READ, MAP_SHARED,
			    r->fd, off + info->page_size);
		if (data == MAP_FAILED)
			return pm_error_set(err, pm_err_kind_from_errno(errno),
					    errno,
					    "cannot map the data area of CPU %u from %s: %s",
					    cpu, path, strerror(errno));
		r->data_maps[i] = data;
		r->nr_rings++;
		ret = pm_ring_view_init(&r->rings[i], ctrl, data,
					info->data_size, cpu, err);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int pm_reader_open(struct pm_reader **out, const char *path,
		   struct pm_error *err)
{
	struct pm_reader *r;
	int ret;

	if (!path)
		path = PERSECMON_DEVICE_PATH;
	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return pm_error_set(err, PM_ERR_RUNTIME, ENOMEM, "out of memory");
	/* O_RDWR: a shared writable mapping of the control pages needs it. */
	r->fd = open(path, O_RDWR | O_CLOEXEC);
	if (r->fd < 0) {
		ret = open_error(path, errno, err);
		free(r);
		return ret;
	}
	if (ioctl(r->fd, PERSECMON_IOC_INFO, &r->info) < 0) {
		int e = errno;

		if (e == ENOTTY || e == EINVAL)
			ret = pm_error_set(err, PM_ERR_ABI, e,
					   "%s does not answer PERSECMON_IOC_INFO of ABI %d: the module speaks another ABI (or this is not a persecmon device)",
					   path, PERSECMON_ABI_MAJOR);
		else
			ret = pm_error_set(err, pm_err_kind_from_errno(e), e,
					   "PERSECMON_IOC_INFO on %s failed: %s",
					   path, strerror(e));
		goto fail;
	}
	r->info.module_version[sizeof(r->info.module_version) - 1] = '\0';
	ret = pm_info_check(&r->info, sysconf(_SC_PAGESIZE), err);
	if (ret < 0)
		goto fail;
	ret = map_rings(r, path, err);
	if (ret < 0)
		goto fail;
	*out = r;
	return 0;
fail:
	pm_reader_close(r);
	return ret;
}

void pm_reader_close(struct pm_reader *r)
{
	unsigned int i;

	if (!r)
		return;
	for (i = 0; i < r->nr_alloc; i++) {
		if (r->ctrl_maps[i])
			munmap(r->ctrl_maps[i], r->info.page_size);
		if (r->data_maps[i])
			munmap(r->data_maps[i], r->info.data_size);
	}
	pm_merge_free(&r->merge);
	free(r->rings);
	free(r->ctrl_maps);
	free(r->data_maps);
	if (r->fd >= 0)
		close(r->fd);
	free(r);
}

int pm_reader_wait(struct pm_reader *r, int timeout_ms, struct pm_error *err)
{
	struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
	int n;

	n = poll(&pfd, 1, timeout_ms);
	if (n < 0) {
		if (errno == EINTR)
			return 0;
		return pm_error_set(err, PM_ERR_RUNTIME, errno,
				    "poll on %s failed: %s",
				    PERSECMON_DEVICE_PATH, strerror(errno));
	}
	if (n == 0)
		return 0;
	if ((pfd.revents & (POLLERR | POLLNVAL)) ||
	    (pfd.revents & (POLLHUP | POLLIN)) == POLLHUP)
		return pm_error_set(err, PM_ERR_RUNTIME, EIO,
				    "%s reported an error (module going away?)",
				    PERSECMON_DEVICE_PATH);
	return (pfd.revents & POLLIN) ? 1 : 0;
}

long pm_reader_round(struct pm_reader *r, const struct pm_consume_ops *ops,
		     void *ctx)
{
	return pm_merge_round(&r->merge, r->rings, r->nr_rings, ops, ctx);
}

long pm_reader_drain(struct pm_reader *r, const struct pm_consume_ops *ops,
		     void *ctx)
{
	long n, total = 0;
	unsigned int i;

	for (i = 0; i < PM_READER_DRAIN_ROUNDS; i++) {
		n = pm_reader_round(r, ops, ctx);
		if (n < 0)
			return n;
		if (n == 0)
			break;
		total += n;
	}
	return total;
}

int pm_reader_cpu_stats(struct pm_reader *r, unsigned int cpu,
			struct persecmon_cpu_stats *st, struct pm_error *err)
{
	memset(st, 0, sizeof(*st));
	st->cpu = cpu;
	if (ioctl(r->fd, PERSECMON_IOC_STATS, st) < 0)
		return pm_error_set(err, pm_err_kind_from_errno(errno), errno,
				    "PERSECMON_IOC_STATS for CPU %u failed: %s",
				    cpu, strerror(errno));
	return 0;
}
