/* spawn: K sleeping processes, for captrail's RSS with a full process cache.
 * Prints "spawn: ready, K processes" on stderr once all exist, waits for
 * SIGINT or SIGTERM, then kills and reaps them.
 *
 * The children are separate processes (own pid, own /proc entry) that share
 * spawn's memory (CLONE_VM): a plain fork() copies page tables and takes
 * about 1.4 ms per child on the bench VM, 14 s for 10,000; this takes 1 s.
 *
 * usage: spawn [-k K]   (default 10000) */
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHILD_STACK (16 * 1024) /* virtual; a child touches one page of it */

static pid_t parent;

static int child(void *arg)
{
	(void)arg;
	/* Not left behind if spawn itself is killed. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	for (;;)
		pause();
	return 0;
}

int main(int argc, char **argv)
{
	long k = 10000, n = 0;
	pid_t *pids;
	char *stacks;
	sigset_t set;
	int opt, sig;

	while ((opt = getopt(argc, argv, "k:")) != -1) {
		if (opt != 'k') {
			fprintf(stderr, "usage: spawn [-k K]\n");
			return 2;
		}
		k = strtol(optarg, NULL, 10);
	}
	if (k < 1)
		k = 1;
	pids = calloc(k, sizeof(*pids));
	stacks = mmap(NULL, (size_t)k * CHILD_STACK, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (!pids || stacks == MAP_FAILED) {
		fprintf(stderr, "spawn: out of memory\n");
		return 1;
	}
	/* Blocked before cloning so that only SIGKILL reaches the children. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	parent = getpid();

	for (; n < k; n++) {
		/* The stack grows down: pass the top of this child's slot. */
		pid_t pid = clone(child, stacks + (size_t)(n + 1) * CHILD_STACK,
				  CLONE_VM | SIGCHLD, NULL);

		if (pid < 0) {
			perror("spawn: clone");
			break;
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
	return n == k ? 0 : 1;
}
