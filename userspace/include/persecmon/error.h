/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Errors and exit codes shared by libpersecmon and every command.
 *
 * Library calls return 0 or a negative errno and, on failure, fill a
 * struct pm_error with a plain-language message and a kind. The kind is
 * what a command turns into its exit status, so "module not loaded" or
 * "not root" look the same from every tool.
 */
#ifndef PERSECMON_ERROR_H
#define PERSECMON_ERROR_H

#include <stddef.h>

/* Exit status of every PerSecMon command (docs/userspace.md). */
enum pm_exit {
	PM_EXIT_OK		= 0,
	PM_EXIT_RUNTIME		= 1,	/* anything else that went wrong */
	PM_EXIT_USAGE		= 2,	/* bad command line */
	PM_EXIT_NO_MODULE	= 3,	/* persecmon.ko is not loaded */
	PM_EXIT_PERMISSION	= 4,	/* not root / missing capability */
	PM_EXIT_ABI		= 5,	/* module speaks another ABI major */
	PM_EXIT_VERIFY		= 6,	/* persecmon-read --verify found a violation */
};

enum pm_err_kind {
	PM_ERR_NONE = 0,
	PM_ERR_RUNTIME,
	PM_ERR_USAGE,
	PM_ERR_NO_MODULE,
	PM_ERR_PERMISSION,
	PM_ERR_ABI,
};

#define PM_ERROR_MSG_MAX	512

struct pm_error {
	enum pm_err_kind kind;
	int errnum;			/* positive errno, 0 if none applies */
	char msg[PM_ERROR_MSG_MAX];
};

void pm_error_clear(struct pm_error *err);
/* Returns -errnum (or -EINVAL when errnum is 0) so callers can
 * `return pm_error_set(...)`. @err may be NULL.
 */
int pm_error_set(struct pm_error *err, enum pm_err_kind kind, int errnum,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* EPERM/EACCES become PM_ERR_PERMISSION, everything else PM_ERR_RUNTIME. */
enum pm_err_kind pm_err_kind_from_errno(int errnum);
int pm_error_exit_code(const struct pm_error *err);
/* Prints "PROG: MESSAGE" and returns the exit code for the error. */
int pm_error_report(const struct pm_error *err, const char *prog);

#endif /* PERSECMON_ERROR_H */
