/* captrail trace: a live stream of capability checks. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "caps.h"
#include "cli.h"
#include "clock.h"
#include "cmd_common.h"
#include "commands.h"
#include "loader.h"
#include "output.h"

#define POLL_MS 100 /* bounds the latency of a quiet stream */

struct trace_args {
	struct loader_filter filter;
	uint32_t pids[CT_MAX_PIDS];
	enum output_format format;
	double duration;
	bool verbose;
	struct rings_config rings;
};

struct trace_state {
	struct output out;
	uint64_t seen, granted, denied;
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
	{ "duration", required_argument, NULL, 'd' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{},
};

/* Returns -1 to go on, or the exit code to leave with. */
static int parse_args(int argc, char **argv, struct trace_args *a)
{
	const char *bad;
	int opt;

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
		case OPT_CAPABILITIES: {
			int rc = cmd_rings_option("trace", &a->rings, optarg);

			if (rc >= 0)
				return rc;
			break;
		}
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
	const struct ct_cap_event *e = data;
	struct output_event ev = {};

	if (size < sizeof(*e) || e->type != CT_REC_CAP)
		return 0;
	st->seen++;
	if (e->ret == 0)
		st->granted++;
	else
		st->denied++;
	ev.cap = e;
	ev.process.pid = e->pid;
	ev.process.tid = e->tid;
	ev.process.uid = e->euid;
	ev.process.auid = 0xffffffffu;
	ev.process.ns = e->ns;
	output_event(&st->out, &ev);
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

	while (!stop_requested) {
		int n = loader_poll(loader, POLL_MS);

		if (n < 0 && n != -EINTR)
			return n;
		fflush(stdout);
		if (deadline && now_seconds() >= deadline)
			break;
	}
	return 0;
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
		(unsigned long long)st->denied, (unsigned long long)stats.lost);
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
	if (rc >= 0)
		return rc;
	rc = cmd_rings_start("trace", &args.rings, args.verbose, RINGS_NEED_PROC, &rings);
	if (rc >= 0)
		return rc;
	cmd_libbpf_output(args.verbose);
	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, stdout_buf, _IOFBF, sizeof(stdout_buf));

	cli_node_name(node, sizeof(node));
	oopts.format = args.format;
	oopts.node_name = node;
	oopts.boot_offset_ns = clock_boot_offset_ns();
	output_init(&state.out, stdout, &oopts);

	args.filter.self_tgid = (uint32_t)getpid();
	lopts.filter = args.filter;
	lopts.stream = true;
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
		rings__free(rings);
		return EXIT_RUNTIME;
	}
	fprintf(stderr, "captrail: ready, tracing capability checks\n");
	err = trace_loop(loader, args.duration);
	fflush(stdout);
	print_summary(&state, loader, rings);
	loader__free(loader);
	rings__free(rings);
	if (err) {
		fprintf(stderr, "captrail: reading events failed: %s\n", strerror(-err));
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}
