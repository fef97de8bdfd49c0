/* seccomp_exec [-c] [-b] CMD [ARGS...]: runs CMD where capset(2) (-c) and
 * prctl(PR_CAPBSET_DROP) (-b) fail with EPERM; both without options. The
 * e2e tests use it to check that captrail refuses to run when it cannot
 * drop its capabilities. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "seccomp_deny.h"

int main(int argc, char **argv)
{
	int what = 0, opt, err;

	while ((opt = getopt(argc, argv, "+cb")) != -1) {
		switch (opt) {
		case 'c': what |= SECCOMP_DENY_CAPSET; break;
		case 'b': what |= SECCOMP_DENY_BOUNDING; break;
		default: goto usage;
		}
	}
	if (optind >= argc)
		goto usage;
	err = seccomp_deny(what ? what : SECCOMP_DENY_CAPSET | SECCOMP_DENY_BOUNDING);
	if (err) {
		fprintf(stderr, "seccomp_exec: cannot install the filter: %s\n", strerror(-err));
		return 1;
	}
	execvp(argv[optind], argv + optind);
	fprintf(stderr, "seccomp_exec: cannot run %s: %s\n", argv[optind], strerror(errno));
	return 127;
usage:
	fprintf(stderr, "usage: seccomp_exec [-c] [-b] CMD [ARGS...]\n");
	return 2;
}
