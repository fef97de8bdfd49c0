/* captrail hooks: which hooks on cap_capable() this kernel offers, each
 * found by loading and attaching it (nothing is counted meanwhile). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "cmd/cmd.h"
#include "cmd/commands.h"
#include "kernel/loader.h"

#define CMD "hooks"

struct hooks_args {
	bool verbose;
	struct rings_config rings;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: captrail hooks [OPTIONS]\n"
		"\n"
		"Tries each place captrail can hook cap_capable() on this kernel and prints\n"
		"one line per hook: NAME available, or NAME unavailable WHY. 'auto' (the\n"
		"default of --hook) takes the first available of tracepoint, fexit, kprobe.\n"
		"\n"
		"  -v, --verbose         libbpf's messages\n"
		"      --capabilities KEY=VALUE\n"
		"                        captrail's own capabilities, as for trace\n");
}

enum { OPT_CAPABILITIES = 256 };

static const struct option long_options[] = {
	{ "capabilities", required_argument, NULL, OPT_CAPABILITIES },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{},
};

static int parse_option(void *ctx, int opt, const char *arg)
{
	struct hooks_args *a = ctx;

	if (opt == OPT_CAPABILITIES)
		return cmd_rings_option(CMD, &a->rings, arg);
	if (opt == 'v')
		a->verbose = true;
	return -1;
}

int cmd_hooks(int argc, char **argv)
{
	struct hooks_args args = {};
	const struct cmd_options options = {
		.cmd = CMD,
		.shortopts = "vh",
		.longopts = long_options,
		.usage = usage,
		.parse = parse_option,
		.ctx = &args,
	};
	struct rings *rings = NULL;
	int rc, operand;

	rc = cmd_parse_options(&options, argc, argv, &operand);
	if (rc < 0) {
		/* every hook is tried, the kprobe too */
		args.rings.ebpf_extra = loader_extra_caps(NULL, args.rings.procfs_root, HOOK_KPROBE);
		rc = cmd_rings_start(CMD, &args.rings, args.verbose, 0, &rings);
	}
	if (rc >= 0)
		return rc;
	cmd_libbpf_output(args.verbose);
	for (enum hook hook = HOOK_TRACEPOINT; hook < HOOK_COUNT; hook++) {
		struct loader_opts opts = { .hook = hook, .probe_only = true,
					    .verbose = args.verbose };
		struct loader_report report = {};
		struct loader *loader = NULL;
		int err;

		rings_enter(rings, RING_EBPF, "load and attach BPF programs");
		err = loader__new(&opts, &loader, &report);
		loader__free(loader);
		rings_leave(rings);
		if (err)
			printf("%-10s unavailable %s\n", hook_name(hook),
			       report.n_tried ? report.tried[0].why : "");
		else
			printf("%-10s available\n", hook_name(hook));
	}
	rings__free(rings);
	if (fflush(stdout))
		return cmd_fail(CMD, -errno, "cannot write the list");
	return EXIT_OK;
}
