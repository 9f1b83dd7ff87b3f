// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "persecmon/error.h"

void pm_error_clear(struct pm_error *err)
{
	if (!err)
		return;
	err->kind = PM_ERR_NONE;
	err->errnum = 0;
	err->msg[0] = '\0';
}

int pm_error_set(struct pm_error *err, enum pm_err_kind kind, int errnum,
		 const char *fmt, ...)
{
	va_list ap;

	if (err) {
		err->kind = kind;
		err->errnum = errnum;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return errnum > 0 ? -errnum : -EINVAL;
}

enum pm_err_kind pm_err_kind_from_errno(int errnum)
{
	if (errnum == EPERM || errnum == EACCES)
		return PM_ERR_PERMISSION;
	return PM_ERR_RUNTIME;
}

int pm_error_exit_code(const struct pm_error *err)
{
	switch (err->kind) {
	case PM_ERR_NONE:
		return PM_EXIT_OK;
	case PM_ERR_USAGE:
		return PM_EXIT_USAGE;
	case PM_ERR_NO_MODULE:
		return PM_EXIT_NO_MODULE;
	case PM_ERR_PERMISSION:
		return PM_EXIT_PERMISSION;
	case PM_ERR_ABI:
		return PM_EXIT_ABI;
	case PM_ERR_RUNTIME:
		break;
	}
	return PM_EXIT_RUNTIME;
}

int pm_error_report(const struct pm_error *err, const char *prog)
{
	fprintf(stderr, "%s: %s\n", prog,
		err->msg[0] ? err->msg : "unknown error");
	return pm_error_exit_code(err);
}
