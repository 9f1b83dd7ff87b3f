// SPDX-License-Identifier: GPL-2.0
/*
 * libpersecmon child: a command held before its exec, then stopped at
 * each exec and at its exit with its memory still mapped (what memleak
 * -c reads symbols from), signals passed on, job-control stops kept, and
 * a command never released exiting without running.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "persecmon/child.h"

#define POLL_LIMIT	5000	/* x 1 ms */

/* The test's command, killed by the teardown should an assertion fail. */
static pid_t live;

static int kill_live(void **state)
{
	(void)state;
	if (live > 0) {
		kill(live, SIGKILL);
		waitpid(live, NULL, __WALL);
	}
	live = 0;
	return 0;
}

static void nap(void)
{
	const struct timespec ms = { 0, 1000000 };

	nanosleep(&ms, NULL);
}

/* The next event other than RUNNING, within POLL_LIMIT ms. */
static enum pm_child_event next_event(struct pm_child *c)
{
	enum pm_child_event ev;
	int i;

	for (i = 0; i < POLL_LIMIT; i++) {
		ev = pm_child_poll(c);
		if (ev != PM_CHILD_RUNNING)
			return ev;
		nap();
	}
	fail_msg("no event from pid %d in %d ms", (int)c->pid, POLL_LIMIT);
	return PM_CHILD_RUNNING;
}

static void exe_of(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, buf, len - 1);
	assert_true(n > 0);
	buf[n] = '\0';
}

/* Whether /proc/PID/maps has an executable mapping of a file named @name. */
static int maps_have(pid_t pid, const char *name)
{
	char path[64], line[4096];
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, " r-xp ") && strstr(line, name))
			found = 1;
	fclose(f);
	return found;
}

static void start_released(struct pm_child *c, const char *command)
{
	struct pm_error err, warn;

	assert_int_equal(pm_child_start(c, command, &err), 0);
	assert_true(c->pid > 0);
	live = c->pid;
	assert_int_equal(pm_child_release(c, &warn, &err), 0);
	assert_true(c->traced);
	assert_int_equal(c->gate, -1);
}

/*
 * A command that is over at once: stopped after the shell's exec, after
 * its own, and at its exit with its own text still mapped.
 */
static void test_exec_and_exit_stops(void **state)
{
	struct pm_child c;
	char exe[4096];
	pid_t pid;

	(void)state;
	start_released(&c, "/bin/true");
	pid = c.pid;
	assert_int_equal(next_event(&c), PM_CHILD_EXEC);
	pm_child_resume(&c);
	assert_int_equal(next_event(&c), PM_CHILD_EXEC);
	exe_of(pid, exe, sizeof(exe));
	assert_non_null(strstr(exe, "true"));
	assert_true(maps_have(pid, "true"));
	pm_child_resume(&c);
	assert_int_equal(next_event(&c), PM_CHILD_EXITING);
	/* What the -c mode is for: the exiting process is still mapped. */
	assert_true(maps_have(pid, "true"));
	assert_true(maps_have(pid, "libc"));
	pm_child_resume(&c);
	assert_int_equal(next_event(&c), PM_CHILD_EXITED);
	assert_true(WIFEXITED(c.status));
	assert_int_equal(WEXITSTATUS(c.status), 0);
	assert_int_equal(c.pid, 0);
	assert_int_equal(pm_child_poll(&c), PM_CHILD_EXITED);
}

/* Polling again resumes a stopped command; its exit code comes back. */
static void test_poll_resumes(void **state)
{
	struct pm_child c;
	enum pm_child_event ev;
	int execs = 0, exiting = 0;

	(void)state;
	start_released(&c, "sh -c 'exit 5'");
	while ((ev = next_event(&c)) != PM_CHILD_EXITED) {
		execs += ev == PM_CHILD_EXEC;
		exiting += ev == PM_CHILD_EXITING;
	}
	/* Our sh, then "exec sh": two execs. */
	assert_int_equal(execs, 2);
	assert_int_equal(exiting, 1);
	assert_true(WIFEXITED(c.status));
	assert_int_equal(WEXITSTATUS(c.status), 5);
}

