/* spawn: K sleeping processes, for captrail's RSS with a full process cache.
 * Prints "spawn: ready, K processes" on stderr once all exist, waits for
 * SIGINT or SIGTERM, then kills and reaps them.
 *
 * usage: spawn [-k K]   (default 10000) */
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdio.h>

int main(int argc, char **argv)
{
	long k = 10000, n = 0;
	pid_t self = getpid(), *pids;
	sigset_t set;
	int opt, sig;

	while ((opt = getopt(argc, argv, "k:")) != -1) {
		if (opt != 'k') {
			fprintf(stderr, "usage: spawn [-k K]\n");
			return 2;
		}
		k = strtol(optarg, NULL, 10);
	}
	pids = calloc(k > 0 ? k : 1, sizeof(*pids));
	if (!pids)
		return 1;
	/* Blocked before forking so that only SIGKILL reaches the children. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);

	for (; n < k; n++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("spawn: fork");
			break;
		}
		if (pid == 0) {
			/* Not left behind if spawn itself is killed. */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != self)
				_exit(0);
			for (;;)
				pause();
		}
		pids[n] = pid;
	}
	fprintf(stderr, "spawn: ready, %ld processes\n", n);
	if (n == k)
		sigwait(&set, &sig);
	for (long i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
	while (wait(NULL) > 0)
		;
	free(pids);
	return n == k ? 0 : 1;
}
