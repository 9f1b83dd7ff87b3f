/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Naming cgroups the way the module does: by cgroup v2 id, the 64-bit
 * kernfs node id that bpf_get_current_cgroup_id() and the records'
 * hdr.cgroup_id also use.
 */
#ifndef PERSECMON_CGROUP_H
#define PERSECMON_CGROUP_H

#include <stddef.h>
#include <stdint.h>

#include "persecmon/error.h"

/*
 * @arg is a cgroup v2 directory (e.g. /sys/fs/cgroup/system.slice) or a
 * decimal id. A path must be a directory on a cgroup2 file system; its
 * id is its file handle (name_to_handle_at()), as the kernel defines it.
 * Returns 0, or a negative errno with a plain message (the reason alone,
 * for "invalid --cgroup 'ARG': REASON") in @err.
 */
int pm_cgroup_id_parse(const char *arg, uint64_t *id, struct pm_error *err);
/* The same as a PM_OPT_CALLBACK (cli.h) whose target is a uint64_t. */
int pm_cgroup_opt_parse(const char *arg, void *target, char *errbuf,
			size_t errlen);

#endif /* PERSECMON_CGROUP_H */
