/* mixed: an exec-heavy shell loop (fork + exec of /bin/true per iteration),
 * timed from outside the shell: a realistic mix of process lifecycle and
 * the capability checks that come with it.
 *
 * usage: mixed -n ITERATIONS [-o FILE] [-p]   (-o and -p as for capcheck) */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

static void usage(void)
{
	fprintf(stderr, "usage: mixed -n ITERATIONS [-o FILE] [-p]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct parent_sample before, after;
	unsigned long long iters = 0;
	const char *out = NULL;
	char script[256];
	int opt, parent = 0, status;
	double t0, t1;
	pid_t pid;

	while ((opt = getopt(argc, argv, "n:o:p")) != -1) {
		switch (opt) {
		case 'n': iters = strtoull(optarg, NULL, 10); break;
		case 'o': out = optarg; break;
		case 'p': parent = 1; break;
		default: usage();
		}
	}
	if (optind != argc || !iters)
		usage();
	snprintf(script, sizeof(script),
		 "i=0; while [ $i -lt %llu ]; do /bin/true; i=$((i+1)); done", iters);
	if (parent)
		parent_sample(&before);

	t0 = now_s();
	pid = fork();
	if (pid < 0) {
		perror("mixed: fork");
		return 1;
	}
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", script, (char *)NULL);
		perror("mixed: exec /bin/sh");
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "mixed: the shell loop failed\n");
		return 1;
	}
	t1 = now_s();

	if (parent)
		parent_sample(&after);
	return write_result(out, "mixed", iters, t1 - t0, parent ? &before : NULL,
			    parent ? &after : NULL) ? 1 : 0;
}
