/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A command a tool starts and watches (memleak -c): forked and held
 * before its exec until the tool's probes are in place, then watched
 * with ptrace stops at each exec and at its exit. At those stops its
 * address space is whole and still, so a tool reads /proc/PID/maps there
 * and keeps what a command too short for any polling would otherwise take
 * with it. Only those two events stop it (no syscall or signal tracing
 * beyond passing signals on), so the command runs at full speed.
 *
 * ptrace binds the tracee to the thread that attached: call
 * pm_child_release(), pm_child_poll() and pm_child_resume() from
 * one thread. When that thread ends, the kernel detaches and the command
 * runs on untraced.
 */
#ifndef PERSECMON_CHILD_H
#define PERSECMON_CHILD_H

#include <stdbool.h>
#include <sys/types.h>

#include "persecmon/error.h"

struct pm_child {
	pid_t pid;		/* 0 before start and once reaped */
	int gate;		/* write end the child reads before its exec */
	bool traced;		/* exec and exit stops are on */
	bool stopped;		/* in an exec or exit stop, until resumed */
	int status;		/* waitpid() status once exited */
};

enum pm_child_event {
	PM_CHILD_RUNNING,	/* nothing new */
	PM_CHILD_EXEC,	/* stopped after an exec: the new image is mapped */
	PM_CHILD_EXITING,	/* stopped before its memory goes */
	PM_CHILD_EXITED,	/* reaped: status is in ->status */
};

/* Forks /bin/sh -c "exec COMMAND", held before the exec. */
int pm_child_start(struct pm_child *c, const char *command,
		     struct pm_error *err);
/*
 * Lets it exec. Tracing its exec and exit is best effort: when ptrace is
 * refused (Yama ptrace_scope 3, a seccomp policy), it still runs, ->traced
 * stays false and @warn says why. Fails only if the command cannot be
 * released.
 */
int pm_child_release(struct pm_child *c, struct pm_error *warn,
		       struct pm_error *err);
/* Never released (setup failed): it exits without running; reaps it. */
void pm_child_abandon(struct pm_child *c);
/*
 * Without waiting: the next event. Signals for the command are passed on
 * and job-control stops kept, not reported. After PM_CHILD_EXEC or
 * PM_CHILD_EXITING it stays stopped until pm_child_resume().
 */
enum pm_child_event pm_child_poll(struct pm_child *c);
void pm_child_resume(struct pm_child *c);

#endif /* PERSECMON_CHILD_H */
