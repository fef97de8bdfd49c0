/* capcheck: a loop of sethostname() in a private UTS namespace, one
 * CAP_SYS_ADMIN check per call and nothing else, so any tracer on the
 * cap_capable tracepoint shows up directly as ns per operation.
 *
 * usage: capcheck [-n OPS] [-d SECS] [-r RATE] [-o FILE] [-p]
 *   stops after OPS calls or SECS seconds, whichever comes first;
 *   -r holds the pace to RATE calls per second (a steady producer for the
 *      streaming test) instead of going flat out;
 *   -o writes key=value results to FILE instead of stdout;
 *   -p also reports the parent's CPU time and peak RSS (the tracer under
 *      `captrail record -- capcheck`). */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include "common.h"

#define CLOCK_EVERY 1024 /* iterations between clock reads with -d */
#define PACE_EVERY 64 /* iterations between clock reads with -r */

static void usage(void)
{
	fprintf(stderr, "usage: capcheck [-n OPS] [-d SECS] [-r RATE] [-o FILE] [-p]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long long ops = 0, limit = 0;
	struct parent_sample before, after;
	const char *out = NULL;
	double secs = 0, rate = 0, t0, t1, deadline;
	int opt, parent = 0;
	static const char name[] = "captrail-bench";

	while ((opt = getopt(argc, argv, "n:d:r:o:p")) != -1) {
		switch (opt) {
		case 'n': limit = strtoull(optarg, NULL, 10); break;
		case 'd': secs = strtod(optarg, NULL); break;
		case 'r': rate = strtod(optarg, NULL); break;
		case 'o': out = optarg; break;
		case 'p': parent = 1; break;
		default: usage();
		}
	}
	if (optind != argc || (!limit && secs <= 0) || rate < 0)
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
		if (rate > 0 && ops % PACE_EVERY == 0)
			while (now_s() < t0 + ops / rate)
				; /* spin: a sleep's wake-up is coarser than 64 calls */
	}
	t1 = now_s();

	if (parent)
		parent_sample(&after);
	return write_result(out, "capcheck", ops, t1 - t0, parent ? &before : NULL,
			    parent ? &after : NULL) ? 1 : 0;
}
