/* Makes a known number of capability checks: in a UTS namespace of its own,
 * PROCS processes each call sethostname() and setdomainname() N times,
 * alternating (one CAP_SYS_ADMIN check per call). Concurrent processes
 * with the same capability and syscall, and alternating syscalls, are what
 * make record's per-CPU slots change hands. */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static int loop(long n)
{
	for (long i = 0; i < n; i++) {
		if (sethostname("cap-loop", 8) || setdomainname("cap-loop", 8)) {
			perror("cap_loop");
			return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 0;
	int procs = argc > 2 ? atoi(argv[2]) : 1, status, rc = 0;

	if (argc < 2 || argc > 3 || n <= 0 || procs <= 0) {
		fprintf(stderr, "usage: cap_loop N [PROCS]\n");
		return 2;
	}
	if (unshare(CLONE_NEWUTS)) {
		perror("cap_loop: unshare");
		return 1;
	}
	for (int i = 1; i < procs; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("cap_loop: fork");
			return 1;
		}
		if (pid == 0)
			return loop(n);
	}
	rc = loop(n);
	while (wait(&status) > 0)
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			rc = 1;
	return rc;
}