/* A signal for the command reaches it (its trap runs). */
static void test_signals_passed_on(void **state)
{
	struct pm_child c;

	(void)state;
	start_released(&c, "sh -c 'trap \"exit 7\" USR1; kill -USR1 $$; sleep 10; exit 1'");
	while (next_event(&c) != PM_CHILD_EXITED)
		;
	assert_true(WIFEXITED(c.status));
	assert_int_equal(WEXITSTATUS(c.status), 7);
}

/* A signal that kills it: reported as such. */
static void test_killed(void **state)
{
	struct pm_child c;

	(void)state;
	start_released(&c, "sleep 10");
	assert_int_equal(next_event(&c), PM_CHILD_EXEC);
	assert_int_equal(next_event(&c), PM_CHILD_EXEC);
	assert_int_equal(kill(c.pid, SIGKILL), 0);
	while (next_event(&c) != PM_CHILD_EXITED)
		;
	assert_true(WIFSIGNALED(c.status));
	assert_int_equal(WTERMSIG(c.status), SIGKILL);
}

static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return '?';
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (!p)
		return '?';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

/*
 * SIGSTOP stops it as it would untraced, until SIGCONT; /proc shows the
 * stop as 't' (a tracee's) rather than 'T'.
 */
static void test_job_control_stop_kept(void **state)
{
	enum pm_child_event ev;
	struct pm_child c;
	pid_t pid;
	int i;

	(void)state;
	start_released(&c, "sh -c 'kill -STOP $$; exit 3'");
	pid = c.pid;
	/*
	 * Past its two exec stops (each resumed by the next poll): an exec
	 * stop shows as 't' too, so only a 't' after both is the SIGSTOP.
	 */
	assert_int_equal(next_event(&c), PM_CHILD_EXEC);
	assert_int_equal(next_event(&c), PM_CHILD_EXEC);
	for (i = 0; i < POLL_LIMIT; i++) {
		ev = pm_child_poll(&c);
		assert_int_equal(ev, PM_CHILD_RUNNING);
		if (proc_state(pid) == 't')
			break;
		nap();
	}
	assert_int_equal(proc_state(pid), 't');
	/* Stays stopped while we keep polling. */
	for (i = 0; i < 100; i++) {
		assert_int_equal(pm_child_poll(&c), PM_CHILD_RUNNING);
		nap();
	}
	assert_int_equal(proc_state(pid), 't');
	assert_int_equal(kill(pid, SIGCONT), 0);
	while (next_event(&c) != PM_CHILD_EXITED)
		;
	assert_true(WIFEXITED(c.status));
	assert_int_equal(WEXITSTATUS(c.status), 3);
}

/* Never released: it exits 127 without running the command. */
static void test_abandon(void **state)
{
	struct pm_child c;
	struct pm_error err;
	char mark[] = "/tmp/pm-child-XXXXXX";
	char cmd[128];
	int fd;

	(void)state;
	fd = mkstemp(mark);
	assert_true(fd >= 0);
	close(fd);
	unlink(mark);
	snprintf(cmd, sizeof(cmd), "touch %s", mark);
	assert_int_equal(pm_child_start(&c, cmd, &err), 0);
	pm_child_abandon(&c);
	assert_int_equal(c.pid, 0);
	assert_true(WIFEXITED(c.status));
	assert_int_equal(WEXITSTATUS(c.status), 127);
	assert_int_equal(access(mark, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_exec_and_exit_stops, kill_live),
		cmocka_unit_test_teardown(test_poll_resumes, kill_live),
		cmocka_unit_test_teardown(test_signals_passed_on, kill_live),
		cmocka_unit_test_teardown(test_killed, kill_live),
		cmocka_unit_test_teardown(test_job_control_stop_kept, kill_live),
		cmocka_unit_test_teardown(test_abandon, kill_live),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
