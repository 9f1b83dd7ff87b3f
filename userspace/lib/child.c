// SPDX-License-Identifier: GPL-2.0
/*
 * A command started and watched by a tool; see persecmon/child.h.
 *
 * The child is forked at once but reads a pipe before it execs, so the
 * tool can put its probes in place first and no early call is missed.
 * It is seized (PTRACE_SEIZE: no SIGSTOP, no SIGTRAP after exec) with
 * only PTRACE_O_TRACEEXEC and PTRACE_O_TRACEEXIT, so it stops at those
 * two events and at signal delivery, which is passed straight on.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "persecmon/child.h"

int pm_child_start(struct pm_child *c, const char *command,
		     struct pm_error *err)
{
	char *exec_cmd;
	int gate[2];
	pid_t pid;
	char byte;

	memset(c, 0, sizeof(*c));
	c->gate = -1;
	if (asprintf(&exec_cmd, "exec %s", command) < 0)
		return pm_error_set(err, PM_ERR_RUNTIME, ENOMEM,
				    "out of memory");
	if (pipe2(gate, O_CLOEXEC) < 0) {
		free(exec_cmd);
		return pm_error_set(err, PM_ERR_RUNTIME, errno, "pipe: %s",
				    strerror(errno));
	}
	pid = fork();
	if (pid < 0) {
		int e = errno;

		free(exec_cmd);
		close(gate[0]);
		close(gate[1]);
		return pm_error_set(err, PM_ERR_RUNTIME, e, "fork: %s",
				    strerror(e));
	}
	if (pid == 0) {
		close(gate[1]);
		/* EOF without a byte: the tool gave up. */
		if (read(gate[0], &byte, 1) != 1)
			_exit(127);
		/* "exec": the command itself must be the watched process. */
		execl("/bin/sh", "sh", "-c", exec_cmd, (char *)NULL);
		_exit(127);
	}
	free(exec_cmd);
	close(gate[0]);
	c->pid = pid;
	c->gate = gate[1];
	return 0;
}

int pm_child_release(struct pm_child *c, struct pm_error *warn,
		       struct pm_error *err)
{
	int e;

	pm_error_clear(warn);
	if (ptrace(PTRACE_SEIZE, c->pid, NULL,
		   (void *)(long)(PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT)) == 0)
		c->traced = true;
	else
		pm_error_set(warn, pm_err_kind_from_errno(errno), errno,
			     "cannot stop the command at its exec and exit (ptrace: %s): the mappings of a short command may be missed",
			     strerror(errno));
	if (write(c->gate, "g", 1) != 1) {
		e = errno;
		return pm_error_set(err, PM_ERR_RUNTIME, e,
				    "cannot start the command: %s",
				    strerror(e));
	}
	close(c->gate);
	c->gate = -1;
	return 0;
}

void pm_child_abandon(struct pm_child *c)
{
	if (c->gate >= 0) {
		close(c->gate);
		c->gate = -1;
	}
	if (c->pid > 0 && waitpid(c->pid, &c->status, 0) == c->pid)
		c->pid = 0;
}

enum pm_child_event pm_child_poll(struct pm_child *c)
{
	int status, sig;
	pid_t got;

	if (c->pid <= 0)
		return PM_CHILD_EXITED;
	for (;;) {
		if (c->stopped)
			pm_child_resume(c);
		got = waitpid(c->pid, &status, WNOHANG | __WALL);
		if (got == 0 || (got < 0 && errno == EINTR))
			return PM_CHILD_RUNNING;
		if (got < 0 || WIFEXITED(status) || WIFSIGNALED(status)) {
			/* ECHILD: someone else reaped it; nothing to wait for. */
			c->status = got < 0 ? 0 : status;
			c->pid = 0;
			return PM_CHILD_EXITED;
		}
		if (!WIFSTOPPED(status))
			continue;
		sig = WSTOPSIG(status);
		switch (status >> 16) {
		case PTRACE_EVENT_EXEC:
			c->stopped = true;
			return PM_CHILD_EXEC;
		case PTRACE_EVENT_EXIT:
			c->stopped = true;
			return PM_CHILD_EXITING;
		case PTRACE_EVENT_STOP:
			/* A job-control stop stays one until SIGCONT. */
			if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN ||
			    sig == SIGTTOU)
				ptrace(PTRACE_LISTEN, c->pid, NULL, NULL);
			else
				ptrace(PTRACE_CONT, c->pid, NULL, NULL);
			break;
		default:
			/* Signal delivery: pass it on. */
			ptrace(PTRACE_CONT, c->pid, NULL, (void *)(long)sig);
			break;
		}
	}
}

void pm_child_resume(struct pm_child *c)
{
	if (!c->stopped)
		return;
	c->stopped = false;
	ptrace(PTRACE_CONT, c->pid, NULL, NULL);
}
