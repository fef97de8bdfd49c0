/* captrail trace: a live stream of capability checks. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "cmd/cmd.h"
#include "cmd/commands.h"
#include "event/evfilter.h"
#include "event/output.h"
#include "identity/identity.h"
#include "kernel/loader.h"
#include "lib/caps.h"
#include "lib/clock.h"
#include "lib/text.h"

#define POLL_MS 100 /* bounds the latency of a quiet stream */

#define MAX_STATE_ROOTS 4

struct trace_args {
	struct loader_filter filter;
	uint32_t pids[CT_MAX_PIDS];
	struct evfilter *who; /* --namespaces, --pods, --containers, --processes, --host */
	const char *state_roots[MAX_STATE_ROOTS + 1];
	size_t n_state_roots;
	enum output_format format;
	double duration;
	bool verbose;
	enum hook hook;
	struct rings_config rings;
};

struct trace_state {
	struct output out;
	struct identity *identity;
	struct evfilter *who;
	struct identity_view view;
	uint64_t seen, granted, denied, filtered;
};

static volatile sig_atomic_t stop_requested;

static void usage(FILE *out)
{
	fprintf(out,
		"usage: captrail trace [OPTIONS]\n"
		"\n"
		"Streams every capability check the kernel makes.\n"
		"\n"
		"  -p, --pid PID[,PID]    only these processes (thread group ids)\n"
		"      --uid UID          only checks whose effective uid is UID\n"
		"      --comm NAME        only processes whose command name is NAME\n"
		"      --caps LIST        only these capabilities (names or numbers)\n"
		"      --denied           only denied checks\n"
		"      --unique           first check per process, capability and verdict\n"
		"      --containers-only  only processes outside the host pid namespace\n"
		"      --host-only        only processes in the host pid namespace\n"
		"      --namespaces LIST  only pods in these Kubernetes namespaces\n"
		"      --pods REGEX       only pods whose name matches\n"
		"      --containers REGEX only containers whose name matches\n"
		"      --processes REGEX  only processes whose binary matches\n"
		"      --host             only processes outside any pod or container\n"
		"      --state-root DIR   also look for container runtime state in DIR\n"
		"  -o, --output FORMAT    compact (default), table or json\n"
		"  -d, --duration SECS    stop after SECS seconds\n"
		"      --hook HOOK        auto (default), tracepoint, fexit or kprobe: where\n"
		"                         on cap_capable() to attach ('captrail hooks')\n"
		"  -v, --verbose          libbpf debug output, ring changes, hooks not used\n"
		"      --capabilities KEY=VALUE\n"
		"                         bypass=true|false, add=CAPS, drop=CAPS: captrail's\n"
		"                         own capabilities (see 'captrail help capabilities')\n");
}

#define CMD "trace"
#define usage_error(...) cmd_usage_error(CMD, __VA_ARGS__)

enum {
	OPT_UID = 256,
	OPT_COMM,
	OPT_CAPS,
	OPT_DENIED,
	OPT_UNIQUE,
	OPT_CONTAINERS_ONLY,
	OPT_HOST_ONLY,
	OPT_CAPABILITIES,
	OPT_NAMESPACES,
	OPT_PODS,
	OPT_CONTAINERS,
	OPT_PROCESSES,
	OPT_HOST,
	OPT_STATE_ROOT,
	OPT_HOOK,
};

static const struct option long_options[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "uid", required_argument, NULL, OPT_UID },
	{ "comm", required_argument, NULL, OPT_COMM },
	{ "caps", required_argument, NULL, OPT_CAPS },
	{ "denied", no_argument, NULL, OPT_DENIED },
	{ "unique", no_argument, NULL, OPT_UNIQUE },
	{ "containers-only", no_argument, NULL, OPT_CONTAINERS_ONLY },
	{ "host-only", no_argument, NULL, OPT_HOST_ONLY },
	{ "output", required_argument, NULL, 'o' },
	{ "format", required_argument, NULL, 'o' },
	{ "capabilities", required_argument, NULL, OPT_CAPABILITIES },
	{ "namespaces", required_argument, NULL, OPT_NAMESPACES },
	{ "pods", required_argument, NULL, OPT_PODS },
	{ "containers", required_argument, NULL, OPT_CONTAINERS },
	{ "processes", required_argument, NULL, OPT_PROCESSES },
	{ "host", no_argument, NULL, OPT_HOST },
	{ "state-root", required_argument, NULL, OPT_STATE_ROOT },
	{ "hook", required_argument, NULL, OPT_HOOK },
	{ "duration", required_argument, NULL, 'd' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{},
};

