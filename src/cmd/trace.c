/* captrail trace: a live stream of capability checks. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/commands.h"
#include "cmd/options.h"
#include "event/evfilter.h"
#include "event/output.h"
#include "identity/identity.h"
#include "kernel/loader.h"
#include "lib/caps.h"
#include "lib/clock.h"

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
	struct rings_config rings;
};

struct trace_state {
	struct output out;
	struct identity *identity;
	const struct evfilter *who;
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
		"  -v, --verbose          libbpf debug output and ring changes\n"
		"      --capabilities KEY=VALUE\n"
		"                         bypass=true|false, add=CAPS, drop=CAPS: captrail's\n"
		"                         own capabilities (see 'captrail help capabilities')\n");
}

#define usage_error(...) cmd_usage_error("trace", __VA_ARGS__)

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
	{ "duration", required_argument, NULL, 'd' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{},
};

static int add_who(struct trace_args *a, int opt, const char *value)
{
	static const enum evfilter_field fields[] = {
		[OPT_NAMESPACES - OPT_NAMESPACES] = EVFILTER_NAMESPACES,
		[OPT_PODS - OPT_NAMESPACES] = EVFILTER_PODS,
		[OPT_CONTAINERS - OPT_NAMESPACES] = EVFILTER_CONTAINERS,
		[OPT_PROCESSES - OPT_NAMESPACES] = EVFILTER_PROCESSES,
	};
	char err[256];

	if (!a->who && evfilter__new(&a->who))
		return usage_error("out of memory");
	if (opt == OPT_HOST ? evfilter_set_host(a->who, true, err, sizeof(err)) :
			      evfilter_add_list(a->who, fields[opt - OPT_NAMESPACES], value, err,
						sizeof(err)))
		return usage_error("%s", err);
	return -1;
}

/* Returns -1 to go on, or the exit code to leave with. */
static int parse_args(int argc, char **argv, struct trace_args *a)
{
	const char *bad;
	int opt, rc;

	a->filter.uid = CT_ANY_UID;
	a->filter.pids = a->pids;
	a->format = OUTPUT_COMPACT;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":p:o:d:vh", long_options, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (cli_parse_pids(optarg, a->pids, CT_MAX_PIDS, &a->filter.n_pids))
				return usage_error("invalid pid list '%s'", optarg);
			break;
		case OPT_UID:
			if (cli_parse_uid(optarg, &a->filter.uid))
				return usage_error("invalid uid '%s'", optarg);
			break;
		case OPT_COMM:
			if (!*optarg || strlen(optarg) >= CT_COMM_LEN)
				return usage_error("invalid command name '%s' (1 to %d characters)",
						   optarg, CT_COMM_LEN - 1);
			snprintf(a->filter.comm, sizeof(a->filter.comm), "%s", optarg);
			break;
		case OPT_CAPS:
			if (caps_parse_list(optarg, &a->filter.cap_mask, &bad)) {
				char closest[CAPS_NAME_LEN];

				caps_closest(bad, closest);
				return usage_error("unknown capability '%s' (did you mean %s?)", bad,
						   closest);
			}
			break;
		case OPT_DENIED: a->filter.denied_only = true; break;
		case OPT_UNIQUE: a->filter.unique = true; break;
		case OPT_CONTAINERS_ONLY:
		case OPT_HOST_ONLY: {
			enum ct_pidns_mode mode =
				opt == OPT_HOST_ONLY ? CT_PIDNS_HOST : CT_PIDNS_CONTAINERS;

			if (a->filter.pidns_mode != CT_PIDNS_ANY && a->filter.pidns_mode != mode)
				return usage_error(
					"--containers-only and --host-only exclude each other");
			a->filter.pidns_mode = mode;
			break;
		}
		case 'o':
			if (output_format_parse(optarg, &a->format))
				return usage_error("unknown output format '%s' (compact, table, json)",
						   optarg);
			break;
		case 'd':
			if (cli_parse_seconds(optarg, &a->duration))
				return usage_error("invalid duration '%s' (seconds > 0)", optarg);
			break;
		case 'v': a->verbose = true; break;
		case OPT_CAPABILITIES:
			rc = cmd_rings_option("trace", &a->rings, optarg);
			if (rc >= 0)
				return rc;
			break;
		case OPT_NAMESPACES:
		case OPT_PODS:
		case OPT_CONTAINERS:
		case OPT_PROCESSES:
		case OPT_HOST:
			rc = add_who(a, opt, optarg);
			if (rc >= 0)
				return rc;
			break;
		case OPT_STATE_ROOT:
			if (a->n_state_roots == MAX_STATE_ROOTS)
				return usage_error("at most %d --state-root directories",
						   MAX_STATE_ROOTS);
			a->state_roots[a->n_state_roots++] = optarg;
			break;
		case 'h': usage(stdout); return EXIT_OK;
		case ':': return usage_error("option '%s' needs a value", argv[optind - 1]);
		default: return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	return -1;
}

