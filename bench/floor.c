/* floor: loads and attaches floor.bpf.c, prints "floor: ready" on stderr,
 * and detaches on SIGINT or SIGTERM. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>

#include <bpf/libbpf.h>

#include "floor.skel.h"

static int print_warnings(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG || level == LIBBPF_INFO)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

int main(void)
{
	struct floor_bpf *skel;
	sigset_t set;
	int err, sig;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	libbpf_set_print(print_warnings);

	skel = floor_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "floor: cannot load the BPF program\n");
		return 1;
	}
	err = floor_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "floor: cannot attach to tp_btf/cap_capable: %d\n", err);
		floor_bpf__destroy(skel);
		return 1;
	}
	fprintf(stderr, "floor: ready\n");
	sigwait(&set, &sig);
	floor_bpf__destroy(skel);
	return 0;
}