static int parse_option(void *ctx, int opt, const char *arg)
{
	struct trace_args *a = ctx;

	switch (opt) {
	case 'p':
		if (cli_parse_pids(arg, a->pids, CT_MAX_PIDS, &a->filter.n_pids))
			return usage_error("invalid pid list '%s'", arg);
		break;
	case OPT_UID:
		if (cli_parse_uid(arg, &a->filter.uid))
			return usage_error("invalid uid '%s'", arg);
		break;
	case OPT_COMM:
		if (!*arg || strlen(arg) >= CT_COMM_LEN)
			return usage_error("invalid command name '%s' (1 to %d characters)", arg,
					   CT_COMM_LEN - 1);
		snprintf(a->filter.comm, sizeof(a->filter.comm), "%s", arg);
		break;
	case OPT_CAPS: return cmd_caps_option(CMD, "--caps", arg, &a->filter.cap_mask);
	case OPT_DENIED: a->filter.denied_only = true; break;
	case OPT_UNIQUE: a->filter.unique = true; break;
	case OPT_CONTAINERS_ONLY:
	case OPT_HOST_ONLY: {
		enum ct_pidns_mode mode = opt == OPT_HOST_ONLY ? CT_PIDNS_HOST : CT_PIDNS_CONTAINERS;

		if (a->filter.pidns_mode != CT_PIDNS_ANY && a->filter.pidns_mode != mode)
			return usage_error("--containers-only and --host-only exclude each other");
		a->filter.pidns_mode = mode;
		break;
	}
	case 'o':
		if (output_format_parse(arg, &a->format))
			return usage_error("unknown output format '%s' (compact, table, json)", arg);
		break;
	case 'd': return cmd_seconds_option(CMD, "duration", arg, &a->duration);
	case 'v': a->verbose = true; break;
	case OPT_CAPABILITIES: return cmd_rings_option(CMD, &a->rings, arg);
	case OPT_NAMESPACES: return cmd_filter_option(CMD, &a->who, EVFILTER_NAMESPACES, arg);
	case OPT_PODS: return cmd_filter_option(CMD, &a->who, EVFILTER_PODS, arg);
	case OPT_CONTAINERS: return cmd_filter_option(CMD, &a->who, EVFILTER_CONTAINERS, arg);
	case OPT_PROCESSES: return cmd_filter_option(CMD, &a->who, EVFILTER_PROCESSES, arg);
	case OPT_HOST: return cmd_filter_option(CMD, &a->who, EVFILTER_FIELDS, arg);
	case OPT_HOOK: return cmd_hook_option(CMD, arg, &a->hook);
	case OPT_STATE_ROOT:
		if (a->n_state_roots == MAX_STATE_ROOTS)
			return usage_error("at most %d --state-root directories", MAX_STATE_ROOTS);
		a->state_roots[a->n_state_roots++] = arg;
		break;
	}
	return -1;
}

static int parse_args(int argc, char **argv, struct trace_args *a)
{
	const struct cmd_options options = {
		.cmd = CMD,
		.shortopts = "p:o:d:vh",
		.longopts = long_options,
		.usage = usage,
		.parse = parse_option,
		.ctx = a,
	};
	int operand;

	a->filter.uid = CT_ANY_UID;
	a->filter.pids = a->pids;
	a->format = OUTPUT_COMPACT;
	return cmd_parse_options(&options, argc, argv, &operand);
}

static int on_proc(void *ctx, const struct ct_proc_event *e)
{
	struct trace_state *st = ctx;

	return identity_apply(st->identity, e);
}

static int on_cap(void *ctx, const struct ct_cap_event *e)
{
	struct trace_state *st = ctx;
	struct evfilter_subject subject;

	identity_resolve(st->identity, e, &st->view);
	/* Pod, container and binary are known only here, in user space. */
	if (st->who) {
		evfilter_subject_of(&st->view.ev, &subject);
		if (!evfilter_match(st->who, &subject)) {
			st->filtered++;
			return 0;
		}
	}
	st->seen++;
	if (e->ret == 0)
		st->granted++;
	else
		st->denied++;
	output_event(&st->out, &st->view.ev);
	return 0;
}

static int trace_loop(struct loader *loader, struct rings *rings, double duration)
{
	uint64_t deadline = duration > 0 ? clock_monotonic_ns() + (uint64_t)(duration * 1e9) : 0;
	int err = 0;

	while (!stop_requested && !(err = rings_failure(rings, NULL))) {
		int n = loader_poll(loader, POLL_MS);

		if (n < 0 && n != -EINTR)
			return n;
		if (fflush(stdout))
			return -errno;
		if (deadline && clock_monotonic_ns() >= deadline)
			break;
	}
	if (err)
		return err;
	/* Checks made before the stop may still wait for a wake-up. */
	err = loader_consume(loader);
	if (fflush(stdout) && err >= 0)
		return -errno;
	return err < 0 ? err : 0;
}

