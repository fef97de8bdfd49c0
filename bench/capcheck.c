/* capcheck: a loop of sethostname() in a private UTS namespace, one
 * CAP_SYS_ADMIN check per call and nothing else, so any tracer on the
 * cap_capable tracepoint shows up directly as ns per operation.
 *
 * usage: capcheck [-n OPS] [-d SECS] [-o FILE] [-p]
 *   stops after OPS calls or SECS seconds, whichever comes first;
 *   -o writes key=value results to FILE instead of stdout;
 *   -p also reports the parent's CPU time and peak RSS (the tracer under
 *      `captrail record -- capcheck`). */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include "common.h"

#define CLOCK_EVERY 1024 /* iterations between clock reads with -d */

static void usage(void)
{
	fprintf(stderr, "usage: capcheck [-n OPS] [-d SECS] [-o FILE] [-p]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long long ops = 0, limit = 0;
	struct parent_sample before, after;
	const char *out = NULL;
	double secs = 0, t0, t1, deadline;
	int opt, parent = 0;
	static const char name[] = "captrail-bench";

	while ((opt = getopt(argc, argv, "n:d:o:p")) != -1) {
		switch (opt) {
		case 'n': limit = strtoull(optarg, NULL, 10); break;
		case 'd': secs = strtod(optarg, NULL); break;
		case 'o': out = optarg; break;
		case 'p': parent = 1; break;
		default: usage();
		}
	}
	if (optind != argc || (!limit && secs <= 0))
		usage();
	if (unshare(CLONE_NEWUTS)) {
		perror("capcheck: unshare(CLONE_NEWUTS)");
		return 1;
	}
	if (parent)
		parent_sample(&before);

	t0 = now_s();
	deadline = secs > 0 ? t0 + secs : 0;
	for (;;) {
		if (sethostname(name, sizeof(name) - 1)) {
			perror("capcheck: sethostname");
			return 1;
		}
		ops++;
		if (limit && ops >= limit)
			break;
		if (deadline && ops % CLOCK_EVERY == 0 && now_s() >= deadline)
			break;
	}
	t1 = now_s();

	if (parent)
		parent_sample(&after);
	return write_result(out, "capcheck", ops, t1 - t0, parent ? &before : NULL,
			    parent ? &after : NULL) ? 1 : 0;
}