static int on_record(void *ctx, const void *data, size_t size)
{
	struct trace_state *st = ctx;
	__u32 type = *(const __u32 *)data;
	const struct ct_cap_event *e = data;

	if (type != CT_REC_CAP) {
		if (size >= sizeof(struct ct_proc_event))
			identity_apply(st->identity, data);
		return 0;
	}
	if (size < sizeof(*e))
		return 0;
	identity_resolve(st->identity, e, &st->view);
	/* Pod, container and binary are known only here, in user space. */
	if (st->who && !evfilter_match(st->who, &st->view.subject)) {
		st->filtered++;
		return 0;
	}
	st->seen++;
	if (e->ret == 0)
		st->granted++;
	else
		st->denied++;
	output_event(&st->out, &st->view.ev);
	return 0;
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int trace_loop(struct loader *loader, double duration)
{
	double deadline = duration > 0 ? now_seconds() + duration : 0;
	int n_final;

	while (!stop_requested) {
		int n = loader_poll(loader, POLL_MS);

		if (n < 0 && n != -EINTR)
			return n;
		fflush(stdout);
		if (deadline && now_seconds() >= deadline)
			break;
	}
	/* Checks made before the stop may still wait for a wake-up. */
	n_final = loader_consume(loader);
	fflush(stdout);
	return n_final < 0 ? n_final : 0;
}

static void print_summary(struct trace_state *st, struct loader *loader, struct rings *rings)
{
	struct loader_stats stats = {};
	int err;

	rings_enter(rings, RING_EBPF, "read drop counters");
	err = loader_stats(loader, &stats);
	rings_leave(rings);

	if (err)
		fprintf(stderr, "captrail: cannot read drop counters: %s\n", strerror(-err));
	fprintf(stderr, "captrail: %llu checks seen, %llu granted, %llu denied, %llu lost\n",
		(unsigned long long)st->seen, (unsigned long long)st->granted,
		(unsigned long long)st->denied, (unsigned long long)(stats.lost + stats.missed));
	if (stats.proc_lost)
		fprintf(stderr, "captrail: %llu process records lost: some events miss their "
				"process\n",
			(unsigned long long)stats.proc_lost);
}

static int start_identity(struct trace_args *a, const char *node, int64_t boot_offset,
			  struct rings *rings, struct identity **ret_identity)
{
	struct identity_opts opts = {
		.node_name = node,
		.boot_offset_ns = boot_offset,
		.state_roots = a->state_roots,
		.around_miss = cmd_proc_miss_ring,
		.around_miss_ctx = rings,
	};

	return identity__new(&opts, ret_identity);
}

int cmd_trace(int argc, char **argv)
{
	static char stdout_buf[1 << 16];
	struct trace_args args = {};
	struct trace_state state = {};
	struct loader_opts lopts = {};
	struct output_opts oopts = {};
	struct loader *loader = NULL;
	struct rings *rings = NULL;
	char node[256];
	int rc, err;

	rc = parse_args(argc, argv, &args);
	if (rc < 0)
		rc = cmd_rings_start("trace", &args.rings, args.verbose, RINGS_NEED_PROC, &rings);
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
		fprintf(stderr, "captrail: cannot set up the process cache: %s\n", strerror(-err));
		rc = EXIT_RUNTIME;
		goto cleanup;
	}
	state.who = args.who;

	args.filter.self_tgid = (uint32_t)getpid();
	lopts.filter = args.filter;
	lopts.stream = true;
	lopts.track_procs = true;
	lopts.on_record = on_record;
	lopts.ctx = &state;
	err = cmd_catch_stop_signals(&stop_requested);
	if (!err) {
		rings_enter(rings, RING_EBPF, "load and attach BPF programs");
		err = loader__new(&lopts, &loader);
		rings_leave(rings);
	}
	if (err) {
		cmd_report_load_error(err);
		rc = EXIT_RUNTIME;
		goto cleanup;
	}
	/* After attaching: lifecycle records of processes started meanwhile
	 * replay correctly over the scan. */
	rings_enter_specific(rings, RINGS_NEED_PROC, "read running processes from /proc");
	err = identity_scan(state.identity);
	rings_leave(rings);
	if (err)
		fprintf(stderr, "captrail: warning: cannot read running processes: %s\n",
			strerror(-err));
	oopts.host_ns = identity_host_ns(state.identity);
	output_init(&state.out, stdout, &oopts);
	fprintf(stderr, "captrail: ready, tracing capability checks\n");
	err = trace_loop(loader, args.duration);
	fflush(stdout);
	print_summary(&state, loader, rings);
	rc = EXIT_OK;
	if (err) {
		fprintf(stderr, "captrail: reading events failed: %s\n", strerror(-err));
		rc = EXIT_RUNTIME;
	}
cleanup:
	loader__free(loader);
	identity__free(state.identity);
	evfilter__free(args.who);
	rings__free(rings);
	return rc;
}
