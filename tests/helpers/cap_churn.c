/* Makes checks where record's per-CPU verdict ("is the task that checked
 * last on this CPU recorded?") could go stale, all on CPU 0 so that the
 * verdict stays in one place:
 *
 *   cap_churn forks N      N children one after another, each calls
 *                          setdomainname() once and exits: a new child may
 *                          get the task_struct of one just reaped;
 *   cap_churn move N DIR   N sethostname() calls, then moves itself into
 *                          the cgroup DIR, then N setdomainname() calls.
 *
 * Each runs in a UTS namespace of its own; one CAP_SYS_ADMIN check a call. */
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char name[] = "cap-churn";

static int fail(const char *what)
{
	perror(what);
	return 1;
}

static int forks(long n)
{
	int status;

	for (long i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return fail("cap_churn: fork");
		if (pid == 0)
			_exit(setdomainname(name, sizeof(name) - 1) ? 1 : 0);
		if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			return fail("cap_churn: child");
		/* A reaped task_struct is freed after an RCU grace period; only
		 * then can the next child get it. */
		usleep(2000);
	}
	return 0;
}

static int move(long n, const char *dir)
{
	char path[4096];
	FILE *f;

	for (long i = 0; i < n; i++)
		if (sethostname(name, sizeof(name) - 1))
			return fail("cap_churn: sethostname");
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "we");
	if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f))
		return fail("cap_churn: move");
	for (long i = 0; i < n; i++)
		if (setdomainname(name, sizeof(name) - 1))
			return fail("cap_churn: setdomainname");
	return 0;
}

int main(int argc, char **argv)
{
	long n = argc > 2 ? atol(argv[2]) : 0;
	bool is_forks = argc == 3 && !strcmp(argv[1], "forks");
	bool is_move = argc == 4 && !strcmp(argv[1], "move");
	cpu_set_t cpu0;

	if (n <= 0 || !(is_forks || is_move)) {
		fprintf(stderr, "usage: cap_churn forks N | cap_churn move N CGROUP_DIR\n");
		return 2;
	}
	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	if (sched_setaffinity(0, sizeof(cpu0), &cpu0))
		return fail("cap_churn: sched_setaffinity");
	if (unshare(CLONE_NEWUTS))
		return fail("cap_churn: unshare");
	return is_forks ? forks(n) : move(n, argv[3]);
}
