// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "persecmon/cgroup.h"
#include "persecmon/cli.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC	0x63677270
#endif

int pm_cgroup_id_parse(const char *arg, uint64_t *id, struct pm_error *err)
{
	/* struct file_handle ends in a flexible array: room for the id. */
	_Alignas(struct file_handle) char buf[sizeof(struct file_handle) +
					      sizeof(uint64_t)];
	struct file_handle *fh = (struct file_handle *)buf;
	struct statfs sfs;
	struct stat st;
	int mount_id;

	if (arg[0] >= '0' && arg[0] <= '9') {
		if (pm_parse_u64(arg, 1, UINT64_MAX, id) < 0)
			return pm_error_set(err, PM_ERR_USAGE, EINVAL,
					    "not a path nor an id from 1 up");
		return 0;
	}
	if (statfs(arg, &sfs) < 0)
		return pm_error_set(err, PM_ERR_USAGE, errno, "%s",
				    strerror(errno));
	if (sfs.f_type != CGROUP2_SUPER_MAGIC)
		return pm_error_set(err, PM_ERR_USAGE, EINVAL,
				    "not on a cgroup v2 file system");
	/* Files of a cgroup (cgroup.procs) have handles too: not cgroups. */
	if (stat(arg, &st) < 0)
		return pm_error_set(err, PM_ERR_USAGE, errno, "%s",
				    strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return pm_error_set(err, PM_ERR_USAGE, ENOTDIR,
				    "not a directory");
	fh->handle_bytes = sizeof(uint64_t);
	if (name_to_handle_at(AT_FDCWD, arg, fh, &mount_id, 0) < 0)
		return pm_error_set(err, PM_ERR_USAGE, errno, "%s",
				    strerror(errno));
	if (fh->handle_bytes != sizeof(uint64_t))
		return pm_error_set(err, PM_ERR_RUNTIME, EPROTO,
				    "a %u-byte handle, not a cgroup id",
				    fh->handle_bytes);
	memcpy(id, fh->f_handle, sizeof(*id));
	return 0;
}

int pm_cgroup_opt_parse(const char *arg, void *target, char *errbuf,
			size_t errlen)
{
	struct pm_error err;

	if (pm_cgroup_id_parse(arg, target, &err) < 0) {
		snprintf(errbuf, errlen, "%s", err.msg);
		return -1;
	}
	return 0;
}
