/* captrail help capabilities: the capabilities of the running environment,
 * as captrail received them (printed before any ring lowers them), and the
 * ring each one would be raised in. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>

#include "cmd/cmd.h"
#include "cmd/commands.h"
#include "lib/caps.h"
#include "privilege/capset.h"
#include "privilege/rings.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: captrail help capabilities [--capabilities KEY=VALUE]...\n"
		"\n"
		"Lists capabilities 0..cap_last_cap: whether each is in captrail's bounding,\n"
		"permitted, effective, inheritable and ambient sets (x or -), and the ring\n"
		"captrail would raise it in (full, ebpf, specific, base, or - for never).\n"
		"\n"
		"      --capabilities bypass=true|false  keep every capability effective\n"
		"      --capabilities add=CAPS           put CAPS into the base ring\n"
		"      --capabilities drop=CAPS          take CAPS out of the base ring\n"
		"CAPABILITIES_BYPASS=0|1, CAPABILITIES_ADD and CAPABILITIES_DROP do the same;\n"
		"flags win over the environment.\n");
}

#define CMD "help capabilities"
#define usage_error(...) cmd_usage_error(CMD, __VA_ARGS__)

static const struct option long_options[] = {
	{ "capabilities", required_argument, NULL, 'c' },
	{ "help", no_argument, NULL, 'h' },
	{},
};

static int parse_option(void *ctx, int opt, const char *arg)
{
	return opt == 'c' ? cmd_rings_option(CMD, ctx, arg) : -1;
}

static int parse_args(int argc, char **argv, struct rings_config *cfg)
{
	const struct cmd_options options = {
		.cmd = CMD,
		.shortopts = "h",
		.longopts = long_options,
		.usage = usage,
		.parse = parse_option,
		.ctx = cfg,
	};
	char detail[RINGS_DETAIL_LEN];
	int rc, operand;

	rc = cmd_parse_options(&options, argc, argv, &operand);
	if (rc >= 0)
		return rc;
	if (rings_config_from_env(cfg, getenv, detail))
		return usage_error("%s", detail);
	return -1;
}

static const char *mark(int in)
{
	return in > 0 ? "x" : "-";
}

static const char *bit(uint64_t mask, int cap)
{
	return mark(!!(mask & RINGS_CAP(cap)));
}

int cmd_help_capabilities(int argc, char **argv)
{
	struct rings_config cfg = {};
	struct capset sets;
	char names[1024];
	uint64_t base, ebpf;
	int last, err, rc;

	rc = parse_args(argc, argv, &cfg);
	if (rc >= 0)
		return rc;
	err = caps_last_cap("/proc", &last);
	if (err)
		return cmd_fail(CMD, err, "cannot read /proc/sys/kernel/cap_last_cap");
	err = capset_get(last, &sets);
	if (err)
		return cmd_fail(CMD, err, "cannot read captrail's capability sets");
	base = rings_config_base(&cfg);
	ebpf = rings_ebpf_caps(last, sets.permitted);

	printf("cap_last_cap: %d\n", last);
	if (cfg.bypass) {
		printf("bypass: every permitted capability stays effective\n");
	} else {
		caps_mask_names(ebpf, ",", names, sizeof(names));
		printf("ebpf ring: %s\n", names);
		caps_mask_names(base, ",", names, sizeof(names));
		printf("base ring: %s\n", base ? names : "none");
	}
	printf("%-3s %-24s %-8s %-9s %-9s %-11s %-7s %s\n", "NR", "NAME", "BOUNDING", "PERMITTED",
	       "EFFECTIVE", "INHERITABLE", "AMBIENT", "RING");
	for (int cap = 0; cap <= last; cap++) {
		char name[CAPS_NAME_LEN];
		enum ring ring;

		caps_name(cap, name);
		if (cfg.bypass)
			ring = sets.permitted & RINGS_CAP(cap) ? RING_FULL : RING_NONE;
		else
			ring = rings_ring_of(cap, base, ebpf);
		printf("%-3d %-24s %-8s %-9s %-9s %-11s %-7s %s\n", cap, name,
		       mark(cap_get_bound(cap)), bit(sets.permitted, cap), bit(sets.effective, cap),
		       bit(sets.inheritable, cap), mark(cap_get_ambient(cap)), rings_name(ring));
	}
	if (fflush(stdout))
		return cmd_fail(CMD, -errno, "cannot write the table");
	return EXIT_OK;
}