static int print_summary(struct trace_state *st, struct loader *loader, struct rings *rings)
{
	char why[EVFILTER_MAX_PATTERN + 256];
	struct loader_stats stats;
	int err;

	rings_enter(rings, RING_EBPF, "read drop counters");
	err = loader_stats(loader, &stats);
	rings_leave(rings);
	if (err)
		return cmd_fail(CMD, err, "cannot read the drop counters");
	cmd_say(CMD, "%llu checks seen, %llu granted, %llu denied, %llu lost",
		(unsigned long long)st->seen, (unsigned long long)st->granted,
		(unsigned long long)st->denied, (unsigned long long)(stats.lost + stats.missed));
	if (stats.proc_lost)
		cmd_say(CMD, "%llu process records lost: some events miss their process",
			(unsigned long long)stats.proc_lost);
	if (evfilter_describe_give_ups(st->who, why, sizeof(why)))
		cmd_say(CMD, "%s", why);
	if (st->out.cut)
		cmd_say(CMD, "%llu strings longer than their bound were cut (they end in \"%s\")",
			(unsigned long long)st->out.cut, TEXT_CUT_MARK);
	return EXIT_OK;
}

static int start_identity(struct trace_args *a, const char *node, int64_t boot_offset,
			  struct rings *rings, struct identity **ret_identity)
{
	struct identity_opts opts = {
		.node_name = node,
		.boot_offset_ns = boot_offset,
		.state_roots = a->state_roots,
		.around_miss = rings_around_proc_read,
		.around_miss_ctx = rings,
	};

	return identity__new(&opts, ret_identity);
}

static int start_tracing(struct trace_args *args, struct trace_state *state, struct rings *rings,
			 struct loader **ret_loader, struct loader_report *ret_report)
{
	struct loader_opts lopts = {
		.hook = args->hook,
		.verbose = args->verbose,
		.stream = true,
		.track_procs = true,
		.handlers = { .on_cap = on_cap, .on_proc = on_proc, .ctx = state },
	};
	int err;

	args->filter.self_tgid = (uint32_t)getpid();
	lopts.filter = args->filter;
	rings_enter(rings, RING_EBPF, "load and attach BPF programs");
	err = loader__new(&lopts, ret_loader, ret_report);
	rings_leave(rings);
	if (err)
		return cmd_load_failed(CMD, err, ret_report);
	cmd_say_hooks(CMD, ret_report, args->verbose);
	/* After attaching: lifecycle records of processes started meanwhile
	 * replay correctly over the scan. */
	rings_enter_specific(rings, RINGS_NEED_PROC, "read running processes from /proc");
	err = identity_scan(state->identity);
	rings_leave(rings);
	if (err)
		cmd_warn(CMD, err, "cannot read running processes");
	return -1;
}

int cmd_trace(int argc, char **argv)
{
	static char stdout_buf[1 << 16];
	struct trace_args args = {};
	struct trace_state state = {};
	struct output_opts oopts = {};
	struct loader_report report = {};
	struct loader *loader = NULL;
	struct rings *rings = NULL;
	char node[256];
	int rc, err;

	rc = parse_args(argc, argv, &args);
	if (rc < 0) {
		args.rings.ebpf_extra = loader_extra_caps(NULL, args.rings.procfs_root, args.hook);
		rc = cmd_rings_start(CMD, &args.rings, args.verbose, RINGS_NEED_PROC, &rings);
	}
	if (rc >= 0) {
		evfilter__free(args.who);
		return rc;
	}
	cmd_libbpf_output(args.verbose);
	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, stdout_buf, _IOFBF, sizeof(stdout_buf));

	cli_node_name(node, sizeof(node));
	oopts.format = args.format;
	oopts.node_name = node;
	oopts.boot_offset_ns = clock_boot_offset_ns();
	err = start_identity(&args, node, oopts.boot_offset_ns, rings, &state.identity);
	if (err) {
		rc = cmd_fail(CMD, err, "cannot set up the process cache");
		goto cleanup;
	}
	state.who = args.who;
	err = cmd_catch_stop_signals(&stop_requested);
	if (err) {
		rc = cmd_fail(CMD, err, "cannot catch SIGINT and SIGTERM");
		goto cleanup;
	}
	rc = start_tracing(&args, &state, rings, &loader, &report);
	if (rc >= 0)
		goto cleanup;
	oopts.host_ns = identity_host_ns(state.identity);
	output_init(&state.out, stdout, &oopts);
	cmd_say(CMD, "ready, tracing capability checks%s", cmd_hook_note(&report));
	err = trace_loop(loader, rings, args.duration);
	rc = print_summary(&state, loader, rings);
	if (err && err == rings_failure(rings, NULL))
		rc = cmd_rings_failed(CMD, rings);
	else if (err && err != -EPIPE) /* a reader that went away is a stop */
		rc = cmd_fail(CMD, err, "reading events failed");
cleanup:
	loader__free(loader);
	identity__free(state.identity);
	evfilter__free(args.who);
	rings__free(rings);
	return rc;
}
